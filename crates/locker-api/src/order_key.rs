//! Order keys for playlist items (fractional indexing): strings that sort in playlist order, where
//! a key can always be made between any two neighbours without renumbering the others. Inserting
//! or moving one item writes one row, and two devices that insert concurrently both keep their
//! items (DESIGN.md, Data flow 4).
//!
//! A key is an *integer part* followed by an optional *fraction*, both in base-62 digits over
//! `0-9A-Za-z` (ASCII order, so SQLite's byte comparison sorts keys). The integer part's first
//! character says how many digits follow (`a` one, `b` two, … `z` 26; `Z` one, `Y` two, … for
//! negative integers), so appending or prepending one item at a time only lengthens keys
//! logarithmically; fractions, which never end in the zero digit, make room between neighbours.

const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE: usize = 62;
/// The integer part of the first key of an empty list.
const ZERO: &str = "a0";

fn value(c: u8) -> usize {
    DIGITS.iter().position(|&d| d == c).unwrap_or(0)
}

/// Number of digits after the head character of an integer part.
fn integer_digits(head: u8) -> Option<usize> {
    match head {
        b'a'..=b'z' => Some(usize::from(head - b'a') + 1),
        b'A'..=b'Z' => Some(usize::from(b'Z' - head) + 1),
        _ => None,
    }
}

/// Splits a key into its integer part and fraction; `None` for a key not made here.
fn split(key: &str) -> Option<(&str, &str)> {
    let head = *key.as_bytes().first()?;
    let len = integer_digits(head)? + 1;
    (key.len() >= len && key.is_char_boundary(len)).then(|| key.split_at(len))
}

/// The head character of the next (`up`) or previous integer length, in key order:
/// `A` < … < `Z` < `a` < … < `z`.
fn next_head(head: u8, up: bool) -> Option<u8> {
    match (head, up) {
        (b'Z', true) => Some(b'a'),
        (b'a', false) => Some(b'Z'),
        (b'z', true) | (b'A', false) => None,
        (h, true) => Some(h + 1),
        (h, false) => Some(h - 1),
    }
}

/// The next (`up`) or previous integer, or `None` beyond the largest or smallest.
fn step(int: &str, up: bool) -> Option<String> {
    let bytes = int.as_bytes();
    let (wrap_from, wrap_to) = if up { (BASE - 1, b'0') } else { (0, b'z') };
    let mut digits: Vec<u8> = bytes[1..].to_vec();
    for d in digits.iter_mut().rev() {
        let v = value(*d);
        if v != wrap_from {
            *d = DIGITS[if up { v + 1 } else { v - 1 }];
            return Some(format!(
                "{}{}",
                char::from(bytes[0]),
                String::from_utf8_lossy(&digits)
            ));
        }
        *d = wrap_to;
    }
    // Every digit carried: the first integer of the next length (or the last of the previous).
    let head = next_head(bytes[0], up)?;
    let n = integer_digits(head)?;
    Some(format!(
        "{}{}",
        char::from(head),
        char::from(wrap_to).to_string().repeat(n)
    ))
}

fn increment(int: &str) -> Option<String> {
    step(int, true)
}

fn decrement(int: &str) -> Option<String> {
    step(int, false)
}

/// A fraction strictly between `a` and `b` (`None` = 1), both without trailing zero digits.
fn midpoint(a: &[u8], b: Option<&[u8]>, out: &mut Vec<u8>) {
    if let Some(b) = b {
        let mut n = 0;
        while n < b.len() && a.get(n).copied().unwrap_or(DIGITS[0]) == b[n] {
            n += 1;
        }
        if n > 0 {
            out.extend_from_slice(&b[..n]);
            return midpoint(a.get(n..).unwrap_or(&[]), Some(&b[n..]), out);
        }
    }
    let digit_a = a.first().map_or(0, |&c| value(c));
    let digit_b = b.and_then(|b| b.first()).map_or(BASE, |&c| value(c));
    if digit_b - digit_a > 1 {
        out.push(DIGITS[(digit_a + digit_b).div_ceil(2)]);
    } else if let Some(b) = b.filter(|b| b.len() > 1) {
        out.push(b[0]);
    } else {
        out.push(DIGITS[digit_a]);
        midpoint(a.get(1..).unwrap_or(&[]), None, out);
    }
}

fn fraction_between(int: &str, a: &str, b: Option<&str>) -> String {
    let mut out = int.as_bytes().to_vec();
    midpoint(a.as_bytes(), b.map(str::as_bytes), &mut out);
    String::from_utf8(out).unwrap_or_else(|_| ZERO.to_owned())
}

/// A key strictly between `before` and `after` (`None` for the list's start or end).
///
/// Bounds that are not keys made here, or out of order, still give a valid key after `before`.
pub fn between(before: Option<&str>, after: Option<&str>) -> String {
    let a = before.and_then(split);
    let b = after
        .and_then(split)
        .filter(|_| before.is_none_or(|x| Some(x) < after));
    if before.is_some() && a.is_none() {
        // A foreign key: append a digit, which sorts right after it.
        return format!("{}V", before.unwrap_or_default());
    }
    match (a, b) {
        (None, None) => ZERO.to_owned(),
        (None, Some((int_b, frac_b))) => {
            if !frac_b.is_empty() {
                return int_b.to_owned();
            }
            match decrement(int_b) {
                Some(d) => d,
                None => fraction_between(int_b, "", Some(frac_b)),
            }
        }
        (Some((int_a, frac_a)), None) => match increment(int_a) {
            Some(i) => i,
            None => fraction_between(int_a, frac_a, None),
        },
        (Some((int_a, frac_a)), Some((int_b, frac_b))) => {
            if int_a == int_b {
                return fraction_between(int_a, frac_a, Some(frac_b));
            }
            match increment(int_a) {
                Some(i) if Some(i.as_str()) < after => i,
                _ => fraction_between(int_a, frac_a, None),
            }
        }
    }
}

/// `n` keys in order strictly between `before` and `after`, as short as bisection allows.
pub fn n_between(before: Option<&str>, after: Option<&str>, n: usize) -> Vec<String> {
    match n {
        0 => Vec::new(),
        1 => vec![between(before, after)],
        _ if after.is_none() => {
            // Appending: consecutive integers grow the key length only logarithmically.
            let mut keys = Vec::with_capacity(n);
            let mut last = before.map(str::to_owned);
            for _ in 0..n {
                let key = between(last.as_deref(), None);
                keys.push(key.clone());
                last = Some(key);
            }
            keys
        }
        _ => {
            let mid = between(before, after);
            let left = n / 2;
            let mut keys = n_between(before, Some(&mid), left);
            keys.push(mid.clone());
            keys.extend(n_between(Some(&mid), after, n - left - 1));
            keys
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_sorted(keys: &[String]) {
        for w in keys.windows(2) {
            assert!(w[0] < w[1], "{} < {}", w[0], w[1]);
        }
    }

    #[test]
    fn appends_and_prepends_stay_ordered_and_short() {
        let mut keys = vec![between(None, None)];
        for _ in 0..5000 {
            let last = keys.last().cloned();
            keys.push(between(last.as_deref(), None));
        }
        for _ in 0..5000 {
            let first = keys[0].clone();
            keys.insert(0, between(None, Some(&first)));
        }
        assert_sorted(&keys);
        assert!(
            keys.iter().all(|k| k.len() <= 4),
            "{:?}",
            keys.iter().max_by_key(|k| k.len())
        );
    }

    #[test]
    fn integers_step_across_lengths() {
        let check = |int: &str, next: Option<&str>| {
            assert_eq!(increment(int).as_deref(), next, "{int} + 1");
            if let Some(next) = next {
                assert!(int < next, "{int} < {next}");
                assert_eq!(decrement(next).as_deref(), Some(int), "{next} - 1");
            }
        };
        check("a5", Some("a6"));
        check("az", Some("b00"));
        check("Zz", Some("a0"));
        check("Yzz", Some("Z0"));
        check("bzz", Some("c000"));
        check(&format!("z{}", "z".repeat(26)), None);
        assert_eq!(decrement(&format!("A{}", "0".repeat(26))), None);
    }

    #[test]
    fn repeated_inserts_between_neighbours() {
        for (lo, hi) in [("a0", "a1"), ("a0V", "a1"), ("a1", "a1V"), ("Zz", "a0")] {
            let mut lo = lo.to_owned();
            for _ in 0..200 {
                let mid = between(Some(&lo), Some(hi));
                assert!(lo < mid && mid.as_str() < hi, "{lo} < {mid} < {hi}");
                assert!(
                    !mid.ends_with('0') || split(&mid).is_some_and(|(_, f)| f.is_empty()),
                    "{mid}"
                );
                lo = mid;
            }
        }
    }

    #[test]
    fn bulk_keys_are_ordered_and_short() {
        let keys = n_between(Some("a0"), Some("a1"), 10_000);
        assert_eq!(keys.len(), 10_000);
        let mut all = vec!["a0".to_owned()];
        all.extend(keys.iter().cloned());
        all.push("a1".to_owned());
        assert_sorted(&all);
        assert!(
            keys.iter().all(|k| k.len() <= 8),
            "{:?}",
            keys.iter().max_by_key(|k| k.len())
        );
        let appended = n_between(None, None, 10_000);
        assert_sorted(&appended);
    }

    #[test]
    fn foreign_and_disordered_bounds_still_give_a_key_after_before() {
        let k = between(Some("b"), Some("a"));
        assert!(k.as_str() > "b");
        let k = between(Some("!!"), None);
        assert!(k.as_str() > "!!");
    }
}

//! Names as the catalog sorts, groups and falls back on them.
//!
//! - A *sort key* orders names the way people expect in a music library: case and diacritics are
//!   ignored, a leading article does not count ("The Beatles" sorts under B), nor do leading quotes
//!   or brackets.
//! - A *match key* decides when two spellings are the same artist, album or genre: case and
//!   spacing are ignored, diacritics are not ("Bjork" and "Björk" stay apart in the catalog, while
//!   search finds both).
//! - When a file has no tags, its name and folder stand in: "03 - Song.mp3" is track 3, "Song".

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The album artist compilations group under when they name none.
pub const VARIOUS_ARTISTS: &str = "Various Artists";
/// Other spellings of [`VARIOUS_ARTISTS`] taggers write as an album artist, as match keys.
const VARIOUS_SPELLINGS: [&str; 7] = [
    "various artists",
    "various artist",
    "various",
    "va",
    "v.a.",
    "v. a.",
    "v/a",
];

/// Whether the album artist `name` means a compilation's [`VARIOUS_ARTISTS`] ("VA", "V.A.",
/// "various artists").
pub fn is_various_artists(name: &str) -> bool {
    VARIOUS_SPELLINGS.contains(&match_key(name).as_str())
}

/// The artist shown for a track whose tags name none.
pub const UNKNOWN_ARTIST: &str = "Unknown Artist";
/// The album shown for a track with no album tag and no usable folder name.
pub const UNKNOWN_ALBUM: &str = "Unknown Album";

/// Articles ignored at the start of a name when sorting.
const ARTICLES: [&str; 3] = ["the ", "a ", "an "];

/// The key `name` sorts by.
pub fn sort_key(name: &str) -> String {
    let folded: String = if name.is_ascii() {
        name.to_ascii_lowercase()
    } else {
        name.nfkd()
            .filter(|c| !is_combining_mark(*c))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let trimmed = folded.trim_start_matches(|c: char| !c.is_alphanumeric());
    let without_article = ARTICLES
        .iter()
        .find_map(|a| {
            trimmed
                .strip_prefix(a)
                .filter(|rest| !rest.trim().is_empty())
        })
        .unwrap_or(trimmed);
    let key = without_article.trim_start_matches(|c: char| !c.is_alphanumeric());
    if key.is_empty() {
        folded
    } else {
        key.to_owned()
    }
}

/// Text as the search index holds it: lowercase, diacritics removed, and the letters that are not
/// a base letter plus a mark spelled out ("Ágætis" becomes "agaetis", "Straße" "strasse"), so a
/// query typed on any keyboard finds it. Queries are folded the same way.
pub fn search_fold(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.nfkd().filter(|c| !is_combining_mark(*c)) {
        match c {
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'ø' | 'Ø' => out.push('o'),
            'ß' | 'ẞ' => out.push_str("ss"),
            'ð' | 'Ð' | 'đ' | 'Đ' => out.push('d'),
            'þ' | 'Þ' => out.push_str("th"),
            'ł' | 'Ł' => out.push('l'),
            'ı' => out.push('i'),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// The key under which spellings of one name are grouped.
pub fn match_key(name: &str) -> String {
    name.split_whitespace()
        .flat_map(|w| std::iter::once(' ').chain(w.chars()))
        .skip(1)
        .flat_map(char::to_lowercase)
        .collect()
}

/// Track number and title guessed from a file name without its extension.
///
/// "03 - Song", "03. Song", "03 Song", "03_Song" and "1-03 Song" (disc 1) give track 3, "Song";
/// a name that does not start with a number is the title as it is.
pub fn from_file_stem(stem: &str) -> (Option<u32>, String) {
    let stem = stem.trim();
    let digits = stem.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 || digits > 3 {
        return (None, stem.to_owned());
    }
    let (mut number, mut rest) = stem.split_at(digits);
    // "1-03 Song": a disc number, a dash, and the track number.
    if let Some(after) = rest.strip_prefix('-') {
        let track_digits = after.chars().take_while(char::is_ascii_digit).count();
        if (1..=3).contains(&track_digits) {
            number = &after[..track_digits];
            rest = &after[track_digits..];
        }
    }
    let title =
        rest.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '.' | '-' | '_' | ')'));
    if title.is_empty() || title.len() == rest.len() && !rest.is_empty() {
        // "2001" alone, or "99Luftballons": a number that is part of the title.
        return (None, stem.to_owned());
    }
    (
        number.parse().ok().filter(|&n| n > 0),
        title.trim().to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys() {
        let check = |name: &str, expect: &str| assert_eq!(sort_key(name), expect, "{name}");
        check("The Beatles", "beatles");
        check("the the", "the");
        check("Björk", "bjork");
        check("Sigur Rós", "sigur ros");
        check("\"Weird Al\" Yankovic", "weird al\" yankovic");
        check("A Tribe Called Quest", "tribe called quest");
        check("An", "an");
        check("ÉLAN", "elan");
        check("...And You Will Know Us", "and you will know us");
        check("坂本龍一", "坂本龍一");
        check("", "");
    }

    #[test]
    fn search_folding() {
        let check = |text: &str, expect: &str| assert_eq!(search_fold(text), expect, "{text}");
        check("Ágætis byrjun", "agaetis byrjun");
        check("Björk", "bjork");
        check("Straße", "strasse");
        check("Þórður Ødegård", "thordur odegard");
        check("AC/DC", "ac/dc");
        check("東京事変", "東京事変");
    }

    #[test]
    fn various_artists_spellings() {
        for name in [
            "Various Artists",
            "VA",
            "V.A.",
            "v/a",
            "Various",
            " various  artists ",
        ] {
            assert!(is_various_artists(name), "{name}");
        }
        for name in ["Various Artists feat. X", "Vanessa", "Var", "The Various"] {
            assert!(!is_various_artists(name), "{name}");
        }
    }

    #[test]
    fn match_keys() {
        assert_eq!(match_key("  The   Beatles "), "the beatles");
        assert_eq!(match_key("BJÖRK"), "björk");
        assert_ne!(match_key("Bjork"), match_key("Björk"));
    }

    #[test]
    fn names_from_files() {
        let check = |stem: &str, track: Option<u32>, title: &str| {
            assert_eq!(from_file_stem(stem), (track, title.to_owned()), "{stem}");
        };
        check("03 - Song", Some(3), "Song");
        check("03. Song", Some(3), "Song");
        check("03 Song", Some(3), "Song");
        check("03_Song", Some(3), "Song");
        check("1-03 Song", Some(3), "Song");
        check("12 - Ænima", Some(12), "Ænima");
        check("Song", None, "Song");
        check("2001", None, "2001");
        check("99Luftballons", None, "99Luftballons");
        check("1979 - Smashing", None, "1979 - Smashing");
    }
}

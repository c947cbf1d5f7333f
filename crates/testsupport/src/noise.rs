//! Deterministic pseudo-random bytes, so "random" fixtures are the same in every run.
//!
//! A tiny xorshift64* generator rather than the `rand` crate: fixtures need repeatability, not
//! statistical quality, and one small function is cheaper than a dependency.

/// Scrambles a 64-bit value (the SplitMix64 finaliser); used to turn any seed into a good state.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Returns `len` bytes determined entirely by `seed`.
pub(crate) fn bytes(seed: u64, len: usize) -> Vec<u8> {
    // xorshift has a fixed point at 0, so the state is mixed and forced non-zero first.
    let mut state = mix(seed) | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let word = state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        let take = (len - out.len()).min(word.len());
        out.extend_from_slice(&word[..take]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes() {
        assert_eq!(bytes(7, 100), bytes(7, 100));
        assert_eq!(bytes(7, 100)[..37], bytes(7, 37)[..]);
    }

    #[test]
    fn different_seeds_differ_and_zero_is_not_degenerate() {
        assert_ne!(bytes(1, 64), bytes(2, 64));
        assert!(bytes(0, 64).iter().any(|&b| b != 0));
    }
}

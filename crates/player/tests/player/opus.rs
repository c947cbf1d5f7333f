//! The Opus header's output gain (RFC 7845 §5.1) is applied: opusenc always writes 0, so the
//! test patches the field in a generated file and fixes the Ogg page checksum.

use skylark_player::{Decoder, Source};
use skylark_testsupport::{Format, TagSpec, Tone, write_audio};

use crate::fixtures::{channel, decode, middle, sine_amplitude};

/// The Ogg page checksum (RFC 3533 §6): CRC-32 with polynomial 0x04C11DB7, no reflection,
/// initial value and final XOR 0, over the page with its checksum field zeroed.
fn ogg_crc(page: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &byte in page {
        crc ^= u32::from(byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Sets the output gain of the Ogg Opus file `bytes` to `q78` (dB in Q7.8) and re-checksums
/// the first page, which holds the identification header alone (RFC 7845 §3).
fn set_output_gain(bytes: &mut [u8], q78: i16) {
    assert_eq!(&bytes[..4], b"OggS");
    let segments = usize::from(bytes[26]);
    let body: usize = bytes[27..27 + segments]
        .iter()
        .map(|&s| usize::from(s))
        .sum();
    let header_len = 27 + segments;
    let page_len = header_len + body;
    assert_eq!(&bytes[header_len..header_len + 8], b"OpusHead");
    let checksum = |page: &mut [u8]| {
        page[22..26].fill(0);
        ogg_crc(page)
    };
    // Our checksum agrees with the encoder's before the change.
    let stored = u32::from_le_bytes(bytes[22..26].try_into().unwrap());
    assert_eq!(checksum(&mut bytes[..page_len].to_vec()), stored);

    bytes[header_len + 16..header_len + 18].copy_from_slice(&q78.to_le_bytes());
    let crc = checksum(&mut bytes[..page_len]);
    bytes[22..26].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn the_opus_header_output_gain_scales_the_decoded_audio() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.opus");
    let tone = Tone {
        seconds: 2.0,
        frequency: 1000.0,
        ..Tone::default()
    };
    write_audio(&plain, Format::Opus, &tone, &TagSpec::default()).unwrap();
    let mut bytes = std::fs::read(&plain).unwrap();
    // -6.02 dB: 10^(-1541 / 256 / 20) = 0.50004.
    set_output_gain(&mut bytes, -1541);
    let quieter = dir.path().join("quieter.opus");
    std::fs::write(&quieter, &bytes).unwrap();

    assert_eq!(
        Decoder::open(Source::path(&plain)).unwrap().output_gain(),
        1.0
    );
    let gain = Decoder::open(Source::path(&quieter)).unwrap().output_gain();
    assert!((gain - 0.500_04).abs() < 1e-4, "{gain}");

    let level = |path| {
        let decoded = decode(path).unwrap();
        sine_amplitude(middle(&channel(&decoded.samples, decoded.channels, 0)))
    };
    let ratio = level(&quieter) / level(&plain);
    assert!((ratio - 0.500_04).abs() < 1e-3, "level ratio {ratio}");
}

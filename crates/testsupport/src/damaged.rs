//! Files that are wrong on purpose, for scanner tests: empty, noise, cut short, or with a tag
//! that lies about itself. Each is deterministic, so a failing test fails the same way twice.

use crate::{Format, Tone, encode, noise};

use std::io;
use std::path::Path;

/// Writes an empty file at `path` (parent directories created).
///
/// # Errors
///
/// The file cannot be written.
pub fn write_zero_byte(path: &Path) -> io::Result<()> {
    write(path, &[])
}

/// Writes `len` pseudo-random bytes at `path` (parent directories created). The same `seed`
/// always gives the same bytes.
///
/// # Errors
///
/// The file cannot be written.
pub fn write_random_bytes(path: &Path, len: usize, seed: u64) -> io::Result<()> {
    write(path, &noise::bytes(seed, len))
}

/// Encodes a 2 s tone (otherwise [`Tone::default`]) as `format`, untagged, and writes the first
/// `keep_fraction` of its bytes at `path` (parent directories created): a download or copy that
/// stopped early.
///
/// # Errors
///
/// `keep_fraction` is not within `0.0..=1.0` ([`io::ErrorKind::InvalidInput`]), encoding fails,
/// or the file cannot be written.
///
/// # Panics
///
/// If the encoder for `format` is not installed (see [`write_audio`](crate::write_audio)).
pub fn write_truncated(path: &Path, format: Format, keep_fraction: f64) -> io::Result<()> {
    if !(0.0..=1.0).contains(&keep_fraction) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("keep_fraction must be within 0.0..=1.0, got {keep_fraction}"),
        ));
    }
    let tone = Tone {
        seconds: 2.0,
        ..Tone::default()
    };
    let audio = encode::untagged(format, &tone)?;
    // The float-to-int cast cannot overflow: the product is at most `audio.len()`.
    let keep = (audio.len() as f64 * keep_fraction) as usize;
    write(path, &audio[..keep.min(audio.len())])
}

/// Writes a valid MP3 (a [`Tone::default`] tone) preceded by a broken ID3v2.4 tag at `path`
/// (parent directories created).
///
/// The tag header claims a size of 256 MiB, far beyond the end of the file, and is followed by a
/// `TIT2` frame whose size also overruns the file, a frame with a non-ASCII id and noise; then
/// the untouched MPEG audio. A reader that trusts the tag size skips the whole file; a robust
/// one reports the tag as broken or finds the audio by resynchronising.
///
/// # Errors
///
/// Encoding fails or the file cannot be written.
///
/// # Panics
///
/// If `sox` or `lame` is not installed.
pub fn write_broken_tags(path: &Path) -> io::Result<()> {
    let audio = encode::untagged(Format::Mp3, &Tone::default())?;

    let mut file = Vec::with_capacity(audio.len() + 128);
    // ID3v2.4 header (ID3v2.4 structure, section 3.1): version 4.0, no flags, and the
    // largest synchsafe size, 0x0FFF_FFFF bytes.
    file.extend_from_slice(b"ID3\x04\x00\x00\x7F\x7F\x7F\x7F");
    // A TIT2 frame claiming the largest synchsafe size, with a UTF-8 title that starts normally.
    file.extend_from_slice(b"TIT2\x7F\x7F\x7F\x7F\x00\x00\x03Broken title");
    // A frame whose id is not made of capital letters and digits (section 4).
    file.extend_from_slice(b"\xFF\x00X\x01\x00\x00\x00\x10\x00\x00");
    file.extend_from_slice(&noise::bytes(0xB0_B0, 48));
    file.extend_from_slice(&audio);
    write(path, &file)
}

fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, bytes)
}

//! Fixture generators shared by every Skylark crate's tests; never a dependency of shipped code.
//!
//! This crate owns making audio files for tests: a sine tone encoded in each format Skylark reads
//! ([`write_audio`]), tags written into it with lofty ([`write_tags`], [`TagSpec`]), real cover
//! pictures ([`cover_png`], [`cover_jpeg`]) and files that are wrong on purpose ([`write_zero_byte`],
//! [`write_random_bytes`], [`write_truncated`], [`write_broken_tags`]). Fixtures are synthesised, so
//! no copyrighted music ever lands in the repository.
//!
//! Encoding runs the Debian command-line encoders (`sox`, `lame`, `flac`, `oggenc`, `opusenc`,
//! `ffmpeg`, `wavpack`). A missing tool is a broken test machine, not a test failure, so it
//! **panics** with a message naming the Debian package to install; every other failure is returned
//! as an [`std::io::Error`].
//!
//! **Architecture Invariant:** a generated file carries exactly the tags the test asked for. The
//! encoders' own metadata (opusenc's `ENCODER` comments, SoX's AIFF comment, ffmpeg's `©too` and
//! empty `ilst`) is stripped after encoding, and [`write_tags`] replaces the file's primary tag as
//! a whole. The one exception is the vendor string every Ogg comment header must carry (the
//! libvorbis or libopus version): lofty keeps it and reads it back as
//! `ItemKey::EncoderSoftware`, as it does for any real Ogg file.
//!
//! **Architecture Invariant:** each (format, tone) pair runs its external encoder at most once per
//! test process; later calls copy the cached untagged bytes. Encoders are run with fixed Ogg serial
//! numbers and ffmpeg's bit-exact mode, so the same request gives the same bytes in every process.

mod ape;
mod cover;
mod damaged;
mod encode;
mod format;
mod noise;
mod tagging;
mod tone;

pub use cover::{Cover, cover_jpeg, cover_png};
pub use damaged::{write_broken_tags, write_random_bytes, write_truncated, write_zero_byte};
pub use format::Format;
pub use tagging::{ReplayGainSpec, TagSpec, write_tags};
pub use tone::Tone;

use std::io;
use std::path::Path;

/// Writes an audio file of `format` at `path` (parent directories created), then writes `tags`
/// into it as the format's native tag (see [`Format::tag_type`]).
///
/// The untagged audio is encoded once per (format, tone) pair per process and cached in memory;
/// see the crate docs. With an empty [`TagSpec`] no tag is written at all, so the file is exactly
/// what the encoder produced (minus the encoder's own metadata).
///
/// [`Format::Ape`] is the exception to "what the encoder produced": Debian packages no Monkey's
/// Audio encoder, so the file is a structurally valid APE container (descriptor, header, seek
/// table) whose audio frames are deterministic noise. Tag and property readers (lofty, ffprobe)
/// see a correct file with the tone's duration, rate, channels and bit depth; its audio does not
/// decode to the tone (ffmpeg yields the right number of samples of noise, and reports CRC
/// mismatches with `-err_detect crccheck`).
///
/// # Errors
///
/// `tone` is out of range ([`io::ErrorKind::InvalidInput`]), an encoder fails, or the file or
/// its tag cannot be written.
///
/// # Panics
///
/// If an external encoder the format needs is not installed; the message names the Debian
/// package that provides it.
pub fn write_audio(path: &Path, format: Format, tone: &Tone, tags: &TagSpec) -> io::Result<()> {
    let audio = encode::untagged(format, tone)?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, &*audio)?;
    if !tags.is_empty() {
        tagging::write_tag_as(path, format.tag_type(), tags)?;
    }
    Ok(())
}

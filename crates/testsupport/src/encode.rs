//! Running the external encoders, and the per-process cache of the untagged files they produce.
//!
//! The cache lives in memory rather than in a temporary directory: a `static` is never dropped,
//! so a cached directory would outlive every test run, while a map of bytes dies with the
//! process. Each encode works in its own short-lived temporary directory.

use crate::Format;
use crate::tone::{Tone, ToneKey};

use lofty::config::{ParseOptions, WriteOptions};
use lofty::file::TaggedFileExt;
use lofty::probe::Probe;

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// One cache entry: empty until the first caller for its key has encoded it.
type Slot = Arc<Mutex<Option<Arc<[u8]>>>>;

/// Untagged encoded audio per (format, tone), shared by every thread of the test process.
static CACHE: OnceLock<Mutex<HashMap<(Format, ToneKey), Slot>>> = OnceLock::new();

/// Returns the untagged bytes of `tone` encoded as `format`, encoding on first use.
///
/// Callers asking for the same key wait for the one encode in flight; different keys encode in
/// parallel. A failed encode is not cached, so the next caller retries (and reports) it.
pub(crate) fn untagged(format: Format, tone: &Tone) -> io::Result<Arc<[u8]>> {
    tone.validate()?;
    let slot = {
        let mut map = CACHE
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(map.entry((format, tone.key())).or_default())
    };
    // A poisoned slot only means an earlier encode panicked (a missing tool); its value is still
    // `None`, so this caller simply encodes again and panics with the same message.
    let mut cached = slot.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(bytes) = &*cached {
        return Ok(Arc::clone(bytes));
    }
    let bytes: Arc<[u8]> = encode(format, tone)?.into();
    *cached = Some(Arc::clone(&bytes));
    Ok(bytes)
}

/// A command-line program and the Debian package that installs it.
struct Tool {
    program: &'static str,
    package: &'static str,
}

const SOX: Tool = Tool {
    program: "sox",
    package: "sox",
};
const LAME: Tool = Tool {
    program: "lame",
    package: "lame",
};
const FLAC: Tool = Tool {
    program: "flac",
    package: "flac",
};
const OGGENC: Tool = Tool {
    program: "oggenc",
    package: "vorbis-tools",
};
const OPUSENC: Tool = Tool {
    program: "opusenc",
    package: "opus-tools",
};
const FFMPEG: Tool = Tool {
    program: "ffmpeg",
    package: "ffmpeg",
};
const WAVPACK: Tool = Tool {
    program: "wavpack",
    package: "wavpack",
};

impl Tool {
    /// Runs the tool to completion with `args`, returning its stderr in the error on failure.
    ///
    /// # Panics
    ///
    /// If the program is not installed, naming the Debian package to install.
    fn run<I, S>(&self, args: I) -> io::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new(self.program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let output = match command.output() {
            Ok(output) => output,
            Err(e) if e.kind() == io::ErrorKind::NotFound => panic!(
                "`{}` is not installed; the test fixtures need it: apt-get install {}",
                self.program, self.package
            ),
            Err(e) => return Err(e),
        };
        if output.status.success() {
            return Ok(());
        }
        Err(io::Error::other(format!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

/// Encodes `tone` as `format` with no tags at all.
fn encode(format: Format, tone: &Tone) -> io::Result<Vec<u8>> {
    if format == Format::Ape {
        return Ok(crate::ape::build(tone));
    }

    let dir = tempfile::Builder::new()
        .prefix("skylark-fixture-")
        .tempdir()?;
    let source = dir.path().join("source.wav");
    synthesise(&source, tone)?;
    if format == Format::Wav {
        return std::fs::read(&source);
    }

    let out = dir.path().join(format!("encoded.{}", format.extension()));
    let (src, dst) = (source.as_os_str(), out.as_os_str());
    match format {
        // `--noreplaygain` keeps lame from storing a gain in the LAME header, so the only gain a
        // reader finds is the one a test wrote. The LAME/Info header itself is kept: real
        // files have it, and it carries the encoder delay and padding.
        Format::Mp3 => LAME.run([os("--quiet"), os("--noreplaygain"), src, dst])?,
        Format::Flac => FLAC.run([os("--silent"), os("--force"), os("-o"), dst, src])?,
        // Fixed Ogg serial numbers make the output identical across runs.
        Format::OggVorbis => OGGENC.run([os("-Q"), os("--serial"), os("1"), os("-o"), dst, src])?,
        Format::Opus => OPUSENC.run([os("--quiet"), os("--serial"), os("1"), src, dst])?,
        Format::M4aAac => ffmpeg_mp4(src, dst, "aac")?,
        Format::M4aAlac => ffmpeg_mp4(src, dst, "alac")?,
        // An empty comment stops sox from writing its "Processed by SoX" COMT chunk.
        Format::Aiff => SOX.run([os("-V1"), src, os("--comment"), os(""), dst])?,
        Format::WavPack => WAVPACK.run([os("-q"), os("-y"), src, os("-o"), dst])?,
        Format::Wav | Format::Ape => unreachable!("handled above without an encoder"),
    }
    strip_tags(&out)?;
    std::fs::read(&out)
}

fn os(arg: &str) -> &OsStr {
    OsStr::new(arg)
}

/// Writes `tone` to `path` as a WAV file with sox.
fn synthesise(path: &Path, tone: &Tone) -> io::Result<()> {
    SOX.run([
        // Quiet, repeatable random numbers, no dither: the same tone gives the same samples.
        "-V1".to_owned(),
        "-R".to_owned(),
        "-D".to_owned(),
        // Rate and channels belong to the null input: `synth` measures its length at the input
        // rate, and the output inherits both, so sox adds no resampling or remixing.
        "-r".to_owned(),
        tone.sample_rate.to_string(),
        "-c".to_owned(),
        tone.channels.to_string(),
        "-n".to_owned(),
        "-b".to_owned(),
        tone.bits.to_string(),
        path.display().to_string(),
        "synth".to_owned(),
        // A length in samples ("44100s") is exact, where seconds would be rounded by sox.
        format!("{}s", tone.total_frames()),
        "sine".to_owned(),
        tone.frequency.to_string(),
        // Half scale: a full-scale sine overshoots and clips in lossy encoders.
        "vol".to_owned(),
        "0.5".to_owned(),
    ])
}

/// Encodes into MP4 with ffmpeg and no metadata of its own.
fn ffmpeg_mp4(src: &OsStr, dst: &OsStr, codec: &str) -> io::Result<()> {
    FFMPEG.run([
        os("-nostdin"),
        os("-hide_banner"),
        os("-loglevel"),
        os("error"),
        os("-y"),
        os("-i"),
        src,
        // No metadata copied from the source, and bit-exact mode so ffmpeg writes no `©too`
        // encoder tag and no creation time: the output is the same on every run.
        os("-map_metadata"),
        os("-1"),
        os("-fflags"),
        os("+bitexact"),
        os("-flags:a"),
        os("+bitexact"),
        os("-c:a"),
        os(codec),
        dst,
    ])
}

/// Removes every tag lofty finds, such as opusenc's `ENCODER` comments or ffmpeg's empty `ilst`.
fn strip_tags(path: &Path) -> io::Result<()> {
    let file = Probe::open(path)
        .and_then(|probe| {
            probe
                .options(ParseOptions::new().read_properties(false))
                .read()
        })
        .map_err(|e| io::Error::other(format!("reading {}: {e}", path.display())))?;
    for tag in file.tags() {
        tag.tag_type()
            .remove_from_path(path, WriteOptions::default())
            .map_err(|e| {
                io::Error::other(format!("stripping tags from {}: {e}", path.display()))
            })?;
    }
    Ok(())
}

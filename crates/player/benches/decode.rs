//! Decode (and resample) speed per format, side by side with `ffmpeg -threads 1 -i FILE -f null -`
//! on the same files in the same run. The figures are in docs/benchmarks.md.
//!
//! Run with `make bench`, or `cargo bench -p skylark-player --bench decode`. The files (a 120 s
//! stereo 44.1 kHz sweep in each format) are generated into `target/bench-data/decode` once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use skylark_player::{Decoder, Source, StreamResampler};
use skylark_testsupport::{Format, TagSpec, Tone, write_audio};

const SECONDS: f64 = 120.0;
const RUNS: usize = 3;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data/decode")
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Decodes the whole file; with `resample_to`, also resamples it as the device path would.
fn skylark(path: &Path, resample_to: Option<u32>) -> f64 {
    let start = Instant::now();
    let mut decoder = Decoder::open(Source::path(path)).unwrap();
    let channels = 2;
    let mut resampler = resample_to
        .map(|to| StreamResampler::try_new(decoder.sample_rate(), to, channels).unwrap());
    let mut out = Vec::new();
    let mut frames = 0u64;
    while let Some(block) = decoder.next_block().unwrap() {
        frames += block.frames() as u64;
        if let Some(r) = resampler.as_mut() {
            out.clear();
            r.push(block.samples, &mut out).unwrap();
        }
        std::hint::black_box(block.samples.first());
    }
    if let Some(r) = resampler.as_mut() {
        out.clear();
        r.finish(&mut out).unwrap();
    }
    assert!(frames > 0);
    start.elapsed().as_secs_f64()
}

/// ffmpeg's own measure of its decoding loop (`-benchmark`'s `rtime`), which leaves out starting
/// the process, so both sides are timed from an opened file to the last sample.
fn ffmpeg(path: &Path, resample_to: Option<u32>) -> f64 {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-benchmark", "-threads", "1", "-i"])
        .arg(path);
    if let Some(rate) = resample_to {
        cmd.args(["-ar", &rate.to_string()]);
    }
    let out = cmd
        .args(["-f", "null", "-"])
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    log.lines()
        .find_map(|l| l.split("rtime=").nth(1))
        .and_then(|v| v.trim().trim_end_matches('s').parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no rtime in ffmpeg's output:\n{log}"))
}

fn main() {
    let dir = data_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let tone = Tone {
        seconds: SECONDS,
        frequency: 997.0,
        ..Tone::default()
    };
    let formats = [
        Format::Flac,
        Format::Mp3,
        Format::OggVorbis,
        Format::Opus,
        Format::Wav,
        Format::M4aAac,
        Format::M4aAlac,
    ];
    println!("# Decode speed, {SECONDS} s stereo 44.1 kHz files (median of {RUNS})\n");
    println!(
        "| format | skylark decode | ffmpeg -threads 1 | ratio | skylark decode + resample to 48 kHz | ffmpeg -ar 48000 | ratio |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for format in formats {
        let name = format!("{:?}", format).to_lowercase();
        let path = dir.join(format!("tone.{name}.{}", format.extension()));
        if !path.exists() {
            write_audio(&path, format, &tone, &TagSpec::default()).unwrap();
        }
        // Warm the page cache and both decoders' code paths.
        skylark(&path, None);
        ffmpeg(&path, None);
        let ours = median((0..RUNS).map(|_| skylark(&path, None)).collect());
        let theirs = median((0..RUNS).map(|_| ffmpeg(&path, None)).collect());
        let ours_rs = median((0..RUNS).map(|_| skylark(&path, Some(48_000))).collect());
        let theirs_rs = median((0..RUNS).map(|_| ffmpeg(&path, Some(48_000))).collect());
        println!(
            "| {name} | {:.0} ms | {:.0} ms | {:.2}x | {:.0} ms | {:.0} ms | {:.2}x |",
            ours * 1e3,
            theirs * 1e3,
            ours / theirs,
            ours_rs * 1e3,
            theirs_rs * 1e3,
            ours_rs / theirs_rs
        );
    }
    println!(
        "\n(ratio = skylark time / ffmpeg time, lower is faster; ffmpeg's time is its -benchmark rtime)"
    );
}

//! Hashing for match: how fast [`LocalFile::hash`] reads a library (its audio id, a demux of
//! every audio packet, and its file hash, BLAKE3 of every byte), on two threads, with the files
//! in the page cache; side by side with `b3sum` (Debian's BLAKE3 tool, which only hashes the bytes,
//! on every core) over the same files in the same run. The figures are in docs/benchmarks.md.
//!
//! Run with `make bench`, or `cargo bench -p skylark-locker-client --bench hashing`. The library
//! (two-minute tracks of stereo noise, so lossless files are as large as music's, in FLAC, MP3,
//! AAC, Vorbis, Opus and WAV, about 970 MB) is generated into `target/bench-data/hashing` once.
//!
//! Each figure is the fastest of [`RUNS`] runs, the two sides taking turns: on a shared machine
//! other work can only add time to a run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use skylark_locker_client::LocalFile;

/// Runs per figure and side.
const RUNS: usize = 5;

/// Threads hashing at once: the two cores the figure names.
const THREADS: usize = 2;

/// (extension, ffmpeg encoder arguments, how many files).
const FORMATS: [(&str, &[&str], usize); 6] = [
    ("flac", &["-ar", "44100", "-c:a", "flac"], 24),
    (
        "mp3",
        &["-ar", "44100", "-c:a", "libmp3lame", "-b:a", "320k"],
        24,
    ),
    ("m4a", &["-ar", "44100", "-c:a", "aac", "-b:a", "256k"], 12),
    (
        "ogg",
        &["-ar", "44100", "-c:a", "libvorbis", "-q:a", "6"],
        12,
    ),
    (
        "opus",
        &["-ar", "48000", "-c:a", "libopus", "-b:a", "160k"],
        12,
    ),
    ("wav", &["-ar", "44100", "-c:a", "pcm_s16le"], 6),
];

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data/hashing")
}

/// Generates the library once; returns its files.
fn library() -> Vec<PathBuf> {
    let dir = data_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (extension, codec, count) in FORMATS {
        for i in 0..count {
            let path = dir.join(format!("{extension}-{i:02}.{extension}"));
            if !path.exists() {
                let partial = dir.join(format!("partial-{extension}-{i:02}.{extension}"));
                let noise = format!(
                    "anoisesrc=color=pink:amplitude=0.3:duration=120:seed={}",
                    i + 1
                );
                let status = Command::new("ffmpeg")
                    .args([
                        "-hide_banner",
                        "-loglevel",
                        "error",
                        "-y",
                        "-f",
                        "lavfi",
                        "-i",
                    ])
                    .arg(&noise)
                    .args(["-f", "lavfi", "-i"])
                    .arg(format!(
                        "anoisesrc=color=brown:amplitude=0.3:duration=120:seed={}",
                        i + 100
                    ))
                    .args(["-filter_complex", "[0][1]amerge=inputs=2"])
                    .args(codec)
                    .arg(&partial)
                    .status()
                    .unwrap();
                assert!(
                    status.success(),
                    "ffmpeg could not write {}",
                    path.display()
                );
                std::fs::rename(&partial, &path).unwrap();
            }
            files.push(path);
        }
    }
    files
}

/// Hashes every file as matching does, on [`THREADS`] threads; returns the seconds taken.
fn skylark(files: &[PathBuf]) -> f64 {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let hashed = LocalFile::hash(path).unwrap();
                    assert!(
                        hashed.audio_id.is_some(),
                        "{} has no audio id",
                        path.display()
                    );
                }
            });
        }
    });
    start.elapsed().as_secs_f64()
}

/// `b3sum` over the same files.
fn b3sum(files: &[PathBuf]) -> f64 {
    let start = Instant::now();
    let status = Command::new("b3sum")
        .args(files)
        .stdout(Stdio::null())
        .status()
        .expect("b3sum (Debian package b3sum) is needed for this benchmark");
    assert!(status.success());
    start.elapsed().as_secs_f64()
}

fn main() {
    let files = library();
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    // Warm the page cache, and check that both sides can read everything.
    b3sum(&files);
    skylark(&files);
    let (mut ours, mut theirs) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..RUNS {
        ours = ours.min(skylark(&files));
        theirs = theirs.min(b3sum(&files));
    }
    let mb = bytes as f64 / 1e6;
    println!(
        "## Hashing for match ({} files, {mb:.0} MB, warm cache)\n",
        files.len()
    );
    println!("| hasher | seconds | MB/s |");
    println!("|---|---:|---:|");
    println!(
        "| skylark LocalFile::hash, {THREADS} threads (audio id + file hash) | {ours:.3} | {:.0} |",
        mb / ours
    );
    println!(
        "| b3sum (file hash only, all cores) | {theirs:.3} | {:.0} |",
        mb / theirs
    );
}

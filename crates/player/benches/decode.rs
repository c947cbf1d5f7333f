//! Decode (and resample) speed per format, side by side with `ffmpeg -threads 1 -i FILE -f null -`
//! on the same files in the same run. The figures are in docs/benchmarks.md.
//!
//! Run with `make bench`, or `cargo bench -p skylark-player --bench decode`. The files (a 120 s
//! stereo 44.1 kHz tone in each format) are generated into `target/bench-data/decode` once.
//!
//! Each figure is the fastest of [`RUNS`] runs, the two sides taking turns (ours, ffmpeg's, ours,
//! ...): on a shared machine another process can only add time to a run, never take it away, so
//! the fastest run is the one nearest the code's own cost, and taking turns gives both sides the
//! same background. A median of three swung by ±30% while other builds ran.
//!
//! Two tables: wall-clock time (ours from `Instant`, ffmpeg's its `-benchmark` `rtime`) and CPU
//! time (ours the decoding thread's run time from `/proc/thread-self/schedstat`, ffmpeg's its
//! `utime + stime`). They agree on a quiet machine; on a loaded one the wall-clock figures also
//! hold the time each side waited for a core, and the CPU figures are the ones to compare.
//!
//! A third table compares decoding and resampling with ffmpeg using soxr's high-quality recipe,
//! whose filter is near ours (ffmpeg's default resampler is a 32-tap filter, far shorter than
//! rubato's), so that the resampling is compared at a like quality too.
//!
//! A fourth table drives rubato alone, in the configurations `StreamResampler` could use, to show
//! why it uses the one it does: CPU time per 120 s of stereo from 44.1 to 48 kHz, and the level
//! of tones near the top of the passband.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{
    Async, Fft, FixedAsync, FixedSync, Indexing, Resampler, SincInterpolationParameters,
    SincInterpolationType, WindowFunction,
};
use skylark_player::{Decoder, Source, StreamResampler};
use skylark_testsupport::{Format, TagSpec, Tone, write_audio};

const SECONDS: f64 = 120.0;
/// Runs per figure and side.
const RUNS: usize = 5;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data/decode")
}

/// What one run cost, in seconds.
#[derive(Clone, Copy)]
struct Cost {
    wall: f64,
    cpu: f64,
}

impl Cost {
    const NONE: Cost = Cost {
        wall: f64::INFINITY,
        cpu: f64::INFINITY,
    };

    fn min(self, other: Cost) -> Cost {
        Cost {
            wall: self.wall.min(other.wall),
            cpu: self.cpu.min(other.cpu),
        }
    }
}

/// The fastest of [`RUNS`] runs of `ours` and of each of `theirs`, taking turns (ours, each of
/// theirs, ours, ...), so that every comparison with ours shares the same runs of ours.
fn best_of(
    mut ours: impl FnMut() -> Cost,
    theirs: &mut [&mut dyn FnMut() -> Cost],
) -> (Cost, Vec<Cost>) {
    let mut best = (Cost::NONE, vec![Cost::NONE; theirs.len()]);
    for _ in 0..RUNS {
        best.0 = best.0.min(ours());
        for (b, run) in best.1.iter_mut().zip(theirs.iter_mut()) {
            *b = b.min(run());
        }
    }
    best
}

/// This thread's CPU time so far, in seconds: the first field of its schedstat, in nanoseconds
/// (Documentation/scheduler/sched-stats.rst).
fn thread_cpu_time() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    let nanos: u64 = stat.split_whitespace().next().unwrap().parse().unwrap();
    nanos as f64 * 1e-9
}

/// Decodes the whole file; with `resample_to`, also resamples it as the device path would: only
/// when the rates differ. Opus always decodes at 48 kHz (RFC 7845 §5.1: the header's input rate
/// is informational), so at 48 kHz it passes through here, as it does in ffmpeg.
fn skylark(path: &Path, resample_to: Option<u32>) -> Cost {
    let (start, cpu_start) = (Instant::now(), thread_cpu_time());
    let mut decoder = Decoder::open(Source::path(path)).unwrap();
    let channels = 2;
    let mut resampler = resample_to
        .filter(|&to| to != decoder.sample_rate())
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
    Cost {
        wall: start.elapsed().as_secs_f64(),
        cpu: thread_cpu_time() - cpu_start,
    }
}

/// How ffmpeg is asked to resample, if at all.
#[derive(Clone, Copy)]
enum Resample {
    No,
    /// `-ar RATE`: swresample with its defaults (a 32-tap filter).
    Default(u32),
    /// soxr at its "high quality" recipe (20-bit precision: images and aliases about 120 dB
    /// down, flat to 91% of the input's Nyquist frequency), near what `StreamResampler` does.
    SoxrHq(u32),
}

/// ffmpeg's own measure of its decoding loop (`-benchmark`'s `rtime`, and `utime + stime` for
/// CPU), which leaves out starting the process, so both sides are timed from an opened file to
/// the last sample.
fn ffmpeg(path: &Path, resample: Resample) -> Cost {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-benchmark", "-threads", "1", "-i"])
        .arg(path);
    match resample {
        Resample::No => {}
        Resample::Default(rate) => {
            cmd.args(["-ar", &rate.to_string()]);
        }
        Resample::SoxrHq(rate) => {
            cmd.args([
                "-af",
                &format!("aresample={rate}:resampler=soxr:precision=20"),
            ]);
        }
    }
    let out = cmd
        .args(["-f", "null", "-"])
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    // "bench: utime=0.051s stime=0.005s rtime=0.057s"
    let field = |name: &str| {
        log.lines()
            .filter(|l| l.starts_with("bench: utime="))
            .find_map(|l| l.split(name).nth(1))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.trim_end_matches('s').parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {name} in ffmpeg's output:\n{log}"))
    };
    Cost {
        wall: field("rtime="),
        cpu: field("utime=") + field("stime="),
    }
}

/// Runs `input` (planes) through `resampler` chunk by chunk, handing each output chunk to `sink`.
fn drive(
    resampler: &mut dyn Resampler<f32>,
    input: &[Vec<f32>],
    mut sink: impl FnMut(&[Vec<f32>], usize),
) {
    let channels = input.len();
    let frames = input[0].len();
    let adapter_in = SequentialSliceOfVecs::new(input, channels, frames).unwrap();
    let mut out = vec![vec![0.0f32; resampler.output_frames_max()]; channels];
    let mut position = 0;
    while position + resampler.input_frames_next() <= frames {
        let out_frames = out[0].len();
        let mut adapter_out =
            SequentialSliceOfVecs::new_mut(&mut out, channels, out_frames).unwrap();
        let indexing = Indexing {
            input_offset: position,
            output_offset: 0,
            partial_len: None,
            active_channels_mask: None,
        };
        let (read, written) = resampler
            .process_into_buffer(&adapter_in, &mut adapter_out, Some(&indexing))
            .unwrap();
        position += read;
        sink(&out, written);
    }
}

/// The level in dB (0 = unchanged) at which a stereo `hz` sine comes out of `resampler`, from
/// a least-squares fit over the middle of one second.
fn level_through(resampler: &mut dyn Resampler<f32>, hz: f64) -> f64 {
    let sine: Vec<f32> = (0..44_100)
        .map(|i| (0.5 * (std::f64::consts::TAU * hz * f64::from(i) / 44_100.0).sin()) as f32)
        .collect();
    let mut left = Vec::new();
    drive(resampler, &[sine.clone(), sine], |out, written| {
        left.extend_from_slice(&out[0][..written]);
    });
    let w = std::f64::consts::TAU * hz / 48_000.0;
    let (mut ss, mut sc, mut cc, mut ys, mut yc) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (n, &y) in left
        .iter()
        .enumerate()
        .skip(left.len() / 4)
        .take(left.len() / 2)
    {
        let (s, c) = (w * n as f64).sin_cos();
        let y = f64::from(y);
        (ss, sc, cc, ys, yc) = (ss + s * s, sc + s * c, cc + c * c, ys + y * s, yc + y * c);
    }
    let det = ss * cc - sc * sc;
    let (a, b) = ((ys * cc - yc * sc) / det, (yc * ss - ys * sc) / det);
    20.0 * (a.hypot(b) / 0.5).log10()
}

/// rubato alone, 44.1 to 48 kHz, in the configurations `StreamResampler` could use.
fn rubato_alone() {
    type Make = Box<dyn Fn() -> Box<dyn Resampler<f32>>>;
    let fft = |chunk: usize| -> Make {
        Box::new(move || {
            Box::new(Fft::<f32>::new(44_100, 48_000, chunk, 1, 2, FixedSync::Both).unwrap())
        })
    };
    // rubato's polyphase case: 160 phases, Nearest, is exact for 44.1 to 48 kHz (160/147).
    let sinc = |sinc_len: usize| -> Make {
        Box::new(move || {
            let parameters = SincInterpolationParameters {
                sinc_len,
                f_cutoff: 0.95,
                oversampling_factor: 160,
                interpolation: SincInterpolationType::Nearest,
                window: WindowFunction::BlackmanHarris2,
            };
            let ratio = 48_000.0 / 44_100.0;
            Box::new(
                Async::<f32>::new_sinc(ratio, 1.0, &parameters, 1024, 2, FixedAsync::Input)
                    .unwrap(),
            )
        })
    };
    let mut configs: Vec<(String, Make)> =
        [294usize, 588, 1024, 1176, 1323, 1470, 1764, 2352, 4704]
            .into_iter()
            .map(|chunk| {
                let fft_frames = chunk.div_ceil(147) * 147;
                (
                    format!("`Fft`, {chunk} frames asked ({fft_frames} used)"),
                    fft(chunk),
                )
            })
            .collect();
    for sinc_len in [192, 256] {
        configs.push((
            format!("`Async` sinc, {sinc_len} taps, 160 phases, Nearest"),
            sinc(sinc_len),
        ));
    }

    // Deterministic white noise (xorshift32), 120 s of stereo.
    let mut state = 0x9E37_79B9u32;
    let mut noise = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (f64::from(state) / f64::from(u32::MAX) - 0.5) as f32
    };
    let frames = (SECONDS * 44_100.0) as usize;
    let input: Vec<Vec<f32>> = (0..2)
        .map(|_| (0..frames).map(|_| noise()).collect())
        .collect();

    println!(
        "\n## rubato alone, {SECONDS} s of stereo, 44.1 to 48 kHz (CPU time, best of {RUNS})\n"
    );
    println!("| configuration | CPU time | level at 20 kHz | level at 20.5 kHz |");
    println!("|---|---:|---:|---:|");
    for (name, make) in &configs {
        let cpu = (0..RUNS)
            .map(|_| {
                let mut resampler = make();
                let start = thread_cpu_time();
                drive(&mut *resampler, &input, |out, _| {
                    std::hint::black_box(out);
                });
                thread_cpu_time() - start
            })
            .fold(f64::INFINITY, f64::min);
        let at_20k = level_through(&mut *make(), 20_000.0);
        let at_20k5 = level_through(&mut *make(), 20_500.0);
        println!(
            "| {name} | {:.0} ms | {at_20k:+.3} dB | {at_20k5:+.3} dB |",
            cpu * 1e3
        );
    }
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
    let mut rows = Vec::new();
    for format in formats {
        let name = format!("{:?}", format).to_lowercase();
        let path = dir.join(format!("tone.{name}.{}", format.extension()));
        if !path.exists() {
            write_audio(&path, format, &tone, &TagSpec::default()).unwrap();
        }
        // Warm the page cache and both decoders' code paths.
        skylark(&path, None);
        ffmpeg(&path, Resample::No);
        let (ours, theirs) = best_of(
            || skylark(&path, None),
            &mut [&mut || ffmpeg(&path, Resample::No)],
        );
        let decode = (ours, theirs[0]);
        let mut default = || ffmpeg(&path, Resample::Default(48_000));
        let mut soxr = || ffmpeg(&path, Resample::SoxrHq(48_000));
        // Opus decodes at 48 kHz: nothing to resample, so no soxr figure to compare.
        let (ours, theirs) = if format == Format::Opus {
            best_of(|| skylark(&path, Some(48_000)), &mut [&mut default])
        } else {
            best_of(
                || skylark(&path, Some(48_000)),
                &mut [&mut default, &mut soxr],
            )
        };
        let resample = (ours, theirs[0]);
        let soxr = theirs.get(1).map(|&theirs| (ours, theirs));
        rows.push((name, decode, resample, soxr));
    }
    println!(
        "# Decode speed, {SECONDS} s stereo 44.1 kHz files (best of {RUNS}, taking turns with ffmpeg)"
    );
    for (title, measure) in [
        ("Wall-clock time", (|c: Cost| c.wall) as fn(Cost) -> f64),
        ("CPU time", |c: Cost| c.cpu),
    ] {
        println!("\n## {title}\n");
        println!(
            "| format | skylark decode | ffmpeg -threads 1 | ratio | skylark decode + resample to 48 kHz | ffmpeg -ar 48000 | ratio |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|");
        for (name, (ours, theirs), (ours_rs, theirs_rs), _) in &rows {
            let (ours, theirs) = (measure(*ours), measure(*theirs));
            let (ours_rs, theirs_rs) = (measure(*ours_rs), measure(*theirs_rs));
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
    }
    println!(
        "\n(ratio = skylark / ffmpeg, lower is faster; ffmpeg's figures are its -benchmark rtime and\n\
         utime + stime; Opus decodes at 48 kHz, so neither side resamples it)"
    );
    println!(
        "\n## Decode + resample to 48 kHz against ffmpeg with soxr's high-quality recipe\n\n\
         (`-af aresample=48000:resampler=soxr:precision=20`, a filter near StreamResampler's; \
         best of {RUNS}, taking turns)\n"
    );
    println!(
        "| format | skylark CPU | ffmpeg + soxr HQ CPU | ratio | skylark wall | ffmpeg + soxr HQ wall | ratio |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, _, _, soxr) in &rows {
        if let Some((ours, theirs)) = soxr {
            println!(
                "| {name} | {:.0} ms | {:.0} ms | {:.2}x | {:.0} ms | {:.0} ms | {:.2}x |",
                ours.cpu * 1e3,
                theirs.cpu * 1e3,
                ours.cpu / theirs.cpu,
                ours.wall * 1e3,
                theirs.wall * 1e3,
                ours.wall / theirs.wall
            );
        }
    }
    rubato_alone();
}

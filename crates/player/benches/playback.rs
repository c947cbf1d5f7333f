//! Real-time playback costs: CPU while playing a 44.1 kHz FLAC to a 48 kHz output, and the time
//! from `play` (and from `seek`) to the first sample handed to the output. The figures are in
//! docs/benchmarks.md.
//!
//! Run with `cargo bench -p skylark-player --bench playback`. The files are generated into
//! `target/bench-data/playback` once.
//!
//! The outputs here stand in for a sound card: a thread that wakes every period and pulls the
//! frames due by the clock through `OutputFeed::fill`, as a cpal callback does, and drops them.
//! CPU is the whole process's (every engine, decode and output thread) from /proc/self/stat.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use skylark_player::{
    Output, OutputFeed, OutputSpec, Player, PlayerCmd, PlayerEvent, Result, Source,
};
use skylark_testsupport::{Format, TagSpec, Tone, write_audio};

/// How long the CPU measurement plays.
const CPU_SECONDS: u64 = 15;
/// Runs per latency figure.
const RUNS: usize = 200;
/// Linux reports process times in USER_HZ ticks, fixed at 100 per second by its ABI.
const USER_HZ: f64 = 100.0;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data/playback")
}

/// A stand-in sound card: every `period`, pulls the frames due by the clock and drops them,
/// noting when the first non-silent sample arrives after it was armed.
struct ProbeOutput {
    spec: OutputSpec,
    period: Duration,
    probe: Probe,
    stop: Arc<AtomicBool>,
    running: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Shared with the output thread: arm it, then read when sound arrived.
#[derive(Clone)]
struct Probe {
    base: Instant,
    armed: Arc<AtomicBool>,
    /// Nanoseconds after `base` of the first non-silent sample since arming.
    heard_at: Arc<AtomicU64>,
}

impl Probe {
    fn arm(&self) {
        self.heard_at.store(0, Ordering::Release);
        self.armed.store(true, Ordering::Release);
    }

    /// Waits for sound after arming; returns when it came.
    fn wait(&self) -> Instant {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let at = self.heard_at.load(Ordering::Acquire);
            if at != 0 {
                return self.base + Duration::from_nanos(at);
            }
            assert!(Instant::now() < deadline, "no sound within 5 s");
            thread::sleep(Duration::from_micros(200));
        }
    }
}

impl ProbeOutput {
    fn new(sample_rate: u32, period: Duration) -> Self {
        ProbeOutput {
            spec: OutputSpec {
                sample_rate,
                channels: 2,
            },
            period,
            probe: Probe {
                base: Instant::now(),
                armed: Arc::new(AtomicBool::new(false)),
                heard_at: Arc::new(AtomicU64::new(0)),
            },
            stop: Arc::new(AtomicBool::new(false)),
            running: Arc::new(AtomicBool::new(true)),
            thread: None,
        }
    }
}

impl Output for ProbeOutput {
    fn spec(&self) -> OutputSpec {
        self.spec
    }

    fn start(&mut self, mut feed: OutputFeed) -> Result<()> {
        let (spec, period, probe, stop, running) = (
            self.spec,
            self.period,
            self.probe.clone(),
            Arc::clone(&self.stop),
            Arc::clone(&self.running),
        );
        self.thread = Some(thread::spawn(move || {
            let started = Instant::now();
            let mut done = 0u64;
            // A device's buffer: allocated once, like a driver's.
            let mut buffer = vec![0.0f32; 2 * spec.sample_rate as usize];
            while !stop.load(Ordering::Acquire) {
                thread::sleep(period);
                let due = (started.elapsed().as_secs_f64() * f64::from(spec.sample_rate)) as u64;
                let frames = (due - done).min(spec.sample_rate as u64) as usize;
                done = due;
                if !running.load(Ordering::Acquire) {
                    // Suspended: the clock goes on, nothing is pulled, as a paused stream.
                    continue;
                }
                let chunk = &mut buffer[..2 * frames];
                feed.fill(chunk);
                if probe.armed.load(Ordering::Acquire) && chunk.iter().any(|&s| s != 0.0) {
                    let now = probe.base.elapsed().as_nanos() as u64;
                    probe.heard_at.store(now.max(1), Ordering::Release);
                    probe.armed.store(false, Ordering::Release);
                }
            }
        }));
        Ok(())
    }

    fn set_running(&mut self, running: bool) -> Result<()> {
        self.running.store(running, Ordering::Release);
        Ok(())
    }
}

impl Drop for ProbeOutput {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// User plus system CPU time of this process so far (all threads, live and ended).
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the command name (which may hold spaces) start at field 3.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_secs_f64(ticks as f64 / USER_HZ)
}

fn wait_for(events: &Receiver<PlayerEvent>, mut done: impl FnMut(&PlayerEvent) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = events.recv_timeout(left).expect("no event in time");
        if let PlayerEvent::Error { error, .. } = &event {
            panic!("{error}");
        }
        if done(&event) {
            return;
        }
    }
}

/// CPU use as a share of one core while `path` plays to an output at `rate`.
fn cpu_while_playing(path: &Path, rate: u32) -> f64 {
    let player = Player::spawn(ProbeOutput::new(rate, Duration::from_millis(10))).unwrap();
    let events = player.subscribe().unwrap();
    player
        .send(PlayerCmd::LoadAt {
            sources: vec![Source::path(path)],
            start: 0,
            play: true,
        })
        .unwrap();
    wait_for(&events, |e| matches!(e, PlayerEvent::TrackStarted { .. }));
    // Let the start-up (opening, the first fill of the ring) pass.
    thread::sleep(Duration::from_secs(1));
    let (cpu, wall) = (process_cpu(), Instant::now());
    thread::sleep(Duration::from_secs(CPU_SECONDS));
    let used = process_cpu() - cpu;
    let elapsed = wall.elapsed();
    player.send(PlayerCmd::Stop).unwrap();
    100.0 * used.as_secs_f64() / elapsed.as_secs_f64()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// Times from `play` (a `LoadAt` that opens the file) and from `seek` to the first non-silent
/// sample the output pulls. `padded` has 5 s of silence before the tone, so the seek back to 0
/// silences the output and the seek to 6 s brings sound.
fn latencies(tone: &Path, padded: &Path) -> (Vec<Duration>, Vec<Duration>) {
    let output = ProbeOutput::new(48_000, Duration::from_millis(1));
    let probe = output.probe.clone();
    let player = Player::spawn(output).unwrap();
    let events = player.subscribe().unwrap();
    let mut play = Vec::with_capacity(RUNS);
    for _ in 0..RUNS + 5 {
        player.send(PlayerCmd::Stop).unwrap();
        thread::sleep(Duration::from_millis(10));
        probe.arm();
        let asked = Instant::now();
        player
            .send(PlayerCmd::LoadAt {
                sources: vec![Source::path(tone)],
                start: 0,
                play: true,
            })
            .unwrap();
        play.push(probe.wait() - asked);
    }
    player
        .send(PlayerCmd::LoadAt {
            sources: vec![Source::path(padded)],
            start: 0,
            play: true,
        })
        .unwrap();
    wait_for(&events, |e| matches!(e, PlayerEvent::TrackStarted { .. }));
    let mut seek = Vec::with_capacity(RUNS);
    for _ in 0..RUNS + 5 {
        player.send(PlayerCmd::Seek(Duration::ZERO)).unwrap();
        thread::sleep(Duration::from_millis(15));
        probe.arm();
        let asked = Instant::now();
        player
            .send(PlayerCmd::Seek(Duration::from_secs(6)))
            .unwrap();
        seek.push(probe.wait() - asked);
    }
    // The first few warm the page cache and the code paths.
    (play.split_off(5), seek.split_off(5))
}

fn sox(args: &[&str]) {
    let status = std::process::Command::new("sox")
        .args(args)
        .status()
        .expect("sox (scripts/install-deps installs it)");
    assert!(status.success(), "sox {args:?}");
}

fn encode(wav: &Path, format: Format, out: &Path) {
    let out = out.to_str().unwrap();
    let wav = wav.to_str().unwrap();
    let status = match format {
        Format::Flac => std::process::Command::new("flac")
            .args(["--silent", "--force", "-o", out, wav])
            .status(),
        Format::Mp3 => std::process::Command::new("lame")
            .args(["--quiet", "--noreplaygain", wav, out])
            .status(),
        _ => std::process::Command::new("ffmpeg")
            .args([
                "-nostdin",
                "-loglevel",
                "error",
                "-y",
                "-i",
                wav,
                "-c:a",
                "aac",
            ])
            .arg(out)
            .status(),
    }
    .unwrap();
    assert!(status.success(), "encoding {out}");
}

fn main() {
    let dir = data_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let flac = dir.join("tone-60s.flac");
    if !flac.exists() {
        let tone = Tone {
            seconds: 60.0,
            frequency: 997.0,
            ..Tone::default()
        };
        write_audio(&flac, Format::Flac, &tone, &TagSpec::default()).unwrap();
    }

    println!("# Playback: CPU while playing ({CPU_SECONDS} s, share of one core)\n");
    println!("| file | output | CPU |");
    println!("|---|---|---:|");
    for rate in [48_000, 44_100] {
        let share = cpu_while_playing(&flac, rate);
        println!(
            "| 44.1 kHz FLAC | {:.1} kHz{} | {share:.2}% |",
            f64::from(rate) / 1e3,
            if rate == 44_100 {
                " (no resampling)"
            } else {
                ""
            }
        );
    }

    println!("\n# Time to the first sample handed to the output ({RUNS} runs, 48 kHz output)\n");
    println!("| format | play p50 | play p99 | play max | seek p50 | seek p99 | seek max |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let tone_wav = dir.join("tone-10s.wav");
    let padded_wav = dir.join("padded-10s.wav");
    if !padded_wav.exists() {
        let synth = |path: &Path, pad: &str| {
            let path = path.to_str().unwrap();
            let mut args = vec![
                "-V1", "-R", "-D", "-r", "44100", "-c", "2", "-n", "-b", "16", path, "synth", "10",
                "sine", "997", "vol", "0.5",
            ];
            if !pad.is_empty() {
                args.extend(["pad", pad]);
            }
            sox(&args);
        };
        synth(&tone_wav, "");
        synth(&padded_wav, "5");
    }
    for (format, extension) in [
        (Format::Flac, "flac"),
        (Format::Mp3, "mp3"),
        (Format::M4aAac, "m4a"),
    ] {
        let tone = dir.join(format!("tone-10s.{extension}"));
        let padded = dir.join(format!("padded-10s.{extension}"));
        if !tone.exists() || !padded.exists() {
            encode(&tone_wav, format, &tone);
            encode(&padded_wav, format, &padded);
        }
        let (mut play, mut seek) = latencies(&tone, &padded);
        play.sort();
        seek.sort();
        println!(
            "| {extension} | {} | {} | {} | {} | {} | {} |",
            ms(percentile(&play, 50.0)),
            ms(percentile(&play, 99.0)),
            ms(*play.last().unwrap()),
            ms(percentile(&seek, 50.0)),
            ms(percentile(&seek, 99.0)),
            ms(*seek.last().unwrap()),
        );
    }
}

//! Shared test plumbing: running encoders, decoding and rendering to memory, measuring signals.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use skylark_player::{
    ClockedOutput, Decoder, ItemId, OutputSpec, PlayedAudio, Player, PlayerCmd, PlayerEvent,
    QueueSnapshot, RenderOptions, RenderReport, Result, Sink, Source, render,
};

/// Runs a command-line tool and fails the test with its stderr if it fails.
pub fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("running {program} (install it with scripts/install-deps): {e}")
        });
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A whole decoded source.
pub struct Decoded {
    pub sample_rate: u32,
    pub channels: usize,
    pub samples: Vec<f32>,
    pub packets_skipped: u64,
}

impl Decoded {
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels
    }
}

/// Decodes `path` to the end.
pub fn decode(path: &Path) -> Result<Decoded> {
    let mut decoder = Decoder::open(Source::path(path))?;
    let mut samples = Vec::new();
    let mut sample_rate = decoder.sample_rate();
    let mut channels = decoder.channels().count();
    while let Some(block) = decoder.next_block()? {
        sample_rate = block.sample_rate;
        channels = block.channels.count();
        samples.extend_from_slice(block.samples);
    }
    Ok(Decoded {
        sample_rate,
        channels,
        samples,
        packets_skipped: decoder.packets_skipped(),
    })
}

/// A sink that keeps everything in memory: what the test reads back.
#[derive(Default)]
pub struct MemorySink {
    pub spec: Option<OutputSpec>,
    pub samples: Vec<f32>,
    pub finished: bool,
}

impl Sink for MemorySink {
    fn begin(&mut self, spec: OutputSpec) -> Result<()> {
        self.spec = Some(spec);
        Ok(())
    }

    fn write(&mut self, samples: &[f32]) -> Result<()> {
        self.samples.extend_from_slice(samples);
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        self.finished = true;
        Ok(())
    }
}

/// Renders `paths` in order to memory, at `sample_rate` or the first source's rate.
pub fn render_paths(paths: &[&Path], sample_rate: Option<u32>) -> (RenderReport, Vec<f32>) {
    let mut sink = MemorySink::default();
    let report = render(
        paths.iter().map(|p| Source::path(*p)),
        &mut sink,
        &RenderOptions { sample_rate },
    )
    .unwrap();
    assert!(sink.finished);
    (report, sink.samples)
}

/// One channel of interleaved samples.
pub fn channel(samples: &[f32], channels: usize, index: usize) -> Vec<f32> {
    samples
        .iter()
        .skip(index)
        .step_by(channels)
        .copied()
        .collect()
}

/// The frequency of a steady tone, from rising zero crossings over `signal`.
pub fn frequency(signal: &[f32], sample_rate: u32) -> f64 {
    let rising: Vec<usize> = signal
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[0] < 0.0 && w[1] >= 0.0)
        .map(|(i, _)| i)
        .collect();
    let (first, last) = (rising[0], rising[rising.len() - 1]);
    let cycles = (rising.len() - 1) as f64;
    cycles * f64::from(sample_rate) / (last - first) as f64
}

/// The peak amplitude of a sine, from its RMS (amplitude = RMS * √2).
pub fn sine_amplitude(signal: &[f32]) -> f64 {
    let mean_square = signal
        .iter()
        .map(|&s| f64::from(s) * f64::from(s))
        .sum::<f64>()
        / signal.len() as f64;
    mean_square.sqrt() * std::f64::consts::SQRT_2
}

/// The middle of a signal, away from fade-in/out and codec edge effects.
pub fn middle(signal: &[f32]) -> &[f32] {
    let margin = signal.len() / 5;
    &signal[margin..signal.len() - margin]
}

/// The rate the live tests play at: the rate of the files they make, so nothing is resampled.
pub const RATE: u32 = 44_100;

/// A stereo 16-bit WAV sine of `hz` at `amplitude`, `seconds` long, at [`RATE`].
pub fn sine_wav(dir: &Path, name: &str, hz: u32, seconds: f64, amplitude: f64) -> PathBuf {
    let path = dir.join(name);
    run(
        "sox",
        &[
            "-V1",
            "-R",
            "-D",
            "-r",
            &RATE.to_string(),
            "-c",
            "2",
            "-n",
            "-b",
            "16",
            path.to_str().unwrap(),
            "synth",
            &seconds.to_string(),
            "sine",
            &hz.to_string(),
            "vol",
            &amplitude.to_string(),
        ],
    );
    path
}

/// A player on a clocked output at `rate` (5 ms periods), what it plays, and its events.
pub fn spawn_clocked(rate: u32) -> (Player, PlayedAudio, Receiver<PlayerEvent>) {
    let output = ClockedOutput::new(
        OutputSpec {
            sample_rate: rate,
            channels: 2,
        },
        Duration::from_millis(5),
    );
    let played = output.played();
    let player = Player::spawn(output).unwrap();
    let events = player.subscribe().unwrap();
    (player, played, events)
}

/// Loads `paths` and plays the first.
pub fn load_and_play(player: &Player, paths: &[&Path]) {
    player
        .send(PlayerCmd::LoadAt {
            sources: paths.iter().map(|path| Source::path(*path)).collect(),
            start: 0,
            play: true,
        })
        .unwrap();
}

/// Receives events, each with its arrival time, until `done` says so; fails after 20 s.
pub fn until(
    events: &Receiver<PlayerEvent>,
    mut done: impl FnMut(&PlayerEvent) -> bool,
) -> Vec<(Instant, PlayerEvent)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = events
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("timed out; events so far: {seen:#?}"));
        let stop = done(&event);
        seen.push((Instant::now(), event));
        if stop {
            return seen;
        }
    }
}

/// The position a `Position` event reports, with its item.
pub fn position_of(event: &PlayerEvent) -> Option<(ItemId, Duration)> {
    match event {
        PlayerEvent::Position { id, position, .. } => Some((*id, *position)),
        _ => None,
    }
}

/// The file name of a source's path.
pub fn file_name(name: &str) -> String {
    Path::new(name)
        .file_name()
        .map_or_else(|| name.to_owned(), |n| n.to_string_lossy().into_owned())
}

/// The track events (starts, ends, errors, queue end) as short strings naming the files, in
/// order. An error is named by the item's file, found in the queue snapshots seen.
pub fn track_events(seen: &[(Instant, PlayerEvent)]) -> Vec<String> {
    let mut names = std::collections::HashMap::new();
    let mut lines = Vec::new();
    for (_, event) in seen {
        match event {
            PlayerEvent::QueueChanged(snapshot) => {
                for entry in &snapshot.items {
                    names.insert(entry.id, file_name(&entry.name));
                }
            }
            PlayerEvent::TrackStarted { name, .. } => {
                lines.push(format!("started {}", file_name(name)));
            }
            PlayerEvent::TrackEnded { name, .. } => {
                lines.push(format!("ended {}", file_name(name)));
            }
            PlayerEvent::Error { id, .. } => lines.push(format!(
                "error {}",
                id.and_then(|id| names.get(&id).cloned())
                    .unwrap_or_else(|| "-".to_owned())
            )),
            PlayerEvent::QueueEnded => lines.push("queue ended".to_owned()),
            _ => {}
        }
    }
    lines
}

/// The last queue snapshot among `seen`.
pub fn last_snapshot(seen: &[(Instant, PlayerEvent)]) -> Option<QueueSnapshot> {
    seen.iter().rev().find_map(|(_, event)| match event {
        PlayerEvent::QueueChanged(snapshot) => Some(snapshot.clone()),
        _ => None,
    })
}

/// The id of the queue item whose file is `file`.
pub fn id_of(snapshot: &QueueSnapshot, file: &str) -> ItemId {
    snapshot
        .items
        .iter()
        .find(|entry| file_name(&entry.name) == file)
        .unwrap_or_else(|| panic!("{file} is not in {snapshot:#?}"))
        .id
}

/// The index of the first frame of `needle` (whole frames, exact match) in `haystack`, both
/// interleaved stereo.
pub fn find_frames(haystack: &[f32], needle: &[f32]) -> Option<usize> {
    let frames = haystack.len() / 2;
    let needle_frames = needle.len() / 2;
    (0..frames.saturating_sub(needle_frames) + 1)
        .find(|&f| haystack[2 * f..2 * (f + needle_frames)] == *needle)
}

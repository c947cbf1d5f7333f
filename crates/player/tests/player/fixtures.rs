//! Shared test plumbing: running encoders, decoding and rendering to memory, measuring signals.

use std::path::Path;
use std::process::Command;

use skylark_player::{
    Decoder, OutputSpec, RenderOptions, RenderReport, Result, Sink, Source, render,
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

//! The real-time end of the engine: the [`Output`] seam, the feed every output drains, and the
//! [`ClockedOutput`] that plays on its own clock instead of a sound card.
//!
//! The engine thread writes conformed frames into a lock-free SPSC ring ([`rtrb`]); an output
//! pulls them through an [`OutputFeed`], which also applies volume, mute and the pause/resume
//! fade. Control crosses from the engine to the feed through atomics only.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rtrb::Consumer;

use crate::error::Result;
use crate::sink::OutputSpec;

/// How long the pause/resume fade and volume changes take. 10 ms is short enough to feel
/// instant and long enough (a few cycles of the lowest audible bass) that no click is heard.
const FADE: Duration = Duration::from_millis(10);

/// The linear gain for a volume setting in 0.0..=1.0, on a cubic curve: `gain = volume³`.
///
/// Loudness follows roughly the cube root of power near normal listening levels (Stevens'
/// power law), so a cubic slider feels evenly spaced where a linear one bunches all the change
/// into its bottom fifth; it is the curve mpv and PulseAudio's volume sliders use. Half volume
/// is 0.125 (-18 dB). Values outside 0..=1 (and NaN) are clamped.
pub fn volume_gain(volume: f32) -> f32 {
    let volume = if volume.is_nan() {
        0.0
    } else {
        volume.clamp(0.0, 1.0)
    };
    volume * volume * volume
}

/// Where the engine's conformed frames are played.
///
/// Two implementations exist: the cpal device output ([`DeviceOutput`](crate::DeviceOutput))
/// and [`ClockedOutput`], which drains the ring on its own clock so the engine can be tested
/// without a sound card.
///
/// # For Implementations
///
/// [`spec`](Output::spec) is the format the engine must produce, fixed for the output's life.
/// [`start`](Output::start) is called once; from then on the output must call
/// [`OutputFeed::fill`] regularly, at its playback rate, from whatever thread it plays on, until
/// it is dropped. `fill` never blocks, locks or allocates, so it may run on a real-time thread.
pub trait Output: Send {
    /// The frame rate and channel count this output plays.
    fn spec(&self) -> OutputSpec;

    /// Starts pulling audio from `feed`.
    ///
    /// # Errors
    ///
    /// The output cannot be started (for a device, the stream cannot be built or played).
    fn start(&mut self, feed: OutputFeed) -> Result<()>;
}

/// The control state the engine shares with an output's feed, all atomics.
#[derive(Debug)]
pub(crate) struct FeedControl {
    /// True while the engine is playing; false fades out and then stops draining the ring.
    pub(crate) playing: AtomicBool,
    /// The target gain (volume curve and mute applied), as `f32` bits.
    pub(crate) gain_bits: AtomicU32,
    /// Frames drained from the ring and played since the last flush.
    pub(crate) frames_played: AtomicU64,
    /// Bumped by the engine to ask the feed to drop everything in the ring.
    pub(crate) flush_requested: AtomicU64,
    /// The last flush request the feed has carried out.
    pub(crate) flush_done: AtomicU64,
    /// Set when the device reports an error (from cpal's error callback, not the data one).
    pub(crate) device_failed: AtomicBool,
}

impl FeedControl {
    pub(crate) fn new() -> Self {
        FeedControl {
            playing: AtomicBool::new(false),
            gain_bits: AtomicU32::new(1.0f32.to_bits()),
            frames_played: AtomicU64::new(0),
            flush_requested: AtomicU64::new(0),
            flush_done: AtomicU64::new(0),
            device_failed: AtomicBool::new(false),
        }
    }
}

/// The output's end of the engine: drains the ring into the buffers an output plays.
pub struct OutputFeed {
    consumer: Consumer<f32>,
    control: Arc<FeedControl>,
    channels: usize,
    /// The pause/resume fade, 0.0 (silent) to 1.0 (playing).
    fade: f32,
    /// The gain being applied, moving toward the target.
    gain: f32,
    /// How far `fade` and `gain` move per frame: a full swing over [`FADE`].
    step: f32,
}

impl std::fmt::Debug for OutputFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputFeed")
            .field("channels", &self.channels)
            .field("fade", &self.fade)
            .field("gain", &self.gain)
            .finish_non_exhaustive()
    }
}

impl OutputFeed {
    pub(crate) fn new(
        consumer: Consumer<f32>,
        control: Arc<FeedControl>,
        spec: OutputSpec,
    ) -> Self {
        let fade_frames = (f64::from(spec.sample_rate) * FADE.as_secs_f64()).max(1.0);
        OutputFeed {
            consumer,
            gain: f32::from_bits(control.gain_bits.load(Ordering::Relaxed)),
            control,
            channels: usize::from(spec.channels.max(1)),
            fade: 0.0,
            step: (1.0 / fade_frames) as f32,
        }
    }

    /// The control state shared with the engine.
    pub(crate) fn control(&self) -> &Arc<FeedControl> {
        &self.control
    }

    /// Fills `buffer` (interleaved frames) with the next audio, or silence when paused, stopped
    /// or starved.
    ///
    /// Real-time safe: no locks, no allocation, no logging, no I/O.
    pub fn fill(&mut self, buffer: &mut [f32]) {
        let requested = self.control.flush_requested.load(Ordering::Acquire);
        if requested != self.control.flush_done.load(Ordering::Relaxed) {
            let stale = self.consumer.slots();
            if let Ok(chunk) = self.consumer.read_chunk(stale) {
                chunk.commit_all();
            }
            self.control.frames_played.store(0, Ordering::Relaxed);
            self.control.flush_done.store(requested, Ordering::Release);
        }

        let playing = self.control.playing.load(Ordering::Acquire);
        let target_gain = f32::from_bits(self.control.gain_bits.load(Ordering::Relaxed));
        let target_fade = if playing { 1.0 } else { 0.0 };
        let mut frames_played = 0u64;
        for frame in buffer.chunks_exact_mut(self.channels) {
            if !playing && self.fade <= 0.0 {
                frame.fill(0.0);
                continue;
            }
            // Whole frames only, so channels never slip against each other.
            let Ok(chunk) = self.consumer.read_chunk(self.channels) else {
                frame.fill(0.0);
                continue;
            };
            self.fade = approach(self.fade, target_fade, self.step);
            self.gain = approach(self.gain, target_gain, self.step);
            // At full fade and unity gain the samples pass through untouched (bit-exact).
            let scale = self.fade * self.gain;
            let (first, second) = chunk.as_slices();
            for (out, &sample) in frame.iter_mut().zip(first.iter().chain(second)) {
                *out = if scale == 1.0 { sample } else { sample * scale };
            }
            chunk.commit_all();
            frames_played += 1;
        }
        let leftover = buffer.len() % self.channels;
        if leftover != 0 {
            let len = buffer.len();
            buffer[len - leftover..].fill(0.0);
        }
        self.control
            .frames_played
            .fetch_add(frames_played, Ordering::Release);
    }
}

/// Moves `value` toward `target` by at most `step`.
fn approach(value: f32, target: f32, step: f32) -> f32 {
    if value < target {
        (value + step).min(target)
    } else {
        (value - step).max(target)
    }
}

/// An output with no sound card: a thread drains the ring in real time, by its own clock, and
/// keeps everything it played.
///
/// It is what the engine's tests play through, and a stand-in for a device in headless use. It
/// keeps every sample it plays (readable through [`PlayedAudio`]), so memory grows with play
/// time: 11 MB a minute at 48 kHz stereo.
pub struct ClockedOutput {
    spec: OutputSpec,
    period: Duration,
    played: PlayedAudio,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ClockedOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClockedOutput")
            .field("spec", &self.spec)
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

/// What a [`ClockedOutput`] has played so far: interleaved frames of its spec.
#[derive(Clone, Debug, Default)]
pub struct PlayedAudio {
    samples: Arc<Mutex<Vec<f32>>>,
}

impl PlayedAudio {
    /// A copy of every sample played so far, silence included.
    pub fn samples(&self) -> Vec<f32> {
        self.samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many samples (not frames) have been played so far.
    pub fn len(&self) -> usize {
        self.samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// True before anything has been played.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ClockedOutput {
    /// An output playing `spec`, pulling one buffer every `period` (a sound card's period is
    /// typically 5 to 20 ms).
    pub fn new(spec: OutputSpec, period: Duration) -> Self {
        ClockedOutput {
            spec,
            period: period.max(Duration::from_millis(1)),
            played: PlayedAudio::default(),
            stop: Arc::new(AtomicBool::new(false)),
            thread: None,
        }
    }

    /// A handle on what this output plays; it stays valid after the output moves into a player.
    pub fn played(&self) -> PlayedAudio {
        self.played.clone()
    }
}

impl Output for ClockedOutput {
    fn spec(&self) -> OutputSpec {
        self.spec
    }

    fn start(&mut self, mut feed: OutputFeed) -> Result<()> {
        let spec = self.spec;
        let period = self.period;
        let played = self.played.clone();
        let stop = Arc::clone(&self.stop);
        self.thread = Some(thread::spawn(move || {
            let channels = usize::from(spec.channels.max(1));
            let started = Instant::now();
            let mut frames_done = 0u64;
            let mut buffer = Vec::new();
            while !stop.load(Ordering::Acquire) {
                thread::sleep(period);
                // Frames due by the clock, so sleep overshoot does not slow playback down.
                let due = (started.elapsed().as_secs_f64() * f64::from(spec.sample_rate)) as u64;
                let frames = usize::try_from(due.saturating_sub(frames_done)).unwrap_or(0);
                frames_done += frames as u64;
                buffer.resize(frames * channels, 0.0);
                feed.fill(&mut buffer);
                played
                    .samples
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend_from_slice(&buffer);
            }
        }));
        Ok(())
    }
}

impl Drop for ClockedOutput {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            // The thread only sleeps and copies; a panic there has nothing to report here.
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cubic_curve_halves_to_an_eighth_and_clamps() {
        assert_eq!(volume_gain(1.0), 1.0);
        assert_eq!(volume_gain(0.5), 0.125);
        assert_eq!(volume_gain(0.0), 0.0);
        assert_eq!(volume_gain(2.0), 1.0);
        assert_eq!(volume_gain(f32::NAN), 0.0);
    }

    #[test]
    fn feed_fades_out_on_pause_and_stops_draining() {
        let spec = OutputSpec {
            sample_rate: 1000,
            channels: 1,
        };
        let (mut producer, consumer) = rtrb::RingBuffer::new(100);
        for _ in 0..100 {
            producer.push(1.0).unwrap();
        }
        let control = Arc::new(FeedControl::new());
        control.playing.store(true, Ordering::Release);
        let mut feed = OutputFeed::new(consumer, Arc::clone(&control), spec);
        // Playback starts at full level with no fade-in (only resume fades).
        feed.fade = 1.0;
        let mut buffer = vec![0.0; 20];
        feed.fill(&mut buffer);
        assert!(buffer.iter().all(|&s| s == 1.0));
        control.playing.store(false, Ordering::Release);
        feed.fill(&mut buffer);
        // 10 ms at 1 kHz: ten frames down to silence, then nothing drained.
        assert!((buffer[0] - 0.9).abs() < 1e-6, "{buffer:?}");
        assert_eq!(buffer[9], 0.0);
        assert_eq!(buffer[19], 0.0);
        assert_eq!(control.frames_played.load(Ordering::Acquire), 30);
    }
}

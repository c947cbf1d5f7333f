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

use crossbeam_channel::{Receiver, Sender};
use rtrb::{Consumer, Producer, RingBuffer};

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
/// it is dropped, except while the engine has [suspended](Output::set_running) it. `fill` never
/// blocks, locks or allocates, so it may run on a real-time thread.
pub trait Output: Send {
    /// The frame rate and channel count this output plays.
    fn spec(&self) -> OutputSpec;

    /// Starts pulling audio from `feed`.
    ///
    /// # Errors
    ///
    /// The output cannot be started (for a device, the stream cannot be built or played).
    fn start(&mut self, feed: OutputFeed) -> Result<()>;

    /// Suspends (`false`) or resumes (`true`) pulling from the feed. The engine suspends an
    /// output once it has nothing to play and the feed has faded to silence, so an idle player
    /// keeps no device busy and burns no CPU, and resumes it before it plays again. While
    /// suspended, the output may stop calling [`OutputFeed::fill`] and keep its feed; when
    /// resumed it calls `fill` again with the same feed.
    ///
    /// # Errors
    ///
    /// The output cannot be resumed (for a device, it is gone); the engine reports this as a
    /// device failure.
    fn set_running(&mut self, running: bool) -> Result<()>;
}

/// The control state the engine shares with an output's feed, all atomics.
#[derive(Debug)]
pub(crate) struct FeedControl {
    /// True while the engine is playing; false fades out and then stops draining the ring.
    pub(crate) playing: AtomicBool,
    /// The target gain (volume curve and mute applied), as `f32` bits.
    pub(crate) gain_bits: AtomicU32,
    /// Ring frames the feed has moved past: played, plus those a cut skipped. Frames are
    /// numbered from 0 for the life of the ring, so the engine can name any frame it wrote.
    pub(crate) frames_played: AtomicU64,
    /// The end of the furthest cut the feed has carried out.
    pub(crate) skipped_to: AtomicU64,
    /// True when the feed's last fill ended paused and fully faded out: the output can be
    /// suspended without cutting off sound.
    pub(crate) silent: AtomicBool,
    /// How many times the output has asked for audio: the engine tells a device that hiccups
    /// from one that has stopped by whether this still moves.
    pub(crate) pulls: AtomicU64,
}

impl FeedControl {
    fn new() -> Self {
        FeedControl {
            playing: AtomicBool::new(false),
            gain_bits: AtomicU32::new(1.0f32.to_bits()),
            frames_played: AtomicU64::new(0),
            skipped_to: AtomicU64::new(0),
            silent: AtomicBool::new(true),
            pulls: AtomicU64::new(0),
        }
    }
}

/// A request to the feed: ring frames `at..end` are stale and must not be played. A cut with
/// `at` at or before the feed's position skips at once (a seek or skip drops the ring); one
/// ahead of it plays up to `at` and then jumps to `end` (a queue edit that replaces the track
/// after the one playing, without a gap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cut {
    pub(crate) at: u64,
    pub(crate) end: u64,
}

/// How many cuts the feed keeps apart; more (which only a storm of edits on tracks shorter than
/// the ring could ask for) merge into the last, skipping a little more than asked.
const MAX_CUTS: usize = 8;

/// A device error, as the output reports it to the engine.
#[derive(Clone, Debug)]
pub(crate) struct OutputFailure {
    pub(crate) device: String,
    pub(crate) reason: String,
    /// False for an error the device may get over (an underrun, a backend hiccup).
    pub(crate) lasting: bool,
}

/// Lets an output report that its device failed (unplugged, reconfigured, gone): the engine
/// pauses, holding the position, and sends an error event naming the device and the reason.
///
/// Reporting allocates, so call it from an error callback, never from the real-time one.
#[derive(Clone, Debug)]
pub struct FailureReporter {
    failures: Sender<OutputFailure>,
}

impl FailureReporter {
    /// Reports that `device` stopped working because of `reason`: the engine pauses at once.
    pub fn report(&self, device: &str, reason: &dyn std::fmt::Display) {
        self.send(device, reason, true);
    }

    /// Reports an error `device` may get over: an underrun, or a sound server's answer that
    /// is not ready yet (ALSA's PulseAudio plugin fails `snd_pcm_avail_delay` with EIO until
    /// a new stream has its first timing report). Playback goes on; the engine treats it as
    /// a failure only if the output then stops asking for audio for a while.
    pub fn report_glitch(&self, device: &str, reason: &dyn std::fmt::Display) {
        self.send(device, reason, false);
    }

    fn send(&self, device: &str, reason: &dyn std::fmt::Display, lasting: bool) {
        // A full channel means errors are already waiting to be handled; one more adds
        // nothing, and a disconnected one means the engine is gone.
        let _ = self.failures.try_send(OutputFailure {
            device: device.to_owned(),
            reason: reason.to_string(),
            lasting,
        });
    }
}

/// The engine's end of one output: the ring it writes, the cuts it asks for, the shared
/// control, and the failures the output reports.
pub(crate) struct FeedWriter {
    pub(crate) producer: Producer<f32>,
    pub(crate) cuts: Producer<Cut>,
    pub(crate) control: Arc<FeedControl>,
    pub(crate) failures: Receiver<OutputFailure>,
}

/// A new ring of `ring_frames` frames of `spec`, as the engine's writer and the output's feed.
pub(crate) fn feed_pipeline(spec: OutputSpec, ring_frames: usize) -> (FeedWriter, OutputFeed) {
    let channels = usize::from(spec.channels.max(1));
    let (producer, consumer) = RingBuffer::new(ring_frames * channels);
    // Cuts come one per queue edit or seek; 64 in flight is far more than an output period
    // ever sees, and a full queue only delays a request to the engine's next try.
    let (cut_producer, cut_consumer) = RingBuffer::new(64);
    let (failure_sender, failure_receiver) = crossbeam_channel::bounded(16);
    let control = Arc::new(FeedControl::new());
    let fade_frames = (f64::from(spec.sample_rate) * FADE.as_secs_f64()).max(1.0);
    let feed = OutputFeed {
        consumer,
        cut_requests: cut_consumer,
        cuts: [Cut { at: 0, end: 0 }; MAX_CUTS],
        cut_count: 0,
        gain: f32::from_bits(control.gain_bits.load(Ordering::Relaxed)),
        control: Arc::clone(&control),
        failures: FailureReporter {
            failures: failure_sender,
        },
        channels,
        fade: 0.0,
        step: (1.0 / fade_frames) as f32,
        consumed: 0,
    };
    let writer = FeedWriter {
        producer,
        cuts: cut_producer,
        control,
        failures: failure_receiver,
    };
    (writer, feed)
}

/// The output's end of the engine: drains the ring into the buffers an output plays.
pub struct OutputFeed {
    consumer: Consumer<f32>,
    cut_requests: Consumer<Cut>,
    /// Cuts not yet reached, sorted by `at`, none overlapping; the first `cut_count` are live.
    cuts: [Cut; MAX_CUTS],
    cut_count: usize,
    control: Arc<FeedControl>,
    failures: FailureReporter,
    channels: usize,
    /// The pause/resume fade, 0.0 (silent) to 1.0 (playing).
    fade: f32,
    /// The gain being applied, moving toward the target.
    gain: f32,
    /// How far `fade` and `gain` move per frame: a full swing over [`FADE`].
    step: f32,
    /// Ring frames moved past (played or skipped) since the ring was made.
    consumed: u64,
}

impl std::fmt::Debug for OutputFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputFeed")
            .field("channels", &self.channels)
            .field("fade", &self.fade)
            .field("gain", &self.gain)
            .field("consumed", &self.consumed)
            .finish_non_exhaustive()
    }
}

impl OutputFeed {
    /// A handle for reporting that the device failed, to call from the output's error
    /// callback (see [`FailureReporter`]).
    pub fn failure_reporter(&self) -> FailureReporter {
        self.failures.clone()
    }

    /// Fills `buffer` (interleaved frames) with the next audio, or silence when paused, stopped
    /// or starved.
    ///
    /// Real-time safe: no locks, no allocation, no logging, no I/O.
    pub fn fill(&mut self, buffer: &mut [f32]) {
        self.control.pulls.fetch_add(1, Ordering::Relaxed);
        while let Ok(cut) = self.cut_requests.pop() {
            self.add_cut(cut);
        }
        self.apply_due_cuts();

        let playing = self.control.playing.load(Ordering::Acquire);
        let target_gain = f32::from_bits(self.control.gain_bits.load(Ordering::Relaxed));
        let target_fade = if playing { 1.0 } else { 0.0 };
        for frame in buffer.chunks_exact_mut(self.channels) {
            if self.cut_count > 0 {
                self.apply_due_cuts();
            }
            if !playing && self.fade <= 0.0 {
                frame.fill(0.0);
                continue;
            }
            // Whole frames only, so channels never slip against each other.
            let Ok(chunk) = self.consumer.read_chunk(self.channels) else {
                frame.fill(0.0);
                if !playing {
                    // Starved while fading out (the queue ended): already silent.
                    self.fade = 0.0;
                }
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
            self.consumed += 1;
        }
        let leftover = buffer.len() % self.channels;
        if leftover != 0 {
            let len = buffer.len();
            buffer[len - leftover..].fill(0.0);
        }
        self.control
            .frames_played
            .store(self.consumed, Ordering::Release);
        self.control
            .silent
            .store(!playing && self.fade <= 0.0, Ordering::Release);
    }

    /// Records a cut, merging it with any it overlaps or touches.
    fn add_cut(&mut self, mut cut: Cut) {
        if cut.end <= cut.at {
            return;
        }
        // Take out every live cut the new one overlaps, widening the new one to cover it.
        let mut kept = 0;
        for i in 0..self.cut_count {
            let other = self.cuts[i];
            if other.at <= cut.end && cut.at <= other.end {
                cut.at = cut.at.min(other.at);
                cut.end = cut.end.max(other.end);
            } else {
                self.cuts[kept] = other;
                kept += 1;
            }
        }
        self.cut_count = kept;
        if self.cut_count == MAX_CUTS {
            let last = &mut self.cuts[MAX_CUTS - 1];
            last.at = last.at.min(cut.at);
            last.end = last.end.max(cut.end);
            return;
        }
        let position = self.cuts[..self.cut_count]
            .iter()
            .position(|other| other.at > cut.at)
            .unwrap_or(self.cut_count);
        self.cuts
            .copy_within(position..self.cut_count, position + 1);
        self.cuts[position] = cut;
        self.cut_count += 1;
    }

    /// Skips the stale frames of every cut the feed has reached.
    fn apply_due_cuts(&mut self) {
        while self.cut_count > 0 && self.consumed >= self.cuts[0].at {
            let cut = self.cuts[0];
            let stale = cut.end.saturating_sub(self.consumed);
            let available = (self.consumer.slots() / self.channels) as u64;
            let skip = stale.min(available);
            if skip > 0
                && let Ok(chunk) = self
                    .consumer
                    .read_chunk(usize::try_from(skip).unwrap_or(0) * self.channels)
            {
                chunk.commit_all();
                self.consumed += skip;
            }
            if self.consumed < cut.end {
                // The engine writes a cut's frames before asking for it, so this only happens
                // if the ring was read elsewhere; try again on the next frame.
                return;
            }
            self.cuts.copy_within(1..self.cut_count, 0);
            self.cut_count -= 1;
            self.control
                .skipped_to
                .fetch_max(cut.end, Ordering::Release);
        }
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
/// time: 11 MB a minute at 48 kHz stereo. While the engine has it suspended, its clock stands
/// still and it records nothing, as a paused device stream plays nothing. [`unplug_switch`](Self::unplug_switch) makes it fail
/// the way a device that is pulled out does.
pub struct ClockedOutput {
    spec: OutputSpec,
    period: Duration,
    played: PlayedAudio,
    probe: SoundProbe,
    stop: Arc<AtomicBool>,
    running: Arc<AtomicBool>,
    unplug: UnplugSwitch,
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

/// Tells when a [`ClockedOutput`] first plays a sample that is not silence after being armed:
/// how long playback takes to start, as a listener would hear it.
#[derive(Clone, Debug, Default)]
pub struct SoundProbe {
    armed: Arc<AtomicBool>,
    heard: Arc<Mutex<Option<Instant>>>,
}

impl SoundProbe {
    /// Forgets what was heard and listens for the next sound.
    pub fn arm(&self) {
        *self.heard.lock().unwrap_or_else(PoisonError::into_inner) = None;
        self.armed.store(true, Ordering::Release);
    }

    /// When the output first played sound since [`arm`](Self::arm), if it has.
    pub fn heard(&self) -> Option<Instant> {
        *self.heard.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn listen(&self, buffer: &[f32]) {
        if self.armed.load(Ordering::Acquire) && buffer.iter().any(|&s| s != 0.0) {
            self.armed.store(false, Ordering::Release);
            *self.heard.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        }
    }
}

/// Pulls the plug on a [`ClockedOutput`]: its clock stops, and it reports a device failure
/// with the reason given, as a sound card that disappears does. Or stalls it for a while,
/// reporting glitches, as a sound server that hiccups does.
#[derive(Clone, Debug, Default)]
pub struct UnplugSwitch {
    reason: Arc<Mutex<Option<String>>>,
    pulled: Arc<AtomicBool>,
    stall: Arc<Mutex<Option<(String, Instant)>>>,
}

impl UnplugSwitch {
    /// Stops the output's clock and makes it report `reason` as a device failure.
    pub fn unplug(&self, reason: &str) {
        *self.reason.lock().unwrap_or_else(PoisonError::into_inner) = Some(reason.to_owned());
        self.pulled.store(true, Ordering::Release);
    }

    /// Stops the output's clock for `duration`, reporting `reason` as a glitch (see
    /// [`FailureReporter::report_glitch`]) every period meanwhile; then it plays on.
    pub fn stall(&self, reason: &str, duration: Duration) {
        *self.stall.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((reason.to_owned(), Instant::now() + duration));
    }

    /// The glitch to report now, if the output is stalled; clears a stall that is over.
    fn stalled(&self) -> Option<String> {
        let mut stall = self.stall.lock().unwrap_or_else(PoisonError::into_inner);
        match stall.as_ref() {
            Some((reason, until)) if Instant::now() < *until => Some(reason.clone()),
            _ => {
                *stall = None;
                None
            }
        }
    }
}

impl ClockedOutput {
    /// What a clocked output calls itself in device errors.
    pub const NAME: &'static str = "clocked output";

    /// An output playing `spec`, pulling one buffer every `period` (a sound card's period is
    /// typically 5 to 20 ms).
    pub fn new(spec: OutputSpec, period: Duration) -> Self {
        ClockedOutput {
            spec,
            period: period.max(Duration::from_millis(1)),
            played: PlayedAudio::default(),
            probe: SoundProbe::default(),
            stop: Arc::new(AtomicBool::new(false)),
            running: Arc::new(AtomicBool::new(true)),
            unplug: UnplugSwitch::default(),
            thread: None,
        }
    }

    /// A handle on what this output plays; it stays valid after the output moves into a player.
    pub fn played(&self) -> PlayedAudio {
        self.played.clone()
    }

    /// A probe that tells when this output first plays sound after it is armed; it stays valid
    /// after the output moves into a player.
    pub fn sound_probe(&self) -> SoundProbe {
        self.probe.clone()
    }

    /// A switch that makes this output fail like an unplugged device; it stays valid after the
    /// output moves into a player.
    pub fn unplug_switch(&self) -> UnplugSwitch {
        self.unplug.clone()
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
        let running = Arc::clone(&self.running);
        let unplug = self.unplug.clone();
        let probe = self.probe.clone();
        let reporter = feed.failure_reporter();
        self.thread = Some(thread::spawn(move || {
            let channels = usize::from(spec.channels.max(1));
            let mut started = Instant::now();
            let mut frames_done = 0u64;
            let mut buffer = Vec::new();
            while !stop.load(Ordering::Acquire) {
                thread::sleep(period);
                if !running.load(Ordering::Acquire) {
                    // The clock starts again from the moment it is resumed.
                    started = Instant::now();
                    frames_done = 0;
                    continue;
                }
                if unplug.pulled.load(Ordering::Acquire) {
                    let reason = unplug
                        .reason
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .take()
                        .unwrap_or_default();
                    reporter.report(ClockedOutput::NAME, &reason);
                    return;
                }
                if let Some(reason) = unplug.stalled() {
                    reporter.report_glitch(ClockedOutput::NAME, &reason);
                    // Like a resume, the clock starts again once the stall is over.
                    started = Instant::now();
                    frames_done = 0;
                    continue;
                }
                // Frames due by the clock, so sleep overshoot does not slow playback down.
                let due = (started.elapsed().as_secs_f64() * f64::from(spec.sample_rate)) as u64;
                let frames = usize::try_from(due.saturating_sub(frames_done)).unwrap_or(0);
                frames_done += frames as u64;
                buffer.resize(frames * channels, 0.0);
                feed.fill(&mut buffer);
                probe.listen(&buffer);
                played
                    .samples
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend_from_slice(&buffer);
            }
        }));
        Ok(())
    }

    fn set_running(&mut self, running: bool) -> Result<()> {
        self.running.store(running, Ordering::Release);
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

    fn mono_1khz() -> (FeedWriter, OutputFeed) {
        let spec = OutputSpec {
            sample_rate: 1000,
            channels: 1,
        };
        let (writer, mut feed) = feed_pipeline(spec, 100);
        // Playback starts at full level with no fade-in (only resume fades).
        feed.fade = 1.0;
        writer.control.playing.store(true, Ordering::Release);
        (writer, feed)
    }

    #[test]
    fn feed_fades_out_on_pause_and_stops_draining() {
        let (mut writer, mut feed) = mono_1khz();
        for _ in 0..100 {
            writer.producer.push(1.0).unwrap();
        }
        let mut buffer = vec![0.0; 20];
        feed.fill(&mut buffer);
        assert!(buffer.iter().all(|&s| s == 1.0));
        writer.control.playing.store(false, Ordering::Release);
        feed.fill(&mut buffer);
        // 10 ms at 1 kHz: ten frames down to silence, then nothing drained.
        assert!((buffer[0] - 0.9).abs() < 1e-6, "{buffer:?}");
        assert_eq!(buffer[9], 0.0);
        assert_eq!(buffer[19], 0.0);
        assert_eq!(writer.control.frames_played.load(Ordering::Acquire), 30);
        assert!(writer.control.silent.load(Ordering::Acquire));
    }

    #[test]
    fn feed_is_not_silent_until_the_fade_out_ends() {
        let (mut writer, mut feed) = mono_1khz();
        for _ in 0..100 {
            writer.producer.push(1.0).unwrap();
        }
        let mut buffer = vec![0.0; 5];
        feed.fill(&mut buffer);
        assert!(!writer.control.silent.load(Ordering::Acquire));
        writer.control.playing.store(false, Ordering::Release);
        // Half of the 10-frame fade: still sounding.
        feed.fill(&mut buffer);
        assert!(!writer.control.silent.load(Ordering::Acquire));
        feed.fill(&mut buffer);
        assert!(writer.control.silent.load(Ordering::Acquire));
    }

    #[test]
    fn a_cut_plays_up_to_its_start_then_jumps_to_its_end() {
        let (mut writer, mut feed) = mono_1khz();
        for i in 0..60 {
            writer.producer.push(i as f32).unwrap();
        }
        // Frames 10..40 are stale; an immediate cut of nothing, and overlapping requests that
        // merge into that one range.
        writer.cuts.push(Cut { at: 10, end: 25 }).unwrap();
        writer.cuts.push(Cut { at: 20, end: 40 }).unwrap();
        writer.cuts.push(Cut { at: 0, end: 0 }).unwrap();
        let mut buffer = vec![0.0; 20];
        feed.fill(&mut buffer);
        let expected: Vec<f32> = (0..10).chain(40..50).map(|i| i as f32).collect();
        assert_eq!(buffer, expected);
        assert_eq!(writer.control.frames_played.load(Ordering::Acquire), 50);
        assert_eq!(writer.control.skipped_to.load(Ordering::Acquire), 40);

        // A cut the feed has already passed skips at once, even while paused.
        writer.control.playing.store(false, Ordering::Release);
        writer.cuts.push(Cut { at: 0, end: 55 }).unwrap();
        feed.fill(&mut []);
        assert_eq!(writer.control.frames_played.load(Ordering::Acquire), 55);
    }
}

//! The playback engine as an actor: [`Player`] sends [`PlayerCmd`]s to an engine thread that
//! decodes the queue into a lock-free ring, and subscribers receive [`PlayerEvent`]s.
//!
//! **Architecture Invariant:** the output side ([`OutputFeed::fill`]) never locks, allocates,
//! logs or does I/O. Everything else (opening, decoding, resampling, queue logic, events) runs on
//! the engine thread, which talks to the feed through the ring and a few atomics.
//!
//! The engine thread is also the decode thread: between commands it tops the ring up, one
//! decoded block at a time, so a command waits at most one block's decode (well under a
//! millisecond for every format here) and no second thread has to be coordinated.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};
use rtrb::{Producer, RingBuffer};
use tracing::{debug, warn};

use crate::conform::Conformer;
use crate::decode::Decoder;
use crate::error::{Error, Result};
use crate::output::{FeedControl, Output, OutputFeed, volume_gain};
use crate::sink::OutputSpec;
use crate::source::Source;

/// How much audio the ring holds. The ring only has to ride out decode hiccups: pause fades in
/// the feed and seek/skip flush the ring, so its length adds no control latency.
const RING: Duration = Duration::from_millis(250);

/// How often a playing engine reports its position: 10 Hz, above the 4 Hz a seek bar needs.
const POSITION_INTERVAL: Duration = Duration::from_millis(100);

/// How long the engine idles between checks when the ring is full or nothing is playing.
const IDLE: Duration = Duration::from_millis(5);

/// How long to wait for the output to drop the ring's contents after a seek or skip. A running
/// output answers within one period; one that does not (a dead device) is not waited for.
const FLUSH_TIMEOUT: Duration = Duration::from_millis(250);

/// "Previous" restarts the current track instead once it has played this long.
const RESTART_THRESHOLD: Duration = Duration::from_secs(3);

/// How many events a subscriber may fall behind before events to it are dropped.
const SUBSCRIBER_BACKLOG: usize = 1024;

/// A command to the engine.
#[derive(Debug)]
#[non_exhaustive]
pub enum PlayerCmd {
    /// Replaces the queue and stops; `Play` starts its first track.
    Load(Vec<Source>),
    /// Starts the current track when stopped; resumes when paused.
    Play,
    /// Fades out (~10 ms) and holds the position.
    Pause,
    /// Fades back in from where playback paused.
    Resume,
    /// Stops playback; `Play` restarts the current track from its start.
    Stop,
    /// Skips to the next track; past the last one, the queue ends.
    Next,
    /// Restarts the current track if it has played more than 3 s, else goes to the previous one.
    Previous,
    /// Moves to this position in the current track.
    Seek(Duration),
    /// Sets the volume, 0.0 to 1.0, on the cubic curve of [`volume_gain`].
    SetVolume(f32),
    /// Mutes (true) or unmutes without losing the volume.
    SetMute(bool),
}

/// What a player is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaybackState {
    /// Nothing is playing.
    Stopped,
    /// A track is playing.
    Playing,
    /// A track is paused.
    Paused,
}

/// Something a subscriber is told. Tracks are named by their index in the loaded queue and by
/// their source's name.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum PlayerEvent {
    /// The playback state changed.
    StateChanged(PlaybackState),
    /// A track's first frame reached the output.
    TrackStarted {
        /// The track's index in the queue.
        index: usize,
        /// Its source's path or label.
        name: String,
    },
    /// The position in the playing track, sent several times a second while playing.
    Position {
        /// The track's index in the queue.
        index: usize,
        /// Time from the start of the track to the frame the output is playing.
        position: Duration,
    },
    /// A track played to its end, or was skipped.
    TrackEnded {
        /// The track's index in the queue.
        index: usize,
        /// Its source's path or label.
        name: String,
    },
    /// Something failed. A track that cannot be opened or decoded is skipped after this.
    Error {
        /// The track it concerns, if any (a device failure concerns none).
        index: Option<usize>,
        /// What went wrong; its message names the source.
        error: Arc<Error>,
    },
    /// The last track of the queue ended (or was skipped).
    QueueEnded,
}

/// What the engine thread receives: commands, and the plumbing the handle needs.
enum Message {
    Command(PlayerCmd),
    Subscribe(Sender<PlayerEvent>),
    Shutdown,
}

/// A handle on a running playback engine.
///
/// Dropping it stops the engine thread and then the output.
pub struct Player {
    messages: Sender<Message>,
    thread: Option<JoinHandle<()>>,
    spec: OutputSpec,
    /// Kept alive for as long as the engine runs: dropping a device output closes its stream.
    _output: Box<dyn Output>,
}

impl std::fmt::Debug for Player {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Player")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

impl Player {
    /// Starts `output` and an engine thread feeding it. Nothing plays until a queue is loaded
    /// and [`PlayerCmd::Play`] is sent.
    ///
    /// # Errors
    ///
    /// What [`Output::start`] reports (for a device, [`Error::Device`]).
    pub fn spawn(output: impl Output + 'static) -> Result<Self> {
        let mut output: Box<dyn Output> = Box::new(output);
        let spec = output.spec();
        if spec.sample_rate == 0 || spec.channels == 0 {
            return Err(Error::UnplayableSignal {
                source_name: "output".to_owned(),
                reason: "a zero sample rate or channel count",
            });
        }
        let channels = usize::from(spec.channels);
        let ring_frames = (f64::from(spec.sample_rate) * RING.as_secs_f64()).ceil() as usize;
        let (producer, consumer) = RingBuffer::new(ring_frames * channels);
        let control = Arc::new(FeedControl::new());
        output.start(OutputFeed::new(consumer, Arc::clone(&control), spec))?;

        let (messages, inbox) = crossbeam_channel::unbounded();
        let mut engine = Engine::new(spec, producer, control);
        let thread = thread::Builder::new()
            .name("skylark-engine".to_owned())
            .spawn(move || engine.run(&inbox))
            .map_err(|source| Error::Io {
                source_name: "engine thread".to_owned(),
                source,
            })?;
        Ok(Player {
            messages,
            thread: Some(thread),
            spec,
            _output: output,
        })
    }

    /// The format the output plays.
    pub fn spec(&self) -> OutputSpec {
        self.spec
    }

    /// Sends a command; it is carried out in order with earlier ones.
    ///
    /// # Errors
    ///
    /// [`Error::EngineStopped`] if the engine thread has ended.
    pub fn send(&self, command: PlayerCmd) -> Result<()> {
        self.messages
            .send(Message::Command(command))
            .map_err(|_| Error::EngineStopped)
    }

    /// A new stream of events, from the next command on. A subscriber that falls more than
    /// 1024 events behind misses events until it catches up.
    ///
    /// # Errors
    ///
    /// [`Error::EngineStopped`] if the engine thread has ended.
    pub fn subscribe(&self) -> Result<Receiver<PlayerEvent>> {
        let (sender, receiver) = crossbeam_channel::bounded(SUBSCRIBER_BACKLOG);
        self.messages
            .send(Message::Subscribe(sender))
            .map_err(|_| Error::EngineStopped)?;
        Ok(receiver)
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        // If the thread is already gone the message has nowhere to go, which is fine.
        let _ = self.messages.send(Message::Shutdown);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            warn!("the engine thread panicked");
        }
    }
}

/// One entry of the loaded queue.
struct QueueEntry {
    name: String,
    /// The source; a stream source is taken when first opened (it cannot be read twice),
    /// a path is opened afresh each time.
    source: Option<Source>,
}

impl QueueEntry {
    fn open(&mut self) -> Result<Decoder> {
        match self.source.take() {
            Some(Source::Path(path)) => {
                self.source = Some(Source::Path(path.clone()));
                Decoder::open(Source::Path(path))
            }
            Some(stream) => Decoder::open(stream),
            None => Err(Error::SourceConsumed {
                source_name: self.name.clone(),
            }),
        }
    }
}

/// Where a track starts in the stream of frames pushed into the ring since the last flush.
///
/// When the output rate differs from the track's, the resampler holds back up to one chunk
/// (1024 input frames) across a join, so a start is reported up to ~23 ms early; the audio itself
/// is unaffected.
struct TrackMark {
    index: usize,
    at_frame: u64,
    /// The track position of its first frame (non-zero after a seek).
    offset: Duration,
    /// Whether `TrackStarted` has been sent for it.
    started: bool,
}

/// The track being decoded: the one playing, or the next one, opened ahead for a gapless join.
struct Decoding {
    index: usize,
    decoder: Decoder,
}

struct Engine {
    spec: OutputSpec,
    producer: Producer<f32>,
    control: Arc<FeedControl>,
    conformer: Conformer,
    subscribers: Vec<Sender<PlayerEvent>>,
    queue: Vec<QueueEntry>,
    /// The track `Play` starts from when stopped.
    cursor: usize,
    state: PlaybackState,
    volume: f32,
    muted: bool,
    decoding: Option<Decoding>,
    /// Conformed samples not yet in the ring, from `pending_at` on.
    pending: Vec<f32>,
    pending_at: usize,
    frames_pushed: u64,
    /// Every track has been decoded and the resampler drained: what is pending is the last.
    input_done: bool,
    /// Track starts in the ring, oldest first; the front one is playing once it has started.
    marks: VecDeque<TrackMark>,
    flushes: u64,
    last_position: Option<Instant>,
}

impl Engine {
    fn new(spec: OutputSpec, producer: Producer<f32>, control: Arc<FeedControl>) -> Self {
        Engine {
            spec,
            producer,
            control,
            conformer: Conformer::new(spec),
            subscribers: Vec::new(),
            queue: Vec::new(),
            cursor: 0,
            state: PlaybackState::Stopped,
            volume: 1.0,
            muted: false,
            decoding: None,
            pending: Vec::new(),
            pending_at: 0,
            frames_pushed: 0,
            input_done: true,
            marks: VecDeque::new(),
            flushes: 0,
            last_position: None,
        }
    }

    fn run(&mut self, inbox: &Receiver<Message>) {
        loop {
            let wait = if self.wants_audio() {
                Duration::ZERO
            } else {
                IDLE
            };
            let mut message = match inbox.recv_timeout(wait) {
                Ok(message) => Some(message),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            while let Some(next) = message {
                match next {
                    Message::Command(command) => self.handle(command),
                    Message::Subscribe(subscriber) => self.subscribers.push(subscriber),
                    Message::Shutdown => return,
                }
                message = inbox.try_recv().ok();
            }
            self.fill_ring();
            self.report(Instant::now());
        }
    }

    /// True when there is decoding to do and room for at least a quarter ring of it, so the
    /// loop does not spin topping up a few frames at a time.
    fn wants_audio(&self) -> bool {
        self.state != PlaybackState::Stopped
            && !(self.input_done && self.pending_at >= self.pending.len())
            && self.producer.slots() >= self.producer.buffer().capacity() / 4
    }

    fn emit(&mut self, event: PlayerEvent) {
        debug!(?event, "player event");
        self.subscribers
            .retain(|subscriber| match subscriber.try_send(event.clone()) {
                Ok(()) | Err(TrySendError::Full(_)) => true,
                Err(TrySendError::Disconnected(_)) => false,
            });
    }

    fn set_state(&mut self, state: PlaybackState) {
        self.control
            .playing
            .store(state == PlaybackState::Playing, Ordering::Release);
        if self.state != state {
            self.state = state;
            self.emit(PlayerEvent::StateChanged(state));
        }
    }

    fn apply_gain(&self) {
        let gain = if self.muted {
            0.0
        } else {
            volume_gain(self.volume)
        };
        self.control
            .gain_bits
            .store(gain.to_bits(), Ordering::Release);
    }

    fn handle(&mut self, command: PlayerCmd) {
        debug!(?command, "player command");
        match command {
            PlayerCmd::Load(sources) => {
                self.halt();
                self.queue = sources
                    .into_iter()
                    .map(|source| QueueEntry {
                        name: source.name(),
                        source: Some(source),
                    })
                    .collect();
                self.cursor = 0;
            }
            PlayerCmd::Play => match self.state {
                PlaybackState::Stopped => {
                    self.jump(self.cursor, Duration::ZERO, PlaybackState::Playing)
                }
                PlaybackState::Paused => self.set_state(PlaybackState::Playing),
                PlaybackState::Playing => {}
            },
            PlayerCmd::Pause => {
                if self.state == PlaybackState::Playing {
                    self.set_state(PlaybackState::Paused);
                }
            }
            PlayerCmd::Resume => {
                if self.state == PlaybackState::Paused {
                    self.set_state(PlaybackState::Playing);
                }
            }
            PlayerCmd::Stop => {
                self.cursor = self.current_index();
                self.halt();
            }
            PlayerCmd::Next => {
                let current = self.current_index();
                if self.state == PlaybackState::Stopped {
                    self.cursor = (current + 1).min(self.queue.len().saturating_sub(1));
                    return;
                }
                self.end_current();
                if current + 1 < self.queue.len() {
                    self.jump(current + 1, Duration::ZERO, self.state);
                } else {
                    self.halt();
                    self.emit(PlayerEvent::QueueEnded);
                }
            }
            PlayerCmd::Previous => {
                let current = self.current_index();
                if self.state == PlaybackState::Stopped {
                    self.cursor = current.saturating_sub(1);
                    return;
                }
                if self.position().is_some_and(|p| p > RESTART_THRESHOLD) || current == 0 {
                    self.seek(Duration::ZERO);
                } else {
                    self.end_current();
                    self.jump(current - 1, Duration::ZERO, self.state);
                }
            }
            PlayerCmd::Seek(position) => {
                if self.state != PlaybackState::Stopped {
                    self.seek(position);
                }
            }
            PlayerCmd::SetVolume(volume) => {
                self.volume = volume;
                self.apply_gain();
            }
            PlayerCmd::SetMute(muted) => {
                self.muted = muted;
                self.apply_gain();
            }
        }
    }

    /// The track playing (or about to), else the one `Play` would start.
    fn current_index(&self) -> usize {
        self.marks
            .front()
            .map(|mark| mark.index)
            .or_else(|| self.decoding.as_ref().map(|d| d.index))
            .unwrap_or(self.cursor)
    }

    /// The position in the playing track, from the frames the output has played.
    fn position(&self) -> Option<Duration> {
        let mark = self.marks.front().filter(|mark| mark.started)?;
        let played = self.control.frames_played.load(Ordering::Acquire);
        let frames = played.saturating_sub(mark.at_frame);
        Some(mark.offset + frames_to_duration(frames, self.spec.sample_rate))
    }

    /// Sends `TrackEnded` for the playing track, which is being left before its end.
    fn end_current(&mut self) {
        if let Some(mark) = self.marks.pop_front().filter(|mark| mark.started) {
            let name = self.queue[mark.index].name.clone();
            self.emit(PlayerEvent::TrackEnded {
                index: mark.index,
                name,
            });
        }
    }

    /// Stops playback and empties the pipeline; the queue and cursor stay.
    fn halt(&mut self) {
        self.set_state(PlaybackState::Stopped);
        self.flush();
        self.decoding = None;
        self.input_done = true;
    }

    /// Empties the ring, the pending samples and the resampler: the stream is about to jump.
    fn flush(&mut self) {
        self.flushes += 1;
        self.control
            .flush_requested
            .store(self.flushes, Ordering::Release);
        let deadline = Instant::now() + FLUSH_TIMEOUT;
        while self.control.flush_done.load(Ordering::Acquire) != self.flushes {
            if Instant::now() >= deadline {
                warn!("the output did not drain the ring; positions may be off");
                break;
            }
            thread::sleep(Duration::from_millis(1));
        }
        self.frames_pushed = 0;
        self.pending.clear();
        self.pending_at = 0;
        self.conformer.discard();
        self.marks.clear();
        self.last_position = None;
    }

    /// Moves within the playing track, reusing its decoder when it is still the one decoding.
    fn seek(&mut self, position: Duration) {
        let current = self.current_index();
        let state = self.state;
        self.jump_announced(current, position, state, false);
    }

    /// Starts track `index` at `offset`, in `state`, announcing it with `TrackStarted`.
    fn jump(&mut self, index: usize, offset: Duration, state: PlaybackState) {
        self.jump_announced(index, offset, state, true);
    }

    fn jump_announced(
        &mut self,
        index: usize,
        offset: Duration,
        state: PlaybackState,
        announce: bool,
    ) {
        let reusable = self.decoding.take().filter(|d| d.index == index);
        self.flush();
        self.input_done = false;
        // A decoder reused from the stream has moved on, so it always seeks, if only to 0.
        let reused = reusable.is_some();
        let decoder = match reusable {
            Some(decoding) => Some(decoding.decoder),
            None => self.open_entry(index),
        };
        let Some(mut decoder) = decoder else {
            // It could not be opened; the error is out, and playback goes on from the next one.
            self.set_state(state);
            self.open_from(index + 1);
            return;
        };
        if (reused || !offset.is_zero())
            && let Err(error) = decoder.seek(offset)
        {
            self.emit(PlayerEvent::Error {
                index: Some(index),
                error: Arc::new(error),
            });
            self.set_state(state);
            self.open_from(index + 1);
            return;
        }
        self.marks.push_back(TrackMark {
            index,
            at_frame: 0,
            offset,
            started: !announce,
        });
        self.decoding = Some(Decoding { index, decoder });
        self.set_state(state);
    }

    fn open_entry(&mut self, index: usize) -> Option<Decoder> {
        let entry = self.queue.get_mut(index)?;
        match entry.open() {
            Ok(decoder) => Some(decoder),
            Err(error) => {
                warn!(%error, "cannot open a queued track; skipping it");
                self.emit(PlayerEvent::Error {
                    index: Some(index),
                    error: Arc::new(error),
                });
                None
            }
        }
    }

    /// Opens the first track from `index` on that opens, appending it to the stream; past the
    /// end of the queue, drains the resampler and marks the input done.
    fn open_from(&mut self, mut index: usize) {
        while index < self.queue.len() {
            if let Some(decoder) = self.open_entry(index) {
                self.marks.push_back(TrackMark {
                    index,
                    at_frame: self.frames_pushed + self.pending_frames(),
                    offset: Duration::ZERO,
                    started: false,
                });
                self.decoding = Some(Decoding { index, decoder });
                return;
            }
            index += 1;
        }
        if let Err(error) = self.conformer.flush(&mut self.pending) {
            self.emit(PlayerEvent::Error {
                index: None,
                error: Arc::new(error),
            });
        }
        self.input_done = true;
    }

    fn pending_frames(&self) -> u64 {
        ((self.pending.len() - self.pending_at) / usize::from(self.spec.channels)) as u64
    }

    /// Decodes into the ring until it is full or the queue is decoded.
    fn fill_ring(&mut self) {
        if self.state == PlaybackState::Stopped {
            return;
        }
        let channels = usize::from(self.spec.channels);
        loop {
            if self.pending_at < self.pending.len() {
                let room = self.producer.slots() / channels * channels;
                let count = room.min(self.pending.len() - self.pending_at);
                if count == 0 {
                    return;
                }
                if let Ok(mut chunk) = self.producer.write_chunk(count) {
                    let source = &self.pending[self.pending_at..self.pending_at + count];
                    let (first, second) = chunk.as_mut_slices();
                    let split = first.len();
                    first.copy_from_slice(&source[..split]);
                    second.copy_from_slice(&source[split..]);
                    chunk.commit_all();
                }
                self.pending_at += count;
                self.frames_pushed += (count / channels) as u64;
                continue;
            }
            self.pending.clear();
            self.pending_at = 0;
            if self.input_done {
                return;
            }
            self.decode_some();
        }
    }

    /// Decodes one block of the current track into `pending`, or moves to the next track.
    fn decode_some(&mut self) {
        let Some(decoding) = self.decoding.as_mut() else {
            self.open_from(self.queue.len());
            return;
        };
        let index = decoding.index;
        let result = match decoding.decoder.next_block() {
            Ok(Some(block)) => self
                .conformer
                .push(
                    block.sample_rate,
                    block.channels,
                    block.samples,
                    &mut self.pending,
                )
                .map(|()| true),
            Ok(None) => Ok(false),
            Err(error) => Err(error),
        };
        match result {
            Ok(true) => {}
            Ok(false) => {
                // The next track opens now, while the ring still holds the end of this one.
                self.decoding = None;
                self.open_from(index + 1);
            }
            Err(error) => {
                warn!(%error, "a queued track failed; moving on");
                self.emit(PlayerEvent::Error {
                    index: Some(index),
                    error: Arc::new(error),
                });
                self.decoding = None;
                self.open_from(index + 1);
            }
        }
    }

    /// Sends the events the output's progress calls for: starts, ends, position, queue end.
    fn report(&mut self, now: Instant) {
        if self.control.device_failed.swap(false, Ordering::AcqRel) {
            warn!("the audio device failed; pausing");
            self.emit(PlayerEvent::Error {
                index: None,
                error: Arc::new(Error::DeviceFailed),
            });
            if self.state == PlaybackState::Playing {
                self.set_state(PlaybackState::Paused);
            }
        }
        if self.state == PlaybackState::Stopped {
            return;
        }
        let played = self.control.frames_played.load(Ordering::Acquire);
        while let Some(front) = self.marks.front_mut() {
            if !front.started && played >= front.at_frame {
                front.started = true;
                let index = front.index;
                let name = self.queue[index].name.clone();
                self.emit(PlayerEvent::TrackStarted { index, name });
                continue;
            }
            if self
                .marks
                .get(1)
                .is_some_and(|next| played >= next.at_frame)
            {
                self.end_current();
                continue;
            }
            break;
        }
        let drained = self.input_done
            && self.pending_at >= self.pending.len()
            && played >= self.frames_pushed;
        if drained && self.state == PlaybackState::Playing {
            self.end_current();
            self.cursor = 0;
            self.halt();
            self.emit(PlayerEvent::QueueEnded);
            return;
        }
        if self.state == PlaybackState::Playing
            && self
                .last_position
                .is_none_or(|last| now.duration_since(last) >= POSITION_INTERVAL)
            && let Some(position) = self.position()
        {
            let index = self.current_index();
            self.last_position = Some(now);
            self.emit(PlayerEvent::Position { index, position });
        }
    }
}

fn frames_to_duration(frames: u64, rate: u32) -> Duration {
    let rate = u64::from(rate.max(1));
    Duration::from_secs(frames / rate)
        + Duration::from_nanos((frames % rate) * 1_000_000_000 / rate)
}

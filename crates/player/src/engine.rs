//! The playback engine as an actor: [`Player`] sends [`PlayerCmd`]s to an engine thread that
//! keeps the queue and feeds a lock-free ring, and subscribers receive [`PlayerEvent`]s.
//!
//! **Architecture Invariant:** the output side ([`OutputFeed::fill`]) never locks, allocates,
//! logs or does I/O. Everything else (queue logic, conforming, gain, events) runs on the engine
//! thread, and opening and decoding run on one worker thread per track; the engine talks to the
//! feed through the ring, a queue of cuts and a few atomics.
//!
//! ## The stream
//!
//! The engine writes one continuous stream of frames into the ring. Ring frames are numbered
//! from 0 for the life of an output; [`TrackMark`]s say at which frame each track starts. When
//! a track's input ends, the engine checkpoints the conformer and joins the next track straight
//! on (gapless), so the ring may already hold the start of the next track. A queue edit that
//! changes what follows the playing track rewinds the conformer to that checkpoint and asks the
//! feed to *cut* the stale frames when it reaches them: the new next track then joins exactly
//! where the old one would have, through the same resampler state, with no gap. A seek or a skip
//! is a cut that starts at once.
//!
//! **Architecture Invariant:** the queue's current item is the track the front mark names: the
//! one playing (or paused, or about to start).

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Select, Sender, TrySendError};
use tracing::{debug, warn};

use crate::conform::{Conformer, ConformerCheckpoint};
use crate::decode::Decoder;
use crate::error::{Error, Result};
use crate::output::{Cut, FeedWriter, Output, feed_pipeline, volume_gain};
use crate::queue::{ItemId, Queue, QueueSnapshot, Removed, Repeat};
use crate::replaygain::{GainInfo, ReplayGain};
use crate::sink::OutputSpec;
use crate::source::Source;
use crate::worker::{DecodeWorker, Polled, WorkerOutput};

/// How much audio the ring holds. The ring only has to ride out decode hiccups: pause fades in
/// the feed and seek/skip cut the ring, so its length adds no control latency.
const RING: Duration = Duration::from_millis(250);

/// How often a playing engine reports its position: 10 Hz, above the 4 Hz a seek bar needs.
const POSITION_INTERVAL: Duration = Duration::from_millis(100);

/// The longest the engine idles between checks of the output's progress: the jitter of track
/// start/end events and position reports. It sleeps less when the ring will want topping up,
/// or a track will start, sooner.
const IDLE: Duration = Duration::from_millis(20);

/// How long the engine idles while its output is suspended: only a command changes anything,
/// and one wakes it at once.
const SUSPENDED_IDLE: Duration = Duration::from_secs(1);

/// The shortest idle: below this, waking costs more than it gains.
const MIN_IDLE: Duration = Duration::from_millis(1);

/// How long the engine idles while the feed has a cut to carry out: the ring is full of stale
/// frames until it does, and the new audio should follow within a millisecond of it.
const CUT_POLL: Duration = Duration::from_millis(1);

/// "Previous" restarts the current track instead once it has played this long.
const RESTART_THRESHOLD: Duration = Duration::from_secs(3);

/// A source that has given nothing for this long while the ring runs low is reported as
/// buffering.
const STALL: Duration = Duration::from_millis(200);

/// How long an output that has reported a glitch may go without asking for audio before the
/// engine gives up on it as failed. A sound server's hiccup is over in milliseconds.
const DEVICE_STALL: Duration = Duration::from_secs(2);

/// How often the engine looks at an output it is watching after a glitch.
const GLITCH_POLL: Duration = Duration::from_millis(100);

/// How long a ReplayGain change takes to ramp in, so a gain step does not click.
const GAIN_RAMP: Duration = Duration::from_millis(10);

/// How long to wait for a one-time stream's decoder to come back from its decode thread before
/// playing it again.
const RETURN_WAIT: Duration = Duration::from_millis(500);

/// How many events a subscriber may fall behind before events to it are dropped.
const SUBSCRIBER_BACKLOG: usize = 1024;

/// A command to the engine.
#[derive(Debug)]
#[non_exhaustive]
pub enum PlayerCmd {
    /// Replaces the queue and stops; `Play` starts its first track. The same as `LoadAt` with
    /// `start: 0, play: false`.
    Load(Vec<Source>),
    /// Replaces the queue with `sources`, the one at index `start` current (clamped to the
    /// last), and plays it at once if `play`. With shuffle on, `start` plays first and the rest
    /// are shuffled after it.
    LoadAt {
        /// The new queue, in order.
        sources: Vec<Source>,
        /// The index in `sources` of the item to make current.
        start: usize,
        /// Start playing it now (else the player stops, ready to play it).
        play: bool,
    },
    /// Queues `sources` right after the current item.
    PlayNext(Vec<Source>),
    /// Queues `sources` at the end.
    Append(Vec<Source>),
    /// Removes items. Removing the playing item moves on to the one after it.
    Remove(Vec<ItemId>),
    /// Moves an item to index `to` of the play order (the order of
    /// [`QueueSnapshot::items`], as it is after the move; clamped to the end).
    Move {
        /// The item to move.
        item: ItemId,
        /// Its index in the play order afterwards.
        to: usize,
    },
    /// Drops every item after the current one.
    ClearUpcoming,
    /// Plays this item now, from its start.
    JumpTo(ItemId),
    /// Starts the current track when stopped; resumes when paused.
    Play,
    /// Fades out (~10 ms) and holds the position.
    Pause,
    /// Fades back in from where playback paused.
    Resume,
    /// Stops playback; `Play` restarts the current track from its start.
    Stop,
    /// Skips to the next track; past the last one, the queue ends (or, repeating, starts over).
    Next,
    /// Restarts the current track if it has played more than 3 s, else goes to the previous one.
    Previous,
    /// Moves to this position in the current track. When stopped, `Play` starts there.
    Seek(Duration),
    /// Sets the volume, 0.0 to 1.0, on the cubic curve of [`volume_gain`].
    SetVolume(f32),
    /// Mutes (true) or unmutes without losing the volume.
    SetMute(bool),
    /// Turns shuffle on (what is still to come is shuffled, and every track plays once before
    /// any repeats) or off (back to the original order, going on after the current item).
    SetShuffle(bool),
    /// Sets the repeat mode; repeat-all reshuffles each cycle when shuffle is on.
    SetRepeat(Repeat),
    /// Sets the ReplayGain mode, pre-amp and clipping prevention. It takes effect on the
    /// playing track within the ring's length (a quarter second), ramped over 10 ms.
    SetReplayGain(ReplayGain),
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

/// Something a subscriber is told. Tracks are named by their queue item's id, the caller's key
/// for it, and their source's name.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum PlayerEvent {
    /// The playback state changed.
    StateChanged(PlaybackState),
    /// A track's first frame reached the output.
    TrackStarted {
        /// The queue item.
        id: ItemId,
        /// The caller's key for it.
        key: Option<i64>,
        /// Its source's path or label.
        name: String,
    },
    /// The position in the playing track, sent ten times a second while playing (and once
    /// after a seek while stopped).
    Position {
        /// The queue item.
        id: ItemId,
        /// The caller's key for it.
        key: Option<i64>,
        /// Time from the start of the track to the frame the output is playing.
        position: Duration,
    },
    /// A track played to its end, or was left (skipped, removed, stopped by a new queue).
    TrackEnded {
        /// The queue item.
        id: ItemId,
        /// The caller's key for it.
        key: Option<i64>,
        /// Its source's path or label.
        name: String,
    },
    /// A source's reads stalled while the ring ran low (`true`: the output plays silence and
    /// the position holds), or data flows again (`false`).
    Buffering {
        /// The queue item whose source stalled.
        id: ItemId,
        /// Whether playback is waiting for it.
        buffering: bool,
    },
    /// The queue changed (an edit, shuffle or repeat) or its current item did.
    QueueChanged(QueueSnapshot),
    /// Something failed. A track that cannot be opened or decoded is skipped after this; a
    /// failed device pauses playback.
    Error {
        /// The queue item it concerns, if any (a device failure concerns none).
        id: Option<ItemId>,
        /// The caller's key for that item.
        key: Option<i64>,
        /// What went wrong; its message names the source or device.
        error: Arc<Error>,
    },
    /// The last track of the queue ended (or was skipped).
    QueueEnded,
}

/// What the engine thread receives: commands, and the plumbing the handle needs.
enum Message {
    Command(PlayerCmd),
    Subscribe(Sender<PlayerEvent>),
    SetOutput {
        spec: OutputSpec,
        writer: FeedWriter,
        output: Box<dyn Output>,
    },
    Shutdown,
}

/// A handle on a running playback engine.
///
/// Dropping it stops the engine thread and then the output.
pub struct Player {
    messages: Sender<Message>,
    thread: Option<JoinHandle<()>>,
    /// The format of the output in use (which the engine thread owns).
    spec: Mutex<OutputSpec>,
}

impl std::fmt::Debug for Player {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Player")
            .field("spec", &self.spec())
            .finish_non_exhaustive()
    }
}

/// Checks an output's format and starts it on a fresh ring.
fn start_output(output: &mut dyn Output) -> Result<(OutputSpec, FeedWriter)> {
    let spec = output.spec();
    if spec.sample_rate == 0 || spec.channels == 0 {
        return Err(Error::UnplayableSignal {
            source_name: "output".to_owned(),
            reason: "a zero sample rate or channel count",
        });
    }
    let (writer, feed) = feed_pipeline(spec, ring_frames(spec));
    output.start(feed)?;
    Ok((spec, writer))
}

fn ring_frames(spec: OutputSpec) -> usize {
    (f64::from(spec.sample_rate) * RING.as_secs_f64()).ceil() as usize
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
        let (spec, writer) = start_output(output.as_mut())?;
        let (messages, inbox) = crossbeam_channel::unbounded();
        let seed = shuffle_seed();
        let thread = thread::Builder::new()
            .name("skylark-engine".to_owned())
            .spawn(move || Engine::new(spec, writer, output, seed).run(&inbox))
            .map_err(|source| Error::Io {
                source_name: "engine thread".to_owned(),
                source,
            })?;
        Ok(Player {
            messages,
            thread: Some(thread),
            spec: Mutex::new(spec),
        })
    }

    /// The format the output plays.
    pub fn spec(&self) -> OutputSpec {
        *self.spec.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Plays through `output` from now on: after the device failed, or to move to another
    /// device. The current track carries on from where it was on the old output (at the held
    /// position after a failure), in the same state: a paused player stays paused until
    /// [`PlayerCmd::Resume`]. The old output is dropped.
    ///
    /// # Errors
    ///
    /// What [`Output::start`] reports (the old output then stays in use), or
    /// [`Error::EngineStopped`].
    pub fn set_output(&self, output: impl Output + 'static) -> Result<()> {
        let mut output: Box<dyn Output> = Box::new(output);
        let (spec, writer) = start_output(output.as_mut())?;
        self.messages
            .send(Message::SetOutput {
                spec,
                writer,
                output,
            })
            .map_err(|_| Error::EngineStopped)?;
        *self.spec.lock().unwrap_or_else(PoisonError::into_inner) = spec;
        Ok(())
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

/// A seed for shuffling that differs between runs, from the standard library's per-process
/// random hasher keys (no clock, no extra dependency).
fn shuffle_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

/// The conformer's state at the end of a track's input, and the ring frame it was at: where
/// the stream is rewound to when what follows that track changes.
#[derive(Clone, Debug)]
struct Join {
    checkpoint: ConformerCheckpoint,
    /// The ring frame of the checkpoint's first unproduced frame.
    ring_frame: u64,
}

/// Where a track starts in the stream of frames written into the ring.
struct TrackMark {
    id: ItemId,
    key: Option<i64>,
    name: String,
    /// The ring frame of its first frame: exact, also across a resampled join.
    at_frame: u64,
    /// The track position of its first frame (non-zero after a seek).
    offset: Duration,
    /// Whether `TrackStarted` has been sent for it (or is not to be, after a seek).
    started: bool,
    /// It could not be opened or decoded before giving any audio: it is passed over.
    failed: bool,
    /// Some of its audio went into the conformer.
    has_audio: bool,
    /// Set when its input ended.
    ended: Option<Join>,
}

/// A ReplayGain applied to one track's samples, ramping when the setting changes.
#[derive(Clone, Copy, Debug)]
struct GainRamp {
    current: f32,
    target: f32,
    /// Gain change per frame while ramping; worked out at the next block, at its rate.
    step: Option<f32>,
}

impl GainRamp {
    fn new(gain: f32) -> Self {
        GainRamp {
            current: gain,
            target: gain,
            step: None,
        }
    }

    fn set_target(&mut self, target: f32) {
        self.target = target;
        self.step = None;
    }

    /// Scales interleaved `samples` of `channels` channels at `rate`. Unity gain leaves them
    /// untouched, so ReplayGain off keeps the bit-exact path bit-exact.
    fn apply(&mut self, samples: &mut [f32], channels: usize, rate: u32) {
        if self.current == self.target {
            if self.current != 1.0 {
                let gain = self.current;
                samples.iter_mut().for_each(|sample| *sample *= gain);
            }
            return;
        }
        let step = *self.step.get_or_insert_with(|| {
            let frames = (f64::from(rate) * GAIN_RAMP.as_secs_f64()).max(1.0) as f32;
            (self.target - self.current).abs() / frames
        });
        for frame in samples.chunks_mut(channels.max(1)) {
            self.current = if self.current < self.target {
                (self.current + step).min(self.target)
            } else {
                (self.current - step).max(self.target)
            };
            let gain = self.current;
            frame.iter_mut().for_each(|sample| *sample *= gain);
        }
    }
}

/// A track being decoded by a worker: the last one in the stream, or one opened ahead.
struct Decoding {
    id: ItemId,
    worker: DecodeWorker,
    /// The gain values in use, once the worker has opened the source.
    info: Option<GainInfo>,
    gain: GainRamp,
    /// Since when the worker has had nothing while the engine wanted audio.
    stalled_since: Option<Instant>,
}

struct Engine {
    spec: OutputSpec,
    writer: FeedWriter,
    /// Kept alive for as long as it is in use: dropping a device output closes its stream.
    output: Box<dyn Output>,
    /// Whether the output is pulling from the feed (it is suspended while idle).
    output_running: bool,
    ring_frames: u64,
    conformer: Conformer,
    subscribers: Vec<Sender<PlayerEvent>>,
    queue: Queue,
    state: PlaybackState,
    volume: f32,
    muted: bool,
    replay_gain: ReplayGain,
    /// Where `Play` starts the current track when stopped (after a seek while stopped).
    cued: Duration,
    /// The worker feeding the stream: the last mark's track.
    decoding: Option<Decoding>,
    /// A worker opened ahead for the track that will follow the last mark's.
    prepared: Option<Decoding>,
    /// Where decode threads give back the decoders of one-time streams.
    returns_sender: Sender<(ItemId, Box<Decoder>)>,
    returns: Receiver<(ItemId, Box<Decoder>)>,
    /// One-time stream items whose decoder is on its way back.
    retiring: HashSet<ItemId>,
    /// Conformed samples not yet in the ring, from `pending_at` on.
    pending: Vec<f32>,
    pending_at: usize,
    /// Ring frames written since the output started.
    frames_pushed: u64,
    /// The ring frame of the conformer's frame 0.
    ring_base: u64,
    /// The end of the last cut asked of the feed.
    last_cut_end: u64,
    /// Every track has been decoded and the resampler drained: what is pending is the last.
    input_done: bool,
    /// Whether the last fill stopped because the worker had nothing yet.
    waiting_on_worker: bool,
    /// Track starts in the stream, oldest first; the front one is the current track.
    marks: VecDeque<TrackMark>,
    /// Tracks in a row that failed without playing: when every track has, the queue stops.
    failures_in_a_row: usize,
    buffering: Option<ItemId>,
    last_position: Option<Instant>,
    glitch: Option<Glitch>,
}

/// An error the output reported that it may get over, and how far it had got then.
struct Glitch {
    since: Instant,
    pulls: u64,
    device: String,
    reason: String,
}

impl Engine {
    fn new(spec: OutputSpec, writer: FeedWriter, output: Box<dyn Output>, seed: u64) -> Self {
        let (returns_sender, returns) = crossbeam_channel::unbounded();
        Engine {
            spec,
            writer,
            output,
            output_running: true,
            ring_frames: ring_frames(spec) as u64,
            conformer: Conformer::new(spec),
            subscribers: Vec::new(),
            queue: Queue::new(seed),
            state: PlaybackState::Stopped,
            volume: 1.0,
            muted: false,
            replay_gain: ReplayGain::default(),
            cued: Duration::ZERO,
            decoding: None,
            prepared: None,
            returns_sender,
            returns,
            retiring: HashSet::new(),
            pending: Vec::new(),
            pending_at: 0,
            frames_pushed: 0,
            ring_base: 0,
            last_cut_end: 0,
            input_done: true,
            waiting_on_worker: false,
            marks: VecDeque::new(),
            failures_in_a_row: 0,
            buffering: None,
            last_position: None,
            glitch: None,
        }
    }

    fn run(&mut self, inbox: &Receiver<Message>) {
        let mut received: Option<Message> = None;
        loop {
            let mut message = received.take().or_else(|| inbox.try_recv().ok());
            while let Some(next) = message {
                match next {
                    Message::Command(command) => self.handle(command),
                    Message::Subscribe(subscriber) => self.subscribers.push(subscriber),
                    Message::SetOutput {
                        spec,
                        writer,
                        output,
                    } => self.switch_output(spec, writer, output),
                    Message::Shutdown => return,
                }
                message = inbox.try_recv().ok();
            }
            self.collect_returns();
            self.check_output_failures();
            self.fill_ring();
            self.report(Instant::now());
            self.settle_output();

            let timeout = self.next_wake();
            match self.decoding.as_ref().filter(|_| self.waiting_on_worker) {
                Some(decoding) => {
                    // Wake for a command or for the worker's next block, whichever comes first.
                    let mut select = Select::new();
                    select.recv(inbox);
                    select.recv(decoding.worker.receiver());
                    let _ = select.ready_timeout(timeout);
                }
                None => match inbox.recv_timeout(timeout) {
                    Ok(message) => received = Some(message),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                },
            }
        }
    }

    /// Whether the feed has a cut still to carry out.
    fn cut_outstanding(&self) -> bool {
        self.writer.control.skipped_to.load(Ordering::Acquire) < self.last_cut_end
    }

    /// Suspends the output once nothing plays and the feed has faded to silence (so an idle
    /// player keeps no device busy and uses no CPU), and resumes it when playing starts or the
    /// feed has a cut to carry out (a seek while paused, so that resuming is instant).
    fn settle_output(&mut self) {
        let wanted = self.state == PlaybackState::Playing
            || !self.writer.control.silent.load(Ordering::Acquire)
            || self.cut_outstanding();
        if wanted == self.output_running {
            return;
        }
        match self.output.set_running(wanted) {
            Ok(()) => {
                debug!(running = wanted, "output settled");
                self.output_running = wanted;
            }
            Err(error) if wanted => {
                warn!(%error, "the output could not be resumed; pausing");
                self.output_running = false;
                self.set_state(PlaybackState::Paused);
                self.emit_error(None, error);
            }
            Err(error) => {
                // It keeps playing silence, which costs only CPU.
                warn!(%error, "the output could not be suspended");
                self.output_running = true;
            }
        }
    }

    /// How long to wait for a command before looking at the output's progress again: as long
    /// as playback allows, but soon enough to judge an output watched after a glitch.
    fn next_wake(&self) -> Duration {
        if self.glitch.is_some() && self.output_running {
            return self.idle_time().min(GLITCH_POLL);
        }
        self.idle_time()
    }

    /// How long playback lets the engine wait before it must look at the output again.
    fn idle_time(&self) -> Duration {
        if !self.output_running {
            // Suspended: nothing moves until a command comes.
            return SUSPENDED_IDLE;
        }
        if self.cut_outstanding() {
            return CUT_POLL;
        }
        if self.state != PlaybackState::Playing {
            return IDLE;
        }
        let rate = f64::from(self.spec.sample_rate.max(1));
        let played = self.writer.control.frames_played.load(Ordering::Acquire);
        let mut wait = IDLE;
        let mut until_frame = |frame: u64| {
            let frames = frame.saturating_sub(played);
            wait = wait.min(Duration::from_secs_f64(frames as f64 / rate));
        };
        if self.input_done && self.pending_at >= self.pending.len() {
            // The end of the queue, to report it on time.
            until_frame(self.frames_pushed);
        } else if !self.waiting_on_worker {
            // The ring wants topping up once a quarter of it is free. (When it already does
            // and the worker has nothing yet, the wait ends as soon as the worker sends.)
            let capacity = (self.writer.producer.buffer().capacity()
                / usize::from(self.spec.channels.max(1))) as u64;
            until_frame(self.frames_pushed.saturating_sub(capacity * 3 / 4));
        }
        // The next track start, to announce it on time.
        if let Some(mark) = self.marks.iter().find(|mark| mark.at_frame > played) {
            until_frame(mark.at_frame);
        }
        wait.max(MIN_IDLE)
    }

    fn emit(&mut self, event: PlayerEvent) {
        debug!(?event, "player event");
        self.subscribers
            .retain(|subscriber| match subscriber.try_send(event.clone()) {
                Ok(()) | Err(TrySendError::Full(_)) => true,
                Err(TrySendError::Disconnected(_)) => false,
            });
    }

    fn emit_queue(&mut self) {
        let snapshot = self.queue.snapshot();
        self.emit(PlayerEvent::QueueChanged(snapshot));
    }

    fn emit_error(&mut self, id: Option<ItemId>, error: Error) {
        let key = id
            .and_then(|id| self.queue.item(id))
            .and_then(|item| item.key);
        self.emit(PlayerEvent::Error {
            id,
            key,
            error: Arc::new(error),
        });
    }

    fn set_state(&mut self, state: PlaybackState) {
        self.writer
            .control
            .playing
            .store(state == PlaybackState::Playing, Ordering::Release);
        if self.state != state {
            self.state = state;
            self.emit(PlayerEvent::StateChanged(state));
        }
    }

    fn apply_volume(&self) {
        let gain = if self.muted {
            0.0
        } else {
            volume_gain(self.volume)
        };
        self.writer
            .control
            .gain_bits
            .store(gain.to_bits(), Ordering::Release);
    }

    fn handle(&mut self, command: PlayerCmd) {
        debug!(?command, "player command");
        match command {
            PlayerCmd::Load(sources) => self.load(sources, 0, false),
            PlayerCmd::LoadAt {
                sources,
                start,
                play,
            } => self.load(sources, start, play),
            PlayerCmd::PlayNext(sources) => {
                self.queue.insert_next(sources);
                self.queue_edited();
            }
            PlayerCmd::Append(sources) => {
                self.queue.append(sources);
                self.queue_edited();
            }
            PlayerCmd::Remove(ids) => self.remove(&ids),
            PlayerCmd::Move { item, to } => {
                if self.queue.move_item(item, to) {
                    self.queue_edited();
                }
            }
            PlayerCmd::ClearUpcoming => {
                self.queue.clear_upcoming();
                self.queue_edited();
            }
            PlayerCmd::JumpTo(id) => {
                if self.queue.set_current(id) {
                    self.end_current();
                    self.cued = Duration::ZERO;
                    self.start_current(Duration::ZERO, PlaybackState::Playing);
                    self.emit_queue();
                } else {
                    debug!(?id, "jump to an item not in the queue");
                }
            }
            PlayerCmd::Play => match self.state {
                PlaybackState::Stopped => {
                    if self.queue.current_id().is_none() {
                        if !self.queue.restart() {
                            return;
                        }
                        self.emit_queue();
                    }
                    let from = std::mem::take(&mut self.cued);
                    self.start_current(from, PlaybackState::Playing);
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
                self.end_current();
                self.halt();
                self.cued = Duration::ZERO;
            }
            PlayerCmd::Next => self.next(),
            PlayerCmd::Previous => self.previous(),
            PlayerCmd::Seek(position) => self.seek(position),
            PlayerCmd::SetVolume(volume) => {
                self.volume = volume;
                self.apply_volume();
            }
            PlayerCmd::SetMute(muted) => {
                self.muted = muted;
                self.apply_volume();
            }
            PlayerCmd::SetShuffle(on) => {
                self.queue.set_shuffle(on);
                self.queue_edited();
            }
            PlayerCmd::SetRepeat(repeat) => {
                self.queue.set_repeat(repeat);
                self.queue_edited();
            }
            PlayerCmd::SetReplayGain(setting) => {
                self.replay_gain = setting;
                for decoding in [&mut self.decoding, &mut self.prepared]
                    .into_iter()
                    .flatten()
                {
                    if let Some(info) = decoding.info {
                        decoding.gain.set_target(setting.linear_gain(&info));
                    }
                }
            }
        }
    }

    fn load(&mut self, sources: Vec<Source>, start: usize, play: bool) {
        self.end_current();
        self.decoding = None;
        self.prepared = None;
        self.reset_stream();
        self.retiring.clear();
        self.queue.load(sources, start);
        self.cued = Duration::ZERO;
        if play && self.queue.current_id().is_some() {
            self.start_current(Duration::ZERO, PlaybackState::Playing);
        } else {
            self.input_done = true;
            self.set_state(PlaybackState::Stopped);
        }
        self.emit_queue();
    }

    fn remove(&mut self, ids: &[ItemId]) {
        let playing_id = self.marks.front().map(|mark| mark.id);
        let removed = self.queue.remove(ids);
        if removed == Removed::CurrentRemoved {
            self.cued = Duration::ZERO;
            if self.state != PlaybackState::Stopped && playing_id.is_some() {
                self.end_current();
                let state = self.state;
                if self.queue.current_id().is_some()
                    || (self.queue.repeat() != Repeat::Off && self.queue.restart())
                {
                    self.start_current(Duration::ZERO, state);
                } else {
                    self.halt();
                    self.emit_queue();
                    self.emit(PlayerEvent::QueueEnded);
                    return;
                }
            }
        } else {
            self.reconcile();
        }
        self.emit_queue();
    }

    /// After an edit that keeps the current item: makes what follows it in the stream match the
    /// queue again, and tells subscribers.
    fn queue_edited(&mut self) {
        self.reconcile();
        self.emit_queue();
    }

    fn next(&mut self) {
        self.cued = Duration::ZERO;
        let Some(cursor) = self.queue.current_cursor() else {
            if self.queue.restart() {
                self.emit_queue();
            }
            return;
        };
        let successor = self.queue.successor(cursor, true);
        if self.state == PlaybackState::Stopped {
            match successor {
                Some(next) => self.queue.advance_to(next),
                None => self.queue.finish(),
            }
            self.emit_queue();
            return;
        }
        self.end_current();
        match successor {
            Some(next) => {
                self.queue.advance_to(next);
                let state = self.state;
                self.start_current(Duration::ZERO, state);
                self.emit_queue();
            }
            None => {
                self.halt();
                self.queue.finish();
                self.emit_queue();
                self.emit(PlayerEvent::QueueEnded);
            }
        }
    }

    fn previous(&mut self) {
        self.cued = Duration::ZERO;
        if self.state == PlaybackState::Stopped {
            if self.queue.go_back() {
                self.emit_queue();
            }
            return;
        }
        let past_threshold = self.position().is_some_and(|p| p > RESTART_THRESHOLD);
        if past_threshold || !self.queue.go_back() {
            self.seek(Duration::ZERO);
            return;
        }
        self.end_current();
        let state = self.state;
        self.start_current(Duration::ZERO, state);
        self.emit_queue();
    }

    /// Moves within the current track, reusing its worker when it is still the one decoding.
    fn seek(&mut self, position: Duration) {
        if self.state == PlaybackState::Stopped {
            if let Some(id) = self.queue.current_id() {
                self.cued = position;
                let key = self.queue.item(id).and_then(|item| item.key);
                self.emit(PlayerEvent::Position { id, key, position });
            }
            return;
        }
        let Some(front) = self.marks.front() else {
            return;
        };
        let (id, started) = (front.id, front.started);
        let state = self.state;
        self.restart_stream(id, position, !started);
        self.set_state(state);
    }

    /// The position in the playing track, from the frames the output has played.
    fn position(&self) -> Option<Duration> {
        let mark = self.marks.front().filter(|mark| mark.started)?;
        let played = self.writer.control.frames_played.load(Ordering::Acquire);
        let frames = played.saturating_sub(mark.at_frame);
        Some(mark.offset + frames_to_duration(frames, self.spec.sample_rate))
    }

    /// Sends `TrackEnded` for the playing track, which is being left, and forgets its mark.
    fn end_current(&mut self) {
        if let Some(mark) = self.marks.pop_front().filter(|mark| mark.started) {
            self.emit(PlayerEvent::TrackEnded {
                id: mark.id,
                key: mark.key,
                name: mark.name,
            });
        }
    }

    /// Stops playback and empties the pipeline; the queue and its current item stay.
    fn halt(&mut self) {
        self.set_state(PlaybackState::Stopped);
        self.reset_stream();
        let (decoding, prepared) = (self.decoding.take(), self.prepared.take());
        self.retire(decoding);
        self.retire(prepared);
        self.input_done = true;
    }

    /// Asks the feed to skip the ring frames `at..end`.
    fn request_cut(&mut self, cut: Cut) {
        let mut cut = cut;
        let deadline = Instant::now() + Duration::from_millis(50);
        loop {
            match self.writer.cuts.push(cut) {
                Ok(()) => break,
                Err(rtrb::PushError::Full(back)) => {
                    // Only a flood of seeks between two output periods fills the queue; a
                    // dead output never empties it, and then cutting does not matter.
                    if Instant::now() >= deadline {
                        warn!("the output is not taking cuts; stale audio may play");
                        break;
                    }
                    cut = back;
                    thread::sleep(Duration::from_millis(1));
                }
            }
        }
        self.last_cut_end = self.last_cut_end.max(cut.end);
    }

    /// Drops everything written so far (a cut from the feed's position to the end of what is in
    /// the ring), the pending samples, the conformer's state and the marks: the stream is about
    /// to jump. Workers stay; the caller decides about them.
    fn reset_stream(&mut self) {
        if self.frames_pushed > 0 {
            self.request_cut(Cut {
                at: 0,
                end: self.frames_pushed,
            });
        }
        self.pending.clear();
        self.pending_at = 0;
        self.conformer.discard();
        self.ring_base = self.frames_pushed;
        self.marks.clear();
        self.input_done = false;
        self.last_position = None;
        self.failures_in_a_row = 0;
        if let Some(id) = self.buffering.take() {
            self.emit(PlayerEvent::Buffering {
                id,
                buffering: false,
            });
        }
    }

    /// Lets a worker go; a one-time stream's decoder comes back through `returns`.
    fn retire(&mut self, decoding: Option<Decoding>) {
        if let Some(decoding) = decoding
            && self
                .queue
                .item(decoding.id)
                .is_some_and(|item| !item.is_path())
        {
            self.retiring.insert(decoding.id);
        }
    }

    fn collect_returns(&mut self) {
        while let Ok((id, decoder)) = self.returns.try_recv() {
            self.take_back(id, decoder);
        }
    }

    fn take_back(&mut self, id: ItemId, decoder: Box<Decoder>) {
        self.retiring.remove(&id);
        if let Some(item) = self.queue.item_mut(id) {
            item.give_back(decoder);
        }
    }

    /// Starts the queue's current item at `offset` in `state`, announcing it.
    fn start_current(&mut self, offset: Duration, state: PlaybackState) {
        let Some(id) = self.queue.current_id() else {
            self.halt();
            return;
        };
        self.restart_stream(id, offset, true);
        self.set_state(state);
    }

    /// Empties the stream and starts it again with `id` at `offset`, reusing whichever worker
    /// already has that item open.
    fn restart_stream(&mut self, id: ItemId, offset: Duration, announce: bool) {
        self.reset_stream();
        let mut spare = self.decoding.take();
        let reuse = spare.take_if(|decoding| decoding.id == id);
        if let Some(mut decoding) = spare {
            // The track that was decoding may well come next again (after a skip back): keep
            // it, rewound, unless a worker is already prepared (which `begin` may want).
            if self.prepared.is_none() {
                decoding.worker.seek(Duration::ZERO);
                decoding.stalled_since = None;
                self.prepared = Some(decoding);
            } else {
                self.retire(Some(decoding));
            }
        }
        if self.begin(id, offset, announce, reuse) {
            self.ensure_prepared();
        } else {
            self.continue_stream(None);
        }
    }

    /// Puts `id` into the stream at the conformer's input end, from `offset`, decoded by
    /// `reuse` (rewound), the prepared worker, or a new one. Returns false if no worker could
    /// be had: the track is then marked failed (its error is out) and the caller goes on.
    fn begin(
        &mut self,
        id: ItemId,
        offset: Duration,
        announce: bool,
        reuse: Option<Decoding>,
    ) -> bool {
        let Some(item) = self.queue.item(id) else {
            return false;
        };
        let mut mark = TrackMark {
            id,
            key: item.key,
            name: item.name.clone(),
            at_frame: self.ring_base + self.conformer.input_end_frame(),
            offset,
            started: !announce,
            failed: false,
            has_audio: false,
            ended: None,
        };
        let decoding = match reuse {
            Some(mut decoding) if decoding.id == id => {
                decoding.worker.seek(offset);
                decoding.stalled_since = None;
                Some(decoding)
            }
            other => {
                self.retire(other);
                match self.prepared.take() {
                    Some(mut prepared) if prepared.id == id => {
                        if !offset.is_zero() {
                            prepared.worker.seek(offset);
                        }
                        Some(prepared)
                    }
                    other => {
                        self.prepared = other;
                        self.spawn_worker(id, offset)
                    }
                }
            }
        };
        match decoding {
            Some(decoding) => {
                self.decoding = Some(decoding);
                self.marks.push_back(mark);
                true
            }
            None => {
                mark.failed = true;
                mark.ended = Some(self.join_here());
                self.marks.push_back(mark);
                self.failures_in_a_row += 1;
                false
            }
        }
    }

    /// A new worker for `id`, or `None` (with an error event) if it cannot be had.
    fn spawn_worker(&mut self, id: ItemId, start: Duration) -> Option<Decoding> {
        let mut opening = self.queue.item_mut(id)?.opening();
        if opening.is_none() && self.retiring.contains(&id) {
            // A one-time stream whose decoder is on its way back from its last worker.
            let deadline = Instant::now() + RETURN_WAIT;
            while opening.is_none() && self.retiring.contains(&id) {
                let left = deadline.saturating_duration_since(Instant::now());
                match self.returns.recv_timeout(left) {
                    Ok((returned, decoder)) => self.take_back(returned, decoder),
                    Err(_) => break,
                }
                opening = self.queue.item_mut(id)?.opening();
            }
        }
        let item = self.queue.item(id)?;
        let name = item.name.clone();
        let returns = (!item.is_path()).then(|| self.returns_sender.clone());
        let Some(opening) = opening else {
            warn!(source = %name, "a one-time stream cannot be played again");
            self.emit_error(Some(id), Error::SourceConsumed { source_name: name });
            return None;
        };
        match DecodeWorker::spawn(id, &name, opening, start, returns) {
            Ok(worker) => Some(Decoding {
                id,
                worker,
                info: None,
                gain: GainRamp::new(1.0),
                stalled_since: None,
            }),
            Err(error) => {
                self.emit_error(Some(id), error);
                None
            }
        }
    }

    /// The conformer's state now, as a join.
    fn join_here(&self) -> Join {
        let checkpoint = self.conformer.checkpoint();
        Join {
            ring_frame: self.ring_base + checkpoint.frames_out(),
            checkpoint,
        }
    }

    /// The item that follows the last mark's track in the stream, walking the queue from its
    /// current item along the marks (a failed track is skipped as by hand, so repeat-one does
    /// not retry it).
    fn next_in_stream(&mut self) -> Option<ItemId> {
        let mut cursor = self.queue.current_cursor()?;
        let mut manual = false;
        for (i, mark) in self.marks.iter().enumerate() {
            if i > 0 {
                cursor = self.queue.successor(cursor, manual)?;
            }
            manual = mark.failed;
        }
        let next = self.queue.successor(cursor, manual)?;
        self.queue.id_at(next)
    }

    /// Joins the track that follows the last mark's, or ends the input. `finished` is the
    /// worker that just played the last mark's track, reused if that track plays again.
    fn continue_stream(&mut self, mut finished: Option<Decoding>) {
        // Each pass either joins a track or marks one more failed, and stops once every track
        // in the queue has failed in a row, so this ends.
        loop {
            let next = if self.failures_in_a_row >= self.queue.len().max(1) {
                warn!("every track in the queue failed; stopping");
                None
            } else {
                self.next_in_stream()
            };
            let Some(id) = next else {
                self.retire(finished);
                let mut pending = std::mem::take(&mut self.pending);
                if let Err(error) = self.conformer.flush(&mut pending) {
                    self.emit_error(None, error);
                }
                self.pending = pending;
                self.input_done = true;
                return;
            };
            if self.begin(id, Duration::ZERO, true, finished.take()) {
                self.ensure_prepared();
                return;
            }
        }
    }

    /// Opens, ahead of time, the track that will follow the last mark's, so its first block is
    /// ready when the join comes.
    fn ensure_prepared(&mut self) {
        if self.state == PlaybackState::Stopped && self.marks.is_empty() {
            return;
        }
        let Some(decoding_id) = self.decoding.as_ref().map(|d| d.id) else {
            let stale = self.prepared.take();
            self.retire(stale);
            return;
        };
        let next = self.next_in_stream();
        if self.prepared.as_ref().map(|p| p.id) == next && next.is_some() {
            return;
        }
        let stale = self.prepared.take();
        self.retire(stale);
        if let Some(id) = next.filter(|id| *id != decoding_id) {
            self.prepared = self.spawn_worker(id, Duration::ZERO);
        }
    }

    /// Makes the tracks joined after the current one match what the queue now says follows it,
    /// cutting the stream back to the first join that no longer holds.
    fn reconcile(&mut self) {
        if self.state == PlaybackState::Stopped || self.marks.is_empty() {
            return;
        }
        let Some(mut cursor) = self.queue.current_cursor() else {
            return;
        };
        for i in 1..self.marks.len() {
            let expected = self
                .queue
                .successor(cursor, self.marks[i - 1].failed)
                .inspect(|next| cursor = *next)
                .and_then(|next| self.queue.id_at(next));
            if expected != Some(self.marks[i].id) {
                self.cut_after(i - 1);
                return;
            }
        }
        let last = self.marks.len() - 1;
        if self.input_done && self.marks[last].ended.is_some() {
            let manual = self.marks[last].failed;
            if self.queue.successor(cursor, manual).is_some() {
                // The stream had ended, and now something follows.
                self.cut_after(last);
                return;
            }
        }
        self.ensure_prepared();
    }

    /// Rewinds the stream to the end of mark `index`'s track and joins what follows it now.
    fn cut_after(&mut self, index: usize) {
        let Some(join) = self.marks[index].ended.clone() else {
            return;
        };
        self.marks.truncate(index + 1);
        let channels = usize::from(self.spec.channels);
        let stale = self.decoding.take();
        if join.ring_frame >= self.frames_pushed {
            // The join has not reached the ring yet: drop the pending samples after it.
            let keep = usize::try_from(join.ring_frame - self.frames_pushed).unwrap_or(0);
            self.pending
                .truncate((self.pending_at + keep * channels).min(self.pending.len()));
        } else {
            self.request_cut(Cut {
                at: join.ring_frame,
                end: self.frames_pushed,
            });
            self.pending.clear();
            self.pending_at = 0;
            self.ring_base = self.frames_pushed - join.checkpoint.frames_out();
        }
        if let Err(error) = self.conformer.restore(&join.checkpoint) {
            self.emit_error(None, error);
            self.conformer.discard();
        }
        self.input_done = false;
        debug!(index, "rewound the stream to a join");
        self.continue_stream(stale);
    }

    /// True when there is decoding to do and room for at least a quarter ring of it, so the
    /// loop does not spin topping up a few frames at a time.
    fn wants_audio(&self) -> bool {
        self.state != PlaybackState::Stopped
            && !(self.input_done && self.pending_at >= self.pending.len())
            && self.writer.producer.slots() >= self.writer.producer.buffer().capacity() / 4
    }

    /// Decodes into the ring until it is full, the worker has nothing yet, or the queue is
    /// decoded.
    fn fill_ring(&mut self) {
        self.waiting_on_worker = false;
        if self.state == PlaybackState::Stopped {
            return;
        }
        let channels = usize::from(self.spec.channels);
        loop {
            if self.pending_at < self.pending.len() {
                let room = self.writer.producer.slots() / channels * channels;
                let count = room.min(self.pending.len() - self.pending_at);
                if count == 0 {
                    return;
                }
                if let Ok(mut chunk) = self.writer.producer.write_chunk(count) {
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
            if self.input_done || !self.wants_audio() {
                return;
            }
            if !self.decode_some() {
                self.waiting_on_worker = true;
                return;
            }
        }
    }

    /// Takes one output from the decoding worker. Returns false when it had nothing.
    fn decode_some(&mut self) -> bool {
        let Some(decoding) = self.decoding.as_mut() else {
            self.continue_stream(None);
            return true;
        };
        let id = decoding.id;
        match decoding.worker.poll() {
            Polled::Empty => {
                let now = Instant::now();
                let since = *decoding.stalled_since.get_or_insert(now);
                let queued = self
                    .frames_pushed
                    .saturating_sub(self.writer.control.frames_played.load(Ordering::Acquire));
                if self.buffering.is_none()
                    && now.duration_since(since) >= STALL
                    && queued < self.ring_frames / 2
                {
                    warn!(?id, "the source stalled; buffering");
                    self.buffering = Some(id);
                    self.emit(PlayerEvent::Buffering {
                        id,
                        buffering: true,
                    });
                }
                false
            }
            Polled::Output(output) => {
                decoding.stalled_since = None;
                if self.buffering == Some(id) {
                    self.buffering = None;
                    self.emit(PlayerEvent::Buffering {
                        id,
                        buffering: false,
                    });
                }
                self.take_output(output);
                true
            }
            Polled::Gone => {
                self.emit_error(
                    Some(id),
                    Error::DecoderPanicked {
                        source_name: self
                            .queue
                            .item(id)
                            .map_or_else(String::new, |item| item.name.clone()),
                    },
                );
                self.input_ended(true);
                true
            }
        }
    }

    fn take_output(&mut self, output: WorkerOutput) {
        let Some(decoding) = self.decoding.as_mut() else {
            return;
        };
        let id = decoding.id;
        match output {
            WorkerOutput::Opened { gain } => {
                let info = self
                    .queue
                    .item(id)
                    .and_then(|item| item.gain)
                    .unwrap_or(gain);
                decoding.info = Some(info);
                decoding.gain = GainRamp::new(self.replay_gain.linear_gain(&info));
            }
            WorkerOutput::Block {
                rate,
                channels,
                mut samples,
                ..
            } => {
                decoding.gain.apply(&mut samples, channels.count(), rate);
                let mut pending = std::mem::take(&mut self.pending);
                let result = self.conformer.push(rate, &channels, &samples, &mut pending);
                self.pending = pending;
                match result {
                    Ok(()) => {
                        self.failures_in_a_row = 0;
                        if let Some(mark) = self.marks.back_mut() {
                            mark.has_audio = true;
                        }
                    }
                    Err(error) => {
                        warn!(%error, "a queued track cannot be conformed; moving on");
                        self.emit_error(Some(id), error);
                        self.input_ended(true);
                    }
                }
            }
            WorkerOutput::End { .. } => self.input_ended(false),
            WorkerOutput::Failed { error, .. } => {
                warn!(%error, "a queued track failed; moving on");
                self.emit_error(Some(id), error);
                self.input_ended(true);
            }
        }
    }

    /// The decoding track's input is over: checkpoint the join and go on to what follows.
    fn input_ended(&mut self, failed: bool) {
        let finished = self.decoding.take();
        let join = self.join_here();
        if let Some(mark) = self.marks.back_mut() {
            if failed && !mark.has_audio {
                mark.failed = true;
                self.failures_in_a_row += 1;
            }
            mark.ended = Some(join);
        }
        self.continue_stream(finished);
    }

    /// Makes the queue follow the stream onto `id`, the track that now leads it.
    fn follow(&mut self, manual: bool, id: ItemId) {
        let next = self
            .queue
            .current_cursor()
            .and_then(|cursor| self.queue.successor(cursor, manual))
            .filter(|next| self.queue.id_at(*next) == Some(id));
        match next {
            Some(next) => self.queue.advance_to(next),
            None => {
                self.queue.set_current(id);
            }
        }
        self.emit_queue();
    }

    fn check_output_failures(&mut self) {
        while let Ok(failure) = self.writer.failures.try_recv() {
            if failure.lasting {
                self.glitch = None;
                self.device_failed(failure.device, failure.reason);
            } else if self.glitch.is_none() {
                debug!(device = %failure.device, reason = %failure.reason, "the audio device had an error; watching it");
                self.glitch = Some(Glitch {
                    since: Instant::now(),
                    pulls: self.writer.control.pulls.load(Ordering::Acquire),
                    device: failure.device,
                    reason: failure.reason,
                });
            }
        }
        let Some(glitch) = &self.glitch else {
            return;
        };
        if !self.output_running || self.writer.control.pulls.load(Ordering::Acquire) != glitch.pulls
        {
            // Suspended, so there is nothing to judge it by; or it asked for audio since.
            debug!(device = %glitch.device, "the audio device got over its error");
            self.glitch = None;
        } else if glitch.since.elapsed() >= DEVICE_STALL
            && let Some(glitch) = self.glitch.take()
        {
            self.device_failed(glitch.device, glitch.reason);
        }
    }

    /// The output's device stopped working: pause, holding the position, and say why.
    fn device_failed(&mut self, device: String, reason: String) {
        warn!(%device, %reason, "the audio device failed; pausing");
        self.emit_error(None, Error::DeviceFailed { device, reason });
        if self.state == PlaybackState::Playing {
            self.set_state(PlaybackState::Paused);
        }
    }

    /// Moves playback onto a new output: the current track goes on from the position the old
    /// one reached.
    fn switch_output(&mut self, spec: OutputSpec, writer: FeedWriter, output: Box<dyn Output>) {
        let position = self.position();
        let front = self
            .marks
            .front()
            .map(|mark| (mark.id, mark.started, mark.offset));
        self.writer = writer;
        self.glitch = None;
        // The old output closes here, on the engine thread, which takes a moment for a device.
        self.output = output;
        self.output_running = true;
        self.spec = spec;
        self.ring_frames = ring_frames(spec) as u64;
        self.conformer = Conformer::new(spec);
        self.frames_pushed = 0;
        self.last_cut_end = 0;
        self.apply_volume();
        let state = self.state;
        match front {
            Some((id, started, offset)) if state != PlaybackState::Stopped => {
                let at = position.unwrap_or(offset);
                self.restart_stream(id, at, !started);
            }
            _ => {
                self.reset_stream();
                self.input_done = true;
            }
        }
        self.writer
            .control
            .playing
            .store(state == PlaybackState::Playing, Ordering::Release);
    }

    /// Sends the events the output's progress calls for: starts, ends, position, queue end.
    fn report(&mut self, now: Instant) {
        if self.state == PlaybackState::Stopped {
            return;
        }
        let played = self.writer.control.frames_played.load(Ordering::Acquire);
        let drained =
            |engine: &Engine| engine.input_done && engine.pending_at >= engine.pending.len();
        while let Some(front) = self.marks.front_mut() {
            if front.failed {
                // Passed over silently: its error was sent when it failed.
                if self.marks.len() > 1 {
                    self.marks.pop_front();
                    let next = self.marks[0].id;
                    self.follow(true, next);
                    continue;
                }
                break;
            }
            if !front.started && played >= front.at_frame {
                front.started = true;
                let (id, key, name) = (front.id, front.key, front.name.clone());
                self.emit(PlayerEvent::TrackStarted { id, key, name });
                continue;
            }
            if self
                .marks
                .get(1)
                .is_some_and(|next| played >= next.at_frame)
            {
                self.end_current();
                let next = self.marks[0].id;
                self.follow(false, next);
                continue;
            }
            break;
        }
        if drained(self) && played >= self.frames_pushed && self.state == PlaybackState::Playing {
            self.end_current();
            self.halt();
            self.queue.finish();
            self.emit_queue();
            self.emit(PlayerEvent::QueueEnded);
            return;
        }
        if self.state == PlaybackState::Playing
            && self
                .last_position
                .is_none_or(|last| now.duration_since(last) >= POSITION_INTERVAL)
            && let Some(position) = self.position()
            && let Some(front) = self.marks.front()
        {
            let (id, key) = (front.id, front.key);
            self.last_position = Some(now);
            self.emit(PlayerEvent::Position { id, key, position });
        }
    }
}

fn frames_to_duration(frames: u64, rate: u32) -> Duration {
    let rate = u64::from(rate.max(1));
    Duration::from_secs(frames / rate)
        + Duration::from_nanos((frames % rate) * 1_000_000_000 / rate)
}

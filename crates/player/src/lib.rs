//! The playback engine: sources -> decode -> gapless trim -> channel map -> resample -> sink.
//!
//! This slice is the headless half of the engine. [`Decoder`] opens a [`Source`] (a local path or
//! any `Read + Seek + Send` byte source) with symphonia, plus libopus for Opus, and yields f32
//! interleaved blocks with encoder delay and padding already removed. [`render`] plays a list of
//! sources one after another into a [`Sink`] (today [`WavSink`]), mapping channels to stereo and
//! resampling through one [`StreamResampler`] that runs across track joins, so an album split from
//! one continuous recording renders as that recording.
//!
//! For real-time playback, [`Player`] runs the engine as an actor: [`PlayerCmd`]s in,
//! [`PlayerEvent`]s out. It keeps a queue of items with stable [`ItemId`]s (edits, shuffle,
//! repeat), decodes each track on its own worker thread, applies [`ReplayGain`], and conforms
//! the audio through the same path as the render into a lock-free ring that an [`Output`]
//! drains: a cpal [`DeviceOutput`], or a [`ClockedOutput`] that plays on its own clock for tests
//! and headless use. [`Player::set_output`] moves playback to another output (after a device
//! failure, say) from the held position.
//!
//! **Architecture Invariant:** the output callback never locks, allocates, logs or does I/O.
//!
//! **Architecture Invariant:** `player` never touches the catalog or the network; it plays the
//! sources it is handed.
//!
//! **Architecture Invariant:** no decoder panic reaches the caller. Probing, demuxing and
//! decoding run under `catch_unwind`, and a panic becomes [`Error::DecoderPanicked`].
//!
//! **Architecture Invariant:** when the output rate equals a source's rate and its channel count
//! is the output's, its samples reach the sink bit-exact: no resampler, no gain, no dither
//! (unless ReplayGain or the volume asks for a gain).
//!
//! **Architecture Invariant:** queue edits never break a gapless join: when what follows the
//! playing track changes after the next track was joined, the stream is rewound to the join
//! and the new next track joins there instead.

mod channels;
mod conform;
mod decode;
#[cfg(feature = "device")]
mod device;
mod engine;
mod error;
mod gapless;
mod output;
mod queue;
mod render;
mod replaygain;
mod resample;
mod sink;
mod source;
mod worker;

pub use channels::{ChannelMap, OUTPUT_CHANNELS};
pub use decode::{AudioBlock, Decoder};
#[cfg(feature = "device")]
pub use device::{DeviceInfo, DeviceOutput, list_devices, output_devices};
pub use engine::{PlaybackState, Player, PlayerCmd, PlayerEvent};
pub use error::{Error, Result};
pub use output::{
    ClockedOutput, FailureReporter, Output, OutputFeed, PlayedAudio, SoundProbe, UnplugSwitch,
    volume_gain,
};
pub use queue::{ItemId, QueueEntry, QueueSnapshot, Repeat};
pub use render::{RenderOptions, RenderReport, TrackReport, render};
pub use replaygain::{GainInfo, GainMode, ReplayGain};
pub use resample::StreamResampler;
pub use sink::{OutputSpec, Sink, WavSampleFormat, WavSink};
pub use source::Source;

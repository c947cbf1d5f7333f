//! The player's typed error and its `Result` alias.

use std::io;
use std::path::PathBuf;

/// A `Result` whose error is the player's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong opening, decoding, resampling or writing audio.
///
/// Variants name the source (its path or the label its caller gave it) so an error event can say
/// which track failed and why.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The source could not be opened or read.
    #[error("reading {source_name}")]
    Io {
        /// The path or label of the source.
        source_name: String,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// The source is empty or no container format recognises it.
    #[error("{source_name} is not a recognised audio file")]
    UnrecognisedFormat {
        /// The path or label of the source.
        source_name: String,
        /// What the prober reported.
        #[source]
        source: symphonia::core::errors::Error,
    },
    /// The file is in a format the library lists (its tags are read) but no decoder here plays.
    #[error(
        "{source_name} is a {format} file, which Skylark cannot play: it has no {format} decoder"
    )]
    UnplayableFormat {
        /// The path or label of the source.
        source_name: String,
        /// The format's name (`WavPack`, `Monkey's Audio`, ...).
        format: &'static str,
    },
    /// The container holds no audio track that has a decoder.
    #[error("{source_name} has no playable audio track")]
    NoAudioTrack {
        /// The path or label of the source.
        source_name: String,
    },
    /// The audio track's codec or its parameters are not supported.
    #[error("{source_name}: unsupported codec")]
    UnsupportedCodec {
        /// The path or label of the source.
        source_name: String,
        /// What symphonia or the codec adapter reported.
        #[source]
        source: symphonia::core::errors::Error,
    },
    /// The stream ended in the middle of the audio: a download or copy that stopped early.
    #[error("{source_name} is truncated after {frames_decoded} frames")]
    Truncated {
        /// The path or label of the source.
        source_name: String,
        /// How many frames were decoded (and handed out) before the end.
        frames_decoded: u64,
    },
    /// Decoding could not go on: too many corrupt packets in a row, or an unrecoverable error.
    #[error("decoding {source_name}")]
    Decode {
        /// The path or label of the source.
        source_name: String,
        /// The last error symphonia reported.
        #[source]
        source: symphonia::core::errors::Error,
    },
    /// A decoder or demuxer panicked; the panic was caught and the source abandoned.
    #[error("the decoder panicked on {source_name}")]
    DecoderPanicked {
        /// The path or label of the source.
        source_name: String,
    },
    /// The decoded signal has a shape the player cannot play (no channels, a zero rate).
    #[error("{source_name}: unplayable signal ({reason})")]
    UnplayableSignal {
        /// The path or label of the source.
        source_name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The resampler could not be built or failed.
    #[error("resampling {from_rate} Hz to {to_rate} Hz: {reason}")]
    Resample {
        /// The input rate in Hz.
        from_rate: u32,
        /// The output rate in Hz.
        to_rate: u32,
        /// rubato's message.
        reason: String,
    },
    /// The output file could not be created or written.
    #[error("writing {path}")]
    Sink {
        /// The output file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: hound::Error,
    },
    /// The sink was used out of order (samples before `begin`, or after `finish`).
    #[error("sink used out of order: {0}")]
    SinkState(&'static str),
    /// The audio device failed: it could not be listed, configured, opened or played.
    #[cfg(feature = "device")]
    #[error("audio device {device}")]
    Device {
        /// The device's name (or the host's, when listing failed).
        device: String,
        /// What cpal reported.
        #[source]
        source: cpal::Error,
    },
    /// The system has no default output device.
    #[error("no default audio output device")]
    NoOutputDevice,
    /// No output device has the name asked for.
    #[error("no audio output device called {name}")]
    DeviceNotFound {
        /// The name asked for.
        name: String,
    },
    /// The audio device reported an error while playing (unplugged, reconfigured); playback
    /// is paused until [`Player::set_output`](crate::Player::set_output) names a device again.
    #[error("the audio device {device} stopped working: {reason}")]
    DeviceFailed {
        /// The device's name.
        device: String,
        /// What the device or its host reported.
        reason: String,
    },
    /// A stream source was queued again after it had been played: its bytes are gone.
    #[error("{source_name} was a one-time stream and has already been played")]
    SourceConsumed {
        /// The label of the source.
        source_name: String,
    },
    /// The engine thread has ended, so a [`Player`](crate::Player) command cannot reach it.
    #[error("the playback engine has stopped")]
    EngineStopped,
    /// [`render`](crate::render) was given no sources.
    #[error("nothing to render: no sources")]
    NoSources,
}

//! What the player plays: a local path, or any seekable byte source (a locker stream, a buffer).

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use symphonia::core::io::MediaSource;

use crate::replaygain::GainInfo;

/// A source of encoded audio bytes, with what the caller knows about it.
///
/// Built with [`Source::path`] or [`Source::from_reader`]; [`with_key`](Source::with_key) and
/// [`with_gain`](Source::with_gain) attach the caller's id for it and its ReplayGain values.
pub struct Source {
    pub(crate) origin: Origin,
    key: Option<i64>,
    gain: Option<GainInfo>,
}

/// Where a source's bytes come from.
pub(crate) enum Origin {
    /// A file on a local disk.
    Path(PathBuf),
    /// Any seekable byte source, with a label for logs and errors.
    Stream {
        /// What to call the source in logs and errors (a track title, a URL without secrets).
        label: String,
        /// The bytes.
        reader: Box<dyn MediaSource>,
        /// The extension the bytes would have on disk (`"flac"`), if known: a hint for probing.
        extension: Option<String>,
    },
}

impl Source {
    /// A source reading the file at `path`.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        Source {
            origin: Origin::Path(path.into()),
            key: None,
            gain: None,
        }
    }

    /// A source reading any `Read + Seek + Send` byte source, called `label` in errors.
    ///
    /// `extension` (without the dot) helps the prober choose a format when the bytes are
    /// ambiguous; it is only a hint. A read that blocks (a network stream waiting for data) is
    /// fine: the player decodes each source on its own thread and reports
    /// [`PlayerEvent::Buffering`](crate::PlayerEvent::Buffering) while it waits.
    pub fn from_reader<R>(label: impl Into<String>, reader: R, extension: Option<&str>) -> Self
    where
        R: Read + Seek + Send + 'static,
    {
        Source {
            origin: Origin::Stream {
                label: label.into(),
                reader: Box::new(SeekableReader::new(reader)),
                extension: extension.map(str::to_owned),
            },
            key: None,
            gain: None,
        }
    }

    /// The same source carrying `key`, an opaque id of the caller's (the app's catalog track id),
    /// which the player echoes in its events and queue snapshots.
    #[must_use]
    pub fn with_key(mut self, key: i64) -> Self {
        self.key = Some(key);
        self
    }

    /// The same source with its ReplayGain values known, so the player need not read them from
    /// the file's tags (which it does for a source without them).
    #[must_use]
    pub fn with_gain(mut self, gain: GainInfo) -> Self {
        self.gain = Some(gain);
        self
    }

    /// The caller's key, if one was attached.
    pub fn key(&self) -> Option<i64> {
        self.key
    }

    /// The ReplayGain values the caller gave, if any.
    pub fn gain(&self) -> Option<GainInfo> {
        self.gain
    }

    /// Whether the bytes come from a local file (which can be opened again) rather than a
    /// one-time reader.
    pub fn is_path(&self) -> bool {
        matches!(self.origin, Origin::Path(_))
    }

    /// The path or label of the source, as errors and logs name it.
    pub fn name(&self) -> String {
        match &self.origin {
            Origin::Path(path) => path.display().to_string(),
            Origin::Stream { label, .. } => label.clone(),
        }
    }

    /// The extension hint: the path's extension, or the one given for a stream.
    pub(crate) fn extension(&self) -> Option<String> {
        match &self.origin {
            Origin::Path(path) => Path::new(path)
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase),
            Origin::Stream { extension, .. } => extension.clone(),
        }
    }

    /// A second source for the same file, with the same key and gain; `None` for a reader,
    /// whose bytes can only be read once.
    pub(crate) fn reopen(&self) -> Option<Source> {
        match &self.origin {
            Origin::Path(path) => Some(Source {
                origin: Origin::Path(path.clone()),
                key: self.key,
                gain: self.gain,
            }),
            Origin::Stream { .. } => None,
        }
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Source");
        match &self.origin {
            Origin::Path(path) => debug.field("path", path),
            Origin::Stream {
                label, extension, ..
            } => debug.field("label", label).field("extension", extension),
        };
        debug
            .field("key", &self.key)
            .field("gain", &self.gain)
            .finish_non_exhaustive()
    }
}

/// Adapts a `Read + Seek + Send` reader to symphonia's [`MediaSource`], which also needs `Sync`.
///
/// The reader is only ever reached through `&mut self`, so the mutex is never locked: it exists
/// to make the type `Sync`, and `get_mut` costs nothing.
struct SeekableReader<R> {
    inner: Mutex<R>,
    byte_len: Option<u64>,
}

impl<R: Read + Seek> SeekableReader<R> {
    fn new(mut reader: R) -> Self {
        // The length is measured once up front; symphonia asks for it while probing for trailing
        // tags and to bound seeks. A reader that cannot seek to its end reports no length.
        let byte_len = (|| {
            let here = reader.stream_position()?;
            let end = reader.seek(SeekFrom::End(0))?;
            reader.seek(SeekFrom::Start(here))?;
            io::Result::Ok(end)
        })()
        .ok();
        SeekableReader {
            inner: Mutex::new(reader),
            byte_len,
        }
    }

    fn reader(&mut self) -> &mut R {
        self.inner.get_mut().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<R: Read> Read for SeekableReader<R>
where
    R: Seek,
{
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader().read(buf)
    }
}

impl<R: Read + Seek> Seek for SeekableReader<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.reader().seek(pos)
    }
}

impl<R: Read + Seek + Send> MediaSource for SeekableReader<R> {
    fn is_seekable(&self) -> bool {
        self.byte_len.is_some()
    }

    fn byte_len(&self) -> Option<u64> {
        self.byte_len
    }
}

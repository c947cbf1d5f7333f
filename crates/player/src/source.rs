//! What the player plays: a local path, or any seekable byte source (a locker stream, a buffer).

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use symphonia::core::io::MediaSource;

/// A source of encoded audio bytes.
pub enum Source {
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
        Source::Path(path.into())
    }

    /// A source reading any `Read + Seek + Send` byte source, called `label` in errors.
    ///
    /// `extension` (without the dot) helps the prober choose a format when the bytes are
    /// ambiguous; it is only a hint.
    pub fn from_reader<R>(label: impl Into<String>, reader: R, extension: Option<&str>) -> Self
    where
        R: Read + Seek + Send + 'static,
    {
        Source::Stream {
            label: label.into(),
            reader: Box::new(SeekableReader::new(reader)),
            extension: extension.map(str::to_owned),
        }
    }

    /// The path or label of the source, as errors and logs name it.
    pub fn name(&self) -> String {
        match self {
            Source::Path(path) => path.display().to_string(),
            Source::Stream { label, .. } => label.clone(),
        }
    }

    /// The extension hint: the path's extension, or the one given for a stream.
    pub(crate) fn extension(&self) -> Option<String> {
        match self {
            Source::Path(path) => Path::new(path)
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase),
            Source::Stream { extension, .. } => extension.clone(),
        }
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Path(path) => f.debug_tuple("Path").field(path).finish(),
            Source::Stream {
                label, extension, ..
            } => f
                .debug_struct("Stream")
                .field("label", label)
                .field("extension", extension)
                .finish_non_exhaustive(),
        }
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

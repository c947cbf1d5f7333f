//! The error type for reading a file's tags.

use std::path::PathBuf;

/// Why a file could not be read. Each variant carries the path (empty for in-memory reads).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is empty.
    #[error("{} is empty (0 bytes)", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The bytes are not an audio format Skylark reads.
    #[error("{} is not a recognised audio file", path.display())]
    NotAudio {
        /// The file.
        path: PathBuf,
    },
    /// The file looked like audio but its structure is broken (truncated, corrupt).
    #[error("{} is corrupt or truncated: {message}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// lofty's description of what was wrong.
        message: String,
    },
    /// The file is audio, but in a container whose audio packets cannot be read (no demuxer for
    /// it), so it has no [`AudioId`](crate::AudioId).
    #[error("{}: {message}", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is not supported.
        message: String,
    },
    /// The parser panicked; the file is treated as corrupt.
    #[error("{} could not be parsed (the tag reader failed on it)", path.display())]
    Panicked {
        /// The file.
        path: PathBuf,
    },
}

impl Error {
    /// The path the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            Error::Io { path, .. }
            | Error::Empty { path }
            | Error::NotAudio { path }
            | Error::Corrupt { path, .. }
            | Error::Unsupported { path, .. }
            | Error::Panicked { path } => path,
        }
    }

    /// A short reason without the path, for scan reports that already show the path.
    pub fn reason(&self) -> String {
        match self {
            Error::Io { source, .. } => format!("cannot read: {source}"),
            Error::Empty { .. } => "empty file (0 bytes)".to_owned(),
            Error::NotAudio { .. } => "not a recognised audio file".to_owned(),
            Error::Corrupt { message, .. } => format!("corrupt or truncated: {message}"),
            Error::Unsupported { message, .. } => message.clone(),
            Error::Panicked { .. } => {
                "could not be parsed (the tag reader failed on it)".to_owned()
            }
        }
    }
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

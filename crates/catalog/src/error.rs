//! The catalog's error type.

use std::path::PathBuf;

/// Why a catalog operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database failed.
    #[error("catalog database error while {context}: {source}")]
    Db {
        /// What the catalog was doing.
        context: &'static str,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// The database schema could not be brought up to date.
    #[error("cannot migrate the catalog database: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A track, playlist or other row does not exist.
    #[error("no {kind} with id {id}")]
    NotFound {
        /// What was looked up ("track", "playlist").
        kind: &'static str,
        /// The id asked for.
        id: String,
    },
    /// An argument was out of range or malformed.
    #[error("{0}")]
    InvalidInput(String),
    /// The folder to scan is not inside any root and could not be added as one.
    #[error("{} is not a folder", path.display())]
    NotAFolder {
        /// The path given.
        path: PathBuf,
    },
    /// A file to import is not in the format it should be (a library XML that is not a
    /// property list, a malformed stats line).
    #[error("{}: {reason}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        reason: String,
    },
    /// Watching folders failed.
    #[error("cannot watch folders: {0}")]
    Watch(#[from] notify::Error),
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Adds context to a rusqlite result.
pub(crate) trait DbContext<T> {
    /// Wraps the error with what the catalog was doing.
    fn ctx(self, context: &'static str) -> Result<T>;
}

impl<T> DbContext<T> for std::result::Result<T, rusqlite::Error> {
    fn ctx(self, context: &'static str) -> Result<T> {
        self.map_err(|source| Error::Db { context, source })
    }
}

/// Builds an [`Error::Io`] for `path`.
pub(crate) fn io_error(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}

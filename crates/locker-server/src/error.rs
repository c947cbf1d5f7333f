//! The server's error type: every failure carries the API error code it is reported with.

use skylark_locker_api::ErrorCode;

/// A failure, with the code and message the API reports it with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A failure the client caused or must act on; reported as is.
    #[error("{message}")]
    Api {
        /// The API error code.
        code: ErrorCode,
        /// What to tell the client.
        message: String,
    },
    /// The database failed; reported as an internal error without detail.
    #[error("database error while {context}: {source}")]
    Db {
        /// What the server was doing.
        context: &'static str,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// The database schema could not be brought up to date.
    #[error("cannot migrate the locker database: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// A file could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What the server was doing.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// An error the client is told about.
    pub fn api(code: ErrorCode, message: impl Into<String>) -> Self {
        Error::Api {
            code,
            message: message.into(),
        }
    }

    /// The code the API reports.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Api { code, .. } => *code,
            _ => ErrorCode::Internal,
        }
    }
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Adds context to a rusqlite result.
pub(crate) trait DbContext<T> {
    /// Wraps the error with what the server was doing.
    fn ctx(self, context: &'static str) -> Result<T>;
}

impl<T> DbContext<T> for std::result::Result<T, rusqlite::Error> {
    fn ctx(self, context: &'static str) -> Result<T> {
        self.map_err(|source| Error::Db { context, source })
    }
}

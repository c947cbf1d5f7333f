//! The error type of every locker client call.

use std::path::PathBuf;

use skylark_locker_api::ErrorCode;

/// Why a call to the locker failed. Each variant names the request or file it is about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The address given for the locker is not an `http://` or `https://` URL.
    #[error("{url:?} is not a locker address (expected http://HOST[:PORT] or https://...)")]
    BadUrl {
        /// The address as given.
        url: String,
    },
    /// The locker answered with an error in the API's shape.
    #[error("{request}: {message} ({code:?}, HTTP {status})")]
    Api {
        /// The request, as `METHOD /path`.
        request: String,
        /// The HTTP status.
        status: u16,
        /// The API's error code.
        code: ErrorCode,
        /// The locker's explanation.
        message: String,
    },
    /// The locker could not be reached, or the connection failed mid-request.
    #[error("{request}: cannot reach the locker: {source}")]
    Network {
        /// The request, as `METHOD /path`.
        request: String,
        /// What failed.
        #[source]
        source: reqwest::Error,
    },
    /// The locker answered something this client does not understand.
    #[error("{request}: unexpected answer from the locker: {message}")]
    Protocol {
        /// The request, as `METHOD /path`.
        request: String,
        /// What was wrong with the answer.
        message: String,
    },
    /// A transfer failed again and again and was given up.
    #[error("{request}: gave up after {attempts} failed attempts; the last: {last}")]
    GaveUp {
        /// The request, as `METHOD /path`.
        request: String,
        /// How many attempts failed in a row.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// A local file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The catalog (its sync outbox) could not be read or written.
    #[error(transparent)]
    Catalog(#[from] skylark_catalog::Error),
    /// A local file's hashes could not be computed.
    #[error(transparent)]
    Tags(#[from] skylark_tags::Error),
    /// The sign-in could not be saved to, read from or removed from the keychain or its file.
    #[error("cannot {action} the locker sign-in: {message}")]
    Credentials {
        /// What was being done ("save", "read", "remove").
        action: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The transfer was cancelled through its [`TransferControl`](crate::TransferControl).
    #[error("the transfer was cancelled")]
    Cancelled,
    /// A blocking call was made from inside an async runtime, where it would stall the runtime.
    #[error("the locker client blocks; call it from a plain thread (e.g. tokio's spawn_blocking)")]
    InsideAsyncRuntime,
}

impl Error {
    /// The API error code, when the locker answered with one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether the locker refused the credentials (sign in again).
    pub fn is_unauthorized(&self) -> bool {
        self.code() == Some(ErrorCode::Unauthorized)
    }
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

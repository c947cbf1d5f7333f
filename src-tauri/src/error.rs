//! The one error type every command returns, shaped for the UI: a kind it can branch on and a
//! sentence it can show as is.

use serde::Serialize;

/// What sort of failure a command met; the UI picks its wording and placement from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A track, album, playlist or other item does not exist (any more).
    NotFound,
    /// The request itself was wrong: an empty name, a rating out of range.
    InvalidInput,
    /// A file or folder could not be read or written.
    Io,
    /// The library database failed.
    Database,
    /// Audio could not be played: a file that does not decode, a missing device.
    Playback,
    /// Something else.
    Internal,
}

/// A command's failure, as the UI receives it: `{ "kind": "not_found", "message": "…" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppError {
    /// What sort of failure.
    pub kind: ErrorKind,
    /// What happened, in words a user understands, naming the file or item concerned.
    pub message: String,
}

impl AppError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

/// The message of an error and of each of its sources, joined: "reading x.flac: permission denied".
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

impl From<skylark_catalog::Error> for AppError {
    fn from(error: skylark_catalog::Error) -> Self {
        use skylark_catalog::Error as E;
        let kind = match &error {
            E::NotFound { .. } => ErrorKind::NotFound,
            E::InvalidInput(_) | E::NotAFolder { .. } | E::Format { .. } => ErrorKind::InvalidInput,
            E::Io { .. } | E::Watch(_) => ErrorKind::Io,
            E::Db { .. } | E::Migration(_) => ErrorKind::Database,
            _ => ErrorKind::Internal,
        };
        Self::new(kind, chain(&error))
    }
}

impl From<skylark_player::Error> for AppError {
    fn from(error: skylark_player::Error) -> Self {
        Self::new(ErrorKind::Playback, chain(&error))
    }
}

/// What every command returns.
pub type CmdResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_errors_keep_their_kind_and_name_the_item() {
        let error: AppError = skylark_catalog::Error::NotFound {
            kind: "playlist",
            id: "7".to_owned(),
        }
        .into();
        assert_eq!(error.kind, ErrorKind::NotFound);
        assert_eq!(error.message, "no playlist with id 7");
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["kind"], "not_found");
    }

    #[test]
    fn the_chain_names_every_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied");
        let error: AppError = skylark_catalog::Error::Io {
            path: "/music/x.flac".into(),
            source: io,
        }
        .into();
        assert_eq!(error.kind, ErrorKind::Io);
        assert_eq!(error.message, "/music/x.flac: permission denied");
    }
}

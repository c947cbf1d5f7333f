//! The locker's wire contract: the JSON shapes of `/api/v1` requests and responses and the error
//! codes, shared by the server (`skylark-locker`) and every client.
//!
//! **Architecture Invariant:** this crate holds data types and the pure rules every side must
//! compute alike (playlist order keys): no I/O, no HTTP library, no database. Both sides depend on
//! it and on nothing of each other; the desktop catalog uses it for the ops it writes and applies.

pub mod ops;
pub mod order_key;
pub mod subsonic;

use serde::{Deserialize, Serialize};

/// Every error the API returns, as `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The code and human-readable message of an API error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// What went wrong, for programs.
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub message: String,
}

/// What went wrong, one code per kind of failure a client handles differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The request is malformed (bad JSON, missing or invalid fields).
    BadRequest,
    /// No valid credentials: sign in again.
    Unauthorized,
    /// The credentials are valid but do not allow this.
    Forbidden,
    /// No such resource (or it belongs to another account).
    NotFound,
    /// The request conflicts with the current state.
    Conflict,
    /// Too many attempts; wait before trying again.
    RateLimited,
    /// The upload is larger than the server accepts.
    PayloadTooLarge,
    /// The account's storage quota would be exceeded.
    QuotaExceeded,
    /// Uploaded bytes do not match their declared checksum or hash; they were not kept.
    ChecksumMismatch,
    /// The stored file cannot be decoded for the form asked (a format the server has no decoder
    /// for, or damaged audio).
    Undecodable,
    /// The server failed; the request may be retried.
    Internal,
}

impl ErrorCode {
    /// The HTTP status that goes with the code.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::QuotaExceeded => 507,
            // tus 1.0 checksum extension: "460 Checksum Mismatch".
            ErrorCode::ChecksumMismatch => 460,
            ErrorCode::RateLimited => 429,
            ErrorCode::Undecodable => 422,
            ErrorCode::Internal => 500,
        }
    }
}

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    /// Account name.
    pub username: String,
    /// Password.
    pub password: String,
    /// A name for the device, shown in the session list ("Lena's laptop").
    #[serde(default)]
    pub device: String,
}

/// The answer to a successful login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    /// The bearer token for `Authorization: Bearer ...`. Shown once; the server keeps only its hash.
    pub token: String,
    /// The session the token belongs to.
    pub session: Session,
    /// The signed-in account.
    pub user: User,
}

/// A signed-in device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Session id (not the token).
    pub id: String,
    /// The device name given at login.
    pub device: String,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created_at: i64,
    /// When it was last used, in milliseconds since the Unix epoch.
    pub last_used_at: i64,
    /// When it expires, in milliseconds since the Unix epoch.
    pub expires_at: i64,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// An account as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Account name.
    pub name: String,
    /// Storage quota in bytes (0 for none).
    pub quota_bytes: u64,
    /// Bytes stored.
    pub used_bytes: u64,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// "ok" when the server can reach its database.
    pub status: String,
    /// The server's version.
    pub version: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_the_documented_shape() {
        let body = ErrorBody {
            error: ErrorDetail {
                code: ErrorCode::RateLimited,
                message: "wait".to_owned(),
            },
        };
        let json = serde_json::to_string(&body).unwrap();
        assert_eq!(
            json,
            r#"{"error":{"code":"rate_limited","message":"wait"}}"#
        );
        assert_eq!(ErrorCode::RateLimited.status(), 429);
        assert_eq!(ErrorCode::NotFound.status(), 404);
    }

    #[test]
    fn the_device_name_is_optional() {
        let req: LoginRequest = serde_json::from_str(r#"{"username":"a","password":"b"}"#).unwrap();
        assert_eq!(req.device, "");
    }
}

/// Files per `POST /api/v1/match`, at most; a longer list is refused with `bad_request`.
pub const MAX_MATCH_FILES: usize = 10_000;

/// `POST /api/v1/match`: what the client has, asking what the locker needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchRequest {
    /// Files, at most [`MAX_MATCH_FILES`] per request.
    pub files: Vec<MatchFile>,
}

/// One local file offered for matching.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchFile {
    /// BLAKE3 over the file's audio packets (unchanged by tag edits); may be empty if unknown.
    #[serde(default)]
    pub audio_id: String,
    /// BLAKE3 of the whole file, hex.
    pub file_hash: String,
    /// The file's size in bytes.
    pub size: u64,
}

/// The answer to `POST /api/v1/match`, one verdict per file, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchResponse {
    /// Verdicts.
    pub results: Vec<MatchVerdict>,
}

/// What the locker needs for one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum MatchVerdict {
    /// The account already holds this file (or a file with the same audio).
    Have,
    /// The locker holds these bytes for another account: prove you have them too.
    Claim {
        /// The challenge to answer at `POST /api/v1/claims`.
        challenge: ClaimChallenge,
    },
    /// Upload the file.
    Upload,
}

/// A proof-of-possession challenge: hash the nonce followed by the file's bytes in each range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimChallenge {
    /// The claim's id.
    pub id: String,
    /// Random bytes, hex, that start the proof's input.
    pub nonce: String,
    /// Byte ranges of the file, `[offset, length]`, hashed in this order after the nonce.
    pub ranges: Vec<(u64, u64)>,
    /// When the challenge stops being accepted, in milliseconds since the Unix epoch.
    pub expires_at: i64,
}

/// `POST /api/v1/claims`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRequest {
    /// The challenge's id.
    pub id: String,
    /// BLAKE3, hex, of the nonce's bytes followed by the bytes of each range.
    pub proof: String,
}

/// The answer to an accepted claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimResponse {
    /// The file hash now linked to the account.
    pub file_hash: String,
}

/// The answer to `POST /api/v1/tracks/{id}/stream-url`: a short-lived link that streams the track
/// without an `Authorization` header (for an `<audio>` element, or a player that cannot send one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedUrl {
    /// A path and query, relative to the server, that streams the track without a header.
    pub url: String,
    /// When it stops working, in milliseconds since the Unix epoch.
    pub expires_at: i64,
}

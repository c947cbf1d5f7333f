//! The locker's wire contract: the JSON shapes of `/api/v1` requests and responses and the error
//! codes, shared by the server (`skylark-locker`) and every client.
//!
//! **Architecture Invariant:** this crate holds data types only: no I/O, no HTTP library, no
//! database. Both sides depend on it and on nothing of each other.

pub mod ops;

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

//! The credentials Subsonic apps sign in with, managed by the signed-in user over `/api/v1`.
//!
//! Subsonic apps never see the account password. They sign in with an app password (for the
//! protocol's `u`+`t`+`s` token and `u`+`p` password forms) or with an API key (the OpenSubsonic
//! `apiKeyAuthentication` extension); both are made by the server and shown once.

use serde::{Deserialize, Serialize};

/// The answer to `POST /api/v1/subsonic/password`: a new app password, which replaces the old one.
/// Shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppPassword {
    /// The account name to give the app.
    pub username: String,
    /// The password to give the app.
    pub password: String,
    /// When it was made, in milliseconds since the Unix epoch.
    pub created_at: i64,
}

/// `POST /api/v1/subsonic/api-keys`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiKeyRequest {
    /// A name for the key, shown in the key list ("car", "phone").
    #[serde(default)]
    pub label: String,
}

/// An API key as the key list shows it (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// The key's id, for revoking it.
    pub id: String,
    /// Its name.
    pub label: String,
    /// When it was made, in milliseconds since the Unix epoch.
    pub created_at: i64,
    /// When an app last signed in with it, in milliseconds since the Unix epoch.
    pub last_used_at: Option<i64>,
}

/// The answer to `POST /api/v1/subsonic/api-keys`: the key, shown once (the server keeps only its
/// hash), and its entry in the key list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiKey {
    /// The key, for the app's `apiKey` parameter.
    pub key: String,
    /// The key's entry in the list.
    pub info: ApiKey,
}

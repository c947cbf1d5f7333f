//! `skylark-locker`: the self-hosted server that holds each Skylark user's music.
//!
//! This part holds accounts ([`accounts`]), sign-in sessions ([`sessions`]) with rate-limited
//! logins ([`ratelimit`]), resumable tus uploads ([`uploads`], one request at a time per upload:
//! [`upload_turns`]) into the content-addressed blob store ([`storage`]: the data folder or an
//! S3-compatible bucket), configuration ([`config`]) and the HTTP API that serves them ([`http`]),
//! the account's library as the web player and Subsonic apps browse it ([`library`]), the web
//! player's sign-in and commands ([`web`]) and the OpenSubsonic API for Subsonic apps ([`subsonic`]).
//!
//! **Architecture Invariant:** every query that touches a user's data is scoped to the user the
//! request authenticated as; an id belonging to another account answers "not found".
//!
//! **Architecture Invariant:** the server shares nothing with the desktop side but the wire types
//! in `skylark-locker-api`.

pub mod accounts;
pub mod catalog;
pub mod config;
pub mod covers;
mod db;
mod error;
pub mod http;
pub mod library;
pub mod loopback;
pub mod lyrics;
pub mod matching;
pub mod metrics;
pub mod playlists;
pub mod ratelimit;
pub mod sessions;
pub mod signed;
pub mod storage;
pub mod stream;
pub mod subsonic;
pub mod transcode;
pub mod upload_turns;
pub mod uploads;
pub mod web;

pub use crate::db::open_database;
pub use crate::error::{Error, Result};

/// Milliseconds since the Unix epoch, the time unit of the API and the database.
pub type UnixMillis = i64;

/// The current time in [`UnixMillis`]; the one place the server reads the clock for stored times.
pub fn now_millis() -> UnixMillis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

//! Talking to a Skylark locker from a device: sign-in ([`Client::sign_in`], kept by
//! [`CredentialStore`]), scan and match ([`LocalFile`], [`Client::match_files`],
//! [`Client::prove_claim`]), resumable uploads over tus ([`Client::upload`]), the catalog's ops
//! and change feed ([`Client::push_ops`], [`Client::pull_changes`]; [`Client::push_outbox`] sends
//! a catalog's outbox) and streaming a file for the player ([`RemoteSource`]).
//!
//! The client is blocking: a desktop app calls it from worker threads, the command line from its
//! main thread. Long transfers report progress through callbacks and stop through a
//! [`TransferControl`]; a [`Bandwidth`] limit is shared by every transfer that holds it.
//!
//! **Architecture Invariant:** this crate speaks only the wire contract in `skylark-locker-api`;
//! it shares no code with the server.
//!
//! **Architecture Invariant:** this crate keeps no database of its own. What must survive a
//! restart is written by [`CredentialStore`] (the sign-in), handed to the caller to persist
//! ([`Upload`]), or kept in the catalog it is given (the sync outbox).

mod bandwidth;
mod cache;
mod client;
mod credentials;
mod error;
mod library;
mod matching;
mod stream;
mod sync;
mod upload;

pub use bandwidth::Bandwidth;
pub use cache::{DEFAULT_CACHE_CAP_BYTES, StreamedCopies};
pub use client::{Client, Credentials, MAX_OPS_PER_REQUEST};
pub use credentials::{CredentialStore, TokenLocation};
pub use error::{Error, Result};
pub use library::{
    HashingReport, LibraryProgress, LibraryUpload, LibraryUploadReport, hash_in_background,
};
pub use matching::{LocalFile, MAX_MATCH_FILES, possession_proof};
pub use stream::{
    CacheStatus, LazyRemoteSource, LazyWatch, RemoteSource, StreamOptions, StreamWatch,
};
pub use sync::{PullReport, PushReport, SyncReport};
pub use upload::{
    TransferControl, Upload, UploadEvent, UploadOptions, UploadOutcome, UploadReport,
};

/// The wire types this crate's API uses, re-exported so callers need not depend on the API
/// crate for them.
pub use skylark_locker_api as api;

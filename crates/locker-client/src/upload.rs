//! Resumable uploads over tus 1.0 (<https://tus.io/protocols/resumable-upload>): creation, PATCH
//! from the offset the locker acknowledged, HEAD to find that offset again after a dropped
//! connection, termination on cancel, and the checksum extension (SHA-1 per chunk).
//!
//! **Surviving a restart.** An upload's whole state is an [`Upload`]: the file, its size and
//! hash, the tus upload URL once created and the offset the locker last acknowledged. The
//! callback given to [`Client::upload`] sees it after every change that matters
//! ([`UploadEvent::Created`], [`UploadEvent::Acknowledged`], [`UploadEvent::Resumed`]); whoever
//! owns the upload queue (the catalog's `uploads` table) stores it then (it is `serde`-ready). After
//! a restart, the stored `Upload` is handed to [`Client::upload`] again: it asks the locker for
//! the offset (HEAD) and sends only the bytes after it. If the locker no longer knows the upload
//! (it finished just as the app died, or it expired), the client matches the file: when the
//! locker has it, the upload is done; otherwise it starts over.
//!
//! Bytes are read a chunk at a time (at most [`UploadOptions::chunk_bytes`] in memory) and handed
//! to the connection in small pieces, so a bandwidth limit, a pause or a cancel takes effect
//! within a piece.

use std::io::SeekFrom;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::{Method, Response, StatusCode};
use sha1::Digest;
use skylark_locker_api::{ErrorCode, MatchFile, MatchRequest, MatchResponse, MatchVerdict};
use skylark_tags::FileHash;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tracing::Instrument;

use crate::bandwidth::Bandwidth;
use crate::client::{Client, api_error};
use crate::error::{Error, Result};
use crate::matching::LocalFile;

/// The tus version spoken.
const TUS_VERSION: &str = "1.0.0";
/// The most bytes handed to the connection at once; bounds how late a pause or limit bites.
const PIECE_BYTES: usize = 32 * 1024;
/// How often a running PATCH reports progress and looks at its control.
const TICK: Duration = Duration::from_millis(100);
/// How long the locker may take to answer once a chunk's bytes are all sent (it hashes the
/// whole file after the last one).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);

/// One file's upload: everything needed to resume it, in this process or after a restart.
///
/// Persist it when [`Client::upload`] reports [`UploadEvent::Created`],
/// [`UploadEvent::Resumed`] or [`UploadEvent::Acknowledged`]; hand the stored value to
/// [`Client::upload`] again to go on. The client asks the locker for its offset (tus HEAD) and
/// sends only the bytes after it; an upload the locker no longer knows is matched (done if the
/// file is in the account) or started over.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Upload {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes when it was hashed.
    pub size: u64,
    /// Its BLAKE3 hash, which the locker verifies when the last byte arrives.
    pub file_hash: FileHash,
    /// The tus upload's URL, once created.
    pub url: Option<String>,
    /// Bytes the locker has acknowledged.
    pub offset: u64,
}

impl Upload {
    /// A new upload of `file`.
    pub fn new(file: &LocalFile) -> Self {
        Self {
            path: file.path.clone(),
            size: file.size,
            file_hash: file.file_hash,
            url: None,
            offset: 0,
        }
    }
}

/// How to upload.
#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// Bytes per PATCH request. With `checksum`, a chunk cut short is not kept by the locker, so
    /// this bounds what a dropped connection costs; without it the locker keeps every byte that
    /// arrived.
    pub chunk_bytes: u64,
    /// Send each chunk's SHA-1 (tus checksum extension) so a chunk damaged in transit is refused
    /// and sent again, rather than failing the whole file's hash at the end.
    pub checksum: bool,
    /// A rate limit, shared with whatever else holds a clone.
    pub bandwidth: Option<Bandwidth>,
    /// Failures in a row (with no byte acknowledged in between) before giving up. The HEAD
    /// that follows a failure does not end the row, even when it answers: only bytes do.
    pub max_failures: u32,
    /// The wait after the first failure; it doubles with each further one, up to 10 s.
    pub retry_delay: Duration,
    /// A PATCH that sends nothing for this long is dropped and retried.
    pub stall_timeout: Duration,
}

impl Default for UploadOptions {
    fn default() -> Self {
        Self {
            chunk_bytes: 4 * 1024 * 1024,
            checksum: true,
            bandwidth: None,
            max_failures: 6,
            retry_delay: Duration::from_millis(500),
            stall_timeout: Duration::from_secs(30),
        }
    }
}

/// What happened during an upload, for progress displays and for persisting the [`Upload`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UploadEvent {
    /// The locker created the upload at `url`: persist the upload now.
    Created {
        /// The upload's URL.
        url: String,
    },
    /// The locker reported `offset` bytes received when the upload was picked up again.
    Resumed {
        /// Bytes the locker holds.
        offset: u64,
    },
    /// Bytes of the file handed to the network so far (acknowledged or in flight).
    Progress {
        /// Bytes sent, counted from the start of the file.
        sent: u64,
        /// The file's size.
        total: u64,
    },
    /// The locker acknowledged bytes up to `offset`: persist the upload now.
    Acknowledged {
        /// Bytes the locker holds.
        offset: u64,
    },
    /// An attempt failed; the upload tries again after a pause.
    Retrying {
        /// Failures in a row so far.
        failures: u32,
        /// What failed.
        error: String,
    },
}

/// How an upload ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadOutcome {
    /// Every byte arrived and the locker verified the file's hash: the blob is in the account.
    Uploaded,
    /// The locker already had the file for this account (found when resuming an upload it no
    /// longer knew).
    AlreadyInLocker,
    /// Paused through the [`TransferControl`]; call [`Client::upload`] again to resume.
    Paused,
}

/// The end of one [`Client::upload`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadReport {
    /// How it ended.
    pub outcome: UploadOutcome,
    /// File bytes sent over the network by this call, resent ones included.
    pub bytes_sent: u64,
}

const RUNNING: u8 = 0;
const PAUSED: u8 = 1;
const CANCELLED: u8 = 2;

/// Pauses or cancels a transfer from another thread. Clones control the same transfers.
#[derive(Debug, Clone, Default)]
pub struct TransferControl {
    state: Arc<AtomicU8>,
}

impl TransferControl {
    /// A control in the running state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the transfer to stop where it is and return [`UploadOutcome::Paused`]; what the
    /// locker acknowledged is kept.
    pub fn pause(&self) {
        let _ = self
            .state
            .compare_exchange(RUNNING, PAUSED, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// Asks the transfer to stop and delete what the locker received ([`Error::Cancelled`]).
    pub fn cancel(&self) {
        self.state.store(CANCELLED, Ordering::SeqCst);
    }

    /// Back to running, for the next [`Client::upload`] call.
    pub fn resume(&self) {
        self.state.store(RUNNING, Ordering::SeqCst);
    }

    /// Whether a pause was asked for.
    pub fn is_paused(&self) -> bool {
        self.state.load(Ordering::SeqCst) == PAUSED
    }

    /// Whether a cancel was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.state.load(Ordering::SeqCst) == CANCELLED
    }

    fn is_stopped(&self) -> bool {
        self.state.load(Ordering::SeqCst) != RUNNING
    }
}

/// What one step of the upload loop came to.
enum Step {
    /// Progress (or a state change) was made; go on.
    Continue,
    /// The upload is over.
    Done(UploadOutcome),
}

/// Why a step did not finish.
enum Failure {
    /// A failure worth another attempt (network, 5xx, stall, a chunk refused by its checksum).
    Retry(String),
    /// The control asked to stop.
    Stopped,
    /// A failure that retrying cannot fix.
    Fatal(Error),
}

type Events<'a> = &'a mut dyn FnMut(&UploadEvent, &Upload);

fn header_u64(response: &Response, name: &str) -> Option<u64> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Transient statuses: the locker or something in front of it failed, or asks to wait; try
/// again. (507, a full quota, is a server-class status that retrying cannot fix.)
pub(crate) fn retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

impl Client {
    /// Uploads `upload`'s file, resuming from where the locker stands, until it is in the
    /// account, paused, or failed. `on_event` is called with each [`UploadEvent`] and the upload
    /// as it is then; persist the upload on `Created`, `Resumed` and `Acknowledged`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be read or its size changed, [`Error::Cancelled`],
    /// [`Error::Api`] for refusals retrying cannot fix (quota, size limit, sign-in, the file's
    /// hash no longer matching at the end), [`Error::GaveUp`] after
    /// [`UploadOptions::max_failures`] failures in a row.
    pub fn upload(
        &self,
        upload: &mut Upload,
        options: &UploadOptions,
        control: &TransferControl,
        on_event: &mut dyn FnMut(&UploadEvent, &Upload),
    ) -> Result<UploadReport> {
        let mut sent = 0;
        let outcome = self.upload_counted(upload, options, control, on_event, &mut sent)?;
        Ok(UploadReport {
            outcome,
            bytes_sent: sent,
        })
    }

    /// [`Client::upload`], adding to `sent` the file bytes it sends (resent ones included) as it
    /// goes, so that they are known when it fails too.
    pub(crate) fn upload_counted(
        &self,
        upload: &mut Upload,
        options: &UploadOptions,
        control: &TransferControl,
        on_event: &mut dyn FnMut(&UploadEvent, &Upload),
        sent: &mut u64,
    ) -> Result<UploadOutcome> {
        let span = tracing::info_span!("upload", path = %upload.path.display());
        self.run(
            self.upload_async(upload, options, control, on_event, sent)
                .instrument(span),
        )
    }

    async fn upload_async(
        &self,
        up: &mut Upload,
        options: &UploadOptions,
        control: &TransferControl,
        on_event: Events<'_>,
        sent: &mut u64,
    ) -> Result<UploadOutcome> {
        let path = up.path.clone();
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        let mut file = tokio::fs::File::open(&up.path).await.map_err(io)?;
        let len = file.metadata().await.map_err(io)?.len();
        if len != up.size {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "the file has {len} bytes, not the {} it had when hashed; hash it again",
                    up.size
                ),
            )));
        }
        // Failures since the locker last acknowledged a byte. A HEAD that answers is no
        // progress: a chunk that is cut every time it is sent must still run out of attempts,
        // not be resent forever.
        let mut failures = 0u32;
        let mut last_failure = String::new();
        // Whether the step just failed, so the next waits before it tries again.
        let mut back_off = false;
        // Whether `up.offset` is known to be the locker's; false until a HEAD or a PATCH says so.
        let mut synced = false;
        loop {
            if control.is_cancelled() {
                self.terminate(up).await;
                return Err(Error::Cancelled);
            }
            if control.is_paused() {
                return Ok(UploadOutcome::Paused);
            }
            if failures >= options.max_failures.max(1) {
                return Err(Error::GaveUp {
                    request: format!("uploading {}", up.path.display()),
                    attempts: failures,
                    last: last_failure,
                });
            }
            if std::mem::take(&mut back_off) {
                let shift = (failures.max(1) - 1).min(16);
                let wait = (options.retry_delay * (1u32 << shift)).min(Duration::from_secs(10));
                if !pause_unless_stopped(wait, control).await {
                    continue;
                }
            }
            let acknowledged = up.offset;
            let step = if up.url.is_none() {
                self.create(up, on_event).await.map(|()| {
                    synced = true;
                    Step::Continue
                })
            } else if !synced {
                self.resync(up, on_event).await.inspect(|step| {
                    synced = matches!(step, Step::Continue) && up.url.is_some();
                })
            } else {
                self.send_chunk(up, &mut file, options, control, on_event, sent)
                    .await
            };
            match step {
                Ok(Step::Done(outcome)) => return Ok(outcome),
                Ok(Step::Continue) => {
                    if up.offset > acknowledged {
                        failures = 0;
                    }
                }
                Err(Failure::Stopped) => {}
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Retry(why)) => {
                    failures += 1;
                    back_off = true;
                    synced = false;
                    tracing::info!(failures, error = %why, "upload attempt failed");
                    on_event(
                        &UploadEvent::Retrying {
                            failures,
                            error: why.clone(),
                        },
                        up,
                    );
                    last_failure = why;
                }
            }
        }
    }

    /// tus creation: `POST /api/v1/uploads`.
    async fn create(
        &self,
        up: &mut Upload,
        on_event: Events<'_>,
    ) -> std::result::Result<(), Failure> {
        const WHAT: &str = "POST /api/v1/uploads";
        let filename = up
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let request = self
            .authed(Method::POST, "/api/v1/uploads")
            .header("tus-resumable", TUS_VERSION)
            .header("upload-length", up.size.to_string())
            .header(
                "upload-metadata",
                format!(
                    "filename {},blake3 {}",
                    b64(&filename),
                    b64(&up.file_hash.to_hex())
                ),
            );
        let response = request
            .send()
            .await
            .map_err(|e| Failure::Retry(format!("{WHAT}: {e}")))?;
        let status = response.status();
        if status != StatusCode::CREATED {
            let body = response.bytes().await.unwrap_or_default();
            let error = api_error(WHAT, status, &body);
            return Err(if retryable(status) {
                Failure::Retry(error.to_string())
            } else {
                Failure::Fatal(error)
            });
        }
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                Failure::Fatal(Error::Protocol {
                    request: WHAT.to_owned(),
                    message: "201 without a Location".to_owned(),
                })
            })?;
        let url = self.url(location);
        up.url = Some(url.clone());
        up.offset = 0;
        tracing::debug!(%url, "upload created");
        on_event(&UploadEvent::Created { url }, up);
        Ok(())
    }

    /// tus HEAD: learns the offset the locker holds. An upload the locker no longer knows is
    /// looked up by matching: done if the file is in the account, else started over.
    async fn resync(
        &self,
        up: &mut Upload,
        on_event: Events<'_>,
    ) -> std::result::Result<Step, Failure> {
        const WHAT: &str = "HEAD upload";
        let Some(url) = up.url.clone() else {
            return Ok(Step::Continue);
        };
        let response = self
            .authed(Method::HEAD, &url)
            .header("tus-resumable", TUS_VERSION)
            .send()
            .await
            .map_err(|e| Failure::Retry(format!("{WHAT}: {e}")))?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            tracing::info!(%url, "the locker no longer knows the upload");
            up.url = None;
            up.offset = 0;
            return self.already_in_locker(up).await.map(|have| {
                if have {
                    Step::Done(UploadOutcome::AlreadyInLocker)
                } else {
                    Step::Continue
                }
            });
        }
        if !status.is_success() {
            let error = api_error(WHAT, status, &[]);
            return Err(if retryable(status) {
                Failure::Retry(error.to_string())
            } else {
                Failure::Fatal(error)
            });
        }
        let offset = header_u64(&response, "upload-offset")
            .ok_or_else(|| Failure::Retry(format!("{WHAT}: the answer has no Upload-Offset")))?;
        if header_u64(&response, "upload-length").is_some_and(|l| l != up.size) || offset > up.size
        {
            // The stored URL belongs to another file; this one starts over.
            self.terminate(up).await;
            return Ok(Step::Continue);
        }
        up.offset = offset;
        on_event(&UploadEvent::Resumed { offset }, up);
        Ok(Step::Continue)
    }

    /// Whether the account already holds the upload's file.
    async fn already_in_locker(&self, up: &Upload) -> std::result::Result<bool, Failure> {
        let request = MatchRequest {
            files: vec![MatchFile {
                audio_id: String::new(),
                file_hash: up.file_hash.to_hex(),
                size: up.size,
            }],
        };
        let answer: MatchResponse = self
            .post_json_async("/api/v1/match", &request)
            .await
            .map_err(|e| match &e {
                Error::Network { .. } => Failure::Retry(e.to_string()),
                Error::Api { status, .. } if StatusCode::from_u16(*status).is_ok_and(retryable) => {
                    Failure::Retry(e.to_string())
                }
                _ => Failure::Fatal(e),
            })?;
        Ok(matches!(answer.results.first(), Some(MatchVerdict::Have)))
    }

    /// tus termination, best effort: the upload is abandoned either way.
    async fn terminate(&self, up: &mut Upload) {
        if let Some(url) = up.url.take() {
            let result = self
                .authed(Method::DELETE, &url)
                .header("tus-resumable", TUS_VERSION)
                .send()
                .await;
            if let Err(e) = result {
                tracing::warn!(%url, error = %e, "cannot delete an abandoned upload; it will expire");
            }
        }
        up.offset = 0;
    }

    /// One PATCH of up to a chunk from the acknowledged offset.
    async fn send_chunk(
        &self,
        up: &mut Upload,
        file: &mut tokio::fs::File,
        options: &UploadOptions,
        control: &TransferControl,
        on_event: Events<'_>,
        sent_total: &mut u64,
    ) -> std::result::Result<Step, Failure> {
        const WHAT: &str = "PATCH upload";
        let Some(url) = up.url.clone() else {
            return Ok(Step::Continue);
        };
        let start = up.offset;
        let len = options
            .chunk_bytes
            .max(1)
            .min(up.size.saturating_sub(start));
        let chunk = read_chunk(file, start, len).await.map_err(|source| {
            Failure::Fatal(Error::Io {
                path: up.path.clone(),
                source,
            })
        })?;
        let counter = Arc::new(AtomicU64::new(0));
        let body = body_stream(
            chunk.clone(),
            options.bandwidth.clone(),
            control.clone(),
            Arc::clone(&counter),
        );
        let mut request = self
            .authed_untimed(Method::PATCH, &url)
            .header("tus-resumable", TUS_VERSION)
            .header("upload-offset", start.to_string())
            .header(CONTENT_TYPE, "application/offset+octet-stream")
            .header(CONTENT_LENGTH, len.to_string());
        if options.checksum {
            let digest = sha1::Sha1::digest(&chunk);
            let encoded = base64::engine::general_purpose::STANDARD.encode(digest);
            request = request.header("upload-checksum", format!("sha1 {encoded}"));
        }
        let send = request.body(reqwest::Body::wrap_stream(body)).send();
        tokio::pin!(send);
        let mut tick = tokio::time::interval(TICK);
        let mut last_count = 0u64;
        let mut last_change = Instant::now();
        let outcome = loop {
            tokio::select! {
                result = &mut send => break Ok(result),
                _ = tick.tick() => {
                    let count = counter.load(Ordering::Relaxed);
                    if count != last_count {
                        last_count = count;
                        last_change = Instant::now();
                        on_event(&UploadEvent::Progress { sent: start + count, total: up.size }, up);
                    }
                    if control.is_stopped() {
                        break Err(Failure::Stopped);
                    }
                    let limit = if count < len { options.stall_timeout } else { ANSWER_TIMEOUT };
                    if last_change.elapsed() > limit {
                        break Err(Failure::Retry(format!(
                            "{WHAT}: nothing moved for {} s",
                            limit.as_secs()
                        )));
                    }
                }
            }
        };
        // A request that finished between two ticks still reports how far it got, so every
        // chunk sent shows in the progress, however fast the network.
        let count = counter.load(Ordering::Relaxed);
        if count != last_count {
            on_event(
                &UploadEvent::Progress {
                    sent: start + count,
                    total: up.size,
                },
                up,
            );
        }
        *sent_total += count;
        let response = match outcome? {
            Ok(response) => response,
            Err(_) if control.is_stopped() => return Err(Failure::Stopped),
            Err(e) => return Err(Failure::Retry(format!("{WHAT}: {e}"))),
        };
        let status = response.status();
        if status == StatusCode::NO_CONTENT || status == StatusCode::OK {
            let offset = header_u64(&response, "upload-offset").ok_or_else(|| {
                Failure::Retry(format!("{WHAT}: the answer has no Upload-Offset"))
            })?;
            if offset < start || offset > up.size {
                return Err(Failure::Retry(format!(
                    "{WHAT}: the locker reports offset {offset} after a chunk at {start}"
                )));
            }
            up.offset = offset;
            on_event(&UploadEvent::Acknowledged { offset }, up);
            return Ok(if offset == up.size {
                Step::Done(UploadOutcome::Uploaded)
            } else {
                Step::Continue
            });
        }
        let body = response.bytes().await.unwrap_or_default();
        let error = api_error(WHAT, status, &body);
        match error.code() {
            // The chunk was damaged on the way (it is sent again), or the whole file's hash did
            // not match and the locker discarded the upload (retrying cannot help).
            Some(ErrorCode::ChecksumMismatch) => {
                if self.upload_exists(&url).await {
                    Err(Failure::Retry(error.to_string()))
                } else {
                    up.url = None;
                    up.offset = 0;
                    Err(Failure::Fatal(error))
                }
            }
            // Another offset than ours, or an upload that expired: HEAD sorts it out.
            Some(ErrorCode::Conflict | ErrorCode::NotFound) => {
                Err(Failure::Retry(error.to_string()))
            }
            _ if retryable(status) => Err(Failure::Retry(error.to_string())),
            _ => Err(Failure::Fatal(error)),
        }
    }

    async fn upload_exists(&self, url: &str) -> bool {
        self.authed(Method::HEAD, url)
            .header("tus-resumable", TUS_VERSION)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }
}

/// Waits `wait`, or less if the control asks to stop; true if the whole wait passed.
async fn pause_unless_stopped(wait: Duration, control: &TransferControl) -> bool {
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if control.is_stopped() {
            return false;
        }
        tokio::time::sleep(TICK.min(deadline - Instant::now())).await;
    }
    true
}

async fn read_chunk(file: &mut tokio::fs::File, start: u64, len: u64) -> std::io::Result<Bytes> {
    file.seek(SeekFrom::Start(start)).await?;
    let mut buf = vec![0u8; usize::try_from(len).map_err(std::io::Error::other)?];
    file.read_exact(&mut buf).await?;
    Ok(Bytes::from(buf))
}

/// The PATCH body: `chunk` in pieces, each let through by the bandwidth limit and counted; a
/// stop from the control ends the body with an error, which aborts the request.
fn body_stream(
    chunk: Bytes,
    bandwidth: Option<Bandwidth>,
    control: TransferControl,
    counter: Arc<AtomicU64>,
) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    futures::stream::unfold(0usize, move |pos| {
        let (chunk, bandwidth, control, counter) = (
            chunk.clone(),
            bandwidth.clone(),
            control.clone(),
            Arc::clone(&counter),
        );
        async move {
            if pos >= chunk.len() {
                return None;
            }
            if control.is_stopped() {
                return Some((
                    Err(std::io::Error::other("the upload was stopped")),
                    chunk.len(),
                ));
            }
            let n = PIECE_BYTES.min(chunk.len() - pos);
            if let Some(bandwidth) = &bandwidth {
                bandwidth.acquire(n as u64).await;
            }
            counter.fetch_add(n as u64, Ordering::Relaxed);
            Some((Ok(chunk.slice(pos..pos + n)), pos + n))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    #[test]
    fn controls_pause_cancel_and_resume() {
        let c = TransferControl::new();
        assert!(!c.is_stopped());
        c.pause();
        assert!(c.is_paused() && c.is_stopped());
        c.cancel();
        assert!(c.is_cancelled());
        c.pause();
        assert!(c.is_cancelled(), "a pause does not undo a cancel");
        c.resume();
        assert!(!c.is_stopped());
    }

    #[tokio::test]
    async fn bodies_come_in_counted_pieces_and_stop_on_request() {
        let chunk = Bytes::from(vec![7u8; 100_000]);
        let counter = Arc::new(AtomicU64::new(0));
        let control = TransferControl::new();
        let pieces: Vec<_> =
            body_stream(chunk.clone(), None, control.clone(), Arc::clone(&counter))
                .collect()
                .await;
        let joined: Vec<u8> = pieces
            .iter()
            .flat_map(|p| p.as_ref().unwrap().to_vec())
            .collect();
        assert_eq!(joined, chunk);
        assert!(
            pieces
                .iter()
                .all(|p| p.as_ref().unwrap().len() <= PIECE_BYTES)
        );
        assert_eq!(counter.load(Ordering::Relaxed), 100_000);

        control.pause();
        let mut stream = Box::pin(body_stream(chunk, None, control, counter));
        assert!(stream.next().await.unwrap().is_err());
        assert!(stream.next().await.is_none());
    }
}

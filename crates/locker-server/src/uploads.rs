//! Resumable uploads over tus 1.0 (core, creation, termination and checksum extensions), so any
//! tus client can upload and resume (<https://tus.io/protocols/resumable-upload>).
//!
//! A client creates an upload declaring its length and the BLAKE3 hash of the whole file
//! (`Upload-Metadata: blake3 <base64 of the hex digest>`), then PATCHes bytes from the offset the
//! server reports. Bytes go to `uploads/<id>.part` in the data folder; bytes received before a
//! dropped connection are kept. When the last byte arrives the server hashes the file: a match
//! becomes a blob (stored once for every account, counted against the uploader's quota), a
//! mismatch is deleted and nothing is kept. Quota and the size limit are checked at creation,
//! before any byte is accepted. Uploads untouched for a while expire ([`expire`]).
//!
//! An upload that declares no hash (a browser's: the web player cannot demux audio to match it
//! first) is hashed by the server, and once complete its tags are read and it joins the
//! account's library as a new track ([`crate::web::uploads`]); a file that is no audio is
//! deleted and the last request says why.
//!
//! Requests for one upload take turns ([`crate::upload_turns`]): a PATCH never appends while an
//! older one is still reading, and a newer request makes an older one stop and hand over.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use futures::StreamExt;
use rusqlite::{Connection, OptionalExtension, params};
use sha1::Digest;
use skylark_locker_api::ErrorCode;
use tokio::io::AsyncWriteExt;

use crate::accounts::UserId;
use crate::error::{DbContext, Error, Result};
use crate::http::AppState;
use crate::sessions::Authenticated;
use crate::{UnixMillis, now_millis};

/// Bytes gathered before each write to an upload's file.
const WRITE_BUFFER: usize = 1024 * 1024;
/// Uploads whose running hash is kept between requests, at most (about 2 KiB each); others are
/// hashed from their file when they finish.
const MAX_RUNNING_HASHES: usize = 1024;

/// The BLAKE3 state of unfinished uploads between their PATCH requests, so the hash of a whole
/// upload is known the moment its last byte arrives. An entry is good only for the offset it was
/// kept at; a request that finds none (after a restart, say) leaves the hash to [`finish`].
#[derive(Debug, Default)]
pub struct RunningHashes {
    entries: std::sync::Mutex<std::collections::HashMap<String, RunningHash>>,
}

#[derive(Debug)]
struct RunningHash {
    offset: u64,
    hasher: blake3::Hasher,
    kept_at: std::time::Instant,
}

impl RunningHashes {
    fn entries(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, RunningHash>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The hash of upload `id`'s first `offset` bytes, if known (a new hash at offset 0).
    fn take(&self, id: &str, offset: u64) -> Option<blake3::Hasher> {
        match self.entries().remove(id) {
            Some(entry) if entry.offset == offset => Some(entry.hasher),
            _ if offset == 0 => Some(blake3::Hasher::new()),
            _ => None,
        }
    }

    /// Keeps the hash of upload `id`'s first `offset` bytes for its next request.
    fn keep(&self, id: &str, offset: u64, hasher: blake3::Hasher) {
        let mut entries = self.entries();
        if entries.len() < MAX_RUNNING_HASHES {
            let kept_at = std::time::Instant::now();
            entries.insert(
                id.to_owned(),
                RunningHash {
                    offset,
                    hasher,
                    kept_at,
                },
            );
        }
    }

    /// Forgets the hash of upload `id` (terminated).
    pub fn forget(&self, id: &str) {
        self.entries().remove(id);
    }

    /// Forgets hashes kept longer than `max_age` ago (their uploads expire).
    pub fn prune(&self, max_age: Duration) {
        self.entries()
            .retain(|_, entry| entry.kept_at.elapsed() < max_age);
    }
}

/// The tus protocol version spoken.
pub const TUS_VERSION: &str = "1.0.0";
/// The extensions supported.
pub const TUS_EXTENSIONS: &str = "creation,termination,checksum";

/// An upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Upload {
    id: String,
    length: u64,
    received: u64,
    /// The declared hash; empty for a file the locker adds to the library itself.
    blake3: String,
    filename: String,
}

fn tus_headers(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    response
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Requests other than OPTIONS must name the protocol version (tus 1.0 §Tus-Resumable); the
/// refusal to send when they do not.
fn refuse_other_versions(headers: &HeaderMap) -> Option<Response> {
    if header_str(headers, "tus-resumable") == Some(TUS_VERSION) {
        return None;
    }
    let mut response = Error::api(
        ErrorCode::BadRequest,
        format!("this server speaks tus {TUS_VERSION}; send Tus-Resumable: {TUS_VERSION}"),
    )
    .into_response();
    *response.status_mut() = StatusCode::PRECONDITION_FAILED;
    response
        .headers_mut()
        .insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    Some(tus_headers(response))
}

/// Parses `Upload-Metadata`: comma-separated `key base64value` pairs (tus 1.0 §Upload-Metadata).
fn metadata(value: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut parts = pair.splitn(2, ' ');
        let key = parts.next().unwrap_or_default().to_owned();
        let decoded = match parts.next() {
            Some(v) => base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    Error::api(
                        ErrorCode::BadRequest,
                        format!("Upload-Metadata {key} is not base64 text"),
                    )
                })?,
            None => String::new(),
        };
        out.push((key, decoded));
    }
    Ok(out)
}

fn part_path(data: &Path, id: &str) -> PathBuf {
    data.join("uploads").join(format!("{id}.part"))
}

/// Upload `id` of `user`, with `received` read from the length of its bytes on disk: an
/// interrupted request (a dropped connection cancels the handler mid-body) leaves the bytes that
/// arrived in the file, and the file is the record of them.
fn load(conn: &Connection, data: &Path, user: i64, id: &str) -> Result<Upload> {
    let mut upload = load_row(conn, user, id)?;
    let on_disk = std::fs::metadata(part_path(data, id))
        .map(|m| m.len())
        .unwrap_or(0);
    upload.received = on_disk.min(upload.length);
    Ok(upload)
}

fn load_row(conn: &Connection, user: i64, id: &str) -> Result<Upload> {
    conn.query_row(
        "SELECT id, length, received, blake3, filename FROM uploads
         WHERE id = ?1 AND user_id = ?2",
        params![id, user],
        |r| {
            Ok(Upload {
                id: r.get(0)?,
                length: r.get(1)?,
                received: r.get(2)?,
                blake3: r.get(3)?,
                filename: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
            })
        },
    )
    .optional()
    .ctx("loading an upload")?
    .ok_or_else(|| Error::api(ErrorCode::NotFound, "no such upload"))
}

fn random_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| Error::Io {
        context: "reading the system's random source".to_owned(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// `OPTIONS /api/v1/uploads`: what this server supports.
pub async fn options(State(state): State<AppState>) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    h.insert("tus-extension", HeaderValue::from_static(TUS_EXTENSIONS));
    h.insert("tus-checksum-algorithm", HeaderValue::from_static("sha1"));
    if let Ok(v) = HeaderValue::from_str(&state.config().max_upload_bytes.to_string()) {
        h.insert("tus-max-size", v);
    }
    tus_headers(response)
}

/// `POST /api/v1/uploads` (creation): checks size, quota and the declared hash, then answers
/// 201 with the upload's URL.
pub async fn create(
    State(state): State<AppState>,
    who: Authenticated,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = refuse_other_versions(&headers) {
        return refusal;
    }
    tus_headers(
        create_inner(state, who, headers)
            .await
            .unwrap_or_else(IntoResponse::into_response),
    )
}

async fn create_inner(state: AppState, who: Authenticated, headers: HeaderMap) -> Result<Response> {
    let length: u64 = header_str(&headers, "upload-length")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            Error::api(
                ErrorCode::BadRequest,
                "Upload-Length is required (deferred length is not supported)",
            )
        })?;
    let max = state.config().max_upload_bytes;
    if length > max {
        return Err(Error::api(
            ErrorCode::PayloadTooLarge,
            format!("uploads are at most {max} bytes"),
        ));
    }
    let meta = metadata(header_str(&headers, "upload-metadata").unwrap_or_default())?;
    let find = |k: &str| {
        meta.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    // Without a declared hash the locker hashes the file itself and, once it is complete, adds
    // it to the account's library (a browser's upload: a page cannot demux audio to match it).
    let blake3 = match find("blake3") {
        None => String::new(),
        Some(h) => Some(h.to_ascii_lowercase())
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| {
                Error::api(
                    ErrorCode::BadRequest,
                    "blake3 in Upload-Metadata is the file's BLAKE3 hash in hex",
                )
            })?,
    };
    let filename: String = find("filename")
        .unwrap_or_default()
        .chars()
        .take(500)
        .collect();
    let id = random_id()?;
    let data = state.data_dir().to_owned();
    let user = who.user.0;
    let now = now_millis();
    let upload_id = id.clone();
    state
        .db(move |conn| {
            // Quota: what is stored plus what is being uploaded plus this upload.
            let (quota, used, pending): (u64, u64, u64) = conn
                .query_row(
                    "SELECT quota_bytes, used_bytes,
                        (SELECT coalesce(sum(length), 0) FROM uploads WHERE user_id = ?1)
                     FROM users WHERE id = ?1",
                    [user],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .ctx("checking the quota")?;
            if quota > 0 && used.saturating_add(pending).saturating_add(length) > quota {
                return Err(Error::api(
                    ErrorCode::QuotaExceeded,
                    format!(
                        "the upload needs {length} bytes; the account has {} left",
                        quota.saturating_sub(used + pending)
                    ),
                ));
            }
            std::fs::create_dir_all(data.join("uploads")).map_err(|source| Error::Io {
                context: "creating the uploads folder".to_owned(),
                source,
            })?;
            std::fs::File::create(part_path(&data, &upload_id)).map_err(|source| Error::Io {
                context: "creating an upload".to_owned(),
                source,
            })?;
            conn.execute(
                "INSERT INTO uploads(id, user_id, length, blake3, filename, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                params![upload_id, user, length, blake3, filename, now],
            )
            .ctx("creating an upload")?;
            Ok(())
        })
        .await?;
    let mut response = StatusCode::CREATED.into_response();
    let location = format!("/api/v1/uploads/{id}");
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
        .headers_mut()
        .insert("upload-offset", HeaderValue::from_static("0"));
    Ok(response)
}

fn offset_response(status: StatusCode, upload: &Upload) -> Response {
    let mut response = status.into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&upload.received.to_string()) {
        h.insert("upload-offset", v);
    }
    if let Ok(v) = HeaderValue::from_str(&upload.length.to_string()) {
        h.insert("upload-length", v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    tus_headers(response)
}

/// `HEAD /api/v1/uploads/{id}`: the offset to resume from.
pub async fn head(
    State(state): State<AppState>,
    who: Authenticated,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = refuse_other_versions(&headers) {
        return refusal;
    }
    // The turn, so the offset reported is not one an older PATCH is still moving.
    let _turn = state.upload_turns().take(&id).await;
    let data = state.data_dir().to_owned();
    match state
        .db(move |conn| load(conn, &data, who.user.0, &id))
        .await
    {
        Ok(upload) => offset_response(StatusCode::OK, &upload),
        Err(e) => tus_headers(e.into_response()),
    }
}

/// `DELETE /api/v1/uploads/{id}` (termination).
pub async fn terminate(
    State(state): State<AppState>,
    who: Authenticated,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = refuse_other_versions(&headers) {
        return refusal;
    }
    let _turn = state.upload_turns().take(&id).await;
    state.running_hashes().forget(&id);
    let data = state.data_dir().to_owned();
    let result = state
        .db(move |conn| {
            load_row(conn, who.user.0, &id)?;
            conn.execute("DELETE FROM uploads WHERE id = ?1", [&id])
                .ctx("deleting an upload")?;
            let _ = std::fs::remove_file(part_path(&data, &id));
            Ok(())
        })
        .await;
    match result {
        Ok(()) => tus_headers(StatusCode::NO_CONTENT.into_response()),
        Err(e) => tus_headers(e.into_response()),
    }
}

/// `PATCH /api/v1/uploads/{id}`: appends bytes at `Upload-Offset`.
pub async fn patch(
    State(state): State<AppState>,
    who: Authenticated,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(refusal) = refuse_other_versions(&headers) {
        return refusal;
    }
    tus_headers(
        patch_inner(state, who, id, headers, body)
            .await
            .unwrap_or_else(IntoResponse::into_response),
    )
}

async fn patch_inner(
    state: AppState,
    who: Authenticated,
    id: String,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    if header_str(&headers, "content-type") != Some("application/offset+octet-stream") {
        let mut r = Error::api(
            ErrorCode::BadRequest,
            "PATCH bodies are application/offset+octet-stream",
        )
        .into_response();
        *r.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
        return Ok(r);
    }
    let user = who.user.0;
    // Held until the response: the bytes, the recorded progress and the blob are this request's
    // alone. Taking it asks an older request still reading a body to stop.
    let turn = state.upload_turns().take(&id).await;
    let lookup = id.clone();
    let data = state.data_dir().to_owned();
    let upload = state
        .db(move |conn| load(conn, &data, user, &lookup))
        .await?;
    let offset: u64 = header_str(&headers, "upload-offset")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| Error::api(ErrorCode::BadRequest, "Upload-Offset is required"))?;
    if offset != upload.received {
        return Err(Error::api(
            ErrorCode::Conflict,
            format!("the upload is at offset {}, not {offset}", upload.received),
        ));
    }
    let checksum = match header_str(&headers, "upload-checksum") {
        Some(v) => {
            let (algo, digest) = v.split_once(' ').unwrap_or((v, ""));
            if algo != "sha1" {
                return Err(Error::api(
                    ErrorCode::BadRequest,
                    format!("unsupported checksum algorithm {algo}"),
                ));
            }
            Some(
                base64::engine::general_purpose::STANDARD
                    .decode(digest.trim())
                    .map_err(|_| {
                        Error::api(ErrorCode::BadRequest, "Upload-Checksum is not base64")
                    })?,
            )
        }
        None => None,
    };

    let path = part_path(state.data_dir(), &id);
    let file = tokio::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .await
        .map_err(|source| Error::Io {
            context: "opening an upload".to_owned(),
            source,
        })?;
    // Bodies arrive in small chunks; each write to a tokio file is a trip to the blocking pool,
    // so they are gathered into large writes. (Bytes still buffered when a request is cancelled
    // are simply not in the file, and the file's length stays the record of what arrived.)
    let mut file = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file);
    // The running hash covers exactly the bytes written, so a finished upload need not be read
    // again to verify it.
    let mut hasher = state.running_hashes().take(&id, upload.received);
    let room = upload.length - upload.received;
    let mut received = upload.received;
    let mut too_long = false;
    let mut stream = body.into_data_stream();
    if let Some(expected) = checksum {
        // tus checksum extension: a chunk is kept only once verified, so it is collected first
        // (at most the bytes the upload still lacks) and appended after the check.
        let mut chunk = Vec::new();
        loop {
            let next = tokio::select! {
                biased;
                () = turn.wanted() => {
                    return Err(Error::api(
                        ErrorCode::Conflict,
                        "a newer request for this upload took over; the chunk was not kept",
                    ));
                }
                next = stream.next() => next,
            };
            let Some(part) = next else { break };
            let part = part.map_err(|_| {
                Error::api(
                    ErrorCode::BadRequest,
                    "the body was cut short; the chunk was not kept",
                )
            })?;
            if (chunk.len() + part.len()) as u64 > room {
                too_long = true;
                break;
            }
            chunk.extend_from_slice(&part);
        }
        if too_long {
            return Err(Error::api(
                ErrorCode::BadRequest,
                "the body runs past Upload-Length; the chunk was not kept",
            ));
        }
        if sha1::Sha1::digest(&chunk).as_slice() != expected.as_slice() {
            let mut r = Error::api(
                ErrorCode::ChecksumMismatch,
                "the chunk does not match Upload-Checksum",
            )
            .into_response();
            *r.status_mut() = StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST);
            return Ok(r);
        }
        file.write_all(&chunk).await.map_err(|source| Error::Io {
            context: "writing an upload".to_owned(),
            source,
        })?;
        if let Some(h) = hasher.as_mut() {
            h.update(&chunk);
        }
        received += chunk.len() as u64;
        state
            .metrics()
            .upload_bytes
            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
    } else {
        loop {
            let next = tokio::select! {
                biased;
                // A newer request for this upload is waiting: what arrived so far is kept, and
                // it resumes from there.
                () = turn.wanted() => break,
                next = stream.next() => next,
            };
            // A dropped connection ends the body early; what arrived is kept for the resume.
            let Some(Ok(chunk)) = next else { break };
            let left = upload.length - received;
            let take = usize::try_from(left).unwrap_or(usize::MAX).min(chunk.len());
            file.write_all(&chunk[..take])
                .await
                .map_err(|source| Error::Io {
                    context: "writing an upload".to_owned(),
                    source,
                })?;
            if let Some(h) = hasher.as_mut() {
                h.update(&chunk[..take]);
            }
            received += take as u64;
            state
                .metrics()
                .upload_bytes
                .fetch_add(take as u64, Ordering::Relaxed);
            if take < chunk.len() {
                too_long = true;
                break;
            }
        }
    }
    file.flush().await.map_err(|source| Error::Io {
        context: "writing an upload".to_owned(),
        source,
    })?;
    drop(file);
    let now = now_millis();
    let record = id.clone();
    state
        .db(move |conn| {
            conn.execute(
                "UPDATE uploads SET received = ?2, updated_at = ?3 WHERE id = ?1",
                params![record, received, now],
            )
            .ctx("recording upload progress")
        })
        .await?;
    let upload = Upload { received, ..upload };
    if too_long {
        return Err(Error::api(
            ErrorCode::BadRequest,
            "the body runs past Upload-Length; the extra bytes were not kept",
        ));
    }
    if upload.received == upload.length {
        finish(&state, user, &upload, &path, hasher).await?;
    } else if let Some(hasher) = hasher {
        state.running_hashes().keep(&id, upload.received, hasher);
    }
    drop(turn);
    Ok(offset_response(StatusCode::NO_CONTENT, &upload))
}

/// Verifies a complete upload's hash (`running`, the hash of its bytes as they arrived, or else
/// by reading the file) and turns it into a blob of the account, or discards it.
async fn finish(
    state: &AppState,
    user: i64,
    upload: &Upload,
    path: &Path,
    running: Option<blake3::Hasher>,
) -> Result<()> {
    let actual = match running {
        Some(hasher) => hasher.finalize().to_hex().to_string(),
        None => {
            let file = path.to_owned();
            tokio::task::spawn_blocking(move || -> std::io::Result<String> {
                let mut hasher = blake3::Hasher::new();
                hasher.update_reader(std::fs::File::open(&file)?)?;
                Ok(hasher.finalize().to_hex().to_string())
            })
            .await
            .map_err(|e| Error::api(ErrorCode::Internal, format!("a worker failed: {e}")))?
            .map_err(|source| Error::Io {
                context: "hashing an upload".to_owned(),
                source,
            })?
        }
    };
    let id = upload.id.clone();
    if !upload.blake3.is_empty() && actual != upload.blake3 {
        discard(state, &id, path).await?;
        return Err(Error::api(
            ErrorCode::ChecksumMismatch,
            format!(
                "the file's BLAKE3 hash is {actual}, not the declared {}; nothing was kept",
                upload.blake3
            ),
        ));
    }
    // Tags and the cover are read first: a local store takes the file itself as the blob.
    let track = if upload.blake3.is_empty() {
        match crate::web::uploads::read_track(path, &upload.filename).await {
            Ok(track) => Some(track),
            Err(e) => {
                discard(state, &id, path).await?;
                return Err(e);
            }
        }
    } else {
        None
    };
    let cover = crate::covers::extract(state, path).await;
    state.blobs().put_file(&actual, path).await?;
    let (hash, size, now, part) = (actual, upload.length, now_millis(), path.to_owned());
    state
        .db(move |conn| {
            let tx = conn.unchecked_transaction().ctx("storing a blob")?;
            tx.execute(
                "INSERT OR IGNORE INTO blobs(hash, size, created_at) VALUES (?1, ?2, ?3)",
                params![hash, size, now],
            )
            .ctx("storing a blob")?;
            let linked = tx
                .execute(
                    "INSERT OR IGNORE INTO user_blobs(user_id, hash, added_at) VALUES (?1, ?2, ?3)",
                    params![user, hash, now],
                )
                .ctx("storing a blob")?;
            if linked > 0 {
                tx.execute(
                    "UPDATE users SET used_bytes = used_bytes + ?2 WHERE id = ?1",
                    params![user, size],
                )
                .ctx("counting storage")?;
            }
            if let Some(cover) = &cover {
                crate::covers::record(&tx, &hash, cover)?;
            }
            tx.execute("DELETE FROM uploads WHERE id = ?1", [&id])
                .ctx("finishing an upload")?;
            tx.commit().ctx("storing a blob")?;
            let _ = std::fs::remove_file(part);
            if let Some(track) = track {
                let cover = cover.as_ref().map(crate::covers::ExtractedCover::hash);
                crate::web::uploads::publish(conn, UserId(user), &hash, track, cover, now)?;
            }
            Ok(())
        })
        .await
}

/// Deletes upload `id` and its bytes.
async fn discard(state: &AppState, id: &str, path: &Path) -> Result<()> {
    let (id, part) = (id.to_owned(), path.to_owned());
    state
        .db(move |conn| {
            conn.execute("DELETE FROM uploads WHERE id = ?1", [&id])
                .ctx("discarding an upload")?;
            let _ = std::fs::remove_file(part);
            Ok(())
        })
        .await
}

/// Deletes uploads untouched since `now - max_age_ms`, with their bytes, except those in `busy`
/// (a request is working on them); then the `.part` files in `data/uploads` that no upload owns
/// (a crash between creating the file and recording the upload leaves one) and that are as old.
/// Returns how many uploads and files it deleted.
pub fn expire(
    conn: &Connection,
    data: &Path,
    now: UnixMillis,
    max_age_ms: i64,
    busy: &HashSet<String>,
) -> Result<usize> {
    let cutoff = now.saturating_sub(max_age_ms);
    let ids: Vec<String> = {
        let mut stmt = conn
            .prepare("SELECT id FROM uploads WHERE updated_at < ?1")
            .ctx("finding abandoned uploads")?;
        let rows = stmt
            .query_map([cutoff], |r| r.get(0))
            .ctx("finding abandoned uploads")?;
        rows.collect::<rusqlite::Result<_>>()
            .ctx("finding abandoned uploads")?
    };
    let mut deleted = 0;
    for id in ids.iter().filter(|id| !busy.contains(*id)) {
        conn.execute("DELETE FROM uploads WHERE id = ?1", [id])
            .ctx("expiring an upload")?;
        let _ = std::fs::remove_file(part_path(data, id));
        deleted += 1;
    }
    let Ok(entries) = std::fs::read_dir(data.join("uploads")) else {
        return Ok(deleted);
    };
    let file_cutoff =
        SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(cutoff).unwrap_or_default());
    let mut owned = conn
        .prepare("SELECT EXISTS (SELECT 1 FROM uploads WHERE id = ?1)")
        .ctx("finding orphaned upload files")?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".part")) else {
            continue;
        };
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|modified| modified < file_cutoff);
        if !old || busy.contains(id) {
            continue;
        }
        let has_owner: bool = owned
            .query_row([id], |r| r.get(0))
            .ctx("finding orphaned upload files")?;
        if !has_owner && std::fs::remove_file(entry.path()).is_ok() {
            deleted += 1;
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_metadata_pairs() {
        let m = metadata("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential").unwrap();
        assert_eq!(
            m[0],
            (
                "filename".to_owned(),
                "world_domination_plan.pdf".to_owned()
            )
        );
        assert_eq!(m[1], ("is_confidential".to_owned(), String::new()));
        assert!(metadata("filename !!!").is_err());
        assert!(metadata("").unwrap().is_empty());
    }
}

//! Streaming a track's file: `GET /api/v1/tracks/{id}/stream` with HTTP ranges (RFC 9110 §14),
//! so players can seek by asking for the bytes they need.
//!
//! Blobs are content-addressed, so the BLAKE3 hash is a strong validator: it is the `ETag`, and an
//! `If-Range` naming it lets a client resume a download safely.

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rusqlite::{OptionalExtension, params};
use skylark_locker_api::ErrorCode;

use crate::error::{DbContext, Error, Result};
use crate::http::AppState;
use crate::now_millis;
use crate::sessions::Authenticated;
use crate::signed::SignedQuery;
use crate::storage::BlobStream;

/// A byte range to send, resolved against the file's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// The whole file.
    Whole,
    /// `start..end` (end exclusive).
    Part(u64, u64),
    /// A range that cannot be satisfied (416).
    Unsatisfiable,
}

/// Resolves a `Range` header value against a file of `len` bytes. Forms other than one
/// `bytes=` range (several ranges, other units, garbage) are ignored and the whole file is sent,
/// as RFC 9110 §14.2 allows.
pub fn parse_range(value: Option<&str>, len: u64) -> RangeRequest {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Whole;
    };
    if spec.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let parse = |s: &str| s.parse::<u64>().ok();
    match (first.is_empty(), last.is_empty()) {
        // bytes=-N: the last N bytes.
        (true, false) => match parse(last) {
            Some(0) => RangeRequest::Unsatisfiable,
            Some(n) if len > 0 => RangeRequest::Part(len.saturating_sub(n), len),
            Some(_) => RangeRequest::Unsatisfiable,
            None => RangeRequest::Whole,
        },
        // bytes=N-: from N to the end.
        (false, true) => match parse(first) {
            Some(start) if start < len => RangeRequest::Part(start, len),
            Some(_) => RangeRequest::Unsatisfiable,
            None => RangeRequest::Whole,
        },
        (false, false) => match (parse(first), parse(last)) {
            (Some(start), Some(end)) if start <= end && start < len => {
                RangeRequest::Part(start, end.saturating_add(1).min(len))
            }
            (Some(start), Some(end)) if start <= end => RangeRequest::Unsatisfiable,
            _ => RangeRequest::Whole,
        },
        (true, true) => RangeRequest::Whole,
    }
}

/// The MIME type of an audio file from its first bytes.
pub fn content_type(head: &[u8]) -> &'static str {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if at(0, b"fLaC") {
        "audio/flac"
    } else if at(0, b"OggS") {
        if head.windows(8).any(|w| w == b"OpusHead") {
            "audio/ogg; codecs=opus"
        } else {
            "audio/ogg"
        }
    } else if at(4, b"ftyp") {
        "audio/mp4"
    } else if at(0, b"RIFF") && at(8, b"WAVE") {
        "audio/wav"
    } else if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        "audio/aiff"
    } else if at(0, b"wvpk") {
        "audio/x-wavpack"
    } else if at(0, b"MAC ") {
        "audio/x-ape"
    } else if at(0, b"ID3") || (head.len() > 1 && head[0] == 0xff && head[1] & 0xe0 == 0xe0) {
        "audio/mpeg"
    } else {
        "application/octet-stream"
    }
}

/// Who asks for a stream.
enum Asker {
    /// The account a signed URL is good for.
    Account(i64),
    /// The holder of a bearer token, not yet checked.
    Token(String),
}

/// `GET` and `HEAD /api/v1/tracks/{id}/stream`.
///
/// Authenticated by a bearer token, or by the query of a signed URL
/// ([`crate::signed::stream_url`]) for players that cannot send headers.
///
/// A stream is the hot path. When the database is free, the sign-in check and the lookup are
/// reads on this thread, and on Linux the kernel's caches often hold the file: then the request
/// is answered without leaving the async thread. Otherwise the sign-in check (which may write),
/// the lookup and the file's first bytes share one trip to the blocking pool.
pub async fn stream(
    State(state): State<AppState>,
    Path(track): Path<String>,
    signed: std::result::Result<Query<SignedQuery>, QueryRejection>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response> {
    let asker = match signed {
        Ok(Query(query)) => Asker::Account(
            state
                .signer()
                .verify(&query, &track, now_millis())
                .ok_or_else(|| {
                    Error::api(ErrorCode::Unauthorized, "the link is wrong or has expired")
                })?
                .0,
        ),
        Err(_) => Asker::Token(crate::http::request_token(&method, &headers, &state)?),
    };
    let now = now_millis();
    let local = state.blobs().local_dir().map(std::path::Path::to_owned);
    let wanted = Wanted::of(&method, &headers);
    if let Some(dir) = local.as_deref().filter(|_| crate::storage::CACHED_READS)
        && let Some(found) =
            state.db_if_free(|conn| find_without_writing(conn, &asker, &track, now))
        && let Some((hash, len)) = found?
    {
        // The fast path: the lookup on this thread, and the file from the kernel's caches.
        let plan = plan(&hash, len, &wanted);
        match &plan {
            Plan::Unsatisfiable => {
                return Ok(respond(&hash, len, &plan, bytes::Bytes::new(), None));
            }
            Plan::Send { read, .. } => {
                if let Some(read) = crate::storage::read_local_cached(dir, &hash, len, read.clone())
                {
                    let (head, body) = read.into_stream();
                    return Ok(respond(&hash, len, &plan, head, Some(body)));
                }
            }
        }
    }
    // One trip to the blocking pool: the lookup, and for a local store the file's first bytes.
    let (hash, len, opened) = state
        .blocking(move |db| {
            let found: Option<(String, u64)> = db.with(|conn| -> Result<_> {
                let user = match asker {
                    Asker::Account(user) => user,
                    Asker::Token(token) => {
                        crate::sessions::authenticate(conn, &token, now)?
                            .ok_or_else(crate::http::unauthorized)?
                            .user
                            .0
                    }
                };
                find_file(conn, user, &track)
            })?;
            let (hash, len) = found.ok_or_else(no_file)?;
            let plan = plan(&hash, len, &wanted);
            let opened = match (&local, &plan) {
                (Some(dir), Plan::Send { read, .. }) => {
                    Some(crate::storage::read_local(dir, &hash, len, read.clone())?)
                }
                _ => None,
            };
            Ok((hash, len, opened.map(|read| (plan, read))))
        })
        .await?;
    match opened {
        Some((plan, read)) => {
            let (head, body) = read.into_stream();
            Ok(respond(&hash, len, &plan, head, Some(body)))
        }
        None => send_blob(&state, &hash, len, &method, &headers).await,
    }
}

/// The file (blob hash and size) of `user`'s track `track`.
fn find_file(conn: &rusqlite::Connection, user: i64, track: &str) -> Result<Option<(String, u64)>> {
    conn.prepare_cached(
        "SELECT t.blob, b.size FROM tracks t JOIN blobs b ON b.hash = t.blob
         WHERE t.user_id = ?1 AND t.uid = ?2
           AND (t.deleted_hlc IS NULL OR t.deleted_hlc < t.blob_hlc)",
    )
    .and_then(|mut s| {
        s.query_row(params![user, track], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
    })
    .ctx("finding a track's file")
}

fn no_file() -> Error {
    Error::api(
        ErrorCode::NotFound,
        "no such track, or it has no file in the locker",
    )
}

/// The file of the track `asker` asks for, found by reads alone; `Ok(None)` when the asker's
/// session needs a write first (its use recorded, or its expiry), which the blocking path does.
fn find_without_writing(
    conn: &rusqlite::Connection,
    asker: &Asker,
    track: &str,
    now: crate::UnixMillis,
) -> Result<Option<(String, u64)>> {
    let user = match asker {
        Asker::Account(user) => *user,
        Asker::Token(token) => match crate::sessions::check(conn, token, now)? {
            crate::sessions::Check::Live(who) => who.user.0,
            crate::sessions::Check::Unknown => return Err(crate::http::unauthorized()),
            crate::sessions::Check::NeedsWrite => return Ok(None),
        },
    };
    find_file(conn, user, track)?.map(Some).ok_or_else(no_file)
}

/// `GET` and `HEAD /api/v1/blobs/{hash}`: a blob the account holds (uploaded or claimed); any
/// other hash, stored or not, is not found.
pub async fn blob(
    State(state): State<AppState>,
    who: Authenticated,
    Path(hash): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response> {
    let user = who.user.0;
    let wanted = hash.to_ascii_lowercase();
    let size: Option<u64> = state
        .db(move |conn| {
            conn.query_row(
                "SELECT b.size FROM user_blobs u JOIN blobs b ON b.hash = u.hash
                 WHERE u.user_id = ?1 AND u.hash = ?2",
                params![user, wanted],
                |r| r.get(0),
            )
            .optional()
            .ctx("finding a blob")
        })
        .await?;
    let len = size.ok_or_else(|| Error::api(ErrorCode::NotFound, "no such blob"))?;
    send_blob(&state, &hash.to_ascii_lowercase(), len, &method, &headers).await
}

/// What a request for a blob of known length asks to be sent.
enum Plan {
    /// `start..end` with `status` (200 or 206); nothing of it for a `HEAD`.
    Send {
        status: StatusCode,
        start: u64,
        end: u64,
        /// The bytes to read: `start..end`, or none for a `HEAD`.
        read: std::ops::Range<u64>,
    },
    /// A range past the end: 416.
    Unsatisfiable,
}

/// The parts of a request that decide what of a blob it gets: owned, so that a handler can plan
/// on the blocking pool without copying the whole header map.
struct Wanted {
    head_only: bool,
    range: Option<String>,
    if_range: Option<String>,
}

impl Wanted {
    fn of(method: &Method, headers: &HeaderMap) -> Wanted {
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        Wanted {
            head_only: *method == Method::HEAD,
            range: text(header::RANGE),
            if_range: text(header::IF_RANGE),
        }
    }
}

/// What to send of blob `hash` of `len` bytes for `wanted`, honouring `Range` and `If-Range`.
fn plan(hash: &str, len: u64, wanted: &Wanted) -> Plan {
    let etag = format!("\"{hash}\"");
    let if_range_ok = wanted.if_range.as_deref().is_none_or(|v| v.trim() == etag);
    let range = if if_range_ok {
        parse_range(wanted.range.as_deref(), len)
    } else {
        RangeRequest::Whole
    };
    let (status, start, end) = match range {
        RangeRequest::Whole => (StatusCode::OK, 0, len),
        RangeRequest::Part(start, end) => (StatusCode::PARTIAL_CONTENT, start, end),
        RangeRequest::Unsatisfiable => return Plan::Unsatisfiable,
    };
    let read = if wanted.head_only {
        start..start
    } else {
        start..end
    };
    Plan::Send {
        status,
        start,
        end,
        read,
    }
}

/// Sends blob `hash` of `len` bytes, honouring `Range` and `If-Range`.
pub(crate) async fn send_blob(
    state: &AppState,
    hash: &str,
    len: u64,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response> {
    let plan = plan(hash, len, &Wanted::of(method, headers));
    let read = match &plan {
        Plan::Send { read, .. } => read.clone(),
        Plan::Unsatisfiable => return Ok(respond(hash, len, &plan, bytes::Bytes::new(), None)),
    };
    // The first bytes tell the content type; the store reads them with the range.
    let (head, body) = state.blobs().read_with_head(hash, len, read).await?;
    Ok(respond(hash, len, &plan, head, Some(body)))
}

/// The response that carries out `plan` for blob `hash` of `len` bytes, whose first bytes are
/// `head` and whose planned bytes `body` streams.
fn respond(
    hash: &str,
    len: u64,
    plan: &Plan,
    head: bytes::Bytes,
    body: Option<BlobStream>,
) -> Response {
    let &Plan::Send {
        status, start, end, ..
    } = plan
    else {
        let mut response =
            Error::api(ErrorCode::BadRequest, format!("the file has {len} bytes")).into_response();
        *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
        if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
            response.headers_mut().insert(header::CONTENT_RANGE, v);
        }
        return response;
    };
    let body = body.map_or_else(Body::empty, Body::from_stream);
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&head)),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("\"{hash}\"")) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&(end - start).to_string()) {
        h.insert(header::CONTENT_LENGTH, v);
    }
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{len}", end - 1))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    response
}

/// Makes `response` a download named `name`.
pub(crate) fn attach(response: &mut Response, name: &str) {
    if let Ok(v) = HeaderValue::from_str(&content_disposition(name)) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, v);
    }
}

/// `attachment` with `name` as a plain ASCII fallback and in UTF-8 (RFC 6266 §4.3, RFC 8187).
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let check = |value: Option<&str>, expect: RangeRequest| {
            assert_eq!(parse_range(value, 1000), expect, "{value:?}");
        };
        check(None, RangeRequest::Whole);
        check(Some("bytes=0-99"), RangeRequest::Part(0, 100));
        check(Some("bytes=900-"), RangeRequest::Part(900, 1000));
        check(Some("bytes=-10"), RangeRequest::Part(990, 1000));
        check(Some("bytes=-5000"), RangeRequest::Part(0, 1000));
        check(Some("bytes=500-99999"), RangeRequest::Part(500, 1000));
        check(Some("bytes=1000-"), RangeRequest::Unsatisfiable);
        check(Some("bytes=2000-3000"), RangeRequest::Unsatisfiable);
        check(Some("bytes=-0"), RangeRequest::Unsatisfiable);
        check(Some("bytes=5-1"), RangeRequest::Whole);
        check(Some("bytes=0-1,5-6"), RangeRequest::Whole);
        check(Some("items=0-1"), RangeRequest::Whole);
        check(Some("bytes=x-y"), RangeRequest::Whole);
    }

    #[test]
    fn content_types_from_magic() {
        assert_eq!(content_type(b"fLaC\0\0"), "audio/flac");
        assert_eq!(content_type(b"ID3\x04"), "audio/mpeg");
        assert_eq!(content_type(&[0xff, 0xfb, 0x90, 0x64]), "audio/mpeg");
        assert_eq!(content_type(b"\0\0\0\x20ftypM4A "), "audio/mp4");
        assert_eq!(
            content_type(b"OggS\0\x02........................OpusHead"),
            "audio/ogg; codecs=opus"
        );
        assert_eq!(content_type(b"RIFF\0\0\0\0WAVE"), "audio/wav");
        assert_eq!(content_type(b"hello"), "application/octet-stream");
    }

    #[test]
    fn attachment_names_are_safe() {
        assert_eq!(
            content_disposition("Hoppípolla.flac"),
            "attachment; filename=\"Hopp_polla.flac\"; filename*=UTF-8''Hopp%C3%ADpolla.flac"
        );
        assert_eq!(
            content_disposition("a\"b\r\n.mp3"),
            "attachment; filename=\"a_b__.mp3\"; filename*=UTF-8''a%22b%0D%0A.mp3"
        );
    }
}

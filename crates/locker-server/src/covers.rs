//! Cover pictures: the front cover embedded in each uploaded file, stored once per picture hash
//! and served at `GET /api/v1/covers/{hash}` to the accounts that hold a file carrying it.
//!
//! Tags are read with `skylark-tags`, the same reader the desktop catalog uses, so a cover hash is
//! the same on both sides.

use std::path::Path;

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use rusqlite::{OptionalExtension, Transaction, params};
use skylark_locker_api::ErrorCode;
use skylark_tags::ReadOptions;

use crate::error::{DbContext, Error, Result};
use crate::http::AppState;
use crate::sessions::Authenticated;

/// A cover found in an uploaded file.
#[derive(Debug, Clone)]
pub struct ExtractedCover {
    hash: String,
    mime: String,
    size: u64,
}

/// Reads the front cover of the file at `path` and stores it. A file without one, or whose
/// tags cannot be read, simply has no cover: the upload itself has already succeeded.
pub async fn extract(state: &AppState, path: &Path) -> Option<ExtractedCover> {
    let file = path.to_owned();
    let picture = tokio::task::spawn_blocking(move || {
        skylark_tags::read_path(&file, ReadOptions { cover: true })
            .ok()
            .and_then(|info| info.cover)
    })
    .await
    .ok()
    .flatten()?;
    let hash = blake3::hash(&picture.data).to_hex().to_string();
    let mime = picture
        .mime
        .filter(|m| m.starts_with("image/"))
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let size = picture.data.len() as u64;
    if let Err(e) = state.blobs().put_cover(&hash, picture.data).await {
        tracing::warn!(error = %e, "cannot store a cover");
        return None;
    }
    Some(ExtractedCover { hash, mime, size })
}

/// Records that blob `blob` carries `cover`.
pub fn record(tx: &Transaction<'_>, blob: &str, cover: &ExtractedCover) -> Result<()> {
    tx.execute(
        "INSERT OR IGNORE INTO covers(hash, mime, size) VALUES (?1, ?2, ?3)",
        params![cover.hash, cover.mime, cover.size],
    )
    .ctx("recording a cover")?;
    tx.execute(
        "INSERT OR IGNORE INTO blob_covers(blob, cover) VALUES (?1, ?2)",
        params![blob, cover.hash],
    )
    .ctx("recording a cover")?;
    Ok(())
}

/// `GET /api/v1/covers/{hash}`.
pub async fn cover(
    State(state): State<AppState>,
    who: Authenticated,
    UrlPath(hash): UrlPath<String>,
) -> Result<Response> {
    let user = who.user.0;
    let wanted = hash.to_ascii_lowercase();
    let lookup = wanted.clone();
    let mime: Option<String> = state
        .db(move |conn| {
            conn.query_row(
                "SELECT c.mime FROM covers c WHERE c.hash = ?1 AND EXISTS (
                    SELECT 1 FROM blob_covers bc JOIN user_blobs ub ON ub.hash = bc.blob
                    WHERE bc.cover = c.hash AND ub.user_id = ?2)",
                params![lookup, user],
                |r| r.get(0),
            )
            .optional()
            .ctx("finding a cover")
        })
        .await?;
    let mime = mime.ok_or_else(|| Error::api(ErrorCode::NotFound, "no such cover"))?;
    let bytes = state.blobs().read_cover(&wanted).await?;
    let mut response = Response::new(Body::from(bytes));
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("\"{wanted}\"")) {
        h.insert(header::ETAG, v);
    }
    Ok(response)
}

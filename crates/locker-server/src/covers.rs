//! Cover pictures: the front cover embedded in each uploaded file, stored once per picture hash
//! and served at `GET /api/v1/covers/{hash}` to the accounts that hold a file carrying it.
//!
//! Tags are read with `skylark-tags`, the same reader the desktop catalog uses, so a cover hash is
//! the same on both sides.

use std::io::Cursor;
use std::path::Path;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use rusqlite::{OptionalExtension, Transaction, params};
use skylark_locker_api::ErrorCode;
use skylark_tags::ReadOptions;

use crate::error::{DbContext, Error, Result};
use crate::http::AppState;
use crate::sessions::Authenticated;

/// The largest side a scaled cover may ask for; larger sizes get the original picture.
pub const MAX_COVER_SIDE: u32 = 4096;
/// Memory a cover may take to decode, so a hostile picture cannot exhaust the server.
const MAX_DECODE_BYTES: u64 = 256 << 20;

/// A cover found in an uploaded file.
#[derive(Debug, Clone)]
pub struct ExtractedCover {
    hash: String,
    mime: String,
    size: u64,
}

impl ExtractedCover {
    /// The picture's BLAKE3 hash in hex.
    pub fn hash(&self) -> &str {
        &self.hash
    }
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

/// Query of `GET /api/v1/covers/{hash}`.
#[derive(Debug, serde::Deserialize)]
pub struct CoverQuery {
    /// The longest side wanted, in pixels; the picture is scaled down to fit (never up).
    size: Option<u32>,
}

/// `GET /api/v1/covers/{hash}`, scaled to `?size=` when asked.
pub async fn cover(
    State(state): State<AppState>,
    who: Authenticated,
    UrlPath(hash): UrlPath<String>,
    query: std::result::Result<Query<CoverQuery>, QueryRejection>,
) -> Result<Response> {
    let Ok(Query(CoverQuery { size })) = query else {
        return Err(Error::api(
            ErrorCode::BadRequest,
            "size is a number of pixels",
        ));
    };
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
    let (bytes, mime) = match size.filter(|&s| s > 0 && s < MAX_COVER_SIDE) {
        Some(side) => tokio::task::spawn_blocking(move || scale(bytes, mime, side))
            .await
            .map_err(|e| Error::api(ErrorCode::Internal, format!("a worker failed: {e}")))?,
        None => (bytes, mime),
    };
    let mut response = Response::new(Body::from(bytes));
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    let tag = match size {
        Some(side) => format!("\"{wanted}-{side}\""),
        None => format!("\"{wanted}\""),
    };
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    Ok(response)
}

/// `bytes` scaled to fit in a `side` square, keeping its proportions: PNG stays PNG, the rest
/// becomes JPEG. A picture already that small, or one that cannot be decoded, is sent as it is.
pub(crate) fn scale(bytes: bytes::Bytes, mime: String, side: u32) -> (bytes::Bytes, String) {
    let decoded = (|| {
        let mut reader = image::ImageReader::new(Cursor::new(&bytes))
            .with_guessed_format()
            .ok()?;
        let mut limits = image::Limits::default();
        limits.max_alloc = Some(MAX_DECODE_BYTES);
        limits.max_image_width = Some(16_384);
        limits.max_image_height = Some(16_384);
        reader.limits(limits);
        let format = reader.format();
        Some((reader.decode().ok()?, format))
    })();
    let Some((picture, format)) = decoded else {
        return (bytes, mime);
    };
    if picture.width() <= side && picture.height() <= side {
        return (bytes, mime);
    }
    let small = picture.thumbnail(side, side);
    let mut out = Vec::new();
    let written = if format == Some(image::ImageFormat::Png) {
        small
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .map(|()| "image/png")
    } else {
        image::DynamicImage::ImageRgb8(small.to_rgb8())
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Jpeg)
            .map(|()| "image/jpeg")
    };
    match written {
        Ok(mime) => (bytes::Bytes::from(out), mime.to_owned()),
        Err(_) => (bytes, mime),
    }
}

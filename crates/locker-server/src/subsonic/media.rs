//! Files and pictures ("Media retrieval" in the API reference): `stream` and `download` send the
//! song's file as it was uploaded, with HTTP ranges (the locker does not transcode, so `format`
//! and `maxBitRate` change nothing: `format=raw` is what every request gets), and
//! `getCoverArt` sends a cover, scaled down to `size` when asked.

use std::io::Cursor;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use rusqlite::OptionalExtension;

use crate::error::DbContext;
use crate::subsonic::Call;
use crate::subsonic::envelope::{Code, Failure, Reply};

/// The largest side a scaled cover may ask for; larger sizes get the original picture.
const MAX_COVER_SIDE: u32 = 4096;
/// Memory a cover may take to decode, so a hostile picture cannot exhaust the server.
const MAX_DECODE_BYTES: u64 = 256 << 20;

/// `stream` and (`attachment`) `download`.
pub(super) async fn stream(call: &Call<'_>, attachment: bool) -> Result<Reply, Failure> {
    let id = call.params.required("id")?;
    let lib = call.library().await?;
    let song = lib.song(id).ok_or_else(|| Failure::not_found("song"))?;
    let mut response =
        crate::stream::send_blob(call.state, &song.blob, song.size, call.method, call.headers)
            .await?;
    if attachment {
        let suffix = song
            .codec
            .as_deref()
            .and_then(super::browse::file_type)
            .map_or("", |(s, _)| s);
        let name = if suffix.is_empty() {
            song.title().to_owned()
        } else {
            format!("{}.{suffix}", song.title())
        };
        if let Ok(v) = HeaderValue::from_str(&content_disposition(&name)) {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(Reply::Raw(response))
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

/// `getCoverArt`: `id` is a cover art id from a response, or a song, album or artist id.
pub(super) async fn cover_art(call: &Call<'_>) -> Result<Reply, Failure> {
    let id = call.params.required("id")?;
    let size: Option<u32> = call.params.number("size")?;
    let lib = call.library().await?;
    let hash = if let Some(hash) = id.strip_prefix("co-").filter(|h| lib.has_cover(h)) {
        Some(hash.to_owned())
    } else if let Some(song) = lib.song(id) {
        song.cover.clone()
    } else if let Some(album) = lib.album(id) {
        album.cover.clone()
    } else if let Some(artist) = lib.artist(id) {
        artist.cover.clone()
    } else {
        return Err(Failure::not_found("cover art"));
    };
    let hash = hash.ok_or_else(|| Failure::not_found("cover art"))?;
    let lookup = hash.clone();
    let mime: String = call
        .state
        .db(move |conn| {
            conn.query_row("SELECT mime FROM covers WHERE hash = ?1", [&lookup], |r| {
                r.get(0)
            })
            .optional()
            .ctx("finding a cover")
        })
        .await?
        .ok_or_else(|| Failure::not_found("cover art"))?;
    let bytes = call.state.blobs().read_cover(&hash).await?;
    let (bytes, mime) = match size.filter(|&s| s > 0 && s < MAX_COVER_SIDE) {
        Some(side) => tokio::task::spawn_blocking(move || scale(bytes, mime, side))
            .await
            .map_err(|e| Failure::new(Code::Generic, format!("a worker failed: {e}")))?,
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
    Ok(Reply::Raw(response))
}

/// `bytes` scaled to fit in a `side` square, keeping its proportions: PNG stays PNG, the rest
/// becomes JPEG. A picture already that small, or one that cannot be decoded, is sent as it is.
fn scale(bytes: bytes::Bytes, mime: String, side: u32) -> (bytes::Bytes, String) {
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

#[cfg(test)]
mod tests {
    use super::*;

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

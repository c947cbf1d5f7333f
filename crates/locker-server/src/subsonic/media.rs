//! Files and pictures ("Media retrieval" in the API reference): `stream` and `download` send the
//! song's file as it was uploaded, with HTTP ranges; `stream` with `format=wav` sends it decoded
//! to WAV (`crate::transcode`), for apps that cannot play its format. The locker encodes no lossy
//! format, so any other `format`, and `maxBitRate`, change nothing: such a request gets the file
//! as uploaded. `getCoverArt` sends a cover, scaled down to `size` when asked.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use rusqlite::OptionalExtension;

use crate::error::DbContext;
use crate::subsonic::Call;
use crate::subsonic::envelope::{Code, Failure, Reply};

/// `stream` and (`attachment`) `download`.
pub(super) async fn stream(call: &Call<'_>, attachment: bool) -> Result<Reply, Failure> {
    let id = call.params.required("id")?;
    let lib = call.library().await?;
    let song = lib.song(id).ok_or_else(|| Failure::not_found("song"))?;
    if !attachment && call.params.get("format") == Some("wav") {
        let response = crate::transcode::send(call.state, song, call.method, call.headers).await?;
        return Ok(Reply::Raw(response));
    }
    let mut response =
        crate::stream::send_blob(call.state, &song.blob, song.size, call.method, call.headers)
            .await?;
    if attachment {
        crate::stream::attach(&mut response, &song.file_name());
    }
    Ok(Reply::Raw(response))
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
    let (bytes, mime) = match size.filter(|&s| s > 0 && s < crate::covers::MAX_COVER_SIDE) {
        Some(side) => tokio::task::spawn_blocking(move || crate::covers::scale(bytes, mime, side))
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

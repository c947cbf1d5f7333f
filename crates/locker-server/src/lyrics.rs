//! A song's lyrics, read when asked: the text of the LRC file the desktop found beside the song
//! (it sends it as the track's `lyrics` field, since the locker keeps no files beside its blobs),
//! else the tags of the stored file, read with the desktop app's reader
//! (`skylark_tags::read_tag_lyrics`). The same order as the desktop's. Subsonic apps
//! (`subsonic/lyrics.rs`) and the web player (`web/commands.rs`) ask.

use std::io::{BufReader, Cursor};
use std::path::PathBuf;

use rusqlite::OptionalExtension;
use skylark_locker_api::ErrorCode;
use skylark_tags::{Lyrics, lrc_lyrics, read_tag_lyrics};

use crate::accounts::UserId;
use crate::error::{DbContext, Error, Result};
use crate::http::AppState;
use crate::library::Song;
use crate::storage::blob_key;

/// The lyrics of `user`'s song `song`: its `lyrics` field, else the tags of its file; `None`
/// when neither has any.
///
/// # Errors
///
/// The database or the stored file cannot be read, or its tags cannot be parsed.
pub async fn read(state: &AppState, user: UserId, song: &Song) -> Result<Option<Lyrics>> {
    let uid = song.id.clone();
    let field: Option<String> = state
        .db(move |conn| {
            conn.query_row(
                "SELECT value FROM track_fields WHERE user_id = ?1 AND uid = ?2 AND field = 'lyrics'",
                rusqlite::params![user.0, uid],
                |r| r.get(0),
            )
            .optional()
            .ctx("reading a song's lyrics")
        })
        .await?;
    let sent = field
        .and_then(|json| serde_json::from_str::<String>(&json).ok())
        .and_then(|text| lrc_lyrics(&text));
    if sent.is_some() {
        return Ok(sent);
    }
    tag_lyrics(state, song).await
}

/// The lyrics in the tags of `song`'s file, if any.
async fn tag_lyrics(state: &AppState, song: &Song) -> Result<Option<Lyrics>> {
    let name = PathBuf::from(format!("song {}", song.id));
    let failed = |e: &dyn std::fmt::Display| {
        Error::api(
            ErrorCode::Internal,
            format!("cannot read the song's lyrics: {e}"),
        )
    };
    let read = match state.blobs().local_dir() {
        // A blob on this disk: lofty reads only the parts of the file that hold tags.
        Some(dir) => {
            let path = dir.join(blob_key(&song.blob));
            tokio::task::spawn_blocking(move || {
                let file =
                    std::fs::File::open(&path).map_err(|source| skylark_tags::Error::Io {
                        path: name.clone(),
                        source,
                    })?;
                read_tag_lyrics(BufReader::new(file), &name)
            })
            .await
        }
        // In S3: the whole object, since tags may be at either end of the file.
        None => {
            let bytes = state.blobs().read(&song.blob).await?;
            tokio::task::spawn_blocking(move || read_tag_lyrics(Cursor::new(bytes), &name)).await
        }
    };
    read.map_err(|e| failed(&e))?.map_err(|e| failed(&e))
}

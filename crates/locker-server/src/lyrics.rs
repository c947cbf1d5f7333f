//! A song's lyrics, read when asked from the tags of its stored file with the desktop app's
//! reader (`skylark_tags::read_tag_lyrics`). The locker keeps no `.lrc` files beside its blobs,
//! so only the tags count. Subsonic apps (`subsonic/lyrics.rs`) and the web player
//! (`web/commands.rs`) ask.

use std::io::{BufReader, Cursor};
use std::path::PathBuf;

use skylark_locker_api::ErrorCode;
use skylark_tags::{Lyrics, read_tag_lyrics};

use crate::error::{Error, Result};
use crate::http::AppState;
use crate::library::Song;
use crate::storage::blob_key;

/// The lyrics in the tags of `song`'s file, if any.
///
/// # Errors
///
/// The stored file cannot be read, or its tags cannot be parsed.
pub async fn read(state: &AppState, song: &Song) -> Result<Option<Lyrics>> {
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

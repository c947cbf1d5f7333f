//! Lyrics from the tags of the songs' files: `getLyricsBySongId` (the OpenSubsonic `songLyrics`
//! extension: timed lines where the tag holds LRC text) and the older `getLyrics`, which names a
//! song by artist and title. The locker keeps no LRC files beside its blobs, so only the tags
//! count; they are read when asked, with the same reader as the desktop app's.

use std::io::{BufReader, Cursor};
use std::path::PathBuf;

use skylark_tags::{Lyrics, read_tag_lyrics};

use crate::library::{Library, Song};
use crate::storage::blob_key;
use crate::subsonic::Call;
use crate::subsonic::browse::{body, child};
use crate::subsonic::envelope::{Code, Failure, Reply};
use crate::subsonic::responses::{LyricsLine, LyricsList, OldLyrics, StructuredLyrics};

/// The lyrics in the tags of `song`'s file, if any.
async fn read(call: &Call<'_>, song: &Song) -> Result<Option<Lyrics>, Failure> {
    let name = PathBuf::from(format!("song {}", song.id));
    let failed = |e: &dyn std::fmt::Display| {
        Failure::new(Code::Generic, format!("cannot read the song's lyrics: {e}"))
    };
    let read = match call.state.blobs().local_dir() {
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
        // In S3: the whole object, since tags may be at either end.
        None => {
            let bytes = call
                .state
                .blobs()
                .read(&song.blob)
                .await
                .map_err(|e| failed(&e))?;
            tokio::task::spawn_blocking(move || read_tag_lyrics(Cursor::new(bytes), &name)).await
        }
    };
    read.map_err(|e| failed(&e))?.map_err(|e| failed(&e))
}

/// `getLyricsBySongId`: the lyrics of the song `id`, timed or not; an empty list when its tags
/// have none.
pub(super) async fn by_song_id(call: &Call<'_>) -> Result<Reply, Failure> {
    let id = call.params.required("id")?;
    let lib = call.library().await?;
    let song = lib
        .song(id)
        .ok_or_else(|| Failure::not_found(&format!("song {id}")))?;
    let structured_lyrics = read(call, song)
        .await?
        .map(|lyrics| structured(&lib, song, lyrics))
        .into_iter()
        .collect();
    body("lyricsList", LyricsList { structured_lyrics })
}

/// `getLyrics`: the lyrics of the account's song titled `title` (by `artist`, when given), as
/// one text; an empty answer when no such song has any.
pub(super) async fn by_artist_and_title(call: &Call<'_>) -> Result<Reply, Failure> {
    let fold = |s: &str| s.trim().to_lowercase();
    let title = call.params.get("title").map(fold).filter(|t| !t.is_empty());
    let artist = call
        .params
        .get("artist")
        .map(fold)
        .filter(|a| !a.is_empty());
    let Some(title) = title else {
        return body("lyrics", OldLyrics::default());
    };
    let lib = call.library().await?;
    let candidates = lib.songs.iter().filter(|song| {
        song.title.as_deref().map(fold).as_ref() == Some(&title)
            && artist
                .as_ref()
                .is_none_or(|a| fold(lib.song_artist(song)) == *a)
    });
    for song in candidates {
        if let Some(lyrics) = read(call, song).await? {
            let text: Vec<&str> = lyrics.lines.iter().map(|l| l.text.as_str()).collect();
            return body(
                "lyrics",
                OldLyrics {
                    artist: Some(lib.song_artist(song).to_owned()),
                    title: song.title.clone(),
                    value: text.join("\n"),
                },
            );
        }
    }
    body("lyrics", OldLyrics::default())
}

/// `lyrics` as the `songLyrics` extension shapes them.
fn structured(lib: &Library, song: &Song, lyrics: Lyrics) -> StructuredLyrics {
    let shown = child(lib, song);
    StructuredLyrics {
        display_artist: shown.artist,
        display_title: Some(shown.title),
        // Tags rarely say the language: "xxx" is the extension's "not known".
        lang: "xxx",
        offset: 0,
        synced: lyrics.timed,
        line: lyrics
            .lines
            .into_iter()
            .map(|line| LyricsLine {
                start: line.start_ms,
                value: line.text,
            })
            .collect(),
    }
}

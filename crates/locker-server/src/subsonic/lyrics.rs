//! Lyrics from the tags of the songs' files (see `crate::lyrics`): `getLyricsBySongId` (the
//! OpenSubsonic `songLyrics` extension: timed lines where the tag holds LRC text) and the older
//! `getLyrics`, which names a song by artist and title.

use skylark_tags::Lyrics;

use crate::library::{Library, Song};
use crate::subsonic::Call;
use crate::subsonic::browse::{self, body, child};
use crate::subsonic::envelope::{Failure, Reply};
use crate::subsonic::responses::{LyricsLine, LyricsList, OldLyrics, StructuredLyrics};

/// `getLyricsBySongId`: the lyrics of the song `id`, timed or not; an empty list when its tags
/// have none.
pub(super) async fn by_song_id(call: &Call<'_>) -> Result<Reply, Failure> {
    let id = call.params.required("id")?;
    let lib = call.library().await?;
    let song = browse::find_song(&lib, id)?;
    let structured_lyrics = crate::lyrics::read(call.state, call.user(), song)
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
        if let Some(lyrics) = crate::lyrics::read(call.state, call.user(), song).await? {
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

//! Similar songs and artists, and artist and album information ("Browsing" in the API reference),
//! from the account's own library. The locker fetches nothing from the internet, so "similar"
//! means near in the account's own music (the same artist, or a genre in common) and there are no
//! biographies, album notes or artist pictures to give: those fields are left out, not made up.

use std::cmp::Reverse;
use std::collections::{HashSet, VecDeque};

use crate::library::{self, Artist, Library, Song};
use crate::subsonic::Call;
use crate::subsonic::browse::{artist_id3, body, child, index_artist, page_size, shuffled};
use crate::subsonic::envelope::{Failure, Reply};
use crate::subsonic::responses::{AlbumInfo, ArtistInfo, Songs};

/// What a "similar" request starts from: its songs' ids, and their artists and genres, folded.
#[derive(Default)]
struct Seed<'a> {
    songs: HashSet<&'a str>,
    artists: HashSet<String>,
    genres: HashSet<String>,
}

impl<'a> Seed<'a> {
    fn add(&mut self, lib: &'a Library, song: &'a Song) {
        self.songs.insert(&song.id);
        self.artists.insert(library::fold(lib.song_artist(song)));
        self.genres
            .extend(song.genres.iter().map(|g| library::fold(g)));
    }

    /// The seed of a song, album or artist id.
    fn of(lib: &'a Library, id: &str) -> Result<Self, Failure> {
        let mut seed = Seed::default();
        if let Some(song) = lib.song(id) {
            seed.add(lib, song);
        } else if let Some(album) = lib.album(id) {
            for &i in &album.songs {
                seed.add(lib, &lib.songs[i]);
            }
        } else if let Some(artist) = lib.artist(id) {
            let name = library::fold(&artist.name);
            for song in &lib.songs {
                if library::fold(lib.song_artist(song)) == name
                    || lib.artists[lib.albums[song.album].artist].id == artist.id
                {
                    seed.add(lib, song);
                }
            }
        } else {
            return Err(Failure::not_found(&format!("song, album or artist {id}")));
        }
        Ok(seed)
    }
}

/// `getSimilarSongs` and `getSimilarSongs2`: up to `count` (default 50) songs near the song,
/// album or artist `id`, in random order: two of other artists sharing a genre with it for each
/// one of its own artists, as a radio would mix them, and never the seed's own songs. A library
/// without genres gives the same artists' songs only; nothing near gives an empty list.
pub(super) async fn similar_songs(call: &Call<'_>, id3: bool) -> Result<Reply, Failure> {
    let id = call.params.required("id")?;
    let count = page_size(call, "count", 50)?;
    let lib = call.library().await?;
    let seed = Seed::of(&lib, id)?;
    let (mut same_artist, mut same_genre) = (VecDeque::new(), VecDeque::new());
    for i in shuffled(lib.songs.len()) {
        let song = &lib.songs[i];
        if seed.songs.contains(song.id.as_str()) {
            continue;
        }
        if seed.artists.contains(&library::fold(lib.song_artist(song))) {
            same_artist.push_back(song);
        } else if song
            .genres
            .iter()
            .any(|g| seed.genres.contains(&library::fold(g)))
        {
            same_genre.push_back(song);
        }
    }
    let mut song = Vec::with_capacity(count.min(same_artist.len() + same_genre.len()));
    while song.len() < count {
        let next = if song.len() % 3 == 2 {
            same_artist.pop_front().or_else(|| same_genre.pop_front())
        } else {
            same_genre.pop_front().or_else(|| same_artist.pop_front())
        };
        let Some(next) = next else { break };
        song.push(child(&lib, next));
    }
    body(
        if id3 { "similarSongs2" } else { "similarSongs" },
        Songs { song },
    )
}

/// The artist an artist-info request names: an artist id, or (as `getArtistInfo` also takes) an
/// album's or a song's, meaning its album artist.
fn artist_of<'a>(lib: &'a Library, id: &str) -> Result<&'a Artist, Failure> {
    if let Some(artist) = lib.artist(id) {
        return Ok(artist);
    }
    let album = lib
        .album(id)
        .or_else(|| lib.song(id).map(|s| &lib.albums[s.album]))
        .ok_or_else(|| Failure::not_found(&format!("artist {id}")))?;
    Ok(&lib.artists[album.artist])
}

/// The folded genres of an artist's albums.
fn artist_genres(lib: &Library, artist: &Artist) -> HashSet<String> {
    artist
        .albums
        .iter()
        .flat_map(|&a| lib.albums[a].genres.iter())
        .map(|g| library::fold(g))
        .collect()
}

/// The artists sharing most genres with `artist`, at most `count`, by shared genres and then
/// name; those sharing none are not similar.
fn similar_artists<'a>(lib: &'a Library, artist: &Artist, count: usize) -> Vec<&'a Artist> {
    let genres = artist_genres(lib, artist);
    let mut scored: Vec<(usize, &Artist)> = lib
        .artists
        .iter()
        .filter(|other| other.id != artist.id)
        .map(|other| {
            let shared = artist_genres(lib, other).intersection(&genres).count();
            (shared, other)
        })
        .filter(|&(shared, _)| shared > 0)
        .collect();
    // The library lists artists by sort name, and the sort is stable.
    scored.sort_by_key(|&(shared, _)| Reverse(shared));
    scored.into_iter().take(count).map(|(_, a)| a).collect()
}

/// `getArtistInfo` and `getArtistInfo2`: the artist's similar artists (`count`, default 20) from
/// the account's library.
pub(super) async fn artist_info(call: &Call<'_>, id3: bool) -> Result<Reply, Failure> {
    let id = call.params.required("id")?;
    let count = page_size(call, "count", 20)?;
    let lib = call.library().await?;
    let artist = artist_of(&lib, id)?;
    let similar = similar_artists(&lib, artist, count);
    if id3 {
        let similar_artist = similar.into_iter().map(artist_id3).collect();
        body("artistInfo2", ArtistInfo { similar_artist })
    } else {
        let similar_artist = similar.into_iter().map(index_artist).collect();
        body("artistInfo", ArtistInfo { similar_artist })
    }
}

/// `getAlbumInfo` and `getAlbumInfo2`: what the locker knows about an album beyond its tags,
/// which is nothing (no notes, no pictures but the cover `getCoverArt` serves), for an album of
/// the account (or, as `getAlbumInfo` also takes, a song's album).
pub(super) async fn album_info(call: &Call<'_>, id3: bool) -> Result<Reply, Failure> {
    let id = call.params.required("id")?;
    let lib = call.library().await?;
    if lib.album(id).is_none() && (id3 || lib.song(id).is_none()) {
        return Err(Failure::not_found(&format!("album {id}")));
    }
    // Both forms answer `albumInfo`, as the reference names it.
    body("albumInfo", AlbumInfo {})
}

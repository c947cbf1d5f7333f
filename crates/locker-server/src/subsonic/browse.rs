//! Browsing and searching ("System", "Browsing", "Album/song lists", "Searching" in the API
//! reference): the account's library as Subsonic's ID3 views show it.

use std::sync::Arc;

use serde::Serialize;

use crate::library::{self, Album, Artist, IGNORED_ARTICLES, Library, Song};
use crate::subsonic::Call;
use crate::subsonic::envelope::{Code, Failure, Reply};
use crate::subsonic::responses::{
    AlbumDir, AlbumId3, AlbumList, AlbumList2, AlbumWithSongs, ArtistId3, ArtistRef,
    ArtistWithAlbums, ArtistsId3, Child, Directory, Extension, Genre, Genres, Index, IndexArtist,
    IndexId3, Indexes, ItemGenre, License, MusicFolder, MusicFolders, ReplayGain, ScanStatus,
    SearchResult2, SearchResult3, Songs, TokenInfo, User, iso8601,
};

/// The most items one list or search page returns.
const MAX_PAGE: usize = 500;
/// The id of the one music folder: the locker.
const FOLDER_ID: i64 = 1;

pub(crate) fn body(name: &'static str, value: impl Serialize) -> Result<Reply, Failure> {
    serde_json::to_value(value)
        .map(|v| Reply::Body(name, v))
        .map_err(|e| Failure::new(Code::Generic, format!("cannot write the response: {e}")))
}

/// The account's song `id`, or error 70 (not found).
pub(crate) fn find_song<'a>(lib: &'a Library, id: &str) -> Result<&'a Song, Failure> {
    lib.song(id)
        .ok_or_else(|| Failure::not_found(&format!("song {id}")))
}

/// The cover art id of a cover picture's hash.
pub(crate) fn cover_id(hash: &str) -> String {
    format!("co-{hash}")
}

fn stars(rating: u8) -> Option<u8> {
    (rating > 0).then(|| (rating.saturating_add(10) / 20).clamp(1, 5))
}

/// A song as `Child`.
pub(crate) fn child(lib: &Library, song: &Song) -> Child {
    let album = &lib.albums[song.album];
    let album_artist = &lib.artists[album.artist];
    let track_artist = song.artist.as_deref().and_then(|a| lib.artist_named(a));
    let (suffix, content_type) = song
        .codec
        .as_deref()
        .and_then(library::file_type)
        .map_or((None, None), |(s, c)| {
            (Some(s.to_owned()), Some(c.to_owned()))
        });
    let [track_gain, track_peak, album_gain, album_peak] = song.replay_gain;
    let replay_gain = song
        .replay_gain
        .iter()
        .any(Option::is_some)
        .then_some(ReplayGain {
            track_gain,
            album_gain,
            track_peak,
            album_peak,
        });
    Child {
        id: song.id.clone(),
        parent: Some(album.id.clone()),
        is_dir: false,
        title: song.title().to_owned(),
        album: Some(album.name.clone()),
        artist: Some(
            song.artist
                .clone()
                .unwrap_or_else(|| album_artist.name.clone()),
        ),
        track: song.track_no,
        year: song.year,
        genre: song.genre(),
        cover_art: song.cover.as_deref().map(cover_id),
        size: song.size,
        content_type,
        suffix,
        duration: song.duration_ms.map(|ms| (ms + 500) / 1000),
        bit_rate: song.bitrate_kbps,
        bit_depth: song.bit_depth,
        sampling_rate: song.sample_rate,
        channel_count: song.channels,
        is_video: false,
        user_rating: stars(song.rating),
        play_count: song.plays,
        disc_number: song.disc_no,
        created: iso8601(song.added_at),
        starred: song.loved_at.map(iso8601),
        album_id: Some(album.id.clone()),
        artist_id: track_artist
            .map(|a| a.id.clone())
            .or_else(|| song.artist.is_none().then(|| album_artist.id.clone())),
        kind: "music",
        media_type: "song",
        played: song.last_played.map(iso8601),
        music_brainz_id: song.mb_recording_id.clone(),
        genres: song
            .genres
            .iter()
            .map(|g| ItemGenre { name: g.clone() })
            .collect(),
        artists: track_artist
            .map(|a| ArtistRef {
                id: a.id.clone(),
                name: a.name.clone(),
            })
            .into_iter()
            .collect(),
        display_artist: song
            .artist
            .clone()
            .unwrap_or_else(|| album_artist.name.clone()),
        album_artists: vec![ArtistRef {
            id: album_artist.id.clone(),
            name: album_artist.name.clone(),
        }],
        display_album_artist: album_artist.name.clone(),
        replay_gain,
    }
}

/// An album as `AlbumID3`.
pub(crate) fn album_id3(lib: &Library, album: &Album) -> AlbumId3 {
    let artist = &lib.artists[album.artist];
    AlbumId3 {
        id: album.id.clone(),
        name: album.name.clone(),
        artist: artist.name.clone(),
        artist_id: artist.id.clone(),
        cover_art: album.cover.as_deref().map(cover_id),
        song_count: album.songs.len(),
        duration: album.duration_s,
        play_count: album.plays,
        created: iso8601(album.created),
        starred: album.loved_at.map(iso8601),
        year: album.year,
        genre: album.genres.first().cloned(),
        played: album.last_played.map(iso8601),
        genres: album
            .genres
            .iter()
            .map(|g| ItemGenre { name: g.clone() })
            .collect(),
        artists: vec![ArtistRef {
            id: artist.id.clone(),
            name: artist.name.clone(),
        }],
        display_artist: artist.name.clone(),
        sort_name: album.sort.clone(),
    }
}

/// An artist as `ArtistID3`.
pub(crate) fn artist_id3(artist: &Artist) -> ArtistId3 {
    ArtistId3 {
        id: artist.id.clone(),
        name: artist.name.clone(),
        cover_art: artist.cover.as_deref().map(cover_id),
        album_count: artist.albums.len(),
        starred: artist.loved_at.map(iso8601),
        sort_name: artist.sort.clone(),
    }
}

/// An album as a directory `Child`, under its album artist.
pub(crate) fn album_dir(lib: &Library, album: &Album) -> AlbumDir {
    let artist = &lib.artists[album.artist];
    AlbumDir {
        id: album.id.clone(),
        parent: artist.id.clone(),
        is_dir: true,
        title: album.name.clone(),
        name: album.name.clone(),
        album: album.name.clone(),
        artist: artist.name.clone(),
        year: album.year,
        genre: album.genres.first().cloned(),
        cover_art: album.cover.as_deref().map(cover_id),
        song_count: album.songs.len(),
        duration: album.duration_s,
        play_count: album.plays,
        created: iso8601(album.created),
        starred: album.loved_at.map(iso8601),
        artist_id: artist.id.clone(),
        media_type: "album",
        played: album.last_played.map(iso8601),
    }
}

/// An artist as `getIndexes`, `search2` and `getStarred` list one.
pub(crate) fn index_artist(artist: &Artist) -> IndexArtist {
    IndexArtist {
        id: artist.id.clone(),
        name: artist.name.clone(),
        starred: artist.loved_at.map(iso8601),
    }
}

/// `getLicense`: always valid.
pub(super) fn license() -> Result<Reply, Failure> {
    body("license", License { valid: true })
}

/// `getOpenSubsonicExtensions`.
pub(super) fn extensions() -> Reply {
    let list = vec![
        Extension {
            name: "apiKeyAuthentication",
            versions: vec![1],
        },
        Extension {
            name: "formPost",
            versions: vec![1],
        },
        Extension {
            name: "indexBasedQueue",
            versions: vec![1],
        },
        Extension {
            name: "songLyrics",
            versions: vec![1],
        },
    ];
    body("openSubsonicExtensions", list).unwrap_or(Reply::Empty)
}

/// `tokenInfo`: the account signed in.
pub(super) fn token_info(call: &Call<'_>) -> Result<Reply, Failure> {
    body(
        "tokenInfo",
        TokenInfo {
            username: call.account.name.clone(),
        },
    )
}

/// `getMusicFolders`: the locker is one folder.
pub(super) fn music_folders() -> Result<Reply, Failure> {
    body(
        "musicFolders",
        MusicFolders {
            music_folder: vec![MusicFolder {
                id: FOLDER_ID,
                name: "Music".to_owned(),
            }],
        },
    )
}

/// The index letter of an artist's sort key: its first letter, or `#`.
fn index_letter(sort: &str) -> String {
    match sort.chars().next() {
        Some(c) if c.is_alphabetic() => c.to_uppercase().collect(),
        _ => "#".to_owned(),
    }
}

/// The artists grouped by index letter, in order.
fn by_letter(lib: &Library) -> Vec<(String, Vec<&Artist>)> {
    let mut groups: Vec<(String, Vec<&Artist>)> = Vec::new();
    for artist in &lib.artists {
        let letter = index_letter(&artist.sort);
        match groups.iter_mut().find(|(l, _)| *l == letter) {
            Some((_, list)) => list.push(artist),
            None => groups.push((letter, vec![artist])),
        }
    }
    groups.sort_by(|a, b| (a.0 == "#", &a.0).cmp(&(b.0 == "#", &b.0)));
    groups
}

/// `getIndexes`.
pub(super) async fn indexes(call: &Call<'_>) -> Result<Reply, Failure> {
    let lib = call.library().await?;
    let since: Option<i64> = call.params.number("ifModifiedSince")?;
    let unchanged = since.is_some_and(|t| t > 0 && t >= lib.last_modified);
    let index = if unchanged {
        Vec::new()
    } else {
        by_letter(&lib)
            .into_iter()
            .map(|(name, artists)| Index {
                name,
                artist: artists.into_iter().map(index_artist).collect(),
            })
            .collect()
    };
    body(
        "indexes",
        Indexes {
            ignored_articles: IGNORED_ARTICLES.to_owned(),
            last_modified: lib.last_modified,
            index,
        },
    )
}

/// `getArtists`.
pub(super) async fn artists(call: &Call<'_>) -> Result<Reply, Failure> {
    let lib = call.library().await?;
    body(
        "artists",
        ArtistsId3 {
            ignored_articles: IGNORED_ARTICLES.to_owned(),
            index: by_letter(&lib)
                .into_iter()
                .map(|(name, artists)| IndexId3 {
                    name,
                    artist: artists.into_iter().map(artist_id3).collect(),
                })
                .collect(),
        },
    )
}

/// `getArtist`.
pub(super) async fn artist(call: &Call<'_>) -> Result<Reply, Failure> {
    let id = call.params.required("id")?;
    let lib = call.library().await?;
    let artist = lib.artist(id).ok_or_else(|| Failure::not_found("artist"))?;
    body(
        "artist",
        ArtistWithAlbums {
            artist: artist_id3(artist),
            album: artist
                .albums
                .iter()
                .map(|&a| album_id3(&lib, &lib.albums[a]))
                .collect(),
        },
    )
}

/// `getAlbum`.
pub(super) async fn album(call: &Call<'_>) -> Result<Reply, Failure> {
    let id = call.params.required("id")?;
    let lib = call.library().await?;
    let album = lib.album(id).ok_or_else(|| Failure::not_found("album"))?;
    body(
        "album",
        AlbumWithSongs {
            album: album_id3(&lib, album),
            song: album
                .songs
                .iter()
                .map(|&s| child(&lib, &lib.songs[s]))
                .collect(),
        },
    )
}

/// `getSong`.
pub(super) async fn song(call: &Call<'_>) -> Result<Reply, Failure> {
    let id = call.params.required("id")?;
    let lib = call.library().await?;
    body("song", child(&lib, find_song(&lib, id)?))
}

/// `getMusicDirectory`: for apps that browse by folders, an artist (as `getIndexes` lists them)
/// holds its albums and an album its songs.
pub(super) async fn music_directory(call: &Call<'_>) -> Result<Reply, Failure> {
    let id = call.params.required("id")?;
    let lib = call.library().await?;
    if let Some(artist) = lib.artist(id) {
        return body(
            "directory",
            Directory {
                id: artist.id.clone(),
                parent: None,
                name: artist.name.clone(),
                starred: artist.loved_at.map(iso8601),
                play_count: None,
                child: artist
                    .albums
                    .iter()
                    .map(|&a| album_dir(&lib, &lib.albums[a]))
                    .collect(),
            },
        );
    }
    let album = lib
        .album(id)
        .ok_or_else(|| Failure::not_found("directory"))?;
    body(
        "directory",
        Directory {
            id: album.id.clone(),
            parent: Some(lib.artists[album.artist].id.clone()),
            name: album.name.clone(),
            starred: album.loved_at.map(iso8601),
            play_count: Some(album.plays),
            child: album
                .songs
                .iter()
                .map(|&s| child(&lib, &lib.songs[s]))
                .collect(),
        },
    )
}

/// `getGenres`: every genre with its songs and albums, by name.
pub(super) async fn genres(call: &Call<'_>) -> Result<Reply, Failure> {
    let lib = call.library().await?;
    let mut genre: Vec<Genre> = lib
        .numbers()
        .genres
        .iter()
        .map(|g| {
            let mut albums: Vec<usize> = g.songs.iter().map(|&s| lib.songs[s].album).collect();
            albums.sort_unstable();
            albums.dedup();
            Genre {
                value: g.name.clone(),
                song_count: g.songs.len(),
                album_count: albums.len(),
            }
        })
        .collect();
    genre.sort_by_cached_key(|g| library::fold(&g.value));
    body("genres", Genres { genre })
}

/// `getSongsByGenre`: a page (`count`, default 10; `offset`) of a genre's songs.
pub(super) async fn songs_by_genre(call: &Call<'_>) -> Result<Reply, Failure> {
    let genre = library::fold(call.params.required("genre")?);
    let count = page_size(call, "count", 10)?;
    let offset: usize = call.params.number("offset")?.unwrap_or(0);
    let lib = call.library().await?;
    let song = lib
        .songs
        .iter()
        .filter(|s| has_genre(&s.genres, &genre))
        .skip(offset)
        .take(count)
        .map(|s| child(&lib, s))
        .collect();
    body("songsByGenre", Songs { song })
}

/// `getTopSongs`: the songs of the artist named `artist` the account has played most (the locker
/// knows no charts but the account's own plays), up to `count` (default 50).
pub(super) async fn top_songs(call: &Call<'_>) -> Result<Reply, Failure> {
    let name = library::fold(call.params.required("artist")?);
    let count = page_size(call, "count", 50)?;
    let lib = call.library().await?;
    let mut songs: Vec<&Song> = lib
        .songs
        .iter()
        .filter(|s| library::fold(lib.song_artist(s)) == name)
        .collect();
    // Most played first; among equals, the most recently played, then as the albums list them.
    songs.sort_by_key(|s| (std::cmp::Reverse(s.plays), std::cmp::Reverse(s.last_played)));
    let song = songs
        .into_iter()
        .take(count)
        .map(|s| child(&lib, s))
        .collect();
    body("topSongs", Songs { song })
}

/// `getScanStatus` and `startScan`: the locker has nothing to scan (it indexes each upload as
/// it arrives), so no scan ever runs; the count is the library's songs.
pub(super) async fn scan_status(call: &Call<'_>) -> Result<Reply, Failure> {
    let lib = call.library().await?;
    body(
        "scanStatus",
        ScanStatus {
            scanning: false,
            count: lib.songs.len(),
        },
    )
}

/// `getUser`: the signed-in account, the only one an app may ask about.
pub(super) fn user(call: &Call<'_>) -> Result<Reply, Failure> {
    let name = call.params.required("username")?;
    if name != call.account.name {
        return Err(Failure::new(
            Code::NotAuthorized,
            "an account can only read itself",
        ));
    }
    body(
        "user",
        User {
            username: call.account.name.clone(),
            scrobbling_enabled: true,
            admin_role: false,
            settings_role: false,
            download_role: true,
            upload_role: false,
            playlist_role: true,
            cover_art_role: true,
            comment_role: false,
            podcast_role: false,
            stream_role: true,
            jukebox_role: false,
            share_role: false,
            video_conversion_role: false,
            folder: vec![FOLDER_ID],
        },
    )
}

/// A page size from `name` (default `default`), at most [`MAX_PAGE`].
pub(crate) fn page_size(call: &Call<'_>, name: &str, default: usize) -> Result<usize, Failure> {
    Ok(call
        .params
        .number::<usize>(name)?
        .unwrap_or(default)
        .min(MAX_PAGE))
}

/// A random permutation of `0..n`, from the system's random source.
pub(crate) fn shuffled(n: usize) -> Vec<usize> {
    let mut seed = [0u8; 8];
    // Without a random source the order is merely fixed, which still answers the request.
    let _ = getrandom::fill(&mut seed);
    let mut state = u64::from_le_bytes(seed) | 1;
    let mut next = move || {
        // xorshift64*: plenty for shuffling a page of songs.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// Whether `genre` (folded) is one of `genres`.
fn has_genre(genres: &[String], genre: &str) -> bool {
    genres.iter().any(|g| library::fold(g) == genre)
}

/// The page of albums `getAlbumList2` and `getAlbumList` ask for (`type`, `size`, `offset`), as
/// indexes into the library's albums.
async fn album_page(call: &Call<'_>) -> Result<(Arc<Library>, Vec<usize>), Failure> {
    let kind = call.params.required("type")?;
    let size = page_size(call, "size", 10)?;
    let offset: usize = call.params.number("offset")?.unwrap_or(0);
    let lib = call.library().await?;
    let order = album_order(call, &lib, kind)?;
    let picked = order.into_iter().skip(offset).take(size).collect();
    Ok((lib, picked))
}

/// The albums of an album list of type `kind`, in its order.
fn album_order(call: &Call<'_>, lib: &Library, kind: &str) -> Result<Vec<usize>, Failure> {
    let all = || lib.albums.iter().enumerate();
    Ok(match kind {
        "random" => shuffled(lib.albums.len()),
        "newest" => {
            let mut v: Vec<usize> = (0..lib.albums.len()).collect();
            v.sort_by_key(|&i| std::cmp::Reverse(lib.albums[i].created));
            v
        }
        "frequent" => {
            let mut v: Vec<usize> = all().filter(|(_, a)| a.plays > 0).map(|(i, _)| i).collect();
            v.sort_by_key(|&i| std::cmp::Reverse(lib.albums[i].plays));
            v
        }
        "recent" => {
            let mut v: Vec<usize> = all()
                .filter(|(_, a)| a.last_played.is_some())
                .map(|(i, _)| i)
                .collect();
            v.sort_by_key(|&i| std::cmp::Reverse(lib.albums[i].last_played));
            v
        }
        "highest" => {
            let mut v: Vec<usize> = all()
                .filter(|(_, a)| a.rating.is_some())
                .map(|(i, _)| i)
                .collect();
            v.sort_by_key(|&i| std::cmp::Reverse(lib.albums[i].rating));
            v
        }
        "alphabeticalByName" => {
            let mut v: Vec<usize> = (0..lib.albums.len()).collect();
            v.sort_by(|&a, &b| lib.albums[a].sort.cmp(&lib.albums[b].sort));
            v
        }
        // Albums are kept by artist, year and title already.
        "alphabeticalByArtist" => (0..lib.albums.len()).collect(),
        "starred" => {
            let mut v: Vec<usize> = all()
                .filter(|(_, a)| a.loved_at.is_some())
                .map(|(i, _)| i)
                .collect();
            v.sort_by_key(|&i| std::cmp::Reverse(lib.albums[i].loved_at));
            v
        }
        "byYear" => {
            let from: i64 = call
                .params
                .number("fromYear")?
                .ok_or_else(|| Failure::missing("fromYear"))?;
            let to: i64 = call
                .params
                .number("toYear")?
                .ok_or_else(|| Failure::missing("toYear"))?;
            let (low, high) = (from.min(to), from.max(to));
            let mut v: Vec<usize> = all()
                .filter(|(_, a)| a.year.is_some_and(|y| (low..=high).contains(&y)))
                .map(|(i, _)| i)
                .collect();
            // fromYear after toYear lists the years in reverse (API reference).
            v.sort_by_key(|&i| (lib.albums[i].year, lib.albums[i].sort.clone()));
            if from > to {
                v.reverse();
            }
            v
        }
        "byGenre" => {
            let genre = library::fold(call.params.required("genre")?);
            all()
                .filter(|(_, a)| has_genre(&a.genres, &genre))
                .map(|(i, _)| i)
                .collect()
        }
        other => {
            return Err(Failure::new(
                Code::Generic,
                format!("unknown album list type {other:?}"),
            ));
        }
    })
}

/// `getAlbumList2`.
pub(super) async fn album_list2(call: &Call<'_>) -> Result<Reply, Failure> {
    let (lib, picked) = album_page(call).await?;
    body(
        "albumList2",
        AlbumList2 {
            album: picked
                .into_iter()
                .map(|i| album_id3(&lib, &lib.albums[i]))
                .collect(),
        },
    )
}

/// `getAlbumList`: the same lists, the albums as directories.
pub(super) async fn album_list(call: &Call<'_>) -> Result<Reply, Failure> {
    let (lib, picked) = album_page(call).await?;
    body(
        "albumList",
        AlbumList {
            album: picked
                .into_iter()
                .map(|i| album_dir(&lib, &lib.albums[i]))
                .collect(),
        },
    )
}

/// `getRandomSongs`.
pub(super) async fn random_songs(call: &Call<'_>) -> Result<Reply, Failure> {
    let size = page_size(call, "size", 10)?;
    let genre = call.params.get("genre").map(library::fold);
    let from: Option<i64> = call.params.number("fromYear")?;
    let to: Option<i64> = call.params.number("toYear")?;
    let lib = call.library().await?;
    let songs: Vec<Child> = shuffled(lib.songs.len())
        .into_iter()
        .map(|i| &lib.songs[i])
        .filter(|s| genre.as_deref().is_none_or(|g| has_genre(&s.genres, g)))
        .filter(|s| from.is_none_or(|f| s.year.is_some_and(|y| y >= f)))
        .filter(|s| to.is_none_or(|t| s.year.is_some_and(|y| y <= t)))
        .take(size)
        .map(|s| child(&lib, s))
        .collect();
    body("randomSongs", Songs { song: songs })
}

/// What a search asks for: its terms, and a page of each kind (`artistCount`, `artistOffset`,
/// and so on; 20 of each by default).
struct SearchPage {
    terms: Vec<String>,
    artists: (usize, usize),
    albums: (usize, usize),
    songs: (usize, usize),
}

impl SearchPage {
    fn of(call: &Call<'_>) -> Result<Self, Failure> {
        let page = |kind: &str| -> Result<(usize, usize), Failure> {
            let count = call
                .params
                .number::<usize>(&format!("{kind}Count"))?
                .unwrap_or(20)
                .min(MAX_PAGE);
            let offset = call.params.number(&format!("{kind}Offset"))?.unwrap_or(0);
            Ok((offset, count))
        };
        Ok(SearchPage {
            terms: library::query_terms(call.params.required("query")?),
            artists: page("artist")?,
            albums: page("album")?,
            songs: page("song")?,
        })
    }

    fn artists<'a>(&'a self, lib: &'a Library) -> impl Iterator<Item = &'a Artist> {
        let (offset, count) = self.artists;
        lib.search_artists(&self.terms).skip(offset).take(count)
    }

    fn albums<'a>(&'a self, lib: &'a Library) -> impl Iterator<Item = &'a Album> {
        let (offset, count) = self.albums;
        lib.search_albums(&self.terms).skip(offset).take(count)
    }

    fn songs<'a>(&'a self, lib: &'a Library) -> impl Iterator<Item = &'a Song> {
        let (offset, count) = self.songs;
        lib.search_songs(&self.terms).skip(offset).take(count)
    }
}

/// `search3`. An empty query (or `""`, as some apps send) lists everything, page by page, as
/// OpenSubsonic allows, so apps can copy a whole library.
pub(super) async fn search3(call: &Call<'_>) -> Result<Reply, Failure> {
    let page = SearchPage::of(call)?;
    let lib = call.library().await?;
    body(
        "searchResult3",
        SearchResult3 {
            artist: page.artists(&lib).map(artist_id3).collect(),
            album: page.albums(&lib).map(|a| album_id3(&lib, a)).collect(),
            song: page.songs(&lib).map(|s| child(&lib, s)).collect(),
        },
    )
}

/// What the account loves, most recently loved first: artists, albums and songs.
fn loved(lib: &Library) -> (Vec<&Artist>, Vec<&Album>, Vec<&Song>) {
    let mut artists: Vec<&Artist> = lib
        .artists
        .iter()
        .filter(|a| a.loved_at.is_some())
        .collect();
    artists.sort_by_key(|a| std::cmp::Reverse(a.loved_at));
    let mut albums: Vec<&Album> = lib.albums.iter().filter(|a| a.loved_at.is_some()).collect();
    albums.sort_by_key(|a| std::cmp::Reverse(a.loved_at));
    let mut songs: Vec<&Song> = lib.songs.iter().filter(|s| s.loved_at.is_some()).collect();
    songs.sort_by_key(|s| std::cmp::Reverse(s.loved_at));
    (artists, albums, songs)
}

/// `getStarred2`: what the account loves, most recently loved first.
pub(super) async fn starred2(call: &Call<'_>) -> Result<Reply, Failure> {
    let lib = call.library().await?;
    let (artists, albums, songs) = loved(&lib);
    body(
        "starred2",
        SearchResult3 {
            artist: artists.into_iter().map(artist_id3).collect(),
            album: albums.into_iter().map(|a| album_id3(&lib, a)).collect(),
            song: songs.into_iter().map(|s| child(&lib, s)).collect(),
        },
    )
}

/// `search2`: what `search3` finds, as apps that browse by folders show it.
pub(super) async fn search2(call: &Call<'_>) -> Result<Reply, Failure> {
    let page = SearchPage::of(call)?;
    let lib = call.library().await?;
    body(
        "searchResult2",
        SearchResult2 {
            artist: page.artists(&lib).map(index_artist).collect(),
            album: page.albums(&lib).map(|a| album_dir(&lib, a)).collect(),
            song: page.songs(&lib).map(|s| child(&lib, s)).collect(),
        },
    )
}

/// `getStarred`: what `getStarred2` lists, as apps that browse by folders show it.
pub(super) async fn starred(call: &Call<'_>) -> Result<Reply, Failure> {
    let lib = call.library().await?;
    let (artists, albums, songs) = loved(&lib);
    body(
        "starred",
        SearchResult2 {
            artist: artists.into_iter().map(index_artist).collect(),
            album: albums.into_iter().map(|a| album_dir(&lib, a)).collect(),
            song: songs.into_iter().map(|s| child(&lib, s)).collect(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffles_are_permutations() {
        let mut order = shuffled(100);
        order.sort_unstable();
        assert_eq!(order, (0..100).collect::<Vec<_>>());
        assert!(shuffled(0).is_empty());
    }

    #[test]
    fn ratings_become_stars() {
        assert_eq!(stars(0), None);
        assert_eq!(stars(1), Some(1));
        assert_eq!(stars(20), Some(1));
        assert_eq!(stars(50), Some(3));
        assert_eq!(stars(100), Some(5));
    }

    #[test]
    fn index_letters() {
        assert_eq!(index_letter("beatles"), "B");
        assert_eq!(index_letter("ólafur"), "Ó");
        assert_eq!(index_letter("2pac"), "#");
        assert_eq!(index_letter(""), "#");
    }
}

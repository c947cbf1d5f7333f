//! An account's music as the web player and Subsonic apps browse it: songs (the account's tracks
//! that have a file in the locker), the albums and album artists their tags group them into, with
//! plays and loves.
//!
//! Track metadata lives in the catalog as one last-writer-wins register per field
//! (`track_fields`), written by devices with the names the desktop catalog uses: `title`,
//! `artist`, `album`, `album_artist`, `track_no`, `disc_no`, `year`, `genre`, `duration_ms`,
//! `bitrate_kbps`, `sample_rate`, `channels`, `bit_depth`, `codec`, `mb_recording_id`,
//! `rg_track_gain`, `rg_track_peak`, `rg_album_gain`, `rg_album_peak`, `loved` (a boolean:
//! Subsonic's star), and `imported_play_count` and `imported_last_played` (the history another
//! player had when a device imported it, counted with the play events). Grouping them into albums and artists takes every track of the account, so
//! the result is kept per account ([`Libraries`]) and rebuilt only when the account's change feed
//! has moved on by an op that changes it: the feed's last sequence number versions everything
//! built here; playlist ops, which change nothing here, and plays, which are counted into a copy,
//! move the version without a rebuild.
//! The check reads the feed's position on every request, so several servers sharing one
//! database never serve a stale library.
//!
//! Album and artist ids are derived from the account and the case-folded tags, so they are stable
//! across rebuilds and restarts and never the same for two accounts.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use rusqlite::{Connection, OptionalExtension, params};
use skylark_locker_api::ops::{Change, LoveTarget, Op};

use crate::accounts::UserId;
use crate::catalog::love_key;
use crate::error::{DbContext, Result};

/// The album artist of tracks tagged with none (the desktop catalog's name).
pub const UNKNOWN_ARTIST: &str = "Unknown Artist";
/// The album of tracks tagged with none (the desktop catalog's name).
pub const UNKNOWN_ALBUM: &str = "Unknown Album";
/// Articles ignored when sorting and indexing artists.
pub const IGNORED_ARTICLES: &str = "The El La Los Las Le Les";
/// Accounts whose library is kept in memory at once; the least recently used goes first.
const CACHED_ACCOUNTS: usize = 8;

/// One song.
#[derive(Debug, Clone, Default)]
pub struct Song {
    /// The track id.
    pub id: String,
    /// The BLAKE3 hash of its file.
    pub blob: String,
    /// The file's size.
    pub size: u64,
    /// When the account got the file (milliseconds since the Unix epoch).
    pub added_at: i64,
    /// The rating, 0 to 100.
    pub rating: u8,
    /// The cover picture's hash.
    pub cover: Option<String>,
    /// Tags, as the catalog's fields hold them.
    pub title: Option<String>,
    /// The track artist.
    pub artist: Option<String>,
    /// The album title.
    pub album_title: Option<String>,
    /// The album artist.
    pub album_artist: Option<String>,
    /// Track number.
    pub track_no: Option<i64>,
    /// Disc number.
    pub disc_no: Option<i64>,
    /// Year.
    pub year: Option<i64>,
    /// Genres.
    pub genres: Vec<String>,
    /// Length in milliseconds.
    pub duration_ms: Option<i64>,
    /// Bitrate in kbit/s.
    pub bitrate_kbps: Option<i64>,
    /// Sample rate in Hz.
    pub sample_rate: Option<i64>,
    /// Channels.
    pub channels: Option<i64>,
    /// Bits per sample.
    pub bit_depth: Option<i64>,
    /// The codec's catalog name (`flac`, `mp3`, ...).
    pub codec: Option<String>,
    /// MusicBrainz recording id.
    pub mb_recording_id: Option<String>,
    /// ReplayGain: track gain, track peak, album gain, album peak.
    pub replay_gain: [Option<f64>; 4],
    /// When it was loved, if it is (the wall time of the `loved` field's stamp).
    pub loved_at: Option<i64>,
    /// Plays.
    pub plays: u64,
    /// The last play.
    pub last_played: Option<i64>,
    /// Index of its album in [`Library::albums`].
    pub album: usize,
    /// Folded title, artist and album, for search.
    search: String,
}

impl Song {
    /// The title to show.
    pub fn title(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.id)
    }

    /// The name its file gets when downloaded: the title, and the extension of its codec's usual
    /// container.
    pub fn file_name(&self) -> String {
        match self.codec.as_deref().and_then(file_type) {
            Some((suffix, _)) => format!("{}.{suffix}", self.title()),
            None => self.title().to_owned(),
        }
    }

    /// The genres as one string.
    pub fn genre(&self) -> Option<String> {
        (!self.genres.is_empty()).then(|| self.genres.join(", "))
    }
}

/// One album: the songs sharing an album artist and an album title.
#[derive(Debug, Clone)]
pub struct Album {
    /// Its id.
    pub id: String,
    /// Its title to show.
    pub name: String,
    /// Index of its artist in [`Library::artists`].
    pub artist: usize,
    /// Its songs, by disc, track and title.
    pub songs: Vec<usize>,
    /// The earliest year of its songs.
    pub year: Option<i64>,
    /// The genres of its songs, in order of first appearance.
    pub genres: Vec<String>,
    /// Length in seconds.
    pub duration_s: i64,
    /// When its first file came.
    pub created: i64,
    /// Plays of its songs.
    pub plays: u64,
    /// Its songs' last play.
    pub last_played: Option<i64>,
    /// The cover of its first song that has one.
    pub cover: Option<String>,
    /// When it was loved, if it is.
    pub loved_at: Option<i64>,
    /// Mean rating of its rated songs, 0 to 100.
    pub rating: Option<u8>,
    /// What identifies it in a `love` op.
    pub target: LoveTarget,
    /// Sort key.
    pub sort: String,
    search: String,
}

/// One album artist.
#[derive(Debug, Clone)]
pub struct Artist {
    /// Its id.
    pub id: String,
    /// Its name to show.
    pub name: String,
    /// Its albums, by year and title.
    pub albums: Vec<usize>,
    /// The cover of its first album that has one.
    pub cover: Option<String>,
    /// When it was loved, if it is.
    pub loved_at: Option<i64>,
    /// What identifies it in a `love` op.
    pub target: LoveTarget,
    /// Sort key: the folded name without a leading article.
    pub sort: String,
    search: String,
}

/// An account's songs, albums and artists at one point of its change feed.
#[derive(Debug, Clone, Default)]
pub struct Library {
    /// The change feed's last sequence number when it was built.
    pub version: i64,
    /// When the change feed last moved (milliseconds since the Unix epoch; 0 for never).
    pub last_modified: i64,
    /// Songs, by album then disc, track and title.
    pub songs: Vec<Song>,
    /// Albums, by artist sort name, year and title.
    pub albums: Vec<Album>,
    /// Artists, by sort name.
    pub artists: Vec<Artist>,
    song_ix: HashMap<String, usize>,
    album_ix: HashMap<String, usize>,
    artist_ix: HashMap<String, usize>,
    artist_by_name: HashMap<String, usize>,
    covers: HashSet<String>,
    numbers: OnceLock<Arc<Numbers>>,
}

/// The library by number, for the web player, whose UI names songs, albums, artists and genres
/// by number as the desktop catalog does by row id. A thing's number ([`number_of`]) is derived
/// from its id, so it stays the same across rebuilds and restarts.
#[derive(Debug, Default)]
pub struct Numbers {
    songs: HashMap<i64, usize>,
    albums: HashMap<i64, usize>,
    artists: HashMap<i64, usize>,
    /// Genres by folded name: the number, the name as first tagged, and the songs.
    pub genres: Vec<Genre>,
    genre_ix: HashMap<i64, usize>,
}

/// One genre and its songs.
#[derive(Debug)]
pub struct Genre {
    /// Its number.
    pub number: i64,
    /// Its name as first tagged.
    pub name: String,
    /// Its songs, as indexes into [`Library::songs`].
    pub songs: Vec<usize>,
}

/// The number of the thing of `kind` with id `id`: 52 bits of a hash, so that a JavaScript
/// number holds it exactly, and never 0. Two ids of one account share a number with a chance
/// of about n² / 2⁵³ (one in ten million for ten thousand songs); the later one is then left
/// unnumbered rather than confused with the first.
pub fn number_of(kind: &str, id: &str) -> i64 {
    let hash = blake3::hash(format!("{kind}\n{id}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    let n = u64::from_le_bytes(first) & ((1 << 52) - 1);
    i64::try_from(n).unwrap_or(0) + 1
}

fn index_by_number<'a>(kind: &str, ids: impl Iterator<Item = &'a str>) -> HashMap<i64, usize> {
    let mut map = HashMap::new();
    for (i, id) in ids.enumerate() {
        map.entry(number_of(kind, id)).or_insert(i);
    }
    map
}

impl Numbers {
    fn build(library: &Library) -> Numbers {
        let mut genres: Vec<Genre> = Vec::new();
        let mut genre_ix: HashMap<i64, usize> = HashMap::new();
        for (i, song) in library.songs.iter().enumerate() {
            for name in &song.genres {
                let number = number_of("genre", &fold(name));
                let at = *genre_ix.entry(number).or_insert_with(|| {
                    genres.push(Genre {
                        number,
                        name: name.clone(),
                        songs: Vec::new(),
                    });
                    genres.len() - 1
                });
                genres[at].songs.push(i);
            }
        }
        let mut order: Vec<usize> = (0..genres.len()).collect();
        order.sort_by_cached_key(|&i| fold(&genres[i].name));
        let mut slots: Vec<Option<Genre>> = genres.into_iter().map(Some).collect();
        let genres: Vec<Genre> = order.iter().filter_map(|&i| slots[i].take()).collect();
        let genre_ix = genres
            .iter()
            .enumerate()
            .map(|(i, g)| (g.number, i))
            .collect();
        Numbers {
            songs: index_by_number("track", library.songs.iter().map(|s| s.id.as_str())),
            albums: index_by_number("album", library.albums.iter().map(|a| a.id.as_str())),
            artists: index_by_number("artist", library.artists.iter().map(|a| a.id.as_str())),
            genres,
            genre_ix,
        }
    }
}

/// The file extension and MIME type of a codec's usual container.
pub fn file_type(codec: &str) -> Option<(&'static str, &'static str)> {
    Some(match codec {
        "mp3" => ("mp3", "audio/mpeg"),
        "mp2" => ("mp2", "audio/mpeg"),
        "flac" => ("flac", "audio/flac"),
        "vorbis" => ("ogg", "audio/ogg"),
        "opus" => ("opus", "audio/ogg"),
        "speex" => ("spx", "audio/ogg"),
        "aac" | "alac" => ("m4a", "audio/mp4"),
        "wavpack" => ("wv", "audio/x-wavpack"),
        "ape" => ("ape", "audio/x-ape"),
        "musepack" => ("mpc", "audio/x-musepack"),
        _ => return None,
    })
}

/// Folds text for matching and sorting: lowercase, without diacritics, so `bjork` finds Björk.
pub fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The sort key of an artist name: folded, without a leading ignored article.
pub fn artist_sort(name: &str) -> String {
    let folded = fold(name.trim());
    for article in IGNORED_ARTICLES.split(' ') {
        let article = article.to_lowercase();
        if let Some(rest) = folded.strip_prefix(&article)
            && let Some(rest) = rest.strip_prefix(' ')
            && !rest.trim().is_empty()
        {
            return rest.trim().to_owned();
        }
    }
    folded
}

/// Whether every term is a prefix of some word of `text` (both folded).
fn matches_terms(text: &str, terms: &[String]) -> bool {
    terms.iter().all(|term| {
        text.split(|c: char| !c.is_alphanumeric())
            .any(|word| word.starts_with(term.as_str()))
    })
}

/// The folded words of a search query; quotes and punctuation are dropped.
pub fn query_terms(query: &str) -> Vec<String> {
    fold(query)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn derived_id(prefix: &str, user: UserId, key: &str) -> String {
    let hash = blake3::hash(format!("{}\n{prefix}\n{key}", user.0).as_bytes());
    format!("{prefix}{}", &hash.to_hex()[..24])
}

/// The wall time of a stored stamp (its first field).
pub fn stamp_wall(stamp: &str) -> Option<i64> {
    stamp.split(':').next()?.parse().ok()
}

fn text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(text).collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        _ => None,
    }
}

fn number(value: &serde_json::Value) -> Option<f64> {
    match value {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|v: &f64| v.is_finite())
}

fn integer(value: &serde_json::Value) -> Option<i64> {
    number(value).map(|v| v.round() as i64)
}

impl Library {
    /// The song `id`.
    pub fn song(&self, id: &str) -> Option<&Song> {
        self.song_ix.get(id).map(|&i| &self.songs[i])
    }

    /// The album `id`.
    pub fn album(&self, id: &str) -> Option<&Album> {
        self.album_ix.get(id).map(|&i| &self.albums[i])
    }

    /// The artist `id`.
    pub fn artist(&self, id: &str) -> Option<&Artist> {
        self.artist_ix.get(id).map(|&i| &self.artists[i])
    }

    /// The artist a song is by: its track artist, else its album's artist.
    pub fn song_artist<'a>(&'a self, song: &'a Song) -> &'a str {
        song.artist
            .as_deref()
            .unwrap_or(&self.artists[self.albums[song.album].artist].name)
    }

    /// The library by number (built on first use).
    pub fn numbers(&self) -> &Numbers {
        self.numbers.get_or_init(|| Arc::new(Numbers::build(self)))
    }

    /// The song numbered `n`, with its index.
    pub fn song_numbered(&self, n: i64) -> Option<(usize, &Song)> {
        let i = *self.numbers().songs.get(&n)?;
        Some((i, &self.songs[i]))
    }

    /// The album numbered `n`.
    pub fn album_numbered(&self, n: i64) -> Option<&Album> {
        self.numbers().albums.get(&n).map(|&i| &self.albums[i])
    }

    /// The artist numbered `n`.
    pub fn artist_numbered(&self, n: i64) -> Option<&Artist> {
        self.numbers().artists.get(&n).map(|&i| &self.artists[i])
    }

    /// The genre numbered `n`.
    pub fn genre_numbered(&self, n: i64) -> Option<&Genre> {
        let numbers = self.numbers();
        numbers.genre_ix.get(&n).map(|&i| &numbers.genres[i])
    }

    /// The album artist named `name` (case aside), if there is one.
    pub fn artist_named(&self, name: &str) -> Option<&Artist> {
        self.artist_by_name
            .get(&name.trim().to_lowercase())
            .map(|&i| &self.artists[i])
    }

    /// Whether one of the account's files carries cover `hash`.
    pub fn has_cover(&self, hash: &str) -> bool {
        self.covers.contains(hash)
    }

    /// Songs whose title, artist or album match every term.
    pub fn search_songs<'a>(&'a self, terms: &'a [String]) -> impl Iterator<Item = &'a Song> {
        self.songs
            .iter()
            .filter(move |s| matches_terms(&s.search, terms))
    }

    /// Albums whose title or artist match every term.
    pub fn search_albums<'a>(&'a self, terms: &'a [String]) -> impl Iterator<Item = &'a Album> {
        self.albums
            .iter()
            .filter(move |a| matches_terms(&a.search, terms))
    }

    /// Artists whose name matches every term.
    pub fn search_artists<'a>(&'a self, terms: &'a [String]) -> impl Iterator<Item = &'a Artist> {
        self.artists
            .iter()
            .filter(move |a| matches_terms(&a.search, terms))
    }

    /// Builds the library of `user` from the catalog.
    pub fn build(conn: &Connection, user: UserId, version: i64) -> Result<Library> {
        let mut songs: Vec<Song> = Vec::new();
        let mut song_ix: HashMap<String, usize> = HashMap::new();
        {
            let mut stmt = conn
                .prepare(
                    "SELECT t.uid, t.blob, b.size, ub.added_at, t.rating,
                            (SELECT bc.cover FROM blob_covers bc WHERE bc.blob = t.blob)
                     FROM tracks t
                     JOIN blobs b ON b.hash = t.blob
                     JOIN user_blobs ub ON ub.user_id = t.user_id AND ub.hash = t.blob
                     WHERE t.user_id = ?1 AND (t.deleted_hlc IS NULL OR t.deleted_hlc < t.blob_hlc)",
                )
                .ctx("reading the library")?;
            let rows = stmt
                .query_map([user.0], |r| {
                    Ok(Song {
                        id: r.get(0)?,
                        blob: r.get(1)?,
                        size: r.get(2)?,
                        added_at: r.get(3)?,
                        rating: r.get::<_, i64>(4)?.clamp(0, 100) as u8,
                        cover: r.get(5)?,
                        ..Song::default()
                    })
                })
                .ctx("reading the library")?;
            for song in rows {
                let song = song.ctx("reading the library")?;
                song_ix.insert(song.id.clone(), songs.len());
                songs.push(song);
            }
        }
        {
            let mut stmt = conn
                .prepare(
                    "SELECT uid, field, value, hlc FROM track_fields WHERE user_id = ?1 AND field IN (
                        'title', 'artist', 'album', 'album_artist', 'track_no', 'disc_no', 'year',
                        'genre', 'duration_ms', 'bitrate_kbps', 'sample_rate', 'channels',
                        'bit_depth', 'codec', 'mb_recording_id', 'rg_track_gain', 'rg_track_peak',
                        'rg_album_gain', 'rg_album_peak', 'loved', 'imported_play_count',
                        'imported_last_played')",
                )
                .ctx("reading track fields")?;
            let mut rows = stmt.query([user.0]).ctx("reading track fields")?;
            while let Some(row) = rows.next().ctx("reading track fields")? {
                let uid: String = row.get(0).ctx("reading track fields")?;
                let Some(&i) = song_ix.get(&uid) else {
                    continue;
                };
                let field: String = row.get(1).ctx("reading track fields")?;
                let raw: String = row.get(2).ctx("reading track fields")?;
                let stamp: String = row.get(3).ctx("reading track fields")?;
                let Ok(value) = serde_json::from_str::<serde_json::Value>(&raw) else {
                    continue;
                };
                let song = &mut songs[i];
                match field.as_str() {
                    "title" => song.title = text(&value),
                    "artist" => song.artist = text(&value),
                    "album" => song.album_title = text(&value),
                    "album_artist" => song.album_artist = text(&value),
                    "track_no" => song.track_no = integer(&value).filter(|&n| n > 0),
                    "disc_no" => song.disc_no = integer(&value).filter(|&n| n > 0),
                    "year" => song.year = integer(&value).filter(|&n| n > 0),
                    "genre" => {
                        song.genres = match &value {
                            serde_json::Value::Array(items) => {
                                items.iter().filter_map(text).collect()
                            }
                            other => text(other)
                                .map(|g| {
                                    g.split(", ")
                                        .filter(|s| !s.trim().is_empty())
                                        .map(|s| s.trim().to_owned())
                                        .collect()
                                })
                                .unwrap_or_default(),
                        }
                    }
                    "duration_ms" => song.duration_ms = integer(&value).filter(|&n| n >= 0),
                    "bitrate_kbps" => song.bitrate_kbps = integer(&value).filter(|&n| n > 0),
                    "sample_rate" => song.sample_rate = integer(&value).filter(|&n| n > 0),
                    "channels" => song.channels = integer(&value).filter(|&n| n > 0),
                    "bit_depth" => song.bit_depth = integer(&value).filter(|&n| n > 0),
                    "codec" => song.codec = text(&value),
                    "mb_recording_id" => song.mb_recording_id = text(&value),
                    "rg_track_gain" => song.replay_gain[0] = number(&value),
                    "rg_track_peak" => song.replay_gain[1] = number(&value),
                    "rg_album_gain" => song.replay_gain[2] = number(&value),
                    "rg_album_peak" => song.replay_gain[3] = number(&value),
                    "loved" => {
                        song.loved_at = (value == serde_json::Value::Bool(true))
                            .then(|| stamp_wall(&stamp).unwrap_or(0))
                    }
                    // What another player had counted when the history was imported on a
                    // device: the plays before Skylark, added to the play events below.
                    "imported_play_count" => {
                        song.plays = integer(&value).unwrap_or(0).max(0).unsigned_abs();
                    }
                    "imported_last_played" => {
                        song.last_played = integer(&value).filter(|&t| t > 0);
                    }
                    _ => {}
                }
            }
        }
        {
            let mut stmt = conn
                .prepare(
                    "SELECT track, COUNT(*), MAX(at) FROM plays WHERE user_id = ?1 GROUP BY track",
                )
                .ctx("reading plays")?;
            let mut rows = stmt.query([user.0]).ctx("reading plays")?;
            while let Some(row) = rows.next().ctx("reading plays")? {
                let track: String = row.get(0).ctx("reading plays")?;
                if let Some(&i) = song_ix.get(&track) {
                    let song = &mut songs[i];
                    song.plays += row.get::<_, i64>(1).ctx("reading plays")?.max(0) as u64;
                    song.last_played = song
                        .last_played
                        .max(row.get::<_, Option<i64>>(2).ctx("reading plays")?);
                }
            }
        }
        let mut loves: HashMap<(String, String), Option<i64>> = HashMap::new();
        {
            let mut stmt = conn
                .prepare("SELECT kind, key, loved, hlc FROM loves WHERE user_id = ?1")
                .ctx("reading loves")?;
            let mut rows = stmt.query([user.0]).ctx("reading loves")?;
            while let Some(row) = rows.next().ctx("reading loves")? {
                let loved: bool = row.get(2).ctx("reading loves")?;
                let stamp: String = row.get(3).ctx("reading loves")?;
                loves.insert(
                    (
                        row.get(0).ctx("reading loves")?,
                        row.get(1).ctx("reading loves")?,
                    ),
                    loved.then(|| stamp_wall(&stamp).unwrap_or(0)),
                );
            }
        }
        let loved = |target: &LoveTarget| -> Option<i64> {
            let (kind, key) = love_key(target)?;
            loves.get(&(kind.to_owned(), key)).copied().flatten()
        };

        // Group into album artists and albums by case-folded tags.
        let mut artists: Vec<Artist> = Vec::new();
        let mut artist_by_key: HashMap<String, usize> = HashMap::new();
        let mut albums: Vec<Album> = Vec::new();
        let mut album_by_key: HashMap<(usize, String), usize> = HashMap::new();
        for (i, song) in songs.iter_mut().enumerate() {
            let artist_name = song
                .album_artist
                .clone()
                .or_else(|| song.artist.clone())
                .unwrap_or_default();
            let artist_key = artist_name.to_lowercase();
            let artist = *artist_by_key.entry(artist_key.clone()).or_insert_with(|| {
                let target = LoveTarget::Artist {
                    artist: artist_name.clone(),
                };
                let shown = if artist_name.is_empty() {
                    UNKNOWN_ARTIST.to_owned()
                } else {
                    artist_name.clone()
                };
                artists.push(Artist {
                    id: derived_id("ar-", user, &artist_key),
                    sort: artist_sort(&shown),
                    search: fold(&shown),
                    name: shown,
                    albums: Vec::new(),
                    cover: None,
                    loved_at: loved(&target),
                    target,
                });
                artists.len() - 1
            });
            let album_name = song.album_title.clone().unwrap_or_default();
            let album_key = album_name.to_lowercase();
            let album = *album_by_key
                .entry((artist, album_key.clone()))
                .or_insert_with(|| {
                    let target = LoveTarget::Album {
                        album_artist: artist_name.clone(),
                        album: album_name.clone(),
                    };
                    let shown = if album_name.is_empty() {
                        UNKNOWN_ALBUM.to_owned()
                    } else {
                        album_name.clone()
                    };
                    albums.push(Album {
                        id: derived_id("al-", user, &format!("{artist_key}\u{1f}{album_key}")),
                        sort: fold(&shown),
                        search: fold(&format!("{shown} {}", artists[artist].name)),
                        name: shown,
                        artist,
                        songs: Vec::new(),
                        year: None,
                        genres: Vec::new(),
                        duration_s: 0,
                        created: i64::MAX,
                        plays: 0,
                        last_played: None,
                        cover: None,
                        loved_at: loved(&target),
                        rating: None,
                        target,
                    });
                    albums.len() - 1
                });
            song.album = album;
            song.search = fold(&format!(
                "{} {} {}",
                song.title(),
                song.artist.as_deref().unwrap_or_default(),
                song.album_title.as_deref().unwrap_or_default()
            ));
            albums[album].songs.push(i);
        }
        // Songs in album order, and each album's totals.
        for album in &mut albums {
            album.songs.sort_by(|&a, &b| {
                let (a, b) = (&songs[a], &songs[b]);
                (
                    a.disc_no.unwrap_or(0),
                    a.track_no.unwrap_or(0),
                    fold(a.title()),
                )
                    .cmp(&(
                        b.disc_no.unwrap_or(0),
                        b.track_no.unwrap_or(0),
                        fold(b.title()),
                    ))
            });
            let mut rated = Vec::new();
            for &i in &album.songs {
                let song = &songs[i];
                album.duration_s += song.duration_ms.unwrap_or(0) / 1000;
                album.created = album.created.min(song.added_at);
                album.plays += song.plays;
                album.last_played = album.last_played.max(song.last_played);
                album.year = match (album.year, song.year) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                if album.cover.is_none() {
                    album.cover.clone_from(&song.cover);
                }
                for genre in &song.genres {
                    if !album.genres.contains(genre) {
                        album.genres.push(genre.clone());
                    }
                }
                if song.rating > 0 {
                    rated.push(u32::from(song.rating));
                }
            }
            if !rated.is_empty() {
                album.rating = Some((rated.iter().sum::<u32>() / rated.len() as u32) as u8);
            }
        }
        // Order: artists by sort name; albums by artist, year and title; songs by album.
        let mut artist_order: Vec<usize> = (0..artists.len()).collect();
        artist_order.sort_by(|&a, &b| {
            (&artists[a].sort, &artists[a].name).cmp(&(&artists[b].sort, &artists[b].name))
        });
        let mut artist_rank = vec![0; artists.len()];
        for (rank, &i) in artist_order.iter().enumerate() {
            artist_rank[i] = rank;
        }
        let mut album_order: Vec<usize> = (0..albums.len()).collect();
        album_order.sort_by(|&a, &b| {
            let (a, b) = (&albums[a], &albums[b]);
            (artist_rank[a.artist], a.year.unwrap_or(0), &a.sort).cmp(&(
                artist_rank[b.artist],
                b.year.unwrap_or(0),
                &b.sort,
            ))
        });
        let mut album_rank = vec![0; albums.len()];
        for (rank, &i) in album_order.iter().enumerate() {
            album_rank[i] = rank;
        }
        let song_order: Vec<usize> = album_order
            .iter()
            .flat_map(|&a| albums[a].songs.iter().copied())
            .collect();
        let mut song_rank = vec![0; songs.len()];
        for (rank, &i) in song_order.iter().enumerate() {
            song_rank[i] = rank;
        }
        let mut songs_sorted: Vec<Song> = Vec::with_capacity(songs.len());
        let mut taken: Vec<Option<Song>> = songs.into_iter().map(Some).collect();
        for &i in &song_order {
            if let Some(mut song) = taken[i].take() {
                song.album = album_rank[song.album];
                songs_sorted.push(song);
            }
        }
        let mut albums_sorted: Vec<Album> = Vec::with_capacity(albums.len());
        let mut taken: Vec<Option<Album>> = albums.into_iter().map(Some).collect();
        for &i in &album_order {
            if let Some(mut album) = taken[i].take() {
                album.artist = artist_rank[album.artist];
                for s in &mut album.songs {
                    *s = song_rank[*s];
                }
                albums_sorted.push(album);
            }
        }
        let mut artists_sorted: Vec<Artist> = Vec::with_capacity(artists.len());
        let mut taken: Vec<Option<Artist>> = artists.into_iter().map(Some).collect();
        for &i in &artist_order {
            if let Some(artist) = taken[i].take() {
                artists_sorted.push(artist);
            }
        }
        for (i, album) in albums_sorted.iter().enumerate() {
            let artist = &mut artists_sorted[album.artist];
            artist.albums.push(i);
            if artist.cover.is_none() {
                artist.cover.clone_from(&album.cover);
            }
        }
        let last_modified = conn
            .query_row(
                "SELECT received_at FROM ops WHERE user_id = ?1 ORDER BY seq DESC LIMIT 1",
                [user.0],
                |r| r.get(0),
            )
            .optional()
            .ctx("reading the change feed's position")?
            .unwrap_or(0);
        Ok(Library {
            version,
            last_modified,
            song_ix: songs_sorted
                .iter()
                .enumerate()
                .map(|(i, s)| (s.id.clone(), i))
                .collect(),
            album_ix: albums_sorted
                .iter()
                .enumerate()
                .map(|(i, a)| (a.id.clone(), i))
                .collect(),
            artist_ix: artists_sorted
                .iter()
                .enumerate()
                .map(|(i, a)| (a.id.clone(), i))
                .collect(),
            artist_by_name: artists_sorted
                .iter()
                .enumerate()
                .filter_map(|(i, a)| match &a.target {
                    LoveTarget::Artist { artist } if !artist.is_empty() => {
                        Some((artist.to_lowercase(), i))
                    }
                    _ => None,
                })
                .collect(),
            covers: songs_sorted
                .iter()
                .filter_map(|s| s.cover.clone())
                .collect(),
            songs: songs_sorted,
            albums: albums_sorted,
            artists: artists_sorted,
            numbers: OnceLock::new(),
        })
    }
}

/// The change feed's last sequence number for `user`: what a library is versioned by.
pub fn feed_version(conn: &Connection, user: UserId) -> Result<i64> {
    conn.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM ops WHERE user_id = ?1",
        params![user.0],
        |r| r.get(0),
    )
    .ctx("reading the change feed's position")
}

/// What the ops after a library's version ask of it.
enum CatchUp {
    /// Only these plays (track, time) to count; playlist ops change nothing a library holds.
    Plays(Vec<(String, i64)>),
    /// Anything else: build it again.
    Rebuild,
}

/// Reads the ops of `user` after `since` (at most `limit` of them) to see what they change.
fn catch_up(conn: &Connection, user: UserId, since: i64, limit: usize) -> Result<CatchUp> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT body FROM ops WHERE user_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )
        .ctx("reading the change feed")?;
    let mut rows = stmt
        .query(params![user.0, since, limit as i64 + 1])
        .ctx("reading the change feed")?;
    let mut plays = Vec::new();
    let mut seen = 0;
    while let Some(row) = rows.next().ctx("reading the change feed")? {
        seen += 1;
        if seen > limit {
            return Ok(CatchUp::Rebuild);
        }
        let body: String = row.get(0).ctx("reading the change feed")?;
        match serde_json::from_str::<Op>(&body).map(|op| op.change) {
            Ok(
                Change::PlaylistSet { .. }
                | Change::PlaylistDelete { .. }
                | Change::PlaylistItemSet { .. }
                | Change::PlaylistItemRemove { .. },
            ) => {}
            // Every play op in the feed is one new play: a replayed op id is not recorded again.
            Ok(Change::Play { track, at }) => plays.push((track, at)),
            _ => return Ok(CatchUp::Rebuild),
        }
    }
    Ok(CatchUp::Plays(plays))
}

impl Library {
    /// Counts `plays` (track, time) in the songs and their albums.
    fn add_plays(&mut self, plays: &[(String, i64)]) {
        for (track, at) in plays {
            let Some(&i) = self.song_ix.get(track) else {
                continue;
            };
            let song = &mut self.songs[i];
            song.plays += 1;
            song.last_played = song.last_played.max(Some(*at));
            let album = &mut self.albums[song.album];
            album.plays += 1;
            album.last_played = album.last_played.max(Some(*at));
        }
    }
}

/// The libraries of the accounts used last, each with the change feed position it is good for.
#[derive(Debug, Default)]
pub struct Libraries {
    entries: Mutex<Vec<(UserId, i64, Arc<Library>)>>,
}

impl Libraries {
    /// The library of `user` as of now: the kept one if the change feed has not moved since (or
    /// has moved by playlist edits and plays only, which are counted in), else a new one.
    pub fn get(&self, conn: &Connection, user: UserId) -> Result<Arc<Library>> {
        let version = feed_version(conn, user)?;
        let kept = {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            entries
                .iter()
                .position(|(u, _, _)| *u == user)
                .map(|pos| entries.remove(pos))
        };
        let library = match kept {
            Some((_, at, library)) if at == version => library,
            Some((_, at, library)) => match catch_up(conn, user, at, 1000)? {
                CatchUp::Plays(plays) if plays.is_empty() => library,
                CatchUp::Plays(plays) => {
                    let mut updated = Library::clone(&library);
                    updated.add_plays(&plays);
                    Arc::new(updated)
                }
                CatchUp::Rebuild => Arc::new(Library::build(conn, user, version)?),
            },
            None => Arc::new(Library::build(conn, user, version)?),
        };
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|(u, _, _)| *u != user);
        if entries.len() >= CACHED_ACCOUNTS {
            // Least recently used first.
            entries.remove(0);
        }
        entries.push((user, version, Arc::clone(&library)));
        Ok(library)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_and_sorting() {
        assert_eq!(fold("Björk Guðmundsdóttir"), "bjork guðmundsdottir");
        assert_eq!(fold("SIGUR RÓS"), "sigur ros");
        assert_eq!(artist_sort("The Beatles"), "beatles");
        assert_eq!(artist_sort("The"), "the");
        assert_eq!(artist_sort("Theatre"), "theatre");
        assert_eq!(query_terms("\"sig ró\""), vec!["sig", "ro"]);
        assert!(matches_terms(
            &fold("Sigur Rós Takk..."),
            &query_terms("ros tak")
        ));
        assert!(!matches_terms(&fold("Sigur Rós"), &query_terms("igur")));
        assert_eq!(stamp_wall("00000000000000001234:0000000000:d"), Some(1234));
    }

    fn op(id: &str, change: serde_json::Value) -> Op {
        let mut v =
            serde_json::json!({"id": id, "hlc": {"wall_ms": 1, "counter": 0, "device": "d"}});
        for (k, x) in change.as_object().unwrap() {
            v[k] = x.clone();
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn kept_libraries_count_plays_in_and_rebuild_for_other_edits() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::open_database(dir.path()).unwrap();
        let user = crate::accounts::add_user(&conn, "kim", "a long password", 0, 1).unwrap();
        let blob = "ab".repeat(32);
        conn.execute(
            "INSERT INTO blobs(hash, size, created_at) VALUES (?1, 10, 1)",
            [&blob],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO user_blobs(user_id, hash, added_at) VALUES (?1, ?2, 5)",
            params![user.0, blob],
        )
        .unwrap();
        let apply = |ops: &[Op]| crate::catalog::apply(&conn, user, ops, 10).unwrap();
        apply(&[op(
            "a",
            serde_json::json!({"type": "track_set", "track": "t1", "blob": blob,
                "fields": {"title": "One", "album": "A", "artist": "X"}}),
        )]);
        let libraries = Libraries::default();
        let first = libraries.get(&conn, user).unwrap();
        assert_eq!(first.song("t1").unwrap().title(), "One");
        assert!(Arc::ptr_eq(&first, &libraries.get(&conn, user).unwrap()));
        // A playlist edit changes nothing here: the same library.
        apply(&[op(
            "b",
            serde_json::json!({"type": "playlist_set", "playlist": "p", "name": "P"}),
        )]);
        assert!(Arc::ptr_eq(&first, &libraries.get(&conn, user).unwrap()));
        // Plays are counted into a copy.
        apply(&[
            op(
                "c",
                serde_json::json!({"type": "play", "track": "t1", "at": 100}),
            ),
            op(
                "d",
                serde_json::json!({"type": "play", "track": "t1", "at": 50}),
            ),
        ]);
        let played = libraries.get(&conn, user).unwrap();
        assert!(!Arc::ptr_eq(&first, &played));
        let song = played.song("t1").unwrap();
        assert_eq!((song.plays, song.last_played), (2, Some(100)));
        assert_eq!(played.albums[song.album].plays, 2);
        assert_eq!(
            first.song("t1").unwrap().plays,
            0,
            "the old copy is untouched"
        );
        // The same counts as a library built from scratch.
        let fresh = Library::build(&conn, user, 0).unwrap();
        assert_eq!(fresh.song("t1").unwrap().plays, 2);
        // A tag edit rebuilds.
        apply(&[op(
            "e",
            serde_json::json!({"type": "track_set", "track": "t1", "fields": {"title": "Uno"},
                "hlc": {"wall_ms": 2, "counter": 0, "device": "d"}}),
        )]);
        let edited = libraries.get(&conn, user).unwrap();
        assert_eq!(edited.song("t1").unwrap().title(), "Uno");
        assert_eq!(edited.song("t1").unwrap().plays, 2);
        // History imported on a device counts with the plays made since.
        apply(&[op(
            "f",
            serde_json::json!({"type": "track_set", "track": "t1",
                "fields": {"imported_play_count": 40, "imported_last_played": 70},
                "hlc": {"wall_ms": 3, "counter": 0, "device": "d"}}),
        )]);
        let imported = libraries.get(&conn, user).unwrap();
        let song = imported.song("t1").unwrap();
        assert_eq!((song.plays, song.last_played), (42, Some(100)));
    }

    #[test]
    fn ids_are_stable_and_per_account() {
        let a = derived_id("al-", UserId(1), "x");
        assert_eq!(a, derived_id("al-", UserId(1), "x"));
        assert_ne!(a, derived_id("al-", UserId(2), "x"));
        assert_ne!(a, derived_id("ar-", UserId(1), "x"));
        assert!(a.starts_with("al-") && a.len() == 27);
    }
}

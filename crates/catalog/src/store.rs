//! Writing tracks, files, artists, albums and genres, and keeping the search index in step.
//!
//! **Architecture Invariant:** every function here runs inside a transaction the caller owns, and
//! touches the full-text tables in the same transaction as the rows they index.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::SystemTime;

use std::sync::LazyLock;

use rusqlite::{Connection, OptionalExtension, Statement, ToSql, params};
use skylark_tags::FileInfo;

use crate::covers::CoverInfo;
use crate::error::{DbContext, Result};
use crate::model::{AlbumId, ArtistId, GenreId, RootId, TrackId, new_uid, to_millis};
use crate::names::{
    self, UNKNOWN_ALBUM, UNKNOWN_ARTIST, VARIOUS_ARTISTS, match_key, search_fold, sort_key,
};
use crate::paths;

/// A track's catalog fields, derived from a file's tags with the fallbacks applied.
#[derive(Debug, Clone)]
pub(crate) struct TrackRecord {
    pub title: String,
    pub artists: Vec<String>,
    pub album: String,
    pub album_artist: String,
    /// The file names no album artist and no compilation flag: `album_artist` is its first
    /// artist, which the folder's other tracks may overrule (see `compilations.rs`).
    pub album_artist_guessed: bool,
    pub compilation: bool,
    pub track_no: u32,
    pub track_total: u32,
    pub disc_no: u32,
    pub disc_total: u32,
    pub date: Option<String>,
    pub year: i32,
    pub genres: Vec<String>,
    pub composer: Option<String>,
    pub duration_ms: i64,
    pub info: FileInfo,
    pub cover: Option<CoverInfo>,
    /// Display strings, sort keys, match keys and search text, computed on the reading threads so
    /// the single writing thread only writes.
    pub derived: Derived,
}

/// What the catalog derives from a record's names.
#[derive(Debug, Clone)]
pub(crate) struct Derived {
    pub artist: String,
    pub genre: String,
    pub sort_title: String,
    pub sort_artist: String,
    pub sort_album: String,
    pub sort_album_artist: String,
    pub sort_genre: String,
    /// Folded title, artist, album, album artist and genre for the full-text index.
    pub search: [String; 5],
    pub album_key: String,
    pub album_artist_key: String,
    pub artist_keys: Vec<String>,
    pub genre_keys: Vec<String>,
}

/// The separator between names shown together ("A, B").
const DISPLAY_SEPARATOR: &str = ", ";

impl TrackRecord {
    /// Builds the record for the file at `path` from what was read, falling back on the file and
    /// folder names where tags are missing.
    pub fn new(path: &Path, mut info: FileInfo, cover: Option<CoverInfo>) -> Self {
        // The picture bytes are in the cover cache by now; do not keep them in memory.
        info.cover = None;
        let tags = &info.tags;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (file_track, file_title) = names::from_file_stem(&stem);
        let folder = path
            .parent()
            .and_then(Path::file_name)
            .map(|s| s.to_string_lossy().into_owned());
        let artists = if tags.artists.is_empty() {
            vec![
                tags.album_artist
                    .clone()
                    .unwrap_or_else(|| UNKNOWN_ARTIST.to_owned()),
            ]
        } else {
            tags.artists.clone()
        };
        let album_artist = match (&tags.album_artist, tags.compilation) {
            (Some(a), _) if !names::is_various_artists(a) => a.clone(),
            (Some(_), _) | (None, true) => VARIOUS_ARTISTS.to_owned(),
            (None, false) => artists[0].clone(),
        };
        let title = tags.title.clone().unwrap_or_else(|| {
            if file_title.is_empty() {
                stem.clone()
            } else {
                file_title
            }
        });
        let album = tags
            .album
            .clone()
            .or(folder)
            .unwrap_or_else(|| UNKNOWN_ALBUM.to_owned());
        let artist = tags
            .artist_credit
            .clone()
            .unwrap_or_else(|| artists.join(DISPLAY_SEPARATOR));
        let genre = tags.genres.join(DISPLAY_SEPARATOR);
        let sort = |explicit: &Option<String>, shown: &str| {
            explicit
                .as_deref()
                .map_or_else(|| sort_key(shown), sort_key)
        };
        let derived = Derived {
            sort_title: sort(&tags.sort.title, &title),
            sort_artist: sort(&tags.sort.artist, &artist),
            sort_album: sort(&tags.sort.album, &album),
            sort_album_artist: sort(&tags.sort.album_artist, &album_artist),
            sort_genre: sort_key(&genre),
            search: [
                search_fold(&title),
                search_fold(&artist),
                search_fold(&album),
                search_fold(&album_artist),
                search_fold(&genre),
            ],
            album_key: album_key(&album_artist, &album),
            album_artist_key: match_key(&album_artist),
            artist_keys: artists.iter().map(|a| match_key(a)).collect(),
            genre_keys: tags.genres.iter().map(|g| match_key(g)).collect(),
            artist,
            genre,
        };
        Self {
            title,
            album,
            album_artist,
            album_artist_guessed: tags.album_artist.is_none() && !tags.compilation,
            compilation: tags.compilation,
            track_no: tags.track_no.or(file_track).unwrap_or(0),
            track_total: tags.track_total.unwrap_or(0),
            disc_no: tags.disc_no.unwrap_or(0),
            disc_total: tags.disc_total.unwrap_or(0),
            date: tags.date.clone(),
            year: tags.year.unwrap_or(0),
            genres: tags.genres.clone(),
            composer: (!tags.composers.is_empty()).then(|| tags.composers.join(DISPLAY_SEPARATOR)),
            duration_ms: i64::try_from(info.properties.duration.as_millis()).unwrap_or(i64::MAX),
            artists,
            cover,
            info,
            derived,
        }
    }

    /// Files the track under `album_artist` instead of the one its tags gave (see
    /// `compilations.rs`).
    pub fn file_under(&mut self, album_artist: &str) {
        let d = &mut self.derived;
        d.sort_album_artist = sort_key(album_artist);
        d.search[3] = search_fold(album_artist);
        d.album_key = album_key(album_artist, &self.album);
        d.album_artist_key = match_key(album_artist);
        album_artist.clone_into(&mut self.album_artist);
    }

    /// The key a moved file is recognised by when its modification time changed too.
    pub fn identity(&self) -> (String, String, String, i64) {
        (
            self.title.clone(),
            self.derived.artist.clone(),
            self.album.clone(),
            self.duration_ms,
        )
    }
}

/// The match key of the album `album` by `album_artist`.
pub(crate) fn album_key(album_artist: &str, album: &str) -> String {
    format!("{}\u{1f}{}", match_key(album_artist), match_key(album))
}

/// The tag-derived columns of `tracks`, in the order [`bind_track_fields`] binds them.
const TRACK_FIELDS: [&str; 35] = [
    "title",
    "sort_title",
    "sort_artist",
    "artist",
    "album_id",
    "sort_album",
    "sort_album_artist",
    "track_no",
    "track_total",
    "disc_no",
    "disc_total",
    "date",
    "year",
    "sort_genre",
    "genre",
    "composer",
    "duration_ms",
    "sample_rate",
    "channels",
    "bit_depth",
    "bitrate_kbps",
    "codec",
    "rg_track_gain",
    "rg_track_peak",
    "rg_album_gain",
    "rg_album_peak",
    "mb_recording_id",
    "mb_track_id",
    "mb_release_id",
    "mb_release_group_id",
    "mb_artist_id",
    "mb_release_artist_id",
    "cover_hash",
    "updated_at",
    "album_artist_guessed",
];

/// `INSERT` of a new track: uid, added_at, then [`TRACK_FIELDS`].
static INSERT_TRACK: LazyLock<String> = LazyLock::new(|| {
    let placeholders: Vec<String> = (1..=TRACK_FIELDS.len() + 2)
        .map(|i| format!("?{i}"))
        .collect();
    format!(
        "INSERT INTO tracks(uid, added_at, {}) VALUES ({})",
        TRACK_FIELDS.join(", "),
        placeholders.join(", ")
    )
});

/// `UPDATE` of a track's [`TRACK_FIELDS`] by id (?1).
static UPDATE_TRACK: LazyLock<String> = LazyLock::new(|| {
    let sets: Vec<String> = TRACK_FIELDS
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{f} = ?{}", i + 2))
        .collect();
    format!("UPDATE tracks SET {} WHERE id = ?1", sets.join(", "))
});

/// Binds the values of [`TRACK_FIELDS`] for `rec` to `stmt`, the first at parameter `first`. The
/// values are borrowed from the record: nothing is copied but by SQLite itself.
fn bind_track_fields(
    stmt: &mut Statement<'_>,
    first: usize,
    rec: &TrackRecord,
    album_id: AlbumId,
    now: SystemTime,
) -> rusqlite::Result<()> {
    let props = &rec.info.properties;
    let rg = rec.info.tags.replay_gain;
    let mb = &rec.info.tags.musicbrainz;
    let d = &rec.derived;
    let codec = props.codec.as_str();
    let cover_hash = rec.cover.as_ref().map(|c| c.hash.as_str());
    let updated_at = to_millis(now);
    let values: [&dyn ToSql; TRACK_FIELDS.len()] = [
        &rec.title,
        &d.sort_title,
        &d.sort_artist,
        &d.artist,
        &album_id,
        &d.sort_album,
        &d.sort_album_artist,
        &rec.track_no,
        &rec.track_total,
        &rec.disc_no,
        &rec.disc_total,
        &rec.date,
        &rec.year,
        &d.sort_genre,
        &d.genre,
        &rec.composer,
        &rec.duration_ms,
        &props.sample_rate,
        &props.channels,
        &props.bit_depth,
        &props.bitrate_kbps,
        &codec,
        &rg.track_gain_db,
        &rg.track_peak,
        &rg.album_gain_db,
        &rg.album_peak,
        &mb.recording_id,
        &mb.track_id,
        &mb.release_id,
        &mb.release_group_id,
        &mb.artist_id,
        &mb.release_artist_id,
        &cover_hash,
        &updated_at,
        &rec.album_artist_guessed,
    ];
    for (i, value) in values.into_iter().enumerate() {
        stmt.raw_bind_parameter(first + i, value)?;
    }
    Ok(())
}

/// Adds track `id`'s row to the full-text index: folded title, artist, album, album artist and
/// genre.
fn index_track(conn: &Connection, id: TrackId, search: &[String; 5]) -> Result<()> {
    let [title, artist, album, album_artist, genre] = search;
    conn.prepare_cached(
        "INSERT INTO tracks_fts(rowid, title, artist, album, album_artist, genre)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| s.execute(params![id, title, artist, album, album_artist, genre]))
    .ctx("indexing a track")?;
    Ok(())
}

/// An album row to find or make: its names, keys and folded search text.
struct AlbumRow<'a> {
    title: &'a str,
    sort_title: &'a str,
    key: &'a str,
    artist: &'a str,
    artist_key: &'a str,
    /// Folded title and artist for the full-text index.
    search: [&'a str; 2],
    /// Whether the files say it is a compilation (an album by Various Artists is one anyway).
    compilation: bool,
}

/// Writes rows, remembering the ids of artists, albums and genres it has seen (by match key),
/// and the covers it has recorded.
#[derive(Default)]
pub(crate) struct Store {
    artists: HashMap<String, i64>,
    albums: HashMap<String, i64>,
    genres: HashMap<String, i64>,
    covers: HashSet<String>,
}

/// The id of the row of `table` whose match key is `key`: remembered in `cache`, found in the
/// table, or made by `insert`.
fn id_by_key(
    cache: &mut HashMap<String, i64>,
    conn: &Connection,
    table: &str,
    key: &str,
    insert: impl FnOnce() -> Result<i64>,
) -> Result<i64> {
    if let Some(id) = cache.get(key) {
        return Ok(*id);
    }
    let existing: Option<i64> = conn
        .prepare_cached(&format!("SELECT id FROM {table} WHERE match_key = ?1"))
        .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
        .ctx("looking up a name")?;
    let id = match existing {
        Some(id) => id,
        None => insert()?,
    };
    cache.insert(key.to_owned(), id);
    Ok(id)
}

impl Store {
    fn artist(&mut self, conn: &Connection, name: &str, key: &str) -> Result<ArtistId> {
        id_by_key(&mut self.artists, conn, "artists", key, || {
            conn.prepare_cached(
                "INSERT INTO artists(name, sort_name, match_key) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| s.execute(params![name, sort_key(name), key]))
            .ctx("adding an artist")?;
            let id = conn.last_insert_rowid();
            conn.prepare_cached("INSERT INTO artists_fts(rowid, name) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute(params![id, search_fold(name)]))
                .ctx("indexing an artist")?;
            Ok(id)
        })
        .map(ArtistId)
    }

    fn album(&mut self, conn: &Connection, rec: &TrackRecord) -> Result<AlbumId> {
        let d = &rec.derived;
        self.album_row(
            conn,
            &AlbumRow {
                title: &rec.album,
                sort_title: &d.sort_album,
                key: &d.album_key,
                artist: &rec.album_artist,
                artist_key: &d.album_artist_key,
                search: [&d.search[2], &d.search[3]],
                compilation: rec.compilation,
            },
        )
    }

    /// The album `title` by `album_artist` (made if new), for tracks already written.
    pub fn album_named(
        &mut self,
        conn: &Connection,
        title: &str,
        album_artist: &str,
    ) -> Result<AlbumId> {
        self.album_row(
            conn,
            &AlbumRow {
                title,
                sort_title: &sort_key(title),
                key: &album_key(album_artist, title),
                artist: album_artist,
                artist_key: &match_key(album_artist),
                search: [&search_fold(title), &search_fold(album_artist)],
                compilation: false,
            },
        )
    }

    fn album_row(&mut self, conn: &Connection, album: &AlbumRow<'_>) -> Result<AlbumId> {
        let artist_id = self.artist(conn, album.artist, album.artist_key)?;
        id_by_key(&mut self.albums, conn, "albums", album.key, || {
            conn.prepare_cached(
                "INSERT INTO albums(title, sort_title, artist_id, match_key, compilation)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    album.title,
                    album.sort_title,
                    artist_id,
                    album.key,
                    album.compilation || album.artist == VARIOUS_ARTISTS
                ])
            })
            .ctx("adding an album")?;
            let id = conn.last_insert_rowid();
            conn.prepare_cached("INSERT INTO albums_fts(rowid, title, artist) VALUES (?1, ?2, ?3)")
                .and_then(|mut s| s.execute(params![id, album.search[0], album.search[1]]))
                .ctx("indexing an album")?;
            Ok(id)
        })
        .map(AlbumId)
    }

    fn genre(&mut self, conn: &Connection, name: &str, key: &str) -> Result<GenreId> {
        id_by_key(&mut self.genres, conn, "genres", key, || {
            conn.prepare_cached("INSERT INTO genres(name, match_key) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute(params![name, key]))
                .ctx("adding a genre")?;
            Ok(conn.last_insert_rowid())
        })
        .map(GenreId)
    }

    /// Inserts a new track for `rec` and returns its id.
    pub fn insert_track(
        &mut self,
        conn: &Connection,
        rec: &TrackRecord,
        now: SystemTime,
    ) -> Result<TrackId> {
        let album_id = self.referenced_rows(conn, rec)?;
        {
            let mut stmt = conn.prepare_cached(&INSERT_TRACK).ctx("adding a track")?;
            stmt.raw_bind_parameter(1, new_uid())
                .and_then(|()| stmt.raw_bind_parameter(2, to_millis(now)))
                .and_then(|()| bind_track_fields(&mut stmt, 3, rec, album_id, now))
                .and_then(|()| stmt.raw_execute())
                .ctx("adding a track")?;
        }
        let id = TrackId(conn.last_insert_rowid());
        self.write_links(conn, id, rec, false)?;
        Ok(id)
    }

    /// Rewrites the tag-derived fields of track `id` from `rec`, keeping its identity, play
    /// stats, rating and playlist entries.
    pub fn update_track(
        &mut self,
        conn: &Connection,
        id: TrackId,
        rec: &TrackRecord,
        now: SystemTime,
    ) -> Result<()> {
        let album_id = self.referenced_rows(conn, rec)?;
        {
            let mut stmt = conn.prepare_cached(&UPDATE_TRACK).ctx("writing a track")?;
            stmt.raw_bind_parameter(1, id)
                .and_then(|()| bind_track_fields(&mut stmt, 2, rec, album_id, now))
                .and_then(|()| stmt.raw_execute())
                .ctx("writing a track")?;
        }
        self.write_links(conn, id, rec, true)
    }

    /// Makes sure the rows a track of `rec` refers to exist (its album, album artist and
    /// cover), and returns the album's id.
    fn referenced_rows(&mut self, conn: &Connection, rec: &TrackRecord) -> Result<AlbumId> {
        let album_id = self.album(conn, rec)?;
        // Covers are never deleted, so one this store has written stays written: a library's
        // tracks share few covers, and each is recorded once per scan rather than once per track.
        if let Some(cover) = &rec.cover
            && !self.covers.contains(&cover.hash)
        {
            Self::record_cover(conn, cover)?;
            self.covers.insert(cover.hash.clone());
        }
        Ok(album_id)
    }

    /// Records `cover` in the catalog (once: a known hash is left as it is).
    pub fn record_cover(conn: &Connection, cover: &CoverInfo) -> Result<()> {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO covers(hash, mime, width, height, bytes) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut s| s.execute(params![cover.hash, cover.mime, cover.width, cover.height, cover.bytes]))
        .ctx("recording a cover")?;
        Ok(())
    }

    /// Writes a track's artist and genre links and its search entry.
    fn write_links(
        &mut self,
        conn: &Connection,
        id: TrackId,
        rec: &TrackRecord,
        replacing: bool,
    ) -> Result<()> {
        let d = &rec.derived;
        if replacing {
            conn.prepare_cached("DELETE FROM track_artists WHERE track_id = ?1")
                .and_then(|mut s| s.execute([id]))
                .ctx("replacing track artists")?;
            conn.prepare_cached("DELETE FROM track_genres WHERE track_id = ?1")
                .and_then(|mut s| s.execute([id]))
                .ctx("replacing track genres")?;
            conn.prepare_cached("DELETE FROM tracks_fts WHERE rowid = ?1")
                .and_then(|mut s| s.execute([id]))
                .ctx("replacing a track's search entry")?;
        }
        for (position, (name, key)) in rec.artists.iter().zip(&d.artist_keys).enumerate() {
            let artist_id = self.artist(conn, name, key)?;
            conn.prepare_cached(
                "INSERT OR IGNORE INTO track_artists(track_id, position, artist_id) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| s.execute(params![id, position, artist_id]))
            .ctx("linking a track artist")?;
        }
        for (position, (name, key)) in rec.genres.iter().zip(&d.genre_keys).enumerate() {
            let genre_id = self.genre(conn, name, key)?;
            conn.prepare_cached(
                "INSERT OR IGNORE INTO track_genres(track_id, position, genre_id) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| s.execute(params![id, position, genre_id]))
            .ctx("linking a track genre")?;
        }
        index_track(conn, id, &d.search)
    }

    /// Files the written track `id` under `album` by `album_artist` (see `compilations.rs`).
    pub fn move_to_album(
        &mut self,
        conn: &Connection,
        id: TrackId,
        album_title: &str,
        album_artist: &str,
        now: SystemTime,
    ) -> Result<()> {
        let album = self.album_named(conn, album_title, album_artist)?;
        conn.prepare_cached(
            "UPDATE tracks SET album_id = ?2, sort_album_artist = ?3, updated_at = ?4 WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![id, album, sort_key(album_artist), to_millis(now)]))
        .ctx("filing a track under its album")?;
        let (title, artist, genre): (String, String, String) = conn
            .prepare_cached("SELECT title, artist, genre FROM tracks WHERE id = ?1")
            .and_then(|mut s| s.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))))
            .ctx("filing a track under its album")?;
        conn.prepare_cached("DELETE FROM tracks_fts WHERE rowid = ?1")
            .and_then(|mut s| s.execute([id]))
            .ctx("filing a track under its album")?;
        let search = [&title, &artist, album_title, album_artist, &genre].map(search_fold);
        index_track(conn, id, &search)
    }

    /// Deletes the track `id` (its files, playlist entries and search entry go with it).
    pub fn delete_track(conn: &Connection, id: TrackId) -> Result<()> {
        conn.prepare_cached("DELETE FROM tracks_fts WHERE rowid = ?1")
            .and_then(|mut s| s.execute([id]))
            .ctx("removing a track's search entry")?;
        conn.prepare_cached("DELETE FROM tracks WHERE id = ?1")
            .and_then(|mut s| s.execute([id]))
            .ctx("removing a track")?;
        Ok(())
    }

    /// Deletes track `id`, whose last local file is gone, unless the locker has a copy of it:
    /// then it stays, as a track in the locker, with its statistics and playlist entries.
    pub fn drop_local_track(conn: &Connection, id: TrackId) -> Result<()> {
        let in_locker: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM locker_tracks WHERE track_id = ?1)")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)))
            .ctx("looking for a track's locker copy")?;
        if in_locker {
            return Ok(());
        }
        Self::delete_track(conn, id)
    }

    /// Records a local file of track `track`.
    pub fn insert_file(
        conn: &Connection,
        track: TrackId,
        root: RootId,
        path: &Path,
        size: u64,
        mtime_ns: i64,
    ) -> Result<()> {
        conn.prepare_cached(
            "INSERT INTO files(track_id, root_id, path, size, mtime_ns) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut s| s.execute(params![track, root, paths::to_bytes(path), size, mtime_ns]))
        .ctx("recording a file")?;
        Ok(())
    }

    /// Moves the file row `file_id` to a new path, size and time.
    pub fn update_file(
        conn: &Connection,
        file_id: i64,
        root: RootId,
        path: &Path,
        size: u64,
        mtime_ns: i64,
    ) -> Result<()> {
        conn.prepare_cached(
            "UPDATE files SET root_id = ?2, path = ?3, size = ?4, mtime_ns = ?5, file_hash = NULL WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![file_id, root, paths::to_bytes(path), size, mtime_ns]))
        .ctx("updating a file")?;
        Ok(())
    }

    /// Removes albums, artists and genres that no track refers to any more.
    pub fn collect_orphans(conn: &Connection) -> Result<()> {
        conn.execute_batch(
            "DELETE FROM albums_fts WHERE rowid IN
                 (SELECT id FROM albums WHERE id NOT IN (SELECT album_id FROM tracks));
             DELETE FROM albums WHERE id NOT IN (SELECT album_id FROM tracks);
             DELETE FROM artists_fts WHERE rowid IN
                 (SELECT id FROM artists WHERE id NOT IN (SELECT artist_id FROM albums)
                                          AND id NOT IN (SELECT artist_id FROM track_artists));
             DELETE FROM artists WHERE id NOT IN (SELECT artist_id FROM albums)
                                   AND id NOT IN (SELECT artist_id FROM track_artists);
             DELETE FROM genres WHERE id NOT IN (SELECT genre_id FROM track_genres);",
        )
        .ctx("removing empty albums, artists and genres")
    }
}

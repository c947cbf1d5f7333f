//! Browsing the library: tracks sorted by any column with keyset paging, albums, artists, genres.
//!
//! Keyset paging ("the 100 rows after this one") keeps every page as fast as the first at any
//! library size, where `OFFSET` would read and discard everything before the page. Every order ends
//! in the row id so it is total. The common sorts (title, artist, album, album artist, date added)
//! have an index whose columns are exactly their order; the rest use a top-N pass over the table.

use std::path::PathBuf;
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::{Row, params_from_iter};
use serde::{Deserialize, Serialize};

use crate::error::{DbContext, Error, Result};
use crate::model::{
    Album, AlbumId, Artist, ArtistId, Availability, Genre, GenreId, Rating, Track, TrackId,
    from_millis,
};
use crate::{Catalog, paths};

/// What the track list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackSort {
    /// Title.
    Title,
    /// Artist, then album and track order.
    Artist,
    /// Album, then disc and track.
    Album,
    /// Album artist, then album and track order.
    AlbumArtist,
    /// Year, then album and track order.
    Year,
    /// Genre.
    Genre,
    /// Duration.
    Duration,
    /// When the track was added.
    DateAdded,
    /// Play count.
    PlayCount,
    /// When it was last played.
    LastPlayed,
    /// Rating.
    Rating,
}

impl TrackSort {
    /// Every sort, for tests and UI menus.
    pub const ALL: [TrackSort; 11] = [
        TrackSort::Title,
        TrackSort::Artist,
        TrackSort::Album,
        TrackSort::AlbumArtist,
        TrackSort::Year,
        TrackSort::Genre,
        TrackSort::Duration,
        TrackSort::DateAdded,
        TrackSort::PlayCount,
        TrackSort::LastPlayed,
        TrackSort::Rating,
    ];

    /// The columns of `tracks` this sort orders by (the row id follows).
    fn columns(self) -> &'static [&'static str] {
        const ALBUM_ORDER: [&str; 4] = ["sort_album", "album_id", "disc_no", "track_no"];
        match self {
            TrackSort::Title => &["sort_title"],
            TrackSort::Artist => &[
                "sort_artist",
                ALBUM_ORDER[0],
                ALBUM_ORDER[1],
                ALBUM_ORDER[2],
                ALBUM_ORDER[3],
            ],
            TrackSort::Album => &ALBUM_ORDER,
            TrackSort::AlbumArtist => &[
                "sort_album_artist",
                ALBUM_ORDER[0],
                ALBUM_ORDER[1],
                ALBUM_ORDER[2],
                ALBUM_ORDER[3],
            ],
            TrackSort::Year => &[
                "year",
                ALBUM_ORDER[0],
                ALBUM_ORDER[1],
                ALBUM_ORDER[2],
                ALBUM_ORDER[3],
            ],
            TrackSort::Genre => &["sort_genre"],
            TrackSort::Duration => &["duration_ms"],
            TrackSort::DateAdded => &["added_at"],
            TrackSort::PlayCount => &["play_count"],
            TrackSort::LastPlayed => &["last_played_at"],
            TrackSort::Rating => &["rating"],
        }
    }
}

/// Where a page of tracks ends: the sort values of its last row. Pass it back to get the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor(Vec<CursorValue>);

/// One value of a [`Cursor`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CursorValue {
    /// An integer column.
    Int(i64),
    /// A text column.
    Text(String),
}

/// A request for one page of tracks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackQuery {
    /// The order.
    pub sort: TrackSort,
    /// Reverse the order.
    pub descending: bool,
    /// Start after this row; `None` for the first page.
    pub after: Option<Cursor>,
    /// Rows per page (at most 10,000).
    pub limit: u32,
    /// Only tracks that play with no network: a file here, or an offline copy.
    #[serde(default)]
    pub playable_offline: bool,
}

/// SQL true when track `t` plays with no network: a file in a reachable root, or an offline
/// copy.
pub(crate) const PLAYABLE_OFFLINE: &str =
    "(EXISTS (SELECT 1 FROM files f JOIN roots r ON r.id = f.root_id
              WHERE f.track_id = t.id AND r.reachable = 1)
      OR EXISTS (SELECT 1 FROM offline o WHERE o.track_id = t.id))";

impl Default for TrackQuery {
    fn default() -> Self {
        Self {
            sort: TrackSort::Artist,
            descending: false,
            after: None,
            limit: 500,
            playable_offline: false,
        }
    }
}

/// A page of tracks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackPage {
    /// The rows.
    pub tracks: Vec<Track>,
    /// The cursor for the next page, or `None` at the end.
    pub next: Option<Cursor>,
}

/// The columns [`track_from_row`] reads, in order, for a `tracks t` joined to `albums al` and
/// `artists aa` (the album artist).
pub(crate) const TRACK_COLUMNS: &str =
    "t.id, t.uid, t.title, t.artist, al.title, t.album_id, aa.name,
    t.track_no, t.track_total, t.disc_no, t.disc_total, t.year, t.date, t.genre, t.composer,
    t.duration_ms, t.sample_rate, t.channels, t.bit_depth, t.bitrate_kbps, t.codec, t.cover_hash,
    t.rg_track_gain, t.rg_track_peak, t.rg_album_gain, t.rg_album_peak, t.mb_recording_id,
    t.mb_release_id, t.play_count, t.last_played_at, t.rating, t.added_at,
    (SELECT f.path FROM files f JOIN roots r ON r.id = f.root_id WHERE f.track_id = t.id
        ORDER BY r.reachable DESC, f.id LIMIT 1),
    CASE WHEN EXISTS (SELECT 1 FROM files f JOIN roots r ON r.id = f.root_id
                      WHERE f.track_id = t.id AND r.reachable = 1)
         THEN 1 + 2 * EXISTS (SELECT 1 FROM locker_tracks lt WHERE lt.track_id = t.id)
         WHEN EXISTS (SELECT 1 FROM offline o WHERE o.track_id = t.id) THEN 4
         WHEN EXISTS (SELECT 1 FROM locker_tracks lt WHERE lt.track_id = t.id) THEN 2
         ELSE 0 END,
    (SELECT group_concat(ar.name, char(31)) FROM
        (SELECT a.name AS name FROM track_artists ta JOIN artists a ON a.id = ta.artist_id
         WHERE ta.track_id = t.id ORDER BY ta.position) ar),
    t.loved";

/// How many columns [`TRACK_COLUMNS`] selects: columns selected after them start here.
const TRACK_COLUMN_COUNT: usize = 36;

/// The joins [`TRACK_COLUMNS`] needs.
pub(crate) const TRACK_JOINS: &str =
    "tracks t JOIN albums al ON al.id = t.album_id JOIN artists aa ON aa.id = al.artist_id";

/// A row read from column `at` on.
struct ColumnsFrom<'a, 'b> {
    row: &'a Row<'b>,
    at: usize,
}

impl ColumnsFrom<'_, '_> {
    fn get<T: rusqlite::types::FromSql>(&self, i: usize) -> rusqlite::Result<T> {
        self.row.get(self.at + i)
    }
}

fn nonzero<T: PartialEq + Default>(v: T) -> Option<T> {
    (v != T::default()).then_some(v)
}

/// Reads a [`Track`] from a row selected with [`TRACK_COLUMNS`].
pub(crate) fn track_from_row(r: &Row<'_>) -> rusqlite::Result<Track> {
    track_from_row_at(r, 0)
}

/// Reads a [`Track`] from a row whose [`TRACK_COLUMNS`] start at column `at`.
pub(crate) fn track_from_row_at(r: &Row<'_>, at: usize) -> rusqlite::Result<Track> {
    let r = &ColumnsFrom { row: r, at };
    let cover_hash: Option<String> = r.get(21)?;
    let last_played: i64 = r.get(29)?;
    let rating: u8 = r.get(30)?;
    let artists: Option<String> = r.get(34)?;
    Ok(Track {
        id: TrackId(r.get(0)?),
        uid: r.get(1)?,
        title: r.get(2)?,
        artist: r.get(3)?,
        album: r.get(4)?,
        album_id: AlbumId(r.get(5)?),
        album_artist: r.get(6)?,
        track_no: nonzero(r.get(7)?),
        track_total: nonzero(r.get(8)?),
        disc_no: nonzero(r.get(9)?),
        disc_total: nonzero(r.get(10)?),
        year: nonzero(r.get(11)?),
        date: r.get(12)?,
        genre: r.get(13)?,
        composer: r.get(14)?,
        duration: Duration::from_millis(r.get(15)?),
        sample_rate: r.get(16)?,
        channels: r.get(17)?,
        bit_depth: r.get(18)?,
        bitrate_kbps: r.get(19)?,
        codec: r.get(20)?,
        has_cover: cover_hash.is_some(),
        cover_hash,
        rg_track_gain: r.get(22)?,
        rg_track_peak: r.get(23)?,
        rg_album_gain: r.get(24)?,
        rg_album_peak: r.get(25)?,
        mb_recording_id: r.get(26)?,
        mb_release_id: r.get(27)?,
        play_count: r.get(28)?,
        last_played: nonzero(last_played).map(from_millis),
        rating: nonzero(rating).and_then(|v| Rating::try_new(v).ok()),
        loved: r.get(35)?,
        added: from_millis(r.get(31)?),
        path: r.get::<Option<Vec<u8>>>(32)?.map(|p| paths::from_bytes(&p)),
        availability: match r.get::<u8>(33)? {
            1 => Availability::Local,
            2 => Availability::Locker,
            3 => Availability::Both,
            4 => Availability::Downloaded,
            _ => Availability::Missing,
        },
        artists: artists
            .map(|a| a.split('\u{1f}').map(str::to_owned).collect())
            .unwrap_or_default(),
    })
}

impl Catalog {
    /// One track.
    pub fn track(&self, id: TrackId) -> Result<Track> {
        let sql = format!("SELECT {TRACK_COLUMNS} FROM {TRACK_JOINS} WHERE t.id = ?1");
        self.conn()
            .query_row(&sql, [id], track_from_row)
            .map_err(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Error::NotFound {
                    kind: "track",
                    id: id.to_string(),
                },
                source => Error::Db {
                    context: "loading a track",
                    source,
                },
            })
    }

    /// The file to read `track` from on this computer: its own file, else its offline copy;
    /// `None` when it has neither here (a song only in the locker, a drive unplugged). Reading
    /// it (its lyrics, say: [`crate::read_lyrics`]) is left to the caller, outside any lock on
    /// the catalog.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown track.
    pub fn file_here(&self, track: TrackId) -> Result<Option<PathBuf>> {
        if let Some(path) = self.track(track)?.path.filter(|p| p.is_file()) {
            return Ok(Some(path));
        }
        self.offline_file(track)
    }

    /// The tracks with `ids`, in that order; ids that do not exist are left out.
    pub fn tracks_by_id(&self, ids: &[TrackId]) -> Result<Vec<Track>> {
        let mut found = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let placeholders = vec!["?"; chunk.len()].join(", ");
            let sql =
                format!("SELECT {TRACK_COLUMNS} FROM {TRACK_JOINS} WHERE t.id IN ({placeholders})");
            let mut stmt = self.conn().prepare_cached(&sql).ctx("loading tracks")?;
            let rows = stmt
                .query_map(
                    params_from_iter(chunk.iter().map(|id| id.0)),
                    track_from_row,
                )
                .ctx("loading tracks")?;
            for track in rows {
                let track = track.ctx("loading tracks")?;
                found.insert(track.id, track);
            }
        }
        Ok(ids.iter().filter_map(|id| found.get(id).cloned()).collect())
    }

    /// The albums with `ids`, in that order; ids that do not exist are left out.
    pub fn albums_by_id(&self, ids: &[AlbumId]) -> Result<Vec<Album>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = vec!["?"; ids.len()].join(", ");
        let raw: Vec<i64> = ids.iter().map(|id| id.0).collect();
        let albums = self.albums_where(&format!("al.id IN ({placeholders})"), &raw)?;
        Ok(ids
            .iter()
            .filter_map(|id| albums.iter().find(|a| a.id == *id).cloned())
            .collect())
    }

    /// A page of all tracks in the order `query` asks for.
    pub fn tracks(&self, query: &TrackQuery) -> Result<TrackPage> {
        if query.limit == 0 || query.limit > 10_000 {
            return Err(Error::InvalidInput(format!(
                "a page holds 1 to 10000 tracks, not {}",
                query.limit
            )));
        }
        let mut columns: Vec<String> = query
            .sort
            .columns()
            .iter()
            .map(|c| format!("t.{c}"))
            .collect();
        columns.push("t.id".to_owned());
        let dir = if query.descending { "DESC" } else { "ASC" };
        let order = columns
            .iter()
            .map(|c| format!("{c} {dir}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut params: Vec<Value> = Vec::new();
        let mut conditions = Vec::new();
        if query.playable_offline {
            conditions.push(PLAYABLE_OFFLINE.to_owned());
        }
        if let Some(Cursor(values)) = &query.after {
            if values.len() != columns.len() {
                return Err(Error::InvalidInput(
                    "the cursor belongs to another sort order".to_owned(),
                ));
            }
            params.extend(values.iter().map(|v| match v {
                CursorValue::Int(i) => Value::Integer(*i),
                CursorValue::Text(s) => Value::Text(s.clone()),
            }));
            let placeholders = vec!["?"; values.len()].join(", ");
            let op = if query.descending { "<" } else { ">" };
            conditions.push(format!("({}) {op} ({placeholders})", columns.join(", ")));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {TRACK_COLUMNS}, {} FROM {TRACK_JOINS} {filter} ORDER BY {order} LIMIT {}",
            columns.join(", "),
            query.limit
        );
        let key_start = TRACK_COLUMN_COUNT;
        let mut stmt = self.conn().prepare_cached(&sql).ctx("listing tracks")?;
        let mut rows = stmt.query(params_from_iter(params)).ctx("listing tracks")?;
        let mut tracks = Vec::new();
        let mut last_key = None;
        while let Some(row) = rows.next().ctx("listing tracks")? {
            tracks.push(track_from_row(row).ctx("reading a track")?);
            let mut key = Vec::with_capacity(columns.len());
            for i in 0..columns.len() {
                key.push(
                    match row.get_ref(key_start + i).ctx("reading a sort key")? {
                        rusqlite::types::ValueRef::Integer(v) => CursorValue::Int(v),
                        other => {
                            CursorValue::Text(other.as_str().map(str::to_owned).unwrap_or_default())
                        }
                    },
                );
            }
            last_key = Some(key);
        }
        let next = if tracks.len() == query.limit as usize {
            last_key.map(Cursor)
        } else {
            None
        };
        Ok(TrackPage { tracks, next })
    }

    /// Every track's id in the order `sort` gives (ties broken by id, as in [`Catalog::tracks`]).
    /// A list that scrolls by position, such as a virtualized table, holds these ids and fetches
    /// the rows it shows with [`Catalog::tracks_by_id`]: 100,000 ids take a few milliseconds.
    pub fn track_ids(&self, sort: TrackSort, descending: bool) -> Result<Vec<TrackId>> {
        let dir = if descending { "DESC" } else { "ASC" };
        let order = sort
            .columns()
            .iter()
            .chain(std::iter::once(&"id"))
            .map(|c| format!("{c} {dir}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT id FROM tracks ORDER BY {order}");
        let mut stmt = self.conn().prepare_cached(&sql).ctx("listing track ids")?;
        let ids = stmt
            .query_map([], |r| r.get(0).map(TrackId))
            .ctx("listing track ids")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("listing track ids")?;
        Ok(ids)
    }

    /// The number of tracks.
    pub fn track_count(&self) -> Result<u64> {
        self.conn()
            .query_row("SELECT count(*) FROM tracks", [], |r| r.get(0))
            .ctx("counting tracks")
    }

    /// All albums, by album title.
    pub fn albums(&self) -> Result<Vec<Album>> {
        self.albums_where("1", &[])
    }

    /// The albums whose album artist is `artist`, by year then title.
    pub fn artist_albums(&self, artist: ArtistId) -> Result<Vec<Album>> {
        let mut albums = self.albums_where("al.artist_id = ?1", &[artist.0])?;
        albums.sort_by_key(|a| a.year.unwrap_or(0));
        Ok(albums)
    }

    /// One album.
    pub fn album(&self, id: AlbumId) -> Result<Album> {
        self.albums_where("al.id = ?1", &[id.0])?
            .pop()
            .ok_or_else(|| Error::NotFound {
                kind: "album",
                id: id.to_string(),
            })
    }

    fn albums_where(&self, filter: &str, params: &[i64]) -> Result<Vec<Album>> {
        let sql = format!(
            "SELECT al.id, al.title, aa.name, al.artist_id, max(t.year), count(t.id),
                    sum(t.duration_ms), al.compilation,
                    (SELECT c.cover_hash FROM tracks c WHERE c.album_id = al.id
                        AND c.cover_hash IS NOT NULL ORDER BY c.disc_no, c.track_no LIMIT 1)
             FROM albums al JOIN artists aa ON aa.id = al.artist_id
             JOIN tracks t ON t.album_id = al.id
             WHERE {filter}
             GROUP BY al.id ORDER BY al.sort_title, aa.sort_name, al.id"
        );
        let mut stmt = self.conn().prepare_cached(&sql).ctx("listing albums")?;
        let rows = stmt
            .query_map(params_from_iter(params), |r| {
                Ok(Album {
                    id: AlbumId(r.get(0)?),
                    title: r.get(1)?,
                    album_artist: r.get(2)?,
                    album_artist_id: ArtistId(r.get(3)?),
                    year: nonzero(r.get(4)?),
                    track_count: r.get(5)?,
                    duration: Duration::from_millis(r.get(6)?),
                    compilation: r.get(7)?,
                    cover_hash: r.get(8)?,
                })
            })
            .ctx("listing albums")?;
        rows.collect::<rusqlite::Result<_>>().ctx("listing albums")
    }

    /// An album's tracks in disc and track order.
    pub fn album_tracks(&self, id: AlbumId) -> Result<Vec<Track>> {
        self.tracks_where(
            "t.album_id = ?1",
            "t.disc_no, t.track_no, t.sort_title, t.id",
            id.0,
        )
    }

    /// The tracks of a genre, in album artist and album order.
    pub fn genre_tracks(&self, id: GenreId) -> Result<Vec<Track>> {
        self.tracks_where(
            "t.id IN (SELECT track_id FROM track_genres WHERE genre_id = ?1)",
            "t.sort_album_artist, t.sort_album, t.album_id, t.disc_no, t.track_no, t.id",
            id.0,
        )
    }

    /// The tracks an artist appears on as a track artist, in album and track order.
    pub fn artist_tracks(&self, id: ArtistId) -> Result<Vec<Track>> {
        self.tracks_where(
            "t.id IN (SELECT track_id FROM track_artists WHERE artist_id = ?1)",
            "t.year, t.sort_album, t.album_id, t.disc_no, t.track_no, t.id",
            id.0,
        )
    }

    /// Tracks matching `filter`, in `order` (which may end in `LIMIT ?1`); `?1` is `param`.
    pub(crate) fn tracks_where(&self, filter: &str, order: &str, param: i64) -> Result<Vec<Track>> {
        let sql =
            format!("SELECT {TRACK_COLUMNS} FROM {TRACK_JOINS} WHERE {filter} ORDER BY {order}");
        let mut stmt = self.conn().prepare_cached(&sql).ctx("listing tracks")?;
        let rows = stmt
            .query_map([param], track_from_row)
            .ctx("listing tracks")?;
        rows.collect::<rusqlite::Result<_>>().ctx("listing tracks")
    }

    /// Album artists (artists credited as the album artist of at least one album), by sort name.
    pub fn album_artists(&self) -> Result<Vec<Artist>> {
        self.artists_where("a.id IN (SELECT artist_id FROM albums)", &[])
    }

    /// Every artist, album artists and track artists alike, by sort name.
    pub fn artists(&self) -> Result<Vec<Artist>> {
        self.artists_where("1", &[])
    }

    /// One artist.
    pub fn artist(&self, id: ArtistId) -> Result<Artist> {
        self.artists_where("a.id = ?1", &[id.0])?
            .pop()
            .ok_or_else(|| Error::NotFound {
                kind: "artist",
                id: id.to_string(),
            })
    }

    fn artists_where(&self, filter: &str, params: &[i64]) -> Result<Vec<Artist>> {
        let sql = format!(
            "SELECT a.id, a.name,
                (SELECT count(*) FROM albums al WHERE al.artist_id = a.id),
                (SELECT count(*) FROM track_artists ta WHERE ta.artist_id = a.id)
             FROM artists a WHERE {filter} ORDER BY a.sort_name, a.id"
        );
        let mut stmt = self.conn().prepare_cached(&sql).ctx("listing artists")?;
        let rows = stmt
            .query_map(params_from_iter(params), |r| {
                Ok(Artist {
                    id: ArtistId(r.get(0)?),
                    name: r.get(1)?,
                    album_count: r.get(2)?,
                    track_count: r.get(3)?,
                })
            })
            .ctx("listing artists")?;
        rows.collect::<rusqlite::Result<_>>().ctx("listing artists")
    }

    /// Genres with their track counts, by name.
    pub fn genres(&self) -> Result<Vec<Genre>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT g.id, g.name, count(tg.track_id) FROM genres g
                 JOIN track_genres tg ON tg.genre_id = g.id
                 GROUP BY g.id ORDER BY g.match_key",
            )
            .ctx("listing genres")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Genre {
                    id: GenreId(r.get(0)?),
                    name: r.get(1)?,
                    track_count: r.get(2)?,
                })
            })
            .ctx("listing genres")?;
        rows.collect::<rusqlite::Result<_>>().ctx("listing genres")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_column_count_matches_the_columns() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::schema::open(&dir.path().join("catalog.db")).unwrap();
        let stmt = conn
            .prepare(&format!("SELECT {TRACK_COLUMNS} FROM {TRACK_JOINS}"))
            .unwrap();
        assert_eq!(stmt.column_count(), TRACK_COLUMN_COUNT);
    }
}

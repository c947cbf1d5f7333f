//! Play statistics and ratings, and the lists built on them.

use std::time::{Duration, SystemTime};

use rusqlite::params;
use serde::Serialize;

use crate::Catalog;
use crate::error::{DbContext, Error, Result};
use crate::model::{Rating, Track, TrackId, to_millis};
use crate::sync::{self, SyncChange};

/// Library totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LibraryStats {
    /// Tracks.
    pub tracks: u64,
    /// Albums.
    pub albums: u64,
    /// Album artists.
    pub album_artists: u64,
    /// Artists of any kind.
    pub artists: u64,
    /// Genres.
    pub genres: u64,
    /// Playlists.
    pub playlists: u64,
    /// Total playing time.
    #[serde(rename = "duration_ms", serialize_with = "millis")]
    pub duration: Duration,
    /// Bytes of local files.
    pub bytes: u64,
    /// Tracks whose files are all in unreachable roots.
    pub missing: u64,
    /// Plays recorded.
    pub plays: u64,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Catalog {
    /// Records that `track` was played (to the end, or far enough to count) at `at`.
    pub fn record_play(&mut self, track: TrackId, at: SystemTime) -> Result<()> {
        let tx = self.conn_mut().transaction().ctx("recording a play")?;
        let n = tx
            .execute(
                "UPDATE tracks SET play_count = play_count + 1,
                    last_played_at = max(last_played_at, ?2) WHERE id = ?1",
                params![track, to_millis(at)],
            )
            .ctx("recording a play")?;
        if n == 0 {
            return Err(Error::NotFound {
                kind: "track",
                id: track.to_string(),
            });
        }
        let uid = sync::track_uid(&tx, track.0)?;
        let op_id = sync::record(
            &tx,
            &SyncChange::Play {
                track: uid,
                at: to_millis(at),
            },
            at,
        )?;
        // The op id makes the play one event: when the feed brings it back, it is not counted
        // again.
        tx.execute(
            "INSERT INTO plays(track_id, played_at, op_id) VALUES (?1, ?2, ?3)",
            params![track, to_millis(at), op_id],
        )
        .ctx("recording a play")?;
        tx.commit().ctx("recording a play")
    }

    /// Sets or clears a track's rating.
    pub fn set_rating(
        &mut self,
        track: TrackId,
        rating: Option<Rating>,
        now: SystemTime,
    ) -> Result<()> {
        let tx = self.conn_mut().transaction().ctx("rating a track")?;
        let uid = sync::track_uid(&tx, track.0)?;
        let value = rating.map_or(0, Rating::value);
        tx.execute(
            "UPDATE tracks SET rating = ?2 WHERE id = ?1",
            params![track, value],
        )
        .ctx("rating a track")?;
        sync::record(
            &tx,
            &SyncChange::Rating {
                track: uid,
                rating: value,
            },
            now,
        )?;
        tx.commit().ctx("rating a track")
    }

    /// Marks a track as loved or not.
    pub fn set_loved(&mut self, track: TrackId, loved: bool, now: SystemTime) -> Result<()> {
        let tx = self.conn_mut().transaction().ctx("marking a track loved")?;
        let uid = sync::track_uid(&tx, track.0)?;
        tx.execute(
            "UPDATE tracks SET loved = ?2 WHERE id = ?1",
            params![track, loved],
        )
        .ctx("marking a track loved")?;
        let fields = std::collections::BTreeMap::from([("loved".to_owned(), loved.into())]);
        sync::record(
            &tx,
            &SyncChange::TrackSet {
                track: uid,
                blob: None,
                fields,
            },
            now,
        )?;
        tx.commit().ctx("marking a track loved")
    }

    /// The most recently added tracks, newest first.
    pub fn recently_added(&self, limit: u32) -> Result<Vec<Track>> {
        self.tracks_where("1", "t.added_at DESC, t.id DESC LIMIT ?1", i64::from(limit))
    }

    /// The most played tracks, most first.
    pub fn most_played(&self, limit: u32) -> Result<Vec<Track>> {
        self.tracks_where(
            "t.play_count > 0",
            "t.play_count DESC, t.last_played_at DESC, t.id LIMIT ?1",
            i64::from(limit),
        )
    }

    /// The most recently played tracks, latest first.
    pub fn recently_played(&self, limit: u32) -> Result<Vec<Track>> {
        self.tracks_where(
            "t.last_played_at > 0",
            "t.last_played_at DESC, t.id LIMIT ?1",
            i64::from(limit),
        )
    }

    /// Library totals.
    pub fn stats(&self) -> Result<LibraryStats> {
        self.conn()
            .query_row(
                "SELECT (SELECT count(*) FROM tracks), (SELECT count(*) FROM albums),
                    (SELECT count(DISTINCT artist_id) FROM albums), (SELECT count(*) FROM artists),
                    (SELECT count(*) FROM genres), (SELECT count(*) FROM playlists),
                    (SELECT coalesce(sum(duration_ms), 0) FROM tracks),
                    (SELECT coalesce(sum(size), 0) FROM files),
                    (SELECT count(*) FROM tracks t WHERE NOT EXISTS (SELECT 1 FROM files f
                        JOIN roots r ON r.id = f.root_id WHERE f.track_id = t.id AND r.reachable = 1)),
                    (SELECT count(*) FROM plays)",
                [],
                |r| {
                    Ok(LibraryStats {
                        tracks: r.get(0)?,
                        albums: r.get(1)?,
                        album_artists: r.get(2)?,
                        artists: r.get(3)?,
                        genres: r.get(4)?,
                        playlists: r.get(5)?,
                        duration: Duration::from_millis(r.get(6)?),
                        bytes: r.get(7)?,
                        missing: r.get(8)?,
                        plays: r.get(9)?,
                    })
                },
            )
            .ctx("computing library totals")
    }
}

//! The sync outbox: the catalog's half of keeping devices in step (DESIGN.md, data flow 4).
//!
//! Every change a device makes that other devices must see (playlist edits, ratings, loved
//! marks, plays) is recorded here as an op — a [`SyncChange`] with a unique id and a hybrid
//! logical clock [`Stamp`] — in the same transaction as the change itself, so a change and its op
//! are written together or not at all. The locker client reads the ops in order
//! ([`Catalog::pending_ops`]), pushes them, and deletes the ones the locker took
//! ([`Catalog::ops_pushed`]).
//!
//! A [`SyncChange`] serializes to the locker's wire shape (`{"type": "playlist_set", ...}`), but
//! this crate knows no network and does not depend on the wire crate: the locker client turns a
//! [`PendingOp`] into its wire op, and a test there holds the two shapes together.
//!
//! **Architecture Invariant:** an op names tracks, playlists and playlist entries by their `uid`s,
//! the ids shared with the locker and other devices, never by row ids.
//!
//! **Architecture Invariant:** stamps only grow. The clock takes the later of the wall clock and
//! the last stamp given, so a clock set back never makes a new change lose to an older one.

use std::collections::BTreeMap;
use std::time::SystemTime;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::Catalog;
use crate::error::{DbContext, Error, Result};
use crate::feed;
use crate::model::to_millis;

/// A hybrid logical clock stamp: wall-clock milliseconds, a counter for changes within one
/// millisecond, and the device that made it. Stamps order by (wall, counter, device).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Stamp {
    /// Milliseconds since the Unix epoch.
    pub wall_ms: i64,
    /// Orders changes within one millisecond.
    pub counter: u32,
    /// The device that made the change.
    pub device: String,
}

/// A change other devices must see. Tracks, playlists and entries are named by their `uid`s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SyncChange {
    /// Sets some fields of a track (each field its own last-writer-wins register).
    TrackSet {
        /// Track uid.
        track: String,
        /// The blob (BLAKE3 of the file) holding the track's audio in the locker.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        blob: Option<String>,
        /// Field values, named like the catalog's columns (`loved`, `title`, ...).
        fields: BTreeMap<String, serde_json::Value>,
    },
    /// Takes a track out of the locker (it stays on the disks that have its file).
    TrackDelete {
        /// Track uid.
        track: String,
    },
    /// Sets a track's rating, 0 to 100 (0 clears it).
    Rating {
        /// Track uid.
        track: String,
        /// The rating.
        rating: u8,
    },
    /// Records a play.
    Play {
        /// Track uid.
        track: String,
        /// When, in milliseconds since the Unix epoch.
        at: i64,
    },
    /// Creates or renames a playlist.
    PlaylistSet {
        /// Playlist uid.
        playlist: String,
        /// Its name.
        name: String,
    },
    /// Deletes a playlist.
    PlaylistDelete {
        /// Playlist uid.
        playlist: String,
    },
    /// Puts an entry in a playlist at an order key, or moves it there.
    PlaylistItemSet {
        /// Playlist uid.
        playlist: String,
        /// Entry uid.
        item: String,
        /// The entry's track uid.
        track: String,
        /// Where the entry sorts.
        order_key: String,
    },
    /// Removes an entry from a playlist.
    PlaylistItemRemove {
        /// Playlist uid.
        playlist: String,
        /// Entry uid.
        item: String,
    },
}

/// An op waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingOp {
    /// Its place in the outbox: ops are pushed in this order.
    #[serde(skip)]
    pub seq: i64,
    /// The op's id, unique to it; the locker applies an id once.
    pub id: String,
    /// When the change was made.
    pub hlc: Stamp,
    /// What changed.
    #[serde(flatten)]
    pub change: SyncChange,
}

/// Records `change` as an op stamped at `now` (or just after the last stamp given or seen, if
/// that is later), and writes the sync registers it sets. Call it inside the transaction that
/// makes the change. Returns the op's id.
pub(crate) fn record(conn: &Connection, change: &SyncChange, now: SystemTime) -> Result<String> {
    let context = "recording a change for sync";
    let (device, wall, counter): (String, i64, i64) = conn
        .query_row(
            "SELECT device, hlc_wall, hlc_counter FROM sync_state WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .ctx(context)?;
    let (wall, counter) = next_stamp(wall, counter, to_millis(now));
    conn.execute(
        "UPDATE sync_state SET hlc_wall = ?1, hlc_counter = ?2 WHERE id = 1",
        params![wall, counter],
    )
    .ctx(context)?;
    let json = serde_json::to_string(change)
        .map_err(|e| Error::InvalidInput(format!("a change cannot be written: {e}")))?;
    let op_id = feed::new_op_id(&device);
    conn.execute(
        "INSERT INTO outbox(op_id, hlc_wall, hlc_counter, change) VALUES (?1, ?2, ?3, ?4)",
        params![op_id, wall, counter, json],
    )
    .ctx(context)?;
    let stamp = Stamp {
        wall_ms: wall,
        counter: u32::try_from(counter).unwrap_or(u32::MAX),
        device,
    };
    feed::note_local(conn, change, &feed::stamp_text(&stamp))?;
    Ok(op_id)
}

/// The stamp after (`wall`, `counter`) at wall-clock time `now_ms`.
fn next_stamp(wall: i64, counter: i64, now_ms: i64) -> (i64, i64) {
    if now_ms > wall {
        (now_ms, 0)
    } else {
        (wall, counter.saturating_add(1))
    }
}

/// A track's uid, or `NotFound`.
pub(crate) fn track_uid(conn: &Connection, track: i64) -> Result<String> {
    conn.query_row("SELECT uid FROM tracks WHERE id = ?1", [track], |r| {
        r.get(0)
    })
    .optional()
    .ctx("reading a track")?
    .ok_or_else(|| Error::NotFound {
        kind: "track",
        id: track.to_string(),
    })
}

impl Catalog {
    /// The ops waiting to be pushed, oldest first, at most `limit`.
    pub fn pending_ops(&self, limit: u32) -> Result<Vec<PendingOp>> {
        let context = "reading the outbox";
        let device: String = self
            .conn()
            .query_row("SELECT device FROM sync_state WHERE id = 1", [], |r| {
                r.get(0)
            })
            .ctx(context)?;
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT seq, op_id, hlc_wall, hlc_counter, change FROM outbox
                 ORDER BY seq LIMIT ?1",
            )
            .ctx(context)?;
        let rows = stmt
            .query_map([limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .ctx(context)?;
        let mut ops = Vec::new();
        for row in rows {
            let (seq, id, wall, counter, json) = row.ctx(context)?;
            let change = serde_json::from_str(&json).map_err(|e| {
                Error::InvalidInput(format!("outbox entry {seq} cannot be read: {e}"))
            })?;
            ops.push(PendingOp {
                seq,
                id,
                hlc: Stamp {
                    wall_ms: wall,
                    counter: u32::try_from(counter).unwrap_or(u32::MAX),
                    device: device.clone(),
                },
                change,
            });
        }
        Ok(ops)
    }

    /// How many ops wait to be pushed.
    pub fn pending_op_count(&self) -> Result<u64> {
        self.conn()
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
            .ctx("counting the outbox")
    }

    /// Forgets the ops up to and including `seq`: the locker has them.
    pub fn ops_pushed(&mut self, seq: i64) -> Result<()> {
        self.conn()
            .execute("DELETE FROM outbox WHERE seq <= ?1", [seq])
            .ctx("clearing pushed ops")?;
        Ok(())
    }

    /// This catalog's device id, as its stamps carry it.
    pub fn device_id(&self) -> Result<String> {
        self.conn()
            .query_row("SELECT device FROM sync_state WHERE id = 1", [], |r| {
                r.get(0)
            })
            .ctx("reading the device id")
    }

    /// How far the locker's change feed has been pulled and applied.
    pub fn feed_cursor(&self) -> Result<i64> {
        self.conn()
            .query_row("SELECT feed_cursor FROM sync_state WHERE id = 1", [], |r| {
                r.get(0)
            })
            .ctx("reading the feed cursor")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_follow_the_clock_and_never_go_back() {
        assert_eq!(next_stamp(0, 0, 1_000), (1_000, 0));
        // Two changes in the same millisecond.
        assert_eq!(next_stamp(1_000, 0, 1_000), (1_000, 1));
        // The clock was set back: the stamp stays ahead of the last one.
        assert_eq!(next_stamp(1_000, 1, 400), (1_000, 2));
        assert_eq!(next_stamp(1_000, 2, 1_001), (1_001, 0));
    }

    #[test]
    fn changes_have_the_wire_shape() {
        let change = SyncChange::PlaylistItemSet {
            playlist: "p".to_owned(),
            item: "i".to_owned(),
            track: "t".to_owned(),
            order_key: "a0".to_owned(),
        };
        let json = serde_json::to_value(&change).unwrap();
        assert_eq!(json["type"], "playlist_item_set");
        assert_eq!(json["order_key"], "a0");
    }
}

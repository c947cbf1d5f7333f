//! Playlists: named, ordered lists of tracks in which a track may appear more than once.
//!
//! Each entry is a row with its own stable id and an order key ([`crate::order_key`]), so adding,
//! removing or moving one entry touches one row and no other entry's id changes.
//!
//! Every edit records its op for other devices ([`crate::sync`]) in the same transaction.

use std::time::{Duration, SystemTime};

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::browse::{TRACK_COLUMNS, track_from_row_at};
use crate::error::{DbContext, Error, Result};
use crate::model::{PlaylistId, PlaylistItemId, Track, TrackId, from_millis, new_uid, to_millis};
use crate::sync::{self, SyncChange};
use crate::{Catalog, order_key};

/// A playlist with its size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Playlist {
    /// Row id.
    pub id: PlaylistId,
    /// Stable identifier shared with other devices once synced.
    pub uid: String,
    /// Name.
    pub name: String,
    /// Entries.
    pub item_count: u32,
    /// Total playing time.
    #[serde(rename = "duration_ms", serialize_with = "millis")]
    pub duration: Duration,
    /// When it was created.
    #[serde(skip)]
    pub created: SystemTime,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// One entry of a playlist.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaylistItem {
    /// The entry's id (stable across moves).
    pub id: PlaylistItemId,
    /// The track.
    pub track: Track,
}

fn valid_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::InvalidInput("a playlist needs a name".to_owned()));
    }
    if name.chars().count() > 500 {
        return Err(Error::InvalidInput(
            "a playlist name is at most 500 characters".to_owned(),
        ));
    }
    Ok(name)
}

fn not_found(id: impl ToString) -> Error {
    Error::NotFound {
        kind: "playlist",
        id: id.to_string(),
    }
}

impl Catalog {
    /// Creates an empty playlist.
    pub fn create_playlist(&mut self, name: &str, now: SystemTime) -> Result<PlaylistId> {
        let name = valid_name(name)?;
        let uid = new_uid();
        let tx = self.conn_mut().transaction().ctx("creating a playlist")?;
        tx.execute(
            "INSERT INTO playlists(uid, name, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
            params![uid, name, to_millis(now)],
        )
        .ctx("creating a playlist")?;
        let id = PlaylistId(tx.last_insert_rowid());
        sync::record(
            &tx,
            &SyncChange::PlaylistSet {
                playlist: uid,
                name: name.to_owned(),
            },
            now,
        )?;
        tx.commit().ctx("creating a playlist")?;
        Ok(id)
    }

    /// Renames a playlist.
    pub fn rename_playlist(&mut self, id: PlaylistId, name: &str, now: SystemTime) -> Result<()> {
        let name = valid_name(name)?;
        let tx = self.conn_mut().transaction().ctx("renaming a playlist")?;
        let uid = playlist_uid(&tx, id)?;
        tx.execute(
            "UPDATE playlists SET name = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, name, to_millis(now)],
        )
        .ctx("renaming a playlist")?;
        sync::record(
            &tx,
            &SyncChange::PlaylistSet {
                playlist: uid,
                name: name.to_owned(),
            },
            now,
        )?;
        tx.commit().ctx("renaming a playlist")
    }

    /// Deletes a playlist (its tracks stay in the library).
    pub fn delete_playlist(&mut self, id: PlaylistId, now: SystemTime) -> Result<()> {
        let tx = self.conn_mut().transaction().ctx("deleting a playlist")?;
        let uid = playlist_uid(&tx, id)?;
        tx.execute("DELETE FROM playlists WHERE id = ?1", [id])
            .ctx("deleting a playlist")?;
        sync::record(&tx, &SyncChange::PlaylistDelete { playlist: uid }, now)?;
        tx.commit().ctx("deleting a playlist")
    }

    /// All playlists, by name.
    pub fn playlists(&self) -> Result<Vec<Playlist>> {
        self.playlists_where("1", None)
    }

    /// One playlist.
    pub fn playlist(&self, id: PlaylistId) -> Result<Playlist> {
        self.playlists_where("p.id = ?1", Some(id.0))?
            .pop()
            .ok_or_else(|| not_found(id))
    }

    /// The playlist named `name` (ignoring case), if any.
    pub fn playlist_by_name(&self, name: &str) -> Result<Option<Playlist>> {
        let id: Option<i64> = self
            .conn()
            .query_row(
                "SELECT id FROM playlists WHERE name = ?1 COLLATE NOCASE ORDER BY id LIMIT 1",
                [name.trim()],
                |r| r.get(0),
            )
            .optional()
            .ctx("finding a playlist")?;
        id.map(|id| self.playlist(PlaylistId(id))).transpose()
    }

    fn playlists_where(&self, filter: &str, param: Option<i64>) -> Result<Vec<Playlist>> {
        let sql = format!(
            "SELECT p.id, p.uid, p.name, count(i.id), coalesce(sum(t.duration_ms), 0), p.created_at
             FROM playlists p
             LEFT JOIN playlist_items i ON i.playlist_id = p.id
             LEFT JOIN tracks t ON t.id = i.track_id
             WHERE {filter} GROUP BY p.id ORDER BY p.name COLLATE NOCASE, p.id"
        );
        let mut stmt = self.conn().prepare_cached(&sql).ctx("listing playlists")?;
        let map = |r: &rusqlite::Row<'_>| {
            Ok(Playlist {
                id: PlaylistId(r.get(0)?),
                uid: r.get(1)?,
                name: r.get(2)?,
                item_count: r.get(3)?,
                duration: Duration::from_millis(r.get(4)?),
                created: from_millis(r.get(5)?),
            })
        };
        let rows = match param {
            Some(p) => stmt.query_map([p], map),
            None => stmt.query_map([], map),
        }
        .ctx("listing playlists")?;
        rows.collect::<rusqlite::Result<_>>()
            .ctx("listing playlists")
    }

    /// A playlist's entries in order.
    pub fn playlist_items(&self, id: PlaylistId) -> Result<Vec<PlaylistItem>> {
        self.playlist(id)?;
        let sql = format!(
            "SELECT i.id, {TRACK_COLUMNS} FROM playlist_items i
             JOIN tracks t ON t.id = i.track_id
             JOIN albums al ON al.id = t.album_id JOIN artists aa ON aa.id = al.artist_id
             WHERE i.playlist_id = ?1 ORDER BY i.order_key, i.uid"
        );
        let mut stmt = self.conn().prepare_cached(&sql).ctx("listing a playlist")?;
        let rows = stmt
            .query_map([id], |r| {
                Ok(PlaylistItem {
                    id: PlaylistItemId(r.get(0)?),
                    track: track_from_row_at(r, 1)?,
                })
            })
            .ctx("listing a playlist")?;
        rows.collect::<rusqlite::Result<_>>()
            .ctx("listing a playlist")
    }

    /// Adds `tracks` to a playlist at `index` (`None` appends), in the order given. Returns the
    /// new entries' ids.
    pub fn add_to_playlist(
        &mut self,
        id: PlaylistId,
        tracks: &[TrackId],
        index: Option<usize>,
        now: SystemTime,
    ) -> Result<Vec<PlaylistItemId>> {
        let tx = self.conn_mut().transaction().ctx("adding to a playlist")?;
        let playlist = playlist_uid(&tx, id)?;
        let mut keys = order_keys(&tx, id, None)?;
        let at = index.unwrap_or(keys.len()).min(keys.len());
        untie(&tx, &playlist, &mut keys, at, now)?;
        let before = at.checked_sub(1).map(|i| keys[i].1.as_str());
        let after = keys.get(at).map(|k| k.1.as_str());
        let new_keys = order_key::n_between(before, after, tracks.len());
        let mut ids = Vec::with_capacity(tracks.len());
        for (track, key) in tracks.iter().zip(new_keys) {
            let track_uid = sync::track_uid(&tx, track.0)?;
            let item = new_uid();
            tx.execute(
                "INSERT INTO playlist_items(uid, playlist_id, track_id, order_key, added_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![item, id, track, key, to_millis(now)],
            )
            .ctx("adding to a playlist")?;
            ids.push(PlaylistItemId(tx.last_insert_rowid()));
            sync::record(
                &tx,
                &SyncChange::PlaylistItemSet {
                    playlist: playlist.clone(),
                    item,
                    track: track_uid,
                    order_key: key,
                },
                now,
            )?;
        }
        touch(&tx, id, now)?;
        tx.commit().ctx("adding to a playlist")?;
        Ok(ids)
    }

    /// Removes entries from a playlist.
    pub fn remove_from_playlist(
        &mut self,
        id: PlaylistId,
        items: &[PlaylistItemId],
        now: SystemTime,
    ) -> Result<()> {
        let tx = self
            .conn_mut()
            .transaction()
            .ctx("removing from a playlist")?;
        let playlist = playlist_uid(&tx, id)?;
        for item in items {
            let (item_uid, _) = item_uids(&tx, id, *item)?;
            tx.execute("DELETE FROM playlist_items WHERE id = ?1", [item])
                .ctx("removing from a playlist")?;
            sync::record(
                &tx,
                &SyncChange::PlaylistItemRemove {
                    playlist: playlist.clone(),
                    item: item_uid,
                },
                now,
            )?;
        }
        touch(&tx, id, now)?;
        tx.commit().ctx("removing from a playlist")
    }

    /// Moves an entry so that it ends up at `index` (0-based, clamped to the end).
    pub fn move_playlist_item(
        &mut self,
        id: PlaylistId,
        item: PlaylistItemId,
        index: usize,
        now: SystemTime,
    ) -> Result<()> {
        let tx = self
            .conn_mut()
            .transaction()
            .ctx("moving a playlist entry")?;
        let playlist = playlist_uid(&tx, id)?;
        let (item_uid, track_uid) = item_uids(&tx, id, item)?;
        let mut keys = order_keys(&tx, id, Some(item))?;
        let at = index.min(keys.len());
        untie(&tx, &playlist, &mut keys, at, now)?;
        let before = at.checked_sub(1).map(|i| keys[i].1.as_str());
        let after = keys.get(at).map(|k| k.1.as_str());
        let key = order_key::between(before, after);
        tx.execute(
            "UPDATE playlist_items SET order_key = ?2 WHERE id = ?1",
            params![item, key],
        )
        .ctx("moving a playlist entry")?;
        sync::record(
            &tx,
            &SyncChange::PlaylistItemSet {
                playlist,
                item: item_uid,
                track: track_uid,
                order_key: key,
            },
            now,
        )?;
        touch(&tx, id, now)?;
        tx.commit().ctx("moving a playlist entry")
    }
}

/// The entries' (id, order key) in order, leaving out `except`.
fn order_keys(
    tx: &Transaction<'_>,
    id: PlaylistId,
    except: Option<PlaylistItemId>,
) -> Result<Vec<(i64, String)>> {
    let mut stmt = tx
        .prepare_cached(
            "SELECT id, order_key FROM playlist_items WHERE playlist_id = ?1 AND id <> ?2
             ORDER BY order_key, uid",
        )
        .ctx("reading playlist order")?;
    let rows = stmt
        .query_map(params![id, except.map_or(-1, |e| e.0)], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .ctx("reading playlist order")?;
    let keys: Vec<(i64, String)> = rows
        .collect::<rusqlite::Result<_>>()
        .ctx("reading playlist order")?;
    // Two entries can share a key (added at one place on two devices at once); they are told
    // apart by uid, as on every device, and `untie` makes room between them.
    Ok(keys)
}

/// Makes room at `at`: when the entries on either side share an order key (two devices added
/// entries at one place at once), the later ones get new keys between it and the next key, in
/// the order they show, so a key can go between them. Each new key is synced, as a move.
fn untie(
    tx: &Transaction<'_>,
    playlist: &str,
    keys: &mut [(i64, String)],
    at: usize,
    now: SystemTime,
) -> Result<()> {
    let Some(tied) = at
        .checked_sub(1)
        .filter(|before| keys.get(at).is_some_and(|after| after.1 == keys[*before].1))
        .map(|before| keys[before].1.clone())
    else {
        return Ok(());
    };
    let end = keys[at..]
        .iter()
        .position(|k| k.1 != tied)
        .map_or(keys.len(), |n| at + n);
    let upper = keys.get(end).map(|k| k.1.clone());
    let fresh = order_key::n_between(Some(&tied), upper.as_deref(), end - at);
    for (entry, key) in keys[at..end].iter_mut().zip(fresh) {
        tx.execute(
            "UPDATE playlist_items SET order_key = ?2 WHERE id = ?1",
            params![entry.0, key],
        )
        .ctx("making room in a playlist")?;
        let (item, track): (String, String) = tx
            .query_row(
                "SELECT i.uid, t.uid FROM playlist_items i JOIN tracks t ON t.id = i.track_id
                 WHERE i.id = ?1",
                [entry.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ctx("making room in a playlist")?;
        sync::record(
            tx,
            &SyncChange::PlaylistItemSet {
                playlist: playlist.to_owned(),
                item,
                track,
                order_key: key.clone(),
            },
            now,
        )?;
        entry.1 = key;
    }
    Ok(())
}

/// A playlist's uid, or `NotFound`.
fn playlist_uid(tx: &Transaction<'_>, id: PlaylistId) -> Result<String> {
    tx.query_row("SELECT uid FROM playlists WHERE id = ?1", [id], |r| {
        r.get(0)
    })
    .optional()
    .ctx("reading a playlist")?
    .ok_or_else(|| not_found(id))
}

/// An entry's uid and its track's uid, or `NotFound` if the playlist has no such entry.
fn item_uids(
    tx: &Transaction<'_>,
    id: PlaylistId,
    item: PlaylistItemId,
) -> Result<(String, String)> {
    tx.query_row(
        "SELECT i.uid, t.uid FROM playlist_items i JOIN tracks t ON t.id = i.track_id
         WHERE i.id = ?1 AND i.playlist_id = ?2",
        params![item, id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
    .ctx("reading a playlist entry")?
    .ok_or_else(|| Error::NotFound {
        kind: "playlist entry",
        id: item.to_string(),
    })
}

fn touch(tx: &Transaction<'_>, id: PlaylistId, now: SystemTime) -> Result<()> {
    tx.execute(
        "UPDATE playlists SET updated_at = ?2 WHERE id = ?1",
        params![id, to_millis(now)],
    )
    .ctx("updating a playlist")?;
    Ok(())
}

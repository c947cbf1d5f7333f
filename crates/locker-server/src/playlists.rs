//! An account's playlists as the catalog holds them (the state the playlist ops build), read for
//! the APIs that show and edit them: the web player's and Subsonic's. Edits are ops, applied
//! through [`crate::catalog::apply`] like every device's.

use rusqlite::{Connection, OptionalExtension, params};

use crate::accounts::UserId;
use crate::error::DbContext;

/// One entry of a stored playlist.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The entry id.
    pub item: String,
    /// Its track.
    pub track: String,
    /// Where it sorts.
    pub order_key: String,
    /// When it was put there.
    pub hlc: String,
}

/// A playlist as the catalog holds it.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The playlist id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it was last named.
    pub name_hlc: String,
    /// When the locker first saw it.
    pub created_at: Option<i64>,
    /// The latest stamp of the playlist or any of its entries.
    pub changed: String,
    /// Live entries in order.
    pub entries: Vec<Entry>,
}

/// The playlist `id` of `user`, unless it does not exist or was deleted.
pub fn load(conn: &Connection, user: UserId, id: &str) -> crate::Result<Option<Stored>> {
    let row: Option<(String, String, Option<i64>)> = conn
        .query_row(
            "SELECT name, name_hlc, created_at FROM playlists
             WHERE user_id = ?1 AND uid = ?2 AND (deleted_hlc IS NULL OR deleted_hlc < name_hlc)",
            params![user.0, id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .ctx("loading a playlist")?;
    let Some((name, name_hlc, created_at)) = row else {
        return Ok(None);
    };
    let mut stmt = conn
        .prepare_cached(
            "SELECT item, track, order_key, hlc, removed_hlc FROM playlist_items
             WHERE user_id = ?1 AND playlist = ?2 ORDER BY order_key, item",
        )
        .ctx("loading a playlist")?;
    let rows = stmt
        .query_map(params![user.0, id], |r| {
            Ok((
                Entry {
                    item: r.get(0)?,
                    track: r.get(1)?,
                    order_key: r.get(2)?,
                    hlc: r.get(3)?,
                },
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .ctx("loading a playlist")?;
    let mut changed = name_hlc.clone();
    let mut entries = Vec::new();
    for row in rows {
        let (entry, removed) = row.ctx("loading a playlist")?;
        for stamp in [Some(&entry.hlc), removed.as_ref()].into_iter().flatten() {
            if *stamp > changed {
                changed.clone_from(stamp);
            }
        }
        if removed.as_ref().is_none_or(|r| *r < entry.hlc) {
            entries.push(entry);
        }
    }
    Ok(Some(Stored {
        id: id.to_owned(),
        name,
        name_hlc,
        created_at,
        changed,
        entries,
    }))
}

/// The ids of every live playlist of `user`, by name.
pub fn live_ids(conn: &Connection, user: UserId) -> crate::Result<Vec<String>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT uid FROM playlists
             WHERE user_id = ?1 AND (deleted_hlc IS NULL OR deleted_hlc < name_hlc)
             ORDER BY name COLLATE NOCASE, uid",
        )
        .ctx("listing playlists")?;
    let rows = stmt
        .query_map([user.0], |r| r.get(0))
        .ctx("listing playlists")?;
    rows.collect::<rusqlite::Result<_>>()
        .ctx("listing playlists")
}

/// Every live playlist of `user`, by name.
pub fn load_all(conn: &Connection, user: UserId) -> crate::Result<Vec<Stored>> {
    let ids = live_ids(conn, user)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(p) = load(conn, user, &id)? {
            out.push(p);
        }
    }
    Ok(out)
}

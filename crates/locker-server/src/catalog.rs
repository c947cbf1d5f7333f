//! An account's catalog on the locker: the ops log that is its change feed, and the state the ops
//! build (tracks with per-field last-writer-wins registers, ratings, plays, playlists and their
//! entries).
//!
//! Ops are applied in one transaction per request, all or nothing, and each op id at most once
//! per account, so a client that retries after a lost response cannot apply a change twice.
//! Stamps are kept as text that sorts like the stamps themselves: the wall time and counter
//! zero-padded, then the device id.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use skylark_locker_api::ErrorCode;
use skylark_locker_api::ops::{Change, ChangesResponse, FeedEntry, Hlc, LoveTarget, Op, OpResult};

use crate::UnixMillis;
use crate::accounts::UserId;
use crate::error::{DbContext, Error, Result};

pub use skylark_locker_api::ops::{MAX_FEED_PAGE, MAX_LYRICS_FIELD_BYTES, MAX_OPS_PER_REQUEST};
/// The largest value of one track field, as JSON (but `lyrics`: [`MAX_LYRICS_FIELD_BYTES`]).
const MAX_FIELD_BYTES: usize = 4096;

/// A stamp as sortable text.
fn stamp(hlc: &Hlc) -> String {
    format!(
        "{:020}:{:010}:{}",
        hlc.wall_ms.max(0),
        hlc.counter,
        hlc.device
    )
}

/// A random id in hex, for the ops, playlists and entries the locker itself makes on behalf of
/// the web player and Subsonic apps.
pub(crate) fn random_id(prefix: &str) -> Result<String> {
    Ok(format!("{prefix}{}", crate::sessions::random_hex(16)?))
}

/// A stamp for an edit the locker makes for `device` at `now` that is later than every stamp in
/// `seen`, so that the edit wins over what the user was shown even when a device's clock runs
/// ahead (the hybrid logical clock's receive rule).
pub(crate) fn stamp_after<'a>(
    device: &str,
    now: i64,
    seen: impl IntoIterator<Item = &'a str>,
) -> Hlc {
    let mut hlc = Hlc {
        wall_ms: now,
        counter: 0,
        device: device.to_owned(),
    };
    for stamp in seen {
        let mut parts = stamp.splitn(3, ':');
        let (Some(wall), Some(counter)) = (parts.next(), parts.next()) else {
            continue;
        };
        let (Ok(wall), Ok(counter)) = (wall.parse::<i64>(), counter.parse::<u32>()) else {
            continue;
        };
        if (wall, counter) >= (hlc.wall_ms, hlc.counter) {
            hlc.wall_ms = wall;
            hlc.counter = counter.saturating_add(1);
        }
    }
    hlc
}

fn bad(index: usize, message: impl std::fmt::Display) -> Error {
    Error::api(ErrorCode::BadRequest, format!("op {index}: {message}"))
}

fn valid_id(index: usize, what: &str, id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 100 || id.chars().any(char::is_control) {
        return Err(bad(index, format!("{what} must be 1 to 100 characters")));
    }
    Ok(())
}

/// Checks an op's shape before anything is written.
fn validate(index: usize, op: &Op) -> Result<()> {
    valid_id(index, "the op id", &op.id)?;
    if op.hlc.device.is_empty() || op.hlc.device.len() > 100 {
        return Err(bad(
            index,
            "the stamp needs a device id of 1 to 100 characters",
        ));
    }
    match &op.change {
        Change::TrackSet {
            track,
            blob,
            fields,
        } => {
            valid_id(index, "the track id", track)?;
            if let Some(blob) = blob
                && (blob.len() != 64 || !blob.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                return Err(bad(index, "a blob is a BLAKE3 hash in hex"));
            }
            if fields.len() > 64 {
                return Err(bad(index, "at most 64 fields per op"));
            }
            for (name, value) in fields {
                let ok_name = !name.is_empty()
                    && name.len() <= 40
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                if !ok_name {
                    return Err(bad(index, format!("{name:?} is not a field name")));
                }
                let max = if name == "lyrics" {
                    MAX_LYRICS_FIELD_BYTES
                } else {
                    MAX_FIELD_BYTES
                };
                if value.to_string().len() > max {
                    return Err(bad(index, format!("the value of {name} is too long")));
                }
            }
        }
        Change::TrackDelete { track } | Change::Play { track, .. } => {
            valid_id(index, "the track id", track)?
        }
        Change::Rating { track, rating } => {
            valid_id(index, "the track id", track)?;
            if *rating > 100 {
                return Err(bad(index, "a rating is 0 to 100"));
            }
        }
        Change::PlaylistSet { playlist, name } => {
            valid_id(index, "the playlist id", playlist)?;
            if name.trim().is_empty() || name.chars().count() > 500 {
                return Err(bad(index, "a playlist name is 1 to 500 characters"));
            }
        }
        Change::PlaylistDelete { playlist } => valid_id(index, "the playlist id", playlist)?,
        Change::PlaylistItemSet {
            playlist,
            item,
            track,
            order_key,
        } => {
            valid_id(index, "the playlist id", playlist)?;
            valid_id(index, "the entry id", item)?;
            valid_id(index, "the track id", track)?;
            valid_id(index, "the order key", order_key)?;
        }
        Change::PlaylistItemRemove { playlist, item } => {
            valid_id(index, "the playlist id", playlist)?;
            valid_id(index, "the entry id", item)?;
        }
        Change::Love { target, .. } => {
            let names: &[&String] = match target {
                LoveTarget::Album {
                    album_artist,
                    album,
                } => &[album_artist, album],
                LoveTarget::Artist { artist } => &[artist],
                _ => return Err(bad(index, "this kind of love target is not supported")),
            };
            if names
                .iter()
                .any(|n| n.chars().count() > 500 || n.chars().any(char::is_control))
            {
                return Err(bad(
                    index,
                    "a name is at most 500 characters, without control characters",
                ));
            }
        }
        _ => return Err(bad(index, "this kind of op is not supported")),
    }
    Ok(())
}

/// The stamp of the last rating of the track `uid` of `user`, if it was ever rated: a new rating
/// is stamped after it.
///
/// # Errors
///
/// [`Error::Db`] if the database cannot be read.
pub fn rating_stamp(conn: &Connection, user: UserId, uid: &str) -> Result<Option<String>> {
    conn.query_row(
        "SELECT rating_hlc FROM tracks WHERE user_id = ?1 AND uid = ?2",
        params![user.0, uid],
        |r| r.get(0),
    )
    .optional()
    .map(Option::flatten)
    .ctx("reading a rating")
}

/// The register a love op writes: its kind (`album` or `artist`) and its key, the case-folded
/// names (an album's joined by U+001F, which names cannot hold).
pub fn love_key(target: &LoveTarget) -> Option<(&'static str, String)> {
    match target {
        LoveTarget::Album {
            album_artist,
            album,
        } => Some((
            "album",
            format!(
                "{}\u{1f}{}",
                album_artist.trim().to_lowercase(),
                album.trim().to_lowercase()
            ),
        )),
        LoveTarget::Artist { artist } => Some(("artist", artist.trim().to_lowercase())),
        _ => None,
    }
}

/// Applies `ops` for `user`, recording each new one in the change feed.
pub fn apply(
    conn: &Connection,
    user: UserId,
    ops: &[Op],
    now: UnixMillis,
) -> Result<Vec<OpResult>> {
    if ops.len() > MAX_OPS_PER_REQUEST {
        return Err(Error::api(
            ErrorCode::BadRequest,
            format!("at most {MAX_OPS_PER_REQUEST} ops per request"),
        ));
    }
    for (index, op) in ops.iter().enumerate() {
        validate(index, op)?;
    }
    let tx = conn.unchecked_transaction().ctx("applying ops")?;
    let mut results = Vec::with_capacity(ops.len());
    for (index, op) in ops.iter().enumerate() {
        let existing: Option<i64> = tx
            .query_row(
                "SELECT seq FROM ops WHERE user_id = ?1 AND op_id = ?2",
                params![user.0, op.id],
                |r| r.get(0),
            )
            .optional()
            .ctx("looking up an op")?;
        if let Some(seq) = existing {
            results.push(OpResult {
                id: op.id.clone(),
                seq,
                applied: false,
            });
            continue;
        }
        apply_one(&tx, user, index, op, now)?;
        let body = serde_json::to_string(op).map_err(|e| bad(index, e))?;
        tx.execute(
            "INSERT INTO ops(user_id, op_id, body, received_at) VALUES (?1, ?2, ?3, ?4)",
            params![user.0, op.id, body, now],
        )
        .ctx("recording an op")?;
        results.push(OpResult {
            id: op.id.clone(),
            seq: tx.last_insert_rowid(),
            applied: true,
        });
    }
    tx.commit().ctx("applying ops")?;
    Ok(results)
}

fn ensure_track(tx: &Transaction<'_>, user: UserId, track: &str) -> Result<()> {
    tx.execute(
        "INSERT OR IGNORE INTO tracks(user_id, uid) VALUES (?1, ?2)",
        params![user.0, track],
    )
    .ctx("creating a track")?;
    Ok(())
}

fn apply_one(
    tx: &Transaction<'_>,
    user: UserId,
    index: usize,
    op: &Op,
    now: UnixMillis,
) -> Result<()> {
    let hlc = stamp(&op.hlc);
    match &op.change {
        Change::TrackSet {
            track,
            blob,
            fields,
        } => {
            ensure_track(tx, user, track)?;
            if let Some(blob) = blob {
                let owned: bool = tx
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM user_blobs WHERE user_id = ?1 AND hash = ?2)",
                        params![user.0, blob],
                        |r| r.get(0),
                    )
                    .ctx("checking a blob")?;
                if !owned {
                    return Err(Error::api(
                        ErrorCode::NotFound,
                        format!("op {index}: no such blob {blob}"),
                    ));
                }
                tx.execute(
                    "UPDATE tracks SET blob = ?3, blob_hlc = ?4
                     WHERE user_id = ?1 AND uid = ?2 AND (blob_hlc IS NULL OR blob_hlc < ?4)",
                    params![user.0, track, blob, hlc],
                )
                .ctx("setting a track's blob")?;
            }
            for (field, value) in fields {
                tx.execute(
                    "INSERT INTO track_fields(user_id, uid, field, value, hlc) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(user_id, uid, field) DO UPDATE SET value = excluded.value, hlc = excluded.hlc
                     WHERE excluded.hlc > track_fields.hlc",
                    params![user.0, track, field, value.to_string(), hlc],
                )
                .ctx("setting a track field")?;
            }
        }
        Change::TrackDelete { track } => {
            ensure_track(tx, user, track)?;
            tx.execute(
                "UPDATE tracks SET deleted_hlc = ?3
                 WHERE user_id = ?1 AND uid = ?2 AND (deleted_hlc IS NULL OR deleted_hlc < ?3)",
                params![user.0, track, hlc],
            )
            .ctx("deleting a track")?;
        }
        Change::Rating { track, rating } => {
            ensure_track(tx, user, track)?;
            tx.execute(
                "UPDATE tracks SET rating = ?3, rating_hlc = ?4
                 WHERE user_id = ?1 AND uid = ?2 AND (rating_hlc IS NULL OR rating_hlc < ?4)",
                params![user.0, track, rating, hlc],
            )
            .ctx("rating a track")?;
        }
        Change::Play { track, at } => {
            tx.execute(
                "INSERT OR IGNORE INTO plays(user_id, op_id, track, at) VALUES (?1, ?2, ?3, ?4)",
                params![user.0, op.id, track, at],
            )
            .ctx("recording a play")?;
        }
        Change::PlaylistSet { playlist, name } => {
            tx.execute(
                "INSERT INTO playlists(user_id, uid, name, name_hlc, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(user_id, uid) DO UPDATE SET name = excluded.name, name_hlc = excluded.name_hlc
                 WHERE excluded.name_hlc > playlists.name_hlc",
                params![user.0, playlist, name.trim(), hlc, now],
            )
            .ctx("setting a playlist")?;
            // A playlist first deleted and then set (ops that crossed) is made now.
            tx.execute(
                "UPDATE playlists SET created_at = ?3 WHERE user_id = ?1 AND uid = ?2 AND created_at IS NULL",
                params![user.0, playlist, now],
            )
            .ctx("setting a playlist")?;
        }
        Change::PlaylistDelete { playlist } => {
            tx.execute(
                "INSERT INTO playlists(user_id, uid, name, name_hlc, deleted_hlc) VALUES (?1, ?2, '', '', ?3)
                 ON CONFLICT(user_id, uid) DO UPDATE SET deleted_hlc = excluded.deleted_hlc
                 WHERE playlists.deleted_hlc IS NULL OR playlists.deleted_hlc < excluded.deleted_hlc",
                params![user.0, playlist, hlc],
            )
            .ctx("deleting a playlist")?;
        }
        Change::PlaylistItemSet {
            playlist,
            item,
            track,
            order_key,
        } => {
            tx.execute(
                "INSERT INTO playlist_items(user_id, playlist, item, track, order_key, hlc)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(user_id, playlist, item) DO UPDATE SET
                     track = excluded.track, order_key = excluded.order_key, hlc = excluded.hlc
                 WHERE excluded.hlc > playlist_items.hlc",
                params![user.0, playlist, item, track, order_key, hlc],
            )
            .ctx("placing a playlist entry")?;
        }
        Change::PlaylistItemRemove { playlist, item } => {
            tx.execute(
                "INSERT INTO playlist_items(user_id, playlist, item, track, order_key, hlc, removed_hlc)
                 VALUES (?1, ?2, ?3, '', '', '', ?4)
                 ON CONFLICT(user_id, playlist, item) DO UPDATE SET removed_hlc = excluded.removed_hlc
                 WHERE playlist_items.removed_hlc IS NULL OR playlist_items.removed_hlc < excluded.removed_hlc",
                params![user.0, playlist, item, hlc],
            )
            .ctx("removing a playlist entry")?;
        }
        Change::Love { target, loved } => {
            let (kind, key) = love_key(target)
                .ok_or_else(|| bad(index, "this kind of love target is not supported"))?;
            tx.execute(
                "INSERT INTO loves(user_id, kind, key, loved, hlc) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(user_id, kind, key) DO UPDATE SET loved = excluded.loved, hlc = excluded.hlc
                 WHERE excluded.hlc > loves.hlc",
                params![user.0, kind, key, loved, hlc],
            )
            .ctx("recording a love")?;
        }
        _ => return Err(bad(index, "this kind of op is not supported")),
    }
    Ok(())
}

/// The change feed of `user` after `since`, at most `limit` entries.
pub fn changes(conn: &Connection, user: UserId, since: i64, limit: u32) -> Result<ChangesResponse> {
    let limit = limit.clamp(1, MAX_FEED_PAGE);
    let mut stmt = conn
        .prepare_cached(
            "SELECT seq, body FROM ops WHERE user_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )
        .ctx("reading the change feed")?;
    let rows = stmt
        .query_map(params![user.0, since, i64::from(limit) + 1], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .ctx("reading the change feed")?;
    let mut entries = Vec::new();
    for row in rows {
        let (seq, body) = row.ctx("reading the change feed")?;
        let op: Op = serde_json::from_str(&body).map_err(|e| {
            Error::api(
                ErrorCode::Internal,
                format!("a stored op is unreadable: {e}"),
            )
        })?;
        entries.push(FeedEntry { seq, op });
    }
    let more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    let next = entries.last().map_or(since, |e| e.seq);
    Ok(ChangesResponse {
        changes: entries,
        next,
        more,
    })
}

/// The live entries of a playlist of `user` in order, as (entry id, track id); for tests and the
/// browser and Subsonic views to come.
pub fn playlist_entries(
    conn: &Connection,
    user: UserId,
    playlist: &str,
) -> Result<Vec<(String, String)>> {
    let mut stmt = conn
        .prepare(
            "SELECT item, track FROM playlist_items
             WHERE user_id = ?1 AND playlist = ?2 AND (removed_hlc IS NULL OR removed_hlc < hlc)
             ORDER BY order_key, item",
        )
        .ctx("listing a playlist")?;
    let rows = stmt
        .query_map(params![user.0, playlist], |r| Ok((r.get(0)?, r.get(1)?)))
        .ctx("listing a playlist")?;
    rows.collect::<rusqlite::Result<_>>()
        .ctx("listing a playlist")
}

/// A track field of `user`'s track, as JSON, if set.
pub fn track_field(
    conn: &Connection,
    user: UserId,
    track: &str,
    field: &str,
) -> Result<Option<serde_json::Value>> {
    let value: Option<String> = conn
        .query_row(
            "SELECT value FROM track_fields WHERE user_id = ?1 AND uid = ?2 AND field = ?3",
            params![user.0, track, field],
            |r| r.get(0),
        )
        .optional()
        .ctx("reading a track field")?;
    value
        .map(|v| {
            serde_json::from_str(&v).map_err(|e| Error::api(ErrorCode::Internal, e.to_string()))
        })
        .transpose()
}

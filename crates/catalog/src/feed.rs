//! Applying the locker's change feed: the other half of sync (DESIGN.md, data flow 4), after the
//! outbox ([`crate::sync`]).
//!
//! Every field a synced change can set is a last-writer-wins register (`sync_registers`): the
//! value with the greatest stamp seen, and that stamp. A change, local or from the feed, writes
//! its registers; a register it loses leaves the catalog as it is. So every device that has seen
//! the same ops holds the same values, whatever order it saw them in:
//!
//! - track fields (`loved`, the tags of a track only in the locker) and ratings;
//! - a playlist's name, and whether it is deleted (a playlist lives while its name is newer
//!   than its deletion);
//! - a playlist entry's (playlist, track, order key), and whether it is removed (likewise);
//! - plays, a set of events: each counts once, however often it comes back.
//!
//! Entries sort by (order key, entry uid), the same on every device, so two devices that insert
//! at the same place at once agree on the order and lose neither entry.
//!
//! A track set with a blob that this catalog does not have becomes a track row in the locker
//! ([`crate::Availability::Locker`]); if a track here has the same `audio_id`, the remote uid
//! becomes an alias of it instead, so a recording on disk and in the locker is one row. An entry
//! or a play naming a track or playlist not (yet) here is kept in its registers and placed when
//! they arrive.
//!
//! **Architecture Invariant:** a track that has a local file takes its tags from the file: synced
//! tag fields only describe tracks that exist here only in the locker.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use skylark_locker_api::ops::MAX_LYRICS_FIELD_BYTES;
use skylark_tags::{AudioProperties, Codec, FileInfo, MusicBrainzIds, ReplayGain, Tags};

use crate::Catalog;
use crate::error::{DbContext, Error, Result};
use crate::model::{TrackId, new_uid, to_millis};
use crate::store::{Store, TrackRecord};
use crate::sync::{self, Stamp, SyncChange};

/// An op from the locker's change feed.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteOp {
    /// The op's id.
    pub id: String,
    /// When it was made, and by which device.
    pub hlc: Stamp,
    /// What changed.
    pub change: SyncChange,
}

/// What applying a page of the feed did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FeedReport {
    /// Ops read.
    pub ops: u64,
    /// Tracks that came into the catalog from the locker.
    pub tracks_added: u64,
    /// Locker tracks found to be a recording already here (the same `audio_id`), now one row.
    pub tracks_joined: u64,
    /// Plays counted.
    pub plays_added: u64,
    /// Playlists created, renamed or deleted.
    pub playlists_changed: u64,
    /// Playlist entries placed, moved or removed.
    pub entries_changed: u64,
    /// Tracks taken out of the locker (gone from here when they had no file here).
    pub tracks_removed: u64,
}

impl std::ops::AddAssign for FeedReport {
    fn add_assign(&mut self, other: FeedReport) {
        self.ops += other.ops;
        self.tracks_added += other.tracks_added;
        self.tracks_joined += other.tracks_joined;
        self.plays_added += other.plays_added;
        self.playlists_changed += other.playlists_changed;
        self.entries_changed += other.entries_changed;
        self.tracks_removed += other.tracks_removed;
    }
}

/// A track scan and match has to look at ([`Catalog::tracks_to_match`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchCandidate {
    /// The track.
    pub track: TrackId,
    /// Its file.
    pub path: std::path::PathBuf,
    /// The file's size in bytes.
    pub size: u64,
    /// The file's BLAKE3, hex, if it was hashed since it last changed.
    pub file_hash: Option<String>,
    /// The track's audio id, hex, with the file hash (`None` also for formats without one).
    pub audio_id: Option<String>,
}

/// A stamp as text that sorts like stamps do (as the locker keeps them).
pub(crate) fn stamp_text(stamp: &Stamp) -> String {
    format!(
        "{:020}:{:010}:{}",
        stamp.wall_ms.max(0),
        stamp.counter,
        stamp.device
    )
}

/// A playlist entry's placement, the value of its `set` register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Placement {
    playlist: String,
    track: String,
    order_key: String,
}

/// Sets register (`kind`, `key`, `field`) to `value` if `stamp` is newer than what it holds.
/// True if it did.
fn set_register(
    conn: &Connection,
    (kind, key, field): (&str, &str, &str),
    value: &str,
    stamp: &str,
) -> Result<bool> {
    let changed = conn
        .prepare_cached(
            "INSERT INTO sync_registers(kind, key, field, value, stamp) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(kind, key, field) DO UPDATE SET value = excluded.value, stamp = excluded.stamp
             WHERE excluded.stamp > sync_registers.stamp",
        )
        .and_then(|mut s| s.execute(params![kind, key, field, value, stamp]))
        .ctx("writing a sync register")?;
    Ok(changed > 0)
}

/// The stamp register (`kind`, `key`, `field`) holds, if it was ever written.
fn register_stamp(
    conn: &Connection,
    (kind, key, field): (&str, &str, &str),
) -> Result<Option<String>> {
    conn.prepare_cached(
        "SELECT stamp FROM sync_registers WHERE kind = ?1 AND key = ?2 AND field = ?3",
    )
    .and_then(|mut s| {
        s.query_row(params![kind, key, field], |r| r.get(0))
            .optional()
    })
    .ctx("reading a sync register")
}

/// Whether the register `alive` is newer than the register `dead` (a name against a deletion,
/// a placement against a removal).
fn outlives(conn: &Connection, kind: &str, key: &str, alive: &str, dead: &str) -> Result<bool> {
    let alive = register_stamp(conn, (kind, key, alive))?;
    let dead = register_stamp(conn, (kind, key, dead))?;
    Ok(match (alive, dead) {
        (Some(alive), Some(dead)) => alive > dead,
        (Some(_), None) => true,
        (None, _) => false,
    })
}

/// The track a uid names here: its own or an alias.
pub(crate) fn track_by_uid(conn: &Connection, uid: &str) -> Result<Option<TrackId>> {
    conn.prepare_cached(
        "SELECT id FROM tracks WHERE uid = ?1
         UNION ALL SELECT track_id FROM track_aliases WHERE uid = ?1 LIMIT 1",
    )
    .and_then(|mut s| s.query_row([uid], |r| r.get(0)).optional())
    .ctx("looking up a track")
    .map(|id| id.map(TrackId))
}

fn playlist_by_uid(conn: &Connection, uid: &str) -> Result<Option<i64>> {
    conn.prepare_cached("SELECT id FROM playlists WHERE uid = ?1")
        .and_then(|mut s| s.query_row([uid], |r| r.get(0)).optional())
        .ctx("looking up a playlist")
}

fn json_text(value: &impl Serialize) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| Error::InvalidInput(format!("a synced value cannot be written: {e}")))
}

/// Writes the registers `change` sets, with `stamp`, and returns the fields whose registers it
/// won (for a track: its field names and `blob`; for a playlist `name` or `deleted`; for an
/// entry `set` or `removed`). A play sets no register: plays are a set, not a value.
fn write_registers(conn: &Connection, change: &SyncChange, stamp: &str) -> Result<Vec<String>> {
    let mut won = Vec::new();
    let mut write = |register: (&str, &str, &str), value: &str| -> Result<()> {
        if set_register(conn, register, value, stamp)? {
            won.push(register.2.to_owned());
        }
        Ok(())
    };
    match change {
        SyncChange::TrackSet {
            track,
            blob,
            fields,
        } => {
            for (field, value) in fields {
                write(("track", track, field), &value.to_string())?;
            }
            if let Some(blob) = blob {
                write(("track", track, "blob"), &json_text(blob)?)?;
            }
        }
        SyncChange::TrackDelete { track } => {
            write(("track", track, "deleted"), "true")?;
        }
        SyncChange::Rating { track, rating } => {
            write(("track", track, "rating"), &(*rating).min(100).to_string())?;
        }
        SyncChange::Play { .. } => {}
        SyncChange::PlaylistSet { playlist, name } => {
            write(("playlist", playlist, "name"), &json_text(name)?)?;
        }
        SyncChange::PlaylistDelete { playlist } => {
            write(("playlist", playlist, "deleted"), "true")?;
        }
        SyncChange::PlaylistItemSet {
            playlist,
            item,
            track,
            order_key,
        } => {
            let placement = Placement {
                playlist: playlist.clone(),
                track: track.clone(),
                order_key: order_key.clone(),
            };
            write(("item", item, "set"), &json_text(&placement)?)?;
        }
        SyncChange::PlaylistItemRemove { item, .. } => {
            write(("item", item, "removed"), "true")?;
        }
    }
    Ok(won)
}

/// Writes the registers a change made on this device sets, with its stamp: it is the newest
/// change this device knows of, so it takes every register it names. Called by
/// [`sync::record`], in the change's transaction.
pub(crate) fn note_local(conn: &Connection, change: &SyncChange, stamp: &str) -> Result<()> {
    write_registers(conn, change, stamp).map(drop)
}

/// The fields a track in the locker carries, named like the catalog's columns (and as
/// docs/subsonic.md lists them for the locker's Subsonic side).
const TEXT_FIELDS: [&str; 16] = [
    "title",
    "artist",
    "album",
    "album_artist",
    "date",
    "genre",
    "composer",
    "codec",
    "audio_id",
    "mb_recording_id",
    "mb_track_id",
    "mb_release_id",
    "mb_release_group_id",
    "mb_artist_id",
    "mb_release_artist_id",
    "cover_hash",
];

/// Applies one op from the feed: its registers, then what the registers it won change here.
fn apply_one(
    tx: &Transaction<'_>,
    store: &mut Store,
    op: &RemoteOp,
    now: SystemTime,
    report: &mut FeedReport,
    offline_dir: &Path,
) -> Result<()> {
    let won = write_registers(tx, &op.change, &stamp_text(&op.hlc))?;
    if won.is_empty() && !matches!(op.change, SyncChange::Play { .. }) {
        // Nothing newer than what is here (this device's own op, coming back, among others).
        return Ok(());
    }
    match &op.change {
        SyncChange::TrackSet {
            track,
            blob,
            fields,
        } => {
            let Some(id) = track_by_uid(tx, track)? else {
                return materialize_track(tx, store, track, now, report);
            };
            if won.iter().any(|f| f == "loved") {
                let loved = fields
                    .get("loved")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                tx.execute(
                    "UPDATE tracks SET loved = ?2 WHERE id = ?1",
                    params![id, loved],
                )
                .ctx("marking a track loved")?;
            }
            if let Some(blob) = blob.as_deref().filter(|_| won.iter().any(|f| f == "blob"))
                && !deleted_after_blob(tx, track)?
            {
                set_locker_copy(tx, id, blob)?;
            }
            let won_history: BTreeMap<String, Value> = fields
                .iter()
                .filter(|(name, _)| HISTORY_FIELDS.contains(&name.as_str()) && won.contains(name))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            take_history(tx, id, &won_history)?;
            let tags_changed = won
                .iter()
                .any(|f| f != "loved" && f != "blob" && !HISTORY_FIELDS.contains(&f.as_str()));
            if tags_changed && !has_files(tx, id)? {
                let record = record_from_registers(tx, track)?;
                store.update_track(tx, id, &record, now)?;
                attach_known_cover(tx, id, fields.get("cover_hash").and_then(Value::as_str))?;
            }
        }
        SyncChange::TrackDelete { track } => {
            if deleted_after_blob(tx, track)?
                && let Some(id) = track_by_uid(tx, track)?
                && drop_locker_copy(tx, id, offline_dir)?
            {
                report.tracks_removed += 1;
            }
        }
        SyncChange::Rating { track, rating } => {
            if let Some(id) = track_by_uid(tx, track)? {
                tx.execute(
                    "UPDATE tracks SET rating = ?2 WHERE id = ?1",
                    params![id, (*rating).min(100)],
                )
                .ctx("rating a track")?;
            }
        }
        SyncChange::Play { track, at } => match track_by_uid(tx, track)? {
            Some(id) => report.plays_added += u64::from(count_play(tx, id, *at, &op.id)?),
            None => park(tx, track, "play", &op.id, Some(*at))?,
        },
        SyncChange::PlaylistSet { playlist, .. } | SyncChange::PlaylistDelete { playlist } => {
            report.playlists_changed += u64::from(settle_playlist(tx, playlist, now)?);
        }
        SyncChange::PlaylistItemSet { item, .. } | SyncChange::PlaylistItemRemove { item, .. } => {
            report.entries_changed += u64::from(settle_item(tx, item, now)?);
        }
    }
    Ok(())
}

/// Gives track `id` the cover `hash` names, if this catalog holds that cover (else it waits for
/// [`Catalog::add_cover`]).
fn attach_known_cover(conn: &Connection, id: TrackId, hash: Option<&str>) -> Result<()> {
    if let Some(hash) = hash {
        conn.prepare_cached(
            "UPDATE tracks SET cover_hash = ?2 WHERE id = ?1
             AND EXISTS (SELECT 1 FROM covers WHERE hash = ?2)",
        )
        .and_then(|mut s| s.execute(params![id, hash]))
        .ctx("giving a track its cover")?;
    }
    Ok(())
}

fn has_files(conn: &Connection, id: TrackId) -> Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM files WHERE track_id = ?1)")
        .and_then(|mut s| s.query_row([id], |r| r.get(0)))
        .ctx("looking for a track's files")
}

fn set_locker_copy(conn: &Connection, id: TrackId, blob: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO locker_tracks(track_id, blob) VALUES (?1, ?2)
         ON CONFLICT(track_id) DO UPDATE SET blob = excluded.blob",
    )
    .and_then(|mut s| s.execute(params![id, blob]))
    .ctx("recording a track's locker copy")?;
    Ok(())
}

/// Whether track `uid` was taken out of the locker after its file was last put there (the
/// locker's rule: a track shows while its blob is newer than its deletion).
fn deleted_after_blob(conn: &Connection, uid: &str) -> Result<bool> {
    let Some(deleted) = register_stamp(conn, ("track", uid, "deleted"))? else {
        return Ok(false);
    };
    Ok(register_stamp(conn, ("track", uid, "blob"))?.is_none_or(|blob| deleted > blob))
}

/// Forgets track `id`'s locker copy; a track with no file here goes altogether, with its offline
/// copy (its file in `offline_dir` too). Returns whether it had a locker copy.
pub(crate) fn drop_locker_copy(conn: &Connection, id: TrackId, offline_dir: &Path) -> Result<bool> {
    let had = conn
        .prepare_cached("DELETE FROM locker_tracks WHERE track_id = ?1")
        .and_then(|mut s| s.execute([id]))
        .ctx("forgetting a locker copy")?
        > 0;
    if !has_files(conn, id)? {
        let offline: Option<String> = conn
            .prepare_cached("SELECT file FROM offline WHERE track_id = ?1")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
            .ctx("forgetting a locker track")?;
        conn.prepare_cached("DELETE FROM tracks WHERE id = ?1")
            .and_then(|mut s| s.execute([id]))
            .ctx("forgetting a locker track")?;
        if let Some(file) = offline {
            // A copy of what is no longer anyone's: if the change were rolled back, the copy
            // would just be fetched again.
            let _ = std::fs::remove_file(offline_dir.join(file));
        }
    }
    Ok(had)
}

/// Counts a play of `id` that op `op_id` reported, unless it was counted already.
fn count_play(conn: &Connection, id: TrackId, at: i64, op_id: &str) -> Result<bool> {
    let added = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO plays(track_id, played_at, op_id) VALUES (?1, ?2, ?3)",
        )
        .and_then(|mut s| s.execute(params![id, at, op_id]))
        .ctx("recording a play")?;
    if added > 0 {
        conn.prepare_cached(
            "UPDATE tracks SET play_count = play_count + 1, last_played_at = max(last_played_at, ?2)
             WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![id, at]))
        .ctx("recording a play")?;
    }
    Ok(added > 0)
}

/// A track's fields as its registers hold them.
fn track_registers(conn: &Connection, uid: &str) -> Result<BTreeMap<String, Value>> {
    let mut stmt = conn
        .prepare_cached("SELECT field, value FROM sync_registers WHERE kind = 'track' AND key = ?1")
        .ctx("reading a track's registers")?;
    let rows = stmt
        .query_map([uid], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .ctx("reading a track's registers")?;
    let mut fields = BTreeMap::new();
    for row in rows {
        let (field, value) = row.ctx("reading a track's registers")?;
        // Values were written from JSON; one that no longer parses is left out.
        if let Ok(value) = serde_json::from_str(&value) {
            fields.insert(field, value);
        }
    }
    Ok(fields)
}

/// The catalog record of a locker track, from its fields.
fn record_from_registers(conn: &Connection, uid: &str) -> Result<TrackRecord> {
    Ok(record_from_fields(&track_registers(conn, uid)?))
}

fn record_from_fields(fields: &BTreeMap<String, Value>) -> TrackRecord {
    let text = |name: &str| {
        fields
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let list = |many: &str, one: &str| -> Vec<String> {
        match fields.get(many).and_then(Value::as_array) {
            Some(items) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            None => text(one).into_iter().collect(),
        }
    };
    let number = |name: &str| fields.get(name).and_then(Value::as_i64);
    let small = |name: &str| {
        number(name)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
    };
    let real = |name: &str| fields.get(name).and_then(Value::as_f64).map(|v| v as f32);
    let tags = Tags {
        title: text("title"),
        artists: list("artists", "artist"),
        // The credit as the publishing device showed it, when the artists came listed apart.
        artist_credit: fields
            .get("artists")
            .is_some_and(Value::is_array)
            .then(|| text("artist"))
            .flatten(),
        album: text("album"),
        album_artist: text("album_artist"),
        track_no: small("track_no"),
        track_total: small("track_total"),
        disc_no: small("disc_no"),
        disc_total: small("disc_total"),
        date: text("date"),
        year: number("year")
            .and_then(|y| i32::try_from(y).ok())
            .filter(|y| *y != 0),
        genres: list("genres", "genre"),
        compilation: fields
            .get("compilation")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        composers: text("composer").into_iter().collect(),
        replay_gain: ReplayGain {
            track_gain_db: real("rg_track_gain"),
            track_peak: real("rg_track_peak"),
            album_gain_db: real("rg_album_gain"),
            album_peak: real("rg_album_peak"),
        },
        musicbrainz: MusicBrainzIds {
            recording_id: text("mb_recording_id"),
            track_id: text("mb_track_id"),
            release_id: text("mb_release_id"),
            release_group_id: text("mb_release_group_id"),
            artist_id: text("mb_artist_id"),
            release_artist_id: text("mb_release_artist_id"),
        },
        ..Tags::default()
    };
    let properties = AudioProperties {
        duration: Duration::from_millis(
            number("duration_ms")
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0),
        ),
        sample_rate: small("sample_rate"),
        channels: small("channels").and_then(|n| u8::try_from(n).ok()),
        bit_depth: small("bit_depth").and_then(|n| u8::try_from(n).ok()),
        bitrate_kbps: small("bitrate_kbps"),
        codec: text("codec").map_or(Codec::Unknown, |c| Codec::from_name(&c)),
    };
    let info = FileInfo {
        tags,
        properties,
        cover: None,
    };
    // No file: the title falls back on nothing but the tags.
    TrackRecord::new(Path::new(""), info, None)
}

/// A track uid this catalog has no row for: if its registers name a blob, it is in the locker.
/// Joins it to the track here with the same `audio_id`, or adds it as a locker track.
fn materialize_track(
    tx: &Transaction<'_>,
    store: &mut Store,
    uid: &str,
    now: SystemTime,
    report: &mut FeedReport,
) -> Result<()> {
    if deleted_after_blob(tx, uid)? {
        // Taken out of the locker after its file was put there: nothing here to show.
        return Ok(());
    }
    let fields = track_registers(tx, uid)?;
    let Some(blob) = fields
        .get("blob")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        // Fields of a track on another device's disk only: nothing here can play it.
        return Ok(());
    };
    let same_audio = match fields.get("audio_id").and_then(Value::as_str) {
        Some(audio_id) => tx
            .prepare_cached("SELECT id FROM tracks WHERE audio_id = ?1 ORDER BY id LIMIT 1")
            .and_then(|mut s| s.query_row([audio_id], |r| r.get(0)).optional())
            .ctx("matching a locker track")?
            .map(TrackId),
        None => None,
    };
    let id = match same_audio {
        Some(id) => {
            tx.execute(
                "INSERT OR IGNORE INTO track_aliases(uid, track_id) VALUES (?1, ?2)",
                params![uid, id],
            )
            .ctx("joining a locker track")?;
            report.tracks_joined += 1;
            id
        }
        None => {
            let record = record_from_fields(&fields);
            let id = store.insert_track(tx, &record, now)?;
            // The row takes the uid every device knows the track by, and the audio id a copy
            // found on this disk later is joined by.
            tx.execute(
                "UPDATE tracks SET uid = ?2, audio_id = ?3 WHERE id = ?1",
                params![id, uid, fields.get("audio_id").and_then(Value::as_str)],
            )
            .ctx("adding a locker track")?;
            report.tracks_added += 1;
            id
        }
    };
    set_locker_copy(tx, id, &blob)?;
    if same_audio.is_none() {
        attach_known_cover(tx, id, fields.get("cover_hash").and_then(Value::as_str))?;
    }
    let loved = fields
        .get("loved")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let rating = fields
        .get("rating")
        .and_then(Value::as_u64)
        .map_or(0, |r| r.min(100));
    // On a join, the registers of the uid here hold their own values; the newer of the two
    // copies wins field by field the next time either changes.
    if same_audio.is_none() {
        tx.execute(
            "UPDATE tracks SET loved = ?2, rating = ?3 WHERE id = ?1",
            params![id, loved, rating],
        )
        .ctx("adding a locker track")?;
        take_history(tx, id, &fields)?;
    }
    // Plays and entries that named it before it arrived.
    place_parked(tx, uid, Some(id), now, report)?;
    Ok(())
}

/// The fields that carry the history another player had when a device imported it.
const HISTORY_FIELDS: [&str; 2] = ["imported_play_count", "imported_last_played"];

/// Takes imported history from `fields` into track `id`: an imported play count replaces the
/// one taken before (plays made here stay counted beside it), an imported last play counts if
/// it is later than the last play known here.
fn take_history(tx: &Transaction<'_>, id: TrackId, fields: &BTreeMap<String, Value>) -> Result<()> {
    if let Some(count) = fields.get("imported_play_count").and_then(Value::as_i64) {
        tx.execute(
            "UPDATE tracks SET play_count = max(play_count - imported_play_count, 0) + ?2,
                imported_play_count = ?2 WHERE id = ?1",
            params![id, count.max(0)],
        )
        .ctx("taking imported plays")?;
    }
    if let Some(at) = fields
        .get("imported_last_played")
        .and_then(Value::as_i64)
        .filter(|&at| at > 0)
    {
        tx.execute(
            "UPDATE tracks SET last_played_at = max(last_played_at, ?2) WHERE id = ?1",
            params![id, at],
        )
        .ctx("taking an imported last play")?;
    }
    Ok(())
}

/// Keeps `key` (an entry, or a play with its time) until `reference` (a track or playlist uid)
/// is here.
fn park(
    conn: &Connection,
    reference: &str,
    kind: &str,
    key: &str,
    value: Option<i64>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO sync_parked(ref, kind, key, value) VALUES (?1, ?2, ?3, ?4)",
    )
    .and_then(|mut s| s.execute(params![reference, kind, key, value]))
    .ctx("keeping a change for later")?;
    Ok(())
}

/// Places what waited for `reference`, which is here now (as `track`, if it is a track).
fn place_parked(
    tx: &Transaction<'_>,
    reference: &str,
    track: Option<TrackId>,
    now: SystemTime,
    report: &mut FeedReport,
) -> Result<()> {
    let parked: Vec<(String, String, Option<i64>)> = {
        let mut stmt = tx
            .prepare_cached("SELECT kind, key, value FROM sync_parked WHERE ref = ?1")
            .ctx("reading parked changes")?;
        let rows = stmt
            .query_map([reference], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .ctx("reading parked changes")?;
        rows.collect::<rusqlite::Result<_>>()
            .ctx("reading parked changes")?
    };
    if parked.is_empty() {
        return Ok(());
    }
    tx.prepare_cached("DELETE FROM sync_parked WHERE ref = ?1")
        .and_then(|mut s| s.execute([reference]))
        .ctx("placing parked changes")?;
    for (kind, key, value) in parked {
        match (kind.as_str(), track, value) {
            ("play", Some(track), Some(at)) => {
                report.plays_added += u64::from(count_play(tx, track, at, &key)?);
            }
            ("item", _, _) => report.entries_changed += u64::from(settle_item(tx, &key, now)?),
            _ => {}
        }
    }
    Ok(())
}

/// Makes playlist `uid` here match its registers: present with its name while the name is newer
/// than its deletion, absent otherwise. True if anything changed.
fn settle_playlist(tx: &Transaction<'_>, uid: &str, now: SystemTime) -> Result<bool> {
    let existing = playlist_by_uid(tx, uid)?;
    if !outlives(tx, "playlist", uid, "name", "deleted")? {
        let Some(id) = existing else {
            return Ok(false);
        };
        tx.execute("DELETE FROM playlists WHERE id = ?1", [id])
            .ctx("deleting a playlist")?;
        return Ok(true);
    }
    let name: String = tx
        .query_row(
            "SELECT value FROM sync_registers WHERE kind = 'playlist' AND key = ?1 AND field = 'name'",
            [uid],
            |r| r.get(0),
        )
        .ctx("reading a playlist's name")?;
    let name: String = serde_json::from_str(&name).unwrap_or_default();
    let name = name.trim();
    let name = if name.is_empty() {
        "Untitled Playlist"
    } else {
        name
    };
    match existing {
        Some(id) => {
            tx.execute(
                "UPDATE playlists SET name = ?2, updated_at = ?3 WHERE id = ?1 AND name <> ?2",
                params![id, name, to_millis(now)],
            )
            .ctx("renaming a playlist")?;
        }
        None => {
            tx.execute(
                "INSERT INTO playlists(uid, name, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
                params![uid, name, to_millis(now)],
            )
            .ctx("adding a playlist")?;
            // Entries that came before it.
            place_parked(tx, uid, None, now, &mut FeedReport::default())?;
            if register_stamp(tx, ("playlist", uid, "deleted"))?.is_some() {
                // Brought back by a rename newer than its deletion: its entries went with the
                // row, and their registers still place them.
                let items: Vec<String> = {
                    let mut stmt = tx
                        .prepare(
                            "SELECT key FROM sync_registers WHERE kind = 'item' AND field = 'set'
                             AND json_extract(value, '$.playlist') = ?1",
                        )
                        .ctx("reading a playlist's entries")?;
                    let rows = stmt
                        .query_map([uid], |r| r.get(0))
                        .ctx("reading a playlist's entries")?;
                    rows.collect::<rusqlite::Result<_>>()
                        .ctx("reading a playlist's entries")?
                };
                for item in items {
                    settle_item(tx, &item, now)?;
                }
            }
        }
    }
    Ok(true)
}

/// Makes entry `uid` here match its registers: placed while its placement is newer than its
/// removal and its playlist and track are here, absent otherwise. True if anything changed.
fn settle_item(tx: &Transaction<'_>, uid: &str, now: SystemTime) -> Result<bool> {
    let existing: Option<i64> = tx
        .prepare_cached("SELECT id FROM playlist_items WHERE uid = ?1")
        .and_then(|mut s| s.query_row([uid], |r| r.get(0)).optional())
        .ctx("looking up a playlist entry")?;
    let placement = if outlives(tx, "item", uid, "set", "removed")? {
        let value: String = tx
            .query_row(
                "SELECT value FROM sync_registers WHERE kind = 'item' AND key = ?1 AND field = 'set'",
                [uid],
                |r| r.get(0),
            )
            .ctx("reading a playlist entry")?;
        serde_json::from_str::<Placement>(&value).ok()
    } else {
        None
    };
    let target = match &placement {
        Some(p) => match (
            playlist_by_uid(tx, &p.playlist)?,
            track_by_uid(tx, &p.track)?,
        ) {
            (Some(playlist), Some(track)) => Some((playlist, track, p.order_key.as_str())),
            (playlist, track) => {
                // Placed once what it names arrives (a playlist deleted here for good never
                // does: its registers say so).
                if playlist.is_none() {
                    park(tx, &p.playlist, "item", uid, None)?;
                }
                if track.is_none() {
                    park(tx, &p.track, "item", uid, None)?;
                }
                None
            }
        },
        None => None,
    };
    match (existing, target) {
        (None, None) => Ok(false),
        (Some(id), None) => {
            tx.execute("DELETE FROM playlist_items WHERE id = ?1", [id])
                .ctx("removing a playlist entry")?;
            Ok(true)
        }
        (Some(id), Some((playlist, track, key))) => {
            tx.execute(
                "UPDATE playlist_items SET playlist_id = ?2, track_id = ?3, order_key = ?4 WHERE id = ?1",
                params![id, playlist, track, key],
            )
            .ctx("moving a playlist entry")?;
            Ok(true)
        }
        (None, Some((playlist, track, key))) => {
            tx.execute(
                "INSERT INTO playlist_items(uid, playlist_id, track_id, order_key, added_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![uid, playlist, track, key, to_millis(now)],
            )
            .ctx("placing a playlist entry")?;
            Ok(true)
        }
    }
}

/// The fields a track carries into the locker, read from its row: what another device needs to
/// list, sort, search and play it.
fn published_fields(conn: &Connection, id: TrackId) -> Result<BTreeMap<String, Value>> {
    let context = "reading a track to publish";
    let mut fields = BTreeMap::new();
    conn.query_row(
        "SELECT t.title, t.artist, al.title, aa.name, t.date, t.genre, t.composer, t.codec,
                t.audio_id, t.mb_recording_id, t.mb_track_id, t.mb_release_id,
                t.mb_release_group_id, t.mb_artist_id, t.mb_release_artist_id, t.cover_hash,
                t.track_no, t.track_total, t.disc_no, t.disc_total, t.year, t.duration_ms,
                t.sample_rate, t.channels, t.bit_depth, t.bitrate_kbps,
                t.rg_track_gain, t.rg_track_peak, t.rg_album_gain, t.rg_album_peak,
                t.loved, al.compilation
         FROM tracks t JOIN albums al ON al.id = t.album_id JOIN artists aa ON aa.id = al.artist_id
         WHERE t.id = ?1",
        [id],
        |r| {
            for (i, name) in TEXT_FIELDS.iter().enumerate() {
                if let Some(v) = r.get::<_, Option<String>>(i)? {
                    fields.insert((*name).to_owned(), Value::from(v));
                }
            }
            let numbers = [
                "track_no",
                "track_total",
                "disc_no",
                "disc_total",
                "year",
                "duration_ms",
                "sample_rate",
                "channels",
                "bit_depth",
                "bitrate_kbps",
            ];
            for (i, name) in numbers.iter().enumerate() {
                if let Some(v) = r.get::<_, Option<i64>>(TEXT_FIELDS.len() + i)?
                    && (v != 0 || *name == "duration_ms")
                {
                    fields.insert((*name).to_owned(), Value::from(v));
                }
            }
            let reals = [
                "rg_track_gain",
                "rg_track_peak",
                "rg_album_gain",
                "rg_album_peak",
            ];
            let first_real = TEXT_FIELDS.len() + numbers.len();
            for (i, name) in reals.iter().enumerate() {
                if let Some(v) = r.get::<_, Option<f64>>(first_real + i)? {
                    fields.insert((*name).to_owned(), Value::from(v));
                }
            }
            let at = first_real + reals.len();
            fields.insert("loved".to_owned(), Value::from(r.get::<_, bool>(at)?));
            fields.insert(
                "compilation".to_owned(),
                Value::from(r.get::<_, bool>(at + 1)?),
            );
            Ok(())
        },
    )
    .optional()
    .ctx(context)?
    .ok_or_else(|| Error::NotFound {
        kind: "track",
        id: id.to_string(),
    })?;
    for (name, sql) in [
        (
            "artists",
            "SELECT a.name FROM track_artists ta JOIN artists a ON a.id = ta.artist_id
             WHERE ta.track_id = ?1 ORDER BY ta.position",
        ),
        (
            "genres",
            "SELECT g.name FROM track_genres tg JOIN genres g ON g.id = tg.genre_id
             WHERE tg.track_id = ?1 ORDER BY tg.position",
        ),
    ] {
        let mut stmt = conn.prepare_cached(sql).ctx(context)?;
        let names: Vec<String> = stmt
            .query_map([id], |r| r.get(0))
            .ctx(context)?
            .collect::<rusqlite::Result<_>>()
            .ctx(context)?;
        fields.insert(name.to_owned(), Value::from(names));
    }
    if let Some(text) = sidecar_lyrics(conn, id)? {
        fields.insert("lyrics".to_owned(), Value::from(text));
    }
    Ok(fields)
}

/// The text of the LRC file beside `id`'s file on this device, if it has one with lyrics in it
/// and it fits a track field ([`MAX_LYRICS_FIELD_BYTES`]): the locker's copy of the song has no
/// folder to keep it in, so it travels as the track's `lyrics` field (lyrics in the file's tags
/// travel with the file). An unreadable LRC file is left out, not an error: publishing the
/// track matters more.
fn sidecar_lyrics(conn: &Connection, id: TrackId) -> Result<Option<String>> {
    let path: Option<Vec<u8>> = conn
        .prepare_cached(
            "SELECT f.path FROM files f JOIN roots r ON r.id = f.root_id WHERE f.track_id = ?1
             ORDER BY r.reachable DESC, f.id LIMIT 1",
        )
        .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
        .ctx("finding a track's file")?;
    let Some(path) = path.map(|bytes| crate::paths::from_bytes(&bytes)) else {
        return Ok(None);
    };
    match skylark_tags::read_lrc_file(&path) {
        Ok(Some(text))
            if skylark_tags::lrc_lyrics(&text).is_some()
                && Value::from(text.as_str()).to_string().len() <= MAX_LYRICS_FIELD_BYTES =>
        {
            Ok(Some(text))
        }
        Ok(_) => Ok(None),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read an LRC file to publish");
            Ok(None)
        }
    }
}

/// Publishes again what changed of the tracks in the locker that have a file here and were
/// written at or after `since_ms` (a rescan read new tags from their files, gave them a folder's
/// cover, or filed them under another album): for each, one op with the fields whose values
/// differ from the ones last published or heard of, and no blob (the locker keeps the copy it
/// has). Returns how many tracks were published again.
pub(crate) fn republish_changed(
    tx: &Transaction<'_>,
    since_ms: i64,
    now: SystemTime,
) -> Result<u64> {
    let context = "publishing changed tracks again";
    let tracks: Vec<(TrackId, String)> = {
        let mut stmt = tx
            .prepare_cached(
                "SELECT t.id, t.uid FROM locker_tracks lt JOIN tracks t ON t.id = lt.track_id
                 WHERE t.updated_at >= ?1
                   AND EXISTS (SELECT 1 FROM files f WHERE f.track_id = t.id)",
            )
            .ctx(context)?;
        let rows = stmt
            .query_map([since_ms], |r| Ok((TrackId(r.get(0)?), r.get(1)?)))
            .ctx(context)?;
        rows.collect::<rusqlite::Result<_>>().ctx(context)?
    };
    let mut republished = 0;
    for (id, uid) in tracks {
        let known = track_registers(tx, &uid)?;
        let mut fields = published_fields(tx, id)?;
        fields.retain(|name, value| known.get(name) != Some(value));
        if !fields.is_empty() {
            let change = SyncChange::TrackSet {
                track: uid,
                blob: None,
                fields,
            };
            sync::record(tx, &change, now)?;
            republished += 1;
        }
    }
    if republished > 0 {
        tracing::info!(tracks = republished, "changed tracks published again");
    }
    Ok(republished)
}

/// Records `track`'s locker copy `blob` and the op that publishes it, in `tx`.
pub(crate) fn publish(
    tx: &Transaction<'_>,
    track: TrackId,
    blob: &str,
    now: SystemTime,
) -> Result<()> {
    if blob.len() != 64 || !blob.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::InvalidInput(format!(
            "a blob is named by 64 hex digits, not {blob:?}"
        )));
    }
    let fields = published_fields(tx, track)?;
    let uid = sync::track_uid(tx, track.0)?;
    set_locker_copy(tx, track, blob)?;
    sync::record(
        tx,
        &SyncChange::TrackSet {
            track: uid,
            blob: Some(blob.to_owned()),
            fields,
        },
        now,
    )?;
    Ok(())
}

impl Catalog {
    /// The text of the LRC file a device found beside `track` and published with it (the
    /// track's `lyrics` field in the locker), as this device last heard it; `None` if none did.
    /// A song only in the locker has its lyrics here, not in a folder.
    ///
    /// # Errors
    ///
    /// The database cannot be read.
    pub fn published_lyrics(&self, track: TrackId) -> Result<Option<String>> {
        let value: Option<String> = self
            .conn()
            .prepare_cached(
                "SELECT r.value FROM sync_registers r JOIN tracks t ON t.uid = r.key
                 WHERE t.id = ?1 AND r.kind = 'track' AND r.field = 'lyrics'",
            )
            .and_then(|mut s| s.query_row([track], |r| r.get(0)).optional())
            .ctx("reading a track's published lyrics")?;
        Ok(value.and_then(|json| serde_json::from_str(&json).ok()))
    }

    /// Applies a page of the locker's change feed, in feed order, and moves the feed cursor to
    /// `cursor`, all in one transaction: a page is applied whole or not at all. Ops this device
    /// made come back too; applying them again changes nothing.
    pub fn apply_feed(
        &mut self,
        ops: &[RemoteOp],
        cursor: i64,
        now: SystemTime,
    ) -> Result<FeedReport> {
        let offline_dir = self.offline_dir();
        let tx = self
            .conn_mut()
            .transaction()
            .ctx("applying the change feed")?;
        let mut store = Store::default();
        let mut report = FeedReport::default();
        let mut latest: Option<(i64, u32)> = None;
        for op in ops {
            apply_one(&tx, &mut store, op, now, &mut report, &offline_dir)?;
            report.ops += 1;
            latest = latest.max(Some((op.hlc.wall_ms, op.hlc.counter)));
        }
        if let Some((wall, counter)) = latest {
            // The clock moves past every stamp seen, so this device's next change is newer.
            tx.execute(
                "UPDATE sync_state SET hlc_wall = ?1, hlc_counter = ?2
                 WHERE id = 1 AND (hlc_wall < ?1 OR (hlc_wall = ?1 AND hlc_counter < ?2))",
                params![wall, counter],
            )
            .ctx("applying the change feed")?;
        }
        tx.execute(
            "UPDATE sync_state SET feed_cursor = max(feed_cursor, ?1) WHERE id = 1",
            [cursor],
        )
        .ctx("applying the change feed")?;
        Store::collect_orphans(&tx)?;
        tx.commit().ctx("applying the change feed")?;
        Ok(report)
    }

    /// Takes `track` out of the locker, on every device: an op for each uid the locker may know
    /// it by (its own, and those of other devices' copies joined to it), and here its locker
    /// copy is forgotten; a track with no file here goes altogether, with its offline copy.
    /// Its files on this computer are not touched. Returns whether it was in the locker.
    pub fn remove_from_locker(&mut self, track: TrackId, now: SystemTime) -> Result<bool> {
        let offline_dir = self.offline_dir();
        let tx = self
            .conn_mut()
            .transaction()
            .ctx("taking a track out of the locker")?;
        let mut uids = vec![sync::track_uid(&tx, track.0)?];
        {
            let mut stmt = tx
                .prepare("SELECT uid FROM track_aliases WHERE track_id = ?1 ORDER BY uid")
                .ctx("taking a track out of the locker")?;
            let rows = stmt
                .query_map([track], |r| r.get(0))
                .ctx("taking a track out of the locker")?;
            for uid in rows {
                uids.push(uid.ctx("taking a track out of the locker")?);
            }
        }
        for uid in uids {
            sync::record(&tx, &SyncChange::TrackDelete { track: uid }, now)?;
        }
        let had = drop_locker_copy(&tx, track, &offline_dir)?;
        Store::collect_orphans(&tx)?;
        tx.commit().ctx("taking a track out of the locker")?;
        Ok(had)
    }

    /// Records that `track`'s file is in the locker as `blob` (the BLAKE3 hash of the file), and
    /// publishes the track to other devices: an op setting its blob and the fields they need to
    /// list, search and play it.
    pub fn set_in_locker(&mut self, track: TrackId, blob: &str, now: SystemTime) -> Result<()> {
        let tx = self
            .conn_mut()
            .transaction()
            .ctx("recording a locker copy")?;
        publish(&tx, track, blob, now)?;
        tx.commit().ctx("recording a locker copy")
    }

    /// Records the audio id of `track` (BLAKE3 over its audio packets, what the locker matches
    /// by). A track here only in the locker with the same audio id is the same recording: it
    /// becomes part of this one (its uid an alias of it; its locker copy, plays and playlist
    /// entries moved over; its rating and loved mark kept where this one has none). Returns
    /// whether such a track was joined.
    pub fn set_audio_id(&mut self, track: TrackId, audio_id: &str) -> Result<bool> {
        let context = "recording an audio id";
        let tx = self.conn_mut().transaction().ctx(context)?;
        let changed = tx
            .execute(
                "UPDATE tracks SET audio_id = ?2 WHERE id = ?1",
                params![track, audio_id],
            )
            .ctx(context)?;
        if changed == 0 {
            return Err(Error::NotFound {
                kind: "track",
                id: track.to_string(),
            });
        }
        let others: Vec<(i64, String)> = {
            let mut stmt = tx
                .prepare(
                    "SELECT t.id, t.uid FROM tracks t WHERE t.audio_id = ?1 AND t.id <> ?2
                     AND NOT EXISTS (SELECT 1 FROM files f WHERE f.track_id = t.id)",
                )
                .ctx(context)?;
            let rows = stmt
                .query_map(params![audio_id, track], |r| Ok((r.get(0)?, r.get(1)?)))
                .ctx(context)?;
            rows.collect::<rusqlite::Result<_>>().ctx(context)?
        };
        let joined = !others.is_empty();
        for (other, uid) in others {
            tx.execute(
                "INSERT OR IGNORE INTO track_aliases(uid, track_id) VALUES (?1, ?2)",
                params![uid, track],
            )
            .ctx(context)?;
            for sql in [
                "UPDATE track_aliases SET track_id = ?1 WHERE track_id = ?2",
                "INSERT OR IGNORE INTO locker_tracks(track_id, blob)
                     SELECT ?1, blob FROM locker_tracks WHERE track_id = ?2",
                "UPDATE playlist_items SET track_id = ?1 WHERE track_id = ?2",
                "UPDATE plays SET track_id = ?1 WHERE track_id = ?2",
                "UPDATE tracks SET
                     play_count = play_count + (SELECT play_count FROM tracks WHERE id = ?2),
                     last_played_at = max(last_played_at, (SELECT last_played_at FROM tracks WHERE id = ?2)),
                     rating = CASE WHEN rating = 0 THEN (SELECT rating FROM tracks WHERE id = ?2) ELSE rating END,
                     loved = loved OR (SELECT loved FROM tracks WHERE id = ?2)
                 WHERE id = ?1",
            ] {
                tx.execute(sql, params![track, other]).ctx(context)?;
            }
            Store::delete_track(&tx, TrackId(other))?;
        }
        if joined {
            Store::collect_orphans(&tx)?;
        }
        tx.commit().ctx(context)?;
        Ok(joined)
    }

    /// The tracks scan and match has to look at: each track with a file in a reachable root
    /// and no copy in the locker, with that file and the hashes kept for it. The hashes are
    /// kept until the file's size or modification time changes (a rescan clears them), so a
    /// file is hashed once however often matching runs.
    pub fn tracks_to_match(&self) -> Result<Vec<MatchCandidate>> {
        let context = "listing tracks to match";
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT t.id, f.path, f.size, f.file_hash, t.audio_id FROM tracks t
                 JOIN files f ON f.id = (SELECT f2.id FROM files f2 JOIN roots r ON r.id = f2.root_id
                                         WHERE f2.track_id = t.id AND r.reachable = 1
                                         ORDER BY f2.id LIMIT 1)
                 WHERE NOT EXISTS (SELECT 1 FROM locker_tracks lt WHERE lt.track_id = t.id)
                 ORDER BY t.id",
            )
            .ctx(context)?;
        let rows = stmt
            .query_map([], |r| {
                let file_hash: Option<String> = r.get(3)?;
                Ok(MatchCandidate {
                    track: TrackId(r.get(0)?),
                    path: crate::paths::from_bytes(&r.get::<_, Vec<u8>>(1)?),
                    size: r.get(2)?,
                    // The audio id is only as fresh as the file hash it was computed with.
                    audio_id: if file_hash.is_some() { r.get(4)? } else { None },
                    file_hash,
                })
            })
            .ctx(context)?;
        rows.collect::<rusqlite::Result<_>>().ctx(context)
    }

    /// Keeps the hashes of the file at `path` (its BLAKE3 `file_hash`, and the `audio_id` of its
    /// track, when its format has one) until the file changes; joins the track to a locker track
    /// with the same audio id (see [`Catalog::set_audio_id`]). Returns whether it joined one.
    pub fn record_hashes(
        &mut self,
        path: &std::path::Path,
        file_hash: &str,
        audio_id: Option<&str>,
    ) -> Result<bool> {
        let context = "keeping a file's hashes";
        let track: Option<i64> = self
            .conn()
            .query_row(
                "UPDATE files SET file_hash = ?2 WHERE path = ?1 RETURNING track_id",
                params![crate::paths::to_bytes(path), file_hash],
                |r| r.get(0),
            )
            .optional()
            .ctx(context)?;
        let Some(track) = track else {
            return Err(Error::NotFound {
                kind: "file",
                id: path.display().to_string(),
            });
        };
        match audio_id {
            Some(audio_id) => self.set_audio_id(TrackId(track), audio_id),
            None => Ok(false),
        }
    }

    /// The covers locker tracks name (the `cover_hash` other devices published) that this
    /// catalog does not hold: what to fetch from the locker.
    pub fn covers_wanted(&self) -> Result<Vec<String>> {
        let context = "listing covers to fetch";
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT DISTINCT json_extract(r.value, '$') FROM sync_registers r
                 WHERE r.kind = 'track' AND r.field = 'cover_hash'
                 AND json_type(r.value) = 'text'
                 AND NOT EXISTS (SELECT 1 FROM covers c WHERE c.hash = json_extract(r.value, '$'))",
            )
            .ctx(context)?;
        let rows = stmt.query_map([], |r| r.get(0)).ctx(context)?;
        rows.collect::<rusqlite::Result<_>>().ctx(context)
    }

    /// Takes in a cover fetched for `hash` (from [`Catalog::covers_wanted`]): stores the image
    /// and its thumbnails in the cover cache, and gives it to the tracks without a cover whose
    /// registers name it. Bytes that are not an image, or do not hash to `hash`, are refused.
    /// Returns how many tracks got it.
    pub fn add_cover(&mut self, hash: &str, bytes: Vec<u8>) -> Result<u64> {
        let Some(info) = self.covers().ingest(bytes) else {
            return Err(Error::InvalidInput(format!(
                "the cover {hash} is not an image Skylark can keep"
            )));
        };
        if info.hash != hash {
            return Err(Error::InvalidInput(format!(
                "the cover fetched for {hash} hashes to {}",
                info.hash
            )));
        }
        if let Err(e) = self.covers().make_thumbnails(&info) {
            tracing::warn!(cover = %hash, error = %e, "cannot make a cover's thumbnails");
        }
        let tx = self.conn_mut().transaction().ctx("adding a cover")?;
        tx.execute(
            "INSERT OR IGNORE INTO covers(hash, mime, width, height, bytes) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![info.hash, info.mime, info.width, info.height, info.bytes],
        )
        .ctx("adding a cover")?;
        let given = tx
            .execute(
                "UPDATE tracks SET cover_hash = ?1 WHERE cover_hash IS NULL AND id IN (
                     SELECT t.id FROM sync_registers r JOIN tracks t ON t.uid = r.key
                     WHERE r.kind = 'track' AND r.field = 'cover_hash' AND json_extract(r.value, '$') = ?1
                     UNION
                     SELECT a.track_id FROM sync_registers r JOIN track_aliases a ON a.uid = r.key
                     WHERE r.kind = 'track' AND r.field = 'cover_hash' AND json_extract(r.value, '$') = ?1)",
                [&info.hash],
            )
            .ctx("adding a cover")?;
        tx.commit().ctx("adding a cover")?;
        Ok(given as u64)
    }

    /// The blob holding `track`'s file in the locker, if it is there.
    pub fn locker_blob(&self, track: TrackId) -> Result<Option<String>> {
        self.conn()
            .prepare_cached("SELECT blob FROM locker_tracks WHERE track_id = ?1")
            .and_then(|mut s| s.query_row([track], |r| r.get(0)).optional())
            .ctx("reading a track's locker copy")
    }

    /// The track a uid names (its own, or another device's uid for the same recording).
    pub fn track_id_by_uid(&self, uid: &str) -> Result<Option<TrackId>> {
        track_by_uid(self.conn(), uid)
    }
}

/// A fresh op id for a change made here; the device id keeps ids of different devices apart.
pub(crate) fn new_op_id(device: &str) -> String {
    format!("{device}-{}", new_uid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_as_text_sort_like_stamps() {
        let s = |w, c, d: &str| {
            stamp_text(&Stamp {
                wall_ms: w,
                counter: c,
                device: d.to_owned(),
            })
        };
        assert!(s(9, 9, "z") < s(10, 0, "a"));
        assert!(s(10, 0, "z") < s(10, 1, "a"));
        assert!(s(10, 1, "a") < s(10, 1, "b"));
    }

    #[test]
    fn a_locker_track_record_takes_its_fields() {
        let fields: BTreeMap<String, Value> = serde_json::from_value(serde_json::json!({
            "title": "Hoppípolla", "artists": ["Sigur Rós"], "album": "Takk...",
            "album_artist": "Sigur Rós", "track_no": 2, "year": 2005, "genres": ["Post-rock"],
            "duration_ms": 268000, "codec": "flac", "sample_rate": 44100, "rg_track_gain": -7.5
        }))
        .unwrap();
        let record = record_from_fields(&fields);
        assert_eq!(record.title, "Hoppípolla");
        assert_eq!(record.artists, ["Sigur Rós"]);
        assert_eq!(record.album, "Takk...");
        assert_eq!(record.track_no, 2);
        assert_eq!(record.year, 2005);
        assert_eq!(record.duration_ms, 268_000);
        assert_eq!(record.info.properties.codec, Codec::Flac);
        assert_eq!(record.info.tags.replay_gain.track_gain_db, Some(-7.5));
        assert_eq!(record.derived.artist, "Sigur Rós");
    }

    #[test]
    fn a_locker_track_keeps_the_artist_credit_its_device_showed() {
        let fields: BTreeMap<String, Value> = serde_json::from_value(serde_json::json!({
            "title": "Get Lucky", "artist": "Daft Punk feat. Pharrell Williams",
            "artists": ["Daft Punk", "Pharrell Williams"]
        }))
        .unwrap();
        let record = record_from_fields(&fields);
        assert_eq!(record.artists, ["Daft Punk", "Pharrell Williams"]);
        assert_eq!(record.derived.artist, "Daft Punk feat. Pharrell Williams");
        // A device that sent only the credit: it is the one artist.
        let fields: BTreeMap<String, Value> =
            serde_json::from_value(serde_json::json!({ "artist": "Daft Punk" })).unwrap();
        let record = record_from_fields(&fields);
        assert_eq!(record.artists, ["Daft Punk"]);
        assert_eq!(record.derived.artist, "Daft Punk");
    }
}

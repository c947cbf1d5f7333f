//! Applying an import in one transaction, recording what it changed, and undoing it.
//!
//! **Architecture Invariant:** an import's writes and its journal rows are committed in the same
//! transaction, and so are an undo's; a process killed at any moment leaves either the whole
//! import (and its journal) or none of it.
//!
//! **Architecture Invariant:** what an import or an undo changes is recorded for sync in that
//! transaction too ([`sync::record`]), as a user's own edits are: ratings, loved marks, the
//! history the other player had (`imported_play_count`, `imported_last_played`, which the locker
//! and other devices count with their play events), playlists and their entries.

use std::time::SystemTime;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{
    ImportId, ImportKind, ImportPlan, ImportRecord, PlannedPlaylist, PlaylistAction,
    PlaylistReport, StatChanges, StatRow, UndoReport,
};
use crate::error::{DbContext, Error, Result};
use crate::model::{PlaylistId, TrackId, from_millis, new_uid, to_millis};
use crate::order_key;
use crate::sync::{self, SyncChange};

/// The longest playlist name the catalog takes (as `playlists::valid_name`).
const MAX_NAME_CHARS: usize = 500;

/// A playlist of the same source that an import replaces.
#[derive(Debug, Clone)]
struct Existing {
    id: PlaylistId,
    name: String,
    external_id: Option<String>,
    smart: bool,
}

/// The playlists `source_key` made in earlier imports.
fn existing_playlists(conn: &Connection, source_key: &str) -> Result<Vec<Existing>> {
    let context = "finding imported playlists";
    let mut stmt = conn
        .prepare_cached(
            "SELECT p.id, p.name, s.external_id, s.smart FROM playlist_sources s
             JOIN playlists p ON p.id = s.playlist_id WHERE s.source_key = ?1 ORDER BY p.id",
        )
        .ctx(context)?;
    let rows = stmt
        .query_map([source_key], |r| {
            Ok(Existing {
                id: PlaylistId(r.get(0)?),
                name: r.get(1)?,
                external_id: r.get(2)?,
                smart: r.get(3)?,
            })
        })
        .ctx(context)?;
    rows.collect::<rusqlite::Result<_>>().ctx(context)
}

/// For each planned playlist, the earlier import's playlist it replaces: the one with the same
/// source id, else the one with the same name. Each is replaced at most once.
fn pair_playlists(existing: &[Existing], planned: &[PlannedPlaylist]) -> Vec<Option<Existing>> {
    let mut taken = vec![false; existing.len()];
    let mut pick = |want: &dyn Fn(&Existing) -> bool| -> Option<Existing> {
        let index = existing
            .iter()
            .enumerate()
            .position(|(i, e)| !taken[i] && want(e))?;
        taken[index] = true;
        Some(existing[index].clone())
    };
    let mut pairs: Vec<Option<Existing>> = planned
        .iter()
        .map(|p| {
            p.external_id
                .as_deref()
                .and_then(|id| pick(&|e| e.external_id.as_deref() == Some(id)))
        })
        .collect();
    for (pair, p) in pairs.iter_mut().zip(planned) {
        if pair.is_none() {
            *pair = pick(&|e| {
                e.name.to_lowercase() == p.name.to_lowercase()
                    && (e.external_id.is_none() || p.external_id.is_none())
            });
        }
    }
    pairs
}

/// The track ids of a playlist in order.
fn playlist_tracks(conn: &Connection, id: PlaylistId) -> Result<Vec<TrackId>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT track_id FROM playlist_items WHERE playlist_id = ?1 ORDER BY order_key, uid",
        )
        .ctx("reading a playlist")?;
    let rows = stmt
        .query_map([id], |r| r.get(0).map(TrackId))
        .ctx("reading a playlist")?;
    rows.collect::<rusqlite::Result<_>>()
        .ctx("reading a playlist")
}

/// A playlist name as the catalog takes it: trimmed, not empty, at most 500 characters.
fn clean_name(name: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        return "Untitled playlist".to_owned();
    }
    name.chars().take(MAX_NAME_CHARS).collect()
}

/// `name`, or `name (2)`, `name (3)`… : the first no playlist but `except` has (ignoring case).
fn unique_name(conn: &Connection, name: &str, except: Option<PlaylistId>) -> Result<String> {
    let taken = |candidate: &str| -> Result<bool> {
        conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM playlists WHERE name = ?1 COLLATE NOCASE AND id <> ?2)",
            params![candidate, except.map_or(-1, |e| e.0)],
            |r| r.get(0),
        )
        .ctx("naming a playlist")
    };
    if !taken(name)? {
        return Ok(name.to_owned());
    }
    let mut n = 2u64;
    loop {
        let candidate = format!("{name} ({n})");
        if !taken(&candidate)? {
            return Ok(candidate);
        }
        n += 1;
    }
}

/// The name a replaced playlist gets: its own if that is still `name` (or `name (2)`, the
/// suffix an earlier import gave it), else `name` made unique.
fn replacement_name(conn: &Connection, existing: &Existing, name: &str) -> Result<String> {
    if existing.name == name {
        return Ok(name.to_owned());
    }
    unique_name(conn, name, Some(existing.id))
}

/// Whether `existing` already is what `planned` (with `tracks`) would make of it.
fn same_playlist(
    conn: &Connection,
    existing: &Existing,
    name: &str,
    planned: &PlannedPlaylist,
    tracks: &[TrackId],
) -> Result<bool> {
    Ok(existing.name == name
        && existing.smart == planned.smart
        && existing.external_id == planned.external_id
        && playlist_tracks(conn, existing.id)? == tracks)
}

/// What applying `planned` would do to each playlist, as the plan's report shows it.
pub(super) fn preview_playlists(
    conn: &Connection,
    source_key: &str,
    planned: &[PlannedPlaylist],
) -> Result<Vec<PlaylistReport>> {
    let existing = existing_playlists(conn, source_key)?;
    let pairs = pair_playlists(&existing, planned);
    let mut out = Vec::with_capacity(planned.len());
    for (p, pair) in planned.iter().zip(pairs) {
        let name = clean_name(&p.name);
        let (action, playlist, shown) = match pair {
            Some(e) => {
                let shown = replacement_name(conn, &e, &name)?;
                let action = if same_playlist(conn, &e, &shown, p, &p.tracks)? {
                    PlaylistAction::Unchanged
                } else {
                    PlaylistAction::Replace
                };
                (action, Some(e.id), shown)
            }
            None => (
                PlaylistAction::Create,
                None,
                unique_name(conn, &name, None)?,
            ),
        };
        out.push(PlaylistReport {
            name: shown,
            entries: p.tracks.len() as u64,
            missing_entries: p.missing_entries,
            smart: p.smart,
            action,
            playlist,
        });
    }
    Ok(out)
}

fn read_stats(tx: &Transaction<'_>, id: TrackId) -> Result<Option<StatRow>> {
    tx.prepare_cached(
        "SELECT rating, play_count, imported_play_count, last_played_at, added_at, loved
         FROM tracks WHERE id = ?1",
    )
    .and_then(|mut s| {
        s.query_row([id], |r| {
            Ok(StatRow {
                rating: r.get(0)?,
                play_count: r.get(1)?,
                imported_play_count: r.get(2)?,
                last_played_at: r.get(3)?,
                added_at: r.get(4)?,
                loved: r.get(5)?,
            })
        })
        .optional()
    })
    .ctx("reading play statistics")
}

fn write_stats(tx: &Transaction<'_>, id: TrackId, row: &StatRow) -> Result<()> {
    tx.prepare_cached(
        "UPDATE tracks SET rating = ?2, play_count = ?3, imported_play_count = ?4,
            last_played_at = ?5, added_at = ?6, loved = ?7 WHERE id = ?1",
    )
    .and_then(|mut s| {
        s.execute(params![
            id,
            row.rating,
            row.play_count,
            row.imported_play_count,
            row.last_played_at,
            row.added_at,
            row.loved
        ])
    })
    .ctx("writing play statistics")?;
    Ok(())
}

/// Records for other devices what an import or an undo changed of track `id`'s history.
fn sync_stats(
    tx: &Transaction<'_>,
    id: TrackId,
    old: &StatRow,
    new: &StatRow,
    now: SystemTime,
) -> Result<()> {
    let uid = sync::track_uid(tx, id.0)?;
    if old.rating != new.rating {
        let rating = u8::try_from(new.rating.clamp(0, 100)).unwrap_or(0);
        sync::record(
            tx,
            &SyncChange::Rating {
                track: uid.clone(),
                rating,
            },
            now,
        )?;
    }
    let mut fields = std::collections::BTreeMap::new();
    if old.loved != new.loved {
        fields.insert("loved".to_owned(), new.loved.into());
    }
    if old.imported_play_count != new.imported_play_count {
        fields.insert(
            "imported_play_count".to_owned(),
            new.imported_play_count.into(),
        );
    }
    if old.last_played_at != new.last_played_at && new.last_played_at > 0 {
        fields.insert("imported_last_played".to_owned(), new.last_played_at.into());
    }
    if !fields.is_empty() {
        sync::record(
            tx,
            &SyncChange::TrackSet {
                track: uid,
                blob: None,
                fields,
            },
            now,
        )?;
    }
    Ok(())
}

fn playlist_uid(tx: &Transaction<'_>, id: PlaylistId) -> Result<String> {
    tx.query_row("SELECT uid FROM playlists WHERE id = ?1", [id], |r| {
        r.get(0)
    })
    .ctx("reading a playlist")
}

/// Records that playlist `id` is named `name`.
fn sync_name(tx: &Transaction<'_>, id: PlaylistId, name: &str, now: SystemTime) -> Result<()> {
    let playlist = playlist_uid(tx, id)?;
    sync::record(
        tx,
        &SyncChange::PlaylistSet {
            playlist,
            name: name.to_owned(),
        },
        now,
    )
    .map(drop)
}

/// Records the removal of every entry of playlist `id` as it is now.
fn sync_removals(tx: &Transaction<'_>, id: PlaylistId, now: SystemTime) -> Result<()> {
    let playlist = playlist_uid(tx, id)?;
    let items: Vec<String> = {
        let mut stmt = tx
            .prepare_cached("SELECT uid FROM playlist_items WHERE playlist_id = ?1")
            .ctx("reading a playlist")?;
        let rows = stmt
            .query_map([id], |r| r.get(0))
            .ctx("reading a playlist")?;
        rows.collect::<rusqlite::Result<_>>()
            .ctx("reading a playlist")?
    };
    for item in items {
        sync::record(
            tx,
            &SyncChange::PlaylistItemRemove {
                playlist: playlist.clone(),
                item,
            },
            now,
        )?;
    }
    Ok(())
}

/// A playlist entry to insert.
struct NewEntry<'a> {
    /// Its row id, when it gets an old one back.
    row_id: Option<i64>,
    uid: &'a str,
    track: TrackId,
    key: &'a str,
    added: i64,
}

/// Inserts an entry of `playlist` (its row id and uid) and records it for sync.
fn insert_item(
    tx: &Transaction<'_>,
    playlist: (PlaylistId, &str),
    entry: &NewEntry<'_>,
    now: SystemTime,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO playlist_items(id, uid, playlist_id, track_id, order_key, added_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![
            entry.row_id,
            entry.uid,
            playlist.0,
            entry.track,
            entry.key,
            entry.added
        ])
    })
    .ctx("filling a playlist")?;
    sync::record(
        tx,
        &SyncChange::PlaylistItemSet {
            playlist: playlist.1.to_owned(),
            item: entry.uid.to_owned(),
            track: sync::track_uid(tx, entry.track.0)?,
            order_key: entry.key.to_owned(),
        },
        now,
    )
    .map(drop)
}

/// Inserts `tracks` as the entries of playlist `id`, in order.
fn insert_items(
    tx: &Transaction<'_>,
    id: PlaylistId,
    tracks: &[TrackId],
    now: SystemTime,
) -> Result<()> {
    let playlist = playlist_uid(tx, id)?;
    let keys = order_key::n_between(None, None, tracks.len());
    let added = to_millis(now);
    for (&track, key) in tracks.iter().zip(keys) {
        let uid = new_uid();
        let entry = NewEntry {
            row_id: None,
            uid: &uid,
            track,
            key: &key,
            added,
        };
        insert_item(tx, (id, &playlist), &entry, now)?;
    }
    Ok(())
}

/// Applies `plan`; see [`crate::Catalog::apply_import`].
pub(super) fn apply(
    conn: &mut Connection,
    plan: ImportPlan,
    now: SystemTime,
) -> Result<super::ImportReport> {
    let _span = tracing::info_span!("import apply", kind = plan.report.kind.as_str()).entered();
    let now_ms = to_millis(now);
    let tx = conn.transaction().ctx("starting an import")?;
    tx.execute(
        "INSERT INTO imports(kind, source, source_key, imported_at, tracks_changed, playlists_written)
         VALUES (?1, ?2, ?3, ?4, 0, 0)",
        params![
            plan.report.kind.as_str(),
            plan.report.source,
            plan.source_key,
            now_ms
        ],
    )
    .ctx("recording an import")?;
    let import = ImportId(tx.last_insert_rowid());

    let mut changes = StatChanges::default();
    for planned in &plan.tracks {
        // A track deleted since the plan was made is passed over.
        let Some(old) = read_stats(&tx, planned.track)? else {
            continue;
        };
        let new = old.merged(&planned.stats, plan.mode);
        if new == old {
            continue;
        }
        old.count_changes(&new, &mut changes);
        write_stats(&tx, planned.track, &new)?;
        sync_stats(&tx, planned.track, &old, &new, now)?;
        tx.prepare_cached(
            "INSERT INTO import_track_changes(import_id, track_id,
                old_rating, new_rating, old_play_count, new_play_count,
                old_imported_play_count, new_imported_play_count,
                old_last_played_at, new_last_played_at, old_added_at, new_added_at,
                old_loved, new_loved)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )
        .and_then(|mut s| {
            s.execute(params![
                import,
                planned.track,
                old.rating,
                new.rating,
                old.play_count,
                new.play_count,
                old.imported_play_count,
                new.imported_play_count,
                old.last_played_at,
                new.last_played_at,
                old.added_at,
                new.added_at,
                old.loved,
                new.loved
            ])
        })
        .ctx("recording an import")?;
    }

    let existing = existing_playlists(&tx, &plan.source_key)?;
    let pairs = pair_playlists(&existing, &plan.playlists);
    let mut playlists = Vec::with_capacity(plan.playlists.len());
    let mut written = 0u64;
    for (p, pair) in plan.playlists.iter().zip(pairs) {
        // Entries whose track was deleted since the plan was made are passed over.
        let mut tracks = Vec::with_capacity(p.tracks.len());
        for &t in &p.tracks {
            let exists: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM tracks WHERE id = ?1)")
                .and_then(|mut s| s.query_row([t], |r| r.get(0)))
                .ctx("filling a playlist")?;
            if exists {
                tracks.push(t);
            }
        }
        let name = clean_name(&p.name);
        let (action, id, shown) = match pair {
            Some(e) => {
                let shown = replacement_name(&tx, &e, &name)?;
                if same_playlist(&tx, &e, &shown, p, &tracks)? {
                    (PlaylistAction::Unchanged, e.id, shown)
                } else {
                    let updated: i64 = tx
                        .query_row(
                            "SELECT updated_at FROM playlists WHERE id = ?1",
                            [e.id],
                            |r| r.get(0),
                        )
                        .ctx("replacing a playlist")?;
                    tx.execute(
                        "INSERT INTO import_playlist_changes(import_id, playlist_id, created,
                            old_name, old_updated_at, old_external_id, old_smart)
                         VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6)",
                        params![import, e.id, e.name, updated, e.external_id, e.smart],
                    )
                    .ctx("recording an import")?;
                    tx.execute(
                        "INSERT INTO import_playlist_items(import_id, playlist_id, item_id, uid,
                            track_id, order_key, added_at)
                         SELECT ?1, playlist_id, id, uid, track_id, order_key, added_at
                         FROM playlist_items WHERE playlist_id = ?2",
                        params![import, e.id],
                    )
                    .ctx("recording an import")?;
                    sync_removals(&tx, e.id, now)?;
                    tx.execute("DELETE FROM playlist_items WHERE playlist_id = ?1", [e.id])
                        .ctx("replacing a playlist")?;
                    tx.execute(
                        "UPDATE playlists SET name = ?2, updated_at = ?3 WHERE id = ?1",
                        params![e.id, shown, now_ms],
                    )
                    .ctx("replacing a playlist")?;
                    tx.execute(
                        "UPDATE playlist_sources SET external_id = ?2, smart = ?3
                         WHERE playlist_id = ?1",
                        params![e.id, p.external_id, p.smart],
                    )
                    .ctx("replacing a playlist")?;
                    sync_name(&tx, e.id, &shown, now)?;
                    insert_items(&tx, e.id, &tracks, now)?;
                    (PlaylistAction::Replace, e.id, shown)
                }
            }
            None => {
                let shown = unique_name(&tx, &name, None)?;
                tx.execute(
                    "INSERT INTO playlists(uid, name, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
                    params![new_uid(), shown, now_ms],
                )
                .ctx("creating a playlist")?;
                let id = PlaylistId(tx.last_insert_rowid());
                tx.execute(
                    "INSERT INTO playlist_sources(playlist_id, source_key, external_id, smart)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![id, plan.source_key, p.external_id, p.smart],
                )
                .ctx("creating a playlist")?;
                tx.execute(
                    "INSERT INTO import_playlist_changes(import_id, playlist_id, created)
                     VALUES (?1, ?2, 1)",
                    params![import, id],
                )
                .ctx("recording an import")?;
                sync_name(&tx, id, &shown, now)?;
                insert_items(&tx, id, &tracks, now)?;
                (PlaylistAction::Create, id, shown)
            }
        };
        if action != PlaylistAction::Unchanged {
            written += 1;
        }
        playlists.push(PlaylistReport {
            name: shown,
            entries: tracks.len() as u64,
            missing_entries: p.missing_entries + (p.tracks.len() - tracks.len()) as u64,
            smart: p.smart,
            action,
            playlist: Some(id),
        });
    }

    let mut report = plan.report;
    report.applied = true;
    report.playlists = playlists;
    report.changes = changes;
    if report.changes.tracks == 0 && written == 0 {
        // Nothing to change: record nothing, so there is nothing to undo.
        tx.rollback().ctx("finishing an import")?;
        return Ok(report);
    }
    tx.execute(
        "UPDATE imports SET tracks_changed = ?2, playlists_written = ?3 WHERE id = ?1",
        params![import, report.changes.tracks, written],
    )
    .ctx("recording an import")?;
    tx.commit().ctx("committing an import")?;
    report.import = Some(import);
    tracing::info!(
        import = import.0,
        tracks = report.changes.tracks,
        playlists = written,
        "import applied"
    );
    Ok(report)
}

/// A playlist an import created or replaced, as the journal has it.
struct PlaylistChange {
    playlist: PlaylistId,
    created: bool,
    old_name: Option<String>,
    old_updated: Option<i64>,
    old_external: Option<String>,
    old_smart: Option<bool>,
}

/// Undoes an import; see [`crate::Catalog::undo_import`].
pub(super) fn undo(
    conn: &mut Connection,
    id: Option<ImportId>,
    now: SystemTime,
) -> Result<UndoReport> {
    let tx = conn.transaction().ctx("starting an undo")?;
    let in_place: Vec<i64> = {
        let mut stmt = tx
            .prepare("SELECT id FROM imports WHERE undone_at IS NULL ORDER BY id DESC")
            .ctx("finding imports")?;
        let rows = stmt.query_map([], |r| r.get(0)).ctx("finding imports")?;
        rows.collect::<rusqlite::Result<_>>()
            .ctx("finding imports")?
    };
    let import = match id {
        None => ImportId(
            *in_place
                .first()
                .ok_or_else(|| Error::InvalidInput("there is no import to undo".to_owned()))?,
        ),
        Some(id) => {
            let undone: Option<Option<i64>> = tx
                .query_row("SELECT undone_at FROM imports WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()
                .ctx("finding imports")?;
            match undone {
                None => {
                    return Err(Error::NotFound {
                        kind: "import",
                        id: id.to_string(),
                    });
                }
                Some(Some(_)) => {
                    return Err(Error::InvalidInput(format!(
                        "import {id} was undone already"
                    )));
                }
                Some(None) => {}
            }
            let later: Vec<String> = in_place
                .iter()
                .filter(|&&other| other > id.0)
                .map(i64::to_string)
                .collect();
            if !later.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "imports are undone newest first: undo import {} before import {id}",
                    later.join(", ")
                )));
            }
            id
        }
    };

    let mut report = UndoReport {
        import,
        tracks_restored: 0,
        playlists_deleted: 0,
        playlists_restored: 0,
    };
    // Statistics: each field goes back unless the user changed it since; plays recorded since
    // stay counted.
    let changes: Vec<(TrackId, StatRow, StatRow)> = {
        let mut stmt = tx
            .prepare(
                "SELECT track_id, old_rating, new_rating, old_play_count, new_play_count,
                    old_imported_play_count, new_imported_play_count,
                    old_last_played_at, new_last_played_at, old_added_at, new_added_at,
                    old_loved, new_loved
                 FROM import_track_changes WHERE import_id = ?1",
            )
            .ctx("reading the import journal")?;
        let rows = stmt
            .query_map([import], |r| {
                Ok((
                    TrackId(r.get(0)?),
                    StatRow {
                        rating: r.get(1)?,
                        play_count: r.get(3)?,
                        imported_play_count: r.get(5)?,
                        last_played_at: r.get(7)?,
                        added_at: r.get(9)?,
                        loved: r.get(11)?,
                    },
                    StatRow {
                        rating: r.get(2)?,
                        play_count: r.get(4)?,
                        imported_play_count: r.get(6)?,
                        last_played_at: r.get(8)?,
                        added_at: r.get(10)?,
                        loved: r.get(12)?,
                    },
                ))
            })
            .ctx("reading the import journal")?;
        rows.collect::<rusqlite::Result<_>>()
            .ctx("reading the import journal")?
    };
    for (track, old, new) in changes {
        let Some(current) = read_stats(&tx, track)? else {
            continue;
        };
        let back = |cur: i64, new: i64, old: i64| if cur == new { old } else { cur };
        let restored = StatRow {
            rating: back(current.rating, new.rating, old.rating),
            play_count: (current.play_count - (new.play_count - old.play_count)).max(0),
            imported_play_count: back(
                current.imported_play_count,
                new.imported_play_count,
                old.imported_play_count,
            ),
            last_played_at: back(
                current.last_played_at,
                new.last_played_at,
                old.last_played_at,
            ),
            added_at: back(current.added_at, new.added_at, old.added_at),
            loved: if current.loved == new.loved {
                old.loved
            } else {
                current.loved
            },
        };
        write_stats(&tx, track, &restored)?;
        sync_stats(&tx, track, &current, &restored, now)?;
        report.tracks_restored += 1;
    }

    // Playlists.
    let playlist_changes: Vec<PlaylistChange> = {
        let mut stmt = tx
            .prepare(
                "SELECT playlist_id, created, old_name, old_updated_at, old_external_id, old_smart
                 FROM import_playlist_changes WHERE import_id = ?1",
            )
            .ctx("reading the import journal")?;
        let rows = stmt
            .query_map([import], |r| {
                Ok(PlaylistChange {
                    playlist: PlaylistId(r.get(0)?),
                    created: r.get(1)?,
                    old_name: r.get(2)?,
                    old_updated: r.get(3)?,
                    old_external: r.get(4)?,
                    old_smart: r.get(5)?,
                })
            })
            .ctx("reading the import journal")?;
        rows.collect::<rusqlite::Result<_>>()
            .ctx("reading the import journal")?
    };
    for change in playlist_changes {
        let PlaylistChange {
            playlist,
            created,
            old_name,
            old_updated,
            old_external,
            old_smart,
        } = change;
        if created {
            let uid = playlist_uid(&tx, playlist)?;
            tx.execute("DELETE FROM playlists WHERE id = ?1", [playlist])
                .ctx("deleting an imported playlist")?;
            sync::record(&tx, &SyncChange::PlaylistDelete { playlist: uid }, now)?;
            report.playlists_deleted += 1;
            continue;
        }
        sync_removals(&tx, playlist, now)?;
        tx.execute(
            "DELETE FROM playlist_items WHERE playlist_id = ?1",
            [playlist],
        )
        .ctx("restoring a playlist")?;
        let playlist_uid = playlist_uid(&tx, playlist)?;
        let items: Vec<(i64, String, i64, String, i64)> = {
            let mut stmt = tx
                .prepare(
                    "SELECT item_id, uid, track_id, order_key, added_at FROM import_playlist_items
                     WHERE import_id = ?1 AND playlist_id = ?2 ORDER BY order_key, item_id",
                )
                .ctx("restoring a playlist")?;
            let rows = stmt
                .query_map(params![import, playlist], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .ctx("restoring a playlist")?;
            rows.collect::<rusqlite::Result<_>>()
                .ctx("restoring a playlist")?
        };
        for (item, uid, track, key, added) in items {
            // The entry gets its old id back unless another entry has taken it since.
            let free: bool = tx
                .query_row(
                    "SELECT NOT EXISTS (SELECT 1 FROM playlist_items WHERE id = ?1)",
                    [item],
                    |r| r.get(0),
                )
                .ctx("restoring a playlist")?;
            let item = free.then_some(item);
            let entry = NewEntry {
                row_id: item,
                uid: &uid,
                track: TrackId(track),
                key: &key,
                added,
            };
            insert_item(&tx, (playlist, &playlist_uid), &entry, now)?;
        }
        if let Some(name) = &old_name {
            sync_name(&tx, playlist, name, now)?;
        }
        tx.execute(
            "UPDATE playlists SET name = coalesce(?2, name), updated_at = coalesce(?3, updated_at)
             WHERE id = ?1",
            params![playlist, old_name, old_updated],
        )
        .ctx("restoring a playlist")?;
        tx.execute(
            "UPDATE playlist_sources SET external_id = ?2, smart = coalesce(?3, smart)
             WHERE playlist_id = ?1",
            params![playlist, old_external, old_smart],
        )
        .ctx("restoring a playlist")?;
        report.playlists_restored += 1;
    }

    tx.execute(
        "DELETE FROM import_track_changes WHERE import_id = ?1",
        [import],
    )
    .ctx("closing the import journal")?;
    tx.execute(
        "DELETE FROM import_playlist_changes WHERE import_id = ?1",
        [import],
    )
    .ctx("closing the import journal")?;
    tx.execute(
        "UPDATE imports SET undone_at = ?2 WHERE id = ?1",
        params![import, to_millis(now)],
    )
    .ctx("closing the import journal")?;
    tx.commit().ctx("committing an undo")?;
    Ok(report)
}

/// Every import, newest first.
pub(super) fn list(conn: &Connection) -> Result<Vec<ImportRecord>> {
    let context = "listing imports";
    let mut stmt = conn
        .prepare(
            "SELECT id, kind, source, imported_at, undone_at, tracks_changed, playlists_written
             FROM imports ORDER BY id DESC",
        )
        .ctx(context)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(ImportRecord {
                id: ImportId(r.get(0)?),
                kind: ImportKind::parse(&r.get::<_, String>(1)?),
                source: r.get(2)?,
                imported: from_millis(r.get(3)?),
                undone: r.get::<_, Option<i64>>(4)?.map(from_millis),
                tracks_changed: r.get(5)?,
                playlists_written: r.get(6)?,
            })
        })
        .ctx(context)?;
    rows.collect::<rusqlite::Result<_>>().ctx(context)
}

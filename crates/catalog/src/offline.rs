//! Offline copies: locker tracks downloaded so they play with no network (DESIGN.md, data flow 5).
//!
//! The user pins tracks, albums and playlists ([`Catalog::pin`]); an album or playlist pin covers
//! the tracks it has now and gains later. [`Catalog::downloads_wanted`] lists the pinned tracks
//! that have no file here and no copy yet; the caller downloads each into the offline folder and
//! records it ([`Catalog::record_offline_copy`]). Copies the user did not pin are the cache of
//! what was streamed: [`Catalog::evict_offline`] keeps them within a size cap, removing the least
//! recently played first, and never removes a pinned one.
//!
//! **Architecture Invariant:** the only files this module deletes are offline copies, inside the
//! offline folder it is given, and only ones the catalog recorded there.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::Catalog;
use crate::error::{DbContext, Error, Result};
use crate::model::{AlbumId, PlaylistId, TrackId, to_millis};

/// What can be pinned for offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinTarget {
    /// One track.
    Track(TrackId),
    /// An album: every track it has, now and later.
    Album(AlbumId),
    /// A playlist: every track on it, now and later.
    Playlist(PlaylistId),
}

impl PinTarget {
    fn parts(self) -> (&'static str, i64) {
        match self {
            PinTarget::Track(id) => ("track", id.0),
            PinTarget::Album(id) => ("album", id.0),
            PinTarget::Playlist(id) => ("playlist", id.0),
        }
    }
}

/// A track's offline copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfflineCopy {
    /// Its name in the offline folder.
    pub file: String,
    /// Its size in bytes.
    pub size: u64,
    /// The locker blob it copies.
    pub blob: String,
    /// Whether the user pinned it (directly, or by its album or a playlist).
    pub pinned: bool,
}

/// What [`Catalog::evict_offline`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EvictReport {
    /// Copies removed.
    pub removed: u64,
    /// Bytes they held.
    pub freed_bytes: u64,
    /// Bytes the offline copies hold now, pinned ones included.
    pub kept_bytes: u64,
}

/// SQL true when track `t` is pinned, directly or by its album or a playlist.
const PINNED: &str = "(EXISTS (SELECT 1 FROM pins p WHERE p.kind = 'track' AND p.target = t.id)
    OR EXISTS (SELECT 1 FROM pins p WHERE p.kind = 'album' AND p.target = t.album_id)
    OR EXISTS (SELECT 1 FROM pins p JOIN playlist_items i ON i.playlist_id = p.target
               WHERE p.kind = 'playlist' AND i.track_id = t.id))";

impl Catalog {
    /// The offline folder: `offline/` beside the catalog database, where the copies live.
    pub fn offline_dir(&self) -> PathBuf {
        self.db_path()
            .parent()
            .unwrap_or(Path::new("."))
            .join("offline")
    }

    /// Pins `target` for offline. Pinning twice is one pin.
    pub fn pin(&mut self, target: PinTarget, now: SystemTime) -> Result<()> {
        let (kind, id) = target.parts();
        let table = match kind {
            "track" => "tracks",
            "album" => "albums",
            _ => "playlists",
        };
        let exists: bool = self
            .conn()
            .query_row(
                &format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE id = ?1)"),
                [id],
                |r| r.get(0),
            )
            .ctx("pinning")?;
        if !exists {
            return Err(Error::NotFound {
                kind,
                id: id.to_string(),
            });
        }
        self.conn()
            .execute(
                "INSERT OR IGNORE INTO pins(kind, target, pinned_at) VALUES (?1, ?2, ?3)",
                params![kind, id, to_millis(now)],
            )
            .ctx("pinning")?;
        Ok(())
    }

    /// Whether `target` itself is pinned (a track on a pinned album is not, by this).
    pub fn is_pinned(&self, target: PinTarget) -> Result<bool> {
        let (kind, id) = target.parts();
        self.conn()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM pins WHERE kind = ?1 AND target = ?2)",
                params![kind, id],
                |r| r.get(0),
            )
            .ctx("reading pins")
    }

    /// Unpins `target`: its copies stay, as cache, until evicted. True if it was pinned.
    pub fn unpin(&mut self, target: PinTarget) -> Result<bool> {
        let (kind, id) = target.parts();
        let removed = self
            .conn()
            .execute(
                "DELETE FROM pins WHERE kind = ?1 AND target = ?2",
                params![kind, id],
            )
            .ctx("unpinning")?;
        Ok(removed > 0)
    }

    /// The pinned tracks to download: in the locker, with no reachable file here and no
    /// offline copy yet, with the blob to fetch for each.
    pub fn downloads_wanted(&self) -> Result<Vec<(TrackId, String)>> {
        let context = "listing downloads";
        let mut stmt = self
            .conn()
            .prepare(&format!(
                "SELECT t.id, lt.blob FROM tracks t JOIN locker_tracks lt ON lt.track_id = t.id
                 WHERE {PINNED}
                 AND NOT EXISTS (SELECT 1 FROM offline o WHERE o.track_id = t.id)
                 AND NOT EXISTS (SELECT 1 FROM files f JOIN roots r ON r.id = f.root_id
                                 WHERE f.track_id = t.id AND r.reachable = 1)
                 ORDER BY t.id"
            ))
            .ctx(context)?;
        let rows = stmt
            .query_map([], |r| Ok((TrackId(r.get(0)?), r.get(1)?)))
            .ctx(context)?;
        rows.collect::<rusqlite::Result<_>>().ctx(context)
    }

    /// Records that `file` in the offline folder, `size` bytes, is a copy of `track`'s locker
    /// blob `blob` (the caller has checked its hash).
    pub fn record_offline_copy(
        &mut self,
        track: TrackId,
        file: &str,
        size: u64,
        blob: &str,
        now: SystemTime,
    ) -> Result<()> {
        if file.is_empty() || file.contains(['/', '\\']) || file.starts_with('.') {
            return Err(Error::InvalidInput(format!(
                "an offline copy is a plain file name in the offline folder, not {file:?}"
            )));
        }
        self.conn()
            .execute(
                "INSERT INTO offline(track_id, file, size, blob, last_access) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(track_id) DO UPDATE SET file = excluded.file, size = excluded.size,
                     blob = excluded.blob, last_access = excluded.last_access",
                params![track, file, size, blob, to_millis(now)],
            )
            .ctx("recording an offline copy")?;
        Ok(())
    }

    /// Where `track`'s offline copy is, if it has one.
    ///
    /// # Errors
    ///
    /// The database cannot be read.
    pub fn offline_file(&self, track: TrackId) -> Result<Option<PathBuf>> {
        Ok(self
            .offline_copy(track)?
            .map(|copy| self.offline_dir().join(copy.file)))
    }

    /// `track`'s offline copy, if it has one.
    pub fn offline_copy(&self, track: TrackId) -> Result<Option<OfflineCopy>> {
        self.conn()
            .query_row(
                &format!(
                    "SELECT o.file, o.size, o.blob, {PINNED} FROM offline o
                     JOIN tracks t ON t.id = o.track_id WHERE o.track_id = ?1"
                ),
                [track],
                |r| {
                    Ok(OfflineCopy {
                        file: r.get(0)?,
                        size: r.get(1)?,
                        blob: r.get(2)?,
                        pinned: r.get(3)?,
                    })
                },
            )
            .optional()
            .ctx("reading an offline copy")
    }

    /// Notes that `track`'s offline copy was played at `now`, so it is evicted later.
    pub fn touch_offline_copy(&mut self, track: TrackId, now: SystemTime) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE offline SET last_access = max(last_access, ?2) WHERE track_id = ?1",
                params![track, to_millis(now)],
            )
            .ctx("noting a play of an offline copy")?;
        Ok(())
    }

    /// Keeps the unpinned offline copies within `cap_bytes` (counting pinned ones too):
    /// removes them from `dir`, the offline folder, least recently played first, until the
    /// copies fit or only pinned ones are left. A copy whose file is already gone is forgotten.
    pub fn evict_offline(&mut self, dir: &Path, cap_bytes: u64) -> Result<EvictReport> {
        let context = "evicting offline copies";
        let total: u64 = self
            .conn()
            .query_row("SELECT coalesce(sum(size), 0) FROM offline", [], |r| {
                r.get(0)
            })
            .ctx(context)?;
        let candidates: Vec<(TrackId, String, u64)> = {
            let mut stmt = self
                .conn()
                .prepare(&format!(
                    "SELECT t.id, o.file, o.size FROM offline o JOIN tracks t ON t.id = o.track_id
                     WHERE NOT {PINNED}
                     ORDER BY max(o.last_access, t.last_played_at), t.id"
                ))
                .ctx(context)?;
            let rows = stmt
                .query_map([], |r| Ok((TrackId(r.get(0)?), r.get(1)?, r.get(2)?)))
                .ctx(context)?;
            rows.collect::<rusqlite::Result<_>>().ctx(context)?
        };
        let mut report = EvictReport {
            kept_bytes: total,
            ..EvictReport::default()
        };
        for (track, file, size) in candidates {
            if report.kept_bytes <= cap_bytes {
                break;
            }
            let path: PathBuf = dir.join(&file);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(Error::Io { path, source });
                }
            }
            self.conn()
                .execute("DELETE FROM offline WHERE track_id = ?1", [track])
                .ctx(context)?;
            report.removed += 1;
            report.freed_bytes += size;
            report.kept_bytes -= size;
        }
        Ok(report)
    }
}

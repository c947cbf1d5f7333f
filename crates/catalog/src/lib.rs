//! Skylark's library database: one SQLite file holding every track the user's folders contain,
//! with the albums, artists, genres, covers, playlists and play statistics built on them.
//!
//! - [`Catalog::scan`] imports and rescans folders ([`scan`]); [`watch::Watcher`] rescans what changes.
//! - [`Catalog::tracks`], [`Catalog::albums`] and friends browse ([`browse`]); [`Catalog::search`]
//!   searches ([`search`]).
//! - Playlists ([`playlists`]) with M3U/M3U8 import and export ([`m3u`]); play statistics
//!   ([`stats`]).
//! - Bringing history in from iTunes/Music, M3U files and Skylark exports, undoably
//!   ([`import`]); taking everything out ([`export`]).
//!
//! **Architecture Invariant:** this crate decodes no audio and speaks no network protocol. It reads
//! tags through `skylark-tags` and nothing else of the files.
//!
//! **Architecture Invariant:** the user's music files are only ever read. Nothing here writes,
//! moves or deletes them.
//!
//! **Architecture Invariant:** a track's row (and so its play statistics, rating and playlist
//! entries) survives its file being moved, renamed or retagged.

pub mod browse;
mod bulk_load;
mod compilations;
pub mod covers;
mod error;
pub mod export;
pub mod feed;
pub mod import;
pub mod m3u;
mod model;
pub mod names;
pub mod offline;
pub(crate) use skylark_locker_api::order_key;
pub mod paths;
pub mod playlists;
pub mod scan;
mod schema;
pub mod search;
pub mod stats;
mod store;
pub mod sync;
pub mod uploads;
pub mod watch;

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde::Serialize;

pub use crate::browse::{Cursor, TrackPage, TrackQuery, TrackSort};
pub use crate::covers::{CoverSize, CoverStore};
pub use crate::error::{Error, Result};
pub use crate::export::{ExportOptions, ExportReport};
pub use crate::feed::{FeedReport, MatchCandidate, RemoteOp};
pub use crate::import::{ImportPlan, ImportReport, RootMapping};
pub use crate::model::{
    Album, AlbumId, Artist, ArtistId, Availability, Genre, GenreId, ImportId, PlaylistId,
    PlaylistItemId, Rating, RootId, Track, TrackId,
};
pub use crate::offline::{EvictReport, OfflineCopy, PinTarget};
pub use crate::scan::{ScanFailure, ScanOptions, ScanProgress, ScanReport};
pub use crate::uploads::QueuedUpload;
pub use skylark_tags::{LyricLine, Lyrics, LyricsSource, read_lyrics};

use crate::error::DbContext;

/// The library: a database file and a cover cache folder.
#[derive(Debug)]
pub struct Catalog {
    conn: Connection,
    db_path: PathBuf,
    covers: CoverStore,
}

/// A folder the library is built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Root {
    /// Row id.
    pub id: RootId,
    /// The folder.
    #[serde(serialize_with = "paths::serialize_lossy")]
    pub path: PathBuf,
    /// False while the folder cannot be reached (an unplugged drive); its tracks show as missing.
    pub reachable: bool,
}

/// The outcome of [`Catalog::make_thumbnails`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ThumbnailReport {
    /// Covers in the catalog.
    pub covers: u64,
    /// Covers whose image could not be decoded.
    pub failed: u64,
}

impl Catalog {
    /// Opens the catalog in `db_path` (created if missing), with covers cached under `cover_dir`.
    pub fn open(db_path: &Path, cover_dir: &Path) -> Result<Self> {
        Ok(Self {
            conn: schema::open(db_path)?,
            db_path: db_path.to_owned(),
            covers: CoverStore::new(cover_dir),
        })
    }

    /// The database file.
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// The cover cache.
    pub fn covers(&self) -> &CoverStore {
        &self.covers
    }

    /// Imports or rescans `paths` (each a folder to add as a root, or a folder or file inside an
    /// existing root); with no paths, rescans every root. `progress` is called as work advances,
    /// from the scan's walking and writing threads, one call at a time and in order.
    pub fn scan(
        &mut self,
        paths: &[PathBuf],
        options: &ScanOptions,
        progress: &(dyn Fn(&ScanProgress) + Sync),
    ) -> Result<ScanReport> {
        let resolved = scan::resolve_targets(&self.conn, paths, options.now)?;
        schema::with_scan_settings(&mut self.conn, |conn| {
            scan::run(
                conn,
                &self.covers,
                &resolved.targets,
                &resolved.unreachable,
                options,
                progress,
            )
        })
    }

    /// The library's roots.
    pub fn roots(&self) -> Result<Vec<Root>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, path, reachable FROM roots ORDER BY path")
            .ctx("listing roots")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Root {
                    id: RootId(r.get(0)?),
                    path: paths::from_bytes(&r.get::<_, Vec<u8>>(1)?),
                    reachable: r.get(2)?,
                })
            })
            .ctx("listing roots")?;
        rows.collect::<rusqlite::Result<_>>().ctx("listing roots")
    }

    /// Removes a root and every track that has no file elsewhere (or copy in the locker). The
    /// files stay on disk.
    pub fn remove_root(&mut self, id: RootId) -> Result<()> {
        let tx = self.conn.transaction().ctx("removing a root")?;
        let orphaned: Vec<i64> = {
            let mut stmt = tx
                .prepare(
                    "SELECT DISTINCT f.track_id FROM files f WHERE f.root_id = ?1
                     AND NOT EXISTS (SELECT 1 FROM files o WHERE o.track_id = f.track_id AND o.root_id <> ?1)",
                )
                .ctx("removing a root")?;
            let rows = stmt.query_map([id], |r| r.get(0)).ctx("removing a root")?;
            rows.collect::<rusqlite::Result<_>>()
                .ctx("removing a root")?
        };
        let removed = tx
            .execute("DELETE FROM roots WHERE id = ?1", [id])
            .ctx("removing a root")?;
        if removed == 0 {
            return Err(Error::NotFound {
                kind: "root",
                id: id.to_string(),
            });
        }
        for track in orphaned {
            store::Store::drop_local_track(&tx, TrackId(track))?;
        }
        store::Store::collect_orphans(&tx)?;
        tx.commit().ctx("removing a root")
    }

    /// Makes the missing thumbnails of every cover in the catalog, on every core; `progress` gets
    /// (done, total). Covers whose image cannot be decoded are counted as failed and keep only
    /// their original.
    pub fn make_thumbnails(&self, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<ThumbnailReport> {
        use rayon::prelude::*;
        use std::sync::atomic::{AtomicU64, Ordering};
        let covers = scan::load_covers(&self.conn)?;
        let total = covers.len() as u64;
        let done = AtomicU64::new(0);
        let store = &self.covers;
        let failed = covers
            .par_iter()
            .filter(|info| {
                let result = store.make_thumbnails(info);
                if let Err(reason) = &result {
                    tracing::warn!(hash = %info.hash, %reason, "cannot make thumbnails");
                }
                progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                result.is_err()
            })
            .count() as u64;
        Ok(ThumbnailReport {
            covers: total,
            failed,
        })
    }

    /// Adds tracks known only by their metadata, with no local file: how tracks that live
    /// elsewhere (the locker) enter this catalog. They show as missing until a file of theirs is
    /// scanned. All are added in one transaction.
    pub fn import_metadata(
        &mut self,
        items: &[skylark_tags::FileInfo],
        now: std::time::SystemTime,
    ) -> Result<Vec<TrackId>> {
        let tx = self.conn.transaction().ctx("importing tracks")?;
        let mut store = store::Store::default();
        let mut ids = Vec::with_capacity(items.len());
        for info in items {
            let record = store::TrackRecord::new(Path::new(""), info.clone(), None);
            ids.push(store.insert_track(&tx, &record, now)?);
        }
        tx.commit().ctx("importing tracks")?;
        Ok(ids)
    }

    /// The connection, for the query modules.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The connection for writes, for the modules that own them.
    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

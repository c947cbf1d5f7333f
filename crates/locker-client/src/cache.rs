//! Streams kept as offline copies: a locker track streamed for playing writes what arrives into
//! the catalog's offline folder, and once every byte has arrived (and matched the locker's hash)
//! it becomes the track's offline copy, so the next play needs no network (DESIGN.md, data flow
//! 5). A stream that ends short (the user skipped, the network went) leaves nothing behind.
//!
//! **Architecture Invariant:** a copy is recorded only when its bytes hash to the track's blob
//! (a blob stream's cache is [`CacheStatus::Complete`] only then); the offline folder never holds
//! a half-written copy under a copy's name.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use skylark_catalog::{Catalog, TrackId};
use skylark_tags::FileHash;

use crate::Client;
use crate::error::{Error, Result};
use crate::stream::{CacheStatus, LazyRemoteSource, LazyWatch, StreamOptions};

/// The most the unpinned offline copies (streamed or downloaded) may take, unless the user says
/// otherwise: 10 GB.
pub const DEFAULT_CACHE_CAP_BYTES: u64 = 10_240 * 1_000_000;

/// Streams written to the offline folder as they play, waiting to be kept or dropped.
#[derive(Debug, Default)]
pub struct StreamedCopies {
    pending: Vec<Pending>,
}

#[derive(Debug)]
struct Pending {
    track: TrackId,
    blob: String,
    part: PathBuf,
    watch: LazyWatch,
}

/// Tells the part files of streams of one process apart, so the same track queued twice (or
/// preloaded while it plays) never shares a file.
static NEXT_PART: AtomicU64 = AtomicU64::new(0);

impl StreamedCopies {
    /// A stream of locker blob `blob`, the audio of `track`, that opens on first use and writes
    /// what arrives into `catalog`'s offline folder (see [`StreamedCopies::settle`]).
    ///
    /// # Errors
    ///
    /// [`Error::Catalog`] if `blob` (from the catalog) is not a BLAKE3 hash.
    pub fn open(
        &mut self,
        client: &Client,
        catalog: &Catalog,
        track: TrackId,
        blob: &str,
    ) -> Result<LazyRemoteSource> {
        let hash: FileHash = blob.parse().map_err(|_| {
            skylark_catalog::Error::InvalidInput(format!(
                "track {track} names a locker copy {blob:?} that is not a hash"
            ))
        })?;
        let dir = catalog.offline_dir();
        let n = NEXT_PART.fetch_add(1, Ordering::Relaxed);
        let part = dir.join(format!(".{blob}-{}-{n}.stream", std::process::id()));
        // Without a folder to write to the stream still plays; it is just not kept.
        let cache_file = std::fs::create_dir_all(&dir).ok().map(|()| part.clone());
        let source = client.lazy_blob(
            hash,
            StreamOptions {
                cache_file,
                ..StreamOptions::default()
            },
        );
        self.pending.push(Pending {
            track,
            blob: blob.to_owned(),
            part,
            watch: source.watch(),
        });
        Ok(source)
    }

    /// How many streams are still playing or waiting to be settled.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Keeps each stream that arrived whole as its track's offline copy (unless the track got
    /// one meanwhile), deletes the part file of each that ended short, leaves the ones still
    /// playing, and keeps the offline copies within `cap_bytes`. Returns how many were kept.
    ///
    /// # Errors
    ///
    /// Writing the catalog fails, or a whole copy cannot be moved into place.
    pub fn settle(&mut self, catalog: &mut Catalog, cap_bytes: u64) -> Result<u64> {
        let dir = catalog.offline_dir();
        let mut kept = 0;
        let mut still = Vec::with_capacity(self.pending.len());
        for copy in std::mem::take(&mut self.pending) {
            match copy.watch.cache_status() {
                CacheStatus::Complete => {
                    // Complete means the whole part file hashed to the blob it was opened for
                    // (the stream checks it once the last byte is in).
                    if catalog.offline_copy(copy.track)?.is_some() {
                        let _ = std::fs::remove_file(&copy.part);
                        continue;
                    }
                    let file = match copy.watch.extension() {
                        Some(ext) => format!("{}.{ext}", copy.blob),
                        None => copy.blob.clone(),
                    };
                    let size = std::fs::metadata(&copy.part).map_or(0, |m| m.len());
                    std::fs::rename(&copy.part, dir.join(&file)).map_err(|source| Error::Io {
                        path: copy.part.clone(),
                        source,
                    })?;
                    catalog.record_offline_copy(
                        copy.track,
                        &file,
                        size,
                        &copy.blob,
                        SystemTime::now(),
                    )?;
                    kept += 1;
                }
                CacheStatus::Failed(_) => {
                    let _ = std::fs::remove_file(&copy.part);
                }
                CacheStatus::Off | CacheStatus::Partial { .. } if copy.watch.is_closed() => {
                    let _ = std::fs::remove_file(&copy.part);
                }
                CacheStatus::Off | CacheStatus::Partial { .. } => still.push(copy),
            }
        }
        self.pending = still;
        if kept > 0 {
            catalog.evict_offline(&dir, cap_bytes)?;
        }
        Ok(kept)
    }
}

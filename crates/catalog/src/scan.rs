//! Importing folders: walk, read tags in parallel, write in batches, and reconcile with what the
//! catalog already knows.
//!
//! A scan works on *targets*: a root, or a folder or file inside one (the watcher rescans only
//! what changed). For each target it
//!
//! 1. checks the root is reachable; an unreachable root (an unplugged drive) is marked so and its
//!    tracks are left alone, shown as missing;
//! 2. walks the folder tree on a thread of its own (hidden entries skipped, symlinked folders
//!    followed, loops reported);
//! 3. compares each audio file's size and modification time with the catalog as the walk finds
//!    it: unchanged files are not opened, and files that failed before and have not changed fail
//!    again without a read;
//! 4. reads new and changed files on every core as the walk hands them over, and writes the
//!    results on this thread in one transaction per batch; when the scan brings more new files
//!    than the catalog held tracks (a first scan), as a bulk load that builds the secondary
//!    indexes once, at the end (see `bulk_load.rs`). A first import of the targets (the catalog
//!    knows no file under them) writes while the walk goes on; otherwise writing waits for the
//!    walk to end, which telling moves apart (5) needs;
//! 5. treats a new path whose file matches one that disappeared in the same scan (same size and
//!    time, or same size and tags) as a move, so the track keeps its row, play stats and playlist
//!    entries;
//! 6. removes the files that are gone, and tracks that have no file left.
//!
//! **Architecture Invariant:** a folder that cannot be read never causes the files the catalog
//! knows under it to be removed.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use serde::Serialize;
use skylark_tags::{FileInfo, ReadOptions};

use crate::bulk_load;
use crate::compilations::{self, FolderAlbums};
use crate::covers::{self, CoverInfo, CoverStore};
use crate::error::{DbContext, Error, Result, io_error};
use crate::feed;
use crate::model::{RootId, TrackId, to_millis};
use crate::paths;
use crate::schema;
use crate::store::{Store, TrackRecord};

/// File extensions the scanner reads (compared case-insensitively). The content decides the
/// format; the extension only decides whether a file is looked at.
pub const AUDIO_EXTENSIONS: [&str; 15] = [
    "mp3", "mp2", "flac", "ogg", "oga", "opus", "m4a", "m4b", "mp4", "wav", "aiff", "aif", "aifc",
    "wv", "ape",
];

/// Files read per batch: one transaction each, and the unit of parallel work. Larger batches mean
/// fewer commits and full-text index flushes; this size still commits several times a second.
const BATCH: usize = 1024;

/// How a scan is run.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// The time recorded as "added" and "updated" for rows the scan writes.
    pub now: SystemTime,
    /// Set to true from another thread to stop the scan after the current batch.
    pub cancel: Arc<AtomicBool>,
}

impl ScanOptions {
    /// Options that stamp rows with `now`.
    pub fn at(now: SystemTime) -> Self {
        Self {
            now,
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// What a scan has done so far, sent to the progress subscriber.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScanProgress {
    /// Audio files found so far.
    pub discovered: u64,
    /// Files handled (unchanged, read or failed).
    pub processed: u64,
    /// Files that could not be read.
    pub failed: u64,
    /// The file being handled.
    #[serde(serialize_with = "paths::serialize_lossy_opt")]
    pub current: Option<PathBuf>,
    /// True once the walk is over and `discovered` is final.
    pub walk_done: bool,
}

/// One file or folder the scan could not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanFailure {
    /// The file or folder.
    #[serde(serialize_with = "paths::serialize_lossy")]
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// The outcome of a scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScanReport {
    /// Audio files found.
    pub scanned: u64,
    /// Tracks added.
    pub added: u64,
    /// Tracks whose files changed and were read again.
    pub updated: u64,
    /// Files recognised at a new path (moved or renamed), keeping their track.
    pub moved: u64,
    /// Files no longer there.
    pub removed: u64,
    /// Files not opened because their size and time had not changed.
    pub unchanged: u64,
    /// Files and folders that could not be read.
    pub failed: Vec<ScanFailure>,
    /// Roots that could not be reached; their tracks are kept and shown as missing.
    #[serde(serialize_with = "paths::serialize_lossy_vec")]
    pub missing_roots: Vec<PathBuf>,
    /// Whether the scan was cancelled before the end.
    pub cancelled: bool,
    /// Wall time.
    #[serde(rename = "elapsed_ms", serialize_with = "millis")]
    pub elapsed: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A part of the library to scan.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub root_id: RootId,
    /// The folder or file to walk: the root itself or something inside it.
    pub path: PathBuf,
}

/// An audio file found by the walk.
#[derive(Debug)]
struct Found {
    path: PathBuf,
    root_id: RootId,
    size: u64,
    mtime_ns: i64,
}

/// A file the catalog knew before this scan.
#[derive(Debug, Clone)]
struct Known {
    file_id: i64,
    track_id: TrackId,
    size: u64,
    mtime_ns: i64,
}

/// A file that failed before, with the size and time it had then.
#[derive(Debug)]
struct KnownFailure {
    size: u64,
    mtime_ns: i64,
    reason: String,
}

/// A file to read, and what the catalog knew of its path.
#[derive(Debug)]
struct ToRead {
    found: Found,
    known: Option<Known>,
    /// The file is in `scan_failures` (it failed before and has changed since).
    failed_before: bool,
}

/// The result of reading one file.
struct Read {
    job: ToRead,
    result: std::result::Result<TrackRecord, String>,
}

/// Shared state for the read workers.
struct Readers<'a> {
    covers: &'a CoverStore,
    folder_covers: Mutex<HashMap<PathBuf, Option<CoverInfo>>>,
}

impl Readers<'_> {
    fn read(&self, job: ToRead) -> Read {
        let path = &job.found.path;
        let result = skylark_tags::read_path(path, ReadOptions::default())
            .map(|mut info: FileInfo| {
                let embedded = info.cover.take().and_then(|p| self.covers.ingest(p.data));
                let cover = embedded.or_else(|| self.folder_cover(path));
                TrackRecord::new(path, info, cover)
            })
            .map_err(|e| e.reason());
        Read { job, result }
    }

    fn folder_cover(&self, file: &Path) -> Option<CoverInfo> {
        let dir = file.parent()?;
        if let Some(known) = self
            .folder_covers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(dir)
        {
            return known.clone();
        }
        let cover = covers::folder_image_for(dir).and_then(|img| self.covers.ingest_file(&img));
        self.folder_covers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(dir.to_owned(), cover.clone());
        cover
    }
}

/// Whether a walked entry is hidden (its name starts with a dot).
fn is_hidden(entry: &walkdir::DirEntry) -> bool {
    entry.depth() > 0 && entry.file_name().as_encoded_bytes().first() == Some(&b'.')
}

/// Whether `path` has one of [`AUDIO_EXTENSIONS`].
pub fn is_audio_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Runs a scan of `targets` on `conn`.
pub(crate) fn run(
    conn: &mut Connection,
    covers: &CoverStore,
    targets: &[Target],
    unreachable: &[(RootId, PathBuf)],
    options: &ScanOptions,
    progress: &(dyn Fn(&ScanProgress) + Sync),
) -> Result<ScanReport> {
    let started = Instant::now();
    let _span = tracing::info_span!("scan", targets = targets.len()).entered();
    let mut report = ScanReport::default();

    for (root_id, root) in unreachable {
        conn.execute("UPDATE roots SET reachable = 0 WHERE id = ?1", [root_id])
            .ctx("marking a root unreachable")?;
        report.missing_roots.push(root.clone());
    }

    // What the catalog knows under the targets, to compare the walk's findings with.
    let root_ids: HashSet<RootId> = targets.iter().map(|t| t.root_id).collect();
    let under_target = |p: &Path| targets.iter().any(|t| p.starts_with(&t.path));
    let known = load_known(conn, &root_ids, &under_target)?;
    let failures = load_failures(conn, &root_ids, &under_target)?;
    let previous_scan = previous_scan(conn, &root_ids)?;
    covers.remember(load_covers(conn)?);
    // A file at a new path may be a known file that moved, which only the end of the walk can
    // tell. When the catalog knows no file under the targets (a first import) nothing can have
    // moved, and files are written as soon as they are read, while the walk goes on.
    let moves_possible = !known.is_empty();

    // Walk on one thread, read on every core, write on this one.
    let progress = SharedProgress {
        state: Mutex::new(ScanProgress::default()),
        notify: progress,
    };
    let readers = Readers {
        covers,
        folder_covers: Mutex::new(HashMap::new()),
    };
    let new_files = AtomicUsize::new(0);
    let mut writing = Duration::ZERO;
    let (jobs_tx, jobs_rx) = crossbeam_channel::unbounded::<Vec<ToRead>>();
    let (tx, rx) = crossbeam_channel::bounded::<Vec<Read>>(2);
    // The write-ahead log is checkpointed on a thread of its own after each batch (this
    // connection's automatic checkpoints are off during a scan: see `schema::with_scan_settings`).
    let checkpointer = conn
        .path()
        .filter(|path| !path.is_empty()) // "" is an in-memory or temporary database.
        .map(|path| schema::checkpointer(Path::new(path)))
        .transpose()?;
    let (checkpoint_tx, checkpoint_rx) = crossbeam_channel::bounded::<()>(1);
    let cancel = &options.cancel;
    let (written, walked, gone, folder_albums) = std::thread::scope(|scope| {
        let (progress, new_files, readers) = (&progress, &new_files, &readers);
        if let Some(checkpointer) = checkpointer {
            scope.spawn(move || {
                for () in checkpoint_rx {
                    if let Err(e) = schema::checkpoint(&checkpointer) {
                        tracing::warn!(error = %e, "checkpoint during a scan failed");
                    }
                }
            });
        }
        let walker = scope.spawn(move || {
            let mut sorter = Sorter::new(known, failures, jobs_tx, new_files, progress);
            for target in targets {
                if !walk(target, &mut sorter, cancel) {
                    break;
                }
            }
            sorter.finish()
        });
        scope.spawn(move || {
            while let Ok(mut batch) = jobs_rx.recv() {
                // Fill the batch with what the walk has found, waiting a little for a slow walk.
                let deadline = Instant::now() + FILL_WAIT;
                while batch.len() < BATCH {
                    match jobs_rx.recv_deadline(deadline) {
                        Ok(more) => batch.extend(more),
                        Err(_) => break,
                    }
                }
                if cancel.load(Ordering::Relaxed) {
                    break;
                }
                let read: Vec<Read> = batch.into_par_iter().map(|job| readers.read(job)).collect();
                if tx.send(read).is_err() {
                    break; // The writer stopped on an error.
                }
            }
        });
        let mut walker = Some(walker);
        let mut walked: Option<Walked> = None;
        let mut gone: Option<Gone> = None;
        let mut writer = Writer::new(conn);
        let mut result = Ok(());
        while let Ok(batch) = rx.recv() {
            let gone = gone.get_or_insert_with(|| {
                if moves_possible {
                    // Moves can only be told once the walk is over: until then, wait for it.
                    let w = walked.insert(join(walker.take()));
                    Gone::new(std::mem::take(&mut w.known), &w.unreadable)
                } else {
                    Gone::new(HashMap::new(), &[])
                }
            });
            let started = Instant::now();
            result = writer.write(
                batch,
                gone,
                new_files.load(Ordering::Relaxed),
                options.now,
                &mut report,
                progress,
            );
            writing += started.elapsed();
            if result.is_err() {
                break;
            }
            // A checkpoint already asked for and not yet begun will take this batch too.
            let _ = checkpoint_tx.try_send(());
        }
        // On an error, this stops the readers, whose end stops the walk.
        drop(rx);
        let walked = walked.unwrap_or_else(|| join(walker.take()));
        let folder_albums = std::mem::take(&mut writer.folder_albums);
        let started = Instant::now();
        let result = writer.finish(result);
        writing += started.elapsed();
        // The last checkpoint takes the index builds too; then the checkpointer ends.
        let _ = checkpoint_tx.try_send(());
        drop(checkpoint_tx);
        (result, walked, gone, folder_albums)
    });
    covers.forget_recent();
    written?;
    report.cancelled = options.cancel.load(Ordering::Relaxed);
    let Walked {
        known,
        failures,
        unreadable,
        mut failed,
        scanned,
        unchanged,
    } = walked;
    report.scanned = scanned;
    report.unchanged = unchanged;
    failed.append(&mut report.failed);
    report.failed = failed;
    // Files the writer did not match as moves, or (if it wrote nothing) all the walk did not find.
    let mut gone = gone.unwrap_or_else(|| Gone::new(known, &unreadable));

    // Remove what is gone (only when the scan ran to the end: a cancelled scan has not seen every
    // file yet).
    let tx = conn.transaction().ctx("starting the clean-up")?;
    if !report.cancelled {
        for (_, gone_file) in gone.drain() {
            tx.prepare_cached("DELETE FROM files WHERE id = ?1")
                .and_then(|mut s| s.execute([gone_file.known.file_id]))
                .ctx("removing a file")?;
            report.removed += 1;
            let remaining: i64 = tx
                .prepare_cached("SELECT count(*) FROM files WHERE track_id = ?1")
                .and_then(|mut s| s.query_row([gone_file.known.track_id], |r| r.get(0)))
                .ctx("counting a track's files")?;
            if remaining == 0 {
                Store::drop_local_track(&tx, gone_file.known.track_id)?;
            }
        }
        for path in failures.keys() {
            tx.prepare_cached("DELETE FROM scan_failures WHERE path = ?1")
                .and_then(|mut s| s.execute([path]))
                .ctx("forgetting a failure")?;
        }
    }
    let mut rewritten = report.updated + report.moved;
    rewritten += compilations::regroup(&tx, &folder_albums.folders(), options.now)?;
    if !report.cancelled {
        rewritten += adopt_folder_covers(
            &tx,
            &readers,
            &root_ids,
            &under_target,
            previous_scan,
            options.now,
        )?;
    }
    if rewritten > 0 {
        feed::republish_changed(&tx, to_millis(options.now), options.now)?;
    }
    Store::collect_orphans(&tx)?;
    for target in targets {
        tx.execute(
            "UPDATE roots SET reachable = 1, last_scan_at = ?2 WHERE id = ?1",
            params![target.root_id, to_millis(options.now)],
        )
        .ctx("recording the scan time")?;
    }
    tx.commit().ctx("committing the clean-up")?;

    report.elapsed = started.elapsed();
    tracing::info!(
        scanned = report.scanned,
        added = report.added,
        updated = report.updated,
        removed = report.removed,
        failed = report.failed.len(),
        elapsed_ms = report.elapsed.as_millis() as u64,
        writing_ms = writing.as_millis() as u64,
        "scan finished"
    );
    Ok(report)
}

/// When the targets' roots were last scanned (ms since the epoch; the earliest of them), or `None`
/// if one of them never was.
fn previous_scan(conn: &Connection, roots: &HashSet<RootId>) -> Result<Option<i64>> {
    let mut earliest: Option<i64> = None;
    for root in roots {
        let at: Option<i64> = conn
            .query_row(
                "SELECT last_scan_at FROM roots WHERE id = ?1",
                [root],
                |r| r.get(0),
            )
            .ctx("reading when a root was scanned")?;
        let Some(at) = at else { return Ok(None) };
        earliest = Some(earliest.map_or(at, |e| e.min(at)));
    }
    Ok(earliest)
}

/// How long before the previous scan a folder's modification time still counts as a change since
/// then: file systems with coarse timestamps or a skewed clock (FAT, network shares) must not hide
/// an image added just after a scan.
const FOLDER_CHANGE_SLACK_MS: i64 = 24 * 60 * 60 * 1000;

/// Gives the tracks under the targets that have no cover the folder image beside their file (or
/// above their disc's folder), where one has appeared: adding `cover.jpg` changes no audio file,
/// so the scan did not read them again. Only folders modified since the previous scan (`since`;
/// `None`: every folder) are looked in. Returns how many tracks got a cover.
fn adopt_folder_covers(
    tx: &Transaction<'_>,
    readers: &Readers<'_>,
    roots: &HashSet<RootId>,
    under_target: &dyn Fn(&Path) -> bool,
    since: Option<i64>,
    now: SystemTime,
) -> Result<u64> {
    let coverless = load_by_path(
        tx,
        // CROSS JOIN keeps this order, so the tracks come from the small partial index, and the
        // unary + keeps the root's index from standing in for the track's.
        "SELECT f.path, f.track_id FROM tracks t CROSS JOIN files f ON f.track_id = t.id
         WHERE t.cover_hash IS NULL AND +f.root_id = ?1",
        roots,
        under_target,
        "finding tracks without a cover",
        |r| Ok(TrackId(r.get(1)?)),
    )?;
    let mut by_folder: HashMap<PathBuf, Vec<(PathBuf, TrackId)>> = HashMap::new();
    for (path, track) in coverless {
        let file = paths::from_bytes(&path);
        if let Some(dir) = file.parent() {
            by_folder
                .entry(dir.to_owned())
                .or_default()
                .push((file, track));
        }
    }
    let modified_since = |dir: &Path, since: i64| {
        std::fs::metadata(dir)
            .and_then(|m| m.modified())
            .is_ok_and(|t| to_millis(t) >= since.saturating_sub(FOLDER_CHANGE_SLACK_MS))
    };
    let mut adopted = 0;
    for (dir, tracks) in by_folder {
        let changed = since.is_none_or(|since| {
            modified_since(&dir, since)
                || covers::disc_folder_parent(&dir).is_some_and(|p| modified_since(p, since))
        });
        let Some(cover) = changed
            .then(|| readers.folder_cover(&tracks[0].0))
            .flatten()
        else {
            continue;
        };
        Store::record_cover(tx, &cover)?;
        for (_, track) in tracks {
            tx.prepare_cached("UPDATE tracks SET cover_hash = ?2, updated_at = ?3 WHERE id = ?1")
                .and_then(|mut s| s.execute(params![track, cover.hash, to_millis(now)]))
                .ctx("giving a track its folder's cover")?;
            adopted += 1;
        }
    }
    if adopted > 0 {
        tracing::info!(
            tracks = adopted,
            "tracks took a folder image as their cover"
        );
    }
    Ok(adopted)
}

/// Walks `target`, handing each audio file found to `sorter`. Returns false if the scan was
/// cancelled or its readers stopped.
fn walk(target: &Target, sorter: &mut Sorter<'_>, cancel: &AtomicBool) -> bool {
    let walker = walkdir::WalkDir::new(&target.path)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| !is_hidden(e));
    for entry in walker {
        if cancel.load(Ordering::Relaxed) {
            return false;
        }
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| target.path.clone());
                if let Some(ancestor) = e.loop_ancestor() {
                    sorter.walked.failed.push(ScanFailure {
                        reason: format!("symbolic link loop back to {}", ancestor.display()),
                        path,
                    });
                    continue;
                }
                if e.io_error().map(std::io::Error::kind) == Some(std::io::ErrorKind::NotFound)
                    && path == target.path
                {
                    continue; // The target was deleted: everything under it is gone.
                }
                let reason = match e.io_error() {
                    Some(io) => format!("cannot read: {io}"),
                    None => e.to_string(),
                };
                sorter.walked.failed.push(ScanFailure {
                    path: path.clone(),
                    reason,
                });
                sorter.walked.unreadable.push(path);
                continue;
            }
        };
        if !entry.file_type().is_file() || !is_audio_path(entry.path()) {
            continue;
        }
        let meta = match entry.metadata() {
            Ok(meta) => meta,
            Err(e) => {
                sorter.walked.failed.push(ScanFailure {
                    path: entry.path().to_owned(),
                    reason: format!("cannot read: {e}"),
                });
                sorter.walked.unreadable.push(entry.path().to_owned());
                continue;
            }
        };
        let found = Found {
            path: entry.into_path(),
            root_id: target.root_id,
            size: meta.len(),
            mtime_ns: mtime_ns(&meta),
        };
        if !sorter.sort(found) {
            return false;
        }
    }
    true
}

/// What the walk leaves for the rest of the scan.
#[derive(Default)]
struct Walked {
    /// Files the catalog knew under the targets that the walk did not find.
    known: HashMap<Vec<u8>, Known>,
    /// Earlier failures under the targets that the walk did not find.
    failures: HashMap<Vec<u8>, KnownFailure>,
    /// Folders and files that could not be read: what the catalog knows under them stays.
    unreadable: Vec<PathBuf>,
    /// What could not be walked, and earlier failures found unchanged.
    failed: Vec<ScanFailure>,
    /// Audio files found.
    scanned: u64,
    /// Files found unchanged since the catalog last read them.
    unchanged: u64,
}

/// Audio files handed from the walk to the readers at a time.
const CHUNK: usize = 64;

/// How long the readers wait for a slow walk to fill a batch before reading what it has found.
const FILL_WAIT: Duration = Duration::from_millis(50);

/// The walk's side of a scan: compares each file found with the catalog and hands the ones to
/// read to the readers, in chunks.
struct Sorter<'a> {
    walked: Walked,
    chunk: Vec<ToRead>,
    jobs: crossbeam_channel::Sender<Vec<ToRead>>,
    /// Files found at paths the catalog does not know, so far.
    new_files: &'a AtomicUsize,
    progress: &'a SharedProgress<'a>,
    /// Progress not yet reported: found, handled, failed.
    pending: (u64, u64, u64),
}

impl<'a> Sorter<'a> {
    fn new(
        known: HashMap<Vec<u8>, Known>,
        failures: HashMap<Vec<u8>, KnownFailure>,
        jobs: crossbeam_channel::Sender<Vec<ToRead>>,
        new_files: &'a AtomicUsize,
        progress: &'a SharedProgress<'a>,
    ) -> Self {
        Self {
            walked: Walked {
                known,
                failures,
                ..Walked::default()
            },
            chunk: Vec::with_capacity(CHUNK),
            jobs,
            new_files,
            progress,
            pending: (0, 0, 0),
        }
    }

    /// Sorts a file the walk found: unchanged, failed again, or to read. Returns false if the
    /// readers have stopped.
    fn sort(&mut self, found: Found) -> bool {
        let key = paths::to_bytes(&found.path);
        let known = self.walked.known.remove(&key);
        let failure = self.walked.failures.remove(&key);
        self.walked.scanned += 1;
        self.pending.0 += 1;
        match (known, failure) {
            (_, Some(fail)) if fail.size == found.size && fail.mtime_ns == found.mtime_ns => {
                self.walked.failed.push(ScanFailure {
                    path: found.path.clone(),
                    reason: fail.reason,
                });
                self.pending.1 += 1;
                self.pending.2 += 1;
            }
            (Some(k), _) if k.size == found.size && k.mtime_ns == found.mtime_ns => {
                self.walked.unchanged += 1;
                self.pending.1 += 1;
            }
            (known, failure) => {
                if known.is_none() {
                    self.new_files.fetch_add(1, Ordering::Relaxed);
                }
                self.chunk.push(ToRead {
                    failed_before: failure.is_some(),
                    found,
                    known,
                });
                if self.chunk.len() == CHUNK {
                    return self.send(false);
                }
                return true;
            }
        }
        if self.pending.0 >= CHUNK as u64 {
            self.report(Some(found.path), false);
        }
        true
    }

    /// Reports the progress not yet reported, then hands the chunk to the readers (reporting
    /// first, so that no file is counted as handled before it is counted as found).
    fn send(&mut self, walk_done: bool) -> bool {
        let current = self.chunk.last().map(|job| job.found.path.clone());
        self.report(current, walk_done);
        if self.chunk.is_empty() {
            return true;
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
        self.jobs.send(chunk).is_ok()
    }

    fn report(&mut self, current: Option<PathBuf>, walk_done: bool) {
        let (found, handled, failed) = std::mem::take(&mut self.pending);
        self.progress.update(|state| {
            state.discovered += found;
            state.processed += handled;
            state.failed += failed;
            if current.is_some() || walk_done {
                state.current = current;
            }
            state.walk_done |= walk_done;
        });
    }

    /// Ends the walk: hands over the last chunk and reports the walk done. Dropping the sender
    /// afterwards tells the readers there is no more to come.
    fn finish(mut self) -> Walked {
        self.send(true);
        self.walked
    }
}

/// The scan's progress, updated by the walking and the writing threads and reported under one
/// lock, so that the subscriber sees the counts in order.
struct SharedProgress<'p> {
    state: Mutex<ScanProgress>,
    notify: &'p (dyn Fn(&ScanProgress) + Sync),
}

impl SharedProgress<'_> {
    fn update(&self, change: impl FnOnce(&mut ScanProgress)) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        change(&mut state);
        (self.notify)(&state);
    }
}

/// The walk's outcome, once it is over; a panic in the walk goes on in the scan's thread.
fn join(walker: Option<std::thread::ScopedJoinHandle<'_, Walked>>) -> Walked {
    match walker.map(std::thread::ScopedJoinHandle::join) {
        Some(Ok(walked)) => walked,
        Some(Err(panic)) => std::panic::resume_unwind(panic),
        None => Walked::default(),
    }
}

/// Rows of `sql` (whose first column is a path and whose one parameter is a root id) for every
/// root in `roots`, keyed by path, keeping only paths under a scan target.
fn load_by_path<T>(
    conn: &Connection,
    sql: &str,
    roots: &HashSet<RootId>,
    under_target: &dyn Fn(&Path) -> bool,
    context: &'static str,
    row: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<HashMap<Vec<u8>, T>> {
    let mut stmt = conn.prepare(sql).ctx(context)?;
    let mut out = HashMap::new();
    for root in roots {
        let rows = stmt
            .query_map([root], |r| Ok((r.get::<_, Vec<u8>>(0)?, row(r)?)))
            .ctx(context)?;
        for item in rows {
            let (path, value) = item.ctx(context)?;
            if under_target(&paths::from_bytes(&path)) {
                out.insert(path, value);
            }
        }
    }
    Ok(out)
}

fn load_known(
    conn: &Connection,
    roots: &HashSet<RootId>,
    under_target: &dyn Fn(&Path) -> bool,
) -> Result<HashMap<Vec<u8>, Known>> {
    load_by_path(
        conn,
        "SELECT path, id, track_id, size, mtime_ns FROM files WHERE root_id = ?1",
        roots,
        under_target,
        "loading known files",
        |r| {
            Ok(Known {
                file_id: r.get(1)?,
                track_id: TrackId(r.get(2)?),
                size: r.get(3)?,
                mtime_ns: r.get(4)?,
            })
        },
    )
}

fn load_failures(
    conn: &Connection,
    roots: &HashSet<RootId>,
    under_target: &dyn Fn(&Path) -> bool,
) -> Result<HashMap<Vec<u8>, KnownFailure>> {
    load_by_path(
        conn,
        "SELECT path, size, mtime_ns, reason FROM scan_failures WHERE root_id = ?1",
        roots,
        under_target,
        "loading earlier failures",
        |r| {
            Ok(KnownFailure {
                size: r.get(1)?,
                mtime_ns: r.get(2)?,
                reason: r.get(3)?,
            })
        },
    )
}

pub(crate) fn load_covers(conn: &Connection) -> Result<Vec<CoverInfo>> {
    let mut stmt = conn
        .prepare("SELECT hash, mime, width, height, bytes FROM covers")
        .ctx("loading covers")?;
    let rows = stmt
        .query_map([], |r| {
            let mime: String = r.get(1)?;
            Ok(CoverInfo {
                hash: r.get(0)?,
                mime: static_mime(&mime),
                width: r.get(2)?,
                height: r.get(3)?,
                bytes: r.get(4)?,
            })
        })
        .ctx("loading covers")?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .ctx("loading covers")
}

fn static_mime(mime: &str) -> &'static str {
    ["image/png", "image/gif", "image/webp", "image/bmp"]
        .into_iter()
        .find(|m| *m == mime)
        .unwrap_or("image/jpeg")
}

/// A file the catalog knew that this scan has not found (yet).
#[derive(Debug)]
struct GoneFile {
    known: Known,
    /// Title, artist, album and duration, loaded when a same-size file appears.
    identity: Option<Option<(String, String, String, i64)>>,
}

/// Files not found so far, indexed by size for move detection.
struct Gone {
    files: HashMap<Vec<u8>, GoneFile>,
    by_size: HashMap<u64, Vec<Vec<u8>>>,
}

impl Gone {
    /// The known files the walk did not find, less those under a folder it could not read.
    fn new(mut known: HashMap<Vec<u8>, Known>, unreadable: &[PathBuf]) -> Self {
        if !unreadable.is_empty() {
            known.retain(|path, _| {
                let path = paths::from_bytes(path);
                !unreadable.iter().any(|u| path.starts_with(u))
            });
        }
        let mut by_size: HashMap<u64, Vec<Vec<u8>>> = HashMap::new();
        for (path, k) in &known {
            by_size.entry(k.size).or_default().push(path.clone());
        }
        let files = known
            .into_iter()
            .map(|(p, known)| {
                (
                    p,
                    GoneFile {
                        known,
                        identity: None,
                    },
                )
            })
            .collect();
        Self { files, by_size }
    }

    /// Finds and takes the gone file that `found` (read as `rec`) is a move of.
    fn take_match(
        &mut self,
        conn: &Connection,
        found: &Found,
        rec: &TrackRecord,
    ) -> Result<Option<Known>> {
        let Some(candidates) = self.by_size.get(&found.size) else {
            return Ok(None);
        };
        let candidates: Vec<Vec<u8>> = candidates
            .iter()
            .filter(|p| self.files.contains_key(*p))
            .cloned()
            .collect();
        let mut chosen = candidates
            .iter()
            .find(|p| {
                self.files
                    .get(*p)
                    .is_some_and(|g| g.known.mtime_ns == found.mtime_ns)
            })
            .cloned();
        if chosen.is_none() {
            let identity = rec.identity();
            for path in &candidates {
                let Some(gone) = self.files.get_mut(path) else {
                    continue;
                };
                if gone.identity.is_none() {
                    gone.identity = Some(track_identity(conn, gone.known.track_id)?);
                }
                if gone.identity.as_ref().and_then(Option::as_ref) == Some(&identity) {
                    chosen = Some(path.clone());
                    break;
                }
            }
        }
        Ok(chosen.and_then(|p| self.files.remove(&p)).map(|g| g.known))
    }

    fn drain(&mut self) -> impl Iterator<Item = (Vec<u8>, GoneFile)> + '_ {
        self.files.drain()
    }
}

fn track_identity(conn: &Connection, id: TrackId) -> Result<Option<(String, String, String, i64)>> {
    use rusqlite::OptionalExtension;
    conn.prepare_cached(
        "SELECT t.title, t.artist, a.title, t.duration_ms FROM tracks t
         JOIN albums a ON a.id = t.album_id WHERE t.id = ?1",
    )
    .and_then(|mut s| {
        s.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()
    })
    .ctx("loading a track's identity")
}

/// The scan's writing side: each batch in a transaction of its own, in a bulk load when the scan
/// brings more new files than the catalog holds tracks.
struct Writer<'c> {
    conn: &'c Connection,
    store: Store,
    /// Whether this scan dropped the secondary indexes, to build them again at the end.
    bulk: bool,
    /// The tracks the catalog held before the scan's first batch.
    tracks_before: Option<u64>,
    /// The albums of the folders it wrote tracks without an album artist to.
    folder_albums: FolderAlbums,
}

impl<'c> Writer<'c> {
    fn new(conn: &'c Connection) -> Self {
        Self {
            conn,
            store: Store::default(),
            bulk: false,
            folder_albums: FolderAlbums::default(),
            tracks_before: None,
        }
    }

    /// Writes a batch of read files, in a transaction of its own. `new_files` is how many files
    /// at paths the catalog did not know the walk has found so far: once they outnumber the
    /// tracks the catalog held, the rest of the scan is a bulk load.
    fn write(
        &mut self,
        mut batch: Vec<Read>,
        gone: &mut Gone,
        new_files: usize,
        now: SystemTime,
        report: &mut ScanReport,
        progress: &SharedProgress<'_>,
    ) -> Result<()> {
        let tracks_before = match self.tracks_before {
            Some(n) => n,
            None => *self.tracks_before.insert(count_tracks(self.conn)?),
        };
        if !self.bulk && bulk_load::worthwhile(new_files, tracks_before) {
            bulk_load::drop_indexes(self.conn)?;
            self.bulk = true;
        }
        let tx = Transaction::new_unchecked(self.conn, TransactionBehavior::Deferred)
            .ctx("starting a batch")?;
        for read in &mut batch {
            if let Ok(rec) = &mut read.result {
                self.folder_albums.file(&read.job.found.path, rec);
            }
        }
        let mut done = BatchProgress::default();
        let written = write_batch(&tx, &mut self.store, batch, gone, now, report, &mut done);
        written.and_then(|()| tx.commit().ctx("committing a batch"))?;
        progress.update(|state| {
            state.processed += done.processed;
            state.failed += done.failed;
            if done.current.is_some() {
                state.current = done.current;
            }
        });
        Ok(())
    }

    /// Builds the indexes a bulk load dropped, whether or not the writing went well. An error
    /// building them is returned, but the writing's comes first: the indexes are then built when
    /// the catalog is next opened.
    fn finish(self, written: Result<()>) -> Result<()> {
        if !self.bulk {
            return written;
        }
        let built = bulk_load::build_dropped_indexes(self.conn);
        written.and(built)
    }
}

fn count_tracks(conn: &Connection) -> Result<u64> {
    conn.query_row("SELECT count(*) FROM tracks", [], |r| r.get(0))
        .ctx("counting tracks")
}

/// What writing a batch has handled.
#[derive(Default)]
struct BatchProgress {
    processed: u64,
    failed: u64,
    current: Option<PathBuf>,
}

/// Writes a batch of read files in `tx`, a transaction the caller commits.
fn write_batch(
    tx: &Connection,
    store: &mut Store,
    batch: Vec<Read>,
    gone: &mut Gone,
    now: SystemTime,
    report: &mut ScanReport,
    done: &mut BatchProgress,
) -> Result<()> {
    let last = batch.last().map(|read| read.job.found.path.clone());
    for Read { job, result } in batch {
        let ToRead {
            found,
            known,
            failed_before,
        } = job;
        done.processed += 1;
        match result {
            Ok(rec) => {
                if failed_before {
                    tx.prepare_cached("DELETE FROM scan_failures WHERE path = ?1")
                        .and_then(|mut s| s.execute([paths::to_bytes(&found.path)]))
                        .ctx("clearing a failure")?;
                }
                if let Some(k) = known {
                    store.update_track(tx, k.track_id, &rec, now)?;
                    Store::update_file(
                        tx,
                        k.file_id,
                        found.root_id,
                        &found.path,
                        found.size,
                        found.mtime_ns,
                    )?;
                    report.updated += 1;
                } else if let Some(k) = gone.take_match(tx, &found, &rec)? {
                    store.update_track(tx, k.track_id, &rec, now)?;
                    Store::update_file(
                        tx,
                        k.file_id,
                        found.root_id,
                        &found.path,
                        found.size,
                        found.mtime_ns,
                    )?;
                    report.moved += 1;
                } else {
                    let id = store.insert_track(tx, &rec, now)?;
                    Store::insert_file(
                        tx,
                        id,
                        found.root_id,
                        &found.path,
                        found.size,
                        found.mtime_ns,
                    )?;
                    report.added += 1;
                }
            }
            Err(reason) => {
                tx.prepare_cached(
                    "INSERT INTO scan_failures(path, root_id, size, mtime_ns, reason)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(path) DO UPDATE SET
                         root_id = excluded.root_id, size = excluded.size,
                         mtime_ns = excluded.mtime_ns, reason = excluded.reason",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        paths::to_bytes(&found.path),
                        found.root_id,
                        found.size,
                        found.mtime_ns,
                        reason
                    ])
                })
                .ctx("recording a failure")?;
                done.failed += 1;
                report.failed.push(ScanFailure {
                    path: found.path,
                    reason,
                });
            }
        }
    }
    done.current = last;
    Ok(())
}

/// What a scan request resolves to.
pub(crate) struct Resolved {
    /// The parts of reachable roots to scan.
    pub targets: Vec<Target>,
    /// Roots that cannot be reached now.
    pub unreachable: Vec<(RootId, PathBuf)>,
}

/// Resolves the paths a user asked to scan into targets, adding new roots as needed.
pub(crate) fn resolve_targets(
    conn: &Connection,
    requested: &[PathBuf],
    now: SystemTime,
) -> Result<Resolved> {
    let mut roots = load_roots(conn)?;
    let mut targets = Vec::new();
    let mut unreachable = Vec::new();
    if requested.is_empty() {
        for (id, root) in roots {
            if std::fs::read_dir(&root).is_ok() {
                targets.push(Target {
                    root_id: id,
                    path: root,
                });
            } else {
                unreachable.push((id, root));
            }
        }
        return Ok(Resolved {
            targets,
            unreachable,
        });
    }
    for path in requested {
        let absolute = std::path::absolute(path).map_err(io_error(path))?;
        // A known root that cannot be reached right now is missing, not an error.
        let canonical = match std::fs::canonicalize(&absolute) {
            Ok(c) => c,
            Err(e) => {
                if let Some((id, root)) = roots.iter().find(|(_, r)| *r == absolute) {
                    unreachable.push((*id, root.clone()));
                    continue;
                }
                return Err(Error::Io {
                    path: path.clone(),
                    source: e,
                });
            }
        };
        if let Some((id, root)) = roots.iter().find(|(_, r)| canonical.starts_with(r)) {
            if std::fs::read_dir(root).is_err() {
                unreachable.push((*id, root.clone()));
                continue;
            }
            targets.push(Target {
                root_id: *id,
                path: canonical,
            });
            continue;
        }
        if !canonical.is_dir() {
            return Err(Error::NotAFolder { path: path.clone() });
        }
        std::fs::read_dir(&canonical).map_err(io_error(&canonical))?;
        let id = add_root(conn, &canonical, now)?;
        // Roots inside the new one become part of it.
        for (inner_id, _) in roots.iter().filter(|(_, r)| r.starts_with(&canonical)) {
            conn.execute(
                "UPDATE files SET root_id = ?1 WHERE root_id = ?2",
                [id, *inner_id],
            )
            .ctx("merging a root")?;
            conn.execute(
                "UPDATE scan_failures SET root_id = ?1 WHERE root_id = ?2",
                [id, *inner_id],
            )
            .ctx("merging a root")?;
            conn.execute("DELETE FROM roots WHERE id = ?1", [inner_id])
                .ctx("merging a root")?;
            targets.retain(|t: &Target| t.root_id != *inner_id);
        }
        roots.retain(|(_, r)| !r.starts_with(&canonical));
        roots.push((id, canonical.clone()));
        targets.push(Target {
            root_id: id,
            path: canonical,
        });
    }
    // A target inside another target is scanned once, by the outer one.
    let all: Vec<PathBuf> = targets.iter().map(|t| t.path.clone()).collect();
    targets.retain(|t| !all.iter().any(|o| o != &t.path && t.path.starts_with(o)));
    targets.dedup_by(|a, b| a.path == b.path);
    Ok(Resolved {
        targets,
        unreachable,
    })
}

pub(crate) fn load_roots(conn: &Connection) -> Result<Vec<(RootId, PathBuf)>> {
    let mut stmt = conn
        .prepare("SELECT id, path FROM roots ORDER BY id")
        .ctx("loading roots")?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                RootId(r.get(0)?),
                paths::from_bytes(&r.get::<_, Vec<u8>>(1)?),
            ))
        })
        .ctx("loading roots")?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .ctx("loading roots")
}

fn add_root(conn: &Connection, path: &Path, now: SystemTime) -> Result<RootId> {
    conn.execute(
        "INSERT INTO roots(path, added_at) VALUES (?1, ?2)",
        params![paths::to_bytes(path), to_millis(now)],
    )
    .ctx("adding a root")?;
    Ok(RootId(conn.last_insert_rowid()))
}

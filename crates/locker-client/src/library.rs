//! Scan and match over a whole catalog (DESIGN.md, data flow 3): hash the chosen tracks that the
//! locker lacks (each file once: the catalog keeps the hashes until the file changes), ask the
//! locker about all of them, prove the claims, queue what it needs, and upload the queue, a few
//! files at a time, each resumable from its last acknowledged chunk. The command line's `upload`
//! and the desktop app both run this.
//!
//! The catalog stays on the calling thread (its connection is not shared): upload threads report
//! to it, and it writes each file's state, and each finished file's locker copy, as they come.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use skylark_catalog::{Catalog, MatchCandidate, PlaylistId, QueuedUpload, TrackId};
use skylark_locker_api::MatchVerdict;

use crate::bandwidth::Bandwidth;
use crate::client::Client;
use crate::error::Result;
use crate::matching::LocalFile;
use crate::upload::{TransferControl, Upload, UploadEvent, UploadOptions, UploadOutcome};

/// The bytes of one PATCH: what a dropped connection costs at most.
const CHUNK_BYTES: u64 = 1024 * 1024;

/// What to upload and how.
#[derive(Debug, Clone)]
pub struct LibraryUpload {
    /// Ask and count only: send and record nothing.
    pub dry_run: bool,
    /// Files uploaded at once (1 to 8).
    pub parallel: usize,
    /// A limit for all the uploads together.
    pub bandwidth: Option<Bandwidth>,
    /// Only tracks whose file is under one of these folders (none: every folder).
    pub folders: Vec<PathBuf>,
    /// Only tracks on one of these playlists (none: every track).
    pub playlists: Vec<PlaylistId>,
    /// Pauses or cancels the uploads from another thread; a paused run returns, its files
    /// still queued.
    pub control: TransferControl,
}

impl Default for LibraryUpload {
    fn default() -> Self {
        Self {
            dry_run: false,
            parallel: 2,
            bandwidth: None,
            folders: Vec::new(),
            playlists: Vec::new(),
            control: TransferControl::new(),
        }
    }
}

/// How far a run has got, for a progress display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum LibraryProgress {
    /// Hashing files that have no kept hashes.
    Hashing {
        /// Files hashed.
        done: u64,
        /// Files to hash.
        total: u64,
    },
    /// Uploading the queue.
    Uploading {
        /// Files finished.
        files_done: u64,
        /// Files in the queue when uploading began.
        files_total: u64,
        /// Bytes the locker holds or that are on their way, of the queue's files.
        bytes_done: u64,
        /// The queue's files' bytes.
        bytes_total: u64,
        /// The title of the file whose bytes went last.
        current: Option<String>,
        /// Bytes per second over the last few seconds (0 until there is a measure).
        bytes_per_second: u64,
        /// Seconds left at that rate, once there is one.
        eta_seconds: Option<u64>,
    },
}

/// The window the upload rate is measured over: long enough to smooth chunk bursts, short
/// enough to follow a changed bandwidth limit.
const RATE_WINDOW: Duration = Duration::from_secs(5);

/// The rate of a transfer over the last [`RATE_WINDOW`], from samples of its bytes done.
#[derive(Debug, Default)]
struct Rate {
    samples: VecDeque<(Instant, u64)>,
}

impl Rate {
    /// Adds that `bytes` were done at `at`; returns the bytes per second over the window (0
    /// before a second sample, or over less than a tenth of a second).
    fn sample(&mut self, at: Instant, bytes: u64) -> u64 {
        self.samples.push_back((at, bytes));
        while self
            .samples
            .front()
            .is_some_and(|(t, _)| at.duration_since(*t) > RATE_WINDOW)
            && self.samples.len() > 2
        {
            self.samples.pop_front();
        }
        let Some(&(first_at, first)) = self.samples.front() else {
            return 0;
        };
        let span = at.duration_since(first_at).as_secs_f64();
        if span < 0.1 {
            return 0;
        }
        (bytes.saturating_sub(first) as f64 / span) as u64
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LibraryUploadReport {
    /// Files the locker already holds for this account (this recording, from any device).
    pub have: u64,
    /// Files the locker held for another account, linked to this one by proof of possession.
    pub claimed: u64,
    /// Files uploaded (with `dry_run`: that would be), earlier runs' unfinished ones included.
    pub uploaded: u64,
    /// File bytes sent, resent ones included, and those of files that failed or were paused.
    pub bytes_sent: u64,
    /// Files that could not be read or sent; those the locker asked for stay queued.
    pub failed: u64,
    /// What went wrong with each failed file: its path (or track) and why.
    pub failures: Vec<(String, String)>,
    /// Whether nothing was sent or recorded.
    pub dry_run: bool,
    /// Whether the run was paused before the queue was done.
    pub paused: bool,
}

impl LibraryUploadReport {
    fn fail(&mut self, what: String, why: String) {
        self.failed += 1;
        self.failures.push((what, why));
    }
}

/// What an upload thread tells the catalog's thread. `Done`, `Paused` and `Failed` carry the
/// file bytes the upload sent, resent ones included: a file that did not finish cost them too.
enum Report {
    Saved(TrackId, String, u64),
    Progress(TrackId, u64),
    Done(TrackId, String, u64),
    Paused(u64),
    Failed(TrackId, String, u64),
}

impl Client {
    /// Runs scan and match over `catalog` as `options` say, reporting progress as it goes, and
    /// syncs at the end so other devices see the new tracks (not in a dry run).
    ///
    /// # Errors
    ///
    /// [`Error::Catalog`](crate::Error::Catalog) from the catalog, and errors of the locker for
    /// the match or the sync; a file that cannot be read or sent is a failure in the report,
    /// not an error.
    pub fn upload_library(
        &self,
        catalog: &mut Catalog,
        options: &LibraryUpload,
        progress: &mut dyn FnMut(LibraryProgress),
    ) -> Result<LibraryUploadReport> {
        let mut report = LibraryUploadReport {
            dry_run: options.dry_run,
            ..LibraryUploadReport::default()
        };
        let chosen = chosen_tracks(catalog, &options.playlists)?;
        let candidates: Vec<MatchCandidate> = catalog
            .tracks_to_match()?
            .into_iter()
            .filter(|c| chosen.as_ref().is_none_or(|set| set.contains(&c.track)))
            .filter(|c| {
                options.folders.is_empty() || options.folders.iter().any(|f| c.path.starts_with(f))
            })
            .collect();
        let to_hash = candidates
            .iter()
            .filter(|c| kept_hashes(c).is_none())
            .count() as u64;
        let mut hashed_now = 0;
        let mut hashed: Vec<(TrackId, LocalFile)> = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            // Hashed before and unchanged since: the kept hashes serve.
            if let Some(file) = kept_hashes(&candidate) {
                hashed.push((candidate.track, file));
                continue;
            }
            progress(LibraryProgress::Hashing {
                done: hashed_now,
                total: to_hash,
            });
            hashed_now += 1;
            match LocalFile::hash(&candidate.path) {
                Ok(file) => {
                    let audio_id = file.audio_id.map(|id| id.to_hex());
                    catalog.record_hashes(
                        &file.path,
                        &file.file_hash.to_hex(),
                        audio_id.as_deref(),
                    )?;
                    hashed.push((candidate.track, file));
                }
                Err(e) => report.fail(candidate.path.display().to_string(), e.to_string()),
            }
        }
        let files: Vec<LocalFile> = hashed.iter().map(|(_, f)| f.clone()).collect();
        let verdicts = self.match_files(&files)?;
        for ((track, file), verdict) in hashed.iter().zip(verdicts) {
            match verdict {
                // The locker has this recording: the feed brings its track, which joins this one.
                MatchVerdict::Have => report.have += 1,
                MatchVerdict::Claim { .. } if options.dry_run => report.claimed += 1,
                MatchVerdict::Upload if options.dry_run => report.uploaded += 1,
                MatchVerdict::Claim { challenge } => match self.prove_claim(&challenge, &file.path)
                {
                    Ok(hash) => {
                        catalog.set_in_locker(*track, &hash.to_hex(), SystemTime::now())?;
                        report.claimed += 1;
                    }
                    Err(e) => report.fail(file.path.display().to_string(), e.to_string()),
                },
                MatchVerdict::Upload => {
                    let state = serde_json::to_string(&Upload::new(file)).map_err(|e| {
                        crate::Error::Protocol {
                            request: "queueing an upload".to_owned(),
                            message: e.to_string(),
                        }
                    })?;
                    catalog.queue_upload(*track, &state, file.size, SystemTime::now())?;
                }
            }
        }
        if !options.dry_run {
            self.run_queue(catalog, options, &mut report, progress)?;
            self.sync(catalog)?;
        }
        Ok(report)
    }

    /// Uploads every queued file, `options.parallel` at a time, saving each one's state as the
    /// locker acknowledges its bytes, and finishing each (off the queue, published) in one
    /// transaction.
    fn run_queue(
        &self,
        catalog: &mut Catalog,
        options: &LibraryUpload,
        report: &mut LibraryUploadReport,
        progress: &mut dyn FnMut(LibraryProgress),
    ) -> Result<()> {
        let queue = catalog.upload_queue()?;
        if queue.is_empty() {
            return Ok(());
        }
        let files_total = queue.len() as u64;
        let bytes_total: u64 = queue.iter().map(|q| q.size).sum();
        let mut sent: HashMap<TrackId, u64> = queue.iter().map(|q| (q.track, q.sent)).collect();
        let mut files_done = 0;
        let mut rate = Rate::default();
        let mut current: Option<(TrackId, String)> = None;
        let jobs = Mutex::new(VecDeque::from(queue));
        let upload_options = UploadOptions {
            chunk_bytes: CHUNK_BYTES,
            bandwidth: options.bandwidth.clone(),
            ..UploadOptions::default()
        };
        let (reports, received) = mpsc::channel::<Report>();
        std::thread::scope(|scope| -> Result<()> {
            for _ in 0..options.parallel.clamp(1, 8) {
                let reports = reports.clone();
                let (jobs, upload_options) = (&jobs, &upload_options);
                scope.spawn(move || {
                    loop {
                        let next = jobs
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .pop_front();
                        let Some(queued) = next else { return };
                        if self.upload_one(queued, upload_options, &options.control, &reports) {
                            return;
                        }
                    }
                });
            }
            drop(reports);
            for message in received {
                match message {
                    Report::Saved(track, state, acknowledged) => {
                        catalog.save_upload(track, &state, acknowledged)?;
                    }
                    Report::Progress(track, bytes) => {
                        sent.insert(track, bytes);
                        if current.as_ref().is_none_or(|(t, _)| *t != track) {
                            let title = catalog.track(track).map(|t| t.title).unwrap_or_default();
                            current = Some((track, title));
                        }
                    }
                    Report::Done(track, blob, bytes) => {
                        catalog.finish_upload(track, &blob, SystemTime::now())?;
                        report.uploaded += 1;
                        report.bytes_sent += bytes;
                        files_done += 1;
                    }
                    Report::Paused(bytes) => {
                        report.paused = true;
                        report.bytes_sent += bytes;
                    }
                    Report::Failed(track, error, bytes) => {
                        catalog.fail_upload(track, &error)?;
                        report.fail(format!("track {track}"), error);
                        report.bytes_sent += bytes;
                    }
                }
                let bytes_done: u64 = sent.values().sum();
                let bytes_per_second = rate.sample(Instant::now(), bytes_done);
                progress(LibraryProgress::Uploading {
                    files_done,
                    files_total,
                    bytes_done,
                    bytes_total,
                    current: current.as_ref().map(|(_, title)| title.clone()),
                    bytes_per_second,
                    eta_seconds: (bytes_per_second > 0)
                        .then(|| bytes_total.saturating_sub(bytes_done) / bytes_per_second),
                });
            }
            Ok(())
        })
    }

    /// Uploads one queued file from where it stopped, reporting to the catalog's thread.
    /// Returns true when the run was paused (the thread takes no more files).
    fn upload_one(
        &self,
        queued: QueuedUpload,
        options: &UploadOptions,
        control: &TransferControl,
        reports: &mpsc::Sender<Report>,
    ) -> bool {
        let track = queued.track;
        let mut state: Upload = match serde_json::from_str(&queued.state) {
            Ok(state) => state,
            Err(e) => {
                let _ = reports.send(Report::Failed(
                    track,
                    format!("its upload state is unreadable: {e}"),
                    0,
                ));
                return false;
            }
        };
        let mut sent = 0;
        let mut on_event = |event: &UploadEvent, up: &Upload| match event {
            UploadEvent::Created { .. }
            | UploadEvent::Resumed { .. }
            | UploadEvent::Acknowledged { .. } => {
                if let Ok(json) = serde_json::to_string(up) {
                    let _ = reports.send(Report::Saved(track, json, up.offset));
                }
            }
            UploadEvent::Progress { sent, .. } => {
                let _ = reports.send(Report::Progress(track, *sent));
            }
            _ => {}
        };
        let result = self.upload_counted(&mut state, options, control, &mut on_event, &mut sent);
        let (message, paused) = match result {
            Ok(UploadOutcome::Paused) => (Report::Paused(sent), true),
            Ok(_) => (
                Report::Done(track, state.file_hash.to_hex().to_string(), sent),
                false,
            ),
            Err(e) => (Report::Failed(track, e.to_string(), sent), false),
        };
        let _ = reports.send(message);
        paused
    }
}

/// The tracks on `playlists`, or `None` when none was chosen.
fn chosen_tracks(catalog: &Catalog, playlists: &[PlaylistId]) -> Result<Option<HashSet<TrackId>>> {
    if playlists.is_empty() {
        return Ok(None);
    }
    let mut tracks = HashSet::new();
    for list in playlists {
        tracks.extend(
            catalog
                .playlist_items(*list)?
                .into_iter()
                .map(|i| i.track.id),
        );
    }
    Ok(Some(tracks))
}

/// The file of `candidate` as its kept hashes describe it, if it was hashed since it changed.
/// What a background hashing run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HashingReport {
    /// Files hashed and their hashes kept.
    pub hashed: u64,
    /// Files that could not be hashed (unreadable, or no audio), with why.
    pub failed: Vec<(String, String)>,
    /// Files that still have no kept hashes (the run was stopped).
    pub left: u64,
}

/// Hashes, ahead of an upload, the files of tracks not in the locker that have no kept hashes,
/// so that "Upload my music" has only to ask the locker. Between files it rests as long as the
/// file took, so it uses about half of one core and never crowds out playback or browsing; it
/// stops, keeping what it has done, as soon as `stop` says so (checked before each file).
///
/// # Errors
///
/// [`Error::Catalog`](crate::Error::Catalog) from the catalog; a file that cannot be hashed is a
/// failure in the report, not an error.
pub fn hash_in_background(
    catalog: &mut Catalog,
    stop: &dyn Fn() -> bool,
    rest: &dyn Fn(Duration),
) -> Result<HashingReport> {
    let mut report = HashingReport::default();
    let missing: Vec<MatchCandidate> = catalog
        .tracks_to_match()?
        .into_iter()
        .filter(|c| kept_hashes(c).is_none())
        .collect();
    let total = missing.len() as u64;
    for candidate in missing {
        if stop() {
            report.left = total - report.hashed - report.failed.len() as u64;
            return Ok(report);
        }
        let began = Instant::now();
        match LocalFile::hash(&candidate.path) {
            Ok(file) => {
                let audio_id = file.audio_id.map(|id| id.to_hex());
                catalog.record_hashes(&file.path, &file.file_hash.to_hex(), audio_id.as_deref())?;
                report.hashed += 1;
            }
            Err(e) => report
                .failed
                .push((candidate.path.display().to_string(), e.to_string())),
        }
        rest(began.elapsed());
    }
    Ok(report)
}

fn kept_hashes(candidate: &MatchCandidate) -> Option<LocalFile> {
    Some(LocalFile {
        path: candidate.path.clone(),
        size: candidate.size,
        file_hash: candidate.file_hash.as_deref()?.parse().ok()?,
        audio_id: match candidate.audio_id.as_deref() {
            Some(id) => Some(id.parse().ok()?),
            None => None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_measured_over_the_last_seconds() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut rate = Rate::default();
        assert_eq!(rate.sample(at(0), 0), 0);
        assert_eq!(rate.sample(at(50), 100), 0, "too short a span to tell");
        assert_eq!(rate.sample(at(1000), 1_000_000), 1_000_000);
        assert_eq!(rate.sample(at(2000), 2_000_000), 1_000_000);
        // Slowed to 100 kB/s: after the window has passed, only the slow samples count.
        for s in 3..=9 {
            rate.sample(at(s * 1000), 2_000_000 + (s - 2) * 100_000);
        }
        assert_eq!(rate.sample(at(10_000), 2_800_000), 100_000);
    }
}

//! Taking everything out: every playlist as an M3U8 file and every track's play statistics as a
//! line of `stats.jsonl`, optionally with the music files copied beside them, so that the
//! library can be rebuilt anywhere (`skylark import stats` and `skylark import m3u` read it back).
//!
//! The folder written:
//!
//! ```text
//! DIR/NAME.m3u8        one per playlist (the name in a #PLAYLIST line too, as file names cannot
//!                      hold every name)
//! DIR/stats.jsonl      one StatsRecord per track
//! DIR/music/ROOT/…     with `copy`: each track's file, under its library folder's name
//! DIR/music/Locker/…   with `copy`: each track only in the locker, as ALBUM ARTIST/ALBUM/NN TITLE
//! ```
//!
//! A track only in the locker is copied from its offline copy when this computer has one, else
//! fetched through the [`FetchBlob`] the caller gives (the locker client: this crate knows no
//! network); without either it is counted in the report and left out of the copy and of the
//! playlists' entries, so nothing is left behind on the server unless the user accepts it.
//!
//! **Architecture Invariant:** the export only reads the user's music files. It writes only
//! inside DIR, never over an existing music file there (a different file already at a copy's
//! place is reported, not replaced), and refuses to copy into a library folder.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{DbContext, Error, Result, io_error};
use crate::m3u::{PathStyle, write_playlist};
use crate::model::{RootId, TrackId};
use crate::{Catalog, paths};

/// The name of the statistics file in an export folder.
pub const STATS_FILE: &str = "stats.jsonl";

/// The folder of an export that copied music files go into.
pub const MUSIC_DIR: &str = "music";

/// One line of `stats.jsonl`: a track's play statistics, with what identifies it (path, audio
/// id, tags and duration) so that another catalog can find it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsRecord {
    /// Its file: relative to the export folder or absolute, as the export's path style says;
    /// `None` for a track with no local file.
    pub path: Option<String>,
    /// Its audio id (BLAKE3 of the audio packets), when the catalog knows it.
    pub audio_id: Option<String>,
    /// Title.
    pub title: String,
    /// Artists for display.
    pub artist: String,
    /// Album title.
    pub album: String,
    /// Playing time in milliseconds.
    pub duration_ms: u64,
    /// Rating, 1–100 (20 per star), or `None`.
    pub rating: Option<u8>,
    /// Times played, all told.
    pub play_count: u32,
    /// Last played, in milliseconds since the Unix epoch.
    pub last_played: Option<i64>,
    /// When it was added, in milliseconds since the Unix epoch.
    pub added: i64,
    /// Marked as loved.
    pub loved: bool,
}

/// How [`Catalog::export_library`] writes the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportOptions {
    /// How the playlists and `stats.jsonl` name files: relative to the export folder, or absolute.
    pub style: PathStyle,
    /// Copy every track's file into the export folder's `music/`, and name the copies.
    pub copy: bool,
}

/// A playlist written by an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedPlaylist {
    /// Its name.
    pub name: String,
    /// The M3U8 file.
    #[serde(serialize_with = "paths::serialize_lossy")]
    pub file: PathBuf,
    /// Entries written.
    pub entries: u64,
    /// Entries left out: their track has no local file (or its copy failed).
    pub left_out: u64,
}

/// A track whose file an export could not copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotCopied {
    /// The track.
    pub track: TrackId,
    /// Its file.
    #[serde(serialize_with = "paths::serialize_lossy")]
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportReport {
    /// The export folder.
    #[serde(serialize_with = "paths::serialize_lossy")]
    pub dir: PathBuf,
    /// The playlists written.
    pub playlists: Vec<ExportedPlaylist>,
    /// Lines written to `stats.jsonl` (one per track).
    pub tracks: u64,
    /// Files copied.
    pub copied: u64,
    /// Files whose copy was there already from an earlier export (same size).
    pub already_copied: u64,
    /// Bytes copied.
    pub bytes_copied: u64,
    /// Files that could not be copied.
    pub not_copied: Vec<NotCopied>,
    /// Tracks only in the locker that were not exported (no offline copy and nothing to fetch
    /// them with): in `stats.jsonl` without a path, not copied and not in the playlists' files.
    pub locker_only: u64,
    /// Tracks only in the locker copied into `music/Locker` (from an offline copy or fetched).
    pub from_locker: u64,
}

/// Fetches the locker blob named by its hash (first argument) into a folder (second), returning
/// the file written there (named by the caller, with the extension its content calls for), or
/// why it could not.
pub type FetchBlob<'a> = &'a dyn Fn(&str, &Path) -> std::result::Result<PathBuf, String>;

/// A track as the export needs it.
struct Row {
    id: TrackId,
    record: StatsRecord,
    file: Option<(PathBuf, RootId, bool)>,
    locker: Option<LockerCopy>,
}

/// A track's copy in the locker, and where it goes in an export.
struct LockerCopy {
    blob: String,
    /// Its offline copy on this computer, if there is one.
    offline: Option<PathBuf>,
    /// Its place under `music/Locker`, without the extension.
    name: PathBuf,
}

/// The folder under `music/` that tracks only in the locker are copied into.
pub const LOCKER_DIR: &str = "Locker";
/// The extensions a locker copy's file may have (what [`FetchBlob`]s and offline copies use).
const LOCKER_EXTENSIONS: [&str; 9] = [
    "flac", "mp3", "m4a", "ogg", "opus", "wav", "aiff", "wv", "ape",
];

/// A name made safe as a file name on every system.
fn file_name_for(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let mut cleaned = cleaned.trim().trim_end_matches(['.', ' ']).to_owned();
    if cleaned.is_empty() {
        cleaned = "Playlist".to_owned();
    }
    // Leave room for " (2).m3u8" within the usual 255-byte limit.
    while cleaned.len() > 200 {
        cleaned.pop();
    }
    cleaned
}

/// Where a track only in the locker goes under `music/Locker`, without the extension:
/// `ALBUM ARTIST/ALBUM/D-NN TITLE` (the disc only when there is one above 1).
fn locker_name(
    album_artist: &str,
    album: &str,
    disc: Option<i64>,
    track: Option<i64>,
    title: &str,
) -> PathBuf {
    let number = match (disc.filter(|&d| d > 1), track.filter(|&t| t > 0)) {
        (Some(d), Some(t)) => format!("{d}-{t:02} "),
        (None, Some(t)) => format!("{t:02} "),
        _ => String::new(),
    };
    PathBuf::from(file_name_for(album_artist))
        .join(file_name_for(album))
        .join(file_name_for(&format!("{number}{title}")))
}

/// `base` with `extension`, keeping any dots `base` has ("Takk..." stays whole).
fn with_extension(base: &Path, extension: &str) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(".");
    name.push(extension);
    PathBuf::from(name)
}

/// The copy of a track only in the locker already in the export, from an earlier run.
fn existing_locker_copy(base: &Path) -> Option<PathBuf> {
    LOCKER_EXTENSIONS
        .iter()
        .map(|ext| with_extension(base, ext))
        .find(|p| p.is_file())
}

/// Fetches a locker copy into the folder of `base` and names it `base` with the extension the
/// fetched file has. Returns the bytes written and the copy's path.
fn fetch_into(
    fetch: FetchBlob<'_>,
    blob: &str,
    base: &Path,
) -> std::result::Result<(u64, PathBuf), String> {
    let dir = base.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // The fetch writes into a hidden folder of its own, so a cut-off download never shows as a
    // song of the export.
    let staging = tempfile::Builder::new()
        .prefix(".skylark-fetch-")
        .tempdir_in(dir)
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    let fetched = fetch(blob, staging.path())?;
    let extension = fetched
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| LOCKER_EXTENSIONS.contains(e))
        .unwrap_or("bin");
    let target = with_extension(base, extension);
    let bytes = std::fs::metadata(&fetched)
        .map_err(|e| format!("cannot read the fetched file: {e}"))?
        .len();
    if target.exists() {
        return Err(format!(
            "a different file is already at {}; it was left alone",
            target.display()
        ));
    }
    std::fs::rename(&fetched, &target)
        .map_err(|e| format!("cannot place the copy at {}: {e}", target.display()))?;
    Ok((bytes, target))
}

/// `path` as `style` writes it from `dir`.
fn shown(path: &Path, dir: &Path, style: PathStyle) -> PathBuf {
    match style {
        PathStyle::Relative => paths::relative_to(path, dir).unwrap_or_else(|| path.to_owned()),
        PathStyle::Absolute => path.to_owned(),
    }
}

/// Copies `from` to `to` through a hidden temporary file, never replacing an existing file.
fn copy_file(from: &Path, to: &Path) -> std::result::Result<u64, String> {
    let dir = to.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut source = std::fs::File::open(from).map_err(|e| format!("cannot read it: {e}"))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".skylark-copy-")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    let bytes = std::io::copy(&mut source, &mut tmp)
        .map_err(|e| format!("copying to {} failed: {e}", to.display()))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| format!("copying to {} failed: {e}", to.display()))?;
    tmp.persist_noclobber(to)
        .map_err(|e| format!("cannot place the copy at {}: {}", to.display(), e.error))?;
    Ok(bytes)
}

/// Copies track `id`, only in the locker, under `locker_dir`: from its offline copy, else
/// with `fetch`. Returns where the copy is, or `None` when it could not be made (and says
/// why in the report's `not_copied`).
fn export_locker_copy(
    id: TrackId,
    copy: &LockerCopy,
    locker_dir: &Path,
    names: &mut HashSet<String>,
    fetch: Option<FetchBlob<'_>>,
    report: &mut ExportReport,
) -> Option<PathBuf> {
    // Two tracks with the same album, number and title get " (2)".
    let mut base = locker_dir.join(&copy.name);
    let mut n = 2;
    while !names.insert(base.to_string_lossy().to_lowercase()) {
        base = locker_dir.join(format!("{} ({n})", copy.name.display()));
        n += 1;
    }
    if let Some(there) = existing_locker_copy(&base) {
        report.already_copied += 1;
        return Some(there);
    }
    let result = match (&copy.offline, fetch) {
        (Some(offline), _) if offline.is_file() => {
            let extension = offline
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("bin")
                .to_owned();
            let target = with_extension(&base, &extension);
            copy_file(offline, &target).map(|bytes| (bytes, target))
        }
        (_, Some(fetch)) => fetch_into(fetch, &copy.blob, &base),
        (Some(offline), None) => Err(format!(
            "its offline copy {} is gone; sign in to the locker to fetch it",
            offline.display()
        )),
        (None, None) => Err("it is only in the locker".to_owned()),
    };
    match result {
        Ok((bytes, target)) => {
            report.copied += 1;
            report.bytes_copied += bytes;
            Some(target)
        }
        Err(reason) => {
            report.not_copied.push(NotCopied {
                track: id,
                path: base,
                reason,
            });
            None
        }
    }
}

impl Catalog {
    fn export_rows(&self) -> Result<Vec<Row>> {
        let context = "reading tracks for an export";
        let offline_dir = self.offline_dir();
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT t.id, t.audio_id, t.title, t.artist, al.title, t.duration_ms, t.rating,
                    t.play_count, t.last_played_at, t.added_at, t.loved,
                    f.path, f.root_id, r.reachable, lt.blob, o.file, aa.name, t.track_no, t.disc_no
                 FROM tracks t JOIN albums al ON al.id = t.album_id
                 JOIN artists aa ON aa.id = al.artist_id
                 LEFT JOIN files f ON f.id = (SELECT f2.id FROM files f2
                     JOIN roots r2 ON r2.id = f2.root_id WHERE f2.track_id = t.id
                     ORDER BY r2.reachable DESC, f2.id LIMIT 1)
                 LEFT JOIN roots r ON r.id = f.root_id
                 LEFT JOIN locker_tracks lt ON lt.track_id = t.id
                 LEFT JOIN offline o ON o.track_id = t.id
                 ORDER BY t.id",
            )
            .ctx(context)?;
        let rows = stmt
            .query_map([], |r| {
                let path: Option<Vec<u8>> = r.get(11)?;
                let rating: u8 = r.get(6)?;
                let last_played: i64 = r.get(8)?;
                let blob: Option<String> = r.get(14)?;
                let offline: Option<String> = r.get(15)?;
                let title: String = r.get(2)?;
                let album: String = r.get(4)?;
                let album_artist: String = r.get(16)?;
                let track_no: Option<i64> = r.get(17)?;
                let disc_no: Option<i64> = r.get(18)?;
                let locker = blob.map(|blob| LockerCopy {
                    blob,
                    offline: offline.map(|f| offline_dir.join(f)),
                    name: locker_name(&album_artist, &album, disc_no, track_no, &title),
                });
                Ok(Row {
                    id: TrackId(r.get(0)?),
                    record: StatsRecord {
                        path: None,
                        audio_id: r.get(1)?,
                        title: r.get(2)?,
                        artist: r.get(3)?,
                        album: r.get(4)?,
                        duration_ms: r.get::<_, i64>(5)?.max(0).unsigned_abs(),
                        rating: (rating > 0).then_some(rating),
                        play_count: r.get(7)?,
                        last_played: (last_played > 0).then_some(last_played),
                        added: r.get(9)?,
                        loved: r.get(10)?,
                    },
                    file: match path {
                        Some(p) => Some((
                            paths::from_bytes(&p),
                            RootId(r.get(12)?),
                            r.get::<_, Option<bool>>(13)?.unwrap_or(false),
                        )),
                        None => None,
                    },
                    locker,
                })
            })
            .ctx(context)?;
        rows.collect::<rusqlite::Result<_>>().ctx(context)
    }

    /// Exports the library into `dir`: every playlist as `NAME.m3u8`, every track's statistics
    /// in `stats.jsonl`, and with `options.copy` every track's file under `dir/music/` (the
    /// playlists and statistics then name the copies). `progress` gets (files done, files to
    /// copy). Files already exported there with the same size are not copied again.
    pub fn export_library(
        &self,
        dir: &Path,
        options: &ExportOptions,
        fetch: Option<FetchBlob<'_>>,
        progress: &dyn Fn(u64, u64),
    ) -> Result<ExportReport> {
        let _span = tracing::info_span!("export", dir = %dir.display()).entered();
        let roots = self.roots()?;
        let inside_a_root = |dir: &Path| -> Result<()> {
            match roots.iter().find(|root| dir.starts_with(&root.path)) {
                Some(root) if options.copy => Err(Error::InvalidInput(format!(
                    "{} is inside the library folder {}: copies there would be scanned as more \
                     tracks; export to a folder outside the library",
                    dir.display(),
                    root.path.display()
                ))),
                _ => Ok(()),
            }
        };
        // Checked before anything is created, and again once links are resolved.
        inside_a_root(&crate::m3u::normalize(
            &std::path::absolute(dir).map_err(io_error(dir))?,
        ))?;
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        let dir = std::fs::canonicalize(dir).map_err(io_error(dir))?;
        inside_a_root(&dir)?;
        let mut rows = self.export_rows()?;
        let mut report = ExportReport {
            dir: dir.clone(),
            playlists: Vec::new(),
            tracks: rows.len() as u64,
            copied: 0,
            already_copied: 0,
            bytes_copied: 0,
            not_copied: Vec::new(),
            locker_only: 0,
            from_locker: 0,
        };

        // Where each track's file is, as exported: the original, or its copy.
        let mut exported: HashMap<TrackId, PathBuf> = HashMap::new();
        let music = dir.join(MUSIC_DIR);
        // Each root's folder name under music/, made unique.
        let mut root_dirs: HashMap<RootId, PathBuf> = HashMap::new();
        let mut used = HashSet::new();
        for root in &roots {
            let base = root
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "library".to_owned());
            let mut name = base.clone();
            let mut n = 2;
            while !used.insert(name.to_lowercase()) {
                name = format!("{base} ({n})");
                n += 1;
            }
            root_dirs.insert(root.id, music.join(name));
        }
        let root_paths: HashMap<RootId, &Path> =
            roots.iter().map(|r| (r.id, r.path.as_path())).collect();
        let to_copy = rows
            .iter()
            .filter(|r| r.file.is_some() || (options.copy && r.locker.is_some()))
            .count() as u64;
        let mut done = 0;
        let mut locker_names: HashSet<String> = HashSet::new();
        for row in &rows {
            let Some((path, root, reachable)) = &row.file else {
                let copy = row
                    .locker
                    .as_ref()
                    .filter(|c| options.copy && (c.offline.is_some() || fetch.is_some()));
                let Some(copy) = copy else {
                    report.locker_only += 1;
                    continue;
                };
                done += 1;
                let target = export_locker_copy(
                    row.id,
                    copy,
                    &music.join(LOCKER_DIR),
                    &mut locker_names,
                    fetch,
                    &mut report,
                );
                progress(done, to_copy);
                if let Some(target) = target {
                    report.from_locker += 1;
                    exported.insert(row.id, target);
                }
                continue;
            };
            if !options.copy {
                exported.insert(row.id, path.clone());
                continue;
            }
            done += 1;
            let relative = root_paths
                .get(root)
                .and_then(|r| path.strip_prefix(r).ok())
                .map(Path::to_path_buf)
                .or_else(|| path.file_name().map(PathBuf::from))
                .unwrap_or_default();
            let Some(target) = root_dirs.get(root).map(|d| d.join(&relative)) else {
                continue;
            };
            let source_size = std::fs::metadata(path).map(|m| m.len());
            let result = match (reachable, source_size, std::fs::metadata(&target)) {
                (false, _, _) => Err("its library folder cannot be reached now".to_owned()),
                (true, Err(e), _) => Err(format!("cannot read it: {e}")),
                (true, Ok(size), Ok(there)) if there.len() == size => {
                    report.already_copied += 1;
                    Ok(())
                }
                (true, Ok(_), Ok(_)) => Err(format!(
                    "a different file is already at {}; it was left alone",
                    target.display()
                )),
                (true, Ok(_), Err(_)) => copy_file(path, &target).map(|bytes| {
                    report.copied += 1;
                    report.bytes_copied += bytes;
                }),
            };
            match result {
                Ok(()) => {
                    exported.insert(row.id, target);
                }
                Err(reason) => report.not_copied.push(NotCopied {
                    track: row.id,
                    path: path.clone(),
                    reason,
                }),
            }
            progress(done, to_copy);
        }

        // Playlists.
        let mut names = HashSet::new();
        for playlist in self.playlists()? {
            let items = self.playlist_items(playlist.id)?;
            let entries: Vec<(Option<&Path>, &crate::Track)> = items
                .iter()
                .map(|i| (exported.get(&i.track.id).map(PathBuf::as_path), &i.track))
                .collect();
            let base = file_name_for(&playlist.name);
            let mut name = base.clone();
            let mut n = 2;
            while !names.insert(name.to_lowercase()) {
                name = format!("{base} ({n})");
                n += 1;
            }
            let file = dir.join(format!("{name}.m3u8"));
            let written = write_playlist(&file, Some(&playlist.name), &entries, options.style)?;
            report.playlists.push(ExportedPlaylist {
                name: playlist.name,
                file,
                entries: written.written as u64,
                left_out: written.skipped as u64,
            });
        }

        // Statistics.
        let mut out = Vec::with_capacity(rows.len() * 200);
        for row in &mut rows {
            row.record.path = exported
                .get(&row.id)
                .map(|p| shown(p, &dir, options.style).to_string_lossy().into_owned());
            serde_json::to_writer(&mut out, &row.record).map_err(|e| Error::Io {
                path: dir.join(STATS_FILE),
                source: e.into(),
            })?;
            out.push(b'\n');
        }
        let stats = dir.join(STATS_FILE);
        let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io_error(&dir))?;
        tmp.write_all(&out).map_err(io_error(&stats))?;
        tmp.persist(&stats).map_err(|e| Error::Io {
            path: stats.clone(),
            source: e.error,
        })?;
        tracing::info!(
            tracks = report.tracks,
            playlists = report.playlists.len(),
            copied = report.copied,
            "export written"
        );
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playlist_names_as_file_names() {
        assert_eq!(
            file_name_for("Road / Summer / Beach"),
            "Road _ Summer _ Beach"
        );
        assert_eq!(file_name_for("a:b*c?\"d\"<e>|f\\g"), "a_b_c__d__e__f_g");
        assert_eq!(file_name_for("  ...  "), "Playlist");
        assert_eq!(file_name_for("Best of..."), "Best of");
        assert!(file_name_for(&"ü".repeat(300)).len() <= 200);
    }
}

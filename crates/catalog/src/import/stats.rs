//! A `stats.jsonl` written by [`crate::Catalog::export_library`] as an import: each line's
//! statistics go to the library track it names, found by path (relative paths against the
//! file's folder), audio id, or tags and duration.
//!
//! The counts in the file are totals that include the plays Skylark recorded, so they set a
//! track's total (see [`super`]): importing an export back into the catalog it came from
//! changes nothing, and into a fresh catalog reproduces every count.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use rusqlite::Connection;

use super::matching::{Library, TagMatch, path_key};
use super::{
    CountMode, ImportKind, ImportPlan, ImportReport, ImportedStats, PlannedTrack, RootMapping,
    StatChanges, TrackCounts, UnmatchedReason, UnmatchedTrack,
};
use crate::error::{Error, Result, io_error};
use crate::export::StatsRecord;
use crate::m3u::normalize;
use crate::model::TrackId;

/// The source key of stats files (they create no playlists, so it only labels the journal).
const SOURCE_KEY: &str = "stats";

/// Reads the lines of a stats file, with their line numbers.
fn read(file: &Path) -> Result<Vec<(usize, StatsRecord)>> {
    let handle = std::fs::File::open(file).map_err(io_error(file))?;
    let mut out = Vec::new();
    for (index, line) in std::io::BufReader::new(handle).lines().enumerate() {
        let line = line.map_err(io_error(file))?;
        if line.trim().is_empty() {
            continue;
        }
        let record: StatsRecord = serde_json::from_str(&line).map_err(|e| Error::Format {
            path: file.to_owned(),
            reason: format!("line {}: not a Skylark stats line: {e}", index + 1),
        })?;
        out.push((index + 1, record));
    }
    Ok(out)
}

/// Plans the import of the stats file `file`.
pub(super) fn plan(conn: &Connection, file: &Path, mappings: &[RootMapping]) -> Result<ImportPlan> {
    let _span = tracing::info_span!("stats import plan", file = %file.display()).entered();
    let records = read(file)?;
    let base = std::path::absolute(file)
        .map_err(io_error(file))?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let library = Library::load(conn)?;
    let mut counts = TrackCounts {
        in_source: records.len() as u64,
        ..TrackCounts::default()
    };
    let mut claimed: HashMap<TrackId, String> = HashMap::new();
    let mut matched: Vec<Option<TrackId>> = vec![None; records.len()];
    let mut unmatched_keys = Vec::new();
    let mut by_tags = Vec::new();
    let source_id = |line: usize| format!("{file_name}:{line}");

    // Paths and audio ids first, so a tag match never takes a track another line names exactly.
    for (index, (line, record)) in records.iter().enumerate() {
        let key = record.path.as_deref().map(|p| {
            let path = Path::new(p);
            if path.is_absolute() {
                path_key(p)
            } else {
                path_key(&normalize(&base.join(path)).to_string_lossy())
            }
        });
        let found = match &key {
            Some(key) => match library.locate(key) {
                Some(id) => Some((id, 0)),
                None => library.locate_mapped(key, mappings).map(|id| (id, 1)),
            },
            None => None,
        }
        .or_else(|| {
            record
                .audio_id
                .as_deref()
                .and_then(|a| library.by_audio_id(a))
                .map(|id| (id, 2))
        });
        match found {
            Some((id, how)) if !claimed.contains_key(&id) => {
                match how {
                    0 => counts.by_location += 1,
                    1 => counts.by_mapping += 1,
                    _ => counts.by_audio_id += 1,
                }
                claimed.insert(id, source_id(*line));
                matched[index] = Some(id);
            }
            _ => {
                if let Some(key) = key {
                    unmatched_keys.push(key);
                }
                by_tags.push(index);
            }
        }
    }
    let mut unmatched = Vec::new();
    for index in by_tags {
        let (line, record) = &records[index];
        let reason = match library.by_tags(
            &record.title,
            &record.artist,
            &record.album,
            Some(record.duration_ms),
            &claimed,
        ) {
            TagMatch::Found(id) => {
                counts.by_tags += 1;
                claimed.insert(id, source_id(*line));
                matched[index] = Some(id);
                continue;
            }
            TagMatch::Duration { library_ms } => UnmatchedReason::DurationDiffers {
                library_ms,
                source_ms: record.duration_ms,
            },
            TagMatch::Ambiguous(candidates) => UnmatchedReason::Ambiguous { candidates },
            TagMatch::Claimed(id) => UnmatchedReason::AlreadyMatched {
                by: claimed.get(&id).cloned().unwrap_or_default(),
            },
            TagMatch::None => UnmatchedReason::NotInLibrary {
                path: record.path.clone(),
            },
        };
        unmatched.push(UnmatchedTrack {
            source_id: source_id(*line),
            title: record.title.clone(),
            artist: record.artist.clone(),
            album: record.album.clone(),
            location: record.path.clone(),
            reason,
        });
    }
    counts.unmatched = unmatched.len() as u64;

    let mut changes = StatChanges::default();
    let mut tracks = Vec::new();
    for ((_, record), id) in records.iter().zip(matched) {
        let Some(id) = id else {
            continue;
        };
        let stats = ImportedStats {
            rating: record.rating.filter(|r| (1..=100).contains(r)),
            play_count: Some(record.play_count),
            last_played: record.last_played,
            added: Some(record.added),
            loved: record.loved,
        };
        if let Some(current) = library.stats.get(&id) {
            current.count_changes(&current.merged(&stats, CountMode::Total), &mut changes);
        }
        tracks.push(PlannedTrack { track: id, stats });
    }
    let report = ImportReport {
        kind: ImportKind::Stats,
        source: file.display().to_string(),
        applied: false,
        import: None,
        tracks: counts,
        changes,
        playlists: Vec::new(),
        skipped_playlists: Vec::new(),
        unmatched,
        mappings: mappings.to_vec(),
        proposed_mappings: library.propose(&unmatched_keys),
    };
    Ok(ImportPlan {
        report,
        source_key: SOURCE_KEY.to_owned(),
        mode: CountMode::Total,
        tracks,
        playlists: Vec::new(),
    })
}

//! Playlist files as an import: each M3U/M3U8 file becomes one playlist, tied to the "M3U files"
//! source so that a playlist of the same name imported again (from any playlist file) replaces
//! it.
//!
//! An entry resolves, in order, to the library file at the path it names (relative entries
//! against the playlist's folder, backslashes as separators, NFC and case differences
//! forgiven), at that path with symbolic links resolved, then at that path under a confirmed
//! [`RootMapping`] (a foobar2000 or MusicBee list written on Windows names `D:\Music\…`), and
//! last to the one track its `#EXTINF` line names ("Artist - Title", of about that length): a
//! list written on another computer still finds songs filed elsewhere here.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use std::collections::HashMap;

use super::matching::{Library, TagMatch, path_key};
use super::{
    CountMode, ImportKind, ImportPlan, ImportReport, PlannedPlaylist, RootMapping, StatChanges,
    TrackCounts, UnmatchedReason, UnmatchedTrack, journal,
};
use crate::error::Result;
use crate::m3u::{M3uEntry, M3uFile, as_written, candidates, playlist_name_of, read_file};
use crate::model::TrackId;
use crate::paths;

/// The source every playlist file import belongs to.
const SOURCE_KEY: &str = "m3u";

/// Whether `path` (path text with `/` separators) is absolute on some system: `/…`, `C:/…` or
/// `//server/…`.
fn absolute_anywhere(path: &str) -> bool {
    let b = path.as_bytes();
    path.starts_with('/') || (b.len() >= 3 && b[0].is_ascii_alphabetic() && &b[1..3] == b":/")
}

/// Whether an entry is a URL other than `file://` (a stream, a web page).
fn is_other_url(line: &[u8]) -> bool {
    let text = String::from_utf8_lossy(line);
    match text.split_once("://") {
        Some((scheme, _)) => {
            !scheme.eq_ignore_ascii_case("file")
                && scheme.len() > 1
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

/// How an entry resolved.
enum Resolved {
    Located(TrackId),
    Mapped(TrackId),
    /// By the artist, title and length of its `#EXTINF` line.
    Credited(TrackId),
    /// Nothing: the path key looked for.
    Unmatched(String),
}

fn resolve(library: &Library, entry: &M3uEntry, base: &Path, mappings: &[RootMapping]) -> Resolved {
    let candidates = candidates(&entry.line, base);
    for candidate in &candidates {
        if let Some(id) = library
            .by_bytes(&paths::to_bytes(candidate))
            .or_else(|| library.locate(&path_key(&candidate.to_string_lossy())))
        {
            return Resolved::Located(id);
        }
    }
    for candidate in &candidates {
        if let Ok(real) = std::fs::canonicalize(candidate)
            && let Some(id) = library
                .by_bytes(&paths::to_bytes(&real))
                .or_else(|| library.locate(&path_key(&real.to_string_lossy())))
        {
            return Resolved::Located(id);
        }
    }
    let written = as_written(&entry.line);
    let key = if absolute_anywhere(&written) {
        path_key(&written)
    } else {
        candidates
            .last()
            .map(|c| path_key(&c.to_string_lossy()))
            .unwrap_or_else(|| path_key(&written))
    };
    if let Some(id) = library.locate_mapped(&key, mappings) {
        return Resolved::Mapped(id);
    }
    match credited(library, entry) {
        Some(id) => Resolved::Credited(id),
        None => Resolved::Unmatched(key),
    }
}

/// The one track the entry's `#EXTINF` line names: "Artist - Title" (split at the first " - "
/// that leaves a track; an artist or a title may hold one too) with the length it gives.
fn credited(library: &Library, entry: &M3uEntry) -> Option<TrackId> {
    let text = entry.title.as_deref()?;
    let length = entry.seconds.map(|s| s.saturating_mul(1000));
    let none_claimed = HashMap::new();
    text.match_indices(" - ").find_map(|(at, sep)| {
        let (artist, title) = (&text[..at], &text[at + sep.len()..]);
        match library.by_credit(title.trim(), artist.trim(), length, &none_claimed) {
            TagMatch::Found(id) => Some(id),
            _ => None,
        }
    })
}

/// Resolves the entries of the playlist file `list` against `library` without root mappings:
/// the tracks found, in order, and the lines that found none.
pub(crate) fn resolve_list(library: &Library, list: &M3uFile) -> (Vec<TrackId>, Vec<String>) {
    let mut tracks = Vec::new();
    let mut unresolved = Vec::new();
    for entry in &list.entries {
        match resolve(library, entry, &list.base, &[]) {
            Resolved::Located(id) | Resolved::Mapped(id) | Resolved::Credited(id) => {
                tracks.push(id)
            }
            Resolved::Unmatched(_) => {
                unresolved.push(String::from_utf8_lossy(&entry.line).into_owned());
            }
        }
    }
    (tracks, unresolved)
}

/// Plans the import of playlist files.
pub(super) fn plan(
    conn: &Connection,
    files: &[PathBuf],
    mappings: &[RootMapping],
) -> Result<ImportPlan> {
    let _span = tracing::info_span!("m3u import plan", files = files.len()).entered();
    let library = Library::load(conn)?;
    let mut counts = TrackCounts::default();
    let mut unmatched = Vec::new();
    let mut unmatched_keys = Vec::new();
    let mut playlists = Vec::with_capacity(files.len());
    for file in files {
        let list = read_file(file)?;
        let file_name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut tracks = Vec::with_capacity(list.entries.len());
        let mut missing = 0;
        for entry in &list.entries {
            counts.in_source += 1;
            let reason = if is_other_url(&entry.line) {
                UnmatchedReason::NotAFile
            } else {
                match resolve(&library, entry, &list.base, mappings) {
                    Resolved::Located(id) => {
                        counts.by_location += 1;
                        tracks.push(id);
                        continue;
                    }
                    Resolved::Mapped(id) => {
                        counts.by_mapping += 1;
                        tracks.push(id);
                        continue;
                    }
                    Resolved::Credited(id) => {
                        counts.by_tags += 1;
                        tracks.push(id);
                        continue;
                    }
                    Resolved::Unmatched(key) => {
                        unmatched_keys.push(key.clone());
                        UnmatchedReason::NotInLibrary { path: Some(key) }
                    }
                }
            };
            missing += 1;
            unmatched.push(UnmatchedTrack {
                source_id: format!("{file_name}:{}", entry.line_no),
                title: entry.title.clone().unwrap_or_default(),
                artist: String::new(),
                album: String::new(),
                location: Some(String::from_utf8_lossy(&entry.line).into_owned()),
                reason,
            });
        }
        playlists.push(PlannedPlaylist {
            name: list.name.unwrap_or_else(|| playlist_name_of(file)),
            external_id: None,
            smart: false,
            tracks,
            missing_entries: missing,
        });
    }
    counts.unmatched = unmatched.len() as u64;
    let report = ImportReport {
        kind: ImportKind::M3u,
        source: files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        applied: false,
        import: None,
        tracks: counts,
        changes: StatChanges::default(),
        playlists: journal::preview_playlists(conn, SOURCE_KEY, &playlists)?,
        skipped_playlists: Vec::new(),
        unmatched,
        mappings: mappings.to_vec(),
        proposed_mappings: library.propose(&unmatched_keys),
    };
    Ok(ImportPlan {
        report,
        source_key: SOURCE_KEY.to_owned(),
        mode: CountMode::Baseline,
        tracks: Vec::new(),
        playlists,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_kinds() {
        assert!(absolute_anywhere("/music/a.flac"));
        assert!(absolute_anywhere("D:/Music/a.flac"));
        assert!(absolute_anywhere("//nas/music/a.flac"));
        assert!(!absolute_anywhere("../Music/a.flac"));
        assert!(is_other_url(b"http://radio.example/stream"));
        assert!(is_other_url(b"https://example.com/a.mp3"));
        assert!(!is_other_url(b"file:///music/a.flac"));
        assert!(!is_other_url(b"D:\\Music\\a.flac"));
        assert!(!is_other_url(b"../a://b.flac"));
    }
}

//! Bringing a listening history in from other players: iTunes/Music library XML, M3U/M3U8
//! playlists (foobar2000, MusicBee, Skylark's own export), and the `stats.jsonl` Skylark exports
//! ([`crate::export`]).
//!
//! An import has two steps:
//!
//! 1. **Plan** ([`Catalog::plan_itunes_import`], [`Catalog::plan_m3u_import`],
//!    [`Catalog::plan_stats_import`]): read the source, match its tracks to the library and say
//!    what would change, in an [`ImportReport`] (serializable, for a dry run or a wizard). Nothing
//!    is written.
//! 2. **Apply** ([`Catalog::apply_import`]): write the plan in one transaction, and record what
//!    it changed in the import journal so that [`Catalog::undo_import`] can take it back.
//!
//! Matching, in order: the entry's location (NFC and case differences forgiven), the location
//! under a [`RootMapping`] the user confirmed, the audio id (stats files), then title, artist and
//! album (case and diacritics folded) with a duration within two seconds. A location that matches
//! nothing feeds the [`ProposedMapping`]s of the report; none is applied until the user confirms
//! it. Every entry that matches nothing is reported with an [`UnmatchedReason`].
//!
//! What an import sets, per matched track:
//! - rating: the source's rating when it has one (iTunes ratings that Music computed from the
//!   album rating are not the user's and are left out); 0–100 on both sides.
//! - play count: **a baseline, not an addition.** The catalog keeps the part of a track's count
//!   that came from imports apart from the plays Skylark recorded; an iTunes import sets that
//!   part to the library's count, replacing what an earlier import set. Importing the same XML
//!   twice, or a newer export of the same library, never doubles a count, and plays Skylark
//!   recorded in between are kept. A Skylark stats file holds totals (Skylark's plays included),
//!   so its count sets the total: the baseline becomes what the total has beyond Skylark's own
//!   plays.
//! - last played: the later of the catalog's and the source's.
//! - date added: the earlier of the two (when the user first had the track).
//! - loved: set when the source says loved; an import never clears it.
//!
//! Playlists: every user playlist, iTunes folders flattened to "Folder / Sub / Name", smart
//! playlists as plain snapshots of their contents (flagged in the report); built-in lists
//! (Library, Music, Movies, Podcasts, Audiobooks, Purchased…) are skipped. A playlist is tied to
//! its source (the iTunes library's persistent id, or "M3U files"), so importing the same source
//! again replaces the playlist it made before instead of adding another; a name already taken by
//! a playlist from elsewhere gets a " (2)" suffix.
//!
//! Undo takes back one import as a whole, newest first: the playlists it created are deleted,
//! those it replaced get their old name and entries back, and each statistic it changed gets its
//! old value back, unless the user changed that value since (a play recorded after the import
//! stays counted).
//!
//! **Architecture Invariant:** an import reads its source files and writes only the catalog
//! database. The user's music files are never opened for writing, moved or deleted.

mod itunes;
mod journal;
pub(crate) mod m3u;
pub(crate) mod matching;
mod stats;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::Catalog;
use crate::error::{Error, Result};
use crate::model::{ImportId, PlaylistId, TrackId};

pub use itunes::usual_locations as itunes_library_locations;

/// What kind of source an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    /// An iTunes or Music library XML.
    Itunes,
    /// M3U or M3U8 playlist files.
    M3u,
    /// A `stats.jsonl` written by `skylark export`.
    Stats,
}

impl ImportKind {
    /// The name stored in the journal and shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Itunes => "itunes",
            ImportKind::M3u => "m3u",
            ImportKind::Stats => "stats",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "itunes" => ImportKind::Itunes,
            "m3u" => ImportKind::M3u,
            _ => ImportKind::Stats,
        }
    }
}

/// A root remapping the user confirmed: a source location under `from` is looked for under
/// `to` (`/Users/me/Music/iTunes/iTunes Media/Music` -> `/home/me/Music`).
///
/// Both sides are kept as path text with `/` separators in Unicode NFC; `from` is compared
/// ignoring case, as Windows and macOS do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RootMapping {
    /// The folder as the source names it.
    pub from: String,
    /// The folder it is in on this computer.
    pub to: String,
}

impl RootMapping {
    /// A mapping from `from` to `to`; backslashes count as separators and a trailing separator
    /// is dropped. Fails if either side is empty.
    pub fn try_new(from: &str, to: &str) -> Result<Self> {
        let clean = |s: &str| -> String {
            let s: String = s.replace('\\', "/").nfc().collect();
            let trimmed = s.trim_end_matches('/');
            if trimmed.is_empty() && s.starts_with('/') {
                "/".to_owned()
            } else {
                trimmed.to_owned()
            }
        };
        let (from, to) = (clean(from.trim()), clean(to.trim()));
        if from.is_empty() || to.is_empty() || from == "/" {
            return Err(Error::InvalidInput(
                "a root mapping needs a folder on each side (FROM=TO)".to_owned(),
            ));
        }
        Ok(Self { from, to })
    }

    /// Parses `FROM=TO` (split at the first `=`).
    pub fn parse(spec: &str) -> Result<Self> {
        let (from, to) = spec.split_once('=').ok_or_else(|| {
            Error::InvalidInput(format!("\"{spec}\" is not a root mapping: write FROM=TO"))
        })?;
        Self::try_new(from, to)
    }

    /// `key` (a path key) with `from` replaced by `to`, if `key` is inside `from`.
    pub(crate) fn apply(&self, key: &str) -> Option<String> {
        let head = key.get(..self.from.len())?;
        let rest = &key[self.from.len()..];
        let inside = rest.is_empty() || rest.starts_with('/');
        (inside && head.to_lowercase() == self.from.to_lowercase())
            .then(|| format!("{}{rest}", self.to.trim_end_matches('/')))
    }
}

impl std::str::FromStr for RootMapping {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// A root remapping the import suggests: confirming it would match `tracks` more entries by
/// location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProposedMapping {
    /// The folder as the source names it.
    pub from: String,
    /// The library folder that holds the same files.
    pub to: String,
    /// Entries that would then match.
    pub tracks: u64,
}

/// How many of the source's entries matched, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrackCounts {
    /// Entries in the source (tracks of a library, lines of a playlist file or stats file).
    pub in_source: u64,
    /// Matched by their location.
    pub by_location: u64,
    /// Matched by their location under a confirmed root mapping.
    pub by_mapping: u64,
    /// Matched by audio id.
    pub by_audio_id: u64,
    /// Matched by title, artist, album and duration.
    pub by_tags: u64,
    /// Matched nothing (listed in [`ImportReport::unmatched`]).
    pub unmatched: u64,
}

/// How many tracks' statistics the import changes (or would change), by field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatChanges {
    /// Tracks with any change.
    pub tracks: u64,
    /// Ratings set.
    pub ratings: u64,
    /// Play counts changed.
    pub play_counts: u64,
    /// Last-played times moved later.
    pub last_played: u64,
    /// Added dates moved earlier.
    pub added: u64,
    /// Tracks marked loved.
    pub loved: u64,
}

/// Why a source entry matched no library track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnmatchedReason {
    /// No library file is at its location (or it has none), and no library track has its title,
    /// artist and album.
    NotInLibrary {
        /// The location looked for, as a path.
        path: Option<String>,
    },
    /// Library tracks have its title, artist and album, but the closest one's duration differs
    /// by more than two seconds.
    DurationDiffers {
        /// The closest library track's duration.
        library_ms: u64,
        /// The entry's duration.
        source_ms: u64,
    },
    /// Several library tracks fit equally well.
    Ambiguous {
        /// How many.
        candidates: u32,
    },
    /// The library track it fits was matched by another entry of the source.
    AlreadyMatched {
        /// The other entry's id in the source.
        by: String,
    },
    /// The track has no local file: it lives in Apple's cloud (Apple Music, iCloud Music
    /// Library) or is an internet stream, and no library track has its tags.
    CloudOnly,
    /// A video (movie, TV show, music video): the library holds audio only.
    Video,
    /// The playlist file's entry is a URL or something else that is not a file path.
    NotAFile,
}

impl std::fmt::Display for UnmatchedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnmatchedReason::NotInLibrary { path: Some(path) } => write!(
                f,
                "no library file at {path}, and no library track with its title, artist and album"
            ),
            UnmatchedReason::NotInLibrary { path: None } => write!(
                f,
                "no location, and no library track with its title, artist and album"
            ),
            UnmatchedReason::DurationDiffers {
                library_ms,
                source_ms,
            } => write!(
                f,
                "a library track has its tags but lasts {:.1} s, not {:.1} s",
                *library_ms as f64 / 1000.0,
                *source_ms as f64 / 1000.0
            ),
            UnmatchedReason::Ambiguous { candidates } => write!(
                f,
                "{candidates} library tracks have its tags and duration; none was picked"
            ),
            UnmatchedReason::AlreadyMatched { by } => {
                write!(
                    f,
                    "the library track with its tags already matched entry {by}"
                )
            }
            UnmatchedReason::CloudOnly => write!(
                f,
                "no local file (in Apple's cloud or an internet stream), and no library track with its tags"
            ),
            UnmatchedReason::Video => write!(f, "a video; the library holds audio only"),
            UnmatchedReason::NotAFile => write!(f, "not a file path"),
        }
    }
}

/// A source entry that matched no library track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmatchedTrack {
    /// Its id in the source: the iTunes Track ID, or "file:line" for a playlist or stats file.
    pub source_id: String,
    /// Title, as the source gives it ("" when it gives none).
    pub title: String,
    /// Artist.
    pub artist: String,
    /// Album.
    pub album: String,
    /// Its location as the source wrote it, if any.
    pub location: Option<String>,
    /// Why it matched nothing.
    pub reason: UnmatchedReason,
}

/// What an import does with one playlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaylistAction {
    /// A new playlist.
    Create,
    /// The playlist an earlier import of the same source made gets these entries.
    Replace,
    /// The playlist an earlier import made already has exactly these entries.
    Unchanged,
}

/// One playlist of the import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlaylistReport {
    /// Its name in the library (folders flattened: "Folder / Sub / Name").
    pub name: String,
    /// Entries it gets.
    pub entries: u64,
    /// Entries of the source left out because their track matched nothing.
    pub missing_entries: u64,
    /// A smart playlist, imported as a plain snapshot of its contents.
    pub smart: bool,
    /// Created, replaced or left as it was.
    pub action: PlaylistAction,
    /// The playlist, once applied (or the one to be replaced).
    pub playlist: Option<PlaylistId>,
}

/// Why a source playlist is not imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// A list the player makes itself (Library, Music, Movies, Podcasts, Purchased…).
    BuiltIn,
    /// A folder: its playlists are imported with the folder's name in theirs.
    Folder,
    /// Every entry is a video.
    NoAudio,
}

/// A source playlist that is not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedPlaylist {
    /// Its name in the source.
    pub name: String,
    /// Why.
    pub reason: SkipReason,
}

/// What an import will do (a plan's report) or did (once applied). Serializes to the JSON that
/// `skylark import … --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// The kind of source.
    pub kind: ImportKind,
    /// The file(s) read.
    pub source: String,
    /// False for a plan (a dry run: nothing written), true once applied.
    pub applied: bool,
    /// The journal entry, once applied; `None` for a plan, and for an import that found
    /// nothing to change (and so recorded nothing to undo).
    pub import: Option<ImportId>,
    /// How the source's entries matched.
    pub tracks: TrackCounts,
    /// The statistics changed.
    pub changes: StatChanges,
    /// The playlists imported.
    pub playlists: Vec<PlaylistReport>,
    /// The source's playlists left out.
    pub skipped_playlists: Vec<SkippedPlaylist>,
    /// Entries that matched nothing, and why.
    pub unmatched: Vec<UnmatchedTrack>,
    /// The root mappings applied (as confirmed by the user).
    pub mappings: Vec<RootMapping>,
    /// Root mappings that would match more entries; confirm one by importing again with it.
    pub proposed_mappings: Vec<ProposedMapping>,
}

/// An import read and matched, ready to apply: [`Catalog::apply_import`] writes it.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    report: ImportReport,
    source_key: String,
    mode: CountMode,
    tracks: Vec<PlannedTrack>,
    playlists: Vec<PlannedPlaylist>,
}

impl ImportPlan {
    /// What applying the plan would do.
    pub fn report(&self) -> &ImportReport {
        &self.report
    }
}

/// One applied import in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportRecord {
    /// Its id.
    pub id: ImportId,
    /// The kind of source.
    pub kind: ImportKind,
    /// The file(s) read.
    pub source: String,
    /// When it was applied.
    #[serde(
        rename = "imported_at",
        serialize_with = "crate::model::as_unix_millis"
    )]
    pub imported: SystemTime,
    /// When it was undone, if it was.
    #[serde(rename = "undone_at", serialize_with = "crate::model::as_opt_millis")]
    pub undone: Option<SystemTime>,
    /// Tracks whose statistics it changed.
    pub tracks_changed: u64,
    /// Playlists it created or replaced.
    pub playlists_written: u64,
}

/// What [`Catalog::undo_import`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UndoReport {
    /// The import undone.
    pub import: ImportId,
    /// Tracks whose statistics were restored.
    pub tracks_restored: u64,
    /// Playlists the import had created, now deleted.
    pub playlists_deleted: u64,
    /// Playlists the import had replaced, with their old entries back.
    pub playlists_restored: u64,
}

/// How an imported play count combines with the catalog's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CountMode {
    /// Another player's count: it becomes the imported baseline, next to Skylark's own plays.
    Baseline,
    /// A total that already includes Skylark's plays (a Skylark export).
    Total,
}

/// A track's play statistics as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StatRow {
    pub rating: i64,
    pub play_count: i64,
    pub imported_play_count: i64,
    pub last_played_at: i64,
    pub added_at: i64,
    pub loved: bool,
}

/// What a source says of one track.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ImportedStats {
    /// 1–100, or `None` for no rating.
    rating: Option<u8>,
    play_count: Option<u32>,
    /// Milliseconds since the Unix epoch.
    last_played: Option<i64>,
    added: Option<i64>,
    loved: bool,
}

impl StatRow {
    /// The row once `imported` is applied in `mode`.
    fn merged(&self, imported: &ImportedStats, mode: CountMode) -> StatRow {
        let mut new = *self;
        if let Some(rating) = imported.rating.filter(|r| (1..=100).contains(r)) {
            new.rating = i64::from(rating);
        }
        if let Some(count) = imported.play_count {
            let count = i64::from(count);
            let own = (self.play_count - self.imported_play_count).max(0);
            let baseline = match mode {
                CountMode::Baseline => count,
                CountMode::Total => (count - own).max(0),
            };
            new.imported_play_count = baseline;
            new.play_count = own + baseline;
        }
        if let Some(at) = imported.last_played.filter(|&t| t > 0) {
            new.last_played_at = self.last_played_at.max(at);
        }
        if let Some(at) = imported.added {
            new.added_at = self.added_at.min(at);
        }
        new.loved |= imported.loved;
        new
    }

    /// Counts the fields that differ between `self` (before) and `new`.
    fn count_changes(&self, new: &StatRow, into: &mut StatChanges) {
        if self == new {
            return;
        }
        into.tracks += 1;
        into.ratings += u64::from(self.rating != new.rating);
        into.play_counts += u64::from(self.play_count != new.play_count);
        into.last_played += u64::from(self.last_played_at != new.last_played_at);
        into.added += u64::from(self.added_at != new.added_at);
        into.loved += u64::from(self.loved != new.loved);
    }
}

/// A matched track and what the source says of it.
#[derive(Debug, Clone)]
struct PlannedTrack {
    track: TrackId,
    stats: ImportedStats,
}

/// A playlist to write.
#[derive(Debug, Clone)]
struct PlannedPlaylist {
    name: String,
    /// The source's id for it, when it has one.
    external_id: Option<String>,
    smart: bool,
    tracks: Vec<TrackId>,
    missing_entries: u64,
}

impl Catalog {
    /// Reads an iTunes or Music library XML (`iTunes Library.xml`, or `Library.xml` exported
    /// from Music) and matches it to the library, applying `mappings` to locations that do not
    /// match as they are. Nothing is written: see [`ImportPlan::report`] and
    /// [`Catalog::apply_import`].
    pub fn plan_itunes_import(&self, file: &Path, mappings: &[RootMapping]) -> Result<ImportPlan> {
        itunes::plan(self.conn(), file, mappings)
    }

    /// Reads M3U/M3U8 playlist files, one playlist each (named by its `#PLAYLIST:` line or its
    /// file name), resolving relative entries against the file's folder. Nothing is written.
    pub fn plan_m3u_import(
        &self,
        files: &[PathBuf],
        mappings: &[RootMapping],
    ) -> Result<ImportPlan> {
        m3u::plan(self.conn(), files, mappings)
    }

    /// Reads a `stats.jsonl` written by [`Catalog::export_library`] and matches its lines to the
    /// library (by path, relative ones against the file's folder, then audio id, then tags and
    /// duration). Nothing is written.
    pub fn plan_stats_import(&self, file: &Path, mappings: &[RootMapping]) -> Result<ImportPlan> {
        stats::plan(self.conn(), file, mappings)
    }

    /// Applies a plan in one transaction and records it in the import journal. Tracks deleted
    /// since the plan was made are passed over. Returns what was done; when nothing needed
    /// changing, nothing is recorded and the report's `import` is `None`.
    pub fn apply_import(&mut self, plan: ImportPlan, now: SystemTime) -> Result<ImportReport> {
        journal::apply(self.conn_mut(), plan, now)
    }

    /// Undoes import `id` (by default the latest one still in place) as a whole. Imports are
    /// undone newest first: undoing one that a later import still in place followed fails.
    pub fn undo_import(&mut self, id: Option<ImportId>, now: SystemTime) -> Result<UndoReport> {
        journal::undo(self.conn_mut(), id, now)
    }

    /// Every import applied, newest first.
    pub fn imports(&self) -> Result<Vec<ImportRecord>> {
        journal::list(self.conn())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_mappings_parse_and_apply() {
        let m = RootMapping::parse("/Users/me/Music/=/home/me/Music").unwrap();
        assert_eq!(m.from, "/Users/me/Music");
        assert_eq!(
            m.apply("/Users/me/Music/a/b.mp3").as_deref(),
            Some("/home/me/Music/a/b.mp3")
        );
        assert_eq!(
            m.apply("/users/ME/music/a.mp3").as_deref(),
            Some("/home/me/Music/a.mp3")
        );
        assert_eq!(m.apply("/Users/me/Musicals/a.mp3"), None);
        assert!(RootMapping::parse("/Users/me").is_err());
        assert!(RootMapping::parse("=/home").is_err());
        assert!(RootMapping::parse("/=/home").is_err());
        let nfd = RootMapping::try_new("/Bjo\u{308}rk", "/x").unwrap();
        assert_eq!(nfd.from, "/Björk");
    }

    #[test]
    fn merging_sets_a_baseline_and_never_doubles() {
        let before = StatRow {
            rating: 0,
            play_count: 3,
            imported_play_count: 0,
            last_played_at: 5_000,
            added_at: 9_000,
            loved: false,
        };
        let itunes = ImportedStats {
            rating: Some(80),
            play_count: Some(10),
            last_played: Some(4_000),
            added: Some(1_000),
            loved: true,
        };
        let once = before.merged(&itunes, CountMode::Baseline);
        assert_eq!(
            once,
            StatRow {
                rating: 80,
                play_count: 13,
                imported_play_count: 10,
                last_played_at: 5_000,
                added_at: 1_000,
                loved: true,
            }
        );
        assert_eq!(
            once.merged(&itunes, CountMode::Baseline),
            once,
            "idempotent"
        );
        // A Skylark export's total of 13 is what the track already shows.
        let total = ImportedStats {
            play_count: Some(13),
            ..ImportedStats::default()
        };
        assert_eq!(once.merged(&total, CountMode::Total), once);
        // Into a fresh catalog the total becomes the baseline.
        let fresh = StatRow {
            play_count: 0,
            ..before
        };
        assert_eq!(fresh.merged(&total, CountMode::Total).play_count, 13);
        let mut changes = StatChanges::default();
        before.count_changes(&once, &mut changes);
        assert_eq!(
            changes,
            StatChanges {
                tracks: 1,
                ratings: 1,
                play_counts: 1,
                last_played: 0,
                added: 1,
                loved: 1,
            }
        );
    }
}

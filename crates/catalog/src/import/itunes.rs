//! iTunes and Music library XML: an Apple property list whose `Tracks` dictionary holds one
//! dictionary per track (keyed by its Track ID) and whose `Playlists` array holds the playlists
//! with their `Playlist Items`.
//!
//! The file is read with the `plist` crate straight into the few fields used here (everything
//! else, such as the smart playlists' binary criteria, is skipped while streaming), so a 30 MB
//! library of 50,000 tracks parses in well under a second.
//!
//! What the format says, as Music writes it:
//! - `Location` is a `file://` URL (`file:///Users/…` from Music, `file://localhost/…` from older
//!   iTunes, `file://localhost/C:/…` on Windows), percent-encoded UTF-8, with names in NFD on
//!   macOS.
//! - `Rating` is 0–100 (20 per star). With `Rating Computed` it was derived from the album rating
//!   and is not the user's.
//! - `Play Count` is omitted when zero; `Play Date UTC` is the last play; `Loved` (`Favorited` in
//!   recent Music versions) marks a favourite.
//! - `Track Type` is `File` for a local file, `Remote` for a track in Apple's cloud, `URL` for a
//!   stream.
//! - Playlists: `Master` marks the whole library; `Distinguished Kind` (and, in older files,
//!   flags such as `Music`, `Movies`, `Podcasts`) mark the built-in lists; `Folder` marks a folder,
//!   whose children name it with `Parent Persistent ID`; `Smart Info` marks a smart playlist.

use std::collections::{HashMap, HashSet};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rusqlite::Connection;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::matching::{Library, TagMatch, path_key};
use super::{
    CountMode, ImportKind, ImportPlan, ImportReport, ImportedStats, PlannedPlaylist, PlannedTrack,
    RootMapping, SkipReason, SkippedPlaylist, StatChanges, TrackCounts, UnmatchedReason,
    UnmatchedTrack, journal,
};
use crate::error::{Error, Result, io_error};
use crate::m3u::{percent_decode, strip_drive_slash};
use crate::model::TrackId;

/// The library as the XML has it (only the keys used).
#[derive(Debug, Deserialize)]
struct RawLibrary {
    #[serde(rename = "Library Persistent ID")]
    library_id: Option<String>,
    #[serde(rename = "Tracks")]
    tracks: Option<HashMap<String, RawTrack>>,
    #[serde(rename = "Playlists", default)]
    playlists: Vec<RawPlaylist>,
}

#[derive(Debug, Deserialize)]
struct RawTrack {
    #[serde(rename = "Track ID")]
    id: i64,
    #[serde(rename = "Name")]
    name: Option<String>,
    #[serde(rename = "Artist")]
    artist: Option<String>,
    #[serde(rename = "Album")]
    album: Option<String>,
    #[serde(rename = "Total Time")]
    total_time: Option<i64>,
    #[serde(rename = "Rating")]
    rating: Option<i64>,
    #[serde(rename = "Rating Computed", default)]
    rating_computed: bool,
    #[serde(rename = "Play Count")]
    play_count: Option<i64>,
    #[serde(rename = "Play Date UTC")]
    play_date: Option<plist::Date>,
    #[serde(rename = "Date Added")]
    date_added: Option<plist::Date>,
    #[serde(rename = "Loved", default)]
    loved: bool,
    #[serde(rename = "Favorited", default)]
    favorited: bool,
    #[serde(rename = "Location")]
    location: Option<String>,
    #[serde(rename = "Track Type")]
    track_type: Option<String>,
    #[serde(rename = "Has Video", default)]
    has_video: bool,
    #[serde(rename = "Movie", default)]
    movie: bool,
    #[serde(rename = "TV Show", default)]
    tv_show: bool,
    #[serde(rename = "Music Video", default)]
    music_video: bool,
}

#[derive(Debug, Deserialize)]
struct RawPlaylist {
    #[serde(rename = "Name")]
    name: Option<String>,
    #[serde(rename = "Master", default)]
    master: bool,
    #[serde(rename = "Playlist Persistent ID")]
    persistent_id: Option<String>,
    #[serde(rename = "Parent Persistent ID")]
    parent_id: Option<String>,
    #[serde(rename = "Distinguished Kind")]
    distinguished_kind: Option<i64>,
    #[serde(rename = "Folder", default)]
    folder: bool,
    #[serde(rename = "Smart Info")]
    smart_info: Option<IgnoredAny>,
    #[serde(rename = "Smart Criteria")]
    smart_criteria: Option<IgnoredAny>,
    // The flags older iTunes versions put on their built-in lists instead of a Distinguished Kind.
    #[serde(rename = "Music", default)]
    music: bool,
    #[serde(rename = "Movies", default)]
    movies: bool,
    #[serde(rename = "TV Shows", default)]
    tv_shows: bool,
    #[serde(rename = "Podcasts", default)]
    podcasts: bool,
    #[serde(rename = "Audiobooks", default)]
    audiobooks: bool,
    #[serde(rename = "Books", default)]
    books: bool,
    #[serde(rename = "Purchased Music", default)]
    purchased_music: bool,
    #[serde(rename = "Party Shuffle", default)]
    party_shuffle: bool,
    #[serde(rename = "iTunesU", default)]
    itunes_u: bool,
    #[serde(rename = "Playlist Items", default)]
    items: Vec<RawItem>,
}

#[derive(Debug, Deserialize)]
struct RawItem {
    #[serde(rename = "Track ID")]
    id: i64,
}

impl RawPlaylist {
    fn built_in(&self) -> bool {
        self.master
            || self.distinguished_kind.is_some()
            || self.music
            || self.movies
            || self.tv_shows
            || self.podcasts
            || self.audiobooks
            || self.books
            || self.purchased_music
            || self.party_shuffle
            || self.itunes_u
    }

    fn display_name(&self) -> String {
        self.name.clone().unwrap_or_default()
    }
}

impl RawTrack {
    fn is_video(&self) -> bool {
        self.has_video || self.movie || self.tv_show || self.music_video
    }

    /// The path key of its location, when it is a local file.
    fn location_key(&self) -> Option<String> {
        if self
            .track_type
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("File"))
        {
            return None;
        }
        location_key(self.location.as_deref()?)
    }

    fn stats(&self) -> ImportedStats {
        let millis = |d: &plist::Date| {
            let t: SystemTime = (*d).into();
            crate::model::to_millis(t)
        };
        ImportedStats {
            rating: self
                .rating
                .filter(|_| !self.rating_computed)
                .and_then(|r| u8::try_from(r).ok())
                .filter(|r| (1..=100).contains(r)),
            // Music leaves the key out of tracks never played.
            play_count: Some(
                self.play_count
                    .and_then(|c| u32::try_from(c).ok())
                    .unwrap_or(0),
            ),
            last_played: self.play_date.as_ref().map(millis),
            added: self.date_added.as_ref().map(millis).filter(|&t| t > 0),
            loved: self.loved || self.favorited,
        }
    }
}

/// The path key of a `file://` URL as iTunes and Music write them; `None` for other URLs.
pub(crate) fn location_key(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("file://")
        .or_else(|| url.strip_prefix("FILE://"))?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let decoded = String::from_utf8_lossy(&percent_decode(rest)).into_owned();
    let path = if decoded.starts_with('/') {
        strip_drive_slash(&decoded).to_owned()
    } else {
        // file://server/share/… names a Windows network share.
        format!("//{decoded}")
    };
    Some(path_key(&path))
}

/// Reads the library XML.
fn read(file: &Path) -> Result<RawLibrary> {
    let handle = std::fs::File::open(file).map_err(io_error(file))?;
    let library: RawLibrary =
        plist::from_reader(BufReader::new(handle)).map_err(|e| Error::Format {
            path: file.to_owned(),
            reason: format!("not an iTunes or Music library XML: {e}"),
        })?;
    if library.tracks.is_none() {
        return Err(Error::Format {
            path: file.to_owned(),
            reason: "not an iTunes or Music library XML: it has no Tracks dictionary".to_owned(),
        });
    }
    Ok(library)
}

/// Where iTunes keeps its library XML under a home folder, and where people save Music's
/// export: the ones of these that exist. For a wizard that offers the import when it finds one.
pub fn usual_locations(home: &Path) -> Vec<PathBuf> {
    [
        "Music/iTunes/iTunes Library.xml",
        "Music/iTunes/iTunes Music Library.xml",
        "Music/Library.xml",
        "Music/Music/Library.xml",
        "Desktop/Library.xml",
        "Documents/Library.xml",
    ]
    .iter()
    .map(|rel| home.join(rel))
    .filter(|p| p.is_file())
    .collect()
}

/// Plans the import of the library XML `file`.
pub(super) fn plan(conn: &Connection, file: &Path, mappings: &[RootMapping]) -> Result<ImportPlan> {
    let _span = tracing::info_span!("itunes import plan", file = %file.display()).entered();
    let raw = read(file)?;
    let library = Library::load(conn)?;
    let source_key = match &raw.library_id {
        Some(id) => format!("itunes:{id}"),
        None => format!(
            "itunes-file:{}",
            std::path::absolute(file)
                .map_err(io_error(file))?
                .to_string_lossy()
        ),
    };
    let mut tracks: Vec<RawTrack> = raw.tracks.unwrap_or_default().into_values().collect();
    tracks.sort_by_key(|t| t.id);

    let mut counts = TrackCounts {
        in_source: tracks.len() as u64,
        ..TrackCounts::default()
    };
    // Source Track ID -> library track, and library track -> the source id that claimed it.
    let mut matched: HashMap<i64, TrackId> = HashMap::new();
    let mut claimed: HashMap<TrackId, String> = HashMap::new();
    let mut unmatched_locations: Vec<String> = Vec::new();
    let mut unmatched: Vec<(usize, UnmatchedReason)> = Vec::new();
    let mut duplicates: Vec<(usize, TrackId)> = Vec::new();

    // Locations first, for every track, so a tag match never takes a file that another entry
    // names by location.
    let mut by_tags: Vec<usize> = Vec::new();
    for (index, track) in tracks.iter().enumerate() {
        if track.is_video() {
            unmatched.push((index, UnmatchedReason::Video));
            continue;
        }
        let Some(key) = track.location_key() else {
            by_tags.push(index);
            continue;
        };
        let found = match library.locate(&key) {
            Some(id) => Some((id, false)),
            None => library.locate_mapped(&key, mappings).map(|id| (id, true)),
        };
        match found {
            Some((id, _)) if claimed.contains_key(&id) => duplicates.push((index, id)),
            Some((id, mapped)) => {
                if mapped {
                    counts.by_mapping += 1;
                } else {
                    counts.by_location += 1;
                }
                claimed.insert(id, track.id.to_string());
                matched.insert(track.id, id);
            }
            None => {
                unmatched_locations.push(key);
                by_tags.push(index);
            }
        }
    }
    for (index, id) in duplicates {
        unmatched.push((
            index,
            UnmatchedReason::AlreadyMatched {
                by: claimed.get(&id).cloned().unwrap_or_default(),
            },
        ));
    }
    for index in by_tags {
        let track = &tracks[index];
        let result = library.by_tags(
            track.name.as_deref().unwrap_or(""),
            track.artist.as_deref().unwrap_or(""),
            track.album.as_deref().unwrap_or(""),
            track.total_time.and_then(|t| u64::try_from(t).ok()),
            &claimed,
        );
        let reason = match result {
            TagMatch::Found(id) => {
                counts.by_tags += 1;
                claimed.insert(id, track.id.to_string());
                matched.insert(track.id, id);
                continue;
            }
            TagMatch::Duration { library_ms } => UnmatchedReason::DurationDiffers {
                library_ms,
                source_ms: track
                    .total_time
                    .and_then(|t| u64::try_from(t).ok())
                    .unwrap_or(0),
            },
            TagMatch::Ambiguous(candidates) => UnmatchedReason::Ambiguous { candidates },
            TagMatch::Claimed(id) => UnmatchedReason::AlreadyMatched {
                by: claimed.get(&id).cloned().unwrap_or_default(),
            },
            TagMatch::None if track.location_key().is_none() && track.location.is_some() => {
                UnmatchedReason::CloudOnly
            }
            TagMatch::None
                if track
                    .track_type
                    .as_deref()
                    .is_some_and(|t| !t.eq_ignore_ascii_case("File")) =>
            {
                UnmatchedReason::CloudOnly
            }
            TagMatch::None => UnmatchedReason::NotInLibrary {
                path: track.location_key(),
            },
        };
        unmatched.push((index, reason));
    }
    unmatched.sort_by_key(|(index, _)| *index);
    counts.unmatched = unmatched.len() as u64;

    let mut changes = StatChanges::default();
    let mut planned_tracks = Vec::with_capacity(matched.len());
    for track in &tracks {
        let Some(&id) = matched.get(&track.id) else {
            continue;
        };
        let stats = track.stats();
        if let Some(current) = library.stats.get(&id) {
            current.count_changes(&current.merged(&stats, CountMode::Baseline), &mut changes);
        }
        planned_tracks.push(PlannedTrack { track: id, stats });
    }

    let videos: HashSet<i64> = tracks
        .iter()
        .filter(|t| t.is_video())
        .map(|t| t.id)
        .collect();
    let (playlists, skipped) = plan_playlists(&raw.playlists, &matched, &videos);

    let report = ImportReport {
        kind: ImportKind::Itunes,
        source: file.display().to_string(),
        applied: false,
        import: None,
        tracks: counts,
        changes,
        playlists: journal::preview_playlists(conn, &source_key, &playlists)?,
        skipped_playlists: skipped,
        unmatched: unmatched
            .into_iter()
            .map(|(index, reason)| {
                let t = &tracks[index];
                UnmatchedTrack {
                    source_id: t.id.to_string(),
                    title: t.name.clone().unwrap_or_default(),
                    artist: t.artist.clone().unwrap_or_default(),
                    album: t.album.clone().unwrap_or_default(),
                    location: t.location.clone(),
                    reason,
                }
            })
            .collect(),
        mappings: mappings.to_vec(),
        proposed_mappings: library.propose(&unmatched_locations),
    };
    Ok(ImportPlan {
        report,
        source_key,
        mode: CountMode::Baseline,
        tracks: planned_tracks,
        playlists,
    })
}

/// The playlists to import, and those left out.
fn plan_playlists(
    raw: &[RawPlaylist],
    matched: &HashMap<i64, TrackId>,
    videos: &HashSet<i64>,
) -> (Vec<PlannedPlaylist>, Vec<SkippedPlaylist>) {
    let folders: HashMap<&str, &RawPlaylist> = raw
        .iter()
        .filter(|p| p.folder)
        .filter_map(|p| Some((p.persistent_id.as_deref()?, p)))
        .collect();
    let mut planned = Vec::new();
    let mut skipped = Vec::new();
    for list in raw {
        let reason = if list.built_in() {
            Some(SkipReason::BuiltIn)
        } else if list.folder {
            Some(SkipReason::Folder)
        } else if !list.items.is_empty() && list.items.iter().all(|i| videos.contains(&i.id)) {
            Some(SkipReason::NoAudio)
        } else {
            None
        };
        if let Some(reason) = reason {
            skipped.push(SkippedPlaylist {
                name: list.display_name(),
                reason,
            });
            continue;
        }
        // "Folder / Sub / Name", following parents up; a loop or a missing parent ends the walk.
        let mut parts = vec![list.display_name()];
        let mut seen = HashSet::new();
        let mut parent = list.parent_id.as_deref();
        while let Some(id) = parent {
            let Some(folder) = folders.get(id).filter(|_| seen.insert(id)) else {
                break;
            };
            parts.push(folder.display_name());
            parent = folder.parent_id.as_deref();
        }
        parts.reverse();
        let name = parts.join(" / ");
        let mut tracks = Vec::with_capacity(list.items.len());
        let mut missing = 0;
        for item in &list.items {
            match matched.get(&item.id) {
                Some(&id) => tracks.push(id),
                None => missing += 1,
            }
        }
        planned.push(PlannedPlaylist {
            name,
            external_id: list.persistent_id.clone(),
            smart: list.smart_info.is_some() || list.smart_criteria.is_some(),
            tracks,
            missing_entries: missing,
        });
    }
    (planned, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_as_itunes_and_music_write_them() {
        let check = |url: &str, expect: Option<&str>| {
            assert_eq!(location_key(url).as_deref(), expect, "{url}");
        };
        check(
            "file:///Users/me/Music/Music/Media.localized/Music/Bjo%CC%88rk/Homogenic/01%20Hunter.m4a",
            Some("/Users/me/Music/Music/Media.localized/Music/Björk/Homogenic/01 Hunter.m4a"),
        );
        check(
            "file://localhost/Users/me/Music/iTunes/iTunes%20Media/Music/AC%E2%81%84DC/a%23b%25c&d.mp3",
            Some("/Users/me/Music/iTunes/iTunes Media/Music/AC⁄DC/a#b%c&d.mp3"),
        );
        check(
            "file://localhost/C:/Users/me/Music/iTunes/iTunes%20Media/Music/x.mp3",
            Some("C:/Users/me/Music/iTunes/iTunes Media/Music/x.mp3"),
        );
        check("file://nas/music/x.mp3", Some("//nas/music/x.mp3"));
        check("http://example.com/stream.mp3", None);
    }
}

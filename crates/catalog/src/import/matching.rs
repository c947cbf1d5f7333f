//! Finding the library track an imported entry stands for: by location, by a root remapping the
//! user confirmed, by audio id, then by tags and duration; and proposing remappings from the
//! locations that matched nothing.
//!
//! Locations are compared as *path keys*: the path as text in Unicode NFC with `/` separators.
//! macOS writes file names in NFD ("o" followed by a combining diaeresis) and Linux keeps whatever
//! bytes were copied, so the same name can arrive in either form; NFC on both sides makes them
//! equal. When no key is equal, a case-insensitive comparison is tried (the macOS file system
//! ignores case, so a library XML may spell a folder differently from the disk), but only where it
//! finds exactly one file.

use std::collections::HashMap;

use rusqlite::Connection;
use unicode_normalization::UnicodeNormalization;

use super::{ProposedMapping, RootMapping, StatRow};
use crate::error::{DbContext, Result};
use crate::model::TrackId;
use crate::names::search_fold;
use crate::paths;

/// How far apart two durations may be for a tag match, in milliseconds.
pub(crate) const DURATION_TOLERANCE_MS: u64 = 2_000;

/// At most this many remappings are proposed.
const MAX_PROPOSALS: usize = 5;

/// The path key of a path written as text: NFC, with `/` separators.
pub(crate) fn path_key(path: &str) -> String {
    let path = if cfg!(windows) {
        path.replace('\\', "/")
    } else {
        path.to_owned()
    };
    if path.is_ascii() {
        path
    } else {
        path.nfc().collect()
    }
}

/// Of the tracks `all` (with their durations) that `claimed` leaves free, the one closest to
/// `duration_ms` within [`DURATION_TOLERANCE_MS`]; a tie is ambiguous. With no duration to
/// compare, only a single free track matches.
fn closest(
    all: &[(TrackId, u64)],
    duration_ms: Option<u64>,
    claimed: &HashMap<TrackId, String>,
) -> TagMatch {
    let free: Vec<(TrackId, u64)> = all
        .iter()
        .copied()
        .filter(|(id, _)| !claimed.contains_key(id))
        .collect();
    if free.is_empty() {
        return match all {
            [(id, _)] => TagMatch::Claimed(*id),
            _ => TagMatch::Ambiguous(u32::try_from(all.len()).unwrap_or(u32::MAX)),
        };
    }
    let Some(wanted) = duration_ms else {
        return match free.as_slice() {
            [(id, _)] => TagMatch::Found(*id),
            _ => TagMatch::Ambiguous(u32::try_from(free.len()).unwrap_or(u32::MAX)),
        };
    };
    let mut by_distance: Vec<(u64, TrackId, u64)> = free
        .iter()
        .map(|&(id, d)| (d.abs_diff(wanted), id, d))
        .collect();
    by_distance.sort_unstable();
    let (distance, id, library_ms) = by_distance[0];
    if distance > DURATION_TOLERANCE_MS {
        return TagMatch::Duration { library_ms };
    }
    let ties = by_distance
        .iter()
        .take_while(|(d, _, _)| *d == distance)
        .count();
    if ties > 1 {
        return TagMatch::Ambiguous(u32::try_from(ties).unwrap_or(u32::MAX));
    }
    TagMatch::Found(id)
}

/// The key an `#EXTINF` line's "Artist - Title" is compared by: [`tag_key`] without the album.
pub(crate) fn credit_key(title: &str, artist: &str) -> String {
    tag_key(title, artist, "")
}

/// The key tags are compared by: case, diacritics, spaces and punctuation ignored, so "Björk" and
/// "bjork", "Takk..." and "Takk" are equal.
pub(crate) fn tag_key(title: &str, artist: &str, album: &str) -> String {
    let fold = |s: &str| -> String {
        search_fold(s)
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect()
    };
    format!("{}\u{1f}{}\u{1f}{}", fold(title), fold(artist), fold(album))
}

/// What the matcher knows of the catalog: every file's path and every track's tags, audio id and
/// play statistics, loaded once per import.
#[derive(Debug, Default)]
pub(crate) struct Library {
    /// Path keys, for the remapping proposal.
    keys: Vec<(String, TrackId)>,
    /// The roots' path keys: a proposed mapping leads to a root or a folder inside one.
    roots: Vec<String>,
    by_bytes: HashMap<Vec<u8>, TrackId>,
    by_key: HashMap<String, TrackId>,
    /// Lowercased path key -> the track, or `None` when two files share it.
    by_folded: HashMap<String, Option<TrackId>>,
    /// Lowercased file name -> indexes into `keys`.
    by_file_name: HashMap<String, Vec<usize>>,
    by_tags: HashMap<String, Vec<(TrackId, u64)>>,
    /// Title and artist without the album ([`credit_key`]): what an `#EXTINF` line names.
    by_credit: HashMap<String, Vec<(TrackId, u64)>>,
    by_audio_id: HashMap<String, TrackId>,
    /// Each track's play statistics as they are now.
    pub stats: HashMap<TrackId, StatRow>,
}

/// The outcome of a tag match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TagMatch {
    /// One track has these tags and a duration within [`DURATION_TOLERANCE_MS`].
    Found(TrackId),
    /// No track has these tags.
    None,
    /// Tracks have these tags, but the closest one's duration is this far off.
    Duration { library_ms: u64 },
    /// Several tracks fit equally well.
    Ambiguous(u32),
    /// The one track that fits was matched by another entry already.
    Claimed(TrackId),
}

impl Library {
    /// Loads the catalog's files and tracks.
    pub fn load(conn: &Connection) -> Result<Self> {
        let mut lib = Library::default();
        let context = "loading the library for an import";
        let mut stmt = conn.prepare("SELECT path FROM roots").ctx(context)?;
        let rows = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0))
            .ctx(context)?;
        for row in rows {
            let root = paths::from_bytes(&row.ctx(context)?);
            lib.roots.push(path_key(&root.to_string_lossy()));
        }
        let mut stmt = conn
            .prepare("SELECT path, track_id FROM files ORDER BY id")
            .ctx(context)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, TrackId(r.get::<_, i64>(1)?)))
            })
            .ctx(context)?;
        for row in rows {
            let (bytes, track) = row.ctx(context)?;
            let key = path_key(&paths::from_bytes(&bytes).to_string_lossy());
            lib.add_path(bytes, key, track);
        }
        let mut stmt = conn
            .prepare(
                "SELECT t.id, t.title, t.artist, al.title, t.duration_ms, t.audio_id, t.rating,
                    t.play_count, t.imported_play_count, t.last_played_at, t.added_at, t.loved
                 FROM tracks t JOIN albums al ON al.id = t.album_id",
            )
            .ctx(context)?;
        let rows = stmt
            .query_map([], |r| {
                let (title, artist) = (r.get::<_, String>(1)?, r.get::<_, String>(2)?);
                Ok((
                    TrackId(r.get(0)?),
                    tag_key(&title, &artist, &r.get::<_, String>(3)?),
                    credit_key(&title, &artist),
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    StatRow {
                        rating: r.get(6)?,
                        play_count: r.get(7)?,
                        imported_play_count: r.get(8)?,
                        last_played_at: r.get(9)?,
                        added_at: r.get(10)?,
                        loved: r.get(11)?,
                    },
                ))
            })
            .ctx(context)?;
        for row in rows {
            let (id, tags, credit, duration, audio_id, stats) = row.ctx(context)?;
            let duration = duration.max(0).unsigned_abs();
            lib.by_tags.entry(tags).or_default().push((id, duration));
            lib.by_credit
                .entry(credit)
                .or_default()
                .push((id, duration));
            if let Some(audio_id) = audio_id {
                lib.by_audio_id.insert(audio_id, id);
            }
            lib.stats.insert(id, stats);
        }
        Ok(lib)
    }

    fn add_path(&mut self, bytes: Vec<u8>, key: String, track: TrackId) {
        let folded = key.to_lowercase();
        self.by_folded
            .entry(folded.clone())
            .and_modify(|t| *t = None)
            .or_insert(Some(track));
        let name = folded.rsplit('/').next().unwrap_or("").to_owned();
        self.by_file_name
            .entry(name)
            .or_default()
            .push(self.keys.len());
        self.by_key.insert(key.clone(), track);
        self.keys.push((key, track));
        self.by_bytes.insert(bytes, track);
    }

    /// The track whose file is at exactly these path bytes.
    pub fn by_bytes(&self, bytes: &[u8]) -> Option<TrackId> {
        self.by_bytes.get(bytes).copied()
    }

    /// The track whose file has this path key (see [`path_key`]), or the only one whose key is
    /// equal ignoring case.
    pub fn locate(&self, key: &str) -> Option<TrackId> {
        self.by_key
            .get(key)
            .copied()
            .or_else(|| self.by_folded.get(&key.to_lowercase()).copied().flatten())
    }

    /// The track at `key` once the first mapping that applies to it has been applied.
    pub fn locate_mapped(&self, key: &str, mappings: &[RootMapping]) -> Option<TrackId> {
        mappings
            .iter()
            .find_map(|m| m.apply(key))
            .and_then(|mapped| self.locate(&mapped))
    }

    /// The track with this audio id.
    pub fn by_audio_id(&self, audio_id: &str) -> Option<TrackId> {
        self.by_audio_id.get(audio_id).copied()
    }

    /// The track with these tags and a duration within [`DURATION_TOLERANCE_MS`] of
    /// `duration_ms`, leaving out tracks in `claimed`. The closest duration wins; a tie is
    /// ambiguous. With no duration to compare, only a single track with the tags matches.
    pub fn by_tags(
        &self,
        title: &str,
        artist: &str,
        album: &str,
        duration_ms: Option<u64>,
        claimed: &HashMap<TrackId, String>,
    ) -> TagMatch {
        match self.by_tags.get(&tag_key(title, artist, album)) {
            Some(all) => closest(all, duration_ms, claimed),
            None => TagMatch::None,
        }
    }

    /// The track titled `title` by `artist` (any album), as [`Library::by_tags`] picks one.
    pub fn by_credit(
        &self,
        title: &str,
        artist: &str,
        duration_ms: Option<u64>,
        claimed: &HashMap<TrackId, String>,
    ) -> TagMatch {
        match self.by_credit.get(&credit_key(title, artist)) {
            Some(all) => closest(all, duration_ms, claimed),
            None => TagMatch::None,
        }
    }

    /// Remappings that would let some of `unmatched` (path keys no library file has) match.
    ///
    /// For each location, the library files with the same name are compared from the end: the
    /// one sharing the longest tail of folders (at least the file and its folder) gives a vote to
    /// "the part before the tail in the source" -> "the part before it here". The most voted
    /// pairs are then checked against every unmatched location, and those that resolve some are
    /// proposed, most first.
    pub fn propose(&self, unmatched: &[String]) -> Vec<ProposedMapping> {
        let mut votes: HashMap<(String, String), u64> = HashMap::new();
        for key in unmatched {
            let parts: Vec<&str> = key.split('/').collect();
            let name = parts.last().map(|n| n.to_lowercase()).unwrap_or_default();
            let Some(candidates) = self.by_file_name.get(&name) else {
                continue;
            };
            let mut best: Option<(usize, usize)> = None;
            let mut tie = false;
            // Bounded: a name like "01 Intro.mp3" may be shared by hundreds of files.
            for &index in candidates.iter().take(256) {
                let there: Vec<&str> = self.keys[index].0.split('/').collect();
                let common = parts
                    .iter()
                    .rev()
                    .zip(there.iter().rev())
                    .take_while(|(a, b)| a.to_lowercase() == b.to_lowercase())
                    .count();
                match best {
                    Some((c, _)) if common < c => {}
                    Some((c, _)) if common == c => tie = true,
                    _ => {
                        best = Some((common, index));
                        tie = false;
                    }
                }
            }
            let Some((common, index)) = best else {
                continue;
            };
            let there_key = &self.keys[index].0;
            let there: Vec<&str> = there_key.split('/').collect();
            // Folders the two paths share above the library root are a coincidence ("Music" on
            // both sides): the mapping leads to the root, not above it.
            let root_parts = self
                .roots
                .iter()
                .filter(|r| {
                    there_key.starts_with(r.as_str()) && there_key[r.len()..].starts_with('/')
                })
                .map(|r| r.split('/').count())
                .max()
                .unwrap_or(1);
            let common = common.min(there.len().saturating_sub(root_parts));
            if tie || common < 2 || common >= parts.len() || common >= there.len() {
                continue;
            }
            let from = parts[..parts.len() - common].join("/");
            let to = there[..there.len() - common].join("/");
            if from.is_empty() || to.is_empty() {
                continue;
            }
            *votes.entry((from, to)).or_default() += 1;
        }
        let mut ranked: Vec<((String, String), u64)> = votes.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut proposals: Vec<ProposedMapping> = Vec::new();
        for ((from, to), _) in ranked.into_iter().take(MAX_PROPOSALS * 4) {
            let Ok(mapping) = RootMapping::try_new(&from, &to) else {
                continue;
            };
            let tracks = unmatched
                .iter()
                .filter(|k| mapping.apply(k).is_some_and(|m| self.locate(&m).is_some()))
                .count() as u64;
            if tracks > 0 && !proposals.iter().any(|p| p.from == mapping.from) {
                proposals.push(ProposedMapping {
                    from: mapping.from,
                    to: mapping.to,
                    tracks,
                });
            }
        }
        proposals.sort_by(|a, b| b.tracks.cmp(&a.tracks).then_with(|| a.from.cmp(&b.from)));
        proposals.truncate(MAX_PROPOSALS);
        proposals
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library(paths: &[&str]) -> Library {
        let mut lib = Library::default();
        for (i, p) in paths.iter().enumerate() {
            lib.add_path(p.as_bytes().to_vec(), path_key(p), TrackId(i as i64 + 1));
        }
        lib
    }

    #[test]
    fn keys_ignore_unicode_form_and_locate_ignores_case_when_unique() {
        let lib = library(&["/m/Björk/Jóga.flac", "/m/A/x.mp3", "/m/a/X.mp3"]);
        let nfd = "/m/Bjo\u{308}rk/Jo\u{301}ga.flac";
        assert_eq!(lib.locate(&path_key(nfd)), Some(TrackId(1)));
        assert_eq!(lib.locate("/M/BJÖRK/jóga.flac"), Some(TrackId(1)));
        assert_eq!(lib.locate("/m/A/x.mp3"), Some(TrackId(2)));
        assert_eq!(lib.locate("/M/a/x.mp3"), None, "two files fold to one key");
    }

    #[test]
    fn proposals_find_the_moved_root() {
        let lib = library(&[
            "/home/me/Library/Björk/Homogenic/01 Hunter.mp3",
            "/home/me/Library/Björk/Homogenic/02 Jóga.mp3",
            "/home/me/Library/Sigur Rós/Takk/01 Intro.mp3",
            "/home/me/Library/Other/Album/01 Intro.mp3",
        ]);
        let unmatched: Vec<String> = [
            "/Users/me/Music/iTunes/iTunes Media/Music/Björk/Homogenic/01 Hunter.mp3",
            "/Users/me/Music/iTunes/iTunes Media/Music/Bjo\u{308}rk/Homogenic/02 Jo\u{301}ga.mp3",
            "/Users/me/Music/iTunes/iTunes Media/Music/Sigur Rós/Takk/01 Intro.mp3",
            "/Users/me/Music/iTunes/iTunes Media/Music/Gone/Album/05 Nothing.mp3",
        ]
        .iter()
        .map(|p| path_key(p))
        .collect();
        let proposals = lib.propose(&unmatched);
        assert_eq!(
            proposals,
            [ProposedMapping {
                from: "/Users/me/Music/iTunes/iTunes Media/Music".to_owned(),
                to: "/home/me/Library".to_owned(),
                tracks: 3,
            }]
        );
    }

    #[test]
    fn proposals_from_a_windows_library() {
        let mut lib = library(&[
            "/srv/music/Artist/Album/01 Song.flac",
            "/srv/music/Artist/Album/02 Other.flac",
        ]);
        lib.roots.push("/srv/music".to_owned());
        let unmatched = vec![
            "C:/Users/me/Music/iTunes/iTunes Media/Music/Artist/Album/01 Song.flac".to_owned(),
            "C:/Users/me/Music/iTunes/iTunes Media/Music/Artist/Album/02 Other.flac".to_owned(),
        ];
        let proposals = lib.propose(&unmatched);
        assert_eq!(proposals.len(), 1);
        assert_eq!(
            proposals[0].from,
            "C:/Users/me/Music/iTunes/iTunes Media/Music"
        );
        assert_eq!(proposals[0].to, "/srv/music");
        assert_eq!(proposals[0].tracks, 2);
        let mapping = RootMapping::try_new(
            "c:\\Users\\me\\Music\\iTunes\\iTunes Media\\Music\\",
            "/srv/music/",
        )
        .unwrap();
        assert_eq!(
            lib.locate_mapped(&unmatched[1], &[mapping]),
            Some(TrackId(2)),
            "drive letters and separators as Windows users type them"
        );
    }

    #[test]
    fn tag_matches_need_a_close_duration_and_one_winner() {
        let mut lib = Library::default();
        lib.by_tags.insert(
            tag_key("Jóga", "Björk", "Homogenic"),
            vec![(TrackId(1), 305_000)],
        );
        lib.by_tags.insert(
            tag_key("Intro", "Various", "Hits"),
            vec![
                (TrackId(2), 60_000),
                (TrackId(3), 60_000),
                (TrackId(4), 90_000),
            ],
        );
        let none = HashMap::new();
        let check = |title, artist, album, ms, expect: TagMatch| {
            assert_eq!(
                lib.by_tags(title, artist, album, ms, &none),
                expect,
                "{title} {ms:?}"
            );
        };
        check(
            "joga",
            "BJORK",
            "Homogenic",
            Some(306_900),
            TagMatch::Found(TrackId(1)),
        );
        check(
            "Jóga",
            "Björk",
            "Homogenic!",
            Some(303_000),
            TagMatch::Found(TrackId(1)),
        );
        check(
            "Jóga",
            "Björk",
            "Homogenic",
            Some(310_000),
            TagMatch::Duration {
                library_ms: 305_000,
            },
        );
        check("Jóga", "Björk", "Post", Some(305_000), TagMatch::None);
        check(
            "Intro",
            "Various",
            "Hits",
            Some(60_500),
            TagMatch::Ambiguous(2),
        );
        check(
            "Intro",
            "Various",
            "Hits",
            Some(89_000),
            TagMatch::Found(TrackId(4)),
        );
        let claimed = HashMap::from([(TrackId(1), "7".to_owned())]);
        assert_eq!(
            lib.by_tags("Jóga", "Björk", "Homogenic", Some(305_000), &claimed),
            TagMatch::Claimed(TrackId(1))
        );
    }
}

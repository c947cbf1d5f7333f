//! Albums whose files name no album artist. Such a track is filed under its first artist, which
//! splits a compilation tagged only with track artists ("Now 42" with a track each by Alpha, Beta
//! and Gamma) into one album per artist, and an album with guests ("Daft Punk", "Daft Punk feat.
//! Pharrell Williams") into two. Instead, the tracks of one folder that share an album title and
//! name no album artist are one album, by their shared lead artist when they have one, else by
//! Various Artists, as a compilation. Tracks that share a disc and track number are two albums
//! that share a title ("Greatest Hits" by two artists in one flat folder), and are left apart.
//!
//! The scan's writer files each such track as it comes ([`FolderAlbums`]), by what it has seen of
//! its folder so far; after the scan, [`regroup`] looks at the folders it wrote to as a whole,
//! with the tracks earlier scans wrote there, and moves what the writer filed otherwise (the
//! first track of each album, or tracks of a folder a rescan touched in part).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rusqlite::Connection;

use crate::error::{DbContext, Result};
use crate::model::{AlbumId, TrackId};
use crate::names::{VARIOUS_ARTISTS, match_key};
use crate::paths;
use crate::store::{Store, TrackRecord};

/// What introduces a guest in an artist credit ("A feat. B").
const GUESTS: [&str; 5] = [" feat. ", " feat ", " ft. ", " featuring ", " with "];

/// What joins two names in an artist credit ("A & B").
const PARTNERS: [&str; 5] = [" & ", ", ", " x ", " vs. ", " vs "];

/// Where a lead artist's name ends in a credit, tried in turn: before the guests ("Simon &
/// Garfunkel feat. X" is led by Simon & Garfunkel), then before any other name too ("Björk &
/// Thom Yorke" is led by Björk).
const LEAD_ENDS: [&[&[&str]]; 2] = [&[&GUESTS], &[&GUESTS, &PARTNERS]];

/// `credit` up to the first of `separators` (matched ignoring case), trimmed.
fn before_any<'a>(credit: &'a str, separators: &[&[&str]]) -> &'a str {
    let lower = credit.to_lowercase();
    let cut = separators
        .iter()
        .flat_map(|list| list.iter())
        .filter_map(|sep| lower.find(sep))
        .min()
        // Lowercasing can change byte lengths; cut only where it did not move the text.
        .filter(|&at| lower.len() == credit.len() && at > 0 && credit.is_char_boundary(at));
    match cut {
        Some(at) => credit[..at].trim(),
        None => credit.trim(),
    }
}

/// The tracks of one folder and album title that name no album artist, as far as they are
/// known: whether they make one album, and by whom.
struct Group {
    count: usize,
    positions: HashSet<(u32, u32)>,
    numbered_apart: bool,
    /// For each of [`LEAD_ENDS`], the first credit's lead and its match key while every credit
    /// added since has the same lead.
    leads: [Option<(String, String)>; 2],
}

impl Group {
    fn new() -> Self {
        Self {
            count: 0,
            positions: HashSet::new(),
            numbered_apart: true,
            leads: [None, None],
        }
    }

    /// Adds a track by `credit` at `position` (disc and track number; track 0 when it has none,
    /// disc 0 is disc 1).
    fn add(&mut self, credit: &str, (disc, track): (u32, u32)) {
        if track != 0 && !self.positions.insert((disc.max(1), track)) {
            self.numbered_apart = false;
        }
        for (lead, ends) in self.leads.iter_mut().zip(LEAD_ENDS) {
            let this = before_any(credit, ends);
            if self.count == 0 {
                *lead = Some((this.to_owned(), match_key(this)));
            } else if lead
                .as_ref()
                .is_some_and(|(_, key)| match_key(this) != *key)
            {
                *lead = None;
            }
        }
        self.count += 1;
    }

    /// The album artist the tracks are filed under together, or `None` when each stays under
    /// its own first artist (a lone track, or tracks numbered alike).
    fn album_artist(&self) -> Option<&str> {
        (self.count > 1 && self.numbered_apart).then(|| {
            self.leads
                .iter()
                .flatten()
                .next()
                .map_or(VARIOUS_ARTISTS, |(lead, _)| lead.as_str())
        })
    }
}

/// The artist the credits of one album's tracks share (see [`Group`]), or Various Artists.
#[cfg(test)]
fn shared_lead(credits: &[&str]) -> Option<String> {
    let mut group = Group::new();
    for (n, credit) in (1..).zip(credits) {
        group.add(credit, (0, n));
    }
    group
        .album_artist()
        .filter(|artist| *artist != VARIOUS_ARTISTS)
        .map(str::to_owned)
}

/// The scan writer's view of the folders it writes tracks without an album artist to.
#[derive(Default)]
pub(crate) struct FolderAlbums {
    groups: HashMap<(PathBuf, String), Group>,
}

impl FolderAlbums {
    /// Files `rec`, read from `path`, under the album artist the tracks of its folder and album
    /// title written so far share, if its file names no album artist.
    pub fn file(&mut self, path: &Path, rec: &mut TrackRecord) {
        let Some(folder) = path.parent().filter(|_| rec.album_artist_guessed) else {
            return;
        };
        let group = self
            .groups
            .entry((folder.to_owned(), match_key(&rec.album)))
            .or_insert_with(Group::new);
        group.add(&rec.derived.artist, (rec.disc_no, rec.track_no));
        if let Some(album_artist) = group.album_artist() {
            rec.file_under(album_artist);
        }
    }

    /// The folders written to.
    pub fn folders(&self) -> HashSet<&Path> {
        self.groups
            .keys()
            .map(|(folder, _)| folder.as_path())
            .collect()
    }
}

/// A track of a folder that names no album artist.
struct Guessed {
    id: TrackId,
    album_id: AlbumId,
    album: String,
    artist: String,
    /// Its first artist, its album artist when it is filed alone.
    first_artist: String,
    position: (u32, u32),
}

/// Files the tracks without an album artist in each of `folders` by album, as the module docs
/// say. Returns how many tracks moved.
pub(crate) fn regroup(conn: &Connection, folders: &HashSet<&Path>, now: SystemTime) -> Result<u64> {
    let mut store = Store::default();
    let mut moved = 0;
    for folder in folders {
        let mut albums: HashMap<String, (Group, Vec<Guessed>)> = HashMap::new();
        for track in guessed_in(conn, folder)? {
            let (group, tracks) = albums
                .entry(match_key(&track.album))
                .or_insert_with(|| (Group::new(), Vec::new()));
            group.add(&track.artist, track.position);
            tracks.push(track);
        }
        for (group, tracks) in albums.values() {
            let together = group.album_artist();
            for track in tracks {
                let (title, album_artist) = match together {
                    Some(artist) => (&tracks[0].album, artist),
                    None => (&track.album, track.first_artist.as_str()),
                };
                if store.album_named(conn, title, album_artist)? != track.album_id {
                    store.move_to_album(conn, track.id, title, album_artist, now)?;
                    moved += 1;
                }
            }
        }
    }
    if moved > 0 {
        tracing::info!(
            tracks = moved,
            "tracks without an album artist filed by folder"
        );
    }
    Ok(moved)
}

/// The tracks without an album artist whose files are in `folder` itself.
fn guessed_in(conn: &Connection, folder: &Path) -> Result<Vec<Guessed>> {
    const CONTEXT: &str = "finding a folder's tracks without an album artist";
    // Paths under the folder sort between "folder/" and "folder0" ('0' follows '/').
    let mut low = paths::to_bytes(folder);
    low.push(b'/');
    let mut high = low.clone();
    if let Some(last) = high.last_mut() {
        *last = b'0';
    }
    let mut stmt = conn
        .prepare_cached(
            "SELECT f.path, t.id, t.album_id, al.title, t.artist, t.disc_no, t.track_no,
                    (SELECT a.name FROM track_artists ta JOIN artists a ON a.id = ta.artist_id
                     WHERE ta.track_id = t.id ORDER BY ta.position LIMIT 1)
             FROM files f JOIN tracks t ON t.id = f.track_id JOIN albums al ON al.id = t.album_id
             WHERE f.path > ?1 AND f.path < ?2 AND t.album_artist_guessed",
        )
        .ctx(CONTEXT)?;
    let rows = stmt
        .query_map([&low, &high], |r| {
            let artist: String = r.get(4)?;
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                Guessed {
                    id: TrackId(r.get(1)?),
                    album_id: AlbumId(r.get(2)?),
                    album: r.get(3)?,
                    first_artist: r
                        .get::<_, Option<String>>(7)?
                        .unwrap_or_else(|| artist.clone()),
                    artist,
                    position: (r.get(5)?, r.get(6)?),
                },
            ))
        })
        .ctx(CONTEXT)?;
    let mut out = Vec::new();
    for row in rows {
        let (path, track) = row.ctx(CONTEXT)?;
        if paths::from_bytes(&path).parent() == Some(folder) {
            out.push(track);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_leads() {
        let lead = |credits: &[&str]| shared_lead(credits);
        let some = |name: &str| Some(name.to_owned());
        assert_eq!(
            lead(&["Daft Punk", "Daft Punk feat. Pharrell Williams"]),
            some("Daft Punk")
        );
        assert_eq!(
            lead(&["Daft Punk FEAT. Pharrell", "Daft Punk"]),
            some("Daft Punk")
        );
        assert_eq!(
            lead(&["Simon & Garfunkel", "Simon & Garfunkel feat. Art"]),
            some("Simon & Garfunkel")
        );
        assert_eq!(
            lead(&["Björk & Thom Yorke", "Björk", "björk"]),
            some("Björk")
        );
        assert_eq!(lead(&["One, Two", "One"]), some("One"));
        assert_eq!(lead(&["AC/DC", "AC/DC"]), some("AC/DC"));
        assert_eq!(lead(&["Alpha", "Beta", "Alpha"]), None);
        assert_eq!(lead(&["& Friends", "Friends"]), None);
    }

    #[test]
    fn groups_decide_as_tracks_come() {
        let mut group = Group::new();
        group.add("Alpha", (0, 1));
        assert_eq!(
            group.album_artist(),
            None,
            "a lone track stays under its artist"
        );
        group.add("Alpha feat. Beta", (0, 2));
        assert_eq!(group.album_artist(), Some("Alpha"));
        group.add("Gamma", (0, 0));
        assert_eq!(group.album_artist(), Some(VARIOUS_ARTISTS));
        group.add("Delta", (0, 0));
        assert_eq!(
            group.album_artist(),
            Some(VARIOUS_ARTISTS),
            "unnumbered tracks count"
        );
        group.add("Epsilon", (2, 2));
        assert_eq!(group.album_artist(), Some(VARIOUS_ARTISTS), "another disc");
        group.add("Zeta", (1, 2));
        assert_eq!(
            group.album_artist(),
            None,
            "two albums numbered alike (disc 0 is 1)"
        );
    }
}

//! Albums whose files name no album artist. Such a track is filed under its first artist, which
//! splits a compilation tagged only with track artists ("Now 42" with a track each by Alpha, Beta
//! and Gamma) into one album per artist, and an album with guests ("Daft Punk", "Daft Punk feat.
//! Pharrell Williams") into two. After each scan the folders that had such tracks written are
//! looked at as a whole: the tracks of one folder that share an album title and name no album
//! artist are one album, by their shared lead artist when they have one, else by Various
//! Artists, as a compilation. Tracks that share a disc and track number are two albums that
//! share a title ("Greatest Hits" by two artists in one flat folder), and are left apart.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rusqlite::Connection;

use crate::error::{DbContext, Result};
use crate::model::TrackId;
use crate::names::{VARIOUS_ARTISTS, match_key};
use crate::paths;
use crate::store::Store;

/// What introduces a guest in an artist credit ("A feat. B").
const GUESTS: [&str; 5] = [" feat. ", " feat ", " ft. ", " featuring ", " with "];

/// What joins two names in an artist credit ("A & B").
const PARTNERS: [&str; 5] = [" & ", ", ", " x ", " vs. ", " vs "];

/// `credit` up to the first of `separators` (matched ignoring case), trimmed.
fn before_any<'a>(credit: &'a str, separators: &[&str]) -> &'a str {
    let lower = credit.to_lowercase();
    let cut = separators
        .iter()
        .filter_map(|sep| lower.find(sep))
        .min()
        // Lowercasing can change byte lengths; cut only where it did not move the text.
        .filter(|&at| lower.len() == credit.len() && at > 0 && credit.is_char_boundary(at));
    match cut {
        Some(at) => credit[..at].trim(),
        None => credit.trim(),
    }
}

/// The artist the credits of one album's tracks share: the credit without its guests when that
/// is the same on every track ("Simon & Garfunkel" and "Simon & Garfunkel feat. X"), else the
/// first name when that is ("Björk" and "Björk & Thom Yorke"); `None` when they share none.
pub fn shared_lead<'a>(credits: &[&'a str]) -> Option<&'a str> {
    let first = credits.first()?;
    [&GUESTS[..], &[&GUESTS[..], &PARTNERS[..]].concat()]
        .iter()
        .find_map(|separators| {
            let lead = before_any(first, separators);
            let key = match_key(lead);
            credits
                .iter()
                .all(|c| match_key(before_any(c, separators)) == key)
                .then_some(lead)
        })
}

/// A track of a folder that names no album artist.
struct Guessed {
    id: TrackId,
    album_id: i64,
    album: String,
    artist: String,
    /// Disc and track number; (0, 0) when the file has neither.
    position: (u32, u32),
}

/// Whether no two of `tracks` are numbered alike: the tracks of one album, not of several that
/// share a title. Unnumbered tracks do not count.
fn numbered_apart(tracks: &[Guessed]) -> bool {
    let mut seen = HashSet::new();
    tracks
        .iter()
        .filter(|t| t.position.1 != 0)
        .all(|t| seen.insert(t.position))
}

/// Files the tracks without an album artist in each of `folders` by album, as the module docs
/// say. Returns how many tracks moved.
pub(crate) fn regroup(
    conn: &Connection,
    folders: &HashSet<PathBuf>,
    now: SystemTime,
) -> Result<u64> {
    let mut store = Store::default();
    let mut moved = 0;
    for folder in folders {
        let mut albums: HashMap<String, Vec<Guessed>> = HashMap::new();
        for track in guessed_in(conn, folder)? {
            albums
                .entry(match_key(&track.album))
                .or_default()
                .push(track);
        }
        for tracks in albums
            .into_values()
            .filter(|t| t.len() > 1 && numbered_apart(t))
        {
            let credits: Vec<&str> = tracks.iter().map(|t| t.artist.as_str()).collect();
            let album_artist = shared_lead(&credits).unwrap_or(VARIOUS_ARTISTS);
            let title = &tracks[0].album;
            let album = store.album_named(conn, title, album_artist)?;
            for track in tracks.iter().filter(|t| t.album_id != album.0) {
                store.move_to_album(conn, track.id, title, album_artist, now)?;
                moved += 1;
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
            "SELECT f.path, t.id, t.album_id, al.title, t.artist, t.disc_no, t.track_no
             FROM files f JOIN tracks t ON t.id = f.track_id JOIN albums al ON al.id = t.album_id
             WHERE f.path > ?1 AND f.path < ?2 AND t.album_artist_guessed",
        )
        .ctx(CONTEXT)?;
    let rows = stmt
        .query_map([&low, &high], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                Guessed {
                    id: TrackId(r.get(1)?),
                    album_id: r.get(2)?,
                    album: r.get(3)?,
                    artist: r.get(4)?,
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
        let lead = |credits: &[&'static str]| shared_lead(credits);
        assert_eq!(
            lead(&["Daft Punk", "Daft Punk feat. Pharrell Williams"]),
            Some("Daft Punk")
        );
        assert_eq!(
            lead(&["Daft Punk FEAT. Pharrell", "Daft Punk"]),
            Some("Daft Punk")
        );
        assert_eq!(
            lead(&["Simon & Garfunkel", "Simon & Garfunkel feat. Art"]),
            Some("Simon & Garfunkel")
        );
        assert_eq!(
            lead(&["Björk & Thom Yorke", "Björk", "björk"]),
            Some("Björk")
        );
        assert_eq!(lead(&["One, Two", "One"]), Some("One"));
        assert_eq!(lead(&["AC/DC", "AC/DC"]), Some("AC/DC"));
        assert_eq!(lead(&["Alpha", "Beta", "Alpha"]), None);
        assert_eq!(lead(&["& Friends", "Friends"]), None);
    }
}

//! Instant search across the library, grouped into artists, albums and tracks.
//!
//! Each word the user types is a prefix, all words must match, and diacritics and case are ignored
//! (the index is built with `unicode61 remove_diacritics 2`): "bjork" finds "Björk" and "sig ro"
//! finds "Sigur Rós". Results are ranked by BM25.

use serde::Serialize;

use crate::Catalog;
use crate::browse::{TRACK_COLUMNS, track_from_row};
use crate::error::{DbContext, Result};
use crate::model::{Album, AlbumId, Artist, ArtistId, Track};

/// Search results, grouped.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SearchResults {
    /// Artists whose name matches.
    pub artists: Vec<Artist>,
    /// Albums whose title or album artist matches.
    pub albums: Vec<Album>,
    /// Tracks whose title, artist, album, album artist or genre match.
    pub tracks: Vec<Track>,
}

/// Turns what the user typed into an FTS5 query: each word quoted (so FTS syntax characters are
/// literal) and made a prefix; words with no letter or digit are dropped. `None` when nothing is
/// left to search for.
pub fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = crate::names::search_fold(text)
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

impl Catalog {
    /// Searches for `text`, returning at most `limit` results in each group.
    pub fn search(&self, text: &str, limit: u32) -> Result<SearchResults> {
        let Some(query) = fts_query(text) else {
            return Ok(SearchResults::default());
        };
        let limit = limit.clamp(1, 1000);
        let artists = {
            let mut stmt = self
                .conn()
                .prepare_cached(
                    "SELECT a.id, a.name,
                        (SELECT count(*) FROM albums al WHERE al.artist_id = a.id),
                        (SELECT count(*) FROM track_artists ta WHERE ta.artist_id = a.id)
                     FROM artists_fts f JOIN artists a ON a.id = f.rowid
                     WHERE artists_fts MATCH ?1 ORDER BY f.rank LIMIT ?2",
                )
                .ctx("searching artists")?;
            let rows = stmt
                .query_map(rusqlite::params![query, limit], |r| {
                    Ok(Artist {
                        id: ArtistId(r.get(0)?),
                        name: r.get(1)?,
                        album_count: r.get(2)?,
                        track_count: r.get(3)?,
                    })
                })
                .ctx("searching artists")?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .ctx("searching artists")?
        };
        let album_ids: Vec<i64> = {
            let mut stmt = self
                .conn()
                .prepare_cached(
                    "SELECT rowid FROM albums_fts WHERE albums_fts MATCH ?1 ORDER BY rank LIMIT ?2",
                )
                .ctx("searching albums")?;
            let rows = stmt
                .query_map(rusqlite::params![query, limit], |r| r.get(0))
                .ctx("searching albums")?;
            rows.collect::<rusqlite::Result<_>>()
                .ctx("searching albums")?
        };
        let albums = album_ids
            .into_iter()
            .map(|id| self.album(AlbumId(id)))
            .collect::<Result<Vec<_>>>()?;
        let tracks = {
            let sql = format!(
                "SELECT {TRACK_COLUMNS} FROM tracks_fts f
                 JOIN tracks t ON t.id = f.rowid
                 JOIN albums al ON al.id = t.album_id JOIN artists aa ON aa.id = al.artist_id
                 WHERE tracks_fts MATCH ?1 ORDER BY f.rank LIMIT ?2"
            );
            let mut stmt = self.conn().prepare_cached(&sql).ctx("searching tracks")?;
            let rows = stmt
                .query_map(rusqlite::params![query, limit], track_from_row)
                .ctx("searching tracks")?;
            rows.collect::<rusqlite::Result<Vec<Track>>>()
                .ctx("searching tracks")?
        };
        Ok(SearchResults {
            artists,
            albums,
            tracks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_from_typed_text() {
        let check = |text: &str, expect: Option<&str>| {
            assert_eq!(fts_query(text).as_deref(), expect, "{text}")
        };
        check("bjork", Some("\"bjork\"*"));
        check("Ágæ", Some("\"agae\"*"));
        check("sig ro", Some("\"sig\"* \"ro\"*"));
        check("  AC/DC ", Some("\"ac/dc\"*"));
        check("say \"hi\"", Some("\"say\"* \"\"\"hi\"\"\"*"));
        check("NOT OR AND", Some("\"not\"* \"or\"* \"and\"*"));
        check(" - * ", None);
        check("", None);
    }
}

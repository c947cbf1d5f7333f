//! Instant search across the library, grouped into artists, albums and tracks.
//!
//! Each word the user types is a prefix, all words must match, and diacritics and case are ignored
//! (text is folded before indexing and querying, see [`crate::names::search_fold`]): "bjork" finds
//! "Björk" and "sig ro" finds "Sigur Rós".
//!
//! Order: names that start with what was typed come first (from the sort-key index), then the
//! full-text matches by [`relevance`]. The full-text index only finds candidates, and at most
//! [`CANDIDATES`] of them: FTS5's own BM25 ranking counts every document that contains each term
//! to weigh it, which for a one-letter prefix in a million-track library is most of the index, so
//! it made a keystroke cost tens of milliseconds. Scoring a few hundred candidates here keeps every
//! keystroke about as cheap as the first.

use std::collections::HashMap;

use rusqlite::params_from_iter;
use serde::Serialize;

use crate::Catalog;
use crate::error::{DbContext, Result};
use crate::model::{Album, AlbumId, Artist, ArtistId, Track, TrackId};
use crate::names::search_fold;

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

/// The words of a query as the index holds them.
fn terms(text: &str) -> Vec<String> {
    search_fold(text)
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(str::to_owned)
        .collect()
}

/// Turns what the user typed into an FTS5 query: each word quoted (so FTS syntax characters are
/// literal) and made a prefix; words with no letter or digit are dropped. `None` when nothing is
/// left to search for.
pub fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = terms(text)
        .into_iter()
        .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// How relevant a row is to the query `terms`: for each term, the best of its fields' weights
/// (doubled when a word equals the term rather than starting with it), plus a bonus when the first
/// field starts with the whole query. `fields` pairs text with a weight, most important first.
pub fn relevance(terms: &[String], fields: &[(&str, f32)]) -> f32 {
    let folded: Vec<(String, f32)> = fields.iter().map(|(t, w)| (search_fold(t), *w)).collect();
    let mut score = 0.0;
    for term in terms {
        // Terms are matched against words as the tokenizer splits them (on anything that is not
        // a letter or digit); a term with punctuation inside ("ac/dc") matches across that split.
        let term_words: Vec<&str> = term
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let best = folded
            .iter()
            .map(|(text, weight)| {
                let words: Vec<&str> = text
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .collect();
                let exact = term_words.iter().all(|t| words.contains(t));
                let prefix = term_words
                    .iter()
                    .all(|t| words.iter().any(|w| w.starts_with(t)));
                if exact {
                    weight * 2.0
                } else if prefix {
                    *weight
                } else {
                    0.0
                }
            })
            .fold(0.0, f32::max);
        score += best;
    }
    if let Some((first, weight)) = folded.first()
        && first.starts_with(&terms.join(" "))
    {
        score += weight * 2.0;
    }
    score
}

/// How many full-text matches per group are scored (see the module docs).
pub const CANDIDATES: usize = 300;

/// A group's tables: its full-text index, its rows, the sort-key column with an index, and the
/// query that loads the text [`relevance`] scores (id, then fields most important first).
struct Group {
    fts: &'static str,
    table: &'static str,
    sort_column: &'static str,
    fields_sql: &'static str,
    weights: &'static [f32],
}

const ARTISTS: Group = Group {
    fts: "artists_fts",
    table: "artists",
    sort_column: "sort_name",
    fields_sql: "SELECT id, name FROM artists WHERE id IN",
    weights: &[1.0],
};
const ALBUMS: Group = Group {
    fts: "albums_fts",
    table: "albums",
    sort_column: "sort_title",
    fields_sql:
        "SELECT al.id, al.title, aa.name FROM albums al JOIN artists aa ON aa.id = al.artist_id
                 WHERE al.id IN",
    weights: &[2.0, 1.5],
};
const TRACKS: Group = Group {
    fts: "tracks_fts",
    table: "tracks",
    sort_column: "sort_title",
    fields_sql: "SELECT t.id, t.title, t.artist, aa.name, al.title, t.genre FROM tracks t
                 JOIN albums al ON al.id = t.album_id JOIN artists aa ON aa.id = al.artist_id
                 WHERE t.id IN",
    weights: &[4.0, 3.0, 2.5, 2.0, 1.0],
};

impl Catalog {
    /// Searches for `text`, returning at most `limit` results in each group.
    pub fn search(&self, text: &str, limit: u32) -> Result<SearchResults> {
        let Some(query) = fts_query(text) else {
            return Ok(SearchResults::default());
        };
        let terms = terms(text);
        let limit = limit.clamp(1, 1000) as usize;
        let prefix = crate::names::sort_key(text.trim());
        let artists = self
            .group_ids(&ARTISTS, &query, &terms, &prefix, limit)?
            .into_iter()
            .map(|id| self.artist(ArtistId(id)))
            .collect::<Result<Vec<_>>>()?;
        let album_ids: Vec<AlbumId> = self
            .group_ids(&ALBUMS, &query, &terms, &prefix, limit)?
            .into_iter()
            .map(AlbumId)
            .collect();
        let albums = self.albums_by_id(&album_ids)?;
        let track_ids: Vec<TrackId> = self
            .group_ids(&TRACKS, &query, &terms, &prefix, limit)?
            .into_iter()
            .map(TrackId)
            .collect();
        let tracks = self.tracks_by_id(&track_ids)?;
        Ok(SearchResults {
            artists,
            albums,
            tracks,
        })
    }

    /// The ids of a group's results, in order.
    fn group_ids(
        &self,
        group: &Group,
        query: &str,
        terms: &[String],
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<i64>> {
        let mut ids: Vec<i64> = Vec::with_capacity(limit);
        if !prefix.is_empty() {
            let sql = format!(
                "SELECT id FROM {table} WHERE {col} >= ?1 AND {col} < ?2 ORDER BY {col}, id LIMIT ?3",
                table = group.table,
                col = group.sort_column
            );
            let upper = format!("{prefix}{}", char::MAX);
            let mut stmt = self.conn().prepare_cached(&sql).ctx("searching names")?;
            let rows = stmt
                .query_map(rusqlite::params![prefix, upper, limit], |r| r.get(0))
                .ctx("searching names")?;
            for id in rows {
                ids.push(id.ctx("searching names")?);
            }
        }
        if ids.len() >= limit {
            return Ok(ids);
        }
        let sql = format!(
            "SELECT rowid FROM {fts} WHERE {fts} MATCH ?1 LIMIT {CANDIDATES}",
            fts = group.fts
        );
        let mut stmt = self.conn().prepare_cached(&sql).ctx("searching")?;
        let candidates: Vec<i64> = stmt
            .query_map([query], |r| r.get(0))
            .ctx("searching")?
            .collect::<rusqlite::Result<_>>()
            .ctx("searching")?;
        let mut scored = self.score(group, terms, &candidates)?;
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for (id, _) in scored {
            if ids.len() >= limit {
                break;
            }
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// [`relevance`] of each candidate.
    fn score(
        &self,
        group: &Group,
        terms: &[String],
        candidates: &[i64],
    ) -> Result<Vec<(i64, f32)>> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = vec!["?"; candidates.len()].join(", ");
        let sql = format!("{} ({placeholders})", group.fields_sql);
        let mut stmt = self
            .conn()
            .prepare_cached(&sql)
            .ctx("scoring search results")?;
        let mut rows = stmt
            .query(params_from_iter(candidates))
            .ctx("scoring search results")?;
        let mut scores = HashMap::with_capacity(candidates.len());
        while let Some(row) = rows.next().ctx("scoring search results")? {
            let id: i64 = row.get(0).ctx("scoring search results")?;
            let mut texts = Vec::with_capacity(group.weights.len());
            for i in 0..group.weights.len() {
                texts.push(row.get::<_, String>(i + 1).ctx("scoring search results")?);
            }
            let fields: Vec<(&str, f32)> = texts
                .iter()
                .map(String::as_str)
                .zip(group.weights.iter().copied())
                .collect();
            scores.insert(id, relevance(terms, &fields));
        }
        Ok(candidates
            .iter()
            .filter_map(|id| scores.get(id).map(|s| (*id, *s)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relevance_prefers_exact_words_in_important_fields() {
        let terms = |t: &str| super::terms(t);
        let title = |t: &str| relevance(&terms("hunt"), &[(t, 4.0), ("Björk", 3.0)]);
        assert!(
            title("Hunter") > relevance(&terms("hunt"), &[("Jóga", 4.0), ("Hunters Club", 3.0)])
        );
        assert!(
            relevance(&terms("hunter"), &[("Hunter", 4.0)])
                > relevance(&terms("hunter"), &[("Hunters", 4.0)])
        );
        assert!(
            title("Hunt") > title("The Hunt"),
            "a name that starts with the query ranks first"
        );
        assert_eq!(relevance(&terms("zz"), &[("Hunter", 4.0)]), 0.0);
        assert!(relevance(&terms("ac/dc"), &[("AC/DC", 1.0)]) > 0.0);
    }

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

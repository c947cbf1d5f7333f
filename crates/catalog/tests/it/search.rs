//! Search: prefix, diacritic-insensitive, ranked, grouped.

use crate::library::{Lib, standard};

#[test]
fn diacritics_and_prefixes() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let r = lib.catalog.search("bjork", 10).unwrap();
    assert_eq!(
        r.artists
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        ["Björk"]
    );
    assert_eq!(
        r.albums
            .iter()
            .map(|a| a.title.as_str())
            .collect::<Vec<_>>(),
        ["Homogenic"]
    );
    assert_eq!(r.tracks.len(), 4);

    let r = lib.catalog.search("sig ro", 10).unwrap();
    assert_eq!(r.artists[0].name, "Sigur Rós");
    assert_eq!(r.albums[0].title, "Takk...");
    assert_eq!(r.tracks.len(), 2);

    let r = lib.catalog.search("HOPPIP", 10).unwrap();
    assert_eq!(r.tracks[0].title, "Hoppípolla");
    assert!(r.artists.is_empty());
}

#[test]
fn every_word_must_match() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let r = lib.catalog.search("beatles something", 10).unwrap();
    assert_eq!(
        r.tracks
            .iter()
            .map(|t| t.title.as_str())
            .collect::<Vec<_>>(),
        ["Something"]
    );
    assert!(r.artists.is_empty());
    let r = lib.catalog.search("beatles bjork", 10).unwrap();
    assert!(r.tracks.is_empty());
}

#[test]
fn genres_and_album_artists_are_searchable() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    assert_eq!(lib.catalog.search("post-rock", 10).unwrap().tracks.len(), 1);
    let various = lib.catalog.search("various", 10).unwrap();
    assert_eq!(various.albums[0].title, "Lost in Translation");
    assert_eq!(various.tracks.len(), 2);
}

#[test]
fn ranking_prefers_better_matches() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    // "Something" matches the title; other Beatles tracks match nothing for this word.
    let r = lib.catalog.search("something", 10).unwrap();
    assert_eq!(r.tracks[0].title, "Something");
    let r = lib.catalog.search("the", 3).unwrap();
    assert!(r.tracks.len() <= 3);
}

#[test]
fn syntax_characters_are_literal_and_empty_queries_empty() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    for q in [
        "\"",
        "*",
        "AND",
        "NOT beatles",
        "title:x",
        "(",
        "-",
        "",
        "   ",
        "^",
        "NEAR(a b)",
    ] {
        lib.catalog
            .search(q, 10)
            .unwrap_or_else(|e| panic!("{q:?}: {e}"));
    }
    assert!(lib.catalog.search("", 10).unwrap().tracks.is_empty());
    assert_eq!(lib.catalog.search("maxwell's", 10).unwrap().tracks.len(), 1);
}

//! Play statistics, ratings and the lists built on them.

use skylark_catalog::{Rating, TrackId};
use skylark_testsupport::Format;

use crate::library::{Lib, at, standard, tags};

#[test]
fn plays_counts_and_last_played() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let a = lib.track("Hunter").id;
    let b = lib.track("Pluto").id;
    lib.catalog.record_play(a, at(100)).unwrap();
    lib.catalog.record_play(a, at(50)).unwrap();
    lib.catalog.record_play(b, at(200)).unwrap();
    let hunter = lib.track("Hunter");
    assert_eq!(hunter.play_count, 2);
    assert_eq!(
        hunter.last_played,
        Some(at(100)),
        "an older play does not move last played back"
    );
    let top: Vec<TrackId> = lib
        .catalog
        .most_played(10)
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(top, [a, b]);
    let recent: Vec<TrackId> = lib
        .catalog
        .recently_played(10)
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(recent, [b, a]);
    assert_eq!(lib.catalog.stats().unwrap().plays, 3);
    assert!(lib.catalog.record_play(TrackId(424_242), at(1)).is_err());
}

#[test]
fn ratings() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let id = lib.track("Hunter").id;
    lib.catalog
        .set_rating(id, Some(Rating::from_stars(5).unwrap()), at(1))
        .unwrap();
    assert_eq!(lib.track("Hunter").rating.map(Rating::value), Some(100));
    lib.catalog.set_rating(id, None, at(2)).unwrap();
    assert_eq!(lib.track("Hunter").rating, None);
    assert!(Rating::from_stars(6).is_err());
    assert!(Rating::try_new(101).is_err());
}

#[test]
fn recently_added_is_newest_first() {
    let mut lib = Lib::new();
    lib.add("a.flac", Format::Flac, tags("Old", "X", "Y", 1));
    lib.scan_at(0);
    lib.add("b.flac", Format::Flac, tags("New", "X", "Y", 2));
    lib.scan_at(100);
    let recent = lib.catalog.recently_added(10).unwrap();
    assert_eq!(
        recent.iter().map(|t| t.title.as_str()).collect::<Vec<_>>(),
        ["New", "Old"]
    );
    assert_eq!(recent[0].added, at(100));
}

#[test]
fn library_totals() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let s = lib.catalog.stats().unwrap();
    assert_eq!(
        (s.tracks, s.albums, s.album_artists, s.genres, s.missing),
        (13, 5, 5, 4, 0)
    );
    assert!(s.bytes > 0);
    assert!(
        (12_500..=14_000).contains(&s.duration.as_millis()),
        "{:?}",
        s.duration
    );
}

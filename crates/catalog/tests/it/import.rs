//! Importing an iTunes/Music library XML and playlist files: matching, statistics, playlists,
//! dry runs, idempotence, undo and root remapping.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use skylark_catalog::import::{
    ImportKind, PlaylistAction, PlaylistReport, ProposedMapping, RootMapping, SkipReason,
    SkippedPlaylist, TrackCounts, UnmatchedReason,
};
use skylark_catalog::{Rating, Track};
use skylark_testsupport::Format;

use crate::itunes_xml::{V, XmlPlaylist, XmlTrack, library_xml, s, url};
use crate::library::{Lib, at, tags};

/// A time given in seconds since the Unix epoch.
pub fn unix(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// The music files the library XML talks about (formats Music plays).
pub fn music_files(lib: &Lib) {
    lib.add(
        "Sigur Rós/Takk/01 Glósóli.m4a",
        Format::M4aAlac,
        tags("Glósóli", "Sigur Rós", "Takk...", 1),
    );
    lib.add(
        "Sigur Rós/Takk/02 Hoppípolla.mp3",
        Format::Mp3,
        tags("Hoppípolla", "Sigur Rós", "Takk...", 2),
    );
    lib.add(
        "Björk/Homogenic/01 Jóga.aiff",
        Format::Aiff,
        tags("Jóga", "Björk", "Homogenic", 1),
    );
    lib.add(
        "Björk/Homogenic/02 Hunter.wav",
        Format::Wav,
        tags("Hunter", "Björk", "Homogenic", 2),
    );
    lib.add(
        "Various/Live & Loud/03 Song #1 (50%).m4a",
        Format::M4aAac,
        tags("Song #1 (50%)", "The Loud Ones", "Live & Loud", 3),
    );
}

/// A library XML for [`music_files`], with the music under `root` as the XML names it. In
/// `version` 2 Glósóli was played three more times and "Chill" was reordered in iTunes.
pub fn itunes_xml(root: &str, version: u32) -> String {
    let loc = |rel: &str| url(&format!("{root}/{rel}"), false);
    let common = |name: &str, artist: &str, album: &str, kind: &str, ms: i64| {
        vec![
            ("Name", s(name)),
            ("Artist", s(artist)),
            ("Album Artist", s(artist)),
            ("Album", s(album)),
            ("Genre", s("Alternative")),
            ("Kind", s(kind)),
            ("Size", V::Int(181_234)),
            ("Total Time", V::Int(ms)),
            ("Year", V::Int(2005)),
            ("Date Modified", V::Date("2019-03-04T05:06:07Z")),
            ("Bit Rate", V::Int(256)),
            ("Sample Rate", V::Int(44100)),
        ]
    };
    let with = |mut fields: Vec<(&'static str, V)>, more: Vec<(&'static str, V)>| {
        fields.extend(more);
        fields
    };
    let glosoli_plays = if version == 1 { 42 } else { 45 };
    let tracks = vec![
        XmlTrack {
            id: 1001,
            fields: with(
                common(
                    "Glósóli",
                    "Sigur Rós",
                    "Takk...",
                    "Apple Lossless audio file",
                    1000,
                ),
                vec![
                    ("Play Count", V::Int(glosoli_plays)),
                    ("Play Date", V::Int(3_763_519_628)),
                    ("Play Date UTC", V::Date("2023-04-05T06:07:08Z")),
                    ("Date Added", V::Date("2010-01-02T03:04:05Z")),
                    ("Rating", V::Int(100)),
                    ("Loved", V::True),
                    ("Persistent ID", s("A1B2C3D4E5F60001")),
                    ("Track Type", s("File")),
                    ("Location", V::Str(loc("Sigur Rós/Takk/01 Glósóli.m4a"))),
                    ("File Folder Count", V::Int(5)),
                    ("Library Folder Count", V::Int(1)),
                ],
            ),
        },
        XmlTrack {
            id: 1003,
            fields: with(
                common(
                    "Hoppípolla",
                    "Sigur Rós",
                    "Takk...",
                    "MPEG audio file",
                    1000,
                ),
                vec![
                    ("Play Count", V::Int(7)),
                    ("Play Date UTC", V::Date("2024-12-24T20:00:00Z")),
                    ("Date Added", V::Date("2011-06-07T08:09:10Z")),
                    // Derived from the album rating: not the user's.
                    ("Rating", V::Int(40)),
                    ("Rating Computed", V::True),
                    ("Album Rating", V::Int(40)),
                    ("Album Rating Computed", V::True),
                    ("Persistent ID", s("A1B2C3D4E5F60003")),
                    ("Track Type", s("File")),
                    (
                        "Location",
                        V::Str(url(
                            &format!("{root}/Sigur Rós/Takk/02 Hoppípolla.mp3"),
                            true,
                        )),
                    ),
                ],
            ),
        },
        XmlTrack {
            id: 1005,
            fields: with(
                common("Jóga", "Björk", "Homogenic", "AIFF audio file", 1500),
                vec![
                    ("Date Added", V::Date("2012-03-04T05:06:07Z")),
                    ("Rating", V::Int(80)),
                    ("Favorited", V::True),
                    ("Persistent ID", s("A1B2C3D4E5F60005")),
                    ("Track Type", s("File")),
                    // Where the file was before it was renamed: found by its tags.
                    (
                        "Location",
                        V::Str(url(
                            "/Volumes/Old Disk/Music/Björk/Homogenic/Joga.aif",
                            false,
                        )),
                    ),
                ],
            ),
        },
        XmlTrack {
            id: 1007,
            fields: with(
                common("Hunter", "Björk", "Homogenic", "WAV audio file", 9000),
                vec![
                    ("Play Count", V::Int(2)),
                    ("Date Added", V::Date("2012-03-04T05:06:07Z")),
                    ("Persistent ID", s("A1B2C3D4E5F60007")),
                    ("Track Type", s("File")),
                    (
                        "Location",
                        V::Str(url(
                            "/Volumes/Old Disk/Music/Björk/Homogenic/Hunter (live).wav",
                            false,
                        )),
                    ),
                ],
            ),
        },
        XmlTrack {
            id: 1009,
            fields: with(
                common(
                    "Song #1 (50%)",
                    "The Loud Ones",
                    "Live & Loud",
                    "AAC audio file",
                    1000,
                ),
                vec![
                    ("Play Count", V::Int(3)),
                    ("Play Date UTC", V::Date("2025-02-03T04:05:06Z")),
                    ("Date Added", V::Date("2013-08-09T10:11:12Z")),
                    ("Persistent ID", s("A1B2C3D4E5F60009")),
                    ("Track Type", s("File")),
                    (
                        "Location",
                        V::Str(loc("Various/Live & Loud/03 Song #1 (50%).m4a")),
                    ),
                ],
            ),
        },
        XmlTrack {
            id: 1011,
            fields: with(
                common("Gone Song", "Nobody", "Nowhere", "MPEG audio file", 200_000),
                vec![
                    ("Play Count", V::Int(9)),
                    ("Date Added", V::Date("2014-05-06T07:08:09Z")),
                    ("Persistent ID", s("A1B2C3D4E5F60011")),
                    ("Track Type", s("File")),
                    ("Location", V::Str(loc("Nobody/Nowhere/01 Gone Song.mp3"))),
                ],
            ),
        },
        XmlTrack {
            id: 1013,
            fields: with(
                common(
                    "Streamed",
                    "Someone Famous",
                    "Big Album",
                    "Apple Music AAC audio file",
                    180_000,
                ),
                vec![
                    ("Date Added", V::Date("2025-06-01T12:00:00Z")),
                    ("Persistent ID", s("A1B2C3D4E5F60013")),
                    ("Track Type", s("Remote")),
                    ("Apple Music", V::True),
                ],
            ),
        },
        XmlTrack {
            id: 1015,
            fields: with(
                common("A Film", "Director", "", "MPEG-4 video file", 5_400_000),
                vec![
                    ("Persistent ID", s("A1B2C3D4E5F60015")),
                    ("Track Type", s("File")),
                    ("Has Video", V::True),
                    ("Movie", V::True),
                    (
                        "Location",
                        V::Str(url("/Users/me/Movies/A Film.m4v", false)),
                    ),
                ],
            ),
        },
        XmlTrack {
            id: 1017,
            fields: with(
                common(
                    "Glósóli",
                    "Sigur Rós",
                    "Takk...",
                    "Apple Lossless audio file",
                    1000,
                ),
                vec![
                    ("Persistent ID", s("A1B2C3D4E5F60017")),
                    ("Track Type", s("File")),
                    ("Location", V::Str(loc("Sigur Rós/Takk/01 Glósóli.m4a"))),
                ],
            ),
        },
    ];
    const SMART: &str =
        "AQEAAwAAAAIAAAAZAAAAAAAAAAcAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const CRITERIA: &str =
        "U0xzdAABAAEAAAACAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAZAAAAAAAAAAAAAAAAAAAAAAAAAAB";
    let list = |name: &str, id: &str, more: Vec<(&'static str, V)>, items: Vec<i64>| {
        let mut fields = vec![
            ("Name", s(name)),
            ("Description", s("")),
            (
                "Playlist ID",
                V::Int(2000 + i64::from(id.as_bytes()[id.len() - 1])),
            ),
            ("Playlist Persistent ID", s(id)),
        ];
        fields.extend(more);
        fields.push(("All Items", V::True));
        XmlPlaylist {
            fields,
            items: Some(items),
        }
    };
    let chill = if version == 1 {
        vec![1005, 1001, 1003]
    } else {
        vec![1001, 1003, 1005]
    };
    let playlists = vec![
        list(
            "Library",
            "B0B0B0B0B0B0B0B0",
            vec![("Master", V::True), ("Visible", V::False)],
            vec![1001, 1003, 1005, 1007, 1009, 1011, 1013, 1015, 1017],
        ),
        list(
            "Music",
            "B0B0B0B0B0B0B0B1",
            vec![
                ("Distinguished Kind", V::Int(4)),
                ("Music", V::True),
                ("Smart Info", V::Data(SMART)),
                ("Smart Criteria", V::Data(CRITERIA)),
            ],
            vec![1001, 1003, 1005, 1007, 1009, 1011, 1013, 1017],
        ),
        list(
            "Movies",
            "B0B0B0B0B0B0B0B2",
            vec![("Distinguished Kind", V::Int(2)), ("Movies", V::True)],
            vec![1015],
        ),
        list(
            "Road",
            "F0F0F0F0F0F0F0F1",
            vec![("Folder", V::True)],
            vec![1009, 1001, 1009, 1011],
        ),
        list(
            "Summer",
            "F0F0F0F0F0F0F0F2",
            vec![
                ("Parent Persistent ID", s("F0F0F0F0F0F0F0F1")),
                ("Folder", V::True),
            ],
            vec![1009, 1001, 1009, 1011],
        ),
        list(
            "Beach",
            "C0C0C0C0C0C0C0C3",
            vec![("Parent Persistent ID", s("F0F0F0F0F0F0F0F2"))],
            vec![1009, 1001, 1009, 1011],
        ),
        list("Chill", "C0C0C0C0C0C0C0C4", vec![], chill),
        list(
            "Top Rated",
            "C0C0C0C0C0C0C0C5",
            vec![
                ("Smart Info", V::Data(SMART)),
                ("Smart Criteria", V::Data(CRITERIA)),
            ],
            vec![1001, 1005],
        ),
        list("Home Videos", "C0C0C0C0C0C0C0C6", vec![], vec![1015]),
    ];
    library_xml(&tracks, &playlists)
}

/// A scanned library of [`music_files`] and its XML (music where the XML says) on disk.
pub fn fixture(version: u32) -> (Lib, PathBuf) {
    let mut lib = Lib::new();
    music_files(&lib);
    lib.scan();
    let xml = write_xml(&lib, &lib.music.to_string_lossy(), version);
    (lib, xml)
}

pub fn write_xml(lib: &Lib, root: &str, version: u32) -> PathBuf {
    let path = lib.dir.path().join(format!("Library v{version}.xml"));
    std::fs::write(&path, itunes_xml(root, version)).unwrap();
    path
}

/// Playlists by name with their entries' titles in order.
pub fn playlists(lib: &Lib) -> Vec<(String, Vec<String>)> {
    lib.catalog
        .playlists()
        .unwrap()
        .into_iter()
        .map(|p| {
            let titles = lib
                .catalog
                .playlist_items(p.id)
                .unwrap()
                .into_iter()
                .map(|i| i.track.title)
                .collect();
            (p.name, titles)
        })
        .collect()
}

/// Every track, and every playlist's name with its entries' ids and titles.
type Snapshot = (Vec<Track>, Vec<(String, Vec<(i64, String)>)>);

/// What an undo must bring back: every track and every playlist with its entry ids.
fn snapshot(lib: &Lib) -> Snapshot {
    let lists = lib
        .catalog
        .playlists()
        .unwrap()
        .into_iter()
        .map(|p| {
            let items = lib
                .catalog
                .playlist_items(p.id)
                .unwrap()
                .into_iter()
                .map(|i| (i.id.0, i.track.title))
                .collect();
            (p.name, items)
        })
        .collect();
    (lib.tracks(), lists)
}

fn titles(list: &[&str]) -> Vec<String> {
    list.iter().map(|t| (*t).to_owned()).collect()
}

#[test]
fn itunes_library_brings_ratings_counts_dates_loved_and_playlists() {
    let (mut lib, xml) = fixture(1);
    let before = snapshot(&lib);
    let hunter_ms = lib.track("Hunter").duration.as_millis() as u64;

    let plan = lib.catalog.plan_itunes_import(&xml, &[]).unwrap();
    let report = plan.report().clone();
    assert_eq!(snapshot(&lib), before, "planning writes nothing");
    assert!(lib.catalog.imports().unwrap().is_empty());

    assert_eq!(report.kind, ImportKind::Itunes);
    assert!(!report.applied);
    assert_eq!(
        report.tracks,
        TrackCounts {
            in_source: 9,
            by_location: 3,
            by_mapping: 0,
            by_audio_id: 0,
            by_tags: 1,
            unmatched: 5,
        }
    );
    let unmatched: Vec<(&str, &UnmatchedReason)> = report
        .unmatched
        .iter()
        .map(|u| (u.source_id.as_str(), &u.reason))
        .collect();
    let gone = format!("{}/Nobody/Nowhere/01 Gone Song.mp3", lib.music.display());
    assert_eq!(
        unmatched,
        [
            (
                "1007",
                &UnmatchedReason::DurationDiffers {
                    library_ms: hunter_ms,
                    source_ms: 9000
                }
            ),
            ("1011", &UnmatchedReason::NotInLibrary { path: Some(gone) }),
            ("1013", &UnmatchedReason::CloudOnly),
            ("1015", &UnmatchedReason::Video),
            (
                "1017",
                &UnmatchedReason::AlreadyMatched {
                    by: "1001".to_owned()
                }
            ),
        ]
    );
    assert_eq!(report.unmatched[1].title, "Gone Song");
    assert_eq!(report.changes.tracks, 4);
    assert_eq!(
        report.changes.ratings, 2,
        "Glósóli and Jóga; a computed rating is not the user's"
    );
    assert_eq!(report.changes.loved, 2);
    assert_eq!(
        report.skipped_playlists,
        [
            ("Library", SkipReason::BuiltIn),
            ("Music", SkipReason::BuiltIn),
            ("Movies", SkipReason::BuiltIn),
            ("Road", SkipReason::Folder),
            ("Summer", SkipReason::Folder),
            ("Home Videos", SkipReason::NoAudio),
        ]
        .map(|(name, reason)| SkippedPlaylist {
            name: name.to_owned(),
            reason
        })
    );
    let planned: Vec<(String, u64, u64, bool, PlaylistAction)> = report
        .playlists
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.entries,
                p.missing_entries,
                p.smart,
                p.action,
            )
        })
        .collect();
    assert_eq!(
        planned,
        [
            (
                "Road / Summer / Beach".to_owned(),
                3,
                1,
                false,
                PlaylistAction::Create
            ),
            ("Chill".to_owned(), 3, 0, false, PlaylistAction::Create),
            ("Top Rated".to_owned(), 2, 0, true, PlaylistAction::Create),
        ]
    );
    assert!(
        report.proposed_mappings.is_empty(),
        "{:?}",
        report.proposed_mappings
    );

    let applied = lib.catalog.apply_import(plan, at(500)).unwrap();
    assert!(applied.applied);
    let import = applied.import.expect("an import id");
    assert_eq!(applied.changes, report.changes);

    let glosoli = lib.track("Glósóli");
    assert_eq!(glosoli.rating, Some(Rating::try_new(100).unwrap()));
    assert_eq!(glosoli.play_count, 42);
    assert_eq!(glosoli.last_played, Some(unix(1_680_674_828)));
    assert_eq!(glosoli.added, unix(1_262_401_445));
    assert!(glosoli.loved);
    let hopp = lib.track("Hoppípolla");
    assert_eq!(hopp.rating, None);
    assert_eq!(hopp.play_count, 7);
    assert_eq!(hopp.last_played, Some(unix(1_735_070_400)));
    assert_eq!(hopp.added, unix(1_307_434_150));
    assert!(!hopp.loved);
    let joga = lib.track("Jóga");
    assert_eq!(joga.rating, Some(Rating::from_stars(4).unwrap()));
    assert_eq!(joga.play_count, 0);
    assert_eq!(joga.last_played, None);
    assert_eq!(joga.added, unix(1_330_837_567));
    assert!(joga.loved, "Favorited, as recent Music versions write it");
    let song = lib.track("Song #1 (50%)");
    assert_eq!(
        (song.rating, song.play_count, song.last_played, song.added),
        (None, 3, Some(unix(1_738_555_506)), unix(1_376_043_072))
    );
    let hunter = lib.track("Hunter");
    assert_eq!(
        (hunter.rating, hunter.play_count, hunter.added, hunter.loved),
        (None, 0, at(0), false),
        "a track that matched nothing keeps its values"
    );

    assert_eq!(
        playlists(&lib),
        [
            (
                "Chill".to_owned(),
                titles(&["Jóga", "Glósóli", "Hoppípolla"])
            ),
            (
                "Road / Summer / Beach".to_owned(),
                titles(&["Song #1 (50%)", "Glósóli", "Song #1 (50%)"])
            ),
            ("Top Rated".to_owned(), titles(&["Glósóli", "Jóga"])),
        ]
    );
    let records = lib.catalog.imports().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].id, import);
    assert_eq!(records[0].kind, ImportKind::Itunes);
    assert_eq!(records[0].imported, at(500));
    assert_eq!(
        (records[0].tracks_changed, records[0].playlists_written),
        (4, 3)
    );
    assert_eq!(records[0].undone, None);
}

#[test]
fn a_second_import_of_the_same_library_changes_nothing() {
    let (mut lib, xml) = fixture(1);
    let plan = lib.catalog.plan_itunes_import(&xml, &[]).unwrap();
    lib.catalog.apply_import(plan, at(500)).unwrap();
    let after_first = snapshot(&lib);

    let again = lib.catalog.plan_itunes_import(&xml, &[]).unwrap();
    assert_eq!(again.report().changes.tracks, 0);
    assert!(
        again
            .report()
            .playlists
            .iter()
            .all(|p| p.action == PlaylistAction::Unchanged)
    );
    let report = lib.catalog.apply_import(again, at(600)).unwrap();
    assert_eq!(report.import, None, "nothing to change, nothing recorded");
    assert_eq!(snapshot(&lib), after_first);
    assert_eq!(lib.catalog.imports().unwrap().len(), 1);

    // Skylark counts a play; then a newer export of the library arrives, in which Glósóli has
    // 45 plays and "Chill" was reordered. Counts are a baseline: 45 from iTunes plus 1 here.
    let glosoli = lib.track("Glósóli").id;
    lib.catalog.record_play(glosoli, at(700)).unwrap();
    let newer = write_xml(&lib, &lib.music.to_string_lossy(), 2);
    let plan = lib.catalog.plan_itunes_import(&newer, &[]).unwrap();
    let actions: Vec<(&str, PlaylistAction)> = plan
        .report()
        .playlists
        .iter()
        .map(|p| (p.name.as_str(), p.action))
        .collect();
    assert_eq!(
        actions,
        [
            ("Road / Summer / Beach", PlaylistAction::Unchanged),
            ("Chill", PlaylistAction::Replace),
            ("Top Rated", PlaylistAction::Unchanged),
        ]
    );
    let chill = lib.catalog.playlist_by_name("Chill").unwrap().unwrap().id;
    assert_eq!(plan.report().playlists[1].playlist, Some(chill));
    lib.catalog.apply_import(plan, at(800)).unwrap();
    let glosoli = lib.track("Glósóli");
    assert_eq!(glosoli.play_count, 46);
    assert_eq!(glosoli.last_played, Some(at(700)));
    assert_eq!(lib.track("Hoppípolla").play_count, 7, "not doubled");
    let lists = playlists(&lib);
    assert_eq!(lists.len(), 3, "replaced, not duplicated: {lists:?}");
    assert_eq!(
        lists[0],
        (
            "Chill".to_owned(),
            titles(&["Glósóli", "Hoppípolla", "Jóga"])
        )
    );
    assert_eq!(
        lib.catalog.playlist_by_name("Chill").unwrap().unwrap().id,
        chill,
        "the same playlist, with new entries"
    );
}

#[test]
fn undo_restores_exactly_newest_first() {
    let (mut lib, xml) = fixture(1);
    // What the user had before importing: a rating, a play, and their own "Chill".
    let hunter = lib.track("Hunter").id;
    let glosoli = lib.track("Glósóli").id;
    lib.catalog
        .set_rating(hunter, Some(Rating::from_stars(2).unwrap()), at(9))
        .unwrap();
    lib.catalog.record_play(glosoli, at(10)).unwrap();
    let mine = lib.catalog.create_playlist("Chill", at(20)).unwrap();
    lib.catalog
        .add_to_playlist(mine, &[hunter, hunter], None, at(20))
        .unwrap();
    let original = snapshot(&lib);

    let plan = lib.catalog.plan_itunes_import(&xml, &[]).unwrap();
    assert_eq!(plan.report().playlists[1].name, "Chill (2)");
    let first = lib
        .catalog
        .apply_import(plan, at(500))
        .unwrap()
        .import
        .unwrap();
    assert_eq!(
        lib.track("Glósóli").play_count,
        43,
        "42 from iTunes and 1 here"
    );
    let after_first = snapshot(&lib);
    let newer = write_xml(&lib, &lib.music.to_string_lossy(), 2);
    let plan = lib.catalog.plan_itunes_import(&newer, &[]).unwrap();
    let second = lib
        .catalog
        .apply_import(plan, at(600))
        .unwrap()
        .import
        .unwrap();
    assert_ne!(snapshot(&lib), after_first);

    let refused = lib.catalog.undo_import(Some(first), at(700)).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains(&format!("undo import {second} before")),
        "{refused}"
    );
    let undone = lib.catalog.undo_import(None, at(700)).unwrap();
    assert_eq!(undone.import, second);
    assert_eq!(
        (
            undone.tracks_restored,
            undone.playlists_restored,
            undone.playlists_deleted
        ),
        (1, 1, 0)
    );
    assert_eq!(snapshot(&lib), after_first, "entry ids included");
    let undone = lib.catalog.undo_import(None, at(710)).unwrap();
    assert_eq!(undone.import, first);
    assert_eq!(undone.playlists_deleted, 3);
    assert_eq!(snapshot(&lib), original);
    assert!(
        lib.catalog.undo_import(None, at(720)).is_err(),
        "nothing left to undo"
    );
    assert!(lib.catalog.undo_import(Some(first), at(720)).is_err());
    let records = lib.catalog.imports().unwrap();
    assert_eq!(
        records.iter().map(|r| r.undone).collect::<Vec<_>>(),
        [Some(at(700)), Some(at(710))]
    );

    // What the user does after an import survives its undo: a play recorded since stays.
    let plan = lib.catalog.plan_itunes_import(&xml, &[]).unwrap();
    lib.catalog.apply_import(plan, at(800)).unwrap();
    lib.catalog.record_play(glosoli, at(900)).unwrap();
    lib.catalog.undo_import(None, at(1000)).unwrap();
    let g = lib.track("Glósóli");
    assert_eq!(
        g.play_count, 2,
        "the play before and the play after the import"
    );
    assert_eq!(g.last_played, Some(at(900)));
    assert_eq!(g.rating, None);
}

#[test]
fn a_moved_music_folder_is_proposed_and_resolved_with_a_mapping() {
    let mut lib = Lib::new();
    music_files(&lib);
    lib.scan();
    let old_root = "/Users/me/Music/iTunes/iTunes Media/Music";
    let xml = write_xml(&lib, old_root, 1);

    let plan = lib.catalog.plan_itunes_import(&xml, &[]).unwrap();
    let report = plan.report();
    assert_eq!(
        report.proposed_mappings,
        [ProposedMapping {
            from: old_root.to_owned(),
            to: lib.music.to_string_lossy().into_owned(),
            tracks: 4,
        }]
    );
    // Without the mapping the same files still match, by their tags.
    assert_eq!((report.tracks.by_location, report.tracks.by_tags), (0, 4));

    let mapping = RootMapping::parse(&format!("{old_root}/={}", lib.music.display())).unwrap();
    let plan = lib
        .catalog
        .plan_itunes_import(&xml, std::slice::from_ref(&mapping))
        .unwrap();
    let report = plan.report().clone();
    assert_eq!(
        (
            report.tracks.by_location,
            report.tracks.by_mapping,
            report.tracks.by_tags
        ),
        (0, 3, 1)
    );
    assert_eq!(report.mappings, [mapping]);
    assert!(report.proposed_mappings.is_empty());
    let gone = report
        .unmatched
        .iter()
        .find(|u| u.source_id == "1011")
        .unwrap();
    assert_eq!(
        gone.reason,
        UnmatchedReason::NotInLibrary {
            path: Some(format!("{old_root}/Nobody/Nowhere/01 Gone Song.mp3"))
        }
    );
    lib.catalog.apply_import(plan, at(1)).unwrap();
    assert_eq!(lib.track("Song #1 (50%)").play_count, 3);
    assert_eq!(
        playlists(&lib)[1].1,
        titles(&["Song #1 (50%)", "Glósóli", "Song #1 (50%)"])
    );
}

#[test]
fn files_that_are_not_a_library_are_refused_clearly() {
    let lib = Lib::new();
    let check = |name: &str, content: &[u8], expect: &str| {
        let path = lib.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let error = lib.catalog.plan_itunes_import(&path, &[]).unwrap_err();
        let message = error.to_string();
        assert!(message.contains(expect), "{name}: {message}");
        assert!(message.contains(name), "{name}: {message}");
    };
    check("empty.xml", b"", "not an iTunes or Music library XML");
    check(
        "cut.xml",
        &itunes_xml("/m", 1).as_bytes()[..3000],
        "not an iTunes or Music library XML",
    );
    check("text.xml", b"hello", "not an iTunes or Music library XML");
    check(
        "other.plist",
        b"<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>A</key><string>b</string></dict></plist>",
        "no Tracks dictionary",
    );
    check(
        "bad-type.xml",
        b"<plist version=\"1.0\"><dict><key>Tracks</key><dict><key>1</key><dict><key>Track ID</key><string>x</string></dict></dict></dict></plist>",
        "not an iTunes or Music library XML",
    );
    let missing = lib
        .catalog
        .plan_itunes_import(Path::new("/nonexistent/Library.xml"), &[])
        .unwrap_err();
    assert!(missing.to_string().contains("/nonexistent/Library.xml"));
}

#[test]
fn a_large_library_plans_in_seconds() {
    // 20,000 tracks (about 14 MB of XML) against the library: the parse streams, matching
    // uses hash lookups. Generous bound for an unoptimised test build on a busy machine.
    let (lib, _) = fixture(1);
    let root = lib.music.to_string_lossy().into_owned();
    let tracks: Vec<XmlTrack> = (0..20_000)
        .map(|i| XmlTrack {
            id: 10_000 + i,
            fields: vec![
                ("Name", V::Str(format!("Track {i}"))),
                ("Artist", V::Str(format!("Artist {}", i / 100))),
                ("Album", V::Str(format!("Album {}", i / 10))),
                ("Total Time", V::Int(200_000)),
                ("Play Count", V::Int(i % 50)),
                ("Date Added", V::Date("2012-03-04T05:06:07Z")),
                ("Rating", V::Int(i % 6 * 20)),
                ("Track Type", s("File")),
                (
                    "Location",
                    V::Str(url(
                        &format!("{root}/A {}/B {}/{i:05} Track.mp3", i / 100, i / 10),
                        false,
                    )),
                ),
            ],
        })
        .collect();
    let items: Vec<i64> = (10_000..30_000).collect();
    let xml = library_xml(
        &tracks,
        &[XmlPlaylist {
            fields: vec![
                ("Name", s("Everything")),
                ("Playlist Persistent ID", s("E1")),
            ],
            items: Some(items),
        }],
    );
    let path = lib.dir.path().join("big.xml");
    std::fs::write(&path, xml).unwrap();
    let started = std::time::Instant::now();
    let plan = lib.catalog.plan_itunes_import(&path, &[]).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(plan.report().tracks.in_source, 20_000);
    assert_eq!(plan.report().tracks.unmatched, 20_000);
    assert_eq!(
        plan.report().playlists,
        [PlaylistReport {
            name: "Everything".to_owned(),
            entries: 0,
            missing_entries: 20_000,
            smart: false,
            action: PlaylistAction::Create,
            playlist: None,
        }]
    );
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}

#[test]
fn playlist_files_from_foobar2000_and_musicbee() {
    let (mut lib, _) = fixture(1);
    let lists = lib.dir.path().join("Lists");
    std::fs::create_dir_all(&lists).unwrap();
    // foobar2000: UTF-8 with a byte order mark, CRLF, backslashes, paths relative to the list,
    // names in NFD.
    let foobar = lists.join("Evening.m3u8");
    let nfd = |s: &str| -> String {
        use unicode_normalization::UnicodeNormalization;
        s.nfd().collect()
    };
    std::fs::write(
        &foobar,
        format!(
            "\u{feff}#EXTM3U\r\n#EXTINF:1,Sigur Rós - Glósóli\r\n..\\Music\\Sigur Rós\\Takk\\{}\r\n\
             #EXTINF:1,Björk - Jóga\r\n..\\Music\\{}\\Homogenic\\01 Jóga.aiff\r\n\
             http://radio.example/stream\r\n..\\Music\\Missing\\x.mp3\r\n",
            nfd("01 Glósóli.m4a"),
            nfd("Björk")
        ),
    )
    .unwrap();
    // MusicBee on another computer: absolute Windows paths, resolved with a mapping.
    let musicbee = lists.join("Workout.m3u");
    std::fs::write(
        &musicbee,
        "#EXTM3U\r\n#EXTINF:1,The Loud Ones - Song #1 (50%)\r\nD:\\Music\\Various\\Live & Loud\\03 Song #1 (50%).m4a\r\n\
         D:\\Music\\Björk\\Homogenic\\02 Hunter.wav\r\n",
    )
    .unwrap();
    let plan = lib
        .catalog
        .plan_m3u_import(&[foobar.clone(), musicbee.clone()], &[])
        .unwrap();
    let report = plan.report();
    assert_eq!(report.kind, ImportKind::M3u);
    assert_eq!(
        (
            report.tracks.in_source,
            report.tracks.by_location,
            report.tracks.by_tags,
            report.tracks.unmatched
        ),
        (6, 2, 1, 3),
        "Song #1 is found by its #EXTINF line, Hunter (no such line) is not"
    );
    assert_eq!(
        report.proposed_mappings,
        [ProposedMapping {
            from: "D:/Music".to_owned(),
            to: lib.music.to_string_lossy().into_owned(),
            tracks: 1,
        }]
    );
    assert_eq!(report.unmatched[0].source_id, "Evening.m3u8:6");
    assert_eq!(report.unmatched[0].reason, UnmatchedReason::NotAFile);

    let mapping = RootMapping::parse(&format!("D:\\Music={}", lib.music.display())).unwrap();
    let plan = lib
        .catalog
        .plan_m3u_import(
            &[foobar.clone(), musicbee.clone()],
            std::slice::from_ref(&mapping),
        )
        .unwrap();
    assert_eq!(plan.report().tracks.by_mapping, 2);
    let first = lib.catalog.apply_import(plan, at(10)).unwrap();
    assert!(first.import.is_some());
    assert_eq!(
        playlists(&lib),
        [
            ("Evening".to_owned(), titles(&["Glósóli", "Jóga"])),
            ("Workout".to_owned(), titles(&["Song #1 (50%)", "Hunter"])),
        ]
    );
    // The same files again: replaced (here: unchanged), never doubled.
    let plan = lib
        .catalog
        .plan_m3u_import(&[foobar, musicbee], &[mapping])
        .unwrap();
    assert!(
        plan.report()
            .playlists
            .iter()
            .all(|p| p.action == PlaylistAction::Unchanged)
    );
    assert_eq!(lib.catalog.apply_import(plan, at(20)).unwrap().import, None);
    assert_eq!(playlists(&lib).len(), 2);
    lib.catalog.undo_import(None, at(30)).unwrap();
    assert!(playlists(&lib).is_empty());
}

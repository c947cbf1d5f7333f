//! Exporting the library (playlists as M3U8, statistics as stats.jsonl, optionally the music) and
//! importing the export into a fresh catalog.

use std::path::{Path, PathBuf};

use skylark_catalog::export::{ExportOptions, STATS_FILE, StatsRecord};
use skylark_catalog::m3u::PathStyle;
use skylark_catalog::{Catalog, ScanOptions, Track, TrackQuery, TrackSort};

use crate::import::{fixture, playlists};
use crate::library::{Lib, at};

/// A library with history: an iTunes import, a play recorded here, a rating and a loved mark
/// set here, and a playlist of the user's own with a duplicate entry.
fn library_with_history() -> Lib {
    let (mut lib, xml) = fixture(1);
    let plan = lib.catalog.plan_itunes_import(&xml, &[]).unwrap();
    lib.catalog.apply_import(plan, at(100)).unwrap();
    let hunter = lib.track("Hunter").id;
    let glosoli = lib.track("Glósóli").id;
    lib.catalog.record_play(glosoli, at(200)).unwrap();
    lib.catalog
        .set_rating(
            hunter,
            Some(skylark_catalog::Rating::from_stars(3).unwrap()),
            at(210),
        )
        .unwrap();
    lib.catalog.set_loved(hunter, true, at(220)).unwrap();
    let mine = lib
        .catalog
        .create_playlist("Mine: \"best\"?", at(300))
        .unwrap();
    lib.catalog
        .add_to_playlist(mine, &[hunter, glosoli, hunter], None, at(300))
        .unwrap();
    lib
}

/// Title, rating, play count, last played, added and loved.
type TrackStats = (String, Option<u8>, u32, Option<i64>, i64, bool);

/// What an export must carry over, per track title.
fn stats_by_title(tracks: &[Track]) -> Vec<TrackStats> {
    let millis = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
    };
    let mut out: Vec<_> = tracks
        .iter()
        .map(|t| {
            (
                t.title.clone(),
                t.rating.map(|r| r.value()),
                t.play_count,
                t.last_played.map(millis),
                millis(t.added),
                t.loved,
            )
        })
        .collect();
    out.sort();
    out
}

fn all_tracks(catalog: &Catalog) -> Vec<Track> {
    let query = TrackQuery {
        sort: TrackSort::Title,
        descending: false,
        after: None,
        limit: 10_000,
        playable_offline: false,
    };
    catalog.tracks(&query).unwrap().tracks
}

fn m3u8_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "m3u8"))
        .collect();
    files.sort();
    files
}

/// Opens a fresh catalog, scans `music`, and imports the export in `dir`.
fn rebuild(lib: &Lib, name: &str, music: &Path, dir: &Path) -> Catalog {
    let data = lib.dir.path().join(name);
    let mut fresh = Catalog::open(&data.join("catalog.db"), &data.join("covers")).unwrap();
    // Scanned later than the original, so the exported (earlier) added dates win.
    fresh
        .scan(&[music.to_owned()], &ScanOptions::at(at(5_000)), &|_| {})
        .unwrap();
    let plan = fresh.plan_stats_import(&dir.join(STATS_FILE), &[]).unwrap();
    assert_eq!(
        plan.report().tracks.unmatched,
        0,
        "{:?}",
        plan.report().unmatched
    );
    fresh.apply_import(plan, at(6_000)).unwrap();
    let plan = fresh.plan_m3u_import(&m3u8_files(dir), &[]).unwrap();
    assert_eq!(
        plan.report().tracks.unmatched,
        0,
        "{:?}",
        plan.report().unmatched
    );
    fresh.apply_import(plan, at(6_000)).unwrap();
    fresh
}

fn fresh_playlists(catalog: &Catalog) -> Vec<(String, Vec<String>)> {
    catalog
        .playlists()
        .unwrap()
        .into_iter()
        .map(|p| {
            let titles = catalog
                .playlist_items(p.id)
                .unwrap()
                .into_iter()
                .map(|i| i.track.title)
                .collect();
            (p.name, titles)
        })
        .collect()
}

#[test]
fn an_export_with_copies_rebuilds_the_library_in_a_fresh_catalog() {
    let lib = library_with_history();
    let dir = lib.dir.path().join("Export");
    let report = lib
        .catalog
        .export_library(
            &dir,
            &ExportOptions {
                style: PathStyle::Relative,
                copy: true,
            },
            None,
            &|_, _| {},
        )
        .unwrap();
    let dir = std::fs::canonicalize(&dir).unwrap();
    assert_eq!(report.tracks, 5);
    assert_eq!((report.copied, report.already_copied), (5, 0));
    assert!(report.not_copied.is_empty());
    assert_eq!(report.locker_only, 0);
    let names: Vec<&str> = report.playlists.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Chill",
            "Mine: \"best\"?",
            "Road / Summer / Beach",
            "Top Rated"
        ]
    );
    let copied = dir.join("music/Music/Sigur Rós/Takk/01 Glósóli.m4a");
    assert_eq!(
        std::fs::read(&copied).unwrap(),
        std::fs::read(lib.music.join("Sigur Rós/Takk/01 Glósóli.m4a")).unwrap()
    );
    let beach = std::fs::read_to_string(dir.join("Road _ Summer _ Beach.m3u8")).unwrap();
    assert_eq!(
        beach,
        "#EXTM3U\n#PLAYLIST:Road / Summer / Beach\n\
         #EXTINF:1,The Loud Ones - Song #1 (50%)\nmusic/Music/Various/Live & Loud/03 Song #1 (50%).m4a\n\
         #EXTINF:1,Sigur Rós - Glósóli\nmusic/Music/Sigur Rós/Takk/01 Glósóli.m4a\n\
         #EXTINF:1,The Loud Ones - Song #1 (50%)\nmusic/Music/Various/Live & Loud/03 Song #1 (50%).m4a\n"
    );
    let lines: Vec<StatsRecord> = std::fs::read_to_string(dir.join(STATS_FILE))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let glosoli = lines.iter().find(|r| r.title == "Glósóli").unwrap();
    assert_eq!(
        glosoli.path.as_deref(),
        Some("music/Music/Sigur Rós/Takk/01 Glósóli.m4a")
    );
    assert_eq!(glosoli.play_count, 43);
    assert_eq!(glosoli.rating, Some(100));
    assert!(glosoli.loved);
    assert_eq!(glosoli.added, 1_262_401_445_000);

    let fresh = rebuild(&lib, "fresh", &dir.join("music"), &dir);
    assert_eq!(
        stats_by_title(&all_tracks(&fresh)),
        stats_by_title(&lib.tracks())
    );
    assert_eq!(fresh_playlists(&fresh), playlists(&lib));

    // Again into the same folder: nothing is copied twice, and a different file already at a
    // copy's place is left alone.
    let hunter_copy = dir.join("music/Music/Björk/Homogenic/02 Hunter.wav");
    std::fs::write(&hunter_copy, b"someone else's file").unwrap();
    let again = lib
        .catalog
        .export_library(
            &dir,
            &ExportOptions {
                style: PathStyle::Relative,
                copy: true,
            },
            None,
            &|_, _| {},
        )
        .unwrap();
    assert_eq!((again.copied, again.already_copied), (0, 4));
    assert_eq!(again.not_copied.len(), 1);
    assert!(
        again.not_copied[0]
            .reason
            .contains("a different file is already at")
    );
    assert_eq!(std::fs::read(&hunter_copy).unwrap(), b"someone else's file");
    let mine = again
        .playlists
        .iter()
        .find(|p| p.name.starts_with("Mine"))
        .unwrap();
    assert_eq!((mine.entries, mine.left_out), (1, 2));
}

#[test]
fn an_export_naming_the_original_files_rebuilds_the_library_too() {
    let lib = library_with_history();
    let dir = lib.dir.path().join("Lists");
    let report = lib
        .catalog
        .export_library(
            &dir,
            &ExportOptions {
                style: PathStyle::Absolute,
                copy: false,
            },
            None,
            &|_, _| {},
        )
        .unwrap();
    assert_eq!(report.copied, 0);
    assert!(!dir.join("music").exists());
    let chill = std::fs::read_to_string(dir.join("Chill.m3u8")).unwrap();
    assert!(
        chill.contains(&format!(
            "\n{}\n",
            lib.music.join("Björk/Homogenic/01 Jóga.aiff").display()
        )),
        "{chill}"
    );
    // The export into the catalog it came from changes nothing.
    let same = Catalog::open(
        &lib.dir.path().join("data/catalog.db"),
        &lib.dir.path().join("data/covers"),
    )
    .unwrap();
    let plan = same.plan_stats_import(&dir.join(STATS_FILE), &[]).unwrap();
    assert_eq!(
        plan.report().changes.tracks,
        0,
        "{:?}",
        plan.report().changes
    );
    drop(same);

    let fresh = rebuild(&lib, "fresh", &lib.music, &dir);
    assert_eq!(
        stats_by_title(&all_tracks(&fresh)),
        stats_by_title(&lib.tracks())
    );
    assert_eq!(fresh_playlists(&fresh), playlists(&lib));
}

#[test]
fn tracks_only_in_the_locker_are_counted_not_faked() {
    let mut lib = library_with_history();
    let info = skylark_tags::FileInfo {
        tags: skylark_tags::Tags {
            title: Some("Svefn-g-englar".to_owned()),
            artists: vec!["Sigur Rós".to_owned()],
            album: Some("Ágætis byrjun".to_owned()),
            ..Default::default()
        },
        properties: skylark_tags::AudioProperties {
            duration: std::time::Duration::from_secs(604),
            sample_rate: Some(44_100),
            channels: Some(2),
            bit_depth: None,
            bitrate_kbps: Some(256),
            codec: skylark_tags::Codec::Aac,
        },
        cover: None,
    };
    let id = lib.catalog.import_metadata(&[info], at(0)).unwrap()[0];
    let list = lib.catalog.create_playlist("Remote", at(1)).unwrap();
    lib.catalog
        .add_to_playlist(list, &[id], None, at(1))
        .unwrap();
    let dir = lib.dir.path().join("Out");
    let report = lib
        .catalog
        .export_library(
            &dir,
            &ExportOptions {
                style: PathStyle::Relative,
                copy: true,
            },
            None,
            &|_, _| {},
        )
        .unwrap();
    assert_eq!(
        (report.tracks, report.copied, report.locker_only),
        (6, 5, 1)
    );
    let remote = report
        .playlists
        .iter()
        .find(|p| p.name == "Remote")
        .unwrap();
    assert_eq!((remote.entries, remote.left_out), (0, 1));
    let line: StatsRecord = std::fs::read_to_string(dir.join(STATS_FILE))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<StatsRecord>(l).unwrap())
        .find(|r| r.title == "Svefn-g-englar")
        .unwrap();
    assert_eq!(line.path, None);
    assert_eq!(line.duration_ms, 604_000);
}

#[test]
fn copies_never_go_into_the_library() {
    let lib = library_with_history();
    let inside = lib.music.join("Backup");
    let error = lib
        .catalog
        .export_library(
            &inside,
            &ExportOptions {
                style: PathStyle::Relative,
                copy: true,
            },
            None,
            &|_, _| {},
        )
        .unwrap_err();
    assert!(
        error.to_string().contains("inside the library folder"),
        "{error}"
    );
    assert!(!inside.exists(), "nothing was created in the library");
}

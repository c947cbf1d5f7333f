//! Importing and rescanning folders.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use skylark_catalog::{
    Availability, Catalog, CoverSize, ScanOptions, ScanProgress, TrackQuery, TrackSort,
};
use skylark_testsupport::{
    Format, TagSpec, cover_jpeg, cover_png, write_broken_tags, write_random_bytes, write_truncated,
    write_zero_byte,
};

use crate::library::{Lib, at, changes, standard, tags};

#[test]
fn imports_every_format_with_its_tags() {
    let mut lib = Lib::new();
    standard(&lib);
    let report = lib.scan();
    assert_eq!(report.scanned, 13, "{report:#?}");
    assert_eq!(report.added, 13);
    assert!(report.failed.is_empty(), "{:#?}", report.failed);

    let t = lib.track("Something");
    assert_eq!(t.artist, "The Beatles");
    assert_eq!(t.album, "Abbey Road");
    assert_eq!(t.album_artist, "The Beatles");
    assert_eq!(t.track_no, Some(2));
    assert_eq!(t.year, Some(1969));
    assert_eq!(t.date.as_deref(), Some("1969-09-26"));
    assert_eq!(t.genre, "Rock");
    assert_eq!(t.codec, "flac");
    assert_eq!(
        (t.sample_rate, t.channels, t.bit_depth),
        (Some(44_100), Some(2), Some(16))
    );
    assert!(t.has_cover);
    assert_eq!(t.availability, Availability::Local);
    assert!(
        (990..=1010).contains(&t.duration.as_millis()),
        "{:?}",
        t.duration
    );
    assert_eq!(
        t.path,
        Some(lib.music.join("The Beatles/Abbey Road/02 Something.flac"))
    );

    let codecs: Vec<(String, String)> = lib
        .tracks()
        .into_iter()
        .map(|t| (t.title, t.codec))
        .collect();
    for (title, codec) in [
        ("Come Together", "mp3"),
        ("Maxwell's Silver Hammer", "aac"),
        ("Jóga", "vorbis"),
        ("Hunter", "opus"),
        ("Bachelorette", "wavpack"),
        ("Pluto", "pcm"),
        ("Tommib", "alac"),
        ("Hoppípolla", "ape"),
        ("Með blóðnasir", "pcm"),
    ] {
        assert!(
            codecs.contains(&(title.to_owned(), codec.to_owned())),
            "{title} {codec}: {codecs:?}"
        );
    }

    let joga = lib.track("Jóga");
    assert_eq!(
        (joga.disc_no, joga.disc_total, joga.track_no),
        (Some(2), Some(2), Some(1))
    );
    assert_eq!(joga.genre, "Electronic, Art Pop");
    assert_eq!(
        joga.album_artist, "Björk",
        "album artist falls back on the artist"
    );
}

#[test]
fn compilations_group_under_various_artists() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let intro = lib.track("Intro");
    let tommib = lib.track("Tommib");
    assert_eq!(intro.album_artist, "Various Artists");
    assert_eq!(intro.album_id, tommib.album_id);
    assert_eq!(intro.artist, "Kevin Shields");
    let album = lib.catalog.album(intro.album_id).unwrap();
    assert!(album.compilation);
    assert_eq!(album.track_count, 2);
}

/// "VA", "V.A." and "various artists" as an album artist are Various Artists: a compilation. And
/// genres joined with ";" in one value are several. Catalogs of schema 11 read such tracks again.
#[test]
fn va_album_artists_and_joined_genres_and_their_upgrade() {
    let mut lib = Lib::new();
    lib.add(
        "Mix/01.mp3",
        Format::Mp3,
        TagSpec {
            album_artist: Some("VA".to_owned()),
            ..tags("First", "Alpha", "Mix Tape", 1)
        },
    );
    lib.add(
        "Mix/02.flac",
        Format::Flac,
        TagSpec {
            album_artist: Some("V.A.".to_owned()),
            ..tags("Second", "Beta", "Mix Tape", 2)
        },
    );
    lib.add(
        "Other/01.ogg",
        Format::OggVorbis,
        TagSpec {
            album_artist: Some("various artists".to_owned()),
            genres: vec!["Rock; Pop".to_owned()],
            ..tags("Third", "Gamma", "Other Mix", 1)
        },
    );
    lib.scan();
    let first = lib.track("First");
    assert_eq!(first.album_artist, "Various Artists");
    assert_eq!(first.album_id, lib.track("Second").album_id);
    assert!(lib.catalog.album(first.album_id).unwrap().compilation);
    let third = lib.track("Third");
    assert_eq!(third.album_artist, "Various Artists");
    assert!(lib.catalog.album(third.album_id).unwrap().compilation);
    assert_eq!(third.genre, "Rock, Pop");

    // The catalog as the previous version left it: schema 11, the album by "VA", not a
    // compilation, "various artists" not one either, and the genres one.
    lib.catalog.record_play(first.id, at(10)).unwrap();
    lib.reopen_after(&format!(
        "INSERT INTO artists(name, sort_name, match_key) VALUES ('VA', 'va', 'va');
         UPDATE albums SET compilation = 0, artist_id = last_insert_rowid(),
             match_key = 'va' || char(31) || 'mix tape'
         WHERE id = {};
         UPDATE albums SET compilation = 0 WHERE id = {};
         UPDATE tracks SET genre = 'Rock; Pop' WHERE id = {};
         ALTER TABLE tracks DROP COLUMN album_artist_guessed;
         PRAGMA user_version = 11;",
        first.album_id.0, third.album_id.0, third.id.0
    ));
    assert_eq!(lib.track("First").album_artist, "VA");
    assert!(
        lib.catalog.album(third.album_id).unwrap().compilation,
        "the upgrade marks it at once"
    );
    let report = lib.scan_at(50);
    assert_eq!(changes(&report), (3, 0, 0, 0), "{report:#?}");
    assert_eq!(lib.track("Third").genre, "Rock, Pop");
    let after = lib.track("First");
    assert_eq!((after.id, after.play_count), (first.id, 1));
    assert_eq!(after.album_artist, "Various Artists");
    assert_eq!(after.album_id, lib.track("Second").album_id);
    assert!(lib.catalog.album(after.album_id).unwrap().compilation);
    assert!(lib.catalog.album(third.album_id).unwrap().compilation);
}

/// Files that name no album artist and no compilation flag: the tracks of one folder that share
/// an album title are one album, by their shared lead artist, else by Various Artists.
#[test]
fn albums_without_an_album_artist_are_filed_by_folder() {
    let mut lib = Lib::new();
    for (n, artist) in [(1, "Alpha"), (2, "Beta"), (3, "Gamma")] {
        lib.add(
            &format!("Now 42/{n:02}.mp3"),
            Format::Mp3,
            tags(&format!("Hit {n}"), artist, "Now 42", n),
        );
    }
    lib.add(
        "Discovery/01.flac",
        Format::Flac,
        tags("One More Time", "Daft Punk", "Discovery", 1),
    );
    lib.add(
        "Discovery/02.flac",
        Format::Flac,
        tags("Digital Love", "Daft Punk feat. Romanthony", "Discovery", 2),
    );
    // An album artist in the tags is kept, and another folder's album of the same title by an
    // artist of its own stays apart.
    lib.add(
        "Tagged/01.ogg",
        Format::OggVorbis,
        TagSpec {
            album_artist: Some("The Band".to_owned()),
            ..tags("Tagged One", "Alpha", "Split", 1)
        },
    );
    lib.add(
        "Tagged/02.ogg",
        Format::OggVorbis,
        TagSpec {
            album_artist: Some("The Band".to_owned()),
            ..tags("Tagged Two", "Beta", "Split", 2)
        },
    );
    lib.add(
        "Elsewhere/01.mp3",
        Format::Mp3,
        tags("Solo", "Delta", "Now 42", 1),
    );
    // Two albums of one title in a flat folder: numbered alike, so not one album.
    for (n, artist) in [(1, "Queen"), (2, "Queen"), (1, "ABBA"), (2, "ABBA")] {
        lib.add(
            &format!("Flat/{artist} {n}.mp3"),
            Format::Mp3,
            tags(&format!("{artist} hit {n}"), artist, "Greatest Hits", n),
        );
    }
    lib.scan();

    let hit = lib.track("Hit 1");
    assert_eq!(hit.album_artist, "Various Artists");
    let album = lib.catalog.album(hit.album_id).unwrap();
    assert!(album.compilation);
    assert_eq!((album.title.as_str(), album.track_count), ("Now 42", 3));
    for title in ["Hit 2", "Hit 3"] {
        let t = lib.track(title);
        assert_eq!(t.album_id, hit.album_id, "{title}");
    }
    assert_eq!(
        lib.track("Hit 2").artist,
        "Beta",
        "the track keeps its artist"
    );
    let solo = lib.track("Solo");
    assert_ne!(solo.album_id, hit.album_id);
    assert_eq!(solo.album_artist, "Delta");

    let digital = lib.track("Digital Love");
    assert_eq!(digital.album_artist, "Daft Punk");
    assert_eq!(digital.album_id, lib.track("One More Time").album_id);
    assert!(!lib.catalog.album(digital.album_id).unwrap().compilation);

    let queen = lib.track("Queen hit 1");
    assert_eq!(queen.album_artist, "Queen");
    assert_eq!(queen.album_id, lib.track("Queen hit 2").album_id);
    assert_ne!(queen.album_id, lib.track("ABBA hit 1").album_id);
    assert_eq!(lib.track("ABBA hit 2").album_artist, "ABBA");

    let tagged = lib.track("Tagged One");
    assert_eq!(tagged.album_artist, "The Band");
    assert_eq!(tagged.album_id, lib.track("Tagged Two").album_id);

    let albums: Vec<(String, String)> = lib
        .catalog
        .albums()
        .unwrap()
        .into_iter()
        .map(|a| (a.title, a.album_artist))
        .collect();
    assert_eq!(albums.len(), 6, "no album is left empty: {albums:?}");
    // The search index follows: the tracks are found by their new album artist.
    let mut found: Vec<String> = (lib.catalog.search("various", 10).unwrap().tracks)
        .into_iter()
        .map(|t| t.title)
        .collect();
    found.sort();
    assert_eq!(found, ["Hit 1", "Hit 2", "Hit 3"]);

    // A track added later joins the folder's album; a rescan leaves the album as it is.
    lib.add(
        "Now 42/04.mp3",
        Format::Mp3,
        tags("Hit 4", "Epsilon", "Now 42", 4),
    );
    let report = lib.scan_at(20);
    assert_eq!(changes(&report), (0, 12, 1, 0), "{report:#?}");
    assert_eq!(lib.track("Hit 4").album_id, hit.album_id);
    assert_eq!(lib.track("Hit 1").album_id, hit.album_id);

    // The catalog as the previous version left it: schema 11, each track under its own artist.
    lib.catalog.record_play(hit.id, at(30)).unwrap();
    lib.reopen_after(&format!(
        "INSERT INTO artists(name, sort_name, match_key) VALUES ('Alpha', 'alpha', 'alpha')
             ON CONFLICT DO NOTHING;
         INSERT INTO albums(title, sort_title, artist_id, match_key, compilation)
             SELECT 'Now 42', 'now 42', id, 'alpha' || char(31) || 'now 42', 0
             FROM artists WHERE match_key = 'alpha';
         UPDATE tracks SET album_id = last_insert_rowid() WHERE id = {};
         ALTER TABLE tracks DROP COLUMN album_artist_guessed;
         PRAGMA user_version = 11;",
        hit.id.0
    ));
    assert_ne!(lib.track("Hit 1").album_id, hit.album_id);
    let report = lib.scan_at(50);
    let after = lib.track("Hit 1");
    assert_eq!((after.id, after.play_count), (hit.id, 1));
    assert_eq!(after.album_artist, "Various Artists");
    assert_eq!(after.album_id, lib.track("Hit 2").album_id);
    assert_eq!(
        report.updated, 9,
        "the tracks of albums sharing a title: {report:#?}"
    );
}

/// A track numbered like another joins a folder filed as one album: they were two albums of one
/// title all along, and each track goes back under its own artist.
#[test]
fn a_folder_found_to_hold_two_albums_is_filed_apart() {
    let mut lib = Lib::new();
    for (n, artist) in [(1, "Alpha"), (2, "Beta")] {
        lib.add(
            &format!("Mix/{n:02}.mp3"),
            Format::Mp3,
            tags(&format!("Song {n}"), artist, "Mix", n),
        );
    }
    lib.scan();
    assert_eq!(lib.track("Song 1").album_artist, "Various Artists");
    lib.add(
        "Mix/01b.mp3",
        Format::Mp3,
        tags("Other 1", "Gamma", "Mix", 1),
    );
    lib.scan_at(20);
    for (title, artist) in [
        ("Song 1", "Alpha"),
        ("Song 2", "Beta"),
        ("Other 1", "Gamma"),
    ] {
        assert_eq!(lib.track(title).album_artist, artist, "{title}");
    }
    assert_eq!(lib.catalog.albums().unwrap().len(), 3);
}

#[test]
fn untagged_files_fall_back_on_names() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let lost = lib.track("Lost Song");
    assert_eq!(lost.track_no, Some(3));
    assert_eq!(lost.album, "Unsorted Tapes");
    assert_eq!(lost.artist, "Unknown Artist");
    assert_eq!(lost.album_artist, "Unknown Artist");
    assert!(lost.has_cover, "the folder image stands in for the cover");
    let untitled = lib.track("Untitled");
    assert_eq!(untitled.track_no, None);
    assert_eq!(untitled.cover_hash, lost.cover_hash);
}

/// The discs of a multi-disc album in folders of their own ("CD1", "Disc 2") take the cover in the
/// album's folder above them.
#[test]
fn disc_folders_take_the_album_folder_image() {
    let mut lib = Lib::new();
    lib.add("Box/CD1/01 One.flac", Format::Flac, TagSpec::default());
    lib.add("Box/Disc 2/01 Two.mp3", Format::Mp3, TagSpec::default());
    lib.add(
        "Box/Bonus/01 Three.ogg",
        Format::OggVorbis,
        TagSpec::default(),
    );
    std::fs::write(
        lib.music.join("Box/folder.jpg"),
        cover_jpeg(50, 50, [1, 2, 3]).bytes,
    )
    .unwrap();
    lib.scan();
    let one = lib.track("One");
    assert!(one.has_cover);
    assert_eq!(lib.track("Two").cover_hash, one.cover_hash);
    assert!(!lib.track("Three").has_cover, "not a disc folder");
}

/// A folder image added after a scan changes no audio file, yet the next scan (the watcher's, or a
/// full one) gives it to the folder's tracks that have no cover of their own, without reading
/// them again; tracks with an embedded cover keep theirs.
#[test]
fn a_folder_image_added_later_becomes_the_cover_of_tracks_without_one() {
    let mut lib = Lib::new();
    lib.add(
        "Album/01 Bare.flac",
        Format::Flac,
        tags("Bare", "X", "Album", 1),
    );
    lib.add(
        "Album/02 Bare too.mp3",
        Format::Mp3,
        tags("Bare too", "X", "Album", 2),
    );
    lib.add(
        "Album/03 Dressed.flac",
        Format::Flac,
        TagSpec {
            cover: Some(cover_png(40, 40, [9, 9, 9])),
            ..tags("Dressed", "X", "Album", 3)
        },
    );
    lib.add(
        "Box/CD1/01 Disc.flac",
        Format::Flac,
        tags("Disc", "Y", "Box", 1),
    );
    lib.scan();
    assert!(!lib.track("Bare").has_cover);
    assert!(!lib.track("Disc").has_cover);
    let dressed = lib.track("Dressed").cover_hash;
    assert!(dressed.is_some());

    let image = cover_jpeg(64, 64, [200, 10, 10]);
    std::fs::write(lib.music.join("Album/cover.jpg"), &image.bytes).unwrap();
    std::fs::write(lib.music.join("Box/front.jpg"), &image.bytes).unwrap();
    let report = lib.scan_at(100);
    assert_eq!(
        (report.unchanged, report.updated, report.added),
        (4, 0, 0),
        "{report:#?}"
    );
    let bare = lib.track("Bare");
    let hash = bare
        .cover_hash
        .clone()
        .expect("the folder image is its cover");
    assert_eq!(
        lib.track("Bare too").cover_hash.as_deref(),
        Some(hash.as_str())
    );
    assert_eq!(lib.track("Disc").cover_hash.as_deref(), Some(hash.as_str()));
    assert_eq!(lib.track("Dressed").cover_hash, dressed);
    let original = lib
        .catalog
        .covers()
        .path(&hash, CoverSize::Original, "image/jpeg");
    let bytes = std::fs::read(original).unwrap();
    assert_eq!(bytes, image.bytes);
}

#[test]
fn covers_are_stored_once_with_thumbnails() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let beatles: Vec<_> = lib
        .tracks()
        .into_iter()
        .filter(|t| t.album == "Abbey Road")
        .collect();
    assert_eq!(beatles.len(), 3);
    let hash = beatles[0].cover_hash.clone().unwrap();
    assert!(
        beatles
            .iter()
            .all(|t| t.cover_hash.as_deref() == Some(hash.as_str()))
    );
    let shard = lib.dir.path().join("data/covers").join(&hash[..2]);
    assert_eq!(
        std::fs::read_dir(&shard).unwrap().count(),
        1,
        "the scan stores the original only"
    );
    let report = lib.catalog.make_thumbnails(&|_, _| {}).unwrap();
    assert_eq!(
        (report.covers, report.failed),
        (2, 0),
        "the album cover and the folder image"
    );
    let store = lib.catalog.covers();
    let original = store.path(&hash, skylark_catalog::CoverSize::Original, "image/jpeg");
    let original = image::open(original).unwrap();
    assert_eq!((original.width(), original.height()), (600, 600));
    for (size, px) in [
        (skylark_catalog::CoverSize::Small, 96),
        (skylark_catalog::CoverSize::Large, 512),
    ] {
        let thumb = image::open(store.path(&hash, size, "image/jpeg")).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (px, px));
    }
    let files = std::fs::read_dir(shard).unwrap().count();
    assert_eq!(files, 3, "one original and two thumbnails");
}

#[test]
fn bad_files_are_reported_and_do_not_stop_the_scan() {
    let mut lib = Lib::new();
    let m = lib.music.clone();
    lib.add("good.flac", Format::Flac, tags("Good", "A", "B", 1));
    write_zero_byte(&m.join("bad/zero.mp3")).unwrap();
    write_random_bytes(&m.join("bad/random.flac"), 50_000, 3).unwrap();
    write_random_bytes(&m.join("bad/random.m4a"), 50_000, 4).unwrap();
    write_truncated(&m.join("bad/truncated.ogg"), Format::OggVorbis, 0.5).unwrap();
    write_truncated(&m.join("bad/truncated.flac"), Format::Flac, 0.4).unwrap();
    write_broken_tags(&m.join("bad/broken.mp3")).unwrap();
    std::fs::write(m.join("bad/notes.txt"), "not music").unwrap();
    std::os::unix::fs::symlink(&m, m.join("bad/loop")).unwrap();
    std::os::unix::fs::symlink(m.join("nowhere"), m.join("bad/dangling.mp3")).unwrap();

    let report = lib.scan();
    assert_eq!(lib.tracks().len(), 1);
    let reason = |name: &str| {
        report
            .failed
            .iter()
            .find(|f| f.path.ends_with(name))
            .map(|f| f.reason.clone())
            .unwrap_or_else(|| panic!("{name} not reported: {:#?}", report.failed))
    };
    assert!(
        reason("zero.mp3").contains("empty"),
        "{}",
        reason("zero.mp3")
    );
    assert!(
        reason("random.flac").contains("not a recognised audio file")
            || reason("random.flac").contains("corrupt")
    );
    assert!(
        reason("random.m4a").contains("not a recognised audio file")
            || reason("random.m4a").contains("corrupt")
    );
    assert!(
        reason("truncated.ogg").contains("corrupt or truncated"),
        "{}",
        reason("truncated.ogg")
    );
    assert!(
        reason("truncated.flac").contains("corrupt or truncated"),
        "{}",
        reason("truncated.flac")
    );
    assert!(
        reason("broken.mp3").contains("corrupt"),
        "{}",
        reason("broken.mp3")
    );
    assert!(reason("loop").contains("loop"), "{}", reason("loop"));
    assert!(
        reason("dangling.mp3").contains("cannot read"),
        "{}",
        reason("dangling.mp3")
    );
    assert_eq!(report.failed.len(), 8, "{:#?}", report.failed);

    // Unchanged bad files are not read again, but still reported.
    let again = lib.scan();
    assert_eq!(again.failed.len(), 8);
    assert_eq!(again.unchanged, 1);
    // A bad file that changes but stays bad is read again, and still reported on the next scan.
    write_random_bytes(&m.join("bad/random.flac"), 60_000, 9).unwrap();
    let changed = lib.scan();
    assert_eq!(changed.failed.len(), 8, "{:#?}", changed.failed);
    assert_eq!(lib.scan().failed.len(), 8);
    // Fixing a bad file brings it in.
    lib.add("bad/zero.mp3", Format::Mp3, tags("Fixed", "A", "B", 2));
    let fixed = lib.scan();
    assert_eq!(fixed.added, 1);
    assert_eq!(fixed.failed.len(), 7);
}

#[test]
fn unreadable_folders_are_reported_and_their_tracks_kept() {
    let mut lib = Lib::new();
    lib.add("open/a.flac", Format::Flac, tags("A", "X", "Y", 1));
    lib.add("locked/b.flac", Format::Flac, tags("B", "X", "Y", 2));
    lib.scan();
    let locked = lib.music.join("locked");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let privileged = std::fs::read_dir(&locked).is_ok();
    let report = lib.scan();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    if privileged {
        // Running as root: permissions do not stop reads, so there is nothing to observe.
        assert!(report.failed.is_empty());
    } else {
        assert!(
            report
                .failed
                .iter()
                .any(|f| f.path == locked && f.reason.contains("cannot read")),
            "{report:#?}"
        );
        assert_eq!(report.removed, 0);
    }
    assert_eq!(lib.tracks().len(), 2);
}

#[test]
fn hidden_files_and_other_extensions_are_skipped() {
    let mut lib = Lib::new();
    lib.add("a.flac", Format::Flac, tags("A", "X", "Y", 1));
    lib.add(".hidden/b.flac", Format::Flac, tags("B", "X", "Y", 2));
    lib.add(".c.flac", Format::Flac, tags("C", "X", "Y", 3));
    lib.add("UPPER.FLAC", Format::Flac, tags("Upper", "X", "Y", 4));
    let report = lib.scan();
    assert_eq!(report.scanned, 2);
    let titles: Vec<String> = lib.tracks().into_iter().map(|t| t.title).collect();
    assert_eq!(titles, ["A", "Upper"]);
}

#[test]
fn non_utf8_paths_are_kept_exactly() {
    use std::os::unix::ffi::OsStrExt;
    let mut lib = Lib::new();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9 \xff.flac");
    let path = lib.music.join(name);
    skylark_testsupport::write_audio(
        &path,
        Format::Flac,
        &Default::default(),
        &tags("Café", "X", "Y", 1),
    )
    .unwrap();
    let report = lib.scan();
    assert_eq!(report.added, 1, "{report:#?}");
    let t = lib.track("Café");
    assert_eq!(t.path.as_deref(), Some(path.as_path()));
    assert_eq!(
        t.path.unwrap().as_os_str().as_bytes(),
        path.as_os_str().as_bytes()
    );
    assert_eq!(lib.scan().unchanged, 1);
}

#[test]
fn rescan_of_unchanged_files_reads_nothing() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let before = lib.tracks();
    let report = lib.scan_at(100);
    assert_eq!(
        (
            report.unchanged,
            report.added,
            report.updated,
            report.removed
        ),
        (13, 0, 0, 0)
    );
    assert_eq!(lib.tracks(), before, "rows are untouched");
}

#[test]
fn changed_files_update_in_place() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let before = lib.track("Something");
    lib.catalog.record_play(before.id, at(10)).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let path = before.path.clone().unwrap();
    skylark_testsupport::write_tags(
        &path,
        &TagSpec {
            album_artist: Some("The Beatles".to_owned()),
            ..tags("Something (Remastered)", "The Beatles", "Abbey Road", 2)
        },
    )
    .unwrap();
    let report = lib.scan_at(50);
    assert_eq!(
        (report.updated, report.added, report.removed),
        (1, 0, 0),
        "{report:#?}"
    );
    let after = lib.track("Something (Remastered)");
    assert_eq!(after.id, before.id);
    assert_eq!(after.uid, before.uid);
    assert_eq!(after.play_count, 1);
    assert_eq!(after.added, before.added);
    assert!(
        lib.catalog
            .search("remastered", 10)
            .unwrap()
            .tracks
            .iter()
            .any(|t| t.id == before.id)
    );
    assert!(
        lib.catalog
            .search("something", 10)
            .unwrap()
            .tracks
            .iter()
            .all(|t| t.title != "Something")
    );
}

/// Catalogs made before Opus files' R128 gains were read have none for them: the upgrade reads
/// each Opus file again at the next scan (migration 8), keeping its track.
#[test]
fn upgrading_reads_opus_files_again_for_their_r128_gains() {
    let mut lib = Lib::new();
    lib.add(
        "A/1.opus",
        Format::Opus,
        TagSpec {
            r128_gains: Some((-512, -1920)),
            ..tags("Loud", "X", "A", 1)
        },
    );
    lib.add("A/2.flac", Format::Flac, tags("Plain", "X", "A", 2));
    lib.scan();
    let before = lib.track("Loud");
    assert_eq!(before.rg_track_gain, Some(3.0));
    lib.catalog.record_play(before.id, at(10)).unwrap();
    // The catalog as the previous version left it: schema 7, no gains for the Opus file.
    lib.reopen_after(
        "UPDATE tracks SET rg_track_gain = NULL, rg_album_gain = NULL;
         ALTER TABLE tracks DROP COLUMN album_artist_guessed;
         PRAGMA user_version = 7;",
    );
    let report = lib.scan_at(50);
    assert_eq!(changes(&report), (1, 1, 0, 0), "{report:#?}");
    let after = lib.track("Loud");
    assert_eq!((after.id, after.play_count), (before.id, 1));
    assert_eq!(
        (after.rg_track_gain, after.rg_album_gain),
        (Some(3.0), Some(-2.5))
    );
}

/// Catalogs made before iTunes' Sound Check was read have no gain for such files: the upgrade
/// reads them again at the next scan (migration 9), keeping their tracks.
#[test]
fn upgrading_reads_itunes_files_again_for_their_sound_check() {
    let mut lib = Lib::new();
    let sound_check = " 00000A2B 000007D0 00001965 00001388 00024CA8 00024CA8 00006000 00007000 00024CA8 00024CA8";
    for (file, format, title) in [
        ("A/1.mp3", Format::Mp3, "Checked"),
        ("A/2.m4a", Format::M4aAac, "Also checked"),
    ] {
        lib.add(
            file,
            format,
            TagSpec {
                sound_check: Some(sound_check.to_owned()),
                ..tags(title, "X", "A", 1)
            },
        );
    }
    lib.add("A/3.flac", Format::Flac, tags("Plain", "X", "A", 3));
    lib.scan();
    let before = lib.track("Checked");
    assert!((before.rg_track_gain.unwrap() + 4.155).abs() < 0.001);
    lib.catalog.record_play(before.id, at(10)).unwrap();
    // The catalog as the previous version left it: schema 8, no Sound Check read.
    lib.reopen_after(
        "UPDATE tracks SET rg_track_gain = NULL, rg_track_peak = NULL;
         ALTER TABLE tracks DROP COLUMN album_artist_guessed;
         PRAGMA user_version = 8;",
    );
    let report = lib.scan_at(50);
    assert_eq!(changes(&report), (2, 1, 0, 0), "{report:#?}");
    let after = lib.track("Checked");
    assert_eq!((after.id, after.play_count), (before.id, 1));
    for title in ["Checked", "Also checked"] {
        let track = lib.track(title);
        assert!(
            (track.rg_track_gain.unwrap() + 4.155).abs() < 0.001,
            "{title}"
        );
        assert!(
            (track.rg_track_peak.unwrap() - 0.875).abs() < 1e-6,
            "{title}"
        );
    }
}

/// A file that lists its artists apart from the credit (Picard's `ARTISTS`) shows the credit as the
/// track's artist and files the track under each listed artist; catalogs made before read such
/// files again (migration 10), keeping their tracks.
#[test]
fn artist_credits_show_as_tagged_and_upgrades_read_them_again() {
    let mut lib = Lib::new();
    lib.add(
        "A/1.flac",
        Format::Flac,
        TagSpec {
            artist_credit: Some("Daft Punk feat. Pharrell Williams".to_owned()),
            artists: vec!["Daft Punk".to_owned(), "Pharrell Williams".to_owned()],
            ..tags("Get Lucky", "", "Random Access Memories", 8)
        },
    );
    lib.add(
        "A/2.mp3",
        Format::Mp3,
        TagSpec {
            artists: vec!["Daft Punk".to_owned(), "Julian Casablancas".to_owned()],
            ..tags("Instant Crush", "", "Random Access Memories", 5)
        },
    );
    lib.scan();
    let credited = lib.track("Get Lucky");
    assert_eq!(credited.artist, "Daft Punk feat. Pharrell Williams");
    assert_eq!(credited.artists, ["Daft Punk", "Pharrell Williams"]);
    assert_eq!(credited.album_artist, "Daft Punk");
    assert_eq!(
        lib.track("Instant Crush").artist,
        "Daft Punk, Julian Casablancas"
    );
    let names: Vec<String> = lib
        .catalog
        .artists()
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(
        names,
        ["Daft Punk", "Julian Casablancas", "Pharrell Williams"]
    );

    lib.catalog.record_play(credited.id, at(10)).unwrap();
    // The catalog as the previous version left it: schema 9, the listed artists joined.
    lib.reopen_after(
        "UPDATE tracks SET artist = 'Daft Punk, Pharrell Williams', sort_artist = 'daft punk, pharrell williams';
         ALTER TABLE tracks DROP COLUMN album_artist_guessed;
         PRAGMA user_version = 9;",
    );
    let report = lib.scan_at(50);
    assert_eq!(changes(&report), (2, 0, 0, 0), "{report:#?}");
    let after = lib.track("Get Lucky");
    assert_eq!((after.id, after.play_count), (credited.id, 1));
    assert_eq!(after.artist, "Daft Punk feat. Pharrell Williams");
}

#[test]
fn moved_and_renamed_files_keep_their_track() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let something = lib.track("Something");
    let hunter = lib.track("Hunter");
    lib.catalog.record_play(something.id, at(5)).unwrap();
    lib.catalog
        .set_rating(
            something.id,
            Some(skylark_catalog::Rating::from_stars(4).unwrap()),
            at(6),
        )
        .unwrap();
    let list = lib.catalog.create_playlist("Keep", at(1)).unwrap();
    lib.catalog
        .add_to_playlist(list, &[something.id, hunter.id], None, at(1))
        .unwrap();

    // A rename in the same folder and a move to another folder.
    let old = something.path.clone().unwrap();
    let renamed = old.with_file_name("02 - Something (renamed).flac");
    std::fs::rename(&old, &renamed).unwrap();
    let moved_dir = lib.music.join("Elsewhere/Deep");
    std::fs::create_dir_all(&moved_dir).unwrap();
    let moved = moved_dir.join("hunter.opus");
    std::fs::rename(hunter.path.as_ref().unwrap(), &moved).unwrap();

    let report = lib.scan_at(60);
    assert_eq!(
        (report.moved, report.added, report.removed),
        (2, 0, 0),
        "{report:#?}"
    );
    let s = lib.track("Something");
    assert_eq!(
        (s.id, s.play_count, s.rating.map(|r| r.value())),
        (something.id, 1, Some(80))
    );
    assert_eq!(s.path, Some(renamed));
    assert_eq!(lib.track("Hunter").path, Some(moved));
    let items = lib.catalog.playlist_items(list).unwrap();
    assert_eq!(
        items.iter().map(|i| i.track.id).collect::<Vec<_>>(),
        [something.id, hunter.id]
    );
}

#[test]
fn a_copy_with_a_new_time_is_recognised_by_its_tags() {
    let mut lib = Lib::new();
    let a = lib.add("a/x.flac", Format::Flac, tags("X", "Y", "Z", 1));
    lib.scan();
    let id = lib.track("X").id;
    let b = lib.music.join("b/x.flac");
    std::fs::create_dir_all(b.parent().unwrap()).unwrap();
    std::fs::copy(&a, &b).unwrap(); // copy gets a new modification time
    std::fs::remove_file(&a).unwrap();
    let report = lib.scan();
    assert_eq!(report.moved, 1, "{report:#?}");
    assert_eq!(lib.track("X").id, id);
}

#[test]
fn deleted_files_leave_the_catalog() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let pluto = lib.track("Pluto");
    let list = lib.catalog.create_playlist("P", at(1)).unwrap();
    lib.catalog
        .add_to_playlist(list, &[pluto.id], None, at(1))
        .unwrap();
    std::fs::remove_file(pluto.path.unwrap()).unwrap();
    std::fs::remove_dir_all(lib.music.join("Compilations")).unwrap();
    let report = lib.scan();
    assert_eq!(report.removed, 3, "{report:#?}");
    assert_eq!(lib.tracks().len(), 10);
    assert!(lib.catalog.playlist_items(list).unwrap().is_empty());
    let albums: Vec<String> = lib
        .catalog
        .albums()
        .unwrap()
        .into_iter()
        .map(|a| a.title)
        .collect();
    assert!(
        !albums.contains(&"Lost in Translation".to_owned()),
        "empty albums go too"
    );
    assert!(
        lib.catalog
            .search("squarepusher", 5)
            .unwrap()
            .artists
            .is_empty(),
        "and their artists"
    );
}

#[test]
fn an_unreachable_root_keeps_its_tracks_as_missing() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let unplugged = lib.dir.path().join("unplugged");
    std::fs::rename(&lib.music, &unplugged).unwrap();
    let report = lib
        .catalog
        .scan(&[], &ScanOptions::at(at(5)), &|_| {})
        .unwrap();
    assert_eq!(report.missing_roots, [lib.music.clone()]);
    assert_eq!(report.removed, 0);
    let tracks = lib.tracks();
    assert_eq!(tracks.len(), 13);
    assert!(
        tracks
            .iter()
            .all(|t| t.availability == Availability::Missing)
    );
    assert!(!lib.catalog.roots().unwrap()[0].reachable);
    assert_eq!(lib.catalog.stats().unwrap().missing, 13);
    // Scanning the root by name while it is away is not an error either.
    let named = lib.scan();
    assert_eq!(named.missing_roots.len(), 1);

    std::fs::rename(&unplugged, &lib.music).unwrap();
    let back = lib
        .catalog
        .scan(&[], &ScanOptions::at(at(6)), &|_| {})
        .unwrap();
    assert_eq!(back.unchanged, 13);
    assert!(
        lib.tracks()
            .iter()
            .all(|t| t.availability == Availability::Local)
    );
}

#[test]
fn scanning_a_subfolder_uses_its_root() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    std::fs::remove_file(lib.music.join("Sigur Rós/Takk/04 Með blóðnasir.wav")).unwrap();
    let sub = lib.music.join("Sigur Rós");
    let report = lib
        .catalog
        .scan(&[sub], &ScanOptions::at(at(3)), &|_| {})
        .unwrap();
    assert_eq!(
        (report.scanned, report.unchanged, report.removed),
        (1, 1, 1),
        "{report:#?}"
    );
    assert_eq!(lib.catalog.roots().unwrap().len(), 1);
    assert_eq!(lib.tracks().len(), 12, "files outside the subfolder stay");
}

#[test]
fn a_new_root_around_old_ones_absorbs_them() {
    let mut lib = Lib::new();
    standard(&lib);
    let inner = lib.music.join("Björk");
    lib.catalog
        .scan(&[inner], &ScanOptions::at(at(1)), &|_| {})
        .unwrap();
    let joga = lib.track("Jóga").id;
    lib.scan();
    assert_eq!(lib.catalog.roots().unwrap().len(), 1);
    assert_eq!(lib.track("Jóga").id, joga);
    assert_eq!(lib.tracks().len(), 13);
}

/// A first import writes what it has read while the walk is still finding files, so a large
/// library on a slow disk fills in from the start instead of after a long silent walk.
#[test]
fn a_first_import_writes_while_the_walk_goes_on() {
    let mut lib = Lib::new();
    let first = lib.add(
        "Album/000.wav",
        Format::Wav,
        tags("Song", "Artist", "Album", 1),
    );
    for i in 1..200 {
        std::fs::copy(&first, lib.music.join(format!("Album/{i:03}.wav"))).unwrap();
    }
    let data = lib.dir.path().join("data");
    let observer =
        Mutex::new(Catalog::open(&data.join("catalog.db"), &data.join("covers")).unwrap());
    let written_during_walk = AtomicBool::new(false);
    let music = lib.music.clone();
    let report = lib
        .catalog
        .scan(&[music], &ScanOptions::at(at(0)), &|p| {
            if p.walk_done || p.discovered < 128 || written_during_walk.load(Ordering::SeqCst) {
                return;
            }
            // Hold the walk here (this runs on its thread) until tracks are in the catalog.
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if observer.lock().unwrap().track_count().unwrap() > 0 {
                    written_during_walk.store(true, Ordering::SeqCst);
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
        .unwrap();
    assert_eq!((report.scanned, report.added), (200, 200), "{report:#?}");
    assert!(written_during_walk.load(Ordering::SeqCst));
    assert_eq!(lib.tracks().len(), 200);
}

/// A scan's writes reach the database file while the catalog is open (checkpointed from its
/// write-ahead log on the scan's own thread), not only when the last connection closes.
#[test]
fn a_scan_checkpoints_what_it_writes() {
    let mut lib = Lib::new();
    standard(&lib);
    let db = lib.dir.path().join("data/catalog.db");
    let before = std::fs::metadata(&db).unwrap().len();
    lib.scan();
    let after = std::fs::metadata(&db).unwrap().len();
    assert!(after > before, "the database file stayed at {before} bytes");
    assert_eq!(lib.tracks().len(), 13);
}

#[test]
fn progress_is_reported() {
    let mut lib = Lib::new();
    standard(&lib);
    write_zero_byte(&lib.music.join("zero.mp3")).unwrap();
    let seen: Mutex<Vec<ScanProgress>> = Mutex::new(Vec::new());
    let music = lib.music.clone();
    lib.catalog
        .scan(&[music], &ScanOptions::at(at(0)), &|p| {
            seen.lock().unwrap().push(p.clone())
        })
        .unwrap();
    let seen = seen.into_inner().unwrap();
    let last = seen.last().unwrap();
    assert_eq!((last.discovered, last.processed, last.failed), (14, 14, 1));
    assert!(
        seen.iter().any(|p| p.walk_done && p.processed < 14),
        "progress arrives during the scan"
    );
    assert!(seen.iter().any(|p| p.current.is_some()));
    assert!(seen.windows(2).all(|w| w[0].processed <= w[1].processed));
}

#[test]
fn a_cancelled_scan_removes_nothing_and_resumes() {
    let mut lib = Lib::new();
    standard(&lib);
    let options = ScanOptions::at(at(0));
    options
        .cancel
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let music = lib.music.clone();
    let report = lib
        .catalog
        .scan(std::slice::from_ref(&music), &options, &|_| {})
        .unwrap();
    assert!(report.cancelled);
    assert_eq!(report.added, 0);
    let report = lib.scan();
    assert_eq!(report.added, 13);
}

#[test]
fn scanning_a_missing_folder_is_an_error() {
    let mut lib = Lib::new();
    let err = lib
        .catalog
        .scan(
            &[PathBuf::from("/definitely/not/here")],
            &ScanOptions::at(at(0)),
            &|_| {},
        )
        .unwrap_err();
    assert!(err.to_string().contains("/definitely/not/here"), "{err}");
    let file = lib.add("x.flac", Format::Flac, TagSpec::default());
    let err = lib
        .catalog
        .scan(&[file], &ScanOptions::at(at(0)), &|_| {})
        .unwrap_err();
    assert!(err.to_string().contains("not a folder"), "{err}");
}

#[test]
fn removing_a_root_forgets_its_tracks_but_not_the_files() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let root = lib.catalog.roots().unwrap()[0].id;
    lib.catalog.remove_root(root).unwrap();
    assert!(lib.tracks().is_empty());
    assert!(lib.catalog.albums().unwrap().is_empty());
    assert!(
        lib.music
            .join("The Beatles/Abbey Road/02 Something.flac")
            .exists()
    );
}

#[test]
fn tracks_known_only_by_metadata_show_as_missing_and_are_searchable() {
    let mut lib = Lib::new();
    let info = skylark_tags::FileInfo {
        tags: skylark_tags::Tags {
            title: Some("Svefn-g-englar".to_owned()),
            artists: vec!["Sigur Rós".to_owned()],
            album: Some("Ágætis byrjun".to_owned()),
            ..Default::default()
        },
        properties: skylark_tags::AudioProperties {
            duration: Duration::from_secs(604),
            sample_rate: Some(44_100),
            channels: Some(2),
            bit_depth: None,
            bitrate_kbps: Some(256),
            codec: skylark_tags::Codec::Aac,
        },
        cover: None,
    };
    let ids = lib.catalog.import_metadata(&[info], at(0)).unwrap();
    let t = lib.catalog.track(ids[0]).unwrap();
    assert_eq!(
        (t.title.as_str(), t.album_artist.as_str()),
        ("Svefn-g-englar", "Sigur Rós")
    );
    assert_eq!(t.availability, Availability::Missing);
    assert_eq!(t.path, None);
    assert_eq!(lib.catalog.search("agaetis", 5).unwrap().albums.len(), 1);
}

/// Writes `albums` albums of ten tracks under `folder`: names with diacritics, tracks by two
/// artists, compilations, several genres, alternating MP3 and FLAC. Albums are numbered from
/// `first`, so that folders written separately hold different albums.
fn write_varied_albums(lib: &Lib, folder: &str, first: usize, albums: usize) {
    const ARTISTS: [&str; 6] = [
        "Björk",
        "Sigur Rós",
        "The Beatles",
        "Mötley Crüe",
        "Ólafur Arnalds",
        "Beyoncé",
    ];
    const ALBUMS: [&str; 5] = [
        "Homogenic",
        "Ágætis byrjun",
        "Abbey Road",
        "Dr. Feelgood",
        "Re:member",
    ];
    const TITLES: [&str; 5] = ["Jóga", "Hoppípolla", "Straße", "Æon", "One More Time"];
    const GENRES: [&str; 4] = ["Rock", "Electronic", "Art Pop", "Jazz"];
    for a in first..first + albums {
        let artist = ARTISTS[a % ARTISTS.len()];
        let album = format!("{} {a}", ALBUMS[a % ALBUMS.len()]);
        let compilation = a % 4 == 3;
        let format = if a % 2 == 0 {
            Format::Flac
        } else {
            Format::Mp3
        };
        for t in 1..=10u32 {
            let title = format!("{} {a}-{t}", TITLES[t as usize % TITLES.len()]);
            let mut artists = vec![ARTISTS[(a + t as usize) % ARTISTS.len()].to_owned()];
            if t % 3 == 0 {
                artists.push(artist.to_owned());
            }
            let spec = TagSpec {
                album_artist: (!compilation).then(|| artist.to_owned()),
                compilation,
                disc: Some((1 + t / 6, Some(2))),
                date: Some(format!("{}", 1970 + a)),
                genres: GENRES[..1 + (a + t as usize) % 2]
                    .iter()
                    .map(|g| (*g).to_owned())
                    .collect(),
                artists,
                ..tags(&title, "", &album, t)
            };
            let ext = if format == Format::Flac {
                "flac"
            } else {
                "mp3"
            };
            lib.add(
                &format!("{folder}/{album}/{t:02} {title}.{ext}"),
                format,
                spec,
            );
        }
    }
}

/// The schema version SQLite keeps in the database file: every index dropped or created moves
/// it on, so it tells a bulk load (which drops and creates the indexes) from batches.
fn schema_version(db: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("PRAGMA schema_version", [], |r| r.get(0))
        .unwrap()
}

/// A row as a user sees it: its JSON form without the row ids, which depend on the order in
/// which rows were written.
fn without_ids(row: &impl serde::Serialize) -> String {
    let mut value = serde_json::to_value(row).unwrap();
    for key in ["id", "uid", "album_id", "album_artist_id"] {
        value.as_object_mut().unwrap().remove(key);
    }
    value.to_string()
}

fn sorted(rows: &[impl serde::Serialize]) -> Vec<String> {
    let mut keys: Vec<String> = rows.iter().map(without_ids).collect();
    keys.sort();
    keys
}

/// A first scan of hundreds of files is a bulk load: the secondary indexes are dropped, the rows
/// written, the indexes built again. Everything a user can see — search, browsing in every
/// order — must come out exactly as from the same files imported batch by batch, and the
/// catalog must end with every index and a consistent full-text index.
#[test]
fn a_bulk_import_searches_and_browses_like_an_incremental_one() {
    let mut lib = Lib::new();
    let music = lib.music.clone();
    let incremental_db = lib.dir.path().join("incremental/catalog.db");
    let mut incremental =
        Catalog::open(&incremental_db, &lib.dir.path().join("incremental/covers")).unwrap();
    // 270 files in three parts: each part is too small for a bulk load, the whole is not.
    for part in 0..3 {
        write_varied_albums(&lib, &format!("part{part}"), part * 9, 9);
        let before = schema_version(&incremental_db);
        let report = incremental
            .scan(
                std::slice::from_ref(&music),
                &ScanOptions::at(at(0)),
                &|_| {},
            )
            .unwrap();
        assert_eq!((report.added, report.failed.len()), (90, 0));
        assert_eq!(
            schema_version(&incremental_db),
            before,
            "part {part} in batches"
        );
    }

    let bulk_db = lib.dir.path().join("data/catalog.db");
    let before = schema_version(&bulk_db);
    let report = lib.scan();
    assert_eq!((report.added, report.failed.len()), (270, 0));
    assert!(
        schema_version(&bulk_db) > before,
        "the first scan was a bulk load"
    );

    // The same indexes, as the migrations made them, and nothing inconsistent.
    let schema = |db: &std::path::Path| -> Vec<(String, String, Option<String>)> {
        let conn = rusqlite::Connection::open(db).unwrap();
        let mut stmt = conn
            .prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY type, name")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    assert_eq!(schema(&bulk_db), schema(&incremental_db));
    {
        let conn = rusqlite::Connection::open(&bulk_db).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let dangling: i64 = conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(dangling, 0);
        for fts in ["tracks_fts", "albums_fts", "artists_fts"] {
            conn.execute(
                &format!("INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 0)"),
                [],
            )
            .unwrap();
        }
    }

    // Search finds the same artists, albums and tracks for every word and prefix of the names.
    let mut queries: Vec<String> = vec!["sig ro".into(), "the b".into(), "bjork".into()];
    for t in lib.tracks() {
        for word in [t.title, t.artist, t.album, t.album_artist, t.genre]
            .iter()
            .flat_map(|s| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .filter(|w| w.chars().any(char::is_alphabetic))
        {
            let chars: Vec<char> = word.chars().collect();
            for n in [1, 2, chars.len()] {
                queries.push(chars[..n.min(chars.len())].iter().collect());
            }
        }
    }
    queries.sort();
    queries.dedup();
    let mut matched = 0;
    for q in &queries {
        let bulk = lib.catalog.search(q, 1000).unwrap();
        let batches = incremental.search(q, 1000).unwrap();
        assert_eq!(
            sorted(&bulk.artists),
            sorted(&batches.artists),
            "artists for {q:?}"
        );
        assert_eq!(
            sorted(&bulk.albums),
            sorted(&batches.albums),
            "albums for {q:?}"
        );
        assert_eq!(
            sorted(&bulk.tracks),
            sorted(&batches.tracks),
            "tracks for {q:?}"
        );
        matched += bulk.tracks.len();
    }
    assert!(matched > 1000, "the queries find tracks: {matched}");
    assert_eq!(
        lib.catalog.search("hoppipolla", 1000).unwrap().tracks.len(),
        54
    );

    // Browsing: the same lists, and the track list in the same order for every sort.
    let bulk_albums = lib.catalog.albums().unwrap();
    assert_eq!(bulk_albums.len(), 27);
    assert_eq!(sorted(&bulk_albums), sorted(&incremental.albums().unwrap()));
    assert_eq!(
        sorted(&lib.catalog.artists().unwrap()),
        sorted(&incremental.artists().unwrap())
    );
    assert_eq!(
        sorted(&lib.catalog.album_artists().unwrap()),
        sorted(&incremental.album_artists().unwrap())
    );
    assert_eq!(
        sorted(&lib.catalog.genres().unwrap()),
        sorted(&incremental.genres().unwrap())
    );
    for sort in TrackSort::ALL {
        for descending in [false, true] {
            let query = TrackQuery {
                sort,
                descending,
                after: None,
                limit: 10_000,
                playable_offline: false,
            };
            let keys = |catalog: &Catalog| -> Vec<String> {
                catalog
                    .tracks(&query)
                    .unwrap()
                    .tracks
                    .iter()
                    .map(without_ids)
                    .collect()
            };
            let (bulk, batches) = (keys(&lib.catalog), keys(&incremental));
            assert_eq!(bulk.len(), 270);
            // Rows that tie on every sort key are ordered by id, which differs between the
            // catalogs; the sorts by name have no such ties here.
            if matches!(
                sort,
                TrackSort::Title | TrackSort::Artist | TrackSort::Album | TrackSort::AlbumArtist
            ) {
                assert_eq!(bulk, batches, "{sort:?}, descending {descending}");
            } else {
                let (mut bulk, mut batches) = (bulk, batches);
                bulk.sort();
                batches.sort();
                assert_eq!(bulk, batches, "{sort:?}, descending {descending}");
            }
        }
    }

    // A rescan after the bulk load reads nothing and changes no schema.
    let before = schema_version(&bulk_db);
    let report = lib.scan();
    assert_eq!((report.unchanged, report.added), (270, 0));
    assert_eq!(schema_version(&bulk_db), before);
}

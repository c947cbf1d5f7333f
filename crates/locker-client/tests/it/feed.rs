//! Two devices and a real locker: what one uploads the other lists and streams, the same music on
//! both is one row and goes up once, and playlist edits made offline on both converge.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use skylark_catalog::{Availability, Catalog, ScanOptions, Track};
use skylark_locker::config::Config;
use skylark_locker_client::api::MatchVerdict;
use skylark_locker_client::{Client, LocalFile, StreamOptions};
use skylark_testsupport::{Format, TagSpec, Tone, cover_jpeg, write_audio};

use crate::{Locker, read_all, upload};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

const TITLES: [&str; 3] = ["Aurora", "Borealis", "Corona"];

/// A device: a catalog, and the music folder it scans (empty for a device with no music).
struct Device {
    _dir: tempfile::TempDir,
    music: PathBuf,
    catalog: Catalog,
}

impl Device {
    fn new(with_music: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let music = dir.path().join("Music");
        std::fs::create_dir_all(&music).unwrap();
        if with_music {
            for (n, title) in TITLES.iter().enumerate() {
                let tone = Tone {
                    seconds: 0.5,
                    frequency: 300.0 + 100.0 * n as f64,
                    ..Tone::default()
                };
                let tags = TagSpec {
                    title: Some((*title).to_owned()),
                    artists: vec!["Skyward".to_owned()],
                    album: Some("Night Sky".to_owned()),
                    track: Some((u32::try_from(n).unwrap() + 1, Some(3))),
                    cover: Some(cover_jpeg(120, 120, [30, 60, 200])),
                    ..TagSpec::default()
                };
                write_audio(
                    &music.join(format!("{title}.flac")),
                    Format::Flac,
                    &tone,
                    &tags,
                )
                .unwrap();
            }
        }
        let mut catalog =
            Catalog::open(&dir.path().join("catalog.db"), &dir.path().join("covers")).unwrap();
        catalog
            .scan(
                std::slice::from_ref(&music),
                &ScanOptions::at(at(0)),
                &|_| {},
            )
            .unwrap();
        Device {
            _dir: dir,
            music,
            catalog,
        }
    }

    fn tracks(&self) -> Vec<Track> {
        crate::all_tracks(&self.catalog)
    }

    fn track(&self, title: &str) -> Track {
        let mut found: Vec<Track> = self
            .tracks()
            .into_iter()
            .filter(|t| t.title == title)
            .collect();
        assert_eq!(found.len(), 1, "{found:#?}");
        found.remove(0)
    }

    /// Scan and match: hashes every file here, records the audio ids, asks the locker, uploads
    /// what it lacks and records each track's locker copy. Returns (have, uploaded).
    fn scan_and_match(&mut self, client: &Client) -> (usize, usize) {
        let tracks = self.tracks();
        let files: Vec<LocalFile> = tracks
            .iter()
            .map(|t| LocalFile::hash(t.path.as_deref().unwrap()).unwrap())
            .collect();
        for (track, file) in tracks.iter().zip(&files) {
            let audio_id = file.audio_id.unwrap().to_hex().to_string();
            self.catalog.set_audio_id(track.id, &audio_id).unwrap();
        }
        let verdicts = client.match_files(&files).unwrap();
        let (mut have, mut uploaded) = (0, 0);
        for ((track, file), verdict) in tracks.iter().zip(&files).zip(verdicts) {
            match verdict {
                MatchVerdict::Have => have += 1,
                MatchVerdict::Upload => {
                    upload(client, file);
                    uploaded += 1;
                }
                other => panic!("{other:?}"),
            }
            let blob = file.file_hash.to_hex().to_string();
            self.catalog.set_in_locker(track.id, &blob, at(5)).unwrap();
        }
        (have, uploaded)
    }

    fn playlist_titles(&self, name: &str) -> Vec<String> {
        let list = self.catalog.playlist_by_name(name).unwrap().unwrap();
        self.catalog
            .playlist_items(list.id)
            .unwrap()
            .into_iter()
            .map(|item| item.track.title)
            .collect()
    }
}

fn file_bytes(music: &Path, title: &str) -> Vec<u8> {
    std::fs::read(music.join(format!("{title}.flac"))).unwrap()
}

#[test]
fn what_one_device_uploads_another_lists_streams_and_joins() {
    let locker = Locker::start(Config::default());
    let mut laptop = Device::new(true);
    assert_eq!(laptop.scan_and_match(&locker.alice()), (0, 3));
    let pushed = locker.alice().sync(&mut laptop.catalog).unwrap().pushed;
    assert_eq!(pushed.pushed, 3);
    assert!(
        laptop
            .tracks()
            .iter()
            .all(|t| t.availability == Availability::Both)
    );

    // A device with no music sees the laptop's uploads, tags and all, and streams them.
    let mut desktop = Device::new(false);
    let report = locker.alice().sync(&mut desktop.catalog).unwrap();
    assert_eq!(report.pulled.applied.tracks_added, 3, "{report:?}");
    // The album's cover came along: one picture, fetched once, given to every track.
    assert_eq!(report.covers, 1, "{report:?}");
    assert!(desktop.tracks().iter().all(|t| t.has_cover));
    let cover = desktop.track("Aurora").cover_hash.unwrap();
    assert_eq!(Some(cover.clone()), laptop.track("Aurora").cover_hash);
    assert!(
        desktop
            .catalog
            .covers()
            .path(&cover, skylark_catalog::CoverSize::Small, "image/jpeg")
            .exists()
    );
    let borealis = desktop.track("Borealis");
    assert_eq!(borealis.availability, Availability::Locker);
    assert_eq!(borealis.artist, "Skyward");
    assert_eq!(borealis.album, "Night Sky");
    assert_eq!(borealis.track_no, Some(2));
    assert_eq!(borealis.uid, laptop.track("Borealis").uid);
    let stream = locker
        .alice()
        .open_track(&borealis.uid, StreamOptions::default())
        .unwrap();
    assert_eq!(
        read_all(stream).unwrap(),
        file_bytes(&laptop.music, "Borealis")
    );
    // Nothing new: one request, nothing pushed.
    let again = locker.alice().sync(&mut desktop.catalog).unwrap();
    assert_eq!(again.pushed.pushed, 0);
    assert_eq!(again.pulled.requests, 1);
    assert_eq!(again.pulled.applied.ops, 0);

    // A third device with the same music uploads nothing, and its rows and the locker's are
    // one.
    let mut studio = Device::new(true);
    assert_eq!(studio.scan_and_match(&locker.alice()), (3, 0));
    let report = locker.alice().sync(&mut studio.catalog).unwrap();
    assert_eq!(report.pulled.applied.tracks_joined, 3, "{report:?}");
    let tracks = studio.tracks();
    assert_eq!(tracks.len(), 3);
    assert!(tracks.iter().all(|t| t.availability == Availability::Both));
    // Another user sees none of it.
    let mut stranger = Device::new(false);
    locker.bob().sync(&mut stranger.catalog).unwrap();
    assert!(stranger.tracks().is_empty());
}

#[test]
fn playlist_edits_made_offline_on_two_devices_converge_through_the_locker() {
    let locker = Locker::start(Config::default());
    let mut laptop = Device::new(true);
    laptop.scan_and_match(&locker.alice());
    let [a, b, c] = TITLES.map(|t| laptop.track(t).id);
    let list = laptop
        .catalog
        .create_playlist("Night drive", at(10))
        .unwrap();
    laptop
        .catalog
        .add_to_playlist(list, &[a, b, c], None, at(11))
        .unwrap();
    locker.alice().sync(&mut laptop.catalog).unwrap();
    let mut desktop = Device::new(false);
    locker.alice().sync(&mut desktop.catalog).unwrap();
    assert_eq!(
        desktop.playlist_titles("Night drive"),
        ["Aurora", "Borealis", "Corona"]
    );

    // Both offline: the laptop moves Corona to the top and adds Aurora again at the end; the
    // desktop removes Borealis and renames the playlist.
    let items = laptop.catalog.playlist_items(list).unwrap();
    laptop
        .catalog
        .move_playlist_item(list, items[2].id, 0, at(20))
        .unwrap();
    laptop
        .catalog
        .add_to_playlist(list, &[a], None, at(21))
        .unwrap();
    let on_desktop = desktop
        .catalog
        .playlist_by_name("Night drive")
        .unwrap()
        .unwrap()
        .id;
    let desktop_items = desktop.catalog.playlist_items(on_desktop).unwrap();
    desktop
        .catalog
        .remove_from_playlist(on_desktop, &[desktop_items[1].id], at(22))
        .unwrap();
    desktop
        .catalog
        .rename_playlist(on_desktop, "Night Drive", at(23))
        .unwrap();

    // Back online, in any order.
    locker.alice().sync(&mut desktop.catalog).unwrap();
    locker.alice().sync(&mut laptop.catalog).unwrap();
    locker.alice().sync(&mut desktop.catalog).unwrap();
    let expected = ["Corona", "Aurora", "Aurora"];
    assert_eq!(laptop.playlist_titles("Night Drive"), expected);
    assert_eq!(desktop.playlist_titles("Night Drive"), expected);
}

#[test]
fn an_imported_history_reaches_other_devices_and_so_does_its_undo() {
    let locker = Locker::start(Config::default());
    let mut laptop = Device::new(true);
    laptop.scan_and_match(&locker.alice());
    locker.alice().sync(&mut laptop.catalog).unwrap();
    let mut desktop = Device::new(false);
    locker.alice().sync(&mut desktop.catalog).unwrap();

    // The laptop imports a playlist another player exported, and that player's history.
    let m3u = laptop.music.join("Evening.m3u8");
    std::fs::write(&m3u, "#EXTM3U\nCorona.flac\nAurora.flac\n").unwrap();
    let plan = laptop.catalog.plan_m3u_import(&[m3u], &[]).unwrap();
    laptop.catalog.apply_import(plan, at(10)).unwrap();
    let borealis = laptop.track("Borealis");
    let record = serde_json::json!({
        "path": borealis.path.as_deref().unwrap().to_str().unwrap(),
        "audio_id": null, "title": "Borealis", "artist": "Skyward", "album": "Night Sky",
        "duration_ms": 500, "rating": 80, "play_count": 7,
        "last_played": 1_600_000_000_000_i64, "added": 1_500_000_000_000_i64, "loved": true,
    });
    let stats = laptop.music.join("../stats.jsonl");
    std::fs::write(&stats, format!("{record}\n")).unwrap();
    let plan = laptop.catalog.plan_stats_import(&stats, &[]).unwrap();
    let applied = laptop.catalog.apply_import(plan, at(20)).unwrap();
    assert_eq!(applied.changes.play_counts, 1, "{applied:?}");
    // A play here after the import counts beside the imported ones, on every device.
    laptop.catalog.record_play(borealis.id, at(30)).unwrap();
    locker.alice().sync(&mut laptop.catalog).unwrap();

    locker.alice().sync(&mut desktop.catalog).unwrap();
    assert_eq!(desktop.playlist_titles("Evening"), ["Corona", "Aurora"]);
    let there = desktop.track("Borealis");
    assert_eq!(
        (
            there.play_count,
            there.rating.map(|r| r.value()),
            there.loved
        ),
        (8, Some(80), true)
    );
    assert_eq!(
        there.last_played,
        Some(UNIX_EPOCH + Duration::from_secs(1_700_000_030))
    );

    // Undoing the history import on the laptop takes it back everywhere; the play made since
    // stays counted.
    laptop.catalog.undo_import(None, at(40)).unwrap();
    // And undoing the playlist import deletes the playlist everywhere.
    laptop.catalog.undo_import(None, at(50)).unwrap();
    locker.alice().sync(&mut laptop.catalog).unwrap();
    locker.alice().sync(&mut desktop.catalog).unwrap();
    let there = desktop.track("Borealis");
    assert_eq!(
        (
            there.play_count,
            there.rating.map(|r| r.value()),
            there.loved
        ),
        (1, None, false)
    );
    assert!(
        desktop
            .catalog
            .playlist_by_name("Evening")
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_song_streamed_whole_is_kept_offline_and_one_cut_short_leaves_nothing() {
    use skylark_locker_client::StreamedCopies;
    use std::io::Read;

    let locker = Locker::start(Config::default());
    let mut laptop = Device::new(true);
    // A song longer than the stream's read-ahead (4 MiB), so that skipping it leaves it short.
    let long = Tone {
        seconds: 30.0,
        ..Tone::default()
    };
    let tags = TagSpec {
        title: Some("Long".to_owned()),
        ..TagSpec::default()
    };
    write_audio(&laptop.music.join("Long.wav"), Format::Wav, &long, &tags).unwrap();
    let music = laptop.music.clone();
    laptop
        .catalog
        .scan(
            std::slice::from_ref(&music),
            &ScanOptions::at(at(1)),
            &|_| {},
        )
        .unwrap();
    laptop.scan_and_match(&locker.alice());
    locker.alice().sync(&mut laptop.catalog).unwrap();
    let mut desktop = Device::new(false);
    locker.alice().sync(&mut desktop.catalog).unwrap();
    let client = locker.alice();
    let mut streamed = StreamedCopies::default();
    let offline = desktop.catalog.offline_dir();
    let open = |streamed: &mut StreamedCopies, desktop: &Device, title: &str| {
        let track = desktop.track(title).id;
        let blob = desktop.catalog.locker_blob(track).unwrap().unwrap();
        streamed
            .open(&client, &desktop.catalog, track, &blob)
            .unwrap()
    };

    // Aurora plays to its end: it is kept, with the locker's bytes.
    let mut whole = open(&mut streamed, &desktop, "Aurora");
    assert_eq!(
        read_all(&mut whole).unwrap(),
        file_bytes(&laptop.music, "Aurora")
    );
    drop(whole);
    assert_eq!(streamed.settle(&mut desktop.catalog, u64::MAX).unwrap(), 1);
    let aurora = desktop.track("Aurora");
    assert_eq!(aurora.availability, Availability::Downloaded);
    let copy = desktop.catalog.offline_copy(aurora.id).unwrap().unwrap();
    assert_eq!(
        std::fs::read(offline.join(&copy.file)).unwrap(),
        file_bytes(&laptop.music, "Aurora")
    );

    // Long is skipped after its first bytes; Corona is queued but never reached.
    let mut skipped = open(&mut streamed, &desktop, "Long");
    let mut head = [0u8; 4];
    skipped.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"RIFF");
    let never = open(&mut streamed, &desktop, "Corona");
    assert_eq!(streamed.pending(), 2);
    drop(skipped);
    drop(never);
    // Dropped short, they leave nothing: no copy, no part file.
    assert_eq!(streamed.settle(&mut desktop.catalog, u64::MAX).unwrap(), 0);
    assert_eq!(streamed.pending(), 0);
    assert_eq!(desktop.track("Long").availability, Availability::Locker);
    assert_eq!(desktop.track("Corona").availability, Availability::Locker);
    let left: Vec<String> = std::fs::read_dir(&offline)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, [copy.file], "{left:?}");
}

#[test]
fn files_hashed_in_the_background_are_not_hashed_again_by_the_upload() {
    use std::cell::Cell;

    use skylark_locker_client::{LibraryProgress, LibraryUpload, hash_in_background};

    let locker = Locker::start(Config::default());
    let mut laptop = Device::new(true);
    // Stopped after the first file: it is kept, the rest wait.
    let checks = Cell::new(0);
    let rests = Cell::new(0);
    let stop = || {
        checks.set(checks.get() + 1);
        checks.get() > 1
    };
    let first =
        hash_in_background(&mut laptop.catalog, &stop, &|_| rests.set(rests.get() + 1)).unwrap();
    assert_eq!((first.hashed, first.left), (1, 2), "{first:?}");
    assert_eq!(rests.get(), 1, "it rests after each file");
    let rest = hash_in_background(&mut laptop.catalog, &|| false, &|_| {}).unwrap();
    assert_eq!((rest.hashed, rest.left), (2, 0), "{rest:?}");
    assert!(
        laptop
            .catalog
            .tracks_to_match()
            .unwrap()
            .iter()
            .all(|c| c.file_hash.is_some() && c.audio_id.is_some())
    );
    // Nothing more to hash, and the upload hashes nothing: it only asks and sends.
    let again = hash_in_background(&mut laptop.catalog, &|| false, &|_| {}).unwrap();
    assert_eq!(again.hashed, 0);
    let mut hashing_total = None;
    let report = locker
        .alice()
        .upload_library(&mut laptop.catalog, &LibraryUpload::default(), &mut |p| {
            if let LibraryProgress::Hashing { total, .. } = p {
                hashing_total = Some(total);
            }
        })
        .unwrap();
    assert_eq!(report.uploaded, 3, "{report:?}");
    assert_eq!(hashing_total.unwrap_or(0), 0);
}

#[test]
fn a_song_taken_out_of_the_locker_leaves_every_device_and_comes_back_when_uploaded_again() {
    let locker = Locker::start(Config::default());
    let mut laptop = Device::new(true);
    laptop.scan_and_match(&locker.alice());
    locker.alice().sync(&mut laptop.catalog).unwrap();
    let mut desktop = Device::new(false);
    locker.alice().sync(&mut desktop.catalog).unwrap();
    // The desktop keeps Borealis offline.
    let borealis = desktop.track("Borealis");
    let blob = desktop.catalog.locker_blob(borealis.id).unwrap().unwrap();
    let offline = desktop.catalog.offline_dir();
    std::fs::create_dir_all(&offline).unwrap();
    let copy = format!("{blob}.flac");
    std::fs::write(offline.join(&copy), file_bytes(&laptop.music, "Borealis")).unwrap();
    desktop
        .catalog
        .record_offline_copy(borealis.id, &copy, 1, &blob, at(10))
        .unwrap();

    // The laptop takes Borealis out of the locker: it keeps its file, as a local song.
    let on_laptop = laptop.track("Borealis").id;
    assert!(
        laptop
            .catalog
            .remove_from_locker(on_laptop, at(20))
            .unwrap()
    );
    assert_eq!(laptop.track("Borealis").availability, Availability::Local);
    locker.alice().sync(&mut laptop.catalog).unwrap();

    // The desktop, which only had it from the locker, loses it and its offline copy.
    let report = locker.alice().sync(&mut desktop.catalog).unwrap();
    assert_eq!(report.pulled.applied.tracks_removed, 1, "{report:?}");
    let titles: Vec<String> = desktop.tracks().into_iter().map(|t| t.title).collect();
    assert_eq!(titles, ["Aurora", "Corona"]);
    assert!(!offline.join(&copy).exists());
    // A device that syncs from scratch never shows it.
    let mut fresh = Device::new(false);
    locker.alice().sync(&mut fresh.catalog).unwrap();
    assert_eq!(fresh.tracks().len(), 2);
    // Nor does the locker's own library (the web player, Subsonic apps).
    let stream = locker
        .alice()
        .open_track(&laptop.track("Borealis").uid, StreamOptions::default());
    assert!(stream.is_err(), "a removed track still streams");

    // Uploaded again, it is back everywhere.
    let (_, uploaded_or_had) = laptop.scan_and_match(&locker.alice());
    assert!(uploaded_or_had <= 1);
    assert_eq!(laptop.track("Borealis").availability, Availability::Both);
    locker.alice().sync(&mut laptop.catalog).unwrap();
    locker.alice().sync(&mut desktop.catalog).unwrap();
    assert_eq!(desktop.track("Borealis").availability, Availability::Locker);
}

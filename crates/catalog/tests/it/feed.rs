//! Applying the change feed: two catalogs ("laptop" and "desktop") trade ops through a relay that
//! keeps them in one log the way the locker does (each op once, in the order pushed, read from a
//! cursor), and must end up alike. The real locker does the same in the locker client's tests.

use std::collections::HashSet;

use skylark_catalog::feed::RemoteOp;
use skylark_catalog::{Availability, FeedReport, PlaylistId, Rating, Track};
use skylark_testsupport::Format;

use crate::library::{Lib, at, tags};

/// The locker's change feed, in memory: every op once, in the order pushed.
#[derive(Default)]
pub struct Relay {
    log: Vec<RemoteOp>,
    seen: HashSet<String>,
}

impl Relay {
    /// Pushes `lib`'s outbox, then applies the feed from its cursor on, as a sync does.
    pub fn sync(&mut self, lib: &mut Lib) -> FeedReport {
        let ops = lib.catalog.pending_ops(100_000).unwrap();
        for op in &ops {
            if self.seen.insert(op.id.clone()) {
                self.log.push(RemoteOp {
                    id: op.id.clone(),
                    hlc: op.hlc.clone(),
                    change: op.change.clone(),
                });
            }
        }
        if let Some(last) = ops.last() {
            lib.catalog.ops_pushed(last.seq).unwrap();
        }
        let cursor = usize::try_from(lib.catalog.feed_cursor().unwrap()).unwrap();
        lib.catalog
            .apply_feed(&self.log[cursor..], self.log.len() as i64, at(5_000))
            .unwrap()
    }
}

/// A blob name for `title`'s file: 64 hex digits, as the locker names blobs (the relay checks
/// nothing about it).
pub fn blob(title: &str) -> String {
    let hex: String = title.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{hex:0<64}")
}

/// The audio id a scan-and-match pass would compute for `title`'s file.
fn audio_id(title: &str) -> String {
    format!("audio:{title}")
}

pub const TITLES: [&str; 4] = ["Aurora", "Borealis", "Corona", "Dusk"];

/// A device with the four test songs on disk, their audio ids known.
pub fn device_with_music() -> Lib {
    let mut lib = Lib::new();
    for (n, title) in TITLES.iter().enumerate() {
        lib.add(
            &format!("Skyward/Night Sky/0{} {title}.flac", n + 1),
            Format::Flac,
            tags(title, "Skyward", "Night Sky", u32::try_from(n).unwrap() + 1),
        );
    }
    lib.scan();
    for title in TITLES {
        let id = lib.track(title).id;
        lib.catalog.set_audio_id(id, &audio_id(title)).unwrap();
    }
    lib
}

/// Uploads every track of `lib` (as far as the catalog is concerned: it records the blob).
pub fn upload_all(lib: &mut Lib) {
    for title in TITLES {
        let id = lib.track(title).id;
        lib.catalog.set_in_locker(id, &blob(title), at(10)).unwrap();
    }
}

/// A laptop that uploaded the four songs and a device with no music that has synced them, both
/// through `relay`.
pub fn uploaded_and_synced(relay: &mut Relay) -> (Lib, Lib) {
    let mut laptop = device_with_music();
    upload_all(&mut laptop);
    relay.sync(&mut laptop);
    let mut desktop = Lib::new();
    relay.sync(&mut desktop);
    (laptop, desktop)
}

fn playlist_titles(lib: &Lib, name: &str) -> Vec<String> {
    let list = lib
        .catalog
        .playlist_by_name(name)
        .unwrap()
        .unwrap_or_else(|| panic!("no playlist {name:?}"));
    lib.catalog
        .playlist_items(list.id)
        .unwrap()
        .into_iter()
        .map(|item| item.track.title)
        .collect()
}

fn playlist_id(lib: &Lib, name: &str) -> PlaylistId {
    lib.catalog.playlist_by_name(name).unwrap().unwrap().id
}

/// Two devices: a laptop that uploaded the four songs and made playlist `name` of `titles`, and
/// a desktop with no music that has pulled it all. Returns them with the playlist's id on each.
fn sharing_a_playlist(
    relay: &mut Relay,
    name: &str,
    titles: &[&str],
) -> (Lib, Lib, PlaylistId, PlaylistId) {
    let mut laptop = device_with_music();
    upload_all(&mut laptop);
    let tracks: Vec<_> = titles.iter().map(|t| laptop.track(t).id).collect();
    let list = laptop.catalog.create_playlist(name, at(11)).unwrap();
    laptop
        .catalog
        .add_to_playlist(list, &tracks, None, at(12))
        .unwrap();
    relay.sync(&mut laptop);
    let mut desktop = Lib::new();
    relay.sync(&mut desktop);
    let on_desktop = playlist_id(&desktop, name);
    (laptop, desktop, list, on_desktop)
}

/// Brings both devices up to date: the laptop, the desktop, then the laptop again.
fn settle(relay: &mut Relay, laptop: &mut Lib, desktop: &mut Lib) {
    relay.sync(laptop);
    relay.sync(desktop);
    relay.sync(laptop);
}

#[test]
fn a_device_sees_another_devices_uploads_as_locker_tracks() {
    let mut relay = Relay::default();
    let mut laptop = device_with_music();
    upload_all(&mut laptop);
    relay.sync(&mut laptop);
    assert!(
        laptop
            .tracks()
            .iter()
            .all(|t| t.availability == Availability::Both)
    );

    let mut desktop = Lib::new();
    let report = relay.sync(&mut desktop);
    assert_eq!(report.tracks_added, 4, "{report:?}");
    let tracks = desktop.tracks();
    assert_eq!(
        tracks.iter().map(|t| t.title.as_str()).collect::<Vec<_>>(),
        TITLES
    );
    let aurora = desktop.track("Aurora");
    assert_eq!(aurora.availability, Availability::Locker);
    assert_eq!(aurora.artist, "Skyward");
    assert_eq!(aurora.album, "Night Sky");
    assert_eq!(aurora.track_no, Some(1));
    assert_eq!(aurora.codec, "flac");
    assert!(aurora.duration.as_millis() > 0);
    assert_eq!(aurora.path, None);
    assert_eq!(
        aurora.uid,
        laptop.track("Aurora").uid,
        "one uid on every device"
    );
    assert_eq!(
        desktop.catalog.locker_blob(aurora.id).unwrap(),
        Some(blob("Aurora"))
    );
    // Browsing and search know them.
    let found = desktop.catalog.search("borea", 10).unwrap();
    assert_eq!(found.tracks.len(), 1);
    assert_eq!(
        desktop.catalog.search("night sk", 10).unwrap().albums.len(),
        1
    );
    assert_eq!(desktop.catalog.search("skyw", 10).unwrap().artists.len(), 1);

    // A second pull with nothing new changes nothing.
    let again = relay.sync(&mut desktop);
    assert_eq!(again, FeedReport::default());
    assert_eq!(desktop.tracks().len(), 4);
}

#[test]
fn the_same_recording_on_both_devices_is_one_row() {
    let mut relay = Relay::default();
    let mut laptop = device_with_music();
    upload_all(&mut laptop);
    relay.sync(&mut laptop);

    // The desktop has the same songs, and has matched them already: the locker's copies join
    // its rows as they arrive.
    let mut desktop = device_with_music();
    let report = relay.sync(&mut desktop);
    assert_eq!(report.tracks_joined, 4, "{report:?}");
    assert_eq!(report.tracks_added, 0);
    let tracks = desktop.tracks();
    assert_eq!(tracks.len(), 4);
    assert!(tracks.iter().all(|t| t.availability == Availability::Both));

    // Another desktop pulls first and matches afterwards: the rows join then.
    let mut late = Lib::new();
    for (n, title) in TITLES.iter().enumerate() {
        late.add(
            &format!("Skyward/Night Sky/0{} {title}.flac", n + 1),
            Format::Flac,
            tags(title, "Skyward", "Night Sky", u32::try_from(n).unwrap() + 1),
        );
    }
    late.scan();
    relay.sync(&mut late);
    assert_eq!(
        late.tracks().len(),
        8,
        "not matched yet: disk and locker apart"
    );
    let locker_copy = late
        .tracks()
        .into_iter()
        .find(|t| t.title == "Aurora" && t.availability == Availability::Locker)
        .unwrap();
    late.catalog.record_play(locker_copy.id, at(20)).unwrap();
    let on_disk: Vec<Track> = late
        .tracks()
        .into_iter()
        .filter(|t| t.availability == Availability::Local)
        .collect();
    for track in &on_disk {
        let joined = late
            .catalog
            .set_audio_id(track.id, &audio_id(&track.title))
            .unwrap();
        assert!(joined, "{} did not join its locker copy", track.title);
    }
    let tracks = late.tracks();
    assert_eq!(tracks.len(), 4);
    assert!(tracks.iter().all(|t| t.availability == Availability::Both));
    let aurora = late.track("Aurora");
    assert_eq!(aurora.play_count, 1, "the locker copy's play moved over");
    // Ops naming the laptop's uid find the joined row.
    assert_eq!(
        late.catalog
            .track_id_by_uid(&laptop.track("Aurora").uid)
            .unwrap(),
        Some(aurora.id)
    );
}

#[test]
fn playlist_edits_made_offline_on_both_devices_converge() {
    let mut relay = Relay::default();
    let (mut laptop, mut desktop, list, desktop_list) =
        sharing_a_playlist(&mut relay, "Night drive", &TITLES[..3]);
    let d = laptop.track("Dusk").id;
    assert_eq!(
        playlist_titles(&desktop, "Night drive"),
        ["Aurora", "Borealis", "Corona"]
    );

    // Offline, both edit the same playlist.
    let items = laptop.catalog.playlist_items(list).unwrap();
    laptop
        .catalog
        .move_playlist_item(list, items[2].id, 0, at(20))
        .unwrap();
    laptop
        .catalog
        .add_to_playlist(list, &[d], Some(1), at(21))
        .unwrap();
    let desktop_items = desktop.catalog.playlist_items(desktop_list).unwrap();
    let dd = desktop.track("Dusk").id;
    desktop
        .catalog
        .remove_from_playlist(desktop_list, &[desktop_items[1].id], at(22))
        .unwrap();
    desktop
        .catalog
        .add_to_playlist(desktop_list, &[dd], Some(1), at(23))
        .unwrap();
    desktop
        .catalog
        .rename_playlist(desktop_list, "Night Drive 2", at(24))
        .unwrap();
    settle(&mut relay, &mut laptop, &mut desktop);

    let on_laptop = playlist_titles(&laptop, "Night Drive 2");
    let on_desktop = playlist_titles(&desktop, "Night Drive 2");
    assert_eq!(on_laptop, on_desktop);
    // Corona moved to the front, Borealis removed, and both Dusks kept: the laptop's after
    // Corona, where it put it, and the desktop's after Aurora, where the desktop put it.
    assert_eq!(on_laptop, ["Corona", "Dusk", "Aurora", "Dusk"]);
    assert!(
        laptop
            .catalog
            .playlist_by_name("Night drive")
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_deletion_wins_over_an_older_rename_and_loses_to_a_newer_one() {
    // The desktop renames at 20, the laptop deletes at 30: deleted everywhere.
    let mut relay = Relay::default();
    let (mut laptop, mut desktop, list, on_desktop) =
        sharing_a_playlist(&mut relay, "Mix", &["Aurora"]);
    desktop
        .catalog
        .rename_playlist(on_desktop, "Old mix", at(20))
        .unwrap();
    laptop.catalog.delete_playlist(list, at(30)).unwrap();
    settle(&mut relay, &mut laptop, &mut desktop);
    assert!(laptop.catalog.playlists().unwrap().is_empty());
    assert!(desktop.catalog.playlists().unwrap().is_empty());

    // A rename made later than the deletion (by a device that had not seen it) brings the
    // playlist back, entries and all.
    let mut relay = Relay::default();
    let (mut laptop, mut desktop, list, on_desktop) =
        sharing_a_playlist(&mut relay, "Mix", &["Aurora"]);
    laptop.catalog.delete_playlist(list, at(20)).unwrap();
    desktop
        .catalog
        .rename_playlist(on_desktop, "Still here", at(30))
        .unwrap();
    settle(&mut relay, &mut laptop, &mut desktop);
    assert_eq!(playlist_titles(&laptop, "Still here"), ["Aurora"]);
    assert_eq!(playlist_titles(&desktop, "Still here"), ["Aurora"]);
}

#[test]
fn ratings_take_the_last_writer_and_plays_add_up() {
    let mut relay = Relay::default();
    let (mut laptop, mut desktop, _, _) = sharing_a_playlist(&mut relay, "Any", &[]);
    let on_laptop = laptop.track("Aurora").id;
    let on_desktop = desktop.track("Aurora").id;

    // The desktop's rating is the later one, though the laptop pushes last.
    desktop
        .catalog
        .set_rating(on_desktop, Some(Rating::from_stars(5).unwrap()), at(40))
        .unwrap();
    laptop
        .catalog
        .set_rating(on_laptop, Some(Rating::from_stars(2).unwrap()), at(30))
        .unwrap();
    laptop.catalog.set_loved(on_laptop, true, at(31)).unwrap();
    laptop.catalog.record_play(on_laptop, at(32)).unwrap();
    laptop.catalog.record_play(on_laptop, at(33)).unwrap();
    desktop.catalog.record_play(on_desktop, at(34)).unwrap();
    relay.sync(&mut desktop);
    settle(&mut relay, &mut laptop, &mut desktop);
    // Pulling again counts nothing twice.
    relay.sync(&mut desktop);

    for lib in [&laptop, &desktop] {
        let aurora = lib.track("Aurora");
        assert_eq!(aurora.rating, Some(Rating::from_stars(5).unwrap()));
        assert!(aurora.loved);
        assert_eq!(aurora.play_count, 3, "every play once");
        assert_eq!(
            aurora.last_played,
            Some(at(34)),
            "the latest play of either device"
        );
    }
}

#[test]
fn an_entry_and_plays_of_a_track_not_yet_uploaded_arrive_with_it() {
    let mut relay = Relay::default();
    let mut laptop = device_with_music();
    // Only three of the four are in the locker.
    for title in &TITLES[..3] {
        let id = laptop.track(title).id;
        laptop
            .catalog
            .set_in_locker(id, &blob(title), at(10))
            .unwrap();
    }
    let [a, b, _, d] = TITLES.map(|t| laptop.track(t).id);
    let list = laptop.catalog.create_playlist("Later", at(11)).unwrap();
    laptop
        .catalog
        .add_to_playlist(list, &[a, d, b], None, at(12))
        .unwrap();
    laptop.catalog.record_play(d, at(13)).unwrap();
    relay.sync(&mut laptop);
    let mut desktop = Lib::new();
    relay.sync(&mut desktop);
    assert_eq!(
        playlist_titles(&desktop, "Later"),
        ["Aurora", "Borealis"],
        "Dusk is on the laptop's disk only"
    );

    laptop
        .catalog
        .set_in_locker(d, &blob("Dusk"), at(14))
        .unwrap();
    relay.sync(&mut laptop);
    let report = relay.sync(&mut desktop);
    assert_eq!(report.tracks_added, 1);
    assert_eq!(
        playlist_titles(&desktop, "Later"),
        ["Aurora", "Dusk", "Borealis"]
    );
    let dusk = desktop.track("Dusk");
    assert_eq!(dusk.play_count, 1);
    assert_eq!(dusk.availability, Availability::Locker);
}

#[test]
fn a_track_in_the_locker_stays_when_its_file_is_deleted() {
    let mut relay = Relay::default();
    let mut laptop = device_with_music();
    upload_all(&mut laptop);
    relay.sync(&mut laptop);
    let path = laptop.track("Corona").path.unwrap();
    std::fs::remove_file(path).unwrap();
    laptop.scan_at(50);
    let corona = laptop.track("Corona");
    assert_eq!(corona.availability, Availability::Locker);
    assert_eq!(corona.path, None);
    assert_eq!(laptop.tracks().len(), 4);
}

#[test]
fn entries_added_at_the_same_place_on_two_devices_keep_one_order() {
    let mut relay = Relay::default();
    let (mut laptop, mut desktop, list, on_desktop) =
        sharing_a_playlist(&mut relay, "Same", &["Aurora"]);

    // Both append after Aurora: the same order key on both sides.
    let b = laptop.track("Borealis").id;
    laptop
        .catalog
        .add_to_playlist(list, &[b], None, at(20))
        .unwrap();
    let c = desktop.track("Corona").id;
    desktop
        .catalog
        .add_to_playlist(on_desktop, &[c], None, at(20))
        .unwrap();
    settle(&mut relay, &mut laptop, &mut desktop);
    let order = playlist_titles(&laptop, "Same");
    assert_eq!(order.len(), 3);
    assert_eq!(order[0], "Aurora");
    assert_eq!(order, playlist_titles(&desktop, "Same"));

    // And an entry placed between the two lands between them on both.
    let items = laptop.catalog.playlist_items(list).unwrap();
    let d = laptop.track("Dusk").id;
    laptop
        .catalog
        .add_to_playlist(list, &[d], Some(2), at(30))
        .unwrap();
    relay.sync(&mut laptop);
    relay.sync(&mut desktop);
    let expected = [
        items[0].track.title.clone(),
        items[1].track.title.clone(),
        "Dusk".to_owned(),
        items[2].track.title.clone(),
    ];
    assert_eq!(playlist_titles(&laptop, "Same"), expected);
    assert_eq!(playlist_titles(&desktop, "Same"), expected);
}

#[test]
fn hashes_are_kept_until_the_file_changes() {
    let mut lib = Lib::new();
    let path = lib.add(
        "Skyward/Night Sky/01 Aurora.flac",
        Format::Flac,
        tags("Aurora", "Skyward", "Night Sky", 1),
    );
    lib.scan();
    let candidates = lib.catalog.tracks_to_match().unwrap();
    assert_eq!(candidates.len(), 1);
    assert_eq!(candidates[0].path, path);
    assert_eq!(candidates[0].file_hash, None, "never hashed");
    let file_hash = blob("Aurora file");
    lib.catalog
        .record_hashes(&path, &file_hash, Some(&audio_id("Aurora")))
        .unwrap();
    let kept = &lib.catalog.tracks_to_match().unwrap()[0];
    assert_eq!(kept.file_hash.as_deref(), Some(file_hash.as_str()));
    assert_eq!(kept.audio_id.as_deref(), Some(audio_id("Aurora").as_str()));
    // An unchanged file keeps them through a rescan; a changed one loses them.
    lib.scan_at(10);
    assert!(
        lib.catalog.tracks_to_match().unwrap()[0]
            .file_hash
            .is_some()
    );
    lib.add(
        "Skyward/Night Sky/01 Aurora.flac",
        Format::Flac,
        tags("Aurora (remaster)", "Skyward", "Night Sky", 1),
    );
    lib.scan_at(20);
    let changed = &lib.catalog.tracks_to_match().unwrap()[0];
    assert_eq!(changed.file_hash, None);
    assert_eq!(changed.audio_id, None);
    // Once in the locker, a track is no longer a candidate.
    let track = lib.track("Aurora (remaster)").id;
    lib.catalog
        .set_in_locker(track, &blob("Aurora"), at(30))
        .unwrap();
    assert!(lib.catalog.tracks_to_match().unwrap().is_empty());
}

#[test]
fn the_upload_queue_keeps_each_uploads_state_until_it_is_published() {
    let mut lib = device_with_music();
    let [a, b] = ["Aurora", "Borealis"].map(|t| lib.track(t).id);
    lib.catalog
        .queue_upload(a, "{\"offset\":0}", 1000, at(1))
        .unwrap();
    lib.catalog
        .queue_upload(b, "{\"offset\":0}", 2000, at(2))
        .unwrap();
    lib.catalog.save_upload(a, "{\"offset\":512}", 512).unwrap();
    // Queued again (a second matching run): the state and progress stand.
    lib.catalog
        .queue_upload(a, "{\"offset\":0}", 1000, at(3))
        .unwrap();
    lib.catalog.fail_upload(b, "the locker is full").unwrap();
    let queue = lib.catalog.upload_queue().unwrap();
    assert_eq!(queue.len(), 2);
    assert_eq!((queue[0].track, queue[0].sent), (a, 512));
    assert_eq!(queue[0].state, "{\"offset\":512}");
    assert_eq!(queue[1].error.as_deref(), Some("the locker is full"));

    // Finishing takes it off the queue and publishes it, together.
    lib.catalog
        .finish_upload(a, &blob("Aurora"), at(4))
        .unwrap();
    assert_eq!(lib.track("Aurora").availability, Availability::Both);
    assert_eq!(lib.catalog.upload_queue().unwrap().len(), 1);
    let published = lib.catalog.pending_ops(100).unwrap();
    assert!(published.iter().any(|op| matches!(
        &op.change,
        skylark_catalog::sync::SyncChange::TrackSet { blob: Some(b), .. } if *b == blob("Aurora")
    )));
    // A bad blob name changes nothing: the upload stays queued.
    assert!(lib.catalog.finish_upload(b, "not a hash", at(5)).is_err());
    assert_eq!(lib.catalog.upload_queue().unwrap().len(), 1);
    assert!(lib.catalog.cancel_upload(b).unwrap());
    assert!(lib.catalog.upload_queue().unwrap().is_empty());
}

/// Lyrics in an LRC file beside a song travel with the track when it is published (the locker's
/// copy has no folder), and another device reads them for its locker-only track. An LRC file with
/// no lines, or none at all, publishes nothing.
#[test]
fn lyrics_beside_a_song_travel_with_it() {
    let mut relay = Relay::default();
    let mut laptop = device_with_music();
    let lrc = "[ar:Skyward]\n[00:01.00]Northern lights\n[00:03.50]over the ice\n";
    std::fs::write(laptop.music.join("Skyward/Night Sky/01 Aurora.lrc"), lrc).unwrap();
    std::fs::write(
        laptop.music.join("Skyward/Night Sky/02 Borealis.LRC"),
        "\n\n",
    )
    .unwrap();
    upload_all(&mut laptop);
    let published = laptop.catalog.pending_ops(100).unwrap();
    let lyrics_of = |title: &str| {
        published.iter().find_map(|op| match &op.change {
            skylark_catalog::sync::SyncChange::TrackSet {
                blob: Some(b),
                fields,
                ..
            } if *b == blob(title) => Some(fields.get("lyrics").cloned()),
            _ => None,
        })
    };
    assert_eq!(lyrics_of("Aurora"), Some(Some(serde_json::json!(lrc))));
    assert_eq!(lyrics_of("Borealis"), Some(None));
    assert_eq!(lyrics_of("Corona"), Some(None));

    relay.sync(&mut laptop);
    let mut desktop = Lib::new();
    relay.sync(&mut desktop);
    let aurora = desktop.track("Aurora");
    assert_eq!(aurora.availability, Availability::Locker);
    assert_eq!(
        desktop
            .catalog
            .published_lyrics(aurora.id)
            .unwrap()
            .as_deref(),
        Some(lrc)
    );
    let corona = desktop.track("Corona").id;
    assert_eq!(desktop.catalog.published_lyrics(corona).unwrap(), None);
}

/// A file retagged after its upload: the rescan publishes what changed of the track (and no
/// blob: the locker keeps its copy), and another device shows it. A rescan that finds nothing
/// new, or only a moved file, publishes nothing.
#[test]
fn retagged_files_are_published_again() {
    let mut relay = Relay::default();
    let (mut laptop, mut desktop) = uploaded_and_synced(&mut relay);
    assert_eq!(desktop.track("Aurora").album, "Night Sky");

    laptop.add(
        "Skyward/Night Sky/01 Aurora.flac",
        Format::Flac,
        tags("Aurora", "Skyward", "Night Sky (Deluxe)", 1),
    );
    let report = laptop.scan_at(60);
    assert_eq!(report.updated, 1, "{report:#?}");
    let ops = laptop.catalog.pending_ops(100).unwrap();
    assert_eq!(ops.len(), 1, "{ops:#?}");
    let skylark_catalog::sync::SyncChange::TrackSet { blob, fields, .. } = &ops[0].change else {
        panic!("{ops:#?}")
    };
    assert_eq!(*blob, None);
    assert_eq!(
        fields.keys().collect::<Vec<_>>(),
        ["album"],
        "only what changed: {fields:#?}"
    );
    relay.sync(&mut laptop);
    relay.sync(&mut desktop);
    let aurora = desktop.track("Aurora");
    assert_eq!(aurora.album, "Night Sky (Deluxe)");
    assert_eq!(aurora.availability, Availability::Locker);

    laptop.scan_at(70);
    let dusk = laptop.music.join("Skyward/Night Sky/04 Dusk.flac");
    std::fs::rename(&dusk, dusk.with_file_name("04 Dusk (moved).flac")).unwrap();
    let report = laptop.scan_at(80);
    assert_eq!(report.moved, 1, "{report:#?}");
    assert_eq!(laptop.catalog.pending_op_count().unwrap(), 0);
}

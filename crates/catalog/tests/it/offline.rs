//! Offline copies: what is pinned gets listed for download, copies count as playable with no
//! network, and the cache cap evicts unpinned copies least recently played first, never pinned
//! ones.

use skylark_catalog::{Availability, PinTarget, TrackQuery, TrackSort};

use crate::feed::{Relay, TITLES, blob, uploaded_and_synced};
use crate::library::{Lib, at};

/// A device with no music that has synced the four songs from the locker.
fn desktop() -> Lib {
    uploaded_and_synced(&mut Relay::default()).1
}

/// Writes a copy of `title` into the offline folder and records it.
fn download(lib: &mut Lib, title: &str, size: usize, when: u64) {
    let track = lib.track(title).id;
    let dir = lib.dir.path().join("offline");
    std::fs::create_dir_all(&dir).unwrap();
    let file = format!("{}.flac", blob(title));
    std::fs::write(dir.join(&file), vec![0u8; size]).unwrap();
    lib.catalog
        .record_offline_copy(track, &file, size as u64, &blob(title), at(when))
        .unwrap();
}

fn playable_offline(lib: &Lib) -> Vec<String> {
    let query = TrackQuery {
        sort: TrackSort::Title,
        playable_offline: true,
        ..TrackQuery::default()
    };
    lib.catalog
        .tracks(&query)
        .unwrap()
        .tracks
        .into_iter()
        .map(|t| t.title)
        .collect()
}

#[test]
fn pinned_albums_and_playlists_are_listed_for_download() {
    let mut lib = desktop();
    assert!(lib.catalog.downloads_wanted().unwrap().is_empty());
    let aurora = lib.track("Aurora");
    lib.catalog
        .pin(PinTarget::Album(aurora.album_id), at(1))
        .unwrap();
    assert!(
        lib.catalog
            .is_pinned(PinTarget::Album(aurora.album_id))
            .unwrap()
    );
    assert!(!lib.catalog.is_pinned(PinTarget::Track(aurora.id)).unwrap());
    let wanted = lib.catalog.downloads_wanted().unwrap();
    assert_eq!(wanted.len(), 4, "the whole album");
    assert_eq!(wanted[0], (aurora.id, blob("Aurora")));

    // Downloaded, a track is playable offline and no longer wanted.
    download(&mut lib, "Aurora", 1000, 2);
    assert_eq!(lib.track("Aurora").availability, Availability::Downloaded);
    assert_eq!(lib.catalog.downloads_wanted().unwrap().len(), 3);
    assert_eq!(playable_offline(&lib), ["Aurora"]);
    assert!(lib.catalog.offline_copy(aurora.id).unwrap().unwrap().pinned);

    // A playlist pin covers what is added to it later.
    assert!(
        lib.catalog
            .unpin(PinTarget::Album(aurora.album_id))
            .unwrap()
    );
    assert!(
        !lib.catalog
            .is_pinned(PinTarget::Album(aurora.album_id))
            .unwrap()
    );
    assert!(lib.catalog.downloads_wanted().unwrap().is_empty());
    let list = lib.catalog.create_playlist("Car", at(3)).unwrap();
    lib.catalog.pin(PinTarget::Playlist(list), at(4)).unwrap();
    let dusk = lib.track("Dusk").id;
    lib.catalog
        .add_to_playlist(list, &[dusk], None, at(5))
        .unwrap();
    assert_eq!(
        lib.catalog.downloads_wanted().unwrap(),
        [(dusk, blob("Dusk"))]
    );
    // Deleting the playlist drops its pin.
    lib.catalog.delete_playlist(list, at(6)).unwrap();
    assert!(lib.catalog.downloads_wanted().unwrap().is_empty());
}

#[test]
fn the_cache_cap_evicts_unpinned_copies_least_recently_played_first() {
    let mut lib = desktop();
    for (n, title) in TITLES.iter().enumerate() {
        download(&mut lib, title, 1000, 10 + n as u64);
    }
    // Corona is pinned; Aurora, the oldest download, was played last.
    let corona = lib.track("Corona").id;
    lib.catalog.pin(PinTarget::Track(corona), at(20)).unwrap();
    let aurora = lib.track("Aurora").id;
    lib.catalog.record_play(aurora, at(30)).unwrap();

    let dir = lib.dir.path().join("offline");
    let report = lib.catalog.evict_offline(&dir, 2000).unwrap();
    assert_eq!(
        (report.removed, report.freed_bytes, report.kept_bytes),
        (2, 2000, 2000)
    );
    // Borealis and Dusk went: the least recently played of the unpinned.
    let kept: Vec<(String, Availability)> = lib
        .tracks()
        .into_iter()
        .map(|t| (t.title, t.availability))
        .collect();
    assert_eq!(
        kept,
        [
            ("Aurora".to_owned(), Availability::Downloaded),
            ("Borealis".to_owned(), Availability::Locker),
            ("Corona".to_owned(), Availability::Downloaded),
            ("Dusk".to_owned(), Availability::Locker),
        ]
    );
    assert!(!dir.join(format!("{}.flac", blob("Borealis"))).exists());
    assert!(dir.join(format!("{}.flac", blob("Aurora"))).exists());

    // However small the cap, a pinned copy stays.
    let report = lib.catalog.evict_offline(&dir, 0).unwrap();
    assert_eq!((report.removed, report.kept_bytes), (1, 1000));
    assert_eq!(playable_offline(&lib), ["Corona"]);
}

#[test]
fn an_offline_copy_must_be_a_plain_file_name() {
    let mut lib = desktop();
    let track = lib.track("Aurora").id;
    for bad in ["../escape.flac", "a/b.flac", "", ".hidden"] {
        assert!(
            lib.catalog
                .record_offline_copy(track, bad, 1, &blob("Aurora"), at(1))
                .is_err(),
            "{bad:?}"
        );
    }
}

#[test]
fn a_song_only_in_the_locker_is_read_from_its_offline_copy() {
    let mut lib = desktop();
    let [first, second, ..] = TITLES;
    assert_eq!(lib.catalog.file_here(lib.track(first).id).unwrap(), None);
    download(&mut lib, first, 10, 1);
    assert_eq!(
        lib.catalog.file_here(lib.track(first).id).unwrap(),
        Some(
            lib.catalog
                .offline_dir()
                .join(format!("{}.flac", blob(first)))
        )
    );
    assert_eq!(lib.catalog.file_here(lib.track(second).id).unwrap(), None);
}

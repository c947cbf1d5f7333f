//! A catalog's outbox pushed to a real locker: what one device edits, another pulls.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use skylark_catalog::{Catalog, Rating, ScanOptions, TrackSort};
use skylark_locker::config::Config;
use skylark_locker_client::api::ops::Change;

use crate::{Locker, wav};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

#[test]
fn the_outbox_reaches_another_device_once() {
    let locker = Locker::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("Music");
    std::fs::create_dir_all(&music).unwrap();
    wav(&music, "song", 0.5, 440.0);
    let mut catalog =
        Catalog::open(&dir.path().join("catalog.db"), &dir.path().join("covers")).unwrap();
    catalog
        .scan(&[music], &ScanOptions::at(at(0)), &|_| {})
        .unwrap();
    let ids = catalog.track_ids(TrackSort::Title, false).unwrap();
    assert_eq!(ids.len(), 1);
    let track = catalog.track(ids[0]).unwrap();
    let list = catalog.create_playlist("Road trip", at(1)).unwrap();
    catalog
        .add_to_playlist(list, &[track.id], None, at(2))
        .unwrap();
    catalog
        .set_rating(track.id, Some(Rating::from_stars(5).unwrap()), at(3))
        .unwrap();
    catalog.rename_playlist(list, "Trip", at(4)).unwrap();

    let laptop = locker.alice();
    let report = laptop.push_outbox(&mut catalog).unwrap();
    assert_eq!((report.pushed, report.applied), (4, 4));
    assert_eq!(catalog.pending_op_count().unwrap(), 0);
    // Nothing left: a second push sends nothing.
    assert_eq!(laptop.push_outbox(&mut catalog).unwrap().pushed, 0);

    // The desktop pulls the laptop's edits, named as the laptop's catalog names them.
    let page = locker.alice().pull_changes(0, 100).unwrap();
    let playlist = catalog.playlist(list).unwrap().uid;
    let changes: Vec<Change> = page.changes.into_iter().map(|e| e.op.change).collect();
    assert_eq!(changes.len(), 4, "{changes:?}");
    assert_eq!(
        changes[0],
        Change::PlaylistSet {
            playlist: playlist.clone(),
            name: "Road trip".to_owned()
        }
    );
    assert!(matches!(
        &changes[1],
        Change::PlaylistItemSet { playlist: p, track: t, .. } if *p == playlist && *t == track.uid
    ));
    assert_eq!(
        changes[2],
        Change::Rating {
            track: track.uid.clone(),
            rating: 100
        }
    );
    assert_eq!(
        changes[3],
        Change::PlaylistSet {
            playlist,
            name: "Trip".to_owned()
        }
    );
}

#[test]
fn a_failed_push_keeps_the_outbox_and_a_retry_applies_each_op_once() {
    let locker = Locker::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let mut catalog =
        Catalog::open(&dir.path().join("catalog.db"), &dir.path().join("covers")).unwrap();
    catalog.create_playlist("One", at(1)).unwrap();
    catalog.create_playlist("Two", at(2)).unwrap();

    // The locker refuses a signed-out client: nothing leaves the outbox.
    let signed_out = locker.alice();
    signed_out.sign_out().unwrap();
    assert!(signed_out.push_outbox(&mut catalog).is_err());
    assert_eq!(catalog.pending_op_count().unwrap(), 2);

    // The push went through but its answer was lost: the ops are still in the outbox, and
    // pushing them again applies nothing twice.
    let laptop = locker.alice();
    let ops = catalog.pending_ops(10).unwrap();
    let wire: Vec<_> = ops
        .iter()
        .map(|op| serde_json::from_value(serde_json::to_value(op).unwrap()).unwrap())
        .collect();
    laptop.push_ops(&wire).unwrap();
    let report = laptop.push_outbox(&mut catalog).unwrap();
    assert_eq!((report.pushed, report.applied), (2, 0));
    assert_eq!(
        locker.alice().pull_changes(0, 100).unwrap().changes.len(),
        2
    );
}

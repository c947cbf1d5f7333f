//! Pushing ops and pulling the change feed.

use std::collections::BTreeMap;

use skylark_locker::config::Config;
use skylark_locker_client::api::ops::{Change, Hlc, Op};
use skylark_locker_client::{LocalFile, StreamOptions};

use crate::{Locker, read_all, wav};

fn op(id: &str, wall_ms: i64, change: Change) -> Op {
    Op {
        id: id.to_owned(),
        hlc: Hlc {
            wall_ms,
            counter: 0,
            device: "laptop".to_owned(),
        },
        change,
    }
}

#[test]
fn ops_round_trip_through_the_change_feed() {
    let locker = Locker::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let path = wav(dir.path(), "song", 1.0, 440.0);
    let file = LocalFile::hash(&path).unwrap();
    let laptop = locker.alice();
    crate::upload(&laptop, &file);

    let mut fields = BTreeMap::new();
    fields.insert("title".to_owned(), serde_json::json!("Hoppípolla"));
    fields.insert(
        "audio_id".to_owned(),
        serde_json::json!(file.audio_id.unwrap().to_hex()),
    );
    let ops = vec![
        op(
            "op-1",
            1_000,
            Change::TrackSet {
                track: "t1".to_owned(),
                blob: Some(file.file_hash.to_hex()),
                fields,
            },
        ),
        op(
            "op-2",
            1_001,
            Change::PlaylistSet {
                playlist: "p1".to_owned(),
                name: "Road trip".to_owned(),
            },
        ),
        op(
            "op-3",
            1_002,
            Change::PlaylistItemSet {
                playlist: "p1".to_owned(),
                item: "i1".to_owned(),
                track: "t1".to_owned(),
                order_key: "a0".to_owned(),
            },
        ),
        op(
            "op-4",
            1_003,
            Change::Play {
                track: "t1".to_owned(),
                at: 1_003,
            },
        ),
    ];
    let results = laptop.push_ops(&ops).unwrap();
    assert_eq!(results.len(), 4);
    assert!(results.iter().all(|r| r.applied));
    // A replay (the push answer was lost) applies nothing again.
    let again = laptop.push_ops(&ops).unwrap();
    assert!(again.iter().all(|r| !r.applied));
    assert_eq!(
        again.iter().map(|r| r.seq).collect::<Vec<_>>(),
        results.iter().map(|r| r.seq).collect::<Vec<_>>()
    );

    // Another device pulls the feed in pages and gets the ops, in order.
    let desktop = locker.alice();
    let mut pulled = Vec::new();
    let mut since = 0;
    loop {
        let page = desktop.pull_changes(since, 3).unwrap();
        pulled.extend(page.changes);
        since = page.next;
        if !page.more {
            break;
        }
    }
    assert_eq!(pulled.iter().map(|e| e.op.clone()).collect::<Vec<_>>(), ops);
    assert_eq!(desktop.pull_changes(since, 100).unwrap().changes, []);

    // The desktop plays the track it has never had on disk.
    let stream = desktop.open_track("t1", StreamOptions::default()).unwrap();
    assert_eq!(stream.extension(), Some("wav"));
    assert_eq!(read_all(stream).unwrap(), std::fs::read(&path).unwrap());

    // Bob sees none of it.
    let bob = locker.bob();
    assert_eq!(bob.pull_changes(0, 100).unwrap().changes, []);
    let err = bob.open_track("t1", StreamOptions::default()).unwrap_err();
    assert_eq!(
        err.code(),
        Some(skylark_locker_client::api::ErrorCode::NotFound),
        "{err}"
    );
}

#[test]
fn large_pushes_are_split_into_requests() {
    let locker = Locker::start(Config::default());
    let alice = locker.alice();
    let ops: Vec<Op> = (0..2_500)
        .map(|i| {
            op(
                &format!("play-{i}"),
                10_000 + i,
                Change::Play {
                    track: "t1".to_owned(),
                    at: 10_000 + i,
                },
            )
        })
        .collect();
    let results = alice.push_ops(&ops).unwrap();
    assert_eq!(results.len(), 2_500);
    assert!(results.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(results[1_234].id, "play-1234");
}

/// A thousand ops with long fields are more bytes than one request may carry: the push splits by
/// size as well as by count, and every op arrives.
#[test]
fn pushes_of_many_large_ops_are_split_by_size() {
    let locker = Locker::start(Config::default());
    let alice = locker.alice();
    let long = "Symphony No. 9 in D minor, Op. 125 ".repeat(100);
    let ops: Vec<Op> = (0..1_000)
        .map(|i| {
            let mut fields = BTreeMap::new();
            fields.insert("title".to_owned(), serde_json::json!(long));
            fields.insert("composer".to_owned(), serde_json::json!(long));
            op(
                &format!("set-{i}"),
                20_000 + i,
                Change::TrackSet {
                    track: format!("t{i}"),
                    blob: None,
                    fields,
                },
            )
        })
        .collect();
    let bytes = serde_json::to_vec(&ops).unwrap().len();
    assert!(bytes > 6_000_000, "{bytes}");
    let results = alice.push_ops(&ops).unwrap();
    assert_eq!(results.len(), 1_000);
    assert!(results.iter().all(|r| r.applied));
}

//! The sync outbox: every edit other devices must see leaves exactly one op, written with the
//! edit or not at all, naming things by their uids, stamped in order.

use skylark_catalog::sync::SyncChange;
use skylark_catalog::{Rating, TrackId};

use crate::library::{Lib, at, standard};

fn kinds(lib: &Lib) -> Vec<String> {
    lib.catalog
        .pending_ops(100)
        .unwrap()
        .iter()
        .map(|op| {
            serde_json::to_value(op).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn every_edit_leaves_one_op_in_order() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    assert!(
        lib.catalog.pending_ops(100).unwrap().is_empty(),
        "a scan is local"
    );
    let [a, b] = ["Hunter", "Pluto"].map(|t| lib.track(t));

    let list = lib.catalog.create_playlist("Road trip", at(1)).unwrap();
    let items = lib
        .catalog
        .add_to_playlist(list, &[a.id, b.id], None, at(2))
        .unwrap();
    lib.catalog
        .move_playlist_item(list, items[1], 0, at(3))
        .unwrap();
    lib.catalog
        .remove_from_playlist(list, &[items[0]], at(4))
        .unwrap();
    lib.catalog.rename_playlist(list, "Trip", at(5)).unwrap();
    lib.catalog
        .set_rating(a.id, Some(Rating::from_stars(4).unwrap()), at(6))
        .unwrap();
    lib.catalog.set_loved(b.id, true, at(7)).unwrap();
    lib.catalog.record_play(a.id, at(8)).unwrap();
    let uid = lib.catalog.playlist(list).unwrap().uid;
    lib.catalog.delete_playlist(list, at(9)).unwrap();

    assert_eq!(
        kinds(&lib),
        [
            "playlist_set",
            "playlist_item_set",
            "playlist_item_set",
            "playlist_item_set",
            "playlist_item_remove",
            "playlist_set",
            "rating",
            "track_set",
            "play",
            "playlist_delete"
        ]
    );
    let ops = lib.catalog.pending_ops(100).unwrap();
    // Things are named by uid, as other devices know them.
    assert_eq!(
        ops[0].change,
        SyncChange::PlaylistSet {
            playlist: uid.clone(),
            name: "Road trip".to_owned()
        }
    );
    let SyncChange::PlaylistItemSet {
        track, order_key, ..
    } = &ops[1].change
    else {
        panic!("{:?}", ops[1].change);
    };
    assert_eq!(track, &a.uid);
    // The move gave Pluto's entry a key before Hunter's.
    let SyncChange::PlaylistItemSet {
        track: moved,
        order_key: new_key,
        ..
    } = &ops[3].change
    else {
        panic!("{:?}", ops[3].change);
    };
    assert_eq!(moved, &b.uid);
    assert!(
        new_key < order_key,
        "{new_key} should sort before {order_key}"
    );
    assert_eq!(
        ops[6].change,
        SyncChange::Rating {
            track: a.uid.clone(),
            rating: 80
        }
    );
    assert_eq!(
        serde_json::to_value(&ops[7]).unwrap()["fields"]["loved"],
        serde_json::Value::Bool(true)
    );
    assert_eq!(ops[9].change, SyncChange::PlaylistDelete { playlist: uid });

    // Stamps grow, ids are unique, one device.
    for pair in ops.windows(2) {
        assert!(
            pair[0].hlc < pair[1].hlc,
            "{:?} then {:?}",
            pair[0].hlc,
            pair[1].hlc
        );
        assert_ne!(pair[0].id, pair[1].id);
    }
    let device = lib.catalog.device_id().unwrap();
    assert!(ops.iter().all(|op| op.hlc.device == device));
    assert_eq!(
        serde_json::to_value(&ops[0]).unwrap()["hlc"]["device"],
        device.as_str()
    );
}

#[test]
fn a_failed_edit_leaves_no_op() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let a = lib.track("Hunter").id;
    let list = lib.catalog.create_playlist("List", at(1)).unwrap();
    let before = lib.catalog.pending_op_count().unwrap();
    // The second track does not exist: the whole add fails, the first entry and its op too.
    assert!(
        lib.catalog
            .add_to_playlist(list, &[a, TrackId(999_999)], None, at(2))
            .is_err()
    );
    assert!(
        lib.catalog
            .set_rating(TrackId(999_999), None, at(3))
            .is_err()
    );
    assert!(lib.catalog.rename_playlist(list, " ", at(4)).is_err());
    assert_eq!(lib.catalog.pending_op_count().unwrap(), before);
    assert!(lib.catalog.playlist_items(list).unwrap().is_empty());
}

#[test]
fn pushed_ops_leave_and_stamps_survive_a_clock_set_back() {
    let mut lib = Lib::new();
    standard(&lib);
    lib.scan();
    let a = lib.track("Hunter").id;
    lib.catalog.record_play(a, at(100)).unwrap();
    lib.catalog.record_play(a, at(200)).unwrap();
    let ops = lib.catalog.pending_ops(100).unwrap();
    lib.catalog.ops_pushed(ops[0].seq).unwrap();
    let left = lib.catalog.pending_ops(100).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, ops[1].id);

    // The clock went back 150 s: the new change still comes after the last one.
    lib.catalog.set_rating(a, None, at(50)).unwrap();
    let last = lib.catalog.pending_ops(100).unwrap().pop().unwrap();
    assert!(last.hlc > left[0].hlc);
    // The outbox survives a reopen, on the same device.
    let device = lib.catalog.device_id().unwrap();
    let reopened = skylark_catalog::Catalog::open(
        &lib.dir.path().join("data/catalog.db"),
        &lib.dir.path().join("data/covers"),
    )
    .unwrap();
    assert_eq!(reopened.pending_op_count().unwrap(), 2);
    assert_eq!(reopened.device_id().unwrap(), device);
}

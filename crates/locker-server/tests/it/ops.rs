//! Catalog ops and the change feed: idempotence, last writer wins, convergence, isolation.

use serde_json::{Value, json};
use skylark_locker::config::Config;

use crate::{ALICE_PASSWORD, BOB_PASSWORD, Locker, assert_error, get, post_json};

fn op(id: &str, wall: i64, device: &str, change: Value) -> Value {
    let mut op = json!({"id": id, "hlc": {"wall_ms": wall, "counter": 0, "device": device}});
    if let (Some(o), Some(c)) = (op.as_object_mut(), change.as_object()) {
        o.extend(c.clone());
    }
    op
}

async fn post(locker: &Locker, token: &str, ops: Vec<Value>) -> reqwest::Response {
    post_json(locker, token, "/api/v1/ops", &json!({ "ops": ops })).await
}

async fn feed(locker: &Locker, token: &str, since: i64, limit: u32) -> Value {
    get(
        locker,
        token,
        &format!("/api/v1/changes?since={since}&limit={limit}"),
    )
    .await
    .json()
    .await
    .unwrap()
}

/// A connection to the locker's database and the id of account `name`.
pub fn user(
    locker: &Locker,
    name: &str,
) -> (rusqlite::Connection, skylark_locker::accounts::UserId) {
    let conn = skylark_locker::open_database(locker.dir.path()).unwrap();
    let id = conn
        .query_row("SELECT id FROM users WHERE name = ?1", [name], |r| r.get(0))
        .unwrap();
    (conn, skylark_locker::accounts::UserId(id))
}

#[tokio::test]
async fn a_replayed_op_is_applied_once() {
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let ops = vec![
        op(
            "o1",
            10,
            "laptop",
            json!({"type": "playlist_set", "playlist": "p1", "name": "Road trip"}),
        ),
        op(
            "o2",
            11,
            "laptop",
            json!({"type": "play", "track": "t1", "at": 1000}),
        ),
    ];
    let first: Value = post(&locker, &token, ops.clone())
        .await
        .json()
        .await
        .unwrap();
    let again: Value = post(&locker, &token, ops).await.json().await.unwrap();
    assert_eq!(first["results"][0]["applied"], true);
    assert_eq!(again["results"][0]["applied"], false);
    assert_eq!(first["results"][1]["seq"], again["results"][1]["seq"]);
    let page = feed(&locker, &token, 0, 100).await;
    assert_eq!(page["changes"].as_array().unwrap().len(), 2);
    let (conn, alice) = user(&locker, "alice");
    let plays: i64 = conn
        .query_row(
            "SELECT count(*) FROM plays WHERE user_id = ?1",
            [alice.0],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(plays, 1, "the play counts once");
    locker.stop().await;
}

#[tokio::test]
async fn each_field_keeps_its_latest_write() {
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    // The laptop's edit is newer but the phone's arrives later; the phone also sets another field.
    post(
        &locker,
        &token,
        vec![op(
            "a",
            20,
            "laptop",
            json!({"type": "track_set", "track": "t1", "fields": {"title": "Hoppípolla"}}),
        )],
    )
    .await;
    post(&locker, &token, vec![op("b", 10, "phone", json!({"type": "track_set", "track": "t1", "fields": {"title": "Hoppipolla", "year": 2005}}))]).await;
    let (conn, alice) = user(&locker, "alice");
    let field =
        |name: &str| skylark_locker::catalog::track_field(&conn, alice, "t1", name).unwrap();
    assert_eq!(field("title"), Some(json!("Hoppípolla")));
    assert_eq!(field("year"), Some(json!(2005)));
    // Equal wall times are ordered by counter, then device.
    post(
        &locker,
        &token,
        vec![op(
            "c",
            20,
            "zz-device",
            json!({"type": "track_set", "track": "t1", "fields": {"title": "Z wins"}}),
        )],
    )
    .await;
    assert_eq!(field("title"), Some(json!("Z wins")));
    locker.stop().await;
}

/// The ops two devices made on one playlist while offline, merged in either order, give the
/// same playlist with no entry lost.
#[tokio::test]
async fn concurrent_playlist_edits_converge() {
    let locker = Locker::start(Config::default()).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let bob = locker.login("bob", BOB_PASSWORD).await;
    let set = |id: &str, wall, dev: &str, item: &str, track: &str, key: &str| {
        op(
            id,
            wall,
            dev,
            json!({"type": "playlist_item_set", "playlist": "p", "item": item, "track": track, "order_key": key}),
        )
    };
    let common = [
        op(
            "c0",
            1,
            "a",
            json!({"type": "playlist_set", "playlist": "p", "name": "Mix"}),
        ),
        set("c1", 2, "a", "i1", "t1", "a1"),
        set("c2", 3, "a", "i2", "t2", "a2"),
    ];
    let laptop = vec![
        set("l1", 10, "laptop", "i3", "t3", "a1V"), // inserted between i1 and i2
        set("l2", 12, "laptop", "i1", "t1", "a3"),  // i1 moved to the end
    ];
    let phone = vec![
        set("p1", 11, "phone", "i4", "t4", "a1V"), // inserted at the same place
        op(
            "p2",
            13,
            "phone",
            json!({"type": "playlist_item_remove", "playlist": "p", "item": "i2"}),
        ),
        set("p3", 9, "phone", "i1", "t1", "a0"), // an older move of i1 loses to the laptop's
    ];
    let order_one: Vec<Value> = common
        .iter()
        .chain(&laptop)
        .chain(&phone)
        .cloned()
        .collect();
    let order_two: Vec<Value> = common
        .iter()
        .chain(&phone)
        .chain(&laptop)
        .cloned()
        .collect();
    assert_eq!(post(&locker, &alice, order_one).await.status(), 200);
    assert_eq!(post(&locker, &bob, order_two).await.status(), 200);
    let (conn, alice_id) = user(&locker, "alice");
    let (_, bob_id) = user(&locker, "bob");
    let a = skylark_locker::catalog::playlist_entries(&conn, alice_id, "p").unwrap();
    let b = skylark_locker::catalog::playlist_entries(&conn, bob_id, "p").unwrap();
    assert_eq!(a, b);
    let items: Vec<&str> = a.iter().map(|(item, _)| item.as_str()).collect();
    assert_eq!(
        items,
        ["i3", "i4", "i1"],
        "both inserts kept, the removal and the newer move applied"
    );
    locker.stop().await;
}

#[tokio::test]
async fn the_feed_pages_in_order_and_is_per_account() {
    let locker = Locker::start(Config::default()).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let bob = locker.login("bob", BOB_PASSWORD).await;
    let ops: Vec<Value> = (0..25)
        .map(|i| {
            op(
                &format!("o{i}"),
                i,
                "d",
                json!({"type": "rating", "track": format!("t{i}"), "rating": 60}),
            )
        })
        .collect();
    post(&locker, &alice, ops).await;
    post(
        &locker,
        &bob,
        vec![op(
            "bob-op",
            1,
            "d",
            json!({"type": "playlist_set", "playlist": "x", "name": "Bob's"}),
        )],
    )
    .await;
    let mut since = 0;
    let mut seen = Vec::new();
    loop {
        let page = feed(&locker, &alice, since, 10).await;
        for entry in page["changes"].as_array().unwrap() {
            seen.push(entry["op"]["id"].as_str().unwrap().to_owned());
        }
        since = page["next"].as_i64().unwrap();
        if !page["more"].as_bool().unwrap() {
            break;
        }
    }
    let expected: Vec<String> = (0..25).map(|i| format!("o{i}")).collect();
    assert_eq!(seen, expected);
    let theirs = feed(&locker, &bob, 0, 100).await;
    assert_eq!(
        theirs["changes"].as_array().unwrap().len(),
        1,
        "bob sees only his own ops"
    );
    let bad = get(&locker, &alice, "/api/v1/changes?since=abc").await;
    assert_error(bad, 400, "bad_request").await;
    locker.stop().await;
}

#[tokio::test]
async fn invalid_ops_apply_nothing_and_blobs_must_be_the_accounts_own() {
    let locker = Locker::start(Config::default()).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let ops = vec![
        op(
            "ok",
            1,
            "d",
            json!({"type": "playlist_set", "playlist": "p", "name": "Fine"}),
        ),
        op(
            "bad",
            2,
            "d",
            json!({"type": "rating", "track": "t", "rating": 101}),
        ),
    ];
    assert_error(post(&locker, &alice, ops).await, 400, "bad_request").await;
    assert!(
        feed(&locker, &alice, 0, 10).await["changes"]
            .as_array()
            .unwrap()
            .is_empty(),
        "all or nothing"
    );
    let unknown = vec![op("u", 1, "d", json!({"type": "teleport", "track": "t"}))];
    assert_error(post(&locker, &alice, unknown).await, 400, "bad_request").await;
    let not_hers = vec![op(
        "b",
        1,
        "d",
        json!({"type": "track_set", "track": "t", "blob": "ab".repeat(32), "fields": {}}),
    )];
    assert_error(post(&locker, &alice, not_hers).await, 404, "not_found").await;
    let bad_field = vec![op(
        "f",
        1,
        "d",
        json!({"type": "track_set", "track": "t", "fields": {"Title!": "x"}}),
    )];
    assert_error(post(&locker, &alice, bad_field).await, 400, "bad_request").await;
    locker.stop().await;
}

/// Loving an album or an artist is a register per target, named by case-folded tags: the latest
/// stamp wins whatever order the ops arrive in, and malformed targets are refused.
#[tokio::test]
async fn loves_keep_their_latest_write_per_target() {
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let love = |id: &str, wall, target: Value, loved: bool| {
        op(
            id,
            wall,
            "d",
            json!({"type": "love", "target": target, "loved": loved}),
        )
    };
    let album = json!({"kind": "album", "album_artist": "Sigur Rós", "album": "Takk..."});
    let same_album = json!({"kind": "album", "album_artist": "SIGUR RÓS", "album": " takk... "});
    let artist = json!({"kind": "artist", "artist": "Björk"});
    let r = post(
        &locker,
        &token,
        vec![
            love("l2", 20, album.clone(), true),
            love("l1", 10, same_album, false),
            love("l3", 5, artist.clone(), true),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let (conn, alice) = user(&locker, "alice");
    let loved = |kind: &str, key: &str| -> Option<bool> {
        conn.query_row(
            "SELECT loved FROM loves WHERE user_id = ?1 AND kind = ?2 AND key = ?3",
            rusqlite::params![alice.0, kind, key],
            |r| r.get(0),
        )
        .ok()
    };
    assert_eq!(loved("album", "sigur rós\u{1f}takk..."), Some(true));
    assert_eq!(loved("artist", "björk"), Some(true));
    post(&locker, &token, vec![love("l4", 30, artist, false)]).await;
    assert_eq!(loved("artist", "björk"), Some(false));
    let feed = feed(&locker, &token, 0, 10).await;
    assert_eq!(feed["changes"][0]["op"]["target"], album);
    let control = json!({"kind": "artist", "artist": "a\u{7}b"});
    assert_error(
        post(&locker, &token, vec![love("bad", 40, control, true)]).await,
        400,
        "bad_request",
    )
    .await;
    locker.stop().await;
}

//! The sweep of abandoned uploads and staging files: what a crash or a client that never came
//! back leaves in the data folder is deleted once older than `upload_expiry_hours`, by the server
//! itself (at start-up, then every ten minutes); everything newer, or in use, stays.

use std::collections::HashSet;
use std::fs::File;
use std::time::{Duration, SystemTime};

use skylark_locker::config::Config;
use skylark_locker::{accounts, now_millis, open_database};

use crate::{ALICE_PASSWORD, Locker, blake3_hex, get, upload};

/// Writes `bytes` to `path` and dates its last change `age` ago.
fn write_aged(path: &std::path::Path, bytes: &[u8], age: Duration) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - age)
        .unwrap();
}

#[tokio::test]
async fn a_starting_server_sweeps_what_crashes_and_absent_clients_left() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let day = Duration::from_secs(24 * 3600);
    let conn = open_database(data).unwrap();
    let user = accounts::add_user(&conn, "alice", ALICE_PASSWORD, 0, now_millis()).unwrap();
    // An upload nobody continued for two days, and one from an hour ago.
    let now = now_millis();
    for (id, age_ms) in [("stale", 2 * 86_400_000), ("recent", 3_600_000)] {
        conn.execute(
            "INSERT INTO uploads(id, user_id, length, blake3, created_at, updated_at)
             VALUES (?1, ?2, 10, ?3, ?4, ?4)",
            rusqlite::params![id, user.0, "ab".repeat(32), now - age_ms],
        )
        .unwrap();
        write_aged(
            &data.join(format!("uploads/{id}.part")),
            b"abc",
            Duration::from_millis(age_ms as u64),
        );
    }
    drop(conn);
    // A part file with no upload (a crash between creating it and recording the upload), old
    // and new.
    write_aged(&data.join("uploads/orphan.part"), b"x", 2 * day);
    write_aged(
        &data.join("uploads/fresh-orphan.part"),
        b"x",
        Duration::ZERO,
    );
    // Staging files of store writes a crash interrupted, old and new, beside a real blob.
    let hash = blake3_hex(b"kept");
    let shard = data.join(format!("store/blobs/{}", &hash[..2]));
    write_aged(&shard.join(&hash), b"kept", 3 * day);
    write_aged(&shard.join(format!("{hash}#1")), b"half", 2 * day);
    write_aged(&shard.join(format!("{hash}#2")), b"half", Duration::ZERO);

    let locker = Locker::start_in(dir, Config::default()).await;
    let uploads = locker.dir.path().join("uploads");
    let gone = [
        uploads.join("stale.part"),
        uploads.join("orphan.part"),
        shard.join(format!("{hash}#1")),
    ];
    for _ in 0..200 {
        if gone.iter().all(|p| !p.exists()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    for path in &gone {
        assert!(!path.exists(), "{} was not swept", path.display());
    }
    for path in [
        uploads.join("recent.part"),
        uploads.join("fresh-orphan.part"),
        shard.join(&hash),
        shard.join(format!("{hash}#2")),
    ] {
        assert!(path.exists(), "{} was swept", path.display());
    }
    let conn = open_database(locker.dir.path()).unwrap();
    let left: Vec<String> = conn
        .prepare("SELECT id FROM uploads ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(left, ["recent"]);

    // The server goes on working over what it kept.
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let uploaded = upload(&locker, &token, b"after the sweep").await;
    assert_eq!(
        get(&locker, &token, &format!("/api/v1/blobs/{uploaded}"))
            .await
            .status(),
        200
    );
    locker.stop().await;
}

#[test]
fn uploads_in_use_are_not_expired() {
    let dir = tempfile::tempdir().unwrap();
    let conn = open_database(dir.path()).unwrap();
    let user = accounts::add_user(&conn, "erin", "long enough", 0, 0).unwrap();
    std::fs::create_dir_all(dir.path().join("uploads")).unwrap();
    for (id, updated) in [("old", 1_000), ("busy", 1_000), ("new", 90_000)] {
        conn.execute(
            "INSERT INTO uploads(id, user_id, length, blake3, created_at, updated_at) VALUES (?1, ?2, 10, 'x', ?3, ?3)",
            rusqlite::params![id, user.0, updated],
        )
        .unwrap();
        std::fs::write(dir.path().join(format!("uploads/{id}.part")), b"abc").unwrap();
    }
    let busy = HashSet::from(["busy".to_owned()]);
    let n = skylark_locker::uploads::expire(&conn, dir.path(), 100_000, 50_000, &busy).unwrap();
    assert_eq!(n, 1);
    assert!(!dir.path().join("uploads/old.part").exists());
    assert!(dir.path().join("uploads/busy.part").exists());
    assert!(dir.path().join("uploads/new.part").exists());
}

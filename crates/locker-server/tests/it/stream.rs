//! Streaming a track's file with ranges.

use serde_json::json;
use skylark_locker::config::Config;

use crate::{ALICE_PASSWORD, BOB_PASSWORD, Locker, assert_error, link, post_json, upload};

/// A FLAC-looking file: the magic, then deterministic bytes.
fn file() -> Vec<u8> {
    let mut bytes = b"fLaC".to_vec();
    bytes.extend((0..100_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    bytes
}

#[tokio::test]
async fn whole_files_and_ranges() {
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let bytes = file();
    let hash = upload(&locker, &token, &bytes).await;
    link(&locker, &token, "t1", &hash).await;
    let url = locker.url("/api/v1/tracks/t1/stream");
    let get = |range: Option<&str>| {
        let mut req = locker.http.get(&url).bearer_auth(&token);
        if let Some(r) = range {
            req = req.header("range", r);
        }
        req.send()
    };

    let whole = get(None).await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "audio/flac");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.headers()["etag"], format!("\"{hash}\""));
    assert_eq!(whole.bytes().await.unwrap().as_ref(), bytes.as_slice());

    // Seeking: several ranges one after another, as a player asks for them.
    for (range, start, end) in [
        ("bytes=100-199", 100, 200),
        ("bytes=50000-", 50_000, bytes.len()),
        ("bytes=-10", bytes.len() - 10, bytes.len()),
    ] {
        let part = get(Some(range)).await.unwrap();
        assert_eq!(part.status(), 206, "{range}");
        assert_eq!(
            part.headers()["content-range"],
            format!("bytes {start}-{}/{}", end - 1, bytes.len())
        );
        assert_eq!(part.headers()["content-length"], (end - start).to_string());
        assert_eq!(
            part.bytes().await.unwrap().as_ref(),
            &bytes[start..end],
            "{range}"
        );
    }
    let beyond = get(Some("bytes=999999-")).await.unwrap();
    assert_eq!(beyond.status(), 416);
    assert_eq!(
        beyond.headers()["content-range"],
        format!("bytes */{}", bytes.len())
    );

    // If-Range: the ETag matches, so the range is honoured; a stale one gets the whole file.
    let fresh = locker
        .http
        .get(&url)
        .bearer_auth(&token)
        .header("range", "bytes=0-9")
        .header("if-range", format!("\"{hash}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 206);
    let stale = locker
        .http
        .get(&url)
        .bearer_auth(&token)
        .header("range", "bytes=0-9")
        .header("if-range", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);

    let head = locker
        .http
        .head(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], bytes.len().to_string());
    locker.stop().await;
}

#[tokio::test]
async fn only_the_owner_streams_and_deleted_tracks_are_gone() {
    let locker = Locker::start(Config::default()).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let bob = locker.login("bob", BOB_PASSWORD).await;
    let hash = upload(&locker, &alice, &file()).await;
    link(&locker, &alice, "t1", &hash).await;
    let url = locker.url("/api/v1/tracks/t1/stream");
    assert_error(
        locker
            .http
            .get(&url)
            .bearer_auth(&bob)
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    assert_error(
        locker.http.get(&url).send().await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
    let delete = json!({"ops": [{"id": "del", "hlc": {"wall_ms": 5, "counter": 0, "device": "d"}, "type": "track_delete", "track": "t1"}]});
    post_json(&locker, &alice, "/api/v1/ops", &delete).await;
    assert_error(
        locker
            .http
            .get(&url)
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    locker.stop().await;
}

#[tokio::test]
async fn blobs_by_hash_for_the_accounts_that_hold_them() {
    let locker = Locker::start(Config::default()).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let bob = locker.login("bob", BOB_PASSWORD).await;
    let bytes = file();
    let hash = upload(&locker, &alice, &bytes).await;
    let url = locker.url(&format!("/api/v1/blobs/{hash}"));
    let whole = locker
        .http
        .get(&url)
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.bytes().await.unwrap().as_ref(), bytes.as_slice());
    let part = locker
        .http
        .get(&url)
        .bearer_auth(&alice)
        .header("range", "bytes=4-7")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap().as_ref(), &bytes[4..8]);
    // Stored, but not Bob's: not found, exactly like a hash nobody has.
    assert_error(
        locker
            .http
            .get(&url)
            .bearer_auth(&bob)
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    let nobody = locker.url(&format!("/api/v1/blobs/{}", "cd".repeat(32)));
    assert_error(
        locker
            .http
            .get(&nobody)
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    locker.stop().await;
}

#[tokio::test]
async fn huge_and_malformed_bodies_are_refused_and_the_server_keeps_serving() {
    let locker = Locker::start(Config::default()).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let huge = format!("{{\"ops\": [\"{}\"]}}", "x".repeat(3 * 1024 * 1024));
    let r = locker
        .http
        .post(locker.url("/api/v1/ops"))
        .bearer_auth(&alice)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_error(r, 413, "payload_too_large").await;
    let wrong_types = json!({"ops": [{"id": 5, "hlc": "yesterday", "type": "play"}]});
    let r = post_json(&locker, &alice, "/api/v1/ops", &wrong_types).await;
    assert_error(r, 400, "bad_request").await;
    let health = locker
        .http
        .get(locker.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    locker.stop().await;
}

#[tokio::test]
async fn signed_urls_stream_without_a_header_until_they_expire() {
    let locker = Locker::start(Config::default()).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let bob = locker.login("bob", BOB_PASSWORD).await;
    let bytes = file();
    let hash = upload(&locker, &alice, &bytes).await;
    link(&locker, &alice, "t1", &hash).await;
    let signed: serde_json::Value = locker
        .http
        .post(locker.url("/api/v1/tracks/t1/stream-url"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = signed["url"].as_str().unwrap();
    assert!(url.starts_with("/api/v1/tracks/t1/stream?"), "{url}");
    // No header, as an <audio> element fetches it; ranges still work.
    let r = locker
        .http
        .get(locker.url(url))
        .header("range", "bytes=0-3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"fLaC");
    // Tampering with any part of it fails.
    let other_track = url.replace("/tracks/t1/", "/tracks/t2/");
    assert_error(
        locker
            .http
            .get(locker.url(&other_track))
            .send()
            .await
            .unwrap(),
        401,
        "unauthorized",
    )
    .await;
    let later = url.replace("exp=", "exp=9");
    assert_error(
        locker.http.get(locker.url(&later)).send().await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
    // Bob's signed URL for Alice's track id streams Bob's track of that id, which does not exist.
    let bobs: serde_json::Value = locker
        .http
        .post(locker.url("/api/v1/tracks/t1/stream-url"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_error(
        locker
            .http
            .get(locker.url(bobs["url"].as_str().unwrap()))
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    locker.stop().await;
}

/// A stream records its session's use when that is due, and an expired session gets nothing and
/// is gone: the writes that the streaming fast path leaves to the blocking path still happen.
#[tokio::test]
async fn streams_record_session_use_and_refuse_expired_sessions() {
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let bytes = file();
    let hash = upload(&locker, &token, &bytes).await;
    link(&locker, &token, "t1", &hash).await;
    let url = locker.url("/api/v1/tracks/t1/stream");
    let db = rusqlite::Connection::open(locker.dir.path().join("locker.db")).unwrap();
    let last_used = || -> i64 {
        db.query_row("SELECT last_used_at FROM sessions", [], |r| r.get(0))
            .unwrap()
    };
    let stream = || async {
        let response = locker
            .http
            .get(&url)
            .bearer_auth(&token)
            .header("range", "bytes=4-99")
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.bytes().await.unwrap())
    };

    // Used a minute and more ago: this stream records the use.
    let hour_ago = skylark_locker::now_millis() - 3_600_000;
    db.execute("UPDATE sessions SET last_used_at = ?1", [hour_ago])
        .unwrap();
    let (status, body) = stream().await;
    assert_eq!(status, 206);
    assert_eq!(body.as_ref(), &bytes[4..100]);
    assert!(last_used() > hour_ago, "the session's use was recorded");
    // Used just now: streams go on without writing.
    let recorded = last_used();
    for _ in 0..3 {
        assert_eq!(stream().await.0, 206);
    }
    assert_eq!(last_used(), recorded);

    // Expired: refused, and the session is deleted.
    db.execute("UPDATE sessions SET expires_at = ?1", [hour_ago])
        .unwrap();
    let (status, body) = stream().await;
    assert_eq!(status, 401);
    let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(error["error"]["code"], "unauthorized");
    let sessions: i64 = db
        .query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sessions, 0);
}

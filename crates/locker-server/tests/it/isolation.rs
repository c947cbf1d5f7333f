//! Every endpoint, tried by a second account with the first account's ids: nothing is found,
//! nothing changes, and no data crosses.

use base64::Engine;
use serde_json::{Value, json};
use skylark_locker::config::Config;
use skylark_testsupport::{Format, TagSpec, Tone, cover_png, write_audio};

use crate::{ALICE_PASSWORD, BOB_PASSWORD, Locker, assert_error, get, get_json, post_json, upload};

#[tokio::test]
async fn another_accounts_ids_are_not_found_anywhere() {
    let locker = Locker::start(Config::default()).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let bob = locker.login("bob", BOB_PASSWORD).await;

    // Alice's things: a file with a cover linked to a track, an upload in progress, a playlist,
    // a session, a claim challenge issued to her.
    let cover = cover_png(64, 64, [1, 2, 3]);
    let path = locker.dir.path().join("a.flac");
    write_audio(
        &path,
        Format::Flac,
        &Tone::default(),
        &TagSpec {
            cover: Some(cover.clone()),
            ..TagSpec::default()
        },
    )
    .unwrap();
    let file = std::fs::read(&path).unwrap();
    let blob = upload(&locker, &alice, &file).await;
    let cover_hash = blake3::hash(&cover.bytes).to_hex().to_string();
    let ops = json!({"ops": [
        {"id": "a1", "hlc": {"wall_ms": 1, "counter": 0, "device": "a"}, "type": "track_set", "track": "t1", "blob": blob, "fields": {"title": "Secret"}},
        {"id": "a2", "hlc": {"wall_ms": 2, "counter": 0, "device": "a"}, "type": "playlist_set", "playlist": "p1", "name": "Private"}
    ]});
    assert_eq!(
        post_json(&locker, &alice, "/api/v1/ops", &ops)
            .await
            .status(),
        200
    );
    let pending = locker
        .http
        .post(locker.url("/api/v1/uploads"))
        .bearer_auth(&alice)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", "100")
        .header(
            "upload-metadata",
            format!(
                "blake3 {}",
                base64::engine::general_purpose::STANDARD.encode("ab".repeat(32))
            ),
        )
        .send()
        .await
        .unwrap();
    let upload_url = pending.headers()["location"].to_str().unwrap().to_owned();
    let sessions: Vec<Value> = get(&locker, &alice, "/api/v1/auth/sessions")
        .await
        .json()
        .await
        .unwrap();
    let alice_session = sessions[0]["id"].as_str().unwrap().to_owned();
    let other = locker.dir.path().join("other.flac");
    write_audio(
        &other,
        Format::Flac,
        &Tone {
            seconds: 2.0,
            ..Tone::default()
        },
        &TagSpec::default(),
    )
    .unwrap();
    let other_bytes = std::fs::read(&other).unwrap();
    upload(&locker, &bob, &other_bytes).await;
    let verdicts: Value = post_json(&locker, &alice, "/api/v1/match", &json!({"files": [{"file_hash": blake3::hash(&other_bytes).to_hex().to_string(), "size": other_bytes.len()}]})).await
        .json()
        .await
        .unwrap();
    let alice_claim = verdicts["results"][0]["challenge"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Bob tries all of it.
    let tus = |req: reqwest::RequestBuilder| req.bearer_auth(&bob).header("tus-resumable", "1.0.0");
    assert_eq!(
        tus(locker.http.head(locker.url(&upload_url)))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let patch = tus(locker.http.patch(locker.url(&upload_url)))
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", "0")
        .body(vec![0u8; 10])
        .send()
        .await
        .unwrap();
    assert_error(patch, 404, "not_found").await;
    assert_error(
        tus(locker.http.delete(locker.url(&upload_url)))
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    for path in [
        format!("/api/v1/blobs/{blob}"),
        "/api/v1/tracks/t1/stream".to_owned(),
        format!("/api/v1/covers/{cover_hash}"),
    ] {
        assert_error(get(&locker, &bob, &path).await, 404, "not_found").await;
    }
    let signed: Value = locker
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
            .get(locker.url(signed["url"].as_str().unwrap()))
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    let revoke = locker
        .http
        .delete(locker.url(&format!("/api/v1/auth/sessions/{alice_session}")))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_error(revoke, 404, "not_found").await;
    let claim = post_json(
        &locker,
        &bob,
        "/api/v1/claims",
        &json!({"id": alice_claim, "proof": "00".repeat(32)}),
    )
    .await;
    assert_error(claim, 404, "not_found").await;
    let steal = json!({"ops": [{"id": "b1", "hlc": {"wall_ms": 9, "counter": 0, "device": "b"}, "type": "track_set", "track": "t9", "blob": blob, "fields": {}}]});
    assert_error(
        post_json(&locker, &bob, "/api/v1/ops", &steal).await,
        404,
        "not_found",
    )
    .await;
    let feed: Value = get_json(&locker, &bob, "/api/v1/changes").await;
    let text = feed.to_string();
    assert!(
        !text.contains("Secret") && !text.contains("Private"),
        "{text}"
    );
    let verdicts: Value = post_json(
        &locker,
        &bob,
        "/api/v1/match",
        &json!({"files": [{"file_hash": blob, "size": file.len()}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        verdicts["results"][0]["status"], "claim",
        "Bob must prove he has Alice's file"
    );

    // Alice's things are all still there.
    assert_eq!(
        get(&locker, &alice, "/api/v1/tracks/t1/stream")
            .await
            .status(),
        200
    );
    let head = locker
        .http
        .head(locker.url(&upload_url))
        .bearer_auth(&alice)
        .header("tus-resumable", "1.0.0");
    assert_eq!(head.send().await.unwrap().status(), 200);
    assert_eq!(get(&locker, &alice, "/api/v1/me").await.status(), 200);
    locker.stop().await;
}

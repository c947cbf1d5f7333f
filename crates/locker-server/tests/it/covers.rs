//! Cover pictures taken from uploaded files.

use skylark_locker::config::Config;
use skylark_testsupport::{Format, TagSpec, Tone, cover_png, write_audio};

use crate::{ALICE_PASSWORD, BOB_PASSWORD, Locker, assert_error, upload};

#[tokio::test]
async fn an_uploaded_files_cover_is_served_to_its_holders() {
    let locker = Locker::start(Config::default()).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let bob = locker.login("bob", BOB_PASSWORD).await;
    let cover = cover_png(120, 120, [250, 10, 10]);
    let path = locker.dir.path().join("song.flac");
    let tags = TagSpec {
        title: Some("Song".to_owned()),
        cover: Some(cover.clone()),
        ..TagSpec::default()
    };
    write_audio(&path, Format::Flac, &Tone::default(), &tags).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    upload(&locker, &alice, &bytes).await;
    let cover_hash = blake3::hash(&cover.bytes).to_hex().to_string();
    let url = locker.url(&format!("/api/v1/covers/{cover_hash}"));
    let r = locker
        .http
        .get(&url)
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().as_ref(), cover.bytes.as_slice());
    // Bob holds no file with this cover.
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
    // A file without a cover uploads fine and has none.
    let plain = locker.dir.path().join("plain.flac");
    write_audio(&plain, Format::Flac, &Tone::default(), &TagSpec::default()).unwrap();
    upload(&locker, &alice, &std::fs::read(&plain).unwrap()).await;
    let none = locker.url(&format!("/api/v1/covers/{}", "ef".repeat(32)));
    assert_error(
        locker
            .http
            .get(&none)
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

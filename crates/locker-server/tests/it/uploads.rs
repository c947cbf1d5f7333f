//! Resumable uploads over tus 1.0 into the blob store.

use base64::Engine;
use skylark_locker::config::Config;

use crate::{
    ALICE_PASSWORD, BOB_PASSWORD, Locker, assert_error, blake3_hex, files_under, get, location,
    payload, tus_create as create, tus_offset as offset, tus_patch as patch, used_bytes,
};

fn stored_blobs(locker: &Locker) -> Vec<std::path::PathBuf> {
    files_under(&locker.dir.path().join("store"))
}

#[tokio::test]
async fn upload_in_chunks_with_resume_points() {
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let options = locker
        .http
        .request(reqwest::Method::OPTIONS, locker.url("/api/v1/uploads"))
        .send()
        .await
        .unwrap();
    assert_eq!(options.headers()["tus-version"], "1.0.0");
    assert!(
        options.headers()["tus-extension"]
            .to_str()
            .unwrap()
            .contains("creation")
    );

    let bytes = payload(300_000, 1);
    let hash = blake3_hex(&bytes);
    let created = create(&locker, &token, bytes.len(), &hash).await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["tus-resumable"], "1.0.0");
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(offset(&locker, &token, &location).await, 0);

    let r = patch(&locker, &token, &location, 0, bytes[..100_000].to_vec()).await;
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["upload-offset"], "100000");
    assert_eq!(offset(&locker, &token, &location).await, 100_000);
    // A stale offset is a conflict, and nothing is written.
    let stale = patch(&locker, &token, &location, 0, bytes[..10].to_vec()).await;
    assert_error(stale, 409, "conflict").await;
    let r = patch(
        &locker,
        &token,
        &location,
        100_000,
        bytes[100_000..].to_vec(),
    )
    .await;
    assert_eq!(r.status(), 204, "{:?}", r.text().await);
    assert_eq!(used_bytes(&locker, &token).await, 300_000);
    let blobs = stored_blobs(&locker);
    assert_eq!(blobs.len(), 1);
    assert!(blobs[0].ends_with(format!("blobs/{}/{hash}", &hash[..2])));
    assert_eq!(std::fs::read(&blobs[0]).unwrap(), bytes);
    // The finished upload is gone.
    let gone = locker
        .http
        .head(locker.url(&location))
        .bearer_auth(&token)
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    locker.stop().await;
}

#[tokio::test]
async fn a_dropped_connection_keeps_what_arrived() {
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let bytes = payload(200_000, 2);
    let hash = blake3_hex(&bytes);
    let location = location(&create(&locker, &token, bytes.len(), &hash).await);

    // The client declares the whole rest, sends 120,000 bytes, then its connection drops.
    drop(
        stalled_patch(
            &locker,
            &token,
            &location,
            "",
            bytes.len(),
            &bytes[..120_000],
        )
        .await,
    );
    // Give the server a moment to record what it received.
    let mut at = 0;
    for _ in 0..50 {
        at = offset(&locker, &token, &location).await;
        if at > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(at > 0 && at <= 120_000, "resume from {at}");
    let r = patch(&locker, &token, &location, at, bytes[at..].to_vec()).await;
    assert_eq!(r.status(), 204);
    assert_eq!(std::fs::read(&stored_blobs(&locker)[0]).unwrap(), bytes);
    locker.stop().await;
}

#[tokio::test]
async fn a_wrong_hash_keeps_nothing() {
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let bytes = payload(50_000, 3);
    let wrong = blake3_hex(b"something else");
    let location = location(&create(&locker, &token, bytes.len(), &wrong).await);
    let r = patch(&locker, &token, &location, 0, bytes).await;
    assert_error(r, 460, "checksum_mismatch").await;
    assert!(stored_blobs(&locker).is_empty());
    assert_eq!(used_bytes(&locker, &token).await, 0);
    assert!(
        files_under(&locker.dir.path().join("uploads")).is_empty(),
        "the partial file is deleted"
    );
    locker.stop().await;
}

/// A PATCH at offset 0 carrying `Upload-Checksum: sha1 <digest>`.
async fn checksummed_patch(
    locker: &Locker,
    token: &str,
    location: &str,
    digest: &[u8],
    body: Vec<u8>,
) -> reqwest::Response {
    locker
        .http
        .patch(locker.url(location))
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", "0")
        .header(
            "upload-checksum",
            format!(
                "sha1 {}",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The `skylark_locker_upload_bytes_total` metric.
async fn upload_bytes_metric(locker: &Locker) -> u64 {
    let text = locker
        .http
        .get(locker.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("skylark_locker_upload_bytes_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no upload bytes metric in\n{text}"))
}

#[tokio::test]
async fn chunk_checksums_are_checked_and_counted() {
    use sha1::Digest;
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let bytes = payload(10_000, 4);
    let location = location(&create(&locker, &token, bytes.len(), &blake3_hex(&bytes)).await);
    let bad = checksummed_patch(
        &locker,
        &token,
        &location,
        &[0u8; 20],
        bytes[..5_000].to_vec(),
    );
    assert_error(bad.await, 460, "checksum_mismatch").await;
    assert_eq!(
        offset(&locker, &token, &location).await,
        0,
        "the chunk was discarded"
    );
    assert_eq!(upload_bytes_metric(&locker).await, 0, "nor counted");
    let digest = sha1::Sha1::digest(&bytes);
    let good = checksummed_patch(&locker, &token, &location, &digest, bytes.clone()).await;
    assert_eq!(good.status(), 204);
    // Regression: bytes that came with a checksum were kept but never counted.
    assert_eq!(upload_bytes_metric(&locker).await, 10_000);
    locker.stop().await;
}

#[tokio::test]
async fn size_limit_and_quota_are_checked_before_any_byte() {
    let config = Config {
        max_upload_bytes: 20_000_000,
        ..Config::default()
    };
    let locker = Locker::start(config).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let bob = locker.login("bob", BOB_PASSWORD).await; // quota: 10,000,000 bytes
    let hash = blake3_hex(b"x");
    assert_error(
        create(&locker, &alice, 30_000_000, &hash).await,
        413,
        "payload_too_large",
    )
    .await;
    assert_error(
        create(&locker, &bob, 12_000_000, &hash).await,
        507,
        "quota_exceeded",
    )
    .await;
    // Pending uploads count against the quota too.
    assert_eq!(create(&locker, &bob, 6_000_000, &hash).await.status(), 201);
    assert_error(
        create(&locker, &bob, 6_000_000, &hash).await,
        507,
        "quota_exceeded",
    )
    .await;
    // Malformed creations.
    let no_length = locker
        .http
        .post(locker.url("/api/v1/uploads"))
        .bearer_auth(&alice)
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_error(no_length, 400, "bad_request").await;
    // No hash is a file the locker reads and adds itself (a browser's); a hash that is not one
    // is refused.
    let bad_hash = locker
        .http
        .post(locker.url("/api/v1/uploads"))
        .bearer_auth(&alice)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", "10")
        .header("upload-metadata", "blake3 bm90IGEgaGFzaA==")
        .send()
        .await
        .unwrap();
    assert_error(bad_hash, 400, "bad_request").await;
    let no_version = locker
        .http
        .post(locker.url("/api/v1/uploads"))
        .bearer_auth(&alice)
        .header("upload-length", "10")
        .send()
        .await
        .unwrap();
    assert_eq!(no_version.status(), 412);
    assert_eq!(no_version.headers()["tus-version"], "1.0.0");
    let anonymous = locker
        .http
        .post(locker.url("/api/v1/uploads"))
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_error(anonymous, 401, "unauthorized").await;
    locker.stop().await;
}

#[tokio::test]
async fn another_accounts_upload_is_not_found() {
    let locker = Locker::start(Config::default()).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let bob = locker.login("bob", BOB_PASSWORD).await;
    let bytes = payload(1_000, 5);
    let location = location(&create(&locker, &alice, bytes.len(), &blake3_hex(&bytes)).await);
    let head = locker
        .http
        .head(locker.url(&location))
        .bearer_auth(&bob)
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 404);
    assert_error(
        patch(&locker, &bob, &location, 0, bytes.clone()).await,
        404,
        "not_found",
    )
    .await;
    let delete = locker
        .http
        .delete(locker.url(&location))
        .bearer_auth(&bob)
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_error(delete, 404, "not_found").await;
    // Alice can terminate her own upload.
    let delete = locker
        .http
        .delete(locker.url(&location))
        .bearer_auth(&alice)
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 204);
    assert_error(
        patch(&locker, &alice, &location, 0, bytes).await,
        404,
        "not_found",
    )
    .await;
    locker.stop().await;
}

#[tokio::test]
async fn the_same_bytes_are_stored_once_for_two_accounts() {
    let locker = Locker::start(Config::default()).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let bob = locker.login("bob", BOB_PASSWORD).await;
    let bytes = payload(40_000, 6);
    let hash = blake3_hex(&bytes);
    for token in [&alice, &bob] {
        let location = location(&create(&locker, token, bytes.len(), &hash).await);
        assert_eq!(
            patch(&locker, token, &location, 0, bytes.clone())
                .await
                .status(),
            204
        );
        assert_eq!(used_bytes(&locker, token).await, 40_000);
    }
    assert_eq!(stored_blobs(&locker).len(), 1);
    locker.stop().await;
}

#[tokio::test]
async fn two_accounts_uploading_the_same_bytes_at_once_end_with_one_blob() {
    let locker = Locker::start(Config::default()).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let bob = locker.login("bob", BOB_PASSWORD).await;
    let bytes = payload(2_000_000, 9);
    let hash = blake3_hex(&bytes);
    let a = location(&create(&locker, &alice, bytes.len(), &hash).await);
    let b = location(&create(&locker, &bob, bytes.len(), &hash).await);
    // Both send the first half, then both send the rest at the same moment.
    assert_eq!(
        patch(&locker, &alice, &a, 0, bytes[..1_000_000].to_vec())
            .await
            .status(),
        204
    );
    assert_eq!(
        patch(&locker, &bob, &b, 0, bytes[..1_000_000].to_vec())
            .await
            .status(),
        204
    );
    let (ra, rb) = tokio::join!(
        patch(&locker, &alice, &a, 1_000_000, bytes[1_000_000..].to_vec()),
        patch(&locker, &bob, &b, 1_000_000, bytes[1_000_000..].to_vec()),
    );
    assert_eq!(
        (ra.status(), rb.status()),
        (
            reqwest::StatusCode::NO_CONTENT,
            reqwest::StatusCode::NO_CONTENT
        )
    );
    let blobs = stored_blobs(&locker);
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    assert_eq!(std::fs::read(&blobs[0]).unwrap(), bytes);
    for token in [&alice, &bob] {
        assert_eq!(used_bytes(&locker, token).await, 2_000_000);
        let r = get(&locker, token, &format!("/api/v1/blobs/{hash}")).await;
        assert_eq!(r.status(), 200);
    }
    locker.stop().await;
}

/// Opens a PATCH of `location` at offset 0 with `headers` (`Name: value\r\n` lines) declaring
/// `declared` body bytes and sends `sent` of them, leaving the connection open as a stalled
/// client does.
async fn stalled_patch(
    locker: &Locker,
    token: &str,
    location: &str,
    headers: &str,
    declared: usize,
    sent: &[u8],
) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut socket = tokio::net::TcpStream::connect(locker.addr).await.unwrap();
    let head = format!(
        "PATCH {location} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n\
         Upload-Offset: 0\r\n{headers}Content-Length: {declared}\r\n\r\n",
        locker.addr,
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(sent).await.unwrap();
    socket.flush().await.unwrap();
    // Let the server take in what was sent.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    socket
}

/// Regression: a client that resumed on a new connection while its old PATCH was still open had
/// both requests appending to the same file, so bytes the old connection delivered late landed
/// after the new ones and the upload failed its hash.
#[tokio::test]
async fn a_stalled_patch_hands_over_and_appends_nothing_more() {
    use tokio::io::AsyncWriteExt;
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let bytes = payload(300_000, 10);
    let location = location(&create(&locker, &token, bytes.len(), &blake3_hex(&bytes)).await);
    let mut old = stalled_patch(
        &locker,
        &token,
        &location,
        "",
        bytes.len(),
        &bytes[..100_000],
    )
    .await;

    // The client gives up on the old connection and resumes: HEAD asks the old request to stop,
    // then reports where the bytes end.
    let at = offset(&locker, &token, &location).await;
    assert!(at > 0 && at <= 100_000, "resume from {at}");
    let r = patch(&locker, &token, &location, at, bytes[at..200_000].to_vec()).await;
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["upload-offset"], "200000");

    // The old connection delivers more of its body late: none of it is written.
    let _ = old.write_all(&bytes[100_000..150_000]).await;
    let _ = old.flush().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(offset(&locker, &token, &location).await, 200_000);
    let r = patch(
        &locker,
        &token,
        &location,
        200_000,
        bytes[200_000..].to_vec(),
    )
    .await;
    assert_eq!(r.status(), 204, "{:?}", r.text().await);
    assert_eq!(std::fs::read(&stored_blobs(&locker)[0]).unwrap(), bytes);
    locker.stop().await;
}

/// A checksummed chunk whose request hands over is dropped whole: only verified chunks are kept.
#[tokio::test]
async fn a_stalled_checksummed_patch_keeps_nothing_of_its_chunk() {
    use sha1::Digest;
    use tokio::io::AsyncWriteExt;
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let bytes = payload(100_000, 11);
    let location = location(&create(&locker, &token, bytes.len(), &blake3_hex(&bytes)).await);
    let digest = base64::engine::general_purpose::STANDARD.encode(sha1::Sha1::digest(&bytes));
    let checksum = format!("Upload-Checksum: sha1 {digest}\r\n");
    let mut socket = stalled_patch(
        &locker,
        &token,
        &location,
        &checksum,
        bytes.len(),
        &bytes[..60_000],
    )
    .await;
    assert_eq!(offset(&locker, &token, &location).await, 0);
    let _ = socket.write_all(&bytes[60_000..]).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(offset(&locker, &token, &location).await, 0);
    let r = patch(&locker, &token, &location, 0, bytes.clone()).await;
    assert_eq!(r.status(), 204);
    assert_eq!(std::fs::read(&stored_blobs(&locker)[0]).unwrap(), bytes);
    locker.stop().await;
}

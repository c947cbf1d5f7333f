//! Resumable uploads over tus 1.0 into the blob store.

use base64::Engine;
use skylark_locker::config::Config;

use crate::{ALICE_PASSWORD, BOB_PASSWORD, Locker, assert_error};

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Deterministic test bytes.
fn payload(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) ^ seed).to_le_bytes()[1])
        .collect()
}

fn blake3_hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// Creates an upload and returns its URL path.
async fn create(locker: &Locker, token: &str, length: usize, hash: &str) -> reqwest::Response {
    locker
        .http
        .post(locker.url("/api/v1/uploads"))
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", length.to_string())
        .header(
            "upload-metadata",
            format!("filename {},blake3 {}", b64("song.flac"), b64(hash)),
        )
        .send()
        .await
        .unwrap()
}

async fn patch(
    locker: &Locker,
    token: &str,
    location: &str,
    offset: usize,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    locker
        .http
        .patch(locker.url(location))
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", offset.to_string())
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn offset(locker: &Locker, token: &str, location: &str) -> usize {
    let r = locker
        .http
        .head(locker.url(location))
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    r.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn used_bytes(locker: &Locker, token: &str) -> u64 {
    let me: serde_json::Value = locker
        .http
        .get(locker.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    me["used_bytes"].as_u64().unwrap()
}

fn stored_blobs(locker: &Locker) -> Vec<std::path::PathBuf> {
    walkdir(locker.dir.path().join("store"))
}

fn walkdir(dir: std::path::PathBuf) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walkdir(p));
            } else {
                out.push(p);
            }
        }
    }
    out
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
    let location = create(&locker, &token, bytes.len(), &hash).await.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();

    // The client declares the whole rest, sends 120,000 bytes, then its connection drops.
    {
        use tokio::io::AsyncWriteExt;
        let mut socket = tokio::net::TcpStream::connect(locker.addr).await.unwrap();
        let head = format!(
            "PATCH {location} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
             Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n\
             Upload-Offset: 0\r\nContent-Length: {}\r\n\r\n",
            locker.addr,
            bytes.len()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(&bytes[..120_000]).await.unwrap();
        socket.flush().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        drop(socket);
    }
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
    let location = create(&locker, &token, bytes.len(), &wrong).await.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let r = patch(&locker, &token, &location, 0, bytes).await;
    assert_error(r, 460, "checksum_mismatch").await;
    assert!(stored_blobs(&locker).is_empty());
    assert_eq!(used_bytes(&locker, &token).await, 0);
    assert!(
        walkdir(locker.dir.path().join("uploads")).is_empty(),
        "the partial file is deleted"
    );
    locker.stop().await;
}

#[tokio::test]
async fn chunk_checksums_are_checked() {
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let bytes = payload(10_000, 4);
    let location = create(&locker, &token, bytes.len(), &blake3_hex(&bytes))
        .await
        .headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let bad = locker
        .http
        .patch(locker.url(&location))
        .bearer_auth(&token)
        .header("tus-resumable", "1.0.0")
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", "0")
        .header(
            "upload-checksum",
            format!(
                "sha1 {}",
                base64::engine::general_purpose::STANDARD.encode([0u8; 20])
            ),
        )
        .body(bytes[..5_000].to_vec())
        .send()
        .await
        .unwrap();
    assert_error(bad, 460, "checksum_mismatch").await;
    assert_eq!(
        offset(&locker, &token, &location).await,
        0,
        "the chunk was discarded"
    );
    use sha1::Digest;
    let good = locker
        .http
        .patch(locker.url(&location))
        .bearer_auth(&token)
        .header("tus-resumable", "1.0.0")
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", "0")
        .header(
            "upload-checksum",
            format!(
                "sha1 {}",
                base64::engine::general_purpose::STANDARD.encode(sha1::Sha1::digest(&bytes))
            ),
        )
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), 204);
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
    let no_hash = locker
        .http
        .post(locker.url("/api/v1/uploads"))
        .bearer_auth(&alice)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", "10")
        .send()
        .await
        .unwrap();
    assert_error(no_hash, 400, "bad_request").await;
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
    let location = create(&locker, &alice, bytes.len(), &blake3_hex(&bytes))
        .await
        .headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
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
        let location = create(&locker, token, bytes.len(), &hash).await.headers()["location"]
            .to_str()
            .unwrap()
            .to_owned();
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

#[test]
fn abandoned_uploads_expire() {
    let dir = tempfile::tempdir().unwrap();
    let conn = skylark_locker::open_database(dir.path()).unwrap();
    let user = skylark_locker::accounts::add_user(&conn, "erin", "long enough", 0, 0).unwrap();
    std::fs::create_dir_all(dir.path().join("uploads")).unwrap();
    for (id, updated) in [("old", 1_000), ("new", 90_000)] {
        conn.execute(
            "INSERT INTO uploads(id, user_id, length, blake3, created_at, updated_at) VALUES (?1, ?2, 10, 'x', ?3, ?3)",
            rusqlite::params![id, user.0, updated],
        )
        .unwrap();
        std::fs::write(dir.path().join(format!("uploads/{id}.part")), b"abc").unwrap();
    }
    let n = skylark_locker::uploads::expire(&conn, dir.path(), 100_000, 50_000).unwrap();
    assert_eq!(n, 1);
    assert!(!dir.path().join("uploads/old.part").exists());
    assert!(dir.path().join("uploads/new.part").exists());
}

#[tokio::test]
async fn two_accounts_uploading_the_same_bytes_at_once_end_with_one_blob() {
    let locker = Locker::start(Config::default()).await;
    let alice = locker.login("alice", ALICE_PASSWORD).await;
    let bob = locker.login("bob", BOB_PASSWORD).await;
    let bytes = payload(2_000_000, 9);
    let hash = blake3_hex(&bytes);
    let a = create(&locker, &alice, bytes.len(), &hash).await.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let b = create(&locker, &bob, bytes.len(), &hash).await.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
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
        let r = locker
            .http
            .get(locker.url(&format!("/api/v1/blobs/{hash}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    locker.stop().await;
}

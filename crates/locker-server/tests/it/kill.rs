//! `kill -9` of a real `skylark-locker` process in the middle of uploads and op writes, then a
//! restart: acknowledged uploads and ops are all there, no blob failed its hash, and interrupted
//! uploads resume.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

fn start(data: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_skylark-locker"))
        .args(["serve", "--data"])
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_ready(http: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the locker did not start");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn a_killed_server_keeps_what_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let conn = skylark_locker::open_database(dir.path()).unwrap();
    skylark_locker::accounts::add_user(&conn, "kim", "a long password", 0, 0).unwrap();
    drop(conn);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut server = start(dir.path(), port);
    wait_ready(&http, &base).await;
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "kim", "password": "a long password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();

    // Acknowledged work: three finished uploads and a batch of ops.
    let files: Vec<Vec<u8>> = (0..3u32)
        .map(|s| {
            (0..400_000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) ^ s) as u8)
                .collect()
        })
        .collect();
    let mut done = Vec::new();
    for file in &files {
        let hash = blake3::hash(file).to_hex().to_string();
        let location = create(&http, &base, &token, file.len(), &hash).await;
        let r = patch(&http, &base, &token, &location, 0, file.clone()).await;
        assert_eq!(r.status(), 204);
        done.push(hash);
    }
    let ops: Vec<Value> = (0..50)
        .map(|i| json!({"id": format!("op{i}"), "hlc": {"wall_ms": i, "counter": 0, "device": "k"}, "type": "rating", "track": format!("t{i}"), "rating": 40}))
        .collect();
    let r = http
        .post(format!("{base}/api/v1/ops"))
        .bearer_auth(&token)
        .json(&json!({"ops": ops}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Work in flight when the process dies: a half-sent upload, and more uploads and ops racing.
    let big: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(40_503) >> 7) as u8)
        .collect();
    let big_hash = blake3::hash(&big).to_hex().to_string();
    let big_location = create(&http, &base, &token, big.len(), &big_hash).await;
    assert_eq!(
        patch(
            &http,
            &base,
            &token,
            &big_location,
            0,
            big[..1_000_000].to_vec()
        )
        .await
        .status(),
        204
    );
    let racing = {
        let (http, base, token, big, loc) = (
            http.clone(),
            base.clone(),
            token.clone(),
            big.clone(),
            big_location.clone(),
        );
        tokio::spawn(async move {
            let _ = patch(
                &http,
                &base,
                &token,
                &loc,
                1_000_000,
                big[1_000_000..].to_vec(),
            )
            .await;
        })
    };
    let writer = {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        tokio::spawn(async move {
            for i in 50..500 {
                let op = json!({"ops": [{"id": format!("op{i}"), "hlc": {"wall_ms": i, "counter": 0, "device": "k"}, "type": "play", "track": "t", "at": i}]});
                if http
                    .post(format!("{base}/api/v1/ops"))
                    .bearer_auth(&token)
                    .json(&op)
                    .send()
                    .await
                    .is_err()
                {
                    break;
                }
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(30)).await;
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    let _ = racing.await;
    let _ = writer.await;

    // Restart on the same data.
    let mut server = start(dir.path(), port);
    wait_ready(&http, &base).await;
    // Every acknowledged upload is there and intact.
    for (file, hash) in files.iter().zip(&done) {
        let r = http
            .get(format!("{base}/api/v1/blobs/{hash}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().await.unwrap().as_ref(), file.as_slice());
    }
    // Every acknowledged op is in the feed, once.
    let feed: Value = http
        .get(format!("{base}/api/v1/changes?limit=5000"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = feed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["op"]["id"].as_str().unwrap())
        .collect();
    for i in 0..50 {
        assert_eq!(
            ids.iter().filter(|id| **id == format!("op{i}")).count(),
            1,
            "op{i}"
        );
    }
    // The big upload either finished (and is then intact) or resumes from where the bytes stop.
    let finished = http
        .get(format!("{base}/api/v1/blobs/{big_hash}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    if finished.status() == 200 {
        assert_eq!(finished.bytes().await.unwrap().as_ref(), big.as_slice());
    } else {
        let head = http
            .head(format!("{base}{big_location}"))
            .bearer_auth(&token)
            .header("tus-resumable", "1.0.0")
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), 200);
        let offset: usize = head.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(offset >= 1_000_000, "{offset}");
        assert_eq!(
            patch(
                &http,
                &base,
                &token,
                &big_location,
                offset,
                big[offset..].to_vec()
            )
            .await
            .status(),
            204
        );
        let r = http
            .get(format!("{base}/api/v1/blobs/{big_hash}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.bytes().await.unwrap().as_ref(), big.as_slice());
    }
    // No blob in the store fails its hash. (An interrupted store write may leave a staging file
    // beside the blobs; its name is not a hash, so it is never served as one.)
    for entry in walk(&dir.path().join("store/blobs")) {
        let name = entry.file_name().unwrap().to_str().unwrap().to_owned();
        if name.len() != 64 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let bytes = std::fs::read(&entry).unwrap();
        assert_eq!(
            blake3::hash(&bytes).to_hex().as_str(),
            name,
            "{}",
            entry.display()
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

async fn create(http: &reqwest::Client, base: &str, token: &str, len: usize, hash: &str) -> String {
    let r = http
        .post(format!("{base}/api/v1/uploads"))
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", len.to_string())
        .header(
            "upload-metadata",
            format!(
                "blake3 {}",
                base64::engine::general_purpose::STANDARD.encode(hash)
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.headers()["location"].to_str().unwrap().to_owned()
}

async fn patch(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    location: &str,
    offset: usize,
    body: Vec<u8>,
) -> reqwest::Response {
    http.patch(format!("{base}{location}"))
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", offset.to_string())
        .body(body)
        .send()
        .await
        .unwrap()
}

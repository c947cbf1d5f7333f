//! `kill -9` of a real `skylark-locker` process in the middle of uploads and op writes, then a
//! restart: acknowledged uploads and ops are all there, no blob failed its hash, and interrupted
//! uploads resume.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::python::free_port;
use crate::{Server, files_under, location, tus_create, tus_patch};

/// A `skylark-locker` process on `base`.
struct Process {
    http: reqwest::Client,
    base: String,
}

impl Server for Process {
    fn http(&self) -> &reqwest::Client {
        &self.http
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Starts the locker on `data`, its log appended to `log`.
fn start(data: &Path, port: u16, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_skylark-locker"))
        .args(["serve", "--data"])
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("SKYLARK_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// Starts the locker on `data` on a free port, its log appended to `log`, and waits until it
/// answers.
async fn launch(data: &Path, log: &Path) -> (Process, Child) {
    let port = free_port();
    let server = Process {
        http: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{port}"),
    };
    let mut process = start(data, port, log);
    wait_ready(&mut process, &server.http, &server.base).await;
    (server, process)
}

/// Prints the locker's log when the test fails, so a failure in CI says what the server saw.
struct ShowLogOnFailure<'a>(&'a Path);

impl Drop for ShowLogOnFailure<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.0).unwrap_or_default();
            eprintln!("--- the locker's log ---\n{log}");
        }
    }
}

/// Waits until the locker answers `/healthz`; a process that exits or stays silent for 30 s
/// fails the test.
async fn wait_ready(process: &mut Child, http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        if let Some(status) = process.try_wait().unwrap() {
            panic!("the locker exited with {status}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the locker did not answer within 30 s");
}

#[tokio::test]
async fn a_killed_server_keeps_what_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("locker.log");
    let _show_log = ShowLogOnFailure(&log);
    let conn = skylark_locker::open_database(dir.path()).unwrap();
    skylark_locker::accounts::add_user(&conn, "kim", "a long password", 0, 0).unwrap();
    drop(conn);
    let (server, mut process) = launch(dir.path(), &log).await;
    let (http, base) = (&server.http, &server.base);
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
        done.push(crate::upload(&server, &token, file).await);
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
    let big_location = location(&tus_create(&server, &token, big.len(), &big_hash).await);
    let first_half = tus_patch(&server, &token, &big_location, 0, big[..1_000_000].to_vec());
    assert_eq!(first_half.await.status(), 204);
    let racing = {
        let (server, token, big, loc) = (
            Process {
                http: http.clone(),
                base: base.clone(),
            },
            token.clone(),
            big.clone(),
            big_location.clone(),
        );
        tokio::spawn(async move {
            let _ = tus_patch(&server, &token, &loc, 1_000_000, big[1_000_000..].to_vec()).await;
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
    process.kill().unwrap(); // SIGKILL
    process.wait().unwrap();
    let _ = racing.await;
    let _ = writer.await;

    // Restart on the same data, on a port of its own: the old one may have gone to another
    // test's server in the meantime.
    let (server, mut process) = launch(dir.path(), &log).await;
    // Every acknowledged upload is there and intact.
    for (file, hash) in files.iter().zip(&done) {
        let r = crate::get(&server, &token, &format!("/api/v1/blobs/{hash}")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().await.unwrap().as_ref(), file.as_slice());
    }
    // Every acknowledged op is in the feed, once.
    let feed = crate::get_json(&server, &token, "/api/v1/changes?limit=5000").await;
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
    let big_url = format!("/api/v1/blobs/{big_hash}");
    let finished = crate::get(&server, &token, &big_url).await;
    if finished.status() == 200 {
        assert_eq!(finished.bytes().await.unwrap().as_ref(), big.as_slice());
    } else {
        let offset = crate::tus_offset(&server, &token, &big_location).await;
        assert!(offset >= 1_000_000, "{offset}");
        let rest = tus_patch(
            &server,
            &token,
            &big_location,
            offset,
            big[offset..].to_vec(),
        );
        assert_eq!(rest.await.status(), 204);
        let r = crate::get(&server, &token, &big_url).await;
        assert_eq!(r.bytes().await.unwrap().as_ref(), big.as_slice());
    }
    // No blob in the store fails its hash. (An interrupted store write may leave a staging file
    // beside the blobs; its name is not a hash, so it is never served as one.)
    for entry in files_under(&dir.path().join("store/blobs")) {
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
    process.kill().unwrap();
    process.wait().unwrap();
}

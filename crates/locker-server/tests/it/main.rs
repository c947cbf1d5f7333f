//! The locker over real HTTP on loopback: a real server, a real SQLite file, reqwest as the client;
//! for the S3 path a real S3-compatible server (moto) and for tus interoperability a real tus
//! client (tuspy), both from PyPI (`tests/requirements.txt`), started by the tests themselves; for
//! the Subsonic API a third-party Subsonic client library (py-opensonic), also from PyPI.

// Test helpers unwrap: a panic is a test failure with a location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod covers;
mod isolation;
mod kill;
mod matching;
mod ops;
mod python;
mod s3;
mod stream;
mod subsonic;
mod subsonic_client;
mod sweep;
mod transcode;
mod tus_client;
mod uploads;
mod users;
mod web;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value;
use skylark_locker::config::Config;
use skylark_locker::http::{AppState, serve};
use skylark_locker::{accounts, now_millis, open_database};

/// A locker serving on a free loopback port, with accounts `alice` and `bob`.
pub struct Locker {
    /// The data folder.
    pub dir: tempfile::TempDir,
    /// Where it listens.
    pub addr: SocketAddr,
    /// A client.
    pub http: reqwest::Client,
    config: Config,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Alice's password.
pub const ALICE_PASSWORD: &str = "alice's long password";
/// Bob's password.
pub const BOB_PASSWORD: &str = "bob's long password";

impl Locker {
    /// Starts a locker with `config` on a free port, in a new data folder.
    pub async fn start(config: Config) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_database(dir.path()).unwrap();
        accounts::add_user(&conn, "alice", ALICE_PASSWORD, 0, now_millis()).unwrap();
        accounts::add_user(&conn, "bob", BOB_PASSWORD, 10_000_000, now_millis()).unwrap();
        drop(conn);
        Self::start_in(dir, config).await
    }

    /// Starts a locker with `config` on a free port over the data folder `dir` as it is.
    pub async fn start_in(dir: tempfile::TempDir, config: Config) -> Self {
        let conn = open_database(dir.path()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::new(conn, config.clone(), dir.path()).unwrap();
        let task = tokio::spawn(serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Self {
            dir,
            addr,
            http: reqwest::Client::new(),
            config,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops the locker and starts a new one over the same data folder and settings (on another
    /// port).
    pub async fn restart(mut self) -> Self {
        self.shut_down().await;
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        Self::start_in(dir, self.config.clone()).await
    }

    /// Signs in and returns the bearer token.
    pub async fn login(&self, user: &str, password: &str) -> String {
        let response = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"username": user, "password": password, "device": "test"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        let body: serde_json::Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    /// Stops the server the way SIGTERM does and waits for it to finish.
    pub async fn stop(mut self) {
        self.shut_down().await;
    }

    async fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

/// A locker the helpers below can talk to: one in this process ([`Locker`]) or a `skylark-locker`
/// process.
pub trait Server {
    /// The HTTP client.
    fn http(&self) -> &reqwest::Client;
    /// The URL of `path` on the server.
    fn url(&self, path: &str) -> String;
}

impl Server for Locker {
    fn http(&self) -> &reqwest::Client {
        &self.http
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Locker {
    /// The URL of `path` on this locker.
    pub fn url(&self, path: &str) -> String {
        Server::url(self, path)
    }
}

/// `GET path` as the holder of `token`.
pub async fn get(server: &impl Server, token: &str, path: &str) -> reqwest::Response {
    server
        .http()
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// `GET path` as the holder of `token`, answered with JSON.
pub async fn get_json(server: &impl Server, token: &str, path: &str) -> Value {
    let response = get(server, token, path).await;
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// `POST path` with a JSON `body` as the holder of `token`.
pub async fn post_json(
    server: &impl Server,
    token: &str,
    path: &str,
    body: &Value,
) -> reqwest::Response {
    server
        .http()
        .post(server.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// The bytes the account of `token` stores (`used_bytes` of `/api/v1/me`).
pub async fn used_bytes(server: &impl Server, token: &str) -> u64 {
    get_json(server, token, "/api/v1/me").await["used_bytes"]
        .as_u64()
        .unwrap()
}

/// Checks a response is an API error with `status` and `code`.
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) {
    assert_eq!(response.status().as_u16(), status);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// BLAKE3 of `bytes` in hex.
pub fn blake3_hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// Deterministic test bytes.
pub fn payload(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) ^ seed).to_le_bytes()[1])
        .collect()
}

/// tus creation: an upload of `length` bytes whose BLAKE3 is `hash`, named `song.flac`.
pub async fn tus_create(
    server: &impl Server,
    token: &str,
    length: usize,
    hash: &str,
) -> reqwest::Response {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    server
        .http()
        .post(server.url("/api/v1/uploads"))
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

/// The `Location` of an upload tus creation made (checking it was made).
pub fn location(created: &reqwest::Response) -> String {
    assert_eq!(created.status(), 201);
    created.headers()["location"].to_str().unwrap().to_owned()
}

/// tus PATCH: `body` at `offset` of the upload at `location`.
pub async fn tus_patch(
    server: &impl Server,
    token: &str,
    location: &str,
    offset: usize,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    server
        .http()
        .patch(server.url(location))
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", offset.to_string())
        .body(body)
        .send()
        .await
        .unwrap()
}

/// tus HEAD: the offset the upload at `location` resumes from.
pub async fn tus_offset(server: &impl Server, token: &str, location: &str) -> usize {
    let r = server
        .http()
        .head(server.url(location))
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

/// Uploads `bytes` in one request and returns their BLAKE3 hash.
pub async fn upload(server: &impl Server, token: &str, bytes: &[u8]) -> String {
    let hash = blake3_hex(bytes);
    let location = location(&tus_create(server, token, bytes.len(), &hash).await);
    let done = tus_patch(server, token, &location, 0, bytes.to_vec()).await;
    assert_eq!(done.status(), 204);
    hash
}

/// `POST /api/v1/match` with `files` (a JSON array of `{file_hash, size[, audio_id]}`).
pub async fn post_match(server: &impl Server, token: &str, files: Value) -> reqwest::Response {
    post_json(
        server,
        token,
        "/api/v1/match",
        &serde_json::json!({ "files": files }),
    )
    .await
}

/// The verdicts of `POST /api/v1/match` for `files`.
pub async fn verdicts(server: &impl Server, token: &str, files: Value) -> Value {
    let response = post_match(server, token, files).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The client's side of a claim challenge: BLAKE3 of the nonce and the ranges of its own copy.
pub fn prove(challenge: &Value, file: &[u8]) -> String {
    let nonce = challenge["nonce"].as_str().unwrap();
    let mut hasher = blake3::Hasher::new();
    let nonce: Vec<u8> = (0..nonce.len() / 2)
        .map(|i| u8::from_str_radix(&nonce[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    hasher.update(&nonce);
    for range in challenge["ranges"].as_array().unwrap() {
        let (offset, len) = (
            range[0].as_u64().unwrap() as usize,
            range[1].as_u64().unwrap() as usize,
        );
        hasher.update(&file[offset..offset + len]);
    }
    hasher.finalize().to_hex().to_string()
}

/// Creates (or relinks) track `track` of the account of `token` over its blob `blob`.
pub async fn link(server: &impl Server, token: &str, track: &str, blob: &str) {
    let ops = serde_json::json!({"ops": [{
        "id": format!("link-{track}"), "hlc": {"wall_ms": 1, "counter": 0, "device": "d"},
        "type": "track_set", "track": track, "blob": blob, "fields": {"title": "Song"}
    }]});
    assert_eq!(
        post_json(server, token, "/api/v1/ops", &ops).await.status(),
        200
    );
}

/// `GET path` as the holder of `token` with `Range: range`.
pub async fn get_range(
    server: &impl Server,
    token: &str,
    path: &str,
    range: &str,
) -> reqwest::Response {
    server
        .http()
        .get(server.url(path))
        .bearer_auth(token)
        .header("range", range)
        .send()
        .await
        .unwrap()
}

/// Every file under `dir`, in every subfolder.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

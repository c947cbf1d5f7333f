//! The locker over real HTTP on loopback: a real server, a real SQLite file, reqwest as the client.

// Test helpers unwrap: a panic is a test failure with a location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod covers;
mod isolation;
mod kill;
mod matching;
mod ops;
mod stream;
mod uploads;
mod users;

use std::net::SocketAddr;

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
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Alice's password.
pub const ALICE_PASSWORD: &str = "alice's long password";
/// Bob's password.
pub const BOB_PASSWORD: &str = "bob's long password";

impl Locker {
    /// Starts a locker with `config` on a free port.
    pub async fn start(config: Config) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_database(dir.path()).unwrap();
        accounts::add_user(&conn, "alice", ALICE_PASSWORD, 0, now_millis()).unwrap();
        accounts::add_user(&conn, "bob", BOB_PASSWORD, 10_000_000, now_millis()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::new(conn, config, dir.path()).unwrap();
        let task = tokio::spawn(serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Self {
            dir,
            addr,
            http: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The URL of `path` on this locker.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
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
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
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

/// Uploads `bytes` in one request and returns their BLAKE3 hash.
pub async fn upload(locker: &Locker, token: &str, bytes: &[u8]) -> String {
    use base64::Engine;
    let hash = blake3::hash(bytes).to_hex().to_string();
    let created = locker
        .http
        .post(locker.url("/api/v1/uploads"))
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", bytes.len().to_string())
        .header(
            "upload-metadata",
            format!(
                "blake3 {}",
                base64::engine::general_purpose::STANDARD.encode(&hash)
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let done = locker
        .http
        .patch(locker.url(&location))
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", "0")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 204);
    hash
}

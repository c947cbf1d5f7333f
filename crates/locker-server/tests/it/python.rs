//! The Python programs from PyPI the tests run (`tests/requirements.txt`): moto's S3-compatible
//! server ([`Moto`]), the tuspy client driver (`tests/python/tus_upload.py`) and the py-opensonic
//! Subsonic client driver (`tests/python/subsonic_client.py`). A missing package fails the test
//! with the command that installs it; nothing is skipped.

use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The interpreter: `python3`, or `$SKYLARK_TEST_PYTHON`.
pub fn python() -> String {
    std::env::var("SKYLARK_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Fails the test unless `modules` import, saying how to install them.
pub fn require(modules: &[&str]) {
    let imports = modules
        .iter()
        .map(|m| format!("import {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    let out = Command::new(python()).args(["-c", &imports]).output();
    let ok = out.as_ref().is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "this test runs {modules:?} from PyPI, which `{}` cannot import ({}).\n\
         Install them with: {} -m pip install -r crates/locker-server/tests/requirements.txt",
        python(),
        match &out {
            Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
            Err(e) => e.to_string(),
        },
        python(),
    );
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// moto's S3-compatible server on a free loopback port, with one bucket; stopped when dropped.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The bucket made for the test.
    pub bucket: String,
}

impl Moto {
    /// Starts moto and makes the bucket `bucket`.
    pub async fn start(bucket: &str) -> Self {
        require(&["moto.server"]);
        let port = free_port();
        let child = Command::new(python())
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start moto's S3 server with {}: {e}", python()));
        let moto = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: bucket.to_owned(),
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        // moto accepts unsigned requests: the bucket is made with a plain PUT, which also tells
        // when the server is up.
        loop {
            match http.put(format!("{}/{bucket}", moto.endpoint)).send().await {
                Ok(r) if r.status().is_success() => return moto,
                Ok(r) => panic!("moto refused to make the bucket {bucket}: {}", r.status()),
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("moto's S3 server did not start within 60 s: {e}"),
            }
        }
    }

    /// The locker's settings for this bucket.
    pub fn config(&self) -> skylark_locker::config::S3Config {
        skylark_locker::config::S3Config {
            bucket: self.bucket.clone(),
            endpoint: Some(self.endpoint.clone()),
            region: Some("us-east-1".to_owned()),
            access_key_id: Some("skylark-test".to_owned()),
            secret_access_key: Some("skylark-test-secret".to_owned()),
            allow_http: true,
        }
    }

    /// A client of the bucket, to look at what the locker put there.
    pub fn store(&self) -> object_store::aws::AmazonS3 {
        let c = self.config();
        object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&c.bucket)
            .with_endpoint(&self.endpoint)
            .with_region("us-east-1")
            .with_access_key_id("skylark-test")
            .with_secret_access_key("skylark-test-secret")
            .with_allow_http(true)
            .build()
            .unwrap()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `tests/python/tus_upload.py` with `args` (on the blocking pool, so a locker on the
/// test's runtime keeps serving it) and returns what it did.
pub async fn tus_upload(args: Vec<String>) -> Output {
    require(&["tusclient"]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/tus_upload.py");
    tokio::task::spawn_blocking(move || {
        Command::new(python())
            .arg(script)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {script}: {e}"))
    })
    .await
    .unwrap()
}

/// Runs `tests/python/subsonic_client.py` (py-opensonic) with `args` on the blocking pool, so a
/// locker on the test's runtime keeps serving it.
pub async fn subsonic_client(args: Vec<String>) -> Output {
    require(&["libopensonic"]);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/subsonic_client.py"
    );
    tokio::task::spawn_blocking(move || {
        Command::new(python())
            .arg(script)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {script}: {e}"))
    })
    .await
    .unwrap()
}

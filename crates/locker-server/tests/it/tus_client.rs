//! Interoperability: tuspy, a third-party tus client from PyPI, uploads to a real locker over
//! loopback, is cut off in the middle of a chunk, resumes in a new process from the offset the
//! locker reports, and the file is then the account's (`have`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::{Value, json};
use skylark_locker::config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::python::tus_upload;
use crate::{ALICE_PASSWORD, Locker, blake3_hex, get, payload, verdicts};

/// A TCP proxy in front of the locker that cuts the connection carrying upstream byte number
/// `budget`, once; connections after that pass untouched.
struct CuttingProxy {
    addr: std::net::SocketAddr,
    cut: Arc<AtomicBool>,
}

impl CuttingProxy {
    async fn start(upstream: std::net::SocketAddr, budget: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sent = Arc::new(AtomicUsize::new(0));
        let cut = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cut);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (sent, cut) = (Arc::clone(&sent), Arc::clone(&flag));
                tokio::spawn(async move {
                    let server = TcpStream::connect(upstream).await.unwrap();
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    let down = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                    });
                    let mut buf = vec![0u8; 16 * 1024];
                    while let Ok(n) = client_read.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        let mut take = n;
                        if !cut.load(Ordering::SeqCst) {
                            let before = sent.fetch_add(n, Ordering::SeqCst);
                            if before + n >= budget {
                                take = budget.saturating_sub(before);
                                cut.store(true, Ordering::SeqCst);
                            }
                        }
                        if server_write.write_all(&buf[..take]).await.is_err() {
                            break;
                        }
                        if take < n {
                            // Both directions drop here: the client sees its connection reset
                            // in the middle of a request body.
                            down.abort();
                            return;
                        }
                    }
                    let _ = server_write.shutdown().await;
                    let _ = down.await;
                });
            }
        });
        Self { addr, cut }
    }
}

fn report(out: &std::process::Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap_or_else(|_| {
        panic!(
            "tus_upload.py printed no report:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[tokio::test]
async fn tuspy_uploads_resumes_after_a_cut_and_the_file_is_have() {
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let bytes = payload(3 * 1024 * 1024 + 12_345, 41);
    let hash = blake3_hex(&bytes);
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("song.flac");
    std::fs::write(&file, &bytes).unwrap();
    let store = work.path().join("tus-urls.json");

    // The connection drops halfway through the second 1 MiB chunk.
    let chunk = 1024 * 1024;
    let proxy = CuttingProxy::start(locker.addr, chunk + chunk / 2).await;
    let args = || {
        vec![
            format!("http://{}/api/v1/uploads", proxy.addr),
            token.clone(),
            file.display().to_string(),
            hash.clone(),
            store.display().to_string(),
            "--chunk".to_owned(),
            chunk.to_string(),
        ]
    };
    let first = tus_upload(args()).await;
    let first_report = report(&first);
    assert_eq!(first.status.code(), Some(3), "{first_report}");
    assert!(proxy.cut.load(Ordering::SeqCst));
    assert_eq!(
        first_report["offset"], chunk,
        "the first chunk was acknowledged"
    );

    // A new process resumes from the stored URL at the offset the locker reports: the bytes of
    // the cut chunk that arrived were kept.
    let second = tus_upload(args()).await;
    let second_report = report(&second);
    assert_eq!(
        second.status.code(),
        Some(0),
        "{second_report}\n{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let start = second_report["start"].as_u64().unwrap();
    assert!(
        start > chunk as u64 && start < (chunk + chunk / 2) as u64,
        "resumed from {start}"
    );
    assert_eq!(second_report["url"], first_report["url"].clone());

    // The locker holds exactly the file, and matching says so.
    let blob = get(&locker, &token, &format!("/api/v1/blobs/{hash}")).await;
    assert_eq!(blob.status(), 200);
    assert_eq!(blob.bytes().await.unwrap().as_ref(), bytes.as_slice());
    let files = json!([{"file_hash": hash, "size": bytes.len()}]);
    assert_eq!(
        verdicts(&locker, &token, files).await["results"][0]["status"],
        "have"
    );
    locker.stop().await;
}

#[tokio::test]
async fn tuspy_with_chunk_checksums() {
    let locker = Locker::start(Config::default()).await;
    let token = locker.login("alice", ALICE_PASSWORD).await;
    let bytes = payload(700_000, 42);
    let hash = blake3_hex(&bytes);
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("other.flac");
    std::fs::write(&file, &bytes).unwrap();
    let out = tus_upload(vec![
        locker.url("/api/v1/uploads"),
        token.clone(),
        file.display().to_string(),
        hash.clone(),
        work.path().join("urls.json").display().to_string(),
        "--chunk".to_owned(),
        "262144".to_owned(),
        "--checksum".to_owned(),
    ])
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        report(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    let blob = get(&locker, &token, &format!("/api/v1/blobs/{hash}")).await;
    assert_eq!(blob.bytes().await.unwrap().as_ref(), bytes.as_slice());
    locker.stop().await;
}

//! `RemoteSource`: range reads and seeks that match the file byte for byte, read-ahead through
//! cut and stalled connections, a clear error when the locker is gone, and the cache file.

use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::time::{Duration, Instant};

use skylark_locker::config::Config;
use skylark_locker_client::{CacheStatus, Client, LocalFile, StreamOptions};

use crate::proxy::Proxy;
use crate::{Locker, read_all, via, wav};

/// A locker holding one 6 s WAV file of alice's.
fn setup() -> (Locker, tempfile::TempDir, LocalFile, Vec<u8>) {
    let locker = Locker::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let path = wav(dir.path(), "song", 6.0, 440.0);
    let file = LocalFile::hash(&path).unwrap();
    crate::upload(&locker.alice(), &file);
    let bytes = std::fs::read(&path).unwrap();
    (locker, dir, file, bytes)
}

fn small_buffers() -> StreamOptions {
    StreamOptions {
        read_ahead_bytes: 64 * 1024,
        retry_delay: Duration::from_millis(50),
        ..StreamOptions::default()
    }
}

/// A deterministic sequence of positions and lengths.
fn walk(len: u64) -> Vec<(u64, usize)> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..200)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % len, (x >> 40) as usize % 70_000 + 1)
        })
        .collect()
}

#[test]
fn reads_and_seeks_match_the_file_exactly() {
    let (locker, _dir, file, bytes) = setup();
    let mut source = locker
        .alice()
        .open_blob(&file.file_hash, small_buffers())
        .unwrap();
    assert_eq!(source.len(), file.size);
    assert_eq!(source.extension(), Some("wav"));

    // Sequential reads in odd sizes.
    let mut all = Vec::new();
    let mut buf = vec![0u8; 7_919];
    loop {
        let n = source.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        all.extend_from_slice(&buf[..n]);
    }
    assert!(all == bytes, "sequential read differs");

    // Random seeks, each followed by an exact read.
    for (pos, len) in walk(file.size) {
        assert_eq!(source.seek(SeekFrom::Start(pos)).unwrap(), pos);
        let want = &bytes[pos as usize..(pos as usize + len).min(bytes.len())];
        let mut got = vec![0u8; want.len()];
        source.read_exact(&mut got).unwrap();
        assert!(got == want, "{len} bytes at {pos}");
    }

    // Relative and end seeks, and reads at and past the end.
    source.seek(SeekFrom::End(-10)).unwrap();
    assert_eq!(read_all(&mut source).unwrap(), &bytes[bytes.len() - 10..]);
    assert_eq!(source.read(&mut buf).unwrap(), 0);
    source.seek(SeekFrom::Start(100)).unwrap();
    source.seek(SeekFrom::Current(-50)).unwrap();
    let mut five = [0u8; 5];
    source.read_exact(&mut five).unwrap();
    assert_eq!(five, bytes[50..55]);
    assert!(source.seek(SeekFrom::Current(-1_000)).is_err());
    source.seek(SeekFrom::Start(file.size + 5)).unwrap();
    assert_eq!(source.read(&mut buf).unwrap(), 0);
}

#[test]
fn the_audio_id_of_a_stream_is_the_local_files() {
    let (locker, _dir, file, _) = setup();
    let source = locker
        .alice()
        .open_blob(&file.file_hash, StreamOptions::default())
        .unwrap();
    let id = skylark_tags::audio_id_reader(source, Some("song.wav")).unwrap();
    assert_eq!(Some(id), file.audio_id);
}

#[test]
fn cut_connections_are_resumed_where_they_broke() {
    let (locker, _dir, file, bytes) = setup();
    let proxy = Proxy::start(locker.addr);
    let alice = via(&locker.alice(), &proxy);
    // Armed before the first request: a fast locker can fill the socket buffers with most of
    // the file before a later arming would take effect.
    proxy.cut_down_every(150_000);
    let source = alice.open_blob(&file.file_hash, small_buffers()).unwrap();
    assert!(read_all(source).unwrap() == bytes);
    assert!(proxy.cuts() >= 3, "{} cuts", proxy.cuts());
}

#[test]
fn a_stalled_network_blocks_the_read_until_bytes_come() {
    let (locker, _dir, file, bytes) = setup();
    let proxy = Proxy::start(locker.addr);
    let alice = via(&locker.alice(), &proxy);
    let mut source = alice.open_blob(&file.file_hash, small_buffers()).unwrap();
    let watch = source.watch();
    let mut head = vec![0u8; 1000];
    source.read_exact(&mut head).unwrap();
    proxy.stall(true);
    // Far past the read-ahead: the reader must wait for the network.
    source.seek(SeekFrom::Start(file.size / 2)).unwrap();
    let reader = std::thread::spawn(move || {
        let mut rest = Vec::new();
        source.read_to_end(&mut rest).map(|_| rest)
    });
    std::thread::sleep(Duration::from_millis(500));
    assert!(watch.is_waiting(), "the read is blocked, buffering");
    assert!(!reader.is_finished());
    proxy.stall(false);
    let rest = reader.join().unwrap().unwrap();
    assert!(rest == bytes[bytes.len() / 2..]);
    assert!(!watch.is_waiting());
}

#[test]
fn a_locker_that_stays_gone_gives_a_clear_error_then_recovers() {
    let (locker, _dir, file, bytes) = setup();
    let proxy = Proxy::start(locker.addr);
    let alice = via(&locker.alice(), &proxy);
    let options = StreamOptions {
        max_failures: 3,
        ..small_buffers()
    };
    let mut source = alice.open_blob(&file.file_hash, options).unwrap();
    let mut head = vec![0u8; 1000];
    source.read_exact(&mut head).unwrap();
    proxy.refuse(true);
    source.seek(SeekFrom::Start(file.size / 2)).unwrap();
    let started = Instant::now();
    let mut buf = vec![0u8; 1000];
    let err = source.read(&mut buf).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionAborted);
    assert!(err.to_string().contains("from the locker failed"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));

    // The network is back: the next read tries again.
    proxy.refuse(false);
    let n = source.read(&mut buf).unwrap();
    let at = bytes.len() / 2;
    assert!(n > 0 && buf[..n] == bytes[at..at + n]);
}

#[test]
fn streamed_bytes_fill_a_verified_cache_file() {
    let (locker, dir, file, bytes) = setup();
    let cache = dir.path().join("cache").join("song.partial");
    let options = StreamOptions {
        cache_file: Some(cache.clone()),
        ..small_buffers()
    };
    let mut source = locker.alice().open_blob(&file.file_hash, options).unwrap();
    let watch = source.watch();
    assert!(matches!(watch.cache_status(), CacheStatus::Partial { .. }));
    // Read the second half first, then the first: the cache is filled out of order.
    source.seek(SeekFrom::Start(file.size / 2)).unwrap();
    read_all(&mut source).unwrap();
    assert!(matches!(watch.cache_status(), CacheStatus::Partial { .. }));
    source.seek(SeekFrom::Start(0)).unwrap();
    let mut first = vec![0u8; bytes.len() / 2];
    source.read_exact(&mut first).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while watch.cache_status() != CacheStatus::Complete && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(watch.cache_status(), CacheStatus::Complete);
    assert!(std::fs::read(&cache).unwrap() == bytes);
}

#[test]
fn another_account_cannot_read_the_blob() {
    let (locker, _dir, file, _) = setup();
    let err = locker
        .bob()
        .open_blob(&file.file_hash, StreamOptions::default())
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(skylark_locker_client::api::ErrorCode::NotFound),
        "{err}"
    );
    // Nor with a forged token.
    let mut credentials = locker.alice().credentials().clone();
    credentials.token = "0".repeat(64);
    let forged = Client::with_credentials(credentials).unwrap();
    let err = forged
        .open_blob(&file.file_hash, StreamOptions::default())
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
}

#[test]
fn a_lazy_stream_asks_nothing_until_it_is_read() {
    let (locker, _dir, file, bytes) = setup();
    let proxy = Proxy::start(locker.addr);
    let client = via(&locker.alice(), &proxy);
    let sent_before = proxy.up_bytes();
    let mut lazy = client.lazy_blob(file.file_hash, small_buffers());
    // Seeking to a position from the start needs no request either.
    assert_eq!(lazy.seek(SeekFrom::Start(1000)).unwrap(), 1000);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        proxy.up_bytes(),
        sent_before,
        "a request went out before any read"
    );
    let rest = read_all(&mut lazy).unwrap();
    assert_eq!(rest, bytes[1000..]);
    // Seeks from the end work once it is open.
    assert_eq!(lazy.seek(SeekFrom::End(-10)).unwrap(), file.size - 10);

    // A locker that cannot be reached is the first read's error, not a panic.
    let gone = proxy.url();
    drop(proxy);
    let mut credentials = client.credentials().clone();
    credentials.server = gone;
    let offline = Client::with_credentials(credentials).unwrap();
    let mut lazy = offline.lazy_blob(
        file.file_hash,
        StreamOptions {
            max_failures: 1,
            ..small_buffers()
        },
    );
    let mut buf = [0u8; 16];
    assert!(lazy.read(&mut buf).is_err());
}

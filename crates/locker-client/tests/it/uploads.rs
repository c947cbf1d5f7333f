//! Match, then upload over tus: resumable after dropped connections and restarts, pausable,
//! cancellable, within a bandwidth limit.

use std::time::{Duration, Instant};

use skylark_locker::config::Config;
use skylark_locker_client::api::MatchVerdict;
use skylark_locker_client::{
    Bandwidth, Client, Error, LocalFile, StreamOptions, TransferControl, Upload, UploadEvent,
    UploadOptions, UploadOutcome,
};

use crate::proxy::Proxy;
use crate::{Locker, read_all, via, wav};

const KIB: u64 = 1024;

fn quick_retries() -> UploadOptions {
    UploadOptions {
        chunk_bytes: 256 * KIB,
        retry_delay: Duration::from_millis(200),
        ..UploadOptions::default()
    }
}

/// Uploads with `options`, recording every event.
fn upload_recording(
    client: &Client,
    up: &mut Upload,
    options: &UploadOptions,
    control: &TransferControl,
) -> (
    skylark_locker_client::Result<skylark_locker_client::UploadReport>,
    Vec<UploadEvent>,
) {
    let mut events = Vec::new();
    let result = client.upload(up, options, control, &mut |e, _| events.push(e.clone()));
    (result, events)
}

fn acknowledged(events: &[UploadEvent]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| match e {
            UploadEvent::Acknowledged { offset } => Some(*offset),
            _ => None,
        })
        .collect()
}

#[test]
fn match_upload_then_have() {
    let locker = Locker::start(Config::default());
    let alice = locker.alice();
    let dir = tempfile::tempdir().unwrap();
    let path = wav(dir.path(), "song", 3.0, 440.0);
    let file = LocalFile::hash(&path).unwrap();
    assert!(file.audio_id.is_some());
    assert_eq!(file.size, std::fs::metadata(&path).unwrap().len());

    assert_eq!(
        alice.match_files(std::slice::from_ref(&file)).unwrap(),
        [MatchVerdict::Upload]
    );
    let mut up = Upload::new(&file);
    let (report, events) = upload_recording(
        &alice,
        &mut up,
        &UploadOptions::default(),
        &TransferControl::new(),
    );
    let report = report.unwrap();
    assert_eq!(report.outcome, UploadOutcome::Uploaded);
    assert_eq!(report.bytes_sent, file.size, "every byte once");
    assert!(
        matches!(events[0], UploadEvent::Created { .. }),
        "{events:?}"
    );
    assert_eq!(acknowledged(&events).last(), Some(&file.size));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, UploadEvent::Progress { .. }))
    );
    assert_eq!(up.offset, file.size);

    assert_eq!(
        alice.match_files(std::slice::from_ref(&file)).unwrap(),
        [MatchVerdict::Have]
    );
    assert_eq!(alice.me().unwrap().used_bytes, file.size);
    let blob = alice
        .open_blob(&file.file_hash, StreamOptions::default())
        .unwrap();
    assert_eq!(read_all(blob).unwrap(), std::fs::read(&path).unwrap());
    assert_eq!(locker.partial_uploads(), 0);
}

#[test]
fn matching_many_files_goes_in_batches() {
    let locker = Locker::start(Config::default());
    let alice = locker.alice();
    let dir = tempfile::tempdir().unwrap();
    let uploaded = LocalFile::hash(&wav(dir.path(), "a", 0.5, 440.0)).unwrap();
    crate::upload(&alice, &uploaded);
    // 12,001 files: two full requests and one of a single file, answered in order.
    let mut files: Vec<LocalFile> = (0..12_000u32)
        .map(|i| LocalFile {
            file_hash: skylark_tags::FileHash::from_bytes(
                *blake3::hash(&i.to_le_bytes()).as_bytes(),
            ),
            ..uploaded.clone()
        })
        .collect();
    files.insert(10_500, uploaded.clone());
    let verdicts = alice.match_files(&files).unwrap();
    assert_eq!(verdicts.len(), files.len());
    for (i, v) in verdicts.iter().enumerate() {
        let expected = if i == 10_500 {
            MatchVerdict::Have
        } else {
            MatchVerdict::Upload
        };
        assert_eq!(*v, expected, "file {i}");
    }
}

/// Regression guard for resumability: a connection cut in the middle of a chunk costs at most
/// that chunk, and the locker receives nothing it had acknowledged twice.
#[test]
fn a_dropped_connection_resumes_from_the_acknowledged_offset() {
    let locker = Locker::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let path = wav(dir.path(), "song", 6.0, 440.0);
    let file = LocalFile::hash(&path).unwrap();
    let chunk = 256 * KIB;
    assert!(file.size > 3 * chunk);

    let proxy = Proxy::start(locker.addr);
    let alice = via(&locker.alice(), &proxy);
    // Cut in the middle of the second chunk (the first went through with its headers).
    proxy.cut_up_after(chunk + chunk / 2);
    let mut up = Upload::new(&file);
    let (report, events) =
        upload_recording(&alice, &mut up, &quick_retries(), &TransferControl::new());
    let report = report.unwrap();
    assert_eq!(report.outcome, UploadOutcome::Uploaded);
    assert_eq!(proxy.cuts(), 1);

    let retry = events
        .iter()
        .position(|e| matches!(e, UploadEvent::Retrying { .. }))
        .expect("the cut is retried");
    let acked_before = acknowledged(&events[..retry]);
    assert_eq!(acked_before, [chunk], "{events:?}");
    let resumed = events[retry..]
        .iter()
        .find_map(|e| match e {
            UploadEvent::Resumed { offset } => Some(*offset),
            _ => None,
        })
        .expect("a HEAD after the cut");
    assert_eq!(resumed, chunk, "the checksummed partial chunk is not kept");
    // What was resent is the second chunk, which was in flight (loopback socket buffers take
    // all of it before the cut), and no more.
    let resent = report.bytes_sent - file.size;
    assert!(resent > 0 && resent <= chunk, "resent {resent} bytes");

    let alice = locker.alice();
    assert_eq!(
        alice.match_files(std::slice::from_ref(&file)).unwrap(),
        [MatchVerdict::Have]
    );
    let blob = alice
        .open_blob(&file.file_hash, StreamOptions::default())
        .unwrap();
    assert_eq!(read_all(blob).unwrap(), std::fs::read(&path).unwrap());
}

/// Regression: the HEAD that follows a failed PATCH used to end the row of failures whenever it
/// answered, so a chunk cut every time it was sent was sent again forever, half a second apart,
/// and the upload never gave up. Only acknowledged bytes end the row now; once the upload gives
/// up, a later call resumes it where the locker stands.
#[test]
fn a_chunk_cut_every_time_it_is_sent_runs_out_of_attempts() {
    let locker = Locker::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let file = LocalFile::hash(&wav(dir.path(), "song", 3.0, 440.0)).unwrap();
    let chunk = 256 * KIB;
    assert!(file.size > chunk);
    let proxy = Proxy::start(locker.addr);
    let alice = via(&locker.alice(), &proxy);
    let options = UploadOptions {
        chunk_bytes: chunk,
        retry_delay: Duration::from_millis(20),
        max_failures: 4,
        ..UploadOptions::default()
    };
    // More cuts than attempts: an upload that never gives up uses them all, then finishes.
    proxy.cut_patches(&[Some(0.5); 12]);
    let mut up = Upload::new(&file);
    let (result, events) = upload_recording(&alice, &mut up, &options, &TransferControl::new());
    let err = result.unwrap_err();
    assert!(
        matches!(err, Error::GaveUp { attempts: 4, .. }),
        "{err:?} after {} cut PATCHes",
        proxy.patches_cut()
    );
    assert_eq!((proxy.patches(), proxy.patches_cut()), (4, 4));
    assert_eq!(
        proxy.patch_body_bytes(),
        4 * (chunk / 2),
        "four half chunks"
    );
    let failures: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            UploadEvent::Retrying { failures, .. } => Some(*failures),
            _ => None,
        })
        .collect();
    assert_eq!(failures, [1, 2, 3, 4]);
    assert!(acknowledged(&events).is_empty(), "{events:?}");
    assert!(up.url.is_some(), "the upload is kept to resume");

    // The cuts over, the next call resumes the same upload and sends each byte once.
    proxy.cut_patches(&[]);
    let (result, events) = upload_recording(&alice, &mut up, &options, &TransferControl::new());
    let report = result.unwrap();
    assert_eq!(report.outcome, UploadOutcome::Uploaded);
    assert_eq!(events[0], UploadEvent::Resumed { offset: 0 });
    assert_eq!(report.bytes_sent, file.size);
    assert_eq!(locker.upload_bytes(), file.size);
    assert_eq!(
        locker.alice().match_files(&[file]).unwrap(),
        [MatchVerdict::Have]
    );
}

/// Without per-chunk checksums the locker keeps every byte that arrived before the cut, so over
/// the whole upload it receives each byte exactly once.
#[test]
fn without_checksums_not_one_byte_reaches_the_locker_twice() {
    let locker = Locker::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let path = wav(dir.path(), "song", 6.0, 440.0);
    let file = LocalFile::hash(&path).unwrap();
    let proxy = Proxy::start(locker.addr);
    let alice = via(&locker.alice(), &proxy);
    proxy.cut_up_after(file.size / 2);
    let options = UploadOptions {
        checksum: false,
        chunk_bytes: file.size,
        ..quick_retries()
    };
    let mut up = Upload::new(&file);
    let (report, events) = upload_recording(&alice, &mut up, &options, &TransferControl::new());
    assert_eq!(report.unwrap().outcome, UploadOutcome::Uploaded);
    let resumed = events
        .iter()
        .find_map(|e| match e {
            UploadEvent::Resumed { offset } => Some(*offset),
            _ => None,
        })
        .expect("a HEAD after the cut");
    assert!(
        resumed > file.size / 4,
        "the locker kept what arrived: {resumed}"
    );
    assert_eq!(locker.upload_bytes(), file.size);
    assert_eq!(
        locker.alice().match_files(&[file]).unwrap(),
        [MatchVerdict::Have]
    );
}

/// An app that pauses (or dies) mid-upload persists the `Upload`; a new process resumes it from
/// the locker's offset and sends only the rest.
#[test]
fn a_paused_upload_resumes_after_a_restart() {
    let locker = Locker::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let path = wav(dir.path(), "song", 6.0, 440.0);
    let file = LocalFile::hash(&path).unwrap();
    let credentials = locker.alice().credentials().clone();

    let saved = {
        let client = Client::with_credentials(credentials.clone()).unwrap();
        let control = TransferControl::new();
        let options = UploadOptions {
            bandwidth: Some(Bandwidth::new(2 * 1024 * 1024)),
            ..quick_retries()
        };
        let mut persisted = String::new();
        let mut up = Upload::new(&file);
        let report = client
            .upload(&mut up, &options, &control, &mut |event, state| {
                if matches!(
                    event,
                    UploadEvent::Created { .. } | UploadEvent::Acknowledged { .. }
                ) {
                    persisted = serde_json::to_string(state).unwrap();
                }
                if matches!(event, UploadEvent::Acknowledged { offset } if *offset >= 512 * KIB) {
                    control.pause();
                }
            })
            .unwrap();
        assert_eq!(report.outcome, UploadOutcome::Paused);
        assert!(up.offset >= 512 * KIB && up.offset < file.size);
        persisted
    };

    let mut up: Upload = serde_json::from_str(&saved).unwrap();
    let at = up.offset;
    assert!(up.url.is_some());
    let client = Client::with_credentials(credentials).unwrap();
    let (report, events) =
        upload_recording(&client, &mut up, &quick_retries(), &TransferControl::new());
    let report = report.unwrap();
    assert_eq!(report.outcome, UploadOutcome::Uploaded);
    assert_eq!(events[0], UploadEvent::Resumed { offset: at });
    assert_eq!(report.bytes_sent, file.size - at, "only the rest is sent");
    assert_eq!(client.match_files(&[file]).unwrap(), [MatchVerdict::Have]);
}

/// The app died after the last chunk was acknowledged but before it saved that: the locker no
/// longer knows the upload, and matching shows the file is there.
#[test]
fn resuming_a_finished_upload_finds_it_in_the_locker() {
    let locker = Locker::start(Config::default());
    let alice = locker.alice();
    let dir = tempfile::tempdir().unwrap();
    let file = LocalFile::hash(&wav(dir.path(), "song", 1.0, 440.0)).unwrap();
    let mut up = Upload::new(&file);
    let mut stale = None;
    alice
        .upload(
            &mut up,
            &UploadOptions::default(),
            &TransferControl::new(),
            &mut |event, state| {
                if matches!(event, UploadEvent::Created { .. }) {
                    stale = Some(state.clone());
                }
            },
        )
        .unwrap();
    let mut stale = stale.unwrap();
    let report = alice
        .upload(
            &mut stale,
            &UploadOptions::default(),
            &TransferControl::new(),
            &mut |_, _| {},
        )
        .unwrap();
    assert_eq!(report.outcome, UploadOutcome::AlreadyInLocker);
    assert_eq!(report.bytes_sent, 0);
}

#[test]
fn a_cancelled_upload_leaves_nothing_behind() {
    let locker = Locker::start(Config::default());
    let alice = locker.alice();
    let dir = tempfile::tempdir().unwrap();
    let file = LocalFile::hash(&wav(dir.path(), "song", 6.0, 440.0)).unwrap();
    let control = TransferControl::new();
    let options = UploadOptions {
        bandwidth: Some(Bandwidth::new(1024 * 1024)),
        ..quick_retries()
    };
    let mut up = Upload::new(&file);
    let err = alice
        .upload(&mut up, &options, &control, &mut |event, _| {
            if matches!(event, UploadEvent::Progress { sent, .. } if *sent > 300 * KIB) {
                control.cancel();
            }
        })
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err:?}");
    assert_eq!(up.url, None);
    assert_eq!(
        locker.partial_uploads(),
        0,
        "the locker deleted the partial upload"
    );
    assert_eq!(alice.match_files(&[file]).unwrap(), [MatchVerdict::Upload]);
}

#[test]
fn the_bandwidth_limit_is_honoured() {
    let locker = Locker::start(Config::default());
    let alice = locker.alice();
    let dir = tempfile::tempdir().unwrap();
    let file = LocalFile::hash(&wav(dir.path(), "song", 3.0, 440.0)).unwrap();
    let rate = 256 * KIB;
    let options = UploadOptions {
        bandwidth: Some(Bandwidth::new(rate)),
        ..UploadOptions::default()
    };
    let started = Instant::now();
    let mut up = Upload::new(&file);
    let report = alice
        .upload(&mut up, &options, &TransferControl::new(), &mut |_, _| {})
        .unwrap();
    let took = started.elapsed().as_secs_f64();
    assert_eq!(report.outcome, UploadOutcome::Uploaded);
    // A quarter second's burst is allowed, then the rate holds.
    let expected = (file.size as f64 - rate as f64 / 4.0) / rate as f64;
    assert!(
        took > expected * 0.9 && took < expected * 2.0 + 1.0,
        "{} bytes took {took:.2} s at {rate} B/s (expected about {expected:.2} s)",
        file.size
    );
}

#[test]
fn quota_refusals_are_not_retried() {
    let locker = Locker::start(Config::default());
    let bob = locker.bob();
    let dir = tempfile::tempdir().unwrap();
    let file = LocalFile::hash(&wav(dir.path(), "song", 1.0, 440.0)).unwrap();
    // Bob's quota is 100 MB; declare a file far larger by lying about its size to the locker.
    let mut up = Upload::new(&file);
    up.size = 200_000_000;
    let err = bob
        .upload(
            &mut up,
            &UploadOptions::default(),
            &TransferControl::new(),
            &mut |_, _| {},
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::Io { .. }),
        "the size check comes first: {err:?}"
    );

    let big = dir.path().join("big.bin");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(150_000_000).unwrap();
    let bigfile = LocalFile {
        path: big.clone(),
        size: 150_000_000,
        file_hash: skylark_tags::FileHash::from_bytes([1; 32]),
        audio_id: None,
    };
    let mut up = Upload::new(&bigfile);
    let started = Instant::now();
    let err = bob
        .upload(
            &mut up,
            &UploadOptions::default(),
            &TransferControl::new(),
            &mut |_, _| {},
        )
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(skylark_locker_client::api::ErrorCode::QuotaExceeded),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5), "no retries");
}

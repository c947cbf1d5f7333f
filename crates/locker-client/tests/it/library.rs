//! `Client::upload_library` over a catalog of generated songs, through a proxy that cuts upload
//! PATCH requests in the middle of their body while several files are in flight: every file
//! arrives whole with its hash, every track is published, and what the cuts cost is bounded and
//! counted.
//!
//! **The bound.** The library sends each file in PATCH requests of at most a chunk
//! (`CHUNK_BYTES` in `src/library.rs`, 1 MiB) with a SHA-1 per chunk, so the locker keeps a chunk
//! only once all of it arrived, and the client resumes from the offset the locker acknowledged
//! (HEAD). A cut therefore costs the bytes of the cut request's body, at most one chunk, and
//! nothing else: over the run the proxy forwards `sizes + cut bodies' bytes` of PATCH bodies,
//! at most `sizes + cuts × chunk`, and each cut costs exactly one more PATCH.
//!
//! **The counts.** `LibraryUploadReport::bytes_sent` counts the bytes the client handed to its
//! connections, resent ones and those of a file that failed included: at least what the proxy
//! forwarded, and at most that plus the rest of the cut requests' bodies (bytes of a cut body
//! may still sit in socket buffers when the connection goes).
//! `LibraryProgress::Uploading::bytes_done` is a position (bytes the locker holds or that are on
//! their way), not a count of bytes sent: it does not grow with resent bytes, and ends at the
//! queue's size.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use skylark_catalog::{Availability, Catalog, ScanOptions, Track};
use skylark_locker::config::Config;
use skylark_locker_client::{LibraryProgress, LibraryUpload, StreamOptions};
use skylark_tags::FileHash;
use skylark_testsupport::{Format, TagSpec, Tone, write_audio};

use crate::proxy::Proxy;
use crate::{Locker, read_all, via};

/// The bytes of one PATCH of `upload_library` (`CHUNK_BYTES` in `src/library.rs`).
const CHUNK: u64 = 1024 * 1024;

/// Five songs of 1.3 to 3.3 MB (WAV: about 176 kB a second), each sent in two to four chunks.
const SONGS: [(&str, f64); 5] = [
    ("Alder", 7.3),
    ("Birch", 11.9),
    ("Cedar", 15.1),
    ("Dogwood", 18.7),
    ("Elm", 9.4),
];

/// Which PATCH requests are cut, in the order the proxy sees them, and how far into their body:
/// the first two fall on the first chunks of the files in flight at once, the others, as the run
/// goes, on later chunks or on requests that resend a cut one (which file each cut hits is up to
/// the threads; how many cuts there are is not). Five cuts, fewer than the six failures in a row
/// an upload allows (`UploadOptions::max_failures`), so that no file gives up even if every cut
/// fell on it.
const SCHEDULE: [Option<f64>; 11] = [
    Some(0.5),
    Some(0.3),
    None,
    Some(0.8),
    None,
    None,
    Some(0.15),
    None,
    None,
    None,
    Some(0.95),
];

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

/// A device's catalog, scanned from its music folder.
struct Device {
    _dir: tempfile::TempDir,
    catalog: Catalog,
}

impl Device {
    /// A device whose music folder holds `songs` (name and seconds), as tagged WAV files.
    fn with(songs: &[(&str, f64)]) -> (Self, Vec<PathBuf>) {
        let dir = tempfile::tempdir().unwrap();
        let music = dir.path().join("Music");
        std::fs::create_dir_all(&music).unwrap();
        let paths: Vec<PathBuf> = songs
            .iter()
            .zip(1u32..)
            .map(|(&(title, seconds), n)| {
                let path = music.join(format!("{title}.wav"));
                let tone = Tone {
                    seconds,
                    frequency: 200.0 + 50.0 * f64::from(n),
                    ..Tone::default()
                };
                let tags = TagSpec {
                    title: Some(title.to_owned()),
                    artists: vec!["Grove".to_owned()],
                    album: Some("Trees".to_owned()),
                    track: Some((n, Some(5))),
                    ..TagSpec::default()
                };
                write_audio(&path, Format::Wav, &tone, &tags).unwrap();
                path
            })
            .collect();
        let mut catalog =
            Catalog::open(&dir.path().join("catalog.db"), &dir.path().join("covers")).unwrap();
        catalog
            .scan(&[music], &ScanOptions::at(at(0)), &|_| {})
            .unwrap();
        (Self { _dir: dir, catalog }, paths)
    }

    fn tracks(&self) -> Vec<Track> {
        crate::all_tracks(&self.catalog)
    }
}

/// The BLAKE3 of the file at `path`, from its bytes.
fn blake3_of(path: &Path) -> String {
    blake3::hash(&std::fs::read(path).unwrap())
        .to_hex()
        .to_string()
}

/// Each song's title and file hash, in title order.
fn titles_and_hashes(paths: &[PathBuf]) -> Vec<(String, String)> {
    SONGS
        .iter()
        .zip(paths)
        .map(|((title, _), path)| ((*title).to_owned(), blake3_of(path)))
        .collect()
}

/// Checks that every song is in the locker and published: on `laptop` each track is in the
/// locker as its file's hash, a device with no music that syncs sees every track, and each
/// one's blob, downloaded back, has the file's BLAKE3.
fn assert_published(locker: &Locker, laptop: &Device, expected: &[(String, String)]) {
    let on_laptop: Vec<(String, String)> = laptop
        .tracks()
        .into_iter()
        .map(|t| {
            assert_eq!(t.availability, Availability::Both, "{t:?}");
            let blob = laptop.catalog.locker_blob(t.id).unwrap().unwrap();
            (t.title, blob)
        })
        .collect();
    assert_eq!(on_laptop, expected);

    let alice = locker.alice();
    let (mut desktop, _) = Device::with(&[]);
    let synced = alice.sync(&mut desktop.catalog).unwrap();
    assert_eq!(
        synced.pulled.applied.tracks_added,
        expected.len() as u64,
        "{synced:?}"
    );
    let tracks = desktop.tracks();
    assert_eq!(tracks.len(), expected.len());
    for (track, (title, hash)) in tracks.into_iter().zip(expected) {
        assert_eq!(&track.title, title);
        assert_eq!(track.availability, Availability::Locker, "{track:?}");
        let blob = desktop.catalog.locker_blob(track.id).unwrap().unwrap();
        assert_eq!(&blob, hash, "{title}");
        let file_hash: FileHash = blob.parse().unwrap();
        let bytes = read_all(
            alice
                .open_blob(&file_hash, StreamOptions::default())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            &blake3::hash(&bytes).to_hex().to_string(),
            hash,
            "{title}'s blob"
        );
    }
    assert_eq!(locker.partial_uploads(), 0, "no upload left half done");
}

/// The uploading stage's (files done, files total, bytes done, bytes total), in order.
fn uploading(progress: &[LibraryProgress]) -> Vec<(u64, u64, u64, u64)> {
    progress
        .iter()
        .filter_map(|p| match p {
            LibraryProgress::Uploading {
                files_done,
                files_total,
                bytes_done,
                bytes_total,
                ..
            } => Some((*files_done, *files_total, *bytes_done, *bytes_total)),
            LibraryProgress::Hashing { .. } => None,
        })
        .collect()
}

/// The sizes of the files at `paths`.
fn sizes_of(paths: &[PathBuf]) -> Vec<u64> {
    paths
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .collect()
}

/// Uploads the songs with `parallel` files at a time through a proxy that cuts the PATCH
/// requests of [`SCHEDULE`], and checks what arrived and what it cost.
fn check_cut_library_upload(parallel: usize) {
    let locker = Locker::start(Config::default());
    let proxy = Proxy::start(locker.addr);
    let client = via(&locker.alice(), &proxy);
    let (mut laptop, paths) = Device::with(&SONGS);
    let sizes = sizes_of(&paths);
    let total: u64 = sizes.iter().sum();
    let chunks: u64 = sizes.iter().map(|s| s.div_ceil(CHUNK)).sum();
    assert!(
        sizes.iter().all(|s| *s > CHUNK),
        "every song takes more than one chunk: {sizes:?}"
    );

    proxy.cut_patches(&SCHEDULE);
    let mut progress = Vec::new();
    let options = LibraryUpload {
        parallel,
        ..LibraryUpload::default()
    };
    let report = client
        .upload_library(&mut laptop.catalog, &options, &mut |p| progress.push(p))
        .unwrap();

    // Every file was uploaded in this one run: the cuts were retried, none gave up.
    assert_eq!(
        (report.uploaded, report.failed, report.have, report.claimed),
        (5, 0, 0, 0),
        "{report:?}"
    );
    assert!(!report.paused);
    assert!(laptop.catalog.upload_queue().unwrap().is_empty());
    let cuts = SCHEDULE.iter().flatten().count() as u64;
    assert_eq!(proxy.patches_cut(), cuts, "every scheduled cut happened");
    assert_eq!(proxy.unfollowed(), 0, "the proxy saw every request");

    // What the cuts cost. The locker kept each byte once; the PATCH bodies the proxy forwarded
    // are the files plus what the cut bodies carried before their cut, so no acknowledged byte
    // went twice; each cut cost one more PATCH and at most a chunk.
    assert_eq!(locker.upload_bytes(), total);
    assert_eq!(proxy.patches(), chunks + cuts, "one more PATCH per cut");
    let forwarded = proxy.patch_body_bytes();
    assert_eq!(forwarded, total + proxy.cut_body_bytes());
    assert!(proxy.cut_body_bytes() > 0);
    assert!(proxy.cut_body_lengths() <= cuts * CHUNK);
    assert!(forwarded <= total + cuts * CHUNK, "{forwarded} of {total}");

    // The report counts resent bytes: at least what reached the proxy, at most the files and
    // the cut requests' whole bodies.
    assert!(
        report.bytes_sent >= forwarded,
        "the report counts {} bytes sent, the proxy forwarded {forwarded}",
        report.bytes_sent
    );
    assert!(
        report.bytes_sent <= total + proxy.cut_body_lengths(),
        "the report counts {} bytes sent of {total}, with {} in the cut requests",
        report.bytes_sent,
        proxy.cut_body_lengths()
    );

    // Progress: hashing of every file, then uploading, whose bytes done is a position that
    // never passes the queue's size and ends there.
    assert!(progress.contains(&LibraryProgress::Hashing { done: 4, total: 5 }));
    let uploading = uploading(&progress);
    assert!(
        uploading
            .iter()
            .all(|&(_, files, done, bytes)| files == 5 && bytes == total && done <= total),
        "{uploading:?}"
    );
    assert!(uploading.windows(2).all(|w| w[0].0 <= w[1].0));
    assert_eq!(uploading.last(), Some(&(5, 5, total, total)));

    assert_published(&locker, &laptop, &titles_and_hashes(&paths));
}

#[test]
fn a_library_upload_two_files_at_a_time_survives_cuts_mid_body() {
    check_cut_library_upload(2);
}

#[test]
fn a_library_upload_three_files_at_a_time_survives_cuts_mid_body() {
    check_cut_library_upload(3);
}

/// A file whose last chunk is cut every time it is sent runs out of attempts (six failures in a
/// row, `UploadOptions::max_failures`, with waits of 0.5 s doubling in between: this test takes
/// about 16 s). The run uploads and publishes the other files, reports that one failed, counts
/// the bytes it sent for it, and keeps it queued at its last acknowledged offset; the next run
/// sends only the rest of it.
#[test]
fn a_file_cut_every_time_fails_alone_and_the_next_run_finishes_it() {
    let locker = Locker::start(Config::default());
    let proxy = Proxy::start(locker.addr);
    let client = via(&locker.alice(), &proxy);
    let (mut laptop, paths) = Device::with(&SONGS);
    let sizes = sizes_of(&paths);
    let total: u64 = sizes.iter().sum();
    // Only Dogwood has a fourth chunk; it is cut wherever it is sent.
    let from = 3 * CHUNK;
    assert_eq!(
        sizes.iter().map(|s| *s > from).collect::<Vec<_>>(),
        [false, false, false, true, false],
        "{sizes:?}"
    );
    let tail = sizes[3] - from;
    proxy.cut_patches_from(from, 0.5);

    let options = LibraryUpload {
        parallel: 3,
        ..LibraryUpload::default()
    };
    let mut progress = Vec::new();
    let report = client
        .upload_library(&mut laptop.catalog, &options, &mut |p| progress.push(p))
        .unwrap();
    assert_eq!((report.uploaded, report.failed), (4, 1), "{report:?}");
    assert!(
        report.failures[0]
            .1
            .contains("gave up after 6 failed attempts"),
        "{:?}",
        report.failures
    );
    assert_eq!(proxy.patches_cut(), 6);
    assert_eq!(proxy.unfollowed(), 0, "the proxy saw every request");
    // Dogwood stays queued at the offset the locker acknowledged, with why it failed.
    let queue = laptop.catalog.upload_queue().unwrap();
    assert_eq!(queue.len(), 1, "{queue:?}");
    assert_eq!(
        laptop.catalog.track(queue[0].track).unwrap().title,
        "Dogwood"
    );
    assert_eq!(queue[0].sent, from);
    assert!(queue[0].error.is_some());
    assert_eq!(uploading(&progress).last().map(|u| u.0), Some(4));

    // The locker kept all but Dogwood's tail, once; the proxy forwarded that and what the six
    // cut bodies carried; the report counts every byte sent, Dogwood's included.
    let delivered = total - tail;
    assert_eq!(locker.upload_bytes(), delivered);
    let forwarded = proxy.patch_body_bytes();
    assert_eq!(forwarded, delivered + proxy.cut_body_bytes());
    assert!(proxy.cut_body_lengths() <= 6 * CHUNK);
    assert!(
        report.bytes_sent >= forwarded && report.bytes_sent <= delivered + proxy.cut_body_lengths(),
        "the report counts {} bytes sent; the proxy forwarded {forwarded}, {} in cut requests",
        report.bytes_sent,
        proxy.cut_body_lengths()
    );
    let published: Vec<(String, Availability)> = laptop
        .tracks()
        .into_iter()
        .map(|t| (t.title, t.availability))
        .collect();
    assert_eq!(
        published,
        [
            ("Alder".to_owned(), Availability::Both),
            ("Birch".to_owned(), Availability::Both),
            ("Cedar".to_owned(), Availability::Both),
            ("Dogwood".to_owned(), Availability::Local),
            ("Elm".to_owned(), Availability::Both),
        ]
    );

    // The next run, the cuts over, resumes Dogwood from where the locker stands.
    proxy.stop_cutting_patches();
    let again = client
        .upload_library(&mut laptop.catalog, &options, &mut |_| {})
        .unwrap();
    assert_eq!((again.uploaded, again.failed), (1, 0), "{again:?}");
    assert_eq!(again.bytes_sent, tail, "only the rest of Dogwood");
    assert_eq!(proxy.patch_body_bytes(), forwarded + tail);
    assert_eq!(locker.upload_bytes(), total);
    assert!(laptop.catalog.upload_queue().unwrap().is_empty());
    assert_published(&locker, &laptop, &titles_and_hashes(&paths));
}

/// A run paused mid-file counts the bytes it sent for the files it did not finish (they cost
/// bandwidth all the same), and the next run finishes them from the locker's offsets.
#[test]
fn a_paused_library_upload_counts_the_bytes_of_unfinished_files() {
    let locker = Locker::start(Config::default());
    let proxy = Proxy::start(locker.addr);
    let client = via(&locker.alice(), &proxy);
    let (mut laptop, paths) = Device::with(&SONGS);
    let total: u64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    let options = LibraryUpload::default();
    let control = options.control.clone();
    // Paused as soon as bytes are on their way: the files in flight are in their first chunk.
    let report = client
        .upload_library(&mut laptop.catalog, &options, &mut |p| {
            if matches!(p, LibraryProgress::Uploading { bytes_done, .. } if bytes_done > 0) {
                control.pause();
            }
        })
        .unwrap();
    assert!(report.paused, "{report:?}");
    assert!(report.uploaded < 5, "{report:?}");
    let forwarded = proxy.patch_body_bytes();
    assert!(forwarded > 0);
    // What the client handed to its connections, at least what reached the proxy; at most that
    // and the rest of the bodies the pause stopped, a chunk for each file in flight.
    assert!(
        report.bytes_sent >= forwarded && report.bytes_sent <= forwarded + 2 * CHUNK,
        "the report counts {} bytes sent; the proxy forwarded {forwarded}",
        report.bytes_sent
    );
    assert!(!laptop.catalog.upload_queue().unwrap().is_empty());

    control.resume();
    let again = client
        .upload_library(&mut laptop.catalog, &options, &mut |_| {})
        .unwrap();
    assert!(!again.paused);
    assert_eq!(report.uploaded + again.uploaded, 5, "{again:?}");
    assert_eq!(locker.upload_bytes(), total);
    let forwarded = proxy.patch_body_bytes();
    let sent = report.bytes_sent + again.bytes_sent;
    assert!(
        sent >= forwarded && forwarded >= total && sent <= total + 2 * CHUNK,
        "{sent} bytes counted, {forwarded} forwarded, of {total}"
    );
    assert_published(&locker, &laptop, &titles_and_hashes(&paths));
}

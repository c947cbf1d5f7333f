//! Sync: how long a fresh device takes to pull and apply a 10,000-track locker
//! ([`Client::sync`] into an empty catalog), and what a sync with nothing new costs; side by side
//! with fetching the same change feed without applying it (the transfer alone), in the same run.
//! The figures are in docs/benchmarks.md.
//!
//! Run with `make bench`, or `cargo bench -p skylark-locker-client --bench sync`. The locker runs
//! on loopback in this process, on a runtime of its own. Its account holds 10,000 tracks as a
//! desktop publishes them (every field `Catalog::set_in_locker` sends: tags, audio properties,
//! ReplayGain, audio id; 1,000 albums by 250 artists), 20 playlists of 50 entries, and 2,000
//! plays: 13,020 ops. The blobs are recorded as the account's without their bytes, which a sync
//! never reads.
//!
//! Each figure is the fastest of [`RUNS`] runs: on a shared machine other work can only add time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use skylark_catalog::Catalog;
use skylark_locker::config::Config;
use skylark_locker::loopback::Loopback;
use skylark_locker::{accounts, now_millis, open_database};
use skylark_locker_client::Client;
use skylark_locker_client::api::ops::{Change, Hlc, MAX_FEED_PAGE, Op};

/// Runs per figure.
const RUNS: usize = 5;
/// Tracks in the locker.
const TRACKS: usize = 10_000;
const PASSWORD: &str = "a long enough password";

fn hex(n: usize, salt: &str) -> String {
    blake3::hash(format!("{salt}{n}").as_bytes())
        .to_hex()
        .to_string()
}

/// The fields a desktop publishes for track `n`.
fn fields(n: usize) -> BTreeMap<String, Value> {
    let album = n / 10;
    let artist = album / 4;
    let genre = ["Rock", "Jazz", "Electronic", "Folk"][album % 4];
    let value = json!({
        "title": format!("Track {n} of the benchmark library"),
        "artist": format!("Artist {artist}"),
        "artists": [format!("Artist {artist}")],
        "album": format!("Album {album}"),
        "album_artist": format!("Artist {artist}"),
        "track_no": n % 10 + 1,
        "track_total": 10,
        "disc_no": 1,
        "disc_total": 1,
        "year": 1970 + album % 50,
        "date": format!("{}", 1970 + album % 50),
        "genre": genre,
        "genres": [genre],
        "duration_ms": 180_000 + (n % 120) * 1000,
        "sample_rate": 44_100,
        "channels": 2,
        "bit_depth": 16,
        "bitrate_kbps": 900,
        "codec": "flac",
        "rg_track_gain": -7.25,
        "rg_track_peak": 0.98,
        "rg_album_gain": -7.5,
        "rg_album_peak": 0.99,
        "audio_id": hex(n, "audio"),
        "mb_recording_id": format!("00000000-0000-4000-8000-{n:012}"),
        "loved": n.is_multiple_of(50),
        "compilation": false,
    });
    serde_json::from_value(value).unwrap()
}

/// The ops a laptop pushed to fill the locker.
fn library_ops() -> Vec<Op> {
    let mut counter = 0u32;
    let mut op = |change: Change| {
        counter += 1;
        Op {
            id: format!("laptop-{counter}"),
            hlc: Hlc {
                wall_ms: 1_700_000_000_000,
                counter,
                device: "laptop".to_owned(),
            },
            change,
        }
    };
    let mut ops = Vec::new();
    for n in 0..TRACKS {
        ops.push(op(Change::TrackSet {
            track: format!("track-{n}"),
            blob: Some(hex(n, "blob")),
            fields: fields(n),
        }));
    }
    for p in 0..20 {
        ops.push(op(Change::PlaylistSet {
            playlist: format!("playlist-{p}"),
            name: format!("Playlist {p}"),
        }));
        for e in 0..50 {
            ops.push(op(Change::PlaylistItemSet {
                playlist: format!("playlist-{p}"),
                item: format!("entry-{p}-{e}"),
                track: format!("track-{}", (p * 397 + e * 13) % TRACKS),
                order_key: format!("a{e:03}"),
            }));
        }
    }
    for n in 0..2000 {
        ops.push(op(Change::Play {
            track: format!("track-{}", n * 5 % TRACKS),
            at: 1_700_000_000_000 + n as i64,
        }));
    }
    ops
}

fn best(mut run: impl FnMut() -> Duration) -> Duration {
    (0..RUNS).map(|_| run()).min().unwrap()
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let conn = open_database(dir.path()).unwrap();
    let user = accounts::add_user(&conn, "alice", PASSWORD, 0, now_millis()).unwrap();
    // The account's blobs, without their bytes: a sync reads only their names.
    {
        let tx = conn.unchecked_transaction().unwrap();
        for n in 0..TRACKS {
            let hash = hex(n, "blob");
            tx.execute(
                "INSERT INTO blobs(hash, size, created_at) VALUES (?1, 30000000, 0)",
                [&hash],
            )
            .unwrap();
            tx.execute(
                "INSERT INTO user_blobs(user_id, hash, added_at) VALUES (?1, ?2, 0)",
                rusqlite::params![user.0, hash],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let locker = Loopback::start(conn, Config::default(), dir.path()).unwrap();

    let client = Client::sign_in(&locker.url, "alice", PASSWORD, "bench")
        .unwrap()
        .0;
    let ops = library_ops();
    for batch in ops.chunks(1000) {
        client.push_ops(batch).unwrap();
    }

    println!("## Sync: a fresh device pulls a {TRACKS}-track locker (loopback)\n");
    println!("{} ops in the feed; fastest of {RUNS} runs.\n", ops.len());
    let transfer = best(|| {
        let started = Instant::now();
        let mut since = 0;
        loop {
            let page = client.pull_changes(since, MAX_FEED_PAGE).unwrap();
            since = page.next;
            if !page.more {
                break;
            }
        }
        started.elapsed()
    });
    let mut incremental = Duration::MAX;
    let mut requests = 0;
    let first = best(|| {
        let device = tempfile::tempdir().unwrap();
        let mut catalog = Catalog::open(
            &device.path().join("catalog.db"),
            &device.path().join("covers"),
        )
        .unwrap();
        let started = Instant::now();
        let report = client.sync(&mut catalog).unwrap();
        let elapsed = started.elapsed();
        assert_eq!(report.pulled.applied.tracks_added, TRACKS as u64);
        let started = Instant::now();
        let again = client.sync(&mut catalog).unwrap();
        incremental = incremental.min(started.elapsed());
        requests = again.pulled.requests;
        assert_eq!(again.pulled.applied.ops, 0);
        elapsed
    });
    println!("| what | time |");
    println!("|---|---|");
    println!(
        "| first sync: pull and apply every op into an empty catalog | {:.2} s |",
        first.as_secs_f64()
    );
    println!(
        "| the feed's transfer alone (every page fetched and parsed, nothing applied) | {:.2} s |",
        transfer.as_secs_f64()
    );
    println!(
        "| a sync with nothing new ({requests} request{}) | {:.1} ms |",
        if requests == 1 { "" } else { "s" },
        incremental.as_secs_f64() * 1000.0
    );
    println!();
}

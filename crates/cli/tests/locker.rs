//! `skylark locker`, `upload`, `sync` and `play ID` against a real locker on loopback: three
//! libraries of one account, as three devices would hold them.

// Test helpers unwrap: a panic is a test failure with a location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use skylark_locker::config::Config;
use skylark_locker::loopback::Loopback;
use skylark_locker::{accounts, now_millis, open_database};
use skylark_testsupport::{Format, TagSpec, Tone, write_audio};

const PASSWORD: &str = "a long enough password";

/// A locker on a free loopback port, with the account `alice`, on a runtime of its own.
struct Locker {
    server: Loopback,
    url: String,
    _dir: tempfile::TempDir,
}

impl Locker {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_database(dir.path()).unwrap();
        accounts::add_user(&conn, "alice", PASSWORD, 0, now_millis()).unwrap();
        let server = Loopback::start(conn, Config::default(), dir.path()).unwrap();
        Self {
            url: server.url.clone(),
            server,
            _dir: dir,
        }
    }

    /// Upload bytes the locker has received, over every upload.
    fn upload_bytes(&self) -> u64 {
        self.server
            .state
            .metrics()
            .upload_bytes
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// One device's library: a data folder, and a music folder it may scan.
struct Device {
    dir: tempfile::TempDir,
}

impl Device {
    /// A device; with music, two tagged songs scanned into its library.
    fn new(with_music: bool) -> Self {
        let device = Device {
            dir: tempfile::tempdir().unwrap(),
        };
        if with_music {
            for (n, title) in ["Aurora", "Borealis"].iter().enumerate() {
                let tone = Tone {
                    seconds: 0.5,
                    frequency: 440.0 + 220.0 * n as f64,
                    ..Tone::default()
                };
                let tags = TagSpec {
                    title: Some((*title).to_owned()),
                    artists: vec!["Skyward".to_owned()],
                    album: Some("Night Sky".to_owned()),
                    ..TagSpec::default()
                };
                write_audio(
                    &device.music().join(format!("{title}.flac")),
                    Format::Flac,
                    &tone,
                    &tags,
                )
                .unwrap();
            }
            let music = device.music();
            device.ok(&["scan", music.to_str().unwrap()]);
        }
        device
    }

    fn music(&self) -> PathBuf {
        self.dir.path().join("Music")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_skylark"));
        command
            .arg("--db")
            .arg(self.dir.path().join("data/catalog.db"))
            .args(args)
            // The sign-in goes to the data folder, never to the keychain of whoever runs this.
            .env("SKYLARK_KEYCHAIN", "off");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    fn tracks(&self) -> Vec<Value> {
        self.ok(&["tracks", "--json", "--sort", "title"])
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn login(&self, locker: &Locker, password: &str) -> Output {
        let mut child = self
            .command(&["locker", "login", &locker.url, "alice"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    }
}

fn availability(tracks: &[Value]) -> Vec<&str> {
    tracks
        .iter()
        .map(|t| t["availability"].as_str().unwrap())
        .collect()
}

fn file_sizes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

#[test]
fn three_devices_share_one_locker_from_the_command_line() {
    let locker = Locker::start();

    // The laptop signs in (a wrong password first) and uploads its music.
    let laptop = Device::new(true);
    let wrong = laptop.login(&locker, "not the password");
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("signing in"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    let login = laptop.login(&locker, PASSWORD);
    assert!(
        login.status.success(),
        "{}",
        String::from_utf8_lossy(&login.stderr)
    );
    let status = laptop.json(&["locker", "status", "--json"]);
    assert_eq!(status["user"], "alice");
    assert_eq!(status["server"], locker.url.as_str());
    let dry = laptop.json(&["upload", "--dry-run", "--json"]);
    assert_eq!(
        (&dry["have"], &dry["uploaded"], &dry["bytes_sent"]),
        (&Value::from(0), &Value::from(2), &Value::from(0))
    );
    let up = laptop.json(&["upload", "--json"]);
    assert_eq!(
        (&up["have"], &up["claimed"], &up["uploaded"]),
        (&Value::from(0), &Value::from(0), &Value::from(2))
    );
    assert!(up["bytes_sent"].as_u64().unwrap() >= file_sizes(&laptop.music()));
    assert_eq!(availability(&laptop.tracks()), ["both", "both"]);
    // Nothing left to send.
    let again = laptop.json(&["upload", "--json"]);
    assert_eq!(
        (&again["uploaded"], &again["bytes_sent"]),
        (&Value::from(0), &Value::from(0))
    );

    // A desktop with no music sees both songs in the locker and plays one it never had.
    let desktop = Device::new(false);
    assert!(desktop.login(&locker, PASSWORD).status.success());
    let sync = desktop.json(&["sync", "--json"]);
    assert_eq!(sync["pulled"]["tracks_added"], 2, "{sync}");
    let tracks = desktop.tracks();
    assert_eq!(availability(&tracks), ["locker", "locker"]);
    assert_eq!(tracks[1]["title"], "Borealis");
    assert_eq!(tracks[1]["path"], Value::Null);
    let wav = desktop.dir.path().join("borealis.wav");
    let id = tracks[1]["id"].as_i64().unwrap().to_string();
    desktop.ok(&["play", &id, "--out", wav.to_str().unwrap()]);
    let rendered = std::fs::metadata(&wav).unwrap().len();
    // Half a second of 44.1 kHz stereo f32, and the WAV header.
    assert!(rendered > 44_100 * 2 * 4 / 2, "{rendered} bytes rendered");
    // What streamed whole stays as a cached copy.
    assert_eq!(availability(&desktop.tracks()), ["locker", "downloaded"]);

    // A studio with the same music uploads nothing, and holds one row per song.
    let studio = Device::new(true);
    assert!(studio.login(&locker, PASSWORD).status.success());
    let up = studio.json(&["upload", "--json"]);
    assert_eq!(
        (&up["have"], &up["uploaded"], &up["bytes_sent"]),
        (&Value::from(2), &Value::from(0), &Value::from(0))
    );
    assert_eq!(availability(&studio.tracks()), ["both", "both"]);

    // The desktop keeps Aurora for offline: downloaded, checked, and playable with the locker
    // gone (below).
    let aurora = tracks[0]["id"].as_i64().unwrap().to_string();
    let got = desktop.json(&["download", &aurora, "--json"]);
    assert_eq!(
        (&got["pinned"], &got["downloaded"], &got["failed"]),
        (&Value::from(1), &Value::from(1), &Value::from(0))
    );
    let size = std::fs::metadata(laptop.music().join("Aurora.flac"))
        .unwrap()
        .len();
    assert_eq!(got["bytes"], size);
    assert_eq!(
        availability(&desktop.tracks()),
        ["downloaded", "downloaded"]
    );
    let offline = desktop.ok(&["tracks", "--offline", "--json"]);
    assert_eq!(offline.lines().count(), 2);
    // Pinned again: nothing more to fetch.
    let again = desktop.json(&["download", &aurora, "--json"]);
    assert_eq!(again["downloaded"], 0);

    // Signing out ends the session on the locker and forgets it here.
    let out = laptop.ok(&["locker", "logout"]);
    assert!(out.contains("signed out"), "{out}");
    assert_eq!(
        laptop.json(&["locker", "status", "--json"])["user"],
        Value::Null
    );
    let sync = laptop.run(&["sync"]);
    assert!(!sync.status.success());
    assert!(String::from_utf8_lossy(&sync.stderr).contains("not signed in"));

    // No locker at all: the downloaded and the cached track still play.
    drop(locker);
    let offline_wav = desktop.dir.path().join("offline.wav");
    desktop.ok(&["play", &id, "--out", offline_wav.to_str().unwrap()]);
    assert_eq!(std::fs::metadata(&offline_wav).unwrap().len(), rendered);
    desktop.ok(&["play", &aurora, "--out", offline_wav.to_str().unwrap()]);
    // Unpinned, with no room for a cache, both copies go, and playing says why it cannot.
    let evicted = desktop.json(&[
        "download",
        "--unpin",
        &aurora,
        "--cache-cap-mb",
        "0",
        "--json",
    ]);
    assert_eq!(evicted["evicted"], 2);
    assert_eq!(availability(&desktop.tracks()), ["locker", "locker"]);
    let failed = desktop.run(&["play", &aurora, "--out", offline_wav.to_str().unwrap()]);
    assert!(!failed.status.success());
    assert!(
        String::from_utf8_lossy(&failed.stderr).contains("streaming Aurora from the locker"),
        "{}",
        String::from_utf8_lossy(&failed.stderr)
    );
}

#[test]
fn an_upload_killed_half_way_goes_on_where_it_stopped() {
    let locker = Locker::start();
    let device = Device::new(false);
    // Twelve seconds of WAV: about 2.1 MB, three 1 MiB chunks.
    let song = device.music().join("Long.wav");
    let tone = Tone {
        seconds: 12.0,
        ..Tone::default()
    };
    write_audio(&song, Format::Wav, &tone, &TagSpec::default()).unwrap();
    let size = std::fs::metadata(&song).unwrap().len();
    let music = device.music();
    device.ok(&["scan", music.to_str().unwrap()]);
    assert!(device.login(&locker, PASSWORD).status.success());

    // Slowly, so that it can be killed after the locker has acknowledged a chunk.
    let mut slow = device
        .command(&["upload", "--limit-kbps", "300", "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let acknowledged = loop {
        let queue = device.ok(&["upload", "--queue", "--json"]);
        let sent = queue
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["sent"]
                    .as_u64()
                    .unwrap()
            })
            .max()
            .unwrap_or(0);
        if sent > 0 {
            break sent;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no chunk was acknowledged"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    slow.kill().unwrap();
    slow.wait().unwrap();
    assert!(acknowledged < size);

    let up = device.json(&["upload", "--json"]);
    assert_eq!(up["uploaded"], 1, "{up}");
    // Only what the locker had not acknowledged was sent again, and nothing is left queued.
    assert!(
        up["bytes_sent"].as_u64().unwrap() <= size - acknowledged,
        "{up} after {acknowledged} of {size} bytes were acknowledged"
    );
    assert!(
        locker.upload_bytes() <= size + 1024 * 1024,
        "{} bytes arrived for a {size}-byte file",
        locker.upload_bytes()
    );
    assert_eq!(device.ok(&["upload", "--queue", "--json"]), "");
    assert_eq!(availability(&device.tracks()), ["both"]);
}

#[test]
fn an_export_takes_the_songs_only_in_the_locker_along() {
    let locker = Locker::start();
    let laptop = Device::new(true);
    assert!(laptop.login(&locker, PASSWORD).status.success());
    laptop.ok(&["upload", "--json"]);
    let desktop = Device::new(false);
    assert!(desktop.login(&locker, PASSWORD).status.success());
    desktop.ok(&["sync"]);
    let tracks = desktop.tracks();
    assert_eq!(availability(&tracks), ["locker", "locker"]);
    // Aurora is kept offline here; Borealis is only in the locker.
    let aurora = tracks[0]["id"].as_i64().unwrap().to_string();
    desktop.ok(&["download", &aurora]);
    desktop.ok(&["playlist", "create", "Night"]);
    let borealis = tracks[1]["id"].as_i64().unwrap().to_string();
    desktop.ok(&["playlist", "add", "Night", &borealis, &aurora]);

    // Without the locker's songs: they are counted and left out.
    let plain = desktop.dir.path().join("plain");
    let report = desktop.json(&["export", plain.to_str().unwrap(), "--copy", "--json"]);
    assert_eq!(
        (&report["from_locker"], &report["locker_only"]),
        (&Value::from(1), &Value::from(1)),
        "{report}"
    );

    let out = desktop.dir.path().join("takeout");
    let report = desktop.json(&[
        "export",
        out.to_str().unwrap(),
        "--copy",
        "--with-locker",
        "--json",
    ]);
    assert_eq!(
        (
            &report["from_locker"],
            &report["locker_only"],
            &report["copied"]
        ),
        (&Value::from(2), &Value::from(0), &Value::from(2)),
        "{report}"
    );
    let album = out.join("music/Locker/Skyward/Night Sky");
    for title in ["Aurora", "Borealis"] {
        assert_eq!(
            std::fs::read(album.join(format!("{title}.flac"))).unwrap(),
            std::fs::read(laptop.music().join(format!("{title}.flac"))).unwrap(),
            "{title}"
        );
    }
    let playlist = std::fs::read_to_string(out.join("Night.m3u8")).unwrap();
    let entries: Vec<&str> = playlist.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        entries,
        [
            "music/Locker/Skyward/Night Sky/Borealis.flac",
            "music/Locker/Skyward/Night Sky/Aurora.flac"
        ]
    );
    // Again: nothing is fetched twice, and nothing half-fetched is left behind.
    let again = desktop.json(&[
        "export",
        out.to_str().unwrap(),
        "--copy",
        "--with-locker",
        "--json",
    ]);
    assert_eq!(
        (&again["copied"], &again["already_copied"]),
        (&Value::from(0), &Value::from(2)),
        "{again}"
    );
    let names: Vec<String> = std::fs::read_dir(&album)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    // Without a sign-in, --with-locker says what is missing.
    desktop.ok(&["locker", "logout"]);
    let refused = desktop.run(&["export", out.to_str().unwrap(), "--copy", "--with-locker"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not signed in"));
}

#[test]
fn a_track_taken_out_of_the_locker_stays_only_where_its_file_is() {
    let locker = Locker::start();
    let laptop = Device::new(true);
    assert!(laptop.login(&locker, PASSWORD).status.success());
    laptop.ok(&["upload", "--json"]);
    let desktop = Device::new(false);
    assert!(desktop.login(&locker, PASSWORD).status.success());
    desktop.ok(&["sync"]);
    let aurora = desktop.tracks()[0]["id"].as_i64().unwrap().to_string();
    let out = desktop.ok(&["locker", "remove", &aurora]);
    assert!(out.contains("1 tracks taken out of the locker"), "{out}");
    assert!(out.contains("told"), "{out}");
    let titles: Vec<Value> = desktop
        .tracks()
        .iter()
        .map(|t| t["title"].clone())
        .collect();
    assert_eq!(titles, ["Borealis"]);
    laptop.ok(&["sync"]);
    assert_eq!(availability(&laptop.tracks()), ["local", "both"]);
    // The track is gone from this library now: naming it again is an error.
    let again = desktop.run(&["locker", "remove", &aurora]);
    assert!(!again.status.success(), "a track that is gone is an error");
}

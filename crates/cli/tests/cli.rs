//! The `skylark` command as scripts use it: real binary, real files, JSON out.

// Test helpers unwrap: a panic is a test failure with a location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use skylark_testsupport::{Format, TagSpec, Tone, cover_jpeg, write_audio, write_zero_byte};

struct Env {
    dir: tempfile::TempDir,
    music: PathBuf,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let music = dir.path().join("Music");
        let tags = |title: &str, artist: &str, album: &str, n: u32| TagSpec {
            title: Some(title.to_owned()),
            artists: vec![artist.to_owned()],
            album: Some(album.to_owned()),
            track: Some((n, Some(2))),
            disc: Some((1, Some(1))),
            date: Some("2005".to_owned()),
            genres: vec!["Post-Rock".to_owned()],
            cover: (artist == "Sigur Rós").then(|| cover_jpeg(100, 100, [1, 2, 3])),
            ..TagSpec::default()
        };
        let tone = Tone::default();
        write_audio(
            &music.join("Sigur Rós/Takk/01.flac"),
            Format::Flac,
            &tone,
            &tags("Glósóli", "Sigur Rós", "Takk...", 1),
        )
        .unwrap();
        write_audio(
            &music.join("Sigur Rós/Takk/02.mp3"),
            Format::Mp3,
            &tone,
            &tags("Hoppípolla", "Sigur Rós", "Takk...", 2),
        )
        .unwrap();
        write_audio(
            &music.join("Björk/Vespertine/01.ogg"),
            Format::OggVorbis,
            &tone,
            &tags("Hidden Place", "Björk", "Vespertine", 1),
        )
        .unwrap();
        write_zero_byte(&music.join("broken.mp3")).unwrap();
        Self { dir, music }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_skylark"))
            .arg("--db")
            .arg(self.dir.path().join("data/catalog.db"))
            .args(args)
            .output()
            .unwrap()
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

    fn json_lines(&self, args: &[&str]) -> Vec<Value> {
        self.ok(args)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn music(&self) -> &str {
        self.music.to_str().unwrap()
    }
}

#[test]
fn scan_json_report() {
    let env = Env::new();
    let out = env.ok(&["scan", env.music(), "--json"]);
    let report: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(report["scanned"], 4);
    assert_eq!(report["added"], 3);
    assert_eq!(report["updated"], 0);
    assert_eq!(report["removed"], 0);
    assert_eq!(report["unchanged"], 0);
    assert!(report["elapsed_ms"].is_u64());
    let failed = report["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert!(failed[0]["path"].as_str().unwrap().ends_with("broken.mp3"));
    assert!(failed[0]["reason"].as_str().unwrap().contains("empty"));

    let again: Value = serde_json::from_str(env.ok(&["scan", "--json"]).trim()).unwrap();
    assert_eq!(
        (again["unchanged"].as_u64(), again["added"].as_u64()),
        (Some(3), Some(0))
    );
}

/// A FLAC file with an ID3v2 tag before its stream (some rippers write one) is read by its own
/// Vorbis comments, and the scan prints nothing on stderr: lofty's warning about the stray tag is
/// not the user's business.
#[test]
fn files_with_stray_tags_scan_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stray.flac");
    let tags = TagSpec {
        title: Some("Own Title".to_owned()),
        ..TagSpec::default()
    };
    write_audio(&path, Format::Flac, &Tone::default(), &tags).unwrap();
    // ID3v2.4: a header, then one TIT2 frame (UTF-8) naming another title.
    let text = b"\x03Stray Title";
    let mut frame = b"TIT2".to_vec();
    frame.extend([0, 0, 0, text.len() as u8, 0, 0]);
    frame.extend(text);
    let mut id3 = b"ID3\x04\x00\x00".to_vec();
    id3.extend([0, 0, 0, frame.len() as u8]);
    id3.extend(frame);
    id3.extend(std::fs::read(&path).unwrap());
    std::fs::write(&path, id3).unwrap();

    let env = Env::new();
    let out = env.run(&["scan", dir.path().to_str().unwrap(), "--json"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["added"], 1, "{report}");
    let titles: Vec<Value> = env
        .json_lines(&["tracks", "--json"])
        .into_iter()
        .map(|t| t["title"].clone())
        .collect();
    assert_eq!(titles, ["Own Title"]);
}

#[test]
fn tracks_json_lines_carry_the_documented_fields() {
    let env = Env::new();
    env.ok(&["scan", env.music(), "--json"]);
    let tracks = env.json_lines(&["tracks", "--json"]);
    assert_eq!(tracks.len(), 3);
    for field in [
        "id",
        "path",
        "title",
        "artist",
        "album",
        "album_artist",
        "track_no",
        "disc_no",
        "year",
        "genre",
        "duration_ms",
        "sample_rate",
        "channels",
        "codec",
        "has_cover",
    ] {
        assert!(
            tracks.iter().all(|t| t.get(field).is_some()),
            "missing {field}"
        );
    }
    let glosoli = tracks.iter().find(|t| t["title"] == "Glósóli").unwrap();
    assert_eq!(glosoli["artist"], "Sigur Rós");
    assert_eq!(glosoli["album_artist"], "Sigur Rós");
    assert_eq!(glosoli["track_no"], 1);
    assert_eq!(glosoli["disc_no"], 1);
    assert_eq!(glosoli["year"], 2005);
    assert_eq!(glosoli["genre"], "Post-Rock");
    assert_eq!(glosoli["codec"], "flac");
    assert_eq!(glosoli["sample_rate"], 44_100);
    assert_eq!(glosoli["channels"], 2);
    assert_eq!(glosoli["has_cover"], true);
    assert!(Path::new(glosoli["path"].as_str().unwrap()).ends_with("Sigur Rós/Takk/01.flac"));
    let ms = glosoli["duration_ms"].as_u64().unwrap();
    assert!((990..=1010).contains(&ms), "{ms}");
    // Sorted by artist: Björk before Sigur Rós.
    assert_eq!(tracks[0]["artist"], "Björk");
    let limited = env.json_lines(&["tracks", "--json", "--sort", "title", "--limit", "2"]);
    assert_eq!(limited.len(), 2);
    assert_eq!(limited[0]["title"], "Glósóli");
}

#[test]
fn search_albums_artists_and_stats() {
    let env = Env::new();
    env.ok(&["scan", env.music()]);
    let results: Value =
        serde_json::from_str(env.ok(&["search", "sig ro", "--json"]).trim()).unwrap();
    assert_eq!(results["artists"][0]["name"], "Sigur Rós");
    assert_eq!(results["albums"][0]["title"], "Takk...");
    assert_eq!(results["tracks"].as_array().unwrap().len(), 2);
    let bjork: Value = serde_json::from_str(env.ok(&["search", "bjork", "--json"]).trim()).unwrap();
    assert_eq!(bjork["tracks"][0]["title"], "Hidden Place");

    let albums = env.json_lines(&["albums", "--json"]);
    assert_eq!(
        albums
            .iter()
            .map(|a| a["title"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["Takk...", "Vespertine"]
    );
    assert_eq!(albums[0]["track_count"], 2);
    assert_eq!(albums[0]["year"], 2005);
    let artists = env.json_lines(&["artists", "--json"]);
    assert_eq!(
        artists
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["Björk", "Sigur Rós"]
    );
    assert!(env.ok(&["genres"]).contains("Post-Rock"));

    let stats: Value = serde_json::from_str(env.ok(&["stats", "--json"]).trim()).unwrap();
    assert_eq!(stats["tracks"], 3);
    assert_eq!(stats["albums"], 2);
    assert!(env.ok(&["stats"]).contains("tracks        3"));
}

#[test]
fn playlists_from_the_command_line() {
    let env = Env::new();
    env.ok(&["scan", env.music()]);
    let tracks = env.json_lines(&["tracks", "--json", "--sort", "title"]);
    let ids: Vec<String> = tracks.iter().map(|t| t["id"].to_string()).collect();
    env.ok(&["playlist", "create", "Evening"]);
    let mut add = vec!["playlist", "add", "Evening"];
    add.extend(ids.iter().map(String::as_str));
    env.ok(&add);
    env.ok(&["playlist", "add", "Evening", &ids[0], "--at", "0"]);
    let items = env.json_lines(&["playlist", "ls", "Evening", "--json"]);
    let titles: Vec<&str> = items
        .iter()
        .map(|i| i["track"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Glósóli", "Glósóli", "Hidden Place", "Hoppípolla"]);
    let last = items[3]["item"].to_string();
    env.ok(&["playlist", "mv", "Evening", &last, "0"]);
    let first =
        env.json_lines(&["playlist", "ls", "Evening", "--json"])[0]["track"]["title"].clone();
    assert_eq!(first, "Hoppípolla");
    let dup = items[1]["item"].to_string();
    env.ok(&["playlist", "rm", "Evening", &dup]);

    let file = env.dir.path().join("Lists/evening.m3u8");
    env.ok(&["playlist", "export", "Evening", file.to_str().unwrap()]);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with(
            "#EXTM3U\n#EXTINF:1,Sigur Rós - Hoppípolla\n../Music/Sigur Rós/Takk/02.mp3\n"
        ),
        "{text}"
    );
    std::fs::write(
        env.dir.path().join("Lists/extra.m3u"),
        format!("{text}/gone/x.mp3\n"),
    )
    .unwrap();
    let imported: Value = serde_json::from_str(
        env.ok(&[
            "playlist",
            "import",
            env.dir.path().join("Lists/extra.m3u").to_str().unwrap(),
            "--json",
        ])
        .trim(),
    )
    .unwrap();
    assert_eq!(imported["added"], 3);
    assert_eq!(imported["unresolved"][0], "/gone/x.mp3");
    let lists = env.json_lines(&["playlist", "ls", "--json"]);
    assert_eq!(
        lists
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["Evening", "extra"]
    );

    env.ok(&["playlist", "rename", "extra", "Extra"]);
    env.ok(&["playlist", "delete", "Extra"]);
    assert_eq!(env.json_lines(&["playlist", "ls", "--json"]).len(), 1);
}

#[test]
fn plays_ratings_recent_and_top() {
    let env = Env::new();
    env.ok(&["scan", env.music()]);
    let id = env.json_lines(&["tracks", "--json"])[0]["id"].to_string();
    env.ok(&["played", &id]);
    env.ok(&["played", &id]);
    env.ok(&["rate", &id, "4"]);
    let top = env.json_lines(&["top", "--json"]);
    assert_eq!(top.len(), 1);
    assert_eq!(top[0]["play_count"], 2);
    assert_eq!(top[0]["rating"], 80);
    assert_eq!(env.json_lines(&["recent", "--json"]).len(), 3);
}

#[test]
fn mistakes_give_one_clear_line_and_a_failure_code() {
    let env = Env::new();
    for (args, expect) in [
        (vec!["scan", "/no/such/folder"], "/no/such/folder"),
        (
            vec!["playlist", "add", "Nope", "1"],
            "no playlist named \"Nope\"",
        ),
        (vec!["rate", "1", "9"], "0 to 5 stars"),
        (vec!["played", "12345"], "no track with id 12345"),
    ] {
        let out = env.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("skylark: ") && err.contains(expect),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    env.ok(&["playlist", "create", "Dup"]);
    let out = env.run(&["playlist", "create", "dup"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = env.run(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2), "usage errors are clap's");
}

#[test]
fn the_data_dir_comes_from_the_environment() {
    let env = Env::new();
    let data = env.dir.path().join("profile");
    let out = Command::new(env!("CARGO_BIN_EXE_skylark"))
        .env("SKYLARK_DATA_DIR", &data)
        .args(["scan", env.music(), "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(data.join("catalog.db").exists());
    assert!(data.join("covers").is_dir());
}

/// A scan killed at any moment leaves a catalog that opens, holds no half-written track, and a
/// rescan completes it.
#[test]
fn a_scan_killed_midway_leaves_a_consistent_catalog() {
    let env = Env::new();
    // Enough files that the scan is still writing when it is killed.
    let source: Vec<PathBuf> = [
        "Sigur Rós/Takk/01.flac",
        "Sigur Rós/Takk/02.mp3",
        "Björk/Vespertine/01.ogg",
    ]
    .iter()
    .map(|p| env.music.join(p))
    .collect();
    for i in 0..3000 {
        let src = &source[i % source.len()];
        let dest = env.music.join(format!(
            "bulk/{:02}/{i:04}.{}",
            i / 100,
            src.extension().unwrap().to_str().unwrap()
        ));
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(src, &dest).unwrap();
    }
    let total = 3003;
    let db = env.dir.path().join("data/catalog.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_skylark"))
        .arg("--db")
        .arg(&db)
        .args(["scan", env.music()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some tracks are committed, or right away if it is faster than the poll.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() || std::time::Instant::now() > deadline {
            break;
        }
        let out = env.run(&["stats", "--json"]);
        if out.status.success() {
            let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
            if stats["tracks"].as_u64().unwrap_or(0) > 0 {
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait().unwrap();

    let before = env.json_lines(&["tracks", "--json"]);
    assert!(before.len() < total, "the scan was killed before the end");
    let report: Value = serde_json::from_str(env.ok(&["scan", "--json"]).trim()).unwrap();
    assert_eq!(report["scanned"], total + 1, "{report}");
    assert_eq!(
        report["added"].as_u64().unwrap() + report["unchanged"].as_u64().unwrap(),
        total as u64,
        "{report}"
    );
    assert_eq!(
        report["unchanged"].as_u64().unwrap(),
        before.len() as u64,
        "committed tracks are kept, not read again"
    );
    let after = env.json_lines(&["tracks", "--json"]);
    assert_eq!(after.len(), total);
    let paths: std::collections::HashSet<&str> =
        after.iter().map(|t| t["path"].as_str().unwrap()).collect();
    assert_eq!(paths.len(), total, "no track is written twice");
}

#[test]
fn play_renders_the_files_gaplessly_to_a_wav() {
    let dir = tempfile::tempdir().unwrap();
    let tone = Tone::default();
    let flac = dir.path().join("a.flac");
    write_audio(&flac, Format::Flac, &tone, &TagSpec::default()).unwrap();
    let out = dir.path().join("out.wav");
    let output = Command::new(env!("CARGO_BIN_EXE_skylark"))
        .arg("play")
        .args([&flac, &flac])
        .arg("--out")
        .arg(&out)
        .args(["--format", "s16", "--rate", "48000"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Two one-second tracks at 44.1 kHz, resampled to 48 kHz: two seconds, no gap.
    let bytes = std::fs::read(&out).unwrap();
    let data = bytes.windows(4).position(|w| w == b"data").unwrap();
    let data_len = u32::from_le_bytes(bytes[data + 4..data + 8].try_into().unwrap());
    assert_eq!(data_len, 2 * 48_000 * 2 * 2);
}

#[test]
fn play_without_out_plays_through_the_default_device() {
    let dir = tempfile::tempdir().unwrap();
    let flac = dir.path().join("a.flac");
    write_audio(&flac, Format::Flac, &Tone::default(), &TagSpec::default()).unwrap();
    // No sound card in CI: ALSA's default device becomes a `file` PCM over `null` that writes
    // the raw f32 samples cpal plays to `capture`.
    let capture = dir.path().join("capture.raw");
    let config = dir.path().join("asound.conf");
    std::fs::write(
        &config,
        format!(
            "</usr/share/alsa/alsa.conf>\npcm.!default {{\n type file\n slave.pcm \"null\"\n \
             file \"{}\"\n format \"raw\"\n}}\n",
            capture.display()
        ),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_skylark"))
        .arg("play")
        .args([&flac, &dir.path().join("missing.flac")])
        .env("ALSA_CONFIG_PATH", &config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("[1/2]") && stdout.contains("a.flac"),
        "{stdout}"
    );
    assert!(stderr.contains("missing.flac"), "{stderr}");
    // The `null` device plays as fast as it is fed, padding with silence when starved: what is
    // not silence is the one-second tone.
    let bytes = std::fs::read(&capture).unwrap();
    let loud = bytes
        .chunks_exact(4)
        .filter(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]).abs() > 0.01)
        .count();
    assert!(loud > 40_000, "{loud} loud samples");
}

/// A Music library XML (as Music writes `Library.xml`) for the three tracks of [`Env`], with
/// the music under `root`: locations percent-encoded in NFD, the Library master playlist, a
/// folder with a playlist in it, and a smart playlist.
fn itunes_xml(root: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let url = |rel: &str| {
        let mut out = String::from("file://");
        for b in format!("{root}/{rel}").nfd().collect::<String>().bytes() {
            if b.is_ascii_alphanumeric() || b"-._~/&()!'+,;=@:$".contains(&b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    };
    let track = |id: u32, name: &str, artist: &str, album: &str, rel: &str, stats: &str| {
        format!(
            "\t\t<key>{id}</key>\n\t\t<dict>\n\
             \t\t\t<key>Track ID</key><integer>{id}</integer>\n\
             \t\t\t<key>Name</key><string>{name}</string>\n\
             \t\t\t<key>Artist</key><string>{artist}</string>\n\
             \t\t\t<key>Album</key><string>{album}</string>\n\
             \t\t\t<key>Kind</key><string>MPEG audio file</string>\n\
             \t\t\t<key>Total Time</key><integer>1000</integer>\n\
             {stats}\
             \t\t\t<key>Persistent ID</key><string>00000000000000{id:02}</string>\n\
             \t\t\t<key>Track Type</key><string>File</string>\n\
             \t\t\t<key>Location</key><string>{}</string>\n\
             \t\t</dict>\n",
            url(rel)
        )
    };
    let playlist = |fields: &str, items: &[u32]| {
        let items: String = items
            .iter()
            .map(|i| {
                format!("\t\t\t\t<dict>\n\t\t\t\t\t<key>Track ID</key><integer>{i}</integer>\n\t\t\t\t</dict>\n")
            })
            .collect();
        format!(
            "\t\t<dict>\n{fields}\t\t\t<key>All Items</key><true/>\n\
             \t\t\t<key>Playlist Items</key>\n\t\t\t<array>\n{items}\t\t\t</array>\n\t\t</dict>\n"
        )
    };
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n<dict>\n\
         \t<key>Major Version</key><integer>1</integer>\n\
         \t<key>Minor Version</key><integer>1</integer>\n\
         \t<key>Application Version</key><string>1.4.5.7</string>\n\
         \t<key>Library Persistent ID</key><string>ABCDEF0123456789</string>\n\
         \t<key>Tracks</key>\n\t<dict>\n",
    );
    xml += &track(
        11,
        "Glósóli",
        "Sigur Rós",
        "Takk...",
        "Sigur Rós/Takk/01.flac",
        "\t\t\t<key>Play Count</key><integer>12</integer>\n\
         \t\t\t<key>Play Date UTC</key><date>2024-02-03T04:05:06Z</date>\n\
         \t\t\t<key>Date Added</key><date>2009-10-11T12:13:14Z</date>\n\
         \t\t\t<key>Rating</key><integer>80</integer>\n\
         \t\t\t<key>Loved</key><true/>\n",
    );
    xml += &track(
        12,
        "Hoppípolla",
        "Sigur Rós",
        "Takk...",
        "Sigur Rós/Takk/02.mp3",
        "\t\t\t<key>Play Count</key><integer>5</integer>\n\
         \t\t\t<key>Date Added</key><date>2009-10-11T12:13:15Z</date>\n",
    );
    xml += &track(
        13,
        "Hidden Place",
        "Björk",
        "Vespertine",
        "Björk/Vespertine/01.ogg",
        "\t\t\t<key>Rating</key><integer>60</integer>\n",
    );
    xml += "\t</dict>\n\t<key>Playlists</key>\n\t<array>\n";
    xml += &playlist(
        "\t\t\t<key>Name</key><string>Library</string>\n\t\t\t<key>Master</key><true/>\n\
         \t\t\t<key>Visible</key><false/>\n\t\t\t<key>Playlist Persistent ID</key><string>P0</string>\n",
        &[11, 12, 13],
    );
    xml += &playlist(
        "\t\t\t<key>Name</key><string>Iceland</string>\n\t\t\t<key>Folder</key><true/>\n\
         \t\t\t<key>Playlist Persistent ID</key><string>F1</string>\n",
        &[12, 11, 12],
    );
    xml += &playlist(
        "\t\t\t<key>Name</key><string>Rain &#38; Snow</string>\n\
         \t\t\t<key>Parent Persistent ID</key><string>F1</string>\n\
         \t\t\t<key>Playlist Persistent ID</key><string>P2</string>\n",
        &[12, 11, 12],
    );
    xml += &playlist(
        "\t\t\t<key>Name</key><string>Favourites</string>\n\
         \t\t\t<key>Playlist Persistent ID</key><string>P3</string>\n\
         \t\t\t<key>Smart Info</key>\n\t\t\t<data>\n\t\t\tAQEAAwAAAAIAAAAZAAAAAAAAAAcAAAAB\n\t\t\t</data>\n",
        &[13, 11],
    );
    xml += "\t</array>\n</dict>\n</plist>\n";
    xml
}

/// Title -> (rating, play count, last played, added, loved), from `tracks --json`.
fn stats_of(tracks: &[Value]) -> Vec<(String, Value, Value, Value, Value, Value)> {
    let mut out: Vec<_> = tracks
        .iter()
        .map(|t| {
            (
                t["title"].as_str().unwrap().to_owned(),
                t["rating"].clone(),
                t["play_count"].clone(),
                t["last_played"].clone(),
                t["added"].clone(),
                t["loved"].clone(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Playlist name -> entry titles, from `playlist ls`.
fn playlists_of(env: &Env, db: &Path) -> Vec<(String, Vec<String>)> {
    let run = |args: &[&str]| -> Vec<Value> {
        let out = Command::new(env!("CARGO_BIN_EXE_skylark"))
            .arg("--db")
            .arg(db)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let _ = env;
    run(&["playlist", "ls", "--json"])
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap().to_owned();
            let titles = run(&["playlist", "ls", &name, "--json"])
                .iter()
                .map(|i| i["track"]["title"].as_str().unwrap().to_owned())
                .collect();
            (name, titles)
        })
        .collect()
}

#[test]
fn import_itunes_dry_run_apply_again_and_undo() {
    let env = Env::new();
    env.ok(&["scan", env.music()]);
    let xml = env.dir.path().join("Library.xml");
    std::fs::write(&xml, itunes_xml(env.music())).unwrap();
    let xml = xml.to_str().unwrap();
    let db = env.dir.path().join("data/catalog.db");
    let before = env.json_lines(&["tracks", "--json"]);

    let dry: Value = serde_json::from_str(
        env.ok(&["import", "itunes", xml, "--dry-run", "--json"])
            .trim(),
    )
    .unwrap();
    assert_eq!(dry["applied"], false);
    assert_eq!(dry["import"], Value::Null);
    assert_eq!(dry["tracks"]["in_source"], 3);
    assert_eq!(dry["tracks"]["by_location"], 3);
    assert_eq!(dry["changes"]["tracks"], 3);
    assert_eq!(dry["playlists"][0]["name"], "Iceland / Rain & Snow");
    assert_eq!(dry["playlists"][0]["action"], "create");
    assert_eq!(dry["playlists"][1]["smart"], true);
    assert_eq!(dry["skipped_playlists"][0]["reason"], "built_in");
    assert_eq!(dry["skipped_playlists"][1]["reason"], "folder");
    assert_eq!(
        env.json_lines(&["tracks", "--json"]),
        before,
        "a dry run writes nothing"
    );
    assert!(playlists_of(&env, &db).is_empty());
    assert_eq!(env.ok(&["import", "list"]), "");
    let text = env.ok(&["import", "itunes", xml, "--dry-run"]);
    assert!(text.contains("dry run: nothing was written"), "{text}");
    assert!(
        text.contains("playlist new     Iceland / Rain & Snow (3 entries)"),
        "{text}"
    );

    let applied: Value =
        serde_json::from_str(env.ok(&["import", "itunes", xml, "--json"]).trim()).unwrap();
    assert_eq!(applied["applied"], true);
    let id = applied["import"].as_i64().unwrap();
    let tracks = env.json_lines(&["tracks", "--json"]);
    let glosoli = tracks.iter().find(|t| t["title"] == "Glósóli").unwrap();
    assert_eq!(glosoli["rating"], 80);
    assert_eq!(glosoli["play_count"], 12);
    assert_eq!(glosoli["last_played"], 1_706_933_106_000_i64);
    assert_eq!(glosoli["added"], 1_255_263_194_000_i64);
    assert_eq!(glosoli["loved"], true);
    let hidden = tracks
        .iter()
        .find(|t| t["title"] == "Hidden Place")
        .unwrap();
    assert_eq!(
        (hidden["rating"].clone(), hidden["play_count"].clone()),
        (Value::from(60), Value::from(0))
    );
    assert_eq!(
        playlists_of(&env, &db),
        [
            (
                "Favourites".to_owned(),
                vec!["Hidden Place".to_owned(), "Glósóli".to_owned()]
            ),
            (
                "Iceland / Rain & Snow".to_owned(),
                vec![
                    "Hoppípolla".to_owned(),
                    "Glósóli".to_owned(),
                    "Hoppípolla".to_owned()
                ]
            ),
        ]
    );
    let list = env.json_lines(&["import", "list", "--json"]);
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0]["id"].as_i64(), list[0]["kind"].as_str()),
        (Some(id), Some("itunes"))
    );

    let after = env.json_lines(&["tracks", "--json"]);
    let again = env.ok(&["import", "itunes", xml]);
    assert!(again.contains("nothing to change"), "{again}");
    assert_eq!(env.json_lines(&["tracks", "--json"]), after, "idempotent");
    assert_eq!(playlists_of(&env, &db).len(), 2);

    let undone: Value = serde_json::from_str(env.ok(&["import", "undo", "--json"]).trim()).unwrap();
    assert_eq!(undone["import"], id);
    assert_eq!(undone["playlists_deleted"], 2);
    assert_eq!(
        env.json_lines(&["tracks", "--json"]),
        before,
        "undo restores"
    );
    assert!(playlists_of(&env, &db).is_empty());
    let out = env.run(&["import", "undo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no import to undo"));
}

#[test]
fn import_itunes_from_a_moved_music_folder_with_map() {
    let env = Env::new();
    env.ok(&["scan", env.music()]);
    let old = "/Users/me/Music/iTunes/iTunes Media/Music";
    let xml = env.dir.path().join("Library.xml");
    std::fs::write(&xml, itunes_xml(old)).unwrap();
    let xml = xml.to_str().unwrap();
    let root = env.json_lines(&["roots", "--json"])[0]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    let text = env.ok(&["import", "itunes", xml, "--dry-run"]);
    let proposal = format!("proposed: --map '{old}={root}' would match 3 more entries");
    assert!(text.contains(&proposal), "{text}");
    let map = format!("{old}={root}");
    let report: Value = serde_json::from_str(
        env.ok(&["import", "itunes", xml, "--map", &map, "--json"])
            .trim(),
    )
    .unwrap();
    assert_eq!(report["tracks"]["by_mapping"], 3);
    assert_eq!(report["mappings"][0]["from"], old);
    assert_eq!(report["proposed_mappings"], serde_json::json!([]));
    let out = env.run(&["import", "itunes", xml, "--map", "nonsense"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("FROM=TO") && err.lines().count() == 1, "{err}");
    let out = env.run(&["import", "itunes", "/no/such/Library.xml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/Library.xml"));
}

#[test]
fn export_then_import_into_a_fresh_catalog_reproduces_playlists_and_stats() {
    let env = Env::new();
    env.ok(&["scan", env.music()]);
    let xml = env.dir.path().join("Library.xml");
    std::fs::write(&xml, itunes_xml(env.music())).unwrap();
    env.ok(&["import", "itunes", xml.to_str().unwrap()]);
    let hidden = env
        .json_lines(&["tracks", "--json"])
        .into_iter()
        .find(|t| t["title"] == "Hidden Place")
        .unwrap()["id"]
        .to_string();
    env.ok(&["played", &hidden]);
    env.ok(&["love", &hidden]);
    let original = stats_of(&env.json_lines(&["tracks", "--json"]));
    let db = env.dir.path().join("data/catalog.db");
    let lists = playlists_of(&env, &db);

    let out_dir = env.dir.path().join("Takeout");
    let report: Value = serde_json::from_str(
        env.ok(&["export", out_dir.to_str().unwrap(), "--copy", "--json"])
            .trim(),
    )
    .unwrap();
    assert_eq!(report["copied"], 3);
    assert_eq!(report["tracks"], 3);
    assert_eq!(report["locker_only"], 0);
    let help = env.ok(&["export", "--help"]);
    assert!(help.contains("needs the locker client"), "{help}");

    let fresh = env.dir.path().join("fresh/catalog.db");
    let run = |args: &[&str]| -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_skylark"))
            .arg("--db")
            .arg(&fresh)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["scan", out_dir.join("music").to_str().unwrap()]);
    run(&[
        "import",
        "stats",
        out_dir.join("stats.jsonl").to_str().unwrap(),
    ]);
    let mut m3u8: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "m3u8"))
        .map(|p| p.to_str().unwrap().to_owned())
        .collect();
    m3u8.sort();
    let mut args = vec!["import", "m3u"];
    args.extend(m3u8.iter().map(String::as_str));
    run(&args);
    let tracks: Vec<Value> = run(&["tracks", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(stats_of(&tracks), original);
    assert_eq!(playlists_of(&env, &fresh), lists);
}

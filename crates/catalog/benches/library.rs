//! The library benchmarks behind docs/benchmarks.md, each run side by side with what it is
//! compared against:
//!
//! - `scan`: a full scan of a generated library of 10,000 tagged files with a warm page cache,
//!   against bare parallel lofty reads and the tinytag and mutagen scanners in `benches/python`;
//!   wall time, and for skylark and lofty also CPU time, which a busy machine distorts less.
//! - `rescan`: the peak memory of a first scan of 100,000 files (the `skylark` binary, measured from
//!   outside), then a rescan of those unchanged files, against `find` listing the same tree.
//! - `search`: p50/p99 latency of typed queries over a 1,000,000-track catalog, against a `LIKE`
//!   scan of the same rows.
//!
//! Run with `make bench`, or `cargo bench -p skylark-catalog --bench library -- [scan|rescan|search]`.
//! Generated libraries are kept in `target/bench-data` and reused by later runs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use rayon::prelude::*;
use skylark_catalog::{Catalog, ScanOptions};
use skylark_tags::{AudioProperties, Codec, FileInfo, Tags};
use skylark_testsupport::{Format, TagSpec, Tone, cover_jpeg, write_audio};

const SCAN_FILES: usize = 10_000;
const RESCAN_FILES: usize = 100_000;
const SEARCH_TRACKS: usize = 1_000_000;

fn main() {
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let all = which.is_empty() || which.iter().any(|w| w == "all");
    let data = workspace().join("target/bench-data");
    std::fs::create_dir_all(&data).unwrap();
    println!("# Skylark library benchmarks\n");
    println!("machine: {}", machine());
    let mut scratch = Scratch::new(std::env::temp_dir().join("skylark-bench-work"));
    if all || which.iter().any(|w| w == "scan") {
        scan(&data, &mut scratch);
    }
    if all || which.iter().any(|w| w == "rescan") {
        rescan(&data, &mut scratch);
    }
    if all || which.iter().any(|w| w == "search") {
        search(&data);
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines().next().map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<u64>()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0);
    format!("{cpu}, {cores} cores, {} GiB RAM", mem / 1024 / 1024)
}

/// Fresh folders for the runs that write a catalog and cover files, none of them deleted before
/// every run is over (when this is dropped).
///
/// Deleting the last run's folder just before the next run made that run pay for the deletion:
/// ext4 without a journal (as on the machines these figures come from) has each new inode skip the
/// inodes deleted in the last minute or more, reading their inode table blocks one by one
/// (`recently_deleted` in fs/ext4/ialloc.c). With 537 cover files deleted and made again, that was
/// up to a third of a scan's CPU time in perf, for skylark and the Python scanners alike, while a
/// real first import does not follow a mass deletion. For the same reason the folders are in the
/// system's temporary folder, not in `target/`, where the build's own deletions just before cost
/// new inodes the same way (a scan written there took a third longer than one in /tmp, with
/// `recently_deleted` at the top of perf's list).
struct Scratch {
    base: PathBuf,
    runs: usize,
}

impl Scratch {
    /// Folders under `base`; what an interrupted earlier run left there is moved aside now and
    /// deleted with the rest at the end.
    fn new(base: PathBuf) -> Scratch {
        if base.exists() {
            let aside = base.join(format!("left-{}", std::process::id()));
            let tmp = base.with_extension("left");
            let _ = std::fs::remove_dir_all(&tmp);
            std::fs::rename(&base, &tmp).unwrap();
            std::fs::create_dir_all(&base).unwrap();
            std::fs::rename(&tmp, aside).unwrap();
        }
        Scratch { base, runs: 0 }
    }

    /// A new, empty folder.
    fn dir(&mut self) -> PathBuf {
        self.runs += 1;
        let dir = self.base.join(format!("run-{}", self.runs));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// Deterministic pseudo-random numbers (xorshift), so every run generates the same library.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A pronounceable pseudo-word from syllables, with some accented letters as real libraries have.
fn word(rng: &mut Rng) -> String {
    const SYLLABLES: [&str; 40] = [
        "ka", "lo", "mi", "ra", "sen", "to", "vel", "an", "bri", "dor", "el", "fa", "gu", "hal",
        "is", "jo", "ku", "lin", "mor", "na", "ó", "pe", "qui", "ros", "sa", "tum", "ur", "vé",
        "wa", "xi", "yo", "zor", "ber", "ch", "dia", "ëm", "fin", "gra", "ho", "ill",
    ];
    let n = 2 + rng.below(2);
    let mut w: String = (0..n)
        .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
        .collect();
    if let Some(first) = w.chars().next() {
        let upper: String = first.to_uppercase().collect();
        w.replace_range(..first.len_utf8(), &upper);
    }
    w
}

/// One to `max_words` pseudo-words.
fn name(rng: &mut Rng, max_words: usize) -> String {
    let words = 1 + rng.below(max_words);
    (0..words).map(|_| word(rng)).collect::<Vec<_>>().join(" ")
}

/// Writes a library of `albums` albums of 10 tracks, rotating formats per album, each album with
/// its own embedded cover. Returns the root.
fn generate_library(root: &Path, albums: usize) -> PathBuf {
    let marker = root.join(".complete");
    if marker.exists() {
        return root.to_owned();
    }
    let _ = std::fs::remove_dir_all(root);
    let formats = [
        Format::Mp3,
        Format::Flac,
        Format::OggVorbis,
        Format::M4aAac,
        Format::Opus,
    ];
    let tone = Tone {
        seconds: 1.0,
        ..Tone::default()
    };
    (0..albums).into_par_iter().for_each(|a| {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (a as u64 + 1));
        let artist = name(&mut rng, 2);
        let album = name(&mut rng, 3);
        let format = formats[a % formats.len()];
        let cover = cover_jpeg(200, 200, [(a % 251) as u8, (a / 251 % 251) as u8, 77]);
        let year = 1960 + rng.below(60);
        let genre = ["Rock", "Jazz", "Electronic", "Folk", "Hip-Hop", "Classical"][rng.below(6)];
        for t in 1..=10u32 {
            let title = name(&mut rng, 4);
            let path = root
                .join(&artist)
                .join(format!("{album} ({a})"))
                .join(format!("{t:02} {title}.{}", format.extension()));
            let tags = TagSpec {
                title: Some(title),
                artists: vec![artist.clone()],
                album: Some(album.clone()),
                album_artist: Some(artist.clone()),
                track: Some((t, Some(10))),
                disc: Some((1, Some(1))),
                date: Some(year.to_string()),
                genres: vec![genre.to_owned()],
                cover: Some(cover.clone()),
                ..TagSpec::default()
            };
            write_audio(&path, format, &tone, &tags).unwrap();
        }
    });
    std::fs::write(&marker, b"").unwrap();
    root.to_owned()
}

fn audio_files(root: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && skylark_catalog::scan::is_audio_path(e.path()))
        .map(|e| e.into_path())
        .collect()
}

/// Reads every file once so the page cache is warm.
fn warm(files: &[PathBuf]) {
    files.par_iter().for_each(|f| {
        let _ = std::fs::read(f);
    });
}

/// This process's CPU time so far (all threads), user and system, in seconds. Unlike wall time
/// it barely moves when other programs compete for the cores, so it shows what a change saved
/// even on a busy machine; the system part is the kernel's work for the process's calls.
fn cpu_seconds() -> [f64; 2] {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // The fields after the command name (which is in parentheses and may hold spaces): utime
    // and stime are the 12th and 13th, in clock ticks of 1/100 s (USER_HZ on Linux).
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    [fields[11], fields[12]].map(|ticks| ticks.parse::<f64>().unwrap() / 100.0)
}

/// A run's wall, user and system seconds.
#[derive(Clone, Copy)]
struct Times {
    wall: f64,
    user: f64,
    system: f64,
}

impl Times {
    /// The median of each measure (each taken separately) over `runs`.
    fn median(runs: &[Times]) -> Times {
        Times {
            wall: median(runs.iter().map(|t| t.wall).collect()),
            user: median(runs.iter().map(|t| t.user).collect()),
            system: median(runs.iter().map(|t| t.system).collect()),
        }
    }
}

/// The times of `run`.
fn timed(run: impl FnOnce()) -> Times {
    let (start, [user, system]) = (Instant::now(), cpu_seconds());
    run();
    let [user_after, system_after] = cpu_seconds();
    Times {
        wall: start.elapsed().as_secs_f64(),
        user: user_after - user,
        system: system_after - system,
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

fn run_python(script: &str, root: &Path, db: &Path, full: bool) -> f64 {
    let mut cmd = Command::new(python());
    cmd.arg(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("benches/python")
            .join(script),
    )
    .arg(root)
    .arg(db);
    if full {
        cmd.arg("--full");
    }
    let out = cmd.output().expect("python3");
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    summary["seconds"].as_f64().unwrap()
}

/// The times of a first scan of `root` into a new catalog in the empty folder `work`.
fn skylark_scan(root: &Path, work: &Path) -> Times {
    let mut catalog = Catalog::open(&work.join("catalog.db"), &work.join("covers")).unwrap();
    timed(|| {
        let report = catalog
            .scan(
                &[root.to_owned()],
                &ScanOptions::at(SystemTime::now()),
                &|_| {},
            )
            .unwrap();
        assert!(report.failed.is_empty(), "{:?}", report.failed.first());
    })
}

/// The times of reading every file with lofty on every core.
fn bare_lofty(files: &[PathBuf]) -> Times {
    timed(|| {
        let titles = files
            .par_iter()
            .filter(|f| {
                use lofty::prelude::*;
                lofty::read_from_path(f)
                    .ok()
                    .and_then(|t| {
                        t.primary_tag()
                            .and_then(|tag| tag.title().map(|s| !s.is_empty()))
                    })
                    .unwrap_or(false)
            })
            .count();
        assert_eq!(titles, files.len());
    })
}

fn scan(data: &Path, scratch: &mut Scratch) {
    println!("\n## Full scan of {SCAN_FILES} tagged files (warm page cache, median of 3)\n");
    let root = generate_library(&data.join("scan-library"), SCAN_FILES / 10);
    let files = audio_files(&root);
    assert_eq!(files.len(), SCAN_FILES);
    warm(&files);
    let n = files.len() as f64;
    let mut work = PathBuf::new();
    let skylark_times = Times::median(
        &(0..3)
            .map(|_| {
                work = scratch.dir();
                skylark_scan(&root, &work)
            })
            .collect::<Vec<_>>(),
    );
    let lofty_times = Times::median(&(0..3).map(|_| bare_lofty(&files)).collect::<Vec<_>>());
    let (skylark, lofty) = (skylark_times.wall, lofty_times.wall);
    let mut python = |script: &str, full: bool| {
        median(
            (0..3)
                .map(|_| run_python(script, &root, &scratch.dir().join("python.db"), full))
                .collect(),
        )
    };
    let tinytag_full = python("scan_tinytag.py", true);
    let mutagen_full = python("scan_mutagen.py", true);
    let tinytag = python("scan_tinytag.py", false);
    let mutagen = python("scan_mutagen.py", false);
    let thumbnails = {
        let catalog = Catalog::open(&work.join("catalog.db"), &work.join("covers")).unwrap();
        let start = Instant::now();
        let report = catalog.make_thumbnails(&|_, _| {}).unwrap();
        assert_eq!(report.failed, 0);
        (start.elapsed().as_secs_f64(), report.covers)
    };
    println!("| scanner | seconds | files/s | skylark is faster by |");
    println!("|---|---:|---:|---:|");
    for (label, secs) in [
        (
            "skylark scan: tags, covers stored by hash, SQLite catalog with indexes and FTS5",
            skylark,
        ),
        (
            "tinytag 2.1.1 scanner, same job (tags, covers by hash, SQLite with indexes and FTS5)",
            tinytag_full,
        ),
        ("mutagen 1.47 scanner, same job", mutagen_full),
        (
            "tinytag 2.1.1 scanner, tags only into a plain SQLite table",
            tinytag,
        ),
        (
            "mutagen 1.47 scanner, tags only into a plain SQLite table",
            mutagen,
        ),
        (
            "bare parallel lofty reads (rayon; no covers kept, no database)",
            lofty,
        ),
    ] {
        println!(
            "| {label} | {secs:.2} | {:.0} | {:.2}x |",
            n / secs,
            secs / skylark
        );
    }
    println!(
        "\nCPU time (all threads, median of 3): skylark scan {:.2} s user + {:.2} s system, bare lofty reads {:.2} s user + {:.2} s system; lofty takes {:.2} of skylark's.",
        skylark_times.user,
        skylark_times.system,
        lofty_times.user,
        lofty_times.system,
        (lofty_times.user + lofty_times.system) / (skylark_times.user + skylark_times.system)
    );
    println!(
        "\nAfter the scan, `make_thumbnails` made the 96 and 512 px renditions of its {} distinct covers in {:.2} s.",
        thumbnails.1, thumbnails.0
    );
}

/// The peak resident memory of a child process, read from /proc until it exits.
fn peak_rss(mut cmd: Command) -> (u64, Duration) {
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_path)
            && let Some(kb) = status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        {
            peak = peak.max(kb);
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success());
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (peak * 1024, start.elapsed())
}

fn rescan(data: &Path, scratch: &mut Scratch) {
    println!("\n## {RESCAN_FILES} files: first-scan peak memory and unchanged rescan\n");
    let source = generate_library(&data.join("scan-library"), SCAN_FILES / 10);
    let root = data.join("rescan-library");
    if !root.join(".complete").exists() {
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        for copy in 0..RESCAN_FILES / SCAN_FILES {
            let dest = root.join(format!("disk{copy}"));
            let status = Command::new("cp")
                .arg("-r")
                .arg(&source)
                .arg(&dest)
                .status()
                .unwrap();
            assert!(status.success());
        }
        std::fs::write(root.join(".complete"), b"").unwrap();
    }
    let work = scratch.dir();
    // Where `cargo build` below puts the binary: CARGO_TARGET_DIR if set, else the workspace's.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace().join("target"), |dir| workspace().join(dir));
    let bin = target.join("release/skylark");
    let built = Command::new(env!("CARGO"))
        .args(["build", "--release", "-q", "-p", "skylark-cli"])
        .current_dir(workspace())
        .status()
        .unwrap();
    assert!(built.success());
    let files = audio_files(&root);
    assert_eq!(files.len(), RESCAN_FILES);
    warm(&files);
    let mut cmd = Command::new(&bin);
    cmd.arg("--db")
        .arg(work.join("catalog.db"))
        .arg("scan")
        .arg(&root)
        .arg("--json");
    cmd.stdout(std::process::Stdio::null());
    let (peak, first) = peak_rss(cmd);

    let mut catalog = Catalog::open(&work.join("catalog.db"), &work.join("covers")).unwrap();
    let rescans: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let report = catalog
                .scan(&[], &ScanOptions::at(SystemTime::now()), &|_| {})
                .unwrap();
            assert_eq!(report.unchanged, RESCAN_FILES as u64);
            start.elapsed().as_secs_f64()
        })
        .collect();
    let finds: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let out = Command::new("find")
                .arg(&root)
                .args(["-type", "f", "-printf", "%s %T@ %p\\n"])
                .output()
                .unwrap();
            assert!(out.status.success());
            start.elapsed().as_secs_f64()
        })
        .collect();
    println!("| measurement | value |");
    println!("|---|---:|");
    println!(
        "| first scan of {RESCAN_FILES} files (`skylark scan`), wall time | {:.1} s |",
        first.as_secs_f64()
    );
    println!(
        "| peak resident memory of that scan | {:.0} MB |",
        peak as f64 / 1e6
    );
    println!(
        "| rescan of {RESCAN_FILES} unchanged files, median of 5 | {:.2} s |",
        median(rescans)
    );
    println!(
        "| `find -printf '%s %T@ %p'` over the same tree, median of 5 | {:.2} s |",
        median(finds)
    );
}

fn synthetic_catalog(path: &Path) {
    if path.exists() {
        return;
    }
    let tmp = path.with_extension("partial");
    let _ = std::fs::remove_file(&tmp);
    let mut catalog = Catalog::open(&tmp, &tmp.with_extension("covers")).unwrap();
    let mut rng = Rng(42);
    let artists: Vec<String> = (0..20_000).map(|_| name(&mut rng, 2)).collect();
    let genres = [
        "Rock",
        "Jazz",
        "Electronic",
        "Folk",
        "Hip-Hop",
        "Classical",
        "Pop",
        "Metal",
        "Soul",
        "Ambient",
    ];
    let mut batch = Vec::with_capacity(10_000);
    for album_no in 0..SEARCH_TRACKS / 10 {
        let artist = &artists[rng.below(artists.len())];
        let album = name(&mut rng, 3);
        let year = 1950 + rng.below(75) as i32;
        for t in 1..=10u32 {
            batch.push(FileInfo {
                tags: Tags {
                    title: Some(name(&mut rng, 4)),
                    artists: vec![artist.clone()],
                    album: Some(format!("{album} {album_no}")),
                    album_artist: Some(artist.clone()),
                    track_no: Some(t),
                    year: Some(year),
                    genres: vec![genres[rng.below(genres.len())].to_owned()],
                    ..Tags::default()
                },
                properties: AudioProperties {
                    duration: Duration::from_secs(120 + rng.below(300) as u64),
                    sample_rate: Some(44_100),
                    channels: Some(2),
                    bit_depth: None,
                    bitrate_kbps: Some(256),
                    codec: Codec::Aac,
                },
                cover: None,
            });
        }
        if batch.len() >= 10_000 {
            catalog.import_metadata(&batch, SystemTime::now()).unwrap();
            batch.clear();
        }
    }
    catalog.import_metadata(&batch, SystemTime::now()).unwrap();
    drop(catalog);
    std::fs::rename(&tmp, path).unwrap();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn search(data: &Path) {
    println!("\n## Search over {SEARCH_TRACKS} tracks\n");
    let db = data.join("search-1m.db");
    let started = Instant::now();
    synthetic_catalog(&db);
    println!(
        "(catalog ready in {:.0} s)\n",
        started.elapsed().as_secs_f64()
    );
    let catalog = Catalog::open(&db, &data.join("search-covers")).unwrap();
    assert_eq!(catalog.track_count().unwrap(), SEARCH_TRACKS as u64);
    // The queries a user types: every prefix of names in the library, one to three words.
    let mut rng = Rng(7);
    let mut queries = Vec::new();
    while queries.len() < 2_000 {
        let t = catalog
            .track(skylark_catalog::TrackId(
                1 + rng.below(SEARCH_TRACKS) as i64,
            ))
            .unwrap();
        let target = match rng.below(3) {
            0 => t.title.clone(),
            1 => t.artist.clone(),
            _ => format!("{} {}", t.artist, t.title),
        };
        let chars: Vec<char> = target.chars().collect();
        let cut = 1 + rng.below(chars.len().min(14));
        queries.push(chars[..cut].iter().collect::<String>().to_lowercase());
    }
    // One warm-up pass, then the measured pass.
    for q in queries.iter().take(200) {
        catalog.search(q, 20).unwrap();
    }
    let mut times: Vec<Duration> = queries
        .iter()
        .map(|q| {
            let start = Instant::now();
            let r = catalog.search(q, 20).unwrap();
            std::hint::black_box(r);
            start.elapsed()
        })
        .collect();
    times.sort();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut like_times: Vec<Duration> = queries
        .iter()
        .take(50)
        .map(|q| {
            let start = Instant::now();
            let pattern = format!("%{q}%");
            let n: i64 = conn
                .query_row(
                    "SELECT count(*) FROM (SELECT id FROM tracks WHERE title LIKE ?1 OR artist LIKE ?1 LIMIT 20)",
                    [&pattern],
                    |r| r.get(0),
                )
                .unwrap();
            std::hint::black_box(n);
            start.elapsed()
        })
        .collect();
    like_times.sort();
    println!(
        "| search ({} typed queries, 20 results per group) | p50 | p99 | max |",
        queries.len()
    );
    println!("|---|---:|---:|---:|");
    println!(
        "| skylark search (FTS5, grouped artists/albums/tracks) | {:.2} ms | {:.2} ms | {:.2} ms |",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3
    );
    println!(
        "| `LIKE '%q%'` over title and artist, first 20 (50 queries) | {:.2} ms | {:.2} ms | {:.2} ms |",
        percentile(&like_times, 0.5).as_secs_f64() * 1e3,
        percentile(&like_times, 0.99).as_secs_f64() * 1e3,
        like_times.last().unwrap().as_secs_f64() * 1e3
    );
    let slowest: Vec<&String> = {
        let mut indexed: Vec<(Duration, &String)> = queries
            .iter()
            .map(|q| {
                let s = Instant::now();
                catalog.search(q, 20).unwrap();
                (s.elapsed(), q)
            })
            .collect();
        indexed.sort_by_key(|entry| std::cmp::Reverse(entry.0));
        indexed.iter().take(5).map(|(_, q)| *q).collect()
    };
    println!("\nslowest queries: {slowest:?}");
}

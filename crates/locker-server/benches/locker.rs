//! The locker's benchmarks, each beside the tool a user would otherwise run, in the same run:
//!
//! - range streaming: 200 concurrent clients asking for 256 KiB ranges of 20 files, `wrk` against
//!   `skylark-locker` and against nginx serving the same files from disk (target: at least 0.7x
//!   nginx's throughput), with wrk's latencies to the last byte of a response; then the same
//!   requests from 200 keep-alive connections of the benchmark's own async client, taking turns
//!   between the two servers, for the p50 and p99 time to first byte (from sending a request to
//!   having its status line and headers);
//! - `match` of 10,000 files in an account of 100,000 tracks (target: under 200 ms);
//! - upload throughput of one 256 MiB tus PATCH against a plain loopback copy of the same bytes
//!   into a file (target: at least 80%);
//! - the server's resident memory at idle with 100,000 tracks (target: under 100 MB).
//!
//! `cargo bench -p skylark-locker --bench locker` (needs `nginx` and `wrk` from Debian). The
//! server under test is the release `skylark-locker` binary in its own process, on loopback, as a
//! user runs it. Results are printed as Markdown. `SKYLARK_BENCH_SECONDS` sets the length of each
//! wrk run and of each turn of the time-to-first-byte client (default 10). Naming phases after
//! `--` runs only those: `upload`, `stream`, `match`, `memory` (e.g. `cargo bench -p
//! skylark-locker --bench locker -- stream`).

// A benchmark is a program that reports: unwrapping and printing are what it is for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use base64::Engine;
use serde_json::{Value, json};

const PASSWORD: &str = "a benchmark password";
const STREAM_FILES: usize = 20;
const STREAM_FILE_BYTES: usize = 8 * 1024 * 1024;
const RANGE_BYTES: usize = 256 * 1024;
const CONNECTIONS: usize = 200;
const UPLOAD_BYTES: usize = 256 * 1024 * 1024;
const TRACKS: usize = 100_000;
const MATCH_FILES: usize = 10_000;

/// A part of the benchmark that can be run alone, named on the command line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Upload,
    Stream,
    Match,
    Memory,
}

impl Phase {
    const ALL: [Phase; 4] = [Phase::Upload, Phase::Stream, Phase::Match, Phase::Memory];

    fn name(self) -> &'static str {
        match self {
            Phase::Upload => "upload",
            Phase::Stream => "stream",
            Phase::Match => "match",
            Phase::Memory => "memory",
        }
    }

    /// The phases named in `args` (every phase when none is), skipping the flags `cargo bench`
    /// passes (`--bench`).
    fn chosen(args: impl Iterator<Item = String>) -> Result<Vec<Phase>> {
        let mut chosen = Vec::new();
        for arg in args.filter(|a| !a.starts_with('-')) {
            let phase = Phase::ALL
                .into_iter()
                .find(|p| p.name() == arg)
                .with_context(|| {
                    format!(
                        "no benchmark phase named {arg:?}: the phases are upload, stream, match, \
                         memory"
                    )
                })?;
            if !chosen.contains(&phase) {
                chosen.push(phase);
            }
        }
        Ok(if chosen.is_empty() {
            Phase::ALL.to_vec()
        } else {
            chosen
        })
    }
}

fn main() -> Result<()> {
    let phases = Phase::chosen(std::env::args().skip(1))?;
    let runs = |phase: Phase| phases.contains(&phase);
    let seconds: u64 = std::env::var("SKYLARK_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    if runs(Phase::Stream) {
        for tool in ["nginx", "wrk"] {
            if Command::new(tool)
                .arg("-v")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_err()
            {
                bail!("this benchmark runs `{tool}` side by side: apt-get install {tool}");
            }
        }
    }
    let work = tempfile::Builder::new()
        .prefix("skylark-locker-bench")
        .tempdir()
        .context("making a work folder")?;
    let data = work.path().join("data");
    add_user(&data, "bench")?;
    add_user(&data, "other")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut locker = LockerProcess::start(&data)?;
    let client = runtime.block_on(Api::login(locker.addr, "bench"))?;

    println!("## Locker benchmarks\n");
    println!("{}\n", machine());

    // The server's VmRSS at idle after each phase that runs, from its start.
    let mut rss = vec![("at start".to_owned(), locker.rss_kib()?)];

    // Uploads first, on a quiet machine; the streaming files are uploaded the same way.
    if runs(Phase::Upload) {
        let upload = runtime.block_on(upload_throughput(&client, work.path()))?;
        rss.push(("after the uploads".to_owned(), locker.rss_kib()?));
        println!(
            "**Upload** of one {} MiB file, one tus PATCH over loopback (median of 3, each of new \
             bytes, each timed step starting after a `sync`): {:.0} MB/s; a plain loopback copy \
             of the same bytes into a file: {:.0} MB/s; ratio {:.2} (target at least 0.80).\n",
            UPLOAD_BYTES >> 20,
            upload.locker_mb_s,
            upload.copy_mb_s,
            upload.locker_mb_s / upload.copy_mb_s
        );
    }

    // The streaming files are also the blobs of the tracks the match and memory phases seed.
    let hashes = runtime.block_on(seed_stream_files(&client))?;
    if runs(Phase::Stream) {
        let stream = stream_vs_nginx(
            &runtime,
            &locker,
            &client,
            &data,
            &hashes,
            seconds,
            work.path(),
        )?;
        std::thread::sleep(Duration::from_secs(2));
        rss.push((
            format!("after the {CONNECTIONS}-connection streaming runs"),
            locker.rss_kib()?,
        ));
        print_stream(&stream, seconds);
    }

    if !runs(Phase::Match) && !runs(Phase::Memory) {
        return Ok(());
    }
    let seeded = runtime.block_on(seed_tracks(&client, &hashes))?;
    std::thread::sleep(Duration::from_secs(2));
    rss.push(("after seeding the tracks".to_owned(), locker.rss_kib()?));
    let matched = if runs(Phase::Match) {
        let matched = runtime.block_on(match_timing(&client, &hashes))?;
        std::thread::sleep(Duration::from_secs(2));
        rss.push(("after the matches".to_owned(), locker.rss_kib()?));
        Some(matched)
    } else {
        None
    };
    let (mut locker, client, rss_restarted) = if runs(Phase::Memory) {
        drop(client);
        locker.stop();
        let locker = LockerProcess::start(&data)?;
        let client = runtime.block_on(Api::login(locker.addr, "bench"))?;
        std::thread::sleep(Duration::from_secs(2));
        let rss_restarted = locker.rss_kib()?;
        (locker, client, Some(rss_restarted))
    } else {
        (locker, client, None)
    };
    let tracks = runtime.block_on(client.tracks_in_feed())?;
    if let Some(matched) = matched {
        println!(
            "**Match** of {MATCH_FILES} files (half of them known by audio id, {STREAM_FILES} by \
             file hash, the rest new) in an account of {tracks} tracks: median {:.0} ms, slowest \
             {:.0} ms of 5 (target under 200 ms). Seeding the {TRACKS} tracks as ops took {:.1} s \
             ({} requests of 1,000 ops).\n",
            matched.median.as_secs_f64() * 1000.0,
            matched.max.as_secs_f64() * 1000.0,
            seeded.as_secs_f64(),
            TRACKS / 1000
        );
    }
    if let Some(rss_restarted) = rss_restarted {
        let mb = |kib: u64| kib as f64 / 1024.0;
        let phases = rss
            .iter()
            .map(|(when, kib)| format!("{:.1} MB {when}", mb(*kib)))
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "**Idle memory** (VmRSS) of the server with {tracks} tracks in an account, after a \
             restart: {:.1} MB (target under 100 MB). The same process's VmRSS at idle after each \
             phase above, from its start: {phases}.",
            mb(rss_restarted),
        );
    }
    drop(client);
    locker.stop();
    Ok(())
}

/// Prints the streaming phase's tables: wrk's throughput, then the async client's time to
/// first byte.
fn print_stream(stream: &StreamResult, seconds: u64) {
    println!(
        "**Range streaming**, {CONNECTIONS} concurrent connections, `wrk -t2 -c{CONNECTIONS} \
         -d{seconds}s`, each request a random {} KiB range of one of {STREAM_FILES} files of {} \
         MiB (page cache warm), best of 2 alternating runs; latencies to the last byte:\n",
        RANGE_BYTES >> 10,
        STREAM_FILE_BYTES >> 20
    );
    println!("| server | requests/s | MB/s | p50 | p99 |");
    println!("|---|---:|---:|---:|---:|");
    for (name, r) in [
        ("skylark-locker", &stream.locker),
        ("nginx 1.22", &stream.nginx),
    ] {
        println!(
            "| {name} | {:.0} | {:.0} | {:.1} ms | {:.1} ms |",
            r.requests_per_s,
            r.mb_per_s,
            r.p50_us as f64 / 1000.0,
            r.p99_us as f64 / 1000.0
        );
    }
    println!(
        "\nRatio of throughput: {:.2}x nginx (target at least 0.7x).\n",
        stream.locker.mb_per_s / stream.nginx.mb_per_s
    );
    println!(
        "**Time to first byte**, the same requests from {CONNECTIONS} concurrent keep-alive \
         connections of the benchmark's own client (reqwest on 2 tokio threads, one connection \
         per task, each response read whole before the next request), {seconds} s per turn, 2 \
         turns of each server taken alternately, all requests of both turns counted; the time \
         from sending a request to having its status line and headers:\n"
    );
    println!("| server | requests/s | MB/s | TTFB p50 | TTFB p99 |");
    println!("|---|---:|---:|---:|---:|");
    for (name, r) in [
        ("skylark-locker", &stream.locker_ttfb),
        ("nginx 1.22", &stream.nginx_ttfb),
    ] {
        println!(
            "| {name} | {:.0} | {:.0} | {:.2} ms | {:.2} ms |",
            r.requests_per_s,
            r.mb_per_s,
            r.p50.as_secs_f64() * 1000.0,
            r.p99.as_secs_f64() * 1000.0
        );
    }
    println!(
        "\np99 time to first byte: {:.2}x nginx's; this client's throughput: {:.2}x nginx's.\n",
        stream.locker_ttfb.p99.as_secs_f64() / stream.nginx_ttfb.p99.as_secs_f64(),
        stream.locker_ttfb.mb_per_s / stream.nginx_ttfb.mb_per_s
    );
}

/// The CPU, cores and memory, from `/proc`.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    format!(
        "Machine: {model}, {cores} cores, {:.0} GiB RAM; server and load generators share the cores.",
        mem_kib as f64 / 1024.0 / 1024.0
    )
}

fn locker_binary() -> &'static str {
    env!("CARGO_BIN_EXE_skylark-locker")
}

fn add_user(data: &Path, name: &str) -> Result<()> {
    let mut child = Command::new(locker_binary())
        .args(["user", "add", name, "--data"])
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .context("running skylark-locker user add")?;
    child
        .stdin
        .take()
        .context("no stdin")?
        .write_all(format!("{PASSWORD}\n").as_bytes())?;
    if !child.wait()?.success() {
        bail!("skylark-locker user add {name} failed");
    }
    Ok(())
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A `skylark-locker serve` process.
struct LockerProcess {
    child: Child,
    addr: SocketAddr,
}

impl LockerProcess {
    fn start(data: &Path) -> Result<Self> {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
        let child = Command::new(locker_binary())
            .args(["serve", "--data"])
            .arg(data)
            .args(["--listen", &addr.to_string()])
            .env("SKYLARK_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .context("starting skylark-locker")?;
        let process = Self { child, addr };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(addr).is_err() {
            if Instant::now() > deadline {
                bail!("skylark-locker did not start listening");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(process)
    }

    /// Resident memory in KiB, from `/proc/PID/status`.
    fn rss_kib(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .context("no VmRSS")
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for LockerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A signed-in HTTP client of the locker under test.
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn login(addr: SocketAddr, user: &str) -> Result<Self> {
        let http = reqwest::Client::new();
        let base = format!("http://{addr}");
        let answer: Value = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": user, "password": PASSWORD}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = answer["token"].as_str().context("no token")?.to_owned();
        Ok(Self { http, base, token })
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value> {
        Ok(self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// Creates a tus upload of `len` bytes hashing to `hash`; returns its URL.
    async fn create_upload(&self, len: u64, hash: &str) -> Result<String> {
        let created = self
            .http
            .post(format!("{}/api/v1/uploads", self.base))
            .bearer_auth(&self.token)
            .header("tus-resumable", "1.0.0")
            .header("upload-length", len.to_string())
            .header(
                "upload-metadata",
                format!(
                    "blake3 {}",
                    base64::engine::general_purpose::STANDARD.encode(hash)
                ),
            )
            .send()
            .await?
            .error_for_status()?;
        let location = created.headers()["location"].to_str()?.to_owned();
        Ok(format!("{}{location}", self.base))
    }

    async fn patch(&self, url: &str, body: reqwest::Body) -> Result<()> {
        self.http
            .patch(url)
            .bearer_auth(&self.token)
            .header("tus-resumable", "1.0.0")
            .header("content-type", "application/offset+octet-stream")
            .header("upload-offset", "0")
            .body(body)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    async fn upload(&self, bytes: Vec<u8>) -> Result<String> {
        let hash = blake3::hash(&bytes).to_hex().to_string();
        let url = self.create_upload(bytes.len() as u64, &hash).await?;
        self.patch(&url, bytes.into()).await?;
        Ok(hash)
    }

    /// Tracks in the account, counted from the change feed's track ops.
    async fn tracks_in_feed(&self) -> Result<usize> {
        let (mut since, mut tracks) = (0i64, std::collections::HashSet::new());
        loop {
            let page: Value = self
                .http
                .get(format!(
                    "{}/api/v1/changes?since={since}&limit=5000",
                    self.base
                ))
                .bearer_auth(&self.token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let changes = page["changes"].as_array().context("no changes")?;
            if changes.is_empty() {
                return Ok(tracks.len());
            }
            for change in changes {
                if change["op"]["type"] == "track_set"
                    && let Some(track) = change["op"]["track"].as_str()
                {
                    tracks.insert(track.to_owned());
                }
                since = since.max(change["seq"].as_i64().unwrap_or(since));
            }
        }
    }
}

/// Fast deterministic bytes (xorshift), different for each `seed`.
fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

struct UploadResult {
    locker_mb_s: f64,
    copy_mb_s: f64,
}

/// A file's bytes as a request body read from disk in 1 MiB chunks, as a client streams it.
fn file_body(path: &Path) -> Result<reqwest::Body> {
    let file = std::fs::File::open(path)?;
    let stream = futures::stream::unfold(file, |mut file| async move {
        let mut buf = vec![0u8; 1024 * 1024];
        match file.read(&mut buf) {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    Ok(reqwest::Body::wrap_stream(stream))
}

/// A plain loopback copy: the file's bytes over a TCP connection into a file, as `nc` or `cp`
/// over a socket would do it.
fn loopback_copy(source: &Path, target: &Path) -> Result<f64> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let target = target.to_owned();
    let sink = std::thread::spawn(move || -> Result<()> {
        let (mut socket, _) = listener.accept()?;
        let mut out = std::fs::File::create(&target)?;
        std::io::copy(&mut socket, &mut out)?;
        out.flush()?;
        Ok(())
    });
    let start = Instant::now();
    let mut file = std::fs::File::open(source)?;
    let mut socket = TcpStream::connect(addr)?;
    std::io::copy(&mut file, &mut socket)?;
    drop(socket);
    sink.join()
        .map_err(|_| anyhow::anyhow!("the sink failed"))??;
    Ok(UPLOAD_BYTES as f64 / start.elapsed().as_secs_f64() / 1e6)
}

/// Writes back every dirty page (`sync`).
fn settle() -> Result<()> {
    let status = std::process::Command::new("sync").status()?;
    anyhow::ensure!(status.success(), "sync failed: {status}");
    Ok(())
}

async fn upload_throughput(api: &Api, work: &Path) -> Result<UploadResult> {
    let (mut locker, mut copy) = (Vec::new(), Vec::new());
    for round in 0..3u64 {
        let source = work.join(format!("upload-{round}.bin"));
        let bytes = bytes(UPLOAD_BYTES, 1000 + round);
        let hash = blake3::hash(&bytes).to_hex().to_string();
        std::fs::write(&source, &bytes)?;
        drop(bytes);
        let target = work.join("copy.bin");
        // Each side starts with no dirty pages waiting to be written back: the write-back of the
        // previous step's 256 MiB otherwise lands on the next one (ratios of 0.6 to 1.4 seen).
        settle()?;
        copy.push(loopback_copy(&source, &target)?);
        std::fs::remove_file(&target)?;
        let url = api.create_upload(UPLOAD_BYTES as u64, &hash).await?;
        settle()?;
        let start = Instant::now();
        api.patch(&url, file_body(&source)?).await?;
        locker.push(UPLOAD_BYTES as f64 / start.elapsed().as_secs_f64() / 1e6);
        std::fs::remove_file(&source)?;
    }
    Ok(UploadResult {
        locker_mb_s: median(locker),
        copy_mb_s: median(copy),
    })
}

/// Uploads the files the streaming benchmark reads and links a track to each; returns their
/// hashes.
async fn seed_stream_files(api: &Api) -> Result<Vec<String>> {
    let mut hashes = Vec::new();
    for i in 0..STREAM_FILES {
        let hash = api.upload(bytes(STREAM_FILE_BYTES, i as u64 + 1)).await?;
        let op = json!({"ops": [{"id": format!("s{i}"), "hlc": {"wall_ms": 1, "counter": 0, "device": "bench"},
            "type": "track_set", "track": format!("s{i}"), "blob": hash, "fields": {"title": format!("Stream {i}")}}]});
        api.post("/api/v1/ops", &op).await?;
        hashes.push(hash);
    }
    Ok(hashes)
}

struct WrkResult {
    requests_per_s: f64,
    mb_per_s: f64,
    p50_us: u64,
    p99_us: u64,
}

struct StreamResult {
    locker: WrkResult,
    nginx: WrkResult,
    locker_ttfb: TtfbResult,
    nginx_ttfb: TtfbResult,
}

/// A wrk script asking for a random `RANGE_BYTES` range of one of `paths` per request, with
/// `headers`, and printing a machine-readable summary.
fn wrk_script(paths: &[String], headers: &[(&str, &str)]) -> String {
    let list = paths
        .iter()
        .map(|p| format!("{p:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let headers = headers
        .iter()
        .map(|(k, v)| format!("wrk.headers[{k:?}] = {v:?}\n"))
        .collect::<String>();
    format!(
        r#"local paths = {{ {list} }}
{headers}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
function init(args)
  math.randomseed(seed * 7919)
end
function request()
  local path = paths[math.random(#paths)]
  local start = math.random(0, {last_start})
  wrk.headers["Range"] = "bytes=" .. start .. "-" .. (start + {range_last})
  return wrk.format("GET", path)
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d\n", summary.requests, summary.bytes,
    summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
"#,
        last_start = STREAM_FILE_BYTES - RANGE_BYTES,
        range_last = RANGE_BYTES - 1,
    )
}

fn run_wrk(script: &Path, base: &str, seconds: u64) -> Result<WrkResult> {
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{CONNECTIONS}"),
            &format!("-d{seconds}s"),
            "--timeout",
            "10s",
            "-s",
        ])
        .arg(script)
        .arg(base)
        .output()
        .context("running wrk")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .with_context(|| format!("wrk printed no result:\n{text}"))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let (requests, bytes, duration_us, p50, p99, errors) = (v[0], v[1], v[2], v[3], v[4], v[5]);
    if errors > 0 {
        bail!("wrk saw {errors} errors against {base}:\n{text}");
    }
    let secs = duration_us as f64 / 1e6;
    Ok(WrkResult {
        requests_per_s: requests as f64 / secs,
        mb_per_s: bytes as f64 / secs / 1e6,
        p50_us: p50,
        p99_us: p99,
    })
}

/// nginx serving the locker's own blob folder, as a plain file server would.
struct Nginx {
    child: Child,
    port: u16,
    /// Its prefix folder, which holds its config and pid file.
    prefix: PathBuf,
}

impl Nginx {
    fn start(root: &Path, work: &Path) -> Result<Self> {
        let port = free_port()?;
        let prefix = work.join("nginx");
        std::fs::create_dir_all(prefix.join("logs"))?;
        let conf = prefix.join("nginx.conf");
        // Two workers for two cores, sendfile, keep-alive: a stock static-file setup.
        std::fs::write(
            &conf,
            format!(
                "worker_processes 2;\npid {pid};\nerror_log {err} warn;\n\
                 events {{ worker_connections 1024; }}\n\
                 http {{\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  keepalive_requests 100000;\n\
                   client_body_temp_path {tmp};\n  proxy_temp_path {tmp};\n  fastcgi_temp_path {tmp};\n\
                   uwsgi_temp_path {tmp};\n  scgi_temp_path {tmp};\n\
                   server {{\n    listen 127.0.0.1:{port};\n    root {root};\n  }}\n}}\n",
                pid = prefix.join("nginx.pid").display(),
                err = prefix.join("logs/error.log").display(),
                tmp = prefix.display(),
                root = root.display(),
            ),
        )?;
        let child = Command::new("nginx")
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(&conf)
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting nginx")?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!(
                    "nginx did not start (see {})",
                    prefix.join("logs").display()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Self {
            child,
            port,
            prefix,
        })
    }
}

impl Drop for Nginx {
    /// Stops nginx the way it is meant to be stopped (`-s stop`: SIGTERM to the master, which
    /// stops its workers); killing the master instead would leave the workers running.
    fn drop(&mut self) {
        let stopped = Command::new("nginx")
            .arg("-p")
            .arg(&self.prefix)
            .arg("-c")
            .arg(self.prefix.join("nginx.conf"))
            .args(["-s", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + Duration::from_secs(5);
        while stopped && Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stream_vs_nginx(
    runtime: &tokio::runtime::Runtime,
    locker: &LockerProcess,
    api: &Api,
    data: &Path,
    hashes: &[String],
    seconds: u64,
    work: &Path,
) -> Result<StreamResult> {
    let nginx = Nginx::start(&data.join("store"), work)?;
    let locker_paths: Vec<String> = (0..hashes.len())
        .map(|i| format!("/api/v1/tracks/s{i}/stream"))
        .collect();
    let nginx_paths: Vec<String> = hashes
        .iter()
        .map(|h| format!("/blobs/{}/{h}", &h[..2]))
        .collect();
    let auth = format!("Bearer {}", api.token);
    let locker_script = work.join("locker.lua");
    let nginx_script = work.join("nginx.lua");
    std::fs::write(
        &locker_script,
        wrk_script(&locker_paths, &[("Authorization", &auth)]),
    )?;
    std::fs::write(&nginx_script, wrk_script(&nginx_paths, &[]))?;
    let locker_base = format!("http://{}", locker.addr);
    let nginx_base = format!("http://127.0.0.1:{}", nginx.port);
    // Warm both (and the page cache), then alternate so neither gets the quieter moment.
    run_wrk(&locker_script, &locker_base, 2)?;
    run_wrk(&nginx_script, &nginx_base, 2)?;
    let mut best: Option<(WrkResult, WrkResult)> = None;
    for _ in 0..2 {
        let l = run_wrk(&locker_script, &locker_base, seconds)?;
        let n = run_wrk(&nginx_script, &nginx_base, seconds)?;
        best = Some(match best {
            None => (l, n),
            Some((bl, bn)) => (
                if l.mb_per_s > bl.mb_per_s { l } else { bl },
                if n.mb_per_s > bn.mb_per_s { n } else { bn },
            ),
        });
    }
    let (locker_wrk, nginx_wrk) = best.context("no runs")?;

    // The same requests from the benchmark's own client, for the time to first byte, which
    // wrk does not measure; turns taken alternately, as above.
    let locker_target = Arc::new(TtfbTarget {
        urls: locker_paths
            .iter()
            .map(|p| format!("{locker_base}{p}"))
            .collect(),
        authorization: Some(auth),
    });
    let nginx_target = Arc::new(TtfbTarget {
        urls: nginx_paths
            .iter()
            .map(|p| format!("{nginx_base}{p}"))
            .collect(),
        authorization: None,
    });
    let turn = Duration::from_secs(seconds);
    let (mut locker_turns, mut nginx_turns) = (Vec::new(), Vec::new());
    for round in 0..2u64 {
        locker_turns.push(runtime.block_on(ttfb_turn(&locker_target, turn, round))?);
        nginx_turns.push(runtime.block_on(ttfb_turn(&nginx_target, turn, round))?);
    }
    Ok(StreamResult {
        locker: locker_wrk,
        nginx: nginx_wrk,
        locker_ttfb: TtfbResult::of(locker_turns),
        nginx_ttfb: TtfbResult::of(nginx_turns),
    })
}

/// What the time-to-first-byte client asks one server for: a random `RANGE_BYTES` range of one
/// of `urls` per request, with an `Authorization` header when there is one.
struct TtfbTarget {
    urls: Vec<String>,
    authorization: Option<String>,
}

/// One turn of the time-to-first-byte client against one server.
struct TtfbTurn {
    /// The time to first byte of every request answered in the turn.
    ttfb: Vec<Duration>,
    /// From the turn's start until its last connection finished its last response.
    elapsed: Duration,
}

/// Every turn against one server, summed up.
struct TtfbResult {
    requests_per_s: f64,
    mb_per_s: f64,
    p50: Duration,
    p99: Duration,
}

impl TtfbResult {
    fn of(turns: Vec<TtfbTurn>) -> Self {
        let elapsed: f64 = turns.iter().map(|t| t.elapsed.as_secs_f64()).sum();
        let mut ttfb: Vec<Duration> = turns.into_iter().flat_map(|t| t.ttfb).collect();
        ttfb.sort_unstable();
        // The nearest-rank percentile: the smallest sample with at least p% of them at or below.
        let percentile = |p: usize| {
            let rank = (ttfb.len() * p).div_ceil(100).max(1);
            ttfb.get(rank - 1).copied().unwrap_or_default()
        };
        Self {
            requests_per_s: ttfb.len() as f64 / elapsed,
            mb_per_s: (ttfb.len() * RANGE_BYTES) as f64 / elapsed / 1e6,
            p50: percentile(50),
            p99: percentile(99),
        }
    }
}

/// `CONNECTIONS` keep-alive connections asking `target` for ranges for `length`, each request
/// sent once the previous response was read whole, as wrk's connections do. Every connection
/// opens with one untimed request, so that connecting is not counted and all start together.
async fn ttfb_turn(target: &Arc<TtfbTarget>, length: Duration, round: u64) -> Result<TtfbTurn> {
    // The connections and this task; the turn starts when all connections are open.
    let start = Arc::new(tokio::sync::Barrier::new(CONNECTIONS + 1));
    let mut connections = tokio::task::JoinSet::new();
    for connection in 0..CONNECTIONS as u64 {
        let (target, start) = (target.clone(), start.clone());
        // Its own client for each connection: one pooled connection, used for every request.
        let http = reqwest::Client::builder()
            .no_proxy()
            .http1_only()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(10))
            .build()?;
        let mut ranges = Ranges::new(round * CONNECTIONS as u64 + connection + 1);
        connections.spawn(async move {
            let opened = ranged_get(&http, &target, ranges.next(target.urls.len())).await;
            start.wait().await;
            opened?;
            let deadline = Instant::now() + length;
            let mut ttfb = Vec::new();
            while Instant::now() < deadline {
                ttfb.push(ranged_get(&http, &target, ranges.next(target.urls.len())).await?);
            }
            anyhow::Ok(ttfb)
        });
    }
    start.wait().await;
    let started = Instant::now();
    let mut ttfb = Vec::new();
    while let Some(connection) = connections.join_next().await {
        ttfb.extend(connection??);
    }
    Ok(TtfbTurn {
        ttfb,
        elapsed: started.elapsed(),
    })
}

/// Asks for one range and reads the response whole; returns the time from sending the request
/// to having the response's status line and headers (when `send` resolves).
async fn ranged_get(
    http: &reqwest::Client,
    target: &TtfbTarget,
    (url, first): (usize, usize),
) -> Result<Duration> {
    let url = &target.urls[url];
    let last = first + RANGE_BYTES - 1;
    let mut request = http
        .get(url)
        .header(reqwest::header::RANGE, format!("bytes={first}-{last}"));
    if let Some(authorization) = &target.authorization {
        request = request.header(reqwest::header::AUTHORIZATION, authorization);
    }
    let sent = Instant::now();
    let mut response = request
        .send()
        .await
        .with_context(|| format!("asking {url} for bytes {first}-{last}"))?;
    let ttfb = sent.elapsed();
    if response.status() != reqwest::StatusCode::PARTIAL_CONTENT {
        bail!(
            "{url} answered bytes {first}-{last} with {}",
            response.status()
        );
    }
    let mut read = 0;
    while let Some(chunk) = response
        .chunk()
        .await
        .with_context(|| format!("reading bytes {first}-{last} of {url}"))?
    {
        read += chunk.len();
    }
    if read != RANGE_BYTES {
        bail!("{url} sent {read} bytes for bytes {first}-{last}");
    }
    Ok(ttfb)
}

/// Random ranges as the wrk script picks them: a file, and a start anywhere a whole range fits
/// (xorshift, different for each `seed`).
struct Ranges(u64);

impl Ranges {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The index of one of `files` files, and the first byte of a range of it.
    fn next(&mut self, files: usize) -> (usize, usize) {
        let mut draw = || {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        };
        let file = draw() % files as u64;
        let first = draw() % (STREAM_FILE_BYTES - RANGE_BYTES + 1) as u64;
        (file as usize, first as usize)
    }
}

/// An audio id for track `i`: 64 hex digits.
fn audio_id(i: usize) -> String {
    blake3::hash(format!("audio {i}").as_bytes())
        .to_hex()
        .to_string()
}

/// Seeds `TRACKS` tracks with tags and audio ids as ops, 1,000 per request; returns how long it
/// took.
async fn seed_tracks(api: &Api, hashes: &[String]) -> Result<Duration> {
    let start = Instant::now();
    for batch in 0..TRACKS / 1000 {
        let ops: Vec<Value> = (batch * 1000..(batch + 1) * 1000)
            .map(|i| {
                json!({"id": format!("t{i}"), "hlc": {"wall_ms": 10 + i, "counter": 0, "device": "bench"},
                    "type": "track_set", "track": format!("t{i}"), "blob": hashes[i % hashes.len()],
                    "fields": {"title": format!("Track {i}"), "artist": format!("Artist {}", i % 5000),
                        "album": format!("Album {}", i / 10), "track_no": i % 10 + 1, "audio_id": audio_id(i)}})
            })
            .collect();
        api.post("/api/v1/ops", &json!({ "ops": ops })).await?;
    }
    Ok(start.elapsed())
}

struct MatchTiming {
    median: Duration,
    max: Duration,
}

async fn match_timing(api: &Api, hashes: &[String]) -> Result<MatchTiming> {
    let mut times = Vec::new();
    for round in 0..5usize {
        let files: Vec<Value> = (0..MATCH_FILES)
            .map(|i| {
                let new_hash = blake3::hash(format!("new {round} {i}").as_bytes())
                    .to_hex()
                    .to_string();
                if i < hashes.len() {
                    json!({"file_hash": hashes[i], "size": STREAM_FILE_BYTES})
                } else if i % 2 == 0 {
                    // A known track's audio, retagged: a new file hash, a known audio id.
                    json!({"audio_id": audio_id(i * 7 % TRACKS), "file_hash": new_hash, "size": 5_000_000})
                } else {
                    json!({"audio_id": blake3::hash(new_hash.as_bytes()).to_hex().to_string(),
                        "file_hash": new_hash, "size": 5_000_000})
                }
            })
            .collect();
        let body = json!({ "files": files });
        let start = Instant::now();
        let answer = api.post("/api/v1/match", &body).await?;
        times.push(start.elapsed());
        let results = answer["results"].as_array().context("no results")?;
        let have = results.iter().filter(|r| r["status"] == "have").count();
        if results.len() != MATCH_FILES || have != MATCH_FILES / 2 + hashes.len() / 2 {
            bail!(
                "unexpected verdicts: {} results, {have} have",
                results.len()
            );
        }
    }
    let max = times.iter().copied().max().unwrap_or_default();
    times.sort();
    Ok(MatchTiming {
        median: times[times.len() / 2],
        max,
    })
}

//! Playing a file that lives in the locker: [`RemoteSource`] is a `Read + Seek` byte source over
//! HTTP range requests, which the player opens like a local file.
//!
//! A background thread reads ahead of the player into a bounded buffer. A seek outside what is
//! buffered drops the buffer and the next read asks for a new range from there (a small window
//! behind the read position is kept, since demuxers step back a little). When no bytes have
//! arrived yet the read blocks: a slow or stalled network shows as the player waiting, which it
//! reports as buffering ([`StreamWatch::is_waiting`] tells another thread). A dropped connection
//! is retried from the last byte received, with growing pauses; after
//! [`StreamOptions::max_failures`] failures in a row the read fails with
//! [`std::io::ErrorKind::ConnectionAborted`] and a message saying why. The next read tries again.
//!
//! Requests carry the bearer token (signed stream URLs exist for players that cannot send
//! headers and expire after hours; a paused track resumed the next day must still play), and
//! `If-Range` with the file's `ETag`, so a file replaced mid-stream is an error rather than two
//! files spliced together.
//!
//! Optionally every byte received is also written at its offset into a cache file; once the
//! whole file is there and its BLAKE3 hash matches the `ETag` (the locker's content hash), the
//! cache is [`CacheStatus::Complete`] and can serve as the offline copy.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_RANGE, RANGE};
use reqwest::{Method, Response, StatusCode};
use skylark_tags::FileHash;

use crate::client::{Client, api_error, encode_segment};
use crate::error::{Error, Result};

/// Bytes kept behind the read position, for demuxers that step back a little.
const BEHIND_BYTES: u64 = 256 * 1024;

/// How to stream.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// How far ahead of the read position the background thread buffers, in bytes.
    pub read_ahead_bytes: u64,
    /// Failed attempts in a row (with no byte received in between) before a read fails.
    pub max_failures: u32,
    /// The pause after the first failure; it doubles with each further one, up to 5 s.
    pub retry_delay: Duration,
    /// A connection that delivers nothing for this long is dropped and opened again.
    pub stall_timeout: Duration,
    /// A file to write the received bytes into (created or truncated), for the offline cache.
    pub cache_file: Option<PathBuf>,
}

impl Default for StreamOptions {
    fn default() -> Self {
        Self {
            read_ahead_bytes: 4 * 1024 * 1024,
            max_failures: 4,
            retry_delay: Duration::from_millis(250),
            stall_timeout: Duration::from_secs(20),
            cache_file: None,
        }
    }
}

/// How far the cache file has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheStatus {
    /// No cache file was asked for.
    Off,
    /// Some bytes are in the cache file.
    Partial {
        /// Bytes written so far.
        bytes: u64,
    },
    /// Every byte is in the cache file, and its hash matches the locker's when the locker gave
    /// one.
    Complete,
    /// Writing the cache failed, or its bytes did not match; playback goes on without it.
    Failed(String),
}

struct State {
    /// File offset of `buf[0]`.
    start: u64,
    /// Bytes from `start` on, contiguous.
    buf: VecDeque<u8>,
    /// Where the reader is.
    read_pos: u64,
    /// Bumped by a reposition; the fetcher drops work for older generations.
    generation: u64,
    /// A failure the reader has not seen yet, for the generation it happened in.
    failed: Option<(u64, String)>,
    /// The source was dropped.
    closed: bool,
    /// A reader is blocked waiting for bytes.
    waiting: bool,
    cache: CacheStatus,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when bytes or a failure arrive (the reader waits on it).
    arrived: Condvar,
    /// Signalled when the reader moves or leaves (the fetcher waits on it).
    moved: Condvar,
    /// Interrupts the fetcher's network wait when the reader moves or leaves.
    wake: tokio::sync::Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A file in the locker as a `Read + Seek + Send` byte source over HTTP range requests.
///
/// A background thread reads up to [`StreamOptions::read_ahead_bytes`] ahead; a seek outside
/// the buffer starts a new range request at the next read. A read with no bytes to give blocks
/// (the player shows buffering; [`StreamWatch::is_waiting`] tells other threads). Dropped
/// connections are retried from the last byte received; after
/// [`StreamOptions::max_failures`] failures in a row a read fails with
/// [`std::io::ErrorKind::ConnectionAborted`], and the next read tries again.
pub struct RemoteSource {
    shared: Arc<Shared>,
    pos: u64,
    len: u64,
    content_type: String,
}

impl std::fmt::Debug for RemoteSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSource")
            .field("pos", &self.pos)
            .field("len", &self.len)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

/// Watches a [`RemoteSource`] from another thread (the one reading it is blocked when it
/// matters).
#[derive(Clone)]
pub struct StreamWatch {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for StreamWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamWatch")
            .field("waiting", &self.is_waiting())
            .finish_non_exhaustive()
    }
}

impl StreamWatch {
    /// Whether a read is blocked waiting for the network: the player is buffering.
    pub fn is_waiting(&self) -> bool {
        self.shared.lock().waiting
    }

    /// Bytes buffered ahead of the read position.
    pub fn buffered_ahead(&self) -> u64 {
        let state = self.shared.lock();
        (state.start + state.buf.len() as u64).saturating_sub(state.read_pos)
    }

    /// How far the cache file has got.
    pub fn cache_status(&self) -> CacheStatus {
        self.shared.lock().cache.clone()
    }

    /// Whether the stream's reader is gone (dropped): no more bytes will be fetched for it.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }
}

impl Client {
    /// Streams the file of track `track` (`GET /api/v1/tracks/{id}/stream`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] with [`ErrorCode::NotFound`](skylark_locker_api::ErrorCode::NotFound)
    /// when the account has no such track or it has no file, [`Error::Network`], or
    /// [`Error::Io`] if the cache file cannot be created.
    pub fn open_track(&self, track: &str, options: StreamOptions) -> Result<RemoteSource> {
        self.open_stream(
            format!("/api/v1/tracks/{}/stream", encode_segment(track)),
            options,
            None,
        )
    }

    /// Streams a blob the account holds, by its hash (`GET /api/v1/blobs/{hash}`).
    ///
    /// # Errors
    ///
    /// As [`Client::open_track`]; another account's blob is not found.
    pub fn open_blob(&self, hash: &FileHash, options: StreamOptions) -> Result<RemoteSource> {
        self.open_stream(format!("/api/v1/blobs/{hash}"), options, Some(*hash))
    }

    /// Opens `path`; a complete cache file is checked against `expected` (the blob asked for)
    /// when given, else against the `ETag`.
    fn open_stream(
        &self,
        path: String,
        options: StreamOptions,
        expected: Option<FileHash>,
    ) -> Result<RemoteSource> {
        let what = format!("GET {path}");
        let response = self.run(async {
            let request = self
                .authed_untimed(Method::GET, &path)
                .header(RANGE, "bytes=0-");
            let response = request.send().await.map_err(|source| Error::Network {
                request: what.clone(),
                source,
            })?;
            crate::client::check(&what, response).await
        })?;
        let protocol = |message: &str| Error::Protocol {
            request: what.clone(),
            message: message.to_owned(),
        };
        let len = match response.status() {
            StatusCode::PARTIAL_CONTENT => content_range(&response)
                .filter(|&(start, _)| start == 0)
                .map(|(_, total)| total)
                .ok_or_else(|| protocol("206 without a usable Content-Range"))?,
            _ => header_u64(&response, CONTENT_LENGTH.as_str())
                .ok_or_else(|| protocol("no Content-Length"))?,
        };
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let cache = match &options.cache_file {
            Some(path) => Some(Cache::create(path.clone())?),
            None => None,
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                start: 0,
                buf: VecDeque::new(),
                read_pos: 0,
                generation: 0,
                failed: None,
                closed: false,
                waiting: false,
                cache: if cache.is_some() {
                    CacheStatus::Partial { bytes: 0 }
                } else {
                    CacheStatus::Off
                },
            }),
            arrived: Condvar::new(),
            moved: Condvar::new(),
            wake: tokio::sync::Notify::new(),
        });
        let fetcher = Fetcher {
            client: self.clone(),
            path,
            len,
            expected: expected.or_else(|| {
                etag.as_deref()
                    .and_then(|e| e.trim_matches('"').parse().ok())
            }),
            etag,
            shared: Arc::clone(&shared),
            options,
            cache,
        };
        std::thread::Builder::new()
            .name("skylark-stream".to_owned())
            .spawn(move || fetcher.run(response))
            .map_err(|source| Error::Io {
                path: "stream thread".into(),
                source,
            })?;
        Ok(RemoteSource {
            shared,
            pos: 0,
            len,
            content_type,
        })
    }
}

impl RemoteSource {
    /// The file's length in bytes, from the first response.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The MIME type the locker gave (`audio/flac`).
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The file extension that goes with the MIME type, a hint for the player's prober.
    pub fn extension(&self) -> Option<&'static str> {
        let mime = self.content_type.to_ascii_lowercase();
        Some(match mime.split(';').next().unwrap_or("").trim() {
            "audio/flac" => "flac",
            "audio/mpeg" => "mp3",
            "audio/ogg" if mime.contains("opus") => "opus",
            "audio/ogg" => "ogg",
            "audio/mp4" => "m4a",
            "audio/wav" => "wav",
            "audio/aiff" => "aiff",
            "audio/x-wavpack" => "wv",
            "audio/x-ape" => "ape",
            _ => return None,
        })
    }

    /// A handle that watches this source from another thread.
    pub fn watch(&self) -> StreamWatch {
        StreamWatch {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Read for RemoteSource {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.pos >= self.len {
            return Ok(0);
        }
        let shared = Arc::clone(&self.shared);
        let mut state = shared.lock();
        if state.read_pos != self.pos {
            state.read_pos = self.pos;
            shared.moved.notify_all();
        }
        loop {
            let end = state.start + state.buf.len() as u64;
            if self.pos >= state.start && self.pos < end {
                let skip = usize::try_from(self.pos - state.start).map_err(io::Error::other)?;
                let n = out.len().min(state.buf.len() - skip);
                for (dst, src) in out[..n].iter_mut().zip(state.buf.range(skip..skip + n)) {
                    *dst = *src;
                }
                self.pos += n as u64;
                state.read_pos = self.pos;
                let behind = self.pos - state.start;
                if behind > BEHIND_BYTES {
                    let drop = usize::try_from(behind - BEHIND_BYTES).map_err(io::Error::other)?;
                    state.buf.drain(..drop);
                    state.start += drop as u64;
                }
                shared.moved.notify_all();
                return Ok(n);
            }
            // A failure is reported once (a stale one, from before a reposition, is dropped);
            // the next read makes the fetcher try again.
            if let Some((generation, message)) = state.failed.take()
                && generation == state.generation
            {
                shared.moved.notify_all();
                return Err(io::Error::new(io::ErrorKind::ConnectionAborted, message));
            }
            if self.pos < state.start || self.pos > end {
                state.generation += 1;
                state.start = self.pos;
                state.buf.clear();
                shared.moved.notify_all();
                shared.wake.notify_one();
            }
            state.waiting = true;
            state = shared
                .arrived
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.waiting = false;
        }
    }
}

impl Seek for RemoteSource {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let target = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek to before the start of the stream",
            )
        })?;
        Ok(self.pos)
    }
}

impl Drop for RemoteSource {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.moved.notify_all();
        self.shared.wake.notify_one();
    }
}

impl Client {
    /// Downloads the blob `hash` of the account into the folder `dir`, checks that its bytes
    /// hash to it, and names the file after it (`HASH.EXT`, the extension from the locker's MIME
    /// type). The bytes go to a hidden `.part` file first, renamed only once checked, so a
    /// download cut off leaves no copy that looks whole. Returns the file's name and size.
    ///
    /// # Errors
    ///
    /// As [`Client::open_blob`]; [`Error::Io`] if the file cannot be written or a read fails;
    /// [`Error::Protocol`] if the bytes do not hash to `hash`.
    pub fn download_blob(&self, hash: &FileHash, dir: &std::path::Path) -> Result<(String, u64)> {
        let mut stream = self.open_blob(hash, StreamOptions::default())?;
        let name = match stream.extension() {
            Some(ext) => format!("{hash}.{ext}"),
            None => hash.to_string(),
        };
        let part = dir.join(format!(".{name}.part"));
        let io = |path: &std::path::Path| {
            let path = path.to_owned();
            move |source| Error::Io { path, source }
        };
        let result = (|| -> Result<u64> {
            let mut file = File::create(&part).map_err(io(&part))?;
            let size = io::copy(&mut stream, &mut file).map_err(io(&part))?;
            file.sync_all().map_err(io(&part))?;
            let got = skylark_tags::file_hash_path(&part)?;
            if got != *hash {
                return Err(Error::Protocol {
                    request: format!("GET /api/v1/blobs/{hash}"),
                    message: format!("the bytes hash to {got}, not to the blob asked for"),
                });
            }
            let dest = dir.join(&name);
            std::fs::rename(&part, &dest).map_err(io(&dest))?;
            Ok(size)
        })();
        match result {
            Ok(size) => Ok((name, size)),
            Err(e) => {
                let _ = std::fs::remove_file(&part);
                Err(e)
            }
        }
    }
}

/// A locker stream opened on first use: what a queue holds for each locker track, so that a
/// queue of a hundred tracks makes no request until the player reaches one (the player opens
/// sources on its decode thread, where waiting is fine). A failure to open is the first read's
/// error; the next read tries again.
pub struct LazyRemoteSource {
    client: Client,
    hash: FileHash,
    options: StreamOptions,
    opened: Option<RemoteSource>,
    /// Where the player has sought to before the stream was opened.
    pos: SeekFrom,
    /// The opened stream's watch and file extension, for [`LazyWatch`]es.
    slot: Arc<OnceLock<(StreamWatch, Option<&'static str>)>>,
}

/// Watches a [`LazyRemoteSource`] from another thread, before and after it opens.
#[derive(Debug, Clone)]
pub struct LazyWatch {
    slot: Arc<OnceLock<(StreamWatch, Option<&'static str>)>>,
}

impl LazyWatch {
    /// How far the stream's cache file has got ([`CacheStatus::Off`] until it opens).
    pub fn cache_status(&self) -> CacheStatus {
        self.slot
            .get()
            .map_or(CacheStatus::Off, |(watch, _)| watch.cache_status())
    }

    /// Whether the source is gone: dropped, opened or not. Nothing more will arrive.
    pub fn is_closed(&self) -> bool {
        match self.slot.get() {
            Some((watch, _)) => watch.is_closed(),
            // Only this watch (and its clones) hold the slot: the source was dropped unopened.
            None => Arc::strong_count(&self.slot) == 1,
        }
    }

    /// The extension the opened stream's content type calls for.
    pub fn extension(&self) -> Option<&'static str> {
        self.slot.get().and_then(|(_, ext)| *ext)
    }
}

impl std::fmt::Debug for LazyRemoteSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyRemoteSource")
            .field("hash", &self.hash)
            .field("opened", &self.opened.is_some())
            .finish_non_exhaustive()
    }
}

impl LazyRemoteSource {
    /// A watch on this source, for another thread.
    pub fn watch(&self) -> LazyWatch {
        LazyWatch {
            slot: Arc::clone(&self.slot),
        }
    }

    /// Opens the stream now rather than on first use, for a caller that must know at once
    /// whether the locker answers.
    ///
    /// # Errors
    ///
    /// The locker cannot be reached or refuses the stream.
    pub fn open_now(&mut self) -> io::Result<()> {
        self.stream().map(drop)
    }

    fn stream(&mut self) -> io::Result<&mut RemoteSource> {
        if self.opened.is_none() {
            let mut stream = self
                .client
                .open_blob(&self.hash, self.options.clone())
                .map_err(|e| io::Error::new(io::ErrorKind::ConnectionRefused, e.to_string()))?;
            stream.seek(self.pos)?;
            let _ = self.slot.set((stream.watch(), stream.extension()));
            self.opened = Some(stream);
        }
        self.opened
            .as_mut()
            .ok_or_else(|| io::Error::other("the stream did not open"))
    }
}

impl Read for LazyRemoteSource {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.stream()?.read(out)
    }
}

impl Seek for LazyRemoteSource {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match (&mut self.opened, pos) {
            (Some(stream), _) => stream.seek(pos),
            // Before it opens, only positions that need no length are known.
            (None, SeekFrom::Start(p)) => {
                self.pos = SeekFrom::Start(p);
                Ok(p)
            }
            (None, _) => self.stream()?.seek(pos),
        }
    }
}

impl Client {
    /// A stream of a blob the account holds that opens on its first read or seek (see
    /// [`LazyRemoteSource`]).
    pub fn lazy_blob(&self, hash: FileHash, options: StreamOptions) -> LazyRemoteSource {
        LazyRemoteSource {
            client: self.clone(),
            hash,
            options,
            opened: None,
            pos: SeekFrom::Start(0),
            slot: Arc::default(),
        }
    }
}

fn header_u64(response: &Response, name: &str) -> Option<u64> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// `(first byte, total length)` from `Content-Range: bytes FIRST-LAST/TOTAL` (RFC 9110 §14.4).
fn content_range(response: &Response) -> Option<(u64, u64)> {
    let value = response.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    parse_content_range(value)
}

fn parse_content_range(value: &str) -> Option<(u64, u64)> {
    let (range, total) = value.trim().strip_prefix("bytes ")?.split_once('/')?;
    let (first, _) = range.split_once('-')?;
    Some((first.trim().parse().ok()?, total.trim().parse().ok()?))
}

/// The cache file and which byte ranges of it are filled.
struct Cache {
    file: File,
    path: PathBuf,
    /// Filled ranges, `start..end`, sorted and merged.
    filled: Vec<(u64, u64)>,
}

impl Cache {
    fn create(path: PathBuf) -> Result<Cache> {
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(io)?;
        Ok(Cache {
            file,
            path,
            filled: Vec::new(),
        })
    }

    fn write(&mut self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.write_all(bytes)?;
        self.filled = merge(&self.filled, (offset, offset + bytes.len() as u64));
        Ok(())
    }

    fn bytes(&self) -> u64 {
        self.filled.iter().map(|(s, e)| e - s).sum()
    }
}

/// `ranges` with `add` merged in (touching ranges join).
fn merge(ranges: &[(u64, u64)], add: (u64, u64)) -> Vec<(u64, u64)> {
    let mut all: Vec<(u64, u64)> = ranges.to_vec();
    all.push(add);
    all.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(all.len());
    for (start, end) in all {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// Why fetching failed.
enum Failure {
    /// Worth another attempt.
    Retry(String),
    /// Not: the file is gone, the sign-in revoked, the file changed.
    Fatal(String),
}

/// An open response and where its next byte belongs.
struct Open {
    generation: u64,
    next: u64,
    response: Response,
}

/// The background reader of one [`RemoteSource`].
struct Fetcher {
    client: Client,
    path: String,
    len: u64,
    etag: Option<String>,
    /// What the whole file must hash to: the blob asked for, or the `ETag`'s hash.
    expected: Option<FileHash>,
    shared: Arc<Shared>,
    options: StreamOptions,
    cache: Option<Cache>,
}

impl Fetcher {
    fn run(mut self, first: Response) {
        let mut current = Some(Open {
            generation: 0,
            next: 0,
            response: first,
        });
        let mut failures = 0u32;
        loop {
            let Some((generation, offset)) = self.next_work() else {
                return;
            };
            let positioned = current
                .as_ref()
                .is_some_and(|o| o.generation == generation && o.next == offset);
            if !positioned {
                current = None;
                match self.open(offset) {
                    Ok(Some(response)) => {
                        current = Some(Open {
                            generation,
                            next: offset,
                            response,
                        });
                    }
                    Ok(None) => continue,
                    Err(failure) => {
                        self.failed(failure, generation, &mut failures);
                        continue;
                    }
                }
            }
            let Some(open) = current.as_mut() else {
                continue;
            };
            let stall = self.options.stall_timeout;
            let shared = Arc::clone(&self.shared);
            let chunk = self.client.run(async {
                tokio::select! {
                    chunk = tokio::time::timeout(stall, open.response.chunk()) => Ok(Some(chunk)),
                    () = shared.wake.notified() => Ok(None),
                }
            });
            match chunk {
                // The reader moved or left; look again at what is wanted.
                Ok(None) | Err(_) => {}
                Ok(Some(Ok(Ok(Some(bytes))))) => {
                    failures = 0;
                    let at = open.next;
                    open.next += bytes.len() as u64;
                    self.deliver(generation, at, &bytes);
                }
                Ok(Some(Ok(Ok(None)))) => {
                    let next = open.next;
                    current = None;
                    if next < self.len {
                        let why = format!("the locker ended the response at byte {next}");
                        self.failed(Failure::Retry(why), generation, &mut failures);
                    }
                }
                Ok(Some(Ok(Err(e)))) => {
                    current = None;
                    self.failed(Failure::Retry(e.to_string()), generation, &mut failures);
                }
                Ok(Some(Err(_))) => {
                    current = None;
                    let why = format!("nothing arrived for {} s", stall.as_secs());
                    self.failed(Failure::Retry(why), generation, &mut failures);
                }
            }
        }
    }

    /// Waits until there is something to fetch: `(generation, offset)`, or `None` once the
    /// source is dropped.
    fn next_work(&self) -> Option<(u64, u64)> {
        let mut state = self.shared.lock();
        loop {
            if state.closed {
                return None;
            }
            let end = state.start + state.buf.len() as u64;
            let failed = state
                .failed
                .as_ref()
                .is_some_and(|(g, _)| *g == state.generation);
            let ahead = end.saturating_sub(state.read_pos.max(state.start));
            if !failed && end < self.len && ahead < self.options.read_ahead_bytes.max(1) {
                return Some((state.generation, end));
            }
            state = self
                .shared
                .moved
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Counts a failure; after too many, tells the reader, else pauses before the next try.
    fn failed(&self, failure: Failure, generation: u64, failures: &mut u32) {
        let message = match failure {
            Failure::Fatal(message) => {
                *failures = self.options.max_failures;
                message
            }
            Failure::Retry(message) => {
                *failures += 1;
                message
            }
        };
        tracing::info!(path = %self.path, failures = *failures, error = %message, "stream attempt failed");
        let mut state = self.shared.lock();
        if *failures >= self.options.max_failures.max(1) {
            *failures = 0;
            if state.generation == generation {
                state.failed = Some((
                    generation,
                    format!("streaming {} from the locker failed: {message}", self.path),
                ));
                self.shared.arrived.notify_all();
            }
            return;
        }
        let shift = (*failures - 1).min(16);
        let wait = (self.options.retry_delay * (1u32 << shift)).min(Duration::from_secs(5));
        // Woken early if the reader moves or leaves; either way the loop looks again.
        let _ = self
            .shared
            .moved
            .wait_timeout(state, wait)
            .unwrap_or_else(PoisonError::into_inner);
    }

    /// Opens a range request from `offset`; `None` if the reader moved or left meanwhile.
    fn open(&self, offset: u64) -> std::result::Result<Option<Response>, Failure> {
        let what = format!("GET {}", self.path);
        let mut request = self
            .client
            .authed_untimed(Method::GET, &self.path)
            .header(RANGE, format!("bytes={offset}-"));
        if let Some(etag) = &self.etag {
            request = request.header(IF_RANGE, etag);
        }
        let shared = Arc::clone(&self.shared);
        let sent = self.client.run(async {
            tokio::select! {
                response = tokio::time::timeout(self.options.stall_timeout, request.send()) => Ok(Some(response)),
                () = shared.wake.notified() => Ok(None),
            }
        });
        let response = match sent {
            Ok(Some(Ok(Ok(response)))) => response,
            Ok(None) | Err(_) => return Ok(None),
            Ok(Some(Ok(Err(e)))) => return Err(Failure::Retry(format!("{what}: {e}"))),
            Ok(Some(Err(_))) => {
                return Err(Failure::Retry(format!(
                    "{what}: no answer for {} s",
                    self.options.stall_timeout.as_secs()
                )));
            }
        };
        let status = response.status();
        match status {
            StatusCode::PARTIAL_CONTENT => match content_range(&response) {
                Some((first, total)) if first == offset && total == self.len => Ok(Some(response)),
                _ => Err(Failure::Fatal(format!(
                    "{what}: the locker sent another range or a file of another length"
                ))),
            },
            StatusCode::OK if offset == 0 => Ok(Some(response)),
            StatusCode::OK => Err(Failure::Fatal(format!(
                "{what}: the file in the locker changed while it was playing"
            ))),
            s if crate::upload::retryable(s) => {
                Err(Failure::Retry(api_error(&what, status, &[]).to_string()))
            }
            _ => Err(Failure::Fatal(api_error(&what, status, &[]).to_string())),
        }
    }

    /// Writes `bytes` (which belong at `offset`) to the cache, then hands them to the reader if
    /// it still wants them.
    ///
    /// The cache comes first so that a reader that has had the last byte finds the cache's
    /// status final: a stream read to its end and dropped at once (a song played whole, then
    /// settled at its end) is [`CacheStatus::Complete`], not still `Partial` while its last
    /// bytes are written and the whole file hashed, which made `StreamedCopies::settle` delete
    /// a copy that was about to be whole.
    fn deliver(&mut self, generation: u64, offset: u64, bytes: &[u8]) {
        self.cache_bytes(offset, bytes);
        let mut state = self.shared.lock();
        if state.generation == generation && state.start + state.buf.len() as u64 == offset {
            state.buf.extend(bytes);
            self.shared.arrived.notify_all();
        }
    }

    /// Writes `bytes` at `offset` into the cache file, if there is one, and records how far it
    /// has got; once every byte is in, checks the file's hash.
    fn cache_bytes(&mut self, offset: u64, bytes: &[u8]) {
        let Some(cache) = &mut self.cache else {
            return;
        };
        let status = match cache.write(offset, bytes) {
            Err(e) => CacheStatus::Failed(format!("{}: {e}", cache.path.display())),
            Ok(()) if cache.filled == [(0, self.len)] => {
                verify_cache(cache, self.expected.as_ref())
            }
            Ok(()) => CacheStatus::Partial {
                bytes: cache.bytes(),
            },
        };
        if matches!(status, CacheStatus::Failed(_) | CacheStatus::Complete) {
            if let CacheStatus::Failed(why) = &status {
                tracing::warn!(error = %why, "the stream cache is dropped");
            }
            self.cache = None;
        }
        self.shared.lock().cache = status;
    }
}

/// Checks a complete cache file against `expected`: the blob's BLAKE3 hash, asked for or given
/// by the locker as the `ETag`.
fn verify_cache(cache: &mut Cache, expected: Option<&FileHash>) -> CacheStatus {
    let actual = cache
        .file
        .flush()
        .and_then(|()| cache.file.rewind())
        .and_then(|()| skylark_tags::file_hash_reader(&mut cache.file));
    match (actual, expected) {
        (Err(e), _) => CacheStatus::Failed(format!("{}: {e}", cache.path.display())),
        (Ok(actual), Some(expected)) if actual != *expected => CacheStatus::Failed(format!(
            "{}: the cached bytes hash to {actual}, not {expected}",
            cache.path.display()
        )),
        (Ok(_), _) => CacheStatus::Complete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(parse_content_range("bytes 0-99/1000"), Some((0, 1000)));
        assert_eq!(parse_content_range("bytes 500-999/1000"), Some((500, 1000)));
        assert_eq!(parse_content_range("bytes */1000"), None);
        assert_eq!(parse_content_range("items 0-1/2"), None);
        assert_eq!(parse_content_range("bytes 0-99/*"), None);
    }

    #[test]
    fn filled_ranges_merge() {
        let r = merge(&[], (10, 20));
        let r = merge(&r, (30, 40));
        assert_eq!(r, [(10, 20), (30, 40)]);
        let r = merge(&r, (20, 30));
        assert_eq!(r, [(10, 40)]);
        let r = merge(&r, (0, 5));
        let r = merge(&r, (3, 12));
        assert_eq!(r, [(0, 40)]);
        assert_eq!(merge(&r, (15, 25)), [(0, 40)]);
    }
}

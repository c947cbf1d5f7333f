//! The blob store: each file's bytes stored once under its BLAKE3 hash, and each cover picture
//! under its own, through the `object_store` crate: the data folder's `store` folder by default,
//! or an S3-compatible bucket ([`crate::config::S3Config`]).
//!
//! Uploads are staged in the data folder (see [`crate::uploads`]) and only a verified file is put
//! here, so the store never holds bytes that failed their hash. A put appears whole or not at all:
//! the local store writes a staging file (`<key>#<n>`) and renames it; S3 commits a multipart
//! upload only when it completes. Reads ask for byte ranges (ranged GETs on S3), so streaming a
//! seek reads only what is sent.
//!
//! **Architecture Invariant:** a key names its content: `blobs/ab/abcd…` holds the bytes whose
//! BLAKE3 hash is `abcd…`, so writing a key twice writes the same bytes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use tokio::io::AsyncReadExt;

use crate::config::{Config, S3Config};
use crate::error::{Error, Result};

/// Blobs up to this size are put in one request; larger ones as a multipart upload of parts this
/// size (S3 wants parts of at least 5 MiB, all but the last).
const PART_BYTES: usize = 8 * 1024 * 1024;
/// Parts of one multipart upload in flight at once, which bounds its memory to this many parts.
const PARTS_IN_FLIGHT: usize = 4;

/// Bytes of a blob, read as they are sent.
pub type BlobStream = futures::stream::BoxStream<'static, std::io::Result<bytes::Bytes>>;

/// The bytes a local read takes per trip to the blocking pool: a typical player's range in one
/// (each trip is a thread hand-off, and on two cores the streaming benchmark went from 0.46x to
/// 0.59x nginx's throughput when 128 KiB became 256), at 256 KiB held per connection at most.
const READ_CHUNK: usize = 256 * 1024;
/// The first bytes of a blob read with each range, for its content type.
pub const HEAD_BYTES: u64 = 64;

/// Where blobs live.
#[derive(Debug, Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// The folder of a local store, for the sweep of staging files its crashed writes leave.
    local_dir: Option<PathBuf>,
}

fn store_error(context: &str) -> impl FnOnce(object_store::Error) -> Error + '_ {
    move |e| Error::Io {
        context: context.to_owned(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// The key of the blob with `hash` (64 hex digits): `blobs/ab/abcd...`.
pub fn blob_key(hash: &str) -> String {
    format!("blobs/{}/{hash}", hash.get(..2).unwrap_or("xx"))
}

/// The key of the cover picture with `hash`: `covers/ab/abcd...`.
pub fn cover_key(hash: &str) -> String {
    format!("covers/{}/{hash}", hash.get(..2).unwrap_or("xx"))
}

impl BlobStore {
    /// The store `config` names: its S3 bucket, or else the folder `store` in the data folder
    /// `data`.
    pub fn open(config: &Config, data: &Path) -> Result<Self> {
        match &config.s3 {
            Some(s3) => Self::s3(s3),
            None => Self::local(&data.join("store")),
        }
    }

    /// A store in the folder `dir` (created if missing).
    pub fn local(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            context: format!("creating {}", dir.display()),
            source,
        })?;
        let store =
            LocalFileSystem::new_with_prefix(dir).map_err(store_error("opening the blob store"))?;
        Ok(Self {
            store: Arc::new(store),
            local_dir: Some(dir.to_owned()),
        })
    }

    /// A store in the S3-compatible bucket `config` names. Settings it leaves out come from the
    /// standard `AWS_*` environment variables (credentials, region), as every AWS tool reads them.
    /// Nothing is sent until the first request, so a wrong endpoint or key shows in the first
    /// upload or stream, and in the log.
    pub fn s3(config: &S3Config) -> Result<Self> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&config.bucket)
            .with_allow_http(config.allow_http);
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(region) = &config.region {
            builder = builder.with_region(region);
        }
        if let (Some(id), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
        }
        let store = builder.build().map_err(|e| Error::Io {
            context: format!("opening the S3 bucket {}", config.bucket),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()),
        })?;
        Ok(Self {
            store: Arc::new(store),
            local_dir: None,
        })
    }

    /// Whether the blob `hash` is stored.
    pub async fn contains(&self, hash: &str) -> Result<bool> {
        self.exists(&ObjectPath::from(blob_key(hash)), "looking up a blob")
            .await
    }

    async fn exists(&self, key: &ObjectPath, context: &str) -> Result<bool> {
        match self.store.head(key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(store_error(context)(e)),
        }
    }

    /// Stores the file at `path` as the blob `hash`. A local store on the same file system takes
    /// the file itself (a rename: no copy, and the file is gone from `path`); otherwise it is
    /// sent in one request if it is small, else as a multipart upload with at most
    /// [`PARTS_IN_FLIGHT`] parts in memory. Either way the blob appears whole or not at all.
    pub async fn put_file(&self, hash: &str, path: &Path) -> Result<()> {
        let key = ObjectPath::from(blob_key(hash));
        if self.exists(&key, "looking up a blob").await? {
            return Ok(());
        }
        if let Some(dir) = &self.local_dir {
            let (from, to) = (path.to_owned(), dir.join(blob_key(hash)));
            let moved = tokio::task::spawn_blocking(move || {
                std::fs::create_dir_all(to.parent().unwrap_or(&to))?;
                std::fs::rename(&from, &to)
            })
            .await;
            // A rename fails across file systems (an uploads folder mounted elsewhere): copy.
            if matches!(moved, Ok(Ok(()))) {
                return Ok(());
            }
        }
        let read_error = |source| Error::Io {
            context: format!("reading {}", path.display()),
            source,
        };
        let mut file = tokio::fs::File::open(path).await.map_err(read_error)?;
        let len = file.metadata().await.map_err(read_error)?.len();
        if len <= PART_BYTES as u64 {
            let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
            file.read_to_end(&mut bytes).await.map_err(read_error)?;
            self.store
                .put(&key, PutPayload::from(bytes))
                .await
                .map_err(store_error("storing a blob"))?;
            return Ok(());
        }
        let upload = self
            .store
            .put_multipart(&key)
            .await
            .map_err(store_error("starting a blob upload"))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut buf = vec![0u8; PART_BYTES];
        loop {
            let n = match read_full(&mut file, &mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(read_error(e));
                }
            };
            if n == 0 {
                break;
            }
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                let _ = writer.abort().await;
                return Err(store_error("storing a blob")(e));
            }
            writer.write(&buf[..n]);
        }
        // `finish` aborts the multipart upload itself when a part or the completion fails.
        writer
            .finish()
            .await
            .map_err(store_error("storing a blob"))?;
        Ok(())
    }

    /// Bytes `range` of the blob `hash`, as a stream of chunks (the store reads as it is sent).
    pub async fn read_range(&self, hash: &str, range: std::ops::Range<u64>) -> Result<BlobStream> {
        use futures::StreamExt;
        let options = object_store::GetOptions {
            range: Some(object_store::GetRange::Bounded(range)),
            ..Default::default()
        };
        let result = self
            .store
            .get_opts(&ObjectPath::from(blob_key(hash)), options)
            .await
            .map_err(store_error("reading a blob"))?;
        Ok(result
            .into_stream()
            .map(|chunk| chunk.map_err(|e| std::io::Error::other(e.to_string())))
            .boxed())
    }

    /// The first bytes (at most [`HEAD_BYTES`]) of the blob `hash` of `len` bytes, and its bytes
    /// `range` as a stream of chunks. A local store reads both from one open file (see
    /// [`read_local`]); S3 answers two ranged GETs.
    pub async fn read_with_head(
        &self,
        hash: &str,
        len: u64,
        range: std::ops::Range<u64>,
    ) -> Result<(bytes::Bytes, BlobStream)> {
        use futures::StreamExt;
        let head_len = len.min(HEAD_BYTES);
        let Some(dir) = &self.local_dir else {
            let head = if head_len > 0 {
                self.read_range_bytes(hash, 0..head_len).await?
            } else {
                bytes::Bytes::new()
            };
            let body = if range.is_empty() {
                futures::stream::empty().boxed()
            } else {
                self.read_range(hash, range).await?
            };
            return Ok((head, body));
        };
        if let Some(read) = read_local_cached(dir, hash, len, range.clone()) {
            return Ok(read.into_stream());
        }
        let dir = dir.clone();
        let hash = hash.to_owned();
        let read = tokio::task::spawn_blocking(move || read_local(&dir, &hash, len, range))
            .await
            .map_err(|e| Error::Io {
                context: "reading a blob".to_owned(),
                source: std::io::Error::other(e.to_string()),
            })??;
        Ok(read.into_stream())
    }

    /// The folder of a local store; `None` for S3.
    pub fn local_dir(&self) -> Option<&std::path::Path> {
        self.local_dir.as_deref()
    }

    /// Bytes `range` of the blob `hash`, collected (for small reads: a file's first bytes, the
    /// ranges of a claim's proof).
    pub async fn read_range_bytes(
        &self,
        hash: &str,
        range: std::ops::Range<u64>,
    ) -> Result<bytes::Bytes> {
        self.store
            .get_range(&ObjectPath::from(blob_key(hash)), range)
            .await
            .map_err(store_error("reading a blob"))
    }

    /// Stores a cover picture under its hash (once).
    pub async fn put_cover(&self, hash: &str, bytes: Vec<u8>) -> Result<()> {
        let key = ObjectPath::from(cover_key(hash));
        if self.exists(&key, "looking up a cover").await? {
            return Ok(());
        }
        self.store
            .put(&key, PutPayload::from(bytes))
            .await
            .map_err(store_error("storing a cover"))?;
        Ok(())
    }

    /// The cover picture `hash`.
    pub async fn read_cover(&self, hash: &str) -> Result<bytes::Bytes> {
        self.store
            .get(&ObjectPath::from(cover_key(hash)))
            .await
            .map_err(store_error("reading a cover"))?
            .bytes()
            .await
            .map_err(store_error("reading a cover"))
    }

    /// The whole blob `hash`.
    pub async fn read(&self, hash: &str) -> Result<bytes::Bytes> {
        self.store
            .get(&ObjectPath::from(blob_key(hash)))
            .await
            .map_err(store_error("reading a blob"))?
            .bytes()
            .await
            .map_err(store_error("reading a blob"))
    }

    /// Deletes the staging files (`<key>#<n>`) that writes interrupted by a crash left in a local
    /// store, if last modified before `cutoff`; returns how many. A staging file is never read as
    /// a blob, but it holds disk space. An S3 store has nothing to sweep here: its unfinished
    /// multipart uploads are never visible, and a bucket lifecycle rule
    /// (`AbortIncompleteMultipartUpload`) reclaims their parts.
    pub async fn sweep_staging(&self, cutoff: SystemTime) -> Result<usize> {
        let Some(dir) = self.local_dir.clone() else {
            return Ok(0);
        };
        tokio::task::spawn_blocking(move || sweep_staging_files(&dir, cutoff))
            .await
            .map_err(|e| Error::Io {
                context: "sweeping the blob store".to_owned(),
                source: std::io::Error::other(e.to_string()),
            })?
    }
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
async fn read_full(file: &mut tokio::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = file.read(&mut buf[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

/// Whether `name` is a local store's staging file: the key's name, `#`, then digits.
fn is_staging_name(name: &str) -> bool {
    name.split_once('#')
        .is_some_and(|(_, suffix)| !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit()))
}

/// A local blob opened, with its first bytes and the first chunk of a range read. The rest of
/// the range is read as it is sent ([`LocalRead::into_stream`]).
pub struct LocalRead {
    file: std::fs::File,
    head: Vec<u8>,
    first: Vec<u8>,
    /// Where the range goes on after `first`, and where it ends.
    next: u64,
    end: u64,
}

/// Reads `want` bytes at an offset of a file only if the page cache holds them (some of them:
/// a shorter read is fine), without blocking: `None` when it would have to wait for the disk.
type CachedReader = fn(&std::fs::File, u64, usize) -> Option<Vec<u8>>;

impl LocalRead {
    /// The blob's first bytes, and its range as a stream of chunks: what the page cache holds is
    /// read on the async thread (Linux), the rest a chunk of [`READ_CHUNK`] bytes per trip to the
    /// blocking pool.
    pub fn into_stream(self) -> (bytes::Bytes, BlobStream) {
        self.into_stream_with(cached::read)
    }

    fn into_stream_with(self, read_cached: CachedReader) -> (bytes::Bytes, BlobStream) {
        use futures::StreamExt;
        let LocalRead {
            file,
            head,
            first,
            next,
            end,
        } = self;
        let rest = futures::stream::try_unfold((file, next), move |(file, at)| async move {
            if at >= end {
                return Ok(None);
            }
            let want = usize::try_from((end - at).min(READ_CHUNK as u64)).unwrap_or(READ_CHUNK);
            if let Some(chunk) = read_cached(&file, at, want) {
                let next = at + chunk.len() as u64;
                return Ok(Some((bytes::Bytes::from(chunk), (file, next))));
            }
            let (file, chunk) = tokio::task::spawn_blocking(move || {
                let mut file = file;
                read_chunk_at(&mut file, at, want).map(|c| (file, c))
            })
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))??;
            Ok(Some((bytes::Bytes::from(chunk), (file, at + want as u64))))
        });
        let first = (!first.is_empty()).then(|| Ok(bytes::Bytes::from(first)));
        let body = futures::stream::iter(first).chain(rest).boxed();
        (bytes::Bytes::from(head), body)
    }
}

/// Opens blob `hash` (of `len` bytes) in the local store at `dir` and reads its first bytes (at
/// most [`HEAD_BYTES`]) and the first chunk of `range`. It blocks: call it on the blocking pool,
/// where a stream request also does its database lookup, so that a typical player's request (a
/// range of a few hundred kilobytes) costs one trip.
///
/// # Errors
///
/// [`Error::Io`] if the file cannot be opened or read, or is shorter than `len`.
pub fn read_local(
    dir: &std::path::Path,
    hash: &str,
    len: u64,
    range: std::ops::Range<u64>,
) -> Result<LocalRead> {
    let read = || -> std::io::Result<LocalRead> {
        let mut file = std::fs::File::open(dir.join(blob_key(hash)))?;
        let head = read_chunk_at(
            &mut file,
            0,
            usize::try_from(len.min(HEAD_BYTES)).unwrap_or(0),
        )?;
        let size = range.end.saturating_sub(range.start);
        let want = usize::try_from(size.min(READ_CHUNK as u64)).unwrap_or(READ_CHUNK);
        let first = read_chunk_at(&mut file, range.start, want)?;
        Ok(LocalRead {
            file,
            head,
            first,
            next: range.start + want as u64,
            end: range.end,
        })
    };
    read().map_err(|source| Error::Io {
        context: "reading a blob".to_owned(),
        source,
    })
}

/// [`read_local`] when it can be done at once from the kernel's caches, on the calling (async)
/// thread: the file's path from the directory cache, its first bytes and some of the range from
/// the page cache. `None` when any of it would wait for the disk, or on a platform without such
/// reads (only Linux has them): the caller then takes the blocking path, which also reports any
/// error.
///
/// A stream that the page cache serves thus never leaves the async thread: with 200 concurrent
/// clients on two cores, the hand-offs to the blocking pool were most of the server's time.
pub fn read_local_cached(
    dir: &std::path::Path,
    hash: &str,
    len: u64,
    range: std::ops::Range<u64>,
) -> Option<LocalRead> {
    let file = cached::open(&dir.join(blob_key(hash)))?;
    let head_len = usize::try_from(len.min(HEAD_BYTES)).ok()?;
    let head = if head_len == 0 {
        Vec::new()
    } else {
        cached::read(&file, 0, head_len).filter(|head| head.len() == head_len)?
    };
    let size = range.end.saturating_sub(range.start);
    let want = usize::try_from(size.min(READ_CHUNK as u64)).unwrap_or(READ_CHUNK);
    let first = if want == 0 {
        Vec::new()
    } else {
        cached::read(&file, range.start, want)?
    };
    Some(LocalRead {
        file,
        next: range.start + first.len() as u64,
        head,
        first,
        end: range.end,
    })
}

/// Whether [`read_local_cached`] can ever succeed here.
pub const CACHED_READS: bool = cfg!(target_os = "linux");

/// Opening and reading files from the kernel's caches only, never waiting for a disk.
#[cfg(target_os = "linux")]
mod cached {
    use std::sync::atomic::{AtomicBool, Ordering};

    use rustix::fs::{Mode, OFlags, ResolveFlags};
    use rustix::io::{Errno, ReadWriteFlags};

    /// Whether the kernel and file system take these flags (Linux 5.12 for `RESOLVE_CACHED`, and
    /// a file system that supports `RWF_NOWAIT`); once refused, they are not tried again.
    static SUPPORTED: AtomicBool = AtomicBool::new(true);

    fn refused(e: Errno) {
        if matches!(e, Errno::NOSYS | Errno::INVAL | Errno::OPNOTSUPP) {
            SUPPORTED.store(false, Ordering::Relaxed);
        }
    }

    /// Whether these reads have not been refused here.
    #[cfg(test)]
    pub(super) fn supported() -> bool {
        SUPPORTED.load(Ordering::Relaxed)
    }

    /// `path` opened for reading if its lookup needs only the directory cache.
    pub(super) fn open(path: &std::path::Path) -> Option<std::fs::File> {
        if !SUPPORTED.load(Ordering::Relaxed) {
            return None;
        }
        rustix::fs::openat2(
            rustix::fs::CWD,
            path,
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::CACHED,
        )
        .map(std::fs::File::from)
        .map_err(refused)
        .ok()
    }

    /// Up to `want` bytes of `file` at `at` that the page cache holds, starting at `at`; `None`
    /// if it holds none of them (or at the file's end).
    pub(super) fn read(file: &std::fs::File, at: u64, want: usize) -> Option<Vec<u8>> {
        if !SUPPORTED.load(Ordering::Relaxed) {
            return None;
        }
        let mut buf = vec![0u8; want];
        let got = rustix::io::preadv2(
            file,
            &mut [std::io::IoSliceMut::new(&mut buf)],
            at,
            ReadWriteFlags::NOWAIT,
        )
        .map_err(refused)
        .ok()?;
        if got == 0 {
            return None;
        }
        buf.truncate(got);
        Some(buf)
    }
}

/// Without cached reads: every read takes the blocking path.
#[cfg(not(target_os = "linux"))]
mod cached {
    pub(super) fn open(_path: &std::path::Path) -> Option<std::fs::File> {
        None
    }

    pub(super) fn read(_file: &std::fs::File, _at: u64, _want: usize) -> Option<Vec<u8>> {
        None
    }

    #[cfg(test)]
    pub(super) fn supported() -> bool {
        false
    }
}

/// `want` bytes of `file` from `at`, read into memory that is not zeroed first: these reads are
/// the streaming path's bulk, and clearing each buffer before filling it took 9% of the server's
/// time in the streaming benchmark. A file that ends sooner is an error.
fn read_chunk_at(file: &mut std::fs::File, at: u64, want: usize) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    file.seek(SeekFrom::Start(at))?;
    let mut chunk = Vec::with_capacity(want);
    file.by_ref().take(want as u64).read_to_end(&mut chunk)?;
    if chunk.len() < want {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the blob file is shorter than its record",
        ));
    }
    Ok(chunk)
}

fn sweep_staging_files(dir: &Path, cutoff: SystemTime) -> Result<usize> {
    let mut removed = 0;
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => {
                return Err(Error::Io {
                    context: format!("sweeping {}", folder.display()),
                    source,
                });
            }
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                folders.push(entry.path());
                continue;
            }
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|modified| modified < cutoff);
            if stale
                && entry.file_name().to_str().is_some_and(is_staging_name)
                && std::fs::remove_file(entry.path()).is_ok()
            {
                removed += 1;
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_names() {
        let hash = "ab".repeat(32);
        assert!(is_staging_name(&format!("{hash}#1")));
        assert!(is_staging_name(&format!("{hash}#12345")));
        assert!(!is_staging_name(&hash));
        assert!(!is_staging_name(&format!("{hash}#")));
        assert!(!is_staging_name(&format!("{hash}#x1")));
    }

    #[test]
    fn keys_fan_out_by_the_first_two_digits() {
        assert_eq!(blob_key("abcdef"), "blobs/ab/abcdef");
        assert_eq!(cover_key("0123"), "covers/01/0123");
        assert_eq!(blob_key(""), "blobs/xx/", "never panics on a short hash");
    }

    /// A blob of `len` deterministic bytes in a local store at `dir`; its hash-named key.
    fn stored(dir: &Path, len: usize) -> (String, Vec<u8>) {
        let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
        let hash = "cd".repeat(32);
        let path = dir.join(blob_key(&hash));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        (hash, bytes)
    }

    async fn collect(body: BlobStream) -> std::io::Result<Vec<u8>> {
        use futures::TryStreamExt;
        let chunks: Vec<bytes::Bytes> = body.try_collect().await?;
        Ok(chunks.concat())
    }

    /// The page cache holding some of a range and not the rest: a stream's chunks come from
    /// either kind of read, in order, and add up to the range exactly.
    #[cfg(unix)]
    #[tokio::test]
    async fn streams_mix_cached_and_blocking_reads() {
        let dir = tempfile::tempdir().unwrap();
        let len = 3 * READ_CHUNK + 12_345;
        let (hash, bytes) = stored(dir.path(), len);
        // Every other read "misses the cache"; the others get a third of what they asked.
        fn patchy(file: &std::fs::File, at: u64, want: usize) -> Option<Vec<u8>> {
            use std::os::unix::fs::FileExt;
            if (at / 1000).is_multiple_of(2) {
                return None;
            }
            let mut buf = vec![0u8; want.div_ceil(3)];
            let got = file.read_at(&mut buf, at).ok()?;
            buf.truncate(got);
            (got > 0).then_some(buf)
        }
        for range in [0..len as u64, 1..len as u64 - 1, 70_000..70_001, 5..5] {
            let read = read_local(dir.path(), &hash, len as u64, range.clone()).unwrap();
            let (head, body) = read.into_stream_with(patchy);
            assert_eq!(head.as_ref(), &bytes[..HEAD_BYTES as usize]);
            let got = collect(body).await.unwrap();
            let want = &bytes[range.start as usize..range.end as usize];
            assert_eq!(got.len(), want.len(), "{range:?}");
            assert!(got == want, "{range:?}");
        }
    }

    #[tokio::test]
    async fn cached_opens_read_what_blocking_ones_do() {
        let dir = tempfile::tempdir().unwrap();
        let len = READ_CHUNK + 999;
        let (hash, bytes) = stored(dir.path(), len);
        // Read once, so that the page cache holds the file.
        let _ = std::fs::read(dir.path().join(blob_key(&hash))).unwrap();
        let read = read_local_cached(dir.path(), &hash, len as u64, 10..len as u64);
        if !CACHED_READS {
            assert!(read.is_none());
            return;
        }
        let Some(read) = read else {
            // Only a kernel or file system without such reads (tmpfs has no RWF_NOWAIT) may
            // decline a file just read.
            assert!(
                !cached::supported(),
                "a file just read is in the page cache"
            );
            return;
        };
        let (head, body) = read.into_stream();
        assert_eq!(head.as_ref(), &bytes[..HEAD_BYTES as usize]);
        assert!(collect(body).await.unwrap() == bytes[10..]);
        // A missing blob is not found either way, and the blocking path tells why.
        assert!(read_local_cached(dir.path(), &"00".repeat(32), 10, 0..10).is_none());
        assert!(read_local(dir.path(), &"00".repeat(32), 10, 0..10).is_err());
    }

    /// A file shorter than its record fails the stream with an error, not short data.
    #[tokio::test]
    async fn a_short_file_fails_the_stream() {
        let dir = tempfile::tempdir().unwrap();
        let (hash, _) = stored(dir.path(), 2 * READ_CHUNK);
        let read = read_local(
            dir.path(),
            &hash,
            3 * READ_CHUNK as u64,
            0..3 * READ_CHUNK as u64,
        )
        .unwrap();
        let (_, body) = read.into_stream_with(|_, _, _| None);
        let err = collect(body).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    }
}

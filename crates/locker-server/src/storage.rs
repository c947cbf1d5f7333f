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

/// A local blob opened, with its first bytes and the first chunk of a range read: what one trip
/// to the blocking pool gets. The rest of the range is read as it is sent
/// ([`LocalRead::into_stream`]).
pub struct LocalRead {
    file: std::fs::File,
    head: Vec<u8>,
    first: Vec<u8>,
    /// Bytes of the range after `first`.
    left: u64,
}

impl LocalRead {
    /// The blob's first bytes, and its range as a stream of chunks (a chunk of [`READ_CHUNK`]
    /// bytes per trip to the blocking pool after the first).
    pub fn into_stream(self) -> (bytes::Bytes, BlobStream) {
        use futures::StreamExt;
        let LocalRead {
            file,
            head,
            first,
            left,
        } = self;
        let rest = futures::stream::try_unfold((file, left), |(mut file, left)| async move {
            if left == 0 {
                return Ok(None);
            }
            let want = usize::try_from(left.min(READ_CHUNK as u64)).unwrap_or(READ_CHUNK);
            let (file, chunk) =
                tokio::task::spawn_blocking(move || read_chunk(&mut file, want).map(|c| (file, c)))
                    .await
                    .map_err(|e| std::io::Error::other(e.to_string()))??;
            Ok(Some((
                bytes::Bytes::from(chunk),
                (file, left - want as u64),
            )))
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
    use std::io::{Seek, SeekFrom};
    let read = || -> std::io::Result<LocalRead> {
        let mut file = std::fs::File::open(dir.join(blob_key(hash)))?;
        let head = read_chunk(&mut file, usize::try_from(len.min(HEAD_BYTES)).unwrap_or(0))?;
        file.seek(SeekFrom::Start(range.start))?;
        let size = range.end.saturating_sub(range.start);
        let want = usize::try_from(size.min(READ_CHUNK as u64)).unwrap_or(READ_CHUNK);
        let first = read_chunk(&mut file, want)?;
        Ok(LocalRead {
            file,
            head,
            first,
            left: size - want as u64,
        })
    };
    read().map_err(|source| Error::Io {
        context: "reading a blob".to_owned(),
        source,
    })
}

/// The next `want` bytes of `file`, read into memory that is not zeroed first: these reads are
/// the streaming path's bulk, and clearing each buffer before filling it took 9% of the server's
/// time in the streaming benchmark. A file that ends sooner is an error.
fn read_chunk(file: &mut std::fs::File, want: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
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
}

//! The blob store: each file's bytes stored once under its BLAKE3 hash, through the
//! `object_store` crate (the local file system here; any S3-compatible store can stand behind the
//! same interface).

use std::path::Path;
use std::sync::Arc;

use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use tokio::io::AsyncReadExt;

use crate::error::{Error, Result};

/// Bytes read from a finished upload per write to the store.
const CHUNK: usize = 8 * 1024 * 1024;

/// Where blobs live.
#[derive(Debug, Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
}

fn store_error(context: &str) -> impl FnOnce(object_store::Error) -> Error + '_ {
    move |e| Error::Io {
        context: context.to_owned(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// The key of the blob with `hash` (64 hex digits): `blobs/ab/abcd...`.
fn key(hash: &str) -> ObjectPath {
    ObjectPath::from(format!("blobs/{}/{hash}", hash.get(..2).unwrap_or("xx")))
}

/// The key of the cover picture with `hash`: `covers/ab/abcd...`.
fn cover_key(hash: &str) -> ObjectPath {
    ObjectPath::from(format!("covers/{}/{hash}", hash.get(..2).unwrap_or("xx")))
}

impl BlobStore {
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
        })
    }

    /// Whether the blob `hash` is stored.
    pub async fn contains(&self, hash: &str) -> Result<bool> {
        match self.store.head(&key(hash)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(store_error("looking up a blob")(e)),
        }
    }

    /// Stores the file at `path` as the blob `hash`. The blob appears whole or not at all: the
    /// store commits a multipart upload only when it completes.
    pub async fn put_file(&self, hash: &str, path: &Path) -> Result<()> {
        if self.contains(hash).await? {
            return Ok(());
        }
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(|source| Error::Io {
                context: format!("reading {}", path.display()),
                source,
            })?;
        let upload = self
            .store
            .put_multipart(&key(hash))
            .await
            .map_err(store_error("starting a blob upload"))?;
        let mut writer = WriteMultipart::new(upload);
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = file.read(&mut buf).await.map_err(|source| Error::Io {
                context: format!("reading {}", path.display()),
                source,
            })?;
            if n == 0 {
                break;
            }
            writer.write(&buf[..n]);
        }
        writer
            .finish()
            .await
            .map_err(store_error("storing a blob"))?;
        Ok(())
    }

    /// Bytes `range` of the blob `hash`, as a stream of chunks (the store reads as it is sent).
    pub async fn read_range(
        &self,
        hash: &str,
        range: std::ops::Range<u64>,
    ) -> Result<futures::stream::BoxStream<'static, std::io::Result<bytes::Bytes>>> {
        use futures::StreamExt;
        let options = object_store::GetOptions {
            range: Some(object_store::GetRange::Bounded(range)),
            ..Default::default()
        };
        let result = self
            .store
            .get_opts(&key(hash), options)
            .await
            .map_err(store_error("reading a blob"))?;
        Ok(result
            .into_stream()
            .map(|chunk| chunk.map_err(|e| std::io::Error::other(e.to_string())))
            .boxed())
    }

    /// Stores a cover picture under its hash (once).
    pub async fn put_cover(&self, hash: &str, bytes: Vec<u8>) -> Result<()> {
        let key = cover_key(hash);
        match self.store.head(&key).await {
            Ok(_) => return Ok(()),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(store_error("looking up a cover")(e)),
        }
        self.store
            .put(&key, object_store::PutPayload::from(bytes))
            .await
            .map_err(store_error("storing a cover"))?;
        Ok(())
    }

    /// The cover picture `hash`.
    pub async fn read_cover(&self, hash: &str) -> Result<bytes::Bytes> {
        self.store
            .get(&cover_key(hash))
            .await
            .map_err(store_error("reading a cover"))?
            .bytes()
            .await
            .map_err(store_error("reading a cover"))
    }

    /// The whole blob `hash`.
    pub async fn read(&self, hash: &str) -> Result<bytes::Bytes> {
        self.store
            .get(&key(hash))
            .await
            .map_err(store_error("reading a blob"))?
            .bytes()
            .await
            .map_err(store_error("reading a blob"))
    }
}

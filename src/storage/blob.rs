//! Blob storage: named, immutable byte blobs, through the `object_store` crate. The default
//! is a local directory (`LocalFileSystem` with fsync on: a put is written to a temporary
//! name, fsynced, renamed into place and its directory fsynced, so a blob is wholly present
//! or absent after a crash, and durable once `put` returns); S3-compatible stores plug in as
//! another `ObjectStore` without touching callers.
//!
//! The trait is synchronous because every caller already runs on a blocking thread
//! (`Storage::blocking`); `ObjectStoreBlob` drives the store's futures on the runtime that
//! opened it.

use super::{Result, StorageError};
use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::path::Path;
use std::sync::Arc;

pub trait Blob: Send + Sync {
    /// Stores `bytes` under `key`, durably, before returning.
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()>;
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Deleting a missing key is not an error.
    fn delete(&self, key: &str) -> Result<()>;
    /// Every stored key.
    fn list(&self) -> Result<Vec<String>>;
}

pub struct ObjectStoreBlob {
    store: Arc<dyn ObjectStore>,
    /// Where the blobs are, for error messages.
    location: String,
    runtime: tokio::runtime::Handle,
}

impl ObjectStoreBlob {
    /// Blobs as files under `root` (created if missing). Must be called on a thread of a
    /// tokio runtime (a blocking one is fine).
    pub fn local(root: &Path) -> Result<ObjectStoreBlob> {
        std::fs::create_dir_all(root).map_err(|e| StorageError::io(root, e))?;
        let store = LocalFileSystem::new_with_prefix(root)
            .map_err(|e| blob_error(&root.display().to_string(), e))?
            .with_fsync(true);
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| StorageError::Internal(format!("blob store needs a runtime: {e}")))?;
        Ok(ObjectStoreBlob {
            store: Arc::new(store),
            location: root.display().to_string(),
            runtime,
        })
    }

    fn path(&self, key: &str) -> String {
        format!("{}/{key}", self.location)
    }
}

/// Maps an object store error to ours, keeping "no space left on device" recognisable.
fn blob_error(path: &str, e: object_store::Error) -> StorageError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && (io.raw_os_error() == Some(28) || io.kind() == std::io::ErrorKind::StorageFull)
        {
            return StorageError::DiskFull {
                path: path.to_string(),
            };
        }
        source = err.source();
    }
    StorageError::Io {
        path: path.to_string(),
        message: e.to_string(),
    }
}

impl Blob for ObjectStoreBlob {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let payload = PutPayload::from(bytes.to_vec());
        self.runtime
            .block_on(self.store.put(&ObjectPath::from(key), payload))
            .map(|_| ())
            .map_err(|e| blob_error(&self.path(key), e))
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let read = async {
            let result = self.store.get(&ObjectPath::from(key)).await?;
            result.bytes().await
        };
        match self.runtime.block_on(read) {
            Ok(bytes) => Ok(Some(bytes.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(blob_error(&self.path(key), e)),
        }
    }

    fn delete(&self, key: &str) -> Result<()> {
        match self
            .runtime
            .block_on(self.store.delete(&ObjectPath::from(key)))
        {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(blob_error(&self.path(key), e)),
        }
    }

    fn list(&self) -> Result<Vec<String>> {
        let listing = self
            .store
            .list(None)
            .map_ok(|meta| meta.location.to_string());
        self.runtime
            .block_on(listing.try_collect())
            .map_err(|e| blob_error(&self.location, e))
    }
}

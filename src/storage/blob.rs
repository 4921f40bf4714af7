//! Blob storage: named, immutable byte blobs. `LocalDirBlob` keeps each in a file under a
//! directory, written to a temporary name, fsynced, renamed into place, and the directory
//! fsynced: a blob is either wholly present or absent after a crash.

use super::{Result, StorageError};
use std::io::Write;
use std::path::{Path, PathBuf};

pub trait Blob: Send + Sync {
    /// Stores `bytes` under `key`, durably, before returning.
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()>;
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    fn delete(&self, key: &str) -> Result<()>;
}

pub struct LocalDirBlob {
    root: PathBuf,
}

impl LocalDirBlob {
    pub fn open(root: &Path) -> Result<LocalDirBlob> {
        std::fs::create_dir_all(root).map_err(|e| StorageError::io(root, e))?;
        Ok(LocalDirBlob {
            root: root.to_path_buf(),
        })
    }

    fn path(&self, key: &str) -> PathBuf {
        // Keys are "<shard>/<sequence>": one directory per shard.
        self.root.join(key)
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io(dir, e))
}

impl Blob for LocalDirBlob {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path(key);
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        let new_dir = !dir.exists();
        std::fs::create_dir_all(&dir).map_err(|e| StorageError::io(&dir, e))?;
        let tmp = path.with_extension("tmp");
        let mut file = std::fs::File::create(&tmp).map_err(|e| StorageError::io(&tmp, e))?;
        file.write_all(bytes)
            .map_err(|e| StorageError::io(&tmp, e))?;
        file.sync_all().map_err(|e| StorageError::io(&tmp, e))?;
        drop(file);
        std::fs::rename(&tmp, &path).map_err(|e| StorageError::io(&path, e))?;
        sync_dir(&dir)?;
        if new_dir {
            sync_dir(&self.root)?;
        }
        Ok(())
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path(key);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StorageError::io(&path, e)),
        }
    }

    fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StorageError::io(&path, e)),
        }
    }
}

//! Errors of the storage layer. Each knows its SQLSTATE.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("data directory \"{0}\" is in use by another Freshet process")]
    Locked(String),
    #[error("could not write to \"{path}\": no space left on device")]
    DiskFull { path: String },
    #[error("I/O error on \"{path}\": {message}")]
    Io { path: String, message: String },
    #[error("could not read batch {blob} of shard {shard}: {reason}")]
    Corrupt {
        shard: String,
        blob: String,
        reason: String,
    },
    #[error("shard {0} does not exist")]
    UnknownShard(String),
    #[error("storage state error: {0}")]
    State(String),
    #[error("{0}")]
    Internal(String),
}

impl StorageError {
    pub fn io(path: &Path, e: std::io::Error) -> StorageError {
        let path = path.display().to_string();
        if e.raw_os_error() == Some(28) || e.kind() == std::io::ErrorKind::StorageFull {
            StorageError::DiskFull { path }
        } else {
            StorageError::Io {
                path,
                message: e.to_string(),
            }
        }
    }

    pub fn sqlstate(&self) -> &'static str {
        match self {
            StorageError::Locked(_) => "55006",
            StorageError::DiskFull { .. } => "53100",
            StorageError::Io { .. } => "58030",
            StorageError::Corrupt { .. } => "XX001",
            StorageError::UnknownShard(_) => "XX000",
            StorageError::State(_) => "58030",
            StorageError::Internal(_) => "XX000",
        }
    }
}

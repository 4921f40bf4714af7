//! PLACEHOLDER until the storage layer lands (signatures only).
#![allow(unused)]
use crate::repr::{Diff, GlobalId, Row, Timestamp};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("x")]
    X,
}
impl StorageError {
    pub fn sqlstate(&self) -> &'static str {
        "58030"
    }
}
pub enum CatalogOp {
    Put { id: u64, record: Vec<u8> },
    Delete { id: u64 },
}
pub struct Storage;
impl Storage {
    pub async fn open(data_dir: &Path) -> Result<Storage, StorageError> {
        todo!()
    }
    pub async fn create_shard(
        &self,
        shard: GlobalId,
        upper: Timestamp,
    ) -> Result<(), StorageError> {
        todo!()
    }
    pub async fn drop_shard(&self, shard: GlobalId) -> Result<(), StorageError> {
        todo!()
    }
    pub async fn append(
        &self,
        ts: Timestamp,
        updates: Vec<(GlobalId, Vec<(Row, Diff)>)>,
    ) -> Result<(), StorageError> {
        todo!()
    }
    pub async fn snapshot(
        &self,
        shard: GlobalId,
    ) -> Result<(Vec<(Row, Timestamp, Diff)>, Timestamp), StorageError> {
        todo!()
    }
    pub async fn catalog_transact(&self, ops: Vec<CatalogOp>) -> Result<(), StorageError> {
        todo!()
    }
    pub async fn catalog_items(&self) -> Result<Vec<(u64, Vec<u8>)>, StorageError> {
        todo!()
    }
    pub async fn get_meta(&self, key: &str) -> Result<Option<u64>, StorageError> {
        todo!()
    }
    pub async fn set_meta(&self, key: &str, value: u64) -> Result<(), StorageError> {
        todo!()
    }
}

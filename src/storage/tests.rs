//! Storage tests against a temporary directory.

use super::*;
use crate::repr::{Datum, Diff};
use std::path::PathBuf;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("freshet-storage-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

async fn create_shard(storage: &Storage, shard: GlobalId, upper: Timestamp) {
    storage
        .catalog_transact(vec![CatalogOp::CreateShard { shard, upper }])
        .await
        .unwrap();
}

fn row(v: i64) -> Row {
    Row::new(vec![Datum::Int64(v)])
}

#[tokio::test]
async fn appended_updates_survive_reopening_and_consolidate() {
    let dir = temp_dir("reopen");
    let t = GlobalId::User(1);
    {
        let storage = Storage::open(&dir).await.unwrap();
        create_shard(&storage, t, 10).await;
        storage
            .append(10, vec![(t, vec![(row(1), 1), (row(2), 1)])])
            .await
            .unwrap();
        storage
            .append(11, vec![(t, vec![(row(1), -1)])])
            .await
            .unwrap();
    }
    let storage = Storage::open(&dir).await.unwrap();
    let (rows, upper) = storage.snapshot(t).await.unwrap();
    assert_eq!(upper, 12);
    assert_eq!(
        rows.into_iter().map(|(r, _, d)| (r, d)).collect::<Vec<_>>(),
        vec![(row(2), 1)]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_second_open_of_the_same_directory_is_refused() {
    let dir = temp_dir("lock");
    let _first = Storage::open(&dir).await.unwrap();
    match Storage::open(&dir).await {
        Err(e) => assert_eq!(e.sqlstate(), "55006", "{e}"),
        Ok(_) => panic!("a second open must fail"),
    }
}

/// Rows enough to be stored as a blob file rather than inline.
fn blob_sized_rows() -> Vec<(Row, Diff)> {
    (0..40_000)
        .map(|i| {
            (
                Row::new(vec![Datum::String(format!("value number {i:08}"))]),
                1,
            )
        })
        .collect()
}

/// Storage in `dir` with shard `t` holding one batch stored as a blob file.
async fn storage_with_one_blob(dir: &std::path::Path, t: GlobalId) -> Storage {
    let storage = Storage::open(dir).await.unwrap();
    create_shard(&storage, t, 1).await;
    storage
        .append(1, vec![(t, blob_sized_rows())])
        .await
        .unwrap();
    storage
}

fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn dropping_a_shard_in_a_catalog_transaction_deletes_its_blobs() {
    let dir = temp_dir("drop");
    let t = GlobalId::User(4);
    let storage = Storage::open(&dir).await.unwrap();
    storage
        .catalog_transact(vec![
            CatalogOp::Put {
                id: 4,
                record: b"t".to_vec(),
            },
            CatalogOp::CreateShard { shard: t, upper: 1 },
        ])
        .await
        .unwrap();
    storage
        .append(1, vec![(t, blob_sized_rows())])
        .await
        .unwrap();
    assert_eq!(files_under(&dir.join("blobs")).len(), 1);
    storage
        .catalog_transact(vec![
            CatalogOp::Delete { id: 4 },
            CatalogOp::DropShard { shard: t },
        ])
        .await
        .unwrap();
    assert!(storage.catalog_items().await.unwrap().is_empty());
    assert!(files_under(&dir.join("blobs")).is_empty());
    assert!(matches!(
        storage.snapshot(t).await,
        Err(StorageError::UnknownShard(_))
    ));
}

#[tokio::test]
async fn a_blob_no_shard_references_is_deleted_at_open() {
    let dir = temp_dir("orphan");
    let t = GlobalId::User(5);
    drop(storage_with_one_blob(&dir, t).await);
    // What a crash between writing a blob and committing the state that references it leaves.
    let orphan = dir.join("blobs").join("u5").join("00000000000000000009");
    std::fs::write(&orphan, b"never referenced").unwrap();
    let storage = Storage::open(&dir).await.unwrap();
    assert!(!orphan.exists(), "the unreferenced blob is still there");
    let (rows, _) = storage.snapshot(t).await.unwrap();
    assert_eq!(rows.len(), 40_000, "the referenced blob was kept");
}

#[tokio::test]
async fn a_garbled_batch_is_reported_with_its_shard() {
    let dir = temp_dir("corrupt");
    let t = GlobalId::User(7);
    let storage = storage_with_one_blob(&dir, t).await;
    let blob = std::fs::read_dir(dir.join("blobs").join("u7"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    let err = storage.snapshot(t).await.unwrap_err().to_string();
    assert!(
        err.contains("shard u7") && err.contains("checksum"),
        "{err}"
    );
}

#[tokio::test]
async fn catalog_changes_apply_atomically() {
    let dir = temp_dir("catalog");
    let storage = Storage::open(&dir).await.unwrap();
    storage
        .catalog_transact(vec![
            CatalogOp::Put {
                id: 1,
                record: b"a".to_vec(),
            },
            CatalogOp::Put {
                id: 2,
                record: b"b".to_vec(),
            },
        ])
        .await
        .unwrap();
    storage
        .catalog_transact(vec![CatalogOp::Delete { id: 1 }])
        .await
        .unwrap();
    assert_eq!(
        storage.catalog_items().await.unwrap(),
        vec![(2, b"b".to_vec())]
    );
}

#[tokio::test]
async fn compaction_keeps_the_data_and_bounds_the_number_of_batches() {
    let dir = temp_dir("compact");
    let t = GlobalId::User(3);
    let storage = Storage::open(&dir).await.unwrap();
    create_shard(&storage, t, 1).await;
    for ts in 1..=200u64 {
        // Each value inserted, then every other one deleted again.
        let mut rows = vec![(row(ts as i64), 1)];
        if ts % 2 == 0 {
            rows.push((row(ts as i64 - 1), -1));
        }
        storage.append(ts, vec![(t, rows)]).await.unwrap();
        storage.compact(t).await.unwrap();
    }
    let batches = storage
        .inner
        .state
        .get_shard("u3")
        .unwrap()
        .unwrap()
        .batches
        .len();
    assert!(
        batches <= 2 * COMPACT_AFTER_BATCHES,
        "{batches} batch files left"
    );
    // Compacting again with nothing new must not lose the merged batch.
    storage.compact(t).await.unwrap();
    storage.compact(t).await.unwrap();
    drop(storage);
    let storage = Storage::open(&dir).await.unwrap();
    let (rows, upper) = storage.snapshot(t).await.unwrap();
    assert_eq!(upper, 201);
    let expected: Vec<Row> = (1..=200).filter(|v| v % 2 == 0).map(row).collect();
    assert_eq!(
        rows.into_iter()
            .map(|(r, _, d)| {
                assert_eq!(d, 1);
                r
            })
            .collect::<Vec<_>>(),
        expected
    );
}

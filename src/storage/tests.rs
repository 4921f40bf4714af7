//! Storage tests against a temporary directory.

use super::*;
use crate::repr::{Datum, Diff};
use std::path::PathBuf;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("freshet-storage-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
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
        storage.create_shard(t, 10).await.unwrap();
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

#[tokio::test]
async fn a_garbled_batch_is_reported_with_its_shard() {
    let dir = temp_dir("corrupt");
    let t = GlobalId::User(7);
    let storage = Storage::open(&dir).await.unwrap();
    storage.create_shard(t, 1).await.unwrap();
    // Large enough to be stored as a blob file rather than inline.
    let rows: Vec<(Row, Diff)> = (0..40_000)
        .map(|i| {
            (
                Row::new(vec![Datum::String(format!("value number {i:08}"))]),
                1,
            )
        })
        .collect();
    storage.append(1, vec![(t, rows)]).await.unwrap();
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
    storage.create_shard(t, 1).await.unwrap();
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

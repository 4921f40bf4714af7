//! Durable storage: shards (durable collections of updates) and the catalog.
//!
//! A shard is immutable batch blobs of `(Row, Timestamp, Diff)` plus a small state record
//! `{ since, upper, batch keys }` changed by one transaction per append. Blobs live behind the
//! `Blob` trait (the `object_store` crate: a local directory by default, S3 later) and state
//! behind `StateStore` (an embedded transactional store, redb). An append writes and fsyncs
//! its blobs first, then commits the state that references them: a crash before the commit
//! leaves unreferenced blobs (deleted at the next open), never a state pointing at missing
//! data. Shards are created and dropped in the catalog transaction of their table. Appends
//! run one at a time on an appender thread, in the order they were started (each needs the
//! upper its predecessor left), so a caller can queue the next one while one commits. An
//! append whose batches are all small (inline) is made durable by the append log instead
//! (`log.rs`: one sequential write and `fdatasync`) and committed to the state store
//! lazily; every `CHECKPOINT_EVERY` such appends the state store commits durably and the
//! log starts over, and at open the log's records the state store lacks are applied. Every
//! blob carries a checksum; a damaged one is reported with the shard it belongs to, never
//! read as data.
//!
//! | file | owns |
//! |---|---|
//! | `blob.rs` | the `Blob` trait over `object_store` (a local directory by default) |
//! | `state.rs` | the `StateStore` trait: shard states, inline batches, catalog; redb's implementation |
//! | `batch.rs` | the checksummed encoding of a batch of updates |
//! | `log.rs` | the append log: small appends made durable by one sequential write |
//! | `error.rs` | `StorageError` and its SQLSTATEs |
//! | `load_generator/` | synthetic sources (COUNTER, CLICKS, AUCTION, NEXMARK) |

mod batch;
mod blob;
mod error;
pub mod kafka;
pub mod load_generator;
mod log;
mod state;

pub use error::StorageError;

use crate::repr::{Diff, GlobalId, Row, Timestamp};
use blob::{Blob, ObjectStoreBlob};
use state::{BatchMeta, Commit, RedbStateStore, StateStore};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Batches up to this size are stored inline in the state store (see `state.rs`).
const INLINE_MAX_BYTES: usize = 256 * 1024;

/// A shard with more batches than this gets its newest ones merged (see `compact`). Each
/// merge is a state transaction that holds the store's one write slot, which appends wait
/// for: 32 rather than 8 took 16-client INSERTs from 15k to 17-18k rows/s.
const COMPACT_AFTER_BATCHES: usize = 32;

/// One change to the catalog, applied atomically with the others of a transaction. Shards
/// are created and dropped in the same transaction as the catalog records that own them, so
/// a crash never leaves a table without its shard or a shard without its table.
pub enum CatalogOp {
    Put {
        id: u64,
        record: Vec<u8>,
    },
    Delete {
        id: u64,
    },
    /// An empty shard whose upper starts at `upper`.
    CreateShard {
        shard: GlobalId,
        upper: Timestamp,
    },
    /// Forgets a shard; its blobs are deleted after the transaction commits.
    DropShard {
        shard: GlobalId,
    },
}

pub struct Storage {
    inner: Arc<Inner>,
    /// The appender thread's queue: appends run one at a time, in the order they were
    /// started (each needs the upper its predecessor left). Bounded; callers keep at most a
    /// few appends in flight.
    appender: Option<std::sync::mpsc::SyncSender<AppendJob>>,
    /// Joined on drop, so that the data directory is released when the Storage is.
    appender_thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Storage {
    fn drop(&mut self) {
        // Closing the queue ends the appender after the appends already queued.
        drop(self.appender.take());
        if let Some(thread) = self.appender_thread.take() {
            let _ = thread.join();
        }
    }
}

/// The shards of an append and their rows, shared with the caller (who gets them back).
pub type AppendUpdates = Arc<Vec<(GlobalId, Vec<(Row, Diff)>)>>;

/// What an append reports when it is durable (or failed): the shards worth merging, and the
/// updates it was given.
pub type AppendDone = Box<dyn FnOnce(Result<Vec<GlobalId>>, AppendUpdates) + Send>;

struct AppendJob {
    ts: Timestamp,
    updates: AppendUpdates,
    done: AppendDone,
}

/// Appends queued beyond this many are a caller bug (it must wait for completions).
const APPEND_QUEUE: usize = 16;

struct Inner {
    blobs: Box<dyn Blob>,
    state: Box<dyn StateStore>,
    /// Used by the appender thread only (and by `open` before it starts).
    log: std::sync::Mutex<AppendLogState>,
    /// Held for the life of the process: the data directory is ours alone.
    _lock: File,
    /// Shards being compacted now: at most one compaction per shard at a time.
    compacting: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

/// Lazily committed appends between durable state commits (checkpoints). Each lazy redb
/// commit keeps the pages it frees from reuse until the next durable one, so this bounds
/// the state file's growth; a checkpoint costs one fsync per this many group commits.
const CHECKPOINT_EVERY: usize = 128;

struct AppendLogState {
    log: log::AppendLog,
    /// Shards whose batches piled up in the last lazy commit, reported with the next
    /// append's acknowledgement.
    piled_up: Vec<String>,
    /// Lazy appends since the last checkpoint.
    since_checkpoint: usize,
    /// A state commit failed: the store may have dropped lazy commits (it reopens after an
    /// I/O error), so the log must be applied again before the next append.
    needs_replay: bool,
}

/// An append ready to commit: through the log (with the record's bytes), or straight to
/// the state store (it has blobs, or is too large for the log).
enum PreparedAppend {
    Logged(LogRecord, Vec<u8>),
    Blobs(LogRecord),
}

/// One append as the log records it: what its state transaction does.
#[derive(serde::Serialize, serde::Deserialize)]
struct LogRecord {
    ts: Timestamp,
    /// Every shard whose upper moves to `ts + 1`.
    names: Vec<String>,
    /// The batch each shard with rows gains.
    written: BTreeMap<String, BatchMeta>,
    inline_puts: Vec<(String, Vec<u8>)>,
}

/// Deletes blobs no shard references: written by an append or compaction whose state commit
/// never happened, or left by a drop or merge that crashed before deleting them. Runs at
/// open, before anything can write.
fn sweep_orphan_blobs(blobs: &dyn Blob, state: &dyn StateStore) -> Result<()> {
    let referenced = state.referenced_blobs()?;
    let mut swept = 0;
    for key in blobs.list()? {
        if !referenced.contains(&key) {
            blobs.delete(&key)?;
            swept += 1;
        }
    }
    if swept > 0 {
        tracing::info!(blobs = swept, "deleted unreferenced blobs");
    }
    Ok(())
}

fn shard_name(shard: GlobalId) -> String {
    shard.to_string()
}

impl Storage {
    /// Opens (creating if needed) the data directory and locks it: a second process on the
    /// same directory fails with `StorageError::Locked`.
    pub async fn open(data_dir: &Path) -> Result<Storage> {
        let dir = data_dir.to_path_buf();
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir).map_err(|e| StorageError::io(&dir, e))?;
            let lock_path = dir.join("LOCK");
            let lock = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .map_err(|e| StorageError::io(&lock_path, e))?;
            if lock.try_lock().is_err() {
                return Err(StorageError::Locked(dir.display().to_string()));
            }
            let blobs: Box<dyn Blob> = Box::new(ObjectStoreBlob::local(&dir.join("blobs"))?);
            let state: Box<dyn StateStore> =
                Box::new(RedbStateStore::open(&dir.join("state.redb"))?);
            sweep_orphan_blobs(blobs.as_ref(), state.as_ref())?;
            let (log, records) = log::AppendLog::open(&dir.join("append.log"))?;
            let inner = Arc::new(Inner {
                blobs,
                state,
                log: std::sync::Mutex::new(AppendLogState {
                    log,
                    piled_up: Vec::new(),
                    since_checkpoint: 0,
                    needs_replay: false,
                }),
                _lock: lock,
                compacting: Default::default(),
            });
            inner.replay_log(&mut *inner.lock_log()?, records)?;
            let (appender, jobs) = std::sync::mpsc::sync_channel::<AppendJob>(APPEND_QUEUE);
            let appending = inner.clone();
            let appender_thread = std::thread::Builder::new()
                .name("storage-append".into())
                .spawn(move || {
                    // Ends when the Storage (the only sender) is dropped.
                    for job in jobs {
                        appending.append(job);
                    }
                })
                .map_err(|e| StorageError::Internal(format!("cannot start the appender: {e}")))?;
            Ok(Storage {
                inner,
                appender: Some(appender),
                appender_thread: Some(appender_thread),
            })
        })
        .await
        .map_err(|e| StorageError::Internal(format!("storage task failed: {e}")))?
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| StorageError::Internal(format!("storage task failed: {e}")))?
    }

    /// Appends `updates` at `ts` and advances each named shard's upper to `ts + 1`, atomically
    /// and durably, after every append started before it; `done` is called (on the appender
    /// thread) when the data would survive a crash, or with the error. Appends started in a
    /// row overlap with the caller's work, not with each other.
    pub fn start_append(&self, ts: Timestamp, updates: AppendUpdates, done: AppendDone) {
        let job = AppendJob { ts, updates, done };
        let unsent = match &self.appender {
            Some(appender) => appender.send(job).err().map(|e| e.0),
            None => Some(job),
        };
        if let Some(job) = unsent {
            (job.done)(
                Err(StorageError::Internal("the appender has stopped".into())),
                job.updates,
            );
        }
    }

    /// `start_append`, awaited. Returns the shards that now have enough batches to be worth
    /// merging (see `compact`).
    pub async fn append(
        &self,
        ts: Timestamp,
        updates: impl Into<AppendUpdates>,
    ) -> Result<Vec<GlobalId>> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.start_append(
            ts,
            updates.into(),
            Box::new(move |result, _| {
                let _ = tx.send(result);
            }),
        );
        rx.await
            .map_err(|_| StorageError::Internal("the appender has stopped".into()))?
    }

    /// Merges a shard's newest batches when it has accumulated more than a few, keeping the
    /// number of batches logarithmic in the shard's size: the newest batches are merged while
    /// together they are at least as large as the next older one. The merged batch is written
    /// first; one state transaction swaps it in (only if those batches are still there);
    /// then the old blobs are deleted. Never blocks appends.
    pub async fn compact(&self, shard: GlobalId) -> Result<()> {
        self.blocking(move |inner| {
            let name = shard_name(shard);
            let claimed = inner
                .compacting
                .lock()
                .map(|mut set| set.insert(name.clone()))
                .unwrap_or(false);
            if !claimed {
                return Ok(());
            }
            let result = inner.compact(&name);
            if let Ok(mut set) = inner.compacting.lock() {
                set.remove(&name);
            }
            result
        })
        .await
    }
}

impl Inner {
    /// `Storage::start_append`'s work; calls `job.done` once the append is durable (or
    /// failed). Large batches go to blobs first (each durable), then one durable state
    /// transaction records them with the small ones and every shard's new upper. An append
    /// with only small batches is written to the append log instead: it is acknowledged as
    /// soon as the log has it, and committed to the state store lazily after that.
    fn append(&self, job: AppendJob) {
        let AppendJob { ts, updates, done } = job;
        let mut log = match self.lock_log() {
            Ok(log) => log,
            Err(e) => return done(Err(e), updates),
        };
        let ids: Vec<(String, GlobalId)> =
            updates.iter().map(|(s, _)| (shard_name(*s), *s)).collect();
        let to_ids = |names: Vec<String>| -> Vec<GlobalId> {
            ids.iter()
                .filter(|(n, _)| names.contains(n))
                .map(|(_, id)| *id)
                .collect()
        };
        let record = match self.prepare_append(&mut log, ts, &updates) {
            Ok(r) => r,
            Err(e) => return done(Err(e), updates),
        };
        let (record, payload) = match record {
            PreparedAppend::Logged(record, payload) => (record, payload),
            PreparedAppend::Blobs(record) => {
                let result = self.commit_append(Commit::Durable, &record).map(to_ids);
                if result.is_err() {
                    // The store may have lost lazy commits (it reopens after I/O errors).
                    log.needs_replay = true;
                }
                return done(result, updates);
            }
        };
        if let Err(e) = log.log.append(&payload) {
            return done(Err(e), updates);
        }
        // Durable: acknowledged now, with the shards earlier commits found piled up.
        done(Ok(to_ids(std::mem::take(&mut log.piled_up))), updates);
        match self.commit_append(Commit::Lazy, &record) {
            Ok(piled_up) => log.piled_up = piled_up,
            Err(e) => {
                // Acknowledged and in the log: the next append applies the log again
                // (and fails while the store cannot take it).
                tracing::warn!(error = %e, ts, "lazy state commit of a logged append failed");
                log.needs_replay = true;
                return;
            }
        }
        log.since_checkpoint += 1;
        if log.since_checkpoint >= CHECKPOINT_EVERY
            && let Err(e) = self.checkpoint(&mut log)
        {
            // The next append applies the log again and checkpoints first, and fails if
            // it still cannot.
            tracing::warn!(error = %e, "checkpoint of the append log failed");
        }
    }

    /// Everything of an append before its commit: the log applied again if the store lost
    /// commits, a due checkpoint, the batches encoded, large ones written as blobs, and the
    /// log record (unless a batch is a blob or the record is too large for the log).
    fn prepare_append(
        &self,
        log: &mut AppendLogState,
        ts: Timestamp,
        updates: &AppendUpdates,
    ) -> Result<PreparedAppend> {
        if log.needs_replay {
            let records = log.log.records()?;
            self.replay_log(log, records)?;
        }
        if log.since_checkpoint >= CHECKPOINT_EVERY {
            // The last try failed (a full disk): nothing of this append is written yet.
            self.checkpoint(log)?;
        }
        let mut written: BTreeMap<String, BatchMeta> = BTreeMap::new();
        let mut inline_puts = Vec::new();
        let mut blobs = Vec::new();
        for (shard, rows) in updates.iter() {
            let name = shard_name(*shard);
            if rows.is_empty() {
                continue;
            }
            let key = format!("{name}/{ts:020}");
            let encoded = batch::encode(ts, rows)?;
            let inline = encoded.len() <= INLINE_MAX_BYTES;
            let bytes = encoded.len() as u64;
            if inline {
                inline_puts.push((key.clone(), encoded));
            } else {
                blobs.push((key.clone(), encoded));
            }
            written.insert(name, BatchMeta { key, inline, bytes });
        }
        let record = LogRecord {
            ts,
            names: updates.iter().map(|(s, _)| shard_name(*s)).collect(),
            written,
            inline_puts,
        };
        if !blobs.is_empty() {
            for (key, encoded) in &blobs {
                self.blobs.put(key, encoded)?;
            }
            return Ok(PreparedAppend::Blobs(record));
        }
        let payload = postcard::to_allocvec(&record)
            .map_err(|e| StorageError::Internal(format!("cannot encode a log record: {e}")))?;
        if payload.len() > log::MAX_RECORD_BYTES {
            return Ok(PreparedAppend::Blobs(record));
        }
        if !log.log.fits(payload.len()) {
            self.checkpoint(log)?;
        }
        Ok(PreparedAppend::Logged(record, payload))
    }

    /// One append's state transaction; returns the shards whose batches piled up.
    fn commit_append(&self, commit: Commit, record: &LogRecord) -> Result<Vec<String>> {
        let ts = record.ts;
        let mut piled_up = Vec::new();
        self.state.update_shards(
            commit,
            &record.names,
            &record.inline_puts,
            &[],
            &mut |name, state| {
                if ts < state.upper {
                    return Err(StorageError::Internal(format!(
                        "append at {ts} to shard {name} whose upper is already {}",
                        state.upper
                    )));
                }
                if let Some(batch) = record.written.get(name) {
                    state.batches.push(batch.clone());
                    state.next_batch += 1;
                }
                state.upper = ts + 1;
                if state.batches.len() > COMPACT_AFTER_BATCHES {
                    piled_up.push(name.to_string());
                }
                Ok(())
            },
        )?;
        Ok(piled_up)
    }

    /// Makes every lazy commit durable, then starts the log over. A failure leaves the log
    /// as it was (everything in it still counts).
    fn checkpoint(&self, log: &mut AppendLogState) -> Result<()> {
        if let Err(e) = self.state.sync() {
            // The store closes itself on an I/O error, losing its lazy commits: the log
            // must be applied again before anything else is appended.
            log.needs_replay = true;
            return Err(e);
        }
        log.log.reset()?;
        log.since_checkpoint = 0;
        Ok(())
    }

    fn lock_log(&self) -> Result<std::sync::MutexGuard<'_, AppendLogState>> {
        self.log
            .lock()
            .map_err(|_| StorageError::Internal("the append log's lock is poisoned".into()))
    }

    /// Applies the log's `records` that the state store lacks (at open, after a crash; or
    /// after the store reopened and lost its lazy commits), in order, then checkpoints.
    fn replay_log(&self, log: &mut AppendLogState, records: Vec<Vec<u8>>) -> Result<()> {
        let n = records.len();
        let applied = self.apply_records(records)?;
        self.checkpoint(log)?;
        log.needs_replay = false;
        if applied > 0 {
            tracing::info!(records = n, applied, "append log replayed");
        }
        Ok(())
    }

    /// Applies each record whose shards have not reached its timestamp (appends are atomic
    /// and in timestamp order, so a record's shards are all behind it or all past it);
    /// shards dropped since are left out. Returns how many were applied.
    fn apply_records(&self, records: Vec<Vec<u8>>) -> Result<usize> {
        let mut applied = 0;
        for bytes in records {
            let mut record: LogRecord =
                postcard::from_bytes(&bytes).map_err(|e| StorageError::Corrupt {
                    shard: "append log".into(),
                    blob: "append.log".into(),
                    reason: e.to_string(),
                })?;
            let mut live = Vec::new();
            for name in &record.names {
                if let Some(state) = self.state.get_shard(name)?
                    && state.upper <= record.ts
                {
                    live.push(name.clone());
                }
            }
            if live.is_empty() {
                continue;
            }
            record.written.retain(|name, _| live.contains(name));
            let keys: Vec<&String> = record.written.values().map(|b| &b.key).collect();
            let puts = std::mem::take(&mut record.inline_puts);
            record.inline_puts = puts
                .into_iter()
                .filter(|(k, _)| keys.contains(&k))
                .collect();
            record.names = live;
            self.commit_append(Commit::Lazy, &record)?;
            applied += 1;
        }
        Ok(applied)
    }

    /// The bytes of one of `shard`'s batches, wherever it is stored.
    fn read_batch(&self, shard: &str, meta: &BatchMeta) -> Result<Vec<u8>> {
        let bytes = if meta.inline {
            self.state.get_inline(&meta.key)?
        } else {
            self.blobs.get(&meta.key)?
        };
        bytes.ok_or_else(|| StorageError::Corrupt {
            shard: shard.to_string(),
            blob: meta.key.clone(),
            reason: "the batch is missing".into(),
        })
    }

    /// `Storage::compact` for one shard, claimed by the caller.
    fn compact(&self, name: &str) -> Result<()> {
        let inner = self;
        let name = name.to_string();
        {
            let Some(state) = inner.state.get_shard(&name)? else {
                return Ok(());
            };
            if state.batches.len() <= COMPACT_AFTER_BATCHES {
                return Ok(());
            }
            let batches = &state.batches;
            let mut start = batches.len() - 2;
            let mut run_bytes: u64 = batches[start..].iter().map(|b| b.bytes).sum();
            while start > 0 && run_bytes >= batches[start - 1].bytes {
                start -= 1;
                run_bytes += batches[start].bytes;
            }
            let run: Vec<BatchMeta> = batches[start..].to_vec();
            let mut totals: Vec<(Row, Diff)> = Vec::new();
            let mut latest: Timestamp = 0;
            for meta in &run {
                let bytes = inner.read_batch(&name, meta)?;
                let updates = batch::decode(&bytes).map_err(|reason| StorageError::Corrupt {
                    shard: name.clone(),
                    blob: meta.key.clone(),
                    reason,
                })?;
                let (ts, updates) = updates;
                latest = latest.max(ts);
                totals.extend(updates);
            }
            differential_dataflow::consolidation::consolidate(&mut totals);
            // A fresh name: a merge may include an earlier merge's output with the same times.
            let key = format!(
                "{name}/{latest:020}-merged-{}",
                uuid::Uuid::new_v4().simple()
            );
            let encoded = batch::encode(latest, &totals)?;
            let inline = encoded.len() <= INLINE_MAX_BYTES;
            let merged_meta = BatchMeta {
                key: key.clone(),
                inline,
                bytes: encoded.len() as u64,
            };
            let mut inline_puts = Vec::new();
            if inline {
                inline_puts.push((key.clone(), encoded));
            } else {
                inner.blobs.put(&key, &encoded)?;
            }
            let inline_deletes: Vec<String> = run
                .iter()
                .filter(|b| b.inline)
                .map(|b| b.key.clone())
                .collect();
            // A swap of inline batches only loses the merge if a crash undoes it: no fsync of
            // its own. One that frees blobs must be on disk before they are deleted.
            let commit = if run.iter().all(|b| b.inline) {
                Commit::Lazy
            } else {
                Commit::Durable
            };
            let swapped = inner.state.update_shards(
                commit,
                std::slice::from_ref(&name),
                &inline_puts,
                &inline_deletes,
                &mut |_, state| {
                    // Only if the merged batches are still there (nothing else changed them).
                    let position = state
                        .batches
                        .windows(run.len())
                        .position(|w| w == run.as_slice());
                    match position {
                        Some(p) => {
                            state
                                .batches
                                .splice(p..p + run.len(), [merged_meta.clone()]);
                            Ok(())
                        }
                        None => Err(StorageError::Internal(
                            "compaction raced another change".into(),
                        )),
                    }
                },
            );
            match swapped {
                Ok(()) => {
                    for meta in run.iter().filter(|b| !b.inline) {
                        inner.blobs.delete(&meta.key)?;
                    }
                }
                Err(_) if !inline => inner.blobs.delete(&key)?,
                Err(_) => {}
            }
            Ok(())
        }
    }
}

impl Storage {
    /// Every update of the shard, consolidated, with times advanced to its since; and its upper.
    pub async fn snapshot(
        &self,
        shard: GlobalId,
    ) -> Result<(Vec<(Row, Timestamp, Diff)>, Timestamp)> {
        self.blocking(move |inner| {
            let name = shard_name(shard);
            let state = inner
                .state
                .get_shard(&name)?
                .ok_or_else(|| StorageError::UnknownShard(name.clone()))?;
            let mut rows: Vec<(Row, Diff)> = Vec::new();
            for meta in &state.batches {
                let key = &meta.key;
                let bytes = inner.read_batch(&name, meta)?;
                let updates = batch::decode(&bytes).map_err(|reason| StorageError::Corrupt {
                    shard: name.clone(),
                    blob: key.clone(),
                    reason,
                })?;
                rows.extend(updates.1);
            }
            // Sorts, sums the diffs of equal rows and drops zeros.
            differential_dataflow::consolidation::consolidate(&mut rows);
            let since = state.since;
            let rows = rows.into_iter().map(|(r, d)| (r, since, d)).collect();
            Ok((rows, state.upper))
        })
        .await
    }

    /// Applies catalog changes (with shard creations and drops) atomically and durably.
    pub async fn catalog_transact(&self, ops: Vec<CatalogOp>) -> Result<()> {
        self.blocking(move |inner| {
            let dropped = inner.state.catalog_transact(ops)?;
            for key in dropped {
                inner.blobs.delete(&key)?;
            }
            Ok(())
        })
        .await
    }

    pub async fn catalog_items(&self) -> Result<Vec<(u64, Vec<u8>)>> {
        self.blocking(|inner| inner.state.catalog_items()).await
    }
}

#[cfg(test)]
mod tests;

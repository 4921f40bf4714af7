//! The append log: where a table append is made durable with one small sequential write and
//! one `fdatasync`, before the state store commits it without an fsync of its own.
//!
//! Why: a durable redb commit writes about eight scattered pages and costs ~320 µs of
//! fsync on this machine; an `fdatasync` after one write into a preallocated file costs
//! ~125 µs (`docs/benchmarks.md`, Durability). Group commit's throughput is bounded by it.
//!
//! Layout: one preallocated file of `LOG_BYTES` (zeros when created). Bytes `0..HEADER` hold
//! the header: magic, the current epoch, a checksum. Records follow from `HEADER`, each
//! `[len: u32][crc32 of (epoch, payload): u32][payload]`, little-endian.
//!
//! Invariants:
//! - A record is durable when `append` returns. Reading stops at the first record whose
//!   length or checksum does not match: a torn last write (never acknowledged) and every
//!   record of an older epoch end the log.
//! - `reset` (a new epoch, so every earlier record stops counting) happens only after the
//!   state store has durably committed everything the log holds (a checkpoint): a crash at
//!   any moment leaves each acknowledged append in the log, in the state store, or both.
//!   Replaying a record the state store already holds is skipped by the caller (the shard's
//!   upper is past it), so replay is idempotent.

use super::{Result, StorageError};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The log file's size. When a record does not fit, the caller checkpoints and resets.
pub const LOG_BYTES: u64 = 4 << 20;
/// Records larger than this go straight to a durable state commit instead.
pub const MAX_RECORD_BYTES: usize = 1 << 20;
const HEADER: u64 = 4096;
const MAGIC: &[u8; 8] = b"FRSHLOG1";
const RECORD_HEAD: usize = 8;

pub struct AppendLog {
    file: File,
    path: PathBuf,
    epoch: u64,
    /// Where the next record goes.
    end: u64,
}

impl AppendLog {
    /// Opens the log at `path` (creating and preallocating it if missing) and returns it
    /// with the payloads of its current epoch's records, in order. Appends go after them
    /// until the caller resets the log.
    pub fn open(path: &Path) -> Result<(AppendLog, Vec<Vec<u8>>)> {
        let io = |e| StorageError::io(path, e);
        if !path.exists() {
            create(path)?;
        }
        let file = File::options()
            .read(true)
            .write(true)
            .open(path)
            .map_err(io)?;
        let mut bytes = vec![0u8; LOG_BYTES as usize];
        let len = file.metadata().map_err(io)?.len().min(LOG_BYTES) as usize;
        file.read_exact_at(&mut bytes[..len], 0).map_err(io)?;
        let epoch = match read_header(&bytes) {
            Some(e) => e,
            None => {
                return Err(StorageError::Corrupt {
                    shard: "append log".into(),
                    blob: path.display().to_string(),
                    reason: "bad header".into(),
                });
            }
        };
        let mut records = Vec::new();
        let mut at = HEADER as usize;
        while at + RECORD_HEAD <= bytes.len() {
            let n = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or_default()) as usize;
            let crc = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap_or_default());
            let start = at + RECORD_HEAD;
            if n == 0 || start + n > bytes.len() || checksum(epoch, &bytes[start..start + n]) != crc
            {
                break;
            }
            records.push(bytes[start..start + n].to_vec());
            at = start + n;
        }
        Ok((
            AppendLog {
                file,
                path: path.to_path_buf(),
                epoch,
                end: at as u64,
            },
            records,
        ))
    }

    /// Whether a record of `n` payload bytes fits before the end of the file.
    pub fn fits(&self, n: usize) -> bool {
        self.end + (RECORD_HEAD + n) as u64 <= LOG_BYTES
    }

    /// Writes one record and waits until it is on disk.
    pub fn append(&mut self, payload: &[u8]) -> Result<()> {
        assert!(
            self.fits(payload.len()),
            "the caller checks that a record fits"
        );
        let mut record = Vec::with_capacity(RECORD_HEAD + payload.len());
        record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        record.extend_from_slice(&checksum(self.epoch, payload).to_le_bytes());
        record.extend_from_slice(payload);
        let io = |e| StorageError::io(&self.path, e);
        self.file.write_all_at(&record, self.end).map_err(io)?;
        self.file.sync_data().map_err(io)?;
        self.end += record.len() as u64;
        Ok(())
    }

    /// Starts a new epoch: every record written so far stops counting. Only after a
    /// checkpoint (see the module's invariants).
    pub fn reset(&mut self) -> Result<()> {
        self.epoch += 1;
        let io = |e| StorageError::io(&self.path, e);
        self.file.write_all_at(&header(self.epoch), 0).map_err(io)?;
        self.file.sync_data().map_err(io)?;
        self.end = HEADER;
        Ok(())
    }

    /// The payloads of the current epoch's records, read again from the file.
    pub fn records(&self) -> Result<Vec<Vec<u8>>> {
        Ok(AppendLog::open(&self.path)?.1)
    }
}

fn checksum(epoch: u64, payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&epoch.to_le_bytes());
    hasher.update(payload);
    hasher.finalize()
}

fn header(epoch: u64) -> Vec<u8> {
    let mut h = Vec::with_capacity(20);
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&epoch.to_le_bytes());
    h.extend_from_slice(&crc32fast::hash(&h).to_le_bytes());
    h
}

fn read_header(bytes: &[u8]) -> Option<u64> {
    let h = bytes.get(..20)?;
    if &h[..8] != MAGIC || crc32fast::hash(&h[..16]).to_le_bytes() != h[16..20] {
        return None;
    }
    Some(u64::from_le_bytes(h[8..16].try_into().ok()?))
}

/// Writes the whole file (zeros after the header) under a temporary name, syncs it, then
/// renames it into place and syncs the directory: a crash leaves no half-made log.
fn create(path: &Path) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let io = |e| StorageError::io(path, e);
    let file = File::create(&tmp).map_err(io)?;
    let zeros = vec![0u8; 1 << 20];
    let mut at = 0;
    while at < LOG_BYTES {
        file.write_all_at(&zeros, at).map_err(io)?;
        at += zeros.len() as u64;
    }
    file.write_all_at(&header(1), 0).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent() {
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "freshet-log-test-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn records_come_back_in_order_until_reset() {
        let path = dir().join("append.log");
        let (mut log, records) = AppendLog::open(&path).unwrap();
        assert!(records.is_empty());
        log.append(b"one").unwrap();
        log.append(b"two").unwrap();
        drop(log);
        let (mut log, records) = AppendLog::open(&path).unwrap();
        assert_eq!(records, vec![b"one".to_vec(), b"two".to_vec()]);
        log.append(b"three").unwrap();
        log.reset().unwrap();
        log.append(b"four").unwrap();
        drop(log);
        // The old epoch's records after "four" do not count.
        let (_, records) = AppendLog::open(&path).unwrap();
        assert_eq!(records, vec![b"four".to_vec()]);
    }

    #[test]
    fn a_torn_last_record_ends_the_log() {
        let path = dir().join("append.log");
        let (mut log, _) = AppendLog::open(&path).unwrap();
        log.append(b"kept").unwrap();
        log.append(b"torn record").unwrap();
        drop(log);
        // Garble the second record's last byte, as a write cut short would.
        let file = File::options().write(true).open(&path).unwrap();
        let at = HEADER + (RECORD_HEAD + 4) as u64 + (RECORD_HEAD + 10) as u64;
        file.write_all_at(b"X", at).unwrap();
        let (log, records) = AppendLog::open(&path).unwrap();
        assert_eq!(records, vec![b"kept".to_vec()]);
        assert!(log.fits(100));
    }
}

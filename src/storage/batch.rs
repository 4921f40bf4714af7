//! The encoding of one batch blob: a fixed header (magic, format version, payload length,
//! CRC-32 of the payload) followed by the postcard-encoded updates.

use super::{Result, StorageError};
use crate::repr::{Diff, Row, Timestamp};

const MAGIC: &[u8; 4] = b"FRSB";
const VERSION: u8 = 1;
const HEADER: usize = 4 + 1 + 8 + 4;

pub fn encode(updates: &[(Row, Timestamp, Diff)]) -> Result<Vec<u8>> {
    let payload = postcard::to_allocvec(updates)
        .map_err(|e| StorageError::Internal(format!("encoding a batch: {e}")))?;
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Decodes a batch, or says what is wrong with it.
pub fn decode(bytes: &[u8]) -> std::result::Result<Vec<(Row, Timestamp, Diff)>, String> {
    if bytes.len() < HEADER {
        return Err(format!(
            "truncated: {} bytes, shorter than the header",
            bytes.len()
        ));
    }
    if &bytes[..4] != MAGIC {
        return Err("not a batch (bad magic bytes)".into());
    }
    if bytes[4] != VERSION {
        return Err(format!("unknown batch format version {}", bytes[4]));
    }
    let len = u64::from_le_bytes(bytes[5..13].try_into().map_err(|_| "bad header")?) as usize;
    let crc = u32::from_le_bytes(bytes[13..17].try_into().map_err(|_| "bad header")?);
    let payload = &bytes[HEADER..];
    if payload.len() != len {
        return Err(format!(
            "truncated: payload has {} of {len} bytes",
            payload.len()
        ));
    }
    if crc32fast::hash(payload) != crc {
        return Err("checksum mismatch".into());
    }
    postcard::from_bytes(payload).map_err(|e| format!("undecodable payload: {e}"))
}

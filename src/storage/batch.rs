//! The encoding of one batch blob: a fixed header (magic, format version, payload length,
//! CRC-32 of the payload) followed by the postcard-encoded payload. Every update of a batch
//! has the same time (an append's timestamp; a merge's latest), so version 2 stores it once:
//! `(time, [(row, diff)])`. Version 1 (`[(row, time, diff)]`) is still read.

use super::{Result, StorageError};
use crate::repr::{Diff, Row, Timestamp};

const MAGIC: &[u8; 4] = b"FRSB";
const VERSION: u8 = 2;
const HEADER: usize = 4 + 1 + 8 + 4;

pub fn encode(time: Timestamp, updates: &[(Row, Diff)]) -> Result<Vec<u8>> {
    let payload = postcard::to_allocvec(&(time, updates))
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
pub fn decode(bytes: &[u8]) -> std::result::Result<(Timestamp, Vec<(Row, Diff)>), String> {
    if bytes.len() < HEADER {
        return Err(format!(
            "truncated: {} bytes, shorter than the header",
            bytes.len()
        ));
    }
    if &bytes[..4] != MAGIC {
        return Err("not a batch (bad magic bytes)".into());
    }
    let version = bytes[4];
    if version != VERSION && version != 1 {
        return Err(format!("unknown batch format version {version}"));
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
    let undecodable = |e: postcard::Error| format!("undecodable payload: {e}");
    if version == 1 {
        let updates: Vec<(Row, Timestamp, Diff)> =
            postcard::from_bytes(payload).map_err(undecodable)?;
        let time = updates.iter().map(|(_, t, _)| *t).max().unwrap_or(0);
        return Ok((time, updates.into_iter().map(|(r, _, d)| (r, d)).collect()));
    }
    postcard::from_bytes(payload).map_err(undecodable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repr::Datum;

    fn rows() -> Vec<(Row, Diff)> {
        vec![
            (Row::new(vec![Datum::Int32(1)]), 1),
            (Row::new(vec![Datum::Int32(2)]), -1),
        ]
    }

    #[test]
    fn a_batch_decodes_to_what_was_encoded() {
        let bytes = encode(42, &rows()).unwrap();
        assert_eq!(decode(&bytes).unwrap(), (42, rows()));
    }

    #[test]
    fn a_version_1_batch_still_decodes() {
        let old: Vec<(Row, Timestamp, Diff)> = rows().into_iter().map(|(r, d)| (r, 7, d)).collect();
        let payload = postcard::to_allocvec(&old).unwrap();
        let mut bytes = MAGIC.to_vec();
        bytes.push(1);
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        bytes.extend_from_slice(&payload);
        assert_eq!(decode(&bytes).unwrap(), (7, rows()));
    }
}

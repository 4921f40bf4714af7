//! The timestamp oracle: write timestamps strictly increase and never run behind the wall
//! clock; the read timestamp is the latest timestamp whose writes are all committed.

use crate::repr::Timestamp;

pub struct Oracle {
    /// The last write timestamp handed out.
    last_write: Timestamp,
    /// Every write at or before this time is durable and sent to the workers.
    read: Timestamp,
}

pub fn now_ms() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Timestamp)
        .unwrap_or(0)
}

impl Oracle {
    /// An oracle whose timestamps are all beyond `floor` (the last one used before a
    /// restart), so that time never goes backwards.
    pub fn new(floor: Timestamp) -> Oracle {
        let start = floor.max(now_ms());
        Oracle {
            last_write: start,
            read: start,
        }
    }

    /// A fresh write timestamp: `max(now, last + 1)`.
    pub fn write_ts(&mut self) -> Timestamp {
        let ts = now_ms().max(self.last_write + 1);
        self.last_write = ts;
        ts
    }

    /// Records that every write at or before `ts` is committed.
    pub fn applied(&mut self, ts: Timestamp) {
        debug_assert!(
            ts <= self.last_write,
            "applied a timestamp never handed out"
        );
        self.read = self.read.max(ts);
    }

    /// The timestamp a strict-serializable read uses: it sees every committed write.
    pub fn read_ts(&self) -> Timestamp {
        self.read
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_timestamps_strictly_increase_and_reads_follow_commits() {
        let mut oracle = Oracle::new(0);
        let a = oracle.write_ts();
        let b = oracle.write_ts();
        assert!(b > a);
        assert!(oracle.read_ts() < a);
        oracle.applied(b);
        assert_eq!(oracle.read_ts(), b);
    }

    #[test]
    fn timestamps_start_beyond_the_floor() {
        let floor = now_ms() + 60_000;
        let mut oracle = Oracle::new(floor);
        assert!(oracle.write_ts() > floor);
    }
}

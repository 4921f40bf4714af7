//! Advisory locks: the lock table behind `pg_advisory_lock` and its family, owned by the
//! coordinator. A lock is named by a key (one `bigint`, or a pair of `integer`s: two
//! separate key spaces, as in PostgreSQL) and held by connections, exclusive or shared, for
//! the session or for the transaction block.
//!
//! Semantics (PostgreSQL's):
//! - Exclusive conflicts with every lock another connection holds or waits for on the key;
//!   shared conflicts only with exclusive. A connection never conflicts with itself.
//! - Locks are re-entrant: each acquisition counts, and each unlock releases one.
//! - A request that conflicts waits in a first-come queue behind earlier conflicting
//!   requests (so a stream of shared locks cannot starve an exclusive one), unless the
//!   connection already holds the key, which lets it in at once (waiting behind a request
//!   that waits for itself would deadlock).
//! - Releasing grants, in queue order, every waiter that no longer conflicts.
//! - A request whose wait would close a cycle of connections waiting for each other fails
//!   at once (deadlock), leaving every other lock and waiter as they were.
//!
//! Invariants: a connection waits for at most one key at a time (it runs one statement), so
//! the queues together hold at most one entry per connection; `waiting` indexes exactly the
//! queued requests; a key's entry exists only while it has a holder or a waiter.

use crate::catalog::system::AdvisoryLockRow;
pub use crate::sql::plan::advisory_locks::{LockKey, LockMode, LockScope};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

fn conflicts(a: LockMode, b: LockMode) -> bool {
    a == LockMode::Exclusive || b == LockMode::Exclusive
}

/// How many times one connection holds one key, by mode and scope.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Holding {
    counts: [[u32; 2]; 2],
}

impl Holding {
    fn count(&mut self, mode: LockMode, scope: LockScope) -> &mut u32 {
        &mut self.counts[mode as usize][scope as usize]
    }

    fn holds(&self, mode: LockMode) -> bool {
        self.counts[mode as usize].iter().any(|c| *c > 0)
    }

    fn is_empty(&self) -> bool {
        self.counts.iter().flatten().all(|c| *c == 0)
    }
}

struct Waiter<W> {
    conn_id: u32,
    mode: LockMode,
    scope: LockScope,
    waiter: W,
}

struct LockState<W> {
    holders: BTreeMap<u32, Holding>,
    queue: VecDeque<Waiter<W>>,
}

impl<W> LockState<W> {
    fn new() -> Self {
        LockState {
            holders: BTreeMap::new(),
            queue: VecDeque::new(),
        }
    }

    /// The other connections holding this key in a mode that conflicts with `mode`.
    fn conflicting_holders(&self, conn_id: u32, mode: LockMode) -> impl Iterator<Item = u32> {
        self.holders.iter().filter_map(move |(c, h)| {
            let conflicts = (h.holds(LockMode::Exclusive) && conflicts(mode, LockMode::Exclusive))
                || (h.holds(LockMode::Shared) && conflicts(mode, LockMode::Shared));
            (*c != conn_id && conflicts).then_some(*c)
        })
    }

    /// The other connections among the first `ahead` waiters whose requests conflict with
    /// `mode`.
    fn conflicting_waiters(
        &self,
        conn_id: u32,
        mode: LockMode,
        ahead: usize,
    ) -> impl Iterator<Item = u32> {
        self.queue
            .iter()
            .take(ahead)
            .filter(move |w| w.conn_id != conn_id && conflicts(mode, w.mode))
            .map(|w| w.conn_id)
    }

    fn grant(&mut self, conn_id: u32, mode: LockMode, scope: LockScope) {
        *self.holders.entry(conn_id).or_default().count(mode, scope) += 1;
    }
}

/// What a blocking lock request came to.
#[derive(Debug)]
pub enum Acquired<W> {
    /// Held now; the caller answers its waiter.
    Granted(W),
    /// Queued; its waiter comes back from a later release once granted.
    Waiting,
    /// Waiting would deadlock: refused, nothing changed.
    Deadlock(W),
}

/// The lock table. `W` is what the coordinator answers once a queued request is granted.
pub struct AdvisoryLocks<W> {
    locks: BTreeMap<LockKey, LockState<W>>,
    /// The key each waiting connection waits for.
    waiting: BTreeMap<u32, LockKey>,
}

impl<W> Default for AdvisoryLocks<W> {
    fn default() -> Self {
        AdvisoryLocks {
            locks: BTreeMap::new(),
            waiting: BTreeMap::new(),
        }
    }
}

impl<W> AdvisoryLocks<W> {
    /// `pg_advisory_lock` and friends: takes `key` now, or queues the request.
    pub fn lock(
        &mut self,
        conn_id: u32,
        key: LockKey,
        mode: LockMode,
        scope: LockScope,
        waiter: W,
    ) -> Acquired<W> {
        assert!(
            !self.waiting.contains_key(&conn_id),
            "connection {conn_id} asks for a lock while it waits for one"
        );
        if self.try_lock(conn_id, key, mode, scope) {
            return Acquired::Granted(waiter);
        }
        let state = self
            .locks
            .get(&key)
            .expect("a refused key is held or awaited");
        let ahead = state.queue.len();
        let blockers: Vec<u32> = state
            .conflicting_holders(conn_id, mode)
            .chain(state.conflicting_waiters(conn_id, mode, ahead))
            .collect();
        if self.reaches(&blockers, conn_id) {
            return Acquired::Deadlock(waiter);
        }
        let state = self
            .locks
            .get_mut(&key)
            .expect("a refused key is held or awaited");
        state.queue.push_back(Waiter {
            conn_id,
            mode,
            scope,
            waiter,
        });
        self.waiting.insert(conn_id, key);
        Acquired::Waiting
    }

    /// `pg_try_advisory_lock` and friends: takes `key` if that needs no wait.
    pub fn try_lock(
        &mut self,
        conn_id: u32,
        key: LockKey,
        mode: LockMode,
        scope: LockScope,
    ) -> bool {
        let state = self.locks.entry(key).or_insert_with(LockState::new);
        let holds_already = state.holders.contains_key(&conn_id);
        let free = state.conflicting_holders(conn_id, mode).next().is_none()
            && (holds_already
                || state
                    .conflicting_waiters(conn_id, mode, state.queue.len())
                    .next()
                    .is_none());
        // A refused request met a holder or a waiter: the key's entry has to stay.
        if free {
            state.grant(conn_id, mode, scope);
        }
        free
    }

    /// `pg_advisory_unlock` / `pg_advisory_unlock_shared`: releases one session-level hold
    /// of `key` in `mode`. Returns whether there was one (PostgreSQL warns when not), and
    /// the waiters the release granted.
    pub fn unlock(&mut self, conn_id: u32, key: LockKey, mode: LockMode) -> (bool, Vec<W>) {
        let Some(state) = self.locks.get_mut(&key) else {
            return (false, Vec::new());
        };
        let Some(holding) = state.holders.get_mut(&conn_id) else {
            return (false, Vec::new());
        };
        let count = holding.count(mode, LockScope::Session);
        if *count == 0 {
            return (false, Vec::new());
        }
        *count -= 1;
        if holding.is_empty() {
            state.holders.remove(&conn_id);
        }
        (true, self.grant_waiters(key))
    }

    /// Releases every lock `conn_id` holds in `scope` (session: `pg_advisory_unlock_all`,
    /// DISCARD ALL; transaction: the block ended). Returns the waiters this granted.
    pub fn release_all(&mut self, conn_id: u32, scope: LockScope) -> Vec<W> {
        let keys: Vec<LockKey> = self
            .locks
            .iter()
            .filter(|(_, s)| s.holders.contains_key(&conn_id))
            .map(|(k, _)| *k)
            .collect();
        let mut granted = Vec::new();
        for key in keys {
            let Some(state) = self.locks.get_mut(&key) else {
                continue;
            };
            if let Some(holding) = state.holders.get_mut(&conn_id) {
                for mode in [LockMode::Exclusive, LockMode::Shared] {
                    *holding.count(mode, scope) = 0;
                }
                if holding.is_empty() {
                    state.holders.remove(&conn_id);
                }
            }
            granted.extend(self.grant_waiters(key));
        }
        granted
    }

    /// Withdraws the request `conn_id` waits with (its statement was canceled). Returns
    /// its waiter, and the waiters queued behind it that this granted.
    pub fn cancel_wait(&mut self, conn_id: u32) -> (Option<W>, Vec<W>) {
        let Some(key) = self.waiting.remove(&conn_id) else {
            return (None, Vec::new());
        };
        let Some(state) = self.locks.get_mut(&key) else {
            return (None, Vec::new());
        };
        let Some(at) = state.queue.iter().position(|w| w.conn_id == conn_id) else {
            return (None, Vec::new());
        };
        let withdrawn = state.queue.remove(at).map(|w| w.waiter);
        (withdrawn, self.grant_waiters(key))
    }

    /// The connection ended: its request is withdrawn and every lock it held released.
    /// Returns its withdrawn waiter and the waiters this granted.
    pub fn disconnect(&mut self, conn_id: u32) -> (Option<W>, Vec<W>) {
        let (withdrawn, mut granted) = self.cancel_wait(conn_id);
        granted.extend(self.release_all(conn_id, LockScope::Session));
        granted.extend(self.release_all(conn_id, LockScope::Transaction));
        (withdrawn, granted)
    }

    /// Every held and awaited lock, as `pg_locks` shows them.
    pub fn pg_locks_rows(&self) -> Vec<AdvisoryLockRow> {
        let row = |key: LockKey, conn_id: u32, mode: LockMode, granted: bool| {
            let (classid, objid, objsubid) = match key {
                LockKey::Int8(k) => ((k as u64 >> 32) as u32, k as u64 as u32, 1),
                LockKey::Pair(a, b) => (a as u32, b as u32, 2),
            };
            AdvisoryLockRow {
                classid,
                objid,
                objsubid,
                pid: conn_id,
                mode: match mode {
                    LockMode::Exclusive => "ExclusiveLock",
                    LockMode::Shared => "ShareLock",
                },
                granted,
            }
        };
        let mut rows = Vec::new();
        for (key, state) in &self.locks {
            for (conn_id, holding) in &state.holders {
                for mode in [LockMode::Exclusive, LockMode::Shared] {
                    if holding.holds(mode) {
                        rows.push(row(*key, *conn_id, mode, true));
                    }
                }
            }
            rows.extend(
                state
                    .queue
                    .iter()
                    .map(|w| row(*key, w.conn_id, w.mode, false)),
            );
        }
        rows
    }

    /// Grants, in queue order, every waiter for `key` that conflicts with no holder and no
    /// waiter still ahead of it; drops the key's entry once nobody holds or wants it.
    fn grant_waiters(&mut self, key: LockKey) -> Vec<W> {
        let mut granted = Vec::new();
        let Some(state) = self.locks.get_mut(&key) else {
            return granted;
        };
        let mut at = 0;
        while at < state.queue.len() {
            let w = &state.queue[at];
            let free = state
                .conflicting_holders(w.conn_id, w.mode)
                .next()
                .is_none()
                && state
                    .conflicting_waiters(w.conn_id, w.mode, at)
                    .next()
                    .is_none();
            if free {
                let Some(w) = state.queue.remove(at) else {
                    break;
                };
                state.grant(w.conn_id, w.mode, w.scope);
                self.waiting.remove(&w.conn_id);
                granted.push(w.waiter);
            } else {
                at += 1;
            }
        }
        if state.holders.is_empty() && state.queue.is_empty() {
            self.locks.remove(&key);
        }
        granted
    }

    /// Whether `target` is among `from` or the connections they wait for, transitively.
    fn reaches(&self, from: &[u32], target: u32) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<u32> = from.to_vec();
        while let Some(conn) = stack.pop() {
            if conn == target {
                return true;
            }
            if !seen.insert(conn) {
                continue;
            }
            let Some(key) = self.waiting.get(&conn) else {
                continue;
            };
            let Some(state) = self.locks.get(key) else {
                continue;
            };
            let Some(at) = state.queue.iter().position(|w| w.conn_id == conn) else {
                continue;
            };
            let mode = state.queue[at].mode;
            stack.extend(state.conflicting_holders(conn, mode));
            stack.extend(state.conflicting_waiters(conn, mode, at));
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: LockKey = LockKey::Int8(42);
    const EX: LockMode = LockMode::Exclusive;
    const SH: LockMode = LockMode::Shared;
    const SESSION: LockScope = LockScope::Session;
    const TXN: LockScope = LockScope::Transaction;

    fn granted<W>(a: Acquired<W>) -> bool {
        matches!(a, Acquired::Granted(_))
    }

    #[test]
    fn exclusive_lock_makes_another_connection_wait_until_unlocked() {
        let mut locks = AdvisoryLocks::default();
        assert!(granted(locks.lock(1, K, EX, SESSION, "a")));
        assert!(matches!(
            locks.lock(2, K, EX, SESSION, "b"),
            Acquired::Waiting
        ));
        assert!(!locks.try_lock(3, K, SH, SESSION));
        assert_eq!(locks.unlock(1, K, EX), (true, vec!["b"]));
        assert_eq!(locks.unlock(1, K, EX), (false, vec![]));
        let rows = locks.pg_locks_rows();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].pid, rows[0].objid, rows[0].granted), (2, 42, true));
        assert_eq!(rows[0].mode, "ExclusiveLock");
    }

    #[test]
    fn locks_are_reentrant_and_each_unlock_releases_one() {
        let mut locks: AdvisoryLocks<()> = AdvisoryLocks::default();
        assert!(locks.try_lock(1, K, EX, SESSION));
        assert!(locks.try_lock(1, K, EX, SESSION));
        assert!(locks.try_lock(1, K, SH, SESSION));
        assert!(locks.unlock(1, K, EX).0);
        assert!(!locks.try_lock(2, K, SH, SESSION));
        assert!(locks.unlock(1, K, EX).0);
        assert!(!locks.try_lock(2, K, EX, SESSION));
        assert!(locks.try_lock(2, K, SH, SESSION), "shared with shared");
        assert!(locks.unlock(1, K, SH).0);
        assert!(locks.try_lock(3, K, SH, SESSION));
    }

    #[test]
    fn the_two_key_spaces_are_separate() {
        let mut locks: AdvisoryLocks<()> = AdvisoryLocks::default();
        assert!(locks.try_lock(1, LockKey::Int8(1), EX, SESSION));
        assert!(locks.try_lock(2, LockKey::Pair(0, 1), EX, SESSION));
        assert!(!locks.try_lock(2, LockKey::Int8(1), EX, SESSION));
    }

    #[test]
    fn a_queued_exclusive_request_keeps_later_shared_requests_out() {
        let mut locks = AdvisoryLocks::default();
        assert!(granted(locks.lock(1, K, SH, SESSION, 1)));
        assert!(matches!(
            locks.lock(2, K, EX, SESSION, 2),
            Acquired::Waiting
        ));
        assert!(matches!(
            locks.lock(3, K, SH, SESSION, 3),
            Acquired::Waiting
        ));
        // The holder itself gets in again: waiting behind 2 would deadlock.
        assert!(locks.try_lock(1, K, SH, SESSION));
        assert_eq!(locks.release_all(1, SESSION), vec![2]);
        assert_eq!(locks.unlock(2, K, EX), (true, vec![3]));
    }

    #[test]
    fn releasing_grants_every_compatible_waiter_in_order() {
        let mut locks = AdvisoryLocks::default();
        assert!(granted(locks.lock(1, K, EX, SESSION, 1)));
        for conn in 2..=4 {
            assert!(matches!(
                locks.lock(conn, K, SH, SESSION, conn),
                Acquired::Waiting
            ));
        }
        assert!(matches!(
            locks.lock(5, K, EX, SESSION, 5),
            Acquired::Waiting
        ));
        assert_eq!(locks.unlock(1, K, EX), (true, vec![2, 3, 4]));
        assert_eq!(locks.release_all(2, SESSION), Vec::<u32>::new());
        assert_eq!(locks.release_all(3, SESSION), Vec::<u32>::new());
        assert_eq!(locks.release_all(4, SESSION), vec![5]);
    }

    #[test]
    fn a_wait_that_closes_a_cycle_is_refused_as_a_deadlock() {
        let (a, b) = (LockKey::Int8(1), LockKey::Int8(2));
        let mut locks = AdvisoryLocks::default();
        assert!(granted(locks.lock(1, a, EX, SESSION, "1a")));
        assert!(granted(locks.lock(2, b, EX, SESSION, "2b")));
        assert!(matches!(
            locks.lock(1, b, EX, SESSION, "1b"),
            Acquired::Waiting
        ));
        assert!(matches!(
            locks.lock(2, a, EX, SESSION, "2a"),
            Acquired::Deadlock("2a")
        ));
        // Connection 2 gives up (its transaction aborted): 1 gets b.
        assert_eq!(locks.disconnect(2), (None, vec!["1b"]));
    }

    #[test]
    fn transaction_locks_end_with_the_block_and_session_locks_stay() {
        let mut locks = AdvisoryLocks::default();
        assert!(granted(locks.lock(1, K, EX, TXN, ())));
        assert!(granted(locks.lock(1, LockKey::Int8(7), EX, SESSION, ())));
        assert!(!locks.unlock(1, K, EX).0, "unlock is for session locks");
        assert!(matches!(
            locks.lock(2, K, EX, SESSION, ()),
            Acquired::Waiting
        ));
        assert_eq!(locks.release_all(1, TXN).len(), 1);
        assert!(!locks.try_lock(3, LockKey::Int8(7), SH, SESSION));
    }

    #[test]
    fn canceling_a_wait_withdraws_it_and_lets_those_behind_it_in() {
        let mut locks = AdvisoryLocks::default();
        assert!(granted(locks.lock(1, K, SH, SESSION, 1)));
        assert!(matches!(
            locks.lock(2, K, EX, SESSION, 2),
            Acquired::Waiting
        ));
        assert!(matches!(
            locks.lock(3, K, SH, SESSION, 3),
            Acquired::Waiting
        ));
        assert_eq!(locks.cancel_wait(2), (Some(2), vec![3]));
        assert_eq!(locks.cancel_wait(2), (None, vec![]));
    }

    #[test]
    fn a_disconnect_releases_everything_and_forgets_the_key() {
        let mut locks: AdvisoryLocks<()> = AdvisoryLocks::default();
        assert!(locks.try_lock(1, K, EX, SESSION));
        assert!(locks.try_lock(1, K, SH, TXN));
        locks.disconnect(1);
        assert!(locks.pg_locks_rows().is_empty());
        assert!(locks.locks.is_empty());
    }
}

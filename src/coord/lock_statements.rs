//! Running `SELECT pg_advisory_lock(...)` and its family (`Plan::AdvisoryLock`) against the
//! coordinator's lock table (`advisory_locks.rs`), and releasing locks when a transaction
//! block ends, a statement is canceled, or a connection goes away.
//!
//! A blocking request that must wait keeps its reply in the table: the session waits for
//! the answer, which comes when a release grants the lock, or as an error when the request
//! is canceled (57014) or would deadlock (40P01). A transaction-scoped lock taken outside a
//! transaction block lasts for its statement only, as in PostgreSQL.

use super::advisory_locks::{Acquired, LockScope};
use super::coordinator::Coordinator;
use super::error::{AdapterError, Result};
use super::{ExecuteResponse, Executed, SessionInfo};
use crate::sql::plan::advisory_locks::{AdvisoryFunction, AdvisoryLockCall};
use tokio::sync::oneshot;

type Reply = oneshot::Sender<Result<Executed>>;

/// A lock request waiting in the table: what to answer once it is granted.
pub(super) struct LockWaiter {
    conn_id: u32,
    call: AdvisoryLockCall,
    reply: Reply,
    /// A transaction lock taken outside a block: released as soon as it is granted.
    statement_only: bool,
}

impl Coordinator {
    pub(super) fn sequence_advisory_lock(
        &mut self,
        session: &SessionInfo,
        call: AdvisoryLockCall,
        reply: Reply,
    ) {
        let conn_id = session.conn_id;
        let answer = |reply: Reply, call: &AdvisoryLockCall, held: bool| {
            let _ = reply.send(Ok(rows(call, held)));
        };
        if call.function == AdvisoryFunction::UnlockAll {
            let granted = self.advisory_locks.release_all(conn_id, LockScope::Session);
            self.answer_granted(granted);
            answer(reply, &call, true);
            return;
        }
        // A NULL key: the functions are strict, NULL is the answer.
        let Some(key) = call.key else {
            answer(reply, &call, false);
            return;
        };
        let statement_only = !session.in_transaction_block;
        match call.function {
            AdvisoryFunction::Lock(mode, scope) => {
                let waiter = LockWaiter {
                    conn_id,
                    call,
                    reply,
                    statement_only: statement_only && scope == LockScope::Transaction,
                };
                match self.advisory_locks.lock(conn_id, key, mode, scope, waiter) {
                    Acquired::Granted(waiter) => self.answer_granted(vec![waiter]),
                    Acquired::Waiting => {
                        tracing::debug!(conn_id, ?key, ?mode, "waiting for an advisory lock")
                    }
                    Acquired::Deadlock(waiter) => {
                        let _ = waiter.reply.send(Err(AdapterError::Deadlock {
                            detail: format!(
                                "Process {conn_id} waits for an advisory lock on {} held, or \
                                 awaited, by a process that waits for process {conn_id}.",
                                key_text(key)
                            ),
                        }));
                    }
                }
            }
            AdvisoryFunction::TryLock(mode, scope) => {
                let held = self.advisory_locks.try_lock(conn_id, key, mode, scope);
                if held && statement_only && scope == LockScope::Transaction {
                    let granted = self
                        .advisory_locks
                        .release_all(conn_id, LockScope::Transaction);
                    self.answer_granted(granted);
                }
                answer(reply, &call, held);
            }
            AdvisoryFunction::Unlock(mode) => {
                let (released, granted) = self.advisory_locks.unlock(conn_id, key, mode);
                if !released {
                    // PostgreSQL warns: "you don't own a lock of type ExclusiveLock".
                    tracing::debug!(conn_id, ?key, ?mode, "unlock of an advisory lock not held");
                }
                self.answer_granted(granted);
                answer(reply, &call, released);
            }
            AdvisoryFunction::UnlockAll => unreachable!("answered above"),
        }
    }

    /// Releases the locks `conn_id` holds in `scope`: its transaction block ended, or
    /// DISCARD ALL.
    pub(super) fn release_advisory_locks(&mut self, conn_id: u32, scope: LockScope) {
        let granted = self.advisory_locks.release_all(conn_id, scope);
        self.answer_granted(granted);
    }

    /// The statement of `conn_id` was canceled: a lock request it waits with fails.
    pub(super) fn cancel_advisory_wait(&mut self, conn_id: u32) {
        let (withdrawn, granted) = self.advisory_locks.cancel_wait(conn_id);
        if let Some(waiter) = withdrawn {
            let _ = waiter.reply.send(Err(AdapterError::Canceled));
        }
        self.answer_granted(granted);
    }

    /// `conn_id` disconnected: its request is withdrawn and its locks released.
    pub(super) fn disconnect_advisory_locks(&mut self, conn_id: u32) {
        let (withdrawn, granted) = self.advisory_locks.disconnect(conn_id);
        drop(withdrawn);
        self.answer_granted(granted);
    }

    /// Answers granted requests; a statement-only lock is released at once, which may grant
    /// more.
    fn answer_granted(&mut self, mut granted: Vec<LockWaiter>) {
        while let Some(waiter) = granted.pop() {
            if waiter.statement_only {
                granted.extend(
                    self.advisory_locks
                        .release_all(waiter.conn_id, LockScope::Transaction),
                );
            }
            let _ = waiter.reply.send(Ok(rows(&waiter.call, true)));
        }
    }
}

fn rows(call: &AdvisoryLockCall, held: bool) -> Executed {
    Executed::Response(ExecuteResponse::Rows {
        desc: call.desc(),
        rows: vec![call.row(held)],
        tag: "SELECT 1".into(),
    })
}

fn key_text(key: super::advisory_locks::LockKey) -> String {
    match key {
        super::advisory_locks::LockKey::Int8(k) => format!("key {k}"),
        super::advisory_locks::LockKey::Pair(a, b) => format!("keys ({a}, {b})"),
    }
}

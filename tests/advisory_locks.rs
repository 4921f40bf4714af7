//! Advisory locks between real sessions over pgwire: `pg_advisory_lock` waits while another
//! session holds the key and returns once it is released; waits end on cancel, on the
//! holder's disconnect, or at once on a deadlock; transaction locks end with the block;
//! `pg_locks` shows holders and waiters. (The lock table's rules are unit-tested in
//! `src/coord/advisory_locks.rs`; these check what clients see.)

mod support;

use std::time::Duration;
use support::connect;
use support::server::TestServer;
use tokio_postgres::{Client, NoTls};

/// Long enough for a lock request that should wait to have been granted if it were
/// wrongly free; the tests assert it is still waiting afterwards.
const STILL_WAITING: Duration = Duration::from_millis(300);

/// Bound on anything that should finish: a hang fails the test instead of blocking CI.
const BOUND: Duration = Duration::from_secs(20);

fn sqlstate(err: &tokio_postgres::Error) -> String {
    err.as_db_error()
        .map(|e| e.code().code().to_string())
        .unwrap_or_else(|| format!("no SQLSTATE: {err}"))
}

async fn try_lock(client: &Client, key: i64) -> bool {
    client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .await
        .unwrap()
        .get(0)
}

/// `pg_locks` rows `(pid, granted)` for the `bigint` key `key` (small: its high half 0).
async fn lock_rows(client: &Client, key: u32) -> Vec<(i32, bool)> {
    let rows = client
        .query(
            "SELECT pid, granted, objid FROM pg_locks WHERE locktype = 'advisory' \
             AND objsubid = 1 AND classid = 0 ORDER BY granted DESC, pid",
            &[],
        )
        .await
        .unwrap();
    rows.iter()
        .filter(|r| r.get::<_, u32>(2) == key)
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

async fn backend_pid(client: &Client) -> i32 {
    client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_held_lock_makes_another_session_wait_until_it_is_unlocked() {
    let server = TestServer::start().expect("server starts");
    let holder = connect(&server).await;
    let waiter = std::sync::Arc::new(connect(&server).await);
    let (holder_pid, waiter_pid) = (backend_pid(&holder).await, backend_pid(&waiter).await);
    // A parameter typed bigint, as sqlx and other drivers send it.
    holder
        .execute("SELECT pg_advisory_lock($1)", &[&7_i64])
        .await
        .unwrap();
    let w = waiter.clone();
    let mut wait = tokio::spawn(async move { w.simple_query("SELECT pg_advisory_lock(7)").await });
    assert!(
        tokio::time::timeout(STILL_WAITING, &mut wait)
            .await
            .is_err(),
        "the second session got a lock the first holds"
    );
    assert_eq!(
        lock_rows(&holder, 7).await,
        vec![(holder_pid, true), (waiter_pid, false)]
    );
    assert!(!try_lock(&connect(&server).await, 7).await);
    let unlocked: bool = holder
        .query_one("SELECT pg_advisory_unlock(7)", &[])
        .await
        .unwrap()
        .get(0);
    assert!(unlocked);
    tokio::time::timeout(BOUND, wait)
        .await
        .expect("the waiter gets the lock once it is released")
        .unwrap()
        .unwrap();
    assert_eq!(lock_rows(&holder, 7).await, vec![(waiter_pid, true)]);
    // The holder no longer holds it: unlocking again says so.
    let again: bool = holder
        .query_one("SELECT pg_advisory_unlock(7)", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!again);
}

#[tokio::test]
async fn shared_locks_coexist_and_keep_an_exclusive_request_waiting() {
    let server = TestServer::start().expect("server starts");
    let a = connect(&server).await;
    let b = connect(&server).await;
    a.batch_execute("SELECT pg_advisory_lock_shared(1, 2)")
        .await
        .unwrap();
    let shared: bool = b
        .query_one("SELECT pg_try_advisory_lock_shared(1, 2)", &[])
        .await
        .unwrap()
        .get(0);
    assert!(shared, "shared with shared");
    let exclusive: bool = b
        .query_one("SELECT pg_try_advisory_lock(1, 2)", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!exclusive, "exclusive while another session shares it");
    // The pair (1, 2) and the bigint 1 are different locks.
    assert!(try_lock(&b, 1).await);
}

#[tokio::test]
async fn canceling_a_waiting_lock_fails_it_and_leaves_the_session_usable() {
    let server = TestServer::start().expect("server starts");
    let holder = connect(&server).await;
    let waiter = connect(&server).await;
    holder
        .batch_execute("SELECT pg_advisory_lock(11)")
        .await
        .unwrap();
    let token = waiter.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(STILL_WAITING).await;
        token.cancel_query(NoTls).await
    });
    let err = tokio::time::timeout(BOUND, waiter.simple_query("SELECT pg_advisory_lock(11)"))
        .await
        .expect("the cancel ends the wait")
        .expect_err("a canceled lock wait fails");
    canceller.await.unwrap().expect("cancel request sent");
    assert_eq!(sqlstate(&err), "57014");
    assert!(!try_lock(&waiter, 11).await, "the holder still holds it");
    holder
        .batch_execute("SELECT pg_advisory_unlock(11)")
        .await
        .unwrap();
    assert!(try_lock(&waiter, 11).await);
}

#[tokio::test]
async fn a_disconnect_releases_the_locks_of_the_session() {
    let server = TestServer::start().expect("server starts");
    let waiter = std::sync::Arc::new(connect(&server).await);
    {
        let holder = connect(&server).await;
        holder
            .batch_execute("SELECT pg_advisory_lock(21); SELECT pg_advisory_lock_shared(22)")
            .await
            .unwrap();
        assert!(!try_lock(&waiter, 21).await);
        // The holder's connection closes here.
    }
    let w = waiter.clone();
    tokio::time::timeout(
        BOUND,
        w.batch_execute("SELECT pg_advisory_lock(21); SELECT pg_advisory_lock(22)"),
    )
    .await
    .expect("the locks of a closed session are released")
    .unwrap();
}

#[tokio::test]
async fn a_wait_that_would_deadlock_fails_with_40p01_and_the_other_proceeds() {
    let server = TestServer::start().expect("server starts");
    let a = std::sync::Arc::new(connect(&server).await);
    let b = connect(&server).await;
    a.batch_execute("SELECT pg_advisory_lock(31)")
        .await
        .unwrap();
    b.batch_execute("SELECT pg_advisory_lock(32)")
        .await
        .unwrap();
    let a2 = a.clone();
    let mut a_waits =
        tokio::spawn(async move { a2.simple_query("SELECT pg_advisory_lock(32)").await });
    assert!(
        tokio::time::timeout(STILL_WAITING, &mut a_waits)
            .await
            .is_err()
    );
    let err = tokio::time::timeout(BOUND, b.simple_query("SELECT pg_advisory_lock(31)"))
        .await
        .expect("a deadlock is refused at once")
        .expect_err("closing the cycle fails");
    assert_eq!(sqlstate(&err), "40P01");
    b.batch_execute("SELECT pg_advisory_unlock(32)")
        .await
        .unwrap();
    tokio::time::timeout(BOUND, a_waits)
        .await
        .expect("the other session gets its lock")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn transaction_locks_last_until_the_block_ends() {
    let server = TestServer::start().expect("server starts");
    let a = connect(&server).await;
    let b = connect(&server).await;
    a.batch_execute("BEGIN; SELECT pg_advisory_xact_lock(41)")
        .await
        .unwrap();
    assert!(!try_lock(&b, 41).await);
    // pg_advisory_unlock releases session locks only.
    let unlocked: bool = a
        .query_one("SELECT pg_advisory_unlock(41)", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!unlocked);
    a.batch_execute("COMMIT").await.unwrap();
    assert!(try_lock(&b, 41).await);
    // Outside a block, the statement is the transaction: the lock is gone when it ends.
    b.batch_execute("SELECT pg_advisory_unlock_all(); SELECT pg_advisory_xact_lock(42)")
        .await
        .unwrap();
    assert!(try_lock(&a, 42).await);
    // A rolled-back block releases them as well.
    b.batch_execute("BEGIN; SELECT pg_try_advisory_xact_lock(43); ROLLBACK")
        .await
        .unwrap();
    assert!(try_lock(&a, 43).await);
}

#[tokio::test]
async fn lock_functions_reject_bad_arguments_and_use_inside_queries() {
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    let cases = [
        ("SELECT pg_advisory_lock('x')", "22P02"),
        ("SELECT pg_advisory_lock(1.5)", "42883"),
        ("SELECT pg_advisory_lock(1, 2, 3)", "42883"),
        ("SELECT pg_advisory_unlock_all(1)", "42883"),
        ("SELECT pg_advisory_lock()", "42883"),
        ("SELECT pg_advisory_lock(a) FROM (VALUES (1)) t(a)", "0A000"),
        ("SELECT 1 WHERE pg_try_advisory_lock(1)", "0A000"),
    ];
    for (sql, code) in cases {
        let err = client.simple_query(sql).await.expect_err(sql);
        assert_eq!(sqlstate(&err), code, "{sql}: {err}");
    }
    // A NULL key: NULL result, nothing locked.
    let row = client
        .query_one("SELECT pg_try_advisory_lock(NULL::bigint)", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, Option<bool>>(0), None);
    let rows = client.query("SELECT * FROM pg_locks", &[]).await.unwrap();
    assert!(rows.is_empty());
}

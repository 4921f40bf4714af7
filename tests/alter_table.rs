//! ALTER TABLE ... ADD COLUMN under load and across failures: sessions keep writing while
//! columns are added, the server is killed at random moments, a session vanishes inside a
//! block that added a column. Every acknowledged row stays exactly once, every row holds
//! each added column's DEFAULT, and views keep equal to their queries.

mod support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::Lcg;
use support::server::TestServer;
use support::{connect, count, text_rows};

const WRITERS: i32 = 3;

type Acknowledged = Arc<Mutex<BTreeSet<(i32, i32)>>>;

/// Writers inserting `(writer, seq)` rows, naming their columns so that the statement stays
/// valid whatever columns are added. Each stops at its first error (the server went away) or
/// after `rows` rows.
fn start_writers(
    clients: Vec<tokio_postgres::Client>,
    first_seq: i32,
    rows: i32,
    acknowledged: &Acknowledged,
) -> Vec<tokio::task::JoinHandle<()>> {
    clients
        .into_iter()
        .zip(0..)
        .map(|(client, writer)| {
            let acknowledged = acknowledged.clone();
            tokio::spawn(async move {
                for seq in first_seq..first_seq + rows {
                    let insert = "INSERT INTO events (writer, seq) VALUES ($1, $2)";
                    if client.execute(insert, &[&writer, &seq]).await.is_err() {
                        return;
                    }
                    acknowledged.lock().expect("lock").insert((writer, seq));
                }
            })
        })
        .collect()
}

/// Checks what the table holds: every acknowledged row exactly once, each added column
/// `cN` equal to its DEFAULT `N` in every row, and the view equal to its query. Returns the
/// rows present.
async fn check_table(
    client: &tokio_postgres::Client,
    acknowledged: &BTreeSet<(i32, i32)>,
    context: &str,
) -> BTreeSet<(i32, i32)> {
    let rows = client
        .query(
            "SELECT writer, seq, count(*) FROM events GROUP BY writer, seq",
            &[],
        )
        .await
        .unwrap();
    let mut present = BTreeSet::new();
    for row in rows {
        let key: (i32, i32) = (row.get(0), row.get(1));
        let n: i64 = row.get(2);
        assert_eq!(n, 1, "{context}: row {key:?} is there {n} times");
        present.insert(key);
    }
    let lost: Vec<_> = acknowledged.difference(&present).take(5).collect();
    assert!(
        lost.is_empty(),
        "{context}: acknowledged rows lost: {lost:?}"
    );
    let added = text_rows(
        client,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'events' AND column_name LIKE 'c%'",
    )
    .await;
    for column in added {
        let name = &column[0];
        let default: i32 = name[1..].parse().expect("columns are cN");
        let wrong = count(
            client,
            &format!("SELECT count(*) FROM events WHERE {name} IS DISTINCT FROM {default}"),
        )
        .await;
        assert_eq!(wrong, 0, "{context}: rows whose {name} is not {default}");
    }
    let view = count(client, "SELECT coalesce(sum(n), 0)::bigint FROM per_writer").await;
    assert_eq!(
        view,
        present.len() as i64,
        "{context}: the view disagrees with the table"
    );
    present
}

async fn create_events(server: &TestServer) {
    connect(server)
        .await
        .batch_execute(
            "CREATE TABLE events (writer int NOT NULL, seq int NOT NULL);
             CREATE MATERIALIZED VIEW per_writer AS SELECT writer, count(*) AS n FROM events GROUP BY writer;
             CREATE INDEX events_by_seq ON events (seq)",
        )
        .await
        .expect("schema");
}

#[tokio::test]
async fn add_column_while_sessions_write_keeps_every_row_with_its_default() {
    let server = TestServer::start().expect("server starts");
    create_events(&server).await;
    let acknowledged: Acknowledged = Arc::default();
    let mut clients = Vec::new();
    for _ in 0..WRITERS {
        clients.push(connect(&server).await);
    }
    let writers = start_writers(clients, 0, 1_500, &acknowledged);
    let admin = connect(&server).await;
    for n in 1..=4 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        admin
            .batch_execute(&format!(
                "ALTER TABLE events ADD COLUMN c{n} int NOT NULL DEFAULT {n}"
            ))
            .await
            .expect("ALTER TABLE");
        // A reader planned at the new width sees its column at once.
        let wrong = count(
            &admin,
            &format!("SELECT count(*) FROM events WHERE c{n} IS DISTINCT FROM {n}"),
        )
        .await;
        assert_eq!(wrong, 0, "right after ADD COLUMN c{n}");
    }
    for writer in writers {
        tokio::time::timeout(Duration::from_secs(120), writer)
            .await
            .expect("writers finish")
            .expect("writer task");
    }
    let acked = acknowledged.lock().expect("lock").clone();
    assert_eq!(
        acked.len(),
        (WRITERS * 1_500) as usize,
        "every insert succeeded"
    );
    let present = check_table(&admin, &acked, "after the writers").await;
    assert_eq!(present, acked, "nothing unacknowledged either");
    // A point lookup through the index built before the columns existed has them all.
    let rows = text_rows(&admin, "SELECT * FROM events WHERE seq = 7 ORDER BY writer").await;
    assert_eq!(rows.len(), WRITERS as usize);
    assert!(
        rows.iter().all(|r| r[2..] == ["1", "2", "3", "4"]),
        "{rows:?}"
    );
    // And after a restart.
    let dir = server.kill();
    let server = TestServer::start_with(1, dir).expect("server restarts");
    let client = connect(&server).await;
    check_table(&client, &acked, "after the restart").await;
}

#[tokio::test]
async fn add_column_survives_sigkill_at_random_moments() {
    let (mut rng, seed) = Lcg::from_clock();
    let data = support::fresh_data_dir("alter-crash");
    let mut server = TestServer::start_with(2, data).expect("server starts");
    create_events(&server).await;
    let acknowledged: Acknowledged = Arc::default();
    let mut next_column = 1;
    for round in 0..3 {
        let mut clients = Vec::new();
        for _ in 0..WRITERS {
            clients.push(connect(&server).await);
        }
        let writers = start_writers(clients, round * 100_000, 100_000, &acknowledged);
        let admin = connect(&server).await;
        // ALTERs one after another until the kill, which so often lands inside one.
        let first_column = next_column;
        next_column += 40;
        let alters = tokio::spawn(async move {
            for n in first_column..first_column + 40 {
                let alter = format!("ALTER TABLE events ADD COLUMN c{n} int DEFAULT {n}");
                if admin.batch_execute(&alter).await.is_err() {
                    return; // the server was killed
                }
            }
        });
        tokio::time::sleep(Duration::from_millis(100 + rng.next(400))).await;
        let dir = server.kill();
        for task in writers.into_iter().chain([alters]) {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        server = TestServer::start_with(2, dir).expect("server restarts");
        let client = connect(&server).await;
        let acked = acknowledged.lock().expect("lock").clone();
        let context = format!("round {round} (seed {seed})");
        let present = check_table(&client, &acked, &context).await;
        let columns = count(
            &client,
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'events'",
        )
        .await;
        println!("{context}: {} rows, {columns} columns", present.len());
        // Rows written but not acknowledged before the kill may be there: count them in.
        *acknowledged.lock().expect("lock") = present;
    }
}

#[tokio::test]
async fn a_session_that_vanishes_in_a_block_takes_its_added_column_with_it() {
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute("CREATE TABLE accounts (id int); INSERT INTO accounts VALUES (1), (2)")
        .await
        .unwrap();
    {
        let doomed = connect(&server).await;
        doomed
            .batch_execute("BEGIN; ALTER TABLE accounts ADD COLUMN balance int DEFAULT 0")
            .await
            .unwrap();
        // Another session sees the column while the block is open (DDL is not isolated).
        let columns = count(
            &client,
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'accounts'",
        )
        .await;
        assert_eq!(columns, 2);
    }
    // The connection is gone: its block rolls back.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let columns = count(
            &client,
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'accounts'",
        )
        .await;
        if columns == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the column outlived its session"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        text_rows(&client, "SELECT * FROM accounts ORDER BY id").await,
        vec![vec!["1".to_string()], vec!["2".to_string()]]
    );
}

//! Multi-worker equivalence (one worker and three workers give the same answers, after the
//! same writes) and restart (after SIGKILL, every acknowledged row and every view is back).

mod support;

use support::connect;
use support::server::TestServer;
use tokio_postgres::{Client, SimpleQueryMessage};

/// The rows of a query as text, in order.
async fn rows(client: &Client, sql: &str) -> Vec<Vec<Option<String>>> {
    client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
            }
            _ => None,
        })
        .collect()
}

const SETUP: &str = "
    CREATE TABLE orders (id int, customer int, amount int);
    CREATE TABLE customers (id int, name text, region text);
    CREATE MATERIALIZED VIEW by_region AS
        SELECT c.region, count(*) AS n, sum(o.amount) AS total, min(o.amount) AS smallest
        FROM orders o JOIN customers c ON o.customer = c.id GROUP BY c.region;
    CREATE MATERIALIZED VIEW top_orders AS
        SELECT id, customer, amount FROM (
            SELECT *, row_number() OVER (PARTITION BY customer ORDER BY amount DESC, id) AS rn FROM orders
        ) t WHERE rn <= 2;
    CREATE MATERIALIZED VIEW lonely AS
        SELECT name FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer = c.id);
    CREATE VIEW big AS SELECT * FROM orders WHERE amount > 50;
    CREATE INDEX big_customer ON big (customer);
";

const CHECKS: &[&str] = &[
    "SELECT * FROM by_region ORDER BY region",
    "SELECT * FROM top_orders ORDER BY customer, amount DESC, id",
    "SELECT * FROM lonely ORDER BY name",
    "SELECT customer, count(*) FROM big GROUP BY customer ORDER BY customer",
    "SELECT o.id, c.name FROM orders o LEFT JOIN customers c ON o.customer = c.id ORDER BY o.id",
];

/// Deterministic writes: inserts, then updates and deletes that move rows between groups.
async fn write_workload(client: &Client) {
    let mut values = Vec::new();
    for i in 0..20 {
        values.push(format!("({i}, 'c{i}', 'r{}')", i % 3));
    }
    values.push("(100, 'loner', 'r0')".to_string());
    client
        .batch_execute(&format!(
            "INSERT INTO customers VALUES {}",
            values.join(",")
        ))
        .await
        .unwrap();
    for batch in 0..10 {
        let values: Vec<String> = (0..50)
            .map(|j| {
                let id = batch * 50 + j;
                format!("({id}, {}, {})", (id * 7) % 23, (id * 37) % 101)
            })
            .collect();
        client
            .batch_execute(&format!("INSERT INTO orders VALUES {}", values.join(",")))
            .await
            .unwrap();
    }
    client
        .batch_execute("UPDATE orders SET amount = amount + 1 WHERE id % 5 = 0")
        .await
        .unwrap();
    client.batch_execute("DELETE FROM orders WHERE customer IN (SELECT id FROM customers WHERE region = 'r1') AND amount < 30").await.unwrap();
    client
        .batch_execute("UPDATE customers SET region = 'r9' WHERE id = 3")
        .await
        .unwrap();
}

async fn answers(server: &TestServer) -> Vec<Vec<Vec<Option<String>>>> {
    let client = connect(server).await;
    let mut out = Vec::new();
    for sql in CHECKS {
        out.push(rows(&client, sql).await);
    }
    out
}

#[tokio::test]
async fn one_worker_and_three_workers_give_the_same_answers() {
    let dir = |name: &str| {
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("freshet-workers-{name}-{}", std::process::id()))
    };
    let mut results = Vec::new();
    for workers in [1, 3] {
        let data = dir(&workers.to_string());
        let _ = std::fs::remove_dir_all(&data);
        let server = TestServer::start_with(workers, data).expect("server starts");
        let client = connect(&server).await;
        client.batch_execute(SETUP).await.unwrap();
        write_workload(&client).await;
        results.push(answers(&server).await);
    }
    assert!(
        results[0].iter().all(|r| !r.is_empty()),
        "every check returns rows"
    );
    assert_eq!(results[0], results[1]);
}

#[tokio::test]
async fn acknowledged_writes_and_views_survive_kill_and_restart() {
    let data = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("freshet-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let server = TestServer::start_with(2, data).expect("server starts");
    let client = connect(&server).await;
    client.batch_execute(SETUP).await.unwrap();
    write_workload(&client).await;
    let before = answers(&server).await;
    let data = server.kill();
    let restarted = TestServer::start_with(2, data).expect("server restarts");
    let after = answers(&restarted).await;
    assert_eq!(before, after);
    // The restarted server keeps maintaining the views.
    let client = connect(&restarted).await;
    client
        .batch_execute("INSERT INTO orders VALUES (10000, 0, 99)")
        .await
        .unwrap();
    let n = rows(&client, "SELECT count(*) FROM orders WHERE id = 10000").await;
    assert_eq!(n, vec![vec![Some("1".to_string())]]);
    drop(restarted);
    let _ = std::fs::remove_dir_all(
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("freshet-restart-{}", std::process::id())),
    );
}

/// Rows enough that rebuilding the views after a restart takes a noticeable time.
const REHYDRATION_ROWS: i64 = 300_000;

#[tokio::test]
async fn reads_right_after_a_restart_wait_for_the_views_to_be_rebuilt() {
    use futures::SinkExt;
    let data = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("freshet-rehydrate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let server = TestServer::start_with(2, data).expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute(
            "CREATE TABLE events (id bigint, kind text);
             CREATE MATERIALIZED VIEW per_kind AS SELECT kind, count(*) AS n FROM events GROUP BY kind;
             CREATE INDEX events_kind ON events (kind);",
        )
        .await
        .unwrap();
    let mut text = String::new();
    for i in 0..REHYDRATION_ROWS {
        text.push_str(&format!("{i}\tkind{}\n", i % 7));
    }
    let sink = client
        .copy_in("COPY events FROM STDIN")
        .await
        .expect("copy starts");
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from(text))
        .await
        .expect("copy data");
    sink.finish().await.expect("copy commits");
    drop(client);
    let data = server.kill();

    let restarted = TestServer::start_with(2, data.clone()).expect("server restarts");
    let client = connect(&restarted).await;
    // The first queries, issued as soon as the server accepts connections.
    let total = rows(&client, "SELECT sum(n) FROM per_kind").await;
    let indexed = rows(&client, "SELECT count(*) FROM events WHERE kind = 'kind3'").await;
    let scanned = rows(&client, "SELECT count(*) FROM events").await;
    assert_eq!(total, vec![vec![Some(REHYDRATION_ROWS.to_string())]]);
    let kind3 = (0..REHYDRATION_ROWS).filter(|i| i % 7 == 3).count();
    assert_eq!(indexed, vec![vec![Some(kind3.to_string())]]);
    assert_eq!(scanned, vec![vec![Some(REHYDRATION_ROWS.to_string())]]);
    drop(client);
    drop(restarted);
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn primary_keys_and_unique_indexes_are_enforced_against_rows_written_before_a_restart() {
    let data = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("freshet-restart-keys-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let server = TestServer::start_with(2, data).expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute(
            "CREATE TABLE users (id integer PRIMARY KEY, email text UNIQUE, nick text);
             INSERT INTO users VALUES (1, 'a@x', 'ann'), (2, 'b@x', 'bob');
             CREATE UNIQUE INDEX users_nick ON users (nick);
             DELETE FROM users WHERE id = 2;",
        )
        .await
        .unwrap();
    let data = server.kill();
    let restarted = TestServer::start_with(2, data.clone()).expect("server restarts");
    let client = connect(&restarted).await;
    let duplicate = client
        .batch_execute("INSERT INTO users VALUES (1, 'c@x', 'cy')")
        .await
        .expect_err("a key written before the restart is still taken");
    assert_eq!(
        duplicate.code(),
        Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
    );
    let duplicate = client
        .batch_execute("INSERT INTO users VALUES (3, 'c@x', 'ann')")
        .await
        .expect_err("the unique index still holds after the restart");
    let db = duplicate.as_db_error().expect("a server error");
    assert_eq!(
        db.message(),
        "duplicate key value violates unique constraint \"users_nick\""
    );
    // The keys deleted before the restart are free.
    client
        .batch_execute("INSERT INTO users VALUES (2, 'b@x', 'bob')")
        .await
        .expect("a deleted key can be used again");
    let n = rows(&client, "SELECT count(*) FROM users").await;
    assert_eq!(n, vec![vec![Some("2".to_string())]]);
    drop(restarted);
    let _ = std::fs::remove_dir_all(data);
}

#[tokio::test]
async fn comments_survive_kill_and_restart_and_go_with_their_objects() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("freshet-comments-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = TestServer::start_with(1, dir.clone()).expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute(
            "CREATE TABLE kept (a int, b text);
             CREATE TABLE dropped (a int);
             COMMENT ON TABLE kept IS 'stays';
             COMMENT ON COLUMN kept.b IS 'column b';
             COMMENT ON TABLE dropped IS 'goes';
             COMMENT ON COLUMN dropped.a IS 'goes too';
             DROP TABLE dropped;",
        )
        .await
        .unwrap();
    let comments = "SELECT c.relname, d.objsubid::text, d.description \
                    FROM pg_description d JOIN pg_class c ON c.oid = d.objoid \
                    ORDER BY 1, 2";
    let before = rows(&client, comments).await;
    assert_eq!(
        before,
        vec![
            vec![Some("kept".into()), Some("0".into()), Some("stays".into())],
            vec![
                Some("kept".into()),
                Some("2".into()),
                Some("column b".into())
            ],
        ]
    );
    let restarted = TestServer::start_with(1, server.kill()).expect("server restarts");
    let client = connect(&restarted).await;
    assert_eq!(rows(&client, comments).await, before);
    drop(restarted);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn sequences_continue_after_kill_and_restart_without_repeating_a_value() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("freshet-sequences-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = TestServer::start_with(1, dir.clone()).expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute(
            "CREATE TABLE tickets (id bigserial PRIMARY KEY, who text);
             CREATE SEQUENCE counter START WITH 10;
             INSERT INTO tickets (who) VALUES ('a'), ('b'), ('c');
             SELECT nextval('counter'); SELECT nextval('counter');",
        )
        .await
        .unwrap();
    let before = rows(&client, "SELECT max(id)::text FROM tickets").await;
    assert_eq!(before, vec![vec![Some("3".into())]]);
    let restarted = TestServer::start_with(1, server.kill()).expect("server restarts");
    let client = connect(&restarted).await;
    // Values handed out before the crash are never handed out again (some may be
    // skipped, as in PostgreSQL).
    client
        .batch_execute("INSERT INTO tickets (who) VALUES ('d')")
        .await
        .unwrap();
    let ids = rows(
        &client,
        "SELECT count(DISTINCT id)::text, max(id)::text FROM tickets",
    )
    .await;
    assert_eq!(ids[0][0].as_deref(), Some("4"), "{ids:?}");
    let last: i64 = ids[0][1].as_deref().unwrap().parse().unwrap();
    assert!(
        last > 3,
        "a serial value was repeated after the restart: {ids:?}"
    );
    let next = rows(&client, "SELECT nextval('counter')").await;
    let next: i64 = next[0][0].as_deref().unwrap().parse().unwrap();
    assert!(
        next > 11,
        "nextval repeated a value after the restart: {next}"
    );
    // The definitions came back too.
    let seqs = rows(
        &client,
        "SELECT c.relname, s.seqstart::text FROM pg_sequence s JOIN pg_class c \
         ON c.oid = s.seqrelid ORDER BY 1",
    )
    .await;
    assert_eq!(
        seqs,
        vec![
            vec![Some("counter".into()), Some("10".into())],
            vec![Some("tickets_id_seq".into()), Some("1".into())],
        ]
    );
    drop(restarted);
    let _ = std::fs::remove_dir_all(&dir);
}

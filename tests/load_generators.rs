//! Load generator sources through a real server: they tick on their own, are deterministic
//! for a seed, stop at `UP TO`, and resume after `kill -9` without losing or repeating a tick.

mod support;

use support::server::TestServer;
use support::{connect, count, wait_for_count};

#[tokio::test]
async fn a_counter_resumes_after_kill_without_gaps_or_repeats() {
    let data = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("freshet-generators-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let server = TestServer::start_with(2, data).expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute(
            "CREATE SOURCE ticker FROM LOAD GENERATOR COUNTER (TICK INTERVAL '20ms');
             CREATE MATERIALIZED VIEW ticker_stats AS
               SELECT count(*) AS n, count(DISTINCT counter) AS distinct_n, max(counter) AS top
               FROM ticker;",
        )
        .await
        .expect("create source");
    let before = wait_for_count(&client, "SELECT n FROM ticker_stats", 20).await;
    assert!(before >= 20, "the counter ticks by itself ({before} rows)");
    drop(client);
    let data = server.kill();

    let server = TestServer::start_with(2, data.clone()).expect("server restarts");
    let client = connect(&server).await;
    let after = wait_for_count(&client, "SELECT n FROM ticker_stats", before + 20).await;
    assert!(
        after >= before + 20,
        "it goes on after a restart ({after} rows)"
    );
    // Every value once, none missing: 1..=n.
    let row = client
        .query_one("SELECT n, distinct_n, top FROM ticker_stats", &[])
        .await
        .expect("stats");
    let (n, distinct_n, top): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(n, distinct_n, "no value repeated");
    assert_eq!(n, top, "no value missing");
    // The progress relation agrees with the data it covers (read at one timestamp).
    let row = client
        .query_one(
            "SELECT (SELECT ticks FROM ticker_progress), (SELECT count(*) FROM ticker)",
            &[],
        )
        .await
        .expect("progress");
    assert_eq!(row.get::<_, i64>(0), row.get::<_, i64>(1));
    drop(client);
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn generators_are_deterministic_for_a_seed_and_stop_at_up_to() {
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute(
            "CREATE SOURCE a FROM LOAD GENERATOR CLICKS (SEED 5, TICK INTERVAL '10ms', UP TO 40);
             CREATE SOURCE b FROM LOAD GENERATOR CLICKS (SEED 5, TICK INTERVAL '10ms', UP TO 40);
             CREATE SOURCE c FROM LOAD GENERATOR CLICKS (SEED 6, TICK INTERVAL '10ms', UP TO 40);
             CREATE SOURCE house FROM LOAD GENERATOR AUCTION (TICK INTERVAL '10ms', UP TO 30)
               FOR ALL TABLES;
             CREATE SOURCE nexmark FROM LOAD GENERATOR NEXMARK (TICK INTERVAL '10ms', UP TO 20)
               FOR ALL TABLES;",
        )
        .await
        .expect("create sources");
    for progress in ["a_progress", "b_progress", "c_progress"] {
        let ticks = wait_for_count(&client, &format!("SELECT ticks FROM {progress}"), 40).await;
        assert_eq!(ticks, 40, "{progress} stops at UP TO");
    }
    assert_eq!(
        wait_for_count(&client, "SELECT ticks FROM house", 30).await,
        30,
        "the AUCTION source stops at UP TO"
    );
    // Same seed, same clicks (their times differ: each source starts when it is created).
    let differ = |x: &str, y: &str| {
        format!(
            "SELECT count(*) FROM (
               (SELECT user_id, ip, url, status, latency_ms FROM {x}
                EXCEPT ALL SELECT user_id, ip, url, status, latency_ms FROM {y})
               UNION ALL
               (SELECT user_id, ip, url, status, latency_ms FROM {y}
                EXCEPT ALL SELECT user_id, ip, url, status, latency_ms FROM {x})) d"
        )
    };
    assert_eq!(count(&client, "SELECT count(*) FROM a").await, 40 * 5 + 8);
    assert_eq!(count(&client, &differ("a", "b")).await, 0);
    assert!(
        count(&client, &differ("a", "c")).await > 0,
        "another seed differs"
    );
    // NEXMARK: 100 events a tick, in the specification's proportions (1 person, 3 auctions
    // and 46 bids in every 50 events).
    assert_eq!(
        wait_for_count(&client, "SELECT ticks FROM nexmark", 20).await,
        20
    );
    assert_eq!(count(&client, "SELECT count(*) FROM person").await, 40);
    assert_eq!(count(&client, "SELECT count(*) FROM auction").await, 120);
    assert_eq!(count(&client, "SELECT count(*) FROM bid").await, 1840);
    // AUCTION: one auction per tick, bids only on auctions that exist.
    assert_eq!(count(&client, "SELECT count(*) FROM auctions").await, 30);
    assert_eq!(
        count(&client, "SELECT count(*) FROM organizations").await,
        10
    );
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM bids WHERE auction_id NOT IN (SELECT id FROM auctions)"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn source_statements_refuse_what_they_cannot_do() {
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute("CREATE SOURCE n FROM LOAD GENERATOR COUNTER (UP TO 3)")
        .await
        .expect("create source");
    let cases = [
        (
            "INSERT INTO n VALUES (1)",
            "42809",
            "cannot change source \"n\"",
        ),
        (
            "CREATE SOURCE x FROM LOAD GENERATOR AUCTION",
            "42601",
            "add FOR ALL TABLES",
        ),
        (
            "CREATE SOURCE x FROM LOAD GENERATOR MARBLES",
            "0A000",
            "LOAD GENERATOR MARBLES",
        ),
        (
            "CREATE SOURCE x FROM LOAD GENERATOR COUNTER (SPEED 3)",
            "0A000",
            "load generator option SPEED",
        ),
        (
            "CREATE SOURCE n FROM LOAD GENERATOR COUNTER",
            "42P07",
            "already exists",
        ),
        (
            "DROP SOURCE n_progress",
            "0A000",
            "it belongs to source \"n\"",
        ),
    ];
    for (sql, code, message) in cases {
        let err = client.batch_execute(sql).await.expect_err(sql);
        let db = err.as_db_error().expect("a server error");
        assert_eq!(db.code().code(), code, "{sql}: {db:?}");
        assert!(db.message().contains(message), "{sql}: {}", db.message());
    }
    client
        .batch_execute("CREATE VIEW doubled AS SELECT counter * 2 AS d FROM n")
        .await
        .expect("a view on the source");
    let err = client
        .batch_execute("DROP SOURCE n")
        .await
        .expect_err("a view depends on it");
    assert_eq!(err.as_db_error().map(|e| e.code().code()), Some("2BP01"));
    client
        .batch_execute("DROP SOURCE n CASCADE")
        .await
        .expect("drop source");
    let err = client
        .batch_execute("SELECT * FROM n_progress")
        .await
        .expect_err("the progress relation went with its source");
    assert_eq!(err.as_db_error().map(|e| e.code().code()), Some("42P01"));
}

//! The PostgreSQL wire protocol through a real client (tokio-postgres, which uses the
//! extended protocol and binary results): parameters, result types, errors with SQLSTATEs,
//! SUBSCRIBE streams, cancel, and clients that vanish mid-stream.

mod support;

use futures::StreamExt;
use std::time::Duration;
use support::connect;
use support::server::TestServer;
use tokio_postgres::{NoTls, SimpleQueryMessage};

/// Reads COPY lines until one satisfies `wanted` (bounded wait).
async fn next_line_matching<S>(stream: &mut S, wanted: impl Fn(&str) -> bool) -> String
where
    S: futures::Stream<Item = Result<bytes::Bytes, tokio_postgres::Error>> + Unpin,
{
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .expect("a subscription row arrives within 20 s")
            .expect("the stream is open")
            .expect("copy data");
        let text = String::from_utf8_lossy(&chunk).to_string();
        if wanted(&text) {
            return text;
        }
    }
}

#[tokio::test]
async fn prepared_statements_bind_parameters_of_every_common_type() {
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute("CREATE TABLE t (i int, b bigint, f double precision, s text, ok boolean, d date, ts timestamp)")
        .await
        .unwrap();
    let insert = client
        .prepare("INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .await
        .unwrap();
    let date = chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let ts = date.and_hms_micro_opt(12, 34, 56, 789_000).unwrap();
    for i in 0..3i32 {
        let n = client
            .execute(
                &insert,
                &[
                    &i,
                    &(i as i64 * 10),
                    &(i as f64 / 2.0),
                    &format!("row {i}"),
                    &(i % 2 == 0),
                    &date,
                    &ts,
                ],
            )
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
    // Reuse one named statement with different parameters; results come back binary.
    let select = client
        .prepare("SELECT i, b, f, s, ok, d, ts FROM t WHERE i >= $1 ORDER BY i")
        .await
        .unwrap();
    let rows = client.query(&select, &[&1i32]).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].get::<_, i32>(0), 1);
    assert_eq!(rows[0].get::<_, i64>(1), 10);
    assert_eq!(rows[0].get::<_, f64>(2), 0.5);
    assert_eq!(rows[0].get::<_, String>(3), "row 1");
    assert!(!rows[0].get::<_, bool>(4));
    assert_eq!(rows[0].get::<_, chrono::NaiveDate>(5), date);
    assert_eq!(rows[0].get::<_, chrono::NaiveDateTime>(6), ts);
    let rows = client.query(&select, &[&2i32]).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, String>(3), "row 2");
}

#[tokio::test]
async fn binary_results_decode_for_json_uuid_and_nulls() {
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    let row = client
        .query_one(
            "SELECT '{\"b\": [1, 2], \"a\": 1}'::jsonb AS j, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, NULL::int AS n, 'x'::varchar(3) AS v",
            &[],
        )
        .await
        .unwrap();
    let j: serde_json::Value = row.get(0);
    assert_eq!(j, serde_json::json!({"a": 1, "b": [1, 2]}));
    let u: uuid::Uuid = row.get(1);
    assert_eq!(u.to_string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    let n: Option<i32> = row.get(2);
    assert_eq!(n, None);
    let v: String = row.get(3);
    assert_eq!(v, "x");
}

#[tokio::test]
async fn errors_carry_postgres_sqlstates() {
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    let cases = [
        ("SELECT * FROM missing", "42P01"),
        ("SELEC 1", "42601"),
        ("SELECT 1/0", "22012"),
        ("SELECT nope FROM (SELECT 1 AS a) x", "42703"),
        ("SELECT 2147483647::int + 1", "22003"),
        ("CREATE TABLE t (a int CHECK (a > 0))", "0A000"),
    ];
    for (sql, code) in cases {
        let err = client.simple_query(sql).await.expect_err(sql);
        let db = err
            .as_db_error()
            .unwrap_or_else(|| panic!("{sql}: not a database error: {err}"));
        assert_eq!(db.code().code(), code, "{sql}: {}", db.message());
    }
    // The connection still works after errors.
    let rows = client.query("SELECT 1::int", &[]).await.unwrap();
    assert_eq!(rows[0].get::<_, i32>(0), 1);
}

#[tokio::test]
async fn subscribe_streams_the_snapshot_then_each_change() {
    let server = TestServer::start().expect("server starts");
    let writer = connect(&server).await;
    writer
        .batch_execute("CREATE TABLE events (id int, kind text); INSERT INTO events VALUES (1, 'a'); CREATE MATERIALIZED VIEW counts AS SELECT kind, count(*) AS n FROM events GROUP BY kind")
        .await
        .unwrap();
    let reader = connect(&server).await;
    let stream = reader
        .copy_out("COPY (SUBSCRIBE counts) TO STDOUT")
        .await
        .unwrap();
    let mut stream = Box::pin(stream);
    // Snapshot: (ts, diff = 1, kind = a, n = 1).
    let snapshot = next_line_matching(&mut stream, |l| l.contains("\ta\t")).await;
    assert!(snapshot.trim_end().ends_with("\t1\ta\t1"), "{snapshot:?}");
    writer
        .batch_execute("INSERT INTO events VALUES (2, 'a')")
        .await
        .unwrap();
    // The change: the old count retracted, the new one inserted, at one later timestamp.
    let mut lines = Vec::new();
    while lines.len() < 2 {
        lines.push(next_line_matching(&mut stream, |l| l.contains("\ta\t")).await);
    }
    let mut lines: Vec<String> = lines
        .into_iter()
        .flat_map(|chunk| chunk.lines().map(str::to_string).collect::<Vec<_>>())
        .collect();
    lines.sort();
    let fields = |l: &str| l.split('\t').skip(1).collect::<Vec<_>>().join(" ");
    assert!(lines.iter().any(|l| fields(l) == "-1 a 1"), "{lines:?}");
    assert!(lines.iter().any(|l| fields(l) == "1 a 2"), "{lines:?}");
    let snapshot_ts: u64 = snapshot.split('\t').next().unwrap().parse().unwrap();
    let change_ts: u64 = lines[0].split('\t').next().unwrap().parse().unwrap();
    assert!(change_ts > snapshot_ts);
}

#[tokio::test]
async fn subscribe_as_a_query_and_through_a_cursor() {
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute("CREATE TABLE t (a int); INSERT INTO t VALUES (7)")
        .await
        .unwrap();
    client
        .batch_execute("BEGIN; DECLARE c CURSOR FOR SUBSCRIBE (SELECT a * 2 AS doubled FROM t)")
        .await
        .unwrap();
    let messages = client
        .simple_query("FETCH ALL c WITH (TIMEOUT = '10s')")
        .await
        .unwrap();
    let rows: Vec<_> = messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get("mz_diff"), Some("1"));
    assert_eq!(rows[0].get("doubled"), Some("14"));
    // Nothing new: a FETCH with a timeout returns no rows instead of waiting forever.
    let messages = client
        .simple_query("FETCH ALL c WITH (TIMEOUT = '100ms')")
        .await
        .unwrap();
    assert!(
        !messages
            .iter()
            .any(|m| matches!(m, SimpleQueryMessage::Row(_)))
    );
    client.batch_execute("COMMIT").await.unwrap();
}

#[tokio::test]
async fn cancel_stops_a_running_subscribe() {
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute("CREATE TABLE t (a int)")
        .await
        .unwrap();
    let token = client.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        token.cancel_query(NoTls).await
    });
    let result = tokio::time::timeout(Duration::from_secs(20), client.simple_query("SUBSCRIBE t"))
        .await
        .expect("the subscribe ends after the cancel");
    canceller.await.unwrap().expect("cancel request sent");
    let err = result.expect_err("a canceled subscribe ends with an error");
    assert_eq!(
        err.as_db_error().map(|e| e.code().code()),
        Some("57014"),
        "{err}"
    );
    // The session is usable afterwards.
    let rows = client.simple_query("SELECT 1").await.unwrap();
    assert!(rows.iter().any(|m| matches!(m, SimpleQueryMessage::Row(_))));
}

#[tokio::test]
async fn a_client_vanishing_mid_subscribe_leaves_the_server_serving() {
    let server = TestServer::start().expect("server starts");
    let writer = connect(&server).await;
    writer
        .batch_execute("CREATE TABLE t (a int); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    {
        let reader = connect(&server).await;
        let stream = reader
            .copy_out("COPY (SUBSCRIBE t) TO STDOUT")
            .await
            .unwrap();
        let mut stream = Box::pin(stream);
        next_line_matching(&mut stream, |l| l.contains("\t1\t1")).await;
        // The reader and its connection are dropped here, mid-stream.
    }
    // Writes after the disconnect make the server notice the closed socket.
    for i in 0..3 {
        writer
            .execute("INSERT INTO t VALUES ($1)", &[&(i + 10)])
            .await
            .unwrap();
    }
    let fresh = connect(&server).await;
    let rows = fresh.query("SELECT count(*) FROM t", &[]).await.unwrap();
    assert_eq!(rows[0].get::<_, i64>(0), 4);
}

#[tokio::test]
async fn copy_from_stdin_loads_text_and_csv_in_one_write() {
    use futures::SinkExt;
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute("CREATE TABLE c (a int NOT NULL, b text, d date DEFAULT '2024-01-01'); CREATE MATERIALIZED VIEW c_count AS SELECT count(*) AS n FROM c")
        .await
        .unwrap();
    let sink = client.copy_in("COPY c (a, b) FROM STDIN").await.unwrap();
    let mut sink = Box::pin(sink);
    let data: String = (0..1000)
        .map(|i| format!("{i}\tname {i}\n"))
        .collect::<String>()
        + "1000\t\\N\n";
    sink.send(bytes::Bytes::from(data)).await.unwrap();
    assert_eq!(sink.as_mut().finish().await.unwrap(), 1001);
    let sink = client
        .copy_in("COPY c FROM STDIN WITH (FORMAT csv, HEADER true)")
        .await
        .unwrap();
    let mut sink = Box::pin(sink);
    sink.send(bytes::Bytes::from_static(
        b"a,b,d\n2000,\"x,y\",2020-02-02\n2001,,\n",
    ))
    .await
    .unwrap();
    assert_eq!(sink.as_mut().finish().await.unwrap(), 2);
    let row = client
        .query_one("SELECT n FROM c_count", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 1003);
    let row = client
        .query_one("SELECT b, d::text FROM c WHERE a = 2000", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "x,y");
    assert_eq!(row.get::<_, String>(1), "2020-02-02");
    let row = client
        .query_one("SELECT b IS NULL, d::text FROM c WHERE a = 1000", &[])
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));
    assert_eq!(row.get::<_, String>(1), "2024-01-01");
    // A bad field fails the whole COPY (nothing is written) with the field's SQLSTATE.
    let sink = client.copy_in("COPY c (a, b) FROM STDIN").await.unwrap();
    let mut sink = Box::pin(sink);
    sink.send(bytes::Bytes::from_static(b"5000\tok\nnot-a-number\tbad\n"))
        .await
        .unwrap();
    let err = sink
        .as_mut()
        .finish()
        .await
        .expect_err("a bad row fails the COPY");
    assert_eq!(
        err.as_db_error().map(|e| e.code().code()),
        Some("22P02"),
        "{err}"
    );
    let row = client
        .query_one("SELECT count(*) FROM c WHERE a = 5000", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 0);
}

#[tokio::test]
async fn subscribe_progress_rows_never_precede_updates_they_cover() {
    let server = TestServer::start().expect("server starts");
    let writer = connect(&server).await;
    writer
        .batch_execute("CREATE TABLE t (a int)")
        .await
        .unwrap();
    let reader = connect(&server).await;
    let stream = reader
        .copy_out("COPY (SUBSCRIBE t WITH (PROGRESS, SNAPSHOT = false)) TO STDOUT")
        .await
        .unwrap();
    let mut stream = Box::pin(stream);
    for i in 0..5 {
        writer
            .execute("INSERT INTO t VALUES ($1)", &[&i])
            .await
            .unwrap();
    }
    // Read until the last insert arrives; every update's timestamp must be at or beyond the
    // latest progress timestamp seen before it, and progress timestamps strictly increase.
    let mut progressed = 0u64;
    let mut seen = 0;
    while seen < 5 {
        let line = next_line_matching(&mut stream, |_| true).await;
        for l in line.lines() {
            let fields: Vec<&str> = l.split('\t').collect();
            let ts: u64 = fields[0].parse().unwrap();
            if fields[1] == "t" {
                assert!(ts > progressed, "progress went from {progressed} to {ts}");
                progressed = ts;
            } else {
                assert!(
                    ts >= progressed,
                    "update at {ts} after progress {progressed}: {l}"
                );
                seen += 1;
            }
        }
    }
}

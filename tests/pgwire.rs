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

/// A parameter sent in text format whatever its type, as node-postgres sends every
/// parameter (psycopg sends some this way too).
#[derive(Debug)]
struct TextParam(&'static str);

impl tokio_postgres::types::ToSql for TextParam {
    fn to_sql(
        &self,
        _ty: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(tokio_postgres::types::IsNull::No)
    }

    fn accepts(_ty: &tokio_postgres::types::Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &tokio_postgres::types::Type) -> tokio_postgres::types::Format {
        tokio_postgres::types::Format::Text
    }

    tokio_postgres::types::to_sql_checked!();
}

/// Raw bytes sent as a binary parameter, for wire formats no Rust type produces.
#[derive(Debug)]
struct RawBinaryParam(Vec<u8>);

impl tokio_postgres::types::ToSql for RawBinaryParam {
    fn to_sql(
        &self,
        _ty: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(&self.0);
        Ok(tokio_postgres::types::IsNull::No)
    }

    fn accepts(_ty: &tokio_postgres::types::Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

/// psycopg 3 declares a Python int as int2 and sends it in binary: the value must be stored
/// as the column's type (int4, bigint), so that comparisons and arithmetic on it work later.
#[tokio::test]
async fn int2_parameters_inserted_into_wider_integer_columns_are_stored_as_the_column_type() {
    use tokio_postgres::types::Type;
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute("CREATE TABLE t (id int, name text, big bigint)")
        .await
        .unwrap();
    let insert = client
        .prepare_typed(
            "INSERT INTO t (id, name, big) VALUES ($1, $2, $3)",
            &[Type::INT2, Type::TEXT, Type::INT2],
        )
        .await
        .unwrap();
    // Repeated use of one prepared statement (psycopg's executemany).
    for (id, name) in [(1i16, "a"), (2, "b"), (50, "c")] {
        client
            .execute(&insert, &[&id, &name, &(id * 10)])
            .await
            .unwrap();
    }
    let rows = support::text_rows(&client, "SELECT name FROM t WHERE id = 50").await;
    assert_eq!(rows, vec![vec!["c".to_string()]]);
    let rows = support::text_rows(
        &client,
        "SELECT id + 1, big + 1 FROM t WHERE id >= 2 ORDER BY id",
    )
    .await;
    assert_eq!(rows, vec![vec!["3", "21"], vec!["51", "501"]]);
    // Read back in binary: the columns are int4 and int8, and so are their values.
    let rows = client
        .query("SELECT id, big FROM t ORDER BY id", &[])
        .await
        .unwrap();
    let read: Vec<(i32, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(read, vec![(1, 10), (2, 20), (50, 500)]);
}

#[tokio::test]
async fn int2_parameters_compare_with_an_int4_column() {
    use tokio_postgres::types::Type;
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute(
            "CREATE TABLE t (id int, name text); INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')",
        )
        .await
        .unwrap();
    let eq = client
        .prepare_typed(
            "SELECT name FROM t WHERE id = $1 AND name = $2",
            &[Type::INT2, Type::TEXT],
        )
        .await
        .unwrap();
    let rows = client.query(&eq, &[&2i16, &"b"]).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, String>(0), "b");
    let between = client
        .prepare_typed(
            "SELECT id FROM t WHERE id BETWEEN $1 AND $2 ORDER BY id",
            &[Type::INT2, Type::INT2],
        )
        .await
        .unwrap();
    let rows = client.query(&between, &[&2i16, &3i16]).await.unwrap();
    let ids: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(ids, vec![2, 3]);
}

#[tokio::test]
async fn arithmetic_and_casts_on_an_int2_parameter_convert_its_value() {
    use tokio_postgres::types::Type;
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    let plus = client
        .prepare_typed("SELECT $1 + 1 AS answer", &[Type::INT2])
        .await
        .unwrap();
    assert_eq!(plus.columns()[0].type_(), &Type::INT4);
    let row = client.query_one(&plus, &[&41i16]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 42);
    let cast = client
        .prepare_typed("SELECT $1::int AS n, $1::bigint + 1 AS m", &[Type::INT2])
        .await
        .unwrap();
    let row = client.query_one(&cast, &[&7i16]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 7);
    assert_eq!(row.get::<_, i64>(1), 8);
    // A bare parameter keeps its declared type, as Describe said.
    let bare = client
        .prepare_typed("SELECT $1 AS p", &[Type::INT2])
        .await
        .unwrap();
    assert_eq!(bare.columns()[0].type_(), &Type::INT2);
    let row = client.query_one(&bare, &[&-3i16]).await.unwrap();
    assert_eq!(row.get::<_, i16>(0), -3);
}

#[tokio::test]
async fn any_with_an_array_parameter_in_binary_or_text_typed_or_not() {
    use tokio_postgres::types::Type;
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute("CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2), (3)")
        .await
        .unwrap();
    let sql = "SELECT count(*) FROM t WHERE id = ANY($1)";
    // Declared int2[] (psycopg), binary.
    let int2s = client
        .prepare_typed(sql, &[Type::INT2_ARRAY])
        .await
        .unwrap();
    let row = client
        .query_one(&int2s, &[&vec![1i16, 2, 99]])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 2);
    // Declared int2[], text.
    let row = client
        .query_one(&int2s, &[&TextParam("{1,2,99}")])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 2);
    // Untyped: the server infers int4[] from the left side.
    let inferred = client.prepare(sql).await.unwrap();
    assert_eq!(inferred.params(), &[Type::INT4_ARRAY]);
    let row = client
        .query_one(&inferred, &[&vec![1i32, 3]])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 2);
    // Untyped and in text (node-postgres), elements quoted.
    let untyped = client.prepare_typed(sql, &[Type::UNKNOWN]).await.unwrap();
    let row = client
        .query_one(&untyped, &[&TextParam(r#"{"1","2","99"}"#)])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 2);
    // An empty array and an array with a NULL.
    let row = client
        .query_one(&inferred, &[&Vec::<i32>::new()])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 0);
    let row = client
        .query_one(&inferred, &[&vec![Some(3i32), None]])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 1);
}

#[tokio::test]
async fn binary_array_parameters_and_results_round_trip() {
    use tokio_postgres::types::Type;
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    let texts = client
        .prepare_typed("SELECT $1 AS a", &[Type::TEXT_ARRAY])
        .await
        .unwrap();
    let value = vec![Some("x".to_string()), None, Some("{a, \"b\"}".to_string())];
    let row = client.query_one(&texts, &[&value]).await.unwrap();
    assert_eq!(row.get::<_, Vec<Option<String>>>(0), value);
    let empty = client
        .query_one(&texts, &[&Vec::<String>::new()])
        .await
        .unwrap();
    assert_eq!(empty.get::<_, Vec<String>>(0), Vec::<String>::new());
    let int4s = client
        .prepare_typed("SELECT $1 AS a", &[Type::INT4_ARRAY])
        .await
        .unwrap();
    let row = client.query_one(&int4s, &[&vec![1i32, -2]]).await.unwrap();
    assert_eq!(row.get::<_, Vec<i32>>(0), vec![1, -2]);
    let int8s = client
        .prepare_typed("SELECT $1 AS a", &[Type::INT8_ARRAY])
        .await
        .unwrap();
    let row = client
        .query_one(&int8s, &[&vec![1i64 << 40]])
        .await
        .unwrap();
    assert_eq!(row.get::<_, Vec<i64>>(0), vec![1i64 << 40]);
    // An int2[] parameter stored in an int4[] column, and read back.
    client
        .batch_execute("CREATE TABLE a (xs int[], ts timestamp[])")
        .await
        .unwrap();
    let ts = chrono::NaiveDate::from_ymd_opt(2024, 2, 29)
        .unwrap()
        .and_hms_opt(1, 2, 3)
        .unwrap();
    let insert = client
        .prepare_typed(
            "INSERT INTO a VALUES ($1, $2)",
            &[Type::INT2_ARRAY, Type::TIMESTAMP_ARRAY],
        )
        .await
        .unwrap();
    client
        .execute(&insert, &[&vec![5i16, 6], &vec![ts]])
        .await
        .unwrap();
    let row = client
        .query_one("SELECT xs, ts, xs[1] + 1 FROM a", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, Vec<i32>>(0), vec![5, 6]);
    assert_eq!(row.get::<_, Vec<chrono::NaiveDateTime>>(1), vec![ts]);
    assert_eq!(row.get::<_, i32>(2), 6);
    // Two dimensions: not supported, and said so.
    let mut two_d = Vec::new();
    for word in [2i32, 0, 23, 1, 1, 1, 1, 4, 7] {
        two_d.extend_from_slice(&word.to_be_bytes());
    }
    let err = client
        .query_one(&int4s, &[&RawBinaryParam(two_d)])
        .await
        .expect_err("a two-dimensional array parameter");
    assert_eq!(
        err.as_db_error().map(|e| e.code().code()),
        Some("0A000"),
        "{err}"
    );
}

/// Everything a `COPY ... TO STDOUT` sends, concatenated.
async fn copy_out_bytes(client: &tokio_postgres::Client, sql: &str) -> Vec<u8> {
    let stream = client
        .copy_out(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let chunks: Vec<bytes::Bytes> = stream
        .map(|chunk| chunk.unwrap_or_else(|e| panic!("{sql}: {e}")))
        .collect()
        .await;
    chunks.concat()
}

/// The SQLSTATE of a failed statement.
fn sqlstate(err: &tokio_postgres::Error) -> String {
    err.as_db_error()
        .map(|e| e.code().code().to_string())
        .unwrap_or_else(|| format!("not a server error: {err}"))
}

/// Table rows with tabs, backslashes, quotes, line breaks, NULLs, an empty string and values
/// that look like `\N` and `\.`; the expected outputs are what PostgreSQL 15 prints.
const COPY_OUT_SETUP: &str = "CREATE TABLE e (id int, s text, n numeric, note text); \
     INSERT INTO e VALUES (1, E'tab\\there, back\\\\slash, \"quoted\"\\nnew line\\r', NULL, ''), \
     (2, '\\N', 2.50, E'\\\\.')";

#[tokio::test]
async fn copy_table_to_stdout_in_text_escapes_and_marks_nulls_as_postgres() {
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    client.batch_execute(COPY_OUT_SETUP).await.unwrap();
    let out = String::from_utf8(copy_out_bytes(&client, "COPY e TO STDOUT").await).unwrap();
    // One line per row, in no particular order (as PostgreSQL's).
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        vec![
            "1\ttab\\there, back\\\\slash, \"quoted\"\\nnew line\\r\t\\N\t",
            "2\t\\\\N\t2.50\t\\\\.",
        ]
    );
    assert!(out.ends_with('\n'));
    // A column list, another delimiter and NULL string, and a header (PostgreSQL 15).
    let out = copy_out_bytes(
        &client,
        "COPY e (note, id) TO STDOUT (DELIMITER '|', NULL 'nil', HEADER)",
    )
    .await;
    let mut lines: Vec<&str> = std::str::from_utf8(&out).unwrap().lines().collect();
    assert_eq!(lines.remove(0), "note|id");
    lines.sort();
    assert_eq!(lines, vec!["\\\\.|2", "|1"]);
    // As PostgreSQL, Describe says COPY returns no rows (its data is not rows).
    let prepared = client.prepare("COPY e TO STDOUT").await.unwrap();
    assert!(prepared.columns().is_empty());
}

#[tokio::test]
async fn copy_table_to_stdout_as_csv_with_header_quotes_as_postgres() {
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    client.batch_execute(COPY_OUT_SETUP).await.unwrap();
    client
        .batch_execute("DELETE FROM e WHERE id = 2")
        .await
        .unwrap();
    let out = copy_out_bytes(&client, "COPY e TO STDOUT (FORMAT csv, HEADER)").await;
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "id,s,n,note\n1,\"tab\there, back\\slash, \"\"quoted\"\"\nnew line\r\",,\"\"\n"
    );
    // The old option syntax means the same.
    let out = copy_out_bytes(&client, "COPY e TO STDOUT WITH CSV HEADER").await;
    assert!(out.starts_with(b"id,s,n,note\n1,\"tab"), "{out:?}");
}

#[tokio::test]
async fn copy_query_to_stdout_reads_what_the_select_reads_with_csv_options() {
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    client.batch_execute(COPY_OUT_SETUP).await.unwrap();
    let out = copy_out_bytes(
        &client,
        "COPY (SELECT s, n FROM e ORDER BY id DESC) TO STDOUT WITH CSV HEADER",
    )
    .await;
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "s,n\n\\N,2.50\n\"tab\there, back\\slash, \"\"quoted\"\"\nnew line\r\",\n"
    );
    let out = copy_out_bytes(
        &client,
        "COPY (SELECT id, note, n FROM e ORDER BY id) TO STDOUT (FORMAT csv, DELIMITER ';', \
         NULL 'NULL', QUOTE '''', ESCAPE '\\', FORCE_QUOTE (id, n))",
    )
    .await;
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "'1';;NULL\n'2';\\.;'2.50'\n"
    );
    // `\.` alone on a line is quoted so that it does not read as the end of the data.
    let out = copy_out_bytes(
        &client,
        "COPY (SELECT note FROM e ORDER BY id) TO STDOUT CSV",
    )
    .await;
    assert_eq!(out, b"\"\"\n\"\\.\"\n");
    // A query over a materialized view and a join, with an empty result.
    client
        .batch_execute(
            "CREATE MATERIALIZED VIEW totals AS SELECT count(*) AS rows, sum(n) AS total FROM e",
        )
        .await
        .unwrap();
    let out = copy_out_bytes(&client, "COPY (SELECT * FROM totals) TO STDOUT").await;
    assert_eq!(out, b"2\t2.50\n");
    let out = copy_out_bytes(
        &client,
        "COPY (SELECT e.id FROM e JOIN totals ON e.id > totals.rows) TO STDOUT (FORMAT csv, HEADER)",
    )
    .await;
    assert_eq!(out, b"id\n");
}

#[tokio::test]
async fn copy_to_stdout_refuses_what_it_does_not_do_with_postgres_sqlstates() {
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute("CREATE TABLE t (a int, b text); CREATE VIEW v AS SELECT a FROM t")
        .await
        .unwrap();
    for (sql, code) in [
        ("COPY t TO STDOUT (FORMAT text, FORCE_QUOTE (a))", "0A000"),
        ("COPY t TO STDOUT (FORMAT text, QUOTE '\"')", "0A000"),
        ("COPY t TO STDOUT (FORMAT csv, FORCE_NOT_NULL (a))", "0A000"),
        ("COPY t TO STDOUT (FORMAT binary, HEADER)", "0A000"),
        ("COPY t TO STDOUT (ENCODING 'LATIN1')", "0A000"),
        ("COPY t TO '/tmp/freshet-copy-out'", "0A000"),
        ("COPY t TO STDOUT (FORMAT binary, DELIMITER ',')", "42601"),
        ("COPY t TO STDOUT (FORMAT csv, FORMAT text)", "42601"),
        ("COPY t TO STDOUT (FORMAT parquet)", "22023"),
        ("COPY t TO STDOUT (DELIMITER 'x')", "22023"),
        (
            "COPY t (a) TO STDOUT (FORMAT csv, FORCE_QUOTE (b))",
            "42P10",
        ),
        ("COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE (z))", "42703"),
        ("COPY t (a, a) TO STDOUT", "42701"),
        ("COPY v TO STDOUT", "42809"),
    ] {
        let err = client
            .copy_out(sql)
            .await
            .err()
            .unwrap_or_else(|| panic!("{sql} should fail"));
        assert_eq!(sqlstate(&err), code, "{sql}: {err}");
    }
}

/// A value in its binary wire format, as bytes (for types no Rust type here maps to).
#[derive(Debug, PartialEq)]
struct RawWireValue(Vec<u8>);

impl tokio_postgres::types::ToSql for RawWireValue {
    fn to_sql(
        &self,
        _ty: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(&self.0);
        Ok(tokio_postgres::types::IsNull::No)
    }

    fn accepts(_ty: &tokio_postgres::types::Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

impl<'a> tokio_postgres::types::FromSql<'a> for RawWireValue {
    fn from_sql(
        _ty: &tokio_postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawWireValue(raw.to_vec()))
    }

    fn accepts(_ty: &tokio_postgres::types::Type) -> bool {
        true
    }
}

#[tokio::test]
async fn binary_copy_round_trips_every_common_type_through_tokio_postgres() {
    use tokio_postgres::binary_copy::{BinaryCopyInWriter, BinaryCopyOutStream};
    use tokio_postgres::types::{ToSql, Type};
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute(
            "CREATE TABLE b (i2 smallint, i4 int, i8 bigint, n numeric, f float8, t text, \
             ok boolean, d date, ts timestamp, tz timestamptz, iv interval, j jsonb, u uuid, \
             by bytea)",
        )
        .await
        .unwrap();
    let types = [
        Type::INT2,
        Type::INT4,
        Type::INT8,
        Type::NUMERIC,
        Type::FLOAT8,
        Type::TEXT,
        Type::BOOL,
        Type::DATE,
        Type::TIMESTAMP,
        Type::TIMESTAMPTZ,
        Type::INTERVAL,
        Type::JSONB,
        Type::UUID,
        Type::BYTEA,
    ];
    // 1234.5678: 2 base-10000 digits, weight 0, positive, scale 4, digits 1234 and 5678.
    let numeric = RawWireValue(vec![0, 2, 0, 0, 0, 0, 0, 4, 0x04, 0xd2, 0x16, 0x2e]);
    // 1 mon 1 day 02:03:04.5: microseconds, days, months.
    let mut interval = (7_384_500_000i64).to_be_bytes().to_vec();
    interval.extend(1i32.to_be_bytes());
    interval.extend(1i32.to_be_bytes());
    let interval = RawWireValue(interval);
    let date = chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let ts = date.and_hms_micro_opt(12, 34, 56, 789_012).unwrap();
    let tz = chrono::DateTime::<chrono::Utc>::from_naive_utc_and_offset(ts, chrono::Utc);
    let json = serde_json::json!({"a": [1, "two", null], "b": {"c": true}});
    let uuid = uuid::Uuid::parse_str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap();
    let float = 0.1f64 + 0.2; // 0.30000000000000004: every bit must survive
    let text = "tab\tnewline\n\"quote\" back\\slash \\N é".to_string();
    let bytes_value = vec![0u8, 1, 255, b'\\', b'\n'];
    let sink = client
        .copy_in("COPY b FROM STDIN (FORMAT BINARY)")
        .await
        .unwrap();
    let writer = BinaryCopyInWriter::new(sink, &types);
    let mut writer = Box::pin(writer);
    let row: Vec<&(dyn ToSql + Sync)> = vec![
        &-7i16,
        &123_456i32,
        &-9_876_543_210i64,
        &numeric,
        &float,
        &text,
        &true,
        &date,
        &ts,
        &tz,
        &interval,
        &json,
        &uuid,
        &bytes_value,
    ];
    writer.as_mut().write(&row).await.unwrap();
    let nulls: Vec<Option<RawWireValue>> = types.iter().map(|_| None).collect();
    let nulls: Vec<&(dyn ToSql + Sync)> = nulls.iter().map(|n| n as &(dyn ToSql + Sync)).collect();
    writer.as_mut().write(&nulls).await.unwrap();
    assert_eq!(writer.as_mut().finish().await.unwrap(), 2);

    // The values as text, as PostgreSQL prints them.
    let text_rows = support::text_rows(
        &client,
        "SELECT n, f, iv, tz, j FROM b WHERE i4 IS NOT NULL",
    )
    .await;
    assert_eq!(
        text_rows,
        vec![vec![
            "1234.5678".to_string(),
            "0.30000000000000004".into(),
            "1 mon 1 day 02:03:04.5".into(),
            "2024-02-29 12:34:56.789012+00".into(),
            r#"{"a": [1, "two", null], "b": {"c": true}}"#.into(),
        ]]
    );

    // And back out in binary, NULLs last.
    let stream = client
        .copy_out("COPY (SELECT * FROM b ORDER BY i4 NULLS LAST) TO STDOUT (FORMAT binary)")
        .await
        .unwrap();
    let rows: Vec<_> = BinaryCopyOutStream::new(stream, &types)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 2);
    let r = &rows[0];
    assert_eq!(r.get::<i16>(0), -7);
    assert_eq!(r.get::<i32>(1), 123_456);
    assert_eq!(r.get::<i64>(2), -9_876_543_210);
    assert_eq!(r.get::<RawWireValue>(3), numeric);
    assert_eq!(r.get::<f64>(4).to_bits(), float.to_bits());
    assert_eq!(r.get::<String>(5), text);
    assert!(r.get::<bool>(6));
    assert_eq!(r.get::<chrono::NaiveDate>(7), date);
    assert_eq!(r.get::<chrono::NaiveDateTime>(8), ts);
    assert_eq!(r.get::<chrono::DateTime<chrono::Utc>>(9), tz);
    assert_eq!(r.get::<RawWireValue>(10), interval);
    assert_eq!(r.get::<serde_json::Value>(11), json);
    assert_eq!(r.get::<uuid::Uuid>(12), uuid);
    assert_eq!(r.get::<Vec<u8>>(13), bytes_value);
    for i in 0..types.len() {
        assert!(
            rows[1].get::<Option<RawWireValue>>(i).is_none(),
            "column {i}"
        );
    }

    // Arrays go in and come out in binary too.
    client
        .batch_execute("CREATE TABLE arrays (a int[], b text[])")
        .await
        .unwrap();
    let sink = client
        .copy_in("COPY arrays FROM STDIN (FORMAT binary)")
        .await
        .unwrap();
    let array_types = [Type::INT4_ARRAY, Type::TEXT_ARRAY];
    let mut writer = Box::pin(BinaryCopyInWriter::new(sink, &array_types));
    let ints = vec![Some(1i32), None, Some(3)];
    let texts = vec!["x".to_string(), "y z".to_string()];
    writer.as_mut().write(&[&ints, &texts]).await.unwrap();
    assert_eq!(writer.as_mut().finish().await.unwrap(), 1);
    assert_eq!(
        support::text_rows(&client, "SELECT a, b FROM arrays").await,
        vec![vec!["{1,NULL,3}".to_string(), "{x,\"y z\"}".into()]]
    );
    let stream = client
        .copy_out("COPY arrays TO STDOUT (FORMAT binary)")
        .await
        .unwrap();
    let rows: Vec<_> = BinaryCopyOutStream::new(stream, &array_types)
        .collect::<Vec<_>>()
        .await;
    let row = rows[0].as_ref().unwrap();
    assert_eq!(row.get::<Vec<Option<i32>>>(0), ints);
    assert_eq!(row.get::<Vec<String>>(1), texts);
    // An empty result is a header and the trailer.
    let empty = copy_out_bytes(
        &client,
        "COPY (SELECT * FROM b WHERE false) TO STDOUT (FORMAT binary)",
    )
    .await;
    assert_eq!(empty, b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0\xff\xff");

    // A column list: the other columns get their defaults (NULL).
    let sink = client
        .copy_in("COPY b (t, i4) FROM STDIN WITH BINARY")
        .await
        .unwrap();
    let mut writer = Box::pin(BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::INT4]));
    writer.as_mut().write(&[&"only two", &99i32]).await.unwrap();
    assert_eq!(writer.as_mut().finish().await.unwrap(), 1);
    assert_eq!(
        support::text_rows(&client, "SELECT t, i2 FROM b WHERE i4 = 99").await,
        vec![vec!["only two".to_string(), "NULL".into()]]
    );
}

#[tokio::test]
async fn binary_copy_with_a_bad_signature_or_field_fails_with_postgres_sqlstates() {
    use futures::SinkExt;
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute("CREATE TABLE b (a int, s text)")
        .await
        .unwrap();
    let copy = |data: Vec<u8>| {
        let client = &client;
        async move {
            let sink = client
                .copy_in("COPY b FROM STDIN (FORMAT binary)")
                .await
                .unwrap();
            let mut sink = Box::pin(sink);
            sink.send(bytes::Bytes::from(data)).await.unwrap();
            sink.as_mut().finish().await
        }
    };
    // Text data where binary is expected.
    let err = copy(b"1\tx\n".to_vec()).await.expect_err("not binary");
    assert_eq!(sqlstate(&err), "22P04", "{err}");
    assert_eq!(
        err.as_db_error().unwrap().message(),
        "COPY file signature not recognized"
    );
    let header = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
    // A tuple with one field where the table has two.
    let mut data = header.clone();
    data.extend([0, 1, 0, 0, 0, 4, 0, 0, 0, 1, 0xff, 0xff]);
    let err = copy(data).await.expect_err("wrong field count");
    assert_eq!(sqlstate(&err), "22P04", "{err}");
    // An int4 field of two bytes.
    let mut data = header.clone();
    data.extend([0, 2, 0, 0, 0, 2, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    let err = copy(data).await.expect_err("short int4");
    assert_eq!(sqlstate(&err), "22P03", "{err}");
    assert_eq!(
        err.as_db_error().unwrap().detail(),
        Some("COPY b, line 1, column a")
    );
    // Nothing was written.
    assert_eq!(support::count(&client, "SELECT count(*) FROM b").await, 0);
    // Inside a transaction block, refused COPY data aborts the block, as a failed
    // statement does: its earlier writes are not committed.
    client.batch_execute("BEGIN").await.unwrap();
    client
        .batch_execute("INSERT INTO b VALUES (1, 'kept?')")
        .await
        .unwrap();
    copy(b"not binary".to_vec()).await.expect_err("not binary");
    let err = client
        .batch_execute("SELECT 1")
        .await
        .expect_err("the block is aborted");
    assert_eq!(sqlstate(&err), "25P02", "{err}");
    client.batch_execute("COMMIT").await.unwrap();
    assert_eq!(support::count(&client, "SELECT count(*) FROM b").await, 0);
}

/// The one bigint of `sql`'s one row.
async fn count(client: &tokio_postgres::Client, sql: &str) -> i64 {
    client
        .query_one(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get::<_, i64>(0)
}

#[tokio::test]
async fn a_read_only_block_reads_every_relation_at_one_snapshot() {
    let server = TestServer::start().expect("server starts");
    let writer = connect(&server).await;
    let reader = connect(&server).await;
    writer
        .batch_execute(
            "CREATE TABLE accounts (id int, balance int);
             INSERT INTO accounts VALUES (1, 100), (2, 100);
             CREATE MATERIALIZED VIEW total AS SELECT sum(balance) AS s FROM accounts;",
        )
        .await
        .unwrap();
    reader.batch_execute("BEGIN READ ONLY").await.unwrap();
    assert_eq!(count(&reader, "SELECT count(*) FROM accounts").await, 2);
    // Changes committed after the block's first read are not seen by the block, in the
    // table or in the materialized view over it.
    writer
        .batch_execute(
            "INSERT INTO accounts VALUES (3, 50); UPDATE accounts SET balance = 0 WHERE id = 1;
             CREATE TABLE later (a int);",
        )
        .await
        .unwrap();
    // Wait until the writes are visible outside the block.
    assert_eq!(count(&writer, "SELECT count(*) FROM accounts").await, 3);
    assert_eq!(count(&reader, "SELECT count(*) FROM accounts").await, 2);
    assert_eq!(count(&reader, "SELECT s FROM total").await, 200);
    assert_eq!(
        count(&reader, "SELECT sum(balance) FROM accounts").await,
        200
    );
    // A relation created after the snapshot cannot be read at it.
    let err = reader
        .query("SELECT * FROM later", &[])
        .await
        .expect_err("a relation newer than the snapshot");
    assert_eq!(sqlstate(&err), "0A000", "{err}");
    reader.batch_execute("ROLLBACK").await.unwrap();
    // After the block, reads see the latest again.
    assert_eq!(count(&reader, "SELECT s FROM total").await, 150);
    // A read-write block reads the latest at each statement.
    reader.batch_execute("BEGIN").await.unwrap();
    assert_eq!(count(&reader, "SELECT count(*) FROM accounts").await, 3);
    writer
        .batch_execute("INSERT INTO accounts VALUES (4, 1)")
        .await
        .unwrap();
    assert_eq!(count(&reader, "SELECT count(*) FROM accounts").await, 4);
    reader.batch_execute("COMMIT").await.unwrap();
}

#[tokio::test]
async fn a_statement_that_does_not_parse_aborts_the_transaction_block() {
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    let code = |e: tokio_postgres::Error| {
        e.as_db_error()
            .map(|d| d.code().code().to_string())
            .unwrap_or_default()
    };
    // Extended protocol: the Parse message fails.
    client.batch_execute("BEGIN").await.unwrap();
    let parse = client.prepare("SELEC 1").await.expect_err("does not parse");
    assert_eq!(code(parse), "42601");
    let next = client
        .query("SELECT 1", &[])
        .await
        .expect_err("block is aborted");
    assert_eq!(code(next), "25P02");
    client.batch_execute("ROLLBACK").await.unwrap();
    // Simple protocol.
    client.batch_execute("BEGIN").await.unwrap();
    let parse = client
        .batch_execute("SELEC 1")
        .await
        .expect_err("does not parse");
    assert_eq!(code(parse), "42601");
    let next = client
        .batch_execute("SELECT 1")
        .await
        .expect_err("block is aborted");
    assert_eq!(code(next), "25P02");
    client.batch_execute("ROLLBACK").await.unwrap();
    // Outside a block nothing is left failed.
    assert!(client.batch_execute("SELEC 1").await.is_err());
    assert_eq!(
        client
            .query_one("SELECT 1", &[])
            .await
            .unwrap()
            .get::<_, i32>(0),
        1
    );
}

#[tokio::test]
async fn if_exists_and_if_not_exists_send_postgres_notices() {
    let server = TestServer::start().expect("server starts");
    let addr = server.addr();
    let (client, mut connection) = tokio_postgres::connect(
        &format!(
            "host={} port={} user=tester dbname=freshet",
            addr.ip(),
            addr.port()
        ),
        NoTls,
    )
    .await
    .expect("connects");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(message)) = messages.next().await {
            if let tokio_postgres::AsyncMessage::Notice(notice) = message {
                let _ = tx.send(format!("{} {}", notice.code().code(), notice.message()));
            }
        }
    });
    client
        .batch_execute(
            "DROP TABLE IF EXISTS nowhere;
             CREATE TABLE t (a int);
             CREATE TABLE IF NOT EXISTS t (a int);
             ALTER TABLE t ADD COLUMN IF NOT EXISTS a int;
             DROP VIEW IF EXISTS v1, v2",
        )
        .await
        .unwrap();
    // Sent before each statement's result, so all are in by now.
    client.execute("SELECT 1", &[]).await.unwrap();
    let mut notices = Vec::new();
    while let Ok(notice) = rx.try_recv() {
        notices.push(notice);
    }
    assert_eq!(
        notices,
        [
            "00000 table \"nowhere\" does not exist, skipping",
            "00000 relation \"t\" already exists, skipping",
            "00000 column \"a\" of relation \"t\" already exists, skipping",
            "00000 view \"v1\" does not exist, skipping",
            "00000 view \"v2\" does not exist, skipping",
        ]
    );
}

//! sqlx (the Rust driver, `sqlx::postgres`, no macros, no TLS) against a Freshet server: each
//! test starts its own server and connects with a `PgConnection` or a `PgPool`. sqlx prepares
//! every parameterized query as a named server-side statement, caches it per connection and
//! binds it again on reuse (closing the oldest when its cache is full), sends every parameter
//! in binary and asks for every result column in binary, and checks each column's type OID
//! against the Rust type it decodes into; so these tests prove Freshet's extended protocol,
//! binary encodings and type OIDs as a second independent client sees them (tokio-postgres is
//! the first, in `tests/pgwire.rs`). sqlx's `Migrator` (what `sqlx::migrate!()` runs at an
//! application's start) applies `sql/migrations/` under its advisory lock.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use futures::TryStreamExt;
use futures::future::BoxFuture;
use rust_decimal::Decimal;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::postgres::types::PgInterval;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Column, Connection, Executor, Row, TypeInfo};
use support::server::TestServer;
use uuid::Uuid;

/// How long one statement may take before a test fails instead of hanging.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

fn options(server: &TestServer) -> PgConnectOptions {
    let addr = server.addr();
    PgConnectOptions::new()
        .host(&addr.ip().to_string())
        .port(addr.port())
        .username("tester")
        .database("freshet")
}

async fn connection(server: &TestServer) -> PgConnection {
    PgConnection::connect_with(&options(server))
        .await
        .expect("sqlx connects")
}

async fn pool(server: &TestServer) -> PgPool {
    PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(STATEMENT_TIMEOUT)
        .connect_with(options(server))
        .await
        .expect("the sqlx pool connects")
}

/// The SQLSTATE of a failed statement, or what else the error was.
fn sqlstate(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()).unwrap_or_default(),
        other => format!("not a database error: {other}"),
    }
}

/// Runs `future` (one statement), failing the test if it takes longer than
/// [`STATEMENT_TIMEOUT`].
async fn bounded<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(STATEMENT_TIMEOUT, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {STATEMENT_TIMEOUT:?}"))
}

#[tokio::test]
async fn a_cached_prepared_statement_is_bound_again_on_every_reuse() {
    let server = TestServer::start().expect("server starts");
    let mut conn = connection(&server).await;
    conn.execute("CREATE TABLE kv (k integer PRIMARY KEY, v text)")
        .await
        .unwrap();
    for k in 0..100i32 {
        let done = sqlx::query("INSERT INTO kv VALUES ($1, $2)")
            .bind(k)
            .bind(format!("value {k}"))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("insert {k}: {e}"));
        assert_eq!(done.rows_affected(), 1);
    }
    for k in (0..100i32).rev() {
        let v: String = sqlx::query_scalar("SELECT v FROM kv WHERE k = $1")
            .bind(k)
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("select {k}: {e}"));
        assert_eq!(v, format!("value {k}"));
    }
    // One server-side statement per query text, each parsed once and bound 100 times.
    assert_eq!(conn.cached_statements_size(), 2);
    let total: i64 = sqlx::query_scalar("SELECT sum(k) FROM kv WHERE k < $1")
        .bind(1000i32)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(total, (0..100).sum::<i64>());
}

#[tokio::test]
async fn statements_evicted_from_a_full_cache_are_closed_and_prepared_again() {
    let server = TestServer::start().expect("server starts");
    // Room for two statements: cycling through three makes sqlx close the oldest on the
    // server (Close, Sync) each time and prepare it again under a new name.
    let mut conn = PgConnection::connect_with(&options(&server).statement_cache_capacity(2))
        .await
        .expect("sqlx connects");
    let queries = [
        "SELECT $1::integer + 1",
        "SELECT $1::integer * 2",
        "SELECT $1::integer - 3",
    ];
    for round in 0..30i32 {
        for (i, sql) in queries.iter().enumerate() {
            let got: i32 = bounded(
                sql,
                sqlx::query_scalar(sql).bind(round).fetch_one(&mut conn),
            )
            .await
            .unwrap_or_else(|e| panic!("round {round}, {sql}: {e}"));
            let want = match i {
                0 => round + 1,
                1 => round * 2,
                _ => round - 3,
            };
            assert_eq!(got, want, "round {round}, {sql}");
        }
    }
    assert_eq!(conn.cached_statements_size(), 2);
}

/// One row of `every_type`, every column nullable.
#[derive(Debug, Clone, PartialEq)]
struct EveryType {
    id: i32,
    b: Option<bool>,
    i2: Option<i16>,
    i4: Option<i32>,
    i8: Option<i64>,
    f4: Option<f32>,
    f8: Option<f64>,
    n: Option<Decimal>,
    t: Option<String>,
    vc: Option<String>,
    c: Option<String>,
    by: Option<Vec<u8>>,
    d: Option<NaiveDate>,
    tm: Option<NaiveTime>,
    ts: Option<NaiveDateTime>,
    tz: Option<DateTime<Utc>>,
    iv: Option<PgInterval>,
    j: Option<serde_json::Value>,
    u: Option<Uuid>,
    ai: Option<Vec<Option<i32>>>,
    al: Option<Vec<i64>>,
    at: Option<Vec<String>>,
}

const EVERY_TYPE_TABLE: &str = "CREATE TABLE every_type (id integer PRIMARY KEY, b boolean, \
     i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision, n numeric(20,4), t text, \
     vc varchar(10), c char(4), by bytea, d date, tm time, ts timestamp, tz timestamptz, \
     iv interval, j jsonb, u uuid, ai integer[], al bigint[], at text[])";

/// The columns of `every_type` in order, with the type name sqlx reads from the OID Freshet
/// describes each with.
const EVERY_TYPE_COLUMNS: [(&str, &str); 22] = [
    ("id", "INT4"),
    ("b", "BOOL"),
    ("i2", "INT2"),
    ("i4", "INT4"),
    ("i8", "INT8"),
    ("f4", "FLOAT4"),
    ("f8", "FLOAT8"),
    ("n", "NUMERIC"),
    ("t", "TEXT"),
    ("vc", "VARCHAR"),
    ("c", "CHAR"),
    ("by", "BYTEA"),
    ("d", "DATE"),
    ("tm", "TIME"),
    ("ts", "TIMESTAMP"),
    ("tz", "TIMESTAMPTZ"),
    ("iv", "INTERVAL"),
    ("j", "JSONB"),
    ("u", "UUID"),
    ("ai", "INT4[]"),
    ("al", "INT8[]"),
    ("at", "TEXT[]"),
];

impl EveryType {
    fn nulls(id: i32) -> EveryType {
        EveryType {
            id,
            b: None,
            i2: None,
            i4: None,
            i8: None,
            f4: None,
            f8: None,
            n: None,
            t: None,
            vc: None,
            c: None,
            by: None,
            d: None,
            tm: None,
            ts: None,
            tz: None,
            iv: None,
            j: None,
            u: None,
            ai: None,
            al: None,
            at: None,
        }
    }

    async fn insert(&self, conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
        let placeholders: Vec<String> = (1..=EVERY_TYPE_COLUMNS.len())
            .map(|i| format!("${i}"))
            .collect();
        let sql = format!(
            "INSERT INTO every_type VALUES ({})",
            placeholders.join(", ")
        );
        let done = sqlx::query(&sql)
            .bind(self.id)
            .bind(self.b)
            .bind(self.i2)
            .bind(self.i4)
            .bind(self.i8)
            .bind(self.f4)
            .bind(self.f8)
            .bind(self.n)
            .bind(&self.t)
            .bind(&self.vc)
            .bind(&self.c)
            .bind(&self.by)
            .bind(self.d)
            .bind(self.tm)
            .bind(self.ts)
            .bind(self.tz)
            .bind(self.iv)
            .bind(&self.j)
            .bind(self.u)
            .bind(&self.ai)
            .bind(&self.al)
            .bind(&self.at)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    }

    fn from_row(row: &PgRow) -> Result<EveryType, sqlx::Error> {
        Ok(EveryType {
            id: row.try_get("id")?,
            b: row.try_get("b")?,
            i2: row.try_get("i2")?,
            i4: row.try_get("i4")?,
            i8: row.try_get("i8")?,
            f4: row.try_get("f4")?,
            f8: row.try_get("f8")?,
            n: row.try_get("n")?,
            t: row.try_get("t")?,
            vc: row.try_get("vc")?,
            c: row.try_get("c")?,
            by: row.try_get("by")?,
            d: row.try_get("d")?,
            tm: row.try_get("tm")?,
            ts: row.try_get("ts")?,
            tz: row.try_get("tz")?,
            iv: row.try_get("iv")?,
            j: row.try_get("j")?,
            u: row.try_get("u")?,
            ai: row.try_get("ai")?,
            al: row.try_get("al")?,
            at: row.try_get("at")?,
        })
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

fn time(h: u32, m: u32, s: u32, micro: u32) -> NaiveTime {
    NaiveTime::from_hms_micro_opt(h, m, s, micro).expect("a valid time")
}

#[tokio::test]
async fn every_type_round_trips_in_binary_through_bind_and_fetch_nulls_included() {
    let server = TestServer::start().expect("server starts");
    let mut conn = connection(&server).await;
    conn.execute(EVERY_TYPE_TABLE).await.unwrap();
    let first = EveryType {
        id: 1,
        b: Some(true),
        i2: Some(i16::MIN),
        i4: Some(i32::MAX),
        i8: Some(-(1i64 << 53) - 1),
        f4: Some(f32::MAX),
        f8: Some(0.1 + 0.2),
        n: Some("12345678901234.5678".parse().unwrap()),
        t: Some("tab\there, \"quotes\", back\\slash, ünïcödé, {braces}".into()),
        vc: Some("ten chars!".into()),
        c: Some("abcd".into()),
        by: Some(vec![0, 1, 0xfe, 0xff, b'\\', b'\'']),
        d: Some(date(2024, 2, 29)),
        tm: Some(time(23, 59, 59, 999_999)),
        ts: Some(date(2024, 2, 29).and_time(time(12, 34, 56, 789_012))),
        tz: Some(
            date(1999, 12, 31)
                .and_time(time(23, 0, 0, 123_456))
                .and_utc(),
        ),
        iv: Some(PgInterval {
            months: 14,
            days: 3,
            microseconds: 4_005_006,
        }),
        j: Some(serde_json::json!({"a": [1, 2.5, null], "b": {"c": "d"}, "e": true})),
        u: Some(Uuid::parse_str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap()),
        ai: Some(vec![Some(1), None, Some(-3)]),
        al: Some(vec![i64::MAX, i64::MIN]),
        at: Some(vec![
            "x".into(),
            "{a, \"b\"}".into(),
            "NULL".into(),
            String::new(),
        ]),
    };
    let second = EveryType {
        id: 2,
        b: Some(false),
        i2: Some(i16::MAX),
        i4: Some(i32::MIN),
        i8: Some(0),
        f4: Some(-0.5),
        f8: Some(-1.0e-300),
        n: Some("-0.0001".parse().unwrap()),
        t: Some(String::new()),
        vc: Some("short".into()),
        c: Some("ab".into()),
        by: Some(Vec::new()),
        d: Some(date(1900, 1, 1)),
        tm: Some(time(0, 0, 0, 0)),
        ts: Some(date(1969, 7, 20).and_time(time(20, 17, 40, 0))),
        tz: Some(date(2038, 1, 19).and_time(time(3, 14, 8, 1)).and_utc()),
        iv: Some(PgInterval {
            months: -1,
            days: 0,
            microseconds: -1,
        }),
        j: Some(serde_json::json!([])),
        u: Some(Uuid::nil()),
        ai: Some(Vec::new()),
        al: Some(vec![42]),
        at: Some(Vec::new()),
    };
    let nulls = EveryType::nulls(3);
    for row in [&first, &second, &nulls] {
        let n = row
            .insert(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("insert row {}: {e}", row.id));
        assert_eq!(n, 1);
    }
    let rows = sqlx::query("SELECT * FROM every_type WHERE id >= $1 ORDER BY id")
        .bind(1i32)
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    let described: Vec<(&str, &str)> = rows[0]
        .columns()
        .iter()
        .map(|c| (c.name(), c.type_info().name()))
        .collect();
    assert_eq!(described, EVERY_TYPE_COLUMNS);
    let got: Vec<EveryType> = rows
        .iter()
        .map(|r| EveryType::from_row(r).expect("every column decodes"))
        .collect();
    // char(4) pads, as PostgreSQL does.
    let second_padded = EveryType {
        c: Some("ab  ".into()),
        ..second.clone()
    };
    assert_eq!(got, vec![first, second_padded, nulls]);
    // numeric(20,4) rounds a bound value with more digits, half away from zero.
    conn.execute("CREATE TABLE money (m numeric(20,4))")
        .await
        .unwrap();
    sqlx::query("INSERT INTO money VALUES ($1), ($2)")
        .bind("1.23455".parse::<Decimal>().unwrap())
        .bind("-2.00005".parse::<Decimal>().unwrap())
        .execute(&mut conn)
        .await
        .unwrap();
    let rounded: Vec<Decimal> = sqlx::query_scalar("SELECT m FROM money ORDER BY m")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        rounded,
        vec![
            "-2.0001".parse::<Decimal>().unwrap(),
            "1.2346".parse().unwrap()
        ]
    );
}

#[tokio::test]
async fn null_parameters_compare_as_null_and_decode_as_none() {
    let server = TestServer::start().expect("server starts");
    let mut conn = connection(&server).await;
    let row = sqlx::query(
        "SELECT $1::integer IS NULL, $1::integer = 1, coalesce($2::text, 'fallback'), $3::bigint[]",
    )
    .bind(None::<i32>)
    .bind(None::<String>)
    .bind(None::<Vec<i64>>)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(row.try_get::<bool, _>(0).unwrap());
    assert_eq!(row.try_get::<Option<bool>, _>(1).unwrap(), None);
    assert_eq!(row.try_get::<String, _>(2).unwrap(), "fallback");
    assert_eq!(row.try_get::<Option<Vec<i64>>, _>(3).unwrap(), None);
    // A NULL read into a non-Option type is sqlx's UnexpectedNull, not a wrong value.
    let err = row
        .try_get::<Vec<i64>, _>(3)
        .expect_err("NULL into Vec<i64>");
    assert!(
        matches!(err, sqlx::Error::ColumnDecode { .. }),
        "a NULL decoded into a plain Vec: {err}"
    );
}

#[tokio::test]
async fn a_committed_transaction_is_kept_and_a_rolled_back_or_dropped_one_is_not() {
    let server = TestServer::start().expect("server starts");
    let pool = pool(&server).await;
    sqlx::query("CREATE TABLE accounts (id integer PRIMARY KEY, balance bigint NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    let count = "SELECT count(*) FROM accounts";

    let mut tx = pool.begin().await.unwrap();
    sqlx::query("INSERT INTO accounts VALUES ($1, $2)")
        .bind(1i32)
        .bind(100i64)
        .execute(&mut *tx)
        .await
        .unwrap();
    let inside: i64 = sqlx::query_scalar(count).fetch_one(&mut *tx).await.unwrap();
    assert_eq!(inside, 1, "the block reads its own write");
    let outside: i64 = sqlx::query_scalar(count).fetch_one(&pool).await.unwrap();
    assert_eq!(
        outside, 0,
        "another session does not see an uncommitted write"
    );
    tx.commit().await.unwrap();
    let after: i64 = sqlx::query_scalar(count).fetch_one(&pool).await.unwrap();
    assert_eq!(after, 1, "the commit is visible to every session");

    let mut tx = pool.begin().await.unwrap();
    sqlx::query("INSERT INTO accounts VALUES ($1, $2)")
        .bind(2i32)
        .bind(50i64)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE accounts SET balance = balance - $1 WHERE id = $2")
        .bind(10i64)
        .bind(1i32)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();

    // Dropping a transaction without commit rolls it back (sqlx sends ROLLBACK before the
    // connection's next statement).
    let mut conn = pool.acquire().await.unwrap();
    {
        let mut tx = conn.begin().await.unwrap();
        sqlx::query("DELETE FROM accounts")
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    let rows: Vec<(i32, i64)> = sqlx::query_as("SELECT id, balance FROM accounts ORDER BY id")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    assert_eq!(rows, vec![(1, 100)]);
    drop(conn);
    let rows: Vec<(i32, i64)> = sqlx::query_as("SELECT id, balance FROM accounts ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(rows, vec![(1, 100)]);
}

#[tokio::test]
async fn errors_carry_postgres_sqlstates_through_sqlx_database_errors() {
    let server = TestServer::start().expect("server starts");
    let pool = pool(&server).await;
    pool.execute("CREATE TABLE t (id integer PRIMARY KEY)")
        .await
        .unwrap();
    pool.execute("INSERT INTO t VALUES (1)").await.unwrap();

    // Prepared (Parse fails) and simple protocol alike.
    let err = sqlx::query("SELECT * FROM missing WHERE a = $1")
        .bind(1i32)
        .fetch_all(&pool)
        .await
        .expect_err("an unknown table");
    assert_eq!(sqlstate(&err), "42P01", "{err}");
    let err = pool
        .execute("SELECT * FROM missing")
        .await
        .expect_err("an unknown table");
    assert_eq!(sqlstate(&err), "42P01", "{err}");

    // An error at execution, from a bound value.
    let err = sqlx::query_scalar::<_, i32>("SELECT 10 / $1::integer")
        .bind(0i32)
        .fetch_one(&pool)
        .await
        .expect_err("division by zero");
    assert_eq!(sqlstate(&err), "22012", "{err}");

    let err = sqlx::query("INSERT INTO t VALUES ($1)")
        .bind(1i32)
        .execute(&pool)
        .await
        .expect_err("a duplicate key");
    assert_eq!(sqlstate(&err), "23505", "{err}");
    let db = err.as_database_error().expect("a database error");
    assert!(db.is_unique_violation(), "{err}");
    assert_eq!(db.constraint(), Some("t_pkey"), "{err}");

    for (sql, code) in [
        ("SELECT nope FROM t", "42703"),
        ("SELEC 1", "42601"),
        ("CREATE TABLE c (a integer CHECK (a > 0))", "0A000"),
    ] {
        let err = pool.execute(sql).await.expect_err(sql);
        assert_eq!(sqlstate(&err), code, "{sql}: {err}");
    }

    // In a block, an error aborts it: later statements fail with 25P02 until ROLLBACK.
    let mut tx = pool.begin().await.unwrap();
    let err = sqlx::query("SELECT * FROM missing")
        .execute(&mut *tx)
        .await
        .expect_err("an unknown table");
    assert_eq!(sqlstate(&err), "42P01", "{err}");
    let err = sqlx::query_scalar::<_, i32>("SELECT $1::integer")
        .bind(1i32)
        .fetch_one(&mut *tx)
        .await
        .expect_err("a statement in an aborted block");
    assert_eq!(sqlstate(&err), "25P02", "{err}");
    tx.rollback().await.unwrap();

    // Every connection of the pool still works.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t WHERE id = $1")
        .bind(1i32)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn fetch_streams_thousands_of_rows_in_order_and_a_dropped_stream_frees_the_connection() {
    let server = TestServer::start().expect("server starts");
    let mut conn = connection(&server).await;
    conn.execute("CREATE TABLE big (id bigint, label text)")
        .await
        .unwrap();
    let rows = 5000i64;
    let done = sqlx::query("INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, $1) g")
        .bind(rows)
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), rows as u64);

    let mut stream =
        sqlx::query_as::<_, (i64, String)>("SELECT id, label FROM big WHERE id > $1 ORDER BY id")
            .bind(0i64)
            .fetch(&mut conn);
    let mut seen = 0i64;
    while let Some((id, label)) = bounded("the next row", stream.try_next())
        .await
        .expect("a row")
    {
        seen += 1;
        assert_eq!(id, seen);
        assert_eq!(label, format!("row {seen}"));
    }
    drop(stream);
    assert_eq!(seen, rows);

    // Reading ten rows and dropping the stream: sqlx drains the rest, the connection goes on.
    let mut stream =
        sqlx::query_scalar::<_, i64>("SELECT id FROM big ORDER BY id DESC").fetch(&mut conn);
    for want in (rows - 9..=rows).rev() {
        let id = bounded("the next row", stream.try_next())
            .await
            .expect("a row")
            .expect("not the end yet");
        assert_eq!(id, want);
    }
    drop(stream);
    let n: i64 = bounded(
        "a count after a dropped stream",
        sqlx::query_scalar("SELECT count(*) FROM big WHERE label LIKE $1")
            .bind("row 1%")
            .fetch_one(&mut conn),
    )
    .await
    .unwrap();
    assert_eq!(n, 1 + 10 + 100 + 1000);
}

#[tokio::test]
async fn a_materialized_view_read_through_sqlx_follows_inserts_updates_and_deletes() {
    let server = TestServer::start().expect("server starts");
    let pool = pool(&server).await;
    pool.execute(
        "CREATE TABLE orders (id integer PRIMARY KEY, customer text NOT NULL, amount numeric(10,2))",
    )
    .await
    .unwrap();
    pool.execute(
        "CREATE MATERIALIZED VIEW revenue AS SELECT customer, count(*) AS orders, \
         sum(amount) AS total FROM orders GROUP BY customer",
    )
    .await
    .unwrap();
    let read = || async {
        sqlx::query_as::<_, (String, i64, Decimal)>(
            "SELECT customer, orders, total FROM revenue ORDER BY customer",
        )
        .fetch_all(&pool)
        .await
        .expect("reads the view")
    };
    let dec = |s: &str| s.parse::<Decimal>().unwrap();
    assert_eq!(read().await, vec![]);

    for (id, customer, amount) in [(1, "ann", "10.50"), (2, "bob", "3.00"), (3, "ann", "4.25")] {
        sqlx::query("INSERT INTO orders VALUES ($1, $2, $3)")
            .bind(id)
            .bind(customer)
            .bind(dec(amount))
            .execute(&pool)
            .await
            .unwrap();
    }
    assert_eq!(
        read().await,
        vec![
            ("ann".to_string(), 2, dec("14.75")),
            ("bob".to_string(), 1, dec("3.00"))
        ]
    );

    sqlx::query("UPDATE orders SET amount = amount + $1 WHERE customer = $2")
        .bind(dec("1.00"))
        .bind("bob")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM orders WHERE id = $1")
        .bind(1i32)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO orders VALUES ($1, $2, $3)")
        .bind(4i32)
        .bind("cy")
        .bind(dec("0.01"))
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        read().await,
        vec![
            ("ann".to_string(), 1, dec("4.25")),
            ("bob".to_string(), 1, dec("4.00")),
            ("cy".to_string(), 1, dec("0.01"))
        ]
    );
}

/// `sql/migrations/`, whose files are in dbmate's format (`-- migrate:up` and `-- migrate:down`
/// parts in one `<version>_<name>.sql`), as sqlx's reversible migrations.
#[derive(Debug)]
struct DbmateMigrations(PathBuf);

impl MigrationSource<'static> for DbmateMigrations {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move { dbmate_migrations(&self.0) })
    }
}

/// Each `<version>_<name>.sql` of `dir` as an up and a down migration, in version order; a
/// file without both parts is an error.
fn dbmate_migrations(dir: &Path) -> Result<Vec<Migration>, BoxDynError> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "sql") {
            files.push(path);
        }
    }
    files.sort();
    let mut migrations = Vec::new();
    for path in files {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let (version, name) = stem
            .split_once('_')
            .ok_or_else(|| format!("{}: not <version>_<name>.sql", path.display()))?;
        let text = std::fs::read_to_string(&path)?;
        let [(up, up_no_tx), (down, down_no_tx)] = dbmate_parts(&text)
            .ok_or_else(|| format!("{}: no -- migrate:up or -- migrate:down", path.display()))?;
        let description = name.replace('_', " ");
        let version: i64 = version.parse()?;
        migrations.push(Migration::new(
            version,
            description.clone().into(),
            MigrationType::ReversibleUp,
            up.into(),
            up_no_tx,
        ));
        migrations.push(Migration::new(
            version,
            description.into(),
            MigrationType::ReversibleDown,
            down.into(),
            down_no_tx,
        ));
    }
    Ok(migrations)
}

/// The `-- migrate:up` and `-- migrate:down` parts of a dbmate migration, each with whether its
/// marker says `transaction:false`.
fn dbmate_parts(text: &str) -> Option<[(String, bool); 2]> {
    let mut parts: [Option<(String, bool)>; 2] = [None, None];
    let mut current = None;
    for line in text.lines() {
        let marker = if line.starts_with("-- migrate:up") {
            Some(0)
        } else if line.starts_with("-- migrate:down") {
            Some(1)
        } else {
            None
        };
        if let Some(i) = marker {
            parts[i] = Some((String::new(), line.contains("transaction:false")));
            current = Some(i);
        } else if let Some((sql, _)) = current.and_then(|i| parts[i].as_mut()) {
            sql.push_str(line);
            sql.push('\n');
        }
    }
    let [up, down] = parts;
    Some([up?, down?])
}

/// The advisory lock key sqlx's Postgres `Migrator` takes for a database: sqlx-postgres 0.8's
/// `generate_lock_id`, 0x3d32ad9e times the CRC-32 of the database name.
fn migrator_lock_key(database: &str) -> i64 {
    0x3d32_ad9e * i64::from(crc32fast::hash(database.as_bytes()))
}

/// `name|relkind` of the relations `sql/migrations/` creates (and `_sqlx_migrations`) that
/// exist, by name.
async fn migrated_relations(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname || '|' || c.relkind::text FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relname = ANY($1) ORDER BY c.relname",
    )
    .bind(vec![
        "readings",
        "high_readings",
        "sensor_stats",
        "sensor_stats_sensor_idx",
        "_sqlx_migrations",
    ])
    .fetch_all(pool)
    .await
    .expect("reads pg_class")
}

#[tokio::test]
async fn the_sqlx_migrator_waits_for_its_advisory_lock_then_applies_and_undoes_the_migrations() {
    let server = TestServer::start().expect("server starts");
    let pool = pool(&server).await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/migrations");
    let migrator = std::sync::Arc::new(
        Migrator::new(DbmateMigrations(dir.clone()))
            .await
            .expect("sql/migrations splits into up and down migrations"),
    );
    let versions: Vec<i64> = migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| m.version)
        .collect();
    assert_eq!(versions.len(), dbmate_migrations(&dir).unwrap().len() / 2);

    // Another session holds the migrator's lock: the migrator waits, and does nothing.
    let mut holder = connection(&server).await;
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut holder)
        .await
        .unwrap();
    let key = migrator_lock_key(&database);
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(key)
        .execute(&mut holder)
        .await
        .expect("takes the migrator's lock");
    let run = tokio::spawn({
        let (migrator, pool) = (migrator.clone(), pool.clone());
        async move { migrator.run(&pool).await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !run.is_finished(),
        "the migrator ran while its lock was held"
    );
    assert_eq!(migrated_relations(&pool).await, Vec::<String>::new());
    let released: bool = sqlx::query_scalar("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .fetch_one(&mut holder)
        .await
        .unwrap();
    assert!(released);
    bounded("the migrator, once its lock is free", run)
        .await
        .expect("the migrator task")
        .expect("the migrator applies every migration");

    let applied: Vec<(i64, bool)> =
        sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&pool)
            .await
            .unwrap();
    let want: Vec<(i64, bool)> = versions.iter().map(|v| (*v, true)).collect();
    assert_eq!(applied, want);
    assert_eq!(
        migrated_relations(&pool).await,
        [
            "_sqlx_migrations|r",
            "high_readings|v",
            "readings|r",
            "sensor_stats|m",
            "sensor_stats_sensor_idx|i"
        ]
    );
    // The migrator let its lock go.
    let free: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(&mut holder)
        .await
        .unwrap();
    assert!(free, "the migrator kept its advisory lock");
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut holder)
        .await
        .unwrap();

    sqlx::query("INSERT INTO readings VALUES ($1, $2, $3, now())")
        .bind(1i64)
        .bind("a")
        .bind(150.0f64)
        .execute(&pool)
        .await
        .unwrap();
    let stats: (String, i64, f64) =
        sqlx::query_as("SELECT sensor, readings, max_value FROM sensor_stats")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(stats, ("a".to_string(), 1, 150.0));

    // A second run applies nothing; undo to version 0 reverts every migration.
    migrator.run(&pool).await.expect("a second run");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, versions.len() as i64);
    migrator
        .undo(&pool, 0)
        .await
        .expect("undo reverts them all");
    assert_eq!(migrated_relations(&pool).await, ["_sqlx_migrations|r"]);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

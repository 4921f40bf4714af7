//! `freshet bench serve`: what a client of a running server sees, through tokio-postgres.
//!
//! - `insert_to_subscribe` at 1,000 and 100,000 rows/s: writers insert rows on a fixed
//!   schedule (a batch every millisecond, split over `WRITERS` connections, each INSERT one
//!   durable write) into a table under a materialized view, and a `COPY (SUBSCRIBE ...)`
//!   stream of the view receives them. Each row carries the microsecond it was sent at, so
//!   its latency is its arrival time minus that: INSERT, commit, dataflow, stream.
//! - `point_select` with 1, 8 and 64 clients: a prepared `SELECT ... WHERE k = $1` on a
//!   materialized view with an index on `k` (a point lookup in the index's arrangement),
//!   each client cycling through 10,000 keys for `--seconds`.
//! - `full_scan`: `SELECT *` of a materialized view of `--scan-rows` rows, 5 times.
//!
//! The benchmark's objects are named `bench_serve_*`; they are dropped before and after.
//! Output: one JSON line per figure.

use futures::StreamExt;
use serde_json::json;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_postgres::{Client, NoTls};

/// Connections that share the INSERTs of `insert_to_subscribe`: while one waits for its
/// commit, the others' rows join the next group commit.
const WRITERS: u64 = 4;

/// How often the writers send a batch, together.
const SEND_INTERVAL: Duration = Duration::from_millis(1);

/// Distinct keys of `point_select`.
const KEYS: i32 = 10_000;

/// How long the stream may lag behind the last INSERT before the rows it has not
/// delivered count as lost and the run fails.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    /// The server to measure, as a libpq connection string or URL.
    #[arg(
        long,
        default_value = "host=127.0.0.1 port=6875 user=bench dbname=freshet"
    )]
    url: String,
    /// Seconds of each insert and point-select run.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Rows of the view `full_scan` reads.
    #[arg(long, default_value_t = 1_000_000)]
    scan_rows: u64,
}

pub fn run(args: ServeArgs) -> ExitCode {
    let runtime = match super::child_process::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(measure(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn measure(args: &ServeArgs) -> Result<(), String> {
    let setup = connect(&args.url).await?;
    drop_objects(&setup).await?;
    for rate in [1_000, 100_000] {
        println!("{}", insert_to_subscribe(args, rate).await?);
    }
    point_select_setup(&setup).await?;
    for clients in [1, 8, 64] {
        println!("{}", point_select(args, clients).await?);
    }
    println!("{}", full_scan(args, &setup).await?);
    drop_objects(&setup).await
}

async fn connect(url: &str) -> Result<Client, String> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| format!("cannot connect to {url}: {e}"))?;
    tokio::spawn(connection);
    Ok(client)
}

async fn drop_objects(client: &Client) -> Result<(), String> {
    client
        .batch_execute(
            "DROP TABLE IF EXISTS bench_serve_events CASCADE;
             DROP TABLE IF EXISTS bench_serve_kv CASCADE;
             DROP TABLE IF EXISTS bench_serve_scan CASCADE;",
        )
        .await
        .map_err(|e| format!("dropping the benchmark's objects: {e}"))
}

fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    (sorted[i].as_secs_f64() * 1e6).round() / 1e3
}

async fn insert_to_subscribe(args: &ServeArgs, rate: u64) -> Result<serde_json::Value, String> {
    let setup = connect(&args.url).await?;
    setup
        .batch_execute(
            "DROP TABLE IF EXISTS bench_serve_events CASCADE;
             CREATE TABLE bench_serve_events (sent_micros bigint, payload text);
             CREATE MATERIALIZED VIEW bench_serve_events_mv AS
                 SELECT sent_micros, payload FROM bench_serve_events WHERE sent_micros >= 0;",
        )
        .await
        .map_err(|e| format!("insert_to_subscribe setup: {e}"))?;
    let reader = connect(&args.url).await?;
    let stream = reader
        .copy_out("COPY (SUBSCRIBE bench_serve_events_mv WITH (SNAPSHOT = false)) TO STDOUT")
        .await
        .map_err(|e| format!("SUBSCRIBE: {e}"))?;
    let start = Instant::now();
    let sent = Arc::new(AtomicU64::new(0));
    let run_for = Duration::from_secs(args.seconds);
    let per_send = rate as f64 * SEND_INTERVAL.as_secs_f64() / WRITERS as f64;
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let client = connect(&args.url).await?;
        let sent = Arc::clone(&sent);
        writers.push(tokio::spawn(async move {
            let insert = client
                .prepare(
                    "INSERT INTO bench_serve_events \
                     SELECT $1::bigint, 'x' FROM generate_series(1, $2::int)",
                )
                .await
                .map_err(|e| format!("prepare INSERT: {e}"))?;
            // Batch k of this writer is due at k * SEND_INTERVAL (plus an offset so that
            // the writers take turns); its size keeps the total at `rate` on average.
            let mut k: u64 = 0;
            let mut owed = 0.0f64;
            loop {
                let due = SEND_INTERVAL.mul_f64(k as f64 + w as f64 / WRITERS as f64);
                if due >= run_for {
                    break;
                }
                if let Some(wait) = due.checked_sub(start.elapsed()) {
                    tokio::time::sleep(wait).await;
                }
                owed += per_send;
                let rows = owed.floor();
                owed -= rows;
                k += 1;
                if rows < 1.0 {
                    continue;
                }
                let sent_micros = start.elapsed().as_micros() as i64;
                client
                    .execute(&insert, &[&sent_micros, &(rows as i32)])
                    .await
                    .map_err(|e| format!("INSERT: {e}"))?;
                sent.fetch_add(rows as u64, Ordering::Relaxed);
            }
            Ok::<(), String>(())
        }));
    }
    let mut stream = Box::pin(stream);
    let mut latencies = Vec::with_capacity((rate * args.seconds) as usize);
    let mut writers_done = false;
    let mut drain_deadline = None;
    loop {
        if !writers_done && writers.iter().all(|w| w.is_finished()) {
            writers_done = true;
            drain_deadline = Some(Instant::now() + DRAIN_TIMEOUT);
            for w in writers.drain(..) {
                w.await.map_err(|e| format!("writer: {e}"))??;
            }
        }
        if writers_done && latencies.len() as u64 >= sent.load(Ordering::Relaxed) {
            break;
        }
        if drain_deadline.is_some_and(|d| Instant::now() > d) {
            return Err(format!(
                "insert_to_subscribe at {rate} rows/s: {} of {} rows arrived",
                latencies.len(),
                sent.load(Ordering::Relaxed)
            ));
        }
        let chunk = match tokio::time::timeout(Duration::from_millis(50), stream.next()).await {
            Err(_) => continue,
            Ok(None) => return Err("the SUBSCRIBE stream ended".into()),
            Ok(Some(Err(e))) => return Err(format!("SUBSCRIBE stream: {e}")),
            Ok(Some(Ok(chunk))) => chunk,
        };
        let arrived = start.elapsed();
        // Lines: "<timestamp>\t<diff>\t<sent_micros>\t<payload>".
        for line in String::from_utf8_lossy(&chunk).lines() {
            let mut fields = line.split('\t');
            let (Some(_), Some(diff), Some(sent_micros)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Err(format!("unexpected SUBSCRIBE line {line:?}"));
            };
            let (Ok(diff), Ok(sent_micros)) = (diff.parse::<i64>(), sent_micros.parse::<u64>())
            else {
                return Err(format!("unexpected SUBSCRIBE line {line:?}"));
            };
            let latency = arrived.saturating_sub(Duration::from_micros(sent_micros));
            for _ in 0..diff.max(0) {
                latencies.push(latency);
            }
        }
    }
    latencies.sort();
    let rows = latencies.len();
    Ok(json!({
        "bench": "insert_to_subscribe",
        "rate_rows_per_sec": rate,
        "seconds": args.seconds,
        "rows": rows,
        "achieved_rows_per_sec": (rows as f64 / args.seconds as f64).round(),
        "p50_ms": percentile_ms(&latencies, 0.50),
        "p99_ms": percentile_ms(&latencies, 0.99),
        "max_ms": percentile_ms(&latencies, 1.0),
    }))
}

async fn point_select_setup(setup: &Client) -> Result<(), String> {
    setup
        .batch_execute(&format!(
            "CREATE TABLE bench_serve_kv (k int, v int);
             INSERT INTO bench_serve_kv SELECT g, g FROM generate_series(1, {KEYS}) AS g;
             CREATE MATERIALIZED VIEW bench_serve_kv_sum AS
                 SELECT k, sum(v) AS total, count(*) AS n FROM bench_serve_kv GROUP BY k;
             CREATE INDEX bench_serve_kv_sum_k ON bench_serve_kv_sum (k);"
        ))
        .await
        .map_err(|e| format!("point_select setup: {e}"))
}

async fn point_select(args: &ServeArgs, clients: usize) -> Result<serde_json::Value, String> {
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let client = connect(&args.url).await?;
        tasks.push(tokio::spawn(async move {
            let select = client
                .prepare("SELECT total, n FROM bench_serve_kv_sum WHERE k = $1")
                .await
                .map_err(|e| format!("prepare SELECT: {e}"))?;
            let mut latencies = Vec::new();
            let mut k = (c as i32 * 7919) % KEYS + 1;
            while Instant::now() < deadline {
                let started = Instant::now();
                let rows = client
                    .query(&select, &[&k])
                    .await
                    .map_err(|e| format!("point SELECT: {e}"))?;
                if rows.len() != 1 {
                    return Err(format!("key {k} gave {} rows, not 1", rows.len()));
                }
                latencies.push(started.elapsed());
                k = k % KEYS + 1;
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.map_err(|e| format!("client: {e}"))??);
    }
    all.sort();
    Ok(json!({
        "bench": "point_select",
        "clients": clients,
        "seconds": args.seconds,
        "queries": all.len(),
        "queries_per_sec": (all.len() as f64 / args.seconds as f64).round(),
        "p50_ms": percentile_ms(&all, 0.50),
        "p99_ms": percentile_ms(&all, 0.99),
    }))
}

async fn full_scan(args: &ServeArgs, setup: &Client) -> Result<serde_json::Value, String> {
    setup
        .batch_execute(&format!(
            "CREATE TABLE bench_serve_scan (id bigint, v bigint);
             INSERT INTO bench_serve_scan SELECT g, g * 3 FROM generate_series(1, {}) AS g;
             CREATE MATERIALIZED VIEW bench_serve_scan_mv AS
                 SELECT id, v, id + v AS s FROM bench_serve_scan;",
            args.scan_rows
        ))
        .await
        .map_err(|e| format!("full_scan setup: {e}"))?;
    let select = setup
        .prepare("SELECT id, v, s FROM bench_serve_scan_mv")
        .await
        .map_err(|e| format!("prepare SELECT: {e}"))?;
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let rows = setup
            .query(&select, &[])
            .await
            .map_err(|e| format!("full scan: {e}"))?;
        if rows.len() as u64 != args.scan_rows {
            return Err(format!(
                "the scan gave {} rows, not {}",
                rows.len(),
                args.scan_rows
            ));
        }
        times.push(started.elapsed());
    }
    times.sort();
    let median = times[times.len() / 2];
    Ok(json!({
        "bench": "full_scan",
        "rows": args.scan_rows,
        "runs": times.len(),
        "p50_ms": percentile_ms(&times, 0.5),
        "max_ms": percentile_ms(&times, 1.0),
        "rows_per_sec": (args.scan_rows as f64 / median.as_secs_f64()).round(),
    }))
}

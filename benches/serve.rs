//! Serving benchmarks (a program, not a timed test): starts Freshet in-process on a free
//! loopback port with a temporary data directory and measures, through tokio-postgres:
//!
//! - `insert_to_subscribe`: latency from sending an INSERT to seeing the row arrive on a
//!   `COPY (SUBSCRIBE ...) TO STDOUT` stream of a materialized view over the table;
//! - `point_select`: `SELECT ... WHERE k = $1` on an indexed materialized view, with 1 and 8
//!   concurrent clients: latency percentiles and queries per second.
//!
//! Each result is one JSON line. Run: `cargo bench --bench serve` (env `FRESHET_BENCH_SECONDS`
//! sets the duration of each point-select run, default 5; `FRESHET_BENCH_INSERTS` the number
//! of timed inserts, default 1000).

use futures::StreamExt;
use std::time::{Duration, Instant};
use tokio_postgres::NoTls;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

async fn connect(port: u16) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(
        &format!("host=127.0.0.1 port={port} user=bench dbname=freshet"),
        NoTls,
    )
    .await
    .expect("connect to the benchmark server");
    tokio::spawn(conn);
    client
}

fn main() {
    let workers: usize = std::env::var("FRESHET_BENCH_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(2);
    let seconds: u64 = std::env::var("FRESHET_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let inserts: usize = std::env::var("FRESHET_BENCH_INSERTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let data_dir = std::env::temp_dir().join(format!("freshet-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data_dir);
        let client = freshet::coord::start(freshet::coord::Config {
            data_dir: data_dir.clone(),
            workers,
        })
        .await
        .expect("start freshet");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("local addr").port();
        tokio::spawn(freshet::server::serve(listener, client));

        insert_to_subscribe(port, workers, inserts).await;
        point_select(port, workers, seconds).await;
        let _ = std::fs::remove_dir_all(&data_dir);
    });
}

async fn insert_to_subscribe(port: u16, workers: usize, inserts: usize) {
    let writer = connect(port).await;
    writer.batch_execute("CREATE TABLE events (id bigint, payload text); CREATE MATERIALIZED VIEW events_mv AS SELECT id, payload FROM events WHERE id >= 0").await.expect("setup");
    let reader = connect(port).await;
    let stream = reader
        .copy_out("COPY (SUBSCRIBE events_mv WITH (SNAPSHOT = false)) TO STDOUT")
        .await
        .expect("subscribe");
    let mut stream = Box::pin(stream);
    let mut latencies = Vec::with_capacity(inserts);
    for i in 0..inserts {
        let started = Instant::now();
        writer
            .execute("INSERT INTO events VALUES ($1, 'x')", &[&(i as i64)])
            .await
            .expect("insert");
        // Wait for the line carrying this id: "<ts>\t1\t<id>\tx".
        let wanted = format!("\t{i}\t");
        loop {
            let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("the row arrives within 10 s")
                .expect("stream open")
                .expect("copy data");
            if String::from_utf8_lossy(&chunk).contains(&wanted) {
                break;
            }
        }
        latencies.push(started.elapsed());
    }
    latencies.sort();
    println!(
        "{{\"bench\":\"insert_to_subscribe\",\"workers\":{workers},\"inserts\":{inserts},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"max_ms\":{:.3}}}",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0)
    );
}

async fn point_select(port: u16, workers: usize, seconds: u64) {
    const KEYS: i32 = 10_000;
    let setup = connect(port).await;
    setup
        .batch_execute(
            "CREATE TABLE kv (k int, v int);
             CREATE MATERIALIZED VIEW kv_sum AS SELECT k, sum(v) AS total, count(*) AS n FROM kv GROUP BY k;
             CREATE INDEX kv_sum_k ON kv_sum (k);",
        )
        .await
        .expect("setup");
    for chunk in (1..=KEYS).collect::<Vec<_>>().chunks(1000) {
        let values: Vec<String> = chunk.iter().map(|k| format!("({k}, {k})")).collect();
        setup
            .batch_execute(&format!("INSERT INTO kv VALUES {}", values.join(",")))
            .await
            .expect("load");
    }
    for clients in [1usize, 8] {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for c in 0..clients {
            tasks.push(tokio::spawn(async move {
                let client = connect(port).await;
                let stmt = client
                    .prepare("SELECT total, n FROM kv_sum WHERE k = $1")
                    .await
                    .expect("prepare");
                let mut latencies = Vec::new();
                let mut k = (c as i32 * 7919) % KEYS + 1;
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let rows = client.query(&stmt, &[&k]).await.expect("point select");
                    assert_eq!(rows.len(), 1, "key {k} has one row");
                    latencies.push(started.elapsed());
                    k = k % KEYS + 1;
                }
                latencies
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.expect("client task"));
        }
        all.sort();
        println!(
            "{{\"bench\":\"point_select\",\"workers\":{workers},\"clients\":{clients},\"seconds\":{seconds},\"queries\":{},\"qps\":{:.0},\"p50_ms\":{:.3},\"p99_ms\":{:.3}}}",
            all.len(),
            all.len() as f64 / seconds as f64,
            percentile(&all, 0.50),
            percentile(&all, 0.99)
        );
    }
}

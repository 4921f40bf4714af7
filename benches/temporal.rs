//! Time benchmarks (a program, not a timed test). Starts the release `freshet` binary with a
//! fresh data directory and prints one JSON line per figure:
//!
//! - `temporal_memory`: a table receives rows at a constant rate (`created_at = now()`), and
//!   a writer deletes rows older than the window plus a margin (as an upstream retention
//!   would), while two materialized views keep the last `window` of them (one aggregated per
//!   user, one the raw rows). Every 10 s: the server's resident memory and the rows in the
//!   views. Flat memory means expired rows are released.
//! - `alert_latency`: from sending the INSERT of a fifth failed login to the alert row
//!   (`HAVING count(*) >= 5` over the last minute) arriving on a `SUBSCRIBE`, p50/p99/max.
//!
//! Run: `cargo bench --bench temporal`. `FRESHET_BENCH_WINDOW_SECS` (default 30) and
//! `FRESHET_BENCH_SECONDS` (default 120) size the memory run (the figure in
//! docs/benchmarks.md uses 300 and 1200: a 5-minute view for 20 minutes);
//! `FRESHET_BENCH_ROWS_PER_SEC` (default 2000); `FRESHET_BENCH_ALERTS` (default 200).

mod support;

use futures::StreamExt;
use std::time::{Duration, Instant};
use support::{connect, start_fresh};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Resident memory of process `pid`, from /proc.
fn rss_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn one_number(client: &tokio_postgres::Client, sql: &str) -> i64 {
    client
        .query_one(sql, &[])
        .await
        .map(|r| r.get::<_, Option<i64>>(0).unwrap_or(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn temporal_memory(addr: std::net::SocketAddr, pid: u32) {
    let window = env_u64("FRESHET_BENCH_WINDOW_SECS", 30);
    let seconds = env_u64("FRESHET_BENCH_SECONDS", 120);
    let rate = env_u64("FRESHET_BENCH_ROWS_PER_SEC", 2_000);
    let client = connect(addr).await;
    client
        .batch_execute(&format!(
            "CREATE TABLE events (user_id bigint, payload text, created_at timestamptz);
             CREATE MATERIALIZED VIEW recent_per_user AS
               SELECT user_id, count(*) AS n FROM events
               WHERE created_at > now() - INTERVAL '{window} seconds' GROUP BY user_id;
             CREATE MATERIALIZED VIEW recent_rows AS
               SELECT * FROM events WHERE created_at > now() - INTERVAL '{window} seconds';"
        ))
        .await
        .expect("setup");
    // Ten batches a second; a deleter trims rows well past the window every second.
    let batch = (rate / 10).max(1);
    let values: Vec<String> = (0..batch)
        .map(|g| {
            format!(
                "({}, 'payload of about forty bytes, row {g}', now())",
                g % 1000
            )
        })
        .collect();
    let insert = format!("INSERT INTO events VALUES {}", values.join(", "));
    let trim = format!(
        "DELETE FROM events WHERE created_at < now() - INTERVAL '{} seconds'",
        window + 10
    );
    let started = Instant::now();
    let mut next_report = Duration::ZERO;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut ticks: u64 = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        tick.tick().await;
        client.batch_execute(&insert).await.expect("insert");
        ticks += 1;
        if ticks.is_multiple_of(10) {
            client.batch_execute(&trim).await.expect("trim");
        }
        if started.elapsed() >= next_report {
            let view_rows = one_number(&client, "SELECT count(*) FROM recent_rows").await;
            let per_user = one_number(&client, "SELECT sum(n)::bigint FROM recent_per_user").await;
            println!(
                "{{\"bench\":\"temporal_memory\",\"window_s\":{window},\"rows_per_sec\":{rate},\"elapsed_s\":{},\"rss_bytes\":{},\"view_rows\":{view_rows},\"per_user_total\":{per_user}}}",
                started.elapsed().as_secs(),
                rss_bytes(pid)
            );
            next_report += Duration::from_secs(10);
        }
    }
}

async fn alert_latency(addr: std::net::SocketAddr) {
    let alerts = env_u64("FRESHET_BENCH_ALERTS", 200);
    let client = connect(addr).await;
    client
        .batch_execute(
            "CREATE TABLE logins (ip text, ok boolean, at timestamptz);
             CREATE MATERIALIZED VIEW failed_login_alerts AS
               SELECT ip, count(*) AS failures FROM logins
               WHERE NOT ok AND at > now() - INTERVAL '1 minute'
               GROUP BY ip HAVING count(*) >= 5;",
        )
        .await
        .expect("setup");
    let subscriber = connect(addr).await;
    let stream = subscriber
        .copy_out("COPY (SUBSCRIBE failed_login_alerts WITH (SNAPSHOT = false)) TO STDOUT")
        .await
        .expect("subscribe");
    futures::pin_mut!(stream);
    let insert = client
        .prepare("INSERT INTO logins VALUES ($1, false, now())")
        .await
        .expect("prepare");
    let mut latencies = Vec::new();
    for i in 0..alerts {
        let ip = format!("198.51.100.{}-{i}", i % 250);
        for _ in 0..4 {
            client.execute(&insert, &[&ip]).await.expect("insert");
        }
        let sent = Instant::now();
        client.execute(&insert, &[&ip]).await.expect("insert");
        // Wait for this address's alert: a +1 row with 5 failures.
        let wanted = format!("\t1\t{ip}\t5");
        let mut buffer = String::new();
        loop {
            let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("the alert arrives within 10 s")
                .expect("stream open")
                .expect("copy data");
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            if buffer.lines().any(|l| l.contains(&wanted)) {
                break;
            }
        }
        latencies.push(sent.elapsed());
    }
    latencies.sort();
    println!(
        "{{\"bench\":\"alert_latency\",\"alerts\":{},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"max_ms\":{:.2}}}",
        latencies.len(),
        percentile_ms(&latencies, 0.5),
        percentile_ms(&latencies, 0.99),
        percentile_ms(&latencies, 1.0)
    );
}

fn main() {
    let (data, runtime, mut child, addr) = start_fresh("temporal");
    runtime.block_on(async {
        alert_latency(addr).await;
        temporal_memory(addr, child.id()).await;
    });
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&data);
}

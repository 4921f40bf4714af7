//! Durability benchmarks (a program, not a timed test). Starts the release `freshet` binary on
//! a free loopback port with a fresh data directory and prints one JSON line per figure:
//!
//! - `insert`: INSERT throughput (rows/s) with 1 and 16 concurrent clients, one row per
//!   statement, each acknowledged only once durable (group commit shares the fsyncs);
//! - `copy`: `COPY ... FROM STDIN` of N rows (rows/s, MB/s), one durable write;
//! - `restart`: with those rows and a materialized view over them, the time from starting a
//!   killed (SIGKILL) server to its first answer of `SELECT count(*)` on the view;
//! - `disk`: bytes in the data directory per stored row.
//!
//! Run: `cargo bench --bench durability` (`FRESHET_BENCH_ROWS`, default 1,000,000;
//! `FRESHET_BENCH_SECONDS` per insert run, default 5; `FRESHET_BENCH_WORKERS`, default 2).

mod support;

use futures::SinkExt;
use std::path::Path;
use std::time::{Duration, Instant};
use support::{connect, start, start_fresh, wait_listening};

fn dir_bytes(path: &Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            let p = entry.path();
            total += if p.is_dir() {
                dir_bytes(&p)
            } else {
                entry.metadata().map(|m| m.len()).unwrap_or(0)
            };
        }
    }
    total
}

fn main() {
    let rows: usize = std::env::var("FRESHET_BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let seconds: u64 = std::env::var("FRESHET_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let (data, runtime, mut child, addr) = start_fresh("durability");
    runtime.block_on(async {
        let setup = connect(addr).await;
        setup.batch_execute("CREATE TABLE ins (client int, seq int)").await.expect("setup");
        for clients in [1usize, 16] {
            let deadline = Instant::now() + Duration::from_secs(seconds);
            let mut tasks = Vec::new();
            for c in 0..clients {
                tasks.push(tokio::spawn(async move {
                    let client = connect(addr).await;
                    let stmt = client.prepare("INSERT INTO ins VALUES ($1, $2)").await.expect("prepare");
                    let mut n = 0i32;
                    while Instant::now() < deadline {
                        client.execute(&stmt, &[&(c as i32), &n]).await.expect("insert");
                        n += 1;
                    }
                    n as u64
                }));
            }
            let mut total = 0;
            for t in tasks {
                total += t.await.expect("client");
            }
            println!(
                "{{\"bench\":\"insert\",\"clients\":{clients},\"seconds\":{seconds},\"rows\":{total},\"rows_per_sec\":{:.0}}}",
                total as f64 / seconds as f64
            );
        }
        setup
            .batch_execute("CREATE TABLE loaded (id bigint, name text, amount numeric(10,2)); CREATE MATERIALIZED VIEW loaded_summary AS SELECT count(*) AS n, sum(amount) AS total FROM loaded")
            .await
            .expect("setup");
        let mut payload = Vec::with_capacity(rows * 32);
        for i in 0..rows {
            payload.extend_from_slice(format!("{i}\tcustomer-{}\t{}.{:02}\n", i % 1000, i % 500, i % 100).as_bytes());
        }
        let started = Instant::now();
        let sink = setup.copy_in("COPY loaded FROM STDIN").await.expect("copy");
        let mut sink = Box::pin(sink);
        for chunk in payload.chunks(1 << 20) {
            sink.send(bytes::Bytes::copy_from_slice(chunk)).await.expect("copy data");
        }
        let copied = sink.as_mut().finish().await.expect("copy done");
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "{{\"bench\":\"copy\",\"rows\":{copied},\"bytes\":{},\"seconds\":{elapsed:.3},\"rows_per_sec\":{:.0},\"mb_per_sec\":{:.1}}}",
            payload.len(),
            copied as f64 / elapsed,
            payload.len() as f64 / elapsed / 1e6
        );
        let n: i64 = setup.query_one("SELECT n FROM loaded_summary", &[]).await.expect("view").get(0);
        assert_eq!(n as usize, rows);
    });
    let _ = child.kill();
    let _ = child.wait();
    let stored_rows = rows as u64;
    println!(
        "{{\"bench\":\"disk\",\"rows\":{stored_rows},\"bytes\":{},\"bytes_per_row\":{:.1}}}",
        dir_bytes(&data),
        dir_bytes(&data) as f64 / stored_rows as f64
    );
    let started = Instant::now();
    let (mut child, addr) = start(&data);
    wait_listening(addr);
    let n = runtime.block_on(async {
        let client = connect(addr).await;
        let n: i64 = client
            .query_one("SELECT n FROM loaded_summary", &[])
            .await
            .expect("view after restart")
            .get(0);
        n
    });
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(n as usize, rows);
    println!("{{\"bench\":\"restart\",\"rows\":{rows},\"seconds_to_first_answer\":{elapsed:.3}}}");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&data);
}

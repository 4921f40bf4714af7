//! `freshet bench nexmark`: the Nexmark benchmark's queries, each over `--events` events of
//! the NEXMARK generator (`storage/load_generator/nexmark.rs`), in process.
//!
//! For each query, in a child process of its own (`child_process.rs`):
//!
//! 1. A server starts in process on a fresh temporary data directory with `--workers` timely
//!    workers. Tables `person`, `auction` and `bid` get the generator's columns.
//! 2. `sql/nexmark/qN.sql` runs; its last statement creates the materialized view `qN`.
//! 3. The clock starts. A generator thread makes the events, `--batch-events` at a time, in
//!    the generator's order; each batch is one transaction that writes the batch's rows of
//!    the three tables (one durable append, as a source's tick is). The thread stays at
//!    most `GENERATED_BATCHES_AHEAD` batches ahead.
//! 4. After the last batch commits, the clock stops when `qN` reflects it
//!    (`Session::await_fresh`: the view's arrangement is complete through the last write).
//!
//! Event times advance at 10,000 events per second from a fixed start (Nexmark's default
//! rate), so windows hold the same events on every run whatever the ingest speed.
//!
//! Output, one JSON line per query: `{"bench":"nexmark","query":"q5","workers":2,
//! "events":N,"seconds":s,"events_per_sec":x,"peak_rss_bytes":m,"batch_events":b,
//! "view_rows":r}`, or the same with an `"error"` field for a query that fails.

use super::child_process;
use super::execute;
use super::process_memory::peak_rss_bytes;
use crate::coord::{ExecuteResponse, Session};
use crate::repr::{Datum, Row};
use crate::storage::load_generator::{GeneratorKind, LoadGeneratorSpec};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Generated batches waiting to be written: bounds the generator's memory to a few batches
/// while keeping it ahead of the writer.
const GENERATED_BATCHES_AHEAD: usize = 4;

/// Events per generator tick (scale factor 1).
const EVENTS_PER_TICK: u64 = 100;

/// The queries `all` means.
const ALL_QUERIES: usize = 23;

/// Event times start here (2026-01-01T00:00:00Z), the same on every run.
const START_MICROS: i64 = 1_767_225_600_000_000;

#[derive(clap::Args, Clone, Debug)]
pub struct NexmarkArgs {
    /// Queries to run, comma-separated (`q0,q5`), or `all` (q0 to q22).
    #[arg(long, default_value = "all")]
    queries: String,
    /// Events per query (rounded up to a whole tick of 100).
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Timely worker threads.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Events per transaction (rounded up to a whole tick of 100).
    #[arg(long, default_value_t = 10_000)]
    batch_events: u64,
    /// Where the query files `qN.sql` are.
    #[arg(long, default_value = "sql/nexmark")]
    sql_dir: PathBuf,
    /// A query still running after this many seconds is stopped and reported as an error.
    #[arg(long, default_value_t = 600)]
    timeout_secs: u64,
    /// Run the one query given in this process (what each child process is asked to do).
    #[arg(long, hide = true)]
    in_process: bool,
}

pub fn run(args: NexmarkArgs) -> ExitCode {
    let queries = match query_names(&args.queries) {
        Ok(q) => q,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if args.in_process {
        let [query] = queries.as_slice() else {
            tracing::error!("--in-process runs exactly one query");
            return ExitCode::FAILURE;
        };
        println!("{}", run_in_process(&args, query));
        return ExitCode::SUCCESS;
    }
    for query in &queries {
        println!("{}", run_child(&args, query));
    }
    ExitCode::SUCCESS
}

/// `q0,q5` or `all` as query names.
fn query_names(list: &str) -> Result<Vec<String>, String> {
    if list.trim() == "all" {
        return Ok((0..ALL_QUERIES).map(|i| format!("q{i}")).collect());
    }
    list.split(',')
        .map(|q| {
            let q = q.trim().to_lowercase();
            match q.strip_prefix('q').map(str::parse::<usize>) {
                Some(Ok(n)) if n < ALL_QUERIES => Ok(q),
                _ => Err(format!("unknown query \"{q}\": expected q0 to q22, or all")),
            }
        })
        .collect()
}

/// The figure's common fields, and `error`.
fn error_line(args: &NexmarkArgs, query: &str, error: String) -> serde_json::Value {
    json!({
        "bench": "nexmark",
        "query": query,
        "workers": args.workers,
        "events": whole_ticks(args.events) * EVENTS_PER_TICK,
        "error": error,
    })
}

fn whole_ticks(events: u64) -> u64 {
    events.div_ceil(EVENTS_PER_TICK).max(1)
}

/// Runs `query` in a child process of this binary and returns its line.
fn run_child(args: &NexmarkArgs, query: &str) -> serde_json::Value {
    let command: Vec<String> = [
        "bench",
        "nexmark",
        "--in-process",
        "--queries",
        query,
        "--events",
        &args.events.to_string(),
        "--workers",
        &args.workers.to_string(),
        "--batch-events",
        &args.batch_events.to_string(),
        "--sql-dir",
        &args.sql_dir.to_string_lossy(),
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    child_process::run(&command, Duration::from_secs(args.timeout_secs))
        .unwrap_or_else(|e| error_line(args, query, e))
}

fn run_in_process(args: &NexmarkArgs, query: &str) -> serde_json::Value {
    child_process::measure_in_process(&format!("nexmark-{query}"), args.workers, async |session| {
        measure(args, query, session).await
    })
    .unwrap_or_else(|e| error_line(args, query, e))
}

/// Sets up `query`, feeds the events, and returns the figures.
async fn measure(
    args: &NexmarkArgs,
    query: &str,
    session: &mut Session,
) -> Result<serde_json::Value, String> {
    let sql_path = args.sql_dir.join(format!("{query}.sql"));
    let sql = std::fs::read_to_string(&sql_path)
        .map_err(|e| format!("cannot read {}: {e}", sql_path.display()))?;
    let outputs = GeneratorKind::Nexmark.outputs();
    for output in &outputs {
        let columns: Vec<String> = output
            .desc
            .iter()
            .map(|(name, typ)| format!("{name} {} NOT NULL", typ.scalar_type.sql_name()))
            .collect();
        execute(
            session,
            &format!("CREATE TABLE {} ({})", output.name, columns.join(", ")),
        )
        .await?;
    }
    for stmt in crate::coord::client::parse(&sql).map_err(|e| e.to_string())? {
        session
            .execute(&stmt, &[])
            .await
            .map_err(|e| format!("{}: {e}", sql_path.display()))?;
    }
    let mut targets = Vec::new();
    for output in &outputs {
        targets.push(child_process::copy_target(session, output.name).await?);
    }

    let ticks = whole_ticks(args.events);
    let ticks_per_batch = whole_ticks(args.batch_events);
    let (tx, mut batches) = tokio::sync::mpsc::channel::<Vec<Vec<Row>>>(GENERATED_BATCHES_AHEAD);
    let generator = std::thread::Builder::new()
        .name("nexmark-generator".into())
        .spawn(move || generate(ticks, ticks_per_batch, tx))
        .map_err(|e| format!("cannot start the generator: {e}"))?;

    let start = Instant::now();
    let mut next_report = start + Duration::from_secs(5);
    let mut written = 0u64;
    while let Some(batch) = batches.recv().await {
        execute(session, "BEGIN").await?;
        for (rows, target) in batch.into_iter().zip(&targets) {
            written += rows.len() as u64;
            if !rows.is_empty() {
                session
                    .copy_rows(target, rows)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        execute(session, "COMMIT").await?;
        if Instant::now() >= next_report {
            tracing::info!(query, events = written, "written");
            next_report += Duration::from_secs(5);
        }
    }
    session
        .await_fresh(query)
        .await
        .map_err(|e| e.to_string())?;
    let seconds = start.elapsed().as_secs_f64();
    let _ = generator.join();
    let peak = peak_rss_bytes();
    let view_rows = match execute(session, &format!("SELECT count(*) FROM {query}")).await? {
        ExecuteResponse::Rows { rows, .. } => match rows.first().and_then(|r| r.first()) {
            Some(Datum::Int64(n)) => *n,
            _ => -1,
        },
        _ => -1,
    };
    Ok(json!({
        "bench": "nexmark",
        "query": query,
        "workers": args.workers,
        "events": written,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "events_per_sec": (written as f64 / seconds).round(),
        "peak_rss_bytes": peak,
        "batch_events": ticks_per_batch * EVENTS_PER_TICK,
        "view_rows": view_rows,
    }))
}

/// Makes ticks `0..ticks` of the NEXMARK generator, `ticks_per_batch` at a time, each batch
/// the rows of `person`, `auction` and `bid`; stops early if the writer is gone.
fn generate(ticks: u64, ticks_per_batch: u64, tx: tokio::sync::mpsc::Sender<Vec<Vec<Row>>>) {
    let spec = LoadGeneratorSpec {
        kind: GeneratorKind::Nexmark,
        // 100 events per 10 ms: Nexmark's default 10,000 events per second of event time.
        tick_micros: 10_000,
        scale_factor: 1,
        up_to: None,
        as_of: 0,
        seed: 0,
        start_micros: START_MICROS,
    };
    let mut tick = 0;
    while tick < ticks {
        let end = (tick + ticks_per_batch).min(ticks);
        let mut batch: Vec<Vec<Row>> = vec![Vec::new(); GeneratorKind::Nexmark.outputs().len()];
        for t in tick..end {
            for (output, rows) in batch.iter_mut().zip(spec.generate(t)) {
                output.extend(rows);
            }
        }
        if tx.blocking_send(batch).is_err() {
            return;
        }
        tick = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_lists_name_nexmark_queries_only() {
        assert_eq!(query_names("all").unwrap().len(), 23);
        assert_eq!(query_names("q0, Q5").unwrap(), vec!["q0", "q5"]);
        assert!(query_names("q23").is_err());
        assert!(query_names("x1").is_err());
    }
}

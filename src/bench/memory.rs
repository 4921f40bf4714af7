//! `freshet bench memory`: bytes of memory per arranged row, measured, for a few row
//! shapes, beside the row's raw payload (the bytes of its values: 8 per `bigint`, a text's
//! UTF-8 bytes).
//!
//! For each shape, in a child process of its own (`child_process.rs`): a server starts in
//! process on a fresh data directory; `--rows` rows are written to a table `t` of the shape;
//! then `CREATE MATERIALIZED VIEW m AS SELECT * FROM t` arranges every row once more. The
//! heap bytes live after `m` holds every row (and `SETTLE` later, when the build's transient
//! batches are gone) minus those live before (`heap_bytes.rs`), per row, are what one
//! arranged row costs: the view's arrangement alone, without the table or its storage.
//!
//! Output, one JSON line per shape: `{"bench":"memory","shape":"two_ints","rows":N,
//! "payload_bytes_per_row":16,"bytes_per_row":b,"overhead_bytes_per_row":b-16}`.

use super::child_process;
use super::execute;
use crate::coord::Session;
use crate::repr::{Datum, Row};
use serde_json::json;
use std::process::ExitCode;
use std::time::Duration;

/// How long the workers get to finish with the build's transient batches.
const SETTLE: Duration = Duration::from_secs(2);

/// Rows per write while the table is filled.
const ROWS_PER_WRITE: usize = 100_000;

#[derive(clap::Args, Clone, Debug)]
pub struct MemoryArgs {
    /// Rows per shape.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Timely worker threads.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Measure only this shape (what each child process is asked to do).
    #[arg(long, hide = true)]
    in_process: Option<String>,
}

/// A row shape: its columns and its rows.
struct Shape {
    name: &'static str,
    columns: &'static str,
    payload_bytes: usize,
    row: fn(i64) -> Row,
}

/// A 50-byte text made from `i`.
fn text50(i: i64) -> String {
    format!("{i:0>50}")
}

const SHAPES: [Shape; 3] = [
    Shape {
        name: "two_ints",
        columns: "a bigint, b bigint",
        payload_bytes: 16,
        row: |i| Row::new(vec![Datum::Int64(i), Datum::Int64(i * 7)]),
    },
    Shape {
        name: "int_text50",
        columns: "a bigint, s text",
        payload_bytes: 8 + 50,
        row: |i| Row::new(vec![Datum::Int64(i), Datum::String(text50(i))]),
    },
    Shape {
        name: "ten_ints",
        columns: "c0 bigint, c1 bigint, c2 bigint, c3 bigint, c4 bigint, \
                  c5 bigint, c6 bigint, c7 bigint, c8 bigint, c9 bigint",
        payload_bytes: 80,
        row: |i| (0..10).map(|c| Datum::Int64(i + c)).collect(),
    },
];

pub fn run(args: MemoryArgs) -> ExitCode {
    if let Some(name) = &args.in_process {
        let Some(shape) = SHAPES.iter().find(|s| s.name == name) else {
            tracing::error!("unknown shape {name}");
            return ExitCode::FAILURE;
        };
        println!("{}", run_in_process(&args, shape));
        return ExitCode::SUCCESS;
    }
    for shape in &SHAPES {
        let command: Vec<String> = [
            "bench",
            "memory",
            "--in-process",
            shape.name,
            "--rows",
            &args.rows.to_string(),
            "--workers",
            &args.workers.to_string(),
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        let line = child_process::run(&command, Duration::from_secs(600))
            .unwrap_or_else(|e| error_line(&args, shape, e));
        println!("{line}");
    }
    ExitCode::SUCCESS
}

fn error_line(args: &MemoryArgs, shape: &Shape, error: String) -> serde_json::Value {
    json!({"bench": "memory", "shape": shape.name, "rows": args.rows, "error": error})
}

fn run_in_process(args: &MemoryArgs, shape: &Shape) -> serde_json::Value {
    child_process::measure_in_process(
        &format!("memory-{}", shape.name),
        args.workers,
        async |session| measure(args, shape, session).await,
    )
    .unwrap_or_else(|e| error_line(args, shape, e))
}

async fn measure(
    args: &MemoryArgs,
    shape: &Shape,
    session: &mut Session,
) -> Result<serde_json::Value, String> {
    execute(session, &format!("CREATE TABLE t ({})", shape.columns)).await?;
    let target = child_process::copy_target(session, "t").await?;
    let mut next = 0;
    while next < args.rows {
        let end = (next + ROWS_PER_WRITE).min(args.rows);
        let rows = (next..end).map(|i| (shape.row)(i as i64)).collect();
        session
            .copy_rows(&target, rows)
            .await
            .map_err(|e| e.to_string())?;
        next = end;
    }
    session.await_fresh("t").await.map_err(|e| e.to_string())?;
    super::heap_bytes::start_counting();
    let before = super::heap_bytes::live_bytes();
    execute(session, "CREATE MATERIALIZED VIEW m AS SELECT * FROM t").await?;
    session.await_fresh("m").await.map_err(|e| e.to_string())?;
    // The build's transient batches are freed once the workers finish with them.
    tokio::time::sleep(SETTLE).await;
    let after = super::heap_bytes::live_bytes();
    let per_row = (after - before) as f64 / args.rows as f64;
    Ok(json!({
        "bench": "memory",
        "shape": shape.name,
        "rows": args.rows,
        "workers": args.workers,
        "payload_bytes_per_row": shape.payload_bytes,
        "bytes_per_row": per_row.round(),
        "overhead_bytes_per_row": (per_row - shape.payload_bytes as f64).round(),
    }))
}

//! `freshet bench ...`: benchmark commands. Each prints one JSON line per figure on stdout
//! (progress and errors go to the log on stderr), so runs can be compared and recorded in
//! `docs/benchmarks.md` as they are.
//!
//! | file | command |
//! |---|---|
//! | `nexmark.rs` | `freshet bench nexmark`: the Nexmark queries over the NEXMARK generator |
//! | `memory.rs` | `freshet bench memory`: bytes per arranged row, beside the payload |
//! | `serve.rs` | `freshet bench serve`: freshness and read latency against a running server |
//! | `child_process.rs` | one measurement per child process; data directories |
//! | `heap_bytes.rs` | the global allocator's wrapper that counts live heap bytes |
//! | `process_memory.rs` | the process's peak resident memory, for the figures |

mod child_process;
pub mod heap_bytes;
pub mod memory;
pub mod nexmark;
mod process_memory;
pub mod serve;

use crate::coord::{ExecuteResponse, Session};

/// The benchmark to run.
#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// The Nexmark queries (`sql/nexmark/qN.sql`), each in a fresh in-process server fed by
    /// the NEXMARK generator as fast as it accepts events.
    Nexmark(nexmark::NexmarkArgs),
    /// Bytes per arranged row for a few row shapes, measured, beside the raw payload.
    Memory(memory::MemoryArgs),
    /// Against a running server: INSERT-to-SUBSCRIBE latency, point SELECTs on an indexed
    /// view with 1, 8 and 64 clients, a full scan of a large view.
    Serve(serve::ServeArgs),
}

/// Runs `command`; the exit code says whether it could run at all (a query that fails is
/// a figure with an `"error"` field, not a failed run).
pub fn run(command: BenchCommand) -> std::process::ExitCode {
    match command {
        BenchCommand::Nexmark(args) => nexmark::run(args),
        BenchCommand::Memory(args) => memory::run(args),
        BenchCommand::Serve(args) => serve::run(args),
    }
}

/// Runs the statements of `sql` in `session`; the last one's response.
async fn execute(session: &mut Session, sql: &str) -> Result<ExecuteResponse, String> {
    let mut last = None;
    for stmt in crate::coord::client::parse(sql).map_err(|e| e.to_string())? {
        last = Some(
            session
                .execute(&stmt, &[])
                .await
                .map_err(|e| format!("{sql}: {e}"))?,
        );
    }
    last.ok_or_else(|| format!("no statement in {sql}"))
}

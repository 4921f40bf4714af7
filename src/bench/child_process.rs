//! Running one measurement in a child process of this binary, so that its memory, threads
//! and peak resident size are its own, and a measurement that crashes or runs too long is
//! reported instead of ending the whole benchmark; and, in that child, the server it
//! measures, started in process on a fresh data directory.

use crate::coord::{ExecuteResponse, Session};
use crate::sql::plan::CopyFromTarget;
use std::time::{Duration, Instant};

/// Runs this program with `args` (a `freshet bench ... --in-process` command line), waits
/// at most `timeout`, and returns the last line it printed on stdout, parsed as JSON.
pub fn run(args: &[String], timeout: Duration) -> Result<serde_json::Value, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    // A file, not a pipe: a child that prints much cannot block on a full pipe while this
    // process only polls for its exit.
    let output = std::env::temp_dir().join(format!(
        "freshet-bench-{}-{}.out",
        std::process::id(),
        args.join("-").replace(['/', ' '], "_")
    ));
    let stdout = std::fs::File::create(&output)
        .map_err(|e| format!("cannot create {}: {e}", output.display()))?;
    let mut child = std::process::Command::new(exe)
        .args(args)
        .stdout(stdout)
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("still running after {} s", timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break Err(format!("cannot wait for the child process: {e}")),
        }
    };
    let printed = std::fs::read_to_string(&output).unwrap_or_default();
    let _ = std::fs::remove_file(&output);
    let status = status?;
    match printed.lines().last().map(serde_json::from_str) {
        Some(Ok(line)) => Ok(line),
        _ => Err(format!(
            "the child process ended ({status}) without a result"
        )),
    }
}

/// Removes a benchmark's data directory when the run ends, however it ends.
struct DataDir(std::path::PathBuf);

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A runtime for an in-process server, with the server's stack size for planning.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(16 << 20)
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

/// Runs `measure` in this process against a server started in it with `workers` workers
/// on a fresh data directory (named for `name`, removed afterwards), through a session.
pub fn measure_in_process<F>(
    name: &str,
    workers: usize,
    measure: F,
) -> Result<serde_json::Value, String>
where
    F: AsyncFnOnce(&mut Session) -> Result<serde_json::Value, String>,
{
    let runtime = runtime()?;
    let dir = std::env::temp_dir().join(format!("freshet-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = DataDir(dir);
    let result = runtime.block_on(async {
        let client = crate::coord::start(crate::coord::Config {
            data_dir: data.0.clone(),
            workers,
        })
        .await
        .map_err(|e| format!("cannot start: {e}"))?;
        let mut session = client
            .connect("bench", "freshet")
            .await
            .map_err(|e| e.to_string())?;
        measure(&mut session).await
    });
    drop(data);
    // The cluster's worker threads do not stop by themselves: the process ends with them.
    runtime.shutdown_background();
    result
}

/// The target of `COPY table FROM STDIN`, for `Session::copy_rows`.
pub async fn copy_target(session: &mut Session, table: &str) -> Result<CopyFromTarget, String> {
    match super::execute(session, &format!("COPY {table} FROM STDIN")).await? {
        ExecuteResponse::CopyIn { target } => Ok(target),
        _ => Err(format!("COPY {table} FROM STDIN did not ask for rows")),
    }
}

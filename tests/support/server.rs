//! A real `freshet serve` process for integration tests.
//!
//! Invariants: the server listens on a port that was free when it was picked, keeps its data
//! in a private directory under cargo's per-target temp dir and writes its stdout and stderr
//! to a log file beside it (so server logs never interleave with test output), and the
//! process is killed and both removed when the [`TestServer`] is dropped (also when a test
//! panics). [`TestServer::log_tail`] shows the end of the log in failure reports.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a server may take to start accepting connections before the test fails.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// How many lines of the server log a startup failure shows.
const STARTUP_LOG_LINES: usize = 40;

/// Distinguishes data directories of servers started by one test process.
static NEXT_SERVER: AtomicUsize = AtomicUsize::new(0);

/// A running `freshet serve` child process.
pub struct TestServer {
    child: Child,
    addr: SocketAddr,
    data_dir: PathBuf,
    log_path: PathBuf,
    /// Leave the data directory behind on drop (after `kill`, for a restart).
    keep_data: bool,
}

impl TestServer {
    /// Starts `freshet serve` with two workers on a free loopback port and a fresh data
    /// directory, and waits (bounded) until the port accepts a TCP connection.
    pub fn start() -> Result<TestServer, String> {
        let data_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "freshet-test-{}-{}",
            std::process::id(),
            NEXT_SERVER.fetch_add(1, Ordering::SeqCst)
        ));
        // A leftover from a crashed earlier run with the same pid must not leak state in.
        let _ = std::fs::remove_dir_all(&data_dir);
        TestServer::start_with(2, data_dir)
    }

    /// Starts `freshet serve` with `workers` workers on `data_dir` (kept as it is: restart
    /// tests reuse a directory).
    pub fn start_with(workers: usize, data_dir: PathBuf) -> Result<TestServer, String> {
        let port = free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        std::fs::create_dir_all(&data_dir)
            .map_err(|e| format!("cannot create data dir {}: {e}", data_dir.display()))?;
        let log_path = data_dir.with_extension("log");
        let log = std::fs::File::create(&log_path)
            .map_err(|e| format!("cannot create log file {}: {e}", log_path.display()))?;
        let log_err = log
            .try_clone()
            .map_err(|e| format!("cannot clone log file handle: {e}"))?;
        let child = Command::new(env!("CARGO_BIN_EXE_freshet"))
            .arg("serve")
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("--workers")
            .arg(workers.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .spawn()
            .map_err(|e| format!("cannot start freshet: {e}"))?;
        let mut server = TestServer {
            child,
            addr,
            data_dir,
            log_path,
            keep_data: false,
        };
        if let Err(e) = server.wait_until_listening() {
            return Err(format!(
                "{e}\nserver log:\n{}",
                server.log_tail(STARTUP_LOG_LINES)
            ));
        }
        Ok(server)
    }

    /// Kills the server with SIGKILL (no shutdown of any kind) and keeps its data directory;
    /// returns the directory, for a restart.
    pub fn kill(mut self) -> PathBuf {
        self.keep_data = true;
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.data_dir.clone()
    }

    /// The loopback address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The last `lines` lines the server wrote to stdout and stderr.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn wait_until_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("freshet exited during startup with {status}"));
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "freshet did not accept connections on {} within {:?}",
                    self.addr, STARTUP_TIMEOUT
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.keep_data {
            let _ = std::fs::remove_dir_all(&self.data_dir);
            let _ = std::fs::remove_file(&self.log_path);
        }
    }
}

/// Asks the OS for a port that is free right now on 127.0.0.1.
fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot bind a free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("cannot read the bound port: {e}"))
}

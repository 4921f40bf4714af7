//! What the benchmark programs share: starting the release `freshet` binary as its own
//! process (so its memory and CPU are its own) and connecting to it.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_postgres::NoTls;

/// Timely workers of the measured server: `FRESHET_BENCH_WORKERS`, default 2.
pub fn workers() -> String {
    std::env::var("FRESHET_BENCH_WORKERS").unwrap_or_else(|_| "2".into())
}

/// Starts the server on a free loopback port with `data` as its data directory; its log
/// goes beside the directory.
pub fn start(data: &Path) -> (Child, SocketAddr) {
    start_workers(data, &workers())
}

/// `start` with `workers` timely workers.
pub fn start_workers(data: &Path, workers: &str) -> (Child, SocketAddr) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let child = Command::new(env!("CARGO_BIN_EXE_freshet"))
        .args(["serve", "--listen", &addr.to_string(), "--data-dir"])
        .arg(data)
        .args(["--workers", workers])
        .stdout(Stdio::null())
        // The server's log (quiet unless FRESHET_LOG asks for more), beside its data.
        .stderr(
            std::fs::File::options()
                .create(true)
                .append(true)
                .open(data.with_extension("log"))
                .map_or(Stdio::null(), Stdio::from),
        )
        .spawn()
        .expect("start freshet");
    (child, addr)
}

/// Waits (bounded) until the server accepts connections.
pub fn wait_listening(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(600);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
        assert!(Instant::now() < deadline, "freshet did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub async fn connect(addr: SocketAddr) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(
        &format!(
            "host=127.0.0.1 port={} user=bench dbname=freshet",
            addr.port()
        ),
        NoTls,
    )
    .await
    .expect("connect");
    tokio::spawn(conn);
    client
}

/// A fresh data directory for bench `name` (emptied first), a multi-threaded runtime for the
/// client side, and the server started on the directory and accepting connections.
pub fn start_fresh(
    name: &str,
) -> (
    std::path::PathBuf,
    tokio::runtime::Runtime,
    Child,
    SocketAddr,
) {
    let data = std::env::temp_dir().join(format!("freshet-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (child, addr) = start(&data);
    wait_listening(addr);
    (data, runtime, child, addr)
}

//! The `freshet` binary: command-line interface, logging, runtime.

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "freshet",
    version,
    about = "A streaming database: SQL views kept fresh, served over the PostgreSQL protocol"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Commands>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Commands {
    /// Serve SQL over the PostgreSQL wire protocol (the default).
    Serve(ServeArgs),
    /// Run a benchmark; figures are printed as JSON lines.
    #[command(subcommand)]
    Bench(freshet::bench::BenchCommand),
}

#[derive(clap::Args, Clone)]
struct ServeArgs {
    /// Address to accept PostgreSQL connections on.
    #[arg(long, env = "FRESHET_LISTEN", default_value = "127.0.0.1:6875")]
    listen: SocketAddr,
    /// Directory for durable data (tables, catalog).
    #[arg(long, env = "FRESHET_DATA_DIR", default_value = "./freshet-data")]
    data_dir: PathBuf,
    /// Timely worker threads (default: the number of cores).
    #[arg(long, env = "FRESHET_WORKERS")]
    workers: Option<usize>,
}

/// mimalloc instead of the system allocator: rows are allocated on worker threads and freed
/// on others, and glibc's per-thread arenas then keep growing (measured: a table with
/// constant live rows under insert/delete churn went from 50 to over 200 MB; bounded with one
/// arena or this allocator).
/// Wrapped to count live heap bytes for `freshet bench memory` (off unless it runs).
#[global_allocator]
static ALLOCATOR: freshet::bench::heap_bytes::HeapCounting<mimalloc::MiMalloc> =
    freshet::bench::heap_bytes::HeapCounting(mimalloc::MiMalloc);

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            // The benchmarks' PostgreSQL client logs every NOTICE at info.
            tracing_subscriber::EnvFilter::try_from_env("FRESHET_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tokio_postgres=warn")),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, not in log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Commands::Serve(args)) => args,
        Some(Commands::Bench(command)) => return freshet::bench::run(command),
        None => cli.serve,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Parsing and planning recurse over the statement (up to `PARSER_RECURSION_LIMIT`
        // levels of nesting); the stack is reserved, not committed, until used.
        .thread_stack_size(16 << 20)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    // The port first: a client that connects while the data directory is replayed waits
    // in the listen backlog instead of being refused, and a taken port fails at once.
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let client = freshet::coord::start(freshet::coord::Config {
        data_dir: args.data_dir.clone(),
        workers,
    })
    .await
    .map_err(|e| format!("cannot start: {e}"))?;
    tracing::info!(
        listen = %args.listen,
        data_dir = %args.data_dir.display(),
        workers,
        "ready to accept connections"
    );
    freshet::server::serve(listener, client)
        .await
        .map_err(|e| format!("server failed: {e}"))
}

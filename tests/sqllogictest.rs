//! Runs every `tests/slt/*.slt` file with the `sqllogictest` crate over pgwire.
//!
//! By default each file gets its own freshly started `freshet serve` process (fresh data
//! directory), so files never see each other's objects. With
//! `FRESHET_SLT_POSTGRES_URL=postgres://user@host:port/db` the same files run against a real
//! PostgreSQL instead, each in a freshly created database, which proves the expected results
//! are PostgreSQL's. The engine name (`freshet` or `postgres`) is a label, so `onlyif freshet`
//! and `skipif postgres` records work. `FRESHET_SLT_FILTER=substring` runs only the files whose
//! name contains the substring.
//!
//! Queries use the simple query protocol: values arrive as text, NULL is printed as `NULL`
//! and the empty string as `(empty)`. The simple protocol carries no column types, so the
//! `I`/`T`/`R` letters of a `query` record are not checked. Errors compare by the server's
//! message text (PostgreSQL's wording) and expose the SQLSTATE.

mod support;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType, Runner};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use support::server::TestServer;

/// Env var selecting a subset of files by substring of the file name.
const FILTER_ENV: &str = "FRESHET_SLT_FILTER";
/// Env var switching the runner to a real PostgreSQL.
const POSTGRES_URL_ENV: &str = "FRESHET_SLT_POSTGRES_URL";
/// The longest one file may run before it counts as failed (a hung query must not hang CI).
const FILE_TIMEOUT: Duration = Duration::from_secs(180);
/// How many lines of the server log a failure report shows.
const LOG_TAIL_LINES: usize = 40;

/// Which engine the files run against.
#[derive(Clone)]
enum Engine {
    Freshet,
    Postgres { url: String },
}

impl Engine {
    fn label(&self) -> &'static str {
        match self {
            Engine::Freshet => "freshet",
            Engine::Postgres { .. } => "postgres",
        }
    }
}

/// An error from a database, displayed as psql shows it (the message, then any `DETAIL:` line)
/// for `statement error` regexes, and carrying the SQLSTATE when the server sent one.
#[derive(Debug)]
struct SltError {
    message: String,
    sqlstate: Option<String>,
}

impl fmt::Display for SltError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SltError {}

impl From<tokio_postgres::Error> for SltError {
    fn from(err: tokio_postgres::Error) -> Self {
        match err.as_db_error() {
            Some(db) => SltError {
                message: match db.detail() {
                    Some(detail) => format!("{}\nDETAIL:  {detail}", db.message()),
                    None => db.message().to_string(),
                },
                sqlstate: Some(db.code().code().to_string()),
            },
            None => SltError {
                message: err.to_string(),
                sqlstate: None,
            },
        }
    }
}

/// The text a value is compared as: `NULL` for SQL NULL, `(empty)` for the empty string
/// (an empty field would vanish when a row is joined with spaces), else the text itself.
fn render_value(value: Option<&str>) -> String {
    match value {
        None => "NULL".to_string(),
        Some("") => "(empty)".to_string(),
        Some(text) => text.to_string(),
    }
}

/// One pgwire session used by the runner.
struct PgSession {
    client: Client,
    engine: &'static str,
}

impl PgSession {
    async fn connect(
        config: tokio_postgres::Config,
        engine: &'static str,
    ) -> Result<Self, SltError> {
        let (client, connection) = config.connect(NoTls).await?;
        tokio::spawn(async move {
            // The connection ends when the client is dropped or the server goes away; the
            // runner then sees the error on its next query.
            let _ = connection.await;
        });
        Ok(PgSession { client, engine })
    }
}

#[async_trait::async_trait]
impl AsyncDB for PgSession {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<Self::ColumnType>, Self::Error> {
        let messages = self.client.simple_query(sql).await?;
        let mut rows = Vec::new();
        let mut columns = None;
        let mut last_count = 0;
        for message in messages {
            match message {
                SimpleQueryMessage::RowDescription(cols) => columns = Some(cols.len()),
                SimpleQueryMessage::Row(row) => {
                    columns = Some(row.len());
                    let values = (0..row.len()).map(|i| render_value(row.get(i))).collect();
                    rows.push(values);
                }
                SimpleQueryMessage::CommandComplete(count) => last_count = count,
                _ => {}
            }
        }
        match columns {
            Some(n) => Ok(DBOutput::Rows {
                types: vec![DefaultColumnType::Any; n],
                rows,
            }),
            None => Ok(DBOutput::StatementComplete(last_count)),
        }
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        self.engine
    }

    async fn sleep(dur: Duration) {
        tokio::time::sleep(dur).await;
    }

    fn error_sql_state(err: &Self::Error) -> Option<String> {
        err.sqlstate.clone()
    }
}

/// The database state one file runs in; dropping it tears the state down.
enum FileDatabase {
    Freshet(TestServer),
    Postgres { admin: Client, name: String },
}

impl FileDatabase {
    /// A fresh database for one file, and the connection config for its sessions.
    async fn create(
        engine: &Engine,
        index: usize,
    ) -> Result<(FileDatabase, tokio_postgres::Config), String> {
        match engine {
            Engine::Freshet => {
                let server = TestServer::start()?;
                let mut config = tokio_postgres::Config::new();
                config
                    .host(server.addr().ip().to_string())
                    .port(server.addr().port())
                    .user("freshet")
                    .dbname("freshet")
                    .connect_timeout(Duration::from_secs(10));
                Ok((FileDatabase::Freshet(server), config))
            }
            Engine::Postgres { url } => {
                let admin_config: tokio_postgres::Config = url
                    .parse()
                    .map_err(|e| format!("bad {POSTGRES_URL_ENV}: {e}"))?;
                let admin = PgSession::connect(admin_config.clone(), "postgres")
                    .await
                    .map_err(|e| format!("cannot connect to {url}: {e}"))?
                    .client;
                let name = format!("freshet_slt_{}_{index}", std::process::id());
                // Separate statements: CREATE DATABASE cannot run inside the implicit
                // transaction of a multi-statement query.
                for sql in [
                    format!("DROP DATABASE IF EXISTS {name}"),
                    format!("CREATE DATABASE {name}"),
                ] {
                    admin
                        .batch_execute(&sql)
                        .await
                        .map_err(|e| format!("{sql}: {}", SltError::from(e)))?;
                }
                let mut config = admin_config;
                config.dbname(&name);
                Ok((FileDatabase::Postgres { admin, name }, config))
            }
        }
    }

    async fn drop_state(self) {
        match self {
            FileDatabase::Freshet(server) => drop(server),
            FileDatabase::Postgres { admin, name } => {
                let _ = admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
            }
        }
    }
}

/// Runs one file in a fresh database; `Err` holds the failure report (file, line, diff).
async fn run_file(engine: &Engine, index: usize, path: &Path) -> Result<(), String> {
    let (database, config) = FileDatabase::create(engine, index).await?;
    let label = engine.label();
    let mut runner = Runner::new(move || PgSession::connect(config.clone(), label));
    runner.add_label(label);
    let result = match tokio::time::timeout(FILE_TIMEOUT, runner.run_file_async(path)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.display(false).to_string()),
        Err(_) => Err(format!("timed out after {FILE_TIMEOUT:?}")),
    };
    let result = result.map_err(|report| match &database {
        FileDatabase::Freshet(server) => format!(
            "{report}\nlast {LOG_TAIL_LINES} lines of the server log:\n{}",
            server.log_tail(LOG_TAIL_LINES)
        ),
        FileDatabase::Postgres { .. } => report,
    });
    runner.shutdown_async().await;
    drop(runner);
    database.drop_state().await;
    result
}

/// The `.slt` files to run, sorted, narrowed by `FRESHET_SLT_FILTER`.
fn slt_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let filter = std::env::var(FILTER_ENV).unwrap_or_default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "slt"))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains(filter.as_str()))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn slt_files_pass() {
    let engine = match std::env::var(POSTGRES_URL_ENV) {
        Ok(url) if !url.is_empty() => Engine::Postgres { url },
        _ => Engine::Freshet,
    };
    let files = slt_files();
    assert!(
        !files.is_empty(),
        "no .slt files matched {FILTER_ENV}={:?}",
        std::env::var(FILTER_ENV).unwrap_or_default()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut failures = Vec::new();
    for (index, path) in files.iter().enumerate() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let started = Instant::now();
        let outcome = runtime.block_on(run_file(&engine, index, path));
        let elapsed = started.elapsed();
        match outcome {
            Ok(()) => println!("slt [{}] ok     {name} ({elapsed:.1?})", engine.label()),
            Err(report) => {
                println!("slt [{}] FAILED {name} ({elapsed:.1?})", engine.label());
                failures.push(format!("--- {} ---\n{report}", path.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} slt files failed against {}:\n{}",
        failures.len(),
        files.len(),
        engine.label(),
        failures.join("\n")
    );
}

#[test]
fn values_render_null_and_empty_distinctly() {
    assert_eq!(render_value(None), "NULL");
    assert_eq!(render_value(Some("")), "(empty)");
    assert_eq!(render_value(Some("NULL")), "NULL");
    assert_eq!(render_value(Some("a b")), "a b");
}

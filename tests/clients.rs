//! Real PostgreSQL clients against a Freshet server: each test starts its own server and
//! runs one script of `tests/clients/` with `FRESHET_URL` pointing at it. A script prints
//! `ok NAME` or `FAIL NAME: ERROR` per check and exits non-zero if any check failed; the test
//! asserts it exited 0 and shows its output, and the end of the server log, when not.
//!
//! The clients come from `bash scripts/test.sh`, which installs them into `.test-env`: the
//! Python drivers and tools (psycopg2, psycopg 3, SQLAlchemy, pandas, alembic) into the venv
//! `.test-env/python` (`$FRESHET_PYTHON` names its interpreter), dbt-postgres into a venv of
//! its own, `.test-env/dbt` (`$FRESHET_DBT_PYTHON`), node-postgres and dbmate into
//! `.test-env/node/node_modules` (`$FRESHET_NODE_MODULES`), sqlx-cli into `.test-env/cargo/bin`
//! (`$FRESHET_SQLX` names its `sqlx` binary). The dbmate and sqlx-cli scripts also use the
//! machine's psql. Every script can be run by hand against any server, PostgreSQL included:
//! `FRESHET_URL=postgres://postgres@127.0.0.1:5432/postgres .test-env/python/bin/python
//! tests/clients/psycopg2_client.py`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::server::TestServer;

/// How long one script may run before it is killed (with every process it started). Each
/// check inside a script has its own, shorter, bound.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

/// How many lines of the server log a failure report shows.
const SERVER_LOG_LINES: usize = 60;

#[test]
fn psycopg2_queries_transactions_copy_and_types() {
    let python = python(&["psycopg2"]);
    run_client("psycopg2_client.py", &python, &[]);
}

#[test]
fn psycopg3_prepared_statements_binary_pipelines_savepoints_and_copy() {
    let python = python(&["psycopg"]);
    run_client("psycopg3_client.py", &python, &[]);
}

#[test]
fn sqlalchemy_reflection_core_and_pandas_over_psycopg2_and_psycopg3() {
    let python = python(&["psycopg2", "psycopg", "sqlalchemy", "pandas"]);
    run_client("sqlalchemy_client.py", &python, &[]);
}

#[test]
fn alembic_upgrades_downgrades_and_rolls_back_failed_migrations() {
    let python = python(&["alembic", "psycopg", "sqlalchemy"]);
    run_client("alembic_client.py", &python, &[]);
}

#[test]
fn dbt_runs_a_project_twice_and_its_tests_pass_and_fail_as_they_should() {
    let python = python_in("FRESHET_DBT_PYTHON", "dbt", &["dbt.cli.main", "psycopg2"]);
    run_client("dbt_client.py", &python, &[]);
}

#[test]
fn node_pg_parameters_types_pool_and_transactions() {
    let modules = node_modules();
    run_client(
        "node_pg_client.js",
        Path::new("node"),
        &[("FRESHET_NODE_MODULES", modules.as_os_str())],
    );
}

#[test]
fn dbmate_applies_the_migrations_once_and_rolls_them_back() {
    let modules = node_modules();
    run_client(
        "dbmate_client.sh",
        Path::new("bash"),
        &[("FRESHET_NODE_MODULES", modules.as_os_str())],
    );
}

#[test]
fn sqlx_cli_applies_the_migrations_once_and_reverts_them() {
    let sqlx = sqlx_cli();
    run_client(
        "sqlx_cli_client.sh",
        Path::new("bash"),
        &[("FRESHET_SQLX", sqlx.as_os_str())],
    );
}

/// Starts a server, runs `program tests/clients/<script>` with `FRESHET_URL` set to
/// it, and panics with the script's output and the server log unless the script exits 0
/// within [`SCRIPT_TIMEOUT`].
fn run_client(script: &str, program: &Path, envs: &[(&str, &std::ffi::OsStr)]) {
    let server = TestServer::start().expect("freshet starts");
    let url = format!("postgres://tester@{}/freshet", server.addr());
    let script_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(script);
    let output_path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "client-{}-{}.out",
        script.replace('.', "-"),
        std::process::id()
    ));
    let output = std::fs::File::create(&output_path).expect("creates the output file");
    let mut command = Command::new(program);
    command
        .arg(&script_path)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("FRESHET_URL", &url)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(Stdio::null())
        .stdout(Stdio::from(
            output.try_clone().expect("clones the output file handle"),
        ))
        .stderr(Stdio::from(output));
    for (key, value) in envs {
        command.env(key, value);
    }
    // Its own process group, so that a timeout kills whatever the script started too.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {} {}: {e}", program.display(), script));
    let deadline = Instant::now() + SCRIPT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits for the client script") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    kill_group(child.id());
    let _ = child.wait();
    let text = std::fs::read_to_string(&output_path).unwrap_or_default();
    let _ = std::fs::remove_file(&output_path);
    match status {
        Some(status) if status.success() => println!("{script}:\n{text}"),
        Some(status) => panic!(
            "{script} against {url} exited with {status}; its output:\n{text}\nserver log:\n{}",
            server.log_tail(SERVER_LOG_LINES)
        ),
        None => panic!(
            "{script} against {url} did not finish within {SCRIPT_TIMEOUT:?} and was killed; its \
             output:\n{text}\nserver log:\n{}",
            server.log_tail(SERVER_LOG_LINES)
        ),
    }
}

/// SIGKILL to every process left in the group `pgid` (none, once a script has ended well).
fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The test environments to look in: `$FRESHET_TEST_ENV` (set by `scripts/test.sh`), then
/// this checkout's `.test-env`.
fn test_envs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("FRESHET_TEST_ENV") {
        dirs.push(PathBuf::from(dir));
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join(".test-env"));
    dirs
}

/// The Python interpreter that has the client `modules`: `$FRESHET_PYTHON`, else the venv
/// of a test environment. Panics, saying to run `bash scripts/test.sh`, when none does.
fn python(modules: &[&str]) -> PathBuf {
    python_in("FRESHET_PYTHON", "python", modules)
}

/// The Python interpreter that has `modules`: `$<var>`, else that of the venv `venv` of a test
/// environment. Panics, saying to run `bash scripts/test.sh`, when none does.
fn python_in(var: &str, venv: &str, modules: &[&str]) -> PathBuf {
    let candidates: Vec<PathBuf> = match std::env::var_os(var) {
        Some(path) => vec![PathBuf::from(path)],
        None => test_envs()
            .iter()
            .map(|dir| dir.join(venv).join("bin/python"))
            .collect(),
    };
    let import = format!("import {}", modules.join(", "));
    for candidate in &candidates {
        let imports = candidate.is_file()
            && Command::new(candidate)
                .args(["-c", &import])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
        if imports {
            return candidate.clone();
        }
    }
    panic!(
        "no Python with the client modules {modules:?} (looked at ${var} and {candidates:?}): \
         run `bash scripts/test.sh`, which installs them into .test-env/{venv}"
    );
}

/// The node_modules directory with `pg` and `dbmate`: `$FRESHET_NODE_MODULES`, else
/// `node/node_modules` of a test environment. Panics, saying to run `bash scripts/test.sh`,
/// when none has them.
fn node_modules() -> PathBuf {
    let candidates: Vec<PathBuf> = match std::env::var_os("FRESHET_NODE_MODULES") {
        Some(path) => vec![PathBuf::from(path)],
        None => test_envs()
            .iter()
            .map(|dir| dir.join("node/node_modules"))
            .collect(),
    };
    for candidate in &candidates {
        if candidate.join("pg/package.json").is_file() && candidate.join(".bin/dbmate").exists() {
            return candidate.clone();
        }
    }
    panic!(
        "node-postgres and dbmate are not installed (looked at $FRESHET_NODE_MODULES and \
         {candidates:?}): run `bash scripts/test.sh`, which installs them into \
         .test-env/node/node_modules"
    );
}

/// The `sqlx` binary of sqlx-cli: `$FRESHET_SQLX`, else `cargo/bin/sqlx` of a test environment.
/// Panics, saying to run `bash scripts/test.sh`, when there is none.
fn sqlx_cli() -> PathBuf {
    let candidates: Vec<PathBuf> = match std::env::var_os("FRESHET_SQLX") {
        Some(path) => vec![PathBuf::from(path)],
        None => test_envs()
            .iter()
            .map(|dir| dir.join("cargo/bin/sqlx"))
            .collect(),
    };
    for candidate in &candidates {
        if candidate.is_file() {
            return candidate.clone();
        }
    }
    panic!(
        "sqlx-cli is not installed (looked at $FRESHET_SQLX and {candidates:?}): run `bash \
         scripts/test.sh`, which installs it into .test-env/cargo"
    );
}

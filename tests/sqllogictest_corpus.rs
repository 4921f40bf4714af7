//! SQLite's sqllogictest corpus (`../shared/sqllogictest`, read in place, never copied) run
//! against Freshet with the `postgresql` label, in two modes: one-off queries, and every
//! query as a materialized view created before the last writes (see `corpus/run.rs`).
//!
//! `cargo test --test sqllogictest_corpus` runs the core corpus (`select1-5`, `evidence/`) in
//! both modes and fails when either mode passes fewer than 99.5% of its records. Settings:
//!
//! - `FRESHET_CORPUS=core | all | <substrings,...>`: which scripts (`all` adds `random/` and
//!   `index/`; substrings pick scripts by path);
//! - `FRESHET_CORPUS_MODES=one-off,views`: which modes;
//! - `FRESHET_CORPUS_DIR`: where the corpus is (default `../shared/sqllogictest`, else
//!   `/work/shared/sqllogictest`);
//! - `FRESHET_CORPUS_POSTGRES_URL`: run one-off mode against a real PostgreSQL instead (each
//!   script in a new database), which checks the runner and the corpus's expectations;
//! - `FRESHET_CORPUS_REPORT=path`: where the report goes (default
//!   `target/corpus-report.md`; every failure goes beside it in `corpus-report.failures.tsv`);
//!   `docs/conformance.md` quotes it.

mod corpus;
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use tokio_postgres::Client;

use corpus::run::{Databases, Mode, Outcome};
use corpus::script;
use support::server::TestServer;

/// The pass rate each mode must reach.
const TARGET_PASS_RATE: f64 = 0.995;
/// How many failures of each cause the report shows as examples.
const EXAMPLES_PER_CAUSE: usize = 3;

/// A new `freshet serve` process for each fresh database.
struct FreshServers {
    server: Option<TestServer>,
}

impl Databases for FreshServers {
    async fn fresh(&mut self) -> Result<Client, String> {
        // Dropping the old server kills it and removes its data directory first.
        self.server = None;
        let server = TestServer::start()?;
        let client = support::connect(&server).await;
        self.server = Some(server);
        Ok(client)
    }

    async fn reconnect(&mut self) -> Result<Client, String> {
        match &self.server {
            Some(server) => Ok(support::connect(server).await),
            None => Err("no server to reconnect to".into()),
        }
    }
}

/// A new database in a real PostgreSQL for each fresh database.
struct FreshPostgresDatabases {
    url: String,
    created: usize,
}

impl FreshPostgresDatabases {
    fn database_url(&self) -> String {
        let base = self
            .url
            .rsplit_once('/')
            .map_or(self.url.as_str(), |(b, _)| b);
        format!("{base}/corpus_{}", self.created)
    }
}

impl Databases for FreshPostgresDatabases {
    async fn fresh(&mut self) -> Result<Client, String> {
        let admin = support::connect_url(&self.url).await?;
        self.created += 1;
        let name = format!("corpus_{}", self.created);
        for sql in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            admin
                .simple_query(&sql)
                .await
                .map_err(|e| format!("{sql}: {e}"))?;
        }
        support::connect_url(&self.database_url()).await
    }

    async fn reconnect(&mut self) -> Result<Client, String> {
        support::connect_url(&self.database_url()).await
    }
}

fn corpus_dir() -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = match std::env::var("FRESHET_CORPUS_DIR") {
        Ok(dir) => vec![PathBuf::from(dir)],
        Err(_) => vec![
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/sqllogictest"),
            // Where the workspace keeps it when the checkout is elsewhere (a CI clone).
            PathBuf::from("/work/shared/sqllogictest"),
        ],
    };
    candidates
        .iter()
        .find(|dir| dir.join("select1.test").is_file())
        .cloned()
        .ok_or_else(|| {
            format!(
                "the sqllogictest corpus is not at {} (set FRESHET_CORPUS_DIR)",
                candidates
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )
        })
}

/// Every `.test` file under `dir`, sorted, relative to `root`.
fn scripts_under(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            scripts_under(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "test")
            && let Ok(relative) = path.strip_prefix(root)
        {
            out.push(relative.to_string_lossy().into_owned());
        }
    }
}

fn selected_scripts(root: &Path) -> Vec<String> {
    let mut all = Vec::new();
    scripts_under(root, root, &mut all);
    all.sort();
    let selection = std::env::var("FRESHET_CORPUS").unwrap_or_else(|_| "core".into());
    let is_core = |p: &String| p.starts_with("select") || p.starts_with("evidence/");
    match selection.as_str() {
        "all" => all,
        "core" => all.into_iter().filter(is_core).collect(),
        substrings => all
            .into_iter()
            .filter(|p| substrings.split(',').any(|s| p.contains(s)))
            .collect(),
    }
}

fn selected_modes(against_postgres: bool) -> Vec<Mode> {
    if against_postgres {
        // PostgreSQL's materialized views are not maintained.
        return vec![Mode::OneOff];
    }
    let modes = std::env::var("FRESHET_CORPUS_MODES").unwrap_or_else(|_| "one-off,views".into());
    [Mode::OneOff, Mode::Views]
        .into_iter()
        .filter(|m| modes.split(',').any(|s| s.trim() == m.name()))
        .collect()
}

/// A failure cause with quoted names and standalone numbers blanked, so alike failures
/// group (a SQLSTATE such as `0A000` or `42P01` is kept: it is part of a word).
fn cause_class(cause: &str) -> String {
    let mut out = String::new();
    let mut in_quote = false;
    let mut after_colon = false;
    for (i, word) in cause.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let mut blanked = String::new();
        for c in word.chars() {
            if c == '"' {
                blanked.push_str(if in_quote { "\"" } else { "\"…" });
                in_quote = !in_quote;
            } else if !in_quote {
                blanked.push(c);
            }
        }
        let number = blanked.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        // A SQLSTATE follows `error:` (or `read view:`, ...) and is five characters.
        let sqlstate = after_colon && number.len() == 5;
        after_colon = word.ends_with(':');
        if !sqlstate && !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()) {
            out.push('N');
        } else {
            out.push_str(&blanked);
        }
    }
    out
}

struct ModeReport {
    mode: Mode,
    files: Vec<(String, Outcome, f64)>,
}

impl ModeReport {
    fn totals(&self) -> (usize, usize) {
        self.files
            .iter()
            .fold((0, 0), |(r, p), (_, o, _)| (r + o.records, p + o.passed))
    }
}

fn rate(passed: usize, records: usize) -> f64 {
    if records == 0 {
        1.0
    } else {
        passed as f64 / records as f64
    }
}

/// The group a script is reported in: `select`, `evidence`, `random/expr`, `index/between`.
fn group_of(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        [single] if single.starts_with("select") => "select1-5".into(),
        [first, second, ..] if *first == "random" || *first == "index" => {
            format!("{first}/{second}")
        }
        [first, ..] => first.to_string(),
        [] => String::new(),
    }
}

fn report(reports: &[ModeReport], engine: &str) -> String {
    let mut out = String::new();
    out.push_str(&format!("Engine: {engine}\n\n"));
    out.push_str("| mode | group | records | passed | pass rate | seconds |\n|---|---|---:|---:|---:|---:|\n");
    for report in reports {
        let mut groups: BTreeMap<String, (usize, usize, f64)> = BTreeMap::new();
        for (path, outcome, seconds) in &report.files {
            let entry = groups.entry(group_of(path)).or_default();
            entry.0 += outcome.records;
            entry.1 += outcome.passed;
            entry.2 += seconds;
        }
        for (group, (records, passed, seconds)) in &groups {
            out.push_str(&format!(
                "| {} | {group} | {records} | {passed} | {:.2}% | {seconds:.0} |\n",
                report.mode.name(),
                100.0 * rate(*passed, *records)
            ));
        }
        let (records, passed) = report.totals();
        out.push_str(&format!(
            "| {} | **all** | {records} | {passed} | **{:.2}%** | |\n",
            report.mode.name(),
            100.0 * rate(passed, records)
        ));
    }
    for report in reports {
        let mut causes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (path, outcome, _) in &report.files {
            for failure in &outcome.failures {
                let first_line = failure.sql.lines().next().unwrap_or_default();
                causes
                    .entry(cause_class(&failure.cause))
                    .or_default()
                    .push(format!(
                        "{path}:{} `{}` ({})",
                        failure.line,
                        first_line.trim(),
                        failure.cause
                    ));
            }
        }
        let mut causes: Vec<(String, Vec<String>)> = causes.into_iter().collect();
        causes.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        out.push_str(&format!(
            "\nFailures in {} mode, by cause:\n\n",
            report.mode.name()
        ));
        for (cause, examples) in causes {
            out.push_str(&format!("- {} × {cause}\n", examples.len()));
            for example in examples.iter().take(EXAMPLES_PER_CAUSE) {
                out.push_str(&format!("  - {example}\n"));
            }
        }
    }
    out
}

#[test]
fn failure_causes_group_by_message_with_names_and_numbers_blanked() {
    assert_eq!(
        cause_class("error: 42P01 relation \"t2\" does not exist"),
        "error: 42P01 relation \"…\" does not exist"
    );
    assert_eq!(
        cause_class("error: 42601 syntax error at Line: 1, Column: 9"),
        "error: 42601 syntax error at Line: N Column: N"
    );
}

#[test]
fn corpus_passes_in_one_off_and_view_modes() {
    let root = corpus_dir().unwrap_or_else(|e| panic!("{e}"));
    let scripts = selected_scripts(&root);
    assert!(!scripts.is_empty(), "FRESHET_CORPUS selects no script");
    let postgres_url = std::env::var("FRESHET_CORPUS_POSTGRES_URL").ok();
    let modes = selected_modes(postgres_url.is_some());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let reports: Vec<ModeReport> = runtime.block_on(async {
        let mut reports = Vec::new();
        for mode in modes {
            let mut files = Vec::new();
            for path in &scripts {
                let script =
                    script::read(&root.join(path), "postgresql").unwrap_or_else(|e| panic!("{e}"));
                let started = Instant::now();
                let outcome = match &postgres_url {
                    Some(url) => {
                        let mut dbs = FreshPostgresDatabases {
                            url: url.clone(),
                            created: 0,
                        };
                        corpus::run::run(&script, mode, &mut dbs).await
                    }
                    None => {
                        let mut dbs = FreshServers { server: None };
                        corpus::run::run(&script, mode, &mut dbs).await
                    }
                }
                .unwrap_or_else(|e| panic!("{path} ({} mode): {e}", mode.name()));
                let seconds = started.elapsed().as_secs_f64();
                eprintln!(
                    "{} {path}: {}/{} in {seconds:.1} s",
                    mode.name(),
                    outcome.passed,
                    outcome.records
                );
                files.push((path.clone(), outcome, seconds));
            }
            reports.push(ModeReport { mode, files });
        }
        reports
    });
    let engine = if postgres_url.is_some() {
        "PostgreSQL"
    } else {
        "Freshet"
    };
    let text = report(&reports, engine);
    let report_path = std::env::var("FRESHET_CORPUS_REPORT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/corpus-report.md"));
    let _ = std::fs::write(&report_path, &text);
    // Every failure, one per line, for whoever works through them.
    let mut all_failures = String::new();
    for report in &reports {
        for (path, outcome, _) in &report.files {
            for failure in &outcome.failures {
                all_failures.push_str(&format!(
                    "{}\t{path}:{}\t{}\t{}\n",
                    report.mode.name(),
                    failure.line,
                    failure.cause,
                    failure.sql.replace('\n', " ")
                ));
            }
        }
    }
    let _ = std::fs::write(report_path.with_extension("failures.tsv"), all_failures);
    println!("{text}");
    for report in &reports {
        let (records, passed) = report.totals();
        assert!(
            rate(passed, records) >= TARGET_PASS_RATE,
            "{} mode passed {passed} of {records} records, below {:.1}% (report: {})",
            report.mode.name(),
            100.0 * TARGET_PASS_RATE,
            report_path.display()
        );
    }
}

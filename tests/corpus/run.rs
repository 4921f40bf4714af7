//! Runs the records of one corpus script against a fresh database, in one of two modes, and
//! says which records passed.
//!
//! - [`Mode::OneOff`]: every record as written, in order.
//! - [`Mode::Views`]: each run of consecutive queries is also created as materialized views
//!   *before* the trailing writes that precede the run (the last half of the INSERT / UPDATE /
//!   DELETE statements just before it, rounded up), so their results come through the
//!   incremental path; each view is read after those writes and checked. A view is a
//!   multiset: with `rowsort` / `valuesort` its rows are checked against the expectation
//!   directly; with `nosort` (the order comes from the query's ORDER BY) they must equal, as
//!   a multiset, the one-off query's rows, which are checked in order. Views are created at
//!   most [`VIEWS_AT_ONCE`] at a time; a later group of the same run starts over on a fresh
//!   database with the statements before the held-back writes replayed (unchecked), so every
//!   group sees the same writes arrive.
//!
//! Invariant: every applicable record is counted exactly once per mode, as passed or as a
//! [`Failure`] with its cause; replayed statements are not counted again.

use std::time::Duration;

use tokio_postgres::{Client, SimpleQueryMessage};

use super::check::{matches, ordered_values, render};
use super::script::{Record, Script, SortMode};

/// How long one statement may run before its record fails (a hang must not stall the run).
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(60);

/// The most materialized views alive at once in [`Mode::Views`] (bounds the server's memory
/// on scripts with thousands of queries).
pub const VIEWS_AT_ONCE: usize = 250;

/// How the queries of a script are run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    OneOff,
    Views,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::OneOff => "one-off",
            Mode::Views => "views",
        }
    }
}

/// A record that did not pass.
#[derive(Clone, Debug)]
pub struct Failure {
    pub line: usize,
    pub sql: String,
    /// Why, in a form that groups alike failures (`wrong result`, `error: <message>`, ...).
    pub cause: String,
}

/// What running one script in one mode gave.
#[derive(Debug, Default)]
pub struct Outcome {
    pub records: usize,
    pub passed: usize,
    pub failures: Vec<Failure>,
}

/// Where the fresh databases come from.
#[allow(async_fn_in_trait)]
pub trait Databases {
    /// A client of a new, empty database (the previous one may be thrown away).
    async fn fresh(&mut self) -> Result<Client, String>;
    /// A client of the current database (after a connection was lost to a timeout).
    async fn reconnect(&mut self) -> Result<Client, String>;
}

/// Runs `script` in `mode`.
pub async fn run(script: &Script, mode: Mode, dbs: &mut impl Databases) -> Result<Outcome, String> {
    let mut runner = Runner {
        client: dbs.fresh().await?,
        outcome: Outcome::default(),
        next_view: 0,
    };
    match mode {
        Mode::OneOff => {
            for record in &script.records {
                runner.check_record(record, dbs).await?;
            }
        }
        Mode::Views => runner.run_as_views(&script.records, dbs).await?,
    }
    Ok(runner.outcome)
}

/// The outcome of one statement sent to the database.
enum Reply {
    Rows(Vec<Vec<Option<String>>>),
    Error(String),
    Timeout,
}

impl Reply {
    /// The rows, or the failure cause: `<what>: <message>` (`error: ...` when `what` is
    /// `None`), or `<what>: timeout` (`timeout`).
    fn rows(self, what: Option<&str>) -> Result<Vec<Vec<Option<String>>>, String> {
        match (self, what) {
            (Reply::Rows(rows), _) => Ok(rows),
            (Reply::Error(message), Some(what)) => Err(format!("{what}: {message}")),
            (Reply::Error(message), None) => Err(format!("error: {message}")),
            (Reply::Timeout, Some(what)) => Err(format!("{what}: timeout")),
            (Reply::Timeout, None) => Err("timeout".into()),
        }
    }
}

struct Runner {
    client: Client,
    outcome: Outcome,
    next_view: usize,
}

impl Runner {
    async fn send(&mut self, sql: &str, dbs: &mut impl Databases) -> Result<Reply, String> {
        match tokio::time::timeout(STATEMENT_TIMEOUT, self.client.simple_query(sql)).await {
            Ok(Ok(messages)) => Ok(Reply::Rows(
                messages
                    .into_iter()
                    .filter_map(|m| match m {
                        SimpleQueryMessage::Row(row) => Some(
                            (0..row.len())
                                .map(|i| row.get(i).map(str::to_string))
                                .collect(),
                        ),
                        _ => None,
                    })
                    .collect(),
            )),
            Ok(Err(e)) => {
                if e.is_closed() {
                    return Err(format!("the server closed the connection at: {sql}\n{e}"));
                }
                Ok(Reply::Error(match e.as_db_error() {
                    Some(db) => format!("{} {}", db.code().code(), db.message()),
                    None => e.to_string(),
                }))
            }
            Err(_) => {
                // The connection is busy with the abandoned statement: use a new one.
                self.client = dbs.reconnect().await?;
                Ok(Reply::Timeout)
            }
        }
    }

    fn pass(&mut self) {
        self.outcome.records += 1;
        self.outcome.passed += 1;
    }

    fn fail(&mut self, record: &Record, cause: String) {
        self.outcome.records += 1;
        self.outcome.failures.push(Failure {
            line: record.line(),
            sql: record.sql().to_string(),
            cause,
        });
    }

    /// Runs one record as written and counts it.
    async fn check_record(
        &mut self,
        record: &Record,
        dbs: &mut impl Databases,
    ) -> Result<(), String> {
        let reply = self.send(record.sql(), dbs).await?;
        match (record, reply) {
            (
                Record::Statement {
                    expect_ok: true, ..
                },
                Reply::Rows(_),
            ) => self.pass(),
            (
                Record::Statement {
                    expect_ok: false, ..
                },
                Reply::Error(_),
            ) => self.pass(),
            (
                Record::Statement {
                    expect_ok: false, ..
                },
                Reply::Rows(_),
            ) => self.fail(record, "statement succeeded, expected an error".into()),
            (
                Record::Query {
                    types,
                    sort,
                    expected,
                    ..
                },
                Reply::Rows(rows),
            ) => {
                let values = ordered_values(rendered(&rows, types), *sort);
                if matches(&values, expected) {
                    self.pass()
                } else {
                    self.fail(record, "wrong result".into())
                }
            }
            (_, failed) => {
                let cause = failed.rows(None).err().unwrap_or_default();
                self.fail(record, cause)
            }
        }
        Ok(())
    }

    /// Runs a statement without counting it (a replay).
    async fn replay(&mut self, record: &Record, dbs: &mut impl Databases) -> Result<(), String> {
        self.send(record.sql(), dbs).await.map(|_| ())
    }

    async fn run_as_views(
        &mut self,
        records: &[Record],
        dbs: &mut impl Databases,
    ) -> Result<(), String> {
        // Records before `applied` have been sent to the current database.
        let mut applied = 0;
        // Statements before `counted` have been counted (later sends are replays).
        let mut counted = 0;
        let mut run_start = 0;
        while run_start < records.len() {
            if !matches!(records[run_start], Record::Query { .. }) {
                run_start += 1;
                continue;
            }
            let mut run_end = run_start;
            while run_end < records.len() && matches!(records[run_end], Record::Query { .. }) {
                run_end += 1;
            }
            let held_from = run_start - held_back_writes(&records[applied..run_start]);
            for group in (run_start..run_end)
                .collect::<Vec<_>>()
                .chunks(VIEWS_AT_ONCE)
            {
                if applied > held_from {
                    self.client = dbs.fresh().await?;
                    applied = 0;
                }
                self.statements(records, applied..held_from, &mut counted, dbs)
                    .await?;
                let mut views = Vec::with_capacity(group.len());
                for &index in group {
                    views.push(self.create_view(&records[index], dbs).await?);
                }
                self.statements(records, held_from..run_start, &mut counted, dbs)
                    .await?;
                applied = run_start;
                for (&index, view) in group.iter().zip(views) {
                    self.check_view(&records[index], view, dbs).await?;
                }
            }
            applied = run_end;
            counted = counted.max(run_end);
            run_start = run_end;
        }
        self.statements(records, applied..records.len(), &mut counted, dbs)
            .await
    }

    /// Sends the statement records in `range` (queries in it are skipped: they were checked
    /// as views), counting those at or after `counted` and replaying the others.
    async fn statements(
        &mut self,
        records: &[Record],
        range: std::ops::Range<usize>,
        counted: &mut usize,
        dbs: &mut impl Databases,
    ) -> Result<(), String> {
        for index in range {
            let record = &records[index];
            if !matches!(record, Record::Statement { .. }) {
                continue;
            }
            if index < *counted {
                self.replay(record, dbs).await?;
            } else {
                self.check_record(record, dbs).await?;
                *counted = index + 1;
            }
        }
        Ok(())
    }

    /// Creates the materialized view of a query record; `Err` of the inner result is the
    /// failure cause.
    async fn create_view(
        &mut self,
        record: &Record,
        dbs: &mut impl Databases,
    ) -> Result<Result<String, String>, String> {
        let Record::Query { sql, types, .. } = record else {
            return Ok(Err("not a query".into()));
        };
        let name = format!("corpus_v{}", self.next_view);
        self.next_view += 1;
        let columns: Vec<String> = (1..=types.len()).map(|i| format!("c{i}")).collect();
        let create = format!(
            "CREATE MATERIALIZED VIEW {name} ({}) AS {sql}",
            columns.join(", ")
        );
        Ok(self
            .send(&create, dbs)
            .await?
            .rows(Some("create view"))
            .map(|_| name))
    }

    /// Reads a view created for a query record, checks it, and drops it.
    async fn check_view(
        &mut self,
        record: &Record,
        view: Result<String, String>,
        dbs: &mut impl Databases,
    ) -> Result<(), String> {
        let Record::Query {
            types,
            sort,
            expected,
            ..
        } = record
        else {
            return Ok(());
        };
        let name = match view {
            Ok(name) => name,
            Err(cause) => {
                self.fail(record, cause);
                return Ok(());
            }
        };
        let read = self.send(&format!("SELECT * FROM {name}"), dbs).await?;
        let _ = self
            .send(&format!("DROP MATERIALIZED VIEW {name}"), dbs)
            .await?;
        let mut view_rows = match read.rows(Some("read view")) {
            Ok(rows) => rendered(&rows, types),
            Err(cause) => {
                self.fail(record, cause);
                return Ok(());
            }
        };
        if *sort != SortMode::NoSort || view_rows.len() <= 1 {
            if matches(&ordered_values(view_rows, *sort), expected) {
                self.pass();
            } else {
                self.fail(record, "wrong result".into());
            }
            return Ok(());
        }
        // The order is the query's: take it from the one-off query, whose rows must be the
        // view's.
        let mut query_rows = match self.send(record.sql(), dbs).await?.rows(None) {
            Ok(rows) => rendered(&rows, types),
            Err(cause) => {
                self.fail(record, cause);
                return Ok(());
            }
        };
        let in_order = ordered_values(query_rows.clone(), SortMode::NoSort);
        query_rows.sort();
        view_rows.sort();
        if query_rows != view_rows {
            self.fail(record, "view differs from the one-off query".into());
        } else if matches(&in_order, expected) {
            self.pass();
        } else {
            self.fail(record, "wrong result".into());
        }
        Ok(())
    }
}

/// How many of the statements at the end of `block` are held back: half of its trailing
/// successful writes, rounded up.
fn held_back_writes(block: &[Record]) -> usize {
    let trailing = block
        .iter()
        .rev()
        .take_while(|r| match r {
            Record::Statement {
                sql,
                expect_ok: true,
                ..
            } => is_write(sql),
            _ => false,
        })
        .count();
    trailing.div_ceil(2)
}

fn is_write(sql: &str) -> bool {
    let first = sql
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    matches!(first.as_str(), "INSERT" | "UPDATE" | "DELETE")
}

fn rendered(rows: &[Vec<Option<String>>], types: &[char]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(i, v)| render(v.as_deref(), types.get(i).copied().unwrap_or('T')))
                .collect()
        })
        .collect()
}

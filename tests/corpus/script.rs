//! Reads a script of SQLite's sqllogictest corpus into the records that apply to one engine
//! label (`postgresql`).
//!
//! The corpus is written in SQLite's dialect of the format, which the `sqllogictest` crate's
//! parser does not read: condition lines carry trailing comments (`onlyif mysql # DIV for
//! integer division:`) and a `halt` may be conditional (`onlyif mssql` then `halt` stops the
//! script for mssql only). The grammar handled here is the whole of SQLite's:
//!
//! - `statement ok` | `statement error`, then SQL up to a blank line;
//! - `query <types> [nosort|rowsort|valuesort] [label]`, then SQL, `----`, and one result
//!   value per line (or `N values hashing to <md5>`) up to a blank line;
//! - `hash-threshold N`, `halt`, `onlyif L` / `skipif L` (applying to the next record),
//!   and `#` comments.
//!
//! Invariant: every returned record applies to the label; records guarded away are counted
//! in [`Script::skipped`] and nothing after an applicable `halt` is returned.

use std::path::Path;

/// How a query's result rows are put in order before they are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // the corpus's own words: nosort, rowsort, valuesort
pub enum SortMode {
    /// As the engine returned them (the query has an ORDER BY, or one row).
    NoSort,
    /// Rows sorted by their rendered values, column by column.
    RowSort,
    /// Every value sorted on its own, ignoring rows.
    ValueSort,
}

/// What a query is expected to return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// The rendered values, one per entry, in order.
    Values(Vec<String>),
    /// The number of values and the MD5 of the rendered values, each followed by `\n`.
    Hash { count: usize, md5: String },
}

/// One applicable record of a script.
#[derive(Clone, Debug)]
pub enum Record {
    Statement {
        line: usize,
        sql: String,
        expect_ok: bool,
    },
    Query {
        line: usize,
        sql: String,
        /// One letter per column: `I` integer, `R` real (printed with 3 decimals), `T` text.
        types: Vec<char>,
        sort: SortMode,
        /// Result sets with more values than this compare by hash (0: never).
        hash_threshold: usize,
        expected: Expected,
    },
}

impl Record {
    pub fn line(&self) -> usize {
        match self {
            Record::Statement { line, .. } | Record::Query { line, .. } => *line,
        }
    }

    pub fn sql(&self) -> &str {
        match self {
            Record::Statement { sql, .. } | Record::Query { sql, .. } => sql,
        }
    }
}

/// The applicable records of one script.
#[derive(Debug, Default)]
pub struct Script {
    pub records: Vec<Record>,
    /// Statement and query records guarded away from the label.
    pub skipped: usize,
}

/// Reads and parses the script at `path` for `label`.
pub fn read(path: &Path, label: &str) -> Result<Script, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text, label).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses the text of a script for `label`.
pub fn parse(text: &str, label: &str) -> Result<Script, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut script = Script::default();
    let mut hash_threshold = 0usize;
    // Whether the conditions seen since the last record let the next record apply.
    let mut applies = true;
    let mut i = 0;
    while i < lines.len() {
        let line_no = i + 1;
        let words: Vec<&str> = words_before_comment(lines[i]);
        i += 1;
        match words.as_slice() {
            [] => {}
            ["onlyif", l] => applies &= *l == label,
            ["skipif", l] => applies &= *l != label,
            ["hash-threshold", n] => {
                hash_threshold = n
                    .parse()
                    .map_err(|_| format!("line {line_no}: bad hash-threshold {n}"))?;
            }
            ["halt"] => {
                if applies {
                    break;
                }
                applies = true;
            }
            ["statement", outcome] => {
                let expect_ok = match *outcome {
                    "ok" => true,
                    "error" => false,
                    other => return Err(format!("line {line_no}: bad statement outcome {other}")),
                };
                let (sql, next) = take_until_blank(&lines, i);
                i = next;
                if applies {
                    script.records.push(Record::Statement {
                        line: line_no,
                        sql,
                        expect_ok,
                    });
                } else {
                    script.skipped += 1;
                }
                applies = true;
            }
            ["query", types, rest @ ..] => {
                let sort = match rest.first().copied() {
                    None | Some("nosort") => SortMode::NoSort,
                    Some("rowsort") => SortMode::RowSort,
                    Some("valuesort") => SortMode::ValueSort,
                    Some(other) => return Err(format!("line {line_no}: bad sort mode {other}")),
                };
                let (sql, results, next) = take_query(&lines, i);
                i = next;
                if applies {
                    script.records.push(Record::Query {
                        line: line_no,
                        sql,
                        types: types.chars().collect(),
                        sort,
                        hash_threshold,
                        expected: expected_of(results),
                    });
                } else {
                    script.skipped += 1;
                }
                applies = true;
            }
            other => return Err(format!("line {line_no}: unknown record {other:?}")),
        }
    }
    Ok(script)
}

/// The whitespace-separated words of a line, up to a `#` comment.
fn words_before_comment(line: &str) -> Vec<&str> {
    line.split_whitespace()
        .take_while(|w| !w.starts_with('#'))
        .collect()
}

/// The lines from `start` up to the next blank line, joined; and the index after them.
fn take_until_blank(lines: &[&str], start: usize) -> (String, usize) {
    let mut end = start;
    while end < lines.len() && !lines[end].trim().is_empty() {
        end += 1;
    }
    (lines[start..end].join("\n"), end)
}

/// A query's SQL (up to `----` or a blank line), its result lines, and the index after them.
fn take_query(lines: &[&str], start: usize) -> (String, Vec<String>, usize) {
    let mut end = start;
    while end < lines.len() && !lines[end].trim().is_empty() && lines[end] != "----" {
        end += 1;
    }
    let sql = lines[start..end].join("\n");
    let mut results = Vec::new();
    if end < lines.len() && lines[end] == "----" {
        end += 1;
        while end < lines.len() && !lines[end].trim().is_empty() {
            results.push(lines[end].trim_end().to_string());
            end += 1;
        }
    }
    (sql, results, end)
}

fn expected_of(results: Vec<String>) -> Expected {
    if let [only] = results.as_slice() {
        let words: Vec<&str> = only.split(' ').collect();
        if let [count, "values", "hashing", "to", md5] = words.as_slice()
            && let Ok(count) = count.parse()
        {
            return Expected::Hash {
                count,
                md5: md5.to_string(),
            };
        }
    }
    Expected::Values(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_with_comments_guard_the_next_record_only() {
        let text = "onlyif mysql # DIV for integer division:\nquery I nosort\nSELECT 1 DIV 2\n----\n0\n\nskipif mysql # not compatible\nquery I nosort\nSELECT 1 / 2\n----\n0\n\nstatement ok\nSELECT 1\n";
        let script = parse(text, "postgresql").unwrap();
        assert_eq!(script.skipped, 1);
        assert_eq!(script.records.len(), 2);
        assert_eq!(script.records[0].sql(), "SELECT 1 / 2");
    }

    #[test]
    fn a_halt_guarded_for_another_engine_does_not_stop_the_script() {
        let text =
            "onlyif mssql\nhalt\n\nstatement ok\nSELECT 1\n\nhalt\n\nstatement ok\nSELECT 2\n";
        let script = parse(text, "postgresql").unwrap();
        assert_eq!(script.records.len(), 1);
        assert_eq!(script.records[0].sql(), "SELECT 1");
    }

    #[test]
    fn hashed_results_and_threshold_are_read() {
        let text = "hash-threshold 8\n\nquery II rowsort\nSELECT a, b FROM t\n----\n60 values hashing to 808146289313018fce25f1a280bd8c30\n";
        let script = parse(text, "postgresql").unwrap();
        match &script.records[0] {
            Record::Query {
                types,
                sort,
                hash_threshold,
                expected,
                ..
            } => {
                assert_eq!(types, &vec!['I', 'I']);
                assert_eq!(*sort, SortMode::RowSort);
                assert_eq!(*hash_threshold, 8);
                assert_eq!(
                    expected,
                    &Expected::Hash {
                        count: 60,
                        md5: "808146289313018fce25f1a280bd8c30".into()
                    }
                );
            }
            other => panic!("expected a query, got {other:?}"),
        }
    }
}

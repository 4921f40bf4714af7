//! PostgreSQL's COPY input formats, parsed into rows of text fields: `text` (tab-separated,
//! `\N` for NULL, backslash escapes) and `csv` (RFC 4180 via the `csv` crate, with
//! PostgreSQL's options: delimiter, quote, escape, NULL string, header).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CopyFormat {
    Text {
        delimiter: u8,
        null: String,
    },
    Csv {
        delimiter: u8,
        quote: u8,
        escape: u8,
        null: String,
        header: bool,
    },
}

impl CopyFormat {
    pub fn text() -> CopyFormat {
        CopyFormat::Text {
            delimiter: b'\t',
            null: "\\N".into(),
        }
    }

    pub fn csv() -> CopyFormat {
        CopyFormat::Csv {
            delimiter: b',',
            quote: b'"',
            escape: b'"',
            null: String::new(),
            header: false,
        }
    }
}

/// The rows of COPY data, each a list of fields (`None` is NULL), or a message saying what is
/// wrong and on which line.
pub fn parse_copy(data: &[u8], format: &CopyFormat) -> Result<Vec<Vec<Option<String>>>, String> {
    match format {
        CopyFormat::Text { delimiter, null } => {
            let text = std::str::from_utf8(data)
                .map_err(|_| "invalid byte sequence for encoding \"UTF8\"".to_string())?;
            let mut rows = Vec::new();
            let lines: Vec<&str> = text.split('\n').collect();
            for (n, line) in lines.iter().enumerate() {
                let line = line.strip_suffix('\r').unwrap_or(line);
                if line == "\\." || (line.is_empty() && n + 1 == lines.len()) {
                    break;
                }
                rows.push(
                    line.split(*delimiter as char)
                        .map(|field| {
                            if field == null {
                                Ok(None)
                            } else {
                                unescape(field).map(Some)
                            }
                        })
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| format!("{e} (line {})", n + 1))?,
                );
            }
            Ok(rows)
        }
        CopyFormat::Csv {
            delimiter,
            quote,
            escape,
            null,
            header,
        } => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(*header)
                .delimiter(*delimiter)
                .quote(*quote)
                .escape(if escape == quote { None } else { Some(*escape) })
                .double_quote(escape == quote)
                .flexible(true)
                .from_reader(data);
            let mut rows = Vec::new();
            for (n, record) in reader.byte_records().enumerate() {
                let record = record.map_err(|e| format!("invalid CSV (record {}): {e}", n + 1))?;
                let position = record.position().map(|p| p.byte() as usize);
                let mut fields = Vec::with_capacity(record.len());
                for (i, field) in record.iter().enumerate() {
                    let text = std::str::from_utf8(field)
                        .map_err(|_| "invalid byte sequence for encoding \"UTF8\"".to_string())?;
                    // PostgreSQL: an unquoted field equal to the NULL string is NULL; a quoted
                    // one is the string itself.
                    let quoted = position
                        .is_some_and(|p| raw_field_is_quoted(data, p, i, *delimiter, *quote));
                    fields.push(if text == null && !quoted {
                        None
                    } else {
                        Some(text.to_string())
                    });
                }
                if fields.len() == 1 && fields[0].as_deref() == Some("\\.") {
                    break;
                }
                rows.push(fields);
            }
            Ok(rows)
        }
    }
}

/// Whether field `index` of the record starting at byte `start` begins with a quote.
fn raw_field_is_quoted(data: &[u8], start: usize, index: usize, delimiter: u8, quote: u8) -> bool {
    let mut field = 0;
    let mut in_quotes = false;
    let mut at_field_start = true;
    for &b in &data[start.min(data.len())..] {
        if at_field_start && field == index {
            return b == quote;
        }
        at_field_start = false;
        if b == quote {
            in_quotes = !in_quotes;
        } else if !in_quotes && b == delimiter {
            field += 1;
            at_field_start = true;
        } else if !in_quotes && (b == b'\n' || b == b'\r') {
            return false;
        }
    }
    false
}

fn unescape(field: &str) -> Result<String, String> {
    if !field.contains('\\') {
        return Ok(field.to_string());
    }
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some('\\') => out.push('\\'),
            Some(other) => out.push(other),
            None => return Err("end-of-copy marker corrupt".into()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format_splits_tabs_and_reads_null_and_escapes() {
        let rows = parse_copy(b"1\ta\\tb\n2\t\\N\n\\.\n", &CopyFormat::text()).unwrap();
        assert_eq!(
            rows,
            vec![
                vec![Some("1".into()), Some("a\tb".into())],
                vec![Some("2".into()), None]
            ]
        );
    }

    #[test]
    fn csv_distinguishes_empty_unquoted_null_from_quoted_empty_string() {
        let rows = parse_copy(b"1,,\"\"\n2,\"x,y\",z\n", &CopyFormat::csv()).unwrap();
        assert_eq!(rows[0], vec![Some("1".into()), None, Some(String::new())]);
        assert_eq!(
            rows[1],
            vec![Some("2".into()), Some("x,y".into()), Some("z".into())]
        );
    }

    #[test]
    fn csv_header_is_skipped() {
        let format = CopyFormat::Csv {
            delimiter: b',',
            quote: b'"',
            escape: b'"',
            null: String::new(),
            header: true,
        };
        let rows = parse_copy(b"a,b\n1,2\n", &format).unwrap();
        assert_eq!(rows, vec![vec![Some("1".into()), Some("2".into())]]);
    }
}

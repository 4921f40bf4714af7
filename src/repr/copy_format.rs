//! PostgreSQL's COPY data formats: `text` (tab-separated, `\N` for NULL, backslash escapes),
//! `csv` (RFC 4180, with PostgreSQL's options: delimiter, quote, escape, NULL string, header,
//! forced quoting) and `binary` (a signature and header, then per tuple a field count and
//! length-prefixed fields).
//!
//! Input: `parse_copy` reads text and CSV into rows of text fields; `BinaryCopyReader` reads
//! binary tuples into raw fields (their values are decoded by the wire layer, which knows
//! each type's binary form). Output: `write_row` / `write_header` write one line of text or
//! CSV as PostgreSQL's COPY TO does; binary tuples are written by the wire layer between
//! `BINARY_HEADER` and `BINARY_TRAILER`.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CopyFormat {
    Text {
        delimiter: u8,
        null: String,
        /// COPY TO writes the column names first; COPY FROM skips the first line.
        header: bool,
    },
    Csv {
        delimiter: u8,
        quote: u8,
        escape: u8,
        null: String,
        header: bool,
        /// COPY TO only: the columns (by position) whose non-NULL values are always quoted.
        force_quote: Vec<usize>,
    },
    Binary,
}

impl CopyFormat {
    pub fn text() -> CopyFormat {
        CopyFormat::Text {
            delimiter: b'\t',
            null: "\\N".into(),
            header: false,
        }
    }

    pub fn csv() -> CopyFormat {
        CopyFormat::Csv {
            delimiter: b',',
            quote: b'"',
            escape: b'"',
            null: String::new(),
            header: false,
            force_quote: vec![],
        }
    }

    pub fn is_binary(&self) -> bool {
        matches!(self, CopyFormat::Binary)
    }
}

/// The 11-byte signature that starts binary COPY data.
pub const BINARY_SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// What binary COPY TO writes before the first tuple: the signature, flags 0 (no OIDs) and
/// an empty header extension.
pub const BINARY_HEADER: &[u8; 19] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// The field count -1 that ends binary COPY data.
pub const BINARY_TRAILER: &[u8; 2] = &[0xff, 0xff];

/// The rows of COPY data, each a list of fields (`None` is NULL), or a message saying what is
/// wrong and on which line. Binary data is read with `BinaryCopyReader` instead.
pub fn parse_copy(data: &[u8], format: &CopyFormat) -> Result<Vec<Vec<Option<String>>>, String> {
    match format {
        CopyFormat::Text {
            delimiter,
            null,
            header,
        } => {
            let text = std::str::from_utf8(data)
                .map_err(|_| "invalid byte sequence for encoding \"UTF8\"".to_string())?;
            let mut rows = Vec::new();
            let lines: Vec<&str> = text.split('\n').collect();
            for (n, line) in lines.iter().enumerate() {
                let line = line.strip_suffix('\r').unwrap_or(line);
                if line == "\\." || (line.is_empty() && n + 1 == lines.len()) {
                    break;
                }
                if *header && n == 0 {
                    continue;
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
            force_quote: _,
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
        CopyFormat::Binary => Err("binary COPY data is read with BinaryCopyReader".into()),
    }
}

/// Reads binary COPY data tuple by tuple. The messages of its errors are PostgreSQL's (all
/// SQLSTATE 22P04); the fields it returns are raw, for the caller to decode by type.
pub struct BinaryCopyReader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Tuples read so far (PostgreSQL counts them as lines).
    line: usize,
    done: bool,
}

impl<'a> BinaryCopyReader<'a> {
    /// Checks the signature, flags and header extension at the start of `data`.
    pub fn new(data: &'a [u8]) -> Result<BinaryCopyReader<'a>, String> {
        let mut reader = BinaryCopyReader {
            data,
            pos: 0,
            line: 0,
            done: false,
        };
        if reader.take(BINARY_SIGNATURE.len()) != Some(BINARY_SIGNATURE.as_slice()) {
            return Err("COPY file signature not recognized".into());
        }
        let flags = reader
            .int32()
            .ok_or("invalid COPY file header (missing flags)")?;
        if flags & (1 << 16) != 0 {
            return Err("invalid COPY file header (WITH OIDS)".into());
        }
        if (flags & !(1 << 16)) >> 16 != 0 {
            return Err("unrecognized critical flags in COPY file header".into());
        }
        let extension = reader
            .int32()
            .filter(|n| *n >= 0)
            .ok_or("invalid COPY file header (missing length)")?;
        reader
            .take(extension as usize)
            .ok_or("invalid COPY file header (wrong length)")?;
        Ok(reader)
    }

    /// The number of the tuple `next_tuple` returned last (1 for the first).
    pub fn line(&self) -> usize {
        self.line
    }

    /// The next tuple's fields (`None` is NULL), which must number `fields`; `None` at the
    /// trailer or at the end of the data.
    pub fn next_tuple(&mut self, fields: usize) -> Result<Option<Vec<Option<&'a [u8]>>>, String> {
        if self.done {
            return Ok(None);
        }
        // As PostgreSQL: the data may end without a trailer (but not inside a tuple).
        let Some(count) = self.int16() else {
            self.done = true;
            return Ok(None);
        };
        if count == -1 {
            self.done = true;
            if self.pos < self.data.len() {
                return Err("received copy data after EOF marker".into());
            }
            return Ok(None);
        }
        self.line += 1;
        if count < 0 || count as usize != fields {
            return Err(format!(
                "row field count is {count}, expected {fields} (line {})",
                self.line
            ));
        }
        let line = self.line;
        let eof = || format!("unexpected EOF in COPY data (line {line})");
        let mut tuple = Vec::with_capacity(fields);
        for _ in 0..fields {
            let size = self.int32().ok_or_else(eof)?;
            tuple.push(match size {
                -1 => None,
                n if n < 0 => return Err(format!("invalid field size (line {line})")),
                n => Some(self.take(n as usize).ok_or_else(eof)?),
            });
        }
        Ok(Some(tuple))
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let bytes = self.data.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(bytes)
    }

    fn int16(&mut self) -> Option<i16> {
        Some(i16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }

    fn int32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
}

/// Appends one line of COPY TO output in text or CSV format: `fields` are the values' text
/// forms (`None` is NULL), escaped or quoted as PostgreSQL's COPY TO does.
pub fn write_row(fields: &[Option<&str>], format: &CopyFormat, out: &mut Vec<u8>) {
    let single = fields.len() == 1;
    for (i, field) in fields.iter().enumerate() {
        match format {
            CopyFormat::Text {
                delimiter, null, ..
            } => {
                if i > 0 {
                    out.push(*delimiter);
                }
                match field {
                    None => out.extend_from_slice(null.as_bytes()),
                    Some(value) => write_text_field(value, *delimiter, out),
                }
            }
            CopyFormat::Csv {
                delimiter,
                quote,
                escape,
                null,
                force_quote,
                ..
            } => {
                if i > 0 {
                    out.push(*delimiter);
                }
                match field {
                    None => out.extend_from_slice(null.as_bytes()),
                    Some(value) => write_csv_field(
                        value,
                        force_quote.contains(&i) || value == null,
                        single,
                        (*delimiter, *quote, *escape),
                        out,
                    ),
                }
            }
            CopyFormat::Binary => {}
        }
    }
    out.push(b'\n');
}

/// The header line COPY TO writes first (the column names), if the format asks for one.
pub fn write_header(names: &[String], format: &CopyFormat, out: &mut Vec<u8>) {
    let header = match format {
        CopyFormat::Text { header, .. } | CopyFormat::Csv { header, .. } => *header,
        CopyFormat::Binary => false,
    };
    if !header {
        return;
    }
    // FORCE_QUOTE does not apply to the names.
    let format = match format {
        CopyFormat::Csv {
            delimiter,
            quote,
            escape,
            null,
            ..
        } => CopyFormat::Csv {
            delimiter: *delimiter,
            quote: *quote,
            escape: *escape,
            null: null.clone(),
            header: true,
            force_quote: vec![],
        },
        other => other.clone(),
    };
    let fields: Vec<Option<&str>> = names.iter().map(|n| Some(n.as_str())).collect();
    write_row(&fields, &format, out);
}

/// PostgreSQL's `CopyAttributeOutText`: backslash, the delimiter and the control characters
/// that have a letter escape are escaped.
fn write_text_field(value: &str, delimiter: u8, out: &mut Vec<u8>) {
    for &b in value.as_bytes() {
        let escaped = match b {
            b'\\' => b'\\',
            0x08 => b'b',
            0x0c => b'f',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x0b => b'v',
            b if b == delimiter => b,
            b => {
                out.push(b);
                continue;
            }
        };
        out.push(b'\\');
        out.push(escaped);
    }
}

/// PostgreSQL's `CopyAttributeOutCSV`: a value is quoted when forced to be, when it equals
/// the NULL string, when it holds the delimiter, the quote or a line break, or when it is
/// `\.` alone on its line; inside quotes, the quote and escape characters are escaped.
fn write_csv_field(
    value: &str,
    force: bool,
    single: bool,
    (delimiter, quote, escape): (u8, u8, u8),
    out: &mut Vec<u8>,
) {
    let bytes = value.as_bytes();
    let needs_quotes = force
        || (single && value == "\\.")
        || bytes
            .iter()
            .any(|&b| b == delimiter || b == quote || b == b'\n' || b == b'\r');
    if !needs_quotes {
        out.extend_from_slice(bytes);
        return;
    }
    out.push(quote);
    for &b in bytes {
        if b == quote || b == escape {
            out.push(escape);
        }
        out.push(b);
    }
    out.push(quote);
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
            force_quote: vec![],
        };
        let rows = parse_copy(b"a,b\n1,2\n", &format).unwrap();
        assert_eq!(rows, vec![vec![Some("1".into()), Some("2".into())]]);
    }

    #[test]
    fn text_header_is_skipped() {
        let format = CopyFormat::Text {
            delimiter: b'\t',
            null: "\\N".into(),
            header: true,
        };
        let rows = parse_copy(b"a\tb\n1\t2\n", &format).unwrap();
        assert_eq!(rows, vec![vec![Some("1".into()), Some("2".into())]]);
    }

    fn line(fields: &[Option<&str>], format: &CopyFormat) -> String {
        let mut out = Vec::new();
        write_row(fields, format, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_output_escapes_as_postgres() {
        // PostgreSQL 15: COPY (SELECT E'a\tb\\c\nd\re\bf\fg|h', NULL) TO STDOUT (DELIMITER '|')
        let format = CopyFormat::Text {
            delimiter: b'|',
            null: "\\N".into(),
            header: false,
        };
        assert_eq!(
            line(&[Some("a\tb\\c\nd\re\u{8}f\u{c}g|h\u{b}"), None], &format),
            "a\\tb\\\\c\\nd\\re\\bf\\fg\\|h\\v|\\N\n"
        );
        // Other control characters and non-ASCII text pass through.
        assert_eq!(line(&[Some("\u{1}é")], &CopyFormat::text()), "\u{1}é\n");
    }

    #[test]
    fn csv_output_quotes_as_postgres() {
        // PostgreSQL 15: COPY (SELECT 'x', '', NULL, 'q"uo,te', E'li\nne', E'\\.') TO STDOUT CSV
        assert_eq!(
            line(
                &[
                    Some("x"),
                    Some(""),
                    None,
                    Some("q\"uo,te"),
                    Some("li\nne"),
                    Some("\\.")
                ],
                &CopyFormat::csv()
            ),
            "x,\"\",,\"q\"\"uo,te\",\"li\nne\",\\.\n"
        );
        // `\.` alone on its line is quoted, so it does not read as the end of the data.
        assert_eq!(line(&[Some("\\.")], &CopyFormat::csv()), "\"\\.\"\n");
        let format = CopyFormat::Csv {
            delimiter: b';',
            quote: b'\'',
            escape: b'\\',
            null: "NULL".into(),
            header: false,
            force_quote: vec![0],
        };
        assert_eq!(
            line(&[Some("1"), Some("it's"), Some("NULL"), None], &format),
            "'1';'it\\'s';'NULL';NULL\n"
        );
    }

    #[test]
    fn header_lists_the_column_names_when_asked() {
        let names = vec!["a".to_string(), "b,c".to_string()];
        let mut out = Vec::new();
        write_header(&names, &CopyFormat::csv(), &mut out);
        assert!(out.is_empty());
        let format = CopyFormat::Csv {
            delimiter: b',',
            quote: b'"',
            escape: b'"',
            null: "a".into(),
            header: true,
            force_quote: vec![1],
        };
        write_header(&names, &format, &mut out);
        // As PostgreSQL: a name equal to the NULL string is quoted; FORCE_QUOTE is not applied.
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\",\"b,c\"\n");
    }

    fn binary(tuples: &[u8]) -> Vec<u8> {
        let mut data = BINARY_HEADER.to_vec();
        data.extend_from_slice(tuples);
        data
    }

    #[test]
    fn binary_tuples_are_read_with_nulls_until_the_trailer() {
        let data = binary(&[
            0, 2, 0, 0, 0, 1, 7, 0xff, 0xff, 0xff, 0xff, // (7, NULL)
            0, 2, 0, 0, 0, 0, 0, 0, 0, 2, 1, 2, // ('', [1, 2])
            0xff, 0xff,
        ]);
        let mut reader = BinaryCopyReader::new(&data).unwrap();
        assert_eq!(
            reader.next_tuple(2).unwrap(),
            Some(vec![Some(&[7u8][..]), None])
        );
        assert_eq!(
            reader.next_tuple(2).unwrap(),
            Some(vec![Some(&[][..]), Some(&[1u8, 2][..])])
        );
        assert_eq!(reader.line(), 2);
        assert_eq!(reader.next_tuple(2).unwrap(), None);
        assert_eq!(reader.next_tuple(2).unwrap(), None);
    }

    #[test]
    fn binary_header_and_framing_errors_are_postgres_messages() {
        let error = |data: &[u8]| match BinaryCopyReader::new(data) {
            Err(e) => e,
            Ok(mut reader) => loop {
                match reader.next_tuple(1) {
                    Err(e) => break e,
                    Ok(None) => panic!("no error in {data:?}"),
                    Ok(Some(_)) => {}
                }
            },
        };
        assert_eq!(
            error(b"PGCOPY\n\xff\r\n"),
            "COPY file signature not recognized"
        );
        assert_eq!(error(b"1\tx\n"), "COPY file signature not recognized");
        let mut with_oids = BINARY_HEADER.to_vec();
        with_oids[12] = 1;
        assert_eq!(error(&with_oids), "invalid COPY file header (WITH OIDS)");
        let mut critical = BINARY_HEADER.to_vec();
        critical[11] = 1;
        assert_eq!(
            error(&critical),
            "unrecognized critical flags in COPY file header"
        );
        let mut extension = BINARY_HEADER.to_vec();
        extension[18] = 4;
        assert_eq!(error(&extension), "invalid COPY file header (wrong length)");
        assert_eq!(
            error(&binary(&[0, 2])),
            "row field count is 2, expected 1 (line 1)"
        );
        assert_eq!(
            error(&binary(&[0, 1, 0, 0, 0, 4, 1])),
            "unexpected EOF in COPY data (line 1)"
        );
        assert_eq!(
            error(&binary(&[0xff, 0xff, 0])),
            "received copy data after EOF marker"
        );
    }
}

//! String functions, LIKE and regular expressions. Lengths and positions count characters,
//! not bytes, as PostgreSQL does with UTF-8.

use crate::expr::EvalError;
use crate::repr::Datum;
use std::cell::RefCell;
use std::collections::HashMap;

pub fn text(d: &Datum) -> Result<&str, EvalError> {
    match d {
        Datum::String(s) => Ok(s),
        other => Err(EvalError::Internal(format!(
            "expected a string, got {other:?}"
        ))),
    }
}

pub fn int(d: &Datum) -> Result<i64, EvalError> {
    match d {
        Datum::Int16(v) => Ok(*v as i64),
        Datum::Int32(v) => Ok(*v as i64),
        Datum::Int64(v) => Ok(*v),
        other => Err(EvalError::Internal(format!(
            "expected an integer, got {other:?}"
        ))),
    }
}

/// `substring(s from start [for count])`, 1-based; positions before the start count.
pub fn substring(s: &str, start: i64, count: Option<i64>) -> Result<String, EvalError> {
    if let Some(c) = count
        && c < 0
    {
        return Err(EvalError::InvalidParameter {
            message: "negative substring length not allowed".into(),
        });
    }
    let from = start.max(1);
    let end = count.map(|c| start.saturating_add(c));
    let chars = s.chars().enumerate().filter(|(i, _)| {
        let pos = *i as i64 + 1;
        pos >= from && end.is_none_or(|e| pos < e)
    });
    Ok(chars.map(|(_, c)| c).collect())
}

pub fn strpos(haystack: &str, needle: &str) -> i64 {
    match haystack.find(needle) {
        Some(byte) => haystack[..byte].chars().count() as i64 + 1,
        None => 0,
    }
}

pub fn trim(s: &str, chars: &str, left: bool, right: bool) -> String {
    let set: Vec<char> = chars.chars().collect();
    let mut out = s;
    if left {
        out = out.trim_start_matches(|c| set.contains(&c));
    }
    if right {
        out = out.trim_end_matches(|c| set.contains(&c));
    }
    out.to_string()
}

pub fn pad(s: &str, len: i64, fill: &str, left: bool) -> String {
    let len = len.max(0) as usize;
    let current: Vec<char> = s.chars().collect();
    if current.len() >= len {
        return current[..len].iter().collect();
    }
    let fill: Vec<char> = fill.chars().collect();
    if fill.is_empty() {
        return s.to_string();
    }
    let padding: String = fill.iter().cycle().take(len - current.len()).collect();
    if left {
        format!("{padding}{s}")
    } else {
        format!("{s}{padding}")
    }
}

pub fn left(s: &str, n: i64) -> String {
    let count = s.chars().count() as i64;
    let take = if n >= 0 { n } else { (count + n).max(0) };
    s.chars().take(take as usize).collect()
}

pub fn right(s: &str, n: i64) -> String {
    let count = s.chars().count() as i64;
    let take = if n >= 0 {
        n.min(count)
    } else {
        (count + n).max(0)
    };
    s.chars().skip((count - take) as usize).collect()
}

pub fn split_part(s: &str, delimiter: &str, n: i64) -> Result<String, EvalError> {
    if n == 0 {
        return Err(EvalError::InvalidParameter {
            message: "field position must not be zero".into(),
        });
    }
    let parts: Vec<&str> = if delimiter.is_empty() {
        vec![s]
    } else {
        s.split(delimiter).collect()
    };
    let index = if n > 0 { n - 1 } else { parts.len() as i64 + n };
    Ok(parts
        .get(index as usize)
        .filter(|_| index >= 0)
        .map(|p| p.to_string())
        .unwrap_or_default())
}

pub fn initcap(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if c.is_alphanumeric() {
            // The C locale: only ASCII letters change case.
            if start {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c.to_ascii_lowercase());
            }
            start = false;
        } else {
            out.push(c);
            start = true;
        }
    }
    out
}

/// SQL LIKE: `%` any run, `_` one character, `\` escapes the next character.
pub fn like(s: &str, pattern: &str, case_insensitive: bool) -> bool {
    let (s, pattern) = if case_insensitive {
        (s.to_lowercase(), pattern.to_lowercase())
    } else {
        (s.to_string(), pattern.to_string())
    };
    let s: Vec<char> = s.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    like_match(&s, &p)
}

fn like_match(s: &[char], p: &[char]) -> bool {
    // Iterative matching with backtracking on the last `%`.
    let (mut si, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                '%' => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                '_' => {
                    si += 1;
                    pi += 1;
                    continue;
                }
                '\\' if pi + 1 < p.len() && p[pi + 1] == s[si] => {
                    si += 1;
                    pi += 2;
                    continue;
                }
                c if c == s[si] => {
                    si += 1;
                    pi += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((star_pi, star_si)) => {
                pi = star_pi + 1;
                si = star_si + 1;
                star = Some((star_pi, star_si + 1));
            }
            None => return false,
        }
    }
    while pi < p.len() && p[pi] == '%' {
        pi += 1;
    }
    pi == p.len()
}

thread_local! {
    /// Compiled patterns, so a regex in a view is compiled once per worker, not per row.
    static REGEX_CACHE: RefCell<HashMap<(String, bool), regex::Regex>> = RefCell::new(HashMap::new());
}

/// Bound on cached patterns per thread (a view usually has a handful).
const REGEX_CACHE_CAPACITY: usize = 256;

pub fn with_regex<T>(
    pattern: &str,
    case_insensitive: bool,
    f: impl FnOnce(&regex::Regex) -> T,
) -> Result<T, EvalError> {
    REGEX_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let key = (pattern.to_string(), case_insensitive);
        if !cache.contains_key(&key) {
            let re = regex::RegexBuilder::new(pattern)
                .case_insensitive(case_insensitive)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| EvalError::InvalidParameter {
                    message: format!("invalid regular expression: {e}"),
                })?;
            if cache.len() >= REGEX_CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(key.clone(), re);
        }
        Ok(f(&cache[&key]))
    })
}

/// PostgreSQL's reserved keywords (and those that cannot be function or type names), which
/// `quote_ident` quotes although they are lower-case words.
const RESERVED_KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// `quote_ident`: `s` bare when it reads back as itself unquoted (lower-case letters,
/// digits, `_` and `$`, not starting with a digit or `$`, not a reserved word), else
/// double-quoted with inner quotes doubled.
pub fn quote_ident(s: &str) -> String {
    let bare = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
        && !RESERVED_KEYWORDS.contains(&s);
    if bare {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

/// `quote_literal`: `s` single-quoted with quotes doubled; with a backslash in it, an
/// escape string (`E'...'`) with backslashes doubled, as PostgreSQL writes it.
pub fn quote_literal(s: &str) -> String {
    let quoted = s.replace('\'', "''");
    if s.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

/// `pg_size_pretty`: `bytes` in the first unit (bytes, kB, MB, GB, TB, PB) in which it is
/// under 10240 (bytes) or under 20479 halves of the unit (the others), rounded half away
/// from zero, as PostgreSQL prints it. Integer division truncates toward zero, so negative sizes mirror
/// positive ones.
pub fn size_pretty(bytes: i128) -> String {
    const LIMIT: i128 = 10 * 1024;
    if bytes.abs() < LIMIT {
        return format!("{bytes} bytes");
    }
    // Halves of the unit: one extra bit, for rounding.
    let mut halves = bytes / (1 << 9);
    for unit in ["kB", "MB", "GB", "TB"] {
        if halves.abs() < LIMIT * 2 - 1 {
            return format!("{} {unit}", half_rounded(halves));
        }
        halves /= 1 << 10;
    }
    format!("{} PB", half_rounded(halves))
}

/// Half of `x`, rounded away from zero.
fn half_rounded(x: i128) -> i128 {
    (x + if x < 0 { -1 } else { 1 }) / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_pretty_matches_postgres() {
        // Values and answers from PostgreSQL 15.
        for (bytes, want) in [
            (0, "0 bytes"),
            (10239, "10239 bytes"),
            (10240, "10 kB"),
            (10752, "11 kB"),
            (-10752, "-11 kB"),
            (20971007, "20 MB"),
            (20971008, "20 MB"),
            (1_000_000_000, "954 MB"),
            (10_000_000_000_000, "9313 GB"),
            (1 << 62, "4096 PB"),
            (i64::MAX as i128, "8192 PB"),
        ] {
            assert_eq!(size_pretty(bytes), want, "{bytes}");
        }
    }

    #[test]
    fn like_handles_wildcards_and_escapes() {
        assert!(like("hello", "h%o", false));
        assert!(like("hello", "h_llo", false));
        assert!(!like("hello", "h_lo", false));
        assert!(like("HeLLo", "hello", true));
        assert!(like("50%", "50\\%", false));
        assert!(!like("500", "50\\%", false));
        assert!(like("", "%", false));
    }

    #[test]
    fn substring_counts_characters_from_one() {
        assert_eq!(substring("héllo", 2, Some(3)).unwrap(), "éll");
        assert_eq!(substring("hello", 0, Some(2)).unwrap(), "h");
        assert_eq!(strpos("héllo", "l"), 3);
    }

    #[test]
    fn quote_ident_quotes_upper_case_spaces_and_reserved_words_only() {
        assert_eq!(quote_ident("public"), "public");
        assert_eq!(quote_ident("schema_migrations"), "schema_migrations");
        assert_eq!(quote_ident("Foo"), "\"Foo\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident("select"), "\"select\"");
        assert_eq!(quote_ident("1a"), "\"1a\"");
    }

    #[test]
    fn quote_literal_doubles_quotes_and_escapes_backslashes() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b"), "E'a\\\\b'");
    }
}

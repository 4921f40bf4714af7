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

#[cfg(test)]
mod tests {
    use super::*;

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
}

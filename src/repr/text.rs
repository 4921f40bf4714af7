//! PostgreSQL's text input and output of datums: what psql shows, what COPY and the text
//! wire format carry, and how string literals become typed values.
//!
//! Output follows PostgreSQL 15 with its defaults (`DateStyle = ISO`, `IntervalStyle =
//! postgres`, `extra_float_digits = 1`, `TimeZone = UTC`, `bytea_output = hex`).

use super::{Datum, Interval, Jsonb, ScalarType};
use crate::expr::EvalError;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use rust_decimal::Decimal;
use std::fmt::Write;
use std::str::FromStr;

/// The text form of a non-NULL datum of type `typ`.
pub fn format_datum(datum: &Datum, typ: &ScalarType) -> String {
    match datum {
        Datum::Null => "NULL".into(),
        Datum::Bool(b) => if *b { "t" } else { "f" }.into(),
        Datum::Int16(i) => i.to_string(),
        Datum::Int32(i) => i.to_string(),
        Datum::Int64(i) => i.to_string(),
        Datum::Float32(f) => format_float(f.0 as f64, 6, true),
        Datum::Float64(f) => format_float(f.0, 15, false),
        Datum::Numeric(d) => d.to_string(),
        Datum::String(s) => match typ {
            ScalarType::Char { length } => {
                let mut s = s.clone();
                let len = s.chars().count();
                if len < *length as usize {
                    s.extend(std::iter::repeat_n(' ', *length as usize - len));
                }
                s
            }
            _ => s.clone(),
        },
        Datum::Bytes(b) => {
            let mut out = String::with_capacity(2 + b.len() * 2);
            out.push_str("\\x");
            for byte in b {
                let _ = write!(out, "{byte:02x}");
            }
            out
        }
        Datum::Date(d) => d.format("%Y-%m-%d").to_string(),
        Datum::Time(t) => format_time(t),
        Datum::Timestamp(ts) => format!(
            "{} {}",
            ts.date().format("%Y-%m-%d"),
            format_time(&ts.time())
        ),
        Datum::TimestampTz(ts) => {
            let naive = ts.naive_utc();
            format!(
                "{} {}+00",
                naive.date().format("%Y-%m-%d"),
                format_time(&naive.time())
            )
        }
        Datum::Interval(i) => format_interval(i),
        Datum::Jsonb(j) => j.as_str().to_string(),
        Datum::Uuid(u) => u.hyphenated().to_string(),
        // A vector prints its elements space-separated: `1 2`.
        Datum::Array(items) if typ.vector_element().is_some() => items
            .iter()
            .map(|d| format_datum(d, &ScalarType::Int64))
            .collect::<Vec<_>>()
            .join(" "),
        Datum::Array(items) => {
            let elem = typ.array_element().unwrap_or(ScalarType::Unknown);
            let parts: Vec<String> = items
                .iter()
                .map(|d| match d {
                    Datum::Null => "NULL".into(),
                    d => quote_array_element(&format_datum(d, &elem)),
                })
                .collect();
            format!("{{{}}}", parts.join(","))
        }
    }
}

fn quote_array_element(s: &str) -> String {
    let needs_quotes = s.is_empty()
        || s.eq_ignore_ascii_case("null")
        || s.chars()
            .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_whitespace());
    if !needs_quotes {
        return s.to_string();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Shortest round-trip digits, in PostgreSQL's layout: scientific notation when the decimal
/// exponent is below -4 or at least `precision` (15 for float8, 6 for float4).
fn format_float(v: f64, precision: i32, single: bool) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = if single {
        format!("{:e}", v as f32)
    } else {
        format!("{v:e}")
    };
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if negative { "-" } else { "" };
    if exp < -4 || exp >= precision {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{mantissa}e{exp_sign}{:02}", exp.abs());
    }
    let point = exp + 1; // digits before the decimal point
    if point <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!(
            "{sign}{digits}{}",
            "0".repeat(point as usize - digits.len())
        )
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{sign}{int}.{frac}")
    }
}

fn format_time(t: &NaiveTime) -> String {
    let micros = t.nanosecond() / 1_000;
    let base = format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second());
    if micros == 0 {
        base
    } else {
        let frac = format!("{micros:06}");
        format!("{base}.{}", frac.trim_end_matches('0'))
    }
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("{n} {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// PostgreSQL's `postgres` interval style: `1 year 2 mons 3 days 04:05:06.5`.
pub fn format_interval(i: &Interval) -> String {
    let mut parts = Vec::new();
    let years = i.months / 12;
    let months = i.months % 12;
    if years != 0 {
        parts.push(plural(years as i64, "year"));
    }
    if months != 0 {
        parts.push(plural(months as i64, "mon"));
    }
    if i.days != 0 {
        parts.push(plural(i.days as i64, "day"));
    }
    if i.micros != 0 || parts.is_empty() {
        let negative = i.micros < 0;
        let total = i.micros.unsigned_abs();
        let hours = total / 3_600_000_000;
        let minutes = (total / 60_000_000) % 60;
        let seconds = (total / 1_000_000) % 60;
        let micros = total % 1_000_000;
        let mut time = format!(
            "{}{hours:02}:{minutes:02}:{seconds:02}",
            if negative { "-" } else { "" }
        );
        if micros != 0 {
            let frac = format!("{micros:06}");
            time.push('.');
            time.push_str(frac.trim_end_matches('0'));
        }
        parts.push(time);
    }
    parts.join(" ")
}

fn invalid(typ: &ScalarType, input: &str) -> EvalError {
    EvalError::InvalidTextRepresentation {
        type_name: typ.sql_name(),
        input: input.to_string(),
    }
}

/// Parses PostgreSQL's text input for type `typ`.
pub fn parse_datum(text: &str, typ: &ScalarType) -> Result<Datum, EvalError> {
    let trimmed = text.trim();
    let out_of_range = |name: &str| {
        EvalError::NumericOutOfRange(format!(
            "value \"{trimmed}\" is out of range for type {name}"
        ))
    };
    Ok(match typ {
        ScalarType::Bool => match trimmed.to_lowercase().as_str() {
            "t" | "true" | "y" | "yes" | "on" | "1" => Datum::Bool(true),
            "f" | "false" | "n" | "no" | "off" | "0" => Datum::Bool(false),
            _ => return Err(invalid(typ, text)),
        },
        ScalarType::Int16 => Datum::Int16(
            parse_int(trimmed, typ, text)?
                .try_into()
                .map_err(|_| out_of_range("smallint"))?,
        ),
        // PostgreSQL reads an oid as unsigned, or as a negative number of the same bits.
        // (A `regclass` and friends named by their object's name are resolved by the
        // planner; here only their number is read.)
        ScalarType::Oid | ScalarType::Reg(_) => {
            let v = parse_int(trimmed, typ, text)?;
            if !(i128::from(i32::MIN)..=i128::from(u32::MAX)).contains(&v) {
                return Err(out_of_range("oid"));
            }
            Datum::Int64(i64::from(v as i64 as u32))
        }
        ScalarType::Int32 => Datum::Int32(
            parse_int(trimmed, typ, text)?
                .try_into()
                .map_err(|_| out_of_range("integer"))?,
        ),
        ScalarType::Int64 => Datum::Int64(
            parse_int(trimmed, typ, text)?
                .try_into()
                .map_err(|_| out_of_range("bigint"))?,
        ),
        ScalarType::Float32 => {
            Datum::f32(parse_float(trimmed).ok_or_else(|| invalid(typ, text))? as f32)
        }
        ScalarType::Float64 => Datum::f64(parse_float(trimmed).ok_or_else(|| invalid(typ, text))?),
        ScalarType::Numeric { typmod } => {
            let d = Decimal::from_str(trimmed)
                .or_else(|_| Decimal::from_scientific(trimmed))
                .map_err(|_| invalid(typ, text))?;
            Datum::Numeric(apply_numeric_typmod(d, *typmod)?)
        }
        ScalarType::String => Datum::String(text.to_string()),
        ScalarType::VarChar { max_length } => {
            Datum::String(enforce_length(text, *max_length, typ)?)
        }
        ScalarType::Char { length } => {
            let s = enforce_length(text, Some(*length), typ)?;
            Datum::String(s)
        }
        ScalarType::Bytes => Datum::Bytes(parse_bytea(text).ok_or_else(|| invalid(typ, text))?),
        ScalarType::Date => Datum::Date(parse_date(trimmed).ok_or_else(|| invalid(typ, text))?),
        ScalarType::Time => Datum::Time(parse_time(trimmed).ok_or_else(|| invalid(typ, text))?),
        ScalarType::Timestamp => Datum::Timestamp(
            parse_timestamp(trimmed)
                .ok_or_else(|| invalid(typ, text))?
                .0,
        ),
        ScalarType::TimestampTz => {
            let (naive, offset_secs) =
                parse_timestamp(trimmed).ok_or_else(|| invalid(typ, text))?;
            let utc = naive - chrono::Duration::seconds(offset_secs.unwrap_or(0) as i64);
            Datum::TimestampTz(DateTime::<Utc>::from_naive_utc_and_offset(utc, Utc))
        }
        ScalarType::Interval => {
            Datum::Interval(parse_interval(trimmed).ok_or_else(|| invalid(typ, text))?)
        }
        ScalarType::Jsonb => {
            Datum::Jsonb(Jsonb::parse(text).ok_or_else(|| invalid(&ScalarType::Jsonb, text))?)
        }
        ScalarType::Uuid => Datum::Uuid(parse_uuid(text).ok_or_else(|| invalid(typ, text))?),
        ScalarType::Array(elem) => {
            parse_array(trimmed, elem).ok_or_else(|| invalid(typ, text))??
        }
        // A vector reads as its elements, space-separated.
        ScalarType::Int2Vector | ScalarType::OidVector => {
            let elem = typ.vector_element().unwrap_or(ScalarType::Int16);
            Datum::Array(
                trimmed
                    .split_whitespace()
                    .map(|part| parse_datum(part, &elem))
                    .collect::<Result<_, _>>()?,
            )
        }
        ScalarType::Unknown => Datum::String(text.to_string()),
        // Whatever the text, void has its one value.
        ScalarType::Void => Datum::String(String::new()),
    })
}

fn parse_int(trimmed: &str, typ: &ScalarType, text: &str) -> Result<i128, EvalError> {
    let digits = trimmed.strip_prefix('+').unwrap_or(trimmed);
    if digits.is_empty()
        || !digits
            .trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_digit() || c == '_')
    {
        return Err(invalid(typ, text));
    }
    digits
        .replace('_', "")
        .parse::<i128>()
        .map_err(|_| match typ {
            ScalarType::Int16 => EvalError::NumericOutOfRange(format!(
                "value \"{trimmed}\" is out of range for type smallint"
            )),
            ScalarType::Int32 => EvalError::NumericOutOfRange(format!(
                "value \"{trimmed}\" is out of range for type integer"
            )),
            _ => EvalError::NumericOutOfRange(format!(
                "value \"{trimmed}\" is out of range for type bigint"
            )),
        })
}

fn parse_float(trimmed: &str) -> Option<f64> {
    match trimmed.to_lowercase().as_str() {
        "nan" => Some(f64::NAN),
        "infinity" | "+infinity" | "inf" | "+inf" => Some(f64::INFINITY),
        "-infinity" | "-inf" => Some(f64::NEG_INFINITY),
        other => other.parse::<f64>().ok().filter(|v| v.is_finite()),
    }
}

/// Rounds to the typmod's scale; errors when the integer part does not fit its precision.
pub fn apply_numeric_typmod(d: Decimal, typmod: Option<(u32, u32)>) -> Result<Decimal, EvalError> {
    let Some((precision, scale)) = typmod else {
        return Ok(d);
    };
    let rounded =
        d.round_dp_with_strategy(scale, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let mut rescaled = rounded;
    rescaled.rescale(scale);
    let integer_digits = rescaled
        .trunc()
        .abs()
        .to_string()
        .trim_start_matches('0')
        .len() as u32;
    if integer_digits > precision - scale {
        return Err(EvalError::NumericOutOfRange(format!(
            "numeric field overflow: a field with precision {precision}, scale {scale} must round to an absolute value less than 10^{}",
            precision - scale
        )));
    }
    Ok(rescaled)
}

/// Checks a string against `varchar(n)` / `char(n)`: too long is an error, unless the excess
/// is all spaces (which PostgreSQL trims silently).
pub fn enforce_length(text: &str, max: Option<u32>, typ: &ScalarType) -> Result<String, EvalError> {
    let Some(max) = max else {
        return Ok(text.to_string());
    };
    let len = text.chars().count();
    if len <= max as usize {
        return Ok(text.to_string());
    }
    let (head, tail): (String, String) = (
        text.chars().take(max as usize).collect(),
        text.chars().skip(max as usize).collect(),
    );
    if tail.chars().all(|c| c == ' ') {
        Ok(head)
    } else {
        Err(EvalError::StringTooLong(typ.sql_name()))
    }
}

/// PostgreSQL's uuid input: 32 hex digits, optionally in braces, with an optional hyphen
/// after any group of four digits but the last; no surrounding spaces.
fn parse_uuid(text: &str) -> Option<uuid::Uuid> {
    let inner = match text.strip_prefix('{') {
        Some(rest) => rest.strip_suffix('}')?,
        None => text,
    };
    let mut bytes = [0u8; 16];
    let mut digits = inner.chars();
    for (i, byte) in bytes.iter_mut().enumerate() {
        let high = digits.next()?.to_digit(16)?;
        let low = digits.next()?.to_digit(16)?;
        *byte = (high * 16 + low) as u8;
        if i % 2 == 1 && i < 15 && digits.as_str().starts_with('-') {
            digits.next();
        }
    }
    digits
        .as_str()
        .is_empty()
        .then(|| uuid::Uuid::from_bytes(bytes))
}

fn parse_bytea(text: &str) -> Option<Vec<u8>> {
    if let Some(hex) = text.strip_prefix("\\x") {
        if hex.len() % 2 != 0 {
            return None;
        }
        return (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
            .collect();
    }
    // Escape format: backslash escapes octal bytes and itself.
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
            } else {
                let oct = std::str::from_utf8(bytes.get(i + 1..i + 4)?).ok()?;
                out.push(u8::from_str_radix(oct, 8).ok()?);
                i += 4;
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y%m%d"))
        .ok()
}

pub fn parse_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
        .ok()
}

/// A timestamp, and the UTC offset (seconds) it was written with, if any.
pub fn parse_timestamp(s: &str) -> Option<(NaiveDateTime, Option<i32>)> {
    let s = s.trim();
    // Split off a zone: "Z", "UTC", or a numeric offset after the time.
    let (body, offset) = split_zone(s);
    let body = body.trim();
    let (date, time) = match body.split_once([' ', 'T']) {
        Some((d, t)) => (d, Some(t.trim())),
        None => (body, None),
    };
    let date = parse_date(date)?;
    let time = match time {
        Some(t) if !t.is_empty() => parse_time(t)?,
        _ => NaiveTime::MIN,
    };
    Some((NaiveDateTime::new(date, time), offset))
}

fn split_zone(s: &str) -> (&str, Option<i32>) {
    for suffix in ["Z", "z", " UTC", "UTC", " GMT", "+00", "+00:00"] {
        if let Some(body) = s.strip_suffix(suffix)
            && body.len() >= 10
        {
            return (body, Some(0));
        }
    }
    // A trailing +hh, +hh:mm, -hh or -hhmm after a time (position > 10 keeps dates intact).
    if let Some(pos) = s.rfind(['+', '-'])
        && pos > 10
    {
        let (body, zone) = s.split_at(pos);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let digits = zone[1..].replace(':', "");
        let (h, m) = match digits.len() {
            1 | 2 => (digits.parse::<i32>().ok(), Some(0)),
            4 => (
                digits[..2].parse::<i32>().ok(),
                digits[2..].parse::<i32>().ok(),
            ),
            _ => (None, None),
        };
        if let (Some(h), Some(m)) = (h, m) {
            return (body, Some(sign * (h * 3600 + m * 60)));
        }
    }
    (s, None)
}

/// PostgreSQL's interval input: `1 year 2 mons 3 days 04:05:06`, `2 hours 30 minutes`,
/// `-1 day`, `1-2` (years-months), `@ 1 day ago`, and plain seconds (`90`).
pub fn parse_interval(s: &str) -> Option<Interval> {
    let mut s = s.trim().to_lowercase();
    let mut negate = false;
    if let Some(rest) = s.strip_prefix('@') {
        s = rest.trim().to_string();
    }
    if let Some(rest) = s.strip_suffix("ago") {
        s = rest.trim().to_string();
        negate = true;
    }
    if s.is_empty() {
        return None;
    }
    let mut months: i64 = 0;
    let mut days: i64 = 0;
    let mut micros: f64 = 0.0;
    // "100ms" is "100 ms", as PostgreSQL reads it.
    let tokens: Vec<&str> = s
        .split_whitespace()
        .flat_map(|t| {
            let unit_at = t.find(|c: char| c.is_ascii_alphabetic());
            match unit_at {
                Some(k)
                    if k > 0
                        && t[..k].chars().any(|c| c.is_ascii_digit())
                        && t[..k]
                            .chars()
                            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'))
                        && t[k..].chars().all(|c| c.is_ascii_alphabetic()) =>
                {
                    vec![&t[..k], &t[k..]]
                }
                _ => vec![t],
            }
        })
        .collect();
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i];
        if token.contains(':') {
            let negative = token.starts_with('-');
            let parts: Vec<&str> = token.trim_start_matches(['-', '+']).split(':').collect();
            let h: f64 = parts.first()?.parse().ok()?;
            let m: f64 = parts.get(1).map(|p| p.parse().ok()).unwrap_or(Some(0.0))?;
            let sec: f64 = parts.get(2).map(|p| p.parse().ok()).unwrap_or(Some(0.0))?;
            let total = (h * 3600.0 + m * 60.0 + sec) * 1e6;
            micros += if negative { -total } else { total };
            i += 1;
            continue;
        }
        if let Some((y, m)) = token.split_once('-').filter(|(y, _)| !y.is_empty()) {
            let (y, m): (i64, i64) = (y.parse().ok()?, m.parse().ok()?);
            months += y * 12 + m;
            i += 1;
            continue;
        }
        let value: f64 = token.parse().ok()?;
        let unit = tokens.get(i + 1).copied();
        let unit_name = unit.map(|u| u.trim_end_matches(','));
        let consumed_unit = match unit_name {
            Some("year" | "years" | "yr" | "yrs" | "y") => {
                months += (value * 12.0).round() as i64;
                true
            }
            Some("month" | "months" | "mon" | "mons") => {
                let whole = value.trunc();
                months += whole as i64;
                days += ((value - whole) * 30.0).round() as i64;
                true
            }
            Some("week" | "weeks" | "w") => {
                days += (value * 7.0).trunc() as i64;
                micros += (value * 7.0).fract() * 86_400e6;
                true
            }
            Some("day" | "days" | "d") => {
                days += value.trunc() as i64;
                micros += value.fract() * 86_400e6;
                true
            }
            Some("hour" | "hours" | "hr" | "hrs" | "h") => {
                micros += value * 3_600e6;
                true
            }
            Some("minute" | "minutes" | "min" | "mins" | "m") => {
                micros += value * 60e6;
                true
            }
            Some("second" | "seconds" | "sec" | "secs" | "s") => {
                micros += value * 1e6;
                true
            }
            Some("millisecond" | "milliseconds" | "ms" | "msec" | "msecs") => {
                micros += value * 1e3;
                true
            }
            Some("microsecond" | "microseconds" | "us" | "usec" | "usecs") => {
                micros += value;
                true
            }
            None => {
                // A bare number is seconds.
                micros += value * 1e6;
                false
            }
            Some(_) => return None,
        };
        i += if consumed_unit { 2 } else { 1 };
    }
    let sign = if negate { -1 } else { 1 };
    Some(Interval {
        months: i32::try_from(months * sign).ok()?,
        days: i32::try_from(days * sign).ok()?,
        micros: (micros.round() as i64) * sign,
    })
}

fn parse_array(s: &str, elem: &ScalarType) -> Option<Result<Datum, EvalError>> {
    let inner = s.strip_prefix('{')?.strip_suffix('}')?;
    let mut items = Vec::new();
    if inner.trim().is_empty() {
        return Some(Ok(Datum::Array(items)));
    }
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut text = String::new();
        let quoted = chars.peek() == Some(&'"');
        if quoted {
            chars.next();
            loop {
                match chars.next()? {
                    '\\' => text.push(chars.next()?),
                    '"' => break,
                    c => text.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                text.push(c);
                chars.next();
            }
            text = text.trim().to_string();
        }
        if !quoted && text.eq_ignore_ascii_case("null") {
            items.push(Datum::Null);
        } else {
            match parse_datum(&text, elem) {
                Ok(d) => items.push(d),
                Err(e) => return Some(Err(e)),
            }
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => break,
            Some(',') => continue,
            Some(_) => return None,
        }
    }
    Some(Ok(Datum::Array(items)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_parse_as_postgres_reads_them() {
        let canonical = parse_uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        assert!(canonical.is_some());
        for same in [
            "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
            "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}",
            "a0eebc999c0b4ef8bb6d6bb9bd380a11",
            "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
        ] {
            assert_eq!(parse_uuid(same), canonical, "{same}");
        }
        for bad in [
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
            "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0e-ebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g",
        ] {
            assert_eq!(parse_uuid(bad), None, "{bad}");
        }
    }

    fn f8(v: f64) -> String {
        format_datum(&Datum::f64(v), &ScalarType::Float64)
    }

    #[test]
    fn floats_print_as_postgres_15() {
        assert_eq!(f8(0.1), "0.1");
        assert_eq!(f8(1e20), "1e+20");
        assert_eq!(f8(1.5e-7), "1.5e-07");
        assert_eq!(f8(123456.789), "123456.789");
        assert_eq!(f8(100.0), "100");
        assert_eq!(f8(0.0001), "0.0001");
        assert_eq!(f8(1e15), "1e+15");
        assert_eq!(f8(f64::NAN), "NaN");
        assert_eq!(
            format_datum(&Datum::f32(1234567.0), &ScalarType::Float32),
            "1.234567e+06"
        );
    }

    #[test]
    fn intervals_print_in_postgres_style() {
        assert_eq!(
            format_interval(&Interval::new(
                14,
                3,
                4 * 3_600_000_000 + 5 * 60_000_000 + 6_500_000
            )),
            "1 year 2 mons 3 days 04:05:06.5"
        );
        assert_eq!(format_interval(&Interval::new(0, 0, 0)), "00:00:00");
        assert_eq!(
            format_interval(&Interval::new(0, -1, -1_000_000)),
            "-1 days -00:00:01"
        );
    }

    #[test]
    fn intervals_parse_common_forms() {
        assert_eq!(parse_interval("1 day"), Some(Interval::new(0, 1, 0)));
        assert_eq!(
            parse_interval("2 hours 30 minutes"),
            Some(Interval::new(0, 0, 9_000_000_000))
        );
        assert_eq!(parse_interval("1-2"), Some(Interval::new(14, 0, 0)));
        assert_eq!(
            parse_interval("1 mon 2 days 01:00:00"),
            Some(Interval::new(1, 2, 3_600_000_000))
        );
        assert_eq!(
            parse_interval("5 minutes"),
            Some(Interval::new(0, 0, 300_000_000))
        );
        assert_eq!(parse_interval("nonsense"), None);
    }

    #[test]
    fn timestamps_with_offsets_become_utc() {
        let d = parse_datum("2024-01-02 03:04:05+02", &ScalarType::TimestampTz).unwrap();
        assert_eq!(
            format_datum(&d, &ScalarType::TimestampTz),
            "2024-01-02 01:04:05+00"
        );
        let d = parse_datum("2024-01-02T03:04:05.250", &ScalarType::Timestamp).unwrap();
        assert_eq!(
            format_datum(&d, &ScalarType::Timestamp),
            "2024-01-02 03:04:05.25"
        );
    }

    #[test]
    fn numeric_typmod_rounds_and_overflows() {
        let typ = ScalarType::Numeric {
            typmod: Some((5, 2)),
        };
        assert_eq!(
            format_datum(&parse_datum("1.005", &typ).unwrap(), &typ),
            "1.01"
        );
        assert_eq!(format_datum(&parse_datum("3", &typ).unwrap(), &typ), "3.00");
        assert_eq!(parse_datum("1000", &typ).unwrap_err().sqlstate(), "22003");
    }

    #[test]
    fn varchar_length_is_enforced_but_trailing_spaces_trim() {
        let typ = ScalarType::VarChar {
            max_length: Some(3),
        };
        assert_eq!(
            parse_datum("abc  ", &typ).unwrap(),
            Datum::String("abc".into())
        );
        assert_eq!(parse_datum("abcd", &typ).unwrap_err().sqlstate(), "22001");
    }

    #[test]
    fn bad_input_is_22p02() {
        assert_eq!(
            parse_datum("x1", &ScalarType::Int32)
                .unwrap_err()
                .sqlstate(),
            "22P02"
        );
        assert_eq!(
            parse_datum("99999999999", &ScalarType::Int32)
                .unwrap_err()
                .sqlstate(),
            "22003"
        );
    }

    #[test]
    fn arrays_round_trip() {
        let typ = ScalarType::Array(Box::new(ScalarType::String));
        let d = parse_datum(r#"{a,"b c",NULL,""}"#, &typ).unwrap();
        assert_eq!(format_datum(&d, &typ), r#"{a,"b c",NULL,""}"#);
    }
}

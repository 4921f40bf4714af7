//! Date and time arithmetic and functions.
//!
//! Arithmetic forms (as in PostgreSQL): `date ± integer → date`, `date - date → integer`,
//! `date ± interval → timestamp`, `timestamp[tz] ± interval → timestamp[tz]`,
//! `timestamp[tz] - timestamp[tz] → interval`, `interval ± interval`, `interval * / number`,
//! `time ± interval → time`. Adding an interval adds months (clamping the day of month),
//! then days, then microseconds.

use super::arith::to_f64;
use crate::expr::EvalError;
use crate::repr::{Datum, Interval};
use chrono::{
    DateTime, Datelike, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike,
    Utc,
};

fn out_of_range() -> EvalError {
    EvalError::DatetimeOutOfRange {
        message: "timestamp out of range".into(),
    }
}

/// A timestamp or timestamptz as microseconds since the epoch (UTC); `None` for anything
/// else (NULL included).
pub fn timestamp_micros(d: &Datum) -> Option<i64> {
    match d {
        Datum::TimestampTz(t) => Some(t.timestamp_micros()),
        Datum::Timestamp(t) => Some(t.and_utc().timestamp_micros()),
        _ => None,
    }
}

/// Microseconds since the epoch as a datum of the same kind as `like` (timestamp or
/// timestamptz).
pub fn timestamp_like(micros: i64, like: &Datum) -> Result<Datum, EvalError> {
    let at = DateTime::from_timestamp_micros(micros).ok_or_else(out_of_range)?;
    Ok(match like {
        Datum::Timestamp(_) => Datum::Timestamp(at.naive_utc()),
        _ => Datum::TimestampTz(at),
    })
}

pub fn add_interval(
    ts: NaiveDateTime,
    i: &Interval,
    sign: i64,
) -> Result<NaiveDateTime, EvalError> {
    let months = i.months as i64 * sign;
    let ts = if months >= 0 {
        ts.checked_add_months(Months::new(months as u32))
    } else {
        ts.checked_sub_months(Months::new((-months) as u32))
    }
    .ok_or_else(out_of_range)?;
    let ts = ts
        .checked_add_signed(Duration::days(i.days as i64 * sign))
        .ok_or_else(out_of_range)?;
    ts.checked_add_signed(Duration::microseconds(i.micros * sign))
        .ok_or_else(out_of_range)
}

fn interval_between(a: NaiveDateTime, b: NaiveDateTime) -> Interval {
    // PostgreSQL: whole days into `days`, the rest into the time part.
    let micros = (a - b).num_microseconds().unwrap_or(i64::MAX);
    let days = micros / Interval::MICROS_PER_DAY;
    Interval::new(0, days as i32, micros - days * Interval::MICROS_PER_DAY)
}

fn scale_interval(i: &Interval, factor: f64) -> Result<Interval, EvalError> {
    // Spill fractional months into days and fractional days into time, as PostgreSQL does.
    let months = i.months as f64 * factor;
    let whole_months = months.trunc();
    let days = i.days as f64 * factor + (months - whole_months) * 30.0;
    let whole_days = days.trunc();
    let micros = i.micros as f64 * factor + (days - whole_days) * Interval::MICROS_PER_DAY as f64;
    if !months.is_finite()
        || whole_months.abs() > i32::MAX as f64
        || whole_days.abs() > i32::MAX as f64
        || micros.abs() > i64::MAX as f64
    {
        return Err(EvalError::NumericOutOfRange("interval out of range".into()));
    }
    Ok(Interval::new(
        whole_months as i32,
        whole_days as i32,
        micros.round() as i64,
    ))
}

/// `a + b` / `a - b` (`sign` = -1) for date/time operands; `None` if not a temporal form.
pub fn add(a: &Datum, b: &Datum, sign: i64) -> Option<Result<Datum, EvalError>> {
    Some(match (a, b) {
        (Datum::Date(d), Datum::Int32(n)) => d
            .checked_add_signed(Duration::days(*n as i64 * sign))
            .map(Datum::Date)
            .ok_or_else(|| EvalError::DatetimeOutOfRange {
                message: "date out of range".into(),
            }),
        (Datum::Int32(n), Datum::Date(d)) if sign == 1 => d
            .checked_add_signed(Duration::days(*n as i64))
            .map(Datum::Date)
            .ok_or_else(|| EvalError::DatetimeOutOfRange {
                message: "date out of range".into(),
            }),
        (Datum::Date(x), Datum::Date(y)) if sign == -1 => {
            Ok(Datum::Int32((*x - *y).num_days() as i32))
        }
        (Datum::Date(d), Datum::Interval(i)) => {
            add_interval(d.and_time(NaiveTime::MIN), i, sign).map(Datum::Timestamp)
        }
        (Datum::Interval(i), Datum::Date(d)) if sign == 1 => {
            add_interval(d.and_time(NaiveTime::MIN), i, 1).map(Datum::Timestamp)
        }
        (Datum::Timestamp(t), Datum::Interval(i)) => {
            add_interval(*t, i, sign).map(Datum::Timestamp)
        }
        (Datum::Interval(i), Datum::Timestamp(t)) if sign == 1 => {
            add_interval(*t, i, 1).map(Datum::Timestamp)
        }
        (Datum::TimestampTz(t), Datum::Interval(i)) => add_interval(t.naive_utc(), i, sign)
            .map(|n| Datum::TimestampTz(Utc.from_utc_datetime(&n))),
        (Datum::Interval(i), Datum::TimestampTz(t)) if sign == 1 => {
            add_interval(t.naive_utc(), i, 1).map(|n| Datum::TimestampTz(Utc.from_utc_datetime(&n)))
        }
        (Datum::Timestamp(x), Datum::Timestamp(y)) if sign == -1 => {
            Ok(Datum::Interval(interval_between(*x, *y)))
        }
        (Datum::TimestampTz(x), Datum::TimestampTz(y)) if sign == -1 => Ok(Datum::Interval(
            interval_between(x.naive_utc(), y.naive_utc()),
        )),
        (Datum::Time(t), Datum::Interval(i)) => {
            let micros = i.micros * sign;
            Ok(Datum::Time(
                t.overflowing_add_signed(Duration::microseconds(micros)).0,
            ))
        }
        (Datum::Time(x), Datum::Time(y)) if sign == -1 => Ok(Datum::Interval(Interval::new(
            0,
            0,
            (*x - *y).num_microseconds().unwrap_or(0),
        ))),
        (Datum::Interval(x), Datum::Interval(y)) => {
            let months = (x.months as i64).checked_add(y.months as i64 * sign);
            let days = (x.days as i64).checked_add(y.days as i64 * sign);
            let micros = x.micros.checked_add(y.micros.saturating_mul(sign));
            match (
                months.and_then(|m| i32::try_from(m).ok()),
                days.and_then(|d| i32::try_from(d).ok()),
                micros,
            ) {
                (Some(m), Some(d), Some(u)) => Ok(Datum::Interval(Interval::new(m, d, u))),
                _ => Err(EvalError::NumericOutOfRange("interval out of range".into())),
            }
        }
        _ => return None,
    })
}

/// `interval * number`, `number * interval`, `interval / number`.
pub fn scale(a: &Datum, b: &Datum, divide: bool) -> Option<Result<Datum, EvalError>> {
    let (i, factor) = match (a, b) {
        (Datum::Interval(i), n) => (i, to_f64(n)?),
        (n, Datum::Interval(i)) if !divide => (i, to_f64(n)?),
        _ => return None,
    };
    if divide && factor == 0.0 {
        return Some(Err(EvalError::DivisionByZero));
    }
    let factor = if divide { 1.0 / factor } else { factor };
    Some(scale_interval(i, factor).map(Datum::Interval))
}

fn truncate(field: &str, ts: NaiveDateTime) -> Result<NaiveDateTime, EvalError> {
    let d = ts.date();
    let t = ts.time();
    let make = |date: Option<NaiveDate>, time: NaiveTime| -> Result<NaiveDateTime, EvalError> {
        Ok(NaiveDateTime::new(date.ok_or_else(out_of_range)?, time))
    };
    let hms = |h, m, s| NaiveTime::from_hms_opt(h, m, s).unwrap_or(NaiveTime::MIN);
    match field {
        "microseconds" => Ok(ts),
        "milliseconds" => Ok(ts
            .with_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
            .unwrap_or(ts)),
        "second" => make(Some(d), hms(t.hour(), t.minute(), t.second())),
        "minute" => make(Some(d), hms(t.hour(), t.minute(), 0)),
        "hour" => make(Some(d), hms(t.hour(), 0, 0)),
        "day" => make(Some(d), NaiveTime::MIN),
        "week" => make(
            d.checked_sub_signed(Duration::days(d.weekday().num_days_from_monday() as i64)),
            NaiveTime::MIN,
        ),
        "month" => make(
            NaiveDate::from_ymd_opt(d.year(), d.month(), 1),
            NaiveTime::MIN,
        ),
        "quarter" => make(
            NaiveDate::from_ymd_opt(d.year(), (d.month() - 1) / 3 * 3 + 1, 1),
            NaiveTime::MIN,
        ),
        "year" => make(NaiveDate::from_ymd_opt(d.year(), 1, 1), NaiveTime::MIN),
        "decade" => make(
            NaiveDate::from_ymd_opt(d.year().div_euclid(10) * 10, 1, 1),
            NaiveTime::MIN,
        ),
        "century" => make(
            NaiveDate::from_ymd_opt((d.year() - 1).div_euclid(100) * 100 + 1, 1, 1),
            NaiveTime::MIN,
        ),
        other => Err(EvalError::InvalidParameter {
            message: format!("unit \"{other}\" not recognized for type timestamp"),
        }),
    }
}

/// `date_trunc(field, value)` on timestamps and timestamptz.
/// `date_bin(stride, source, origin)`: `origin + k * stride` for the largest `k` with the
/// result not after `source`. The stride must be positive and without months.
pub fn date_bin(stride: &Datum, source: &Datum, origin: &Datum) -> Result<Datum, EvalError> {
    let Datum::Interval(stride) = stride else {
        return Err(EvalError::Internal("date_bin stride".into()));
    };
    if stride.months != 0 {
        return Err(EvalError::FeatureNotSupported(
            "timestamps cannot be binned into intervals containing months or years".into(),
        ));
    }
    let stride = stride.days as i64 * Interval::MICROS_PER_DAY + stride.micros;
    if stride <= 0 {
        return Err(EvalError::InvalidParameter {
            message: "stride must be greater than zero".into(),
        });
    }
    let bin = |source: i64, origin: i64| -> Result<i64, EvalError> {
        let diff = source.checked_sub(origin).ok_or_else(out_of_range)?;
        origin
            .checked_add(diff.div_euclid(stride) * stride)
            .ok_or_else(out_of_range)
    };
    match (timestamp_micros(source), timestamp_micros(origin)) {
        (Some(s), Some(o)) => timestamp_like(bin(s, o)?, source),
        _ => Err(EvalError::Internal("date_bin arguments".into())),
    }
}

pub fn date_trunc(field: &Datum, value: &Datum) -> Result<Datum, EvalError> {
    let Datum::String(field) = field else {
        return Err(EvalError::Internal("date_trunc field".into()));
    };
    let field = field.to_lowercase();
    let field = field.trim_end_matches('s');
    let field = match field {
        "microsecond" => "microseconds",
        "millisecond" => "milliseconds",
        f => f,
    };
    match value {
        Datum::Timestamp(ts) => truncate(field, *ts).map(Datum::Timestamp),
        Datum::TimestampTz(ts) => {
            truncate(field, ts.naive_utc()).map(|n| Datum::TimestampTz(Utc.from_utc_datetime(&n)))
        }
        Datum::Date(d) => truncate(field, d.and_time(NaiveTime::MIN))
            .map(|n| Datum::TimestampTz(Utc.from_utc_datetime(&n))),
        Datum::Interval(i) => {
            let month_units = match field {
                "year" => Some(12),
                "quarter" => Some(3),
                "month" => Some(1),
                _ => None,
            };
            Ok(Datum::Interval(match month_units {
                Some(u) => Interval::new(i.months / u * u, 0, 0),
                None => {
                    let unit: i64 = match field {
                        "day" => Interval::MICROS_PER_DAY,
                        "hour" => 3_600_000_000,
                        "minute" => 60_000_000,
                        "second" => 1_000_000,
                        "milliseconds" => 1_000,
                        _ => 1,
                    };
                    if field == "day" {
                        Interval::new(i.months, i.days, 0)
                    } else {
                        Interval::new(i.months, i.days, i.micros / unit * unit)
                    }
                }
            }))
        }
        other => Err(EvalError::Internal(format!("date_trunc of {other:?}"))),
    }
}

/// `date_part(field, value)` / `EXTRACT(field FROM value)`, as double precision.
pub fn date_part(field: &Datum, value: &Datum) -> Result<Datum, EvalError> {
    let Datum::String(field) = field else {
        return Err(EvalError::Internal("date_part field".into()));
    };
    let field = field.to_lowercase();
    let unknown = || EvalError::InvalidParameter {
        message: format!("unit \"{field}\" not recognized"),
    };
    if let Datum::Interval(i) = value {
        let v = match field.as_str() {
            "year" | "years" => (i.months / 12) as f64,
            "month" | "months" | "mon" => (i.months % 12) as f64,
            "day" | "days" => i.days as f64,
            "hour" | "hours" => (i.micros / 3_600_000_000) as f64,
            "minute" | "minutes" => ((i.micros / 60_000_000) % 60) as f64,
            "second" | "seconds" => (i.micros % 60_000_000) as f64 / 1e6,
            "epoch" => i.comparison_key() as f64 / 1e6,
            _ => return Err(unknown()),
        };
        return Ok(Datum::f64(v));
    }
    let (ts, time_only) = match value {
        Datum::Timestamp(t) => (*t, false),
        Datum::TimestampTz(t) => (t.naive_utc(), false),
        Datum::Date(d) => (d.and_time(NaiveTime::MIN), false),
        Datum::Time(t) => (NaiveDate::default().and_time(*t), true),
        other => return Err(EvalError::Internal(format!("date_part of {other:?}"))),
    };
    let d = ts.date();
    let t = ts.time();
    let seconds = t.second() as f64 + t.nanosecond() as f64 / 1e9;
    let v = match field.as_str() {
        "microsecond" | "microseconds" => seconds * 1e6,
        "millisecond" | "milliseconds" => seconds * 1e3,
        "second" | "seconds" => seconds,
        "minute" | "minutes" => t.minute() as f64,
        "hour" | "hours" => t.hour() as f64,
        _ if time_only => return Err(unknown()),
        "day" | "days" => d.day() as f64,
        "month" | "months" => d.month() as f64,
        "year" | "years" => d.year() as f64,
        "quarter" => ((d.month() - 1) / 3 + 1) as f64,
        "week" => d.iso_week().week() as f64,
        "dow" => d.weekday().num_days_from_sunday() as f64,
        "isodow" => d.weekday().number_from_monday() as f64,
        "doy" => d.ordinal() as f64,
        "decade" => d.year().div_euclid(10) as f64,
        "century" => ((d.year() - 1).div_euclid(100) + 1) as f64,
        "epoch" => ts.and_utc().timestamp_micros() as f64 / 1e6,
        _ => return Err(unknown()),
    };
    Ok(Datum::f64(v))
}

/// `to_timestamp(seconds since the epoch)`.
pub fn to_timestamp(value: &Datum) -> Result<Datum, EvalError> {
    let secs = to_f64(value).ok_or_else(|| EvalError::Internal("to_timestamp argument".into()))?;
    if !secs.is_finite() {
        return Err(out_of_range());
    }
    let micros = (secs * 1e6).round();
    if micros.abs() > 9.2e18 {
        return Err(out_of_range());
    }
    DateTime::<Utc>::from_timestamp_micros(micros as i64)
        .map(Datum::TimestampTz)
        .ok_or_else(out_of_range)
}

pub fn make_date(y: &Datum, m: &Datum, d: &Datum) -> Result<Datum, EvalError> {
    match (y, m, d) {
        (Datum::Int32(y), Datum::Int32(m), Datum::Int32(d)) => {
            NaiveDate::from_ymd_opt(*y, *m as u32, *d as u32)
                .map(Datum::Date)
                .ok_or_else(|| EvalError::DatetimeOutOfRange {
                    message: format!("date field value out of range: {y}-{m:02}-{d:02}"),
                })
        }
        _ => Err(EvalError::Internal("make_date arguments".into())),
    }
}

/// `age(a, b)`: the symbolic difference in years, months and days, as PostgreSQL computes it.
pub fn age(a: &Datum, b: &Datum) -> Result<Datum, EvalError> {
    let (x, y) = match (a, b) {
        (Datum::Timestamp(x), Datum::Timestamp(y)) => (*x, *y),
        (Datum::TimestampTz(x), Datum::TimestampTz(y)) => (x.naive_utc(), y.naive_utc()),
        _ => return Err(EvalError::Internal("age arguments".into())),
    };
    let (later, earlier, sign) = if x >= y { (x, y, 1) } else { (y, x, -1) };
    let mut months =
        (later.year() - earlier.year()) * 12 + later.month() as i32 - earlier.month() as i32;
    let mut anchor = add_interval(earlier, &Interval::new(months, 0, 0), 1)?;
    if anchor > later {
        months -= 1;
        anchor = add_interval(earlier, &Interval::new(months, 0, 0), 1)?;
    }
    let rest = interval_between(later, anchor);
    Ok(Datum::Interval(Interval::new(
        months * sign,
        rest.days * sign,
        rest.micros * sign as i64,
    )))
}

/// `to_char(timestamp, format)` with PostgreSQL's date/time template patterns (`YYYY`, `MM`,
/// `DD`, `HH24`, `HH12`, `MI`, `SS`, `MS`, `US`, `Month`, `Mon`, `Day`, `Dy`, `AM`, `Q`,
/// `DDD`, `D`, the `FM` prefix); other characters are copied, double-quoted text literally.
/// As in PostgreSQL, the numeric patterns and `FM` are also recognised in lower case
/// (`'hh24:mi'`, `'HH:mm'` with `mm` the month); the names' case sets the output's case.
pub fn to_char(value: &Datum, format: &str) -> Result<Datum, EvalError> {
    let ts = match value {
        Datum::Timestamp(t) => *t,
        Datum::TimestampTz(t) => t.naive_utc(),
        Datum::Date(d) => d.and_time(NaiveTime::MIN),
        other => return Err(EvalError::Internal(format!("to_char of {other:?}"))),
    };
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const DAYS: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    let d = ts.date();
    let t = ts.time();
    let month = MONTHS[d.month0() as usize];
    let day = DAYS[d.weekday().num_days_from_sunday() as usize];
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let mut out = String::new();
    let mut rest = format;
    let cased = |name: &str, pattern: &str| -> String {
        if pattern.chars().all(|c| c.is_uppercase()) {
            name.to_uppercase()
        } else if pattern.chars().next().is_some_and(|c| c.is_lowercase()) {
            name.to_lowercase()
        } else {
            name.to_string()
        }
    };
    while !rest.is_empty() {
        let fill_mode = rest.starts_with("FM") || rest.starts_with("fm");
        if fill_mode {
            rest = &rest[2..];
        }
        let pad = |s: String, width: usize| {
            if fill_mode {
                s.trim_start_matches('0')
                    .to_string()
                    .chars()
                    .next()
                    .map(|_| s.trim_start_matches('0').to_string())
                    .unwrap_or_else(|| "0".into())
            } else {
                format!("{s:0>width$}")
            }
        };
        let name_pad = |s: String| if fill_mode { s } else { format!("{s:<9}") };
        // Longest first where one is a prefix of another (`DDD`, `DD`, `D`).
        let patterns: &[&str] = &[
            "YYYY", "yyyy", "HH24", "hh24", "HH12", "hh12", "MONTH", "Month", "month", "DDD",
            "ddd", "MON", "Mon", "mon", "DAY", "Day", "day", "YY", "yy", "MM", "mm", "DD", "dd",
            "HH", "hh", "MI", "mi", "SS", "ss", "MS", "ms", "US", "us", "DY", "Dy", "dy", "AM",
            "PM", "am", "pm", "Q", "q", "D", "d",
        ];
        let Some(pattern) = patterns.iter().find(|p| rest.starts_with(**p)) else {
            let mut chars = rest.chars();
            let c = chars.next().unwrap_or_default();
            if c == '"' {
                let literal: String = chars.clone().take_while(|c| *c != '"').collect();
                out.push_str(&literal);
                rest = &rest[(2 + literal.len()).min(rest.len())..];
            } else {
                out.push(c);
                rest = chars.as_str();
            }
            continue;
        };
        let numeric = match *pattern {
            "MONTH" | "Month" | "month" | "MON" | "Mon" | "mon" | "DAY" | "Day" | "day" | "DY"
            | "Dy" | "dy" | "am" | "pm" => pattern.to_string(),
            other => other.to_uppercase(),
        };
        let text = match numeric.as_str() {
            "YYYY" => pad(d.year().to_string(), 4),
            "YY" => pad((d.year() % 100).to_string(), 2),
            "MM" => pad(d.month().to_string(), 2),
            "DD" => pad(d.day().to_string(), 2),
            "DDD" => pad(d.ordinal().to_string(), 3),
            "D" => (d.weekday().num_days_from_sunday() + 1).to_string(),
            "Q" => ((d.month() - 1) / 3 + 1).to_string(),
            "HH24" => pad(t.hour().to_string(), 2),
            "HH12" | "HH" => pad(hour12.to_string(), 2),
            "MI" => pad(t.minute().to_string(), 2),
            "SS" => pad(t.second().to_string(), 2),
            "MS" => format!("{:03}", t.nanosecond() / 1_000_000),
            "US" => format!("{:06}", t.nanosecond() / 1_000),
            "AM" | "PM" => (if t.hour() < 12 { "AM" } else { "PM" }).to_string(),
            "am" | "pm" => (if t.hour() < 12 { "am" } else { "pm" }).to_string(),
            p @ ("MONTH" | "Month" | "month") => name_pad(cased(month, p)),
            p @ ("MON" | "Mon" | "mon") => cased(&month[..3], p),
            p @ ("DAY" | "Day" | "day") => name_pad(cased(day, p)),
            p @ ("DY" | "Dy" | "dy") => cased(&day[..3], p),
            _ => String::new(),
        };
        out.push_str(&text);
        rest = &rest[pattern.len()..];
    }
    Ok(Datum::String(out))
}

/// `EXTRACT(field FROM value)`: `date_part`'s value as numeric, with PostgreSQL's scale: six
/// decimals for seconds and epochs, three for milliseconds, none otherwise.
pub fn extract(field: &Datum, value: &Datum) -> Result<Datum, EvalError> {
    let Datum::Float64(v) = date_part(field, value)? else {
        return Err(EvalError::Internal("date_part returned a non-float".into()));
    };
    let scale = match field {
        Datum::String(f) => match f.to_lowercase().as_str() {
            "second" | "seconds" | "epoch" => 6,
            "millisecond" | "milliseconds" => 3,
            _ => 0,
        },
        _ => 0,
    };
    let mut d = rust_decimal::Decimal::from_f64_retain(v.0)
        .ok_or_else(|| EvalError::NumericOutOfRange("value out of range for numeric".into()))?
        .round_dp_with_strategy(scale, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    d.rescale(scale);
    Ok(Datum::Numeric(d))
}

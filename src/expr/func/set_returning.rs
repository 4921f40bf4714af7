//! Set-returning functions over one value, for FROM: `unnest(array)`,
//! `jsonb_array_elements[_text](jsonb)`, `jsonb_each[_text](jsonb)`,
//! `jsonb_object_keys(jsonb)`, `generate_series` over timestamps and `regexp_matches`. Each maps its arguments
//! to the rows PostgreSQL returns, in PostgreSQL's order; a NULL argument gives no rows.

use super::compare::sql_order;
use super::temporal;
use crate::expr::EvalError;
use crate::repr::{Datum, Jsonb, Row};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cmp::Ordering;

/// At most this many rows from one `generate_series` call: a typo in a step must fail
/// rather than exhaust memory.
const MAX_SERIES_ROWS: usize = 100_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SetFunc {
    /// One row per element (NULLs included).
    Unnest,
    /// One row per element of a JSON array: as jsonb, or with `text` as text (strings
    /// unquoted, JSON null as NULL).
    JsonbArrayElements {
        text: bool,
    },
    /// One row `(key, value)` per member of a JSON object, keys in jsonb's order.
    JsonbEach {
        text: bool,
    },
    JsonbObjectKeys,
    /// `generate_series(start, stop, step)` over timestamps (with or without time zone).
    GenerateSeriesTimestamp,
    /// `regexp_matches(string, pattern [, flags])`: a `text[]` row per match (the capture
    /// groups, or the whole match when there are none); only the first match unless the
    /// flags hold `g`; `i` matches case-insensitively. A NULL argument gives no rows.
    RegexpMatches,
    /// `pg_options_to_table(options text[])`: one row `(option_name, option_value)` per
    /// element `name=value` (split at the first `=`; no `=`: the value is NULL). psql's `\d`
    /// asks it for a column's foreign-data options, which are always NULL here.
    OptionsToTable,
}

impl SetFunc {
    pub fn eval(&self, args: &[Datum]) -> Result<Vec<Row>, EvalError> {
        if args.first().is_none_or(Datum::is_null) {
            return Ok(vec![]);
        }
        let one = |d: Datum| Row::new(vec![d]);
        match self {
            SetFunc::Unnest => match &args[0] {
                Datum::Array(elements) => Ok(elements.iter().cloned().map(one).collect()),
                other => Err(EvalError::Internal(format!("unnest of {other:?}"))),
            },
            SetFunc::JsonbArrayElements { text } => match json(&args[0])? {
                Value::Array(elements) => {
                    Ok(elements.iter().map(|v| one(json_datum(v, *text))).collect())
                }
                other => Err(EvalError::InvalidParameter {
                    message: format!("cannot extract elements from {}", json_kind(&other)),
                }),
            },
            SetFunc::JsonbEach { text } => match json(&args[0])? {
                Value::Object(members) => Ok(jsonb_key_order(&members)
                    .into_iter()
                    .map(|(k, v)| Row::new(vec![Datum::String(k.clone()), json_datum(v, *text)]))
                    .collect()),
                _ => Err(EvalError::InvalidParameter {
                    message: "cannot call jsonb_each on a non-object".into(),
                }),
            },
            SetFunc::JsonbObjectKeys => match json(&args[0])? {
                Value::Object(members) => Ok(jsonb_key_order(&members)
                    .into_iter()
                    .map(|(k, _)| one(Datum::String(k.clone())))
                    .collect()),
                other => Err(EvalError::InvalidParameter {
                    message: format!("cannot call jsonb_object_keys on {}", json_kind(&other)),
                }),
            },
            SetFunc::GenerateSeriesTimestamp => timestamp_series(args),
            SetFunc::RegexpMatches => regexp_matches(args),
            SetFunc::OptionsToTable => match &args[0] {
                Datum::Array(options) => Ok(options
                    .iter()
                    .filter_map(|option| match option {
                        Datum::String(option) => Some(match option.split_once('=') {
                            Some((name, value)) => Row::new(vec![
                                Datum::String(name.into()),
                                Datum::String(value.into()),
                            ]),
                            None => Row::new(vec![Datum::String(option.clone()), Datum::Null]),
                        }),
                        _ => None,
                    })
                    .collect()),
                other => Err(EvalError::Internal(format!(
                    "pg_options_to_table of {other:?}"
                ))),
            },
        }
    }
}

fn regexp_matches(args: &[Datum]) -> Result<Vec<Row>, EvalError> {
    if args.iter().any(Datum::is_null) {
        return Ok(vec![]);
    }
    let text = |d: &Datum| match d {
        Datum::String(s) => Ok(s.clone()),
        other => Err(EvalError::Internal(format!("regexp_matches of {other:?}"))),
    };
    let (subject, pattern) = (text(&args[0])?, text(&args[1])?);
    let flags = match args.get(2) {
        Some(f) => text(f)?,
        None => String::new(),
    };
    let (mut global, mut case_insensitive) = (false, false);
    for flag in flags.chars() {
        match flag {
            'g' => global = true,
            'i' => case_insensitive = true,
            'c' => case_insensitive = false,
            'b' | 'e' | 'm' | 'n' | 'p' | 'q' | 's' | 't' | 'w' | 'x' => {
                return Err(EvalError::FeatureNotSupported(format!(
                    "regular expression option \"{flag}\""
                )));
            }
            other => {
                return Err(EvalError::InvalidParameter {
                    message: format!("invalid regular expression option: \"{other}\""),
                });
            }
        }
    }
    super::string::with_regex(&pattern, case_insensitive, |re| {
        re.captures_iter(&subject)
            .take(if global { usize::MAX } else { 1 })
            .map(|c| {
                let groups: Vec<Datum> = if c.len() == 1 {
                    vec![Datum::String(c[0].to_string())]
                } else {
                    c.iter()
                        .skip(1)
                        .map(|g| g.map_or(Datum::Null, |m| Datum::String(m.as_str().into())))
                        .collect()
                };
                Row::new(vec![Datum::Array(groups)])
            })
            .collect()
    })
}

fn json(d: &Datum) -> Result<Value, EvalError> {
    match d {
        Datum::Jsonb(j) => Ok(j.to_value()),
        other => Err(EvalError::Internal(format!(
            "expected jsonb, got {other:?}"
        ))),
    }
}

/// An object's members in jsonb's order: shorter keys first, then bytewise.
fn jsonb_key_order(members: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut ordered: Vec<(&String, &Value)> = members.iter().collect();
    ordered.sort_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    ordered
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "an object",
        Value::Array(_) => "an array",
        _ => "a scalar",
    }
}

fn json_datum(v: &Value, text: bool) -> Datum {
    if !text {
        return Datum::Jsonb(Jsonb::from_value(v));
    }
    match v {
        Value::Null => Datum::Null,
        Value::String(s) => Datum::String(s.clone()),
        other => Datum::String(Jsonb::from_value(other).as_str().to_string()),
    }
}

/// From `start` to `stop` (inclusive) by the interval `step`, in the step's direction.
fn timestamp_series(args: &[Datum]) -> Result<Vec<Row>, EvalError> {
    let (Some(start), Some(stop), Some(step)) = (args.first(), args.get(1), args.get(2)) else {
        return Err(EvalError::Internal("generate_series without a step".into()));
    };
    if stop.is_null() || step.is_null() {
        return Ok(vec![]);
    }
    let add = |d: &Datum| {
        temporal::add(d, step, 1)
            .unwrap_or_else(|| Err(EvalError::Internal("timestamp series step".into())))
    };
    let direction = sql_order(&add(start)?, start);
    if direction == Ordering::Equal {
        return Err(EvalError::InvalidParameter {
            message: "step size cannot equal zero".into(),
        });
    }
    let mut rows = Vec::new();
    let mut current = start.clone();
    while sql_order(&current, stop) != direction {
        if rows.len() >= MAX_SERIES_ROWS {
            return Err(EvalError::InvalidParameter {
                message: format!("generate_series would produce more than {MAX_SERIES_ROWS} rows"),
            });
        }
        let next = add(&current)?;
        rows.push(Row::new(vec![current]));
        current = next;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_arguments_give_no_rows() {
        assert!(SetFunc::Unnest.eval(&[Datum::Null]).unwrap().is_empty());
    }

    #[test]
    fn jsonb_elements_of_a_scalar_fail_as_in_postgres() {
        let scalar = Datum::Jsonb(Jsonb::parse("1").unwrap());
        let error = SetFunc::JsonbArrayElements { text: false }
            .eval(&[scalar])
            .unwrap_err();
        assert_eq!(error.to_string(), "cannot extract elements from a scalar");
    }
}

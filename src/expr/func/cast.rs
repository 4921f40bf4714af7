//! Casts between types. To and from strings they go through PostgreSQL's text I/O; between
//! numbers they round as PostgreSQL does (float → integer: half to even; numeric → integer:
//! half away from zero) and fail when the value does not fit.

use crate::expr::EvalError;
use crate::repr::text::{apply_numeric_typmod, enforce_length, format_datum, parse_datum};
use crate::repr::{Datum, Jsonb, ScalarType};
use chrono::{NaiveTime, TimeZone, Utc};
use rust_decimal::prelude::*;

fn range(name: &str) -> EvalError {
    EvalError::NumericOutOfRange(format!("{name} out of range"))
}

fn to_i64(d: &Datum, name: &str) -> Result<i64, EvalError> {
    match d {
        Datum::Int16(v) => Ok(*v as i64),
        Datum::Int32(v) => Ok(*v as i64),
        Datum::Int64(v) => Ok(*v),
        Datum::Float32(v) => float_to_i64(v.0 as f64, name),
        Datum::Float64(v) => float_to_i64(v.0, name),
        Datum::Numeric(n) => n
            .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
            .to_i64()
            .ok_or_else(|| range(name)),
        Datum::Bool(b) => Ok(*b as i64),
        other => Err(EvalError::Internal(format!("cast of {other:?} to {name}"))),
    }
}

fn float_to_i64(v: f64, name: &str) -> Result<i64, EvalError> {
    let r = v.round_ties_even();
    if !r.is_finite() || r < i64::MIN as f64 || r >= i64::MAX as f64 {
        return Err(range(name));
    }
    Ok(r as i64)
}

fn to_f64(d: &Datum) -> Result<f64, EvalError> {
    super::arith::to_f64(d).ok_or_else(|| EvalError::Internal(format!("cast of {d:?} to a float")))
}

/// Casts a non-NULL datum to `to`.
pub fn cast(d: &Datum, to: &ScalarType) -> Result<Datum, EvalError> {
    if let Datum::String(s) = d {
        return match to {
            ScalarType::String | ScalarType::Unknown => Ok(d.clone()),
            other => parse_datum(s, other),
        };
    }
    Ok(match to {
        ScalarType::String => Datum::String(text_of(d)),
        ScalarType::VarChar { max_length } => {
            Datum::String(enforce_length(&text_of(d), *max_length, to)?)
        }
        ScalarType::Char { length } => {
            Datum::String(enforce_length(&text_of(d), Some(*length), to)?)
        }
        ScalarType::Int16 => {
            Datum::Int16(i16::try_from(to_i64(d, "smallint")?).map_err(|_| range("smallint"))?)
        }
        ScalarType::Int32 => {
            Datum::Int32(i32::try_from(to_i64(d, "integer")?).map_err(|_| range("integer"))?)
        }
        ScalarType::Int64 => Datum::Int64(to_i64(d, "bigint")?),
        ScalarType::Float32 => {
            let v = to_f64(d)?;
            let f = v as f32;
            if f.is_infinite() && v.is_finite() {
                return Err(EvalError::NumericOutOfRange(
                    "value out of range: overflow".into(),
                ));
            }
            Datum::f32(f)
        }
        ScalarType::Float64 => Datum::f64(to_f64(d)?),
        ScalarType::Numeric { typmod } => {
            let n = match d {
                Datum::Numeric(n) => *n,
                Datum::Int16(v) => Decimal::from(*v),
                Datum::Int32(v) => Decimal::from(*v),
                Datum::Int64(v) => Decimal::from(*v),
                Datum::Float32(v) => {
                    if !v.0.is_finite() {
                        return Err(EvalError::InvalidParameter {
                            message: format!("cannot convert {} to numeric", v.0),
                        });
                    }
                    Decimal::from_f32(v.0).ok_or_else(|| range("numeric"))?
                }
                Datum::Float64(v) => {
                    if !v.0.is_finite() {
                        return Err(EvalError::InvalidParameter {
                            message: format!("cannot convert {} to numeric", v.0),
                        });
                    }
                    Decimal::from_f64(v.0).ok_or_else(|| range("numeric"))?
                }
                other => return Err(EvalError::Internal(format!("cast of {other:?} to numeric"))),
            };
            Datum::Numeric(apply_numeric_typmod(n, *typmod)?)
        }
        ScalarType::Bool => match d {
            Datum::Bool(b) => Datum::Bool(*b),
            Datum::Int32(v) => Datum::Bool(*v != 0),
            Datum::Int64(v) => Datum::Bool(*v != 0),
            other => return Err(EvalError::Internal(format!("cast of {other:?} to boolean"))),
        },
        ScalarType::Date => match d {
            Datum::Date(v) => Datum::Date(*v),
            Datum::Timestamp(t) => Datum::Date(t.date()),
            Datum::TimestampTz(t) => Datum::Date(t.naive_utc().date()),
            other => return Err(EvalError::Internal(format!("cast of {other:?} to date"))),
        },
        ScalarType::Time => match d {
            Datum::Time(t) => Datum::Time(*t),
            Datum::Timestamp(t) => Datum::Time(t.time()),
            Datum::TimestampTz(t) => Datum::Time(t.naive_utc().time()),
            Datum::Interval(i) => {
                let micros = i.micros.rem_euclid(crate::repr::Interval::MICROS_PER_DAY);
                Datum::Time(NaiveTime::MIN + chrono::Duration::microseconds(micros))
            }
            other => return Err(EvalError::Internal(format!("cast of {other:?} to time"))),
        },
        ScalarType::Timestamp => match d {
            Datum::Timestamp(t) => Datum::Timestamp(*t),
            Datum::Date(v) => Datum::Timestamp(v.and_time(NaiveTime::MIN)),
            Datum::TimestampTz(t) => Datum::Timestamp(t.naive_utc()),
            other => {
                return Err(EvalError::Internal(format!(
                    "cast of {other:?} to timestamp"
                )));
            }
        },
        ScalarType::TimestampTz => match d {
            Datum::TimestampTz(t) => Datum::TimestampTz(*t),
            Datum::Date(v) => {
                Datum::TimestampTz(Utc.from_utc_datetime(&v.and_time(NaiveTime::MIN)))
            }
            Datum::Timestamp(t) => Datum::TimestampTz(Utc.from_utc_datetime(t)),
            other => {
                return Err(EvalError::Internal(format!(
                    "cast of {other:?} to timestamptz"
                )));
            }
        },
        ScalarType::Interval => match d {
            Datum::Interval(i) => Datum::Interval(*i),
            Datum::Time(t) => Datum::Interval(crate::repr::Interval::new(
                0,
                0,
                (*t - NaiveTime::MIN).num_microseconds().unwrap_or(0),
            )),
            other => {
                return Err(EvalError::Internal(format!(
                    "cast of {other:?} to interval"
                )));
            }
        },
        ScalarType::Jsonb => match d {
            Datum::Jsonb(j) => Datum::Jsonb(j.clone()),
            other => Datum::Jsonb(Jsonb::from_value(&json_of(other))),
        },
        ScalarType::Bytes => match d {
            Datum::Bytes(b) => Datum::Bytes(b.clone()),
            other => return Err(EvalError::Internal(format!("cast of {other:?} to bytea"))),
        },
        // An oid is an Int64 in 0 ..= u32::MAX (see `ScalarType::Oid`); a negative int4
        // names the oid of the same bits, as in PostgreSQL.
        ScalarType::Oid | ScalarType::Reg(_) => {
            let v = to_i64(d, "oid")?;
            if !(i64::from(i32::MIN)..=i64::from(u32::MAX)).contains(&v) {
                return Err(range("oid"));
            }
            Datum::Int64(i64::from(v as u32))
        }
        ScalarType::Uuid => match d {
            Datum::Uuid(u) => Datum::Uuid(*u),
            other => return Err(EvalError::Internal(format!("cast of {other:?} to uuid"))),
        },
        ScalarType::Array(elem) => match d {
            Datum::Array(items) => Datum::Array(
                items
                    .iter()
                    .map(|i| {
                        if i.is_null() {
                            Ok(Datum::Null)
                        } else {
                            cast(i, elem)
                        }
                    })
                    .collect::<Result<_, _>>()?,
            ),
            other => {
                return Err(EvalError::Internal(format!(
                    "cast of {other:?} to an array"
                )));
            }
        },
        // A vector holds the same array datum as the array type it behaves as.
        ScalarType::Int2Vector | ScalarType::OidVector => cast(d, &to.as_array())?,
        ScalarType::Unknown => d.clone(),
        // Nothing casts to void; the planner offers no such cast.
        ScalarType::Void => return Err(EvalError::Internal(format!("cast of {d:?} to void"))),
    })
}

/// The text form of a datum, for casts to text (char(n) values lose their padding). A boolean
/// casts to `true` / `false`, as PostgreSQL's bool-to-text cast does, not to its output form
/// `t` / `f`.
fn text_of(d: &Datum) -> String {
    if let Datum::Bool(b) = d {
        return b.to_string();
    }
    let typ = match d {
        Datum::Array(_) => ScalarType::Array(Box::new(ScalarType::Unknown)),
        _ => ScalarType::String,
    };
    format_datum(d, &typ)
}

/// The JSON value of a datum (for `to_jsonb`-like conversions and jsonb building).
pub fn json_of(d: &Datum) -> serde_json::Value {
    use serde_json::Value;
    match d {
        Datum::Null => Value::Null,
        Datum::Bool(b) => Value::Bool(*b),
        Datum::Int16(v) => Value::from(*v),
        Datum::Int32(v) => Value::from(*v),
        Datum::Int64(v) => Value::from(*v),
        Datum::Float32(v) => serde_json::Number::from_f64(v.0 as f64)
            .map(Value::Number)
            .unwrap_or(Value::String(v.0.to_string())),
        Datum::Float64(v) => serde_json::Number::from_f64(v.0)
            .map(Value::Number)
            .unwrap_or(Value::String(v.0.to_string())),
        Datum::Numeric(n) => {
            serde_json::from_str(&n.to_string()).unwrap_or(Value::String(n.to_string()))
        }
        Datum::Jsonb(j) => j.to_value(),
        Datum::Array(items) => Value::Array(items.iter().map(json_of).collect()),
        other => Value::String(text_of(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_to_int_rounds_half_to_even_and_numeric_half_away() {
        assert_eq!(
            cast(&Datum::f64(2.5), &ScalarType::Int32).unwrap(),
            Datum::Int32(2)
        );
        assert_eq!(
            cast(&Datum::f64(3.5), &ScalarType::Int32).unwrap(),
            Datum::Int32(4)
        );
        assert_eq!(
            cast(&Datum::Numeric(Decimal::new(25, 1)), &ScalarType::Int32).unwrap(),
            Datum::Int32(3)
        );
    }

    #[test]
    fn narrowing_out_of_range_fails_with_22003() {
        assert_eq!(
            cast(&Datum::Int64(1 << 40), &ScalarType::Int32)
                .unwrap_err()
                .sqlstate(),
            "22003"
        );
    }

    #[test]
    fn strings_cast_through_text_input() {
        assert_eq!(
            cast(&Datum::String("42".into()), &ScalarType::Int64).unwrap(),
            Datum::Int64(42)
        );
        assert_eq!(
            cast(&Datum::String("x".into()), &ScalarType::Int64)
                .unwrap_err()
                .sqlstate(),
            "22P02"
        );
        assert_eq!(
            cast(&Datum::Int32(7), &ScalarType::String).unwrap(),
            Datum::String("7".into())
        );
    }
}

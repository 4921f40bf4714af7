//! Decoding bound parameters (text or binary format) into datums of the described types.

use crate::coord::AdapterError;
use crate::expr::EvalError;
use crate::repr::text::parse_datum;
use crate::repr::{Datum, Interval, Jsonb, ScalarType};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;

fn bad(typ: &ScalarType, why: &str) -> AdapterError {
    AdapterError::Eval(EvalError::InvalidParameter {
        message: format!(
            "incorrect binary data format in bind parameter of type {}: {why}",
            typ.sql_name()
        ),
    })
}

fn fixed<const N: usize>(bytes: &[u8], typ: &ScalarType) -> Result<[u8; N], AdapterError> {
    bytes
        .try_into()
        .map_err(|_| bad(typ, &format!("expected {N} bytes, got {}", bytes.len())))
}

pub fn decode_param(
    bytes: Option<&[u8]>,
    typ: &ScalarType,
    binary: bool,
) -> Result<Datum, AdapterError> {
    let Some(bytes) = bytes else {
        return Ok(Datum::Null);
    };
    if !binary {
        let text = std::str::from_utf8(bytes).map_err(|_| EvalError::InvalidParameter {
            message: "invalid byte sequence for encoding \"UTF8\"".into(),
        })?;
        return Ok(parse_datum(text, typ)?);
    }
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1)
        .expect("valid date")
        .and_time(NaiveTime::MIN);
    Ok(match typ {
        ScalarType::Bool => Datum::Bool(fixed::<1>(bytes, typ)?[0] != 0),
        ScalarType::Int16 => Datum::Int16(i16::from_be_bytes(fixed(bytes, typ)?)),
        ScalarType::Int32 => Datum::Int32(i32::from_be_bytes(fixed(bytes, typ)?)),
        ScalarType::Oid => Datum::Int64(i64::from(u32::from_be_bytes(fixed(bytes, typ)?))),
        ScalarType::Int64 => Datum::Int64(i64::from_be_bytes(fixed(bytes, typ)?)),
        ScalarType::Float32 => Datum::f32(f32::from_be_bytes(fixed(bytes, typ)?)),
        ScalarType::Float64 => Datum::f64(f64::from_be_bytes(fixed(bytes, typ)?)),
        ScalarType::String
        | ScalarType::VarChar { .. }
        | ScalarType::Char { .. }
        | ScalarType::Unknown => {
            let text = std::str::from_utf8(bytes).map_err(|_| bad(typ, "invalid UTF-8"))?;
            parse_datum(text, typ)?
        }
        ScalarType::Bytes => Datum::Bytes(bytes.to_vec()),
        ScalarType::Date => Datum::Date(
            epoch.date() + Duration::days(i32::from_be_bytes(fixed(bytes, typ)?) as i64),
        ),
        ScalarType::Time => Datum::Time(
            NaiveTime::MIN + Duration::microseconds(i64::from_be_bytes(fixed(bytes, typ)?)),
        ),
        ScalarType::Timestamp => {
            Datum::Timestamp(epoch + Duration::microseconds(i64::from_be_bytes(fixed(bytes, typ)?)))
        }
        ScalarType::TimestampTz => {
            let naive = epoch + Duration::microseconds(i64::from_be_bytes(fixed(bytes, typ)?));
            Datum::TimestampTz(DateTime::<Utc>::from_naive_utc_and_offset(naive, Utc))
        }
        ScalarType::Interval => {
            let b: [u8; 16] = fixed(bytes, typ)?;
            Datum::Interval(Interval::new(
                i32::from_be_bytes(b[12..16].try_into().map_err(|_| bad(typ, "length"))?),
                i32::from_be_bytes(b[8..12].try_into().map_err(|_| bad(typ, "length"))?),
                i64::from_be_bytes(b[0..8].try_into().map_err(|_| bad(typ, "length"))?),
            ))
        }
        ScalarType::Jsonb => {
            let text = match bytes.split_first() {
                Some((1, rest)) => rest,
                _ => bytes,
            };
            let text = std::str::from_utf8(text).map_err(|_| bad(typ, "invalid UTF-8"))?;
            Datum::Jsonb(Jsonb::parse(text).ok_or_else(|| bad(typ, "invalid JSON"))?)
        }
        ScalarType::Uuid => Datum::Uuid(uuid::Uuid::from_bytes(fixed(bytes, typ)?)),
        ScalarType::Numeric { typmod } => {
            let d = decode_numeric(bytes).ok_or_else(|| bad(typ, "malformed numeric"))?;
            Datum::Numeric(crate::repr::text::apply_numeric_typmod(d, *typmod)?)
        }
        ScalarType::Array(_) => {
            return Err(AdapterError::Plan(crate::sql::PlanError::unsupported(
                "binary array parameters",
            )));
        }
    })
}

fn decode_numeric(bytes: &[u8]) -> Option<Decimal> {
    let word = |i: usize| -> Option<i16> {
        Some(i16::from_be_bytes(bytes.get(i..i + 2)?.try_into().ok()?))
    };
    let ndigits = word(0)? as usize;
    let weight = word(2)? as i32;
    let sign = word(4)? as u16;
    let dscale = word(6)? as u32;
    if sign == 0xC000 {
        return None; // NaN has no Decimal
    }
    let mut value = Decimal::ZERO;
    for i in 0..ndigits {
        let digit = Decimal::from(word(8 + 2 * i)?);
        let power = weight - i as i32;
        let factor = if power >= 0 {
            Decimal::from(10_000i64.checked_pow(power as u32)?)
        } else {
            Decimal::ONE / Decimal::from(10_000i64.checked_pow((-power) as u32)?)
        };
        value = value.checked_add(digit.checked_mul(factor)?)?;
    }
    if sign == 0x4000 {
        value = -value;
    }
    value.rescale(dscale.min(28));
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_integers_and_timestamps_decode() {
        assert_eq!(
            decode_param(Some(&42i32.to_be_bytes()), &ScalarType::Int32, true).unwrap(),
            Datum::Int32(42)
        );
        assert_eq!(
            decode_param(Some(b"42"), &ScalarType::Int64, false).unwrap(),
            Datum::Int64(42)
        );
        assert_eq!(
            decode_param(None, &ScalarType::Int64, true).unwrap(),
            Datum::Null
        );
        let d = decode_param(Some(&1i32.to_be_bytes()), &ScalarType::Date, true).unwrap();
        assert_eq!(d, Datum::Date(NaiveDate::from_ymd_opt(2000, 1, 2).unwrap()));
    }

    #[test]
    fn numeric_binary_round_trips() {
        use std::str::FromStr;
        for s in ["1.5", "10000", "-0.01", "123456789.000123"] {
            let d = Decimal::from_str(s).unwrap();
            let mut buf = bytes::BytesMut::new();
            super::super::encode::encode_binary(
                &Datum::Numeric(d),
                &ScalarType::Numeric { typmod: None },
                &mut buf,
            );
            assert_eq!(decode_numeric(&buf), Some(d), "{s}");
        }
    }

    #[test]
    fn a_short_binary_integer_is_an_error_not_a_panic() {
        assert!(decode_param(Some(&[0, 1]), &ScalarType::Int32, true).is_err());
    }
}

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
        ScalarType::Oid | ScalarType::Reg(_) => {
            Datum::Int64(i64::from(u32::from_be_bytes(fixed(bytes, typ)?)))
        }
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
        ScalarType::Void => Datum::String(String::new()),
        // Only the system catalog has vectors; clients do not send them.
        ScalarType::Int2Vector | ScalarType::OidVector => {
            return Err(bad(typ, "binary vector parameters are not supported"));
        }
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
        ScalarType::Array(elem) => decode_array(bytes, typ, elem)?,
    })
}

/// PostgreSQL's binary array (`array_recv`): ndim, a has-NULLs flag, the element type's OID,
/// per dimension its length and lower bound, then each element as a length (-1: NULL) and
/// that many bytes in the element type's binary format. Freshet's arrays have one dimension
/// (counted from 1); more dimensions are not supported.
fn decode_array(bytes: &[u8], typ: &ScalarType, elem: &ScalarType) -> Result<Datum, AdapterError> {
    let mut rest = bytes;
    let ndim = take_i32(&mut rest, typ)?;
    let flags = take_i32(&mut rest, typ)?;
    let element_oid = take_i32(&mut rest, typ)? as u32;
    if !(0..=1).contains(&flags) {
        return Err(bad(typ, "invalid array flags"));
    }
    let same_representation = match elem {
        t if t.is_string_like() => matches!(element_oid, 25 | 1042 | 1043),
        ScalarType::Jsonb => matches!(element_oid, 3802 | 114),
        _ => false,
    };
    if element_oid != elem.oid() && !same_representation {
        return Err(AdapterError::Plan(crate::sql::PlanError::DatatypeMismatch(
            format!(
                "binary data has array element type {element_oid} instead of expected {}",
                elem.oid()
            ),
        )));
    }
    let len = match ndim {
        0 => 0,
        1 => {
            let len = take_i32(&mut rest, typ)?;
            let _lower_bound = take_i32(&mut rest, typ)?;
            usize::try_from(len).map_err(|_| bad(typ, "negative array length"))?
        }
        n if n < 0 => return Err(bad(typ, "invalid number of dimensions")),
        _ => {
            return Err(AdapterError::Plan(crate::sql::PlanError::unsupported(
                "multi-dimensional array parameters",
            )));
        }
    };
    if matches!(elem, ScalarType::Array(_)) {
        return Err(AdapterError::Plan(crate::sql::PlanError::unsupported(
            "arrays of arrays",
        )));
    }
    // Each element takes at least its 4-byte length: bound the allocation by the input.
    let mut items = Vec::with_capacity(len.min(rest.len() / 4));
    for _ in 0..len {
        let n = take_i32(&mut rest, typ)?;
        let item = match usize::try_from(n) {
            Err(_) => None,
            Ok(n) => {
                if rest.len() < n {
                    return Err(bad(typ, "unexpected end of data"));
                }
                let (item, tail) = rest.split_at(n);
                rest = tail;
                Some(item)
            }
        };
        items.push(decode_param(item, elem, true)?);
    }
    if !rest.is_empty() {
        return Err(bad(typ, "trailing bytes after the last element"));
    }
    Ok(Datum::Array(items))
}

/// The next big-endian i32 of `rest`, which moves past it.
fn take_i32(rest: &mut &[u8], typ: &ScalarType) -> Result<i32, AdapterError> {
    let (head, tail) = rest
        .split_first_chunk::<4>()
        .ok_or_else(|| bad(typ, "unexpected end of data"))?;
    *rest = tail;
    Ok(i32::from_be_bytes(*head))
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

    fn encoded(datum: &Datum, typ: &ScalarType) -> Vec<u8> {
        let mut buf = bytes::BytesMut::new();
        super::super::encode::encode_binary(datum, typ, &mut buf);
        buf.to_vec()
    }

    fn words(words: &[i32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_be_bytes()).collect()
    }

    #[test]
    fn binary_arrays_of_every_element_type_round_trip() {
        let date = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        let cases = [
            (
                ScalarType::Bool,
                vec![Datum::Bool(true), Datum::Null, Datum::Bool(false)],
            ),
            (ScalarType::Int16, vec![Datum::Int16(-1), Datum::Int16(99)]),
            (ScalarType::Int32, vec![Datum::Int32(i32::MIN), Datum::Null]),
            (ScalarType::Int64, vec![Datum::Int64(1 << 40)]),
            (ScalarType::Oid, vec![Datum::Int64(u32::MAX as i64)]),
            (ScalarType::Float64, vec![Datum::f64(0.5)]),
            (
                ScalarType::Numeric { typmod: None },
                vec![Datum::Numeric(Decimal::new(-125, 2))],
            ),
            (
                ScalarType::String,
                vec![Datum::string("a,b"), Datum::string(""), Datum::Null],
            ),
            (ScalarType::Bytes, vec![Datum::Bytes(vec![0, 255])]),
            (ScalarType::Date, vec![Datum::Date(date)]),
            (
                ScalarType::Timestamp,
                vec![Datum::Timestamp(date.and_hms_opt(1, 2, 3).unwrap())],
            ),
            (
                ScalarType::Interval,
                vec![Datum::Interval(Interval::new(1, 2, 3))],
            ),
            (
                ScalarType::Uuid,
                vec![Datum::Uuid(uuid::Uuid::from_u128(7))],
            ),
            (ScalarType::Int32, vec![]),
        ];
        for (elem, items) in cases {
            let typ = ScalarType::Array(Box::new(elem));
            let value = Datum::Array(items);
            let bytes = encoded(&value, &typ);
            assert_eq!(
                decode_param(Some(&bytes), &typ, true).unwrap(),
                value,
                "{typ:?}"
            );
        }
    }

    #[test]
    fn binary_arrays_follow_postgres_layout() {
        // int2[] {1,NULL}: ndim 1, has NULLs, element int2, length 2 from 1, then elements.
        let mut bytes = words(&[1, 1, 21, 2, 1, 2]);
        bytes.extend_from_slice(&1i16.to_be_bytes());
        bytes.extend_from_slice(&(-1i32).to_be_bytes());
        let typ = ScalarType::Array(Box::new(ScalarType::Int16));
        assert_eq!(
            decode_param(Some(&bytes), &typ, true).unwrap(),
            Datum::Array(vec![Datum::Int16(1), Datum::Null])
        );
        assert_eq!(
            encoded(&Datum::Array(vec![Datum::Int16(1), Datum::Null]), &typ),
            bytes
        );
        // The empty array has no dimensions.
        assert_eq!(encoded(&Datum::Array(vec![]), &typ), words(&[0, 0, 21]));
        // varchar elements for a text[] parameter (and the other way around) are accepted.
        let mut bytes = words(&[1, 0, 1043, 1, 1, 2]);
        bytes.extend_from_slice(b"hi");
        let text_array = ScalarType::Array(Box::new(ScalarType::String));
        assert_eq!(
            decode_param(Some(&bytes), &text_array, true).unwrap(),
            Datum::Array(vec![Datum::string("hi")])
        );
    }

    #[test]
    fn unsupported_or_malformed_binary_arrays_are_errors_not_panics() {
        let typ = ScalarType::Array(Box::new(ScalarType::Int32));
        let sqlstate = |bytes: &[u8]| {
            decode_param(Some(bytes), &typ, true)
                .unwrap_err()
                .sqlstate()
        };
        // Two dimensions.
        assert_eq!(sqlstate(&words(&[2, 0, 23, 1, 1, 1, 1, 4, 7])), "0A000");
        // The wrong element type.
        assert_eq!(sqlstate(&words(&[1, 0, 20, 1, 1, 8, 0, 7])), "42804");
        // Truncated: a header only, a missing element, an element longer than the data,
        // a huge length, trailing bytes, bad flags, negative dimensions.
        for bytes in [
            words(&[1]),
            words(&[1, 0, 23, 2, 1, 4, 7]),
            words(&[1, 0, 23, 1, 1, 400, 7]),
            words(&[1, 0, 23, i32::MAX, 1]),
            words(&[1, 0, 23, 1, 1, 4, 7, 0]),
            words(&[1, 5, 23, 1, 1, 4, 7]),
            words(&[-1, 0, 23]),
            words(&[1, 0, 23, -1, 1]),
        ] {
            assert!(decode_param(Some(&bytes), &typ, true).is_err(), "{bytes:?}");
        }
        // An element of the wrong size for its type.
        assert!(decode_param(Some(&words(&[1, 0, 23, 1, 1, 2, 7])), &typ, true).is_err());
    }

    #[test]
    fn a_short_binary_integer_is_an_error_not_a_panic() {
        assert!(decode_param(Some(&[0, 1]), &ScalarType::Int32, true).is_err());
    }
}

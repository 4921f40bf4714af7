//! Values on the wire: type OIDs, the text and binary encodings of every type, DataRows,
//! COPY text lines, and errors as PostgreSQL ErrorResponses.

use crate::coord::AdapterError;
use crate::repr::text::format_datum;
use crate::repr::{Datum, RelationDesc, Row, ScalarType};
use bytes::{BufMut, BytesMut};
use chrono::{NaiveDate, NaiveTime, Timelike};
use pgwire::api::Type;
use pgwire::api::results::{FieldFormat, FieldInfo};
use pgwire::error::ErrorInfo;
use pgwire::messages::data::DataRow;
use rust_decimal::Decimal;

/// The pgwire type of a scalar type.
pub fn pg_type(typ: &ScalarType) -> Type {
    let oid = match typ {
        ScalarType::Unknown => ScalarType::String.oid(),
        other => other.oid(),
    };
    Type::from_oid(oid).unwrap_or(Type::TEXT)
}

/// The scalar type a client's declared parameter OID means (None: let the planner infer).
pub fn scalar_type_of_oid(oid: u32) -> Option<ScalarType> {
    Some(match oid {
        16 => ScalarType::Bool,
        21 => ScalarType::Int16,
        23 => ScalarType::Int32,
        20 => ScalarType::Int64,
        700 => ScalarType::Float32,
        701 => ScalarType::Float64,
        1700 => ScalarType::Numeric { typmod: None },
        25 => ScalarType::String,
        1043 => ScalarType::VarChar { max_length: None },
        1042 => ScalarType::Char { length: 1 },
        17 => ScalarType::Bytes,
        1082 => ScalarType::Date,
        1083 => ScalarType::Time,
        1114 => ScalarType::Timestamp,
        1184 => ScalarType::TimestampTz,
        1186 => ScalarType::Interval,
        3802 | 114 => ScalarType::Jsonb,
        2950 => ScalarType::Uuid,
        26 => ScalarType::Oid,
        _ => return None,
    })
}

/// Column descriptions for a RowDescription, in the formats the client asked for.
pub fn field_infos(desc: &RelationDesc, format: impl Fn(usize) -> FieldFormat) -> Vec<FieldInfo> {
    desc.iter()
        .enumerate()
        .map(|(i, (name, typ))| {
            FieldInfo::new(
                name.clone(),
                None,
                None,
                pg_type(&typ.scalar_type),
                format(i),
            )
        })
        .collect()
}

/// A DataRow with each value in its column's format.
pub fn data_row(row: &Row, types: &[ScalarType], formats: &[FieldFormat]) -> DataRow {
    let mut buf = BytesMut::new();
    for (i, datum) in row.iter().enumerate() {
        if datum.is_null() {
            buf.put_i32(-1);
            continue;
        }
        let typ = types.get(i).unwrap_or(&ScalarType::String);
        let start = buf.len();
        buf.put_i32(0);
        match formats.get(i).copied().unwrap_or(FieldFormat::Text) {
            FieldFormat::Text => buf.put_slice(format_datum(datum, typ).as_bytes()),
            FieldFormat::Binary => encode_binary(datum, typ, &mut buf),
        }
        let len = (buf.len() - start - 4) as i32;
        buf[start..start + 4].copy_from_slice(&len.to_be_bytes());
    }
    DataRow::new(buf, row.len() as i16)
}

fn pg_epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date")
}

/// PostgreSQL's binary format of a non-NULL datum.
pub fn encode_binary(datum: &Datum, typ: &ScalarType, buf: &mut BytesMut) {
    match datum {
        Datum::Null => {}
        Datum::Bool(b) => buf.put_u8(*b as u8),
        Datum::Int16(v) => buf.put_i16(*v),
        Datum::Int32(v) => buf.put_i32(*v),
        // An oid is 4 bytes on the wire (its value fits: see `ScalarType::Oid`).
        Datum::Int64(v) if *typ == ScalarType::Oid => buf.put_u32(*v as u32),
        Datum::Int64(v) => buf.put_i64(*v),
        Datum::Float32(v) => buf.put_f32(v.0),
        Datum::Float64(v) => buf.put_f64(v.0),
        Datum::Numeric(d) => encode_numeric(d, buf),
        Datum::String(_) => buf.put_slice(format_datum(datum, typ).as_bytes()),
        Datum::Bytes(b) => buf.put_slice(b),
        Datum::Date(d) => buf.put_i32((*d - pg_epoch()).num_days() as i32),
        Datum::Time(t) => buf.put_i64(
            (t.num_seconds_from_midnight() as i64) * 1_000_000 + (t.nanosecond() / 1_000) as i64,
        ),
        Datum::Timestamp(ts) => buf.put_i64(
            (*ts - pg_epoch().and_time(NaiveTime::MIN))
                .num_microseconds()
                .unwrap_or(i64::MAX),
        ),
        Datum::TimestampTz(ts) => buf.put_i64(
            (ts.naive_utc() - pg_epoch().and_time(NaiveTime::MIN))
                .num_microseconds()
                .unwrap_or(i64::MAX),
        ),
        Datum::Interval(i) => {
            buf.put_i64(i.micros);
            buf.put_i32(i.days);
            buf.put_i32(i.months);
        }
        Datum::Jsonb(j) => {
            buf.put_u8(1);
            buf.put_slice(j.as_str().as_bytes());
        }
        Datum::Uuid(u) => buf.put_slice(u.as_bytes()),
        Datum::Array(items) => {
            let elem = match typ {
                ScalarType::Array(e) => e.as_ref().clone(),
                _ => ScalarType::String,
            };
            buf.put_i32(1);
            buf.put_i32(items.iter().any(|d| d.is_null()) as i32);
            buf.put_u32(pg_type(&elem).oid());
            buf.put_i32(items.len() as i32);
            buf.put_i32(1);
            for item in items {
                if item.is_null() {
                    buf.put_i32(-1);
                } else {
                    let start = buf.len();
                    buf.put_i32(0);
                    encode_binary(item, &elem, buf);
                    let len = (buf.len() - start - 4) as i32;
                    buf[start..start + 4].copy_from_slice(&len.to_be_bytes());
                }
            }
        }
    }
}

/// PostgreSQL's binary numeric: base-10000 digits with a weight, sign and display scale.
fn encode_numeric(d: &Decimal, buf: &mut BytesMut) {
    let scale = d.scale() as i16;
    let negative = d.is_sign_negative() && !d.is_zero();
    let text = d.abs().to_string();
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), f.to_string()),
        None => (text.clone(), String::new()),
    };
    let int_part = int_part.trim_start_matches('0').to_string();
    // Pad the integer part on the left and the fraction on the right to 4-digit groups.
    let int_pad = (4 - int_part.len() % 4) % 4;
    let int_digits = format!("{}{}", "0".repeat(int_pad), int_part);
    let frac_pad = (4 - frac_part.len() % 4) % 4;
    let frac_digits = format!("{}{}", frac_part, "0".repeat(frac_pad));
    let mut groups: Vec<i16> = Vec::new();
    for chunk in int_digits
        .as_bytes()
        .chunks(4)
        .chain(frac_digits.as_bytes().chunks(4))
    {
        groups.push(
            std::str::from_utf8(chunk)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
        );
    }
    let mut weight = (int_digits.len() / 4) as i16 - 1;
    // Strip leading zero groups (adjusting the weight) and trailing zero groups.
    while groups.first() == Some(&0) {
        groups.remove(0);
        weight -= 1;
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    buf.put_i16(groups.len() as i16);
    buf.put_i16(weight);
    buf.put_u16(if negative { 0x4000 } else { 0x0000 });
    buf.put_i16(scale);
    for g in groups {
        buf.put_i16(g);
    }
}

/// One row as a line of COPY text format: tab-separated, `\N` for NULL, backslash escapes.
pub fn copy_text_line(row: &Row, types: &[ScalarType]) -> Vec<u8> {
    let mut line = String::new();
    for (i, datum) in row.iter().enumerate() {
        if i > 0 {
            line.push('\t');
        }
        if datum.is_null() {
            line.push_str("\\N");
            continue;
        }
        for c in format_datum(datum, types.get(i).unwrap_or(&ScalarType::String)).chars() {
            match c {
                '\\' => line.push_str("\\\\"),
                '\t' => line.push_str("\\t"),
                '\n' => line.push_str("\\n"),
                '\r' => line.push_str("\\r"),
                c => line.push(c),
            }
        }
    }
    line.push('\n');
    line.into_bytes()
}

/// An error as PostgreSQL's ErrorResponse fields.
pub fn error_info(e: &AdapterError) -> ErrorInfo {
    let mut info = ErrorInfo::new("ERROR".to_string(), e.sqlstate().to_string(), e.to_string());
    info.detail = e.detail();
    info.hint = e.hint();
    info
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn numeric_bytes(s: &str) -> Vec<u8> {
        let mut buf = BytesMut::new();
        encode_numeric(&Decimal::from_str(s).unwrap(), &mut buf);
        buf.to_vec()
    }

    #[test]
    fn numeric_binary_matches_postgres_layout() {
        // 1.5: ndigits 2, weight 0, sign +, dscale 1, digits [1, 5000].
        assert_eq!(
            numeric_bytes("1.5"),
            vec![0, 2, 0, 0, 0, 0, 0, 1, 0, 1, 0x13, 0x88]
        );
        // 10000: ndigits 1, weight 1, digits [1].
        assert_eq!(numeric_bytes("10000"), vec![0, 1, 0, 1, 0, 0, 0, 0, 0, 1]);
        // -0.01: weight -1, digits [100], sign negative, dscale 2.
        assert_eq!(
            numeric_bytes("-0.01"),
            vec![0, 1, 0xff, 0xff, 0x40, 0, 0, 2, 0, 100]
        );
        // 0: no digits.
        assert_eq!(numeric_bytes("0"), vec![0, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn timestamps_count_microseconds_from_2000() {
        let mut buf = BytesMut::new();
        let ts = NaiveDate::from_ymd_opt(2000, 1, 2)
            .unwrap()
            .and_hms_opt(0, 0, 1)
            .unwrap();
        encode_binary(&Datum::Timestamp(ts), &ScalarType::Timestamp, &mut buf);
        assert_eq!(buf.to_vec(), (86_401_000_000i64).to_be_bytes().to_vec());
    }

    #[test]
    fn copy_text_escapes_and_marks_nulls() {
        let row = Row::new(vec![
            Datum::String("a\tb\\".into()),
            Datum::Null,
            Datum::Int32(3),
        ]);
        assert_eq!(
            copy_text_line(
                &row,
                &[ScalarType::String, ScalarType::String, ScalarType::Int32]
            ),
            b"a\\tb\\\\\t\\N\t3\n".to_vec()
        );
    }
}

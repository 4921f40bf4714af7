//! Values on the wire: type OIDs, the text and binary encodings of every type, DataRows,
//! COPY rows (text, CSV and binary), and errors as PostgreSQL ErrorResponses.

use crate::coord::AdapterError;
use crate::repr::copy_format::{CopyFormat, write_row};
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
        2205 => ScalarType::Reg(crate::repr::RegKind::Class),
        2206 => ScalarType::Reg(crate::repr::RegKind::Type),
        24 => ScalarType::Reg(crate::repr::RegKind::Proc),
        4089 => ScalarType::Reg(crate::repr::RegKind::Namespace),
        4096 => ScalarType::Reg(crate::repr::RegKind::Role),
        _ => return array_type_of_oid(oid),
    })
}

/// The array type a declared parameter OID means: one-dimensional arrays of the element
/// types above. `bpchar[]` is `text[]` (a declared `bpchar` has no length to pad to).
fn array_type_of_oid(oid: u32) -> Option<ScalarType> {
    let element_oid = match oid {
        1000 => 16,
        1005 => 21,
        1007 => 23,
        1016 => 20,
        1021 => 700,
        1022 => 701,
        1231 => 1700,
        1009 | 1014 => 25,
        1015 => 1043,
        1001 => 17,
        1182 => 1082,
        1183 => 1083,
        1115 => 1114,
        1185 => 1184,
        1187 => 1186,
        3807 | 199 => 3802,
        2951 => 2950,
        1028 => 26,
        2210 => 2205,
        2211 => 2206,
        1008 => 24,
        4090 => 4089,
        4097 => 4096,
        _ => return None,
    };
    Some(ScalarType::Array(Box::new(scalar_type_of_oid(
        element_oid,
    )?)))
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
        Datum::Int64(v) if typ.is_oid_like() => buf.put_u32(*v as u32),
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
            let elem = typ.array_element().unwrap_or(ScalarType::String);
            // ndim (an empty array has none), has-NULLs flag, element OID, then each
            // dimension's length and lower bound.
            buf.put_i32(!items.is_empty() as i32);
            buf.put_i32(items.iter().any(|d| d.is_null()) as i32);
            buf.put_u32(pg_type(&elem).oid());
            if !items.is_empty() {
                buf.put_i32(items.len() as i32);
                buf.put_i32(1);
            }
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

/// One row as COPY data in `format`: a line of text or CSV (see `repr::copy_format`), or a
/// binary tuple: the field count, then each field's length (-1 for NULL) and binary value,
/// which is the body of a DataRow in binary format.
pub fn copy_row(row: &Row, types: &[ScalarType], format: &CopyFormat) -> Vec<u8> {
    if format.is_binary() {
        let tuple = data_row(row, types, &vec![FieldFormat::Binary; row.len()]);
        let mut out = Vec::with_capacity(2 + tuple.data.len());
        out.extend_from_slice(&tuple.field_count.to_be_bytes());
        out.extend_from_slice(&tuple.data);
        return out;
    }
    let texts: Vec<Option<String>> = row
        .iter()
        .enumerate()
        .map(|(i, datum)| {
            (!datum.is_null())
                .then(|| format_datum(datum, types.get(i).unwrap_or(&ScalarType::String)))
        })
        .collect();
    let fields: Vec<Option<&str>> = texts.iter().map(Option::as_deref).collect();
    let mut out = Vec::new();
    write_row(&fields, format, &mut out);
    out
}

/// An error as PostgreSQL's ErrorResponse fields.
pub fn error_info(e: &AdapterError) -> ErrorInfo {
    let mut info = ErrorInfo::new("ERROR".to_string(), e.sqlstate().to_string(), e.to_string());
    info.detail = e.detail();
    info.hint = e.hint();
    info.constraint = e.constraint();
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
        let types = [ScalarType::String, ScalarType::String, ScalarType::Int32];
        assert_eq!(
            copy_row(&row, &types, &CopyFormat::text()),
            b"a\\tb\\\\\t\\N\t3\n".to_vec()
        );
        assert_eq!(
            copy_row(&row, &types, &CopyFormat::csv()),
            b"a\tb\\,,3\n".to_vec()
        );
    }

    #[test]
    fn copy_binary_tuple_is_field_count_then_length_prefixed_fields() {
        let row = Row::new(vec![Datum::Int16(7), Datum::Null]);
        assert_eq!(
            copy_row(
                &row,
                &[ScalarType::Int16, ScalarType::String],
                &CopyFormat::Binary
            ),
            vec![0, 2, 0, 0, 0, 2, 0, 7, 0xff, 0xff, 0xff, 0xff]
        );
    }
}

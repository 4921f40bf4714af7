//! Decoding a Kafka record's key or value into datums, by format.
//!
//! `decode(format, bytes)` ⇒ `Ok(datums)` with exactly `format.columns(..).len()` datums, or
//! `Err(message)` saying why the bytes are not of the format. Never panics on any input: a
//! malformed record becomes an error row of its source, not a stopped source.
//!
//! - TEXT: valid UTF-8 ⇒ one `text` datum.
//! - BYTES: any bytes ⇒ one `bytea` datum.
//! - JSON, no columns: a JSON document ⇒ one `jsonb` datum (canonical form).
//! - JSON with columns: a JSON object ⇒ its top-level fields of the columns' names; a
//!   missing field or `null` is NULL, a string is read as the column type's text input, a
//!   number or boolean as its JSON text, and an object or array only into `jsonb` or text.
//! - CSV: one record of exactly as many fields as columns; an empty field is NULL except
//!   for text columns, where it is the empty string.

use super::spec::Format;
use crate::repr::{Datum, Jsonb, ScalarType, text::parse_datum};
use serde_json::Value;

/// A format ready to decode: Avro's schema and Protobuf's descriptors read once, not per
/// record (a schema that does not read is every record's error).
pub enum Decoder {
    Avro(Result<super::avro::AvroDecoder, String>),
    Protobuf(Result<super::protobuf::ProtobufDecoder, String>),
    Plain(Format),
}

impl Decoder {
    pub fn new(format: &Format) -> Decoder {
        match format {
            Format::Avro { schema, .. } => Decoder::Avro(super::avro::AvroDecoder::new(schema)),
            Format::Protobuf {
                message,
                descriptors,
                ..
            } => Decoder::Protobuf(super::protobuf::ProtobufDecoder::new(descriptors, message)),
            other => Decoder::Plain(other.clone()),
        }
    }

    pub fn decode(&self, bytes: &[u8]) -> Result<Vec<Datum>, String> {
        match self {
            Decoder::Avro(Ok(avro)) => avro.decode(bytes),
            Decoder::Protobuf(Ok(protobuf)) => protobuf.decode(bytes),
            Decoder::Avro(Err(e)) | Decoder::Protobuf(Err(e)) => Err(e.clone()),
            Decoder::Plain(format) => decode(format, bytes),
        }
    }
}

pub fn decode(format: &Format, bytes: &[u8]) -> Result<Vec<Datum>, String> {
    match format {
        Format::Avro { schema, .. } => super::avro::AvroDecoder::new(schema)?.decode(bytes),
        Format::Protobuf {
            message,
            descriptors,
            ..
        } => super::protobuf::ProtobufDecoder::new(descriptors, message)?.decode(bytes),
        Format::Text => Ok(vec![Datum::String(utf8(bytes)?.to_string())]),
        Format::Bytes => Ok(vec![Datum::Bytes(bytes.to_vec())]),
        Format::Json { columns: None } => {
            let value: Value = serde_json::from_slice(bytes).map_err(json_error)?;
            Ok(vec![Datum::Jsonb(Jsonb::from_value(&value))])
        }
        Format::Json {
            columns: Some(columns),
        } => {
            let value: Value = serde_json::from_slice(bytes).map_err(json_error)?;
            json_fields(&value, columns)
        }
        Format::Csv { columns } => csv_fields(bytes, columns),
    }
}

/// The fields of JSON object `value` named by `columns`, converted to the columns' types.
pub fn json_fields(value: &Value, columns: &[(String, ScalarType)]) -> Result<Vec<Datum>, String> {
    let Value::Object(object) = value else {
        return Err(format!(
            "expected a JSON object, found {}",
            json_kind(value)
        ));
    };
    columns
        .iter()
        .map(|(name, typ)| {
            json_datum(object.get(name).unwrap_or(&Value::Null), typ)
                .map_err(|e| format!("field \"{name}\": {e}"))
        })
        .collect()
}

fn json_datum(value: &Value, typ: &ScalarType) -> Result<Datum, String> {
    let text_like = matches!(
        typ,
        ScalarType::String | ScalarType::VarChar { .. } | ScalarType::Char { .. }
    );
    match (value, typ) {
        (Value::Null, _) => Ok(Datum::Null),
        (_, ScalarType::Jsonb) => Ok(Datum::Jsonb(Jsonb::from_value(value))),
        (Value::String(s), _) => parse_datum(s, typ).map_err(|e| e.to_string()),
        (Value::Number(_) | Value::Bool(_), _) => {
            parse_datum(&value.to_string(), typ).map_err(|e| e.to_string())
        }
        (Value::Object(_) | Value::Array(_), _) if text_like => {
            parse_datum(&value.to_string(), typ).map_err(|e| e.to_string())
        }
        (Value::Object(_) | Value::Array(_), _) => Err(format!(
            "a JSON {} cannot be read as type {}",
            json_kind(value),
            typ.sql_name()
        )),
    }
}

fn csv_fields(bytes: &[u8], columns: &[(String, ScalarType)]) -> Result<Vec<Datum>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    match reader.read_byte_record(&mut record) {
        Ok(true) => {}
        Ok(false) => return Err("empty CSV record".into()),
        Err(e) => return Err(format!("invalid CSV: {e}")),
    }
    if record.len() != columns.len() {
        return Err(format!(
            "expected {} CSV fields, found {}",
            columns.len(),
            record.len()
        ));
    }
    if reader
        .read_byte_record(&mut csv::ByteRecord::new())
        .unwrap_or(false)
    {
        return Err("more than one CSV record in one message".into());
    }
    record
        .iter()
        .zip(columns)
        .map(|(field, (name, typ))| {
            let text = utf8(field).map_err(|e| format!("field \"{name}\": {e}"))?;
            let text_like = matches!(
                typ,
                ScalarType::String | ScalarType::VarChar { .. } | ScalarType::Char { .. }
            );
            if text.is_empty() && !text_like {
                return Ok(Datum::Null);
            }
            parse_datum(text, typ).map_err(|e| format!("field \"{name}\": {e}"))
        })
        .collect()
}

fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "invalid UTF-8 at byte {} (TEXT needs UTF-8: use FORMAT BYTES for binary data)",
            e.valid_up_to()
        )
    })
}

fn json_error(e: serde_json::Error) -> String {
    format!("invalid JSON: {e}")
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(cols: &[(&str, ScalarType)]) -> Format {
        Format::Json {
            columns: Some(
                cols.iter()
                    .map(|(n, t)| (n.to_string(), t.clone()))
                    .collect(),
            ),
        }
    }

    #[test]
    fn text_needs_utf8_and_bytes_take_anything() {
        assert_eq!(
            decode(&Format::Text, b"hello").unwrap(),
            vec![Datum::string("hello")]
        );
        assert!(
            decode(&Format::Text, &[0xff, 0xfe])
                .unwrap_err()
                .contains("UTF-8")
        );
        assert_eq!(
            decode(&Format::Bytes, &[0xff]).unwrap(),
            vec![Datum::Bytes(vec![0xff])]
        );
    }

    #[test]
    fn schemaless_json_is_one_canonical_jsonb() {
        let d = decode(&Format::Json { columns: None }, br#"{"b":1,  "a":[true]}"#).unwrap();
        assert_eq!(
            d,
            vec![Datum::Jsonb(
                Jsonb::parse(r#"{"a": [true], "b": 1}"#).unwrap()
            )]
        );
        assert!(
            decode(&Format::Json { columns: None }, b"{oops")
                .unwrap_err()
                .starts_with("invalid JSON")
        );
    }

    #[test]
    fn typed_json_reads_fields_by_name_with_nulls_for_missing_ones() {
        let f = typed(&[
            ("id", ScalarType::Int32),
            ("name", ScalarType::String),
            ("extra", ScalarType::Jsonb),
        ]);
        let d = decode(&f, br#"{"id": 7, "extra": {"x": 1}}"#).unwrap();
        assert_eq!(d[0], Datum::Int32(7));
        assert_eq!(d[1], Datum::Null);
        assert_eq!(d[2], Datum::Jsonb(Jsonb::parse(r#"{"x": 1}"#).unwrap()));
        let d = decode(&f, br#"{"id": "8", "name": "n"}"#).unwrap();
        assert_eq!(d[0], Datum::Int32(8));
        let e = decode(&f, br#"{"id": "eight"}"#).unwrap_err();
        assert!(e.contains("field \"id\""), "{e}");
        assert!(
            decode(&f, b"[1]")
                .unwrap_err()
                .contains("expected a JSON object")
        );
        assert!(decode(&f, br#"{"id": 9999999999}"#).is_err());
    }

    #[test]
    fn csv_needs_exactly_its_columns() {
        let f = Format::Csv {
            columns: vec![
                ("a".into(), ScalarType::Int64),
                ("b".into(), ScalarType::String),
            ],
        };
        assert_eq!(
            decode(&f, b"1,\"x,y\"").unwrap(),
            vec![Datum::Int64(1), Datum::string("x,y")]
        );
        assert_eq!(
            decode(&f, b",").unwrap(),
            vec![Datum::Null, Datum::string("")]
        );
        assert!(
            decode(&f, b"1")
                .unwrap_err()
                .contains("expected 2 CSV fields")
        );
        assert!(decode(&f, b"x,1").unwrap_err().contains("field \"a\""));
    }
}

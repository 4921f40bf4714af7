//! Avro values of Kafka records (`FORMAT AVRO USING SCHEMA '...'`), with the `apache-avro`
//! crate.
//!
//! - `columns(schema)`: a record schema ⇒ one column per top-level field. `boolean` ⇒
//!   boolean, `int` ⇒ integer, `long` ⇒ bigint, `float` ⇒ real, `double` ⇒ double precision,
//!   `string` and `enum` ⇒ text, `bytes` and `fixed` ⇒ bytea, `date` ⇒ date,
//!   `timestamp-millis|micros` ⇒ timestamp, `uuid` ⇒ uuid; a union of `null` and one type
//!   ⇒ that type; anything else (arrays, maps, records, other unions, decimals) ⇒ jsonb.
//! - `AvroDecoder::decode(bytes)` ⇒ the datums of one record, or why the bytes are not a
//!   datum of the schema. A record may carry the Confluent framing (a zero byte and a
//!   4-byte schema id before the datum): when the bytes do not decode as a whole datum and
//!   that framing is there, the datum after it is read.

use crate::repr::{Datum, Jsonb, ScalarType};
use apache_avro::Schema;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::types::Value;

/// The columns a record schema decodes into.
pub fn columns(schema_text: &str) -> Result<Vec<(String, ScalarType)>, String> {
    let schema = Schema::parse_str(schema_text).map_err(|e| format!("invalid Avro schema: {e}"))?;
    let Schema::Record(record) = &schema else {
        return Err("the Avro schema must be a record".into());
    };
    Ok(record
        .fields
        .iter()
        .map(|f| (f.name.to_lowercase(), column_type(&f.schema)))
        .collect())
}

fn column_type(schema: &Schema) -> ScalarType {
    match schema {
        Schema::Boolean => ScalarType::Bool,
        Schema::Int => ScalarType::Int32,
        Schema::Long => ScalarType::Int64,
        Schema::Float => ScalarType::Float32,
        Schema::Double => ScalarType::Float64,
        Schema::String | Schema::Enum(_) => ScalarType::String,
        Schema::Bytes | Schema::Fixed(_) => ScalarType::Bytes,
        Schema::Date => ScalarType::Date,
        Schema::TimestampMillis | Schema::TimestampMicros => ScalarType::Timestamp,
        Schema::Uuid(_) => ScalarType::Uuid,
        Schema::Union(u) => {
            let non_null: Vec<&Schema> = u
                .variants()
                .iter()
                .filter(|s| **s != Schema::Null)
                .collect();
            match non_null.as_slice() {
                [one] => column_type(one),
                _ => ScalarType::Jsonb,
            }
        }
        _ => ScalarType::Jsonb,
    }
}

pub struct AvroDecoder {
    schema: Schema,
    columns: Vec<(String, ScalarType)>,
}

impl AvroDecoder {
    pub fn new(schema_text: &str) -> Result<AvroDecoder, String> {
        Ok(AvroDecoder {
            schema: Schema::parse_str(schema_text)
                .map_err(|e| format!("invalid Avro schema: {e}"))?,
            columns: columns(schema_text)?,
        })
    }

    pub fn decode(&self, bytes: &[u8]) -> Result<Vec<Datum>, String> {
        let value = match self.read_whole(bytes) {
            Ok(v) => v,
            Err(e) if bytes.len() >= 5 && bytes[0] == 0 => {
                self.read_whole(&bytes[5..]).map_err(|_| e)?
            }
            Err(e) => return Err(e),
        };
        let Value::Record(fields) = value else {
            return Err("the Avro datum is not a record".into());
        };
        if fields.len() != self.columns.len() {
            return Err(format!(
                "the Avro record has {} fields, the schema {}",
                fields.len(),
                self.columns.len()
            ));
        }
        fields
            .into_iter()
            .zip(&self.columns)
            .map(|((name, v), (_, typ))| {
                datum(v, typ).map_err(|e| format!("field \"{name}\": {e}"))
            })
            .collect()
    }

    /// One datum that uses every byte.
    fn read_whole(&self, bytes: &[u8]) -> Result<Value, String> {
        let mut reader = bytes;
        let value = GenericDatumReader::builder(&self.schema)
            .build()
            .and_then(|r| r.read_value(&mut reader))
            .map_err(|e| format!("invalid Avro datum: {e}"))?;
        if !reader.is_empty() {
            return Err(format!(
                "invalid Avro datum: {} bytes left after the record",
                reader.len()
            ));
        }
        Ok(value)
    }
}

fn datum(value: Value, typ: &ScalarType) -> Result<Datum, String> {
    Ok(match (value, typ) {
        (Value::Union(_, inner), _) => return datum(*inner, typ),
        (Value::Null, _) => Datum::Null,
        (v, ScalarType::Jsonb) => {
            let json = serde_json::Value::try_from(v).map_err(|e| e.to_string())?;
            Datum::Jsonb(Jsonb::from_value(&json))
        }
        (Value::Boolean(b), _) => Datum::Bool(b),
        (Value::Int(i), _) => Datum::Int32(i),
        (Value::Long(i), _) => Datum::Int64(i),
        (Value::Float(f), _) => Datum::f32(f),
        (Value::Double(f), _) => Datum::f64(f),
        (Value::String(s), _) | (Value::Enum(_, s), _) => Datum::String(s),
        (Value::Bytes(b), _) | (Value::Fixed(_, b), _) => Datum::Bytes(b),
        (Value::Uuid(u), _) => Datum::Uuid(u),
        (Value::Date(days), _) => chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163)
            .map(Datum::Date)
            .ok_or("date out of range")?,
        (Value::TimestampMillis(ms), _) => chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| Datum::Timestamp(t.naive_utc()))
            .ok_or("timestamp out of range")?,
        (Value::TimestampMicros(us), _) => chrono::DateTime::from_timestamp_micros(us)
            .map(|t| Datum::Timestamp(t.naive_utc()))
            .ok_or("timestamp out of range")?,
        (other, _) => {
            return Err(format!(
                "an Avro {other:?} cannot be read as {}",
                typ.sql_name()
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use apache_avro::types::Record;

    const SCHEMA: &str = r#"{"type": "record", "name": "order", "fields": [
        {"name": "id", "type": "long"},
        {"name": "customer", "type": ["null", "string"]},
        {"name": "amount", "type": "double"},
        {"name": "tags", "type": {"type": "array", "items": "string"}}
    ]}"#;

    fn encode(id: i64, customer: Option<&str>) -> Vec<u8> {
        let schema = Schema::parse_str(SCHEMA).unwrap();
        let mut record = Record::new(&schema).unwrap();
        record.put("id", id);
        record.put(
            "customer",
            Value::Union(
                u32::from(customer.is_some()),
                Box::new(customer.map_or(Value::Null, |c| Value::String(c.into()))),
            ),
        );
        record.put("amount", 1.5f64);
        record.put("tags", Value::Array(vec![Value::String("x".into())]));
        apache_avro::writer::datum::GenericDatumWriter::builder(&schema)
            .build()
            .unwrap()
            .write_value_to_vec(record)
            .unwrap()
    }

    #[test]
    fn record_fields_become_typed_columns() {
        let cols = columns(SCHEMA).unwrap();
        assert_eq!(
            cols,
            vec![
                ("id".into(), ScalarType::Int64),
                ("customer".into(), ScalarType::String),
                ("amount".into(), ScalarType::Float64),
                ("tags".into(), ScalarType::Jsonb),
            ]
        );
        let d = AvroDecoder::new(SCHEMA).unwrap();
        assert_eq!(
            d.decode(&encode(7, Some("ann"))).unwrap(),
            vec![
                Datum::Int64(7),
                Datum::string("ann"),
                Datum::f64(1.5),
                Datum::Jsonb(Jsonb::parse(r#"["x"]"#).unwrap())
            ]
        );
        assert_eq!(d.decode(&encode(8, None)).unwrap()[1], Datum::Null);
    }

    #[test]
    fn confluent_framing_is_skipped_and_garbage_is_an_error() {
        let d = AvroDecoder::new(SCHEMA).unwrap();
        let mut framed = vec![0, 0, 0, 0, 42];
        framed.extend(encode(9, None));
        assert_eq!(d.decode(&framed).unwrap()[0], Datum::Int64(9));
        assert!(
            d.decode(&[0xff, 0xff, 0xff])
                .unwrap_err()
                .starts_with("invalid Avro datum")
        );
        assert!(
            columns(r#""string""#)
                .unwrap_err()
                .contains("must be a record")
        );
    }
}

//! Protobuf values of Kafka records (`FORMAT PROTOBUF MESSAGE 'name' USING SCHEMA
//! '\x<FileDescriptorSet>'`, as Materialize writes it: the compiled descriptors, hex-encoded,
//! as `protoc --descriptor_set_out --include_imports` makes them), with `prost-reflect`.
//!
//! - `columns(descriptors, message)`: one column per field of the message, in declaration
//!   order, named as the field (lowercased). `double` ⇒ double precision, `float` ⇒ real,
//!   `int32` / `sint32` / `sfixed32` ⇒ integer, `int64` / `sint64` / `sfixed64` and
//!   `uint32` / `fixed32` ⇒ bigint, `uint64` / `fixed64` ⇒ numeric, `bool` ⇒ boolean,
//!   `string` ⇒ text, `bytes` ⇒ bytea, an enum ⇒ text (the value's name, or its number when
//!   the descriptor has no name for it); a message, a `repeated` field or a map ⇒ jsonb
//!   (protobuf's JSON mapping, fields by their proto names).
//! - `ProtobufDecoder::decode(bytes)` ⇒ the datums of one message, or why the bytes are not
//!   one. A field with presence (a message, proto2 fields, proto3 `optional`) that is absent
//!   is NULL; a proto3 scalar without presence that is absent has its default (0, "", the
//!   first enum value), as protobuf defines.

use crate::repr::{Datum, Jsonb, ScalarType};
use prost_reflect::{DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor};

/// The message `message` (a full name, with or without a leading `.`) of the hex-encoded
/// FileDescriptorSet `descriptors` (with or without PostgreSQL's `\x` prefix).
pub fn message_descriptor(descriptors: &str, message: &str) -> Result<MessageDescriptor, String> {
    let hex_text = descriptors.strip_prefix("\\x").unwrap_or(descriptors);
    let bytes = hex::decode(hex_text.trim())
        .map_err(|e| format!("the Protobuf schema is not hex-encoded descriptors: {e}"))?;
    let pool = DescriptorPool::decode(bytes.as_slice())
        .map_err(|e| format!("invalid Protobuf descriptors: {e}"))?;
    let name = message.strip_prefix('.').unwrap_or(message);
    pool.get_message_by_name(name)
        .ok_or_else(|| format!("the Protobuf descriptors have no message \"{name}\""))
}

/// The columns message `message` of `descriptors` decodes into.
pub fn columns(descriptors: &str, message: &str) -> Result<Vec<(String, ScalarType)>, String> {
    Ok(message_descriptor(descriptors, message)?
        .fields()
        .map(|f| (f.name().to_lowercase(), column_type(&f)))
        .collect())
}

fn column_type(field: &FieldDescriptor) -> ScalarType {
    if field.is_list() || field.is_map() {
        return ScalarType::Jsonb;
    }
    match field.kind() {
        Kind::Double => ScalarType::Float64,
        Kind::Float => ScalarType::Float32,
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => ScalarType::Int32,
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 | Kind::Uint32 | Kind::Fixed32 => {
            ScalarType::Int64
        }
        Kind::Uint64 | Kind::Fixed64 => ScalarType::Numeric { typmod: None },
        Kind::Bool => ScalarType::Bool,
        Kind::String | Kind::Enum(_) => ScalarType::String,
        Kind::Bytes => ScalarType::Bytes,
        Kind::Message(_) => ScalarType::Jsonb,
    }
}

pub struct ProtobufDecoder {
    message: MessageDescriptor,
    /// Each field, and whether it decodes into jsonb.
    fields: Vec<(FieldDescriptor, bool)>,
    /// Whether a field decodes into jsonb (then the message is mapped to JSON once).
    any_json: bool,
}

impl ProtobufDecoder {
    pub fn new(descriptors: &str, message: &str) -> Result<ProtobufDecoder, String> {
        let message = message_descriptor(descriptors, message)?;
        let fields: Vec<(FieldDescriptor, bool)> = message
            .fields()
            .map(|f| {
                let json = column_type(&f) == ScalarType::Jsonb;
                (f, json)
            })
            .collect();
        let any_json = fields.iter().any(|(_, json)| *json);
        Ok(ProtobufDecoder {
            message,
            fields,
            any_json,
        })
    }

    pub fn decode(&self, bytes: &[u8]) -> Result<Vec<Datum>, String> {
        let message = DynamicMessage::decode(self.message.clone(), bytes)
            .map_err(|e| format!("invalid Protobuf message: {e}"))?;
        let json = if self.any_json {
            let options = prost_reflect::SerializeOptions::new()
                .use_proto_field_name(true)
                .skip_default_fields(false);
            Some(
                message
                    .serialize_with_options(serde_json::value::Serializer, &options)
                    .map_err(|e| format!("Protobuf message as JSON: {e}"))?,
            )
        } else {
            None
        };
        self.fields
            .iter()
            .map(|(field, as_json)| {
                if field.supports_presence() && !message.has_field(field) {
                    return Ok(Datum::Null);
                }
                if *as_json {
                    let value = json
                        .as_ref()
                        .and_then(|j| j.get(field.name()))
                        .cloned()
                        .unwrap_or(serde_json::Value::Null);
                    return Ok(Datum::Jsonb(Jsonb::from_value(&value)));
                }
                datum(field, &message.get_field(field))
                    .map_err(|e| format!("field \"{}\": {e}", field.name()))
            })
            .collect()
    }
}

fn datum(field: &FieldDescriptor, value: &prost_reflect::Value) -> Result<Datum, String> {
    use prost_reflect::Value;
    Ok(match value {
        Value::Bool(b) => Datum::Bool(*b),
        Value::I32(i) => Datum::Int32(*i),
        Value::I64(i) => Datum::Int64(*i),
        Value::U32(u) => Datum::Int64(i64::from(*u)),
        Value::U64(u) => Datum::Numeric(rust_decimal::Decimal::from(*u)),
        Value::F32(f) => Datum::f32(*f),
        Value::F64(f) => Datum::f64(*f),
        Value::String(s) => Datum::String(s.clone()),
        Value::Bytes(b) => Datum::Bytes(b.to_vec()),
        Value::EnumNumber(n) => {
            let name = match field.kind() {
                Kind::Enum(e) => e.get_value(*n).map(|v| v.name().to_string()),
                _ => None,
            };
            Datum::String(name.unwrap_or_else(|| n.to_string()))
        }
        other => return Err(format!("a Protobuf {other:?} is not a scalar")),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use prost_reflect::prost::Message;
    use prost_reflect::prost_types::{
        DescriptorProto, EnumDescriptorProto, EnumValueDescriptorProto, FieldDescriptorProto,
        FileDescriptorProto, FileDescriptorSet, field_descriptor_proto::Label,
        field_descriptor_proto::Type,
    };

    fn field(name: &str, number: i32, typ: Type, label: Label) -> FieldDescriptorProto {
        FieldDescriptorProto {
            name: Some(name.into()),
            number: Some(number),
            r#type: Some(typ as i32),
            label: Some(label as i32),
            json_name: Some(name.into()),
            ..Default::default()
        }
    }

    /// `shop.Order { int64 id = 1; string customer = 2; optional double amount = 3;
    /// Status status = 4; repeated string tags = 5; uint64 big = 6; }`, hex-encoded.
    pub(crate) fn order_descriptors() -> String {
        let mut amount = field("amount", 3, Type::Double, Label::Optional);
        amount.proto3_optional = Some(true);
        amount.oneof_index = Some(0);
        let mut status = field("status", 4, Type::Enum, Label::Optional);
        status.type_name = Some(".shop.Status".into());
        let file = FileDescriptorProto {
            name: Some("shop.proto".into()),
            package: Some("shop".into()),
            syntax: Some("proto3".into()),
            message_type: vec![DescriptorProto {
                name: Some("Order".into()),
                field: vec![
                    field("id", 1, Type::Int64, Label::Optional),
                    field("customer", 2, Type::String, Label::Optional),
                    amount,
                    status,
                    field("tags", 5, Type::String, Label::Repeated),
                    field("big", 6, Type::Uint64, Label::Optional),
                ],
                oneof_decl: vec![prost_reflect::prost_types::OneofDescriptorProto {
                    name: Some("_amount".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            enum_type: vec![EnumDescriptorProto {
                name: Some("Status".into()),
                value: vec![
                    EnumValueDescriptorProto {
                        name: Some("OPEN".into()),
                        number: Some(0),
                        ..Default::default()
                    },
                    EnumValueDescriptorProto {
                        name: Some("SHIPPED".into()),
                        number: Some(1),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        };
        let set = FileDescriptorSet { file: vec![file] };
        format!("\\x{}", hex::encode(set.encode_to_vec()))
    }

    fn encode(fields: &[(&str, prost_reflect::Value)]) -> Vec<u8> {
        let descriptor = message_descriptor(&order_descriptors(), "shop.Order").unwrap();
        let mut message = DynamicMessage::new(descriptor);
        for (name, value) in fields {
            message.set_field_by_name(name, value.clone());
        }
        message.encode_to_vec()
    }

    #[test]
    fn message_fields_become_typed_columns() {
        assert_eq!(
            columns(&order_descriptors(), ".shop.Order").unwrap(),
            vec![
                ("id".into(), ScalarType::Int64),
                ("customer".into(), ScalarType::String),
                ("amount".into(), ScalarType::Float64),
                ("status".into(), ScalarType::String),
                ("tags".into(), ScalarType::Jsonb),
                ("big".into(), ScalarType::Numeric { typmod: None }),
            ]
        );
    }

    #[test]
    fn a_message_decodes_with_defaults_and_nulls_where_protobuf_has_them() {
        use prost_reflect::Value;
        let decoder = ProtobufDecoder::new(&order_descriptors(), "shop.Order").unwrap();
        let bytes = encode(&[
            ("id", Value::I64(7)),
            ("status", Value::EnumNumber(1)),
            (
                "tags",
                Value::List(vec![Value::String("a".into()), Value::String("b".into())]),
            ),
            ("big", Value::U64(u64::MAX)),
        ]);
        let datums = decoder.decode(&bytes).unwrap();
        assert_eq!(datums[0], Datum::Int64(7));
        // proto3 `string` without presence: absent is "".
        assert_eq!(datums[1], Datum::String(String::new()));
        // proto3 `optional`: absent is NULL.
        assert_eq!(datums[2], Datum::Null);
        assert_eq!(datums[3], Datum::String("SHIPPED".into()));
        assert_eq!(
            datums[4],
            Datum::Jsonb(Jsonb::from_value(&serde_json::json!(["a", "b"])))
        );
        assert_eq!(
            datums[5],
            Datum::Numeric(rust_decimal::Decimal::from(u64::MAX))
        );
    }

    #[test]
    fn bad_bytes_and_bad_schemas_are_errors() {
        let decoder = ProtobufDecoder::new(&order_descriptors(), "shop.Order").unwrap();
        assert!(
            decoder
                .decode(&[0xff, 0xff, 0xff])
                .unwrap_err()
                .starts_with("invalid Protobuf message")
        );
        assert!(
            ProtobufDecoder::new(&order_descriptors(), "shop.Nope")
                .err()
                .unwrap()
                .contains("no message \"shop.Nope\"")
        );
        assert!(
            ProtobufDecoder::new("\\xzz", "shop.Order")
                .err()
                .unwrap()
                .contains("not hex-encoded")
        );
    }
}

//! What a Kafka source or connection is, as planned from SQL and stored in the catalog.
//!
//! Pure data: the reader (`reader.rs`) and the decoders (`decode.rs`) act on it. Column
//! order of a source's data relation (`KafkaSourceSpec::desc`): the key's columns (ENVELOPE
//! UPSERT, or INCLUDE KEY), then the value's, then the other INCLUDE columns in the order
//! the statement lists them.

use crate::repr::{ColumnType, GlobalId, RelationDesc, ScalarType};
use serde::{Deserialize, Serialize};

/// `CREATE CONNECTION ... TO KAFKA (...)`: librdkafka settings, some of them secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KafkaConnection {
    /// `BROKER 'host:port'` or `BROKERS ('a:1', 'b:2')`.
    pub brokers: Vec<String>,
    /// Other settings, as librdkafka names them (`security.protocol`, `sasl.mechanisms`,
    /// `sasl.username`), with their values.
    pub settings: Vec<(String, SettingValue)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SettingValue {
    Text(String),
    /// The value of a `CREATE SECRET`, looked up when a client is made.
    Secret(GlobalId),
}

impl KafkaConnection {
    /// The secrets this connection reads.
    pub fn secrets(&self) -> impl Iterator<Item = GlobalId> + '_ {
        self.settings.iter().filter_map(|(_, v)| match v {
            SettingValue::Secret(id) => Some(*id),
            SettingValue::Text(_) => None,
        })
    }
}

/// How the bytes of a key or value become columns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    /// UTF-8 text: one `text` column.
    Text,
    /// The raw bytes: one `bytea` column.
    Bytes,
    /// A JSON document: one `jsonb` column, or with `columns`, the document's fields of
    /// those names (top level), each converted to its column's type.
    Json {
        columns: Option<Vec<(String, ScalarType)>>,
    },
    /// One CSV record of exactly `columns.len()` fields.
    Csv { columns: Vec<(String, ScalarType)> },
    /// An Avro datum of the record schema `schema` (JSON text), one column per field
    /// (`avro.rs`).
    Avro {
        schema: String,
        columns: Vec<(String, ScalarType)>,
    },
    /// A Protobuf message `message` of the hex-encoded FileDescriptorSet `descriptors`, one
    /// column per field (`protobuf.rs`). (Last, so that stored formats keep their numbers.)
    Protobuf {
        message: String,
        descriptors: String,
        columns: Vec<(String, ScalarType)>,
    },
}

impl Format {
    /// The columns this format decodes into; `single` names the one column of TEXT, BYTES
    /// and schemaless JSON.
    pub fn columns(&self, single: &str) -> Vec<(String, ScalarType)> {
        match self {
            Format::Text => vec![(single.to_string(), ScalarType::String)],
            Format::Bytes => vec![(single.to_string(), ScalarType::Bytes)],
            Format::Json { columns: None } => vec![(single.to_string(), ScalarType::Jsonb)],
            Format::Json { columns: Some(c) }
            | Format::Csv { columns: c }
            | Format::Avro { columns: c, .. }
            | Format::Protobuf { columns: c, .. } => c.clone(),
        }
    }

    /// The column name of TEXT, BYTES and JSON values, as Materialize names it.
    pub fn default_value_column(&self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Bytes
            | Format::Json { .. }
            | Format::Csv { .. }
            | Format::Avro { .. }
            | Format::Protobuf { .. } => "data",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Envelope {
    /// Every record is a new row; rows are never retracted.
    None,
    /// The latest value per key; a record with a null value deletes its key.
    Upsert,
    /// Debezium change events (JSON, `after` under `payload` if there is one), applied per
    /// Kafka key like UPSERT: `after` replaces the key's row, a null `after` or a null value
    /// (Debezium's tombstone) deletes it. The value's columns are those of `after`.
    Debezium,
}

/// Record metadata a source can add as columns (`INCLUDE PARTITION, OFFSET, TIMESTAMP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Metadata {
    Partition,
    Offset,
    Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KafkaSourceSpec {
    pub connection: GlobalId,
    pub topic: String,
    /// `START OFFSET (o0, o1, ...)`: where partition `i` starts on first start; partitions
    /// beyond the list start at their beginning.
    pub start_offsets: Vec<i64>,
    /// `START TIMESTAMP ms`: partitions start at the first record at or after this time
    /// (milliseconds since the epoch; negative: that long before the source is created).
    pub start_timestamp: Option<i64>,
    /// The key's format, with the name of its column when the key is included.
    pub key: Option<(Format, Option<String>)>,
    pub value: Format,
    /// The name of the value's single column (TEXT, BYTES, schemaless JSON).
    pub value_column: String,
    pub metadata: Vec<(Metadata, String)>,
    pub envelope: Envelope,
}

impl KafkaSourceSpec {
    /// The key's output columns (empty if the key is not included).
    pub fn key_columns(&self) -> Vec<(String, ScalarType)> {
        match &self.key {
            Some((format, Some(name))) => format.columns(name),
            _ => vec![],
        }
    }

    /// The value's output columns: for DEBEZIUM, those of `after`.
    pub fn value_columns(&self) -> Vec<(String, ScalarType)> {
        self.value.columns(&self.value_column)
    }

    /// The data relation: key, value, then metadata columns. Key columns are non-NULL under
    /// UPSERT (a record without a key is an error there); everything else may be NULL.
    pub fn desc(&self) -> RelationDesc {
        let mut names = Vec::new();
        let mut types = Vec::new();
        let key_not_null = self.envelope != Envelope::None;
        for (name, typ) in self.key_columns() {
            names.push(name);
            types.push(ColumnType::new(typ, !key_not_null));
        }
        for (name, typ) in self.value_columns() {
            names.push(name);
            types.push(ColumnType::new(typ, true));
        }
        for (what, name) in &self.metadata {
            names.push(name.clone());
            types.push(ColumnType::new(
                match what {
                    Metadata::Partition => ScalarType::Int32,
                    Metadata::Offset => ScalarType::Int64,
                    Metadata::Timestamp => ScalarType::TimestampTz,
                },
                *what == Metadata::Timestamp,
            ));
        }
        RelationDesc::new(names, types)
    }
}

/// `<source>_progress`: per partition, the next offset to ingest (everything before it is
/// in the source) and when the last ingested record of it arrived.
pub fn progress_desc() -> RelationDesc {
    RelationDesc::new(
        vec!["partition".into(), "offset".into(), "ingested_at".into()],
        vec![
            ColumnType::new(ScalarType::Int32, false),
            ColumnType::new(ScalarType::Int64, false),
            ColumnType::new(ScalarType::TimestampTz, false),
        ],
    )
}

/// `<source>_errors`: records that could not be decoded. Under UPSERT and DEBEZIUM a key
/// has at most one, its latest record's, until a good value or a delete replaces it.
pub fn errors_desc() -> RelationDesc {
    RelationDesc::new(
        vec![
            "partition".into(),
            "offset".into(),
            "key".into(),
            "error".into(),
        ],
        vec![
            ColumnType::new(ScalarType::Int32, false),
            ColumnType::new(ScalarType::Int64, false),
            ColumnType::new(ScalarType::Bytes, true),
            ColumnType::new(ScalarType::String, false),
        ],
    )
}

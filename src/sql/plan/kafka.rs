//! Planning `CREATE SECRET`, `CREATE CONNECTION ... TO KAFKA` and `CREATE SOURCE ... FROM
//! KAFKA` (syntax in `parse/kafka.rs`). Pure: whether the broker answers and the topic
//! exists is checked by the coordinator before the plan is applied.
//!
//! A Kafka source makes three relations: `<name>` (the data: key, value and metadata
//! columns, see `KafkaSourceSpec::desc`), `<name>_progress` (per partition, the next offset
//! to ingest) and `<name>_errors` (records that could not be decoded).

use super::context::StatementContext;
use super::expr::{eval_constant, normalize_name};
use super::source::SourceRelations;
use super::statement::{Plan, table_name};
use crate::catalog::{ItemKind, SourceOutput};
use crate::repr::{Datum, GlobalId, ScalarType};
use crate::sql::parse::{
    CreateConnectionStatement, CreateSecretStatement, FormatSyntax, KafkaSourceStatement,
    OptionValue,
};
use crate::sql::{PlanError, Result};
use crate::storage::kafka::{
    Envelope, Format, KafkaConnection, KafkaSourceSpec, Metadata, SettingValue, spec,
};
use sqlparser::ast;

pub fn plan_create_secret(scx: &StatementContext, cs: &CreateSecretStatement) -> Result<Plan> {
    let name = table_name(scx, &cs.name)?;
    let value = match eval_constant(scx, &cs.value, &ScalarType::String, "CREATE SECRET")? {
        Datum::String(s) => s,
        _ => {
            return Err(PlanError::InvalidParameter(
                "a secret's value must be a non-NULL string".into(),
            ));
        }
    };
    if let Some(noop) = exists(scx, &name, cs.if_not_exists, "CREATE SECRET")? {
        return Ok(noop);
    }
    Ok(Plan::CreateSecret { name, value })
}

pub fn plan_create_connection(
    scx: &StatementContext,
    cc: &CreateConnectionStatement,
) -> Result<Plan> {
    let name = table_name(scx, &cc.name)?;
    if cc.kind != "kafka" {
        return Err(PlanError::unsupported(format!(
            "CREATE CONNECTION ... TO {} (only KAFKA connections exist so far)",
            cc.kind.to_uppercase()
        )));
    }
    let mut connection = KafkaConnection {
        brokers: vec![],
        settings: vec![],
    };
    for (option, value) in &cc.options {
        match (option.as_str(), value) {
            ("broker", OptionValue::Expr(e)) => connection.brokers.push(string(scx, e, option)?),
            ("brokers", OptionValue::List(list)) => {
                for e in list {
                    connection.brokers.push(string(scx, e, option)?);
                }
            }
            (
                "security protocol"
                | "sasl mechanisms"
                | "sasl username"
                | "sasl password"
                | "ssl certificate authority",
                value,
            ) => {
                let setting = match option.as_str() {
                    "security protocol" => "security.protocol",
                    "sasl mechanisms" => "sasl.mechanisms",
                    "sasl username" => "sasl.username",
                    "sasl password" => "sasl.password",
                    _ => "ssl.ca.pem",
                };
                let value = match value {
                    OptionValue::Expr(e) if option != "sasl password" => {
                        SettingValue::Text(string(scx, e, option)?)
                    }
                    OptionValue::Secret(s) => {
                        SettingValue::Secret(item_of_kind(scx, s, ItemKind::Secret)?)
                    }
                    _ => {
                        return Err(PlanError::InvalidParameter(format!(
                            "{} must be {}",
                            option.to_uppercase(),
                            if option == "sasl password" {
                                "SECRET name"
                            } else {
                                "a string or SECRET name"
                            }
                        )));
                    }
                };
                connection.settings.push((setting.to_string(), value));
            }
            _ => {
                return Err(PlanError::unsupported(format!(
                    "Kafka connection option {}",
                    option.to_uppercase()
                )));
            }
        }
    }
    if connection.brokers.is_empty() {
        return Err(PlanError::Syntax(
            "a Kafka connection needs BROKER 'host:port' (or BROKERS (...))".into(),
        ));
    }
    if let Some(noop) = exists(scx, &name, cc.if_not_exists, "CREATE CONNECTION")? {
        return Ok(noop);
    }
    Ok(Plan::CreateConnection { name, connection })
}

pub fn plan_create_kafka_source(scx: &StatementContext, ks: &KafkaSourceStatement) -> Result<Plan> {
    let name = table_name(scx, &ks.name)?;
    let connection = item_of_kind(scx, &ks.connection, ItemKind::Connection)?;
    let mut topic = None;
    let mut start_offsets = vec![];
    let mut start_timestamp = None;
    for (option, value) in &ks.options {
        match (option.as_str(), value) {
            ("topic", OptionValue::Expr(e)) => topic = Some(string(scx, e, option)?),
            ("start offset", OptionValue::List(list)) => {
                for e in list {
                    match eval_constant(scx, e, &ScalarType::Int64, "START OFFSET")? {
                        Datum::Int64(n) if n >= 0 => start_offsets.push(n),
                        _ => {
                            return Err(PlanError::InvalidParameter(
                                "START OFFSET must list non-negative integers".into(),
                            ));
                        }
                    }
                }
            }
            ("start timestamp", OptionValue::Expr(e)) => {
                match eval_constant(scx, e, &ScalarType::Int64, "START TIMESTAMP")? {
                    Datum::Int64(n) => start_timestamp = Some(n),
                    _ => {
                        return Err(PlanError::InvalidParameter(
                            "START TIMESTAMP must be an integer (milliseconds)".into(),
                        ));
                    }
                }
            }
            _ => {
                return Err(PlanError::unsupported(format!(
                    "Kafka source option {}",
                    option.to_uppercase()
                )));
            }
        }
    }
    let topic = topic.ok_or_else(|| {
        PlanError::Syntax("CREATE SOURCE ... FROM KAFKA needs (TOPIC 'name')".into())
    })?;
    if !start_offsets.is_empty() && start_timestamp.is_some() {
        return Err(PlanError::InvalidParameter(
            "START OFFSET and START TIMESTAMP cannot both be given".into(),
        ));
    }
    let envelope = match ks.envelope.as_deref() {
        None | Some("none") => Envelope::None,
        Some("upsert") => Envelope::Upsert,
        Some("debezium") => Envelope::Debezium,
        Some(other) => {
            return Err(PlanError::Syntax(format!(
                "unknown envelope {} (there are NONE, UPSERT and DEBEZIUM)",
                other.to_uppercase()
            )));
        }
    };
    let Some(value_syntax) = &ks.value_format else {
        return Err(PlanError::Syntax(
            "CREATE SOURCE ... FROM KAFKA needs FORMAT (TEXT, BYTES, JSON or CSV WITH n COLUMNS)"
                .into(),
        ));
    };
    let columns = ks
        .columns
        .iter()
        .map(|(n, t)| Ok((n.clone(), super::types::scalar_type_from_sql(t)?)))
        .collect::<Result<Vec<_>>>()?;
    let value = value_format(value_syntax, columns)?;
    let mut key_name = None;
    let mut metadata = vec![];
    for (what, alias) in &ks.include {
        match what.as_str() {
            "key" => key_name = Some(alias.clone().unwrap_or_else(|| "key".into())),
            "partition" | "offset" | "timestamp" => {
                let m = match what.as_str() {
                    "partition" => Metadata::Partition,
                    "offset" => Metadata::Offset,
                    _ => Metadata::Timestamp,
                };
                metadata.push((m, alias.clone().unwrap_or_else(|| what.clone())));
            }
            other => {
                return Err(PlanError::unsupported(format!(
                    "INCLUDE {}",
                    other.to_uppercase()
                )));
            }
        }
    }
    if envelope == Envelope::Debezium && !matches!(value, Format::Json { .. }) {
        return Err(PlanError::unsupported(
            "ENVELOPE DEBEZIUM with a value format other than JSON",
        ));
    }
    if envelope != Envelope::None && key_name.is_none() {
        key_name = Some("key".into());
    }
    let key = match (&key_name, &ks.key_format) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(PlanError::Syntax(
                "INCLUDE KEY and ENVELOPE UPSERT or DEBEZIUM need the key's format: KEY FORMAT f VALUE FORMAT f"
                    .into(),
            ));
        }
        (Some(n), Some(k)) => Some((key_format(k)?, Some(n.clone()))),
    };
    let spec = KafkaSourceSpec {
        connection,
        topic,
        start_offsets,
        start_timestamp,
        key,
        value_column: value.default_value_column().to_string(),
        value,
        metadata,
        envelope,
    };
    let desc = spec.desc();
    let mut seen = std::collections::BTreeSet::new();
    for column in &desc.names {
        if !seen.insert(column) {
            return Err(PlanError::DuplicateColumn(format!(
                "column \"{column}\" specified more than once (rename one with INCLUDE ... AS)"
            )));
        }
    }
    if let Some(noop) = exists(scx, &name, ks.if_not_exists, "CREATE SOURCE")? {
        return Ok(noop);
    }
    let relations: SourceRelations = vec![
        (name.clone(), desc, SourceOutput::Data(0)),
        (
            format!("{name}_progress"),
            spec::progress_desc(),
            SourceOutput::Progress,
        ),
        (
            format!("{name}_errors"),
            spec::errors_desc(),
            SourceOutput::Errors,
        ),
    ];
    for (relation, _, _) in &relations {
        if scx.catalog.name_exists(relation) {
            return Err(PlanError::AlreadyExists(relation.clone()));
        }
    }
    Ok(Plan::CreateKafkaSource {
        spec: Box::new(spec),
        relations,
    })
}

pub fn plan_create_sink(
    scx: &StatementContext,
    cs: &crate::sql::parse::CreateSinkStatement,
) -> Result<Plan> {
    use crate::storage::kafka::sink::{KafkaSinkSpec, SinkEnvelope};
    let name = table_name(scx, &cs.name)?;
    let from = scx
        .catalog
        .resolve(&normalize_name(&cs.from)?)
        .map_err(|_| PlanError::UnknownRelation(cs.from.to_string()))?;
    let Some(desc) = from.item.desc() else {
        return Err(PlanError::WrongObjectType(format!(
            "\"{}\" is not a relation",
            from.name
        )));
    };
    let connection = item_of_kind(scx, &cs.connection, ItemKind::Connection)?;
    let mut topic = None;
    for (option, value) in &cs.options {
        match (option.as_str(), value) {
            ("topic", OptionValue::Expr(e)) => topic = Some(string(scx, e, option)?),
            _ => {
                return Err(PlanError::unsupported(format!(
                    "Kafka sink option {}",
                    option.to_uppercase()
                )));
            }
        }
    }
    let topic = topic.ok_or_else(|| {
        PlanError::Syntax("CREATE SINK ... INTO KAFKA needs (TOPIC 'name')".into())
    })?;
    match &cs.format {
        Some(FormatSyntax::Json) => {}
        None => return Err(PlanError::Syntax("CREATE SINK needs FORMAT JSON".into())),
        Some(other) => {
            return Err(PlanError::unsupported(format!(
                "sink FORMAT {} (sinks write JSON)",
                match other {
                    FormatSyntax::Other(n) => n.to_uppercase(),
                    FormatSyntax::Text => "TEXT".into(),
                    FormatSyntax::Bytes => "BYTES".into(),
                    FormatSyntax::AvroSchema(_) => "AVRO".into(),
                    _ => "CSV".into(),
                }
            )));
        }
    }
    let envelope = match cs.envelope.as_deref() {
        Some("upsert") => SinkEnvelope::Upsert,
        Some("debezium") => SinkEnvelope::Debezium,
        None => {
            return Err(PlanError::Syntax(
                "CREATE SINK needs ENVELOPE UPSERT or ENVELOPE DEBEZIUM".into(),
            ));
        }
        Some(other) => {
            return Err(PlanError::unsupported(format!(
                "sink ENVELOPE {} (there are UPSERT and DEBEZIUM)",
                other.to_uppercase()
            )));
        }
    };
    if cs.key.is_empty() {
        return Err(PlanError::Syntax(
            "a Kafka sink needs KEY (columns) that identify its rows".into(),
        ));
    }
    let key = cs
        .key
        .iter()
        .map(|k| {
            let k = k.to_lowercase();
            desc.names
                .iter()
                .position(|n| *n == k)
                .ok_or_else(|| PlanError::UnknownColumn(k.clone()))
        })
        .collect::<Result<Vec<_>>>()?;
    if let Some(noop) = exists(scx, &name, cs.if_not_exists, "CREATE SINK")? {
        return Ok(noop);
    }
    Ok(Plan::CreateSink {
        name,
        spec: Box::new(KafkaSinkSpec {
            from: from.id,
            connection,
            topic,
            columns: desc.names.clone(),
            key,
            envelope,
        }),
    })
}

/// The id of the item `name`, which must be of `kind` (a connection or a secret).
fn item_of_kind(
    scx: &StatementContext,
    name: &ast::ObjectName,
    kind: ItemKind,
) -> Result<GlobalId> {
    let what = kind.as_str();
    let entry = scx
        .catalog
        .resolve(&normalize_name(name)?)
        .map_err(|_| PlanError::UnknownObject(format!("{what} \"{name}\" does not exist")))?;
    if entry.item.kind() != kind {
        return Err(PlanError::WrongObjectType(format!(
            "\"{}\" is not a {what}",
            entry.name
        )));
    }
    Ok(entry.id)
}

fn value_format(syntax: &FormatSyntax, columns: Vec<(String, ScalarType)>) -> Result<Format> {
    Ok(match syntax {
        FormatSyntax::Json => Format::Json {
            columns: (!columns.is_empty()).then_some(columns),
        },
        FormatSyntax::Csv { columns: n } => {
            if columns.is_empty() {
                Format::Csv {
                    columns: (1..=*n)
                        .map(|i| (format!("column{i}"), ScalarType::String))
                        .collect(),
                }
            } else if columns.len() as u64 == *n {
                Format::Csv { columns }
            } else {
                return Err(PlanError::InvalidParameter(format!(
                    "CSV WITH {n} COLUMNS, but the source lists {} columns",
                    columns.len()
                )));
            }
        }
        FormatSyntax::AvroSchema(_) if !columns.is_empty() => {
            return Err(PlanError::unsupported(
                "a column list with FORMAT AVRO (the columns are the schema's fields)",
            ));
        }
        FormatSyntax::AvroSchema(schema) => Format::Avro {
            schema: schema.clone(),
            columns: crate::storage::kafka::avro::columns(schema)
                .map_err(PlanError::InvalidParameter)?,
        },
        FormatSyntax::Protobuf { .. } if !columns.is_empty() => {
            return Err(PlanError::unsupported(
                "a column list with FORMAT PROTOBUF (the columns are the message's fields)",
            ));
        }
        FormatSyntax::Protobuf { message, schema } => Format::Protobuf {
            message: message.clone(),
            descriptors: schema.clone(),
            columns: crate::storage::kafka::protobuf::columns(schema, message)
                .map_err(PlanError::InvalidParameter)?,
        },
        FormatSyntax::Text | FormatSyntax::Bytes if !columns.is_empty() => {
            return Err(PlanError::unsupported(
                "a column list with FORMAT TEXT or BYTES (their one column is text or data)",
            ));
        }
        FormatSyntax::Text => Format::Text,
        FormatSyntax::Bytes => Format::Bytes,
        FormatSyntax::CsvWithHeader => {
            return Err(PlanError::unsupported(
                "CSV WITH HEADER for Kafka (every message is one record: use CSV WITH n COLUMNS)",
            ));
        }
        FormatSyntax::Other(name) => {
            return Err(PlanError::unsupported(format!(
                "FORMAT {} (Kafka sources read TEXT, BYTES, JSON, CSV, AVRO USING SCHEMA and PROTOBUF MESSAGE ... USING SCHEMA)",
                name.to_uppercase()
            )));
        }
    })
}

fn key_format(syntax: &FormatSyntax) -> Result<Format> {
    match syntax {
        FormatSyntax::Text => Ok(Format::Text),
        FormatSyntax::Bytes => Ok(Format::Bytes),
        FormatSyntax::Json => Ok(Format::Json { columns: None }),
        other => Err(PlanError::unsupported(format!(
            "KEY FORMAT {} (keys are TEXT, BYTES or JSON)",
            match other {
                FormatSyntax::Other(n) => n.to_uppercase(),
                FormatSyntax::AvroSchema(_) => "AVRO".into(),
                FormatSyntax::Protobuf { .. } => "PROTOBUF".into(),
                _ => "CSV".into(),
            }
        ))),
    }
}

/// With IF NOT EXISTS an existing item of this name makes the statement a no-op.
fn exists(
    scx: &StatementContext,
    name: &str,
    if_not_exists: bool,
    tag: &str,
) -> Result<Option<Plan>> {
    if !scx.catalog.name_exists(name) {
        return Ok(None);
    }
    if if_not_exists {
        return Ok(Some(Plan::NoOp {
            notice: format!("object \"{name}\" already exists, skipping"),
            tag: tag.into(),
        }));
    }
    Err(PlanError::AlreadyExists(name.to_string()))
}

fn string(scx: &StatementContext, e: &ast::Expr, option: &str) -> Result<String> {
    match eval_constant(scx, e, &ScalarType::String, "connection option")? {
        Datum::String(s) => Ok(s),
        _ => Err(PlanError::InvalidParameter(format!(
            "{} must be a string",
            option.to_uppercase()
        ))),
    }
}

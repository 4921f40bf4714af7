//! Kafka sources: what they are (`spec.rs`), how records decode (`decode.rs`) and become
//! changes by envelope (`envelope.rs`), and the thread that reads a topic (`reader.rs`).
//!
//! The coordinator (`coord/kafka_sources.rs`) appends each batch's changes together with the
//! offsets they reach to the source's relations in one durable write, so a restart resumes
//! exactly after the last durable record.

pub mod avro;
pub mod decode;
pub mod envelope;
pub mod protobuf;
pub mod reader;
pub mod sink;
pub mod spec;

pub use spec::{Envelope, Format, KafkaConnection, KafkaSourceSpec, Metadata, SettingValue};

use rdkafka::consumer::{BaseConsumer, Consumer};
use std::time::Duration;

/// How long creating a connection or source waits for the broker.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a broker check failed.
#[derive(Debug, thiserror::Error)]
pub enum BrokerCheckError {
    /// The settings are refused or the broker does not answer.
    #[error("{0}")]
    Unreachable(String),
    #[error("topic \"{0}\" does not exist")]
    MissingTopic(String),
}

impl BrokerCheckError {
    pub fn sqlstate(&self) -> &'static str {
        match self {
            BrokerCheckError::Unreachable(_) => "08001",
            BrokerCheckError::MissingTopic(_) => "42704",
        }
    }
}

/// Asks the brokers for their topics; with `topic`, also checks that it exists and returns
/// its partition count. Blocking: run it off the coordinator.
pub fn check_broker(
    client: &[(String, String)],
    topic: Option<&str>,
) -> Result<usize, BrokerCheckError> {
    let consumer: BaseConsumer = reader::client_config(client)
        .create()
        .map_err(|e| BrokerCheckError::Unreachable(format!("invalid Kafka settings: {e}")))?;
    // All topics: asking for one by name would create it on brokers that auto-create.
    let metadata = consumer.fetch_metadata(None, CHECK_TIMEOUT).map_err(|e| {
        BrokerCheckError::Unreachable(format!("the Kafka broker did not answer: {e}"))
    })?;
    match topic {
        None => Ok(metadata.topics().len()),
        Some(name) => metadata
            .topics()
            .iter()
            .find(|t| t.name() == name)
            .map(|t| t.partitions().len())
            .ok_or_else(|| BrokerCheckError::MissingTopic(name.to_string())),
    }
}

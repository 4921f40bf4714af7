//! Kafka sinks: a thread that writes every change of a relation to a topic, in Kafka
//! transactions, so that a read_committed consumer's view of the topic equals the relation.
//!
//! Semantics (ENVELOPE UPSERT): the topic holds, per key (the JSON object of the KEY
//! columns), the relation's row with that key as a JSON object, and a tombstone once the key
//! has no row. ENVELOPE DEBEZIUM writes `{"before": ..., "after": ...}` instead, `after` null
//! for a delete.
//!
//! How (invariants):
//! - `view` is the relation's current contents per key, kept from the subscription's
//!   updates; `topic` is what the topic holds per key as far as this sink knows.
//! - At every progress of the subscription, the keys touched since the last one are
//!   compared between `view` and `topic`, and the differences are produced in one
//!   transaction. `topic` changes only after the commit succeeds.
//! - On start, and after any failure, `topic` is read back from the topic itself
//!   (read_committed) and every key is compared: a restart (kill -9 included) neither skips
//!   a change nor leaves a stale value behind; a transaction cut short is aborted by the
//!   next producer with the same transactional id (`init_transactions` fences it).
//! - If KEY does not identify rows (several rows share a key), the greatest row is written
//!   and a warning is logged.

use crate::dataflow::command::SubscribeEvent;
use crate::expr::func::json_of;
use crate::repr::{Diff, Row};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::mpsc::error::TryRecvError;

/// Bound on one Kafka operation (transaction start or commit, the read-back of the topic).
const KAFKA_TIMEOUT: Duration = Duration::from_secs(30);
/// After a failure, the sink waits this long before starting over.
const RETRY_DELAY: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SinkEnvelope {
    Upsert,
    Debezium,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KafkaSinkSpec {
    pub from: crate::repr::GlobalId,
    pub connection: crate::repr::GlobalId,
    pub topic: String,
    /// The relation's column names, and which of them make the key.
    pub columns: Vec<String>,
    pub key: Vec<usize>,
    pub envelope: SinkEnvelope,
}

pub struct SinkStart {
    pub client: Vec<(String, String)>,
    pub spec: KafkaSinkSpec,
    pub events: UnboundedReceiver<SubscribeEvent>,
    /// The sink's name (for logs) and its transactional id.
    pub name: String,
    pub transactional_id: String,
}

/// The handle of a running sink; dropping it stops the thread.
pub struct KafkaSink {
    stop: Arc<AtomicBool>,
}

impl Drop for KafkaSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

impl KafkaSink {
    pub fn start(start: SinkStart) -> std::io::Result<KafkaSink> {
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = stop.clone();
        std::thread::Builder::new()
            .name(format!("sink-{}", start.name))
            .spawn(move || run(start, thread_stop))?;
        Ok(KafkaSink { stop })
    }
}

struct SinkState {
    spec: KafkaSinkSpec,
    /// Per key (its JSON bytes): the relation's rows with that key, with their counts.
    view: HashMap<Vec<u8>, BTreeMap<Row, Diff>>,
    /// Per key: the JSON bytes of the row the topic holds (None: not read back yet).
    topic: Option<HashMap<Vec<u8>, Vec<u8>>>,
    touched: HashSet<Vec<u8>>,
    producer: Option<BaseProducer>,
    warned_duplicate_keys: bool,
}

fn run(start: SinkStart, stop: Arc<AtomicBool>) {
    let SinkStart {
        client,
        spec,
        mut events,
        name,
        transactional_id,
    } = start;
    let mut state = SinkState {
        spec,
        view: HashMap::new(),
        topic: None,
        touched: HashSet::new(),
        producer: None,
        warned_duplicate_keys: false,
    };
    let mut retry_at: Option<Instant> = None;
    let mut progressed = false;
    while !stop.load(Ordering::Acquire) {
        match events.try_recv() {
            Ok(SubscribeEvent::Updates(updates)) => {
                for (_, row, diff) in updates {
                    state.apply(row, diff);
                }
                continue;
            }
            Ok(SubscribeEvent::Progress(_)) => progressed = true,
            Ok(SubscribeEvent::Error(e)) => {
                tracing::warn!(sink = %name, error = %e, "sink: the relation has an error; waiting for it to clear");
                continue;
            }
            Err(TryRecvError::Disconnected) => return,
            Err(TryRecvError::Empty) => std::thread::sleep(Duration::from_millis(2)),
        }
        let due = retry_at.is_none_or(|t| Instant::now() >= t);
        if progressed && due && (!state.touched.is_empty() || state.topic.is_none()) {
            match state.flush(&client, &transactional_id) {
                Ok(()) => {
                    progressed = false;
                    retry_at = None;
                }
                Err(e) => {
                    tracing::warn!(sink = %name, error = %e, "sink: write failed; starting over from the topic's contents");
                    if let Some(p) = state.producer.take() {
                        let _ = p.abort_transaction(KAFKA_TIMEOUT);
                    }
                    state.topic = None;
                    retry_at = Some(Instant::now() + RETRY_DELAY);
                }
            }
        }
    }
}

impl SinkState {
    fn key_of(&self, row: &Row) -> Vec<u8> {
        let object: serde_json::Map<String, serde_json::Value> = self
            .spec
            .key
            .iter()
            .map(|&i| (self.spec.columns[i].clone(), json_of(&row[i])))
            .collect();
        serde_json::to_vec(&object).unwrap_or_default()
    }

    fn apply(&mut self, row: Row, diff: Diff) {
        let key = self.key_of(&row);
        let rows = self.view.entry(key.clone()).or_default();
        let count = rows.entry(row.clone()).or_insert(0);
        *count += diff;
        if *count == 0 {
            rows.remove(&row);
        }
        if rows.is_empty() {
            self.view.remove(&key);
        }
        self.touched.insert(key);
    }

    /// The JSON object of the row the relation has for `key`, if any.
    fn desired(&mut self, key: &[u8]) -> Option<Vec<u8>> {
        let rows = self.view.get(key)?;
        if (rows.len() > 1 || rows.values().any(|c| *c != 1)) && !self.warned_duplicate_keys {
            tracing::warn!(topic = %self.spec.topic, "sink: several rows share a key; the greatest one is written");
            self.warned_duplicate_keys = true;
        }
        let row = rows.keys().next_back()?;
        let object: serde_json::Map<String, serde_json::Value> = self
            .spec
            .columns
            .iter()
            .zip(row.iter())
            .map(|(name, d)| (name.clone(), json_of(d)))
            .collect();
        serde_json::to_vec(&object).ok()
    }

    fn flush(&mut self, client: &[(String, String)], transactional_id: &str) -> Result<(), String> {
        if self.topic.is_none() {
            let contents = read_back(client, &self.spec)?;
            self.touched.extend(self.view.keys().cloned());
            self.touched.extend(contents.keys().cloned());
            self.topic = Some(contents);
        }
        if self.producer.is_none() {
            let producer: BaseProducer = config(client)
                .set("transactional.id", transactional_id)
                .create()
                .map_err(|e| e.to_string())?;
            producer
                .init_transactions(KAFKA_TIMEOUT)
                .map_err(|e| format!("init_transactions: {e}"))?;
            self.producer = Some(producer);
        }
        let touched: Vec<Vec<u8>> = self.touched.drain().collect();
        let mut changes: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
        for key in touched {
            let desired = self.desired(&key);
            let current = self.topic.as_ref().and_then(|t| t.get(&key)).cloned();
            if desired != current {
                changes.push((key, desired));
            }
        }
        if changes.is_empty() {
            return Ok(());
        }
        let producer = self.producer.as_ref().ok_or("no producer")?;
        producer
            .begin_transaction()
            .map_err(|e| format!("begin_transaction: {e}"))?;
        for (key, desired) in &changes {
            let current = self.topic.as_ref().and_then(|t| t.get(key));
            let payload = match self.spec.envelope {
                SinkEnvelope::Upsert => desired.clone(),
                SinkEnvelope::Debezium => Some(debezium_event(current, desired.as_ref())),
            };
            let mut record = BaseRecord::<[u8], [u8]>::to(&self.spec.topic).key(&key[..]);
            if let Some(p) = &payload {
                record = record.payload(&p[..]);
            }
            loop {
                match producer.send(record) {
                    Ok(()) => break,
                    Err((e, back)) => {
                        if !matches!(
                            e,
                            rdkafka::error::KafkaError::MessageProduction(
                                rdkafka::types::RDKafkaErrorCode::QueueFull
                            )
                        ) {
                            return Err(format!("produce: {e}"));
                        }
                        record = back;
                        producer.poll(Duration::from_millis(10));
                    }
                }
            }
        }
        producer
            .commit_transaction(KAFKA_TIMEOUT)
            .map_err(|e| format!("commit_transaction: {e}"))?;
        let topic = self.topic.get_or_insert_with(HashMap::new);
        for (key, desired) in changes {
            match desired {
                Some(v) => topic.insert(key, v),
                None => topic.remove(&key),
            };
        }
        Ok(())
    }
}

fn debezium_event(before: Option<&Vec<u8>>, after: Option<&Vec<u8>>) -> Vec<u8> {
    let parse = |v: Option<&Vec<u8>>| {
        v.and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
            .unwrap_or(serde_json::Value::Null)
    };
    let mut event = serde_json::Map::new();
    event.insert("before".into(), parse(before));
    event.insert("after".into(), parse(after));
    serde_json::to_vec(&event).unwrap_or_default()
}

fn config(client: &[(String, String)]) -> ClientConfig {
    super::reader::client_config(client)
}

/// What the topic holds per key, as a read_committed consumer sees it (for DEBEZIUM, the
/// `after` image). Creates the topic (one partition) if it does not exist.
fn read_back(
    client: &[(String, String)],
    spec: &KafkaSinkSpec,
) -> Result<HashMap<Vec<u8>, Vec<u8>>, String> {
    let consumer: BaseConsumer = config(client)
        .set("group.id", "freshet-sink-read-back")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("isolation.level", "read_committed")
        .create()
        .map_err(|e| e.to_string())?;
    let metadata = consumer
        .fetch_metadata(None, KAFKA_TIMEOUT)
        .map_err(|e| format!("metadata: {e}"))?;
    let partitions: Vec<i32> = match metadata.topics().iter().find(|t| t.name() == spec.topic) {
        Some(t) => t.partitions().iter().map(|p| p.id()).collect(),
        None => {
            create_topic(client, &spec.topic)?;
            return Ok(HashMap::new());
        }
    };
    let mut list = TopicPartitionList::new();
    for p in &partitions {
        list.add_partition_offset(&spec.topic, *p, Offset::Beginning)
            .map_err(|e| e.to_string())?;
    }
    consumer.assign(&list).map_err(|e| e.to_string())?;
    let mut at_end: HashSet<i32> = HashSet::new();
    let mut contents = HashMap::new();
    let deadline = Instant::now() + KAFKA_TIMEOUT;
    while at_end.len() < partitions.len() {
        if Instant::now() > deadline {
            return Err("reading the topic back timed out".into());
        }
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                let Some(key) = m.key() else { continue };
                let value = match (spec.envelope, m.payload()) {
                    (_, None) => None,
                    (SinkEnvelope::Upsert, Some(v)) => Some(v.to_vec()),
                    (SinkEnvelope::Debezium, Some(v)) => {
                        serde_json::from_slice::<serde_json::Value>(v)
                            .ok()
                            .and_then(|e| e.get("after").cloned())
                            .filter(|a| !a.is_null())
                            .and_then(|a| serde_json::to_vec(&a).ok())
                    }
                };
                match value {
                    Some(v) => contents.insert(key.to_vec(), v),
                    None => contents.remove(key),
                };
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                at_end.insert(p);
            }
            Some(Err(e)) => return Err(format!("reading the topic back: {e}")),
            None => {}
        }
    }
    Ok(contents)
}

fn create_topic(client: &[(String, String)], topic: &str) -> Result<(), String> {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> =
        config(client).create().map_err(|e| e.to_string())?;
    let new = NewTopic::new(topic, 1, TopicReplication::Fixed(1));
    let results = futures::executor::block_on(admin.create_topics(
        [&new],
        &AdminOptions::new().operation_timeout(Some(KAFKA_TIMEOUT)),
    ))
    .map_err(|e| format!("creating topic {topic}: {e}"))?;
    for result in results {
        if let Err((_, code)) = result
            && code != rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists
        {
            return Err(format!("creating topic {topic}: {code}"));
        }
    }
    Ok(())
}

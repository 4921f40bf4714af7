//! Kafka sources and connections in the coordinator.
//!
//! - Creating a connection or a Kafka source first asks the broker (off the coordinator
//!   task, on a blocking thread): the statement is applied when `Message::BrokerChecked`
//!   comes back, and fails with SQLSTATE 08001 if the broker does not answer, or 42704 if
//!   the topic does not exist.
//! - A running source has a reader thread (`storage::kafka::reader`). Whenever it queues a
//!   batch it wakes the coordinator (`Message::KafkaReady`, at most one outstanding per
//!   source), which appends everything queued through the ordinary write queue: the data
//!   and errors changes and the new progress rows in one durable write. One write per
//!   source is in flight at a time, so progress retractions always cancel durable rows.
//! - A failed append (a full disk) stops the reader; the source restarts from what is
//!   durable (its relations are read back from storage), so nothing is lost or repeated.

use super::Executed;
use super::coordinator::{Coordinator, Message};
use super::error::{AdapterError, Result};
use super::write::{Ack, PendingWrite};
use crate::catalog::{CatalogItem, SourceOutput};
use crate::repr::{Datum, Diff, GlobalId, Row};
use crate::sql::Statement;
use crate::sql::plan::Plan;
use crate::storage::kafka::envelope::EnvelopeState;
use crate::storage::kafka::reader::{IngestBatch, KafkaReader, ReaderStart};
use crate::storage::kafka::{self, KafkaConnection, SettingValue};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::oneshot;

/// Batches merged into one append at most: bounds one write's size (each batch is at most
/// the reader's `MAX_BATCH_RECORDS`).
const MAX_BATCHES_PER_APPEND: usize = 8;

pub struct RunningKafkaSource {
    /// `None` while the source restarts after a failed append.
    reader: Option<KafkaReader>,
    data: GlobalId,
    progress: GlobalId,
    errors: GlobalId,
    /// The durable progress row of each partition (what the next progress row retracts).
    progress_rows: BTreeMap<i32, Row>,
    in_flight: bool,
    /// Set by the reader when it has sent `KafkaReady`; cleared when the coordinator drains.
    wake_pending: Arc<AtomicBool>,
}

/// A CREATE CONNECTION or CREATE SOURCE waiting for the broker's answer.
pub struct BrokerChecked {
    plan: Plan,
    stmt: Statement,
    reply: oneshot::Sender<Result<Executed>>,
    result: std::result::Result<(), AdapterError>,
}

impl Coordinator {
    /// librdkafka settings for `connection`, with its secrets' values.
    pub(super) fn kafka_client_settings(
        &self,
        connection: &KafkaConnection,
    ) -> Result<Vec<(String, String)>> {
        let mut settings = vec![(
            "bootstrap.servers".to_string(),
            connection.brokers.join(","),
        )];
        for (name, value) in &connection.settings {
            let value = match value {
                SettingValue::Text(t) => t.clone(),
                SettingValue::Secret(id) => match self.catalog.get(*id).map(|e| &e.item) {
                    Some(CatalogItem::Secret { value }) => value.clone(),
                    _ => {
                        return Err(AdapterError::Internal(format!(
                            "secret {id} of a connection is missing"
                        )));
                    }
                },
            };
            settings.push((name.clone(), value));
        }
        Ok(settings)
    }

    pub(super) fn connection_of(&self, id: GlobalId) -> Result<KafkaConnection> {
        match self.catalog.get(id).map(|e| &e.item) {
            Some(CatalogItem::Connection { kafka }) => Ok(kafka.clone()),
            _ => Err(AdapterError::Internal(format!(
                "connection {id} is missing"
            ))),
        }
    }

    /// Checks the broker (and topic) of a CREATE CONNECTION or Kafka CREATE SOURCE on a
    /// blocking thread; the statement continues in `broker_checked`.
    pub(super) fn check_broker_then_sequence(
        &mut self,
        plan: Plan,
        stmt: Statement,
        reply: oneshot::Sender<Result<Executed>>,
    ) {
        let check = match &plan {
            Plan::CreateConnection { connection, .. } => self
                .kafka_client_settings(connection)
                .map(|settings| (settings, None, 0)),
            Plan::CreateSink { spec, .. } => self
                .connection_of(spec.connection)
                .and_then(|c| self.kafka_client_settings(&c))
                .map(|settings| (settings, None, 0)),
            Plan::CreateKafkaSource { spec, .. } => self
                .connection_of(spec.connection)
                .and_then(|c| self.kafka_client_settings(&c))
                .map(|settings| (settings, Some(spec.topic.clone()), spec.start_offsets.len())),
            _ => Err(AdapterError::Internal("not a Kafka plan".into())),
        };
        let (settings, topic, start_offsets) = match check {
            Ok(c) => c,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let internal = self.internal_tx.clone();
        tokio::task::spawn_blocking(move || {
            let result = match kafka::check_broker(&settings, topic.as_deref()) {
                Ok(partitions) if start_offsets > partitions && topic.is_some() => {
                    Err(AdapterError::External {
                        message: format!(
                            "START OFFSET lists {start_offsets} partitions, but topic \"{}\" has {partitions}",
                            topic.unwrap_or_default()
                        ),
                        code: "22023",
                    })
                }
                Ok(_) => Ok(()),
                Err(e) => Err(AdapterError::External {
                    code: e.sqlstate(),
                    message: e.to_string(),
                }),
            };
            let _ = internal.send(Message::BrokerChecked(Box::new(BrokerChecked {
                plan,
                stmt,
                reply,
                result,
            })));
        });
    }

    pub(super) async fn broker_checked(&mut self, checked: BrokerChecked) {
        let BrokerChecked {
            plan,
            stmt,
            reply,
            result,
        } = checked;
        let result = match result {
            Ok(()) => self.sequence_ddl(plan, &stmt).await,
            Err(e) => Err(e),
        };
        self.reply_ddl(result, reply);
    }

    /// Starts the reader of Kafka source `main` (its relations are in the catalog), from
    /// the contents `rows` gives for each of its relations.
    pub(super) fn start_kafka_source(
        &mut self,
        main: GlobalId,
        rows: impl Fn(GlobalId) -> Vec<(Row, Diff)>,
    ) {
        let Some(entry) = self.catalog.get(main) else {
            return;
        };
        let CatalogItem::Source {
            kafka: Some(spec), ..
        } = &entry.item
        else {
            return;
        };
        let spec = (**spec).clone();
        let name = entry.name.clone();
        let mut progress = None;
        let mut errors = None;
        for e in self.catalog.entries() {
            if let CatalogItem::Source {
                owner: Some(o),
                output,
                ..
            } = &e.item
                && *o == main
            {
                match output {
                    SourceOutput::Progress => progress = Some(e.id),
                    SourceOutput::Errors => errors = Some(e.id),
                    SourceOutput::Data(_) => {}
                }
            }
        }
        let (Some(progress), Some(errors)) = (progress, errors) else {
            tracing::error!(source = %main, "a Kafka source is missing some of its relations; not started");
            return;
        };
        let settings = match self
            .connection_of(spec.connection)
            .and_then(|c| self.kafka_client_settings(&c))
        {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(source = %main, error = %e, "a Kafka source cannot be started");
                return;
            }
        };
        let mut progress_rows = BTreeMap::new();
        let mut resume = BTreeMap::new();
        for (row, diff) in rows(progress) {
            if let (true, Some(Datum::Int32(p)), Some(Datum::Int64(o))) =
                (diff > 0, row.first(), row.get(1))
            {
                resume.insert(*p, *o);
                progress_rows.insert(*p, row.clone());
            }
        }
        let mut envelope = EnvelopeState::new(spec.clone());
        envelope.restore(&rows(main), &rows(errors));
        let wake_pending = Arc::new(AtomicBool::new(false));
        let wake = {
            let flag = wake_pending.clone();
            let internal = self.internal_tx.clone();
            Box::new(move || {
                if !flag.swap(true, Ordering::AcqRel) {
                    let _ = internal.send(Message::KafkaReady { source: main });
                }
            })
        };
        let reader = match KafkaReader::start(ReaderStart {
            client: settings,
            spec,
            resume,
            envelope,
            wake,
            source: name,
        }) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(source = %main, error = %e, "cannot start a Kafka reader thread");
                return;
            }
        };
        self.kafka_sources.insert(
            main,
            RunningKafkaSource {
                reader: Some(reader),
                data: main,
                progress,
                errors,
                progress_rows,
                in_flight: false,
                wake_pending,
            },
        );
    }

    /// `SHOW SOURCE STATUSES`: per source, its kind, state (`starting`, `running`,
    /// `stalled`, `restarting` after a failed write), the last error while stalled, and the
    /// records read since the server started.
    pub(super) fn source_statuses(&self) -> (crate::repr::RelationDesc, Vec<Row>) {
        let mut rows = Vec::new();
        for entry in self.catalog.entries() {
            let CatalogItem::Source {
                owner: None,
                generator,
                kafka,
                ..
            } = &entry.item
            else {
                continue;
            };
            let (kind, status, error, records) = if kafka.is_some() {
                match self.kafka_sources.get(&entry.id).map(|s| &s.reader) {
                    Some(Some(reader)) => {
                        let s = reader.status();
                        (
                            "kafka",
                            s.state.to_string(),
                            s.error.map_or(Datum::Null, Datum::String),
                            Datum::Int64(s.records as i64),
                        )
                    }
                    Some(None) => ("kafka", "restarting".into(), Datum::Null, Datum::Null),
                    None => ("kafka", "stopped".into(), Datum::Null, Datum::Null),
                }
            } else {
                let running = generator.is_some() && self.generators.contains_key(&entry.id);
                (
                    "load-generator",
                    if running { "running" } else { "stopped" }.into(),
                    Datum::Null,
                    Datum::Null,
                )
            };
            rows.push(Row::new(vec![
                Datum::String(entry.name.clone()),
                Datum::String(kind.into()),
                Datum::String(status),
                error,
                records,
            ]));
        }
        rows.sort();
        (source_statuses_desc(), rows)
    }

    /// Appends what the readers have queued, for every source with nothing in flight.
    pub(super) fn drive_kafka_sources(&mut self) {
        let ids: Vec<GlobalId> = self.kafka_sources.keys().copied().collect();
        for id in ids {
            self.drive_kafka_source(id);
        }
    }

    pub(super) fn drive_kafka_source(&mut self, id: GlobalId) {
        let Some(source) = self.kafka_sources.get_mut(&id) else {
            return;
        };
        source.wake_pending.store(false, Ordering::Release);
        let Some(reader) = &source.reader else {
            return;
        };
        if source.in_flight {
            return;
        }
        let mut batch = IngestBatch::default();
        for _ in 0..MAX_BATCHES_PER_APPEND {
            match reader.try_next() {
                Some(b) => batch.absorb(b),
                None => break,
            }
        }
        if batch.offsets.is_empty() {
            return;
        }
        let now = Datum::TimestampTz(chrono::Utc::now());
        let mut progress = Vec::new();
        let mut new_rows = BTreeMap::new();
        for (partition, next) in &batch.offsets {
            if let Some(old) = source.progress_rows.get(partition) {
                progress.push((old.clone(), -1));
            }
            let row = Row::new(vec![
                Datum::Int32(*partition),
                Datum::Int64(*next),
                now.clone(),
            ]);
            progress.push((row.clone(), 1));
            new_rows.insert(*partition, row);
        }
        tracing::debug!(source = %id, records = batch.records, bytes = batch.bytes, "kafka source batch");
        let writes: Vec<(GlobalId, Vec<(Row, Diff)>)> = [
            (source.data, batch.changes.data),
            (source.errors, batch.changes.errors),
            (source.progress, progress),
        ]
        .into_iter()
        .filter(|(_, rows)| !rows.is_empty())
        .collect();
        source.in_flight = true;
        self.queue_write(PendingWrite {
            writes,
            ack: Ack::KafkaSource {
                source: id,
                progress: new_rows,
            },
        });
    }

    /// A source's append finished: durable with these progress rows, or failed (`None`).
    pub(super) fn kafka_source_committed(
        &mut self,
        id: GlobalId,
        progress: Option<BTreeMap<i32, Row>>,
    ) {
        let Some(source) = self.kafka_sources.get_mut(&id) else {
            return;
        };
        source.in_flight = false;
        match progress {
            Some(rows) => {
                source.progress_rows.extend(rows);
                self.drive_kafka_source(id);
            }
            None => {
                // What the reader decoded after the failed batch builds on it: start over
                // from what is durable.
                source.reader = None;
                let shards = [source.data, source.progress, source.errors];
                let storage = self.storage.clone();
                let internal = self.internal_tx.clone();
                tokio::spawn(async move {
                    // Retry until storage answers (a full disk may take a while to clear).
                    loop {
                        let mut rows = Vec::new();
                        let mut failed = false;
                        for shard in shards {
                            match storage.snapshot(shard).await {
                                Ok((updates, _)) => rows.push((
                                    shard,
                                    updates.into_iter().map(|(r, _, d)| (r, d)).collect(),
                                )),
                                Err(e) => {
                                    tracing::warn!(%shard, error = %e, "kafka source restart: cannot read back its relations (retrying)");
                                    failed = true;
                                    break;
                                }
                            }
                        }
                        if !failed {
                            let _ = internal.send(Message::KafkaRestart { source: id, rows });
                            return;
                        }
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                });
            }
        }
    }

    /// Restarts source `id` from the contents of its relations, read back after a failure.
    pub(super) fn restart_kafka_source(
        &mut self,
        id: GlobalId,
        rows: Vec<(GlobalId, Vec<(Row, Diff)>)>,
    ) {
        if self.kafka_sources.remove(&id).is_none() {
            return; // dropped meanwhile
        }
        tracing::info!(source = %id, "kafka source restarts from its durable state");
        self.start_kafka_source(id, |shard| {
            rows.iter()
                .find(|(s, _)| *s == shard)
                .map(|(_, r)| r.clone())
                .unwrap_or_default()
        });
    }
}

/// The columns of `SHOW SOURCE STATUSES`.
pub(super) fn source_statuses_desc() -> crate::repr::RelationDesc {
    use crate::repr::{ColumnType, RelationDesc, ScalarType};
    let text = |nullable| ColumnType::new(ScalarType::String, nullable);
    RelationDesc::new(
        vec![
            "name".into(),
            "type".into(),
            "status".into(),
            "error".into(),
            "records".into(),
        ],
        vec![
            text(false),
            text(false),
            text(false),
            text(true),
            ColumnType::new(ScalarType::Int64, true),
        ],
    )
}

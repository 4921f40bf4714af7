//! The reader of one Kafka source: a thread that consumes the topic's partitions (assigned,
//! no consumer group), decodes each record by the source's format and envelope, and hands
//! the coordinator batches of changes with the offsets they reach.
//!
//! Invariants:
//! - A batch's `offsets` say, per partition, the next offset to read after the batch: a
//!   restart that resumes there neither skips nor repeats a record, provided the batch's
//!   changes and its offsets are made durable together (the coordinator's job).
//! - At most `MAX_BATCHES_QUEUED` batches wait for the coordinator; beyond that the reader
//!   blocks (stops polling), so a slow disk slows ingestion instead of growing memory.
//! - The thread stops within `POLL_INTERVAL` of its `KafkaReader` being dropped.

use super::envelope::{Changes, EnvelopeState, Record};
use super::spec::KafkaSourceSpec;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Batches waiting for the coordinator, per source. Each holds at most
/// `MAX_BATCH_RECORDS`; eight are enough to keep one in flight while the next fill up.
const MAX_BATCHES_QUEUED: usize = 8;
/// A batch is handed over when it holds this many records...
const MAX_BATCH_RECORDS: usize = 50_000;
/// ... or when its first record has waited this long (freshness: a record reaches the
/// coordinator within this plus one commit).
const MAX_BATCH_DELAY: Duration = Duration::from_millis(5);
/// How long one poll waits for a record when there is none.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How often the topic's partitions are looked up again, to pick up new ones.
const PARTITION_REFRESH: Duration = Duration::from_secs(5);
/// Timeout of metadata and offset lookups.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Changes read from the topic, and how far they reach.
#[derive(Default)]
pub struct IngestBatch {
    /// Changes of the data and errors relations.
    pub changes: Changes,
    /// Per partition read in this batch: the next offset to read.
    pub offsets: BTreeMap<i32, i64>,
    pub records: u64,
    pub bytes: u64,
}

impl IngestBatch {
    fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// Appends `other`, a later batch.
    pub fn absorb(&mut self, other: IngestBatch) {
        self.changes.data.extend(other.changes.data);
        self.changes.errors.extend(other.changes.errors);
        self.offsets.extend(other.offsets);
        self.records += other.records;
        self.bytes += other.bytes;
    }
}

/// Where to start: the durable offsets of a source that ran before, and its state.
pub struct ReaderStart {
    /// librdkafka settings of the connection (`bootstrap.servers`, security).
    pub client: Vec<(String, String)>,
    pub spec: KafkaSourceSpec,
    /// Next offset per partition, from the progress relation.
    pub resume: BTreeMap<i32, i64>,
    /// The UPSERT state, rebuilt from the relations.
    pub envelope: EnvelopeState,
    /// Called (from the reader thread) after a batch is queued.
    pub wake: Box<dyn Fn() + Send>,
    /// A name for logs.
    pub source: String,
}

/// What a reader is doing, for `SHOW SOURCE STATUSES`.
#[derive(Clone, Debug, Default)]
pub struct ReaderStatus {
    /// `starting`, `running` or `stalled`.
    pub state: &'static str,
    /// The last consumer error while stalled.
    pub error: Option<String>,
    /// Records read since the reader started.
    pub records: u64,
}

/// The handle of a running reader. Dropping it stops the thread.
pub struct KafkaReader {
    status: Arc<Mutex<ReaderStatus>>,
    stop: Arc<AtomicBool>,
    /// In a mutex only to be `Sync` (the coordinator's state must be); one owner locks it.
    batches: Mutex<Receiver<IngestBatch>>,
    /// Batches queued and not yet taken.
    queued: Arc<AtomicUsize>,
}

impl KafkaReader {
    pub fn start(start: ReaderStart) -> std::io::Result<KafkaReader> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = sync_channel(MAX_BATCHES_QUEUED);
        let thread_stop = stop.clone();
        let queued = Arc::new(AtomicUsize::new(0));
        let thread_queued = queued.clone();
        let status = Arc::new(Mutex::new(ReaderStatus {
            state: "starting",
            ..Default::default()
        }));
        let thread_status = status.clone();
        std::thread::Builder::new()
            .name(format!("kafka-{}", start.source))
            .spawn(move || run(start, tx, thread_stop, thread_queued, thread_status))?;
        Ok(KafkaReader {
            status,
            stop,
            batches: Mutex::new(rx),
            queued,
        })
    }

    pub fn status(&self) -> ReaderStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The next queued batch, if any.
    pub fn try_next(&self) -> Option<IngestBatch> {
        let batch = self.batches.lock().ok()?.try_recv().ok()?;
        self.queued.fetch_sub(1, Ordering::AcqRel);
        Some(batch)
    }
}

impl Drop for KafkaReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// A librdkafka client configuration from `settings`, with Freshet's consumer defaults.
pub fn client_config(settings: &[(String, String)]) -> ClientConfig {
    let mut config = ClientConfig::new();
    for (k, v) in settings {
        config.set(k, v);
    }
    config
}

fn run(
    start: ReaderStart,
    tx: SyncSender<IngestBatch>,
    stop: Arc<AtomicBool>,
    queued: Arc<AtomicUsize>,
    status: Arc<Mutex<ReaderStatus>>,
) {
    let set_status = |state: &'static str, error: Option<String>, records: u64| {
        if let Ok(mut s) = status.lock() {
            s.state = state;
            s.error = error;
            s.records += records;
        }
    };
    let ReaderStart {
        client,
        spec,
        resume,
        mut envelope,
        wake,
        source,
    } = start;
    let consumer: BaseConsumer = match client_config(&client)
        // Offsets live in Freshet's storage, never in the broker.
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        // Freshness: a fetch that finds nothing new returns after 10 ms instead of 500.
        .set("fetch.wait.max.ms", "10")
        .set("group.id", format!("freshet-{source}"))
        .create()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(%source, error = %e, "kafka source cannot make its consumer");
            return;
        }
    };
    // Partitions assigned so far, and the next offset of each as far as this reader knows.
    let mut next: BTreeMap<i32, i64> = resume;
    let mut assigned: Vec<i32> = Vec::new();
    let mut last_refresh: Option<Instant> = None;
    let mut batch = IngestBatch::default();
    let mut batch_started: Option<Instant> = None;
    let mut last_error: Option<String> = None;
    while !stop.load(Ordering::Acquire) {
        if last_refresh.is_none_or(|t| t.elapsed() >= PARTITION_REFRESH) {
            last_refresh = Some(Instant::now());
            match assign_new_partitions(&consumer, &spec, &mut assigned, &next, &source) {
                // The broker answered: whatever stalled the reader is over.
                Ok(()) => {
                    set_status("running", None, 0);
                    last_error = None;
                }
                Err(e) => {
                    set_status("stalled", Some(e.clone()), 0);
                    last_error = Some(e);
                }
            }
        }
        let wait = match batch_started {
            // At least 1 ms: an old batch waiting for the coordinator must not spin.
            Some(t) => MAX_BATCH_DELAY
                .saturating_sub(t.elapsed())
                .max(Duration::from_millis(1)),
            None => POLL_INTERVAL,
        };
        match consumer.poll(wait) {
            Some(Ok(message)) => {
                if last_error.take().is_some() {
                    set_status("running", None, 0);
                }
                let record = Record {
                    partition: message.partition(),
                    offset: message.offset(),
                    timestamp_ms: message.timestamp().to_millis(),
                    key: message.key(),
                    value: message.payload(),
                };
                // Records below the resume point (a broker that rewinds) are skipped: they
                // are in the source already.
                if next
                    .get(&record.partition)
                    .is_some_and(|n| record.offset < *n)
                {
                    continue;
                }
                envelope.apply(&record, &mut batch.changes);
                batch.records += 1;
                batch.bytes += (record.key.map_or(0, <[u8]>::len)
                    + record.value.map_or(0, <[u8]>::len)) as u64;
                batch.offsets.insert(record.partition, record.offset + 1);
                next.insert(record.partition, record.offset + 1);
                batch_started.get_or_insert_with(Instant::now);
            }
            Some(Err(e)) => {
                let text = e.to_string();
                if last_error.as_deref() != Some(text.as_str()) {
                    tracing::warn!(%source, error = %text, "kafka source: consumer error (retrying)");
                    set_status("stalled", Some(text.clone()), 0);
                    last_error = Some(text);
                }
            }
            None => {}
        }
        // A batch goes when it is full, or when it is old enough and the coordinator has
        // taken the previous ones: under load batches grow (fewer, larger appends); when
        // idle a record waits at most MAX_BATCH_DELAY.
        let due = (batch_started.is_some_and(|t| t.elapsed() >= MAX_BATCH_DELAY)
            && queued.load(Ordering::Acquire) == 0)
            || batch.records as usize >= MAX_BATCH_RECORDS;
        if due && !batch.is_empty() {
            let full = std::mem::take(&mut batch);
            set_status("running", None, full.records);
            batch_started = None;
            queued.fetch_add(1, Ordering::AcqRel);
            if !hand_over(&tx, full, &stop) {
                return;
            }
            wake();
        }
    }
}

/// Queues `batch`, waiting while the queue is full; `false` if the reader should stop.
fn hand_over(tx: &SyncSender<IngestBatch>, mut batch: IngestBatch, stop: &AtomicBool) -> bool {
    loop {
        match tx.try_send(batch) {
            Ok(()) => return true,
            Err(TrySendError::Disconnected(_)) => return false,
            Err(TrySendError::Full(b)) => {
                if stop.load(Ordering::Acquire) {
                    return false;
                }
                batch = b;
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

/// Assigns the topic's partitions not assigned yet: at their resume offset, else at the
/// source's start offset or start timestamp, else at the beginning.
fn assign_new_partitions(
    consumer: &BaseConsumer,
    spec: &KafkaSourceSpec,
    assigned: &mut Vec<i32>,
    next: &BTreeMap<i32, i64>,
    source: &str,
) -> Result<(), String> {
    let metadata = match consumer.fetch_metadata(Some(&spec.topic), LOOKUP_TIMEOUT) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(%source, error = %e, "kafka source: cannot read the topic's partitions (retrying)");
            return Err(e.to_string());
        }
    };
    let Some(topic) = metadata.topics().iter().find(|t| t.name() == spec.topic) else {
        return Err(format!("topic \"{}\" is gone", spec.topic));
    };
    let new: Vec<i32> = topic
        .partitions()
        .iter()
        .map(|p| p.id())
        .filter(|p| !assigned.contains(p))
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    let mut by_time = TopicPartitionList::new();
    let mut list = TopicPartitionList::new();
    for &p in &new {
        let offset = match (
            next.get(&p),
            spec.start_offsets.get(p as usize),
            spec.start_timestamp,
        ) {
            (Some(n), _, _) => Offset::Offset(*n),
            (None, Some(o), _) => Offset::Offset(*o),
            (None, None, Some(ts)) => {
                let _ = by_time.add_partition_offset(&spec.topic, p, Offset::Offset(ts));
                continue;
            }
            (None, None, None) => Offset::Beginning,
        };
        let _ = list.add_partition_offset(&spec.topic, p, offset);
    }
    if by_time.count() > 0 {
        match consumer.offsets_for_times(by_time, LOOKUP_TIMEOUT) {
            Ok(found) => {
                for element in found.elements() {
                    // No record at or after the time: start at the end.
                    let offset = match element.offset() {
                        Offset::Offset(o) => Offset::Offset(o),
                        _ => Offset::End,
                    };
                    let _ = list.add_partition_offset(&spec.topic, element.partition(), offset);
                }
            }
            Err(e) => {
                tracing::warn!(%source, error = %e, "kafka source: cannot look up START TIMESTAMP offsets (retrying)");
                return Err(e.to_string());
            }
        }
    }
    match consumer.incremental_assign(&list) {
        Ok(()) => {
            tracing::info!(%source, partitions = ?new, "kafka source: partitions assigned");
            assigned.extend(new);
            Ok(())
        }
        Err(e) => {
            tracing::warn!(%source, error = %e, "kafka source: cannot assign partitions (retrying)");
            Err(e.to_string())
        }
    }
}

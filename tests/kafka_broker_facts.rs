//! What the test broker (tansu, memory storage) and our rdkafka build (0.38, bundled
//! librdkafka 2.12, `default-features = false`) do together: the facts the Kafka source and
//! sink tests rely on, each pinned by one test so a change of either shows up here first.

mod support;

use std::time::{Duration, Instant};

use rdkafka::Offset;
use rdkafka::TopicPartitionList;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Message, Timestamp};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;
use support::kafka_broker::{ConsumedRecord, DeliveryCheck, KafkaBroker, ProducedRecord};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Payloads of `records` as strings, for compact assertions.
fn payloads(records: &[ConsumedRecord]) -> Vec<String> {
    records
        .iter()
        .map(|(_, p, _)| String::from_utf8_lossy(p.as_deref().unwrap_or(b"<null>")).into_owned())
        .collect()
}

/// Records to `produce_many` with payloads `p0`, `p1`, ... and no keys.
fn numbered(prefix: &str, n: usize) -> Vec<ProducedRecord> {
    (0..n)
        .map(|i| (None, Some(format!("{prefix}{i}").into_bytes())))
        .collect()
}

/// How many partitions the broker's metadata lists for `topic` (None: no such topic), asked
/// by a client that does not ask for auto creation.
fn topic_partitions(broker: &KafkaBroker, topic: &str) -> Option<usize> {
    let consumer: BaseConsumer = broker
        .client_config()
        .set("allow.auto.create.topics", "false")
        .create()
        .expect("creates a consumer");
    let metadata = consumer
        .fetch_metadata(None, TIMEOUT)
        .expect("fetches metadata");
    metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none())
        .map(|t| t.partitions().len())
}

/// A transactional producer with `transactional.id` `id`, initialised.
fn transactional_producer(broker: &KafkaBroker, id: &str) -> BaseProducer<DeliveryCheck> {
    let producer: BaseProducer<DeliveryCheck> = broker
        .client_config()
        .set("transactional.id", id)
        .set("message.timeout.ms", "10000")
        .create_with_context(DeliveryCheck::default())
        .expect("creates a transactional producer");
    producer
        .init_transactions(TIMEOUT)
        .unwrap_or_else(|e| panic!("init_transactions: {e}\n{}", broker.log_tail(40)));
    producer
}

fn send_all(producer: &BaseProducer<DeliveryCheck>, topic: &str, payloads: &[&str]) {
    for payload in payloads {
        producer
            .send(
                BaseRecord::<[u8], [u8]>::to(topic)
                    .partition(0)
                    .payload(payload.as_bytes()),
            )
            .map_err(|(e, _)| e)
            .expect("enqueues a record");
    }
}

#[test]
fn assign_needs_a_group_id_though_creating_a_consumer_does_not() {
    let broker = KafkaBroker::start();
    broker.create_topic("no_group", 1);
    broker.produce_many("no_group", 0, &numbered("p", 3));
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset("no_group", 0, Offset::Beginning)
        .unwrap();
    // Only bootstrap.servers: creating the consumer works, assigning to it does not.
    let consumer: BaseConsumer = broker
        .client_config()
        .create()
        .expect("a consumer without group.id can be created");
    match consumer.assign(&assignment) {
        Err(KafkaError::Subscription(message)) => {
            assert!(message.contains("Unknown group"), "{message}")
        }
        other => panic!("assign without group.id: {other:?}"),
    }
    // With a group.id, assign() reads without joining the group (no subscribe, no commit).
    let consumer: BaseConsumer = broker
        .client_config()
        .set("group.id", "facts")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.assign(&assignment).unwrap();
    let mut got = Vec::new();
    let deadline = Instant::now() + TIMEOUT;
    while got.len() < 3 && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            got.push(String::from_utf8_lossy(m.payload().unwrap()).into_owned());
        }
    }
    assert_eq!(got, ["p0", "p1", "p2"]);
}

#[test]
fn harness_round_trips_keys_tombstones_and_offsets() {
    let broker = KafkaBroker::start();
    broker.create_topic("round_trip", 2);
    broker.produce("round_trip", 1, Some(b"k1"), Some(b"v1"));
    broker.produce("round_trip", 1, Some(b"k1"), None);
    broker.produce("round_trip", 1, None, Some(b"v3"));
    let records = broker.consume_all("round_trip", 1, false);
    assert_eq!(
        records,
        vec![
            (Some(b"k1".to_vec()), Some(b"v1".to_vec()), 0),
            (Some(b"k1".to_vec()), None, 1),
            (None, Some(b"v3".to_vec()), 2),
        ]
    );
    assert!(broker.consume_all("round_trip", 0, false).is_empty());
}

#[test]
fn fetch_watermarks_undercounts_after_a_multi_record_batch() {
    let broker = KafkaBroker::start();
    broker.create_topic("marks", 1);
    let consumer: BaseConsumer = broker.client_config().create().unwrap();
    let marks = || consumer.fetch_watermarks("marks", 0, TIMEOUT).unwrap();
    assert_eq!(marks(), (0, 0));
    // One record per batch: exact.
    broker.produce("marks", 0, None, Some(b"a"));
    broker.produce("marks", 0, None, Some(b"b"));
    assert_eq!(marks(), (0, 2));
    // One batch of 5 records at offsets 2..=6: tansu answers ListOffsets(latest) with the
    // batch's base offset + 1, not 7.
    let producer: BaseProducer<DeliveryCheck> = broker
        .client_config()
        .set("linger.ms", "200")
        .create_with_context(DeliveryCheck::default())
        .unwrap();
    send_all(&producer, "marks", &["c", "d", "e", "f", "g"]);
    producer.flush(TIMEOUT).unwrap();
    assert!(producer.context().failures.lock().unwrap().is_empty());
    assert_eq!(marks(), (0, 3));
    // Offset::End resolves through the same request, so it starts inside the batch...
    let end: BaseConsumer = broker
        .client_config()
        .set("group.id", "facts")
        .set("enable.partition.eof", "true")
        .create()
        .unwrap();
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset("marks", 0, Offset::End)
        .unwrap();
    end.assign(&assignment).unwrap();
    let mut from_end = Vec::new();
    let deadline = Instant::now() + TIMEOUT;
    while Instant::now() < deadline {
        match end.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => from_end.push(m.offset()),
            Some(Err(KafkaError::PartitionEOF(_))) => break,
            _ => {}
        }
    }
    assert_eq!(from_end, [3, 4, 5, 6]);
    // ...while fetching finds the real end (partition EOF after offset 6).
    let all = broker.consume_all("marks", 0, false);
    assert_eq!(all.last().map(|r| r.2), Some(6));
    // The next single-record batch makes the high watermark exact again.
    broker.produce("marks", 0, None, Some(b"h"));
    assert_eq!(marks(), (0, 8));
}

#[test]
fn produce_to_unknown_topic_creates_it_with_four_partitions() {
    let broker = KafkaBroker::start();
    assert_eq!(topic_partitions(&broker, "made_by_produce"), None);
    broker.produce("made_by_produce", 0, None, Some(b"x"));
    assert_eq!(topic_partitions(&broker, "made_by_produce"), Some(4));
    assert_eq!(
        payloads(&broker.consume_all("made_by_produce", 0, false)),
        ["x"]
    );
}

#[test]
fn metadata_request_creates_unknown_topic_only_when_it_asks_to() {
    let broker = KafkaBroker::start();
    // A consumer's default is allow.auto.create.topics=false.
    let consumer: BaseConsumer = broker.client_config().create().unwrap();
    let metadata = consumer
        .fetch_metadata(Some("asked_by_consumer"), TIMEOUT)
        .unwrap();
    assert_eq!(
        metadata.topics()[0].error().map(RDKafkaErrorCode::from),
        Some(RDKafkaErrorCode::UnknownTopicOrPartition),
    );
    assert_eq!(topic_partitions(&broker, "asked_by_consumer"), None);
    // A producer's default is allow.auto.create.topics=true.
    let producer: BaseProducer = broker.client_config().create().unwrap();
    producer
        .client()
        .fetch_metadata(Some("asked_by_producer"), TIMEOUT)
        .unwrap();
    let deadline = Instant::now() + TIMEOUT;
    while topic_partitions(&broker, "asked_by_producer").is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(topic_partitions(&broker, "asked_by_producer"), Some(4));
}

#[test]
fn transactions_work_but_read_committed_consumers_still_see_aborted_records() {
    let broker = KafkaBroker::start();
    broker.create_topic("txn", 1);
    let producer = transactional_producer(&broker, "facts-txn");
    producer.begin_transaction().unwrap();
    send_all(&producer, "txn", &["c0", "c1"]);
    producer.commit_transaction(TIMEOUT).unwrap();
    producer.begin_transaction().unwrap();
    send_all(&producer, "txn", &["a0", "a1"]);
    // A BaseProducer must serve its delivery reports (flush or poll) before an abort, or
    // abort_transaction fails ("Failed to flush all outstanding messages ...").
    producer.flush(TIMEOUT).unwrap();
    producer.abort_transaction(TIMEOUT).unwrap();
    producer.begin_transaction().unwrap();
    send_all(&producer, "txn", &["c2"]);
    producer.commit_transaction(TIMEOUT).unwrap();
    assert!(producer.context().failures.lock().unwrap().is_empty());

    let uncommitted = broker.consume_all("txn", 0, false);
    assert_eq!(payloads(&uncommitted), ["c0", "c1", "a0", "a1", "c2"]);
    // tansu 0.6 does not make librdkafka drop aborted records: read_committed returns them
    // too (only an open transaction is hidden, see the next test).
    let committed = broker.consume_all("txn", 0, true);
    assert_eq!(committed, uncommitted);
    // Each transaction marker takes an offset: c0 c1 [commit] a0 a1 [abort] c2 [commit].
    let offsets: Vec<i64> = uncommitted.iter().map(|r| r.2).collect();
    assert_eq!(offsets, [0, 1, 3, 4, 6]);
    let consumer: BaseConsumer = broker.client_config().create().unwrap();
    assert_eq!(
        consumer.fetch_watermarks("txn", 0, TIMEOUT).unwrap(),
        (0, 8)
    );
}

#[test]
fn read_committed_consumer_stops_before_an_open_transaction() {
    let broker = KafkaBroker::start();
    broker.create_topic("open_txn", 1);
    broker.produce("open_txn", 0, None, Some(b"plain"));
    let producer = transactional_producer(&broker, "facts-open");
    producer.begin_transaction().unwrap();
    send_all(&producer, "open_txn", &["pending"]);
    producer.flush(TIMEOUT).unwrap();
    let started = Instant::now();
    assert_eq!(
        payloads(&broker.consume_all("open_txn", 0, true)),
        ["plain"]
    );
    assert!(
        started.elapsed() < TIMEOUT,
        "read_committed read waited out its timeout"
    );
    assert_eq!(
        payloads(&broker.consume_all("open_txn", 0, false)),
        ["plain", "pending"]
    );
    producer.commit_transaction(TIMEOUT).unwrap();
    assert_eq!(
        payloads(&broker.consume_all("open_txn", 0, true)),
        ["plain", "pending"]
    );
}

#[test]
fn metadata_fetch_from_a_stopped_broker_fails_with_transport_failure_after_its_timeout() {
    let mut broker = KafkaBroker::start();
    broker.stop();
    let producer: BaseProducer = broker.client_config().create().unwrap();
    let started = Instant::now();
    let result = producer
        .client()
        .fetch_metadata(None, Duration::from_secs(2));
    let took = started.elapsed();
    assert!(
        matches!(
            result,
            Err(KafkaError::MetadataFetch(
                RDKafkaErrorCode::BrokerTransportFailure
            ))
        ),
        "{result:?}"
    );
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

#[test]
fn message_timestamps_come_back_as_create_time() {
    let broker = KafkaBroker::start();
    broker.create_topic("stamps", 1);
    let producer: BaseProducer = broker.client_config().create().unwrap();
    producer
        .send(
            BaseRecord::<[u8], [u8]>::to("stamps")
                .partition(0)
                .payload(b"explicit")
                .timestamp(1_700_000_000_123),
        )
        .map_err(|(e, _)| e)
        .unwrap();
    producer
        .send(
            BaseRecord::<[u8], [u8]>::to("stamps")
                .partition(0)
                .payload(b"implicit"),
        )
        .map_err(|(e, _)| e)
        .unwrap();
    producer.flush(TIMEOUT).unwrap();
    let now_ms = chrono::Utc::now().timestamp_millis();

    let consumer: BaseConsumer = broker
        .client_config()
        .set("group.id", "facts")
        .create()
        .unwrap();
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset("stamps", 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&assignment).unwrap();
    let mut stamps = Vec::new();
    let deadline = Instant::now() + TIMEOUT;
    while stamps.len() < 2 && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            stamps.push(m.timestamp());
        }
    }
    assert_eq!(stamps[0], Timestamp::CreateTime(1_700_000_000_123));
    match stamps[1] {
        Timestamp::CreateTime(ms) => assert!((now_ms - ms).abs() < 60_000, "{ms} vs {now_ms}"),
        other => panic!("implicit timestamp came back as {other:?}"),
    }
}

/// Produces one record with `compression.type` = `codec` and reads it back; Err with the
/// reason when the producer cannot be created or the record does not round-trip.
fn round_trip_compressed(broker: &KafkaBroker, codec: &str) -> Result<(), String> {
    let topic = format!("codec_{codec}");
    broker.create_topic(&topic, 1);
    let producer: BaseProducer<DeliveryCheck> = broker
        .client_config()
        .set("compression.type", codec)
        .set("message.timeout.ms", "10000")
        .create_with_context(DeliveryCheck::default())
        .map_err(|e| e.to_string())?;
    let payload = format!("{codec} {}", "compressible ".repeat(50));
    producer
        .send(
            BaseRecord::<[u8], [u8]>::to(&topic)
                .partition(0)
                .payload(payload.as_bytes()),
        )
        .map_err(|(e, _)| e.to_string())?;
    producer.flush(TIMEOUT).map_err(|e| e.to_string())?;
    let failures = producer.context().failures.lock().unwrap().clone();
    if !failures.is_empty() {
        return Err(failures.join("; "));
    }
    match payloads(&broker.consume_all(&topic, 0, false)).as_slice() {
        [got] if *got == payload => Ok(()),
        other => Err(format!("read back {other:?}")),
    }
}

#[test]
fn compression_none_snappy_and_lz4_work_gzip_and_zstd_are_not_built_in() {
    let broker = KafkaBroker::start();
    for codec in ["none", "snappy", "lz4"] {
        round_trip_compressed(&broker, codec).unwrap_or_else(|e| panic!("{codec}: {e}"));
    }
    for codec in ["gzip", "zstd"] {
        // Refused when the producer is created, not when a record is sent.
        let error = round_trip_compressed(&broker, codec).expect_err(codec);
        assert!(
            error.contains("Client config error") && error.contains("not available at build time"),
            "{codec}: {error}"
        );
    }
}

#[test]
fn restart_keeps_the_address_and_loses_every_topic() {
    let mut broker = KafkaBroker::start();
    let addr = broker.addr.clone();
    broker.create_topic("before_restart", 1);
    broker.produce("before_restart", 0, None, Some(b"x"));
    broker.restart();
    assert_eq!(broker.addr, addr);
    assert_eq!(topic_partitions(&broker, "before_restart"), None);
    broker.create_topic("before_restart", 1);
    assert!(broker.consume_all("before_restart", 0, false).is_empty());
}

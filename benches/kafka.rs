//! Kafka ingestion benchmarks (a program, not a timed test). Starts a tansu broker (the
//! binary `bash scripts/test.sh` installs) and the release `freshet` binary, and prints one
//! JSON line per figure:
//!
//! - `kafka_ingest`: N JSON records of ~100 B and of ~1 KB, and the same as Avro datums,
//!   produced to a 2-partition topic beforehand, then `CREATE SOURCE ... FORMAT JSON` (or
//!   `AVRO USING SCHEMA`) and a counting materialized view; the
//!   time from creating the source until the view counts N (records/s, MB/s), with 1 and 2
//!   workers;
//! - `kafka_latency`: one record produced every 10 ms while `COPY (SUBSCRIBE ...) TO STDOUT`
//!   watches a view over the source: the time from handing the record to the producer to
//!   its row arriving (p50, p99, max).
//!
//! Run: `cargo bench --bench kafka` (`FRESHET_BENCH_RECORDS`, default 1,000,000 for 100 B
//! records and a tenth of it for 1 KB ones; `FRESHET_BENCH_LATENCY_RECORDS`, default 500).

#[allow(dead_code)]
#[path = "../tests/support/kafka_broker.rs"]
mod kafka_broker;
#[allow(dead_code)]
mod support;

use futures::StreamExt;
use kafka_broker::KafkaBroker;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use std::time::{Duration, Instant};
use support::{connect, start_workers, wait_listening};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A JSON object of about `size` bytes.
fn record(i: usize, size: usize) -> Vec<u8> {
    let head = format!(
        r#"{{"id": {i}, "user": "user-{}", "amount": {}.{:02}, "pad": ""#,
        i % 1000,
        i % 500,
        i % 100
    );
    let pad = size.saturating_sub(head.len() + 2);
    let mut text = head;
    text.extend(std::iter::repeat_n('x', pad));
    text.push_str("\"}");
    text.into_bytes()
}

/// The Avro schema of the Avro records: the JSON records' fields.
const AVRO_SCHEMA: &str = r#"{"type": "record", "name": "event", "fields": [
    {"name": "id", "type": "long"}, {"name": "user", "type": "string"},
    {"name": "amount", "type": "double"}, {"name": "pad", "type": "string"}]}"#;

/// An Avro datum of about `size` bytes with the fields of `record`.
fn avro_record(
    writer: &apache_avro::writer::datum::GenericDatumWriter,
    schema: &apache_avro::Schema,
    i: usize,
    size: usize,
) -> Vec<u8> {
    use apache_avro::types::Record;
    let mut r = Record::new(schema).expect("record");
    r.put("id", i as i64);
    r.put("user", format!("user-{}", i % 1000));
    r.put("amount", (i % 500) as f64 + (i % 100) as f64 / 100.0);
    r.put("pad", "x".repeat(size.saturating_sub(24)));
    writer.write_value_to_vec(r).expect("encode")
}

/// Produces `n` records of `size` bytes (JSON or Avro) round-robin over 2 partitions;
/// returns the bytes.
fn produce(broker: &KafkaBroker, topic: &str, n: usize, size: usize, format: &str) -> u64 {
    let schema = apache_avro::Schema::parse_str(AVRO_SCHEMA).expect("schema");
    let writer = apache_avro::writer::datum::GenericDatumWriter::builder(&schema)
        .build()
        .expect("writer");
    let producer: BaseProducer = broker
        .client_config()
        .set("linger.ms", "20")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "1000000")
        .set("compression.type", "lz4")
        .create()
        .expect("producer");
    let mut bytes = 0u64;
    for i in 0..n {
        let payload = if format == "avro" {
            avro_record(&writer, &schema, i, size)
        } else {
            record(i, size)
        };
        bytes += payload.len() as u64;
        let mut r = BaseRecord::<(), [u8]>::to(topic)
            .payload(&payload)
            .partition((i % 2) as i32);
        loop {
            match producer.send(r) {
                Ok(()) => break,
                Err((_, back)) => {
                    r = back;
                    producer.poll(Duration::from_millis(10));
                }
            }
        }
        if i % 10_000 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    producer.flush(Duration::from_secs(120)).expect("flush");
    bytes
}

fn main() {
    let records_100 = env_usize("FRESHET_BENCH_RECORDS", 1_000_000);
    let latency_records = env_usize("FRESHET_BENCH_LATENCY_RECORDS", 500);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let broker = KafkaBroker::start();
    for (format, size, n) in [
        ("json", 100usize, records_100),
        ("json", 1000, records_100 / 10),
        ("avro", 100, records_100),
        ("avro", 1000, records_100 / 10),
    ] {
        let topic = format!("ingest_{format}_{size}");
        broker.create_topic(&topic, 2);
        let bytes = produce(&broker, &topic, n, size, format);
        let format_sql = if format == "avro" {
            format!("AVRO USING SCHEMA '{AVRO_SCHEMA}'")
        } else {
            "JSON".to_string()
        };
        for workers in ["1", "2"] {
            let data = std::env::temp_dir().join(format!(
                "freshet-bench-kafka-{}-{size}-{workers}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&data);
            let (mut child, addr) = start_workers(&data, workers);
            wait_listening(addr);
            let seconds = runtime.block_on(async {
                let client = connect(addr).await;
                client
                    .batch_execute(&format!(
                        "CREATE CONNECTION k TO KAFKA (BROKER '{}');
                         CREATE MATERIALIZED VIEW dummy AS SELECT 1;",
                        broker.addr
                    ))
                    .await
                    .expect("connection");
                let started = Instant::now();
                client
                    .batch_execute(&format!(
                        "CREATE SOURCE s FROM KAFKA CONNECTION k (TOPIC '{topic}') FORMAT {format_sql};
                         CREATE MATERIALIZED VIEW c AS SELECT count(*) AS n FROM s;"
                    ))
                    .await
                    .expect("source");
                let deadline = Instant::now() + Duration::from_secs(600);
                loop {
                    let got: i64 = client
                        .query_one("SELECT n FROM c", &[])
                        .await
                        .map(|r| r.get(0))
                        .unwrap_or(0);
                    if got as usize >= n {
                        break;
                    }
                    assert!(
                        Instant::now() < deadline,
                        "ingestion stalled at {got} of {n}"
                    );
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                started.elapsed().as_secs_f64()
            });
            println!(
                "{{\"bench\":\"kafka_ingest\",\"format\":\"{format}\",\"record_bytes\":{size},\"workers\":{workers},\"records\":{n},\"seconds\":{seconds:.3},\"records_per_sec\":{:.0},\"mb_per_sec\":{:.1}}}",
                n as f64 / seconds,
                bytes as f64 / seconds / 1e6
            );
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&data);
        }
    }
    // Latency: produce-to-visible through a subscription.
    broker.create_topic("latency", 1);
    let data = std::env::temp_dir().join(format!(
        "freshet-bench-kafka-latency-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&data);
    let (mut child, addr) = start_workers(&data, "2");
    wait_listening(addr);
    let mut latencies = runtime.block_on(async {
        let client = connect(addr).await;
        client
            .batch_execute(&format!(
                "CREATE CONNECTION k TO KAFKA (BROKER '{}');
                 CREATE SOURCE lat (seq bigint) FROM KAFKA CONNECTION k (TOPIC 'latency') FORMAT JSON;
                 CREATE MATERIALIZED VIEW lat_view AS SELECT seq FROM lat;",
                broker.addr
            ))
            .await
            .expect("setup");
        let stream = client
            .copy_out("COPY (SUBSCRIBE lat_view WITH (SNAPSHOT = false)) TO STDOUT")
            .await
            .expect("subscribe");
        let mut stream = Box::pin(stream);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(i64, Instant)>();
        let addr_broker = broker.addr.clone();
        let producer_task = std::thread::spawn(move || {
            let producer: BaseProducer = rdkafka::config::ClientConfig::new()
                .set("bootstrap.servers", &addr_broker)
                .set("linger.ms", "0")
                .create()
                .expect("producer");
            for seq in 0..latency_records as i64 {
                let payload = format!("{{\"seq\": {seq}}}");
                let _ = tx.send((seq, Instant::now()));
                producer
                    .send(BaseRecord::<(), str>::to("latency").payload(&payload).partition(0))
                    .expect("send");
                producer.flush(Duration::from_secs(10)).expect("delivered");
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        let mut sent = std::collections::HashMap::new();
        let mut latencies = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        while latencies.len() < latency_records && Instant::now() < deadline {
            let chunk = match tokio::time::timeout(Duration::from_secs(5), stream.next()).await {
                Ok(Some(Ok(chunk))) => chunk,
                _ => break,
            };
            let arrived = Instant::now();
            while let Ok((seq, at)) = rx.try_recv() {
                sent.insert(seq, at);
            }
            for line in String::from_utf8_lossy(&chunk).lines() {
                // mz_timestamp, mz_diff, seq
                let Some(seq) = line.split('\t').nth(2).and_then(|s| s.parse::<i64>().ok()) else {
                    continue;
                };
                if let Some(at) = sent.get(&seq) {
                    latencies.push(arrived.saturating_duration_since(*at).as_secs_f64() * 1000.0);
                }
            }
        }
        let _ = producer_task.join();
        latencies
    });
    latencies.sort_by(|a, b| a.total_cmp(b));
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "{{\"bench\":\"kafka_latency\",\"records\":{},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"max_ms\":{:.2}}}",
        latencies.len(),
        pick(0.5),
        pick(0.99),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&data);
}

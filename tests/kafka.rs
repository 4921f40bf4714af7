//! Kafka sources end to end: a real Kafka-protocol broker (tansu) and a real server, driven
//! over pgwire. Each test starts its own broker and server.

mod support;

use std::time::Duration;
use support::kafka_broker::{KafkaBroker, ProducedRecord};
use support::server::TestServer;
use support::{connect, count, text_rows, wait_for_count};
use tokio_postgres::Client;

async fn setup() -> (KafkaBroker, TestServer, Client) {
    let broker = KafkaBroker::start();
    let server = TestServer::start().expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute(&format!(
            "CREATE CONNECTION kafka TO KAFKA (BROKER '{}')",
            broker.addr
        ))
        .await
        .expect("connection");
    (broker, server, client)
}

fn values(texts: &[&str]) -> Vec<ProducedRecord> {
    texts
        .iter()
        .map(|t| (None, Some(t.as_bytes().to_vec())))
        .collect()
}

fn keyed(pairs: &[(&str, Option<&str>)]) -> Vec<ProducedRecord> {
    pairs
        .iter()
        .map(|(k, v)| {
            (
                Some(k.as_bytes().to_vec()),
                v.map(|v| v.as_bytes().to_vec()),
            )
        })
        .collect()
}

/// The rows of `sql`, each as its columns joined by `|`.
async fn rows(client: &Client, sql: &str) -> Vec<String> {
    text_rows(client, sql)
        .await
        .into_iter()
        .map(|r| r.join("|"))
        .collect()
}

async fn sqlstate(client: &Client, sql: &str) -> String {
    match client.batch_execute(sql).await {
        Ok(()) => panic!("{sql} should fail"),
        Err(e) => e
            .as_db_error()
            .map(|d| format!("{} {}", d.code().code(), d.message()))
            .unwrap_or_else(|| e.to_string()),
    }
}

#[tokio::test]
async fn every_format_decodes_into_its_columns() {
    let (broker, _server, client) = setup().await;
    for topic in ["t_text", "t_bytes", "t_json", "t_typed", "t_csv"] {
        broker.create_topic(topic, 1);
    }
    broker.produce_many("t_text", 0, &values(&["hello", "world"]));
    broker.produce_many(
        "t_bytes",
        0,
        &[(None, Some(vec![0xde, 0xad])), (None, Some(vec![]))],
    );
    broker.produce_many("t_json", 0, &values(&[r#"{"b": 1, "a": [true]}"#, "7"]));
    broker.produce_many(
        "t_typed",
        0,
        &values(&[
            r#"{"id": 1, "name": "ann", "amount": "12.50", "tags": ["x"]}"#,
            r#"{"id": "2", "amount": 3}"#,
        ]),
    );
    broker.produce_many("t_csv", 0, &values(&["1,\"a,b\"", "2,"]));
    client
        .batch_execute(
            "CREATE SOURCE s_text FROM KAFKA CONNECTION kafka (TOPIC 't_text') FORMAT TEXT
                 INCLUDE PARTITION, OFFSET AS o;
             CREATE SOURCE s_bytes FROM KAFKA CONNECTION kafka (TOPIC 't_bytes') FORMAT BYTES;
             CREATE SOURCE s_json FROM KAFKA CONNECTION kafka (TOPIC 't_json') FORMAT JSON;
             CREATE SOURCE s_typed (id int, name text, amount numeric(10,2), tags jsonb)
                 FROM KAFKA CONNECTION kafka (TOPIC 't_typed') FORMAT JSON;
             CREATE SOURCE s_csv (n bigint, label text)
                 FROM KAFKA CONNECTION kafka (TOPIC 't_csv') FORMAT CSV WITH 2 COLUMNS;",
        )
        .await
        .expect("sources");
    for (relation, n) in [
        ("s_text", 2),
        ("s_bytes", 2),
        ("s_json", 2),
        ("s_typed", 2),
        ("s_csv", 2),
    ] {
        let sql = format!("SELECT count(*) FROM {relation}");
        assert_eq!(wait_for_count(&client, &sql, n).await, n, "{relation}");
    }
    assert_eq!(
        rows(&client, "SELECT text, partition, o FROM s_text ORDER BY o").await,
        ["hello|0|0", "world|0|1"]
    );
    assert_eq!(
        rows(&client, "SELECT data FROM s_bytes ORDER BY data").await,
        ["\\x", "\\xdead"]
    );
    assert_eq!(
        rows(&client, "SELECT data FROM s_json ORDER BY data::text").await,
        ["7", r#"{"a": [true], "b": 1}"#]
    );
    assert_eq!(
        rows(
            &client,
            "SELECT id, name, amount, tags FROM s_typed ORDER BY id"
        )
        .await,
        [r#"1|ann|12.50|["x"]"#, "2|NULL|3.00|NULL"]
    );
    assert_eq!(
        rows(&client, "SELECT n, label FROM s_csv ORDER BY n").await,
        ["1|a,b", "2|"]
    );
    assert_eq!(
        count(&client, "SELECT count(*) FROM s_typed_errors").await,
        0
    );
}

#[tokio::test]
async fn upsert_keeps_the_latest_value_per_key_and_attaches_errors_to_keys() {
    let (broker, _server, client) = setup().await;
    broker.create_topic("users", 1);
    client
        .batch_execute(
            "CREATE SOURCE users (id int, name text)
                 FROM KAFKA CONNECTION kafka (TOPIC 'users')
                 KEY FORMAT TEXT VALUE FORMAT JSON ENVELOPE UPSERT;
             CREATE MATERIALIZED VIEW user_count AS SELECT count(*) AS n FROM users;",
        )
        .await
        .expect("source");
    broker.produce_many(
        "users",
        0,
        &keyed(&[
            ("a", Some(r#"{"id": 1, "name": "ann"}"#)),
            ("b", Some(r#"{"id": 2, "name": "bob"}"#)),
            ("a", Some(r#"{"id": 1, "name": "anne"}"#)),
            ("b", None),
            ("c", Some(r#"{"id": "not a number"}"#)),
        ]),
    );
    assert_eq!(
        wait_for_count(&client, "SELECT max(\"offset\") FROM users_progress", 5).await,
        5
    );
    assert_eq!(
        rows(&client, "SELECT key, id, name FROM users ORDER BY key").await,
        ["a|1|anne"]
    );
    assert_eq!(count(&client, "SELECT n FROM user_count").await, 1);
    assert_eq!(
        rows(&client, "SELECT \"offset\", key, error FROM users_errors").await,
        [r#"4|\x63|field "id": invalid input syntax for type integer: "not a number""#]
    );
    // The key's next good value clears its error; a record without a key is an error of
    // its own.
    broker.produce_many(
        "users",
        0,
        &[
            (Some(b"c".to_vec()), Some(br#"{"id": 3}"#.to_vec())),
            (None, Some(b"{}".to_vec())),
        ],
    );
    assert_eq!(
        wait_for_count(&client, "SELECT max(\"offset\") FROM users_progress", 7).await,
        7
    );
    assert_eq!(
        rows(&client, "SELECT key, id, name FROM users ORDER BY key").await,
        ["a|1|anne", "c|3|NULL"]
    );
    assert_eq!(
        rows(&client, "SELECT \"offset\", key, error FROM users_errors").await,
        ["6|NULL|the record has no key (ENVELOPE UPSERT and DEBEZIUM need one)"]
    );
    assert_eq!(count(&client, "SELECT n FROM user_count").await, 2);
}

#[tokio::test]
async fn avro_records_decode_into_the_schema_fields() {
    use apache_avro::types::{Record, Value};
    let (broker, _server, client) = setup().await;
    broker.create_topic("avro", 1);
    let schema_text = r#"{"type": "record", "name": "reading", "fields": [
        {"name": "sensor", "type": "string"},
        {"name": "value", "type": ["null", "double"]},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}}
    ]}"#;
    let schema = apache_avro::Schema::parse_str(schema_text).expect("schema");
    let writer = apache_avro::writer::datum::GenericDatumWriter::builder(&schema)
        .build()
        .expect("writer");
    let encode = |sensor: &str, value: Option<f64>, at: i64| {
        let mut r = Record::new(&schema).expect("record");
        r.put("sensor", sensor);
        r.put(
            "value",
            Value::Union(
                u32::from(value.is_some()),
                Box::new(value.map_or(Value::Null, Value::Double)),
            ),
        );
        r.put("at", Value::TimestampMillis(at));
        writer.write_value_to_vec(r).expect("encode")
    };
    // One plain datum, one with the Confluent framing (magic byte and schema id), one bad.
    let mut framed = vec![0, 0, 0, 0, 1];
    framed.extend(encode("b", None, 1_000));
    broker.produce_many(
        "avro",
        0,
        &[
            (None, Some(encode("a", Some(1.5), 0))),
            (None, Some(framed)),
            (None, Some(vec![0xff, 0xff])),
        ],
    );
    client
        .batch_execute(&format!(
            "CREATE SOURCE readings FROM KAFKA CONNECTION kafka (TOPIC 'avro')
                 FORMAT AVRO USING SCHEMA '{}'",
            schema_text.replace('\'', "''")
        ))
        .await
        .expect("source");
    assert_eq!(
        wait_for_count(&client, "SELECT count(*) FROM readings", 2).await,
        2
    );
    assert_eq!(
        rows(
            &client,
            "SELECT sensor, value, at FROM readings ORDER BY sensor"
        )
        .await,
        ["a|1.5|1970-01-01 00:00:00", "b|NULL|1970-01-01 00:00:01"]
    );
    assert_eq!(
        wait_for_count(&client, "SELECT count(*) FROM readings_errors", 1).await,
        1
    );
}

/// `metrics.Reading { string sensor = 1; optional double value = 2; int32 count = 3;
/// Level level = 4; map<string, string> labels = 5; }` (proto3), as the hex-encoded
/// FileDescriptorSet `protoc --descriptor_set_out` writes.
fn reading_descriptors() -> String {
    use prost_reflect::prost::Message;
    use prost_reflect::prost_types::field_descriptor_proto::{Label, Type};
    use prost_reflect::prost_types::{
        DescriptorProto, EnumDescriptorProto, EnumValueDescriptorProto, FieldDescriptorProto,
        FileDescriptorProto, FileDescriptorSet, MessageOptions, OneofDescriptorProto,
    };
    let field = |name: &str, number: i32, typ: Type, label: Label, type_name: Option<&str>| {
        FieldDescriptorProto {
            name: Some(name.into()),
            number: Some(number),
            r#type: Some(typ as i32),
            label: Some(label as i32),
            type_name: type_name.map(String::from),
            json_name: Some(name.into()),
            ..Default::default()
        }
    };
    let mut value = field("value", 2, Type::Double, Label::Optional, None);
    value.proto3_optional = Some(true);
    value.oneof_index = Some(0);
    let entry = DescriptorProto {
        name: Some("LabelsEntry".into()),
        field: vec![
            field("key", 1, Type::String, Label::Optional, None),
            field("value", 2, Type::String, Label::Optional, None),
        ],
        options: Some(MessageOptions {
            map_entry: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    };
    let level = |name: &str, number: i32| EnumValueDescriptorProto {
        name: Some(name.into()),
        number: Some(number),
        ..Default::default()
    };
    let file = FileDescriptorProto {
        name: Some("metrics.proto".into()),
        package: Some("metrics".into()),
        syntax: Some("proto3".into()),
        message_type: vec![DescriptorProto {
            name: Some("Reading".into()),
            field: vec![
                field("sensor", 1, Type::String, Label::Optional, None),
                value,
                field("count", 3, Type::Int32, Label::Optional, None),
                field(
                    "level",
                    4,
                    Type::Enum,
                    Label::Optional,
                    Some(".metrics.Level"),
                ),
                field(
                    "labels",
                    5,
                    Type::Message,
                    Label::Repeated,
                    Some(".metrics.Reading.LabelsEntry"),
                ),
            ],
            nested_type: vec![entry],
            oneof_decl: vec![OneofDescriptorProto {
                name: Some("_value".into()),
                ..Default::default()
            }],
            ..Default::default()
        }],
        enum_type: vec![EnumDescriptorProto {
            name: Some("Level".into()),
            value: vec![level("LOW", 0), level("HIGH", 1)],
            ..Default::default()
        }],
        ..Default::default()
    };
    let set = FileDescriptorSet { file: vec![file] };
    format!("\\x{}", hex::encode(set.encode_to_vec()))
}

#[tokio::test]
async fn protobuf_messages_decode_into_the_message_fields() {
    use prost_reflect::{DescriptorPool, DynamicMessage, MapKey, Value};
    let (broker, _server, client) = setup().await;
    broker.create_topic("proto", 1);
    let descriptors = reading_descriptors();
    let bytes = hex::decode(&descriptors[2..]).expect("hex");
    let pool = DescriptorPool::decode(bytes.as_slice()).expect("descriptors");
    let reading = pool
        .get_message_by_name("metrics.Reading")
        .expect("message");
    let encode = |fields: Vec<(&str, Value)>| {
        let mut message = DynamicMessage::new(reading.clone());
        for (name, value) in fields {
            message.set_field_by_name(name, value);
        }
        prost_reflect::prost::Message::encode_to_vec(&message)
    };
    let labels = Value::Map(
        [(MapKey::String("room".into()), Value::String("lab".into()))]
            .into_iter()
            .collect(),
    );
    broker.produce_many(
        "proto",
        0,
        &[
            (
                None,
                Some(encode(vec![
                    ("sensor", Value::String("a".into())),
                    ("value", Value::F64(1.5)),
                    ("count", Value::I32(3)),
                    ("level", Value::EnumNumber(1)),
                    ("labels", labels),
                ])),
            ),
            // Every field absent: proto3 defaults, and NULL for the optional one.
            (None, Some(encode(vec![]))),
            (None, Some(vec![0xff, 0xff, 0xff])),
        ],
    );
    client
        .batch_execute(&format!(
            "CREATE SOURCE readings FROM KAFKA CONNECTION kafka (TOPIC 'proto')
                 FORMAT PROTOBUF MESSAGE '.metrics.Reading' USING SCHEMA '{descriptors}'"
        ))
        .await
        .expect("source");
    assert_eq!(
        wait_for_count(&client, "SELECT count(*) FROM readings", 2).await,
        2
    );
    assert_eq!(
        rows(
            &client,
            "SELECT sensor, value, count, level, labels FROM readings ORDER BY sensor"
        )
        .await,
        ["|NULL|0|LOW|{}", r#"a|1.5|3|HIGH|{"room": "lab"}"#,]
    );
    assert_eq!(
        rows(
            &client,
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'readings' ORDER BY ordinal_position"
        )
        .await,
        ["text", "double precision", "integer", "text", "jsonb"]
    );
    assert_eq!(
        wait_for_count(&client, "SELECT count(*) FROM readings_errors", 1).await,
        1
    );
    let e = sqlstate(
        &client,
        &format!(
            "CREATE SOURCE s2 FROM KAFKA CONNECTION kafka (TOPIC 'proto')
                 FORMAT PROTOBUF MESSAGE 'metrics.Nope' USING SCHEMA '{descriptors}'"
        ),
    )
    .await;
    assert!(e.contains("no message \"metrics.Nope\""), "{e}");
}

#[tokio::test]
async fn debezium_change_events_keep_the_after_image_per_key() {
    let (broker, _server, client) = setup().await;
    broker.create_topic("dbz", 1);
    client
        .batch_execute(
            "CREATE SOURCE customers (id int, name text)
                 FROM KAFKA CONNECTION kafka (TOPIC 'dbz')
                 KEY FORMAT JSON VALUE FORMAT JSON ENVELOPE DEBEZIUM;
             CREATE MATERIALIZED VIEW names AS SELECT name FROM customers;",
        )
        .await
        .expect("source");
    let key = |id: i32| Some(format!(r#"{{"id": {id}}}"#));
    let events = [
        (key(1), Some(r#"{"payload": {"before": null, "after": {"id": 1, "name": "ann"}, "op": "c"}}"#.to_string())),
        (key(2), Some(r#"{"before": null, "after": {"id": 2, "name": "bob"}, "op": "c"}"#.to_string())),
        (key(1), Some(r#"{"before": {"id": 1, "name": "ann"}, "after": {"id": 1, "name": "anne"}, "op": "u"}"#.to_string())),
        (key(2), Some(r#"{"before": {"id": 2, "name": "bob"}, "after": null, "op": "d"}"#.to_string())),
        (key(2), None),
    ];
    let records: Vec<ProducedRecord> = events
        .into_iter()
        .map(|(k, v)| (k.map(String::into_bytes), v.map(String::into_bytes)))
        .collect();
    broker.produce_many("dbz", 0, &records);
    assert_eq!(
        wait_for_count(&client, "SELECT max(\"offset\") FROM customers_progress", 5).await,
        5
    );
    assert_eq!(
        rows(&client, "SELECT key, id, name FROM customers").await,
        [r#"{"id": 1}|1|anne"#]
    );
    assert_eq!(rows(&client, "SELECT name FROM names").await, ["anne"]);
}

#[tokio::test]
async fn malformed_records_are_errors_and_never_stop_the_source() {
    let (broker, _server, client) = setup().await;
    broker.create_topic("events", 1);
    client
        .batch_execute(
            "CREATE SOURCE events (id int) FROM KAFKA CONNECTION kafka (TOPIC 'events') FORMAT JSON",
        )
        .await
        .expect("source");
    broker.produce_many(
        "events",
        0,
        &values(&[r#"{"id": 1}"#, "{oops", r#"{"id": 2}"#]),
    );
    broker.produce("events", 0, None, Some(&[0xff, 0xfe]));
    broker.produce_many("events", 0, &values(&[r#"{"id": 3}"#]));
    assert_eq!(
        wait_for_count(&client, "SELECT count(*) FROM events", 3).await,
        3
    );
    assert_eq!(
        wait_for_count(&client, "SELECT count(*) FROM events_errors", 2).await,
        2
    );
    let errors = rows(
        &client,
        "SELECT partition, \"offset\", error FROM events_errors ORDER BY 2",
    )
    .await;
    assert!(errors[0].starts_with("0|1|invalid JSON"), "{errors:?}");
    assert!(errors[1].starts_with("0|3|invalid JSON"), "{errors:?}");
}

#[tokio::test]
async fn bad_connections_topics_and_formats_fail_with_clear_errors() {
    let (_broker, _server, client) = setup().await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let port = dead.local_addr().expect("addr").port();
    drop(dead);
    let e = sqlstate(
        &client,
        &format!("CREATE CONNECTION nowhere TO KAFKA (BROKER '127.0.0.1:{port}')"),
    )
    .await;
    assert!(
        e.starts_with("08001 the Kafka broker did not answer"),
        "{e}"
    );
    let e = sqlstate(
        &client,
        "CREATE SOURCE s FROM KAFKA CONNECTION kafka (TOPIC 'missing') FORMAT TEXT",
    )
    .await;
    assert_eq!(e, "42704 topic \"missing\" does not exist");
    let e = sqlstate(
        &client,
        "CREATE SOURCE s FROM KAFKA CONNECTION kafka (TOPIC 'x') FORMAT AVRO USING SCHEMA '{}'",
    )
    .await;
    assert!(e.starts_with("22023 invalid Avro schema"), "{e}");
    let e = sqlstate(
        &client,
        "CREATE SOURCE s FROM KAFKA CONNECTION kafka (TOPIC 'x')
             FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION csr",
    )
    .await;
    assert!(e.starts_with("0A000 FORMAT AVRO"), "{e}");
    let e = sqlstate(
        &client,
        "CREATE SOURCE s FROM KAFKA CONNECTION kafka (TOPIC 'x') FORMAT PROTOBUF MESSAGE 'm'",
    )
    .await;
    assert!(e.starts_with("0A000 FORMAT PROTOBUF"), "{e}");
    let e = sqlstate(
        &client,
        "CREATE SOURCE s FROM KAFKA CONNECTION kafka (TOPIC 'x') FORMAT TEXT INCLUDE HEADERS",
    )
    .await;
    assert!(e.starts_with("0A000 INCLUDE HEADERS"), "{e}");
    let e = sqlstate(
        &client,
        "CREATE SOURCE s FROM KAFKA CONNECTION kafka (TOPIC 'x') FORMAT TEXT ENVELOPE DEBEZIUM",
    )
    .await;
    assert!(
        e.starts_with("0A000 ENVELOPE DEBEZIUM with a value format"),
        "{e}"
    );
    let e = sqlstate(
        &client,
        "CREATE SOURCE s FROM KAFKA CONNECTION kafka (TOPIC 'x') VALUE FORMAT TEXT",
    )
    .await;
    assert!(e.starts_with("42601"), "{e}");
    let e = sqlstate(
        &client,
        "CREATE SOURCE s FROM KAFKA CONNECTION nope (TOPIC 'x') FORMAT TEXT",
    )
    .await;
    assert_eq!(e, "42704 connection \"nope\" does not exist");
    // A connection cannot be dropped while a source uses it (unless CASCADE).
    _broker.create_topic("used", 1);
    client
        .batch_execute("CREATE SOURCE used FROM KAFKA CONNECTION kafka (TOPIC 'used') FORMAT TEXT")
        .await
        .expect("source");
    client
        .batch_execute("CREATE SECRET pw AS 'hunter2'")
        .await
        .expect("secret");
    assert_eq!(rows(&client, "SHOW CONNECTIONS").await, ["kafka"]);
    assert_eq!(rows(&client, "SHOW SECRETS").await, ["pw"]);
    let e = sqlstate(&client, "DROP CONNECTION kafka").await;
    assert!(e.starts_with("2BP01"), "{e}");
    client
        .batch_execute("DROP CONNECTION kafka CASCADE")
        .await
        .expect("drop cascade");
    let e = sqlstate(&client, "SELECT count(*) FROM used_progress").await;
    assert!(e.starts_with("42P01"), "{e}");
}

/// Records are produced while the server is killed with SIGKILL twice; after the last
/// restart the source holds every record exactly once.
#[tokio::test]
async fn ingestion_survives_sigkill_with_every_record_exactly_once() {
    let broker = KafkaBroker::start();
    broker.create_topic("stream", 2);
    let data = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("freshet-kafka-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let mut server = TestServer::start_with(2, data).expect("server starts");
    {
        let client = connect(&server).await;
        client
            .batch_execute(&format!(
                "CREATE CONNECTION kafka TO KAFKA (BROKER '{}');
                 CREATE SOURCE stream FROM KAFKA CONNECTION kafka (TOPIC 'stream') FORMAT TEXT
                     INCLUDE PARTITION, OFFSET;
                 CREATE MATERIALIZED VIEW per_partition AS
                     SELECT partition, count(*) AS n FROM stream GROUP BY partition;",
                broker.addr
            ))
            .await
            .expect("setup");
    }
    let mut produced = 0i64;
    for round in 0..3 {
        for batch in 0..10 {
            let records: Vec<ProducedRecord> = (0..200)
                .map(|i| (None, Some(format!("r{round}-{batch}-{i}").into_bytes())))
                .collect();
            broker.produce_many("stream", batch % 2, &records);
            produced += 200;
            if batch == 3 + round * 2 && round < 2 {
                // Kill mid-stream; the rest of the round is produced while it is down.
                let dir = server.kill();
                tokio::time::sleep(Duration::from_millis(50)).await;
                server = TestServer::start_with(2, dir).expect("server restarts");
            }
        }
    }
    let client = connect(&server).await;
    assert_eq!(
        wait_for_count(&client, "SELECT count(*) FROM stream", produced).await,
        produced
    );
    // Nothing twice: every (partition, offset) once, and the view agrees.
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM (SELECT DISTINCT partition, \"offset\" FROM stream) d"
        )
        .await,
        produced
    );
    assert_eq!(
        count(&client, "SELECT sum(n)::bigint FROM per_partition").await,
        produced
    );
    assert_eq!(
        rows(
            &client,
            "SELECT partition, \"offset\" FROM stream_progress ORDER BY 1"
        )
        .await,
        [format!("0|{}", produced / 2), format!("1|{}", produced / 2)]
    );
}

/// The broker stops answering for a while (frozen with SIGSTOP: a network partition or a
/// long pause) and comes back; reads go on meanwhile, and the source resumes at its next
/// offset with nothing lost or repeated.
///
/// A broker restarted *without* its topics (what tansu's memory storage does) is not tested:
/// librdkafka 2.12.1 crashes (SIGSEGV in `rd_kafka_metadata_cache_find`) on the metadata such
/// a broker returns. A real Kafka broker keeps its topics across restarts.
#[tokio::test]
async fn a_source_resumes_after_the_broker_stops_answering() {
    let (broker, _server, client) = setup().await;
    broker.create_topic("flaky", 1);
    client
        .batch_execute(
            "CREATE SOURCE flaky FROM KAFKA CONNECTION kafka (TOPIC 'flaky') FORMAT TEXT INCLUDE OFFSET",
        )
        .await
        .expect("source");
    broker.produce_many("flaky", 0, &values(&["a", "b", "c"]));
    assert_eq!(
        wait_for_count(&client, "SELECT count(*) FROM flaky", 3).await,
        3
    );
    assert_eq!(
        rows(&client, "SHOW SOURCE STATUSES").await,
        ["flaky|kafka|running|NULL|3"]
    );
    broker.pause();
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Reads go on while the broker does not answer.
    assert_eq!(count(&client, "SELECT count(*) FROM flaky").await, 3);
    broker.resume();
    broker.produce_many("flaky", 0, &values(&["d", "e"]));
    assert_eq!(
        wait_for_count(&client, "SELECT count(*) FROM flaky", 5).await,
        5
    );
    assert_eq!(
        rows(&client, "SELECT text, \"offset\" FROM flaky ORDER BY 2").await,
        ["a|0", "b|1", "c|2", "d|3", "e|4"]
    );
    assert_eq!(
        rows(&client, "SHOW SOURCE STATUSES").await,
        ["flaky|kafka|running|NULL|5"]
    );
}

/// A source whose broker refuses connections reports itself stalled, with the error.
#[tokio::test]
async fn a_source_reports_a_stalled_state_while_its_broker_is_down() {
    let (mut broker, _server, client) = setup().await;
    broker.create_topic("down", 1);
    client
        .batch_execute("CREATE SOURCE down FROM KAFKA CONNECTION kafka (TOPIC 'down') FORMAT TEXT")
        .await
        .expect("source");
    broker.produce_many("down", 0, &values(&["a"]));
    assert_eq!(
        wait_for_count(&client, "SELECT count(*) FROM down", 1).await,
        1
    );
    broker.stop();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let status = loop {
        let status: Vec<String> = rows(&client, "SHOW SOURCE STATUSES")
            .await
            .into_iter()
            .map(|r| r.split('|').take(3).collect::<Vec<_>>().join("|"))
            .collect();
        if status == ["down|kafka|stalled"] || std::time::Instant::now() > deadline {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(status, ["down|kafka|stalled"]);
    assert_eq!(count(&client, "SELECT count(*) FROM down").await, 1);
}

/// The topic's latest value per key (UPSERT: a tombstone removes the key), as JSON text.
fn latest_per_key(
    records: &[support::kafka_broker::ConsumedRecord],
) -> std::collections::BTreeMap<String, String> {
    let mut state = std::collections::BTreeMap::new();
    for (key, value, _) in records {
        let key = String::from_utf8_lossy(key.as_deref().unwrap_or_default()).to_string();
        match value {
            Some(v) => state.insert(key, String::from_utf8_lossy(v).to_string()),
            None => state.remove(&key),
        };
    }
    state
}

/// A sink writes every change of a table; the server is killed with SIGKILL and the table
/// changes while it is down; after the restart the topic (read_committed) holds exactly the
/// table, and no change was written twice.
#[tokio::test]
async fn a_sink_writes_every_change_once_and_resumes_after_sigkill() {
    let broker = KafkaBroker::start();
    let data = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("freshet-kafka-sink-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let server = TestServer::start_with(2, data).expect("server starts");
    let client = connect(&server).await;
    client
        .batch_execute(&format!(
            "CREATE CONNECTION kafka TO KAFKA (BROKER '{}');
             CREATE TABLE accounts (id int, owner text, balance int);
             INSERT INTO accounts VALUES (1, 'ann', 10), (2, 'bob', 20);
             CREATE SINK accounts_out FROM accounts
                 INTO KAFKA CONNECTION kafka (TOPIC 'accounts') KEY (id)
                 FORMAT JSON ENVELOPE UPSERT;",
            broker.addr
        ))
        .await
        .expect("setup");
    for statement in [
        "UPDATE accounts SET balance = 25 WHERE id = 2",
        "INSERT INTO accounts VALUES (3, 'cy', 30)",
        "DELETE FROM accounts WHERE id = 1",
    ] {
        client.batch_execute(statement).await.expect(statement);
    }
    let expected = |rows: Vec<String>| -> std::collections::BTreeMap<String, String> {
        rows.into_iter()
            .map(|r| {
                let f: Vec<&str> = r.split('|').collect();
                (
                    format!(r#"{{"id":{}}}"#, f[0]),
                    format!(r#"{{"balance":{},"id":{},"owner":"{}"}}"#, f[2], f[0], f[1]),
                )
            })
            .collect()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let want = expected(rows(&client, "SELECT id, owner, balance FROM accounts").await);
        let got = latest_per_key(&broker.consume_all("accounts", 0, true));
        if got == want {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "topic {got:?} != table {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(client);
    let data = server.kill();
    // Changes right after the restart, while the sink is still reading the topic back.
    let server = TestServer::start_with(2, data).expect("server restarts");
    let client = connect(&server).await;
    client
        .batch_execute("UPDATE accounts SET owner = 'bobby' WHERE id = 2; INSERT INTO accounts VALUES (4, 'di', 40)")
        .await
        .expect("changes after restart");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let records = loop {
        let want = expected(rows(&client, "SELECT id, owner, balance FROM accounts").await);
        let records = broker.consume_all("accounts", 0, true);
        if latest_per_key(&records) == want {
            break records;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "topic != table after restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Exactly once: no record repeats the value its key already had.
    let mut last: std::collections::BTreeMap<Vec<u8>, Option<Vec<u8>>> = Default::default();
    for (key, value, offset) in &records {
        let key = key.clone().unwrap_or_default();
        assert_ne!(
            last.get(&key),
            Some(value),
            "offset {offset} repeats a change"
        );
        last.insert(key, value.clone());
    }
    // 2 snapshot rows + 3 changes + 2 changes after the restart.
    assert_eq!(records.len(), 7, "{records:?}");
}

#[tokio::test]
async fn a_debezium_sink_writes_before_and_after_images() {
    let (broker, _server, client) = setup().await;
    client
        .batch_execute(
            "CREATE TABLE t (id int, v text);
             INSERT INTO t VALUES (1, 'a');
             CREATE MATERIALIZED VIEW mv AS SELECT id, upper(v) AS v FROM t;
             CREATE SINK out FROM mv INTO KAFKA CONNECTION kafka (TOPIC 'changes') KEY (id)
                 FORMAT JSON ENVELOPE DEBEZIUM;",
        )
        .await
        .expect("setup");
    tokio::time::sleep(Duration::from_millis(500)).await;
    client
        .batch_execute("UPDATE t SET v = 'b' WHERE id = 1")
        .await
        .expect("update");
    tokio::time::sleep(Duration::from_millis(500)).await;
    client.batch_execute("DELETE FROM t").await.expect("delete");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let values = loop {
        let values: Vec<String> = broker
            .consume_all("changes", 0, true)
            .into_iter()
            .map(|(_, v, _)| String::from_utf8_lossy(&v.unwrap_or_default()).to_string())
            .collect();
        if values.len() >= 3 || std::time::Instant::now() > deadline {
            break values;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        values,
        [
            r#"{"after":{"id":1,"v":"A"},"before":null}"#,
            r#"{"after":{"id":1,"v":"B"},"before":{"id":1,"v":"A"}}"#,
            r#"{"after":null,"before":{"id":1,"v":"B"}}"#,
        ]
    );
    assert_eq!(rows(&client, "SHOW SINKS").await, ["out"]);
    let e = sqlstate(
        &client,
        "CREATE SINK bad FROM t INTO KAFKA CONNECTION kafka (TOPIC 'x') FORMAT JSON ENVELOPE UPSERT",
    )
    .await;
    assert!(e.starts_with("42601 a Kafka sink needs KEY"), "{e}");
    let e = sqlstate(
        &client,
        "CREATE SINK bad FROM t INTO KAFKA CONNECTION kafka (TOPIC 'x') KEY (id) FORMAT AVRO ENVELOPE UPSERT",
    )
    .await;
    assert!(e.starts_with("0A000 sink FORMAT AVRO"), "{e}");
}

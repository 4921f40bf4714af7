//! From Kafka records to changes of a source's data and errors relations, by envelope.
//!
//! `Envelope::apply(record)` ⇒ updates appended to `Changes`:
//! - NONE: a decodable record ⇒ `(key ++ value ++ metadata, +1)`; an undecodable one ⇒
//!   `(error row, +1)`. Nothing is ever retracted.
//! - UPSERT: the key's previous row or error (if any) ⇒ `-1`; then a decodable value ⇒
//!   `(key ++ value ++ metadata, +1)`, an undecodable one ⇒ `(error row, +1)` attached to
//!   the key, a null value (tombstone) ⇒ nothing more. A record without a decodable key ⇒
//!   an error row attached to no key (never retracted).
//! - DEBEZIUM: as UPSERT, where the value is a Debezium change event whose `after` (under
//!   `payload` if present) is decoded as the value; a null `after` deletes like a
//!   tombstone.
//!
//! Invariant (UPSERT): `state` holds, per decoded key, exactly the row or error row that
//! the relations hold for it, so a retraction always cancels a row that is there. The
//! reader keeps the state in memory; on start it is rebuilt from the relations (`restore`).

use super::decode::{Decoder, json_fields};
use super::spec::{Envelope, Format, KafkaSourceSpec, Metadata};
use crate::repr::{Datum, Diff, Row};
use std::collections::HashMap;

/// One Kafka record, borrowed from the consumer.
pub struct Record<'a> {
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: Option<i64>,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
}

#[derive(Default)]
pub struct Changes {
    pub data: Vec<(Row, Diff)>,
    pub errors: Vec<(Row, Diff)>,
}

enum KeyState {
    Row(Row),
    Error(Row),
}

pub struct EnvelopeState {
    spec: KafkaSourceSpec,
    key_decoder: Option<Decoder>,
    value_decoder: Decoder,
    key_arity: usize,
    upsert: HashMap<Vec<Datum>, KeyState>,
}

impl EnvelopeState {
    pub fn new(spec: KafkaSourceSpec) -> EnvelopeState {
        EnvelopeState {
            key_arity: spec.key_columns().len(),
            key_decoder: spec.key.as_ref().map(|(f, _)| Decoder::new(f)),
            value_decoder: Decoder::new(&spec.value),
            spec,
            upsert: HashMap::new(),
        }
    }

    /// Rebuilds the UPSERT state from what the data and errors relations hold now.
    pub fn restore(&mut self, data: &[(Row, Diff)], errors: &[(Row, Diff)]) {
        if self.spec.envelope == Envelope::None {
            return;
        }
        for (row, diff) in data {
            if *diff > 0 {
                let key = row.iter().take(self.key_arity).cloned().collect();
                self.upsert.insert(key, KeyState::Row(row.clone()));
            }
        }
        for (row, diff) in errors {
            let Some(Datum::Bytes(raw)) = row.get(2) else {
                continue;
            };
            if *diff > 0
                && let Some(key) = self.decode_key(raw).ok()
            {
                self.upsert.insert(key, KeyState::Error(row.clone()));
            }
        }
    }

    /// Keys held (UPSERT): rows plus errors attached to keys.
    pub fn keys(&self) -> usize {
        self.upsert.len()
    }

    pub fn apply(&mut self, record: &Record, out: &mut Changes) {
        match self.spec.envelope {
            Envelope::None => self.apply_append(record, out),
            Envelope::Upsert | Envelope::Debezium => self.apply_upsert(record, out),
        }
    }

    fn apply_append(&mut self, record: &Record, out: &mut Changes) {
        let mut datums = Vec::new();
        if self.key_arity > 0 {
            match record.key {
                None => datums.extend(std::iter::repeat_n(Datum::Null, self.key_arity)),
                Some(raw) => match self.decode_key(raw) {
                    Ok(key) => datums.extend(key),
                    Err(e) => {
                        out.errors.push((error_row(record, format!("key: {e}")), 1));
                        return;
                    }
                },
            }
        }
        match self.decode_value(record) {
            Ok(value) => datums.extend(value),
            Err(e) => {
                out.errors.push((error_row(record, e), 1));
                return;
            }
        }
        self.push_metadata(record, &mut datums);
        out.data.push((Row::new(datums), 1));
    }

    fn apply_upsert(&mut self, record: &Record, out: &mut Changes) {
        let Some(raw) = record.key else {
            let e = "the record has no key (ENVELOPE UPSERT and DEBEZIUM need one)".to_string();
            out.errors.push((error_row(record, e), 1));
            return;
        };
        let key = match self.decode_key(raw) {
            Ok(key) if key.iter().any(Datum::is_null) => {
                out.errors
                    .push((error_row(record, "key: NULL in a key column".into()), 1));
                return;
            }
            Ok(key) => key,
            Err(e) => {
                out.errors.push((error_row(record, format!("key: {e}")), 1));
                return;
            }
        };
        match self.upsert.remove(&key) {
            Some(KeyState::Row(old)) => out.data.push((old, -1)),
            Some(KeyState::Error(old)) => out.errors.push((old, -1)),
            None => {}
        }
        let value = match (self.spec.envelope, record.value) {
            (_, None) => return,
            (Envelope::Debezium, Some(raw)) => match debezium_after(raw) {
                Ok(None) => return,
                Ok(Some(after)) => self.decode_after(&after),
                Err(e) => Err(e),
            },
            _ => self.decode_value(record),
        };
        match value {
            Ok(value) => {
                let mut datums = key.clone();
                datums.extend(value);
                self.push_metadata(record, &mut datums);
                let row = Row::new(datums);
                out.data.push((row.clone(), 1));
                self.upsert.insert(key, KeyState::Row(row));
            }
            Err(e) => {
                let row = error_row(record, e);
                out.errors.push((row.clone(), 1));
                self.upsert.insert(key, KeyState::Error(row));
            }
        }
    }

    fn decode_key(&self, raw: &[u8]) -> Result<Vec<Datum>, String> {
        match &self.key_decoder {
            Some(decoder) => decoder.decode(raw),
            None => Ok(vec![]),
        }
    }

    /// The value's datums; a null value is NULL in every value column.
    fn decode_value(&self, record: &Record) -> Result<Vec<Datum>, String> {
        match record.value {
            Some(raw) => self.value_decoder.decode(raw),
            None => Ok(vec![Datum::Null; self.spec.value_columns().len()]),
        }
    }

    /// A Debezium `after` image as the value's columns.
    fn decode_after(&self, after: &serde_json::Value) -> Result<Vec<Datum>, String> {
        match &self.spec.value {
            Format::Json {
                columns: Some(columns),
            } => json_fields(after, columns),
            Format::Json { columns: None } => {
                Ok(vec![Datum::Jsonb(crate::repr::Jsonb::from_value(after))])
            }
            _ => Err("ENVELOPE DEBEZIUM needs VALUE FORMAT JSON".into()),
        }
    }

    fn push_metadata(&self, record: &Record, datums: &mut Vec<Datum>) {
        for (what, _) in &self.spec.metadata {
            datums.push(match what {
                Metadata::Partition => Datum::Int32(record.partition),
                Metadata::Offset => Datum::Int64(record.offset),
                Metadata::Timestamp => record
                    .timestamp_ms
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .map_or(Datum::Null, Datum::TimestampTz),
            });
        }
    }
}

/// The `after` image of a Debezium change event (`None`: a delete), from the event itself or
/// its `payload` (Debezium's JSON converter with schemas).
fn debezium_after(raw: &[u8]) -> Result<Option<serde_json::Value>, String> {
    let event: serde_json::Value =
        serde_json::from_slice(raw).map_err(|e| format!("invalid JSON: {e}"))?;
    let body = match event.get("payload") {
        Some(p) if p.is_object() => p,
        _ => &event,
    };
    let serde_json::Value::Object(fields) = body else {
        return Err("a Debezium event must be a JSON object".into());
    };
    if !fields.contains_key("after") {
        return Err("a Debezium event needs an \"after\" field".into());
    }
    Ok(match &fields["after"] {
        serde_json::Value::Null => None,
        after => Some(after.clone()),
    })
}

fn error_row(record: &Record, error: String) -> Row {
    Row::new(vec![
        Datum::Int32(record.partition),
        Datum::Int64(record.offset),
        record.key.map_or(Datum::Null, |k| Datum::Bytes(k.to_vec())),
        Datum::String(error),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repr::GlobalId;
    use crate::storage::kafka::spec::Format;

    fn spec(envelope: Envelope) -> KafkaSourceSpec {
        KafkaSourceSpec {
            connection: GlobalId::User(1),
            topic: "t".into(),
            start_offsets: vec![],
            start_timestamp: None,
            key: Some((Format::Text, Some("key".into()))),
            value: Format::Text,
            value_column: "text".into(),
            metadata: vec![(Metadata::Offset, "offset".into())],
            envelope,
        }
    }

    fn record<'a>(offset: i64, key: Option<&'a [u8]>, value: Option<&'a [u8]>) -> Record<'a> {
        Record {
            partition: 0,
            offset,
            timestamp_ms: None,
            key,
            value,
        }
    }

    fn row(key: &str, value: &str, offset: i64) -> Row {
        Row::new(vec![
            Datum::string(key),
            Datum::string(value),
            Datum::Int64(offset),
        ])
    }

    #[test]
    fn upsert_replaces_then_deletes_a_key() {
        let mut state = EnvelopeState::new(spec(Envelope::Upsert));
        let mut out = Changes::default();
        state.apply(&record(0, Some(b"k"), Some(b"a")), &mut out);
        state.apply(&record(1, Some(b"k"), Some(b"b")), &mut out);
        state.apply(&record(2, Some(b"k"), None), &mut out);
        assert_eq!(
            out.data,
            vec![
                (row("k", "a", 0), 1),
                (row("k", "a", 0), -1),
                (row("k", "b", 1), 1),
                (row("k", "b", 1), -1)
            ]
        );
        assert_eq!(state.keys(), 0);
    }

    #[test]
    fn upsert_error_is_attached_to_its_key_and_cleared_by_the_next_good_value() {
        let mut state = EnvelopeState::new(spec(Envelope::Upsert));
        let mut out = Changes::default();
        state.apply(&record(0, Some(b"k"), Some(b"a")), &mut out);
        state.apply(&record(1, Some(b"k"), Some(&[0xff])), &mut out);
        assert_eq!(
            out.data,
            vec![(row("k", "a", 0), 1), (row("k", "a", 0), -1)]
        );
        assert_eq!(out.errors.len(), 1);
        let error = out.errors[0].0.clone();
        state.apply(&record(2, Some(b"k"), Some(b"c")), &mut out);
        assert_eq!(out.errors[1], (error, -1));
        assert_eq!(out.data[2], (row("k", "c", 2), 1));
        // A record without a key is an error of no key, never retracted.
        state.apply(&record(3, None, Some(b"x")), &mut out);
        assert_eq!(out.errors.len(), 3);
        assert_eq!(out.errors[2].1, 1);
    }

    #[test]
    fn debezium_applies_after_images_per_key() {
        let mut spec = spec(Envelope::Debezium);
        spec.value = Format::Json {
            columns: Some(vec![("id".into(), crate::repr::ScalarType::Int32)]),
        };
        spec.metadata = vec![];
        let mut state = EnvelopeState::new(spec);
        let mut out = Changes::default();
        let k = Some(&b"k"[..]);
        let create = br#"{"payload": {"before": null, "after": {"id": 1}, "op": "c"}}"#;
        let update = br#"{"before": {"id": 1}, "after": {"id": 2}, "op": "u"}"#;
        let delete = br#"{"before": {"id": 2}, "after": null, "op": "d"}"#;
        state.apply(&record(0, k, Some(create)), &mut out);
        state.apply(&record(1, k, Some(update)), &mut out);
        state.apply(&record(2, k, Some(delete)), &mut out);
        state.apply(&record(3, k, None), &mut out);
        let r = |id| Row::new(vec![Datum::string("k"), Datum::Int32(id)]);
        assert_eq!(out.data, vec![(r(1), 1), (r(1), -1), (r(2), 1), (r(2), -1)]);
        state.apply(&record(4, k, Some(br#"{"op": "c"}"#)), &mut out);
        assert_eq!(out.errors.len(), 1);
    }

    #[test]
    fn restore_rebuilds_upsert_state_from_the_relations() {
        let mut state = EnvelopeState::new(spec(Envelope::Upsert));
        let error = error_row(&record(5, Some(b"e"), Some(&[0xff])), "bad".into());
        state.restore(&[(row("k", "a", 0), 1)], &[(error.clone(), 1)]);
        let mut out = Changes::default();
        state.apply(&record(6, Some(b"k"), None), &mut out);
        state.apply(&record(7, Some(b"e"), Some(b"fine")), &mut out);
        assert_eq!(
            out.data,
            vec![(row("k", "a", 0), -1), (row("e", "fine", 7), 1)]
        );
        assert_eq!(out.errors, vec![(error, -1)]);
    }

    #[test]
    fn append_only_keeps_every_record_and_counts_bad_ones_as_errors() {
        let mut state = EnvelopeState::new(spec(Envelope::None));
        let mut out = Changes::default();
        state.apply(&record(0, Some(b"k"), Some(b"a")), &mut out);
        state.apply(&record(1, Some(b"k"), Some(b"a")), &mut out);
        state.apply(&record(2, None, Some(&[0xc3])), &mut out);
        assert_eq!(out.data, vec![(row("k", "a", 0), 1), (row("k", "a", 1), 1)]);
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].0.get(2), Some(&Datum::Null));
    }
}

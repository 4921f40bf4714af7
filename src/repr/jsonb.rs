//! `Jsonb`: a JSON document in PostgreSQL's canonical jsonb form.
//!
//! Stored as its canonical text: object keys de-duplicated (the last wins) and sorted as
//! PostgreSQL stores them (shorter keys first, then bytewise), printed with PostgreSQL's
//! spacing (`{"a": 1, "b": [1, 2]}`). Equal documents are therefore equal datums.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Jsonb(String);

impl Jsonb {
    /// Parses JSON text; `None` if it is not valid JSON.
    pub fn parse(text: &str) -> Option<Jsonb> {
        let value: Value = serde_json::from_str(text).ok()?;
        Some(Jsonb::from_value(&value))
    }

    pub fn from_value(value: &Value) -> Jsonb {
        let mut out = String::new();
        write_canonical(value, &mut out);
        Jsonb(out)
    }

    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| {
                a.len()
                    .cmp(&b.len())
                    .then_with(|| a.as_bytes().cmp(b.as_bytes()))
            });
            out.push('{');
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&Value::String((*key).clone()).to_string());
                out.push_str(": ");
                write_canonical(&map[*key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_shorter_first_and_spacing_matches_postgres() {
        let j = Jsonb::parse(r#"{"bb": [1,2], "a": {"y":1,"x":2}, "a": true}"#).unwrap();
        assert_eq!(j.as_str(), r#"{"a": true, "bb": [1, 2]}"#);
    }
}

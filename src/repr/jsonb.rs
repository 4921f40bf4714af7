//! `Jsonb`: a JSON document in PostgreSQL's canonical jsonb form.
//!
//! Stored as its canonical text (keys de-duplicated, last wins, and sorted the way
//! PostgreSQL prints them: shorter keys first, then bytewise), so that equal documents are
//! equal datums.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Jsonb(String);

impl Jsonb {
    /// Wraps text that is already canonical (as produced by `from_value`).
    pub fn from_canonical(text: String) -> Jsonb {
        Jsonb(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

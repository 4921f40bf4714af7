//! Load generators: synthetic data for demos, tests and benchmarks with no broker.
//!
//! A generator is a pure function of its spec and a tick number: `generate(spec, tick)` is
//! the rows each of its outputs gains at that tick, the same on every call. The coordinator
//! appends tick `k` when its time (`tick_time`) has come, together with the source's progress
//! (the number of ticks ingested) in one durable write, so a restart resumes exactly where
//! the data stopped and produces what an uninterrupted run would have.
//!
//! | file | generator | outputs |
//! |---|---|---|
//! | `counter.rs` | `COUNTER` | `counter bigint`: 1, 2, 3, ... one per tick |
//! | `clicks.rs` | `CLICKS` | web clicks: user, ip, url, status, latency, time |
//! | `auction.rs` | `AUCTION` | organizations, users, accounts, auctions, bids |
//! | `nexmark.rs` | `NEXMARK` | Nexmark's person, auction, bid |

mod auction;
mod clicks;
mod counter;
pub mod nexmark;

use crate::repr::{ColumnType, RelationDesc, Row, ScalarType};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GeneratorKind {
    Counter,
    Clicks,
    Auction,
    Nexmark,
}

/// Everything that determines a generator's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadGeneratorSpec {
    pub kind: GeneratorKind,
    /// `TICK INTERVAL`, default one second.
    pub tick_micros: i64,
    /// `SCALE FACTOR`, default 1: how much data each tick makes.
    pub scale_factor: u64,
    /// `UP TO n`: the generator stops after `n` ticks.
    pub up_to: Option<u64>,
    /// `AS OF n`: ticks before `n` are history, produced at once when the source starts.
    pub as_of: u64,
    /// `SEED`, default 0.
    pub seed: u64,
    /// When the source was created (microseconds since the epoch): tick `as_of` is due then.
    pub start_micros: i64,
}

/// One relation a generator feeds.
pub struct Output {
    pub name: &'static str,
    pub desc: RelationDesc,
}

impl GeneratorKind {
    pub fn parse(name: &str) -> Option<GeneratorKind> {
        Some(match name {
            "counter" => GeneratorKind::Counter,
            "clicks" => GeneratorKind::Clicks,
            "auction" => GeneratorKind::Auction,
            "nexmark" => GeneratorKind::Nexmark,
            _ => return None,
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            GeneratorKind::Counter => "COUNTER",
            GeneratorKind::Clicks => "CLICKS",
            GeneratorKind::Auction => "AUCTION",
            GeneratorKind::Nexmark => "NEXMARK",
        }
    }

    /// Whether it feeds several relations (created by `FOR ALL TABLES`).
    pub fn is_multi_output(&self) -> bool {
        matches!(self, GeneratorKind::Auction | GeneratorKind::Nexmark)
    }

    pub fn outputs(&self) -> Vec<Output> {
        match self {
            GeneratorKind::Counter => counter::outputs(),
            GeneratorKind::Clicks => clicks::outputs(),
            GeneratorKind::Auction => auction::outputs(),
            GeneratorKind::Nexmark => nexmark::outputs(),
        }
    }
}

impl LoadGeneratorSpec {
    /// When tick `tick` is due.
    pub fn tick_time(&self, tick: u64) -> DateTime<Utc> {
        let micros = self.start_micros + (tick as i64 - self.as_of as i64) * self.tick_micros;
        DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::UNIX_EPOCH)
    }

    /// The ticks due at `now`: every tick `< due_ticks(now)` is due (capped by `UP TO`).
    pub fn due_ticks(&self, now: DateTime<Utc>) -> u64 {
        let elapsed = now.timestamp_micros() - self.start_micros;
        let due = if elapsed < 0 {
            self.as_of
        } else {
            self.as_of + (elapsed / self.tick_micros) as u64 + 1
        };
        self.up_to.map_or(due, |n| due.min(n))
    }

    /// The rows each output gains at `tick`, in `outputs()` order.
    pub fn generate(&self, tick: u64) -> Vec<Vec<Row>> {
        match self.kind {
            GeneratorKind::Counter => counter::generate(self, tick),
            GeneratorKind::Clicks => clicks::generate(self, tick),
            GeneratorKind::Auction => auction::generate(self, tick),
            GeneratorKind::Nexmark => nexmark::generate(self, tick),
        }
    }

    /// A random number generator for `tick` (and `stream`, to draw independent sequences
    /// within a tick), the same for the same seed.
    fn rng(&self, tick: u64, stream: u64) -> rand_chacha::ChaCha8Rng {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(tick.wrapping_mul(16).wrapping_add(stream));
        rng
    }
}

/// The progress relation of a source: how many ticks it has ingested.
pub fn progress_desc() -> RelationDesc {
    relation(&["ticks"], vec![column(ScalarType::Int64)])
}

fn column(typ: ScalarType) -> ColumnType {
    ColumnType::new(typ, false)
}

/// A relation of non-NULL columns `names` of `types`.
fn relation(names: &[&str], types: Vec<ColumnType>) -> RelationDesc {
    RelationDesc::new(names.iter().map(|n| n.to_string()).collect(), types)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: GeneratorKind) -> LoadGeneratorSpec {
        LoadGeneratorSpec {
            kind,
            tick_micros: 1_000_000,
            scale_factor: 1,
            up_to: None,
            as_of: 0,
            seed: 7,
            start_micros: 1_700_000_000_000_000,
        }
    }

    #[test]
    fn every_generator_is_deterministic_and_matches_its_outputs() {
        for kind in [
            GeneratorKind::Counter,
            GeneratorKind::Clicks,
            GeneratorKind::Auction,
            GeneratorKind::Nexmark,
        ] {
            let s = spec(kind);
            for tick in [0, 1, 17] {
                let a = s.generate(tick);
                assert_eq!(a, s.generate(tick), "{kind:?} tick {tick}");
                let outputs = kind.outputs();
                assert_eq!(a.len(), outputs.len());
                for (rows, output) in a.iter().zip(&outputs) {
                    for row in rows {
                        assert_eq!(row.len(), output.desc.arity(), "{}", output.name);
                    }
                }
            }
        }
    }

    #[test]
    fn ticks_come_due_one_interval_apart_and_stop_at_up_to() {
        let mut s = spec(GeneratorKind::Counter);
        let start = s.tick_time(0);
        assert_eq!(s.due_ticks(start), 1);
        assert_eq!(
            s.due_ticks(start + chrono::Duration::milliseconds(2_500)),
            3
        );
        s.up_to = Some(2);
        assert_eq!(s.due_ticks(start + chrono::Duration::seconds(60)), 2);
        s.as_of = 10;
        s.up_to = None;
        assert_eq!(
            s.due_ticks(s.tick_time(10)),
            11,
            "ticks before AS OF are due at once"
        );
    }
}

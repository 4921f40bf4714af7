//! `Interval`: PostgreSQL's interval as months, days and microseconds, kept separate
//! because a month has no fixed number of days.

use serde::{Deserialize, Serialize};

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Interval {
    pub months: i32,
    pub days: i32,
    pub micros: i64,
}

impl Interval {
    pub const MICROS_PER_DAY: i64 = 86_400_000_000;

    pub fn new(months: i32, days: i32, micros: i64) -> Interval {
        Interval {
            months,
            days,
            micros,
        }
    }

    /// The interval as microseconds, counting a month as 30 days and a day as 24 hours:
    /// the key PostgreSQL uses to compare intervals (`'1 month' = '30 days'`).
    pub fn comparison_key(&self) -> i128 {
        (self.months as i128 * 30 + self.days as i128) * Self::MICROS_PER_DAY as i128
            + self.micros as i128
    }
}

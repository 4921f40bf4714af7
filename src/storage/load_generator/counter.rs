//! `COUNTER`: one row per tick, `counter = tick + 1`.

use super::{LoadGeneratorSpec, Output, column, relation};
use crate::repr::{Datum, Row, ScalarType};

pub fn outputs() -> Vec<Output> {
    vec![Output {
        name: "counter",
        desc: relation(&["counter"], vec![column(ScalarType::Int64)]),
    }]
}

pub fn generate(_spec: &LoadGeneratorSpec, tick: u64) -> Vec<Vec<Row>> {
    vec![vec![Row::new(vec![Datum::Int64(tick as i64 + 1)])]]
}

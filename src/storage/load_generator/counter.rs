//! `COUNTER`: one row per tick, `counter = tick + 1`.

use super::{LoadGeneratorSpec, Output, column};
use crate::repr::{Datum, RelationDesc, Row, ScalarType};

pub fn outputs() -> Vec<Output> {
    vec![Output {
        name: "counter",
        desc: RelationDesc::new(vec!["counter".into()], vec![column(ScalarType::Int64)]),
    }]
}

pub fn generate(_spec: &LoadGeneratorSpec, tick: u64) -> Vec<Vec<Row>> {
    vec![vec![Row::new(vec![Datum::Int64(tick as i64 + 1)])]]
}

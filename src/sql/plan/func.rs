//! PLACEHOLDER until the function registry lands (signatures only).
#![allow(unused)]
use crate::expr::{AggregateExpr, ScalarExpr};
use crate::repr::ScalarType;
use crate::sql::{PlanError, Result};

pub enum CastContext {
    Implicit,
    Assignment,
    Explicit,
}
pub fn plan_cast(
    expr: ScalarExpr,
    from: &ScalarType,
    to: &ScalarType,
    ccx: CastContext,
) -> Result<ScalarExpr> {
    todo!()
}
pub fn common_type(types: &[ScalarType], context: &str) -> Result<ScalarType> {
    todo!()
}
pub fn plan_binary_op(
    op: &str,
    left: (ScalarExpr, ScalarType),
    right: (ScalarExpr, ScalarType),
) -> Result<(ScalarExpr, ScalarType)> {
    todo!()
}
pub fn plan_unary_op(op: &str, expr: (ScalarExpr, ScalarType)) -> Result<(ScalarExpr, ScalarType)> {
    todo!()
}
pub fn plan_function(
    name: &str,
    args: Vec<(ScalarExpr, ScalarType)>,
) -> Result<(ScalarExpr, ScalarType)> {
    todo!()
}
pub struct AggregatePlan {
    pub aggregates: Vec<AggregateExpr>,
    pub finish: ScalarExpr,
    pub typ: ScalarType,
}
pub fn is_aggregate(name: &str) -> bool {
    todo!()
}
pub fn plan_aggregate(
    name: &str,
    args: Vec<(ScalarExpr, ScalarType)>,
    distinct: bool,
    order_by: Vec<(ScalarExpr, ScalarType, bool, bool)>,
) -> Result<AggregatePlan> {
    todo!()
}

//! `RelationExpr`: MIR relational operators. Each variant documents its output in terms
//! of its inputs' updates `(row, time, diff)`.

use super::{AggregateFunc, EvalError, ScalarExpr, TableFunc};
use crate::repr::{ColumnType, Diff, GlobalId, Row};
use serde::{Deserialize, Serialize};

/// A name bound by `Let`, visible in its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LocalId(pub u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Id {
    Global(GlobalId),
    Local(LocalId),
}

/// One aggregate of a `Reduce`: `func` over `expr` evaluated on each input row; with
/// `distinct`, each distinct non-NULL value counts once.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AggregateExpr {
    pub func: AggregateFunc,
    pub expr: ScalarExpr,
    pub distinct: bool,
}

/// One sort key of a `TopK` or of a result ordering.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ColumnOrder {
    pub column: usize,
    pub desc: bool,
    pub nulls_last: bool,
}

/// What a `LetRec` does after `rounds` rounds without reaching its fixed point: with `error`,
/// its result holds an error (as data); without, the bindings keep their values of round
/// `rounds` (Materialize's `RETURN AT RECURSION LIMIT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecursionLimit {
    pub rounds: u64,
    pub error: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RelationExpr {
    /// The given rows, all at the dataflow's start time; or an error at that time.
    Constant {
        rows: Result<Vec<(Row, Diff)>, EvalError>,
        typ: Vec<ColumnType>,
    },
    /// The collection named `id`: a table, materialized view, index or `Let` binding.
    Get { id: Id, typ: Vec<ColumnType> },
    /// `body`, where `Get(id)` means `value`.
    Let {
        id: LocalId,
        value: Box<RelationExpr>,
        body: Box<RelationExpr>,
    },
    /// Each `(row, t, d)` ⇒ `(row ++ [s1(row), s2(row ++ [s1]), ...], t, d)`: each scalar
    /// sees the columns appended before it. An error goes to the error collection.
    Map {
        input: Box<RelationExpr>,
        scalars: Vec<ScalarExpr>,
    },
    /// Each `(row, t, d)` ⇒ `(row, t, d)` when every predicate is true; dropped when one is
    /// false or NULL; an error when one errs.
    Filter {
        input: Box<RelationExpr>,
        predicates: Vec<ScalarExpr>,
    },
    /// Each `(row, t, d)` ⇒ `(row[outputs], t, d)`.
    Project {
        input: Box<RelationExpr>,
        outputs: Vec<usize>,
    },
    /// Each `(row, t, d)` ⇒ `(row ++ out, t, d)` for every `out` in `func(exprs(row))`.
    FlatMap {
        input: Box<RelationExpr>,
        func: TableFunc,
        exprs: Vec<ScalarExpr>,
    },
    /// The cross product of `inputs` (rows concatenated in input order, diffs multiplied)
    /// restricted to rows where every expression of each equivalence class is equal (and
    /// not NULL). Expressions refer to columns of the concatenated row.
    Join {
        inputs: Vec<RelationExpr>,
        equivalences: Vec<Vec<ScalarExpr>>,
    },
    /// Groups rows by `group_key` (expressions over the input) and outputs one row per
    /// non-empty group: `key ++ [aggregate values]`. With no key and no input rows, no row
    /// (the planner adds SQL's one-row-for-empty-input separately).
    Reduce {
        input: Box<RelationExpr>,
        group_key: Vec<ScalarExpr>,
        aggregates: Vec<AggregateExpr>,
    },
    /// Per group of `group_key` columns, the rows ranked `offset .. offset + limit` under
    /// `order_key` (ties broken by the whole row, so the result is deterministic).
    TopK {
        input: Box<RelationExpr>,
        group_key: Vec<usize>,
        order_key: Vec<ColumnOrder>,
        limit: Option<usize>,
        offset: usize,
    },
    /// Each `(row, t, d)` ⇒ `(row, t, -d)`.
    Negate { input: Box<RelationExpr> },
    /// Keeps rows whose accumulated count is positive, with that count.
    Threshold { input: Box<RelationExpr> },
    /// All updates of all inputs.
    Union {
        base: Box<RelationExpr>,
        inputs: Vec<RelationExpr>,
    },
    /// The input, also arranged by each key (a list of expressions).
    ArrangeBy {
        input: Box<RelationExpr>,
        keys: Vec<Vec<ScalarExpr>>,
    },
    /// Mutually recursive bindings: in `values` and in `body`, `Get(ids[i])` means the fixed
    /// point of `values[i]`. Every binding starts empty; each round computes every value from
    /// the bindings of the previous round, until a round changes nothing. With `limit`, at
    /// most `limit.rounds` rounds run (see [`RecursionLimit`]). At each time `t`, the output
    /// is `body` over the bindings' fixed point of the inputs at `t`; a change at `t` is
    /// carried through the rounds again from the previous fixed point.
    /// (Last, so that the encoding of stored plans keeps its variant numbers.)
    LetRec {
        ids: Vec<LocalId>,
        values: Vec<RelationExpr>,
        limit: Option<RecursionLimit>,
        body: Box<RelationExpr>,
    },
}

impl RelationExpr {
    pub fn arity(&self) -> usize {
        self.typ().len()
    }

    /// The column types of the output.
    pub fn typ(&self) -> Vec<ColumnType> {
        match self {
            RelationExpr::Constant { typ, .. } | RelationExpr::Get { typ, .. } => typ.clone(),
            RelationExpr::Let { body, .. } | RelationExpr::LetRec { body, .. } => body.typ(),
            RelationExpr::Map { input, scalars } => {
                let mut typ = input.typ();
                for scalar in scalars {
                    let column = scalar.typ(&typ);
                    typ.push(column);
                }
                typ
            }
            RelationExpr::Filter { input, .. }
            | RelationExpr::TopK { input, .. }
            | RelationExpr::Negate { input }
            | RelationExpr::Threshold { input }
            | RelationExpr::ArrangeBy { input, .. } => input.typ(),
            RelationExpr::Project { input, outputs } => {
                let typ = input.typ();
                outputs.iter().map(|c| typ[*c].clone()).collect()
            }
            RelationExpr::FlatMap {
                input, func, exprs, ..
            } => {
                let mut typ = input.typ();
                let arg_types: Vec<ColumnType> = exprs.iter().map(|e| e.typ(&typ)).collect();
                typ.extend(func.output_type(&arg_types));
                typ
            }
            RelationExpr::Join { inputs, .. } => inputs.iter().flat_map(|i| i.typ()).collect(),
            RelationExpr::Reduce {
                input,
                group_key,
                aggregates,
            } => {
                let input_typ = input.typ();
                let mut typ: Vec<ColumnType> =
                    group_key.iter().map(|k| k.typ(&input_typ)).collect();
                for agg in aggregates {
                    let arg = agg.expr.typ(&input_typ);
                    typ.push(agg.func.output_type(&arg));
                }
                typ
            }
            RelationExpr::Union { base, inputs } => {
                let mut typ = base.typ();
                for input in inputs {
                    for (t, other) in typ.iter_mut().zip(input.typ()) {
                        t.nullable |= other.nullable;
                    }
                }
                typ
            }
        }
    }

    // Constructors in builder style, so that lowering code reads as a pipeline.

    pub fn constant(rows: Vec<Row>, typ: Vec<ColumnType>) -> RelationExpr {
        RelationExpr::Constant {
            rows: Ok(rows.into_iter().map(|r| (r, 1)).collect()),
            typ,
        }
    }

    pub fn global_get(id: GlobalId, typ: Vec<ColumnType>) -> RelationExpr {
        RelationExpr::Get {
            id: Id::Global(id),
            typ,
        }
    }

    pub fn map(self, scalars: Vec<ScalarExpr>) -> RelationExpr {
        if scalars.is_empty() {
            return self;
        }
        RelationExpr::Map {
            input: Box::new(self),
            scalars,
        }
    }

    pub fn filter(self, predicates: Vec<ScalarExpr>) -> RelationExpr {
        if predicates.is_empty() {
            return self;
        }
        RelationExpr::Filter {
            input: Box::new(self),
            predicates,
        }
    }

    pub fn project(self, outputs: Vec<usize>) -> RelationExpr {
        RelationExpr::Project {
            input: Box::new(self),
            outputs,
        }
    }

    pub fn negate(self) -> RelationExpr {
        RelationExpr::Negate {
            input: Box::new(self),
        }
    }

    pub fn threshold(self) -> RelationExpr {
        RelationExpr::Threshold {
            input: Box::new(self),
        }
    }

    pub fn union(self, other: RelationExpr) -> RelationExpr {
        RelationExpr::Union {
            base: Box::new(self),
            inputs: vec![other],
        }
    }

    /// Distinct rows: a `Reduce` keyed by every column with no aggregates.
    pub fn distinct(self) -> RelationExpr {
        let arity = self.arity();
        RelationExpr::Reduce {
            input: Box::new(self),
            group_key: (0..arity).map(ScalarExpr::Column).collect(),
            aggregates: vec![],
        }
    }

    pub fn join(inputs: Vec<RelationExpr>, equivalences: Vec<Vec<ScalarExpr>>) -> RelationExpr {
        RelationExpr::Join {
            inputs,
            equivalences,
        }
    }

    /// Every `RelationExpr` directly below this one.
    pub fn children(&self) -> Vec<&RelationExpr> {
        match self {
            RelationExpr::Constant { .. } | RelationExpr::Get { .. } => vec![],
            RelationExpr::Let { value, body, .. } => vec![value, body],
            RelationExpr::LetRec { values, body, .. } => values
                .iter()
                .chain(std::iter::once(body.as_ref()))
                .collect(),
            RelationExpr::Map { input, .. }
            | RelationExpr::Filter { input, .. }
            | RelationExpr::Project { input, .. }
            | RelationExpr::FlatMap { input, .. }
            | RelationExpr::Reduce { input, .. }
            | RelationExpr::TopK { input, .. }
            | RelationExpr::Negate { input }
            | RelationExpr::Threshold { input }
            | RelationExpr::ArrangeBy { input, .. } => vec![input],
            RelationExpr::Join { inputs, .. } => inputs.iter().collect(),
            RelationExpr::Union { base, inputs } => std::iter::once(base.as_ref())
                .chain(inputs.iter())
                .collect(),
        }
    }

    /// Every `RelationExpr` directly below this one, mutably.
    pub fn children_mut(&mut self) -> Vec<&mut RelationExpr> {
        match self {
            RelationExpr::Constant { .. } | RelationExpr::Get { .. } => vec![],
            RelationExpr::Let { value, body, .. } => vec![value, body],
            RelationExpr::LetRec { values, body, .. } => values
                .iter_mut()
                .chain(std::iter::once(body.as_mut()))
                .collect(),
            RelationExpr::Map { input, .. }
            | RelationExpr::Filter { input, .. }
            | RelationExpr::Project { input, .. }
            | RelationExpr::FlatMap { input, .. }
            | RelationExpr::Reduce { input, .. }
            | RelationExpr::TopK { input, .. }
            | RelationExpr::Negate { input }
            | RelationExpr::Threshold { input }
            | RelationExpr::ArrangeBy { input, .. } => vec![input],
            RelationExpr::Join { inputs, .. } => inputs.iter_mut().collect(),
            RelationExpr::Union { base, inputs } => std::iter::once(base.as_mut())
                .chain(inputs.iter_mut())
                .collect(),
        }
    }

    /// Whether a filter anywhere in this expression compares with `mz_now()` (a temporal
    /// filter: its result changes as time passes, with no write).
    pub fn contains_temporal_filter(&self) -> bool {
        let mut stack = vec![self];
        while let Some(expr) = stack.pop() {
            if let RelationExpr::Filter { predicates, .. } = expr
                && predicates.iter().any(super::ScalarExpr::contains_mz_now)
            {
                return true;
            }
            stack.extend(expr.children());
        }
        false
    }

    /// Every global id this expression reads.
    pub fn global_ids(&self) -> std::collections::BTreeSet<GlobalId> {
        let mut out = std::collections::BTreeSet::new();
        let mut stack = vec![self];
        while let Some(expr) = stack.pop() {
            if let RelationExpr::Get {
                id: Id::Global(id), ..
            } = expr
            {
                out.insert(*id);
            }
            stack.extend(expr.children());
        }
        out
    }
}

//! `WITH RECURSIVE`: a CTE that reads itself, planned as a `LetRec` binding.
//!
//! `r AS (base UNION [ALL] step)` becomes the binding `r = base ∪ step(r)` (made distinct for
//! UNION). PostgreSQL evaluates it with a working table: each round runs `step` over the rows
//! the previous round added. The `LetRec` instead iterates `r` to a fixed point. The two agree
//! when `step` is linear in `r`: it reads `r` once, and each row of `r` contributes to its
//! output independently of the others. PostgreSQL's own rules enforce most of that, with the
//! same messages and SQLSTATE 42P19: `r` read at most once, not in a subquery, not on the
//! NULL-filled side of an outer join, no aggregate over it. PostgreSQL also allows DISTINCT
//! and GROUP BY in the step of a UNION ALL, and INTERSECT / EXCEPT with `r` on their left.
//! Those apply to each round's rows alone, which a fixed point cannot express, so they are
//! refused with 0A000 (DISTINCT and GROUP BY only under UNION ALL: under UNION the result is
//! a set, and they change nothing).
//!
//! A query that never reaches a fixed point (a UNION ALL over a cycle, say, which runs
//! forever in PostgreSQL) raises an error after [`DEFAULT_ROUNDS`] rounds.

use super::context::{CteBinding, LetBinding, StatementContext};
use super::expr::normalize_ident;
use super::func::{self, CastContext};
use super::query::{self, Outer};
use crate::expr::{Id, LocalId, RecursionLimit, RelationExpr, ScalarExpr};
use crate::repr::{ColumnType, ScalarType};
use crate::sql::{PlanError, Result};
use sqlparser::ast::{self, SetExpr, SetOperator, SetQuantifier, Visit, Visitor};
use std::collections::BTreeSet;
use std::ops::ControlFlow;

/// Rounds a recursive CTE may take before it fails: far more than any terminating recursion
/// over realistic data needs (each round follows one more step of the recursion), few enough
/// that a runaway one fails in seconds instead of growing without end.
pub const DEFAULT_ROUNDS: u64 = 10_000;

/// Plans the CTEs of a `WITH RECURSIVE`: each that reads itself becomes a `LetRec` binding,
/// the others ordinary ones. Each becomes visible to the CTEs after it and to the query.
pub fn plan_recursive_ctes(
    scx: &StatementContext,
    with: &ast::With,
    now_is_constant: bool,
) -> Result<()> {
    if let Some(first) = with.cte_tables.first()
        && let Some(limit) = first
            .alias
            .name
            .value
            .strip_prefix(crate::sql::parse::MUTUALLY_RECURSIVE_MARKER)
    {
        let limit = mutually_recursive_limit(limit.trim())?;
        return plan_mutually_recursive(scx, &with.cte_tables[1..], limit, now_is_constant);
    }
    for cte in &with.cte_tables {
        let name = normalize_ident(&cte.alias.name);
        if count_references(&*cte.query, &name) == 0 {
            query::plan_cte(scx, cte, now_is_constant)?;
            continue;
        }
        plan_recursive_cte(scx, cte, &name, now_is_constant)?;
    }
    Ok(())
}

/// The limit written in `WITH MUTUALLY RECURSIVE (...)`, as the parser's marker carries it.
fn mutually_recursive_limit(marker: &str) -> Result<RecursionLimit> {
    let parse_rounds = |n: &str| {
        n.parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| PlanError::InvalidParameter(format!("invalid recursion limit {n}")))
    };
    match marker.split_once(' ') {
        Some(("return", n)) => Ok(RecursionLimit {
            rounds: parse_rounds(n)?,
            error: false,
        }),
        Some(("error", n)) => Ok(RecursionLimit {
            rounds: parse_rounds(n)?,
            error: true,
        }),
        _ => Ok(RecursionLimit {
            rounds: DEFAULT_ROUNDS,
            error: true,
        }),
    }
}

/// Materialize's `WITH MUTUALLY RECURSIVE`: every CTE sees every other and itself, with the
/// column types it declares; all start empty and are iterated together to their fixed
/// point (a `LetRec` of all of them). Unlike WITH RECURSIVE, any query shape is allowed.
fn plan_mutually_recursive(
    scx: &StatementContext,
    ctes: &[ast::Cte],
    limit: RecursionLimit,
    now_is_constant: bool,
) -> Result<()> {
    let mut ids = Vec::with_capacity(ctes.len());
    let mut declared = Vec::with_capacity(ctes.len());
    for cte in ctes {
        let name = normalize_ident(&cte.alias.name);
        if cte.alias.columns.is_empty() {
            return Err(PlanError::Syntax(format!(
                "WITH MUTUALLY RECURSIVE query \"{name}\" must declare its columns and their types"
            )));
        }
        let mut names = Vec::with_capacity(cte.alias.columns.len());
        let mut types = Vec::with_capacity(cte.alias.columns.len());
        for column in &cte.alias.columns {
            let Some(data_type) = &column.data_type else {
                return Err(PlanError::Syntax(format!(
                    "WITH MUTUALLY RECURSIVE query \"{name}\" must declare the type of column \"{}\"",
                    normalize_ident(&column.name)
                )));
            };
            names.push(normalize_ident(&column.name));
            types.push(ColumnType::new(
                super::types::scalar_type_from_sql(data_type)?,
                true,
            ));
        }
        let id = scx.fresh_local();
        scx.ctes.borrow_mut().push(CteBinding {
            name: name.clone(),
            id,
            names,
            types: types.clone(),
        });
        ids.push(id);
        declared.push((name, types));
    }
    let mut values = Vec::with_capacity(ctes.len());
    for (cte, (name, types)) in ctes.iter().zip(&declared) {
        let lets_before = scx.lets.borrow().len();
        let planned = query::plan_query(scx, &cte.query, &Outer::none(), now_is_constant);
        let lets: Vec<LetBinding> = scx.lets.borrow_mut().drain(lets_before..).collect();
        let value = planned?.into_relation();
        if lets.iter().any(|b| matches!(b, LetBinding::Rec { .. })) {
            return Err(PlanError::unsupported(
                "a recursive query inside WITH MUTUALLY RECURSIVE",
            ));
        }
        let value = coerce_declared(value, types, name)?;
        values.push(LetBinding::wrap(lets, value));
    }
    scx.lets.borrow_mut().push(LetBinding::Rec {
        ids,
        values,
        limit: Some(limit),
    });
    Ok(())
}

/// A WITH MUTUALLY RECURSIVE query's rows as its declared types: untyped literals are cast,
/// any other difference is an error, as in Materialize.
fn coerce_declared(value: RelationExpr, types: &[ColumnType], name: &str) -> Result<RelationExpr> {
    let have = value.typ();
    let mismatch = || {
        let list = |ts: &mut dyn Iterator<Item = &ScalarType>| {
            ts.map(ScalarType::sql_name).collect::<Vec<_>>().join(", ")
        };
        PlanError::DatatypeMismatch(format!(
            "WITH MUTUALLY RECURSIVE query \"{name}\" declared types ({}), but query returns types ({})",
            list(&mut types.iter().map(|t| &t.scalar_type)),
            list(&mut have.iter().map(|t| &t.scalar_type)),
        ))
    };
    if have.len() != types.len() {
        return Err(mismatch());
    }
    let arity = have.len();
    let mut casts = Vec::with_capacity(arity);
    for (c, (h, want)) in have.iter().zip(types).enumerate() {
        if h.scalar_type == want.scalar_type {
            casts.push(ScalarExpr::Column(c));
        } else if h.scalar_type == ScalarType::Unknown {
            casts.push(func::plan_cast(
                ScalarExpr::Column(c),
                &h.scalar_type,
                &want.scalar_type,
                CastContext::Implicit,
            )?);
        } else {
            return Err(mismatch());
        }
    }
    Ok(query::recast(value, 0, casts))
}

fn invalid(message: String) -> PlanError {
    PlanError::InvalidRecursion(message)
}

fn plan_recursive_cte(
    scx: &StatementContext,
    cte: &ast::Cte,
    name: &str,
    now_is_constant: bool,
) -> Result<()> {
    let q = &cte.query;
    if q.order_by.is_some() {
        return Err(PlanError::unsupported("ORDER BY in a recursive query"));
    }
    if q.limit_clause.is_some() || q.fetch.is_some() {
        return Err(PlanError::unsupported(
            "LIMIT or OFFSET in a recursive query",
        ));
    }
    if q.with.is_some() {
        return Err(PlanError::unsupported("WITH inside a recursive query"));
    }
    let SetExpr::SetOperation {
        op: SetOperator::Union,
        set_quantifier,
        left,
        right,
    } = q.body.as_ref()
    else {
        return Err(invalid(format!(
            "recursive query \"{name}\" does not have the form non-recursive-term UNION [ALL] \
             recursive-term"
        )));
    };
    let union_all = match set_quantifier {
        SetQuantifier::All => true,
        SetQuantifier::None | SetQuantifier::Distinct => false,
        other => return Err(PlanError::unsupported(format!("UNION {other}"))),
    };
    if count_references(&**left, name) > 0 {
        return Err(invalid(format!(
            "recursive reference to query \"{name}\" must not appear within its non-recursive \
             term"
        )));
    }
    check_recursive_term(right, name, union_all)?;

    // The non-recursive term fixes the columns' names and types.
    let (base, scope) = query::plan_set_expr(scx, left, &Outer::none(), now_is_constant)?;
    let mut names: Vec<String> = scope.items.iter().map(|i| i.column.clone()).collect();
    if cte.alias.columns.len() > names.len() {
        return Err(PlanError::Syntax(format!(
            "WITH query \"{name}\" has {} columns available but {} columns specified",
            names.len(),
            cte.alias.columns.len()
        )));
    }
    for (i, column) in cte.alias.columns.iter().enumerate() {
        names[i] = normalize_ident(&column.name);
    }
    // Untyped literals there are text, as PostgreSQL resolves them.
    let base = unknown_as_text(base)?;
    let base_types: Vec<ColumnType> = base
        .typ()
        .into_iter()
        .map(|t| ColumnType::new(t.scalar_type, true))
        .collect();
    let base = scx.bind(base);

    let id = scx.fresh_local();
    scx.ctes.borrow_mut().push(CteBinding {
        name: name.to_string(),
        id,
        names,
        types: base_types.clone(),
    });
    // Bindings the step makes read `r`: they belong inside the recursion.
    let lets_before = scx.lets.borrow().len();
    let step = query::plan_set_expr(scx, right, &Outer::none(), now_is_constant);
    let step_lets: Vec<LetBinding> = scx.lets.borrow_mut().drain(lets_before..).collect();
    let (step, _) = step?;
    if step_lets
        .iter()
        .any(|b| matches!(b, LetBinding::Rec { .. }))
    {
        return Err(PlanError::unsupported(
            "WITH RECURSIVE inside the recursive term of another",
        ));
    }
    let step = LetBinding::wrap(step_lets, step);
    check_no_aggregate_over(&step, id)?;
    let step = coerce_step(step, &base_types, name)?;
    let value = base.union(step);
    let value = if union_all { value } else { value.distinct() };
    scx.lets.borrow_mut().push(LetBinding::Rec {
        ids: vec![id],
        values: vec![value],
        limit: Some(RecursionLimit {
            rounds: DEFAULT_ROUNDS,
            error: true,
        }),
    });
    Ok(())
}

/// `rel` with its columns of unknown type (untyped literals) cast to text.
fn unknown_as_text(rel: RelationExpr) -> Result<RelationExpr> {
    let casts = rel
        .typ()
        .iter()
        .enumerate()
        .map(|(c, t)| match t.scalar_type {
            ScalarType::Unknown => func::plan_cast(
                ScalarExpr::Column(c),
                &t.scalar_type,
                &ScalarType::String,
                CastContext::Implicit,
            ),
            _ => Ok(ScalarExpr::Column(c)),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(query::recast(rel, 0, casts))
}

/// Casts the step's columns to the non-recursive term's types where PostgreSQL would (an
/// untyped NULL or literal); any other difference is PostgreSQL's 42804 error.
fn coerce_step(step: RelationExpr, types: &[ColumnType], name: &str) -> Result<RelationExpr> {
    let step_types = step.typ();
    if step_types.len() != types.len() {
        return Err(PlanError::Syntax(
            "each UNION query must have the same number of columns".into(),
        ));
    }
    let arity = step_types.len();
    let mut casts = Vec::with_capacity(arity);
    for (c, (have, want)) in step_types.iter().zip(types).enumerate() {
        if have.scalar_type == want.scalar_type {
            casts.push(ScalarExpr::Column(c));
            continue;
        }
        if have.scalar_type != ScalarType::Unknown {
            return Err(PlanError::DatatypeMismatch(format!(
                "recursive query \"{name}\" column {} has type {} in non-recursive term but \
                 type {} overall",
                c + 1,
                want.scalar_type.sql_name(),
                func::common_type(
                    &[want.scalar_type.clone(), have.scalar_type.clone()],
                    "UNION"
                )
                .map(|t| t.sql_name())
                .unwrap_or_else(|_| have.scalar_type.sql_name())
            )));
        }
        casts.push(func::plan_cast(
            ScalarExpr::Column(c),
            &have.scalar_type,
            &want.scalar_type,
            CastContext::Implicit,
        )?);
    }
    Ok(query::recast(step, 0, casts))
}

/// PostgreSQL's "aggregate functions are not allowed in a recursive query's recursive term":
/// a `Reduce` with aggregates over anything that reads `id`, directly or through `Let`s.
fn check_no_aggregate_over(step: &RelationExpr, id: LocalId) -> Result<()> {
    fn reads(expr: &RelationExpr, ids: &BTreeSet<LocalId>) -> bool {
        match expr {
            RelationExpr::Get {
                id: Id::Local(l), ..
            } => ids.contains(l),
            other => other.children().into_iter().any(|c| reads(c, ids)),
        }
    }
    fn walk(expr: &RelationExpr, ids: &mut BTreeSet<LocalId>) -> Result<()> {
        match expr {
            RelationExpr::Let { id, value, body } => {
                walk(value, ids)?;
                if reads(value, ids) {
                    ids.insert(*id);
                }
                walk(body, ids)
            }
            RelationExpr::Reduce {
                input, aggregates, ..
            } if !aggregates.is_empty() && reads(input, ids) => Err(invalid(
                "aggregate functions are not allowed in a recursive query's recursive term".into(),
            )),
            other => other.children().into_iter().try_for_each(|c| walk(c, ids)),
        }
    }
    walk(step, &mut BTreeSet::from([id]))
}

/// PostgreSQL's checks on where the recursive term may read `name`, and ours on DISTINCT and
/// GROUP BY under UNION ALL (see the module docs).
fn check_recursive_term(term: &SetExpr, name: &str, union_all: bool) -> Result<()> {
    let mut visitor = TermChecker {
        name,
        references: 0,
        subquery_depth: 0,
        in_subquery: false,
        set_operation: None,
        distinct_or_group: false,
    };
    let _ = term.visit(&mut visitor);
    if visitor.in_subquery {
        return Err(invalid(format!(
            "recursive reference to query \"{name}\" must not appear within a subquery"
        )));
    }
    if visitor.references > 1 {
        return Err(invalid(format!(
            "recursive reference to query \"{name}\" must not appear more than once"
        )));
    }
    if let Some(op) = visitor.set_operation {
        return Err(PlanError::unsupported(format!(
            "{op} over the recursive reference to query \"{name}\""
        )));
    }
    check_outer_joins(term, name)?;
    if union_all && visitor.distinct_or_group {
        return Err(PlanError::unsupported(
            "DISTINCT or GROUP BY in the recursive term of WITH RECURSIVE ... UNION ALL (use \
             UNION)",
        ));
    }
    Ok(())
}

struct TermChecker<'a> {
    name: &'a str,
    references: usize,
    /// Expression subqueries (scalar, EXISTS, IN) being visited.
    subquery_depth: usize,
    in_subquery: bool,
    /// INTERSECT or EXCEPT over the reference.
    set_operation: Option<&'static str>,
    distinct_or_group: bool,
}

fn is_subquery(expr: &ast::Expr) -> bool {
    matches!(
        expr,
        ast::Expr::Subquery(_)
            | ast::Expr::Exists { .. }
            | ast::Expr::In {
                target: ast::InTarget::Subquery(_),
                ..
            }
    )
}

impl Visitor for TermChecker<'_> {
    type Break = ();

    fn pre_visit_relation(&mut self, relation: &ast::ObjectName) -> ControlFlow<()> {
        if names_cte(relation, self.name) {
            self.references += 1;
            if self.subquery_depth > 0 {
                self.in_subquery = true;
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &ast::Expr) -> ControlFlow<()> {
        if is_subquery(expr) {
            self.subquery_depth += 1;
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &ast::Expr) -> ControlFlow<()> {
        if is_subquery(expr) {
            self.subquery_depth -= 1;
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &ast::Query) -> ControlFlow<()> {
        if let SetExpr::SetOperation { op, .. } = query.body.as_ref() {
            self.note_set_operation(op, &query.body);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &ast::Select) -> ControlFlow<()> {
        let grouped = match &select.group_by {
            ast::GroupByExpr::All(_) => true,
            ast::GroupByExpr::Expressions(exprs, _) => !exprs.is_empty(),
        };
        if select.distinct.is_some() || grouped {
            self.distinct_or_group = true;
        }
        ControlFlow::Continue(())
    }
}

impl TermChecker<'_> {
    fn note_set_operation(&mut self, op: &SetOperator, body: &SetExpr) {
        let op = match op {
            SetOperator::Intersect => "INTERSECT",
            SetOperator::Except | SetOperator::Minus => "EXCEPT",
            _ => return,
        };
        if count_references(body, self.name) > 0 {
            self.set_operation = Some(op);
        }
    }
}

/// Whether `relation` is an unqualified reference to the CTE `name`.
fn names_cte(relation: &ast::ObjectName, name: &str) -> bool {
    match relation.0.as_slice() {
        [part] => part
            .as_ident()
            .is_some_and(|ident| normalize_ident(ident) == name),
        _ => false,
    }
}

/// How many times `node` names the CTE `name` as a relation.
fn count_references<V: Visit + ?Sized>(node: &V, name: &str) -> usize {
    struct Counter<'a> {
        name: &'a str,
        count: usize,
    }
    impl Visitor for Counter<'_> {
        type Break = ();
        fn pre_visit_relation(&mut self, relation: &ast::ObjectName) -> ControlFlow<()> {
            if names_cte(relation, self.name) {
                self.count += 1;
            }
            ControlFlow::Continue(())
        }
    }
    let mut counter = Counter { name, count: 0 };
    let _ = node.visit(&mut counter);
    counter.count
}

/// PostgreSQL's "must not appear within an outer join": the reference may not be on a side
/// an outer join fills with NULLs.
fn check_outer_joins(term: &SetExpr, name: &str) -> Result<()> {
    let mut selects = Vec::new();
    collect_selects(term, &mut selects);
    for select in selects {
        for from in &select.from {
            check_joins(from, name)?;
        }
    }
    Ok(())
}

fn check_joins(from: &ast::TableWithJoins, name: &str) -> Result<()> {
    let mut before = count_references(&from.relation, name);
    for join in &from.joins {
        let here = count_references(&join.relation, name);
        let (left_nullable, right_nullable) = match &join.join_operator {
            ast::JoinOperator::Left(_) | ast::JoinOperator::LeftOuter(_) => (false, true),
            ast::JoinOperator::Right(_) | ast::JoinOperator::RightOuter(_) => (true, false),
            ast::JoinOperator::FullOuter(_) => (true, true),
            _ => (false, false),
        };
        if (left_nullable && before > 0) || (right_nullable && here > 0) {
            return Err(invalid(format!(
                "recursive reference to query \"{name}\" must not appear within an outer join"
            )));
        }
        before += here;
    }
    for factor in std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation)) {
        if let ast::TableFactor::NestedJoin {
            table_with_joins, ..
        } = factor
        {
            check_joins(table_with_joins, name)?;
        }
    }
    Ok(())
}

/// Every SELECT in `body`, including those of derived tables and nested joins.
fn collect_selects<'a>(body: &'a SetExpr, out: &mut Vec<&'a ast::Select>) {
    match body {
        SetExpr::Select(select) => {
            out.push(select);
            for from in &select.from {
                collect_factor_selects(&from.relation, out);
                for join in &from.joins {
                    collect_factor_selects(&join.relation, out);
                }
            }
        }
        SetExpr::Query(query) => collect_selects(&query.body, out),
        SetExpr::SetOperation { left, right, .. } => {
            collect_selects(left, out);
            collect_selects(right, out);
        }
        _ => {}
    }
}

fn collect_factor_selects<'a>(factor: &'a ast::TableFactor, out: &mut Vec<&'a ast::Select>) {
    match factor {
        ast::TableFactor::Derived { subquery, .. } => collect_selects(&subquery.body, out),
        ast::TableFactor::NestedJoin {
            table_with_joins, ..
        } => {
            collect_factor_selects(&table_with_joins.relation, out);
            for join in &table_with_joins.joins {
                collect_factor_selects(&join.relation, out);
            }
        }
        _ => {}
    }
}

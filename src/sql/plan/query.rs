//! Planning queries (SELECT, set operations, VALUES, WITH) into MIR.
//!
//! Every query is planned against an `Outer`: the distinct rows of the outer columns it may
//! reference (for a top-level query, one empty row). The planned relation's columns are
//! `prefix ++ outputs` where `prefix` are those outer columns; grouping, DISTINCT, set
//! operations and LIMIT all act per prefix, which is what makes correlated subqueries correct
//! when the caller joins the result back on the prefix (see `expr.rs`).

use super::context::{CteBinding, LetBinding, StatementContext};
use super::expr::{ExprContext, Grouping, normalize_ident, normalize_name};
use super::func::{self, CastContext};
use super::scope::Scope;
use crate::catalog::CatalogItem;
use crate::expr::{AggregateExpr, AggregateFunc, ColumnOrder, Id, RelationExpr, ScalarExpr};
use crate::repr::{ColumnType, Datum, Row, ScalarType};
use crate::sql::{PlanError, Result};
use sqlparser::ast::{self, Expr, SelectItem, SetExpr, SetOperator, SetQuantifier};

/// The outer columns a query may reference: `rel` holds their distinct values, `scope`
/// names them (at levels >= 1).
pub struct Outer {
    pub rel: RelationExpr,
    pub scope: Scope,
}

impl Outer {
    /// The outer context of a top-level query: no columns, one row.
    pub fn none() -> Outer {
        Outer {
            rel: RelationExpr::constant(vec![Row::empty()], vec![]),
            scope: Scope::default(),
        }
    }

    pub fn arity(&self) -> usize {
        self.scope.len()
    }
}

/// What remains to do with a top-level query's rows after the dataflow: sort, skip, limit,
/// and drop the columns that were only there to sort by.
#[derive(Clone, Debug, Default)]
pub struct Finishing {
    pub order_by: Vec<ColumnOrder>,
    pub limit: Option<usize>,
    pub offset: usize,
    /// The output columns, in order (the rest are sort-only columns).
    pub project: Vec<usize>,
}

impl Finishing {
    pub fn is_trivial(&self, arity: usize) -> bool {
        self.order_by.is_empty()
            && self.limit.is_none()
            && self.offset == 0
            && self.project == (0..arity).collect::<Vec<_>>()
    }
}

/// A planned query: `expr`'s columns are `prefix ++ outputs ++ sort-only columns`.
pub struct PlannedQuery {
    pub expr: RelationExpr,
    pub scope: Scope,
    pub finishing: Finishing,
    pub prefix: usize,
}

impl PlannedQuery {
    /// The query as a relation `prefix ++ outputs`: a LIMIT / OFFSET becomes a TopK per
    /// prefix; an ORDER BY without one has no effect on a relation (rows have no order).
    pub fn into_relation(self) -> RelationExpr {
        let PlannedQuery {
            expr,
            finishing,
            prefix,
            ..
        } = self;
        let expr = if finishing.limit.is_some() || finishing.offset > 0 {
            RelationExpr::TopK {
                input: Box::new(expr),
                group_key: (0..prefix).collect(),
                order_key: finishing.order_by.clone(),
                limit: finishing.limit,
                offset: finishing.offset,
            }
        } else {
            expr
        };
        let outputs: Vec<usize> = (0..prefix)
            .chain(finishing.project.iter().copied())
            .collect();
        if outputs == (0..expr.arity()).collect::<Vec<_>>() {
            expr
        } else {
            expr.project(outputs)
        }
    }

    /// Output column names (without the prefix).
    pub fn column_names(&self) -> Vec<String> {
        self.finishing
            .project
            .iter()
            .map(|c| self.scope.items[*c].column.clone())
            .collect()
    }

    pub fn column_types(&self) -> Vec<ColumnType> {
        let typ = self.expr.typ();
        self.finishing
            .project
            .iter()
            .map(|c| typ[*c].clone())
            .collect()
    }
}

/// Plans a subquery against `outer`, as a relation `prefix ++ outputs`.
pub fn plan_subquery(
    scx: &StatementContext,
    query: &ast::Query,
    outer: &Outer,
    now_is_constant: bool,
) -> Result<RelationExpr> {
    let planned = plan_query(scx, query, outer, now_is_constant)?;
    Ok(planned.into_relation())
}

pub fn plan_query(
    scx: &StatementContext,
    query: &ast::Query,
    outer: &Outer,
    now_is_constant: bool,
) -> Result<PlannedQuery> {
    if !query.locks.is_empty() || query.for_clause.is_some() {
        return Err(PlanError::unsupported("FOR UPDATE / FOR SHARE clauses"));
    }
    if let Some(fetch) = &query.fetch {
        if fetch.with_ties || fetch.percent {
            return Err(PlanError::unsupported("FETCH ... WITH TIES / PERCENT"));
        }
        if query.limit_clause.is_some() {
            return Err(PlanError::Syntax(
                "syntax error: LIMIT and FETCH FIRST cannot both be used".into(),
            ));
        }
    }
    let ctes_before = scx.ctes.borrow().len();
    let result = match &query.with {
        Some(with) if with.recursive => {
            super::recursive::plan_recursive_ctes(scx, with, now_is_constant)
        }
        Some(with) => with
            .cte_tables
            .iter()
            .try_for_each(|cte| plan_cte(scx, cte, now_is_constant)),
        None => Ok(()),
    }
    .and_then(|()| plan_query_body(scx, query, outer, now_is_constant));
    scx.ctes.borrow_mut().truncate(ctes_before);
    result
}

/// Plans one (non-recursive) CTE and makes it visible to what follows it.
pub fn plan_cte(scx: &StatementContext, cte: &ast::Cte, now_is_constant: bool) -> Result<()> {
    let planned = plan_query(scx, &cte.query, &Outer::none(), now_is_constant)?;
    let mut names = planned.column_names();
    for (i, column) in cte.alias.columns.iter().enumerate() {
        if i < names.len() {
            names[i] = normalize_ident(&column.name);
        }
    }
    let types = planned.column_types();
    let rel = planned.into_relation();
    let id = scx.fresh_local();
    scx.lets.borrow_mut().push(LetBinding::Let(id, rel));
    scx.ctes.borrow_mut().push(CteBinding {
        name: normalize_ident(&cte.alias.name),
        id,
        names,
        types,
    });
    Ok(())
}

fn plan_query_body(
    scx: &StatementContext,
    query: &ast::Query,
    outer: &Outer,
    now_is_constant: bool,
) -> Result<PlannedQuery> {
    let order_by: &[ast::OrderByExpr] = match &query.order_by {
        None => &[],
        Some(ob) => match &ob.kind {
            ast::OrderByKind::Expressions(exprs) => exprs,
            ast::OrderByKind::All(_) => return Err(PlanError::unsupported("ORDER BY ALL")),
        },
    };
    let mut planned = match query.body.as_ref() {
        SetExpr::Select(select) => plan_select(scx, select, outer, order_by, now_is_constant)?,
        other => {
            let (expr, scope) = plan_set_expr(scx, other, outer, now_is_constant)?;
            let arity = expr.arity();
            let k = outer.arity();
            let mut finishing = Finishing {
                project: (k..arity).collect(),
                ..Default::default()
            };
            for ob in order_by {
                let column = resolve_output_column(&ob.expr, &scope, k)?.ok_or_else(|| {
                    PlanError::unsupported(
                        "ORDER BY an expression that is not an output column of a set operation",
                    )
                })?;
                finishing.order_by.push(column_order(column, &ob.options));
            }
            PlannedQuery {
                expr,
                scope,
                finishing,
                prefix: k,
            }
        }
    };
    if let Some(fetch) = &query.fetch {
        planned.finishing.limit = match &fetch.quantity {
            Some(q) => constant_count(scx, q, "FETCH FIRST")?,
            None => Some(1),
        };
    }
    if let Some(limit) = &query.limit_clause {
        match limit {
            ast::LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
            } => {
                if !limit_by.is_empty() {
                    return Err(PlanError::unsupported("LIMIT BY"));
                }
                if let Some(limit) = limit {
                    planned.finishing.limit = constant_count(scx, limit, "LIMIT")?;
                }
                if let Some(offset) = offset {
                    planned.finishing.offset =
                        constant_count(scx, &offset.value, "OFFSET")?.unwrap_or(0);
                }
            }
            ast::LimitClause::OffsetCommaLimit { .. } => {
                return Err(PlanError::unsupported("LIMIT offset, count"));
            }
        }
    }
    Ok(planned)
}

/// A LIMIT or OFFSET value: a non-negative integer constant (NULL or ALL = no limit).
pub(super) fn constant_count(
    scx: &StatementContext,
    expr: &Expr,
    clause: &str,
) -> Result<Option<usize>> {
    if let Expr::Value(v) = expr
        && let ast::Value::Null = v.value
    {
        return Ok(None);
    }
    let mut ecx = ExprContext::new(
        scx,
        RelationExpr::constant(vec![Row::empty()], vec![]),
        Scope::default(),
        "LIMIT",
    );
    let (e, typ) = ecx.plan_expr_typed_param(expr, &ScalarType::Int64)?;
    let e = func::plan_cast(e, &typ, &ScalarType::Int64, CastContext::Implicit)?;
    match e.eval(&[])? {
        Datum::Null => Ok(None),
        Datum::Int64(n) if n >= 0 => Ok(Some(n as usize)),
        Datum::Int64(_) => Err(PlanError::InvalidParameter(format!(
            "{clause} must not be negative"
        ))),
        _ => Err(PlanError::DatatypeMismatch(format!(
            "argument of {clause} must be type bigint"
        ))),
    }
}

fn column_order(column: usize, options: &ast::OrderByOptions) -> ColumnOrder {
    let desc = options.sort == Some(ast::OrderBySort::Desc);
    // PostgreSQL: NULLs sort as larger than every value by default.
    let nulls_last = match options.nulls_first {
        Some(first) => !first,
        None => !desc,
    };
    ColumnOrder {
        column,
        desc,
        nulls_last,
    }
}

/// An ORDER BY / GROUP BY item that names an output column: by ordinal or by output name.
fn resolve_output_column(expr: &Expr, scope: &Scope, prefix: usize) -> Result<Option<usize>> {
    let outputs = scope.len() - prefix;
    match expr {
        Expr::Value(v) => {
            if let ast::Value::Number(n, _) = &v.value {
                let ordinal: usize = n.parse().unwrap_or(0);
                if ordinal == 0 || ordinal > outputs {
                    return Err(PlanError::Syntax(format!(
                        "ORDER BY position {n} is not in select list"
                    )));
                }
                return Ok(Some(prefix + ordinal - 1));
            }
            Ok(None)
        }
        Expr::Identifier(ident) => {
            let name = normalize_ident(ident);
            let matches: Vec<usize> = (prefix..scope.len())
                .filter(|c| scope.items[*c].column == name && !scope.items[*c].hidden)
                .collect();
            Ok(matches.first().copied())
        }
        _ => Ok(None),
    }
}

pub(super) fn plan_set_expr(
    scx: &StatementContext,
    set_expr: &SetExpr,
    outer: &Outer,
    now_is_constant: bool,
) -> Result<(RelationExpr, Scope)> {
    match set_expr {
        SetExpr::Select(select) => {
            let planned = plan_select(scx, select, outer, &[], now_is_constant)?;
            let scope = planned.output_scope();
            Ok((planned.into_relation(), scope))
        }
        SetExpr::Query(query) => {
            let planned = plan_query(scx, query, outer, now_is_constant)?;
            let scope = planned.output_scope();
            Ok((planned.into_relation(), scope))
        }
        SetExpr::Values(values) => plan_values(scx, values, outer, None, now_is_constant),
        SetExpr::SetOperation {
            left,
            op,
            set_quantifier,
            right,
        } => {
            let (l, lscope) = plan_set_expr(scx, left, outer, now_is_constant)?;
            let (r, _) = plan_set_expr(scx, right, outer, now_is_constant)?;
            let k = outer.arity();
            let (lt, rt) = (l.typ(), r.typ());
            if lt.len() != rt.len() {
                return Err(PlanError::Syntax(format!(
                    "each {op} query must have the same number of columns"
                )));
            }
            // Coerce both sides to the common type of each column.
            let mut lcasts = Vec::new();
            let mut rcasts = Vec::new();
            let mut scope = lscope.clone();
            for c in k..lt.len() {
                let typ = func::common_type(
                    &[lt[c].scalar_type.clone(), rt[c].scalar_type.clone()],
                    &op.to_string(),
                )?;
                let typ = if typ == ScalarType::Unknown {
                    ScalarType::String
                } else {
                    typ
                };
                lcasts.push(func::plan_cast(
                    ScalarExpr::Column(c),
                    &lt[c].scalar_type,
                    &typ,
                    CastContext::Implicit,
                )?);
                rcasts.push(func::plan_cast(
                    ScalarExpr::Column(c),
                    &rt[c].scalar_type,
                    &typ,
                    CastContext::Implicit,
                )?);
                scope.items[c].typ = ColumnType::new(typ, lt[c].nullable || rt[c].nullable);
            }
            let l = recast(l, k, lcasts);
            let r = recast(r, k, rcasts);
            let all = matches!(set_quantifier, SetQuantifier::All);
            if !matches!(
                set_quantifier,
                SetQuantifier::All | SetQuantifier::Distinct | SetQuantifier::None
            ) {
                return Err(PlanError::unsupported(format!("{op} {set_quantifier}")));
            }
            let expr = match (op, all) {
                (SetOperator::Union, true) => l.union(r),
                (SetOperator::Union, false) => l.union(r).distinct(),
                (SetOperator::Except, true) => l.union(r.negate()).threshold(),
                (SetOperator::Except, false) => {
                    l.distinct().union(r.distinct().negate()).threshold()
                }
                (SetOperator::Intersect, true) => {
                    let l = scx.bind(l);
                    let except = l.clone().union(r.negate()).threshold();
                    l.union(except.negate()).threshold()
                }
                (SetOperator::Intersect, false) => {
                    let l = scx.bind(l.distinct());
                    let except = l.clone().union(r.distinct().negate()).threshold();
                    l.union(except.negate()).threshold()
                }
                (other, _) => return Err(PlanError::unsupported(format!("set operation {other}"))),
            };
            Ok((expr, scope))
        }
        other => Err(PlanError::unsupported(format!("query body {other}"))),
    }
}

impl PlannedQuery {
    /// The scope of `prefix ++ outputs` (dropping sort-only columns).
    pub fn output_scope(&self) -> Scope {
        Scope {
            items: (0..self.prefix)
                .chain(self.finishing.project.iter().copied())
                .map(|c| {
                    let mut item = self.scope.items[c].clone();
                    item.table = None;
                    item
                })
                .collect(),
        }
    }
}

/// Plans VALUES rows; `hints` give the expected column types (INSERT's target columns).
pub fn plan_values(
    scx: &StatementContext,
    values: &ast::Values,
    outer: &Outer,
    hints: Option<&[ScalarType]>,
    now_is_constant: bool,
) -> Result<(RelationExpr, Scope)> {
    let k = outer.arity();
    let width = values.rows.first().map(|r| r.len()).unwrap_or(0);
    let mut rows: Vec<Vec<(ScalarExpr, ScalarType)>> = Vec::with_capacity(values.rows.len());
    let mut rels = Vec::with_capacity(values.rows.len());
    for row in &values.rows {
        if row.len() != width {
            return Err(PlanError::Syntax(
                "VALUES lists must all be the same length".into(),
            ));
        }
        let mut ecx = ExprContext::new(scx, outer.rel.clone(), outer.scope.clone(), "VALUES");
        ecx.now_is_constant = now_is_constant;
        let mut planned = Vec::with_capacity(width);
        for (i, e) in row.iter().enumerate() {
            let hint = hints
                .and_then(|h| h.get(i))
                .cloned()
                .unwrap_or(ScalarType::Unknown);
            let (expr, typ) = ecx.plan_expr_typed_param(e, &hint)?;
            // An untyped literal takes the target column's type (INSERT ... VALUES).
            if typ == ScalarType::Unknown && hint != ScalarType::Unknown {
                planned.push((
                    func::plan_cast(expr, &typ, &hint, CastContext::Assignment)?,
                    hint,
                ));
            } else {
                planned.push((expr, typ));
            }
        }
        rows.push(planned);
        rels.push((ecx.rel, ecx.scope.len()));
    }
    // The common type of each column.
    let mut types = Vec::with_capacity(width);
    for c in 0..width {
        let column: Vec<ScalarType> = rows.iter().map(|r| r[c].1.clone()).collect();
        let typ = func::common_type(&column, "VALUES")?;
        types.push(if typ == ScalarType::Unknown {
            ScalarType::String
        } else {
            typ
        });
    }
    let mut union: Option<RelationExpr> = None;
    for (row, (rel, arity)) in rows.into_iter().zip(rels) {
        let mut exprs = Vec::with_capacity(width);
        for ((e, t), typ) in row.into_iter().zip(&types) {
            exprs.push(func::plan_cast(e, &t, typ, CastContext::Implicit)?);
        }
        let rel = rel
            .map(exprs)
            .project((0..k).chain(arity..arity + width).collect());
        union = Some(match union {
            None => rel,
            Some(u) => u.union(rel),
        });
    }
    let rel = union.unwrap_or_else(|| RelationExpr::constant(vec![], vec![]));
    let typ = rel.typ();
    let mut scope = outer.scope.clone();
    for (c, ct) in typ.iter().enumerate().skip(k) {
        scope.push(scx.item(None, &format!("column{}", c - k + 1), ct.clone(), false));
    }
    Ok((rel, scope))
}

// SELECT ----------------------------------------------------------------------------------

fn plan_select(
    scx: &StatementContext,
    select: &ast::Select,
    outer: &Outer,
    order_by: &[ast::OrderByExpr],
    now_is_constant: bool,
) -> Result<PlannedQuery> {
    check_select_clauses(select)?;
    let k = outer.arity();
    // FROM: the prefix rows joined with every FROM item.
    let (mut rel, mut scope) = (outer.rel.clone(), outer.scope.clone());
    for twj in &select.from {
        (rel, scope) = super::from::plan_from_item(scx, (rel, scope), twj, now_is_constant)?;
    }
    // WHERE
    if let Some(selection) = &select.selection {
        let arity = scope.len();
        let mut ecx = ExprContext::new(scx, rel, scope, "WHERE");
        ecx.now_is_constant = now_is_constant;
        let pred = ecx.plan_predicate(selection)?;
        rel = ecx.rel.filter(vec![pred]).project((0..arity).collect());
        scope = ecx.scope;
        scope.items.truncate(arity);
    }
    // GROUP BY and aggregates
    let group_exprs: Vec<Expr> = match &select.group_by {
        ast::GroupByExpr::Expressions(exprs, modifiers) => {
            if !modifiers.is_empty() {
                return Err(PlanError::unsupported("GROUP BY modifiers"));
            }
            exprs.clone()
        }
        ast::GroupByExpr::All(_) => return Err(PlanError::unsupported("GROUP BY ALL")),
    };
    let (group_exprs, grouping_sets) = super::grouping_sets::expand(&group_exprs)?;
    let mut aggregate_calls = Vec::new();
    for item in &select.projection {
        if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item {
            collect_aggregates(e, &mut aggregate_calls);
        }
    }
    if let Some(having) = &select.having {
        collect_aggregates(having, &mut aggregate_calls);
    }
    for ob in order_by {
        collect_aggregates(&ob.expr, &mut aggregate_calls);
    }
    let grouping;
    let mut grouping_ref = None;
    if !group_exprs.is_empty() || !aggregate_calls.is_empty() || select.having.is_some() {
        let (r, s, g) = plan_grouping(
            scx,
            rel,
            scope,
            outer,
            &group_exprs,
            grouping_sets.as_deref(),
            &aggregate_calls,
            &select.projection,
            now_is_constant,
        )?;
        rel = r;
        scope = s;
        grouping = g;
        grouping_ref = Some(&grouping);
        if let Some(having) = &select.having {
            let arity = scope.len();
            let mut ecx = ExprContext::new(scx, rel, scope, "HAVING");
            ecx.grouping = grouping_ref;
            ecx.now_is_constant = now_is_constant;
            let pred = ecx.plan_predicate(having)?;
            rel = ecx.rel.filter(vec![pred]).project((0..arity).collect());
            scope = ecx.scope;
            scope.items.truncate(arity);
        }
    }
    // With GROUP BY or aggregates, `*` stands for the FROM columns, each of which must be
    // grouped (PostgreSQL), not for the grouped relation's columns.
    let grouped_from_scope = grouping_ref.map(|g| g.ungrouped_scope.clone());
    // Window functions, then the SELECT list.
    let window_calls = super::window::collect_window_calls(&select.projection, order_by);
    let combined;
    if !window_calls.is_empty() {
        let mut wcx = ExprContext::new(scx, rel, scope, "window definitions");
        wcx.grouping = grouping_ref;
        wcx.now_is_constant = now_is_constant;
        let windows = super::window::plan_windows(&mut wcx, &window_calls, &select.named_window)?;
        combined = Grouping::extended(grouping_ref, windows, &wcx.scope);
        grouping_ref = Some(&combined);
        rel = wcx.rel;
        scope = wcx.scope;
    }
    // Set-returning functions in the SELECT list, in lockstep, after windows.
    let set_calls = super::set_functions::collect_select_list_calls(&select.projection);
    let with_sets;
    if !set_calls.is_empty() {
        let mut scx_sets = ExprContext::new(scx, rel, scope, "SELECT");
        scx_sets.grouping = grouping_ref;
        scx_sets.now_is_constant = now_is_constant;
        let sets = super::set_functions::plan_select_list(&mut scx_sets, &set_calls)?;
        with_sets = Grouping::extended(grouping_ref, sets, &scx_sets.scope);
        grouping_ref = Some(&with_sets);
        rel = scx_sets.rel;
        scope = scx_sets.scope;
    }
    let input_arity = scope.len();
    let mut ecx = ExprContext::new(scx, rel, scope, "SELECT");
    ecx.grouping = grouping_ref;
    ecx.now_is_constant = now_is_constant;
    let mut outputs: Vec<(ScalarExpr, String)> = Vec::new();
    for item in &select.projection {
        match item {
            SelectItem::UnnamedExpr(e) => {
                let (expr, _) = ecx.plan_expr(e)?;
                outputs.push((expr, column_name(e)));
            }
            SelectItem::ExprWithAlias { expr: e, alias } => {
                let (expr, _) = ecx.plan_expr(e)?;
                outputs.push((expr, normalize_ident(alias)));
            }
            SelectItem::Wildcard(options) => {
                check_wildcard_options(options)?;
                if select.from.is_empty() {
                    return Err(PlanError::Syntax(
                        "SELECT * with no tables specified is not valid".into(),
                    ));
                }
                if let Some(from_scope) = &grouped_from_scope {
                    grouped_wildcard(&mut ecx, from_scope, None, &mut outputs)?;
                    continue;
                }
                for (c, item) in ecx.scope.items.iter().enumerate().take(input_arity) {
                    if item.level == 0 && !item.hidden {
                        outputs.push((ScalarExpr::Column(c), item.column.clone()));
                    }
                }
            }
            SelectItem::QualifiedWildcard(kind, options) => {
                check_wildcard_options(options)?;
                let table = match kind {
                    ast::SelectItemQualifiedWildcardKind::ObjectName(name) => {
                        normalize_name(name)?.pop().unwrap_or_default()
                    }
                    ast::SelectItemQualifiedWildcardKind::Expr(e) => {
                        return Err(PlanError::unsupported(format!("{e}.*")));
                    }
                };
                if let Some(from_scope) = &grouped_from_scope {
                    if !from_scope.has_table(&table) {
                        return Err(PlanError::MissingFromEntry(table));
                    }
                    grouped_wildcard(&mut ecx, from_scope, Some(&table), &mut outputs)?;
                    continue;
                }
                if !ecx.scope.has_table(&table) {
                    return Err(PlanError::MissingFromEntry(table));
                }
                for (c, item) in ecx.scope.items.iter().enumerate().take(input_arity) {
                    if item.level == 0 && item.table.as_deref() == Some(table.as_str()) {
                        outputs.push((ScalarExpr::Column(c), item.column.clone()));
                    }
                }
            }
            other => return Err(PlanError::unsupported(format!("select item {other}"))),
        }
    }
    // ORDER BY expressions that are not output columns become sort-only columns.
    let distinct = match &select.distinct {
        None | Some(ast::Distinct::All) => false,
        Some(ast::Distinct::Distinct) => true,
        Some(ast::Distinct::On(_)) => false,
    };
    let distinct_on: &[Expr] = match &select.distinct {
        Some(ast::Distinct::On(exprs)) => exprs,
        _ => &[],
    };
    let mut output_scope_probe = Scope::default();
    for (_, name) in &outputs {
        let typ = ColumnType::new(ScalarType::Unknown, true);
        output_scope_probe.push(scx.item(None, name, typ, false));
    }
    let mut order_columns: Vec<(usize, &ast::OrderByOptions)> = Vec::new();
    let mut sort_only: Vec<ScalarExpr> = Vec::new();
    for ob in order_by {
        match resolve_output_column(&ob.expr, &output_scope_probe, 0)? {
            Some(c) => order_columns.push((c, &ob.options)),
            None => {
                let (expr, _) = ecx.plan_expr(&ob.expr)?;
                if let Some(c) = outputs.iter().position(|(e, _)| *e == expr) {
                    order_columns.push((c, &ob.options));
                } else {
                    if distinct {
                        return Err(PlanError::InvalidColumnReference(
                            "for SELECT DISTINCT, ORDER BY expressions must appear in select list"
                                .into(),
                        ));
                    }
                    order_columns.push((outputs.len() + sort_only.len(), &ob.options));
                    sort_only.push(expr);
                }
            }
        }
    }
    // DISTINCT ON: the first row of each group (under ORDER BY) of these expressions.
    let mut on_columns = Vec::with_capacity(distinct_on.len());
    for (i, on) in distinct_on.iter().enumerate() {
        let column = match resolve_output_column(on, &output_scope_probe, 0)? {
            Some(c) => c,
            None => {
                let (expr, _) = ecx.plan_expr(on)?;
                match outputs.iter().position(|(e, _)| *e == expr) {
                    Some(c) => c,
                    None => match sort_only.iter().position(|e| *e == expr) {
                        Some(c) => outputs.len() + c,
                        None => {
                            sort_only.push(expr);
                            outputs.len() + sort_only.len() - 1
                        }
                    },
                }
            }
        };
        if !order_columns.is_empty() && order_columns.get(i).map(|(c, _)| *c) != Some(column) {
            return Err(PlanError::InvalidColumnReference(
                "SELECT DISTINCT ON expressions must match initial ORDER BY expressions".into(),
            ));
        }
        on_columns.push(column);
    }
    let arity = ecx.scope.len();
    let n_out = outputs.len();
    let n_sort = sort_only.len();
    let mut scalars: Vec<ScalarExpr> = outputs.iter().map(|(e, _)| e.clone()).collect();
    scalars.extend(sort_only);
    let rel_typ_scope = ecx.scope.clone();
    let mut rel = ecx
        .rel
        .map(scalars)
        .project((0..k).chain(arity..arity + n_out + n_sort).collect());
    if distinct {
        rel = rel.distinct();
    }
    if !on_columns.is_empty() {
        rel = RelationExpr::TopK {
            input: Box::new(rel),
            group_key: (0..k).chain(on_columns.iter().map(|c| k + c)).collect(),
            order_key: order_columns
                .iter()
                .map(|(c, options)| column_order(k + c, options))
                .collect(),
            limit: Some(1),
            offset: 0,
        };
    }
    let typ = rel.typ();
    let mut scope = Scope {
        items: rel_typ_scope.items[..k].to_vec(),
    };
    for (i, (_, name)) in outputs.iter().enumerate() {
        scope.push(scx.item(None, name, typ[k + i].clone(), false));
    }
    for i in 0..n_sort {
        scope.push(scx.item(None, "?sort?", typ[k + n_out + i].clone(), true));
    }
    let finishing = Finishing {
        order_by: order_columns
            .into_iter()
            .map(|(c, options)| column_order(k + c, options))
            .collect(),
        limit: None,
        offset: 0,
        project: (k..k + n_out).collect(),
    };
    Ok(PlannedQuery {
        expr: rel,
        scope,
        finishing,
        prefix: k,
    })
}

/// `*` (or `table.*`) of a grouped SELECT: the columns of `from_scope` (the FROM clause, in
/// its order), each planned as a column reference through the grouping, so each resolves to
/// its group key or fails as not grouped.
fn grouped_wildcard(
    ecx: &mut ExprContext,
    from_scope: &Scope,
    table: Option<&str>,
    outputs: &mut Vec<(ScalarExpr, String)>,
) -> Result<()> {
    let columns: Vec<(Option<String>, String)> = from_scope
        .items
        .iter()
        .filter(|i| i.level == 0 && !i.hidden)
        .filter(|i| table.is_none_or(|t| i.table.as_deref() == Some(t)))
        .map(|i| (i.table.clone(), i.column.clone()))
        .collect();
    for (table, column) in columns {
        let ident = |name: &str| ast::Ident::with_quote('"', name);
        let reference = match &table {
            Some(t) => Expr::CompoundIdentifier(vec![ident(t), ident(&column)]),
            None => Expr::Identifier(ident(&column)),
        };
        let (expr, _) = ecx.plan_expr(&reference)?;
        outputs.push((expr, column));
    }
    Ok(())
}

fn check_wildcard_options(options: &ast::WildcardAdditionalOptions) -> Result<()> {
    if options.opt_exclude.is_some()
        || options.opt_except.is_some()
        || options.opt_replace.is_some()
        || options.opt_rename.is_some()
        || options.opt_ilike.is_some()
    {
        return Err(PlanError::unsupported("wildcard options"));
    }
    Ok(())
}

fn check_select_clauses(select: &ast::Select) -> Result<()> {
    if select.top.is_some()
        || select.into.is_some()
        || !select.lateral_views.is_empty()
        || select.prewhere.is_some()
        || !select.cluster_by.is_empty()
        || !select.distribute_by.is_empty()
        || !select.sort_by.is_empty()
        || select.qualify.is_some()
        || !select.connect_by.is_empty()
    {
        return Err(PlanError::unsupported("this SELECT clause"));
    }
    Ok(())
}

pub fn cross_join(left: RelationExpr, right: RelationExpr) -> RelationExpr {
    match left {
        RelationExpr::Join {
            mut inputs,
            equivalences,
        } => {
            inputs.push(right);
            RelationExpr::Join {
                inputs,
                equivalences,
            }
        }
        left => RelationExpr::join(vec![left, right], vec![]),
    }
}

/// The name PostgreSQL gives an unaliased output column.
pub fn column_name(expr: &Expr) -> String {
    match expr {
        Expr::Identifier(ident) => normalize_ident(ident),
        Expr::CompoundIdentifier(idents) => idents.last().map(normalize_ident).unwrap_or_default(),
        Expr::Function(f) => f
            .name
            .0
            .last()
            .map(|p| match p {
                ast::ObjectNamePart::Identifier(i) => normalize_ident(i),
                _ => "?column?".into(),
            })
            .unwrap_or_else(|| "?column?".into()),
        Expr::Cast {
            expr, data_type, ..
        } => match column_name(expr).as_str() {
            // A type name from an inner cast is weaker than this cast's (PostgreSQL names
            // `1::int::text` "text").
            _ if matches!(expr.as_ref(), Expr::Cast { .. } | Expr::TypedString(_)) => {
                super::types::scalar_type_from_sql(data_type)
                    .map(|t| pg_type_name(&t))
                    .unwrap_or_else(|_| "?column?".into())
            }
            "?column?" => super::types::scalar_type_from_sql(data_type)
                .map(|t| pg_type_name(&t))
                .unwrap_or_else(|_| "?column?".into()),
            name => name.to_string(),
        },
        Expr::Nested(inner) => column_name(inner),
        Expr::Case { .. } => "case".into(),
        Expr::Exists { .. } => "exists".into(),
        Expr::Subquery(q) => match q.body.as_ref() {
            SetExpr::Select(s) => match s.projection.first() {
                Some(SelectItem::UnnamedExpr(e)) => column_name(e),
                Some(SelectItem::ExprWithAlias { alias, .. }) => normalize_ident(alias),
                _ => "?column?".into(),
            },
            _ => "?column?".into(),
        },
        Expr::Extract { .. } => "extract".into(),
        Expr::Substring { .. } => "substring".into(),
        Expr::Position { .. } => "position".into(),
        Expr::Trim { .. } => "btrim".into(),
        Expr::Ceil { .. } => "ceil".into(),
        Expr::Floor { .. } => "floor".into(),
        Expr::TypedString(ts) => super::types::scalar_type_from_sql(&ts.data_type)
            .map(|t| pg_type_name(&t))
            .unwrap_or_else(|_| "?column?".into()),
        Expr::Interval(_) => "interval".into(),
        _ => "?column?".into(),
    }
}

/// The internal type name PostgreSQL uses as a column name for a cast of a constant.
fn pg_type_name(typ: &ScalarType) -> String {
    match typ {
        ScalarType::Bool => "bool",
        ScalarType::Int16 => "int2",
        ScalarType::Int32 => "int4",
        ScalarType::Int64 => "int8",
        ScalarType::Float32 => "float4",
        ScalarType::Float64 => "float8",
        ScalarType::Numeric { .. } => "numeric",
        ScalarType::String => "text",
        ScalarType::VarChar { .. } => "varchar",
        ScalarType::Char { .. } => "bpchar",
        ScalarType::Bytes => "bytea",
        ScalarType::Date => "date",
        ScalarType::Time => "time",
        ScalarType::Timestamp => "timestamp",
        ScalarType::TimestampTz => "timestamptz",
        ScalarType::Interval => "interval",
        ScalarType::Jsonb => "jsonb",
        ScalarType::Uuid => "uuid",
        ScalarType::Oid => "oid",
        ScalarType::Reg(kind) => kind.sql_name(),
        ScalarType::Int2Vector => "int2vector",
        ScalarType::OidVector => "oidvector",
        ScalarType::Array(_) => "array",
        ScalarType::Unknown => "?column?",
        ScalarType::Void => "void",
    }
    .to_string()
}

/// Aggregate calls in `expr`, not descending into subqueries (their aggregates are theirs)
/// nor into aggregate arguments.
fn collect_aggregates(expr: &Expr, out: &mut Vec<ast::Function>) {
    let mut visit = |e: &Expr| collect_aggregates(e, out);
    match expr {
        Expr::Function(f) => {
            if f.over.is_none() && (is_aggregate_name(&f.name) || is_grouping_call(f)) {
                if !out.contains(f) {
                    out.push(f.clone());
                }
                return;
            }
            if let ast::FunctionArguments::List(list) = &f.args {
                for arg in &list.args {
                    if let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) = arg {
                        visit(e);
                    }
                }
            }
        }
        Expr::BinaryOp { left, right, .. }
        | Expr::IsDistinctFrom(left, right)
        | Expr::IsNotDistinctFrom(left, right)
        | Expr::Like {
            expr: left,
            pattern: right,
            ..
        }
        | Expr::ILike {
            expr: left,
            pattern: right,
            ..
        }
        | Expr::AnyOp { left, right, .. }
        | Expr::AllOp { left, right, .. } => {
            visit(left);
            visit(right);
        }
        Expr::UnaryOp { expr: e, .. }
        | Expr::Nested(e)
        | Expr::Cast { expr: e, .. }
        | Expr::IsNull(e)
        | Expr::IsNotNull(e)
        | Expr::IsTrue(e)
        | Expr::IsNotTrue(e)
        | Expr::IsFalse(e)
        | Expr::IsNotFalse(e)
        | Expr::IsUnknown(e)
        | Expr::IsNotUnknown(e)
        | Expr::Extract { expr: e, .. }
        | Expr::Ceil { expr: e, .. }
        | Expr::Floor { expr: e, .. } => visit(e),
        Expr::Between {
            expr: e, low, high, ..
        } => {
            visit(e);
            visit(low);
            visit(high);
        }
        Expr::In {
            expr: e, target, ..
        } => {
            visit(e);
            if let ast::InTarget::List(list) = target {
                for item in list {
                    visit(item);
                }
            }
        }
        Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            if let Some(o) = operand {
                visit(o);
            }
            for when in conditions {
                visit(&when.condition);
                visit(&when.result);
            }
            if let Some(e) = else_result {
                visit(e);
            }
        }
        Expr::Substring {
            expr: e,
            substring_from,
            substring_for,
            ..
        } => {
            visit(e);
            if let Some(f) = substring_from {
                visit(f);
            }
            if let Some(f) = substring_for {
                visit(f);
            }
        }
        Expr::Position { expr: e, r#in } => {
            visit(e);
            visit(r#in);
        }
        Expr::Trim {
            expr: e, trim_what, ..
        } => {
            visit(e);
            if let Some(w) = trim_what {
                visit(w);
            }
        }
        _ => {}
    }
}

/// `grouping(e, ...)`: which of its arguments (GROUP BY expressions) the row's grouping
/// set leaves out, as bits (the last argument the lowest bit). Planned with the grouping.
fn is_grouping_call(f: &ast::Function) -> bool {
    f.over.is_none() && matches!(normalize_name(&f.name).as_deref(), Ok([n]) if n == "grouping")
}

fn is_aggregate_name(name: &ast::ObjectName) -> bool {
    match normalize_name(name) {
        Ok(parts) => match parts.as_slice() {
            [n] => func::is_aggregate(n),
            [s, n] if s == "pg_catalog" => func::is_aggregate(n),
            _ => false,
        },
        Err(_) => false,
    }
}

/// Plans GROUP BY and the aggregates: returns the reduced relation
/// `prefix ++ keys ++ aggregate results`, its scope, and the grouping map.
#[allow(clippy::too_many_arguments)]
fn plan_grouping(
    scx: &StatementContext,
    rel: RelationExpr,
    scope: Scope,
    outer: &Outer,
    group_exprs: &[Expr],
    grouping_sets: Option<&[Vec<usize>]>,
    aggregate_calls: &[ast::Function],
    projection: &[SelectItem],
    now_is_constant: bool,
) -> Result<(RelationExpr, Scope, Grouping)> {
    let k = outer.arity();
    let ungrouped_scope = scope.clone();
    let mut ecx = ExprContext::new(scx, rel, scope, "GROUP BY");
    ecx.now_is_constant = now_is_constant;
    // Keys: the prefix, then each GROUP BY expression (an output ordinal or alias means the
    // select item's expression, as in PostgreSQL).
    let mut key_exprs: Vec<ScalarExpr> = (0..k).map(ScalarExpr::Column).collect();
    let mut exprs: Vec<(Expr, usize)> = Vec::new();
    let mut key_names: Vec<(Option<String>, String)> = Vec::new();
    // Per GROUP BY expression, its key column.
    let mut key_of_expr: Vec<usize> = Vec::with_capacity(group_exprs.len());
    for g in group_exprs {
        let resolved = resolve_group_by_item(g, projection, &ecx.scope)?;
        let (e, _) = ecx.plan_expr(&resolved)?;
        // A key listed twice (`GROUP BY t.a, a`) is one key: it makes the same groups, and
        // a second output column of the same name would make references to it ambiguous.
        let index = match key_exprs[k..].iter().position(|x| *x == e) {
            Some(p) => k + p,
            None => {
                key_names.push(match &e {
                    ScalarExpr::Column(c) => {
                        let item = &ecx.scope.items[*c];
                        (item.table.clone(), item.column.clone())
                    }
                    _ => (None, "?column?".into()),
                });
                key_exprs.push(e);
                key_exprs.len() - 1
            }
        };
        key_of_expr.push(index);
        exprs.push((resolved.clone(), index));
        if g != &resolved {
            exprs.push((g.clone(), index));
        }
    }
    // `grouping(...)` calls: per call, the key of each argument.
    let (grouping_calls, aggregate_calls): (Vec<ast::Function>, Vec<ast::Function>) =
        aggregate_calls.iter().cloned().partition(is_grouping_call);
    let mut grouping_keys: Vec<Vec<usize>> = Vec::with_capacity(grouping_calls.len());
    for call in &grouping_calls {
        let args = match &call.args {
            ast::FunctionArguments::List(list)
                if list.duplicate_treatment.is_none() && list.clauses.is_empty() =>
            {
                super::expr::expr_arguments(&list.args)?
            }
            _ => vec![],
        };
        if args.is_empty() || args.len() > 31 || call.filter.is_some() {
            return Err(PlanError::Grouping(
                "GROUPING takes from 1 to 31 grouping expressions".into(),
            ));
        }
        let mut keys = Vec::with_capacity(args.len());
        for arg in args {
            let (e, _) = ecx.plan_expr(arg)?;
            match key_exprs[k..].iter().position(|x| *x == e) {
                Some(p) => keys.push(k + p),
                None => {
                    return Err(PlanError::Grouping(
                        "arguments to GROUPING must be grouping expressions of the associated query level"
                            .into(),
                    ));
                }
            }
        }
        grouping_keys.push(keys);
    }
    // The value of each `grouping(...)` call for a set of keys.
    let grouping_values = |set_keys: Option<&[usize]>| -> Vec<ScalarExpr> {
        grouping_keys
            .iter()
            .map(|keys| {
                let mask = keys.iter().fold(0i32, |mask, key| {
                    let left_out = set_keys.is_some_and(|set| !set.contains(key));
                    (mask << 1) | i32::from(left_out)
                });
                ScalarExpr::literal(Datum::Int32(mask), ScalarType::Int32)
            })
            .collect()
    };
    // Their values are key columns after the GROUP BY keys: constant within a grouping
    // set, so they split no group.
    let plain_keys = key_exprs.len();
    for (i, call) in grouping_calls.iter().enumerate() {
        key_names.push((None, "?column?".into()));
        exprs.push((Expr::Function(call.clone()), plain_keys + i));
    }
    // Aggregates.
    let mut aggregates: Vec<AggregateExpr> = Vec::new();
    let mut finishes: Vec<(ScalarExpr, usize, ScalarType)> = Vec::new();
    for call in &aggregate_calls {
        let plan = plan_aggregate_call(&mut ecx, call)?;
        let base = aggregates.len();
        aggregates.extend(plan.aggregates);
        finishes.push((plan.finish, base, plan.typ));
    }
    let n_keys = plain_keys + grouping_calls.len();
    let input = ecx.rel;
    let reduced = match grouping_sets {
        Some(sets) => {
            // One Reduce per set, the keys outside it NULL, all with the same columns.
            let input = scx.bind(input);
            let input_typ = input.typ();
            let mut branches = Vec::with_capacity(sets.len());
            for set in sets {
                let keys: Vec<usize> = set.iter().map(|e| key_of_expr[*e]).collect();
                let group_key: Vec<ScalarExpr> = key_exprs
                    .iter()
                    .enumerate()
                    .map(|(i, key)| {
                        if i < k || keys.contains(&i) {
                            key.clone()
                        } else {
                            ScalarExpr::null(key.typ(&input_typ).scalar_type)
                        }
                    })
                    .chain(grouping_values(Some(&keys)))
                    .collect();
                let reduce = RelationExpr::Reduce {
                    input: Box::new(input.clone()),
                    group_key: group_key.clone(),
                    aggregates: aggregates.clone(),
                };
                branches.push(if set.is_empty() {
                    one_row_when_empty(scx, reduce, outer, k, &group_key[k..], &aggregates)
                } else {
                    reduce
                });
            }
            let mut branches = branches.into_iter();
            let first = branches
                .next()
                .ok_or_else(|| PlanError::Grouping("GROUPING SETS with no sets".into()))?;
            branches.fold(first, RelationExpr::union)
        }
        None => {
            let mut group_key = key_exprs;
            group_key.extend(grouping_values(None));
            let reduce = RelationExpr::Reduce {
                input: Box::new(input),
                group_key,
                aggregates: aggregates.clone(),
            };
            if group_exprs.is_empty() {
                one_row_when_empty(scx, reduce, outer, k, &[], &aggregates)
            } else {
                reduce
            }
        }
    };
    finish_grouping(
        scx,
        reduced,
        ungrouped_scope,
        k,
        n_keys,
        &aggregates,
        finishes,
        key_names,
        exprs,
        &aggregate_calls,
    )
}

/// A global aggregate has one row even when its input is empty: per prefix (the first `k`
/// columns) with no group, a row of `keys` (NULLs of a grouping set's missing keys) and the
/// aggregates' values over no rows.
fn one_row_when_empty(
    scx: &StatementContext,
    reduce: RelationExpr,
    outer: &Outer,
    k: usize,
    keys: &[ScalarExpr],
    aggregates: &[AggregateExpr],
) -> RelationExpr {
    let reduced = scx.bind(reduce);
    let missing = outer
        .rel
        .clone()
        .union(reduced.clone().project((0..k).collect()).negate())
        .threshold();
    let defaults: Vec<ScalarExpr> = keys
        .iter()
        .cloned()
        .chain(aggregates.iter().map(|a| {
            match a.func {
                AggregateFunc::Count => ScalarExpr::literal(Datum::Int64(0), ScalarType::Int64),
                _ => ScalarExpr::null(
                    a.func
                        .output_type(&ColumnType::new(ScalarType::Unknown, true))
                        .scalar_type,
                ),
            }
        }))
        .collect();
    reduced.union(missing.map(defaults))
}

/// The grouped relation `reduced` (`prefix ++ keys ++ aggregates`) with each aggregate call
/// finished, and its scope and grouping map.
#[allow(clippy::too_many_arguments)]
fn finish_grouping(
    scx: &StatementContext,
    reduced: RelationExpr,
    ungrouped_scope: Scope,
    k: usize,
    n_keys: usize,
    aggregates: &[AggregateExpr],
    finishes: Vec<(ScalarExpr, usize, ScalarType)>,
    key_names: Vec<(Option<String>, String)>,
    mut exprs: Vec<(Expr, usize)>,
    aggregate_calls: &[ast::Function],
) -> Result<(RelationExpr, Scope, Grouping)> {
    // Finish each aggregate call from its MIR aggregates.
    let agg_arity = n_keys + aggregates.len();
    let mut finish_exprs = Vec::with_capacity(finishes.len());
    for (finish, base, _) in &finishes {
        let mut f = finish.clone();
        f.shift_columns(n_keys + base);
        finish_exprs.push(f);
    }
    let n_calls = finish_exprs.len();
    let rel = reduced
        .map(finish_exprs)
        .project((0..n_keys).chain(agg_arity..agg_arity + n_calls).collect());
    let typ = rel.typ();
    // Scope: prefix items, named keys, hidden aggregate results.
    let mut scope = Scope {
        items: ungrouped_scope.items[..k].to_vec(),
    };
    for (i, (table, column)) in key_names.into_iter().enumerate() {
        let mut item = scx.item(
            table.as_deref(),
            &column,
            typ[k + i].clone(),
            column == "?column?",
        );
        item.level = 0;
        scope.push(item);
    }
    for (i, call) in aggregate_calls.iter().enumerate() {
        let col = n_keys + i;
        scope.push(scx.item(None, "?aggregate?", typ[col].clone(), true));
        exprs.push((Expr::Function(call.clone()), col));
    }
    Ok((
        rel,
        scope,
        Grouping {
            exprs,
            ungrouped_scope,
        },
    ))
}

/// `rel`'s first `k` columns, then `casts` (one expression per remaining column, over
/// `rel`'s columns); `rel` itself when every cast is the identity.
pub(super) fn recast(rel: RelationExpr, k: usize, casts: Vec<ScalarExpr>) -> RelationExpr {
    let arity = rel.arity();
    if casts
        .iter()
        .enumerate()
        .all(|(i, c)| *c == ScalarExpr::Column(k + i))
    {
        return rel;
    }
    let n = casts.len();
    rel.map(casts)
        .project((0..k).chain(arity..arity + n).collect())
}

/// A GROUP BY item as an expression: `GROUP BY 1` and `GROUP BY alias` mean the select item.
fn resolve_group_by_item(g: &Expr, projection: &[SelectItem], scope: &Scope) -> Result<Expr> {
    match g {
        Expr::Value(v) => {
            if let ast::Value::Number(n, _) = &v.value {
                let ordinal: usize = n.parse().unwrap_or(0);
                return match projection.get(ordinal.wrapping_sub(1)) {
                    Some(SelectItem::UnnamedExpr(e))
                    | Some(SelectItem::ExprWithAlias { expr: e, .. }) => Ok(e.clone()),
                    _ => Err(PlanError::Syntax(format!(
                        "GROUP BY position {n} is not in select list"
                    ))),
                };
            }
            Ok(g.clone())
        }
        Expr::Identifier(ident) => {
            let name = normalize_ident(ident);
            // An input column wins over an output alias, as in PostgreSQL.
            if scope.resolve(None, &name).is_ok() {
                return Ok(g.clone());
            }
            for item in projection {
                if let SelectItem::ExprWithAlias { expr, alias } = item
                    && normalize_ident(alias) == name
                {
                    return Ok(expr.clone());
                }
            }
            Ok(g.clone())
        }
        _ => Ok(g.clone()),
    }
}

pub(super) fn plan_aggregate_call(
    ecx: &mut ExprContext,
    call: &ast::Function,
) -> Result<func::AggregatePlan> {
    let name = normalize_name(&call.name)?.pop().unwrap_or_default();
    let ordered_set = matches!(
        name.as_str(),
        "percentile_cont" | "percentile_disc" | "mode"
    );
    if (!call.within_group.is_empty() && !ordered_set) || call.null_treatment.is_some() {
        return Err(PlanError::unsupported(format!(
            "{name} with WITHIN GROUP or IGNORE NULLS"
        )));
    }
    let (args, distinct, order_by): (Vec<&ast::FunctionArg>, bool, Vec<ast::OrderByExpr>) =
        match &call.args {
            ast::FunctionArguments::None => (vec![], false, vec![]),
            ast::FunctionArguments::List(list) => {
                let distinct = matches!(
                    list.duplicate_treatment,
                    Some(ast::DuplicateTreatment::Distinct)
                );
                let mut order_by = vec![];
                for clause in &list.clauses {
                    match clause {
                        ast::FunctionArgumentClause::OrderBy(ob) => order_by = ob.clone(),
                        other => {
                            return Err(PlanError::unsupported(format!(
                                "aggregate clause {other}"
                            )));
                        }
                    }
                }
                (list.args.iter().collect(), distinct, order_by)
            }
            ast::FunctionArguments::Subquery(_) => {
                return Err(PlanError::unsupported("aggregate over a subquery"));
            }
        };
    let saved = ecx.clause;
    ecx.clause = "aggregate function calls";
    let mut planned = Vec::new();
    for arg in args {
        match arg {
            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard) if name == "count" => {}
            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => {
                // A window aggregate may take a GROUP BY aggregate: `sum(count(*)) OVER ()`.
                if call.over.is_none() && contains_aggregate(e) {
                    ecx.clause = saved;
                    return Err(PlanError::Grouping(
                        "aggregate function calls cannot be nested".into(),
                    ));
                }
                planned.push(ecx.plan_expr(e)?);
            }
            other => {
                return Err(PlanError::unsupported(format!(
                    "aggregate argument {other}"
                )));
            }
        }
    }
    let mut order = Vec::new();
    for ob in order_by.iter().chain(&call.within_group) {
        let (e, t) = ecx.plan_expr(&ob.expr)?;
        let o = column_order(0, &ob.options);
        order.push((e, t, o.desc, o.nulls_last));
    }
    ecx.clause = saved;
    let mut plan = func::plan_aggregate(&name, planned, distinct, order)?;
    if let Some(filter) = &call.filter {
        filter_aggregate_inputs(ecx, filter, &mut plan)?;
    }
    Ok(plan)
}

/// `agg(...) FILTER (WHERE p)`: rows where `p` is not true give the aggregate no input. Every
/// aggregate a user can call skips NULL inputs (the records of ordered aggregates too, see
/// `expr/func/aggregate.rs`), so its input becomes NULL on those rows.
fn filter_aggregate_inputs(
    ecx: &mut ExprContext,
    filter: &Expr,
    plan: &mut func::AggregatePlan,
) -> Result<()> {
    if contains_aggregate(filter) {
        return Err(PlanError::Grouping(
            "aggregate functions are not allowed in FILTER".into(),
        ));
    }
    let saved = ecx.clause;
    ecx.clause = "FILTER";
    let predicate = ecx.plan_predicate(filter);
    ecx.clause = saved;
    let predicate = predicate?;
    let types = ecx.rel.typ();
    for agg in &mut plan.aggregates {
        if matches!(agg.func, AggregateFunc::Any | AggregateFunc::All) {
            return Err(PlanError::unsupported("FILTER on this aggregate"));
        }
        let typ = agg.expr.typ(&types).scalar_type;
        agg.expr = ScalarExpr::If {
            cond: Box::new(predicate.clone()),
            then: Box::new(agg.expr.clone()),
            els: Box::new(ScalarExpr::null(typ)),
        };
    }
    Ok(())
}

fn contains_aggregate(expr: &Expr) -> bool {
    let mut found = Vec::new();
    collect_aggregates(expr, &mut found);
    !found.is_empty()
}

/// A `Get` of a CTE binding in scope, by name.
pub fn resolve_cte(
    scx: &StatementContext,
    name: &str,
) -> Option<(RelationExpr, Vec<String>, Vec<ColumnType>)> {
    scx.ctes
        .borrow()
        .iter()
        .rev()
        .find(|c| c.name == name)
        .map(|c| {
            (
                RelationExpr::Get {
                    id: Id::Local(c.id),
                    typ: c.types.clone(),
                },
                c.names.clone(),
                c.types.clone(),
            )
        })
}

/// The relation of a catalog item, for FROM.
/// A `pg_catalog` or `information_schema` relation, as its rows now: unqualified names find
/// `pg_catalog`'s first, as PostgreSQL's implicit search path does.
fn resolve_system_relation(
    scx: &StatementContext,
    parts: &[String],
) -> Option<(RelationExpr, Vec<String>, Vec<ColumnType>, String)> {
    use crate::catalog::system;
    let (schema, name) = match parts {
        [name] => (None, name),
        [schema, name] if system::is_system_schema(schema) => (Some(schema.as_str()), name),
        [db, schema, name] if *db == scx.session.database && system::is_system_schema(schema) => {
            (Some(schema.as_str()), name)
        }
        _ => return None,
    };
    let cx = scx.system_context();
    let relation = system::relation(schema, name, &cx)?;
    scx.reads_system_relation.set(true);
    let rel = RelationExpr::constant(relation.rows, relation.types.clone());
    Some((rel, relation.names, relation.types, name.clone()))
}

pub fn resolve_catalog_relation(
    scx: &StatementContext,
    name: &ast::ObjectName,
) -> Result<(RelationExpr, Vec<String>, Vec<ColumnType>, String)> {
    let parts = normalize_name(name)?;
    if parts.len() == 1
        && let Some((rel, names, types)) = resolve_cte(scx, &parts[0])
    {
        return Ok((rel, names, types, parts[0].clone()));
    }
    if let Some(system) = resolve_system_relation(scx, &parts) {
        return Ok(system);
    }
    let entry = scx.resolve(&parts)?;
    match &entry.item {
        CatalogItem::Index { .. } => Err(PlanError::WrongObjectType(format!(
            "\"{}\" is an index",
            entry.name
        ))),
        item => {
            let desc = item.desc().expect("relations have a description");
            Ok((
                RelationExpr::global_get(entry.id, desc.types.clone()),
                desc.names.clone(),
                desc.types.clone(),
                entry.name.clone(),
            ))
        }
    }
}

//! Planning FROM items and joins.
//!
//! Outer joins are lowered to inner joins plus the unmatched rows:
//! `L LEFT JOIN R ON p` = `J ∪ pad(L − matched(L))` where `J = σ_p(L × R)` and `matched(L)`
//! is each row of `L` that has at least one partner in `J`, with its multiplicity in `L`
//! (`L ⋈ distinct(π_L J)` on all columns of `L`). RIGHT is the mirror image, FULL both.

use super::context::StatementContext;
use super::expr::{ExprContext, normalize_ident};
use super::query::{self, Outer};
use super::scope::Scope;
use crate::expr::{RelationExpr, ScalarExpr};
use crate::sql::{PlanError, Result};
use sqlparser::ast::{self, JoinConstraint, JoinOperator, TableFactor};

/// `preceding` (the FROM items before this one, and the outer columns) combined with one
/// comma-separated FROM item: a cross product, or for a `LATERAL` subquery a lateral join.
pub fn plan_from_item(
    scx: &StatementContext,
    preceding: (RelationExpr, Scope),
    twj: &ast::TableWithJoins,
    now_is_constant: bool,
) -> Result<(RelationExpr, Scope)> {
    if let Some(call) = set_function_call(&twj.relation)? {
        let (rel, scope) = plan_set_function(scx, preceding, call, now_is_constant)?;
        return plan_joins(scx, rel, scope, &twj.joins, now_is_constant);
    }
    if is_lateral(&twj.relation) {
        let (rel, scope) = plan_lateral(
            scx,
            preceding,
            &twj.relation,
            JoinKind::Inner,
            &JoinConstraint::None,
            now_is_constant,
        )?;
        return plan_joins(scx, rel, scope, &twj.joins, now_is_constant);
    }
    let (rel, scope) = plan_table_with_joins(scx, twj, now_is_constant)?;
    Ok((
        query::cross_join(preceding.0, rel),
        preceding.1.concat(scope),
    ))
}

/// A set-returning function call in FROM: its name, arguments and alias.
struct SetFunctionCall<'a> {
    name: String,
    args: Vec<&'a ast::Expr>,
    alias: Option<&'a ast::TableAlias>,
    /// `WITH ORDINALITY`: a last column numbering each call's rows from 1.
    ordinality: bool,
}

fn set_function_call(factor: &TableFactor) -> Result<Option<SetFunctionCall<'_>>> {
    let (name, args, alias, ordinality) = match factor {
        TableFactor::Table {
            name,
            args: Some(args),
            alias,
            with_ordinality,
            with_hints,
            version,
            partitions,
            json_path,
            sample,
            index_directives,
            ..
        } => {
            // Clauses a function call in FROM cannot take are refused, not ignored.
            if args.settings.is_some()
                || !with_hints.is_empty()
                || version.is_some()
                || !partitions.is_empty()
                || json_path.is_some()
                || sample.is_some()
                || !index_directives.is_empty()
            {
                return Err(PlanError::unsupported(format!("FROM item {factor}")));
            }
            (
                name,
                super::expr::expr_arguments(&args.args)?,
                alias,
                *with_ordinality,
            )
        }
        TableFactor::Function {
            name,
            args,
            alias,
            with_ordinality,
            ..
        } => (
            name,
            super::expr::expr_arguments(args)?,
            alias,
            *with_ordinality,
        ),
        TableFactor::UNNEST {
            alias,
            array_exprs,
            with_offset,
            with_ordinality,
            ..
        } => {
            if *with_offset || array_exprs.len() != 1 {
                return Err(PlanError::unsupported(
                    "unnest of several arrays, or WITH OFFSET",
                ));
            }
            return Ok(Some(SetFunctionCall {
                name: "unnest".into(),
                args: array_exprs.iter().collect(),
                alias: alias.as_ref(),
                ordinality: *with_ordinality,
            }));
        }
        _ => return Ok(None),
    };
    // `pg_catalog.generate_series(...)` is the same function.
    let ident = match name.0.as_slice() {
        [ast::ObjectNamePart::Identifier(ident)] => ident,
        [
            ast::ObjectNamePart::Identifier(schema),
            ast::ObjectNamePart::Identifier(ident),
        ] if normalize_ident(schema) == crate::catalog::system::PG_CATALOG => ident,
        _ => return Ok(None),
    };
    let name = normalize_ident(ident);
    if !super::set_functions::is_set_function(&name) {
        return Ok(None);
    }
    Ok(Some(SetFunctionCall {
        name,
        args,
        alias: alias.as_ref(),
        ordinality,
    }))
}

fn plan_set_function(
    scx: &StatementContext,
    preceding: (RelationExpr, Scope),
    call: SetFunctionCall,
    now_is_constant: bool,
) -> Result<(RelationExpr, Scope)> {
    super::set_functions::plan(
        scx,
        preceding,
        &call.name,
        &call.args,
        call.alias,
        call.ordinality,
        now_is_constant,
    )
}

fn is_lateral(factor: &TableFactor) -> bool {
    matches!(factor, TableFactor::Derived { lateral: true, .. })
}

/// A `LATERAL (subquery)` joined to `left`: the subquery is planned once against the distinct
/// values of the left columns it references (as a correlated subquery is), then joined back
/// on those columns, NULL matching NULL. Its rows come first as those columns, hidden.
fn plan_lateral(
    scx: &StatementContext,
    (left, left_scope): (RelationExpr, Scope),
    factor: &TableFactor,
    kind: JoinKind,
    constraint: &JoinConstraint,
    now_is_constant: bool,
) -> Result<(RelationExpr, Scope)> {
    let TableFactor::Derived {
        subquery,
        alias,
        sample,
        ..
    } = factor
    else {
        return Err(PlanError::Syntax(
            "LATERAL applies to a subquery here".into(),
        ));
    };
    if sample.is_some() {
        return Err(PlanError::unsupported("TABLESAMPLE"));
    }
    if matches!(kind, JoinKind::Right | JoinKind::Full) {
        return Err(PlanError::InvalidColumnReference(
            "the LATERAL subquery of a RIGHT or FULL JOIN cannot refer to the left side".into(),
        ));
    }
    let mut ecx = ExprContext::new(scx, left, left_scope.clone(), "FROM");
    ecx.now_is_constant = now_is_constant;
    let super::expr::CorrelatedQuery {
        rel: planned,
        positions,
        types,
        names,
    } = ecx.plan_correlated_query(subquery, &[])?;
    let left = ecx.rel;
    let k = positions.len();
    // The names are the subquery's own columns (the prefix has none).
    let mut names = names;
    let table = match alias {
        Some(_) => Some(apply_alias(alias.as_ref(), &mut names, "")?),
        None => None,
    };
    let prefix_types = planned.typ()[..k].to_vec();
    let mut right_scope = Scope::default();
    for typ in prefix_types {
        right_scope.push(scx.item(None, "?lateral?", typ, true));
    }
    let output_types: Vec<crate::repr::ColumnType> = types;
    right_scope = right_scope.concat(scx.scope_for(table.as_deref(), &names, &output_types));
    let la = left_scope.len();
    let lateral: Vec<(usize, usize)> = positions
        .iter()
        .enumerate()
        .map(|(i, p)| (*p, la + i))
        .collect();
    plan_join(
        scx,
        left,
        left_scope,
        planned,
        right_scope,
        kind,
        constraint,
        &lateral,
        now_is_constant,
    )
}

pub fn plan_table_with_joins(
    scx: &StatementContext,
    twj: &ast::TableWithJoins,
    now_is_constant: bool,
) -> Result<(RelationExpr, Scope)> {
    let (rel, scope) = plan_table_factor(scx, &twj.relation, now_is_constant)?;
    plan_joins(scx, rel, scope, &twj.joins, now_is_constant)
}

fn plan_joins(
    scx: &StatementContext,
    mut rel: RelationExpr,
    mut scope: Scope,
    joins: &[ast::Join],
    now_is_constant: bool,
) -> Result<(RelationExpr, Scope)> {
    for join in joins {
        if join.global {
            return Err(PlanError::unsupported("GLOBAL JOIN"));
        }
        let (kind, constraint) = match &join.join_operator {
            JoinOperator::Join(c) | JoinOperator::Inner(c) => (JoinKind::Inner, c),
            JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (JoinKind::Left, c),
            JoinOperator::Right(c) | JoinOperator::RightOuter(c) => (JoinKind::Right, c),
            JoinOperator::FullOuter(c) => (JoinKind::Full, c),
            JoinOperator::CrossJoin(c) => (JoinKind::Inner, c),
            other => return Err(PlanError::unsupported(format!("join {other:?}"))),
        };
        if let Some(call) = set_function_call(&join.relation)? {
            // The function sees the rows so far (implicitly LATERAL).
            if kind != JoinKind::Inner {
                return Err(PlanError::unsupported(
                    "an outer join with a set-returning function",
                ));
            }
            (rel, scope) = plan_set_function(scx, (rel, scope), call, now_is_constant)?;
            match constraint {
                JoinConstraint::None => {}
                JoinConstraint::On(e) => {
                    let arity = scope.len();
                    let mut ecx = ExprContext::new(scx, rel, scope, "JOIN/ON");
                    ecx.now_is_constant = now_is_constant;
                    let predicate = ecx.plan_predicate(e)?;
                    rel = ecx
                        .rel
                        .filter(vec![predicate])
                        .project((0..arity).collect());
                    scope = ecx.scope;
                    scope.items.truncate(arity);
                }
                _ => {
                    return Err(PlanError::unsupported(
                        "USING or NATURAL with a set-returning function",
                    ));
                }
            }
            continue;
        }
        if is_lateral(&join.relation) {
            (rel, scope) = plan_lateral(
                scx,
                (rel, scope),
                &join.relation,
                kind,
                constraint,
                now_is_constant,
            )?;
            continue;
        }
        let (right, right_scope) = plan_table_factor(scx, &join.relation, now_is_constant)?;
        (rel, scope) = plan_join(
            scx,
            rel,
            scope,
            right,
            right_scope,
            kind,
            constraint,
            &[],
            now_is_constant,
        )?;
    }
    Ok((rel, scope))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
}

fn plan_table_factor(
    scx: &StatementContext,
    factor: &TableFactor,
    now_is_constant: bool,
) -> Result<(RelationExpr, Scope)> {
    if let Some(call) = set_function_call(factor)? {
        let one_row = RelationExpr::constant(vec![crate::repr::Row::empty()], vec![]);
        return plan_set_function(scx, (one_row, Scope::default()), call, now_is_constant);
    }
    match factor {
        TableFactor::Table {
            name,
            alias,
            args,
            with_hints,
            version,
            with_ordinality,
            partitions,
            json_path,
            sample,
            index_directives,
            ..
        } => {
            if let Some(function_args) = args
                && let [ast::ObjectNamePart::Identifier(ident)] = name.0.as_slice()
                && super::time_windows::is_time_window(&normalize_ident(ident))
            {
                let (rel, mut names, types, table_name) =
                    super::time_windows::plan(scx, &normalize_ident(ident), &function_args.args)?;
                let table = apply_alias(alias.as_ref(), &mut names, &table_name)?;
                let scope = scx.scope_for(Some(&table), &names, &types);
                return Ok((rel, scope));
            }
            if args.is_some()
                || !with_hints.is_empty()
                || version.is_some()
                || *with_ordinality
                || !partitions.is_empty()
                || json_path.is_some()
                || sample.is_some()
                || !index_directives.is_empty()
            {
                return Err(PlanError::unsupported(format!("FROM item {factor}")));
            }
            let (rel, mut names, types, table_name) = query::resolve_catalog_relation(scx, name)?;
            let table = apply_alias(alias.as_ref(), &mut names, &table_name)?;
            let scope = scx.scope_for(Some(&table), &names, &types);
            Ok((rel, scope))
        }
        TableFactor::Derived {
            lateral,
            subquery,
            alias,
            sample,
        } => {
            if *lateral {
                // `plan_from_item` and `plan_joins` plan these with what precedes them.
                return Err(PlanError::unsupported(
                    "LATERAL here (it may follow a comma or JOIN in FROM)",
                ));
            }
            if sample.is_some() {
                return Err(PlanError::unsupported("TABLESAMPLE"));
            }
            let planned = query::plan_query(scx, subquery, &Outer::none(), now_is_constant)?;
            let mut names = planned.column_names();
            let types = planned.column_types();
            let rel = planned.into_relation();
            let table = match alias {
                Some(_) => Some(apply_alias(alias.as_ref(), &mut names, "")?),
                None => None,
            };
            let scope = scx.scope_for(table.as_deref(), &names, &types);
            Ok((rel, scope))
        }
        TableFactor::NestedJoin {
            table_with_joins,
            alias,
        } => {
            let (rel, mut scope) = plan_table_with_joins(scx, table_with_joins, now_is_constant)?;
            if let Some(alias) = alias {
                let mut names: Vec<String> = scope.items.iter().map(|i| i.column.clone()).collect();
                let table = apply_alias(Some(alias), &mut names, "")?;
                for (item, name) in scope.items.iter_mut().zip(names) {
                    item.table = Some(table.clone());
                    item.column = name;
                }
            }
            Ok((rel, scope))
        }
        other => Err(PlanError::unsupported(format!("FROM item {other}"))),
    }
}

/// Applies `AS alias (c1, c2, ...)`; returns the name the relation is known by.
pub(super) fn apply_alias(
    alias: Option<&ast::TableAlias>,
    names: &mut [String],
    default: &str,
) -> Result<String> {
    match alias {
        None => Ok(default.to_string()),
        Some(alias) => {
            if alias.columns.len() > names.len() {
                return Err(PlanError::Syntax(format!(
                    "table \"{}\" has {} columns available but {} columns specified",
                    normalize_ident(&alias.name),
                    names.len(),
                    alias.columns.len()
                )));
            }
            for (name, column) in names.iter_mut().zip(&alias.columns) {
                *name = normalize_ident(&column.name);
            }
            Ok(normalize_ident(&alias.name))
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn plan_join(
    scx: &StatementContext,
    left: RelationExpr,
    left_scope: Scope,
    right: RelationExpr,
    right_scope: Scope,
    kind: JoinKind,
    constraint: &JoinConstraint,
    lateral: &[(usize, usize)],
    now_is_constant: bool,
) -> Result<(RelationExpr, Scope)> {
    let la = left_scope.len();
    let ra = right_scope.len();
    let left = scx.bind(left);
    let right = scx.bind(right);
    let mut scope = left_scope.clone().concat(right_scope.clone());
    // A lateral subquery's rows belong to the left rows whose columns they carry.
    let lateral_eqs = lateral
        .iter()
        .map(|(l, r)| vec![ScalarExpr::Column(*l), ScalarExpr::Column(*r)])
        .collect();
    let product = RelationExpr::join(vec![left.clone(), right.clone()], lateral_eqs);
    // The join predicate, and for USING / NATURAL the columns merged into one.
    let mut using_pairs: Vec<(usize, usize)> = Vec::new();
    let predicate = match constraint {
        JoinConstraint::On(e) => {
            let mut ecx = ExprContext::new(scx, product.clone(), scope.clone(), "JOIN/ON");
            ecx.now_is_constant = now_is_constant;
            let pred = ecx.plan_predicate(e)?;
            Some((ecx.rel, pred))
        }
        JoinConstraint::Using(columns) => {
            for column in columns {
                let name = match column.0.as_slice() {
                    [ast::ObjectNamePart::Identifier(i)] => normalize_ident(i),
                    _ => return Err(PlanError::Syntax(format!("invalid USING column {column}"))),
                };
                let l = left_scope.resolve(None, &name).map_err(|_| {
                    PlanError::UnknownColumn(format!(
                        "{name}\" specified in USING clause does not exist in left table \""
                    ))
                })?;
                let r = right_scope.resolve(None, &name)?;
                using_pairs.push((l, la + r));
            }
            None
        }
        JoinConstraint::Natural => {
            for (r, item) in right_scope.items.iter().enumerate() {
                if let Ok(l) = left_scope.resolve(None, &item.column) {
                    using_pairs.push((l, la + r));
                }
            }
            None
        }
        JoinConstraint::None => None,
        JoinConstraint::UsingAlias(..) => return Err(PlanError::unsupported("USING ... AS")),
    };
    let (joined, predicates) = match predicate {
        Some((rel, pred)) => (rel, vec![pred]),
        None => {
            let mut preds = Vec::new();
            for (l, r) in &using_pairs {
                let (eq, _) = super::func::plan_binary_op(
                    "=",
                    (
                        ScalarExpr::Column(*l),
                        scope.items[*l].typ.scalar_type.clone(),
                    ),
                    (
                        ScalarExpr::Column(*r),
                        scope.items[*r].typ.scalar_type.clone(),
                    ),
                )?;
                preds.push(eq);
            }
            (product, preds)
        }
    };
    let inner = scx.bind(joined.filter(predicates).project((0..la + ra).collect()));
    let rel = match kind {
        JoinKind::Inner => inner,
        JoinKind::Left => inner
            .clone()
            .union(unmatched(&left, &inner, 0, la, ra, true)),
        JoinKind::Right => inner
            .clone()
            .union(unmatched(&right, &inner, la, ra, la, false)),
        JoinKind::Full => inner
            .clone()
            .union(unmatched(&left, &inner, 0, la, ra, true))
            .union(unmatched(&right, &inner, la, ra, la, false)),
    };
    // USING / NATURAL: the merged column is visible once, unqualified; the right copy is
    // hidden from `*` and from unqualified names.
    let mut rel = rel;
    for (l, r) in &using_pairs {
        scope.items[*r].hidden = true;
        if kind == JoinKind::Full {
            let arity = scope.len();
            rel = rel.map(vec![ScalarExpr::Coalesce(vec![
                ScalarExpr::Column(*l),
                ScalarExpr::Column(*r),
            ])]);
            let mut merged = scope.items[*l].clone();
            merged.table = None;
            merged.uid = scx.fresh_id();
            scope.items[*l].hidden = true;
            scope.push(merged);
            let _ = arity;
        } else if kind == JoinKind::Right {
            scope.items[*l].hidden = true;
            scope.items[*r].hidden = false;
        }
    }
    let _ = left_scope;
    Ok((rel, scope))
}

/// The rows of `side` (columns `offset .. offset + arity` of the join) that have no partner
/// in `inner`, padded with NULLs for the other side's `other_arity` columns.
fn unmatched(
    side: &RelationExpr,
    inner: &RelationExpr,
    offset: usize,
    arity: usize,
    other_arity: usize,
    side_is_left: bool,
) -> RelationExpr {
    let matched_rows = inner
        .clone()
        .project((offset..offset + arity).collect())
        .distinct();
    let eqs = (0..arity)
        .map(|c| vec![ScalarExpr::Column(c), ScalarExpr::Column(arity + c)])
        .collect();
    let matched =
        RelationExpr::join(vec![side.clone(), matched_rows], eqs).project((0..arity).collect());
    let missing = side.clone().union(matched.negate());
    let other_types = inner.typ();
    let nulls: Vec<ScalarExpr> = if side_is_left {
        other_types[arity..arity + other_arity]
            .iter()
            .map(|t| ScalarExpr::null(t.scalar_type.clone()))
            .collect()
    } else {
        other_types[..other_arity]
            .iter()
            .map(|t| ScalarExpr::null(t.scalar_type.clone()))
            .collect()
    };
    let padded = missing.map(nulls);
    if side_is_left {
        padded
    } else {
        // Columns are `right ++ nulls(left)`: reorder to `nulls(left) ++ right`.
        padded.project((arity..arity + other_arity).chain(0..arity).collect())
    }
}

//! Planning scalar expressions, including subqueries.
//!
//! An `ExprContext` holds the relation the expression is evaluated over. Subqueries are
//! decorrelated, never evaluated per row: a subquery is planned against the distinct values of
//! the outer columns it references (its "prefix"), producing `prefix ++ result` rows, and the
//! result is left-joined back onto the relation as a new (hidden) column. Hence planning an
//! expression may extend `rel` and `scope`; callers project back to the columns they need.
//!
//! - scalar `(q)`: one value per prefix; NULL when `q` has no row; an error when more than one.
//! - `EXISTS (q)`: whether the prefix has any row; `NOT EXISTS` its negation.
//! - `x op ANY (q)` / `x IN (q)`: the three-valued disjunction of `x op s` over `q`'s rows (the
//!   `any` aggregate), FALSE when there are none; `ALL` the conjunction, TRUE when none.

use super::context::StatementContext;
use super::func::{self, CastContext};
use super::query::{self, Outer};
use super::scope::Scope;
use super::types::scalar_type_from_sql;
use crate::expr::{AggregateExpr, AggregateFunc, EvalError, RelationExpr, ScalarExpr};
use crate::repr::{ColumnType, Datum, Row, ScalarType};
use crate::sql::{PlanError, Result};
use rust_decimal::Decimal;
use sqlparser::ast::{self, BinaryOperator, Expr, UnaryOperator, Value};
use std::str::FromStr;

/// Maps expressions of a grouped query (GROUP BY keys and aggregate calls, by their syntax)
/// to the columns of the reduced relation that hold them.
pub struct Grouping {
    pub exprs: Vec<(Expr, usize)>,
    /// The scope before grouping, to tell "not grouped" from "does not exist".
    pub ungrouped_scope: Scope,
}

impl Grouping {
    /// `previous`'s replacements (if any) and `more`: for the columns that windows and
    /// set-returning functions add, planned after grouping into `scope`.
    pub fn extended(previous: Option<&Grouping>, more: Vec<(Expr, usize)>, scope: &Scope) -> Self {
        let mut exprs = previous.map(|g| g.exprs.clone()).unwrap_or_default();
        exprs.extend(more);
        Grouping {
            exprs,
            ungrouped_scope: previous
                .map(|g| g.ungrouped_scope.clone())
                .unwrap_or_else(|| scope.clone()),
        }
    }
}

pub struct ExprContext<'s, 'a> {
    pub scx: &'s StatementContext<'a>,
    pub rel: RelationExpr,
    pub scope: Scope,
    pub grouping: Option<&'s Grouping>,
    /// The clause being planned, for error messages ("WHERE", "VALUES", ...).
    pub clause: &'static str,
    /// Whether `now()` and friends are the statement's start time (one-off statements), or
    /// `mz_now()`, the logical time of each update (views and SUBSCRIBE: temporal filters).
    pub now_is_constant: bool,
}

pub type Typed = (ScalarExpr, ScalarType);

/// A call's arguments, each a plain expression (no named arguments, no `*`).
/// The function calls in `exprs` for which `wanted` holds, each once, in the order met,
/// outside subqueries (a subquery's calls belong to it).
pub fn collect_calls<'e>(
    exprs: impl IntoIterator<Item = &'e Expr>,
    wanted: impl Fn(&ast::Function) -> bool,
) -> Vec<ast::Function> {
    use sqlparser::ast::{Visit, Visitor};
    use std::ops::ControlFlow;
    struct Collector<F> {
        calls: Vec<ast::Function>,
        query_depth: usize,
        wanted: F,
    }
    impl<F: Fn(&ast::Function) -> bool> Visitor for Collector<F> {
        type Break = ();
        fn pre_visit_query(&mut self, _query: &ast::Query) -> ControlFlow<()> {
            self.query_depth += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _query: &ast::Query) -> ControlFlow<()> {
            self.query_depth -= 1;
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            if let Expr::Function(f) = expr
                && self.query_depth == 0
                && (self.wanted)(f)
                && !self.calls.contains(f)
            {
                self.calls.push(f.clone());
            }
            ControlFlow::Continue(())
        }
    }
    let mut collector = Collector {
        calls: Vec::new(),
        query_depth: 0,
        wanted,
    };
    for e in exprs {
        let _ = e.visit(&mut collector);
    }
    collector.calls
}

/// The expressions of a SELECT list (not its wildcards).
pub fn select_list_exprs(projection: &[ast::SelectItem]) -> impl Iterator<Item = &Expr> {
    projection.iter().filter_map(|item| match item {
        ast::SelectItem::UnnamedExpr(e) | ast::SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
        _ => None,
    })
}

pub fn expr_arguments(args: &[ast::FunctionArg]) -> Result<Vec<&Expr>> {
    args.iter()
        .map(|arg| match arg {
            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Ok(e),
            other => Err(PlanError::unsupported(format!("function argument {other}"))),
        })
        .collect()
}

/// A subquery planned against the distinct values of the outer columns it refers to.
pub struct CorrelatedQuery {
    /// Rows `prefix ++ columns`: the outer columns' values, then the subquery's columns.
    pub rel: RelationExpr,
    /// The positions, in the outer relation, of the prefix columns.
    pub positions: Vec<usize>,
    /// The subquery's own column types and names.
    pub types: Vec<ColumnType>,
    pub names: Vec<String>,
}

/// Plans `e` (which must not read any column), casts it to `typ` and evaluates it: the
/// value of a statement option or a window size.
pub fn eval_constant(
    scx: &StatementContext,
    e: &Expr,
    typ: &ScalarType,
    clause: &'static str,
) -> Result<Datum> {
    let mut ecx = ExprContext::new(
        scx,
        RelationExpr::constant(vec![crate::repr::Row::empty()], vec![]),
        Scope::default(),
        clause,
    );
    let (planned, t) = ecx.plan_expr(e)?;
    Ok(func::plan_cast(planned, &t, typ, func::CastContext::Explicit)?.eval(&[])?)
}

/// `mz_now()`: see `expr::temporal_filter`.
fn mz_now() -> Typed {
    (
        ScalarExpr::call(crate::expr::Func::MzNow, vec![]),
        ScalarType::TimestampTz,
    )
}

/// Normalizes an identifier as PostgreSQL does: unquoted names fold to lowercase.
pub fn normalize_ident(ident: &ast::Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// The name parts of an object name, normalized.
pub fn normalize_name(name: &ast::ObjectName) -> Result<Vec<String>> {
    name.0
        .iter()
        .map(|part| match part {
            ast::ObjectNamePart::Identifier(ident) => Ok(normalize_ident(ident)),
            other => Err(PlanError::unsupported(format!("name part {other}"))),
        })
        .collect()
}

impl<'s, 'a> ExprContext<'s, 'a> {
    pub fn new(
        scx: &'s StatementContext<'a>,
        rel: RelationExpr,
        scope: Scope,
        clause: &'static str,
    ) -> Self {
        ExprContext {
            scx,
            rel,
            scope,
            grouping: None,
            clause,
            now_is_constant: true,
        }
    }

    pub fn arity(&self) -> usize {
        self.scope.len()
    }

    /// Plans `expr` and casts it to boolean (for WHERE / HAVING / ON / CASE WHEN).
    pub fn plan_predicate(&mut self, expr: &Expr) -> Result<ScalarExpr> {
        let (e, typ) = self.plan_expr(expr)?;
        match typ {
            ScalarType::Bool => Ok(e),
            ScalarType::Unknown => {
                func::plan_cast(e, &typ, &ScalarType::Bool, CastContext::Implicit)
            }
            other => Err(PlanError::DatatypeMismatch(format!(
                "argument of {} must be type boolean, not type {}",
                self.clause,
                other.sql_name()
            ))),
        }
    }

    /// Plans `expr` and casts it to `typ` as an assignment would.
    pub fn plan_expr_as(&mut self, expr: &Expr, typ: &ScalarType) -> Result<ScalarExpr> {
        let (e, from) = self.plan_expr(expr)?;
        func::plan_cast(e, &from, typ, CastContext::Assignment)
    }

    pub fn plan_expr(&mut self, expr: &Expr) -> Result<Typed> {
        if let Some(grouping) = self.grouping
            && let Some((_, col)) = grouping
                .exprs
                .iter()
                .find(|(e, _)| strip_nested(e) == strip_nested(expr))
        {
            let typ = self.scope.items[*col].typ.scalar_type.clone();
            return Ok((ScalarExpr::Column(*col), typ));
        }
        match expr {
            Expr::Identifier(ident) => self.plan_column(None, &normalize_ident(ident)),
            Expr::CompoundIdentifier(idents) => {
                let names: Vec<String> = idents.iter().map(normalize_ident).collect();
                match names.as_slice() {
                    [table, column] => self.plan_column(Some(table), column),
                    [_schema, table, column] => self.plan_column(Some(table), column),
                    _ => Err(PlanError::unsupported(format!("column reference {expr}"))),
                }
            }
            Expr::Value(value) => self.plan_value(&value.value),
            Expr::TypedString(ts) => {
                let typ = scalar_type_from_sql(&ts.data_type)?;
                let (e, from) = self.plan_value(&ts.value.value)?;
                Ok((func::plan_cast(e, &from, &typ, CastContext::Explicit)?, typ))
            }
            Expr::Interval(interval) => {
                if interval.last_field.is_some() || interval.fractional_seconds_precision.is_some()
                {
                    return Err(PlanError::unsupported("INTERVAL with field qualifiers"));
                }
                let (e, from) = self.plan_expr(&interval.value)?;
                let e = match (&interval.leading_field, e) {
                    (Some(field), ScalarExpr::Literal(Ok(Datum::String(s)), _)) => {
                        ScalarExpr::literal(
                            Datum::String(format!("{s} {field}")),
                            ScalarType::Unknown,
                        )
                    }
                    (Some(_), _) => {
                        return Err(PlanError::unsupported("INTERVAL field on a non-literal"));
                    }
                    (None, e) => e,
                };
                let e = func::plan_cast(e, &from, &ScalarType::Interval, CastContext::Explicit)?;
                Ok((e, ScalarType::Interval))
            }
            Expr::Nested(inner) => self.plan_expr(inner),
            // Text compares bytewise everywhere, which is the C collation (and the default).
            Expr::Collate {
                expr: inner,
                collation,
            } => {
                let parts = normalize_name(collation)?;
                let name = match parts.as_slice() {
                    [name] => name.as_str(),
                    [schema, name] if schema == crate::catalog::system::PG_CATALOG => name.as_str(),
                    _ => "",
                };
                if !matches!(name, "default" | "C" | "c" | "POSIX" | "posix") {
                    return Err(PlanError::unsupported(format!("COLLATE {collation}")));
                }
                self.plan_expr(inner)
            }
            Expr::Cast {
                expr: inner,
                data_type,
                format,
                ..
            } => {
                if format.is_some() {
                    return Err(PlanError::unsupported("CAST ... FORMAT"));
                }
                let typ = scalar_type_from_sql(data_type)?;
                // `ARRAY[]::t[]`: the cast gives the empty array its type.
                if let (Expr::Array(array), ScalarType::Array(_)) = (inner.as_ref(), &typ)
                    && array.elem.is_empty()
                {
                    return Ok((ScalarExpr::call(crate::expr::Func::MakeArray, vec![]), typ));
                }
                // A parameter cast to `regclass` and its siblings is a name: text.
                let hint = match typ {
                    ScalarType::Reg(_) => ScalarType::String,
                    _ => typ.clone(),
                };
                let (e, from) = self.plan_expr_typed_param(inner, &hint)?;
                // Names to and from `regclass` and its siblings need the catalog.
                match (&from, &typ) {
                    (source, ScalarType::Reg(kind))
                        if source.is_string_like() || *source == ScalarType::Unknown =>
                    {
                        let cx = self.scx.system_context();
                        return Ok((
                            super::reg_types::plan_input(&cx, *kind, (e, from), false)?,
                            typ,
                        ));
                    }
                    (ScalarType::Reg(kind), to) if to.is_string_like() => {
                        let cx = self.scx.system_context();
                        let name = super::reg_types::plan_output(&cx, *kind, e);
                        return Ok((
                            func::plan_cast(
                                name,
                                &ScalarType::String,
                                &typ,
                                CastContext::Explicit,
                            )?,
                            typ,
                        ));
                    }
                    _ => {}
                }
                Ok((func::plan_cast(e, &from, &typ, CastContext::Explicit)?, typ))
            }
            Expr::UnaryOp { op, expr: inner } => match op {
                UnaryOperator::Minus => {
                    if let Expr::Value(v) = inner.as_ref()
                        && let Value::Number(n, _) = &v.value
                    {
                        return plan_number(&format!("-{n}"));
                    }
                    let operand = self.plan_expr(inner)?;
                    func::plan_unary_op("-", operand)
                }
                UnaryOperator::Plus => {
                    let operand = self.plan_expr(inner)?;
                    func::plan_unary_op("+", operand)
                }
                UnaryOperator::Not => {
                    let operand = self.plan_predicate_operand(inner)?;
                    func::plan_unary_op("NOT", operand)
                }
                other => Err(PlanError::unsupported(format!("operator {other}"))),
            },
            Expr::BinaryOp { left, op, right } => self.plan_binary(left, op, right),
            Expr::IsNull(e) => self.plan_unary_test("IS NULL", e),
            Expr::IsNotNull(e) => self.plan_unary_test("IS NOT NULL", e),
            Expr::IsTrue(e) => self.plan_unary_test("IS TRUE", e),
            Expr::IsNotTrue(e) => self.plan_unary_test("IS NOT TRUE", e),
            Expr::IsFalse(e) => self.plan_unary_test("IS FALSE", e),
            Expr::IsNotFalse(e) => self.plan_unary_test("IS NOT FALSE", e),
            Expr::IsUnknown(e) => self.plan_unary_test("IS UNKNOWN", e),
            Expr::IsNotUnknown(e) => self.plan_unary_test("IS NOT UNKNOWN", e),
            Expr::IsDistinctFrom(l, r) => self.plan_operator("IS DISTINCT FROM", l, r),
            Expr::IsNotDistinctFrom(l, r) => self.plan_operator("IS NOT DISTINCT FROM", l, r),
            Expr::Between {
                expr: e,
                negated,
                low,
                high,
            } => {
                let ge = self.plan_operator(">=", e, low)?;
                let le = self.plan_operator("<=", e, high)?;
                let both = ScalarExpr::And(vec![ge.0, le.0]);
                if *negated {
                    func::plan_unary_op("NOT", (both, ScalarType::Bool))
                } else {
                    Ok((both, ScalarType::Bool))
                }
            }
            Expr::Like {
                negated,
                any,
                expr: e,
                pattern,
                escape_char,
            }
            | Expr::ILike {
                negated,
                any,
                expr: e,
                pattern,
                escape_char,
            } => {
                if *any {
                    return Err(PlanError::unsupported("LIKE ANY"));
                }
                if escape_char.is_some() {
                    return Err(PlanError::unsupported("LIKE ... ESCAPE"));
                }
                let op = match (matches!(expr, Expr::ILike { .. }), negated) {
                    (false, false) => "LIKE",
                    (false, true) => "NOT LIKE",
                    (true, false) => "ILIKE",
                    (true, true) => "NOT ILIKE",
                };
                self.plan_operator(op, e, pattern)
            }
            Expr::In {
                expr: e,
                target: ast::InTarget::List(list),
                negated,
                ..
            } => {
                let mut disjuncts = Vec::with_capacity(list.len());
                for item in list {
                    disjuncts.push(self.plan_operator("=", e, item)?.0);
                }
                let any = ScalarExpr::Or(disjuncts);
                if *negated {
                    func::plan_unary_op("NOT", (any, ScalarType::Bool))
                } else {
                    Ok((any, ScalarType::Bool))
                }
            }
            Expr::In {
                expr: e,
                target: ast::InTarget::Subquery(subquery),
                negated,
                ..
            } => {
                let any = self.plan_quantified_subquery(e, "=", subquery, true)?;
                if *negated {
                    func::plan_unary_op("NOT", any)
                } else {
                    Ok(any)
                }
            }
            Expr::AnyOp {
                left,
                compare_op,
                right,
                ..
            } => match right.as_ref() {
                Expr::Subquery(q) => {
                    self.plan_quantified_subquery(left, &binary_op_name(compare_op)?, q, true)
                }
                array => self.plan_array_quantified(left, compare_op, array, false),
            },
            Expr::AllOp {
                left,
                compare_op,
                right,
            } => match right.as_ref() {
                Expr::Subquery(q) => {
                    self.plan_quantified_subquery(left, &binary_op_name(compare_op)?, q, false)
                }
                array => self.plan_array_quantified(left, compare_op, array, true),
            },
            Expr::Exists { subquery, negated } => {
                let exists = self.plan_exists(subquery)?;
                if *negated {
                    func::plan_unary_op("NOT", exists)
                } else {
                    Ok(exists)
                }
            }
            Expr::Subquery(q) => self.plan_scalar_subquery(q),
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => self.plan_case(operand.as_deref(), conditions, else_result.as_deref()),
            Expr::Function(f) => self.plan_function_call(f),
            Expr::Extract { field, expr: e, .. } => {
                let field = ScalarExpr::literal(
                    Datum::String(field.to_string().to_lowercase()),
                    ScalarType::String,
                );
                let arg = self.plan_expr(e)?;
                func::plan_function("extract", vec![(field, ScalarType::String), arg])
            }
            Expr::Substring {
                expr: e,
                substring_from,
                substring_for,
                ..
            } => {
                let mut args = vec![self.plan_expr(e)?];
                match (substring_from, substring_for) {
                    (Some(from), Some(len)) => {
                        args.push(self.plan_expr(from)?);
                        args.push(self.plan_expr(len)?);
                    }
                    (Some(from), None) => args.push(self.plan_expr(from)?),
                    (None, Some(len)) => {
                        args.push((
                            ScalarExpr::literal(Datum::Int32(1), ScalarType::Int32),
                            ScalarType::Int32,
                        ));
                        args.push(self.plan_expr(len)?);
                    }
                    (None, None) => {}
                }
                func::plan_function("substring", args)
            }
            Expr::Position { expr: needle, r#in } => {
                let haystack = self.plan_expr(r#in)?;
                let needle = self.plan_expr(needle)?;
                func::plan_function("strpos", vec![haystack, needle])
            }
            Expr::Trim {
                trim_where,
                trim_what,
                expr: e,
                trim_characters,
            } => {
                if trim_characters.is_some() {
                    return Err(PlanError::unsupported("TRIM with a character list"));
                }
                let name = match trim_where {
                    None => "btrim",
                    Some(ast::TrimWhereField::Both) => "btrim",
                    Some(ast::TrimWhereField::Leading) => "ltrim",
                    Some(ast::TrimWhereField::Trailing) => "rtrim",
                };
                let mut args = vec![self.plan_expr(e)?];
                if let Some(what) = trim_what {
                    args.push(self.plan_expr(what)?);
                }
                func::plan_function(name, args)
            }
            Expr::Ceil { expr: e, field } | Expr::Floor { expr: e, field } => {
                if !matches!(
                    field,
                    ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime)
                ) {
                    return Err(PlanError::unsupported(format!("{expr}")));
                }
                let name = if matches!(expr, Expr::Ceil { .. }) {
                    "ceil"
                } else {
                    "floor"
                };
                let arg = self.plan_expr(e)?;
                func::plan_function(name, vec![arg])
            }
            Expr::Array(array) => self.plan_array(array),
            Expr::CompoundFieldAccess { root, access_chain } => {
                // `t.col[i]` parses as `t` then `.col` then `[i]`: the leading dot parts name
                // the column.
                let dots = access_chain
                    .iter()
                    .take_while(|a| matches!(a, ast::AccessExpr::Dot(Expr::Identifier(_))))
                    .count();
                let (mut planned, mut typ) = match root.as_ref() {
                    Expr::Identifier(first) if dots > 0 => {
                        let mut parts = vec![first.clone()];
                        parts.extend(access_chain[..dots].iter().filter_map(|a| match a {
                            ast::AccessExpr::Dot(Expr::Identifier(id)) => Some(id.clone()),
                            _ => None,
                        }));
                        self.plan_expr(&Expr::CompoundIdentifier(parts))?
                    }
                    _ => self.plan_expr(root)?,
                };
                let access_chain = if matches!(root.as_ref(), Expr::Identifier(_)) {
                    &access_chain[dots..]
                } else {
                    &access_chain[..]
                };
                for access in access_chain {
                    let ast::AccessExpr::Subscript(ast::Subscript::Index { index }) = access else {
                        return Err(PlanError::unsupported(format!(
                            "array slices and field access ({expr})"
                        )));
                    };
                    let Some(element) = typ.array_element() else {
                        return Err(PlanError::DatatypeMismatch(format!(
                            "cannot subscript type {} because it does not support subscripting",
                            typ.sql_name()
                        )));
                    };
                    let (i, it) = self.plan_expr(index)?;
                    let mut i = func::plan_cast(i, &it, &ScalarType::Int32, CastContext::Implicit)?;
                    // A vector's subscripts start at 0.
                    if typ.vector_element().is_some() {
                        i = ScalarExpr::call(
                            crate::expr::Func::Add,
                            vec![
                                i,
                                ScalarExpr::literal(
                                    crate::repr::Datum::Int32(1),
                                    ScalarType::Int32,
                                ),
                            ],
                        );
                    }
                    planned = ScalarExpr::call(crate::expr::Func::ArrayIndex, vec![planned, i]);
                    typ = element;
                }
                Ok((planned, typ))
            }
            other => Err(PlanError::unsupported(format!("expression {other}"))),
        }
    }

    /// `x op ANY (array)` / `x op ALL (array)`: the comparison is planned once for `x` and an
    /// element, and evaluated per element (see `Func::ArrayQuantified`). An untyped literal
    /// (`'{1,2}'`) or parameter (`$1`) is an array of `x`'s type, as in PostgreSQL.
    fn plan_array_quantified(
        &mut self,
        left: &Expr,
        op: &ast::BinaryOperator,
        array: &Expr,
        all: bool,
    ) -> Result<Typed> {
        let (x, xt) = self.plan_expr(left)?;
        let (a, at) = if xt == ScalarType::Unknown {
            self.plan_expr(array)?
        } else {
            self.plan_expr_typed_param(array, &ScalarType::Array(Box::new(xt.without_modifiers())))?
        };
        let (a, element) = match at {
            ScalarType::Array(element) => (a, *element),
            ScalarType::Int2Vector | ScalarType::OidVector => {
                let element = at.vector_element().unwrap_or(ScalarType::Int16);
                (a, element)
            }
            ScalarType::Unknown => {
                let want = ScalarType::Array(Box::new(xt.clone()));
                (
                    func::plan_cast(a, &ScalarType::Unknown, &want, CastContext::Explicit)?,
                    xt.clone(),
                )
            }
            other => {
                return Err(PlanError::DatatypeMismatch(format!(
                    "op ANY/ALL (array) requires array on right side, not {}",
                    other.sql_name()
                )));
            }
        };
        let (compare, typ) = func::plan_binary_op(
            &binary_op_name(op)?,
            (ScalarExpr::Column(0), xt),
            (ScalarExpr::Column(1), element),
        )?;
        if typ != ScalarType::Bool {
            return Err(PlanError::DatatypeMismatch(
                "op ANY/ALL (array) requires operator to yield boolean".into(),
            ));
        }
        Ok((
            ScalarExpr::call(
                crate::expr::Func::ArrayQuantified {
                    compare: Box::new(compare),
                    all,
                },
                vec![x, a],
            ),
            ScalarType::Bool,
        ))
    }

    /// `ARRAY[e1, e2, ...]`: the elements coerced to their common type.
    fn plan_array(&mut self, array: &ast::Array) -> Result<Typed> {
        let mut elements = Vec::with_capacity(array.elem.len());
        for e in &array.elem {
            elements.push(self.plan_expr(e)?);
        }
        let types: Vec<ScalarType> = elements.iter().map(|(_, t)| t.clone()).collect();
        let common = func::common_type(&types, "ARRAY")?;
        let common = match common {
            ScalarType::Unknown if elements.is_empty() => {
                return Err(PlanError::DatatypeMismatch(
                    "cannot determine type of empty array".into(),
                ));
            }
            ScalarType::Unknown => ScalarType::String,
            ScalarType::Array(_) => {
                return Err(PlanError::unsupported("multidimensional arrays"));
            }
            other => other,
        };
        let args = elements
            .into_iter()
            .map(|(e, t)| func::plan_cast(e, &t, &common, CastContext::Implicit))
            .collect::<Result<Vec<_>>>()?;
        Ok((
            ScalarExpr::call(crate::expr::Func::MakeArray, args),
            ScalarType::Array(Box::new(common)),
        ))
    }

    /// `ARRAY(subquery)`: the subquery's one column as an array, empty when it has no rows;
    /// planned as a scalar subquery aggregating that column with `coalesce(array_agg(x),
    /// '{}')`. The elements' order is unspecified, so an ORDER BY in the subquery is refused
    /// rather than ignored.
    fn plan_array_subquery(&mut self, query: &ast::Query) -> Result<Typed> {
        let order_by = match &query.order_by {
            None => None,
            Some(ast::OrderBy {
                kind: ast::OrderByKind::Expressions(items),
                interpolate: None,
            }) => Some(items),
            Some(_) => return Err(PlanError::unsupported("this ORDER BY in ARRAY(subquery)")),
        };
        let single_column = match query.body.as_ref() {
            ast::SetExpr::Select(select) => {
                select.projection.len() == 1
                    && matches!(
                        select.projection[0],
                        ast::SelectItem::UnnamedExpr(_) | ast::SelectItem::ExprWithAlias { .. }
                    )
            }
            _ => false,
        };
        if !single_column {
            return Err(PlanError::Syntax(
                "subquery must return only one column".into(),
            ));
        }
        // A plain SELECT aggregates its one expression in place, which keeps any reference
        // to the enclosing query working; others go through a derived table.
        let sql = match query.body.as_ref() {
            ast::SetExpr::Select(select)
                if query.limit_clause.is_none()
                    && query.with.is_none()
                    && select.distinct.is_none()
                    && select.having.is_none()
                    && matches!(&select.group_by, ast::GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty())
                    && collect_calls(select_list_exprs(&select.projection), |f| {
                        f.over.is_some()
                            || matches!(normalize_name(&f.name).as_deref(), Ok([n]) if func::is_aggregate(n))
                    })
                    .is_empty() =>
            {
                let mut select = select.as_ref().clone();
                let (element, alias) = match &select.projection[0] {
                    ast::SelectItem::UnnamedExpr(e) => (e.clone(), None),
                    ast::SelectItem::ExprWithAlias { expr: e, alias } => {
                        (e.clone(), Some(normalize_ident(alias)))
                    }
                    _ => unreachable!("checked: one expression"),
                };
                // The subquery's ORDER BY orders the array: `ORDER BY 1` and the column's
                // alias name the element itself.
                let order = match order_by {
                    None => String::new(),
                    Some(items) => {
                        let keys = items
                            .iter()
                            .map(|item| {
                                let names_element = match &item.expr {
                                    Expr::Value(v) => matches!(&v.value, Value::Number(n, _) if n == "1"),
                                    Expr::Identifier(id) => alias.as_deref() == Some(normalize_ident(id).as_str()),
                                    _ => false,
                                };
                                let mut item = item.clone();
                                if names_element {
                                    item.expr = element.clone();
                                }
                                item.to_string()
                            })
                            .collect::<Vec<_>>();
                        format!(" ORDER BY {}", keys.join(", "))
                    }
                };
                select.projection = vec![ast::SelectItem::UnnamedExpr(parse_expression(&format!(
                    "coalesce(array_agg({element}{order}), '{{}}')"
                ))?)];
                format!("({select})")
            }
            _ if order_by.is_some() => {
                return Err(PlanError::unsupported(
                    "ORDER BY in ARRAY(subquery) over this query",
                ));
            }
            _ => format!("(SELECT coalesce(array_agg(s.x), '{{}}') FROM ({query}) AS s(x))"),
        };
        self.plan_expr(&parse_expression(&sql)?)
    }

    fn plan_predicate_operand(&mut self, expr: &Expr) -> Result<Typed> {
        let e = self.plan_predicate(expr)?;
        Ok((e, ScalarType::Bool))
    }

    fn plan_unary_test(&mut self, op: &str, expr: &Expr) -> Result<Typed> {
        let operand = self.plan_expr(expr)?;
        func::plan_unary_op(op, operand)
    }

    fn plan_column(&mut self, table: Option<&str>, column: &str) -> Result<Typed> {
        let resolved = self.scope.resolve(table, column);
        let index = match (resolved, self.grouping) {
            (Ok(index), _) => index,
            (Err(PlanError::UnknownColumn(_)), Some(grouping))
                if grouping.ungrouped_scope.resolve(table, column).is_ok() =>
            {
                // PostgreSQL names the column with its table: "t.b".
                let item = grouping
                    .ungrouped_scope
                    .resolve(table, column)
                    .ok()
                    .and_then(|i| grouping.ungrouped_scope.items.get(i));
                let display = match item.and_then(|i| i.table.clone()) {
                    Some(t) => format!("{t}.{column}"),
                    None => column.to_string(),
                };
                return Err(PlanError::Grouping(format!(
                    "column \"{display}\" must appear in the GROUP BY clause or be used in an aggregate function"
                )));
            }
            (Err(e), _) => return Err(e),
        };
        let item = &self.scope.items[index];
        if item.level > 0 {
            self.scx.record_outer_reference(item.uid);
        }
        Ok((ScalarExpr::Column(index), item.typ.scalar_type.clone()))
    }

    fn plan_value(&mut self, value: &Value) -> Result<Typed> {
        match value {
            Value::Number(n, _) => plan_number(n),
            Value::SingleQuotedString(s)
            | Value::EscapedStringLiteral(s)
            | Value::DoubleQuotedString(s)
            | Value::UnicodeStringLiteral(s) => Ok((
                ScalarExpr::literal(Datum::String(s.clone()), ScalarType::Unknown),
                ScalarType::Unknown,
            )),
            Value::DollarQuotedString(s) => Ok((
                ScalarExpr::literal(Datum::String(s.value.clone()), ScalarType::Unknown),
                ScalarType::Unknown,
            )),
            Value::Boolean(b) => Ok((
                ScalarExpr::literal(Datum::Bool(*b), ScalarType::Bool),
                ScalarType::Bool,
            )),
            Value::Null => Ok((ScalarExpr::null(ScalarType::Unknown), ScalarType::Unknown)),
            Value::Placeholder(p) => self.plan_parameter(p, None),
            other => Err(PlanError::unsupported(format!("literal {other}"))),
        }
    }

    /// `$n`: the bound value when executing, typed by the client's declaration or by
    /// inference (`hint`: the type the context wants); untyped parameters default to text.
    ///
    /// When executing, the bound values were decoded as the types Describe reported — the
    /// client's declarations included — but the declarations themselves may not be known
    /// here. Inferring the type from `hint` alone would then label, say, an `int2` value as
    /// the `int4` column it is compared with or inserted into, and no cast would ever convert
    /// it. So an undeclared parameter with a bound value takes the type the value has (see
    /// `bound_value_type`), the contexts plan their casts from it as they would have from
    /// the declaration, and the value itself is checked against the planned type.
    fn plan_parameter(&mut self, placeholder: &str, hint: Option<&ScalarType>) -> Result<Typed> {
        let n: usize = placeholder
            .strip_prefix('$')
            .and_then(|n| n.parse().ok())
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                PlanError::Syntax(format!("syntax error at or near \"{placeholder}\""))
            })?;
        let hint = hint.filter(|h| **h != ScalarType::Unknown);
        let bound = self
            .scx
            .param_values
            .map(|values| values.get(n - 1).unwrap_or(&Datum::Null));
        let typ = {
            let mut types = self.scx.param_types.borrow_mut();
            if types.len() < n {
                types.resize(n, None);
            }
            let typ = match (&types[n - 1], hint) {
                (Some(t), _) => t.clone(),
                (None, hint) => bound
                    .and_then(|value| bound_value_type(value, hint))
                    .or_else(|| hint.cloned())
                    .unwrap_or(ScalarType::String),
            };
            types[n - 1] = Some(typ.clone());
            typ
        };
        Ok((self.parameter_value(n, bound, &typ)?, typ))
    }

    /// The literal for `$n` of type `typ`: its bound value (converted, should the value's
    /// representation not be `typ`'s), or a NULL of that type while describing.
    fn parameter_value(
        &self,
        n: usize,
        bound: Option<&Datum>,
        typ: &ScalarType,
    ) -> Result<ScalarExpr> {
        let Some(value) = bound else {
            return Ok(ScalarExpr::null(typ.clone()));
        };
        if value.is_instance_of(typ) {
            return Ok(ScalarExpr::literal(value.clone(), typ.clone()));
        }
        let mismatch = || {
            PlanError::DatatypeMismatch(format!(
                "parameter ${n} was bound to a value that is not of type {}",
                typ.sql_name()
            ))
        };
        let from = bound_value_type(value, None).ok_or_else(mismatch)?;
        let literal = ScalarExpr::literal(value.clone(), from.clone());
        let cast = func::plan_cast(literal, &from, typ, CastContext::Explicit)?;
        match &cast {
            ScalarExpr::Literal(Ok(v), _) if v.is_instance_of(typ) => Ok(cast),
            _ => Err(mismatch()),
        }
    }

    /// Plans `expr`, typing a bare parameter with `hint`.
    pub fn plan_expr_typed_param(&mut self, expr: &Expr, hint: &ScalarType) -> Result<Typed> {
        if let Some(p) = as_placeholder(expr) {
            return self.plan_parameter(p, Some(hint));
        }
        self.plan_expr(expr)
    }

    fn plan_binary(&mut self, left: &Expr, op: &BinaryOperator, right: &Expr) -> Result<Typed> {
        match op {
            BinaryOperator::And | BinaryOperator::Or => {
                let l = self.plan_predicate(left)?;
                let r = self.plan_predicate(right)?;
                let e = if *op == BinaryOperator::And {
                    ScalarExpr::And(vec![l, r])
                } else {
                    ScalarExpr::Or(vec![l, r])
                };
                Ok((e, ScalarType::Bool))
            }
            _ => self.plan_operator(&binary_op_name(op)?, left, right),
        }
    }

    /// Plans `left op right`, inferring a parameter's type from the other operand.
    pub fn plan_operator(&mut self, op: &str, left: &Expr, right: &Expr) -> Result<Typed> {
        if let (Expr::Tuple(ls), Expr::Tuple(rs)) = (strip_nested(left), strip_nested(right)) {
            // Row comparison: (a, b) = (c, d) is a = c AND b = d; <> is the negation.
            if ls.len() != rs.len() {
                return Err(PlanError::Syntax(
                    "unequal number of entries in row expressions".into(),
                ));
            }
            let mut parts = Vec::with_capacity(ls.len());
            let inner = match op {
                "=" | "<>" | "!=" => "=",
                "IS DISTINCT FROM" | "IS NOT DISTINCT FROM" => "IS NOT DISTINCT FROM",
                other => {
                    return Err(PlanError::unsupported(format!(
                        "row comparison with {other}"
                    )));
                }
            };
            for (l, r) in ls.iter().zip(rs) {
                parts.push(self.plan_operator(inner, l, r)?.0);
            }
            let all = ScalarExpr::And(parts);
            return if matches!(op, "<>" | "!=" | "IS DISTINCT FROM") {
                func::plan_unary_op("NOT", (all, ScalarType::Bool))
            } else {
                Ok((all, ScalarType::Bool))
            };
        }
        let (l, r) = match (as_placeholder(left), as_placeholder(right)) {
            (Some(_), None) => {
                let r = self.plan_expr(right)?;
                let l = self.plan_expr_typed_param(left, &r.1)?;
                (l, r)
            }
            (None, Some(_)) => {
                let l = self.plan_expr(left)?;
                let r = self.plan_expr_typed_param(right, &l.1)?;
                (l, r)
            }
            _ => (self.plan_expr(left)?, self.plan_expr(right)?),
        };
        func::plan_binary_op(op, l, r)
    }

    fn plan_case(
        &mut self,
        operand: Option<&Expr>,
        conditions: &[ast::CaseWhen],
        else_result: Option<&Expr>,
    ) -> Result<Typed> {
        let mut conds = Vec::with_capacity(conditions.len());
        let mut results = Vec::with_capacity(conditions.len() + 1);
        for when in conditions {
            let cond = match operand {
                Some(operand) => {
                    let (e, t) = self.plan_operator("=", operand, &when.condition)?;
                    if t != ScalarType::Bool {
                        return Err(PlanError::DatatypeMismatch(
                            "CASE/WHEN must be boolean".into(),
                        ));
                    }
                    e
                }
                None => {
                    let saved = self.clause;
                    self.clause = "CASE/WHEN";
                    let c = self.plan_predicate(&when.condition);
                    self.clause = saved;
                    c?
                }
            };
            conds.push(cond);
            results.push(self.plan_expr(&when.result)?);
        }
        let else_typed = match else_result {
            Some(e) => self.plan_expr(e)?,
            None => (ScalarExpr::null(ScalarType::Unknown), ScalarType::Unknown),
        };
        results.push(else_typed);
        let types: Vec<ScalarType> = results.iter().map(|(_, t)| t.clone()).collect();
        let typ = func::common_type(&types, "CASE")?;
        let mut cast = Vec::with_capacity(results.len());
        for (e, t) in results {
            cast.push(func::plan_cast(e, &t, &typ, CastContext::Implicit)?);
        }
        let mut out = cast.pop().expect("CASE has an ELSE branch");
        for (cond, then) in conds.into_iter().zip(cast).rev() {
            out = ScalarExpr::If {
                cond: Box::new(cond),
                then: Box::new(then),
                els: Box::new(out),
            };
        }
        Ok((out, typ))
    }

    fn plan_function_call(&mut self, f: &ast::Function) -> Result<Typed> {
        let name = normalize_name(&f.name)?;
        let name = match name.as_slice() {
            [n] => n.clone(),
            [schema, n] if schema == "pg_catalog" => n.clone(),
            _ => return Err(PlanError::UnknownFunction(f.name.to_string())),
        };
        if f.over.is_some() {
            return Err(PlanError::WindowingError(format!(
                "window functions are not allowed in {}",
                self.clause
            )));
        }
        if func::is_aggregate(&name) {
            return Err(PlanError::Grouping(format!(
                "aggregate functions are not allowed in {}",
                self.clause
            )));
        }
        if super::set_functions::is_set_function(&name) {
            // The SELECT list plans its calls beforehand (`set_functions::plan_select_list`);
            // reaching here means another clause, or an argument of another call.
            return Err(PlanError::NotAllowed(format!(
                "set-returning functions are not allowed in {}",
                self.clause
            )));
        }
        if super::advisory_locks::AdvisoryFunction::from_name(&name).is_some()
            || super::sequences::is_sequence_function(&name)
        {
            return Err(PlanError::unsupported(format!(
                "{name} inside a larger query (call it alone: SELECT {name}(...))"
            )));
        }
        if f.filter.is_some() || !f.within_group.is_empty() || f.null_treatment.is_some() {
            return Err(PlanError::unsupported(format!(
                "{name} with FILTER / WITHIN GROUP"
            )));
        }
        let args = match &f.args {
            ast::FunctionArguments::None => vec![],
            ast::FunctionArguments::List(list) => {
                if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
                    return Err(PlanError::unsupported(format!(
                        "{name} with DISTINCT or ORDER BY"
                    )));
                }
                expr_arguments(&list.args)?
            }
            ast::FunctionArguments::Subquery(query) if name == "array" => {
                return self.plan_array_subquery(query);
            }
            ast::FunctionArguments::Subquery(_) => {
                return Err(PlanError::unsupported(
                    "subquery as a function argument list",
                ));
            }
        };
        {
            let cx = self.scx.system_context();
            let plan_args = || args.iter().map(|a| self.plan_expr(a)).collect();
            if let Some(planned) = super::catalog_functions::plan(&cx, &name, args.len(), plan_args)
            {
                return planned;
            }
        }
        match name.as_str() {
            "coalesce" => {
                if args.is_empty() {
                    return Err(PlanError::Syntax("syntax error at or near \")\"".into()));
                }
                let planned = args
                    .iter()
                    .map(|a| self.plan_expr(a))
                    .collect::<Result<Vec<_>>>()?;
                let (exprs, typ) = coerce_all(planned, "COALESCE")?;
                Ok((ScalarExpr::Coalesce(exprs), typ))
            }
            "nullif" => {
                if args.len() != 2 {
                    return Err(PlanError::UnknownFunction(format!(
                        "nullif with {} arguments",
                        args.len()
                    )));
                }
                let first = self.plan_expr(args[0])?;
                let (eq, _) = self.plan_operator("=", args[0], args[1])?;
                Ok((
                    ScalarExpr::If {
                        cond: Box::new(eq),
                        then: Box::new(ScalarExpr::null(first.1.clone())),
                        els: Box::new(first.0),
                    },
                    first.1,
                ))
            }
            "now"
            | "current_timestamp"
            | "transaction_timestamp"
            | "statement_timestamp"
            | "localtimestamp"
                if args.is_empty() =>
            {
                let (now, typ) = self.plan_now()?;
                if name == "localtimestamp" {
                    return Ok((
                        func::plan_cast(now, &typ, &ScalarType::Timestamp, CastContext::Explicit)?,
                        ScalarType::Timestamp,
                    ));
                }
                Ok((now, typ))
            }
            "mz_now" if args.is_empty() => Ok(mz_now()),
            "gen_random_uuid" if args.is_empty() => {
                if !self.now_is_constant {
                    return Err(PlanError::unsupported(
                        "gen_random_uuid() in a view (its rows would change on every evaluation)",
                    ));
                }
                Ok((
                    ScalarExpr::call(crate::expr::Func::GenRandomUuid, vec![]),
                    ScalarType::Uuid,
                ))
            }
            "current_date" if args.is_empty() => {
                let (now, typ) = self.plan_now()?;
                Ok((
                    func::plan_cast(now, &typ, &ScalarType::Date, CastContext::Explicit)?,
                    ScalarType::Date,
                ))
            }
            "version" if args.is_empty() => Ok(text_literal(crate::catalog::version_string())),
            "current_database" if args.is_empty() => {
                Ok(text_literal(self.scx.session.database.clone()))
            }
            "current_user" | "session_user" | "user" | "current_role" if args.is_empty() => {
                Ok(text_literal(self.scx.session.user.clone()))
            }
            "current_schema" if args.is_empty() => {
                Ok(text_literal(crate::catalog::DEFAULT_SCHEMA.to_string()))
            }
            "pg_backend_pid" if args.is_empty() => Ok((
                ScalarExpr::literal(
                    Datum::Int32(self.scx.session.conn_id as i32),
                    ScalarType::Int32,
                ),
                ScalarType::Int32,
            )),
            _ => {
                let planned = args
                    .iter()
                    .map(|a| self.plan_expr(a))
                    .collect::<Result<Vec<_>>>()?;
                func::plan_function(&name, planned)
            }
        }
    }

    fn plan_now(&mut self) -> Result<Typed> {
        if !self.now_is_constant {
            return Ok(mz_now());
        }
        let now = chrono::Utc::now();
        Ok((
            ScalarExpr::literal(Datum::TimestampTz(now), ScalarType::TimestampTz),
            ScalarType::TimestampTz,
        ))
    }

    // Subqueries ------------------------------------------------------------------------

    /// Plans `query` decorrelated against this context's relation. Returns the subquery's
    /// rows as `prefix ++ columns`, the positions in `self.rel` of the prefix columns, and the
    /// subquery's output column types. `forced` positions are always part of the prefix.
    fn plan_subquery_relation(
        &mut self,
        query: &ast::Query,
        forced: &[usize],
    ) -> Result<(RelationExpr, Vec<usize>, Vec<ColumnType>)> {
        let planned = self.plan_correlated_query(query, forced)?;
        Ok((planned.rel, planned.positions, planned.types))
    }

    /// `plan_subquery_relation`, also returning the subquery's output column names (for a
    /// LATERAL subquery in FROM).
    pub fn plan_correlated_query(
        &mut self,
        query: &ast::Query,
        forced: &[usize],
    ) -> Result<CorrelatedQuery> {
        self.rel = self.scx.bind(std::mem::replace(
            &mut self.rel,
            RelationExpr::constant(vec![], vec![]),
        ));
        // Pass 1: find which outer columns the subquery references.
        self.scx.push_recorder();
        let lets_before = self.scx.lets.borrow().len();
        let all: Vec<usize> = (0..self.arity()).collect();
        let trial =
            query::plan_subquery(self.scx, query, &self.outer_for(&all), self.now_is_constant);
        // The trial plan is discarded: so are the bindings it made.
        self.scx.lets.borrow_mut().truncate(lets_before);
        let referenced = self.scx.pop_recorder();
        trial?;
        let mut positions: Vec<usize> = self
            .scope
            .items
            .iter()
            .enumerate()
            .filter(|(_, item)| referenced.contains(&item.uid))
            .map(|(p, _)| p)
            .collect();
        for f in forced {
            if !positions.contains(f) {
                positions.push(*f);
            }
        }
        positions.sort_unstable();
        // Pass 2: plan against the distinct values of exactly those columns.
        let outer = self.outer_for(&positions);
        let planned = query::plan_query(self.scx, query, &outer, self.now_is_constant)?;
        let names = planned.column_names();
        let planned = planned.into_relation();
        let types = planned.typ()[positions.len()..].to_vec();
        Ok(CorrelatedQuery {
            rel: planned,
            positions,
            types,
            names,
        })
    }

    /// The outer context for a subquery that may reference the columns at `positions`.
    fn outer_for(&self, positions: &[usize]) -> Outer {
        let rel = if positions.is_empty() {
            RelationExpr::constant(vec![Row::empty()], vec![])
        } else {
            self.scx
                .bind(self.rel.clone().project(positions.to_vec()).distinct())
        };
        let scope = Scope {
            items: positions
                .iter()
                .map(|p| self.scope.items[*p].clone())
                .collect(),
        }
        .outer();
        Outer { rel, scope }
    }

    /// Appends `values` (rows `prefix ++ [value]`, at most one per prefix) to `self.rel` as a
    /// new column, left-joined on the prefix; rows with no match get NULL.
    fn append_left_joined(
        &mut self,
        positions: &[usize],
        values: RelationExpr,
        types: Vec<ColumnType>,
    ) -> usize {
        let left = self.scx.bind(std::mem::replace(
            &mut self.rel,
            RelationExpr::constant(vec![], vec![]),
        ));
        let right = self.scx.bind(values);
        let arity = self.arity();
        let k = positions.len();
        let m = types.len();
        let key_eqs = |offset: usize| -> Vec<Vec<ScalarExpr>> {
            positions
                .iter()
                .enumerate()
                .map(|(i, p)| vec![ScalarExpr::Column(*p), ScalarExpr::Column(offset + i)])
                .collect()
        };
        let matched = RelationExpr::join(vec![left.clone(), right.clone()], key_eqs(arity))
            .project((0..arity).chain(arity + k..arity + k + m).collect());
        let missing = left
            .clone()
            .project(positions.to_vec())
            .distinct()
            .union(right.project((0..k).collect()).distinct().negate())
            .threshold();
        let unmatched = RelationExpr::join(vec![left, missing], key_eqs(arity))
            .project((0..arity).collect())
            .map(
                types
                    .iter()
                    .map(|t| ScalarExpr::null(t.scalar_type.clone()))
                    .collect(),
            );
        self.rel = matched.union(unmatched);
        for typ in types {
            let item = self.scx.item(
                None,
                "?column?",
                ColumnType::new(typ.scalar_type, true),
                true,
            );
            self.scope.push(item);
        }
        arity
    }

    fn plan_scalar_subquery(&mut self, query: &ast::Query) -> Result<Typed> {
        let (sub, positions, typ) = self.plan_subquery_relation(query, &[])?;
        if typ.len() != 1 {
            return Err(PlanError::Syntax(
                "subquery must return only one column".into(),
            ));
        }
        let k = positions.len();
        let sub = self.scx.bind(sub);
        // Errors (as data) for prefixes with more than one row.
        let counts = RelationExpr::Reduce {
            input: Box::new(sub.clone()),
            group_key: (0..k).map(ScalarExpr::Column).collect(),
            aggregates: vec![AggregateExpr {
                func: AggregateFunc::Count,
                expr: ScalarExpr::literal_true(),
                distinct: false,
            }],
        };
        let eqs = (0..k)
            .map(|i| vec![ScalarExpr::Column(i), ScalarExpr::Column(k + 1 + i)])
            .collect();
        let (too_many, _) = func::plan_binary_op(
            ">",
            (ScalarExpr::Column(2 * k + 1), ScalarType::Int64),
            (
                ScalarExpr::literal(Datum::Int64(1), ScalarType::Int64),
                ScalarType::Int64,
            ),
        )?;
        let checked = RelationExpr::join(vec![sub, counts], eqs)
            .map(vec![ScalarExpr::If {
                cond: Box::new(too_many),
                then: Box::new(ScalarExpr::Literal(
                    Err(EvalError::MultipleRowsFromSubquery),
                    typ[0].scalar_type.clone(),
                )),
                els: Box::new(ScalarExpr::Column(k)),
            }])
            .project((0..k).chain([2 * k + 2]).collect());
        let scalar_type = typ[0].scalar_type.clone();
        let col = self.append_left_joined(&positions, checked, vec![typ[0].clone()]);
        Ok((ScalarExpr::Column(col), scalar_type))
    }

    fn plan_exists(&mut self, query: &ast::Query) -> Result<Typed> {
        let (sub, positions, _) = self.plan_subquery_relation(query, &[])?;
        let k = positions.len();
        let keys = sub
            .project((0..k).collect())
            .distinct()
            .map(vec![ScalarExpr::literal_true()]);
        let col = self.append_left_joined(
            &positions,
            keys,
            vec![ColumnType::new(ScalarType::Bool, true)],
        );
        Ok((
            ScalarExpr::Coalesce(vec![
                ScalarExpr::Column(col),
                ScalarExpr::literal(Datum::Bool(false), ScalarType::Bool),
            ]),
            ScalarType::Bool,
        ))
    }

    /// `left op ANY (query)` (`any` true) or `left op ALL (query)`.
    fn plan_quantified_subquery(
        &mut self,
        left: &Expr,
        op: &str,
        query: &ast::Query,
        any: bool,
    ) -> Result<Typed> {
        // `(a, b) IN (SELECT x, y ...)` compares row-wise; a single expression is a row of one.
        let items: Vec<&Expr> = match left {
            Expr::Tuple(items) => items.iter().collect(),
            other => vec![other],
        };
        if items.len() > 1 && op != "=" {
            return Err(PlanError::unsupported(format!(
                "row comparison with {op} ANY/ALL"
            )));
        }
        // Make the left operands columns, so the subquery can see them as part of its prefix.
        let mut x_cols = Vec::with_capacity(items.len());
        let mut x_types = Vec::with_capacity(items.len());
        for item in items {
            let (l, ltyp) = self.plan_expr(item)?;
            x_cols.push(self.arity());
            self.rel = std::mem::replace(&mut self.rel, RelationExpr::constant(vec![], vec![]))
                .map(vec![l]);
            let scope_item =
                self.scx
                    .item(None, "?column?", ColumnType::new(ltyp.clone(), true), true);
            self.scope.push(scope_item);
            x_types.push(ltyp);
        }
        let (sub, positions, typ) = self.plan_subquery_relation(query, &x_cols)?;
        if typ.len() != x_cols.len() {
            return Err(PlanError::Syntax(if typ.len() > x_cols.len() {
                "subquery has too many columns".into()
            } else {
                "subquery has too few columns".into()
            }));
        }
        let k = positions.len();
        let mut comparisons = Vec::with_capacity(x_cols.len());
        for (i, (x_col, ltyp)) in x_cols.iter().zip(x_types).enumerate() {
            let x_in_prefix = positions
                .iter()
                .position(|p| p == x_col)
                .expect("forced into prefix");
            let (cmp, cmp_type) = func::plan_binary_op(
                op,
                (ScalarExpr::Column(x_in_prefix), ltyp),
                (ScalarExpr::Column(k + i), typ[i].scalar_type.clone()),
            )?;
            if cmp_type != ScalarType::Bool {
                return Err(PlanError::DatatypeMismatch(format!(
                    "op {op} ANY/ALL (subquery) requires operator to yield boolean"
                )));
            }
            comparisons.push(cmp);
        }
        let cmp = if comparisons.len() == 1 {
            comparisons.pop().expect("one comparison")
        } else {
            ScalarExpr::And(comparisons)
        };
        let agg = func::plan_aggregate(
            if any { "any" } else { "all" },
            vec![(cmp, ScalarType::Bool)],
            false,
            vec![],
        )?;
        // The aggregate, and a marker that the prefix had rows at all: a prefix with no rows
        // gets the empty value (FALSE for ANY, TRUE for ALL); a NULL aggregate stays NULL.
        let mut aggregates = agg.aggregates;
        aggregates.push(AggregateExpr {
            func: AggregateFunc::Count,
            expr: ScalarExpr::literal_true(),
            distinct: false,
        });
        let reduced = RelationExpr::Reduce {
            input: Box::new(sub),
            group_key: (0..k).map(ScalarExpr::Column).collect(),
            aggregates,
        };
        let col = self.append_left_joined(
            &positions,
            reduced,
            vec![
                ColumnType::new(ScalarType::Bool, true),
                ColumnType::new(ScalarType::Int64, true),
            ],
        );
        Ok((
            ScalarExpr::If {
                cond: Box::new(ScalarExpr::call(
                    crate::expr::Func::IsNull,
                    vec![ScalarExpr::Column(col + 1)],
                )),
                then: Box::new(ScalarExpr::literal(Datum::Bool(!any), ScalarType::Bool)),
                els: Box::new(ScalarExpr::Column(col)),
            },
            ScalarType::Bool,
        ))
    }
}

fn text_literal(value: String) -> Typed {
    (
        ScalarExpr::literal(Datum::String(value), ScalarType::String),
        ScalarType::String,
    )
}

/// Casts every expression to the common type of all of them.
pub fn coerce_all(planned: Vec<Typed>, context: &str) -> Result<(Vec<ScalarExpr>, ScalarType)> {
    let types: Vec<ScalarType> = planned.iter().map(|(_, t)| t.clone()).collect();
    let typ = func::common_type(&types, context)?;
    let exprs = planned
        .into_iter()
        .map(|(e, t)| func::plan_cast(e, &t, &typ, CastContext::Implicit))
        .collect::<Result<Vec<_>>>()?;
    Ok((exprs, typ))
}

/// A numeric literal: integer if it fits, bigint if it fits, else numeric.
pub fn plan_number(n: &str) -> Result<Typed> {
    if let Ok(i) = n.parse::<i32>() {
        return Ok((
            ScalarExpr::literal(Datum::Int32(i), ScalarType::Int32),
            ScalarType::Int32,
        ));
    }
    if let Ok(i) = n.parse::<i64>() {
        return Ok((
            ScalarExpr::literal(Datum::Int64(i), ScalarType::Int64),
            ScalarType::Int64,
        ));
    }
    let d = Decimal::from_str(n)
        .or_else(|_| Decimal::from_scientific(n))
        .map_err(|_| {
            PlanError::unsupported(format!("numeric literal {n} (more than 28 digits)"))
        })?;
    let typ = ScalarType::Numeric { typmod: None };
    Ok((ScalarExpr::literal(Datum::Numeric(d), typ.clone()), typ))
}

/// The type to plan a parameter bound to `value` as, when the client's declaration is not
/// known: the type Describe reported for it, as far as the value tells. That is `hint` (what
/// inference would give) if the value is a value of it and `hint` has no modifier the value
/// might not satisfy (`numeric(p,s)`, `varchar(n)`, `char(n)`: the value then goes through
/// the context's cast); otherwise the value's own type (`text` for strings). `None` for NULL
/// and for an array whose element type the value does not show, with no usable hint.
fn bound_value_type(value: &Datum, hint: Option<&ScalarType>) -> Option<ScalarType> {
    fn has_modifiers(t: &ScalarType) -> bool {
        match t {
            ScalarType::Numeric { typmod } => typmod.is_some(),
            ScalarType::VarChar { max_length } => max_length.is_some(),
            ScalarType::Char { .. } => true,
            ScalarType::Array(elem) => has_modifiers(elem),
            _ => false,
        }
    }
    if value.is_null() {
        return None;
    }
    if let Some(h) = hint
        && value.is_instance_of(h)
        && !has_modifiers(h)
    {
        return Some(h.clone());
    }
    value.natural_type().or_else(|| match value {
        Datum::String(_) => Some(ScalarType::String),
        Datum::Array(items) => match items.iter().find(|d| !d.is_null()) {
            Some(Datum::String(_)) | None => Some(ScalarType::Array(Box::new(ScalarType::String))),
            Some(_) => None,
        },
        _ => None,
    })
}

fn as_placeholder(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::Placeholder(p) => Some(p),
            _ => None,
        },
        Expr::Nested(inner) => as_placeholder(inner),
        _ => None,
    }
}

fn strip_nested(expr: &Expr) -> &Expr {
    match expr {
        Expr::Nested(inner) => strip_nested(inner),
        other => other,
    }
}

/// Parses one SQL expression (a stored DEFAULT, or a rewrite).
pub(super) fn parse_expression(sql: &str) -> Result<Expr> {
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    sqlparser::parser::Parser::new(&dialect)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| PlanError::Syntax(e.to_string()))
}

/// The operators `OPERATOR(pg_catalog.op)` may name.
const NAMED_OPERATORS: &[&str] = &[
    "+", "-", "*", "/", "%", "||", ">", "<", ">=", "<=", "=", "<>", "~", "~*", "!~", "!~*", "->",
    "->>", "#>", "#>>", "@>", "<@", "?", "?|", "?&",
];

/// The SQL spelling of a binary operator, as `plan_binary_op` takes it.
pub fn binary_op_name(op: &BinaryOperator) -> Result<String> {
    Ok(match op {
        BinaryOperator::Plus => "+",
        BinaryOperator::Minus => "-",
        BinaryOperator::Multiply => "*",
        BinaryOperator::Divide => "/",
        BinaryOperator::Modulo => "%",
        BinaryOperator::StringConcat => "||",
        BinaryOperator::Gt => ">",
        BinaryOperator::Lt => "<",
        BinaryOperator::GtEq => ">=",
        BinaryOperator::LtEq => "<=",
        BinaryOperator::Eq => "=",
        BinaryOperator::NotEq => "<>",
        BinaryOperator::PGRegexMatch => "~",
        BinaryOperator::PGRegexIMatch => "~*",
        BinaryOperator::PGRegexNotMatch => "!~",
        BinaryOperator::PGRegexNotIMatch => "!~*",
        BinaryOperator::Arrow => "->",
        BinaryOperator::LongArrow => "->>",
        BinaryOperator::HashArrow => "#>",
        BinaryOperator::HashLongArrow => "#>>",
        BinaryOperator::AtArrow => "@>",
        BinaryOperator::ArrowAt => "<@",
        BinaryOperator::Question => "?",
        BinaryOperator::QuestionPipe => "?|",
        BinaryOperator::QuestionAnd => "?&",
        // `OPERATOR(pg_catalog.~)`: an operator named with its schema, as psql writes them.
        BinaryOperator::PGCustomBinaryOperator(parts) => match parts.as_slice() {
            [schema, symbol] | [_, schema, symbol]
                if schema == crate::catalog::system::PG_CATALOG
                    && NAMED_OPERATORS.contains(&symbol.as_str()) =>
            {
                symbol.as_str()
            }
            [symbol] if NAMED_OPERATORS.contains(&symbol.as_str()) => symbol.as_str(),
            _ => return Err(PlanError::unsupported(format!("operator {op}"))),
        },
        other => return Err(PlanError::unsupported(format!("operator {other}"))),
    }
    .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::sql::plan::{Plan, plan};

    /// Plans `sql` as when executing with `values` bound and no declared types (what the
    /// session sends), returning the result types and rows.
    fn execute(sql: &str, values: &[Datum]) -> Result<(Vec<ScalarType>, Vec<Row>)> {
        execute_typed(sql, vec![], values)
    }

    fn execute_typed(
        sql: &str,
        types: Vec<Option<ScalarType>>,
        values: &[Datum],
    ) -> Result<(Vec<ScalarType>, Vec<Row>)> {
        let catalog = Catalog::default();
        let scx = StatementContext::new(&catalog, types, Some(values));
        let stmt = crate::sql::parse(sql).expect("parses").remove(0);
        let Plan::Select { expr, desc, .. } = plan(&scx, &stmt)? else {
            panic!("{sql}: not a SELECT");
        };
        let rows = crate::expr::constant::eval_constant(&expr)
            .expect("constant")?
            .into_iter()
            .map(|(row, _)| row)
            .collect();
        Ok((
            desc.types.into_iter().map(|t| t.scalar_type).collect(),
            rows,
        ))
    }

    #[test]
    fn a_bound_int2_value_is_converted_where_the_plan_wants_another_type() {
        let int2 = [Datum::Int16(41)];
        let (types, rows) = execute("SELECT $1 + 1, $1::int, $1::bigint, $1", &int2).unwrap();
        assert_eq!(
            types,
            [
                ScalarType::Int32,
                ScalarType::Int32,
                ScalarType::Int64,
                ScalarType::Int16
            ]
        );
        assert_eq!(
            rows,
            [Row::new(vec![
                Datum::Int32(42),
                Datum::Int32(41),
                Datum::Int64(41),
                Datum::Int16(41),
            ])]
        );
        let (_, rows) = execute("SELECT 41 = $1, 40 < $1", &int2).unwrap();
        assert_eq!(rows, [Row::new(vec![Datum::Bool(true), Datum::Bool(true)])]);
    }

    #[test]
    fn a_bound_value_not_of_its_declared_type_is_converted_or_refused() {
        let (types, rows) = execute_typed(
            "SELECT $1",
            vec![Some(ScalarType::Int32)],
            &[Datum::Int16(4)],
        )
        .unwrap();
        assert_eq!(types, [ScalarType::Int32]);
        assert_eq!(rows, [Row::new(vec![Datum::Int32(4)])]);
        let refused = execute_typed(
            "SELECT $1",
            vec![Some(ScalarType::Date)],
            &[Datum::Int16(4)],
        );
        assert!(refused.is_err());
    }

    #[test]
    fn a_bound_array_value_keeps_its_element_type_under_any() {
        let int2s = [Datum::Array(vec![Datum::Int16(1), Datum::Int16(2)])];
        let (_, rows) = execute("SELECT 2 = ANY($1), 3 = ANY($1)", &int2s).unwrap();
        assert_eq!(
            rows,
            [Row::new(vec![Datum::Bool(true), Datum::Bool(false)])]
        );
    }

    #[test]
    fn bound_values_take_the_hint_only_when_they_are_values_of_it() {
        let hint = |t: ScalarType| Some(t);
        // A value of the hint, with no modifier to enforce: the hint (oid, varchar).
        assert_eq!(
            bound_value_type(&Datum::Int64(7), hint(ScalarType::Oid).as_ref()),
            Some(ScalarType::Oid)
        );
        assert_eq!(
            bound_value_type(&Datum::string("x"), hint(ScalarType::String).as_ref()),
            Some(ScalarType::String)
        );
        // Otherwise the value's own type, so that the context casts it.
        assert_eq!(
            bound_value_type(&Datum::Int16(7), hint(ScalarType::Int32).as_ref()),
            Some(ScalarType::Int16)
        );
        let varchar3 = ScalarType::VarChar {
            max_length: Some(3),
        };
        assert_eq!(
            bound_value_type(&Datum::string("long"), Some(&varchar3)),
            Some(ScalarType::String)
        );
        let numeric = ScalarType::Numeric {
            typmod: Some((10, 2)),
        };
        assert_eq!(
            bound_value_type(&Datum::Numeric(Decimal::ONE), Some(&numeric)),
            Some(ScalarType::Numeric { typmod: None })
        );
        // NULL says nothing; an empty array is an array of its hint's elements, or of text.
        assert_eq!(bound_value_type(&Datum::Null, None), None);
        let int4s = ScalarType::Array(Box::new(ScalarType::Int32));
        assert_eq!(
            bound_value_type(&Datum::Array(vec![]), Some(&int4s)),
            Some(int4s)
        );
        assert_eq!(
            bound_value_type(&Datum::Array(vec![]), None),
            Some(ScalarType::Array(Box::new(ScalarType::String)))
        );
    }
}

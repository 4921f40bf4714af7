//! Sequences in SQL: `CREATE SEQUENCE`, the sequences `serial` and identity columns make,
//! the session functions `nextval`, `currval`, `setval` and `lastval`, and which columns
//! of an INSERT take the next values of a sequence.
//!
//! Values are handed out by the coordinator (`coord::sequences`), never by a dataflow: a
//! statement that is one call of `nextval` / `setval` / `currval` / `lastval` becomes
//! `Plan::SequenceFunction`, and a column whose default is `nextval('seq')` (a `serial`
//! column) or that is an identity column becomes a generated column of the INSERT, planned
//! as NULL and filled by the coordinator for each row written. `nextval` anywhere else (in
//! a larger query, an explicit value of an INSERT) fails with 0A000.

use super::StatementContext;
use super::expr::{ExprContext, expr_arguments, normalize_name, parse_expression};
use super::scope::Scope;
use crate::catalog::{CatalogItem, Identity, SequenceSpec};
use crate::expr::RelationExpr;
use crate::repr::{ColumnType, Datum, GlobalId, RelationDesc, Row, ScalarType};
use crate::sql::{PlanError, Result};
use sqlparser::ast::{self, Expr};

/// A sequence a CREATE TABLE makes for one of its columns.
#[derive(Clone, Debug)]
pub struct ColumnSequence {
    pub name: String,
    /// `owned_by` is set once the table has its id.
    pub spec: SequenceSpec,
    pub column: usize,
}

/// A call of a sequence function, alone in a SELECT.
#[derive(Clone, Debug)]
pub struct SequenceCall {
    pub function: SequenceFunction,
    pub column: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SequenceFunction {
    /// `None`: the argument was NULL (the result is NULL).
    Nextval(Option<GlobalId>),
    Currval(Option<GlobalId>),
    Lastval,
    Setval {
        sequence: Option<GlobalId>,
        value: Option<i64>,
        is_called: bool,
    },
}

impl SequenceCall {
    pub fn desc(&self) -> RelationDesc {
        RelationDesc::new(
            vec![self.column.clone()],
            vec![ColumnType::new(ScalarType::Int64, true)],
        )
    }
}

/// The bounds of a sequence of type `typ`.
fn type_bounds(typ: &ScalarType) -> (i64, i64) {
    match typ {
        ScalarType::Int16 => (i16::MIN.into(), i16::MAX.into()),
        ScalarType::Int32 => (i32::MIN.into(), i32::MAX.into()),
        _ => (i64::MIN, i64::MAX),
    }
}

fn invalid(message: String) -> PlanError {
    PlanError::InvalidParameter(message)
}

/// A sequence's definition from its options (`CREATE SEQUENCE` or an identity column's),
/// with PostgreSQL's defaults and checks. `typ` is the type when no `AS` is given.
pub fn sequence_spec(
    scx: &StatementContext,
    options: &[ast::SequenceOptions],
    typ: ScalarType,
) -> Result<(SequenceSpec, Option<Option<ast::ObjectName>>)> {
    let mut typ = typ;
    let (mut increment, mut min, mut max, mut start, mut cycle) = (1, None, None, None, false);
    let mut owned_by = None;
    let value = |e: &Expr, what: &str| -> Result<i64> {
        match super::expr::eval_constant(scx, e, &ScalarType::Int64, "sequence option")? {
            Datum::Int64(v) => Ok(v),
            _ => Err(invalid(format!("{what} must not be NULL"))),
        }
    };
    for option in options {
        match option {
            ast::SequenceOptions::DataType(t) => {
                typ = super::types::scalar_type_from_sql(t)?;
                if !typ.is_integer() {
                    return Err(invalid(
                        "sequence type must be smallint, integer, or bigint".into(),
                    ));
                }
            }
            ast::SequenceOptions::IncrementBy(e, _) => increment = value(e, "INCREMENT")?,
            ast::SequenceOptions::MinValue(e) => {
                min = e.as_ref().map(|e| value(e, "MINVALUE")).transpose()?
            }
            ast::SequenceOptions::MaxValue(e) => {
                max = e.as_ref().map(|e| value(e, "MAXVALUE")).transpose()?
            }
            ast::SequenceOptions::StartWith(e, _) => start = Some(value(e, "START")?),
            // Values are reserved in blocks anyway (`coord::sequences`); a cache only changes
            // how many a crash skips.
            ast::SequenceOptions::Cache(e) => {
                if value(e, "CACHE")? < 1 {
                    return Err(invalid("CACHE must be greater than zero".into()));
                }
            }
            // The flag says `NO CYCLE`.
            ast::SequenceOptions::Cycle(no) => cycle = !*no,
            ast::SequenceOptions::OwnedBy(target) => owned_by = Some(target.clone()),
        }
    }
    if increment == 0 {
        return Err(invalid("INCREMENT must not be zero".into()));
    }
    let (type_min, type_max) = type_bounds(&typ);
    let min = min.unwrap_or(if increment > 0 { 1 } else { type_min });
    let max = max.unwrap_or(if increment > 0 { type_max } else { -1 });
    let name = typ.sql_name();
    if min < type_min || min > type_max {
        return Err(invalid(format!(
            "MINVALUE ({min}) is out of range for sequence data type {name}"
        )));
    }
    if max < type_min || max > type_max {
        return Err(invalid(format!(
            "MAXVALUE ({max}) is out of range for sequence data type {name}"
        )));
    }
    if min >= max {
        return Err(invalid(format!(
            "MINVALUE ({min}) must be less than MAXVALUE ({max})"
        )));
    }
    let start = start.unwrap_or(if increment > 0 { min } else { max });
    if start < min {
        return Err(invalid(format!(
            "START value ({start}) cannot be less than MINVALUE ({min})"
        )));
    }
    if start > max {
        return Err(invalid(format!(
            "START value ({start}) cannot be greater than MAXVALUE ({max})"
        )));
    }
    Ok((
        SequenceSpec {
            typ,
            start,
            increment,
            min,
            max,
            cycle,
            owned_by: None,
            identity: None,
        },
        owned_by,
    ))
}

/// `CREATE SEQUENCE [IF NOT EXISTS] name [options]`.
pub fn plan_create_sequence(
    scx: &StatementContext,
    temporary: bool,
    if_not_exists: bool,
    name: &ast::ObjectName,
    options: &[ast::SequenceOptions],
) -> Result<super::Plan> {
    if temporary {
        return Err(PlanError::unsupported("CREATE TEMPORARY SEQUENCE"));
    }
    let name = super::statement::table_name(scx, name)?;
    if scx.catalog.name_exists(&name) && !if_not_exists {
        return Err(PlanError::AlreadyExists(name));
    }
    let (mut spec, owned_by) = sequence_spec(scx, options, ScalarType::Int64)?;
    if let Some(Some(target)) = owned_by {
        spec.owned_by = Some(owning_column(scx, &target)?);
    }
    Ok(super::Plan::CreateSequence {
        name,
        spec,
        if_not_exists,
    })
}

/// `OWNED BY table.column`: a column of a table.
fn owning_column(scx: &StatementContext, target: &ast::ObjectName) -> Result<(GlobalId, usize)> {
    let parts = normalize_name(target)?;
    let Some((column, table)) = parts.split_last().filter(|(_, t)| !t.is_empty()) else {
        return Err(invalid(
            "invalid OWNED BY option: specify OWNED BY table.column or OWNED BY NONE".into(),
        ));
    };
    let entry = scx.resolve(table)?;
    let CatalogItem::Table { desc, .. } = &entry.item else {
        return Err(PlanError::WrongObjectType(format!(
            "sequence cannot be owned by relation \"{}\"",
            entry.name
        )));
    };
    let position = desc.names.iter().position(|n| n == column).ok_or_else(|| {
        PlanError::UnknownColumn(format!("{column}\" of relation \"{}", entry.name))
    })?;
    Ok((entry.id, position))
}

/// For a CREATE TABLE column of type `serial` / `bigserial` / `smallserial` (and their
/// aliases): the integer type the column has.
pub fn serial_type(data_type: &ast::DataType) -> Option<ScalarType> {
    let ast::DataType::Custom(name, modifiers) = data_type else {
        return None;
    };
    if !modifiers.is_empty() || name.0.len() != 1 {
        return None;
    }
    let ident = name.0[0].as_ident()?;
    if ident.quote_style.is_some() {
        return None;
    }
    match ident.value.to_lowercase().as_str() {
        "serial" | "serial4" => Some(ScalarType::Int32),
        "bigserial" | "serial8" => Some(ScalarType::Int64),
        "smallserial" | "serial2" => Some(ScalarType::Int16),
        _ => None,
    }
}

/// The name PostgreSQL gives the sequence of `table.column`: `table_column_seq`, with a
/// number added while that is taken (by the catalog or by `taken`).
pub fn column_sequence_name(
    scx: &StatementContext,
    table: &str,
    column: &str,
    taken: &[String],
) -> String {
    let base = format!("{table}_{column}_seq");
    let free = |n: &str| !scx.catalog.name_exists(n) && !taken.iter().any(|t| t == n);
    if free(&base) {
        return base;
    }
    (1..)
        .map(|i| format!("{base}{i}"))
        .find(|n| free(n))
        .unwrap_or(base)
}

/// The spec of a `serial` column's sequence: 1 up to the column type's maximum.
pub fn serial_spec(typ: &ScalarType) -> SequenceSpec {
    SequenceSpec {
        typ: typ.clone(),
        start: 1,
        increment: 1,
        min: 1,
        max: type_bounds(typ).1,
        cycle: false,
        owned_by: None,
        identity: None,
    }
}

/// An identity column's sequence: `GENERATED ALWAYS | BY DEFAULT AS IDENTITY [(options)]`.
pub fn identity_spec(
    scx: &StatementContext,
    generated_as: &ast::GeneratedAs,
    options: Option<&[ast::SequenceOptions]>,
    typ: &ScalarType,
) -> Result<SequenceSpec> {
    if !typ.is_integer() {
        return Err(PlanError::DatatypeMismatch(format!(
            "identity column type must be smallint, integer, or bigint, not {}",
            typ.sql_name()
        )));
    }
    let identity = match generated_as {
        ast::GeneratedAs::Always => Identity::Always,
        ast::GeneratedAs::ByDefault => Identity::ByDefault,
        ast::GeneratedAs::ExpStored => {
            return Err(PlanError::unsupported("generated columns"));
        }
    };
    let (mut spec, owned_by) = sequence_spec(scx, options.unwrap_or_default(), typ.clone())?;
    if owned_by.is_some() {
        return Err(invalid(
            "OWNED BY is not allowed for an identity column".into(),
        ));
    }
    spec.identity = Some(identity);
    Ok(spec)
}

/// The sequence a column's DEFAULT draws from, when the default is `nextval('name')` (how
/// a `serial` column's default reads): resolved now.
pub fn default_sequence(scx: &StatementContext, default_sql: &str) -> Result<Option<GlobalId>> {
    let expr = parse_expression(default_sql)?;
    let Expr::Function(f) = &expr else {
        return Ok(None);
    };
    let name = normalize_name(&f.name)?;
    if !matches!(name.as_slice(), [n] | [_, n] if n == "nextval") {
        return Ok(None);
    }
    let ast::FunctionArguments::List(list) = &f.args else {
        return Ok(None);
    };
    let args = expr_arguments(&list.args)?;
    let [arg] = args.as_slice() else {
        return Ok(None);
    };
    resolve_sequence(scx, arg, "nextval")
}

/// The sequence a `regclass` or text argument names; `None` for NULL.
fn resolve_sequence(
    scx: &StatementContext,
    arg: &Expr,
    function: &str,
) -> Result<Option<GlobalId>> {
    let mut ecx = ExprContext::new(
        scx,
        RelationExpr::constant(vec![Row::empty()], vec![]),
        Scope::default(),
        "sequence function",
    );
    let (planned, typ) = ecx.plan_expr_typed_param(arg, &ScalarType::String)?;
    let oid = match typ {
        ScalarType::Reg(crate::repr::RegKind::Class) | ScalarType::Oid => planned.eval(&[])?,
        ScalarType::String | ScalarType::Unknown | ScalarType::VarChar { .. } => {
            let cx = scx.system_context();
            super::reg_types::plan_input(
                &cx,
                crate::repr::RegKind::Class,
                (planned, ScalarType::String),
                false,
            )?
            .eval(&[])?
        }
        other => {
            return Err(PlanError::UnknownFunction(format!(
                "{function}({})",
                other.sql_name()
            )));
        }
    };
    let oid = match oid {
        Datum::Null => return Ok(None),
        Datum::Int64(oid) => oid,
        other => {
            return Err(PlanError::Eval(crate::expr::EvalError::Internal(format!(
                "a regclass that is {other:?}"
            ))));
        }
    };
    let entry = u32::try_from(oid)
        .ok()
        .and_then(crate::catalog::system::oids::item)
        .and_then(|id| scx.catalog.get(id));
    match entry {
        Some(entry) if matches!(entry.item, CatalogItem::Sequence(_)) => Ok(Some(entry.id)),
        Some(entry) => Err(PlanError::WrongObjectType(format!(
            "\"{}\" is not a sequence",
            entry.name
        ))),
        None => Err(PlanError::UnknownRelation(format!("with OID {oid}"))),
    }
}

/// `SELECT nextval(seq) | currval(seq) | lastval() | setval(seq, value [, is_called])`,
/// alone: `None` when `f` is another function.
pub fn plan_sequence_function(
    scx: &StatementContext,
    f: &ast::Function,
    alias: Option<&ast::Ident>,
) -> Option<Result<SequenceCall>> {
    let name = super::statement::builtin_function_name(f)?;
    if !is_sequence_function(&name) {
        return None;
    }
    let column = super::statement::call_column(alias, &name);
    Some(plan_call(scx, f, &name).map(|function| SequenceCall { function, column }))
}

/// Whether `name` is one of the functions that only a statement of its own may call.
pub fn is_sequence_function(name: &str) -> bool {
    matches!(name, "nextval" | "currval" | "setval" | "lastval")
}

fn plan_call(scx: &StatementContext, f: &ast::Function, name: &str) -> Result<SequenceFunction> {
    let args = super::statement::plain_call_arguments(f, name)?;
    let wrong = || PlanError::UnknownFunction(format!("{name} with {} arguments", args.len()));
    Ok(match (name, args.as_slice()) {
        ("nextval", [seq]) => SequenceFunction::Nextval(resolve_sequence(scx, seq, name)?),
        ("currval", [seq]) => SequenceFunction::Currval(resolve_sequence(scx, seq, name)?),
        ("lastval", []) => SequenceFunction::Lastval,
        ("setval", [seq, value]) | ("setval", [seq, value, _]) => {
            let value = match super::expr::eval_constant(scx, value, &ScalarType::Int64, "setval")?
            {
                Datum::Int64(v) => Some(v),
                _ => None,
            };
            let is_called = match args.get(2) {
                Some(e) => match super::expr::eval_constant(scx, e, &ScalarType::Bool, "setval")? {
                    Datum::Bool(b) => b,
                    _ => true,
                },
                None => true,
            };
            SequenceFunction::Setval {
                sequence: resolve_sequence(scx, seq, name)?,
                value,
                is_called,
            }
        }
        _ => return Err(wrong()),
    })
}

/// The columns of an INSERT's or COPY's rows that the coordinator fills from sequences.
#[derive(Clone, Debug, Default)]
pub struct Generated {
    /// (column, sequence): NULL in the planned rows.
    pub columns: Vec<(usize, GlobalId)>,
    /// The rows carry one more column, last: their position among the VALUES rows, so that
    /// values are handed out in the order the rows were written (and the column is dropped).
    pub ordered: bool,
}

/// A column of a table that takes the next value of a sequence when a row leaves it out: a
/// `serial` column (default `nextval('seq')`) or an identity column.
#[derive(Clone, Copy, Debug)]
pub struct GeneratedColumn {
    pub column: usize,
    pub sequence: GlobalId,
    pub identity: Option<Identity>,
}

/// The generated columns of table `table`, whose column defaults are `defaults`.
pub fn generated_columns(
    scx: &StatementContext,
    table: GlobalId,
    defaults: &[Option<String>],
) -> Result<Vec<GeneratedColumn>> {
    let mut generated = Vec::new();
    for (column, default) in defaults.iter().enumerate() {
        if let Some(sql) = default
            && let Some(sequence) = default_sequence(scx, sql)?
        {
            generated.push(GeneratedColumn {
                column,
                sequence,
                identity: None,
            });
        }
    }
    for (entry, spec) in scx.catalog.sequences_owned_by(table) {
        if let (Some((_, column)), Some(identity)) = (spec.owned_by, spec.identity) {
            generated.push(GeneratedColumn {
                column,
                sequence: entry.id,
                identity: Some(identity),
            });
        }
    }
    Ok(generated)
}

/// The error for a value of the user's in a `GENERATED ALWAYS` identity column.
pub fn generated_always_error(column: &str) -> PlanError {
    PlanError::GeneratedAlways(column.to_string())
}

/// Whether a VALUES entry is the keyword DEFAULT.
pub fn is_default_keyword(e: &Expr) -> bool {
    matches!(e, Expr::Identifier(ident) if ident.quote_style.is_none() && ident.value.eq_ignore_ascii_case("default"))
}

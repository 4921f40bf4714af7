//! Functions clients call while reading `pg_catalog`: visibility tests, owner and type
//! names, object definitions and descriptions, privilege checks.
//!
//! Each is planned into an ordinary expression over the catalog as it is at planning time
//! (a `CASE` over the OIDs it knows, for example), so planning stays pure and evaluation
//! needs no catalog access, like the system relations themselves
//! (`catalog::system`). A NULL OID gives NULL, as in PostgreSQL.

use super::expr::Typed;
use super::func::{self, CastContext};
use crate::catalog::CatalogItem;
use crate::catalog::system::{
    self, SystemContext,
    oids::{self, SUPERUSER},
};
use crate::expr::{Func, ScalarExpr};
use crate::repr::{Datum, RegKind, ScalarType};
use crate::sql::Result;

/// The catalog function `name` of `arity` arguments, if this module plans it: its
/// arguments (planned by `plan_args`, only then) and the expression it becomes.
pub fn plan(
    cx: &SystemContext,
    name: &str,
    arity: usize,
    plan_args: impl FnOnce() -> Result<Vec<Typed>>,
) -> Option<Result<Typed>> {
    type Planner = fn(&SystemContext, Vec<Typed>) -> Result<Typed>;
    let planner: Planner = match (name, arity) {
        ("pg_table_is_visible" | "pg_type_is_visible" | "pg_function_is_visible", 1) => is_visible,
        ("pg_get_userbyid", 1) => user_by_id,
        ("pg_encoding_to_char", 1) => encoding_to_char,
        ("format_type", 2) => |_, args| Ok((format_type(args)?, ScalarType::String)),
        ("obj_description", 1 | 2) => object_description,
        ("pg_get_serial_sequence", 2) => serial_sequence,
        ("col_description", 2) => column_description,
        // Shared objects (the database, the role) have no comments.
        ("shobj_description", 2) => {
            |_, _| Ok((ScalarExpr::null(ScalarType::String), ScalarType::String))
        }
        ("pg_get_viewdef", 1 | 2) => view_definition,
        ("pg_get_indexdef", 1 | 3) => index_definition,
        ("pg_get_constraintdef", 1 | 2) => constraint_definition,
        // Freshet keeps no extended statistics, has no sequences and no functions of users.
        ("pg_get_statisticsobjdef_columns", 1)
        // Nor rules (pg_rewrite), triggers or partitioned tables.
        | ("pg_get_ruledef" | "pg_get_triggerdef", 1 | 2)
        | ("pg_get_partkeydef", 1)

        | ("pg_get_function_result", 1)
        | ("pg_get_function_arguments", 1)
        | ("pg_get_function_identity_arguments", 1) => {
            |_, _| Ok((ScalarExpr::null(ScalarType::String), ScalarType::String))
        }
        // The planner cannot see storage, so sizes are unknown: NULL, which psql's `\dt+`
        // and `\l+` print as an empty size.
        ("pg_table_size" | "pg_total_relation_size" | "pg_indexes_size", 1)
        | ("pg_relation_size", 1 | 2)
        | ("pg_database_size", 1) => {
            |_, _| Ok((ScalarExpr::null(ScalarType::Int64), ScalarType::Int64))
        }
        // There are no publications to publish a relation in (logical replication).
        ("pg_relation_is_publishable", 1) => |_, args| {
            let oid = as_oid(args)?;
            Ok((
                when_not_null(oid, boolean(false), ScalarType::Bool),
                ScalarType::Bool,
            ))
        },
        ("pg_collation_is_visible" | "pg_opclass_is_visible", 1) => is_visible,
        ("current_setting", 1 | 2) => current_setting,
        // The argument's type, planned: a constant of it.
        ("pg_typeof", 1) => |_, args| {
            let typ = args
                .into_iter()
                .next()
                .map_or(ScalarType::Unknown, |(_, t)| t);
            let kind = RegKind::Type;
            Ok((
                ScalarExpr::literal(Datum::Int64(i64::from(typ.oid())), ScalarType::Reg(kind)),
                ScalarType::Reg(kind),
            ))
        },
        // Expressions are stored as their SQL text already.
        ("pg_get_expr", 2 | 3) => {
            |_, args| Ok((first(args, &ScalarType::String)?, ScalarType::String))
        }
        (
            "has_table_privilege"
            | "has_schema_privilege"
            | "has_database_privilege"
            | "has_column_privilege"
            | "has_any_column_privilege"
            | "has_function_privilege"
            | "has_sequence_privilege"
            | "has_type_privilege"
            | "pg_has_role",
            2..=4,
        ) => {
            // The one role owns everything and holds every privilege.
            |_, _| Ok((boolean(true), ScalarType::Bool))
        }
        ("current_schemas", 1) => current_schemas,
        ("to_regclass", 1) => |cx, args| to_reg(cx, RegKind::Class, args),
        ("to_regtype", 1) => |cx, args| to_reg(cx, RegKind::Type, args),
        ("to_regproc" | "to_regprocedure", 1) => |cx, args| to_reg(cx, RegKind::Proc, args),
        ("to_regnamespace", 1) => |cx, args| to_reg(cx, RegKind::Namespace, args),
        ("to_regrole", 1) => |cx, args| to_reg(cx, RegKind::Role, args),
        _ => return None,
    };
    Some(plan_args().and_then(|args| planner(cx, args)))
}

/// `to_regclass(name)` and its siblings: the oid, NULL when no object has the name.
fn to_reg(cx: &SystemContext, kind: RegKind, args: Vec<Typed>) -> Result<Typed> {
    let name = args
        .into_iter()
        .next()
        .unwrap_or((ScalarExpr::null(ScalarType::String), ScalarType::String));
    Ok((
        super::reg_types::plan_input(cx, kind, name, true)?,
        ScalarType::Reg(kind),
    ))
}

/// `pg_get_serial_sequence(table, column)`: the qualified name of the sequence of a serial
/// or identity column (`public.t_id_seq`), NULL for another column. The table may be
/// written `t` or `public.t`.
fn serial_sequence(cx: &SystemContext, args: Vec<Typed>) -> Result<Typed> {
    let mut args = args.into_iter();
    let table = argument(args.next(), &ScalarType::String)?;
    let column = argument(args.next(), &ScalarType::String)?;
    let mut result = ScalarExpr::null(ScalarType::String);
    for entry in cx.catalog.entries() {
        let CatalogItem::Sequence(spec) = &entry.item else {
            continue;
        };
        let Some((owner, position)) = spec.owned_by else {
            continue;
        };
        let Some(owner) = cx.catalog.get(owner) else {
            continue;
        };
        let Some(column_name) = owner.item.desc().and_then(|d| d.names.get(position)) else {
            continue;
        };
        let schema = crate::catalog::DEFAULT_SCHEMA;
        let table_matches = ScalarExpr::Or(vec![
            ScalarExpr::call(Func::Eq, vec![table.clone(), string(&owner.name)]),
            ScalarExpr::call(
                Func::Eq,
                vec![table.clone(), string(&format!("{schema}.{}", owner.name))],
            ),
        ]);
        result = ScalarExpr::If {
            cond: Box::new(ScalarExpr::And(vec![
                table_matches,
                ScalarExpr::call(Func::Eq, vec![column.clone(), string(column_name)]),
            ])),
            then: Box::new(string(&format!("{schema}.{}", entry.name))),
            els: Box::new(result),
        };
    }
    Ok((result, ScalarType::String))
}

/// `obj_description(oid [, catalog])`: the comment on a relation (`COMMENT ON TABLE` and
/// its siblings). Only relations have comments, so any catalog but `pg_class` gives NULL.
fn object_description(cx: &SystemContext, args: Vec<Typed>) -> Result<Typed> {
    let mut args = args.into_iter();
    let oid = argument(args.next(), &ScalarType::Oid)?;
    let cases = cx
        .catalog
        .comments()
        .filter(|(target, _)| target.column.is_none())
        .filter_map(|(target, text)| {
            Some((oids::of_item(target.item)?, Datum::String(text.to_string())))
        })
        .collect();
    let description = lookup(oid, cases, ScalarType::String);
    let description = match args.next() {
        None => description,
        Some(catalog) => ScalarExpr::If {
            cond: Box::new(ScalarExpr::call(
                Func::Eq,
                vec![
                    argument(Some(catalog), &ScalarType::String)?,
                    string("pg_class"),
                ],
            )),
            then: Box::new(description),
            els: Box::new(ScalarExpr::null(ScalarType::String)),
        },
    };
    Ok((description, ScalarType::String))
}

/// `col_description(table_oid, column_number)`: the comment on a column (`COMMENT ON
/// COLUMN`), columns numbered from 1.
fn column_description(cx: &SystemContext, args: Vec<Typed>) -> Result<Typed> {
    let mut args = args.into_iter();
    let oid = argument(args.next(), &ScalarType::Oid)?;
    let column = argument(args.next(), &ScalarType::Int32)?;
    let mut description = ScalarExpr::null(ScalarType::String);
    for (target, text) in cx.catalog.comments() {
        let Some(item_oid) = oids::of_item(target.item) else {
            continue;
        };
        if target.column.is_none() {
            continue;
        }
        description = ScalarExpr::If {
            cond: Box::new(ScalarExpr::And(vec![
                ScalarExpr::call(Func::Eq, vec![oid.clone(), oid_literal(item_oid)]),
                ScalarExpr::call(Func::Eq, vec![column.clone(), int(target.objsubid())]),
            ])),
            then: Box::new(string(text)),
            els: Box::new(description),
        };
    }
    Ok((description, ScalarType::String))
}

fn is_visible(_: &SystemContext, args: Vec<Typed>) -> Result<Typed> {
    let oid = as_oid(args)?;
    Ok((
        when_not_null(oid, boolean(true), ScalarType::Bool),
        ScalarType::Bool,
    ))
}

fn user_by_id(cx: &SystemContext, args: Vec<Typed>) -> Result<Typed> {
    let cases = vec![(SUPERUSER, Datum::String(cx.user.to_string()))];
    Ok((
        lookup(as_oid(args)?, cases, ScalarType::String),
        ScalarType::String,
    ))
}

fn encoding_to_char(_: &SystemContext, args: Vec<Typed>) -> Result<Typed> {
    let encoding = first(args, &ScalarType::Int32)?;
    let utf8 = system::pg_catalog::UTF8_ENCODING;
    Ok((
        ScalarExpr::If {
            cond: Box::new(ScalarExpr::call(
                Func::Eq,
                vec![encoding.clone(), int(utf8)],
            )),
            then: Box::new(string("UTF8")),
            els: Box::new(when_not_null(encoding, string(""), ScalarType::String)),
        },
        ScalarType::String,
    ))
}

fn view_definition(cx: &SystemContext, args: Vec<Typed>) -> Result<Typed> {
    let cases = cx
        .catalog
        .entries()
        .filter(|e| {
            matches!(
                e.item,
                CatalogItem::View { .. } | CatalogItem::MaterializedView { .. }
            )
        })
        .filter_map(|e| {
            let definition = system::pg_catalog::view_definition(e)?;
            Some((oids::of_item(e.id)?, Datum::String(definition)))
        })
        .collect();
    Ok((
        lookup(as_oid(args)?, cases, ScalarType::String),
        ScalarType::String,
    ))
}

/// `pg_get_indexdef(oid [, column, pretty])`: the whole definition, or with a column
/// number above 0 that key's column name or expression.
fn index_definition(cx: &SystemContext, args: Vec<Typed>) -> Result<Typed> {
    let mut args = args.into_iter();
    let oid = argument(args.next(), &ScalarType::Oid)?;
    let column = match args.next() {
        Some(arg) => argument(Some(arg), &ScalarType::Int32)?,
        None => int(0),
    };
    let pretty = match args.next() {
        Some(arg) => argument(Some(arg), &ScalarType::Bool)?,
        None => boolean(false),
    };
    let mut result = ScalarExpr::null(ScalarType::String);
    for index in system::pg_catalog::index_definitions(cx).into_iter().rev() {
        // Pretty-printed, the table's schema (on the search path) is left out.
        let unqualified = index.definition.replacen(
            &format!(" ON {}.", crate::catalog::DEFAULT_SCHEMA),
            " ON ",
            1,
        );
        let mut by_column = ScalarExpr::If {
            cond: Box::new(pretty.clone()),
            then: Box::new(string(&unqualified)),
            els: Box::new(string(&index.definition)),
        };
        for (n, key) in index.keys.iter().enumerate().rev() {
            by_column = ScalarExpr::If {
                cond: Box::new(ScalarExpr::call(
                    Func::Eq,
                    vec![column.clone(), int(n as i32 + 1)],
                )),
                then: Box::new(string(key)),
                els: Box::new(by_column),
            };
        }
        // A column past the last key gives an empty string, as in PostgreSQL.
        let by_column = ScalarExpr::If {
            cond: Box::new(ScalarExpr::call(
                Func::Gt,
                vec![column.clone(), int(index.keys.len() as i32)],
            )),
            then: Box::new(string("")),
            els: Box::new(by_column),
        };
        result = ScalarExpr::If {
            cond: Box::new(ScalarExpr::call(
                Func::Eq,
                vec![oid.clone(), oid_literal(index.oid)],
            )),
            then: Box::new(by_column),
            els: Box::new(result),
        };
    }
    Ok((result, ScalarType::String))
}

/// `pg_get_constraintdef(oid [, pretty])`: `PRIMARY KEY (a)`, `UNIQUE (a, b)`.
fn constraint_definition(cx: &SystemContext, args: Vec<Typed>) -> Result<Typed> {
    let cases = system::key_indexes::key_indexes(cx)
        .iter()
        .map(|index| {
            (
                index.constraint_oid,
                Datum::String(index.constraint_definition()),
            )
        })
        .collect();
    Ok((
        lookup(as_oid(args)?, cases, ScalarType::String),
        ScalarType::String,
    ))
}

/// `current_setting(name [, missing_ok])`: a session variable's value, as SHOW prints it.
fn current_setting(cx: &SystemContext, args: Vec<Typed>) -> Result<Typed> {
    let mut args = args.into_iter();
    let name = argument(args.next(), &ScalarType::String)?;
    let missing_ok = match args.next() {
        Some(arg) => Some(argument(Some(arg), &ScalarType::Bool)?),
        None => None,
    };
    if let ScalarExpr::Literal(Ok(Datum::String(n)), _) = &name {
        let value = cx.settings.get(&n.to_lowercase());
        return match (value, &missing_ok) {
            (Some(v), _) => Ok((string(v), ScalarType::String)),
            (None, Some(_)) => Ok((ScalarExpr::null(ScalarType::String), ScalarType::String)),
            (None, None) => Err(crate::sql::PlanError::UnknownObject(format!(
                "unrecognized configuration parameter \"{n}\""
            ))),
        };
    }
    // A name known only at run time: compare it with every variable's.
    let lowered = ScalarExpr::call(Func::Named(crate::expr::func::NamedFunc::Lower), vec![name]);
    let result =
        cx.settings
            .iter()
            .rev()
            .fold(ScalarExpr::null(ScalarType::String), |els, (n, v)| {
                ScalarExpr::If {
                    cond: Box::new(ScalarExpr::call(Func::Eq, vec![lowered.clone(), string(n)])),
                    then: Box::new(string(v)),
                    els: Box::new(els),
                }
            });
    Ok((result, ScalarType::String))
}

fn current_schemas(_: &SystemContext, args: Vec<Typed>) -> Result<Typed> {
    let implicit = first(args, &ScalarType::Bool)?;
    let typ = ScalarType::Array(Box::new(ScalarType::String));
    let array = |names: &[&str]| {
        ScalarExpr::literal(
            Datum::Array(names.iter().map(|n| Datum::String(n.to_string())).collect()),
            typ.clone(),
        )
    };
    Ok((
        ScalarExpr::If {
            cond: Box::new(implicit),
            then: Box::new(array(&[system::PG_CATALOG, crate::catalog::DEFAULT_SCHEMA])),
            els: Box::new(array(&[crate::catalog::DEFAULT_SCHEMA])),
        },
        typ,
    ))
}

/// An argument cast to the type the function takes; a missing one is NULL.
fn argument(arg: Option<Typed>, typ: &ScalarType) -> Result<ScalarExpr> {
    match arg {
        Some((e, t)) => func::plan_cast(e, &t, typ, CastContext::Explicit),
        None => Ok(ScalarExpr::null(typ.clone())),
    }
}

/// The first argument, cast to `typ`.
fn first(args: Vec<Typed>, typ: &ScalarType) -> Result<ScalarExpr> {
    argument(args.into_iter().next(), typ)
}

fn as_oid(args: Vec<Typed>) -> Result<ScalarExpr> {
    first(args, &ScalarType::Oid)
}

fn boolean(b: bool) -> ScalarExpr {
    ScalarExpr::literal(Datum::Bool(b), ScalarType::Bool)
}

fn string(s: &str) -> ScalarExpr {
    ScalarExpr::literal(Datum::String(s.to_string()), ScalarType::String)
}

fn int(v: i32) -> ScalarExpr {
    ScalarExpr::literal(Datum::Int32(v), ScalarType::Int32)
}

fn oid_literal(v: u32) -> ScalarExpr {
    ScalarExpr::literal(Datum::Int64(i64::from(v)), ScalarType::Oid)
}

/// `value` (of type `typ`) when `x` is not NULL, else NULL.
fn when_not_null(x: ScalarExpr, value: ScalarExpr, typ: ScalarType) -> ScalarExpr {
    ScalarExpr::If {
        cond: Box::new(ScalarExpr::call(Func::IsNull, vec![x])),
        then: Box::new(ScalarExpr::null(typ)),
        els: Box::new(value),
    }
}

/// `CASE oid WHEN k THEN v ... END` (NULL for other OIDs).
fn lookup(oid: ScalarExpr, cases: Vec<(u32, Datum)>, typ: ScalarType) -> ScalarExpr {
    cases
        .into_iter()
        .rev()
        .fold(ScalarExpr::null(typ.clone()), |otherwise, (k, v)| {
            ScalarExpr::If {
                cond: Box::new(ScalarExpr::call(
                    Func::Eq,
                    vec![oid.clone(), oid_literal(k)],
                )),
                then: Box::new(ScalarExpr::literal(v, typ.clone())),
                els: Box::new(otherwise),
            }
        })
}

/// `format_type(type_oid, typmod)`: the type's SQL name, with its length or precision when
/// the typmod gives one (`character varying(20)`, `numeric(10,2)`).
fn format_type(args: Vec<Typed>) -> Result<ScalarExpr> {
    let mut args = args.into_iter();
    let oid = argument(args.next(), &ScalarType::Oid)?;
    let typmod = argument(args.next(), &ScalarType::Int32)?;
    let text = |e: ScalarExpr| ScalarExpr::call(Func::Cast(ScalarType::String), vec![e]);
    let concat = |parts: Vec<ScalarExpr>| {
        parts
            .into_iter()
            .reduce(|a, b| ScalarExpr::call(Func::Concat, vec![a, b]))
            .unwrap_or_else(|| string(""))
    };
    let declared = ScalarExpr::call(Func::Sub, vec![typmod.clone(), int(4)]);
    let has_typmod = ScalarExpr::call(Func::Gte, vec![typmod.clone(), int(4)]);
    let with_length = |name: &str| ScalarExpr::If {
        cond: Box::new(has_typmod.clone()),
        then: Box::new(concat(vec![
            string(&format!("{name}(")),
            text(declared.clone()),
            string(")"),
        ])),
        els: Box::new(string(name)),
    };
    let numeric = ScalarExpr::If {
        cond: Box::new(has_typmod.clone()),
        then: Box::new(concat(vec![
            string("numeric("),
            text(ScalarExpr::call(
                Func::Div,
                vec![declared.clone(), int(65_536)],
            )),
            string(","),
            text(ScalarExpr::call(
                Func::Mod,
                vec![declared.clone(), int(65_536)],
            )),
            string(")"),
        ])),
        els: Box::new(string("numeric")),
    };
    let mut result = string("???");
    for typ in system::pg_catalog::all_types().into_iter().rev() {
        let name = match &typ {
            ScalarType::VarChar { .. } => with_length("character varying"),
            ScalarType::Char { .. } => with_length("character"),
            ScalarType::Numeric { .. } => numeric.clone(),
            other => string(&other.sql_name()),
        };
        result = ScalarExpr::If {
            cond: Box::new(ScalarExpr::call(
                Func::Eq,
                vec![oid.clone(), oid_literal(typ.oid())],
            )),
            then: Box::new(name),
            els: Box::new(result),
        };
    }
    Ok(when_not_null(oid, result, ScalarType::String))
}

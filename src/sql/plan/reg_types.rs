//! `regclass`, `regtype`, `regproc`, `regnamespace` and `regrole`: oids that clients write
//! and read as names (`'t1'::regclass`, `atttypid::regtype::text`, `to_regtype('int4')`).
//!
//! A value of these types is an oid (`ScalarType::Reg`, held as `oid` is). Turning a name
//! into an oid and back needs the catalog, so it happens here, at planning, like the
//! functions of `catalog_functions`: a constant name is resolved once; any other expression
//! becomes a `CASE` over the objects the catalog has at planning time. A query's output
//! columns of these types are printed as names the same way.
//!
//! Invariant: an oid no object has prints as its number, and a number reads as that oid,
//! as in PostgreSQL.

use super::expr::Typed;
use super::func::{self, CastContext};
use crate::catalog::system::{
    self, SystemContext,
    oids::{self, INFORMATION_SCHEMA_NAMESPACE, PG_CATALOG_NAMESPACE, PUBLIC_NAMESPACE, SUPERUSER},
};
use crate::expr::{EvalError, Func, ScalarExpr};
use crate::repr::{Datum, RegKind, ScalarType};
use crate::sql::{PlanError, Result};

/// Each object of `kind` with the name it prints as.
fn objects(cx: &SystemContext, kind: RegKind) -> Vec<(u32, String)> {
    match kind {
        RegKind::Class => system::pg_catalog::relations(cx)
            .map(|(oid, entry)| (oid, quote_ident(&entry.name)))
            .chain(
                system::key_indexes::key_indexes(cx)
                    .into_iter()
                    .map(|index| (index.oid, quote_ident(&index.key.name))),
            )
            .chain(
                oids::SYSTEM_RELATIONS
                    .iter()
                    .map(|(name, oid)| (*oid, name.to_string())),
            )
            .collect(),
        RegKind::Type => system::pg_catalog::all_types()
            .into_iter()
            .map(|t| (t.oid(), type_name(&t)))
            .collect(),
        // Freshet has no user-defined functions, and `pg_proc` lists no built-in ones.
        RegKind::Proc => Vec::new(),
        RegKind::Namespace => vec![
            (PG_CATALOG_NAMESPACE, system::PG_CATALOG.to_string()),
            (PUBLIC_NAMESPACE, crate::catalog::DEFAULT_SCHEMA.to_string()),
            (
                INFORMATION_SCHEMA_NAMESPACE,
                system::INFORMATION_SCHEMA.to_string(),
            ),
        ],
        RegKind::Role => vec![(SUPERUSER, quote_ident(cx.user))],
    }
}

/// A type's name as `regtype` prints it: `format_type` without a type modifier.
fn type_name(typ: &ScalarType) -> String {
    match typ {
        ScalarType::Char { .. } => "character".into(),
        ScalarType::Array(elem) => format!("{}[]", type_name(elem)),
        other => other.without_modifiers().sql_name(),
    }
}

/// An identifier as PostgreSQL prints it in a name: bare when it reads back as itself.
fn quote_ident(name: &str) -> String {
    let bare = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if bare {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A possibly qualified, possibly quoted name (`public."My Table"`) as its parts: unquoted
/// parts fold to lower case. `None` when it is not a well-formed name.
fn name_parts(text: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut chars = text.trim().chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    '"' => break,
                    c => part.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied().filter(|c| *c != '.') {
                part.push(c.to_ascii_lowercase());
                chars.next();
            }
            if part.is_empty() || part.contains(char::is_whitespace) {
                return None;
            }
        }
        parts.push(part);
        match chars.next() {
            None => return Some(parts),
            Some('.') => continue,
            Some(_) => return None,
        }
    }
}

/// The oid `text` names as an object of `kind`, `None` when no object has that name.
fn resolve(cx: &SystemContext, kind: RegKind, text: &str) -> Option<u32> {
    if let Ok(number) = text.trim().parse::<u32>() {
        return Some(number);
    }
    match kind {
        RegKind::Class => {
            let system = |name: &str| {
                oids::SYSTEM_RELATIONS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, oid)| *oid)
            };
            let user = |name: &str| {
                system::pg_catalog::relations(cx)
                    .find(|(_, entry)| entry.name == name)
                    .map(|(oid, _)| oid)
                    .or_else(|| {
                        system::key_indexes::key_indexes(cx)
                            .into_iter()
                            .find(|index| index.key.name == name)
                            .map(|index| index.oid)
                    })
            };
            match name_parts(text)?.as_slice() {
                // PostgreSQL's search path looks in pg_catalog first.
                [name] => system(name).or_else(|| user(name)),
                [schema, name] if schema == system::PG_CATALOG => system(name),
                [schema, name] if schema == crate::catalog::DEFAULT_SCHEMA => user(name),
                _ => None,
            }
        }
        RegKind::Type => {
            let dialect = sqlparser::dialect::PostgreSqlDialect {};
            let parsed = sqlparser::parser::Parser::new(&dialect)
                .try_with_sql(text)
                .and_then(|mut p| p.parse_data_type())
                .ok()?;
            let typ = super::types::scalar_type_from_sql(&parsed).ok()?;
            Some(typ.oid())
        }
        RegKind::Proc => None,
        RegKind::Namespace | RegKind::Role => {
            let [name] = name_parts(text)?.try_into().ok()?;
            let name = quote_ident(&name);
            objects(cx, kind)
                .into_iter()
                .find(|(_, n)| *n == name)
                .map(|(oid, _)| oid)
        }
    }
}

/// The error for a name no object of `kind` has, with PostgreSQL's message and SQLSTATE.
fn missing(kind: RegKind, text: &str) -> PlanError {
    match kind {
        RegKind::Class => PlanError::UnknownRelation(text.to_string()),
        RegKind::Type => PlanError::UnknownType(text.to_string()),
        RegKind::Proc => PlanError::UnknownFunction(format!("\"{text}\"")),
        RegKind::Namespace => PlanError::UnknownSchema(text.to_string()),
        RegKind::Role => PlanError::UnknownObject(format!("role \"{text}\" does not exist")),
    }
}

/// `text::regclass` (and the other kinds): the oid of the object a string names. With
/// `missing_ok` (`to_regclass`), a name no object has gives NULL instead of an error.
pub fn plan_input(
    cx: &SystemContext,
    kind: RegKind,
    (expr, from): Typed,
    missing_ok: bool,
) -> Result<ScalarExpr> {
    let typ = ScalarType::Reg(kind);
    let oid_literal = |oid: u32| ScalarExpr::literal(Datum::Int64(i64::from(oid)), typ.clone());
    let text = func::plan_cast(expr, &from, &ScalarType::String, CastContext::Explicit)?;
    if let ScalarExpr::Literal(Ok(datum), _) = &text {
        return match datum {
            Datum::Null => Ok(ScalarExpr::null(typ)),
            Datum::String(name) => match resolve(cx, kind, name) {
                Some(oid) => Ok(oid_literal(oid)),
                None if missing_ok => Ok(ScalarExpr::null(typ)),
                None => Err(missing(kind, name)),
            },
            other => Err(PlanError::Eval(EvalError::Internal(format!(
                "a {} name that is not text: {other:?}",
                kind.sql_name()
            )))),
        };
    }
    // Not a constant: compare it with every object's name (and a number with the oids).
    let otherwise = if missing_ok {
        ScalarExpr::null(typ.clone())
    } else {
        ScalarExpr::Literal(
            Err(EvalError::InvalidParameter {
                message: format!("a {} input names no object", kind.sql_name()),
            }),
            typ.clone(),
        )
    };
    let names = objects(cx, kind);
    let by_name = names
        .into_iter()
        .rev()
        .fold(otherwise, |els, (oid, name)| ScalarExpr::If {
            cond: Box::new(ScalarExpr::call(
                Func::Eq,
                vec![
                    text.clone(),
                    ScalarExpr::literal(Datum::String(name), ScalarType::String),
                ],
            )),
            then: Box::new(oid_literal(oid)),
            els: Box::new(els),
        });
    Ok(ScalarExpr::If {
        cond: Box::new(ScalarExpr::call(Func::IsNull, vec![text])),
        then: Box::new(ScalarExpr::null(typ)),
        els: Box::new(by_name),
    })
}

/// `value::text` for a `value` of type `kind`: the name of the object with that oid, or the
/// number when no object has it.
pub fn plan_output(cx: &SystemContext, kind: RegKind, value: ScalarExpr) -> ScalarExpr {
    let number = ScalarExpr::call(Func::Cast(ScalarType::String), vec![value.clone()]);
    objects(cx, kind)
        .into_iter()
        .rev()
        .fold(number, |els, (oid, name)| ScalarExpr::If {
            cond: Box::new(ScalarExpr::call(
                Func::Eq,
                vec![
                    value.clone(),
                    ScalarExpr::literal(Datum::Int64(i64::from(oid)), ScalarType::Reg(kind)),
                ],
            )),
            then: Box::new(ScalarExpr::literal(Datum::String(name), ScalarType::String)),
            els: Box::new(els),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_parts_fold_unquoted_parts_and_keep_quoted_ones() {
        assert_eq!(name_parts("T1"), Some(vec!["t1".to_string()]));
        assert_eq!(
            name_parts("public.\"My \"\"T\"\"\""),
            Some(vec!["public".to_string(), "My \"T\"".to_string()])
        );
        assert_eq!(name_parts("a b"), None);
        assert_eq!(name_parts("a."), None);
        assert_eq!(name_parts("\"open"), None);
    }

    #[test]
    fn quote_ident_quotes_only_names_that_would_not_read_back() {
        assert_eq!(quote_ident("t1"), "t1");
        assert_eq!(quote_ident("T1"), "\"T1\"");
        assert_eq!(quote_ident("a b"), "\"a b\"");
    }

    #[test]
    fn type_names_are_printed_as_format_type_does() {
        assert_eq!(type_name(&ScalarType::Int32), "integer");
        assert_eq!(type_name(&ScalarType::Char { length: 1 }), "character");
        assert_eq!(
            type_name(&ScalarType::Array(Box::new(ScalarType::VarChar {
                max_length: None
            }))),
            "character varying[]"
        );
    }
}

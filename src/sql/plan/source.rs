//! `CREATE SOURCE ... FROM LOAD GENERATOR`: which relations the source makes, their names and
//! columns, and the generator's options. Pure: the start time is filled in when the source is
//! created (`LoadGeneratorSpec::start_micros` is 0 here).
//!
//! Options (all optional): `TICK INTERVAL` (default `'1s'`), `SCALE FACTOR` (default 1),
//! `UP TO n` (stop after n ticks), `AS OF n` (ticks before n are produced at once), `SEED`
//! (default 0). A generator with several outputs (AUCTION) needs `FOR ALL TABLES` and makes
//! one relation per output under the output's name; its own name is then its progress
//! relation. A single-output generator's relation has the source's name and its progress is
//! `<name>_progress`.

use super::context::StatementContext;
use super::statement::Plan;
use crate::repr::{Datum, Interval, RelationDesc, ScalarType};
use crate::sql::parse::CreateSourceStatement;
use crate::sql::{PlanError, Result};
use crate::storage::load_generator::{self, GeneratorKind, LoadGeneratorSpec};

/// The relations of a new source: `(name, desc, output)`, the source's own item first.
pub type SourceRelations = Vec<(String, RelationDesc, crate::catalog::SourceOutput)>;

pub fn plan_create_source(scx: &StatementContext, cs: &CreateSourceStatement) -> Result<Plan> {
    use crate::catalog::SourceOutput;
    let name = super::statement::table_name(scx, &cs.name)?;
    let kind = GeneratorKind::parse(&cs.generator).ok_or_else(|| {
        PlanError::unsupported(format!(
            "LOAD GENERATOR {} (there are COUNTER, CLICKS, AUCTION and NEXMARK)",
            cs.generator.to_uppercase()
        ))
    })?;
    let mut spec = LoadGeneratorSpec {
        kind,
        tick_micros: 1_000_000,
        scale_factor: 1,
        up_to: None,
        as_of: 0,
        seed: 0,
        start_micros: 0,
    };
    for (option, value) in &cs.options {
        match option.as_str() {
            "tick interval" => spec.tick_micros = interval_micros(scx, value, option)?,
            "scale factor" => spec.scale_factor = count(scx, value, option)?.max(1),
            "up to" => spec.up_to = Some(count(scx, value, option)?),
            "as of" => spec.as_of = count(scx, value, option)?,
            "seed" if kind == GeneratorKind::Nexmark => {
                return Err(PlanError::unsupported(
                    "SEED for LOAD GENERATOR NEXMARK (its data is fixed by the Nexmark generator)",
                ));
            }
            "seed" => spec.seed = count(scx, value, option)?,
            other => {
                return Err(PlanError::unsupported(format!(
                    "load generator option {}",
                    other.to_uppercase()
                )));
            }
        }
    }
    let outputs = kind.outputs();
    let relations: SourceRelations = match (kind.is_multi_output(), cs.for_all_tables) {
        (true, true) => std::iter::once((
            name.clone(),
            load_generator::progress_desc(),
            SourceOutput::Progress,
        ))
        .chain(
            outputs
                .into_iter()
                .enumerate()
                .map(|(i, o)| (o.name.to_string(), o.desc, SourceOutput::Data(i))),
        )
        .collect(),
        (true, false) => {
            return Err(PlanError::Syntax(format!(
                "LOAD GENERATOR {} makes several tables: add FOR ALL TABLES",
                kind.name()
            )));
        }
        (false, true) => {
            return Err(PlanError::Syntax(format!(
                "LOAD GENERATOR {} makes one relation: FOR ALL TABLES does not apply",
                kind.name()
            )));
        }
        (false, false) => {
            let output = outputs.into_iter().next().ok_or_else(|| {
                PlanError::unsupported(format!("LOAD GENERATOR {} without outputs", kind.name()))
            })?;
            vec![
                (name.clone(), output.desc, SourceOutput::Data(0)),
                (
                    format!("{name}_progress"),
                    load_generator::progress_desc(),
                    SourceOutput::Progress,
                ),
            ]
        }
    };
    // With IF NOT EXISTS an existing source of this name makes the statement a no-op; any
    // other relation name already taken is an error either way.
    if cs.if_not_exists && scx.catalog.name_exists(&name) {
        return Ok(Plan::NoOp {
            notice: format!("relation \"{name}\" already exists, skipping"),
            tag: "CREATE SOURCE".into(),
        });
    }
    for (relation, _, _) in &relations {
        if scx.catalog.name_exists(relation) {
            return Err(PlanError::AlreadyExists(relation.clone()));
        }
    }
    Ok(Plan::CreateSource { spec, relations })
}

fn constant(scx: &StatementContext, e: &ast_expr::Expr, typ: &ScalarType) -> Result<Datum> {
    super::expr::eval_constant(scx, e, typ, "load generator option")
}

use sqlparser::ast as ast_expr;

fn interval_micros(scx: &StatementContext, e: &ast_expr::Expr, option: &str) -> Result<i64> {
    match constant(scx, e, &ScalarType::Interval)? {
        Datum::Interval(Interval {
            months: 0,
            days,
            micros,
        }) if days as i64 * Interval::MICROS_PER_DAY + micros >= 1_000 => {
            Ok(days as i64 * Interval::MICROS_PER_DAY + micros)
        }
        _ => Err(PlanError::InvalidParameter(format!(
            "{} must be an interval of at least 1 millisecond, without months",
            option.to_uppercase()
        ))),
    }
}

fn count(scx: &StatementContext, e: &ast_expr::Expr, option: &str) -> Result<u64> {
    match constant(scx, e, &ScalarType::Int64)? {
        Datum::Int64(n) if n >= 0 => Ok(n as u64),
        _ => Err(PlanError::InvalidParameter(format!(
            "{} must be a non-negative integer",
            option.to_uppercase()
        ))),
    }
}

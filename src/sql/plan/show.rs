//! SHOW statements over the catalog, answered at plan time (the catalog is all they read).
//! Output shapes follow Materialize's, which our users know.

use super::context::StatementContext;
use super::expr::normalize_name;
use super::statement::Plan;
use crate::catalog::CatalogItem;
use crate::repr::{ColumnType, Datum, RelationDesc, Row, ScalarType};
use crate::sql::parse::ShowStatement;
use crate::sql::{PlanError, Result};

fn text_desc(names: &[&str]) -> RelationDesc {
    RelationDesc::new(
        names.iter().map(|n| n.to_string()).collect(),
        names
            .iter()
            .map(|_| ColumnType::new(ScalarType::String, false))
            .collect(),
    )
}

fn text_row(values: Vec<String>) -> Row {
    values.into_iter().map(Datum::String).collect()
}

pub fn plan_show(scx: &StatementContext, show: &ShowStatement) -> Result<Plan> {
    let catalog = scx.catalog;
    match show {
        ShowStatement::Objects(kind) => {
            let wanted = kind.item_kind();
            let mut rows: Vec<Row> = catalog
                .entries()
                .filter(|e| e.item.kind() == wanted)
                .map(|e| text_row(vec![e.name.clone()]))
                .collect();
            rows.sort();
            Ok(Plan::ShowRows {
                desc: text_desc(&["name"]),
                rows,
            })
        }
        ShowStatement::Indexes { on } => {
            let on_id = match on {
                Some(name) => Some(catalog.resolve(&normalize_name(name)?)?.id),
                None => None,
            };
            let mut rows = Vec::new();
            for entry in catalog.entries() {
                if let CatalogItem::Index { on, key_sql, .. } = &entry.item {
                    if on_id.is_some_and(|id| id != *on) {
                        continue;
                    }
                    let on_name = catalog.get(*on).map(|e| e.name.clone()).unwrap_or_default();
                    rows.push(text_row(vec![
                        entry.name.clone(),
                        on_name,
                        format!("{{{}}}", key_sql.join(",")),
                    ]));
                }
            }
            rows.sort();
            Ok(Plan::ShowRows {
                desc: text_desc(&["name", "on", "key"]),
                rows,
            })
        }
        ShowStatement::Columns { from } => {
            let entry = catalog.resolve(&normalize_name(from)?)?;
            let desc = entry.item.desc().ok_or_else(|| {
                PlanError::WrongObjectType(format!("\"{}\" is an index", entry.name))
            })?;
            let rows = desc
                .iter()
                .map(|(name, typ)| {
                    Row::new(vec![
                        Datum::String(name.clone()),
                        Datum::Bool(typ.nullable),
                        Datum::String(typ.scalar_type.sql_name()),
                    ])
                })
                .collect();
            Ok(Plan::ShowRows {
                desc: RelationDesc::new(
                    vec!["name".into(), "nullable".into(), "type".into()],
                    vec![
                        ColumnType::new(ScalarType::String, false),
                        ColumnType::new(ScalarType::Bool, false),
                        ColumnType::new(ScalarType::String, false),
                    ],
                ),
                rows,
            })
        }
        ShowStatement::Create { kind, name } => {
            let entry = catalog.resolve(&normalize_name(name)?)?;
            if entry.item.kind() != kind.item_kind() {
                return Err(PlanError::WrongObjectType(format!(
                    "\"{}\" is not a {}",
                    entry.name,
                    kind.item_kind().as_str()
                )));
            }
            Ok(Plan::ShowRows {
                desc: text_desc(&["name", "create_sql"]),
                rows: vec![text_row(vec![entry.name.clone(), entry.create_sql.clone()])],
            })
        }
        ShowStatement::Variable(name) => Ok(Plan::ShowVariable(name.clone())),
        ShowStatement::SourceStatuses => Ok(Plan::ShowSourceStatuses),
    }
}

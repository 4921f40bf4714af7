//! What a statement inside a transaction block sees of the block's own writes.
//!
//! A block's writes are buffered in its session until COMMIT (`session.rs`). So that a
//! later statement of the block reads them, as in PostgreSQL, every read of a table the
//! block wrote becomes the table's committed rows plus the block's updates to it: `Get(t)`
//! ⇒ `Get(t) ∪ Constant(updates to t)`. An UPDATE or DELETE then retracts the row as the
//! block last wrote it, never a version it already retracted.
//!
//! A view or materialized view that depends on a table the block wrote is read through its
//! definition, so that it sees the block's writes (a materialized view's dataflow holds
//! committed data only). Anything else over such a table (an index read directly) is
//! refused (0A000) rather than answered without the block's writes.
//!
//! DDL in a block, so that migration tools can wrap a migration in one: a CREATE runs at
//! once (later statements of the block use what it made) and is dropped again if the block
//! rolls back (ROLLBACK, ROLLBACK TO an earlier savepoint, a failed block's COMMIT, or the
//! connection ending). A DROP, ALTER or CREATE OR REPLACE could not be undone, so it is
//! planned (and so checked) when issued and run at COMMIT, before the block's writes. A
//! DROP's dependents are checked when issued too, counting what the block's earlier DROPs
//! remove (`DROP VIEW v; DROP TABLE t` works), so that a DROP that cannot run fails there,
//! not at COMMIT after the block's earlier DDL has run.
//! Differences from PostgreSQL, which makes DDL wholly transactional: other sessions see
//! the block's CREATEs before it commits; a deferred statement's effect is visible only
//! after COMMIT, also to the block itself; and a crash during COMMIT can leave its deferred
//! DDL applied without its writes.

use super::Writes;
use super::error::Result;
use crate::catalog::{Catalog, CatalogItem};
use crate::expr::{Id, RelationExpr};
use crate::repr::{Diff, GlobalId, Row};
use crate::sql::PlanError;
use crate::sql::Statement;
use std::collections::{BTreeMap, BTreeSet};

/// `expr` reading the block's `writes` too.
pub fn overlay_writes(catalog: &Catalog, expr: &mut RelationExpr, writes: &Writes) -> Result<()> {
    if writes.is_empty() {
        return Ok(());
    }
    let mut updates: BTreeMap<GlobalId, Vec<(Row, Diff)>> = BTreeMap::new();
    for (table, rows) in writes {
        updates
            .entry(*table)
            .or_default()
            .extend(rows.iter().cloned());
    }
    let written: BTreeSet<GlobalId> = updates.keys().copied().collect();
    overlay(catalog, expr, &updates, &written)
}

fn overlay(
    catalog: &Catalog,
    expr: &mut RelationExpr,
    updates: &BTreeMap<GlobalId, Vec<(Row, Diff)>>,
    written: &BTreeSet<GlobalId>,
) -> Result<()> {
    if let RelationExpr::Get {
        id: Id::Global(id),
        typ,
    } = expr
    {
        if let Some(rows) = updates.get(id) {
            // Rows the block wrote before an ALTER TABLE changed the table's width have the
            // old width: fitted as the COMMIT will fit them (`alter_table.rs`).
            let missing = catalog.missing_values(*id);
            let rows = rows
                .iter()
                .map(|(row, diff)| (row.clone().fitted(typ.len(), missing), *diff))
                .collect();
            let constant = RelationExpr::Constant {
                rows: Ok(rows),
                typ: typ.clone(),
            };
            let get = std::mem::replace(expr, RelationExpr::constant(vec![], vec![]));
            *expr = get.union(constant);
            return Ok(());
        }
        if !depends_on_any(catalog, *id, written) {
            return Ok(());
        }
        return match catalog.get(*id).map(|entry| (&entry.name, &entry.item)) {
            // A view over a written table: read its definition, over the block's writes
            // too. (A materialized view holds committed data; its definition gives what it
            // would hold with the block's writes.)
            Some((
                _,
                CatalogItem::View { expr: view, .. }
                | CatalogItem::MaterializedView { expr: view, .. },
            )) => {
                *expr = view.clone();
                overlay(catalog, expr, updates, written)
            }
            other => {
                let name = other.map_or("?", |(name, _)| name.as_str());
                Err(PlanError::unsupported(format!(
                    "reading \"{name}\" in a transaction block after writing a table it depends on"
                ))
                .into())
            }
        };
    }
    for child in expr.children_mut() {
        overlay(catalog, child, updates, written)?;
    }
    Ok(())
}

/// Whether item `id` reads, directly or through other items, one of `tables`.
fn depends_on_any(catalog: &Catalog, id: GlobalId, tables: &BTreeSet<GlobalId>) -> bool {
    let mut stack = vec![id];
    let mut seen = BTreeSet::new();
    while let Some(next) = stack.pop() {
        if tables.contains(&next) {
            return true;
        }
        if !seen.insert(next) {
            continue;
        }
        if let Some(entry) = catalog.get(next)
            && !matches!(entry.item, CatalogItem::Table { .. })
        {
            stack.extend(entry.item.uses());
        }
    }
    false
}

/// The command tag PostgreSQL answers a DDL statement with (`DROP TABLE`, `ALTER TABLE`,
/// `CREATE VIEW`), for a statement deferred to COMMIT.
pub fn command_tag(stmt: &Statement) -> String {
    let sql = match stmt {
        Statement::Sql(sql) => sql,
        Statement::AlterRename { kind, .. } => {
            return format!("ALTER {}", kind.item_kind().as_str().to_uppercase());
        }
        _ => return "DDL".into(),
    };
    match sql.as_ref() {
        sqlparser::ast::Statement::Drop { object_type, .. } => format!("DROP {object_type}"),
        sqlparser::ast::Statement::AlterTable { .. } => "ALTER TABLE".into(),
        sqlparser::ast::Statement::AlterIndex { .. } => "ALTER INDEX".into(),
        sqlparser::ast::Statement::AlterView { .. } => "ALTER VIEW".into(),
        sqlparser::ast::Statement::Comment { .. } => "COMMENT".into(),
        sqlparser::ast::Statement::CreateView(view) if view.materialized => {
            "CREATE MATERIALIZED VIEW".into()
        }
        sqlparser::ast::Statement::CreateView(_) => "CREATE VIEW".into(),
        other => other
            .to_string()
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
            .to_uppercase(),
    }
}

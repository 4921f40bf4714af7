//! Database-qualified names: `database.schema.item`, as tools that qualify every name write
//! them (dbt: `"analytics"."public"."orders"`).
//!
//! Every database name a client connects with reaches Freshet's one database, so a name
//! qualified with the session's database (`current_database()`) is that database's item, and
//! any other database is PostgreSQL's `cross-database references are not implemented`
//! (0A000). More than three parts is PostgreSQL's `improper qualified name` (42601).

use super::context::StatementContext;
use super::expr::normalize_name;
use crate::catalog::CatalogEntry;
use crate::sql::{PlanError, Result};
use sqlparser::ast;

impl<'a> StatementContext<'a> {
    /// `parts` (normalized) without a leading database part, which must name the session's
    /// database; names of one or two parts are returned as they are.
    pub fn local_name(&self, mut parts: Vec<String>) -> Result<Vec<String>> {
        match parts.len() {
            0..=2 => Ok(parts),
            3 if parts[0] == self.session.database => {
                parts.remove(0);
                Ok(parts)
            }
            3 => Err(PlanError::NotAllowed(format!(
                "cross-database references are not implemented: \"{}\"",
                parts.join(".")
            ))),
            _ => Err(PlanError::Syntax(format!(
                "improper qualified name (too many dotted names): {}",
                parts.join(".")
            ))),
        }
    }

    /// The catalog item `parts` names (possibly qualified with the session's database).
    pub fn resolve(&self, parts: &[String]) -> Result<&'a CatalogEntry> {
        let local = self.local_name(parts.to_vec())?;
        // A missing item is named as written, database included, as PostgreSQL does.
        self.catalog.resolve(&local).map_err(|e| match e {
            PlanError::UnknownRelation(_) => PlanError::UnknownRelation(parts.join(".")),
            other => other,
        })
    }

    /// The catalog item `name` names: [`resolve`](Self::resolve) of its normalized parts.
    pub fn resolve_name(&self, name: &ast::ObjectName) -> Result<&'a CatalogEntry> {
        self.resolve(&normalize_name(name)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, CatalogItem};
    use crate::repr::{ColumnType, GlobalId, RelationDesc, ScalarType};

    fn parts(name: &str) -> Vec<String> {
        name.split('.').map(str::to_string).collect()
    }

    #[test]
    fn a_name_qualified_with_the_session_database_resolves_and_another_database_does_not() {
        let mut catalog = Catalog::default();
        catalog.insert(CatalogEntry {
            id: GlobalId::User(1),
            name: "t".into(),
            create_sql: "CREATE TABLE t (a int)".into(),
            item: CatalogItem::Table {
                desc: RelationDesc::new(
                    vec!["a".into()],
                    vec![ColumnType::new(ScalarType::Int32, true)],
                ),
                defaults: vec![None],
                keys: vec![],
            },
        });
        let mut scx = StatementContext::new(&catalog, vec![], None);
        scx.session.database = "analytics".into();
        for name in ["t", "public.t", "analytics.public.t"] {
            assert_eq!(
                scx.resolve(&parts(name)).map(|e| e.id),
                Ok(GlobalId::User(1))
            );
        }
        // The catalog's own database name is not the session's.
        let other = scx.resolve(&parts("freshet.public.t")).unwrap_err();
        assert_eq!(
            (other.sqlstate(), other.to_string().as_str()),
            (
                "0A000",
                "cross-database references are not implemented: \"freshet.public.t\""
            )
        );
        let missing = scx.resolve(&parts("analytics.public.nope")).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "relation \"analytics.public.nope\" does not exist"
        );
        let long = scx.resolve(&parts("a.b.c.d")).unwrap_err();
        assert_eq!(long.sqlstate(), "42601");
    }
}

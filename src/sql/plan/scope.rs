//! Name resolution: which column of the relation being planned a name refers to.
//!
//! A `Scope` describes the columns of a relation, one `ScopeItem` per column, in order.
//! Items carry a `level`: 0 for the columns of the query being planned, 1 for the columns of
//! the query enclosing it (correlated references), and so on. Names resolve at the lowest
//! level that has them; two matches at that level are ambiguous.

use crate::repr::ColumnType;
use crate::sql::{PlanError, Result};

#[derive(Clone, Debug)]
pub struct ScopeItem {
    /// The table (or alias) the column belongs to, for `t.col` references.
    pub table: Option<String>,
    pub column: String,
    pub typ: ColumnType,
    pub level: usize,
    /// Hidden columns (appended subquery results, the right side of a USING join) are not
    /// expanded by `*` and do not resolve unqualified names.
    pub hidden: bool,
    /// Identifies the item across scopes (for recording correlated references).
    pub uid: u64,
}

#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub items: Vec<ScopeItem>,
}

impl Scope {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// A scope for the columns of one relation named `table`.
    pub fn from_columns(table: Option<&str>, names: &[String], types: &[ColumnType]) -> Scope {
        Scope {
            items: names
                .iter()
                .zip(types)
                .map(|(name, typ)| ScopeItem {
                    table: table.map(str::to_string),
                    column: name.clone(),
                    typ: typ.clone(),
                    level: 0,
                    hidden: false,
                    uid: 0,
                })
                .collect(),
        }
    }

    /// This scope's items one level further out (they become outer references).
    pub fn outer(&self) -> Scope {
        Scope {
            items: self
                .items
                .iter()
                .map(|item| ScopeItem {
                    level: item.level + 1,
                    ..item.clone()
                })
                .collect(),
        }
    }

    pub fn concat(mut self, other: Scope) -> Scope {
        self.items.extend(other.items);
        self
    }

    pub fn push(&mut self, item: ScopeItem) {
        self.items.push(item)
    }

    /// The column a (possibly qualified) name refers to.
    pub fn resolve(&self, table: Option<&str>, column: &str) -> Result<usize> {
        let display = match table {
            Some(t) => format!("{t}.{column}"),
            None => column.to_string(),
        };
        let mut levels: Vec<usize> = self.items.iter().map(|i| i.level).collect();
        levels.sort_unstable();
        levels.dedup();
        for level in levels {
            let matches: Vec<usize> = self
                .items
                .iter()
                .enumerate()
                .filter(|(_, item)| {
                    item.level == level
                        && item.column == column
                        && match table {
                            Some(t) => item.table.as_deref() == Some(t),
                            None => !item.hidden,
                        }
                })
                .map(|(i, _)| i)
                .collect();
            match matches.len() {
                0 => continue,
                1 => return Ok(matches[0]),
                _ => return Err(PlanError::AmbiguousColumn(display)),
            }
        }
        if let Some(t) = table
            && !self.items.iter().any(|i| i.table.as_deref() == Some(t))
        {
            return Err(PlanError::MissingFromEntry(t.to_string()));
        }
        Err(PlanError::UnknownColumn(display))
    }

    /// Whether any item is named by this table qualifier.
    pub fn has_table(&self, table: &str) -> bool {
        self.items
            .iter()
            .any(|i| i.level == 0 && i.table.as_deref() == Some(table))
    }
}

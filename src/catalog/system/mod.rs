//! System relations: `pg_catalog.*` and `information_schema.*`, which PostgreSQL clients
//! (psql, drivers, ORMs, BI tools) read to discover what exists.
//!
//! Each relation is a function of the catalog and the session (its user and database) to
//! its rows. The planner reads one as a constant relation when it plans a statement, so a
//! query sees the catalog as it was then; a view may not read one (its rows would not follow
//! later DDL).
//!
//! Invariants:
//! - Every relation has PostgreSQL 15's columns, in PostgreSQL's order and with its names;
//!   a column Freshet has no value for is NULL.
//! - OIDs are stable: a user item's OID follows from its id (`oids.rs`), so the same item
//!   has the same OID in every session and after a restart.

mod dependencies;
mod information_schema;
pub mod key_indexes;
pub mod oids;
pub mod pg_catalog;

use super::{Catalog, CatalogItem};
use crate::repr::{ColumnType, Datum, Row, ScalarType};

/// What a system relation reads besides the catalog.
pub struct SystemContext<'a> {
    pub catalog: &'a Catalog,
    /// The session's user: the one role, owner of everything.
    pub user: &'a str,
    /// The session's database.
    pub database: &'a str,
    /// The session's variables (`pg_settings`, `current_setting`).
    pub settings: &'a std::collections::BTreeMap<String, String>,
    /// Advisory locks held and awaited, server-wide (`pg_locks`).
    pub advisory_locks: &'a [AdvisoryLockRow],
}

/// One advisory lock of one session, as `pg_locks` shows it: the key split as PostgreSQL
/// splits it (a `bigint` key: its high and low 32 bits, objsubid 1; a pair of `integer`
/// keys: each, objsubid 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdvisoryLockRow {
    pub classid: u32,
    pub objid: u32,
    pub objsubid: i16,
    /// The session's process id (`pg_backend_pid()`).
    pub pid: u32,
    /// `ExclusiveLock` or `ShareLock`.
    pub mode: &'static str,
    pub granted: bool,
}

/// A system relation's columns and rows.
pub struct SystemRelation {
    pub names: Vec<String>,
    pub types: Vec<ColumnType>,
    pub rows: Vec<Row>,
}

impl SystemRelation {
    /// An empty relation with `columns` (name, type, nullable).
    fn new(columns: &[(&str, ScalarType)]) -> SystemRelation {
        SystemRelation {
            names: columns.iter().map(|(n, _)| n.to_string()).collect(),
            types: columns
                .iter()
                .map(|(_, t)| ColumnType::new(t.clone(), true))
                .collect(),
            rows: Vec::new(),
        }
    }

    /// An empty relation with the columns `spec` lists, as `name:type` separated by spaces.
    /// Types are PostgreSQL's names as Freshet holds them: `name`, `char` (`"char"`) and
    /// `text` are text.
    pub(super) fn from_spec(spec: &str) -> SystemRelation {
        let columns: Vec<(&str, ScalarType)> = spec
            .split_whitespace()
            .map(|column| {
                let (name, typ) = column
                    .split_once(':')
                    .unwrap_or_else(|| panic!("system column spec without a type: {column}"));
                (name, spec_type(typ))
            })
            .collect();
        SystemRelation::new(&columns)
    }

    /// Adds a row; `values` must have one datum per column.
    fn push(&mut self, values: Vec<Datum>) {
        debug_assert_eq!(values.len(), self.names.len(), "a system row per column");
        self.rows.push(Row::new(values));
    }
}

/// The schemas that hold system relations.
pub const PG_CATALOG: &str = "pg_catalog";
pub const INFORMATION_SCHEMA: &str = "information_schema";

/// The system relation `schema.name` (`schema` `None`: unqualified, which finds
/// `pg_catalog` relations, as PostgreSQL's implicit search path does), if there is one.
pub fn relation(schema: Option<&str>, name: &str, cx: &SystemContext) -> Option<SystemRelation> {
    match schema {
        None | Some(PG_CATALOG) => pg_catalog::relation(name, cx),
        Some(INFORMATION_SCHEMA) => information_schema::relation(name, cx),
        Some(_) => None,
    }
}

/// Whether `schema` is a schema of system relations.
pub fn is_system_schema(schema: &str) -> bool {
    schema == PG_CATALOG || schema == INFORMATION_SCHEMA
}

/// A column type of `SystemRelation::from_spec`. Specs are constants of this crate, so an
/// unknown name is a bug, caught by the test that reads every system relation.
fn spec_type(name: &str) -> ScalarType {
    if let Some(elem) = name.strip_suffix("[]") {
        return ScalarType::Array(Box::new(spec_type(elem)));
    }
    match name {
        "oid" => ScalarType::Oid,
        "name" | "char" | "text" => ScalarType::String,
        "bool" => ScalarType::Bool,
        "int2" => ScalarType::Int16,
        "int4" => ScalarType::Int32,
        // xid: as `pg_catalog`'s XID columns are.
        "int8" | "xid" => ScalarType::Int64,
        "float4" => ScalarType::Float32,
        "bytea" => ScalarType::Bytes,
        "timestamptz" => ScalarType::TimestampTz,
        "regproc" => ScalarType::Reg(crate::repr::RegKind::Proc),
        "int2vector" => ScalarType::Int2Vector,
        "oidvector" => ScalarType::OidVector,
        other => panic!("unknown type {other} in a system relation spec"),
    }
}

/// Whether `item`'s columns say NOT NULL where they are never NULL: a table's NOT NULL
/// columns, and a source's columns that its format never leaves NULL (as a foreign table's
/// NOT NULL columns). Views' columns never say (as in PostgreSQL), whatever their plan.
fn declares_not_null(item: &CatalogItem) -> bool {
    matches!(item, CatalogItem::Table { .. } | CatalogItem::Source { .. })
}

fn text(s: &str) -> Datum {
    Datum::String(s.to_string())
}

fn oid(v: u32) -> Datum {
    Datum::Int64(i64::from(v))
}

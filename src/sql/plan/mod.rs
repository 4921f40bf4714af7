//! Planning: statements to `Plan`s, and queries to MIR. Planning is pure and synchronous: it
//! reads the catalog and the statement, and does no I/O.
//!
//! | file | owns |
//! |---|---|
//! | `statement.rs` | `Plan`, and DDL / DML / SUBSCRIBE / SET planning |
//! | `query.rs` | SELECT, set operations, VALUES, WITH, GROUP BY, ORDER BY / LIMIT |
//! | `from.rs` | FROM items and joins (outer joins lowered to inner joins + unmatched rows) |
//! | `expr.rs` | scalar expressions, and subqueries decorrelated into joins |
//! | `recursive.rs` | WITH RECURSIVE (as `LetRec` bindings) |
//! | `refresh.rs` | REFRESH MATERIALIZED VIEW (materialized views are always fresh) |
//! | `window.rs` | ranking window functions |
//! | `func.rs` | functions, operators, casts and coercion (type resolution) |
//! | `scope.rs` | name resolution, including correlated (outer) references |
//! | `show.rs` | SHOW over the catalog |
//! | `create_table_as.rs` | CREATE TABLE ... AS: the table of the query's columns |
//! | `alter_table.rs` | ALTER TABLE ... ADD COLUMN |
//! | `table_keys.rs` | PRIMARY KEY / UNIQUE constraints of CREATE TABLE |
//! | `context.rs` | per-statement state: parameters, CTEs, `Let` bindings |
//! | `qualified_names.rs` | `database.schema.item` names (the session's database only) |
//! | `types.rs` | SQL type names |
//!
//! Every query is planned against an "outer" relation (see `query.rs`), which is what makes
//! correlated subqueries ordinary joins; `expr.rs` explains the lowering of each kind.

pub mod advisory_locks;
pub mod alter_table;
pub mod catalog_functions;
pub mod comment;
pub mod context;
pub mod create_table_as;
pub mod expr;
pub mod from;
pub mod func;
pub mod grouping_sets;
pub mod kafka;
pub mod qualified_names;
pub mod query;
pub mod recursive;
pub mod refresh;
pub mod reg_types;
pub mod scope;
pub mod sequences;
pub mod set_functions;
pub mod show;
pub mod source;
pub mod statement;
pub mod table_keys;
pub mod temporal;
pub mod time_windows;
pub mod truncate;
pub mod types;
pub mod window;
pub use context::{SessionContext, Settings, StatementContext};
pub use query::Finishing;
pub use statement::{CopyFromTarget, Plan, Returning, plan};

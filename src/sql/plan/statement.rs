//! Statements to `Plan`s: what to do, fully resolved against the catalog, with no I/O.

use super::context::StatementContext;
use super::expr::{ExprContext, normalize_ident, normalize_name};
use super::func::{self, CastContext};
use super::query::{self, Finishing, Outer};
use super::scope::Scope;
use super::types::scalar_type_from_sql;
use crate::catalog::{CatalogItem, ItemKind};
use crate::expr::{RelationExpr, ScalarExpr};
use crate::repr::{ColumnType, GlobalId, RelationDesc, Row, ScalarType};
use crate::sql::parse::{CursorBody, ObjectKind, Statement, SubscribeStatement, SubscribeTarget};
use crate::sql::{PlanError, Result};
use sqlparser::ast::{self, Expr};
use std::time::Duration;

/// A planned statement.
#[derive(Debug)]
pub enum Plan {
    CreateTable {
        name: String,
        desc: RelationDesc,
        defaults: Vec<Option<String>>,
        keys: Vec<crate::catalog::UniqueKey>,
        if_not_exists: bool,
        /// The sequences of its `serial` and identity columns, created before it.
        sequences: Vec<super::sequences::ColumnSequence>,
    },
    CreateSequence {
        name: String,
        spec: crate::catalog::SequenceSpec,
        if_not_exists: bool,
    },
    /// `SELECT nextval(...)` and the other sequence functions (`sequences.rs`).
    SequenceFunction(super::sequences::SequenceCall),
    CreateView {
        name: String,
        desc: RelationDesc,
        expr: RelationExpr,
        materialized: bool,
        if_not_exists: bool,
        replace: Option<GlobalId>,
    },
    /// A source and its relations, the source's own first (see `source.rs`).
    CreateSource {
        spec: crate::storage::load_generator::LoadGeneratorSpec,
        relations: super::source::SourceRelations,
    },
    /// A Kafka source and its relations: data, progress, errors (see `kafka.rs`).
    CreateKafkaSource {
        spec: Box<crate::storage::kafka::KafkaSourceSpec>,
        relations: super::source::SourceRelations,
    },
    CreateConnection {
        name: String,
        connection: crate::storage::kafka::KafkaConnection,
    },
    CreateSecret {
        name: String,
        value: String,
    },
    /// `SHOW SOURCE STATUSES` (rows made by the coordinator, which knows the readers).
    ShowSourceStatuses,
    CreateSink {
        name: String,
        spec: Box<crate::storage::kafka::sink::KafkaSinkSpec>,
    },
    CreateIndex {
        name: String,
        on: GlobalId,
        keys: Vec<ScalarExpr>,
        key_sql: Vec<String>,
        /// `CREATE UNIQUE INDEX`: the key to enforce on the table.
        unique: Option<crate::catalog::UniqueKey>,
        if_not_exists: bool,
    },
    /// Drops `ids` (which exist), and with `cascade` everything depending on them.
    Drop {
        kind: ObjectKind,
        ids: Vec<GlobalId>,
        cascade: bool,
        /// Names that did not exist (with IF EXISTS): each gets a notice.
        missing: Vec<String>,
    },
    /// `ALTER <kind> ... RENAME TO new_name` (`kind` as written: the command tag's).
    AlterRename {
        kind: ObjectKind,
        id: GlobalId,
        new_name: String,
    },
    /// `ALTER TABLE ... ADD COLUMN` (`alter_table.rs`).
    AddColumns(super::alter_table::AddColumns),
    /// `ALTER TABLE ... ALTER COLUMN` defaults and NOT NULL (`alter_table.rs`).
    AlterColumns(super::alter_table::AlterColumns),
    /// `ALTER TABLE ... DROP COLUMN` of a table's last columns (`alter_table.rs`).
    DropColumns(super::alter_table::DropColumns),
    /// `COMMENT ON ... IS 'text' | NULL` (`comment.rs`): `None` removes the comment.
    Comment {
        target: crate::catalog::comments::CommentTarget,
        text: Option<String>,
    },
    /// Appends the rows of `expr` (in table column order) to table `id`.
    Insert {
        id: GlobalId,
        expr: RelationExpr,
        returning: Option<Returning>,
        /// Columns (NULL in `expr`) that take each row's next value of a sequence.
        generated: super::sequences::Generated,
    },
    /// UPDATE / DELETE: reads `selection` (rows `old row ++ assigned values`), retracts each
    /// old row and, for an update, inserts the old row with the assignments applied.
    ReadThenWrite {
        id: GlobalId,
        selection: RelationExpr,
        /// For UPDATE: (table column, column of `selection` holding its new value).
        assignments: Option<Vec<(usize, usize)>>,
        returning: Option<Returning>,
    },
    Select {
        expr: RelationExpr,
        desc: RelationDesc,
        finishing: Finishing,
    },
    Subscribe {
        expr: RelationExpr,
        desc: RelationDesc,
        snapshot: bool,
        progress: bool,
        copy: bool,
    },
    Explain {
        expr: RelationExpr,
    },
    ShowRows {
        desc: RelationDesc,
        rows: Vec<Row>,
    },
    ShowVariable(String),
    SetVariable {
        name: String,
        /// `None`: reset to the default.
        value: Option<String>,
        /// `SET LOCAL`: until the end of the transaction block.
        local: bool,
    },
    /// `RESET ALL`: every variable back to its default.
    ResetAll,
    /// `SELECT set_config(name, value, is_local)`: SET, answering the new value as a row.
    SetConfig {
        name: String,
        value: String,
        local: bool,
    },
    /// `SELECT pg_advisory_lock(key)` and its family (`advisory_locks.rs`).
    AdvisoryLock(super::advisory_locks::AdvisoryLockCall),
    /// `BEGIN [READ ONLY | READ WRITE] [ISOLATION LEVEL ...]`. Every isolation level is
    /// served as strict serializable, which is at least as strong as any of them.
    StartTransaction {
        /// `None`: as `default_transaction_read_only` says.
        read_only: Option<bool>,
    },
    /// `SET TRANSACTION [READ ONLY | READ WRITE] [ISOLATION LEVEL ...]` in a block.
    SetTransaction {
        read_only: Option<bool>,
    },
    Commit,
    Rollback,
    /// `SAVEPOINT name`.
    Savepoint(String),
    /// `RELEASE [SAVEPOINT] name`.
    ReleaseSavepoint(String),
    /// `ROLLBACK TO [SAVEPOINT] name`.
    RollbackToSavepoint(String),
    /// `DEALLOCATE [PREPARE] name | ALL` (`None`: all).
    Deallocate(Option<String>),
    DeclareCursor {
        name: String,
        plan: Box<Plan>,
    },
    Fetch {
        cursor: String,
        count: Option<u64>,
        timeout: Option<Duration>,
    },
    Close {
        cursor: String,
    },
    /// `COPY table [(columns)] FROM STDIN`: the client sends the rows next.
    CopyFrom(CopyFromTarget),
    /// `DISCARD ALL`: reset the session.
    DiscardAll,
    /// Nothing to do, but tell the client why (e.g. `ALTER ... IF EXISTS` on a missing item).
    NoOp {
        notice: String,
        tag: String,
    },
}

/// Where `COPY ... FROM STDIN` rows go: each input row's fields fill `columns` (table column
/// indexes, in input order); every other column gets its default (or NULL).
#[derive(Debug, Clone)]
pub struct CopyFromTarget {
    pub id: GlobalId,
    pub table: String,
    pub desc: RelationDesc,
    pub columns: Vec<usize>,
    /// Per table column: the default for rows that do not provide it.
    pub defaults: Vec<ScalarExpr>,
    pub format: crate::repr::copy_format::CopyFormat,
    /// Columns the coordinator fills with the next values of sequences.
    pub generated: super::sequences::Generated,
}

/// `RETURNING` expressions over the written row, and the columns they produce.
#[derive(Debug, Clone)]
pub struct Returning {
    pub exprs: Vec<ScalarExpr>,
    pub desc: RelationDesc,
}

/// Plans one statement.
pub fn plan(scx: &StatementContext, stmt: &Statement) -> Result<Plan> {
    let plan = plan_statement(scx, stmt)?;
    super::temporal::check_plan(&plan)?;
    Ok(plan)
}

fn plan_statement(scx: &StatementContext, stmt: &Statement) -> Result<Plan> {
    match stmt {
        Statement::Sql(s) => plan_sql(scx, s),
        Statement::Subscribe(s) => plan_subscribe(scx, s, false),
        Statement::CreateSource(cs) => super::source::plan_create_source(scx, cs),
        Statement::CreateKafkaSource(ks) => super::kafka::plan_create_kafka_source(scx, ks),
        Statement::CreateConnection(cc) => super::kafka::plan_create_connection(scx, cc),
        Statement::CreateSecret(cs) => super::kafka::plan_create_secret(scx, cs),
        Statement::CreateSink(cs) => super::kafka::plan_create_sink(scx, cs),
        Statement::DropItems {
            kind,
            if_exists,
            names,
            cascade,
        } => plan_drop(scx, *kind, *if_exists, names, *cascade),
        Statement::CopySubscribe(s) => plan_subscribe(scx, s, true),
        Statement::DeclareCursor { name, body } => {
            let plan = match body {
                CursorBody::Subscribe(s) => plan_subscribe(scx, s, false)?,
                CursorBody::Query(q) => plan_select(scx, q)?,
            };
            Ok(Plan::DeclareCursor {
                name: name.clone(),
                plan: Box::new(plan),
            })
        }
        Statement::Fetch {
            cursor,
            count,
            timeout,
        } => Ok(Plan::Fetch {
            cursor: cursor.clone(),
            count: *count,
            timeout: *timeout,
        }),
        Statement::Close { cursor } => Ok(Plan::Close {
            cursor: cursor.clone(),
        }),
        Statement::Show(show) => super::show::plan_show(scx, show),
        Statement::ExplainItem { name } => {
            let entry = scx.resolve_name(name)?;
            match &entry.item {
                CatalogItem::View { expr, .. } | CatalogItem::MaterializedView { expr, .. } => {
                    Ok(Plan::Explain { expr: expr.clone() })
                }
                other => Err(PlanError::WrongObjectType(format!(
                    "\"{}\" is a {}, not a view",
                    entry.name,
                    other.kind().as_str()
                ))),
            }
        }
        Statement::AlterRename {
            kind,
            if_exists,
            name,
            new_name,
        } => {
            let parts = normalize_name(name)?;
            let entry = match scx.resolve(&parts) {
                Ok(e) => e,
                Err(PlanError::UnknownRelation(_)) if *if_exists => {
                    return Ok(Plan::NoOp {
                        notice: format!(
                            "relation \"{}\" does not exist, skipping",
                            parts.join(".")
                        ),
                        tag: format!("ALTER {}", kind.item_kind().as_str().to_uppercase()),
                    });
                }
                Err(e) => return Err(e),
            };
            // As in PostgreSQL, ALTER TABLE and ALTER INDEX rename any relation; ALTER VIEW
            // and ALTER MATERIALIZED VIEW only their own kind.
            let relation = matches!(
                entry.item.kind(),
                ItemKind::Table | ItemKind::View | ItemKind::MaterializedView | ItemKind::Index
            );
            if !(relation && matches!(kind, ObjectKind::Table | ObjectKind::Index)) {
                check_kind(entry.item.kind(), *kind, &entry.name)?;
            }
            // Whether `new_name` is free is checked when the rename runs (`coord/sequence.rs`):
            // inside a transaction block, an earlier deferred statement may free it.
            Ok(Plan::AlterRename {
                kind: *kind,
                id: entry.id,
                new_name: new_name.clone(),
            })
        }
    }
}

/// `DROP <kind> [IF EXISTS] names [CASCADE]`.
fn plan_drop(
    scx: &StatementContext,
    kind: ObjectKind,
    if_exists: bool,
    names: &[ast::ObjectName],
    cascade: bool,
) -> Result<Plan> {
    let mut ids = Vec::new();
    let mut missing = Vec::new();
    for name in names {
        let parts = normalize_name(name)?;
        match scx.resolve(&parts) {
            Ok(entry) => {
                check_kind(entry.item.kind(), kind, &entry.name)?;
                ids.push(entry.id);
                if let CatalogItem::Source { owner, .. } = &entry.item {
                    // A source's relations are dropped with it, and only with it.
                    if let Some(owner) = owner.and_then(|o| scx.catalog.get(o)) {
                        return Err(PlanError::unsupported(format!(
                            "dropping \"{}\" on its own (it belongs to source \"{}\": drop the source)",
                            entry.name, owner.name
                        )));
                    }
                    ids.extend(scx.catalog.entries().filter_map(|e| match &e.item {
                        CatalogItem::Source { owner: Some(o), .. } if *o == entry.id => Some(e.id),
                        _ => None,
                    }));
                }
            }
            Err(PlanError::UnknownRelation(_)) if if_exists => missing.push(parts.join(".")),
            Err(PlanError::UnknownRelation(_)) => {
                let display = parts.join(".");
                return Err(match kind {
                    ObjectKind::Table => PlanError::UnknownRelationOfKind(format!(
                        "table \"{display}\" does not exist"
                    )),
                    ObjectKind::View => PlanError::UnknownRelationOfKind(format!(
                        "view \"{display}\" does not exist"
                    )),
                    ObjectKind::MaterializedView => PlanError::UnknownRelationOfKind(format!(
                        "materialized view \"{display}\" does not exist"
                    )),
                    ObjectKind::Index => {
                        PlanError::UnknownObject(format!("index \"{display}\" does not exist"))
                    }
                    ObjectKind::Source => {
                        PlanError::UnknownObject(format!("source \"{display}\" does not exist"))
                    }
                    ObjectKind::Connection => {
                        PlanError::UnknownObject(format!("connection \"{display}\" does not exist"))
                    }
                    ObjectKind::Secret => {
                        PlanError::UnknownObject(format!("secret \"{display}\" does not exist"))
                    }
                    ObjectKind::Sink => {
                        PlanError::UnknownObject(format!("sink \"{display}\" does not exist"))
                    }
                    ObjectKind::Sequence => PlanError::UnknownRelationOfKind(format!(
                        "sequence \"{display}\" does not exist"
                    )),
                });
            }
            // A name Freshet cannot have (another database's).
            Err(e) => return Err(e),
        }
    }
    Ok(Plan::Drop {
        kind,
        ids,
        cascade,
        missing,
    })
}

pub(super) fn check_kind(actual: ItemKind, expected: ObjectKind, name: &str) -> Result<()> {
    let expected = expected.item_kind();
    if actual != expected {
        return Err(PlanError::WrongObjectType(format!(
            "\"{name}\" is not a {}",
            expected.as_str()
        )));
    }
    Ok(())
}

fn plan_sql(scx: &StatementContext, stmt: &ast::Statement) -> Result<Plan> {
    match stmt {
        ast::Statement::Query(q) => match plan_session_function(scx, q) {
            Some(plan) => plan,
            None => plan_select(scx, q),
        },
        ast::Statement::CreateTable(ct) => plan_create_table(scx, ct),
        ast::Statement::CreateView(cv) => plan_create_view(scx, cv),
        ast::Statement::CreateIndex(ci) => plan_create_index(scx, ci),
        ast::Statement::Drop {
            object_type,
            if_exists,
            names,
            cascade,
            purge,
            temporary,
            table,
            ..
        } => {
            if *purge || *temporary || table.is_some() {
                return Err(PlanError::unsupported(format!("{stmt}")));
            }
            let kind = match object_type {
                ast::ObjectType::Table => ObjectKind::Table,
                ast::ObjectType::View => ObjectKind::View,
                ast::ObjectType::MaterializedView => ObjectKind::MaterializedView,
                ast::ObjectType::Index => ObjectKind::Index,
                ast::ObjectType::Sequence => ObjectKind::Sequence,
                other => return Err(PlanError::unsupported(format!("DROP {other}"))),
            };
            plan_drop(scx, kind, *if_exists, names, *cascade)
        }
        ast::Statement::Insert(insert) => plan_insert(scx, insert),
        ast::Statement::CreateSequence {
            temporary,
            if_not_exists,
            name,
            sequence_options,
        } => super::sequences::plan_create_sequence(
            scx,
            *temporary,
            *if_not_exists,
            name,
            sequence_options,
        ),
        ast::Statement::RefreshMaterializedView(refresh) => {
            super::refresh::plan_refresh(scx, refresh)
        }
        ast::Statement::Comment {
            object_type,
            object_name,
            comment,
            if_exists,
        } => super::comment::plan_comment(scx, object_type, object_name, comment, *if_exists),
        ast::Statement::Copy {
            source,
            to,
            target,
            options,
            legacy_options,
            payload,
        } => plan_copy(
            scx,
            source,
            *to,
            target,
            options,
            legacy_options,
            payload.is_some(),
        ),
        ast::Statement::Update(update) => plan_update(scx, update),
        ast::Statement::Delete(delete) => plan_delete(scx, delete),
        ast::Statement::Truncate(truncate) => super::truncate::plan_truncate(scx, truncate),
        ast::Statement::AlterTable(alter) => super::alter_table::plan_alter_table(scx, alter),
        ast::Statement::Explain {
            statement,
            analyze,
            format,
            options,
            ..
        } => {
            if *analyze || format.is_some() || options.is_some() {
                return Err(PlanError::unsupported("EXPLAIN options"));
            }
            let expr = match statement.as_ref() {
                ast::Statement::Query(q) => match plan_select(scx, q)? {
                    Plan::Select { expr, .. } => expr,
                    _ => unreachable!("plan_select returns Select"),
                },
                ast::Statement::CreateView(cv) => match plan_create_view(scx, cv)? {
                    Plan::CreateView { expr, .. } => expr,
                    _ => unreachable!("plan_create_view returns CreateView"),
                },
                other => return Err(PlanError::unsupported(format!("EXPLAIN {other}"))),
            };
            Ok(Plan::Explain { expr })
        }
        ast::Statement::StartTransaction { modes, .. } => Ok(Plan::StartTransaction {
            read_only: access_mode(modes),
        }),
        ast::Statement::Commit { chain: false, .. } => Ok(Plan::Commit),
        ast::Statement::Rollback {
            chain: false,
            savepoint: None,
        } => Ok(Plan::Rollback),
        ast::Statement::Rollback {
            chain: false,
            savepoint: Some(name),
        } => Ok(Plan::RollbackToSavepoint(normalize_ident(name))),
        ast::Statement::Savepoint { name } => Ok(Plan::Savepoint(normalize_ident(name))),
        ast::Statement::ReleaseSavepoint { name } => {
            Ok(Plan::ReleaseSavepoint(normalize_ident(name)))
        }
        ast::Statement::Deallocate { name, .. } => Ok(Plan::Deallocate(
            (!(name.quote_style.is_none() && name.value.eq_ignore_ascii_case("all")))
                .then(|| normalize_ident(name)),
        )),
        ast::Statement::Set(set) => plan_set(set),
        ast::Statement::Reset(reset) => match &reset.reset {
            ast::Reset::ConfigurationParameter(name) => Ok(Plan::SetVariable {
                name: normalize_name(name)?.join("."),
                value: None,
                local: false,
            }),
            ast::Reset::ALL => Ok(Plan::ResetAll),
            // One role: the session is always its own user.
            ast::Reset::SessionAuthorization => Ok(Plan::NoOp {
                notice: "the session's user is the only role".into(),
                tag: "RESET".into(),
            }),
        },
        ast::Statement::ShowVariable { variable } => Ok(Plan::ShowVariable(
            variable
                .iter()
                .map(normalize_ident)
                .collect::<Vec<_>>()
                .join(" "),
        )),
        // Every database name a client connects with reaches Freshet's one database, so
        // each already exists: there is nothing to create.
        ast::Statement::CreateDatabase {
            db_name,
            location: None,
            managed_location: None,
            or_replace: false,
            ..
        } => Ok(Plan::NoOp {
            notice: format!(
                "database \"{}\" is Freshet's one database, as every database name is",
                normalize_name(db_name)?.join(".")
            ),
            tag: "CREATE DATABASE".into(),
        }),
        // One schema, `public`: creating it is a no-op; any other is not supported.
        ast::Statement::CreateSchema {
            schema_name: ast::SchemaName::Simple(name),
            if_not_exists,
            ..
        } if normalize_name(name)?.as_slice() == [crate::catalog::DEFAULT_SCHEMA] => {
            if !*if_not_exists {
                return Err(PlanError::DuplicateSchema(
                    crate::catalog::DEFAULT_SCHEMA.into(),
                ));
            }
            Ok(Plan::NoOp {
                notice: "schema \"public\" already exists, skipping".into(),
                tag: "CREATE SCHEMA".into(),
            })
        }
        ast::Statement::CreateSchema { .. } => Err(PlanError::unsupported(
            "CREATE SCHEMA (Freshet has one schema, public)",
        )),
        ast::Statement::Discard { object_type } => match object_type {
            ast::DiscardObject::ALL => Ok(Plan::DiscardAll),
            other => Err(PlanError::unsupported(format!("DISCARD {other}"))),
        },
        other => Err(PlanError::unsupported(format!(
            "statement {}",
            statement_name(other)
        ))),
    }
}

fn statement_name(stmt: &ast::Statement) -> String {
    let text = stmt.to_string();
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The access mode `modes` set last: `Some(true)` for READ ONLY, `Some(false)` for READ
/// WRITE, `None` if they set none. (Isolation levels are all served strict serializable.)
fn access_mode(modes: &[ast::TransactionMode]) -> Option<bool> {
    modes.iter().rev().find_map(|mode| match mode {
        ast::TransactionMode::AccessMode(ast::TransactionAccessMode::ReadOnly) => Some(true),
        ast::TransactionMode::AccessMode(ast::TransactionAccessMode::ReadWrite) => Some(false),
        ast::TransactionMode::IsolationLevel(_) => None,
    })
}

fn plan_set(set: &ast::Set) -> Result<Plan> {
    match set {
        ast::Set::SetTransaction {
            snapshot: Some(_), ..
        } => Err(PlanError::unsupported("SET TRANSACTION SNAPSHOT")),
        // SET SESSION CHARACTERISTICS AS TRANSACTION ...: the default of later blocks.
        ast::Set::SetTransaction {
            modes,
            session: true,
            ..
        } => Ok(match access_mode(modes) {
            Some(read_only) => Plan::SetVariable {
                name: "default_transaction_read_only".into(),
                value: Some(if read_only { "on" } else { "off" }.into()),
                local: false,
            },
            None => Plan::NoOp {
                notice: "every isolation level is served strict serializable".into(),
                tag: "SET".into(),
            },
        }),
        // SET TRANSACTION ...: the open block's.
        ast::Set::SetTransaction { modes, .. } => Ok(Plan::SetTransaction {
            read_only: access_mode(modes),
        }),
        ast::Set::SingleAssignment {
            variable,
            values,
            scope,
            ..
        } => {
            let name = normalize_name(variable)?.join(".");
            let value = values
                .iter()
                .map(|v| match v {
                    Expr::Value(v) => match &v.value {
                        ast::Value::SingleQuotedString(s) => Ok(s.clone()),
                        ast::Value::Number(n, _) => Ok(n.clone()),
                        ast::Value::Boolean(b) => Ok(if *b { "on".into() } else { "off".into() }),
                        other => Ok(other.to_string()),
                    },
                    Expr::Identifier(i) => Ok(i.value.clone()),
                    other => Err(PlanError::unsupported(format!("SET value {other}"))),
                })
                .collect::<Result<Vec<_>>>()?;
            let value = if value.len() == 1 && value[0].eq_ignore_ascii_case("default") {
                None
            } else {
                Some(value.join(", "))
            };
            let local = matches!(scope, Some(ast::ContextModifier::Local));
            Ok(Plan::SetVariable { name, value, local })
        }
        ast::Set::SetTimeZone { value, local } => {
            let value = match value {
                Expr::Value(v) => match &v.value {
                    ast::Value::SingleQuotedString(s) => s.clone(),
                    other => other.to_string(),
                },
                other => other.to_string(),
            };
            Ok(Plan::SetVariable {
                name: "timezone".into(),
                value: Some(value),
                local: *local,
            })
        }
        ast::Set::SetNames { charset_name, .. } => Ok(Plan::SetVariable {
            name: "client_encoding".into(),
            value: Some(charset_name.to_string()),
            local: false,
        }),
        other => Err(PlanError::unsupported(format!("{other}"))),
    }
}

/// A SELECT that is one call of a function acting on the session rather than computing a
/// value: `set_config` (`plan_set_config`) or an advisory-lock function
/// (`advisory_locks.rs`). `None` for any other statement.
fn plan_session_function(scx: &StatementContext, q: &ast::Query) -> Option<Result<Plan>> {
    let (f, alias) = lone_function_call(q)?;
    if let Some(call) = super::advisory_locks::plan_advisory_lock(scx, f, alias) {
        return Some(call.map(Plan::AdvisoryLock));
    }
    if let Some(call) = super::sequences::plan_sequence_function(scx, f, alias) {
        return Some(call.map(Plan::SequenceFunction));
    }
    plan_set_config(f)
}

/// The name of a call of a built-in function, unqualified or qualified by `pg_catalog`,
/// normalized; `None` for any other name.
pub(super) fn builtin_function_name(f: &ast::Function) -> Option<String> {
    let mut name = normalize_name(&f.name).ok()?;
    match name.as_slice() {
        [_] => name.pop(),
        [schema, _] if schema == crate::catalog::system::PG_CATALOG => name.pop(),
        _ => None,
    }
}

/// The arguments of a plain call of `name`: positional, without DISTINCT, ORDER BY,
/// FILTER, OVER or WITHIN GROUP (0A000 otherwise).
pub(super) fn plain_call_arguments<'a>(f: &'a ast::Function, name: &str) -> Result<Vec<&'a Expr>> {
    if f.filter.is_some() || f.over.is_some() || !f.within_group.is_empty() {
        return Err(PlanError::unsupported(format!("this call of {name}")));
    }
    match &f.args {
        ast::FunctionArguments::None => Ok(vec![]),
        ast::FunctionArguments::List(list)
            if list.duplicate_treatment.is_none() && list.clauses.is_empty() =>
        {
            super::expr::expr_arguments(&list.args)
        }
        _ => Err(PlanError::unsupported(format!("this call of {name}"))),
    }
}

/// The result column of a lone call of `name`: its alias, else the function's name.
pub(super) fn call_column(alias: Option<&ast::Ident>, name: &str) -> String {
    alias
        .map(normalize_ident)
        .unwrap_or_else(|| name.to_string())
}

/// `SELECT f(...) [AS alias]` and nothing more (no FROM, WHERE, ORDER BY, ...).
fn lone_function_call(q: &ast::Query) -> Option<(&ast::Function, Option<&ast::Ident>)> {
    let ast::SetExpr::Select(select) = q.body.as_ref() else {
        return None;
    };
    if q.with.is_some()
        || q.order_by.is_some()
        || q.limit_clause.is_some()
        || !select.from.is_empty()
        || select.selection.is_some()
        || !matches!(&select.group_by, ast::GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty())
        || select.having.is_some()
        || select.distinct.is_some()
        || select.projection.len() != 1
    {
        return None;
    }
    match &select.projection[0] {
        ast::SelectItem::UnnamedExpr(Expr::Function(f)) => Some((f, None)),
        ast::SelectItem::ExprWithAlias {
            expr: Expr::Function(f),
            alias,
        } => Some((f, Some(alias))),
        _ => None,
    }
}

/// `SELECT [pg_catalog.]set_config('name', 'value', is_local)` with constant arguments (how
/// tools such as pg_dump set variables): a SET whose answer is the new value. Other uses
/// of `set_config` (over a table, with computed arguments) are not recognized here and fail
/// as an unknown function.
fn plan_set_config(f: &ast::Function) -> Option<Result<Plan>> {
    if builtin_function_name(f)? != "set_config" {
        return None;
    }
    let ast::FunctionArguments::List(list) = &f.args else {
        return None;
    };
    let literal = |arg: &ast::FunctionArg| match arg {
        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(Expr::Value(v))) => match &v.value {
            ast::Value::SingleQuotedString(s) => Some(s.clone()),
            ast::Value::Boolean(b) => Some(b.to_string()),
            _ => None,
        },
        _ => None,
    };
    let [name, value, local] = list.args.as_slice() else {
        return None;
    };
    let (name, value, local) = (literal(name)?, literal(value)?, literal(local)?);
    Some(Ok(Plan::SetConfig {
        name: name.to_lowercase(),
        value,
        local: local == "true",
    }))
}

pub fn plan_select(scx: &StatementContext, q: &ast::Query) -> Result<Plan> {
    let planned = query::plan_query(scx, q, &Outer::none(), true)?;
    let names = planned.column_names();
    let planned = print_reg_columns_as_names(scx, planned);
    let desc = RelationDesc::new(names, planned.column_types());
    let mut expr = planned.expr;
    if let Some(limit) = planned.finishing.limit {
        // Only the first offset + limit rows can be returned: keep just those in the
        // dataflow; the finishing still sorts, skips and limits them.
        expr = RelationExpr::TopK {
            input: Box::new(expr),
            group_key: vec![],
            order_key: planned.finishing.order_by.clone(),
            limit: Some(limit.saturating_add(planned.finishing.offset)),
            offset: 0,
        };
    }
    let expr = scx.wrap_lets(expr);
    Ok(Plan::Select {
        expr,
        desc,
        finishing: planned.finishing,
    })
}

/// Output columns of type `regclass` and its siblings, printed as their objects' names
/// (which only the planner can look up): each becomes a text column. Sorting still uses the
/// oid, as in PostgreSQL. (The scope no longer describes the new columns: take the output
/// names before.)
fn print_reg_columns_as_names(
    scx: &StatementContext,
    mut planned: query::PlannedQuery,
) -> query::PlannedQuery {
    let types = planned.expr.typ();
    let cx = scx.system_context();
    let mut names = Vec::new();
    for output in planned.finishing.project.iter_mut() {
        if let ScalarType::Reg(kind) = types[*output].scalar_type {
            let name = super::reg_types::plan_output(&cx, kind, ScalarExpr::Column(*output));
            *output = types.len() + names.len();
            names.push(name);
        }
    }
    if !names.is_empty() {
        planned.expr = planned.expr.map(names);
    }
    planned
}

fn plan_subscribe(scx: &StatementContext, s: &SubscribeStatement, copy: bool) -> Result<Plan> {
    let (expr, desc) = match &s.target {
        SubscribeTarget::Name(name) => {
            let (rel, names, types, _) = query::resolve_catalog_relation(scx, name)?;
            (rel, RelationDesc::new(names, types))
        }
        SubscribeTarget::Query(q) => {
            let planned = query::plan_query(scx, q, &Outer::none(), false)?;
            let desc = RelationDesc::new(planned.column_names(), planned.column_types());
            if !planned.finishing.order_by.is_empty() && planned.finishing.limit.is_none() {
                return Err(PlanError::unsupported(
                    "ORDER BY in SUBSCRIBE without LIMIT",
                ));
            }
            (planned.into_relation(), desc)
        }
    };
    Ok(Plan::Subscribe {
        expr: scx.wrap_lets(expr),
        desc,
        snapshot: s.snapshot,
        progress: s.progress,
        copy,
    })
}

fn plan_create_table(scx: &StatementContext, ct: &ast::CreateTable) -> Result<Plan> {
    if ct.or_replace
        || ct.temporary
        || ct.external
        || ct.like.is_some()
        || ct.clone.is_some()
        || ct.inherits.is_some()
        || ct.partition_of.is_some()
        || ct.on_commit.is_some()
    {
        return Err(PlanError::unsupported("this CREATE TABLE form"));
    }
    if let Some(query) = &ct.query {
        return super::create_table_as::plan_create_table_as(scx, ct, query);
    }
    let name = table_name(scx, &ct.name)?;
    if scx.catalog.name_exists(&name) && !ct.if_not_exists {
        return Err(PlanError::AlreadyExists(name));
    }
    let mut names = Vec::new();
    let mut types = Vec::new();
    let mut defaults = Vec::new();
    let mut sequences: Vec<super::sequences::ColumnSequence> = Vec::new();
    for column in &ct.columns {
        let column_name = normalize_ident(&column.name);
        if names.contains(&column_name) {
            return Err(PlanError::DuplicateColumn(column_name));
        }
        let serial = super::sequences::serial_type(&column.data_type);
        let typ = match &serial {
            Some(typ) => typ.clone(),
            None => scalar_type_from_sql(&column.data_type)?,
        };
        let mut nullable = true;
        let mut default = None;
        let new_sequence_name = |sequences: &[super::sequences::ColumnSequence]| {
            let taken: Vec<String> = sequences.iter().map(|s| s.name.clone()).collect();
            super::sequences::column_sequence_name(scx, &name, &column_name, &taken)
        };
        if let Some(typ) = &serial {
            // serial: NOT NULL DEFAULT nextval('<table>_<column>_seq'), a sequence owned
            // by the column.
            let sequence = new_sequence_name(&sequences);
            default = Some(format!(
                "nextval('{}'::regclass)",
                sequence.replace('\'', "''")
            ));
            nullable = false;
            sequences.push(super::sequences::ColumnSequence {
                name: sequence,
                spec: super::sequences::serial_spec(typ),
                column: names.len(),
            });
        }
        for option in &column.options {
            match &option.option {
                ast::ColumnOption::Null if serial.is_some() => {
                    return Err(PlanError::Syntax(format!(
                        "conflicting NULL/NOT NULL declarations for column \"{column_name}\" of table \"{name}\""
                    )));
                }
                ast::ColumnOption::Default(_)
                    if serial.is_some() || sequences.iter().any(|s| s.column == names.len()) =>
                {
                    return Err(PlanError::Syntax(format!(
                        "multiple default values specified for column \"{column_name}\" of table \"{name}\""
                    )));
                }
                ast::ColumnOption::Generated {
                    generated_as,
                    sequence_options,
                    generation_expr: None,
                    ..
                } => {
                    if serial.is_some()
                        || default.is_some()
                        || sequences.iter().any(|s| s.column == names.len())
                    {
                        return Err(PlanError::Syntax(format!(
                            "multiple default values specified for column \"{column_name}\" of table \"{name}\""
                        )));
                    }
                    let spec = super::sequences::identity_spec(
                        scx,
                        generated_as,
                        sequence_options.as_deref(),
                        &typ,
                    )?;
                    nullable = false;
                    sequences.push(super::sequences::ColumnSequence {
                        name: new_sequence_name(&sequences),
                        spec,
                        column: names.len(),
                    });
                }
                ast::ColumnOption::Null => nullable = true,
                ast::ColumnOption::NotNull => nullable = false,
                // Planned with the table constraints, in `table_keys.rs`.
                ast::ColumnOption::PrimaryKey(_) | ast::ColumnOption::Unique(_) => {}
                ast::ColumnOption::Default(e) => {
                    // Check the default now; it is planned again at each INSERT so that
                    // functions like now() are evaluated then.
                    plan_default(scx, &e.to_string(), &typ)?;
                    default = Some(e.to_string());
                }
                other => {
                    return Err(PlanError::unsupported(format!("column option {other}")));
                }
            }
        }
        names.push(column_name);
        types.push((typ, nullable));
        defaults.push(default);
    }
    let mut nullable: Vec<bool> = types.iter().map(|(_, n)| *n).collect();
    let keys = super::table_keys::plan_table_keys(&name, &names, &mut nullable, ct)?;
    let types = types
        .into_iter()
        .zip(nullable)
        .map(|((typ, _), nullable)| ColumnType::new(typ, nullable))
        .collect();
    Ok(Plan::CreateTable {
        name,
        desc: RelationDesc::new(names, types),
        defaults,
        keys,
        if_not_exists: ct.if_not_exists,
        sequences,
    })
}

/// Plans a column DEFAULT expression (SQL text) as a constant of the column's type.
pub fn plan_default(scx: &StatementContext, sql: &str, typ: &ScalarType) -> Result<ScalarExpr> {
    let expr = super::expr::parse_expression(sql)?;
    let mut ecx = ExprContext::new(
        scx,
        RelationExpr::constant(vec![Row::empty()], vec![]),
        Scope::default(),
        "DEFAULT",
    );
    ecx.plan_expr_as(&expr, typ)
}

/// The name a CREATE gives: `name`, `public.name` or `<the session's database>.public.name`.
pub(super) fn table_name(scx: &StatementContext, name: &ast::ObjectName) -> Result<String> {
    let parts = scx.local_name(normalize_name(name)?)?;
    match parts.as_slice() {
        [n] => Ok(n.clone()),
        [schema, n] if schema == crate::catalog::DEFAULT_SCHEMA => Ok(n.clone()),
        _ => Err(PlanError::UnknownSchema(parts[..parts.len() - 1].join("."))),
    }
}

fn plan_create_view(scx: &StatementContext, cv: &ast::CreateView) -> Result<Plan> {
    if cv.or_alter
        || cv.secure
        || !cv.cluster_by.is_empty()
        || cv.comment.is_some()
        || cv.with_no_schema_binding
    {
        return Err(PlanError::unsupported("this CREATE VIEW form"));
    }
    if !matches!(cv.options, ast::CreateTableOptions::None) {
        return Err(PlanError::unsupported("CREATE VIEW options"));
    }
    let name = table_name(scx, &cv.name)?;
    let mut replace = None;
    if let Ok(existing) = scx.catalog.resolve(std::slice::from_ref(&name)) {
        if cv.or_replace {
            let expected = if cv.materialized {
                ItemKind::MaterializedView
            } else {
                ItemKind::View
            };
            if existing.item.kind() != expected {
                return Err(PlanError::WrongObjectType(format!(
                    "\"{name}\" is not a {}",
                    expected.as_str()
                )));
            }
            replace = Some(existing.id);
        } else if !cv.if_not_exists {
            return Err(PlanError::AlreadyExists(name));
        }
    }
    let planned = query::plan_query(scx, &cv.query, &Outer::none(), false)?;
    if scx.reads_system_relation.get() {
        return Err(PlanError::unsupported(
            "a view over pg_catalog or information_schema (it would not follow later DDL)",
        ));
    }
    let mut names = planned.column_names();
    if cv.columns.len() > names.len() {
        return Err(PlanError::Syntax(
            "CREATE VIEW specifies more column names than columns".into(),
        ));
    }
    for (n, c) in names.iter_mut().zip(&cv.columns) {
        *n = normalize_ident(&c.name);
    }
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(PlanError::DuplicateColumn(n.clone()));
        }
    }
    let mut types = planned.column_types();
    for t in &mut types {
        if t.scalar_type == ScalarType::Unknown {
            t.scalar_type = ScalarType::String;
        }
    }
    let expr = scx.wrap_lets(planned.into_relation());
    Ok(Plan::CreateView {
        name,
        desc: RelationDesc::new(names, types),
        expr,
        materialized: cv.materialized,
        if_not_exists: cv.if_not_exists,
        replace,
    })
}

/// The key a `CREATE UNIQUE INDEX` enforces: only on a table, whose writes can be checked,
/// and only over plain columns (an expression key would need its value computed per write).
fn unique_index_key(
    on: &crate::catalog::CatalogEntry,
    keys: &[ScalarExpr],
    name: &str,
) -> Result<crate::catalog::UniqueKey> {
    if !matches!(on.item, CatalogItem::Table { .. }) {
        return Err(PlanError::unsupported(format!(
            "unique indexes on a {} (only tables enforce unique keys)",
            on.item.kind().as_str()
        )));
    }
    let mut columns = Vec::with_capacity(keys.len());
    for key in keys {
        match key {
            ScalarExpr::Column(c) => columns.push(*c),
            _ => return Err(PlanError::unsupported("unique indexes on expressions")),
        }
    }
    Ok(crate::catalog::UniqueKey {
        name: name.to_string(),
        columns,
        primary: false,
    })
}

fn plan_create_index(scx: &StatementContext, ci: &ast::CreateIndex) -> Result<Plan> {
    if ci.concurrently
        || ci.predicate.is_some()
        || !ci.include.is_empty()
        || ci.using.is_some()
        || !ci.with.is_empty()
    {
        return Err(PlanError::unsupported(
            "this CREATE INDEX form (CONCURRENTLY, USING, INCLUDE, WHERE, WITH)",
        ));
    }
    let on_parts = normalize_name(&ci.table_name)?;
    let on = scx.resolve(&on_parts)?;
    let desc = match on.item.desc() {
        Some(d) => d.clone(),
        None => {
            return Err(PlanError::WrongObjectType(format!(
                "\"{}\" is an index",
                on.name
            )));
        }
    };
    let scope = scx.scope_for(Some(&on.name), &desc.names, &desc.types);
    let rel = RelationExpr::global_get(on.id, desc.types.clone());
    let mut keys = Vec::new();
    let mut key_sql = Vec::new();
    for column in &ci.columns {
        // ASC / DESC and NULLS FIRST / LAST are accepted: an index serves lookups by equal
        // key values and never orders a result (ORDER BY alone does), so they change nothing.
        if column.operator_class.is_some() {
            return Err(PlanError::unsupported("index operator classes"));
        }
        let mut ecx = ExprContext::new(scx, rel.clone(), scope.clone(), "index expressions");
        ecx.now_is_constant = false;
        let (e, _) = ecx.plan_expr(&column.column.expr)?;
        if ecx.scope.len() != desc.arity() {
            return Err(PlanError::unsupported("subqueries in index expressions"));
        }
        keys.push(e);
        key_sql.push(column.column.expr.to_string());
    }
    if keys.is_empty() {
        return Err(PlanError::Syntax("syntax error at or near \")\"".into()));
    }
    let name = match &ci.name {
        Some(n) => table_name(scx, n)?,
        None => {
            // PostgreSQL's default: <table>_<first column>_idx, made unique.
            let base = format!(
                "{}_{}_idx",
                on.name,
                key_sql[0].replace(|c: char| !c.is_alphanumeric(), "")
            );
            let mut name = base.clone();
            let mut i = 1;
            while scx.catalog.name_exists(&name) {
                name = format!("{base}{i}");
                i += 1;
            }
            name
        }
    };
    if scx.catalog.name_exists(&name) && !ci.if_not_exists {
        return Err(PlanError::AlreadyExists(name));
    }
    let unique = if ci.unique {
        Some(unique_index_key(on, &keys, &name)?)
    } else {
        None
    };
    Ok(Plan::CreateIndex {
        name,
        on: on.id,
        keys,
        key_sql,
        unique,
        if_not_exists: ci.if_not_exists,
    })
}

/// The table written by INSERT / UPDATE / DELETE (`verb`: "insert into", "update",
/// "delete from", for PostgreSQL's error message about views).
pub(super) fn writable_table<'c>(
    scx: &StatementContext<'c>,
    name: &ast::ObjectName,
    verb: &str,
) -> Result<(&'c crate::catalog::CatalogEntry, RelationDesc)> {
    let entry = scx.resolve_name(name)?;
    match &entry.item {
        CatalogItem::Table { desc, .. } => Ok((entry, desc.clone())),
        CatalogItem::View { .. } => Err(PlanError::WrongObjectType(format!(
            "cannot {verb} view \"{}\"",
            entry.name
        ))),
        other => Err(PlanError::WrongObjectType(format!(
            "cannot change {} \"{}\"",
            other.kind().as_str(),
            entry.name
        ))),
    }
}

fn plan_returning(
    scx: &StatementContext,
    items: &Option<Vec<ast::SelectItem>>,
    table: &str,
    desc: &RelationDesc,
) -> Result<Option<Returning>> {
    let Some(items) = items else { return Ok(None) };
    let scope = scx.scope_for(Some(table), &desc.names, &desc.types);
    let rel = RelationExpr::constant(vec![], desc.types.clone());
    let mut ecx = ExprContext::new(scx, rel, scope, "RETURNING");
    let mut exprs = Vec::new();
    let mut names = Vec::new();
    let mut types = Vec::new();
    for item in items {
        match item {
            ast::SelectItem::Wildcard(_) => {
                for (i, (n, t)) in desc.iter().enumerate() {
                    exprs.push(ScalarExpr::Column(i));
                    names.push(n.clone());
                    types.push(t.clone());
                }
            }
            ast::SelectItem::UnnamedExpr(e) | ast::SelectItem::ExprWithAlias { expr: e, .. } => {
                let (expr, _) = ecx.plan_expr(e)?;
                if ecx.scope.len() != desc.arity() {
                    return Err(PlanError::unsupported("subqueries in RETURNING"));
                }
                types.push(expr.typ(&desc.types));
                exprs.push(expr);
                names.push(match item {
                    ast::SelectItem::ExprWithAlias { alias, .. } => normalize_ident(alias),
                    _ => query::column_name(e),
                });
            }
            other => return Err(PlanError::unsupported(format!("RETURNING {other}"))),
        }
    }
    Ok(Some(Returning {
        exprs,
        desc: RelationDesc::new(names, types),
    }))
}

fn plan_insert(scx: &StatementContext, insert: &ast::Insert) -> Result<Plan> {
    if insert.or.is_some()
        || insert.ignore
        || insert.overwrite
        || insert.on.is_some()
        || !insert.assignments.is_empty()
        || insert.partitioned.is_some()
        || insert.table_alias.is_some()
    {
        return Err(PlanError::unsupported(
            "this INSERT form (ON CONFLICT, OVERWRITE, aliases)",
        ));
    }
    let name = match &insert.table {
        ast::TableObject::TableName(n) => n,
        other => return Err(PlanError::unsupported(format!("INSERT INTO {other}"))),
    };
    let (entry, desc) = writable_table(scx, name, "insert into")?;
    let defaults = match &entry.item {
        CatalogItem::Table { defaults, .. } => defaults.clone(),
        _ => unreachable!("writable_table returns tables"),
    };
    // Target columns: listed, or all in order.
    let targets: Vec<usize> = if insert.columns.is_empty() {
        (0..desc.arity()).collect()
    } else {
        let mut targets = Vec::new();
        for column in &insert.columns {
            let name = normalize_name(column)?.pop().unwrap_or_default();
            let index = desc.names.iter().position(|n| *n == name).ok_or_else(|| {
                PlanError::UnknownColumn(format!("{name}\" of relation \"{}", entry.name))
            })?;
            if targets.contains(&index) {
                return Err(PlanError::DuplicateColumn(name));
            }
            targets.push(index);
        }
        targets
    };
    // Columns drawn from sequences. A VALUES column that is DEFAULT in every row is left out
    // (the column is generated); one with values of the user's takes them, unless the
    // column is GENERATED ALWAYS.
    let sequence_columns = super::sequences::generated_columns(scx, entry.id, &defaults)?;
    let mut values_source = match &insert.source {
        Some(q) => match q.body.as_ref() {
            ast::SetExpr::Values(values)
                if q.order_by.is_none() && q.limit_clause.is_none() && q.with.is_none() =>
            {
                Some(values.clone())
            }
            _ => None,
        },
        None => None,
    };
    let mut targets = targets;
    // Without a column list, a source with fewer columns fills the first ones, as in
    // PostgreSQL (the rest take their defaults).
    let implicit_targets = insert.columns.is_empty();
    if implicit_targets
        && let Some(width) = values_source
            .as_ref()
            .and_then(|v| v.rows.first().map(|row| row.len()))
    {
        targets.truncate(width);
    }
    for g in sequence_columns.iter().filter(|_| insert.source.is_some()) {
        let Some(i) = targets.iter().position(|t| *t == g.column) else {
            continue;
        };
        let defaults_in_rows = values_source.as_ref().map(|v| {
            v.rows
                .iter()
                .filter(|row| row.get(i).is_some_and(super::sequences::is_default_keyword))
                .count()
        });
        match (defaults_in_rows, &values_source) {
            (Some(n), Some(v)) if n == v.rows.len() && n > 0 => {
                targets.remove(i);
                if let Some(v) = values_source.as_mut() {
                    for row in v.rows.iter_mut() {
                        row.remove(i);
                    }
                }
            }
            (Some(n), _) if n > 0 => {
                return Err(PlanError::unsupported(format!(
                    "DEFAULT in some rows but not others for column \"{}\", which a sequence \
                     fills (insert those rows separately)",
                    desc.names[g.column]
                )));
            }
            _ if g.identity == Some(crate::catalog::Identity::Always) => {
                return Err(super::sequences::generated_always_error(
                    &desc.names[g.column],
                ));
            }
            _ => {}
        }
    }
    let mut generated = super::sequences::Generated {
        columns: sequence_columns
            .iter()
            .filter(|g| insert.source.is_none() || !targets.contains(&g.column))
            .map(|g| (g.column, g.sequence))
            .collect(),
        ordered: false,
    };
    let mut hints: Vec<ScalarType> = targets
        .iter()
        .map(|t| desc.types[*t].scalar_type.clone())
        .collect();
    // Several VALUES rows take sequence values in the order they are written: each carries
    // its position, as one more (last) column.
    if let Some(values) = values_source.as_mut()
        && !generated.columns.is_empty()
        && values.rows.len() > 1
    {
        for (position, row) in values.rows.iter_mut().enumerate() {
            row.push(Expr::value(ast::Value::Number(position.to_string(), false)));
        }
        hints.push(ScalarType::Int64);
        generated.ordered = true;
    }
    let (source, source_types) = match &insert.source {
        None => (RelationExpr::constant(vec![Row::empty()], vec![]), vec![]),
        Some(q) => match q.body.as_ref() {
            ast::SetExpr::Values(_) if values_source.is_some() => {
                let values = values_source.as_ref().expect("checked by the guard");
                let values = substitute_defaults(values, &targets, &defaults)?;
                let (rel, _) =
                    query::plan_values(scx, &values, &Outer::none(), Some(&hints), true)?;
                let types: Vec<ScalarType> = rel.typ().into_iter().map(|t| t.scalar_type).collect();
                (rel, types)
            }
            _ => {
                let planned = query::plan_query(scx, q, &Outer::none(), true)?;
                let types: Vec<ScalarType> = planned
                    .column_types()
                    .into_iter()
                    .map(|t| t.scalar_type)
                    .collect();
                (planned.into_relation(), types)
            }
        },
    };
    // The position column (last), if any, is not for a table column.
    let position_column = generated.ordered.then(|| source_types.len() - 1);
    let source_types = match position_column {
        Some(p) => source_types[..p].to_vec(),
        None => source_types,
    };
    if implicit_targets && source_types.len() < targets.len() {
        targets.truncate(source_types.len());
        generated.columns = sequence_columns
            .iter()
            .filter(|g| !targets.contains(&g.column))
            .map(|g| (g.column, g.sequence))
            .collect();
    }
    if source_types.len() > targets.len() {
        return Err(PlanError::Syntax(
            "INSERT has more expressions than target columns".into(),
        ));
    }
    if source_types.len() < targets.len() && insert.source.is_some() {
        return Err(PlanError::Syntax(
            "INSERT has more target columns than expressions".into(),
        ));
    }
    // Each table column: the source column cast to its type, or its default, or NULL.
    let arity = source_types.len();
    let mut row = Vec::with_capacity(desc.arity());
    for (c, typ) in desc.types.iter().enumerate() {
        let e = match targets.iter().position(|t| *t == c) {
            Some(i) if i < arity => func::plan_cast(
                ScalarExpr::Column(i),
                &source_types[i],
                &typ.scalar_type,
                CastContext::Assignment,
            )
            .map_err(|e| match e {
                PlanError::CannotCast { .. } => PlanError::DatatypeMismatch(format!(
                    "column \"{}\" is of type {} but expression is of type {}",
                    desc.names[c],
                    typ.scalar_type.sql_name(),
                    source_types[i].sql_name()
                )),
                other => other,
            })?,
            // Filled by the coordinator, row by row.
            _ if generated.columns.iter().any(|(g, _)| *g == c) => {
                ScalarExpr::null(typ.scalar_type.clone())
            }
            _ => match &defaults[c] {
                Some(sql) => plan_default(scx, sql, &typ.scalar_type)?,
                None => ScalarExpr::null(typ.scalar_type.clone()),
            },
        };
        row.push(e);
    }
    let source_arity = arity + usize::from(position_column.is_some());
    let expr = scx.wrap_lets(
        source.map(row).project(
            (source_arity..source_arity + desc.arity())
                .chain(position_column)
                .collect(),
        ),
    );
    let returning = plan_returning(scx, &insert.returning, &entry.name, &desc)?;
    Ok(Plan::Insert {
        id: entry.id,
        expr,
        returning,
        generated,
    })
}

fn plan_copy(
    scx: &StatementContext,
    source: &ast::CopySource,
    to: bool,
    target: &ast::CopyTarget,
    options: &[ast::CopyOption],
    legacy_options: &[ast::CopyLegacyOption],
    inline_payload: bool,
) -> Result<Plan> {
    if to {
        return plan_copy_to(scx, source, target, options, legacy_options);
    }
    if !matches!(target, ast::CopyTarget::Stdin) || inline_payload {
        return Err(PlanError::unsupported(
            "COPY FROM a file or program (use FROM STDIN)",
        ));
    }
    let ast::CopySource::Table {
        table_name,
        columns,
    } = source
    else {
        return Err(PlanError::unsupported("COPY (query) FROM"));
    };
    let format = CopyOptions::parse(options, legacy_options, false)?.format()?;
    let (entry, desc) = writable_table(scx, table_name, "copy to")?;
    let table_defaults = match &entry.item {
        CatalogItem::Table { defaults, .. } => defaults.clone(),
        _ => unreachable!("writable_table returns tables"),
    };
    let mut targets = copy_columns(columns, &desc.names, &entry.name)?;
    if targets.is_empty() {
        targets = (0..desc.arity()).collect();
    }
    // Columns drawn from sequences that the data leaves out are filled by the coordinator;
    // the data may not give a GENERATED ALWAYS column.
    let mut generated = super::sequences::Generated::default();
    for g in super::sequences::generated_columns(scx, entry.id, &table_defaults)? {
        if !targets.contains(&g.column) {
            generated.columns.push((g.column, g.sequence));
        } else if g.identity == Some(crate::catalog::Identity::Always) {
            return Err(super::sequences::generated_always_error(
                &desc.names[g.column],
            ));
        }
    }
    let defaults = desc
        .types
        .iter()
        .enumerate()
        .map(|(c, typ)| match &table_defaults[c] {
            _ if generated.columns.iter().any(|(g, _)| *g == c) => {
                Ok(ScalarExpr::null(typ.scalar_type.clone()))
            }
            Some(sql) => plan_default(scx, sql, &typ.scalar_type),
            None => Ok(ScalarExpr::null(typ.scalar_type.clone())),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Plan::CopyFrom(CopyFromTarget {
        id: entry.id,
        table: entry.name.clone(),
        desc,
        columns: targets,
        defaults,
        format,
        generated,
    }))
}

/// The positions (in `names`) of a COPY column list, which names each column at most once.
fn copy_columns(columns: &[ast::Ident], names: &[String], relation: &str) -> Result<Vec<usize>> {
    let mut positions = Vec::new();
    for column in columns {
        let name = normalize_ident(column);
        let index = names.iter().position(|n| *n == name).ok_or_else(|| {
            PlanError::UnknownColumn(format!("{name}\" of relation \"{relation}"))
        })?;
        if positions.contains(&index) {
            return Err(PlanError::DuplicateColumn(name));
        }
        positions.push(index);
    }
    Ok(positions)
}

/// `COPY table [(columns)] TO STDOUT` and `COPY (query) TO STDOUT`: planned as the SELECT
/// that reads the same rows (`SELECT columns FROM table`, or the query), and executed as
/// one; the coordinator sends its rows as COPY data in `copy_to_format`.
fn plan_copy_to(
    scx: &StatementContext,
    source: &ast::CopySource,
    target: &ast::CopyTarget,
    options: &[ast::CopyOption],
    legacy_options: &[ast::CopyLegacyOption],
) -> Result<Plan> {
    if !matches!(target, ast::CopyTarget::Stdout) {
        return Err(PlanError::unsupported(
            "COPY TO a file or program (use TO STDOUT)",
        ));
    }
    let options = CopyOptions::parse(options, legacy_options, true)?;
    options.format()?;
    match source {
        ast::CopySource::Query(query) => {
            let plan = plan_select(scx, query)?;
            if let Plan::Select { desc, .. } = &plan {
                options.force_quote(&desc.names, None)?;
            }
            Ok(plan)
        }
        ast::CopySource::Table {
            table_name,
            columns,
        } => {
            // As PostgreSQL: a view's rows are copied with `COPY (SELECT ...) TO`.
            if let Ok(entry) = scx.resolve_name(table_name) {
                let kind = match &entry.item {
                    CatalogItem::View { .. } => Some("view"),
                    CatalogItem::MaterializedView { .. } => Some("materialized view"),
                    _ => None,
                };
                if let Some(kind) = kind {
                    return Err(PlanError::WrongObjectType(format!(
                        "cannot copy from {kind} \"{}\"",
                        entry.name
                    )));
                }
            }
            let (_, names, _, relation) = query::resolve_catalog_relation(scx, table_name)?;
            copy_columns(columns, &names, &relation)?;
            let select_list = if columns.is_empty() {
                "*".to_string()
            } else {
                columns
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let sql = format!("SELECT {select_list} FROM {table_name}");
            let dialect = sqlparser::dialect::PostgreSqlDialect {};
            let query = match sqlparser::parser::Parser::parse_sql(&dialect, &sql)
                .map_err(|e| PlanError::Syntax(e.to_string()))?
                .pop()
            {
                Some(ast::Statement::Query(query)) => query,
                _ => return Err(PlanError::Syntax(format!("cannot read {table_name}"))),
            };
            let plan = plan_select(scx, &query)?;
            if let Plan::Select { desc, .. } = &plan {
                options.force_quote(&desc.names, Some((&relation, &names)))?;
            }
            Ok(plan)
        }
    }
}

/// Whether `stmt` is a `COPY ... TO STDOUT` of a table or a query (planned as a SELECT).
pub fn is_copy_to(stmt: &Statement) -> bool {
    matches!(stmt, Statement::Sql(s) if matches!(s.as_ref(), ast::Statement::Copy { to: true, .. }))
}

/// The format `stmt` writes its rows in, if it is a `COPY ... TO STDOUT` (planned as a
/// SELECT whose result columns are `desc`).
pub fn copy_to_format(
    stmt: &Statement,
    desc: &RelationDesc,
) -> Option<Result<crate::repr::copy_format::CopyFormat>> {
    use crate::repr::copy_format::CopyFormat;
    let Statement::Sql(s) = stmt else {
        return None;
    };
    let ast::Statement::Copy {
        to: true,
        options,
        legacy_options,
        ..
    } = s.as_ref()
    else {
        return None;
    };
    Some(
        CopyOptions::parse(options, legacy_options, true).and_then(|o| {
            let force_quote = o.force_quote(&desc.names, None)?;
            let mut format = o.format()?;
            if let CopyFormat::Csv { force_quote: f, .. } = &mut format {
                *f = force_quote;
            }
            Ok(format)
        }),
    )
}

/// COPY's options as written, in `WITH (...)` or the old keyword style, each at most once.
#[derive(Default)]
struct CopyOptions {
    to: bool,
    format: Option<String>,
    delimiter: Option<char>,
    null: Option<String>,
    header: Option<bool>,
    quote: Option<char>,
    escape: Option<char>,
    force_quote: Option<Vec<String>>,
    /// FORCE_NOT_NULL or FORCE_NULL (COPY FROM in CSV), which are not supported.
    force_null: Option<&'static str>,
}

impl CopyOptions {
    fn parse(
        options: &[ast::CopyOption],
        legacy_options: &[ast::CopyLegacyOption],
        to: bool,
    ) -> Result<CopyOptions> {
        fn set<T>(slot: &mut Option<T>, value: T) -> Result<()> {
            if slot.replace(value).is_some() {
                return Err(PlanError::Syntax("conflicting or redundant options".into()));
            }
            Ok(())
        }
        let names = |columns: &[ast::Ident]| columns.iter().map(normalize_ident).collect();
        let mut o = CopyOptions {
            to,
            ..CopyOptions::default()
        };
        for option in options {
            match option {
                ast::CopyOption::Format(f) => set(&mut o.format, normalize_ident(f))?,
                ast::CopyOption::Delimiter(c) => set(&mut o.delimiter, *c)?,
                ast::CopyOption::Null(n) => set(&mut o.null, n.clone())?,
                ast::CopyOption::Header(h) => set(&mut o.header, *h)?,
                ast::CopyOption::Quote(c) => set(&mut o.quote, *c)?,
                ast::CopyOption::Escape(c) => set(&mut o.escape, *c)?,
                ast::CopyOption::ForceQuote(columns) => set(&mut o.force_quote, names(columns))?,
                ast::CopyOption::ForceNotNull(_) => set(&mut o.force_null, "FORCE_NOT_NULL")?,
                ast::CopyOption::ForceNull(_) => set(&mut o.force_null, "FORCE_NULL")?,
                ast::CopyOption::Encoding(e) => check_copy_encoding(e)?,
                // Freezing matters only to COPY FROM (PostgreSQL ignores it in COPY TO).
                ast::CopyOption::Freeze(_) if to => {}
                other => return Err(PlanError::unsupported(format!("COPY option {other}"))),
            }
        }
        for option in legacy_options {
            match option {
                ast::CopyLegacyOption::Binary => set(&mut o.format, "binary".into())?,
                ast::CopyLegacyOption::Csv(csv_options) => {
                    set(&mut o.format, "csv".into())?;
                    for csv_option in csv_options {
                        match csv_option {
                            ast::CopyLegacyCsvOption::Header => set(&mut o.header, true)?,
                            ast::CopyLegacyCsvOption::Quote(c) => set(&mut o.quote, *c)?,
                            ast::CopyLegacyCsvOption::Escape(c) => set(&mut o.escape, *c)?,
                            ast::CopyLegacyCsvOption::ForceQuote(columns) => {
                                set(&mut o.force_quote, names(columns))?
                            }
                            ast::CopyLegacyCsvOption::ForceNotNull(_) => {
                                set(&mut o.force_null, "FORCE_NOT_NULL")?
                            }
                        }
                    }
                }
                ast::CopyLegacyOption::Header => set(&mut o.header, true)?,
                ast::CopyLegacyOption::Delimiter(c) => set(&mut o.delimiter, *c)?,
                ast::CopyLegacyOption::Null(n) => set(&mut o.null, n.clone())?,
                other => return Err(PlanError::unsupported(format!("COPY option {other}"))),
            }
        }
        Ok(o)
    }

    /// The format the options describe (FORCE_QUOTE not resolved yet), checked as
    /// PostgreSQL's `ProcessCopyOptions` checks them, with its messages and SQLSTATEs.
    fn format(&self) -> Result<crate::repr::copy_format::CopyFormat> {
        use crate::repr::copy_format::CopyFormat;
        let only = |message: &str| Err(PlanError::NotAllowed(message.into()));
        let invalid = |message: String| Err(PlanError::InvalidParameter(message));
        let kind = self.format.as_deref().unwrap_or("text");
        if !["text", "csv", "binary"].contains(&kind) {
            return invalid(format!("COPY format \"{kind}\" not recognized"));
        }
        if kind == "binary" {
            if self.delimiter.is_some() {
                return Err(PlanError::Syntax(
                    "cannot specify DELIMITER in BINARY mode".into(),
                ));
            }
            if self.null.is_some() {
                return Err(PlanError::Syntax(
                    "cannot specify NULL in BINARY mode".into(),
                ));
            }
            if self.header.is_some() {
                return only("cannot specify HEADER in BINARY mode");
            }
        }
        let csv = kind == "csv";
        let delimiter = self.delimiter.unwrap_or(if csv { ',' } else { '\t' });
        let null = self
            .null
            .clone()
            .unwrap_or_else(|| if csv { String::new() } else { "\\N".into() });
        let one_byte = |c: char| u8::try_from(c).ok().filter(u8::is_ascii);
        let Some(delimiter) = one_byte(delimiter) else {
            return only("COPY delimiter must be a single one-byte character");
        };
        if delimiter == b'\n' || delimiter == b'\r' {
            return invalid("COPY delimiter cannot be newline or carriage return".into());
        }
        if null.contains(['\n', '\r']) {
            return invalid(
                "COPY null representation cannot use newline or carriage return".into(),
            );
        }
        if !csv && b"\\.abcdefghijklmnopqrstuvwxyz0123456789".contains(&delimiter) {
            return invalid(format!(
                "COPY delimiter cannot be \"{}\"",
                delimiter as char
            ));
        }
        if !csv && self.quote.is_some() {
            return only("COPY quote available only in CSV mode");
        }
        let Some(quote) = one_byte(self.quote.unwrap_or('"')) else {
            return only("COPY quote must be a single one-byte character");
        };
        if csv && delimiter == quote {
            return invalid("COPY delimiter and quote must be different".into());
        }
        if !csv && self.escape.is_some() {
            return only("COPY escape available only in CSV mode");
        }
        let Some(escape) = one_byte(self.escape.unwrap_or(quote as char)) else {
            return only("COPY escape must be a single one-byte character");
        };
        if self.force_quote.is_some() {
            if !csv {
                return only("COPY force quote available only in CSV mode");
            }
            if !self.to {
                return only("COPY force quote only available using COPY TO");
            }
        }
        if let Some(option) = self.force_null {
            let name = option.to_lowercase().replace('_', " ");
            if !csv {
                return Err(PlanError::NotAllowed(format!(
                    "COPY {name} available only in CSV mode"
                )));
            }
            if self.to {
                return Err(PlanError::NotAllowed(format!(
                    "COPY {name} only available using COPY FROM"
                )));
            }
            return Err(PlanError::unsupported(format!("COPY option {option}")));
        }
        if csv && null.as_bytes().contains(&delimiter) {
            return only("COPY delimiter must not appear in the NULL specification");
        }
        if csv && null.as_bytes().contains(&quote) {
            return only("CSV quote character must not appear in the NULL specification");
        }
        let header = self.header.unwrap_or(false);
        Ok(match kind {
            "binary" => CopyFormat::Binary,
            "csv" => CopyFormat::Csv {
                delimiter,
                quote,
                escape,
                null,
                header,
                force_quote: vec![],
            },
            _ => CopyFormat::Text {
                delimiter,
                null,
                header,
            },
        })
    }

    /// The positions (in `output`, the columns copied) of the FORCE_QUOTE columns. `table`:
    /// the name and all the columns of the table copied, if COPY names one.
    fn force_quote(
        &self,
        output: &[String],
        table: Option<(&str, &[String])>,
    ) -> Result<Vec<usize>> {
        let mut positions = Vec::new();
        for name in self.force_quote.iter().flatten() {
            let found: Vec<usize> = (0..output.len()).filter(|i| output[*i] == *name).collect();
            if found.is_empty() {
                return Err(match table {
                    Some((_, all)) if all.contains(name) => PlanError::InvalidColumnReference(
                        format!("FORCE_QUOTE column \"{name}\" not referenced by COPY"),
                    ),
                    Some((relation, _)) => {
                        PlanError::UnknownColumn(format!("{name}\" of relation \"{relation}"))
                    }
                    None => PlanError::UnknownColumn(name.clone()),
                });
            }
            positions.extend(found);
        }
        Ok(positions)
    }
}

/// COPY's ENCODING: the data is always UTF-8.
fn check_copy_encoding(name: &str) -> Result<()> {
    let normalized = name.to_lowercase().replace(['-', '_'], "");
    if normalized == "utf8" || normalized == "unicode" {
        Ok(())
    } else {
        Err(PlanError::unsupported(format!(
            "COPY ENCODING '{name}' (only UTF8)"
        )))
    }
}

/// `DEFAULT` in a VALUES row means the target column's default expression (or NULL).
fn substitute_defaults(
    values: &ast::Values,
    targets: &[usize],
    defaults: &[Option<String>],
) -> Result<ast::Values> {
    let mut values = values.clone();
    for row in values.rows.iter_mut() {
        for (i, e) in row.iter_mut().enumerate() {
            let is_default = matches!(e, Expr::Identifier(ident) if ident.quote_style.is_none() && ident.value.eq_ignore_ascii_case("default"));
            if !is_default {
                continue;
            }
            let Some(column) = targets.get(i) else {
                continue;
            };
            *e = match &defaults[*column] {
                Some(sql) => {
                    let dialect = sqlparser::dialect::PostgreSqlDialect {};
                    sqlparser::parser::Parser::new(&dialect)
                        .try_with_sql(sql)
                        .and_then(|mut p| p.parse_expr())
                        .map_err(|e| PlanError::Syntax(e.to_string()))?
                }
                None => Expr::Value(ast::Value::Null.into()),
            };
        }
    }
    Ok(values)
}

fn plan_update(scx: &StatementContext, update: &ast::Update) -> Result<Plan> {
    if update.from.is_some()
        || !update.table.joins.is_empty()
        || update.or.is_some()
        || update.limit.is_some()
    {
        return Err(PlanError::unsupported("UPDATE ... FROM / LIMIT"));
    }
    let (name, alias) = match &update.table.relation {
        ast::TableFactor::Table { name, alias, .. } => {
            (name, alias.as_ref().map(|a| normalize_ident(&a.name)))
        }
        other => return Err(PlanError::unsupported(format!("UPDATE {other}"))),
    };
    let (entry, desc) = writable_table(scx, name, "update")?;
    let table = alias.unwrap_or_else(|| entry.name.clone());
    let scope = scx.scope_for(Some(&table), &desc.names, &desc.types);
    let rel = RelationExpr::global_get(entry.id, desc.types.clone());
    let arity = desc.arity();
    let mut ecx = ExprContext::new(scx, rel, scope, "WHERE");
    if let Some(selection) = &update.selection {
        let pred = ecx.plan_predicate(selection)?;
        let width = ecx.scope.len();
        ecx.rel = ecx.rel.filter(vec![pred]).project((0..arity).collect());
        ecx.scope.items.truncate(arity);
        let _ = width;
    }
    ecx.clause = "UPDATE";
    let mut values = Vec::new();
    let mut columns = Vec::new();
    for assignment in &update.assignments {
        let target = match &assignment.target {
            ast::AssignmentTarget::ColumnName(n) => normalize_name(n)?.pop().unwrap_or_default(),
            ast::AssignmentTarget::Tuple(_) => {
                return Err(PlanError::unsupported("UPDATE SET (a, b) = ..."));
            }
        };
        let c = desc
            .names
            .iter()
            .position(|n| *n == target)
            .ok_or_else(|| {
                PlanError::UnknownColumn(format!("{target}\" of relation \"{}", entry.name))
            })?;
        if columns.contains(&c) {
            return Err(PlanError::Syntax(format!(
                "multiple assignments to same column \"{target}\""
            )));
        }
        let typ = desc.types[c].scalar_type.clone();
        let is_default = matches!(&assignment.value, Expr::Identifier(i) if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("default"));
        let e = if is_default {
            match &entry.item {
                CatalogItem::Table { defaults, .. } => match &defaults[c] {
                    Some(sql) => plan_default(scx, sql, &typ)?,
                    None => ScalarExpr::null(typ.clone()),
                },
                _ => unreachable!("writable_table returns tables"),
            }
        } else {
            let (e, from) = ecx.plan_expr_typed_param(&assignment.value, &typ)?;
            func::plan_cast(e, &from, &typ, CastContext::Assignment)?
        };
        values.push(e);
        columns.push(c);
    }
    let width = ecx.scope.len();
    let n = values.len();
    let selection = scx.wrap_lets(
        ecx.rel
            .map(values)
            .project((0..arity).chain(width..width + n).collect()),
    );
    let returning = plan_returning(scx, &update.returning, &entry.name, &desc)?;
    Ok(Plan::ReadThenWrite {
        id: entry.id,
        selection,
        assignments: Some(
            columns
                .into_iter()
                .enumerate()
                .map(|(i, c)| (c, arity + i))
                .collect(),
        ),
        returning,
    })
}

fn plan_delete(scx: &StatementContext, delete: &ast::Delete) -> Result<Plan> {
    if delete.using.is_some()
        || !delete.tables.is_empty()
        || delete.limit.is_some()
        || !delete.order_by.is_empty()
    {
        return Err(PlanError::unsupported(
            "DELETE ... USING / LIMIT / ORDER BY",
        ));
    }
    let from = match &delete.from {
        ast::FromTable::WithFromKeyword(f) | ast::FromTable::WithoutKeyword(f) => f,
    };
    if from.len() != 1 || !from[0].joins.is_empty() {
        return Err(PlanError::unsupported("DELETE from several tables"));
    }
    let (name, alias) = match &from[0].relation {
        ast::TableFactor::Table { name, alias, .. } => {
            (name, alias.as_ref().map(|a| normalize_ident(&a.name)))
        }
        other => return Err(PlanError::unsupported(format!("DELETE FROM {other}"))),
    };
    let (entry, desc) = writable_table(scx, name, "delete from")?;
    let table = alias.unwrap_or_else(|| entry.name.clone());
    let scope = scx.scope_for(Some(&table), &desc.names, &desc.types);
    let arity = desc.arity();
    let mut rel = RelationExpr::global_get(entry.id, desc.types.clone());
    if let Some(selection) = &delete.selection {
        let mut ecx = ExprContext::new(scx, rel, scope, "WHERE");
        let pred = ecx.plan_predicate(selection)?;
        rel = ecx.rel.filter(vec![pred]).project((0..arity).collect());
    }
    let returning = plan_returning(scx, &delete.returning, &entry.name, &desc)?;
    Ok(Plan::ReadThenWrite {
        id: entry.id,
        selection: scx.wrap_lets(rel),
        assignments: None,
        returning,
    })
}

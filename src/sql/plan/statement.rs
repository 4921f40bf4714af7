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
    },
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
    AlterRename {
        id: GlobalId,
        new_name: String,
    },
    /// Appends the rows of `expr` (in table column order) to table `id`.
    Insert {
        id: GlobalId,
        expr: RelationExpr,
        returning: Option<Returning>,
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
    },
    StartTransaction,
    Commit,
    Rollback,
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
            let entry = scx.catalog.resolve(&normalize_name(name)?)?;
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
            let entry = match scx.catalog.resolve(&parts) {
                Ok(e) => e,
                Err(_) if *if_exists => {
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
            check_kind(entry.item.kind(), *kind, &entry.name)?;
            if scx.catalog.name_exists(new_name) {
                return Err(PlanError::AlreadyExists(new_name.clone()));
            }
            Ok(Plan::AlterRename {
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
        match scx.catalog.resolve(&parts) {
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
            Err(_) if if_exists => missing.push(parts.join(".")),
            Err(_) => {
                let display = parts.join(".");
                return Err(match kind {
                    ObjectKind::Table => {
                        PlanError::UnknownRelation(format!("table \"{display}\" does not exist"))
                    }
                    ObjectKind::View => {
                        PlanError::UnknownRelation(format!("view \"{display}\" does not exist"))
                    }
                    ObjectKind::MaterializedView => PlanError::UnknownRelation(format!(
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
                });
            }
        }
    }
    Ok(Plan::Drop {
        kind,
        ids,
        cascade,
        missing,
    })
}

fn check_kind(actual: ItemKind, expected: ObjectKind, name: &str) -> Result<()> {
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
        ast::Statement::Query(q) => plan_select(scx, q),
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
                other => return Err(PlanError::unsupported(format!("DROP {other}"))),
            };
            plan_drop(scx, kind, *if_exists, names, *cascade)
        }
        ast::Statement::Insert(insert) => plan_insert(scx, insert),
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
        ast::Statement::StartTransaction { modes, .. } => {
            for mode in modes {
                if let ast::TransactionMode::IsolationLevel(_) = mode {
                    return Err(PlanError::unsupported("BEGIN with an isolation level"));
                }
            }
            Ok(Plan::StartTransaction)
        }
        ast::Statement::Commit { chain: false, .. } => Ok(Plan::Commit),
        ast::Statement::Rollback {
            chain: false,
            savepoint: None,
        } => Ok(Plan::Rollback),
        ast::Statement::Set(set) => plan_set(set),
        ast::Statement::ShowVariable { variable } => Ok(Plan::ShowVariable(
            variable
                .iter()
                .map(normalize_ident)
                .collect::<Vec<_>>()
                .join(" "),
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

fn plan_set(set: &ast::Set) -> Result<Plan> {
    match set {
        ast::Set::SingleAssignment {
            variable, values, ..
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
            Ok(Plan::SetVariable { name, value })
        }
        ast::Set::SetTimeZone { value, .. } => {
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
            })
        }
        ast::Set::SetNames { charset_name, .. } => Ok(Plan::SetVariable {
            name: "client_encoding".into(),
            value: Some(charset_name.to_string()),
        }),
        other => Err(PlanError::unsupported(format!("{other}"))),
    }
}

pub fn plan_select(scx: &StatementContext, q: &ast::Query) -> Result<Plan> {
    let planned = query::plan_query(scx, q, &Outer::none(), true)?;
    let desc = RelationDesc::new(planned.column_names(), planned.column_types());
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
        || ct.query.is_some()
        || ct.like.is_some()
        || ct.clone.is_some()
        || ct.inherits.is_some()
        || ct.partition_of.is_some()
        || ct.on_commit.is_some()
    {
        return Err(PlanError::unsupported("this CREATE TABLE form"));
    }
    let name = table_name(&ct.name)?;
    if scx.catalog.name_exists(&name) && !ct.if_not_exists {
        return Err(PlanError::AlreadyExists(name));
    }
    let mut names = Vec::new();
    let mut types = Vec::new();
    let mut defaults = Vec::new();
    for column in &ct.columns {
        let column_name = normalize_ident(&column.name);
        if names.contains(&column_name) {
            return Err(PlanError::DuplicateColumn(column_name));
        }
        let typ = scalar_type_from_sql(&column.data_type)?;
        let mut nullable = true;
        let mut default = None;
        for option in &column.options {
            match &option.option {
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

pub(super) fn table_name(name: &ast::ObjectName) -> Result<String> {
    let parts = normalize_name(name)?;
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
    let name = table_name(&cv.name)?;
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
    let on = scx.catalog.resolve(&on_parts)?;
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
        Some(n) => table_name(n)?,
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
fn writable_table<'c>(
    scx: &StatementContext<'c>,
    name: &ast::ObjectName,
    verb: &str,
) -> Result<(&'c crate::catalog::CatalogEntry, RelationDesc)> {
    let entry = scx.catalog.resolve(&normalize_name(name)?)?;
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
    let hints: Vec<ScalarType> = targets
        .iter()
        .map(|t| desc.types[*t].scalar_type.clone())
        .collect();
    let (source, source_types) = match &insert.source {
        None => (RelationExpr::constant(vec![Row::empty()], vec![]), vec![]),
        Some(q) => match q.body.as_ref() {
            ast::SetExpr::Values(values)
                if q.order_by.is_none() && q.limit_clause.is_none() && q.with.is_none() =>
            {
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
            _ => match &defaults[c] {
                Some(sql) => plan_default(scx, sql, &typ.scalar_type)?,
                None => ScalarExpr::null(typ.scalar_type.clone()),
            },
        };
        row.push(e);
    }
    let expr = scx.wrap_lets(
        source
            .map(row)
            .project((arity..arity + desc.arity()).collect()),
    );
    let returning = plan_returning(scx, &insert.returning, &entry.name, &desc)?;
    Ok(Plan::Insert {
        id: entry.id,
        expr,
        returning,
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
    use crate::repr::copy_format::CopyFormat;
    if to {
        return Err(PlanError::unsupported(
            "COPY ... TO (other than COPY (SUBSCRIBE ...) TO STDOUT)",
        ));
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
    let (entry, desc) = writable_table(scx, table_name, "copy to")?;
    let table_defaults = match &entry.item {
        CatalogItem::Table { defaults, .. } => defaults.clone(),
        _ => unreachable!("writable_table returns tables"),
    };
    let mut targets = Vec::new();
    for column in columns {
        let name = normalize_ident(column);
        let index = desc.names.iter().position(|n| *n == name).ok_or_else(|| {
            PlanError::UnknownColumn(format!("{name}\" of relation \"{}", entry.name))
        })?;
        if targets.contains(&index) {
            return Err(PlanError::DuplicateColumn(name));
        }
        targets.push(index);
    }
    if targets.is_empty() {
        targets = (0..desc.arity()).collect();
    }
    let mut format = CopyFormat::text();
    let mut settings: Vec<(String, String)> = Vec::new();
    for option in options {
        match option {
            ast::CopyOption::Format(f) => match normalize_ident(f).as_str() {
                "text" => format = CopyFormat::text(),
                "csv" => format = CopyFormat::csv(),
                other => return Err(PlanError::unsupported(format!("COPY format {other}"))),
            },
            ast::CopyOption::Delimiter(c) => settings.push(("delimiter".into(), c.to_string())),
            ast::CopyOption::Null(n) => settings.push(("null".into(), n.clone())),
            ast::CopyOption::Header(h) => settings.push(("header".into(), h.to_string())),
            ast::CopyOption::Quote(c) => settings.push(("quote".into(), c.to_string())),
            ast::CopyOption::Escape(c) => settings.push(("escape".into(), c.to_string())),
            other => return Err(PlanError::unsupported(format!("COPY option {other}"))),
        }
    }
    for option in legacy_options {
        match option {
            ast::CopyLegacyOption::Csv(_) => format = CopyFormat::csv(),
            ast::CopyLegacyOption::Header => settings.push(("header".into(), "true".into())),
            ast::CopyLegacyOption::Delimiter(c) => {
                settings.push(("delimiter".into(), c.to_string()))
            }
            ast::CopyLegacyOption::Null(n) => settings.push(("null".into(), n.clone())),
            other => return Err(PlanError::unsupported(format!("COPY option {other}"))),
        }
    }
    let one_byte = |name: &str, value: &str| -> Result<u8> {
        match value.as_bytes() {
            [b] => Ok(*b),
            _ => Err(PlanError::InvalidParameter(format!(
                "COPY {name} must be a single one-byte character"
            ))),
        }
    };
    for (name, value) in settings {
        match (&mut format, name.as_str()) {
            (
                CopyFormat::Text { delimiter, .. } | CopyFormat::Csv { delimiter, .. },
                "delimiter",
            ) => *delimiter = one_byte("delimiter", &value)?,
            (CopyFormat::Text { null, .. } | CopyFormat::Csv { null, .. }, "null") => *null = value,
            (CopyFormat::Csv { header, .. }, "header") => *header = value == "true",
            (CopyFormat::Csv { quote, .. }, "quote") => *quote = one_byte("quote", &value)?,
            (CopyFormat::Csv { escape, .. }, "escape") => *escape = one_byte("escape", &value)?,
            (CopyFormat::Text { .. }, "header") if value == "false" => {}
            (CopyFormat::Text { .. }, other) => {
                return Err(PlanError::unsupported(format!(
                    "COPY {other} in text format (available only in CSV mode)"
                )));
            }
            (_, other) => return Err(PlanError::unsupported(format!("COPY option {other}"))),
        }
    }
    let defaults = desc
        .types
        .iter()
        .enumerate()
        .map(|(c, typ)| match &table_defaults[c] {
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
    }))
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

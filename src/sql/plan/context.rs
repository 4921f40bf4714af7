//! The state shared by the planning of one statement: the catalog (read only), parameter
//! types, CTE bindings in scope, and the recorders of correlated references.

use super::scope::{Scope, ScopeItem};
use crate::catalog::Catalog;
use crate::expr::{LocalId, RelationExpr};
use crate::repr::{ColumnType, Datum, ScalarType};
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;

/// A `WITH` binding visible to the query being planned.
#[derive(Clone, Debug)]
pub struct CteBinding {
    pub name: String,
    pub id: LocalId,
    pub names: Vec<String>,
    pub types: Vec<ColumnType>,
}

/// Who is running the statement, for `current_user`, `current_database()` and friends.
#[derive(Clone, Debug, Default)]
pub struct SessionContext {
    pub user: String,
    pub database: String,
    pub conn_id: u32,
    /// The session's variables (what SHOW prints), by lower-case name, for
    /// `current_setting()` and `pg_settings`.
    pub settings: Settings,
}

/// Session variables by lower-case name. Shared, since every statement's context holds them
/// and they rarely change.
pub type Settings = std::sync::Arc<std::collections::BTreeMap<String, String>>;

/// A binding made while planning, wrapped around the statement's expression at the end.
pub enum LetBinding {
    Let(LocalId, RelationExpr),
    /// Recursive bindings (WITH RECURSIVE): see `RelationExpr::LetRec`.
    Rec {
        ids: Vec<LocalId>,
        values: Vec<RelationExpr>,
        limit: Option<crate::expr::RecursionLimit>,
    },
}

impl LetBinding {
    /// `body` inside `bindings`, the first outermost.
    pub fn wrap(bindings: Vec<LetBinding>, mut body: RelationExpr) -> RelationExpr {
        for binding in bindings.into_iter().rev() {
            body = match binding {
                LetBinding::Let(id, value) => RelationExpr::Let {
                    id,
                    value: Box::new(value),
                    body: Box::new(body),
                },
                LetBinding::Rec { ids, values, limit } => RelationExpr::LetRec {
                    ids,
                    values,
                    limit,
                    body: Box::new(body),
                },
            };
        }
        body
    }
}

pub struct StatementContext<'a> {
    pub catalog: &'a Catalog,
    pub session: SessionContext,
    /// `$n` parameter types: declared by the client, or inferred while planning.
    pub param_types: RefCell<Vec<Option<ScalarType>>>,
    /// Bound parameter values when executing; `None` while describing.
    pub param_values: Option<&'a [Datum]>,
    next_id: Cell<u64>,
    pub ctes: RefCell<Vec<CteBinding>>,
    /// Uids of outer scope items referenced while each recorder was active.
    recorders: RefCell<Vec<BTreeSet<u64>>>,
    /// Let bindings created while planning, to wrap around the final expression.
    pub lets: RefCell<Vec<LetBinding>>,
    /// Whether the statement reads a system relation (`pg_catalog`, `information_schema`):
    /// those are constants of the catalog at planning time, which a view may not freeze.
    pub reads_system_relation: Cell<bool>,
    /// Advisory locks held and awaited when the statement is planned (`pg_locks`).
    pub advisory_locks: Vec<crate::catalog::system::AdvisoryLockRow>,
}

impl<'a> StatementContext<'a> {
    /// What system relations and catalog functions read: the catalog and the session.
    pub fn system_context(&self) -> crate::catalog::system::SystemContext<'_> {
        crate::catalog::system::SystemContext {
            catalog: self.catalog,
            user: &self.session.user,
            database: &self.session.database,
            settings: &self.session.settings,
            advisory_locks: &self.advisory_locks,
        }
    }

    pub fn new(
        catalog: &'a Catalog,
        param_types: Vec<Option<ScalarType>>,
        param_values: Option<&'a [Datum]>,
    ) -> StatementContext<'a> {
        StatementContext {
            catalog,
            session: SessionContext::default(),
            param_types: RefCell::new(param_types),
            param_values,
            next_id: Cell::new(1),
            ctes: RefCell::new(Vec::new()),
            recorders: RefCell::new(Vec::new()),
            lets: RefCell::new(Vec::new()),
            reads_system_relation: Cell::new(false),
            advisory_locks: Vec::new(),
        }
    }

    /// A fresh id, unique within this statement: for `Let` bindings and scope items.
    pub fn fresh_id(&self) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        id
    }

    pub fn fresh_local(&self) -> LocalId {
        LocalId(self.fresh_id())
    }

    /// Binds `value` to a fresh local id (materialized once, read by every `Get`) and returns
    /// a `Get` of it.
    pub fn bind(&self, value: RelationExpr) -> RelationExpr {
        if let RelationExpr::Get { .. } = value {
            return value;
        }
        let id = self.fresh_local();
        let typ = value.typ();
        self.lets.borrow_mut().push(LetBinding::Let(id, value));
        RelationExpr::Get {
            id: crate::expr::Id::Local(id),
            typ,
        }
    }

    /// Wraps `body` in the accumulated `Let` bindings (innermost last).
    pub fn wrap_lets(&self, body: RelationExpr) -> RelationExpr {
        let lets = std::mem::take(&mut *self.lets.borrow_mut());
        LetBinding::wrap(lets, body)
    }

    /// A scope of fresh items for columns of one relation.
    pub fn scope_for(&self, table: Option<&str>, names: &[String], types: &[ColumnType]) -> Scope {
        let mut scope = Scope::from_columns(table, names, types);
        for item in &mut scope.items {
            item.uid = self.fresh_id();
        }
        scope
    }

    pub fn item(
        &self,
        table: Option<&str>,
        column: &str,
        typ: ColumnType,
        hidden: bool,
    ) -> ScopeItem {
        ScopeItem {
            table: table.map(str::to_string),
            column: column.to_string(),
            typ,
            level: 0,
            hidden,
            uid: self.fresh_id(),
        }
    }

    pub fn push_recorder(&self) {
        self.recorders.borrow_mut().push(BTreeSet::new());
    }

    pub fn pop_recorder(&self) -> BTreeSet<u64> {
        self.recorders.borrow_mut().pop().unwrap_or_default()
    }

    /// Notes a reference to an outer item in every active recorder.
    pub fn record_outer_reference(&self, uid: u64) {
        for recorder in self.recorders.borrow_mut().iter_mut() {
            recorder.insert(uid);
        }
    }
}

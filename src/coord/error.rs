//! Errors of the coordinator layer, as clients see them: every error knows its SQLSTATE and
//! may carry a detail and a hint (full sentences).

use crate::expr::EvalError;
use crate::sql::PlanError;

pub type Result<T, E = AdapterError> = std::result::Result<T, E>;

#[derive(Clone, Debug, thiserror::Error)]
pub enum AdapterError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Eval(#[from] EvalError),
    #[error("canceling statement due to user request")]
    Canceled,
    /// A storage failure, with the SQLSTATE storage gave it (disk full, I/O error, ...).
    #[error("{message}")]
    Storage { message: String, code: &'static str },
    #[error("cannot drop {kind} {name} because other objects depend on it")]
    DependentObjects {
        kind: String,
        name: String,
        dependents: Vec<String>,
    },
    #[error("current transaction is aborted, commands ignored until end of transaction block")]
    InFailedTransaction,
    #[error("cursor \"{0}\" does not exist")]
    UnknownCursor(String),
    #[error("prepared statement \"{0}\" does not exist")]
    UnknownPreparedStatement(String),
    #[error("{0}")]
    NoActiveTransaction(String),
    #[error("{0}")]
    BadCopyFormat(String),
    /// A COPY row whose field does not parse: the field's error, and where it is.
    #[error("{source}")]
    CopyField { source: EvalError, context: String },
    /// A binary COPY field that is not its type's binary format, and where it is.
    #[error("{message}")]
    CopyBinaryField { message: String, context: String },
    #[error("{0}")]
    ActiveTransaction(String),
    #[error("savepoint \"{0}\" does not exist")]
    UnknownSavepoint(String),
    /// A write in a `BEGIN READ ONLY` block; the statement's name.
    #[error("cannot execute {0} in a read-only transaction")]
    ReadOnlyTransaction(String),
    /// A failure of an outside system (a Kafka broker), with the SQLSTATE that fits it.
    #[error("{message}")]
    External { message: String, code: &'static str },
    /// A write that would give two rows the same value of a PRIMARY KEY or UNIQUE key.
    #[error("duplicate key value violates unique constraint \"{constraint}\"")]
    UniqueViolation { constraint: String, detail: String },
    /// A `CREATE UNIQUE INDEX` over rows that already share a key value.
    #[error("could not create unique index \"{index}\"")]
    UniqueIndexDuplicates { index: String, detail: String },
    /// `nextval` past the last value of a sequence that does not cycle.
    #[error("{0}")]
    SequenceLimit(String),
    /// `currval` / `lastval` before `nextval` in the session.
    #[error("{0}")]
    ObjectNotInPrerequisiteState(String),
    /// `setval` to a value outside the sequence's bounds.
    #[error("{0}")]
    SequenceValueOutOfBounds(String),
    /// A lock wait that would close a cycle of sessions waiting for each other.
    #[error("deadlock detected")]
    Deadlock { detail: String },
    /// `ALTER TABLE ... ADD COLUMN ... NOT NULL` without a DEFAULT, on a table with rows.
    #[error("column \"{column}\" of relation \"{table}\" contains null values")]
    ColumnContainsNulls { column: String, table: String },
    /// An object other sessions use in a way that forbids the statement.
    #[error("{0}")]
    ObjectInUse(String),
    /// A statement planned against columns of a table that an ALTER TABLE changed before
    /// it ran.
    #[error("could not serialize access due to a concurrent ALTER TABLE of \"{0}\"")]
    ConcurrentAlter(String),
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("{0}")]
    Internal(String),
}

impl From<crate::storage::StorageError> for AdapterError {
    fn from(e: crate::storage::StorageError) -> AdapterError {
        AdapterError::Storage {
            code: e.sqlstate(),
            message: e.to_string(),
        }
    }
}

impl AdapterError {
    pub fn sqlstate(&self) -> &'static str {
        match self {
            AdapterError::Plan(e) => e.sqlstate(),
            AdapterError::Eval(e) => e.sqlstate(),
            AdapterError::Canceled => "57014",
            AdapterError::Deadlock { .. } => "40P01",
            AdapterError::SequenceLimit(_) => "2200H",
            AdapterError::ObjectNotInPrerequisiteState(_) => "55000",
            AdapterError::SequenceValueOutOfBounds(_) => "22003",
            AdapterError::Storage { code, .. } => code,
            AdapterError::DependentObjects { .. } => "2BP01",
            AdapterError::InFailedTransaction => "25P02",
            AdapterError::UnknownCursor(_) => "34000",
            AdapterError::UnknownPreparedStatement(_) => "26000",
            AdapterError::NoActiveTransaction(_) => "25P01",
            AdapterError::BadCopyFormat(_) => "22P04",
            AdapterError::CopyField { source, .. } => source.sqlstate(),
            AdapterError::CopyBinaryField { .. } => "22P03",
            AdapterError::ActiveTransaction(_) => "25001",
            AdapterError::UnknownSavepoint(_) => "3B001",
            AdapterError::ReadOnlyTransaction(_) => "25006",
            AdapterError::External { code, .. } => code,
            AdapterError::UniqueViolation { .. } | AdapterError::UniqueIndexDuplicates { .. } => {
                "23505"
            }
            AdapterError::ColumnContainsNulls { .. } => "23502",
            AdapterError::ConcurrentAlter(_) => "40001",
            AdapterError::ObjectInUse(_) => "55006",
            AdapterError::ShuttingDown => "57P01",
            AdapterError::Internal(_) => "XX000",
        }
    }

    /// Extra explanation sent in the error's detail field.
    pub fn detail(&self) -> Option<String> {
        match self {
            AdapterError::CopyField { context, .. }
            | AdapterError::CopyBinaryField { context, .. } => Some(context.clone()),
            AdapterError::Deadlock { detail } => Some(detail.clone()),
            AdapterError::UniqueViolation { detail, .. }
            | AdapterError::UniqueIndexDuplicates { detail, .. } => Some(detail.clone()),
            AdapterError::DependentObjects { dependents, .. } => Some(
                dependents
                    .iter()
                    .map(|d| format!("{d} depends on it"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            _ => None,
        }
    }

    /// A suggestion sent in the error's hint field.
    pub fn hint(&self) -> Option<String> {
        match self {
            AdapterError::DependentObjects { .. } => {
                Some("Use DROP ... CASCADE to drop the dependent objects too.".into())
            }
            _ => None,
        }
    }

    /// The constraint the error is about, sent in the error's constraint-name field (drivers
    /// expose it: psycopg's `diag.constraint_name`).
    pub fn constraint(&self) -> Option<String> {
        match self {
            AdapterError::UniqueViolation { constraint, .. } => Some(constraint.clone()),
            _ => None,
        }
    }
}

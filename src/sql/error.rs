//! Errors of the SQL layer (parsing, name resolution, type checking, planning). Messages
//! follow PostgreSQL's style: lowercase, no trailing period.

use crate::expr::EvalError;

pub type Result<T, E = PlanError> = std::result::Result<T, E>;

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    Syntax(String),
    #[error("relation \"{0}\" does not exist")]
    UnknownRelation(String),
    #[error("missing FROM-clause entry for table \"{0}\"")]
    MissingFromEntry(String),
    #[error("column \"{0}\" does not exist")]
    UnknownColumn(String),
    #[error("column reference \"{0}\" is ambiguous")]
    AmbiguousColumn(String),
    #[error("type \"{0}\" does not exist")]
    UnknownType(String),
    #[error("function {0} does not exist")]
    UnknownFunction(String),
    #[error("operator does not exist: {0}")]
    UnknownOperator(String),
    #[error("{0}")]
    DatatypeMismatch(String),
    #[error("cannot cast type {from} to {to}")]
    CannotCast { from: String, to: String },
    #[error("{0} is not supported")]
    Unsupported(String),
    /// `mz_now()` where it cannot be a temporal filter; the message says what is accepted.
    #[error("{0}")]
    UnsupportedTemporal(String),
    /// A construct PostgreSQL also refuses where it appears (a set-returning function in
    /// WHERE), with PostgreSQL's message and SQLSTATE 0A000.
    #[error("{0}")]
    NotAllowed(String),
    #[error("relation \"{0}\" already exists")]
    AlreadyExists(String),
    #[error("{0}")]
    Grouping(String),
    #[error("{0}")]
    InvalidColumnReference(String),
    #[error("{0}")]
    WindowingError(String),
    #[error("{0}")]
    InvalidTableDefinition(String),
    #[error("{0}")]
    WrongObjectType(String),
    #[error("{0}")]
    UnknownObject(String),
    /// A relation named by a statement of its kind (`DROP TABLE`), with the whole message
    /// (`table "t" does not exist`): 42P01 like `UnknownRelation`.
    #[error("{0}")]
    UnknownRelationOfKind(String),
    #[error("schema \"{0}\" does not exist")]
    UnknownSchema(String),
    #[error("schema \"{0}\" already exists")]
    DuplicateSchema(String),
    #[error("column \"{0}\" named in key does not exist")]
    UnknownKeyColumn(String),
    #[error("column \"{0}\" specified more than once")]
    DuplicateColumn(String),
    /// `ALTER TABLE ... DROP COLUMN` of a name the table does not have.
    #[error("column \"{column}\" of relation \"{table}\" does not exist")]
    UnknownTableColumn { column: String, table: String },
    /// `ALTER TABLE ... ADD COLUMN` of a name the table has.
    #[error("column \"{column}\" of relation \"{table}\" already exists")]
    ColumnExists { column: String, table: String },
    #[error("{0}")]
    InvalidParameter(String),
    /// A window frame offset that is NULL or negative (22013).
    #[error("{0}")]
    InvalidFrameSize(String),
    /// A WITH RECURSIVE query of a shape PostgreSQL refuses (42P19).
    #[error("{0}")]
    InvalidRecursion(String),
    /// A value of the user's for a `GENERATED ALWAYS` identity column; its name.
    #[error("cannot insert a non-DEFAULT value into column \"{0}\"")]
    GeneratedAlways(String),
    #[error("{0}")]
    Eval(#[from] EvalError),
}

impl PlanError {
    /// The SQLSTATE a client receives for this error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            PlanError::Syntax(_) => "42601",
            PlanError::UnknownRelation(_) => "42P01",
            PlanError::MissingFromEntry(_) => "42P01",
            PlanError::UnknownColumn(_) | PlanError::UnknownTableColumn { .. } => "42703",
            PlanError::AmbiguousColumn(_) => "42702",
            PlanError::UnknownType(_) => "42704",
            PlanError::UnknownFunction(_) => "42883",
            PlanError::UnknownOperator(_) => "42883",
            PlanError::DatatypeMismatch(_) => "42804",
            PlanError::CannotCast { .. } => "42846",
            PlanError::Unsupported(_)
            | PlanError::UnsupportedTemporal(_)
            | PlanError::NotAllowed(_) => "0A000",
            PlanError::AlreadyExists(_) => "42P07",
            PlanError::Grouping(_) => "42803",
            PlanError::InvalidColumnReference(_) => "42P10",
            PlanError::WindowingError(_) => "42P20",
            PlanError::InvalidTableDefinition(_) => "42P16",
            PlanError::WrongObjectType(_) => "42809",
            PlanError::UnknownObject(_) => "42704",
            PlanError::UnknownRelationOfKind(_) => "42P01",
            PlanError::UnknownSchema(_) => "3F000",
            PlanError::DuplicateSchema(_) => "42P06",
            PlanError::UnknownKeyColumn(_) => "42703",
            PlanError::DuplicateColumn(_) | PlanError::ColumnExists { .. } => "42701",
            PlanError::InvalidParameter(_) => "22023",
            PlanError::InvalidFrameSize(_) => "22013",
            PlanError::InvalidRecursion(_) => "42P19",
            PlanError::GeneratedAlways(_) => "428C9",
            PlanError::Eval(e) => e.sqlstate(),
        }
    }

    pub fn unsupported(what: impl Into<String>) -> PlanError {
        PlanError::Unsupported(what.into())
    }
}

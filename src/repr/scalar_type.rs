//! SQL types of columns and relations.

use serde::{Deserialize, Serialize};

/// The SQL type of a value. Type modifiers (`numeric(p,s)`, `varchar(n)`, `char(n)`) are
/// part of the type: casts to the type enforce them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ScalarType {
    Bool,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    /// `numeric`, optionally `numeric(precision, scale)`.
    Numeric {
        typmod: Option<(u32, u32)>,
    },
    /// `text`.
    String,
    /// `varchar(n)`; `None` is `varchar` without a limit.
    VarChar {
        max_length: Option<u32>,
    },
    /// `char(n)`, blank-padded to `n`.
    Char {
        length: u32,
    },
    Bytes,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Interval,
    Jsonb,
    Uuid,
    Array(Box<ScalarType>),
    /// The type of an untyped NULL or string literal before coercion picks one.
    Unknown,
    /// `oid`: an object identifier, unsigned 32 bits, held as a `Datum::Int64` in
    /// `0 ..= u32::MAX` (so that comparisons order it as unsigned). (Last, so that the
    /// encoding of stored types keeps its variant numbers.)
    Oid,
    /// `regclass`, `regtype` and the other object-identifier aliases: an oid (held as
    /// `Oid` is) whose text form is the object's name. The planner turns names into oids and
    /// back (`sql::plan::reg_types`), since that needs the catalog; evaluation only ever
    /// sees the number.
    Reg(RegKind),
    /// `int2vector` and `oidvector`: the arrays `pg_index.indkey` and friends hold, printed
    /// space-separated and subscripted from 0. Everywhere else they are the arrays of their
    /// element (`vector_element`), which they cast to and from implicitly.
    Int2Vector,
    OidVector,
    /// `void`: what a function that returns nothing returns (`pg_advisory_lock`). Its one
    /// value prints as the empty string and is held as `Datum::String("")`.
    Void,
}

/// Which kind of object a `Reg` value names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RegKind {
    /// `regclass`: a relation.
    Class,
    /// `regtype`: a type.
    Type,
    /// `regproc`: a function.
    Proc,
    /// `regnamespace`: a schema.
    Namespace,
    /// `regrole`: a role.
    Role,
}

impl RegKind {
    pub fn sql_name(self) -> &'static str {
        match self {
            RegKind::Class => "regclass",
            RegKind::Type => "regtype",
            RegKind::Proc => "regproc",
            RegKind::Namespace => "regnamespace",
            RegKind::Role => "regrole",
        }
    }

    /// The type's oid and its array type's.
    fn oids(self) -> (u32, u32) {
        match self {
            RegKind::Class => (2205, 2210),
            RegKind::Type => (2206, 2211),
            RegKind::Proc => (24, 1008),
            RegKind::Namespace => (4089, 4090),
            RegKind::Role => (4096, 4097),
        }
    }

    pub const ALL: [RegKind; 5] = [
        RegKind::Class,
        RegKind::Type,
        RegKind::Proc,
        RegKind::Namespace,
        RegKind::Role,
    ];
}

impl ScalarType {
    /// The PostgreSQL name of the type as `format_type` prints it.
    pub fn sql_name(&self) -> String {
        match self {
            ScalarType::Bool => "boolean".into(),
            ScalarType::Int16 => "smallint".into(),
            ScalarType::Int32 => "integer".into(),
            ScalarType::Int64 => "bigint".into(),
            ScalarType::Float32 => "real".into(),
            ScalarType::Float64 => "double precision".into(),
            ScalarType::Numeric { typmod: None } => "numeric".into(),
            ScalarType::Numeric {
                typmod: Some((p, s)),
            } => format!("numeric({p},{s})"),
            ScalarType::String => "text".into(),
            ScalarType::VarChar { max_length: None } => "character varying".into(),
            ScalarType::VarChar {
                max_length: Some(n),
            } => format!("character varying({n})"),
            ScalarType::Char { length } => format!("character({length})"),
            ScalarType::Bytes => "bytea".into(),
            ScalarType::Date => "date".into(),
            ScalarType::Time => "time without time zone".into(),
            ScalarType::Timestamp => "timestamp without time zone".into(),
            ScalarType::TimestampTz => "timestamp with time zone".into(),
            ScalarType::Interval => "interval".into(),
            ScalarType::Jsonb => "jsonb".into(),
            ScalarType::Uuid => "uuid".into(),
            ScalarType::Array(elem) => format!("{}[]", elem.sql_name()),
            ScalarType::Unknown => "unknown".into(),
            ScalarType::Oid => "oid".into(),
            ScalarType::Reg(kind) => kind.sql_name().into(),
            ScalarType::Int2Vector => "int2vector".into(),
            ScalarType::OidVector => "oidvector".into(),
            ScalarType::Void => "void".into(),
        }
    }

    /// The PostgreSQL type OID (`pg_type.oid`).
    pub fn oid(&self) -> u32 {
        match self {
            ScalarType::Bool => 16,
            ScalarType::Int16 => 21,
            ScalarType::Int32 => 23,
            ScalarType::Int64 => 20,
            ScalarType::Float32 => 700,
            ScalarType::Float64 => 701,
            ScalarType::Numeric { .. } => 1700,
            ScalarType::String => 25,
            ScalarType::VarChar { .. } => 1043,
            ScalarType::Char { .. } => 1042,
            ScalarType::Bytes => 17,
            ScalarType::Date => 1082,
            ScalarType::Time => 1083,
            ScalarType::Timestamp => 1114,
            ScalarType::TimestampTz => 1184,
            ScalarType::Interval => 1186,
            ScalarType::Jsonb => 3802,
            ScalarType::Uuid => 2950,
            ScalarType::Array(elem) => match elem.as_ref() {
                ScalarType::Bool => 1000,
                ScalarType::Int16 => 1005,
                ScalarType::Int32 => 1007,
                ScalarType::Int64 => 1016,
                ScalarType::Float32 => 1021,
                ScalarType::Float64 => 1022,
                ScalarType::Numeric { .. } => 1231,
                ScalarType::String => 1009,
                ScalarType::VarChar { .. } => 1015,
                ScalarType::Char { .. } => 1014,
                ScalarType::Bytes => 1001,
                ScalarType::Date => 1182,
                ScalarType::Time => 1183,
                ScalarType::Timestamp => 1115,
                ScalarType::TimestampTz => 1185,
                ScalarType::Interval => 1187,
                ScalarType::Jsonb => 3807,
                ScalarType::Uuid => 2951,
                ScalarType::Oid => 1028,
                ScalarType::Reg(kind) => kind.oids().1,
                ScalarType::Int2Vector => 1006,
                ScalarType::OidVector => 1013,
                _ => 1009,
            },
            ScalarType::Unknown => 705,
            ScalarType::Oid => 26,
            ScalarType::Reg(kind) => kind.oids().0,
            ScalarType::Int2Vector => 22,
            ScalarType::OidVector => 30,
            ScalarType::Void => 2278,
        }
    }

    /// The type with its modifiers removed: the type that values of a function result have.
    pub fn without_modifiers(&self) -> ScalarType {
        match self {
            ScalarType::Numeric { .. } => ScalarType::Numeric { typmod: None },
            ScalarType::VarChar { .. } => ScalarType::VarChar { max_length: None },
            ScalarType::Array(elem) => ScalarType::Array(Box::new(elem.without_modifiers())),
            other => other.clone(),
        }
    }

    /// `smallint`, `integer` and `bigint`.
    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            ScalarType::Int16 | ScalarType::Int32 | ScalarType::Int64
        )
    }

    /// The element type of a vector type (`int2vector`: `smallint`), else `None`.
    pub fn vector_element(&self) -> Option<ScalarType> {
        match self {
            ScalarType::Int2Vector => Some(ScalarType::Int16),
            ScalarType::OidVector => Some(ScalarType::Oid),
            _ => None,
        }
    }

    /// The elements' type of an array or vector type.
    pub fn array_element(&self) -> Option<ScalarType> {
        match self {
            ScalarType::Array(elem) => Some(elem.as_ref().clone()),
            other => other.vector_element(),
        }
    }

    /// A vector type as the array type it behaves as; any other type as itself.
    pub fn as_array(&self) -> ScalarType {
        match self.vector_element() {
            Some(elem) => ScalarType::Array(Box::new(elem)),
            None => self.clone(),
        }
    }

    /// `oid` and its aliases (`regclass`, ...): an unsigned 32-bit number in an Int64.
    pub fn is_oid_like(&self) -> bool {
        matches!(self, ScalarType::Oid | ScalarType::Reg(_))
    }

    pub fn is_string_like(&self) -> bool {
        matches!(
            self,
            ScalarType::String | ScalarType::VarChar { .. } | ScalarType::Char { .. }
        )
    }
}

/// The type of a column: its scalar type and whether it may hold NULL.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ColumnType {
    pub scalar_type: ScalarType,
    pub nullable: bool,
}

impl ColumnType {
    pub fn new(scalar_type: ScalarType, nullable: bool) -> ColumnType {
        ColumnType {
            scalar_type,
            nullable,
        }
    }
}

/// Column names and types of a relation, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationDesc {
    pub names: Vec<String>,
    pub types: Vec<ColumnType>,
}

impl RelationDesc {
    pub fn new(names: Vec<String>, types: Vec<ColumnType>) -> RelationDesc {
        assert_eq!(names.len(), types.len(), "one name per column");
        RelationDesc { names, types }
    }

    pub fn arity(&self) -> usize {
        self.types.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &ColumnType)> {
        self.names.iter().zip(self.types.iter())
    }
}

//! `Datum`: one SQL value.
//!
//! The derived `Ord` is a total order over all variants; floats are wrapped so that NaN
//! equals NaN and sorts above every number, and -0.0 equals 0.0, as in PostgreSQL.

use super::{Interval, Jsonb, ScalarType};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

/// One SQL value. The variant determines the physical representation only: the SQL type
/// of a column (for example `varchar(10)` vs `text`) lives in `ScalarType`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Datum {
    Null,
    Bool(bool),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Float32(OrdF32),
    Float64(OrdF64),
    Numeric(Decimal),
    /// `text`, `varchar(n)` and `char(n)` (stored blank-padded to n).
    String(String),
    Bytes(Vec<u8>),
    Date(NaiveDate),
    Time(NaiveTime),
    Timestamp(NaiveDateTime),
    TimestampTz(DateTime<Utc>),
    Interval(Interval),
    Jsonb(Jsonb),
    Uuid(uuid::Uuid),
    /// A one-dimensional array; the element type is in the column's `ScalarType`.
    Array(Vec<Datum>),
}

impl Datum {
    pub fn is_null(&self) -> bool {
        matches!(self, Datum::Null)
    }

    pub fn f32(v: f32) -> Datum {
        Datum::Float32(OrdF32::new(v))
    }

    pub fn f64(v: f64) -> Datum {
        Datum::Float64(OrdF64::new(v))
    }

    pub fn string(s: impl Into<String>) -> Datum {
        Datum::String(s.into())
    }

    /// Whether this value is represented as values of `typ` are: the variant that `typ`'s
    /// values use (`Int64` for `oid`, `String` for every string type and for `unknown`),
    /// elements included. NULL is a value of every type.
    pub fn is_instance_of(&self, typ: &ScalarType) -> bool {
        match (self, typ) {
            (Datum::Null, _) => true,
            (Datum::Bool(_), ScalarType::Bool)
            | (Datum::Int16(_), ScalarType::Int16)
            | (Datum::Int32(_), ScalarType::Int32)
            | (Datum::Int64(_), ScalarType::Int64 | ScalarType::Oid | ScalarType::Reg(_))
            | (Datum::Float32(_), ScalarType::Float32)
            | (Datum::Float64(_), ScalarType::Float64)
            | (Datum::Numeric(_), ScalarType::Numeric { .. })
            | (
                Datum::String(_),
                ScalarType::String
                | ScalarType::VarChar { .. }
                | ScalarType::Char { .. }
                | ScalarType::Unknown,
            )
            | (Datum::Bytes(_), ScalarType::Bytes)
            | (Datum::Date(_), ScalarType::Date)
            | (Datum::Time(_), ScalarType::Time)
            | (Datum::Timestamp(_), ScalarType::Timestamp)
            | (Datum::TimestampTz(_), ScalarType::TimestampTz)
            | (Datum::Interval(_), ScalarType::Interval)
            | (Datum::Jsonb(_), ScalarType::Jsonb)
            | (Datum::Uuid(_), ScalarType::Uuid) => true,
            (Datum::Array(items), ScalarType::Array(elem)) => {
                items.iter().all(|d| d.is_instance_of(elem))
            }
            (Datum::Array(items), ScalarType::Int2Vector | ScalarType::OidVector) => {
                let elem = typ.vector_element().unwrap_or(ScalarType::Int16);
                items.iter().all(|d| d.is_instance_of(&elem))
            }
            _ => false,
        }
    }

    /// The type this value is a value of, when its variant says: `None` for NULL, for an
    /// array with no non-NULL element, and for a string (text, varchar and char share it).
    /// An `Int64` is a `bigint` (an `oid` is held the same way).
    pub fn natural_type(&self) -> Option<ScalarType> {
        Some(match self {
            Datum::Null | Datum::String(_) => return None,
            Datum::Bool(_) => ScalarType::Bool,
            Datum::Int16(_) => ScalarType::Int16,
            Datum::Int32(_) => ScalarType::Int32,
            Datum::Int64(_) => ScalarType::Int64,
            Datum::Float32(_) => ScalarType::Float32,
            Datum::Float64(_) => ScalarType::Float64,
            Datum::Numeric(_) => ScalarType::Numeric { typmod: None },
            Datum::Bytes(_) => ScalarType::Bytes,
            Datum::Date(_) => ScalarType::Date,
            Datum::Time(_) => ScalarType::Time,
            Datum::Timestamp(_) => ScalarType::Timestamp,
            Datum::TimestampTz(_) => ScalarType::TimestampTz,
            Datum::Interval(_) => ScalarType::Interval,
            Datum::Jsonb(_) => ScalarType::Jsonb,
            Datum::Uuid(_) => ScalarType::Uuid,
            Datum::Array(items) => {
                let elem = items.iter().find(|d| !d.is_null())?.natural_type()?;
                ScalarType::Array(Box::new(elem))
            }
        })
    }
}

macro_rules! ordered_float {
    ($name:ident, $float:ty) => {
        /// A float with PostgreSQL's total order: NaN = NaN, NaN > everything, -0 = 0.
        #[derive(Clone, Copy, Debug, Serialize, Deserialize)]
        pub struct $name(pub $float);

        impl $name {
            pub fn new(v: $float) -> Self {
                if v.is_nan() {
                    $name(<$float>::NAN)
                } else if v == 0.0 {
                    $name(0.0)
                } else {
                    $name(v)
                }
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.cmp(other) == Ordering::Equal
            }
        }
        impl Eq for $name {}
        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for $name {
            fn cmp(&self, other: &Self) -> Ordering {
                match (self.0.is_nan(), other.0.is_nan()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    (false, false) => {
                        let (a, b) = (
                            if self.0 == 0.0 { 0.0 } else { self.0 },
                            if other.0 == 0.0 { 0.0 } else { other.0 },
                        );
                        a.partial_cmp(&b).unwrap_or(Ordering::Equal)
                    }
                }
            }
        }
        impl Hash for $name {
            fn hash<H: Hasher>(&self, state: &mut H) {
                let v = if self.0.is_nan() {
                    <$float>::NAN
                } else if self.0 == 0.0 {
                    0.0
                } else {
                    self.0
                };
                v.to_bits().hash(state)
            }
        }
    };
}

ordered_float!(OrdF32, f32);
ordered_float!(OrdF64, f64);

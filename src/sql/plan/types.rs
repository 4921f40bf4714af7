//! SQL data type names to `ScalarType`s.

use crate::repr::{RegKind, ScalarType};
use crate::sql::{PlanError, Result};
use sqlparser::ast::{ArrayElemTypeDef, CharacterLength, DataType, ExactNumberInfo, TimezoneInfo};

/// The scalar type a data type name denotes, with its modifiers.
pub fn scalar_type_from_sql(data_type: &DataType) -> Result<ScalarType> {
    let unsupported = || PlanError::unsupported(format!("type {data_type}"));
    Ok(match data_type {
        DataType::Bool | DataType::Boolean => ScalarType::Bool,
        DataType::SmallInt(None) | DataType::Int2(None) => ScalarType::Int16,
        DataType::Int(None) | DataType::Integer(None) | DataType::Int4(None) => ScalarType::Int32,
        DataType::BigInt(None) | DataType::Int8(None) => ScalarType::Int64,
        DataType::Real | DataType::Float4 => ScalarType::Float32,
        DataType::DoublePrecision | DataType::Float8 | DataType::Double(ExactNumberInfo::None) => {
            ScalarType::Float64
        }
        DataType::Float(ExactNumberInfo::None) => ScalarType::Float64,
        DataType::Float(ExactNumberInfo::Precision(p)) => match p {
            1..=24 => ScalarType::Float32,
            25..=53 => ScalarType::Float64,
            _ => {
                return Err(PlanError::InvalidParameter(format!(
                    "precision for type float must be between 1 and 53 bits, got {p}"
                )));
            }
        },
        DataType::Numeric(info) | DataType::Decimal(info) | DataType::Dec(info) => {
            let typmod = match info {
                ExactNumberInfo::None => None,
                ExactNumberInfo::Precision(p) => Some((*p, 0)),
                ExactNumberInfo::PrecisionAndScale(p, s) => {
                    if *s < 0 {
                        return Err(unsupported());
                    }
                    Some((*p, *s as u64))
                }
            };
            match typmod {
                None => ScalarType::Numeric { typmod: None },
                Some((p, s)) => {
                    if p == 0 || p > 1000 {
                        return Err(PlanError::InvalidParameter(format!(
                            "NUMERIC precision {p} must be between 1 and 1000"
                        )));
                    }
                    if s > p {
                        return Err(PlanError::InvalidParameter(format!(
                            "NUMERIC scale {s} must be between 0 and precision {p}"
                        )));
                    }
                    if p > 28 {
                        return Err(PlanError::unsupported(format!(
                            "NUMERIC precision {p} (at most 28 digits)"
                        )));
                    }
                    ScalarType::Numeric {
                        typmod: Some((p as u32, s as u32)),
                    }
                }
            }
        }
        DataType::Text | DataType::String(None) => ScalarType::String,
        DataType::Varchar(len) | DataType::CharacterVarying(len) | DataType::CharVarying(len) => {
            ScalarType::VarChar {
                max_length: char_length(len)?,
            }
        }
        DataType::Char(len) | DataType::Character(len) => ScalarType::Char {
            length: char_length(len)?.unwrap_or(1),
        },
        DataType::Bytea => ScalarType::Bytes,
        DataType::Date => ScalarType::Date,
        DataType::Time(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => ScalarType::Time,
        DataType::Timestamp(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => {
            ScalarType::Timestamp
        }
        DataType::Timestamp(_, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz) => {
            ScalarType::TimestampTz
        }
        DataType::Interval { .. } => ScalarType::Interval,
        DataType::JSONB => ScalarType::Jsonb,
        DataType::Uuid => ScalarType::Uuid,
        DataType::Regclass => ScalarType::Reg(RegKind::Class),
        DataType::Array(ArrayElemTypeDef::SquareBracket(elem, _)) => {
            ScalarType::Array(Box::new(scalar_type_from_sql(elem)?))
        }
        DataType::Custom(name, modifiers) if modifiers.is_empty() => {
            let name = name.to_string().to_lowercase();
            match name.trim_start_matches("pg_catalog.") {
                "int2" => ScalarType::Int16,
                "int4" => ScalarType::Int32,
                "int8" => ScalarType::Int64,
                "float4" => ScalarType::Float32,
                "float8" => ScalarType::Float64,
                "bool" => ScalarType::Bool,
                "timestamptz" => ScalarType::TimestampTz,
                "oid" => ScalarType::Oid,
                "regclass" => ScalarType::Reg(RegKind::Class),
                "regtype" => ScalarType::Reg(RegKind::Type),
                "regproc" | "regprocedure" => ScalarType::Reg(RegKind::Proc),
                "regnamespace" => ScalarType::Reg(RegKind::Namespace),
                "regrole" => ScalarType::Reg(RegKind::Role),
                "bpchar" => ScalarType::Char { length: 1 },
                // PostgreSQL's `name` (identifiers) and `"char"` (one byte) read as text.
                "name" | "\"char\"" => ScalarType::String,
                "serial" | "bigserial" | "smallserial" => {
                    return Err(PlanError::unsupported(format!("type {name}")));
                }
                // A standard type named with its schema (`pg_catalog.text`).
                unqualified if name.starts_with("pg_catalog.") => {
                    let dialect = sqlparser::dialect::PostgreSqlDialect {};
                    let parsed = sqlparser::parser::Parser::new(&dialect)
                        .try_with_sql(unqualified)
                        .and_then(|mut p| p.parse_data_type())
                        .map_err(|_| PlanError::UnknownType(name.clone()))?;
                    if matches!(parsed, DataType::Custom(..)) && parsed.to_string() == unqualified {
                        return Err(PlanError::UnknownType(name));
                    }
                    scalar_type_from_sql(&parsed)?
                }
                _ => {
                    return Err(PlanError::UnknownType(name));
                }
            }
        }
        _ => return Err(unsupported()),
    })
}

fn char_length(len: &Option<CharacterLength>) -> Result<Option<u32>> {
    match len {
        None => Ok(None),
        Some(CharacterLength::IntegerLength { length, .. }) => {
            if *length == 0 || *length > 10_485_760 {
                return Err(PlanError::InvalidParameter(format!(
                    "length for type varchar must be between 1 and 10485760, got {length}"
                )));
            }
            Ok(Some(*length as u32))
        }
        Some(CharacterLength::Max) => Err(PlanError::unsupported("character length MAX")),
    }
}

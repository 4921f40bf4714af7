//! `information_schema` relations (the SQL standard's catalog views) over Freshet's
//! catalog, with PostgreSQL 15's columns. As in PostgreSQL, materialized views are not in
//! `tables` or `views` (the standard has no such thing); their columns are not in `columns`.
//! Source relations are listed as `FOREIGN` tables.

use super::key_indexes::{KeyIndex, key_indexes};
use super::pg_catalog::{columns, relations, view_definition};
use super::{SystemContext, SystemRelation, text};
use crate::catalog::{CatalogEntry, CatalogItem, DEFAULT_SCHEMA};
use crate::repr::{Datum, ScalarType};

use ScalarType::{Int32, String as Text};

pub fn relation(name: &str, cx: &SystemContext) -> Option<SystemRelation> {
    Some(match name {
        "tables" => tables(cx),
        "columns" => columns_relation(cx),
        "schemata" => schemata(cx),
        "views" => views(cx),
        "table_constraints" => table_constraints(cx),
        "key_column_usage" => key_column_usage(cx),
        // No foreign keys and no user-defined functions.
        "referential_constraints" => SystemRelation::from_spec(
            "constraint_catalog:text constraint_schema:text constraint_name:text \
             unique_constraint_catalog:text unique_constraint_schema:text \
             unique_constraint_name:text match_option:text update_rule:text delete_rule:text",
        ),
        "routines" => SystemRelation::from_spec(ROUTINES_COLUMNS),
        _ => return None,
    })
}

/// `information_schema.routines`' columns (PostgreSQL 15's).
const ROUTINES_COLUMNS: &str = "specific_catalog:text specific_schema:text specific_name:text \
    routine_catalog:text routine_schema:text routine_name:text routine_type:text \
    module_catalog:text module_schema:text module_name:text udt_catalog:text udt_schema:text \
    udt_name:text data_type:text character_maximum_length:int4 character_octet_length:int4 \
    character_set_catalog:text character_set_schema:text character_set_name:text \
    collation_catalog:text collation_schema:text collation_name:text numeric_precision:int4 \
    numeric_precision_radix:int4 numeric_scale:int4 datetime_precision:int4 \
    interval_type:text interval_precision:int4 type_udt_catalog:text type_udt_schema:text \
    type_udt_name:text scope_catalog:text scope_schema:text scope_name:text \
    maximum_cardinality:int4 dtd_identifier:text routine_body:text routine_definition:text \
    external_name:text external_language:text parameter_style:text is_deterministic:text \
    sql_data_access:text is_null_call:text sql_path:text schema_level_routine:text \
    max_dynamic_result_sets:int4 is_user_defined_cast:text is_implicitly_invocable:text \
    security_type:text to_sql_specific_catalog:text to_sql_specific_schema:text \
    to_sql_specific_name:text as_locator:text created:timestamptz last_altered:timestamptz \
    new_savepoint_level:text is_udt_dependent:text result_cast_from_data_type:text \
    result_cast_as_locator:text result_cast_char_max_length:int4 \
    result_cast_char_octet_length:int4 result_cast_char_set_catalog:text \
    result_cast_char_set_schema:text result_cast_char_set_name:text \
    result_cast_collation_catalog:text result_cast_collation_schema:text \
    result_cast_collation_name:text result_cast_numeric_precision:int4 \
    result_cast_numeric_precision_radix:int4 result_cast_numeric_scale:int4 \
    result_cast_datetime_precision:int4 result_cast_interval_type:text \
    result_cast_interval_precision:int4 result_cast_type_udt_catalog:text \
    result_cast_type_udt_schema:text result_cast_type_udt_name:text \
    result_cast_scope_catalog:text result_cast_scope_schema:text result_cast_scope_name:text \
    result_cast_maximum_cardinality:int4 result_cast_dtd_identifier:text";

/// The tables' PRIMARY KEY and UNIQUE constraints. (PostgreSQL also lists each NOT NULL
/// column as a CHECK constraint; those are not here.)
fn table_constraints(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::from_spec(
        "constraint_catalog:text constraint_schema:text constraint_name:text \
         table_catalog:text table_schema:text table_name:text constraint_type:text \
         is_deferrable:text initially_deferred:text enforced:text nulls_distinct:text",
    );
    for index in key_indexes(cx) {
        let mut row = constraint_names(cx, &index);
        row.extend([
            text(if index.key.primary {
                "PRIMARY KEY"
            } else {
                "UNIQUE"
            }),
            yes_no(false),
            yes_no(false),
            yes_no(true),
            yes_no(true),
        ]);
        r.push(row);
    }
    r
}

/// A key constraint's catalog, schema and name, then its table's.
fn constraint_names(cx: &SystemContext, index: &KeyIndex) -> Vec<Datum> {
    vec![
        text(cx.database),
        text(DEFAULT_SCHEMA),
        text(&index.key.name),
        text(cx.database),
        text(DEFAULT_SCHEMA),
        text(&index.table.name),
    ]
}

/// Each key column of each PRIMARY KEY and UNIQUE constraint.
fn key_column_usage(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::from_spec(
        "constraint_catalog:text constraint_schema:text constraint_name:text \
         table_catalog:text table_schema:text table_name:text column_name:text \
         ordinal_position:int4 position_in_unique_constraint:int4",
    );
    for index in key_indexes(cx) {
        for (n, (column, _)) in index.columns().into_iter().enumerate() {
            let mut row = constraint_names(cx, &index);
            row.extend([text(&column), Datum::Int32(n as i32 + 1), Datum::Null]);
            r.push(row);
        }
    }
    r
}

/// `table_type` of an item that `information_schema.tables` lists.
fn table_type(entry: &CatalogEntry) -> Option<&'static str> {
    match entry.item {
        CatalogItem::Table { .. } => Some("BASE TABLE"),
        CatalogItem::View { .. } => Some("VIEW"),
        CatalogItem::Source { .. } => Some("FOREIGN"),
        _ => None,
    }
}

fn yes_no(b: bool) -> Datum {
    text(if b { "YES" } else { "NO" })
}

fn tables(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::new(&[
        ("table_catalog", Text),
        ("table_schema", Text),
        ("table_name", Text),
        ("table_type", Text),
        ("self_referencing_column_name", Text),
        ("reference_generation", Text),
        ("user_defined_type_catalog", Text),
        ("user_defined_type_schema", Text),
        ("user_defined_type_name", Text),
        ("is_insertable_into", Text),
        ("is_typed", Text),
        ("commit_action", Text),
    ]);
    for (_, entry) in relations(cx) {
        let Some(kind) = table_type(entry) else {
            continue;
        };
        r.push(vec![
            text(cx.database),
            text(DEFAULT_SCHEMA),
            text(&entry.name),
            text(kind),
            Datum::Null,
            Datum::Null,
            Datum::Null,
            Datum::Null,
            Datum::Null,
            yes_no(kind == "BASE TABLE"),
            yes_no(false),
            Datum::Null,
        ]);
    }
    r
}

/// `information_schema.columns.data_type`: the standard's name of a type.
fn data_type(typ: &ScalarType) -> String {
    match typ {
        ScalarType::Array(_) => "ARRAY".into(),
        ScalarType::VarChar { .. } => "character varying".into(),
        ScalarType::Char { .. } => "character".into(),
        ScalarType::Numeric { .. } => "numeric".into(),
        other => other.sql_name(),
    }
}

fn columns_relation(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::new(&[
        ("table_catalog", Text),
        ("table_schema", Text),
        ("table_name", Text),
        ("column_name", Text),
        ("ordinal_position", Int32),
        ("column_default", Text),
        ("is_nullable", Text),
        ("data_type", Text),
        ("character_maximum_length", Int32),
        ("character_octet_length", Int32),
        ("numeric_precision", Int32),
        ("numeric_precision_radix", Int32),
        ("numeric_scale", Int32),
        ("datetime_precision", Int32),
        ("interval_type", Text),
        ("interval_precision", Int32),
        ("character_set_catalog", Text),
        ("character_set_schema", Text),
        ("character_set_name", Text),
        ("collation_catalog", Text),
        ("collation_schema", Text),
        ("collation_name", Text),
        ("domain_catalog", Text),
        ("domain_schema", Text),
        ("domain_name", Text),
        ("udt_catalog", Text),
        ("udt_schema", Text),
        ("udt_name", Text),
        ("scope_catalog", Text),
        ("scope_schema", Text),
        ("scope_name", Text),
        ("maximum_cardinality", Int32),
        ("dtd_identifier", Text),
        ("is_self_referencing", Text),
        ("is_identity", Text),
        ("identity_generation", Text),
        ("identity_start", Text),
        ("identity_increment", Text),
        ("identity_maximum", Text),
        ("identity_minimum", Text),
        ("identity_cycle", Text),
        ("is_generated", Text),
        ("generation_expression", Text),
        ("is_updatable", Text),
    ]);
    for (_, entry) in relations(cx) {
        if table_type(entry).is_none() {
            continue;
        }
        let (defaults, is_table) = match &entry.item {
            CatalogItem::Table { defaults, .. } => (defaults.clone(), true),
            _ => (Vec::new(), false),
        };
        for (i, (name, typ)) in columns(cx, entry).into_iter().enumerate() {
            let scalar = &typ.scalar_type;
            let int = |v: Option<i32>| v.map_or(Datum::Null, Datum::Int32);
            let max_length = match scalar {
                ScalarType::VarChar { max_length } => max_length.map(|n| n as i32),
                ScalarType::Char { length } => Some(*length as i32),
                _ => None,
            };
            let octet_length = match scalar {
                _ if scalar.is_string_like() => Some(max_length.map_or(1_073_741_824, |n| n * 4)),
                _ => None,
            };
            let (precision, radix, scale) = match scalar {
                ScalarType::Int16 => (Some(16), Some(2), Some(0)),
                ScalarType::Int32 => (Some(32), Some(2), Some(0)),
                ScalarType::Int64 => (Some(64), Some(2), Some(0)),
                ScalarType::Float32 => (Some(24), Some(2), None),
                ScalarType::Float64 => (Some(53), Some(2), None),
                ScalarType::Numeric {
                    typmod: Some((p, s)),
                } => (Some(*p as i32), Some(10), Some(*s as i32)),
                ScalarType::Numeric { typmod: None } => (None, Some(10), None),
                _ => (None, None, None),
            };
            let datetime_precision = match scalar {
                ScalarType::Date => Some(0),
                ScalarType::Time
                | ScalarType::Timestamp
                | ScalarType::TimestampTz
                | ScalarType::Interval => Some(6),
                _ => None,
            };
            let udt = super::pg_catalog::TypeInfo::of(scalar).name;
            r.push(vec![
                text(cx.database),
                text(DEFAULT_SCHEMA),
                text(&entry.name),
                text(&name),
                Datum::Int32(i as i32 + 1),
                defaults
                    .get(i)
                    .cloned()
                    .flatten()
                    .map_or(Datum::Null, |sql| {
                        Datum::String(super::pg_catalog::default_expression(&sql, scalar))
                    }),
                yes_no(typ.nullable || !super::declares_not_null(&entry.item)),
                text(&data_type(scalar)),
                int(max_length),
                int(octet_length),
                int(precision),
                int(radix),
                int(scale),
                int(datetime_precision),
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
                text(cx.database),
                text(super::PG_CATALOG),
                text(udt),
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
                text(&(i + 1).to_string()),
                yes_no(false),
                yes_no(false),
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
                yes_no(false),
                text("NEVER"),
                Datum::Null,
                yes_no(is_table),
            ]);
        }
    }
    r
}

fn schemata(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::new(&[
        ("catalog_name", Text),
        ("schema_name", Text),
        ("schema_owner", Text),
        ("default_character_set_catalog", Text),
        ("default_character_set_schema", Text),
        ("default_character_set_name", Text),
        ("sql_path", Text),
    ]);
    for schema in [super::PG_CATALOG, DEFAULT_SCHEMA, super::INFORMATION_SCHEMA] {
        r.push(vec![
            text(cx.database),
            text(schema),
            text(cx.user),
            Datum::Null,
            Datum::Null,
            Datum::Null,
            Datum::Null,
        ]);
    }
    r
}

fn views(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::new(&[
        ("table_catalog", Text),
        ("table_schema", Text),
        ("table_name", Text),
        ("view_definition", Text),
        ("check_option", Text),
        ("is_updatable", Text),
        ("is_insertable_into", Text),
        ("is_trigger_updatable", Text),
        ("is_trigger_deletable", Text),
        ("is_trigger_insertable_into", Text),
    ]);
    for (_, entry) in relations(cx) {
        if !matches!(entry.item, CatalogItem::View { .. }) {
            continue;
        }
        r.push(vec![
            text(cx.database),
            text(DEFAULT_SCHEMA),
            text(&entry.name),
            view_definition(entry).map_or(Datum::Null, Datum::String),
            text("NONE"),
            yes_no(false),
            yes_no(false),
            yes_no(false),
            yes_no(false),
            yes_no(false),
        ]);
    }
    r
}

//! Object identifiers (OIDs) as clients see them in `pg_catalog`: PostgreSQL's own for the
//! built-in objects it also has (namespaces, the superuser, access methods, types), and for
//! a user item `FIRST_USER_OID + id`, so that an item keeps its OID for its whole life.

use crate::repr::GlobalId;

pub const PG_CATALOG_NAMESPACE: u32 = 11;
pub const PUBLIC_NAMESPACE: u32 = 2200;
pub const INFORMATION_SCHEMA_NAMESPACE: u32 = 13_000;
/// The one role (PostgreSQL's bootstrap superuser has OID 10).
pub const SUPERUSER: u32 = 10;
/// The one database.
pub const DATABASE: u32 = 5;
pub const HEAP_ACCESS_METHOD: u32 = 2;
pub const BTREE_ACCESS_METHOD: u32 = 403;
/// The default collation, as `pg_attribute.attcollation` of text columns names it.
pub const DEFAULT_COLLATION: u32 = 100;
/// PostgreSQL's OIDs of the `pg_catalog` relations Freshet serves (and of those that
/// clients name as a `classoid` without reading them), for `'pg_catalog.x'::regclass`.
pub const SYSTEM_RELATIONS: &[(&str, u32)] = &[
    ("pg_am", 2601),
    ("pg_attrdef", 2604),
    ("pg_attribute", 1249),
    ("pg_auth_members", 1261),
    ("pg_class", 1259),
    ("pg_collation", 3456),
    ("pg_constraint", 2606),
    ("pg_database", 1262),
    ("pg_depend", 2608),
    ("pg_description", 2609),
    ("pg_enum", 3501),
    ("pg_event_trigger", 3466),
    ("pg_extension", 3079),
    ("pg_foreign_server", 1417),
    ("pg_foreign_table", 3118),
    ("pg_index", 2610),
    ("pg_indexes", 12043),
    ("pg_inherits", 2611),
    ("pg_language", 2612),
    ("pg_locks", 12090),
    ("pg_matviews", 12038),
    ("pg_namespace", 2615),
    ("pg_opclass", 2616),
    ("pg_operator", 2617),
    ("pg_policy", 3256),
    ("pg_proc", 1255),
    ("pg_publication", 6104),
    ("pg_publication_namespace", 6237),
    ("pg_publication_rel", 6106),
    ("pg_rewrite", 2618),
    ("pg_roles", 12000),
    ("pg_sequence", 2224),
    ("pg_settings", 12104),
    ("pg_stat_user_tables", 12161),
    ("pg_statistic_ext", 3381),
    ("pg_tables", 12033),
    ("pg_tablespace", 1213),
    ("pg_trigger", 2620),
    ("pg_type", 1247),
    ("pg_user", 12014),
    ("pg_views", 12028),
];

/// `pg_class`'s own OID: the `classoid` of relations (in `pg_description`, `pg_depend`).
pub const PG_CLASS: u32 = 1259;

pub const C_COLLATION: u32 = 950;
pub const POSIX_COLLATION: u32 = 951;
pub const GLOBAL_TABLESPACE: u32 = 1664;

/// PostgreSQL's first OID for user objects.
pub const FIRST_USER_OID: u32 = 16_384;

/// The OID of a table's `n`th constraint (PRIMARY KEY or UNIQUE), in a range no item
/// reaches. `None` past it.
pub fn of_constraint(table: GlobalId, n: usize) -> Option<u32> {
    numbered(0x8000_0000, u32::MAX, table, 64, n)
}

/// The OID of the unique index behind a table's `n`th constraint (`key_indexes`), in a
/// third such range.
pub fn of_key_index(table: GlobalId, n: usize) -> Option<u32> {
    numbered(0x2000_0000, 0x3fff_ffff, table, 64, n)
}

/// The OID of the rule (`pg_rewrite`) of a view or materialized view, in a range of its own
/// above the item OIDs (items would need 268 million ids to reach it).
pub fn of_rule(view: GlobalId) -> Option<u32> {
    numbered(0x1000_0000, 0x1fff_ffff, view, 1, 0)
}

/// The OID of the DEFAULT of a table's column `column` (from 0), in another such range.
pub fn of_default(table: GlobalId, column: usize) -> Option<u32> {
    numbered(0x4000_0000, 0x7fff_ffff, table, 1024, column)
}

/// `base + table_id * per_table + n`, when `n < per_table` and the result is at most `last`.
fn numbered(base: u32, last: u32, table: GlobalId, per_table: u32, n: usize) -> Option<u32> {
    let GlobalId::User(id) = table else {
        return None;
    };
    let n = u32::try_from(n).ok().filter(|n| *n < per_table)?;
    u32::try_from(id)
        .ok()?
        .checked_mul(per_table)?
        .checked_add(base)?
        .checked_add(n)
        .filter(|oid| *oid <= last)
}

/// The OID of a user item, or `None` for ids that have none (transient dataflows, and ids
/// past the OID range).
pub fn of_item(id: GlobalId) -> Option<u32> {
    match id {
        GlobalId::User(n) => u32::try_from(n).ok()?.checked_add(FIRST_USER_OID),
        GlobalId::System(_) | GlobalId::Transient(_) => None,
    }
}

/// The user item with OID `oid`, if it is one.
pub fn item(oid: u32) -> Option<GlobalId> {
    oid.checked_sub(FIRST_USER_OID)
        .map(|n| GlobalId::User(u64::from(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_oids_round_trip() {
        let id = GlobalId::User(7);
        assert_eq!(of_item(id), Some(16_391));
        assert_eq!(item(16_391), Some(id));
        assert_eq!(item(11), None);
        assert_eq!(of_item(GlobalId::Transient(1)), None);
    }

    #[test]
    fn constraint_and_default_oids_never_meet_item_oids() {
        let table = GlobalId::User(3);
        let constraint = of_constraint(table, 1).expect("in range");
        let default = of_default(table, 2).expect("in range");
        assert!(constraint >= 0x8000_0000);
        assert!((0x4000_0000..0x8000_0000).contains(&default));
        // Items would need a billion ids to reach those ranges.
        assert!(of_item(GlobalId::User(1_000_000_000)).is_some_and(|o| o < 0x4000_0000));
        assert_ne!(of_constraint(table, 0), of_constraint(GlobalId::User(4), 0));
        assert_eq!(of_constraint(table, 64), None);
        let rule = of_rule(table).expect("in range");
        assert!((0x1000_0000..0x2000_0000).contains(&rule));
        assert_ne!(of_rule(table), of_rule(GlobalId::User(4)));
        assert!(of_item(GlobalId::User(200_000_000)).is_some_and(|o| o < 0x1000_0000));
    }
}

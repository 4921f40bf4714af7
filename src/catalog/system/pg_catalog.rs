//! `pg_catalog` relations over Freshet's catalog, with PostgreSQL 15's columns.
//!
//! How Freshet's items appear: tables as `relkind` `r`, views `v`, materialized views `m`,
//! indexes `i`, and source relations `f` (like foreign tables: rows that come from outside);
//! connections, secrets and sinks are not relations. There is one database, one user schema
//! (`public`) and one role, the session's user, which owns everything.

use super::key_indexes::key_indexes;
use super::oids::{self, *};
use super::{SystemContext, SystemRelation, oid, text};
use crate::catalog::{CatalogEntry, CatalogItem};
use crate::expr::ScalarExpr;
use crate::repr::{ColumnType, Datum, RegKind, ScalarType};

use ScalarType::{Bool, Float32, Int16, Int32, Oid, String as Text, TimestampTz};

/// The type of `xid` columns (transaction ids), which Freshet has no values for: always NULL.
const XID: ScalarType = ScalarType::Int64;

fn text_array() -> ScalarType {
    ScalarType::Array(Box::new(Text))
}

pub fn relation(name: &str, cx: &SystemContext) -> Option<SystemRelation> {
    Some(match name {
        "pg_namespace" => pg_namespace(),
        "pg_class" => pg_class(cx),
        "pg_attribute" => pg_attribute(cx),
        "pg_type" => pg_type(),
        "pg_am" => pg_am(),
        "pg_index" => pg_index(cx),
        "pg_database" => pg_database(cx),
        "pg_roles" => pg_roles(cx),
        "pg_user" => pg_user(cx),
        "pg_auth_members" => SystemRelation::new(&[
            ("roleid", Oid),
            ("member", Oid),
            ("grantor", Oid),
            ("admin_option", Bool),
        ]),
        "pg_description" => pg_description(cx),
        "pg_inherits" => SystemRelation::new(&[
            ("inhrelid", Oid),
            ("inhparent", Oid),
            ("inhseqno", Int32),
            ("inhdetachpending", Bool),
        ]),
        "pg_constraint" => pg_constraint(cx),
        "pg_attrdef" => pg_attrdef(cx),
        "pg_tables" => pg_tables(cx),
        "pg_views" => pg_views(cx),
        "pg_matviews" => pg_matviews(cx),
        "pg_indexes" => pg_indexes(cx),
        "pg_collation" => pg_collation(),
        "pg_tablespace" => pg_tablespace(),
        "pg_settings" => pg_settings(cx),
        "pg_locks" => pg_locks(cx),
        "pg_sequence" => pg_sequence(cx),
        "pg_stat_user_tables" => pg_stat_user_tables(cx),
        "pg_depend" => super::dependencies::pg_depend(cx),
        "pg_rewrite" => super::dependencies::pg_rewrite(cx),
        "pg_foreign_table" => pg_foreign_table(cx),
        "pg_foreign_server" => pg_foreign_server(cx),
        other => {
            let (_, spec) = EMPTY_RELATIONS.iter().find(|(name, _)| *name == other)?;
            SystemRelation::from_spec(spec)
        }
    })
}

/// Relations Freshet has nothing for (no policies, publications, triggers, sequences,
/// extensions, user functions, ...) but that clients read: empty, with PostgreSQL's columns
/// (`name:type`, in the notation of `SystemRelation::from_spec`).
const EMPTY_RELATIONS: &[(&str, &str)] = &[
    (
        "pg_policy",
        "oid:oid polname:name polrelid:oid polcmd:char polpermissive:bool polroles:oid[] \
         polqual:text polwithcheck:text",
    ),
    (
        "pg_statistic_ext",
        "oid:oid stxrelid:oid stxname:name stxnamespace:oid stxowner:oid stxstattarget:int4 \
         stxkeys:int2vector stxkind:text[] stxexprs:text",
    ),
    (
        "pg_publication",
        "oid:oid pubname:name pubowner:oid puballtables:bool pubinsert:bool pubupdate:bool \
         pubdelete:bool pubtruncate:bool pubviaroot:bool",
    ),
    (
        "pg_publication_namespace",
        "oid:oid pnpubid:oid pnnspid:oid",
    ),
    (
        "pg_publication_rel",
        "oid:oid prpubid:oid prrelid:oid prqual:text prattrs:int2vector",
    ),
    (
        "pg_proc",
        "oid:oid proname:name pronamespace:oid proowner:oid prolang:oid procost:float4 \
         prorows:float4 provariadic:oid prosupport:regproc prokind:char prosecdef:bool \
         proleakproof:bool proisstrict:bool proretset:bool provolatile:char proparallel:char \
         pronargs:int2 pronargdefaults:int2 prorettype:oid proargtypes:oidvector \
         proallargtypes:oid[] proargmodes:text[] proargnames:text[] proargdefaults:text \
         protrftypes:oid[] prosrc:text probin:text prosqlbody:text proconfig:text[] \
         proacl:text[]",
    ),
    (
        "pg_trigger",
        "oid:oid tgrelid:oid tgparentid:oid tgname:name tgfoid:oid tgtype:int2 tgenabled:char \
         tgisinternal:bool tgconstrrelid:oid tgconstrindid:oid tgconstraint:oid \
         tgdeferrable:bool tginitdeferred:bool tgnargs:int2 tgattr:int2vector tgargs:bytea \
         tgqual:text tgoldtable:name tgnewtable:name",
    ),
    (
        "pg_opclass",
        "oid:oid opcmethod:oid opcname:name opcnamespace:oid opcowner:oid opcfamily:oid \
         opcintype:oid opcdefault:bool opckeytype:oid",
    ),
    (
        "pg_extension",
        "oid:oid extname:name extowner:oid extnamespace:oid extrelocatable:bool \
         extversion:text extconfig:oid[] extcondition:text[]",
    ),
    (
        "pg_enum",
        "oid:oid enumtypid:oid enumsortorder:float4 enumlabel:name",
    ),
    (
        "pg_range",
        "rngtypid:oid rngsubtype:oid rngmultitypid:oid rngcollation:oid rngsubopc:oid \
         rngcanonical:regproc rngsubdiff:regproc",
    ),
    (
        "pg_language",
        "oid:oid lanname:name lanowner:oid lanispl:bool lanpltrusted:bool lanplcallfoid:oid \
         laninline:oid lanvalidator:oid lanacl:text[]",
    ),
    (
        "pg_event_trigger",
        "oid:oid evtname:name evtevent:name evtowner:oid evtfoid:oid evtenabled:char \
         evttags:text[]",
    ),
    (
        "pg_partitioned_table",
        "partrelid:oid partstrat:char partnatts:int2 partdefid:oid partattrs:int2vector \
         partclass:oidvector partcollation:oidvector partexprs:text",
    ),
    (
        "pg_cast",
        "oid:oid castsource:oid casttarget:oid castfunc:oid castcontext:char castmethod:char",
    ),
    (
        "pg_operator",
        "oid:oid oprname:name oprnamespace:oid oprowner:oid oprkind:char oprcanmerge:bool \
         oprcanhash:bool oprleft:oid oprright:oid oprresult:oid oprcom:oid oprnegate:oid \
         oprcode:regproc oprrest:regproc oprjoin:regproc",
    ),
];

fn pg_collation() -> SystemRelation {
    let mut r = SystemRelation::from_spec(
        "oid:oid collname:name collnamespace:oid collowner:oid collprovider:char \
         collisdeterministic:bool collencoding:int4 collcollate:text collctype:text \
         colliculocale:text collversion:text",
    );
    for (id, name, provider, collate) in [
        (DEFAULT_COLLATION, "default", "d", None),
        (C_COLLATION, "C", "c", Some("C")),
        (POSIX_COLLATION, "POSIX", "c", Some("POSIX")),
    ] {
        let collate = collate.map_or(Datum::Null, text);
        r.push(vec![
            oid(id),
            text(name),
            oid(PG_CATALOG_NAMESPACE),
            oid(SUPERUSER),
            text(provider),
            Datum::Bool(true),
            Datum::Int32(-1),
            collate.clone(),
            collate,
            Datum::Null,
            Datum::Null,
        ]);
    }
    r
}

fn pg_tablespace() -> SystemRelation {
    let mut r = SystemRelation::from_spec(
        "oid:oid spcname:name spcowner:oid spcacl:text[] spcoptions:text[]",
    );
    for (id, name) in [
        (DEFAULT_TABLESPACE, "pg_default"),
        (GLOBAL_TABLESPACE, "pg_global"),
    ] {
        r.push(vec![
            oid(id),
            text(name),
            oid(SUPERUSER),
            Datum::Null,
            Datum::Null,
        ]);
    }
    r
}

/// The session's variables, as `SHOW` prints them.
fn pg_settings(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::from_spec(
        "name:text setting:text unit:text category:text short_desc:text extra_desc:text \
         context:text vartype:text source:text min_val:text max_val:text enumvals:text[] \
         boot_val:text reset_val:text sourcefile:text sourceline:int4 pending_restart:bool",
    );
    for (name, value) in cx.settings.iter() {
        let mut row = vec![text(name), text(value)];
        row.extend(std::iter::repeat_n(Datum::Null, 4));
        row.push(text("user"));
        row.push(text("string"));
        row.push(text("session"));
        row.extend(std::iter::repeat_n(Datum::Null, 7));
        row.push(Datum::Bool(false));
        r.push(row);
    }
    r
}

/// The comments on relations and their columns (`COMMENT ON`).
fn pg_description(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::new(&[
        ("objoid", Oid),
        ("classoid", Oid),
        ("objsubid", Int32),
        ("description", Text),
    ]);
    for (target, description) in cx.catalog.comments() {
        let Some(objoid) = oids::of_item(target.item) else {
            continue;
        };
        r.push(vec![
            oid(objoid),
            oid(oids::PG_CLASS),
            Datum::Int32(target.objsubid()),
            text(description),
        ]);
    }
    r
}

/// The advisory locks sessions hold or wait for; Freshet has no other locks to show.
fn pg_locks(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::from_spec(
        "locktype:text database:oid relation:oid page:int4 tuple:int2 virtualxid:text \
         transactionid:xid classid:oid objid:oid objsubid:int2 virtualtransaction:text \
         pid:int4 mode:text granted:bool fastpath:bool waitstart:timestamptz",
    );
    for lock in cx.advisory_locks {
        let mut row = vec![text("advisory"), oid(DATABASE)];
        row.extend(std::iter::repeat_n(Datum::Null, 5));
        row.extend([
            oid(lock.classid),
            oid(lock.objid),
            Datum::Int16(lock.objsubid),
            text(&format!("{}/1", lock.pid)),
            Datum::Int32(lock.pid as i32),
            text(lock.mode),
            Datum::Bool(lock.granted),
            Datum::Bool(false),
            Datum::Null,
        ]);
        r.push(row);
    }
    r
}

/// One row per table; Freshet keeps no access statistics, so the counters are NULL.
fn pg_stat_user_tables(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::from_spec(
        "relid:oid schemaname:name relname:name seq_scan:int8 seq_tup_read:int8 idx_scan:int8 \
         idx_tup_fetch:int8 n_tup_ins:int8 n_tup_upd:int8 n_tup_del:int8 n_tup_hot_upd:int8 \
         n_live_tup:int8 n_dead_tup:int8 n_mod_since_analyze:int8 n_ins_since_vacuum:int8 \
         last_vacuum:timestamptz last_autovacuum:timestamptz last_analyze:timestamptz \
         last_autoanalyze:timestamptz vacuum_count:int8 autovacuum_count:int8 \
         analyze_count:int8 autoanalyze_count:int8",
    );
    for (id, entry) in relations(cx) {
        if !matches!(entry.item, CatalogItem::Table { .. }) {
            continue;
        }
        let mut row = vec![
            oid(id),
            text(crate::catalog::DEFAULT_SCHEMA),
            text(&entry.name),
        ];
        row.extend(std::iter::repeat_n(Datum::Null, 20));
        r.push(row);
    }
    r
}

/// The catalog's relations (items with columns), with their OIDs, in id order.
pub fn relations<'a>(cx: &'a SystemContext) -> impl Iterator<Item = (u32, &'a CatalogEntry)> + 'a {
    cx.catalog.entries().filter_map(|entry| {
        relkind(&entry.item)?;
        Some((oids::of_item(entry.id)?, entry))
    })
}

/// `pg_class.relkind` of an item, `None` for items that are not relations.
pub(super) fn relkind(item: &CatalogItem) -> Option<&'static str> {
    Some(match item {
        CatalogItem::Table { .. } => "r",
        CatalogItem::View { .. } => "v",
        CatalogItem::MaterializedView { .. } => "m",
        CatalogItem::Index { .. } => "i",
        CatalogItem::Source { .. } => "f",
        CatalogItem::Sequence(_) => "S",
        CatalogItem::Connection { .. } | CatalogItem::Secret { .. } | CatalogItem::Sink { .. } => {
            return None;
        }
    })
}

/// An index's columns: each key's name (its column's, or the expression as written) and type.
fn index_columns(cx: &SystemContext, item: &CatalogItem) -> Vec<(String, ColumnType)> {
    let CatalogItem::Index {
        on, keys, key_sql, ..
    } = item
    else {
        return Vec::new();
    };
    let Some(on) = cx.catalog.get(*on).and_then(|e| e.item.desc()) else {
        return Vec::new();
    };
    keys.iter()
        .zip(key_sql)
        .map(|(key, sql)| {
            let name = match key {
                ScalarExpr::Column(c) => on.names.get(*c).cloned().unwrap_or_else(|| sql.clone()),
                _ => sql.clone(),
            };
            (name, key.typ(&on.types))
        })
        .collect()
}

/// A relation's columns: names and types (an index's are its keys).
pub(super) fn columns(cx: &SystemContext, entry: &CatalogEntry) -> Vec<(String, ColumnType)> {
    match &entry.item {
        CatalogItem::Index { .. } => index_columns(cx, &entry.item),
        item => item
            .desc()
            .map(|d| {
                d.names
                    .iter()
                    .cloned()
                    .zip(d.types.iter().cloned())
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn pg_namespace() -> SystemRelation {
    let mut r = SystemRelation::new(&[
        ("oid", Oid),
        ("nspname", Text),
        ("nspowner", Oid),
        ("nspacl", text_array()),
    ]);
    for (id, name) in [
        (PG_CATALOG_NAMESPACE, super::PG_CATALOG),
        (PUBLIC_NAMESPACE, crate::catalog::DEFAULT_SCHEMA),
        (INFORMATION_SCHEMA_NAMESPACE, super::INFORMATION_SCHEMA),
    ] {
        r.push(vec![oid(id), text(name), oid(SUPERUSER), Datum::Null]);
    }
    r
}

fn pg_class(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::new(&[
        ("oid", Oid),
        ("relname", Text),
        ("relnamespace", Oid),
        ("reltype", Oid),
        ("reloftype", Oid),
        ("relowner", Oid),
        ("relam", Oid),
        ("relfilenode", Oid),
        ("reltablespace", Oid),
        ("relpages", Int32),
        ("reltuples", Float32),
        ("relallvisible", Int32),
        ("reltoastrelid", Oid),
        ("relhasindex", Bool),
        ("relisshared", Bool),
        ("relpersistence", Text),
        ("relkind", Text),
        ("relnatts", Int16),
        ("relchecks", Int16),
        ("relhasrules", Bool),
        ("relhastriggers", Bool),
        ("relhassubclass", Bool),
        ("relrowsecurity", Bool),
        ("relforcerowsecurity", Bool),
        ("relispopulated", Bool),
        ("relreplident", Text),
        ("relispartition", Bool),
        ("relrewrite", Oid),
        ("relfrozenxid", XID),
        ("relminmxid", XID),
        ("relacl", text_array()),
        ("reloptions", text_array()),
        ("relpartbound", Text),
    ]);
    for (id, entry) in relations(cx) {
        let Some(kind) = relkind(&entry.item) else {
            continue;
        };
        let natts = columns(cx, entry).len();
        r.push(class_row(
            id,
            &entry.name,
            kind,
            natts,
            has_index(cx, entry),
        ));
    }
    for index in key_indexes(cx) {
        r.push(class_row(
            index.oid,
            &index.key.name,
            "i",
            index.key.columns.len(),
            false,
        ));
    }
    r
}

/// A `pg_class` row.
fn class_row(id: u32, name: &str, kind: &str, natts: usize, has_index: bool) -> Vec<Datum> {
    let am = match kind {
        "r" | "m" => oid(HEAP_ACCESS_METHOD),
        "i" => oid(BTREE_ACCESS_METHOD),
        _ => oid(0),
    };
    vec![
        oid(id),
        text(name),
        oid(PUBLIC_NAMESPACE),
        oid(0),
        oid(0),
        oid(SUPERUSER),
        am,
        oid(0),
        oid(0),
        Datum::Int32(0),
        Datum::f32(-1.0),
        Datum::Int32(0),
        oid(0),
        Datum::Bool(has_index),
        Datum::Bool(false),
        text("p"),
        text(kind),
        Datum::Int16(natts as i16),
        Datum::Int16(0),
        Datum::Bool(kind == "v"),
        Datum::Bool(false),
        Datum::Bool(false),
        Datum::Bool(false),
        Datum::Bool(false),
        Datum::Bool(true),
        text(if kind == "r" { "d" } else { "n" }),
        Datum::Bool(false),
        oid(0),
        Datum::Null,
        Datum::Null,
        Datum::Null,
        Datum::Null,
        Datum::Null,
    ]
}

fn pg_attribute(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::new(&[
        ("attrelid", Oid),
        ("attname", Text),
        ("atttypid", Oid),
        ("attstattarget", Int32),
        ("attlen", Int16),
        ("attnum", Int16),
        ("attndims", Int32),
        ("attcacheoff", Int32),
        ("atttypmod", Int32),
        ("attbyval", Bool),
        ("attalign", Text),
        ("attstorage", Text),
        ("attcompression", Text),
        ("attnotnull", Bool),
        ("atthasdef", Bool),
        ("atthasmissing", Bool),
        ("attidentity", Text),
        ("attgenerated", Text),
        ("attisdropped", Bool),
        ("attislocal", Bool),
        ("attinhcount", Int32),
        ("attcollation", Oid),
        ("attacl", text_array()),
        ("attoptions", text_array()),
        ("attfdwoptions", text_array()),
        ("attmissingval", text_array()),
    ]);
    for (id, entry) in relations(cx) {
        let defaults = match &entry.item {
            CatalogItem::Table { defaults, .. } => defaults.clone(),
            _ => Vec::new(),
        };
        let constrains_nulls = super::declares_not_null(&entry.item);
        for (i, (name, typ)) in columns(cx, entry).into_iter().enumerate() {
            let has_default = defaults.get(i).is_some_and(Option::is_some);
            let not_null = constrains_nulls && !typ.nullable;
            let mut row = attribute_row(id, i, &name, &typ, not_null, has_default);
            // attidentity: 'a' (ALWAYS) or 'd' (BY DEFAULT) for an identity column.
            if let Some(identity) = identity_of(cx, entry.id, i) {
                row[ATTIDENTITY] = text(match identity {
                    crate::catalog::Identity::Always => "a",
                    crate::catalog::Identity::ByDefault => "d",
                });
            }
            r.push(row);
        }
    }
    for index in key_indexes(cx) {
        for (i, (name, typ)) in index.columns().into_iter().enumerate() {
            r.push(attribute_row(index.oid, i, &name, &typ, false, false));
        }
    }
    r
}

/// The position of `attidentity` in a `pg_attribute` row.
const ATTIDENTITY: usize = 16;

/// Whether column `column` of `table` is an identity column, and which kind.
fn identity_of(
    cx: &SystemContext,
    table: crate::repr::GlobalId,
    column: usize,
) -> Option<crate::catalog::Identity> {
    cx.catalog
        .sequences_owned_by(table)
        .find_map(|(_, spec)| match spec.owned_by {
            Some((_, c)) if c == column => spec.identity,
            _ => None,
        })
}

/// The sequences: their definitions (`pg_sequence`).
fn pg_sequence(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::from_spec(
        "seqrelid:oid seqtypid:oid seqstart:int8 seqincrement:int8 seqmax:int8 seqmin:int8 \
         seqcache:int8 seqcycle:bool",
    );
    for entry in cx.catalog.entries() {
        let (CatalogItem::Sequence(spec), Some(seqrelid)) = (&entry.item, oids::of_item(entry.id))
        else {
            continue;
        };
        r.push(vec![
            oid(seqrelid),
            oid(spec.typ.oid()),
            Datum::Int64(spec.start),
            Datum::Int64(spec.increment),
            Datum::Int64(spec.max),
            Datum::Int64(spec.min),
            Datum::Int64(1),
            Datum::Bool(spec.cycle),
        ]);
    }
    r
}

/// Source relations, shown as foreign tables (`relkind` `f`): each has a row whose server
/// is its source (psql's `\d` prints it as `Server:`, and describes nothing without it).
fn pg_foreign_table(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::from_spec("ftrelid:oid ftserver:oid ftoptions:text[]");
    for entry in cx.catalog.entries() {
        let CatalogItem::Source { owner, .. } = &entry.item else {
            continue;
        };
        let (Some(relid), Some(server)) = (
            oids::of_item(entry.id),
            oids::of_item(owner.unwrap_or(entry.id)),
        ) else {
            continue;
        };
        r.push(vec![oid(relid), oid(server), Datum::Null]);
    }
    r
}

/// One server per source (`CREATE SOURCE`), with the OID and the name of the source's
/// main relation: the server its relations' rows come from (`pg_foreign_table`).
fn pg_foreign_server(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::from_spec(
        "oid:oid srvname:name srvowner:oid srvfdw:oid srvtype:text srvversion:text \
         srvacl:text[] srvoptions:text[]",
    );
    for entry in cx.catalog.entries() {
        let (CatalogItem::Source { owner: None, .. }, Some(server)) =
            (&entry.item, oids::of_item(entry.id))
        else {
            continue;
        };
        r.push(vec![
            oid(server),
            text(&entry.name),
            oid(SUPERUSER),
            oid(0),
            Datum::Null,
            Datum::Null,
            Datum::Null,
            Datum::Null,
        ]);
    }
    r
}

/// A `pg_attribute` row: column `i` (from 0) of relation `id`.
fn attribute_row(
    id: u32,
    i: usize,
    name: &str,
    typ: &ColumnType,
    not_null: bool,
    has_default: bool,
) -> Vec<Datum> {
    let t = TypeInfo::of(&typ.scalar_type);
    vec![
        oid(id),
        text(name),
        oid(typ.scalar_type.oid()),
        Datum::Int32(-1),
        Datum::Int16(t.len),
        Datum::Int16(i as i16 + 1),
        Datum::Int32(i32::from(matches!(typ.scalar_type, ScalarType::Array(_)))),
        Datum::Int32(-1),
        Datum::Int32(typmod(&typ.scalar_type)),
        Datum::Bool(t.by_value),
        text(t.align),
        text(t.storage),
        text(""),
        Datum::Bool(not_null),
        Datum::Bool(has_default),
        Datum::Bool(false),
        text(""),
        text(""),
        Datum::Bool(false),
        Datum::Bool(true),
        Datum::Int32(0),
        oid(if typ.scalar_type.is_string_like() {
            DEFAULT_COLLATION
        } else {
            0
        }),
        Datum::Null,
        Datum::Null,
        Datum::Null,
        Datum::Null,
    ]
}

/// `atttypmod`: the declared length or precision of a column, -1 for none.
pub(super) fn typmod(typ: &ScalarType) -> i32 {
    match typ {
        ScalarType::VarChar {
            max_length: Some(n),
        } => *n as i32 + 4,
        ScalarType::Char { length } => *length as i32 + 4,
        ScalarType::Numeric {
            typmod: Some((p, s)),
        } => (((*p << 16) | *s) + 4) as i32,
        _ => -1,
    }
}

/// How PostgreSQL stores a type: what `pg_type` and `pg_attribute` say of it.
pub(super) struct TypeInfo {
    pub name: &'static str,
    pub len: i16,
    pub by_value: bool,
    pub category: &'static str,
    pub align: &'static str,
    pub storage: &'static str,
    pub preferred: bool,
}

impl TypeInfo {
    pub fn of(typ: &ScalarType) -> TypeInfo {
        let t = |name, len, by_value, category, align, storage, preferred| TypeInfo {
            name,
            len,
            by_value,
            category,
            align,
            storage,
            preferred,
        };
        match typ {
            ScalarType::Bool => t("bool", 1, true, "B", "c", "p", true),
            ScalarType::Int16 => t("int2", 2, true, "N", "s", "p", false),
            ScalarType::Int32 => t("int4", 4, true, "N", "i", "p", false),
            ScalarType::Int64 => t("int8", 8, true, "N", "d", "p", false),
            ScalarType::Float32 => t("float4", 4, true, "N", "i", "p", false),
            ScalarType::Float64 => t("float8", 8, true, "N", "d", "p", true),
            ScalarType::Numeric { .. } => t("numeric", -1, false, "N", "i", "m", false),
            ScalarType::String => t("text", -1, false, "S", "i", "x", true),
            ScalarType::VarChar { .. } => t("varchar", -1, false, "S", "i", "x", false),
            ScalarType::Char { .. } => t("bpchar", -1, false, "S", "i", "x", false),
            ScalarType::Bytes => t("bytea", -1, false, "U", "i", "x", false),
            ScalarType::Date => t("date", 4, true, "D", "i", "p", false),
            ScalarType::Time => t("time", 8, true, "D", "d", "p", false),
            ScalarType::Timestamp => t("timestamp", 8, true, "D", "d", "p", false),
            ScalarType::TimestampTz => t("timestamptz", 8, true, "D", "d", "p", true),
            ScalarType::Interval => t("interval", 16, false, "T", "d", "p", true),
            ScalarType::Jsonb => t("jsonb", -1, false, "U", "i", "x", false),
            ScalarType::Uuid => t("uuid", 16, false, "U", "c", "p", false),
            ScalarType::Oid => t("oid", 4, true, "N", "i", "p", true),
            ScalarType::Reg(kind) => t(kind.sql_name(), 4, true, "N", "i", "p", false),
            ScalarType::Int2Vector => t("int2vector", -1, false, "A", "i", "p", false),
            ScalarType::OidVector => t("oidvector", -1, false, "A", "i", "p", false),
            ScalarType::Unknown => t("unknown", -2, false, "X", "c", "p", false),
            ScalarType::Void => t("void", 4, true, "P", "i", "p", false),
            ScalarType::Array(elem) => {
                let align = if TypeInfo::of(elem).align == "d" {
                    "d"
                } else {
                    "i"
                };
                t(array_name(elem), -1, false, "A", align, "x", false)
            }
        }
    }
}

fn array_name(elem: &ScalarType) -> &'static str {
    match elem {
        ScalarType::Bool => "_bool",
        ScalarType::Int16 => "_int2",
        ScalarType::Int32 => "_int4",
        ScalarType::Int64 => "_int8",
        ScalarType::Float32 => "_float4",
        ScalarType::Float64 => "_float8",
        ScalarType::Numeric { .. } => "_numeric",
        ScalarType::VarChar { .. } => "_varchar",
        ScalarType::Char { .. } => "_bpchar",
        ScalarType::Bytes => "_bytea",
        ScalarType::Date => "_date",
        ScalarType::Time => "_time",
        ScalarType::Timestamp => "_timestamp",
        ScalarType::TimestampTz => "_timestamptz",
        ScalarType::Interval => "_interval",
        ScalarType::Jsonb => "_jsonb",
        ScalarType::Uuid => "_uuid",
        ScalarType::Oid => "_oid",
        ScalarType::Reg(RegKind::Class) => "_regclass",
        ScalarType::Reg(RegKind::Type) => "_regtype",
        ScalarType::Reg(RegKind::Proc) => "_regproc",
        ScalarType::Reg(RegKind::Namespace) => "_regnamespace",
        ScalarType::Reg(RegKind::Role) => "_regrole",
        ScalarType::Int2Vector => "_int2vector",
        ScalarType::OidVector => "_oidvector",
        _ => "_text",
    }
}

/// Every type a column can have, each once (arrays of each element type included).
pub fn all_types() -> Vec<ScalarType> {
    let elements = [
        ScalarType::Bool,
        ScalarType::Int16,
        ScalarType::Int32,
        ScalarType::Int64,
        ScalarType::Float32,
        ScalarType::Float64,
        ScalarType::Numeric { typmod: None },
        ScalarType::String,
        ScalarType::VarChar { max_length: None },
        ScalarType::Char { length: 1 },
        ScalarType::Bytes,
        ScalarType::Date,
        ScalarType::Time,
        ScalarType::Timestamp,
        ScalarType::TimestampTz,
        ScalarType::Interval,
        ScalarType::Jsonb,
        ScalarType::Uuid,
        ScalarType::Oid,
        ScalarType::Reg(RegKind::Class),
        ScalarType::Reg(RegKind::Type),
        ScalarType::Reg(RegKind::Proc),
        ScalarType::Reg(RegKind::Namespace),
        ScalarType::Reg(RegKind::Role),
        ScalarType::Int2Vector,
        ScalarType::OidVector,
    ];
    let mut all: Vec<ScalarType> = elements.to_vec();
    all.extend(
        elements
            .iter()
            .map(|e| ScalarType::Array(Box::new(e.clone()))),
    );
    all.push(ScalarType::Unknown);
    all.push(ScalarType::Void);
    all
}

fn pg_type() -> SystemRelation {
    let mut r = SystemRelation::new(&[
        ("oid", Oid),
        ("typname", Text),
        ("typnamespace", Oid),
        ("typowner", Oid),
        ("typlen", Int16),
        ("typbyval", Bool),
        ("typtype", Text),
        ("typcategory", Text),
        ("typispreferred", Bool),
        ("typisdefined", Bool),
        ("typdelim", Text),
        ("typrelid", Oid),
        ("typsubscript", Text),
        ("typelem", Oid),
        ("typarray", Oid),
        ("typinput", Text),
        ("typoutput", Text),
        ("typreceive", Text),
        ("typsend", Text),
        ("typmodin", Text),
        ("typmodout", Text),
        ("typanalyze", Text),
        ("typalign", Text),
        ("typstorage", Text),
        ("typnotnull", Bool),
        ("typbasetype", Oid),
        ("typtypmod", Int32),
        ("typndims", Int32),
        ("typcollation", Oid),
        ("typdefaultbin", Text),
        ("typdefault", Text),
        ("typacl", text_array()),
    ]);
    for typ in all_types() {
        let info = TypeInfo::of(&typ);
        let (elem, array) = match &typ {
            ScalarType::Array(e) => (e.oid(), 0),
            ScalarType::Int2Vector | ScalarType::OidVector => (
                typ.vector_element().map_or(0, |e| e.oid()),
                ScalarType::Array(Box::new(typ.clone())).oid(),
            ),
            ScalarType::Unknown => (0, 0),
            other => (0, ScalarType::Array(Box::new(other.clone())).oid()),
        };
        r.push(vec![
            oid(typ.oid()),
            text(info.name),
            oid(PG_CATALOG_NAMESPACE),
            oid(SUPERUSER),
            Datum::Int16(info.len),
            Datum::Bool(info.by_value),
            text(if matches!(typ, ScalarType::Unknown | ScalarType::Void) {
                "p"
            } else {
                "b"
            }),
            text(info.category),
            Datum::Bool(info.preferred),
            Datum::Bool(true),
            text(","),
            oid(0),
            Datum::Null,
            oid(elem),
            oid(array),
            Datum::Null,
            Datum::Null,
            Datum::Null,
            Datum::Null,
            Datum::Null,
            Datum::Null,
            Datum::Null,
            text(info.align),
            text(info.storage),
            Datum::Bool(false),
            oid(0),
            Datum::Int32(-1),
            Datum::Int32(0),
            oid(if typ.is_string_like() {
                DEFAULT_COLLATION
            } else {
                0
            }),
            Datum::Null,
            Datum::Null,
            Datum::Null,
        ]);
    }
    r
}

fn pg_am() -> SystemRelation {
    let mut r = SystemRelation::new(&[
        ("oid", Oid),
        ("amname", Text),
        ("amhandler", Text),
        ("amtype", Text),
    ]);
    r.push(vec![
        oid(HEAP_ACCESS_METHOD),
        text("heap"),
        text("heap_tableam_handler"),
        text("t"),
    ]);
    r.push(vec![
        oid(BTREE_ACCESS_METHOD),
        text("btree"),
        text("bthandler"),
        text("i"),
    ]);
    r
}

fn pg_index(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::new(&[
        ("indexrelid", Oid),
        ("indrelid", Oid),
        ("indnatts", Int16),
        ("indnkeyatts", Int16),
        ("indisunique", Bool),
        ("indnullsnotdistinct", Bool),
        ("indisprimary", Bool),
        ("indisexclusion", Bool),
        ("indimmediate", Bool),
        ("indisclustered", Bool),
        ("indisvalid", Bool),
        ("indcheckxmin", Bool),
        ("indisready", Bool),
        ("indislive", Bool),
        ("indisreplident", Bool),
        ("indkey", ScalarType::Int2Vector),
        ("indcollation", ScalarType::OidVector),
        ("indclass", ScalarType::OidVector),
        ("indoption", ScalarType::Int2Vector),
        ("indexprs", Text),
        ("indpred", Text),
    ]);
    for (id, entry) in relations(cx) {
        let CatalogItem::Index {
            on,
            keys,
            key_sql,
            unique,
        } = &entry.item
        else {
            continue;
        };
        let Some(on_oid) = oids::of_item(*on) else {
            continue;
        };
        let key_columns: Vec<i16> = keys
            .iter()
            .map(|k| match k {
                ScalarExpr::Column(c) => *c as i16 + 1,
                _ => 0,
            })
            .collect();
        let expressions: Vec<&str> = keys
            .iter()
            .zip(key_sql)
            .filter(|(k, _)| !matches!(k, ScalarExpr::Column(_)))
            .map(|(_, s)| s.as_str())
            .collect();
        let expressions = (!expressions.is_empty()).then(|| expressions.join(", "));
        r.push(index_row(
            id,
            on_oid,
            &key_columns,
            unique.is_some(),
            false,
            expressions,
        ));
    }
    for index in key_indexes(cx) {
        let key_columns: Vec<i16> = index.key.columns.iter().map(|c| *c as i16 + 1).collect();
        r.push(index_row(
            index.oid,
            index.table_oid,
            &key_columns,
            true,
            index.key.primary,
            None,
        ));
    }
    r
}

/// A `pg_index` row: `key_columns` are attribute numbers (0 for an expression, whose SQL
/// `expressions` holds).
fn index_row(
    id: u32,
    on: u32,
    key_columns: &[i16],
    unique: bool,
    primary: bool,
    expressions: Option<String>,
) -> Vec<Datum> {
    let n = key_columns.len();
    vec![
        oid(id),
        oid(on),
        Datum::Int16(n as i16),
        Datum::Int16(n as i16),
        Datum::Bool(unique),
        Datum::Bool(false),
        Datum::Bool(primary),
        Datum::Bool(false),
        Datum::Bool(true),
        Datum::Bool(false),
        Datum::Bool(true),
        Datum::Bool(false),
        Datum::Bool(true),
        Datum::Bool(true),
        Datum::Bool(false),
        Datum::Array(key_columns.iter().map(|c| Datum::Int16(*c)).collect()),
        Datum::Array(vec![oid(0); n]),
        Datum::Array(vec![oid(0); n]),
        Datum::Array(vec![Datum::Int16(0); n]),
        expressions.map_or(Datum::Null, Datum::String),
        Datum::Null,
    ]
}

fn pg_database(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::new(&[
        ("oid", Oid),
        ("datname", Text),
        ("datdba", Oid),
        ("encoding", Int32),
        ("datlocprovider", Text),
        ("datistemplate", Bool),
        ("datallowconn", Bool),
        ("datconnlimit", Int32),
        ("datfrozenxid", XID),
        ("datminmxid", XID),
        ("dattablespace", Oid),
        ("datcollate", Text),
        ("datctype", Text),
        ("daticulocale", Text),
        ("datcollversion", Text),
        ("datacl", text_array()),
    ]);
    r.push(vec![
        oid(DATABASE),
        text(cx.database),
        oid(SUPERUSER),
        Datum::Int32(UTF8_ENCODING),
        text("c"),
        Datum::Bool(false),
        Datum::Bool(true),
        Datum::Int32(-1),
        Datum::Null,
        Datum::Null,
        oid(DEFAULT_TABLESPACE),
        text("C"),
        text("C"),
        Datum::Null,
        Datum::Null,
        Datum::Null,
    ]);
    r
}

/// PostgreSQL's number for the UTF8 encoding (`pg_encoding_to_char(6)`).
pub const UTF8_ENCODING: i32 = 6;
const DEFAULT_TABLESPACE: u32 = 1663;

fn pg_roles(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::new(&[
        ("rolname", Text),
        ("rolsuper", Bool),
        ("rolinherit", Bool),
        ("rolcreaterole", Bool),
        ("rolcreatedb", Bool),
        ("rolcanlogin", Bool),
        ("rolreplication", Bool),
        ("rolconnlimit", Int32),
        ("rolpassword", Text),
        ("rolvaliduntil", TimestampTz),
        ("rolbypassrls", Bool),
        ("rolconfig", text_array()),
        ("oid", Oid),
    ]);
    r.push(vec![
        text(cx.user),
        Datum::Bool(true),
        Datum::Bool(true),
        Datum::Bool(true),
        Datum::Bool(true),
        Datum::Bool(true),
        Datum::Bool(false),
        Datum::Int32(-1),
        text("********"),
        Datum::Null,
        Datum::Bool(true),
        Datum::Null,
        oid(SUPERUSER),
    ]);
    r
}

fn pg_user(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::new(&[
        ("usename", Text),
        ("usesysid", Oid),
        ("usecreatedb", Bool),
        ("usesuper", Bool),
        ("userepl", Bool),
        ("usebypassrls", Bool),
        ("passwd", Text),
        ("valuntil", TimestampTz),
        ("useconfig", text_array()),
    ]);
    r.push(vec![
        text(cx.user),
        oid(SUPERUSER),
        Datum::Bool(true),
        Datum::Bool(true),
        Datum::Bool(false),
        Datum::Bool(true),
        text("********"),
        Datum::Null,
        Datum::Null,
    ]);
    r
}

/// The query of a view or materialized view, from the statement that created it.
pub fn view_definition(entry: &CatalogEntry) -> Option<String> {
    use crate::sql::parse::Statement;
    let statements = crate::sql::parse::parse(&entry.create_sql).ok()?;
    match statements.into_iter().next()? {
        Statement::Sql(statement) => match *statement {
            sqlparser::ast::Statement::CreateView(view) => Some(format!(" {};", view.query)),
            _ => None,
        },
        _ => None,
    }
}

/// PRIMARY KEY (`p`) and UNIQUE (`u`) constraints of tables; a unique index's key is an
/// index, not a constraint, as in PostgreSQL.
fn pg_constraint(cx: &SystemContext) -> SystemRelation {
    let oids_type = ScalarType::Array(Box::new(Oid));
    let int2s = ScalarType::Array(Box::new(Int16));
    let mut r = SystemRelation::new(&[
        ("oid", Oid),
        ("conname", Text),
        ("connamespace", Oid),
        ("contype", Text),
        ("condeferrable", Bool),
        ("condeferred", Bool),
        ("convalidated", Bool),
        ("conrelid", Oid),
        ("contypid", Oid),
        ("conindid", Oid),
        ("conparentid", Oid),
        ("confrelid", Oid),
        ("confupdtype", Text),
        ("confdeltype", Text),
        ("confmatchtype", Text),
        ("conislocal", Bool),
        ("coninhcount", Int32),
        ("connoinherit", Bool),
        ("conkey", int2s.clone()),
        ("confkey", int2s.clone()),
        ("conpfeqop", oids_type.clone()),
        ("conppeqop", oids_type.clone()),
        ("conffeqop", oids_type.clone()),
        ("confdelsetcols", int2s),
        ("conexclop", oids_type),
        ("conbin", Text),
    ]);
    for (table_oid, entry) in relations(cx) {
        let CatalogItem::Table { keys, .. } = &entry.item else {
            continue;
        };
        for (n, key) in keys.iter().enumerate() {
            let (Some(constraint_oid), Some(index_oid)) = (
                oids::of_constraint(entry.id, n),
                oids::of_key_index(entry.id, n),
            ) else {
                continue;
            };
            r.push(vec![
                oid(constraint_oid),
                text(&key.name),
                oid(PUBLIC_NAMESPACE),
                text(if key.primary { "p" } else { "u" }),
                Datum::Bool(false),
                Datum::Bool(false),
                Datum::Bool(true),
                oid(table_oid),
                oid(0),
                oid(index_oid),
                oid(0),
                oid(0),
                text(" "),
                text(" "),
                text(" "),
                Datum::Bool(true),
                Datum::Int32(0),
                Datum::Bool(true),
                Datum::Array(
                    key.columns
                        .iter()
                        .map(|c| Datum::Int16(*c as i16 + 1))
                        .collect(),
                ),
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
            ]);
        }
    }
    r
}

/// Column defaults: `adbin` holds the default's SQL text (what `pg_get_expr` returns).
fn pg_attrdef(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::new(&[
        ("oid", Oid),
        ("adrelid", Oid),
        ("adnum", Int16),
        ("adbin", Text),
    ]);
    for (table_oid, entry) in relations(cx) {
        let CatalogItem::Table { defaults, desc, .. } = &entry.item else {
            continue;
        };
        for (column, default) in defaults.iter().enumerate() {
            let (Some(sql), Some(default_oid)) = (default, oids::of_default(entry.id, column))
            else {
                continue;
            };
            r.push(vec![
                oid(default_oid),
                oid(table_oid),
                Datum::Int16(column as i16 + 1),
                text(&default_expression(sql, &desc.types[column].scalar_type)),
            ]);
        }
    }
    r
}

/// A column default as PostgreSQL prints it back (`pg_get_expr` of `pg_attrdef.adbin`): a
/// string literal carries the column type's cast (`'pen'::text`), anything else reads as
/// written.
pub fn default_expression(sql: &str, typ: &ScalarType) -> String {
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    let parsed = sqlparser::parser::Parser::new(&dialect)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr());
    match parsed {
        Ok(sqlparser::ast::Expr::Value(v))
            if matches!(v.value, sqlparser::ast::Value::SingleQuotedString(_)) =>
        {
            let type_name = match typ {
                ScalarType::Char { .. } => "bpchar".to_string(),
                other => other.without_modifiers().sql_name(),
            };
            format!("{sql}::{type_name}")
        }
        _ => sql.to_string(),
    }
}

fn pg_tables(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::new(&[
        ("schemaname", Text),
        ("tablename", Text),
        ("tableowner", Text),
        ("tablespace", Text),
        ("hasindexes", Bool),
        ("hasrules", Bool),
        ("hastriggers", Bool),
        ("rowsecurity", Bool),
    ]);
    for (_, entry) in relations(cx) {
        if !matches!(entry.item, CatalogItem::Table { .. }) {
            continue;
        }
        r.push(vec![
            text(crate::catalog::DEFAULT_SCHEMA),
            text(&entry.name),
            text(cx.user),
            Datum::Null,
            Datum::Bool(has_index(cx, entry)),
            Datum::Bool(false),
            Datum::Bool(false),
            Datum::Bool(false),
        ]);
    }
    r
}

/// Whether a relation has an index: one of its own, or one behind a key.
fn has_index(cx: &SystemContext, entry: &CatalogEntry) -> bool {
    matches!(&entry.item, CatalogItem::Table { keys, .. } if !keys.is_empty())
        || cx
            .catalog
            .entries()
            .any(|e| matches!(&e.item, CatalogItem::Index { on, .. } if *on == entry.id))
}

fn pg_views(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::new(&[
        ("schemaname", Text),
        ("viewname", Text),
        ("viewowner", Text),
        ("definition", Text),
    ]);
    for (_, entry) in relations(cx) {
        if !matches!(entry.item, CatalogItem::View { .. }) {
            continue;
        }
        r.push(vec![
            text(crate::catalog::DEFAULT_SCHEMA),
            text(&entry.name),
            text(cx.user),
            view_definition(entry).map_or(Datum::Null, Datum::String),
        ]);
    }
    r
}

fn pg_matviews(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::new(&[
        ("schemaname", Text),
        ("matviewname", Text),
        ("matviewowner", Text),
        ("tablespace", Text),
        ("hasindexes", Bool),
        ("ispopulated", Bool),
        ("definition", Text),
    ]);
    for (_, entry) in relations(cx) {
        if !matches!(entry.item, CatalogItem::MaterializedView { .. }) {
            continue;
        }
        r.push(vec![
            text(crate::catalog::DEFAULT_SCHEMA),
            text(&entry.name),
            text(cx.user),
            Datum::Null,
            Datum::Bool(has_index(cx, entry)),
            Datum::Bool(true),
            view_definition(entry).map_or(Datum::Null, Datum::String),
        ]);
    }
    r
}

fn pg_indexes(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::new(&[
        ("schemaname", Text),
        ("tablename", Text),
        ("indexname", Text),
        ("tablespace", Text),
        ("indexdef", Text),
    ]);
    for index in index_definitions(cx) {
        r.push(vec![
            text(crate::catalog::DEFAULT_SCHEMA),
            text(&index.table),
            text(&index.name),
            Datum::Null,
            text(&index.definition),
        ]);
    }
    r
}

/// What `pg_get_indexdef` and `pg_indexes` say of an index.
pub struct IndexDefinition {
    pub oid: u32,
    pub name: String,
    pub table: String,
    /// `CREATE [UNIQUE] INDEX name ON public.table USING btree (keys)`, as PostgreSQL
    /// prints it (psql shows what follows `USING`; the pretty form leaves out the schema,
    /// which is on the search path).
    pub definition: String,
    /// Each key's column name or expression, in order.
    pub keys: Vec<String>,
}

/// Every index: the user's, then those behind keys.
pub fn index_definitions(cx: &SystemContext) -> Vec<IndexDefinition> {
    let mut all = Vec::new();
    for (id, entry) in relations(cx) {
        let CatalogItem::Index { on, unique, .. } = &entry.item else {
            continue;
        };
        let Some(table) = cx.catalog.get(*on) else {
            continue;
        };
        let keys: Vec<String> = index_columns(cx, &entry.item)
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        all.push(IndexDefinition {
            oid: id,
            name: entry.name.clone(),
            table: table.name.clone(),
            definition: format!(
                "CREATE {}INDEX {} ON {}.{} USING btree ({})",
                if unique.is_some() { "UNIQUE " } else { "" },
                entry.name,
                crate::catalog::DEFAULT_SCHEMA,
                table.name,
                keys.join(", ")
            ),
            keys,
        });
    }
    for index in key_indexes(cx) {
        all.push(IndexDefinition {
            oid: index.oid,
            name: index.key.name.clone(),
            table: index.table.name.clone(),
            definition: index.definition(),
            keys: index.columns().into_iter().map(|(name, _)| name).collect(),
        });
    }
    all
}

//! `pg_rewrite` and `pg_depend`: what views and materialized views read, as PostgreSQL
//! records it. Tools read these to learn what a `DROP ... CASCADE` takes with it (dbt keeps
//! its cache of relations by them).
//!
//! Each view and materialized view has one rule, `_RETURN` (its query), whose OID is
//! `oids::of_rule`. `pg_depend` has, per rule, PostgreSQL's internal dependency of the
//! relation on its rule (`deptype` `i`) and a normal one (`n`) of the rule on each relation
//! the query reads. Freshet records dependencies on whole relations, so `refobjsubid` is 0
//! where PostgreSQL has a row per column read. Nothing else (indexes, constraints, types)
//! has rows.

use super::oids::{self, PG_CLASS};
use super::{SystemContext, SystemRelation, oid, text};
use crate::catalog::{CatalogEntry, CatalogItem};
use crate::repr::Datum;

/// `pg_rewrite`'s own OID: the `classid` of a rule's dependencies.
const PG_REWRITE: u32 = 2618;

/// The views and materialized views, with their OIDs and their rules' OIDs.
fn rules<'a>(cx: &'a SystemContext) -> impl Iterator<Item = (u32, u32, &'a CatalogEntry)> + 'a {
    cx.catalog.entries().filter_map(|entry| match entry.item {
        CatalogItem::View { .. } | CatalogItem::MaterializedView { .. } => {
            Some((oids::of_item(entry.id)?, oids::of_rule(entry.id)?, entry))
        }
        _ => None,
    })
}

pub fn pg_rewrite(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::from_spec(
        "oid:oid rulename:name ev_class:oid ev_type:char ev_enabled:char is_instead:bool \
         ev_qual:text ev_action:text",
    );
    for (view, rule, _) in rules(cx) {
        // A SELECT rule (`1`), always enabled (`O`), INSTEAD, with no condition (`<>`); its
        // query as a node tree Freshet does not have.
        r.push(vec![
            oid(rule),
            text("_RETURN"),
            oid(view),
            text("1"),
            text("O"),
            Datum::Bool(true),
            text("<>"),
            Datum::Null,
        ]);
    }
    r
}

pub fn pg_depend(cx: &SystemContext) -> SystemRelation {
    let mut r = SystemRelation::from_spec(
        "classid:oid objid:oid objsubid:int4 refclassid:oid refobjid:oid refobjsubid:int4 \
         deptype:char",
    );
    let row = |rule: u32, relation: u32, deptype: &str| {
        vec![
            oid(PG_REWRITE),
            oid(rule),
            Datum::Int32(0),
            oid(PG_CLASS),
            oid(relation),
            Datum::Int32(0),
            text(deptype),
        ]
    };
    for (view, rule, entry) in rules(cx) {
        r.push(row(rule, view, "i"));
        for used in entry.item.uses() {
            if let Some(used) = oids::of_item(used).filter(|_| cx.catalog.get(used).is_some()) {
                r.push(row(rule, used, "n"));
            }
        }
    }
    r
}

//! View inlining and index selection: a `Get` of a (non-materialized) view becomes the
//! view's definition, or a `Get` of an index on the view when one exists (reading the
//! arrangement the index already maintains instead of recomputing the view).

use crate::catalog::{Catalog, CatalogItem};
use crate::expr::{Id, LocalId, RelationExpr};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Local ids handed to inlined view bodies: far above the ids a statement's planner uses,
/// and never reused, so an inlined body's `Let`s never collide with the query's.
static NEXT_INLINED_LOCAL: AtomicU64 = AtomicU64::new(1 << 40);

/// The expression with every `Let` binding given a fresh id.
fn renumber_locals(expr: RelationExpr) -> RelationExpr {
    fn go(expr: RelationExpr, map: &mut BTreeMap<LocalId, LocalId>) -> RelationExpr {
        match expr {
            RelationExpr::Let { id, value, body } => {
                let value = go(*value, map);
                let fresh = LocalId(NEXT_INLINED_LOCAL.fetch_add(1, Ordering::Relaxed));
                let shadowed = map.insert(id, fresh);
                let body = go(*body, map);
                match shadowed {
                    Some(previous) => map.insert(id, previous),
                    None => map.remove(&id),
                };
                RelationExpr::Let {
                    id: fresh,
                    value: Box::new(value),
                    body: Box::new(body),
                }
            }
            RelationExpr::LetRec {
                ids,
                values,
                limit,
                body,
            } => {
                // The bindings are visible in every value and in the body.
                let fresh: Vec<LocalId> = ids
                    .iter()
                    .map(|_| LocalId(NEXT_INLINED_LOCAL.fetch_add(1, Ordering::Relaxed)))
                    .collect();
                let shadowed: Vec<Option<LocalId>> = ids
                    .iter()
                    .zip(&fresh)
                    .map(|(id, new)| map.insert(*id, *new))
                    .collect();
                let values = values.into_iter().map(|v| go(v, map)).collect();
                let body = go(*body, map);
                for (id, previous) in ids.iter().zip(shadowed) {
                    match previous {
                        Some(previous) => map.insert(*id, previous),
                        None => map.remove(id),
                    };
                }
                RelationExpr::LetRec {
                    ids: fresh,
                    values,
                    limit,
                    body: Box::new(body),
                }
            }
            RelationExpr::Get {
                id: Id::Local(l),
                typ,
            } => RelationExpr::Get {
                id: Id::Local(map.get(&l).copied().unwrap_or(l)),
                typ,
            },
            other => super::map_children(other, &mut |e| go(e, map)),
        }
    }
    go(expr, &mut BTreeMap::new())
}

pub fn inline_views(expr: RelationExpr, catalog: &Catalog) -> RelationExpr {
    let expr = super::map_children(expr, &mut |e| inline_views(e, catalog));
    if let RelationExpr::Get {
        id: Id::Global(id),
        typ,
    } = &expr
        && let Some(entry) = catalog.get(*id)
        && let CatalogItem::View {
            expr: definition, ..
        } = &entry.item
    {
        if let Some(index) = catalog.indexes_on(*id).first() {
            return RelationExpr::global_get(index.id, typ.clone());
        }
        return inline_views(renumber_locals(definition.clone()), catalog);
    }
    expr
}

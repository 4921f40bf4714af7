//! View inlining and index selection: a `Get` of a (non-materialized) view becomes the
//! view's definition, or a `Get` of an index on the view when one exists (reading the
//! arrangement the index already maintains instead of recomputing the view).

use crate::catalog::{Catalog, CatalogItem};
use crate::expr::{Id, RelationExpr};

pub fn inline_views(expr: RelationExpr, catalog: &Catalog) -> RelationExpr {
    let expr = super::map_children(expr, &mut |e| inline_views(e, catalog));
    if let RelationExpr::Get {
        id: Id::Global(id),
        typ,
    } = &expr
    {
        if let Some(entry) = catalog.get(*id) {
            if let CatalogItem::View {
                expr: definition, ..
            } = &entry.item
            {
                if let Some(index) = catalog.indexes_on(*id).first() {
                    return RelationExpr::global_get(index.id, typ.clone());
                }
                return inline_views(definition.clone(), catalog);
            }
        }
    }
    expr
}

//! Join normalization: nested joins become one multi-way join (with their equivalences
//! shifted to the outer column numbering), and inputs with no columns and exactly one row
//! (the planner's unit relation) are dropped.

use crate::expr::RelationExpr;
use crate::repr::Row;

pub fn flatten(expr: RelationExpr) -> RelationExpr {
    let expr = super::map_children(expr, &mut flatten);
    match expr {
        RelationExpr::Join {
            inputs,
            equivalences,
        } => {
            let mut flat = Vec::new();
            let mut equivs = equivalences;
            let mut offset = 0;
            for input in inputs {
                match input {
                    RelationExpr::Join {
                        inputs: inner,
                        equivalences: inner_equivs,
                    } => {
                        for mut class in inner_equivs {
                            for e in &mut class {
                                e.shift_columns(offset);
                            }
                            equivs.push(class);
                        }
                        for i in inner {
                            offset += i.arity();
                            flat.push(i);
                        }
                    }
                    other => {
                        offset += other.arity();
                        flat.push(other);
                    }
                }
            }
            flat.retain(|i| !is_unit(i));
            match flat.len() {
                0 => RelationExpr::constant(vec![Row::empty()], vec![]),
                1 if equivs.is_empty() => flat.pop().expect("one input"),
                _ => RelationExpr::Join {
                    inputs: flat,
                    equivalences: equivs,
                },
            }
        }
        other => other,
    }
}

/// One row with no columns: the identity of the cross product.
fn is_unit(expr: &RelationExpr) -> bool {
    match expr {
        RelationExpr::Constant {
            rows: Ok(rows),
            typ,
        } => typ.is_empty() && rows.len() == 1 && rows[0].1 == 1,
        _ => false,
    }
}

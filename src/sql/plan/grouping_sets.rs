//! `GROUP BY` with `GROUPING SETS`, `ROLLUP` and `CUBE`, expanded into a list of grouping
//! sets over one list of expressions.
//!
//! `GROUP BY a, ROLLUP (b, c)` is the sets `(a, b, c), (a, b), (a)`: each item of the GROUP
//! BY gives a list of sets (a plain expression one set of itself; `ROLLUP (e1, ..., en)` its
//! n + 1 prefixes; `CUBE` all 2^n subsets; `GROUPING SETS (...)` the sets listed), and the
//! GROUP BY is their cross product, as in PostgreSQL. The query then groups once per set,
//! the keys outside the set NULL, and the results are concatenated (duplicate sets give
//! duplicate rows, as in PostgreSQL).

use crate::sql::{PlanError, Result};
use sqlparser::ast::Expr;

/// At most this many expressions in one CUBE: 2^n sets, each a separate grouping.
const MAX_CUBE: usize = 10;

/// Grouping sets, each as positions in the list of GROUP BY expressions.
pub type Sets = Vec<Vec<usize>>;

/// The distinct GROUP BY expressions, and, when the GROUP BY has grouping sets, each set as
/// positions in them. `None`: a plain GROUP BY of the expressions.
pub fn expand(group_by: &[Expr]) -> Result<(Vec<Expr>, Option<Sets>)> {
    let has_sets = group_by
        .iter()
        .any(|e| matches!(e, Expr::Rollup(_) | Expr::Cube(_) | Expr::GroupingSets(_)));
    if !has_sets {
        return Ok((group_by.to_vec(), None));
    }
    // Sets of expressions, the cross product of each item's sets.
    let mut sets: Vec<Vec<&Expr>> = vec![vec![]];
    for item in group_by {
        let item_sets: Vec<Vec<&Expr>> = match item {
            Expr::Rollup(groups) => {
                check_flat(groups)?;
                (0..=groups.len())
                    .rev()
                    .map(|n| groups[..n].iter().flatten().collect())
                    .collect()
            }
            Expr::Cube(groups) => {
                check_flat(groups)?;
                if groups.len() > MAX_CUBE {
                    return Err(PlanError::unsupported(format!(
                        "CUBE of more than {MAX_CUBE} elements"
                    )));
                }
                let n = groups.len();
                (0..1usize << n)
                    .rev()
                    .map(|mask| {
                        (0..n)
                            .filter(|i| mask & (1 << (n - 1 - i)) != 0)
                            .flat_map(|i| groups[i].iter())
                            .collect()
                    })
                    .collect()
            }
            Expr::GroupingSets(groups) => {
                check_flat(groups)?;
                groups.iter().map(|g| g.iter().collect()).collect()
            }
            plain => vec![vec![plain]],
        };
        sets = sets
            .iter()
            .flat_map(|set| {
                item_sets.iter().map(move |extra| {
                    let mut combined = set.clone();
                    combined.extend(extra.iter().copied());
                    combined
                })
            })
            .collect();
    }
    let mut exprs: Vec<Expr> = Vec::new();
    let mut positions = Vec::with_capacity(sets.len());
    for set in sets {
        let mut set_positions = Vec::with_capacity(set.len());
        for e in set {
            let p = match exprs.iter().position(|x| x == e) {
                Some(p) => p,
                None => {
                    exprs.push(e.clone());
                    exprs.len() - 1
                }
            };
            if !set_positions.contains(&p) {
                set_positions.push(p);
            }
        }
        positions.push(set_positions);
    }
    Ok((exprs, Some(positions)))
}

fn check_flat(groups: &[Vec<Expr>]) -> Result<()> {
    if groups
        .iter()
        .flatten()
        .any(|e| matches!(e, Expr::Rollup(_) | Expr::Cube(_) | Expr::GroupingSets(_)))
    {
        return Err(PlanError::unsupported(
            "ROLLUP, CUBE or GROUPING SETS nested inside another",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::ast::Ident;

    fn col(name: &str) -> Expr {
        Expr::Identifier(Ident::new(name))
    }

    #[test]
    fn rollup_after_a_plain_key_gives_its_prefixes() {
        let (exprs, sets) =
            expand(&[col("a"), Expr::Rollup(vec![vec![col("b")], vec![col("c")]])]).unwrap();
        assert_eq!(exprs, vec![col("a"), col("b"), col("c")]);
        assert_eq!(sets.unwrap(), vec![vec![0, 1, 2], vec![0, 1], vec![0]]);
    }

    #[test]
    fn cube_gives_every_subset() {
        let (_, sets) = expand(&[Expr::Cube(vec![vec![col("a")], vec![col("b")]])]).unwrap();
        assert_eq!(sets.unwrap(), vec![vec![0, 1], vec![0], vec![1], vec![]]);
    }
}

//! TopK: per group (`group_key` columns), the rows ranked `offset .. offset + limit` under
//! `order_key`, ties broken by the whole row. A change to a group recomputes that group
//! only; other groups are untouched.

use super::{Errs, Oks, RenderTime};
use crate::expr::ColumnOrder;
use crate::expr::func::compare_rows;
use crate::repr::{Diff, Row};

pub fn render<'s, T: RenderTime>(
    (oks, errs): (Oks<'s, T>, Errs<'s, T>),
    group_key: &[usize],
    order_key: &[ColumnOrder],
    limit: Option<usize>,
    offset: usize,
) -> (Oks<'s, T>, Errs<'s, T>) {
    let group_key = group_key.to_vec();
    let order = order_key.to_vec();
    let keyed = oks.map(move |row| (row.project(&group_key), row));
    let ranked = keyed.reduce(
        move |_group, input: &[(&Row, Diff)], output: &mut Vec<(Row, Diff)>| {
            let mut rows: Vec<(&Row, Diff)> = input
                .iter()
                .filter(|(_, d)| *d > 0)
                .map(|(r, d)| (*r, *d))
                .collect();
            rows.sort_by(|(a, _), (b, _)| compare_rows(a, b, &order).then_with(|| a.cmp(b)));
            let mut skip = offset as Diff;
            let mut take = limit.map(|l| l as Diff).unwrap_or(Diff::MAX);
            for (row, count) in rows {
                if take == 0 {
                    break;
                }
                let skipped = skip.min(count);
                skip -= skipped;
                let kept = (count - skipped).min(take);
                if kept > 0 {
                    take -= kept;
                    output.push((row.clone(), kept));
                }
            }
        },
    );
    (ranked.map(|(_group, row)| row), errs)
}

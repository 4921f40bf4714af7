//! SQL comparison of two non-NULL datums of the same type.

use crate::repr::Datum;
use std::cmp::Ordering;

/// PostgreSQL's ordering of two non-NULL datums of one type: intervals by their comparison
/// key (`'1 month' = '30 days'`), everything else by the datum's total order (floats: NaN
/// equal to NaN and above every number; strings bytewise, as in the C locale).
pub fn sql_order(a: &Datum, b: &Datum) -> Ordering {
    match (a, b) {
        (Datum::Interval(x), Datum::Interval(y)) => x.comparison_key().cmp(&y.comparison_key()),
        (Datum::Array(x), Datum::Array(y)) => {
            for (l, r) in x.iter().zip(y.iter()) {
                let o = match (l.is_null(), r.is_null()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    (false, false) => sql_order(l, r),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => a.cmp(b),
    }
}

/// Compares two datums (NULL allowed) as one ORDER BY key: descending or not, NULLs last or
/// first, as PostgreSQL orders them.
pub fn compare_ordered(x: &Datum, y: &Datum, desc: bool, nulls_last: bool) -> Ordering {
    match (x.is_null(), y.is_null()) {
        (true, true) => Ordering::Equal,
        (true, false) => {
            if nulls_last {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (false, true) => {
            if nulls_last {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (false, false) => {
            let ord = sql_order(x, y);
            if desc { ord.reverse() } else { ord }
        }
    }
}

/// Compares key lists: `a[i]` against `b[i]` under `order[i] = (descending, nulls_last)`.
pub fn compare_keys(a: &[Datum], b: &[Datum], order: &[(bool, bool)]) -> Ordering {
    for (i, (desc, nulls_last)) in order.iter().enumerate() {
        let ord = compare_ordered(&a[i], &b[i], *desc, *nulls_last);
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// Compares rows under an ORDER BY, with PostgreSQL's NULL placement per key.
pub fn compare_rows(a: &[Datum], b: &[Datum], order: &[crate::expr::ColumnOrder]) -> Ordering {
    for o in order {
        let ord = compare_ordered(&a[o.column], &b[o.column], o.desc, o.nulls_last);
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

//! Renders result values as SQLite's sqllogictest prints them and compares them with a
//! record's expectation.
//!
//! Rendering follows the column letters of the record, not the engine's types (the corpus was
//! written once for every engine): `I` prints an integer (a fractional value is truncated, a
//! boolean is 1 or 0, as the PostgreSQL ODBC driver the corpus was checked with returns it),
//! `R` prints three decimals, `T` prints the text with every character outside printable
//! ASCII as `@`; NULL is `NULL` and the empty string `(empty)` in every column.

use super::script::{Expected, SortMode};

/// Renders one value for a column of type letter `ty`.
pub fn render(value: Option<&str>, ty: char) -> String {
    let Some(text) = value else {
        return "NULL".to_string();
    };
    if text.is_empty() {
        return "(empty)".to_string();
    }
    match ty {
        'I' => match text {
            "t" => "1".to_string(),
            "f" => "0".to_string(),
            _ => match text.parse::<i64>() {
                Ok(n) => n.to_string(),
                Err(_) => match text.parse::<f64>() {
                    Ok(x) if x.is_finite() => format!("{}", x.trunc() as i64),
                    _ => printable(text),
                },
            },
        },
        'R' => match text {
            "t" => "1.000".to_string(),
            "f" => "0.000".to_string(),
            _ => match text.parse::<f64>() {
                Ok(x) => format!("{x:.3}"),
                Err(_) => printable(text),
            },
        },
        _ => printable(text),
    }
}

fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '@' })
        .collect()
}

/// Puts rendered rows in the record's order and flattens them into values.
pub fn ordered_values(mut rows: Vec<Vec<String>>, sort: SortMode) -> Vec<String> {
    match sort {
        SortMode::NoSort => rows.into_iter().flatten().collect(),
        SortMode::RowSort => {
            rows.sort();
            rows.into_iter().flatten().collect()
        }
        SortMode::ValueSort => {
            let mut values: Vec<String> = rows.into_iter().flatten().collect();
            values.sort();
            values
        }
    }
}

/// The MD5 of the values, each followed by a newline (hex, lowercase).
pub fn md5_of(values: &[String]) -> String {
    let mut context = md5::Context::new();
    for value in values {
        context.consume(value.as_bytes());
        context.consume(b"\n");
    }
    format!("{:x}", context.finalize())
}

/// Whether the values (already ordered) meet the expectation.
pub fn matches(values: &[String], expected: &Expected) -> bool {
    match expected {
        Expected::Values(want) => values == want.as_slice(),
        Expected::Hash { count, md5 } => values.len() == *count && md5_of(values) == *md5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_render_by_the_records_column_letter() {
        assert_eq!(render(Some("12.5000"), 'I'), "12");
        assert_eq!(render(Some("-7.9"), 'I'), "-7");
        assert_eq!(render(Some("t"), 'I'), "1");
        assert_eq!(render(Some("2"), 'R'), "2.000");
        assert_eq!(render(Some("0.33333333"), 'R'), "0.333");
        assert_eq!(render(None, 'T'), "NULL");
        assert_eq!(render(Some(""), 'T'), "(empty)");
        assert_eq!(render(Some("a\tb"), 'T'), "a@b");
    }

    #[test]
    fn hashes_cover_each_value_and_its_newline() {
        // `printf '1\n2\n' | md5sum`
        assert_eq!(
            md5_of(&["1".to_string(), "2".to_string()]),
            "6ddb4095eb719e2a9f0a3f95677d24e0"
        );
    }

    #[test]
    fn rowsort_orders_whole_rows_and_valuesort_single_values() {
        let rows = vec![
            vec!["2".to_string(), "a".to_string()],
            vec!["10".to_string(), "b".to_string()],
        ];
        assert_eq!(
            ordered_values(rows.clone(), SortMode::RowSort),
            vec!["10", "b", "2", "a"]
        );
        assert_eq!(
            ordered_values(rows, SortMode::ValueSort),
            vec!["10", "2", "a", "b"]
        );
    }
}

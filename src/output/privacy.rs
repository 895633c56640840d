//! Small-cell suppression for public outputs.
//!
//! Counts from 1 to `threshold - 1` print as `<threshold>` (e.g. `<11`). Two table shapes:
//! - **per row** (one row per period, columns are different measures): a `X_pct` column is hidden
//!   when `X` is, and every `<prefix>_*` statistic is hidden when its `<prefix>_n` count is.
//! - **additive** (rows partition a total, e.g. calls by reason): after primary suppression, a
//!   column with exactly one hidden cell gets its smallest other non-zero cell hidden too
//!   (complementary suppression), so no hidden cell can be recovered by subtracting from a total.
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    PerRow,
    Additive,
}

/// A table ready to publish: display text per cell, with which cells were hidden.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub hidden: Vec<Vec<bool>>,
}

/// Shown for a cell hidden only so that a small count next to it cannot be recovered.
pub const COMPLEMENT: &str = "(suppressed)";

/// Columns that must never reach a public output (addresses, caller details, free text, raw types).
pub fn forbidden_column(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    const EXACT: &[&str] = &[
        "address",
        "narrative",
        "narratives",
        "comments",
        "comment",
        "notes",
        "remarks",
        "disposition_raw",
        "initial_type",
        "final_type",
        "call_type",
        "priority_raw",
        "record",
        "location",
        "latitude",
        "longitude",
        "lat",
        "lon",
    ];
    EXACT.contains(&n.as_str()) || n.starts_with("caller") || n.ends_with("_address")
}

fn is_count(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
    )
}

/// Suppress small counts in query results. Integer columns are counts; floats are statistics.
pub fn suppress(batches: &[RecordBatch], shape: Shape, threshold: i64) -> Result<PublicTable> {
    let Some(first) = batches.first() else {
        return Ok(PublicTable { columns: Vec::new(), rows: Vec::new(), hidden: Vec::new() });
    };
    let schema = first.schema();
    let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    if let Some(bad) = columns.iter().find(|c| forbidden_column(c)) {
        return Err(Error::Refused(format!("column `{bad}` may identify people or places and is never published")));
    }
    let counts: Vec<bool> = schema.fields().iter().map(|f| is_count(f.data_type())).collect();
    let rows: Vec<Vec<String>> = crate::output::report::rows_as_text(batches)?
        .into_iter()
        .map(|r| r.into_iter().map(|c| c.unwrap_or_default()).collect())
        .collect();
    let value = |s: &str| s.replace(',', "").parse::<i64>().ok();
    let mut complement = vec![vec![false; columns.len()]; rows.len()];
    let mut hidden: Vec<Vec<bool>> = rows
        .iter()
        .map(|r| {
            r.iter().enumerate().map(|(j, s)| counts[j] && value(s).is_some_and(|v| v > 0 && v < threshold)).collect()
        })
        .collect();
    match shape {
        Shape::PerRow => {
            for (i, _) in rows.iter().enumerate() {
                for (j, name) in columns.iter().enumerate() {
                    let governed_by = if let Some(base) = name.strip_suffix("_pct") {
                        columns.iter().position(|c| c == base)
                    } else if let Some((prefix, _)) = name.split_once('_') {
                        columns.iter().position(|c| *c == format!("{prefix}_n")).filter(|&k| k != j)
                    } else {
                        None
                    };
                    if governed_by.is_some_and(|k| hidden[i][k]) {
                        hidden[i][j] = true;
                    }
                }
            }
        }
        Shape::Additive => {
            for j in (0..columns.len()).filter(|&j| counts[j]) {
                let n_hidden = hidden.iter().filter(|h| h[j]).count();
                if n_hidden == 1 && rows.len() > 1 {
                    let next = (0..rows.len())
                        .filter(|&i| !hidden[i][j])
                        .filter_map(|i| value(&rows[i][j]).filter(|v| *v > 0).map(|v| (v, i)))
                        .min();
                    if let Some((_, i)) = next {
                        hidden[i][j] = true;
                        complement[i][j] = true;
                    }
                }
            }
        }
    }
    let label = format!("<{threshold}");
    let rows = rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.into_iter()
                .enumerate()
                .map(|(j, s)| match (hidden[i][j], complement[i][j]) {
                    (true, true) => COMPLEMENT.to_string(),
                    (true, false) => label.clone(),
                    _ => s,
                })
                .collect()
        })
        .collect();
    Ok(PublicTable { columns, rows, hidden })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    use super::*;

    fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
        let schema = Arc::new(Schema::new(
            cols.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect::<Vec<_>>(),
        ));
        RecordBatch::try_new(schema, cols.into_iter().map(|(_, a)| a).collect()).unwrap()
    }

    #[test]
    fn additive_tables_get_complementary_suppression() {
        let b = batch(vec![
            ("reason", Arc::new(StringArray::from(vec!["a", "b", "c", "d"])) as ArrayRef),
            ("calls", Arc::new(Int64Array::from(vec![250, 4, 30, 0])) as ArrayRef),
        ]);
        let t = suppress(&[b], Shape::Additive, 11).unwrap();
        let calls: Vec<&str> = t.rows.iter().map(|r| r[1].as_str()).collect();
        // `b` is small; the next smallest non-zero (`c`) is hidden too, zero stays visible.
        assert_eq!(calls, ["250", "<11", "(suppressed)", "0"]);
        // Nothing recoverable: no column with exactly one hidden cell.
        assert_ne!(t.hidden.iter().filter(|h| h[1]).count(), 1);
    }

    #[test]
    fn two_small_cells_need_no_complement() {
        let b = batch(vec![("calls", Arc::new(Int64Array::from(vec![3, 5, 40])) as ArrayRef)]);
        let t = suppress(&[b], Shape::Additive, 11).unwrap();
        assert_eq!(t.rows, vec![vec!["<11"], vec!["<11"], vec!["40"]]);
    }

    #[test]
    fn per_row_hides_shares_and_statistics_of_small_counts() {
        let b = batch(vec![
            ("period", Arc::new(StringArray::from(vec!["this", "last"])) as ArrayRef),
            ("served_calls", Arc::new(Int64Array::from(vec![7, 70])) as ArrayRef),
            ("served_calls_pct", Arc::new(Float64Array::from(vec![3.5, 35.0])) as ArrayRef),
            ("response_n", Arc::new(Int64Array::from(vec![6, 60])) as ArrayRef),
            ("response_median_min", Arc::new(Float64Array::from(vec![12.0, 14.5])) as ArrayRef),
        ]);
        let t = suppress(&[b], Shape::PerRow, 11).unwrap();
        assert_eq!(t.rows[0], ["this", "<11", "<11", "<11", "<11"]);
        assert_eq!(t.rows[1], ["last", "70", "35.0", "60", "14.5"]);
    }

    #[test]
    fn private_columns_are_refused() {
        let b = batch(vec![("address", Arc::new(StringArray::from(vec!["1 MAIN ST"])) as ArrayRef)]);
        assert!(suppress(&[b], Shape::Additive, 11).unwrap_err().to_string().contains("address"));
    }
}

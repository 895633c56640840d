//! Public outputs: the one owner of what may be published. Every public output (dashboards marked
//! `public`, the monthly transparency report, anything `publish` writes) goes through here:
//!
//! - [`public_query`]: read-only SQL whose every statement passes the lineage check
//!   ([`check_lineage`]): call-level columns ([`private_column`]) reach an output column only
//!   inside a summarising aggregate (timestamps may also be coarsened to the hour or coarser), and
//!   no output column carries call-level rows.
//! - [`suppress_table`]: small-cell suppression by [`cells::suppress`] (counts 1 to threshold − 1,
//!   complementary suppression, values computed from hidden counts), with a threshold of at least
//!   [`MIN_THRESHOLD`].
//!
//! What is private and what each check guards against: `docs/security.md`.
pub mod cells;
pub mod lineage;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, SchemaRef};
use datafusion::prelude::SessionContext;

pub use cells::{ColumnSpec, Equation, Hide, Var};
pub use lineage::{Lineage, Reach, Via};

use crate::error::{Error, Result};

/// No public output may show counts below this (`--threshold` may only raise it).
pub const MIN_THRESHOLD: i64 = 11;

/// Refuse a publication threshold below [`MIN_THRESHOLD`] (exit 2).
pub fn check_threshold(threshold: i64) -> Result<()> {
    if threshold < MIN_THRESHOLD {
        return Err(Error::Usage(format!(
            "--threshold {threshold}: public outputs hide every count from 1 to at least {}; the threshold cannot be below {MIN_THRESHOLD}",
            MIN_THRESHOLD - 1
        )));
    }
    Ok(())
}

/// Warehouse columns a public output may show as values (group keys, categories). Every other
/// column of every table is call-level (private) and may only be summarised.
const PUBLIC_COLUMNS: &[(&str, &[&str])] = &[
    (
        "calls",
        &[
            "source",
            "category",
            "type_mapped",
            "priority",
            "call_source",
            "self_initiated",
            "caller_party",
            "third_party_p",
            "disposition",
            "district",
            "beat",
            "responder_type",
            "community_responder",
            "weapon",
            "violence",
            "medical",
            "in_progress",
            "bh_nexus",
            "conflict",
            "police_type",
            "imminent_danger",
            "insufficient_info",
            "category_source",
            "category_rule",
            "category_confidence",
            "year",
            "month",
        ],
    ),
    // Computed by `eligibility::sensitivity`: shares per scenario and assumption, no call-level data.
    (
        "sensitivity",
        &["scenario", "assumption", "public_calls", "base_pct", "low", "low_pct", "high", "high_pct", "range_pct"],
    ),
    ("eligibility", &["scenario", "eligible", "reason", "outcome", "rule", "estimated", "p_eligible"]),
    ("rejects", &["column", "reason"]),
];

/// Call-level timestamps: private, but a public output may show them coarsened (hour or coarser).
const TIMESTAMPS: [&str; 5] = ["received_at", "received_local", "dispatched_at", "arrived_at", "cleared_at"];

/// Is `table.column` call-level data (call_id, timestamps, address, coordinates, free text, raw
/// types, units, ingest ids, reject records…)? Anything not on the public allow-list is.
pub fn private_column(table: &str, column: &str) -> bool {
    !PUBLIC_COLUMNS.iter().any(|(t, cols)| t.eq_ignore_ascii_case(table) && cols.contains(&column))
}

/// Why output column `name` with lineage `l` cannot be public, if it cannot.
pub fn check_lineage(name: &str, l: &Lineage) -> std::result::Result<(), String> {
    for r in &l.reaches {
        if r.via == Via::Summarised {
            continue;
        }
        let coarse_time = r.coarse && TIMESTAMPS.contains(&r.column.as_str());
        if private_column(&r.table, &r.column) && !coarse_time {
            let how = if r.via == Via::Row { "as call-level values" } else { "as a group key or picked value" };
            return Err(format!(
                "output column `{name}` shows {}.{} {how}: call-level columns may only be counted or summarised (count, sum, avg, median…){}",
                r.table,
                r.column,
                if TIMESTAMPS.contains(&r.column.as_str()) {
                    ", or coarsened to the hour or coarser (date_trunc / date_part, CAST AS DATE)"
                } else {
                    ""
                }
            ));
        }
        if r.via == Via::Row {
            return Err(format!(
                "output column `{name}` comes from individual rows of `{}` ({}): a public output shows aggregates (GROUP BY), not call-level rows",
                r.table, r.column
            ));
        }
    }
    Ok(())
}

/// A public query's result with the lineage of each output column.
#[derive(Debug, Clone)]
pub struct PublicResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub lineage: Vec<Lineage>,
}

/// Run read-only `sql` as a public output: every statement must pass [`check_lineage`] on every
/// output column and must not name a forbidden column; the last statement's result is returned.
pub async fn public_query(ctx: &SessionContext, sql: &str) -> Result<PublicResult> {
    let plans = crate::output::sql::plan_queries(ctx, sql).await?;
    let mut lineage = Vec::new();
    for (k, plan) in plans.iter().enumerate() {
        let names: Vec<String> = plan.schema().fields().iter().map(|f| f.name().clone()).collect();
        if let Some(bad) = names.iter().find(|c| forbidden_column(c)) {
            return Err(Error::Refused(format!("column `{bad}` may identify people or places and is never published")));
        }
        let cols = lineage::of_plan(plan, &private_column);
        for (name, l) in names.iter().zip(&cols) {
            check_lineage(name, l).map_err(|why| {
                Error::Refused(if plans.len() > 1 { format!("statement {}: {why}", k + 1) } else { why })
            })?;
        }
        lineage = cols;
    }
    let (schema, batches) = crate::output::sql::run_plans(ctx, plans).await?;
    Ok(PublicResult { schema, batches, lineage })
}

/// Column names whose small values identify people when no lineage says otherwise.
fn count_by_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with("calls") || n == "n" || n.ends_with("_n") || n == "count" || n == "locations"
}

/// How the engine sees each column: counts by lineage (an exact `count(…)`, or an integer
/// computed by `count`/`sum` over calls or places), by name (`…calls`, `n`, `…_n`, `count`,
/// `locations`) or listed in `extra_counts`; `X_pct` computed from `X`, `prefix_*` from `prefix_n`.
pub fn column_specs(schema: &SchemaRef, lineage: &[Lineage], extra_counts: &[String]) -> Vec<ColumnSpec> {
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    schema
        .fields()
        .iter()
        .enumerate()
        .map(|(j, f)| {
            let l = lineage.get(j).cloned().unwrap_or_default();
            let dt = f.data_type();
            let by_lineage = l.count.as_ref().is_some_and(|c| c.entities)
                || (dt.is_integer()
                    && l.aggs
                        .iter()
                        .any(|a| a.entities && matches!(a.kind, lineage::AggKind::Count | lineage::AggKind::Sum)));
            let count = dt.is_numeric()
                && (by_lineage
                    || count_by_name(f.name())
                    || extra_counts.iter().any(|e| e.eq_ignore_ascii_case(f.name())));
            let name = f.name();
            let named_linear =
                name.strip_suffix("_pct").and_then(|base| names.iter().position(|c| c == base)).into_iter().collect();
            let named_summary = name
                .split_once('_')
                .and_then(|(prefix, _)| names.iter().position(|c| *c == format!("{prefix}_n")))
                .filter(|&k| k != j)
                .into_iter()
                .collect();
            ColumnSpec { name: name.clone(), count, lineage: l, named_linear, named_summary }
        })
        .collect()
}

/// Every cell's numeric value (None: null, not finite, or not a number).
pub fn numeric_values(batches: &[RecordBatch]) -> Result<Vec<Vec<Option<f64>>>> {
    let mut rows = Vec::new();
    for b in batches {
        let mut cols = Vec::new();
        for c in b.columns() {
            if c.data_type().is_numeric() {
                let a = cast(c, &DataType::Float64)?;
                let a = a.as_primitive::<Float64Type>();
                cols.push(
                    (0..b.num_rows())
                        .map(|r| (!a.is_null(r) && a.value(r).is_finite()).then(|| a.value(r)))
                        .collect::<Vec<_>>(),
                );
            } else {
                cols.push(vec![None; b.num_rows()]);
            }
        }
        for r in 0..b.num_rows() {
            rows.push(cols.iter().map(|c| c[r]).collect());
        }
    }
    Ok(rows)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One row per period (or scenario), columns are different measures.
    PerRow,
    /// Rows partition a total (e.g. calls by reason): each count column's total is known.
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

/// The marker for a small count, e.g. `<11`.
pub fn small_label(threshold: i64) -> String {
    format!("<{threshold}")
}

/// What to hide in a query result (see [`cells::suppress`]).
pub fn decide(
    specs: &[ColumnSpec],
    batches: &[RecordBatch],
    shape: Shape,
    threshold: i64,
    forced: &[(usize, usize)],
    extra: &[Equation],
) -> Result<Vec<Vec<Hide>>> {
    check_threshold(threshold)?;
    let values = numeric_values(batches)?;
    Ok(cells::suppress(specs, &values, threshold, shape == Shape::Additive, forced, extra))
}

/// Suppress a query result into display text.
pub fn suppress_table(
    specs: &[ColumnSpec],
    batches: &[RecordBatch],
    shape: Shape,
    threshold: i64,
    forced: &[(usize, usize)],
    extra: &[Equation],
) -> Result<PublicTable> {
    let hide = decide(specs, batches, shape, threshold, forced, extra)?;
    render_table(specs, batches, &hide, threshold)
}

/// Display text of a query result with the cells `hide` says hidden replaced by their marker.
pub fn render_table(
    specs: &[ColumnSpec],
    batches: &[RecordBatch],
    hide: &[Vec<Hide>],
    threshold: i64,
) -> Result<PublicTable> {
    let columns: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    if let Some(bad) = columns.iter().find(|c| forbidden_column(c)) {
        return Err(Error::Refused(format!("column `{bad}` may identify people or places and is never published")));
    }
    let text = crate::output::format::rows_as_text(batches)?;
    let label = small_label(threshold);
    let rows = text
        .into_iter()
        .zip(hide)
        .map(|(r, h)| {
            r.into_iter()
                .zip(h)
                .map(|(c, h)| match h {
                    Hide::No => c.unwrap_or_default(),
                    Hide::Small => label.clone(),
                    Hide::Complement => COMPLEMENT.to_string(),
                })
                .collect()
        })
        .collect();
    let hidden = hide.iter().map(|r| r.iter().map(|h| *h != Hide::No).collect()).collect();
    Ok(PublicTable { columns, rows, hidden })
}

/// Suppress by names and types only (no lineage): integer and `…calls`/`…_n` columns are counts.
pub fn suppress(batches: &[RecordBatch], shape: Shape, threshold: i64) -> Result<PublicTable> {
    let Some(first) = batches.first() else {
        return Ok(PublicTable { columns: Vec::new(), rows: Vec::new(), hidden: Vec::new() });
    };
    let schema = first.schema();
    let mut specs = column_specs(&schema, &[], &[]);
    for (s, f) in specs.iter_mut().zip(schema.fields()) {
        s.count |= f.data_type().is_integer();
    }
    suppress_table(&specs, batches, shape, threshold, &[], &[])
}

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

#[cfg(test)]
mod lineage_tests;

//! Crosswalk coverage: how much call volume in the warehouse has a type no crosswalk maps.
//! Types are grouped by the one call-type normalisation (`crosswalk::normalize_key`).
use std::collections::HashMap;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::prelude::SessionContext;

use crate::error::Result;
use crate::source::classify::CategorySource;
use crate::source::crosswalk::normalize_key;
use crate::warehouse::query::{one_row_u64, u64_at};

#[derive(Debug, Clone)]
pub struct Coverage {
    pub calls: u64,
    pub unmapped: u64,
    pub share: f64,
    /// (normalised call type or `(missing)`, calls), most frequent first.
    pub top: Vec<(String, u64)>,
    /// Calls by where their category came from (`crosswalk`, `classifier`, `unmapped`).
    pub by_source: Vec<(String, u64)>,
}
/// Crosswalk coverage over all calls in the warehouse.
pub async fn coverage(ctx: &SessionContext) -> Result<Coverage> {
    let n = one_row_u64(ctx, "SELECT count(*), count(*) FILTER (WHERE NOT type_mapped) FROM calls").await?;
    let (calls, unmapped) = (n[0], n[1]);
    let top = coverage_all(ctx).await?.into_iter().take(10).collect();
    let share = if calls == 0 { 0.0 } else { unmapped as f64 / calls as f64 };
    let by = one_row_u64(
        ctx,
        "SELECT count(*) FILTER (WHERE category_source = 'crosswalk'), \
                count(*) FILTER (WHERE category_source = 'classifier'), \
                count(*) FILTER (WHERE category_source = 'unmapped') FROM calls",
    )
    .await?;
    let by_source = CategorySource::ALL.iter().zip(by).map(|(s, n)| (s.as_str().to_string(), n)).collect();
    Ok(Coverage { calls, unmapped, share, top, by_source })
}

/// Every unmapped call type in the warehouse (normalised; `(missing)` when empty), with call
/// counts, most frequent first.
pub async fn coverage_all(ctx: &SessionContext) -> Result<Vec<(String, u64)>> {
    types_where(ctx, "NOT type_mapped").await
}

/// Call types (normalised; `(missing)` when empty) of the calls matching `predicate`, with call
/// counts, most frequent first.
pub async fn types_where(ctx: &SessionContext, predicate: &str) -> Result<Vec<(String, u64)>> {
    let sql = format!("SELECT call_type, count(*) AS n FROM calls WHERE {predicate} GROUP BY call_type");
    let batches = ctx.sql(&sql).await?.collect().await?;
    let mut by_key: HashMap<String, u64> = HashMap::new();
    let mut key = String::new();
    for b in &batches {
        let t = b.column(0).as_string::<i32>();
        for r in 0..b.num_rows() {
            if t.is_null(r) {
                key.clear();
            } else {
                normalize_key(t.value(r), &mut key);
            }
            let k = if key.is_empty() { "(missing)".to_string() } else { key.clone() };
            *by_key.entry(k).or_default() += u64_at(b, 1, r);
        }
    }
    let mut out: Vec<(String, u64)> = by_key.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(out)
}

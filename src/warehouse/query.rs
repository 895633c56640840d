//! Small helpers for reading query results back into Rust values.
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Int32Type, Int64Type, UInt64Type};
use datafusion::prelude::SessionContext;

use crate::error::Result;

/// An integer cell as u64 (null, negative or non-integer → 0).
pub fn u64_at(b: &RecordBatch, col: usize, row: usize) -> u64 {
    let a = b.column(col);
    if a.is_null(row) {
        return 0;
    }
    match a.data_type() {
        DataType::Int64 => a.as_primitive::<Int64Type>().value(row).max(0) as u64,
        DataType::Int32 => a.as_primitive::<Int32Type>().value(row).max(0) as u64,
        DataType::UInt64 => a.as_primitive::<UInt64Type>().value(row),
        _ => 0,
    }
}

/// Run a query returning one row of integers; every column of that row as u64 (0 when no row).
pub async fn one_row_u64(ctx: &SessionContext, sql: &str) -> Result<Vec<u64>> {
    let batches = ctx.sql(sql).await?.collect().await?;
    let Some(b) = batches.iter().find(|b| b.num_rows() > 0) else {
        let n = batches.first().map(|b| b.num_columns()).unwrap_or(0);
        return Ok(vec![0; n]);
    };
    Ok((0..b.num_columns()).map(|c| u64_at(b, c, 0)).collect())
}

//! `history`, `status`, `optimize`, `vacuum`: looking after the warehouse's Delta tables.
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use crate::cli::text::out_err;
use crate::error::{Error, IoContext, Result};
use crate::output::report::{self, Format};
use crate::warehouse::{Commit, Warehouse};

/// `callsift history`: every commit of every table, oldest first.
pub async fn history(warehouse: &Path, format: Format, out: &mut dyn Write) -> Result<()> {
    let wh = Warehouse::open_existing(warehouse).await?;
    let commits = wh.history().await?;
    let text = report::format(&[history_batch(&commits)?], format)?;
    out.write_all(text.as_bytes()).ctx(out_err)
}

fn history_batch(commits: &[Commit]) -> Result<RecordBatch> {
    let time = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default()
    };
    let schema = Schema::new(vec![
        Field::new("table", DataType::Utf8, false),
        Field::new("version", DataType::Int64, false),
        Field::new("time", DataType::Utf8, false),
        Field::new("operation", DataType::Utf8, false),
        Field::new("file", DataType::Utf8, true),
        Field::new("rows", DataType::UInt64, true),
    ]);
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(commits.iter().map(|c| c.table.as_str()))),
        Arc::new(Int64Array::from_iter_values(commits.iter().map(|c| c.version))),
        Arc::new(StringArray::from_iter_values(commits.iter().map(|c| time(c.timestamp_ms)))),
        Arc::new(StringArray::from_iter_values(commits.iter().map(|c| c.operation.as_str()))),
        Arc::new(StringArray::from_iter(commits.iter().map(|c| c.file.as_deref()))),
        Arc::new(UInt64Array::from_iter(commits.iter().map(|c| c.rows))),
    ];
    Ok(RecordBatch::try_new(Arc::new(schema), cols)?)
}

/// `callsift status`: the snapshot's manifest as JSON.
pub async fn status(warehouse: &Path, as_of: Option<i64>, out: &mut dyn Write) -> Result<()> {
    let wh = Warehouse::open_as_of(warehouse, as_of).await?;
    let text = serde_json::to_string_pretty(&wh.manifest()?).map_err(|e| Error::Format(e.to_string()))?;
    writeln!(out, "{text}").ctx(out_err)
}

/// `callsift optimize`.
pub async fn optimize(warehouse: &Path, out: &mut dyn Write) -> Result<()> {
    let wh = Warehouse::open_existing(warehouse).await?;
    for o in wh.optimize().await? {
        writeln!(out, "{}: {} files compacted into {}", o.table, o.files_removed, o.files_added).ctx(out_err)?;
        if o.orphan_rejects_deleted > 0 {
            writeln!(out, "{}: {} rows of uncommitted ingests deleted", o.table, o.orphan_rejects_deleted)
                .ctx(out_err)?;
        }
    }
    Ok(())
}

/// `callsift vacuum`.
pub async fn vacuum(warehouse: &Path, retain_hours: Option<u64>, dry_run: bool, out: &mut dyn Write) -> Result<()> {
    let wh = Warehouse::open_existing(warehouse).await?;
    let verb = if dry_run { "would delete" } else { "deleted" };
    for v in wh.vacuum(retain_hours, dry_run).await? {
        writeln!(out, "{}: {verb} {} files", v.table, v.files.len()).ctx(out_err)?;
        for f in &v.files {
            writeln!(out, "  {f}").ctx(out_err)?;
        }
    }
    Ok(())
}

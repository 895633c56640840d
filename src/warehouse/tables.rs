//! The three Delta tables and how they are created and loaded.
//!
//! ```text
//! WAREHOUSE/calls/         Delta table, partitioned by year, month (local time of receipt)
//! WAREHOUSE/rejects/       Delta table, one row per rejected input row
//! WAREHOUSE/eligibility/   Delta table, one row per call (outcome codes per scenario; SQL
//!                          reads it through the view in `view.rs`); replaced by each `tag`
//! ```
use std::collections::HashMap;

use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::StructType;
use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError, TableProperty};

use super::location::Location;
use super::schema;
use crate::error::{Error, Result};

/// The tables of a warehouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Calls,
    Rejects,
    Eligibility,
}

impl Table {
    pub const ALL: [Table; 3] = [Table::Calls, Table::Rejects, Table::Eligibility];

    pub fn name(self) -> &'static str {
        match self {
            Table::Calls => "calls",
            Table::Rejects => "rejects",
            Table::Eligibility => "eligibility",
        }
    }

    fn schema(self) -> datafusion::arrow::datatypes::SchemaRef {
        match self {
            Table::Calls => schema::call_table_schema(),
            Table::Rejects => schema::reject_schema(),
            Table::Eligibility => schema::eligibility_schema(),
        }
    }

    fn partitions(self) -> &'static [&'static str] {
        match self {
            Table::Calls => &schema::CALL_PARTITIONS,
            _ => &[],
        }
    }
}

pub(crate) fn delta_error(loc: &Location, table: Table, e: DeltaTableError) -> Error {
    Error::Warehouse { dir: loc.display.clone().into(), message: format!("{} table: {e}", table.name()) }
}

/// Load a table at its latest version, or at `version`; `None` when the table does not exist.
pub async fn load(loc: &Location, table: Table, version: Option<i64>) -> Result<Option<DeltaTable>> {
    // delta-rs refuses a local folder that does not exist; no log there means no table yet.
    if let Some(dir) = &loc.local {
        if !dir.join(table.name()).join("_delta_log").is_dir() {
            return Ok(None);
        }
    }
    let mut builder =
        DeltaTableBuilder::from_url(loc.table_url(table.name())).map_err(|e| delta_error(loc, table, e))?;
    if let Some(v) = version {
        let v = u64::try_from(v).map_err(|_| Error::Usage(format!("--as-of {v}: expected a version ≥ 0")))?;
        builder = builder.with_version(v);
    }
    match builder.load().await {
        Ok(t) => Ok(Some(t)),
        Err(DeltaTableError::NotATable(_)) => Ok(None),
        Err(e) if version.is_some() => Err(Error::Usage(format!(
            "{}: {} has no readable version {} ({e}); `callsift history` lists the versions",
            loc.display,
            table.name(),
            version.unwrap_or_default()
        ))),
        Err(e) => Err(delta_error(loc, table, e)),
    }
}

/// Load a table, creating it empty if it does not exist yet (two processes creating it at once is
/// fine: the loser of the version-0 race just loads the winner's table).
pub async fn load_or_create(loc: &Location, table: Table) -> Result<DeltaTable> {
    if let Some(t) = load(loc, table, None).await? {
        return Ok(t);
    }
    if let Some(dir) = &loc.local {
        std::fs::create_dir_all(dir.join(table.name()))
            .map_err(|e| Error::io(format!("creating {}", dir.join(table.name()).display()), e))?;
    }
    let fresh = DeltaTable::try_from_url(loc.table_url(table.name())).await.map_err(|e| delta_error(loc, table, e))?;
    let columns: StructType = table
        .schema()
        .as_ref()
        .try_into_kernel()
        .map_err(|e| Error::Warehouse { dir: loc.display.clone().into(), message: format!("schema: {e}") })?;
    let created = fresh
        .create()
        .with_table_name(table.name())
        .with_columns(columns.fields().cloned())
        .with_partition_columns(table.partitions().iter().copied())
        .with_configuration(table_properties())
        .await;
    match created {
        Ok(t) => Ok(t),
        Err(_) => load(loc, table, None).await?.ok_or_else(|| Error::Warehouse {
            dir: loc.display.clone().into(),
            message: format!("could not create the {} table", table.name()),
        }),
    }
}

/// Table properties: the commit log is the warehouse's audit trail (which file, which rules, which
/// version a report read), so it is kept for ten years instead of Delta's 30-day default; removed
/// data files stay a week so time travel within a week always works and `vacuum` is safe.
fn table_properties() -> HashMap<String, Option<String>> {
    HashMap::from([
        (TableProperty::LogRetentionDuration.as_ref().to_string(), Some("interval 3650 days".to_string())),
        (TableProperty::DeletedFileRetentionDuration.as_ref().to_string(), Some("interval 7 days".to_string())),
    ])
}

/// The version a loaded table is at (`-1` for a table with no commits).
pub fn version_of(t: &DeltaTable) -> i64 {
    t.version().map(|v| v as i64).unwrap_or(-1)
}

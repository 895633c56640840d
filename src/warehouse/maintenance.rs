//! `callsift optimize` and `callsift vacuum`: Delta's compaction and file removal, per table.
use deltalake::operations::vacuum::VacuumMode;

use super::tables::{delta_error, load, Table};
use super::Warehouse;
use crate::error::{Error, Result};

/// What `optimize` did to one table.
#[derive(Debug, Clone, PartialEq)]
pub struct Optimized {
    pub table: &'static str,
    pub files_removed: u64,
    pub files_added: u64,
    /// Reject rows of ingests no `calls` commit vouches for (a run killed between its two commits).
    pub orphan_rejects_deleted: u64,
}

/// What `vacuum` removed (or would remove, with `dry_run`) from one table.
#[derive(Debug, Clone, PartialEq)]
pub struct Vacuumed {
    pub table: &'static str,
    pub files: Vec<String>,
}

/// Files are compacted toward this size (the monthly appends leave many small ones).
const TARGET_FILE_BYTES: u64 = 128 << 20;

/// The tables' `delta.deletedFileRetentionDuration` (see tables.rs), in hours.
const MIN_RETAIN_HOURS: u64 = 7 * 24;

impl Warehouse {
    /// Compact the small files of every table into ~128 MiB ones (a commit per table that changes
    /// no data), after removing reject rows of ingests that never committed.
    pub async fn optimize(&self) -> Result<Vec<Optimized>> {
        let orphans = self.delete_orphan_rejects().await?;
        let mut out = Vec::new();
        for table in Table::ALL {
            let Some(t) = load(&self.location, table, None).await? else { continue };
            let target = std::num::NonZeroU64::new(TARGET_FILE_BYTES).expect("non-zero");
            let (_, m) =
                t.optimize().with_target_size(target).await.map_err(|e| delta_error(&self.location, table, e))?;
            out.push(Optimized {
                table: table.name(),
                files_removed: m.num_files_removed,
                files_added: m.num_files_added,
                orphan_rejects_deleted: if table == Table::Rejects { orphans } else { 0 },
            });
        }
        Ok(out)
    }

    async fn delete_orphan_rejects(&self) -> Result<u64> {
        let Some(t) = load(&self.location, Table::Rejects, None).await? else { return Ok(0) };
        // `self` is the latest snapshot (optimize opens the warehouse without --as-of).
        let ids = self.manifest()?.ingests.iter().map(|i| format!("'{}'", i.ingest_id)).collect::<Vec<_>>();
        // Ingest ids are hex (see ingest::new_ingest_id); quoting cannot be escaped from.
        if ids.iter().any(|i| !i.trim_matches('\'').chars().all(|c| c.is_ascii_hexdigit())) {
            return Err(Error::Warehouse {
                dir: self.location.display.clone().into(),
                message: "unexpected ingest id".into(),
            });
        }
        let predicate =
            if ids.is_empty() { "true".to_string() } else { format!("ingest_id NOT IN ({})", ids.join(", ")) };
        let (_, m) =
            t.delete().with_predicate(predicate).await.map_err(|e| delta_error(&self.location, Table::Rejects, e))?;
        Ok(m.num_deleted_rows.unwrap_or(0) as u64)
    }

    /// Remove data files no version within the retention period references, and files a killed
    /// run wrote but never committed. `retain_hours` below the tables' 7-day retention is refused
    /// (a reader or writer may still be using them), as Delta's own safety check does.
    pub async fn vacuum(&self, retain_hours: Option<u64>, dry_run: bool) -> Result<Vec<Vacuumed>> {
        if retain_hours.is_some_and(|h| h < MIN_RETAIN_HOURS) {
            return Err(Error::Usage(format!(
                "--retain-hours {} is shorter than the tables' 7-day retention ({MIN_RETAIN_HOURS} hours): files still \
                 readable by time travel, or by a command running now, would be deleted",
                retain_hours.unwrap_or_default()
            )));
        }
        let mut out = Vec::new();
        for table in Table::ALL {
            let Some(t) = load(&self.location, table, None).await? else { continue };
            let mut b =
                t.vacuum().with_mode(VacuumMode::Full).with_dry_run(dry_run).with_enforce_retention_duration(true);
            if let Some(h) = retain_hours {
                b = b.with_retention_period(chrono::Duration::hours(h as i64));
            }
            let (_, m) = b.await.map_err(|e| delta_error(&self.location, table, e))?;
            out.push(Vacuumed { table: table.name(), files: m.files_deleted });
        }
        Ok(out)
    }
}

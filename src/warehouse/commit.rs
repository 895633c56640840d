//! The writes: an ingest's two append commits and a tag run's replace commit.
//!
//! - **ingest**: the rejects file is appended first, then the calls files in one commit that carries
//!   the Delta transaction id `callsift-ingest-<blake3 of the input>` and the ingest's record. That
//!   calls commit is the commit point: readers only see rejects of ingests `calls` vouches for, and
//!   the transaction id makes a second ingest of the same bytes a no-op — also when two processes
//!   race, since Delta refuses the second commit carrying an id a concurrent commit already set.
//! - **tag**: one overwrite commit of `eligibility` (one row per call, outcome codes per scenario),
//!   with the policy, its scenarios and reason codes, and the `calls` version in its metadata.
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::SessionContext;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, Add, Transaction};
use deltalake::operations::write::SchemaMode;
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::DeltaTable;
use futures::TryStreamExt;
use serde_json::json;

use super::records::{IngestRecord, TagRecord, COMMIT_KEY};
use super::tables::{delta_error, load, load_or_create, Table};
use super::Warehouse;
use crate::error::{Error, IoContext, Result};

/// A data file written locally, to be added to a table.
#[derive(Debug, Clone)]
pub struct StagedFile {
    /// Path relative to the table root (`year=2024/month=3/part-….parquet`).
    pub rel: String,
    /// Where it is on local disk (inside the table folder for a local warehouse).
    pub local: PathBuf,
    pub rows: u64,
    pub partition: Option<(i32, u32)>,
}

/// What an ingest commit did.
#[derive(Debug)]
pub enum IngestCommit {
    Committed {
        calls_version: i64,
    },
    /// This file's bytes were already committed (by an earlier run or a concurrent one).
    AlreadyIngested {
        ingest_id: String,
    },
}

/// Commit attempts on fresh snapshots before an ingest gives up.
const COMMIT_ATTEMPTS: usize = 5;

fn txn_id(blake3: &str) -> String {
    format!("callsift-ingest-{blake3}")
}

impl Warehouse {
    /// The ingest of these bytes, if one is committed in the latest `calls`.
    pub async fn find_ingest(&self, blake3: &str) -> Result<Option<String>> {
        match load(&self.location, Table::Calls, None).await? {
            Some(t) => self.ingest_in(&t, blake3).await,
            None => Ok(None),
        }
    }

    /// The ingest of these bytes if the snapshot `t` of `calls` has committed one.
    async fn ingest_in(&self, t: &DeltaTable, blake3: &str) -> Result<Option<String>> {
        let state = t.snapshot().map_err(|e| delta_error(&self.location, Table::Calls, e))?;
        let v = state
            .transaction_version(t.log_store().as_ref(), txn_id(blake3))
            .await
            .map_err(|e| delta_error(&self.location, Table::Calls, e))?;
        if v.is_none() {
            return Ok(None);
        }
        let commits = super::log::commits(&self.location, Table::Calls, t).await?;
        let id = super::log::ingests(&commits).into_iter().find(|r| r.blake3 == blake3).map(|r| r.ingest_id);
        Ok(Some(id.unwrap_or_default()))
    }

    /// Commit one ingested file: its rejects, then its calls (the commit point).
    pub async fn commit_ingest(
        &self,
        record: &IngestRecord,
        calls: &[StagedFile],
        rejects: &[StagedFile],
    ) -> Result<IngestCommit> {
        if let Some(ingest_id) = self.find_ingest(&record.blake3).await? {
            return Ok(IngestCommit::AlreadyIngested { ingest_id });
        }
        if !rejects.is_empty() {
            let meta = json!({"ingest_id": record.ingest_id, "file": record.file, "rows": record.rows_rejected});
            let meta = HashMap::from([(COMMIT_KEY.to_string(), meta)]);
            for attempt in 1..=COMMIT_ATTEMPTS {
                // Fresh snapshot each time: Delta retries plain append conflicts itself; this
                // covers a table creation racing ours.
                let t = load_or_create(&self.location, Table::Rejects).await?;
                match append(&self.location, Table::Rejects, &t, rejects, meta.clone(), None).await {
                    Ok(_) => break,
                    Err(e) if attempt == COMMIT_ATTEMPTS => return Err(e),
                    Err(_) => continue,
                }
            }
        }
        let mut rec = record.clone();
        rec.files = calls.iter().map(|f| f.rel.clone()).collect();
        let meta = HashMap::from([(COMMIT_KEY.to_string(), serde_json::to_value(&rec).map_err(format_err)?)]);
        for attempt in 1..=COMMIT_ATTEMPTS {
            // The idempotence check and the commit use one snapshot: any commit after it that
            // carries the same transaction id makes Delta refuse ours.
            let base = load_or_create(&self.location, Table::Calls).await?;
            if let Some(ingest_id) = self.ingest_in(&base, &record.blake3).await? {
                return Ok(IngestCommit::AlreadyIngested { ingest_id });
            }
            let txn = Transaction::new(txn_id(&record.blake3), 1);
            match append(&self.location, Table::Calls, &base, calls, meta.clone(), Some(txn)).await {
                Ok(v) => return Ok(IngestCommit::Committed { calls_version: v }),
                Err(e) if attempt == COMMIT_ATTEMPTS => return Err(e),
                // A concurrent ingest of the same bytes (found on the next pass) or a concurrent
                // table creation: start again from the latest snapshot.
                Err(_) => continue,
            }
        }
        unreachable!("the last attempt returns")
    }

    /// Replace `eligibility` with the result of `sql` over this snapshot, in one commit.
    pub async fn replace_eligibility(&self, ctx: &SessionContext, sql: &str, record: TagRecord) -> Result<u64> {
        let table = load_or_create(&self.location, Table::Eligibility).await?;
        let plan = ctx.sql(sql).await?.logical_plan().clone();
        let meta = [(COMMIT_KEY.to_string(), serde_json::to_value(&record).map_err(format_err)?)];
        let written = table
            .write(Vec::new())
            .with_input_plan(plan)
            .with_session_state(Arc::new(ctx.state()))
            .with_save_mode(SaveMode::Overwrite)
            // The columns follow the scenarios tagged (outcome_k, estimated_k, p_eligible_k).
            .with_schema_mode(SchemaMode::Overwrite)
            .with_writer_properties(eligibility_writer_properties())
            .with_commit_properties(CommitProperties::default().with_metadata(meta))
            .await
            .map_err(|e| delta_error(&self.location, Table::Eligibility, e))?;
        added_rows(&written).await.map_err(|e| delta_error(&self.location, Table::Eligibility, e))
    }
}

/// The `eligibility` table (one row per call, rewritten on every tag run): zstd(1), no dictionary
/// for the unique `call_id` (interning it was the writer's main cost), and row groups small enough
/// that the writer's buffers stay within the memory budget.
fn eligibility_writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default()))
        .set_column_dictionary_enabled("call_id".into(), false)
        .set_max_row_group_row_count(Some(262_144))
        .set_created_by(format!("callsift {}", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Rows the last commit of `t` added, from Delta's operation metrics.
async fn added_rows(t: &DeltaTable) -> deltalake::DeltaResult<u64> {
    let last: Vec<_> = t.history(Some(1)).try_collect().await?;
    let metrics = last.first().and_then(|c| c.info.get("operationMetrics").cloned()).unwrap_or_default();
    Ok(metrics.get("num_added_rows").and_then(|v| v.as_u64()).unwrap_or(0))
}

fn format_err(e: serde_json::Error) -> Error {
    Error::Format(e.to_string())
}

/// Upload (for a remote warehouse) and add `files` to `t` in one append commit; the new version.
async fn append(
    loc: &super::Location,
    table: Table,
    t: &DeltaTable,
    files: &[StagedFile],
    metadata: HashMap<String, serde_json::Value>,
    txn: Option<Transaction>,
) -> Result<i64> {
    let mut actions = Vec::with_capacity(files.len());
    for f in files {
        actions.push(Action::Add(add_action(f)?));
    }
    if !loc.is_local() {
        upload(t, files).await.map_err(|e| delta_error(loc, table, e))?;
    }
    let mut props = CommitProperties::default().with_metadata(metadata);
    if let Some(txn) = txn {
        props = props.with_application_transaction(txn);
    }
    let state = t.snapshot().map_err(|e| delta_error(loc, table, e))?;
    let op = DeltaOperation::Write {
        mode: SaveMode::Append,
        partition_by: (table == Table::Calls).then(|| vec!["year".into(), "month".into()]),
        predicate: None,
    };
    let done = CommitBuilder::from(props)
        .with_actions(actions)
        .build(Some(state), t.log_store(), op)
        .await
        .map_err(|e| delta_error(loc, table, e))?;
    Ok(done.version() as i64)
}

fn add_action(f: &StagedFile) -> Result<Add> {
    let meta = std::fs::metadata(&f.local).ctx(|| format!("reading {}", f.local.display()))?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default();
    let partition_values = match f.partition {
        Some((y, m)) => {
            HashMap::from([("year".to_string(), Some(y.to_string())), ("month".to_string(), Some(m.to_string()))])
        }
        None => HashMap::new(),
    };
    Ok(Add {
        path: f.rel.clone(),
        partition_values,
        size: meta.len() as i64,
        modification_time: modified,
        data_change: true,
        stats: Some(json!({ "numRecords": f.rows }).to_string()),
        ..Default::default()
    })
}

/// Copy locally written files to the table's object store, then remove the local copies.
async fn upload(t: &DeltaTable, files: &[StagedFile]) -> deltalake::DeltaResult<()> {
    use tokio::io::AsyncWriteExt;
    let store = t.log_store().object_store(None);
    for f in files {
        let mut src = tokio::fs::File::open(&f.local)
            .await
            .map_err(|e| deltalake::DeltaTableError::Generic(format!("{}: {e}", f.local.display())))?;
        let mut dst =
            object_store::buffered::BufWriter::new(store.clone(), object_store::path::Path::from(f.rel.as_str()));
        tokio::io::copy(&mut src, &mut dst).await.map_err(|e| deltalake::DeltaTableError::Generic(e.to_string()))?;
        dst.shutdown().await.map_err(|e| deltalake::DeltaTableError::Generic(e.to_string()))?;
        let _ = std::fs::remove_file(&f.local);
    }
    Ok(())
}

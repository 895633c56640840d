//! Reading the Delta commit log back: callsift's record of each commit (`commitInfo.callsift`)
//! and the history `callsift history` prints.
use deltalake::kernel::CommitInfo;
use deltalake::DeltaTable;
use futures::TryStreamExt;
use serde::de::DeserializeOwned;

use super::location::Location;
use super::records::{Commit, IngestRecord, TagRecord, COMMIT_KEY};
use super::tables::{delta_error, version_of, Table};
use crate::error::Result;

/// Every commit of a table up to its loaded version, oldest first, with its version number.
pub async fn commits(loc: &Location, table: Table, t: &DeltaTable) -> Result<Vec<(i64, CommitInfo)>> {
    let latest = version_of(t);
    if latest < 0 {
        return Ok(Vec::new());
    }
    // Newest first; the log is contiguous (it is never cleaned before ten years), so the i-th is latest - i.
    let infos: Vec<CommitInfo> = t.history(None).try_collect().await.map_err(|e| delta_error(loc, table, e))?;
    let mut out: Vec<(i64, CommitInfo)> = infos.into_iter().enumerate().map(|(i, c)| (latest - i as i64, c)).collect();
    out.reverse();
    Ok(out)
}

fn record<T: DeserializeOwned>(info: &CommitInfo) -> Option<T> {
    info.info.get(COMMIT_KEY).and_then(|v| serde_json::from_value(v.clone()).ok())
}

/// The records of type `T` in `commits`, each stamped with the version of its commit.
fn versioned<T: DeserializeOwned>(commits: &[(i64, CommitInfo)], stamp: impl Fn(&mut T, i64)) -> Vec<T> {
    commits
        .iter()
        .filter_map(|(v, c)| {
            let mut r: T = record(c)?;
            stamp(&mut r, *v);
            Some(r)
        })
        .collect()
}

/// The ingests committed to `calls` up to its loaded version, in commit order.
pub fn ingests(commits: &[(i64, CommitInfo)]) -> Vec<IngestRecord> {
    versioned(commits, |r: &mut IngestRecord, v| r.calls_version = Some(v))
}

/// Tag runs committed to `eligibility`, in commit order.
pub fn tags(commits: &[(i64, CommitInfo)]) -> Vec<TagRecord> {
    versioned(commits, |r: &mut TagRecord, v| r.eligibility_version = Some(v))
}

/// History rows of one table.
pub fn history_rows(table: Table, commits: &[(i64, CommitInfo)]) -> Vec<Commit> {
    commits
        .iter()
        .map(|(v, c)| {
            let ingest: Option<IngestRecord> = if table == Table::Calls { record(c) } else { None };
            let tag: Option<TagRecord> = if table == Table::Eligibility { record(c) } else { None };
            // The rejects half of an ingest: {ingest_id, file, rows}.
            let rejects = if table == Table::Rejects { c.info.get(COMMIT_KEY) } else { None };
            let rows = match (&ingest, &tag) {
                (Some(i), _) => Some(i.calls_kept),
                (_, Some(t)) => Some(t.calls * t.scenarios.len() as u64),
                _ => rejects.and_then(|r| r.get("rows")).and_then(|r| r.as_u64()),
            };
            let operation = match (&ingest, &tag, rejects) {
                (Some(_), _, _) => "INGEST".to_string(),
                (_, Some(t), _) => format!("TAG {}", t.policy_name),
                (_, _, Some(_)) => "INGEST REJECTS".to_string(),
                _ => c.operation.clone().unwrap_or_default(),
            };
            Commit {
                table: table.name().to_string(),
                version: *v,
                timestamp_ms: c.timestamp.unwrap_or_default(),
                operation,
                file: ingest
                    .map(|i| i.file)
                    .or_else(|| rejects.and_then(|r| r.get("file")).and_then(|f| f.as_str().map(String::from))),
                rows,
            }
        })
        .collect()
}

//! What the warehouse records about each commit, in the Delta commit metadata (`commitInfo`) under
//! the key `callsift`: an ingest's reconciliation and unmapped-type summary, a tag run's policy and
//! the `calls` version it tagged. The commit log is the audit trail; there is no side file.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The key under which callsift's record sits in a commit's metadata.
pub const COMMIT_KEY: &str = "callsift";

pub fn sha256_hex(bytes: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(bytes);
    hex(&h.finalize())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct UnmappedType {
    pub raw_type: String,
    pub rows: u64,
}

/// What one ingested file contributed. `rows_read = calls_kept + rows_rejected + unit_rows_merged + non_calls_dropped`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IngestRecord {
    pub ingest_id: String,
    pub file: String,
    /// BLAKE3 of the file's bytes: the idempotence key (the commit's Delta transaction id).
    pub blake3: String,
    pub bytes: u64,
    pub profile: String,
    pub profile_sha256: String,
    pub ingested_at: String,
    pub rows_read: u64,
    pub calls_kept: u64,
    pub rows_rejected: u64,
    pub unit_rows_merged: u64,
    pub non_calls_dropped: u64,
    /// Reject counts by reason (reason text without the row-specific value).
    pub rejects_by_reason: BTreeMap<String, u64>,
    /// Calls kept by where their category came from: `crosswalk`, `classifier`, `unmapped`.
    #[serde(default)]
    pub calls_by_category_source: BTreeMap<String, u64>,
    /// Volume of calls whose type neither the crosswalk nor the classifier maps, most frequent first.
    pub unmapped_types: Vec<UnmappedType>,
    /// Values of mapped fields (priority, call source, …) that the profile did not map.
    pub unmapped_values: BTreeMap<String, BTreeMap<String, u64>>,
    /// Call ids stored more than once by this file: incidents whose unit rows lay further apart
    /// than the merge window, or an incident-level export repeating an id.
    pub duplicate_call_ids: u64,
    /// Data files this ingest added to `calls` (paths relative to the table).
    pub files: Vec<String>,
    /// The `calls` version this ingest's commit created (filled in when read back from the log).
    #[serde(default)]
    pub calls_version: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TagRecord {
    pub policy: String,
    pub policy_name: String,
    pub policy_sha256: String,
    pub scenarios: Vec<String>,
    pub tagged_at: String,
    pub calls: u64,
    pub unmapped_share: f64,
    /// The `calls` version the eligibility was computed from.
    #[serde(default)]
    pub calls_version: i64,
    /// The `eligibility` version this tag run created (filled in when read back from the log).
    #[serde(default)]
    pub eligibility_version: Option<i64>,
    /// The reason of each outcome code the table stores (`eligibility::sql::reasons`); empty for a
    /// table written in the older one-row-per-(call, scenario) layout.
    #[serde(default)]
    pub reasons: Vec<String>,
}

/// What a command reads: the ingests in the `calls` snapshot and the tag of the `eligibility` one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub ingests: Vec<IngestRecord>,
    pub tag: Option<TagRecord>,
    /// The versions read: `calls`, `rejects`, `eligibility` (absent before the first tag).
    pub versions: Versions,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Versions {
    pub calls: i64,
    pub rejects: i64,
    pub eligibility: Option<i64>,
}

/// One commit of one table, for `callsift history`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Commit {
    pub table: String,
    pub version: i64,
    /// Milliseconds since the epoch, as Delta records it.
    pub timestamp_ms: i64,
    pub operation: String,
    /// The input file of an ingest.
    pub file: Option<String>,
    /// Rows the commit added (calls kept, rejects, or eligibility rows).
    pub rows: Option<u64>,
}

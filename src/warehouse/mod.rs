//! The warehouse: hive-partitioned Parquet on local disk plus a manifest.
//!
//! ```text
//! DIR/calls/year=YYYY/month=M/part-<ingest>-<n>.parquet   (month unpadded: see ingest.rs)
//! DIR/rejects/part-<ingest>.parquet
//! DIR/eligibility/part-*.parquet
//! DIR/manifest.json
//! DIR/.staging/…            (work in progress; never read)
//! ```
//! Crash safety: every run writes under `.staging/`, then commits by renaming files into place and
//! finally replacing `manifest.json` atomically. The manifest is the commit point: on open, any data
//! file whose ingest id the manifest does not list is debris of a killed commit and is removed.
pub mod engine;
pub mod query;
pub mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, IoContext, Result};

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
    pub sha256: String,
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
    pub files: Vec<String>,
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
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub version: u32,
    pub ingests: Vec<IngestRecord>,
    pub tag: Option<TagRecord>,
}

pub struct Warehouse {
    pub dir: PathBuf,
}

/// Holds `DIR/.lock` for the life of a writing command, so two ingests cannot interleave commits.
pub struct WriteLock {
    path: PathBuf,
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Warehouse {
    /// Open (creating if needed) and clean up after any killed run.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Warehouse> {
        let dir = dir.into();
        for sub in ["calls", "rejects", "eligibility", ".staging"] {
            std::fs::create_dir_all(dir.join(sub))
                .map_err(|e| Error::Warehouse { dir: dir.clone(), message: format!("cannot create {sub}/: {e}") })?;
        }
        Ok(Warehouse { dir })
    }

    /// Open an existing warehouse for reading; error if there is none.
    pub fn open_existing(dir: impl Into<PathBuf>) -> Result<Warehouse> {
        let dir = dir.into();
        if !dir.join("manifest.json").is_file() {
            return Err(Error::Usage(format!(
                "{} is not a callsift warehouse (no manifest.json); run `callsift ingest --warehouse {}` first",
                dir.display(),
                dir.display()
            )));
        }
        Ok(Warehouse { dir })
    }

    pub fn lock(&self) -> Result<WriteLock> {
        let path = self.dir.join(".lock");
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut f) => {
                use std::io::Write;
                let _ = writeln!(f, "{}", std::process::id());
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                // A lock left by a killed process is stale; a live one is not.
                let pid = std::fs::read_to_string(&path).ok().and_then(|s| s.trim().parse::<u32>().ok());
                let alive = pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists() && p != std::process::id());
                if alive {
                    return Err(Error::Warehouse {
                        dir: self.dir.clone(),
                        message: format!("locked by running process {}", pid.unwrap()),
                    });
                }
                std::fs::write(&path, format!("{}\n", std::process::id()))
                    .ctx(|| format!("writing {}", path.display()))?;
            }
            Err(e) => return Err(Error::io(format!("creating {}", path.display()), e)),
        }
        let lock = WriteLock { path };
        self.recover()?;
        Ok(lock)
    }

    pub fn manifest_path(&self) -> PathBuf {
        self.dir.join("manifest.json")
    }

    pub fn manifest(&self) -> Result<Manifest> {
        let p = self.manifest_path();
        match std::fs::read(&p) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| Error::Warehouse {
                dir: self.dir.clone(),
                message: format!("manifest.json is corrupt: {e}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest { version: 1, ..Default::default() }),
            Err(e) => Err(Error::io(format!("reading {}", p.display()), e)),
        }
    }

    /// The commit point: write a temp file, fsync, rename over manifest.json.
    pub fn write_manifest(&self, m: &Manifest) -> Result<()> {
        let tmp = self.dir.join(".staging").join("manifest.json.tmp");
        let text = serde_json::to_string_pretty(m).expect("manifest serialises");
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).ctx(|| format!("writing {}", tmp.display()))?;
            f.write_all(text.as_bytes()).ctx(|| format!("writing {}", tmp.display()))?;
            f.sync_all().ctx(|| format!("syncing {}", tmp.display()))?;
        }
        std::fs::rename(&tmp, self.manifest_path()).ctx(|| "committing manifest.json".into())
    }

    /// A fresh staging directory for one run.
    pub fn staging(&self, tag: &str) -> Result<PathBuf> {
        let p = self.dir.join(".staging").join(format!("{tag}-{}", std::process::id()));
        if p.exists() {
            std::fs::remove_dir_all(&p).ctx(|| format!("clearing {}", p.display()))?;
        }
        std::fs::create_dir_all(&p).ctx(|| format!("creating {}", p.display()))?;
        Ok(p)
    }

    /// Remove debris of killed runs: staging dirs and data files of uncommitted ingests.
    pub fn recover(&self) -> Result<()> {
        let m = self.manifest()?;
        let committed: std::collections::HashSet<&str> = m.ingests.iter().map(|i| i.ingest_id.as_str()).collect();
        let staging = self.dir.join(".staging");
        if let Ok(rd) = std::fs::read_dir(&staging) {
            for e in rd.flatten() {
                let p = e.path();
                let _ = if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
            }
        }
        for sub in ["calls", "rejects"] {
            for f in parquet_files(&self.dir.join(sub)) {
                let name = f.file_name().unwrap_or_default().to_string_lossy().to_string();
                if let Some(id) = ingest_id_of(&name) {
                    if !committed.contains(id) {
                        std::fs::remove_file(&f).ctx(|| format!("removing uncommitted {}", f.display()))?;
                    }
                }
            }
        }
        // An interrupted eligibility swap leaves `eligibility.old`; the new one is already in place.
        let old = self.dir.join("eligibility.old");
        if old.exists() {
            if self.dir.join("eligibility").exists() {
                std::fs::remove_dir_all(&old).ctx(|| "removing eligibility.old".into())?;
            } else {
                std::fs::rename(&old, self.dir.join("eligibility")).ctx(|| "restoring eligibility".into())?;
            }
        }
        Ok(())
    }

    /// Move staged files (paths relative to `staging`) into the warehouse, then commit the manifest.
    pub fn commit_ingest(&self, staging: &Path, mut record: IngestRecord, staged: &[PathBuf]) -> Result<()> {
        let mut m = self.manifest()?;
        let mut files = Vec::new();
        for rel in staged {
            let dest = self.dir.join(rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).ctx(|| format!("creating {}", parent.display()))?;
            }
            std::fs::rename(staging.join(rel), &dest).ctx(|| format!("moving {} into place", rel.display()))?;
            files.push(rel.to_string_lossy().to_string());
        }
        record.files = files;
        m.version = 1;
        m.ingests.push(record);
        self.write_manifest(&m)?;
        let _ = std::fs::remove_dir_all(staging);
        Ok(())
    }

    /// Swap a freshly written eligibility directory into place.
    pub fn commit_eligibility(&self, staged_dir: &Path, tag: TagRecord) -> Result<()> {
        let live = self.dir.join("eligibility");
        let old = self.dir.join("eligibility.old");
        if live.exists() {
            std::fs::rename(&live, &old).ctx(|| "moving old eligibility aside".into())?;
        }
        std::fs::rename(staged_dir, &live).ctx(|| "moving new eligibility into place".into())?;
        let mut m = self.manifest()?;
        m.tag = Some(tag);
        self.write_manifest(&m)?;
        if old.exists() {
            std::fs::remove_dir_all(&old).ctx(|| "removing old eligibility".into())?;
        }
        Ok(())
    }

    /// A DataFusion session with `calls`, `rejects` and `eligibility` registered.
    pub async fn session(&self) -> Result<SessionContext> {
        let ctx = crate::warehouse::engine::new_context();
        self.register(&ctx).await?;
        Ok(ctx)
    }

    pub async fn register(&self, ctx: &SessionContext) -> Result<()> {
        register_table(ctx, "calls", &self.dir.join("calls"), schema::call_file_schema(), &schema::CALL_PARTITIONS)
            .await?;
        register_table(ctx, "rejects", &self.dir.join("rejects"), schema::reject_schema(), &[]).await?;
        register_table(ctx, "eligibility", &self.dir.join("eligibility"), schema::eligibility_schema(), &[]).await?;
        Ok(())
    }
}

/// Data files are named `part-<ingest_id>-…parquet`.
pub fn ingest_id_of(file_name: &str) -> Option<&str> {
    let rest = file_name.strip_prefix("part-")?;
    rest.split(['-', '.']).next()
}

pub fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

async fn register_table(
    ctx: &SessionContext,
    name: &str,
    dir: &Path,
    file_schema: datafusion::arrow::datatypes::SchemaRef,
    partitions: &[&str],
) -> Result<()> {
    std::fs::create_dir_all(dir).ctx(|| format!("creating {}", dir.display()))?;
    let abs = std::fs::canonicalize(dir).ctx(|| format!("resolving {}", dir.display()))?;
    let url = ListingTableUrl::parse(format!("{}/", abs.display()))?;
    let opts = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(partitions.iter().map(|p| (p.to_string(), DataType::Int32)).collect());
    let config = ListingTableConfig::new(url).with_listing_options(opts).with_schema(file_schema);
    let table = ListingTable::try_new(config)?;
    ctx.register_table(name, Arc::new(table))?;
    Ok(())
}

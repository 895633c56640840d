//! The warehouse: three Delta Lake tables (`calls`, `rejects`, `eligibility`) in a local folder or
//! under an `s3://` prefix, written and read through delta-rs.
//!
//! Commits are Delta's: atomic "create the next log entry if absent", optimistic concurrency with
//! retry, transaction ids for idempotent ingest. A command reads one snapshot, taken when the
//! warehouse is opened: the `calls` version (latest, or `--as-of`), the eligibility a `tag` wrote
//! against it, and the rejects of the ingests in it. See docs/warehouse.md.
pub mod commit;
pub mod engine;
pub mod location;
pub mod log;
pub mod maintenance;
pub mod query;
pub mod records;
pub mod schema;
pub mod tables;

use std::path::Path;
use std::sync::Arc;

use datafusion::datasource::MemTable;
use datafusion::prelude::{col, lit, SessionContext};
use deltalake::DeltaTable;

pub use location::Location;
pub use records::{hex, sha256_hex, Commit, IngestRecord, Manifest, TagRecord, UnmappedType, Versions};
use tables::{load, load_or_create, version_of, Table};

use crate::error::{Error, Result};

pub struct Warehouse {
    pub location: Location,
    calls: DeltaTable,
    rejects: DeltaTable,
    eligibility: Option<DeltaTable>,
    manifest: Manifest,
}

impl Warehouse {
    /// Open for writing, creating the tables if there are none yet; the latest snapshot.
    pub async fn open(dir: &Path) -> Result<Warehouse> {
        let location = Location::parse(dir)?;
        let calls = load_or_create(&location, Table::Calls).await?;
        let rejects = load_or_create(&location, Table::Rejects).await?;
        let eligibility = load(&location, Table::Eligibility, None).await?;
        Self::assemble(location, calls, rejects, eligibility, None).await
    }

    /// Open an existing warehouse for reading, at its latest snapshot.
    pub async fn open_existing(dir: &Path) -> Result<Warehouse> {
        Self::open_as_of(dir, None).await
    }

    /// Open an existing warehouse as it was at `calls` version `as_of` (latest when `None`), with
    /// the eligibility the last `tag` before that point wrote.
    pub async fn open_as_of(dir: &Path, as_of: Option<i64>) -> Result<Warehouse> {
        let location = Location::parse(dir)?;
        let Some(calls) = load(&location, Table::Calls, as_of).await? else {
            return Err(Error::Usage(format!(
                "{} is not a callsift warehouse (no calls table); run `callsift ingest --warehouse {}` first",
                location.display, location.display
            )));
        };
        let rejects = load_or_create(&location, Table::Rejects).await?;
        let eligibility = load(&location, Table::Eligibility, None).await?;
        Self::assemble(location, calls, rejects, eligibility, as_of).await
    }

    async fn assemble(
        location: Location,
        calls: DeltaTable,
        rejects: DeltaTable,
        eligibility: Option<DeltaTable>,
        as_of: Option<i64>,
    ) -> Result<Warehouse> {
        let ingests = log::ingests(&log::commits(&location, Table::Calls, &calls).await?);
        let calls_version = version_of(&calls);
        let (tag, eligibility) = match eligibility {
            None => (None, None),
            Some(e) => {
                let tags = log::tags(&log::commits(&location, Table::Eligibility, &e).await?);
                // The last tag run made from a `calls` version this snapshot contains.
                match tags.into_iter().rev().find(|t| t.calls_version <= calls_version) {
                    None => (None, None),
                    Some(t) if as_of.is_none() && t.eligibility_version == e.version().map(|v| v as i64) => {
                        (Some(t), Some(e))
                    }
                    Some(t) => {
                        let at = load(&location, Table::Eligibility, t.eligibility_version).await?;
                        (Some(t), at)
                    }
                }
            }
        };
        let versions = Versions {
            calls: calls_version,
            rejects: version_of(&rejects),
            eligibility: eligibility.as_ref().map(version_of),
        };
        let manifest = Manifest { ingests, tag, versions };
        Ok(Warehouse { location, calls, rejects, eligibility, manifest })
    }

    /// What this snapshot holds: its ingests, its tag, the versions read.
    pub fn manifest(&self) -> Result<Manifest> {
        Ok(self.manifest.clone())
    }

    pub fn display(&self) -> &str {
        &self.location.display
    }

    /// When eligibility was computed from an older `calls` than this snapshot's (ingests since):
    /// the warning `report`, `publish` and `dashboard` print.
    pub fn stale_tag_warning(&self) -> Option<String> {
        let tag = self.manifest.tag.as_ref()?;
        let newer: Vec<&IngestRecord> =
            self.manifest.ingests.iter().filter(|i| i.calls_version.unwrap_or(0) > tag.calls_version).collect();
        if newer.is_empty() {
            return None;
        }
        let calls: u64 = newer.iter().map(|i| i.calls_kept).sum();
        Some(format!(
            "eligibility was tagged against calls version {} but {} later ingest(s) added {calls} calls (calls is at version {}); \
             their eligibility is missing until you run `callsift tag` again",
            tag.calls_version,
            newer.len(),
            self.manifest.versions.calls
        ))
    }

    /// A DataFusion session with `calls`, `rejects` and `eligibility` of this snapshot registered.
    pub async fn session(&self) -> Result<SessionContext> {
        let ctx = engine::new_context();
        self.register(&ctx).await?;
        Ok(ctx)
    }

    pub async fn register(&self, ctx: &SessionContext) -> Result<()> {
        let state = ctx.state();
        let session = Arc::new(ctx.state());
        let provider = |t: &DeltaTable| {
            t.update_datafusion_session(&state).map_err(|e| tables::delta_error(&self.location, Table::Calls, e))?;
            Ok::<_, Error>(t.table_provider().with_session(session.clone()))
        };
        ctx.register_table("calls", provider(&self.calls)?.await.map_err(Error::DataFusion)?)?;
        // Rejects of ingests this snapshot committed only: a run killed between its rejects commit
        // and its calls commit leaves rejected rows no `calls` commit vouches for.
        let ids: Vec<_> = self.manifest.ingests.iter().map(|i| lit(i.ingest_id.clone())).collect();
        let all_rejects = ctx.read_table(provider(&self.rejects)?.await.map_err(Error::DataFusion)?)?;
        let rejects = if ids.is_empty() {
            all_rejects.limit(0, Some(0))?
        } else {
            all_rejects.filter(col("ingest_id").in_list(ids, false))?
        };
        ctx.register_table("rejects", rejects.into_view())?;
        match &self.eligibility {
            Some(e) => ctx.register_table("eligibility", provider(e)?.await.map_err(Error::DataFusion)?)?,
            None => ctx.register_table(
                "eligibility",
                Arc::new(MemTable::try_new(schema::eligibility_schema(), vec![vec![]])?),
            )?,
        };
        Ok(())
    }

    /// Every commit of every table, oldest first per table.
    pub async fn history(&self) -> Result<Vec<Commit>> {
        let mut out = log::history_rows(Table::Calls, &log::commits(&self.location, Table::Calls, &self.calls).await?);
        out.extend(log::history_rows(
            Table::Rejects,
            &log::commits(&self.location, Table::Rejects, &self.rejects).await?,
        ));
        if let Some(e) = load(&self.location, Table::Eligibility, None).await? {
            out.extend(log::history_rows(
                Table::Eligibility,
                &log::commits(&self.location, Table::Eligibility, &e).await?,
            ));
        }
        out.sort_by_key(|c| (c.timestamp_ms, c.table.clone(), c.version));
        Ok(out)
    }
}

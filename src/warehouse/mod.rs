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
pub mod view;

use std::path::Path;
use std::sync::Arc;

use datafusion::datasource::{MemTable, TableProvider};
use datafusion::prelude::{col, lit, SessionContext};
use deltalake::DeltaTable;

pub use location::Location;
pub use records::{hex, sha256_hex, Commit, IngestRecord, Manifest, TagRecord, UnmappedType, Versions};
use tables::{load, version_of, Table};

use crate::error::{Error, Result};

/// The stored `eligibility` Delta table, as SQL names it (the view `eligibility` reads it).
pub const BY_CALL: &str = "eligibility_by_call";

pub struct Warehouse {
    pub location: Location,
    /// `None` until the first ingest creates the table.
    calls: Option<DeltaTable>,
    rejects: Option<DeltaTable>,
    eligibility: Option<DeltaTable>,
    manifest: Manifest,
}

impl Warehouse {
    /// Open for writing: the latest snapshot, possibly of no tables yet (the first commit creates
    /// them, so a file that fails to parse leaves no trace).
    pub async fn open(dir: &Path) -> Result<Warehouse> {
        let location = Location::parse(dir)?;
        let calls = load(&location, Table::Calls, None).await?;
        let rejects = load(&location, Table::Rejects, None).await?;
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
        let rejects = load(&location, Table::Rejects, None).await?;
        let eligibility = load(&location, Table::Eligibility, None).await?;
        Self::assemble(location, Some(calls), rejects, eligibility, as_of).await
    }

    async fn assemble(
        location: Location,
        calls: Option<DeltaTable>,
        rejects: Option<DeltaTable>,
        eligibility: Option<DeltaTable>,
        as_of: Option<i64>,
    ) -> Result<Warehouse> {
        let ingests = match &calls {
            Some(c) => log::ingests(&log::commits(&location, Table::Calls, c).await?),
            None => Vec::new(),
        };
        let calls_version = calls.as_ref().map(version_of).unwrap_or(-1);
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
            rejects: rejects.as_ref().map(version_of).unwrap_or(-1),
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
        let empty = |schema| MemTable::try_new(schema, vec![vec![]]).map(|t| Arc::new(t) as Arc<dyn TableProvider>);
        let calls = match &self.calls {
            Some(c) => provider(c)?.await.map_err(Error::DataFusion)?,
            None => empty(schema::call_table_schema())?,
        };
        ctx.register_table("calls", calls)?;
        // Rejects of ingests this snapshot committed only: a run killed between its rejects commit
        // and its calls commit leaves rejected rows no `calls` commit vouches for.
        let ids: Vec<_> = self.manifest.ingests.iter().map(|i| lit(i.ingest_id.clone())).collect();
        let rejects = match &self.rejects {
            Some(r) if !ids.is_empty() => ctx
                .read_table(provider(r)?.await.map_err(Error::DataFusion)?)?
                .filter(col("ingest_id").in_list(ids, false))?
                .into_view(),
            _ => empty(schema::reject_schema())?,
        };
        ctx.register_table("rejects", rejects)?;
        let tag = self.manifest.tag.as_ref();
        match (&self.eligibility, tag) {
            // One row per call with outcome codes per scenario: `eligibility` is the view of it.
            (Some(e), Some(t)) if !t.reasons.is_empty() => {
                ctx.register_table(BY_CALL, provider(e)?.await.map_err(Error::DataFusion)?)?;
                let view = ctx.sql(&view::view_sql(&t.scenarios, &t.reasons, BY_CALL)).await?.into_view();
                ctx.register_table("eligibility", view)?;
            }
            // The older layout stored (call, scenario) rows as they are.
            (Some(e), _) => {
                ctx.register_table("eligibility", provider(e)?.await.map_err(Error::DataFusion)?)?;
            }
            (None, _) => {
                ctx.register_table("eligibility", empty(schema::eligibility_schema())?)?;
            }
        }
        Ok(())
    }

    /// Every commit of every table, oldest first per table.
    pub async fn history(&self) -> Result<Vec<Commit>> {
        let mut out = Vec::new();
        for table in Table::ALL {
            if let Some(t) = load(&self.location, table, None).await? {
                out.extend(log::history_rows(table, &log::commits(&self.location, table, &t).await?));
            }
        }
        out.sort_by_key(|c| (c.timestamp_ms, c.table.clone(), c.version));
        Ok(out)
    }
}

//! `report`, `sql` and `explain`: reading the warehouse. All three are read-only: only queries
//! run (`output::sql`); a statement that writes, copies, creates, drops or sets exits 2.
use std::io::Write;
use std::path::Path;

use crate::cli::text::{emit, out_err};
use crate::error::{IoContext, Result};
use crate::output::report::{self, Format, ReportSql};
use crate::warehouse::Warehouse;

pub async fn report(
    name: &str,
    warehouse: &Path,
    as_of: Option<i64>,
    params: &[(String, String)],
    fmt: Format,
    out_path: Option<&Path>,
    out: &mut dyn Write,
) -> Result<()> {
    let r = ReportSql::load(name)?;
    let wh = Warehouse::open_as_of(warehouse, as_of).await?;
    warn_if_stale(&wh);
    let batches = report::run_on(&wh, &r, params).await?;
    let mut text = String::new();
    if fmt == Format::Table {
        text.push_str(&format!("{}\n", r.title));
    }
    text.push_str(&report::format(&batches, fmt)?);
    emit(&text, out_path, out)
}

pub async fn sql(
    query: &str,
    warehouse: &Path,
    as_of: Option<i64>,
    fmt: Format,
    out_path: Option<&Path>,
    out: &mut dyn Write,
) -> Result<()> {
    let wh = Warehouse::open_as_of(warehouse, as_of).await?;
    let ctx = wh.session().await?;
    let batches = report::run_sql(&ctx, query).await?;
    emit(&report::format(&batches, fmt)?, out_path, out)
}

pub async fn explain(
    call_id: &str,
    warehouse: &Path,
    as_of: Option<i64>,
    policy: Option<&str>,
    out: &mut dyn Write,
) -> Result<()> {
    let wh = Warehouse::open_as_of(warehouse, as_of).await?;
    let policy = crate::eligibility::policy::tagged_policy(&wh, policy)?.0;
    let text = crate::eligibility::explain::explain(&wh, call_id, &policy).await?;
    out.write_all(text.as_bytes()).ctx(out_err)
}

/// `callsift sensitivity`: every tagged scenario re-sized under each assumption's two sides.
pub async fn sensitivity(
    warehouse: &Path,
    policy: Option<&str>,
    assumptions: &str,
    fmt: Format,
    out_path: Option<&Path>,
    out: &mut dyn Write,
) -> Result<()> {
    use crate::eligibility::sensitivity;
    let wh = Warehouse::open_existing(warehouse).await?;
    let ctx = wh.session().await?;
    let (policy, rows) = sensitivity::for_warehouse(&wh, &ctx, policy, assumptions).await?;
    let mut text = String::new();
    if fmt == Format::Table {
        text.push_str(&format!(
            "Sensitivity of the eligible share (% of calls from the public) to each assumption, policy {}\n",
            policy.name
        ));
    }
    text.push_str(&report::format(&[sensitivity::to_batch(&rows)?], fmt)?);
    emit(&text, out_path, out)
}

/// Eligibility computed from an older `calls` than the one read: say so on stderr (the numbers are
/// still printed; the calls ingested since have no eligibility rows yet).
pub fn warn_if_stale(wh: &Warehouse) {
    if let Some(w) = wh.stale_tag_warning() {
        eprintln!("warning: {w}");
    }
}

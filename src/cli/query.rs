//! `report`, `sql` and `explain`: reading the warehouse. All three are read-only: only queries
//! run (`output::sql`); a statement that writes, copies, creates, drops or sets exits 2.
use std::io::Write;
use std::path::Path;

use crate::cli::text::{emit, out_err};
use crate::eligibility::policy::Policy;
use crate::error::{IoContext, Result};
use crate::output::report::{self, Format, ReportSql};
use crate::warehouse::Warehouse;

pub async fn report(
    name: &str,
    warehouse: &Path,
    params: &[(String, String)],
    fmt: Format,
    out_path: Option<&Path>,
    out: &mut dyn Write,
) -> Result<()> {
    let r = ReportSql::load(name)?;
    let wh = Warehouse::open_existing(warehouse)?;
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
    fmt: Format,
    out_path: Option<&Path>,
    out: &mut dyn Write,
) -> Result<()> {
    let wh = Warehouse::open_existing(warehouse)?;
    let ctx = wh.session().await?;
    let batches = report::run_sql(&ctx, query).await?;
    emit(&report::format(&batches, fmt)?, out_path, out)
}

pub async fn explain(call_id: &str, warehouse: &Path, policy: Option<&str>, out: &mut dyn Write) -> Result<()> {
    let wh = Warehouse::open_existing(warehouse)?;
    // Default to the policy of the last tag run, so the explanation matches the stored outcomes.
    let policy = match policy {
        Some(p) => Policy::load(p)?,
        None => match wh.manifest()?.tag {
            Some(t) => Policy::load(&t.policy).or_else(|_| Policy::load(&t.policy_name))?,
            None => Policy::load("standard")?,
        },
    };
    let text = crate::eligibility::explain::explain(&wh, call_id, &policy).await?;
    out.write_all(text.as_bytes()).ctx(out_err)
}

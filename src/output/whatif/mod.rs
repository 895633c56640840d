//! The what-if page (`callsift dashboard build whatif`): one self-contained HTML file where a person
//! switches the policy's limitations and disqualifiers on and off, chooses service hours and
//! districts, and sees the eligible share, the waterfall and the teams needed move. The browser
//! computes everything from a small public cube ([`cube`]) callsift writes into the page ([`page`]).
//!
//! The policy is the one the warehouse was tagged with (manifest), else `standard`, so that for
//! every setting matching a policy scenario the page's eligible share is `report sizing`'s.
pub mod cube;
pub mod page;

use std::path::{Path, PathBuf};

pub use cube::{build_cube, Cell, Cube};
pub use page::render_page;

use crate::eligibility::policy::tagged_policy;
use crate::error::{IoContext, Result};
use crate::warehouse::Warehouse;

/// The dashboard name that builds this page.
pub const NAME: &str = "whatif";

/// What [`build`] wrote.
#[derive(Debug, Clone)]
pub struct WhatifSummary {
    pub policy: String,
    pub out: PathBuf,
    pub bytes: u64,
    /// Cells published, and bytes of the cube's JSON.
    pub cells: usize,
    pub cube_bytes: u64,
    /// Full-detail cells below the threshold (rolled up), the calls in them, and calls left out.
    pub small_cells: usize,
    pub small_cell_calls: u64,
    pub dropped_calls: u64,
    /// The most calls a policy hours/area filter can misplace (see [`Cube::hours_area_approx_calls`]).
    pub hours_area_approx_calls: u64,
}

/// Build the what-if page for the warehouse and write it to `out`.
pub async fn build(wh: &Warehouse, out: &Path) -> Result<WhatifSummary> {
    let (policy, _) = tagged_policy(wh, None)?;
    let ctx = wh.session().await?;
    let cube = build_cube(&ctx, &policy).await?;
    let coverage = coverage(wh, &ctx).await;
    let html = render_page(&policy, &cube, &coverage)?;
    if let Some(parent) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).ctx(|| format!("creating {}", parent.display()))?;
    }
    let tmp = out.with_extension("html.tmp");
    std::fs::write(&tmp, &html).ctx(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, out).ctx(|| format!("writing {}", out.display()))?;
    Ok(WhatifSummary {
        policy: policy.name.clone(),
        out: out.to_path_buf(),
        bytes: html.len() as u64,
        cells: cube.cells.len(),
        cube_bytes: serde_json::to_string(&page::cube_json(&cube)).map(|s| s.len() as u64).unwrap_or(0),
        small_cells: cube.small_cells,
        small_cell_calls: cube.small_cell_calls,
        dropped_calls: cube.dropped_calls,
        hours_area_approx_calls: cube.hours_area_approx_calls,
    })
}

/// One line on what the data covers.
async fn coverage(wh: &Warehouse, ctx: &datafusion::prelude::SessionContext) -> String {
    let mut s = String::new();
    let sql = "SELECT CAST(min(received_local) AS DATE) AS a, CAST(max(received_local) AS DATE) AS b FROM calls";
    if let Ok(r) = crate::output::privacy::public_query(ctx, sql).await {
        if let Ok(rows) = crate::output::report::rows_as_text(&r.batches) {
            if let Some([Some(a), Some(z)]) = rows.first().map(|r| [r[0].clone(), r[1].clone()]) {
                s.push_str(&format!("Calls received {a} to {z} (local time)"));
            }
        }
    }
    if let Ok(Some(tag)) = wh.manifest().map(|m| m.tag) {
        s.push_str(&format!(
            "{}policy `{}` (tagged {})",
            if s.is_empty() { "" } else { "; " },
            tag.policy_name,
            tag.tagged_at
        ));
    }
    s
}

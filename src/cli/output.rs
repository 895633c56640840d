//! `evaluate`, `publish` and `dashboard`: outputs for programs and the public.
use std::io::Write;
use std::path::Path;

use crate::cli::text::{emit, out_err};
use crate::error::{IoContext, Result};
use crate::output::evaluate::{self, CI_ALPHA, OUTCOME_NOTE};
use crate::output::report::{self, Format};
use crate::output::{dashboard, publish, whatif};
use crate::warehouse::Warehouse;

/// `callsift evaluate`: TWFE difference-in-differences estimates as a table or file.
pub async fn evaluate(
    warehouse: &Path,
    params: &[(String, String)],
    replicates: usize,
    seed: u64,
    format: Format,
    out_path: Option<&Path>,
    out: &mut dyn Write,
) -> Result<()> {
    let wh = Warehouse::open_existing(warehouse).await?;
    let est = evaluate::evaluate(&wh, params, seed, replicates).await?;
    let mut text = String::new();
    if format == Format::Table {
        text.push_str("Program evaluation: two-way fixed-effects difference-in-differences on the district x week panel (estimate = change per treated district-week)\n");
        if let Some(e) = est.first() {
            text.push_str(&format!(
                "scenario {}, starts {}, {} of {} districts treated; {}\n\
                 p_value: share of the {} assignments of start dates to districts with an estimate at least as large (two-sided); \
                 ci: constant effects not rejected at {CI_ALPHA}, exact level ci_level under the design; \
                 pretrend: placebo start at {} on the weeks before the first start; {}\n",
                e.scenario,
                e.starts,
                e.clusters_treated,
                e.clusters_total,
                e.method,
                e.assignments,
                if e.pretrend_start.is_empty() { "-" } else { &e.pretrend_start },
                OUTCOME_NOTE
            ));
        }
    }
    text.push_str(&report::format(&[evaluate::to_batch(&est)], format)?);
    emit(&text, out_path, out)
}

/// `callsift publish monthly`.
pub async fn publish_monthly(
    warehouse: &Path,
    as_of: Option<i64>,
    opts: &publish::MonthlyOptions,
    out_dir: &Path,
    out: &mut dyn Write,
) -> Result<()> {
    let wh = Warehouse::open_as_of(warehouse, as_of).await?;
    crate::cli::query::warn_if_stale(&wh);
    let p = publish::monthly(&wh, opts, out_dir).await?;
    writeln!(
        out,
        "published the {} transparency report: {} ({} CSV tables, {} cells suppressed below {})",
        p.month,
        p.html.display(),
        p.csvs.len(),
        p.suppressed_cells,
        opts.threshold
    )
    .ctx(out_err)
}

/// `callsift dashboard build`.
pub async fn dashboard_build(
    name: &str,
    warehouse: &Path,
    as_of: Option<i64>,
    params: &[(String, String)],
    out_path: &Path,
    out: &mut dyn Write,
) -> Result<()> {
    let wh = Warehouse::open_as_of(warehouse, as_of).await?;
    crate::cli::query::warn_if_stale(&wh);
    if name == whatif::NAME {
        if let Some((k, _)) = params.first() {
            return Err(crate::Error::Usage(format!(
                "dashboard whatif has no parameter `{k}`: its settings are chosen in the page (and in its URL fragment)"
            )));
        }
        let s = whatif::build(&wh, out_path).await?;
        return writeln!(
            out,
            "wrote the what-if page (policy {}, {} cells of at least {} calls, {} KB) to {}",
            s.policy,
            s.cells,
            whatif::cube::SUPPRESS_BELOW,
            s.bytes.div_ceil(1024),
            out_path.display()
        )
        .ctx(out_err);
    }
    let s = dashboard::build(&wh, name, params, out_path).await?;
    writeln!(out, "wrote dashboard {} ({} panels) to {}", s.name, s.panels, out_path.display()).ctx(out_err)
}

//! `callsift publish monthly`: the public monthly transparency report — an HTML page, a Markdown
//! version and the CSV behind every table — from the `transparency_*` queries, with small counts
//! suppressed (see `privacy`). Every table is a public query (read-only, lineage-checked: nothing
//! call-level can reach it other than counted or summarised) and goes through the one small-cell
//! engine; the threshold can be raised, never set below 11.
//!
//! Across periods: the summary shows this month, last month and year to date. A year-to-date count
//! minus last month's published year-to-date count is this month's count, so once a count is
//! hidden in any month of the year, its year-to-date cell stays hidden for the rest of that year.
use std::path::{Path, PathBuf};

use serde::Serialize;

use datafusion::prelude::SessionContext;

use crate::error::{Error, IoContext, Result};
use crate::output::format::{csv_text, markdown_table};
use crate::output::privacy::{self, Equation, Hide, PublicTable, Shape, Var};
use crate::output::report::{self, ReportSql};
use crate::warehouse::Warehouse;

/// The report's tables, in page order.
pub const TABLES: [&str; 4] =
    ["transparency_summary", "transparency_not_served", "transparency_outcomes", "transparency_repeat_locations"];

pub const DEFAULT_THRESHOLD: i64 = 11;

#[derive(Debug, Clone)]
pub struct MonthlyOptions {
    /// `YYYY-MM`; `None` = the latest month in the warehouse.
    pub month: Option<String>,
    /// The program's scenario (its hours, area and rules), e.g. `program`.
    pub scenario: String,
    pub threshold: i64,
}

#[derive(Debug, Clone, Serialize)]
struct TableOut {
    name: String,
    title: String,
    answers: String,
    csv: String,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Published {
    pub month: String,
    pub html: PathBuf,
    pub markdown: PathBuf,
    pub csvs: Vec<PathBuf>,
    pub suppressed_cells: usize,
}

fn valid_month(m: &str) -> bool {
    let b = m.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && m[..4].parse::<u32>().is_ok()
        && m[5..].parse::<u32>().is_ok_and(|v| (1..=12).contains(&v))
}

/// The latest month with calls, as `YYYY-MM`.
pub async fn latest_month(ctx: &datafusion::prelude::SessionContext) -> Result<String> {
    let b = report::run_sql(ctx, "SELECT CAST(max(year * 100 + month) AS BIGINT) AS ym FROM calls").await?;
    let ym = report::rows_as_text(&b)?
        .first()
        .and_then(|r| r[0].clone())
        .ok_or_else(|| Error::Usage("the warehouse has no calls".into()))?;
    let v: u32 = ym.parse().map_err(|_| Error::Usage(format!("unexpected month {ym}")))?;
    Ok(format!("{:04}-{:02}", v / 100, v % 100))
}

fn transpose(t: PublicTable) -> PublicTable {
    if t.rows.is_empty() || t.columns.is_empty() {
        return t;
    }
    let mut columns = vec!["measure".to_string()];
    columns.extend(t.rows.iter().map(|r| r[0].clone()));
    let rows: Vec<Vec<String>> = (1..t.columns.len())
        .map(|j| std::iter::once(t.columns[j].replace('_', " ")).chain(t.rows.iter().map(|r| r[j].clone())).collect())
        .collect();
    let hidden =
        (1..t.columns.len()).map(|j| std::iter::once(false).chain(t.hidden.iter().map(|h| h[j])).collect()).collect();
    PublicTable { columns, rows, hidden }
}

fn to_markdown(month: &str, threshold: i64, tables: &[TableOut]) -> String {
    let mut s = format!("# Community responder program — monthly transparency report, {month}\n\n");
    s.push_str(&format!(
        "Counts from 1 to {} are shown as `<{threshold}`; a cell marked `(suppressed)` is hidden so that such a count cannot be worked out from a total. \
         No addresses, caller details or free text are published.\n",
        threshold - 1
    ));
    for t in tables {
        s.push_str(&format!("\n## {}\n\n{}\n\n", t.title, t.answers));
        s.push_str(&markdown_table(&t.columns, &t.rows));
        s.push_str(&format!("\nData: [{}]({})\n", t.csv, t.csv));
    }
    s
}

fn shape(r: &ReportSql) -> Shape {
    if r.sql.lines().any(|l| l.trim() == "-- publish: additive") {
        Shape::Additive
    } else {
        Shape::PerRow
    }
}

/// The report's parameters for one month.
fn month_params(r: &ReportSql, month: &str, scenario: &str) -> Vec<(String, String)> {
    r.params
        .iter()
        .filter_map(|(k, _)| match k.as_str() {
            "month" => Some((k.clone(), month.to_string())),
            "scenario" => Some((k.clone(), scenario.to_string())),
            _ => None,
        })
        .collect()
}

/// One table of the report: its query result, how the engine sees its columns, what to hide.
struct Table {
    report: ReportSql,
    res: privacy::PublicResult,
    specs: Vec<privacy::ColumnSpec>,
    hide: Vec<Vec<Hide>>,
}

/// The summary's "eligible but not served" (eligible − eligible served) is a row of the not-served
/// table: the two are suppressed together so that neither gives the other's hidden cells away.
const UNSERVED_REASON: &str = "unknown (no unit-availability data)";

/// Run every table for `month` and decide what to hide. `ytd` = summary count columns whose
/// year-to-date cell must be hidden (a month of the year had them hidden).
async fn decide_month(ctx: &SessionContext, month: &str, opts: &MonthlyOptions, ytd: &[usize]) -> Result<Vec<Table>> {
    let mut tables = Vec::new();
    for name in TABLES {
        let report = ReportSql::load(name)?;
        let sql = report::prepare(ctx, &report, &month_params(&report, month, &opts.scenario)).await?;
        let res = privacy::public_query(ctx, &sql).await.map_err(|e| report::failed(&report.name, e))?;
        let specs = privacy::column_specs(&res.schema, &res.lineage, &[]);
        tables.push(Table { report, res, specs, hide: Vec::new() });
    }
    let (summary, rest) = tables.split_first_mut().expect("tables");
    let forced: Vec<(usize, usize)> = match period_row(&summary.res, "year to date")? {
        Some(i) => ytd.iter().map(|&j| (i, j)).collect(),
        None => Vec::new(),
    };
    joint(summary, &mut rest[0], &forced, opts.threshold)?;
    for t in rest.iter_mut().skip(1) {
        t.hide = privacy::decide(&t.specs, &t.res.batches, shape(&t.report), opts.threshold, &[], &[])?;
    }
    Ok(tables)
}

/// Suppress the summary and the not-served table as one grid (summary rows, then not-served
/// rows; summary columns, then not-served columns) with the equation linking them.
fn joint(summary: &mut Table, not_served: &mut Table, forced: &[(usize, usize)], threshold: i64) -> Result<()> {
    let (a, b) = (summary.specs.len(), not_served.specs.len());
    let va = privacy::numeric_values(&summary.res.batches)?;
    let vb = privacy::numeric_values(&not_served.res.batches)?;
    let mut values: Vec<Vec<Option<f64>>> =
        va.iter().map(|r| r.iter().copied().chain(vec![None; b]).collect()).collect();
    values.extend(vb.iter().map(|r| vec![None; a].into_iter().chain(r.iter().copied()).collect()));
    let mut specs = summary.specs.clone();
    specs.extend(not_served.specs.iter().cloned().map(|s| privacy::ColumnSpec {
        named_linear: s.named_linear.iter().map(|k| k + a).collect(),
        named_summary: s.named_summary.iter().map(|k| k + a).collect(),
        ..s
    }));
    let mut extra = Vec::new();
    // Each not-served count column adds up to a total (public: eligible − served, or elsewhere).
    for j in (0..b).filter(|&j| not_served.specs[j].count) {
        let terms = (0..vb.len()).map(|i| (Var::Cell(va.len() + i, a + j), 1.0)).collect();
        extra.push(Equation { terms });
    }
    let col = |t: &Table, n: &str| t.specs.iter().position(|s| s.name == n);
    let this = period_row(&summary.res, "this month")?;
    let unserved = report::rows_as_text(&not_served.res.batches)?
        .iter()
        .position(|r| r.first().and_then(|c| c.as_deref()) == Some(UNSERVED_REASON));
    if let (Some(i), Some(e), Some(s), Some(u), Some(c)) = (
        this,
        col(summary, "eligible_calls"),
        col(summary, "eligible_served_calls"),
        unserved,
        col(not_served, "calls"),
    ) {
        extra.push(Equation {
            terms: vec![(Var::Cell(i, e), 1.0), (Var::Cell(i, s), -1.0), (Var::Cell(va.len() + u, a + c), -1.0)],
        });
    }
    let hide = privacy::cells::suppress(&specs, &values, threshold, false, forced, &extra);
    summary.hide = hide[..va.len()].iter().map(|r| r[..a].to_vec()).collect();
    not_served.hide = hide[va.len()..].iter().map(|r| r[a..].to_vec()).collect();
    Ok(())
}

/// Rows of a per-period table by their first cell (`this month`, `year to date`).
fn period_row(res: &privacy::PublicResult, label: &str) -> Result<Option<usize>> {
    Ok(report::rows_as_text(&res.batches)?.iter().position(|r| r.first().and_then(|c| c.as_deref()) == Some(label)))
}

/// Summary count columns hidden in the "this month" row of any month of `month`'s year up to and
/// including `month`: their year-to-date cells stay hidden (else YTD − last month's YTD = month).
async fn hidden_this_year(ctx: &SessionContext, month: &str, opts: &MonthlyOptions) -> Result<Vec<usize>> {
    let (year, m) = (&month[..4], month[5..].parse::<u32>().unwrap_or(1));
    let mut cols = std::collections::BTreeSet::new();
    for k in 1..=m {
        let tables = decide_month(ctx, &format!("{year}-{k:02}"), opts, &[]).await?;
        let s = &tables[0];
        if let Some(i) = period_row(&s.res, "this month")? {
            cols.extend((0..s.specs.len()).filter(|&j| s.specs[j].count && s.hide[i][j] != Hide::No));
        }
    }
    Ok(cols.into_iter().collect())
}

pub async fn monthly(wh: &Warehouse, opts: &MonthlyOptions, out_dir: &Path) -> Result<Published> {
    privacy::check_threshold(opts.threshold)?;
    let ctx = wh.session().await?;
    let month = match &opts.month {
        Some(m) if valid_month(m) => m.clone(),
        Some(m) => return Err(Error::Usage(format!("--month: expected YYYY-MM, found `{m}`"))),
        None => latest_month(&ctx).await?,
    };
    let tagged = wh.manifest()?.tag.map(|t| t.scenarios).unwrap_or_default();
    if !tagged.contains(&opts.scenario) {
        return Err(Error::Usage(format!(
            "scenario `{}` is not in the warehouse (tagged: {}); tag with a policy that defines it, e.g. `callsift tag --policy sample_program`",
            opts.scenario,
            if tagged.is_empty() { "none".into() } else { tagged.join(", ") }
        )));
    }
    let dir = out_dir.join(&month);
    std::fs::create_dir_all(&dir).ctx(|| format!("creating {}", dir.display()))?;
    let mut tables = Vec::new();
    let mut csvs = Vec::new();
    let mut suppressed_cells = 0;
    let ytd = hidden_this_year(&ctx, &month, opts).await?;
    for t in decide_month(&ctx, &month, opts, &ytd).await? {
        let name = t.report.name.clone();
        let pt = privacy::render_table(&t.specs, &t.res.batches, &t.hide, opts.threshold)?;
        suppressed_cells += pt.hidden.iter().flatten().filter(|h| **h).count();
        // One row per period reads better turned round: one row per measure, a column per period.
        let pt = if shape(&t.report) == Shape::PerRow { transpose(pt) } else { pt };
        let file = format!("{name}.csv");
        std::fs::write(dir.join(&file), csv_text(&pt.columns, &pt.rows)?).ctx(|| format!("writing {file}"))?;
        csvs.push(dir.join(&file));
        tables.push(TableOut {
            name,
            title: t.report.title.clone(),
            answers: t.report.answers.clone(),
            csv: file,
            columns: pt.columns,
            rows: pt.rows,
        });
    }
    let md = dir.join("report.md");
    std::fs::write(&md, to_markdown(&month, opts.threshold, &tables)).ctx(|| "writing report.md".into())?;

    let tpl = crate::assets::find("dashboards", "transparency_report.html.j2")
        .ok_or_else(|| Error::Usage("missing dashboards/transparency_report.html.j2".into()))?;
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.add_template("t", &tpl.text).map_err(|e| Error::config(&tpl.origin, "template", e.to_string()))?;
    let html = env
        .get_template("t")
        .and_then(|t| {
            t.render(minijinja::context! {
                month => month.clone(), scenario => opts.scenario.clone(), threshold => opts.threshold, tables => tables,
                generated => format!("callsift {}", env!("CARGO_PKG_VERSION")),
            })
        })
        .map_err(|e| Error::config(&tpl.origin, "template", e.to_string()))?;
    let index = dir.join("index.html");
    std::fs::write(&index, html).ctx(|| "writing index.html".into())?;
    write_provenance(wh, &dir, &month, opts)?;
    Ok(Published { month, html: index, markdown: md, csvs, suppressed_cells })
}

/// `provenance.json`: the table versions the report read and the command that rebuilds it from
/// them, so a published month can be reproduced table for table after later ingests.
fn write_provenance(wh: &Warehouse, dir: &Path, month: &str, opts: &MonthlyOptions) -> Result<()> {
    let m = wh.manifest()?;
    let v = m.versions;
    let doc = serde_json::json!({
        "month": month,
        // Rejects need no version: a snapshot reads those of the ingests in its `calls` version.
        "versions": { "calls": v.calls, "eligibility": v.eligibility },
        "policy": m.tag.as_ref().map(|t| t.policy_name.clone()),
        "policy_sha256": m.tag.as_ref().map(|t| t.policy_sha256.clone()),
        "rebuild": format!(
            "callsift publish monthly --warehouse WAREHOUSE --month {month} --scenario {} --threshold {} --as-of {} --out OUT",
            opts.scenario, opts.threshold, v.calls
        ),
        "generated_by": format!("callsift {}", env!("CARGO_PKG_VERSION")),
    });
    let text = serde_json::to_string_pretty(&doc).map_err(|e| Error::Format(e.to_string()))?;
    std::fs::write(dir.join("provenance.json"), text).ctx(|| "writing provenance.json".into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn month_format() {
        assert!(super::valid_month("2025-03"));
        assert!(!super::valid_month("2025-13"));
        assert!(!super::valid_month("2025-3"));
        assert!(!super::valid_month("March"));
    }
}

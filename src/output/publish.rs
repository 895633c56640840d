//! `callsift publish monthly`: the public monthly transparency report — an HTML page, a Markdown
//! version and the CSV behind every table — from the `transparency_*` queries, with small counts
//! suppressed (see `privacy`). Nothing private (addresses, caller details, free text) can pass:
//! such a column makes publication fail.
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, IoContext, Result};
use crate::output::privacy::{self, PublicTable, Shape};
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

fn to_csv(t: &PublicTable) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&t.columns).expect("in-memory");
    for r in &t.rows {
        w.write_record(r).expect("in-memory");
    }
    String::from_utf8(w.into_inner().expect("flush")).expect("utf8")
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
        s.push_str(&format!(
            "| {} |\n|{}|\n",
            t.columns.join(" | "),
            t.columns.iter().map(|_| "---").collect::<Vec<_>>().join("|")
        ));
        for r in &t.rows {
            s.push_str(&format!("| {} |\n", r.join(" | ")));
        }
        s.push_str(&format!("\nData: [{}]({})\n", t.csv, t.csv));
    }
    s
}

pub async fn monthly(wh: &Warehouse, opts: &MonthlyOptions, out_dir: &Path) -> Result<Published> {
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
    for name in TABLES {
        let r = ReportSql::load(name)?;
        let shape =
            if r.sql.lines().any(|l| l.trim() == "-- publish: additive") { Shape::Additive } else { Shape::PerRow };
        let params: Vec<(String, String)> = r
            .params
            .iter()
            .filter_map(|(k, _)| match k.as_str() {
                "month" => Some((k.clone(), month.clone())),
                "scenario" => Some((k.clone(), opts.scenario.clone())),
                _ => None,
            })
            .collect();
        let batches = report::run_report(&ctx, &r, &params).await?;
        let t = privacy::suppress(&batches, shape, opts.threshold)?;
        suppressed_cells += t.hidden.iter().flatten().filter(|h| **h).count();
        // One row per period reads better turned round: one row per measure, a column per period.
        let t = if shape == Shape::PerRow { transpose(t) } else { t };
        let file = format!("{name}.csv");
        std::fs::write(dir.join(&file), to_csv(&t)).ctx(|| format!("writing {file}"))?;
        csvs.push(dir.join(&file));
        tables.push(TableOut {
            name: name.into(),
            title: r.title.clone(),
            answers: r.answers.clone(),
            csv: file,
            columns: t.columns,
            rows: t.rows,
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
    Ok(Published { month, html: index, markdown: md, csvs, suppressed_cells })
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

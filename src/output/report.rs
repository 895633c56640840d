//! Reports: SQL files in `queries/` run by DataFusion over the warehouse, printed as a table,
//! CSV, Markdown or JSON. Adding a report is dropping a `.sql` file into `queries/`.
//!
//! A report is read-only SQL (see `output::sql`): one query, or several `;`-separated queries of
//! which the last one's result is the report; `CREATE`, `INSERT`, `COPY`, `SET`… are refused. Header comments describe it:
//! ```sql
//! -- title: Eligible share by scenario
//! -- answers: What share of calls from the public could community responders take?
//! -- param: scenario = broad
//! ```
//! `${name}` in the SQL is replaced by the parameter's value (from `--param name=value` or the
//! default); values are restricted to a safe character set. `-- uses: other` makes report
//! `queries/other.sql` available as a view named `other` (rendered with the same parameters,
//! registered programmatically: no `CREATE VIEW`), so one report can build on another instead of
//! repeating it. Reports stay plain SQL over built-in functions so that they can run on a
//! distributed DataFusion later.

use datafusion::arrow::array::RecordBatch;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;

use crate::assets;
use crate::error::{Error, Result};
pub use crate::output::format::{format, rows_as_text, Format};
use crate::warehouse::Warehouse;

/// A report definition loaded from `queries/NAME.sql`.
#[derive(Debug, Clone)]
pub struct ReportSql {
    pub name: String,
    pub title: String,
    pub answers: String,
    pub params: Vec<(String, String)>,
    /// Reports this one reads as views (`-- uses: a, b`).
    pub uses: Vec<String>,
    pub sql: String,
}

impl ReportSql {
    pub fn load(name: &str) -> Result<ReportSql> {
        let asset = assets::load("queries", name, ".sql", "report")?;
        let stem =
            asset.origin.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| name.to_string());
        Ok(ReportSql::parse(&stem, &asset.text))
    }

    pub fn parse(name: &str, text: &str) -> ReportSql {
        let mut r = ReportSql {
            name: name.into(),
            title: name.into(),
            answers: String::new(),
            params: Vec::new(),
            uses: Vec::new(),
            sql: text.into(),
        };
        for line in text.lines().map(str::trim).take_while(|l| l.starts_with("--") || l.is_empty()) {
            let body = line.trim_start_matches('-').trim();
            if let Some(t) = body.strip_prefix("title:") {
                r.title = t.trim().into();
            } else if let Some(a) = body.strip_prefix("answers:") {
                r.answers = a.trim().into();
            } else if let Some(u) = body.strip_prefix("uses:") {
                r.uses.extend(u.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()));
            } else if let Some(p) = body.strip_prefix("param:") {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                r.params.push((k.trim().into(), v.trim().into()));
            }
        }
        r
    }

    /// Substitute parameters: declared defaults, overridden by `given`.
    pub fn render(&self, given: &[(String, String)]) -> Result<String> {
        let mut sql = self.sql.clone();
        for (k, _) in given {
            if !self.params.iter().any(|(p, _)| p == k) {
                return Err(Error::Usage(format!(
                    "report `{}` has no parameter `{k}` (parameters: {})",
                    self.name,
                    if self.params.is_empty() {
                        "none".into()
                    } else {
                        self.params.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>().join(", ")
                    }
                )));
            }
        }
        for (k, default) in &self.params {
            let v = given.iter().find(|(g, _)| g == k).map(|(_, v)| v.as_str()).unwrap_or(default);
            if !v.chars().all(|c| c.is_ascii_alphanumeric() || " _-:.,+/".contains(c)) {
                return Err(Error::Usage(format!(
                    "parameter `{k}`: `{v}` has characters other than letters, digits and ` _-:.,+/`"
                )));
            }
            sql = sql.replace(&format!("${{{k}}}"), v);
        }
        Ok(sql)
    }
}

/// Run one or more `;`-separated read-only statements; return the last statement's result.
pub async fn run_sql(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    Ok(crate::output::sql::query(ctx, sql).await?.1)
}

/// Check `params` against the report and the reports it uses, register those as views (each
/// rendered with the parameters it declares) and return this report's rendered SQL.
pub async fn prepare(ctx: &SessionContext, report: &ReportSql, params: &[(String, String)]) -> Result<String> {
    // Parameters go to whichever of this report and the reports it uses declare them.
    let mut used = Vec::new();
    for name in &report.uses {
        used.push(ReportSql::load(name)?);
    }
    let declared = |r: &ReportSql, k: &str| r.params.iter().any(|(p, _)| p == k);
    for (k, _) in params {
        if !declared(report, k) && !used.iter().any(|u| declared(u, k)) {
            let mut all: Vec<&str> = report
                .params
                .iter()
                .chain(used.iter().flat_map(|u| u.params.iter()))
                .map(|(p, _)| p.as_str())
                .collect();
            all.dedup();
            return Err(Error::Usage(format!(
                "report `{}` has no parameter `{k}` (parameters: {})",
                report.name,
                if all.is_empty() { "none".into() } else { all.join(", ") }
            )));
        }
    }
    let own =
        |r: &ReportSql| -> Vec<(String, String)> { params.iter().filter(|(k, _)| declared(r, k)).cloned().collect() };
    for u in &used {
        let body = u.render(&own(u))?;
        crate::output::sql::register_view(ctx, &u.name, body.trim().trim_end_matches(';')).await?;
    }
    report.render(&own(report))
}

/// A report's DataFusion failure names the report; refusals and usage errors pass through.
pub fn failed(name: &str, e: Error) -> Error {
    match e {
        Error::DataFusion(d) => Error::Refused(format!("report `{name}` failed: {d}")),
        other => other,
    }
}

/// Does the plan read table `name` (through views too)?
pub fn reads_table(plan: &LogicalPlan, name: &str) -> bool {
    let mut found = false;
    let _ = plan.apply_with_subqueries(|n| {
        if let LogicalPlan::TableScan(scan) = n {
            if scan.table_name.table() == name {
                found = true;
            } else if let Some(inner) = scan.source.get_logical_plan() {
                found |= reads_table(&inner, name);
            }
        }
        Ok(if found { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
    });
    found
}

/// Run a report over a warehouse. A report that reads `eligibility` on a warehouse that was never
/// tagged is a usage error (the table is empty: an empty report would look like an answer).
pub async fn run_on(wh: &Warehouse, report: &ReportSql, params: &[(String, String)]) -> Result<Vec<RecordBatch>> {
    let ctx = wh.session().await?;
    let sql = prepare(&ctx, report, params).await?;
    let plans = crate::output::sql::plan_queries(&ctx, &sql).await.map_err(|e| failed(&report.name, e))?;
    if wh.manifest()?.tag.is_none() && plans.iter().any(|p| reads_table(p, "eligibility")) {
        return Err(Error::Usage(format!(
            "warehouse {} is not tagged yet: run `callsift tag --warehouse {}` first (report `{}` reads the eligibility table)",
            wh.display(),
            wh.display(),
            report.name
        )));
    }
    Ok(crate::output::sql::run_plans(&ctx, plans).await.map_err(|e| failed(&report.name, e))?.1)
}

pub async fn run_report(
    ctx: &SessionContext,
    report: &ReportSql,
    params: &[(String, String)],
) -> Result<Vec<RecordBatch>> {
    let sql = prepare(ctx, report, params).await?;
    run_sql(ctx, &sql).await.map_err(|e| failed(&report.name, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_comments_and_params() {
        let r = ReportSql::parse("x", "-- title: T\n-- answers: A?\n-- param: month = 2024-06\nSELECT '${month}' AS m");
        assert_eq!(r.title, "T");
        assert_eq!(r.answers, "A?");
        assert_eq!(
            r.render(&[]).unwrap(),
            "-- title: T\n-- answers: A?\n-- param: month = 2024-06\nSELECT '2024-06' AS m"
        );
        assert!(r.render(&[("month".into(), "x'; DROP".into())]).is_err());
        assert!(r.render(&[("nope".into(), "1".into())]).unwrap_err().to_string().contains("no parameter `nope`"));
    }

    #[tokio::test]
    async fn multi_statement_returns_last_result() {
        let ctx = crate::warehouse::engine::new_context();
        let b = run_sql(&ctx, "SELECT 0 AS a; WITH v AS (SELECT 1 AS a UNION ALL SELECT 2) SELECT sum(a) AS s FROM v")
            .await
            .unwrap();
        let out = format(&b, Format::Csv).unwrap();
        assert_eq!(out, "s\n3\n");
        assert_eq!(format(&b, Format::Md).unwrap(), "| s |\n|---|\n| 3 |\n");
        assert!(format(&b, Format::Json).unwrap().contains("\"s\": 3"));
    }
}

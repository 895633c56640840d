//! Reports: SQL files in `queries/` run by DataFusion over the warehouse, printed as a table,
//! CSV, Markdown or JSON. Adding a report is dropping a `.sql` file into `queries/`.
//!
//! A report file may hold several statements (e.g. `CREATE VIEW` then `SELECT`); the last one's
//! result is the report. Header comments describe it:
//! ```sql
//! -- title: Eligible share by scenario
//! -- answers: What share of calls from the public could community responders take?
//! -- param: scenario = broad
//! ```
//! `${name}` in the SQL is replaced by the parameter's value (from `--param name=value` or the
//! default); values are restricted to a safe character set. `-- uses: other` makes report
//! `queries/other.sql` available as a view named `other` (rendered with the same parameters), so
//! one report can build on another instead of repeating it.
use std::num::NonZeroUsize;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::execution::disk_manager::DiskManagerBuilder;
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::DFParser;
use datafusion::sql::sqlparser::dialect::GenericDialect;

use crate::assets;
use crate::error::{Error, Result};

/// Memory DataFusion may use before spilling to disk: keeps a run under the 512 MiB budget.
pub const MEMORY_LIMIT: usize = 256 << 20;

/// A session sized for this machine, with a bounded memory pool that spills to disk.
pub fn new_context() -> SessionContext {
    context_with_memory(MEMORY_LIMIT)
}

pub fn context_with_memory(limit: usize) -> SessionContext {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let config = SessionConfig::new()
        .with_target_partitions(threads)
        .with_information_schema(true)
        .set_bool("datafusion.execution.parquet.pushdown_filters", true);
    let pool = TrackConsumersPool::new(FairSpillPool::new(limit), NonZeroUsize::new(5).expect("non-zero"));
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(pool))
        .with_disk_manager_builder(DiskManagerBuilder::default())
        .build_arc()
        .expect("runtime env");
    SessionContext::new_with_config_rt(config, runtime)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Md,
    Json,
}

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
        let stem = asset.origin.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| name.to_string());
        Ok(ReportSql::parse(&stem, &asset.text))
    }

    pub fn parse(name: &str, text: &str) -> ReportSql {
        let mut r = ReportSql { name: name.into(), title: name.into(), answers: String::new(), params: Vec::new(), uses: Vec::new(), sql: text.into() };
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
                    if self.params.is_empty() { "none".into() } else { self.params.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>().join(", ") }
                )));
            }
        }
        for (k, default) in &self.params {
            let v = given.iter().find(|(g, _)| g == k).map(|(_, v)| v.as_str()).unwrap_or(default);
            if !v.chars().all(|c| c.is_ascii_alphanumeric() || " _-:.,+/".contains(c)) {
                return Err(Error::Usage(format!("parameter `{k}`: `{v}` has characters other than letters, digits and ` _-:.,+/`")));
            }
            sql = sql.replace(&format!("${{{k}}}"), v);
        }
        Ok(sql)
    }
}

/// Run one or more `;`-separated statements; return the last statement's result.
pub async fn run_sql(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    let statements = DFParser::parse_sql_with_dialect(sql, &GenericDialect {})?;
    if statements.is_empty() {
        return Err(Error::Usage("no SQL statement given".into()));
    }
    let mut last = Vec::new();
    for stmt in statements {
        let plan = ctx.state().statement_to_plan(stmt).await?;
        last = ctx.execute_logical_plan(plan).await?.collect().await?;
    }
    Ok(last)
}

pub async fn run_report(ctx: &SessionContext, report: &ReportSql, params: &[(String, String)]) -> Result<Vec<RecordBatch>> {
    // Parameters go to whichever of this report and the reports it uses declare them.
    let mut used = Vec::new();
    for name in &report.uses {
        used.push(ReportSql::load(name)?);
    }
    let declared = |r: &ReportSql, k: &str| r.params.iter().any(|(p, _)| p == k);
    for (k, _) in params {
        if !declared(report, k) && !used.iter().any(|u| declared(u, k)) {
            let mut all: Vec<&str> = report.params.iter().chain(used.iter().flat_map(|u| u.params.iter())).map(|(p, _)| p.as_str()).collect();
            all.dedup();
            return Err(Error::Usage(format!(
                "report `{}` has no parameter `{k}` (parameters: {})",
                report.name,
                if all.is_empty() { "none".into() } else { all.join(", ") }
            )));
        }
    }
    let own = |r: &ReportSql| -> Vec<(String, String)> { params.iter().filter(|(k, _)| declared(r, k)).cloned().collect() };
    for u in &used {
        let body = u.render(&own(u))?;
        run_sql(ctx, &format!("CREATE OR REPLACE VIEW {} AS {}", u.name, body.trim().trim_end_matches(';'))).await?;
    }
    let sql = report.render(&own(report))?;
    run_sql(ctx, &sql).await.map_err(|e| match e {
        Error::DataFusion(d) => Error::Refused(format!("report `{}` failed: {d}", report.name)),
        other => other,
    })
}

fn cell(f: &ArrayFormatter, row: usize) -> String {
    f.value(row).to_string()
}

fn columns(batches: &[RecordBatch]) -> Vec<String> {
    batches.first().map(|b| b.schema().fields().iter().map(|f| f.name().clone()).collect()).unwrap_or_default()
}

/// Every cell as display text, row-major (used by md/json/csv; the table format uses arrow's printer).
pub fn rows_as_text(batches: &[RecordBatch]) -> Result<Vec<Vec<Option<String>>>> {
    let opts = FormatOptions::default().with_null("");
    let mut rows = Vec::new();
    for b in batches {
        let fmts = b.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &opts)).collect::<std::result::Result<Vec<_>, _>>()?;
        for r in 0..b.num_rows() {
            rows.push(
                b.columns().iter().zip(&fmts).map(|(c, f)| if c.is_null(r) { None } else { Some(cell(f, r)) }).collect(),
            );
        }
    }
    Ok(rows)
}

pub fn format(batches: &[RecordBatch], fmt: Format) -> Result<String> {
    let cols = columns(batches);
    match fmt {
        Format::Table => {
            if batches.iter().all(|b| b.num_rows() == 0) {
                return Ok(format!("{}\n(0 rows)\n", cols.join(" | ")));
            }
            Ok(format!("{}\n", datafusion::arrow::util::pretty::pretty_format_batches(batches)?))
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(&cols).map_err(|e| Error::Refused(e.to_string()))?;
            for row in rows_as_text(batches)? {
                w.write_record(row.iter().map(|c| c.as_deref().unwrap_or(""))).map_err(|e| Error::Refused(e.to_string()))?;
            }
            Ok(String::from_utf8(w.into_inner().map_err(|e| Error::Refused(e.to_string()))?).expect("utf8"))
        }
        Format::Md => {
            let mut s = format!("| {} |\n|{}|\n", cols.join(" | "), cols.iter().map(|_| "---").collect::<Vec<_>>().join("|"));
            for row in rows_as_text(batches)? {
                let cells: Vec<String> = row.iter().map(|c| c.as_deref().unwrap_or("").replace('|', "\\|")).collect();
                s.push_str(&format!("| {} |\n", cells.join(" | ")));
            }
            Ok(s)
        }
        Format::Json => {
            let mut out = Vec::new();
            for b in batches {
                for r in 0..b.num_rows() {
                    let mut obj = serde_json::Map::new();
                    for (i, f) in b.schema().fields().iter().enumerate() {
                        obj.insert(f.name().clone(), json_value(b.column(i).as_ref(), r)?);
                    }
                    out.push(serde_json::Value::Object(obj));
                }
            }
            Ok(format!("{}\n", serde_json::to_string_pretty(&out).expect("json")))
        }
    }
}

fn json_value(a: &dyn datafusion::arrow::array::Array, r: usize) -> Result<serde_json::Value> {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::{DataType as D, Float64Type, Int32Type, Int64Type, UInt64Type};
    if a.is_null(r) {
        return Ok(serde_json::Value::Null);
    }
    Ok(match a.data_type() {
        D::Boolean => a.as_boolean().value(r).into(),
        D::Int32 => a.as_primitive::<Int32Type>().value(r).into(),
        D::Int64 => a.as_primitive::<Int64Type>().value(r).into(),
        D::UInt64 => a.as_primitive::<UInt64Type>().value(r).into(),
        D::Float64 => serde_json::Number::from_f64(a.as_primitive::<Float64Type>().value(r)).map(Into::into).unwrap_or(serde_json::Value::Null),
        _ => {
            let f = ArrayFormatter::try_new(a, &FormatOptions::default())?;
            f.value(r).to_string().into()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_comments_and_params() {
        let r = ReportSql::parse("x", "-- title: T\n-- answers: A?\n-- param: month = 2024-06\nSELECT '${month}' AS m");
        assert_eq!(r.title, "T");
        assert_eq!(r.answers, "A?");
        assert_eq!(r.render(&[]).unwrap(), "-- title: T\n-- answers: A?\n-- param: month = 2024-06\nSELECT '2024-06' AS m");
        assert!(r.render(&[("month".into(), "x'; DROP".into())]).is_err());
        assert!(r.render(&[("nope".into(), "1".into())]).unwrap_err().to_string().contains("no parameter `nope`"));
    }

    #[tokio::test]
    async fn multi_statement_returns_last_result() {
        let ctx = new_context();
        let b = run_sql(&ctx, "CREATE VIEW v AS SELECT 1 AS a UNION ALL SELECT 2; SELECT sum(a) AS s FROM v").await.unwrap();
        let out = format(&b, Format::Csv).unwrap();
        assert_eq!(out, "s\n3\n");
        assert_eq!(format(&b, Format::Md).unwrap(), "| s |\n|---|\n| 3 |\n");
        assert!(format(&b, Format::Json).unwrap().contains("\"s\": 3"));
    }
}

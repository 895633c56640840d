//! Dashboards: `dashboards/NAME.toml` declares panels (a query + a chart + titles);
//! [`build`] runs every panel over the warehouse and renders ONE self-contained HTML file:
//! Vega-Lite charts (vega, vega-lite and vega-embed inlined — no CDN, works offline), the table
//! behind every chart, print styles. The page is a minijinja template (`dashboards/template.html.j2`).
//!
//! ```toml
//! title = "Program sizing"
//! description = "What it is for."
//! [params]
//! scenario = "broad"                 # `${scenario}` in SQL, titles and filters; `--param scenario=x`
//!
//! [[panel]]
//! title = "Eligible calls by category"
//! description = "Which kinds of calls make up the eligible volume?"
//! sql = "SELECT c.category, count(*) AS eligible_calls FROM … WHERE e.scenario = '${scenario}' …"
//! # or: report = "sizing"           (a file in queries/; gets the dashboard params it declares)
//! chart = "bar"                      # bar | line | heatmap | waterfall | table
//! x = "eligible_calls"
//! y = "category"                     # y may be a list of columns: drawn as series (color = measure)
//! ```
//! Other panel keys: `color`, `facet`, `label` (waterfall), `x_type`/`y_type`/`color_type`
//! (`quantitative`, `temporal`, `ordinal`, `nominal`; default from the column's type), `x_title`,
//! `y_title`, `color_title`, `x_sort`/`y_sort` (Vega-Lite sort: `"-x"`, a list of values…; default
//! the query's row order), `x_rule` (a value on x marked with a dashed line, e.g. a start date),
//! `grouped` (side-by-side bars instead of stacked), `height`, `columns` (facet columns),
//! `color_scheme`, `filter = { column = "value" }` (keep matching rows of the result), `counts`
//! (extra columns to treat as counts for suppression).
//!
//! Waterfall: `x` is the step, `y` the running level after the step (e.g. `remaining`); the first
//! and last steps are drawn as totals from zero, the others as bars from the previous level.
//!
//! Privacy: a dashboard is a public output. A panel whose result has an address, caller, free-text
//! or raw call-type column is refused, and counts 1..10 (columns named `…calls`, `n`, `count`, or
//! listed in `counts`) print as "<11" in tables and are left out of charts.
mod config;
mod data;
mod html;
mod spec;

use std::path::{Path, PathBuf};

use datafusion::prelude::SessionContext;

pub use config::{names, Chart, Dashboard, OneOrMany, Panel, Query};
use config::{panel_key, substitute};
use data::apply_filter;
pub use data::{hide_cells, panel_data, Cell, PanelData};
pub use html::render_html;
pub use spec::vega_lite_spec;

use crate::error::{Error, IoContext, Result};
use crate::output::privacy;
use crate::output::report::ReportSql;
use crate::warehouse::Warehouse;

/// Counts from 1 to `SUPPRESS_BELOW - 1` are suppressed in every dashboard.
pub const SUPPRESS_BELOW: i64 = privacy::MIN_THRESHOLD;

/// A panel after its query ran.
#[derive(Debug, Clone)]
pub struct PanelResult {
    pub panel: Panel,
    pub data: PanelData,
    pub sql: String,
}

/// Run one panel: query, column check against the encodings, privacy check, suppression, filter.
pub async fn run_panel(
    ctx: &SessionContext,
    dash: &Dashboard,
    i: usize,
    params: &[(String, String)],
) -> Result<PanelResult> {
    let p = &dash.panels[i];
    let what = format!("dashboard `{}` panel {} ({:?})", dash.name, i + 1, p.title);
    let sql = match &p.query {
        Query::Report(name) => {
            let r = ReportSql::load(name)
                .map_err(|e| Error::config(&dash.origin, panel_key(i, &p.title, "report"), e.to_string()))?;
            let given: Vec<(String, String)> =
                params.iter().filter(|(k, _)| r.params.iter().any(|(rp, _)| rp == k)).cloned().collect();
            crate::output::report::prepare(ctx, &r, &given).await?
        }
        Query::Sql(sql) => ReportSql {
            name: dash.name.clone(),
            title: String::new(),
            answers: String::new(),
            params: params.to_vec(),
            uses: Vec::new(),
            sql: sql.clone(),
        }
        .render(&[])?,
    };
    let failed = |e: Error| match e {
        Error::DataFusion(d) => Error::Refused(format!("{what} failed: {d}")),
        Error::Refused(why) => Error::Refused(format!("{what}: {why}")),
        other => other,
    };
    let res = if dash.public {
        privacy::public_query(ctx, &sql).await.map_err(failed)?
    } else {
        let (schema, batches) = crate::output::sql::query(ctx, &sql).await.map_err(failed)?;
        privacy::PublicResult { schema, batches, lineage: Vec::new() }
    };
    let schema = res.schema.clone();
    let columns: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    if let Some(bad) = columns.iter().find(|c| privacy::forbidden_column(c)) {
        return Err(Error::Refused(format!(
            "{what} returns column `{bad}`: addresses, caller details, free text and raw call types never go into a public dashboard (use categories and aggregates)"
        )));
    }
    for (key, col) in p.encoded_columns() {
        if !columns.contains(&col) {
            return Err(Error::config(
                &dash.origin,
                panel_key(i, &p.title, key),
                format!("column `{col}` is not returned by the query (it returns: {})", columns.join(", ")),
            ));
        }
    }
    let mut panel = p.clone();
    panel.filter = p.filter.iter().map(|(c, v)| (c.clone(), substitute(v, params))).collect();
    panel.title = substitute(&p.title, params);
    panel.description = substitute(&p.description, params);
    panel.x_rule = p.x_rule.as_ref().map(|v| substitute(v, params));
    // Filter first: suppression must hold in the rows shown.
    let mut data = panel_data(&schema, &res.batches)?;
    let keep = apply_filter(&mut data, &panel.filter);
    let values: Vec<_> =
        privacy::numeric_values(&res.batches)?.into_iter().zip(&keep).filter(|(_, k)| **k).map(|(v, _)| v).collect();
    let specs = privacy::column_specs(&schema, &res.lineage, &p.counts);
    // Rows of a panel may add up to a total shown elsewhere: treat every panel as additive.
    let hide = privacy::cells::suppress(&specs, &values, SUPPRESS_BELOW, true, &[], &[]);
    hide_cells(&mut data, &hide, SUPPRESS_BELOW);
    Ok(PanelResult { panel, data, sql })
}

/// What [`build`] did.
#[derive(Debug, Clone)]
pub struct BuildSummary {
    pub name: String,
    pub title: String,
    pub panels: usize,
    pub charts: usize,
    pub suppressed_cells: usize,
    pub out: PathBuf,
    pub bytes: u64,
}

/// One line on what the data covers, for the page header.
async fn coverage(ctx: &SessionContext, wh: &Warehouse) -> String {
    let mut s = String::new();
    if let Ok(r) = privacy::public_query(
        ctx,
        "SELECT CAST(min(received_local) AS DATE) AS a, CAST(max(received_local) AS DATE) AS b FROM calls",
    )
    .await
    {
        if let Ok(rows) = crate::output::report::rows_as_text(&r.batches) {
            if let Some([Some(a), Some(z)]) = rows.first().map(|r| [r[0].clone(), r[1].clone()]) {
                s.push_str(&format!("Calls received {a} to {z} (local time)"));
            }
        }
    }
    if let Ok(Some(tag)) = wh.manifest().map(|m| m.tag) {
        if !s.is_empty() {
            s.push_str("; ");
        }
        s.push_str(&format!("eligibility under policy `{}` (tagged {})", tag.policy_name, tag.tagged_at));
    }
    s
}

/// Tables computed from the warehouse that panels may query besides `calls`, `eligibility` and
/// `rejects`: `sensitivity` (the sensitivity analysis, computed only when a panel names it).
async fn register_derived_tables(wh: &Warehouse, ctx: &SessionContext, dash: &Dashboard) -> Result<()> {
    let names_sensitivity = dash.panels.iter().any(|p| match &p.query {
        Query::Sql(sql) | Query::Report(sql) => sql.contains("sensitivity"),
    });
    if names_sensitivity {
        use crate::eligibility::sensitivity;
        let (_, rows) = sensitivity::for_warehouse(wh, ctx, None, "sensitivity").await?;
        let batch = sensitivity::to_batch(&rows)?;
        let table = datafusion::datasource::MemTable::try_new(batch.schema(), vec![vec![batch]])?;
        ctx.register_table("sensitivity", std::sync::Arc::new(table))?;
    }
    Ok(())
}

/// Run every panel of dashboard `name` over the warehouse and write one self-contained HTML file.
pub async fn build(wh: &Warehouse, name: &str, params: &[(String, String)], out: &Path) -> Result<BuildSummary> {
    let dash = Dashboard::load(name)?;
    let params = dash.resolve_params(params)?;
    let ctx = wh.session().await?;
    register_derived_tables(wh, &ctx, &dash).await?;
    let mut results = Vec::new();
    for i in 0..dash.panels.len() {
        results.push(run_panel(&ctx, &dash, i, &params).await?);
    }
    let html = render_html(&dash, &params, &results, &coverage(&ctx, wh).await)?;
    if let Some(parent) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).ctx(|| format!("creating {}", parent.display()))?;
    }
    let tmp = out.with_extension("html.tmp");
    std::fs::write(&tmp, &html).ctx(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, out).ctx(|| format!("writing {}", out.display()))?;
    Ok(BuildSummary {
        name: dash.name.clone(),
        title: dash.title.clone(),
        panels: results.len(),
        charts: results.iter().filter(|r| r.panel.chart != Chart::Table).count(),
        suppressed_cells: results.iter().map(|r| r.data.suppressed_cells).sum(),
        out: out.to_path_buf(),
        bytes: html.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::data::format_float;
    use super::*;

    fn parse(text: &str) -> Result<Dashboard> {
        Dashboard::parse("t", Path::new("dashboards/t.toml"), text)
    }

    const ONE: &str = "title = \"T\"\n[params]\nscenario = \"broad\"\n";

    #[test]
    fn validation_names_the_panel() {
        let e = parse(&format!("{ONE}[[panel]]\ntitle = \"Pie\"\nsql = \"SELECT 1\"\nchart = \"pie\"\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("dashboards/t.toml")
                && e.contains("panel 1 (\"Pie\").chart")
                && e.contains("unknown chart type `pie`"),
            "{e}"
        );
        let e = parse(&format!("{ONE}[[panel]]\ntitle = \"A\"\nsql = \"SELECT 1\"\nchart = \"table\"\n[[panel]]\ntitle = \"No query\"\nchart = \"bar\"\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("panel 2 (\"No query\").query") && e.contains("missing query"), "{e}");
        let e = parse(&format!(
            "{ONE}[[panel]]\ntitle = \"H\"\nsql = \"SELECT 1\"\nchart = \"heatmap\"\nx = \"a\"\ny = \"b\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("panel 1 (\"H\").color") && e.contains("needs `color`"), "{e}");
        let e = parse(&format!("{ONE}[[panel]]\ntitle = \"X\"\nsql = \"SELECT 1\"\nchart = \"bar\"\nx = \"a\"\ny = \"b\"\ncolour = \"c\"\n")).unwrap_err().to_string();
        assert!(e.contains("unknown field `colour`"), "{e}");
    }

    #[tokio::test]
    async fn missing_column_names_the_panel() {
        let d = parse(&format!("{ONE}[[panel]]\ntitle = \"By month\"\nsql = \"SELECT '${{scenario}}' AS s, 12 AS eligible_calls\"\nchart = \"bar\"\nx = \"s\"\ny = \"calls\"\n"))
            .unwrap();
        let ctx = crate::warehouse::engine::new_context();
        let params = d.resolve_params(&[]).unwrap();
        let e = run_panel(&ctx, &d, 0, &params).await.unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let e = e.to_string();
        assert!(
            e.contains("panel 1 (\"By month\").y")
                && e.contains("column `calls` is not returned")
                && e.contains("s, eligible_calls"),
            "{e}"
        );
        assert!(d
            .resolve_params(&[("nope".into(), "1".into())])
            .unwrap_err()
            .to_string()
            .contains("no parameter `nope`"));
        assert!(d.resolve_params(&[("scenario".into(), "x'; DROP".into())]).is_err());
    }

    #[tokio::test]
    async fn small_counts_are_suppressed() {
        let sql = "SELECT * FROM (VALUES ('a', 0, 1, 1.5), ('b', 10, 11, 3.0), ('c', 5, 2500, 7.25), ('d', NULL, 3, 10.0)) AS t(k, eligible_calls, n, pct)";
        let d =
            parse(&format!("{ONE}[[panel]]\ntitle = \"S\"\nsql = \"{sql}\"\nchart = \"bar\"\nx = \"k\"\ny = \"n\"\n"))
                .unwrap();
        let ctx = crate::warehouse::engine::new_context();
        let r = run_panel(&ctx, &d, 0, &[]).await.unwrap();
        let text: Vec<Vec<&str>> =
            r.data.rows.iter().map(|row| row.iter().map(|c| c.text.as_str()).collect()).collect();
        assert_eq!(
            text,
            vec![
                vec!["a", "0", "<11", "1.5"],
                vec!["b", "<11", "11", "3"],
                vec!["c", "<11", "2,500", "7.25"],
                vec!["d", "", "<11", "10"]
            ]
        );
        assert_eq!(r.data.suppressed_cells, 4);
        assert_eq!(r.data.values[1]["eligible_calls"], Value::Null);
        assert_eq!(r.data.values[0]["eligible_calls"], json!(0));
        assert_eq!(r.data.values[1]["n"], json!(11));
        assert_eq!(r.data.values[2]["pct"], json!(7.25));
        let spec = vega_lite_spec(&r).unwrap().to_string();
        assert!(!spec.contains("\"n\":1,") && spec.contains("\"n\":null"), "{spec}");
        // The rendered page shows the marker, never the suppressed values.
        let html = render_html(&d, &[], &[r], "").unwrap();
        assert!(html.contains("&lt;11") && html.contains("id=\"callsift-errors\""));
    }

    #[tokio::test]
    async fn refuses_private_columns() {
        for col in ["address", "caller_name", "narrative", "call_type", "initial_type", "Disposition_Raw"] {
            let d = parse(&format!(
                "{ONE}[[panel]]\ntitle = \"Where\"\nsql = \"SELECT 'x' AS {col}, 12 AS calls\"\nchart = \"table\"\n"
            ))
            .unwrap();
            let ctx = crate::warehouse::engine::new_context();
            let e = run_panel(&ctx, &d, 0, &[]).await.unwrap_err();
            assert!(matches!(e, Error::Refused(_)), "{col}: {e}");
            assert!(
                e.to_string().contains(&format!("column `{}`", col.to_ascii_lowercase()))
                    && e.to_string().contains("panel 1 (\"Where\")"),
                "{e}"
            );
        }
        assert!(
            !crate::output::privacy::forbidden_column("category")
                && !crate::output::privacy::forbidden_column("disposition")
                && !crate::output::privacy::forbidden_column("district")
        );
    }

    #[tokio::test]
    async fn filter_and_params_apply() {
        let d = parse(&format!(
            "{ONE}[[panel]]\ntitle = \"W ${{scenario}}\"\nsql = \"SELECT * FROM (VALUES ('broad', 'all calls', 100, 100), ('broad', 'minus x', 40, 60), ('broad', 'eligible', 60, 60), ('narrow', 'all calls', 100, 100)) AS t(scenario, step, calls, remaining)\"\nchart = \"waterfall\"\nx = \"step\"\ny = \"remaining\"\nlabel = \"calls\"\nfilter = {{ scenario = \"${{scenario}}\" }}\n"
        ))
        .unwrap();
        let ctx = crate::warehouse::engine::new_context();
        let r = run_panel(&ctx, &d, 0, &d.resolve_params(&[]).unwrap()).await.unwrap();
        assert_eq!(r.panel.title, "W broad");
        assert_eq!(r.data.rows.len(), 3);
        let spec = vega_lite_spec(&r).unwrap();
        assert_eq!(spec["layer"].as_array().unwrap().len(), 2);
        assert_eq!(spec["data"]["values"][2]["__row"], json!(2));
    }

    #[test]
    fn shipped_dashboards_parse() {
        for name in ["sizing", "transparency", "evaluation"] {
            let d = Dashboard::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(d.panels.len() >= 3, "{name}");
            d.resolve_params(&[]).unwrap();
        }
    }

    #[test]
    fn number_formatting() {
        assert_eq!(format_float(1234567.0), "1,234,567");
        assert_eq!(format_float(45.04), "45.04");
        assert_eq!(format_float(-0.5), "-0.5");
        assert_eq!(format_float(1234.5), "1,234.5");
        assert_eq!(crate::output::format::thousands(-1234), "-1,234");
    }
}

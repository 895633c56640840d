//! The compare dashboard: one self-contained HTML page (the dashboard renderer: Vega-Lite inlined)
//! with a grouped bar chart of the eligible share by scenario per city, the table behind it, the
//! top eligible categories and what each warehouse covers. A public output: every query was a
//! lineage-checked public query, and each warehouse's tables go through the small-cell engine
//! (`privacy::cells`) on their own before they are put side by side.
use std::path::{Path, PathBuf};

use datafusion::arrow::array::{BooleanArray, RecordBatch, StringArray};
use datafusion::arrow::compute::{concat_batches, filter_record_batch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use super::{Comparison, Tags};
use crate::error::{IoContext, Result};
use crate::output::dashboard::{self, Chart, Dashboard, Panel, PanelResult, Query, SUPPRESS_BELOW};
use crate::output::privacy::{self, Hide, PublicResult};

/// The source line of the panel whose SQL is built into `compare` (the renderer names a dashboard file).
const BUILT_IN: &str = "the built-in SQL of callsift compare, run on each warehouse";

/// What [`write_page`] wrote.
#[derive(Debug, Clone)]
pub struct PageSummary {
    pub out: PathBuf,
    pub panels: usize,
    pub suppressed_cells: usize,
    pub bytes: u64,
}

/// One warehouse's rows of a panel: the rows kept, with what to hide in each.
struct Part {
    batch: RecordBatch,
    hide: Vec<Vec<Hide>>,
}

/// Keep the rows `keep` selects, then decide suppression on them (suppression holds in the rows shown).
fn suppressed(
    r: &PublicResult,
    keep: &dyn Fn(&[Option<String>]) -> bool,
    order: Option<&[String]>,
    counts: &[String],
) -> Result<Part> {
    let all = concat_batches(&r.schema, &r.batches)?;
    let text = crate::output::report::rows_as_text(std::slice::from_ref(&all))?;
    let mask = BooleanArray::from(text.iter().map(|row| keep(row)).collect::<Vec<_>>());
    let batch = filter_record_batch(&all, &mask)?;
    let batch = match order {
        Some(scenarios) => in_order(&batch, scenarios)?,
        None => batch,
    };
    let values = privacy::numeric_values(std::slice::from_ref(&batch))?;
    let specs = privacy::column_specs(&r.schema, &r.lineage, counts);
    // As in every dashboard panel: rows may add up to a total shown elsewhere (additive).
    let hide = privacy::cells::suppress(&specs, &values, SUPPRESS_BELOW, true, &[], &[]);
    Ok(Part { batch, hide })
}

/// Rows sorted by their first column's position in `scenarios` (the policy's order).
fn in_order(batch: &RecordBatch, scenarios: &[String]) -> Result<RecordBatch> {
    let text = crate::output::report::rows_as_text(std::slice::from_ref(batch))?;
    let pos = |r: usize| text[r][0].as_ref().and_then(|s| scenarios.iter().position(|x| x == s)).unwrap_or(usize::MAX);
    let mut idx: Vec<usize> = (0..batch.num_rows()).collect();
    idx.sort_by_key(|&r| pos(r));
    let idx = datafusion::arrow::array::UInt32Array::from(idx.into_iter().map(|i| i as u32).collect::<Vec<_>>());
    let cols = batch
        .columns()
        .iter()
        .map(|c| datafusion::arrow::compute::take(c.as_ref(), &idx, None))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(batch.schema(), cols)?)
}

/// Put warehouses' parts side by side with a leading `warehouse` column and `extra` text columns
/// (one value per warehouse).
fn combine(names: &[String], parts: Vec<Part>, extra: &[(&str, Vec<String>)]) -> Result<(RecordBatch, Vec<Vec<Hide>>)> {
    let inner = parts[0].batch.schema();
    let mut fields = vec![Field::new("warehouse", DataType::Utf8, false)];
    fields.extend(inner.fields().iter().map(|f| f.as_ref().clone().with_nullable(true)));
    fields.extend(extra.iter().map(|(n, _)| Field::new(*n, DataType::Utf8, true)));
    let schema = std::sync::Arc::new(Schema::new(fields));
    let mut batches = Vec::new();
    let mut hide = Vec::new();
    for (k, (name, p)) in names.iter().zip(parts).enumerate() {
        let n = p.batch.num_rows();
        let mut cols: Vec<datafusion::arrow::array::ArrayRef> =
            vec![std::sync::Arc::new(StringArray::from(vec![name.clone(); n]))];
        cols.extend(p.batch.columns().iter().cloned());
        for (_, values) in extra {
            cols.push(std::sync::Arc::new(StringArray::from(vec![values[k].clone(); n])));
        }
        batches.push(RecordBatch::try_new(schema.clone(), cols)?);
        for h in p.hide {
            let mut r = vec![Hide::No];
            r.extend(h);
            r.extend(extra.iter().map(|_| Hide::No));
            hide.push(r);
        }
    }
    Ok((concat_batches(&schema, &batches)?, hide))
}

fn panel(title: String, description: &str, query: Query, chart: Chart) -> Panel {
    Panel {
        title,
        description: description.into(),
        query,
        chart,
        x: None,
        y: Vec::new(),
        color: None,
        facet: None,
        label: None,
        x_type: None,
        y_type: None,
        color_type: None,
        x_title: None,
        y_title: None,
        color_title: None,
        x_sort: None,
        y_sort: None,
        x_rule: None,
        grouped: false,
        height: None,
        columns: None,
        color_scheme: None,
        filter: Vec::new(),
        counts: Vec::new(),
    }
}

fn result(panel: Panel, batch: &RecordBatch, hide: &[Vec<Hide>], sql: String) -> Result<PanelResult> {
    let mut data = dashboard::panel_data(&batch.schema(), std::slice::from_ref(batch))?;
    dashboard::hide_cells(&mut data, hide, SUPPRESS_BELOW);
    Ok(PanelResult { panel, data, sql })
}

/// Panel 1: eligible share by scenario per city (grouped bars) with the sizing table behind it.
fn shares_panel(c: &Comparison, names: &[String]) -> Result<PanelResult> {
    let counts = vec!["eligible_low".to_string(), "eligible_high".to_string()];
    let keep = |row: &[Option<String>]| row[0].as_ref().is_some_and(|s| c.scenarios.contains(s));
    let parts = c
        .cities
        .iter()
        .map(|x| suppressed(&x.results.sizing, &keep, Some(&c.scenarios), &counts))
        .collect::<Result<Vec<_>>>()?;
    let (batch, hide) = combine(names, parts, &[])?;
    let mut p = panel(
        "Eligible share of calls from the public, by scenario and city".into(),
        "Under each scenario of the policy, what share of each city's calls from the public (officer-initiated activity excluded) could community responders take? Scenarios marked `estimate` depend on who called, which some exports do not record; eligible_low and eligible_high bound them.",
        Query::Report("sizing".into()),
        Chart::Bar,
    );
    p.x = Some("scenario".into());
    p.y = vec!["eligible_pct".into()];
    p.color = Some("warehouse".into());
    p.grouped = true;
    p.x_sort = Some(serde_json::json!(c.scenarios));
    p.y_title = Some("eligible share of calls from the public (%)".into());
    p.color_title = Some("city".into());
    p.counts = counts;
    result(p, &batch, &hide, "sizing".into())
}

/// Panel 2: the top eligible categories of the headline scenario in each city.
fn categories_panel(c: &Comparison, names: &[String]) -> Result<PanelResult> {
    let counts = vec!["eligible_low".to_string(), "eligible_high".to_string()];
    let mut parts = Vec::new();
    for city in &c.cities {
        let keep = |row: &[Option<String>]| row[0].as_deref() == Some(c.headline.as_str());
        let mut p = suppressed(&city.results.categories, &keep, None, &counts)?;
        // Suppressed on the whole table of the scenario (it is additive), then cut to the top rows.
        let n = p.batch.num_rows().min(super::TOP_CATEGORIES);
        p.batch = p.batch.slice(0, n);
        p.hide.truncate(n);
        parts.push(p);
    }
    let (batch, hide) = combine(names, parts, &[])?;
    let p = panel(
        format!("Top {} eligible categories per city (scenario {})", super::TOP_CATEGORIES, c.headline),
        "Which kinds of calls make up most of each city's eligible volume?",
        Query::Report("sizing_by_category".into()),
        Chart::Table,
    );
    result(p, &batch, &hide, "sizing_by_category".into())
}

/// Panel 3: what each warehouse covers, where call categories came from, and how it was tagged.
fn cities_panel(c: &Comparison, names: &[String]) -> Result<PanelResult> {
    let parts =
        c.cities.iter().map(|x| suppressed(&x.results.summary, &|_| true, None, &[])).collect::<Result<Vec<_>>>()?;
    let tags: Vec<String> = c
        .cities
        .iter()
        .map(|x| match &x.tags {
            Tags::Stored => format!("stored tags ({})", c.policy),
            Tags::InMemory(why) => format!("tagged in memory under {} ({why})", c.policy),
        })
        .collect();
    let (batch, hide) = combine(names, parts, &[("eligibility", tags)])?;
    let p = panel(
        "What each city's data covers".into(),
        "The local dates of the calls, how many there are, and where each call's category came from: a reviewed crosswalk row, the classifier, or neither (unmapped calls are never eligible).",
        Query::Sql(super::SUMMARY_SQL.into()),
        Chart::Table,
    );
    result(p, &batch, &hide, super::SUMMARY_SQL.into())
}

/// Render the comparison as one self-contained, suppressed HTML page at `out`.
pub fn write_page(c: &Comparison, out: &Path) -> Result<PageSummary> {
    let names: Vec<String> = c.cities.iter().map(|x| x.name.clone()).collect();
    let results = vec![shares_panel(c, &names)?, categories_panel(c, &names)?, cities_panel(c, &names)?];
    let dash = Dashboard {
        name: "compare".into(),
        origin: PathBuf::from("compare"),
        title: format!("Community-responder eligibility: {} cities compared", c.cities.len()),
        description: "The same eligibility policy applied to several cities' 911 calls for service, side by side."
            .into(),
        public: true,
        params: vec![("policy".into(), c.policy.clone())],
        panels: results.iter().map(|r| r.panel.clone()).collect(),
    };
    let coverage = c
        .cities
        .iter()
        .map(|x| {
            format!(
                "{}: calls received {} to {}",
                x.name,
                x.first_day.as_deref().unwrap_or("?"),
                x.last_day.as_deref().unwrap_or("?")
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let html = dashboard::render_html(&dash, &dash.params, &results, &format!("{coverage} (local time)"))?
        .replace("inline SQL in dashboards&#x2f;compare.toml", BUILT_IN)
        .replace("inline SQL in dashboards/compare.toml", BUILT_IN);
    if let Some(parent) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).ctx(|| format!("creating {}", parent.display()))?;
    }
    let tmp = out.with_extension("html.tmp");
    std::fs::write(&tmp, &html).ctx(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, out).ctx(|| format!("writing {}", out.display()))?;
    Ok(PageSummary {
        out: out.to_path_buf(),
        panels: results.len(),
        suppressed_cells: results.iter().map(|r| r.data.suppressed_cells).sum(),
        bytes: html.len() as u64,
    })
}

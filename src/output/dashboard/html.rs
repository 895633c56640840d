//! The self-contained HTML page: the template, the inlined Vega libraries, one spec and one table per panel.
use serde::Serialize;
use serde_json::{json, Value};

use super::config::{substitute, Chart, Dashboard, Query};
use super::spec::vega_lite_spec;
use super::{Cell, PanelResult, SUPPRESS_BELOW};
use crate::assets;
use crate::error::{Error, Result};

const VEGA_JS: &str = include_str!("../../../dashboards/vendor/vega.min.js");
const VEGA_LITE_JS: &str = include_str!("../../../dashboards/vendor/vega-lite.min.js");
const VEGA_EMBED_JS: &str = include_str!("../../../dashboards/vendor/vega-embed.min.js");
const TEMPLATE: &str = "template.html.j2";
#[derive(Serialize)]
struct PanelView {
    index: usize,
    title: String,
    description: String,
    chart: Chart,
    has_chart: bool,
    columns: Vec<ColumnView>,
    rows: Vec<Vec<Cell>>,
    suppressed_cells: usize,
    source: String,
}

#[derive(Serialize)]
struct ColumnView {
    name: String,
    num: bool,
}

#[derive(Serialize)]
struct PageView<'a> {
    name: &'a str,
    title: String,
    description: String,
    params: Vec<(String, String)>,
    panels: Vec<PanelView>,
    generated: String,
    coverage: String,
    version: &'static str,
    suppress_below: u32,
    specs_json: String,
    vega_js: &'static str,
    vega_lite_js: &'static str,
    vega_embed_js: &'static str,
}

/// JSON safe to place inside a `<script>` element.
fn script_json(v: &Value) -> String {
    serde_json::to_string(v).expect("json").replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// Render the page from panel results (no warehouse needed; used by [`build`] and tests).
pub fn render_html(
    dash: &Dashboard,
    params: &[(String, String)],
    results: &[PanelResult],
    coverage: &str,
) -> Result<String> {
    let tpl = assets::find("dashboards", TEMPLATE)
        .ok_or_else(|| Error::Usage(format!("no dashboard template dashboards/{TEMPLATE} (on disk or built in)")))?;
    for (name, js) in [("vega", VEGA_JS), ("vega-lite", VEGA_LITE_JS), ("vega-embed", VEGA_EMBED_JS)] {
        if js.contains("</script") || js.contains("<!--") {
            return Err(Error::Refused(format!("vendored {name} contains `</script` or `<!--`; it cannot be inlined")));
        }
    }
    let mut specs = Vec::new();
    let mut panels = Vec::new();
    for (i, r) in results.iter().enumerate() {
        let spec = vega_lite_spec(r);
        if let Some(s) = &spec {
            specs.push(
                json!({ "target": format!("chart-{}", i + 1), "panel": i + 1, "title": r.panel.title, "spec": s }),
            );
        }
        let source = match &r.panel.query {
            Query::Report(n) => format!("report queries/{n}.sql"),
            Query::Sql(_) => format!("inline SQL in dashboards/{}.toml", dash.name),
        };
        panels.push(PanelView {
            index: i + 1,
            title: r.panel.title.clone(),
            description: r.panel.description.clone(),
            chart: r.panel.chart,
            has_chart: spec.is_some(),
            columns: r
                .data
                .columns
                .iter()
                .zip(&r.data.types)
                .map(|(c, t)| ColumnView { name: c.clone(), num: *t == "quantitative" })
                .collect(),
            rows: r.data.rows.clone(),
            suppressed_cells: r.data.suppressed_cells,
            source,
        });
    }
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.add_template(TEMPLATE, &tpl.text).map_err(|e| Error::config(&tpl.origin, "template", e.to_string()))?;
    let page = PageView {
        name: &dash.name,
        title: substitute(&dash.title, params),
        description: substitute(&dash.description, params),
        params: params.to_vec(),
        panels,
        generated: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        coverage: coverage.to_string(),
        version: env!("CARGO_PKG_VERSION"),
        suppress_below: SUPPRESS_BELOW as u32,
        specs_json: script_json(&Value::Array(specs)),
        vega_js: VEGA_JS,
        vega_lite_js: VEGA_LITE_JS,
        vega_embed_js: VEGA_EMBED_JS,
    };
    env.get_template(TEMPLATE)
        .and_then(|t| t.render(&page))
        .map_err(|e| Error::config(&tpl.origin, "template", format!("{e:#}")))
}

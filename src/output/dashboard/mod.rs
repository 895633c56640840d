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
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, SchemaRef};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::DFParser;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::assets;
use crate::error::{Error, IoContext, Result};
use crate::output::report::ReportSql;
use crate::warehouse::Warehouse;

/// Counts from 1 to `SUPPRESS_BELOW - 1` are suppressed in every dashboard.
pub const SUPPRESS_BELOW: f64 = 11.0;

const VEGA_JS: &str = include_str!("../../../dashboards/vendor/vega.min.js");
const VEGA_LITE_JS: &str = include_str!("../../../dashboards/vendor/vega-lite.min.js");
const VEGA_EMBED_JS: &str = include_str!("../../../dashboards/vendor/vega-embed.min.js");
const TEMPLATE: &str = "template.html.j2";

/// Chart types a panel may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Chart {
    Bar,
    Line,
    Heatmap,
    Waterfall,
    Table,
}

impl Chart {
    const NAMES: &'static str = "bar, line, heatmap, waterfall, table";

    fn parse(s: &str) -> Option<Chart> {
        Some(match s {
            "bar" => Chart::Bar,
            "line" => Chart::Line,
            "heatmap" => Chart::Heatmap,
            "waterfall" => Chart::Waterfall,
            "table" => Chart::Table,
            _ => return None,
        })
    }

    /// Encodings a chart cannot do without.
    fn required(self) -> &'static [&'static str] {
        match self {
            Chart::Bar | Chart::Line | Chart::Waterfall => &["x", "y"],
            Chart::Heatmap => &["x", "y", "color"],
            Chart::Table => &[],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn columns(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DashboardToml {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    params: BTreeMap<String, toml::Value>,
    #[serde(default, rename = "panel")]
    panels: Vec<PanelToml>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PanelToml {
    title: String,
    #[serde(default)]
    description: String,
    report: Option<String>,
    sql: Option<String>,
    chart: Option<String>,
    x: Option<String>,
    y: Option<OneOrMany>,
    color: Option<String>,
    facet: Option<String>,
    label: Option<String>,
    x_type: Option<String>,
    y_type: Option<String>,
    color_type: Option<String>,
    x_title: Option<String>,
    y_title: Option<String>,
    color_title: Option<String>,
    x_sort: Option<toml::Value>,
    y_sort: Option<toml::Value>,
    x_rule: Option<String>,
    #[serde(default)]
    grouped: bool,
    height: Option<u32>,
    columns: Option<u32>,
    color_scheme: Option<String>,
    #[serde(default)]
    filter: BTreeMap<String, String>,
    #[serde(default)]
    counts: Vec<String>,
}

/// Where a panel's rows come from.
#[derive(Debug, Clone)]
pub enum Query {
    Report(String),
    Sql(String),
}

#[derive(Debug, Clone)]
pub struct Panel {
    pub title: String,
    pub description: String,
    pub query: Query,
    pub chart: Chart,
    pub x: Option<String>,
    pub y: Vec<String>,
    pub color: Option<String>,
    pub facet: Option<String>,
    pub label: Option<String>,
    pub x_type: Option<String>,
    pub y_type: Option<String>,
    pub color_type: Option<String>,
    pub x_title: Option<String>,
    pub y_title: Option<String>,
    pub color_title: Option<String>,
    pub x_sort: Option<Value>,
    pub y_sort: Option<Value>,
    pub x_rule: Option<String>,
    pub grouped: bool,
    pub height: Option<u32>,
    pub columns: Option<u32>,
    pub color_scheme: Option<String>,
    pub filter: Vec<(String, String)>,
    pub counts: Vec<String>,
}

impl Panel {
    /// Every column an encoding names, with the key that names it.
    fn encoded_columns(&self) -> Vec<(&'static str, &str)> {
        let mut v: Vec<(&'static str, &str)> = Vec::new();
        for (k, c) in [("x", &self.x), ("color", &self.color), ("facet", &self.facet), ("label", &self.label)] {
            if let Some(c) = c {
                v.push((k, c));
            }
        }
        for c in &self.y {
            v.push(("y", c));
        }
        for (c, _) in &self.filter {
            v.push(("filter", c));
        }
        v
    }
}

/// A dashboard definition loaded from `dashboards/NAME.toml`.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub name: String,
    pub origin: PathBuf,
    pub title: String,
    pub description: String,
    /// Declared parameters with their defaults, in name order.
    pub params: Vec<(String, String)>,
    pub panels: Vec<Panel>,
}

fn panel_key(i: usize, title: &str, field: &str) -> String {
    format!("panel {} ({title:?}).{field}", i + 1)
}

const TYPES: [&str; 4] = ["quantitative", "temporal", "ordinal", "nominal"];

impl Dashboard {
    /// Load by name (`dashboards/NAME.toml` on disk, else built in) or path.
    pub fn load(name: &str) -> Result<Dashboard> {
        let asset = assets::load("dashboards", name, ".toml", "dashboard")?;
        let stem =
            asset.origin.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| name.to_string());
        Dashboard::parse(&stem, &asset.origin, &asset.text)
    }

    /// Parse and check structure: chart types, queries, required encodings, value types.
    /// Columns are checked against each query's result by [`build`].
    pub fn parse(name: &str, origin: &Path, text: &str) -> Result<Dashboard> {
        let t: DashboardToml = toml::from_str(text).map_err(|e| {
            let key = e.span().map(|s| format!("at byte {}", s.start)).unwrap_or_else(|| "toml".into());
            Error::config(origin, key, e.message().to_string())
        })?;
        let mut params = Vec::new();
        for (k, v) in &t.params {
            let v = match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(Error::config(
                        origin,
                        format!("params.{k}"),
                        format!("expected a string or number, found {}", other.type_str()),
                    ))
                }
            };
            params.push((k.clone(), v));
        }
        if t.panels.is_empty() {
            return Err(Error::config(origin, "panel", "define at least one [[panel]]"));
        }
        let mut panels = Vec::new();
        for (i, p) in t.panels.into_iter().enumerate() {
            let key = |f: &str| panel_key(i, &p.title, f);
            let query = match (&p.report, &p.sql) {
                (Some(r), None) => Query::Report(r.clone()),
                (None, Some(s)) if !s.trim().is_empty() => Query::Sql(s.clone()),
                (None, Some(_)) => return Err(Error::config(origin, key("sql"), "is empty")),
                (None, None) => {
                    return Err(Error::config(
                        origin,
                        key("query"),
                        "missing query: give `report = \"NAME\"` (a file in queries/) or `sql = \"SELECT …\"`",
                    ))
                }
                (Some(_), Some(_)) => {
                    return Err(Error::config(origin, key("query"), "give either `report` or `sql`, not both"))
                }
            };
            let chart_name = p.chart.clone().ok_or_else(|| {
                Error::config(origin, key("chart"), format!("missing chart type (one of {})", Chart::NAMES))
            })?;
            let chart = Chart::parse(&chart_name).ok_or_else(|| {
                Error::config(
                    origin,
                    key("chart"),
                    format!("unknown chart type `{chart_name}` (expected one of {})", Chart::NAMES),
                )
            })?;
            let y = p.y.as_ref().map(|y| y.columns()).unwrap_or_default();
            for req in chart.required() {
                let present = match *req {
                    "x" => p.x.is_some(),
                    "y" => !y.is_empty(),
                    "color" => p.color.is_some(),
                    _ => true,
                };
                if !present {
                    return Err(Error::config(
                        origin,
                        key(req),
                        format!("a {chart_name} chart needs `{req}` (a column of the query)"),
                    ));
                }
            }
            if y.len() > 1 && (p.color.is_some() || !matches!(chart, Chart::Bar | Chart::Line)) {
                return Err(Error::config(
                    origin,
                    key("y"),
                    "a list of y columns is drawn as series: only for bar and line charts, and without `color`",
                ));
            }
            for (f, v) in [("x_type", &p.x_type), ("y_type", &p.y_type), ("color_type", &p.color_type)] {
                if let Some(v) = v {
                    if !TYPES.contains(&v.as_str()) {
                        return Err(Error::config(
                            origin,
                            key(f),
                            format!("unknown type `{v}` (expected one of {})", TYPES.join(", ")),
                        ));
                    }
                }
            }
            let to_json = |f: &str, v: &Option<toml::Value>| -> Result<Option<Value>> {
                v.as_ref()
                    .map(|v| serde_json::to_value(v).map_err(|e| Error::config(origin, key(f), e.to_string())))
                    .transpose()
            };
            panels.push(Panel {
                x_sort: to_json("x_sort", &p.x_sort)?,
                y_sort: to_json("y_sort", &p.y_sort)?,
                title: p.title,
                description: p.description,
                query,
                chart,
                x: p.x,
                y,
                color: p.color,
                facet: p.facet,
                label: p.label,
                x_type: p.x_type,
                y_type: p.y_type,
                color_type: p.color_type,
                x_title: p.x_title,
                y_title: p.y_title,
                color_title: p.color_title,
                x_rule: p.x_rule,
                grouped: p.grouped,
                height: p.height,
                columns: p.columns,
                color_scheme: p.color_scheme,
                filter: p.filter.into_iter().collect(),
                counts: p.counts,
            });
        }
        Ok(Dashboard {
            name: name.into(),
            origin: origin.to_path_buf(),
            title: t.title,
            description: t.description,
            params,
            panels,
        })
    }

    /// Declared defaults overridden by `given`; a name the dashboard does not declare is an error.
    pub fn resolve_params(&self, given: &[(String, String)]) -> Result<Vec<(String, String)>> {
        for (k, _) in given {
            if !self.params.iter().any(|(p, _)| p == k) {
                let known = if self.params.is_empty() {
                    "none".into()
                } else {
                    self.params.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>().join(", ")
                };
                return Err(Error::Usage(format!(
                    "dashboard `{}` has no parameter `{k}` (parameters: {known})",
                    self.name
                )));
            }
        }
        let merged: Vec<(String, String)> = self
            .params
            .iter()
            .map(|(k, d)| {
                (
                    k.clone(),
                    given.iter().rev().find(|(g, _)| g == k).map(|(_, v)| v.clone()).unwrap_or_else(|| d.clone()),
                )
            })
            .collect();
        // Same character rules as reports (values end up inside SQL string literals).
        ReportSql {
            name: self.name.clone(),
            title: String::new(),
            answers: String::new(),
            params: merged.clone(),
            uses: Vec::new(),
            sql: String::new(),
        }
        .render(&[])?;
        Ok(merged)
    }
}

/// Names of every dashboard, on disk and built in.
pub fn names() -> Vec<String> {
    assets::list("dashboards", ".toml")
}

/// `${name}` → value, for titles, filters and markers (values already checked by `resolve_params`).
fn substitute(text: &str, params: &[(String, String)]) -> String {
    let mut s = text.to_string();
    for (k, v) in params {
        s = s.replace(&format!("${{{k}}}"), v);
    }
    s
}

/// Numeric columns whose small values identify people: `…calls`, `n`, `count`, or listed by the panel.
fn is_count_column(name: &str, dt: &DataType, extra: &[String]) -> bool {
    let n = name.to_ascii_lowercase();
    (dt.is_numeric())
        && (n.ends_with("calls") || n == "n" || n == "count" || extra.iter().any(|e| e.eq_ignore_ascii_case(name)))
}

fn suppressed(v: f64) -> bool {
    v > 0.0 && v < SUPPRESS_BELOW
}

/// One table cell as shown in the HTML table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cell {
    pub text: String,
    pub num: bool,
}

/// A panel's result, ready to render: display rows (suppressed) and chart rows (suppressed → null).
#[derive(Debug, Clone, Default)]
pub struct PanelData {
    pub columns: Vec<String>,
    /// Vega-Lite type inferred from each column's Arrow type.
    pub types: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    pub values: Vec<Map<String, Value>>,
    pub suppressed_cells: usize,
}

fn format_float(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return crate::output::format::thousands(v as i64);
    }
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let int: i64 = int.parse().unwrap_or(0);
    let sign = if v < 0.0 && int == 0 { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{}", crate::output::format::thousands(int))
    } else {
        format!("{sign}{}.{frac}", crate::output::format::thousands(int))
    }
}

fn vl_type(dt: &DataType) -> &'static str {
    match dt {
        d if d.is_numeric() => "quantitative",
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _) => "temporal",
        _ => "nominal",
    }
}

/// Turn a panel's batches into display and chart rows, applying small-count suppression.
pub fn panel_data(schema: &SchemaRef, batches: &[RecordBatch], extra_counts: &[String]) -> Result<PanelData> {
    let fields = schema.fields();
    let mut d = PanelData {
        columns: fields.iter().map(|f| f.name().clone()).collect(),
        types: fields.iter().map(|f| vl_type(f.data_type())).collect(),
        ..Default::default()
    };
    let opts = FormatOptions::default().with_null("");
    for b in batches {
        let n = b.num_rows();
        let mut rows: Vec<Vec<Cell>> = vec![Vec::with_capacity(fields.len()); n];
        let mut values: Vec<Map<String, Value>> = vec![Map::new(); n];
        for (ci, f) in fields.iter().enumerate() {
            let col = b.column(ci);
            let name = f.name();
            let dt = col.data_type().clone();
            let count = is_count_column(name, &dt, extra_counts);
            let put = |rows: &mut Vec<Vec<Cell>>,
                       values: &mut Vec<Map<String, Value>>,
                       r: usize,
                       text: String,
                       num: bool,
                       v: Value| {
                rows[r].push(Cell { text, num });
                values[r].insert(name.clone(), v);
            };
            if dt.is_integer() {
                let a = cast(col, &DataType::Int64)?;
                let a = a.as_primitive::<Int64Type>();
                for r in 0..n {
                    if a.is_null(r) {
                        put(&mut rows, &mut values, r, String::new(), true, Value::Null);
                    } else if count && suppressed(a.value(r) as f64) {
                        d.suppressed_cells += 1;
                        put(&mut rows, &mut values, r, "<11".into(), true, Value::Null);
                    } else {
                        put(
                            &mut rows,
                            &mut values,
                            r,
                            crate::output::format::thousands(a.value(r)),
                            true,
                            a.value(r).into(),
                        );
                    }
                }
            } else if dt.is_numeric() {
                let a = cast(col, &DataType::Float64)?;
                let a = a.as_primitive::<Float64Type>();
                for r in 0..n {
                    let v = a.value(r);
                    if a.is_null(r) || !v.is_finite() {
                        put(
                            &mut rows,
                            &mut values,
                            r,
                            if a.is_null(r) { String::new() } else { v.to_string() },
                            true,
                            Value::Null,
                        );
                    } else if count && suppressed(v) {
                        d.suppressed_cells += 1;
                        put(&mut rows, &mut values, r, "<11".into(), true, Value::Null);
                    } else {
                        put(
                            &mut rows,
                            &mut values,
                            r,
                            format_float(v),
                            true,
                            serde_json::Number::from_f64(v).map(Value::Number).unwrap_or(Value::Null),
                        );
                    }
                }
            } else if dt == DataType::Boolean {
                let a = col.as_boolean();
                for r in 0..n {
                    if a.is_null(r) {
                        put(&mut rows, &mut values, r, String::new(), false, Value::Null);
                    } else {
                        put(&mut rows, &mut values, r, a.value(r).to_string(), false, a.value(r).into());
                    }
                }
            } else {
                let fmt = ArrayFormatter::try_new(col.as_ref(), &opts)?;
                let date = matches!(dt, DataType::Date32 | DataType::Date64);
                for r in 0..n {
                    if col.is_null(r) {
                        put(&mut rows, &mut values, r, String::new(), false, Value::Null);
                    } else {
                        let text = fmt.value(r).to_string();
                        // A bare ISO date is read by browsers as UTC midnight; local midnight keeps the day.
                        let v = if date { format!("{text}T00:00:00") } else { text.clone() };
                        put(&mut rows, &mut values, r, text, false, Value::String(v));
                    }
                }
            }
        }
        d.rows.extend(rows);
        d.values.extend(values);
    }
    Ok(d)
}

/// Keep rows whose `column` displays as `value` (all pairs must match).
fn apply_filter(d: &mut PanelData, filter: &[(String, String)]) {
    if filter.is_empty() {
        return;
    }
    let idx: Vec<(usize, &str)> =
        filter.iter().filter_map(|(c, v)| d.columns.iter().position(|n| n == c).map(|i| (i, v.as_str()))).collect();
    let keep: Vec<bool> = d.rows.iter().map(|row| idx.iter().all(|(i, v)| row[*i].text == *v)).collect();
    let mut k = keep.iter();
    d.rows.retain(|_| *k.next().unwrap());
    let mut k = keep.iter();
    d.values.retain(|_| *k.next().unwrap());
}

/// Run `;`-separated statements, returning the last one's schema (known even with no rows) and rows.
async fn run_query(ctx: &SessionContext, sql: &str) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let statements = DFParser::parse_sql_with_dialect(sql, &GenericDialect {})?;
    let n = statements.len();
    if n == 0 {
        return Err(Error::Usage("no SQL statement given".into()));
    }
    for (i, stmt) in statements.into_iter().enumerate() {
        let plan = ctx.state().statement_to_plan(stmt).await?;
        let df = ctx.execute_logical_plan(plan).await?;
        if i + 1 == n {
            let schema: SchemaRef = std::sync::Arc::new(df.schema().as_arrow().clone());
            let batches = df.collect().await?;
            return Ok((schema, batches));
        }
        df.collect().await?;
    }
    unreachable!("the last statement returns")
}

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
            r.render(&given)?
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
    let (schema, batches) = run_query(ctx, &sql).await.map_err(|e| match e {
        Error::DataFusion(d) => Error::Refused(format!("{what} failed: {d}")),
        other => other,
    })?;
    let columns: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    if let Some(bad) = columns.iter().find(|c| crate::output::privacy::forbidden_column(c)) {
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
    let mut data = panel_data(&schema, &batches, &p.counts)?;
    apply_filter(&mut data, &panel.filter);
    Ok(PanelResult { panel, data, sql })
}

/// Escape a column name for a Vega-Lite field reference (dots and brackets mean nesting there).
fn field(name: &str) -> String {
    name.replace('\\', "\\\\").replace('.', "\\.").replace('[', "\\[").replace(']', "\\]")
}

fn type_of(d: &PanelData, col: &str, over: &Option<String>) -> String {
    if let Some(t) = over {
        return t.clone();
    }
    d.columns.iter().position(|c| c == col).map(|i| d.types[i]).unwrap_or("nominal").to_string()
}

/// Distinct display values of a column, in order of first appearance.
fn distinct(d: &PanelData, col: &str) -> Vec<Value> {
    let mut seen: Vec<Value> = Vec::new();
    for row in &d.values {
        if let Some(v) = row.get(col) {
            if !v.is_null() && !seen.contains(v) {
                seen.push(v.clone());
            }
        }
    }
    seen
}

/// Horizontal labels when they fit across the chart, slanted otherwise.
fn label_angle(d: &PanelData, col: &str) -> i32 {
    let values = distinct(d, col);
    let longest =
        values.iter().map(|v| v.as_str().map(str::len).unwrap_or_else(|| v.to_string().len())).max().unwrap_or(0);
    if values.len() * (longest * 7 + 12) <= 820 {
        0
    } else {
        -40
    }
}

/// A position channel: data order for discrete axes unless the panel sorts.
fn position(
    d: &PanelData,
    col: &str,
    ty: &Option<String>,
    title: &Option<String>,
    sort: &Option<Value>,
    is_x: bool,
) -> Value {
    let t = type_of(d, col, ty);
    let mut enc = json!({ "field": field(col), "type": t, "title": title.clone().unwrap_or_else(|| col.to_string()) });
    if t == "nominal" || t == "ordinal" {
        enc["sort"] = sort.clone().unwrap_or(Value::Null);
        enc["axis"] = json!({ "labelLimit": 220 });
        if is_x {
            enc["axis"]["labelAngle"] = json!(label_angle(d, col));
        }
    } else if let Some(s) = sort {
        enc["sort"] = s.clone();
    }
    if t == "quantitative" && is_x {
        // About one tick per 80 px, so that long numbers do not collide.
        enc["axis"] = json!({ "tickCount": { "expr": "ceil(width / 80)" } });
    }
    enc
}

/// A date like `2024-06-01` as a Vega-Lite DateTime (local midnight); other values as they are.
fn datum(v: &str, temporal: bool) -> Value {
    if temporal {
        let parts: Vec<&str> = v.split(['-', 'T', ' ']).collect();
        if parts.len() >= 3 {
            if let (Ok(y), Ok(m), Ok(dd)) = (parts[0].parse::<i32>(), parts[1].parse::<u32>(), parts[2].parse::<u32>())
            {
                return json!({ "year": y, "month": m, "date": dd });
            }
        }
    }
    v.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
        .unwrap_or_else(|| Value::String(v.into()))
}

/// The Vega-Lite spec of a panel (None for table-only panels).
pub fn vega_lite_spec(r: &PanelResult) -> Option<Value> {
    let p = &r.panel;
    let d = &r.data;
    if p.chart == Chart::Table {
        return None;
    }
    let x = p.x.clone().unwrap_or_default();
    let mut transform: Vec<Value> = Vec::new();
    let tooltip: Vec<Value> = d
        .columns
        .iter()
        .zip(&d.types)
        .map(|(c, t)| {
            let mut tt = json!({ "field": field(c), "type": t, "title": c });
            if *t == "quantitative" {
                tt["format"] = json!(",.4~f");
            }
            tt
        })
        .collect();
    let mut layers: Vec<Value> = Vec::new();
    let height = p.height.unwrap_or(if p.chart == Chart::Heatmap { 220 } else { 280 });
    match p.chart {
        Chart::Bar | Chart::Line => {
            let (y_col, color, color_title) = if p.y.len() > 1 {
                transform.push(
                    json!({ "fold": p.y.iter().map(|c| field(c)).collect::<Vec<_>>(), "as": ["measure", "value"] }),
                );
                ("value".to_string(), Some("measure".to_string()), p.color_title.clone().or(Some("measure".into())))
            } else {
                (p.y[0].clone(), p.color.clone(), p.color_title.clone())
            };
            let x_enc = position(d, &x, &p.x_type, &p.x_title, &p.x_sort, true);
            let mut y_enc = if p.y.len() > 1 {
                json!({ "field": "value", "type": "quantitative", "title": p.y_title.clone().unwrap_or_else(|| "value".into()) })
            } else {
                position(d, &y_col, &p.y_type, &p.y_title, &p.y_sort, false)
            };
            let mut enc = json!({ "x": x_enc, "y": y_enc.take() });
            if let Some(c) = &color {
                let t = if p.y.len() > 1 { "nominal".to_string() } else { type_of(d, c, &p.color_type) };
                let mut ce = json!({ "field": field(c), "type": t, "title": color_title.unwrap_or_else(|| c.clone()) });
                if p.y.len() > 1 {
                    ce["sort"] = json!(p.y);
                } else if t == "nominal" || t == "ordinal" {
                    ce["sort"] = Value::Null;
                }
                if let Some(s) = &p.color_scheme {
                    ce["scale"] = json!({ "scheme": s });
                }
                enc["color"] = ce;
                if p.grouped && p.chart == Chart::Bar {
                    let horizontal = enc["x"]["type"] == "quantitative";
                    enc[if horizontal { "yOffset" } else { "xOffset" }] =
                        json!({ "field": field(c), "sort": enc["color"]["sort"].clone() });
                }
            }
            enc["tooltip"] = json!(tooltip);
            let mark = if p.chart == Chart::Bar {
                json!({ "type": "bar", "tooltip": true })
            } else {
                json!({ "type": "line", "point": { "size": 18 }, "tooltip": true })
            };
            layers.push(json!({ "mark": mark, "encoding": enc }));
        }
        Chart::Heatmap => {
            let mut x_enc = position(d, &x, &p.x_type.clone().or(Some("ordinal".into())), &p.x_title, &p.x_sort, true);
            let mut y_enc =
                position(d, &p.y[0], &p.y_type.clone().or(Some("ordinal".into())), &p.y_title, &p.y_sort, false);
            for e in [&mut x_enc, &mut y_enc] {
                if p_sort_default(e) {
                    e["sort"] = json!("ascending");
                }
            }
            let c = p.color.clone().unwrap_or_default();
            let mut ce = json!({ "field": field(&c), "type": type_of(d, &c, &p.color_type), "title": p.color_title.clone().unwrap_or_else(|| c.clone()) });
            ce["scale"] = json!({ "scheme": p.color_scheme.clone().unwrap_or_else(|| "blues".into()) });
            layers.push(json!({
                "mark": { "type": "rect", "tooltip": true },
                "encoding": { "x": x_enc, "y": y_enc, "color": ce, "tooltip": tooltip }
            }));
        }
        Chart::Waterfall => {
            let level = field(&p.y[0]);
            let level_ref = format!("datum[{}]", serde_json::to_string(&p.y[0]).expect("string"));
            transform.push(json!({ "window": [{ "op": "lag", "field": level, "as": "__prev" }, { "op": "row_number", "as": "__i" }], "sort": [{ "field": "__row" }] }));
            transform.push(json!({ "joinaggregate": [{ "op": "count", "as": "__n" }] }));
            transform.push(json!({ "calculate": format!("datum.__i == 1 || datum.__i == datum.__n ? 0 : datum.__prev"), "as": "__start" }));
            transform.push(json!({ "calculate": format!("max(datum.__start, {level_ref})"), "as": "__top" }));
            transform.push(json!({
                "calculate": format!("datum.__i == 1 ? 'start' : datum.__i == datum.__n ? 'result' : ({level_ref} < datum.__prev ? 'decrease' : 'increase')"),
                "as": "step kind"
            }));
            let x_enc = json!({
                "field": field(&x), "type": "nominal", "title": p.x_title.clone().unwrap_or_else(|| x.clone()),
                "sort": { "field": "__row", "op": "min", "order": "ascending" },
                "axis": { "labelAngle": -35, "labelLimit": 240 }
            });
            layers.push(json!({
                "mark": { "type": "bar", "tooltip": true },
                "encoding": {
                    "x": x_enc,
                    "y": { "field": "__start", "type": "quantitative", "title": p.y_title.clone().unwrap_or_else(|| p.y[0].clone()) },
                    "y2": { "field": level },
                    "color": { "field": "step kind", "type": "nominal", "title": null,
                               "scale": { "domain": ["start", "decrease", "increase", "result"], "range": ["#4c78a8", "#e45756", "#54a24b", "#2f7d32"] } },
                    "tooltip": tooltip
                }
            }));
            if let Some(l) = &p.label {
                layers.push(json!({
                    "mark": { "type": "text", "dy": -6, "fontSize": 10 },
                    "encoding": {
                        "x": x_enc,
                        "y": { "field": "__top", "type": "quantitative" },
                        "text": { "field": field(l), "type": "quantitative", "format": "," }
                    }
                }));
            }
        }
        Chart::Table => unreachable!(),
    }
    if let Some(rule) = &p.x_rule {
        let temporal = layers.first().map(|l| l["encoding"]["x"]["type"] == "temporal").unwrap_or(false);
        let dt = datum(rule, temporal);
        let ty = layers.first().map(|l| l["encoding"]["x"]["type"].clone()).unwrap_or(json!("nominal"));
        // One row per facet (a datum-encoded mark is otherwise drawn once per data row).
        let one = json!([{ "aggregate": [{ "op": "count", "as": "__n" }], "groupby": p.facet.iter().map(|f| field(f)).collect::<Vec<_>>() }]);
        layers.push(json!({
            "transform": one.clone(),
            "mark": { "type": "rule", "strokeDash": [4, 4], "color": "#333" },
            "encoding": { "x": { "datum": dt.clone(), "type": ty.clone() } }
        }));
        layers.push(json!({
            "transform": one,
            "mark": { "type": "text", "align": "left", "dx": 4, "baseline": "top", "color": "#333", "fontSize": 10 },
            "encoding": { "x": { "datum": dt, "type": ty }, "y": { "value": 2 }, "text": { "value": rule } }
        }));
    }
    let values: Vec<Value> = r
        .data
        .values
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut m = m.clone();
            if p.chart == Chart::Waterfall {
                m.insert("__row".into(), json!(i));
            }
            Value::Object(m)
        })
        .collect();
    let inner = if layers.len() == 1 { layers.pop().expect("one layer") } else { json!({ "layer": layers }) };
    let mut spec = json!({
        "data": { "values": values },
        "transform": transform,
        "config": {
            "view": { "stroke": null },
            "axis": { "labelFontSize": 11, "titleFontSize": 12 },
            "legend": { "orient": "bottom", "labelLimit": 260 },
            "font": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
        }
    });
    if let Some(f) = &p.facet {
        let mut inner = inner;
        inner["width"] = json!(if p.columns.unwrap_or(2) >= 2 { 380 } else { 760 });
        inner["height"] = json!(height);
        spec["facet"] = json!({ "field": field(f), "type": "nominal", "title": null, "sort": distinct(&r.data, f) });
        spec["columns"] = json!(p.columns.unwrap_or(2));
        spec["spec"] = inner;
        spec["resolve"] = json!({ "axis": { "x": "independent" } });
    } else {
        let obj = spec.as_object_mut().expect("object");
        for (k, v) in inner.as_object().expect("object") {
            obj.insert(k.clone(), v.clone());
        }
        spec["width"] = json!("container");
        spec["height"] = json!(height);
        spec["autosize"] = json!({ "type": "fit-x", "contains": "padding" });
    }
    Some(spec)
}

fn p_sort_default(e: &Value) -> bool {
    e.get("sort").is_some_and(Value::is_null)
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

/// One line on what the data covers, for the page header.
async fn coverage(ctx: &SessionContext, wh: &Warehouse) -> String {
    let mut s = String::new();
    if let Ok((_, b)) = run_query(
        ctx,
        "SELECT CAST(min(received_local) AS DATE) AS a, CAST(max(received_local) AS DATE) AS b FROM calls",
    )
    .await
    {
        if let Ok(rows) = crate::output::report::rows_as_text(&b) {
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

/// Run every panel of dashboard `name` over the warehouse and write one self-contained HTML file.
pub async fn build(wh: &Warehouse, name: &str, params: &[(String, String)], out: &Path) -> Result<BuildSummary> {
    let dash = Dashboard::load(name)?;
    let params = dash.resolve_params(params)?;
    let ctx = wh.session().await?;
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

/// `callsift dashboard build NAME --warehouse DIR --out FILE.html [--param k=v]...`

#[cfg(test)]
mod tests {
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

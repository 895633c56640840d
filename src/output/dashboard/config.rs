//! The dashboard definition: `dashboards/NAME.toml` parsed into [`Dashboard`] and its [`Panel`]s,
//! checked for structure (chart types, queries, required encodings, value types).
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::assets;
use crate::error::{Error, Result};
use crate::output::report::ReportSql;

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

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DashboardToml {
    title: String,
    /// A public dashboard (the default) is a public output: lineage-checked and suppressed.
    #[serde(default = "yes")]
    public: bool,
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
    pub(super) fn encoded_columns(&self) -> Vec<(&'static str, &str)> {
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
    /// Public (default): every panel must pass the lineage check of `privacy`. Internal
    /// dashboards (`public = false`) still run read-only and still hide small counts.
    pub public: bool,
    /// Declared parameters with their defaults, in name order.
    pub params: Vec<(String, String)>,
    pub panels: Vec<Panel>,
}

pub(super) fn panel_key(i: usize, title: &str, field: &str) -> String {
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
    /// Columns are checked against each query's result by [`build`](super::build).
    pub fn parse(name: &str, origin: &Path, text: &str) -> Result<Dashboard> {
        let t: DashboardToml = toml::from_str(text).map_err(|e| {
            let key = e.span().map(|s| format!("at byte {}", s.start)).unwrap_or_else(|| "toml".into());
            Error::config(origin, key, e.message().to_string())
        })?;
        let params = parse_params(origin, &t.params)?;
        if t.panels.is_empty() {
            return Err(Error::config(origin, "panel", "define at least one [[panel]]"));
        }
        let panels =
            t.panels.into_iter().enumerate().map(|(i, p)| parse_panel(origin, i, p)).collect::<Result<Vec<_>>>()?;
        Ok(Dashboard {
            name: name.into(),
            origin: origin.to_path_buf(),
            title: t.title,
            description: t.description,
            public: t.public,
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

fn parse_params(origin: &Path, raw: &BTreeMap<String, toml::Value>) -> Result<Vec<(String, String)>> {
    let mut params = Vec::new();
    for (k, v) in raw {
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
    Ok(params)
}

fn parse_query(origin: &Path, key: &dyn Fn(&str) -> String, p: &PanelToml) -> Result<Query> {
    match (&p.report, &p.sql) {
        (Some(r), None) => Ok(Query::Report(r.clone())),
        (None, Some(s)) if !s.trim().is_empty() => Ok(Query::Sql(s.clone())),
        (None, Some(_)) => Err(Error::config(origin, key("sql"), "is empty")),
        (None, None) => Err(Error::config(
            origin,
            key("query"),
            "missing query: give `report = \"NAME\"` (a file in queries/) or `sql = \"SELECT …\"`",
        )),
        (Some(_), Some(_)) => Err(Error::config(origin, key("query"), "give either `report` or `sql`, not both")),
    }
}

fn parse_chart(origin: &Path, key: &dyn Fn(&str) -> String, p: &PanelToml, y: &[String]) -> Result<Chart> {
    let chart_name = p
        .chart
        .clone()
        .ok_or_else(|| Error::config(origin, key("chart"), format!("missing chart type (one of {})", Chart::NAMES)))?;
    let chart = Chart::parse(&chart_name).ok_or_else(|| {
        Error::config(
            origin,
            key("chart"),
            format!("unknown chart type `{chart_name}` (expected one of {})", Chart::NAMES),
        )
    })?;
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
    Ok(chart)
}

fn parse_panel(origin: &Path, i: usize, p: PanelToml) -> Result<Panel> {
    let title = p.title.clone();
    let key = |f: &str| panel_key(i, &title, f);
    let query = parse_query(origin, &key, &p)?;
    let y = p.y.as_ref().map(|y| y.columns()).unwrap_or_default();
    let chart = parse_chart(origin, &key, &p, &y)?;
    let to_json = |f: &str, v: &Option<toml::Value>| -> Result<Option<Value>> {
        v.as_ref()
            .map(|v| serde_json::to_value(v).map_err(|e| Error::config(origin, key(f), e.to_string())))
            .transpose()
    };
    Ok(Panel {
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
    })
}

/// Names of every dashboard, on disk and built in.
pub fn names() -> Vec<String> {
    assets::list("dashboards", ".toml")
}

/// `${name}` → value, for titles, filters and markers (values already checked by `resolve_params`).
pub(super) fn substitute(text: &str, params: &[(String, String)]) -> String {
    let mut s = text.to_string();
    for (k, v) in params {
        s = s.replace(&format!("${{{k}}}"), v);
    }
    s
}

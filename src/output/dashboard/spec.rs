//! The Vega-Lite spec of a panel.
use serde_json::{json, Value};

use super::config::Chart;
use super::data::PanelData;
use super::PanelResult;

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

/// Tooltip: every column, numbers with grouping.
fn tooltip(d: &PanelData) -> Vec<Value> {
    d.columns
        .iter()
        .zip(&d.types)
        .map(|(c, t)| {
            let mut tt = json!({ "field": field(c), "type": t, "title": c });
            if *t == "quantitative" {
                tt["format"] = json!(",.4~f");
            }
            tt
        })
        .collect()
}

fn bar_line(r: &PanelResult, x: &str, tooltip: &[Value], transform: &mut Vec<Value>, layers: &mut Vec<Value>) {
    let (p, d) = (&r.panel, &r.data);
    let x = x.to_string();
    let (y_col, color, color_title) = if p.y.len() > 1 {
        transform.push(json!({ "fold": p.y.iter().map(|c| field(c)).collect::<Vec<_>>(), "as": ["measure", "value"] }));
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

fn heatmap(r: &PanelResult, x: &str, tooltip: &[Value], layers: &mut Vec<Value>) {
    let (p, d) = (&r.panel, &r.data);
    let x = x.to_string();
    let mut x_enc = position(d, &x, &p.x_type.clone().or(Some("ordinal".into())), &p.x_title, &p.x_sort, true);
    let mut y_enc = position(d, &p.y[0], &p.y_type.clone().or(Some("ordinal".into())), &p.y_title, &p.y_sort, false);
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

fn waterfall(r: &PanelResult, x: &str, tooltip: &[Value], transform: &mut Vec<Value>, layers: &mut Vec<Value>) {
    let p = &r.panel;
    let x = x.to_string();
    let level = field(&p.y[0]);
    let level_ref = format!("datum[{}]", serde_json::to_string(&p.y[0]).expect("string"));
    transform.push(json!({ "window": [{ "op": "lag", "field": level, "as": "__prev" }, { "op": "row_number", "as": "__i" }], "sort": [{ "field": "__row" }] }));
    transform.push(json!({ "joinaggregate": [{ "op": "count", "as": "__n" }] }));
    transform.push(
        json!({ "calculate": format!("datum.__i == 1 || datum.__i == datum.__n ? 0 : datum.__prev"), "as": "__start" }),
    );
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

/// A dashed marker line (and its label) at `x_rule`, once per facet.
fn rule_layers(p: &super::config::Panel, layers: &mut Vec<Value>) {
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
}

/// The Vega-Lite spec of a panel (None for table-only panels).
pub fn vega_lite_spec(r: &PanelResult) -> Option<Value> {
    let p = &r.panel;
    if p.chart == Chart::Table {
        return None;
    }
    let x = p.x.clone().unwrap_or_default();
    let mut transform: Vec<Value> = Vec::new();
    let tooltip = tooltip(&r.data);
    let mut layers: Vec<Value> = Vec::new();
    let height = p.height.unwrap_or(if p.chart == Chart::Heatmap { 220 } else { 280 });
    match p.chart {
        Chart::Bar | Chart::Line => bar_line(r, &x, &tooltip, &mut transform, &mut layers),
        Chart::Heatmap => heatmap(r, &x, &tooltip, &mut layers),
        Chart::Waterfall => waterfall(r, &x, &tooltip, &mut transform, &mut layers),
        Chart::Table => unreachable!(),
    }
    rule_layers(p, &mut layers);
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

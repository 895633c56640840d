//! The what-if page: the cube and the policy as JSON inside one self-contained HTML file
//! (`dashboards/whatif.html.j2`); all computation happens in the page's own plain JavaScript.
use serde::Serialize;
use serde_json::{json, Value};

use super::cube::{Cube, SUPPRESS_BELOW};
use crate::assets;
use crate::eligibility::policy::{LimitationKind, Policy};
use crate::error::{Error, Result};

pub const TEMPLATE: &str = "whatif.html.j2";
/// Community-responder minutes on task per eligible call when the page does not say: `staffing.sql`'s
/// `cr_minutes_on_task` default (Denver STAR pilot: average call time under half an hour).
pub const DEFAULT_MINUTES_ON_TASK: u32 = 30;

fn hhmm(m: u32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// The policy as the page needs it: names, bits, hours and districts, scenarios.
pub fn policy_json(policy: &Policy, cube: &Cube) -> Value {
    let b = &cube.bits;
    let disq: Vec<Value> = policy
        .disqualifiers
        .iter()
        .zip(&b.disqualifiers)
        .map(|(d, bit)| json!({ "name": d.name, "description": d.description, "bit": bit }))
        .collect();
    let lims: Vec<Value> = policy
        .limitations
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut v = json!({ "name": l.name, "description": l.description, "bit": b.limitations[i] });
            match &l.kind {
                LimitationKind::Rule { .. } => {
                    v["kind"] = json!("rule");
                    if let Some(j) = b.estimated.iter().position(|&e| e == i) {
                        v["unknown_bit"] = json!(b.unknown[i]);
                        v["estimated"] = json!(j);
                    }
                }
                LimitationKind::Hours { start, end } => {
                    v["kind"] = json!("hours");
                    v["hours"] = json!(format!("{}-{}", hhmm(*start), hhmm(*end)));
                }
                LimitationKind::Area { districts } => {
                    v["kind"] = json!("area");
                    v["districts"] = json!(districts);
                }
            }
            v
        })
        .collect();
    let scenarios: Vec<Value> = policy
        .scenarios
        .iter()
        .map(|s| {
            let names: Vec<&str> = s.limitations.iter().map(|&i| policy.limitations[i].name.as_str()).collect();
            json!({ "name": s.name, "description": s.description, "limitations": names })
        })
        .collect();
    json!({
        "name": policy.name, "description": policy.description,
        "self_bit": b.self_initiated, "unmapped_bit": b.unmapped, "info_bit": b.info, "scope_bit": b.scope,
        "disqualifiers": disq, "limitations": lims, "scenarios": scenarios,
    })
}

/// The cube as compact JSON: `rows` are `[pattern, category, how, district, calls, merged, w1, w2, …]`.
pub fn cube_json(cube: &Cube) -> Value {
    let rows: Vec<Value> = cube
        .cells
        .iter()
        .map(|c| {
            let mut r = vec![
                json!(c.pattern),
                json!(c.category),
                json!(c.how),
                json!(c.district),
                json!(c.calls),
                json!(c.merged),
            ];
            r.extend(c.weights.iter().map(|w| json!((w * 1e4).round() / 1e4)));
            Value::Array(r)
        })
        .collect();
    json!({
        "categories": cube.categories, "districts": cube.districts, "weeks": cube.weeks,
        "calls": cube.calls, "dropped_calls": cube.dropped_calls,
        "hours_area_approx_calls": cube.hours_area_approx_calls, "suppress_below": SUPPRESS_BELOW,
        "columns": ["pattern", "category", "how", "district", "calls", "merged", "weights…"],
        "rows": rows,
    })
}

/// JSON safe to place inside a `<script>` element.
pub fn script_json(v: &Value) -> String {
    serde_json::to_string(v).expect("json").replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

#[derive(Serialize)]
struct PageView<'a> {
    title: String,
    policy_name: &'a str,
    coverage: &'a str,
    generated: String,
    version: &'static str,
    suppress_below: u64,
    default_minutes: u32,
    cells: usize,
    small_cells: usize,
    small_cell_calls: u64,
    dropped_calls: u64,
    data_json: String,
}

/// Render the page (no warehouse needed).
pub fn render_page(policy: &Policy, cube: &Cube, coverage: &str) -> Result<String> {
    let tpl = assets::find("dashboards", TEMPLATE)
        .ok_or_else(|| Error::Usage(format!("no what-if template dashboards/{TEMPLATE} (on disk or built in)")))?;
    let data = json!({
        "policy": policy_json(policy, cube),
        "cube": cube_json(cube),
        "default_minutes": DEFAULT_MINUTES_ON_TASK,
    });
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.add_template(TEMPLATE, &tpl.text).map_err(|e| Error::config(&tpl.origin, "template", e.to_string()))?;
    let page = PageView {
        title: format!("What if? Eligible calls under policy {}", policy.name),
        policy_name: &policy.name,
        coverage,
        generated: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        version: env!("CARGO_PKG_VERSION"),
        suppress_below: SUPPRESS_BELOW,
        default_minutes: DEFAULT_MINUTES_ON_TASK,
        cells: cube.cells.len(),
        small_cells: cube.small_cells,
        small_cell_calls: cube.small_cell_calls,
        dropped_calls: cube.dropped_calls,
        data_json: script_json(&data),
    };
    env.get_template(TEMPLATE)
        .and_then(|t| t.render(&page))
        .map_err(|e| Error::config(&tpl.origin, "template", format!("{e:#}")))
}

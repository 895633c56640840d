//! Sensitivity analysis: re-size every scenario while varying each uncertain assumption one at a
//! time, so an analyst can say how sure a number is. Assumptions are data
//! (`policies/sensitivity.toml`): each side replaces columns of `calls` with SQL expressions; the
//! policy's own tagging SQL then runs over that view. How unmapped calls are counted is varied here.
use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::prelude::SessionContext;
use serde::Deserialize;

use crate::assets;
use crate::eligibility::outcome::Outcome;
use crate::eligibility::policy::{self, Policy, Scenario};
use crate::error::{Error, Result};
use crate::warehouse::query::u64_at;
use crate::warehouse::schema;
use crate::warehouse::Warehouse;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Side {
    pub label: String,
    /// Column → SQL expression over `calls` replacing it.
    pub columns: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assumption {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub low: Side,
    pub high: Side,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssumptionsToml {
    #[serde(rename = "assumption")]
    assumptions: Vec<Assumption>,
}

/// Load `policies/NAME.toml` of assumptions (default `sensitivity`), checking each column exists.
pub fn load_assumptions(name: &str) -> Result<Vec<Assumption>> {
    let asset = assets::load("policies", name, ".toml", "sensitivity file")?;
    let t: AssumptionsToml =
        toml::from_str(&asset.text).map_err(|e| Error::config(&asset.origin, "toml", e.message().to_string()))?;
    let table = schema::call_table_schema();
    for a in &t.assumptions {
        for side in [&a.low, &a.high] {
            if let Some(c) = side.columns.keys().find(|c| table.index_of(c).is_err()) {
                return Err(Error::config(
                    &asset.origin,
                    format!("assumption `{}`", a.name),
                    format!("no column `{c}`"),
                ));
            }
        }
    }
    Ok(t.assumptions)
}

/// Sizing of one scenario under one set of assumptions.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sized {
    pub public_calls: u64,
    /// Expected eligible calls (estimates at their probability).
    pub eligible: f64,
    pub unmapped: u64,
}

impl Sized {
    pub fn share(&self) -> f64 {
        if self.public_calls == 0 {
            0.0
        } else {
            100.0 * self.eligible / self.public_calls as f64
        }
    }

    /// Unmapped calls eligible at the rate of the mapped calls from the public.
    fn unmapped_at_mapped_rate(&self) -> f64 {
        let mapped = self.public_calls.saturating_sub(self.unmapped);
        if mapped == 0 || self.public_calls == 0 {
            return self.share();
        }
        let eligible = self.eligible * (1.0 + self.unmapped as f64 / mapped as f64);
        100.0 * eligible / self.public_calls as f64
    }
}

/// One row of the sensitivity table: a scenario, an assumption, the share at base and each side.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub scenario: String,
    pub assumption: String,
    pub public_calls: u64,
    pub base_pct: f64,
    pub low_label: String,
    pub low_pct: f64,
    pub high_label: String,
    pub high_pct: f64,
}

/// Size every scenario under `columns` overrides of `calls`.
async fn size(
    ctx: &SessionContext,
    policy: &Policy,
    scenarios: &[Scenario],
    columns: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Sized>> {
    let select: Vec<String> = schema::call_table_schema()
        .fields()
        .iter()
        .map(|f| match columns.get(f.name()) {
            Some(sql) => format!("({sql}) AS {}", f.name()),
            None => f.name().clone(),
        })
        .collect();
    let source = format!("(SELECT {} FROM calls)", select.join(", "));
    let sql = format!(
        "SELECT scenario, count(*) FILTER (WHERE outcome <> '{self_}'), sum(p_eligible), \
                count(*) FILTER (WHERE outcome = '{unmapped}') FROM ({tag}) GROUP BY scenario",
        self_ = Outcome::ExcludedSelfInitiated.as_str(),
        unmapped = Outcome::Unmapped.as_str(),
        tag = policy::tag_sql(policy, scenarios, &source),
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
    let mut out = BTreeMap::new();
    for b in &batches {
        let names = datafusion::arrow::array::cast::as_string_array(b.column(0));
        let eligible = datafusion::arrow::array::cast::as_primitive_array::<datafusion::arrow::datatypes::Float64Type>(
            b.column(2),
        );
        for r in 0..b.num_rows() {
            let s = Sized { public_calls: u64_at(b, 1, r), eligible: eligible.value(r), unmapped: u64_at(b, 3, r) };
            out.insert(names.value(r).to_string(), s);
        }
    }
    Ok(out)
}

/// The whole analysis: every scenario × every assumption (plus how unmapped calls are counted).
pub async fn analyse(
    ctx: &SessionContext,
    policy: &Policy,
    scenarios: &[Scenario],
    assumptions: &[Assumption],
) -> Result<Vec<Row>> {
    policy.validate()?;
    let base = size(ctx, policy, scenarios, &BTreeMap::new()).await?;
    let mut rows = Vec::new();
    for a in assumptions {
        let low = size(ctx, policy, scenarios, &a.low.columns).await?;
        let high = size(ctx, policy, scenarios, &a.high.columns).await?;
        for s in scenarios {
            let (b, l, h) = (base.get(&s.name), low.get(&s.name), high.get(&s.name));
            let pct = |x: Option<&Sized>| x.map(Sized::share).unwrap_or(0.0);
            rows.push(Row {
                scenario: s.name.clone(),
                assumption: a.name.clone(),
                public_calls: b.map(|x| x.public_calls).unwrap_or(0),
                base_pct: pct(b),
                low_label: a.low.label.clone(),
                low_pct: pct(l),
                high_label: a.high.label.clone(),
                high_pct: pct(h),
            });
        }
    }
    for s in scenarios {
        let b = base.get(&s.name).copied().unwrap_or_default();
        rows.push(Row {
            scenario: s.name.clone(),
            assumption: "unmapped_calls".into(),
            public_calls: b.public_calls,
            base_pct: b.share(),
            low_label: "unmapped = ineligible".into(),
            low_pct: b.share(),
            high_label: "unmapped eligible at the mapped calls' rate".into(),
            high_pct: b.unmapped_at_mapped_rate(),
        });
    }
    Ok(rows)
}

/// The sensitivity table of a warehouse (policy as in [`policy::tagged_policy`]).
pub async fn for_warehouse(
    wh: &Warehouse,
    ctx: &SessionContext,
    policy: Option<&str>,
    assumptions: &str,
) -> Result<(Policy, Vec<Row>)> {
    let (policy, scenarios) = policy::tagged_policy(wh, policy)?;
    let assumptions = load_assumptions(assumptions)?;
    let rows = analyse(ctx, &policy, &scenarios, &assumptions).await?;
    Ok((policy, rows))
}

/// The rows as a table (`scenario, assumption, public_calls, base_pct, low_*, high_*, range_pct`),
/// shares rounded to 0.1 percentage point.
pub fn to_batch(rows: &[Row]) -> Result<RecordBatch> {
    let r1 = |v: f64| (v * 10.0).round() / 10.0;
    let s = |f: &dyn Fn(&Row) -> &str| -> ArrayRef { Arc::new(StringArray::from_iter_values(rows.iter().map(f))) };
    let p = |f: &dyn Fn(&Row) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r1(f(r)))))
    };
    let cols: Vec<(&str, ArrayRef)> = vec![
        ("scenario", s(&|r| &r.scenario)),
        ("assumption", s(&|r| &r.assumption)),
        ("public_calls", Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.public_calls)))),
        ("base_pct", p(&|r| r.base_pct)),
        ("low", s(&|r| &r.low_label)),
        ("low_pct", p(&|r| r.low_pct)),
        ("high", s(&|r| &r.high_label)),
        ("high_pct", p(&|r| r.high_pct)),
        ("range_pct", p(&|r| (r.high_pct - r.low_pct).abs())),
    ];
    let fields: Vec<Field> = cols.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), false)).collect();
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols.into_iter().map(|(_, a)| a).collect())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmapped_at_mapped_rate_scales_the_eligible_count() {
        let s = Sized { public_calls: 100, eligible: 30.0, unmapped: 10 };
        assert_eq!(s.share(), 30.0);
        // 30 of 90 mapped calls are eligible: the 10 unmapped add 3.33.
        assert!((s.unmapped_at_mapped_rate() - 33.333).abs() < 0.01);
        assert_eq!(Sized::default().share(), 0.0);
    }

    #[test]
    fn shipped_assumptions_load_and_name_real_columns() {
        let a = load_assumptions("sensitivity").unwrap();
        let names: Vec<&str> = a.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["third_party_likelihood", "person_down", "intoxication", "priority_cutoff"]);
    }
}

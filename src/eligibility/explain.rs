//! `callsift explain CALL_ID`: one call's normalised fields, each policy rule's result on it, and
//! its outcome in every tagged scenario — the audit trail behind any number in a report.
use std::fmt::Write;

use datafusion::arrow::array::AsArray;

use crate::eligibility::policy::{self, Policy};
use crate::error::{Error, Result};
use crate::output::report;
use crate::output::sql::read_only;
use crate::warehouse::Warehouse;

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

pub async fn explain(wh: &Warehouse, call_id: &str, policy: &Policy) -> Result<String> {
    policy.validate()?;
    let ctx = wh.session().await?;
    let filter = format!("call_id = {}", quote(call_id));
    let fields =
        ctx.sql_with_options(&format!("SELECT * FROM calls WHERE {filter}"), read_only()).await?.collect().await?;
    let n: usize = fields.iter().map(|b| b.num_rows()).sum();
    if n == 0 {
        return Err(Error::Usage(format!("no call `{call_id}` in {}", wh.display())));
    }
    let mut out = String::new();
    writeln!(out, "call {call_id}{}", if n > 1 { format!(" ({n} rows share this id)") } else { String::new() })
        .unwrap();
    for b in &fields {
        let text = report::rows_as_text(std::slice::from_ref(b))?;
        for row in text {
            for (f, v) in b.schema().fields().iter().zip(row) {
                writeln!(out, "  {:<22} {}", f.name(), v.unwrap_or_else(|| "∅".into())).unwrap();
            }
        }
    }

    // Rule results, evaluated by the same SQL the tagger runs.
    let rules = ctx
        .sql_with_options(&policy::rules_select(policy, &format!("(SELECT * FROM calls WHERE {filter})")), read_only())
        .await?
        .collect()
        .await?;
    let labels: Vec<(String, String)> = policy
        .rule_columns()
        .into_iter()
        .map(|rc| {
            let what = match rc.kind {
                "rule" => rc.name.clone(),
                "unrecorded" => "  unrecorded?".to_string(),
                "likelihood" => "  likelihood".to_string(),
                k => format!("{k} {}", rc.name),
            };
            (rc.column, format!("{what:<30} {}", rc.sql))
        })
        .collect();
    writeln!(out, "\nrules of policy {} (true = the rule fires):", policy.name).unwrap();
    if let Some(b) = rules.first() {
        let text = report::rows_as_text(std::slice::from_ref(b))?;
        let row = &text[0];
        for (k, label) in &labels {
            if let Ok(i) = b.schema().index_of(k) {
                writeln!(out, "  {:<6} {label}", row[i].clone().unwrap_or_default()).unwrap();
            }
        }
    }

    let el = ctx
        .sql_with_options(
            &format!(
                "SELECT scenario, reason, estimated, p_eligible FROM eligibility WHERE {filter} ORDER BY scenario"
            ),
            read_only(),
        )
        .await?
        .collect()
        .await?;
    writeln!(out, "\noutcome by scenario (from the last `tag` run):").unwrap();
    let mut any = false;
    for b in &el {
        let (sc, reason) = (b.column(0).as_string::<i32>(), b.column(1).as_string::<i32>());
        let est = b.column(2).as_boolean();
        let p = b.column(3).as_primitive::<datafusion::arrow::datatypes::Float64Type>();
        for r in 0..b.num_rows() {
            any = true;
            let note = if est.value(r) {
                format!("  (estimate: eligible with probability {:.2})", p.value(r))
            } else {
                String::new()
            };
            writeln!(out, "  {:<36} {}{note}", sc.value(r), reason.value(r)).unwrap();
        }
    }
    if !any {
        writeln!(out, "  (not tagged yet: run `callsift tag`)").unwrap();
    }
    Ok(out)
}

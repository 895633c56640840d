//! Tagging: evaluate a policy over every call in the warehouse, for every scenario, and replace
//! the `eligibility` table in one Delta commit. The work is one SQL query (see `policy::by_call_sql`)
//! so it runs unchanged wherever DataFusion runs; SQL reads it through `policy::view_sql`.

use crate::eligibility::policy::{self, Policy, Scenario};
use crate::error::{Error, Result};
use crate::source::coverage::{self, Coverage};
use crate::warehouse::query::one_row_u64;
use crate::warehouse::{TagRecord, Warehouse};

#[derive(Debug, Clone, Default)]
pub struct TagOptions {
    /// `None` = the policy's scenarios; `all` = every combination of its limitations; or a list.
    pub scenarios: Option<String>,
    /// Publish even when more call volume than the policy allows has an unmapped type.
    pub allow_unmapped: bool,
}

#[derive(Debug, Clone)]
pub struct TagSummary {
    pub policy: String,
    pub scenarios: Vec<Scenario>,
    pub coverage: Coverage,
    pub rows_written: u64,
    pub seconds: f64,
    /// Share of calls whose caller relationship (first / third party) the export records.
    pub caller_recorded_share: f64,
}

pub async fn tag(wh: &Warehouse, policy: &Policy, opts: &TagOptions) -> Result<TagSummary> {
    let started = std::time::Instant::now();
    policy.validate()?;
    let scenarios = policy.select(opts.scenarios.as_deref())?;
    let ctx = wh.session().await?;

    crate::ingest::trace_memory("tag: opened");
    let cov = coverage::coverage(&ctx).await?;
    crate::ingest::trace_memory("tag: coverage");
    if cov.share > policy.max_unmapped_share && !opts.allow_unmapped {
        let top = cov.top.iter().take(5).map(|(t, n)| format!("{t} ({n})")).collect::<Vec<_>>().join(", ");
        return Err(Error::Refused(format!(
            "{:.1}% of calls have a call type neither the crosswalk nor the classifier maps (policy {} allows {:.1}%); top unmapped: {top}. \
             Add them to the crosswalk (see `callsift crosswalk suggest`) or pass --allow-unmapped",
            cov.share * 100.0,
            policy.name,
            policy.max_unmapped_share * 100.0
        )));
    }

    let n = one_row_u64(&ctx, "SELECT count(*) FILTER (WHERE caller_party <> 'unknown'), count(*) FROM calls").await?;
    let caller_recorded_share = n[0] as f64 / n[1].max(1) as f64;

    let sql = policy::by_call_sql(policy, &scenarios, "calls");
    let record = TagRecord {
        policy: policy.origin.display().to_string(),
        policy_name: policy.name.clone(),
        policy_sha256: policy.sha256.clone(),
        scenarios: scenarios.iter().map(|s| s.name.clone()).collect(),
        tagged_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        calls: cov.calls,
        unmapped_share: cov.share,
        calls_version: wh.manifest()?.versions.calls,
        eligibility_version: None,
        reasons: policy::reasons(policy),
    };
    // Rows as SQL sees them: one per (call, scenario); the table stores one per call.
    crate::ingest::trace_memory("tag: counted");
    let rows_written = wh.replace_eligibility(&ctx, &sql, record).await? * scenarios.len() as u64;
    Ok(TagSummary {
        policy: policy.name.clone(),
        scenarios,
        coverage: cov,
        rows_written,
        seconds: started.elapsed().as_secs_f64(),
        caller_recorded_share,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use datafusion::arrow::array::{
        ArrayRef, BooleanArray, Float64Array, Int32Array, StringArray, TimestampMicrosecondArray,
    };
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;

    use super::*;
    use crate::warehouse::schema;
    use datafusion::arrow::array::AsArray;

    /// A hand-built call: defaults are a mapped, public, non-urgent call with no flags.
    #[derive(Clone)]
    pub struct C {
        pub id: &'static str,
        pub category: &'static str,
        pub mapped: bool,
        pub priority: Option<i32>,
        pub self_initiated: bool,
        pub caller: &'static str,
        pub third_party_p: Option<f64>,
        pub district: &'static str,
        /// Local wall time `YYYY-MM-DD HH:MM`.
        pub local: &'static str,
        pub flags: &'static [&'static str],
    }

    pub fn c(id: &'static str) -> C {
        C {
            id,
            category: "Assisting the Public",
            mapped: true,
            priority: Some(3),
            self_initiated: false,
            caller: "unknown",
            third_party_p: None,
            district: "D1",
            local: "2024-06-01 12:00",
            flags: &[],
        }
    }

    pub fn batch(calls: &[C]) -> datafusion::arrow::record_batch::RecordBatch {
        let s = schema::call_table_schema();
        let n = calls.len();
        let local: Vec<i64> = calls
            .iter()
            .map(|c| {
                chrono::NaiveDateTime::parse_from_str(c.local, "%Y-%m-%d %H:%M").unwrap().and_utc().timestamp_micros()
            })
            .collect();
        let cols: Vec<ArrayRef> = s
            .fields()
            .iter()
            .map(|f| -> ArrayRef {
                let name = f.name().as_str();
                let strs = |v: Vec<Option<&str>>| Arc::new(StringArray::from(v)) as ArrayRef;
                match name {
                    "call_id" => strs(calls.iter().map(|c| Some(c.id)).collect()),
                    "source" => strs(vec![Some("test"); n]),
                    "ingest_id" => strs(vec![Some("t"); n]),
                    "category" => strs(calls.iter().map(|c| Some(c.category)).collect()),
                    "call_type" | "initial_type" | "final_type" => strs(calls.iter().map(|c| Some(c.id)).collect()),
                    "caller_party" => strs(calls.iter().map(|c| Some(c.caller)).collect()),
                    "call_source" => strs(
                        calls
                            .iter()
                            .map(|c| Some(if c.self_initiated { "officer_initiated" } else { "911" }))
                            .collect(),
                    ),
                    "district" => strs(calls.iter().map(|c| Some(c.district)).collect()),
                    "type_mapped" => Arc::new(BooleanArray::from(calls.iter().map(|c| c.mapped).collect::<Vec<_>>())),
                    "category_source" => {
                        strs(calls.iter().map(|c| Some(if c.mapped { "crosswalk" } else { "unmapped" })).collect())
                    }
                    "self_initiated" => {
                        Arc::new(BooleanArray::from(calls.iter().map(|c| c.self_initiated).collect::<Vec<_>>()))
                    }
                    "community_responder" => Arc::new(BooleanArray::from(vec![false; n])),
                    "priority" => Arc::new(Int32Array::from(calls.iter().map(|c| c.priority).collect::<Vec<_>>())),
                    "units" => Arc::new(Int32Array::from(vec![1; n])),
                    "year" => Arc::new(Int32Array::from(vec![2024; n])),
                    "month" => Arc::new(Int32Array::from(vec![6; n])),
                    "third_party_p" => {
                        Arc::new(Float64Array::from(calls.iter().map(|c| c.third_party_p).collect::<Vec<_>>()))
                    }
                    "received_local" => Arc::new(TimestampMicrosecondArray::from(local.clone())),
                    "received_at" => Arc::new(TimestampMicrosecondArray::from(local.clone()).with_timezone("UTC")),
                    f if schema::FLAGS.contains(&f) => {
                        Arc::new(BooleanArray::from(calls.iter().map(|c| c.flags.contains(&f)).collect::<Vec<_>>()))
                    }
                    _ => datafusion::arrow::array::new_null_array(f.data_type(), n),
                }
            })
            .collect();
        datafusion::arrow::record_batch::RecordBatch::try_new(s, cols).unwrap()
    }

    /// Tag hand-built calls; returns (call_id, scenario) → (reason, estimated, p_eligible).
    pub async fn outcomes(
        policy: &Policy,
        scenarios: &[Scenario],
        calls: &[C],
    ) -> HashMap<(String, String), (String, bool, f64)> {
        let ctx = SessionContext::new();
        let b = batch(calls);
        ctx.register_table("calls", Arc::new(MemTable::try_new(b.schema(), vec![vec![b]]).unwrap())).unwrap();
        let rows = ctx.sql(&policy::tag_sql(policy, scenarios, "calls")).await.unwrap().collect().await.unwrap();
        let mut out = HashMap::new();
        for r in &rows {
            let s = |i: usize| r.column(i).as_string::<i32>().clone();
            let (id, sc, reason) = (s(0), s(1), s(3));
            let est = r.column(6).as_boolean().clone();
            let p = r.column(7).as_primitive::<datafusion::arrow::datatypes::Float64Type>().clone();
            for i in 0..r.num_rows() {
                out.insert(
                    (id.value(i).to_string(), sc.value(i).to_string()),
                    (reason.value(i).to_string(), est.value(i), p.value(i)),
                );
            }
        }
        out
    }

    fn standard() -> Policy {
        let p = Policy::load("policies/standard.toml").unwrap();
        p.validate().unwrap();
        p
    }

    #[tokio::test]
    async fn standard_policy_rules_on_hand_built_calls() {
        let p = standard();
        let calls = vec![
            C { self_initiated: true, ..c("self") },
            C { mapped: false, category: "Other (Not Crime)", ..c("unmapped") },
            C { flags: &["insufficient_info"], category: "Call Related Issues", ..c("hang_up") },
            C { flags: &["imminent_danger", "bh_nexus"], category: "Behavioral Health", ..c("suicide") },
            C { flags: &["weapon", "bh_nexus"], category: "Behavioral Health", ..c("weapon") },
            C {
                flags: &["violence", "conflict", "police_type"],
                category: "Complaints/Environmental Conditions",
                ..c("violence")
            },
            C { flags: &["medical"], category: "Medical Emergencies", ..c("medical") },
            C { flags: &["in_progress", "police_type"], ..c("in_progress") },
            C { priority: Some(1), flags: &["bh_nexus"], category: "Behavioral Health", ..c("p1") },
            C { category: "Property Crime", ..c("theft") },
            C { flags: &["police_type"], third_party_p: Some(0.9), ..c("welfare") },
            C { flags: &["bh_nexus"], category: "Behavioral Health", caller: "first", ..c("crisis_first") },
            C { flags: &["bh_nexus"], category: "Behavioral Health", caller: "third", ..c("crisis_third") },
            C {
                flags: &["police_type", "conflict"],
                category: "Complaints/Environmental Conditions",
                caller: "first",
                ..c("noise")
            },
            C {
                flags: &["conflict", "bh_nexus", "police_type"],
                category: "Complaints/Environmental Conditions",
                caller: "first",
                ..c("dispute_bh")
            },
        ];
        let o = outcomes(&p, &p.scenarios, &calls).await;
        let reason = |id: &str, sc: &str| o[&(id.to_string(), sc.to_string())].0.clone();
        for sc in ["broad", "no_police_types", "no_third_party", "bh_nexus_required", "narrowest"] {
            assert_eq!(reason("self", sc), "excluded_self_initiated");
            assert_eq!(reason("unmapped", sc), "unmapped");
            assert_eq!(reason("hang_up", sc), "insufficient_info");
            assert_eq!(reason("suicide", sc), "disqualified:imminent_danger");
            assert_eq!(reason("weapon", sc), "disqualified:weapon");
            assert_eq!(reason("violence", sc), "disqualified:violence");
            assert_eq!(reason("medical", sc), "disqualified:medical");
            assert_eq!(reason("in_progress", sc), "disqualified:in_progress");
            assert_eq!(reason("p1", sc), "disqualified:top_priority");
            assert_eq!(reason("theft", sc), "out_of_scope");
            assert_eq!(reason("crisis_first", sc), "eligible");
            assert_eq!(reason("dispute_bh", sc), "eligible");
        }
        assert_eq!(reason("welfare", "broad"), "eligible");
        assert_eq!(reason("welfare", "no_police_types"), "limited:no_police_types");
        assert_eq!(reason("welfare", "bh_nexus_required"), "eligible");
        assert_eq!(reason("crisis_third", "no_third_party"), "limited:no_third_party");
        assert_eq!(reason("crisis_third", "broad"), "eligible");
        assert_eq!(reason("noise", "bh_nexus_required"), "limited:bh_nexus_required");
        assert_eq!(reason("noise", "broad"), "eligible");
        assert_eq!(reason("noise", "narrowest"), "limited:no_police_types");
        // Unknown caller: eligible as an estimate, weighted by the first-party likelihood.
        let (r, est, pe) = o[&("welfare".to_string(), "no_third_party".to_string())].clone();
        assert_eq!((r.as_str(), est), ("eligible", true));
        assert!((pe - 0.1).abs() < 1e-9, "{pe}");
        let (_, est, pe) = o[&("crisis_first".to_string(), "no_third_party".to_string())].clone();
        assert_eq!((est, pe), (false, 1.0));
        let (_, est, pe) = o[&("welfare".to_string(), "broad".to_string())].clone();
        assert_eq!((est, pe), (false, 1.0));
    }

    #[tokio::test]
    async fn service_hours_cross_midnight_and_dst() {
        let text = std::fs::read_to_string("policies/standard.toml").unwrap()
            + "\n[[limitation]]\nname = \"service_hours\"\nhours = \"09:00-01:00\"\n[[limitation]]\nname = \"service_area\"\ndistricts = [\"D1\", \"D3\"]\n\
               [[scenario]]\nname = \"program\"\nlimitations = [\"service_hours\", \"service_area\"]\n";
        let p = Policy::from_asset(&crate::assets::Asset { origin: "p.toml".into(), text, dir: None }).unwrap();
        p.validate().unwrap();
        let base = C { flags: &["bh_nexus"], category: "Behavioral Health", caller: "first", ..c("x") };
        let calls = vec![
            C { id: "h0030", local: "2024-06-01 00:30", ..base.clone() },
            C { id: "h0100", local: "2024-06-01 01:00", ..base.clone() },
            C { id: "h0859", local: "2024-06-01 08:59", ..base.clone() },
            C { id: "h0900", local: "2024-06-01 09:00", ..base.clone() },
            C { id: "h2359", local: "2024-06-01 23:59", ..base.clone() },
            // DST start day in Denver: local 00:30 and 03:30 (the 02:00-03:00 hour does not exist).
            C { id: "dst0030", local: "2024-03-10 00:30", ..base.clone() },
            C { id: "dst0330", local: "2024-03-10 03:30", ..base.clone() },
            // DST end day: the repeated 01:xx hour is outside 09:00-01:00 both times.
            C { id: "dst0130", local: "2024-11-03 01:30", ..base.clone() },
            C { id: "d2", district: "D2", ..base.clone() },
            C { id: "d2_night", district: "D2", local: "2024-06-01 03:00", ..base.clone() },
        ];
        let o = outcomes(&p, &[p.scenario("program").unwrap().clone()], &calls).await;
        let reason = |id: &str| o[&(id.to_string(), "program".to_string())].0.clone();
        assert_eq!(reason("h0030"), "eligible");
        assert_eq!(reason("h0100"), "out_of_hours");
        assert_eq!(reason("h0859"), "out_of_hours");
        assert_eq!(reason("h0900"), "eligible");
        assert_eq!(reason("h2359"), "eligible");
        assert_eq!(reason("dst0030"), "eligible");
        assert_eq!(reason("dst0330"), "out_of_hours");
        assert_eq!(reason("dst0130"), "out_of_hours");
        assert_eq!(reason("d2"), "out_of_area");
        // Hours are judged before area.
        assert_eq!(reason("d2_night"), "out_of_hours");
    }
}

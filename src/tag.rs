//! Tagging: evaluate a policy over every call in the warehouse, for every scenario, and replace
//! the `eligibility` table atomically. The work is one SQL query (see `policy::tag_sql`) so it runs
//! unchanged wherever DataFusion runs.
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Int64Type, UInt64Type};
use datafusion::dataframe::DataFrameWriteOptions;

use crate::error::{Error, Result};
use crate::policy::{self, Policy, Scenario};
use crate::warehouse::{TagRecord, Warehouse};

#[derive(Debug, Clone, Default)]
pub struct TagOptions {
    /// `None` = the policy's scenarios; `all` = every combination of its limitations; or a list.
    pub scenarios: Option<String>,
    /// Publish even when more call volume than the policy allows has an unmapped type.
    pub allow_unmapped: bool,
}

#[derive(Debug, Clone)]
pub struct Coverage {
    pub calls: u64,
    pub unmapped: u64,
    pub share: f64,
    /// (normalised call type or `(missing)`, calls), most frequent first.
    pub top: Vec<(String, u64)>,
}

#[derive(Debug, Clone)]
pub struct TagSummary {
    pub policy: String,
    pub scenarios: Vec<Scenario>,
    pub coverage: Coverage,
    pub rows_written: u64,
    pub seconds: f64,
}

fn int(b: &RecordBatch, col: usize, row: usize) -> u64 {
    let a = b.column(col);
    if a.is_null(row) {
        return 0;
    }
    match a.data_type() {
        datafusion::arrow::datatypes::DataType::Int64 => a.as_primitive::<Int64Type>().value(row) as u64,
        datafusion::arrow::datatypes::DataType::UInt64 => a.as_primitive::<UInt64Type>().value(row),
        _ => 0,
    }
}

/// Crosswalk coverage over all calls in the warehouse.
pub async fn coverage(ctx: &datafusion::prelude::SessionContext) -> Result<Coverage> {
    let b = ctx
        .sql("SELECT count(*) AS calls, count(*) FILTER (WHERE NOT type_mapped) AS unmapped FROM calls")
        .await?
        .collect()
        .await?;
    let (calls, unmapped) = b.first().map(|b| (int(b, 0, 0), int(b, 1, 0))).unwrap_or((0, 0));
    let top_b = ctx
        .sql("SELECT COALESCE(upper(trim(regexp_replace(call_type, '\\s+', ' ', 'g'))), '(missing)') AS t, count(*) AS n FROM calls WHERE NOT type_mapped GROUP BY 1 ORDER BY n DESC, t LIMIT 10")
        .await?
        .collect()
        .await?;
    let mut top = Vec::new();
    for b in &top_b {
        let t = b.column(0).as_string::<i32>();
        for r in 0..b.num_rows() {
            top.push((t.value(r).to_string(), int(b, 1, r)));
        }
    }
    let share = if calls == 0 { 0.0 } else { unmapped as f64 / calls as f64 };
    Ok(Coverage { calls, unmapped, share, top })
}

pub async fn tag(wh: &Warehouse, policy: &Policy, opts: &TagOptions) -> Result<TagSummary> {
    let started = std::time::Instant::now();
    policy.validate()?;
    let scenarios = policy.select(opts.scenarios.as_deref())?;
    let _lock = wh.lock()?;
    let ctx = wh.session().await?;

    let cov = coverage(&ctx).await?;
    if cov.share > policy.max_unmapped_share && !opts.allow_unmapped {
        let top = cov.top.iter().take(5).map(|(t, n)| format!("{t} ({n})")).collect::<Vec<_>>().join(", ");
        return Err(Error::Refused(format!(
            "{:.1}% of calls have a call type the crosswalk does not map (policy {} allows {:.1}%); top unmapped: {top}. \
             Add them to the crosswalk (see `callsift crosswalk suggest`) or pass --allow-unmapped",
            cov.share * 100.0,
            policy.name,
            policy.max_unmapped_share * 100.0
        )));
    }

    let staging = wh.staging("tag")?;
    let out = staging.join("eligibility");
    std::fs::create_dir_all(&out).map_err(|e| Error::io(format!("creating {}", out.display()), e))?;
    let sql = policy::tag_sql(policy, &scenarios, "calls");
    let df = ctx.sql(&sql).await?;
    let written = df.write_parquet(&format!("{}/", out.display()), DataFrameWriteOptions::new(), None).await?;
    let rows_written = written.first().map(|b| int(b, 0, 0)).unwrap_or(0);

    wh.commit_eligibility(
        &out,
        TagRecord {
            policy: policy.origin.display().to_string(),
            policy_name: policy.name.clone(),
            policy_sha256: policy.sha256.clone(),
            scenarios: scenarios.iter().map(|s| s.name.clone()).collect(),
            tagged_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            calls: cov.calls,
            unmapped_share: cov.share,
        },
    )?;
    let _ = std::fs::remove_dir_all(&staging);
    Ok(TagSummary { policy: policy.name.clone(), scenarios, coverage: cov, rows_written, seconds: started.elapsed().as_secs_f64() })
}

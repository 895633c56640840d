//! `ingest`, `tag`, `sample` and `demo`: the commands that build a warehouse.
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::query::report;
use crate::cli::text::{out_err, source_shares, thousands_u};
use crate::eligibility::policy::Policy;
use crate::eligibility::tag::{self, TagOptions};
use crate::error::{Error, IoContext, Result};
use crate::ingest::{self, IngestOptions, IngestOutcome};
use crate::output::report::Format;
use crate::source::profile::Profile;
use crate::warehouse::{IngestRecord, Warehouse};

/// The reconciliation lines printed after each ingest (also the demo's).
pub fn describe_ingest(r: &IngestRecord, seconds: Option<f64>) -> String {
    let mut s = String::new();
    let rate = seconds
        .map(|t| format!(" in {t:.2}s ({} rows/s)", thousands_u((r.rows_read as f64 / t.max(1e-9)) as u64)))
        .unwrap_or_default();
    s.push_str(&format!("ingested {} with profile {}{rate}\n", r.file, r.profile));
    s.push_str(&format!(
        "  rows read {} = calls kept {} + rejected {} + unit rows merged {} + non-calls dropped {}\n",
        thousands_u(r.rows_read),
        thousands_u(r.calls_kept),
        thousands_u(r.rows_rejected),
        thousands_u(r.unit_rows_merged),
        thousands_u(r.non_calls_dropped)
    ));
    if !r.rejects_by_reason.is_empty() {
        let parts: Vec<String> = r.rejects_by_reason.iter().map(|(k, v)| format!("{k} {}", thousands_u(*v))).collect();
        s.push_str(&format!("  rejected by reason: {}\n", parts.join(", ")));
    }
    if !r.calls_by_category_source.is_empty() {
        let by = r.calls_by_category_source.iter().map(|(k, v)| (k.as_str(), *v));
        s.push_str(&format!("  call-type categories from: {}\n", source_shares(by, r.calls_kept)));
    }
    let unmapped: u64 = r.unmapped_types.iter().map(|u| u.rows).sum();
    if unmapped > 0 {
        let share = 100.0 * unmapped as f64 / r.calls_kept.max(1) as f64;
        let top: Vec<String> =
            r.unmapped_types.iter().take(5).map(|u| format!("{} ({})", u.raw_type, u.rows)).collect();
        s.push_str(&format!(
            "  unmapped call types: {} rows ≈ {share:.2}% of calls; top: {}\n",
            thousands_u(unmapped),
            top.join(", ")
        ));
    }
    for (field, values) in &r.unmapped_values {
        let n: u64 = values.values().sum();
        let mut top: Vec<(&String, &u64)> = values.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1));
        let top: Vec<String> = top.iter().take(3).map(|(k, v)| format!("{k} ({v})")).collect();
        s.push_str(&format!("  unmapped {field} values: {} rows; top: {}\n", thousands_u(n), top.join(", ")));
    }
    if r.duplicate_call_ids > 0 {
        s.push_str(&format!(
            "  warning: {} call ids occur more than once (unit rows beyond the merge window, or repeated ids)\n",
            r.duplicate_call_ids
        ));
    }
    s
}

pub async fn ingest(
    profile: &str,
    warehouse: &Path,
    inputs: &[PathBuf],
    opts: &IngestOptions,
    out: &mut dyn Write,
) -> Result<Vec<IngestOutcome>> {
    // `auto`: detect per file (a folder of yearly exports may change layout midway).
    let fixed = if profile == "auto" { None } else { Some(Profile::load(profile)?) };
    let wh = Warehouse::open(warehouse).await?;
    let mut outcomes = Vec::new();
    let mut failed = Vec::new();
    for input in inputs {
        let result = match &fixed {
            Some(p) => ingest::ingest_file(&wh, p, input, opts).await,
            None => {
                match crate::source::detect::choose(input).and_then(|(name, conf)| Ok((Profile::load(&name)?, conf))) {
                    Ok((p, conf)) => {
                        writeln!(out, "detected profile {} for {} (confidence {conf:.2})", p.name, input.display())
                            .ctx(out_err)?;
                        ingest::ingest_file(&wh, &p, input, opts).await
                    }
                    Err(e) => Err(e),
                }
            }
        };
        match result {
            Ok(o) => {
                match &o {
                    IngestOutcome::Ingested { record, seconds } => {
                        write!(out, "{}", describe_ingest(record, Some(*seconds)))
                    }
                    IngestOutcome::AlreadyIngested { file, blake3, ingest_id } => writeln!(
                        out,
                        "skipped {file}: already ingested as {ingest_id} (blake3 {}…); nothing changed",
                        &blake3[..blake3.len().min(12)]
                    ),
                }
                .ctx(out_err)?;
                outcomes.push(o);
            }
            // A bad file never stops the others, and never touches the warehouse.
            Err(e) => {
                if inputs.len() > 1 {
                    eprintln!("error: {e}");
                }
                failed.push((input.clone(), e));
            }
        }
    }
    match failed.len() {
        0 => Ok(outcomes),
        1 if inputs.len() == 1 => Err(failed.pop().unwrap().1),
        n => Err(Error::Input {
            file: failed[0].0.clone(),
            message: format!("{n} of {} files failed (see above); the others were ingested", inputs.len()),
        }),
    }
}

pub async fn tag(policy: &str, warehouse: &Path, opts: &TagOptions, out: &mut dyn Write) -> Result<tag::TagSummary> {
    let policy = Policy::load(policy)?;
    let wh = Warehouse::open_existing(warehouse).await?;
    let s = tag::tag(&wh, &policy, opts).await?;
    let rate = (s.rows_written as f64 / s.seconds.max(1e-9)) as u64;
    writeln!(
        out,
        "tagged {} calls under {} scenarios of policy {} in {:.2}s ({} call-scenarios/s)",
        thousands_u(s.coverage.calls),
        s.scenarios.len(),
        s.policy,
        s.seconds,
        thousands_u(rate)
    )
    .ctx(out_err)?;
    writeln!(
        out,
        "  caller relationship: recorded for {:.1}% of calls{}",
        s.caller_recorded_share * 100.0,
        if s.caller_recorded_share < 1.0 {
            "; no_third_party scenarios estimate the rest from call types (bounds in reports)"
        } else {
            ""
        }
    )
    .ctx(out_err)?;
    let by = s.coverage.by_source.iter().map(|(k, v)| (k.as_str(), *v));
    writeln!(out, "  call-type categories from: {}", source_shares(by, s.coverage.calls)).ctx(out_err)?;
    let top: Vec<String> = s.coverage.top.iter().take(5).map(|(t, n)| format!("{t} ({n})")).collect();
    writeln!(
        out,
        "  coverage: {:.2}% of calls unmapped ({} calls){}",
        s.coverage.share * 100.0,
        thousands_u(s.coverage.unmapped),
        if top.is_empty() { String::new() } else { format!("; top: {}", top.join(", ")) }
    )
    .ctx(out_err)?;
    Ok(s)
}

/// `callsift sample`: the callsift export, or with `profile` the same calls in that profile's layout.
pub fn sample(profile: Option<&str>, rows: usize, seed: u64, out_path: &Path, out: &mut dyn Write) -> Result<()> {
    // Loaded first: an unknown profile is a usage error and leaves no file behind.
    let profile = profile.map(Profile::load).transpose()?;
    if let Some(parent) = out_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).ctx(|| format!("creating {}", parent.display()))?;
    }
    let f = std::fs::File::create(out_path).ctx(|| format!("creating {}", out_path.display()))?;
    let spec = crate::sample::SampleSpec { rows, seed, ..Default::default() };
    let w = std::io::BufWriter::with_capacity(1 << 20, f);
    let stats = match &profile {
        None => crate::sample::write_sample(&spec, w),
        Some(p) => crate::sample::write_profile_sample(&spec, p, w),
    }
    .ctx(|| format!("writing {}", out_path.display()))?;
    writeln!(
        out,
        "wrote {} rows ({} incidents, {} extra unit rows, {} malformed){} to {}",
        thousands_u(stats.rows as u64),
        thousands_u(stats.incidents as u64),
        thousands_u(stats.unit_rows as u64),
        thousands_u(stats.malformed as u64),
        profile.as_ref().map(|p| format!(" in the {} layout", p.name)).unwrap_or_default(),
        out_path.display()
    )
    .ctx(out_err)
}

/// Where the shipped sample lives: `./sample_data`, else the source tree this binary was built from.
fn sample_dir() -> PathBuf {
    let local = PathBuf::from("sample_data");
    if local.is_dir() {
        return local;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample_data")
}

/// The whole pipeline on the shipped sample: ingest, tag under every scenario, print the sizing.
pub async fn demo(out_dir: &Path, out: &mut dyn Write) -> Result<()> {
    let dir = sample_dir();
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ctx(|| format!("reading {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    inputs.sort();
    if inputs.is_empty() {
        return Err(Error::Usage(format!("no CSV files in {}", dir.display())));
    }
    let warehouse = out_dir.join("warehouse");
    writeln!(out, "== callsift demo: warehouse {}\n", warehouse.display()).ctx(out_err)?;
    ingest("callsift_sample", &warehouse, &inputs, &IngestOptions::default(), out).await?;
    writeln!(out).ctx(out_err)?;
    // The sample program's policy: the standard policy plus its service hours and area.
    tag("sample_program", &warehouse, &TagOptions { scenarios: Some("all".into()), allow_unmapped: false }, out)
        .await?;
    writeln!(out).ctx(out_err)?;
    report("sizing", &warehouse, None, &[], Format::Table, None, out).await?;
    writeln!(out).ctx(out_err)?;
    report("waterfall", &warehouse, None, &[("scenario".into(), "narrowest".into())], Format::Table, None, out).await?;
    let wh = Warehouse::open_existing(&warehouse).await?;
    writeln!(out).ctx(out_err)?;
    for name in crate::output::dashboard::names() {
        let path = out_dir.join("dashboards").join(format!("{name}.html"));
        crate::output::dashboard::build(&wh, &name, &[], &path).await?;
        writeln!(out, "dashboard {name}: {}", path.display()).ctx(out_err)?;
    }
    let path = out_dir.join("dashboards").join(format!("{}.html", crate::output::whatif::NAME));
    crate::output::whatif::build(&wh, &path).await?;
    writeln!(out, "what-if page: {}", path.display()).ctx(out_err)?;
    let opts = crate::output::publish::MonthlyOptions {
        month: None,
        scenario: "program".into(),
        threshold: crate::output::publish::DEFAULT_THRESHOLD,
    };
    let p = crate::output::publish::monthly(&wh, &opts, &out_dir.join("transparency")).await?;
    writeln!(out, "transparency report {}: {} (and report.md, {} CSVs)", p.month, p.html.display(), p.csvs.len())
        .ctx(out_err)?;
    writeln!(
        out,
        "\nNext: `callsift report waterfall --warehouse {w}`, `callsift explain CALL_ID --warehouse {w}`, `callsift sql \"SELECT …\" --warehouse {w}`",
        w = warehouse.display()
    )
    .ctx(out_err)?;
    Ok(())
}

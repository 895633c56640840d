//! The command implementations behind `main.rs`: each takes parsed arguments, does the work
//! through the library and prints what a user needs to see.
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::ingest::{self, IngestOptions, IngestOutcome};
use crate::policy::Policy;
use crate::profile::Profile;
use crate::report::{self, Format, ReportSql};
use crate::tag::{self, TagOptions};
use crate::warehouse::{IngestRecord, Warehouse};

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The reconciliation lines printed after each ingest (also the demo's).
pub fn describe_ingest(r: &IngestRecord, seconds: Option<f64>) -> String {
    let mut s = String::new();
    let rate = seconds.map(|t| format!(" in {t:.2}s ({} rows/s)", thousands((r.rows_read as f64 / t.max(1e-9)) as u64))).unwrap_or_default();
    s.push_str(&format!("ingested {} with profile {}{rate}\n", r.file, r.profile));
    s.push_str(&format!(
        "  rows read {} = calls kept {} + rejected {} + unit rows merged {} + non-calls dropped {}\n",
        thousands(r.rows_read),
        thousands(r.calls_kept),
        thousands(r.rows_rejected),
        thousands(r.unit_rows_merged),
        thousands(r.non_calls_dropped)
    ));
    if !r.rejects_by_reason.is_empty() {
        let parts: Vec<String> = r.rejects_by_reason.iter().map(|(k, v)| format!("{k} {}", thousands(*v))).collect();
        s.push_str(&format!("  rejected by reason: {}\n", parts.join(", ")));
    }
    let unmapped: u64 = r.unmapped_types.iter().map(|u| u.rows).sum();
    if unmapped > 0 {
        let share = 100.0 * unmapped as f64 / r.calls_kept.max(1) as f64;
        let top: Vec<String> = r.unmapped_types.iter().take(5).map(|u| format!("{} ({})", u.raw_type, u.rows)).collect();
        s.push_str(&format!("  unmapped call types: {} rows ≈ {share:.2}% of calls; top: {}\n", thousands(unmapped), top.join(", ")));
    }
    for (field, values) in &r.unmapped_values {
        let n: u64 = values.values().sum();
        let mut top: Vec<(&String, &u64)> = values.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1));
        let top: Vec<String> = top.iter().take(3).map(|(k, v)| format!("{k} ({v})")).collect();
        s.push_str(&format!("  unmapped {field} values: {} rows; top: {}\n", thousands(n), top.join(", ")));
    }
    if r.duplicate_call_ids > 0 {
        s.push_str(&format!("  warning: {} call ids occur more than once (unit rows beyond the merge window, or repeated ids)\n", r.duplicate_call_ids));
    }
    s
}

pub async fn ingest(profile: &str, warehouse: &Path, inputs: &[PathBuf], opts: &IngestOptions, out: &mut dyn Write) -> Result<Vec<IngestOutcome>> {
    // `auto`: detect per file (a folder of yearly exports may change layout midway).
    let fixed = if profile == "auto" { None } else { Some(Profile::load(profile)?) };
    let wh = Warehouse::open(warehouse)?;
    let _lock = wh.lock()?;
    let mut outcomes = Vec::new();
    let mut failed = Vec::new();
    for input in inputs {
        let result = match &fixed {
            Some(p) => ingest::ingest_file(&wh, p, input, opts).await,
            None => match crate::detect::choose(input).and_then(|(name, conf)| Ok((Profile::load(&name)?, conf))) {
                Ok((p, conf)) => {
                    writeln!(out, "detected profile {} for {} (confidence {conf:.2})", p.name, input.display()).ctx(|| "writing output".into())?;
                    ingest::ingest_file(&wh, &p, input, opts).await
                }
                Err(e) => Err(e),
            },
        };
        match result {
            Ok(o) => {
                match &o {
                    IngestOutcome::Ingested { record, seconds } => write!(out, "{}", describe_ingest(record, Some(*seconds))),
                    IngestOutcome::AlreadyIngested { file, sha256, ingest_id } => writeln!(
                        out,
                        "skipped {file}: already ingested as {ingest_id} (sha256 {}…); nothing changed",
                        &sha256[..12]
                    ),
                }
                .ctx(|| "writing output".into())?;
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
        n => Err(Error::Input { file: failed[0].0.clone(), message: format!("{n} of {} files failed (see above); the others were ingested", inputs.len()) }),
    }
}

pub async fn tag(policy: &str, warehouse: &Path, opts: &TagOptions, out: &mut dyn Write) -> Result<tag::TagSummary> {
    let policy = Policy::load(policy)?;
    let wh = Warehouse::open_existing(warehouse)?;
    let s = tag::tag(&wh, &policy, opts).await?;
    let rate = (s.rows_written as f64 / s.seconds.max(1e-9)) as u64;
    writeln!(
        out,
        "tagged {} calls under {} scenarios of policy {} in {:.2}s ({} call-scenarios/s)",
        thousands(s.coverage.calls),
        s.scenarios.len(),
        s.policy,
        s.seconds,
        thousands(rate)
    )
    .ctx(|| "writing output".into())?;
    writeln!(
        out,
        "  caller relationship: recorded for {:.1}% of calls{}",
        s.caller_recorded_share * 100.0,
        if s.caller_recorded_share < 1.0 { "; no_third_party scenarios estimate the rest from call types (bounds in reports)" } else { "" }
    )
    .ctx(|| "writing output".into())?;
    let top: Vec<String> = s.coverage.top.iter().take(5).map(|(t, n)| format!("{t} ({n})")).collect();
    writeln!(
        out,
        "  crosswalk coverage: {:.2}% of calls unmapped ({} calls){}",
        s.coverage.share * 100.0,
        thousands(s.coverage.unmapped),
        if top.is_empty() { String::new() } else { format!("; top: {}", top.join(", ")) }
    )
    .ctx(|| "writing output".into())?;
    Ok(s)
}

fn emit(text: &str, out_path: Option<&Path>, out: &mut dyn Write) -> Result<()> {
    match out_path {
        Some(p) => {
            if let Some(parent) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).ctx(|| format!("creating {}", parent.display()))?;
            }
            std::fs::write(p, text).ctx(|| format!("writing {}", p.display()))
        }
        None => out.write_all(text.as_bytes()).ctx(|| "writing output".into()),
    }
}

pub async fn report(name: &str, warehouse: &Path, params: &[(String, String)], fmt: Format, out_path: Option<&Path>, out: &mut dyn Write) -> Result<()> {
    let r = ReportSql::load(name)?;
    let wh = Warehouse::open_existing(warehouse)?;
    let ctx = wh.session().await?;
    let batches = report::run_report(&ctx, &r, params).await?;
    let mut text = String::new();
    if fmt == Format::Table {
        text.push_str(&format!("{}\n", r.title));
    }
    text.push_str(&report::format(&batches, fmt)?);
    emit(&text, out_path, out)
}

pub async fn sql(query: &str, warehouse: &Path, fmt: Format, out_path: Option<&Path>, out: &mut dyn Write) -> Result<()> {
    let wh = Warehouse::open_existing(warehouse)?;
    let ctx = wh.session().await?;
    let batches = report::run_sql(&ctx, query).await?;
    emit(&report::format(&batches, fmt)?, out_path, out)
}

pub fn sample(rows: usize, seed: u64, out_path: &Path, out: &mut dyn Write) -> Result<()> {
    if let Some(parent) = out_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).ctx(|| format!("creating {}", parent.display()))?;
    }
    let f = std::fs::File::create(out_path).ctx(|| format!("creating {}", out_path.display()))?;
    let spec = crate::sample::SampleSpec { rows, seed, ..Default::default() };
    let stats = crate::sample::write_sample(&spec, std::io::BufWriter::with_capacity(1 << 20, f)).ctx(|| format!("writing {}", out_path.display()))?;
    writeln!(
        out,
        "wrote {} rows ({} incidents, {} extra unit rows, {} malformed) to {}",
        thousands(stats.rows as u64),
        thousands(stats.incidents as u64),
        thousands(stats.unit_rows as u64),
        thousands(stats.malformed as u64),
        out_path.display()
    )
    .ctx(|| "writing output".into())
}

pub async fn policy_check(policy: &str, out: &mut dyn Write) -> Result<()> {
    let p = Policy::load(policy)?;
    p.validate()?;
    writeln!(
        out,
        "policy {} is valid: {} disqualifiers, {} limitations, {} scenarios ({} with --scenarios all)",
        p.name,
        p.disqualifiers.len(),
        p.limitations.len(),
        p.scenarios.len(),
        p.all_combinations().len()
    )
    .ctx(|| "writing output".into())
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
    writeln!(out, "== callsift demo: warehouse {}\n", warehouse.display()).ctx(|| "writing output".into())?;
    ingest("callsift_sample", &warehouse, &inputs, &IngestOptions::default(), out).await?;
    writeln!(out).ctx(|| "writing output".into())?;
    // The sample program's policy: the standard policy plus its service hours and area.
    tag("sample_program", &warehouse, &TagOptions { scenarios: Some("all".into()), allow_unmapped: false }, out).await?;
    writeln!(out).ctx(|| "writing output".into())?;
    report("sizing", &warehouse, &[], Format::Table, None, out).await?;
    writeln!(out).ctx(|| "writing output".into())?;
    report("waterfall", &warehouse, &[("scenario".into(), "narrowest".into())], Format::Table, None, out).await?;
    let wh = Warehouse::open_existing(&warehouse)?;
    writeln!(out).ctx(|| "writing output".into())?;
    for name in crate::dashboard::names() {
        let path = out_dir.join("dashboards").join(format!("{name}.html"));
        crate::dashboard::build(&wh, &name, &[], &path).await?;
        writeln!(out, "dashboard {name}: {}", path.display()).ctx(|| "writing output".into())?;
    }
    let opts = crate::publish::MonthlyOptions { month: None, scenario: "program".into(), threshold: crate::publish::DEFAULT_THRESHOLD };
    let p = crate::publish::monthly(&wh, &opts, &out_dir.join("transparency")).await?;
    writeln!(out, "transparency report {}: {} (and report.md, {} CSVs)", p.month, p.html.display(), p.csvs.len()).ctx(|| "writing output".into())?;
    writeln!(
        out,
        "\nNext: `callsift report waterfall --warehouse {w}`, `callsift explain CALL_ID --warehouse {w}`, `callsift sql \"SELECT …\" --warehouse {w}`",
        w = warehouse.display()
    )
    .ctx(|| "writing output".into())?;
    Ok(())
}

pub async fn explain(call_id: &str, warehouse: &Path, policy: Option<&str>, out: &mut dyn Write) -> Result<()> {
    let wh = Warehouse::open_existing(warehouse)?;
    // Default to the policy of the last tag run, so the explanation matches the stored outcomes.
    let policy = match policy {
        Some(p) => Policy::load(p)?,
        None => match wh.manifest()?.tag {
            Some(t) => Policy::load(&t.policy).or_else(|_| Policy::load(&t.policy_name))?,
            None => Policy::load("standard")?,
        },
    };
    let text = crate::explain::explain(&wh, call_id, &policy).await?;
    out.write_all(text.as_bytes()).ctx(|| "writing output".into())
}

pub fn profile_list(out: &mut dyn Write) -> Result<()> {
    for name in crate::assets::list("profiles", ".toml") {
        let p = Profile::load(&name)?;
        writeln!(out, "{:<28} {}", p.name, p.description).ctx(|| "writing output".into())?;
    }
    Ok(())
}

pub fn profile_detect(file: &Path, out: &mut dyn Write) -> Result<()> {
    let c = crate::detect::detect(file)?;
    let best = c.first().ok_or_else(|| Error::Usage("no profiles known".into()))?;
    let mut s = String::new();
    if best.usable && best.confidence >= crate::detect::AUTO_THRESHOLD {
        s.push_str(&format!("{}: best match {} (confidence {:.2})\n", file.display(), best.profile, best.confidence));
    } else {
        s.push_str(&format!("{}: no confident match (best {} at {:.2}); write a profile (docs/schema.md)\n", file.display(), best.profile, best.confidence));
    }
    for (f, names) in &best.missing {
        s.push_str(&format!("  not found: {f} (looked for {})\n", names.join(", ")));
    }
    if !best.unused.is_empty() {
        s.push_str(&format!("  columns not used: {}\n", best.unused.join(", ")));
    }
    s.push_str("candidates:\n");
    for cand in c.iter().take(5) {
        s.push_str(&format!("  {:<28} {:.2}{}\n", cand.profile, cand.confidence, if cand.usable { "" } else { "  (required columns missing)" }));
    }
    out.write_all(s.as_bytes()).ctx(|| "writing output".into())
}

pub async fn crosswalk_suggest(warehouse: Option<&Path>, profile: Option<&str>, file: Option<&Path>, out_path: Option<&Path>, out: &mut dyn Write) -> Result<()> {
    let types = match (warehouse, profile, file) {
        (Some(w), None, None) => crate::suggest::unmapped_in_warehouse(&Warehouse::open_existing(w)?).await?,
        (None, Some(p), Some(f)) => crate::suggest::unmapped_in_file(&Profile::load(p)?, f)?,
        _ => return Err(Error::Usage("give either --warehouse DIR, or --profile NAME and a FILE".into())),
    };
    let rules = crate::suggest::load_rules()?;
    let s = crate::suggest::suggest(&types, &rules);
    let text = crate::suggest::to_csv(&s);
    let matched = s.iter().filter(|x| x.category.is_some()).count();
    if let Some(p) = out_path {
        emit(&text, Some(p), out)?;
        writeln!(
            out,
            "wrote {} draft crosswalk rows ({} with a suggested category, {} to review by hand) to {}; review, then append to the crosswalk",
            s.len(),
            matched,
            s.len() - matched,
            p.display()
        )
        .ctx(|| "writing output".into())
    } else {
        emit(&text, None, out)
    }
}

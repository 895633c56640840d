//! `profile`, `crosswalk` and `policy`: the commands that help write a city's data files.
use std::io::Write;
use std::path::Path;

use crate::cli::text::{emit, out_err};
use crate::eligibility::policy::Policy;
use crate::error::{Error, IoContext, Result};
use crate::source::classify::Classifier;
use crate::source::profile::Profile;
use crate::warehouse::Warehouse;

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
    .ctx(out_err)
}

pub fn profile_list(out: &mut dyn Write) -> Result<()> {
    for name in crate::assets::list("profiles", ".toml") {
        let p = Profile::load(&name)?;
        writeln!(out, "{:<28} {}", p.name, p.description).ctx(out_err)?;
    }
    Ok(())
}

pub fn profile_detect(file: &Path, out: &mut dyn Write) -> Result<()> {
    let c = crate::source::detect::detect(file)?;
    let best = c.first().ok_or_else(|| Error::Usage("no profiles known".into()))?;
    let mut s = String::new();
    if best.usable && best.confidence >= crate::source::detect::AUTO_THRESHOLD {
        s.push_str(&format!("{}: best match {} (confidence {:.2})\n", file.display(), best.profile, best.confidence));
    } else {
        s.push_str(&format!(
            "{}: no confident match (best {} at {:.2}); write a profile (docs/schema.md)\n",
            file.display(),
            best.profile,
            best.confidence
        ));
    }
    for (f, names) in &best.missing {
        s.push_str(&format!("  not found: {f} (looked for {})\n", names.join(", ")));
    }
    if !best.unused.is_empty() {
        s.push_str(&format!("  columns not used: {}\n", best.unused.join(", ")));
    }
    s.push_str("candidates:\n");
    for cand in c.iter().take(5) {
        s.push_str(&format!(
            "  {:<28} {:.2}{}\n",
            cand.profile,
            cand.confidence,
            if cand.usable { "" } else { "  (required columns missing)" }
        ));
    }
    out.write_all(s.as_bytes()).ctx(out_err)
}

pub async fn crosswalk_suggest(source: SuggestFrom<'_>, out_path: Option<&Path>, out: &mut dyn Write) -> Result<()> {
    use crate::source::suggest;
    let types = match source {
        SuggestFrom::Warehouse(w) => suggest::unlisted_in_warehouse(&Warehouse::open_existing(w).await?).await?,
        SuggestFrom::File(p, f) => suggest::unlisted_in_file(&Profile::load(p)?, f)?,
        SuggestFrom::Types(t) => suggest::types_from_csv(t)?,
    };
    let classifier = Classifier::load_default()?;
    let s = suggest::suggest(&types, &classifier);
    let text = suggest::to_csv(&s)?;
    let matched = s.iter().filter(|x| x.classified.is_some()).count();
    let Some(p) = out_path else { return emit(&text, None, out) };
    emit(&text, Some(p), out)?;
    let calls: u64 = s.iter().map(|x| x.calls).sum();
    let matched_calls: u64 = s.iter().filter(|x| x.classified.is_some()).map(|x| x.calls).sum();
    writeln!(
        out,
        "wrote {} draft crosswalk rows ({} with a suggested category = {:.1}% of {} calls, {} to review by hand) to {}; \
         review, then append to the crosswalk",
        s.len(),
        matched,
        100.0 * matched_calls as f64 / calls.max(1) as f64,
        calls,
        s.len() - matched,
        p.display()
    )
    .ctx(out_err)
}

/// Where `crosswalk suggest` takes its call types from.
pub enum SuggestFrom<'a> {
    Warehouse(&'a Path),
    File(&'a str, &'a Path),
    Types(&'a Path),
}

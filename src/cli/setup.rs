//! `profile`, `crosswalk` and `policy`: the commands that help write a city's data files.
use std::io::Write;
use std::path::Path;

use crate::cli::text::{emit, out_err};
use crate::eligibility::policy::Policy;
use crate::error::{Error, IoContext, Result};
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

pub async fn crosswalk_suggest(
    warehouse: Option<&Path>,
    profile: Option<&str>,
    file: Option<&Path>,
    out_path: Option<&Path>,
    out: &mut dyn Write,
) -> Result<()> {
    let types = match (warehouse, profile, file) {
        (Some(w), None, None) => crate::source::suggest::unmapped_in_warehouse(&Warehouse::open_existing(w)?).await?,
        (None, Some(p), Some(f)) => crate::source::suggest::unmapped_in_file(&Profile::load(p)?, f)?,
        _ => return Err(Error::Usage("give either --warehouse DIR, or --profile NAME and a FILE".into())),
    };
    let rules = crate::source::suggest::load_rules()?;
    let s = crate::source::suggest::suggest(&types, &rules);
    let text = crate::source::suggest::to_csv(&s);
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
        .ctx(out_err)
    } else {
        emit(&text, None, out)
    }
}

//! `compare`: several warehouses under one policy, side by side (printing only; the numbers come
//! from `output::compare`).
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::text::{emit, out_err};
use crate::error::{IoContext, Result};
use crate::output::compare::{self, CompareOptions, Comparison, Tags};
use crate::output::report::{self, Format};

/// The lines above the tables: policy, scenarios, how each warehouse was tagged, warnings.
fn header(c: &Comparison) -> String {
    let mut s = format!(
        "Comparing {} warehouses under policy {} ({}){}\n",
        c.cities.len(),
        c.policy,
        c.policy_origin.display(),
        if c.from_tags { ", the policy they were all tagged with" } else { "" }
    );
    for city in &c.cities {
        let how = match &city.tags {
            Tags::Stored => "stored tags".to_string(),
            Tags::InMemory(why) => format!("tagged in memory, nothing written ({why})"),
        };
        s.push_str(&format!("  {}: {} — {how}\n", city.name, city.dir.display()));
    }
    for n in &c.notes {
        s.push_str(&format!("warning: {n}\n"));
    }
    s
}

/// The comparison as text: three tables (per warehouse; per scenario × warehouse; top categories)
/// for `table` and `md`, one long table (one row per scenario × warehouse, every column) for `csv` and `json`.
pub fn render(c: &Comparison, fmt: Format) -> Result<String> {
    match fmt {
        Format::Csv | Format::Json => report::format(&[compare::long_batch(c)?], fmt),
        Format::Table | Format::Md => {
            let mut s = header(c);
            let h = |t: &str| if fmt == Format::Md { format!("\n### {t}\n\n") } else { format!("\n{t}\n") };
            s.push_str(&h("Warehouses (calls by local date; % of calls by where the category came from)"));
            s.push_str(&report::format(&[compare::cities_batch(c)?], fmt)?);
            s.push_str(&h(
                "Eligible share of calls from the public by scenario (%; low/high bound estimates where the caller is not recorded)",
            ));
            s.push_str(&report::format(&[compare::shares_batch(c)?], fmt)?);
            s.push_str(&h(&format!(
                "Top eligible categories, scenario {} (share of its eligible calls, %)",
                c.headline
            )));
            s.push_str(&report::format(&[compare::top_batch(c)?], fmt)?);
            Ok(s)
        }
    }
}

/// `callsift compare`.
pub async fn compare(
    warehouses: &[PathBuf],
    opts: &CompareOptions,
    fmt: Format,
    out_path: Option<&Path>,
    html: Option<&Path>,
    out: &mut dyn Write,
) -> Result<()> {
    let c = compare::compare(warehouses, opts).await?;
    emit(&render(&c, fmt)?, out_path, out)?;
    if let Some(page) = html {
        let p = compare::write_page(&c, page)?;
        // Keep machine-readable stdout clean: the note goes to stderr unless the table is printed.
        let line = format!(
            "wrote compare dashboard ({} panels, {} cells suppressed below {}) to {}\n",
            p.panels,
            p.suppressed_cells,
            crate::output::privacy::MIN_THRESHOLD,
            p.out.display()
        );
        if fmt == Format::Table || out_path.is_some() {
            out.write_all(line.as_bytes()).ctx(out_err)?;
        } else {
            eprint!("{line}");
        }
    }
    Ok(())
}

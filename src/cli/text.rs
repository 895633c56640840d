//! Shared by the command modules: writing text to stdout or a file, and printed numbers.
use std::io::Write;
use std::path::Path;

use crate::error::{IoContext, Result};

/// Context for a failed write to the terminal.
pub fn out_err() -> String {
    "writing output".into()
}

/// Counts as printed: `1,234,567`.
pub fn thousands_u(n: u64) -> String {
    crate::output::format::thousands(i64::try_from(n).unwrap_or(i64::MAX))
}

pub fn emit(text: &str, out_path: Option<&Path>, out: &mut dyn Write) -> Result<()> {
    match out_path {
        Some(p) => {
            if let Some(parent) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).ctx(|| format!("creating {}", parent.display()))?;
            }
            std::fs::write(p, text).ctx(|| format!("writing {}", p.display()))
        }
        None => out.write_all(text.as_bytes()).ctx(out_err),
    }
}

/// `crosswalk 95.10%, classifier 4.50%, unmapped 0.40%` of `total` calls.
pub fn source_shares<'a>(by_source: impl IntoIterator<Item = (&'a str, u64)>, total: u64) -> String {
    by_source
        .into_iter()
        .map(|(s, n)| format!("{s} {:.2}% ({})", 100.0 * n as f64 / total.max(1) as f64, thousands_u(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

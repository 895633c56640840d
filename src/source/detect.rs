//! Profile auto-detection: score every known profile against a file's header.
use std::path::Path;

use crate::assets;
use crate::error::{Error, Result};
use crate::source::profile::{header_key, Encoding, Profile};

#[derive(Debug, Clone)]
pub struct Candidate {
    pub profile: String,
    /// 0..1: share of the profile's fields found, weighted with the share of the header it explains.
    pub confidence: f64,
    pub usable: bool,
    /// Profile fields whose columns are not in the header (field, names tried).
    pub missing: Vec<(String, Vec<String>)>,
    /// Header columns the profile does not use.
    pub unused: Vec<String>,
}

/// A header row longer than this is not a CSV header (binary data, `/dev/zero`…).
pub const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Decode a header row's fields: each field UTF-8 when valid (and, for a Windows-1252 profile,
/// ASCII), else Windows-1252; a byte-order mark dropped; trimmed. The one header decoder, shared by
/// detection and ingest.
pub fn decode_header<'a>(fields: impl IntoIterator<Item = &'a [u8]>, encoding: Encoding) -> Vec<String> {
    fields
        .into_iter()
        .map(|b| {
            let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
            match std::str::from_utf8(b) {
                Ok(s) if encoding == Encoding::Utf8 || b.is_ascii() => {
                    s.trim_start_matches('\u{feff}').trim().to_string()
                }
                _ => encoding_rs::WINDOWS_1252.decode(b).0.trim().to_string(),
            }
        })
        .collect()
}

/// Read a file's header row (BOM stripped; non-UTF-8 read as Windows-1252), reading at most
/// [`MAX_HEADER_BYTES`].
pub fn read_header(path: &Path, delimiter: u8) -> Result<Vec<String>> {
    use std::io::Read;
    let err = |message: String| Error::Input { file: path.to_path_buf(), message };
    let f = std::fs::File::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
    let limited = std::io::BufReader::new(f).take(MAX_HEADER_BYTES + 1);
    let mut rdr = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(limited);
    let h = rdr.byte_headers().map_err(|e| err(format!("cannot read the header: {e}")))?.clone();
    let consumed = rdr.position().byte();
    if consumed > MAX_HEADER_BYTES {
        return Err(err(format!("the header row is longer than {MAX_HEADER_BYTES} bytes: is this a CSV export?")));
    }
    if h.is_empty() && consumed == 0 {
        return Err(err("empty file: no header row".into()));
    }
    Ok(decode_header(h.iter(), Encoding::Utf8))
}

pub fn score(profile: &Profile, header: &[String]) -> Candidate {
    let layout = profile.resolve(header);
    let total = profile.columns.len().max(1) as f64;
    let found = layout.matched.len() as f64;
    let usable = layout.check_required(Path::new("")).is_ok();
    let used: std::collections::HashSet<String> =
        profile.columns.values().flat_map(|spec| spec.names().iter().map(|n| header_key(n))).collect();
    let unused: Vec<String> = header.iter().filter(|h| !used.contains(&header_key(h))).cloned().collect();
    let explained = 1.0 - unused.len() as f64 / header.len().max(1) as f64;
    let confidence = if usable { 0.7 * (found / total) + 0.3 * explained } else { 0.0 };
    Candidate {
        profile: profile.name.clone(),
        confidence,
        usable,
        missing: layout.missing.iter().map(|(f, n)| (f.name().to_string(), n.clone())).collect(),
        unused,
    }
}

/// Every known profile scored against the file, best first.
pub fn detect(path: &Path) -> Result<Vec<Candidate>> {
    let mut out = Vec::new();
    let mut headers: Vec<(u8, Vec<String>)> = Vec::new();
    for name in assets::list("profiles", ".toml") {
        let profile = Profile::load(&name)?;
        let header = match headers.iter().find(|(d, _)| *d == profile.delimiter) {
            Some((_, h)) => h.clone(),
            None => {
                let h = read_header(path, profile.delimiter)?;
                headers.push((profile.delimiter, h.clone()));
                h
            }
        };
        out.push(score(&profile, &header));
    }
    out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then(a.profile.cmp(&b.profile)));
    Ok(out)
}

/// Minimum confidence for `--profile auto` to pick a profile on its own.
pub const AUTO_THRESHOLD: f64 = 0.6;

/// The profile `--profile auto` uses for a file, or a usage error listing the best candidates.
pub fn choose(path: &Path) -> Result<(String, f64)> {
    let c = detect(path)?;
    match c.first() {
        Some(best) if best.usable && best.confidence >= AUTO_THRESHOLD => {
            if c.get(1).is_some_and(|s| s.usable && (best.confidence - s.confidence).abs() < 1e-9) {
                return Err(Error::Usage(format!(
                    "{}: profiles {} and {} match equally well; pass --profile",
                    path.display(),
                    best.profile,
                    c[1].profile
                )));
            }
            Ok((best.profile.clone(), best.confidence))
        }
        _ => Err(Error::Usage(format!(
            "{}: no profile matches the header well enough (best: {}); write one (see docs/schema.md) or pass --profile",
            path.display(),
            c.iter().take(3).map(|c| format!("{} {:.2}", c.profile, c.confidence)).collect::<Vec<_>>().join(", ")
        ))),
    }
}

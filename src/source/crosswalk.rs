//! Crosswalk: raw call type text → taxonomy category + disqualifier/nexus flags.
//! Loaded from a CSV an analyst edits; matching ignores case and runs of whitespace.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
#[cfg(test)]
use crate::warehouse::schema::Flag;
use crate::warehouse::schema::FLAGS;

/// Top-level categories of the Vera Institute / Two Sigma Data Clinic taxonomy, so results compare
/// with published work. A crosswalk row must use one of these.
pub const CATEGORIES: [&str; 21] = [
    "Alarms",
    "Property Crime",
    "Violent Crime",
    "Domestic Violence",
    "Sex Offenses",
    "Drugs",
    "Other Crimes",
    "Warrants",
    "Suspicion",
    "Complaints/Environmental Conditions",
    "Behavioral Health",
    "Medical Emergencies",
    "Fire",
    "Missing Persons",
    "Accidents/Traffic Safety",
    "Traffic",
    "Assisting the Public",
    "Officer Needs Help",
    "Statuses",
    "Call Related Issues",
    "Other (Not Crime)",
];

#[derive(Debug, Clone, PartialEq)]
pub struct CrosswalkEntry {
    pub raw_type: String,
    pub category: String,
    /// In the order of `schema::FLAGS`.
    pub flags: [bool; FLAGS.len()],
    /// Likelihood that a call of this type comes from a third party (0..1), if the crosswalk says.
    pub third_party_p: Option<f64>,
}

#[derive(Debug, Clone, Default)]
pub struct Crosswalk {
    pub path: PathBuf,
    entries: Vec<CrosswalkEntry>,
    index: HashMap<String, usize, foldhash::fast::RandomState>,
}

/// Normalise a call type for matching: trim, upper-case, collapse whitespace runs. Writes into `out`
/// so the hot path reuses one buffer.
pub fn normalize_key(s: &str, out: &mut String) {
    out.clear();
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            if c.is_ascii() {
                out.push(c.to_ascii_uppercase());
            } else {
                out.extend(c.to_uppercase());
            }
        }
    }
}

/// The flag cells of one row (columns `flag_i`, in `FLAGS` order), or an error naming the line and flag.
pub fn read_flags<'r>(
    path: &Path,
    line: u64,
    flag_i: &[Option<usize>],
    get: impl Fn(usize) -> &'r str,
) -> Result<[bool; FLAGS.len()]> {
    let mut flags = [false; FLAGS.len()];
    for (k, fi) in flag_i.iter().enumerate() {
        if let Some(fi) = fi {
            let v = get(*fi);
            flags[k] = parse_flag(v).ok_or_else(|| {
                Error::config(
                    path,
                    format!("line {line}, {}", FLAGS[k]),
                    format!("expected 1/0/true/false or empty, found `{v}`"),
                )
            })?;
        }
    }
    Ok(flags)
}

/// A malformed row of a data file (crosswalk, classifier rules), naming its line.
pub fn row_error(path: &Path, e: csv::Error) -> Error {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    Error::config(path, format!("line {line}"), format!("malformed CSV row: {e}"))
}

/// A flag cell: `1`/`true`/`yes`/`y`/`x` set, empty/`0`/`false`/`no`/`n` unset.
pub fn parse_flag(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" | "n" => Some(false),
        "1" | "true" | "yes" | "y" | "x" => Some(true),
        _ => None,
    }
}

impl Crosswalk {
    pub fn from_entries(entries: Vec<CrosswalkEntry>) -> Self {
        let mut cw = Crosswalk { path: PathBuf::new(), entries: Vec::new(), index: HashMap::default() };
        let mut key = String::new();
        for e in entries {
            normalize_key(&e.raw_type, &mut key);
            cw.index.insert(key.clone(), cw.entries.len());
            cw.entries.push(e);
        }
        cw
    }

    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::config(path, "crosswalk", format!("cannot read: {e}")))?;
        Self::parse(path, &bytes)
    }

    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
        let headers =
            rdr.headers().map_err(|e| Error::config(path, "header", format!("not a CSV header: {e}")))?.clone();
        let col = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
        let raw_i = col("raw_type").ok_or_else(|| Error::config(path, "header", "missing column `raw_type`"))?;
        let cat_i = col("category").ok_or_else(|| Error::config(path, "header", "missing column `category`"))?;
        let tp_i = col("third_party_likelihood");
        let flag_i: Vec<Option<usize>> = FLAGS.iter().map(|f| col(f)).collect();
        for h in headers.iter() {
            let h = h.trim().to_ascii_lowercase();
            // `confidence`, `rule`, `calls`, `count`: informational columns of a reviewed draft.
            let known = ["raw_type", "category", "third_party_likelihood", "confidence", "rule", "calls", "count"]
                .contains(&h.as_str())
                || FLAGS.contains(&h.as_str());
            if !known && !h.starts_with("note") && !h.starts_with("comment") && !h.starts_with("source") {
                return Err(Error::config(
                    path,
                    format!("header `{h}`"),
                    format!(
                        "unknown column; expected raw_type, category, {}, third_party_likelihood, or note*",
                        FLAGS.join(", ")
                    ),
                ));
            }
        }
        let mut entries = Vec::new();
        let mut seen: HashMap<String, u64> = HashMap::new();
        let mut key = String::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| row_error(path, e))?;
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let raw = rec.get(raw_i).unwrap_or("").trim();
            if raw.is_empty() {
                return Err(Error::config(path, format!("line {line}, raw_type"), "empty call type"));
            }
            let category = rec.get(cat_i).unwrap_or("").trim();
            let category = CATEGORIES.iter().find(|c| c.eq_ignore_ascii_case(category)).ok_or_else(|| {
                Error::config(
                    path,
                    format!("line {line}, category"),
                    format!("`{category}` is not a taxonomy category; expected one of: {}", CATEGORIES.join("; ")),
                )
            })?;
            let flags = read_flags(path, line, &flag_i, |i| rec.get(i).unwrap_or(""))?;
            let third_party_p = match tp_i.map(|i| rec.get(i).unwrap_or("").trim()) {
                None | Some("") => None,
                Some(v) => {
                    let p: f64 = v.parse().ok().filter(|p: &f64| (0.0..=1.0).contains(p)).ok_or_else(|| {
                        Error::config(
                            path,
                            format!("line {line}, third_party_likelihood"),
                            format!("expected a number 0..1, found `{v}`"),
                        )
                    })?;
                    Some(p)
                }
            };
            normalize_key(raw, &mut key);
            if let Some(prev) = seen.get(&key) {
                return Err(Error::config(
                    path,
                    format!("line {line}, raw_type"),
                    format!("`{raw}` is already mapped on line {prev} (matching ignores case and spacing)"),
                ));
            }
            seen.insert(key.clone(), line);
            entries.push(CrosswalkEntry {
                raw_type: raw.to_string(),
                category: category.to_string(),
                flags,
                third_party_p,
            });
        }
        let mut cw = Crosswalk::from_entries(entries);
        cw.path = path.to_path_buf();
        Ok(cw)
    }

    /// Look up an already-normalised key.
    pub fn get_normalized(&self, key: &str) -> Option<&CrosswalkEntry> {
        self.index.get(key).map(|&i| &self.entries[i])
    }

    pub fn get(&self, raw: &str) -> Option<&CrosswalkEntry> {
        let mut key = String::new();
        normalize_key(raw, &mut key);
        self.get_normalized(&key)
    }

    pub fn entries(&self) -> &[CrosswalkEntry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str =
        "raw_type,category,weapon,violence,medical,in_progress,bh_nexus,conflict,police_type,third_party_likelihood\n\
        WELFARE CHECK,Assisting the Public,,,,,,,1,0.9\n\
        SUICIDE THREAT - WEAPON,Behavioral Health,1,,,,1,,,0.4\n";

    #[test]
    fn matches_ignoring_case_and_spacing() {
        let cw = Crosswalk::parse(Path::new("x.csv"), CSV.as_bytes()).unwrap();
        let e = cw.get("  welfare   check ").unwrap();
        assert_eq!(e.category, "Assisting the Public");
        assert_eq!(e.third_party_p, Some(0.9));
        assert!(e.flags[Flag::PoliceType as usize]);
        let w = cw.get("Suicide Threat - Weapon").unwrap();
        assert!(w.flags[Flag::Weapon as usize] && w.flags[Flag::BhNexus as usize] && !w.flags[Flag::Violence as usize]);
        assert!(cw.get("WELFARE").is_none());
    }

    #[test]
    fn errors_name_line_and_column() {
        let bad = "raw_type,category\nTHEFT,Crimes Against Stuff\n";
        let e = Crosswalk::parse(Path::new("cw.csv"), bad.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("cw.csv") && e.contains("line 2, category") && e.contains("Crimes Against Stuff"), "{e}");

        let dup = "raw_type,category\nTHEFT,Property Crime\n theft ,Property Crime\n";
        let e = Crosswalk::parse(Path::new("cw.csv"), dup.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("already mapped on line 2"), "{e}");

        let flag = "raw_type,category,weapon\nTHEFT,Property Crime,maybe\n";
        let e = Crosswalk::parse(Path::new("cw.csv"), flag.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("line 2, weapon") && e.contains("maybe"), "{e}");

        let typo = "raw_type,category,weapn\n";
        let e = Crosswalk::parse(Path::new("cw.csv"), typo.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("weapn"), "{e}");
    }

    #[test]
    fn normalize_key_collapses_whitespace() {
        let mut s = String::new();
        normalize_key("\tMental  health\u{a0} crisis ", &mut s);
        assert_eq!(s, "MENTAL HEALTH CRISIS");
    }
}

//! `callsift crosswalk suggest`: draft crosswalk rows for call types, from the classifier
//! (`profiles/classifier_rules.csv`). Output is a draft for a person to review — rows no rule
//! matched keep an empty category, which the crosswalk loader refuses, so nothing is ever mapped
//! silently.
use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::source::classify::{Classified, Classifier};
use crate::source::crosswalk::normalize_key;
use crate::source::profile::{Profile, SourceField, TypeBasis};
use crate::warehouse::schema::FLAGS;

#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub raw_type: String,
    pub calls: u64,
    pub classified: Option<Classified>,
}

/// Classify each (type, calls) pair.
pub fn suggest(types: &[(String, u64)], classifier: &Classifier) -> Vec<Suggestion> {
    types
        .iter()
        .map(|(t, n)| Suggestion { raw_type: t.clone(), calls: *n, classified: classifier.classify(t) })
        .collect()
}

/// Draft crosswalk CSV: the crosswalk's columns plus `confidence`, `rule`, `calls` and a `note`
/// (the crosswalk loader accepts and ignores the extra columns).
pub fn to_csv(suggestions: &[Suggestion]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["raw_type", "category"];
    header.extend(FLAGS);
    header.extend(["third_party_likelihood", "confidence", "rule", "calls", "source", "note"]);
    w.write_record(&header).map_err(|e| Error::Format(e.to_string()))?;
    for s in suggestions {
        let mut row = vec![s.raw_type.clone()];
        match &s.classified {
            Some(c) => {
                row.push(c.category.to_string());
                row.extend(c.flags.iter().map(|on| if *on { "1".to_string() } else { String::new() }));
                row.push(c.third_party_p.map(|p| p.to_string()).unwrap_or_default());
                row.push(format!("{:.2}", c.confidence));
                row.push(c.rule.clone());
                row.push(s.calls.to_string());
                row.push("classifier".into());
                row.push("REVIEW: suggested by the classifier".into());
            }
            None => {
                row.extend(std::iter::repeat_n(String::new(), FLAGS.len() + 4));
                row.push(s.calls.to_string());
                row.push(String::new());
                row.push("REVIEW: no rule matched; choose a category".into());
            }
        }
        w.write_record(&row).map_err(|e| Error::Format(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Format(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| Error::Format(e.to_string()))
}

/// Call types of a CSV export read with a profile that its crosswalk does not list (normalised,
/// with row counts).
pub fn unlisted_in_file(profile: &Profile, path: &Path) -> Result<Vec<(String, u64)>> {
    let header = crate::source::detect::read_header(path, profile.delimiter)?;
    let layout = profile.resolve(&header);
    layout.check_required(path)?;
    let (first, second) = match profile.type_basis {
        TypeBasis::Initial => (SourceField::InitialType, SourceField::FinalType),
        TypeBasis::Final => (SourceField::FinalType, SourceField::InitialType),
    };
    let cols: Vec<usize> = [first, second].iter().filter_map(|f| layout.get(*f)).collect();
    let f = std::fs::File::open(path).map_err(|e| Error::Input { file: path.to_path_buf(), message: e.to_string() })?;
    let mut rdr =
        csv::ReaderBuilder::new().delimiter(profile.delimiter).flexible(true).from_reader(std::io::BufReader::new(f));
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut key = String::new();
    let mut rec = csv::ByteRecord::new();
    while rdr
        .read_byte_record(&mut rec)
        .map_err(|e| Error::Input { file: path.to_path_buf(), message: e.to_string() })?
    {
        let t =
            cols.iter().filter_map(|&i| rec.get(i)).map(|b| String::from_utf8_lossy(b)).find(|v| !v.trim().is_empty());
        if let Some(t) = t {
            normalize_key(&t, &mut key);
            if profile.crosswalk.get_normalized(&key).is_none() {
                *counts.entry(key.clone()).or_default() += 1;
            }
        }
    }
    Ok(sorted(counts))
}

/// A type list from any city: a CSV with columns `raw_type,count` (header required; `count` may be
/// empty). Types are normalised and their counts summed.
pub fn types_from_csv(path: &Path) -> Result<Vec<(String, u64)>> {
    let input = |message: String| Error::Input { file: path.to_path_buf(), message };
    let bytes = std::fs::read(path).map_err(|e| input(format!("cannot read: {e}")))?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = rdr.headers().map_err(|e| input(format!("not a CSV header: {e}")))?.clone();
    let col = |n: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(n));
    let t_i = col("raw_type").ok_or_else(|| input("expected a `raw_type` column (and optionally `count`)".into()))?;
    let n_i = col("count");
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut key = String::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| input(format!("malformed CSV row: {e}")))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let n = match n_i.and_then(|i| rec.get(i)).map(str::trim).filter(|v| !v.is_empty()) {
            None => 1,
            Some(v) => v
                .replace(',', "")
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite() && *n >= 0.0)
                .map(|n| n.round() as u64)
                .ok_or_else(|| input(format!("line {line}, count: expected a whole number, found `{v}`")))?,
        };
        normalize_key(rec.get(t_i).unwrap_or(""), &mut key);
        if !key.is_empty() {
            *counts.entry(key.clone()).or_default() += n;
        }
    }
    Ok(sorted(counts))
}

fn sorted(counts: HashMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// Call types in a warehouse that its crosswalk does not list — classified or unmapped —
/// normalised, with call counts.
pub async fn unlisted_in_warehouse(wh: &crate::warehouse::Warehouse) -> Result<Vec<(String, u64)>> {
    let ctx = wh.session().await?;
    // A missing type has nothing to suggest from.
    let listed = crate::source::coverage::types_where(&ctx, "category_source <> 'crosswalk'").await?;
    Ok(listed.into_iter().filter(|(t, _)| t != "(missing)").collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warehouse::schema::Flag;

    #[test]
    fn classifier_drafts_category_flags_and_rule() {
        let classifier = Classifier::load_default().unwrap();
        let s = suggest(
            &[
                ("MENTAL SUBJ ARMED".into(), 12),
                ("SUICIDE THREAT".into(), 5),
                ("CODE 99 XQ".into(), 3),
                ("DV - VERBAL".into(), 2),
            ],
            &classifier,
        );
        let c = s[0].classified.as_ref().unwrap();
        assert_eq!(c.category, "Behavioral Health");
        assert!(c.flags[Flag::Weapon as usize] && c.flags[Flag::BhNexus as usize], "{c:?}");
        let c = s[1].classified.as_ref().unwrap();
        assert!(c.flags[Flag::ImminentDanger as usize], "suicide types are imminent danger: {c:?}");
        assert_eq!(s[2].classified, None);
        assert_eq!(s[3].classified.as_ref().unwrap().category, "Domestic Violence");
        let csv = to_csv(&s).unwrap();
        assert!(csv.lines().nth(3).unwrap().starts_with("CODE 99 XQ,,"), "{csv}");
        assert!(csv.contains("REVIEW: no rule matched"), "{csv}");
        // A draft with an empty category cannot be loaded as a crosswalk: never silently mapped.
        assert!(crate::source::crosswalk::Crosswalk::parse(Path::new("draft.csv"), csv.as_bytes()).is_err());
        // Reviewed (the unmatched row removed), it loads.
        let reviewed: String = csv.lines().filter(|l| !l.starts_with("CODE 99")).map(|l| format!("{l}\n")).collect();
        let cw = crate::source::crosswalk::Crosswalk::parse(Path::new("draft.csv"), reviewed.as_bytes()).unwrap();
        assert_eq!(cw.get("mental subj armed").unwrap().category, "Behavioral Health");
    }

    #[test]
    fn type_lists_sum_normalised_types() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("types.csv");
        std::fs::write(&p, "raw_type,count\nWelfare Check,\"1,200\"\nWELFARE  CHECK,3\nNoise,\n").unwrap();
        assert_eq!(types_from_csv(&p).unwrap(), vec![("WELFARE CHECK".to_string(), 1203), ("NOISE".to_string(), 1)]);
        std::fs::write(&p, "type\nX\n").unwrap();
        assert!(types_from_csv(&p).unwrap_err().to_string().contains("raw_type"));
        std::fs::write(&p, "raw_type,count\nX,many\n").unwrap();
        assert!(types_from_csv(&p).unwrap_err().to_string().contains("line 2, count"));
    }
}

//! `callsift crosswalk suggest`: draft crosswalk rows for unmapped call types, from keyword rules
//! kept in a data file (`profiles/suggest_rules.csv`). Output is a draft for a person to review —
//! rows no rule matched keep an empty category, which the crosswalk loader refuses, so nothing is
//! ever mapped silently.
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use crate::assets;
use crate::error::{Error, Result};
use crate::source::crosswalk::{normalize_key, CATEGORIES};
use crate::source::profile::{Profile, SourceField, TypeBasis};
use crate::warehouse::schema::FLAGS;

#[derive(Debug, Clone)]
pub struct KeywordRule {
    pub pattern: regex::Regex,
    pub category: Option<String>,
    pub flag: Option<String>,
    pub confidence: f64,
    pub note: String,
}

pub fn load_rules() -> Result<Vec<KeywordRule>> {
    let asset = assets::find("profiles", "suggest_rules.csv")
        .ok_or_else(|| Error::Usage("no profiles/suggest_rules.csv".into()))?;
    let file = asset.origin.clone();
    let mut rdr = csv::ReaderBuilder::new().comment(Some(b'#')).flexible(true).from_reader(asset.text.as_bytes());
    let mut rules = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| Error::config(&file, "row", e.to_string()))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let get = |i: usize| rec.get(i).unwrap_or("").trim().to_string();
        let key = |c: &str| format!("line {line}, {c}");
        let pattern = regex::RegexBuilder::new(&get(0))
            .case_insensitive(true)
            .build()
            .map_err(|e| Error::config(&file, key("pattern"), format!("invalid regex: {e}")))?;
        let category = Some(get(1)).filter(|c| !c.is_empty());
        if let Some(c) = &category {
            if !CATEGORIES.contains(&c.as_str()) {
                return Err(Error::config(&file, key("category"), format!("`{c}` is not a taxonomy category")));
            }
        }
        let flag = Some(get(2)).filter(|f| !f.is_empty());
        if let Some(f) = &flag {
            if !FLAGS.contains(&f.as_str()) {
                return Err(Error::config(&file, key("flag"), format!("`{f}` is not one of {}", FLAGS.join(", "))));
            }
        }
        let confidence: f64 =
            get(3).parse().map_err(|_| Error::config(&file, key("confidence"), "expected a number 0..1"))?;
        rules.push(KeywordRule { pattern, category, flag, confidence, note: get(4) });
    }
    Ok(rules)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub raw_type: String,
    pub calls: u64,
    pub category: Option<String>,
    pub flags: BTreeSet<String>,
    pub confidence: f64,
    pub reasons: Vec<String>,
}

pub fn suggest(types: &[(String, u64)], rules: &[KeywordRule]) -> Vec<Suggestion> {
    types
        .iter()
        .map(|(t, n)| {
            let mut s = Suggestion {
                raw_type: t.clone(),
                calls: *n,
                category: None,
                flags: BTreeSet::new(),
                confidence: 0.0,
                reasons: Vec::new(),
            };
            let mut cat_conf = 0.0;
            for r in rules.iter().filter(|r| r.pattern.is_match(t)) {
                if let Some(c) = &r.category {
                    if r.confidence > cat_conf {
                        cat_conf = r.confidence;
                        s.category = Some(c.clone());
                    }
                }
                if let Some(f) = &r.flag {
                    s.flags.insert(f.clone());
                }
                s.confidence = s.confidence.max(r.confidence);
                s.reasons.push(r.note.clone());
            }
            if s.category.is_some() {
                s.confidence = cat_conf;
            }
            s
        })
        .collect()
}

/// Draft crosswalk CSV: the crosswalk's columns plus `note` (calls, confidence, why).
pub fn to_csv(suggestions: &[Suggestion]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["raw_type", "category"];
    header.extend(FLAGS);
    header.extend(["third_party_likelihood", "note"]);
    w.write_record(&header).expect("in-memory write");
    for s in suggestions {
        let mut row = vec![s.raw_type.clone(), s.category.clone().unwrap_or_default()];
        for f in FLAGS {
            row.push(if s.flags.contains(f) { "1".into() } else { String::new() });
        }
        row.push(String::new());
        row.push(if s.reasons.is_empty() {
            format!("REVIEW: no rule matched; {} calls", s.calls)
        } else {
            format!("suggested (confidence {:.2}): {}; {} calls", s.confidence, s.reasons.join(", "), s.calls)
        });
        w.write_record(&row).expect("in-memory write");
    }
    String::from_utf8(w.into_inner().expect("flush")).expect("utf8")
}

/// Unmapped call types of a CSV export read with a profile (normalised, with row counts).
pub fn unmapped_in_file(profile: &Profile, path: &Path) -> Result<Vec<(String, u64)>> {
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
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(v)
}

/// Unmapped call types in a warehouse (normalised, with call counts).
pub async fn unmapped_in_warehouse(wh: &crate::warehouse::Warehouse) -> Result<Vec<(String, u64)>> {
    let ctx = wh.session().await?;
    // A missing type has nothing to suggest from.
    Ok(crate::source::coverage::coverage_all(&ctx).await?.into_iter().filter(|(t, _)| t != "(missing)").collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_rules_suggest_category_and_flags() {
        let rules = load_rules().unwrap();
        let s = suggest(
            &[
                ("MENTAL SUBJ ARMED".into(), 12),
                ("DIST I/P".into(), 5),
                ("CODE 99".into(), 3),
                ("DV - VERBAL".into(), 2),
            ],
            &rules,
        );
        assert_eq!(s[0].category.as_deref(), Some("Behavioral Health"));
        assert!(s[0].flags.contains("weapon") && s[0].flags.contains("bh_nexus"), "{:?}", s[0]);
        assert!(s[1].flags.contains("in_progress") && s[1].flags.contains("conflict"), "{:?}", s[1]);
        assert_eq!(s[2].category, None);
        assert_eq!(s[2].confidence, 0.0);
        assert_eq!(s[3].category.as_deref(), Some("Domestic Violence"));
        let csv = to_csv(&s);
        assert!(csv.lines().nth(3).unwrap().starts_with("CODE 99,,"), "{csv}");
        assert!(csv.contains("REVIEW: no rule matched; 3 calls"), "{csv}");
        // A draft with an empty category cannot be loaded as a crosswalk: never silently mapped.
        assert!(crate::source::crosswalk::Crosswalk::parse(Path::new("draft.csv"), csv.as_bytes()).is_err());
    }
}

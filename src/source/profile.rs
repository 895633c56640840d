//! Source profiles: how one export layout maps onto the canonical call schema.
//! A profile is TOML (see docs/schema.md and profiles/*.toml); nothing city-specific lives in Rust.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono_tz::Tz;
use serde::Deserialize;

use crate::assets::{self, Asset};
use crate::error::{Error, Result};
use crate::source::classify::Classifier;
use crate::source::crosswalk::{normalize_key, Crosswalk};
pub use crate::source::layout::Layout;
use crate::source::timeparse::{TimeFormat, TimeParser};
use crate::source::valuemap::ValueMapToml;
pub use crate::source::valuemap::{MatchKind, ValueMap};
use crate::warehouse::schema::{CALLER_PARTIES, CALL_SOURCES, RESPONDER_TYPES};

/// Canonical input fields a profile can map a source column to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceField {
    CallId,
    ReceivedAt,
    DispatchedAt,
    ArrivedAt,
    ClearedAt,
    InitialType,
    FinalType,
    Priority,
    CallSource,
    SelfInitiated,
    CallerParty,
    Disposition,
    District,
    Beat,
    Address,
    UnitId,
    UnitType,
}

impl SourceField {
    pub const ALL: [SourceField; 17] = [
        SourceField::CallId,
        SourceField::ReceivedAt,
        SourceField::DispatchedAt,
        SourceField::ArrivedAt,
        SourceField::ClearedAt,
        SourceField::InitialType,
        SourceField::FinalType,
        SourceField::Priority,
        SourceField::CallSource,
        SourceField::SelfInitiated,
        SourceField::CallerParty,
        SourceField::Disposition,
        SourceField::District,
        SourceField::Beat,
        SourceField::Address,
        SourceField::UnitId,
        SourceField::UnitType,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SourceField::CallId => "call_id",
            SourceField::ReceivedAt => "received_at",
            SourceField::DispatchedAt => "dispatched_at",
            SourceField::ArrivedAt => "arrived_at",
            SourceField::ClearedAt => "cleared_at",
            SourceField::InitialType => "initial_type",
            SourceField::FinalType => "final_type",
            SourceField::Priority => "priority",
            SourceField::CallSource => "call_source",
            SourceField::SelfInitiated => "self_initiated",
            SourceField::CallerParty => "caller_party",
            SourceField::Disposition => "disposition",
            SourceField::District => "district",
            SourceField::Beat => "beat",
            SourceField::Address => "address",
            SourceField::UnitId => "unit_id",
            SourceField::UnitType => "unit_type",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|f| f.name() == s)
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
    Spec(ColumnSpecToml),
}

/// `{ concat = ["Date", "Time"] }` joins columns with a space (split date + time columns);
/// `{ column = "desc", extract = "(\\d+:\\d+)" }` takes the first capture group of a regex.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnSpecToml {
    column: Option<Names>,
    concat: Option<Vec<String>>,
    coalesce: Option<Vec<String>>,
    extract: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Names {
    One(String),
    Many(Vec<String>),
}

impl Names {
    fn into_vec(self) -> Vec<String> {
        match self {
            Names::One(s) => vec![s],
            Names::Many(v) => v,
        }
    }
}

/// Where a canonical field's value comes from.
#[derive(Debug, Clone)]
pub enum ColumnSpec {
    /// The first of these columns present in the header.
    Names(Vec<String>),
    /// These columns joined by a space (all must be present).
    Concat(Vec<String>),
    /// First capture group of `regex` over the first present column.
    Extract(Vec<String>, regex::Regex),
    /// Per row, the first of these columns that has a value (all present in the header are used).
    Coalesce(Vec<String>),
}

impl ColumnSpec {
    pub fn names(&self) -> &[String] {
        match self {
            ColumnSpec::Names(n) | ColumnSpec::Concat(n) | ColumnSpec::Extract(n, _) | ColumnSpec::Coalesce(n) => n,
        }
    }
}

/// A field resolved against one header.
#[derive(Debug, Clone)]
pub enum Source {
    Col(usize),
    Concat(Vec<usize>),
    Extract(usize, regex::Regex),
    Coalesce(Vec<usize>),
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TypeBasis {
    /// What the call-taker heard: what dispatch knew when deciding whom to send (the default).
    #[default]
    Initial,
    Final,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// UTF-8; a field that is not valid UTF-8 is read as Windows-1252 instead (never dropped).
    #[default]
    #[serde(alias = "utf8")]
    Utf8,
    #[serde(alias = "latin1", alias = "latin-1", alias = "cp1252", alias = "iso-8859-1")]
    Windows1252,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InvalidTimes {
    /// An unparseable dispatched/arrived/cleared time rejects the row.
    #[default]
    Reject,
    /// ...or is stored as null (received_at is always required).
    Null,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimeToml {
    formats: Vec<String>,
    #[serde(default)]
    sentinels: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeToml {
    /// Incidents held open for merging later unit rows (rows of one incident further apart than
    /// this become separate calls and are reported).
    #[serde(default = "default_window")]
    window: usize,
}

fn default_window() -> usize {
    65_536
}

fn default_drop() -> Vec<String> {
    vec!["test".into(), "void".into()]
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileToml {
    name: String,
    #[serde(default)]
    description: String,
    timezone: String,
    crosswalk: String,
    /// Classifier rules for types the crosswalk does not list (default: the built-in
    /// `classifier_rules.csv`).
    classifier: Option<String>,
    #[serde(default)]
    type_basis: TypeBasis,
    #[serde(default)]
    encoding: Encoding,
    #[serde(default)]
    delimiter: Option<String>,
    #[serde(default)]
    null_values: Vec<String>,
    #[serde(default)]
    invalid_times: InvalidTimes,
    #[serde(default = "default_drop")]
    drop_dispositions: Vec<String>,
    columns: BTreeMap<String, OneOrMany>,
    time: TimeToml,
    merge: Option<MergeToml>,
    call_source: Option<ValueMapToml<String>>,
    priority: Option<ValueMapToml<i32>>,
    disposition: Option<ValueMapToml<String>>,
    self_initiated: Option<ValueMapToml<bool>>,
    caller_party: Option<ValueMapToml<String>>,
    responder_type: Option<ValueMapToml<String>>,
}

/// A loaded, validated profile.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub origin: PathBuf,
    /// sha256 of the profile text, recorded in the manifest.
    pub sha256: String,
    pub tz: Tz,
    pub crosswalk: Crosswalk,
    pub classifier: Arc<Classifier>,
    pub type_basis: TypeBasis,
    pub encoding: Encoding,
    pub delimiter: u8,
    pub null_values: Vec<String>,
    pub invalid_times: InvalidTimes,
    pub drop_dispositions: Vec<String>,
    /// Where each `SourceField` comes from.
    pub columns: BTreeMap<SourceField, ColumnSpec>,
    pub time_formats: Vec<TimeFormat>,
    pub sentinels: Vec<String>,
    /// `Some(window)` when the export has one row per responding unit.
    pub merge_window: Option<usize>,
    pub call_source: Option<ValueMap<String>>,
    pub priority: Option<ValueMap<i32>>,
    pub disposition: Option<ValueMap<String>>,
    pub self_initiated: Option<ValueMap<bool>>,
    pub caller_party: Option<ValueMap<String>>,
    pub responder_type: Option<ValueMap<String>>,
}

/// Normalise a header for matching: lower-case alphanumerics only, so `Call Type`, `call_type`
/// and `CallType` match.
pub fn header_key(h: &str) -> String {
    h.trim_start_matches('\u{feff}').chars().filter(|c| c.is_alphanumeric()).flat_map(|c| c.to_lowercase()).collect()
}

impl Profile {
    /// Load by built-in name (`seattle_call_data`), or from a `.toml` path.
    pub fn load(name_or_path: &str) -> Result<Profile> {
        Profile::from_asset(&assets::load("profiles", name_or_path, ".toml", "profile")?)
    }

    pub fn from_asset(asset: &Asset) -> Result<Profile> {
        let file = &asset.origin;
        let t: ProfileToml = toml::from_str(&asset.text).map_err(|e| {
            let key = e.span().map(|s| format!("at byte {}", s.start)).unwrap_or_else(|| "toml".into());
            Error::config(file, key, e.message().to_string())
        })?;
        let tz: Tz = t.timezone.parse().map_err(|_| {
            Error::config(file, "timezone", format!("`{}` is not an IANA time zone (e.g. America/Chicago)", t.timezone))
        })?;
        let cw_asset = assets::sibling("profiles", asset, &t.crosswalk).ok_or_else(|| {
            Error::config(
                file,
                "crosswalk",
                format!("cannot find crosswalk file `{}` next to the profile", t.crosswalk),
            )
        })?;
        let crosswalk = Crosswalk::parse(&cw_asset.origin, cw_asset.text.as_bytes())?;
        let classifier = match &t.classifier {
            Some(rel) => {
                let a = assets::sibling("profiles", asset, rel).ok_or_else(|| {
                    Error::config(
                        file,
                        "classifier",
                        format!("cannot find classifier rules `{rel}` next to the profile"),
                    )
                })?;
                Arc::new(Classifier::from_asset(&a)?)
            }
            None => Classifier::load_default()?,
        };

        let columns = column_specs(file, t.columns)?;
        let time_formats = check_required_and_formats(file, &columns, &t.time.formats)?;
        let delimiter = match t.delimiter.as_deref() {
            None => b',',
            Some("\\t") | Some("\t") => b'\t',
            Some(d) if d.len() == 1 => d.as_bytes()[0],
            Some(d) => return Err(Error::config(file, "delimiter", format!("expected one character, found `{d}`"))),
        };
        check_values(file, "call_source", t.call_source.as_ref(), &CALL_SOURCES)?;
        check_values(file, "caller_party", t.caller_party.as_ref(), &CALLER_PARTIES)?;
        check_values(file, "responder_type", t.responder_type.as_ref(), &RESPONDER_TYPES)?;
        if let Some(p) = &t.priority {
            if let Some((k, v)) = p.values.iter().find(|(_, v)| **v < 1) {
                return Err(Error::config(
                    file,
                    format!("priority.values.{k}"),
                    format!("expected 1 (most urgent) or more, found {v}"),
                ));
            }
        }
        let mut key = String::new();
        let null_values = t
            .null_values
            .iter()
            .map(|v| {
                normalize_key(v, &mut key);
                key.clone()
            })
            .collect();
        let sha256 = crate::warehouse::sha256_hex(asset.text.as_bytes());
        Ok(Profile {
            name: t.name,
            description: t.description,
            origin: file.clone(),
            sha256,
            tz,
            crosswalk,
            classifier,
            type_basis: t.type_basis,
            encoding: t.encoding,
            delimiter,
            null_values,
            invalid_times: t.invalid_times,
            drop_dispositions: t.drop_dispositions.iter().map(|d| d.to_ascii_lowercase()).collect(),
            columns,
            time_formats,
            sentinels: t.time.sentinels,
            merge_window: t.merge.map(|m| m.window.max(1)),
            call_source: t.call_source.map(ValueMap::from_toml),
            priority: t.priority.map(ValueMap::from_toml),
            disposition: t.disposition.map(ValueMap::from_toml),
            self_initiated: t.self_initiated.map(ValueMap::from_toml),
            caller_party: t.caller_party.map(ValueMap::from_toml),
            responder_type: t.responder_type.map(ValueMap::from_toml),
        })
    }

    pub fn time_parser(&self) -> TimeParser {
        TimeParser::new(self.time_formats.clone(), self.tz, self.sentinels.clone())
    }

    /// Resolve the profile's columns against a file header.
    pub fn resolve(&self, header: &[String]) -> Layout {
        let keys: Vec<String> = header.iter().map(|h| header_key(h)).collect();
        let mut src: [Option<Source>; SourceField::ALL.len()] = Default::default();
        let mut matched = Vec::new();
        let mut missing = Vec::new();
        let pos = |n: &String| {
            let k = header_key(n);
            keys.iter().position(|h| *h == k)
        };
        for (f, spec) in &self.columns {
            let names = spec.names();
            let first = names.iter().find_map(|n| pos(n).map(|i| (i, n.clone())));
            let resolved = match spec {
                ColumnSpec::Names(_) => first.map(|(i, n)| (Source::Col(i), n)),
                ColumnSpec::Extract(_, rx) => first.map(|(i, n)| (Source::Extract(i, rx.clone()), n)),
                ColumnSpec::Concat(_) => {
                    let all: Option<Vec<usize>> = names.iter().map(pos).collect();
                    all.map(|v| (Source::Concat(v), names.join(" + ")))
                }
                ColumnSpec::Coalesce(_) => {
                    let present: Vec<usize> = names.iter().filter_map(pos).collect();
                    (!present.is_empty()).then(|| (Source::Coalesce(present), names.join(" | ")))
                }
            };
            match resolved {
                Some((s, n)) => {
                    src[f.index()] = Some(s);
                    matched.push((*f, n));
                }
                None => missing.push((*f, names.to_vec())),
            }
        }
        Layout { src, matched, missing, width: header.len() }
    }
}

/// Every `[columns]` entry as a resolved field → column spec.
fn column_specs(file: &PathBuf, given: BTreeMap<String, OneOrMany>) -> Result<BTreeMap<SourceField, ColumnSpec>> {
    let mut columns = BTreeMap::new();
    for (k, v) in given {
        let f = SourceField::from_name(&k).ok_or_else(|| {
            Error::config(
                file,
                format!("columns.{k}"),
                format!(
                    "unknown field; expected one of: {}",
                    SourceField::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        let key = format!("columns.{k}");
        let spec = column_spec(file, &key, v)?;
        if spec.names().is_empty() || spec.names().iter().any(|n| n.trim().is_empty()) {
            return Err(Error::config(file, key, "expected a column name or a list of names"));
        }
        columns.insert(f, spec);
    }
    Ok(columns)
}

/// One `[columns]` value: a name, a list, `{ concat }`, `{ coalesce }` or `{ column, extract }`.
fn column_spec(file: &PathBuf, key: &str, v: OneOrMany) -> Result<ColumnSpec> {
    Ok(match v {
            OneOrMany::One(n) => ColumnSpec::Names(vec![n]),
            OneOrMany::Many(n) => ColumnSpec::Names(n),
            OneOrMany::Spec(ColumnSpecToml { column: None, concat: Some(c), coalesce: None, extract: None }) => ColumnSpec::Concat(c),
            OneOrMany::Spec(ColumnSpecToml { column: None, concat: None, coalesce: Some(c), extract: None }) => ColumnSpec::Coalesce(c),
            OneOrMany::Spec(ColumnSpecToml { column: Some(c), concat: None, coalesce: None, extract: Some(re) }) => {
                let rx = regex::Regex::new(&re).map_err(|e| Error::config(file, key, format!("extract: invalid regex: {e}")))?;
                if rx.captures_len() < 2 {
                    return Err(Error::config(file, key, "extract: the regex needs one capture group ( ... )"));
                }
                ColumnSpec::Extract(c.into_vec(), rx)
            }
            OneOrMany::Spec(ColumnSpecToml { column: Some(c), concat: None, coalesce: None, extract: None }) => ColumnSpec::Names(c.into_vec()),
            OneOrMany::Spec(_) => {
                return Err(Error::config(
                    file,
                    key,
                    "expected a name, a list of names, { concat = [...] }, { coalesce = [...] } or { column = ..., extract = \"regex\" }",
                ))
            }
        })
}

/// Required columns present and every time format valid.
fn check_required_and_formats(
    file: &PathBuf,
    columns: &BTreeMap<SourceField, ColumnSpec>,
    formats: &[String],
) -> Result<Vec<TimeFormat>> {
    for req in [SourceField::CallId, SourceField::ReceivedAt] {
        if !columns.contains_key(&req) {
            return Err(Error::config(file, format!("columns.{}", req.name()), "required: name the source column"));
        }
    }
    if !columns.contains_key(&SourceField::InitialType) && !columns.contains_key(&SourceField::FinalType) {
        return Err(Error::config(file, "columns.initial_type", "required: map initial_type or final_type"));
    }
    if formats.is_empty() {
        return Err(Error::config(file, "time.formats", "expected at least one timestamp format"));
    }
    let mut time_formats = Vec::new();
    for f in formats {
        time_formats.push(TimeFormat::compile(f).map_err(|e| Error::config(file, "time.formats", e))?);
    }
    Ok(time_formats)
}

fn check_values(file: &PathBuf, what: &str, m: Option<&ValueMapToml<String>>, allowed: &[&str]) -> Result<()> {
    let Some(m) = m else { return Ok(()) };
    for (k, v) in m.values.iter().map(|(k, v)| (k.as_str(), v)).chain(m.default.as_ref().map(|d| ("default", d))) {
        if !allowed.contains(&v.as_str()) {
            return Err(Error::config(
                file,
                format!("{what}.values.{k}"),
                format!("`{v}` is not one of: {}", allowed.join(", ")),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(text: &str) -> Asset {
        Asset { origin: PathBuf::from("test.toml"), text: text.to_string(), dir: Some(PathBuf::from("profiles")) }
    }

    const MINIMAL: &str = r#"
name = "t"
timezone = "America/Denver"
crosswalk = "callsift_sample.crosswalk.csv"
[columns]
call_id = "id"
received_at = ["Time Received", "received"]
initial_type = "type"
[time]
formats = ["%Y-%m-%d %H:%M:%S"]
"#;

    #[test]
    fn loads_minimal_profile_and_resolves_header_loosely() {
        let p = Profile::from_asset(&asset(MINIMAL)).unwrap();
        assert_eq!(p.name, "t");
        assert_eq!(p.type_basis, TypeBasis::Initial);
        let l = p.resolve(&["\u{feff}ID".into(), "time_received".into(), "Type".into()]);
        assert_eq!(l.get(SourceField::CallId), Some(0));
        assert_eq!(l.get(SourceField::ReceivedAt), Some(1));
        assert_eq!(l.get(SourceField::InitialType), Some(2));
        l.check_required(std::path::Path::new("f.csv")).unwrap();
    }

    fn err(text: &str) -> String {
        Profile::from_asset(&asset(text)).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_file_key_and_expectation() {
        let e = err(&MINIMAL.replace("America/Denver", "Mars/Olympus"));
        assert!(e.contains("test.toml") && e.contains("timezone") && e.contains("Mars/Olympus"), "{e}");
        let e = err(&MINIMAL.replace("initial_type = \"type\"", "initial_type = \"type\"\ncolour = \"c\""));
        assert!(e.contains("columns.colour") && e.contains("unknown field"), "{e}");
        let e = err(&MINIMAL.replace("call_id = \"id\"\n", ""));
        assert!(e.contains("columns.call_id") && e.contains("required"), "{e}");
        let e = err(&MINIMAL.replace("%Y-%m-%d", "%Y-%Q"));
        assert!(e.contains("time.formats") && e.contains("%Q"), "{e}");
        let e = err(&format!("{MINIMAL}\n[call_source.values]\nONVIEW = \"officer\"\n"));
        assert!(e.contains("call_source.values.ONVIEW") && e.contains("officer_initiated"), "{e}");
        let e = err(&MINIMAL.replace("crosswalk = \"callsift_sample.crosswalk.csv\"", "crosswalk = \"nope.csv\""));
        assert!(e.contains("crosswalk") && e.contains("nope.csv"), "{e}");
        let e = err(&format!("{MINIMAL}\nbogus_key = 1\n"));
        assert!(e.contains("test.toml") && e.contains("bogus_key"), "{e}");
    }

    #[test]
    fn missing_required_header_column_is_named() {
        let p = Profile::from_asset(&asset(MINIMAL)).unwrap();
        let l = p.resolve(&["id".into(), "type".into()]);
        let e = l.check_required(std::path::Path::new("calls.csv")).unwrap_err().to_string();
        assert!(e.contains("calls.csv") && e.contains("received_at") && e.contains("Time Received"), "{e}");
    }

    #[test]
    fn value_maps_exact_prefix_and_leading_digits() {
        let m = ValueMap::from_toml(ValueMapToml {
            values: [("CR".to_string(), "community_responder".to_string()), ("C".to_string(), "other".to_string())]
                .into(),
            default: Some("police".into()),
            match_kind: MatchKind::Prefix,
        });
        assert_eq!(m.lookup("CR12").map(String::as_str), Some("community_responder"));
        assert_eq!(m.lookup("C7").map(String::as_str), Some("other"));
        assert_eq!(m.lookup("2B14"), None);
    }
}

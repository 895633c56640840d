//! Policies: which calls a community responder could take, as data.
//!
//! A policy (TOML, see docs/policy.md) names a denominator rule, an insufficient-information rule,
//! disqualifiers, a scope, limitations and scenarios. Every rule is a SQL boolean expression over the
//! `calls` table, checked against the call schema when the policy loads and evaluated by DataFusion —
//! no rule is a Rust branch. Outcomes are kept apart, in this order (first match wins):
//! `excluded_self_initiated`, `out_of_hours`, `out_of_area`, `unmapped`, `insufficient_info`,
//! `disqualified:<rule>`, `out_of_scope`, `limited:<limitation>`, `eligible`.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use datafusion::arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::logical_expr::ExprSchemable;
use datafusion::prelude::SessionContext;
use serde::Deserialize;

use crate::assets::{self, Asset};
use crate::eligibility::outcome::Outcome;
use crate::eligibility::rules;
use crate::eligibility::sql::guard;
pub use crate::eligibility::sql::{by_call_sql, reasons, rules_select, tag_sql};
use crate::error::{Error, Result};
use crate::warehouse::schema;
use crate::warehouse::Warehouse;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleToml {
    name: String,
    #[serde(default)]
    description: String,
    when: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeToml {
    #[serde(default)]
    description: String,
    when: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitationToml {
    name: String,
    #[serde(default)]
    description: String,
    /// Rule limitations: calls the program would not take.
    excludes: Option<String>,
    /// Where the deciding fact is not recorded (e.g. caller relationship)...
    unknown: Option<String>,
    /// ...the probability that the call would be excluded (0..1): an estimate, with bounds.
    likelihood: Option<String>,
    /// Service hours, local time, `HH:MM-HH:MM` (may cross midnight).
    hours: Option<String>,
    /// Service area: calls whose `district` is listed.
    districts: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioToml {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    limitations: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyToml {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default = "default_max_unmapped")]
    max_unmapped_share: f64,
    /// Calls that are police activity, not calls from the public (removed from the denominator).
    self_initiated: RuleBody,
    /// Calls whose type has no category (default: `category_source = 'unmapped'`).
    unmapped: Option<RuleBody>,
    insufficient_info: RuleBody,
    #[serde(default, rename = "disqualifier")]
    disqualifiers: Vec<RuleToml>,
    scope: ScopeToml,
    #[serde(default, rename = "limitation")]
    limitations: Vec<LimitationToml>,
    /// Limitations `--scenarios all` combines (default: every rule limitation).
    combine: Option<Vec<String>>,
    #[serde(default, rename = "scenario")]
    scenarios: Vec<ScenarioToml>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleBody {
    #[serde(default)]
    description: String,
    when: String,
}

/// The `[unmapped]` rule when a policy does not say.
pub const DEFAULT_UNMAPPED: &str = "category_source = 'unmapped'";

/// The `[unmapped]` rule as written, or the default.
fn unmapped_rule(given: Option<RuleBody>) -> Rule {
    match given {
        Some(u) => Rule { name: "unmapped".into(), description: u.description, sql: u.when },
        None => Rule {
            name: "unmapped".into(),
            description: "No category from the crosswalk or the classifier".into(),
            sql: DEFAULT_UNMAPPED.into(),
        },
    }
}

fn default_max_unmapped() -> f64 {
    0.02
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: String,
    pub description: String,
    /// SQL boolean expression over `calls`.
    pub sql: String,
}

/// One per-call rule as a column of the tagging query (see [`rules`] for the column names).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleColumn {
    pub column: String,
    /// `rule`, `disqualifier`, `limitation`, `unrecorded` or `likelihood`.
    pub kind: &'static str,
    pub name: String,
    pub sql: String,
    /// Boolean rule; otherwise a probability 0..1.
    pub boolean: bool,
}

impl RuleColumn {
    /// How errors name the rule: `disqualifier `weapon``, `insufficient_info`.
    pub fn label(&self) -> String {
        match self.kind {
            "rule" => self.name.clone(),
            "unrecorded" => format!("limitation `{}` unknown", self.name),
            "likelihood" => format!("limitation `{}` likelihood", self.name),
            k => format!("{k} `{}`", self.name),
        }
    }

    /// The SELECT item computing it: a guarded boolean, or a probability clamped to 0..1.
    pub fn select_item(&self) -> String {
        if self.boolean {
            format!("{} AS {}", guard(&self.sql), self.column)
        } else {
            format!("LEAST(GREATEST(CAST(COALESCE(({}), 0.5) AS DOUBLE), 0.0), 1.0) AS {}", self.sql, self.column)
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum LimitationKind {
    /// Excludes calls where `excludes` holds; where `unknown` holds, excludes with probability
    /// `likelihood` (an estimate).
    Rule { excludes: String, unknown: Option<String>, likelihood: Option<String> },
    /// Outcome `out_of_hours`: calls received outside [start, end) local time (minutes after midnight).
    Hours { start: u32, end: u32 },
    /// Outcome `out_of_area`.
    Area { districts: Vec<String> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Limitation {
    pub name: String,
    pub description: String,
    pub kind: LimitationKind,
}

impl Limitation {
    /// The SQL expression that is true when this limitation removes the call (for certain).
    pub fn excludes_sql(&self) -> String {
        match &self.kind {
            LimitationKind::Rule { excludes, .. } => excludes.clone(),
            LimitationKind::Hours { start, end } => {
                let m = "(CAST(date_part('hour', received_local) AS INT) * 60 + CAST(date_part('minute', received_local) AS INT))";
                if start <= end {
                    format!("NOT ({m} >= {start} AND {m} < {end})")
                } else {
                    // Crosses midnight, e.g. 09:00–01:00.
                    format!("NOT ({m} >= {start} OR {m} < {end})")
                }
            }
            LimitationKind::Area { districts } => {
                let list =
                    districts.iter().map(|d| format!("'{}'", d.replace('\'', "''"))).collect::<Vec<_>>().join(", ");
                format!("NOT (district IN ({list}))")
            }
        }
    }

    /// Outcome text when this limitation removes a call.
    pub fn outcome(&self) -> String {
        match self.kind {
            LimitationKind::Hours { .. } => Outcome::OutOfHours.reason(None),
            LimitationKind::Area { .. } => Outcome::OutOfArea.reason(None),
            LimitationKind::Rule { .. } => Outcome::Limited.reason(Some(&self.name)),
        }
    }

    pub fn is_rule(&self) -> bool {
        matches!(self.kind, LimitationKind::Rule { .. })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// Indexes into `Policy::limitations`, in policy order.
    pub limitations: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    pub description: String,
    pub origin: PathBuf,
    pub sha256: String,
    pub max_unmapped_share: f64,
    pub self_initiated: Rule,
    pub unmapped: Rule,
    pub insufficient_info: Rule,
    pub disqualifiers: Vec<Rule>,
    pub scope: Rule,
    pub limitations: Vec<Limitation>,
    pub combine: Vec<usize>,
    pub scenarios: Vec<Scenario>,
}

fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// At most this many limitations are crossed by `--scenarios all` (2^8 = 256 scenarios).
pub const MAX_COMBINED: usize = 8;

/// What a `[[limitation]]` does: exactly one of a SQL rule, service hours or a district list.
fn limitation_kind(file: &Path, l: &LimitationToml) -> Result<LimitationKind> {
    let key = format!("limitation `{}`", l.name);
    let kind = match (&l.excludes, &l.hours, &l.districts) {
        (Some(e), None, None) => {
            if l.unknown.is_some() != l.likelihood.is_some() {
                return Err(Error::config(file, key, "`unknown` and `likelihood` go together"));
            }
            LimitationKind::Rule { excludes: e.clone(), unknown: l.unknown.clone(), likelihood: l.likelihood.clone() }
        }
        (None, Some(h), None) => {
            let (a, b) = h
                .split_once('-')
                .ok_or_else(|| Error::config(file, &key, format!("hours: expected `HH:MM-HH:MM`, found `{h}`")))?;
            let (start, end) = (parse_hhmm(a), parse_hhmm(b));
            match (start, end) {
                (Some(s), Some(e)) if s != e => LimitationKind::Hours { start: s, end: e % 1440 },
                _ => {
                    return Err(Error::config(
                        file,
                        key,
                        format!("hours: expected `HH:MM-HH:MM` with different ends, found `{h}`"),
                    ))
                }
            }
        }
        (None, None, Some(d)) if !d.is_empty() => LimitationKind::Area { districts: d.clone() },
        _ => {
            return Err(Error::config(
                file,
                key,
                "expected exactly one of `excludes` (a SQL rule), `hours` or a non-empty `districts` list",
            ))
        }
    };
    if !matches!(kind, LimitationKind::Rule { .. }) && (l.unknown.is_some() || l.likelihood.is_some()) {
        return Err(Error::config(
            file,
            format!("limitation `{}`", l.name),
            "`unknown`/`likelihood` apply to `excludes` rules only",
        ));
    }
    Ok(kind)
}

/// `--scenarios all` crosses the combined limitations: keep that count bounded.
fn check_combine(file: &Path, combine: &[usize]) -> Result<()> {
    if combine.len() > MAX_COMBINED {
        return Err(Error::config(
            file,
            "combine",
            format!(
                "{} limitations would make {} scenarios with --scenarios all; at most {MAX_COMBINED}",
                combine.len(),
                1u64 << combine.len().min(63)
            ),
        ));
    }
    Ok(())
}

impl Policy {
    pub fn load(name_or_path: &str) -> Result<Policy> {
        Policy::from_asset(&assets::load("policies", name_or_path, ".toml", "policy")?)
    }

    /// Parse and check structure (names, references, hours). Expressions are checked by [`Policy::validate`].
    pub fn from_asset(asset: &Asset) -> Result<Policy> {
        let file = &asset.origin;
        let table = resolve_extends(asset, 0)?;
        let t: PolicyToml =
            table.try_into().map_err(|e: toml::de::Error| Error::config(file, "toml", e.message().to_string()))?;
        let mut names = BTreeSet::new();
        let mut check_name = |kind: &str, n: &str| -> Result<()> {
            if !valid_name(n) {
                return Err(Error::config(file, format!("{kind} `{n}`"), "names use letters, digits and _ only"));
            }
            if !names.insert(format!("{kind}:{n}")) {
                return Err(Error::config(file, format!("{kind} `{n}`"), "duplicate name"));
            }
            Ok(())
        };
        let mut disqualifiers = Vec::new();
        for d in t.disqualifiers {
            check_name("disqualifier", &d.name)?;
            disqualifiers.push(Rule { name: d.name, description: d.description, sql: d.when });
        }
        let mut limitations = Vec::new();
        for l in t.limitations {
            check_name("limitation", &l.name)?;
            let kind = limitation_kind(file, &l)?;
            limitations.push(Limitation { name: l.name, description: l.description, kind });
        }
        let index_of = |n: &str, key: &str| -> Result<usize> {
            limitations.iter().position(|l| l.name == n).ok_or_else(|| {
                Error::config(
                    file,
                    key,
                    format!(
                        "unknown limitation `{n}`; defined: {}",
                        limitations.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
            })
        };
        let combine = match &t.combine {
            Some(c) => {
                let mut idx = c.iter().map(|n| index_of(n, "combine")).collect::<Result<Vec<_>>>()?;
                let n = idx.len();
                idx.sort_unstable();
                idx.dedup();
                if idx.len() != n {
                    return Err(Error::config(file, "combine", "a limitation is listed more than once"));
                }
                idx
            }
            None => (0..limitations.len()).filter(|&i| limitations[i].is_rule()).collect(),
        };
        check_combine(file, &combine)?;
        let mut scenarios = Vec::new();
        for s in t.scenarios {
            check_name("scenario", &s.name)?;
            let key = format!("scenario `{}`", s.name);
            let mut idx = s.limitations.iter().map(|n| index_of(n, &key)).collect::<Result<Vec<_>>>()?;
            idx.sort();
            idx.dedup();
            scenarios.push(Scenario { name: s.name, description: s.description, limitations: idx });
        }
        if scenarios.is_empty() {
            return Err(Error::config(file, "scenario", "define at least one [[scenario]]"));
        }
        if !(0.0..=1.0).contains(&t.max_unmapped_share) {
            return Err(Error::config(
                file,
                "max_unmapped_share",
                format!("expected a share 0..1, found {}", t.max_unmapped_share),
            ));
        }
        Ok(Policy {
            name: t.name,
            description: t.description,
            origin: file.clone(),
            sha256: crate::warehouse::sha256_hex(asset.text.as_bytes()),
            max_unmapped_share: t.max_unmapped_share,
            self_initiated: Rule {
                name: "self_initiated".into(),
                description: t.self_initiated.description,
                sql: t.self_initiated.when,
            },
            unmapped: unmapped_rule(t.unmapped),
            insufficient_info: Rule {
                name: "insufficient_info".into(),
                description: t.insufficient_info.description,
                sql: t.insufficient_info.when,
            },
            disqualifiers,
            scope: Rule { name: "scope".into(), description: t.scope.description, sql: t.scope.when },
            limitations,
            combine,
            scenarios,
        })
    }

    /// Every per-call rule of the policy as a column of the tagging query, in decision order.
    pub fn rule_columns(&self) -> Vec<RuleColumn> {
        let col = |column: String, kind: &'static str, name: &str, sql: &str, boolean: bool| RuleColumn {
            column,
            kind,
            name: name.to_string(),
            sql: sql.to_string(),
            boolean,
        };
        let mut v = vec![
            col(rules::SELF_INITIATED.into(), "rule", "self_initiated", &self.self_initiated.sql, true),
            col(rules::UNMAPPED.into(), "rule", "unmapped", &self.unmapped.sql, true),
            col(rules::INSUFFICIENT_INFO.into(), "rule", "insufficient_info", &self.insufficient_info.sql, true),
        ];
        for (i, d) in self.disqualifiers.iter().enumerate() {
            v.push(col(rules::disqualifier(i), "disqualifier", &d.name, &d.sql, true));
        }
        v.push(col(rules::SCOPE.into(), "rule", "scope", &self.scope.sql, true));
        for (i, l) in self.limitations.iter().enumerate() {
            v.push(col(rules::limitation(i), "limitation", &l.name, &l.excludes_sql(), true));
            if let LimitationKind::Rule { unknown: Some(u), likelihood: Some(p), .. } = &l.kind {
                v.push(col(rules::unrecorded(i), "unrecorded", &l.name, u, true));
                v.push(col(rules::likelihood(i), "likelihood", &l.name, p, false));
            }
        }
        v
    }

    /// Check every expression against the call schema: it must parse, name known columns, and have
    /// the right type. Errors name the policy file and the rule.
    pub fn validate(&self) -> Result<()> {
        let ctx = SessionContext::new();
        let df_schema = DFSchema::try_from(schema::call_table_schema().as_ref().clone())?;
        for rc in self.rule_columns() {
            let (label, sql) = (rc.label(), rc.sql);
            let want = if rc.boolean { DataType::Boolean } else { DataType::Float64 };
            let expr = ctx.parse_sql_expr(&sql, &df_schema).map_err(|e| {
                Error::config(
                    &self.origin,
                    &label,
                    format!("`{sql}` is not a valid expression: {}", first_line(&e.to_string())),
                )
            })?;
            let got = expr
                .get_type(&df_schema)
                .map_err(|e| Error::config(&self.origin, &label, format!("`{sql}`: {}", first_line(&e.to_string()))))?;
            let ok = match want {
                DataType::Boolean => got == DataType::Boolean || got == DataType::Null,
                _ => got.is_numeric() || got == DataType::Null,
            };
            if !ok {
                let expected =
                    if want == DataType::Boolean { "a boolean (true/false) expression" } else { "a number 0..1" };
                return Err(Error::config(&self.origin, &label, format!("`{sql}` is {got}, expected {expected}")));
            }
        }
        Ok(())
    }

    pub fn scenario(&self, name: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.name == name)
    }

    /// Every combination of the `combine` limitations (2^n scenarios), named by what they add, plus
    /// the policy's named scenarios that are not already among them.
    pub fn all_combinations(&self) -> Vec<Scenario> {
        let n = self.combine.len();
        let mut out = Vec::new();
        for mask in 0..(1u32 << n) {
            let lims: Vec<usize> = (0..n).filter(|b| mask & (1 << b) != 0).map(|b| self.combine[b]).collect();
            let mut sorted = lims.clone();
            sorted.sort();
            let name = if lims.is_empty() {
                "none".to_string()
            } else {
                lims.iter().map(|&i| self.limitations[i].name.as_str()).collect::<Vec<_>>().join("+")
            };
            // Reuse the policy's own name for the same set (e.g. `broad`, `narrowest`).
            let named = self.scenarios.iter().find(|s| s.limitations == sorted);
            out.push(Scenario {
                name: named.map(|s| s.name.clone()).unwrap_or(name),
                description: named.map(|s| s.description.clone()).unwrap_or_default(),
                limitations: sorted,
            });
        }
        for s in &self.scenarios {
            if !out.iter().any(|o| o.limitations == s.limitations) {
                out.push(s.clone());
            }
        }
        out
    }

    /// Scenarios selected on the command line: `None`/empty = the policy's own, `all` = every
    /// combination, otherwise a comma list of names.
    pub fn select(&self, spec: Option<&str>) -> Result<Vec<Scenario>> {
        match spec.map(str::trim) {
            None | Some("") => Ok(self.scenarios.clone()),
            Some("all") => Ok(self.all_combinations()),
            Some(list) => list
                .split(',')
                .map(|n| {
                    let n = n.trim();
                    self.scenario(n).cloned().ok_or_else(|| {
                        Error::Usage(format!(
                            "no scenario `{n}` in policy {} (defined: {}, or `all`)",
                            self.name,
                            self.scenarios.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
                        ))
                    })
                })
                .collect(),
        }
    }
}

/// The policy asked for, else the one the warehouse was last tagged with (so results match the
/// stored outcomes), else `standard`; with the scenarios last tagged under it.
pub fn tagged_policy(wh: &Warehouse, asked: Option<&str>) -> Result<(Policy, Vec<Scenario>)> {
    let tag = wh.manifest()?.tag;
    let policy = match (asked, &tag) {
        (Some(p), _) => Policy::load(p)?,
        (None, Some(t)) => Policy::load(&t.policy).or_else(|_| Policy::load(&t.policy_name))?,
        (None, None) => Policy::load("standard")?,
    };
    // Named scenarios and `--scenarios all` combinations.
    let known: Vec<Scenario> = policy.scenarios.iter().cloned().chain(policy.all_combinations()).collect();
    let scenarios = match tag.filter(|t| t.policy_name == policy.name) {
        Some(t) => t.scenarios.iter().filter_map(|n| known.iter().find(|s| &s.name == n).cloned()).collect(),
        None => policy.scenarios.clone(),
    };
    Ok((policy, scenarios))
}

/// Parse a policy's TOML, applying `extends = "base"`: the base's tables are kept, scalar keys and
/// tables the policy sets override them, and the arrays `disqualifier`, `limitation`, `scenario`
/// are appended to — so a program's policy adds its hours, area and scenarios to the standard one.
fn resolve_extends(asset: &Asset, depth: usize) -> Result<toml::Table> {
    let file = &asset.origin;
    let mut table: toml::Table = toml::from_str(&asset.text).map_err(|e| {
        let key = e.span().map(|s| format!("at byte {}", s.start)).unwrap_or_else(|| "toml".into());
        Error::config(file, key, e.message().to_string())
    })?;
    let Some(base) = table.remove("extends") else { return Ok(table) };
    let base =
        base.as_str().ok_or_else(|| Error::config(file, "extends", "expected a policy name or path"))?.to_string();
    if depth > 4 {
        return Err(Error::config(file, "extends", "policies extend each other too deeply (a cycle?)"));
    }
    let base_asset = match &asset.dir {
        Some(dir) if dir.join(&base).is_file() => {
            assets::resolve("policies", &dir.join(&base).display().to_string(), ".toml")
        }
        _ => assets::resolve("policies", &base, ".toml"),
    }
    .ok_or_else(|| Error::config(file, "extends", format!("no policy `{base}`")))?;
    let mut merged = resolve_extends(&base_asset, depth + 1)?;
    for (k, v) in table {
        match (merged.get_mut(&k), v) {
            (Some(toml::Value::Array(a)), toml::Value::Array(b))
                if ["disqualifier", "limitation", "scenario"].contains(&k.as_str()) =>
            {
                a.extend(b)
            }
            (_, v) => {
                merged.insert(k, v);
            }
        }
    }
    Ok(merged)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn policy_from(text: &str) -> Result<Policy> {
        Policy::from_asset(&Asset { origin: PathBuf::from("p.toml"), text: text.to_string(), dir: None })
    }

    const BASE: &str = r#"
name = "t"
[self_initiated]
when = "self_initiated"
[insufficient_info]
when = "NOT type_mapped"
[[disqualifier]]
name = "weapon"
when = "weapon"
[scope]
when = "category = 'Behavioral Health' OR police_type"
[[limitation]]
name = "no_police_types"
excludes = "police_type AND NOT bh_nexus"
[[scenario]]
name = "broad"
"#;

    fn err(extra: &str) -> String {
        match policy_from(&format!("{BASE}{extra}")).and_then(|p| p.validate().map(|_| p)) {
            Ok(_) => panic!("expected an error for {extra}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn validation_errors_name_the_rule() {
        let e = err("[[disqualifier]]\nname = \"knives\"\nwhen = \"knife_flag\"\n");
        assert!(e.contains("p.toml") && e.contains("disqualifier `knives`") && e.contains("knife_flag"), "{e}");
        let e = err("[[disqualifier]]\nname = \"prio\"\nwhen = \"priority + 1\"\n");
        assert!(e.contains("disqualifier `prio`") && e.contains("expected a boolean"), "{e}");
        let e = err("[[disqualifier]]\nname = \"weapon\"\nwhen = \"violence\"\n");
        assert!(e.contains("disqualifier `weapon`") && e.contains("duplicate"), "{e}");
        let e = err("[[scenario]]\nname = \"x\"\nlimitations = [\"no_such\"]\n");
        assert!(e.contains("scenario `x`") && e.contains("unknown limitation `no_such`"), "{e}");
        let e = err("[[limitation]]\nname = \"hrs\"\nhours = \"9am-5pm\"\n");
        assert!(e.contains("limitation `hrs`") && e.contains("HH:MM"), "{e}");
        let e = err("[[disqualifier]]\nname = \"bad\"\nwhen = \"weapon AND (\"\n");
        assert!(e.contains("disqualifier `bad`") && e.contains("not a valid expression"), "{e}");
    }

    #[test]
    fn extends_appends_limitations_and_scenarios() {
        let p = Policy::load("policies/sample_program.toml").unwrap();
        p.validate().unwrap();
        assert_eq!(p.name, "sample_program");
        assert_eq!(p.disqualifiers.len(), 6);
        let names: Vec<&str> = p.limitations.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["no_police_types", "no_third_party", "bh_nexus_required", "service_hours", "service_area"]);
        assert!(p.scenario("broad").is_some() && p.scenario("program").is_some());
        // Hours and area are not combined by --scenarios all; the program scenario is added to the 8.
        assert_eq!(p.all_combinations().len(), 9);
    }

    #[test]
    fn valid_policy_validates() {
        let p = policy_from(BASE).unwrap();
        p.validate().unwrap();
        assert_eq!(p.scenarios[0].limitations, Vec::<usize>::new());
    }

    #[test]
    fn hours_crossing_midnight_sql() {
        let p =
            policy_from(&format!("{BASE}[[limitation]]\nname = \"service_hours\"\nhours = \"09:00-01:00\"\n")).unwrap();
        p.validate().unwrap();
        let sql = p.limitations[1].excludes_sql();
        assert!(sql.contains(">= 540 OR") && sql.contains("< 60"), "{sql}");
        assert_eq!(p.limitations[1].outcome(), "out_of_hours");
    }

    #[test]
    fn all_combinations_cover_the_power_set_and_keep_names() {
        let text = format!(
            "{BASE}[[limitation]]\nname = \"a\"\nexcludes = \"conflict\"\n[[limitation]]\nname = \"b\"\nexcludes = \"medical\"\n\
             [[scenario]]\nname = \"narrowest\"\nlimitations = [\"no_police_types\", \"a\", \"b\"]\n"
        );
        let p = policy_from(&text).unwrap();
        let all = p.all_combinations();
        assert_eq!(all.len(), 8);
        let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
        assert!(
            names.contains(&"broad") && names.contains(&"narrowest") && names.contains(&"no_police_types+a"),
            "{names:?}"
        );
    }
}

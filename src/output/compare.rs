//! Compare cities: the same policy over several warehouses side by side (issue 13). Per warehouse:
//! its name (source profiles from the manifest, else the folder name), the local date range of its
//! calls, calls, calls from the public, the eligible share of each scenario with its bounds, the top
//! eligible categories, and where call categories came from (crosswalk / classifier / unmapped).
//!
//! Never writes to a warehouse. With a policy given, a warehouse tagged with another policy (or
//! another version of it, or without a requested scenario, or never tagged) is tagged **in memory**:
//! its `eligibility` table is replaced, in this session only, by a view over the policy's tagging
//! SQL ([`policy::tag_sql`]) on its `calls`. Without a policy, the stored tags are read and every
//! warehouse must have been tagged with the same policy (name and file hash).
//!
//! Every query is a public query (`privacy::public_query`: read-only, lineage-checked aggregates);
//! the numbers for a terminal are not suppressed, the HTML page ([`page`]) is.
mod page;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::prelude::SessionContext;

pub use page::{write_page, PageSummary};

use crate::eligibility::policy::{self, Policy, Scenario};
use crate::error::{Error, Result};
use crate::output::privacy::{self, PublicResult};
use crate::output::report::{self, ReportSql};
use crate::warehouse::{Manifest, Warehouse};

/// Categories listed per warehouse and scenario.
pub const TOP_CATEGORIES: usize = 3;

/// Dates, volume and category sources of a warehouse's calls (aggregates only: a public query).
const SUMMARY_SQL: &str = "SELECT CAST(min(received_local) AS DATE) AS first_day,
       CAST(max(received_local) AS DATE) AS last_day,
       count(*) AS calls,
       count(*) FILTER (WHERE category_source = 'crosswalk') AS crosswalk_calls,
       round(100.0 * count(*) FILTER (WHERE category_source = 'crosswalk') / NULLIF(count(*), 0), 1) AS crosswalk_pct,
       count(*) FILTER (WHERE category_source = 'classifier') AS classifier_calls,
       round(100.0 * count(*) FILTER (WHERE category_source = 'classifier') / NULLIF(count(*), 0), 1) AS classifier_pct,
       count(*) FILTER (WHERE category_source = 'unmapped') AS unmapped_calls,
       round(100.0 * count(*) FILTER (WHERE category_source = 'unmapped') / NULLIF(count(*), 0), 1) AS unmapped_pct
FROM calls";

/// What to compare.
#[derive(Debug, Clone, Default)]
pub struct CompareOptions {
    /// Built-in policy name or path; `None`: the policy every warehouse was tagged with.
    pub policy: Option<String>,
    /// `all`, or a comma list; default: the policy's scenarios (with a policy), else the scenarios
    /// tagged in every warehouse.
    pub scenarios: Option<String>,
}

/// Where a warehouse's eligibility came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Tags {
    /// The stored `eligibility` table.
    Stored,
    /// Tagged in memory for this comparison (nothing written), and why.
    InMemory(String),
}

/// One scenario's sizing in one warehouse (the `sizing` report's row).
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioShare {
    pub scenario: String,
    pub public_calls: i64,
    pub eligible_calls: i64,
    /// Point estimate, % of calls from the public (as `report sizing` prints it).
    pub eligible_pct: f64,
    pub eligible_low: i64,
    pub eligible_high: i64,
    /// `count` or `estimate`.
    pub basis: String,
    /// Top eligible categories: (category, eligible calls), most first.
    pub top_categories: Vec<(String, i64)>,
}

impl ScenarioShare {
    fn pct(&self, n: i64) -> f64 {
        if self.public_calls == 0 {
            0.0
        } else {
            (1000.0 * n as f64 / self.public_calls as f64).round() / 10.0
        }
    }
    /// Lower bound (every unknown caller a third party), % of calls from the public.
    pub fn low_pct(&self) -> f64 {
        self.pct(self.eligible_low)
    }
    /// Upper bound (every unknown caller a first party).
    pub fn high_pct(&self) -> f64 {
        self.pct(self.eligible_high)
    }
    /// `Behavioral Health 41.2%, …`: each category's share of this scenario's eligible calls.
    pub fn top_text(&self) -> String {
        let total = self.eligible_calls.max(1) as f64;
        self.top_categories
            .iter()
            .map(|(c, n)| format!("{c} {:.1}%", 100.0 * *n as f64 / total))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One warehouse's side of the comparison.
#[derive(Debug, Clone)]
pub struct City {
    pub name: String,
    pub dir: PathBuf,
    pub tags: Tags,
    pub first_day: Option<String>,
    pub last_day: Option<String>,
    pub calls: i64,
    pub public_calls: i64,
    /// `crosswalk`, `classifier`, `unmapped`: (calls, % of calls).
    pub sources: Vec<(String, i64, f64)>,
    pub scenarios: Vec<ScenarioShare>,
    /// The query results behind the numbers, for the public page.
    pub results: CityResults,
}

/// Raw public-query results of one warehouse (lineage kept for suppression).
#[derive(Debug, Clone)]
pub struct CityResults {
    pub summary: PublicResult,
    pub sizing: PublicResult,
    pub categories: PublicResult,
}

/// The comparison: one policy, the same scenarios, every warehouse.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub policy: String,
    pub policy_origin: PathBuf,
    /// True when no policy was given: the stored tags were read.
    pub from_tags: bool,
    pub scenarios: Vec<String>,
    /// The scenario whose top categories a summary shows (`broad` when compared, else the first).
    pub headline: String,
    pub cities: Vec<City>,
    /// Warnings worth printing (unmapped volume above the policy's threshold, …).
    pub notes: Vec<String>,
}

impl Comparison {
    pub fn city_share(&self, city: &City, scenario: &str) -> Option<ScenarioShare> {
        city.scenarios.iter().find(|s| s.scenario == scenario).cloned()
    }
}

/// A query result as text cells addressed by column name.
struct Rows {
    columns: Vec<String>,
    rows: Vec<Vec<Option<String>>>,
}

impl Rows {
    fn of(r: &PublicResult) -> Result<Rows> {
        Ok(Rows {
            columns: r.schema.fields().iter().map(|f| f.name().clone()).collect(),
            rows: report::rows_as_text(&r.batches)?,
        })
    }
    fn get(&self, row: usize, col: &str) -> Option<&str> {
        let j = self.columns.iter().position(|c| c == col)?;
        self.rows.get(row)?.get(j)?.as_deref()
    }
    fn i64(&self, row: usize, col: &str) -> i64 {
        self.get(row, col).and_then(|v| v.parse().ok()).unwrap_or(0)
    }
    fn f64(&self, row: usize, col: &str) -> f64 {
        self.get(row, col).and_then(|v| v.parse().ok()).unwrap_or(0.0)
    }
}

/// The display name of a warehouse: its source profiles (ingest order, `+`-joined), else its folder.
pub fn warehouse_name(dir: &Path, m: &Manifest) -> String {
    let mut profiles: Vec<&str> = Vec::new();
    for i in &m.ingests {
        if !i.profile.is_empty() && !profiles.contains(&i.profile.as_str()) {
            profiles.push(&i.profile);
        }
    }
    if profiles.is_empty() {
        folder_name(dir)
    } else {
        profiles.join("+")
    }
}

fn folder_name(dir: &Path) -> String {
    std::fs::canonicalize(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
        .unwrap_or_else(|| dir.display().to_string())
}

/// Names made unique: a repeated name gets its folder name appended.
fn unique_names(items: &[(PathBuf, Manifest)]) -> Vec<String> {
    let names: Vec<String> = items.iter().map(|(d, m)| warehouse_name(d, m)).collect();
    names
        .iter()
        .zip(items)
        .map(
            |(n, (d, _))| {
                if names.iter().filter(|x| *x == n).count() > 1 {
                    format!("{n} ({})", folder_name(d))
                } else {
                    n.clone()
                }
            },
        )
        .collect()
}

/// The policy and scenarios to compare under, without a `--policy`: the one every warehouse was
/// tagged with (same name and file hash), and scenarios tagged in every warehouse.
fn policy_from_tags(
    items: &[(PathBuf, Manifest)],
    names: &[String],
    spec: Option<&str>,
) -> Result<(Policy, Vec<Scenario>)> {
    let mut tags = Vec::new();
    for ((dir, m), name) in items.iter().zip(names) {
        let t = m.tag.as_ref().ok_or_else(|| {
            Error::Usage(format!(
                "warehouse {} ({name}) was never tagged: tag it (`callsift tag --warehouse {}`) or pass --policy NAME, \
                 which compare applies in memory without writing",
                dir.display(),
                dir.display()
            ))
        })?;
        tags.push(t);
    }
    let first = tags[0];
    if tags.iter().any(|t| t.policy_name != first.policy_name || t.policy_sha256 != first.policy_sha256) {
        let list: Vec<String> = names
            .iter()
            .zip(&tags)
            .map(|(n, t)| {
                format!("{n}: {} (sha256 {}…)", t.policy_name, &t.policy_sha256[..t.policy_sha256.len().min(12)])
            })
            .collect();
        return Err(Error::Usage(format!(
            "the warehouses were tagged with different policies ({}); pass --policy NAME to compare them under one \
             (compare tags the others in memory, without writing)",
            list.join("; ")
        )));
    }
    let policy = Policy::load(&first.policy).or_else(|_| Policy::load(&first.policy_name))?;
    let known: Vec<Scenario> = policy.scenarios.iter().cloned().chain(policy.all_combinations()).collect();
    let tagged_everywhere = |s: &str| tags.iter().all(|t| t.scenarios.iter().any(|x| x == s));
    let scenarios: Vec<Scenario> = match spec {
        Some(_) => {
            let wanted = policy.select(spec)?;
            if let Some(s) = wanted.iter().find(|s| !tagged_everywhere(&s.name)) {
                return Err(Error::Usage(format!(
                    "scenario `{}` is not tagged in every warehouse; pass --policy {} to tag it in memory",
                    s.name, policy.name
                )));
            }
            wanted
        }
        None => first
            .scenarios
            .iter()
            .filter(|s| tagged_everywhere(s))
            .filter_map(|n| known.iter().find(|s| &s.name == n).cloned())
            .collect(),
    };
    if scenarios.is_empty() {
        return Err(Error::Usage(format!(
            "no scenario of policy {} is tagged in every warehouse; pass --policy {} --scenarios LIST",
            policy.name, policy.name
        )));
    }
    Ok((policy, scenarios))
}

/// Can the stored tags of `m` answer for `policy` and `scenarios`? `Stored`, or why not.
fn tags_for(m: &Manifest, policy: &Policy, scenarios: &[Scenario]) -> Tags {
    let Some(t) = &m.tag else { return Tags::InMemory("never tagged".into()) };
    if t.policy_name != policy.name {
        return Tags::InMemory(format!("tagged with policy {}", t.policy_name));
    }
    if t.policy_sha256 != policy.sha256 {
        return Tags::InMemory(format!("tagged with another version of policy {}", t.policy_name));
    }
    let missing: Vec<&str> =
        scenarios.iter().map(|s| s.name.as_str()).filter(|s| !t.scenarios.iter().any(|x| x == s)).collect();
    if !missing.is_empty() {
        return Tags::InMemory(format!("scenarios {} not tagged", missing.join(", ")));
    }
    Tags::Stored
}

/// Run a public (lineage-checked, read-only) query, naming the warehouse when it fails.
async fn public(ctx: &SessionContext, sql: &str, what: &str, name: &str) -> Result<PublicResult> {
    privacy::public_query(ctx, sql).await.map_err(|e| match e {
        Error::DataFusion(d) => Error::Refused(format!("{name}: {what} failed: {d}")),
        Error::Refused(why) => Error::Refused(format!("{name}: {what}: {why}")),
        other => other,
    })
}

async fn report_sql(ctx: &SessionContext, name: &str) -> Result<String> {
    report::prepare(ctx, &ReportSql::load(name)?, &[]).await
}

/// Open one warehouse's session with `eligibility` as the comparison needs it, and run its queries.
async fn measure(
    wh: &Warehouse,
    name: &str,
    tags: &Tags,
    policy: &Policy,
    scenarios: &[Scenario],
) -> Result<CityResults> {
    let ctx = wh.session().await?;
    if matches!(tags, Tags::InMemory(_)) {
        // This session only: the stored table (if any) is shadowed, nothing is written.
        ctx.deregister_table("eligibility")?;
        crate::output::sql::register_view(&ctx, "eligibility", &policy::tag_sql(policy, scenarios, "calls")).await?;
    }
    let summary = public(&ctx, SUMMARY_SQL, "summary", name).await?;
    let sizing = public(&ctx, &report_sql(&ctx, "sizing").await?, "report sizing", name).await?;
    let categories =
        public(&ctx, &report_sql(&ctx, "sizing_by_category").await?, "report sizing_by_category", name).await?;
    Ok(CityResults { summary, sizing, categories })
}

/// Turn one warehouse's results into numbers, keeping the compared scenarios in policy order.
fn city(name: String, dir: &Path, tags: Tags, results: CityResults, scenarios: &[Scenario]) -> Result<City> {
    let s = Rows::of(&results.summary)?;
    let sources = ["crosswalk", "classifier", "unmapped"]
        .iter()
        .map(|k| (k.to_string(), s.i64(0, &format!("{k}_calls")), s.f64(0, &format!("{k}_pct"))))
        .collect();
    let z = Rows::of(&results.sizing)?;
    let c = Rows::of(&results.categories)?;
    let mut shares = Vec::new();
    for sc in scenarios {
        let Some(r) = (0..z.rows.len()).find(|&r| z.get(r, "scenario") == Some(sc.name.as_str())) else { continue };
        let top = (0..c.rows.len())
            .filter(|&i| c.get(i, "scenario") == Some(sc.name.as_str()) && c.i64(i, "eligible_calls") > 0)
            .take(TOP_CATEGORIES)
            .map(|i| (c.get(i, "category").unwrap_or_default().to_string(), c.i64(i, "eligible_calls")))
            .collect();
        shares.push(ScenarioShare {
            scenario: sc.name.clone(),
            public_calls: z.i64(r, "public_calls"),
            eligible_calls: z.i64(r, "eligible_calls"),
            eligible_pct: z.f64(r, "eligible_pct"),
            eligible_low: z.i64(r, "eligible_low"),
            eligible_high: z.i64(r, "eligible_high"),
            basis: z.get(r, "basis").unwrap_or_default().to_string(),
            top_categories: top,
        });
    }
    Ok(City {
        name,
        dir: dir.to_path_buf(),
        tags,
        first_day: s.get(0, "first_day").map(String::from),
        last_day: s.get(0, "last_day").map(String::from),
        calls: s.i64(0, "calls"),
        public_calls: shares.first().map(|x| x.public_calls).unwrap_or(0),
        sources,
        scenarios: shares,
        results,
    })
}

/// Compare warehouses under one policy. Reads only; see the module documentation.
pub async fn compare(dirs: &[PathBuf], opts: &CompareOptions) -> Result<Comparison> {
    if dirs.len() < 2 {
        return Err(Error::Usage("compare needs at least two warehouses (--warehouse A --warehouse B …)".into()));
    }
    let mut items = Vec::new();
    let mut opened = Vec::new();
    let mut seen = Vec::new();
    for d in dirs {
        let wh = Warehouse::open_existing(d).await?;
        let canon = std::fs::canonicalize(d).unwrap_or_else(|_| d.clone());
        if seen.contains(&canon) {
            return Err(Error::Usage(format!("warehouse {} is given twice", d.display())));
        }
        seen.push(canon);
        items.push((d.clone(), wh.manifest()?));
        opened.push(wh);
    }
    let names = unique_names(&items);
    let (policy, scenarios) = match &opts.policy {
        Some(p) => {
            let policy = Policy::load(p)?;
            let scenarios = policy.select(opts.scenarios.as_deref())?;
            (policy, scenarios)
        }
        None => policy_from_tags(&items, &names, opts.scenarios.as_deref())?,
    };
    policy.validate()?;
    let mut cities = Vec::new();
    let mut notes = Vec::new();
    // One snapshot per warehouse for the whole comparison.
    for (((dir, m), name), wh) in items.iter().zip(names).zip(&opened) {
        let tags = if opts.policy.is_some() { tags_for(m, &policy, &scenarios) } else { Tags::Stored };
        let results = measure(wh, &name, &tags, &policy, &scenarios).await?;
        let c = city(name, dir, tags, results, &scenarios)?;
        let unmapped = c.sources.iter().find(|s| s.0 == "unmapped").map(|s| s.2).unwrap_or(0.0);
        if unmapped > 100.0 * policy.max_unmapped_share {
            notes.push(format!(
                "{}: {unmapped:.1}% of calls are unmapped (policy {} allows {:.1}%); unmapped calls are never eligible, so its shares are low",
                c.name,
                policy.name,
                100.0 * policy.max_unmapped_share
            ));
        }
        cities.push(c);
    }
    let names: Vec<String> = scenarios.iter().map(|s| s.name.clone()).collect();
    let headline = names.iter().find(|s| *s == "broad").unwrap_or(&names[0]).clone();
    Ok(Comparison {
        policy: policy.name.clone(),
        policy_origin: policy.origin.clone(),
        from_tags: opts.policy.is_none(),
        scenarios: names,
        headline,
        cities,
        notes,
    })
}

fn strings(v: Vec<String>) -> ArrayRef {
    Arc::new(StringArray::from(v))
}
fn ints(v: Vec<i64>) -> ArrayRef {
    Arc::new(Int64Array::from(v))
}
fn floats(v: Vec<f64>) -> ArrayRef {
    Arc::new(Float64Array::from(v))
}
fn opt_strings(v: Vec<Option<String>>) -> ArrayRef {
    Arc::new(StringArray::from(v))
}

fn batch(cols: Vec<(&str, ArrayRef)>) -> Result<RecordBatch> {
    let fields: Vec<Field> = cols.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect();
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols.into_iter().map(|(_, a)| a).collect())?)
}

/// Every (scenario, warehouse) pair in output order: scenario (policy order), then warehouse
/// (command-line order), so that cities sit next to each other within a scenario.
fn pairs(c: &Comparison) -> Vec<(&City, ScenarioShare)> {
    c.scenarios
        .iter()
        .flat_map(|s| c.cities.iter().filter_map(move |city| c.city_share(city, s).map(|x| (city, x))))
        .collect()
}

fn tags_text(t: &Tags) -> String {
    match t {
        Tags::Stored => "stored".into(),
        Tags::InMemory(_) => "in_memory".into(),
    }
}

/// The whole comparison as one long table (CSV, JSON): one row per (scenario, warehouse) with the
/// warehouse's facts repeated, so that it filters and pivots without joins.
pub fn long_batch(c: &Comparison) -> Result<RecordBatch> {
    let p = pairs(c);
    let src = |k: &str| -> ArrayRef {
        floats(p.iter().map(|(city, _)| city.sources.iter().find(|s| s.0 == k).map(|s| s.2).unwrap_or(0.0)).collect())
    };
    batch(vec![
        ("scenario", strings(p.iter().map(|(_, s)| s.scenario.clone()).collect())),
        ("warehouse", strings(p.iter().map(|(city, _)| city.name.clone()).collect())),
        ("public_calls", ints(p.iter().map(|(_, s)| s.public_calls).collect())),
        ("eligible_calls", ints(p.iter().map(|(_, s)| s.eligible_calls).collect())),
        ("eligible_pct", floats(p.iter().map(|(_, s)| s.eligible_pct).collect())),
        ("low_pct", floats(p.iter().map(|(_, s)| s.low_pct()).collect())),
        ("high_pct", floats(p.iter().map(|(_, s)| s.high_pct()).collect())),
        ("eligible_low", ints(p.iter().map(|(_, s)| s.eligible_low).collect())),
        ("eligible_high", ints(p.iter().map(|(_, s)| s.eligible_high).collect())),
        ("basis", strings(p.iter().map(|(_, s)| s.basis.clone()).collect())),
        ("top_categories", strings(p.iter().map(|(_, s)| s.top_text()).collect())),
        ("first_day", opt_strings(p.iter().map(|(city, _)| city.first_day.clone()).collect())),
        ("last_day", opt_strings(p.iter().map(|(city, _)| city.last_day.clone()).collect())),
        ("calls", ints(p.iter().map(|(city, _)| city.calls).collect())),
        ("crosswalk_pct", src("crosswalk")),
        ("classifier_pct", src("classifier")),
        ("unmapped_pct", src("unmapped")),
        ("policy", strings(p.iter().map(|_| c.policy.clone()).collect())),
        ("tags", strings(p.iter().map(|(city, _)| tags_text(&city.tags)).collect())),
    ])
}

/// One row per warehouse: local dates, calls, calls from the public, % of calls by category source.
pub fn cities_batch(c: &Comparison) -> Result<RecordBatch> {
    let src = |k: &str| -> ArrayRef {
        floats(c.cities.iter().map(|city| city.sources.iter().find(|s| s.0 == k).map(|s| s.2).unwrap_or(0.0)).collect())
    };
    batch(vec![
        ("warehouse", strings(c.cities.iter().map(|x| x.name.clone()).collect())),
        ("first_day", opt_strings(c.cities.iter().map(|x| x.first_day.clone()).collect())),
        ("last_day", opt_strings(c.cities.iter().map(|x| x.last_day.clone()).collect())),
        ("calls", ints(c.cities.iter().map(|x| x.calls).collect())),
        ("public_calls", ints(c.cities.iter().map(|x| x.public_calls).collect())),
        ("crosswalk_pct", src("crosswalk")),
        ("classifier_pct", src("classifier")),
        ("unmapped_pct", src("unmapped")),
    ])
}

/// The top eligible categories of the headline scenario: one row per (warehouse, rank), with each
/// category's share of the scenario's eligible calls.
pub fn top_batch(c: &Comparison) -> Result<RecordBatch> {
    let mut rows: Vec<(String, i64, String, i64, f64)> = Vec::new();
    for city in &c.cities {
        let Some(s) = c.city_share(city, &c.headline) else { continue };
        for (k, (cat, n)) in s.top_categories.iter().enumerate() {
            let share = (1000.0 * *n as f64 / s.eligible_calls.max(1) as f64).round() / 10.0;
            rows.push((city.name.clone(), k as i64 + 1, cat.clone(), *n, share));
        }
    }
    batch(vec![
        ("warehouse", strings(rows.iter().map(|r| r.0.clone()).collect())),
        ("rank", ints(rows.iter().map(|r| r.1).collect())),
        ("category", strings(rows.iter().map(|r| r.2.clone()).collect())),
        ("eligible_calls", ints(rows.iter().map(|r| r.3).collect())),
        ("share_of_eligible_pct", floats(rows.iter().map(|r| r.4).collect())),
    ])
}

/// One row per (scenario, warehouse): the eligible share with its bounds.
pub fn shares_batch(c: &Comparison) -> Result<RecordBatch> {
    let b = long_batch(c)?;
    let keep =
        ["scenario", "warehouse", "public_calls", "eligible_calls", "eligible_pct", "low_pct", "high_pct", "basis"];
    let idx: Vec<usize> = keep.iter().map(|k| b.schema().index_of(k)).collect::<std::result::Result<_, _>>()?;
    Ok(b.project(&idx)?)
}

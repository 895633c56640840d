//! `callsift compare`: two cities' warehouses under one policy, through the real binary — the
//! shipped demo sample (tagged with `sample_program`) and a real Seattle sample ingested with
//! `--profile auto` and tagged with `standard`.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;

/// Warehouses built once per test binary; tests treat them as read-only.
struct Cities {
    _dir: TempDir,
    /// Real Seattle sample, tagged with `standard`.
    seattle: PathBuf,
    /// A copy of the demo warehouse, re-tagged with `standard`.
    demo_standard: PathBuf,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else if e.file_name() != ".lock" {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

fn ingest_seattle(wh: &Path) {
    let csv = fixture("real_cad/seattle/seattle_legacy_911_incident_response_2016-03.csv");
    let w = wh.display().to_string();
    callsift(&["ingest", "--profile", "auto", "--warehouse", &w, "--quiet", &csv.display().to_string()]).ok();
}

fn cities() -> &'static Cities {
    static C: std::sync::OnceLock<Cities> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        let t = TempDir::new();
        let seattle = t.join("seattle");
        ingest_seattle(&seattle);
        callsift(&["tag", "--warehouse", &seattle.display().to_string()]).ok();
        let demo_standard = t.join("demo_standard");
        copy_dir(&demo().warehouse(), &demo_standard);
        callsift(&["tag", "--policy", "standard", "--warehouse", &demo_standard.display().to_string()]).ok();
        Cities { _dir: t, seattle, demo_standard }
    })
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// CSV text as rows of column → value.
fn csv_rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records().map(|rec| header.iter().cloned().zip(rec.unwrap().iter().map(String::from)).collect()).collect()
}

/// `report sizing` of a warehouse: scenario → row.
fn sizing(wh: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let r = callsift(&["report", "sizing", "--warehouse", &s(wh), "--format", "csv"]).ok();
    csv_rows(&r.stdout).into_iter().map(|row| (row["scenario"].clone(), row)).collect()
}

/// Every compare row of `warehouse` agrees with that warehouse's `report sizing`.
#[track_caller]
fn assert_matches_sizing(rows: &[BTreeMap<String, String>], warehouse: &str, sized_on: &Path) {
    let want = sizing(sized_on);
    let mine: Vec<&BTreeMap<String, String>> = rows.iter().filter(|r| r["warehouse"] == warehouse).collect();
    assert_eq!(mine.len(), 5, "{warehouse}: one row per scenario of the standard policy: {rows:?}");
    for r in mine {
        let w = &want[&r["scenario"]];
        for (mine, theirs) in [
            ("public_calls", "public_calls"),
            ("eligible_calls", "eligible_calls"),
            ("eligible_pct", "eligible_pct"),
            ("eligible_low", "eligible_low"),
            ("eligible_high", "eligible_high"),
            ("basis", "basis"),
        ] {
            assert_eq!(r[mine], w[theirs], "{warehouse} {} {mine}", r["scenario"]);
        }
        let public: f64 = w["public_calls"].parse().unwrap();
        let low: f64 = w["eligible_low"].parse().unwrap();
        assert_eq!(r["low_pct"].parse::<f64>().unwrap(), (1000.0 * low / public).round() / 10.0);
    }
}

#[test]
fn compare_two_cities_tagged_alike_matches_report_sizing() {
    let c = cities();
    let args = ["compare", "--warehouse", &s(&c.demo_standard), "--warehouse", &s(&c.seattle)];
    let r = callsift(&args).ok();
    for needle in ["callsift_sample", "seattle_legacy_911", "policy standard", "the policy they were all tagged with"] {
        assert!(r.stdout.contains(needle), "missing `{needle}`:\n{}", r.stdout);
    }
    assert!(
        r.stdout.contains("2016-03-25") && r.stdout.contains("Top eligible categories, scenario broad"),
        "{}",
        r.stdout
    );
    let csv = callsift(&[&args[..], &["--format", "csv"]].concat()).ok().stdout;
    let rows = csv_rows(&csv);
    assert_eq!(rows.len(), 10, "{csv}");
    assert!(rows.iter().all(|r| r["tags"] == "stored" && r["policy"] == "standard"));
    assert_matches_sizing(&rows, "callsift_sample", &c.demo_standard);
    assert_matches_sizing(&rows, "seattle_legacy_911", &c.seattle);
    // Scenario-major order: the cities sit next to each other within a scenario.
    assert_eq!(rows[0]["scenario"], rows[1]["scenario"]);
    assert_ne!(rows[0]["warehouse"], rows[1]["warehouse"]);
}

#[test]
fn compare_refuses_different_tagged_policies_without_policy() {
    let c = cities();
    let r = callsift(&["compare", "--warehouse", &demo().wh(), "--warehouse", &s(&c.seattle)]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("different policies")
            && r.stderr.contains("sample_program")
            && r.stderr.contains("standard")
            && r.stderr.contains("--policy"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

/// Every file of a warehouse with its size and contents.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p.clone());
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), Vec::new());
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn compare_with_policy_tags_in_memory_and_writes_nothing() {
    let c = cities();
    let t = TempDir::new();
    let untagged = t.join("seattle_untagged");
    ingest_seattle(&untagged);
    let (demo_before, untagged_before) = (snapshot(&demo().warehouse()), snapshot(&untagged));

    // Never tagged and no policy: refused, naming the way out.
    let r = callsift(&["compare", "--warehouse", &s(&untagged), "--warehouse", &s(&c.seattle)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("never tagged") && r.stderr.contains("--policy"), "{}", r.stderr);

    // The demo is tagged with sample_program, the copy of Seattle never: both tagged in memory.
    let args = [
        "compare",
        "--policy",
        "standard",
        "--warehouse",
        &demo().wh(),
        "--warehouse",
        &s(&untagged),
        "--format",
        "csv",
    ];
    let rows = csv_rows(&callsift(&args).ok().stdout);
    assert!(rows.iter().all(|r| r["tags"] == "in_memory"), "{rows:?}");
    // In-memory tagging gives what `tag --policy standard` stores.
    assert_matches_sizing(&rows, "callsift_sample", &c.demo_standard);
    assert_matches_sizing(&rows, "seattle_legacy_911", &c.seattle);
    let table = callsift(&args[..args.len() - 2]).ok().stdout;
    assert!(
        table.contains("tagged in memory, nothing written (tagged with policy sample_program)")
            && table.contains("tagged in memory, nothing written (never tagged)"),
        "{table}"
    );

    assert!(snapshot(&demo().warehouse()) == demo_before, "compare wrote to the demo warehouse");
    assert!(snapshot(&untagged) == untagged_before, "compare wrote to the untagged warehouse");
    assert!(manifest(&untagged)["tag"].is_null());
}

#[test]
fn compare_json_format_and_same_names_disambiguated() {
    let c = cities();
    let t = TempDir::new();
    let other = t.join("seattle_again");
    copy_dir(&c.seattle, &other);
    let r = callsift(&[
        "compare",
        "--warehouse",
        &s(&c.seattle),
        "--warehouse",
        &s(&other),
        "--format",
        "json",
        "--scenarios",
        "broad,narrowest",
    ])
    .ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 4, "{}", r.stdout);
    let names: Vec<&str> = rows.iter().map(|r| r["warehouse"].as_str().unwrap()).collect();
    assert!(names.contains(&"seattle_legacy_911 (seattle)") && names.contains(&"seattle_legacy_911 (seattle_again)"));
    assert_eq!(rows[0]["scenario"], "broad");
    assert!(rows[0]["eligible_pct"].is_number() && rows[0]["public_calls"] == 706, "{}", rows[0]);
    assert_eq!(rows[0]["eligible_pct"], rows[1]["eligible_pct"]);
    assert!(rows[0]["top_categories"].as_str().unwrap().contains('%'));
    assert_eq!(rows[0]["first_day"], "2016-03-25");

    let e = callsift(&["compare", "--warehouse", &s(&c.seattle), "--warehouse", &s(&c.seattle)]);
    assert!(e.code == 2 && e.stderr.contains("given twice"), "{}", e.stderr);
}

#[test]
fn compare_dashboard_is_suppressed_and_renders_in_headless_chromium() {
    let c = cities();
    let t = TempDir::new();
    let page = t.join("compare.html");
    let r = callsift(&[
        "compare",
        "--policy",
        "standard",
        "--warehouse",
        &demo().wh(),
        "--warehouse",
        &s(&c.seattle),
        "--html",
        &s(&page),
    ])
    .ok();
    let line = r.stdout.lines().last().unwrap();
    let n: usize = regex::Regex::new(r"3 panels, (\d+) cells suppressed below 11").unwrap().captures(line).unwrap()[1]
        .parse()
        .unwrap();
    assert!(n > 0, "{line}");
    let html = std::fs::read_to_string(&page).unwrap();
    for needle in ["<script src", "<link ", "@import", "fonts.googleapis"] {
        assert!(!html.contains(needle), "page references `{needle}`");
    }
    for needle in
        ["callsift_sample", "seattle_legacy_911", "are shown as “&lt;11”", "(suppressed)", "policy = standard"]
    {
        assert!(html.contains(needle), "page lacks `{needle}`");
    }
    let keep = crate::dashboard::artefact_dir().join("compare.html");
    std::fs::copy(&page, &keep).unwrap();
    let Some(bin) = crate::dashboard::find_chromium() else {
        if std::env::var("CALLSIFT_SKIP_BROWSER").as_deref() == Ok("1") {
            eprintln!("SKIPPED the browser check: chromium is not installed and CALLSIFT_SKIP_BROWSER=1");
            return;
        }
        panic!("chromium is not installed (`.ci/install-browser`), or set CALLSIFT_SKIP_BROWSER=1");
    };
    let dom = crate::dashboard::chromium(&bin, &keep, &["--dump-dom".to_string()]);
    crate::dashboard::check_dom("compare", &dom, 1).unwrap_or_else(|e| panic!("{e}"));
}

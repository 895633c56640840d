//! Issue 9's "done when" on real current-layout exports: Seattle PD "Call Data" (33kz-ixgy) portal
//! CSVs found in a public repository (tests/fixtures/real_cad/SOURCES.md) ingest with
//! `--profile auto`, every row is accounted for, ≤ 2 % of calls are unmapped, `tag` succeeds
//! without `--allow-unmapped`, and the classifier's categories are pinned against the crosswalk.
//! No real New Orleans 2022 export was found (docs/validity.md §9), so there is no test for it.
use crate::common::*;
use std::collections::HashMap;

const SEATTLE_2010: &str = "real_cad/seattle_call_data/spd_call_data_sector_c_2010-2023_dennyblaine.csv";
const SEATTLE_2018: &str = "real_cad/seattle_call_data/spd_call_data_sector_c_2018-2023_dennyblaine.csv";

/// Ingest with `--profile auto`; return the temp dir (warehouse at `wh`) and the ingest record.
fn ingest_auto(rel: &str) -> (TempDir, serde_json::Value) {
    let tmp = TempDir::new();
    let file = fixture(rel);
    let run = callsift(&["ingest", "--profile", "auto", "--warehouse", &tmp.s("wh"), &file.display().to_string()]).ok();
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(said.contains("detected profile seattle_call_data"), "{said}");
    let ing = manifest(&tmp.join("wh"))["ingests"][0].clone();
    assert_eq!(ing["profile"], "seattle_call_data");
    (tmp, ing)
}

fn n(v: &serde_json::Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("no `{key}` in {v}"))
}

/// `(rows_read, calls_kept, rows_rejected, unit_rows_merged, non_calls_dropped)`, and the identity.
fn counts(ing: &serde_json::Value) -> (u64, u64, u64, u64, u64) {
    let c = (
        n(ing, "rows_read"),
        n(ing, "calls_kept"),
        n(ing, "rows_rejected"),
        n(ing, "unit_rows_merged"),
        n(ing, "non_calls_dropped"),
    );
    assert_eq!(c.0, c.1 + c.2 + c.3 + c.4, "every row accounted for: {ing}");
    c
}

/// `(crosswalk, classifier, unmapped)` calls.
fn by_source(ing: &serde_json::Value) -> (u64, u64, u64) {
    let s = &ing["calls_by_category_source"];
    (n(s, "crosswalk"), n(s, "classifier"), n(s, "unmapped"))
}

/// `tag` without `--allow-unmapped` must succeed; returns its stderr summary.
fn tag(tmp: &TempDir) -> String {
    let run = callsift(&["tag", "--warehouse", &tmp.s("wh"), "--scenarios", "all"]).ok();
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(said.contains("tagged"), "{said}");
    said
}

fn sizing(tmp: &TempDir) -> HashMap<String, (u64, f64)> {
    let out = callsift(&["report", "sizing", "--warehouse", &tmp.s("wh"), "--format", "csv"]).ok().stdout;
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    let h = rdr.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (scenario, public, pct) = (col("scenario"), col("public_calls"), col("eligible_pct"));
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            (r[scenario].to_string(), (r[public].parse().unwrap(), r[pct].parse().unwrap()))
        })
        .collect()
}

#[test]
fn seattle_call_data_2010_2023_ingests_and_tags() {
    let (tmp, ing) = ingest_auto(SEATTLE_2010);
    assert_eq!(counts(&ing), (275, 275, 0, 0, 0));
    // Held out (rules c0a83021…, crosswalk before commit 97045ee) this file was 201 / 68 / 6 and
    // `tag` refused at 2.18 %; the five real spellings added to the crosswalk make it 207 / 68 / 0.
    assert_eq!(by_source(&ing), (207, 68, 0));
    assert!(ing["unmapped_types"].as_array().unwrap().is_empty(), "{}", ing["unmapped_types"]);
    let summary = tag(&tmp);
    assert!(summary.contains("0.00% of calls unmapped"), "{summary}");
    // Every time parsed; 66 blank Arrived Time cells stay null; 51 ONVIEW calls are officer-initiated.
    let out = sql_csv(
        &tmp.join("wh"),
        "SELECT count(received_at) AS r, count(arrived_at) AS a, count(priority) AS p, \
         count(*) FILTER (WHERE self_initiated) AS si FROM calls",
    );
    assert_eq!(out.lines().nth(1), Some("275,209,275,51"), "{out}");
    // 08/14/2023 08:38:19 PM PDT = 2023-08-15 03:38:19 UTC.
    let out = sql_csv(&tmp.join("wh"), "SELECT received_at FROM calls WHERE call_id = '2023000233550'");
    assert!(out.contains("2023-08-15T03:38:19"), "{out}");
    let s = sizing(&tmp);
    assert_eq!(s["broad"], (224, 11.6), "{s:?}");
}

#[test]
fn seattle_call_data_2018_2023_ingests_and_tags() {
    let (tmp, ing) = ingest_auto(SEATTLE_2018);
    // CRLF line ends, unpadded hours (`6:08:26 PM`), no newline after the last record.
    assert_eq!(counts(&ing), (222, 222, 0, 0, 0));
    // Held out: 100 / 118 / 4 (1.80 %, tag already succeeded); now 104 / 118 / 0.
    assert_eq!(by_source(&ing), (104, 118, 0));
    let summary = tag(&tmp);
    assert!(summary.contains("0.00% of calls unmapped"), "{summary}");
    let out = sql_csv(
        &tmp.join("wh"),
        "SELECT count(received_at) AS r, count(arrived_at) AS a, count(*) FILTER (WHERE self_initiated) AS si \
         FROM calls",
    );
    assert_eq!(out.lines().nth(1), Some("222,186,13"), "{out}");
    // 11/04/2023 6:08:26 PM is still PDT (DST ended 11/05) = 2023-11-05 01:08:26 UTC.
    let out = sql_csv(&tmp.join("wh"), "SELECT received_at FROM calls WHERE call_id = '2023000319821'");
    assert!(out.contains("2023-11-05T01:08:26"), "{out}");
    let s = sizing(&tmp);
    assert_eq!(s["broad"], (209, 24.4), "{s:?}");
}

fn crosswalk_key(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase()
}

/// Classifier category (via `crosswalk suggest --types`, the classifier alone) vs the profile's
/// crosswalk label, weighted by rows of the real file, over rows whose initial type the crosswalk
/// lists: `(agree, agree with Traffic ≡ Accidents/Traffic Safety and Violent Crime ≡ Other Crimes,
/// labelled rows)`.
fn classifier_vs_crosswalk(rel: &str) -> (u64, u64, u64) {
    let mut rdr = csv::Reader::from_path(fixture(rel)).unwrap();
    let col = rdr.headers().unwrap().iter().position(|h| h == "Initial Call Type").unwrap();
    let mut rows: HashMap<String, u64> = HashMap::new();
    for r in rdr.records() {
        *rows.entry(r.unwrap()[col].to_string()).or_default() += 1;
    }
    let mut xw = csv::Reader::from_path(root().join("profiles/seattle_call_data.crosswalk.csv")).unwrap();
    let labels: HashMap<String, String> =
        xw.records().map(|r| r.unwrap()).map(|r| (crosswalk_key(&r[0]), r[1].to_string())).collect();
    let tmp = TempDir::new();
    let mut types = csv::Writer::from_path(tmp.join("types.csv")).unwrap();
    types.write_record(["raw_type", "count"]).unwrap();
    for (t, c) in &rows {
        types.write_record([t.as_str(), &c.to_string()]).unwrap();
    }
    types.flush().unwrap();
    callsift(&["crosswalk", "suggest", "--types", &tmp.s("types.csv"), "--out", &tmp.s("draft.csv")]).ok();
    let mut draft = csv::Reader::from_path(tmp.join("draft.csv")).unwrap();
    let h = draft.headers().unwrap().clone();
    let (raw, cat) = (h.iter().position(|c| c == "raw_type").unwrap(), h.iter().position(|c| c == "category").unwrap());
    let classified: HashMap<String, String> =
        draft.records().map(|r| r.unwrap()).map(|r| (r[raw].to_string(), r[cat].to_string())).collect();
    let fold = |c: &str| match c {
        "Traffic" => "Accidents/Traffic Safety".to_string(),
        "Violent Crime" => "Other Crimes".to_string(),
        c => c.to_string(),
    };
    let (mut agree, mut agree_folded, mut labelled) = (0, 0, 0);
    for (t, c) in &rows {
        let Some(label) = labels.get(&crosswalk_key(t)) else { continue };
        labelled += c;
        let got = classified.get(t).map(String::as_str).unwrap_or("");
        if got == label {
            agree += c;
        }
        if fold(got) == fold(label) {
            agree_folded += c;
        }
    }
    (agree, agree_folded, labelled)
}

/// No person outside this project has labelled Seattle's call types, so the only labels are the
/// crosswalk's (written by earlier engineers; the classifier was tuned with those rows, so this is
/// in-sample for the labels, out-of-sample only for the real row weights). Measured 2026-12-03,
/// rules c0a83021…, crosswalk as of 97045ee: 2010–2023 117/207 = 56.5 % exact, 198/207 = 95.7 %
/// folded; 2018–2023 74/104 = 71.2 % exact, 98/104 = 94.2 % folded. Floors sit a little below.
#[test]
fn seattle_call_data_classifier_agrees_with_crosswalk_up_to_conventions() {
    for (rel, exact_floor, folded_floor) in [(SEATTLE_2010, 0.55, 0.94), (SEATTLE_2018, 0.70, 0.92)] {
        let (agree, folded, labelled) = classifier_vs_crosswalk(rel);
        assert!(labelled > 100, "{rel}: {labelled} labelled rows");
        eprintln!("{rel}: exact {agree}/{labelled}, folded {folded}/{labelled}");
        let (exact, folded) = (agree as f64 / labelled as f64, folded as f64 / labelled as f64);
        assert!(exact >= exact_floor, "{rel}: exact {agree}/{labelled} = {exact:.3}");
        assert!(folded >= folded_floor, "{rel}: folded {folded:.3} of {labelled}");
    }
}

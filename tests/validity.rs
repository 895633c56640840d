//! Validity: the classifier measured against human labels (Vera Institute / Two Sigma Data Clinic
//! call-type crosswalk, MIT, `tests/fixtures/vera/`), and the sensitivity analysis on the demo.
use std::collections::BTreeMap;

use callsift::source::classify::Classifier;

use crate::common::*;

/// Per labelled set: (volume, categorised volume, labelled volume, agreeing volume).
fn score(rules: &Classifier) -> BTreeMap<String, [u64; 4]> {
    let text = std::fs::read_to_string(fixture("vera/labels.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut by_city: BTreeMap<String, [u64; 4]> = BTreeMap::new();
    for r in rdr.records() {
        let r = r.unwrap();
        // The Call (911) Problem column is what Dallas's CAD exports carry; the offence columns are not call types.
        if r[0].contains("UCR Offense") || r[0].contains("Type of Incident") {
            continue;
        }
        let (city, raw, n, label) = (&r[1], &r[2], r[3].parse::<u64>().unwrap(), &r[4]);
        let got = rules.classify(raw);
        let s = by_city.entry(city.to_string()).or_default();
        s[0] += n;
        if got.is_some() {
            s[1] += n;
        }
        if !label.is_empty() {
            s[2] += n;
            if got.as_ref().map(|c| c.category) == Some(label) {
                s[3] += n;
            }
        }
    }
    by_city
}

fn pct(a: u64, b: u64) -> f64 {
    (1000.0 * a as f64 / b as f64).round() / 10.0
}

#[test]
fn classifier_on_a_city_it_never_saw() {
    // Rules frozen before any Detroit label was read (leave-one-city-out), scored on Detroit.
    let path = fixture("vera/classifier_rules_v1_held_out_detroit.csv");
    let frozen = Classifier::parse(&path, &std::fs::read_to_string(&path).unwrap()).unwrap();
    let s = score(&frozen)["Detroit"];
    // Measured: 85.0 % of labelled volume in the person's category; 90.9 % of all volume categorised
    // (short of the 90 % / 98 % targets — the note and docs/validity.md say so).
    assert_eq!((pct(s[3], s[2]), pct(s[1], s[0])), (85.0, 90.9));
}

#[test]
fn shipped_classifier_against_human_labels() {
    let shipped = Classifier::load_default().unwrap();
    let s = score(&shipped);
    let fig = |c: &str| (pct(s[c][3], s[c][2]), pct(s[c][1], s[c][0]));
    // In-sample for all three cities: the shipped rules were written and tuned after reading every
    // Vera label (Detroit's included). (agreement with the person's category, share categorised)
    assert_eq!(fig("New Orleans"), (97.4, 100.0));
    assert_eq!(fig("Dallas"), (99.0, 99.9));
    assert_eq!(fig("Detroit"), (92.3, 99.6));
}

#[test]
fn sensitivity_on_the_demo() {
    let d = demo();
    let r = callsift(&["sensitivity", "--warehouse", &d.wh(), "--format", "csv"]).ok();
    let mut rdr = csv::Reader::from_reader(r.stdout.as_bytes());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        ["scenario", "assumption", "public_calls", "base_pct", "low", "low_pct", "high", "high_pct", "range_pct"]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let get = |sc: &str, a: &str| -> [f64; 3] {
        let r = rows.iter().find(|r| &r[0] == sc && &r[1] == a).unwrap_or_else(|| panic!("{sc} {a}"));
        [r[3].parse().unwrap(), r[5].parse().unwrap(), r[7].parse().unwrap()]
    };
    // 9 tagged scenarios × (4 assumptions in policies/sensitivity.toml + unmapped calls).
    assert_eq!(rows.len(), 9 * 5);
    // The base share is the sizing report's.
    assert_eq!(get("broad", "third_party_likelihood")[0], 43.8);
    assert_eq!(get("narrowest", "third_party_likelihood")[0], 2.4);
    // Who called only matters where a scenario limits third-party callers.
    assert_eq!(get("broad", "third_party_likelihood"), [43.8, 43.8, 43.8]);
    let [base, low, high] = get("no_third_party", "third_party_likelihood");
    assert!(low < base && base < high, "{low} {base} {high}");
    // A stricter priority cut-off removes calls; no priority screen adds some.
    let [base, low, high] = get("broad", "priority_cutoff");
    assert!(low < base && base <= high, "{low} {base} {high}");
    // Unmapped calls counted at the mapped rate can only raise the share.
    let [base, low, high] = get("broad", "unmapped_calls");
    assert!(low == base && high >= base, "{low} {base} {high}");
    insta::assert_snapshot!("demo_sensitivity_csv", r.stdout);
}

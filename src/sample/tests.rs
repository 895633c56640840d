//! Tests of the generator as a whole: shape, determinism, crosswalk agreement.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDateTime, Timelike};

use super::call_types::table;
use super::*;

const FMT: &str = "%m/%d/%Y %I:%M:%S %p";

fn gen(rows: usize, seed: u64) -> (Vec<u8>, SampleStats) {
    let spec = SampleSpec { rows, seed, ..SampleSpec::default() };
    let mut buf = Vec::new();
    let stats = write_sample(&spec, &mut buf).unwrap();
    (buf, stats)
}

fn records(buf: &[u8]) -> Vec<csv::StringRecord> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(buf)
        .records()
        .collect::<Result<_, _>>()
        .expect("output parses as CSV")
}

fn is_malformed(r: &csv::StringRecord) -> bool {
    r.len() != 15
        || r[0].is_empty()
        || !matches!(r[9].trim(), "1" | "2" | "3" | "4")
        || NaiveDateTime::parse_from_str(&r[2], FMT).is_err()
}

#[test]
fn deterministic_and_seed_sensitive() {
    let (a, sa) = gen(5_000, 7);
    let (b, sb) = gen(5_000, 7);
    let (c, _) = gen(5_000, 8);
    assert_eq!(a, b);
    assert_eq!(sa, sb);
    assert_ne!(a, c);
}

#[test]
fn exact_row_count_and_header() {
    for rows in [0, 1, 2, 17, 999, 12_345] {
        let (buf, stats) = gen(rows, 3);
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(&buf[..]);
        assert_eq!(rdr.headers().unwrap().iter().collect::<Vec<_>>(), HEADER.to_vec());
        assert_eq!(rdr.records().count(), rows, "rows={rows}");
        assert_eq!(stats.rows, rows);
        assert_eq!(stats.rows, stats.incidents + stats.unit_rows + stats.malformed);
    }
    let (buf, _) = gen(10, 1);
    assert!(buf.starts_with(b"incident_number,unit_id,call_received,dispatched,on_scene,cleared,call_source,initial_type,final_type,priority,disposition,district,beat,block_address,narrative\n"));
}

#[test]
fn default_spec_shape() {
    let spec = SampleSpec::default();
    let mut buf = Vec::new();
    let stats = write_sample(&spec, &mut buf).unwrap();
    let recs = records(&buf);
    assert_eq!(recs.len(), 50_000);
    assert_eq!(stats.rows, 50_000);

    // Malformed rows: detected == reported, 0.3-0.8 %.
    let detected = recs.iter().filter(|r| is_malformed(r)).count();
    assert_eq!(detected, stats.malformed);
    let share = stats.malformed as f64 / stats.rows as f64;
    assert!((0.003..=0.008).contains(&share), "malformed share {share}");

    // Every well-formed row's timestamps parse.
    let good: Vec<&csv::StringRecord> = recs.iter().filter(|r| !is_malformed(r)).collect();
    for r in &good {
        for f in 2..6 {
            if !r[f].is_empty() {
                NaiveDateTime::parse_from_str(&r[f], FMT).unwrap_or_else(|e| panic!("{:?} field {f}: {e}", &r[f]));
            }
        }
    }

    // Incidents, unit rows, ONVIEW share.
    let mut first_pos: HashMap<&str, usize> = HashMap::new();
    let mut onview = 0;
    let mut non_adjacent_repeat = false;
    for (i, r) in good.iter().enumerate() {
        match first_pos.get(&r[0]) {
            None => {
                first_pos.insert(&r[0], i);
                onview += (&r[6] == "ONVIEW") as usize;
            }
            Some(&p) => non_adjacent_repeat |= i > p + 1,
        }
    }
    assert_eq!(first_pos.len(), stats.incidents);
    assert_eq!(good.len() - first_pos.len(), stats.unit_rows);
    assert!(stats.unit_rows > 0 && non_adjacent_repeat);
    assert_eq!(onview, stats.officer_initiated);
    let on_share = onview as f64 / stats.incidents as f64;
    assert!((0.35..=0.45).contains(&on_share), "onview share {on_share}");

    // Leading-zero incident numbers.
    assert!(good.iter().any(|r| r[0].starts_with("24-000")));

    // Community responder units: only D1/D3, after launch (2024-06-01 09:00), 09:00-01:00.
    let launch = NaiveDate::from_ymd_opt(2024, 6, 1).unwrap().and_hms_opt(9, 0, 0).unwrap();
    let mut cr_incidents = HashSet::new();
    for r in &good {
        if r[1].starts_with("CR") {
            assert!(&r[11] == "D1" || &r[11] == "D3", "CR in {}", &r[11]);
            let t = NaiveDateTime::parse_from_str(&r[2], FMT).unwrap();
            assert!(t >= launch, "CR before launch: {t}");
            assert!(t.hour() >= 9 || t.hour() < 1, "CR out of hours: {t}");
            cr_incidents.insert(r[0].to_string());
        }
    }
    assert_eq!(cr_incidents.len(), stats.community_responder_incidents);
    assert!(stats.community_responder_incidents > 100);

    // Quoted newlines and commas survive.
    assert!(good.iter().any(|r| r[14].contains('\n')));
    assert!(good.iter().any(|r| r[14].contains('"')));
    // Some unknown and variant type texts.
    assert!(good.iter().any(|r| &r[7] == "SPECIAL DETAIL" || &r[7] == "ATL BROADCAST"));
    assert!(good
        .iter()
        .any(|r| r[7].ends_with(' ') || r[7].contains("  ") || r[7].chars().any(|c| c.is_ascii_lowercase())));
    // final != initial on a share of public incidents.
    let public: Vec<_> = good.iter().filter(|r| &r[6] != "ONVIEW").collect();
    let changed = public.iter().filter(|r| norm(&r[7]) != norm(&r[8])).count() as f64 / public.len() as f64;
    assert!((0.10..=0.20).contains(&changed), "reclassified share {changed}");
}

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase()
}

#[test]
fn rows_sorted_by_received() {
    let (buf, _) = gen(20_000, 11);
    let recs = records(&buf);
    let mut seen = HashSet::new();
    let mut last = None;
    for r in recs.iter().filter(|r| !is_malformed(r)) {
        let t = NaiveDateTime::parse_from_str(&r[2], FMT).unwrap();
        if seen.insert(r[0].to_string()) {
            // First rows of incidents are in call_received order.
            assert!(last.is_none_or(|l| l <= t), "{:?} after {:?}", t, last);
            last = Some(t);
        } else {
            // Later unit rows come after their incident's first row.
            assert!(last.is_some_and(|l| t <= l));
        }
    }
}

#[test]
fn crosswalk_covers_emitted_types() {
    let (buf, _) = gen(50_000, 5);
    let known: HashSet<String> =
        table().unwrap().crosswalk_csv().lines().skip(1).map(|l| l.split(',').next().unwrap().to_string()).collect();
    let unknown: HashSet<&str> =
        table().unwrap().types.iter().filter(|t| t.unmapped()).map(|t| t.name.as_str()).collect();
    let mut unmapped = 0;
    let recs = records(&buf);
    for r in recs.iter().filter(|r| !is_malformed(r)) {
        for f in [7, 8] {
            let n = norm(&r[f]);
            if !known.contains(&n) {
                assert!(unknown.contains(n.as_str()), "unexpected type {n}");
                if f == 7 {
                    unmapped += 1;
                }
            }
        }
    }
    let share = unmapped as f64 / recs.len() as f64;
    assert!((0.003..=0.012).contains(&share), "unmapped share {share}");
}

/// `CALLSIFT_CROSSWALK_OUT=path cargo test -- --ignored write_crosswalk`
#[test]
#[ignore]
fn write_crosswalk() {
    let path = std::env::var("CALLSIFT_CROSSWALK_OUT").expect("set CALLSIFT_CROSSWALK_OUT");
    std::fs::write(path, table().unwrap().crosswalk_csv()).unwrap();
}

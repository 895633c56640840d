//! Tests of the generator as a whole: shape, determinism, pinned output, crosswalk agreement.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{NaiveDateTime, Timelike};

use super::call_types::{table, B, C, I, M, P, V, W};
use super::*;
use crate::source::crosswalk::Crosswalk;
use crate::warehouse::schema::Flag;

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

/// The generated crosswalk, parsed by the crosswalk loader users get.
fn crosswalk() -> Crosswalk {
    Crosswalk::parse(Path::new("generated.crosswalk.csv"), table().unwrap().crosswalk_csv().as_bytes())
        .expect("the generated crosswalk parses")
}

#[test]
fn crosswalk_covers_emitted_types() {
    let (buf, _) = gen(50_000, 5);
    let cw = crosswalk();
    let unknown: HashSet<&str> =
        table().unwrap().types.iter().filter(|t| t.unmapped()).map(|t| t.name.as_str()).collect();
    let mut unmapped = 0;
    let recs = records(&buf);
    for r in recs.iter().filter(|r| !is_malformed(r)) {
        for f in [7, 8] {
            // `get` matches case and spacing variants as a user's run would.
            if cw.get(&r[f]).is_none() {
                let n = norm(&r[f]);
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

/// The table and the shipped crosswalk (profiles/callsift_sample.crosswalk.csv, the owner of the
/// sample's categories and flags) agree on every type: which are mapped, their category, the flags the
/// table carries and the third-party likelihood. The two flags only the crosswalk carries
/// (`imminent_danger`, `insufficient_info`) are set there.
#[test]
fn write_crosswalk() {
    let t = table().unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/callsift_sample.crosswalk.csv");
    let shipped = Crosswalk::load(&shipped).expect("the shipped crosswalk parses");
    let flags = [(W, Flag::Weapon), (V, Flag::Violence), (M, Flag::Medical), (I, Flag::InProgress)];
    let flags = flags.into_iter().chain([(B, Flag::BhNexus), (C, Flag::Conflict), (P, Flag::PoliceType)]);
    let flags: Vec<(u8, Flag)> = flags.collect();
    for ty in &t.types {
        let Some(e) = shipped.get(&ty.name) else {
            assert!(ty.unmapped(), "{} missing from the shipped crosswalk", ty.name);
            continue;
        };
        assert!(!ty.unmapped(), "{} is meant to be unmapped", ty.name);
        assert_eq!(e.category, ty.category, "{}", ty.name);
        for &(bit, flag) in &flags {
            assert_eq!(e.flags[flag as usize], ty.has(bit), "{} {}", ty.name, flag.name());
        }
        let third = (!ty.third.is_empty()).then(|| ty.third.parse::<f64>().unwrap());
        assert_eq!(e.third_party_p, third, "{}", ty.name);
    }
    assert_eq!(shipped.len(), t.types.len() - t.unknown.len());
    assert!(shipped.get("SUICIDAL PERSON").unwrap().flags[Flag::ImminentDanger as usize]);
    assert!(shipped.get("911 HANG UP").unwrap().flags[Flag::InsufficientInfo as usize]);
    // The crosswalk the table would write parses and covers the same types.
    assert_eq!(crosswalk().len(), shipped.len());
}

/// Pins the generator's output: any change to the table, the PRNG or the order of draws fails here.
/// If the change is intended, regenerate sample_data/ (see its README) and update these pins.
#[test]
fn pinned_output() {
    let (buf, stats) = gen(3_000, 42);
    assert_eq!(crate::warehouse::sha256_hex(&buf), "0a51c7758357ebe4d7a847e4fa7ebfc943a25471a0315219eed6ec845ecc2ad2");
    assert_eq!((stats.incidents, stats.unit_rows, stats.malformed), (2_174, 811, 15));
    let text = String::from_utf8(buf).unwrap();
    let lines: Vec<&str> = text.lines().skip(1).take(3).collect();
    assert_eq!(
        lines,
        [
            "24-0000001,1C39,01/01/2024 01:47:57 AM,01/01/2024 02:32:50 AM,01/01/2024 02:38:24 AM,\
             01/01/2024 03:13:21 AM,911,DISTURBANCE,NEIGHBOR DISPUTE, 3,GONE ON ARRIVAL,D1,1A,\
             50XX BLOCK OF N BROADWAY,\"UNK MALE KICKING TRASH CANS, CURSING AT CUSTOMERS\"",
            "24-0000002,2C11,01/01/2024 01:34:18 PM,01/01/2024 01:34:18 PM,01/01/2024 01:34:26 PM,\
             01/01/2024 02:01:43 PM,ONVIEW,EXTRA PATROL,EXTRA PATROL,4,ADVISED,D6,6A,\
             24XX BLOCK OF W 32ND AVE,EXTRA PATROL PER COMMUNITY REQUEST",
            "24-0000001,1B37,01/01/2024 01:47:57 AM,01/01/2024 02:35:54 AM,01/01/2024 02:44:30 AM,\
             01/01/2024 03:02:55 AM,911,DISTURBANCE,NEIGHBOR DISPUTE, 3,GONE ON ARRIVAL,D1,1A,\
             50XX BLOCK OF N BROADWAY,\"UNK MALE KICKING TRASH CANS, CURSING AT CUSTOMERS\"",
        ]
    );
    let (buf, _) = gen(2_000, 7);
    assert_eq!(crate::warehouse::sha256_hex(&buf), "4f9a472551d679672bd8330752679801f92ac2e539cb75a1be3bef0442dee25e");
}

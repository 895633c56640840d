//! `callsift sample --profile NAME` writes an export that `callsift ingest --profile NAME` reads
//! back: almost every row kept or merged, almost every call type mapped, the same category mix.
use crate::common::{callsift, manifest, sql_csv, TempDir};

const PROFILES: [&str; 3] = ["callsift_sample", "seattle_call_data", "new_orleans_cfs"];
const ROWS: usize = 20_000;

/// Generate `ROWS` rows in `profile`'s layout and ingest them with the same profile.
fn generate_and_ingest(t: &TempDir, profile: &str) -> (String, serde_json::Value) {
    let csv = t.s(&format!("{profile}.csv"));
    let wh = t.s(&format!("wh_{profile}"));
    let r = callsift(&["sample", "--profile", profile, "--rows", &ROWS.to_string(), "--seed", "7", "--out", &csv]).ok();
    assert!(r.stdout.contains(&format!("in the {profile} layout")), "{}", r.stdout);
    callsift(&["ingest", "--quiet", "--profile", profile, "--warehouse", &wh, &csv]).ok();
    let m = manifest(std::path::Path::new(&wh));
    let record = m["ingests"][0].clone();
    (wh, record)
}

fn n(v: &serde_json::Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} in {v}"))
}

#[test]
fn generated_layouts_ingest_with_their_profile() {
    let t = TempDir::new();
    let mut bh_shares = Vec::new();
    for profile in PROFILES {
        let (wh, rec) = generate_and_ingest(&t, profile);
        let read = n(&rec, "rows_read");
        let kept = n(&rec, "calls_kept");
        let merged = n(&rec, "unit_rows_merged");
        assert_eq!(read, ROWS as u64, "{profile}: {rec}");
        assert!((kept + merged) as f64 >= 0.99 * read as f64, "{profile}: kept+merged {kept}+{merged} of {read}");
        // Some bad rows, as real exports have (unparseable time, empty id, ragged row).
        let rejected = n(&rec, "rows_rejected");
        assert!(rejected > 0 && (rejected as f64) < 0.01 * read as f64, "{profile}: rejected {rejected}");
        let unmapped: u64 = rec["unmapped_types"].as_array().unwrap().iter().map(|u| n(u, "rows")).sum();
        assert!((unmapped as f64) < 0.02 * kept as f64, "{profile}: unmapped {unmapped} of {kept}");
        // Unit rows only where the profile merges them.
        assert_eq!(merged > 0, profile == "callsift_sample", "{profile}: merged {merged}");
        let bh = sql_csv(
            std::path::Path::new(&wh),
            "SELECT avg(CASE WHEN category = 'Behavioral Health' THEN 1.0 ELSE 0.0 END) FROM calls",
        );
        let share: f64 = bh.lines().nth(1).and_then(|l| l.trim().parse().ok()).unwrap_or_else(|| panic!("{bh}"));
        bh_shares.push(share);
    }
    // Types are drawn by the generated call's category: the mix survives the change of layout.
    let (lo, hi) = bh_shares.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &s| (lo.min(s), hi.max(s)));
    assert!(lo > 0.02 && hi - lo < 0.01, "behavioral-health shares {bh_shares:?}");
}

#[test]
fn sample_profile_is_deterministic_and_rejects_unknown_profiles() {
    let t = TempDir::new();
    let gen = |name: &str| {
        let out = t.s(name);
        callsift(&["sample", "--profile", "new_orleans_cfs", "--rows", "500", "--seed", "3", "--out", &out]).ok();
        std::fs::read(out).unwrap()
    };
    let a = gen("a.csv");
    assert_eq!(a, gen("b.csv"));
    let text = String::from_utf8(a).unwrap();
    assert!(text.starts_with("NOPD_Item,TimeCreate,"), "{}", &text[..200.min(text.len())]);
    assert_eq!(text.lines().count(), 501);
    let r = callsift(&["sample", "--profile", "no_such_profile", "--rows", "10", "--out", &t.s("c.csv")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!t.join("c.csv").exists());
}

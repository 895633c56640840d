//! Property tests (fuzzing) of the whole ingest path in-process — bounded CSV tokenizer → row
//! parser → unit merge → Arrow batches — through `callsift::ingest::parse_bytes`, the same code as
//! `callsift ingest` minus the Parquet writer. For any input: no panic, and
//! `rows_read = calls_kept + rows_rejected + unit_rows_merged + non_calls_dropped` with the rows
//! counted in the batches actually produced.
//!
//! Short runs (256 cases each) are part of `cargo test`. The long run:
//! `PROPTEST_CASES=1000000 cargo test --release --test integration -- --ignored fuzz`
//! (1,000,000 cases per property when `PROPTEST_CASES` is unset).
use std::sync::OnceLock;

use callsift::ingest::records::{Damage, Record, RecordReader};
use callsift::ingest::{parse_bytes, IngestOptions};
use callsift::source::profile::Profile;
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};

use crate::common::fixture;

struct Fixture {
    profile: Profile,
    bytes: Vec<u8>,
}

/// `mini_cad.csv` and every real CAD sample with its profile, each cut to its first 24 KiB (at a
/// line end) so a case stays fast.
fn fixtures() -> &'static [Fixture] {
    static F: OnceLock<Vec<Fixture>> = OnceLock::new();
    F.get_or_init(|| {
        [
            ("callsift_sample", "mini_cad.csv"),
            ("cincinnati_cfs", "real_cad/cincinnati/cpd_cfs_gexm_pdap_truncated.csv"),
            ("cincinnati_cfs_2014_2016", "real_cad/cincinnati/cpd_cfs_archive_2014-2016_pdap_truncated.csv"),
            ("dallas_active_calls_2018", "real_cad/dallas/dallas_active_calls_are8-xahz_2018-01-09.csv"),
            ("dallas_active_calls_2021", "real_cad/dallas/dallas_active_calls_socrata_2021-05-10.csv"),
            ("lapd_cfs", "real_cad/los_angeles/lapd_cfs_2013_pdap_truncated.csv"),
            ("lapd_cfs", "real_cad/los_angeles/lapd_cfs_2019_pdap_truncated.csv"),
            ("milwaukee_cfs", "real_cad/milwaukee/mke_cfs_scraped_geocoded_2018-05.csv"),
            ("montgomery_pa_911", "real_cad/montgomery_pa/mcpa_911_kaggle_v1_2015-12.csv"),
            ("seattle_legacy_911", "real_cad/seattle/seattle_legacy_911_incident_response_2016-03.csv"),
            ("sf_fire_cfs", "real_cad/sf_fire/sffd_calls_for_service_unitlevel_2016-12.csv"),
        ]
        .iter()
        .map(|(profile, rel)| {
            let mut bytes = std::fs::read(fixture(rel)).unwrap();
            if bytes.len() > 24 << 10 {
                let cut = bytes[..24 << 10].iter().rposition(|&b| b == b'\n').map_or(24 << 10, |i| i + 1);
                bytes.truncate(cut);
            }
            Fixture { profile: Profile::load(profile).unwrap(), bytes }
        })
        .collect()
    })
}

fn header() -> &'static [u8] {
    let f = &fixtures()[0].bytes;
    &f[..=f.iter().position(|&b| b == b'\n').unwrap()]
}

/// Small batches and caps too, so the merge window, batch emission and the record cap all run.
fn options() -> impl Strategy<Value = IngestOptions> {
    (1usize..=64, prop::sample::select(vec![1024usize, 4096, 1 << 20]))
        .prop_map(|(batch_size, max_record_bytes)| IngestOptions { batch_size, progress: false, max_record_bytes })
}

/// Bytes that matter to a CSV reader and to the field parsers, plus some that do not.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> = b",,,\"\"\r\n\n\n \t\0\xC3\xA9\xEF\xBB\xBF\xFF0123456789//::-APMXTEST".to_vec();
    prop::collection::vec(prop::sample::select(alphabet), 0..1500)
}

/// The property: a clean outcome, and the reconciliation against the rows in the batches.
fn check(profile: &Profile, bytes: &[u8], opts: &IngestOptions) -> Result<(), TestCaseError> {
    let parsed = match parse_bytes(profile, bytes, opts) {
        Ok(p) => p,
        Err(e) => {
            // Only a file that cannot be read as a whole (no usable header) may fail, clearly.
            let msg = e.to_string();
            prop_assert!(msg.starts_with("<bytes>: ") && e.exit_code() == 1, "{msg}");
            return Ok(());
        }
    };
    let c = &parsed.counts;
    let calls: u64 = parsed.calls.iter().map(|b| b.num_rows() as u64).sum();
    let rejects: u64 = parsed.rejects.iter().map(|b| b.num_rows() as u64).sum();
    prop_assert_eq!(calls, c.calls_kept);
    prop_assert_eq!(rejects, c.rows_rejected);
    prop_assert_eq!(c.rows_read, calls + rejects + c.unit_rows_merged + c.non_calls_dropped);
    // Reject lines are physical lines, in file order (a lone `\r` ends a record without starting a
    // new line, so a record may share the header's line).
    let mut last = 0;
    for b in &parsed.rejects {
        let lines = b.column_by_name("line").unwrap();
        let lines = lines.as_any().downcast_ref::<datafusion::arrow::array::UInt64Array>().unwrap();
        for l in lines.values().iter() {
            prop_assert!(*l >= 1 && *l >= last, "line {l} after {last}");
            last = *l;
        }
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let special = prop::sample::select(b"\",\r\n\0\xC3\xA9\xFF ".to_vec());
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), special).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), 1usize..256).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match *m {
            Mutation::Flip(i, b) if !bytes.is_empty() => bytes[i % len] = b,
            Mutation::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
            Mutation::Delete(i, n) if !bytes.is_empty() => {
                let s = i % len;
                bytes.drain(s..(s + n).min(bytes.len()));
            }
            Mutation::Duplicate(i, n) if !bytes.is_empty() => {
                let s = i % len;
                let chunk = bytes[s..(s + n).min(bytes.len())].to_vec();
                bytes.splice(s..s, chunk);
            }
            Mutation::Truncate(i) => bytes.truncate(i % (bytes.len() + 1)),
            _ => {}
        }
    }
    bytes
}

/// Records as the bounded tokenizer reads them, or `None` when any was damaged (cut or resynced).
fn ours(input: &[u8]) -> Option<Vec<Vec<Vec<u8>>>> {
    let mut rdr = RecordReader::new(input, b',', 1 << 20);
    let (mut out, mut rec) = (Vec::new(), Record::default());
    while rdr.read(&mut rec).unwrap() {
        if !matches!(rec.damage, Damage::None | Damage::Truncated) {
            return None;
        }
        out.push(rec.iter().map(<[u8]>::to_vec).collect());
    }
    Some(out)
}

fn csv_crate(input: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
    r.byte_records().map(|r| r.unwrap().iter().map(<[u8]>::to_vec).collect()).collect()
}

/// Failing cases are saved here and replayed first on the next run.
fn persistence() -> Option<Box<dyn proptest::test_runner::FailurePersistence>> {
    Some(Box::new(FileFailurePersistence::Direct("tests/proptest-regressions/fuzz.txt")))
}

fn short_config() -> ProptestConfig {
    ProptestConfig { cases: 256, failure_persistence: persistence(), ..ProptestConfig::default() }
}

fn long_config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    ProptestConfig { cases, max_shrink_iters: 10_000, failure_persistence: persistence(), ..ProptestConfig::default() }
}

/// The properties, run briefly by `cargo test` and at length by the ignored `fuzz_long_*` tests.
macro_rules! properties {
    ($config:expr, $($attr:meta),*; $bytes:ident, $csvish:ident, $mutated:ident, $raw:ident, $tokenizer:ident) => {
        proptest! {
            #![proptest_config($config)]

            $(#[$attr])*
            #[test]
            fn $bytes(tail in prop::collection::vec(any::<u8>(), 0..4096), opts in options()) {
                let profile = &fixtures()[0].profile;
                check(profile, &[header(), &tail].concat(), &opts)?;
            }

            $(#[$attr])*
            #[test]
            fn $csvish(tail in csvish(), opts in options()) {
                let profile = &fixtures()[0].profile;
                check(profile, &[header(), &tail].concat(), &opts)?;
            }

            $(#[$attr])*
            #[test]
            fn $mutated(
                which in 0..fixtures().len(),
                mutations in prop::collection::vec(mutation(), 1..12),
                opts in options(),
            ) {
                let f = &fixtures()[which];
                check(&f.profile, &mutate(f.bytes.clone(), &mutations), &opts)?;
            }

            $(#[$attr])*
            #[test]
            fn $raw(bytes in prop::collection::vec(any::<u8>(), 0..512), opts in options()) {
                check(&fixtures()[0].profile, &bytes, &opts)?;
            }

            /// Where nothing had to be cut or resynchronised, records are exactly the csv crate's.
            $(#[$attr])*
            #[test]
            fn $tokenizer(input in csvish()) {
                if let Some(records) = ours(&input) {
                    prop_assert_eq!(records, csv_crate(&input));
                }
            }
        }
    };
}

properties!(short_config(), ;
    fuzz_bytes_after_a_header, fuzz_csvish_bytes, fuzz_mutated_fixtures, fuzz_raw_bytes, fuzz_tokenizer_matches_csv_crate);

properties!(long_config(), ignore = "long fuzz: PROPTEST_CASES=1000000 cargo test --release -- --ignored fuzz";
    fuzz_long_bytes_after_a_header, fuzz_long_csvish_bytes, fuzz_long_mutated_fixtures, fuzz_long_raw_bytes,
    fuzz_long_tokenizer_matches_csv_crate);

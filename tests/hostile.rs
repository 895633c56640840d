//! Hostile input through the real binary: every byte sequence ends in a clear per-row reject or a
//! clear error naming the file, with exit code 0, 1 or 2 — never a panic, an abort or a signal.
use std::path::Path;

use crate::common::*;

const HEADER: &str = "incident_number,unit_id,call_received,dispatched,on_scene,cleared,call_source,initial_type,\
                      final_type,priority,disposition,district,beat,block_address,narrative\n";

/// A good row of the `callsift_sample` layout with a unique incident number.
fn row(i: usize) -> String {
    format!(
        "24-{i:07},1A11,03/09/2024 11:50:00 PM,03/09/2024 11:55:00 PM,03/10/2024 12:05:00 AM,\
         03/10/2024 12:45:00 AM,911,WELFARE CHECK,PERSON IN CRISIS,3,ASSISTANCE RENDERED,D1,1A,\
         12XX BLOCK OF E COLFAX AVE,ROW {i}\n"
    )
}

fn rows(range: std::ops::Range<usize>) -> String {
    range.map(row).collect()
}

/// `callsift ingest` of one file (extra args before the file); never killed by a signal.
fn ingest_with(t: &TempDir, file: &Path, extra: &[&str]) -> Run {
    let wh = t.s("wh");
    let file = file.display().to_string();
    let mut args = vec!["ingest", "--quiet", "--profile", "callsift_sample", "--warehouse", &wh];
    args.extend_from_slice(extra);
    args.push(&file);
    let r = callsift(&args);
    assert!([0, 1, 2].contains(&r.code), "exit {} (a signal?)\nstdout:\n{}\nstderr:\n{}", r.code, r.stdout, r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    r
}

/// The manifest's record of the only ingest, with the reconciliation checked, and the rows
/// actually in the `calls` and `rejects` tables checked against it.
fn reconciled(t: &TempDir) -> serde_json::Value {
    let wh = t.join("wh");
    let r = manifest(&wh)["ingests"][0].clone();
    let n = |k: &str| r[k].as_u64().unwrap();
    assert_eq!(
        n("rows_read"),
        n("calls_kept") + n("rows_rejected") + n("unit_rows_merged") + n("non_calls_dropped"),
        "{r}"
    );
    let calls = sql_csv(&wh, "SELECT count(*) AS n FROM calls");
    assert_eq!(calls, format!("n\n{}\n", n("calls_kept")), "{r}");
    let rejects = sql_csv(&wh, "SELECT count(*) AS n FROM rejects");
    assert_eq!(rejects, format!("n\n{}\n", n("rows_rejected")), "{r}");
    r
}

#[test]
fn utf8_character_split_by_the_delimiter_is_ingested_not_a_crash() {
    // Valid UTF-8 as a whole record (`\xC3,\xA9` is `Ã©` around a comma), invalid per field: this
    // used to reach `from_utf8_unchecked` and die with SIGSEGV.
    let t = TempDir::new();
    let mut bytes = format!("{HEADER}{}", rows(0..3)).into_bytes();
    bytes.extend_from_slice(
        b"24-9999999,1A11,03/09/2024 11:50:00 PM,,,,911\xC3,\xA9WELFARE CHECK,PERSON IN CRISIS,3,ADVISED,D1,1A,X,Y\n",
    );
    let file = t.join("split.csv");
    std::fs::write(&file, bytes).unwrap();
    let r = ingest_with(&t, &file, &[]).ok();
    assert!(r.stdout.contains("rows read 4 = calls kept 4"), "{}", r.stdout);
    let out = sql_csv(&t.join("wh"), "SELECT initial_type FROM calls WHERE call_id = '24-9999999'");
    assert_eq!(out, "initial_type\n©WELFARE CHECK\n");
}

#[test]
fn record_over_the_cap_is_rejected_with_its_line_and_the_rest_kept() {
    let t = TempDir::new();
    let big = "X".repeat(3 << 20);
    let text = format!("{HEADER}{}24-0000099,1A11,{big},,,,,,,,,,,,\n{}", rows(0..10), rows(10..20));
    let file = t.write("big.csv", &text);
    let r = ingest_with(&t, &file, &[]).ok();
    assert!(r.stdout.contains("rows read 21 = calls kept 20 + rejected 1"), "{}", r.stdout);
    let m = reconciled(&t);
    assert_eq!(m["rejects_by_reason"]["record_too_long"], 1);
    let out = sql_csv(&t.join("wh"), "SELECT line, reason, length(record) < 2000 AS short FROM rejects");
    assert!(
        out.starts_with("line,reason,short\n12,\"record of 3145757 bytes (lines 12–12) is over the 1048576"),
        "{out}"
    );
    assert!(out.trim_end().ends_with(",true"), "{out}");

    // The cap is an option: raised, the same record is read (and rejected for its content instead).
    let t2 = TempDir::new();
    let file = t2.write("big.csv", &text);
    let r = ingest_with(&t2, &file, &["--max-record-bytes", "8388608"]).ok();
    assert!(r.stdout.contains("rejected 1"), "{}", r.stdout);
    assert!(!r.stdout.contains("record_too_long"), "{}", r.stdout);
}

#[test]
fn fifty_megabytes_of_zero_bytes_end_cleanly_under_a_2gb_address_space() {
    let t = TempDir::new();
    let zeros = vec![0u8; 50 << 20];
    // After a good header: one over-long record, rejected; exit 0.
    let file = t.join("zeros_after_header.csv");
    let mut bytes = format!("{HEADER}{}", rows(0..2)).into_bytes();
    bytes.extend_from_slice(&zeros);
    std::fs::write(&file, &bytes).unwrap();
    let limited = |file: &Path, wh: &str| {
        let cmd = format!(
            "ulimit -v 2000000; exec '{}' ingest --quiet --profile callsift_sample --warehouse '{wh}' '{}'",
            env!("CARGO_BIN_EXE_callsift"),
            file.display()
        );
        let out = std::process::Command::new("sh").args(["-c", &cmd]).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = limited(&file, &t.s("wh"));
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("rows read 3 = calls kept 2 + rejected 1"), "{stdout}");
    assert!(stdout.contains("record_too_long 1"), "{stdout}");
    reconciled(&t);

    // No header at all: a clear error naming the file, exit 1.
    let file = t.join("zeros.csv");
    std::fs::write(&file, &zeros).unwrap();
    let (code, stdout, stderr) = limited(&file, &t.s("wh2"));
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("zeros.csv") && stderr.contains("header row"), "{stderr}");

    // An endless stream: the header cap stops it.
    let (code, stdout, stderr) = limited(Path::new("/dev/zero"), &t.s("wh3"));
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("/dev/zero") && stderr.contains("header row"), "{stderr}");
}

#[test]
fn nul_bytes_in_fields_are_kept_as_text_or_rejected() {
    let t = TempDir::new();
    let text = format!(
        "{HEADER}{}24-0000100,1A\0,03/09/2024 11:50:00 PM,,,,911,WELFARE\0CHECK,X,3,ADVISED,D1,1A,\0,\0\n\
         \0,1A11,03/09/2024 11:50:00 PM,,,,911,WELFARE CHECK,X,3,ADVISED,D1,1A,A,B\n\
         24-0000101,1A11,03/09/2024\0 11:50:00 PM,,,,911,WELFARE CHECK,X,3,ADVISED,D1,1A,A,B\n",
        rows(0..2)
    );
    let file = t.write("nul.csv", &text);
    let r = ingest_with(&t, &file, &[]).ok();
    assert!(r.stdout.contains("rows read 5 = calls kept 4 + rejected 1"), "{}", r.stdout);
    assert!(r.stdout.contains("invalid_time:received_at 1"), "{}", r.stdout);
    reconciled(&t);
}

/// Deterministic pseudo-random bytes (xorshift).
fn garbage(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

#[test]
fn binary_garbage_is_a_clear_error_or_clean_rejects() {
    let t = TempDir::new();
    // Garbage instead of a header: the profile's columns are not there.
    let file = t.join("garbage.bin");
    std::fs::write(&file, garbage(1 << 20, 7)).unwrap();
    let r = ingest_with(&t, &file, &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("garbage.bin"), "{}", r.stderr);

    // Garbage after a good header: every record is a reject (or, by chance, a call), exit 0.
    let file = t.join("garbage_rows.csv");
    let mut bytes = format!("{HEADER}{}", rows(0..5)).into_bytes();
    bytes.extend_from_slice(&garbage(4 << 20, 11));
    bytes.push(b'\n');
    bytes.extend_from_slice(rows(5..10).as_bytes());
    std::fs::write(&file, bytes).unwrap();
    let r = ingest_with(&t, &file, &[]).ok();
    assert!(r.stdout.contains("rows read"), "{}", r.stdout);
    let m = reconciled(&t);
    assert!(m["calls_kept"].as_u64().unwrap() >= 9, "{m}");
}

#[test]
fn empty_file_is_a_clear_error_naming_it() {
    let t = TempDir::new();
    let file = t.write("empty.csv", "");
    let r = ingest_with(&t, &file, &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("empty.csv") && r.stderr.contains("empty file"), "{}", r.stderr);
    // `--profile auto` says the same.
    let wh = t.s("wh2");
    let f = file.display().to_string();
    let r = callsift(&["ingest", "--quiet", "--profile", "auto", "--warehouse", &wh, &f]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("empty.csv") && r.stderr.contains("empty file"), "{}", r.stderr);
}

#[test]
fn header_only_file_ingests_zero_calls() {
    let t = TempDir::new();
    let file = t.write("header_only.csv", HEADER);
    let r = ingest_with(&t, &file, &[]).ok();
    assert!(
        r.stdout.contains("rows read 0 = calls kept 0 + rejected 0 + unit rows merged 0 + non-calls dropped 0"),
        "{}",
        r.stdout
    );
    let m = manifest(&t.join("wh"));
    assert_eq!(m["ingests"][0]["rows_read"], 0);
}

#[test]
fn unclosed_quote_at_row_10_of_1000_swallows_nothing() {
    let t = TempDir::new();
    let mut text = format!("{HEADER}{}", rows(0..9));
    text.push_str(&row(9).replace("ROW 9", "\"ROW 9 never closed"));
    text.push_str(&rows(10..1000));
    let file = t.write("unclosed.csv", &text);
    let r = ingest_with(&t, &file, &[]).ok();
    let m = reconciled(&t);
    assert!(m["calls_kept"].as_u64().unwrap() >= 989, "{}", r.stdout);
    assert_eq!(m["rows_read"], 1000, "{}", r.stdout);
    assert_eq!(m["rejects_by_reason"]["unclosed_quote"], 1, "{}", r.stdout);
    let out = sql_csv(&t.join("wh"), "SELECT line, reason FROM rejects");
    assert!(out.starts_with("line,reason\n11,"), "{out}");
    assert!(
        out.contains("the quoted field opened on line 11 never closes")
            && out.contains("swallowed lines 12–1001 (990 lines)")
            && out.contains("reading resumed at line 12"),
        "{out}"
    );
}

#[test]
fn numeric_options_out_of_range_exit_2_naming_the_option() {
    let t = TempDir::new();
    let file = fixture("mini_cad.csv");
    for (args, needle) in [
        (["--batch-size", "18446744073709551615"], "--batch-size"),
        (["--batch-size", "0"], "--batch-size"),
        (["--max-record-bytes", "0"], "--max-record-bytes"),
        (["--max-record-bytes", "99999999999"], "--max-record-bytes"),
    ] {
        let r = ingest_with(&t, &file, &args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle) && r.stderr.contains("..="), "{args:?}: {}", r.stderr);
    }
    // The largest batch size is accepted.
    let r = ingest_with(&t, &file, &["--batch-size", "1048576"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn profile_merge_window_out_of_range_exits_2() {
    let t = TempDir::new();
    let text = std::fs::read_to_string(root().join("profiles/callsift_sample.toml")).unwrap();
    let text = text
        .replace("window = 65536", "window = 9223372036854775807")
        .replace("crosswalk = \"callsift_sample.crosswalk.csv\"", "crosswalk = \"sample.crosswalk.csv\"");
    let profile = t.write("p/huge_window.toml", &text);
    std::fs::copy(root().join("profiles/callsift_sample.crosswalk.csv"), t.join("p/sample.crosswalk.csv")).unwrap();
    let r = callsift(&[
        "ingest",
        "--quiet",
        "--profile",
        &profile.display().to_string(),
        "--warehouse",
        &t.s("wh"),
        &fixture("mini_cad.csv").display().to_string(),
    ]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("merge.window") && r.stderr.contains("huge_window.toml"), "{}", r.stderr);
}

//! Unit tests: the bounded tokenizer against the `csv` crate, damage handling, and the row
//! parser's value maps through [`parse_bytes`].
use std::path::PathBuf;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int32Type;

use super::records::{Damage, Record, RecordReader};
use super::*;
use crate::assets::Asset;

fn read_all(input: &[u8], cap: usize) -> Vec<Record> {
    let mut rdr = RecordReader::new(input, b',', cap);
    let mut out = Vec::new();
    let mut rec = Record::default();
    while rdr.read(&mut rec).unwrap() {
        out.push(rec.clone());
    }
    out
}

fn csv_crate(input: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
    r.byte_records().map(|r| r.unwrap().iter().map(<[u8]>::to_vec).collect()).collect()
}

#[test]
fn tokenizer_splits_like_the_csv_crate() {
    for input in [
        &b"a,b\n\"c,d\",e\r\n\n\"x\"\"y\"z,\n"[..],
        b"\xEF\xBB\xBFid,name\n1,\"multi\nline\"\n2,\"\"\n",
        b"a,b",
        b"a,\"b\"",
        b"12\" TV,x\r\r\n,\n\"\"\"\",q",
        b"\r\n\r\n a , b \n",
        b"a\rb\nc",
    ] {
        let ours: Vec<_> = read_all(input, 1 << 20).iter().map(Record::fields).collect();
        assert_eq!(ours, csv_crate(input), "{}", String::from_utf8_lossy(input));
    }
}

#[test]
fn line_numbers_are_where_records_start() {
    let recs = read_all(b"h1,h2\r\n\r\na,b\r\n\"multi\nline\",c\n\nd,e", 1 << 20);
    let lines: Vec<u64> = recs.iter().map(Record::line).collect();
    assert_eq!(lines, [1, 3, 4, 7]);
}

#[test]
fn over_long_record_is_cut_and_skipped() {
    let long = "x".repeat(5000);
    let input = format!("h1,h2\na,b\n{long},\"{long}\nmore\"\nc,d\n");
    let recs = read_all(input.as_bytes(), 1024);
    assert_eq!(recs.len(), 4);
    assert_eq!(recs[2].damage, Damage::TooLong { last_line: 4, bytes: 10009 });
    assert_eq!(recs[2].line(), 3);
    assert!(recs[2].len() == 1 && recs[2].as_slice().len() < 1100);
    assert_eq!(recs[3].fields(), [b"c".to_vec(), b"d".to_vec()]);
    assert_eq!(recs[3].line(), 5);
}

#[test]
fn unclosed_quote_resyncs_at_the_next_whole_line() {
    let mut input = String::from("id,type,n\n1,a,1\n2,\"open,2\n");
    for i in 3..50 {
        input.push_str(&format!("{i},b,{i}\n"));
    }
    let recs = read_all(input.as_bytes(), 1 << 20);
    assert_eq!(recs.len(), 50);
    assert_eq!(recs[2].damage, Damage::UnclosedQuote { quote_line: 3, gave_up_line: 50, resume_line: 4, at_eof: true });
    assert_eq!(recs[2].fields(), [b"2".to_vec(), b"open,2".to_vec()]);
    assert!(recs[3..].iter().all(|r| r.damage == Damage::None && r.len() == 3));
    assert_eq!(recs[3].line(), 4);

    // Past the cap (not at the end of the file) the same recovery applies.
    let recs = read_all(input.as_bytes(), 64);
    assert!(matches!(recs[2].damage, Damage::UnclosedQuote { at_eof: false, resume_line: 4, .. }), "{recs:?}");
    assert_eq!(recs.len(), 50);
}

#[test]
fn file_ending_inside_its_last_quote_is_truncated() {
    let recs = read_all(b"a,b\n1,\"cut\nTRUNCATED", 1 << 20);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[1].damage, Damage::Truncated);
    // Ending with a newline: the csv crate's reading (the field runs to the end) is kept.
    let recs = read_all(b"a,b\n1,\"cut\n", 1 << 20);
    assert_eq!(recs[1].damage, Damage::None);
}

#[test]
fn endless_header_fails_fast() {
    let mut rdr = RecordReader::new(std::io::Read::take(std::io::repeat(0), 1 << 40), b',', 4096);
    let mut rec = Record::default();
    assert!(rdr.read(&mut rec).unwrap());
    assert!(matches!(rec.damage, Damage::TooLong { .. }));
    assert!(rdr.position() < 1 << 22);
}

// ---------------------------------------------------------------------------------------------
// Row parser value maps

const PROFILE: &str = r#"
name = "t"
timezone = "America/Denver"
crosswalk = "callsift_sample.crosswalk.csv"
null_values = ["NULL"]
[columns]
call_id = "id"
received_at = "received"
initial_type = "type"
call_source = "src"
priority = "pri"
disposition = "disp"
self_initiated = "self"
caller_party = "party"
unit_id = "unit"
[time]
formats = ["%Y-%m-%d %H:%M:%S"]
[call_source]
default = "other"
[call_source.values]
"911" = "911"
"NON  EMERGENCY" = "non_emergency"
[priority]
match = "leading_digits"
[priority.values]
URGENT = 1
[disposition]
[disposition.values]
"REPORT WRITTEN" = "report"
TEST = "test"
[self_initiated]
[self_initiated.values]
Y = true
N = false
[caller_party]
[caller_party.values]
"3RD PARTY" = "third"
[responder_type]
match = "prefix"
default = "police"
[responder_type.values]
CR = "community_responder"
M = "ems"
"#;

fn profile(extra: &str) -> Profile {
    let asset = Asset {
        origin: PathBuf::from("t.toml"),
        text: format!("{PROFILE}{extra}"),
        dir: Some(PathBuf::from("profiles")),
    };
    Profile::from_asset(&asset).unwrap()
}

const HEADER: &str = "id,received,type,src,pri,disp,self,party,unit\n";

fn parse(p: &Profile, rows: &[&str]) -> Parsed {
    let csv = format!("{HEADER}{}\n", rows.join("\n"));
    parse_bytes(p, csv.as_bytes(), &IngestOptions::default()).unwrap()
}

/// A text column of the single call batch.
fn text(parsed: &Parsed, col: &str) -> Vec<Option<String>> {
    let b = &parsed.calls[0];
    let a = b.column_by_name(col).unwrap().as_string::<i32>();
    (0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i).to_string())).collect()
}

fn some(v: &[&str]) -> Vec<Option<String>> {
    v.iter().map(|s| Some(s.to_string())).collect()
}

#[test]
fn call_source_listed_default_and_absent() {
    let p = profile("");
    let r = parse(
        &p,
        &[
            "1,2024-01-01 10:00:00,WELFARE CHECK,911,,,,,",
            "2,2024-01-01 10:00:00,WELFARE CHECK, non emergency ,,,,,",
            "3,2024-01-01 10:00:00,WELFARE CHECK,FAX,,,,,",
            "4,2024-01-01 10:00:00,WELFARE CHECK,,,,,,",
        ],
    );
    assert_eq!(text(&r, "call_source"), some(&["911", "non_emergency", "other", "unknown"]));
    // A value only the default covered is counted as unmapped.
    assert_eq!(r.unmapped_values["call_source"]["FAX"], 1);
}

#[test]
fn priority_values_then_leading_digits_then_unmapped() {
    let p = profile("");
    let r = parse(
        &p,
        &[
            "1,2024-01-01 10:00:00,WELFARE CHECK,,urgent,,,,",
            "2,2024-01-01 10:00:00,WELFARE CHECK,,2B,,,,",
            "3,2024-01-01 10:00:00,WELFARE CHECK,,0,,,,",
            "4,2024-01-01 10:00:00,WELFARE CHECK,,HIGH,,,,",
        ],
    );
    let a = r.calls[0].column_by_name("priority").unwrap().as_primitive::<Int32Type>();
    let got: Vec<Option<i32>> = (0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i))).collect();
    assert_eq!(got, [Some(1), Some(2), None, None]);
    assert_eq!(text(&r, "priority_raw"), some(&["urgent", "2B", "0", "HIGH"]));
    assert_eq!(r.unmapped_values["priority"].len(), 2);
}

#[test]
fn disposition_maps_drops_non_calls_and_counts_unmapped() {
    let p = profile("");
    let r = parse(
        &p,
        &[
            "1,2024-01-01 10:00:00,WELFARE CHECK,,,report  written,,,",
            "2,2024-01-01 10:00:00,WELFARE CHECK,,,TEST,,,",
            "3,2024-01-01 10:00:00,WELFARE CHECK,,,SHRUG,,,",
            "4,2024-01-01 10:00:00,WELFARE CHECK,,,NULL,,,",
        ],
    );
    assert_eq!(r.counts.non_calls_dropped, 1);
    assert_eq!(text(&r, "disposition"), [Some("report".into()), None, None]);
    assert_eq!(text(&r, "disposition_raw"), [Some("report  written".into()), Some("SHRUG".into()), None]);
    assert_eq!(r.unmapped_values["disposition"]["SHRUG"], 1);
}

#[test]
fn self_initiated_flag_and_call_source_fallback() {
    let p = profile("");
    let r = parse(
        &p,
        &[
            "1,2024-01-01 10:00:00,WELFARE CHECK,,,,y,,",
            "2,2024-01-01 10:00:00,WELFARE CHECK,911,,,Y,,",
            "3,2024-01-01 10:00:00,WELFARE CHECK,,,,N,,",
            "4,2024-01-01 10:00:00,WELFARE CHECK,,,,maybe,,",
        ],
    );
    let a = r.calls[0].column_by_name("self_initiated").unwrap().as_boolean();
    assert_eq!((0..4).map(|i| a.value(i)).collect::<Vec<_>>(), [true, true, false, false]);
    // Self-initiated with no call source becomes officer-initiated; a known source is kept.
    assert_eq!(text(&r, "call_source"), some(&["officer_initiated", "911", "unknown", "unknown"]));
    assert_eq!(r.unmapped_values["self_initiated"]["maybe"], 1);
}

#[test]
fn caller_party_and_responder_type() {
    let p = profile("");
    let r = parse(
        &p,
        &[
            "1,2024-01-01 10:00:00,WELFARE CHECK,,,,,3rd party,CR7",
            "2,2024-01-01 10:00:00,WELFARE CHECK,,,,,first,M12",
            "3,2024-01-01 10:00:00,WELFARE CHECK,,,,,,1A11",
            "4,2024-01-01 10:00:00,WELFARE CHECK,,,,,,",
        ],
    );
    assert_eq!(text(&r, "caller_party"), some(&["third", "unknown", "unknown", "unknown"]));
    assert_eq!(r.unmapped_values["caller_party"]["first"], 1);
    assert_eq!(
        text(&r, "responder_type"),
        [Some("community_responder".into()), Some("ems".into()), Some("police".into()), None]
    );
    let cr = r.calls[0].column_by_name("community_responder").unwrap().as_boolean();
    assert!(cr.value(0) && !cr.value(1));
    let units = r.calls[0].column_by_name("units").unwrap().as_primitive::<Int32Type>();
    assert_eq!((0..4).map(|i| units.value(i)).collect::<Vec<_>>(), [1, 1, 1, 0]);
}

#[test]
fn crosswalk_lookup_ignores_case_and_spacing_and_counts_unmapped_once_per_call() {
    let p = profile("[merge]\nwindow = 16\n");
    let r = parse(
        &p,
        &[
            "1,2024-01-01 10:00:00, welfare   check ,,,,,,U1",
            "2,2024-01-01 10:00:00,NOT A TYPE,,,,,,U1",
            "2,2024-01-01 10:01:00,NOT A TYPE,,,,,,U2",
            "3,2024-01-01 10:00:00,not  a type,,,,,,U1",
        ],
    );
    assert_eq!(text(&r, "category"), [Some("Assisting the Public".into()), None, None]);
    assert_eq!(r.counts.unit_rows_merged, 1);
    assert_eq!(r.unmapped_types, [("NOT A TYPE".to_string(), 2)]);
}

#[test]
fn utf8_character_split_by_the_delimiter_is_decoded_per_field() {
    let p = profile("");
    let mut csv = HEADER.as_bytes().to_vec();
    csv.extend_from_slice(b"1,2024-01-01 10:00:00,911\xC3,\xA9WELFARE CHECK,,,,,\n");
    let r = parse_bytes(&p, &csv, &IngestOptions::default()).unwrap();
    // `911\xC3` and `\xA9WELFARE CHECK` are each invalid UTF-8: each falls back to Windows-1252.
    assert_eq!(r.counts.calls_kept, 1);
    assert_eq!(text(&r, "initial_type"), some(&["911Ã"]));
    assert_eq!(r.unmapped_values["call_source"]["©WELFARE CHECK"], 1);
}

#[test]
fn options_and_merge_window_are_bounded() {
    let opts = IngestOptions { batch_size: usize::MAX, ..IngestOptions::default() };
    assert!(opts.validate().unwrap_err().to_string().contains("--batch-size"));
    let opts = IngestOptions { max_record_bytes: 0, ..IngestOptions::default() };
    assert!(opts.validate().unwrap_err().to_string().contains("--max-record-bytes"));
    let p = profile("[merge]\nwindow = 9223372036854775807\n");
    let e = check_profile(&p).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("merge.window"), "{e}");
}

#[test]
fn huge_rows_are_emitted_early_and_merging_still_reconciles() {
    let p = profile("[merge]\nwindow = 1000\n");
    let mut csv = HEADER.to_string();
    for i in 0..40 {
        let pad = "Y".repeat(3000);
        csv.push_str(&format!("{},2024-01-01 10:00:00,WELFARE CHECK,,,{pad},,,U{i}\n", i % 25));
    }
    let r = parse_bytes_with(&p, csv.as_bytes(), &IngestOptions::default(), |p| p.arena_budget = 16 << 10).unwrap();
    assert!(r.calls.len() > 2, "{} batches", r.calls.len());
    let c = &r.counts;
    assert_eq!(c.rows_read, 40);
    assert_eq!(c.calls_kept + c.unit_rows_merged, 40);
    assert_eq!(r.calls.iter().map(|b| b.num_rows() as u64).sum::<u64>(), c.calls_kept);
}

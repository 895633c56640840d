//! The real binary end to end on the hand-built fixture `tests/fixtures/mini_cad.csv` and on the
//! shipped sample: reconciliation, parsed values, idempotence, crash debris, exit codes, reports.
use crate::common::*;

#[test]
fn ingest_reconciles_every_row() {
    let t = TempDir::new();
    let wh = ingest_mini(&t);
    let m = manifest(t.join("wh").as_path());
    let r = &m["ingests"][0];
    assert_eq!(r["rows_read"], 15);
    assert_eq!(r["calls_kept"], 8);
    assert_eq!(r["rows_rejected"], 4);
    assert_eq!(r["unit_rows_merged"], 2);
    assert_eq!(r["non_calls_dropped"], 1);
    assert_eq!(
        r["rows_read"].as_u64().unwrap(),
        ["calls_kept", "rows_rejected", "unit_rows_merged", "non_calls_dropped"]
            .iter()
            .map(|k| r[k].as_u64().unwrap())
            .sum::<u64>()
    );
    assert_eq!(r["rejects_by_reason"]["ragged_row"], 2);
    assert_eq!(r["rejects_by_reason"]["missing:call_id"], 1);
    assert_eq!(r["rejects_by_reason"]["invalid_time:received_at"], 1);
    // Categories: 7 calls from the crosswalk, 1 (`CODE ZULU`) that neither it nor the classifier maps.
    assert_eq!(r["calls_by_category_source"]["crosswalk"], 7);
    assert_eq!(r["calls_by_category_source"]["classifier"], 0);
    assert_eq!(r["calls_by_category_source"]["unmapped"], 1);
    assert_eq!(r["unmapped_types"][0]["raw_type"], "CODE ZULU");
    assert_eq!(r["unmapped_types"][0]["rows"], 1);
    assert_eq!(r["unmapped_values"]["priority"]["P9"], 1);
    assert_eq!(r["duplicate_call_ids"], 0);
    assert_eq!(r["profile"], "callsift_sample");
    assert_eq!(r["blake3"].as_str().unwrap().len(), 64);
    assert_eq!(r["calls_version"], 1, "version 0 creates the table, the ingest is version 1");

    // Read back: the warehouse holds exactly what the manifest says.
    let w = t.join("wh");
    assert_eq!(sql_csv(&w, "SELECT count(*) AS n FROM calls"), "n\n8\n");
    assert_eq!(
        sql_csv(&w, "SELECT line, \"column\", reason FROM rejects ORDER BY line"),
        "line,column,reason\n\
         7,call_received,\"received_at: expected a timestamp like `%m/%d/%Y %I:%M:%S %p`, found `NOT A DATE`\"\n\
         8,incident_number,call_id is empty\n\
         9,,\"expected 15 fields, found 13\"\n\
         17,,\"expected 15 fields, found 3\"\n"
    );
    let _ = wh;
}

#[test]
fn unit_rows_merge_and_times_land_in_utc_across_dst() {
    let t = TempDir::new();
    ingest_mini(&t);
    let w = t.join("wh");
    // Incident 1: two units; first dispatch, first arrival, last clear; busy time summed (50 + 72 min).
    // Incident 2: received 02:30 on the spring-forward day (a wall time that does not exist) → read as MST.
    // Incident 10: 01:30 on the fall-back day (repeated hour) → the earlier, daylight-time instant.
    assert_eq!(
        sql_csv(
            &w,
            "SELECT call_id, received_at, dispatched_at, arrived_at, cleared_at, units, community_responder, unit_busy_minutes, \
             priority, call_source, category, year, month FROM calls WHERE call_id IN ('24-0000001', '24-0000002', '24-0000010') ORDER BY call_id"
        ),
        "call_id,received_at,dispatched_at,arrived_at,cleared_at,units,community_responder,unit_busy_minutes,priority,call_source,category,year,month\n\
         24-0000001,2024-03-10T06:50:00Z,2024-03-10T06:55:00Z,2024-03-10T07:03:00Z,2024-03-10T08:10:00Z,2,false,122.0,3,911,Assisting the Public,2024,3\n\
         24-0000002,2024-03-10T09:30:00Z,2024-03-10T09:40:00Z,2024-03-10T09:50:00Z,2024-03-10T10:40:00Z,2,true,95.0,2,911,Behavioral Health,2024,3\n\
         24-0000010,2024-11-03T07:30:00Z,2024-11-03T07:35:00Z,2024-11-03T07:45:00Z,2024-11-03T09:10:00Z,1,false,95.0,3,911,Suspicion,2024,11\n"
    );
    // Officer-initiated and non-emergency mapping, and the free-text narrative never stored.
    assert_eq!(
        sql_csv(&w, "SELECT call_id, call_source, self_initiated FROM calls WHERE call_id IN ('24-0000003', '24-0000004') ORDER BY call_id"),
        "call_id,call_source,self_initiated\n24-0000003,officer_initiated,true\n24-0000004,non_emergency,false\n"
    );
    let cols = sql_csv(&w, "SELECT column_name FROM information_schema.columns WHERE table_name = 'calls'");
    assert!(!cols.contains("narrative"), "{cols}");
}

#[test]
fn same_file_twice_changes_nothing() {
    let t = TempDir::new();
    let wh = ingest_mini(&t);
    let before = callsift(&["history", "--warehouse", &wh, "--format", "csv"]).ok().stdout;
    let files_before = walk(&t.join("wh/calls"));
    let r = callsift(&[
        "ingest",
        "--profile",
        "callsift_sample",
        "--warehouse",
        &wh,
        fixture("mini_cad.csv").to_str().unwrap(),
    ])
    .ok();
    assert!(r.stdout.contains("skipped") && r.stdout.contains("already ingested"), "{}", r.stdout);
    assert_eq!(callsift(&["history", "--warehouse", &wh, "--format", "csv"]).ok().stdout, before, "no new commit");
    assert_eq!(walk(&t.join("wh/calls")), files_before);
    // A copy under another name is the same bytes: also skipped.
    let copy = t.join("copy.csv");
    std::fs::copy(fixture("mini_cad.csv"), &copy).unwrap();
    let r = callsift(&["ingest", "--profile", "callsift_sample", "--warehouse", &wh, copy.to_str().unwrap()]).ok();
    assert!(r.stdout.contains("skipped"), "{}", r.stdout);
    assert_eq!(sql_csv(&t.join("wh"), "SELECT count(*) AS n FROM calls"), "n\n8\n");
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path().strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn files_of_a_killed_run_are_never_read_and_vacuum_removes_them() {
    let t = TempDir::new();
    let wh = ingest_mini(&t);
    // What a run killed before its commit leaves: data files no Delta commit adds.
    let month = t.join("wh/calls/year=2024/month=3");
    let real = std::fs::read_dir(&month).unwrap().flatten().next().unwrap().path();
    let orphan = month.join("part-deadbeefdead-0001.parquet");
    std::fs::copy(&real, &orphan).unwrap();
    assert_eq!(sql_csv(&t.join("wh"), "SELECT count(*) AS n FROM calls"), "n\n8\n", "never read");
    // Younger than the 7-day retention: kept (a running ingest may be about to commit it).
    let r = callsift(&["vacuum", "--warehouse", &wh, "--dry-run"]).ok();
    assert!(r.stdout.contains("calls: would delete 0 files"), "{}", r.stdout);
    // A shorter retention is refused, naming the option.
    let r = callsift(&["vacuum", "--warehouse", &wh, "--retain-hours", "1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--retain-hours 1"), "{}", r.stderr);
    // Once old enough, vacuum deletes it; committed files stay.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(8 * 24 * 3600);
    std::fs::File::options().write(true).open(&orphan).unwrap().set_modified(old).unwrap();
    let r = callsift(&["vacuum", "--warehouse", &wh]).ok();
    assert!(r.stdout.contains("calls: deleted 1 files"), "{}", r.stdout);
    assert!(!orphan.exists() && real.exists());
    assert_eq!(sql_csv(&t.join("wh"), "SELECT count(*) AS n FROM calls"), "n\n8\n");
}

#[test]
fn parquet_files_are_plain_hive_partitions() {
    use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
    let t = TempDir::new();
    ingest_mini(&t);
    let files: Vec<String> = walk(&t.join("wh/calls")).into_iter().filter(|f| !f.starts_with("_delta_log")).collect();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(
        files[0].starts_with("year=2024/month=11/part-") && files[1].starts_with("year=2024/month=3/part-"),
        "{files:?}"
    );
    let f = std::fs::File::open(t.join("wh/calls").join(&files[1])).unwrap();
    let reader = SerializedFileReader::new(f).unwrap();
    let schema = reader.metadata().file_metadata().schema_descr();
    let names: Vec<&str> = schema.columns().iter().map(|c| c.name()).collect();
    assert!(names.contains(&"call_id") && names.contains(&"received_at"));
    // Partition values live in the Delta log and the path, not in the files (the Delta protocol).
    assert!(!names.contains(&"year") && !names.contains(&"month"), "{names:?}");
    assert_eq!(reader.metadata().file_metadata().num_rows(), 6);
    // Partition pruning on both columns finds the files (DataFusion builds `year=2024/month=3`).
    assert_eq!(sql_csv(&t.join("wh"), "SELECT count(*) AS n FROM calls WHERE year = 2024 AND month = 3"), "n\n6\n");
}

#[test]
fn tag_report_and_sql_snapshots() {
    let t = TempDir::new();
    let wh = ingest_mini(&t);
    let r = callsift(&["tag", "--policy", "standard", "--warehouse", &wh, "--allow-unmapped"]).ok();
    assert!(r.stdout.contains("tagged 8 calls under 5 scenarios"), "{}", r.stdout);
    assert!(r.stdout.contains("12.50% of calls unmapped"), "{}", r.stdout);
    let w = t.join("wh");
    insta::assert_snapshot!("mini_eligibility", sql_csv(&w, "SELECT call_id, scenario, reason, estimated, round(p_eligible, 2) AS p FROM eligibility ORDER BY call_id, scenario"));
    let report = callsift(&["report", "sizing", "--warehouse", &wh, "--format", "csv"]).ok();
    insta::assert_snapshot!("mini_sizing_csv", report.stdout);
    let md = callsift(&["report", "sizing_by_category", "--warehouse", &wh, "--format", "md"]).ok();
    insta::assert_snapshot!("mini_sizing_by_category_md", md.stdout);
    let out = t.join("sizing.json");
    callsift(&["report", "sizing_by_month", "--warehouse", &wh, "--format", "json", "--out", out.to_str().unwrap()])
        .ok();
    insta::assert_snapshot!("mini_sizing_by_month_json", std::fs::read_to_string(out).unwrap());
    let table = callsift(&[
        "sql",
        "SELECT category, count(*) AS calls FROM calls GROUP BY category ORDER BY calls DESC, category",
        "--warehouse",
        &wh,
    ])
    .ok();
    insta::assert_snapshot!("mini_sql_table", table.stdout);
}

#[test]
fn tag_refuses_when_unmapped_volume_is_too_high() {
    let t = TempDir::new();
    let wh = ingest_mini(&t);
    let r = callsift(&["tag", "--warehouse", &wh]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("12.5% of calls") && r.stderr.contains("CODE ZULU") && r.stderr.contains("--allow-unmapped"),
        "{}",
        r.stderr
    );
    assert!(!t.join("wh/eligibility").exists(), "nothing written");
}

#[test]
fn demo_runs_the_whole_pipeline_on_the_sample() {
    let r = demo();
    assert!(
        r.stdout.contains(
            "rows read 40,000 = calls kept 29,102 + rejected 190 + unit rows merged 10,634 + non-calls dropped 74"
        ),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("tagged 29,102 calls under 9 scenarios of policy sample_program"), "{}", r.stdout);
    assert!(r.stdout.contains("Community-responder sizing by scenario"), "{}", r.stdout);
    let w = r.warehouse();
    assert_eq!(sql_csv(&w, "SELECT count(*) AS n FROM calls"), "n\n29102\n");
    assert_eq!(sql_csv(&w, "SELECT count(DISTINCT scenario) AS n FROM eligibility"), "n\n9\n");
    insta::assert_snapshot!("demo_sizing", sql_csv(&w, "SELECT * FROM (SELECT scenario, count(*) FILTER (WHERE outcome <> 'excluded_self_initiated') AS public_calls, count(*) FILTER (WHERE eligible) AS eligible_high, round(sum(p_eligible)) AS eligible_point FROM eligibility GROUP BY scenario) ORDER BY scenario"));
}

#[test]
fn usage_and_config_errors_exit_2_runtime_errors_exit_1() {
    let t = TempDir::new();
    // A profile with a bad time zone: names the file and key.
    let bad = t.write(
        "bad.toml",
        &std::fs::read_to_string(root().join("profiles/callsift_sample.toml"))
            .unwrap()
            .replace("America/Denver", "Mars/Olympus"),
    );
    std::fs::copy(root().join("profiles/callsift_sample.crosswalk.csv"), t.join("callsift_sample.crosswalk.csv"))
        .unwrap();
    let r = callsift(&[
        "ingest",
        "--profile",
        bad.to_str().unwrap(),
        "--warehouse",
        &t.s("wh"),
        fixture("mini_cad.csv").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("bad.toml") && r.stderr.contains("timezone") && r.stderr.contains("Mars/Olympus"),
        "{}",
        r.stderr
    );

    let r = callsift(&["ingest", "--profile", "no_such_profile", "--warehouse", &t.s("wh"), "x.csv"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no profile `no_such_profile`") && r.stderr.contains("callsift_sample"), "{}", r.stderr);

    let r = callsift(&["ingest", "--warehouse", &t.s("wh"), "x.csv"]);
    assert_eq!(r.code, 2, "clap usage error");

    let r = callsift(&["sql", "SELECT 1", "--warehouse", &t.s("nowhere")]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a callsift warehouse"), "{}", r.stderr);

    // A file of another layout: a runtime error naming the file and the missing column; warehouse untouched.
    let other = t.write("other_layout.csv", "id,when,what\n1,2024-01-01,THEFT\n");
    let r = callsift(&["ingest", "--profile", "callsift_sample", "--warehouse", &t.s("wh"), other.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("other_layout.csv") && r.stderr.contains("call_id") && r.stderr.contains("incident_number"),
        "{}",
        r.stderr
    );
    assert!(!t.join("wh").exists(), "a file that cannot be read leaves no trace");

    let wh = ingest_mini(&t);
    let r = callsift(&["report", "no_such_report", "--warehouse", &wh]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no report `no_such_report`") && r.stderr.contains("sizing"), "{}", r.stderr);
    let r = callsift(&["sql", "SELECT nope FROM calls", "--warehouse", &wh]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("nope"), "{}", r.stderr);

    // Policy check: exit 2 naming the rule.
    let p = t.write(
        "p.toml",
        &std::fs::read_to_string(root().join("policies/standard.toml"))
            .unwrap()
            .replace("when = \"weapon\"", "when = \"weapons_flag\""),
    );
    let r = callsift(&["policy", "check", p.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("p.toml") && r.stderr.contains("disqualifier `weapon`") && r.stderr.contains("weapons_flag"),
        "{}",
        r.stderr
    );
    let r = callsift(&["policy", "check", "standard"]).ok();
    assert!(
        r.stdout
            .contains("policy standard is valid: 6 disqualifiers, 3 limitations, 5 scenarios (8 with --scenarios all)"),
        "{}",
        r.stdout
    );
}

#[test]
fn sample_generator_is_deterministic() {
    let t = TempDir::new();
    callsift(&["sample", "--rows", "2000", "--seed", "7", "--out", &t.s("a.csv")]).ok();
    callsift(&["sample", "--rows", "2000", "--seed", "7", "--out", &t.s("b.csv")]).ok();
    let (a, b) = (std::fs::read(t.join("a.csv")).unwrap(), std::fs::read(t.join("b.csv")).unwrap());
    assert_eq!(a, b);
    assert_eq!(String::from_utf8_lossy(&a).lines().next().unwrap(), "incident_number,unit_id,call_received,dispatched,on_scene,cleared,call_source,initial_type,final_type,priority,disposition,district,beat,block_address,narrative");
}

#[test]
fn killed_ingest_leaves_a_consistent_warehouse() {
    let t = TempDir::new();
    let wh = ingest_mini(&t);
    let big = t.s("big.csv");
    callsift(&["sample", "--rows", "150000", "--seed", "3", "--out", &big]).ok();
    // Kill ingests at different moments (parsing, writing, committing); whatever the moment, what
    // SQL sees is exactly what the committed ingests say, with no clean-up run in between.
    for delay_ms in [150u64, 400, 900, 1400] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_callsift"))
            .args(["ingest", "--quiet", "--profile", "callsift_sample", "--warehouse", &wh, &big])
            .current_dir(root())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let m = manifest(t.join("wh").as_path());
        let listed: u64 = m["ingests"].as_array().unwrap().iter().map(|r| r["calls_kept"].as_u64().unwrap()).sum();
        let rejected: u64 = m["ingests"].as_array().unwrap().iter().map(|r| r["rows_rejected"].as_u64().unwrap()).sum();
        assert_eq!(
            sql_csv(&t.join("wh"), "SELECT count(*) AS n FROM calls"),
            format!("n\n{listed}\n"),
            "killed after {delay_ms} ms"
        );
        assert_eq!(sql_csv(&t.join("wh"), "SELECT count(*) AS n FROM rejects"), format!("n\n{rejected}\n"));
    }
    // And the file still ingests completely afterwards (or was already committed), exactly once.
    callsift(&["ingest", "--profile", "callsift_sample", "--warehouse", &wh, &big]).ok();
    let m = manifest(t.join("wh").as_path());
    let listed: u64 = m["ingests"].as_array().unwrap().iter().map(|r| r["calls_kept"].as_u64().unwrap()).sum();
    assert_eq!(m["ingests"].as_array().unwrap().len(), 2);
    assert_eq!(sql_csv(&t.join("wh"), "SELECT count(*) AS n FROM calls"), format!("n\n{listed}\n"));
}

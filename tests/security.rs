//! Adversarial checks over the real binary: SQL cannot write, public outputs cannot leak
//! (lineage), the threshold cannot go below 11, small counts cannot be recovered by differencing
//! (within a table, eligible minus served, year to date across publications).
use crate::common::*;

/// A tagged warehouse from the mini fixture (private to the test: attacks may try to change it).
fn mini_warehouse(t: &TempDir) -> String {
    let wh = ingest_mini(t);
    callsift(&["tag", "--warehouse", &wh, "--allow-unmapped"]).ok();
    wh
}

fn count(wh: &str, table: &str) -> String {
    callsift(&["sql", &format!("SELECT count(*) AS n FROM {table}"), "--warehouse", wh, "--format", "csv"]).ok().stdout
}

#[test]
fn sql_insert_into_eligibility_is_refused_and_counts_stay() {
    let t = TempDir::new();
    let wh = mini_warehouse(&t);
    let before = count(&wh, "eligibility");
    let r = callsift(&["sql", "INSERT INTO eligibility SELECT * FROM eligibility", "--warehouse", &wh]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("refused") && r.stderr.contains("read-only"), "{}", r.stderr);
    assert_eq!(count(&wh, "eligibility"), before);
}

#[test]
fn sql_copy_and_drop_are_refused_before_running() {
    let t = TempDir::new();
    let wh = mini_warehouse(&t);
    let target = t.join("addresses.parquet");
    let copy = format!("COPY (SELECT address FROM calls) TO '{}' STORED AS PARQUET", target.display());
    for stmt in [
        copy.as_str(),
        "DROP TABLE calls",
        "CREATE TABLE x AS SELECT address FROM calls",
        "SET datafusion.execution.batch_size = 1",
    ] {
        let r = callsift(&["sql", stmt, "--warehouse", &wh]);
        assert_eq!(r.code, 2, "{stmt}: {}\n{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("read-only"), "{stmt}: {}", r.stderr);
    }
    assert!(!target.exists(), "COPY wrote {}", target.display());
    // A read after a refused write in the same invocation never happens either.
    let r = callsift(&["sql", "SELECT 1 AS a; DROP TABLE calls", "--warehouse", &wh]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_ne!(count(&wh, "calls"), "n\n0\n");
}

fn leaky_dashboard(t: &TempDir, sql: &str) -> Run {
    let file = t.write(
        "leaky.toml",
        &format!("title = \"Leaky\"\n[[panel]]\ntitle = \"P\"\nchart = \"table\"\nsql = \"{sql}\"\n"),
    );
    let out = t.join("leaky.html");
    let r = callsift(&[
        "dashboard",
        "build",
        file.to_str().unwrap(),
        "--warehouse",
        &demo().wh(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!out.exists(), "{sql}: the page was written");
    r
}

#[test]
fn dashboard_panels_deriving_from_addresses_are_refused() {
    let t = TempDir::new();
    for sql in [
        "SELECT upper(address) AS a, count(*) AS n FROM calls GROUP BY 1",
        "SELECT address AS place, count(*) AS n FROM calls GROUP BY address",
        "SELECT concat('x', address) AS a, count(*) AS n FROM calls GROUP BY 1",
        "SELECT max(address) AS a, count(*) AS n FROM calls",
        "WITH x AS (SELECT address AS k FROM calls) SELECT k AS spot, count(*) AS n FROM x GROUP BY k",
    ] {
        let r = leaky_dashboard(&t, sql);
        assert_ne!(r.code, 0, "{sql}: accepted");
        assert!(r.stderr.contains("calls.address"), "{sql}: {}", r.stderr);
    }
}

#[test]
fn dashboard_panels_listing_calls_are_refused() {
    let t = TempDir::new();
    for sql in [
        "SELECT call_id, received_at FROM calls",
        "SELECT district, category FROM calls",
        "SELECT date_trunc('second', received_at) AS t, count(*) AS n FROM calls GROUP BY 1",
    ] {
        let r = leaky_dashboard(&t, sql);
        assert_ne!(r.code, 0, "{sql}: accepted");
        assert!(r.stderr.contains("call-level") || r.stderr.contains("individual rows"), "{sql}: {}", r.stderr);
    }
    // Coarsened time and aggregates are fine.
    let file = t.write(
        "ok.toml",
        "title = \"Ok\"\n[[panel]]\ntitle = \"P\"\nchart = \"table\"\nsql = \"SELECT date_trunc('month', received_local) AS m, district, count(*) AS calls, count(address) AS located FROM calls GROUP BY 1, 2\"\n",
    );
    callsift(&["dashboard", "build", file.to_str().unwrap(), "--warehouse", &demo().wh(), "--out", &t.s("ok.html")])
        .ok();
}

#[test]
fn publish_threshold_below_eleven_is_refused() {
    let t = TempDir::new();
    for th in ["0", "5", "10"] {
        let r = callsift(&[
            "publish",
            "monthly",
            "--warehouse",
            &demo().wh(),
            "--out",
            &t.s("site"),
            "--threshold",
            th,
            "--month",
            "2025-03",
        ]);
        assert_eq!(r.code, 2, "--threshold {th}: {}", r.stderr);
        assert!(r.stderr.contains("cannot be below 11"), "{}", r.stderr);
    }
    assert!(!t.join("site").exists());
}

#[test]
fn report_on_an_untagged_warehouse_says_so() {
    let t = TempDir::new();
    let wh = ingest_mini(&t);
    let r = callsift(&["report", "sizing", "--warehouse", &wh]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("not tagged yet: run `callsift tag"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

/// A CAD export (callsift_sample layout): `n_cr` community-responder calls and `n_police`
/// police-served eligible calls in district D1 at 10:00 on day 1..28 of each month given.
fn program_export(months: &[(u32, usize, usize)]) -> String {
    let mut s = String::from("incident_number,unit_id,call_received,dispatched,on_scene,cleared,call_source,initial_type,final_type,priority,disposition,district,beat,block_address,narrative\n");
    let mut id = 0;
    for &(m, n_cr, n_police) in months {
        for k in 0..(n_cr + n_police) {
            id += 1;
            let unit = if k < n_cr { "CR1" } else { "1A11" };
            let day = 1 + k % 28;
            let t = |min: u32| format!("{m:02}/{day:02}/2025 10:{min:02}:00 AM");
            s.push_str(&format!(
                "25-{id:07},{unit},{},{},{},{},911,WELFARE CHECK,PERSON IN CRISIS,3,ASSISTANCE RENDERED,D1,1A,{}XX BLOCK OF MAIN ST,\n",
                t(0),
                t(5),
                t(15),
                t(45),
                id % 50
            ));
        }
    }
    s
}

fn csv_rows(path: &std::path::Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    rdr.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect()
}

fn cell<'a>(rows: &'a [Vec<String>], measure: &str, col: usize) -> &'a str {
    &rows.iter().find(|r| r[0] == measure).unwrap_or_else(|| panic!("no row {measure}: {rows:?}"))[col]
}

fn num(s: &str) -> Option<i64> {
    s.parse().ok()
}

#[test]
fn differencing_attacks_on_the_transparency_report_fail() {
    let t = TempDir::new();
    // January and February: plenty served; March: 5 served among 45 eligible.
    let csv = t.write("cad.csv", &program_export(&[(1, 30, 20), (2, 30, 20), (3, 5, 40)]));
    let wh = t.s("wh");
    callsift(&["ingest", "--profile", "callsift_sample", "--warehouse", &wh, csv.to_str().unwrap()]).ok();
    callsift(&["tag", "--warehouse", &wh, "--policy", "sample_program", "--allow-unmapped"]).ok();
    for m in ["2025-02", "2025-03"] {
        callsift(&["publish", "monthly", "--warehouse", &wh, "--out", &t.s("site"), "--month", m]).ok();
    }
    let feb = csv_rows(&t.join("site/2025-02/transparency_summary.csv"));
    let mar = csv_rows(&t.join("site/2025-03/transparency_summary.csv"));
    let mar_ns = csv_rows(&t.join("site/2025-03/transparency_not_served.csv"));
    // Columns: measure, this month, last month, year to date.
    assert_eq!(cell(&mar, "served calls", 1), "<11", "{mar:?}");
    let secret = 5;

    // 1. Year to date minus last publication's year to date.
    if let (Some(a), Some(b)) = (num(cell(&mar, "served calls", 3)), num(cell(&feb, "served calls", 3))) {
        assert_ne!(a - b, secret, "served calls recovered as YTD(Mar) - YTD(Feb)");
        panic!("YTD of a measure hidden this month is visible: {a}, {b}");
    }
    // 2. Year to date minus last month minus the month before (all published).
    let jan = num(cell(&feb, "served calls", 2));
    if let (Some(y), Some(l), Some(j)) = (num(cell(&mar, "served calls", 3)), num(cell(&mar, "served calls", 2)), jan) {
        assert_ne!(y - l - j, secret, "served calls recovered from YTD - Feb - Jan");
    }
    // 3. Eligible minus the not-served "unknown" row (eligible, not served by a responder).
    let unserved = mar_ns.iter().find(|r| r[0] == "unknown (no unit-availability data)").and_then(|r| num(&r[1]));
    if let (Some(e), Some(u)) = (num(cell(&mar, "eligible calls", 1)), unserved) {
        assert_ne!(e - u, secret, "eligible served recovered as eligible - not served");
    }
    if let Some(es) = num(cell(&mar, "eligible served calls", 1)) {
        assert!(es >= 11, "eligible served shown: {es}");
    }
    // 4. The share served times eligible.
    if let (Some(e), Ok(p)) =
        (num(cell(&mar, "eligible calls", 1)), cell(&mar, "eligible served calls pct", 1).parse::<f64>())
    {
        assert_ne!((e as f64 * p / 100.0).round() as i64, secret, "served recovered from its percentage");
    }
    // 5. Within an additive table: the total minus the visible cells.
    for r in &mar_ns[1..] {
        assert!(!num(&r[1]).is_some_and(|v| v > 0 && v < 11), "{r:?}");
    }
    let hidden: Vec<&Vec<String>> = mar_ns[1..].iter().filter(|r| num(&r[1]).is_none()).collect();
    assert!(
        !(hidden.len() == 1 && hidden[0][1] == "<11"),
        "a small not-served reason is the total minus the others: {mar_ns:?}"
    );
    eprintln!("March summary: {mar:?}\nnot served: {mar_ns:?}");
}

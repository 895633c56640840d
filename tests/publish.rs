//! The public outputs: monthly transparency report and the demo's dashboards. Small counts are
//! suppressed with no recoverable cell, and nothing private (addresses, free text) gets out.
use crate::common::*;

fn numbers(cell: &str) -> Option<i64> {
    cell.replace(',', "").parse().ok()
}

#[test]
fn demo_publishes_dashboards_and_a_private_safe_transparency_report() {
    let r = demo();
    for p in [
        "dashboards/sizing.html",
        "dashboards/transparency.html",
        "dashboards/evaluation.html",
        "transparency/2025-03/index.html",
    ] {
        assert!(r.stdout.contains(&r.out.join(p).display().to_string()), "{p} not printed:\n{}", r.stdout);
        assert!(r.out.join(p).is_file(), "{p}");
    }
    let site = r.out.join("transparency/2025-03");
    let summary = std::fs::read_to_string(site.join("transparency_summary.csv")).unwrap();
    insta::assert_snapshot!("demo_transparency_summary_csv", summary);
    assert!(
        summary.starts_with("measure,this month,last month,year to date\npublic calls,1210,1059,3395\n"),
        "{summary}"
    );
    assert!(
        summary.contains("\neligible calls,170,146,483\n")
            // Hidden this month: year to date minus last month's year to date would give it away.
            && summary.contains("\nadditional unit calls,<11,<11,(suppressed)\n")
            // served (70) − eligible served (67) = 3 served calls not eligible: one of the two is hidden
            // this month, and the year to date with it.
            && summary.contains("\nserved calls,(suppressed),73,(suppressed)\n")
            && summary.contains("\neligible served calls pct,(suppressed),(suppressed),(suppressed)\n"),
        "{summary}"
    );

    // Every published table: no count from 1 to 10 visible, and no additive column with exactly one
    // hidden cell (it could be recovered from the column total).
    for name in
        ["transparency_summary", "transparency_not_served", "transparency_outcomes", "transparency_repeat_locations"]
    {
        let text = std::fs::read_to_string(site.join(format!("{name}.csv"))).unwrap();
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
        let rows: Vec<Vec<String>> = rdr.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
        for row in &rows {
            for (c, v) in header.iter().zip(row) {
                // Counts: columns named so, or (summary, turned round) rows whose measure is a count.
                let count_cell = c.ends_with("calls")
                    || c == "locations"
                    || (name == "transparency_summary"
                        && c != "measure"
                        && (row[0].ends_with("calls") || row[0].ends_with(" n")));
                if count_cell {
                    assert!(!numbers(v).is_some_and(|n| n > 0 && n < 11), "{name}.{c} shows {v}");
                }
            }
        }
        if name != "transparency_summary" {
            for (j, c) in header.iter().enumerate().skip(1) {
                let hidden = rows.iter().filter(|r| r[j] == "<11" || r[j] == "(suppressed)").count();
                assert_ne!(hidden, 1, "{name}.{c}: a single hidden cell can be recovered from the total");
            }
        }
    }
    insta::assert_snapshot!(
        "demo_transparency_outcomes_csv",
        std::fs::read_to_string(site.join("transparency_outcomes.csv")).unwrap()
    );

    // Nothing private in any public output: no hundred-block address, no narrative text, no raw types.
    let addresses = sql_csv(
        &r.warehouse(),
        "SELECT DISTINCT address FROM calls WHERE address IS NOT NULL ORDER BY address LIMIT 50",
    );
    let mut public = Vec::new();
    for d in ["dashboards", "transparency/2025-03"] {
        for e in std::fs::read_dir(r.out.join(d)).unwrap().flatten() {
            public.push((e.path().display().to_string(), std::fs::read_to_string(e.path()).unwrap()));
        }
    }
    assert!(public.len() >= 9);
    for (path, text) in &public {
        assert!(!text.contains("BLOCK OF"), "{path} contains an address");
        for a in addresses.lines().skip(1) {
            assert!(!text.contains(a), "{path} contains {a}");
        }
        assert!(!text.contains("RP STATES"), "{path} contains narrative text");
    }
}

#[test]
fn publish_checks_its_arguments() {
    let t = TempDir::new();
    let wh = ingest_mini(&t);
    callsift(&["tag", "--warehouse", &wh, "--allow-unmapped"]).ok();
    let r = callsift(&["publish", "monthly", "--warehouse", &wh, "--out", &t.s("site")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("scenario `program` is not in the warehouse") && r.stderr.contains("sample_program"),
        "{}",
        r.stderr
    );
    let r = callsift(&[
        "publish",
        "monthly",
        "--warehouse",
        &wh,
        "--out",
        &t.s("site"),
        "--scenario",
        "broad",
        "--month",
        "March",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("expected YYYY-MM"), "{}", r.stderr);
    // Tiny data: every non-zero count is suppressed.
    let r = callsift(&[
        "publish",
        "monthly",
        "--warehouse",
        &wh,
        "--out",
        &t.s("site"),
        "--scenario",
        "broad",
        "--month",
        "2024-03",
    ])
    .ok();
    assert!(r.stdout.contains("published the 2024-03 transparency report"), "{}", r.stdout);
    let s = std::fs::read_to_string(t.join("site/2024-03/transparency_summary.csv")).unwrap();
    assert_eq!(s.lines().nth(1).unwrap(), "public calls,<11,0,<11");
}

#[test]
fn every_report_runs_on_the_sample_warehouse() {
    let wh = demo().wh();
    let mut names: Vec<String> = std::fs::read_dir(root().join("queries"))
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".sql")).map(String::from))
        .collect();
    names.sort();
    assert_eq!(names.len(), 15, "{names:?}");
    for name in names {
        let r = callsift(&["report", &name, "--warehouse", &wh, "--format", "csv"]).ok();
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert!(lines.len() > 1, "{name} returned no rows");
        // Pin the head of each report (large ones are cut to keep snapshots small) and its size.
        let head = lines.iter().take(25).copied().collect::<Vec<_>>().join("\n");
        insta::assert_snapshot!(format!("demo_report_{name}"), format!("{head}\n... {} rows", lines.len() - 1));
    }
}

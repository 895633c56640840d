//! Dashboards: build every shipped dashboard from the demo warehouse and open each in headless
//! Chromium: no recorded error, every chart rendered with a non-zero size. Screenshots and the
//! built pages are kept under `target/dashboard-screenshots/` (build artefacts).
//!
//! Chromium is required: the test fails when it is missing (install it with `.ci/install-browser`)
//! unless `CALLSIFT_SKIP_BROWSER=1` is set.
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use callsift::output::dashboard::{self, Chart, Dashboard};
use callsift::warehouse::Warehouse;

use crate::common::*;

const DASHBOARDS: [&str; 3] = ["sizing", "transparency", "evaluation"];

/// The demo warehouse, built once per test binary through the real binary.
fn demo_warehouse() -> PathBuf {
    demo().warehouse()
}

/// `target/dashboard-screenshots/` (next to cargo's `target/tmp`).
pub(crate) fn artefact_dir() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.parent().unwrap_or(&tmp).join("dashboard-screenshots");
    std::fs::create_dir_all(&dir).expect("create artefact dir");
    dir
}

pub(crate) fn find_chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for name in ["chromium", "chromium-browser"] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Run Chromium headless on `page` with extra args; returns stdout. Killed after 120 s.
pub(crate) fn chromium(bin: &Path, page: &Path, extra: &[String]) -> String {
    chromium_at(bin, page, "", extra)
}

/// [`chromium`] on `page#fragment` (no `#` when the fragment is empty).
pub(crate) fn chromium_at(bin: &Path, page: &Path, fragment: &str, extra: &[String]) -> String {
    let profile = TempDir::new();
    let hash = if fragment.is_empty() { String::new() } else { format!("#{fragment}") };
    let url = format!("file://{}{hash}", page.canonicalize().expect("page path").display());
    let mut args: Vec<String> = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        // Prove the page needs no network: every host lookup fails.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--virtual-time-budget=10000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.path().display()));
    args.extend(extra.iter().cloned());
    args.push(url);
    let out_path = profile.join("stdout");
    let err_path = profile.join("stderr");
    let mut child = Command::new(bin)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for chromium") {
            break s;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium timed out on {}\nstderr:\n{}",
                page.display(),
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    assert!(
        status.success(),
        "chromium failed ({status}) on {}\nstderr:\n{}",
        page.display(),
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
    stdout
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let re = regex::Regex::new(&format!(r#"\s{}="([^"]*)""#, regex::escape(name))).unwrap();
    re.captures(tag).map(|c| c.get(1).unwrap().as_str())
}

/// Check a dumped DOM: no recorded error, `expected_charts` charts, each rendered with a size.
pub(crate) fn check_dom(name: &str, dom: &str, expected_charts: usize) -> Result<(), String> {
    let errors = regex::Regex::new(r#"(?s)<pre id="callsift-errors"[^>]*>(.*?)</pre>"#).unwrap();
    let errs = errors.captures(dom).ok_or_else(|| format!("{name}: no #callsift-errors element in the dumped DOM"))?;
    let errs = errs.get(1).unwrap().as_str().trim();
    if !errs.is_empty() {
        return Err(format!("{name}: the page recorded errors:\n{errs}"));
    }
    let body = regex::Regex::new(r#"<body\s+data-dashboard="[^"]*"[^>]*>"#)
        .unwrap()
        .find(dom)
        .ok_or("no <body>")?
        .as_str()
        .to_string();
    if attr(&body, "data-charts-done") != Some("1") {
        return Err(format!("{name}: charts did not finish rendering within the time budget: {body}"));
    }
    let charts: Vec<&str> =
        regex::Regex::new(r#"<div[^>]*\sid="chart-\d+"[^>]*>"#).unwrap().find_iter(dom).map(|m| m.as_str()).collect();
    if charts.len() != expected_charts {
        return Err(format!("{name}: {} chart containers, expected {expected_charts}", charts.len()));
    }
    for tag in charts {
        if attr(tag, "data-rendered") != Some("1") {
            return Err(format!("{name}: chart not rendered: {tag}"));
        }
        let w: f64 = attr(tag, "data-width").and_then(|v| v.parse().ok()).unwrap_or(0.0);
        let h: f64 = attr(tag, "data-height").and_then(|v| v.parse().ok()).unwrap_or(0.0);
        if !(w > 100.0 && h > 50.0) {
            return Err(format!("{name}: chart too small ({w}×{h}): {tag}"));
        }
    }
    if dom.matches("<svg").count() < expected_charts {
        return Err(format!("{name}: expected an SVG per chart"));
    }
    Ok(())
}

#[tokio::test]
async fn every_dashboard_builds_and_renders_in_headless_chromium() {
    let wh = Warehouse::open_existing(&demo_warehouse()).await.unwrap();
    let dir = artefact_dir();
    let mut built = Vec::new();
    for name in DASHBOARDS {
        let out = dir.join(format!("{name}.html"));
        let s = dashboard::build(&wh, name, &[], &out).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        let d = Dashboard::load(name).unwrap();
        assert_eq!(s.panels, d.panels.len());
        let html = std::fs::read_to_string(&out).unwrap();
        // Self-contained: no external script, style or font.
        for needle in ["<script src", "<link ", "@import", "fonts.googleapis"] {
            assert!(!html.contains(needle), "{name}: page references `{needle}`");
        }
        assert!(html.contains("are shown as “&lt;11”"), "{name}: suppression note missing");
        assert!(s.bytes < 4 << 20, "{name}: {} bytes", s.bytes);
        let charts = d.panels.iter().filter(|p| p.chart != Chart::Table).count();
        built.push((name, out, charts));
    }

    let Some(bin) = find_chromium() else {
        if std::env::var("CALLSIFT_SKIP_BROWSER").as_deref() == Ok("1") {
            eprintln!("SKIPPED the browser check: chromium is not installed and CALLSIFT_SKIP_BROWSER=1");
            return;
        }
        panic!(
            "chromium is not installed, so the dashboards cannot be checked in a browser. \
             Install it (`.ci/install-browser`, or `apt-get install chromium`), point $CHROMIUM at a binary, \
             or set CALLSIFT_SKIP_BROWSER=1 to skip this check."
        );
    };
    for (name, page, charts) in &built {
        let dom = chromium(&bin, page, &["--dump-dom".to_string()]);
        if let Err(e) = check_dom(name, &dom, *charts) {
            panic!("{e}");
        }
        let shot = dir.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&shot);
        chromium(
            &bin,
            page,
            &[
                format!("--screenshot={}", shot.display()),
                "--window-size=1280,7000".to_string(),
                "--hide-scrollbars".to_string(),
            ],
        );
        let len = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        assert!(len > 10_000, "{name}: screenshot {} missing or blank ({len} bytes)", shot.display());
        eprintln!("{name}: {} charts rendered; screenshot {}", charts, shot.display());
    }

    // The harness must see failures: break one chart's spec and log a console error.
    let (_, page, _) = &built[0];
    let html = std::fs::read_to_string(page).unwrap();
    let at = html.find(r#"id="callsift-specs">"#).expect("specs element");
    let (head, specs) = html.split_at(at);
    let mut broken = format!("{head}{}", specs.replacen(r#""type":"bar""#, r#""type":"no_such_mark""#, 1));
    let end = broken.rfind("</body>").expect("</body>");
    broken.insert_str(end, "<script>console.error('deliberate failure');</script>");
    let t = TempDir::new();
    let bad = t.write("broken.html", &broken);
    let dom = chromium(&bin, &bad, &["--dump-dom".to_string()]);
    let e = check_dom("broken", &dom, built[0].2).expect_err("a broken chart and a console error went unnoticed");
    assert!(e.contains("panel 1") && e.contains("deliberate failure"), "{e}");
    assert!(
        dom.contains("deliberate failure") && dom.contains(r#"data-rendered="error""#),
        "errors not recorded in the page"
    );
}

#[tokio::test]
async fn params_override_defaults_and_bad_ones_are_refused() {
    let wh_dir = demo_warehouse();
    let t = TempDir::new();
    let out = t.join("sizing-narrowest.html");
    let mut line = Vec::new();
    callsift::cli::output::dashboard_build(
        "sizing",
        &wh_dir,
        None,
        &[("scenario".into(), "narrowest".into())],
        &out,
        &mut line,
    )
    .await
    .unwrap();
    assert_eq!(String::from_utf8(line).unwrap(), format!("wrote dashboard sizing (7 panels) to {}\n", out.display()));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("Eligibility waterfall: scenario narrowest"));
    assert!(html.contains("<span>scenario = narrowest</span>"));

    let wh = Warehouse::open_existing(&wh_dir).await.unwrap();
    let e = dashboard::build(&wh, "sizing", &[("month".into(), "2024-06".into())], &out).await.unwrap_err();
    assert!(e.to_string().contains("no parameter `month`") && e.exit_code() == 2, "{e}");
    let e = dashboard::build(&wh, "sizing", &[("scenario".into(), "broad'; --".into())], &out).await.unwrap_err();
    assert!(e.exit_code() == 2, "{e}");
    let e = dashboard::build(&wh, "nope", &[], &out).await.unwrap_err();
    assert!(e.to_string().contains("no dashboard `nope`") && e.to_string().contains("transparency"), "{e}");
}

#[tokio::test]
async fn a_dashboard_file_selecting_addresses_is_refused() {
    let wh = Warehouse::open_existing(&demo_warehouse()).await.unwrap();
    let t = TempDir::new();
    let file = t.write(
        "leaky.toml",
        "title = \"Leaky\"\n[[panel]]\ntitle = \"Hot spots\"\nchart = \"table\"\nsql = \"SELECT address, count(*) AS calls FROM calls GROUP BY 1 ORDER BY 2 DESC LIMIT 5\"\n",
    );
    let out = t.join("leaky.html");
    let e = dashboard::build(&wh, file.to_str().unwrap(), &[], &out).await.unwrap_err();
    assert!(matches!(e, callsift::Error::Refused(_)), "{e}");
    assert!(e.to_string().contains("column `address`") && e.to_string().contains("Hot spots"), "{e}");
    assert!(!out.exists(), "nothing is written when a panel is refused");
}

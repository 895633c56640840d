//! `cargo bench --bench ingest`: the whole job, `callsift ingest` + `callsift tag --policy standard`,
//! side by side with DuckDB doing the same job (benches/duckdb_equivalent.py, 2 threads, 512 MB) on
//! generated exports in three layouts: callsift_sample (`callsift sample`, unit rows merged),
//! seattle_call_data and new_orleans_cfs (`callsift sample --profile`). The two are run alternately (callsift first in
//! odd pairs, DuckDB first in even ones) so drift in the machine's state hits both; each pair's
//! times and ratio are printed, then the medians and peak RSS.
//!
//! Settings (environment): `CALLSIFT_BENCH_ROWS` rows per export (default 1,000,000);
//! `CALLSIFT_BENCH_REAL_ROWS` rows for the real layouts (default: the same; the issue asks
//! 2,000,000); `CALLSIFT_BENCH_PAIRS` alternated pairs per layout (default 3);
//! `CALLSIFT_BENCH_LAYOUTS` a comma list of layouts (default all three).
//!
//! Peak RSS without `unsafe` (no wait4): each program reports its own, callsift as its last
//! `[trace] exit: … peak N kB` line under `CALLSIFT_TRACE=1`, the python script as ru_maxrss.
//! Reported, not asserted: timing belongs in benchmarks, never in tests. Target (issue 10):
//! callsift ≥ 2× DuckDB's throughput, peak RSS ≤ 512 MiB.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const LAYOUTS: [&str; 3] = ["callsift_sample", "seattle_call_data", "new_orleans_cfs"];

struct Run {
    seconds: f64,
    stdout: String,
    stderr: String,
}

/// Run a command to completion, timing it (wall clock, process start included).
fn run(cmd: &mut Command) -> Run {
    let started = Instant::now();
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let seconds = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{cmd:?} failed ({}):\n{stdout}\n{stderr}", out.status);
    Run { seconds, stdout, stderr }
}

/// One alternated pair on one layout.
struct Pair {
    callsift_first: bool,
    ingest: f64,
    tag: f64,
    callsift_peak_mib: f64,
    calls_kept: u64,
    duckdb: f64,
    /// The script's own ingest / tag split (without python start-up).
    duckdb_inner: String,
    duckdb_peak_mib: f64,
    duckdb_calls: u64,
}

impl Pair {
    fn callsift(&self) -> f64 {
        self.ingest + self.tag
    }
    /// Throughput ratio: the same rows, so DuckDB's time over callsift's.
    fn ratio(&self) -> f64 {
        self.duckdb / self.callsift()
    }
}

/// `peak 123456 kB` in callsift's last `[trace] exit:` line, in MiB.
fn callsift_peak_mib(stderr: &str) -> f64 {
    let line = stderr.lines().rev().find(|l| l.starts_with("[trace] exit:")).unwrap_or("");
    let kb = line.split("peak").nth(1).and_then(|s| s.split_whitespace().next()).and_then(|n| n.parse::<f64>().ok());
    kb.map_or(f64::NAN, |k| k / 1024.0)
}

/// The number after `key` in a line like `calls 123, peak_rss_kib 456` or `calls kept 1,234`.
fn number_after(text: &str, key: &str) -> Option<u64> {
    let rest = &text[text.find(key)? + key.len()..];
    let digits: String = rest.trim_start().chars().take_while(|c| c.is_ascii_digit() || *c == ',').collect();
    digits.replace(',', "").parse().ok()
}

struct Bench {
    exe: PathBuf,
    dir: PathBuf,
    root: PathBuf,
    have_duckdb: bool,
}

impl Bench {
    /// The export in `layout`, regenerated when missing or older than the binary. callsift's own
    /// layout is the plain `callsift sample` export (with its free-text narrative column, as the
    /// issue measured); the others come from `callsift sample --profile`.
    fn export(&self, layout: &str, rows: usize) -> PathBuf {
        let path = self.dir.join(format!("{layout}_{rows}.csv"));
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        if modified(&path).is_none() || modified(&path) < modified(&self.exe) {
            let mut cmd = Command::new(&self.exe);
            cmd.arg("sample");
            if layout != "callsift_sample" {
                cmd.args(["--profile", layout]);
            }
            let r = run(cmd.args(["--rows", &rows.to_string(), "--seed", "1", "--out", path.to_str().unwrap()]));
            println!("generated {} in {:.1}s: {}", path.display(), r.seconds, r.stdout.trim());
        }
        path
    }

    /// `callsift ingest` into a fresh warehouse, then `callsift tag --policy standard`.
    fn callsift(&self, layout: &str, export: &Path) -> (Run, Run) {
        let wh = self.dir.join(format!("warehouse_{layout}"));
        let _ = std::fs::remove_dir_all(&wh);
        let wh = wh.to_str().unwrap();
        let ingest = run(Command::new(&self.exe).env("CALLSIFT_TRACE", "1").args([
            "ingest",
            "--quiet",
            "--profile",
            layout,
            "--warehouse",
            wh,
            export.to_str().unwrap(),
        ]));
        let tag = run(Command::new(&self.exe).env("CALLSIFT_TRACE", "1").args([
            "tag",
            "--policy",
            "standard",
            "--warehouse",
            wh,
        ]));
        (ingest, tag)
    }

    fn duckdb(&self, layout: &str, export: &Path) -> Run {
        let out = self.dir.join(format!("duckdb_{layout}"));
        let _ = std::fs::remove_dir_all(&out);
        let script = self.root.join("benches/duckdb_equivalent.py");
        let profile = self.root.join(format!("profiles/{layout}.toml"));
        let policy = self.root.join("policies/standard.toml");
        run(Command::new("python3").args([&script, &profile, &export.to_path_buf(), &out, &policy]))
    }

    fn pair(&self, layout: &str, export: &Path, callsift_first: bool) -> Pair {
        let (mut c, mut d) = (None, None);
        for turn in 0..2 {
            if (turn == 0) == callsift_first {
                c = Some(self.callsift(layout, export));
            } else if self.have_duckdb {
                d = Some(self.duckdb(layout, export));
            }
        }
        let (ingest, tag) = c.expect("callsift ran");
        let d = d.unwrap_or(Run { seconds: f64::NAN, stdout: String::new(), stderr: String::new() });
        let inner = d.stdout.trim();
        let split = |k: &str| inner.split(k).nth(1).and_then(|s| s.trim_start().split('s').next()).unwrap_or("?");
        Pair {
            callsift_first,
            ingest: ingest.seconds,
            tag: tag.seconds,
            callsift_peak_mib: callsift_peak_mib(&ingest.stderr).max(callsift_peak_mib(&tag.stderr)),
            calls_kept: number_after(&ingest.stdout, "calls kept").unwrap_or(0),
            duckdb: d.seconds,
            duckdb_inner: format!("{} + {}", split("ingest "), split("tag ")),
            duckdb_peak_mib: number_after(inner, "peak_rss_kib").map_or(f64::NAN, |k| k as f64 / 1024.0),
            duckdb_calls: number_after(inner, "calls").unwrap_or(0),
        }
    }
}

/// `1234567` → `1,234,567`.
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// One layout's medians, for the summary table.
struct Summary {
    layout: String,
    rows: usize,
    ingest: f64,
    tag: f64,
    duckdb: f64,
    ratio: f64,
    callsift_peak: f64,
    duckdb_peak: f64,
}

fn print_layout(layout: &str, rows: usize, mb: f64, pairs: &[Pair]) -> Summary {
    let p0 = &pairs[0];
    println!(
        "\n== {layout}: {} rows, {mb:.0} MB; calls kept: callsift {}, DuckDB {}",
        thousands(rows),
        thousands(p0.calls_kept as usize),
        thousands(p0.duckdb_calls as usize)
    );
    println!(
        "{:<7} {:<6} {:>29} {:>10}   {:>10} {:>15} {:>10}   {:>9}",
        "pair",
        "first",
        "callsift ingest + tag = total",
        "peak RSS",
        "DuckDB",
        "(ingest + tag)",
        "peak RSS",
        "cs ÷ DuckDB"
    );
    for (i, p) in pairs.iter().enumerate() {
        println!(
            "{:<7} {:<6} {:>8.2} + {:>6.2} = {:>8.2} s {:>6.0} MiB   {:>8.2} s {:>15} {:>6.0} MiB   {:>8.2}×",
            i + 1,
            if p.callsift_first { "cs" } else { "duckdb" },
            p.ingest,
            p.tag,
            p.callsift(),
            p.callsift_peak_mib,
            p.duckdb,
            p.duckdb_inner,
            p.duckdb_peak_mib,
            p.ratio()
        );
    }
    let m = |f: &dyn Fn(&Pair) -> f64| median(pairs.iter().map(f).collect());
    let s = Summary {
        layout: layout.to_string(),
        rows,
        ingest: m(&|p| p.ingest),
        tag: m(&|p| p.tag),
        duckdb: m(&|p| p.duckdb),
        ratio: m(&|p| p.ratio()),
        callsift_peak: m(&|p| p.callsift_peak_mib),
        duckdb_peak: m(&|p| p.duckdb_peak_mib),
    };
    println!(
        "{:<14} {:>8.2} + {:>6.2} = {:>8.2} s {:>6.0} MiB   {:>8.2} s {:>15} {:>6.0} MiB   {:>8.2}×",
        "median",
        s.ingest,
        s.tag,
        m(&|p| p.callsift()),
        s.callsift_peak,
        s.duckdb,
        "",
        s.duckdb_peak,
        s.ratio
    );
    s
}

fn print_summary(summaries: &[Summary], pairs: usize) {
    println!("\n| layout (rows) | callsift ingest + tag | DuckDB {}, same job | callsift ÷ DuckDB throughput (median of {pairs} pairs) | peak RSS callsift / DuckDB |", duckdb_version());
    println!("|---|---|---|---|---|");
    for s in summaries {
        println!(
            "| {} ({}) | {:.2} + {:.2} = {:.2} s | {:.2} s | **{:.2}×** | {:.0} / {:.0} MiB |",
            s.layout,
            thousands(s.rows),
            s.ingest,
            s.tag,
            s.ingest + s.tag,
            s.duckdb,
            s.ratio,
            s.callsift_peak,
            s.duckdb_peak
        );
    }
    println!("target: ≥ 2× on every layout, peak RSS ≤ 512 MiB (reported, not asserted)");
}

fn duckdb_version() -> String {
    Command::new("python3")
        .args(["-c", "import duckdb; print(duckdb.__version__)"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "(not installed)".into())
}

fn env_usize(key: &str) -> Option<usize> {
    std::env::var(key).ok().and_then(|v| v.replace(['_', ','], "").parse().ok())
}

fn main() {
    let rows = env_usize("CALLSIFT_BENCH_ROWS").unwrap_or(1_000_000);
    let real_rows = env_usize("CALLSIFT_BENCH_REAL_ROWS").unwrap_or(rows);
    let n_pairs = env_usize("CALLSIFT_BENCH_PAIRS").unwrap_or(3).max(1);
    let layouts: Vec<String> = std::env::var("CALLSIFT_BENCH_LAYOUTS")
        .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_else(|_| LAYOUTS.iter().map(|s| s.to_string()).collect());
    let dir = PathBuf::from(
        std::env::var("CARGO_TARGET_TMPDIR").unwrap_or_else(|_| std::env::temp_dir().display().to_string()),
    )
    .join("callsift-bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let have_duckdb =
        Command::new("python3").args(["-c", "import duckdb"]).status().map(|s| s.success()).unwrap_or(false);
    if !have_duckdb {
        println!("DuckDB side skipped: `pip install duckdb` to run it");
    }
    let bench = Bench {
        exe: PathBuf::from(env!("CARGO_BIN_EXE_callsift")),
        dir,
        root: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        have_duckdb,
    };
    println!(
        "callsift ingest + tag --policy standard vs DuckDB {}, {n_pairs} alternated pairs per layout",
        duckdb_version()
    );
    let mut summaries = Vec::new();
    for layout in &layouts {
        let rows = if layout == "callsift_sample" { rows } else { real_rows };
        let export = bench.export(layout, rows);
        let mb = std::fs::metadata(&export).map(|m| m.len() as f64 / 1e6).unwrap_or(0.0);
        let pairs: Vec<Pair> = (0..n_pairs).map(|i| bench.pair(layout, &export, i % 2 == 0)).collect();
        summaries.push(print_layout(layout, rows, mb, &pairs));
    }
    print_summary(&summaries, n_pairs);
}

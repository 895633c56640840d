//! `cargo bench --bench ingest`: throughput and peak memory of the full ingest + tag job on a
//! generated export (1,000,000 rows by default; `CALLSIFT_BENCH_ROWS` to change), side by side
//! with DuckDB doing the same work (benches/duckdb_equivalent.py) when `python3 -c "import duckdb"`
//! works. Targets (from the project brief): ≥ 2× DuckDB's throughput on 2 cores, peak RSS < 512 MiB.
//! Reported, not asserted: timing belongs in benchmarks, never in tests.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

struct Measured {
    seconds: f64,
    max_rss_mib: f64,
    stdout: String,
}

/// Run a command, measuring wall time and the child's peak resident set (wait4 rusage).
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives the peak RSS
fn measure(cmd: &mut Command) -> Measured {
    use std::os::unix::process::ExitStatusExt;
    let started = Instant::now();
    let child = cmd.stdout(std::process::Stdio::piped()).spawn().expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).ok();
        s
    });
    let mut status = 0;
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    assert_eq!(r, pid, "wait4");
    let seconds = started.elapsed().as_secs_f64();
    let out = reader.join().unwrap_or_default();
    assert!(std::process::ExitStatus::from_raw(status).success(), "{cmd:?} failed:\n{out}");
    Measured { seconds, max_rss_mib: ru.ru_maxrss as f64 / 1024.0, stdout: out }
}

fn main() {
    let exe = env!("CARGO_BIN_EXE_callsift");
    let rows: usize = std::env::var("CALLSIFT_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = PathBuf::from(
        std::env::var("CARGO_TARGET_TMPDIR").unwrap_or_else(|_| std::env::temp_dir().display().to_string()),
    )
    .join("callsift-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let export = dir.join(format!("sample_{rows}.csv"));
    if !export.exists() {
        let m = measure(Command::new(exe).args([
            "sample",
            "--rows",
            &rows.to_string(),
            "--seed",
            "1",
            "--out",
            export.to_str().unwrap(),
        ]));
        println!("generated {} in {:.1}s", export.display(), m.seconds);
    }
    let mb = std::fs::metadata(&export).unwrap().len() as f64 / 1e6;
    let wh = dir.join("warehouse");
    let _ = std::fs::remove_dir_all(&wh);

    let ingest = measure(Command::new(exe).args([
        "ingest",
        "--quiet",
        "--profile",
        "callsift_sample",
        "--warehouse",
        wh.to_str().unwrap(),
        export.to_str().unwrap(),
    ]));
    let tag = measure(Command::new(exe).args(["tag", "--warehouse", wh.to_str().unwrap(), "--scenarios", "all"]));
    let total = ingest.seconds + tag.seconds;
    println!("callsift on {rows} rows ({mb:.0} MB):");
    println!(
        "  ingest {:>6.2}s  {:>9.0} rows/s  {:>6.1} MB/s  peak RSS {:>6.1} MiB",
        ingest.seconds,
        rows as f64 / ingest.seconds,
        mb / ingest.seconds,
        ingest.max_rss_mib
    );
    println!(
        "  tag    {:>6.2}s  peak RSS {:>6.1} MiB   [{}]",
        tag.seconds,
        tag.max_rss_mib,
        tag.stdout.lines().next().unwrap_or("")
    );
    println!("  total  {:>6.2}s  {:>9.0} rows/s", total, rows as f64 / total);
    for l in ingest.stdout.lines().skip(1).take(2) {
        println!("  {}", l.trim());
    }

    let have_duckdb =
        Command::new("python3").args(["-c", "import duckdb"]).status().map(|s| s.success()).unwrap_or(false);
    if !have_duckdb {
        println!("DuckDB comparison skipped: `pip install duckdb` to run it");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/duckdb_equivalent.py");
    let crosswalk = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/callsift_sample.crosswalk.csv");
    let out = dir.join("duckdb");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let d = measure(Command::new("python3").args([
        script.to_str().unwrap(),
        export.to_str().unwrap(),
        crosswalk.to_str().unwrap(),
        out.to_str().unwrap(),
    ]));
    println!("{}  (wall {:.2}s incl. python start, peak RSS {:.1} MiB)", d.stdout.trim(), d.seconds, d.max_rss_mib);
    println!("callsift / DuckDB throughput: {:.2}x (target ≥ 2x)", d.seconds / total);
}

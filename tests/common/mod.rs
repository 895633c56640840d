//! Fixture helpers: a temp dir per test and a runner for the real binary.
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "exit {}\nstdout:\n{}\nstderr:\n{}", self.code, self.stdout, self.stderr);
        self
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    root().join("tests/fixtures").join(rel)
}

/// Run `callsift` with `args` in `cwd` (the crate root unless given), no terminal attached.
pub fn callsift_in(cwd: &Path, args: &[&str]) -> Run {
    run_with(cwd, args, &[])
}

/// Run `callsift` with extra environment variables (object-store credentials, endpoints).
pub fn callsift_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    run_with(&root(), args, env)
}

fn run_with(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_callsift"))
        .args(args)
        .current_dir(cwd)
        .env_remove("CALLSIFT_HOME")
        .envs(env.iter().copied())
        .output()
        .expect("run callsift");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

pub fn callsift(args: &[&str]) -> Run {
    callsift_in(&root(), args)
}

pub struct TempDir(pub tempfile::TempDir);

impl TempDir {
    pub fn new() -> Self {
        TempDir(tempfile::tempdir().expect("tempdir"))
    }
    pub fn path(&self) -> &Path {
        self.0.path()
    }
    pub fn join(&self, rel: &str) -> PathBuf {
        self.0.path().join(rel)
    }
    pub fn s(&self, rel: &str) -> String {
        self.join(rel).display().to_string()
    }
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
}

/// What the latest snapshot of a warehouse holds (`callsift status`): ingests, tag, versions.
pub fn manifest(warehouse: &Path) -> serde_json::Value {
    let r = callsift(&["status", "--warehouse", &warehouse.display().to_string()]).ok();
    serde_json::from_str(&r.stdout).expect("status prints JSON")
}

/// Run SQL on a warehouse and return CSV text.
pub fn sql_csv(warehouse: &Path, query: &str) -> String {
    callsift(&["sql", query, "--warehouse", &warehouse.display().to_string(), "--format", "csv"]).ok().stdout
}

/// The demo run (`callsift demo`) through the real binary, once per test binary: its output folder
/// and what it printed. Tests must treat it as read-only.
pub struct Demo {
    _dir: TempDir,
    pub out: PathBuf,
    pub stdout: String,
}

impl Demo {
    pub fn warehouse(&self) -> PathBuf {
        self.out.join("warehouse")
    }
    pub fn wh(&self) -> String {
        self.warehouse().display().to_string()
    }
}

pub fn demo() -> &'static Demo {
    static DEMO: std::sync::OnceLock<Demo> = std::sync::OnceLock::new();
    DEMO.get_or_init(|| {
        let t = TempDir::new();
        let r = callsift(&["demo", "--out", &t.s("demo")]).ok();
        Demo { out: t.join("demo"), _dir: t, stdout: r.stdout }
    })
}

/// A warehouse ingested from `tests/fixtures/mini_cad.csv` with the sample profile, in `t/wh`.
pub fn ingest_mini(t: &TempDir) -> String {
    let wh = t.s("wh");
    callsift(&[
        "ingest",
        "--profile",
        "callsift_sample",
        "--warehouse",
        &wh,
        fixture("mini_cad.csv").to_str().unwrap(),
    ])
    .ok();
    wh
}

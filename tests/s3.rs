//! The same warehouse on object storage: `--warehouse s3://bucket/prefix` against a local
//! S3-compatible server (moto, from PyPI) that the test starts on loopback and stops itself.
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

use crate::common::*;

struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_moto() -> Option<Moto> {
    let probe = Command::new("python3").args(["-c", "import moto.server, boto3"]).output().ok()?;
    if !probe.status.success() {
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("python3")
        .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let moto = Moto { child, port };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(moto);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("moto server did not start on port {port}");
}

fn create_bucket(port: u16, bucket: &str) {
    let code = format!(
        "import boto3; boto3.client('s3', endpoint_url='http://127.0.0.1:{port}', region_name='us-east-1', \
         aws_access_key_id='test', aws_secret_access_key='test').create_bucket(Bucket='{bucket}')"
    );
    let out = Command::new("python3").args(["-c", &code]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_warehouse_works_on_s3_with_concurrent_writers() {
    let Some(moto) = start_moto() else {
        if std::env::var("CALLSIFT_SKIP_S3").as_deref() == Ok("1") {
            eprintln!("SKIPPED: moto is not installed and CALLSIFT_SKIP_S3=1");
            return;
        }
        panic!("python3 -m pip install 'moto[server]' (see .ci/install-test-tools), or set CALLSIFT_SKIP_S3=1");
    };
    create_bucket(moto.port, "cad");
    let endpoint = format!("http://127.0.0.1:{}", moto.port);
    let env = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    let wh = "s3://cad/city/warehouse";
    let t = TempDir::new();
    let mini = fixture("mini_cad.csv").display().to_string();
    let ingest =
        |f: &str| callsift_env(&["ingest", "--quiet", "--profile", "callsift_sample", "--warehouse", wh, f], &env);
    ingest(&mini).ok();
    // The same bytes again: skipped by the Delta transaction id.
    assert!(ingest(&mini).ok().stdout.contains("already ingested"));
    // Two writers at once (conditional put decides who gets each log version): both land.
    let files: Vec<String> = (0..2)
        .map(|i| {
            let text = std::fs::read_to_string(&mini).unwrap().replace("24-00000", &format!("4{i}-00000"));
            t.write(&format!("s3_{i}.csv"), &text).display().to_string()
        })
        .collect();
    let children: Vec<_> = files
        .iter()
        .map(|f| {
            Command::new(env!("CARGO_BIN_EXE_callsift"))
                .args(["ingest", "--quiet", "--profile", "callsift_sample", "--warehouse", wh, f])
                .envs(env.iter().copied())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let sql = |q: &str| callsift_env(&["sql", q, "--warehouse", wh, "--format", "csv"], &env).ok().stdout;
    assert_eq!(sql("SELECT count(*) AS n FROM calls"), "n\n24\n");
    assert_eq!(sql("SELECT count(*) AS n FROM rejects"), "n\n12\n");
    callsift_env(&["tag", "--warehouse", wh, "--allow-unmapped"], &env).ok();
    let sizing = callsift_env(&["report", "sizing", "--warehouse", wh, "--format", "csv"], &env).ok().stdout;
    assert!(sizing.lines().count() > 1, "{sizing}");
    // Time travel works the same on S3: as of the first ingest, 8 calls.
    let first = callsift_env(
        &["sql", "SELECT count(*) AS n FROM calls", "--warehouse", wh, "--format", "csv", "--as-of", "1"],
        &env,
    );
    assert_eq!(first.ok().stdout, "n\n8\n");
    let h = callsift_env(&["history", "--warehouse", wh, "--format", "csv"], &env).ok().stdout;
    assert_eq!(h.lines().filter(|l| l.starts_with("calls,") && l.contains(",INGEST,")).count(), 3, "{h}");
}

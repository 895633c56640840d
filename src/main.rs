//! callsift command line: parse → run → exit code (0 ok, 1 runtime error, 2 usage or configuration).
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = callsift::cli::args::Cli::parse(); // clap exits 2 on usage errors, 0 for --help
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(callsift::cli::run(cli));
    // CALLSIFT_TRACE=1: the process's peak RSS as its last word (benches/ingest.rs reads it).
    callsift::ingest::trace_memory("exit");
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

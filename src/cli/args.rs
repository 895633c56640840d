//! The command-line grammar (clap derive). Parsing only: `cli::run` dispatches.
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::output::report::Format;

#[derive(Parser)]
#[command(
    name = "callsift",
    version,
    about = "Size, tag and report community-responder eligibility from 911 CAD exports"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the whole pipeline on the shipped sample data and print the sizing table.
    Demo {
        #[arg(long, default_value = "out/demo")]
        out: PathBuf,
    },
    /// Ingest CAD exports (CSV) into a warehouse through a source profile.
    Ingest {
        /// Built-in profile name, path to a profile .toml, or `auto` to detect it from each file's header.
        #[arg(long)]
        profile: String,
        #[arg(long)]
        warehouse: PathBuf,
        /// Calls per Arrow batch (also the minimum merge window for unit-level exports).
        #[arg(long, default_value_t = 65_536,
              value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=crate::ingest::MAX_BATCH_SIZE as u64))]
        batch_size: usize,
        /// Longest record accepted, in bytes; a longer one is rejected as `record_too_long` and skipped.
        #[arg(long, default_value_t = crate::ingest::DEFAULT_MAX_RECORD_BYTES,
              value_parser = clap::builder::RangedU64ValueParser::<usize>::new()
                  .range(crate::ingest::MIN_MAX_RECORD_BYTES as u64..=crate::ingest::MAX_MAX_RECORD_BYTES as u64))]
        max_record_bytes: usize,
        /// Never draw a progress bar.
        #[arg(long)]
        quiet: bool,
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
    },
    /// (Re)tag every call in the warehouse under every scenario of a policy.
    Tag {
        /// Built-in policy name or path to a policy .toml.
        #[arg(long, default_value = "standard")]
        policy: String,
        #[arg(long)]
        warehouse: PathBuf,
        /// `all` (every combination of the policy's limitations) or a comma list; default: the policy's scenarios.
        #[arg(long)]
        scenarios: Option<String>,
        /// Tag even when unmapped call-type volume exceeds the policy's threshold.
        #[arg(long)]
        allow_unmapped: bool,
    },
    /// Run a report from queries/NAME.sql.
    Report {
        name: String,
        #[arg(long)]
        warehouse: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[arg(long)]
        out: Option<PathBuf>,
        /// Report parameter, `name=value` (repeatable).
        #[arg(long = "param", value_parser = parse_param)]
        params: Vec<(String, String)>,
        /// Read the warehouse as of this `calls` version (see `callsift history`), with the
        /// eligibility tagged at that point.
        #[arg(long)]
        as_of: Option<i64>,
    },
    /// Run read-only SQL (queries only) over the warehouse tables `calls`, `eligibility`, `rejects`.
    Sql {
        query: String,
        #[arg(long)]
        warehouse: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[arg(long)]
        out: Option<PathBuf>,
        /// Read the warehouse as of this `calls` version (see `callsift history`), with the
        /// eligibility tagged at that point.
        #[arg(long)]
        as_of: Option<i64>,
    },
    /// Generate a synthetic CAD export (deterministic for a seed).
    Sample {
        /// Write the export in this profile's layout (built-in name or .toml path): its columns,
        /// time format, codes and call types. Default: callsift's own export.
        #[arg(long)]
        profile: Option<String>,
        #[arg(long, default_value_t = 50_000)]
        rows: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Show one call's normalised fields, each rule's result and its outcome in every scenario.
    Explain {
        call_id: String,
        #[arg(long)]
        warehouse: PathBuf,
        /// Policy to evaluate (default: the one the warehouse was last tagged with).
        #[arg(long)]
        policy: Option<String>,
        /// Read the warehouse as of this `calls` version (see `callsift history`), with the
        /// eligibility tagged at that point.
        #[arg(long)]
        as_of: Option<i64>,
    },
    /// Program evaluation: two-way fixed-effects difference-in-differences on the district x week
    /// panel, randomisation inference over districts, pre-period placebo.
    Evaluate {
        #[arg(long)]
        warehouse: PathBuf,
        /// `program_start=YYYY-MM-DD` + `treated=D1,D3`, or `start=D1:2024-06-01,D3:2024-08-01`
        /// (staggered starts); `scenario=broad` (repeatable).
        #[arg(long = "param", value_parser = parse_param)]
        params: Vec<(String, String)>,
        /// Random assignments of start dates to districts when there are too many to enumerate.
        #[arg(long, default_value_t = crate::output::evaluate::DEFAULT_REPLICATES)]
        replicates: usize,
        #[arg(long, default_value_t = crate::output::evaluate::DEFAULT_SEED)]
        seed: u64,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Re-size every scenario while varying each uncertain assumption one at a time.
    Sensitivity {
        #[arg(long)]
        warehouse: PathBuf,
        /// Built-in policy name or path (default: the policy the warehouse was last tagged with).
        #[arg(long)]
        policy: Option<String>,
        /// Assumptions file (policies/NAME.toml).
        #[arg(long, default_value = "sensitivity")]
        assumptions: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Compare cities: the same policy over several warehouses side by side (never writes to them).
    Compare {
        /// A warehouse folder (repeat: --warehouse A --warehouse B …).
        #[arg(long = "warehouse", required = true)]
        warehouses: Vec<PathBuf>,
        /// Policy to compare under; warehouses tagged otherwise are tagged in memory. Default: the
        /// policy every warehouse was tagged with (refused when they differ).
        #[arg(long)]
        policy: Option<String>,
        /// `all` or a comma list; default: the policy's scenarios (with --policy), else those tagged everywhere.
        #[arg(long)]
        scenarios: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also write the compare dashboard (self-contained HTML, small counts suppressed) here.
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Publish public reports.
    Publish {
        #[command(subcommand)]
        command: PublishCommand,
    },
    /// Dashboards (dashboards/NAME.toml) as self-contained HTML.
    Dashboard {
        #[command(subcommand)]
        command: DashboardCommand,
    },
    /// Source profiles: list the known ones, detect which fits a file.
    Profile {
        #[command(subcommand)]
        command: ProfileCommand,
    },
    /// Crosswalk tools.
    Crosswalk {
        #[command(subcommand)]
        command: CrosswalkCommand,
    },
    /// Policy tools.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// List the warehouse's commits: table, version, time, operation, file, rows.
    History {
        #[arg(long)]
        warehouse: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// What a snapshot of the warehouse holds, as JSON: every ingest's record (reconciliation,
    /// unmapped types), the tag run, and the table versions read.
    Status {
        #[arg(long)]
        warehouse: PathBuf,
        /// Read the warehouse as of this `calls` version (see `callsift history`), with the
        /// eligibility tagged at that point.
        #[arg(long)]
        as_of: Option<i64>,
    },
    /// Compact the small files monthly appends leave (one commit per table; no data changes).
    Optimize {
        #[arg(long)]
        warehouse: PathBuf,
    },
    /// Delete data files no version inside the retention period reads (and files of killed runs).
    Vacuum {
        #[arg(long)]
        warehouse: PathBuf,
        /// Keep files removed within this many hours (at least the tables' 168-hour retention).
        #[arg(long)]
        retain_hours: Option<u64>,
        /// List what would be deleted without deleting it.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy against the call schema without running it.
    Check { policy: String },
}

#[derive(Subcommand)]
pub enum PublishCommand {
    /// The monthly public transparency report: HTML, Markdown and CSVs, small counts suppressed.
    Monthly {
        /// `YYYY-MM` (default: the latest month in the warehouse).
        #[arg(long)]
        month: Option<String>,
        #[arg(long)]
        warehouse: PathBuf,
        /// Output folder; the report goes to OUT/YYYY-MM/.
        #[arg(long)]
        out: PathBuf,
        /// The program's scenario (tagged in the warehouse).
        #[arg(long, default_value = "program")]
        scenario: String,
        /// Counts below this are suppressed; a public output never uses less than 11.
        #[arg(long, default_value_t = crate::output::publish::DEFAULT_THRESHOLD)]
        threshold: i64,
        /// Read the warehouse as of this `calls` version (see `callsift history`), with the
        /// eligibility tagged at that point.
        #[arg(long)]
        as_of: Option<i64>,
    },
}

#[derive(Subcommand)]
pub enum DashboardCommand {
    /// Render a dashboard to one self-contained HTML file (works offline, prints cleanly).
    Build {
        /// Built-in dashboard name (sizing, transparency, evaluation), `whatif` (the interactive
        /// what-if page: switch limitations, disqualifiers, hours and districts in the browser) or
        /// path to a .toml.
        name: String,
        #[arg(long)]
        warehouse: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Override a dashboard parameter, e.g. --param scenario=narrowest (repeatable).
        #[arg(long = "param", value_parser = parse_param)]
        params: Vec<(String, String)>,
        /// Read the warehouse as of this `calls` version (see `callsift history`), with the
        /// eligibility tagged at that point.
        #[arg(long)]
        as_of: Option<i64>,
    },
}

#[derive(Subcommand)]
pub enum ProfileCommand {
    /// List the known profiles (built in and in ./profiles).
    List,
    /// Name the profile that best matches a file's header, with a confidence and what did not match.
    Detect { file: PathBuf },
}

#[derive(Subcommand)]
pub enum CrosswalkCommand {
    /// Draft crosswalk rows for unmapped call types (from a warehouse, or a file read with a profile).
    Suggest {
        #[arg(long, conflicts_with_all = ["profile", "file", "types"])]
        warehouse: Option<PathBuf>,
        /// A type list from any city: CSV with columns `raw_type,count`.
        #[arg(long, conflicts_with_all = ["profile", "file"])]
        types: Option<PathBuf>,
        #[arg(long, requires = "file")]
        profile: Option<String>,
        file: Option<PathBuf>,
        /// Write the draft CSV here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub fn parse_param(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .ok_or_else(|| format!("expected name=value, found `{s}`"))
}

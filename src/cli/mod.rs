//! The command line: clap definitions ([`args`]) and one module per command group. The only
//! layer that writes to stdout/stderr; domain modules return values.
pub mod args;
pub mod compare;
pub mod output;
pub mod pipeline;
pub mod query;
pub mod setup;
pub mod text;
pub mod warehouse;

use crate::eligibility::tag::TagOptions;
use crate::error::Result;
use crate::ingest::IngestOptions;
use args::{Cli, Command, CrosswalkCommand, DashboardCommand, PolicyCommand, ProfileCommand, PublishCommand};

/// Run one parsed command, writing what the user sees to stdout.
pub async fn run(cli: Cli) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match cli.command {
        Command::Demo { out: dir } => pipeline::demo(&dir, &mut out).await,
        Command::Ingest { profile, warehouse, batch_size, max_record_bytes, quiet, inputs } => {
            let opts = IngestOptions { batch_size, progress: !quiet, max_record_bytes };
            pipeline::ingest(&profile, &warehouse, &inputs, &opts, &mut out).await.map(|_| ())
        }
        Command::Tag { policy, warehouse, scenarios, allow_unmapped } => {
            pipeline::tag(&policy, &warehouse, &TagOptions { scenarios, allow_unmapped }, &mut out).await.map(|_| ())
        }
        Command::Report { name, warehouse, format, out: path, params, as_of } => {
            query::report(&name, &warehouse, as_of, &params, format, path.as_deref(), &mut out).await
        }
        Command::Sql { query, warehouse, format, out: path, as_of } => {
            query::sql(&query, &warehouse, as_of, format, path.as_deref(), &mut out).await
        }
        Command::Sample { profile, rows, seed, out: path } => {
            pipeline::sample(profile.as_deref(), rows, seed, &path, &mut out)
        }
        Command::Explain { call_id, warehouse, policy, as_of } => {
            query::explain(&call_id, &warehouse, as_of, policy.as_deref(), &mut out).await
        }
        Command::Evaluate { warehouse, params, replicates, seed, format, out: path } => {
            output::evaluate(&warehouse, &params, replicates, seed, format, path.as_deref(), &mut out).await
        }
        Command::Publish {
            command: PublishCommand::Monthly { month, warehouse, out: dir, scenario, threshold, as_of },
        } => {
            let opts = crate::output::publish::MonthlyOptions { month, scenario, threshold };
            output::publish_monthly(&warehouse, as_of, &opts, &dir, &mut out).await
        }
        Command::Dashboard { command: DashboardCommand::Build { name, warehouse, out: path, params, as_of } } => {
            output::dashboard_build(&name, &warehouse, as_of, &params, &path, &mut out).await
        }
        Command::Sensitivity { warehouse, policy, assumptions, format, out: path } => {
            query::sensitivity(&warehouse, policy.as_deref(), &assumptions, format, path.as_deref(), &mut out).await
        }
        Command::Compare { warehouses, policy, scenarios, format, out: path, html } => {
            let opts = crate::output::compare::CompareOptions { policy, scenarios };
            compare::compare(&warehouses, &opts, format, path.as_deref(), html.as_deref(), &mut out).await
        }
        Command::Profile { command: ProfileCommand::List } => setup::profile_list(&mut out),
        Command::Profile { command: ProfileCommand::Detect { file } } => setup::profile_detect(&file, &mut out),
        Command::Crosswalk { command: CrosswalkCommand::Suggest { warehouse, types, profile, file, out: path } } => {
            let from = match (&warehouse, &types, &profile, &file) {
                (Some(w), None, None, None) => setup::SuggestFrom::Warehouse(w),
                (None, Some(t), None, None) => setup::SuggestFrom::Types(t),
                (None, None, Some(p), Some(f)) => setup::SuggestFrom::File(p, f),
                _ => {
                    return Err(crate::Error::Usage(
                        "give one of --warehouse DIR, --types TYPES.csv, or --profile NAME and a FILE".into(),
                    ))
                }
            };
            setup::crosswalk_suggest(from, path.as_deref(), &mut out).await
        }
        Command::Policy { command: PolicyCommand::Check { policy } } => setup::policy_check(&policy, &mut out).await,
        Command::History { warehouse: w, format } => warehouse::history(&w, format, &mut out).await,
        Command::Status { warehouse: w, as_of } => warehouse::status(&w, as_of, &mut out).await,
        Command::Optimize { warehouse: w } => warehouse::optimize(&w, &mut out).await,
        Command::Vacuum { warehouse: w, retain_hours, dry_run } => {
            warehouse::vacuum(&w, retain_hours, dry_run, &mut out).await
        }
    }
}

//! Deterministic synthetic CAD "calls for service" export (one row per responding unit).
//!
//! The output imitates a mid-size US city's public CAD extract (America/Denver wall time,
//! `MM/DD/YYYY hh:mm:ss AM` stamps, initial + final call type, unit-grain rows, a community
//! responder program launching part way through the period, and a sprinkling of malformed rows).
//! Only std, chrono and csv are used; the PRNG is [`crate::rng::Rng`] (xoshiro256** seeded through
//! splitmix64), so a given `SampleSpec` produces byte-identical output on every machine.
//!
//! Stats invariant: `rows == incidents + unit_rows + malformed`. Malformed rows are always the
//! single row of an incident that had exactly one row; such incidents are counted only in
//! `malformed` (not in `incidents`, `officer_initiated` or `community_responder_incidents`).
//! If the row budget cuts off an incident's later unit rows, only the written rows are counted.
//!
//! Files: `call_types.csv` (the call-type table, read by `call_types.rs`), `vocab.rs` (streets,
//! fillers, weights), `time.rs` (civil dates, DST, timestamp format), `gen.rs` (incidents and their
//! unit rows), `out.rs` (the CSV writer and stats); this file plans the days and interleaves rows.

mod call_types;
mod gen;
mod layout;
mod out;
#[cfg(test)]
mod tests;
mod time;
mod vocab;

use chrono::{Datelike, Months, NaiveDate};
use std::io;

use gen::{Gen, UnitRow};
pub use layout::write_profile_sample;
use out::Out;
use time::{days_from_epoch, DAY};
use vocab::DOW_W;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleSpec {
    /// Exact number of data rows written (header excluded).
    pub rows: usize,
    pub seed: u64,
    /// First day of the period.
    pub start: NaiveDate,
    /// Calendar months covered from `start` (0 is treated as 1).
    pub months: u32,
}

impl Default for SampleSpec {
    fn default() -> Self {
        SampleSpec {
            rows: 50_000,
            seed: 42,
            start: NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date"),
            months: 15,
        }
    }
}

/// Ground truth about what was written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SampleStats {
    pub rows: usize,
    pub incidents: usize,
    /// Rows beyond the first for an incident.
    pub unit_rows: usize,
    pub malformed: usize,
    pub officer_initiated: usize,
    pub community_responder_incidents: usize,
}

pub const HEADER: [&str; 15] = [
    "incident_number",
    "unit_id",
    "call_received",
    "dispatched",
    "on_scene",
    "cleared",
    "call_source",
    "initial_type",
    "final_type",
    "priority",
    "disposition",
    "district",
    "beat",
    "block_address",
    "narrative",
];

/// Write a synthetic CAD export (header + exactly `spec.rows` data rows) to `out`.
///
/// The only error besides I/O is a broken build: the built-in call-type table does not parse
/// (an `io::Error` of kind `Other` wrapping [`crate::Error::Asset`]).
pub fn write_sample<W: io::Write>(spec: &SampleSpec, out: W) -> io::Result<SampleStats> {
    let mut o = Out::new(out, spec.rows)?;
    generate(spec, &mut o)?;
    o.finish()
}

/// Where generated unit rows go: the callsift export ([`Out`]) or a profile's layout (`layout.rs`).
/// The generator's draws never depend on the sink, so every sink sees the same calls for a seed.
trait Sink {
    fn write(&mut self, row: &UnitRow) -> io::Result<()>;
    /// The row budget is spent.
    fn done(&self) -> bool;
    /// Output rows an incident of `unit_rows` rows becomes (1 in a one-row-per-call layout): the
    /// day plan counts output rows, so it must know.
    fn rows_of(&self, unit_rows: usize) -> usize {
        unit_rows
    }
    /// Output rows per incident expected before any are generated (the plan's prior).
    fn prior_rows_per_incident(&self) -> f64 {
        1.36
    }
}

/// Plan the days, generate incidents and interleave their unit rows into `o` until it is done.
fn generate<S: Sink>(spec: &SampleSpec, o: &mut S) -> io::Result<()> {
    let table = call_types::table().map_err(io::Error::other)?;
    let months = spec.months.max(1);
    let end = spec.start + Months::new(months);
    let day0 = days_from_epoch(spec.start);
    let n_days = (days_from_epoch(end) - day0).max(1) as usize;
    let mut gen = Gen::new(spec, end.year(), table);
    let day_w = day_weights(spec.start, n_days);
    let mut suffix = vec![0.0; n_days + 1];
    for i in (0..n_days).rev() {
        suffix[i] = suffix[i + 1] + day_w[i];
    }

    let prior = o.prior_rows_per_incident();
    // Unit rows wait for 0-5 further incidents before being written (interleaving).
    let mut pending: Vec<(usize, UnitRow)> = Vec::new();
    let mut planned_rows = 0usize; // rows generated so far (written + pending)
    let mut generated = 0usize; // incidents generated so far
    let p_malformed = 0.0093;
    let mut times: Vec<u32> = Vec::new();
    let mut day = 0usize;
    while !o.done() {
        // Self-correcting plan: incidents still needed / weight of the remaining days.
        let mean = (planned_rows as f64 + prior * 500.0) / (generated as f64 + 500.0);
        let remaining_rows = spec.rows.saturating_sub(planned_rows) as f64;
        let remaining_incidents = remaining_rows / mean;
        let count = if day + 1 >= n_days {
            (remaining_incidents * 1.05).ceil() as usize + 3
        } else {
            let x = remaining_incidents * day_w[day] / suffix[day];
            x.floor() as usize + gen.rng.chance(x.fract()) as usize
        };
        times.clear();
        for _ in 0..count {
            let h = gen.hour_cdf.sample(&mut gen.rng) as u32;
            times.push(h * 3600 + gen.rng.below(3600) as u32);
        }
        times.sort_unstable();
        let day_start = (day0 + day as i64) * DAY;
        for &s in &times {
            if o.done() {
                break;
            }
            let rows = gen.incident(day_start + s as i64, p_malformed);
            generated += 1;
            planned_rows += o.rows_of(rows.len());
            let mut delay = 0;
            for (k, r) in rows.into_iter().enumerate() {
                if k == 0 {
                    o.write(&r)?;
                } else {
                    delay = (delay + gen.rng.below(4)).min(5);
                    pending.push((generated + delay, r));
                }
            }
            let mut i = 0;
            while i < pending.len() {
                if pending[i].0 <= generated {
                    let (_, r) = pending.remove(i);
                    o.write(&r)?;
                } else {
                    i += 1;
                }
            }
        }
        day += 1;
        if day >= n_days {
            for (_, r) in pending.drain(..) {
                o.write(&r)?;
            }
        }
    }
    Ok(())
}

/// Relative call volume of each day: day of week x mild seasonality (summer high).
fn day_weights(start: NaiveDate, n_days: usize) -> Vec<f64> {
    (0..n_days)
        .map(|i| {
            let d = start + chrono::Days::new(i as u64);
            let season = 1.0 + 0.08 * ((d.ordinal() as f64 - 105.0) / 365.0 * std::f64::consts::TAU).sin();
            DOW_W[d.weekday().num_days_from_monday() as usize] * season
        })
        .collect()
}

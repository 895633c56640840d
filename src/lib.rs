//! callsift: size, tag and report community-responder eligibility from 911 CAD exports.
//!
//! The pipeline, one folder per stage (see docs/architecture.md):
//! [`source`] (profiles, crosswalks, time parsing) → [`ingest`] (CSV → Arrow → Parquet) →
//! [`warehouse`] (tables, schema, engine) → [`eligibility`] (policy → SQL → tags) →
//! [`output`] (reports, privacy, publish, evaluate, dashboards). [`cli`] is the only layer that prints.
//! Dependencies point one way: cli → output/eligibility → ingest/source → warehouse → error.
pub mod assets;
pub mod cli;
pub mod eligibility;
pub mod error;
pub mod ingest;
pub mod output;
pub mod rng;
pub mod sample;
pub mod source;
pub mod warehouse;

pub use error::{Error, Result};

//! callsift: size, tag and report community-responder eligibility from 911 CAD exports.
//!
//! The pipeline, one module per stage:
//! [`profile`] (+ [`crosswalk`], [`timeparse`]) → [`ingest`] → [`warehouse`] → [`policy`] / [`tag`] → [`report`].
pub mod assets;
pub mod commands;
pub mod crosswalk;
pub mod dashboard;
pub mod detect;
pub mod error;
pub mod evaluate;
pub mod explain;
pub mod ingest;
pub mod policy;
pub mod privacy;
pub mod profile;
pub mod publish;
pub mod report;
pub mod sample;
pub mod schema;
pub mod suggest;
pub mod tag;
pub mod timeparse;
pub mod warehouse;

pub use error::{Error, Result};

//! Eligibility: the policy model, rule → SQL generation, tagging every call under every scenario,
//! and explaining one call's outcome.
pub mod explain;
pub mod policy;
pub mod tag;

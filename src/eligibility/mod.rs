//! Eligibility: the policy model, rule → SQL generation, tagging every call under every scenario,
//! explaining one call's outcome, and the sensitivity of sizing to uncertain assumptions.
pub mod explain;
pub mod outcome;
pub mod policy;
pub mod rules;
pub mod sensitivity;
pub mod sql;
pub mod tag;

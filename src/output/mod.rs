//! Outputs: the report runner and its formats, privacy (the one owner of public-output rules),
//! publishing, program evaluation, dashboards and comparing cities.
pub mod compare;
pub mod dashboard;
pub mod evaluate;
pub mod format;
pub mod privacy;
pub mod publish;
pub mod report;
pub mod sql;
pub mod whatif;

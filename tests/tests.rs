//! One integration-test binary (links once): the real `callsift` binary on fixtures.
mod common;

mod cli;
mod compare;
mod dashboard;
mod fuzz;
mod hostile;
mod publish;
mod real_cad;
mod real_exports;
mod reports;
mod s3;
mod sample_profiles;
mod security;
mod tools;
mod validity;
mod warehouse;
mod whatif;

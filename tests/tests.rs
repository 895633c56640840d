//! One integration-test binary (links once): the real `callsift` binary on fixtures.
mod common;

mod cli;
mod dashboard;
mod real_cad;
mod reports;
mod tools;
mod publish;

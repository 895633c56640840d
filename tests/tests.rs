//! One integration-test binary (links once): the real `callsift` binary on fixtures.
mod common;

mod cli;
mod real_cad;
mod tools;

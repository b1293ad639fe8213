//! # povm-cli
//!
//! The customer's command line, `povm`: submit a job from a TOML file ([`spec`]), follow it to
//! its verdict ([`chain`]), and fetch its result files from the providers that agreed on it,
//! verifying every byte against the outcome on chain ([`fetch`], [`verify`]). See
//! `cli/README.md`.
//!
//! The decisions are pure functions, tested on their own: [`spec::parse_job`] (a job file to a
//! checked `JobSpec` and budget), [`verify::verify_manifest`], [`verify::check_chain_record`],
//! [`verify::safe_file_name`], [`verify::authorization`]. [`fetch::fetch_and_verify`] does a
//! whole fetch given the services, so a network test can call it without the binary.

pub mod chain;
pub mod fetch;
pub mod key;
pub mod quote;
pub mod spec;
pub mod verify;

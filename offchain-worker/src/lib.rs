#![doc = include_str!("../README.md")]

pub mod attestation;
pub mod client;
pub mod commands;
pub mod config;
pub mod error;
pub mod executor;
pub mod fetch;
pub mod lottery;
pub mod opt;
pub mod prelude;
pub mod prometheus;
pub mod results;
pub mod signer;
pub mod state;

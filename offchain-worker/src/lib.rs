#![doc = include_str!("../README.md")]

pub mod attestation;
pub mod executor;
pub mod opt;
pub mod prelude;

//! The PoVM provider worker: runs assigned container jobs and attests their results.
//!
//! - [`executor`]: runs a job's container under its limits and collects what it did;
//! - [`attestation`]: the result digest, the checkpoints Merkle root and the commitment
//!   that the worker commits and reveals on chain.

pub mod attestation;
pub mod executor;
pub mod opt;
pub mod prelude;

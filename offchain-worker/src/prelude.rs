//! Log targets and type aliases shared by the worker's modules.

/// Log target of the container executor.
pub const LOG_EXECUTOR: &str = "povm::executor";

pub use crate::attestation::Hash;

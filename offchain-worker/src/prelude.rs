//! Log targets and type aliases shared by the worker's modules.

pub use crate::attestation::Hash;
pub use povm_client::types::{AccountId, H256};
pub use povm_primitives::{Digest, JobId};

/// Log target of the container executor.
pub const LOG_EXECUTOR: &str = "povm::executor";
/// Log target of the chain client.
pub const LOG_CLIENT: &str = "povm::client";
/// Log target of the assignment service.
pub const LOG_SERVICE: &str = "povm::service";
/// Log target of the metrics endpoint.
pub const LOG_METRICS: &str = "povm::metrics";

/// The runtime's value types, from the one place that knows the runtime's shape.
pub use povm_client::types::{
	AssignmentView, Balance, BlockNumber, DrawView, JobSpec, JobView, LotteryView, Nonce,
};

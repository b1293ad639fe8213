//! Log targets and type aliases shared by the worker's modules.

pub use crate::attestation::Hash;
pub use povm_primitives::{Digest, JobId};
pub use sp_core::{crypto::AccountId32 as AccountId, H256};

/// Log target of the container executor.
pub const LOG_EXECUTOR: &str = "povm::executor";
/// Log target of the chain client.
pub const LOG_CLIENT: &str = "povm::client";
/// Log target of the assignment service.
pub const LOG_SERVICE: &str = "povm::service";
/// Log target of the metrics endpoint.
pub const LOG_METRICS: &str = "povm::metrics";

/// The runtime's balance type.
pub type Balance = u128;
/// The runtime's block number type.
pub type BlockNumber = u32;
/// The runtime's account nonce type.
pub type Nonce = u32;

/// A job as the runtime API returns it.
pub type JobView = pallet_job_queue::runtime_api::JobView<AccountId, Balance, BlockNumber>;
/// An assignment as the runtime API returns it.
pub type AssignmentView = povm_primitives::AssignmentView<BlockNumber>;
/// A job specification with the runtime's balance type.
pub type JobSpec = povm_primitives::JobSpec<Balance>;
/// The open lottery draw as the runtime API returns it.
pub type DrawView = pallet_vrf_lottery::DrawInfo<BlockNumber>;
/// A provider's lottery standing as the runtime API returns it.
pub type LotteryView = pallet_vrf_lottery::ProviderView;

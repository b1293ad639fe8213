//! The runtime's value types, from the pallet crates, with the runtime's concrete parameters.
//!
//! These are the Rust types the runtime itself encodes and decodes; [`crate::runtime`] uses
//! them in place of generated mirrors, so nothing here is a hand-written copy of a layout.

pub use pallet_vm_proof::{Arch, DeclineReason, Reveal, VmOffer};
pub use pallet_vrf_lottery::VrfProofBytes;
pub use povm_primitives::{
	results::{ResultManifest, ResultService, RunOutcome},
	AssignmentPhase, Digest, ImageRef, InputRef, JobId, JobState, RedundancyPolicy, RegistryRef,
	Usage,
};
pub use sp_core::{crypto::AccountId32 as AccountId, H256};

/// The runtime's balance type.
pub type Balance = u128;
/// The runtime's block number type.
pub type BlockNumber = u32;
/// The runtime's account nonce type.
pub type Nonce = u32;

/// A job specification with the runtime's balance type.
pub type JobSpec = povm_primitives::JobSpec<Balance>;
/// A spec's quote, as `PovmJobsApi::quote` returns it.
pub type QuoteView = pallet_job_queue::runtime_api::QuoteView<Balance, BlockNumber>;
/// A job as `PovmJobsApi::job` returns it.
pub type JobView = pallet_job_queue::runtime_api::JobView<AccountId, Balance, BlockNumber>;
/// A job as version 2 of `PovmJobsApi::job` returns it (runtimes before spec 107).
pub type JobViewV2 = pallet_job_queue::runtime_api::JobViewV2<AccountId, Balance, BlockNumber>;
/// An assignment as `PovmJobsApi::provider_assignments` returns it.
pub type AssignmentView = povm_primitives::AssignmentView<BlockNumber>;
/// The open lottery draw as `VrfLotteryApi::current_draw` returns it.
pub type DrawView = pallet_vrf_lottery::DrawInfo<BlockNumber>;
/// A provider's lottery standing as `VrfLotteryApi::provider` returns it.
pub type LotteryView = pallet_vrf_lottery::ProviderView;
/// The last closed lottery draw as `VrfLotteryApi::last_outcome` returns it.
pub type OutcomeView = pallet_vrf_lottery::runtime_api::OutcomeView<AccountId, Balance>;
/// A provider's registration status.
pub type ProviderStatus = pallet_vm_proof::ProviderStatus<BlockNumber>;

/// A provider's record in `VmProof::Providers`, as the generated storage type holds it.
pub type ProviderRecord = crate::runtime::runtime_types::pallet_vm_proof::types::ProviderInfo;

/// The subxt account id of a runtime account.
pub fn to_subxt_account(who: &AccountId) -> subxt::utils::AccountId32 {
	subxt::utils::AccountId32(*<AccountId as AsRef<[u8; 32]>>::as_ref(who))
}

/// The runtime account of a subxt account id.
pub fn from_subxt_account(who: &subxt::utils::AccountId32) -> AccountId {
	AccountId::new(who.0)
}

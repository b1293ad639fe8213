//! Domain types of the job queue.

use crate::Config;
use codec::{Decode, Encode, MaxEncodedLen};
use frame_support::{
	traits::fungible::Inspect, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
pub use povm_primitives::{
	results::RunOutcome, Digest, Footprint, JobId, JobSpec, JobState, Output, ProtocolParams,
	RedundancyPolicy, Resources, Usage,
};
use scale_info::TypeInfo;

/// Seconds of the commit window reserved for container start-up and the commit transaction:
/// a job's `max_seconds` plus this must fit in the commit window.
pub const START_MARGIN_SECS: u64 = 30;

/// The balance type of the configured currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// A job spec priced in this runtime's balance.
pub type JobSpecOf<T> = JobSpec<BalanceOf<T>>;

/// Protocol parameters of this runtime.
pub type ProtocolParamsOf<T> = ProtocolParams<BlockNumberFor<T>>;

/// Every provider ever assigned to a job.
pub type ProvidersOf<T> =
	BoundedVec<<T as frame_system::Config>::AccountId, <T as Config>::MaxAssignees>;

/// Payments to agreeing providers.
pub type PaymentsOf<T> =
	BoundedVec<(<T as frame_system::Config>::AccountId, BalanceOf<T>), <T as Config>::MaxAssignees>;

/// A job on chain.
#[derive(
	Encode, Decode, TypeInfo, MaxEncodedLen, DebugNoBound, CloneNoBound, PartialEqNoBound, EqNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct Job<T: Config> {
	/// Who submitted the job and gets the refunds.
	pub owner: T::AccountId,
	/// The specification.
	pub spec: JobSpecOf<T>,
	/// Escrow still held for this job (zero once settled).
	pub budget: BalanceOf<T>,
	/// Storage deposit held until the record is reaped.
	pub deposit: BalanceOf<T>,
	/// Lifecycle state.
	pub state: JobState,
	/// Block of submission.
	pub submitted_at: BlockNumberFor<T>,
	/// Last block the job may wait in the queue.
	pub expires_at: BlockNumberFor<T>,
	/// Every provider ever assigned, in order.
	pub providers: ProvidersOf<T>,
	/// Latest commit deadline given to assigned providers.
	pub commit_deadline: Option<BlockNumberFor<T>>,
	/// Reveal deadline, once commits closed.
	pub reveal_deadline: Option<BlockNumberFor<T>>,
}

/// The accepted result of a completed job.
#[derive(
	Encode, Decode, TypeInfo, MaxEncodedLen, DebugNoBound, CloneNoBound, PartialEqNoBound, EqNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct JobResult<T: Config> {
	/// Digest of the accepted result (exit code, stdout/stderr digests, output files).
	pub result_digest: Digest,
	/// Merkle root of the accepted checkpoints.
	pub checkpoints_root: Digest,
	/// Small output (<= 1 KiB).
	pub output: Output,
	/// Median usage of the agreeing replicas.
	pub usage: Usage,
	/// Energy (µWh) and carbon (µg CO2e) of the agreeing replicas.
	pub footprint: Footprint,
	/// What each agreeing provider was paid.
	pub payments: PaymentsOf<T>,
	/// What was refunded to the owner.
	pub refunded: BalanceOf<T>,
}

/// One entry of the price-ordered queue.
#[derive(
	Encode, Decode, TypeInfo, MaxEncodedLen, DebugNoBound, CloneNoBound, PartialEqNoBound, EqNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct QueueEntry<T: Config> {
	/// Price per VM-second (the ordering key, highest first).
	pub price: BalanceOf<T>,
	/// The job.
	pub job: JobId,
	/// Last block the job may wait.
	pub expires_at: BlockNumberFor<T>,
}

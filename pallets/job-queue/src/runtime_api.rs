//! Runtime API for clients and the worker daemon.
//!
//! Declared here (the job queue owns job records); the runtime implements it from both
//! pallets: `job` from [`crate::Pallet::job_view`] and `provider_assignments` from the
//! vm-proof pallet's `assignments_of`.

use alloc::vec::Vec;
use codec::{Codec, Decode, Encode};
use core::fmt::Debug;
use povm_primitives::{AssignmentView, Digest, Footprint, JobId, JobSpec, JobState, Output, Usage};
use scale_info::TypeInfo;

/// Everything a customer or worker needs about one job.
#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug, TypeInfo)]
pub struct JobView<AccountId, Balance, BlockNumber> {
	/// The job.
	pub id: JobId,
	/// Who submitted it.
	pub owner: AccountId,
	/// The specification (what the worker runs).
	pub spec: JobSpec<Balance>,
	/// State (the verdict once finished: `Completed` or `Disputed`).
	pub state: JobState,
	/// Escrow still held.
	pub budget: Balance,
	/// Every provider ever assigned.
	pub providers: Vec<AccountId>,
	/// Latest commit deadline.
	pub commit_deadline: Option<BlockNumber>,
	/// Reveal deadline once commits closed.
	pub reveal_deadline: Option<BlockNumber>,
	/// Accepted result, once completed.
	pub result: Option<ResultView<AccountId, Balance>>,
}

/// An accepted result.
#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug, TypeInfo)]
pub struct ResultView<AccountId, Balance> {
	/// Digest of the accepted result.
	pub result_digest: Digest,
	/// Merkle root of its checkpoints.
	pub checkpoints_root: Digest,
	/// Small output.
	pub output: Output,
	/// Median usage of the agreeing replicas.
	pub usage: Usage,
	/// Energy (µWh) and carbon (µg CO2e).
	pub footprint: Footprint,
	/// Payment per agreeing provider.
	pub payments: Vec<(AccountId, Balance)>,
	/// Refunded to the owner.
	pub refunded: Balance,
}

sp_api::decl_runtime_apis! {
	/// The PoVM job API.
	pub trait PovmJobsApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// A job's spec, state or verdict, result digest, output, usage, energy and carbon.
		fn job(id: JobId) -> Option<JobView<AccountId, Balance, BlockNumber>>;
		/// The jobs `who` is assigned to and not yet finished with, with its phase and deadlines.
		fn provider_assignments(who: AccountId) -> Vec<AssignmentView<BlockNumber>>;
	}
}

impl<T: crate::Config> crate::Pallet<T> {
	/// A job as seen through [`PovmJobsApi::job`].
	pub fn job_view(
		id: JobId,
	) -> Option<
		JobView<T::AccountId, crate::BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>>,
	> {
		let job = crate::Jobs::<T>::get(id)?;
		let result = crate::Results::<T>::get(id).map(|r| ResultView {
			result_digest: r.result_digest,
			checkpoints_root: r.checkpoints_root,
			output: r.output,
			usage: r.usage,
			footprint: r.footprint,
			payments: r.payments.into_inner(),
			refunded: r.refunded,
		});
		Some(JobView {
			id,
			owner: job.owner,
			spec: job.spec,
			state: job.state,
			budget: job.budget,
			providers: job.providers.into_inner(),
			commit_deadline: job.commit_deadline,
			reveal_deadline: job.reveal_deadline,
			result,
		})
	}
}

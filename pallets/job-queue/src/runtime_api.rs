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
pub type JobView<AccountId, Balance, BlockNumber> =
	JobViewOf<JobSpec<Balance>, AccountId, Balance, BlockNumber>;

/// A job with a spec of type `Spec`: [`JobView`] for this runtime, [`JobViewV2`] for one before
/// spec 107.
#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug, TypeInfo)]
pub struct JobViewOf<Spec, AccountId, Balance, BlockNumber> {
	/// The job.
	pub id: JobId,
	/// Who submitted it.
	pub owner: AccountId,
	/// The specification (what the worker runs).
	pub spec: Spec,
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

/// An assignment as version 1 of [`PovmJobsApi`] returned it (runtimes before spec 101): an
/// [`AssignmentView`] without the draw wave. Only for reading a runtime that has not been
/// upgraded yet (`provider_assignments_before_version_2` on a native client).
#[derive(Clone, Copy, Encode, Decode, PartialEq, Eq, Debug, TypeInfo)]
pub struct AssignmentViewV1<BlockNumber> {
	/// The job.
	pub job: JobId,
	/// Where the provider stands.
	pub phase: povm_primitives::AssignmentPhase,
	/// Commit deadline (inclusive).
	pub commit_deadline: BlockNumber,
	/// Reveal deadline (inclusive); only meaningful once commits closed.
	pub reveal_deadline: BlockNumber,
}

/// A job as version 2 of [`PovmJobsApi`] returned it (runtimes before spec 107): a
/// [`JobView`] whose spec names the image by ID text and has no inputs (job-queue storage
/// version 1). Only for reading a runtime that has not been upgraded yet.
pub type JobViewV2<AccountId, Balance, BlockNumber> =
	JobViewOf<crate::migrations::v2::v1::JobSpec<Balance>, AccountId, Balance, BlockNumber>;

impl<AccountId, Balance, BlockNumber> JobViewV2<AccountId, Balance, BlockNumber> {
	/// The view in this version's layout, with the spec as the storage migration to job-queue
	/// version 2 rewrites it ([`crate::migrations::v2::migrated_spec`]); `None` for a spec
	/// without an image ID, which version 2 never stored.
	pub fn upgraded(self) -> Option<JobView<AccountId, Balance, BlockNumber>> {
		Some(JobViewOf {
			id: self.id,
			owner: self.owner,
			spec: crate::migrations::v2::migrated_spec(self.spec)?,
			state: self.state,
			budget: self.budget,
			providers: self.providers,
			commit_deadline: self.commit_deadline,
			reveal_deadline: self.reveal_deadline,
			result: self.result,
		})
	}
}

/// What a job would cost and when it would be tried, before it is submitted
/// ([`PovmJobsApi::quote`]).
#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug, TypeInfo)]
pub struct QuoteView<Balance, BlockNumber> {
	/// Why `submit_job` would refuse the spec (a `JobQueue` error such as `BadCommand`,
	/// `TooManyReplicas` or `QueueFull`), if it would. The caller's balance is not checked.
	pub refusal: Option<sp_runtime::DispatchError>,
	/// The least budget `submit_job` accepts: `max_replicas × max_seconds × price_per_second`.
	pub min_budget: Balance,
	/// The storage deposit held beside the budget until the record is reaped.
	pub deposit: Balance,
	/// The spec's price level (eight per doubling of the price; exact below 16).
	pub price_level: u16,
	/// Queued jobs tried before it: every job at a higher level and those already at its
	/// level (a waiting job may be passed while it waits).
	pub jobs_ahead: u32,
	/// Jobs in the queue now.
	pub queued: u32,
	/// Whether the queue is full: the job would then evict one of the cheapest level's jobs
	/// (`refusal` is `QueueFull` when there is none cheaper).
	pub queue_full: bool,
	/// Providers that could run it now: registered, live, offer and architecture fitting, a
	/// free slot.
	pub eligible_providers: u32,
	/// The fewest eligible providers it needs to be assigned:
	/// `max(MinEligibleProviders, min_replicas)`.
	pub needed_providers: u32,
	/// The block of its first try if it is included in the next block: one block later plus
	/// one block per `min(max_assignments_per_block, tries the hook's weight affords)` jobs
	/// ahead. An estimate: jobs ahead that wait are passed, failed tries of jobs ahead take
	/// some of a block's tries, jobs submitted later at a higher level go first, and the try
	/// succeeds only with `needed_providers` eligible.
	pub expected_start: BlockNumber,
	/// The last block it would wait in the queue before it expires, refunded.
	pub expires_at: BlockNumber,
}

/// The version of [`PovmJobsApi`] declared here (its `#[api_version]`; the runtime reports it
/// in `Core_version`'s `apis`). Version 2 added the draw wave to `provider_assignments`'s
/// [`AssignmentView`]; version 3 returns the job spec with an [`povm_primitives::ImageRef`]
/// and inputs. A client reading version 3 must read [`JobViewV2`] from a runtime that reports 2.
/// Version 4 added [`PovmJobsApi::quote`].
pub const POVM_JOBS_API_VERSION: u32 = 4;

/// The id of [`PovmJobsApi`] in `Core_version`'s `apis`: `blake2_64("PovmJobsApi")`, as
/// `sp_api` derives it (checked by a test against `RuntimeApiInfo::ID`).
pub const POVM_JOBS_API_ID: [u8; 8] = [0xc1, 0x29, 0xcf, 0x81, 0x7b, 0x16, 0x98, 0x60];

sp_api::decl_runtime_apis! {
	/// The PoVM job API.
	///
	/// Version 4 (runtime spec 110): `quote`.
	/// Version 3 (runtime spec 107): the job's spec names its image by [`ImageRef`] and lists
	/// its inputs; version 2 returned [`JobViewV2`].
	/// Version 2 (runtime spec 101): [`AssignmentView`] carries the provider's draw wave, which
	/// the commitment binds. Version 1 returned [`AssignmentViewV1`].
	///
	/// [`ImageRef`]: povm_primitives::ImageRef
	#[api_version(4)]
	pub trait PovmJobsApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// A job's spec (image by ID text, no inputs), state or verdict, result digest, output,
		/// usage, energy and carbon (versions 1 and 2).
		#[changed_in(3)]
		fn job(id: JobId) -> Option<JobViewV2<AccountId, Balance, BlockNumber>>;
		/// A job's spec, state or verdict, result digest, output, usage, energy and carbon.
		fn job(id: JobId) -> Option<JobView<AccountId, Balance, BlockNumber>>;
		/// The jobs `who` is assigned to and not yet finished with, with its phase and deadlines
		/// (version 1: without the draw wave).
		#[changed_in(2)]
		fn provider_assignments(who: AccountId) -> Vec<AssignmentViewV1<BlockNumber>>;
		/// The jobs `who` is assigned to and not yet finished with, with its draw wave, phase
		/// and deadlines.
		fn provider_assignments(who: AccountId) -> Vec<AssignmentView<BlockNumber>>;
		/// For a spec not yet submitted: whether `submit_job` would take it, the least budget
		/// and the deposit, its place in the queue and the expected block of its first try
		/// (version 4).
		#[api_version(4)]
		fn quote(spec: JobSpec<Balance>) -> QuoteView<Balance, BlockNumber>;
	}
}

impl<T: crate::Config> crate::Pallet<T> {
	/// Job `id` as storage version 1 laid it out, in this version's layout: what the state of
	/// the block that enacts an upgrade to version 2 holds. That block's state already has the
	/// new code, which runtime API calls at it run, but its migrations run only in the next
	/// block: without this, a client asking about a job at that block would be told it does
	/// not exist (and a worker could give it up).
	fn unmigrated_job(id: JobId) -> Option<crate::Job<T>> {
		let raw = frame_support::storage::unhashed::get_raw(&crate::Jobs::<T>::hashed_key_for(id))?;
		let old = crate::migrations::v2::v1::Job::<T>::decode(&mut &raw[..]).ok()?;
		crate::migrations::v2::migrated_job::<T>(old)
	}

	/// A spec's quote ([`PovmJobsApi::quote`]), as of the current block: reads one entry per
	/// occupied price level at or above the spec's (at most `PRICE_LEVELS`) and the registry's
	/// candidates.
	pub fn quote(
		spec: JobSpec<crate::BalanceOf<T>>,
	) -> QuoteView<crate::BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>> {
		use crate::pallet::*;
		use frame_support::traits::Get;
		use povm_primitives::ProviderRegistry;
		use sp_runtime::traits::Saturating;
		let mut refusal = Self::validate_spec(&spec).err().map(Into::into);
		let min_budget = Self::max_cost(&spec).unwrap_or_default();
		let deposit = Self::deposit_for(&spec).unwrap_or_default();
		let level = Self::level_of(spec.price_per_second);
		let occupied = OccupiedLevels::<T>::get();
		let mut jobs_ahead = 0u32;
		let mut at = occupied.highest_below(None);
		while let Some(l) = at.filter(|l| *l >= level) {
			let jobs = Levels::<T>::get(l).map_or(0, |b| b.jobs());
			jobs_ahead = jobs_ahead.saturating_add(jobs);
			at = occupied.highest_below(Some(l));
		}
		let queued = Counters::<T>::get().queued;
		let queue_full = queued >= T::MaxQueueLen::get();
		if refusal.is_none() && queue_full && Self::eviction_victim(level).is_none() {
			refusal = Some(Error::<T>::QueueFull.into());
		}
		let eligible_providers = T::Providers::drawable_count(&spec.resources, spec.image.arch);
		let needed_providers = spec.redundancy.min_replicas.max(MinEligibleProviders::<T>::get());
		let params = Params::<T>::get();
		let now = frame_system::Pallet::<T>::block_number();
		// Tries a block's hook can afford (a fifth of the block): each try starts only with
		// its most (`try_weight`) left and is charged a draw over `MaxCandidates` that meets
		// no lapsed provider (the usual case), so `1 + (hook − most) / charged`; at most
		// `max_assignments_per_block`.
		let hook = Pallet::<T>::hook_limit();
		let most = Pallet::<T>::try_weight(spec.redundancy.min_replicas);
		let per_try = Pallet::<T>::tried_weight(spec.redundancy.min_replicas, 0);
		let after_first = hook.saturating_sub(most);
		let affordable = if hook.any_lt(most) {
			0
		} else {
			(after_first.ref_time() / per_try.ref_time().max(1))
				.min(after_first.proof_size() / per_try.proof_size().max(1))
				.saturating_add(1)
		};
		let per_block = params
			.max_assignments_per_block
			.min(u32::try_from(affordable).unwrap_or(u32::MAX))
			.max(1);
		let blocks_ahead = jobs_ahead / per_block;
		let expected_start = now.saturating_add(2u32.into()).saturating_add(blocks_ahead.into());
		let expires_at = now.saturating_add(1u32.into()).saturating_add(params.queue_timeout);
		QuoteView {
			refusal,
			min_budget,
			deposit,
			price_level: level,
			jobs_ahead,
			queued,
			queue_full,
			eligible_providers,
			needed_providers,
			expected_start,
			expires_at,
		}
	}

	/// A job as seen through [`PovmJobsApi::job`].
	pub fn job_view(
		id: JobId,
	) -> Option<
		JobView<T::AccountId, crate::BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>>,
	> {
		let job = crate::Jobs::<T>::get(id).or_else(|| Self::unmigrated_job(id))?;
		let result = crate::Results::<T>::get(id).map(|r| ResultView {
			result_digest: r.result_digest,
			checkpoints_root: r.checkpoints_root,
			output: r.output,
			usage: r.usage,
			footprint: r.footprint,
			payments: r.payments.into_inner(),
			refunded: r.refunded,
		});
		Some(JobViewOf {
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

#[cfg(test)]
mod tests {
	use super::*;
	use sp_api::RuntimeApiInfo;

	type Block = frame_system::mocking::MockBlock<crate::mock::Test>;
	type Api = dyn PovmJobsApi<Block, u64, u64, u64>;

	#[test]
	fn the_declared_version_and_id_are_what_the_runtime_reports() {
		assert_eq!(<Api as RuntimeApiInfo>::VERSION, POVM_JOBS_API_VERSION);
		assert_eq!(<Api as RuntimeApiInfo>::ID, POVM_JOBS_API_ID);
	}

	#[test]
	fn version_2_views_carry_the_wave_and_version_1_views_do_not() {
		let v2 = AssignmentView {
			job: 7,
			wave: 3,
			phase: povm_primitives::AssignmentPhase::Reveal,
			commit_deadline: 10u32,
			reveal_deadline: 15u32,
		};
		let v1 = AssignmentViewV1 {
			job: 7,
			phase: povm_primitives::AssignmentPhase::Reveal,
			commit_deadline: 10u32,
			reveal_deadline: 15u32,
		};
		// The two encodings differ by the wave's four bytes: a client must know which it reads.
		assert_eq!(v2.encode().len(), v1.encode().len() + 4);
		assert_ne!(AssignmentViewV1::<u32>::decode(&mut &v2.encode()[..]).ok(), Some(v1));
	}
}

#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

/// The fewest eligible providers a job needs ([`MinEligibleProviders`]) when a genesis config
/// names none (`minEligibleProviders = 0`): three, so that a job's two agreeing replicas are
/// drawn from a pool of at least three and a customer cannot steer a job to the one provider
/// it runs.
pub const DEFAULT_MIN_ELIGIBLE_PROVIDERS: u32 = 3;

/// Jobs assigned per block by default (`ProtocolParams::max_assignments_per_block`, at most
/// `MaxQueueLen`): 256, so that a block can take 512 replicas of two-replica jobs when the
/// hook's weight affords the tries (since spec 113, when a try became a draw of `O(log n)`
/// reads; 8 before, when a try read every provider).
pub const DEFAULT_MAX_ASSIGNMENTS_PER_BLOCK: u32 = 256;

/// Steps of the benchmarks' spec-size component (`submit_job`'s weights): step `s` is a spec
/// whose variable fields are `s / SPEC_SIZE_STEPS` of their bounds. A submission is charged at
/// [`Pallet::spec_size_steps`] of its spec.
pub const SPEC_SIZE_STEPS: u32 = 100;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod dispatchable_impls;
mod ledger_impl;
pub mod migrations;
#[cfg(test)]
mod mock;
mod queue;
pub mod runtime_api;
#[cfg(test)]
mod scale_bench;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_draw;
#[cfg(test)]
mod tests_migration;
#[cfg(test)]
mod tests_queue;
mod tick_impls;
pub mod types;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::boxed::Box;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			Randomness,
		},
		weights::WeightMeter,
	};
	use frame_system::pallet_prelude::*;
	use povm_primitives::ProviderRegistry;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(4);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The currency in which budgets and deposits are held.
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The provider registry (the vm-proof pallet).
		type Providers: ProviderRegistry<Self::AccountId, BlockNumberFor<Self>>;

		/// Randomness for the weighted provider draw: in the runtime, BABE's randomness from
		/// one epoch ago (`pallet_babe::RandomnessFromOneEpochAgo`), not the lottery's seed; a
		/// deterministic source in tests.
		type Randomness: Randomness<Self::Hash, BlockNumberFor<Self>>;

		/// The block time in milliseconds, to turn a job's run time into the blocks of its
		/// commit window ([`Pallet::commit_window_for`]).
		#[pallet::constant]
		type MillisecsPerBlock: Get<u64>;

		/// The longest run a job may ask for (`max_seconds`; the runtime's is 24 hours). Its
		/// members get a commit window sized to it ([`Pallet::commit_window_for`]), and prove
		/// they are still at work with job heartbeats (vm-proof's `StallTimeout`).
		///
		/// Invariant: at least 1, at most `povm_primitives::MAX_JOB_SECONDS`.
		#[pallet::constant]
		type MaxRunSeconds: Get<u32>;

		/// The most replicas a job's redundancy policy may ask for.
		///
		/// Invariant: `1 <= MaxReplicas <= MaxAssignees`.
		#[pallet::constant]
		type MaxReplicas: Get<u32>;

		/// The most providers ever assigned to one job (replicas plus no-show replacements).
		#[pallet::constant]
		type MaxAssignees: Get<u32>;

		/// The most jobs waiting in the queue: a bound of storage (the runtime's is in the
		/// millions; deposits make filling it costly), not of service: every queue operation
		/// costs the same whatever the queue's length. When it is full, a job at a higher
		/// price level evicts the newest job of the lowest level (refunded).
		#[pallet::constant]
		type MaxQueueLen: Get<u32>;

		/// The registry size an assignment try is charged at (`WeightInfo::assign_job`,
		/// benchmarked with this many registered providers; a draw costs `O(log n)` in them),
		/// and the most eligible providers a job can be made to wait for
		/// (`MinEligibleProviders`).
		///
		/// Invariant: at least `MaxReplicas`.
		#[pallet::constant]
		type MaxCandidates: Get<u32>;

		/// Storage deposit per job record.
		#[pallet::constant]
		type DepositBase: Get<BalanceOf<Self>>;

		/// Storage deposit per byte of the encoded spec.
		#[pallet::constant]
		type DepositPerByte: Get<BalanceOf<Self>>;

		/// Weight information for the calls and hooks.
		type WeightInfo: WeightInfo;
	}

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Reasons this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A job's escrow: its remaining budget and, since spec 117, its record's storage
		/// deposit (one hold per submission).
		JobBudget,
		/// A job record's storage deposit, held apart before spec 117. Nothing new is held
		/// under it; what is left of an owner's pays the next deposits of any of their jobs to
		/// be released or paid, before their escrow does ([`Pallet::deposit_holds`]).
		JobDeposit,
	}

	/// Default protocol parameters, until root sets them.
	#[pallet::type_value]
	pub fn DefaultParams<T: Config>() -> ProtocolParamsOf<T> {
		ProtocolParams {
			queue_timeout: 600u32.into(),
			commit_window: 20u32.into(),
			reveal_window: 20u32.into(),
			max_replicas: T::MaxReplicas::get(),
			max_assignments_per_block: DEFAULT_MAX_ASSIGNMENTS_PER_BLOCK.min(T::MaxQueueLen::get()),
			wrong_result_slash: sp_runtime::Perbill::from_percent(10),
			no_show_slash: sp_runtime::Perbill::from_percent(1),
		}
	}

	/// The fewest distinct eligible providers a job needs to be assigned: a job waits in the
	/// queue (without blocking the jobs behind it) until at least
	/// `max(MinEligibleProviders, min_replicas)` providers are eligible for it, so that a
	/// customer cannot hand its job to the one provider it runs (a job only that provider fits).
	///
	/// A chain parameter (>= 1), set by the genesis config (`minEligibleProviders`, see
	/// [`GenesisConfig`]): a production chain needs several ([`DEFAULT_MIN_ELIGIBLE_PROVIDERS`]),
	/// a development chain with one worker needs 1. Absent (a chain from before it was stored),
	/// it reads 1, the value such chains had.
	#[pallet::storage]
	pub type MinEligibleProviders<T: Config> =
		StorageValue<_, u32, ValueQuery, frame_support::traits::ConstU32<1>>;

	/// The job queue's chain parameters at genesis.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// [`MinEligibleProviders`] (>= 1). `0` (the default) stands for
		/// [`DEFAULT_MIN_ELIGIBLE_PROVIDERS`].
		pub min_eligible_providers: u32,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let min = match self.min_eligible_providers {
				0 => DEFAULT_MIN_ELIGIBLE_PROVIDERS,
				n => n,
			};
			MinEligibleProviders::<T>::put(min);
		}
	}

	/// The identifier the next submitted job receives and the number of queued jobs.
	#[pallet::storage]
	pub type Counters<T: Config> = StorageValue<_, JobCounters, ValueQuery>;

	/// Every job not yet reaped (open, completed or disputed).
	#[pallet::storage]
	pub type Jobs<T: Config> = StorageMap<_, Twox64Concat, JobId, Job<T>, OptionQuery>;

	/// Accepted results of completed jobs.
	#[pallet::storage]
	pub type Results<T: Config> = StorageMap<_, Twox64Concat, JobId, JobResult<T>, OptionQuery>;

	/// How the run of each completed job ended (exit code, timed-out, OOM and truncated flags,
	/// and the digest of its logs and files: [`povm_primitives::results::RunOutcome`]), when
	/// its agreeing reveals carried it; it hashes to the result's digest. Written with
	/// [`Results`] and reaped with it.
	#[pallet::storage]
	pub type Outcomes<T: Config> = StorageMap<_, Twox64Concat, JobId, RunOutcome, OptionQuery>;

	/// The queue's price levels that hold jobs, ready or waiting (the cheapest is evicted
	/// first when the queue is full).
	#[pallet::storage]
	pub type OccupiedLevels<T: Config> = StorageValue<_, LevelMask, ValueQuery>;

	/// The queue's price levels that hold ready jobs (served highest first).
	#[pallet::storage]
	pub type ReadyLevels<T: Config> = StorageValue<_, LevelMask, ValueQuery>;

	/// Each occupied price level's places and counts.
	#[pallet::storage]
	pub type Levels<T: Config> = StorageMap<_, Twox64Concat, u16, LevelBounds, OptionQuery>;

	/// The ready jobs of each price level by place: tried from the level's head, oldest first.
	#[pallet::storage]
	pub type LevelEntries<T: Config> =
		StorageDoubleMap<_, Twox64Concat, u16, Twox64Concat, u64, JobId, OptionQuery>;

	/// Every queued job by price level, ready or waiting: the eviction of a level's job and
	/// the count of a level need no scan of its places.
	#[pallet::storage]
	pub type LevelMembers<T: Config> =
		StorageDoubleMap<_, Twox64Concat, u16, Twox64Concat, JobId, (), OptionQuery>;

	/// Every queued job by the block at which it expires (its record's `expires_at`), with
	/// its level and place: the expiry agenda and the queue's index of each job in one entry.
	#[pallet::storage]
	pub type Expiring<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		Twox64Concat,
		JobId,
		QueuedJob<BlockNumberFor<T>>,
		OptionQuery,
	>;

	/// Waiting jobs by the block at which they are tried again, each with the block at which
	/// it expires (where its [`Expiring`] entry is).
	#[pallet::storage]
	pub type Retrying<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		Twox64Concat,
		JobId,
		BlockNumberFor<T>,
		OptionQuery,
	>;

	/// The first block whose expiries are not all done yet (the hook works through
	/// [`Expiring`] from here up to the current block).
	#[pallet::storage]
	pub type AgendaCursor<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// The first block whose retries are not all done yet (the hook works through
	/// [`Retrying`] from here up to the current block, before the expiries).
	#[pallet::storage]
	pub type RetryCursor<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// Protocol parameters (deadlines, bounds, slash ratios), set by root.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, ProtocolParamsOf<T>, ValueQuery, DefaultParams<T>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A job was submitted and queued; its budget and deposit are held.
		JobSubmitted {
			/// The job.
			job: JobId,
			/// Who submitted it.
			owner: T::AccountId,
			/// Escrowed budget.
			budget: BalanceOf<T>,
			/// Storage deposit.
			deposit: BalanceOf<T>,
			/// Price ceiling per VM-second.
			price_per_second: BalanceOf<T>,
			/// Last block the job may wait in the queue.
			expires_at: BlockNumberFor<T>,
		},
		/// Providers were drawn for a queued job (`Queued -> Assigned`).
		JobAssigned {
			/// The job.
			job: JobId,
			/// The providers drawn.
			providers: ProvidersOf<T>,
			/// Last block they may commit.
			commit_deadline: BlockNumberFor<T>,
		},
		/// More providers were drawn: an extra replica or no-show replacements
		/// (`Revealing -> Assigned` or stays `Assigned`).
		JobReassigned {
			/// The job.
			job: JobId,
			/// The providers added.
			added: ProvidersOf<T>,
			/// Last block they may commit.
			commit_deadline: BlockNumberFor<T>,
		},
		/// Commits closed; assigned providers may reveal (`Assigned -> Revealing`).
		JobRevealing {
			/// The job.
			job: JobId,
			/// Last block to reveal.
			reveal_deadline: BlockNumberFor<T>,
		},
		/// A result was accepted and paid (`Revealing -> Completed`).
		JobCompleted {
			/// The job.
			job: JobId,
			/// Digest of the accepted result.
			result_digest: Digest,
			/// Merkle root of the accepted checkpoints.
			checkpoints_root: Digest,
			/// Small output (<= 1 KiB).
			output: Output,
			/// Median usage of the agreeing replicas.
			usage: Usage,
			/// Energy in µWh of the agreeing replicas.
			energy_uwh: u64,
			/// Carbon in µg CO2e of the agreeing replicas.
			carbon_ug: u64,
			/// Payment per agreeing provider.
			payments: PaymentsOf<T>,
			/// Refunded to the owner.
			refunded: BalanceOf<T>,
			/// First checkpoint index where a dissenting replica differed, if any.
			first_divergence: Option<u32>,
		},
		/// No result reached the margin within `max_replicas` (or no more providers could be
		/// drawn): each valid revealer was paid its capped time from the escrow and the rest
		/// refunded (`-> Disputed`).
		JobDisputed {
			/// The job.
			job: JobId,
			/// First checkpoint index where the replicas differed, if known.
			first_divergence: Option<u32>,
			/// Payment per valid revealer: its wall time, capped at `max_seconds` and at the
			/// revealers' upper median, at `price_per_second`.
			payments: PaymentsOf<T>,
			/// Refunded to the owner.
			refunded: BalanceOf<T>,
		},
		/// No fitting provider within the queue timeout; refunded and removed (`-> Expired`).
		JobExpired {
			/// The job.
			job: JobId,
			/// Budget and deposit refunded.
			refunded: BalanceOf<T>,
		},
		/// The queue was full and a job at a higher price level took this job's place: refunded
		/// and removed (`-> Cancelled`).
		JobEvicted {
			/// The job evicted.
			job: JobId,
			/// The job that took its place.
			by: JobId,
			/// Budget and deposit refunded.
			refunded: BalanceOf<T>,
		},
		/// The owner cancelled a queued job; refunded and removed (`-> Cancelled`).
		JobCancelled {
			/// The job.
			job: JobId,
			/// Budget and deposit refunded.
			refunded: BalanceOf<T>,
		},
		/// A finished job's record was removed and its deposit released.
		JobReaped {
			/// The job.
			job: JobId,
			/// Deposit released.
			deposit: BalanceOf<T>,
		},
		/// Root set new protocol parameters.
		ParamsSet {
			/// The new parameters.
			params: ProtocolParamsOf<T>,
		},
		/// Root set [`MinEligibleProviders`].
		MinEligibleProvidersSet {
			/// The fewest eligible providers a job now needs.
			min: u32,
		},
		/// Most providers drawn for the job declined it before any sealed a result: the escrow
		/// was refunded to the owner, the owner's storage deposit paid to the decliners (the
		/// indivisible rest refunded), and the record removed (`-> Unrunnable`).
		JobUnrunnable {
			/// The job.
			job: JobId,
			/// Escrow refunded to the owner.
			refunded: BalanceOf<T>,
			/// The deposit's share paid to each decliner.
			deposit_paid: PaymentsOf<T>,
			/// The deposit's indivisible rest, refunded to the owner.
			deposit_refunded: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The image's registry repository is not `host[:port]/path` with a lowercase path
		/// (no scheme, tag or digest: the manifest digest is a field of its own).
		BadImageRef,
		/// The command is not valid UTF-8 or holds a NUL byte, so no worker could start it.
		/// Send the command as UTF-8 text.
		BadCommand,
		/// An argument is not valid UTF-8 or holds a NUL byte, so no worker could pass it.
		/// Send every argument as UTF-8 text.
		BadArg,
		/// An environment variable's name is empty or holds `=`, or its name or value is not
		/// valid UTF-8 or holds a NUL byte, so no worker could set it. Use UTF-8 names without
		/// `=` and UTF-8 values.
		BadEnvVar,
		/// Millicores, memory or max seconds is zero. Ask for some of each.
		ZeroResources,
		/// Millicores, memory or max seconds is above its physical bound
		/// (`povm_primitives::MAX_MILLICORES` 1024 cores, `MAX_MEMORY_MIB` 32 TiB,
		/// `MAX_JOB_SECONDS` 7 days). Ask for less.
		ResourcesTooLarge,
		/// The price per VM-second is zero. Offer a price.
		ZeroPrice,
		/// `min_replicas` is zero. Ask for at least one replica.
		ZeroMinReplicas,
		/// `max_replicas` is below `min_replicas`.
		MaxBelowMin,
		/// `max_replicas` exceeds the protocol bound (see `Params`).
		TooManyReplicas,
		/// `margin` is zero. A result must lead by at least one vote.
		ZeroMargin,
		/// `margin` exceeds `max_replicas`, so no result could ever be accepted.
		MarginUnreachable,
		/// `max_seconds` is above the longest run the chain takes (`MaxRunSeconds`, 24 hours
		/// in the runtime). Split the work into shorter jobs.
		RunTimeTooLong,
		/// The budget does not cover `max_replicas × max_seconds × price_per_second`.
		BudgetTooLow,
		/// Budget or deposit arithmetic overflowed. Lower the price or limits.
		Overflow,
		/// The account cannot cover budget plus deposit while staying alive.
		InsufficientBalance,
		/// The queue is full and no queued job is at a lower price level than this one. Offer
		/// a higher price (a higher level evicts the cheapest queued job) or try again later.
		QueueFull,
		/// No such job.
		JobNotFound,
		/// Only the job's owner may do this.
		NotOwner,
		/// Only a queued job can be cancelled.
		NotQueued,
		/// The job is still open; it can be reaped once completed or disputed.
		NotFinished,
		/// The job is not in a state that allows this transition.
		BadState,
		/// A settlement's output does not hash to its agreed output digest; the job queue
		/// never stores such a result. (An internal check of the vm-proof pallet's verdict.)
		OutputDigestMismatch,
		/// Protocol parameters out of range: windows and timeout must be non-zero, the commit
		/// window must fit a one-second job plus `START_MARGIN_SECS`,
		/// `1 <= max_replicas <= MaxReplicas`, `1 <= max_assignments_per_block <= MaxQueueLen`.
		BadParams,
		/// `MinEligibleProviders` out of range: at least 1, at most `MaxCandidates` (the
		/// registry's bound on providers; no job could ever be assigned above it).
		MinEligibleProvidersOutOfRange,
		/// An input's name is empty, starts with `.` or holds a byte other than ASCII letters,
		/// digits, `.`, `_` and `-`. Name each input as a plain file name.
		BadInputName,
		/// Two inputs have the same name. Give each input its own name.
		DuplicateInputName,
		/// An input's URL is not `http://` or `https://` printable ASCII with a host, or it
		/// holds credentials (`user:password@`), which a public spec would give to everyone.
		BadInputUrl,
		/// An input is larger than the chain's bound (16 GiB). Split it.
		InputTooLarge,
		/// A settlement's outcome does not hash to its result digest; the job queue never
		/// stores such an outcome. (An internal check of the vm-proof pallet's verdict.)
		OutcomeMismatch,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let mut meter = WeightMeter::with_limit(Self::hook_limit());
			Self::service_queue(now, &mut meter);
			meter.consumed()
		}

		fn integrity_test() {
			assert!(T::MaxReplicas::get() >= 1, "a job needs at least one replica");
			assert!(
				T::MaxAssignees::get() >= T::MaxReplicas::get(),
				"MaxAssignees must cover MaxReplicas"
			);
			assert!(T::MaxQueueLen::get() >= 1, "the queue must hold a job");
			assert!(T::MaxCandidates::get() >= T::MaxReplicas::get(), "draw needs candidates");
			assert!(T::MillisecsPerBlock::get() >= 1, "blocks take some time");
			assert!(
				(1..=povm_primitives::MAX_JOB_SECONDS).contains(&T::MaxRunSeconds::get()),
				"MaxRunSeconds within 1..=MAX_JOB_SECONDS"
			);
			assert!(
				Pallet::<T>::params_valid(&DefaultParams::<T>::get()),
				"default params must be valid"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Submit a job and hold its budget and storage deposit.
		///
		/// ## Dispatch Origin
		///
		/// Signed by the customer, who owns the job and receives refunds.
		///
		/// ## Details
		///
		/// The spec is checked field by field, each failure a named error, and nothing is held
		/// unless all pass: the image must be `sha256:` + 64 lowercase hex digits; the command,
		/// arguments and environment values UTF-8 without NUL bytes, environment names also
		/// non-empty and without `=` (a worker could not run the job otherwise); resources and
		/// price non-zero; resources within their physical bounds (at most 1024 cores, 32 TiB
		/// and 7 days, `povm_primitives::MAX_*`); `max_seconds` at most `MaxRunSeconds` (the members'
		/// commit window is sized to it, [`Pallet::commit_window_for`]);
		/// `1 <= min_replicas <= max_replicas <= Params.max_replicas`;
		/// `1 <= margin <= max_replicas`. `budget` must cover
		/// `max_replicas × max_seconds × price_per_second`; what is not paid out is refunded.
		/// The deposit is `DepositBase + DepositPerByte × encoded spec length`, released when
		/// the record is reaped (or at cancellation or expiry). The job joins the queue, served
		/// highest price first.
		///
		/// ## Events
		///
		/// [`Event::JobSubmitted`].
		///
		/// ## Weight
		///
		/// Charged as a submission that evicts (`submit_job_evicting`); what a submission that
		/// evicts nothing does not use is refunded: to `submit_job` when the job opens a price
		/// level, to `submit_job_to_ready_level` when its level already holds a ready job. Each
		/// is benchmarked over the spec's size ([`Pallet::spec_size_steps`]): a small spec is
		/// charged as one, not as the largest the bounds allow.
		#[pallet::call_index(0)]
		#[pallet::weight(
			<T as Config>::WeightInfo::submit_job_evicting(Pallet::<T>::spec_size_steps(spec))
		)]
		pub fn submit_job(
			origin: OriginFor<T>,
			spec: Box<JobSpecOf<T>>,
			budget: BalanceOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let size = Self::spec_size_steps(&spec);
			let submitted = Self::do_submit_job(who, *spec, budget)?;
			let used = if submitted.evicted {
				<T as Config>::WeightInfo::submit_job_evicting(size)
			} else if submitted.joined_ready_level {
				<T as Config>::WeightInfo::submit_job_to_ready_level(size)
			} else {
				<T as Config>::WeightInfo::submit_job(size)
			};
			Ok(Some(used).into())
		}

		/// Cancel a queued job for a full refund.
		///
		/// ## Dispatch Origin
		///
		/// Signed by the job's owner.
		///
		/// ## Details
		///
		/// Only while the job is `Queued` (no provider assigned yet). Budget and deposit are
		/// released and the record removed.
		///
		/// ## Events
		///
		/// [`Event::JobCancelled`].
		#[pallet::call_index(1)]
		pub fn cancel_job(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_cancel_job(who, job)
		}

		/// Set the protocol parameters.
		///
		/// ## Dispatch Origin
		///
		/// Root.
		///
		/// ## Details
		///
		/// Deadlines (queue timeout, commit and reveal windows) must be non-zero, the commit
		/// window long enough for a one-second job plus `START_MARGIN_SECS`,
		/// `1 <= max_replicas <= MaxReplicas`, `1 <= max_assignments_per_block <= MaxQueueLen`.
		/// Applies to jobs submitted, assigned or revealed from now on.
		///
		/// ## Events
		///
		/// [`Event::ParamsSet`].
		#[pallet::call_index(2)]
		pub fn set_params(origin: OriginFor<T>, params: ProtocolParamsOf<T>) -> DispatchResult {
			ensure_root(origin)?;
			ensure!(Self::params_valid(&params), Error::<T>::BadParams);
			Params::<T>::put(params);
			Self::deposit_event(Event::ParamsSet { params });
			Ok(())
		}

		/// Remove a finished (completed or disputed) job's record and release its deposit.
		///
		/// ## Dispatch Origin
		///
		/// Signed by the job's owner.
		///
		/// ## Details
		///
		/// The accepted result is removed with the record; read it first (events or the
		/// runtime API).
		///
		/// ## Events
		///
		/// [`Event::JobReaped`].
		#[pallet::call_index(3)]
		pub fn reap_job(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_reap_job(who, job)
		}

		/// Set the fewest distinct eligible providers a job needs to be assigned
		/// ([`MinEligibleProviders`]).
		///
		/// ## Dispatch Origin
		///
		/// Root.
		///
		/// ## Details
		///
		/// `1 <= min <= MaxCandidates`. Applies to the next assignment tries: jobs already
		/// assigned keep their providers; queued jobs with fewer eligible providers wait (without
		/// blocking the jobs behind them) until enough register or they expire.
		///
		/// ## Errors
		///
		/// [`Error::MinEligibleProvidersOutOfRange`]; `BadOrigin` unless root.
		///
		/// ## Events
		///
		/// [`Event::MinEligibleProvidersSet`].
		#[pallet::call_index(4)]
		pub fn set_min_eligible_providers(origin: OriginFor<T>, min: u32) -> DispatchResult {
			ensure_root(origin)?;
			ensure!(
				(1..=T::MaxCandidates::get()).contains(&min),
				Error::<T>::MinEligibleProvidersOutOfRange
			);
			MinEligibleProviders::<T>::put(min);
			Self::deposit_event(Event::MinEligibleProvidersSet { min });
			Ok(())
		}
	}
}

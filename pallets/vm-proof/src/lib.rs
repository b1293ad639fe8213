#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod decline;
mod dispatchable_impls;
pub mod energy;
pub mod index;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod offences;
mod prune;
#[cfg(test)]
mod registry_bench;
mod registry_impl;
pub mod stall;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_decline;
#[cfg(test)]
mod tests_independence;
#[cfg(test)]
mod tests_index;
#[cfg(test)]
mod tests_offences;
#[cfg(test)]
mod tests_prune;
#[cfg(test)]
mod tests_results;
#[cfg(test)]
mod tests_stall;
#[cfg(test)]
mod tests_trust;
#[cfg(test)]
mod tests_trust_attacks;
#[cfg(test)]
mod tests_verdict;
mod tick_impls;
pub mod trust;
pub mod types;
pub mod verdict;
#[cfg(test)]
mod verification_bench;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Balanced, Credit, Inspect, Mutate, MutateHold},
			OnUnbalanced,
		},
		weights::WeightMeter,
	};
	use frame_system::pallet_prelude::*;
	use povm_primitives::JobLedger;
	use sp_runtime::Perbill;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(8);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The currency in which bonds are held and slashed.
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ Balanced<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ frame_support::traits::fungible::BalancedHold<Self::AccountId>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The job queue (job lookups, deadlines, extra replicas, settlement).
		type Jobs: JobLedger<Self::AccountId, BalanceOf<Self>, BlockNumberFor<Self>>;

		/// The current epoch index (the session index in the runtime).
		type Epoch: Get<u32>;

		/// Where slashed bonds go (`()` burns them).
		type OnSlash: OnUnbalanced<Credit<Self::AccountId, Self::Currency>>;

		/// The least bond a provider must hold to register and to be assigned.
		#[pallet::constant]
		type MinBond: Get<BalanceOf<Self>>;

		/// Blocks between `unregister` and `withdraw_bond`.
		#[pallet::constant]
		type UnbondingDelay: Get<BlockNumberFor<Self>>;

		/// Whether a provider's bond still answers for an equivocation it may have committed
		/// as a validator (see [`povm_primitives::ValidatorBonds`]); `withdraw_bond` waits for
		/// it. `()` where providers never validate.
		type ValidatorBonds: povm_primitives::ValidatorBonds<Self::AccountId>;

		/// The most registered (active) providers.
		#[pallet::constant]
		type MaxProviders: Get<u32>;

		/// The most concurrent job slots an offer may declare.
		#[pallet::constant]
		type MaxSlots: Get<u32>;

		/// The most providers ever assigned to one job. Must equal the job queue's
		/// `MaxAssignees`.
		#[pallet::constant]
		type MaxMembers: Get<u32>;

		/// The most checkpoint leaves a reveal may carry.
		#[pallet::constant]
		type MaxCheckpoints: Get<u32>;

		/// The most jobs whose deadlines fall in one block.
		#[pallet::constant]
		type MaxDeadlinesPerBlock: Get<u32>;

		/// Where verified work becomes lottery tickets (the vrf-lottery pallet): each accepted
		/// replica's verified VM-milliseconds are credited at its verdict.
		type Lottery: povm_primitives::TicketLedger<Self::AccountId>;

		/// Epochs of network-wide energy and carbon ([`EpochFootprint`]) kept, counted back from
		/// the epoch whose work the lottery last took; older ones are removed.
		#[pallet::constant]
		type FootprintHistory: Get<u32>;

		/// The block time in milliseconds (the job queue's `MillisecsPerBlock`): a replica is
		/// credited at most the blocks it held its slot, from its assignment to its commit, times
		/// this (see [`SlotHolds`]).
		///
		/// Invariant: at least 1 (checked in `integrity_test`).
		#[pallet::constant]
		type MillisecsPerBlock: Get<u64>;

		/// Blocks a member of a long job may go without a sign of life before it is stalled
		/// (see [`crate::stall`]): a member whose commit window is longer sends
		/// [`Pallet::job_heartbeat`] at least this often until it commits, or is replaced.
		///
		/// Invariant: at least `stall::MIN_BEATS_PER_TIMEOUT` (checked in `integrity_test`).
		#[pallet::constant]
		type StallTimeout: Get<BlockNumberFor<Self>>;

		/// Weight information for the calls and hooks.
		type WeightInfo: WeightInfo;

		/// The origin that may close a stuck job with [`Pallet::force_dispute`] (root in the
		/// runtime).
		type ForceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// How many times in a row a job's deadline processing may fail before it is no longer
		/// retried and waits for [`Pallet::force_dispute`] (listed in [`FailedDeadlines`]).
		///
		/// Invariant: at least 1 (checked in `integrity_test`).
		#[pallet::constant]
		type MaxDeadlineAttempts: Get<u32>;

		/// Blocks between a failed deadline and its first retry; each further retry waits twice
		/// as long as the one before.
		///
		/// Invariant: at least 1 (checked in `integrity_test`).
		#[pallet::constant]
		type DeadlineRetryDelay: Get<BlockNumberFor<Self>>;

		/// The most anchors the force origin may appoint (see [`crate::trust`]).
		#[pallet::constant]
		type MaxAnchors: Get<u32>;

		/// Points of [`Trust`] a provider needs to be trusted (see [`crate::trust`]).
		///
		/// Invariant: at least 1 (checked in `integrity_test`).
		#[pallet::constant]
		type TrustThreshold: Get<u32>;

		/// The most points of [`Trust`] a provider can hold: how many dissents in a row (each
		/// halving its points) a long-trusted provider survives before it is judged as an
		/// untrusted one. At least `TrustThreshold`.
		#[pallet::constant]
		type TrustCap: Get<u32>;
	}

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Reasons this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A provider's bond.
		ProviderBond,
	}

	/// How many providers are registered (active or unbonding).
	#[pallet::storage]
	pub type ProviderCount<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Registered providers.
	#[pallet::storage]
	pub type Providers<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, ProviderInfo<T>, OptionQuery>;

	/// Where each active provider sits in the draw index ([`crate::index`]): its class, its
	/// position and its weight.
	#[pallet::storage]
	pub type IndexPlaces<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, IndexPlace, OptionQuery>;

	/// The provider at each position (`1..=size`) of each resource class of the draw index.
	#[pallet::storage]
	pub type IndexMembers<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		ResourceClass,
		Twox64Concat,
		u32,
		T::AccountId,
		OptionQuery,
	>;

	/// The Fenwick tree of each resource class: node `i` holds the free slots of positions
	/// `i - lowbit(i) + 1 ..= i`; an absent node holds 0.
	#[pallet::storage]
	pub type IndexNodes<T: Config> =
		StorageDoubleMap<_, Twox64Concat, ResourceClass, Twox64Concat, u32, u32, ValueQuery>;

	/// Per architecture and CPU tier, every resource class that holds an active provider, with
	/// its weight, its live counts and its size: a draw reads those of the CPU tiers that cover
	/// its job, and a change of one provider's weight rewrites one of them.
	#[pallet::storage]
	pub type ClassTotals<T: Config> = StorageMap<
		_,
		Twox64Concat,
		(povm_primitives::Arch, u8),
		BoundedVec<ClassTotal, ConstU32<{ crate::index::CLASSES_PER_CPU_TIER }>>,
		ValueQuery,
	>;

	/// Open jobs each provider holds a slot for.
	#[pallet::storage]
	pub type ProviderJobs<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, BoundedVec<JobId, T::MaxSlots>, ValueQuery>;

	/// Commit–reveal state of open jobs.
	#[pallet::storage]
	pub type Rounds<T: Config> = StorageMap<_, Twox64Concat, JobId, Round<T>, OptionQuery>;

	/// Reveals of open jobs.
	#[pallet::storage]
	pub type Reveals<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		JobId,
		Blake2_128Concat,
		T::AccountId,
		RevealRecord<T>,
		OptionQuery,
	>;

	/// Jobs with a deadline to process at a block: the block's first page of deadlines (later
	/// pages are in [`DeadlineOverflow`]).
	#[pallet::storage]
	pub type Deadlines<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<JobId, T::MaxDeadlinesPerBlock>,
		ValueQuery,
	>;

	/// Energy and carbon of accepted work, per provider (all time).
	#[pallet::storage]
	pub type ProviderFootprint<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, FootprintTotal, ValueQuery>;

	/// Energy and carbon of accepted work, per epoch: the last [`Config::FootprintHistory`]
	/// epochs (see [`PruneCursor`]).
	#[pallet::storage]
	pub type EpochFootprint<T: Config> =
		StorageMap<_, Twox64Concat, u32, FootprintTotal, ValueQuery>;

	/// The first epoch whose [`EpochFootprint`] may remain. Advanced when the lottery takes an
	/// epoch's work ([`VerifiedWork::work_taken`]), a bounded number of entries at a time.
	#[pallet::storage]
	pub type PruneCursor<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Further pages of a block's deadlines, numbered from 1, used once its first page
	/// ([`Deadlines`]) is full, so that scheduling a deadline never fails.
	#[pallet::storage]
	pub type DeadlineOverflow<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		Twox64Concat,
		u32,
		BoundedVec<JobId, T::MaxDeadlinesPerBlock>,
		ValueQuery,
	>;

	/// How many pages of [`DeadlineOverflow`] a block has (pages `1..=count`).
	#[pallet::storage]
	pub type DeadlineOverflowPages<T: Config> =
		StorageMap<_, Twox64Concat, BlockNumberFor<T>, u32, ValueQuery>;

	/// The first block whose deadlines are not all processed yet. Blocks before it hold no
	/// deadlines; `None` before the hook first ran.
	#[pallet::storage]
	pub type DeadlineCursor<T: Config> = StorageValue<_, BlockNumberFor<T>, OptionQuery>;

	/// Open jobs whose last deadline processing failed (and was rolled back): how often in a
	/// row, and when it is tried again. `retry_at: None` means it is no longer retried: the
	/// job waits for [`Pallet::force_dispute`].
	#[pallet::storage]
	pub type FailedDeadlines<T: Config> =
		StorageMap<_, Twox64Concat, JobId, DeadlineFailure<BlockNumberFor<T>>, OptionQuery>;

	/// Where each provider serves the result files of the jobs it ran, and for how long (set
	/// with [`Pallet::set_result_service`], removed with the provider's registration). A
	/// customer fetches its files from the agreeing providers' services (see
	/// [`povm_primitives::results`]).
	#[pallet::storage]
	pub type ResultServices<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, ResultService, OptionQuery>;

	/// When each member of an open round took its slot and when it committed: the blocks it
	/// held the slot before committing bound the verified time it can be credited
	/// (`(committed_at - assigned_at) × MillisecsPerBlock`). Written at the draw and the commit,
	/// removed with the round.
	#[pallet::storage]
	pub type SlotHolds<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		JobId,
		Blake2_128Concat,
		T::AccountId,
		SlotHold<BlockNumberFor<T>>,
		OptionQuery,
	>;

	/// The last sign of life (the draw, then each [`Pallet::job_heartbeat`]) of each member of
	/// an open round whose commit window is longer than `StallTimeout`; a member without an
	/// entry need not send heartbeats. Written at the draw and each heartbeat, removed at the
	/// commit and with the round (see [`crate::stall`]).
	#[pallet::storage]
	pub type JobHeartbeats<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		JobId,
		Blake2_128Concat,
		T::AccountId,
		BlockNumberFor<T>,
		OptionQuery,
	>;

	/// The block of each open round's pending stall check (see [`crate::stall`]): at most one
	/// per job, so draw waves and declines do not multiply the checks. Removed when processed
	/// and with the round.
	#[pallet::storage]
	pub type StallChecks<T: Config> =
		StorageMap<_, Twox64Concat, JobId, BlockNumberFor<T>, OptionQuery>;

	/// Anchors: accounts appointed by the force origin whose agreement lets a result be
	/// accepted and vouches for the providers that agree with them (see [`crate::trust`]).
	/// While none is appointed, verdicts need no trusted provider.
	#[pallet::storage]
	pub type Anchors<T: Config> = CountedStorageMap<_, Blake2_128Concat, T::AccountId, ()>;

	/// Trust points per provider: accepted verdicts it agreed on beside another trusted
	/// provider, halved on each dissent or fault, at most `TrustCap`; trusted from
	/// `TrustThreshold` (see [`crate::trust`]). Forgotten when the bond is withdrawn.
	#[pallet::storage]
	pub type Trust<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// The fraction of a provider's bond slashed for consensus offences (equivocations) of a
	/// session, per session and provider: a later offence of the same session slashes only what
	/// a higher fraction adds (see [`crate::offences`]). Pruned by the runtime once the session
	/// leaves the reporting window.
	#[pallet::storage]
	pub type OffenceSlashes<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		u32,
		Blake2_128Concat,
		T::AccountId,
		Perbill,
		OptionQuery,
	>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The anchors appointed at genesis (at most `MaxAnchors`, no duplicates).
		pub anchors: alloc::vec::Vec<T::AccountId>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			assert!(
				self.anchors.len() as u32 <= T::MaxAnchors::get(),
				"more genesis anchors than MaxAnchors"
			);
			for who in self.anchors.iter() {
				assert!(!Anchors::<T>::contains_key(who), "duplicate genesis anchor");
				Anchors::<T>::insert(who, ());
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A provider registered and its bond is held.
		ProviderRegistered {
			/// The provider.
			who: T::AccountId,
			/// Its offer.
			offer: VmOffer,
			/// Bond held.
			bond: BalanceOf<T>,
		},
		/// A provider changed its offer.
		OfferUpdated {
			/// The provider.
			who: T::AccountId,
			/// The new offer.
			offer: VmOffer,
		},
		/// A provider signalled liveness for an epoch.
		Heartbeat {
			/// The provider.
			who: T::AccountId,
			/// The epoch.
			epoch: u32,
		},
		/// A provider left the pool; its bond unlocks at `until`.
		ProviderUnregistered {
			/// The provider.
			who: T::AccountId,
			/// First block `withdraw_bond` succeeds.
			until: BlockNumberFor<T>,
		},
		/// A provider withdrew its bond and its record was removed.
		BondWithdrawn {
			/// The provider.
			who: T::AccountId,
			/// Bond released.
			amount: BalanceOf<T>,
		},
		/// An assigned provider committed to a result.
		ResultCommitted {
			/// The job.
			job: JobId,
			/// The provider.
			who: T::AccountId,
		},
		/// An assigned provider revealed its result.
		ResultRevealed {
			/// The job.
			job: JobId,
			/// The provider.
			who: T::AccountId,
			/// Its result digest.
			result_digest: Digest,
		},
		/// A provider was faulted: slashed and its reputation lowered.
		ProviderFaulted {
			/// The job.
			job: JobId,
			/// The provider.
			who: T::AccountId,
			/// Why.
			fault: Fault,
			/// Amount slashed from the bond.
			slashed: BalanceOf<T>,
			/// Reputation after the fault.
			reputation: Perbill,
		},
		/// A result was accepted.
		ResultAccepted {
			/// The job.
			job: JobId,
			/// The accepted result digest.
			result_digest: Digest,
			/// Providers whose result agreed (paid).
			agreeing: BoundedVec<T::AccountId, T::MaxMembers>,
			/// Providers whose result differed (not paid; slashed only when outvoted by a clear
			/// majority, see [`verdict::clear_majority`]).
			dissenting: BoundedVec<T::AccountId, T::MaxMembers>,
			/// First checkpoint index where a dissenting replica differs from the accepted one.
			first_divergence: Option<u32>,
		},
		/// No result led by the margin and no more replicas can be drawn: the job is disputed.
		/// Nobody is slashed; every valid revealer is paid its capped time from the escrow.
		ResultDisputed {
			/// The job.
			job: JobId,
			/// First checkpoint index where the two leading results differ, if any.
			first_divergence: Option<u32>,
			/// The valid revealers, paid in this order (amounts in the job queue's
			/// `JobDisputed`).
			paid: BoundedVec<T::AccountId, T::MaxMembers>,
		},
		/// A dissenting provider was outvoted, but not by a clear majority (see
		/// [`verdict::clear_majority`]): it is not paid and not slashed; its reputation records
		/// the disagreement.
		DissentNotSlashed {
			/// The job.
			job: JobId,
			/// The provider.
			who: T::AccountId,
			/// Replicas that agreed on the accepted result.
			agreeing: u32,
			/// Replicas that revealed this provider's result (itself included).
			group: u32,
			/// Reputation after the verdict.
			reputation: Perbill,
		},
		/// More providers are being drawn: commits closed with fewer than `min_replicas` results
		/// sealed (drawn before any reveal opens), members declined or missed their deadline
		/// while others still commit and too few are left (drawn in the block after a decline),
		/// or no verdict yet after reveals (margin not reached, or fewer than `min_replicas`
		/// valid reveals).
		MoreReplicasRequested {
			/// The job.
			job: JobId,
			/// How many were drawn.
			added: u32,
		},
		/// Verified work and its footprint were recorded for a provider.
		WorkVerified {
			/// The job.
			job: JobId,
			/// The provider.
			who: T::AccountId,
			/// Epoch credited.
			epoch: u32,
			/// Verified VM-milliseconds credited as lottery tickets: the capped wall time, at
			/// most the blocks the provider held its slot before committing ([`SlotHolds`]); 0
			/// when fewer than two replicas of providers other than the job's owner agree, or
			/// when the provider is the job's owner (issue 12).
			vm_millis: u64,
			/// Energy in µWh.
			energy_uwh: u64,
			/// Carbon in µg CO2e.
			carbon_ug: u64,
			/// Reputation after the verdict.
			reputation: Perbill,
		},
		/// Processing a job's deadline failed and was rolled back; it will be tried again.
		DeadlineRetryScheduled {
			/// The job.
			job: JobId,
			/// Failed attempts in a row so far.
			attempts: u32,
			/// Block of the next attempt.
			retry_at: BlockNumberFor<T>,
			/// Why the attempt failed.
			error: DispatchError,
		},
		/// Processing a job's deadline failed `MaxDeadlineAttempts` times in a row: it is no
		/// longer retried. Its round, slots and escrow stay as they were and it is listed in
		/// `FailedDeadlines` until the force origin calls `force_dispute`.
		DeadlineAbandoned {
			/// The job.
			job: JobId,
			/// Failed attempts in a row.
			attempts: u32,
			/// Why the last attempt failed.
			error: DispatchError,
		},
		/// The force origin closed a job's round and disputed it: slots freed, the valid
		/// revealers paid their capped time from the escrow and the rest refunded to the owner;
		/// or, when paying them failed, the whole escrow refunded (see `paid`).
		JobForceDisputed {
			/// The job.
			job: JobId,
			/// Members whose slot was freed.
			slots_freed: u32,
			/// `true`: the job queue's dispute paid the valid revealers (if any) and refunded
			/// the rest. `false`: that dispute failed and the fallback refunded the whole escrow
			/// to the owner, paying nobody; or the job was not open in the job queue and the
			/// round was only closed, without a dispute.
			paid: bool,
		},
		/// An assigned provider declined a job before its commit deadline: not slashed, its
		/// slot freed, its reputation lowered (one more verdict, not agreed). Its replacement is
		/// drawn when the wave's commits close (the commit deadline, or the last commit).
		JobDeclined {
			/// The job.
			job: JobId,
			/// The provider.
			who: T::AccountId,
			/// Why it declined.
			reason: DeclineReason,
			/// Reputation after the decline.
			reputation: Perbill,
		},
		/// Most providers drawn for a job declined it and none has a sealed result (see
		/// [`Pallet::most_declined`]): the round is closed (every slot freed), the escrow
		/// refunded to the owner and the owner's deposit paid to the decliners (amounts in the
		/// job queue's `JobUnrunnable`). Nobody is slashed.
		JobUnrunnable {
			/// The job.
			job: JobId,
			/// Members that declined (paid the deposit, in draw order).
			decliners: BoundedVec<T::AccountId, T::MaxMembers>,
			/// Providers drawn for the job in all.
			drawn: u32,
		},
		/// The force origin appointed or removed an anchor (see [`crate::trust`]).
		AnchorSet {
			/// The account.
			who: T::AccountId,
			/// `true`: appointed; `false`: removed.
			anchor: bool,
		},
		/// A trusted provider's result differed from the accepted one. It is not paid and not
		/// slashed (a trusted provider that differs has more likely met a non-deterministic
		/// program than started lying); its trust points are halved.
		TrustedDissent {
			/// The job.
			job: JobId,
			/// The provider.
			who: T::AccountId,
			/// Its trust points after the halving.
			trust: u32,
			/// Reputation after the verdict.
			reputation: Perbill,
		},
		/// A provider's bond was slashed for a consensus offence (a BABE or GRANDPA
		/// equivocation as a validator), reported through pallet-offences (see
		/// [`crate::offences`]).
		OffenceSlashed {
			/// The provider.
			who: T::AccountId,
			/// The session of the offence.
			session: u32,
			/// The fraction of the bond slashed for the session's offences in all.
			fraction: Perbill,
			/// Amount slashed from the bond now.
			slashed: BalanceOf<T>,
		},
		/// A provider said where it serves result files (`None`: it no longer does).
		ResultServiceSet {
			/// The provider.
			who: T::AccountId,
			/// The service.
			service: Option<ResultService>,
		},
		/// A member of a long job showed it is still at work (see [`crate::stall`]).
		JobHeartbeat {
			/// The job.
			job: JobId,
			/// The member.
			who: T::AccountId,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a registered provider.
		AlreadyRegistered,
		/// The account is not a registered provider.
		NotRegistered,
		/// The offer has a zero field, more slots than `MaxSlots`, a PUE below 1000, or a field
		/// above its physical bound (`MAX_MILLICORES`, `MAX_MEMORY_MIB`, `MAX_GRID_INTENSITY`,
		/// `MAX_PUE_PERMILLE`, `MAX_CORE_MILLIWATTS`, `MAX_OFFER_SECONDS`).
		BadOffer,
		/// The bond is below `MinBond`.
		BondTooLow,
		/// The account cannot hold the bond and stay alive.
		InsufficientBalance,
		/// The provider pool is full (`MaxProviders`), or the resource class of the offer is
		/// ([`crate::index::CLASS_CAPACITY`]).
		TooManyProviders,
		/// The provider is unbonding; register again after withdrawing.
		NotActive,
		/// The provider still holds job assignments; finish them first.
		HasAssignments,
		/// The new offer has fewer slots than jobs currently held.
		SlotsInUse,
		/// The unbonding delay has not passed yet.
		StillUnbonding,
		/// The provider has no free slot.
		NoFreeSlot,
		/// No open commit–reveal round for this job.
		NoRound,
		/// The caller is not assigned to this job.
		NotAssigned,
		/// The caller already committed.
		AlreadyCommitted,
		/// The commit deadline passed.
		CommitDeadlinePassed,
		/// Reveals open only once every current assignee committed or timed out and at least
		/// `min_replicas` results are sealed (or no replacement can be drawn); wait for the
		/// reveal phase (`AssignmentPhase::Reveal`).
		CommitsNotClosed,
		/// The caller has not committed (or was faulted), so it cannot reveal.
		NotCommitted,
		/// The caller already revealed.
		AlreadyRevealed,
		/// The reveal deadline passed.
		RevealDeadlinePassed,
		/// The reveal, with the job, the caller's wave and the caller, does not hash to the
		/// caller's commitment: some field (result, output, checkpoints root, usage, salt)
		/// differs from what was committed (for a member committed before the upgrade to storage
		/// version 2: the result, checkpoints root or salt). Reveal exactly what was committed.
		RevealMismatch,
		/// The revealed usage exceeds what the job's resources allow (CPU above
		/// `millicores × max_seconds` core-ms, memory above `memory_mib × max_seconds` MiB·s,
		/// or wall time above `max_seconds × 1000` ms). Commit usage capped at those bounds. (Not
		/// returned to a member committed before the upgrade to storage version 2: its usage is
		/// capped.)
		UsageOutOfBounds,
		/// The checkpoint leaves do not hash to the revealed checkpoints root.
		CheckpointsMismatch,
		/// No longer returned: scheduling a deadline cannot fail (a full block gets overflow
		/// pages). Kept so that the indices of later errors do not change.
		DeadlinesFull,
		/// A job has more assignees than `MaxMembers`.
		TooManyMembers,
		/// The provider is already assigned to this job (no provider runs two replicas).
		AlreadyMember,
		/// The caller already declined this job.
		AlreadyDeclined,
		/// `MaxAnchors` anchors are appointed already.
		TooManyAnchors,
		/// The account already is (or already is not) an anchor.
		AnchorUnchanged,
		/// The provider is a validator, is planned to be one, or was one within the reporting
		/// window of equivocations: its bond stays held until an equivocation of that time can
		/// no longer be reported. Withdraw later.
		BondAtStakeAsValidator,
		/// The revealed outcome does not hash to the revealed result digest.
		OutcomeMismatch,
		/// The result service's URL is not an `http(s)` URL without credentials, query or
		/// fragment, or its retention is zero or above the bound.
		BadResultService,
		/// The member's commit window is not longer than `StallTimeout`: it need not send job
		/// heartbeats, its commit deadline comes first.
		NoHeartbeatNeeded,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let mut meter = WeightMeter::with_limit(T::BlockWeights::get().max_block / 5);
			Self::process_deadlines(now, &mut meter);
			meter.consumed()
		}

		fn integrity_test() {
			assert!(T::MaxSlots::get() >= 1, "a provider needs a slot");
			assert!(T::MaxMembers::get() >= 1, "a job needs a member");
			assert!(T::MaxDeadlinesPerBlock::get() >= 1, "deadlines need room");
			assert!(T::MaxDeadlineAttempts::get() >= 1, "a deadline needs an attempt");
			assert!(
				T::DeadlineRetryDelay::get() >= 1u32.into(),
				"a retry must wait at least a block"
			);
			assert!(T::TrustThreshold::get() >= 1, "trust must be earned");
			assert!(T::MillisecsPerBlock::get() >= 1, "blocks take some time");
			assert!(
				T::StallTimeout::get() >= stall::MIN_BEATS_PER_TIMEOUT.into(),
				"a stall timeout leaves room for free heartbeats"
			);
			assert!(T::TrustCap::get() >= T::TrustThreshold::get(), "trust cap below threshold");
			// The hook must be able to process at least one deadline per block, or none ever is.
			let hook = T::BlockWeights::get().max_block / 5;
			assert!(
				Pallet::<T>::deadline_block_weight()
					.saturating_add(Pallet::<T>::deadline_job_weight())
					.all_lte(hook),
				"one deadline must fit the deadline hook's budget"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Register as a provider with a VM offer and a bond.
		///
		/// ## Dispatch Origin
		///
		/// Signed by the provider account (the one the worker signs with).
		///
		/// ## Details
		///
		/// The offer must have non-zero millicores, memory, slots (at most `MaxSlots`), grid
		/// intensity, power per core and run-time limit (`max_seconds`), and a PUE of at least
		/// 1000 per-mille; millicores, memory, grid intensity, PUE, power per core and run-time
		/// limit are bounded by physical ranges (`MAX_MILLICORES`, `MAX_MEMORY_MIB`,
		/// `MAX_GRID_INTENSITY` 2000 gCO2e/kWh, `MAX_PUE_PERMILLE` 3000, `MAX_CORE_MILLIWATTS`
		/// 250 W, `MAX_OFFER_SECONDS` 7 days). The provider is drawn only for jobs whose CPU,
		/// memory and `max_seconds` its offer covers. The bond must be
		/// at least `MinBond`; it is held and slashed for faults. Registration counts as the
		/// heartbeat of the current epoch.
		///
		/// ## Events
		///
		/// [`Event::ProviderRegistered`].
		#[pallet::call_index(0)]
		pub fn register_provider(
			origin: OriginFor<T>,
			offer: VmOffer,
			bond: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register(who, offer, bond)
		}

		/// Replace the VM offer.
		///
		/// ## Dispatch Origin
		///
		/// Signed by an active provider.
		///
		/// ## Details
		///
		/// Same checks as at registration; the slots may not drop below the jobs held.
		/// Applies to assignments and energy figures from now on.
		///
		/// ## Events
		///
		/// [`Event::OfferUpdated`].
		#[pallet::call_index(1)]
		pub fn update_offer(origin: OriginFor<T>, offer: VmOffer) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_update_offer(who, offer)
		}

		/// Signal liveness for the current epoch.
		///
		/// ## Dispatch Origin
		///
		/// Signed by an active provider.
		///
		/// ## Details
		///
		/// A provider is drawn for jobs only if its last heartbeat is in the current or the
		/// previous epoch; missing a whole epoch takes it out of assignment until it beats again.
		///
		/// ## Events
		///
		/// [`Event::Heartbeat`].
		#[pallet::call_index(2)]
		pub fn heartbeat(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_heartbeat(who)
		}

		/// Leave the pool; the bond unlocks after `UnbondingDelay`.
		///
		/// ## Dispatch Origin
		///
		/// Signed by an active provider.
		///
		/// ## Details
		///
		/// Refused while the provider holds job assignments. The provider is no longer drawn;
		/// call [`Pallet::withdraw_bond`] once the delay passed.
		///
		/// ## Events
		///
		/// [`Event::ProviderUnregistered`].
		#[pallet::call_index(3)]
		pub fn unregister(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_unregister(who)
		}

		/// Release the bond of an unregistered provider and remove its record.
		///
		/// ## Dispatch Origin
		///
		/// Signed by the unbonding provider.
		///
		/// ## Details
		///
		/// Only once the unbonding delay has passed, and only when the bond no longer answers
		/// for the provider's conduct as a validator (`Config::ValidatorBonds`: not seated, not
		/// planned, not seated within the reporting window of equivocations). Reputation is
		/// forgotten.
		///
		/// ## Errors
		///
		/// [`Error::NotRegistered`], [`Error::NotActive`] (not unbonding),
		/// [`Error::StillUnbonding`], [`Error::BondAtStakeAsValidator`].
		///
		/// ## Events
		///
		/// [`Event::BondWithdrawn`].
		#[pallet::call_index(4)]
		pub fn withdraw_bond(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_bond(who)
		}

		/// Commit to a job's result without revealing it.
		///
		/// ## Dispatch Origin
		///
		/// Signed by a provider assigned to `job`.
		///
		/// ## Details
		///
		/// `commitment = blake2_256("povm/commitment2" ‖ SCALE((attestation, salt, provider)))`
		/// where the attestation is `(job, wave, result_digest, output_digest,
		/// checkpoints_root, usage)` (see `povm_primitives::attestation`): `wave` is the
		/// provider's draw wave (from the `provider_assignments` runtime API),
		/// `output_digest` the blake2-256 of the small output, `usage` within the job's bound,
		/// and `salt` 32 random bytes kept for the reveal. Allowed until the provider's commit
		/// deadline (inclusive). When every current assignee has committed or timed out, the
		/// reveal phase opens if at least `min_replicas` results are sealed (committed, or
		/// revealed in an earlier wave); while fewer are and more providers can be drawn,
		/// replacements are drawn first and the round stays in the commit phase, so nobody
		/// drawn late sees a reveal before it commits.
		///
		/// ## Events
		///
		/// [`Event::ResultCommitted`]; possibly the job queue's `JobRevealing`, or
		/// [`Event::MoreReplicasRequested`] and the job queue's `JobReassigned`.
		///
		/// ## Weight
		///
		/// Charged for a commit that closes the commits and draws replacements over a full
		/// candidate list, with the draw's most rejections ([`Pallet::commit_weight_with_draw`]);
		/// refunded to [`Pallet::commit_weight_without_draw`] (the measured commit that opens
		/// reveals) when it tries none, which is the usual case.
		#[pallet::call_index(5)]
		#[pallet::weight(Pallet::<T>::commit_weight_with_draw())]
		pub fn commit_result(
			origin: OriginFor<T>,
			job: JobId,
			commitment: Digest,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let tried_a_draw = Self::do_commit(who, job, commitment)?;
			Ok((!tried_a_draw).then(Self::commit_weight_without_draw).into())
		}

		/// Reveal a committed result.
		///
		/// ## Dispatch Origin
		///
		/// Signed by a provider that committed to `job`.
		///
		/// ## Details
		///
		/// Only in the reveal phase and until its deadline (inclusive). The reveal, with the
		/// job, the caller's wave and the caller, must hash to the commitment (the output's
		/// digest is computed here from the revealed bytes; a member that had committed before
		/// the upgrade to storage version 2 is marked legacy and checked against the version-1
		/// commitment `blake2_256(SCALE((result_digest, checkpoints_root, salt, provider)))`
		/// instead), its usage must be within the job's
		/// bound (CPU core-ms `<= millicores × max_seconds`, memory MiB·s
		/// `<= memory_mib × max_seconds`, wall ms `<= max_seconds × 1000`; a legacy member's
		/// usage, which the version-1 commitment does not cover, is capped at that bound
		/// instead of refused), and `leaves` (the
		/// checkpoint hashes, in order) must have `checkpoints_root` as their Merkle root (see
		/// [`verdict::merkle_root`]). The output is at most 1 KiB. `outcome` is how the run
		/// ended (exit code, timed-out, OOM and truncated flags, and the digest of the logs and
		/// files): when given, its [`RunOutcome::result_digest`] must be the revealed result
		/// digest ([`Error::OutcomeMismatch`] otherwise), so it is exactly what was committed;
		/// an accepted result shows the outcome of its agreeing reveals (the job queue keeps
		/// it beside the result). Workers reveal it since spec 108; `None` is what a reveal
		/// without one (a worker before) gives. When the last committed
		/// provider reveals, the verdict is taken at once. A committed provider that never
		/// gets a valid reveal in is slashed at least the wrong-result share.
		///
		/// ## Events
		///
		/// [`Event::ResultRevealed`]; possibly the verdict events.
		///
		/// ## Weight
		///
		/// Charged for a last reveal whose verdict draws more replicas (no clear majority yet)
		/// over a full candidate list ([`Pallet::reveal_weight_with_draw`]); refunded to the
		/// measured verdict without a draw when it tries none (a draw that finds nobody is
		/// paid for), and to the measured reveal that is kept (`reveal_result_kept`) when
		/// members are still to reveal: only the last reveal of a round pays for its verdict.
		#[pallet::call_index(6)]
		#[pallet::weight(Pallet::<T>::reveal_weight_with_draw())]
		pub fn reveal_result(
			origin: OriginFor<T>,
			job: JobId,
			reveal: Reveal,
			leaves: BoundedVec<Digest, T::MaxCheckpoints>,
			outcome: Option<RunOutcome>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let charged = match Self::do_reveal(who, job, reveal, leaves, outcome)? {
				RevealEnd::Kept => Some(T::WeightInfo::reveal_result_kept()),
				RevealEnd::Verdict { tried_a_draw: false } =>
					Some(Self::reveal_weight_without_draw()),
				RevealEnd::Verdict { tried_a_draw: true } => None,
			};
			Ok(charged.into())
		}

		/// Close a stuck job: end its round and dispute it.
		///
		/// ## Dispatch Origin
		///
		/// `ForceOrigin` (root in the runtime).
		///
		/// ## Details
		///
		/// For a job whose deadline processing keeps failing (see [`Event::DeadlineAbandoned`]
		/// and [`FailedDeadlines`]), or any other open round that cannot progress. Frees every
		/// member's slot, drops the reveals and the failure record, and disputes the job through
		/// the job queue: as in any dispute, each valid revealer is paid its capped time from
		/// the escrow (its output is public) and the rest is refunded to the owner (the owner
		/// reaps the record to get the deposit back). If that dispute fails (paying may be what
		/// keeps the job stuck), a second one refunds the whole escrow to the owner and pays
		/// nobody; each attempt runs in its own storage layer, so a failed one changes nothing.
		/// Bonds and reputations are not touched: nobody is slashed. A round whose job is
		/// unknown to the job queue or already finished (an inconsistency `try_state` reports)
		/// is closed without a dispute. Fails with [`Error::NoRound`] if the job has no open
		/// round, and with the job queue's error if it cannot dispute the job even without
		/// payments (nothing changes then).
		///
		/// ## Events
		///
		/// [`Event::JobForceDisputed`] (`paid: false` if the refund-everything fallback was
		/// used); the job queue's `JobDisputed`.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::force_dispute(T::MaxMembers::get()))]
		pub fn force_dispute(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			T::ForceOrigin::ensure_origin(origin)?;
			Self::do_force_dispute(job)
		}

		/// Decline a job the caller was drawn for but cannot run.
		///
		/// ## Dispatch Origin
		///
		/// Signed by a provider assigned to `job` that has not committed yet.
		///
		/// ## Details
		///
		/// Allowed until the caller's commit deadline (inclusive), only while it is `Assigned`
		/// (not committed, not declined, not a no-show). The caller is not slashed; its slot is
		/// freed at once; its reputation counts one more verdict that did not agree (as a
		/// dissent does). Its replacement is not drawn here but in the next block's hook (with a
		/// fresh commit deadline), with randomness that includes that block's parent hash, the
		/// hash of the block holding this decline, so the decliner cannot time its decline to
		/// choose its co-replicas, and the co-replicas do not wait out the commit window for it.
		/// When the declines make most of the job's draws (more than half, and at
		/// least [`MIN_DECLINES_TO_END`]) while nobody has a sealed result, the job ends as
		/// unrunnable: the round is closed, the escrow refunded and the owner's deposit paid to
		/// the decliners (see [`Pallet::most_declined`]).
		///
		/// ## Errors
		///
		/// [`Error::NoRound`], [`Error::NotAssigned`] (not a member), [`Error::AlreadyCommitted`],
		/// [`Error::AlreadyDeclined`], [`Error::CommitDeadlinePassed`] (after the deadline, or
		/// already faulted as a no-show).
		///
		/// ## Events
		///
		/// [`Event::JobDeclined`]; possibly [`Event::JobUnrunnable`] and the job queue's
		/// `JobUnrunnable`.
		#[pallet::call_index(8)]
		pub fn decline_job(
			origin: OriginFor<T>,
			job: JobId,
			reason: DeclineReason,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_decline(who, job, reason)
		}

		/// Appoint `who` as an anchor, or remove it.
		///
		/// ## Dispatch Origin
		///
		/// `ForceOrigin` (root in the runtime; governance outside dev chains).
		///
		/// ## Details
		///
		/// An anchor is trusted from the start: a result its agreeing group holds an anchor (or a
		/// provider vouched for by the anchors) can be accepted, and the providers that agree
		/// with it earn trust (see [`crate::trust`]). Once the first anchor is appointed, every
		/// verdict needs a trusted provider in its agreeing group; removing the last anchor
		/// turns that rule off again. `who` need not be a registered provider yet. A removed
		/// anchor's own [`Trust`] points are forgotten (anchors vouch for each other, so an
		/// anchor gathers points; governance removing one no longer trusts it), so it is judged
		/// as an untrusted provider until it is vouched for again. Fails with
		/// [`Error::TooManyAnchors`] beyond `MaxAnchors`, and with [`Error::AnchorUnchanged`]
		/// when `who` already is (or is not) an anchor.
		///
		/// ## Events
		///
		/// [`Event::AnchorSet`].
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::set_anchor()
			.saturating_add(T::DbWeight::get().writes(1)))]
		pub fn set_anchor(origin: OriginFor<T>, who: T::AccountId, anchor: bool) -> DispatchResult {
			T::ForceOrigin::ensure_origin(origin)?;
			ensure!(Anchors::<T>::contains_key(&who) != anchor, Error::<T>::AnchorUnchanged);
			if anchor {
				ensure!(Anchors::<T>::count() < T::MaxAnchors::get(), Error::<T>::TooManyAnchors);
				Anchors::<T>::insert(&who, ());
			} else {
				Anchors::<T>::remove(&who);
				Trust::<T>::remove(&who);
			}
			Self::deposit_event(Event::AnchorSet { who, anchor });
			Ok(())
		}

		/// Say where the caller serves the result files of the jobs it runs, or stop saying so.
		///
		/// ## Dispatch Origin
		///
		/// Signed by a registered provider.
		///
		/// ## Details
		///
		/// `Some(service)` records (or replaces) the base URL customers fetch result files from
		/// and the seconds the provider keeps them after a run (see
		/// [`povm_primitives::results`]: `GET {url}/v1/jobs/{job}/{item}`, signed by the job's
		/// owner); `None` removes it. The URL must be `http(s)://host[:port][/path]` without
		/// credentials, query or fragment, and the retention within
		/// 1..=[`povm_primitives::results::MAX_RETENTION_SECONDS`] ([`Error::BadResultService`]
		/// otherwise). Fails with [`Error::NotRegistered`] for an account that is not a
		/// registered provider. The record goes with the bond ([`Pallet::withdraw_bond`]).
		///
		/// ## Events
		///
		/// [`Event::ResultServiceSet`].
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::set_result_service())]
		pub fn set_result_service(
			origin: OriginFor<T>,
			service: Option<ResultService>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_result_service(who, service)
		}

		/// Show that the caller is still at work on a long job it was assigned and has not
		/// committed yet.
		///
		/// ## Dispatch Origin
		///
		/// Signed by a member of the job's round that still owes its commit.
		///
		/// ## Details
		///
		/// Only a member whose commit window is longer than `StallTimeout` sends these (one
		/// whose window is shorter gets [`Error::NoHeartbeatNeeded`]); it must send one at
		/// least every `StallTimeout` blocks after its draw until it commits, or it is marked a
		/// no-show ([`Fault::Stalled`]) and replaced (see [`crate::stall`]). Refused with
		/// [`Error::NoRound`], [`Error::NotAssigned`], [`Error::AlreadyCommitted`],
		/// [`Error::AlreadyDeclined`] or [`Error::CommitDeadlinePassed`] when the caller owes no
		/// commit. Free when at least `StallTimeout / 4` blocks after the member's last sign of
		/// life, else the usual fee.
		///
		/// ## Events
		///
		/// [`Event::JobHeartbeat`].
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::job_heartbeat())]
		pub fn job_heartbeat(origin: OriginFor<T>, job: JobId) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			Self::do_job_heartbeat(who, job)
		}
	}
}

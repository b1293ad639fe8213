//! Domain types of the vm-proof pallet.

use crate::Config;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use frame_support::{
	traits::fungible::Inspect, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
pub use povm_primitives::{
	attestation::Attestation, Digest, Footprint, JobId, Output, Resources, Usage,
};
use scale_info::TypeInfo;

/// The balance type of the configured currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

pub use povm_primitives::{
	results::{ResultService, RunOutcome},
	Arch,
};

/// Highest grid carbon intensity an offer may declare, gCO2e/kWh.
///
/// The dirtiest grids (lignite and oil) emit about 1 100–1 300 gCO2e/kWh over their life
/// cycle; 2 000 leaves margin and bounds the carbon of every joule the chain accounts for.
pub const MAX_GRID_INTENSITY: u32 = 2_000;
/// Highest power usage effectiveness an offer may declare, per-mille (3.0).
///
/// Surveys put the worst legacy data centres around 2.5 and server closets with poor cooling
/// below 3: a PUE above 3 would mean two thirds of the energy went into overhead.
pub const MAX_PUE_PERMILLE: u32 = 3_000;
/// Highest power draw per core an offer may declare, in mW (250 W).
///
/// Server CPUs draw 2–20 W per core at full load (a 500 W package has 32 or more cores); a
/// single core drawing 250 W is beyond any CPU sold, so the bound only stops absurd claims.
pub const MAX_CORE_MILLIWATTS: u32 = 250_000;
/// Longest job run time an offer may declare it accepts ([`VmOffer::max_seconds`]), in seconds:
/// [`povm_primitives::MAX_JOB_SECONDS`] (7 days), the longest run time any job may ask for, so
/// a worker can accept every job the chain can hold and no larger figure means anything.
pub const MAX_OFFER_SECONDS: u32 = povm_primitives::MAX_JOB_SECONDS;

/// The fewest declines that can end a job as unrunnable (see `Pallet::most_declined`): one
/// provider alone can never end a job and take its owner's deposit.
pub const MIN_DECLINES_TO_END: u32 = 2;

/// What a provider's VM offers, and what its energy figures are computed from.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct VmOffer {
	/// CPU in thousandths of a core per job slot (1..=[`povm_primitives::MAX_MILLICORES`]).
	pub millicores: u32,
	/// Memory in MiB per job slot (1..=[`povm_primitives::MAX_MEMORY_MIB`]).
	pub memory_mib: u32,
	/// CPU architecture.
	pub arch: Arch,
	/// Jobs run concurrently (1..=`MaxSlots`).
	pub slots: u32,
	/// Declared grid carbon intensity, gCO2e per kWh (1..=[`MAX_GRID_INTENSITY`]).
	pub grid_intensity: u32,
	/// Power usage effectiveness in per-mille (1000 = 1.0; 1000..=[`MAX_PUE_PERMILLE`]).
	pub pue_permille: u32,
	/// Power draw per core in milliwatts (1..=[`MAX_CORE_MILLIWATTS`]).
	pub core_milliwatts: u32,
	/// Longest job run time the worker accepts, in seconds (1..=[`MAX_OFFER_SECONDS`]): a job
	/// whose `max_seconds` is larger is never drawn for this provider.
	pub max_seconds: u32,
}

impl VmOffer {
	/// Whether the offer fits `r`: enough CPU and memory per slot, and a run-time limit at
	/// least the job's `max_seconds`.
	pub fn fits(&self, r: &Resources) -> bool {
		self.millicores >= r.millicores &&
			self.memory_mib >= r.memory_mib &&
			self.max_seconds >= r.max_seconds
	}
}

/// A resource class of the draw index ([`crate::index`]): an architecture and the tier of
/// each of CPU, memory and run-time limit (indices into [`crate::index::CPU_TIERS`],
/// [`crate::index::MEMORY_TIERS`] and [`crate::index::SECONDS_TIERS`]).
#[derive(
	Clone, Copy, Encode, Decode, PartialEq, Eq, PartialOrd, Ord, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct ResourceClass {
	/// CPU architecture of the offers.
	pub arch: Arch,
	/// CPU tier.
	pub cpu: u8,
	/// Memory tier.
	pub memory: u8,
	/// Run-time limit tier.
	pub seconds: u8,
}

/// One resource class's summary in the draw index.
#[derive(Clone, Copy, Encode, Decode, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct ClassTotal {
	/// The class.
	pub class: ResourceClass,
	/// Free slots summed over its providers (the class's weight in a draw; a provider whose
	/// heartbeat lapsed weighs until a draw meets it).
	pub weight: u32,
	/// Its providers: they sit at positions `1..=size`.
	pub size: u32,
	/// Its providers with a weight above 0, by the epoch of their last heartbeat, for the two
	/// latest epochs that have any: those of this epoch and the last are the live ones
	/// ([`ClassTotal::live`]).
	pub drawable: [EpochCount; 2],
}

/// How many providers of a class have a weight above 0 and their last heartbeat in `epoch`.
#[derive(Clone, Copy, Default, Encode, Decode, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct EpochCount {
	/// The epoch of their last heartbeat.
	pub epoch: u32,
	/// How many.
	pub count: u32,
}

impl ClassTotal {
	/// The summary of `class` with no provider filed in it yet.
	pub fn empty(class: ResourceClass) -> Self {
		Self { class, weight: 0, size: 0, drawable: Default::default() }
	}

	/// Its providers with a weight above 0 and a heartbeat in epoch `now` or the one before:
	/// exactly those a draw can take (a lapsed one still weighs, but is not counted).
	pub fn live(&self, now: u32) -> u32 {
		self.drawable
			.iter()
			.filter(|c| c.epoch.saturating_add(1) >= now)
			.fold(0u32, |n, c| n.saturating_add(c.count))
	}

	/// Count one more drawable provider whose last heartbeat is in `epoch`. A provider is
	/// counted only while live, so `epoch` is this one or the last, and of two counts that are
	/// not for `epoch` at least one is empty or for an earlier, lapsed epoch: an empty one is
	/// replaced, else the older.
	pub fn count_in(&mut self, epoch: u32) {
		if let Some(c) = self.drawable.iter_mut().find(|c| c.epoch == epoch) {
			c.count = c.count.saturating_add(1);
			return;
		}
		let [first, second] = self.drawable;
		let replaced = if second.count == 0 {
			1
		} else if first.count == 0 || first.epoch <= second.epoch {
			0
		} else {
			1
		};
		self.drawable[replaced] = EpochCount { epoch, count: 1 };
	}

	/// Count one drawable provider whose last heartbeat is in `epoch` less (nothing when that
	/// epoch's count was replaced: it had lapsed).
	pub fn uncount_in(&mut self, epoch: u32) {
		if let Some(c) = self.drawable.iter_mut().find(|c| c.epoch == epoch) {
			c.count = c.count.saturating_sub(1);
		}
	}
}

/// Where an active provider sits in the draw index.
#[derive(Clone, Copy, Encode, Decode, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct IndexPlace {
	/// The class its offer is filed under.
	pub class: ResourceClass,
	/// Its position in the class (1-based).
	pub position: u32,
	/// Its weight there: its drawable free slots when last reindexed.
	pub weight: u32,
	/// The epoch of its last heartbeat when last reindexed: the count of drawable providers it
	/// is in while its weight is above 0.
	pub epoch: u32,
}

/// Registration status of a provider.
#[derive(Clone, Copy, Encode, Decode, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum ProviderStatus<BlockNumber> {
	/// Eligible for assignment (when live and bonded).
	Active,
	/// Unregistered; the bond can be withdrawn from the given block.
	Unbonding {
		/// First block `withdraw_bond` succeeds.
		until: BlockNumber,
	},
}

/// A registered provider.
#[derive(
	Encode, Decode, TypeInfo, MaxEncodedLen, DebugNoBound, CloneNoBound, PartialEqNoBound, EqNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct ProviderInfo<T: Config> {
	/// The VM offer.
	pub offer: VmOffer,
	/// Bond held (after slashes).
	pub bond: BalanceOf<T>,
	/// Registration status.
	pub status: ProviderStatus<BlockNumberFor<T>>,
	/// Last epoch with a heartbeat.
	pub last_heartbeat: u32,
	/// Verdicts where this provider's result agreed with the accepted one.
	pub agreed: u32,
	/// Verdicts (and faults) this provider took part in.
	pub total: u32,
}

/// Where an assigned provider stands on one job.
#[derive(Clone, Copy, Encode, Decode, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum MemberStatus {
	/// Assigned; has not committed yet.
	Assigned,
	/// Committed.
	Committed,
	/// Revealed a result matching its commitment.
	Revealed,
	/// Missed the commit or reveal deadline (slashed the smaller share, replaced).
	NoShow,
	/// Declined the job before its commit deadline ([`crate::Pallet::decline_job`]): not
	/// slashed, its slot freed, replaced when the wave's commits close. Counts as neither a
	/// sealed result nor a no-show.
	Declined,
}

/// Why a provider declines a job it was drawn for ([`crate::Pallet::decline_job`]).
///
/// Informational: every reason has the same effect. It is published in
/// [`crate::Event::JobDeclined`] so that customers see why their job is not run.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum DeclineReason {
	/// The image could not be found or pulled.
	ImageUnavailable,
	/// The job's CPU or memory exceeds what the worker can give it now.
	ResourcesAboveLimits,
	/// The job's `max_seconds` exceeds what the worker accepts.
	RunTimeAboveLimit,
	/// The image does not run on the worker's platform (architecture or OS).
	PlatformMismatch,
	/// The spec cannot be run as given (e.g. the worker cannot parse or start it).
	InvalidSpec,
	/// Any other reason.
	Other,
	/// An input could not be fetched, or its size or sha-256 is not the spec's (appended in
	/// spec 107).
	InputUnavailable,
}

/// One provider assigned to a job.
#[derive(
	Encode, Decode, TypeInfo, MaxEncodedLen, DebugNoBound, CloneNoBound, PartialEqNoBound, EqNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct RoundMember<T: Config> {
	/// The provider.
	pub who: T::AccountId,
	/// Where it stands.
	pub status: MemberStatus,
	/// Last block it may commit.
	pub commit_deadline: BlockNumberFor<T>,
	/// Its commitment, once committed.
	pub commitment: Option<Digest>,
	/// The draw wave it was assigned in (0 for the job's first draw); committed to in
	/// [`Attestation::wave`].
	pub wave: u32,
	/// Whether its commitment follows the version-1 rule
	/// ([`povm_primitives::attestation::legacy_commitment`], which binds neither the job, the
	/// wave, the output nor the usage).
	///
	/// Set only by the storage migration to version 2, for the members that had committed and
	/// not yet revealed when the runtime was upgraded, so that they can still reveal what they
	/// committed instead of being slashed as reveal no-shows. Every member drawn after the
	/// upgrade has `false` and is checked against the version-2 rule only.
	pub legacy: bool,
}

impl<T: Config> RoundMember<T> {
	/// Whether the member still holds a slot of its provider: it has neither missed a deadline
	/// ([`MemberStatus::NoShow`]) nor declined ([`MemberStatus::Declined`]).
	pub fn holds_slot(&self) -> bool {
		!matches!(self.status, MemberStatus::NoShow | MemberStatus::Declined)
	}
}

/// How long a round member held its slot before it committed (see [`crate::SlotHolds`]).
#[derive(Clone, Copy, Encode, Decode, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct SlotHold<BlockNumber> {
	/// The block the member was drawn and took a slot.
	pub assigned_at: BlockNumber,
	/// The block of its commit, once committed.
	pub committed_at: Option<BlockNumber>,
}

impl<BlockNumber: sp_runtime::traits::AtLeast32BitUnsigned + Copy> SlotHold<BlockNumber> {
	/// The most verified time the member can be credited: the blocks from its assignment to
	/// its commit at `ms_per_block` each (0 before it committed). An honest worker commits after
	/// its run, so its run fits in it.
	pub fn held_ms(&self, ms_per_block: u64) -> u64 {
		let Some(committed_at) = self.committed_at else { return 0 };
		let blocks: u64 =
			committed_at.saturating_sub(self.assigned_at).try_into().unwrap_or(u64::MAX);
		blocks.saturating_mul(ms_per_block)
	}
}

/// Phase of a job's commit–reveal round.
#[derive(Clone, Copy, Encode, Decode, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum Phase<BlockNumber> {
	/// Some member still has to commit.
	Committing,
	/// Commits closed; reveals until the given block (inclusive).
	Revealing {
		/// Last block to reveal.
		deadline: BlockNumber,
	},
}

/// The commit–reveal state of an open job.
#[derive(
	Encode, Decode, TypeInfo, MaxEncodedLen, DebugNoBound, CloneNoBound, PartialEqNoBound, EqNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct Round<T: Config> {
	/// Every provider ever assigned to the job.
	pub members: BoundedVec<RoundMember<T>, T::MaxMembers>,
	/// Current phase.
	pub phase: Phase<BlockNumberFor<T>>,
	/// Draw waves so far: the members of the next draw get this wave number.
	pub waves: u32,
}

/// What a provider reveals (besides the checkpoint leaves): together with the job and its
/// wave, exactly the [`Attestation`] it committed to, plus the salt.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct Reveal {
	/// Digest of the result (exit code, stdout/stderr digests, output files).
	pub result_digest: Digest,
	/// Merkle root of the checkpoint leaves.
	pub checkpoints_root: Digest,
	/// The salt of the commitment.
	pub salt: [u8; 32],
	/// Small output (<= 1 KiB), e.g. a coin flip; its blake2-256 is committed
	/// ([`Attestation::output_digest`]) and part of the agreement.
	pub output: Output,
	/// Measured usage, committed, within the job's bound ([`Resources::usage_bound`]).
	pub usage: Usage,
}

impl Reveal {
	/// The attestation this reveal opens for `job` and `wave` (the output digest computed
	/// here, from the revealed bytes).
	pub fn attestation(&self, job: JobId, wave: u32) -> Attestation {
		Attestation {
			job,
			wave,
			result_digest: self.result_digest,
			output_digest: povm_primitives::attestation::output_digest(&self.output),
			checkpoints_root: self.checkpoints_root,
			usage: self.usage,
		}
	}
}

/// Cumulative energy and carbon (per provider, per epoch), in `u128`.
///
/// One job's [`Footprint`] fits in `u64` (see `energy`'s bound test), but sums over all time
/// are kept in `u128` so that they cannot saturate: at the runtime's most jobs per block and
/// the worst footprint every input allows, `u128` lasts over 10^13 years.
#[derive(
	Clone,
	Copy,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct FootprintTotal {
	/// Energy in µWh.
	pub energy_uwh: u128,
	/// Carbon in µg CO2e.
	pub carbon_ug: u128,
}

impl FootprintTotal {
	/// Adds one footprint (saturating, which the bounds make unreachable).
	pub fn add(self, f: Footprint) -> FootprintTotal {
		FootprintTotal {
			energy_uwh: self.energy_uwh.saturating_add(f.energy_uwh as u128),
			carbon_ug: self.carbon_ug.saturating_add(f.carbon_ug as u128),
		}
	}
}

/// A stored reveal.
#[derive(
	Encode, Decode, TypeInfo, MaxEncodedLen, DebugNoBound, CloneNoBound, PartialEqNoBound, EqNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct RevealRecord<T: Config> {
	/// The reveal.
	pub reveal: Reveal,
	/// Checkpoint leaf hashes.
	pub leaves: BoundedVec<Digest, T::MaxCheckpoints>,
	/// How the run ended, checked against the result digest; `None` for a reveal without one
	/// (a worker before spec 108, or a reveal stored before storage version 5).
	pub outcome: Option<RunOutcome>,
}

impl AsRef<Reveal> for Reveal {
	fn as_ref(&self) -> &Reveal {
		self
	}
}

impl<T: Config> AsRef<Reveal> for RevealRecord<T> {
	fn as_ref(&self) -> &Reveal {
		&self.reveal
	}
}

impl<T: Config> AsMut<Reveal> for RevealRecord<T> {
	fn as_mut(&mut self) -> &mut Reveal {
		&mut self.reveal
	}
}

/// Why a provider was faulted.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Fault {
	/// Did not commit before the commit deadline.
	CommitNoShow,
	/// Did not reveal (a matching reveal) before the reveal deadline; slashed at least the
	/// wrong-result share, so that withholding a reveal never costs less than revealing a
	/// wrong result.
	RevealNoShow,
	/// Revealed a result other than the accepted one, outvoted by a clear majority (see
	/// [`crate::verdict::clear_majority`]).
	WrongResult,
	/// Declined after the free first half of its commit window (see
	/// [`crate::Pallet::is_late_decline`]); slashed as a commit no-show.
	LateDecline,
	/// Went longer than `StallTimeout` without a job heartbeat in a long job's commit window
	/// (see [`crate::stall`]); slashed as a commit no-show and replaced.
	Stalled,
}

/// A job whose deadline processing failed (and was rolled back).
#[derive(Clone, Copy, Encode, Decode, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct DeadlineFailure<BlockNumber> {
	/// Failed attempts in a row.
	pub attempts: u32,
	/// Block of the next attempt; `None` once `MaxDeadlineAttempts` attempts failed: the job is
	/// no longer retried and waits for `force_dispute`.
	pub retry_at: Option<BlockNumber>,
}

/// What a valid reveal did (see `Pallet::do_reveal`), which sets what it is charged. Not
/// stored.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RevealEnd {
	/// Members are still to reveal: the reveal was checked and kept, no verdict taken.
	Kept,
	/// It was the last reveal: the verdict was taken, drawing more replicas or not.
	Verdict {
		/// The verdict tried a draw of providers (no clear majority yet).
		tried_a_draw: bool,
	},
}

/// What closing a round's commits does when drawing more replicas fails (see
/// `Pallet::maybe_close_commits`). Not stored.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DrawError {
	/// Return the error: at a commit deadline, so that the deadline is rolled back and retried
	/// rather than opening reveals with too few sealed results.
	Propagate,
	/// Count it as nobody drawn: in a provider's commit, which must not fail because of a draw.
	Ignore,
}

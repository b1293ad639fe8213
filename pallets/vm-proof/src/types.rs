//! Domain types of the vm-proof pallet.

use crate::Config;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use frame_support::{
	traits::fungible::Inspect, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
pub use povm_primitives::{Digest, Footprint, JobId, Output, Resources, Usage};
use scale_info::TypeInfo;

/// The balance type of the configured currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// CPU architecture of a VM offer.
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
pub enum Arch {
	/// x86-64.
	X86_64,
	/// 64-bit ARM.
	Aarch64,
	/// 64-bit RISC-V.
	Riscv64,
}

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
	/// CPU in thousandths of a core per job slot.
	pub millicores: u32,
	/// Memory in MiB per job slot.
	pub memory_mib: u32,
	/// CPU architecture.
	pub arch: Arch,
	/// Jobs run concurrently (1..=`MaxSlots`).
	pub slots: u32,
	/// Declared grid carbon intensity, gCO2e per kWh.
	pub grid_intensity: u32,
	/// Power usage effectiveness in per-mille (1000 = 1.0; at least 1000).
	pub pue_permille: u32,
	/// Power draw per core in milliwatts.
	pub core_milliwatts: u32,
}

impl VmOffer {
	/// Whether the offer fits `r`.
	pub fn fits(&self, r: &Resources) -> bool {
		self.millicores >= r.millicores && self.memory_mib >= r.memory_mib
	}
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
}

/// What a provider reveals (besides the checkpoint leaves).
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
	/// Small output (<= 1 KiB), e.g. a coin flip.
	pub output: Output,
	/// Measured usage.
	pub usage: Usage,
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
	/// Did not reveal (a matching reveal) before the reveal deadline.
	RevealNoShow,
	/// Revealed a result other than the accepted one.
	WrongResult,
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

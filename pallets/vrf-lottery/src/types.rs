//! Domain types of the lottery: draws, tickets, claims, outcomes and VRF keys.

use crate::Config;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{pallet_prelude::*, traits::fungible::Inspect, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_core::sr25519;

/// The balance type of the configured currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// 32 bytes of VRF output, derived from a verified pre-output (see [`crate::vrf::output_bytes`]).
pub type VrfOutput = [u8; 32];

/// The lottery draw whose claim window is open.
///
/// A draw is opened at a session boundary (its tickets and seed are then fixed) and closed at
/// the next one, which pays its winners and plans the validator set.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct DrawInfo<BlockNumber> {
	/// The lottery epoch: the session during which claims are accepted.
	pub epoch: u32,
	/// The epoch whose verified work became this draw's tickets (`epoch - 1`).
	pub work_epoch: u32,
	/// The seed every provider's VRF is evaluated on.
	pub seed: [u8; 32],
	/// Sum of all providers' tickets.
	pub total_tickets: u128,
	/// How many providers hold tickets.
	pub providers: u32,
	/// `ExpectedWinners` when the draw opened.
	pub expected_winners: u32,
	/// Claims kept so far (at most `MaxWinners`; a claim displaced by a lower output no longer
	/// counts).
	pub winners: u32,
	/// Block at which the draw opened.
	pub opened_at: BlockNumber,
}

/// The draw of a runtime.
pub type DrawInfoOf<T> = DrawInfo<BlockNumberFor<T>>;

/// The tickets credited so far to a draw that has not opened: what its [`DrawInfo`] will say.
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
pub struct TicketTotal {
	/// Sum of the tickets credited.
	pub tickets: u128,
	/// How many providers hold them.
	pub providers: u32,
}

/// An accepted claim.
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
pub struct ClaimRecord {
	/// The VRF output bytes.
	pub output: VrfOutput,
	/// The threshold the output was below.
	pub threshold: u128,
}

/// A kept claim in [`crate::Ranking`]: who claimed, its output and its threshold.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct RankedClaim<AccountId> {
	/// The VRF output bytes.
	pub output: VrfOutput,
	/// The claimant.
	pub who: AccountId,
	/// The threshold the output was below (the claimant's share of the tickets).
	pub threshold: u128,
}

impl<AccountId> RankedClaim<AccountId> {
	/// Its place in a draw: [`crate::vrf::rank`] of its output relative to its threshold
	/// (lower is better).
	pub fn rank(&self) -> (u128, VrfOutput) {
		crate::vrf::rank(&self.output, self.threshold)
	}
}

/// A provider's registered VRF key.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct VrfKeyRecord {
	/// The sr25519 public key the provider evaluates its VRF with.
	pub key: sr25519::Public,
	/// The first draw epoch this key may claim in. Keys register at least
	/// `KeyActivationDelay` epochs before use, so nobody can pick a key after seeing a seed.
	pub active_from: u32,
}

/// A VRF signature as two fixed-size byte arrays, as it travels in `claim_ticket`.
///
/// `pre_output` is the schnorrkel VRF pre-output (32 bytes), `proof` the DLEQ proof (64 bytes):
/// exactly the SCALE encoding of `sp_core::sr25519::vrf::VrfSignature`.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct VrfProofBytes {
	/// The VRF pre-output.
	pub pre_output: [u8; 32],
	/// The VRF proof.
	pub proof: [u8; 64],
}

impl VrfProofBytes {
	/// The signature these bytes encode, if they are valid curve points and scalars.
	pub fn to_signature(&self) -> Option<sr25519::vrf::VrfSignature> {
		let mut bytes = [0u8; 96];
		bytes[..32].copy_from_slice(&self.pre_output);
		bytes[32..].copy_from_slice(&self.proof);
		sr25519::vrf::VrfSignature::decode(&mut &bytes[..]).ok()
	}
}

impl From<&sr25519::vrf::VrfSignature> for VrfProofBytes {
	fn from(sig: &sr25519::vrf::VrfSignature) -> Self {
		let bytes = sig.encode();
		let mut pre_output = [0u8; 32];
		let mut proof = [0u8; 64];
		// The encoding is 96 bytes: 32 of pre-output, then 64 of proof.
		if bytes.len() == 96 {
			pre_output.copy_from_slice(&bytes[..32]);
			proof.copy_from_slice(&bytes[32..]);
		}
		VrfProofBytes { pre_output, proof }
	}
}

/// The result of a closed draw.
#[derive(
	Encode, Decode, TypeInfo, MaxEncodedLen, DebugNoBound, CloneNoBound, PartialEqNoBound, EqNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct Outcome<T: Config> {
	/// The draw's epoch.
	pub epoch: u32,
	/// Every kept claim, by ascending VRF output.
	pub winners: BoundedVec<T::AccountId, T::MaxWinners>,
	/// Paid to each winner (`EpochIssuance / winners`, rounded down).
	pub payout: BalanceOf<T>,
	/// The validator set planned from the incumbents and the winners (see [`crate::seats`]),
	/// or `None` if too few qualified and the current set stays.
	pub validators: Option<BoundedVec<T::AccountId, T::MaxValidators>>,
}

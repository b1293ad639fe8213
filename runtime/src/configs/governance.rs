//! On-chain governance: a council whose two-thirds majority acts as root, so that a chain needs
//! no sudo key.
//!
//! - `Council` (pallet-collective): its members, set at genesis, propose motions and vote on
//!   them. A motion can be closed as soon as its ayes reach its threshold, or after
//!   [`COUNCIL_MOTION_DURATION`] with the votes cast; a member who did not vote counts as a nay
//!   ([`AbsentMembersVoteNay`]: a prime member does not vote for the absent). Whatever its
//!   threshold, a motion acts as root only with the ayes of two thirds of the members.
//! - `Whitelist` (pallet-whitelist): how a passed motion dispatches a call as root. Both its
//!   origins are root or the council's two thirds ([`RootOrCouncilTwoThirds`]), so one motion
//!   `utility.batch_all([whitelist.whitelist_call(hash), whitelist.dispatch_whitelisted_call_with_preimage(call)])`
//!   runs `call` as root: the protocol parameters (`job_queue.set_params`,
//!   `vrf_lottery.set_min_validators`, …), the council's own membership
//!   (`council.set_members`), and runtime upgrades (`system.authorize_upgrade(code_hash)`, after
//!   which anyone may submit `system.apply_authorized_upgrade(code)`, free when it succeeds).
//!   Its deferred dispatch (a call dispatched before it is whitelisted, which any signed
//!   account could then run as root once it is) is switched off: deferrals expire at once
//!   ([`WhitelistDeferredDispatchExpiration`] = 0).
//! - `Preimage` (pallet-preimage): the whitelist's store of calls noted in advance, with a
//!   deposit held from whoever notes one.
//! - `Utility` (pallet-utility): batches, for the motion above and for everyone.
//!
//! Sudo stays in the runtime for `dev` and `local`, whose presets give it to Alice; the
//! `staging` preset has no sudo key, so there only the council can act as root.

use frame_support::{
	parameter_types,
	traits::{fungible::HoldConsideration, ConstU32, EitherOfDiverse, LinearStoragePrice},
	weights::Weight,
};
use frame_system::EnsureRoot;
use sp_runtime::Perbill;

use super::{monetary::deposit, RuntimeBlockWeights};
use crate::{
	timing::{Build, BUILD, DAYS, MINUTES},
	AccountId, Balance, Balances, BlockNumber, OriginCaller, Preimage, Runtime, RuntimeCall,
	RuntimeEvent, RuntimeHoldReason, RuntimeOrigin, System,
};

/// The council's instance of pallet-collective.
pub type CouncilInstance = frame_support::instances::Instance1;

/// Two thirds of the council, or root (sudo on `dev` and `local`).
pub type RootOrCouncilTwoThirds = EitherOfDiverse<
	EnsureRoot<AccountId>,
	pallet_collective::EnsureProportionAtLeast<AccountId, CouncilInstance, 2, 3>,
>;

/// How long a council motion stays open at most: three days in production, five minutes with
/// `fast-runtime` (tests and local chains).
pub const COUNCIL_MOTION_DURATION: BlockNumber = match BUILD {
	Build::Production => 3 * DAYS,
	Build::Fast => 5 * MINUTES,
};

parameter_types! {
	/// [`COUNCIL_MOTION_DURATION`].
	pub const CouncilMotionDuration: BlockNumber = COUNCIL_MOTION_DURATION;
	/// A motion may weigh at most half a block.
	pub CouncilMaxProposalWeight: Weight = Perbill::from_percent(50) * RuntimeBlockWeights::get().max_block;
	/// The deposit for noting a preimage: two storage items of 64 bytes…
	pub const PreimageBaseDeposit: Balance = deposit(2, 64);
	/// …plus this per byte of the preimage.
	pub const PreimageByteDeposit: Balance = deposit(0, 1);
	/// What a preimage deposit is held for.
	pub const PreimageHoldReason: RuntimeHoldReason =
		RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
	/// Deferred dispatches expire in the block they are made: a signed account can never relay
	/// a root call (see the module's documentation).
	pub const WhitelistDeferredDispatchExpiration: BlockNumber = 0;
}

/// How a council member who did not vote on a motion counts when it is closed after its
/// duration: as a nay, whatever the prime member voted. With pallet-collective's
/// `PrimeDefaultVote` a prime's aye would count for every silent member, and one member could
/// act as root for the whole council.
pub struct AbsentMembersVoteNay;

impl pallet_collective::DefaultVote for AbsentMembersVoteNay {
	fn default_vote(
		_prime_vote: Option<bool>,
		_yes_votes: pallet_collective::MemberCount,
		_no_votes: pallet_collective::MemberCount,
		_len: pallet_collective::MemberCount,
	) -> bool {
		false
	}
}

impl pallet_collective::Config<CouncilInstance> for Runtime {
	type RuntimeOrigin = RuntimeOrigin;
	type Proposal = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type MotionDuration = CouncilMotionDuration;
	type MaxProposals = ConstU32<100>;
	type MaxMembers = ConstU32<50>;
	type DefaultVote = AbsentMembersVoteNay;
	type WeightInfo = pallet_collective::weights::SubstrateWeight<Runtime>;
	type SetMembersOrigin = EnsureRoot<AccountId>;
	type MaxProposalWeight = CouncilMaxProposalWeight;
	type DisapproveOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	// Only members propose; a proposal costs no deposit.
	type Consideration = ();
}

impl pallet_preimage::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_preimage::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type ManagerOrigin = EnsureRoot<AccountId>;
	type Consideration = HoldConsideration<
		AccountId,
		Balances,
		PreimageHoldReason,
		LinearStoragePrice<PreimageBaseDeposit, PreimageByteDeposit, Balance>,
	>;
}

impl pallet_whitelist::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WhitelistOrigin = RootOrCouncilTwoThirds;
	type DispatchWhitelistedOrigin = RootOrCouncilTwoThirds;
	type Preimages = Preimage;
	type DeferredDispatchExpiration = WhitelistDeferredDispatchExpiration;
	type BlockNumberProvider = System;
	type WeightInfo = pallet_whitelist::weights::SubstrateWeight<Runtime>;
}

impl pallet_utility::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type PalletsOrigin = OriginCaller;
	type WeightInfo = pallet_utility::weights::SubstrateWeight<Runtime>;
}

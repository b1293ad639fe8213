//! On-chain governance: a council whose two-thirds majority acts as root, so that a chain needs
//! no sudo key.
//!
//! - `Council` (pallet-collective): its members, set at genesis, propose motions and vote on
//!   them. A motion passes with the ayes of two thirds of the members and can be closed as
//!   soon as that is reached, or after [`COUNCIL_MOTION_DURATION`] with the votes cast (absent
//!   members follow the prime member's vote, if one is set).
//! - `Whitelist` (pallet-whitelist): how a passed motion dispatches a call as root. Both its
//!   origins are root or the council's two thirds ([`RootOrCouncilTwoThirds`]), so one motion
//!   `utility.batch_all([whitelist.whitelist_call(hash), whitelist.dispatch_whitelisted_call_with_preimage(call)])`
//!   runs `call` as root: the protocol parameters (`job_queue.set_params`,
//!   `vrf_lottery.set_min_validators`, …), the council's own membership
//!   (`council.set_members`), and runtime upgrades (`system.authorize_upgrade(code_hash)`, after
//!   which anyone may submit `system.apply_authorized_upgrade(code)`, free when it succeeds).
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
	pub const CouncilMotionDuration: BlockNumber = COUNCIL_MOTION_DURATION;
	/// A motion may weigh at most half a block.
	pub CouncilMaxProposalWeight: Weight = Perbill::from_percent(50) * RuntimeBlockWeights::get().max_block;
	pub const PreimageBaseDeposit: Balance = deposit(2, 64);
	pub const PreimageByteDeposit: Balance = deposit(0, 1);
	pub const PreimageHoldReason: RuntimeHoldReason =
		RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
	/// A whitelisted call deferred for lack of weight may be dispatched for a day.
	pub const WhitelistDeferredDispatchExpiration: BlockNumber = DAYS;
}

impl pallet_collective::Config<CouncilInstance> for Runtime {
	type RuntimeOrigin = RuntimeOrigin;
	type Proposal = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type MotionDuration = CouncilMotionDuration;
	type MaxProposals = ConstU32<100>;
	type MaxMembers = ConstU32<50>;
	type DefaultVote = pallet_collective::PrimeDefaultVote;
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

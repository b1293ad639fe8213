//! Block production (BABE), finality (GRANDPA), sessions, authorship and time.

use frame_support::{parameter_types, traits::ConstU64};
use sp_runtime::traits::ConvertInto;

use crate::{
	AccountId, Babe, Balances, Runtime, RuntimeEvent, SessionKeys, EPOCH_DURATION_IN_SLOTS,
	MILLI_SECS_PER_BLOCK, SLOT_DURATION,
};

parameter_types! {
	/// The most BABE and GRANDPA authorities a session may have.
	pub const MaxAuthorities: u32 = 100;
	/// No nominators: seats come from the PoVM lottery, not from stake.
	pub const MaxNominators: u32 = 0;
	/// GRANDPA set-id history kept for equivocation reports: 28 days of sessions (40,320
	/// with `fast-runtime`, 672 in production; see `crate::timing`).
	pub const MaxSetIdSessionEntries: u64 = crate::timing::MAX_SET_ID_SESSION_ENTRIES;
	/// One session (`crate::timing`: 10 blocks of 3 s with `fast-runtime`, one hour otherwise).
	pub const EpochDuration: u64 = EPOCH_DURATION_IN_SLOTS;
	pub const ExpectedBlockTime: u64 = MILLI_SECS_PER_BLOCK;
}

impl pallet_timestamp::Config for Runtime {
	type Moment = u64;
	type OnTimestampSet = Babe;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = pallet_timestamp::weights::SubstrateWeight<Runtime>;
}

impl pallet_babe::Config for Runtime {
	type EpochDuration = EpochDuration;
	type ExpectedBlockTime = ExpectedBlockTime;
	// Epochs change when pallet-session rotates.
	type EpochChangeTrigger = pallet_babe::ExternalTrigger;
	type DisabledValidators = crate::Session;
	type WeightInfo = ();
	type MaxAuthorities = MaxAuthorities;
	type MaxNominators = MaxNominators;
	// Equivocation reports: a key-ownership proof against the historical session roots, the
	// offence recorded by pallet-offences, the offender's provider bond slashed (see
	// `super::offences`).
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem = pallet_babe::EquivocationReportSystem<
		Self,
		crate::Offences,
		crate::Historical,
		super::offences::ReportLongevity,
	>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = MaxAuthorities;
	type MaxNominators = MaxNominators;
	type MaxSetIdSessionEntries = MaxSetIdSessionEntries;
	// As BABE's: see `super::offences`.
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem = pallet_grandpa::EquivocationReportSystem<
		Self,
		crate::Offences,
		crate::Historical,
		super::offences::ReportLongevity,
	>;
}

impl pallet_authorship::Config for Runtime {
	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Self, Babe>;
	type EventHandler = ();
}

parameter_types! {
	/// Deposit held while session keys are set: covers their storage.
	pub const SessionKeyDeposit: crate::Balance = crate::MILLI_UNIT * 100;
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = ConvertInto;
	type ShouldEndSession = Babe;
	type NextSessionRotation = Babe;
	// The VRF lottery, with the historical pallet noting each session's key-ownership root.
	type SessionManager = super::offences::HistoricalLottery;
	type SessionHandler = <SessionKeys as sp_runtime::traits::OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	type DisablingStrategy = pallet_session::disabling::UpToLimitWithReEnablingDisablingStrategy;
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type KeyDeposit = SessionKeyDeposit;
}

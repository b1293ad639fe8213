//! The PoVM pallets: job queue, VM proofs and the VRF lottery.
//!
//! The job queue and vm-proof talk through `povm-primitives` traits: the queue asks
//! `VmProof` for providers (`ProviderRegistry`), vm-proof settles through `JobQueue`
//! (`JobLedger`). Randomness for assignment is BABE's from one epoch ago; the vm-proof
//! epoch (for verified work and carbon sums) is the session index, and so is the lottery's:
//! the lottery is pallet-session's session manager.

use frame_support::{
	parameter_types,
	traits::{ConstU32, ConstU64, Contains, Get},
};

use crate::{
	AccountId, Balance, Balances, BlockNumber, JobQueue, Runtime, RuntimeHoldReason, VmProof,
	VrfLottery, UNIT,
};

parameter_types! {
	/// The most replicas a job may ask for.
	pub const MaxReplicas: u32 = 8;
	/// Replicas plus no-show replacements a job may ever have had.
	pub const MaxAssignees: u32 = 16;
	/// Jobs waiting in the queue at once: a bound of storage, not of service (every queue
	/// operation costs the same whatever the queue's length). A million records of about
	/// 0.5 KiB, each holding a deposit of at least `JobDepositBase`; full blocks of submissions
	/// for one `queue_timeout` reach it, and a full queue evicts its cheapest jobs for better
	/// paying ones.
	pub const MaxQueueLen: u32 = 1_000_000;
	/// The most registered providers (vm-proof's `MaxProviders`): a bound of storage (about
	/// 300 bytes each, each holding a bond of at least `MinBond`), not of service: a draw over
	/// them costs `O(log n)` reads of the draw index.
	pub const MaxProviders: u32 = 1_000_000;
	/// The registry size the assignment's weight is benchmarked up to (the job queue's
	/// `MaxCandidates`), and the most eligible providers a job can be made to wait for
	/// (`MinEligibleProviders`).
	pub const MaxCandidates: u32 = 100_000;
	/// Storage deposit of a job: 1 POVM base plus 0.01 POVM per byte of spec.
	pub const JobDepositBase: Balance = UNIT;
	pub const JobDepositPerByte: Balance = UNIT / 100;
	/// The smallest provider bond: 100 POVM.
	pub const MinBond: Balance = 100 * UNIT;
	/// A provider's bond stays held this long after it unregisters: max(1 hour, 2 sessions),
	/// 1 hour with `fast-runtime`, 2 hours in production (`crate::timing`).
	pub const UnbondingDelay: BlockNumber = crate::timing::UNBONDING_DELAY;
	/// Epochs of network-wide energy and carbon kept on chain: a year of hourly sessions (three
	/// days with `fast-runtime`'s 30-second sessions).
	pub const FootprintHistory: u32 = 8_760;
}

impl pallet_job_queue::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Providers = VmProof;
	type Randomness = pallet_babe::RandomnessFromOneEpochAgo<Runtime>;
	type MillisecsPerBlock = ConstU64<{ crate::MILLI_SECS_PER_BLOCK }>;
	type MaxRunSeconds = ConstU32<{ crate::timing::MAX_RUN_SECONDS }>;
	type MaxReplicas = MaxReplicas;
	type MaxAssignees = MaxAssignees;
	type MaxQueueLen = MaxQueueLen;
	type MaxCandidates = MaxCandidates;
	// The fewest eligible providers a job waits for (`MinEligibleProviders`) is a chain parameter
	// in the pallet's storage, set by the genesis presets (3 outside the development chain).
	type DepositBase = JobDepositBase;
	type DepositPerByte = JobDepositPerByte;
	type WeightInfo = pallet_job_queue::weights::SubstrateWeight<Runtime>;
}

/// The vm-proof epoch: the current session index.
pub struct SessionEpoch;

impl Get<u32> for SessionEpoch {
	fn get() -> u32 {
		pallet_session::CurrentIndex::<Runtime>::get()
	}
}

impl pallet_vm_proof::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Jobs = JobQueue;
	type Epoch = SessionEpoch;
	// Slashed bonds are burnt; the slash is an event.
	type OnSlash = ();
	type MinBond = MinBond;
	type UnbondingDelay = UnbondingDelay;
	type ValidatorBonds = crate::configs::offences::ValidatorBondsAtStake;
	type MaxProviders = MaxProviders;
	type MaxSlots = ConstU32<64>;
	// Must equal the job queue's `MaxAssignees`.
	type MaxMembers = MaxAssignees;
	type MaxCheckpoints = ConstU32<256>;
	type MaxDeadlinesPerBlock = ConstU32<256>;
	// Each verdict credits its members' verified work to the lottery's ticket ledger.
	type Lottery = VrfLottery;
	type FootprintHistory = FootprintHistory;
	type MillisecsPerBlock = ConstU64<{ crate::MILLI_SECS_PER_BLOCK }>;
	type StallTimeout = ConstU32<{ crate::timing::STALL_TIMEOUT }>;
	type WeightInfo = pallet_vm_proof::weights::SubstrateWeight<Runtime>;
	// Root closes jobs whose deadline processing keeps failing.
	type ForceOrigin = frame_system::EnsureRoot<AccountId>;
	// 5 attempts, 10 + 20 + 40 + 80 blocks apart: a failing job is given up after 150 blocks.
	type MaxDeadlineAttempts = ConstU32<5>;
	type DeadlineRetryDelay = ConstU32<10>;
	// Reference providers governance may appoint (pallets/vm-proof/src/trust.rs).
	type MaxAnchors = ConstU32<100>;
	// Three accepted verdicts beside a trusted provider make a provider trusted; 24 points
	// survive three dissents in a row (24 → 12 → 6 → 3) before it is judged as untrusted.
	type TrustThreshold = ConstU32<3>;
	type TrustCap = ConstU32<24>;
}

parameter_types! {
	/// New POVM the lottery mints per epoch, shared by its winners: 10 POVM per block of the
	/// session (100 POVM a minute, 144,000 a day in both builds), so 100 POVM per draw with
	/// `fast-runtime` and 6,000 POVM in production (`crate::timing`).
	pub const LotteryEpochIssuance: Balance = crate::timing::EPOCH_ISSUANCE;
}

/// Registered providers may register VRF keys.
pub struct RegisteredProviders;

impl Contains<AccountId> for RegisteredProviders {
	fn contains(who: &AccountId) -> bool {
		<VmProof as povm_primitives::ProviderRegistry<_, _>>::is_registered(who)
	}
}

/// Winners qualify for a seat when they have session keys queued.
pub struct HasSessionKeys;

impl Contains<AccountId> for HasSessionKeys {
	fn contains(who: &AccountId) -> bool {
		pallet_session::NextKeys::<Runtime>::contains_key(who)
	}
}

/// The incumbents a validator-set plan starts from: pallet-session's current validators (when
/// the lottery plans session `i + 2`, the set of session `i + 1`, which has just started).
pub struct SessionValidators;

impl Get<alloc::vec::Vec<AccountId>> for SessionValidators {
	fn get() -> alloc::vec::Vec<AccountId> {
		pallet_session::Validators::<Runtime>::get()
	}
}

impl pallet_vrf_lottery::Config for Runtime {
	type Currency = Balances;
	type Work = VmProof;
	type Providers = RegisteredProviders;
	type ValidatorKeys = HasSessionKeys;
	// Every BABE VRF output of the session whose work the draw's tickets count, read as the
	// draw opens: unknown while the tickets were earned (`super::lottery_seed`).
	type Seed = super::lottery_seed::LotterySeed;
	type ExpectedWinners = ConstU32<16>;
	type EpochIssuance = LotteryEpochIssuance;
	// A key registered in epoch e claims from e + 2: after the seed it will meet is fixed.
	// Counted in sessions in both builds (`crate::timing`).
	type KeyActivationDelay = ConstU32<{ crate::timing::KEY_ACTIVATION_DELAY }>;
	type MaxWinners = ConstU32<64>;
	// The floor of the set (`MinValidators`) is a chain parameter in the pallet's storage, set
	// by the genesis presets (4 outside the one-node development chain).
	type MaxValidators = ConstU32<100>;
	// One newcomer in and at most one incumbent out per session (pallets/vrf-lottery/src/seats.rs).
	type MaxSeatChanges = ConstU32<1>;
	type CurrentValidators = SessionValidators;
	type WeightInfo = pallet_vrf_lottery::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = LotteryBenchmarkHelper;
}

/// Session keys and validators for the lottery's benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct LotteryBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_vrf_lottery::BenchmarkHelper<AccountId> for LotteryBenchmarkHelper {
	fn set_session_keys(who: &AccountId) {
		use codec::{Decode, Encode};
		// Any 32 bytes decode as a BABE and a GRANDPA public key: the account's own, twice.
		let raw = who.encode();
		let bytes: alloc::vec::Vec<u8> = raw.iter().chain(raw.iter()).copied().collect();
		if let Ok(keys) = crate::SessionKeys::decode(&mut &bytes[..]) {
			pallet_session::NextKeys::<Runtime>::insert(who, keys);
		}
	}

	fn set_current_validators(validators: alloc::vec::Vec<AccountId>) {
		pallet_session::Validators::<Runtime>::put(validators);
	}
}

//! The PoVM pallets: job queue, VM proofs and the VRF lottery.
//!
//! The job queue and vm-proof talk through `povm-primitives` traits: the queue asks
//! `VmProof` for providers (`ProviderRegistry`), vm-proof settles through `JobQueue`
//! (`JobLedger`). Randomness for assignment is BABE's from one epoch ago; the vm-proof
//! epoch (for verified work and carbon sums) is the session index.

use frame_support::{
	parameter_types,
	traits::{ConstU32, Get},
};

use crate::{
	AccountId, Balance, Balances, BlockNumber, JobQueue, Runtime, RuntimeHoldReason, VmProof,
	MINUTES, UNIT,
};

parameter_types! {
	/// The most replicas a job may ask for.
	pub const MaxReplicas: u32 = 8;
	/// Replicas plus no-show replacements a job may ever have had.
	pub const MaxAssignees: u32 = 16;
	/// Jobs waiting in the queue at once.
	pub const MaxQueueLen: u32 = 1_000;
	/// Providers considered per assignment draw.
	pub const MaxCandidates: u32 = 64;
	/// Storage deposit of a job: 1 POVM base plus 0.01 POVM per byte of spec.
	pub const JobDepositBase: Balance = UNIT;
	pub const JobDepositPerByte: Balance = UNIT / 100;
	/// The smallest provider bond: 100 POVM.
	pub const MinBond: Balance = 100 * UNIT;
	/// A provider's bond stays held this long after it unregisters (one hour).
	pub const UnbondingDelay: BlockNumber = 60 * MINUTES;
}

impl pallet_job_queue::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Providers = VmProof;
	type Randomness = pallet_babe::RandomnessFromOneEpochAgo<Runtime>;
	type MaxReplicas = MaxReplicas;
	type MaxAssignees = MaxAssignees;
	type MaxQueueLen = MaxQueueLen;
	type MaxCandidates = MaxCandidates;
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
	type MaxProviders = ConstU32<1_000>;
	type MaxSlots = ConstU32<64>;
	// Must equal the job queue's `MaxAssignees`.
	type MaxMembers = MaxAssignees;
	type MaxCheckpoints = ConstU32<256>;
	type MaxDeadlinesPerBlock = ConstU32<256>;
	type MaxEpochProviders = ConstU32<1_000>;
	type WeightInfo = pallet_vm_proof::weights::SubstrateWeight<Runtime>;
}

impl pallet_vrf_lottery::Config for Runtime {
	type MinValidators = ConstU32<1>;
	type MaxValidators = ConstU32<100>;
}

/// pallet-session asks the lottery who validates next.
pub struct LotterySessionManager;

impl pallet_session::SessionManager<AccountId> for LotterySessionManager {
	fn new_session(new_index: u32) -> Option<alloc::vec::Vec<AccountId>> {
		pallet_vrf_lottery::Pallet::<Runtime>::next_validators(new_index)
	}
	fn end_session(_end_index: u32) {}
	fn start_session(_start_index: u32) {}
}

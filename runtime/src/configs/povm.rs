//! The PoVM pallets: job queue, VM proofs and the VRF lottery.

use frame_support::traits::ConstU32;

use crate::{AccountId, Runtime};

impl pallet_job_queue::Config for Runtime {
	type MaxReplicas = ConstU32<8>;
}

impl pallet_vm_proof::Config for Runtime {
	type MaxOutputLen = ConstU32<1024>;
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

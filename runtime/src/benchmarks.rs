//! The pallets whose weights are measured with frame-benchmarking.

#[allow(unused_imports)]
use crate::*;

frame_benchmarking::define_benchmarks!(
	[frame_benchmarking, BaselineBench::<Runtime>]
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_multisig, Multisig]
	[pallet_sudo, Sudo]
	[pallet_utility, Utility]
	[pallet_preimage, Preimage]
	[pallet_collective, Council]
	[pallet_whitelist, Whitelist]
	[pallet_job_queue, JobQueue]
	[pallet_vm_proof, VmProof]
	[pallet_vrf_lottery, VrfLottery]
);

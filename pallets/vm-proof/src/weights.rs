//! Weights for `pallet_vm_proof`.
//!
//! PLACEHOLDER: these numbers are hand-written estimates, NOT generated. They must be
//! regenerated with the benchmark CLI (`frame-omni-bencher v1 benchmark pallet` or the node's
//! `benchmark pallet` subcommand) against the runtime, from `benchmarking.rs`, before
//! production use. `reveal_result` is charged for the worst case: the last reveal of a job
//! with `MaxMembers` members, which takes the verdict and settles.

#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_vm_proof`.
pub trait WeightInfo {
	fn register_provider() -> Weight;
	fn update_offer() -> Weight;
	fn heartbeat() -> Weight;
	fn unregister() -> Weight;
	fn withdraw_bond() -> Weight;
	fn commit_result() -> Weight;
	fn reveal_result() -> Weight;
	/// Checking the deadline bucket of a block.
	fn process_deadlines_base() -> Weight;
	/// Processing one job's deadline, worst case (verdict and settlement) with `m` members.
	fn process_deadline(m: u32) -> Weight;
}

/// Weights for `pallet_vm_proof`. PLACEHOLDER until generated.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn register_provider() -> Weight {
		Weight::from_parts(60_000_000, 4_000)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	fn update_offer() -> Weight {
		Weight::from_parts(25_000_000, 4_000)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn heartbeat() -> Weight {
		Weight::from_parts(20_000_000, 4_000)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn unregister() -> Weight {
		Weight::from_parts(30_000_000, 8_000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	fn withdraw_bond() -> Weight {
		Weight::from_parts(40_000_000, 4_000)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	fn commit_result() -> Weight {
		Weight::from_parts(35_000_000, 12_000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	fn reveal_result() -> Weight {
		Weight::from_parts(400_000_000, 60_000)
			.saturating_add(T::DbWeight::get().reads(30_u64))
			.saturating_add(T::DbWeight::get().writes(30_u64))
	}
	fn process_deadlines_base() -> Weight {
		Weight::from_parts(3_000_000, 1_500).saturating_add(T::DbWeight::get().reads(1_u64))
	}
	fn process_deadline(m: u32) -> Weight {
		Weight::from_parts(60_000_000, 10_000)
			.saturating_add(Weight::from_parts(40_000_000, 6_000).saturating_mul(m.into()))
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().reads((6_u64).saturating_mul(m.into())))
			.saturating_add(T::DbWeight::get().writes(6_u64))
			.saturating_add(T::DbWeight::get().writes((6_u64).saturating_mul(m.into())))
	}
}

// For tests. PLACEHOLDER until generated.
impl WeightInfo for () {
	fn register_provider() -> Weight {
		Weight::from_parts(60_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads(4_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
	fn update_offer() -> Weight {
		Weight::from_parts(25_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn heartbeat() -> Weight {
		Weight::from_parts(20_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn unregister() -> Weight {
		Weight::from_parts(30_000_000, 8_000)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn withdraw_bond() -> Weight {
		Weight::from_parts(40_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
	}
	fn commit_result() -> Weight {
		Weight::from_parts(35_000_000, 12_000)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn reveal_result() -> Weight {
		Weight::from_parts(400_000_000, 60_000)
			.saturating_add(RocksDbWeight::get().reads(30_u64))
			.saturating_add(RocksDbWeight::get().writes(30_u64))
	}
	fn process_deadlines_base() -> Weight {
		Weight::from_parts(3_000_000, 1_500).saturating_add(RocksDbWeight::get().reads(1_u64))
	}
	fn process_deadline(m: u32) -> Weight {
		Weight::from_parts(60_000_000, 10_000)
			.saturating_add(Weight::from_parts(40_000_000, 6_000).saturating_mul(m.into()))
			.saturating_add(RocksDbWeight::get().reads(6_u64))
			.saturating_add(RocksDbWeight::get().reads((6_u64).saturating_mul(m.into())))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
			.saturating_add(RocksDbWeight::get().writes((6_u64).saturating_mul(m.into())))
	}
}

//! Weights for `pallet_vrf_lottery`.
//!
//! PLACEHOLDER: these numbers are hand-written estimates, NOT generated. They must be
//! regenerated with the benchmark CLI (`frame-omni-bencher v1 benchmark pallet` or the node's
//! `benchmark pallet` subcommand) against the runtime, from `benchmarking.rs`, before
//! production use. `claim_ticket` is dominated by one sr25519 VRF verification plus output
//! derivation: measured at ~130 µs/op natively (release build, `sp-core` 43.0.0, 2000 ops, on a
//! loaded 2-core machine); WASM is slower, so 400 µs is charged until benchmarked.

#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_vrf_lottery`.
pub trait WeightInfo {
	fn register_vrf_key() -> Weight;
	fn claim_ticket() -> Weight;
	/// Opening a draw with `p` ticket holders (snapshot, seed, events).
	fn open_draw(p: u32) -> Weight;
	/// Closing a draw with `w` winners (payouts, validator set, cleanup).
	fn close_draw(w: u32) -> Weight;
}

/// Weights for `pallet_vrf_lottery`. PLACEHOLDER until generated.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn register_vrf_key() -> Weight {
		Weight::from_parts(30_000_000, 4_000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn claim_ticket() -> Weight {
		Weight::from_parts(400_000_000, 4_000)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	fn open_draw(p: u32) -> Weight {
		Weight::from_parts(20_000_000, 2_000)
			.saturating_add(Weight::from_parts(25_000_000, 3_000).saturating_mul(p.into()))
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().reads((4_u64).saturating_mul(p.into())))
			.saturating_add(T::DbWeight::get().writes(2_u64))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(p.into())))
	}
	fn close_draw(w: u32) -> Weight {
		Weight::from_parts(30_000_000, 2_000)
			.saturating_add(Weight::from_parts(40_000_000, 3_000).saturating_mul(w.into()))
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().reads((3_u64).saturating_mul(w.into())))
			.saturating_add(T::DbWeight::get().writes(3_u64))
			.saturating_add(T::DbWeight::get().writes((3_u64).saturating_mul(w.into())))
	}
}

// For tests. PLACEHOLDER until generated.
impl WeightInfo for () {
	fn register_vrf_key() -> Weight {
		Weight::from_parts(30_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn claim_ticket() -> Weight {
		Weight::from_parts(400_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads(4_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn open_draw(p: u32) -> Weight {
		Weight::from_parts(20_000_000, 2_000)
			.saturating_add(Weight::from_parts(25_000_000, 3_000).saturating_mul(p.into()))
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().reads((4_u64).saturating_mul(p.into())))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
			.saturating_add(RocksDbWeight::get().writes((1_u64).saturating_mul(p.into())))
	}
	fn close_draw(w: u32) -> Weight {
		Weight::from_parts(30_000_000, 2_000)
			.saturating_add(Weight::from_parts(40_000_000, 3_000).saturating_mul(w.into()))
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().reads((3_u64).saturating_mul(w.into())))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
			.saturating_add(RocksDbWeight::get().writes((3_u64).saturating_mul(w.into())))
	}
}

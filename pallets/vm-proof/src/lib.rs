//! # VM proof pallet
//!
//! Owns the provider registry and bonds, VM offers and liveness, result commit–reveal,
//! verdicts by iterative redundancy, slashing, reputation, verified VM-seconds, and energy
//! and CO2 accounting. See `docs/protocol.md`.
//!
//! This crate currently defines the pallet's configuration; the calls land with the
//! vm-proof issue.
#![cfg_attr(not(feature = "std"), no_std)]

pub use pallet::*;

#[frame_support::pallet]
pub mod pallet {
	use frame_support::pallet_prelude::*;

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The most bytes of output a reveal may carry on chain.
		#[pallet::constant]
		type MaxOutputLen: Get<u32>;
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// How many providers are registered.
	#[pallet::storage]
	pub type ProviderCount<T: Config> = StorageValue<_, u32, ValueQuery>;
}

//! # Job queue pallet
//!
//! Owns PoVM job specs, their escrow, the queue served by price, assignment of providers,
//! the job lifecycle, payment and refunds. See `docs/protocol.md`.
//!
//! This crate currently defines the pallet's configuration and identifiers; the calls land
//! with the job-queue issue.
#![cfg_attr(not(feature = "std"), no_std)]

pub use pallet::*;

#[frame_support::pallet]
pub mod pallet {
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::BlockNumberFor;

	/// Identifier of a job, allocated in submission order.
	pub type JobId = u64;

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The most replicas a job's redundancy policy may ask for.
		#[pallet::constant]
		type MaxReplicas: Get<u32>;
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// The identifier the next submitted job receives.
	#[pallet::storage]
	pub type NextJobId<T: Config> = StorageValue<_, JobId, ValueQuery>;

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxReplicas::get() >= 1, "a job needs at least one replica");
		}
	}
}

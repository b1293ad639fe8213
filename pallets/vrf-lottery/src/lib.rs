//! # VRF lottery pallet
//!
//! Turns verified VM time into lottery tickets, verifies private VRF sortition claims, and
//! chooses the next validator set and the epoch's reward winners. See `docs/protocol.md`.
//!
//! Until the lottery issue lands, its [`pallet_session::SessionManager`]-shaped hook keeps
//! the genesis validators: [`Pallet::next_validators`] returns `None`, which tells
//! pallet-session to keep the current set.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[frame_support::pallet]
pub mod pallet {
	use alloc::vec::Vec;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::BlockNumberFor;

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The fewest validators a lottery outcome may seat.
		#[pallet::constant]
		type MinValidators: Get<u32>;
		/// The most validators a lottery outcome may seat.
		#[pallet::constant]
		type MaxValidators: Get<u32>;
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// The lottery epoch now running; it advances with each session.
	#[pallet::storage]
	pub type CurrentEpoch<T: Config> = StorageValue<_, u32, ValueQuery>;

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MinValidators::get() >= 1, "a chain needs a validator");
			assert!(
				T::MinValidators::get() <= T::MaxValidators::get(),
				"MinValidators must not exceed MaxValidators"
			);
		}
	}

	impl<T: Config> Pallet<T> {
		/// The validator set for session `index`, or `None` to keep the current one.
		///
		/// No lottery outcome exists yet, so the set never changes: the genesis validators
		/// stay.
		pub fn next_validators(index: u32) -> Option<Vec<T::AccountId>> {
			CurrentEpoch::<T>::put(index);
			None
		}
	}
}

//! Bounded per-epoch state: the network's energy and carbon are kept for
//! [`Config::FootprintHistory`] epochs.
//!
//! Verified work keeps no per-epoch record here: it is credited to the lottery's ticket ledger
//! at each verdict ([`Config::Lottery`]), which prunes its own. [`Pallet::prune_epochs`] runs
//! when the lottery takes the work of an epoch (once per session) and removes at most
//! [`Pallet::prune_budget`] footprints; [`PruneCursor`] says where it stopped.

use crate::pallet::*;
use frame_support::{pallet_prelude::*, traits::Get};

impl<T: Config> Pallet<T> {
	/// Most footprints one [`Pallet::prune_epochs`] removes: one falls due per session, so a
	/// backlog (a `FootprintHistory` lowered by an upgrade) shrinks by fifteen a session.
	pub fn prune_budget() -> u32 {
		16
	}

	/// Removes the footprints ([`EpochFootprint`]) of epochs `FootprintHistory` or more before
	/// `taken`, within [`Pallet::prune_budget`]. Returns the weight used.
	pub(crate) fn prune_epochs(taken: u32) -> Weight {
		let mut first = PruneCursor::<T>::get();
		let mut budget = Self::prune_budget();
		let mut writes = 0u64;
		let history = T::FootprintHistory::get();
		while budget > 0 && first.saturating_add(history) <= taken {
			EpochFootprint::<T>::remove(first);
			writes = writes.saturating_add(1);
			budget = budget.saturating_sub(1);
			first = first.saturating_add(1);
		}
		PruneCursor::<T>::put(first);
		T::DbWeight::get().reads_writes(1, writes.saturating_add(1))
	}
}

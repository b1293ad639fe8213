//! Bounded per-epoch state: the records of an epoch's work go once the lottery has taken them,
//! and the network's energy and carbon are kept for [`Config::FootprintHistory`] epochs.
//!
//! [`Pallet::prune_epochs`] runs when the lottery takes the work of an epoch (once per
//! session). It removes at most [`Pallet::prune_budget`] entries, and [`PruneCursor`] says
//! where it stopped: on a chain that kept every epoch before this rule the backlog goes over
//! the next sessions, each removal bounded.

use crate::pallet::*;
use frame_support::{pallet_prelude::*, traits::Get};

impl<T: Config> Pallet<T> {
	/// Most entries one [`Pallet::prune_epochs`] removes or visits: two epochs' worth of work
	/// records (so a backlog shrinks by at least one epoch per session).
	pub fn prune_budget() -> u32 {
		T::MaxEpochProviders::get().saturating_add(1).saturating_mul(2)
	}

	/// Removes the work records ([`VerifiedMillis`], [`EpochProviders`]) of every epoch up to
	/// `taken`, and the footprints ([`EpochFootprint`]) of epochs `FootprintHistory` or more
	/// before it, within [`Pallet::prune_budget`]. Returns the weight used.
	pub(crate) fn prune_epochs(taken: u32) -> Weight {
		let mut cursor = PruneCursor::<T>::get();
		let mut budget = Self::prune_budget();
		let (mut reads, mut writes) = (1u64, 0u64);
		while cursor.work <= taken && budget > 0 {
			let removed = VerifiedMillis::<T>::clear_prefix(cursor.work, budget, None);
			budget = budget.saturating_sub(removed.backend.max(1));
			reads = reads.saturating_add(u64::from(removed.loops));
			writes = writes.saturating_add(u64::from(removed.backend));
			if removed.maybe_cursor.is_some() {
				// More of this epoch than the budget: go on from here at the next session.
				break
			}
			EpochProviders::<T>::remove(cursor.work);
			writes = writes.saturating_add(1);
			match cursor.work.checked_add(1) {
				Some(next) => cursor.work = next,
				None => break,
			}
		}
		let history = T::FootprintHistory::get();
		while budget > 0 && cursor.footprint.saturating_add(history) <= taken {
			EpochFootprint::<T>::remove(cursor.footprint);
			writes = writes.saturating_add(1);
			budget = budget.saturating_sub(1);
			cursor.footprint = cursor.footprint.saturating_add(1);
		}
		PruneCursor::<T>::put(cursor);
		T::DbWeight::get().reads_writes(reads, writes.saturating_add(1))
	}
}

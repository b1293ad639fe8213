//! Storage version 2 → 3.
//!
//! Version 3 credits tickets as work is verified instead of snapshotting them when a draw
//! opens: the draw after the open one gathers its credited total in the new [`TicketTotals`],
//! and closed draws' [`Tickets`] are pruned in pages from the new [`FirstUnprunedDraw`].
//! Under version 2 a draw's tickets were all removed when it closed, so only the open draw
//! holds any: the migration starts the pruning cursor there (left at 0 it would visit every
//! empty draw since genesis). The open draw, its tickets and its claims are unchanged. The
//! work of the running epoch is credited by vm-proof's own migration (storage version 8).

use crate::pallet::*;
#[cfg(feature = "try-runtime")]
use alloc::vec::Vec;
#[cfg(feature = "try-runtime")]
use codec::{Decode, Encode};
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
};

/// The unversioned step; run it through [`MigrateV2ToV3`].
pub struct InnerMigrateV2ToV3<T>(core::marker::PhantomData<T>);

impl<T: crate::Config> UncheckedOnRuntimeUpgrade for InnerMigrateV2ToV3<T> {
	fn on_runtime_upgrade() -> Weight {
		let open = CurrentDraw::<T>::get().map(|d| d.epoch).unwrap_or(0);
		FirstUnprunedDraw::<T>::put(open);
		T::DbWeight::get().reads_writes(1, 1)
	}

	/// The open draw's tickets, encoded.
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		let open = CurrentDraw::<T>::get().map(|d| d.epoch);
		let tickets: Vec<(u32, T::AccountId, u64)> = Tickets::<T>::iter().collect();
		ensure!(
			tickets.iter().all(|(e, _, _)| Some(*e) == open),
			"version 2 keeps only the open draw's tickets"
		);
		ensure!(TicketTotals::<T>::iter().next().is_none(), "credited totals before version 3");
		Ok(tickets.encode())
	}

	/// The cursor stands at the open draw, whose tickets are unchanged.
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		let mut before = Vec::<(u32, T::AccountId, u64)>::decode(&mut &state[..])
			.map_err(|_| "bad pre-upgrade state")?;
		let open = CurrentDraw::<T>::get().map(|d| d.epoch).unwrap_or(0);
		ensure!(
			FirstUnprunedDraw::<T>::get() == open,
			"the pruning cursor is not at the open draw"
		);
		let mut after: Vec<(u32, T::AccountId, u64)> =
			Tickets::<T>::iter().filter(|(e, _, _)| *e == open).collect();
		before.sort_by(|a, b| a.encode().cmp(&b.encode()));
		after.sort_by(|a, b| a.encode().cmp(&b.encode()));
		ensure!(before == after, "the open draw's tickets changed");
		Ok(())
	}
}

/// Storage version 2 → 3, run only when the on-chain version is 2.
pub type MigrateV2ToV3<T> = VersionedMigration<
	2,
	3,
	InnerMigrateV2ToV3<T>,
	crate::Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;

#[cfg(test)]
mod tests {
	use super::*;
	use crate::mock::*;
	use frame_support::traits::{OnRuntimeUpgrade, StorageVersion};

	/// Runs the migration as `try-runtime` does: `pre_upgrade`, the versioned migration, then
	/// `post_upgrade`.
	fn upgrade() {
		#[cfg(feature = "try-runtime")]
		let pre = InnerMigrateV2ToV3::<Test>::pre_upgrade().expect("pre_upgrade");
		MigrateV2ToV3::<Test>::on_runtime_upgrade();
		#[cfg(feature = "try-runtime")]
		InnerMigrateV2ToV3::<Test>::post_upgrade(pre).expect("post_upgrade");
	}

	/// A version-2 chain at draw 5: its open draw holds tickets, earlier draws none, and no
	/// cursor was ever written.
	fn version_2_chain_at_draw_5() {
		for _ in 0..4 {
			rotate();
		}
		work_now(10, 100);
		rotate();
		assert_eq!(CurrentDraw::<Test>::get().map(|d| d.epoch), Some(5));
		let _ = Tickets::<Test>::clear(u32::MAX, None);
		Tickets::<Test>::insert(5, 10, 50_000);
		FirstUnprunedDraw::<Test>::kill();
		StorageVersion::new(2).put::<crate::Pallet<Test>>();
	}

	/// The cursor starts at the open draw, whose tickets stay claimable; the next boundary
	/// prunes them and opens the next draw from its credited total.
	#[test]
	fn the_pruning_cursor_starts_at_the_open_draw() {
		ExtBuilder::default().build_and_execute(|| {
			version_2_chain_at_draw_5();
			upgrade();
			assert_eq!(StorageVersion::get::<crate::Pallet<Test>>(), 3);
			assert_eq!(FirstUnprunedDraw::<Test>::get(), 5);
			assert_eq!(Tickets::<Test>::get(5, 10), Some(50_000));
			work_now(11, 10);
			rotate();
			assert_eq!(Tickets::<Test>::get(5, 10), None, "the closed draw's tickets are pruned");
			assert_eq!(FirstUnprunedDraw::<Test>::get(), 6);
			let d = CurrentDraw::<Test>::get().unwrap();
			assert_eq!((d.epoch, d.total_tickets, d.providers), (6, 5_000, 1));
		});
	}

	/// Without the migration the cursor would stand at draw 0, before five empty draws.
	#[test]
	fn a_version_2_chain_has_no_cursor() {
		ExtBuilder::default().build().execute_with(|| {
			version_2_chain_at_draw_5();
			assert_eq!(FirstUnprunedDraw::<Test>::get(), 0);
		});
	}

	/// No draw yet: the cursor starts at 0.
	#[test]
	fn no_draw_cursor_at_zero() {
		ExtBuilder::default().build().execute_with(|| {
			StorageVersion::new(2).put::<crate::Pallet<Test>>();
			upgrade();
			assert_eq!(FirstUnprunedDraw::<Test>::get(), 0);
			assert_eq!(StorageVersion::get::<crate::Pallet<Test>>(), 3);
		});
	}
}

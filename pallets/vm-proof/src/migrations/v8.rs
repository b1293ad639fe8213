//! Storage version 7 → 8: verified work is credited to the lottery as it is verified.
//!
//! Before spec 115 each verdict added its members' verified VM-milliseconds to
//! `VerifiedMillis` and listed them in `EpochProviders` (at most `MaxEpochProviders`, 1,000,
//! per epoch: later providers' work earned no tickets), and the lottery read the list when a
//! draw opened. From spec 115 each verdict credits the lottery's ticket ledger at once
//! ([`crate::Config::Lottery`]), and vm-proof keeps no per-epoch work record.
//!
//! This step credits the work of the running epoch (its draw has not opened yet) at each
//! provider's reputation now, as the old draw would have when it opened, and removes both old
//! maps: the work of earlier epochs is already in the draws that opened from it. The pruning
//! cursor keeps only its footprint epoch.

use crate::pallet::*;
use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, storage_alias,
	traits::UncheckedOnRuntimeUpgrade,
};
use povm_primitives::TicketLedger;

/// Verified VM-milliseconds per epoch and provider before version 8.
#[storage_alias]
pub type VerifiedMillis<T: crate::Config> = StorageDoubleMap<
	crate::Pallet<T>,
	Twox64Concat,
	u32,
	Blake2_128Concat,
	<T as frame_system::Config>::AccountId,
	u64,
	ValueQuery,
>;

/// The providers with verified work per epoch before version 8 (bounded by the old
/// `MaxEpochProviders`; decoded unbounded here).
#[storage_alias]
pub type EpochProviders<T: crate::Config> = StorageMap<
	crate::Pallet<T>,
	Twox64Concat,
	u32,
	Vec<<T as frame_system::Config>::AccountId>,
	ValueQuery,
>;

/// The pruning cursor before version 8: the first epoch whose work records, and the first
/// whose footprint, may remain.
#[derive(Clone, Copy, Default, Encode, Decode, PartialEq, Eq, Debug)]
pub struct EpochPruneCursorV7 {
	/// The first epoch whose `VerifiedMillis` and `EpochProviders` may remain.
	pub work: u32,
	/// The first epoch whose `EpochFootprint` may remain.
	pub footprint: u32,
}

/// The unversioned step; run it through [`MigrateV7ToV8`].
pub struct InnerMigrateV7ToV8<T>(core::marker::PhantomData<T>);

/// The running epoch's work as it stands before the upgrade: (provider, VM-milliseconds).
pub fn running_epoch_work<T: crate::Config>() -> Vec<(T::AccountId, u64)> {
	let epoch = T::Epoch::get();
	EpochProviders::<T>::get(epoch)
		.into_iter()
		.map(|who| {
			let millis = VerifiedMillis::<T>::get(epoch, &who);
			(who, millis)
		})
		.filter(|(_, millis)| *millis > 0)
		.collect()
}

impl<T: crate::Config> UncheckedOnRuntimeUpgrade for InnerMigrateV7ToV8<T> {
	fn on_runtime_upgrade() -> Weight {
		let epoch = T::Epoch::get();
		let work = running_epoch_work::<T>();
		let credited = work.len() as u64;
		for (who, millis) in work.iter() {
			<T::Lottery as TicketLedger<T::AccountId>>::credit(
				epoch,
				who,
				*millis,
				Pallet::<T>::reputation(who),
			);
		}
		let millis = VerifiedMillis::<T>::clear(u32::MAX, None);
		let lists = EpochProviders::<T>::clear(u32::MAX, None);
		let _ = PruneCursor::<T>::translate::<EpochPruneCursorV7, _>(|old| {
			Some(old.unwrap_or_default().footprint)
		});
		// Per credit: the provider's record, and the ledger's entry, total and open draw.
		let reads = credited
			.saturating_mul(5)
			.saturating_add(u64::from(millis.loops))
			.saturating_add(u64::from(lists.loops))
			.saturating_add(2);
		let writes = credited
			.saturating_mul(2)
			.saturating_add(u64::from(millis.unique))
			.saturating_add(u64::from(lists.unique))
			.saturating_add(1);
		T::DbWeight::get().reads_writes(reads, writes)
	}

	/// The running epoch's work and the old footprint cursor, encoded.
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		let cursor = frame_support::storage::unhashed::get::<EpochPruneCursorV7>(
			&PruneCursor::<T>::hashed_key(),
		)
		.unwrap_or_default();
		Ok((running_epoch_work::<T>(), cursor.footprint).encode())
	}

	/// No old record remains, and the cursor is the old footprint epoch.
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		let (_, footprint) = <(Vec<(T::AccountId, u64)>, u32)>::decode(&mut &state[..])
			.map_err(|_| "bad pre-upgrade state")?;
		ensure!(VerifiedMillis::<T>::iter().next().is_none(), "verified millis remain");
		ensure!(EpochProviders::<T>::iter().next().is_none(), "epoch provider lists remain");
		ensure!(PruneCursor::<T>::get() == footprint, "the footprint cursor moved");
		Ok(())
	}
}

/// Storage version 7 → 8, run only when the on-chain version is 7.
pub type MigrateV7ToV8<T> = VersionedMigration<
	7,
	8,
	InnerMigrateV7ToV8<T>,
	crate::Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;

#[cfg(test)]
mod tests {
	use super::*;
	use crate::mock::*;
	use frame_support::traits::{OnRuntimeUpgrade, StorageVersion};

	fn upgrade() {
		#[cfg(feature = "try-runtime")]
		let pre = InnerMigrateV7ToV8::<Test>::pre_upgrade().expect("pre_upgrade");
		MigrateV7ToV8::<Test>::on_runtime_upgrade();
		#[cfg(feature = "try-runtime")]
		InnerMigrateV7ToV8::<Test>::post_upgrade(pre).expect("post_upgrade");
	}

	/// A version-7 chain in epoch 3: the running epoch's work of two providers, and a stale
	/// epoch 2 whose draw has opened. After the upgrade the running work is credited to the
	/// lottery at each provider's reputation, epoch 2's is not credited again, both maps are
	/// gone and the cursor keeps its footprint epoch.
	#[test]
	fn the_running_epochs_work_is_credited_and_the_old_records_go() {
		ExtBuilder::default().build_and_execute(|| {
			Epoch::set(3);
			for (epoch, who, millis) in [(3, 10, 20_000), (3, 11, 5_000), (2, 12, 7_000)] {
				VerifiedMillis::<Test>::insert(epoch, who, millis);
				EpochProviders::<Test>::mutate(epoch, |v| v.push(who));
			}
			frame_support::storage::unhashed::put(
				&PruneCursor::<Test>::hashed_key(),
				&EpochPruneCursorV7 { work: 2, footprint: 1 },
			);
			StorageVersion::new(7).put::<crate::Pallet<Test>>();

			upgrade();
			assert_eq!(StorageVersion::get::<crate::Pallet<Test>>(), 8);
			assert_eq!(credited_millis(3, 10), 20_000);
			assert_eq!(credited_millis(3, 11), 5_000);
			// Unregistered: a newcomer's reputation, 1/2.
			assert_eq!(credited_tickets(3, 10), 10_000);
			assert_eq!(credited_list(2), Vec::<AccountId>::new(), "epoch 2 is in its draw");
			assert_eq!(VerifiedMillis::<Test>::iter().count(), 0);
			assert_eq!(EpochProviders::<Test>::iter().count(), 0);
			assert_eq!(PruneCursor::<Test>::get(), 1);

			// A second run changes nothing.
			MigrateV7ToV8::<Test>::on_runtime_upgrade();
			assert_eq!(credited_millis(3, 10), 20_000);
		});
	}

	/// A chain with no work and no cursor: nothing to credit, the cursor starts at 0.
	#[test]
	fn an_empty_chain_upgrades() {
		ExtBuilder::default().build_and_execute(|| {
			StorageVersion::new(7).put::<crate::Pallet<Test>>();
			upgrade();
			assert_eq!(credited_list(0), Vec::<AccountId>::new());
			assert_eq!(PruneCursor::<Test>::get(), 0);
			assert_eq!(StorageVersion::get::<crate::Pallet<Test>>(), 8);
		});
	}
}

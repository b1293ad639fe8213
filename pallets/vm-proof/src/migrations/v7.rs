//! Storage version 6 → 7: the draw index.
//!
//! Before spec 113 the active providers were one vector (`ActiveProviders`, at most
//! `MaxProviders`), and every assignment try read all of them and every record. From spec 113
//! each active provider is filed in the draw index ([`crate::index`]) under its offer's
//! resource class with its drawable slots, and a draw reads `O(log n)` entries. This step files
//! every active provider (in the order of the old vector, then any active provider it missed),
//! reindexing any already filed, and removes the vector.

use crate::pallet::*;
#[cfg(feature = "try-runtime")]
use alloc::vec::Vec;
#[cfg(feature = "try-runtime")]
use codec::{Decode, Encode};
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, storage_alias,
	traits::UncheckedOnRuntimeUpgrade,
};

/// The vector of active providers before version 7.
#[storage_alias]
pub type ActiveProviders<T: crate::Config> = StorageValue<
	crate::Pallet<T>,
	BoundedVec<<T as frame_system::Config>::AccountId, <T as crate::Config>::MaxProviders>,
	ValueQuery,
>;

/// The unversioned step; run it through [`MigrateV6ToV7`].
pub struct InnerMigrateV6ToV7<T>(core::marker::PhantomData<T>);

impl<T: crate::Config> UncheckedOnRuntimeUpgrade for InnerMigrateV6ToV7<T> {
	fn on_runtime_upgrade() -> Weight {
		let listed = ActiveProviders::<T>::take();
		let mut filed = 0u64;
		let mut read = 1u64;
		for who in listed.iter() {
			read = read.saturating_add(1);
			if Pallet::<T>::reindex(who).is_ok() {
				filed = filed.saturating_add(1);
			}
		}
		// Any active provider the vector missed; and every provider already filed is
		// refiled under the class of its offer as the earlier steps left it.
		for (who, info) in Providers::<T>::iter() {
			read = read.saturating_add(1);
			if info.status == crate::ProviderStatus::Active &&
				!listed.contains(&who) &&
				Pallet::<T>::reindex(&who).is_ok()
			{
				filed = filed.saturating_add(1);
			}
		}
		// Each filing: the class totals, the place, the member, the provider's slots and up to
		// `INDEX_DEPTH` nodes.
		let per_filing = u64::from(crate::index::INDEX_DEPTH).saturating_add(4);
		T::DbWeight::get().reads_writes(
			read.saturating_add(filed.saturating_mul(per_filing)),
			filed.saturating_mul(per_filing).saturating_add(1),
		)
	}

	/// The active providers.
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		let active: Vec<T::AccountId> = Providers::<T>::iter()
			.filter(|(_, info)| info.status == crate::ProviderStatus::Active)
			.map(|(who, _)| who)
			.collect();
		Ok(active.encode())
	}

	/// Every active provider is filed, the vector is gone, and the index is consistent.
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		let active =
			Vec::<T::AccountId>::decode(&mut &state[..]).map_err(|_| "bad pre-upgrade state")?;
		for who in active.iter() {
			ensure!(IndexPlaces::<T>::contains_key(who), "an active provider is not filed");
		}
		ensure!(!ActiveProviders::<T>::exists(), "the old vector is left");
		Pallet::<T>::try_state_index()
	}
}

/// Storage version 6 → 7, run only when the on-chain version is 6.
pub type MigrateV6ToV7<T> = VersionedMigration<
	6,
	7,
	InnerMigrateV6ToV7<T>,
	crate::Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;

#[cfg(test)]
mod tests {
	use super::*;
	use crate::mock::*;
	use frame_support::{
		assert_ok,
		traits::{OnRuntimeUpgrade, StorageVersion},
	};
	use povm_primitives::{Arch, ProviderRegistry, Resources};

	const RESOURCES: Resources = Resources { millicores: 1000, memory_mib: 256, max_seconds: 60 };

	fn upgrade() {
		#[cfg(feature = "try-runtime")]
		let pre = InnerMigrateV6ToV7::<Test>::pre_upgrade().expect("pre_upgrade");
		MigrateV6ToV7::<Test>::on_runtime_upgrade();
		#[cfg(feature = "try-runtime")]
		InnerMigrateV6ToV7::<Test>::post_upgrade(pre).expect("post_upgrade");
	}

	/// A chain of version 6: three registered providers listed in the vector (one of them
	/// then unregistered, so out of it), no index. After the upgrade the two active ones are
	/// filed with their free slots and drawn, the unbonding one is not, the vector is gone; a
	/// second run changes nothing.
	#[test]
	fn active_providers_are_filed_in_the_index() {
		ExtBuilder::default().build_and_execute(|| {
			for who in [10, 11, 12] {
				assert_ok!(VmProof::register_provider(RuntimeOrigin::signed(who), offer(), 10_000));
			}
			assert_ok!(VmProof::unregister(RuntimeOrigin::signed(12)));
			// Back to the version-6 layout: the vector, no index.
			let _ = IndexPlaces::<Test>::clear(u32::MAX, None);
			let _ = IndexMembers::<Test>::clear(u32::MAX, None);
			let _ = IndexNodes::<Test>::clear(u32::MAX, None);
			let _ = ClassTotals::<Test>::clear(u32::MAX, None);
			ActiveProviders::<Test>::put(BoundedVec::truncate_from(vec![10, 11]));
			StorageVersion::new(6).put::<crate::Pallet<Test>>();
			assert_eq!(VmProof::drawable_count(&RESOURCES, Arch::X86_64), 0);

			upgrade();
			assert_eq!(StorageVersion::get::<crate::Pallet<Test>>(), 7);
			assert!(!ActiveProviders::<Test>::exists());
			assert_eq!(VmProof::drawable_count(&RESOURCES, Arch::X86_64), 2);
			let mut seed = 0u64;
			let drawn = <VmProof as ProviderRegistry<_, _>>::draw(
				&RESOURCES,
				Arch::X86_64,
				3,
				&[],
				&mut |_| {
					seed += 1;
					seed
				},
			)
			.providers;
			assert_eq!(drawn.len(), 2);
			assert!(drawn.contains(&10) && drawn.contains(&11));
			assert!(IndexPlaces::<Test>::get(12).is_none());
			MigrateV6ToV7::<Test>::on_runtime_upgrade();
			assert_eq!(VmProof::drawable_count(&RESOURCES, Arch::X86_64), 2);
			assert_ok!(VmProof::do_try_state());
		});
	}
}

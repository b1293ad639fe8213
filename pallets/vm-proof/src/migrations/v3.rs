//! Storage version 2 → 3.
//!
//! Version 3 adds [`VmOffer::max_seconds`], the longest job run time a provider accepts, so
//! that the draw picks only providers that can run a job (`VmOffer::fits`). Every
//! [`Providers`] record is rewritten with its offer's `max_seconds` set to
//! [`DEFAULT_MAX_SECONDS`].
//!
//! # The default
//!
//! [`DEFAULT_MAX_SECONDS`] is [`povm_primitives::MAX_JOB_SECONDS`] (7 days), the longest run
//! time any job may ask for. Before version 3 a provider was drawn for every job whatever its
//! run time (the job queue bounds a job's `max_seconds` by the commit window,
//! `RunTimeExceedsCommitWindow`, and by `MAX_JOB_SECONDS`); the default keeps exactly that: no
//! provider becomes ineligible for a job it could be drawn for before the upgrade. Taking the
//! commit window at the upgrade instead (`commit_window × MillisecsPerBlock − 30 s`) would
//! silently drop the old providers from every longer job once root widens the window. A
//! provider that cannot run long jobs declares its limit with `update_offer` (the worker does
//! so at start) or declines the jobs it cannot run (`decline_job`).

use crate::{pallet::*, types::*};
#[cfg(any(feature = "try-runtime", test))]
use alloc::vec::Vec;
use codec::{Decode, Encode, MaxEncodedLen};
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, storage_alias,
	traits::UncheckedOnRuntimeUpgrade,
};
use frame_system::pallet_prelude::BlockNumberFor;

/// The run-time limit every offer stored before version 3 gets: the longest job the chain
/// allows ([`povm_primitives::MAX_JOB_SECONDS`], 7 days; see the module docs).
pub const DEFAULT_MAX_SECONDS: u32 = povm_primitives::MAX_JOB_SECONDS;

/// The version-2 layouts (also read by the version-2 migration, which runs before this one).
pub mod v2 {
	use super::*;

	/// A VM offer before version 3 (no run-time limit).
	#[derive(Clone, Copy, Encode, Decode, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
	pub struct VmOffer {
		/// CPU in thousandths of a core per job slot.
		pub millicores: u32,
		/// Memory in MiB per job slot.
		pub memory_mib: u32,
		/// CPU architecture.
		pub arch: Arch,
		/// Jobs run concurrently.
		pub slots: u32,
		/// Declared grid carbon intensity, gCO2e per kWh.
		pub grid_intensity: u32,
		/// Power usage effectiveness in per-mille.
		pub pue_permille: u32,
		/// Power draw per core in milliwatts.
		pub core_milliwatts: u32,
	}

	impl VmOffer {
		/// The offer in the version-3 layout, accepting jobs of up to `max_seconds`.
		pub fn upgraded(self, max_seconds: u32) -> crate::VmOffer {
			crate::VmOffer {
				millicores: self.millicores,
				memory_mib: self.memory_mib,
				arch: self.arch,
				slots: self.slots,
				grid_intensity: self.grid_intensity,
				pue_permille: self.pue_permille,
				core_milliwatts: self.core_milliwatts,
				max_seconds,
			}
		}
	}

	impl From<crate::VmOffer> for VmOffer {
		/// The version-2 layout of an offer (its run-time limit dropped), for tests and tools
		/// that write old records.
		fn from(o: crate::VmOffer) -> Self {
			VmOffer {
				millicores: o.millicores,
				memory_mib: o.memory_mib,
				arch: o.arch,
				slots: o.slots,
				grid_intensity: o.grid_intensity,
				pue_permille: o.pue_permille,
				core_milliwatts: o.core_milliwatts,
			}
		}
	}

	/// A provider record before version 3: as [`crate::ProviderInfo`], with a version-2 offer.
	#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
	pub struct ProviderInfo<Balance, BlockNumber> {
		/// The VM offer.
		pub offer: VmOffer,
		/// Bond held (after slashes).
		pub bond: Balance,
		/// Registration status.
		pub status: ProviderStatus<BlockNumber>,
		/// Last epoch with a heartbeat.
		pub last_heartbeat: u32,
		/// Verdicts where this provider's result agreed with the accepted one.
		pub agreed: u32,
		/// Verdicts (and faults) this provider took part in.
		pub total: u32,
	}

	/// A version-2 provider record of the runtime `T`.
	pub type ProviderInfoOf<T> = ProviderInfo<BalanceOf<T>, BlockNumberFor<T>>;

	/// `Providers` in the version-2 layout.
	#[storage_alias]
	pub type Providers<T: crate::Config> = StorageMap<
		crate::Pallet<T>,
		Blake2_128Concat,
		<T as frame_system::Config>::AccountId,
		ProviderInfoOf<T>,
		OptionQuery,
	>;
}

/// A version-2 provider record in the version-3 layout: its offer accepts jobs of up to
/// [`DEFAULT_MAX_SECONDS`], every other field unchanged.
pub fn migrate_provider<T: crate::Config>(old: v2::ProviderInfoOf<T>) -> ProviderInfo<T> {
	ProviderInfo {
		offer: old.offer.upgraded(DEFAULT_MAX_SECONDS),
		bond: old.bond,
		status: old.status,
		last_heartbeat: old.last_heartbeat,
		agreed: old.agreed,
		total: old.total,
	}
}

/// The unversioned step; run it through [`MigrateV2ToV3`].
pub struct InnerMigrateV2ToV3<T>(core::marker::PhantomData<T>);

impl<T: crate::Config> UncheckedOnRuntimeUpgrade for InnerMigrateV2ToV3<T> {
	fn on_runtime_upgrade() -> Weight {
		let mut items = 0u64;
		Providers::<T>::translate::<v2::ProviderInfoOf<T>, _>(|_, old| {
			items = items.saturating_add(1);
			Some(migrate_provider::<T>(old))
		});
		T::DbWeight::get().reads_writes(items, items)
	}

	/// Every version-2 record, encoded, in storage order.
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		let keys = Providers::<T>::iter_keys().count();
		let old: Vec<(T::AccountId, v2::ProviderInfoOf<T>)> = v2::Providers::<T>::iter().collect();
		ensure!(old.len() == keys, "a provider record does not decode in the version-2 layout");
		Ok(old.encode())
	}

	/// Every record is still there, decodes in the version-3 layout, and differs from its
	/// version-2 self only by the default run-time limit; every offer is valid.
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		let old = Vec::<(T::AccountId, v2::ProviderInfoOf<T>)>::decode(&mut &state[..])
			.map_err(|_| "bad pre-upgrade state")?;
		ensure!(Providers::<T>::iter_keys().count() == old.len(), "providers lost or added");
		for (who, before) in old {
			let after = Providers::<T>::get(&who).ok_or("provider lost or undecodable")?;
			ensure!(after == migrate_provider::<T>(before), "provider record changed");
			ensure!(
				after.offer.max_seconds == DEFAULT_MAX_SECONDS,
				"offer without the default run-time limit"
			);
			ensure!(crate::Pallet::<T>::offer_valid(&after.offer), "offer out of bounds");
		}
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

/// Test helper: rewrite every provider record in the version-2 layout (as the version-2
/// runtime stored it), for migration tests that register providers through the current calls.
#[cfg(test)]
pub(crate) fn providers_back_to_v2<T: crate::Config>() {
	for (who, info) in Providers::<T>::iter().collect::<Vec<_>>() {
		let old = v2::ProviderInfo {
			offer: info.offer.into(),
			bond: info.bond,
			status: info.status,
			last_heartbeat: info.last_heartbeat,
			agreed: info.agreed,
			total: info.total,
		};
		v2::Providers::<T>::insert(&who, old);
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::mock::*;
	use frame_support::{
		assert_noop, assert_ok,
		traits::{OnRuntimeUpgrade, StorageVersion},
	};
	use povm_primitives::Resources;

	fn old_record(offer: VmOffer, bond: u64, total: u32) -> v2::ProviderInfoOf<Test> {
		v2::ProviderInfo {
			offer: offer.into(),
			bond,
			status: ProviderStatus::Active,
			last_heartbeat: 0,
			agreed: 1,
			total,
		}
	}

	/// Runs the migration as `try-runtime` does: `pre_upgrade`, the versioned migration, then
	/// `post_upgrade`.
	fn upgrade() {
		#[cfg(feature = "try-runtime")]
		let pre = InnerMigrateV2ToV3::<Test>::pre_upgrade().expect("pre_upgrade");
		MigrateV2ToV3::<Test>::on_runtime_upgrade();
		#[cfg(feature = "try-runtime")]
		InnerMigrateV2ToV3::<Test>::post_upgrade(pre).expect("post_upgrade");
	}

	/// Records written raw in the version-2 layout decode in the version-3 layout after the
	/// migration, with the default run-time limit and every other field kept; before it they do
	/// not decode at all.
	#[test]
	fn offers_get_the_default_run_time_limit() {
		ExtBuilder::default().build().execute_with(|| {
			StorageVersion::new(2).put::<crate::Pallet<Test>>();
			let arm = VmOffer { arch: Arch::Aarch64, slots: 1, ..offer() };
			v2::Providers::<Test>::insert(10, old_record(offer(), 5_000, 3));
			v2::Providers::<Test>::insert(11, old_record(arm, 7_000, 0));
			// The version-3 layout cannot read a version-2 record.
			assert!(Providers::<Test>::get(10).is_none());
			upgrade();
			assert_eq!(StorageVersion::get::<crate::Pallet<Test>>(), 3);
			let a = Providers::<Test>::get(10).unwrap();
			assert_eq!(a.offer, VmOffer { max_seconds: DEFAULT_MAX_SECONDS, ..offer() });
			assert_eq!((a.bond, a.agreed, a.total), (5_000, 1, 3));
			let b = Providers::<Test>::get(11).unwrap();
			assert_eq!(b.offer, VmOffer { max_seconds: DEFAULT_MAX_SECONDS, ..arm });
			assert_eq!(b.bond, 7_000);
			// Still drawn for the longest job the chain allows.
			let longest = Resources {
				millicores: 1,
				memory_mib: 1,
				max_seconds: povm_primitives::MAX_JOB_SECONDS,
			};
			assert!(b.offer.fits(&longest));
			// A second run is a no-op: the version is 3 already (a version-2 decode of the
			// version-3 records would have dropped them).
			MigrateV2ToV3::<Test>::on_runtime_upgrade();
			assert_eq!(Providers::<Test>::get(10).unwrap(), a);
		});
	}

	/// A provider registered before the upgrade works after it: it can update its offer to a
	/// shorter limit and is drawn only for jobs within it.
	#[test]
	fn a_migrated_provider_can_declare_its_limit() {
		ExtBuilder::default().build().execute_with(|| {
			assert_ok!(VmProof::register_provider(RuntimeOrigin::signed(10), offer(), 1_000));
			providers_back_to_v2::<Test>();
			StorageVersion::new(2).put::<crate::Pallet<Test>>();
			upgrade();
			assert_eq!(Providers::<Test>::get(10).unwrap().offer.max_seconds, DEFAULT_MAX_SECONDS);
			assert_noop!(
				VmProof::update_offer(
					RuntimeOrigin::signed(10),
					VmOffer { max_seconds: 0, ..offer() }
				),
				crate::Error::<Test>::BadOffer
			);
			assert_ok!(VmProof::update_offer(
				RuntimeOrigin::signed(10),
				VmOffer { max_seconds: 30, ..offer() }
			));
			assert_ok!(VmProof::do_try_state());
		});
	}

	/// `post_upgrade` fails when a record is lost or changed beyond the run-time limit.
	#[cfg(feature = "try-runtime")]
	#[test]
	fn post_upgrade_catches_a_lost_or_changed_record() {
		let run = |spoil: fn()| {
			ExtBuilder::default().build().execute_with(|| {
				StorageVersion::new(2).put::<crate::Pallet<Test>>();
				v2::Providers::<Test>::insert(10, old_record(offer(), 5_000, 3));
				v2::Providers::<Test>::insert(11, old_record(offer(), 5_000, 3));
				let pre = InnerMigrateV2ToV3::<Test>::pre_upgrade().unwrap();
				MigrateV2ToV3::<Test>::on_runtime_upgrade();
				spoil();
				InnerMigrateV2ToV3::<Test>::post_upgrade(pre)
			})
		};
		assert!(run(|| {}).is_ok());
		assert!(run(|| Providers::<Test>::remove(11)).is_err());
		assert!(run(|| Providers::<Test>::mutate(10, |i| i.as_mut().unwrap().bond = 1)).is_err());
		assert!(run(
			|| Providers::<Test>::mutate(10, |i| i.as_mut().unwrap().offer.max_seconds = 60)
		)
		.is_err());
	}
}

//! Storage version 5 → 6: long jobs.
//!
//! Before spec 111 a job's run had to fit the default commit window (`max_seconds` plus
//! [`START_MARGIN_SECS`] within `commit_window` blocks: 90 s with the default 20 blocks of
//! 6 s), so an offer's run-time limit above that never mattered. From spec 111 a job may run
//! for up to 24 hours, and a member of a long job must send job heartbeats or be slashed as
//! stalled ([`crate::stall`]). A worker started before the upgrade sends none: drawn for a
//! long job its offer covers, it would be slashed again and again. So every offer's limit is
//! clamped to the longest job the chain took before ([`longest_short_job`]); a provider whose
//! worker sends heartbeats offers longer runs again with `update_offer` (the worker's
//! `register`). Nothing else changes: the layout is the same.

use crate::{pallet::*, types::ProviderInfo};
#[cfg(feature = "try-runtime")]
use alloc::vec::Vec;
#[cfg(feature = "try-runtime")]
use codec::{Decode, Encode};
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
};
use povm_primitives::{JobLedger, START_MARGIN_SECS};
use sp_runtime::SaturatedConversion;

/// The longest job the default commit window takes: `commit_window × MillisecsPerBlock`
/// less [`START_MARGIN_SECS`] (at least 1 s, an offer's least limit).
pub fn longest_short_job<T: crate::Config>() -> u32 {
	let window: u64 = T::Jobs::protocol_params().commit_window.saturated_into();
	let seconds = window.saturating_mul(T::MillisecsPerBlock::get()) / 1000;
	u32::try_from(seconds.saturating_sub(START_MARGIN_SECS))
		.unwrap_or(u32::MAX)
		.max(1)
}

/// The unversioned step; run it through [`MigrateV5ToV6`].
pub struct InnerMigrateV5ToV6<T>(core::marker::PhantomData<T>);

impl<T: crate::Config> UncheckedOnRuntimeUpgrade for InnerMigrateV5ToV6<T> {
	fn on_runtime_upgrade() -> Weight {
		let longest = longest_short_job::<T>();
		let mut read = 0u64;
		let mut written = 0u64;
		Providers::<T>::translate_values::<ProviderInfo<T>, _>(|mut info| {
			read = read.saturating_add(1);
			if info.offer.max_seconds > longest {
				info.offer.max_seconds = longest;
				written = written.saturating_add(1);
			}
			Some(info)
		});
		// `translate_values` writes back every value it reads.
		T::DbWeight::get().reads_writes(read.saturating_add(2), read.max(written))
	}

	/// Every provider with its offer's run-time limit.
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		let offers: Vec<(T::AccountId, u32)> = Providers::<T>::iter()
			.map(|(who, info)| (who, info.offer.max_seconds))
			.collect();
		Ok(offers.encode())
	}

	/// Every provider is kept; each limit is the lower of its own and the longest short job.
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		let offers = Vec::<(T::AccountId, u32)>::decode(&mut &state[..])
			.map_err(|_| "bad pre-upgrade state")?;
		ensure!(Providers::<T>::iter_keys().count() == offers.len(), "providers miscounted");
		let longest = longest_short_job::<T>();
		for (who, before) in offers {
			let info = Providers::<T>::get(&who).ok_or("a provider was lost")?;
			ensure!(info.offer.max_seconds == before.min(longest), "a limit not clamped");
		}
		Ok(())
	}
}

/// Storage version 5 → 6, run only when the on-chain version is 5.
pub type MigrateV5ToV6<T> = VersionedMigration<
	5,
	6,
	InnerMigrateV5ToV6<T>,
	crate::Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{mock::*, types::VmOffer};
	use frame_support::{
		assert_ok,
		traits::{OnRuntimeUpgrade, StorageVersion},
	};

	fn upgrade() {
		#[cfg(feature = "try-runtime")]
		let pre = InnerMigrateV5ToV6::<Test>::pre_upgrade().expect("pre_upgrade");
		MigrateV5ToV6::<Test>::on_runtime_upgrade();
		#[cfg(feature = "try-runtime")]
		InnerMigrateV5ToV6::<Test>::post_upgrade(pre).expect("post_upgrade");
	}

	/// The attack on old workers: an offer of an hour, declared when no job could run that
	/// long, would get a provider without job heartbeats drawn for long jobs and slashed as
	/// stalled. After the upgrade it covers what it covered before (the mock's 5-block window
	/// of 20 s: 70 s); a shorter offer is kept; the provider offers an hour again with
	/// `update_offer`. A second run changes nothing.
	#[test]
	fn offers_are_clamped_to_the_longest_job_the_chain_took_before() {
		ExtBuilder::default().build_and_execute(|| {
			let mut p = pallet_job_queue::Params::<Test>::get();
			p.commit_window = 5;
			assert_ok!(pallet_job_queue::Pallet::<Test>::set_params(RuntimeOrigin::root(), p));
			assert_ok!(VmProof::register_provider(RuntimeOrigin::signed(10), offer(), 10_000));
			let short = VmOffer { max_seconds: 30, ..offer() };
			assert_ok!(VmProof::register_provider(RuntimeOrigin::signed(11), short, 10_000));
			StorageVersion::new(5).put::<crate::Pallet<Test>>();
			assert_eq!(longest_short_job::<Test>(), 70);
			upgrade();
			assert_eq!(StorageVersion::get::<crate::Pallet<Test>>(), 6);
			assert_eq!(Providers::<Test>::get(10).unwrap().offer.max_seconds, 70);
			assert_eq!(Providers::<Test>::get(11).unwrap().offer.max_seconds, 30);
			MigrateV5ToV6::<Test>::on_runtime_upgrade();
			assert_eq!(Providers::<Test>::get(10).unwrap().offer.max_seconds, 70);
			assert_ok!(VmProof::update_offer(RuntimeOrigin::signed(10), offer()));
			assert_eq!(Providers::<Test>::get(10).unwrap().offer.max_seconds, 3_600);
		});
	}
}

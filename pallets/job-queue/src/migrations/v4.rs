//! Storage version 3 → 4: cheaper submissions (issue 13, spec 117).
//!
//! Version 3 wrote nine entries per submission. Version 4 writes seven:
//!
//! - the two counters, `NextJobId` and `QueuedCount`, are one value, [`Counters`] (one read and
//!   one write fewer);
//! - each queued job's level and place, kept in `Queued` by job, are the value of its expiry
//!   entry in [`Expiring`] (one write fewer); a waiting job's retry entry in [`Retrying`] holds
//!   its expiry block, where that entry is found.
//!
//! # What the migration touches
//!
//! Every queued job once (its expiry entry read and rewritten, its `Queued` entry taken; a
//! waiting job's retry entry written again): at most `MaxQueueLen` jobs. A job's record, place
//! and expiry do not change, nor does the order of any line. An index entry without an expiry
//! entry, or an expiry entry without an index entry (both ruled out by version 3's invariants),
//! is dropped and counted in the log, and the queued count is that of the jobs kept.

use crate::{pallet::*, types::*};
#[cfg(feature = "try-runtime")]
use alloc::vec::Vec;
#[cfg(feature = "try-runtime")]
use codec::{Decode, Encode};
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
};
use frame_system::pallet_prelude::BlockNumberFor;

/// The layouts of storage version 3 that version 4 replaces.
pub mod v3 {
	use super::*;

	/// The identifier the next submitted job receives.
	#[frame_support::storage_alias]
	pub type NextJobId<T: crate::Config> = StorageValue<crate::Pallet<T>, JobId, ValueQuery>;

	/// The number of queued jobs.
	#[frame_support::storage_alias]
	pub type QueuedCount<T: crate::Config> = StorageValue<crate::Pallet<T>, u32, ValueQuery>;

	/// Every queued job's level and place.
	#[frame_support::storage_alias]
	pub type Queued<T: crate::Config> = StorageMap<
		crate::Pallet<T>,
		Twox64Concat,
		JobId,
		QueuedJob<BlockNumberFor<T>>,
		OptionQuery,
	>;

	/// Queued jobs by the block at which they expire.
	#[frame_support::storage_alias]
	pub type Expiring<T: crate::Config> = StorageDoubleMap<
		crate::Pallet<T>,
		Twox64Concat,
		BlockNumberFor<T>,
		Twox64Concat,
		JobId,
		(),
		OptionQuery,
	>;

	/// Waiting jobs by the block at which they are tried again.
	#[frame_support::storage_alias]
	pub type Retrying<T: crate::Config> = StorageDoubleMap<
		crate::Pallet<T>,
		Twox64Concat,
		BlockNumberFor<T>,
		Twox64Concat,
		JobId,
		(),
		OptionQuery,
	>;
}

/// The unversioned step; run it through [`MigrateV3ToV4`].
pub struct InnerMigrateV3ToV4<T>(core::marker::PhantomData<T>);

impl<T: crate::Config> UncheckedOnRuntimeUpgrade for InnerMigrateV3ToV4<T> {
	fn on_runtime_upgrade() -> Weight {
		let next_job_id = v3::NextJobId::<T>::take();
		v3::QueuedCount::<T>::kill();
		// The retry entries are written again below, with each waiting job's expiry block.
		let retries = v3::Retrying::<T>::clear(u32::MAX, None).unique as u64;
		let (mut moved, mut waiting, mut dropped) = (0u64, 0u64, 0u64);
		Expiring::<T>::translate::<(), _>(|expires_at, id, ()| {
			let Some(entry) = v3::Queued::<T>::take(id) else {
				dropped = dropped.saturating_add(1);
				return None;
			};
			if let Place::Waiting(at) = entry.place {
				Retrying::<T>::insert(at, id, expires_at);
				waiting = waiting.saturating_add(1);
			}
			moved = moved.saturating_add(1);
			Some(entry)
		});
		// The count is what was kept (the old one, when the old invariants held).
		Counters::<T>::put(JobCounters {
			next_job_id,
			queued: u32::try_from(moved).unwrap_or(u32::MAX),
		});
		let unexpiring = v3::Queued::<T>::clear(u32::MAX, None).unique as u64;
		if dropped > 0 || unexpiring > 0 {
			log::error!(
				target: "runtime::job-queue",
				"{dropped} expiry entries without an index entry and {unexpiring} index entries without an expiry entry dropped"
			);
		}
		// The two counters read and removed, the new one written; per retry entry one removal;
		// per expiry entry its read and write and its index entry's read and removal; per
		// waiting job its retry entry written.
		let entries = moved.saturating_add(dropped);
		T::DbWeight::get().reads_writes(
			entries.saturating_mul(2).saturating_add(retries).saturating_add(2),
			entries
				.saturating_mul(2)
				.saturating_add(retries)
				.saturating_add(waiting)
				.saturating_add(unexpiring)
				.saturating_add(3),
		)
	}

	/// The counters and every indexed job with its expiry block and entry.
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		let mut jobs: Vec<(JobId, BlockNumberFor<T>, QueuedJob<BlockNumberFor<T>>)> = Vec::new();
		for (expires_at, id, ()) in v3::Expiring::<T>::iter() {
			if let Some(entry) = v3::Queued::<T>::get(id) {
				jobs.push((id, expires_at, entry));
			}
		}
		Ok((v3::NextJobId::<T>::get(), v3::QueuedCount::<T>::get(), jobs).encode())
	}

	/// The counters are kept, every job keeps its level, place and expiry, no version-3 entry
	/// is left, and the queue's invariants hold.
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		type Before<B> = (JobId, u32, Vec<(JobId, B, QueuedJob<B>)>);
		let (next_job_id, queued, jobs) = Before::<BlockNumberFor<T>>::decode(&mut &state[..])
			.map_err(|_| "pre-upgrade state")?;
		ensure!(Counters::<T>::get() == JobCounters { next_job_id, queued }, "counters changed");
		ensure!(!v3::NextJobId::<T>::exists(), "the old job counter is still stored");
		ensure!(!v3::QueuedCount::<T>::exists(), "the old queued count is still stored");
		ensure!(v3::Queued::<T>::iter_keys().next().is_none(), "the old index is still stored");
		for (id, expires_at, entry) in jobs {
			ensure!(Expiring::<T>::get(expires_at, id) == Some(entry), "a job lost its place");
			if let Place::Waiting(at) = entry.place {
				ensure!(Retrying::<T>::get(at, id) == Some(expires_at), "a retry lost its job");
			}
		}
		Pallet::<T>::do_try_state()
	}
}

/// Version 3 → 4, run only when the on-chain version is 3.
pub type MigrateV3ToV4<T> = VersionedMigration<
	3,
	4,
	InnerMigrateV3ToV4<T>,
	crate::Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;

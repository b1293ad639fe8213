//! Storage version 2 → 3: the queue by price level (issue 13).
//!
//! Version 2 kept the whole queue in one value, `Queue`: at most `MaxQueueLen` (1,000)
//! entries sorted by price, read and written whole by every submission and every block.
//! Version 3 keeps each queued job in an index of its own ([`Queued`]), in the line of its
//! price level ([`Levels`], [`LevelEntries`], [`LevelMembers`]), with its expiry in an agenda
//! ([`Expiring`]): no operation reads more than a few entries.
//!
//! # What the jobs queued at the upgrade get
//!
//! - Each goes, in the old queue's order (highest price first, oldest first among equal
//!   prices), behind the ready jobs of its price's level: within a level the old order holds.
//! - Its expiry block is kept; the agenda starts at the earliest of them (or the upgrade's
//!   block), so that a job the old hook had not expired yet still is.
//! - None is waiting: each is tried again from the next block.
//! - An entry without a queued job record (the old invariants rule it out) is dropped and
//!   counted in the log.
//!
//! Version 4 changed some of version 3's layouts: this step writes them through
//! [`super::v4::v3`], and version 4's step follows it.

use crate::{pallet::*, types::*};
#[cfg(feature = "try-runtime")]
use alloc::vec::Vec;
use codec::{Decode, Encode, MaxEncodedLen};
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
	BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;

/// The layouts of storage version 2.
pub mod v2 {
	use super::*;

	/// One entry of version 2's price-ordered queue.
	#[derive(
		Encode,
		Decode,
		TypeInfo,
		MaxEncodedLen,
		DebugNoBound,
		CloneNoBound,
		PartialEqNoBound,
		EqNoBound,
	)]
	#[scale_info(skip_type_params(T))]
	pub struct QueueEntry<T: crate::Config> {
		/// Price per VM-second (the ordering key, highest first).
		pub price: BalanceOf<T>,
		/// The job.
		pub job: JobId,
		/// Last block the job may wait.
		pub expires_at: BlockNumberFor<T>,
	}

	/// Version 2's queue: every queued job, highest price first (ties: oldest first).
	#[frame_support::storage_alias]
	pub type Queue<T: crate::Config> = StorageValue<
		crate::Pallet<T>,
		BoundedVec<QueueEntry<T>, <T as crate::Config>::MaxQueueLen>,
		ValueQuery,
	>;
}

/// Put job `id` behind the ready jobs of `level` in version 3's layout, due to expire at
/// `expires_at` (what version 3's code did for a submission).
fn enqueue_v3<T: crate::Config>(id: JobId, level: u16, expires_at: BlockNumberFor<T>) {
	use super::v4::v3;
	let before = Levels::<T>::get(level).unwrap_or_default();
	let mut bounds = before;
	let place = bounds.tail;
	bounds.tail = bounds.tail.saturating_add(1);
	bounds.ready = bounds.ready.saturating_add(1);
	LevelEntries::<T>::insert(level, place, id);
	LevelMembers::<T>::insert(level, id, ());
	v3::Queued::<T>::insert(id, QueuedJob { level, place: Place::Ready(place), failed_tries: 0 });
	v3::Expiring::<T>::insert(expires_at, id, ());
	v3::QueuedCount::<T>::mutate(|n| *n = n.saturating_add(1));
	Pallet::<T>::store_level(level, before, bounds);
}

/// The unversioned step; run it through [`MigrateV2ToV3`].
pub struct InnerMigrateV2ToV3<T>(core::marker::PhantomData<T>);

impl<T: crate::Config> UncheckedOnRuntimeUpgrade for InnerMigrateV2ToV3<T> {
	fn on_runtime_upgrade() -> Weight {
		let old = v2::Queue::<T>::take();
		let now = frame_system::Pallet::<T>::block_number();
		let mut cursor = now;
		let mut moved = 0u64;
		let mut dropped = 0u64;
		for entry in old.iter() {
			match Jobs::<T>::get(entry.job) {
				Some(job)
					if job.state == JobState::Queued &&
						!super::v4::v3::Queued::<T>::contains_key(entry.job) =>
				{
					let level = Pallet::<T>::level_of(job.spec.price_per_second);
					enqueue_v3::<T>(entry.job, level, job.expires_at);
					cursor = cursor.min(job.expires_at);
					moved = moved.saturating_add(1);
				},
				_ => dropped = dropped.saturating_add(1),
			}
		}
		AgendaCursor::<T>::put(cursor);
		// No job waits for a retry yet: retries start at the upgrade's block.
		RetryCursor::<T>::put(now);
		if dropped > 0 {
			log::error!(target: "runtime::job-queue", "{dropped} queue entries without a queued job dropped");
		}
		let entries = old.len() as u64;
		// Per entry: its record and its index entry read; per job moved: its level, the count
		// and the two masks read, and its index, line, member and expiry entries, its level,
		// the count and the masks written (the old queue read and removed, the cursor written).
		T::DbWeight::get().reads_writes(
			entries
				.saturating_mul(2)
				.saturating_add(moved.saturating_mul(4))
				.saturating_add(1),
			moved.saturating_mul(8).saturating_add(3),
		)
	}

	/// The old queue's jobs that the migration moves (those with a queued record, once
	/// each), in order.
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		let mut jobs: Vec<JobId> = Vec::new();
		for entry in v2::Queue::<T>::get().iter() {
			let queued = Jobs::<T>::get(entry.job).is_some_and(|j| j.state == JobState::Queued);
			if queued && !jobs.contains(&entry.job) {
				jobs.push(entry.job);
			}
		}
		Ok(jobs.encode())
	}

	/// Every job of the old queue is queued at its price's level and in the expiry agenda,
	/// and the old order holds within each level (version 4's step checks the queue's
	/// invariants, in its layout).
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		use super::v4::v3;
		let before = Vec::<JobId>::decode(&mut &state[..]).map_err(|_| "pre-upgrade state")?;
		ensure!(!v2::Queue::<T>::exists(), "the old queue is still stored");
		ensure!(v3::QueuedCount::<T>::get() as usize == before.len(), "jobs lost or added");
		let mut last_place = alloc::collections::btree_map::BTreeMap::new();
		for id in before {
			let entry = v3::Queued::<T>::get(id).ok_or("a queued job lost its place")?;
			let job = Jobs::<T>::get(id).ok_or("a queued job lost its record")?;
			ensure!(
				v3::Expiring::<T>::contains_key(job.expires_at, id),
				"a queued job lost its expiry"
			);
			let Place::Ready(place) = entry.place else {
				return Err("a migrated job is waiting".into());
			};
			if let Some(previous) = last_place.insert(entry.level, place) {
				ensure!(previous < place, "the old order is lost within a level");
			}
		}
		Ok(())
	}
}

/// Version 2 → 3, run only when the on-chain version is 2.
pub type MigrateV2ToV3<T> = VersionedMigration<
	2,
	3,
	InnerMigrateV2ToV3<T>,
	crate::Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;

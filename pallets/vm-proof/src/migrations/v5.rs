//! Storage version 4 → 5.
//!
//! Version 5 keeps, with each reveal, the run's outcome ([`RevealRecord::outcome`]: exit code,
//! flags and the digest of the logs and files), checked against the result digest, so that an
//! accepted result shows how the run ended. A reveal stored before the upgrade carried none: it
//! gets `None`, as a reveal without one does after (the verdict shows the outcome of any
//! agreeing reveal that has one).

use crate::{pallet::*, types::*};
#[cfg(feature = "try-runtime")]
use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
};

/// The layouts before version 5.
pub mod v4 {
	use super::*;

	/// A stored reveal before version 5: no outcome.
	#[derive(Encode, Decode)]
	pub struct RevealRecord<T: crate::Config> {
		/// The reveal.
		pub reveal: Reveal,
		/// Checkpoint leaf hashes.
		pub leaves: BoundedVec<Digest, T::MaxCheckpoints>,
	}
}

/// The version-5 record of a version-4 reveal.
pub fn migrated_reveal<T: crate::Config>(old: v4::RevealRecord<T>) -> RevealRecord<T> {
	RevealRecord { reveal: old.reveal, leaves: old.leaves, outcome: None }
}

/// The unversioned step; run it through [`MigrateV4ToV5`].
pub struct InnerMigrateV4ToV5<T>(core::marker::PhantomData<T>);

impl<T: crate::Config> UncheckedOnRuntimeUpgrade for InnerMigrateV4ToV5<T> {
	fn on_runtime_upgrade() -> Weight {
		let mut count = 0u64;
		Reveals::<T>::translate::<v4::RevealRecord<T>, _>(|_, _, old| {
			count = count.saturating_add(1);
			Some(migrated_reveal::<T>(old))
		});
		T::DbWeight::get().reads_writes(count, count)
	}

	/// The stored reveals (job, provider, result digest), which must all survive.
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		let reveals: Vec<(JobId, T::AccountId, Digest)> = Reveals::<T>::iter_keys()
			.map(|(job, who)| {
				let key = Reveals::<T>::hashed_key_for(job, &who);
				let raw = frame_support::storage::unhashed::get_raw(&key).unwrap_or_default();
				let old = v4::RevealRecord::<T>::decode(&mut &raw[..])
					.map_err(|_| "a reveal is not in the version-4 layout")?;
				Ok((job, who, old.reveal.result_digest))
			})
			.collect::<Result<_, &'static str>>()?;
		Ok(reveals.encode())
	}

	/// Every reveal decodes in the new layout, with its result and without an outcome.
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		let reveals = Vec::<(JobId, T::AccountId, Digest)>::decode(&mut &state[..])
			.map_err(|_| "bad pre-upgrade state")?;
		ensure!(Reveals::<T>::iter_keys().count() == reveals.len(), "reveals miscounted");
		for (job, who, digest) in reveals {
			let r = Reveals::<T>::get(job, &who).ok_or("a reveal was lost")?;
			ensure!(r.reveal.result_digest == digest, "a reveal's result changed");
			ensure!(r.outcome.is_none(), "a migrated reveal has an outcome");
		}
		Ok(())
	}
}

/// Storage version 4 → 5, run only when the on-chain version is 4.
pub type MigrateV4ToV5<T> = VersionedMigration<
	4,
	5,
	InnerMigrateV4ToV5<T>,
	crate::Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;

#[cfg(test)]
mod tests {
	use super::*;
	use crate::mock::*;
	use frame_support::traits::{OnRuntimeUpgrade, StorageVersion};

	type MaxCp = <Test as crate::Config>::MaxCheckpoints;

	fn upgrade() {
		#[cfg(feature = "try-runtime")]
		let pre = InnerMigrateV4ToV5::<Test>::pre_upgrade().expect("pre_upgrade");
		MigrateV4ToV5::<Test>::on_runtime_upgrade();
		#[cfg(feature = "try-runtime")]
		InnerMigrateV4ToV5::<Test>::post_upgrade(pre).expect("post_upgrade");
	}

	fn old_record(seed: u8) -> v4::RevealRecord<Test> {
		let leaves = vec![[seed; 32], [seed.wrapping_add(1); 32]];
		v4::RevealRecord {
			reveal: Reveal {
				result_digest: [seed; 32],
				checkpoints_root: crate::verdict::merkle_root(&leaves),
				salt: [seed; 32],
				output: BoundedVec::truncate_from(vec![seed; 3]),
				usage: Usage { cpu_ms: 10, memory_mib_s: 20, wall_ms: 30 },
			},
			leaves: BoundedVec::<Digest, MaxCp>::truncate_from(leaves),
		}
	}

	/// Reveals written in the version-4 layout (raw, as the old runtime wrote them) are read
	/// back in the new one with every field kept and no outcome; the version is 5 and a second
	/// run changes nothing.
	#[test]
	fn stored_reveals_keep_their_fields_and_get_no_outcome() {
		ExtBuilder::default().build_and_execute(|| {
			StorageVersion::new(4).put::<crate::Pallet<Test>>();
			for (job, who, seed) in [(1u64, 10u64, 1u8), (1, 11, 2), (7, 10, 3)] {
				let key = Reveals::<Test>::hashed_key_for(job, who);
				frame_support::storage::unhashed::put_raw(&key, &old_record(seed).encode());
			}
			upgrade();
			assert_eq!(StorageVersion::get::<crate::Pallet<Test>>(), 5);
			for (job, who, seed) in [(1u64, 10u64, 1u8), (1, 11, 2), (7, 10, 3)] {
				let old = old_record(seed);
				let new = Reveals::<Test>::get(job, who).expect("kept");
				assert_eq!(new.reveal, old.reveal);
				assert_eq!(new.leaves, old.leaves);
				assert_eq!(new.outcome, None);
			}
			let before: Vec<_> = Reveals::<Test>::iter().collect();
			MigrateV4ToV5::<Test>::on_runtime_upgrade();
			let after: Vec<_> = Reveals::<Test>::iter().collect();
			assert_eq!(before, after);
		});
	}

	/// The try-runtime check fails when a reveal is lost by the migration.
	#[cfg(feature = "try-runtime")]
	#[test]
	fn the_post_check_catches_a_lost_reveal() {
		ExtBuilder::default().build_and_execute(|| {
			StorageVersion::new(4).put::<crate::Pallet<Test>>();
			let key = Reveals::<Test>::hashed_key_for(1, 10);
			frame_support::storage::unhashed::put_raw(&key, &old_record(1).encode());
			let pre = InnerMigrateV4ToV5::<Test>::pre_upgrade().expect("pre_upgrade");
			MigrateV4ToV5::<Test>::on_runtime_upgrade();
			Reveals::<Test>::remove(1, 10);
			assert!(InnerMigrateV4ToV5::<Test>::post_upgrade(pre).is_err());
		});
	}
}

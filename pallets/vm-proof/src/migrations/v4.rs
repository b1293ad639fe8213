//! Storage version 3 → 4.
//!
//! Version 4 records, per member of an open round, the block it was drawn and the block it
//! committed ([`SlotHolds`]): a replica is credited at most the blocks it held its slot before
//! committing (issue 12). The rounds themselves keep their layout, so the earlier steps
//! ([`super::v2::MigrateV1ToV2`] writes rounds in the current layout) still run before this
//! one on a chain that is behind.
//!
//! # What the members open at the upgrade get
//!
//! The draw block was never stored. A member's commit deadline is its draw block plus the
//! commit window in force at the draw, so it gets `assigned_at = commit_deadline −
//! commit_window` with the window in force at the upgrade (saturating at 0; root rarely
//! changes the window, and a later draw block only lowers the credit).
//!
//! The commit block was not stored either. A member that has a commitment committed at or
//! before its commit deadline and before the upgrade block, so it gets `committed_at =
//! min(commit_deadline, now)`: the latest block it can have committed. Its credit is bounded
//! by its whole commit window at most, as before the upgrade, for the few rounds open then —
//! honest members are not cut, and a replica that committed at once gains at most what it
//! could have claimed under the old rule. A member without a commitment gets `committed_at =
//! None` and its commit block is recorded when it commits.

use crate::{pallet::*, types::*};
#[cfg(feature = "try-runtime")]
use alloc::vec::Vec;
#[cfg(feature = "try-runtime")]
use codec::{Decode, Encode};
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
};
use frame_system::pallet_prelude::BlockNumberFor;
use povm_primitives::JobLedger;
use sp_runtime::traits::Saturating;

/// The slot hold of `m`, a member of a round open at the upgrade to version 4, with the commit
/// window `commit_window` and the upgrade block `now` (see the module docs).
pub fn migrated_hold<T: crate::Config>(
	m: &RoundMember<T>,
	commit_window: BlockNumberFor<T>,
	now: BlockNumberFor<T>,
) -> SlotHold<BlockNumberFor<T>> {
	SlotHold {
		assigned_at: m.commit_deadline.saturating_sub(commit_window),
		committed_at: m.commitment.map(|_| m.commit_deadline.min(now)),
	}
}

/// The unversioned step; run it through [`MigrateV3ToV4`].
pub struct InnerMigrateV3ToV4<T>(core::marker::PhantomData<T>);

impl<T: crate::Config> UncheckedOnRuntimeUpgrade for InnerMigrateV3ToV4<T> {
	fn on_runtime_upgrade() -> Weight {
		let window = T::Jobs::protocol_params().commit_window;
		let now = frame_system::Pallet::<T>::block_number();
		let (mut reads, mut writes) = (1u64, 0u64);
		for (job, round) in Rounds::<T>::iter() {
			reads = reads.saturating_add(1);
			for m in round.members.iter() {
				SlotHolds::<T>::insert(job, &m.who, migrated_hold::<T>(m, window, now));
				writes = writes.saturating_add(1);
			}
		}
		T::DbWeight::get().reads_writes(reads, writes)
	}

	/// The number of round members, and that no slot hold exists yet.
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		ensure!(SlotHolds::<T>::iter_keys().next().is_none(), "slot holds before version 4");
		let members: u32 =
			Rounds::<T>::iter_values().map(|r| r.members.len() as u32).fold(0, |a, n| a + n);
		Ok(members.encode())
	}

	/// Every member of every open round, and only those, has its slot hold: assigned by its
	/// commit deadline, committed exactly when it has a commitment, and never after the
	/// upgrade block.
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		let members = u32::decode(&mut &state[..]).map_err(|_| "bad pre-upgrade state")?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(SlotHolds::<T>::iter_keys().count() as u32 == members, "slot holds miscounted");
		for (job, round) in Rounds::<T>::iter() {
			for m in round.members.iter() {
				let h = SlotHolds::<T>::get(job, &m.who).ok_or("member without a slot hold")?;
				ensure!(h.assigned_at <= m.commit_deadline, "assigned after its deadline");
				ensure!(h.committed_at.is_some() == m.commitment.is_some(), "commit block wrong");
				ensure!(
					h.committed_at.map_or(true, |c| h.assigned_at <= c && c <= now),
					"commit block out of range"
				);
			}
		}
		Ok(())
	}
}

/// Storage version 3 → 4, run only when the on-chain version is 3.
pub type MigrateV3ToV4<T> = VersionedMigration<
	3,
	4,
	InnerMigrateV3ToV4<T>,
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
		BoundedVec,
	};
	use povm_primitives::{JobSpec, JobState, RedundancyPolicy};

	/// Runs the migration as `try-runtime` does: `pre_upgrade`, the versioned migration, then
	/// `post_upgrade`.
	fn upgrade() {
		#[cfg(feature = "try-runtime")]
		let pre = InnerMigrateV3ToV4::<Test>::pre_upgrade().expect("pre_upgrade");
		MigrateV3ToV4::<Test>::on_runtime_upgrade();
		#[cfg(feature = "try-runtime")]
		InnerMigrateV3ToV4::<Test>::post_upgrade(pre).expect("post_upgrade");
	}

	fn reveal_of(who: AccountId, wall_ms: u64) -> (Reveal, BoundedVec<Digest, MaxCp>) {
		let leaves = vec![[3u8; 32]];
		(
			Reveal {
				result_digest: [3u8; 32],
				checkpoints_root: crate::verdict::merkle_root(&leaves),
				salt: [who as u8; 32],
				output: BoundedVec::truncate_from(vec![3]),
				usage: Usage { cpu_ms: wall_ms, memory_mib_s: 100, wall_ms },
			},
			BoundedVec::truncate_from(leaves),
		)
	}

	type MaxCp = <Test as crate::Config>::MaxCheckpoints;

	/// Providers 10 and 11 register and the customer submits a job both must run (two
	/// replicas, one core, 60 s): drawn at the next block.
	fn register_two_and_submit_a_two_replica_job() {
		for who in [10, 11] {
			assert_ok!(VmProof::register_provider(RuntimeOrigin::signed(who), offer(), 10_000));
		}
		let spec = JobSpec {
			image: povm_primitives::ImageRef::local([0xaa; 32]),
			command: BoundedVec::default(),
			args: BoundedVec::default(),
			env: BoundedVec::default(),
			inputs: BoundedVec::default(),
			resources: Resources { millicores: 1000, memory_mib: 256, max_seconds: 60 },
			price_per_second: 10,
			redundancy: RedundancyPolicy { min_replicas: 2, max_replicas: 2, margin: 1 },
			checkpoint_interval: 0,
		};
		let budget = JobQueue::max_cost(&spec).unwrap();
		assert_ok!(JobQueue::submit_job(RuntimeOrigin::signed(CUSTOMER), Box::new(spec), budget));
	}

	/// Two providers drawn at block 2 (commit window 5, deadline 7); one commits at block 3,
	/// then the runtime is upgraded at block 4 from a version-3 state (no slot holds). The
	/// committed member gets the latest block it can have committed (the upgrade block), the
	/// other commits after the upgrade and gets its real commit block; both are credited within
	/// the blocks so recorded.
	#[test]
	fn open_members_get_their_slot_holds_and_are_credited_within_them() {
		ExtBuilder::default().build_and_execute(|| {
			let mut p = pallet_job_queue::Params::<Test>::get();
			p.commit_window = 5;
			p.reveal_window = 5;
			assert_ok!(JobQueue::set_params(RuntimeOrigin::root(), p));
			register_two_and_submit_a_two_replica_job();
			run_to_block(2);
			let job = 0;
			assert_eq!(pallet_job_queue::Jobs::<Test>::get(job).unwrap().state, JobState::Assigned);
			run_to_block(3);
			let commit = |who: AccountId| {
				let (r, _) = reveal_of(who, 60_000);
				let c = VmProof::commitment_of(job, 0, &r, &who);
				assert_ok!(VmProof::commit_result(RuntimeOrigin::signed(who), job, c));
			};
			commit(10);
			// Back to the version-3 state: no slot holds.
			let _ = SlotHolds::<Test>::clear_prefix(job, 10, None);
			StorageVersion::new(3).put::<crate::Pallet<Test>>();
			run_to_block(4);
			upgrade();
			assert_eq!(StorageVersion::get::<crate::Pallet<Test>>(), 4);
			assert_eq!(
				SlotHolds::<Test>::get(job, 10),
				Some(SlotHold { assigned_at: 2, committed_at: Some(4) })
			);
			assert_eq!(
				SlotHolds::<Test>::get(job, 11),
				Some(SlotHold { assigned_at: 2, committed_at: None })
			);
			assert_ok!(VmProof::do_try_state());
			// A second run is a no-op: the version is 4 already.
			SlotHolds::<Test>::remove(job, 11);
			MigrateV3ToV4::<Test>::on_runtime_upgrade();
			assert!(SlotHolds::<Test>::get(job, 11).is_none());
			SlotHolds::<Test>::insert(job, 11, SlotHold { assigned_at: 2, committed_at: None });
			run_to_block(5);
			commit(11);
			assert_eq!(SlotHolds::<Test>::get(job, 11).unwrap().committed_at, Some(5));
			for who in [10, 11] {
				let (r, l) = reveal_of(who, 60_000);
				assert_ok!(VmProof::reveal_result(RuntimeOrigin::signed(who), job, r, l, None));
			}
			assert_eq!(
				pallet_job_queue::Jobs::<Test>::get(job).unwrap().state,
				JobState::Completed
			);
			// Two blocks held (2 → 4) and three (2 → 5), at 20 s each, below the 60 s claimed.
			assert_eq!(credited_millis(0, 10), 2 * MILLISECS_PER_BLOCK);
			assert_eq!(credited_millis(0, 11), 3 * MILLISECS_PER_BLOCK);
			// The round and its slot holds are gone.
			assert!(SlotHolds::<Test>::iter_keys().next().is_none());
		});
	}

	/// `post_upgrade` fails when a member's slot hold is missing or its commit block does not
	/// match its commitment.
	#[cfg(feature = "try-runtime")]
	#[test]
	fn post_upgrade_catches_a_missing_or_wrong_hold() {
		let run = |spoil: fn()| {
			ExtBuilder::default().build().execute_with(|| {
				register_two_and_submit_a_two_replica_job();
				run_to_block(2);
				let _ = SlotHolds::<Test>::clear_prefix(0, 10, None);
				StorageVersion::new(3).put::<crate::Pallet<Test>>();
				let pre = InnerMigrateV3ToV4::<Test>::pre_upgrade().unwrap();
				MigrateV3ToV4::<Test>::on_runtime_upgrade();
				spoil();
				InnerMigrateV3ToV4::<Test>::post_upgrade(pre)
			})
		};
		assert!(run(|| {}).is_ok());
		assert!(run(|| SlotHolds::<Test>::remove(0, 11)).is_err());
		assert!(run(
			|| SlotHolds::<Test>::mutate(0, 10, |h| h.as_mut().unwrap().committed_at = Some(2))
		)
		.is_err());
	}
}

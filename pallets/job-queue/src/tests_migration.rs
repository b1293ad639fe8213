//! The storage migration to version 2 on the mock runtime.

use crate::{
	migrations::v2::{image_id_of, v1, MigrateV1ToV2},
	mock::*,
	pallet::*,
	types::*,
};
use codec::Encode;
use frame_support::{
	traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
	BoundedVec,
};
use povm_primitives::{Arch, RedundancyPolicy};

/// A version-1 job whose image text names `id`, holding an (unused) input digest.
fn old_job(image: &[u8]) -> v1::Job<Test> {
	v1::Job {
		owner: ALICE,
		spec: v1::JobSpec {
			image: BoundedVec::truncate_from(image.to_vec()),
			command: BoundedVec::truncate_from(b"/coinflip".to_vec()),
			args: BoundedVec::truncate_from(vec![BoundedVec::truncate_from(b"--flips".to_vec())]),
			env: BoundedVec::default(),
			input: Some([9; 32]),
			resources: Resources { millicores: 500, memory_mib: 64, max_seconds: 10 },
			price_per_second: 3,
			redundancy: RedundancyPolicy { min_replicas: 2, max_replicas: 3, margin: 1 },
			checkpoint_interval: 5,
		},
		budget: 90,
		deposit: 7,
		state: JobState::Assigned,
		submitted_at: 4,
		expires_at: 40,
		providers: BoundedVec::truncate_from(vec![10, 11]),
		commit_deadline: Some(20),
		reveal_deadline: None,
	}
}

fn id_text(byte: u8) -> Vec<u8> {
	[&b"sha256:"[..], hex_of(&[byte; 32]).as_bytes()].concat()
}

fn hex_of(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn image_texts_parse_to_ids() {
	assert_eq!(image_id_of(&id_text(0xab)), Some([0xab; 32]));
	assert_eq!(image_id_of(b"sha256:00"), None);
	assert_eq!(image_id_of(&[&b"sha256:"[..], &[b'G'; 64]].concat()), None);
	assert_eq!(image_id_of(&[&b"sha512:"[..], &[b'0'; 64]].concat()), None);
}

#[test]
fn specs_without_registry_inputs_or_other_arch_go_back_to_version_1() {
	use crate::migrations::v2::{migrated_spec, spec_as_v1};
	let old = old_job(&id_text(0x5c)).spec;
	let mut new = migrated_spec(old.clone()).unwrap();
	// The unused input digest is the one thing version 2 drops.
	assert_eq!(spec_as_v1(new.clone()), Some(v1::JobSpec { input: None, ..old }));
	new.image.arch = Arch::Aarch64;
	assert_eq!(spec_as_v1(new.clone()), None);
	new.image.arch = Arch::X86_64;
	new.inputs = BoundedVec::truncate_from(vec![povm_primitives::InputRef {
		name: BoundedVec::truncate_from(b"a".to_vec()),
		url: BoundedVec::truncate_from(b"https://x/a".to_vec()),
		sha256: [0; 32],
		size: 1,
	}]);
	assert_eq!(spec_as_v1(new), None);
}

#[test]
fn version_1_jobs_get_their_image_id_no_registry_x86_and_no_inputs() {
	// Records written raw, without their holds or queue entries: not `build_and_execute`,
	// whose invariant checks would find neither.
	ExtBuilder::default().build().execute_with(|| {
		StorageVersion::new(1).put::<JobQueue>();
		for (id, byte) in [(0u64, 0x01u8), (5, 0xfe)] {
			let key = Jobs::<Test>::hashed_key_for(id);
			frame_support::storage::unhashed::put_raw(&key, &old_job(&id_text(byte)).encode());
		}
		let results_before = Results::<Test>::iter().count();

		MigrateV1ToV2::<Test>::on_runtime_upgrade();

		assert_eq!(JobQueue::on_chain_storage_version(), StorageVersion::new(2));
		for (id, byte) in [(0u64, 0x01u8), (5, 0xfe)] {
			let job = Jobs::<Test>::get(id).expect("migrated");
			let old = old_job(&id_text(byte));
			assert_eq!(job.spec.image.id, [byte; 32]);
			assert_eq!(job.spec.image.registry, None);
			assert_eq!(job.spec.image.arch, Arch::X86_64);
			assert!(job.spec.inputs.is_empty());
			assert_eq!(job.spec.command, old.spec.command);
			assert_eq!(job.spec.args, old.spec.args);
			assert_eq!(job.spec.resources, old.spec.resources);
			assert_eq!(job.spec.redundancy, old.spec.redundancy);
			assert_eq!(job.spec.checkpoint_interval, 5);
			assert_eq!((job.budget, job.deposit, job.state), (90, 7, JobState::Assigned));
			assert_eq!((job.submitted_at, job.expires_at), (4, 40));
			assert_eq!(job.providers.into_inner(), vec![10, 11]);
			assert_eq!((job.commit_deadline, job.reveal_deadline), (Some(20), None));
		}
		assert_eq!(Results::<Test>::iter().count(), results_before);

		// Versioned: a second run (the on-chain version is now 2) changes nothing.
		let before = Jobs::<Test>::get(0).unwrap();
		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		assert_eq!(Jobs::<Test>::get(0).unwrap(), before);
	});
}

/// The pre- and post-upgrade checks pass on a migrated state, and fail when the migration
/// lost a job.
#[cfg(feature = "try-runtime")]
#[test]
fn try_runtime_checks_hold() {
	use frame_support::traits::UncheckedOnRuntimeUpgrade;
	type Inner = crate::migrations::v2::InnerMigrateV1ToV2<Test>;
	ExtBuilder::default().build().execute_with(|| {
		let key = Jobs::<Test>::hashed_key_for(3);
		frame_support::storage::unhashed::put_raw(&key, &old_job(&id_text(7)).encode());
		let state = Inner::pre_upgrade().unwrap();
		Inner::on_runtime_upgrade();
		assert!(Inner::post_upgrade(state.clone()).is_ok());
		Jobs::<Test>::remove(3);
		assert!(Inner::post_upgrade(state).is_err());
	});
}

/// In the block that enacts the upgrade, the new code runs on the old layout (the migration
/// comes in the next block): the runtime API still gives a version-1 job, in the new layout.
#[test]
fn the_job_api_reads_a_job_not_yet_migrated() {
	ExtBuilder::default().build().execute_with(|| {
		let key = Jobs::<Test>::hashed_key_for(4);
		frame_support::storage::unhashed::put_raw(&key, &old_job(&id_text(0x42)).encode());
		assert!(Jobs::<Test>::get(4).is_none(), "the new layout cannot decode it");
		let view = JobQueue::job_view(4).expect("the API still sees it");
		assert_eq!(view.spec.image, povm_primitives::ImageRef::local([0x42; 32]));
		assert_eq!(view.state, JobState::Assigned);
		assert_eq!(view.providers, vec![10, 11]);
		assert!(JobQueue::job_view(5).is_none());
	});
}

/// Version 2's queue, as the old code left it: `jobs` (id, price) highest price first.
fn put_version_2_queue(jobs: &[(JobId, u64)]) {
	use crate::migrations::v3::v2;
	let entries: Vec<v2::QueueEntry<Test>> = jobs
		.iter()
		.map(|(job, price)| v2::QueueEntry {
			price: *price,
			job: *job,
			expires_at: Jobs::<Test>::get(job).map_or(0, |j| j.expires_at),
		})
		.collect();
	v2::Queue::<Test>::put(BoundedVec::truncate_from(entries));
}

/// Forget the index of the queued jobs (their records and holds stay): the state a version-2
/// chain holds, its job counter in version 2's place.
fn clear_version_3_index() {
	use crate::migrations::v4::v3;
	let _ = v3::Queued::<Test>::clear(u32::MAX, None);
	let next_job_id = Counters::<Test>::take().next_job_id.max(v3::NextJobId::<Test>::get());
	v3::NextJobId::<Test>::put(next_job_id);
	let _ = Levels::<Test>::clear(u32::MAX, None);
	let _ = LevelEntries::<Test>::clear(u32::MAX, None);
	let _ = LevelMembers::<Test>::clear(u32::MAX, None);
	let _ = Expiring::<Test>::clear(u32::MAX, None);
	let _ = Retrying::<Test>::clear(u32::MAX, None);
	v3::QueuedCount::<Test>::kill();
	ReadyLevels::<Test>::kill();
	OccupiedLevels::<Test>::kill();
	AgendaCursor::<Test>::kill();
	RetryCursor::<Test>::kill();
}

/// Version 2 → 3: every queued job moves to its price level in the old order, keeps its
/// expiry, and the queue is served as before.
#[test]
fn the_version_2_queue_moves_to_price_levels_in_its_order() {
	use crate::{
		migrations::v3::{v2, MigrateV2ToV3},
		tests::{offer, spec, submit},
	};
	ExtBuilder::default().build_and_execute(|| {
		let prices = [3u64, 9, 3, 5, 9];
		let ids: Vec<_> = prices.iter().map(|p| submit(ALICE, spec(1, 1, 1, *p))).collect();
		let order = queue_order();
		assert_eq!(order, vec![ids[1], ids[4], ids[3], ids[0], ids[2]]);
		clear_version_3_index();
		let old: Vec<_> = order.iter().map(|id| (*id, prices[*id as usize])).collect();
		put_version_2_queue(&old);
		StorageVersion::new(2).put::<JobQueue>();

		MigrateV2ToV3::<Test>::on_runtime_upgrade();

		assert_eq!(JobQueue::on_chain_storage_version(), StorageVersion::new(3));
		assert!(!v2::Queue::<Test>::exists());
		assert_eq!(queue_order(), order);
		assert_eq!(crate::migrations::v4::v3::QueuedCount::<Test>::get(), 5);
		// Version 4's step follows, as in the runtime.
		crate::migrations::v4::MigrateV3ToV4::<Test>::on_runtime_upgrade();
		assert_eq!(queue_order(), order);
		assert_eq!(Counters::<Test>::get(), JobCounters { next_job_id: 5, queued: 5 });
		assert_eq!(AgendaCursor::<Test>::get(), 1);
		// Served as before: the dearest first.
		crate::mock::add_provider(100, sp_runtime::Perbill::from_percent(50), offer(), 1);
		run_to_block(2);
		assert_eq!(Jobs::<Test>::get(ids[1]).unwrap().state, JobState::Assigned);

		// Versioned: a second run (the on-chain version is now 3) changes nothing.
		let served = queue_order();
		assert_eq!(served.len(), 4);
		MigrateV2ToV3::<Test>::on_runtime_upgrade();
		assert_eq!(queue_order(), served);
	});
}

/// The pre- and post-upgrade checks pass on a migrated state, and fail when the migration
/// lost a job; an entry without a queued job is dropped.
#[cfg(feature = "try-runtime")]
#[test]
fn try_runtime_checks_hold_for_version_3() {
	use crate::tests::{good, submit};
	use frame_support::traits::UncheckedOnRuntimeUpgrade;
	type Inner = crate::migrations::v3::InnerMigrateV2ToV3<Test>;
	ExtBuilder::default().build().execute_with(|| {
		let a = submit(ALICE, good());
		let b = submit(BOB, good());
		clear_version_3_index();
		put_version_2_queue(&[(a, 5), (b, 5)]);
		let state = Inner::pre_upgrade().unwrap();
		Inner::on_runtime_upgrade();
		assert!(Inner::post_upgrade(state.clone()).is_ok());
		let _ = crate::migrations::v4::v3::Queued::<Test>::take(b);
		assert!(Inner::post_upgrade(state).is_err());

		// A stale entry (no such job) is dropped, the rest migrated.
		clear_version_3_index();
		put_version_2_queue(&[(a, 5), (77, 5)]);
		Inner::on_runtime_upgrade();
		assert_eq!(queue_order(), vec![a]);
	});
}

/// Put the queue's index back in version 3's layout: each job's level and place in `Queued`,
/// its expiry and retry entries without values, the two counters apart.
fn put_version_3_index() {
	use crate::migrations::v4::v3;
	let entries: Vec<_> = Expiring::<Test>::iter().collect();
	for (expires_at, id, entry) in entries {
		v3::Queued::<Test>::insert(id, entry);
		v3::Expiring::<Test>::insert(expires_at, id, ());
	}
	let retries: Vec<_> = Retrying::<Test>::iter_keys().collect();
	for (at, id) in retries {
		v3::Retrying::<Test>::insert(at, id, ());
	}
	let counters = Counters::<Test>::take();
	v3::NextJobId::<Test>::put(counters.next_job_id);
	v3::QueuedCount::<Test>::put(counters.queued);
	StorageVersion::new(3).put::<JobQueue>();
}

/// A queue of ready jobs at two levels and a waiting one (no provider: its try at block 2
/// parked it).
fn mixed_queue() -> Vec<JobId> {
	use crate::tests::{spec, submit};
	let waiting = submit(ALICE, spec(1, 1, 1, 5));
	run_to_block(2);
	assert!(matches!(queued_entry(waiting).map(|q| q.place), Some(Place::Waiting(_))));
	submit(ALICE, spec(1, 1, 1, 3));
	submit(BOB, spec(1, 1, 1, 9));
	queue_order()
}

/// Version 3 → 4: every queued job keeps its level, place and expiry (the index moves into
/// the expiry entries, the waiting job's retry entry names its expiry block), the two
/// counters become one, and the queue is served as before.
#[test]
fn the_version_3_index_moves_into_the_expiry_entries() {
	use crate::migrations::v4::{v3, MigrateV3ToV4};
	ExtBuilder::default().build_and_execute(|| {
		let order = mixed_queue();
		let entries: Vec<_> = Expiring::<Test>::iter().collect();
		let retries: Vec<_> = Retrying::<Test>::iter().collect();
		let counters = Counters::<Test>::get();
		assert_eq!(retries.len(), 1);
		put_version_3_index();
		assert!(Expiring::<Test>::iter().next().is_none(), "version 3's values do not decode");

		MigrateV3ToV4::<Test>::on_runtime_upgrade();

		assert_eq!(JobQueue::on_chain_storage_version(), StorageVersion::new(4));
		assert_eq!(Counters::<Test>::get(), counters);
		assert!(!v3::NextJobId::<Test>::exists() && !v3::QueuedCount::<Test>::exists());
		assert!(v3::Queued::<Test>::iter().next().is_none());
		let mut after: Vec<_> = Expiring::<Test>::iter().collect();
		let mut before = entries.clone();
		after.sort_by_key(|e| e.1);
		before.sort_by_key(|e| e.1);
		assert_eq!(after, before);
		assert_eq!(Retrying::<Test>::iter().collect::<Vec<_>>(), retries);
		assert_eq!(queue_order(), order);
		JobQueue::do_try_state().unwrap();

		// Versioned: a second run (the on-chain version is now 4) changes nothing.
		MigrateV3ToV4::<Test>::on_runtime_upgrade();
		assert_eq!(Counters::<Test>::get(), counters);
		assert_eq!(queue_order(), order);
	});
}

/// The pre- and post-upgrade checks pass on a migrated state and fail when a job lost its
/// place; an expiry entry without an index entry is dropped.
#[cfg(feature = "try-runtime")]
#[test]
fn try_runtime_checks_hold_for_version_4() {
	use crate::migrations::v4::v3;
	use frame_support::traits::UncheckedOnRuntimeUpgrade;
	type Inner = crate::migrations::v4::InnerMigrateV3ToV4<Test>;
	ExtBuilder::default().build().execute_with(|| {
		let order = mixed_queue();
		put_version_3_index();
		let state = Inner::pre_upgrade().unwrap();
		Inner::on_runtime_upgrade();
		assert!(Inner::post_upgrade(state.clone()).is_ok());
		let (expires_at, id, mut entry) = Expiring::<Test>::iter().next().unwrap();
		entry.failed_tries += 1;
		Expiring::<Test>::insert(expires_at, id, entry);
		assert!(Inner::post_upgrade(state).is_err());

		// An expiry entry without an index entry is dropped, the rest migrated.
		entry.failed_tries -= 1;
		Expiring::<Test>::insert(expires_at, id, entry);
		put_version_3_index();
		let _ = v3::Queued::<Test>::take(order[0]);
		Inner::on_runtime_upgrade();
		let expiring: Vec<_> = Expiring::<Test>::iter_keys().map(|(_, id)| id).collect();
		assert_eq!(expiring.len(), order.len() - 1);
		assert!(!expiring.contains(&order[0]));
	});
}

//! Attack tests of issue 12: verified time (lottery tickets) comes only from independently
//! verified work.
//!
//! - A result resting on one replica earns no verified time, even before any trust anchor
//!   exists (it is still paid and its footprint recorded).
//! - A replica run by the job's owner earns no verified time on that job, and does not count
//!   towards the two independent replicas.
//! - No replica is credited more time than it held its slot: the blocks from its assignment to
//!   its commit, at the block time.

use crate::{mock::*, pallet::*, types::*, verdict::merkle_root, Event};
use frame_support::{assert_ok, BoundedVec};
use pallet_job_queue::{Jobs, Params};
use povm_primitives::{JobSpec, JobState, RedundancyPolicy};

const BOND: u64 = 10_000;
/// The job queue's block time in the mock (`MillisecsPerBlock`).
const MS_PER_BLOCK: u64 = 20_000;
/// The jobs' `max_seconds` in milliseconds: the most a reveal may claim.
const MAX_WALL_MS: u64 = 60_000;

fn setup(providers: &[AccountId]) {
	let mut p = Params::<Test>::get();
	p.commit_window = 5;
	p.reveal_window = 5;
	assert_ok!(JobQueue::set_params(RuntimeOrigin::root(), p));
	for who in providers {
		assert_ok!(VmProof::register_provider(RuntimeOrigin::signed(*who), offer(), BOND));
	}
}

fn submit(owner: AccountId, min: u32, max: u32, margin: u32) -> JobId {
	let spec = JobSpec {
		image: povm_primitives::ImageRef::local([0xaa; 32]),
		command: BoundedVec::truncate_from(b"sleep".to_vec()),
		args: BoundedVec::default(),
		env: BoundedVec::default(),
		inputs: BoundedVec::default(),
		resources: Resources { millicores: 1000, memory_mib: 256, max_seconds: 60 },
		price_per_second: 10,
		redundancy: RedundancyPolicy { min_replicas: min, max_replicas: max, margin },
		checkpoint_interval: 0,
	};
	let budget = JobQueue::max_cost(&spec).unwrap();
	assert_ok!(JobQueue::submit_job(RuntimeOrigin::signed(owner), Box::new(spec), budget));
	pallet_job_queue::Counters::<Test>::get().next_job_id - 1
}

/// Submit as `owner` and run one block so the job is assigned; returns it and its providers.
fn assigned(owner: AccountId, min: u32, max: u32, margin: u32) -> (JobId, Vec<AccountId>) {
	let id = submit(owner, min, max, margin);
	run_to_block(System::block_number() + 1);
	let job = Jobs::<Test>::get(id).unwrap();
	assert_eq!(job.state, JobState::Assigned);
	(id, job.providers.to_vec())
}

fn usage(wall_ms: u64) -> Usage {
	Usage { cpu_ms: wall_ms, memory_mib_s: 1_000, wall_ms }
}

/// The same (invented) result for everyone: nothing needs to run to agree on it.
fn reveal_of(who: AccountId, u: Usage) -> (Reveal, BoundedVec<Digest, MaxCp>) {
	let leaves = vec![[7u8; 32]];
	(
		Reveal {
			result_digest: [7u8; 32],
			checkpoints_root: merkle_root(&leaves),
			salt: [who as u8; 32],
			output: BoundedVec::truncate_from(vec![7]),
			usage: u,
		},
		BoundedVec::truncate_from(leaves),
	)
}

type MaxCp = <Test as crate::Config>::MaxCheckpoints;

fn commit(job: JobId, who: AccountId, u: Usage) {
	let (r, _) = reveal_of(who, u);
	let wave = VmProof::wave_of(job, &who).expect("assigned");
	let c = VmProof::commitment_of(job, wave, &r, &who);
	assert_ok!(VmProof::commit_result(RuntimeOrigin::signed(who), job, c));
}

fn reveal(job: JobId, who: AccountId, u: Usage) {
	let (r, l) = reveal_of(who, u);
	assert_ok!(VmProof::reveal_result(RuntimeOrigin::signed(who), job, r, l, None));
}

/// Commit and reveal `u` for every provider in `ps` in the current block.
fn settle(job: JobId, ps: &[AccountId], u: Usage) {
	for p in ps {
		commit(job, *p, u);
	}
	for p in ps {
		reveal(job, *p, u);
	}
	assert_eq!(Jobs::<Test>::get(job).unwrap().state, JobState::Completed);
}

fn paid(job: JobId, who: AccountId) -> u64 {
	let res = pallet_job_queue::Results::<Test>::get(job).unwrap();
	res.payments.iter().find(|(w, _)| *w == who).map(|(_, a)| *a).unwrap_or(0)
}

/// Issue 12's purchase of verified work: the customer registers a provider, submits a job only
/// it fits with `min = max = margin = 1`, and commits and reveals an invented result claiming
/// the whole `max_seconds`. It is paid its own money back, but earns no verified time.
#[test]
fn self_dealing_earns_no_verified_time() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[CUSTOMER]);
		let (id, ps) = assigned(CUSTOMER, 1, 1, 1);
		assert_eq!(ps, vec![CUSTOMER]);
		run_to_block(System::block_number() + 3);
		settle(id, &ps, usage(MAX_WALL_MS));
		assert_eq!(paid(id, CUSTOMER), 600);
		assert_eq!(credited_millis(0, CUSTOMER), 0);
		assert!(credited_list(0).is_empty());
	});
}

/// A result resting on one replica earns no verified time even when the provider is not the
/// customer and no trust anchor exists; it is paid and its footprint recorded.
#[test]
fn one_replica_is_paid_and_counted_but_earns_no_verified_time() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		assert_eq!(Anchors::<Test>::count(), 0);
		let (id, ps) = assigned(CUSTOMER, 1, 1, 1);
		run_to_block(System::block_number() + 3);
		settle(id, &ps, usage(MAX_WALL_MS));
		assert_eq!(paid(id, 10), 600);
		assert_eq!(credited_millis(0, 10), 0);
		assert!(ProviderFootprint::<Test>::get(10).energy_uwh > 0);
		assert!(events().iter().any(|e| matches!(
			e,
			Event::WorkVerified { who: 10, vm_millis: 0, energy_uwh, .. } if *energy_uwh > 0
		)));
	});
}

/// Two colluding providers commit one block after their assignment claiming the whole
/// `max_seconds`: each is credited at most the one block it held the slot.
#[test]
fn colluders_committing_at_once_are_credited_only_the_blocks_held() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(CUSTOMER, 2, 2, 1);
		run_to_block(System::block_number() + 1);
		settle(id, &ps, usage(MAX_WALL_MS));
		for p in ps {
			assert_eq!(credited_millis(0, p), MS_PER_BLOCK);
			// The pay follows the claim (the customer's escrow, see docs/protocol.md).
			assert_eq!(paid(id, p), 600);
		}
	});
}

/// A commit in the very block of the assignment (only the block's author could send one)
/// held the slot for no time and is credited nothing.
#[test]
fn a_commit_in_the_assignment_block_is_credited_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(CUSTOMER, 2, 2, 1);
		settle(id, &ps, usage(MAX_WALL_MS));
		for p in ps {
			assert_eq!(credited_millis(0, p), 0);
		}
	});
}

/// Honest replicas commit after their run, so the blocks they held cover it: they are credited
/// their whole (median) wall time.
#[test]
fn honest_replicas_are_credited_their_run() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(CUSTOMER, 2, 2, 1);
		// 50 s of run: committed three blocks (60 s) later.
		run_to_block(System::block_number() + 3);
		settle(id, &ps, usage(50_000));
		for p in ps.iter() {
			assert_eq!(credited_millis(0, *p), 50_000);
		}
		assert_eq!(credited_list(0), vec![10, 11]);
	});
}

/// The customer's own provider among the agreeing replicas earns nothing on that job, and does
/// not count as the second independent replica: with one other agreeing replica, nobody is
/// credited; with two others, both others are.
#[test]
fn the_customers_own_replica_earns_nothing_and_does_not_count() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[CUSTOMER, 10, 11]);
		let (id, ps) = assigned(CUSTOMER, 3, 3, 1);
		assert!(ps.contains(&CUSTOMER));
		run_to_block(System::block_number() + 3);
		settle(id, &ps, usage(50_000));
		assert_eq!(credited_millis(0, CUSTOMER), 0);
		assert_eq!(paid(id, CUSTOMER), 500);
		assert_eq!(credited_millis(0, 10), 50_000);
		assert_eq!(credited_millis(0, 11), 50_000);
	});
	ExtBuilder::default().build_and_execute(|| {
		setup(&[CUSTOMER, 10]);
		let (id, ps) = assigned(CUSTOMER, 2, 2, 1);
		run_to_block(System::block_number() + 3);
		settle(id, &ps, usage(50_000));
		assert_eq!(credited_millis(0, CUSTOMER), 0);
		assert_eq!(credited_millis(0, 10), 0);
		assert_eq!(paid(id, 10), 500);
	});
}

/// With the runtime's minimum of three eligible providers, the self-dealer's job is not even
/// assigned while its own provider is the only one that fits; once others are eligible the
/// draw is over all of them.
#[test]
fn a_job_only_the_owners_provider_fits_waits_for_more_providers() {
	ExtBuilder::default().build_and_execute(|| {
		pallet_job_queue::MinEligibleProviders::<Test>::put(3);
		setup(&[CUSTOMER]);
		let id = submit(CUSTOMER, 1, 1, 1);
		run_to_block(System::block_number() + 5);
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Queued);
		assert!(Rounds::<Test>::get(id).is_none());
		setup(&[10, 11]);
		// The waiting job is tried again within the longest retry backoff.
		for _ in 0..pallet_job_queue::MAX_RETRY_BACKOFF {
			if Jobs::<Test>::get(id).unwrap().state != JobState::Queued {
				break;
			}
			run_to_block(System::block_number() + 1);
		}
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!(job.state, JobState::Assigned);
		assert_eq!(job.providers.len(), 1);
	});
}

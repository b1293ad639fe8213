//! Attack tests of issue 12 on the draw: every eligible provider is in it, weighted by its free
//! slots (declared capacity), not by reputation and not by how many accounts it registered.

use crate::{mock::*, pallet::*, types::*};
use frame_support::{assert_noop, assert_ok, traits::Get, BoundedVec};
use povm_primitives::RedundancyPolicy;
use sp_runtime::{DispatchError, Perbill};

/// A customer rich enough for the statistical tests' many jobs.
const RICH: AccountId = 7;

fn spec(min: u32) -> JobSpecOf<Test> {
	JobSpec {
		image: povm_primitives::ImageRef::local([0; 32]),
		command: BoundedVec::truncate_from(b"/bin/true".to_vec()),
		args: BoundedVec::default(),
		env: BoundedVec::default(),
		inputs: BoundedVec::default(),
		resources: Resources { millicores: 500, memory_mib: 128, max_seconds: 10 },
		price_per_second: 1,
		redundancy: RedundancyPolicy { min_replicas: min, max_replicas: min, margin: 1 },
		checkpoint_interval: 0,
	}
}

fn offer() -> Resources {
	Resources { millicores: 1000, memory_mib: 1024, max_seconds: 3600 }
}

/// Free every slot of the mock registry (as if every job had settled).
fn free_all_slots() {
	PROVIDERS.with(|p| p.borrow_mut().iter_mut().for_each(|x| x.used = 0));
}

/// Submit `jobs` one-replica jobs one at a time, each assigned in its own block with every slot
/// free; returns how often each provider was drawn.
fn draws(jobs: u32) -> Vec<(AccountId, u32)> {
	let mut count: Vec<(AccountId, u32)> = Vec::new();
	for _ in 0..jobs {
		let s = spec(1);
		let budget = JobQueue::max_cost(&s).unwrap();
		assert_ok!(JobQueue::submit_job(RuntimeOrigin::signed(RICH), Box::new(s), budget));
		let id = Counters::<Test>::get().next_job_id - 1;
		run_to_block(System::block_number() + 1);
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!(job.state, JobState::Assigned);
		for who in job.providers.iter() {
			match count.iter_mut().find(|(w, _)| w == who) {
				Some((_, n)) => *n += 1,
				None => count.push((*who, 1)),
			}
		}
		free_all_slots();
	}
	count
}

fn drawn(count: &[(AccountId, u32)], who: AccountId) -> u32 {
	count.iter().find(|(w, _)| *w == who).map(|(_, n)| *n).unwrap_or(0)
}

/// 80 equal providers, the newcomer registered last (after 64 and more others): over 1 600
/// jobs it is drawn about its share of 20 (the draws come from a fixed seed sequence, so the
/// loose bound cannot flake). Before issue 12 only the first `MaxCandidates` eligible providers
/// in registration order were in the draw and the newcomer was never drawn.
#[test]
fn a_provider_registered_after_64_others_is_drawn_its_share() {
	ExtBuilder::default().endow(RICH, 10_000_000).build_and_execute(|| {
		for who in 100..180u64 {
			add_provider(who, Perbill::from_percent(50), offer(), 2);
		}
		let newcomer = 179;
		let count = draws(1_600);
		let n = drawn(&count, newcomer);
		assert!((8..=40).contains(&n), "newcomer drawn {n} times, expected about 20");
		// Nobody is starved: every provider was drawn.
		assert_eq!(count.len(), 80);
	});
}

/// One provider declares 8 slots under one account; another splits the same 8 slots into
/// eight one-slot accounts. Each side gets about half of the draws: splitting gains nothing.
/// Before issue 12 the draw weighted accounts (by reputation), and the split side took eight
/// ninths.
#[test]
fn splitting_into_accounts_gains_no_share() {
	ExtBuilder::default().endow(RICH, 10_000_000).build_and_execute(|| {
		add_provider(100, Perbill::from_percent(50), offer(), 8);
		for who in 200..208u64 {
			add_provider(who, Perbill::from_percent(50), offer(), 1);
		}
		let count = draws(800);
		let whole = drawn(&count, 100);
		assert!((320..=480).contains(&whole), "whole provider drawn {whole} of 800, expected 400");
	});
}

/// Reputation does not weigh the draw: a provider with a perfect record and one with none, the
/// same slots, are drawn about equally often.
#[test]
fn reputation_does_not_weigh_the_draw() {
	ExtBuilder::default().endow(RICH, 10_000_000).build_and_execute(|| {
		add_provider(100, Perbill::from_percent(100), offer(), 2);
		add_provider(101, Perbill::zero(), offer(), 2);
		let count = draws(600);
		let top = drawn(&count, 100);
		assert!((240..=360).contains(&top), "top provider drawn {top} of 600, expected 300");
	});
}

/// Free slots, not declared ones: a provider whose slots are all but one busy weighs one.
#[test]
fn busy_slots_do_not_weigh() {
	ExtBuilder::default().endow(RICH, 10_000_000).build_and_execute(|| {
		add_provider(100, Perbill::from_percent(50), offer(), 1);
		add_provider(101, Perbill::from_percent(50), offer(), 4);
		let candidates = mock_candidates(&spec(1).resources, povm_primitives::Arch::X86_64);
		assert_eq!(candidates, vec![(100, 1), (101, 4)]);
		PROVIDERS.with(|p| p.borrow_mut()[1].used = 3);
		let candidates = mock_candidates(&spec(1).resources, povm_primitives::Arch::X86_64);
		assert_eq!(candidates, vec![(100, 1), (101, 1)]);
	});
}

/// A job waits while fewer than `MinEligibleProviders` providers are eligible for it, and is
/// assigned once enough are; a job waiting for more providers does not hold back a cheaper one
/// behind it that has them.
#[test]
fn a_job_waits_for_the_minimum_of_eligible_providers() {
	ExtBuilder::default().build_and_execute(|| {
		MinEligibleProviders::<Test>::put(3);
		add_provider(100, Perbill::from_percent(50), offer(), 2);
		add_provider(101, Perbill::from_percent(50), offer(), 2);
		let s = spec(1);
		let budget = JobQueue::max_cost(&s).unwrap();
		assert_ok!(JobQueue::submit_job(RuntimeOrigin::signed(ALICE), Box::new(s), budget));
		run_to_block(System::block_number() + 3);
		assert_eq!(Jobs::<Test>::get(0).unwrap().state, JobState::Queued);
		add_provider(102, Perbill::from_percent(50), offer(), 2);
		run_to_block(System::block_number() + 1);
		assert_eq!(Jobs::<Test>::get(0).unwrap().state, JobState::Assigned);
	});
}

#[test]
fn a_waiting_job_does_not_block_the_queue() {
	ExtBuilder::default().build_and_execute(|| {
		MinEligibleProviders::<Test>::put(3);
		// Only one provider fits the big job; three fit the small one.
		let big = Resources { millicores: 4000, memory_mib: 4096, max_seconds: 3600 };
		add_provider(100, Perbill::from_percent(50), big, 2);
		add_provider(101, Perbill::from_percent(50), offer(), 2);
		add_provider(102, Perbill::from_percent(50), offer(), 2);
		let mut s = spec(1);
		s.resources.millicores = 3000;
		s.price_per_second = 9;
		let budget = JobQueue::max_cost(&s).unwrap();
		assert_ok!(JobQueue::submit_job(RuntimeOrigin::signed(ALICE), Box::new(s), budget));
		let s = spec(1);
		let budget = JobQueue::max_cost(&s).unwrap();
		assert_ok!(JobQueue::submit_job(RuntimeOrigin::signed(ALICE), Box::new(s), budget));
		// The big job is served first (higher price) and waits; the small one is assigned.
		run_to_block(System::block_number() + 1);
		assert_eq!(Jobs::<Test>::get(0).unwrap().state, JobState::Queued);
		assert_eq!(Jobs::<Test>::get(1).unwrap().state, JobState::Assigned);
		assert_eq!(queue_order(), vec![0]);
	});
}

/// A job needs `max(MinEligibleProviders, min_replicas)` eligible providers: with the minimum
/// at one, a two-replica job still waits for two.
#[test]
fn min_replicas_above_the_minimum_still_count() {
	ExtBuilder::default().build_and_execute(|| {
		MinEligibleProviders::<Test>::put(1);
		add_provider(100, Perbill::from_percent(50), offer(), 2);
		let s = spec(2);
		let budget = JobQueue::max_cost(&s).unwrap();
		assert_ok!(JobQueue::submit_job(RuntimeOrigin::signed(ALICE), Box::new(s), budget));
		run_to_block(System::block_number() + 1);
		assert_eq!(Jobs::<Test>::get(0).unwrap().state, JobState::Queued);
		add_provider(101, Perbill::from_percent(50), offer(), 2);
		run_to_block(System::block_number() + 1);
		assert_eq!(Jobs::<Test>::get(0).unwrap().state, JobState::Assigned);
	});
}

/// `MinEligibleProviders` is a chain parameter: the genesis config sets it, `0` stands for the
/// production default (3), and a chain that never stored it (one upgraded from before it was
/// stored) reads 1, the constant it ran with.
#[test]
fn the_genesis_config_sets_the_minimum_of_eligible_providers() {
	let at_genesis = |min_eligible_providers| {
		use sp_runtime::BuildStorage;
		let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		crate::GenesisConfig::<Test> { min_eligible_providers, ..Default::default() }
			.assimilate_storage(&mut t)
			.unwrap();
		sp_io::TestExternalities::new(t).execute_with(MinEligibleProviders::<Test>::get)
	};
	assert_eq!(at_genesis(2), 2);
	assert_eq!(at_genesis(0), crate::DEFAULT_MIN_ELIGIBLE_PROVIDERS);
	sp_io::TestExternalities::new(Default::default())
		.execute_with(|| assert_eq!(MinEligibleProviders::<Test>::get(), 1));
}

/// Root sets `MinEligibleProviders` within `1..=MaxCandidates`; anything else is refused with a
/// named error and changes nothing; the new value applies to the next assignment try.
#[test]
fn root_sets_the_minimum_of_eligible_providers_within_bounds() {
	ExtBuilder::default().build_and_execute(|| {
		let before = MinEligibleProviders::<Test>::get();
		assert_noop!(
			JobQueue::set_min_eligible_providers(RuntimeOrigin::signed(ALICE), 2),
			DispatchError::BadOrigin
		);
		let max = <Test as crate::Config>::MaxCandidates::get();
		for bad in [0, max + 1, u32::MAX] {
			assert_noop!(
				JobQueue::set_min_eligible_providers(RuntimeOrigin::root(), bad),
				Error::<Test>::MinEligibleProvidersOutOfRange
			);
		}
		assert_eq!(MinEligibleProviders::<Test>::get(), before);
		assert_ok!(JobQueue::set_min_eligible_providers(RuntimeOrigin::root(), max));
		assert_eq!(MinEligibleProviders::<Test>::get(), max);
		assert_eq!(events().last(), Some(&Event::MinEligibleProvidersSet { min: max }));
		// Three needed, two registered: the job waits; lowered to two, it is assigned.
		assert_ok!(JobQueue::set_min_eligible_providers(RuntimeOrigin::root(), 3));
		add_provider(100, Perbill::from_percent(50), offer(), 2);
		add_provider(101, Perbill::from_percent(50), offer(), 2);
		let s = spec(1);
		let budget = JobQueue::max_cost(&s).unwrap();
		assert_ok!(JobQueue::submit_job(RuntimeOrigin::signed(ALICE), Box::new(s), budget));
		run_to_block(System::block_number() + 2);
		assert_eq!(Jobs::<Test>::get(0).unwrap().state, JobState::Queued);
		assert_ok!(JobQueue::set_min_eligible_providers(RuntimeOrigin::root(), 2));
		run_to_block(System::block_number() + crate::MAX_RETRY_BACKOFF as u64);
		assert_eq!(Jobs::<Test>::get(0).unwrap().state, JobState::Assigned);
	});
}

/// The draw matches the image's architecture against the offer: an arm64 job is drawn only
/// among arm64 providers, and waits while there are none, whatever x86-64 capacity is free.
#[test]
fn the_draw_matches_the_images_architecture() {
	ExtBuilder::default().endow(RICH, 10_000_000).build_and_execute(|| {
		for who in 100..103 {
			add_provider(who, Perbill::from_percent(50), offer(), 4);
		}
		let mut arm = spec(2);
		arm.image.arch = povm_primitives::Arch::Aarch64;
		let budget = JobQueue::max_cost(&arm).unwrap();
		assert_ok!(JobQueue::submit_job(
			RuntimeOrigin::signed(RICH),
			Box::new(arm.clone()),
			budget
		));
		let job = Counters::<Test>::get().next_job_id - 1;
		run_to_block(System::block_number() + 3);
		assert_eq!(Jobs::<Test>::get(job).unwrap().state, JobState::Queued);
		for who in 200..203 {
			add_provider_on(who, povm_primitives::Arch::Aarch64, offer(), 4);
		}
		run_to_block(System::block_number() + 3);
		let drawn = Jobs::<Test>::get(job).unwrap().providers.into_inner();
		assert_eq!(drawn.len(), 2);
		assert!(drawn.iter().all(|who| (200..203).contains(who)), "{drawn:?}");
	});
}

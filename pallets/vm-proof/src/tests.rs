//! Tests of vm-proof together with the job queue.

use crate::{mock::*, pallet::*, types::*, verdict::merkle_root, Error, Event};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
	BoundedVec,
};
use pallet_job_queue::{Jobs, Params};
use povm_primitives::{
	AssignmentPhase, JobSpec, JobState, ProviderRegistry, RedundancyPolicy, VerifiedWork,
};
use sp_runtime::{DispatchError, Perbill};

const BOND: u64 = 10_000;

fn offer() -> VmOffer {
	VmOffer {
		millicores: 2000,
		memory_mib: 2048,
		arch: Arch::X86_64,
		slots: 2,
		grid_intensity: 400,
		pue_permille: 1200,
		core_milliwatts: 10_000,
	}
}

fn register(who: AccountId) {
	assert_ok!(VmProof::register_provider(RuntimeOrigin::signed(who), offer(), BOND));
}

fn setup(providers: &[AccountId]) {
	let mut p = Params::<Test>::get();
	p.commit_window = 5;
	p.reveal_window = 5;
	assert_ok!(JobQueue::set_params(RuntimeOrigin::root(), p));
	for who in providers {
		register(*who);
	}
}

fn submit(min: u32, max: u32, margin: u32) -> JobId {
	let mut image = b"sha256:".to_vec();
	image.extend(core::iter::repeat(b'a').take(64));
	let spec = JobSpec {
		image: BoundedVec::truncate_from(image),
		command: BoundedVec::truncate_from(b"flip".to_vec()),
		args: BoundedVec::default(),
		env: BoundedVec::default(),
		input: None,
		resources: Resources { millicores: 1000, memory_mib: 256, max_seconds: 60 },
		price_per_second: 10,
		redundancy: RedundancyPolicy { min_replicas: min, max_replicas: max, margin },
		checkpoint_interval: 5,
	};
	let budget = JobQueue::max_cost(&spec).unwrap();
	assert_ok!(JobQueue::submit_job(RuntimeOrigin::signed(CUSTOMER), Box::new(spec), budget));
	pallet_job_queue::NextJobId::<Test>::get() - 1
}

/// Submit and run one block so the job is assigned; returns the job and its providers.
fn assigned(min: u32, max: u32, margin: u32) -> (JobId, Vec<AccountId>) {
	let id = submit(min, max, margin);
	run_to_block(System::block_number() + 1);
	let job = Jobs::<Test>::get(id).unwrap();
	assert_eq!(job.state, JobState::Assigned);
	(id, job.providers.to_vec())
}

fn leaves(tag: u8, n: usize) -> Vec<Digest> {
	(0..n)
		.map(|i| [if i >= 2 { tag } else { 0 }; 32])
		.map(|mut d| {
			d[31] = 0;
			d
		})
		.enumerate()
		.map(|(i, mut d)| {
			d[0] = i as u8;
			d
		})
		.collect()
}

fn result(tag: u8) -> (Digest, Vec<Digest>) {
	([tag; 32], leaves(tag, 4))
}

fn usage(wall_ms: u64) -> Usage {
	Usage { cpu_ms: wall_ms, memory_mib_s: 10_240, wall_ms }
}

/// Commit `who` to result `tag` with usage `u` (what [`reveal`] reveals).
fn commit(job: JobId, who: AccountId, tag: u8, u: Usage) {
	let (r, _) = reveal_of(who, tag, u);
	let wave = VmProof::wave_of(job, &who).expect("assigned");
	let c = VmProof::commitment_of(job, wave, &r, &who);
	assert_ok!(VmProof::commit_result(RuntimeOrigin::signed(who), job, c));
}

fn reveal_of(who: AccountId, tag: u8, u: Usage) -> (Reveal, BoundedVec<Digest, ConstMaxCp>) {
	let (digest, l) = result(tag);
	(
		Reveal {
			result_digest: digest,
			checkpoints_root: merkle_root(&l),
			salt: [who as u8; 32],
			output: BoundedVec::truncate_from(vec![tag]),
			usage: u,
		},
		BoundedVec::truncate_from(l),
	)
}

type ConstMaxCp = <Test as crate::Config>::MaxCheckpoints;

fn reveal(job: JobId, who: AccountId, tag: u8, u: Usage) {
	let (r, l) = reveal_of(who, tag, u);
	assert_ok!(VmProof::reveal_result(RuntimeOrigin::signed(who), job, r, l));
}

fn bond_of(who: AccountId) -> u64 {
	Providers::<Test>::get(who).unwrap().bond
}

// ---------- registry ----------

#[test]
fn register_provider_holds_bond() {
	ExtBuilder::default().build_and_execute(|| {
		register(10);
		assert_eq!(Balances::balance_on_hold(&HoldReason::ProviderBond.into(), &10), BOND);
		let info = Providers::<Test>::get(10).unwrap();
		assert_eq!(info.status, ProviderStatus::Active);
		assert_eq!(ProviderCount::<Test>::get(), 1);
		assert_eq!(ActiveProviders::<Test>::get().to_vec(), vec![10]);
		assert_eq!(
			events().last(),
			Some(&Event::ProviderRegistered { who: 10, offer: offer(), bond: BOND })
		);
	});
}

#[test]
fn register_refuses_bad_offers() {
	ExtBuilder::default().build_and_execute(|| {
		let bad = [
			VmOffer { millicores: 0, ..offer() },
			VmOffer { memory_mib: 0, ..offer() },
			VmOffer { slots: 0, ..offer() },
			VmOffer { slots: 5, ..offer() },
			VmOffer { pue_permille: 999, ..offer() },
			VmOffer { core_milliwatts: 0, ..offer() },
			VmOffer { grid_intensity: 0, ..offer() },
			VmOffer { grid_intensity: MAX_GRID_INTENSITY + 1, ..offer() },
			VmOffer { pue_permille: MAX_PUE_PERMILLE + 1, ..offer() },
			VmOffer { core_milliwatts: MAX_CORE_MILLIWATTS + 1, ..offer() },
			VmOffer { millicores: povm_primitives::MAX_MILLICORES + 1, ..offer() },
			VmOffer { memory_mib: povm_primitives::MAX_MEMORY_MIB + 1, ..offer() },
		];
		for o in bad {
			assert_noop!(
				VmProof::register_provider(RuntimeOrigin::signed(10), o, BOND),
				Error::<Test>::BadOffer
			);
		}
	});
}

#[test]
fn register_refuses_low_bond_twice_and_unfunded() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			VmProof::register_provider(RuntimeOrigin::signed(10), offer(), 999),
			Error::<Test>::BondTooLow
		);
		assert_noop!(
			VmProof::register_provider(RuntimeOrigin::signed(10), offer(), 1_000_000),
			Error::<Test>::InsufficientBalance
		);
		register(10);
		assert_noop!(
			VmProof::register_provider(RuntimeOrigin::signed(10), offer(), BOND),
			Error::<Test>::AlreadyRegistered
		);
		assert_noop!(
			VmProof::register_provider(RuntimeOrigin::none(), offer(), BOND),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn update_offer_checks_registration_and_offer() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			VmProof::update_offer(RuntimeOrigin::signed(10), offer()),
			Error::<Test>::NotRegistered
		);
		register(10);
		assert_noop!(
			VmProof::update_offer(RuntimeOrigin::signed(10), VmOffer { slots: 0, ..offer() }),
			Error::<Test>::BadOffer
		);
		let new = VmOffer { grid_intensity: 50, ..offer() };
		assert_ok!(VmProof::update_offer(RuntimeOrigin::signed(10), new));
		assert_eq!(Providers::<Test>::get(10).unwrap().offer, new);
	});
}

#[test]
fn update_offer_refuses_fewer_slots_than_jobs_held() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		assigned(1, 1, 1);
		submit(1, 1, 1);
		run_to_block(System::block_number() + 1);
		assert_noop!(
			VmProof::update_offer(RuntimeOrigin::signed(10), VmOffer { slots: 1, ..offer() }),
			Error::<Test>::SlotsInUse
		);
	});
}

#[test]
fn heartbeat_keeps_provider_live() {
	ExtBuilder::default().build_and_execute(|| {
		register(10);
		let r = Resources { millicores: 1000, memory_mib: 256, max_seconds: 60 };
		Epoch::set(1);
		assert_eq!(VmProof::candidates(&r, 10).len(), 1);
		Epoch::set(2);
		assert!(VmProof::candidates(&r, 10).is_empty());
		assert_ok!(VmProof::heartbeat(RuntimeOrigin::signed(10)));
		assert_eq!(Providers::<Test>::get(10).unwrap().last_heartbeat, 2);
		assert_eq!(VmProof::candidates(&r, 10).len(), 1);
		assert_eq!(events().last(), Some(&Event::Heartbeat { who: 10, epoch: 2 }));
		assert_noop!(VmProof::heartbeat(RuntimeOrigin::signed(11)), Error::<Test>::NotRegistered);
	});
}

#[test]
fn candidates_filter_fit_and_capacity() {
	ExtBuilder::default().build_and_execute(|| {
		register(10);
		let big = Resources { millicores: 4000, memory_mib: 256, max_seconds: 60 };
		assert!(VmProof::candidates(&big, 10).is_empty());
		let small = Resources { millicores: 100, memory_mib: 100, max_seconds: 60 };
		assert_eq!(VmProof::candidates(&small, 10), vec![(10, Perbill::from_rational(1u32, 2u32))]);
	});
}

#[test]
fn unregister_refused_while_assigned() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		assigned(1, 1, 1);
		assert_noop!(VmProof::unregister(RuntimeOrigin::signed(10)), Error::<Test>::HasAssignments);
	});
}

#[test]
fn unregister_then_withdraw_after_delay() {
	ExtBuilder::default().build_and_execute(|| {
		register(10);
		assert_ok!(VmProof::unregister(RuntimeOrigin::signed(10)));
		assert!(ActiveProviders::<Test>::get().is_empty());
		assert_noop!(VmProof::unregister(RuntimeOrigin::signed(10)), Error::<Test>::NotActive);
		assert_noop!(
			VmProof::withdraw_bond(RuntimeOrigin::signed(10)),
			Error::<Test>::StillUnbonding
		);
		run_to_block(11);
		assert_ok!(VmProof::withdraw_bond(RuntimeOrigin::signed(10)));
		assert_eq!(Balances::balance(&10), 100_000);
		assert!(Providers::<Test>::get(10).is_none());
		assert_eq!(ProviderCount::<Test>::get(), 0);
		assert_eq!(events().last(), Some(&Event::BondWithdrawn { who: 10, amount: BOND }));
	});
}

#[test]
fn withdraw_refused_while_active() {
	ExtBuilder::default().build_and_execute(|| {
		register(10);
		assert_noop!(VmProof::withdraw_bond(RuntimeOrigin::signed(10)), Error::<Test>::NotActive);
		assert_noop!(
			VmProof::withdraw_bond(RuntimeOrigin::signed(11)),
			Error::<Test>::NotRegistered
		);
	});
}

// ---------- commit / reveal ----------

#[test]
fn commit_refused_for_non_assignees_and_unknown_jobs() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(1, 1, 1);
		let other = if ps[0] == 10 { 11 } else { 10 };
		assert_noop!(
			VmProof::commit_result(RuntimeOrigin::signed(other), id, [0; 32]),
			Error::<Test>::NotAssigned
		);
		assert_noop!(
			VmProof::commit_result(RuntimeOrigin::signed(ps[0]), 99, [0; 32]),
			Error::<Test>::NoRound
		);
	});
}

#[test]
fn commit_twice_refused() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(2, 2, 1);
		commit(id, ps[0], 1, usage(1_000));
		assert_noop!(
			VmProof::commit_result(RuntimeOrigin::signed(ps[0]), id, [0; 32]),
			Error::<Test>::AlreadyCommitted
		);
	});
}

#[test]
fn commit_after_deadline_refused() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(2, 2, 1);
		// Assigned at block 2: commit deadline 7.
		System::set_block_number(8);
		assert_noop!(
			VmProof::commit_result(RuntimeOrigin::signed(ps[0]), id, [0; 32]),
			Error::<Test>::CommitDeadlinePassed
		);
	});
}

#[test]
fn last_commit_opens_reveals() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(2, 2, 1);
		commit(id, ps[0], 1, usage(1_000));
		assert_eq!(Rounds::<Test>::get(id).unwrap().phase, Phase::Committing);
		let (r, l) = reveal_of(ps[0], 1, usage(1000));
		assert_noop!(
			VmProof::reveal_result(RuntimeOrigin::signed(ps[0]), id, r, l),
			Error::<Test>::CommitsNotClosed
		);
		commit(id, ps[1], 1, usage(1_000));
		assert_eq!(Rounds::<Test>::get(id).unwrap().phase, Phase::Revealing { deadline: 7 });
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Revealing);
		assert!(queue_events()
			.contains(&pallet_job_queue::Event::JobRevealing { job: id, reveal_deadline: 7 }));
	});
}

#[test]
fn reveal_not_matching_commit_refused() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(1, 1, 1);
		commit(id, ps[0], 1, usage(1_000));
		let (r, l) = reveal_of(ps[0], 2, usage(1000));
		assert_noop!(
			VmProof::reveal_result(RuntimeOrigin::signed(ps[0]), id, r, l),
			Error::<Test>::RevealMismatch
		);
		// Same result, wrong salt.
		let (mut r, l) = reveal_of(ps[0], 1, usage(1000));
		r.salt = [0xff; 32];
		assert_noop!(
			VmProof::reveal_result(RuntimeOrigin::signed(ps[0]), id, r, l),
			Error::<Test>::RevealMismatch
		);
	});
}

#[test]
fn reveal_with_wrong_leaves_refused() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(1, 1, 1);
		commit(id, ps[0], 1, usage(1_000));
		let (r, mut l) = reveal_of(ps[0], 1, usage(1000));
		l[0] = [0xee; 32];
		assert_noop!(
			VmProof::reveal_result(RuntimeOrigin::signed(ps[0]), id, r, l),
			Error::<Test>::CheckpointsMismatch
		);
	});
}

#[test]
fn reveal_from_others_refused() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(1, 1, 1);
		let other = if ps[0] == 10 { 11 } else { 10 };
		commit(id, ps[0], 1, usage(1_000));
		let (r, l) = reveal_of(ps[0], 1, usage(1000));
		assert_noop!(
			VmProof::reveal_result(RuntimeOrigin::signed(other), id, r, l),
			Error::<Test>::NotAssigned
		);
	});
}

#[test]
fn reveal_after_deadline_refused() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(2, 2, 1);
		commit(id, ps[0], 1, usage(1_000));
		commit(id, ps[1], 1, usage(1_000));
		System::set_block_number(8);
		let (r, l) = reveal_of(ps[0], 1, usage(1000));
		assert_noop!(
			VmProof::reveal_result(RuntimeOrigin::signed(ps[0]), id, r, l),
			Error::<Test>::RevealDeadlinePassed
		);
	});
}

// ---------- verdicts and settlement ----------

#[test]
fn single_replica_is_accepted_paid_and_refunded() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		let (id, ps) = assigned(1, 1, 1);
		let before = Balances::balance(&CUSTOMER);
		commit(id, ps[0], 1, usage(20_000));
		reveal(id, ps[0], 1, usage(20_000));
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!(job.state, JobState::Completed);
		// 20 s × 10 = 200 paid of 600; 400 refunded.
		assert_eq!(Balances::balance(&10), 100_000 - BOND + 200);
		assert_eq!(Balances::balance(&CUSTOMER), before + 400);
		assert!(Rounds::<Test>::get(id).is_none());
		assert!(ProviderJobs::<Test>::get(10).is_empty());
		let view = JobQueue::job_view(id).unwrap();
		assert_eq!(view.result.unwrap().output.to_vec(), vec![1u8]);
	});
}

#[test]
fn energy_and_carbon_follow_green_algorithms() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		let (id, ps) = assigned(1, 1, 1);
		commit(id, ps[0], 1, usage(20_000));
		// 20 000 core-ms × 10 W + 10 GiB·s × 0.3725 W = 203.725 J; × PUE 1.2 = 244.47 J.
		reveal(id, ps[0], 1, usage(20_000));
		let fp = FootprintTotal { energy_uwh: 67_908, carbon_ug: 27_163 };
		assert_eq!(ProviderFootprint::<Test>::get(10), fp);
		assert_eq!(EpochFootprint::<Test>::get(0), fp);
		assert!(queue_events().iter().any(|e| matches!(
			e,
			pallet_job_queue::Event::JobCompleted { energy_uwh: 67_908, carbon_ug: 27_163, .. }
		)));
		assert!(events().iter().any(|e| matches!(
			e,
			Event::WorkVerified { who: 10, vm_millis: 20_000, energy_uwh: 67_908, .. }
		)));
	});
}

#[test]
fn verified_work_and_reputation_are_recorded() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		Epoch::set(3);
		assert_ok!(VmProof::heartbeat(RuntimeOrigin::signed(10)));
		let (id, ps) = assigned(1, 1, 1);
		commit(id, ps[0], 1, usage(20_000));
		reveal(id, ps[0], 1, usage(20_000));
		assert_eq!(VmProof::verified_vm_millis(3, &10), 20_000);
		assert_eq!(VmProof::providers_with_work(3), vec![10]);
		// (1 + 1) / (1 + 2).
		assert_eq!(VmProof::reputation(&10), Perbill::from_rational(2u32, 3u32));
	});
}

#[test]
fn usage_claims_above_median_are_capped() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12]);
		let (id, ps) = assigned(3, 3, 1);
		for (p, ms) in ps.iter().zip([10_000, 20_000, 50_000]) {
			commit(id, *p, 1, usage(ms));
		}
		reveal(id, ps[0], 1, usage(10_000));
		reveal(id, ps[1], 1, usage(20_000));
		reveal(id, ps[2], 1, usage(50_000));
		// Median 20 s: paid 100, 200, 200.
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!(job.state, JobState::Completed);
		let res = pallet_job_queue::Results::<Test>::get(id).unwrap();
		let paid: Vec<_> = res.payments.iter().map(|(_, a)| *a).collect();
		assert_eq!(paid, vec![100, 200, 200]);
		assert_eq!(res.refunded, 1800 - 500);
		assert_eq!(res.usage.wall_ms, 20_000);
	});
}

/// A customer's own provider drawn beside an honest one claims no time at all: with the lower
/// median as the pay cap the honest replica was paid nothing (free compute for the customer).
/// The pay cap is the upper median, so the low claim cuts only the claimant's own pay, while
/// verified time (lottery tickets) still follows the lower median.
#[test]
fn an_under_claiming_replica_cuts_only_its_own_pay() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(2, 2, 2);
		let (shill, honest) = (ps[0], ps[1]);
		commit(id, shill, 1, usage(0));
		commit(id, honest, 1, usage(20_000));
		reveal(id, shill, 1, usage(0));
		reveal(id, honest, 1, usage(20_000));
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
		let res = pallet_job_queue::Results::<Test>::get(id).unwrap();
		let paid: Vec<_> = res.payments.iter().map(|(w, a)| (*w, *a)).collect();
		assert_eq!(paid, vec![(shill, 0), (honest, 200)]);
		// Tickets: neither replica is credited more than the lower median (0 ms).
		assert_eq!(VerifiedMillis::<Test>::get(0, honest), 0);
	});
}

#[test]
fn divergence_draws_another_replica_then_outvotes_the_wrong_one() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12]);
		let (id, ps) = assigned(2, 3, 1);
		commit(id, ps[0], 1, usage(10_000));
		commit(id, ps[1], 2, usage(10_000));
		reveal(id, ps[0], 1, usage(10_000));
		reveal(id, ps[1], 2, usage(10_000));
		// 1 : 1 does not reach margin 1: a third provider is drawn.
		assert!(events().contains(&Event::MoreReplicasRequested { job: id, added: 1 }));
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!(job.state, JobState::Assigned);
		assert_eq!(job.providers.len(), 3);
		let third = job.providers[2];
		assert!(!ps.contains(&third));
		commit(id, third, 1, usage(10_000));
		reveal(id, third, 1, usage(10_000));
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
		// 2 : 1 is not a clear majority: the wrong one is unpaid, keeps its bond and its
		// reputation drops to 1/3.
		assert_eq!(bond_of(ps[1]), BOND);
		assert_eq!(Balances::balance(&ps[1]), 100_000 - BOND);
		assert_eq!(VmProof::reputation(&ps[1]), Perbill::from_rational(1u32, 3u32));
		assert_eq!(VmProof::reputation(&ps[0]), Perbill::from_rational(2u32, 3u32));
		// Leaves differ from index 2 on.
		assert!(events().iter().any(|e| matches!(e,
			Event::ResultAccepted { first_divergence: Some(2), dissenting, .. } if dissenting.to_vec() == vec![ps[1]])));
		assert!(events().contains(&Event::DissentNotSlashed {
			job: id,
			who: ps[1],
			agreeing: 2,
			group: 1,
			reputation: Perbill::from_rational(1u32, 3u32),
		}));
	});
}

#[test]
fn divergence_at_max_replicas_is_disputed_and_both_revealers_paid() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12]);
		let (id, ps) = assigned(2, 2, 1);
		let deposit = Jobs::<Test>::get(id).unwrap().deposit;
		commit(id, ps[0], 1, usage(10_000));
		commit(id, ps[1], 2, usage(10_000));
		reveal(id, ps[0], 1, usage(10_000));
		// A claim above `max_seconds` (60 s) is paid as 60 s.
		reveal(id, ps[1], 2, usage(90_000));
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Disputed);
		// 100 + 600 paid of the 1 200 escrow.
		assert_eq!(Balances::balance(&ps[0]), 100_000 - BOND + 100);
		assert_eq!(Balances::balance(&ps[1]), 100_000 - BOND + 600);
		assert_eq!(Balances::balance(&CUSTOMER), 1_000_000 - deposit - 700);
		assert!(events().contains(&Event::ResultDisputed {
			job: id,
			first_divergence: Some(2),
			paid: BoundedVec::truncate_from(vec![ps[0], ps[1]]),
		}));
		assert!(queue_events().contains(&pallet_job_queue::Event::JobDisputed {
			job: id,
			first_divergence: Some(2),
			payments: BoundedVec::truncate_from(vec![(ps[0], 100), (ps[1], 600)]),
			refunded: 500,
		}));
		// Nobody is slashed on a dispute.
		assert_eq!(bond_of(ps[0]), BOND);
		assert_eq!(bond_of(ps[1]), BOND);
	});
}

// ---------- non-deterministic jobs ----------

/// Every member of a fresh `n`-replica job commits and reveals `tags[i]` with `walls[i]` ms.
fn run_split(n: u32, tags: &[u8], walls: &[u64]) -> (JobId, Vec<AccountId>) {
	let providers: Vec<AccountId> = (10..10 + n as u64).collect();
	setup(&providers);
	let (id, ps) = assigned(n, n, 1);
	for ((p, t), w) in ps.iter().zip(tags).zip(walls) {
		commit(id, *p, *t, usage(*w));
	}
	for ((p, t), w) in ps.iter().zip(tags).zip(walls) {
		reveal(id, *p, *t, usage(*w));
	}
	(id, ps)
}

#[test]
fn all_different_results_are_disputed_and_every_revealer_is_paid() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, ps) = run_split(3, &[1, 2, 3], &[10_000, 20_000, 50_000]);
		let deposit = Jobs::<Test>::get(id).unwrap().deposit;
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Disputed);
		// Each paid its own time, capped at the revealers' (upper) median of 20 s, at 10 per
		// second: 100, 200, 200 out of the 1 800 escrow; the customer gets 1 300 back.
		let paid: Vec<u64> = ps.iter().map(|p| Balances::balance(p) - (100_000 - BOND)).collect();
		assert_eq!(paid, vec![100, 200, 200]);
		assert_eq!(Balances::balance(&CUSTOMER), 1_000_000 - deposit - 500);
		// Nobody is slashed; reputations are unchanged.
		for p in ps.iter() {
			assert_eq!(bond_of(*p), BOND);
			assert_eq!(VmProof::reputation(p), Perbill::from_rational(1u32, 2u32));
		}
	});
}

#[test]
fn two_against_one_does_not_slash_the_single_dissenter() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, ps) = run_split(3, &[1, 1, 2], &[10_000, 10_000, 10_000]);
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
		// Not a clear majority: the dissenter is neither paid nor slashed.
		assert_eq!(bond_of(ps[2]), BOND);
		assert_eq!(Balances::balance(&ps[2]), 100_000 - BOND);
		assert!(!events().iter().any(|e| matches!(e, Event::ProviderFaulted { .. })));
		// Its reputation records the disagreement: (0 + 1) / (1 + 2).
		assert_eq!(VmProof::reputation(&ps[2]), Perbill::from_rational(1u32, 3u32));
		assert_eq!(VmProof::reputation(&ps[0]), Perbill::from_rational(2u32, 3u32));
	});
}

#[test]
fn three_against_one_slashes_the_dissenter() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, ps) = run_split(4, &[1, 1, 1, 2], &[10_000; 4]);
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
		assert_eq!(bond_of(ps[3]), BOND - 1_000);
		assert!(
			events().iter().any(|e| matches!(e,
			Event::ProviderFaulted { fault: Fault::WrongResult, who, slashed: 1_000, .. } if *who == ps[3]))
		);
	});
}

#[test]
fn three_against_two_does_not_slash_the_pair() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, ps) = run_split(5, &[1, 1, 1, 2, 2], &[10_000; 5]);
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
		assert_eq!(bond_of(ps[3]), BOND);
		assert_eq!(bond_of(ps[4]), BOND);
		assert!(!events().iter().any(|e| matches!(e, Event::ProviderFaulted { .. })));
	});
}

#[test]
fn three_against_two_singles_slashes_both() {
	ExtBuilder::default().build_and_execute(|| {
		let (_, ps) = run_split(5, &[1, 1, 1, 2, 3], &[10_000; 5]);
		assert_eq!(bond_of(ps[3]), BOND - 1_000);
		assert_eq!(bond_of(ps[4]), BOND - 1_000);
		assert_eq!(bond_of(ps[0]), BOND);
	});
}

#[test]
fn margin_two_needs_two_more_votes() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12]);
		let (id, ps) = assigned(2, 3, 2);
		commit(id, ps[0], 1, usage(10_000));
		commit(id, ps[1], 1, usage(10_000));
		reveal(id, ps[0], 1, usage(10_000));
		reveal(id, ps[1], 1, usage(10_000));
		// 2 : 0 meets margin 2.
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
	});
}

#[test]
fn commit_no_show_is_slashed_and_replaced() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(1, 1, 1);
		run_to_block(8);
		// 1% of the bond.
		assert_eq!(bond_of(ps[0]), BOND - 100);
		assert!(events().iter().any(|e| matches!(
			e,
			Event::ProviderFaulted { fault: Fault::CommitNoShow, slashed: 100, .. }
		)));
		assert_eq!(VmProof::reputation(&ps[0]), Perbill::from_rational(1u32, 3u32));
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!(job.providers.len(), 2);
		let repl = job.providers[1];
		assert_ne!(repl, ps[0]);
		assert!(ProviderJobs::<Test>::get(ps[0]).is_empty());
		commit(id, repl, 1, usage(1_000));
		reveal(id, repl, 1, usage(1_000));
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
	});
}

/// Two replicas asked, both committed, only `ps[0]` revealed: run past the reveal deadline.
fn one_reveal_one_no_show(providers: &[AccountId]) -> (JobId, Vec<AccountId>) {
	setup(providers);
	let (id, ps) = assigned(2, 2, 1);
	commit(id, ps[0], 1, usage(1_000));
	commit(id, ps[1], 1, usage(1_000));
	reveal(id, ps[0], 1, usage(1_000));
	run_to_block(8);
	(id, ps)
}

#[test]
fn reveal_no_show_is_slashed() {
	ExtBuilder::default().build_and_execute(|| {
		let (_, ps) = one_reveal_one_no_show(&[10, 11, 12]);
		// The larger of the no-show (1%) and wrong-result (10%) shares.
		assert_eq!(bond_of(ps[1]), BOND - 1_000);
		assert!(events().iter().any(|e| matches!(
			e,
			Event::ProviderFaulted { fault: Fault::RevealNoShow, slashed: 1_000, who, .. } if *who == ps[1]
		)));
	});
}

#[test]
fn lone_reveal_below_min_replicas_draws_a_replacement() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, ps) = one_reveal_one_no_show(&[10, 11, 12]);
		// One valid reveal of the two asked for is not a verdict.
		assert!(!events().iter().any(|e| matches!(e, Event::ResultAccepted { .. })));
		assert!(events().contains(&Event::MoreReplicasRequested { job: id, added: 1 }));
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!(job.state, JobState::Assigned);
		assert_eq!(job.providers.len(), 3);
		assert!(!ps.contains(&job.providers[2]));
		assert!(pallet_job_queue::Results::<Test>::get(id).is_none());
	});
}

#[test]
fn replacement_reveal_completes_the_verdict_with_min_replicas() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, ps) = one_reveal_one_no_show(&[10, 11, 12]);
		let repl = Jobs::<Test>::get(id).unwrap().providers[2];
		commit(id, repl, 1, usage(1_000));
		reveal(id, repl, 1, usage(1_000));
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
		assert!(events().iter().any(|e| matches!(e,
			Event::ResultAccepted { agreeing, .. } if agreeing.to_vec() == vec![ps[0], repl])));
	});
}

#[test]
fn lone_reveal_without_replacement_is_disputed_and_the_revealer_paid() {
	ExtBuilder::default().build_and_execute(|| {
		let (id, ps) = one_reveal_one_no_show(&[10, 11]);
		let deposit = Jobs::<Test>::get(id).unwrap().deposit;
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Disputed);
		assert!(events().contains(&Event::ResultDisputed {
			job: id,
			first_divergence: None,
			paid: BoundedVec::truncate_from(vec![ps[0]]),
		}));
		// The lone revealer's output is public: its 1 s is paid (10), not slashed.
		assert_eq!(Balances::balance(&CUSTOMER), 1_000_000 - deposit - 10);
		assert_eq!(bond_of(ps[0]), BOND);
		assert_eq!(Balances::balance(&ps[0]), 100_000 - BOND + 10);
	});
}

#[test]
fn no_replacement_available_disputes() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		let (id, _) = assigned(1, 1, 1);
		run_to_block(8);
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Disputed);
		assert!(Rounds::<Test>::get(id).is_none());
	});
}

#[test]
fn assignments_are_reported_for_the_worker() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(2, 2, 1);
		let v = VmProof::assignments_of(&ps[0]);
		assert_eq!(v.len(), 1);
		assert_eq!((v[0].job, v[0].phase, v[0].commit_deadline), (id, AssignmentPhase::Commit, 7));
		commit(id, ps[0], 1, usage(1_000));
		assert_eq!(VmProof::assignments_of(&ps[0])[0].phase, AssignmentPhase::Committed);
		commit(id, ps[1], 1, usage(1_000));
		assert_eq!(VmProof::assignments_of(&ps[0])[0].phase, AssignmentPhase::Reveal);
		reveal(id, ps[0], 1, usage(1_000));
		assert_eq!(VmProof::assignments_of(&ps[0])[0].phase, AssignmentPhase::Revealed);
	});
}

#[test]
fn no_provider_gets_two_replicas() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		let id = submit(2, 2, 1);
		run_to_block(3);
		// One provider cannot fill two replicas: the job waits.
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Queued);
	});
}

#[test]
fn deadlines_beyond_the_meter_move_to_the_next_block() {
	use crate::WeightInfo;
	use frame_support::weights::WeightMeter;
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		let (id, _) = assigned(1, 1, 1);
		assert!(Deadlines::<Test>::get(8).contains(&id));
		let mut meter = WeightMeter::with_limit(<() as WeightInfo>::process_deadlines_base());
		VmProof::process_deadlines(8, &mut meter);
		assert!(!Deadlines::<Test>::contains_key(8));
		assert!(Deadlines::<Test>::get(9).contains(&id));
		// Nothing was processed yet.
		assert_eq!(Rounds::<Test>::get(id).unwrap().members[0].status, MemberStatus::Assigned);
	});
}

#[test]
fn slashes_leave_issuance_and_are_the_only_loss() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let issuance = Balances::total_issuance();
		let (id, ps) = assigned(1, 1, 1);
		run_to_block(8);
		// The no-show's 1% slash is burnt (OnSlash = ()); nothing else changes issuance.
		assert_eq!(Balances::total_issuance(), issuance - 100);
		let repl = Jobs::<Test>::get(id).unwrap().providers[1];
		commit(id, repl, 1, usage(5_000));
		reveal(id, repl, 1, usage(5_000));
		assert_eq!(Balances::total_issuance(), issuance - 100);
		let _ = ps;
	});
}

#[test]
fn integrity_test_passes() {
	use frame_support::traits::Hooks;
	ExtBuilder::default().build_and_execute(|| {
		<VmProof as Hooks<u64>>::integrity_test();
	});
}

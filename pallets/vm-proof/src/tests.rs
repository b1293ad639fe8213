//! Tests of vm-proof together with the job queue.

use crate::{mock::*, pallet::*, types::*, verdict::merkle_root, Error, Event};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
	BoundedVec,
};
use pallet_job_queue::{Jobs, Params};
use povm_primitives::{AssignmentPhase, JobSpec, JobState, RedundancyPolicy};
use sp_runtime::{DispatchError, Perbill};

const BOND: u64 = 10_000;

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
	let spec = JobSpec {
		image: povm_primitives::ImageRef::local([0xaa; 32]),
		command: BoundedVec::truncate_from(b"flip".to_vec()),
		args: BoundedVec::default(),
		env: BoundedVec::default(),
		inputs: BoundedVec::default(),
		resources: Resources { millicores: 1000, memory_mib: 256, max_seconds: 60 },
		price_per_second: 10,
		redundancy: RedundancyPolicy { min_replicas: min, max_replicas: max, margin },
		checkpoint_interval: 5,
	};
	let budget = JobQueue::max_cost(&spec).unwrap();
	assert_ok!(JobQueue::submit_job(RuntimeOrigin::signed(CUSTOMER), Box::new(spec), budget));
	pallet_job_queue::Counters::<Test>::get().next_job_id - 1
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
	assert_ok!(VmProof::reveal_result(RuntimeOrigin::signed(who), job, r, l, None));
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
		assert_eq!(
			IndexPlaces::<Test>::get(10).map(|p| (p.position, p.weight)),
			Some((1, offer().slots))
		);
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
		assert_eq!(VmProof::candidates(&r, povm_primitives::Arch::X86_64).len(), 1);
		Epoch::set(2);
		assert!(VmProof::candidates(&r, povm_primitives::Arch::X86_64).is_empty());
		assert_ok!(VmProof::heartbeat(RuntimeOrigin::signed(10)));
		assert_eq!(Providers::<Test>::get(10).unwrap().last_heartbeat, 2);
		assert_eq!(VmProof::candidates(&r, povm_primitives::Arch::X86_64).len(), 1);
		assert_eq!(events().last(), Some(&Event::Heartbeat { who: 10, epoch: 2 }));
		assert_noop!(VmProof::heartbeat(RuntimeOrigin::signed(11)), Error::<Test>::NotRegistered);
	});
}

#[test]
fn candidates_filter_fit_and_capacity() {
	ExtBuilder::default().build_and_execute(|| {
		register(10);
		let big = Resources { millicores: 4000, memory_mib: 256, max_seconds: 60 };
		assert!(VmProof::candidates(&big, povm_primitives::Arch::X86_64).is_empty());
		let small = Resources { millicores: 100, memory_mib: 100, max_seconds: 60 };
		// Weighted by its two free slots; one once a job holds one of them.
		assert_eq!(VmProof::candidates(&small, povm_primitives::Arch::X86_64), vec![(10, 2)]);
		ProviderJobs::<Test>::mutate(10, |jobs| jobs.try_push(99).unwrap());
		assert_eq!(VmProof::candidates(&small, povm_primitives::Arch::X86_64), vec![(10, 1)]);
		ProviderJobs::<Test>::mutate(10, |jobs| jobs.try_push(98).unwrap());
		assert!(VmProof::candidates(&small, povm_primitives::Arch::X86_64).is_empty());
		ProviderJobs::<Test>::remove(10);
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
		assert!(IndexPlaces::<Test>::get(10).is_none());
		assert!(ClassTotals::<Test>::iter().next().is_none());
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

/// The bond-withdrawal attack on equivocation slashing: a validator equivocates, unregisters
/// and withdraws its bond after the (2-hour) unbonding delay, long before the report window
/// (28 days) closes; the report then finds no bond. The bond now stays held while it answers
/// for the provider's conduct as a validator (`Config::ValidatorBonds`), then is released.
#[test]
fn a_validators_bond_stays_held_while_an_equivocation_can_be_reported() {
	ExtBuilder::default().build_and_execute(|| {
		register(10);
		SeatedProviders::set(vec![10]);
		assert_ok!(VmProof::unregister(RuntimeOrigin::signed(10)));
		run_to_block(11);
		assert_noop!(
			VmProof::withdraw_bond(RuntimeOrigin::signed(10)),
			Error::<Test>::BondAtStakeAsValidator
		);
		assert_eq!(Providers::<Test>::get(10).unwrap().bond, BOND);
		assert_eq!(Balances::balance_on_hold(&HoldReason::ProviderBond.into(), &10), BOND);
		// The reporting window passed: the bond is released.
		SeatedProviders::set(vec![]);
		assert_ok!(VmProof::withdraw_bond(RuntimeOrigin::signed(10)));
		assert_eq!(Balances::balance(&10), 100_000);
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
			VmProof::reveal_result(RuntimeOrigin::signed(ps[0]), id, r, l, None),
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
			VmProof::reveal_result(RuntimeOrigin::signed(ps[0]), id, r, l, None),
			Error::<Test>::RevealMismatch
		);
		// Same result, wrong salt.
		let (mut r, l) = reveal_of(ps[0], 1, usage(1000));
		r.salt = [0xff; 32];
		assert_noop!(
			VmProof::reveal_result(RuntimeOrigin::signed(ps[0]), id, r, l, None),
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
			VmProof::reveal_result(RuntimeOrigin::signed(ps[0]), id, r, l, None),
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
			VmProof::reveal_result(RuntimeOrigin::signed(other), id, r, l, None),
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
			VmProof::reveal_result(RuntimeOrigin::signed(ps[0]), id, r, l, None),
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
			// One replica: its footprint is recorded, but it earns no verified time (issue 12).
			Event::WorkVerified { who: 10, vm_millis: 0, energy_uwh: 67_908, .. }
		)));
	});
}

#[test]
fn verified_work_and_reputation_are_recorded() {
	ExtBuilder::default().build_and_execute(|| {
		// Two agreeing replicas that held their slots for the run (issue 12: one replica, or a
		// commit in the block of the draw, earns no verified time).
		setup(&[10, 11]);
		Epoch::set(3);
		assert_ok!(VmProof::heartbeat(RuntimeOrigin::signed(10)));
		assert_ok!(VmProof::heartbeat(RuntimeOrigin::signed(11)));
		let (id, ps) = assigned(2, 2, 1);
		run_to_block(System::block_number() + 1);
		for p in ps.iter() {
			commit(id, *p, 1, usage(20_000));
		}
		for p in ps.iter() {
			reveal(id, *p, 1, usage(20_000));
		}
		assert_eq!(credited_millis(3, 10), 20_000);
		assert_eq!(credited_millis(3, 11), 20_000);
		let mut members = ps.clone();
		members.sort();
		assert_eq!(credited_list(3), members);
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

/// A lazy replica that agrees (it guessed or copied a known result) claims the whole
/// `max_seconds`: it is paid no more than the honest replica beside it, whose claim sets the
/// (lower) median of two.
#[test]
fn an_over_claiming_replica_is_paid_no_more_than_the_honest_one() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(2, 2, 2);
		let (lazy, honest) = (ps[0], ps[1]);
		// The honest run takes 20 s: both commit a block (20 s) after the draw.
		run_to_block(System::block_number() + 1);
		commit(id, lazy, 1, usage(60_000));
		commit(id, honest, 1, usage(20_000));
		reveal(id, lazy, 1, usage(60_000));
		reveal(id, honest, 1, usage(20_000));
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
		let res = pallet_job_queue::Results::<Test>::get(id).unwrap();
		let paid: Vec<_> = res.payments.iter().map(|(w, a)| (*w, *a)).collect();
		assert_eq!(paid, vec![(lazy, 200), (honest, 200)]);
		assert_eq!(credited_millis(0, lazy), 20_000);
	});
}

/// A verdict credits each agreeing member's verified time to the lottery at once, as tickets
/// at its reputation after the verdict, however many providers have work in the epoch (there
/// used to be a list of the first `MaxEpochProviders`; work of providers it could not take
/// earned no tickets).
#[test]
fn a_verdict_credits_every_agreeing_members_work_to_the_lottery() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		for other in 1_000..3_000 {
			<MockLottery as povm_primitives::TicketLedger<AccountId>>::credit(
				0,
				&other,
				1,
				sp_runtime::Perbill::one(),
			);
		}
		let (id, ps) = assigned(2, 2, 2);
		run_to_block(System::block_number() + 1);
		for p in &ps {
			commit(id, *p, 1, usage(20_000));
		}
		for p in &ps {
			reveal(id, *p, 1, usage(20_000));
		}
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
		for p in &ps {
			let reputation = VmProof::reputation_of(&Providers::<Test>::get(p).unwrap());
			assert_eq!(credited_millis(0, *p), 20_000);
			assert_eq!(credited_tickets(0, *p), reputation.mul_floor(20_000u64));
		}
		assert_eq!(credited_providers(0), 2_002);
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
		commit(id, ps[1], 2, usage(60_000));
		reveal(id, ps[0], 1, usage(10_000));
		// A claim of the whole `max_seconds` (60 s; more is refused as `UsageOutOfBounds`) is
		// paid: the upper median of the two claims is 60 s.
		reveal(id, ps[1], 2, usage(60_000));
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
fn deadlines_beyond_the_meter_wait_for_the_next_block() {
	use frame_support::weights::WeightMeter;
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		let (id, _) = assigned(1, 1, 1);
		assert!(Deadlines::<Test>::get(8).contains(&id));
		run_to_block(7);
		assert_eq!(DeadlineCursor::<Test>::get(), Some(8));
		// Block 8 with room to open its list but not to process a job.
		System::set_block_number(8);
		let mut meter = WeightMeter::with_limit(VmProof::deadline_block_weight());
		VmProof::process_deadlines(8, &mut meter);
		// Nothing was processed or moved: the job stays on block 8's list, the cursor at 8.
		assert!(Deadlines::<Test>::get(8).contains(&id));
		assert_eq!(DeadlineCursor::<Test>::get(), Some(8));
		assert_eq!(Rounds::<Test>::get(id).unwrap().members[0].status, MemberStatus::Assigned);
		// The next block resumes at block 8.
		run_to_block(9);
		assert!(!Deadlines::<Test>::contains_key(8));
		assert_eq!(DeadlineCursor::<Test>::get(), Some(10));
		assert_eq!(bond_of(10), BOND - 100);
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

// ---------- a failed draw at a commit deadline ----------

/// Before the fix `maybe_close_commits` swallowed a failed draw at a commit deadline too: the
/// reveals opened with one sealed result of the two asked for (a replacement drawn later would
/// commit after a reveal was public). The draw's error now rolls the deadline back and it is
/// retried.
#[test]
fn a_failed_draw_at_a_commit_deadline_is_retried() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12]);
		let (id, ps) = assigned(2, 2, 1);
		commit(id, ps[0], 1, usage(1_000));
		AssignMoreFailures::set(1);
		// The commit deadline passes at block 8: `ps[1]` missed it, the draw fails.
		run_to_block(8);
		assert_eq!(AssignMoreFailures::get(), 0);
		let round = Rounds::<Test>::get(id).unwrap();
		assert_eq!(round.phase, Phase::Committing);
		assert_eq!(round.members[1].status, MemberStatus::Assigned);
		assert_eq!(bond_of(ps[1]), BOND);
		assert_eq!(
			FailedDeadlines::<Test>::get(id),
			Some(DeadlineFailure { attempts: 1, retry_at: Some(10) })
		);
		// The retry at block 10 faults the no-show and draws its replacement; reveals stay shut.
		run_to_block(10);
		assert_eq!(bond_of(ps[1]), BOND - 100);
		assert!(events().contains(&Event::MoreReplicasRequested { job: id, added: 1 }));
		let round = Rounds::<Test>::get(id).unwrap();
		assert_eq!(round.phase, Phase::Committing);
		let repl = round.members[2].who;
		assert!(!ps.contains(&repl));
		assert!(FailedDeadlines::<Test>::get(id).is_none());
		commit(id, repl, 1, usage(1_000));
		reveal(id, ps[0], 1, usage(1_000));
		reveal(id, repl, 1, usage(1_000));
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
	});
}

/// A provider's commit does not fail because the draw it triggers fails: the reveals open with
/// what was committed.
#[test]
fn a_failed_draw_does_not_refuse_the_commit_that_closed_the_round() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13]);
		let (id, ps) = assigned(3, 3, 1);
		commit(id, ps[0], 1, usage(1_000));
		// Two miss their commit: one replacement is left to draw.
		run_to_block(8);
		let round = Rounds::<Test>::get(id).unwrap();
		assert_eq!(round.members.len(), 4);
		let repl = round.members[3].who;
		// Its commit closes the round with two sealed results of three: the draw fails.
		AssignMoreFailures::set(1);
		commit(id, repl, 1, usage(1_000));
		assert_eq!(AssignMoreFailures::get(), 0);
		assert!(matches!(Rounds::<Test>::get(id).unwrap().phase, Phase::Revealing { .. }));
	});
}

// ---------- deadlines are never lost ----------

/// Fill the deadline buckets of blocks `from..=to` with ids of jobs that do not exist.
fn fill_buckets(from: u64, to: u64) {
	use frame_support::traits::Get;
	let cap: u32 = <Test as crate::Config>::MaxDeadlinesPerBlock::get();
	let cap = cap as u64;
	for b in from..=to {
		let junk: Vec<JobId> = (0..cap).map(|i| 1_000_000 + b * 100 + i).collect();
		Deadlines::<Test>::insert(b, BoundedVec::truncate_from(junk));
	}
}

#[test]
fn failed_deadline_is_retried_and_settles_later() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		let (id, _) = assigned(1, 1, 1);
		let deposit = Jobs::<Test>::get(id).unwrap().deposit;
		// The no-show at block 8 leaves no replacement: the job must be disputed, but the
		// ledger fails the first two times.
		LedgerDisputeFailures::set(2);
		run_to_block(8);
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Assigned);
		run_to_block(40);
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Disputed);
		assert!(Rounds::<Test>::get(id).is_none());
		assert!(ProviderJobs::<Test>::get(10).is_empty());
		// Rolled-back attempts slash nothing: one no-show, one 1 % slash.
		assert_eq!(bond_of(10), BOND - 100);
		assert_eq!(Balances::balance(&CUSTOMER), 1_000_000 - deposit);
		// Tried at 8, then 2 and 4 blocks later (DeadlineRetryDelay = 2, doubling).
		let retries: Vec<_> = events()
			.into_iter()
			.filter_map(|e| match e {
				Event::DeadlineRetryScheduled { job, attempts, retry_at, error } => {
					assert_eq!(job, id);
					// `Other`'s message is not encoded: stored events carry an empty one.
					assert!(matches!(error, DispatchError::Other(_)));
					Some((attempts, retry_at))
				},
				_ => None,
			})
			.collect();
		assert_eq!(retries, vec![(1, 10), (2, 14)]);
		assert_eq!(LedgerDisputeFailures::get(), 0);
		assert!(FailedDeadlines::<Test>::get(id).is_none());
	});
}

#[test]
fn deadline_failing_every_time_is_given_up_and_stays_visible() {
	use pallet_job_queue::HoldReason as JobHold;
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		let (id, _) = assigned(1, 1, 1);
		let job = Jobs::<Test>::get(id).unwrap();
		LedgerDisputeFailures::set(1_000);
		run_to_block(200);
		// Tried at 8, 10 and 14 (MaxDeadlineAttempts = 3), then never again.
		assert_eq!(LedgerDisputeFailures::get(), 1_000 - 3);
		let retries = events()
			.iter()
			.filter(|e| matches!(e, Event::DeadlineRetryScheduled { .. }))
			.count();
		assert_eq!(retries, 2);
		assert!(events().iter().any(|e| matches!(
			e,
			Event::DeadlineAbandoned { job, attempts: 3, error: DispatchError::Other(_) } if *job == id
		)));
		assert_eq!(
			FailedDeadlines::<Test>::get(id),
			Some(DeadlineFailure { attempts: 3, retry_at: None })
		);
		// Nothing moved: the round, the slot and the escrow are as before the deadline.
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Assigned);
		assert_eq!(ProviderJobs::<Test>::get(10).to_vec(), vec![id]);
		let escrow = job.budget + job.deposit;
		assert_eq!(Balances::balance_on_hold(&JobHold::JobBudget.into(), &CUSTOMER), escrow);
		assert_eq!(bond_of(10), BOND);
		// The invariants hold: a given-up round needs no pending deadline.
		assert_ok!(VmProof::do_try_state());
	});
}

fn queue_disputed(id: JobId) -> bool {
	queue_events()
		.iter()
		.any(|e| matches!(e, pallet_job_queue::Event::JobDisputed { job, .. } if *job == id))
}

#[test]
fn force_dispute_frees_a_given_up_job() {
	use pallet_job_queue::HoldReason as JobHold;
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		let (id, _) = assigned(1, 1, 1);
		let deposit = Jobs::<Test>::get(id).unwrap().deposit;
		LedgerDisputeFailures::set(1_000);
		run_to_block(30);
		assert!(FailedDeadlines::<Test>::get(id).is_some_and(|f| f.retry_at.is_none()));
		// While the ledger still fails, root's call fails and changes nothing.
		assert_noop!(
			VmProof::force_dispute(RuntimeOrigin::root(), id),
			DispatchError::Other("injected ledger failure")
		);
		LedgerDisputeFailures::set(0);
		assert_ok!(VmProof::force_dispute(RuntimeOrigin::root(), id));
		assert_eq!(
			events().last(),
			Some(&Event::JobForceDisputed { job: id, slots_freed: 1, paid: true })
		);
		assert!(queue_disputed(id));
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Disputed);
		assert!(Rounds::<Test>::get(id).is_none());
		assert!(FailedDeadlines::<Test>::get(id).is_none());
		assert!(ProviderJobs::<Test>::get(10).is_empty());
		// Escrow refunded; the deposit waits for the owner's reap; the bond is untouched.
		assert_eq!(Balances::balance_on_hold(&JobHold::JobBudget.into(), &CUSTOMER), deposit);
		assert_eq!(Balances::balance_on_hold(&JobHold::JobDeposit.into(), &CUSTOMER), 0);
		assert_eq!(Balances::balance(&CUSTOMER), 1_000_000 - deposit);
		assert_eq!(bond_of(10), BOND);
		assert_eq!(Balances::balance_on_hold(&HoldReason::ProviderBond.into(), &10), BOND);
		// The stale deadline of the closed round is harmless.
		run_to_block(40);
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Disputed);
	});
}

#[test]
fn force_dispute_closes_a_round_mid_reveal() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12]);
		let (id, ps) = assigned(2, 2, 1);
		commit(id, ps[0], 1, usage(1_000));
		commit(id, ps[1], 1, usage(1_000));
		reveal(id, ps[0], 1, usage(1_000));
		assert!(Reveals::<Test>::contains_key(id, ps[0]));
		assert_ok!(VmProof::force_dispute(RuntimeOrigin::root(), id));
		assert_eq!(
			events().last(),
			Some(&Event::JobForceDisputed { job: id, slots_freed: 2, paid: true })
		);
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Disputed);
		assert!(!Reveals::<Test>::contains_key(id, ps[0]));
		for p in ps.iter() {
			assert!(ProviderJobs::<Test>::get(p).is_empty());
			assert_eq!(bond_of(*p), BOND);
		}
		// Free slots: the providers can leave.
		assert_ok!(VmProof::unregister(RuntimeOrigin::signed(ps[0])));
	});
}

/// Before the fix `force_dispute` only tried the paying dispute: when paying the revealers is
/// what keeps failing (the reason the job got stuck), root had no way out. It now falls back to
/// a dispute that refunds the whole escrow, each attempt in its own storage layer.
#[test]
fn force_dispute_refunds_everything_when_paying_the_revealers_keeps_failing() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(2, 2, 1);
		let deposit = Jobs::<Test>::get(id).unwrap().deposit;
		commit(id, ps[0], 1, usage(1_000));
		commit(id, ps[1], 1, usage(1_000));
		reveal(id, ps[0], 1, usage(1_000));
		let free = Balances::balance(&ps[0]);
		// Paying `ps[0]` fails every time (after the job queue settled: only a storage layer
		// undoes it): the reveal deadline is retried, then given up.
		LedgerPaidDisputeFailures::set(1_000);
		run_to_block(60);
		assert!(FailedDeadlines::<Test>::get(id).is_some_and(|f| f.retry_at.is_none()));
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Revealing);
		let failures = LedgerPaidDisputeFailures::get();
		assert_ok!(VmProof::force_dispute(RuntimeOrigin::root(), id));
		// The paying attempt was made (and failed), then the refund-everything one.
		assert_eq!(LedgerPaidDisputeFailures::get(), failures - 1);
		assert_eq!(
			events().last(),
			Some(&Event::JobForceDisputed { job: id, slots_freed: 2, paid: false })
		);
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Disputed);
		let disputes: Vec<_> = queue_events()
			.into_iter()
			.filter_map(|e| match e {
				pallet_job_queue::Event::JobDisputed { job, payments, .. } if job == id =>
					Some(payments.to_vec()),
				_ => None,
			})
			.collect();
		// One dispute kept (the rolled-back one left no event), paying nobody.
		assert_eq!(disputes, vec![vec![]]);
		assert_eq!(Balances::balance(&ps[0]), free);
		assert_eq!(Balances::balance(&CUSTOMER), 1_000_000 - deposit);
		assert!(Rounds::<Test>::get(id).is_none());
		for p in ps.iter() {
			assert!(ProviderJobs::<Test>::get(p).is_empty());
			assert_eq!(bond_of(*p), BOND);
		}
	});
}

/// When paying works, the revealer is paid and the event says so.
#[test]
fn force_dispute_pays_the_revealers_when_it_can() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(2, 2, 1);
		commit(id, ps[0], 1, usage(1_000));
		commit(id, ps[1], 1, usage(1_000));
		reveal(id, ps[0], 1, usage(1_000));
		let free = Balances::balance(&ps[0]);
		assert_ok!(VmProof::force_dispute(RuntimeOrigin::root(), id));
		assert_eq!(
			events().last(),
			Some(&Event::JobForceDisputed { job: id, slots_freed: 2, paid: true })
		);
		// 1 s at 10 per second.
		assert_eq!(Balances::balance(&ps[0]), free + 10);
	});
}

#[test]
fn force_dispute_needs_the_force_origin_and_a_round() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		let (id, _) = assigned(1, 1, 1);
		assert_noop!(
			VmProof::force_dispute(RuntimeOrigin::signed(CUSTOMER), id),
			DispatchError::BadOrigin
		);
		assert_noop!(
			VmProof::force_dispute(RuntimeOrigin::signed(10), id),
			DispatchError::BadOrigin
		);
		// A queued job has no round, nor has an unknown one.
		let queued = submit(2, 2, 1);
		assert_noop!(VmProof::force_dispute(RuntimeOrigin::root(), queued), Error::<Test>::NoRound);
		assert_noop!(VmProof::force_dispute(RuntimeOrigin::root(), 999), Error::<Test>::NoRound);
		// Nor has a finished one.
		assert_ok!(VmProof::force_dispute(RuntimeOrigin::root(), id));
		assert_noop!(VmProof::force_dispute(RuntimeOrigin::root(), id), Error::<Test>::NoRound);
	});
}

#[test]
fn force_dispute_closes_a_round_whose_job_is_gone() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		let (id, _) = assigned(1, 1, 1);
		// An orphaned round (its job unknown to the job queue), built by hand.
		let round = Rounds::<Test>::get(id).unwrap();
		Rounds::<Test>::insert(999, round);
		ProviderJobs::<Test>::mutate(10, |jobs| jobs.try_push(999).unwrap());
		assert!(VmProof::do_try_state().is_err());
		assert_ok!(VmProof::force_dispute(RuntimeOrigin::root(), 999));
		assert!(Rounds::<Test>::get(999).is_none());
		assert_eq!(ProviderJobs::<Test>::get(10).to_vec(), vec![id]);
		assert!(!queue_disputed(999));
		// The real job is untouched.
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Assigned);
	});
}

#[test]
fn overflow_pages_are_processed_at_their_block() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		fill_buckets(8, 8);
		let a = submit(1, 1, 1);
		let b = submit(1, 1, 1);
		run_to_block(2);
		// Both deadlines at block 8 went to its first overflow page.
		assert_eq!(DeadlineOverflowPages::<Test>::get(8), 1);
		assert_eq!(DeadlineOverflow::<Test>::get(8, 1).to_vec(), vec![a, b]);
		run_to_block(8);
		assert_eq!(DeadlineOverflowPages::<Test>::get(8), 0);
		assert!(!DeadlineOverflow::<Test>::contains_key(8, 1));
		// Since issue 12 a deadline is charged a draw over every provider the registry can hold
		// (`process_deadline`), so the hook's share of a block covers a few deadlines only: the
		// rest of block 8's first page is processed in the next blocks, in order.
		run_to_block(9);
		assert!(Deadlines::<Test>::get(8).len() < 8);
		run_to_block(12);
		assert!(!Deadlines::<Test>::contains_key(8));
		// Both were processed: each job's no-show faulted (whichever provider the draw chose).
		for job in [a, b] {
			assert!(events().iter().any(|e| matches!(
				e,
				Event::ProviderFaulted { job: j, fault: Fault::CommitNoShow, .. } if *j == job
			)));
		}
	});
}

#[test]
fn try_state_catches_a_retry_that_is_not_scheduled() {
	ExtBuilder::default().build().execute_with(|| {
		setup(&[10]);
		let (id, _) = assigned(1, 1, 1);
		FailedDeadlines::<Test>::insert(id, DeadlineFailure { attempts: 1, retry_at: Some(50) });
		assert!(VmProof::do_try_state().is_err());
		FailedDeadlines::<Test>::insert(id, DeadlineFailure { attempts: 3, retry_at: None });
		assert_ok!(VmProof::do_try_state());
		// A given-up round needs no pending deadline; a record of a closed round is stale.
		Deadlines::<Test>::remove(8);
		assert_ok!(VmProof::do_try_state());
		FailedDeadlines::<Test>::insert(999, DeadlineFailure { attempts: 3, retry_at: None });
		assert!(VmProof::do_try_state().is_err());
	});
}

#[test]
fn deadline_failing_on_full_buckets_is_not_lost() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (id, ps) = assigned(2, 2, 1);
		commit(id, ps[0], 1, usage(1_000));
		// At block 8 `ps[1]` misses its commit and reveals open until 13, to be processed at
		// 14: every bucket from 14 on that scheduling could reach is full.
		fill_buckets(14, 30);
		run_to_block(8);
		assert_eq!(bond_of(ps[1]), BOND - 100);
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!((job.state, job.reveal_deadline), (JobState::Revealing, Some(13)));
		run_to_block(14);
		// `ps[0]` did not reveal either: faulted at the reveal deadline (a reveal no-show pays
		// the wrong-result share, 10 %), job disputed.
		assert_eq!(bond_of(ps[0]), BOND - 1_000);
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Disputed);
	});
}

#[test]
fn schedule_with_every_bucket_in_reach_full_still_schedules() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		// The job is assigned at block 2 with a commit deadline of 7, processed at 8.
		fill_buckets(8, 30);
		let id = submit(1, 1, 1);
		run_to_block(2);
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!(job.state, JobState::Assigned);
		let first = job.providers[0];
		run_to_block(8);
		// Processed at its deadline: the no-show is faulted and replaced.
		assert_eq!(bond_of(first), BOND - 100);
		assert_eq!(Jobs::<Test>::get(id).unwrap().providers.len(), 2);
	});
}

#[test]
fn try_state_catches_a_stranded_round() {
	ExtBuilder::default().build().execute_with(|| {
		setup(&[10]);
		let (id, _) = assigned(1, 1, 1);
		assert_ok!(VmProof::do_try_state());
		// The round's only deadline is lost.
		Deadlines::<Test>::remove(8);
		assert!(Rounds::<Test>::contains_key(id));
		assert!(VmProof::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_a_bond_hold_without_provider() {
	use frame_support::traits::fungible::MutateHold;
	ExtBuilder::default().build().execute_with(|| {
		setup(&[10]);
		assert_ok!(VmProof::do_try_state());
		assert_ok!(Balances::hold(&HoldReason::ProviderBond.into(), &15, 500));
		assert!(VmProof::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_an_escrow_hold_without_job() {
	use frame_support::traits::fungible::MutateHold;
	ExtBuilder::default().build().execute_with(|| {
		setup(&[10]);
		assert_ok!(JobQueue::do_try_state());
		assert_ok!(Balances::hold(&pallet_job_queue::HoldReason::JobBudget.into(), &2, 500));
		assert!(JobQueue::do_try_state().is_err());
		assert_ok!(Balances::release(
			&pallet_job_queue::HoldReason::JobBudget.into(),
			&2,
			500,
			frame_support::traits::tokens::Precision::Exact
		));
		assert_ok!(JobQueue::do_try_state());
		assert_ok!(Balances::hold(&pallet_job_queue::HoldReason::JobDeposit.into(), &2, 500));
		assert!(JobQueue::do_try_state().is_err());
	});
}

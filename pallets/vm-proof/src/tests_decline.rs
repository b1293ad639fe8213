//! Tests of declining jobs, the offer's run-time limit, and jobs most providers decline.

use crate::{
	mock::*,
	pallet::*,
	tests_verdict::{decline, setup_with, BOND},
	types::*,
	verdict::merkle_root,
	Error, Event,
};
use frame_support::{
	assert_noop, assert_ok,
	traits::{
		fungible::{Inspect, InspectHold},
		Hooks,
	},
	BoundedVec,
};
use pallet_job_queue::Jobs;
use povm_primitives::{JobSpec, JobState, RedundancyPolicy};
use sp_runtime::Perbill;

/// The mock's commit window, in blocks.
const COMMIT_WINDOW: u64 = 5;

fn setup(providers: &[AccountId]) {
	setup_with(providers, offer(), COMMIT_WINDOW);
}

fn spec(min: u32, max: u32, max_seconds: u32) -> JobSpec<u64> {
	JobSpec {
		image: povm_primitives::ImageRef::local([0xaa; 32]),
		command: BoundedVec::truncate_from(b"flip".to_vec()),
		args: BoundedVec::default(),
		env: BoundedVec::default(),
		inputs: BoundedVec::default(),
		resources: Resources { millicores: 1000, memory_mib: 256, max_seconds },
		price_per_second: 10,
		redundancy: RedundancyPolicy { min_replicas: min, max_replicas: max, margin: 1 },
		checkpoint_interval: 5,
	}
}

fn submit_spec(s: JobSpec<u64>) -> JobId {
	let budget = JobQueue::max_cost(&s).unwrap();
	assert_ok!(JobQueue::submit_job(RuntimeOrigin::signed(CUSTOMER), Box::new(s), budget));
	pallet_job_queue::Counters::<Test>::get().next_job_id - 1
}

/// Submit a 60 s job and run one block so it is assigned; the job and its providers.
fn assigned(min: u32, max: u32) -> (JobId, Vec<AccountId>) {
	let id = submit_spec(spec(min, max, 60));
	run_to_block(System::block_number() + 1);
	let job = Jobs::<Test>::get(id).unwrap();
	assert_eq!(job.state, JobState::Assigned);
	(id, job.providers.to_vec())
}

fn reveal_of(who: AccountId, tag: u8) -> (Reveal, BoundedVec<Digest, ConstMaxCp>) {
	let l = vec![[tag; 32], [tag; 32]];
	(
		Reveal {
			result_digest: [tag; 32],
			checkpoints_root: merkle_root(&l),
			salt: [who as u8; 32],
			output: BoundedVec::truncate_from(vec![tag]),
			usage: Usage { cpu_ms: 1_000, memory_mib_s: 1_000, wall_ms: 1_000 },
		},
		BoundedVec::truncate_from(l),
	)
}

type ConstMaxCp = <Test as crate::Config>::MaxCheckpoints;

fn commit(job: JobId, who: AccountId, tag: u8) {
	let (r, _) = reveal_of(who, tag);
	let c = VmProof::commitment_of(job, VmProof::wave_of(job, &who).unwrap(), &r, &who);
	assert_ok!(VmProof::commit_result(RuntimeOrigin::signed(who), job, c));
}

fn reveal(job: JobId, who: AccountId, tag: u8) {
	let (r, l) = reveal_of(who, tag);
	assert_ok!(VmProof::reveal_result(RuntimeOrigin::signed(who), job, r, l, None));
}

fn members(job: JobId) -> Vec<(AccountId, MemberStatus)> {
	Rounds::<Test>::get(job)
		.unwrap()
		.members
		.iter()
		.map(|m| (m.who, m.status))
		.collect()
}

fn commit_deadline(job: JobId) -> u64 {
	Rounds::<Test>::get(job)
		.unwrap()
		.members
		.iter()
		.map(|m| m.commit_deadline)
		.max()
		.unwrap()
}

fn nobody_faulted() -> bool {
	!events().iter().any(|e| matches!(e, Event::ProviderFaulted { .. }))
}

fn deposit_held() -> u64 {
	Balances::balance_on_hold(&pallet_job_queue::HoldReason::JobDeposit.into(), &CUSTOMER)
}

fn escrow_held() -> u64 {
	Balances::balance_on_hold(&pallet_job_queue::HoldReason::JobBudget.into(), &CUSTOMER)
}

// ---------- the offer's run-time limit ----------

#[test]
fn the_offer_run_time_limit_is_bounded() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[]);
		for bad in [0, MAX_OFFER_SECONDS + 1, u32::MAX] {
			assert_noop!(
				VmProof::register_provider(
					RuntimeOrigin::signed(10),
					VmOffer { max_seconds: bad, ..offer() },
					BOND
				),
				Error::<Test>::BadOffer
			);
		}
		let longest = VmOffer { max_seconds: MAX_OFFER_SECONDS, ..offer() };
		assert_ok!(VmProof::register_provider(RuntimeOrigin::signed(10), longest, BOND));
		assert_noop!(
			VmProof::update_offer(RuntimeOrigin::signed(10), VmOffer { max_seconds: 0, ..offer() }),
			Error::<Test>::BadOffer
		);
		assert_ok!(VmProof::update_offer(
			RuntimeOrigin::signed(10),
			VmOffer { max_seconds: 1, ..offer() }
		));
		assert_eq!(Providers::<Test>::get(10).unwrap().offer.max_seconds, 1);
	});
}

/// A job longer than every offer's run-time limit is never assigned (it waits and expires),
/// and a job is drawn only among the providers whose limit covers it. Before the offer had a
/// limit, the 30-second providers were drawn for the 60-second job.
#[test]
fn a_job_longer_than_an_offer_is_never_assigned_to_it() {
	ExtBuilder::default().build_and_execute(|| {
		setup_with(&[10, 11, 12], VmOffer { max_seconds: 30, ..offer() }, COMMIT_WINDOW);
		let long = submit_spec(spec(1, 1, 60));
		let r = spec(1, 1, 60).resources;
		assert!(VmProof::candidates(&r, povm_primitives::Arch::X86_64).is_empty());
		run_to_block(10);
		assert_eq!(Jobs::<Test>::get(long).unwrap().state, JobState::Queued);
		assert!(Rounds::<Test>::get(long).is_none());
		// A short job is drawn among them.
		let short = submit_spec(spec(1, 1, 30));
		run_to_block(System::block_number() + 1);
		let job = Jobs::<Test>::get(short).unwrap();
		assert_eq!(job.state, JobState::Assigned);
		assert!([10, 11, 12].contains(&job.providers[0]));
		// One provider that takes a minute: the long job goes to it and to nobody else.
		assert_ok!(VmProof::register_provider(RuntimeOrigin::signed(13), offer(), BOND));
		// The waiting job is tried again within the longest retry backoff.
		for _ in 0..pallet_job_queue::MAX_RETRY_BACKOFF {
			if Jobs::<Test>::get(long).unwrap().state != JobState::Queued {
				break;
			}
			run_to_block(System::block_number() + 1);
		}
		let job = Jobs::<Test>::get(long).unwrap();
		assert_eq!(job.state, JobState::Assigned);
		assert_eq!(job.providers.to_vec(), vec![13]);
		// A two-replica long job has one fitting provider left (13 has a slot): it waits.
		let two = submit_spec(spec(2, 2, 60));
		run_to_block(System::block_number() + 1);
		assert_eq!(Jobs::<Test>::get(two).unwrap().state, JobState::Queued);
	});
}

// ---------- declining ----------

/// A decline is not a no-show: no slash, the slot is freed at once, the reputation counts one
/// more verdict that did not agree, and no replacement is drawn in the decline call.
#[test]
fn a_decline_frees_the_slot_costs_reputation_and_is_not_slashed() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13]);
		let (id, ps) = assigned(2, 2);
		let d = ps[0];
		assert!(ProviderJobs::<Test>::get(d).contains(&id));
		assert_ok!(VmProof::decline_job(
			RuntimeOrigin::signed(d),
			id,
			DeclineReason::RunTimeAboveLimit
		));
		let info = Providers::<Test>::get(d).unwrap();
		assert_eq!(info.bond, BOND);
		assert_eq!(Balances::balance_on_hold(&HoldReason::ProviderBond.into(), &d), BOND);
		assert_eq!((info.agreed, info.total), (0, 1));
		let reputation = Perbill::from_rational(1u32, 3u32);
		assert_eq!(VmProof::reputation_of(&info), reputation);
		assert_eq!(
			events().last(),
			Some(&Event::JobDeclined {
				job: id,
				who: d,
				reason: DeclineReason::RunTimeAboveLimit,
				reputation
			})
		);
		assert!(!ProviderJobs::<Test>::get(d).contains(&id));
		assert!(VmProof::assignments_of(&d).is_empty());
		// No replacement yet: the round has its two members, one declined.
		assert_eq!(members(id), vec![(d, MemberStatus::Declined), (ps[1], MemberStatus::Assigned)]);
		assert!(!queue_events()
			.iter()
			.any(|e| matches!(e, pallet_job_queue::Event::JobReassigned { .. })));
		assert!(nobody_faulted());
	});
}

/// A member that commits last in the very block of the decline (after it) closes the commits
/// as before, and the decliner's replacement is drawn then (not in the decline call); the next
/// block's hook then finds enough members and draws nobody more.
#[test]
fn the_last_commit_draws_the_replacement_of_an_earlier_decliner() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13]);
		let (id, ps) = assigned(2, 2);
		decline(id, ps[0]);
		assert_eq!(members(id).len(), 2);
		commit(id, ps[1], 1);
		let m = members(id);
		assert_eq!(m.len(), 3);
		assert!(!ps.contains(&m[2].0));
		assert_eq!(m[2].1, MemberStatus::Assigned);
		run_to_block(System::block_number() + 1);
		assert_eq!(members(id).len(), 3);
		assert!(nobody_faulted());
	});
}

/// The replacement drawn in the block after the decline depends on that block's parent hash,
/// the hash of the block holding the decline, which the decliner could not know when it
/// declined. Before the draw was keyed by the parent hash, every run drew the same replacement:
/// a decliner could compute it in advance.
#[test]
fn the_replacement_is_not_known_when_the_decline_is_sent() {
	let replacement = |hash: u8| {
		let mut drawn = None;
		ExtBuilder::default().build_and_execute(|| {
			setup(&[10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
			let (id, ps) = assigned(1, 1);
			decline(id, ps[0]);
			let b = System::block_number() + 1;
			System::set_block_number(b);
			System::set_parent_hash(sp_core::H256([hash; 32]));
			JobQueue::on_initialize(b);
			VmProof::on_initialize(b);
			let m = members(id);
			assert_eq!(m.len(), 2);
			assert_ne!(m[1].0, ps[0]);
			drawn = Some(m[1].0);
		});
		drawn.unwrap()
	};
	let all: alloc::collections::BTreeSet<AccountId> = (0u8..12).map(replacement).collect();
	assert!(all.len() > 1, "the same replacement whatever the parent hash: {all:?}");
}

// ---------- the decliner does not hold its co-replicas (found by `pallets/simulation`) ----------

/// A commit window long enough that waiting it out shows: 20 blocks.
const LONG_WINDOW: u64 = 20;

/// Whether the job queue reassigned `job` at `block`: a `JobReassigned` whose fresh commit
/// deadline is `block + window` (`run_to_block` keeps earlier blocks' events).
fn reassigned_at(job: JobId, block: u64, window: u64) -> bool {
	queue_events().iter().any(|e| {
		matches!(
			e,
			pallet_job_queue::Event::JobReassigned { job: j, commit_deadline, .. }
				if *j == job && *commit_deadline == block + window
		)
	})
}

/// The attack: an honest provider runs the job and commits, its co-replica (an idle account of
/// the attacker) declines. Before, the replacement was drawn only when the wave's commits
/// closed, at the commit deadline: the honest provider held its slot, idle, for the rest of the
/// window and then for the replacement's whole run, and a party declining every job kept honest
/// capacity idle for free (26 % of the verified time with 20 % of the slots in the simulation).
/// Now the replacement is drawn in the block after the decline, with a fresh commit deadline,
/// and the verdict comes one run after that, long before the original deadline.
#[test]
fn a_decliners_replacement_is_drawn_in_the_next_block_not_at_the_commit_deadline() {
	ExtBuilder::default().build_and_execute(|| {
		setup_with(&[10, 11, 12, 13, 14, 15], offer(), LONG_WINDOW);
		let (id, ps) = assigned(2, 2);
		let (honest, decliner) = (ps[0], ps[1]);
		let first_deadline = commit_deadline(id);
		// The honest replica runs the job for a block and commits; the decliner declines then.
		run_to_block(System::block_number() + 1);
		commit(id, honest, 1);
		decline(id, decliner);
		let declined_at = System::block_number();
		// Not in the decline call itself (the decliner would know the draw's parent hash), and
		// the commits do not close there either, although nobody is left to commit.
		assert_eq!(members(id).len(), 2);
		assert_eq!(Rounds::<Test>::get(id).unwrap().phase, Phase::Committing);
		// In the next block: the replacement, a third provider, with a fresh commit deadline.
		run_to_block(declined_at + 1);
		let m = members(id);
		assert_eq!(m.len(), 3, "no replacement in the block after the decline: {m:?}");
		let (new, status) = m[2];
		assert_eq!(status, MemberStatus::Assigned);
		assert!(!ps.contains(&new));
		assert_eq!(VmProof::wave_of(id, &new), Some(1));
		assert!(reassigned_at(id, declined_at + 1, LONG_WINDOW));
		// The replacement runs for a block and commits: reveals open, both reveal, the result
		// is accepted and the decliner is neither paid nor judged.
		run_to_block(declined_at + 2);
		commit(id, new, 1);
		reveal(id, honest, 1);
		reveal(id, new, 1);
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
		let accepted = events()
			.into_iter()
			.find_map(|e| match e {
				Event::ResultAccepted { agreeing, dissenting, .. } => Some((agreeing, dissenting)),
				_ => None,
			})
			.unwrap();
		assert_eq!(accepted.0.to_vec(), vec![honest, new]);
		assert!(accepted.1.is_empty());
		let result = pallet_job_queue::Results::<Test>::get(id).unwrap();
		assert!(result.payments.iter().all(|(p, _)| *p != decliner));
		// The honest provider's slot is free again within the replacement's run, long before
		// the first wave's commit deadline, which it would have waited out before.
		assert!(!ProviderJobs::<Test>::get(honest).contains(&id));
		assert!(System::block_number() + LONG_WINDOW / 2 < first_deadline);
		assert!(nobody_faulted());
		let info = Providers::<Test>::get(decliner).unwrap();
		assert_eq!((info.agreed, info.total, info.bond), (0, 1, BOND));
	});
}

/// The decliner declines at once while its co-replica is still running: the replacement is
/// drawn in the next block and runs beside it, instead of being drawn only when the
/// co-replica's commit closes the wave (and then run after it).
#[test]
fn a_decliners_replacement_runs_beside_a_co_replica_still_running() {
	ExtBuilder::default().build_and_execute(|| {
		setup_with(&[10, 11, 12, 13, 14, 15], offer(), LONG_WINDOW);
		let (id, ps) = assigned(2, 2);
		let (honest, decliner) = (ps[0], ps[1]);
		decline(id, decliner);
		let declined_at = System::block_number();
		run_to_block(declined_at + 1);
		let m = members(id);
		assert_eq!(m.len(), 3, "no replacement in the block after the decline: {m:?}");
		assert_eq!(m[0], (honest, MemberStatus::Assigned));
		let new = m[2].0;
		assert!(!ps.contains(&new));
		assert_eq!(m[2].1, MemberStatus::Assigned);
		// The co-replica commits: the replacement still runs, nothing more is drawn.
		commit(id, honest, 1);
		assert_eq!(members(id).len(), 3);
		assert_eq!(Rounds::<Test>::get(id).unwrap().phase, Phase::Committing);
		// Later deadlines draw nobody either.
		run_to_block(declined_at + 2);
		assert_eq!(members(id).len(), 3);
		commit(id, new, 1);
		reveal(id, honest, 1);
		reveal(id, new, 1);
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
		assert!(nobody_faulted());
	});
}

/// Once a wave is drawn beside members still running, a member of the earlier wave that misses
/// its deadline is replaced at that deadline too (slashed as a no-show), instead of when the
/// later wave has committed.
#[test]
fn a_no_show_beside_a_running_replacement_is_replaced_at_its_deadline() {
	ExtBuilder::default().build_and_execute(|| {
		setup_with(&[10, 11, 12, 13, 14, 15], offer(), LONG_WINDOW);
		let (id, ps) = assigned(2, 2);
		let first_deadline = commit_deadline(id);
		run_to_block(System::block_number() + 2);
		decline(id, ps[1]);
		run_to_block(System::block_number() + 1);
		let replacement = members(id)[2].0;
		// `ps[0]` never commits; the replacement's deadline is later than its own.
		run_to_block(first_deadline + 1);
		let m = members(id);
		assert_eq!(m[0], (ps[0], MemberStatus::NoShow));
		assert_eq!(m[2], (replacement, MemberStatus::Assigned));
		assert_eq!(m.len(), 4, "the no-show is replaced at once: {m:?}");
		assert_eq!(m[3].1, MemberStatus::Assigned);
		assert!(!ps.contains(&m[3].0) && m[3].0 != replacement);
		assert!(events().iter().any(|e| matches!(
			e,
			Event::ProviderFaulted { who, fault: Fault::CommitNoShow, .. } if *who == ps[0]
		)));
		// Both commit; reveals open and the job completes.
		commit(id, replacement, 1);
		commit(id, m[3].0, 1);
		reveal(id, replacement, 1);
		reveal(id, m[3].0, 1);
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
	});
}

/// A replacement draw that fails in the block after a decline changes nothing: the round
/// goes on, and the close of the commits (here the co-replica's commit) draws instead.
#[test]
fn a_failed_replacement_draw_after_a_decline_leaves_it_to_the_close() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13]);
		let (id, ps) = assigned(2, 2);
		decline(id, ps[1]);
		AssignMoreFailures::set(1);
		run_to_block(System::block_number() + 1);
		assert_eq!(AssignMoreFailures::get(), 0);
		assert_eq!(members(id).len(), 2);
		assert!(FailedDeadlines::<Test>::get(id).is_none());
		commit(id, ps[0], 1);
		let m = members(id);
		assert_eq!(m.len(), 3);
		assert_eq!(m[2].1, MemberStatus::Assigned);
		assert!(!ps.contains(&m[2].0));
		assert!(nobody_faulted());
	});
}

#[test]
fn decline_errors() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13]);
		let d = |who: AccountId, job: JobId| {
			VmProof::decline_job(RuntimeOrigin::signed(who), job, DeclineReason::Other)
		};
		// No round: unknown, or still queued.
		assert_noop!(d(10, 999), Error::<Test>::NoRound);
		let (id, ps) = assigned(2, 2);
		let outsider = [10, 11, 12, 13].into_iter().find(|p| !ps.contains(p)).unwrap();
		assert_noop!(d(outsider, id), Error::<Test>::NotAssigned);
		assert_noop!(
			VmProof::decline_job(RuntimeOrigin::root(), id, DeclineReason::Other),
			sp_runtime::DispatchError::BadOrigin
		);
		// After a commit.
		commit(id, ps[1], 1);
		assert_noop!(d(ps[1], id), Error::<Test>::AlreadyCommitted);
		// Twice.
		assert_ok!(d(ps[0], id));
		assert_noop!(d(ps[0], id), Error::<Test>::AlreadyDeclined);
	});
}

#[test]
fn decline_is_allowed_until_the_commit_deadline_only() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13]);
		let (id, ps) = assigned(2, 2);
		let deadline = commit_deadline(id);
		// At the deadline itself: allowed (and late, see below).
		run_to_block(deadline);
		decline(id, ps[0]);
		// One block later, before the deadline is processed: refused.
		System::set_block_number(deadline + 1);
		assert_noop!(
			VmProof::decline_job(RuntimeOrigin::signed(ps[1]), id, DeclineReason::Other),
			Error::<Test>::CommitDeadlinePassed
		);
		// Once processed the member is a no-show, slashed; it cannot decline that away.
		System::set_block_number(deadline);
		run_to_block(deadline + 1);
		assert!(events().iter().any(|e| matches!(
			e,
			Event::ProviderFaulted { who, fault: Fault::CommitNoShow, .. } if *who == ps[1]
		)));
		assert_noop!(
			VmProof::decline_job(RuntimeOrigin::signed(ps[1]), id, DeclineReason::Other),
			Error::<Test>::CommitDeadlinePassed
		);
	});
}

/// The late-decline attack: a member that waits until the end of its commit window before
/// declining holds its co-replicas (here one that committed at once) for the whole window, as
/// a no-show does, and used to pay only reputation for it. A decline after the free first half
/// of the window is now slashed as a no-show, loses trust like one, and is reported as
/// `Fault::LateDecline`; its replacement is still drawn in the next block.
#[test]
fn a_decline_at_the_end_of_the_commit_window_is_slashed_as_a_no_show() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13]);
		let (id, ps) = assigned(2, 2);
		let (late, honest) = (ps[0], ps[1]);
		commit(id, honest, 1);
		let deadline = commit_deadline(id);
		run_to_block(deadline);
		System::reset_events();
		decline(id, late);
		let slash = pallet_job_queue::Params::<Test>::get().no_show_slash * BOND;
		assert!(slash > 0);
		let info = Providers::<Test>::get(late).unwrap();
		assert_eq!(info.bond, BOND - slash);
		assert_eq!(
			Balances::balance_on_hold(&HoldReason::ProviderBond.into(), &late),
			BOND - slash
		);
		assert_eq!((info.agreed, info.total), (0, 1));
		let faulted = events().iter().any(|e| {
			matches!(
				e,
				Event::ProviderFaulted { job, who, fault: Fault::LateDecline, slashed, .. }
					if *job == id && *who == late && *slashed == slash
			)
		});
		assert!(faulted, "the late decline is reported and slashed");
		assert!(events().iter().any(|e| matches!(
			e,
			Event::JobDeclined { who, reputation, .. }
				if *who == late && *reputation == VmProof::reputation_of(&info)
		)));
		// The slot is freed and the replacement drawn in the next block, as for any decline.
		assert!(!ProviderJobs::<Test>::get(late).contains(&id));
		run_to_block(deadline + 1);
		let m = members(id);
		assert_eq!(m.len(), 3);
		assert_eq!(m[0], (late, MemberStatus::Declined));
		assert_eq!(m[1], (honest, MemberStatus::Committed));
	});
}

/// The free half is the member's own window's: root widening `commit_window` after the draw
/// does not turn a prompt decline into a late one (it did while the current parameter was
/// used).
#[test]
fn a_wider_commit_window_set_after_the_draw_does_not_make_a_prompt_decline_late() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13]);
		let (id, ps) = assigned(2, 2);
		let mut p = pallet_job_queue::Params::<Test>::get();
		p.commit_window = 40;
		assert_ok!(JobQueue::set_params(RuntimeOrigin::root(), p));
		decline(id, ps[0]);
		assert_eq!(Providers::<Test>::get(ps[0]).unwrap().bond, BOND);
		assert!(nobody_faulted());
	});
}

/// The free first half of the window ends `commit_window / 2` blocks before the member's
/// deadline: a decline in its last block costs reputation only, one block later the slash.
#[test]
fn a_decline_in_the_first_half_of_the_window_is_free_and_one_block_later_is_not() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13, 14, 15]);
		let (first, a) = assigned(2, 2);
		let (second, b) = assigned(2, 2);
		let half = COMMIT_WINDOW / 2;
		let free_until = commit_deadline(first) - half;
		assert_eq!(commit_deadline(second), commit_deadline(first) + 1);
		assert!(!VmProof::is_late_decline(free_until, commit_deadline(first), COMMIT_WINDOW));
		assert!(VmProof::is_late_decline(free_until + 1, commit_deadline(first), COMMIT_WINDOW));
		run_to_block(free_until);
		decline(first, a[0]);
		assert_eq!(Providers::<Test>::get(a[0]).unwrap().bond, BOND);
		assert!(nobody_faulted());
		// The second job was drawn a block later: its free half ends a block later too.
		run_to_block(free_until + 1);
		decline(second, b[0]);
		assert_eq!(Providers::<Test>::get(b[0]).unwrap().bond, BOND);
		assert!(nobody_faulted());
		decline(first, a[1]);
		assert!(Providers::<Test>::get(a[1]).unwrap().bond < BOND);
		assert!(events().iter().any(|e| matches!(
			e,
			Event::ProviderFaulted { who, fault: Fault::LateDecline, .. } if *who == a[1]
		)));
	});
}

// ---------- most providers decline ----------

/// Two of three providers decline before anyone commits: the job ends at once, the escrow is
/// refunded, the deposit paid to the two decliners, every slot freed, nobody slashed.
#[test]
fn most_declines_end_the_job_and_the_customer_pays_the_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13]);
		let (id, ps) = assigned(3, 3);
		let deposit = Jobs::<Test>::get(id).unwrap().deposit;
		let budget = Jobs::<Test>::get(id).unwrap().budget;
		let customer = Balances::balance(&CUSTOMER);
		let free = |p: AccountId| Balances::balance(&p);
		let before: Vec<u64> = ps.iter().map(|p| free(*p)).collect();
		decline(id, ps[0]);
		// One of three: the job goes on.
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Assigned);
		decline(id, ps[1]);
		// Two of three: unrunnable.
		assert!(Jobs::<Test>::get(id).is_none());
		assert!(Rounds::<Test>::get(id).is_none());
		for p in ps.iter() {
			assert!(!ProviderJobs::<Test>::get(p).contains(&id));
			assert_eq!(Providers::<Test>::get(p).unwrap().bond, BOND);
		}
		assert!(nobody_faulted());
		let (share, rest) = (deposit / 2, deposit % 2);
		assert_eq!(free(ps[0]), before[0] + share);
		assert_eq!(free(ps[1]), before[1] + share);
		assert_eq!(free(ps[2]), before[2]);
		assert_eq!((escrow_held(), deposit_held()), (0, 0));
		assert_eq!(Balances::balance(&CUSTOMER), customer + budget + rest);
		assert!(events().contains(&Event::JobUnrunnable {
			job: id,
			decliners: BoundedVec::truncate_from(vec![ps[0], ps[1]]),
			drawn: 3,
		}));
		assert!(queue_events().iter().any(|e| matches!(
			e,
			pallet_job_queue::Event::JobUnrunnable { job, refunded, .. }
				if *job == id && *refunded == budget
		)));
		// The remaining member can no longer commit; later deadlines find nothing.
		assert_noop!(
			VmProof::commit_result(RuntimeOrigin::signed(ps[2]), id, [0; 32]),
			Error::<Test>::NoRound
		);
		run_to_block(System::block_number() + 20);
		assert!(nobody_faulted());
	});
}

/// One provider alone never ends a job (and takes the deposit): the single replica of a job
/// declines, its replacement is drawn in the next block, and only when that one declines too
/// does the job end.
#[test]
fn a_single_decline_never_ends_a_job() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12]);
		let (id, ps) = assigned(1, 1);
		decline(id, ps[0]);
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Assigned);
		run_to_block(System::block_number() + 1);
		let m = members(id);
		assert_eq!(m.len(), 2);
		let second = m[1].0;
		assert_ne!(second, ps[0]);
		let deposit = Jobs::<Test>::get(id).unwrap().deposit;
		let before = Balances::balance(&ps[0]);
		decline(id, second);
		assert!(Jobs::<Test>::get(id).is_none());
		assert_eq!(Balances::balance(&ps[0]), before + deposit / 2);
		assert!(nobody_faulted());
	});
}

/// A sealed result shows the job can run: declines then never end it, the round goes on.
#[test]
fn a_committed_member_keeps_the_job_alive() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13, 14, 15]);
		let (id, ps) = assigned(3, 3);
		commit(id, ps[0], 1);
		decline(id, ps[1]);
		decline(id, ps[2]);
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Assigned);
		run_to_block(System::block_number() + 1);
		// Two replacements, drawn in the next block, none of them a decliner.
		let m = members(id);
		assert_eq!(m.len(), 5);
		assert!(m[3..].iter().all(|(p, s)| !ps.contains(p) && *s == MemberStatus::Assigned));
		assert!(nobody_faulted());
	});
}

#[test]
fn try_state_catches_a_decliner_that_keeps_its_slot() {
	ExtBuilder::default().build().execute_with(|| {
		setup(&[10, 11, 12]);
		let (id, ps) = assigned(2, 2);
		decline(id, ps[0]);
		assert_ok!(VmProof::do_try_state());
		ProviderJobs::<Test>::mutate(ps[0], |jobs| jobs.try_push(id).unwrap());
		assert!(VmProof::do_try_state().is_err());
	});
}

//! Long jobs: job heartbeats and stalled members (see [`crate::stall`]).
//!
//! The mock's blocks take 20 s and its `StallTimeout` is 30 blocks; the commit window is 5
//! blocks, so a job of an hour gets a window of its own: (3,600 s + 30 s) / 20 s = 182 blocks,
//! and the default window's 5 of slack.

use crate::{
	mock::*,
	pallet::*,
	tests_verdict::{
		assigned, assigned_with, bond_of, commit, reveal, setup, setup_with, usage, BOND,
	},
	types::*,
	Error, Event,
};
use frame_support::{assert_noop, assert_ok, dispatch::Pays};
use pallet_job_queue::Jobs;
use povm_primitives::JobState;

const STALL: u64 = 30;
const HOUR_WINDOW: u64 = 182 + 5;

fn hour_job() -> Resources {
	Resources { millicores: 1000, memory_mib: 256, max_seconds: 3_600 }
}

/// A one-replica job of an hour, assigned; returns it, its member and the draw block.
fn long_job() -> (JobId, AccountId, u64) {
	let (job, providers) = assigned_with(hour_job(), 1, 1, 1);
	(job, providers[0], System::block_number())
}

fn beat(job: JobId, who: AccountId) -> Pays {
	VmProof::job_heartbeat(RuntimeOrigin::signed(who), job)
		.expect("heartbeat taken")
		.pays_fee
}

fn status_of(job: JobId, who: AccountId) -> MemberStatus {
	Rounds::<Test>::get(job)
		.unwrap()
		.members
		.iter()
		.find(|m| m.who == who)
		.unwrap()
		.status
}

fn stalled(job: JobId, who: AccountId) -> bool {
	events().iter().any(|e| {
		matches!(e, Event::ProviderFaulted { job: j, who: w, fault: Fault::Stalled, .. }
			if *j == job && *w == who)
	})
}

#[test]
fn a_long_job_gets_a_commit_window_to_match_its_run_time() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (job, who, drawn) = long_job();
		let m = Rounds::<Test>::get(job).unwrap().members[0].clone();
		assert_eq!(m.commit_deadline, drawn + HOUR_WINDOW);
		assert_eq!(Jobs::<Test>::get(job).unwrap().commit_deadline, Some(drawn + HOUR_WINDOW));
		// It must beat: its draw is its first sign of life.
		assert_eq!(JobHeartbeats::<Test>::get(job, who), Some(drawn));
	});
}

/// The attack: take a long job's slot and do nothing. Without heartbeats the job would wait
/// for the whole 182-block window; the member is replaced `StallTimeout + 1` blocks after its
/// draw, slashed as a no-show.
#[test]
fn a_member_that_stops_sending_heartbeats_is_replaced_long_before_its_run_time() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (job, who, drawn) = long_job();
		run_to_block(drawn + STALL);
		assert_eq!(status_of(job, who), MemberStatus::Assigned);
		run_to_block(drawn + STALL + 1);
		assert_eq!(status_of(job, who), MemberStatus::NoShow);
		assert!(stalled(job, who));
		assert!(bond_of(who) < BOND);
		// Its replacement is drawn at once, with a whole window and heartbeats of its own.
		let providers = Jobs::<Test>::get(job).unwrap().providers.to_vec();
		assert_eq!(providers.len(), 2);
		let next = providers[1];
		assert_ne!(next, who);
		assert_eq!(JobHeartbeats::<Test>::get(job, next), Some(drawn + STALL + 1));
		let m = Rounds::<Test>::get(job).unwrap().members[1].clone();
		assert_eq!(m.commit_deadline, drawn + STALL + 1 + HOUR_WINDOW);
		assert_eq!(ProviderJobs::<Test>::get(who).len(), 0);
	});
}

#[test]
fn a_member_that_keeps_beating_holds_its_slot_to_its_commit() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (job, who, drawn) = long_job();
		let mut b = drawn;
		while b + STALL < drawn + 170 {
			b += STALL;
			run_to_block(b);
			// Every `StallTimeout` blocks (the most a member may wait), free.
			assert_eq!(beat(job, who), Pays::No);
		}
		run_to_block(drawn + 175);
		assert_eq!(status_of(job, who), MemberStatus::Assigned);
		assert!(!stalled(job, who));
		commit(job, who, 1, b"ok", usage(1_000));
		// Committed: no heartbeat owed any more, none taken.
		assert_eq!(JobHeartbeats::<Test>::get(job, who), None);
		assert_noop!(
			VmProof::job_heartbeat(RuntimeOrigin::signed(who), job),
			Error::<Test>::AlreadyCommitted
		);
		assert_eq!(Jobs::<Test>::get(job).unwrap().providers.len(), 1);
	});
}

/// Heartbeats are free only a quarter of `StallTimeout` apart: spamming them pays fees.
#[test]
fn a_heartbeat_too_soon_after_the_last_pays_its_fee() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		let (job, who, drawn) = long_job();
		run_to_block(drawn + 1);
		assert_eq!(beat(job, who), Pays::Yes);
		run_to_block(drawn + 2);
		assert_eq!(beat(job, who), Pays::Yes);
		run_to_block(drawn + 2 + STALL / 4);
		assert_eq!(beat(job, who), Pays::No);
		assert_eq!(JobHeartbeats::<Test>::get(job, who), Some(drawn + 2 + STALL / 4));
		assert!(events().contains(&Event::JobHeartbeat { job, who }));
	});
}

#[test]
fn only_a_member_owing_a_long_commit_sends_heartbeats() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (job, who, _) = long_job();
		let other = if who == 10 { 11 } else { 10 };
		assert_noop!(
			VmProof::job_heartbeat(RuntimeOrigin::signed(other), job),
			Error::<Test>::NotAssigned
		);
		assert_noop!(
			VmProof::job_heartbeat(RuntimeOrigin::signed(who), job + 1),
			Error::<Test>::NoRound
		);
		// A short job (60 s in a 5-block window) owes no heartbeats: its deadline comes first.
		let (short, members) = assigned(1, 1, 1);
		assert_eq!(JobHeartbeats::<Test>::get(short, members[0]), None);
		assert_noop!(
			VmProof::job_heartbeat(RuntimeOrigin::signed(members[0]), short),
			Error::<Test>::NoHeartbeatNeeded
		);
	});
}

/// A long job is free to decline for half a `StallTimeout` after the draw, not half its window.
#[test]
fn a_long_jobs_free_decline_ends_half_a_stall_timeout_after_the_draw() {
	ExtBuilder::default().build_and_execute(|| {
		let deadline = 100 + HOUR_WINDOW;
		assert!(!VmProof::is_late_decline(100 + STALL / 2, deadline, HOUR_WINDOW));
		assert!(VmProof::is_late_decline(100 + STALL / 2 + 1, deadline, HOUR_WINDOW));
		// A short window keeps its free first half.
		assert!(!VmProof::is_late_decline(103, 105, 5));
		assert!(VmProof::is_late_decline(104, 105, 5));
	});
}

#[test]
fn heartbeat_entries_go_with_the_round() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (job, who, drawn) = long_job();
		// Stalled and replaced: the stalled member's entry stays until the round closes.
		run_to_block(drawn + STALL + 1);
		assert!(JobHeartbeats::<Test>::get(job, who).is_some());
		let next = Jobs::<Test>::get(job).unwrap().providers[1];
		commit(job, next, 1, b"ok", usage(1_000));
		reveal(job, next, 1, b"ok", usage(1_000));
		assert!(Rounds::<Test>::get(job).is_none());
		assert_eq!(Jobs::<Test>::get(job).unwrap().state, JobState::Completed);
		assert_eq!(JobHeartbeats::<Test>::iter_prefix(job).count(), 0);
		assert_ok!(VmProof::do_try_state());
	});
}

/// Every draw wave and every decline used to start its own chain of stall checks, each
/// charged a whole deadline: a job has one pending check at a time.
#[test]
fn draw_waves_and_declines_keep_one_stall_check_per_job() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13]);
		let (job, providers) = assigned_with(hour_job(), 2, 2, 1);
		let drawn = System::block_number();
		let first_check = drawn + STALL + 1;
		assert_eq!(StallChecks::<Test>::get(job), Some(first_check));
		// A free decline: its replacement is drawn in the next block, a wave of its own.
		run_to_block(drawn + 2);
		assert_ok!(VmProof::decline_job(
			RuntimeOrigin::signed(providers[0]),
			job,
			DeclineReason::Other
		));
		run_to_block(drawn + 3);
		assert_eq!(Rounds::<Test>::get(job).unwrap().members.len(), 3);
		assert_eq!(StallChecks::<Test>::get(job), Some(first_check));
		let pending_checks = Deadlines::<Test>::iter()
			.filter(|(b, jobs)| *b > drawn + 3 && *b <= drawn + STALL + 4 && jobs.contains(&job))
			.count();
		assert_eq!(pending_checks, 1, "one stall check within the next StallTimeout");
		// The check finds nobody stalled (both beat) and schedules the next one.
		let members: Vec<AccountId> = Rounds::<Test>::get(job)
			.unwrap()
			.members
			.iter()
			.filter(|m| m.status == MemberStatus::Assigned)
			.map(|m| m.who)
			.collect();
		run_to_block(drawn + STALL);
		for who in &members {
			assert_eq!(beat(job, *who), Pays::No);
		}
		run_to_block(first_check);
		assert!(members.iter().all(|who| status_of(job, *who) == MemberStatus::Assigned));
		// Both beat at `drawn + STALL`: the next block either could stall.
		assert_eq!(StallChecks::<Test>::get(job), Some(drawn + STALL + STALL + 1));
		assert_ok!(VmProof::do_try_state());
	});
}

/// A long job's decline is free for half a `StallTimeout` after the draw, then slashed as a
/// late decline (not for half its 187-block window).
#[test]
fn declining_a_long_job_is_free_early_and_slashed_after_half_a_stall_timeout() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13]);
		let (job, providers) = assigned_with(hour_job(), 2, 2, 1);
		let drawn = System::block_number();
		run_to_block(drawn + STALL / 2);
		assert_ok!(VmProof::decline_job(
			RuntimeOrigin::signed(providers[0]),
			job,
			DeclineReason::Other
		));
		assert_eq!(bond_of(providers[0]), BOND);
		run_to_block(drawn + STALL / 2 + 1);
		assert_ok!(VmProof::decline_job(
			RuntimeOrigin::signed(providers[1]),
			job,
			DeclineReason::Other
		));
		assert!(bond_of(providers[1]) < BOND);
		assert!(events().iter().any(|e| matches!(e,
			Event::ProviderFaulted { who, fault: Fault::LateDecline, .. } if *who == providers[1])));
	});
}

/// Root widening the default window beyond `StallTimeout` does not make jobs that fit it owe
/// heartbeats: only a long job's window (longer than the default) does.
#[test]
fn a_wide_default_window_does_not_make_short_jobs_beat() {
	ExtBuilder::default().build_and_execute(|| {
		setup_with(&[10, 11], offer(), STALL + 10);
		let (job, members) = assigned(1, 1, 1);
		assert_eq!(
			Rounds::<Test>::get(job).unwrap().members[0].commit_deadline,
			System::block_number() + STALL + 10
		);
		assert_eq!(JobHeartbeats::<Test>::get(job, members[0]), None);
		assert_eq!(StallChecks::<Test>::get(job), None);
	});
}

//! Results the customer can read (issue 14): the outcome of an accepted result on chain,
//! bound to what the agreeing replicas committed, and where each provider serves the files.

use crate::{
	mock::*,
	pallet::*,
	tests_verdict::{assigned, commit_to, setup, usage, MaxCp},
	types::*,
	verdict::merkle_root,
	Error, Event,
};
use frame_support::{assert_noop, assert_ok, BoundedVec};
use pallet_job_queue::{Outcomes, Results};
use povm_primitives::results::MAX_RETENTION_SECONDS;

/// How a run ended: exit `code`, the files digest `[tag; 32]`.
fn outcome(code: i64, tag: u8) -> RunOutcome {
	RunOutcome {
		exit_code: code,
		timed_out: false,
		oom_killed: code == 137,
		truncated: false,
		contents_digest: [tag; 32],
	}
}

/// `who`'s reveal of the result `o` stands for.
fn rev_of(who: AccountId, o: &RunOutcome) -> (Reveal, BoundedVec<Digest, MaxCp>) {
	let leaves = vec![[7; 32]];
	(
		Reveal {
			result_digest: o.result_digest(),
			checkpoints_root: merkle_root(&leaves),
			salt: [who as u8; 32],
			output: BoundedVec::truncate_from(b"heads".to_vec()),
			usage: usage(1_000),
		},
		BoundedVec::truncate_from(leaves),
	)
}

fn commit_outcome(job: JobId, who: AccountId, o: &RunOutcome) {
	commit_to(job, who, &rev_of(who, o).0);
}

fn service(url: &[u8], retention_secs: u32) -> ResultService {
	ResultService { url: BoundedVec::truncate_from(url.to_vec()), retention_secs }
}

/// Two replicas agree on a run that exited 3; the chain shows exit code 3 and the flags next
/// to the accepted result, and the outcome hashes to the result digest.
#[test]
fn an_accepted_result_shows_how_the_run_ended() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (job, ps) = assigned(2, 2, 1);
		let o = outcome(3, 1);
		for p in &ps {
			commit_outcome(job, *p, &o);
		}
		for p in &ps {
			let (r, l) = rev_of(*p, &o);
			assert_ok!(VmProof::reveal_result(RuntimeOrigin::signed(*p), job, r, l, Some(o)));
		}
		let result = Results::<Test>::get(job).expect("completed");
		assert_eq!(Outcomes::<Test>::get(job), Some(o));
		assert_eq!(o.result_digest(), result.result_digest);
	});
}

/// Attack: a replica that agrees on the result digest reveals a false outcome (exit code 0
/// where the run failed, to pass off a failed run as a success). The outcome does not hash to
/// the committed digest: refused, nothing changes, and the honest replica's outcome is shown.
#[test]
fn a_replica_cannot_show_a_false_outcome_for_the_agreed_result() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (job, ps) = assigned(2, 2, 1);
		let truth = outcome(1, 1);
		for p in &ps {
			commit_outcome(job, *p, &truth);
		}
		let liar = ps[0];
		let (r, l) = rev_of(liar, &truth);
		assert_noop!(
			VmProof::reveal_result(RuntimeOrigin::signed(liar), job, r, l, Some(outcome(0, 1))),
			Error::<Test>::OutcomeMismatch
		);
		// Withholding it is all the liar can do; the other agreeing replica shows it.
		let (r, l) = rev_of(liar, &truth);
		assert_ok!(VmProof::reveal_result(RuntimeOrigin::signed(liar), job, r, l, None));
		let (r, l) = rev_of(ps[1], &truth);
		assert_ok!(VmProof::reveal_result(RuntimeOrigin::signed(ps[1]), job, r, l, Some(truth)));
		assert_eq!(Outcomes::<Test>::get(job), Some(truth));
	});
}

/// Reveals without an outcome (a worker before spec 108) are still accepted; the result then
/// shows none, and reaping the job removes result and outcome alike.
#[test]
fn a_result_without_outcomes_shows_none_and_reaping_removes_the_outcome() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		let (job, ps) = assigned(2, 2, 1);
		let o = outcome(0, 2);
		for p in &ps {
			commit_outcome(job, *p, &o);
		}
		for p in &ps {
			let (r, l) = rev_of(*p, &o);
			assert_ok!(VmProof::reveal_result(RuntimeOrigin::signed(*p), job, r, l, None));
		}
		assert!(Results::<Test>::get(job).is_some());
		assert_eq!(Outcomes::<Test>::get(job), None);

		let (job, ps) = assigned(2, 2, 1);
		for p in &ps {
			commit_outcome(job, *p, &o);
		}
		for p in &ps {
			let (r, l) = rev_of(*p, &o);
			assert_ok!(VmProof::reveal_result(RuntimeOrigin::signed(*p), job, r, l, Some(o)));
		}
		assert_eq!(Outcomes::<Test>::get(job), Some(o));
		assert_ok!(JobQueue::reap_job(RuntimeOrigin::signed(CUSTOMER), job));
		assert_eq!(Outcomes::<Test>::get(job), None);
	});
}

/// A provider states where it serves results; only a registered provider can, only a
/// well-formed service is kept, `None` removes it, and withdrawing the bond removes it too.
#[test]
fn providers_state_their_result_service() {
	ExtBuilder::default().build_and_execute(|| {
		let good = service(b"https://results.example.org/povm", 86_400);
		assert_noop!(
			VmProof::set_result_service(RuntimeOrigin::signed(10), Some(good.clone())),
			Error::<Test>::NotRegistered
		);
		setup(&[10]);
		for bad in [
			service(b"ftp://results.example.org", 86_400),
			service(b"https://user:secret@results.example.org", 86_400),
			service(b"https://results.example.org/?token=secret", 86_400),
			service(b"https://results.example.org", 0),
			service(b"https://results.example.org", MAX_RETENTION_SECONDS + 1),
		] {
			assert_noop!(
				VmProof::set_result_service(RuntimeOrigin::signed(10), Some(bad)),
				Error::<Test>::BadResultService
			);
		}
		assert_ok!(VmProof::set_result_service(RuntimeOrigin::signed(10), Some(good.clone())));
		assert_eq!(ResultServices::<Test>::get(10), Some(good.clone()));
		System::assert_last_event(
			Event::ResultServiceSet { who: 10, service: Some(good.clone()) }.into(),
		);
		assert_ok!(VmProof::set_result_service(RuntimeOrigin::signed(10), None));
		assert_eq!(ResultServices::<Test>::get(10), None);

		assert_ok!(VmProof::set_result_service(RuntimeOrigin::signed(10), Some(good)));
		assert_ok!(VmProof::unregister(RuntimeOrigin::signed(10)));
		run_to_block(System::block_number() + 10);
		assert_ok!(VmProof::withdraw_bond(RuntimeOrigin::signed(10)));
		assert_eq!(ResultServices::<Test>::get(10), None);
	});
}

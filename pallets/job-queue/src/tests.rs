//! Tests of the job queue on a mock registry.

use crate::{mock::*, pallet::*, types::*, Error, Event};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
	BoundedVec,
};
use povm_primitives::{JobLedger, ProviderRegistry, RedundancyPolicy, Settlement};
use sp_runtime::{DispatchError, Perbill};

pub(crate) fn spec(min: u32, max: u32, margin: u32, price: u64) -> JobSpecOf<Test> {
	JobSpec {
		image: povm_primitives::ImageRef::local([0; 32]),
		command: BoundedVec::truncate_from(b"/bin/flip".to_vec()),
		args: BoundedVec::default(),
		env: BoundedVec::default(),
		inputs: BoundedVec::default(),
		resources: Resources { millicores: 500, memory_mib: 128, max_seconds: 10 },
		price_per_second: price,
		redundancy: RedundancyPolicy { min_replicas: min, max_replicas: max, margin },
		checkpoint_interval: 0,
	}
}

pub(crate) fn good() -> JobSpecOf<Test> {
	spec(1, 2, 1, 5)
}

pub(crate) fn offer() -> Resources {
	Resources { millicores: 1000, memory_mib: 1024, max_seconds: 3600 }
}

pub(crate) fn submit(who: AccountId, s: JobSpecOf<Test>) -> JobId {
	let budget = JobQueue::max_cost(&s).unwrap();
	assert_ok!(JobQueue::submit_job(RuntimeOrigin::signed(who), Box::new(s), budget));
	Counters::<Test>::get().next_job_id - 1
}

pub(crate) fn held(who: AccountId) -> (u64, u64) {
	(
		Balances::balance_on_hold(&HoldReason::JobBudget.into(), &who),
		Balances::balance_on_hold(&HoldReason::JobDeposit.into(), &who),
	)
}

#[test]
fn submit_job_holds_budget_and_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		let s = good();
		let deposit = JobQueue::deposit_for(&s).unwrap();
		assert_ok!(JobQueue::submit_job(RuntimeOrigin::signed(ALICE), Box::new(s), 150));
		assert_eq!(held(ALICE), (150 + deposit, 0));
		assert_eq!(Balances::balance(&ALICE), 1_000_000 - 150 - deposit);
		let job = Jobs::<Test>::get(0).unwrap();
		assert_eq!(job.state, JobState::Queued);
		assert_eq!(queue_order(), vec![0]);
		assert!(events().contains(&Event::JobSubmitted {
			job: 0,
			owner: ALICE,
			budget: 150,
			deposit,
			price_per_second: 5,
			expires_at: 601,
		}));
	});
}

#[test]
fn submit_job_needs_signed_origin() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			JobQueue::submit_job(RuntimeOrigin::root(), Box::new(good()), 1_000),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn submit_job_refuses_bad_image_refs() {
	ExtBuilder::default().build_and_execute(|| {
		for bad in [
			&b"ubuntu:latest"[..],
			b"registry.example.org/pi:latest",
			b"registry.example.org/pi@sha256:00",
			b"https://registry.example.org/pi",
			b"registry.example.org/Pi",
			b"",
		] {
			let mut s = good();
			s.image.registry = Some(povm_primitives::RegistryRef {
				repository: BoundedVec::truncate_from(bad.to_vec()),
				manifest: [1; 32],
			});
			assert_noop!(
				JobQueue::submit_job(RuntimeOrigin::signed(ALICE), Box::new(s), 1_000),
				Error::<Test>::BadImageRef
			);
		}
		let mut s = good();
		s.image.registry = Some(povm_primitives::RegistryRef {
			repository: BoundedVec::truncate_from(b"127.0.0.1:5000/povm/pi".to_vec()),
			manifest: [1; 32],
		});
		submit(ALICE, s);
	});
}

/// An input of `size` bytes named `name` at `url`.
fn input(name: &[u8], url: &[u8], size: u64) -> povm_primitives::InputRef {
	povm_primitives::InputRef {
		name: BoundedVec::truncate_from(name.to_vec()),
		url: BoundedVec::truncate_from(url.to_vec()),
		sha256: [2; 32],
		size,
	}
}

#[test]
fn submit_job_refuses_bad_inputs_and_changes_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let url = &b"https://data.example.org/in.csv"[..];
		let cases = [
			(Error::<Test>::BadInputName, vec![input(b"../etc/passwd", url, 1)]),
			(Error::<Test>::BadInputName, vec![input(b".hidden", url, 1)]),
			(Error::<Test>::BadInputName, vec![input(b"", url, 1)]),
			(Error::<Test>::DuplicateInputName, vec![input(b"a", url, 1), input(b"a", url, 2)]),
			(Error::<Test>::BadInputUrl, vec![input(b"a", b"file:///etc/passwd", 1)]),
			(
				Error::<Test>::BadInputUrl,
				vec![input(b"a", b"https://user:token@data.example.org/x", 1)],
			),
			(
				Error::<Test>::InputTooLarge,
				vec![input(b"a", url, povm_primitives::MAX_INPUT_BYTES + 1)],
			),
		];
		for (error, inputs) in cases {
			let mut s = good();
			s.inputs = BoundedVec::truncate_from(inputs);
			assert_noop!(
				JobQueue::submit_job(RuntimeOrigin::signed(ALICE), Box::new(s), 1_000),
				error
			);
		}
		let mut s = good();
		s.inputs = BoundedVec::truncate_from(vec![
			input(b"data.csv", url, 10),
			input(b"model.bin", b"http://127.0.0.1:8080/m", povm_primitives::MAX_INPUT_BYTES),
		]);
		let job = submit(ALICE, s.clone());
		assert_eq!(Jobs::<Test>::get(job).unwrap().spec.inputs, s.inputs);
	});
}

/// Specs whose command, arguments or environment a worker cannot pass to a process.
fn bad_text_specs() -> Vec<(Error<Test>, JobSpecOf<Test>)> {
	fn text<const N: u32>(b: &[u8]) -> povm_primitives::Bytes<N> {
		BoundedVec::truncate_from(b.to_vec())
	}
	let env = |k: &[u8], v: &[u8]| povm_primitives::EnvVar { key: text(k), value: text(v) };
	let mut out = Vec::new();
	let mut s = good();
	s.command = text(b"/bin/\xff");
	out.push((Error::<Test>::BadCommand, s));
	let mut s = good();
	s.command = text(b"/bin/a\0b");
	out.push((Error::<Test>::BadCommand, s));
	let mut s = good();
	s.args = BoundedVec::truncate_from(vec![text(b"ok"), text(&[0xc3, 0x28])]);
	out.push((Error::<Test>::BadArg, s));
	let mut s = good();
	s.args = BoundedVec::truncate_from(vec![text(b"a\0")]);
	out.push((Error::<Test>::BadArg, s));
	let mut s = good();
	s.env = BoundedVec::truncate_from(vec![env(b"K\xfe", b"v")]);
	out.push((Error::<Test>::BadEnvVar, s));
	let mut s = good();
	s.env = BoundedVec::truncate_from(vec![env(b"K", &[0xe2, 0x82])]);
	out.push((Error::<Test>::BadEnvVar, s));
	let mut s = good();
	s.env = BoundedVec::truncate_from(vec![env(b"", b"v")]);
	out.push((Error::<Test>::BadEnvVar, s));
	let mut s = good();
	s.env = BoundedVec::truncate_from(vec![env(b"A=B", b"v")]);
	out.push((Error::<Test>::BadEnvVar, s));
	let mut s = good();
	s.env = BoundedVec::truncate_from(vec![env(b"K", b"v\0")]);
	out.push((Error::<Test>::BadEnvVar, s));
	out
}

#[test]
fn submit_job_refuses_text_a_worker_cannot_run() {
	ExtBuilder::default().build_and_execute(|| {
		for (error, s) in bad_text_specs() {
			let budget = JobQueue::max_cost(&s).unwrap();
			assert_noop!(
				JobQueue::submit_job(RuntimeOrigin::signed(ALICE), Box::new(s), budget),
				error
			);
		}
		// Text that is fine: UTF-8 beyond ASCII, `=` in values, an empty command.
		let mut s = good();
		s.command = BoundedVec::default();
		s.args = BoundedVec::truncate_from(vec![BoundedVec::truncate_from("caf\u{e9}".into())]);
		s.env = BoundedVec::truncate_from(vec![povm_primitives::EnvVar {
			key: BoundedVec::truncate_from(b"OPTS".to_vec()),
			value: BoundedVec::truncate_from(b"a=b".to_vec()),
		}]);
		submit(ALICE, s);
	});
}

#[test]
fn submit_job_refuses_zero_resources() {
	ExtBuilder::default().build_and_execute(|| {
		let mut s = good();
		s.resources.memory_mib = 0;
		assert_noop!(
			JobQueue::submit_job(RuntimeOrigin::signed(ALICE), Box::new(s), 1_000),
			Error::<Test>::ZeroResources
		);
	});
}

#[test]
fn submit_job_refuses_resources_beyond_physical_bounds() {
	ExtBuilder::default().build_and_execute(|| {
		let mut s = good();
		s.resources.millicores = povm_primitives::MAX_MILLICORES + 1;
		assert_noop!(
			JobQueue::submit_job(RuntimeOrigin::signed(ALICE), Box::new(s), 1_000),
			Error::<Test>::ResourcesTooLarge
		);
		let mut s = good();
		s.resources.memory_mib = povm_primitives::MAX_MEMORY_MIB + 1;
		assert_noop!(
			JobQueue::submit_job(RuntimeOrigin::signed(ALICE), Box::new(s), 1_000),
			Error::<Test>::ResourcesTooLarge
		);
		let mut s = good();
		s.resources.max_seconds = povm_primitives::MAX_JOB_SECONDS + 1;
		assert_noop!(
			JobQueue::submit_job(RuntimeOrigin::signed(ALICE), Box::new(s), 1_000),
			Error::<Test>::ResourcesTooLarge
		);
	});
}

#[test]
fn submit_job_refuses_zero_price() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			JobQueue::submit_job(RuntimeOrigin::signed(ALICE), Box::new(spec(1, 1, 1, 0)), 1_000),
			Error::<Test>::ZeroPrice
		);
	});
}

#[test]
fn submit_job_refuses_bad_redundancy() {
	ExtBuilder::default().build_and_execute(|| {
		let cases = [
			(spec(0, 1, 1, 5), Error::<Test>::ZeroMinReplicas),
			(spec(3, 2, 1, 5), Error::<Test>::MaxBelowMin),
			(spec(1, 6, 1, 5), Error::<Test>::TooManyReplicas),
			(spec(1, 2, 0, 5), Error::<Test>::ZeroMargin),
			(spec(1, 2, 3, 5), Error::<Test>::MarginUnreachable),
		];
		for (s, e) in cases {
			assert_noop!(
				JobQueue::submit_job(RuntimeOrigin::signed(ALICE), Box::new(s), 100_000),
				e
			);
		}
	});
}

/// The run-time bound (issue 13): one global commit window used to bound every job's run
/// time (`RunTimeExceedsCommitWindow` above 90 s). A 24-hour job is taken now, and its
/// members get a commit window of their own: the run plus the start margin, in blocks, plus
/// a default window of slack.
#[test]
fn a_24_hour_job_is_taken_and_its_members_get_a_window_to_match() {
	ExtBuilder::default().build_and_execute(|| {
		add_provider(100, Perbill::one(), Resources { max_seconds: 24 * 3600, ..offer() }, 1);
		let mut s = spec(1, 1, 1, 1);
		s.resources.max_seconds = 24 * 3600;
		let id = submit(ALICE, s);
		run_to_block(2);
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!(job.state, JobState::Assigned);
		// (86,400 s + 30 s) / 6 s per block = 14,405 blocks, and the default 20 of slack.
		assert_eq!(job.commit_deadline, Some(2 + 14_405 + 20));
	});
}

#[test]
fn submit_job_refuses_run_time_beyond_the_longest_run() {
	ExtBuilder::default().build_and_execute(|| {
		let mut s = spec(1, 1, 1, 1);
		s.resources.max_seconds = 24 * 3600 + 1;
		assert_noop!(
			JobQueue::submit_job(RuntimeOrigin::signed(ALICE), Box::new(s), 100_000),
			Error::<Test>::RunTimeTooLong
		);
		assert_eq!(held(ALICE), (0, 0));
	});
}

#[test]
fn a_job_filling_the_default_window_keeps_it() {
	ExtBuilder::default().build_and_execute(|| {
		add_provider(100, Perbill::one(), offer(), 1);
		// 90 s + 30 s = 120 s: exactly the default window of 20 blocks × 6 s.
		let mut s = spec(1, 1, 1, 5);
		s.resources.max_seconds = 90;
		let id = submit(ALICE, s);
		run_to_block(2);
		assert_eq!(Jobs::<Test>::get(id).unwrap().commit_deadline, Some(2 + 20));
	});
}

#[test]
fn the_commit_window_follows_the_run_time_above_the_current_window() {
	ExtBuilder::default().build_and_execute(|| {
		let mut p = Params::<Test>::get();
		// 7 blocks × 6 s = 42 s: room for 12 s of run time.
		p.commit_window = 7;
		assert_ok!(JobQueue::set_params(RuntimeOrigin::root(), p));
		assert_eq!(JobQueue::commit_window_for(12, &p), 7);
		// 13 s + 30 s = 43 s: 8 blocks, and 7 of slack.
		assert_eq!(JobQueue::commit_window_for(13, &p), 8 + 7);
		assert_eq!(JobQueue::commit_window_for(24 * 3600, &p), 14_405 + 7);
	});
}

#[test]
fn set_params_refuses_commit_window_too_short_for_any_job() {
	ExtBuilder::default().build_and_execute(|| {
		let mut p = Params::<Test>::get();
		// 5 blocks × 6 s = 30 s: all start margin, no second of run time.
		p.commit_window = 5;
		assert_noop!(JobQueue::set_params(RuntimeOrigin::root(), p), Error::<Test>::BadParams);
		// 6 blocks = 36 s fits a 1 s job.
		p.commit_window = 6;
		assert_ok!(JobQueue::set_params(RuntimeOrigin::root(), p));
	});
}

#[test]
fn submit_job_refuses_low_budget() {
	ExtBuilder::default().build_and_execute(|| {
		// 2 replicas × 10 s × 5 = 100.
		assert_noop!(
			JobQueue::submit_job(RuntimeOrigin::signed(ALICE), Box::new(good()), 99),
			Error::<Test>::BudgetTooLow
		);
	});
}

#[test]
fn submit_job_refuses_overflowing_cost() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			JobQueue::submit_job(
				RuntimeOrigin::signed(ALICE),
				Box::new(spec(1, 2, 1, u64::MAX / 2)),
				u64::MAX
			),
			Error::<Test>::Overflow
		);
	});
}

#[test]
fn submit_job_refuses_without_funds() {
	ExtBuilder::default().endow(9, 120).build_and_execute(|| {
		assert_noop!(
			JobQueue::submit_job(RuntimeOrigin::signed(9), Box::new(good()), 100),
			Error::<Test>::InsufficientBalance
		);
	});
}

#[test]
fn submit_job_refuses_when_queue_full() {
	ExtBuilder::default().build_and_execute(|| {
		for _ in 0..QueueBound::get() {
			submit(ALICE, good());
		}
		assert_noop!(
			JobQueue::submit_job(RuntimeOrigin::signed(BOB), Box::new(good()), 100),
			Error::<Test>::QueueFull
		);
	});
}

#[test]
fn queue_is_ordered_by_price() {
	ExtBuilder::default().build_and_execute(|| {
		submit(ALICE, spec(1, 1, 1, 3));
		submit(ALICE, spec(1, 1, 1, 9));
		submit(ALICE, spec(1, 1, 1, 3));
		submit(ALICE, spec(1, 1, 1, 5));
		assert_eq!(queue_order(), vec![1, 3, 0, 2]);
	});
}

#[test]
fn cancel_job_refunds_everything() {
	ExtBuilder::default().build_and_execute(|| {
		let id = submit(ALICE, good());
		assert_ok!(JobQueue::cancel_job(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(held(ALICE), (0, 0));
		assert_eq!(Balances::balance(&ALICE), 1_000_000);
		assert!(Jobs::<Test>::get(id).is_none());
		assert!(queue_order().is_empty());
		assert!(matches!(events().last(), Some(Event::JobCancelled { job: 0, .. })));
	});
}

#[test]
fn cancel_job_only_by_owner() {
	ExtBuilder::default().build_and_execute(|| {
		let id = submit(ALICE, good());
		assert_noop!(JobQueue::cancel_job(RuntimeOrigin::signed(BOB), id), Error::<Test>::NotOwner);
		assert_noop!(
			JobQueue::cancel_job(RuntimeOrigin::signed(ALICE), 7),
			Error::<Test>::JobNotFound
		);
	});
}

#[test]
fn cancel_job_refused_once_assigned() {
	ExtBuilder::default().build_and_execute(|| {
		add_provider(100, Perbill::from_percent(50), offer(), 1);
		let id = submit(ALICE, good());
		run_to_block(2);
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Assigned);
		assert_noop!(
			JobQueue::cancel_job(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::NotQueued
		);
	});
}

#[test]
fn set_params_is_root_only_and_validated() {
	ExtBuilder::default().build_and_execute(|| {
		let mut p = Params::<Test>::get();
		assert_noop!(
			JobQueue::set_params(RuntimeOrigin::signed(ALICE), p),
			DispatchError::BadOrigin
		);
		p.max_replicas = 6;
		assert_noop!(JobQueue::set_params(RuntimeOrigin::root(), p), Error::<Test>::BadParams);
		p.max_replicas = 2;
		p.commit_window = 0;
		assert_noop!(JobQueue::set_params(RuntimeOrigin::root(), p), Error::<Test>::BadParams);
		p.commit_window = 7;
		assert_ok!(JobQueue::set_params(RuntimeOrigin::root(), p));
		assert_eq!(Params::<Test>::get(), p);
		assert_eq!(events().last(), Some(&Event::ParamsSet { params: p }));
		// The new bound applies to submissions.
		assert_noop!(
			JobQueue::submit_job(RuntimeOrigin::signed(ALICE), Box::new(spec(1, 3, 1, 5)), 1_000),
			Error::<Test>::TooManyReplicas
		);
	});
}

#[test]
fn assignment_draws_min_replicas_distinct_fitting_providers() {
	ExtBuilder::default().build_and_execute(|| {
		add_provider(100, Perbill::from_percent(50), offer(), 1);
		add_provider(101, Perbill::from_percent(50), offer(), 1);
		// Too small for the job.
		add_provider(102, Perbill::one(), Resources { millicores: 100, ..offer() }, 1);
		let id = submit(ALICE, spec(2, 2, 1, 5));
		run_to_block(2);
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!(job.state, JobState::Assigned);
		let mut ps = job.providers.to_vec();
		ps.sort();
		assert_eq!(ps, vec![100, 101]);
		assert_eq!(job.commit_deadline, Some(2 + 20));
		assert!(queue_order().is_empty());
		assert!(events().iter().any(|e| matches!(e,
			Event::JobAssigned { job: 0, commit_deadline: 22, providers } if providers.len() == 2)));
	});
}

#[test]
fn jobs_without_fitting_providers_wait() {
	ExtBuilder::default().build_and_execute(|| {
		add_provider(100, Perbill::from_percent(50), offer(), 1);
		let id = submit(ALICE, spec(2, 2, 1, 5));
		run_to_block(5);
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Queued);
		add_provider(101, Perbill::from_percent(50), offer(), 1);
		// Tried again within the longest backoff.
		run_to_block(5 + MAX_RETRY_BACKOFF as u64);
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Assigned);
	});
}

#[test]
fn highest_price_is_served_first() {
	ExtBuilder::default().build_and_execute(|| {
		add_provider(100, Perbill::from_percent(50), offer(), 1);
		let cheap = submit(ALICE, spec(1, 1, 1, 2));
		let dear = submit(BOB, spec(1, 1, 1, 9));
		run_to_block(2);
		assert_eq!(Jobs::<Test>::get(dear).unwrap().state, JobState::Assigned);
		assert_eq!(Jobs::<Test>::get(cheap).unwrap().state, JobState::Queued);
		assert_eq!(used_slots(100), 1);
	});
}

#[test]
fn assignment_work_per_block_is_bounded() {
	ExtBuilder::default().build_and_execute(|| {
		add_provider(100, Perbill::from_percent(50), offer(), 100);
		let mut p = Params::<Test>::get();
		p.max_assignments_per_block = 2;
		assert_ok!(JobQueue::set_params(RuntimeOrigin::root(), p));
		for _ in 0..5 {
			submit(ALICE, spec(1, 1, 1, 5));
		}
		run_to_block(2);
		assert_eq!(queue_order().len(), 3);
		run_to_block(3);
		assert_eq!(queue_order().len(), 1);
	});
}

/// Issue 12: the draw is weighted by free slots (was: by reputation).
#[test]
fn draw_is_weighted_by_free_slots() {
	ExtBuilder::default().build_and_execute(|| {
		add_provider(100, Perbill::zero(), offer(), 1);
		add_provider(101, Perbill::zero(), offer(), 9);
		let s = good();
		let mut wins = 0;
		for id in 0..200 {
			if JobQueue::draw(id, 0, &s, 1, &[]).providers == vec![101] {
				wins += 1;
			}
		}
		// Weights 1 : 9, so about 180 of 200.
		assert!((160..=196).contains(&wins), "{wins}");
		let two = JobQueue::draw(1, 0, &s, 2, &[]).providers;
		assert_eq!(two.len(), 2);
		assert_ne!(two[0], two[1]);
		// An excluded provider is never drawn.
		assert_eq!(JobQueue::draw(1, 0, &s, 2, &[100]).providers, vec![101]);
		// A provider without a free slot is never drawn.
		PROVIDERS.with(|p| p.borrow_mut()[0].used = 1);
		assert_eq!(JobQueue::draw(1, 0, &s, 2, &[]).providers, vec![101]);
	});
}

#[test]
fn unassigned_jobs_expire_with_refund() {
	ExtBuilder::default().build_and_execute(|| {
		let mut p = Params::<Test>::get();
		p.queue_timeout = 5;
		assert_ok!(JobQueue::set_params(RuntimeOrigin::root(), p));
		let id = submit(ALICE, good());
		run_to_block(5);
		assert!(Jobs::<Test>::get(id).is_some());
		run_to_block(6);
		assert!(Jobs::<Test>::get(id).is_none());
		assert!(queue_order().is_empty());
		assert_eq!(Balances::balance(&ALICE), 1_000_000);
		assert!(matches!(events().last(), Some(Event::JobExpired { job: 0, .. })));
	});
}

fn assigned_job(min: u32, max: u32) -> JobId {
	for i in 0..max as u64 + 2 {
		add_provider(100 + i, Perbill::from_percent(50), offer(), 1);
	}
	let id = submit(ALICE, spec(min, max, 1, 5));
	run_to_block(System::block_number() + 1);
	assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Assigned);
	id
}

#[test]
fn ledger_moves_to_revealing() {
	ExtBuilder::default().build_and_execute(|| {
		let id = assigned_job(1, 1);
		assert_ok!(JobQueue::set_revealing(id, 30));
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!((job.state, job.reveal_deadline), (JobState::Revealing, Some(30)));
		assert_eq!(events().last(), Some(&Event::JobRevealing { job: id, reveal_deadline: 30 }));
		assert_noop!(JobQueue::set_revealing(id, 30), Error::<Test>::BadState);
	});
}

#[test]
fn ledger_assign_more_adds_new_distinct_providers() {
	ExtBuilder::default().build_and_execute(|| {
		let id = assigned_job(1, 3);
		assert_ok!(JobQueue::set_revealing(id, 30));
		let first = Jobs::<Test>::get(id).unwrap().providers[0];
		let added = JobQueue::assign_more(id, 1).unwrap();
		assert_eq!(added.len(), 1);
		assert_ne!(added[0], first);
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!(job.state, JobState::Assigned);
		assert_eq!(job.providers.len(), 2);
		assert!(matches!(events().last(), Some(Event::JobReassigned { .. })));
	});
}

#[test]
fn ledger_complete_pays_providers_and_refunds_rest() {
	ExtBuilder::default().build_and_execute(|| {
		let id = assigned_job(1, 2);
		let p = Jobs::<Test>::get(id).unwrap().providers[0];
		let before = Balances::balance(&ALICE);
		assert_ok!(JobQueue::complete(
			id,
			Settlement {
				result_digest: [1; 32],
				checkpoints_root: [2; 32],
				output_digest: povm_primitives::attestation::output_digest(b"heads"),
				output: BoundedVec::truncate_from(b"heads".to_vec()),
				usage: Default::default(),
				footprint: Default::default(),
				payments: vec![(p, 30)],
				first_divergence: None,
				outcome: None,
			}
		));
		// Budget 100: 30 paid, 70 refunded.
		assert_eq!(Balances::balance(&p), 30);
		assert_eq!(Balances::balance(&ALICE), before + 70);
		let job = Jobs::<Test>::get(id).unwrap();
		// The deposit stays held until the record is reaped.
		assert_eq!(held(ALICE), (job.deposit, 0));
		assert_eq!(job.state, JobState::Completed);
		assert_eq!(Results::<Test>::get(id).unwrap().refunded, 70);
		assert_eq!(
			JobQueue::job_view(id).unwrap().result.unwrap().output.to_vec(),
			b"heads".to_vec()
		);
	});
}

#[test]
fn ledger_complete_refuses_an_output_that_does_not_hash_to_the_agreed_digest() {
	ExtBuilder::default().build_and_execute(|| {
		let id = assigned_job(1, 2);
		let p = Jobs::<Test>::get(id).unwrap().providers[0];
		assert_noop!(
			JobQueue::complete(
				id,
				Settlement {
					result_digest: [1; 32],
					checkpoints_root: [2; 32],
					output_digest: povm_primitives::attestation::output_digest(b"heads"),
					output: BoundedVec::truncate_from(b"tails".to_vec()),
					usage: Default::default(),
					footprint: Default::default(),
					payments: vec![(p, 30)],
					first_divergence: None,
					outcome: None,
				}
			),
			Error::<Test>::OutputDigestMismatch
		);
		assert!(Results::<Test>::get(id).is_none());
	});
}

#[test]
fn ledger_complete_caps_payments_at_escrow() {
	ExtBuilder::default().build_and_execute(|| {
		let id = assigned_job(1, 2);
		let p = Jobs::<Test>::get(id).unwrap().providers[0];
		assert_ok!(JobQueue::complete(
			id,
			Settlement {
				result_digest: [1; 32],
				checkpoints_root: [2; 32],
				output_digest: povm_primitives::attestation::output_digest(b""),
				output: Default::default(),
				usage: Default::default(),
				footprint: Default::default(),
				payments: vec![(p, 1_000)],
				first_divergence: None,
				outcome: None,
			}
		));
		assert_eq!(Balances::balance(&p), 100);
	});
}

#[test]
fn ledger_dispute_without_revealers_refunds_budget() {
	ExtBuilder::default().build_and_execute(|| {
		let id = assigned_job(1, 1);
		let deposit = Jobs::<Test>::get(id).unwrap().deposit;
		assert_ok!(JobQueue::dispute(id, Some(3), vec![]));
		assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Disputed);
		assert_eq!(Balances::balance(&ALICE), 1_000_000 - deposit);
		assert!(matches!(
			events().last(),
			Some(Event::JobDisputed { first_divergence: Some(3), refunded: 50, .. })
		));
		assert_noop!(JobQueue::dispute(id, None, vec![]), Error::<Test>::BadState);
	});
}

#[test]
fn ledger_dispute_pays_revealers_within_escrow_and_refunds_rest() {
	ExtBuilder::default().build_and_execute(|| {
		// Budget 2 × 10 s × 5 = 100.
		let id = assigned_job(2, 2);
		let deposit = Jobs::<Test>::get(id).unwrap().deposit;
		let ps = Jobs::<Test>::get(id).unwrap().providers;
		assert_ok!(JobQueue::dispute(id, None, vec![(ps[0], 30), (ps[1], 20)]));
		assert_eq!(Balances::balance(&ps[0]), 30);
		assert_eq!(Balances::balance(&ps[1]), 20);
		assert_eq!(Balances::balance(&ALICE), 1_000_000 - deposit - 50);
		assert_eq!(held(ALICE), (deposit, 0));
		assert_eq!(
			events().last(),
			Some(&Event::JobDisputed {
				job: id,
				first_divergence: None,
				payments: BoundedVec::truncate_from(vec![(ps[0], 30), (ps[1], 20)]),
				refunded: 50,
			})
		);
	});
}

#[test]
fn ledger_dispute_caps_payments_at_escrow() {
	ExtBuilder::default().build_and_execute(|| {
		let id = assigned_job(2, 2);
		let ps = Jobs::<Test>::get(id).unwrap().providers;
		assert_ok!(JobQueue::dispute(id, None, vec![(ps[0], 80), (ps[1], 80)]));
		assert_eq!(Balances::balance(&ps[0]), 80);
		assert_eq!(Balances::balance(&ps[1]), 20);
		assert!(matches!(events().last(), Some(Event::JobDisputed { refunded: 0, .. })));
	});
}

#[test]
fn reap_job_releases_deposit_of_finished_jobs_only() {
	ExtBuilder::default().build_and_execute(|| {
		let id = assigned_job(1, 1);
		assert_noop!(
			JobQueue::reap_job(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::NotFinished
		);
		assert_ok!(JobQueue::dispute(id, None, vec![]));
		assert_noop!(JobQueue::reap_job(RuntimeOrigin::signed(BOB), id), Error::<Test>::NotOwner);
		assert_ok!(JobQueue::reap_job(RuntimeOrigin::signed(ALICE), id));
		assert!(Jobs::<Test>::get(id).is_none());
		assert_eq!(Balances::balance(&ALICE), 1_000_000);
	});
}

#[test]
fn job_terms_expose_the_spec() {
	ExtBuilder::default().build_and_execute(|| {
		let id = submit(ALICE, spec(2, 3, 1, 5));
		let t = JobQueue::job_terms(id).unwrap();
		assert_eq!(t.owner, ALICE);
		assert_eq!(t.state, JobState::Queued);
		assert_eq!(t.redundancy.max_replicas, 3);
		assert!(JobQueue::job_terms(42).is_none());
	});
}

/// What the hook spends before its first try at a level: its base and the level's visit (the
/// mask and the level's bounds).
fn hook_weight_before_a_try() -> frame_support::weights::Weight {
	use crate::WeightInfo;
	<() as WeightInfo>::service_queue_base().saturating_add(
		<<Test as frame_system::Config>::DbWeight as frame_support::traits::Get<
			frame_support::weights::RuntimeDbWeight,
		>>::get()
		.reads(2),
	)
}

#[test]
fn service_queue_respects_the_weight_meter() {
	use frame_support::weights::WeightMeter;
	ExtBuilder::default().build_and_execute(|| {
		add_provider(100, Perbill::from_percent(50), offer(), 100);
		for _ in 0..3 {
			submit(ALICE, spec(1, 1, 1, 5));
		}
		AgendaCursor::<Test>::put(2);
		let limit = hook_weight_before_a_try().saturating_add(JobQueue::try_weight(1));
		let mut meter = WeightMeter::with_limit(limit);
		JobQueue::service_queue(2, &mut meter);
		assert_eq!(queue_order().len(), 2);
		// The draw met no lapsed provider: what the most a draw spends on them is refunded,
		// and what is left affords no second try.
		let refund = <MockRegistry as ProviderRegistry<_, _>>::draw_rejections_weight();
		assert_eq!(meter.consumed(), limit.saturating_sub(refund));
	});
}

/// A try is charged the lapsed providers its draw met, not the most a draw can meet: a draw
/// among live providers (the usual case) is charged the assignment alone, which leaves room
/// for more tries in a block; a draw that meets a lapsed provider pays for that pick.
#[test]
fn a_try_is_charged_for_the_lapsed_providers_its_draw_met() {
	use frame_support::weights::WeightMeter;
	ExtBuilder::default().build_and_execute(|| {
		add_provider(100, Perbill::from_percent(50), offer(), 100);
		for _ in 0..3 {
			submit(ALICE, spec(1, 1, 1, 5));
		}
		AgendaCursor::<Test>::put(2);
		let start = hook_weight_before_a_try();
		let limit = start.saturating_add(JobQueue::try_weight(1));
		assert!(JobQueue::tried_weight(1, 0).all_lt(JobQueue::try_weight(1)));
		assert_eq!(JobQueue::tried_weight(1, 2), JobQueue::try_weight(1));

		let mut meter = WeightMeter::with_limit(limit);
		JobQueue::service_queue(2, &mut meter);
		assert_eq!(queue_order().len(), 2);
		assert_eq!(meter.consumed(), start.saturating_add(JobQueue::tried_weight(1, 0)));

		// A lapsed provider of many slots: the next draw meets it first, drops it and draws
		// the live one.
		add_provider(200, Perbill::from_percent(50), offer(), 1_000_000);
		crate::mock::lapse(200);
		assert_eq!(
			mock_candidates(&spec(1, 1, 1, 5).resources, povm_primitives::Arch::X86_64).len(),
			1
		);
		let mut meter = WeightMeter::with_limit(limit);
		JobQueue::service_queue(2, &mut meter);
		assert_eq!(queue_order().len(), 1);
		assert_eq!(meter.consumed(), start.saturating_add(JobQueue::tried_weight(1, 1)));
		assert_eq!(used_slots(100), 2);

		// Two lapsed providers of many slots: the draw meets both, gives up (the registry's
		// most rejections per draw) and the job waits; the try is charged in full.
		add_provider(300, Perbill::from_percent(50), offer(), 1_000_000);
		add_provider(301, Perbill::from_percent(50), offer(), 1_000_000);
		crate::mock::lapse(300);
		crate::mock::lapse(301);
		let last = *queue_order().first().unwrap();
		let mut meter = WeightMeter::with_limit(limit);
		JobQueue::service_queue(2, &mut meter);
		let waiting = queued_entry(last).unwrap().place;
		assert!(matches!(waiting, Place::Waiting(_)), "it waits for another try");
		assert_eq!(Jobs::<Test>::get(last).unwrap().state, JobState::Queued);
		assert_eq!(meter.consumed(), limit);
		assert_eq!(used_slots(100), 2);
	});
}

#[test]
fn integrity_test_passes() {
	use frame_support::traits::Hooks;
	ExtBuilder::default().build_and_execute(|| {
		<JobQueue as Hooks<u64>>::integrity_test();
	});
}

// ---------- most providers declined: unrunnable ----------

/// A job most providers declined: the whole escrow back to the owner, the deposit split among
/// the decliners (the indivisible rest back to the owner), the record removed.
#[test]
fn ledger_unrunnable_refunds_escrow_and_pays_the_deposit_to_decliners() {
	ExtBuilder::default().build_and_execute(|| {
		let id = assigned_job(2, 2);
		let job = Jobs::<Test>::get(id).unwrap();
		let (deposit, ps) = (job.deposit, job.providers.to_vec());
		let (share, rest) = (deposit / 2, deposit % 2);
		assert!(share > 0);
		assert_ok!(JobQueue::unrunnable(id, ps.clone()));
		assert!(Jobs::<Test>::get(id).is_none());
		assert_eq!(held(ALICE), (0, 0));
		// Escrow refunded, the deposit lost but for its indivisible rest.
		assert_eq!(Balances::balance(&ALICE), 1_000_000 - deposit + rest);
		for p in ps.iter() {
			assert_eq!(Balances::balance(p), share);
		}
		assert_eq!(
			events().last(),
			Some(&Event::JobUnrunnable {
				job: id,
				refunded: 100,
				deposit_paid: BoundedVec::truncate_from(ps.iter().map(|p| (*p, share)).collect()),
				deposit_refunded: rest,
			})
		);
		// The record is gone: nothing to settle or reap any more.
		assert_noop!(JobQueue::unrunnable(id, ps), Error::<Test>::JobNotFound);
		assert_noop!(
			JobQueue::reap_job(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::JobNotFound
		);
	});
}

#[test]
fn ledger_unrunnable_needs_an_assigned_job() {
	ExtBuilder::default().build_and_execute(|| {
		let queued = submit(ALICE, good());
		assert_noop!(JobQueue::unrunnable(queued, vec![100]), Error::<Test>::BadState);
		let id = assigned_job(1, 1);
		assert_ok!(JobQueue::dispute(id, None, vec![]));
		assert_noop!(JobQueue::unrunnable(id, vec![100]), Error::<Test>::BadState);
	});
}

/// Without decliners (which vm-proof never asks for) the whole deposit goes back.
#[test]
fn ledger_unrunnable_without_decliners_refunds_the_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		let id = assigned_job(1, 1);
		assert_ok!(JobQueue::unrunnable(id, vec![]));
		assert_eq!(Balances::balance(&ALICE), 1_000_000);
		assert_eq!(held(ALICE), (0, 0));
	});
}

#[test]
fn try_state_refuses_a_stored_unrunnable_job() {
	ExtBuilder::default().build().execute_with(|| {
		let id = assigned_job(1, 1);
		assert_ok!(JobQueue::do_try_state());
		Jobs::<Test>::mutate(id, |j| j.as_mut().unwrap().state = JobState::Unrunnable);
		assert!(JobQueue::do_try_state().is_err());
	});
}

/// The draw is keyed by the parent hash of the block that draws, so it cannot be computed
/// before that block's parent exists (a provider cannot decline to steer its replacement).
/// Before the fix the same job and round always drew the same providers.
#[test]
fn the_draw_depends_on_the_parent_hash() {
	ExtBuilder::default().build_and_execute(|| {
		for p in 100..116 {
			add_provider(p, Perbill::zero(), offer(), 2);
		}
		let s = good();
		let mut drawn = alloc::collections::BTreeSet::new();
		for h in 0u8..16 {
			System::set_parent_hash(sp_core::H256([h; 32]));
			drawn.insert(JobQueue::draw(7, 1, &s, 1, &[]).providers[0]);
		}
		assert!(drawn.len() > 1, "every parent hash drew {drawn:?}");
		// The same parent hash draws the same: it is a key, not noise.
		System::set_parent_hash(sp_core::H256([3; 32]));
		let a = JobQueue::draw(7, 1, &s, 3, &[]).providers;
		assert_eq!(JobQueue::draw(7, 1, &s, 3, &[]).providers, a);
	});
}

// ---------- deposits held apart before spec 117 ----------

/// Hold `id`'s deposit apart under `JobDeposit`, as every submission did before spec 117.
fn hold_deposit_apart(id: JobId) {
	let job = Jobs::<Test>::get(id).unwrap();
	move_hold(job.owner, HoldReason::JobBudget, HoldReason::JobDeposit, job.deposit);
}

/// Move `amount` of what `who` holds for `from` to a hold for `to`.
fn move_hold(who: AccountId, from: HoldReason, to: HoldReason, amount: u64) {
	use frame_support::traits::{fungible::MutateHold, tokens::Precision};
	assert_ok!(Balances::release(&from.into(), &who, amount, Precision::Exact));
	assert_ok!(Balances::hold(&to.into(), &who, amount));
}

/// A chain upgraded to spec 117 keeps the deposits its jobs held apart: they are released and
/// paid from there first (the invariants hold throughout), then from the escrow, so that a
/// job submitted after the upgrade and one from before both get their whole deposit back.
#[test]
fn deposits_held_apart_before_spec_117_are_released_first() {
	ExtBuilder::default().build_and_execute(|| {
		let old = submit(ALICE, good());
		hold_deposit_apart(old);
		let new = submit(ALICE, good());
		let (old_job, new_job) = (Jobs::<Test>::get(old).unwrap(), Jobs::<Test>::get(new).unwrap());
		let budgets = old_job.budget + new_job.budget;
		assert_eq!(held(ALICE), (budgets + new_job.deposit, old_job.deposit));
		JobQueue::do_try_state().unwrap();
		// The new job leaves first: its deposit comes out of what the old one held apart.
		assert_ok!(JobQueue::cancel_job(RuntimeOrigin::signed(ALICE), new));
		assert_eq!(held(ALICE), (old_job.budget + new_job.deposit, 0));
		JobQueue::do_try_state().unwrap();
		assert_ok!(JobQueue::cancel_job(RuntimeOrigin::signed(ALICE), old));
		assert_eq!(held(ALICE), (0, 0));
		assert_eq!(Balances::balance(&ALICE), 1_000_000);
	});
}

/// The deposit of a job from before spec 117 that most providers declined is paid to the
/// decliners from both holds when what is held apart falls short of a share.
#[test]
fn a_declined_job_from_before_spec_117_pays_its_deposit_from_both_holds() {
	ExtBuilder::default().build_and_execute(|| {
		let id = assigned_job(2, 2);
		hold_deposit_apart(id);
		let job = Jobs::<Test>::get(id).unwrap();
		let (deposit, ps) = (job.deposit, job.providers.to_vec());
		// Only part of the deposit is still held apart: the rest is with the escrow.
		let apart = deposit / 4;
		move_hold(ALICE, HoldReason::JobDeposit, HoldReason::JobBudget, deposit - apart);
		JobQueue::do_try_state().unwrap();
		let (share, rest) = (deposit / 2, deposit % 2);
		assert!(apart < share);
		assert_ok!(JobQueue::unrunnable(id, ps.clone()));
		assert_eq!(held(ALICE), (0, 0));
		assert_eq!(Balances::balance(&ALICE), 1_000_000 - deposit + rest);
		for p in ps.iter() {
			assert_eq!(Balances::balance(p), share);
		}
		JobQueue::do_try_state().unwrap();
	});
}

//! The queue by price level (issue 13): no cap on service, eviction of the cheapest job when
//! full, and jobs nobody can run out of the way of the others.

use crate::{
	mock::*,
	pallet::*,
	tests::{good, held, offer, spec, submit},
	types::*,
	Error, Event,
};
use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};
use sp_runtime::Perbill;

/// A spec at `price` asking more cores than any provider of these tests offers.
fn unrunnable(price: u64) -> JobSpecOf<Test> {
	let mut s = spec(1, 1, 1, price);
	s.resources.millicores = 64_000;
	s
}

#[test]
fn price_levels_are_exact_below_sixteen_then_eight_per_doubling() {
	for p in 0..16u128 {
		assert_eq!(price_level(p), p as u16);
	}
	assert_eq!(price_level(16), 16);
	assert_eq!(price_level(17), 16);
	assert_eq!(price_level(18), 17);
	assert_eq!(price_level(31), 23);
	assert_eq!(price_level(32), 24);
	assert!(price_level(u128::MAX) < PRICE_LEVELS);
	// Monotone, and a level spans at most an eighth of its lowest price.
	let mut lowest_of_level = 0u128;
	let mut previous = 0u16;
	for p in (1u128..200_000).chain((1u128 << 100)..(1u128 << 100) + 5_000) {
		let level = price_level(p);
		assert!(level >= previous, "{p}");
		if level != previous {
			lowest_of_level = p;
		}
		assert!((p - lowest_of_level) * 8 <= lowest_of_level.max(8), "{p}");
		previous = level;
	}
}

#[test]
fn level_masks_find_the_highest_below_and_the_lowest() {
	let mut mask = LevelMask::default();
	assert_eq!(mask.highest_below(None), None);
	assert_eq!(mask.lowest(), None);
	for level in [0u16, 63, 64, 700, 1023] {
		mask.set(level, true);
	}
	assert_eq!(mask.highest_below(None), Some(1023));
	assert_eq!(mask.highest_below(Some(1023)), Some(700));
	assert_eq!(mask.highest_below(Some(700)), Some(64));
	assert_eq!(mask.highest_below(Some(64)), Some(63));
	assert_eq!(mask.highest_below(Some(63)), Some(0));
	assert_eq!(mask.highest_below(Some(0)), None);
	assert_eq!(mask.lowest(), Some(0));
	mask.set(0, false);
	assert_eq!(mask.lowest(), Some(63));
}

/// The squatting attack: one account fills the queue with the cheapest jobs it may submit
/// (refunded at expiry, so it costs little) and every customer is refused. Before, nothing was
/// evicted whatever the price (`QueueFull`); now a job at a higher price level takes the
/// place of one of the cheapest, which is refunded whole.
#[test]
fn a_full_queue_evicts_a_cheapest_job_for_a_better_paying_one() {
	ExtBuilder::default().endow(7, 1_000_000).build_and_execute(|| {
		let cap = <Test as crate::Config>::MaxQueueLen::get();
		let squatter = 7;
		for _ in 0..cap {
			submit(squatter, spec(1, 1, 1, 1));
		}
		let before = Balances::balance(&squatter);
		// Not better paying: refused, nothing changes.
		assert_noop!(
			JobQueue::submit_job(RuntimeOrigin::signed(BOB), Box::new(spec(1, 1, 1, 1)), 10),
			Error::<Test>::QueueFull
		);
		let id = submit(BOB, good());
		assert_eq!(Counters::<Test>::get().queued, cap);
		let evicted = events()
			.into_iter()
			.find_map(|e| match e {
				Event::JobEvicted { job, by, refunded } => Some((job, by, refunded)),
				_ => None,
			})
			.expect("a job was evicted");
		assert_eq!(evicted.1, id);
		assert!(Jobs::<Test>::get(evicted.0).is_none());
		assert_eq!(Balances::balance(&squatter), before + evicted.2);
		assert_eq!(queue_order()[0], id);
	});
}

/// The head-of-line stall: the hook tried at most `max_assignments_per_block` jobs per block
/// and counted failed tries, so that many top-priced jobs nobody can run held up every job
/// behind them until they expired. Now a failed try puts the job in the retry agenda and the
/// next job is tried in the same block.
#[test]
fn jobs_nobody_can_run_do_not_hold_up_the_jobs_behind_them() {
	ExtBuilder::default().build_and_execute(|| {
		add_provider(100, Perbill::from_percent(50), offer(), 4);
		let mut p = Params::<Test>::get();
		p.max_assignments_per_block = 8;
		assert_ok!(JobQueue::set_params(RuntimeOrigin::root(), p));
		let tries = Params::<Test>::get().max_assignments_per_block;
		let blockers: Vec<_> = (0..tries + 2).map(|_| submit(BOB, unrunnable(9))).collect();
		let runnable = submit(ALICE, spec(1, 1, 1, 2));
		run_to_block(2);
		assert_eq!(Jobs::<Test>::get(runnable).unwrap().state, JobState::Assigned);
		for id in blockers {
			assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Queued);
			assert!(matches!(queued_entry(id).unwrap().place, Place::Waiting(3)));
		}
	});
}

/// A job that found too few providers is tried again after 1, 2, 4, … blocks, at the end of
/// its level's line: jobs that came while it waited go first.
#[test]
fn a_waiting_job_is_tried_again_after_a_doubling_backoff_behind_later_jobs() {
	ExtBuilder::default().build_and_execute(|| {
		let early = submit(ALICE, spec(2, 2, 1, 5));
		add_provider(100, Perbill::from_percent(50), offer(), 1);
		// Tries at 2 (fails, next at 3), 3 (next at 5), 5 (next at 9).
		run_to_block(5);
		assert_eq!(queued_entry(early).unwrap().failed_tries, 3);
		assert!(matches!(queued_entry(early).unwrap().place, Place::Waiting(9)));
		assert_eq!(retry_backoff(1), 1);
		assert_eq!(retry_backoff(4), 8);
		assert_eq!(retry_backoff(200), MAX_RETRY_BACKOFF);
		assert_eq!(MAX_RETRY_BACKOFF, 16);
		add_provider(101, Perbill::from_percent(50), offer(), 1);
		let late = submit(BOB, spec(2, 2, 1, 5));
		run_to_block(8);
		// The late job took the two slots while the early one waited.
		assert_eq!(Jobs::<Test>::get(late).unwrap().state, JobState::Assigned);
		assert_eq!(Jobs::<Test>::get(early).unwrap().state, JobState::Queued);
		assert_eq!(queue_order(), vec![early]);
	});
}

#[test]
fn a_waiting_job_expires_with_refund_and_leaves_no_agenda_entry() {
	ExtBuilder::default().build_and_execute(|| {
		let mut p = Params::<Test>::get();
		p.queue_timeout = 6;
		assert_ok!(JobQueue::set_params(RuntimeOrigin::root(), p));
		let id = submit(ALICE, unrunnable(5));
		run_to_block(6);
		assert!(matches!(queued_entry(id).unwrap().place, Place::Waiting(_)));
		run_to_block(7);
		assert!(Jobs::<Test>::get(id).is_none());
		assert_eq!(held(ALICE), (0, 0));
		assert_eq!(Retrying::<Test>::iter().count(), 0);
		assert_eq!(Counters::<Test>::get().queued, 0);
		assert!(Levels::<Test>::iter().next().is_none());
		assert_eq!(OccupiedLevels::<Test>::get(), LevelMask::default());
	});
}

/// Cancelled jobs leave empty places in their level's line; the hook passes them and the
/// order of the others holds.
#[test]
fn cancelled_places_are_passed_and_the_order_holds() {
	ExtBuilder::default().build_and_execute(|| {
		let ids: Vec<_> = (0..5).map(|_| submit(ALICE, spec(1, 1, 1, 5))).collect();
		assert_ok!(JobQueue::cancel_job(RuntimeOrigin::signed(ALICE), ids[0]));
		assert_ok!(JobQueue::cancel_job(RuntimeOrigin::signed(ALICE), ids[2]));
		assert_ok!(JobQueue::cancel_job(RuntimeOrigin::signed(ALICE), ids[3]));
		assert_eq!(queue_order(), vec![ids[1], ids[4]]);
		add_provider(100, Perbill::from_percent(50), offer(), 1);
		run_to_block(2);
		assert_eq!(Jobs::<Test>::get(ids[1]).unwrap().state, JobState::Assigned);
		assert_eq!(queue_order(), vec![ids[4]]);
	});
}

/// The hook's queue work does not grow with the queue: serving a block reads the levels it
/// tries, not the queued jobs (here a full queue of jobs at other levels and none due).
#[test]
fn serving_a_block_costs_the_same_whatever_the_number_of_queued_jobs() {
	use crate::WeightInfo;
	use frame_support::weights::WeightMeter;
	let consumed = |queued: u32| {
		let mut out = Default::default();
		ExtBuilder::default().build_and_execute(|| {
			for _ in 0..queued {
				submit(ALICE, unrunnable(3));
			}
			// Every job waiting, next tried at block 5; none due at block 4.
			for id in 0..queued {
				let expires_at = Jobs::<Test>::get(u64::from(id)).unwrap().expires_at;
				JobQueue::park(id.into(), expires_at, 4);
			}
			AgendaCursor::<Test>::put(4);
			let mut meter = WeightMeter::new();
			JobQueue::service_queue(4, &mut meter);
			out = meter.consumed();
		});
		out
	};
	let one = consumed(1);
	assert_eq!(one, consumed(16));
	assert_eq!(
		one,
		<() as WeightInfo>::service_queue_base().saturating_add(
			<<Test as frame_system::Config>::DbWeight as frame_support::traits::Get<
				frame_support::weights::RuntimeDbWeight,
			>>::get()
			.reads(2)
		)
	);
}

/// The quote tells a customer, before submitting, what `submit_job` would say, the budget
/// and deposit it holds, and where the job would stand: the place it then takes is the one
/// quoted.
#[test]
fn a_quote_gives_the_budget_the_place_and_the_refusal_submit_job_then_gives() {
	ExtBuilder::default().endow(7, 1_000_000).build_and_execute(|| {
		add_provider(100, Perbill::from_percent(50), offer(), 1);
		add_provider(101, Perbill::from_percent(50), offer(), 1);
		for price in [9u64, 9, 9, 5, 5, 3] {
			submit(BOB, unrunnable(price));
		}
		let s = spec(2, 3, 1, 5);
		let quote = JobQueue::quote(s.clone());
		assert_eq!(quote.refusal, None);
		assert_eq!(quote.min_budget, JobQueue::max_cost(&s).unwrap());
		assert_eq!(quote.deposit, JobQueue::deposit_for(&s).unwrap());
		assert_eq!((quote.price_level, quote.jobs_ahead, quote.queued), (5, 5, 6));
		assert!(!quote.queue_full);
		assert_eq!((quote.eligible_providers, quote.needed_providers), (2, 2));
		assert_eq!(quote.expected_start, System::block_number() + 2);
		assert_eq!(
			quote.expires_at,
			System::block_number() + 1 + Params::<Test>::get().queue_timeout
		);
		let id = submit(ALICE, s);
		assert_eq!(queue_order().iter().position(|j| *j == id), Some(quote.jobs_ahead as usize));

		// A spec `submit_job` refuses is quoted with the error it would get.
		let mut bad = spec(1, 1, 1, 5);
		bad.price_per_second = 0;
		assert_eq!(JobQueue::quote(bad).refusal, Some(Error::<Test>::ZeroPrice.into()));

		// Full: the cheapest level's price is refused, a higher one would evict.
		let cap = <Test as crate::Config>::MaxQueueLen::get();
		while Counters::<Test>::get().queued < cap {
			submit(7, spec(1, 1, 1, 3));
		}
		let at_cheapest = JobQueue::quote(spec(1, 1, 1, 3));
		assert!(at_cheapest.queue_full);
		assert_eq!(at_cheapest.refusal, Some(Error::<Test>::QueueFull.into()));
		assert_eq!(JobQueue::quote(spec(1, 1, 1, 4)).refusal, None);
	});
}

/// A wave of expiries (jobs submitted together expire together) takes at most half of the
/// hook's budget: assignment goes on beside it and the rest expire in the next blocks.
/// Before, the hook returned while expiries were left, so a hundred thousand cheap jobs
/// submitted in one block stopped every assignment for the blocks their expiry took.
#[test]
fn a_wave_of_expiries_does_not_stop_assignment() {
	use crate::WeightInfo;
	use frame_support::weights::WeightMeter;
	ExtBuilder::default().build_and_execute(|| {
		QueueBound::set(200);
		let mut p = Params::<Test>::get();
		p.queue_timeout = 5;
		assert_ok!(JobQueue::set_params(RuntimeOrigin::root(), p));
		for _ in 0..100 {
			submit(BOB, unrunnable(2));
		}
		add_provider(100, Perbill::from_percent(50), offer(), 1);
		run_to_block(5);
		let late = submit(ALICE, spec(1, 1, 1, 5));
		// The agendas' half holds the hundred retries due (the jobs parked by their failed
		// tries) and a try's worth of expiries; the other half one try.
		let one_try = JobQueue::try_weight(1);
		let retries = <() as WeightInfo>::retry_job().saturating_mul(100);
		let mut meter = WeightMeter::with_limit(
			<() as WeightInfo>::service_queue_base()
				.saturating_add(one_try.saturating_add(retries).saturating_mul(2)),
		);
		System::set_block_number(6);
		JobQueue::service_queue(6, &mut meter);
		assert_eq!(Jobs::<Test>::get(late).unwrap().state, JobState::Assigned);
		let left = Counters::<Test>::get().queued;
		assert!(left > 0 && left < 100, "{left} expiries left for the next blocks");
		run_to_block(9);
		assert_eq!(Counters::<Test>::get().queued, 0);
	});
}

/// When the agendas lag behind (a wave of expiries), a job past its expiry met in the line is
/// expired and refunded, not assigned: nobody runs a job its owner was told had expired.
#[test]
fn a_job_past_its_expiry_is_expired_not_assigned_when_the_agenda_lags() {
	ExtBuilder::default().build_and_execute(|| {
		let mut p = Params::<Test>::get();
		p.queue_timeout = 3;
		assert_ok!(JobQueue::set_params(RuntimeOrigin::root(), p));
		let id = submit(ALICE, spec(1, 1, 1, 5));
		let expires_at = Jobs::<Test>::get(id).unwrap().expires_at;
		assert_eq!(
			JobQueue::try_assign(id, expires_at).map(|t| t.outcome),
			Ok(crate::tick_impls::TryOutcome::Expired)
		);
		// The agenda's cursor already past the job's expiry block: only the line meets it.
		AgendaCursor::<Test>::put(expires_at + 1);
		System::set_block_number(expires_at);
		add_provider(100, Perbill::from_percent(50), offer(), 1);
		run_to_block(expires_at + 1);
		assert!(Jobs::<Test>::get(id).is_none());
		assert_eq!(held(ALICE), (0, 0));
		assert_eq!(used_slots(100), 0);
		assert!(events()
			.iter()
			.any(|e| matches!(e, Event::JobExpired { job, .. } if *job == id)));
	});
}

/// `submit_job` is charged as a submission that evicts; one that evicts nothing is refunded
/// the difference, and one that joins a level already holding a ready job is refunded the
/// level masks it leaves untouched.
#[test]
fn a_submission_that_evicts_nothing_is_refunded_the_eviction() {
	use crate::WeightInfo;
	ExtBuilder::default().endow(7, 1_000_000).build_and_execute(|| {
		let s = spec(1, 1, 1, 1);
		let size = JobQueue::spec_size_steps(&s);
		let budget = JobQueue::max_cost(&s).unwrap();
		let info =
			JobQueue::submit_job(RuntimeOrigin::signed(7), Box::new(s.clone()), budget).unwrap();
		assert_eq!(info.actual_weight, Some(<() as WeightInfo>::submit_job(size)));
		let info = JobQueue::submit_job(RuntimeOrigin::signed(7), Box::new(s), budget).unwrap();
		assert_eq!(info.actual_weight, Some(<() as WeightInfo>::submit_job_to_ready_level(size)));
		assert!(
			<() as WeightInfo>::submit_job_to_ready_level(size).ref_time() <
				<() as WeightInfo>::submit_job(size).ref_time()
		);
		while Counters::<Test>::get().queued < QueueBound::get() {
			submit(7, spec(1, 1, 1, 1));
		}
		let s = good();
		let budget = JobQueue::max_cost(&s).unwrap();
		let info = JobQueue::submit_job(RuntimeOrigin::signed(BOB), Box::new(s), budget).unwrap();
		assert_eq!(
			info.actual_weight,
			Some(<() as WeightInfo>::submit_job_evicting(JobQueue::spec_size_steps(&good())))
		);
		assert!(events().iter().any(|e| matches!(e, Event::JobEvicted { .. })));
	});
}

/// The benchmarks' spec of size step `s` is at least as long as any spec charged at step `s`
/// (so a submission is never charged for a smaller spec than it sent), and the charge grows
/// with the spec: a small spec is charged a small step.
#[cfg(feature = "runtime-benchmarks")]
#[test]
fn a_spec_is_charged_at_a_size_step_the_benchmark_covers() {
	use crate::{benchmarking::bench_spec_sized, SPEC_SIZE_STEPS};
	use codec::{Encode, MaxEncodedLen};
	ExtBuilder::default().build_and_execute(|| {
		let max = crate::JobSpecOf::<Test>::max_encoded_len();
		for step in 0..=SPEC_SIZE_STEPS {
			let bench = bench_spec_sized::<Test>(1, step);
			assert!(JobQueue::validate_spec(&bench).is_ok(), "step {step}");
			// Every spec charged at `step` is at most step / STEPS of the largest.
			assert!(
				bench.encoded_size() * SPEC_SIZE_STEPS as usize >= max * step as usize,
				"step {step}: {} bytes",
				bench.encoded_size()
			);
		}
		assert_eq!(
			JobQueue::spec_size_steps(&bench_spec_sized::<Test>(1, SPEC_SIZE_STEPS)),
			SPEC_SIZE_STEPS
		);
		assert!(JobQueue::spec_size_steps(&spec(1, 1, 1, 1)) <= 5);
		// Many tiny items are charged by their count: 32 one-byte arguments are all of them.
		let mut tiny = spec(1, 1, 1, 1);
		tiny.args = frame_support::BoundedVec::truncate_from(vec![
			frame_support::BoundedVec::truncate_from(vec![b'a']);
			povm_primitives::MAX_ARGS as usize
		]);
		assert_eq!(JobQueue::spec_size_steps(&tiny), SPEC_SIZE_STEPS);
	});
}

/// A ready job whose index entry is gone (which the invariants rule out) must not hold up its
/// line: its try parks nothing, so it leaves the line (counted out of its level and of the
/// queue), and the job behind it is tried in the same block.
#[test]
fn a_job_that_lost_its_index_entry_does_not_stall_its_line() {
	ExtBuilder::default().build().execute_with(|| {
		run_to_block(1);
		let lost = submit(ALICE, unrunnable(3));
		let behind = submit(BOB, unrunnable(3));
		let expires_at = Jobs::<Test>::get(lost).unwrap().expires_at;
		Expiring::<Test>::remove(expires_at, lost);
		run_to_block(2);
		assert!(matches!(queued_entry(behind).map(|q| q.place), Some(Place::Waiting(_))));
		assert_eq!(queue_order(), vec![behind]);
		assert_eq!(Counters::<Test>::get().queued, 1);
		let level = JobQueue::level_of(3);
		assert_eq!(Levels::<Test>::get(level).map(|b| (b.ready, b.waiting)), Some((0, 1)));
	});
}

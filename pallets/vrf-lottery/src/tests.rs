//! Tests of the lottery, one behaviour each.

use crate::{mock::*, pallet::*, types::*, vrf, Error, Event};
use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};
use pallet_session::SessionManager;
use sp_core::{crypto::VrfSecret, sr25519, Pair};
use sp_runtime::Perbill;

/// Register keys for `work`'s providers, then run two sessions with that work, so that draw 2
/// is open with the keys active. Returns nothing; the draw is `CurrentDraw`.
fn ready(work: &[(AccountId, u64)]) {
	for (who, _) in work {
		register_key(*who);
	}
	for _ in 0..2 {
		for (who, secs) in work {
			work_now(*who, *secs);
		}
		rotate();
	}
	assert_eq!(CurrentDraw::<Test>::get().unwrap().epoch, 2);
}

fn draw() -> DrawInfoOf<Test> {
	CurrentDraw::<Test>::get().expect("a draw is open")
}

// ---------------------------------------------------------------- tickets

#[test]
fn an_epochs_work_is_released_once_its_draw_has_opened() {
	ExtBuilder::default().build_and_execute(|| {
		// Draw 0 at genesis reads the epoch that has only begun: nothing is taken.
		<VrfLottery as SessionManager<AccountId>>::new_session(1);
		assert!(taken_epochs().is_empty());
		work_now(10, 100);
		rotate();
		// Draw 1 holds epoch 0's work as tickets: its records may go, epoch 1's (running) not.
		assert!(Tickets::<Test>::get(1, 10).is_some());
		assert_eq!(taken_epochs(), vec![0]);
		rotate();
		assert_eq!(taken_epochs(), vec![0, 1]);
	});
}

#[test]
fn tickets_come_from_accepted_work_only() {
	ExtBuilder::default().build_and_execute(|| {
		set_reputation(10, Perbill::one());
		work_now(10, 100);
		rotate();
		// Work of the next epoch does not count for this draw.
		work_now(11, 100);
		assert_eq!(Tickets::<Test>::get(1, 10), Some(100_000));
		assert_eq!(Tickets::<Test>::get(1, 11), None);
		let d = draw();
		assert_eq!((d.epoch, d.work_epoch, d.total_tickets, d.providers), (1, 0, 100_000, 1));
		assert!(events().contains(&Event::DrawOpened {
			epoch: 1,
			work_epoch: 0,
			seed: d.seed,
			total_tickets: 100_000,
			providers: 1,
			expected_winners: 2,
		}));
	});
}

#[test]
fn sub_second_work_earns_tickets() {
	ExtBuilder::default().build_and_execute(|| {
		// 900 ms in the epoch at reputation 1/2: 450 tickets, not zero.
		set_work_millis(0, 10, 900);
		rotate();
		assert_eq!(Tickets::<Test>::get(1, 10), Some(450));
		assert_eq!(draw().total_tickets, 450);
	});
}

#[test]
fn tickets_scale_with_reputation() {
	ExtBuilder::default().build_and_execute(|| {
		set_reputation(10, Perbill::from_percent(25));
		work_now(10, 100);
		work_now(11, 100); // default reputation 1/2
		rotate();
		assert_eq!(Tickets::<Test>::get(1, 10), Some(25_000));
		assert_eq!(Tickets::<Test>::get(1, 11), Some(50_000));
		assert_eq!(draw().total_tickets, 75_000);
	});
}

#[test]
fn tickets_are_dropped_when_the_draw_closes() {
	ExtBuilder::default().build_and_execute(|| {
		work_now(10, 100);
		rotate();
		assert!(Tickets::<Test>::get(1, 10).is_some());
		rotate();
		assert_eq!(Tickets::<Test>::get(1, 10), None);
		assert_eq!(draw().total_tickets, 0);
	});
}

// ---------------------------------------------------------------- keys

#[test]
fn register_vrf_key_needs_provider_or_tickets() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			VrfLottery::register_vrf_key(RuntimeOrigin::signed(99), pair(99).public()),
			Error::<Test>::NotProvider
		);
		RegisteredProviders::set(vec![]);
		work_now(10, 10);
		rotate();
		// Not registered, but holds tickets.
		assert_ok!(VrfLottery::register_vrf_key(RuntimeOrigin::signed(10), pair(10).public()));
		assert_eq!(VrfKeys::<Test>::get(10).unwrap().active_from, 3);
	});
}

#[test]
fn register_vrf_key_refuses_an_invalid_key() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			VrfLottery::register_vrf_key(
				RuntimeOrigin::signed(10),
				sr25519::Public::from_raw([0xff; 32])
			),
			Error::<Test>::InvalidVrfKey
		);
	});
}

#[test]
fn register_vrf_key_emits_event_with_activation_epoch() {
	ExtBuilder::default().build_and_execute(|| {
		register_key(10);
		assert_eq!(
			events().last(),
			Some(&Event::VrfKeyRegistered { who: 10, key: pair(10).public(), active_from: 2 })
		);
	});
}

#[test]
fn claim_refused_while_key_not_yet_active() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(8);
		work_now(10, 100);
		rotate();
		register_key(10); // during draw 1: active from draw 3
		assert_noop!(claim(10), Error::<Test>::KeyNotYetActive);
	});
}

#[test]
fn claim_refused_without_key() {
	ExtBuilder::default().build_and_execute(|| {
		work_now(10, 100);
		rotate();
		assert_noop!(claim(10), Error::<Test>::NoVrfKey);
	});
}

// ---------------------------------------------------------------- claims

#[test]
fn winning_claim_is_accepted_and_free() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(8); // every share reaches 1: everyone wins
		ready(&[(10, 100), (11, 100)]);
		let (sig, out) = evaluate(10);
		let post = VrfLottery::claim_ticket(RuntimeOrigin::signed(10), 2, sig).unwrap();
		assert_eq!(post.pays_fee, frame_support::dispatch::Pays::No);
		assert_eq!(
			events().last(),
			Some(&Event::TicketClaimed { epoch: 2, who: 10, output: out, threshold: u128::MAX })
		);
		assert_eq!(
			Claims::<Test>::get(2, 10),
			Some(ClaimRecord { output: out, threshold: u128::MAX })
		);
		assert_eq!(draw().winners, 1);
	});
}

#[test]
fn forged_claim_with_another_key_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(8);
		ready(&[(10, 100), (11, 100)]);
		let d = draw();
		let (sig, _) = vrf::evaluate(&pair(11), &d.seed, d.epoch, &10u64);
		assert_noop!(
			VrfLottery::claim_ticket(RuntimeOrigin::signed(10), 2, (&sig).into()),
			Error::<Test>::InvalidVrfProof
		);
	});
}

#[test]
fn forged_claim_on_another_seed_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(8);
		ready(&[(10, 100)]);
		let (sig, _) = vrf::evaluate(&pair(10), &[0u8; 32], 2, &10u64);
		assert_noop!(
			VrfLottery::claim_ticket(RuntimeOrigin::signed(10), 2, (&sig).into()),
			Error::<Test>::InvalidVrfProof
		);
	});
}

#[test]
fn claim_with_garbage_bytes_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(8);
		ready(&[(10, 100)]);
		let sig = VrfProofBytes { pre_output: [0xff; 32], proof: [7; 64] };
		assert_noop!(
			VrfLottery::claim_ticket(RuntimeOrigin::signed(10), 2, sig),
			Error::<Test>::InvalidVrfProof
		);
	});
}

#[test]
fn someone_elses_signature_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(8);
		ready(&[(10, 100), (11, 100)]);
		// 11 copies 10's winning signature: the transcript names the account.
		let (sig, _) = evaluate(10);
		assert_noop!(
			VrfLottery::claim_ticket(RuntimeOrigin::signed(11), 2, sig),
			Error::<Test>::InvalidVrfProof
		);
	});
}

#[test]
fn replayed_claim_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(8);
		ready(&[(10, 100)]);
		let (sig, _) = evaluate(10);
		assert_ok!(VrfLottery::claim_ticket(RuntimeOrigin::signed(10), 2, sig.clone()));
		assert_noop!(
			VrfLottery::claim_ticket(RuntimeOrigin::signed(10), 2, sig),
			Error::<Test>::AlreadyClaimed
		);
	});
}

#[test]
fn late_claim_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(8);
		ready(&[(10, 100)]);
		let (sig, _) = evaluate(10);
		work_now(10, 100);
		rotate();
		assert_noop!(
			VrfLottery::claim_ticket(RuntimeOrigin::signed(10), 2, sig),
			Error::<Test>::ClaimWindowClosed
		);
	});
}

#[test]
fn claim_for_a_future_epoch_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(8);
		ready(&[(10, 100)]);
		let d = draw();
		let (sig, _) = vrf::evaluate(&pair(10), &d.seed, 3, &10u64);
		assert_noop!(
			VrfLottery::claim_ticket(RuntimeOrigin::signed(10), 3, (&sig).into()),
			Error::<Test>::WrongEpoch
		);
	});
}

#[test]
fn claim_before_any_draw_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		register_key(10);
		let (sig, _) = vrf::evaluate(&pair(10), &[0; 32], 0, &10u64);
		assert_noop!(
			VrfLottery::claim_ticket(RuntimeOrigin::signed(10), 0, (&sig).into()),
			Error::<Test>::NoDraw
		);
	});
}

#[test]
fn claim_without_tickets_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(8);
		register_key(12);
		ready(&[(10, 100)]);
		assert_noop!(claim(12), Error::<Test>::NoTickets);
	});
}

#[test]
fn claim_above_threshold_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(1);
		// 10 holds a tiny share: it almost surely loses.
		ready(&[(10, 1), (11, 1_000_000)]);
		assert!(!wins(10), "the tiny share lost in this fixed seed sequence");
		assert_noop!(claim(10), Error::<Test>::AboveThreshold);
	});
}

#[test]
fn worker_helpers_agree_with_the_runtime() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(1);
		let work: Vec<(AccountId, u64)> = PROVIDERS.map(|p| (p, 100)).collect();
		ready(&work);
		let mut won = 0;
		for who in PROVIDERS {
			let expected = wins(who);
			assert_eq!(claim(who).is_ok(), expected, "provider {who}");
			won += expected as u32;
		}
		assert_eq!(draw().winners, won);
	});
}

// ---------------------------------------------------------------- fairness

/// Two providers, one with twice the other's tickets, one expected winner: the win
/// probabilities are 2/3 and 1/3. Over 400 draws with a fixed seed sequence the expected counts
/// are 266.7 and 133.3 (σ ≈ 9.4 each). Tolerance: each count within ±38 (4σ) of its
/// expectation and the ratio in [1.6, 2.5]. Deterministic: the seeds and keys are fixed and
/// VRF outputs do not depend on signing randomness.
#[test]
fn twice_the_tickets_wins_about_twice_as_often() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(1);
		set_reputation(10, Perbill::one());
		set_reputation(11, Perbill::one());
		ready(&[(10, 200), (11, 100)]);
		let (mut a, mut b) = (0u32, 0u32);
		for _ in 0..400 {
			for (who, count) in [(10, &mut a), (11, &mut b)] {
				if wins(who) {
					assert_ok!(claim(who));
					*count += 1;
				}
			}
			work_now(10, 200);
			work_now(11, 100);
			rotate();
		}
		std::eprintln!("2x tickets won {a}, 1x tickets won {b} of 400 draws");
		assert!((229..=305).contains(&a), "2× tickets won {a} of 400 (expected ≈ 267)");
		assert!((96..=171).contains(&b), "1× tickets won {b} of 400 (expected ≈ 133)");
		let ratio = a as f64 / b as f64;
		assert!((1.6..=2.5).contains(&ratio), "win ratio {ratio}");
	});
}

// ---------------------------------------------------------------- validators

#[test]
fn validator_set_changes_only_at_session_boundaries() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(8);
		WithSessionKeys::set(vec![10, 11]);
		ready(&[(10, 100), (11, 100)]);
		let before = LastOutcome::<Test>::get();
		assert_ok!(claim(10));
		assert_ok!(claim(11));
		// Claims alone change nothing.
		assert_eq!(LastOutcome::<Test>::get(), before);
		let set = rotate().expect("two winners with keys");
		let mut sorted = set.clone();
		sorted.sort();
		assert_eq!(sorted, vec![10, 11]);
		assert!(events().iter().any(|e| matches!(
			e,
			Event::ValidatorsElected { epoch: 2, session: 4, validators, newcomers: 2, incumbents: 0 }
				if validators.to_vec() == set
		)));
	});
}

#[test]
fn validator_set_never_falls_below_the_minimum() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(8);
		WithSessionKeys::set(vec![10, 11]);
		ready(&[(10, 100), (11, 100)]);
		assert_ok!(claim(10)); // one winner, MinValidators = 2
		assert_eq!(rotate(), None);
		assert!(events().contains(&Event::ValidatorSetKept {
			epoch: 2,
			session: 4,
			qualified: 1,
			incumbents: 0,
			required: 2
		}));
		assert_eq!(LastOutcome::<Test>::get().unwrap().validators, None);
	});
}

#[test]
fn winners_without_session_keys_are_not_seated() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(8);
		WithSessionKeys::set(vec![10, 11]);
		ready(&[(10, 100), (11, 100), (12, 100)]);
		for who in [10, 11, 12] {
			assert_ok!(claim(who));
		}
		let mut set = rotate().unwrap();
		set.sort();
		assert_eq!(set, vec![10, 11]);
		// 12 is still paid.
		assert!(events().contains(&Event::RewardPaid { epoch: 2, who: 12, amount: 333 }));
	});
}

#[test]
fn validator_set_is_capped_at_the_maximum_by_best_output() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(8);
		// No incumbents and changes enough for every winner: only `MaxValidators` caps the set.
		MaxSeatChanges::set(8);
		let all: Vec<AccountId> = (10..16).collect();
		WithSessionKeys::set(all.clone());
		ready(&all.iter().map(|w| (*w, 100)).collect::<Vec<_>>());
		let mut outputs: Vec<(u128, AccountId)> = all
			.iter()
			.map(|w| {
				assert_ok!(claim(*w));
				(vrf::output_value(&Claims::<Test>::get(2, w).unwrap().output), *w)
			})
			.collect();
		outputs.sort();
		let best: Vec<AccountId> = outputs.iter().take(4).map(|(_, w)| *w).collect();
		assert_eq!(rotate(), Some(best));
	});
}

#[test]
fn genesis_keeps_the_genesis_validators() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(<VrfLottery as SessionManager<AccountId>>::new_session_genesis(0), None);
		assert_eq!(<VrfLottery as SessionManager<AccountId>>::new_session_genesis(1), None);
		assert!(CurrentDraw::<Test>::get().is_none());
		// The first rotation opens draw 1 and keeps the set.
		assert_eq!(rotate(), None);
		assert_eq!(draw().epoch, 1);
	});
}

// ---------------------------------------------------------------- issuance

#[test]
fn issuance_adds_up_exactly() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(8);
		ready(&[(10, 100), (11, 100), (12, 100)]);
		for who in [10, 11, 12] {
			assert_ok!(claim(who));
		}
		let before = Balances::total_issuance();
		rotate();
		let paid: u64 = events()
			.iter()
			.filter_map(|e| match e {
				Event::RewardPaid { amount, .. } => Some(*amount),
				_ => None,
			})
			.sum();
		// 1000 / 3 = 333 each; the remainder of 1 is not minted.
		assert_eq!(paid, 999);
		assert_eq!(Balances::total_issuance() - before, paid);
		assert_eq!(Balances::balance(&10), 100 + 333);
		assert_eq!(LastOutcome::<Test>::get().unwrap().payout, 333);
	});
}

#[test]
fn unclaimed_issuance_is_not_minted() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(8);
		ready(&[(10, 100)]);
		let before = Balances::total_issuance();
		rotate();
		assert_eq!(Balances::total_issuance(), before);
		assert!(!events().iter().any(|e| matches!(e, Event::RewardPaid { .. })));
	});
}

// ---------------------------------------------------------------- arithmetic and invariants

#[test]
fn threshold_arithmetic() {
	assert_eq!(vrf::threshold(0, 100, 5), 0);
	assert_eq!(vrf::threshold(10, 0, 5), 0);
	assert_eq!(vrf::threshold(20, 100, 5), u128::MAX);
	assert_eq!(vrf::threshold(1, 2, 1), u128::MAX / 2);
	assert_eq!(vrf::threshold(u128::MAX / 3, u128::MAX, 1), u128::MAX / 3);
	assert!(vrf::threshold(1, 1_000, 1) < vrf::threshold(2, 1_000, 1));
	let mut out = [0u8; 32];
	out[..16].copy_from_slice(&5u128.to_le_bytes());
	assert!(vrf::is_winner(&out, 6));
	assert!(!vrf::is_winner(&out, 5));
	assert!(vrf::is_winner(&[0xff; 32], u128::MAX));
}

#[test]
fn transcript_binds_seed_epoch_and_account() {
	let p = pair(10);
	let (_, base) = vrf::evaluate(&p, &[1; 32], 2, &10u64);
	assert_ne!(base, vrf::evaluate(&p, &[2; 32], 2, &10u64).1);
	assert_ne!(base, vrf::evaluate(&p, &[1; 32], 3, &10u64).1);
	assert_ne!(base, vrf::evaluate(&p, &[1; 32], 2, &11u64).1);
	// Deterministic output despite randomized proofs.
	assert_eq!(base, vrf::evaluate(&p, &[1; 32], 2, &10u64).1);
	let data = vrf::lottery_transcript(&[1; 32], 2, &10u64);
	let sig = p.vrf_sign(&data);
	assert_eq!(vrf::verify_output(&p.public(), &data, &sig), Some(base));
}

#[test]
fn try_state_detects_a_wrong_total() {
	ExtBuilder::default().build().execute_with(|| {
		work_now(10, 100);
		rotate();
		assert_ok!(VrfLottery::do_try_state());
		CurrentDraw::<Test>::mutate(|d| d.as_mut().unwrap().total_tickets += 1);
		assert!(VrfLottery::do_try_state().is_err());
	});
}

#[test]
fn try_state_detects_a_claim_without_tickets() {
	ExtBuilder::default().build().execute_with(|| {
		ExpectedWinners::set(8);
		ready(&[(10, 100)]);
		assert_ok!(claim(10));
		Tickets::<Test>::remove(2, 10);
		CurrentDraw::<Test>::mutate(|d| {
			let d = d.as_mut().unwrap();
			d.total_tickets = 0;
			d.providers = 0;
		});
		assert!(VrfLottery::do_try_state().is_err());
	});
}

#[test]
fn boundary_weight_is_registered() {
	ExtBuilder::default().build_and_execute(|| {
		work_now(10, 100);
		let before = System::block_weight().total();
		rotate();
		assert!(System::block_weight().total().all_gt(before));
	});
}

#[test]
fn integrity_test_passes() {
	use frame_support::traits::Hooks;
	sp_io::TestExternalities::default().execute_with(|| {
		<VrfLottery as Hooks<u64>>::integrity_test();
	});
}

#[test]
fn benchmark_fixture_verifies() {
	use vrf::fixture::*;
	let public = sr25519::Pair::from_seed(&KEY_SEED).public();
	assert_eq!(public.0, PUBLIC);
	let sig = VrfProofBytes { pre_output: PRE_OUTPUT, proof: PROOF }.to_signature().unwrap();
	let data = vrf::lottery_transcript(&SEED, EPOCH, &ACCOUNT);
	assert!(vrf::verify_output(&public, &data, &sig).is_some());
}

/// Every provider with verified work holds tickets, however many there are: no list of
/// entrants can be filled by the accounts that came first (the old snapshot kept the first
/// `MaxProviders`, 16 here, and failed this).
#[test]
fn every_provider_with_work_holds_tickets_however_many() {
	ExtBuilder::default().build_and_execute(|| {
		for who in 1_000..3_000 {
			work_now(who, 10);
		}
		rotate();
		let d = draw();
		assert_eq!((d.providers, d.total_tickets), (2_000, 2_000 * 5_000));
		assert_eq!(Tickets::<Test>::get(1, 1_000), Some(5_000));
		assert_eq!(Tickets::<Test>::get(1, 2_999), Some(5_000), "the last to work has its share");
	});
}

/// Opening a draw reads the credited total, not the providers: its weight does not depend on
/// how many hold tickets.
#[test]
fn opening_a_draw_is_charged_the_same_for_any_number_of_providers() {
	let boundary = |providers: u64| {
		ExtBuilder::default().build().execute_with(|| {
			for who in 1_000..1_000 + providers {
				work_now(who, 10);
			}
			System::reset_events();
			System::register_extra_weight_unchecked(
				frame_support::weights::Weight::zero(),
				frame_support::dispatch::DispatchClass::Mandatory,
			);
			let before = System::block_weight().total();
			rotate();
			(System::block_weight().total().saturating_sub(before), draw().providers)
		})
	};
	let (few, n_few) = boundary(3);
	let (many, n_many) = boundary(3_000);
	assert_eq!((n_few, n_many), (3, 3_000));
	assert_eq!(few, many);
}

/// Tickets count the reputation a provider had when its work was verified: improving it
/// afterwards does not raise the value of earlier work.
#[test]
fn tickets_count_the_reputation_at_verification() {
	ExtBuilder::default().build_and_execute(|| {
		set_reputation(10, Perbill::from_percent(25));
		work_now(10, 100);
		set_reputation(10, Perbill::one());
		work_now(10, 100);
		rotate();
		assert_eq!(Tickets::<Test>::get(1, 10), Some(25_000 + 100_000));
		assert_eq!((draw().total_tickets, draw().providers), (125_000, 1));
	});
}

/// Work credited to a draw that has already opened earns nothing: its total is fixed, and a
/// late credit would give a share the total does not count.
#[test]
fn work_credited_after_its_draw_opened_earns_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		work_now(10, 100);
		rotate();
		let before = draw();
		set_work(0, 11, 100); // epoch 0's work, whose draw 1 is open
		set_work(0, 10, 100);
		assert_eq!(draw(), before);
		assert_eq!(Tickets::<Test>::get(1, 11), None);
		assert_eq!(Tickets::<Test>::get(1, 10), Some(50_000));
		assert_eq!(TicketTotals::<Test>::get(1), TicketTotal::default());
	});
}

/// A closed draw's tickets go in pages: at most `PRUNE_AT_BOUNDARY` at the session boundary,
/// the rest in idle blocks within the weight they are given.
#[test]
fn closed_draws_tickets_are_pruned_in_pages() {
	use crate::tickets::PRUNE_AT_BOUNDARY;
	use frame_support::{traits::Hooks, weights::Weight};
	let n = 2 * PRUNE_AT_BOUNDARY as u64 + 500;
	let mut ext = ExtBuilder::default().build();
	ext.execute_with(|| {
		for who in 1_000..1_000 + n {
			work_now(who, 1);
		}
		rotate(); // draw 1 opens
	});
	// The tickets were written in earlier blocks: they are in the database, where a page's
	// limit counts (the test overlay's keys would all go at once).
	ext.commit_all().unwrap();
	ext.execute_with(|| {
		rotate(); // draw 1 closes: a first page goes
		let left = || Tickets::<Test>::iter_prefix(1).count() as u64;
		assert_eq!(left(), n - u64::from(PRUNE_AT_BOUNDARY));
		assert_eq!(FirstUnprunedDraw::<Test>::get(), 1);
		// The boundary's block has pruned its page: its idle time does not go over it again.
		let roomy = Weight::from_parts(u64::MAX, u64::MAX);
		let check = frame_support::weights::constants::RocksDbWeight::get().reads(2);
		assert_eq!(VrfLottery::on_idle(System::block_number(), roomy), check);
		assert_eq!(left(), n - u64::from(PRUNE_AT_BOUNDARY));
	});
	ext.commit_all().unwrap();
	ext.execute_with(|| {
		System::set_block_number(System::block_number() + 1);
		let left = || Tickets::<Test>::iter_prefix(1).count() as u64;
		// An idle block with room for 300 removals takes 300, and charges what it did.
		let check = frame_support::weights::constants::RocksDbWeight::get().reads(2);
		let room = VrfLottery::prune_weight(300).saturating_add(check);
		let used = VrfLottery::on_idle(System::block_number(), room);
		assert!(used.all_lte(room));
		assert_eq!(left(), n - u64::from(PRUNE_AT_BOUNDARY) - 300);
		let roomy = Weight::from_parts(u64::MAX, u64::MAX);
		// No room, no work.
		assert_eq!(VrfLottery::on_idle(System::block_number(), Weight::zero()), Weight::zero());
		// A roomy idle block finishes draw 1 and moves the cursor to the open draw.
		VrfLottery::on_idle(System::block_number(), roomy);
		assert_eq!(left(), 0);
		assert_eq!(FirstUnprunedDraw::<Test>::get(), 2);
		// The open draw's tickets are never pruned.
		work_now(10, 1);
		rotate();
		System::set_block_number(System::block_number() + 1);
		VrfLottery::on_idle(System::block_number(), roomy);
		assert!(Tickets::<Test>::get(3, 10).is_some());
		VrfLottery::do_try_state().expect("vrf-lottery invariants hold");
	});
}

#[test]
fn replacing_a_key_restarts_the_activation_delay() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(8);
		ready(&[(10, 100)]);
		assert_ok!(VrfLottery::register_vrf_key(RuntimeOrigin::signed(10), pair(11).public()));
		assert_eq!(VrfKeys::<Test>::get(10).unwrap().active_from, 4);
		assert_noop!(claim(10), Error::<Test>::KeyNotYetActive);
	});
}

#[test]
fn registering_the_same_key_again_is_refused_and_keeps_its_activation() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(8);
		ready(&[(10, 100)]);
		let active_from = VrfKeys::<Test>::get(10).unwrap().active_from;
		assert_noop!(
			VrfLottery::register_vrf_key(RuntimeOrigin::signed(10), pair(10).public()),
			Error::<Test>::KeyAlreadyRegistered
		);
		assert_eq!(VrfKeys::<Test>::get(10).unwrap().active_from, active_from);
		assert_ok!(claim(10));
	});
}

#[test]
fn runtime_api_views_expose_everything_to_recompute_a_claim() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(1);
		set_reputation(10, Perbill::one());
		set_reputation(11, Perbill::one());
		ready(&[(10, 100), (11, 300)]);
		let d = VrfLottery::current_draw().unwrap();
		assert_eq!((d.epoch, d.total_tickets, d.expected_winners), (2, 400_000, 1));
		let v = VrfLottery::provider_view(&10);
		assert_eq!(v.epoch, 2);
		assert_eq!(v.tickets, 100_000);
		assert_eq!(v.threshold, vrf::threshold(100_000, 400_000, 1));
		assert_eq!(v.vrf_key.unwrap().key, pair(10).public());
		// Recompute 10's output from public data only and compare with the recorded claim.
		let (sig, _) = evaluate(10);
		let data = vrf::lottery_transcript(&d.seed, d.epoch, &10u64);
		let output = vrf::verify_output(&pair(10).public(), &data, &sig.to_signature().unwrap());
		if vrf::is_winner(&output.unwrap(), v.threshold) {
			assert_ok!(claim(10));
			assert_eq!(
				VrfLottery::current_winners(),
				vec![(10, Claims::<Test>::get(2, 10).unwrap())]
			);
			assert_eq!(VrfLottery::provider_view(&10).claim.unwrap().output, output.unwrap());
		} else {
			assert_noop!(claim(10), Error::<Test>::AboveThreshold);
			assert!(VrfLottery::current_winners().is_empty());
		}
		rotate();
		let o = VrfLottery::last_outcome_view().unwrap();
		assert_eq!(o.epoch, 2);
		assert_eq!(o.validators, None);
	});
}

#[test]
fn weights_are_sane() {
	use crate::weights::WeightInfo;
	use frame_support::{traits::Get, weights::Weight};
	let max = <<Test as frame_system::Config>::BlockWeights as Get<
		frame_system::limits::BlockWeights,
	>>::get()
	.max_block;
	let w: Weight = <() as WeightInfo>::claim_ticket();
	assert!(w.all_lt(max / 10), "a claim must be a small fraction of a block");
	assert!(<() as WeightInfo>::register_vrf_key().ref_time() < w.ref_time());
	assert!(<() as WeightInfo>::open_draw().all_lt(max / 100), "opening a draw reads no provider");
	assert!(<() as WeightInfo>::close_draw(10).all_gt(<() as WeightInfo>::close_draw(1)));
}

// ---------------------------------------------------------------- claims do not race

/// The open draw's outputs of `who`, best (lowest rank) first.
fn by_rank(who: impl IntoIterator<Item = AccountId>) -> Vec<AccountId> {
	let mut ranked: Vec<_> = who
		.into_iter()
		.map(|w| (vrf::rank(&evaluate(w).1, VrfLottery::provider_view(&w).threshold), w))
		.collect();
	ranked.sort();
	ranked.into_iter().map(|(_, w)| w).collect()
}

fn ranking() -> Vec<AccountId> {
	Ranking::<Test>::get().iter().map(|c| c.who).collect()
}

/// An attacker that knows it won early claims at once from many accounts and fills the draw
/// (`MaxWinners` = 3). An honest winner with a lower output claims last: it is accepted, the
/// attacker's worst claim is displaced (and not paid), and at the close the honest winner is
/// paid and seated. Before storage version 2 the honest claim was refused (`TooManyWinners`).
#[test]
fn an_early_attacker_filling_the_draw_is_displaced_by_a_lower_output() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(100); // every share reaches 1: everyone wins
		MaxWinners::set(3);
		let all: Vec<AccountId> = (10..20).collect();
		WithSessionKeys::set([90, 91].into_iter().chain(all.iter().copied()).collect());
		Incumbents::set(vec![90, 91]);
		ready(&all.iter().map(|w| (*w, 100)).collect::<Vec<_>>());
		let ranked = by_rank(all.clone());
		// The honest winner holds the lowest output; the attacker controls the other nine and
		// claims first with its three worst ones, which fill the draw.
		let honest = ranked[0];
		let attacker: Vec<AccountId> = ranked[1..].to_vec();
		let early: Vec<AccountId> = attacker.iter().rev().take(3).copied().collect();
		for who in &early {
			assert_ok!(claim(*who));
		}
		assert_eq!(draw().winners, 3);
		let worst = early[0];
		assert_ok!(claim(honest));
		assert!(events().contains(&Event::ClaimDisplaced { epoch: 2, who: worst }));
		assert_eq!(Claims::<Test>::get(2, worst), None);
		assert_eq!(ranking(), vec![honest, early[2], early[1]]);
		assert_eq!(draw().winners, 3);
		// The displaced account cannot come back: its output is above every kept one.
		assert_noop!(claim(worst), Error::<Test>::OutbidByLowerOutputs);

		let set = rotate().expect("a set is planned");
		let closed = LastOutcome::<Test>::get().unwrap();
		assert_eq!(closed.winners.to_vec(), vec![honest, early[2], early[1]]);
		assert!(events().contains(&Event::RewardPaid { epoch: 2, who: honest, amount: 333 }));
		assert!(!events()
			.iter()
			.any(|e| matches!(e, Event::RewardPaid { who, .. } if *who == worst)));
		// The honest winner has the best output: it is the one newcomer.
		assert_eq!(set, vec![honest, 90]);
	});
}

/// When the draw is full, a claim not lower than the worst kept one is refused and changes
/// nothing.
#[test]
fn a_claim_worse_than_every_kept_claim_is_refused_when_full() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(100);
		MaxWinners::set(3);
		let all: Vec<AccountId> = (10..14).collect();
		ready(&all.iter().map(|w| (*w, 100)).collect::<Vec<_>>());
		let ranked = by_rank(all);
		for who in &ranked[..3] {
			assert_ok!(claim(*who));
		}
		assert_noop!(claim(ranked[3]), Error::<Test>::OutbidByLowerOutputs);
		assert_eq!(ranking(), ranked[..3].to_vec());
	});
}

/// Below `MaxWinners` every valid claim is kept, in rank order, whatever the arrival order.
#[test]
fn the_ranking_keeps_every_claim_in_output_order() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(100);
		let all: Vec<AccountId> = (10..16).collect();
		ready(&all.iter().map(|w| (*w, 100)).collect::<Vec<_>>());
		for who in all.iter().rev() {
			assert_ok!(claim(*who));
		}
		assert_eq!(ranking(), by_rank(all));
		assert_eq!(draw().winners, 6);
		rotate();
		assert!(Ranking::<Test>::get().is_empty());
	});
}

#[test]
fn try_state_detects_a_ranking_that_differs_from_the_claims() {
	ExtBuilder::default().build().execute_with(|| {
		ExpectedWinners::set(100);
		ready(&[(10, 100), (11, 100)]);
		assert_ok!(claim(10));
		assert_ok!(claim(11));
		assert_ok!(VrfLottery::do_try_state());
		Ranking::<Test>::mutate(|r| r.as_mut().reverse());
		assert!(VrfLottery::do_try_state().is_err());
		Ranking::<Test>::mutate(|r| {
			r.as_mut().reverse();
			r.pop();
		});
		assert!(VrfLottery::do_try_state().is_err());
	});
}

// ---------------------------------------------------------------- seats

/// Keyed incumbents 1..=4, floor 4, no cap beyond 4.
fn four_incumbents() {
	MinValidators::<Test>::put(4);
	MaxValidators::set(4);
	Incumbents::set(vec![1, 2, 3, 4]);
	WithSessionKeys::set(vec![1, 2, 3, 4]);
}

/// [`four_incumbents`] and one keyed winner, 10, that has claimed in the open draw.
fn one_keyed_winner_beside_four_incumbents() {
	ExpectedWinners::set(100);
	four_incumbents();
	WithSessionKeys::set(vec![1, 2, 3, 4, 10]);
	ready(&[(10, 100)]);
	assert_ok!(claim(10));
}

fn attackers_in(set: &[AccountId]) -> usize {
	set.iter().filter(|v| PROVIDERS.contains(v)).count()
}

/// A self-dealing party whose ten accounts win every claim of every draw gains at most
/// `MaxSeatChanges` seats per session: one after one session, `n` after `n`, and the set never
/// falls below the floor. Before, it became the whole set at the first close.
#[test]
fn a_party_winning_every_draw_gains_at_most_max_seat_changes_per_session() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(100);
		MaxWinners::set(16);
		four_incumbents();
		let attacker: Vec<AccountId> = (10..20).collect();
		WithSessionKeys::set([1, 2, 3, 4].into_iter().chain(attacker.clone()).collect());
		ready(&attacker.iter().map(|w| (*w, 100)).collect::<Vec<_>>());
		for n in 1..=4usize {
			for who in &attacker {
				assert_ok!(claim(*who));
			}
			for who in &attacker {
				work_now(*who, 100);
			}
			let set = rotate().expect("a set is planned");
			assert_eq!(set.len(), 4, "session {n}: {set:?}");
			assert_eq!(attackers_in(&set), n, "session {n}: {set:?}");
			assert!(events().iter().any(|e| matches!(
				e,
				Event::ValidatorsElected { newcomers: 1, incumbents: 3, .. }
			)));
		}
	});
}

/// The same with `MaxSeatChanges = 2`: two seats per session at most.
#[test]
fn max_seat_changes_bounds_the_newcomers_per_session() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(100);
		MaxWinners::set(16);
		MaxSeatChanges::set(2);
		four_incumbents();
		let attacker: Vec<AccountId> = (10..20).collect();
		WithSessionKeys::set([1, 2, 3, 4].into_iter().chain(attacker.clone()).collect());
		ready(&attacker.iter().map(|w| (*w, 100)).collect::<Vec<_>>());
		for n in 1..=2usize {
			for who in &attacker {
				assert_ok!(claim(*who));
			}
			for who in &attacker {
				work_now(*who, 100);
			}
			let set = rotate().unwrap();
			assert_eq!((set.len(), attackers_in(&set)), (4, 2 * n));
		}
	});
}

/// A single keyed winner with floor 4 and four keyed incumbents: one newcomer and three
/// incumbents (the last incumbent leaves). Before, the set was kept (one winner < 4).
#[test]
fn a_single_winner_joins_three_incumbents_at_the_floor() {
	ExtBuilder::default().build_and_execute(|| {
		one_keyed_winner_beside_four_incumbents();
		assert_eq!(rotate(), Some(vec![10, 1, 2, 3]));
		assert!(events().iter().any(|e| matches!(
			e,
			Event::ValidatorsElected { epoch: 2, session: 4, newcomers: 1, incumbents: 3, .. }
		)));
		assert_ok!(VrfLottery::do_try_state());
	});
}

/// A winner that is no longer a registered provider (it unregistered and withdrew its bond
/// after earning its tickets) is not seated: as a validator it would have nothing an
/// equivocation report could slash. Before, session keys alone qualified it.
#[test]
fn a_winner_without_a_provider_bond_is_not_seated() {
	ExtBuilder::default().build_and_execute(|| {
		one_keyed_winner_beside_four_incumbents();
		// 10 withdrew its bond during the claim window.
		RegisteredProviders::mutate(|p| p.retain(|w| *w != 10));
		let set = rotate().unwrap_or_else(Incumbents::get);
		assert_eq!(set, vec![1, 2, 3, 4]);
		assert_ok!(VrfLottery::do_try_state());
	});
}

/// Seat history for the bond that answers for equivocations: an incumbent the plan leaves out
/// is recorded with the last session it sits in; a planned newcomer counts as seated in the
/// next session, the incumbents that stay in the current one; `forget_seat` clears it.
#[test]
fn a_leaving_validator_is_recorded_with_its_last_session() {
	ExtBuilder::default().build_and_execute(|| {
		one_keyed_winner_beside_four_incumbents();
		assert_eq!(rotate(), Some(vec![10, 1, 2, 3]));
		// Planned for session 4: 4 sits in session 3, its last.
		assert_eq!(LastSeatedSession::<Test>::get(4), Some(3));
		assert_eq!(LastSeatedSession::<Test>::iter().count(), 1);
		assert_eq!(VrfLottery::last_seated_session(&4, 3), Some(3));
		assert_eq!(VrfLottery::last_seated_session(&10, 3), Some(4));
		assert_eq!(VrfLottery::last_seated_session(&1, 3), Some(4));
		assert_eq!(VrfLottery::last_seated_session(&11, 3), None);
		VrfLottery::forget_seat(&4);
		assert_eq!(LastSeatedSession::<Test>::get(4), None);
		// Still in the current set (session 3): seated now.
		assert_eq!(Incumbents::get(), vec![1, 2, 3, 4]);
		assert_eq!(VrfLottery::last_seated_session(&4, 3), Some(3));
	});
}

/// A kept set still loses the validators without session keys (pallet-session drops them):
/// their last session is recorded too, so their bond stays at stake for the reporting window.
/// Before, only a successful plan recorded leavers, and a validator that dropped its keys while
/// the set was kept could withdraw its bond at once.
#[test]
fn a_validator_dropped_from_a_kept_set_is_recorded() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(100);
		four_incumbents();
		// 4 dropped its keys; no keyed winner: three keyed incumbents < floor 4, the set is kept.
		WithSessionKeys::set(vec![1, 2, 3]);
		ready(&[(10, 100)]);
		assert_eq!(rotate(), None);
		assert!(events().iter().any(|e| matches!(e, Event::ValidatorSetKept { .. })));
		assert_eq!(LastSeatedSession::<Test>::get(4), Some(3));
		assert_eq!(LastSeatedSession::<Test>::get(1), None);
	});
}

/// Incumbents without session keys do not count toward the floor: with two of four keyless,
/// one winner cannot reach 4 and the set is kept; with two winners, both enter and fill the
/// seats of the keyless ones.
#[test]
fn incumbents_without_session_keys_do_not_count_toward_the_floor() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(100);
		four_incumbents();
		WithSessionKeys::set(vec![1, 2, 10, 11]);
		ready(&[(10, 100), (11, 100)]);
		assert_ok!(claim(10));
		work_now(10, 100);
		work_now(11, 100);
		assert_eq!(rotate(), None);
		assert!(events().contains(&Event::ValidatorSetKept {
			epoch: 2,
			session: 4,
			qualified: 1,
			incumbents: 2,
			required: 4
		}));
		Incumbents::set(vec![1, 2, 3, 4]);
		Queued::set(None);
		assert_ok!(claim(10));
		assert_ok!(claim(11));
		let set = rotate().unwrap();
		assert_eq!(set.len(), 4);
		assert_eq!(&set[2..], &[1, 2]);
		assert!(!set.contains(&3) && !set.contains(&4));
	});
}

/// Fewer keyed winners and incumbents together than the floor: the set is kept.
#[test]
fn too_few_keyed_winners_and_incumbents_keep_the_set() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(100);
		four_incumbents();
		WithSessionKeys::set(vec![1, 2, 10]);
		ready(&[(10, 100), (11, 100)]);
		assert_ok!(claim(10));
		assert_ok!(claim(11)); // no session keys
		assert_eq!(rotate(), None);
		assert!(events().contains(&Event::ValidatorSetKept {
			epoch: 2,
			session: 4,
			qualified: 1,
			incumbents: 2,
			required: 4
		}));
		assert_eq!(LastOutcome::<Test>::get().unwrap().validators, None);
	});
}

/// Incumbents leave only to make room for newcomers: one winner that is an incumbent, winning
/// again and again, never becomes the whole set (before, it was seated alone), and a draw
/// without claims changes nothing.
#[test]
fn incumbents_leave_only_to_make_room_for_newcomers() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(100);
		MinValidators::<Test>::put(1);
		Incumbents::set(vec![1, 2, 3, 10]);
		WithSessionKeys::set(vec![1, 2, 3, 10]);
		ready(&[(10, 100)]);
		for _ in 0..3 {
			assert_ok!(claim(10));
			work_now(10, 100);
			assert_eq!(rotate(), Some(vec![10, 1, 2, 3]));
		}
		// Nobody claims: the set stays as it is.
		assert_eq!(rotate(), Some(vec![10, 1, 2, 3]));
	});
}

#[test]
#[should_panic(expected = "the validator set must be able to change")]
fn integrity_test_refuses_zero_seat_changes() {
	use frame_support::traits::Hooks;
	sp_io::TestExternalities::default().execute_with(|| {
		MaxSeatChanges::set(0);
		<VrfLottery as Hooks<u64>>::integrity_test();
	});
}

#[test]
fn try_state_detects_a_validator_that_is_neither_winner_nor_incumbent() {
	ExtBuilder::default().build().execute_with(|| {
		one_keyed_winner_beside_four_incumbents();
		assert_eq!(rotate(), Some(vec![10, 1, 2, 3]));
		assert_ok!(VrfLottery::do_try_state());
		Incumbents::set(vec![5, 6, 7, 8]);
		assert!(VrfLottery::do_try_state().is_err());
	});
}

/// Sybil accounts buy no better places: a winner's output is uniform below its threshold, so
/// ranked by the raw output a winner with few tickets (a low threshold) would almost always
/// outrank one with many, and splitting one machine's work over many accounts would take the
/// seats. Ranked relative to the threshold, a small and a large winner are first equally often.
#[test]
fn a_winner_with_few_tickets_does_not_outrank_one_with_many() {
	let large = u128::MAX / 2;
	let small = u128::MAX / 200;
	let mut state = 0x2545_f491_4f6c_dd1du64;
	let mut next = || {
		state ^= state << 13;
		state ^= state >> 7;
		state ^= state << 17;
		(u128::from(state) << 64) | u128::from(state.rotate_left(29))
	};
	let output = |value: u128, tag: u8| {
		let mut o = [tag; 32];
		o[..16].copy_from_slice(&value.to_le_bytes());
		o
	};
	let pairs = 4_000;
	let mut small_first = 0;
	for _ in 0..pairs {
		let o_small = output(next() % small, 1);
		let o_large = output(next() % large, 2);
		assert!(vrf::is_winner(&o_small, small) && vrf::is_winner(&o_large, large));
		if vrf::rank(&o_small, small) < vrf::rank(&o_large, large) {
			small_first += 1;
		}
	}
	// Half of 4,000 ± 5 standard deviations (about 32 each).
	assert!(
		(1_840..=2_160).contains(&small_first),
		"the small winner ranked first {small_first} times"
	);
}

// ---------------------------------------------------------------- the floor, a chain parameter

/// The floor a genesis config with `min_validators` stores.
fn floor_at_genesis(min_validators: u32) -> u32 {
	use sp_runtime::BuildStorage;
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	crate::GenesisConfig::<Test> { min_validators, ..Default::default() }
		.assimilate_storage(&mut t)
		.unwrap();
	sp_io::TestExternalities::new(t).execute_with(MinValidators::<Test>::get)
}

/// The floor is a chain parameter: the genesis config sets it, `0` stands for the production
/// default, and a chain that never stored it (one upgraded from before it was stored) reads 1,
/// the constant it ran with.
#[test]
fn the_genesis_config_sets_the_validator_floor() {
	assert_eq!(floor_at_genesis(3), 3);
	assert_eq!(floor_at_genesis(0), crate::DEFAULT_MIN_VALIDATORS);
	sp_io::TestExternalities::new(Default::default())
		.execute_with(|| assert_eq!(MinValidators::<Test>::get(), 1));
}

/// A floor above `MaxValidators` could never be met: genesis refuses it.
#[test]
#[should_panic(expected = "must not exceed MaxValidators")]
fn the_genesis_config_refuses_a_floor_above_max_validators() {
	floor_at_genesis(5);
}

/// `try_state` catches a floor written out of bounds (for example by `system.set_storage`).
#[test]
fn try_state_detects_a_floor_out_of_bounds() {
	ExtBuilder::default().build().execute_with(|| {
		MinValidators::<Test>::put(0);
		assert!(VrfLottery::do_try_state().is_err());
		MinValidators::<Test>::put(5);
		assert!(VrfLottery::do_try_state().is_err());
		MinValidators::<Test>::put(4);
		assert_ok!(VrfLottery::do_try_state());
	});
}

/// Root sets the floor within `1..=MaxValidators`; anything else is refused with a named error
/// and changes nothing.
#[test]
fn root_sets_the_floor_within_bounds() {
	ExtBuilder::default().build().execute_with(|| {
		let before = MinValidators::<Test>::get();
		assert_noop!(
			VrfLottery::set_min_validators(RuntimeOrigin::signed(1), 2),
			sp_runtime::DispatchError::BadOrigin
		);
		let max = <Test as crate::Config>::MaxValidators::get();
		for bad in [0, max + 1, u32::MAX] {
			assert_noop!(
				VrfLottery::set_min_validators(RuntimeOrigin::root(), bad),
				Error::<Test>::FloorOutOfRange
			);
		}
		assert_eq!(MinValidators::<Test>::get(), before);
		assert_ok!(VrfLottery::set_min_validators(RuntimeOrigin::root(), max));
		assert_eq!(MinValidators::<Test>::get(), max);
		assert!(events().contains(&Event::MinValidatorsSet { floor: max }));
		assert!(VrfLottery::do_try_state().is_ok());
	});
}

/// Raising the floor above the set already planned does not break the invariants: the plan
/// was made under the old floor, and the next plan meets the new one.
#[test]
fn raising_the_floor_after_a_plan_keeps_try_state_clean() {
	ExtBuilder::default().build_and_execute(|| {
		ExpectedWinners::set(100);
		MinValidators::<Test>::put(1);
		MaxValidators::set(4);
		Incumbents::set(vec![1]);
		WithSessionKeys::set(vec![1, 10]);
		ready(&[(10, 100)]);
		assert_ok!(claim(10));
		let planned = rotate().expect("a set is planned");
		assert!(planned.len() < 4);
		assert_ok!(VrfLottery::set_min_validators(RuntimeOrigin::root(), 4));
		assert_ok!(VrfLottery::do_try_state());
	});
}

/// The claim the runtime's `claim_ticket` benchmark makes (the fixture's claimant, as in WASM,
/// where no VRF can be signed): at the benchmark's ticket total it wins and ranks ahead of every
/// claim of the full ranking the benchmark fills, so the benchmark measures the worst case
/// instead of stopping. The mock runs the benchmark with a signed claim of its own account; the
/// runtime uses this fixture.
#[cfg(feature = "runtime-benchmarks")]
#[test]
fn the_benchmark_fixture_claim_wins_and_displaces_the_worst_claim() {
	use vrf::fixture::*;
	let public = sr25519::Pair::from_seed(&KEY_SEED).public();
	let sig = VrfProofBytes { pre_output: PRE_OUTPUT, proof: PROOF }.to_signature().unwrap();
	let data = vrf::lottery_transcript(&SEED, EPOCH, &ACCOUNT);
	let output = vrf::verify_output(&public, &data, &sig).unwrap();
	let value = vrf::output_value(&output);
	let tickets = crate::benchmarking::winning_tickets(&output);
	let threshold = vrf::threshold(tickets.into(), crate::benchmarking::BENCH_TOTAL, 1);
	assert!(threshold < u128::MAX);
	assert!(vrf::is_winner(&output, threshold), "output {value} above threshold {threshold}");
	let max = <Test as Config>::MaxWinners::get();
	assert!(vrf::rank(&output, threshold) < crate::benchmarking::ahead_of_every_kept(max));
}

/// An idle block removes at most `MAX_PRUNE_PER_BLOCK` tickets, however much weight it has
/// left: the benchmarked weight is trusted only that far.
#[test]
fn an_idle_block_prunes_at_most_its_cap() {
	use crate::tickets::MAX_PRUNE_PER_BLOCK;
	use frame_support::{traits::Hooks, weights::Weight};
	let n = u64::from(MAX_PRUNE_PER_BLOCK) + 1_500;
	let mut ext = ExtBuilder::default().build();
	ext.execute_with(|| {
		for who in 1_000..1_000 + n {
			work_now(who, 1);
		}
		rotate();
	});
	ext.commit_all().unwrap();
	ext.execute_with(|| {
		rotate(); // draw 1 closes: a first page goes
	});
	ext.commit_all().unwrap();
	ext.execute_with(|| {
		System::set_block_number(System::block_number() + 1);
		let before = Tickets::<Test>::iter_prefix(1).count() as u64;
		VrfLottery::on_idle(System::block_number(), Weight::from_parts(u64::MAX, u64::MAX));
		let after = Tickets::<Test>::iter_prefix(1).count() as u64;
		assert_eq!(before - after, u64::from(MAX_PRUNE_PER_BLOCK));
		VrfLottery::do_try_state().expect("vrf-lottery invariants hold");
	});
}

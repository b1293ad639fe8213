//! Tests of the draw index ([`crate::index`]): resource classes, the Fenwick tree kept in
//! step with every change of a provider's free slots, and what an attacker can do with
//! accounts whose heartbeat lapses.

use crate::{index::*, mock::*, pallet::*, types::*, Error};
use frame_support::{
	assert_noop, assert_ok,
	traits::{fungible::Mutate, Get},
};
use povm_primitives::{Arch, Drawn, ProviderRegistry, Resources};

const JOB: Resources = Resources { millicores: 1_000, memory_mib: 256, max_seconds: 60 };

fn register_with(who: AccountId, offer: VmOffer) {
	assert_ok!(<Balances as Mutate<_>>::mint_into(&who, 100_000));
	assert_ok!(VmProof::register_provider(RuntimeOrigin::signed(who), offer, 10_000));
}

/// A draw keyed by `key` (a fixed sequence of blake2 numbers): the providers drawn and the
/// lapsed providers met.
fn drawn(r: &Resources, count: u32, exclude: &[AccountId], key: u64) -> Drawn<AccountId> {
	let mut random = |i: u32| {
		let h = sp_io::hashing::blake2_256(&codec::Encode::encode(&(key, i)));
		u64::from_le_bytes(h[..8].try_into().unwrap())
	};
	<VmProof as ProviderRegistry<_, _>>::draw(r, Arch::X86_64, count, exclude, &mut random)
}

/// The providers of a draw keyed by `key`.
fn draw(r: &Resources, count: u32, exclude: &[AccountId], key: u64) -> Vec<AccountId> {
	drawn(r, count, exclude, key).providers
}

/// Twenty accounts (2,000 to 2,019) of `MaxSlots` slots each whose heartbeat lapsed (they
/// registered in epoch 0, it is now epoch 5), and one live provider, 99, of one slot. Returns
/// the lapsed accounts' offer.
fn lapsed_accounts_beside_one_live() -> VmOffer {
	MaxProviders::set(1_000);
	let big = VmOffer { slots: <Test as crate::Config>::MaxSlots::get(), ..offer() };
	for who in 2_000..2_020 {
		register_with(who, big);
	}
	Epoch::set(5);
	register_with(99, VmOffer { slots: 1, ..offer() });
	big
}

/// How many of the lapsed accounts of [`lapsed_accounts_beside_one_live`] the draws have
/// taken out of the index (weight 0).
fn lapsed_accounts_dropped() -> u32 {
	(2_000..2_020)
		.filter(|w| IndexPlaces::<Test>::get(w).is_some_and(|p| p.weight == 0))
		.count() as u32
}

/// Every offer filed under a class fits every job the class covers: the index never draws a
/// provider that cannot run the job. Checked over a grid of offers and jobs around every tier
/// floor.
#[test]
fn a_class_covers_only_jobs_its_every_offer_fits() {
	let around = |tiers: &[u32]| -> Vec<u32> {
		tiers
			.iter()
			.flat_map(|t| [t.saturating_sub(1).max(1), *t, t.saturating_add(1)])
			.collect()
	};
	let (cpus, mems, secs) = (around(&CPU_TIERS), around(&MEMORY_TIERS), around(&SECONDS_TIERS));
	let mut covered = 0u32;
	for (i, cpu) in cpus.iter().enumerate() {
		for (j, mem) in mems.iter().enumerate() {
			let sec = secs[(i * 7 + j) % secs.len()];
			let offer = VmOffer { millicores: *cpu, memory_mib: *mem, max_seconds: sec, ..offer() };
			let class = class_of_offer(&offer);
			for (k, need_cpu) in cpus.iter().enumerate() {
				let need = Resources {
					millicores: *need_cpu,
					memory_mib: mems[(k * 3 + j) % mems.len()],
					max_seconds: secs[(k * 5 + i) % secs.len()],
				};
				if class_covers(&class, &need) {
					covered += 1;
					assert!(offer.fits(&need), "{offer:?} filed as {class:?} drawn for {need:?}");
				}
			}
		}
	}
	assert!(covered > 1_000, "the grid covered only {covered} pairs");
	// An offer at a floor takes jobs up to the floor; one between floors, up to the lower.
	let class = class_of_offer(&VmOffer { millicores: 3_000, ..offer() });
	assert!(class_covers(&class, &Resources { millicores: 2_000, ..JOB }));
	assert!(!class_covers(&class, &Resources { millicores: 2_001, ..JOB }));
}

/// The index follows every change of a provider's free slots: registration, a slot taken by
/// a draw and freed by a verdict, an offer moved to another class, unregistration (the last
/// provider of the class moved into the freed position); the invariants (`try_state_index`:
/// every Fenwick node equals the sum it covers) hold after each step.
#[test]
fn the_index_follows_registration_slots_offers_and_unregistration() {
	ExtBuilder::default().build_and_execute(|| {
		for who in [10, 11, 12] {
			register_with(who, offer());
		}
		assert_eq!(VmProof::drawable_count(&JOB, Arch::X86_64), 3);
		let class = class_of_offer(&offer());
		assert_eq!(IndexPlaces::<Test>::get(12).map(|p| p.position), Some(3));
		// A slot taken and freed.
		crate::ProviderJobs::<Test>::mutate(11, |j| j.try_push(7).unwrap());
		assert_ok!(VmProof::reindex(&11));
		assert_eq!(IndexPlaces::<Test>::get(11).map(|p| p.weight), Some(offer().slots - 1));
		assert_ok!(VmProof::try_state_index());
		VmProof::release_slot(7, &11);
		assert_eq!(IndexPlaces::<Test>::get(11).map(|p| p.weight), Some(offer().slots));
		// The first unregisters: the last takes its position.
		assert_ok!(VmProof::unregister(RuntimeOrigin::signed(10)));
		assert_eq!(IndexPlaces::<Test>::get(12).map(|p| p.position), Some(1));
		assert_eq!(IndexMembers::<Test>::get(class, 1), Some(12));
		assert_eq!(IndexMembers::<Test>::get(class, 3), None);
		assert_ok!(VmProof::try_state_index());
		// An offer too small for the job leaves its class: no longer drawn for it.
		let small = VmOffer { millicores: 500, ..offer() };
		assert_ok!(VmProof::update_offer(RuntimeOrigin::signed(11), small));
		assert_eq!(IndexPlaces::<Test>::get(11).map(|p| p.class), Some(class_of_offer(&small)));
		assert_eq!(VmProof::drawable_count(&JOB, Arch::X86_64), 1);
		for key in 0..20 {
			assert_eq!(draw(&JOB, 2, &[], key), vec![12]);
		}
		assert_ok!(VmProof::try_state_index());
	});
}

/// A draw over the index is weighted by free slots whatever the registration order: among
/// 300 providers of one slot and one of `MaxSlots` (4) registered last, the last one takes
/// about 4/304 of 2,000 one-replica draws, and no one is drawn twice in one draw.
#[test]
fn the_last_registered_provider_is_drawn_by_its_slots() {
	ExtBuilder::default().build_and_execute(|| {
		MaxProviders::set(1_000);
		for who in 1_000..1_300 {
			register_with(who, VmOffer { slots: 1, ..offer() });
		}
		// `MaxSlots` is the mock's bound on one offer's slots.
		let slots = <Test as crate::Config>::MaxSlots::get();
		register_with(5_000, VmOffer { slots, ..offer() });
		let share = slots as f64 / (300.0 + slots as f64);
		let wins = (0..2_000).filter(|k| draw(&JOB, 1, &[], *k) == vec![5_000]).count() as f64;
		let expected = 2_000.0 * share;
		assert!((wins - expected).abs() < 5.0 * expected.sqrt(), "{wins} against {expected}");
		let five = draw(&JOB, 5, &[], 1);
		let mut unique = five.clone();
		unique.sort();
		unique.dedup();
		assert_eq!(unique.len(), 5);
		// An excluded provider is never drawn.
		assert!((0..200).all(|k| !draw(&JOB, 1, &[5_000], k).contains(&5_000)));
	});
}

/// The attack on the index: a provider registers many accounts of many slots and lets their
/// heartbeats lapse, so that draws keep meeting them. A draw gives up after
/// [`MAX_DRAW_REJECTIONS`] of them (its cost is bounded and charged), and each one met is
/// taken out of the index for good (until it heartbeats again, a transaction per account per
/// epoch): after a few draws the live provider is drawn every time.
#[test]
fn accounts_whose_heartbeat_lapsed_are_dropped_from_the_index_by_the_draws_that_meet_them() {
	ExtBuilder::default().build_and_execute(|| {
		let big = lapsed_accounts_beside_one_live();
		// The 20 lapsed accounts weigh until met, but only the live one is counted.
		assert_eq!(VmProof::drawable_count(&JOB, Arch::X86_64), 1);
		let mut draws = 0;
		while draw(&JOB, 1, &[], draws) != vec![99] {
			draws += 1;
			assert!(draws <= 20, "a lapsed account was drawn or never dropped");
		}
		// Every draw dropped up to MAX_DRAW_REJECTIONS of them: all met ones are weight 0.
		let dropped = u64::from(lapsed_accounts_dropped());
		assert!(dropped >= draws.min(20 / MAX_DRAW_REJECTIONS as u64), "{dropped} after {draws}");
		assert!(dropped <= (draws + 1) * MAX_DRAW_REJECTIONS as u64);
		// A heartbeat brings one back.
		assert_ok!(VmProof::heartbeat(RuntimeOrigin::signed(2_000)));
		assert_eq!(IndexPlaces::<Test>::get(2_000).map(|p| p.weight), Some(big.slots));
	});
}

/// A draw reports every lapsed provider it met, so that its caller is charged for each
/// ([`VmProof::rejection_weight`]) and not for the most a draw can meet: the rejections the
/// draws report are exactly the accounts they took out of the index, and a draw among live
/// providers reports none.
#[test]
fn a_draw_reports_the_lapsed_providers_it_met() {
	ExtBuilder::default().build_and_execute(|| {
		lapsed_accounts_beside_one_live();
		let mut reported = 0u32;
		for key in 0..40 {
			let drawn = drawn(&JOB, 1, &[], key);
			assert!(drawn.rejections <= MAX_DRAW_REJECTIONS);
			reported += drawn.rejections;
		}
		let dropped = lapsed_accounts_dropped();
		assert_eq!(reported, dropped);
		assert_eq!(dropped, 20, "40 draws met every lapsed account");
		// Among live providers only, nothing is met.
		assert_eq!(drawn(&JOB, 1, &[], 40), Drawn { providers: vec![99], rejections: 0 });
		assert_eq!(
			VmProof::draw_rejections_weight(),
			VmProof::rejection_weight().saturating_mul(MAX_DRAW_REJECTIONS as u64)
		);
	});
}

/// A slashed bond below `MinBond` takes the provider out of the draw at once.
#[test]
fn a_bond_slashed_below_the_minimum_leaves_the_draw() {
	ExtBuilder::default().build_and_execute(|| {
		register_with(10, offer());
		register_with(11, offer());
		crate::Pallet::<Test>::slash_for_offence(&10, 1, sp_runtime::Perbill::from_percent(95));
		assert_eq!(IndexPlaces::<Test>::get(10).map(|p| p.weight), Some(0));
		assert_eq!(VmProof::drawable_count(&JOB, Arch::X86_64), 1);
		assert!((0..20).all(|k| draw(&JOB, 2, &[], k) == vec![11]));
	});
}

/// A class holds at most `CLASS_CAPACITY` providers; the registry as a whole `MaxProviders`:
/// beyond it registration is refused and nothing changes.
#[test]
fn registration_beyond_the_registry_bound_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		MaxProviders::set(2);
		register_with(10, offer());
		register_with(11, offer());
		assert_ok!(<Balances as Mutate<_>>::mint_into(&12, 100_000));
		assert_noop!(
			VmProof::register_provider(RuntimeOrigin::signed(12), offer(), 10_000),
			Error::<Test>::TooManyProviders
		);
	});
}

/// The attack of a customer that is also a provider: it wants its job drawn for its own
/// provider, and the chain asks for at least `MinEligibleProviders` (3) eligible providers.
/// Two honest providers' heartbeats lapsed (they weigh in the index until a draw meets them):
/// counted as eligible, they would make up the minimum and the draw, rejecting them, would
/// hand the job to the customer's provider. They are not counted: the job waits until enough
/// providers are live.
#[test]
fn lapsed_providers_do_not_make_up_the_minimum_of_eligible_providers() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(pallet_job_queue::Pallet::<Test>::set_min_eligible_providers(
			RuntimeOrigin::root(),
			3
		));
		register_with(10, offer());
		register_with(11, offer());
		Epoch::set(5);
		register_with(12, offer());
		assert_eq!(VmProof::drawable_count(&JOB, Arch::X86_64), 1);
		let spec = povm_primitives::JobSpec {
			image: povm_primitives::ImageRef::local([0xaa; 32]),
			command: frame_support::BoundedVec::truncate_from(b"flip".to_vec()),
			args: Default::default(),
			env: Default::default(),
			inputs: Default::default(),
			resources: JOB,
			price_per_second: 10,
			redundancy: povm_primitives::RedundancyPolicy {
				min_replicas: 1,
				max_replicas: 1,
				margin: 1,
			},
			checkpoint_interval: 5,
		};
		let budget = JobQueue::max_cost(&spec).unwrap();
		assert_ok!(JobQueue::submit_job(RuntimeOrigin::signed(CUSTOMER), Box::new(spec), budget));
		let job = pallet_job_queue::Counters::<Test>::get().next_job_id - 1;
		run_to_block(System::block_number() + 1);
		assert_eq!(
			pallet_job_queue::Jobs::<Test>::get(job).map(|j| j.state),
			Some(povm_primitives::JobState::Queued)
		);
		// Live again, they count, and the job is drawn among all three.
		assert_ok!(VmProof::heartbeat(RuntimeOrigin::signed(10)));
		assert_ok!(VmProof::heartbeat(RuntimeOrigin::signed(11)));
		run_to_block(System::block_number() + 20);
		assert_eq!(
			pallet_job_queue::Jobs::<Test>::get(job).map(|j| j.state),
			Some(povm_primitives::JobState::Assigned)
		);
	});
}

/// The first turn of the epoch: a class's two counts both start at epoch 0, and the count of
/// the providers live at epoch 0 must not be the one replaced when a provider is counted at
/// epoch 1 (it was: `drawable_count` said 1 of 2 live providers, and `try_state_index`
/// failed, for the whole of the chain's second session).
#[test]
fn the_first_turn_of_the_epoch_keeps_the_providers_live_since_epoch_0() {
	ExtBuilder::default().build_and_execute(|| {
		register_with(10, offer());
		register_with(11, offer());
		Epoch::set(1);
		assert_ok!(VmProof::heartbeat(RuntimeOrigin::signed(10)));
		assert_eq!(VmProof::drawable_count(&JOB, Arch::X86_64), 2);
		register_with(12, offer());
		assert_eq!(VmProof::drawable_count(&JOB, Arch::X86_64), 3);
		assert_ok!(VmProof::try_state_index());
		// At epoch 2 the one that never beat again has lapsed.
		Epoch::set(2);
		assert_eq!(VmProof::drawable_count(&JOB, Arch::X86_64), 2);
	});
}

//! Tests of slashing a provider's bond for consensus offences ([`crate::offences`]).

use crate::{mock::*, pallet::*, Event};
use frame_support::{
	assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use sp_runtime::Perbill;

const BOND: u64 = 10_000;
const PROVIDER: AccountId = 10;

fn held(who: AccountId) -> u64 {
	<Balances as InspectHold<_>>::balance_on_hold(&HoldReason::ProviderBond.into(), &who)
}

fn bond(who: AccountId) -> u64 {
	Providers::<Test>::get(who).expect("registered").bond
}

fn register(who: AccountId) {
	assert_ok!(VmProof::register_provider(RuntimeOrigin::signed(who), offer(), BOND));
}

fn offence_events() -> Vec<Event<Test>> {
	events()
		.into_iter()
		.filter(|e| matches!(e, Event::OffenceSlashed { .. }))
		.collect()
}

#[test]
fn an_offence_slashes_the_bond_and_its_hold_and_burns_the_slash() {
	ExtBuilder::default().build_and_execute(|| {
		register(PROVIDER);
		let issuance = Balances::total_issuance();
		let slashed = VmProof::slash_for_offence(&PROVIDER, 3, Perbill::from_percent(10));
		assert_eq!(slashed, 1_000);
		assert_eq!(bond(PROVIDER), 9_000);
		assert_eq!(held(PROVIDER), 9_000);
		// `OnSlash = ()` burns the slash.
		assert_eq!(Balances::total_issuance(), issuance - 1_000);
		assert_eq!(OffenceSlashes::<Test>::get(3, PROVIDER), Some(Perbill::from_percent(10)));
		assert_eq!(
			offence_events(),
			vec![Event::OffenceSlashed {
				who: PROVIDER,
				session: 3,
				fraction: Perbill::from_percent(10),
				slashed: 1_000,
			}]
		);
		// Still registered and active, with the smaller bond.
		assert!(IndexPlaces::<Test>::contains_key(PROVIDER));
	});
}

#[test]
fn offences_of_one_session_slash_the_highest_fraction_not_the_sum() {
	ExtBuilder::default().build_and_execute(|| {
		register(PROVIDER);
		assert_eq!(VmProof::slash_for_offence(&PROVIDER, 3, Perbill::from_percent(10)), 1_000);
		// pallet-offences reports the slot's earlier offender again with the raised fraction:
		// 40% in all of the 10,000 bond, so 3,000 more (a third of the 9,000 left), not 40% of
		// what is left on top of the 10%.
		assert_eq!(VmProof::slash_for_offence(&PROVIDER, 3, Perbill::from_percent(40)), 3_000);
		assert_eq!(bond(PROVIDER), 6_000);
		assert_eq!(held(PROVIDER), 6_000);
		// The same or a lower fraction in the same session adds nothing.
		assert_eq!(VmProof::slash_for_offence(&PROVIDER, 3, Perbill::from_percent(40)), 0);
		assert_eq!(VmProof::slash_for_offence(&PROVIDER, 3, Perbill::from_percent(20)), 0);
		assert_eq!(bond(PROVIDER), 6_000);
		assert_eq!(OffenceSlashes::<Test>::get(3, PROVIDER), Some(Perbill::from_percent(40)));
		// An offence of another session slashes again, from the bond left.
		assert_eq!(VmProof::slash_for_offence(&PROVIDER, 4, Perbill::from_percent(10)), 600);
		assert_eq!(bond(PROVIDER), 5_400);
		assert_eq!(held(PROVIDER), 5_400);
		assert_eq!(offence_events().len(), 3);
	});
}

#[test]
fn a_full_slash_takes_the_whole_bond() {
	ExtBuilder::default().build_and_execute(|| {
		register(PROVIDER);
		assert_eq!(VmProof::slash_for_offence(&PROVIDER, 1, Perbill::from_percent(50)), 5_000);
		assert_eq!(VmProof::slash_for_offence(&PROVIDER, 1, Perbill::one()), 5_000);
		assert_eq!(bond(PROVIDER), 0);
		assert_eq!(held(PROVIDER), 0);
		assert_eq!(VmProof::slash_for_offence(&PROVIDER, 1, Perbill::one()), 0);
	});
}

#[test]
fn an_offender_without_a_provider_record_is_left_alone() {
	ExtBuilder::default().build_and_execute(|| {
		let free = Balances::balance(&2);
		let issuance = Balances::total_issuance();
		assert_eq!(VmProof::slash_for_offence(&2, 3, Perbill::from_percent(50)), 0);
		assert_eq!(Balances::balance(&2), free);
		assert_eq!(Balances::total_issuance(), issuance);
		assert_eq!(OffenceSlashes::<Test>::get(3, 2), None);
		assert!(offence_events().is_empty());
		assert!(Providers::<Test>::get(2).is_none());
	});
}

#[test]
fn an_unbonding_provider_is_slashed_and_withdraws_what_is_left() {
	ExtBuilder::default().build_and_execute(|| {
		register(PROVIDER);
		assert_ok!(VmProof::unregister(RuntimeOrigin::signed(PROVIDER)));
		assert_eq!(VmProof::slash_for_offence(&PROVIDER, 2, Perbill::from_percent(25)), 2_500);
		assert_eq!(held(PROVIDER), 7_500);
		run_to_block(System::block_number() + 11);
		let free = Balances::balance(&PROVIDER);
		assert_ok!(VmProof::withdraw_bond(RuntimeOrigin::signed(PROVIDER)));
		assert_eq!(Balances::balance(&PROVIDER), free + 7_500);
		assert_eq!(held(PROVIDER), 0);
		// Gone: a later report leaves the account alone.
		assert_eq!(VmProof::slash_for_offence(&PROVIDER, 2, Perbill::from_percent(50)), 0);
		assert_eq!(Balances::balance(&PROVIDER), free + 7_500);
	});
}

#[test]
fn pruning_a_session_forgets_its_slashes_only() {
	ExtBuilder::default().build_and_execute(|| {
		register(PROVIDER);
		register(11);
		VmProof::slash_for_offence(&PROVIDER, 5, Perbill::from_percent(10));
		VmProof::slash_for_offence(&11, 5, Perbill::from_percent(10));
		VmProof::slash_for_offence(&PROVIDER, 6, Perbill::from_percent(10));
		VmProof::prune_offence_slashes(5);
		assert_eq!(OffenceSlashes::<Test>::get(5, PROVIDER), None);
		assert_eq!(OffenceSlashes::<Test>::get(5, 11), None);
		assert_eq!(OffenceSlashes::<Test>::get(6, PROVIDER), Some(Perbill::from_percent(10)));
	});
}

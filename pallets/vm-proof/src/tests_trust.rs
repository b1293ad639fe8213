//! Trust (issue 11, colluders; issue 12, self-dealing): once anchors are appointed, a result is
//! accepted only with a trusted provider in its agreeing group. Each attack test below was
//! accepted (or slashed an honest provider) before trust existed.

use crate::{
	mock::*,
	pallet::*,
	tests_verdict::{assigned, bond_of, commit, reveal, setup, usage},
	Error, Event,
};
use frame_support::{assert_noop, assert_ok, traits::Get};
use pallet_job_queue::{Jobs, Results};
use povm_primitives::{JobId, JobState};
use sp_runtime::{BuildStorage, DispatchError};

pub(crate) fn appoint(who: AccountId) {
	assert_ok!(VmProof::set_anchor(RuntimeOrigin::root(), who, true));
}

/// Run `job` with every member revealing `tag_of(member)`.
pub(crate) fn run_job(job: JobId, members: &[AccountId], tag_of: impl Fn(AccountId) -> u8) {
	for p in members {
		commit(job, *p, tag_of(*p), b"out", usage(1_000));
	}
	for p in members {
		reveal(job, *p, tag_of(*p), b"out", usage(1_000));
	}
}

pub(crate) fn state(job: JobId) -> JobState {
	Jobs::<Test>::get(job).unwrap().state
}

/// Two colluders drawn together lead by the margin with their shared wrong result. Before
/// trust they were accepted, paid and credited with verified work; with an anchor appointed
/// (elsewhere in the network) their group holds no trusted provider: one more replica is
/// asked for, none can be drawn, and the job is disputed with nothing published.
#[test]
fn colluders_leading_by_the_margin_without_a_trusted_member_are_not_accepted() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		appoint(19);
		let (job, ps) = assigned(2, 3, 2);
		run_job(job, &ps, |_| 7);
		assert_eq!(state(job), JobState::Disputed);
		assert!(Results::<Test>::get(job).is_none(), "no result is published");
		assert!(events().iter().any(|e| matches!(e, Event::MoreReplicasRequested { .. }) ||
			matches!(e, Event::ResultDisputed { .. })));
		assert!(!events().iter().any(|e| matches!(e, Event::ResultAccepted { .. })));
		assert_eq!(credited_millis(0, 10), 0, "no verified work, no tickets");
	});
}

/// Issue 12's self-dealing: a customer's own provider runs its one-replica jobs alone and
/// invents the result. Before, a lone reveal was accepted and its whole run time credited as
/// verified work (lottery tickets); now a lone untrusted replica cannot carry a verdict.
#[test]
fn a_lone_untrusted_replica_cannot_carry_a_verdict_but_a_trusted_one_can() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10]);
		appoint(19);
		let (job, ps) = assigned(1, 1, 1);
		assert_eq!(ps, vec![10]);
		run_job(job, &ps, |_| 1);
		assert_eq!(state(job), JobState::Disputed);
		assert_eq!(credited_millis(0, 10), 0);

		// The same job run by a trusted provider alone is accepted (adaptive replication: a
		// provider with a record vouched for by the anchors may run a job alone), but earns no
		// verified time (no lottery tickets): that takes two agreeing replicas.
		let threshold: u32 = <Test as crate::Config>::TrustThreshold::get();
		Trust::<Test>::insert(10, threshold);
		run_to_block(System::block_number() + 1);
		let (job, ps) = assigned(1, 1, 1);
		run_job(job, &ps, |_| 1);
		assert_eq!(state(job), JobState::Completed);
		assert_eq!(credited_millis(0, 10), 0);
		assert!(events()
			.iter()
			.any(|e| matches!(e, Event::WorkVerified { who: 10, vm_millis: 0, .. })));
	});
}

/// An anchor in the agreeing group carries the verdict, and vouches for the others: at
/// `TrustThreshold` accepted verdicts beside it a provider is trusted, and can then carry a
/// verdict without the anchor.
#[test]
fn an_anchor_carries_a_verdict_and_vouches_for_its_co_replicas() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		appoint(10);
		let threshold: u32 = <Test as crate::Config>::TrustThreshold::get();
		for i in 0..threshold {
			assert!(!VmProof::is_trusted(&11));
			let (job, ps) = assigned(2, 2, 2);
			run_job(job, &ps, |_| 1);
			assert_eq!(state(job), JobState::Completed);
			assert_eq!(Trust::<Test>::get(11), i + 1);
			// Nobody else is trusted in the group, so the anchor gains no points.
			assert_eq!(Trust::<Test>::get(10), 0);
			run_to_block(System::block_number() + 1);
		}
		assert!(VmProof::is_trusted(&11));
		// 11 now carries a verdict beside an untrusted provider: 10 is no longer an anchor.
		assert_ok!(VmProof::set_anchor(RuntimeOrigin::root(), 10, false));
		assert_ok!(VmProof::set_anchor(RuntimeOrigin::root(), 19, true));
		let (job, ps) = assigned(2, 2, 2);
		run_job(job, &ps, |_| 1);
		assert_eq!(state(job), JobState::Completed);
	});
}

/// Trust only spreads through agreement with the trusted: a colluding pair agreeing with each
/// other job after job earns nothing, and two trusted providers vouched for by one verdict do
/// not vouch for each other in it.
#[test]
fn agreement_without_a_trusted_member_earns_no_trust() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		appoint(19);
		for _ in 0..5 {
			let (job, ps) = assigned(2, 3, 2);
			run_job(job, &ps, |_| 7);
			assert_eq!(state(job), JobState::Disputed);
			run_to_block(System::block_number() + 1);
		}
		assert_eq!(Trust::<Test>::get(10), 0);
		assert_eq!(Trust::<Test>::get(11), 0);
	});
}

/// A non-deterministic job (a coin flip, the host's CPU model) splits 3 : 1. Before, the clear
/// majority slashed the honest minority 10 %; a trusted provider that differs is now not
/// slashed (its points are halved), while an untrusted one still is.
#[test]
fn a_trusted_dissenter_is_not_slashed_an_untrusted_one_is() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13]);
		appoint(10);
		Trust::<Test>::insert(11, 8);
		Trust::<Test>::insert(12, 8);
		let (job, ps) = assigned(4, 4, 2);
		let before = bond_of(11);
		run_job(job, &ps, |p| if p == 11 { 2 } else { 1 });
		assert_eq!(state(job), JobState::Completed);
		assert_eq!(bond_of(11), before, "the trusted dissenter keeps its bond");
		assert_eq!(Trust::<Test>::get(11), 4);
		assert!(events()
			.iter()
			.any(|e| matches!(e, Event::TrustedDissent { who: 11, trust: 4, .. })));
		// 12 agreed beside the anchor: one more point.
		assert_eq!(Trust::<Test>::get(12), 9);

		run_to_block(System::block_number() + 1);
		let (job, ps) = assigned(4, 4, 2);
		let before = bond_of(13);
		run_job(job, &ps, |p| if p == 13 { 2 } else { 1 });
		assert_eq!(state(job), JobState::Completed);
		assert!(bond_of(13) < before, "an untrusted dissenter against a clear majority is slashed");
	});
}

/// A trusted provider that keeps dissenting (a cheater that earned trust first) loses it:
/// each dissent halves its points, and once below the threshold it is judged and slashed as an
/// untrusted provider.
#[test]
fn repeated_dissent_ends_trust_and_the_slash_returns() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11, 12, 13]);
		appoint(10);
		Trust::<Test>::insert(11, 12);
		Trust::<Test>::insert(12, 24);
		Trust::<Test>::insert(13, 24);
		let mut slashed_at = None;
		for round in 0..4u32 {
			let before = bond_of(11);
			let (job, ps) = assigned(4, 4, 2);
			run_job(job, &ps, |p| if p == 11 { 2 } else { 1 });
			if bond_of(11) < before {
				slashed_at = Some(round);
				break;
			}
			run_to_block(System::block_number() + 1);
		}
		// 12 → 6 → 3 (still trusted) → 1: the fourth dissent is an untrusted one.
		assert_eq!(slashed_at, Some(3));
	});
}

/// A no-show (or any fault) halves the points; withdrawing the bond forgets them.
#[test]
fn a_fault_halves_trust_and_withdrawal_forgets_it() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		appoint(19);
		Trust::<Test>::insert(10, 8);
		Trust::<Test>::insert(11, 8);
		let (job, mut ps) = assigned(2, 2, 1);
		ps.sort();
		assert_eq!(ps, vec![10, 11]);
		// 10 never commits (a commit no-show); 11 commits and never reveals (a reveal no-show).
		commit(job, 11, 1, b"out", usage(1_000));
		run_to_block(System::block_number() + 30);
		assert!(Rounds::<Test>::get(job).is_none(), "the round closed");
		assert_eq!(Trust::<Test>::get(10), 4);
		assert_eq!(Trust::<Test>::get(11), 4);

		assert_ok!(VmProof::unregister(RuntimeOrigin::signed(11)));
		run_to_block(System::block_number() + 20);
		assert_ok!(VmProof::withdraw_bond(RuntimeOrigin::signed(11)));
		assert!(!Trust::<Test>::contains_key(11));
	});
}

#[test]
fn set_anchor_is_for_the_force_origin_and_bounded() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			VmProof::set_anchor(RuntimeOrigin::signed(10), 10, true),
			DispatchError::BadOrigin
		);
		assert!(!VmProof::trust_required());
		appoint(10);
		assert!(VmProof::trust_required() && VmProof::is_trusted(&10));
		assert!(events().contains(&Event::AnchorSet { who: 10, anchor: true }));
		assert_noop!(
			VmProof::set_anchor(RuntimeOrigin::root(), 10, true),
			Error::<Test>::AnchorUnchanged
		);
		assert_noop!(
			VmProof::set_anchor(RuntimeOrigin::root(), 11, false),
			Error::<Test>::AnchorUnchanged
		);
		let max: u32 = <Test as crate::Config>::MaxAnchors::get();
		let max = max as u64;
		for who in 100..100 + max - 1 {
			appoint(who);
		}
		assert_noop!(
			VmProof::set_anchor(RuntimeOrigin::root(), 99, true),
			Error::<Test>::TooManyAnchors
		);
		// Removing every anchor turns the rule off again.
		assert_ok!(VmProof::set_anchor(RuntimeOrigin::root(), 10, false));
		for who in 100..100 + max - 1 {
			assert_ok!(VmProof::set_anchor(RuntimeOrigin::root(), who, false));
		}
		assert!(!VmProof::trust_required());
	});
}

/// Genesis appoints anchors.
#[test]
fn genesis_appoints_anchors() {
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	crate::GenesisConfig::<Test> { anchors: vec![10, 11] }
		.assimilate_storage(&mut t)
		.unwrap();
	sp_io::TestExternalities::new(t).execute_with(|| {
		assert!(VmProof::is_trusted(&10) && VmProof::is_trusted(&11));
		assert_eq!(Anchors::<Test>::count(), 2);
	});
}

/// A replica drawn after the job's first reveals were public may have copied one: its
/// agreement is not independent and earns no trust (a member of the first, blind wave earns its
/// point: `an_anchor_carries_a_verdict_and_vouches_for_its_co_replicas`). Before, a lazy copier
/// drawn into a tie-break wave could copy the anchor's revealed result and be vouched for
/// without running anything.
#[test]
fn a_replica_drawn_after_reveals_were_public_earns_no_trust() {
	ExtBuilder::default().build_and_execute(|| {
		setup(&[10, 11]);
		appoint(10);
		let (job, first) = assigned(2, 3, 1);
		for p in first.iter() {
			commit(job, *p, if *p == 10 { 1 } else { 2 }, b"out", usage(1_000));
		}
		// 12 joins the pool now, so that it is the one the tie-break draws.
		assert_ok!(VmProof::register_provider(RuntimeOrigin::signed(12), offer(), 10_000));
		for p in first.iter() {
			reveal(job, *p, if *p == 10 { 1 } else { 2 }, b"out", usage(1_000));
		}
		// 1 : 1, and the anchor's result is public: 12 is drawn and copies it.
		let all = Jobs::<Test>::get(job).unwrap().providers.to_vec();
		assert!(all.contains(&12), "the split drew 12: {all:?}");
		commit(job, 12, 1, b"out", usage(1_000));
		reveal(job, 12, 1, b"out", usage(1_000));
		assert_eq!(state(job), JobState::Completed);
		assert_eq!(Trust::<Test>::get(12), 0, "a sighted replica earns no trust");
	});
}

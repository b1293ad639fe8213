//! Bounded per-epoch state (issue 13): an epoch's work records go once the lottery has taken
//! them, the network's footprint is kept for `FootprintHistory` epochs, and a backlog left by
//! a chain that kept everything goes within a bounded budget per session.

use crate::{mock::*, pallet::*, types::*};
use frame_support::{traits::Get, BoundedVec};
use povm_primitives::VerifiedWork;

/// `providers` providers with 1 s of verified work each in `epoch`, and a footprint.
fn record(epoch: u32, providers: u64) {
	let who: Vec<AccountId> = (1..=providers).map(|p| 1_000 * u64::from(epoch) + p).collect();
	for w in &who {
		VerifiedMillis::<Test>::insert(epoch, w, 1_000);
	}
	EpochProviders::<Test>::insert(epoch, BoundedVec::try_from(who).unwrap());
	EpochFootprint::<Test>::insert(epoch, FootprintTotal { energy_uwh: 1, carbon_ug: 1 });
}

fn work_kept(epoch: u32) -> (usize, usize) {
	(VerifiedMillis::<Test>::iter_prefix(epoch).count(), EpochProviders::<Test>::get(epoch).len())
}

#[test]
fn the_work_of_a_taken_epoch_goes_and_later_epochs_stay() {
	ExtBuilder::default().build_and_execute(|| {
		for epoch in 0..4 {
			record(epoch, 3);
		}
		// The lottery took epoch 1 (and, before, epoch 0).
		<VmProof as VerifiedWork<AccountId>>::work_taken(1);
		assert_eq!(work_kept(0), (0, 0));
		assert_eq!(work_kept(1), (0, 0));
		assert_eq!(work_kept(2), (3, 3), "not taken yet: the lottery reads it next");
		assert_eq!(work_kept(3), (3, 3));
		assert_eq!(PruneCursor::<Test>::get().work, 2);
		// Taking the same epoch again does nothing more.
		<VmProof as VerifiedWork<AccountId>>::work_taken(1);
		assert_eq!(work_kept(2), (3, 3));
	});
}

#[test]
fn the_network_footprint_is_kept_for_its_history() {
	ExtBuilder::default().build_and_execute(|| {
		let history: u32 = <Test as Config>::FootprintHistory::get();
		for epoch in 0..12 {
			record(epoch, 1);
		}
		<VmProof as VerifiedWork<AccountId>>::work_taken(9);
		// Kept: the `history` epochs up to the taken one, and every later one.
		for epoch in 0..12 {
			let kept = EpochFootprint::<Test>::contains_key(epoch);
			assert_eq!(kept, epoch + history > 9, "epoch {epoch}");
		}
		assert_eq!(PruneCursor::<Test>::get().footprint, 10 - history);
	});
}

#[test]
fn a_backlog_goes_over_several_sessions_within_the_budget() {
	// A chain that kept everything: 10 full epochs of records, committed (a removal's limit
	// counts what is in the database, as on a chain, where each session is another block).
	let max: u32 = <Test as Config>::MaxEpochProviders::get();
	let mut ext = ExtBuilder::default().build();
	ext.execute_with(|| {
		for epoch in 0..10 {
			record(epoch, u64::from(max));
		}
	});
	ext.commit_all().unwrap();
	let budget = ext.execute_with(|| VmProof::prune_budget() as usize);
	let entries = |ext: &mut sp_io::TestExternalities| {
		ext.execute_with(|| VerifiedMillis::<Test>::iter().count())
	};
	let mut sessions = 0;
	while ext.execute_with(|| PruneCursor::<Test>::get().work) <= 9 {
		let before = entries(&mut ext);
		ext.execute_with(|| {
			<VmProof as VerifiedWork<AccountId>>::work_taken(9);
		});
		ext.commit_all().unwrap();
		let removed = before - entries(&mut ext);
		assert!(removed > 0, "every session makes progress");
		assert!(removed <= budget, "{removed} removed, budget {budget}");
		sessions += 1;
		assert!(sessions <= 10, "a backlog of 10 epochs goes in at most 10 sessions");
	}
	assert!(sessions > 1, "more than one budget's worth: it took {sessions} sessions");
	assert_eq!(entries(&mut ext), 0);
	assert_eq!(ext.execute_with(|| EpochProviders::<Test>::iter().count()), 0);
}

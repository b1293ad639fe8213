//! Bounded per-epoch state (issue 13): the network's footprint is kept for `FootprintHistory`
//! epochs, and a backlog goes within a bounded budget per session. (Verified work is credited
//! to the lottery's ledger, which prunes its own records: `pallet_vrf_lottery::tickets`.)

use crate::{mock::*, pallet::*, types::*};
use frame_support::traits::Get;
use povm_primitives::VerifiedWork;

fn footprint(epoch: u32) {
	EpochFootprint::<Test>::insert(epoch, FootprintTotal { energy_uwh: 1, carbon_ug: 1 });
}

#[test]
fn the_network_footprint_is_kept_for_its_history() {
	ExtBuilder::default().build_and_execute(|| {
		let history: u32 = <Test as Config>::FootprintHistory::get();
		for epoch in 0..12 {
			footprint(epoch);
		}
		<VmProof as VerifiedWork<AccountId>>::work_taken(9);
		// Kept: the `history` epochs up to the taken one, and every later one.
		for epoch in 0..12 {
			let kept = EpochFootprint::<Test>::contains_key(epoch);
			assert_eq!(kept, epoch + history > 9, "epoch {epoch}");
		}
		assert_eq!(PruneCursor::<Test>::get(), 10 - history);
		// Taking the same epoch again removes nothing more.
		<VmProof as VerifiedWork<AccountId>>::work_taken(9);
		assert_eq!(EpochFootprint::<Test>::iter().count() as u32, 2 + history);
	});
}

#[test]
fn a_backlog_goes_over_several_sessions_within_the_budget() {
	ExtBuilder::default().build_and_execute(|| {
		let history: u32 = <Test as Config>::FootprintHistory::get();
		let budget = VmProof::prune_budget();
		let due = 3 * budget + 5;
		for epoch in 0..due + history {
			footprint(epoch);
		}
		let taken = due + history - 1;
		let mut sessions = 0;
		while PruneCursor::<Test>::get() < due {
			let before = EpochFootprint::<Test>::iter().count() as u32;
			<VmProof as VerifiedWork<AccountId>>::work_taken(taken);
			let removed = before - EpochFootprint::<Test>::iter().count() as u32;
			assert!(removed > 0 && removed <= budget, "{removed} removed, budget {budget}");
			sessions += 1;
		}
		assert_eq!(sessions, 4);
		assert_eq!(EpochFootprint::<Test>::iter().count() as u32, history);
	});
}

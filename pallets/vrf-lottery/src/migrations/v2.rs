//! Storage version 1 → 2.
//!
//! Version 2 keeps the open draw's claims, sorted by [`crate::vrf::rank`], in the new
//! [`Ranking`], so that a claim arriving when the draw is full can displace the worst kept one
//! at a bounded cost. No existing item changes its layout; the migration fills [`Ranking`] from
//! the [`Claims`] of the draw open at the upgrade (at most `MaxWinners` under version 1). Should
//! the draw hold more claims than `MaxWinners` (only if it was lowered with the upgrade), the
//! lowest outputs are kept and the others removed, as a full draw does, and the draw's
//! `winners` counts the kept ones.

use crate::{pallet::*, types::*, vrf};
use alloc::vec::Vec;
#[cfg(feature = "try-runtime")]
use codec::{Decode, Encode};
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
};

/// A version-2 [`Ranking`] value.
pub type RankingOf<T> = BoundedVec<
	RankedClaim<<T as frame_system::Config>::AccountId>,
	<T as crate::Config>::MaxWinners,
>;

/// The open draw's claims, ranked: the version-2 [`Ranking`], and the claims it leaves out.
pub fn ranked<T: crate::Config>(
	mut claims: Vec<(T::AccountId, ClaimRecord)>,
) -> (RankingOf<T>, Vec<T::AccountId>) {
	claims.sort_by_key(|c| vrf::rank(&c.1.output, c.1.threshold));
	let max = T::MaxWinners::get() as usize;
	let dropped = claims.iter().skip(max).map(|(who, _)| who.clone()).collect();
	let kept = claims
		.into_iter()
		.take(max)
		.map(|(who, claim)| RankedClaim { output: claim.output, who, threshold: claim.threshold })
		.collect::<Vec<_>>();
	(BoundedVec::truncate_from(kept), dropped)
}

/// The unversioned step; run it through [`MigrateV1ToV2`].
pub struct InnerMigrateV1ToV2<T>(core::marker::PhantomData<T>);

impl<T: crate::Config> UncheckedOnRuntimeUpgrade for InnerMigrateV1ToV2<T> {
	fn on_runtime_upgrade() -> Weight {
		let Some(mut draw) = CurrentDraw::<T>::get() else {
			return T::DbWeight::get().reads(1);
		};
		let claims: Vec<(T::AccountId, ClaimRecord)> =
			Claims::<T>::iter_prefix(draw.epoch).collect();
		let read = claims.len() as u64;
		let (ranking, dropped) = ranked::<T>(claims);
		for who in dropped.iter() {
			Claims::<T>::remove(draw.epoch, who);
		}
		draw.winners = ranking.len() as u32;
		Ranking::<T>::put(ranking);
		CurrentDraw::<T>::put(draw);
		T::DbWeight::get()
			.reads_writes(read.saturating_add(1), (dropped.len() as u64).saturating_add(2))
	}

	/// The open draw's claims, encoded.
	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		ensure!(Ranking::<T>::get().is_empty(), "a ranking exists before version 2");
		let claims: Vec<(T::AccountId, ClaimRecord)> = match CurrentDraw::<T>::get() {
			Some(d) => Claims::<T>::iter_prefix(d.epoch).collect(),
			None => Vec::new(),
		};
		Ok(claims.encode())
	}

	/// The ranking holds the lowest `MaxWinners` of the claims before, in order; every kept
	/// claim is unchanged, and the draw counts them.
	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		let before = Vec::<(T::AccountId, ClaimRecord)>::decode(&mut &state[..])
			.map_err(|_| "bad pre-upgrade state")?;
		let (expected, _) = ranked::<T>(before.clone());
		ensure!(Ranking::<T>::get() == expected, "the ranking is not the sorted claims");
		let Some(draw) = CurrentDraw::<T>::get() else {
			ensure!(expected.is_empty(), "a ranking without a draw");
			return Ok(());
		};
		ensure!(draw.winners as usize == expected.len(), "the draw does not count the ranking");
		ensure!(
			Claims::<T>::iter_prefix(draw.epoch).count() == expected.len(),
			"claims outside the ranking"
		);
		for (who, claim) in before {
			if expected.iter().any(|c| c.who == who) {
				ensure!(Claims::<T>::get(draw.epoch, &who) == Some(claim), "a kept claim changed");
			}
		}
		crate::Pallet::<T>::do_try_state()
	}
}

/// Storage version 1 → 2, run only when the on-chain version is 1.
pub type MigrateV1ToV2<T> = VersionedMigration<
	1,
	2,
	InnerMigrateV1ToV2<T>,
	crate::Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;

#[cfg(test)]
mod tests {
	use super::*;
	use crate::mock::*;
	use frame_support::{
		assert_ok,
		traits::{OnRuntimeUpgrade, StorageVersion},
	};

	/// Runs the migration as `try-runtime` does: `pre_upgrade`, the versioned migration, then
	/// `post_upgrade`.
	fn upgrade() {
		#[cfg(feature = "try-runtime")]
		let pre = InnerMigrateV1ToV2::<Test>::pre_upgrade().expect("pre_upgrade");
		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		#[cfg(feature = "try-runtime")]
		InnerMigrateV1ToV2::<Test>::post_upgrade(pre).expect("post_upgrade");
	}

	/// Open draw 2 with every provider in `who` a certain winner with an active key, and
	/// their claims accepted; then forget the ranking, as a version-1 chain has none.
	fn version_1_draw_with_claims(who: &[AccountId]) {
		ExpectedWinners::set(100);
		for w in who {
			register_key(*w);
		}
		for _ in 0..2 {
			for w in who {
				work_now(*w, 100);
			}
			rotate();
		}
		for w in who {
			assert_ok!(claim(*w));
		}
		Ranking::<Test>::kill();
		StorageVersion::new(1).put::<crate::Pallet<Test>>();
	}

	/// The open draw's claims become its ranking, lowest output first; a full draw then
	/// displaces as version 2 does.
	#[test]
	fn the_open_draws_claims_are_ranked() {
		ExtBuilder::default().build().execute_with(|| {
			version_1_draw_with_claims(&[10, 11, 12, 13]);
			let mut expected: Vec<_> = [10, 11, 12, 13]
				.iter()
				.map(|w| {
					let c = Claims::<Test>::get(2, w).unwrap();
					(vrf::rank(&c.output, c.threshold), *w)
				})
				.collect();
			expected.sort();
			upgrade();
			assert_eq!(StorageVersion::get::<crate::Pallet<Test>>(), 2);
			let ranking: Vec<AccountId> = Ranking::<Test>::get().iter().map(|c| c.who).collect();
			assert_eq!(ranking, expected.iter().map(|(_, w)| *w).collect::<Vec<_>>());
			assert_eq!(CurrentDraw::<Test>::get().unwrap().winners, 4);
			assert_ok!(VrfLottery::do_try_state());
			// A second run is a no-op: the version is 2 already.
			Ranking::<Test>::mutate(|r| r.truncate(1));
			MigrateV1ToV2::<Test>::on_runtime_upgrade();
			assert_eq!(Ranking::<Test>::get().len(), 1);
		});
	}

	/// Claims beyond a lowered `MaxWinners` keep the lowest outputs; the others are removed.
	#[test]
	fn claims_beyond_max_winners_keep_the_lowest_outputs() {
		ExtBuilder::default().build().execute_with(|| {
			version_1_draw_with_claims(&[10, 11, 12, 13]);
			let mut ranks: Vec<_> = [10, 11, 12, 13]
				.iter()
				.map(|w| {
					let c = Claims::<Test>::get(2, w).unwrap();
					(vrf::rank(&c.output, c.threshold), *w)
				})
				.collect();
			ranks.sort();
			MaxWinners::set(2);
			upgrade();
			let kept: Vec<AccountId> = Ranking::<Test>::get().iter().map(|c| c.who).collect();
			assert_eq!(kept, vec![ranks[0].1, ranks[1].1]);
			assert!(Claims::<Test>::get(2, ranks[2].1).is_none());
			assert!(Claims::<Test>::get(2, ranks[3].1).is_none());
			assert_eq!(CurrentDraw::<Test>::get().unwrap().winners, 2);
			assert_ok!(VrfLottery::do_try_state());
		});
	}

	/// Without an open draw there is nothing to rank.
	#[test]
	fn no_draw_no_ranking() {
		ExtBuilder::default().build().execute_with(|| {
			StorageVersion::new(1).put::<crate::Pallet<Test>>();
			upgrade();
			assert!(Ranking::<Test>::get().is_empty());
			assert_eq!(StorageVersion::get::<crate::Pallet<Test>>(), 2);
		});
	}

	/// `post_upgrade` fails when the ranking is wrong.
	#[cfg(feature = "try-runtime")]
	#[test]
	fn post_upgrade_catches_a_wrong_ranking() {
		let run = |spoil: fn()| {
			ExtBuilder::default().build().execute_with(|| {
				version_1_draw_with_claims(&[10, 11, 12]);
				let pre = InnerMigrateV1ToV2::<Test>::pre_upgrade().unwrap();
				MigrateV1ToV2::<Test>::on_runtime_upgrade();
				spoil();
				InnerMigrateV1ToV2::<Test>::post_upgrade(pre)
			})
		};
		assert!(run(|| {}).is_ok());
		assert!(run(|| Ranking::<Test>::mutate(|r| r.as_mut().reverse())).is_err());
		assert!(run(|| Ranking::<Test>::mutate(|r| {
			r.pop();
		}))
		.is_err());
	}
}

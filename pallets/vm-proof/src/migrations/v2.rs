//! Storage version 1 → 2.
//!
//! Version 2 binds commitments to the job and the draw wave, so each [`RoundMember`] records
//! its `wave` and each [`Round`] the number of `waves` drawn so far; and the cumulative
//! footprints ([`ProviderFootprint`], [`EpochFootprint`]) widen from `u64` to `u128`
//! ([`FootprintTotal`]).
//!
//! The wave of an existing member is recovered from its commit deadline: every provider of one
//! draw gets the same deadline (`now + commit_window`), and a later draw happens in a later
//! block, so the members' distinct deadlines, in member order, number the waves 0, 1, 2, ….
//!
//! Members that committed before the upgrade committed with the version-1 rule, so their
//! reveal cannot match the version-2 rule: they end as reveal no-shows. Enact the upgrade
//! when no round is between commit and reveal (for example after pausing submissions for one
//! commit plus reveal window), as the `pre_upgrade` check warns.

use crate::{pallet::*, types::*};
use alloc::vec::Vec;
use codec::{Decode, Encode, MaxEncodedLen};
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, storage_alias,
	traits::UncheckedOnRuntimeUpgrade, BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use povm_primitives::Footprint;

/// The version-1 layouts.
pub mod v1 {
	use super::*;

	/// A round member before version 2 (no wave).
	#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
	pub struct RoundMember<AccountId, BlockNumber> {
		/// The provider.
		pub who: AccountId,
		/// Where it stands.
		pub status: MemberStatus,
		/// Last block it may commit.
		pub commit_deadline: BlockNumber,
		/// Its commitment, once committed.
		pub commitment: Option<Digest>,
	}

	/// A round before version 2 (no wave count).
	#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
	#[scale_info(skip_type_params(MaxMembers))]
	pub struct Round<AccountId, BlockNumber, MaxMembers: Get<u32>> {
		/// Every provider ever assigned to the job.
		pub members: BoundedVec<RoundMember<AccountId, BlockNumber>, MaxMembers>,
		/// Current phase.
		pub phase: Phase<BlockNumber>,
	}

	/// A version-1 round of the runtime `T`.
	pub type RoundOf<T> = Round<
		<T as frame_system::Config>::AccountId,
		BlockNumberFor<T>,
		<T as crate::Config>::MaxMembers,
	>;

	/// `Rounds` in the version-1 layout.
	#[storage_alias]
	pub type Rounds<T: crate::Config> =
		StorageMap<crate::Pallet<T>, Twox64Concat, JobId, RoundOf<T>, OptionQuery>;

	/// `ProviderFootprint` in the version-1 layout (`u64` sums).
	#[storage_alias]
	pub type ProviderFootprint<T: crate::Config> = StorageMap<
		crate::Pallet<T>,
		Blake2_128Concat,
		<T as frame_system::Config>::AccountId,
		Footprint,
		ValueQuery,
	>;

	/// `EpochFootprint` in the version-1 layout (`u64` sums).
	#[storage_alias]
	pub type EpochFootprint<T: crate::Config> =
		StorageMap<crate::Pallet<T>, Twox64Concat, u32, Footprint, ValueQuery>;
}

/// A version-1 round in the version-2 layout: waves numbered by distinct commit deadlines.
pub fn migrate_round<T: crate::Config>(old: v1::RoundOf<T>) -> Round<T> {
	let mut waves = 0u32;
	let mut last: Option<BlockNumberFor<T>> = None;
	let members: Vec<RoundMember<T>> = old
		.members
		.into_iter()
		.map(|m| {
			if last != Some(m.commit_deadline) {
				if last.is_some() {
					waves = waves.saturating_add(1);
				}
				last = Some(m.commit_deadline);
			}
			RoundMember {
				who: m.who,
				status: m.status,
				commit_deadline: m.commit_deadline,
				commitment: m.commitment,
				wave: waves,
			}
		})
		.collect();
	let waves = if members.is_empty() { 0 } else { waves.saturating_add(1) };
	// Same bound, same length: the conversion cannot fail.
	Round { members: BoundedVec::truncate_from(members), phase: old.phase, waves }
}

fn widen(f: Footprint) -> FootprintTotal {
	FootprintTotal::default().add(f)
}

/// The unversioned step; run it through [`MigrateV1ToV2`].
pub struct InnerMigrateV1ToV2<T>(core::marker::PhantomData<T>);

/// What `pre_upgrade` hands to `post_upgrade`.
#[cfg(feature = "try-runtime")]
#[derive(Encode, Decode)]
struct PreState {
	rounds: u32,
	members: u32,
	providers: u32,
	epochs: u32,
	provider_sum: (u128, u128),
	epoch_sum: (u128, u128),
}

#[cfg(feature = "try-runtime")]
fn sum(it: impl Iterator<Item = (u128, u128)>) -> (u128, u128) {
	it.fold((0, 0), |(e, c), (de, dc)| (e.saturating_add(de), c.saturating_add(dc)))
}

impl<T: crate::Config> UncheckedOnRuntimeUpgrade for InnerMigrateV1ToV2<T> {
	fn on_runtime_upgrade() -> Weight {
		let mut items = 0u64;
		Rounds::<T>::translate::<v1::RoundOf<T>, _>(|_, old| {
			items = items.saturating_add(1);
			Some(migrate_round::<T>(old))
		});
		ProviderFootprint::<T>::translate::<Footprint, _>(|_, old| {
			items = items.saturating_add(1);
			Some(widen(old))
		});
		EpochFootprint::<T>::translate::<Footprint, _>(|_, old| {
			items = items.saturating_add(1);
			Some(widen(old))
		});
		T::DbWeight::get().reads_writes(items, items)
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		let mut rounds = 0u32;
		let mut members = 0u32;
		let mut pending = 0u32;
		for (_, r) in v1::Rounds::<T>::iter() {
			rounds += 1;
			members += r.members.len() as u32;
			pending +=
				r.members.iter().filter(|m| m.status == MemberStatus::Committed).count() as u32;
		}
		if pending > 0 {
			log::warn!(
				target: crate::tick_impls::LOG_TARGET,
				"{pending} members committed under the v1 rule cannot reveal under v2"
			);
		}
		let wide = |f: Footprint| (f.energy_uwh as u128, f.carbon_ug as u128);
		let state = PreState {
			rounds,
			members,
			providers: v1::ProviderFootprint::<T>::iter().count() as u32,
			epochs: v1::EpochFootprint::<T>::iter().count() as u32,
			provider_sum: sum(v1::ProviderFootprint::<T>::iter_values().map(wide)),
			epoch_sum: sum(v1::EpochFootprint::<T>::iter_values().map(wide)),
		};
		Ok(state.encode())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		let pre = PreState::decode(&mut &state[..]).map_err(|_| "bad pre-upgrade state")?;
		let mut rounds = 0u32;
		let mut members = 0u32;
		for (_, r) in Rounds::<T>::iter() {
			rounds += 1;
			members += r.members.len() as u32;
			ensure!(r.members.iter().all(|m| m.wave < r.waves), "member wave beyond waves");
			ensure!(
				r.members.windows(2).all(|w| w[0].wave <= w[1].wave),
				"waves out of member order"
			);
		}
		ensure!(rounds == pre.rounds && members == pre.members, "rounds lost");
		let wide = |f: FootprintTotal| (f.energy_uwh, f.carbon_ug);
		ensure!(
			ProviderFootprint::<T>::iter().count() as u32 == pre.providers &&
				EpochFootprint::<T>::iter().count() as u32 == pre.epochs,
			"footprints lost"
		);
		ensure!(
			sum(ProviderFootprint::<T>::iter_values().map(wide)) == pre.provider_sum &&
				sum(EpochFootprint::<T>::iter_values().map(wide)) == pre.epoch_sum,
			"footprint sums changed"
		);
		Ok(())
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
	use frame_support::traits::{OnRuntimeUpgrade, StorageVersion};

	fn member(
		who: AccountId,
		deadline: u64,
		status: MemberStatus,
	) -> v1::RoundMember<AccountId, u64> {
		v1::RoundMember {
			who,
			status,
			commit_deadline: deadline,
			commitment: Some([who as u8; 32]),
		}
	}

	#[test]
	fn migration_numbers_waves_and_widens_footprints() {
		ExtBuilder::default().build().execute_with(|| {
			StorageVersion::new(1).put::<crate::Pallet<Test>>();
			let old = v1::Round {
				members: BoundedVec::truncate_from(vec![
					member(10, 7, MemberStatus::Revealed),
					member(11, 7, MemberStatus::NoShow),
					member(12, 15, MemberStatus::Revealed),
					member(13, 30, MemberStatus::Assigned),
					member(14, 30, MemberStatus::Assigned),
				]),
				phase: Phase::Committing,
			};
			v1::Rounds::<Test>::insert(3, old);
			v1::Rounds::<Test>::insert(
				4,
				v1::Round {
					members: BoundedVec::truncate_from(vec![member(
						15,
						9,
						MemberStatus::Committed,
					)]),
					phase: Phase::Revealing { deadline: 12 },
				},
			);
			let big = Footprint { energy_uwh: u64::MAX, carbon_ug: 5 };
			v1::ProviderFootprint::<Test>::insert(10, big);
			v1::EpochFootprint::<Test>::insert(0, big);

			#[cfg(feature = "try-runtime")]
			let pre = InnerMigrateV1ToV2::<Test>::pre_upgrade().unwrap();
			MigrateV1ToV2::<Test>::on_runtime_upgrade();
			#[cfg(feature = "try-runtime")]
			InnerMigrateV1ToV2::<Test>::post_upgrade(pre).unwrap();

			assert_eq!(StorageVersion::get::<crate::Pallet<Test>>(), 2);
			let r = Rounds::<Test>::get(3).unwrap();
			let waves: Vec<u32> = r.members.iter().map(|m| m.wave).collect();
			assert_eq!(waves, vec![0, 0, 1, 2, 2]);
			assert_eq!(r.waves, 3);
			assert_eq!(r.phase, Phase::Committing);
			assert_eq!(r.members[0].commitment, Some([10; 32]));
			assert_eq!(r.members[1].status, MemberStatus::NoShow);
			let r = Rounds::<Test>::get(4).unwrap();
			assert_eq!((r.members[0].wave, r.waves), (0, 1));
			assert_eq!(r.phase, Phase::Revealing { deadline: 12 });
			let wide = FootprintTotal { energy_uwh: u64::MAX as u128, carbon_ug: 5 };
			assert_eq!(ProviderFootprint::<Test>::get(10), wide);
			assert_eq!(EpochFootprint::<Test>::get(0), wide);

			// A second run is a no-op: the version is already 2 (a v1 decode of the v2 rounds
			// would have dropped them).
			MigrateV1ToV2::<Test>::on_runtime_upgrade();
			assert_eq!(Rounds::<Test>::get(3).unwrap().waves, 3);
		});
	}

	#[test]
	fn a_new_draw_after_the_migration_gets_the_next_wave() {
		use povm_primitives::ProviderRegistry;
		ExtBuilder::default().build().execute_with(|| {
			StorageVersion::new(1).put::<crate::Pallet<Test>>();
			let offer = VmOffer {
				millicores: 2000,
				memory_mib: 2048,
				arch: Arch::X86_64,
				slots: 2,
				grid_intensity: 400,
				pue_permille: 1200,
				core_milliwatts: 10_000,
			};
			frame_support::assert_ok!(VmProof::register_provider(
				RuntimeOrigin::signed(16),
				offer,
				1_000
			));
			v1::Rounds::<Test>::insert(
				5,
				v1::Round {
					members: BoundedVec::truncate_from(vec![member(10, 3, MemberStatus::NoShow)]),
					phase: Phase::Committing,
				},
			);
			MigrateV1ToV2::<Test>::on_runtime_upgrade();
			frame_support::assert_ok!(VmProof::on_assigned(5, &[16]));
			assert_eq!(crate::Pallet::<Test>::wave_of(5, &16), Some(1));
			assert_eq!(Rounds::<Test>::get(5).unwrap().waves, 2);
		});
	}
}

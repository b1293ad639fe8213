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
//! # Rounds open at the upgrade
//!
//! Members that had committed but not yet revealed committed with the version-1 rule
//! ([`povm_primitives::attestation::legacy_commitment`]); their reveal cannot match the
//! version-2 rule, and without help they would be slashed as reveal no-shows (now the larger,
//! wrong-result share) for the upgrade's sake. The migration marks exactly those members
//! [`RoundMember::legacy`], and `reveal_result` checks a legacy member's reveal against the
//! version-1 rule (and only against it); every other member, and every member drawn after the
//! upgrade, is checked against the version-2 rule only.
//!
//! The alternative, sending them back to commit under a fresh deadline, was not taken: it would
//! throw away finished runs (or have workers re-send results under a rule they did not commit
//! to) and rewind deadlines the job queue already published (`JobRevealing`), with a
//! migration that has to re-schedule every such round. The price of the legacy check is
//! bounded and confined to rounds open at the upgrade: a legacy member's commitment
//! does not bind its output or usage, but its output must still agree with the majority's
//! (output digest) to be accepted, and its usage is capped at the job's bound at the reveal
//! (not refused: a version-1 worker never capped usage, and a job killed at `max_seconds` has
//! a wall time slightly over) and again at the verdict.
//!
//! # Deadlines version 1 dropped
//!
//! Version 1 could drop a round's deadline for good, and the version-2 hook starts its cursor
//! at the block of the upgrade; [`reschedule_stranded`] gives every open round a deadline the
//! hook will reach, and `post_upgrade` runs the deadline invariants.
//!
//! # Offers registered before the bounds
//!
//! Version 2 bounds every footprint input of an offer ([`crate::Pallet::offer_valid`]).
//! Offers registered before may lie outside; [`clamp_offer`] moves each field into its range
//! (grid intensity, PUE, power per core, millicores, memory, slots), the closest valid value,
//! so no provider is dropped and no footprint is computed from an absurd figure. The draw
//! re-checks `offer_valid` as well ([`crate::Pallet::eligible`]).
//!
//! Offers are read and written in the version-2 layout ([`super::v3::v2::VmOffer`], without
//! the run-time limit version 3 adds): on a chain at version 1 this migration runs first and
//! [`super::v3::MigrateV2ToV3`] right after it.

use super::v3::v2::{Providers as OldProviders, VmOffer as OldOffer};
use crate::{pallet::*, types::*};
use alloc::vec::Vec;
use codec::{Decode, Encode, MaxEncodedLen};
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, storage_alias,
	traits::UncheckedOnRuntimeUpgrade, BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use povm_primitives::Footprint;

/// Whether a version-2 layout offer is within the version-2 bounds (every bound but the
/// run-time limit, which version 3 adds and which the valid default stands in for here).
pub fn old_offer_valid<T: crate::Config>(offer: &OldOffer) -> bool {
	crate::Pallet::<T>::offer_valid(&offer.upgraded(super::v3::DEFAULT_MAX_SECONDS))
}
use sp_runtime::traits::Saturating;

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
			// Committed and not yet revealed: committed under the version-1 rule.
			let legacy = m.status == MemberStatus::Committed && m.commitment.is_some();
			RoundMember {
				who: m.who,
				status: m.status,
				commit_deadline: m.commit_deadline,
				commitment: m.commitment,
				wave: waves,
				legacy,
			}
		})
		.collect();
	let waves = if members.is_empty() { 0 } else { waves.saturating_add(1) };
	// Same bound, same length: the conversion cannot fail.
	Round { members: BoundedVec::truncate_from(members), phase: old.phase, waves }
}

/// `offer` with every field moved into its version-2 range (the closest valid value): millicores
/// `1..=MAX_MILLICORES`, memory `1..=MAX_MEMORY_MIB`, slots `1..=MaxSlots`, grid intensity
/// `1..=MAX_GRID_INTENSITY`, PUE `1000..=MAX_PUE_PERMILLE`, power per core
/// `1..=MAX_CORE_MILLIWATTS`. A valid offer is returned unchanged.
///
/// Slots clamped down to `MaxSlots` still cover the jobs held (at most `MaxSlots`), and a
/// provider with zero slots held no job.
pub fn clamp_offer<T: crate::Config>(offer: OldOffer) -> OldOffer {
	OldOffer {
		millicores: offer.millicores.clamp(1, povm_primitives::MAX_MILLICORES),
		memory_mib: offer.memory_mib.clamp(1, povm_primitives::MAX_MEMORY_MIB),
		arch: offer.arch,
		slots: offer.slots.clamp(1, T::MaxSlots::get().max(1)),
		grid_intensity: offer.grid_intensity.clamp(1, MAX_GRID_INTENSITY),
		pue_permille: offer.pue_permille.clamp(1000, MAX_PUE_PERMILLE),
		core_milliwatts: offer.core_milliwatts.clamp(1, MAX_CORE_MILLIWATTS),
	}
}

/// Give every open round a pending deadline the version-2 hook will reach; returns the
/// storage reads and writes it made.
///
/// Version 1 could drop a round's deadline for good (its processing failed, or `schedule` gave
/// up after ten full buckets): such a round is in no deadline list and would never move again.
/// And the version-2 hook starts its [`DeadlineCursor`] at the current block, so a list keyed
/// below it would be skipped. So:
/// - every list (first or overflow page) keyed below the current block `now` is emptied into
///   `now + 1`;
/// - every open round whose job is then on no list (and not given up in [`FailedDeadlines`])
///   is scheduled at `now + 1`.
///
/// Both are harmless for a round with nothing overdue: processing a deadline early finds
/// nothing to do (`process_deadline` faults only members whose deadline passed), and `schedule` does not list a job
/// twice on a page.
pub fn reschedule_stranded<T: crate::Config>() -> (u64, u64) {
	use alloc::collections::btree_set::BTreeSet;
	let now = frame_system::Pallet::<T>::block_number();
	let next = now.saturating_add(1u32.into());
	let (mut reads, mut writes) = (0u64, 0u64);
	// `schedule` reads and writes a first page, and at worst an overflow page and the count.
	let schedule = |job: JobId, reads: &mut u64, writes: &mut u64| {
		crate::Pallet::<T>::schedule(job, next);
		*reads = reads.saturating_add(3);
		*writes = writes.saturating_add(3);
	};
	let stale: Vec<BlockNumberFor<T>> = Deadlines::<T>::iter_keys().filter(|b| *b < now).collect();
	let stale_pages: Vec<(BlockNumberFor<T>, u32)> =
		DeadlineOverflow::<T>::iter_keys().filter(|(b, _)| *b < now).collect();
	let stale_counts: Vec<BlockNumberFor<T>> =
		DeadlineOverflowPages::<T>::iter_keys().filter(|b| *b < now).collect();
	for b in stale {
		for job in Deadlines::<T>::take(b) {
			schedule(job, &mut reads, &mut writes);
		}
		reads = reads.saturating_add(1);
		writes = writes.saturating_add(1);
	}
	for (b, page) in stale_pages {
		for job in DeadlineOverflow::<T>::take(b, page) {
			schedule(job, &mut reads, &mut writes);
		}
		reads = reads.saturating_add(1);
		writes = writes.saturating_add(1);
	}
	for b in stale_counts {
		DeadlineOverflowPages::<T>::remove(b);
		writes = writes.saturating_add(1);
	}
	let mut listed: BTreeSet<JobId> = BTreeSet::new();
	for jobs in Deadlines::<T>::iter_values() {
		reads = reads.saturating_add(1);
		listed.extend(jobs);
	}
	for jobs in DeadlineOverflow::<T>::iter_values() {
		reads = reads.saturating_add(1);
		listed.extend(jobs);
	}
	let open: Vec<JobId> = Rounds::<T>::iter_keys().collect();
	for job in open {
		reads = reads.saturating_add(2);
		let given_up = FailedDeadlines::<T>::get(job).is_some_and(|f| f.retry_at.is_none());
		if listed.contains(&job) || given_up {
			continue;
		}
		log::info!(
			target: crate::tick_impls::LOG_TARGET,
			"round of {job} had no pending deadline: scheduled at {next:?}"
		);
		schedule(job, &mut reads, &mut writes);
	}
	(reads, writes)
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
	/// Members committed and not yet revealed (to be marked legacy).
	pending: u32,
	/// Registered providers.
	registered: u32,
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
		// Same layout: only the out-of-range offers are rewritten.
		let mut reads = items;
		for (who, mut info) in OldProviders::<T>::iter().collect::<Vec<_>>() {
			reads = reads.saturating_add(1);
			if old_offer_valid::<T>(&info.offer) {
				continue;
			}
			info.offer = clamp_offer::<T>(info.offer);
			log::info!(
				target: crate::tick_impls::LOG_TARGET,
				"offer of {:?} clamped into the version-2 bounds: {:?}",
				who,
				info.offer
			);
			OldProviders::<T>::insert(&who, info);
			items = items.saturating_add(1);
		}
		let (r, w) = reschedule_stranded::<T>();
		T::DbWeight::get().reads_writes(reads.saturating_add(r), items.saturating_add(w))
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		let mut rounds = 0u32;
		let mut members = 0u32;
		let mut pending = 0u32;
		for (_, r) in v1::Rounds::<T>::iter() {
			rounds += 1;
			members += r.members.len() as u32;
			pending += r
				.members
				.iter()
				.filter(|m| m.status == MemberStatus::Committed && m.commitment.is_some())
				.count() as u32;
		}
		if pending > 0 {
			log::info!(
				target: crate::tick_impls::LOG_TARGET,
				"{pending} members committed under the v1 rule: marked legacy, they reveal under v1"
			);
		}
		let wide = |f: Footprint| (f.energy_uwh as u128, f.carbon_ug as u128);
		let state = PreState {
			rounds,
			members,
			pending,
			registered: Providers::<T>::iter_keys().count() as u32,
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
		let mut legacy = 0u32;
		for (_, r) in Rounds::<T>::iter() {
			rounds += 1;
			members += r.members.len() as u32;
			for m in r.members.iter() {
				ensure!(
					m.legacy == (m.status == MemberStatus::Committed && m.commitment.is_some()),
					"legacy flag on a member that is not pending a reveal, or missing"
				);
				legacy += m.legacy as u32;
			}
			ensure!(r.members.iter().all(|m| m.wave < r.waves), "member wave beyond waves");
			ensure!(
				r.members.windows(2).all(|w| w[0].wave <= w[1].wave),
				"waves out of member order"
			);
		}
		ensure!(rounds == pre.rounds && members == pre.members, "rounds lost");
		ensure!(legacy == pre.pending, "pending committed members not all marked legacy");
		ensure!(Providers::<T>::iter_keys().count() as u32 == pre.registered, "providers lost");
		ensure!(
			OldProviders::<T>::iter_values().count() as u32 == pre.registered &&
				OldProviders::<T>::iter_values().all(|i| old_offer_valid::<T>(&i.offer)),
			"an offer is out of the version-2 bounds"
		);
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
		// No deadline is lost: every open round has a pending deadline (or was given up), and
		// none lies below the current block, which the hook's cursor starts at.
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(
			Deadlines::<T>::iter_keys().all(|b| b >= now) &&
				DeadlineOverflow::<T>::iter_keys().all(|(b, _)| b >= now),
			"a deadline list below the current block"
		);
		crate::Pallet::<T>::try_state_deadlines()?;
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
			// Nobody in round 3 was between commit and reveal: no legacy member.
			assert!(r.members.iter().all(|m| !m.legacy));
			let r = Rounds::<Test>::get(4).unwrap();
			assert_eq!((r.members[0].wave, r.waves), (0, 1));
			// Committed, not revealed: it committed under the v1 rule.
			assert!(r.members[0].legacy);
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

	/// Runs the migration as `try-runtime` does: `pre_upgrade`, the versioned migration, then
	/// `post_upgrade` on what `pre_upgrade` saw (the checks run only with that feature); then,
	/// as the runtime's migrations do, the migration to version 3. The provider records,
	/// registered through the current calls, are first put in the version-2 layout that the
	/// version-1 and version-2 runtimes stored.
	fn upgrade() {
		crate::migrations::v3::providers_back_to_v2::<Test>();
		#[cfg(feature = "try-runtime")]
		let pre = InnerMigrateV1ToV2::<Test>::pre_upgrade().expect("pre_upgrade");
		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		#[cfg(feature = "try-runtime")]
		InnerMigrateV1ToV2::<Test>::post_upgrade(pre).expect("post_upgrade");
		assert_eq!(StorageVersion::get::<crate::Pallet<Test>>(), 2);
		#[cfg(feature = "try-runtime")]
		use crate::migrations::v3::InnerMigrateV2ToV3;
		use crate::migrations::v3::MigrateV2ToV3;
		#[cfg(feature = "try-runtime")]
		let pre = InnerMigrateV2ToV3::<Test>::pre_upgrade().expect("pre_upgrade v3");
		MigrateV2ToV3::<Test>::on_runtime_upgrade();
		#[cfg(feature = "try-runtime")]
		InnerMigrateV2ToV3::<Test>::post_upgrade(pre).expect("post_upgrade v3");
		assert_eq!(StorageVersion::get::<crate::Pallet<Test>>(), 3);
		// The runtime's last step files every active provider in the draw index under the
		// class of its migrated offer (version 7).
		use frame_support::traits::UncheckedOnRuntimeUpgrade;
		crate::migrations::v7::InnerMigrateV6ToV7::<Test>::on_runtime_upgrade();
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
				max_seconds: 3_600,
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
			upgrade();
			frame_support::assert_ok!(VmProof::on_assigned(5, &[16], 5));
			assert_eq!(crate::Pallet::<Test>::wave_of(5, &16), Some(1));
			assert_eq!(Rounds::<Test>::get(5).unwrap().waves, 2);
		});
	}

	// ---------- the chain is upgraded, not restarted ----------

	use crate::{energy, Error, Event};
	use frame_support::{assert_noop, assert_ok};
	use pallet_job_queue::{Jobs, Params, Results};
	use povm_primitives::{attestation::legacy_commitment, JobSpec, JobState, RedundancyPolicy};

	const BOND: u64 = 10_000;
	const RESOURCES: Resources = Resources { millicores: 1000, memory_mib: 256, max_seconds: 60 };
	type MaxCp = <Test as crate::Config>::MaxCheckpoints;

	fn setup(providers: &[AccountId]) {
		let mut p = Params::<Test>::get();
		p.commit_window = 5;
		p.reveal_window = 5;
		assert_ok!(JobQueue::set_params(RuntimeOrigin::root(), p));
		for who in providers {
			assert_ok!(VmProof::register_provider(RuntimeOrigin::signed(*who), offer(), BOND));
		}
	}

	/// Submit a job and run one block so that it is assigned; the job and its providers.
	fn assigned(min: u32, max: u32, margin: u32) -> (JobId, Vec<AccountId>) {
		let spec = JobSpec {
			image: povm_primitives::ImageRef::local([0xaa; 32]),
			command: BoundedVec::truncate_from(b"flip".to_vec()),
			args: BoundedVec::default(),
			env: BoundedVec::default(),
			inputs: BoundedVec::default(),
			resources: RESOURCES,
			price_per_second: 1,
			redundancy: RedundancyPolicy { min_replicas: min, max_replicas: max, margin },
			checkpoint_interval: 5,
		};
		let budget = JobQueue::max_cost(&spec).unwrap();
		assert_ok!(JobQueue::submit_job(RuntimeOrigin::signed(CUSTOMER), Box::new(spec), budget));
		let id = pallet_job_queue::Counters::<Test>::get().next_job_id - 1;
		run_to_block(System::block_number() + 1);
		let job = Jobs::<Test>::get(id).unwrap();
		assert_eq!(job.state, JobState::Assigned);
		(id, job.providers.to_vec())
	}

	fn usage(ms: u64) -> Usage {
		Usage { cpu_ms: ms, memory_mib_s: 1_000, wall_ms: ms }
	}

	/// A reveal: result `[tag; 32]`, checkpoints `[tag; 32]` × 2, output `heads`.
	fn rev(who: AccountId, tag: u8, u: Usage) -> (Reveal, BoundedVec<Digest, MaxCp>) {
		let leaves = vec![[tag; 32], [tag; 32]];
		(
			Reveal {
				result_digest: [tag; 32],
				checkpoints_root: crate::verdict::merkle_root(&leaves),
				salt: [who as u8; 32],
				output: BoundedVec::truncate_from(b"heads".to_vec()),
				usage: u,
			},
			BoundedVec::truncate_from(leaves),
		)
	}

	fn v1_commitment(who: AccountId, r: &Reveal) -> Digest {
		legacy_commitment(&r.result_digest, &r.checkpoints_root, &r.salt, &who)
	}

	/// Puts the round of `job` back in the version-1 layout, as the version-1 runtime stored it,
	/// and the storage version at 1.
	fn back_to_v1(job: JobId) {
		let round = Rounds::<Test>::take(job).unwrap();
		let members = round
			.members
			.into_iter()
			.map(|m| v1::RoundMember {
				who: m.who,
				status: m.status,
				commit_deadline: m.commit_deadline,
				commitment: m.commitment,
			})
			.collect::<Vec<_>>();
		v1::Rounds::<Test>::insert(
			job,
			v1::Round { members: BoundedVec::truncate_from(members), phase: round.phase },
		);
		StorageVersion::new(1).put::<crate::Pallet<Test>>();
	}

	/// A two-replica job whose members both committed under the version-1 rule and had not
	/// revealed when the runtime was upgraded; returns the job, its members and their reveals.
	fn committed_before_the_upgrade() -> (JobId, Vec<AccountId>, Vec<Reveal>) {
		setup(&[10, 11, 12]);
		let (id, ps) = assigned(2, 2, 1);
		let reveals: Vec<Reveal> = ps.iter().map(|p| rev(*p, 1, usage(1_000)).0).collect();
		for (p, r) in ps.iter().zip(&reveals) {
			assert_ok!(VmProof::commit_result(RuntimeOrigin::signed(*p), id, v1_commitment(*p, r)));
		}
		assert!(matches!(Rounds::<Test>::get(id).unwrap().phase, Phase::Revealing { .. }));
		back_to_v1(id);
		upgrade();
		(id, ps, reveals)
	}

	/// Before the fix, the migration left the members of an open round to the version-2 rule:
	/// their reveal was refused (`RevealMismatch`) and they were slashed 10 % as reveal no-shows
	/// for the upgrade's sake.
	#[test]
	fn a_member_committed_before_the_upgrade_reveals_what_it_committed() {
		ExtBuilder::default().build_and_execute(|| {
			let (id, ps, _) = committed_before_the_upgrade();
			let round = Rounds::<Test>::get(id).unwrap();
			assert!(round.members.iter().all(|m| m.legacy));
			for p in ps.iter() {
				let (r, l) = rev(*p, 1, usage(1_000));
				assert_ok!(VmProof::reveal_result(RuntimeOrigin::signed(*p), id, r, l, None));
			}
			assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
			assert!(!events().iter().any(|e| matches!(e, Event::ProviderFaulted { .. })));
			for p in ps.iter() {
				assert_eq!(Providers::<Test>::get(p).unwrap().bond, BOND);
			}
		});
	}

	#[test]
	fn a_legacy_member_must_still_reveal_exactly_its_commitment() {
		ExtBuilder::default().build_and_execute(|| {
			let (id, ps, _) = committed_before_the_upgrade();
			// Another result, another checkpoints root, another salt: refused.
			let (other, l) = rev(ps[0], 2, usage(1_000));
			assert_noop!(
				VmProof::reveal_result(RuntimeOrigin::signed(ps[0]), id, other, l, None),
				Error::<Test>::RevealMismatch
			);
			let (mut salted, l) = rev(ps[0], 1, usage(1_000));
			salted.salt = [99; 32];
			assert_noop!(
				VmProof::reveal_result(RuntimeOrigin::signed(ps[0]), id, salted, l, None),
				Error::<Test>::RevealMismatch
			);
			// Another provider's reveal does not open it either (the account is bound).
			let (theirs, l) = rev(ps[1], 1, usage(1_000));
			assert_noop!(
				VmProof::reveal_result(RuntimeOrigin::signed(ps[0]), id, theirs, l, None),
				Error::<Test>::RevealMismatch
			);
			// Usage is not part of the version-1 commitment: usage above the job's bound is not
			// refused (a version-1 worker never capped it) but capped, see
			// `a_legacy_member_over_the_bound_is_accepted_with_capped_usage`.
			let (mut greedy, l) = rev(ps[0], 1, usage(1_000));
			greedy.usage.wall_ms = u64::MAX;
			assert_ok!(VmProof::reveal_result(RuntimeOrigin::signed(ps[0]), id, greedy, l, None));
			let stored = Reveals::<Test>::get(id, ps[0]).unwrap().reveal.usage;
			assert_eq!(stored.wall_ms, RESOURCES.usage_bound().wall_ms);
		});
	}

	/// Before the fix a legacy member whose usage was above the job's bound was refused
	/// (`UsageOutOfBounds`) and ended a reveal no-show (10 %): a version-1 worker never capped
	/// its usage, and a job killed at `max_seconds` has a wall time slightly above the bound.
	/// Its version-1 commitment does not cover usage, so the usage is capped at the bound.
	#[test]
	fn a_legacy_member_over_the_bound_is_accepted_with_capped_usage() {
		ExtBuilder::default().build_and_execute(|| {
			let (id, ps, _) = committed_before_the_upgrade();
			let bound = RESOURCES.usage_bound();
			// Killed at max_seconds: a little over the wall bound, CPU far over.
			let over = Usage { cpu_ms: u64::MAX, memory_mib_s: 1_000, wall_ms: bound.wall_ms + 37 };
			for p in ps.iter() {
				let (r, l) = rev(*p, 1, over);
				assert_ok!(VmProof::reveal_result(RuntimeOrigin::signed(*p), id, r, l, None));
			}
			assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
			let result = Results::<Test>::get(id).unwrap();
			assert_eq!(result.usage, over.capped_at(&bound));
			assert_eq!(result.usage.wall_ms, bound.wall_ms);
			// Nobody slashed; both paid for max_seconds at 1 per second.
			assert!(!events().iter().any(|e| matches!(e, Event::ProviderFaulted { .. })));
			for p in ps.iter() {
				assert_eq!(Providers::<Test>::get(p).unwrap().bond, BOND);
			}
			assert_eq!(result.payments.to_vec(), ps.iter().map(|p| (*p, 60)).collect::<Vec<_>>());
		});
	}

	/// The cap is for legacy members only: a member drawn after the upgrade committed its usage,
	/// and a usage above the bound is still refused.
	#[test]
	fn a_member_drawn_after_the_upgrade_over_the_bound_is_still_refused() {
		ExtBuilder::default().build_and_execute(|| {
			setup(&[10]);
			let (id, ps) = assigned(1, 1, 1);
			let p = ps[0];
			let mut over = usage(1_000);
			over.wall_ms = RESOURCES.usage_bound().wall_ms + 1;
			let (r, l) = rev(p, 1, over);
			let c = VmProof::commitment_of(id, VmProof::wave_of(id, &p).unwrap(), &r, &p);
			assert_ok!(VmProof::commit_result(RuntimeOrigin::signed(p), id, c));
			assert_noop!(
				VmProof::reveal_result(RuntimeOrigin::signed(p), id, r, l, None),
				Error::<Test>::UsageOutOfBounds
			);
		});
	}

	#[test]
	fn a_legacy_member_that_never_reveals_is_still_a_reveal_no_show() {
		ExtBuilder::default().build_and_execute(|| {
			let (id, ps, _) = committed_before_the_upgrade();
			let (r, l) = rev(ps[0], 1, usage(1_000));
			assert_ok!(VmProof::reveal_result(RuntimeOrigin::signed(ps[0]), id, r, l, None));
			run_to_block(System::block_number() + 7);
			assert!(events().iter().any(|e| matches!(
				e,
				Event::ProviderFaulted { fault: Fault::RevealNoShow, who, .. } if *who == ps[1]
			)));
		});
	}

	/// The version-1 rule is not a way around the version-2 rule: a member drawn after the
	/// upgrade that commits the version-1 hash cannot reveal.
	#[test]
	fn a_member_drawn_after_the_upgrade_is_held_to_the_new_rule() {
		ExtBuilder::default().build_and_execute(|| {
			StorageVersion::new(1).put::<crate::Pallet<Test>>();
			upgrade();
			setup(&[10, 11]);
			let (id, ps) = assigned(1, 1, 1);
			let (r, l) = rev(ps[0], 1, usage(1_000));
			assert_ok!(VmProof::commit_result(
				RuntimeOrigin::signed(ps[0]),
				id,
				v1_commitment(ps[0], &r)
			));
			assert!(!Rounds::<Test>::get(id).unwrap().members[0].legacy);
			assert_noop!(
				VmProof::reveal_result(RuntimeOrigin::signed(ps[0]), id, r, l, None),
				Error::<Test>::RevealMismatch
			);
		});
	}

	/// Before the fix the migration kept `grid_intensity = u32::MAX` (and the other
	/// out-of-range fields) registered under version 1.
	#[test]
	fn offers_registered_before_the_bounds_are_clamped_into_range() {
		ExtBuilder::default().build_and_execute(|| {
			setup(&[10, 11, 12]);
			// What version 1 accepted: no upper bounds, zero grid intensity, PUE below 1.0.
			let high = VmOffer {
				millicores: u32::MAX,
				memory_mib: u32::MAX,
				arch: Arch::Aarch64,
				slots: 2,
				grid_intensity: u32::MAX,
				pue_permille: u32::MAX,
				core_milliwatts: u32::MAX,
				max_seconds: u32::MAX,
			};
			let low = VmOffer { grid_intensity: 0, pue_permille: 0, core_milliwatts: 0, ..offer() };
			Providers::<Test>::mutate(10, |i| i.as_mut().unwrap().offer = high);
			Providers::<Test>::mutate(11, |i| i.as_mut().unwrap().offer = low);
			StorageVersion::new(1).put::<crate::Pallet<Test>>();
			upgrade();
			let o = Providers::<Test>::get(10).unwrap().offer;
			assert_eq!(
				o,
				VmOffer {
					millicores: povm_primitives::MAX_MILLICORES,
					memory_mib: povm_primitives::MAX_MEMORY_MIB,
					arch: Arch::Aarch64,
					slots: 2,
					grid_intensity: MAX_GRID_INTENSITY,
					pue_permille: MAX_PUE_PERMILLE,
					core_milliwatts: MAX_CORE_MILLIWATTS,
					max_seconds: crate::migrations::v3::DEFAULT_MAX_SECONDS,
				}
			);
			let o = Providers::<Test>::get(11).unwrap().offer;
			assert_eq!((o.grid_intensity, o.pue_permille, o.core_milliwatts), (1, 1000, 1));
			// A valid offer is left as it was (and gets the version-3 default run-time limit).
			let default = crate::migrations::v3::DEFAULT_MAX_SECONDS;
			assert_eq!(
				Providers::<Test>::get(12).unwrap().offer,
				VmOffer { max_seconds: default, ..offer() }
			);
			for p in [10, 11, 12] {
				assert!(VmProof::offer_valid(&Providers::<Test>::get(p).unwrap().offer));
			}
		});
	}

	/// `post_upgrade` checks what the migration promises: every offer in range, every pending
	/// member marked legacy, every open round with a pending deadline.
	#[cfg(feature = "try-runtime")]
	#[test]
	fn post_upgrade_catches_an_unclamped_offer_and_an_unmarked_member() {
		let run = |spoil: fn(JobId)| {
			ExtBuilder::default().build().execute_with(|| {
				setup(&[10, 11, 12]);
				let (id, ps) = assigned(2, 2, 1);
				for p in ps.iter() {
					let (r, _) = rev(*p, 1, usage(1_000));
					let c = v1_commitment(*p, &r);
					assert_ok!(VmProof::commit_result(RuntimeOrigin::signed(*p), id, c));
				}
				back_to_v1(id);
				crate::migrations::v3::providers_back_to_v2::<Test>();
				let pre = InnerMigrateV1ToV2::<Test>::pre_upgrade().unwrap();
				MigrateV1ToV2::<Test>::on_runtime_upgrade();
				spoil(id);
				InnerMigrateV1ToV2::<Test>::post_upgrade(pre)
			})
		};
		assert!(run(|_| {}).is_ok());
		assert!(run(|_| {
			OldProviders::<Test>::mutate(10, |i| {
				i.as_mut().unwrap().offer.grid_intensity = u32::MAX
			})
		})
		.is_err());
		assert!(run(|id| {
			Rounds::<Test>::mutate(id, |r| r.as_mut().unwrap().members[0].legacy = false)
		})
		.is_err());
		// A round left without a pending deadline (the deadline invariants run too).
		assert!(run(|_| {
			let _ = Deadlines::<Test>::clear(u32::MAX, None);
		})
		.is_err());
	}

	#[test]
	fn clamp_offer_moves_slots_into_range() {
		let max = <<Test as crate::Config>::MaxSlots as Get<u32>>::get();
		let old = |o: VmOffer| OldOffer::from(o);
		assert_eq!(clamp_offer::<Test>(old(VmOffer { slots: 0, ..offer() })).slots, 1);
		assert_eq!(clamp_offer::<Test>(old(VmOffer { slots: u32::MAX, ..offer() })).slots, max);
		assert_eq!(clamp_offer::<Test>(old(offer())), old(offer()));
	}

	/// Before the fix `eligible` did not look at the offer's bounds: an offer stored before
	/// them (or by any path that skipped `offer_valid`) was drawn and its footprint computed
	/// from `grid_intensity = u32::MAX`.
	#[test]
	fn an_out_of_range_offer_is_never_drawn() {
		ExtBuilder::default().build_and_execute(|| {
			setup(&[10, 11]);
			Providers::<Test>::mutate(10, |i| i.as_mut().unwrap().offer.grid_intensity = u32::MAX);
			let drawn: Vec<AccountId> =
				VmProof::candidates(&RESOURCES, povm_primitives::Arch::X86_64)
					.into_iter()
					.map(|(w, _)| w)
					.collect();
			assert_eq!(drawn, vec![11]);
			let (_, ps) = assigned(1, 1, 1);
			assert_eq!(ps, vec![11]);
		});
	}

	/// Before the fix the migration left the rounds version 1 had dropped without a deadline
	/// (a failed deadline processing, or `schedule` giving up on full buckets): `try_state`
	/// failed ("open round without a pending deadline") and the round never moved again. A
	/// bucket below the block of the upgrade was skipped too: the new `DeadlineCursor` starts
	/// at the current block.
	#[test]
	fn rounds_stranded_by_version_1_get_their_deadline_processed() {
		ExtBuilder::default().build_and_execute(|| {
			setup(&[10, 11, 12, 13]);
			let (a, pa) = assigned(1, 1, 1);
			let (b, pb) = assigned(1, 1, 1);
			// Version 1 dropped `a`'s deadline: it is in no bucket.
			for key in Deadlines::<Test>::iter_keys().collect::<Vec<_>>() {
				Deadlines::<Test>::mutate(key, |v| v.retain(|j| *j != a));
			}
			let b_bucket =
				Deadlines::<Test>::iter().find(|(_, v)| v.contains(&b)).map(|(k, _)| k).unwrap();
			// The upgrade happens at block 20: `b`'s bucket lies below it, unprocessed, and
			// version 1 had no cursor.
			System::set_block_number(20);
			assert!(b_bucket < 20);
			DeadlineCursor::<Test>::kill();
			back_to_v1(a);
			back_to_v1(b);
			upgrade();
			assert_ok!(VmProof::do_try_state());
			assert!(Deadlines::<Test>::iter_keys().all(|k| k > 20));
			run_to_block(21);
			for who in [pa[0], pb[0]] {
				assert!(events().iter().any(|e| matches!(
					e,
					Event::ProviderFaulted { fault: Fault::CommitNoShow, who: w, .. } if *w == who
				)));
			}
			// Both rounds moved on: each no-show replaced by a fresh draw.
			for job in [a, b] {
				let r = Rounds::<Test>::get(job).unwrap();
				assert_eq!(r.members[0].status, MemberStatus::NoShow);
				assert_eq!(r.members.len(), 2);
			}
		});
	}

	/// Before the fix `accept` took the medians of the stored usage as it was: a reveal stored
	/// by the version-1 runtime with `u64::MAX` usage set the job's published usage and the
	/// provider's footprint to `u64::MAX`.
	#[test]
	fn usage_stored_above_the_bound_before_the_upgrade_is_capped_at_the_verdict() {
		ExtBuilder::default().build_and_execute(|| {
			setup(&[10]);
			let (id, ps) = assigned(1, 1, 1);
			let p = ps[0];
			let (r, l) = rev(p, 1, usage(1_000));
			let wave = VmProof::wave_of(id, &p).unwrap();
			let c = VmProof::commitment_of(id, wave, &r, &p);
			assert_ok!(VmProof::commit_result(RuntimeOrigin::signed(p), id, c));
			// A reveal the version-1 runtime stored: it did not bound usage.
			let huge = Usage { cpu_ms: u64::MAX, memory_mib_s: u64::MAX, wall_ms: u64::MAX };
			let reveal = Reveal { usage: huge, ..r };
			Reveals::<Test>::insert(id, p, RevealRecord { reveal, leaves: l, outcome: None });
			Rounds::<Test>::mutate(id, |r| {
				r.as_mut().unwrap().members[0].status = MemberStatus::Revealed;
			});
			// The reveal deadline passes with nobody left to reveal: the verdict.
			run_to_block(System::block_number() + 7);
			assert_eq!(Jobs::<Test>::get(id).unwrap().state, JobState::Completed);
			let bound = RESOURCES.usage_bound();
			let result = Results::<Test>::get(id).unwrap();
			assert_eq!(result.usage, bound);
			let fp = energy::footprint(&bound, &offer());
			assert_eq!(result.footprint, fp);
			assert_eq!(ProviderFootprint::<Test>::get(p), FootprintTotal::default().add(fp));
			// One replica earns no verified time (issue 12), however much it claimed.
			assert_eq!(credited_millis(0, p), 0);
			// Paid for `max_seconds` at 1 per second.
			assert_eq!(result.payments.to_vec(), vec![(p, 60)]);
		});
	}
}

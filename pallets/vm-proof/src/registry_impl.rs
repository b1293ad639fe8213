//! The registry as seen by the job queue ([`ProviderRegistry`]) and the lottery
//! ([`VerifiedWork`]), the worker's view, and the invariants.

use crate::{pallet::*, types::*};
use alloc::vec::Vec;
use frame_support::{pallet_prelude::*, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use povm_primitives::{
	AssignmentPhase, AssignmentView, Drawn, JobLedger, ProviderRegistry, VerifiedWork,
};
use sp_runtime::traits::Saturating;

impl<T: Config> Pallet<T> {
	/// Whether `info` may be drawn now for `r`: active, live, bonded, with a free slot and an
	/// offer that fits `r` and is valid now ([`Self::offer_valid`], re-checked so that an
	/// offer stored before a bound existed is never drawn).
	pub fn eligible(who: &T::AccountId, info: &ProviderInfo<T>, r: &Resources) -> bool {
		Self::free_slots(who, info, r) > 0
	}

	/// The free slots `who` offers for `r`: its drawable slots ([`Self::drawable_slots`]:
	/// active, live, bonded, a valid offer; declared slots less the jobs it holds) when its
	/// offer fits `r`, else 0. The draw weight: declared capacity, so that one machine split
	/// into many accounts weighs what it weighed as one.
	pub fn free_slots(who: &T::AccountId, info: &ProviderInfo<T>, r: &Resources) -> u32 {
		if info.offer.fits(r) {
			Self::drawable_slots(who, info)
		} else {
			0
		}
	}

	/// The open assignments of `who`, for the worker.
	pub fn assignments_of(who: &T::AccountId) -> Vec<AssignmentView<BlockNumberFor<T>>> {
		ProviderJobs::<T>::get(who)
			.into_iter()
			.filter_map(|job| {
				let round = Rounds::<T>::get(job)?;
				let m = round.members.iter().find(|m| &m.who == who)?;
				let (phase, reveal_deadline) = match (round.phase, m.status) {
					(_, MemberStatus::Assigned) => (AssignmentPhase::Commit, m.commit_deadline),
					(Phase::Committing, MemberStatus::Committed) =>
						(AssignmentPhase::Committed, m.commit_deadline),
					(Phase::Revealing { deadline }, MemberStatus::Committed) =>
						(AssignmentPhase::Reveal, deadline),
					(Phase::Revealing { deadline }, MemberStatus::Revealed) =>
						(AssignmentPhase::Revealed, deadline),
					(Phase::Committing, MemberStatus::Revealed) =>
						(AssignmentPhase::Revealed, m.commit_deadline),
					(_, MemberStatus::NoShow | MemberStatus::Declined) => return None,
				};
				Some(AssignmentView {
					job,
					wave: m.wave,
					phase,
					commit_deadline: m.commit_deadline,
					reveal_deadline,
				})
			})
			.collect()
	}

	/// The invariants of this pallet.
	///
	/// # Invariants
	///
	/// - Each provider's held bond equals its recorded bond; `ProviderCount` counts records.
	/// - The draw index files exactly the active providers, each under its offer's class with
	///   its drawable slots (see [`Self::try_state_index`]).
	/// - Each provider holds no more jobs than its slots, and exactly the jobs whose round lists
	///   it as a member that has neither been faulted (no-show) nor declined.
	/// - Every member of a round is registered, and every round's job is open.
	/// - Every member's wave is below the round's wave count, and waves never decrease in
	///   member (draw) order.
	/// - No bond is held without a provider record (see [`Self::try_state_bond_holds`]).
	/// - Every open round has a pending deadline or waits for `force_dispute` (see
	///   [`Self::try_state_deadlines`]).
	/// - The anchors and trust points are within their bounds, and only registered providers
	///   hold points (see [`Self::try_state_trust`]).
	/// - A legacy member (committed under the version-1 rule before the upgrade) has committed:
	///   it is never `Assigned` and always has a commitment.
	/// - Every member of an open round, and only those, has a [`SlotHolds`] record, assigned by
	///   its commit deadline, with a commit block exactly when it has a commitment, not before
	///   its assignment.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::traits::fungible::InspectHold;
		let mut count = 0u32;
		for (who, info) in Providers::<T>::iter() {
			count += 1;
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::ProviderBond.into(), &who) == info.bond,
				"held bond differs from record"
			);
			let jobs = ProviderJobs::<T>::get(&who);
			ensure!(jobs.len() as u32 <= info.offer.slots, "more jobs than slots");
			for job in jobs.iter() {
				let round = Rounds::<T>::get(job).ok_or("slot for a job without round")?;
				ensure!(
					round.members.iter().any(|m| m.who == who && m.holds_slot()),
					"slot without live membership"
				);
			}
		}
		ensure!(count == ProviderCount::<T>::get(), "provider count off");
		for (job, round) in Rounds::<T>::iter() {
			let terms = T::Jobs::job_terms(job).ok_or("round for unknown job")?;
			ensure!(terms.state.is_open(), "round for a closed job");
			ensure!(round.members.iter().all(|m| m.wave < round.waves), "wave beyond count");
			ensure!(
				round.members.windows(2).all(|w| w[0].wave <= w[1].wave),
				"waves out of draw order"
			);
			for m in round.members.iter() {
				ensure!(Providers::<T>::contains_key(&m.who), "member not registered");
				ensure!(
					!m.legacy || (m.status != MemberStatus::Assigned && m.commitment.is_some()),
					"legacy member without a commitment"
				);
				let hold = SlotHolds::<T>::get(job, &m.who).ok_or("member without a slot hold")?;
				ensure!(
					hold.assigned_at <= m.commit_deadline,
					"assigned after the commit deadline"
				);
				ensure!(
					hold.committed_at.is_some() == m.commitment.is_some(),
					"commit block and commitment disagree"
				);
				ensure!(
					hold.committed_at.map_or(true, |c| hold.assigned_at <= c),
					"committed before assigned"
				);
				if m.holds_slot() {
					ensure!(ProviderJobs::<T>::get(&m.who).contains(&job), "member without slot");
				} else {
					ensure!(
						!ProviderJobs::<T>::get(&m.who).contains(&job),
						"slot kept after leaving"
					);
				}
			}
		}
		for (job, who) in SlotHolds::<T>::iter_keys() {
			ensure!(
				Rounds::<T>::get(job).is_some_and(|r| r.members.iter().any(|m| m.who == who)),
				"slot hold without a round member"
			);
		}
		Self::try_state_index()?;
		Self::try_state_bond_holds()?;
		Self::try_state_deadlines()?;
		Self::try_state_heartbeats()?;
		Self::try_state_trust()?;
		Ok(())
	}

	/// No provider-bond hold outlives its record: every account holding funds for
	/// `HoldReason::ProviderBond` has a [`Providers`] record (whose bond equals the hold, checked
	/// in [`Self::do_try_state`]).
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub(crate) fn try_state_bond_holds() -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::traits::fungible::InspectHold;
		use sp_runtime::traits::Zero;
		for who in frame_system::Account::<T>::iter_keys() {
			let held = T::Currency::balance_on_hold(&HoldReason::ProviderBond.into(), &who);
			ensure!(
				held.is_zero() || Providers::<T>::contains_key(&who),
				"bond held without a provider record"
			);
		}
		Ok(())
	}
}

impl<T: Config> ProviderRegistry<T::AccountId, BlockNumberFor<T>> for Pallet<T> {
	fn drawable_count(r: &Resources, arch: Arch) -> u32 {
		Self::drawable_count(r, arch)
	}

	fn draw(
		r: &Resources,
		arch: Arch,
		count: u32,
		exclude: &[T::AccountId],
		random: &mut dyn FnMut(u32) -> u64,
	) -> Drawn<T::AccountId> {
		Self::draw_from_index(r, arch, count, exclude, random)
	}

	fn draw_rejections_weight() -> Weight {
		Self::draw_rejections_weight()
	}

	fn rejection_weight() -> Weight {
		Self::rejection_weight()
	}

	fn pick_weight_beyond(candidates: u32) -> Weight {
		Self::pick_weight_beyond(candidates)
	}

	fn on_assigned(
		job: JobId,
		providers: &[T::AccountId],
		commit_window: BlockNumberFor<T>,
	) -> Result<BlockNumberFor<T>, DispatchError> {
		let now = frame_system::Pallet::<T>::block_number();
		let commit_deadline = now.saturating_add(commit_window);
		let heartbeats = Self::needs_heartbeats(commit_window);
		let mut round = Rounds::<T>::get(job).unwrap_or(Round {
			members: BoundedVec::default(),
			phase: Phase::Committing,
			waves: 0,
		});
		let wave = round.waves;
		for who in providers {
			let info = Providers::<T>::get(who).ok_or(Error::<T>::NotRegistered)?;
			ensure!(info.status == ProviderStatus::Active, Error::<T>::NotActive);
			ensure!(!round.members.iter().any(|m| &m.who == who), Error::<T>::AlreadyMember);
			ProviderJobs::<T>::try_mutate(who, |jobs| {
				ensure!((jobs.len() as u32) < info.offer.slots, Error::<T>::NoFreeSlot);
				jobs.try_push(job).map_err(|_| Error::<T>::NoFreeSlot)
			})?;
			Self::reindex(who)?;
			SlotHolds::<T>::insert(job, who, SlotHold { assigned_at: now, committed_at: None });
			if heartbeats {
				JobHeartbeats::<T>::insert(job, who, now);
			}
			round
				.members
				.try_push(RoundMember {
					who: who.clone(),
					status: MemberStatus::Assigned,
					commit_deadline,
					commitment: None,
					wave,
					legacy: false,
				})
				.map_err(|_| Error::<T>::TooManyMembers)?;
		}
		round.waves = wave.saturating_add(1);
		round.phase = Phase::Committing;
		Rounds::<T>::insert(job, round);
		Self::schedule(job, commit_deadline.saturating_add(1u32.into()));
		if heartbeats {
			// The first block a member drawn now could be stalled.
			Self::schedule_stall_check(
				job,
				now.saturating_add(T::StallTimeout::get()).saturating_add(1u32.into()),
			);
		}
		Ok(commit_deadline)
	}

	fn is_registered(who: &T::AccountId) -> bool {
		Providers::<T>::contains_key(who)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn bench_register(n: u32, r: &Resources) -> Vec<T::AccountId> {
		Self::bench_fill(n, crate::benchmarking::offer_for::<T>(r))
	}
}

impl<T: Config> VerifiedWork<T::AccountId> for Pallet<T> {
	fn work_taken(epoch: u32) -> Weight {
		Self::prune_epochs(epoch)
	}
}

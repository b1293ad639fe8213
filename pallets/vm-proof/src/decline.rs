//! Declining a job ([`Pallet::decline_job`]) and ending a job most of its providers declined.
//!
//! A decline frees the member's slot and costs it reputation, not bond, when it comes in the
//! first half of the member's commit window; a later one is slashed as a no-show
//! ([`Pallet::is_late_decline`]). A decline never draws the
//! replacement itself: it schedules the job on the next block's deadline list, and that block's
//! hook draws the replacement ([`Pallet::replace_leavers`], or `Pallet::maybe_close_commits`
//! when nobody is left to commit), with the job queue's draw keyed by the parent hash of the
//! hook's block: the hash of the block that holds the decline, which the decliner did not know
//! when it declined. The co-replicas therefore wait for the replacement's run, not for the rest
//! of the commit window first (the decline attack of `pallets/simulation`).

use crate::{pallet::*, types::*};
use alloc::vec::Vec;
use frame_support::{pallet_prelude::*, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use povm_primitives::JobLedger;
use sp_runtime::{traits::Saturating, DispatchResult};

impl<T: Config> Pallet<T> {
	/// Whether the declines of `round` end the job as unrunnable: more than half of the
	/// providers drawn so far declined, at least [`MIN_DECLINES_TO_END`] of them, and no member
	/// has a sealed result (committed, or revealed in an earlier wave).
	///
	/// - *More than half*: the providers were drawn at random among those whose offer fits the
	///   job, so a majority of them declining is evidence that the spec, not the providers, is
	///   at fault (an image that cannot be pulled, a command that cannot start).
	/// - *At least two*: a provider is never drawn twice for a job, so no single provider can
	///   end a job and take its owner's deposit; with `min_replicas = 1` the job ends only when
	///   the replacement of the first decliner declines too.
	/// - *No sealed result*: a member that committed could run the job; ending it would throw
	///   that run away. The round goes on instead (replacements, then the verdict or a
	///   dispute, in which only revealers are paid).
	///
	/// Every job's first draw is `min_replicas` providers, so at least `min_replicas` were drawn
	/// whenever this is asked.
	pub fn most_declined(round: &Round<T>) -> bool {
		let count = |s: MemberStatus| round.members.iter().filter(|m| m.status == s).count();
		let declined = count(MemberStatus::Declined);
		let sealed = count(MemberStatus::Committed).saturating_add(count(MemberStatus::Revealed));
		sealed == 0 &&
			declined >= MIN_DECLINES_TO_END as usize &&
			declined.saturating_mul(2) > round.members.len()
	}

	/// Whether a decline sent at block `now` by a member whose commit deadline is
	/// `commit_deadline` comes after the free first half of its commit window: it then holds
	/// its co-replicas (committed and waiting, or still running) about as long as a no-show
	/// would, and is slashed as one (`no_show_slash`, [`Fault::LateDecline`]). A worker decides
	/// whether it can run a job when it sees the assignment, a few blocks after the draw; the
	/// half-window leaves it room for finality lag and a transaction's inclusion.
	///
	/// `commit_window` is the member's own window (its commit deadline minus its draw block,
	/// from `SlotHolds`), so a later change of the parameter does not move it.
	///
	/// A long job's window (longer than `StallTimeout`) is free to decline for half a
	/// `StallTimeout` after the draw only, not for half the window: else a member could hold
	/// a 24-hour job for 12 hours and leave for free.
	pub fn is_late_decline(
		now: BlockNumberFor<T>,
		commit_deadline: BlockNumberFor<T>,
		commit_window: BlockNumberFor<T>,
	) -> bool {
		let two: BlockNumberFor<T> = 2u32.into();
		// Blocks before the deadline from which a decline is late.
		let late_tail = if Self::needs_heartbeats(commit_window) {
			commit_window.saturating_sub(T::StallTimeout::get() / two)
		} else {
			commit_window / two
		};
		now.saturating_add(late_tail) > commit_deadline
	}

	/// Whether member `m` still owes its commit at `now`: drawn, neither committed, declined nor
	/// faulted, and its commit deadline not past. The named error otherwise (a faulted member,
	/// whose deadline passed or who stalled, gets [`Error::CommitDeadlinePassed`]).
	pub(crate) fn ensure_owes_commit(m: &RoundMember<T>, now: BlockNumberFor<T>) -> DispatchResult {
		match m.status {
			MemberStatus::Assigned => {},
			MemberStatus::Committed | MemberStatus::Revealed =>
				return Err(Error::<T>::AlreadyCommitted.into()),
			MemberStatus::Declined => return Err(Error::<T>::AlreadyDeclined.into()),
			MemberStatus::NoShow => return Err(Error::<T>::CommitDeadlinePassed.into()),
		}
		ensure!(now <= m.commit_deadline, Error::<T>::CommitDeadlinePassed);
		Ok(())
	}

	pub(crate) fn do_decline(
		who: T::AccountId,
		job: JobId,
		reason: DeclineReason,
	) -> DispatchResult {
		let mut round = Rounds::<T>::get(job).ok_or(Error::<T>::NoRound)?;
		let now = frame_system::Pallet::<T>::block_number();
		let m = round.members.iter_mut().find(|m| m.who == who).ok_or(Error::<T>::NotAssigned)?;
		Self::ensure_owes_commit(m, now)?;
		let params = T::Jobs::protocol_params();
		// The member's own window (from its draw), so that root changing `commit_window` later
		// neither slashes prompt declines nor frees late ones; the current parameter where the
		// draw block is unknown (a member drawn before slot holds were recorded).
		let window = SlotHolds::<T>::get(job, &who)
			.map(|h| m.commit_deadline.saturating_sub(h.assigned_at))
			.unwrap_or(params.commit_window);
		let late = Self::is_late_decline(now, m.commit_deadline, window);
		m.status = MemberStatus::Declined;
		Rounds::<T>::insert(job, &round);
		Self::release_slot(job, &who);
		if late {
			// Slashed as a no-show: it held its co-replicas as long as one would have.
			Self::fault(job, &who, Fault::LateDecline, params.no_show_slash);
		} else {
			Self::count_disagreement(&who);
		}
		let reputation = Providers::<T>::get(&who)
			.map(|info| Self::reputation_of(&info))
			.ok_or(Error::<T>::NotRegistered)?;
		Self::deposit_event(Event::JobDeclined { job, who, reason, reputation });
		if Self::most_declined(&round) {
			return Self::end_unrunnable(job, &round);
		}
		// No replacement here (the decliner knows this block's parent hash): the next block's
		// hook draws it, see the module docs. Charged to `decline_job`, whose benchmark measures
		// the heavier path above (the job ended as unrunnable).
		Self::schedule(job, now.saturating_add(1u32.into()));
		Ok(())
	}

	/// Close `job`'s round and have the job queue end it as unrunnable, the decliners paid the
	/// owner's deposit.
	fn end_unrunnable(job: JobId, round: &Round<T>) -> DispatchResult {
		let decliners: Vec<T::AccountId> = round
			.members
			.iter()
			.filter(|m| m.status == MemberStatus::Declined)
			.map(|m| m.who.clone())
			.collect();
		let drawn = u32::try_from(round.members.len()).unwrap_or(u32::MAX);
		Self::close_round(job, round);
		T::Jobs::unrunnable(job, decliners.clone())?;
		// At most `MaxMembers` members: nothing is truncated.
		let decliners = BoundedVec::truncate_from(decliners);
		Self::deposit_event(Event::JobUnrunnable { job, decliners, drawn });
		Ok(())
	}
}

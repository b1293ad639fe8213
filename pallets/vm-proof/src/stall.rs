//! Long jobs: job heartbeats and stalled members.
//!
//! A job's commit window follows its run time (the job queue's `commit_window_for`), up to
//! `MaxRunSeconds` (24 hours). A member that took a long job's slot and then stopped (its host
//! died, it never started) must not hold the job for the whole window: a member whose window
//! is longer than [`Config::StallTimeout`] has a [`JobHeartbeats`] entry from its draw on, and
//! must show it is still at work with [`Pallet::job_heartbeat`] at least once every
//! `StallTimeout` blocks until it commits. A member silent for longer is **stalled**: the
//! deadline hook marks it a no-show ([`Fault::Stalled`], slashed `no_show_slash`) and draws its
//! replacement, which gets a whole window of its own.
//!
//! The hook looks at a job when its first member could stall (`StallTimeout + 1` blocks after
//! the draw) and then at the earliest block one of its members could stall next
//! ([`Pallet::next_stall_check`]), never once per heartbeat: a heartbeat only writes its block.
//! A job has one pending stall check at a time ([`StallChecks`]): a later draw wave, a decline
//! or a commit deadline that would look again no earlier than the pending check adds none.
//!
//! A heartbeat at least `StallTimeout / MIN_BEATS_PER_TIMEOUT` blocks after the member's last
//! sign of life is free (`Pays::No`); a closer one pays its fee, so spamming them costs what any
//! transaction costs.

use crate::{pallet::*, types::*};
use frame_support::{dispatch::DispatchResultWithPostInfo, pallet_prelude::*};
use frame_system::pallet_prelude::BlockNumberFor;
use povm_primitives::{JobId, JobLedger};
use sp_runtime::traits::Saturating;

/// Free heartbeats per `StallTimeout`: a heartbeat closer than `StallTimeout / 4` blocks to the
/// member's last one pays its fee.
pub const MIN_BEATS_PER_TIMEOUT: u32 = 4;

impl<T: Config> Pallet<T> {
	/// Whether a member drawn with a commit window of `window` blocks must send job heartbeats:
	/// its window is a long job's (longer than the default `commit_window`) and longer than
	/// `StallTimeout`, so it could otherwise hold the slot that long without a sign of life. A
	/// job that fits the default window never needs them, whatever root sets the window to.
	pub fn needs_heartbeats(window: BlockNumberFor<T>) -> bool {
		window > T::StallTimeout::get().max(T::Jobs::protocol_params().commit_window)
	}

	/// Have the deadline hook look at `job` for stalled members at block `at`, unless a check
	/// already pending comes at or before it (that check schedules the next one).
	pub(crate) fn schedule_stall_check(job: JobId, at: BlockNumberFor<T>) {
		let now = frame_system::Pallet::<T>::block_number();
		if StallChecks::<T>::get(job).is_some_and(|pending| pending > now && pending <= at) {
			return;
		}
		StallChecks::<T>::insert(job, at);
		Self::schedule(job, at);
	}

	/// The stall check of `job` processed at `now`: the pending check is done if it was due,
	/// and the next, if any, is scheduled at `next` (from [`Self::take_stalled`]).
	pub(crate) fn reschedule_stall_check(
		job: JobId,
		next: Option<BlockNumberFor<T>>,
		now: BlockNumberFor<T>,
	) {
		if StallChecks::<T>::get(job).is_some_and(|pending| pending <= now) {
			StallChecks::<T>::remove(job);
		}
		if let Some(at) = next {
			Self::schedule_stall_check(job, at);
		}
	}

	/// Whether a member whose last sign of life (its draw or its last heartbeat) was at `last`
	/// is stalled at block `now`.
	pub fn is_stalled(last: BlockNumberFor<T>, now: BlockNumberFor<T>) -> bool {
		last.saturating_add(T::StallTimeout::get()) < now
	}

	/// The block at which member `m`, whose last sign of life was at `last`, could first be
	/// stalled (`last + StallTimeout + 1`), if that comes no later than its commit deadline
	/// (which is scheduled anyway).
	fn stall_check_of(m: &RoundMember<T>, last: BlockNumberFor<T>) -> Option<BlockNumberFor<T>> {
		let at = last.saturating_add(T::StallTimeout::get()).saturating_add(1u32.into());
		(at <= m.commit_deadline).then_some(at)
	}

	/// The block at which the deadline hook should next look at `round` for stalled members:
	/// the earliest [`Self::stall_check_of`] its members that still owe a commit and have a
	/// heartbeat entry.
	pub(crate) fn next_stall_check(job: JobId, round: &Round<T>) -> Option<BlockNumberFor<T>> {
		round
			.members
			.iter()
			.filter(|m| m.status == MemberStatus::Assigned)
			.filter_map(|m| Self::stall_check_of(m, JobHeartbeats::<T>::get(job, &m.who)?))
			.min()
	}

	/// Mark the members of `round` that are stalled at `now` as no-shows. Returns them (the
	/// caller writes the round and faults them) and the next stall check of the members left
	/// ([`Self::next_stall_check`] of the round after, found in the same pass: one read of
	/// each member's heartbeat entry). Members past their commit deadline must already be
	/// marked.
	pub(crate) fn take_stalled(
		job: JobId,
		round: &mut Round<T>,
		now: BlockNumberFor<T>,
	) -> (alloc::vec::Vec<T::AccountId>, Option<BlockNumberFor<T>>) {
		let mut stalled = alloc::vec::Vec::new();
		let mut next: Option<BlockNumberFor<T>> = None;
		for m in round.members.iter_mut() {
			if m.status != MemberStatus::Assigned || m.commit_deadline < now {
				continue;
			}
			let Some(last) = JobHeartbeats::<T>::get(job, &m.who) else { continue };
			if Self::is_stalled(last, now) {
				m.status = MemberStatus::NoShow;
				stalled.push(m.who.clone());
			} else if let Some(at) = Self::stall_check_of(m, last) {
				next = Some(next.map_or(at, |n| n.min(at)));
			}
		}
		(stalled, next)
	}

	/// [`Pallet::job_heartbeat`]: record `now` as `who`'s last sign of life in `job`.
	pub(crate) fn do_job_heartbeat(who: T::AccountId, job: JobId) -> DispatchResultWithPostInfo {
		let round = Rounds::<T>::get(job).ok_or(Error::<T>::NoRound)?;
		let now = frame_system::Pallet::<T>::block_number();
		let m = round.members.iter().find(|m| m.who == who).ok_or(Error::<T>::NotAssigned)?;
		// Stalled or past its deadline: replaced, it owes nothing any more.
		ensure!(m.status != MemberStatus::NoShow, Error::<T>::NotAssigned);
		Self::ensure_owes_commit(m, now)?;
		let last = JobHeartbeats::<T>::get(job, &who).ok_or(Error::<T>::NoHeartbeatNeeded)?;
		JobHeartbeats::<T>::insert(job, &who, now);
		Self::deposit_event(Event::JobHeartbeat { job, who });
		let gap = T::StallTimeout::get() / MIN_BEATS_PER_TIMEOUT.into();
		if now >= last.saturating_add(gap) {
			Ok(Pays::No.into())
		} else {
			Ok(Pays::Yes.into())
		}
	}

	/// The invariants of job heartbeats (part of [`Pallet::do_try_state`]):
	///
	/// - every heartbeat entry is of a member of an open round, no older than its draw;
	/// - every round whose members owe heartbeats has a stall check pending no later than the
	///   earliest block one of them could stall, and every pending check is of an open round.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub(crate) fn try_state_heartbeats() -> Result<(), sp_runtime::TryRuntimeError> {
		for (job, who, last) in JobHeartbeats::<T>::iter() {
			let round = Rounds::<T>::get(job).ok_or("heartbeat entry of a closed round")?;
			ensure!(round.members.iter().any(|m| m.who == who), "heartbeat entry of a non-member");
			if let Some(hold) = SlotHolds::<T>::get(job, &who) {
				ensure!(last >= hold.assigned_at, "heartbeat before the draw");
			}
		}
		for (job, _) in StallChecks::<T>::iter() {
			ensure!(Rounds::<T>::contains_key(job), "stall check of a closed round");
		}
		for (job, round) in Rounds::<T>::iter() {
			if round.phase != Phase::Committing {
				continue;
			}
			if let Some(due) = Self::next_stall_check(job, &round) {
				let pending = StallChecks::<T>::get(job).ok_or("long job without a stall check")?;
				ensure!(pending <= due, "stall check later than a member could stall");
			}
		}
		Ok(())
	}
}

//! Per-block work: commit and reveal deadlines.

use crate::{pallet::*, types::*, WeightInfo};
use frame_support::{pallet_prelude::*, weights::WeightMeter, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use povm_primitives::JobLedger;
use sp_runtime::traits::Saturating;

/// Log target of this pallet.
pub(crate) const LOG_TARGET: &str = "runtime::vm-proof";

impl<T: Config> Pallet<T> {
	/// Weight of starting a block's deadlines: the measured base (its first page) plus, not
	/// measured, the cursor (read and write) and the block's overflow page count (read).
	pub(crate) fn deadline_block_weight() -> Weight {
		T::WeightInfo::process_deadlines_base()
			.saturating_add(T::DbWeight::get().reads_writes(2, 1))
	}

	/// Weight of one job's deadline: the larger of a reveal deadline settling up to
	/// `MaxMembers` and a commit deadline faulting its no-shows and drawing replacements among
	/// a full candidate list, plus the bookkeeping of a failure (the failure record, and a
	/// retry scheduled on a possibly new overflow page).
	///
	/// A commit deadline also reads each member's job-heartbeat entry once (for stalled
	/// members and the next check, [`crate::stall`]) and may schedule the next stall check:
	/// `MaxMembers` reads, the pending check (a read and a write) and a schedule (two reads,
	/// two writes) on top of the measured weight.
	pub(crate) fn deadline_job_weight() -> Weight {
		let member_reads = u64::from(T::MaxMembers::get());
		let commit_deadline = T::WeightInfo::process_commit_deadline()
			.saturating_add(T::DbWeight::get().reads_writes(member_reads.saturating_add(3), 3))
			.saturating_add(Self::draw_rejections_weight());
		T::WeightInfo::process_deadline(T::MaxMembers::get())
			.saturating_add(Self::trust_weight(T::MaxMembers::get()))
			.max(commit_deadline)
			.saturating_add(T::DbWeight::get().reads_writes(3, 4))
	}

	/// Weight of a `reveal_result` whose verdict tries no draw: the measured last reveal (the
	/// costliest verdict, acceptance by `max_replicas`) and its trust updates.
	pub fn reveal_weight_without_draw() -> Weight {
		T::WeightInfo::reveal_result().saturating_add(Self::trust_weight(T::MaxMembers::get()))
	}

	/// What `commit_result` is refunded to when it tries no draw: the measured last commit,
	/// which opens reveals (`commit_result_without_draw`, its reveal deadline scheduled on the
	/// block's first page), and the schedule's reads and writes of overflow pages when that page
	/// is full (the page count, the last page and a fresh one).
	pub fn commit_weight_without_draw() -> Weight {
		T::WeightInfo::commit_result_without_draw()
			.saturating_add(T::DbWeight::get().reads_writes(3, 3))
	}

	/// What `commit_result` is charged up front: a commit that closes the commits and draws
	/// replacements over a full candidate list, with the draw's most rejections; refunded to
	/// [`Self::commit_weight_without_draw`] when it tries none.
	pub fn commit_weight_with_draw() -> Weight {
		T::WeightInfo::commit_result().saturating_add(Self::draw_rejections_weight())
	}

	/// Weight charged up front for a `reveal_result`: one without a draw, plus a draw of
	/// replacements over a full candidate list. The costliest measured draw of this pallet is a
	/// commit that draws `min_replicas − 1` replacements among every provider
	/// (`WeightInfo::commit_result`); a verdict without a clear majority draws at most as many.
	pub fn reveal_weight_with_draw() -> Weight {
		Self::reveal_weight_without_draw().saturating_add(Self::commit_weight_with_draw())
	}

	/// Process pending deadlines, from [`DeadlineCursor`] up to `now`, within `meter`.
	///
	/// Blocks are taken in order; within a block, its overflow pages (last first), then its
	/// first page. When the meter runs out, the unprocessed jobs stay where they are and the
	/// cursor stays at their block, so the next block resumes there: nothing is moved or lost.
	/// A job whose processing fails is rolled back and retried (see [`Self::deadline_failed`]).
	pub(crate) fn process_deadlines(now: BlockNumberFor<T>, meter: &mut WeightMeter) {
		let start = DeadlineCursor::<T>::get();
		let mut b = start.unwrap_or(now);
		while b <= now {
			if meter.try_consume(Self::deadline_block_weight()).is_err() {
				break;
			}
			if !Self::process_block_deadlines(b, now, meter) {
				break;
			}
			b = b.saturating_add(1u32.into());
		}
		if start != Some(b) {
			DeadlineCursor::<T>::put(b);
		}
	}

	/// Process the deadlines listed for block `b`. Returns whether all of them were processed.
	fn process_block_deadlines(
		b: BlockNumberFor<T>,
		now: BlockNumberFor<T>,
		meter: &mut WeightMeter,
	) -> bool {
		let pages = DeadlineOverflowPages::<T>::get(b);
		let mut page = pages;
		while page > 0 {
			let done = meter.try_consume(T::DbWeight::get().reads_writes(1, 2)).is_ok() && {
				let jobs = DeadlineOverflow::<T>::take(b, page);
				let rest = Self::process_jobs(jobs, now, meter);
				let done = rest.is_empty();
				if !done {
					DeadlineOverflow::<T>::insert(b, page, rest);
				}
				done
			};
			if !done {
				DeadlineOverflowPages::<T>::insert(b, page);
				return false;
			}
			page = page.saturating_sub(1);
		}
		if pages > 0 {
			DeadlineOverflowPages::<T>::remove(b);
		}
		if !Deadlines::<T>::contains_key(b) {
			return true;
		}
		let rest = Self::process_jobs(Deadlines::<T>::take(b), now, meter);
		if rest.is_empty() {
			return true;
		}
		Deadlines::<T>::insert(b, rest);
		false
	}

	/// Process `jobs` in order while the meter allows; returns the jobs left unprocessed.
	fn process_jobs(
		jobs: BoundedVec<JobId, T::MaxDeadlinesPerBlock>,
		now: BlockNumberFor<T>,
		meter: &mut WeightMeter,
	) -> BoundedVec<JobId, T::MaxDeadlinesPerBlock> {
		let per_job = Self::deadline_job_weight();
		let mut jobs = jobs.into_inner();
		for i in 0..jobs.len() {
			if meter.try_consume(per_job).is_err() {
				return BoundedVec::truncate_from(jobs.split_off(i));
			}
			let job = jobs[i];
			let res =
				frame_support::storage::with_storage_layer(|| Self::process_deadline(job, now));
			match res {
				Ok(()) => FailedDeadlines::<T>::remove(job),
				Err(error) => Self::deadline_failed(job, now, error),
			}
		}
		BoundedVec::default()
	}

	/// Record a failed (rolled back) deadline of `job` at `now`.
	///
	/// The job is tried again after `DeadlineRetryDelay × 2^(attempts − 1)` blocks; after
	/// `MaxDeadlineAttempts` failures in a row it is no longer retried: it stays in
	/// [`FailedDeadlines`] with no retry, and waits for [`Pallet::force_dispute`]. A job that
	/// fails every time therefore costs at most `MaxDeadlineAttempts` attempts, ever further
	/// apart.
	pub(crate) fn deadline_failed(job: JobId, now: BlockNumberFor<T>, error: DispatchError) {
		let before = FailedDeadlines::<T>::get(job);
		let attempts = before.map_or(0, |f| f.attempts).saturating_add(1);
		if attempts >= T::MaxDeadlineAttempts::get() {
			log::error!(
				target: LOG_TARGET,
				"deadline of {} failed {} times, left for force_dispute: {:?}",
				job,
				attempts,
				error
			);
			FailedDeadlines::<T>::insert(job, DeadlineFailure { attempts, retry_at: None });
			// A job already given up may still fail on an older pending deadline: say it once.
			if before.is_none_or(|f| f.retry_at.is_some()) {
				Self::deposit_event(Event::DeadlineAbandoned { job, attempts, error });
			}
			return;
		}
		let factor: BlockNumberFor<T> = (1u32 << attempts.saturating_sub(1).min(16)).into();
		let retry_at = now.saturating_add(T::DeadlineRetryDelay::get().saturating_mul(factor));
		log::warn!(
			target: LOG_TARGET,
			"deadline of {} failed (attempt {}), retry at {:?}: {:?}",
			job,
			attempts,
			retry_at,
			error
		);
		Self::schedule(job, retry_at);
		FailedDeadlines::<T>::insert(job, DeadlineFailure { attempts, retry_at: Some(retry_at) });
		Self::deposit_event(Event::DeadlineRetryScheduled { job, attempts, retry_at, error });
	}

	/// Put `job` in the deadline list of block `at` (at the earliest the next block, which the
	/// hook has not started). Cannot fail: when the block's first page ([`Deadlines`]) is full,
	/// the job goes on the block's last overflow page, or a new one. A job already on the
	/// first page is not added twice; processing a deadline twice is harmless (the second time
	/// finds nothing overdue).
	pub(crate) fn schedule(job: JobId, at: BlockNumberFor<T>) {
		let next = frame_system::Pallet::<T>::block_number().saturating_add(1u32.into());
		let at = at.max(next);
		if Deadlines::<T>::mutate(at, |v| v.contains(&job) || v.try_push(job).is_ok()) {
			return;
		}
		let placed = DeadlineOverflowPages::<T>::mutate(at, |pages| {
			if *pages > 0 && DeadlineOverflow::<T>::mutate(at, *pages, |v| v.try_push(job).is_ok())
			{
				return true;
			}
			// A fresh page has room, since `MaxDeadlinesPerBlock >= 1`. Page numbers cannot run
			// out: each page holds at least one job, and 2^32 weighed calls cannot target one
			// block.
			match pages.checked_add(1) {
				Some(p) => {
					*pages = p;
					DeadlineOverflow::<T>::mutate(at, p, |v| v.try_push(job).is_ok())
				},
				None => false,
			}
		});
		if !placed {
			log::error!(target: LOG_TARGET, "deadline of {} at {:?} not placed", job, at);
		}
	}

	/// Fault the members of `job` that missed a deadline passed at `now`, then move on: in the
	/// commit phase, close the commits if no member is left to commit (drawing replacements for
	/// no-shows and decliners), else replace the members that left while too few remain
	/// ([`Self::replace_leavers`]); at a reveal deadline take the verdict.
	///
	/// Also run for the block after a decline (which schedules its job there), and harmless at
	/// any block: it finds nothing overdue and draws only while too few members remain.
	pub(crate) fn process_deadline(job: JobId, now: BlockNumberFor<T>) -> DispatchResult {
		let Some(mut round) = Rounds::<T>::get(job) else { return Ok(()) };
		let params = T::Jobs::protocol_params();
		match round.phase {
			Phase::Committing => {
				let mut missed = alloc::vec::Vec::new();
				for m in round.members.iter_mut() {
					if m.status == MemberStatus::Assigned && m.commit_deadline < now {
						m.status = MemberStatus::NoShow;
						missed.push(m.who.clone());
					}
				}
				let (stalled, next_check) = Self::take_stalled(job, &mut round, now);
				if !missed.is_empty() || !stalled.is_empty() {
					Rounds::<T>::insert(job, &round);
					for who in missed.iter() {
						Self::release_slot(job, who);
						Self::fault(job, who, Fault::CommitNoShow, params.no_show_slash);
					}
					for who in stalled.iter() {
						Self::release_slot(job, who);
						Self::fault(job, who, Fault::Stalled, params.no_show_slash);
					}
				}
				// The members still at work on a long job: look again when the first of them
				// could stall (a replacement drawn below schedules its own).
				Self::reschedule_stall_check(job, next_check, now);
				// Also with nobody missed: a decline schedules its job for the next block, whose
				// hook draws the replacement here (`decline_job` never draws). While members still
				// have to commit, only the members that left are replaced; once nobody is left,
				// the commits close (drawing what is missing).
				if round.members.iter().any(|m| m.status == MemberStatus::Assigned) {
					Self::replace_leavers(job, &round)
				} else {
					Self::maybe_close_commits(job, now, DrawError::Propagate).map(|_| ())
				}
			},
			Phase::Revealing { deadline } => {
				if deadline >= now {
					return Ok(());
				}
				let mut missed = alloc::vec::Vec::new();
				for m in round.members.iter_mut() {
					if m.status == MemberStatus::Committed {
						m.status = MemberStatus::NoShow;
						missed.push(m.who.clone());
					}
				}
				Rounds::<T>::insert(job, &round);
				for who in missed.iter() {
					Self::release_slot(job, who);
					Self::fault(job, who, Fault::RevealNoShow, Self::reveal_no_show_slash(&params));
				}
				Self::evaluate(job).map(|_| ())
			},
		}
	}
}

impl<T: Config> Pallet<T> {
	/// The invariants of deadline processing (part of [`Pallet::do_try_state`]).
	///
	/// # Invariants
	///
	/// - No deadline list lies before [`DeadlineCursor`] (processed lists are removed), and
	///   overflow pages of a block are numbered within its [`DeadlineOverflowPages`] count.
	/// - Every open round has a pending deadline (on a first or overflow page), or has been
	///   given up (in [`FailedDeadlines`] without a retry) and waits for `force_dispute`.
	/// - Every failure record belongs to an open round, and a record with a retry has the job
	///   on a list of its retry block.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub(crate) fn try_state_deadlines() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_set::BTreeSet;
		let cursor = DeadlineCursor::<T>::get();
		let after_cursor = |b: BlockNumberFor<T>| cursor.is_none_or(|c| b >= c);
		let mut pending: BTreeSet<JobId> = BTreeSet::new();
		for (b, jobs) in Deadlines::<T>::iter() {
			ensure!(after_cursor(b), "deadline list before the cursor");
			pending.extend(jobs.iter().copied());
		}
		for (b, page, jobs) in DeadlineOverflow::<T>::iter() {
			ensure!(after_cursor(b), "overflow page before the cursor");
			ensure!(
				page >= 1 && page <= DeadlineOverflowPages::<T>::get(b),
				"overflow page beyond its block's count"
			);
			pending.extend(jobs.iter().copied());
		}
		for job in Rounds::<T>::iter_keys() {
			let given_up = FailedDeadlines::<T>::get(job).is_some_and(|f| f.retry_at.is_none());
			ensure!(pending.contains(&job) || given_up, "open round without a pending deadline");
		}
		for (job, failure) in FailedDeadlines::<T>::iter() {
			ensure!(Rounds::<T>::contains_key(job), "failure record of a closed round");
			if let Some(at) = failure.retry_at {
				let listed = Deadlines::<T>::get(at).contains(&job) ||
					(1..=DeadlineOverflowPages::<T>::get(at))
						.any(|p| DeadlineOverflow::<T>::get(at, p).contains(&job));
				ensure!(listed, "retry not scheduled at its block");
			}
		}
		Ok(())
	}
}

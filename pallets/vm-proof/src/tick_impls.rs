//! Per-block work: commit and reveal deadlines.

use crate::{pallet::*, types::*, WeightInfo};
use frame_support::{pallet_prelude::*, weights::WeightMeter};
use frame_system::pallet_prelude::BlockNumberFor;
use povm_primitives::JobLedger;
use sp_runtime::traits::Saturating;

/// Log target of this pallet.
pub(crate) const LOG_TARGET: &str = "runtime::vm-proof";

impl<T: Config> Pallet<T> {
	/// Process the jobs whose deadlines fall at `now`, within `meter`. What does not fit moves
	/// to the next block.
	pub(crate) fn process_deadlines(now: BlockNumberFor<T>, meter: &mut WeightMeter) {
		if meter.try_consume(T::WeightInfo::process_deadlines_base()).is_err() {
			return;
		}
		if !Deadlines::<T>::contains_key(now) {
			return;
		}
		let due = Deadlines::<T>::take(now);
		// A reveal deadline settles up to `MaxMembers`; a commit deadline faults its no-shows
		// and may draw replacements among a full candidate list: charge the larger.
		let per_job = T::WeightInfo::process_deadline(T::MaxMembers::get())
			.max(T::WeightInfo::process_commit_deadline());
		let next = now.saturating_add(1u32.into());
		for (i, job) in due.iter().enumerate() {
			if meter.try_consume(per_job).is_err() {
				for later in due.iter().skip(i) {
					if Self::schedule(*later, next).is_err() {
						log::error!(target: LOG_TARGET, "deadline of {} lost", later);
					}
				}
				break;
			}
			let res =
				frame_support::storage::with_storage_layer(|| Self::process_deadline(*job, now));
			if let Err(e) = res {
				log::error!(target: LOG_TARGET, "deadline of {} failed: {:?}", job, e);
			}
		}
	}

	/// Fault the members of `job` that missed a deadline passed at `now`, then move on.
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
				if missed.is_empty() {
					return Ok(());
				}
				Rounds::<T>::insert(job, &round);
				for who in missed.iter() {
					Self::release_slot(job, who);
					Self::fault(job, who, Fault::CommitNoShow, params.no_show_slash);
				}
				Self::maybe_close_commits(job, now)
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
				Self::evaluate(job)
			},
		}
	}
}

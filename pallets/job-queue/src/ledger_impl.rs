//! The job queue as seen by the vm-proof pallet ([`JobLedger`]).

use crate::{pallet::*, types::*};
use alloc::vec::Vec;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use povm_primitives::{JobLedger, JobTerms, Settlement};
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> JobLedger<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> for Pallet<T> {
	fn job_terms(job: JobId) -> Option<JobTerms<T::AccountId, BalanceOf<T>>> {
		Jobs::<T>::get(job).map(|j| JobTerms {
			owner: j.owner,
			state: j.state,
			resources: j.spec.resources,
			price_per_second: j.spec.price_per_second,
			redundancy: j.spec.redundancy,
			providers: j.providers.into_inner(),
		})
	}

	fn protocol_params() -> ProtocolParamsOf<T> {
		Params::<T>::get()
	}

	fn set_revealing(id: JobId, reveal_deadline: BlockNumberFor<T>) -> DispatchResult {
		Jobs::<T>::try_mutate(id, |maybe| {
			let job = maybe.as_mut().ok_or(Error::<T>::JobNotFound)?;
			ensure!(job.state == JobState::Assigned, Error::<T>::BadState);
			job.state = JobState::Revealing;
			job.reveal_deadline = Some(reveal_deadline);
			Ok::<_, DispatchError>(())
		})?;
		Self::deposit_event(Event::JobRevealing { job: id, reveal_deadline });
		Ok(())
	}

	fn assign_more(id: JobId, count: u32) -> Result<Vec<T::AccountId>, DispatchError> {
		frame_support::storage::with_storage_layer(|| Self::do_assign_more(id, count))
	}

	fn complete(id: JobId, s: Settlement<T::AccountId, BalanceOf<T>>) -> DispatchResult {
		let mut job = Jobs::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
		ensure!(job.state.is_open() && job.state != JobState::Queued, Error::<T>::BadState);
		// Only an output that hashes to the digest the replicas agreed on is ever published.
		ensure!(
			povm_primitives::attestation::output_digest(&s.output) == s.output_digest,
			Error::<T>::OutputDigestMismatch
		);
		ensure!(
			s.outcome.map_or(true, |o| o.result_digest() == s.result_digest),
			Error::<T>::OutcomeMismatch
		);
		let (payments, refunded) = Self::pay_from_escrow(&job, s.payments)?;
		job.budget = Zero::zero();
		job.state = JobState::Completed;
		Jobs::<T>::insert(id, job);
		Results::<T>::insert(
			id,
			JobResult {
				result_digest: s.result_digest,
				checkpoints_root: s.checkpoints_root,
				output: s.output.clone(),
				usage: s.usage,
				footprint: s.footprint,
				payments: payments.clone(),
				refunded,
			},
		);
		if let Some(outcome) = s.outcome {
			Outcomes::<T>::insert(id, outcome);
		}
		Self::deposit_event(Event::JobCompleted {
			job: id,
			result_digest: s.result_digest,
			checkpoints_root: s.checkpoints_root,
			output: s.output,
			usage: s.usage,
			energy_uwh: s.footprint.energy_uwh,
			carbon_ug: s.footprint.carbon_ug,
			payments,
			refunded,
			first_divergence: s.first_divergence,
		});
		Ok(())
	}

	fn dispute(
		id: JobId,
		first_divergence: Option<u32>,
		payments: Vec<(T::AccountId, BalanceOf<T>)>,
	) -> DispatchResult {
		let mut job = Jobs::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
		ensure!(job.state.is_open() && job.state != JobState::Queued, Error::<T>::BadState);
		let (payments, refunded) = Self::pay_from_escrow(&job, payments)?;
		job.budget = Zero::zero();
		job.state = JobState::Disputed;
		Jobs::<T>::insert(id, job);
		Self::deposit_event(Event::JobDisputed { job: id, first_divergence, payments, refunded });
		Ok(())
	}

	fn unrunnable(id: JobId, decliners: Vec<T::AccountId>) -> DispatchResult {
		let job = Jobs::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
		ensure!(job.state.is_open() && job.state != JobState::Queued, Error::<T>::BadState);
		// Nobody ran the job: the whole escrow goes back.
		let (_, refunded) = Self::pay_from_escrow(&job, Vec::new())?;
		let (deposit_paid, deposit_refunded) = Self::split_deposit(&job, decliners)?;
		Jobs::<T>::remove(id);
		Self::deposit_event(Event::JobUnrunnable {
			job: id,
			refunded,
			deposit_paid,
			deposit_refunded,
		});
		Ok(())
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn bench_assigned_job(
		owner: T::AccountId,
		providers: Vec<T::AccountId>,
	) -> Result<JobId, DispatchError> {
		let spec = crate::benchmarking::bench_spec::<T>(providers.len() as u32);
		let budget = Self::max_cost(&spec).ok_or(Error::<T>::Overflow)?;
		crate::benchmarking::fund::<T>(&owner, &spec);
		Self::do_submit_job(owner, spec, budget)?;
		let id = Counters::<T>::get().next_job_id.saturating_sub(1);
		let mut job = Jobs::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
		job.providers = providers.try_into().map_err(|_| Error::<T>::TooManyReplicas)?;
		Self::dequeue(id, job.expires_at);
		let commit_deadline = Self::open_commit_windows(id, &job.spec, &job.providers)?;
		job.state = JobState::Assigned;
		job.commit_deadline = Some(commit_deadline);
		Jobs::<T>::insert(id, job);
		Ok(id)
	}
}

impl<T: Config> Pallet<T> {
	/// Pay `payments` out of `job`'s escrow in order, each cut to what is left, and release the
	/// rest to the owner. Returns what was paid (as recorded) and what was refunded; the caller
	/// zeroes the job's budget.
	fn pay_from_escrow(
		job: &Job<T>,
		requested: Vec<(T::AccountId, BalanceOf<T>)>,
	) -> Result<(PaymentsOf<T>, BalanceOf<T>), DispatchError> {
		Self::pay_from_holds([(HoldReason::JobBudget, job.budget)], &job.owner, requested)
	}

	/// Pay `job`'s storage deposit to `decliners` in equal shares and release the indivisible
	/// rest (all of it when there is no decliner) to the owner. Returns the shares paid and
	/// the rest released.
	fn split_deposit(
		job: &Job<T>,
		decliners: Vec<T::AccountId>,
	) -> Result<(PaymentsOf<T>, BalanceOf<T>), DispatchError> {
		let n = BalanceOf::<T>::from(u32::try_from(decliners.len()).unwrap_or(u32::MAX));
		let share = if n.is_zero() { Zero::zero() } else { job.deposit / n };
		let shares = decliners.into_iter().map(|who| (who, share)).collect();
		Self::pay_from_holds(Self::deposit_holds(&job.owner, job.deposit), &job.owner, shares)
	}

	/// Pay `requested` in order out of the funds `owner` holds in `pools` (each a hold reason
	/// and the amount of it that is this job's, drawn in order), each payment cut to what is
	/// left, and release the rest to `owner`. Returns what was paid (as recorded) and what was
	/// released.
	fn pay_from_holds<const N: usize>(
		mut pools: [(HoldReason, BalanceOf<T>); N],
		owner: &T::AccountId,
		requested: Vec<(T::AccountId, BalanceOf<T>)>,
	) -> Result<(PaymentsOf<T>, BalanceOf<T>), DispatchError> {
		let mut payments = PaymentsOf::<T>::default();
		for (who, amount) in requested {
			let mut paid = BalanceOf::<T>::zero();
			for (reason, left) in pools.iter_mut() {
				let part = amount.saturating_sub(paid).min(*left);
				if part.is_zero() {
					continue;
				}
				T::Currency::transfer_on_hold(
					&(*reason).into(),
					owner,
					&who,
					part,
					Precision::Exact,
					Restriction::Free,
					Fortitude::Polite,
				)?;
				*left = left.saturating_sub(part);
				paid = paid.saturating_add(part);
			}
			payments.try_push((who, paid)).map_err(|_| Error::<T>::TooManyReplicas)?;
		}
		let mut refunded = BalanceOf::<T>::zero();
		for (reason, left) in pools {
			if !left.is_zero() {
				let released =
					T::Currency::release(&reason.into(), owner, left, Precision::BestEffort)?;
				refunded = refunded.saturating_add(released);
			}
		}
		Ok((payments, refunded))
	}

	fn do_assign_more(id: JobId, count: u32) -> Result<Vec<T::AccountId>, DispatchError> {
		let mut job = Jobs::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
		ensure!(
			matches!(job.state, JobState::Assigned | JobState::Revealing),
			Error::<T>::BadState
		);
		let room = T::MaxAssignees::get().saturating_sub(job.providers.len() as u32);
		let count = count.min(room);
		if count == 0 {
			return Ok(Vec::new());
		}
		let drawn =
			Self::draw(id, job.providers.len() as u32, &job.spec, count, &job.providers).providers;
		if drawn.is_empty() {
			return Ok(drawn);
		}
		let added: ProvidersOf<T> =
			drawn.clone().try_into().map_err(|_| Error::<T>::TooManyReplicas)?;
		for p in added.iter() {
			job.providers.try_push(p.clone()).map_err(|_| Error::<T>::TooManyReplicas)?;
		}
		job.state = JobState::Assigned;
		job.reveal_deadline = None;
		// Save before calling out: the registry must see the job's providers.
		Jobs::<T>::insert(id, &job);
		let commit_deadline = Self::open_commit_windows(id, &job.spec, &added)?;
		Jobs::<T>::mutate(id, |j| {
			if let Some(j) = j {
				j.commit_deadline = Some(commit_deadline)
			}
		});
		Self::deposit_event(Event::JobReassigned { job: id, added, commit_deadline });
		Ok(drawn)
	}
}

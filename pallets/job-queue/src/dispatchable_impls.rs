//! Implementations of the calls (`do_*`).

use crate::{pallet::*, types::*};
use codec::Encode;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, InspectHold, MutateHold},
		tokens::{Fortitude, Precision, Preservation},
	},
};
use povm_primitives::ProviderRegistry;
use sp_runtime::{
	traits::{CheckedAdd, CheckedMul, SaturatedConversion, Saturating, Zero},
	DispatchResult,
};

/// What a submission did, for its weight: whether it evicted a queued job, and whether its
/// price level already held a ready job (no level mask changed).
pub(crate) struct Submitted {
	pub evicted: bool,
	pub joined_ready_level: bool,
}

impl<T: Config> Pallet<T> {
	/// Whether `params` are within range.
	pub fn params_valid(params: &ProtocolParamsOf<T>) -> bool {
		!params.queue_timeout.is_zero() &&
			Self::fits_commit_window(1, params) &&
			!params.reveal_window.is_zero() &&
			params.max_replicas >= 1 &&
			params.max_replicas <= T::MaxReplicas::get() &&
			params.max_assignments_per_block >= 1 &&
			params.max_assignments_per_block <= T::MaxQueueLen::get()
	}

	/// Milliseconds a member needs for a job of `max_seconds`: its run plus
	/// `START_MARGIN_SECS`.
	fn run_ms(max_seconds: u32) -> u64 {
		(max_seconds as u64).saturating_add(START_MARGIN_SECS).saturating_mul(1000)
	}

	/// Whether a job of `max_seconds` plus `START_MARGIN_SECS` fits in `params.commit_window`
	/// blocks of `MillisecsPerBlock`.
	pub fn fits_commit_window(max_seconds: u32, params: &ProtocolParamsOf<T>) -> bool {
		let window_ms = params
			.commit_window
			.saturated_into::<u64>()
			.saturating_mul(T::MillisecsPerBlock::get());
		Self::run_ms(max_seconds) <= window_ms
	}

	/// The commit window of a job that runs for at most `max_seconds`: `params.commit_window`
	/// when the run plus `START_MARGIN_SECS` fits in it; else a long job's window, the blocks
	/// of `MillisecsPerBlock` its run plus `START_MARGIN_SECS` takes (rounded up) plus a whole
	/// `params.commit_window` of slack for fetching its image and inputs, finality lag and the
	/// commit: the slack a short job has. A long job's members are not left alone for that
	/// long: they send job heartbeats (vm-proof's `StallTimeout`).
	pub fn commit_window_for(
		max_seconds: u32,
		params: &ProtocolParamsOf<T>,
	) -> frame_system::pallet_prelude::BlockNumberFor<T> {
		if Self::fits_commit_window(max_seconds, params) {
			return params.commit_window;
		}
		let run_blocks: frame_system::pallet_prelude::BlockNumberFor<T> = Self::run_ms(max_seconds)
			.div_ceil(T::MillisecsPerBlock::get().max(1))
			.saturated_into();
		run_blocks.saturating_add(params.commit_window)
	}

	/// `providers` were drawn for job `id` (of `spec`): the registry opens their commit
	/// windows, sized to the job ([`Self::commit_window_for`]). Returns the commit deadline.
	pub(crate) fn open_commit_windows(
		id: JobId,
		spec: &JobSpecOf<T>,
		providers: &[T::AccountId],
	) -> Result<frame_system::pallet_prelude::BlockNumberFor<T>, DispatchError> {
		let window = Self::commit_window_for(spec.resources.max_seconds, &Params::<T>::get());
		T::Providers::on_assigned(id, providers, window)
	}

	/// Checks a spec; returns the minimum budget it needs.
	pub fn validate_spec(spec: &JobSpecOf<T>) -> Result<BalanceOf<T>, Error<T>> {
		Self::validate_image(&spec.image)?;
		Self::validate_inputs(spec)?;
		Self::validate_text(spec)?;
		let r = &spec.resources;
		ensure!(
			r.millicores > 0 && r.memory_mib > 0 && r.max_seconds > 0,
			Error::<T>::ZeroResources
		);
		ensure!(r.within_physical_bounds(), Error::<T>::ResourcesTooLarge);
		ensure!(r.max_seconds <= T::MaxRunSeconds::get(), Error::<T>::RunTimeTooLong);
		let params = Params::<T>::get();
		ensure!(!spec.price_per_second.is_zero(), Error::<T>::ZeroPrice);
		let p = &spec.redundancy;
		ensure!(p.min_replicas >= 1, Error::<T>::ZeroMinReplicas);
		ensure!(p.max_replicas >= p.min_replicas, Error::<T>::MaxBelowMin);
		ensure!(p.max_replicas <= params.max_replicas, Error::<T>::TooManyReplicas);
		ensure!(p.margin >= 1, Error::<T>::ZeroMargin);
		ensure!(p.margin <= p.max_replicas, Error::<T>::MarginUnreachable);
		Self::max_cost(spec).ok_or(Error::<T>::Overflow)
	}

	/// Checks that a registry the image is pulled from is named `host[:port]/path` (see
	/// [`povm_primitives::is_repository`]).
	fn validate_image(image: &povm_primitives::ImageRef) -> Result<(), Error<T>> {
		if let Some(registry) = &image.registry {
			ensure!(povm_primitives::is_repository(&registry.repository), Error::<T>::BadImageRef);
		}
		Ok(())
	}

	/// Checks every input: a plain file name used once, an `http(s)` URL without credentials,
	/// and a size of at most [`povm_primitives::MAX_INPUT_BYTES`].
	fn validate_inputs(spec: &JobSpecOf<T>) -> Result<(), Error<T>> {
		use povm_primitives::{is_input_name, is_input_url, MAX_INPUT_BYTES};
		for (i, input) in spec.inputs.iter().enumerate() {
			ensure!(is_input_name(&input.name), Error::<T>::BadInputName);
			ensure!(
				!spec.inputs[..i].iter().any(|earlier| earlier.name == input.name),
				Error::<T>::DuplicateInputName
			);
			ensure!(is_input_url(&input.url), Error::<T>::BadInputUrl);
			ensure!(input.size <= MAX_INPUT_BYTES, Error::<T>::InputTooLarge);
		}
		Ok(())
	}

	/// Checks that the command, arguments and environment are text a worker can hand to a
	/// process (see [`povm_primitives::is_exec_text`] and [`povm_primitives::is_env_name`]).
	fn validate_text(spec: &JobSpecOf<T>) -> Result<(), Error<T>> {
		use povm_primitives::{is_env_name, is_exec_text};
		ensure!(is_exec_text(&spec.command), Error::<T>::BadCommand);
		ensure!(spec.args.iter().all(|a| is_exec_text(a)), Error::<T>::BadArg);
		ensure!(
			spec.env.iter().all(|e| is_env_name(&e.key) && is_exec_text(&e.value)),
			Error::<T>::BadEnvVar
		);
		Ok(())
	}

	/// `max_replicas × max_seconds × price_per_second`, if it does not overflow.
	pub fn max_cost(spec: &JobSpecOf<T>) -> Option<BalanceOf<T>> {
		spec.price_per_second
			.checked_mul(&BalanceOf::<T>::from(spec.redundancy.max_replicas))?
			.checked_mul(&BalanceOf::<T>::from(spec.resources.max_seconds))
	}

	/// The size of `spec` in steps of the benchmarks' spec-size component
	/// ([`crate::SPEC_SIZE_STEPS`]): the largest of its encoded length as a share of the
	/// largest spec's and each list's items (arguments, variables, inputs) as a share of the
	/// list's bound, rounded up. The benchmark's spec of that step is at least as long (its
	/// fixed fields count in full) and has at least as many items in each list, so the charge
	/// covers a spec of many tiny items as well as one of a few long ones.
	pub fn spec_size_steps(spec: &JobSpecOf<T>) -> u32 {
		let steps = u64::from(crate::SPEC_SIZE_STEPS);
		let share = |part: u64, whole: u64| part.saturating_mul(steps).div_ceil(whole.max(1));
		let bytes = share(spec.encoded_size() as u64, JobSpecOf::<T>::max_encoded_len() as u64);
		let items = [
			share(spec.args.len() as u64, povm_primitives::MAX_ARGS.into()),
			share(spec.env.len() as u64, povm_primitives::MAX_ENV.into()),
			share(spec.inputs.len() as u64, povm_primitives::MAX_INPUTS.into()),
		];
		items.into_iter().fold(bytes, u64::max).min(steps) as u32
	}

	/// Storage deposit for a spec.
	pub fn deposit_for(spec: &JobSpecOf<T>) -> Option<BalanceOf<T>> {
		let len = u32::try_from(spec.encoded_size()).ok()?;
		T::DepositPerByte::get()
			.checked_mul(&BalanceOf::<T>::from(len))?
			.checked_add(&T::DepositBase::get())
	}

	/// Returns which of the benchmarked paths the submission took.
	pub(crate) fn do_submit_job(
		who: T::AccountId,
		spec: JobSpecOf<T>,
		budget: BalanceOf<T>,
	) -> Result<Submitted, DispatchError> {
		let min_budget = Self::validate_spec(&spec)?;
		ensure!(budget >= min_budget, Error::<T>::BudgetTooLow);
		let deposit = Self::deposit_for(&spec).ok_or(Error::<T>::Overflow)?;
		let escrow = budget.checked_add(&deposit).ok_or(Error::<T>::Overflow)?;
		// Spendable funds only: a hold may take frozen (locked) funds, which the escrow must
		// not (its payments would then move locked funds to providers).
		ensure!(
			T::Currency::reducible_balance(&who, Preservation::Preserve, Fortitude::Polite) >=
				escrow,
			Error::<T>::InsufficientBalance
		);

		let now = frame_system::Pallet::<T>::block_number();
		let expires_at = now.saturating_add(Params::<T>::get().queue_timeout);
		let counters = Counters::<T>::get();
		let id = counters.next_job_id;
		let next_job_id = id.checked_add(1).ok_or(Error::<T>::Overflow)?;

		// A full queue takes a job only at a higher price level than its cheapest, evicted.
		let price = spec.price_per_second;
		let level = Self::level_of(price);
		let victim = if counters.queued >= T::MaxQueueLen::get() {
			Some(Self::eviction_victim(level).ok_or(Error::<T>::QueueFull)?)
		} else {
			None
		};

		// One hold for the budget and the deposit.
		T::Currency::hold(&HoldReason::JobBudget.into(), &who, escrow)
			.map_err(|_| Error::<T>::InsufficientBalance)?;

		let evicted = victim.is_some();
		if let Some(victim) = victim {
			Self::evict(victim, id)?;
		}
		let joined_ready_level = Self::enqueue(id, level, expires_at);
		// An eviction took one job out (and counted it out).
		let queued = Counters::<T>::get().queued.saturating_add(1);
		Counters::<T>::put(JobCounters { next_job_id, queued });
		Jobs::<T>::insert(
			id,
			Job {
				owner: who.clone(),
				spec,
				budget,
				deposit,
				state: JobState::Queued,
				submitted_at: now,
				expires_at,
				providers: Default::default(),
				commit_deadline: None,
				reveal_deadline: None,
			},
		);
		Self::deposit_event(Event::JobSubmitted {
			job: id,
			owner: who,
			budget,
			deposit,
			price_per_second: price,
			expires_at,
		});
		Ok(Submitted { evicted, joined_ready_level })
	}

	pub(crate) fn do_cancel_job(who: T::AccountId, id: JobId) -> DispatchResult {
		let job = Jobs::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
		ensure!(job.owner == who, Error::<T>::NotOwner);
		ensure!(job.state == JobState::Queued, Error::<T>::NotQueued);
		Self::dequeue(id, job.expires_at);
		let refunded = Self::refund_and_remove(id, &job)?;
		Self::deposit_event(Event::JobCancelled { job: id, refunded });
		Ok(())
	}

	pub(crate) fn do_reap_job(who: T::AccountId, id: JobId) -> DispatchResult {
		let job = Jobs::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
		ensure!(job.owner == who, Error::<T>::NotOwner);
		ensure!(!job.state.is_open(), Error::<T>::NotFinished);
		Self::release_deposit(&job.owner, job.deposit)?;
		Jobs::<T>::remove(id);
		Results::<T>::remove(id);
		Outcomes::<T>::remove(id);
		Self::deposit_event(Event::JobReaped { job: id, deposit: job.deposit });
		Ok(())
	}

	/// Take the queued job `victim` (met at `level`, at `place` of its line when met there)
	/// out of the full queue for job `by`, refunded. A victim without a queued record (which
	/// the invariants rule out) is only removed from the index ([`Self::drop_stale`]).
	fn evict((victim, level, place): (JobId, u16, Option<u64>), by: JobId) -> DispatchResult {
		let Some(job) = Jobs::<T>::get(victim).filter(|j| j.state == JobState::Queued) else {
			Self::drop_stale(victim, level, place);
			return Ok(());
		};
		Self::dequeue(victim, job.expires_at);
		let refunded = Self::refund_and_remove(victim, &job)?;
		Self::deposit_event(Event::JobEvicted { job: victim, by, refunded });
		Ok(())
	}

	/// Release a queued job's budget and deposit and remove its record. Returns the total
	/// released. The caller takes it out of the queue ([`Self::dequeue`]).
	pub(crate) fn refund_and_remove(
		id: JobId,
		job: &Job<T>,
	) -> Result<BalanceOf<T>, DispatchError> {
		let budget = T::Currency::release(
			&HoldReason::JobBudget.into(),
			&job.owner,
			job.budget,
			Precision::BestEffort,
		)?;
		let deposit = Self::release_deposit(&job.owner, job.deposit)?;
		Jobs::<T>::remove(id);
		Ok(budget.saturating_add(deposit))
	}

	/// Where `owner`'s deposit of `deposit` for one job is held: first what is left under
	/// `JobDeposit` (deposits held apart before spec 117), the rest under `JobBudget`.
	pub(crate) fn deposit_holds(
		owner: &T::AccountId,
		deposit: BalanceOf<T>,
	) -> [(HoldReason, BalanceOf<T>); 2] {
		let apart =
			T::Currency::balance_on_hold(&HoldReason::JobDeposit.into(), owner).min(deposit);
		[(HoldReason::JobDeposit, apart), (HoldReason::JobBudget, deposit.saturating_sub(apart))]
	}

	/// Release `owner`'s deposit of `deposit` for one job ([`Self::deposit_holds`]). Returns
	/// what was released.
	pub(crate) fn release_deposit(
		owner: &T::AccountId,
		deposit: BalanceOf<T>,
	) -> Result<BalanceOf<T>, DispatchError> {
		let mut released = BalanceOf::<T>::zero();
		for (reason, amount) in Self::deposit_holds(owner, deposit) {
			if !amount.is_zero() {
				let r = T::Currency::release(&reason.into(), owner, amount, Precision::BestEffort)?;
				released = released.saturating_add(r);
			}
		}
		Ok(released)
	}

	/// The invariants of this pallet.
	///
	/// # Invariants
	///
	/// - The funds each owner holds for jobs (`HoldReason::JobBudget` and
	///   `HoldReason::JobDeposit`) equal the remaining budgets of their open jobs plus the
	///   deposits of their job records; settled jobs have a zero budget. What is held under
	///   `JobDeposit` (deposits held apart before spec 117) is at most their records' deposits.
	/// - Every job is in exactly one state, consistent with the queue: exactly the `Queued`
	///   jobs are in the queue's index, each in the expiry agenda at its `expires_at`, and the
	///   index holds nothing else (`queue_try_state`); `Queued` jobs have no providers, other
	///   jobs at least one. Expired, cancelled, evicted and unrunnable jobs are removed at once.
	/// - Every provider of an open (assigned or revealing) job is registered.
	/// - No hold outlives its record: every account with escrow held has an open job with a
	///   budget, every account with a deposit held has a job record.
	/// - Job ids are below the next job id ([`Counters`]).
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		ensure!(MinEligibleProviders::<T>::get() >= 1, "a job needs an eligible provider");
		let mut budgets: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let next = Counters::<T>::get().next_job_id;
		let mut queued = 0usize;
		for (id, job) in Jobs::<T>::iter() {
			ensure!(id < next, "job id beyond the next job id");
			let b = budgets.entry(job.owner.clone()).or_default();
			*b = b.saturating_add(job.budget);
			let d = deposits.entry(job.owner.clone()).or_default();
			*d = d.saturating_add(job.deposit);
			let in_queue = Expiring::<T>::contains_key(job.expires_at, id);
			match job.state {
				JobState::Queued => {
					queued += 1;
					ensure!(in_queue, "queued job not in the queue's index at its expiry");
					ensure!(job.providers.is_empty(), "queued job has providers");
				},
				JobState::Assigned | JobState::Revealing => {
					ensure!(!in_queue, "assigned job still queued");
					ensure!(!job.providers.is_empty(), "assigned job without providers");
					for p in job.providers.iter() {
						ensure!(T::Providers::is_registered(p), "assignee not registered");
					}
				},
				JobState::Completed | JobState::Disputed => {
					ensure!(!in_queue, "finished job still queued");
					ensure!(job.budget.is_zero(), "finished job still holds budget");
				},
				JobState::Expired | JobState::Cancelled | JobState::Unrunnable =>
					return Err("expired, cancelled or unrunnable job still stored".into()),
			}
			ensure!(
				(job.state == JobState::Completed) == Results::<T>::contains_key(id),
				"result stored iff completed"
			);
		}
		for (id, outcome) in Outcomes::<T>::iter() {
			let result = Results::<T>::get(id).ok_or("outcome without a result")?;
			ensure!(outcome.result_digest() == result.result_digest, "outcome not the result's");
		}
		Self::queue_try_state(queued)?;
		let held = |reason: HoldReason, who: &T::AccountId| {
			T::Currency::balance_on_hold(&reason.into(), who)
		};
		for (who, deposit) in deposits.iter() {
			let budget = budgets.get(who).copied().unwrap_or_default();
			let apart = held(HoldReason::JobDeposit, who);
			ensure!(
				held(HoldReason::JobBudget, who).saturating_add(apart) ==
					budget.saturating_add(*deposit),
				"held funds differ from open budgets and deposits"
			);
			ensure!(apart <= *deposit, "deposits held apart exceed the job records'");
		}
		// No hold outlives its record: an account holding funds for jobs owns a job record
		// (the maps above hold every owner).
		for who in frame_system::Account::<T>::iter_keys() {
			if !held(HoldReason::JobBudget, &who).is_zero() ||
				!held(HoldReason::JobDeposit, &who).is_zero()
			{
				ensure!(deposits.contains_key(&who), "funds held for jobs without a job record");
			}
		}
		Ok(())
	}
}

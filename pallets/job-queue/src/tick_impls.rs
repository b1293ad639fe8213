//! Per-block work: expire stale jobs, retry waiting ones and assign queued jobs, highest price
//! level first.

use crate::{pallet::*, types::*, WeightInfo};
use codec::{Decode, Encode};
use frame_support::{pallet_prelude::*, traits::Randomness, weights::WeightMeter};
use frame_system::pallet_prelude::BlockNumberFor;
use povm_primitives::{Drawn, ProviderRegistry};
use sp_runtime::traits::Saturating;

impl<T: Config> Pallet<T> {
	/// Serve the queue within `meter`.
	///
	/// First the agendas up to block `now`, within half of the meter: jobs due to expire are
	/// refunded and removed, jobs due for another try are put back in front of their level.
	/// Then ready jobs are tried,
	/// highest price level first, oldest first within a level, until
	/// `Params.max_assignments_per_block` are assigned or the meter runs out. A job with too
	/// few eligible providers leaves the line for the retry agenda ([`Self::park`]): failed
	/// tries never hold up the jobs behind them.
	pub(crate) fn service_queue(now: BlockNumberFor<T>, meter: &mut WeightMeter) {
		if meter.try_consume(T::WeightInfo::service_queue_base()).is_err() {
			return;
		}
		// The agendas take at most half of what is left, so that a wave of expiries (a
		// million jobs submitted in one block expire in one block) never stops assignment: what
		// they leave is done in the next blocks.
		let mut agendas = WeightMeter::with_limit(meter.remaining() / 2);
		Self::work_agendas(now, &mut agendas);
		meter.consume(agendas.consumed());
		Self::assign_ready(now, meter);
	}

	/// Retry and expire the jobs of the agendas' blocks up to `now`, each agenda from its
	/// cursor. Retries first, with their own cursor ([`RetryCursor`]): a lagging expiry agenda
	/// (a wave of expiries) never holds back the jobs waiting for another try.
	pub(crate) fn work_agendas(now: BlockNumberFor<T>, meter: &mut WeightMeter) {
		RetryCursor::<T>::put(Self::work_agenda(
			RetryCursor::<T>::get(),
			now,
			meter,
			Self::retry_due,
		));
		AgendaCursor::<T>::put(Self::work_agenda(
			AgendaCursor::<T>::get(),
			now,
			meter,
			Self::expire_due,
		));
	}

	/// Work through an agenda's blocks from `cursor` up to `now` with `due_at` (each block
	/// charged a probe) until one is not finished within `meter`; returns the first block not
	/// finished (the agenda's new cursor).
	fn work_agenda(
		mut cursor: BlockNumberFor<T>,
		now: BlockNumberFor<T>,
		meter: &mut WeightMeter,
		due_at: impl Fn(BlockNumberFor<T>, &mut WeightMeter) -> bool,
	) -> BlockNumberFor<T> {
		let probe = T::DbWeight::get().reads(1);
		while cursor <= now {
			if meter.try_consume(probe).is_err() || !due_at(cursor, meter) {
				break;
			}
			cursor = cursor.saturating_add(1u32.into());
		}
		cursor
	}

	/// Take the jobs `due` (one agenda block, through one iterator) at `weight` each with
	/// `take`; whether all were within `meter` (a job not afforded stays in the agenda for the
	/// next block).
	///
	/// One iterator: each step reads the next key from the last one, not from the start past
	/// the keys already removed (which a fresh `iter_key_prefix` per job would seek over
	/// again, quadratic in the jobs of the block).
	fn take_due(
		due: impl Iterator<Item = JobId>,
		weight: Weight,
		meter: &mut WeightMeter,
		mut take: impl FnMut(JobId),
	) -> bool {
		for id in due {
			if meter.try_consume(weight).is_err() {
				return false;
			}
			take(id);
		}
		true
	}

	/// Expire the jobs due at `block`; whether all were within `meter`.
	pub(crate) fn expire_due(block: BlockNumberFor<T>, meter: &mut WeightMeter) -> bool {
		let due = Expiring::<T>::iter_key_prefix(block);
		Self::take_due(due, T::WeightInfo::expire_job(), meter, |id| Self::expire(id, block))
	}

	/// Expire the job `id` whose expiry entry is at block `at`: take it out of the queue,
	/// refund it and remove its record. An expiry entry without a queued job (which the
	/// invariants rule out) only leaves the queue.
	pub(crate) fn expire(id: JobId, at: BlockNumberFor<T>) {
		Self::dequeue(id, at);
		match Jobs::<T>::get(id) {
			Some(job) if job.state == JobState::Queued => match Self::refund_and_remove(id, &job) {
				Ok(refunded) => Self::deposit_event(Event::JobExpired { job: id, refunded }),
				Err(e) => log::error!(target: LOG_TARGET, "expiry of {} failed: {:?}", id, e),
			},
			_ => log::error!(target: LOG_TARGET, "stale expiry entry {} removed", id),
		}
	}

	/// Put the jobs due for another try at `block` back in line; whether all were within
	/// `meter`.
	pub(crate) fn retry_due(block: BlockNumberFor<T>, meter: &mut WeightMeter) -> bool {
		let due = Retrying::<T>::iter_key_prefix(block);
		Self::take_due(due, T::WeightInfo::retry_job(), meter, |id| {
			if let Some(expires_at) = Retrying::<T>::take(block, id) {
				Self::unpark(id, expires_at);
			}
		})
	}

	/// Try ready jobs, highest level first, until `max_assignments_per_block` are assigned,
	/// no ready job is left, or `meter` runs out. A job past its expiry that the agendas have
	/// not reached yet (they lag behind a wave of expiries) is expired instead of tried.
	fn assign_ready(now: BlockNumberFor<T>, meter: &mut WeightMeter) {
		let max = Params::<T>::get().max_assignments_per_block;
		// The least a try costs: a job of one replica.
		let least_try = Self::try_weight(1);
		let skip = T::DbWeight::get().reads_writes(1, 1);
		// Moving to a level: the mask and the level's bounds.
		let visit = T::DbWeight::get().reads(2);
		let mut assigned = 0u32;
		let mut level = ReadyLevels::<T>::get().highest_below(None);
		while let Some(l) = level {
			if meter.try_consume(visit).is_err() {
				return;
			}
			while assigned < max {
				let Some((id, place)) = Self::head_of(l, meter, skip) else { break };
				// A job past its expiry (the expiry agenda lags) is expired at an expiry's
				// cost, not tried.
				let job = Jobs::<T>::get(id);
				let expires_at = job.as_ref().map(|j| j.expires_at);
				if let Some(at) = expires_at.filter(|at| *at <= now) {
					if meter.try_consume(T::WeightInfo::expire_job()).is_err() {
						return;
					}
					Self::expire(id, at);
					continue;
				}
				// Tried only if the most it can cost is left; charged for the replicas it
				// draws and the lapsed providers its draw met (none, usually).
				let replicas =
					job.map_or(T::MaxReplicas::get(), |j| j.spec.redundancy.min_replicas);
				let most = Self::try_weight(replicas);
				if !meter.can_consume(most) {
					return;
				}
				let tried = Self::try_assign(id, now);
				let rejections = tried.as_ref().map_or(u32::MAX, |t| t.rejections);
				meter.consume(Self::tried_weight(replicas, rejections));
				match (tried.map(|t| t.outcome), expires_at) {
					(Ok(TryOutcome::Assigned), _) => assigned = assigned.saturating_add(1),
					(Ok(TryOutcome::Expired), Some(at)) => Self::expire(id, at),
					// A job that cannot be parked (its index entry is gone, which the
					// invariants rule out) leaves the line, or it would be met again.
					(Ok(TryOutcome::TooFewProviders), Some(at)) =>
						if !Self::park(id, at, now) {
							Self::drop_stale(id, l, Some(place));
						},
					(outcome, _) => {
						log::error!(target: LOG_TARGET, "assignment of {} failed: {:?}", id, outcome);
						let parked = match Jobs::<T>::get(id) {
							Some(j) if j.state == JobState::Queued =>
								Self::park(id, j.expires_at, now),
							_ => false,
						};
						if !parked {
							Self::drop_stale(id, l, Some(place));
						}
					},
				}
			}
			if assigned >= max || meter.remaining().any_lt(least_try) {
				return;
			}
			level = ReadyLevels::<T>::get().highest_below(Some(l));
		}
	}

	/// The most the queue's hook may take of a block: a fifth of it.
	pub fn hook_limit() -> Weight {
		<T as frame_system::Config>::BlockWeights::get().max_block / 5
	}

	/// Try to assign a queued job its `min_replicas` providers at block `now`.
	/// [`TryOutcome::TooFewProviders`]: fewer than `max(MinEligibleProviders, min_replicas)`
	/// providers are eligible; [`TryOutcome::Expired`]: the job is past its expiry (nothing
	/// drawn).
	pub(crate) fn try_assign(id: JobId, now: BlockNumberFor<T>) -> Result<Tried, DispatchError> {
		let mut job = Jobs::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
		ensure!(job.state == JobState::Queued, Error::<T>::BadState);
		if job.expires_at <= now {
			return Ok(Tried::without_draw(TryOutcome::Expired));
		}
		let need = job.spec.redundancy.min_replicas;
		let eligible = T::Providers::drawable_count(&job.spec.resources, job.spec.image.arch);
		if eligible < need.max(MinEligibleProviders::<T>::get()) {
			return Ok(Tried::without_draw(TryOutcome::TooFewProviders));
		}
		let Drawn { providers: drawn, rejections } = Self::draw(id, 0, &job.spec, need, &[]);
		if (drawn.len() as u64) < need as u64 {
			return Ok(Tried { outcome: TryOutcome::TooFewProviders, rejections });
		}
		let providers: ProvidersOf<T> =
			drawn.try_into().map_err(|_| Error::<T>::TooManyReplicas)?;
		frame_support::storage::with_storage_layer(|| {
			let commit_deadline = Self::open_commit_windows(id, &job.spec, &providers)?;
			Self::dequeue(id, job.expires_at);
			job.providers = providers.clone();
			job.state = JobState::Assigned;
			job.commit_deadline = Some(commit_deadline);
			Jobs::<T>::insert(id, job);
			Self::deposit_event(Event::JobAssigned { job: id, providers, commit_deadline });
			Ok::<_, DispatchError>(())
		})?;
		Ok(Tried { outcome: TryOutcome::Assigned, rejections })
	}

	/// What one assignment try of a job of `replicas` replicas is charged: the benchmarked try
	/// (a draw of `replicas` providers from the registry's index of `MaxCandidates` providers,
	/// and their assignment) and the most a draw can spend on providers whose liveness lapsed.
	pub(crate) fn try_weight(replicas: u32) -> Weight {
		Self::tried_weight(replicas, u32::MAX)
	}

	/// What a try of a job of `replicas` replicas whose draw met `rejections` lapsed providers
	/// is charged: the benchmarked try, each pick's deeper search in a class larger than the
	/// benchmark's ([`ProviderRegistry::pick_weight_beyond`]) and each rejection
	/// ([`ProviderRegistry::rejection_weight`]), never more than the most a draw can spend on
	/// them.
	///
	/// The hook starts a try only if [`Self::try_weight`] (the most) is left, and charges this
	/// once the draw is done: a draw among live providers, the usual case, is not charged for
	/// lapsed providers it did not meet, which leaves room for more tries in the block.
	pub(crate) fn tried_weight(replicas: u32, rejections: u32) -> Weight {
		let replicas = replicas.clamp(1, T::MaxReplicas::get());
		let candidates = T::MaxCandidates::get();
		let rejected = T::Providers::rejection_weight()
			.saturating_mul(u64::from(rejections))
			.min(T::Providers::draw_rejections_weight());
		T::WeightInfo::assign_job(candidates, replicas)
			.saturating_add(
				T::Providers::pick_weight_beyond(candidates).saturating_mul(u64::from(replicas)),
			)
			.saturating_add(rejected)
	}

	/// Draw `count` distinct providers for `spec` from the registry, none of `exclude`, each
	/// pick with probability proportional to the provider's free slots among those not drawn
	/// yet ([`ProviderRegistry::draw`]), with randomness from `T::Randomness` keyed by the job,
	/// the round, the pick and the parent hash of the current block.
	///
	/// The weight is declared capacity, not reputation and not the account: one machine split
	/// into many accounts weighs what its slots weighed as one account, and a provider
	/// registered last has the same chance per free slot as the first.
	///
	/// `T::Randomness` (BABE's from one epoch ago in the runtime) is known an epoch ahead, so
	/// keyed by the job and the round alone a draw could be computed before it happens: a
	/// provider that declines (`decline_job`) could predict its replacement and decline only
	/// when the replacement suits it. The parent hash of the block that draws is not known
	/// before that block's parent is built, which is after the decline was sent (a decline
	/// never draws; the next block's hook does). A block author can still grind:
	/// it chooses the contents, hence the hash, of the block it builds on, and so can try
	/// several parent hashes for the next block's draws, or withhold its block (see
	/// `docs/protocol.md`).
	pub(crate) fn draw(
		id: JobId,
		round: u32,
		spec: &JobSpecOf<T>,
		count: u32,
		exclude: &[T::AccountId],
	) -> Drawn<T::AccountId> {
		let parent_hash = frame_system::Pallet::<T>::parent_hash();
		let mut random = |k: u32| {
			let (seed, _) =
				T::Randomness::random(&(b"povm/draw", id, round, k, parent_hash).encode());
			u64::decode(&mut &seed.encode()[..]).unwrap_or_default()
		};
		T::Providers::draw(&spec.resources, spec.image.arch, count, exclude, &mut random)
	}
}

/// A try of a queued job: how it ended, and the lapsed providers its draw met (charged each).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Tried {
	/// How the try ended.
	pub outcome: TryOutcome,
	/// Picks of the draw that met a provider whose liveness lapsed ([`Drawn::rejections`]).
	pub rejections: u32,
}

impl Tried {
	/// A try that ended before drawing anyone.
	fn without_draw(outcome: TryOutcome) -> Self {
		Self { outcome, rejections: 0 }
	}
}

/// How a try of a queued job ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum TryOutcome {
	/// Providers were drawn; the job left the queue.
	Assigned,
	/// Too few eligible providers: the job waits for another try.
	TooFewProviders,
	/// The job is past its expiry: it is expired, not tried.
	Expired,
}

/// Log target of this pallet.
pub(crate) const LOG_TARGET: &str = "runtime::job-queue";

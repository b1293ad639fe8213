//! Per-block work: expire stale jobs and assign queued jobs, highest price first.

use crate::{pallet::*, types::*, WeightInfo};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_support::{pallet_prelude::*, traits::Randomness, weights::WeightMeter};
use frame_system::pallet_prelude::BlockNumberFor;
use povm_primitives::ProviderRegistry;

impl<T: Config> Pallet<T> {
	/// Serve the queue within `meter`.
	///
	/// First every entry past its expiry is expired and refunded; then up to
	/// `Params.max_assignments_per_block` entries, highest price first, are offered to the
	/// registry. Jobs without enough fitting providers keep their place.
	pub(crate) fn service_queue(now: BlockNumberFor<T>, meter: &mut WeightMeter) {
		let queue_len = Queue::<T>::decode_len().unwrap_or(0) as u32;
		if meter.try_consume(T::WeightInfo::service_queue_base(queue_len)).is_err() {
			return;
		}
		if queue_len == 0 {
			return;
		}
		let params = Params::<T>::get();
		let mut queue = Queue::<T>::get();
		let mut changed = false;

		let mut i = 0;
		while i < queue.len() {
			if queue[i].expires_at <= now {
				if meter.try_consume(T::WeightInfo::expire_job()).is_err() {
					break;
				}
				let entry = queue.remove(i);
				changed = true;
				if let Some(job) = Jobs::<T>::get(entry.job) {
					match Self::refund_and_remove(entry.job, &job) {
						Ok(refunded) =>
							Self::deposit_event(Event::JobExpired { job: entry.job, refunded }),
						Err(e) => {
							log::error!(target: LOG_TARGET, "expiry of {} failed: {:?}", entry.job, e)
						},
					}
				}
				continue;
			}
			i += 1;
		}

		let mut tries = 0u32;
		let mut i = 0;
		let assign_weight = T::WeightInfo::assign_job(T::MaxCandidates::get());
		while i < queue.len() && tries < params.max_assignments_per_block {
			if meter.try_consume(assign_weight).is_err() {
				break;
			}
			tries = tries.saturating_add(1);
			let id = queue[i].job;
			match Self::try_assign(id) {
				Ok(true) => {
					queue.remove(i);
					changed = true;
				},
				Ok(false) => i += 1,
				Err(e) => {
					log::error!(target: LOG_TARGET, "assignment of {} failed: {:?}", id, e);
					i += 1;
				},
			}
		}
		if changed {
			Queue::<T>::put(queue);
		}
	}

	/// Try to assign a queued job its `min_replicas` providers. `Ok(false)`: fewer than
	/// `max(MinEligibleProviders, min_replicas)` providers are eligible; the job keeps its place.
	pub(crate) fn try_assign(id: JobId) -> Result<bool, DispatchError> {
		let mut job = Jobs::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
		ensure!(job.state == JobState::Queued, Error::<T>::BadState);
		let need = job.spec.redundancy.min_replicas;
		let candidates = T::Providers::candidates(&job.spec.resources, job.spec.image.arch);
		if (candidates.len() as u64) < need.max(MinEligibleProviders::<T>::get()) as u64 {
			return Ok(false);
		}
		let drawn = Self::draw(id, 0, candidates, need);
		if (drawn.len() as u64) < need as u64 {
			return Ok(false);
		}
		let providers: ProvidersOf<T> =
			drawn.try_into().map_err(|_| Error::<T>::TooManyReplicas)?;
		frame_support::storage::with_storage_layer(|| {
			let commit_deadline = T::Providers::on_assigned(id, &providers)?;
			job.providers = providers.clone();
			job.state = JobState::Assigned;
			job.commit_deadline = Some(commit_deadline);
			Jobs::<T>::insert(id, job);
			Self::deposit_event(Event::JobAssigned { job: id, providers, commit_deadline });
			Ok::<_, DispatchError>(())
		})?;
		Ok(true)
	}

	/// Draw `count` distinct providers from `candidates`, each pick with probability
	/// proportional to the provider's free slots (its weight in `candidates`) among those not
	/// drawn yet, with randomness from `T::Randomness` keyed by the job, the round, the pick
	/// and the parent hash of the current block.
	///
	/// The weight is declared capacity, not reputation and not the account: one machine split
	/// into many accounts weighs what its slots weighed as one account, and a provider
	/// registered last has the same chance per free slot as the first. Each pick is one pass
	/// over the candidates (`O(candidates)`; at most `MaxReplicas` picks).
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
		mut candidates: Vec<(T::AccountId, u32)>,
		count: u32,
	) -> Vec<T::AccountId> {
		let mut out = Vec::new();
		let parent_hash = frame_system::Pallet::<T>::parent_hash();
		// A candidate without a free slot cannot take the job.
		candidates.retain(|(_, free)| *free > 0);
		let mut k: u32 = 0;
		while k < count && !candidates.is_empty() {
			let total: u64 =
				candidates.iter().fold(0u64, |acc, (_, w)| acc.saturating_add(*w as u64));
			let (seed, _) =
				T::Randomness::random(&(b"povm/draw", id, round, k, parent_hash).encode());
			let encoded = seed.encode();
			let r = u64::decode(&mut &encoded[..]).unwrap_or_default();
			let mut pick = r % total.max(1);
			let mut idx = candidates.len().saturating_sub(1);
			for (n, (_, free)) in candidates.iter().enumerate() {
				let w = *free as u64;
				if pick < w {
					idx = n;
					break;
				}
				pick = pick.saturating_sub(w);
			}
			out.push(candidates.swap_remove(idx).0);
			k = k.saturating_add(1);
		}
		out
	}
}

/// Log target of this pallet.
pub(crate) const LOG_TARGET: &str = "runtime::job-queue";

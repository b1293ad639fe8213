//! The queue's index: price levels, each a first-in-first-out line of ready jobs, and two
//! agendas, of expiries (each entry also the job's level and place) and of retries. Every
//! operation here reads and writes a fixed number of entries, whatever the number of queued
//! jobs or price levels.

use crate::{pallet::*, types::*};
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{SaturatedConversion, Saturating};

/// The most empty places [`Pallet::eviction_victim`] passes in a level's line before it takes
/// a waiting job instead: a bound on `submit_job`'s reads (benchmarked with all of them).
pub const EVICTION_SCAN: u32 = 16;

impl<T: Config> Pallet<T> {
	/// The price level of a job offering `price` per VM-second.
	pub fn level_of(price: BalanceOf<T>) -> u16 {
		price_level(price.saturated_into::<u128>())
	}

	/// Put job `id` behind the ready jobs of `level`, due to expire at `expires_at`. Returns
	/// whether the level already held a ready job (then the level masks are left untouched).
	/// The caller counts the job in [`Counters`] (a submission writes both counters at once);
	/// [`Self::dequeue`] counts it out.
	pub(crate) fn enqueue(id: JobId, level: u16, expires_at: BlockNumberFor<T>) -> bool {
		let mut bounds = Levels::<T>::get(level).unwrap_or_default();
		let before = bounds;
		let place = Self::join_line(level, id, &mut bounds);
		LevelMembers::<T>::insert(level, id, ());
		Expiring::<T>::insert(
			expires_at,
			id,
			QueuedJob { level, place: Place::Ready(place), failed_tries: 0 },
		);
		Self::store_level(level, before, bounds);
		before.ready > 0
	}

	/// Take job `id` (due to expire at `expires_at`) out of the queue, ready or waiting.
	/// Nothing happens if it is not queued.
	pub(crate) fn dequeue(id: JobId, expires_at: BlockNumberFor<T>) {
		let Some(entry) = Expiring::<T>::take(expires_at, id) else { return };
		LevelMembers::<T>::remove(entry.level, id);
		let mut bounds = Levels::<T>::get(entry.level).unwrap_or_default();
		let before = bounds;
		match entry.place {
			Place::Ready(place) => Self::leave_line(entry.level, place, &mut bounds),
			Place::Waiting(at) => {
				Retrying::<T>::remove(at, id);
				bounds.waiting = bounds.waiting.saturating_sub(1);
			},
		}
		Counters::<T>::mutate(|c| c.queued = c.queued.saturating_sub(1));
		Self::store_level(entry.level, before, bounds);
	}

	/// Move the ready job `id` (due to expire at `expires_at`) at the head of its level into
	/// the retry agenda: its try at block `now` found too few eligible providers. It is tried
	/// again after [`retry_backoff`] blocks (1, 2, 4, … up to [`MAX_RETRY_BACKOFF`]), so that
	/// jobs nobody can run take a shrinking share of the tries and never hold up the jobs
	/// behind them. Whether it was parked (`false`: no ready index entry at `expires_at`).
	pub(crate) fn park(id: JobId, expires_at: BlockNumberFor<T>, now: BlockNumberFor<T>) -> bool {
		let Some(mut entry) = Expiring::<T>::get(expires_at, id) else { return false };
		let Place::Ready(place) = entry.place else { return false };
		let mut bounds = Levels::<T>::get(entry.level).unwrap_or_default();
		let before = bounds;
		Self::leave_line(entry.level, place, &mut bounds);
		bounds.waiting = bounds.waiting.saturating_add(1);
		entry.failed_tries = entry.failed_tries.saturating_add(1);
		let at = now.saturating_add(retry_backoff(entry.failed_tries).into());
		entry.place = Place::Waiting(at);
		Retrying::<T>::insert(at, id, expires_at);
		Expiring::<T>::insert(expires_at, id, entry);
		Self::store_level(entry.level, before, bounds);
		true
	}

	/// Put the waiting job `id` (due to expire at `expires_at`) back at the end of its level's
	/// line (behind the jobs that came while it waited: a job nobody can run never gets ahead
	/// of them again).
	pub(crate) fn unpark(id: JobId, expires_at: BlockNumberFor<T>) {
		let Some(mut entry) = Expiring::<T>::get(expires_at, id) else { return };
		let Place::Waiting(at) = entry.place else { return };
		Retrying::<T>::remove(at, id);
		let mut bounds = Levels::<T>::get(entry.level).unwrap_or_default();
		let before = bounds;
		bounds.waiting = bounds.waiting.saturating_sub(1);
		entry.place = Place::Ready(Self::join_line(entry.level, id, &mut bounds));
		Expiring::<T>::insert(expires_at, id, entry);
		Self::store_level(entry.level, before, bounds);
	}

	/// Take `id` out of the queue's index, whatever its record says: for an index entry met at
	/// `level` (at `place` of its line, when met there) whose job is not queued (which the
	/// invariants rule out), so that it is never met again.
	///
	/// - A job with an expiry entry at its record's `expires_at` leaves the queue as any other.
	/// - A job whose record has no expiry entry loses its line entry and its membership here,
	///   and is counted out of its level and of the queue (no expiry will count it out).
	/// - A job without a record loses its line entry and its membership here; its expiry
	///   entry, met at its block, counts it out ([`Self::expire`]).
	pub(crate) fn drop_stale(id: JobId, level: u16, place: Option<u64>) {
		log::error!(target: crate::tick_impls::LOG_TARGET, "stale queue entry {} removed", id);
		let record = Jobs::<T>::get(id);
		if let Some(at) = record.as_ref().map(|job| job.expires_at) {
			if Expiring::<T>::contains_key(at, id) {
				Self::dequeue(id, at);
				return Self::reset_masks(level);
			}
		}
		LevelMembers::<T>::remove(level, id);
		let in_line = place.filter(|p| LevelEntries::<T>::get(level, p) == Some(id));
		if record.is_some() {
			let mut bounds = Levels::<T>::get(level).unwrap_or_default();
			let before = bounds;
			if let Some(place) = in_line {
				Self::leave_line(level, place, &mut bounds);
			}
			Counters::<T>::mutate(|c| c.queued = c.queued.saturating_sub(1));
			Self::store_level(level, before, bounds);
		} else if let Some(place) = in_line {
			LevelEntries::<T>::remove(level, place);
		}
		Self::reset_masks(level);
	}

	/// Put job `id` at the end of `level`'s line, counted in its ready jobs (`bounds`, which
	/// the caller stores). Returns its place.
	fn join_line(level: u16, id: JobId, bounds: &mut LevelBounds) -> u64 {
		let place = bounds.tail;
		bounds.tail = bounds.tail.saturating_add(1);
		bounds.ready = bounds.ready.saturating_add(1);
		LevelEntries::<T>::insert(level, place, id);
		place
	}

	/// Clear `place` of `level`'s line, counted out of its ready jobs (`bounds`, which the
	/// caller stores); the head passes it when it was the head.
	fn leave_line(level: u16, place: u64, bounds: &mut LevelBounds) {
		LevelEntries::<T>::remove(level, place);
		bounds.ready = bounds.ready.saturating_sub(1);
		if place == bounds.head {
			bounds.head = bounds.head.saturating_add(1);
		}
	}

	/// Set `level`'s bits in the two masks from its bounds again: the masks change only when a
	/// level's bit flips, so an index found broken may hold a wrong bit.
	fn reset_masks(level: u16) {
		let bounds = Levels::<T>::get(level).unwrap_or_default();
		ReadyLevels::<T>::mutate(|m| m.set(level, bounds.ready > 0));
		OccupiedLevels::<T>::mutate(|m| m.set(level, bounds.jobs() > 0));
	}

	/// The job a full queue evicts for a job at level `below`: the oldest ready job of the
	/// lowest occupied level (closest to its expiry; at most [`EVICTION_SCAN`] empty places
	/// are passed to find it), else another of that level's jobs; `None` if that level is not
	/// below. With the job: its level and, when found in the line, its place.
	pub(crate) fn eviction_victim(below: u16) -> Option<(JobId, u16, Option<u64>)> {
		let lowest = OccupiedLevels::<T>::get().lowest()?;
		if lowest >= below {
			return None;
		}
		if let Some(mut bounds) = Levels::<T>::get(lowest).filter(|b| b.ready > 0) {
			let last = bounds.head.saturating_add(EVICTION_SCAN.into()).min(bounds.tail);
			let mut found = None;
			for place in bounds.head..last {
				if let Some(id) = LevelEntries::<T>::get(lowest, place) {
					found = Some((place, id));
					break;
				}
			}
			// The empty places passed are passed for good: the next eviction (or try) starts
			// after them, so that cancelled places cost each eviction at most once.
			let passed_to = found.map_or(last, |(place, _)| place);
			if passed_to > bounds.head {
				bounds.head = passed_to;
				Levels::<T>::insert(lowest, bounds);
			}
			if let Some((place, id)) = found {
				return Some((id, lowest, Some(place)));
			}
		}
		LevelMembers::<T>::iter_key_prefix(lowest).next().map(|id| (id, lowest, None))
	}

	/// The ready job at the head of `level` and its place, skipping the places of jobs that
	/// left the line (each skipped place is charged `skip` from `meter` and passed for good).
	/// `None` when the level has no ready job or the meter ran out.
	pub(crate) fn head_of(
		level: u16,
		meter: &mut frame_support::weights::WeightMeter,
		skip: Weight,
	) -> Option<(JobId, u64)> {
		let mut bounds = Levels::<T>::get(level)?;
		let mut moved = false;
		let found = loop {
			if bounds.ready == 0 || bounds.head >= bounds.tail {
				break None;
			}
			if let Some(id) = LevelEntries::<T>::get(level, bounds.head) {
				break Some((id, bounds.head));
			}
			if meter.try_consume(skip).is_err() {
				break None;
			}
			bounds.head = bounds.head.saturating_add(1);
			moved = true;
		};
		if moved {
			Levels::<T>::insert(level, bounds);
		}
		found
	}

	/// Store `level`'s bounds (removed when it holds no job) and keep the level masks true:
	/// a mask is read and written only when the level's bit in it flips from `before`, so
	/// that the common case (a job joins or leaves a level that keeps jobs) costs no mask.
	pub(crate) fn store_level(level: u16, before: LevelBounds, mut bounds: LevelBounds) {
		if bounds.ready == 0 {
			// No ready job: every place up to the tail is empty.
			bounds.head = bounds.tail;
		}
		if bounds.jobs() == 0 {
			Levels::<T>::remove(level);
		} else {
			Levels::<T>::insert(level, bounds);
		}
		if (before.ready > 0) != (bounds.ready > 0) {
			ReadyLevels::<T>::mutate(|ready| ready.set(level, bounds.ready > 0));
		}
		if (before.jobs() > 0) != (bounds.jobs() > 0) {
			OccupiedLevels::<T>::mutate(|occupied| occupied.set(level, bounds.jobs() > 0));
		}
	}
}

impl<T: Config> Pallet<T> {
	/// The queue's invariants, given the number of `Queued` job records.
	///
	/// # Invariants
	///
	/// - Every queued job has one index entry, in [`Expiring`] at its `expires_at`, at the
	///   level of its price; it is counted in [`Counters`] (at most `MaxQueueLen`) and in
	///   [`LevelMembers`].
	/// - A ready job sits at its place of its level, between the level's head and tail; a
	///   waiting job is in [`Retrying`] at its retry block. The levels' counts are these.
	/// - The masks mark exactly the levels with ready jobs and with any job; a level without
	///   jobs has no [`Levels`] entry.
	/// - No agenda or line entry outlives its job.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub(crate) fn queue_try_state(queued: usize) -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		let counted = Counters::<T>::get().queued as usize;
		ensure!(counted == queued, "the queued count is not the queued jobs");
		ensure!(queued <= T::MaxQueueLen::get() as usize, "more jobs queued than MaxQueueLen");
		let mut counts: BTreeMap<u16, (u32, u32)> = BTreeMap::new();
		let mut indexed = 0usize;
		for (expires_at, id, entry) in Expiring::<T>::iter() {
			indexed += 1;
			let job = Jobs::<T>::get(id).ok_or("queued job without a record")?;
			ensure!(job.state == JobState::Queued, "indexed job is not queued");
			ensure!(job.expires_at == expires_at, "expiry entry not at the job's expiry");
			ensure!(
				entry.level == Self::level_of(job.spec.price_per_second),
				"job at a level not its price's"
			);
			ensure!(LevelMembers::<T>::contains_key(entry.level, id), "job not a level member");
			let bounds = Levels::<T>::get(entry.level).ok_or("job at a level without bounds")?;
			let count = counts.entry(entry.level).or_default();
			match entry.place {
				Place::Ready(place) => {
					ensure!(
						LevelEntries::<T>::get(entry.level, place) == Some(id),
						"ready job not at its place"
					);
					ensure!(
						bounds.head <= place && place < bounds.tail,
						"ready job outside its level's line"
					);
					count.0 = count.0.saturating_add(1);
				},
				Place::Waiting(at) => {
					ensure!(
						Retrying::<T>::get(at, id) == Some(expires_at),
						"waiting job not in the agenda"
					);
					count.1 = count.1.saturating_add(1);
				},
			}
		}
		let (ready_mask, occupied_mask) = (ReadyLevels::<T>::get(), OccupiedLevels::<T>::get());
		let mut levels = 0usize;
		for (level, bounds) in Levels::<T>::iter() {
			levels += 1;
			let (ready, waiting) = counts.get(&level).copied().unwrap_or_default();
			ensure!(bounds.ready == ready && bounds.waiting == waiting, "level counts differ");
			ensure!(bounds.jobs() > 0, "empty level kept");
		}
		ensure!(levels == counts.len(), "an occupied level has no bounds");
		for level in 0..PRICE_LEVELS {
			let (ready, waiting) = counts.get(&level).copied().unwrap_or_default();
			ensure!(ready_mask.get(level) == (ready > 0), "ready mask differs from the levels");
			ensure!(
				occupied_mask.get(level) == (ready.saturating_add(waiting) > 0),
				"occupied mask differs from the levels"
			);
		}
		let total_ready: u32 = counts.values().map(|c| c.0).sum();
		let total_waiting: u32 = counts.values().map(|c| c.1).sum();
		ensure!(LevelEntries::<T>::iter().count() == total_ready as usize, "stale line entry");
		ensure!(LevelMembers::<T>::iter().count() == queued, "stale level member");
		ensure!(indexed == queued, "stale expiry");
		ensure!(Retrying::<T>::iter().count() == total_waiting as usize, "stale retry");
		Ok(())
	}
}

//! The ticket ledger: verified work becomes tickets as it is verified, and the tickets of
//! closed draws are pruned in pages.
//!
//! The verifier credits each verdict's work ([`TicketLedger::credit`]) to the draw after the
//! work's epoch: the provider's [`Tickets`] and the draw's [`TicketTotals`] grow together, so
//! that when the draw opens its total and every provider's share are already known. Opening a
//! draw reads no provider, and every provider with verified work holds tickets however many
//! there are: no list of entrants can be filled by accounts that came first.
//!
//! A closed draw's tickets are removed from [`FirstUnprunedDraw`] on, at most
//! [`PRUNE_AT_BOUNDARY`] at each session boundary and as many as the block's leftover weight
//! allows in `on_idle`.

use crate::{pallet::*, weights::WeightInfo};
use frame_support::{pallet_prelude::*, traits::Get};
use povm_primitives::{tickets_for, TicketLedger};
use sp_runtime::Perbill;

/// The most closed-draw tickets a session boundary removes (the rest go in idle time).
pub const PRUNE_AT_BOUNDARY: u32 = 1_000;

/// The most closed-draw tickets one idle block removes, whatever weight it has left (the
/// benchmark measures pages up to [`PRUNE_AT_BOUNDARY`]; ten of them is as far as its linear
/// weight is trusted).
pub const MAX_PRUNE_PER_BLOCK: u32 = 10 * PRUNE_AT_BOUNDARY;

impl<T: Config> TicketLedger<T::AccountId> for Pallet<T> {
	fn credit(epoch: u32, who: &T::AccountId, vm_millis: u64, reputation: Perbill) {
		let tickets = tickets_for(vm_millis, reputation);
		if tickets == 0 {
			return;
		}
		let Some(draw) = epoch.checked_add(1) else { return };
		// A draw's total is fixed when it opens: tickets credited to it afterwards would give
		// their holder a share its total does not count.
		if CurrentDraw::<T>::get().is_some_and(|d| d.epoch >= draw) {
			log::warn!(
				target: "runtime::vrf-lottery",
				"work of epoch {epoch} credited after draw {draw} opened: no tickets"
			);
			return;
		}
		let newcomer = Tickets::<T>::mutate(draw, who, |held| {
			let newcomer = held.is_none();
			*held = Some(held.unwrap_or(0).saturating_add(tickets));
			newcomer
		});
		TicketTotals::<T>::mutate(draw, |total| {
			total.tickets = total.tickets.saturating_add(u128::from(tickets));
			if newcomer {
				total.providers = total.providers.saturating_add(1);
			}
		});
	}
}

impl<T: Config> Pallet<T> {
	/// The weight of a [`Pallet::prune_tickets`] that visits `visited` entries (benchmarked:
	/// `prune_tickets`, each visited entry read and removed).
	pub fn prune_weight(visited: u32) -> Weight {
		T::WeightInfo::prune_tickets(visited)
	}

	/// Removes at most `limit` tickets of closed draws (every draw before the open one), from
	/// [`FirstUnprunedDraw`] on. Returns the weight used.
	pub(crate) fn prune_tickets(limit: u32) -> Weight {
		let Some(open) = CurrentDraw::<T>::get().map(|d| d.epoch) else {
			return Self::prune_weight(0);
		};
		Self::prune_before(open, FirstUnprunedDraw::<T>::get(), limit)
	}

	/// [`Pallet::prune_tickets`] once the open draw `open` and the cursor `first` are read.
	fn prune_before(open: u32, mut first: u32, limit: u32) -> Weight {
		let mut visited = 0u32;
		while first < open {
			let left = limit.saturating_sub(visited);
			if left == 0 {
				break;
			}
			let result = Tickets::<T>::clear_prefix(first, left, None);
			visited = visited.saturating_add(result.loops.max(result.backend).max(1));
			if result.maybe_cursor.is_some() {
				// More of this draw than the limit: go on from here next time.
				break;
			}
			first = first.saturating_add(1);
		}
		FirstUnprunedDraw::<T>::put(first);
		Self::prune_weight(visited)
	}

	/// [`Pallet::prune_tickets`] within `remaining` weight, at most [`MAX_PRUNE_PER_BLOCK`]
	/// entries; only the check when nothing is left to prune, and nothing when even that would
	/// not fit.
	pub(crate) fn prune_tickets_within(remaining: Weight) -> Weight {
		let check = T::DbWeight::get().reads(2);
		if !remaining.all_gte(check) {
			return Weight::zero();
		}
		let Some(draw) = CurrentDraw::<T>::get() else { return check };
		let first = FirstUnprunedDraw::<T>::get();
		// The boundary that opened the draw pruned a page in this block: its removals are not
		// committed yet, and a second pass would visit them again.
		if draw.opened_at == frame_system::Pallet::<T>::block_number() || first >= draw.epoch {
			return check;
		}
		// The page's weight is linear in its size: the largest that fits beside the check.
		let base = Self::prune_weight(0);
		let per_entry = Self::prune_weight(1).saturating_sub(base);
		if !remaining.all_gte(check.saturating_add(base).saturating_add(per_entry)) {
			return check;
		}
		let spare = remaining.saturating_sub(check).saturating_sub(base);
		let by_time = spare.ref_time().checked_div(per_entry.ref_time()).unwrap_or(u64::MAX);
		let by_proof = spare.proof_size().checked_div(per_entry.proof_size()).unwrap_or(u64::MAX);
		let limit = by_time.min(by_proof).min(u64::from(MAX_PRUNE_PER_BLOCK));
		// The check's two reads are the page's own (its benchmark reads the open draw and the
		// cursor): charged once, in the page's weight.
		Self::prune_before(draw.epoch, first, u32::try_from(limit).unwrap_or(MAX_PRUNE_PER_BLOCK))
	}
}

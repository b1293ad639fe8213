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

use crate::pallet::*;
use frame_support::{pallet_prelude::*, traits::Get};
use povm_primitives::{tickets_for, TicketLedger};
use sp_runtime::Perbill;

/// The most closed-draw tickets a session boundary removes (the rest go in idle time).
pub const PRUNE_AT_BOUNDARY: u32 = 1_000;

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
	/// The weight of a [`Pallet::prune_tickets`] that visits `visited` entries and removes
	/// `removed`: the cursor and the open draw read and the cursor written, one read per
	/// visited entry and one write per removed one.
	pub fn prune_weight(visited: u32, removed: u32) -> Weight {
		T::DbWeight::get().reads_writes(
			u64::from(visited).saturating_add(2),
			u64::from(removed).saturating_add(1),
		)
	}

	/// Removes at most `limit` tickets of closed draws (every draw before the open one), from
	/// [`FirstUnprunedDraw`] on. Returns the weight used.
	pub(crate) fn prune_tickets(limit: u32) -> Weight {
		let Some(open) = CurrentDraw::<T>::get().map(|d| d.epoch) else {
			return Self::prune_weight(0, 0);
		};
		let mut first = FirstUnprunedDraw::<T>::get();
		let (mut visited, mut removed) = (0u32, 0u32);
		while first < open {
			let left = limit.saturating_sub(visited);
			if left == 0 {
				break;
			}
			let result = Tickets::<T>::clear_prefix(first, left, None);
			visited = visited.saturating_add(result.loops.max(1));
			removed = removed.saturating_add(result.backend);
			if result.maybe_cursor.is_some() {
				// More of this draw than the limit: go on from here next time.
				break;
			}
			first = first.saturating_add(1);
		}
		FirstUnprunedDraw::<T>::put(first);
		Self::prune_weight(visited, removed)
	}

	/// [`Pallet::prune_tickets`] within `remaining` weight; nothing when nothing is left to
	/// prune or it would not fit.
	pub(crate) fn prune_tickets_within(remaining: Weight) -> Weight {
		let check = T::DbWeight::get().reads(2);
		if !remaining.all_gte(Self::prune_weight(1, 1)) {
			return Weight::zero();
		}
		let Some(draw) = CurrentDraw::<T>::get() else { return check };
		// The boundary that opened the draw pruned a page in this block: its removals are not
		// committed yet, and a second pass would visit them again.
		if draw.opened_at == frame_system::Pallet::<T>::block_number() ||
			FirstUnprunedDraw::<T>::get() >= draw.epoch
		{
			return check;
		}
		let per_entry = T::DbWeight::get().reads_writes(1, 1).ref_time().max(1);
		let spare = remaining.ref_time().saturating_sub(Self::prune_weight(0, 0).ref_time());
		let limit = u32::try_from(spare / per_entry).unwrap_or(u32::MAX);
		if limit == 0 {
			return check;
		}
		Self::prune_tickets(limit).saturating_add(check)
	}
}

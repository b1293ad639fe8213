//! Session-boundary work: opening a draw (its credited tickets, seed), closing it (payouts, the
//! next validator set), the [`pallet_session::SessionManager`] implementation, and the
//! invariants.
//!
//! pallet-session rotates with `end_session(i)`, `start_session(i + 1)`, `new_session(i + 2)`,
//! all in one block; the validators returned by `new_session(i + 2)` take their seats in
//! session `i + 2`. All the lottery's work happens in `new_session(i + 2)`:
//!
//! 1. the draw of epoch `i` (claims were accepted during session `i`) closes: its winners are
//!    paid, and the validators of session `i + 2` are planned from the incumbents (the set of
//!    session `i + 1`, `CurrentValidators`) and the winners with session keys, at most
//!    `MaxSeatChanges` newcomers at a time and never below `MinValidators` ([`crate::seats`]);
//! 2. the draw of epoch `i + 1` opens: the tickets credited for the work verified in epoch `i`
//!    are fixed and the seed is read. Its claims are accepted during session `i + 1`;
//! 3. closed draws' tickets are pruned (a bounded page; idle blocks do the rest).

use crate::{
	pallet::*,
	seats::{self, SeatLimits},
	types::*,
	vrf,
	weights::WeightInfo,
};
use alloc::vec::Vec;
use frame_support::{
	pallet_prelude::*,
	traits::{fungible::Mutate, Contains},
};
use povm_primitives::VerifiedWork;
use sp_runtime::{traits::Zero, SaturatedConversion};

/// A provider's standing in the open draw (for the runtime API).
#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug, TypeInfo)]
pub struct ProviderView {
	/// The open draw's epoch (0 if none is open).
	pub epoch: u32,
	/// The provider's tickets in it.
	pub tickets: u64,
	/// Its threshold: it wins iff [`vrf::is_winner`]`(output, threshold)`.
	pub threshold: u128,
	/// Its registered VRF key, if any.
	pub vrf_key: Option<VrfKeyRecord>,
	/// Its accepted claim in the open draw, if any.
	pub claim: Option<ClaimRecord>,
}

impl<T: Config> Pallet<T> {
	/// Weight of a session boundary that opens a draw and closes one with `winners` claims.
	pub fn boundary_weight(winners: u32) -> Weight {
		T::WeightInfo::open_draw().saturating_add(T::WeightInfo::close_draw(winners))
	}

	/// The lottery's work at `new_session(new_index)`: close the open draw (returning the
	/// validators of session `new_index`, or `None` to keep the current set), open the draw
	/// of the session now starting (`new_index - 1`), prune closed draws' tickets, and tell
	/// [`Config::Work`] that the work of the epoch before is in a draw.
	pub(crate) fn on_new_session(new_index: u32) -> Option<Vec<T::AccountId>> {
		let (validators, winners) = Self::close_draw(new_index);
		let epoch = new_index.saturating_sub(1);
		Self::open_draw(epoch);
		let tickets_pruned = Self::prune_tickets(crate::tickets::PRUNE_AT_BOUNDARY);
		// Draw 0 reads the (empty) epoch 0 that has only begun: nothing is taken yet.
		let work_pruned = match epoch.checked_sub(1) {
			Some(work_epoch) => T::Work::work_taken(work_epoch),
			None => Weight::zero(),
		};
		frame_system::Pallet::<T>::register_extra_weight_unchecked(
			Self::boundary_weight(winners)
				.saturating_add(tickets_pruned)
				.saturating_add(work_pruned),
			DispatchClass::Mandatory,
		);
		validators
	}

	/// Open draw `epoch` (work of `epoch - 1`): its tickets were credited as that work was
	/// verified, so only their total is read ([`TicketTotals`]), and the seed is fixed.
	pub(crate) fn open_draw(epoch: u32) {
		let work_epoch = epoch.saturating_sub(1);
		let credited = TicketTotals::<T>::take(epoch);
		let seed = T::Seed::get();
		let expected_winners = T::ExpectedWinners::get();
		CurrentDraw::<T>::put(DrawInfo {
			epoch,
			work_epoch,
			seed,
			total_tickets: credited.tickets,
			providers: credited.providers,
			expected_winners,
			winners: 0,
			opened_at: frame_system::Pallet::<T>::block_number(),
		});
		Self::deposit_event(Event::DrawOpened {
			epoch,
			work_epoch,
			seed,
			total_tickets: credited.tickets,
			providers: credited.providers,
			expected_winners,
		});
	}

	/// Close the open draw, if any: pay its winners and plan the validators of `session`.
	/// Returns the new set (or `None`) and how many winners there were.
	pub(crate) fn close_draw(session: u32) -> (Option<Vec<T::AccountId>>, u32) {
		let Some(draw) = CurrentDraw::<T>::take() else {
			// No plan: pallet-session keeps the current set but drops those without keys.
			Self::note_leavers(session, &Self::keyed_incumbents());
			return (None, 0);
		};
		let epoch = draw.epoch;
		// The claims are the ranking's accounts (at most `MaxWinners`); sorting them again
		// keeps the payout right even if the ranking were lost. The draw's tickets are pruned
		// in pages from here on (`crate::tickets`).
		Ranking::<T>::kill();
		let mut claims: Vec<(T::AccountId, ClaimRecord)> =
			Claims::<T>::drain_prefix(epoch).collect();
		claims.sort_by_key(|c| vrf::rank(&c.1.output, c.1.threshold));
		let winners: BoundedVec<T::AccountId, T::MaxWinners> =
			BoundedVec::truncate_from(claims.into_iter().map(|(who, _)| who).collect());
		let count = winners.len() as u32;

		// Payouts: an equal share each; the remainder and unclaimed issuance are not minted.
		let payout = if count == 0 {
			Zero::zero()
		} else {
			T::EpochIssuance::get() / BalanceOf::<T>::from(count)
		};
		if !payout.is_zero() {
			for who in winners.iter() {
				match T::Currency::mint_into(who, payout) {
					Ok(amount) =>
						Self::deposit_event(Event::RewardPaid { epoch, who: who.clone(), amount }),
					Err(e) => log::warn!(
						target: "runtime::vrf-lottery",
						"reward of epoch {epoch} not minted: {e:?}"
					),
				}
			}
		}
		Self::deposit_event(Event::DrawClosed { epoch, winners: winners.clone(), payout });

		let validators = Self::plan_validators(epoch, session, &winners);
		LastOutcome::<T>::put(Outcome::<T> {
			epoch,
			winners,
			payout,
			validators: validators.clone(),
		});
		(validators.map(|v| v.into_inner()), count)
	}

	/// Plan the validators of `session` from the incumbents and `winners` (by ascending output)
	/// with [`seats::plan`]; emit [`Event::ValidatorsElected`] or [`Event::ValidatorSetKept`].
	///
	/// Incumbents are the first `MaxValidators` of `CurrentValidators` that have session keys;
	/// winners qualify when they have session keys and are registered providers.
	fn plan_validators(
		epoch: u32,
		session: u32,
		winners: &[T::AccountId],
	) -> Option<BoundedVec<T::AccountId, T::MaxValidators>> {
		let max = T::MaxValidators::get();
		let incumbents = Self::keyed_incumbents();
		// A newcomer must have session keys and still be a registered provider: its provider
		// bond is what an equivocation of its would slash (one that withdrew its bond after
		// earning its tickets would validate with nothing at stake).
		let qualified: Vec<T::AccountId> = winners
			.iter()
			.filter(|w| T::ValidatorKeys::contains(w) && T::Providers::contains(w))
			.cloned()
			.collect();
		let limits = SeatLimits {
			min: MinValidators::<T>::get(),
			max,
			max_changes: T::MaxSeatChanges::get(),
		};
		match seats::plan(&incumbents, &qualified, limits) {
			Ok(plan) => {
				Self::note_leavers(session, &plan.validators);
				let validators = BoundedVec::truncate_from(plan.validators);
				Self::deposit_event(Event::ValidatorsElected {
					epoch,
					session,
					validators: validators.clone(),
					newcomers: plan.newcomers,
					incumbents: plan.incumbents,
				});
				Some(validators)
			},
			Err(short) => {
				// pallet-session keeps the current set but drops those without session keys:
				// they leave after `session - 1` too.
				Self::note_leavers(session, &incumbents);
				Self::deposit_event(Event::ValidatorSetKept {
					epoch,
					session,
					qualified: short.winners,
					incumbents: short.holdovers,
					required: limits.min,
				});
				None
			},
		}
	}

	/// The first `MaxValidators` of `CurrentValidators` that have session keys.
	fn keyed_incumbents() -> Vec<T::AccountId> {
		T::CurrentValidators::get()
			.into_iter()
			.take(T::MaxValidators::get().saturated_into())
			.filter(T::ValidatorKeys::contains)
			.collect()
	}

	/// Record the last session of every current validator the plan for `session` leaves out:
	/// they sit in `session - 1` and leave after it ([`LastSeatedSession`]). One write per
	/// leaver, charged here (at most the current set, `MaxSeatChanges` unless keys were
	/// dropped or `MaxValidators` lowered).
	fn note_leavers(session: u32, planned: &[T::AccountId]) {
		let last = session.saturating_sub(1);
		let mut leavers: u64 = 0;
		for who in T::CurrentValidators::get() {
			if !planned.contains(&who) {
				LastSeatedSession::<T>::insert(&who, last);
				leavers = leavers.saturating_add(1);
			}
		}
		frame_system::Pallet::<T>::register_extra_weight_unchecked(
			T::DbWeight::get().writes(leavers),
			DispatchClass::Mandatory,
		);
	}

	/// The last session `who` sits in as a validator, as far as this pallet planned it: the
	/// planned session if the last plan seats it (the set after the current one), `current`
	/// if it sits in the current set (`CurrentValidators`), otherwise the last session
	/// recorded when a plan left it out ([`LastSeatedSession`]); `None` if it never sat.
	/// `current` is the caller's current session index (pallet-session's).
	pub fn last_seated_session(who: &T::AccountId, current: u32) -> Option<u32> {
		let planned = LastOutcome::<T>::get()
			.and_then(|o| o.validators)
			.filter(|v| v.contains(who))
			.map(|_| current.saturating_add(1));
		planned
			.or_else(|| T::CurrentValidators::get().contains(who).then_some(current))
			.or_else(|| LastSeatedSession::<T>::get(who))
	}

	/// Forget `who`'s seat history (its bond was withdrawn).
	pub fn forget_seat(who: &T::AccountId) {
		LastSeatedSession::<T>::remove(who);
	}

	/// The validator set for session `index`, or `None` to keep the current one: the same as
	/// [`pallet_session::SessionManager::new_session`] (kept for older runtime adapters).
	pub fn next_validators(index: u32) -> Option<Vec<T::AccountId>> {
		Self::on_new_session(index)
	}

	/// The open draw.
	pub fn current_draw() -> Option<DrawInfoOf<T>> {
		CurrentDraw::<T>::get()
	}

	/// `who`'s standing in the open draw.
	pub fn provider_view(who: &T::AccountId) -> ProviderView {
		let draw = CurrentDraw::<T>::get();
		let epoch = draw.as_ref().map(|d| d.epoch).unwrap_or(0);
		let tickets = draw.as_ref().and_then(|d| Tickets::<T>::get(d.epoch, who)).unwrap_or(0);
		let threshold = draw
			.as_ref()
			.map(|d| vrf::threshold(u128::from(tickets), d.total_tickets, d.expected_winners))
			.unwrap_or(0);
		let claim = draw.as_ref().and_then(|d| Claims::<T>::get(d.epoch, who));
		ProviderView { epoch, tickets, threshold, vrf_key: VrfKeys::<T>::get(who), claim }
	}

	/// Accepted claims of the open draw.
	pub fn current_winners() -> Vec<(T::AccountId, ClaimRecord)> {
		match CurrentDraw::<T>::get() {
			Some(d) => Claims::<T>::iter_prefix(d.epoch).collect(),
			None => Vec::new(),
		}
	}

	/// The invariants of this pallet.
	///
	/// # Invariants
	///
	/// - Tickets exist for the open draw, the draw after it (credited so far) and closed draws
	///   not yet pruned (from [`FirstUnprunedDraw`]); none for later draws. The open draw's
	///   tickets sum to its `total_tickets` and count its `providers`; the next draw's match its
	///   [`TicketTotals`], the only ones kept. Claims exist only for the open draw and count
	///   its `winners` (at most `MaxWinners`).
	/// - The [`Ranking`] holds exactly the open draw's claims (same accounts, same outputs),
	///   strictly ascending by [`vrf::rank`]; it is empty when no draw is open.
	/// - Every claimant holds tickets, has a VRF key active for the draw, and its recorded
	///   output is below its threshold, which matches its tickets' share.
	/// - The last outcome seats only its winners and the incumbents (`CurrentValidators`, the
	///   set it was planned from while the session lasts), without duplicates, between
	///   `MinValidators` and `MaxValidators`.
	/// - The floor [`MinValidators`] is within `1..=MaxValidators`.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let floor = MinValidators::<T>::get();
		ensure!(floor >= 1 && floor <= T::MaxValidators::get(), "the floor is out of bounds");
		let draw = CurrentDraw::<T>::get();
		let open = draw.as_ref().map(|d| d.epoch);
		// Before the first draw opens, the work of epoch 0 is credited to draw 1.
		let next = open.map_or(1, |e| e.saturating_add(1));
		let first = FirstUnprunedDraw::<T>::get();
		ensure!(open.is_none_or(|e| first <= e), "an open or later draw's tickets were pruned");
		let mut sums: alloc::collections::BTreeMap<u32, TicketTotal> = Default::default();
		for (epoch, _, tickets) in Tickets::<T>::iter() {
			ensure!(epoch >= first, "tickets of a pruned draw");
			ensure!(epoch <= next, "tickets of a draw after the next");
			ensure!(tickets > 0, "zero tickets stored");
			let sum = sums.entry(epoch).or_default();
			sum.tickets = sum.tickets.saturating_add(u128::from(tickets));
			sum.providers = sum.providers.saturating_add(1);
		}
		for (epoch, credited) in TicketTotals::<T>::iter() {
			ensure!(epoch == next, "credited totals of a draw other than the next");
			ensure!(
				sums.get(&epoch).copied().unwrap_or_default() == credited,
				"the next draw's credited totals do not match its tickets"
			);
		}
		ensure!(
			sums.get(&next).is_none() || TicketTotals::<T>::contains_key(next),
			"the next draw holds tickets without totals"
		);
		let opened = open.and_then(|e| sums.get(&e).copied()).unwrap_or_default();
		let (total, providers) = (opened.tickets, opened.providers);
		let mut winners: u32 = 0;
		for (epoch, who, claim) in Claims::<T>::iter() {
			let Some(d) = draw.as_ref().filter(|d| d.epoch == epoch) else {
				return Err("claim of a closed draw".into());
			};
			let tickets = Tickets::<T>::get(epoch, &who).unwrap_or(0);
			ensure!(tickets > 0, "a winner holds no tickets");
			let key = VrfKeys::<T>::get(&who).ok_or("a winner has no VRF key")?;
			ensure!(key.active_from <= epoch, "a winner's key was not active");
			ensure!(
				claim.threshold ==
					vrf::threshold(u128::from(tickets), d.total_tickets, d.expected_winners),
				"a claim's threshold does not match its tickets"
			);
			ensure!(vrf::is_winner(&claim.output, claim.threshold), "a claim is above threshold");
			winners = winners.saturating_add(1);
		}
		let ranking = Ranking::<T>::get();
		ensure!(
			ranking.windows(2).all(|p| p[0].rank() < p[1].rank()),
			"the ranking is not strictly ascending"
		);
		ensure!(ranking.len() as u32 == winners, "the ranking does not count the claims");
		for c in ranking.iter() {
			let d = draw.as_ref().ok_or("a ranking without a draw")?;
			let claim = Claims::<T>::get(d.epoch, &c.who).ok_or("a ranked claim is missing")?;
			ensure!(claim.output == c.output, "a ranked output differs from its claim");
		}
		match draw {
			Some(d) => {
				ensure!(d.total_tickets == total, "ticket total mismatch");
				ensure!(d.providers == providers, "ticket holder count mismatch");
				ensure!(d.winners == winners, "winner count mismatch");
				ensure!(d.winners <= T::MaxWinners::get(), "too many winners");
			},
			None => ensure!(winners == 0, "claims without a draw"),
		}
		if let Some(o) = LastOutcome::<T>::get() {
			if let Some(v) = o.validators {
				let incumbents = T::CurrentValidators::get();
				ensure!(
					v.iter().all(|w| o.winners.contains(w) || incumbents.contains(w)),
					"a validator is neither a winner nor an incumbent"
				);
				let mut distinct = v.to_vec();
				distinct.sort();
				distinct.dedup();
				ensure!(distinct.len() == v.len(), "a validator is seated twice");
				// Not against today's floor: root may have raised it since this plan was made
				// (`set_min_validators`), and the next plan meets it. The planner's own tests
				// check the floor at planning time.
				ensure!(!v.is_empty(), "an empty validator set is planned");
				ensure!(v.len() as u32 <= T::MaxValidators::get(), "too many validators");
			}
		}
		Ok(())
	}
}

impl<T: Config> pallet_session::SessionManager<T::AccountId> for Pallet<T> {
	/// Close the open draw and open the next one; see the module docs.
	fn new_session(new_index: u32) -> Option<Vec<T::AccountId>> {
		Self::on_new_session(new_index)
	}

	/// Genesis keeps the genesis validators; the first draw opens at the first rotation.
	fn new_session_genesis(_new_index: u32) -> Option<Vec<T::AccountId>> {
		None
	}

	/// Nothing to do: the work happens in `new_session`, called in the same block.
	fn end_session(_end_index: u32) {}

	/// Nothing to do: the work happens in `new_session`, called in the same block.
	fn start_session(_start_index: u32) {}
}

//! Trust: which providers may carry a verdict.
//!
//! Iterative redundancy alone accepts a wrong result whenever colluders happen to lead by the
//! margin before an honest replica is drawn: with a fifth of the pool colluding and a margin of
//! two, about one job in twenty-five starts with two colluders. Trust closes that door.
//!
//! - **Anchors** are accounts the force origin (governance) appoints ([`Pallet::set_anchor`],
//!   or the genesis config): reference providers run by parties the network already relies on,
//!   as a BOINC project runs its own hosts. At most `MaxAnchors`.
//! - **Vouching.** A provider earns one point of [`Trust`] each time a result it agreed on is
//!   accepted together with *another* trusted provider in the agreeing group, if it was drawn
//!   in the job's first wave (blind: no result of the job was public yet, so it cannot have
//!   copied one); at
//!   `TrustThreshold` points it is trusted itself, so trust spreads from the anchors to the
//!   providers that keep computing what they compute. Points stop at `TrustCap`.
//! - **Acceptance.** Once at least one anchor is appointed, a result is accepted only when its
//!   agreeing group holds at least one trusted provider; a group that leads by the margin
//!   without one gets one more replica drawn, and is disputed when no more can be drawn.
//! - **Losing trust.** A dissent from the accepted result, or any fault (no-show), halves the
//!   provider's points.
//!
//! Why this stops colluders: a provider becomes trusted only by agreeing with an already
//! trusted one, so trust only ever reaches providers that returned the results the anchors
//! return. A ring that always returns its own shared wrong result never agrees with an
//! anchor or with anyone vouched by one: however many of its members lead a job, the group
//! holds no trusted member and cannot be accepted. The ring's wrong result is accepted only if
//! a trusted provider reveals it too: that takes an anchor that lies, or a member that worked
//! honestly long enough to be vouched for and then cheats (the "smart colluder" the
//! verification benchmark measures separately; see `docs/protocol.md`).
//!
//! A trusted dissenter is not slashed for a wrong result (it only loses half its points): a
//! provider whose results have matched the trusted ones job after job and now differs is far
//! more likely to have met a non-deterministic program (a coin flip, the host's CPU model)
//! than to have started lying, and the clear-majority slash would otherwise fall on honest
//! providers whenever a customer's program is not deterministic. An untrusted dissenter is
//! judged as before ([`crate::verdict::clear_majority`]).
//!
//! A chain with no anchor appointed accepts as plain iterative redundancy did, so a new chain
//! works before governance acts; `docs/protocol.md` says what that leaves open.

use crate::pallet::*;
use alloc::vec::Vec;
use frame_support::pallet_prelude::*;

impl<T: Config> Pallet<T> {
	/// Weight of one verdict's trust bookkeeping over `members` revealed members, added to the
	/// measured weights of the calls and hooks that take verdicts (`reveal_result`, the
	/// deadline hook), whose benchmarks run with no anchor appointed: the anchor count, then
	/// each member's anchor entry and points read twice (the acceptance check, then vouching or
	/// the dissent) and its points written.
	pub fn trust_weight(members: u32) -> Weight {
		T::DbWeight::get()
			.reads_writes(1u64.saturating_add(4u64.saturating_mul(members.into())), members.into())
	}

	/// Whether verdicts need a trusted provider in the agreeing group: some anchor is
	/// appointed.
	pub fn trust_required() -> bool {
		Anchors::<T>::count() > 0
	}

	/// Whether `who` is trusted: an anchor, or vouched for at least `TrustThreshold` times.
	pub fn is_trusted(who: &T::AccountId) -> bool {
		Anchors::<T>::contains_key(who) || Trust::<T>::get(who) >= T::TrustThreshold::get()
	}

	/// Whether a result agreed on by `agreeing` may be accepted: trust is not required, or one
	/// of them is trusted.
	pub(crate) fn carries_verdict<'a>(mut agreeing: impl Iterator<Item = &'a T::AccountId>) -> bool
	where
		T::AccountId: 'a,
	{
		!Self::trust_required() || agreeing.any(|who| Self::is_trusted(who))
	}

	/// After a result agreed on by `agreeing` was accepted: each member drawn blind (`true`:
	/// in the job's first wave, before any result of the job could be public) with another
	/// trusted member beside it gains a point (up to `TrustCap`).
	///
	/// Trust is judged as it stood before this verdict, so two providers vouched for by one
	/// verdict do not vouch for each other in it. A member of a later wave may have been drawn
	/// after the first reveals were public and copied one: its agreement is not independent,
	/// so it earns nothing (it still carries the verdict if it is already trusted).
	pub(crate) fn vouch(agreeing: &[(T::AccountId, bool)]) {
		let trusted: Vec<bool> = agreeing.iter().map(|(who, _)| Self::is_trusted(who)).collect();
		let count = trusted.iter().filter(|t| **t).count();
		if count == 0 {
			return;
		}
		let cap = T::TrustCap::get();
		for ((who, blind), own) in agreeing.iter().zip(trusted.iter()) {
			// Another trusted member: all of them, less itself if it is one.
			if *blind && count > usize::from(*own) {
				Trust::<T>::mutate(who, |points| *points = points.saturating_add(1).min(cap));
			}
		}
	}

	/// `who` dissented from an accepted result or was faulted: its points are halved. Returns
	/// the points left.
	pub(crate) fn lose_trust(who: &T::AccountId) -> u32 {
		Trust::<T>::mutate_exists(who, |points| {
			let left = points.unwrap_or(0) / 2;
			*points = (left > 0).then_some(left);
			left
		})
	}

	/// The invariants of trust (part of [`Pallet::do_try_state`]).
	///
	/// # Invariants
	///
	/// - The anchor counter equals the number of anchors, at most `MaxAnchors`.
	/// - Every [`Trust`] entry belongs to a registered provider (withdrawing the bond forgets
	///   it) and holds between 1 and `TrustCap` points (a halving to 0 removes the entry).
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub(crate) fn try_state_trust() -> Result<(), sp_runtime::TryRuntimeError> {
		let anchors = Anchors::<T>::iter_keys().count();
		ensure!(anchors == Anchors::<T>::count() as usize, "anchor counter off");
		ensure!(Anchors::<T>::count() <= T::MaxAnchors::get(), "more anchors than MaxAnchors");
		let cap = T::TrustCap::get();
		for (who, points) in Trust::<T>::iter() {
			ensure!(Providers::<T>::contains_key(&who), "trust of an unregistered account");
			ensure!(points >= 1 && points <= cap, "trust points out of bounds");
		}
		Ok(())
	}
}

//! Slashing a provider's bond for a consensus offence.
//!
//! Validators are seated from registered providers by the VRF lottery, so a validator that
//! equivocates (two BABE blocks for one slot, two GRANDPA votes in one round) answers with its
//! provider bond. The runtime's `OnOffenceHandler`, which pallet-offences calls for every
//! offence report, calls [`Pallet::slash_for_offence`] for each offender with the offence's slash
//! fraction and the session it happened in.
//!
//! Slashes of one session do not add up, as in polkadot-sdk's staking: a provider loses at most
//! the highest fraction among its offences in that session. [`OffenceSlashes`] records the
//! fraction already slashed per session and provider, and a later report in the same session
//! slashes only what a higher fraction adds. This matters because pallet-offences reports the
//! earlier offenders of a slot again, with the raised fraction, whenever another offender of
//! the same slot is reported.

use frame_support::{
	pallet_prelude::Weight,
	traits::{
		fungible::{BalancedHold, Credit},
		Get, OnUnbalanced,
	},
};
use sp_runtime::{traits::Zero, Perbill, Saturating};

use crate::{pallet::*, BalanceOf};

impl<T: Config> Pallet<T> {
	/// Slash `who`'s provider bond for a consensus offence of `session`, up to `fraction` of
	/// the bond in all for that session; returns the amount slashed now.
	///
	/// - No provider record (the offender is not, or no longer, a provider): nothing happens
	///   and nothing is recorded; returns zero.
	/// - `fraction` not above the fraction already slashed for `session` ([`OffenceSlashes`]):
	///   nothing happens; returns zero.
	/// - Otherwise the bond left loses the share that brings the session's total to `fraction`
	///   of the bond it had before the session's first slash (`(fraction − done) / (1 − done)`
	///   of what is left, `done` being the fraction already slashed), the hold shrinks by the
	///   same amount (the slashed funds go to `OnSlash`), the record keeps `fraction`, and
	///   [`Event::OffenceSlashed`] is emitted.
	///
	/// The provider stays registered with the smaller bond (below `MinBond` it is no longer
	/// drawn for jobs); an unbonding provider is slashed as well. Its reputation and trust are
	/// not touched: an equivocation says nothing of its results.
	pub fn slash_for_offence(who: &T::AccountId, session: u32, fraction: Perbill) -> BalanceOf<T> {
		let Some(mut info) = Providers::<T>::get(who) else { return Zero::zero() };
		let done = OffenceSlashes::<T>::get(session, who).unwrap_or_default();
		if fraction <= done {
			return Zero::zero();
		}
		// `done < fraction <= 1`, so `left` is not zero.
		let left = Perbill::one().saturating_sub(done);
		let share =
			Perbill::from_rational(fraction.saturating_sub(done).deconstruct(), left.deconstruct());
		let amount = share * info.bond;
		let (credit, missing): (Credit<T::AccountId, T::Currency>, _) =
			<T::Currency as BalancedHold<T::AccountId>>::slash(
				&HoldReason::ProviderBond.into(),
				who,
				amount,
			);
		T::OnSlash::on_unbalanced(credit);
		let slashed = amount.saturating_sub(missing);
		info.bond = info.bond.saturating_sub(slashed);
		Providers::<T>::insert(who, info);
		// Same class: the weight only falls, which cannot fail.
		let _ = Self::reindex(who);
		OffenceSlashes::<T>::insert(session, who, fraction);
		Self::deposit_event(Event::OffenceSlashed { who: who.clone(), session, fraction, slashed });
		slashed
	}

	/// Forget the offence slashes recorded for `session` ([`OffenceSlashes`]).
	///
	/// The runtime calls it for the session that leaves the window in which offences can still
	/// be reported (their key-ownership proofs no longer verify afterwards). A session holds at
	/// most one record per validator of that session.
	pub fn prune_offence_slashes(session: u32) {
		let _ = OffenceSlashes::<T>::clear_prefix(session, u32::MAX, None);
	}

	/// An upper bound of the weight of [`Self::slash_for_offence`]: the provider record, the
	/// session's record, the hold and the account read; the same written, and the total issuance
	/// (the slash is burnt or paid out by `OnSlash`); and the provider's reindex, which costs at
	/// most a heartbeat that brings it back into the draw index (benchmarked so).
	pub fn offence_slash_weight() -> Weight {
		T::DbWeight::get()
			.reads_writes(5, 6)
			.saturating_add(<T::WeightInfo as crate::WeightInfo>::heartbeat())
	}
}

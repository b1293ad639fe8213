//! Runtime API for workers and explorers: everything needed to recompute the lottery.
//!
//! The runtime implements it with [`crate::Pallet::current_draw`],
//! [`crate::Pallet::provider_view`], [`crate::Pallet::current_winners`] and
//! [`crate::Pallet::last_outcome_view`].

use crate::{ClaimRecord, DrawInfo, ProviderView};
use alloc::vec::Vec;
use codec::{Codec, Decode, Encode};
use core::fmt::Debug;
use scale_info::TypeInfo;

/// The result of the last closed draw.
#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug, TypeInfo)]
pub struct OutcomeView<AccountId, Balance> {
	/// The draw's epoch.
	pub epoch: u32,
	/// Winners, by ascending VRF output.
	pub winners: Vec<AccountId>,
	/// Paid to each winner.
	pub payout: Balance,
	/// The validator set planned from the winners, or `None` if the current set stayed.
	pub validators: Option<Vec<AccountId>>,
}

sp_api::decl_runtime_apis! {
	/// The PoVM lottery API.
	pub trait VrfLotteryApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// The open draw: epoch, seed, total tickets, expected winners, claims so far.
		fn current_draw() -> Option<DrawInfo<BlockNumber>>;
		/// A provider's tickets, threshold, VRF key and claim in the open draw.
		fn provider(who: AccountId) -> ProviderView;
		/// Accepted claims of the open draw: who, output and threshold.
		fn winners() -> Vec<(AccountId, ClaimRecord)>;
		/// The last closed draw: winners, payout and the validator set it planned.
		fn last_outcome() -> Option<OutcomeView<AccountId, Balance>>;
	}
}

impl<T: crate::Config> crate::Pallet<T> {
	/// The last outcome as seen through [`VrfLotteryApi::last_outcome`].
	pub fn last_outcome_view() -> Option<OutcomeView<T::AccountId, crate::BalanceOf<T>>> {
		crate::LastOutcome::<T>::get().map(|o| OutcomeView {
			epoch: o.epoch,
			winners: o.winners.into_inner(),
			payout: o.payout,
			validators: o.validators.map(|v| v.into_inner()),
		})
	}
}

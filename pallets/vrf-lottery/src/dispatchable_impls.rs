//! The calls' logic: VRF key registration and claims.

use crate::{pallet::*, types::*, vrf};
use frame_support::{pallet_prelude::*, traits::Contains};
use sp_core::sr25519;

impl<T: Config> Pallet<T> {
	/// Register `key` for `who`; see [`Pallet::register_vrf_key`].
	pub(crate) fn do_register_vrf_key(who: T::AccountId, key: sr25519::Public) -> DispatchResult {
		let current = CurrentDraw::<T>::get();
		let has_tickets =
			current.as_ref().is_some_and(|d| Tickets::<T>::contains_key(d.epoch, &who));
		let is_provider = T::Providers::contains(&who);
		ensure!(has_tickets || is_provider, Error::<T>::NotProvider);
		ensure!(vrf::is_valid_key(&key), Error::<T>::InvalidVrfKey);
		let on_record = VrfKeys::<T>::get(&who).map(|r| r.key);
		ensure!(on_record != Some(key), Error::<T>::KeyAlreadyRegistered);
		let epoch = current.map(|d| d.epoch).unwrap_or(0);
		let active_from = epoch.saturating_add(T::KeyActivationDelay::get());
		VrfKeys::<T>::insert(&who, VrfKeyRecord { key, active_from });
		Self::deposit_event(Event::VrfKeyRegistered { who, key, active_from });
		Ok(())
	}

	/// Verify and record a claim; see [`Pallet::claim_ticket`].
	pub(crate) fn do_claim_ticket(
		who: T::AccountId,
		epoch: u32,
		signature: VrfProofBytes,
	) -> DispatchResult {
		let mut draw = CurrentDraw::<T>::get().ok_or(Error::<T>::NoDraw)?;
		ensure!(epoch >= draw.epoch, Error::<T>::ClaimWindowClosed);
		ensure!(epoch == draw.epoch, Error::<T>::WrongEpoch);
		ensure!(!Claims::<T>::contains_key(epoch, &who), Error::<T>::AlreadyClaimed);
		let tickets = Tickets::<T>::get(epoch, &who).unwrap_or(0);
		ensure!(tickets > 0, Error::<T>::NoTickets);
		let record = VrfKeys::<T>::get(&who).ok_or(Error::<T>::NoVrfKey)?;
		ensure!(record.active_from <= epoch, Error::<T>::KeyNotYetActive);

		let signature = signature.to_signature().ok_or(Error::<T>::InvalidVrfProof)?;
		let data = vrf::lottery_transcript(&draw.seed, epoch, &who);
		let output = vrf::verify_output(&record.key, &data, &signature)
			.ok_or(Error::<T>::InvalidVrfProof)?;
		let threshold =
			vrf::threshold(u128::from(tickets), draw.total_tickets, draw.expected_winners);
		ensure!(vrf::is_winner(&output, threshold), Error::<T>::AboveThreshold);

		// Keep the `MaxWinners` lowest outputs: when full, a lower output displaces the worst.
		let mut ranking = Ranking::<T>::get();
		let rank = vrf::rank(&output, threshold);
		let at = ranking.partition_point(|c| c.rank() < rank);
		let displaced = if ranking.len() as u32 >= T::MaxWinners::get() {
			let worst = ranking.last().map(|c| c.rank());
			ensure!(worst.is_some_and(|w| rank < w), Error::<T>::OutbidByLowerOutputs);
			ranking.pop()
		} else {
			None
		};
		ranking
			.try_insert(at, RankedClaim { output, who: who.clone(), threshold })
			.map_err(|_| Error::<T>::OutbidByLowerOutputs)?;

		draw.winners = ranking.len() as u32;
		CurrentDraw::<T>::put(draw);
		Ranking::<T>::put(ranking);
		if let Some(out) = displaced {
			Claims::<T>::remove(epoch, &out.who);
			Self::deposit_event(Event::ClaimDisplaced { epoch, who: out.who });
		}
		Claims::<T>::insert(epoch, &who, ClaimRecord { output, threshold });
		Self::deposit_event(Event::TicketClaimed { epoch, who, output, threshold });
		Ok(())
	}
}

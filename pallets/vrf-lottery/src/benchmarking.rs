//! Benchmarks (v2) for the lottery: both calls and the per-provider / per-winner cost of the
//! session-boundary work.
//!
//! `claim_ticket` verifies a real sr25519 VRF signature. With `std` (native benchmark tests)
//! the setup signs with `sr25519::Pair::from_seed`; a `no_std` (WASM) runtime cannot sign
//! (schnorrkel needs an RNG), so it uses the precomputed [`crate::vrf::fixture`], which is valid
//! when the account id encodes to 32 raw bytes (`AccountId32`).

use super::*;
use crate::pallet::{Claims, CurrentDraw, FirstUnprunedDraw, Ranking, Tickets, VrfKeys};
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		Get,
	},
	BoundedVec,
};
use frame_system::RawOrigin;
use povm_primitives::TicketLedger;
use sp_core::sr25519;
use sp_runtime::Perbill;

/// A claim on draw (`SEED`, `EPOCH`): the claimant, its key and its signature.
#[cfg(feature = "std")]
fn signed_claim<T: Config>(
) -> Result<(T::AccountId, sr25519::Public, VrfProofBytes), BenchmarkError> {
	use sp_core::Pair;
	let who: T::AccountId = whitelisted_caller();
	let pair = sr25519::Pair::from_seed(&vrf::fixture::KEY_SEED);
	let (sig, _) = vrf::evaluate(&pair, &vrf::fixture::SEED, vrf::fixture::EPOCH, &who);
	Ok((who, pair.public(), (&sig).into()))
}

/// A claim on draw (`SEED`, `EPOCH`): the claimant, its key and its signature.
#[cfg(not(feature = "std"))]
fn signed_claim<T: Config>(
) -> Result<(T::AccountId, sr25519::Public, VrfProofBytes), BenchmarkError> {
	use codec::Decode;
	use vrf::fixture::*;
	let who = T::AccountId::decode(&mut &ACCOUNT[..])
		.map_err(|_| BenchmarkError::Stop("account id is not 32 bytes"))?;
	Ok((
		who,
		sr25519::Public::from_raw(PUBLIC),
		VrfProofBytes { pre_output: PRE_OUTPUT, proof: PROOF },
	))
}

/// Open the benchmark draw with the given totals.
fn put_draw<T: Config>(total_tickets: u128, providers: u32, winners: u32) {
	CurrentDraw::<T>::put(DrawInfo {
		epoch: vrf::fixture::EPOCH,
		work_epoch: vrf::fixture::EPOCH - 1,
		seed: vrf::fixture::SEED,
		total_tickets,
		providers,
		expected_winners: 1,
		winners,
		opened_at: frame_system::Pallet::<T>::block_number(),
	});
}

/// An output whose rank is worse than every real winner's: value `u128::MAX - i`.
fn poor_output(i: u32) -> VrfOutput {
	let mut output = [0u8; 32];
	output[..16].copy_from_slice(&(u128::MAX - u128::from(i)).to_le_bytes());
	output[16..20].copy_from_slice(&i.to_le_bytes());
	output
}

/// Tickets in the benchmark draw.
pub(crate) const BENCH_TOTAL: u128 = 1_000_000;

/// The claimant's tickets of [`BENCH_TOTAL`] at which `output` wins with a threshold about
/// twice its value, or just below certainty for a value above half the range (so that the
/// threshold is never `u128::MAX`, whose rank skips the division every other claim pays):
/// `⌈2 × value × BENCH_TOTAL / (2^128 − 1)⌉`, within `1..BENCH_TOTAL`.
pub(crate) fn winning_tickets(output: &VrfOutput) -> u64 {
	let value = vrf::output_value(output);
	let tickets = sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(
		value,
		BENCH_TOTAL.saturating_mul(2),
		u128::MAX,
		sp_runtime::Rounding::Up,
	)
	.unwrap_or(BENCH_TOTAL);
	u64::try_from(tickets.clamp(1, BENCH_TOTAL.saturating_sub(1))).unwrap_or(1)
}

/// A rank just ahead of every claim [`fill_ranking`] keeps for `n`: a claim ranked before it
/// is inserted first.
pub(crate) fn ahead_of_every_kept(n: u32) -> (u128, VrfOutput) {
	vrf::rank(&poor_output(n), u128::MAX)
}

/// Fill the benchmark draw's ranking with `n` kept claims of accounts `("kept", i)`, outputs
/// [`poor_output`], best first, each with its `Claims` record.
fn fill_ranking<T: Config>(n: u32) -> Result<Vec<T::AccountId>, BenchmarkError> {
	let mut kept = Vec::new();
	let mut who_all = Vec::new();
	for i in (0..n).rev() {
		let who: T::AccountId = account("kept", i, 0);
		let output = poor_output(i);
		Claims::<T>::insert(
			vrf::fixture::EPOCH,
			&who,
			ClaimRecord { output, threshold: u128::MAX },
		);
		kept.push(RankedClaim { output, who: who.clone(), threshold: u128::MAX });
		who_all.push(who);
	}
	let ranking =
		BoundedVec::try_from(kept).map_err(|_| BenchmarkError::Stop("ranking over MaxWinners"))?;
	Ranking::<T>::put(ranking);
	Ok(who_all)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// An account holding tickets (and checked against the provider registry) replaces its key:
	/// the record read finds an earlier key.
	#[benchmark]
	fn register_vrf_key() {
		let caller: T::AccountId = whitelisted_caller();
		put_draw::<T>(1, 1, 0);
		Tickets::<T>::insert(vrf::fixture::EPOCH, &caller, 1);
		let earlier = sr25519::Public::from_raw([0u8; 32]);
		VrfKeys::<T>::insert(&caller, VrfKeyRecord { key: earlier, active_from: 0 });
		let key = sr25519::Public::from_raw(vrf::fixture::PUBLIC);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), key);
		assert_eq!(VrfKeys::<T>::get(&caller).map(|r| r.key), Some(key));
	}

	#[benchmark]
	fn set_min_validators() {
		let floor = T::MaxValidators::get();
		#[extrinsic_call]
		_(RawOrigin::Root, floor);
		assert_eq!(MinValidators::<T>::get(), floor);
	}

	/// A winning claim in a full draw: VRF verification, a threshold below 2^128, and the
	/// worst case of the ranking: `MaxWinners` kept claims, all worse, so the claim is
	/// inserted first (the whole ranking moves) and displaces the worst (its record removed).
	#[benchmark]
	fn claim_ticket() -> Result<(), BenchmarkError> {
		let (who, key, sig) = signed_claim::<T>()?;
		let signature = sig.to_signature().ok_or(BenchmarkError::Stop("bad signature"))?;
		let data = vrf::lottery_transcript(&vrf::fixture::SEED, vrf::fixture::EPOCH, &who);
		let output = vrf::verify_output(&key, &data, &signature)
			.ok_or(BenchmarkError::Stop("signature does not verify"))?;
		let tickets = winning_tickets(&output);
		let threshold = vrf::threshold(tickets.into(), BENCH_TOTAL, 1);
		let max = T::MaxWinners::get();
		put_draw::<T>(BENCH_TOTAL, 1, max);
		Tickets::<T>::insert(vrf::fixture::EPOCH, &who, tickets);
		VrfKeys::<T>::insert(&who, VrfKeyRecord { key, active_from: 0 });
		if vrf::rank(&output, threshold) >= ahead_of_every_kept(max) {
			return Err(BenchmarkError::Stop("the claim would not displace"));
		}
		let kept = fill_ranking::<T>(max)?;
		// Built best first: the last is the worst.
		let worst = kept.last().cloned().ok_or(BenchmarkError::Stop("MaxWinners is 0"))?;
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), vrf::fixture::EPOCH, sig);
		assert!(Claims::<T>::contains_key(vrf::fixture::EPOCH, &who));
		assert!(!Claims::<T>::contains_key(vrf::fixture::EPOCH, &worst));
		assert_eq!(Ranking::<T>::get().first().map(|c| c.who.clone()), Some(who));
		assert_eq!(Ranking::<T>::get().len() as u32, max);
		Ok(())
	}

	/// Opening a draw: its tickets were credited as the work was verified, so it reads their
	/// total whatever the number of providers (a thousand are credited here to show it).
	#[benchmark]
	fn open_draw() {
		let epoch = vrf::fixture::EPOCH;
		for i in 0..1_000 {
			let who: T::AccountId = account("provider", i, 0);
			<Pallet<T> as TicketLedger<T::AccountId>>::credit(
				epoch - 1,
				&who,
				3_600_000,
				Perbill::one(),
			);
		}
		#[block]
		{
			Pallet::<T>::open_draw(epoch);
		}
		assert_eq!(CurrentDraw::<T>::get().map(|d| d.providers), Some(1_000));
	}

	/// Pruning `n` tickets of a closed draw (the draw before the open one), all in the
	/// database: the cursor and the open draw read, `n` entries removed, the cursor moved on.
	#[benchmark]
	fn prune_tickets(n: Linear<0, { crate::tickets::PRUNE_AT_BOUNDARY }>) {
		let closed = vrf::fixture::EPOCH - 1;
		for i in 0..n {
			let who: T::AccountId = account("provider", i, 0);
			Tickets::<T>::insert(closed, &who, 1);
		}
		put_draw::<T>(1, 1, 0);
		FirstUnprunedDraw::<T>::put(closed);
		#[block]
		{
			let _ = Pallet::<T>::prune_tickets(n.max(1));
		}
		assert_eq!(Tickets::<T>::iter_prefix(closed).count(), 0);
		assert_eq!(FirstUnprunedDraw::<T>::get(), vrf::fixture::EPOCH);
	}

	/// Closing a draw with `w` winners: sorting, minting, seating, cleanup. Worst case of the
	/// seat plan: every winner has session keys, and `MaxValidators` incumbents, all with
	/// session keys and none a winner, are read and planned with.
	#[benchmark]
	fn close_draw(w: Linear<0, { T::MaxWinners::get() }>) {
		let epoch = vrf::fixture::EPOCH;
		put_draw::<T>(u128::from(w).max(1), w, w);
		let mut ranked = Vec::new();
		for i in 0..w {
			let who: T::AccountId = account("winner", i, 0);
			T::Currency::set_balance(&who, T::Currency::minimum_balance());
			T::BenchmarkHelper::set_session_keys(&who);
			Tickets::<T>::insert(epoch, &who, 1);
			let output = poor_output(i);
			Claims::<T>::insert(epoch, &who, ClaimRecord { output, threshold: u128::MAX });
			ranked.push(RankedClaim { output, who, threshold: u128::MAX });
		}
		ranked.reverse();
		Ranking::<T>::put(BoundedVec::truncate_from(ranked));
		let incumbents: Vec<T::AccountId> = (0..T::MaxValidators::get())
			.map(|i| {
				let who: T::AccountId = account("incumbent", i, 0);
				T::BenchmarkHelper::set_session_keys(&who);
				who
			})
			.collect();
		T::BenchmarkHelper::set_current_validators(incumbents);
		#[block]
		{
			let _ = Pallet::<T>::close_draw(epoch.saturating_add(2));
		}
		assert!(CurrentDraw::<T>::get().is_none());
		assert!(Ranking::<T>::get().is_empty());
		let outcome = LastOutcome::<T>::get();
		assert_eq!(outcome.as_ref().map(|o| o.winners.len() as u32), Some(w));
		assert!(outcome.and_then(|o| o.validators).is_some());
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}

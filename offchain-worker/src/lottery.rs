//! The provider's side of the VRF lottery: keep the VRF key registered, evaluate the VRF in
//! every open draw and claim when it wins.
//!
//! The worker uses the provider key itself as its VRF key. [`decide`] is a pure function of
//! the chain's view (`VrfLotteryApi_current_draw`, `VrfLotteryApi_provider`) and the key, so
//! running it again on every finalised block is harmless: once a claim is on chain, or the
//! draw is lost, there is nothing left to do until the next draw opens.

use pallet_vrf_lottery::{vrf, VrfProofBytes};

use crate::{
	client::{Call, Submitter},
	error::ChainError,
	prelude::*,
	signer::Signer,
};

/// What the provider should do in the lottery now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
	/// No VRF key (or another key) is registered: send `register_vrf_key` with the provider key.
	RegisterKey,
	/// Nothing to do, for the reason given.
	Wait(WaitReason),
	/// The VRF output is below the threshold: send `claim_ticket(epoch, signature)`.
	Claim {
		/// The open draw's epoch.
		epoch: u32,
		/// The VRF signature to claim with.
		signature: VrfProofBytes,
		/// The VRF output's lottery value.
		value: u128,
		/// The threshold it is below.
		threshold: u128,
	},
	/// The VRF output is not below the threshold.
	Lost {
		/// The open draw's epoch.
		epoch: u32,
		/// The VRF output's lottery value.
		value: u128,
		/// The threshold it is not below.
		threshold: u128,
	},
}

/// Why there is nothing to do in the lottery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitReason {
	/// No draw is open (before the first session boundary).
	NoDraw,
	/// A claim of this provider is already accepted in the open draw.
	Claimed,
	/// The provider holds no tickets in the open draw (no verified work in its work epoch).
	NoTickets,
	/// The VRF key becomes active in a later draw (epoch given).
	KeyNotYetActive(u32),
}

/// The lottery step for `signer` given the open `draw` and its `view` of it.
pub fn decide(signer: &Signer, draw: Option<&DrawView>, view: &LotteryView) -> Decision {
	let Some(key) = &view.vrf_key else { return Decision::RegisterKey };
	if key.key != signer.public() {
		return Decision::RegisterKey;
	}
	let Some(draw) = draw else { return Decision::Wait(WaitReason::NoDraw) };
	if view.claim.is_some() {
		return Decision::Wait(WaitReason::Claimed);
	}
	if view.tickets == 0 {
		return Decision::Wait(WaitReason::NoTickets);
	}
	if key.active_from > draw.epoch {
		return Decision::Wait(WaitReason::KeyNotYetActive(key.active_from));
	}
	let (signature, output) = signer.lottery_vrf(&draw.seed, draw.epoch);
	let value = vrf::output_value(&output);
	if vrf::is_winner(&output, view.threshold) {
		Decision::Claim { epoch: draw.epoch, signature, value, threshold: view.threshold }
	} else {
		Decision::Lost { epoch: draw.epoch, value, threshold: view.threshold }
	}
}

/// Registers the provider key as its VRF key unless it is registered already. Returns the
/// first draw epoch the key may claim in.
pub async fn ensure_vrf_key(submitter: &Submitter) -> Result<u32, ChainError> {
	let client = submitter.client();
	let me = submitter.account().clone();
	let key = submitter.signer().public();
	if let Some(record) = client.lottery_view(&me, None).await?.vrf_key {
		if record.key == key {
			return Ok(record.active_from);
		}
	}
	let call = Call::RegisterVrfKey { key: key.0 };
	// A failed dispatch (not a registered provider) comes back as `ChainError::Dispatch`;
	// on success the record is read at the including block.
	let receipt = submitter.submit_final(&call).await?;
	match client.lottery_view(&me, Some(receipt.block)).await?.vrf_key {
		Some(record) if record.key == key => Ok(record.active_from),
		_ => Err(ChainError::Decode {
			what: "VRF key record",
			message: format!("{} succeeded but the key is not on record", call.name()),
		}),
	}
}

#[cfg(test)]
pub(crate) mod tests {
	use super::*;
	use pallet_vrf_lottery::{ClaimRecord, VrfKeyRecord};

	/// An open draw of `epoch` (shared with the run plan's tests).
	pub(crate) fn draw(epoch: u32) -> DrawView {
		DrawView {
			epoch,
			work_epoch: epoch - 1,
			seed: [3; 32],
			total_tickets: 1000,
			providers: 2,
			expected_winners: 1,
			winners: 0,
			opened_at: 10,
		}
	}

	/// `signer`'s standing in draw 4 (shared with the run plan's tests).
	pub(crate) fn view(
		signer: &Signer,
		tickets: u64,
		threshold: u128,
		active_from: u32,
	) -> LotteryView {
		LotteryView {
			epoch: 4,
			tickets,
			threshold,
			vrf_key: Some(VrfKeyRecord { key: signer.public(), active_from }),
			claim: None,
		}
	}

	#[test]
	fn registers_a_missing_or_foreign_key_first() {
		let me = Signer::from_uri("//Dave").unwrap();
		let other = Signer::from_uri("//Eve").unwrap();
		let mut v = view(&me, 10, u128::MAX, 2);
		v.vrf_key = None;
		assert_eq!(decide(&me, Some(&draw(4)), &v), Decision::RegisterKey);
		let v = view(&other, 10, u128::MAX, 2);
		assert_eq!(decide(&me, Some(&draw(4)), &v), Decision::RegisterKey);
	}

	#[test]
	fn waits_without_draw_tickets_active_key_or_after_claiming() {
		let me = Signer::from_uri("//Dave").unwrap();
		let v = view(&me, 10, u128::MAX, 2);
		assert_eq!(decide(&me, None, &v), Decision::Wait(WaitReason::NoDraw));
		let v0 = view(&me, 0, 0, 2);
		assert_eq!(decide(&me, Some(&draw(4)), &v0), Decision::Wait(WaitReason::NoTickets));
		let late = view(&me, 10, u128::MAX, 6);
		assert_eq!(
			decide(&me, Some(&draw(4)), &late),
			Decision::Wait(WaitReason::KeyNotYetActive(6))
		);
		let mut claimed = view(&me, 10, u128::MAX, 2);
		claimed.claim = Some(ClaimRecord { output: [0; 32], threshold: u128::MAX });
		assert_eq!(decide(&me, Some(&draw(4)), &claimed), Decision::Wait(WaitReason::Claimed));
	}

	#[test]
	fn claims_exactly_when_the_runtime_rule_says_it_won() {
		let me = Signer::from_uri("//Dave").unwrap();
		// Certain win.
		let d = decide(&me, Some(&draw(4)), &view(&me, 10, u128::MAX, 2));
		let Decision::Claim { epoch: 4, signature, .. } = d else { panic!("{d:?}") };
		// The claim verifies under the runtime's rule for this account and draw.
		let data = vrf::lottery_transcript(&[3; 32], 4, me.account());
		let output = vrf::verify_output(&me.public(), &data, &signature.to_signature().unwrap())
			.expect("verifies");
		// Threshold just at and just above the output value: lost, then won.
		let value = vrf::output_value(&output);
		let at = decide(&me, Some(&draw(4)), &view(&me, 10, value, 2));
		assert_eq!(at, Decision::Lost { epoch: 4, value, threshold: value });
		let above = decide(&me, Some(&draw(4)), &view(&me, 10, value.saturating_add(1), 2));
		assert!(matches!(above, Decision::Claim { value: v, .. } if v == value));
	}
}

//! `povm-worker register`: register the VM offer with a bond (or update the offer).

use std::time::Duration;

use pallet_vm_proof::VmOffer;

use crate::{
	client::{ProviderRecord, Submitter},
	error::ChainError,
	prelude::*,
	tx::Call,
};

/// What `register` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Registered {
	/// Newly registered.
	New(ProviderRecord),
	/// Was registered; the offer was replaced.
	Updated(ProviderRecord),
	/// Was registered with this offer already; nothing sent.
	Unchanged(ProviderRecord),
}

/// Registers `offer` with `bond`, idempotently: an existing registration with the same offer
/// sends nothing, one with another offer sends `update_offer`.
pub async fn register(
	submitter: &Submitter,
	offer: VmOffer,
	bond: Balance,
) -> Result<Registered, ChainError> {
	let client = submitter.client();
	let me = submitter.account().clone();
	let existing = client.provider(&me, None).await?;
	let call = match &existing {
		Some(rec) if rec.offer == offer => return Ok(Registered::Unchanged(rec.clone())),
		Some(_) => Call::UpdateOffer { offer },
		None => Call::RegisterProvider { offer, bond },
	};
	submitter.submit_final(&call).await?;
	// The call is final; read the record back (a failed dispatch leaves it unchanged).
	for _ in 0..10 {
		if let Some(rec) = client.provider(&me, None).await? {
			if rec.offer == offer {
				return Ok(match existing {
					None => Registered::New(rec),
					Some(_) => Registered::Updated(rec),
				});
			}
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
	Err(ChainError::Rejected {
		call: call.name(),
		message: "included, but the provider record does not show the offer (dispatch failed: \
		          bond below the minimum, balance too low, or a bad offer?)"
			.into(),
	})
}

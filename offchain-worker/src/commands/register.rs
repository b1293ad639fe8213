//! `povm-worker register`: register the VM offer with a bond (or update the offer).

use pallet_vm_proof::VmOffer;

use crate::{
	client::{Call, ProviderRecord, Submitter},
	error::ChainError,
	prelude::*,
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
		Some(rec) if rec.offer.0 == offer => return Ok(Registered::Unchanged(rec.clone())),
		Some(_) => Call::UpdateOffer { offer },
		None => Call::RegisterProvider { offer, bond },
	};
	// A failed dispatch (bond below the minimum, balance too low, a bad offer) comes back as
	// `ChainError::Dispatch`, named; on success the record is read at the including block.
	let receipt = submitter.submit_final(&call).await?;
	match client.provider(&me, Some(receipt.block)).await? {
		Some(rec) => Ok(match existing {
			None => Registered::New(rec),
			Some(_) => Registered::Updated(rec),
		}),
		None => Err(ChainError::Decode {
			what: "provider record",
			message: format!("{} succeeded but no record is on chain", call.name()),
		}),
	}
}

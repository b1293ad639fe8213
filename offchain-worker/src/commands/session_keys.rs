//! `povm-worker session-keys`: seat-ready session keys for a provider that runs a validator.
//!
//! The lottery seats only winners whose account has session keys (`Session::NextKeys`). The
//! validator node generates the keys in its own keystore with `author_rotateKeysWithOwner`,
//! which also returns the proof that the keys' owner is the provider account; the worker then
//! sends `Session::set_keys(keys, proof)` signed by the provider and waits for its block to be
//! final with the dispatch succeeded.

use codec::Encode;
use jsonrpsee::rpc_params;
use serde::Deserialize;

use crate::{
	client::{from_0x, to_0x, Call, ChainClient, Submitter},
	error::ChainError,
	prelude::*,
};

/// The answer of `author_rotateKeysWithOwner`.
#[derive(Debug, Deserialize)]
struct GeneratedKeys {
	keys: String,
	proof: Option<String>,
}

/// Has `validator` generate session keys owned by the submitter's account, sets them on chain
/// and returns them (SCALE-encoded `SessionKeys`) once the call is final and succeeded.
pub async fn set_session_keys(
	submitter: &Submitter,
	validator: &ChainClient,
) -> Result<Vec<u8>, ChainError> {
	let me = submitter.account().clone();
	let generated: GeneratedKeys = validator
		.request("author_rotateKeysWithOwner", rpc_params![to_0x(&me.encode())])
		.await?;
	let keys = from_0x("session keys", &generated.keys)?;
	let proof = match generated.proof {
		Some(p) => from_0x("session keys proof", &p)?,
		None =>
			return Err(ChainError::Rejected {
				call: "set_keys",
				message: "the validator node returned no ownership proof for the keys".into(),
			}),
	};
	let call = Call::SetSessionKeys { keys: keys.clone(), proof };
	// A failed dispatch (a bad proof, keys in use by another account, no balance for the
	// deposit) comes back as `ChainError::Dispatch`, named.
	let receipt = submitter.submit_final(&call).await?;
	tracing::info!(target: LOG_CLIENT, keys = %to_0x(&keys), block = ?receipt.block, "session keys set");
	Ok(keys)
}

//! `povm-worker session-keys`: seat-ready session keys for a provider that runs a validator.
//!
//! The lottery seats only winners whose account has session keys (`Session::NextKeys`). The
//! validator node generates the keys in its own keystore with `author_rotateKeysWithOwner`,
//! which also returns the proof that the keys' owner is the provider account; the worker then
//! sends `Session::set_keys(keys, proof)` signed by the provider and reads the keys back.

use std::time::Duration;

use codec::Encode;
use jsonrpsee::rpc_params;
use serde::Deserialize;

use crate::{
	client::{from_0x, to_0x, ChainClient, Submitter},
	error::ChainError,
	prelude::*,
	tx::Call,
};

/// The answer of `author_rotateKeysWithOwner`.
#[derive(Debug, Deserialize)]
struct GeneratedKeys {
	keys: String,
	proof: Option<String>,
}

/// The storage key of `Session::NextKeys[who]` (`Twox64Concat`).
pub fn next_keys_key(who: &AccountId) -> Vec<u8> {
	let mut key = sp_io::hashing::twox_128(b"Session").to_vec();
	key.extend(sp_io::hashing::twox_128(b"NextKeys"));
	key.extend(sp_io::hashing::twox_64(who.as_ref()));
	key.extend_from_slice(who.as_ref());
	key
}

/// Has `validator` generate session keys owned by the submitter's account, sets them on chain
/// and returns them (SCALE-encoded `SessionKeys`) once `Session::NextKeys` shows them.
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
		None => {
			return Err(ChainError::Rejected {
				call: "set_keys",
				message: "the validator node returned no ownership proof for the keys".into(),
			})
		},
	};
	let call = Call::SetSessionKeys { keys: keys.clone(), proof };
	submitter.submit_final(&call).await?;
	let client = submitter.client();
	for _ in 0..10 {
		if client.storage(&next_keys_key(&me), None).await?.as_deref() == Some(&keys[..]) {
			tracing::info!(target: LOG_CLIENT, keys = %to_0x(&keys), "session keys set");
			return Ok(keys);
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
	Err(ChainError::Rejected {
		call: call.name(),
		message: "included, but Session::NextKeys does not show the keys (dispatch failed: bad \
		          proof, keys in use by another account, or no balance for the deposit?)"
			.into(),
	})
}

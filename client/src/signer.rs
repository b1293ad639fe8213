//! Signing with an sr25519 key pair of `sp-core` (what `//Alice`-style URIs and the worker's
//! key files give).

use sp_core::{sr25519, Pair};
use subxt::utils::{AccountId32, MultiSignature};

use crate::{types::AccountId, PovmConfig};

/// An sr25519 key pair that signs PoVM transactions.
#[derive(Clone)]
pub struct PairSigner {
	pair: sr25519::Pair,
	account: AccountId,
}

impl std::fmt::Debug for PairSigner {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		// Never the secret.
		f.debug_struct("PairSigner")
			.field("account", &self.account)
			.finish_non_exhaustive()
	}
}

impl PairSigner {
	/// A signer for `pair`.
	pub fn new(pair: sr25519::Pair) -> Self {
		let account = AccountId::new(pair.public().0);
		Self { pair, account }
	}

	/// The signing account.
	pub fn account(&self) -> &AccountId {
		&self.account
	}

	/// The key pair.
	pub fn pair(&self) -> &sr25519::Pair {
		&self.pair
	}
}

impl subxt::tx::Signer<PovmConfig> for PairSigner {
	fn account_id(&self) -> AccountId32 {
		AccountId32(self.pair.public().0)
	}

	fn sign(&self, payload: &[u8]) -> MultiSignature {
		MultiSignature::Sr25519(self.pair.sign(payload).0)
	}
}

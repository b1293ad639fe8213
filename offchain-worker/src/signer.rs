//! The provider's sr25519 key, loaded from a secret URI that never reaches the command line
//! or the logs.

use std::{fmt, path::Path};

use sp_core::{crypto::Pair as _, sr25519};

use crate::{error::ConfigError, prelude::*};

/// Where the secret URI of the provider key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
	/// An environment variable holding the secret URI.
	Env(String),
	/// A file holding the secret URI (surrounding whitespace is ignored).
	File(std::path::PathBuf),
}

/// Signs extrinsics for one account. Its `Debug` shows the account only.
#[derive(Clone)]
pub struct Signer {
	pair: sr25519::Pair,
	account: AccountId,
	/// The same key, as the chain client signs transactions with it.
	pair_signer: povm_client::PairSigner,
}

impl fmt::Debug for Signer {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.debug_struct("Signer").field("account", &self.account).finish_non_exhaustive()
	}
}

impl Signer {
	/// A signer from a secret URI (`//Alice`, a mnemonic, a `0x` seed, with optional
	/// derivation paths). The error never contains the URI.
	pub fn from_uri(uri: &str) -> Result<Self, ConfigError> {
		let pair = sr25519::Pair::from_string(uri.trim(), None)
			.map_err(|_| ConfigError::BadKey("not a valid sr25519 secret URI".into()))?;
		let account = AccountId::from(pair.public());
		let pair_signer = povm_client::PairSigner::new(pair.clone());
		Ok(Self { pair, account, pair_signer })
	}

	/// Loads the secret URI from `source`.
	pub fn load(source: &KeySource) -> Result<Self, ConfigError> {
		match source {
			KeySource::Env(var) => {
				let uri = std::env::var(var).map_err(|_| {
					ConfigError::BadKey(format!("environment variable {var} unset"))
				})?;
				Self::from_uri(&uri)
			},
			KeySource::File(path) => Self::from_file(path),
		}
	}

	fn from_file(path: &Path) -> Result<Self, ConfigError> {
		let uri = std::fs::read_to_string(path).map_err(|e| {
			ConfigError::BadKey(format!("cannot read key file {}: {e}", path.display()))
		})?;
		Self::from_uri(&uri)
	}

	/// The account id.
	pub fn account(&self) -> &AccountId {
		&self.account
	}

	/// The key as the chain client signs transactions with it.
	pub fn pair_signer(&self) -> &povm_client::PairSigner {
		&self.pair_signer
	}

	/// Signs `message`.
	pub fn sign(&self, message: &[u8]) -> sr25519::Signature {
		self.pair.sign(message)
	}

	/// The sr25519 public key (also the provider's lottery VRF key).
	pub fn public(&self) -> sr25519::Public {
		self.pair.public()
	}

	/// Evaluates the lottery VRF for draw `epoch` with `seed`, on the runtime's transcript for
	/// this account: the signature to claim with and the 32 output bytes to compare with the
	/// threshold.
	pub fn lottery_vrf(
		&self,
		seed: &[u8; 32],
		epoch: u32,
	) -> (pallet_vrf_lottery::VrfProofBytes, [u8; 32]) {
		let (signature, output) =
			pallet_vrf_lottery::vrf::evaluate(&self.pair, seed, epoch, &self.account);
		((&signature).into(), output)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::crypto::Ss58Codec;

	#[test]
	fn dev_uri_gives_the_well_known_account() {
		let s = Signer::from_uri("//Alice").unwrap();
		assert_eq!(s.account().to_ss58check(), "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
		assert!(!format!("{s:?}").contains("Alice"));
	}

	#[test]
	fn lottery_vrf_verifies_on_the_runtime_transcript() {
		use pallet_vrf_lottery::vrf;
		let s = Signer::from_uri("//Dave").unwrap();
		let (proof, output) = s.lottery_vrf(&[5; 32], 9);
		let data = vrf::lottery_transcript(&[5; 32], 9, s.account());
		let signature = proof.to_signature().expect("valid encoding");
		assert_eq!(vrf::verify_output(&s.public(), &data, &signature), Some(output));
		// Another epoch is another transcript.
		let other = vrf::lottery_transcript(&[5; 32], 10, s.account());
		assert_eq!(vrf::verify_output(&s.public(), &other, &signature), None);
	}

	#[test]
	fn bad_uri_error_does_not_echo_the_secret() {
		let err = Signer::from_uri("not a secret at all but private").unwrap_err();
		assert!(!err.to_string().contains("private"));
	}

	#[test]
	fn key_file_and_env_are_read() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("key");
		std::fs::write(&path, "//Bob\n").unwrap();
		let s = Signer::load(&KeySource::File(path)).unwrap();
		assert_eq!(s.account(), Signer::from_uri("//Bob").unwrap().account());
		let missing = Signer::load(&KeySource::Env("POVM_TEST_UNSET_VARIABLE_X".into()));
		assert!(missing.is_err());
	}
}

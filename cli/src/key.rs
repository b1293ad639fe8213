//! The customer's sr25519 key: a secret URI (`//Alice`, a mnemonic, a `0x` seed, with optional
//! derivation paths) given directly or read from a key file, in the format `povm-worker`'s
//! `key_file` uses (the secret URI, surrounding whitespace ignored).

use std::path::Path;

use sp_core::{crypto::Pair as _, sr25519};

/// Why no key could be loaded. Never contains the secret.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
	/// Neither `--suri` (`POVM_SURI`) nor `--key-file` was given.
	#[error("this command signs: give --suri (or POVM_SURI) or --key-file")]
	Missing,
	/// The key file could not be read.
	#[error("cannot read key file {path}: {reason}")]
	Unreadable {
		/// The file.
		path: String,
		/// Why.
		reason: String,
	},
	/// Not a valid sr25519 secret URI.
	#[error("not a valid sr25519 secret URI")]
	Invalid,
}

/// The key pair of a secret URI.
pub fn from_uri(uri: &str) -> Result<sr25519::Pair, KeyError> {
	sr25519::Pair::from_string(uri.trim(), None).map_err(|_| KeyError::Invalid)
}

/// The key pair of a key file holding a secret URI.
pub fn from_file(path: &Path) -> Result<sr25519::Pair, KeyError> {
	let uri = std::fs::read_to_string(path).map_err(|e| KeyError::Unreadable {
		path: path.display().to_string(),
		reason: e.to_string(),
	})?;
	from_uri(&uri)
}

/// The key from `--suri` or `--key-file` (at most one is given).
pub fn load(suri: Option<&str>, key_file: Option<&Path>) -> Result<sr25519::Pair, KeyError> {
	match (suri, key_file) {
		(Some(uri), _) => from_uri(uri),
		(None, Some(path)) => from_file(path),
		(None, None) => Err(KeyError::Missing),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::Pair;

	#[test]
	fn a_key_file_holds_the_uri_as_the_worker_reads_it() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("key");
		std::fs::write(&path, "//Bob\n").unwrap();
		let pair = load(None, Some(&path)).unwrap();
		assert_eq!(pair.public(), from_uri("//Bob").unwrap().public());
		assert_eq!(load(None, None).err().unwrap(), KeyError::Missing);
		let err = from_uri("a secret phrase that is wrong").err().unwrap().to_string();
		assert!(!err.contains("secret phrase"), "{err}");
		assert!(matches!(from_file(&dir.path().join("none")), Err(KeyError::Unreadable { .. })));
	}
}

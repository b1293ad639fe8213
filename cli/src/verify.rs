//! The decisions of a result fetch, as pure functions: is the chain's record consistent, is a
//! served manifest the agreed one, may a file name be written, does content match its digest,
//! and the signed request header a provider checks.

use povm_client::types::{Digest, JobId};
use povm_primitives::results::{fetch_message, ManifestError, ResultManifest, RunOutcome};
use sp_core::{sr25519, Pair};

/// Why a result, or a part of it, is not the agreed one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
	/// The chain's outcome does not hash to its own result digest.
	#[error(
		"the chain's record is inconsistent: the stored outcome hashes to 0x{outcome_digest}, \
		 the accepted result digest is 0x{result_digest}"
	)]
	InconsistentChain {
		/// Hex of the outcome's result digest.
		outcome_digest: String,
		/// Hex of the result's digest.
		result_digest: String,
	},
	/// Not the SCALE bytes of a manifest, or bytes left over.
	#[error("the manifest is malformed (not the SCALE bytes of a result manifest)")]
	Malformed,
	/// File names out of order or repeated.
	#[error("the manifest's files are not in strictly ascending order")]
	Unordered,
	/// The manifest stands for another outcome than the chain's.
	#[error(
		"the manifest is not the agreed one: it stands for {served:?}, the chain holds {chain:?}"
	)]
	OtherOutcome {
		/// What the served manifest stands for.
		served: RunOutcome,
		/// The chain's outcome.
		chain: RunOutcome,
	},
	/// An output file name that cannot be written safely under the output directory.
	#[error("unsafe output file name {0:?} (empty, not UTF-8, or with `/`, `\\`, NUL or `..`)")]
	UnsafeName(String),
	/// Content that does not hash to its manifest entry.
	#[error("{item}: content hashes to 0x{got}, the manifest says 0x{expected}")]
	WrongContent {
		/// The item (`stdout`, `files/a.txt`, …).
		item: String,
		/// Hex of the manifest's digest.
		expected: String,
		/// Hex of the content's digest.
		got: String,
	},
}

/// Checks that the chain's outcome is the one its accepted result digest stands for.
pub fn check_chain_record(outcome: &RunOutcome, result_digest: &Digest) -> Result<(), VerifyError> {
	let outcome_digest = outcome.result_digest();
	if &outcome_digest == result_digest {
		Ok(())
	} else {
		Err(VerifyError::InconsistentChain {
			outcome_digest: hex::encode(outcome_digest),
			result_digest: hex::encode(result_digest),
		})
	}
}

/// Decodes served manifest bytes and checks they are the agreed manifest: canonical, standing
/// for the chain's `outcome` (same exit code and flags, and contents digest), and naming only
/// files that can be written safely ([`safe_file_name`]).
pub fn verify_manifest(bytes: &[u8], outcome: &RunOutcome) -> Result<ResultManifest, VerifyError> {
	let manifest = ResultManifest::decode_canonical(bytes).map_err(|e| match e {
		ManifestError::Malformed => VerifyError::Malformed,
		ManifestError::Unordered => VerifyError::Unordered,
	})?;
	let served = manifest.outcome();
	if &served != outcome {
		return Err(VerifyError::OtherOutcome { served, chain: *outcome });
	}
	for (name, _) in &manifest.files {
		safe_file_name(name)?;
	}
	Ok(manifest)
}

/// `name` as a file name to write under the output directory: UTF-8 and the protocol's
/// [`is_result_file_name`](povm_primitives::results::is_result_file_name) (one entry of the
/// directory). Names such as `report..v2.csv` are kept: refusing one would refuse the whole
/// result, logs included.
pub fn safe_file_name(name: &[u8]) -> Result<&str, VerifyError> {
	let unsafe_name = || VerifyError::UnsafeName(String::from_utf8_lossy(name).into_owned());
	let text = std::str::from_utf8(name).map_err(|_| unsafe_name())?;
	if !povm_primitives::results::is_result_file_name(name) {
		return Err(unsafe_name());
	}
	Ok(text)
}

/// Checks that content of digest `got` is the manifest's `expected` for `item`.
pub fn check_content(item: &str, expected: &Digest, got: &Digest) -> Result<(), VerifyError> {
	if expected == got {
		Ok(())
	} else {
		Err(VerifyError::WrongContent {
			item: item.into(),
			expected: hex::encode(expected),
			got: hex::encode(got),
		})
	}
}

/// The items of a manifest in fetch order, each with its digest: `stdout`, `stderr`, then
/// `files/<name>` per file. The names must have passed [`verify_manifest`].
pub fn items(manifest: &ResultManifest) -> Vec<(String, Digest)> {
	let mut items = vec![
		("stdout".to_owned(), manifest.stdout_digest),
		("stderr".to_owned(), manifest.stderr_digest),
	];
	for (name, digest) in &manifest.files {
		items.push((format!("files/{}", String::from_utf8_lossy(name)), *digest));
	}
	items
}

/// The `Authorization` header value for reading `item` of `job` until `expires` (unix
/// seconds): `PoVM expires=<expires>,signature=0x<hex>`, the owner's sr25519 signature of
/// [`fetch_message`].
pub fn authorization(owner: &sr25519::Pair, job: JobId, expires: u64, item: &str) -> String {
	let signature = owner.sign(&fetch_message(job, expires, item));
	format!("PoVM expires={expires},signature=0x{}", hex::encode(signature.0))
}

#[cfg(test)]
mod tests {
	use super::*;
	use codec::Encode;
	use sp_crypto_hashing::blake2_256;

	fn manifest() -> ResultManifest {
		ResultManifest {
			exit_code: 0,
			timed_out: false,
			oom_killed: false,
			truncated: false,
			stdout_digest: blake2_256(b"out"),
			stderr_digest: blake2_256(b""),
			files: vec![
				(b"a.txt".to_vec(), blake2_256(b"A")),
				(b"pi.json".to_vec(), blake2_256(b"{}")),
			],
		}
	}

	#[test]
	fn the_agreed_manifest_verifies() {
		let m = manifest();
		assert_eq!(verify_manifest(&m.encode(), &m.outcome()), Ok(m.clone()));
		let names: Vec<String> = items(&m).into_iter().map(|(n, _)| n).collect();
		assert_eq!(names, ["stdout", "stderr", "files/a.txt", "files/pi.json"]);
	}

	#[test]
	fn a_tampered_manifest_is_refused() {
		let outcome = manifest().outcome();
		// Another file digest: another contents digest.
		let mut m = manifest();
		m.files[0].1 = blake2_256(b"B");
		assert!(matches!(
			verify_manifest(&m.encode(), &outcome),
			Err(VerifyError::OtherOutcome { .. })
		));
		// Another exit code, same contents.
		let mut m = manifest();
		m.exit_code = 1;
		assert!(matches!(
			verify_manifest(&m.encode(), &outcome),
			Err(VerifyError::OtherOutcome { .. })
		));
		// A dropped file.
		let mut m = manifest();
		m.files.pop();
		assert!(matches!(
			verify_manifest(&m.encode(), &outcome),
			Err(VerifyError::OtherOutcome { .. })
		));
		// Bytes left over, cut short, out of order.
		let mut bytes = manifest().encode();
		bytes.push(0);
		assert_eq!(verify_manifest(&bytes, &outcome), Err(VerifyError::Malformed));
		assert_eq!(verify_manifest(&bytes[..10], &outcome), Err(VerifyError::Malformed));
		let mut m = manifest();
		m.files.reverse();
		assert_eq!(verify_manifest(&m.encode(), &m.outcome()), Err(VerifyError::Unordered));
	}

	#[test]
	fn a_wrong_outcome_is_refused() {
		let m = manifest();
		let wrong = RunOutcome { timed_out: true, ..m.outcome() };
		assert_eq!(
			verify_manifest(&m.encode(), &wrong),
			Err(VerifyError::OtherOutcome { served: m.outcome(), chain: wrong })
		);
	}

	#[test]
	fn the_chain_record_must_hash_to_its_digest() {
		let outcome = manifest().outcome();
		assert_eq!(check_chain_record(&outcome, &outcome.result_digest()), Ok(()));
		let err = check_chain_record(&outcome, &[0; 32]).unwrap_err();
		assert!(err.to_string().contains("inconsistent"), "{err}");
	}

	#[test]
	fn a_tampered_file_is_refused() {
		let m = manifest();
		let (item, digest) = &items(&m)[2];
		assert_eq!(check_content(item, digest, &blake2_256(b"A")), Ok(()));
		let err = check_content(item, digest, &blake2_256(b"a")).unwrap_err();
		assert!(err.to_string().starts_with("files/a.txt: content hashes to"), "{err}");
	}

	#[test]
	fn unsafe_names_are_refused_in_a_manifest() {
		for good in ["a", "pi.json", "a b", ".hidden", "x._y", "report..v2.csv", "x..y", "a\\b"] {
			assert_eq!(safe_file_name(good.as_bytes()), Ok(good), "{good}");
		}
		for bad in [&b""[..], b".", b"..", b"../x", b"a/b", b"/etc/passwd", b"a\0", b"\xff"] {
			assert!(safe_file_name(bad).is_err(), "{}", String::from_utf8_lossy(bad));
		}
		let mut m = manifest();
		m.files = vec![(b"../evil".to_vec(), [0; 32])];
		assert!(matches!(
			verify_manifest(&m.encode(), &m.outcome()),
			Err(VerifyError::UnsafeName(_))
		));
	}

	#[test]
	fn the_authorization_verifies_over_the_fetch_message() {
		let (owner, _) = sr25519::Pair::generate();
		let header = authorization(&owner, 7, 1_700_000_000, "files/pi.json");
		let rest = header.strip_prefix("PoVM expires=1700000000,signature=0x").expect(&header);
		let bytes: [u8; 64] = hex::decode(rest).unwrap().try_into().unwrap();
		let signature = sr25519::Signature::from_raw(bytes);
		let message = fetch_message(7, 1_700_000_000, "files/pi.json");
		assert!(sr25519::Pair::verify(&signature, &message, &owner.public()));
		// Bound to the item, the job and the expiry.
		assert!(!sr25519::Pair::verify(
			&signature,
			fetch_message(7, 1_700_000_000, "stdout"),
			&owner.public()
		));
		assert!(!sr25519::Pair::verify(
			&signature,
			fetch_message(8, 1_700_000_000, "files/pi.json"),
			&owner.public()
		));
		assert!(!sr25519::Pair::verify(
			&signature,
			fetch_message(7, 1_700_000_001, "files/pi.json"),
			&owner.public()
		));
	}
}

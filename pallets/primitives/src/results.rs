//! A job's result as the replicas agree on it, the customer reads it, and a provider serves
//! it: the run's outcome, the result manifest and the signed request for result files.
//!
//! # Result digest
//!
//! The result digest a provider commits to is [`RunOutcome::result_digest`]:
//!
//! ```text
//! result_digest   = blake2_256(RESULT_TAG ‖ SCALE(RunOutcome))
//! RunOutcome      = (exit_code: i64, timed_out: bool, oom_killed: bool, truncated: bool,
//!                    contents_digest: [u8; 32])
//! contents_digest = blake2_256(SCALE((stdout_digest, stderr_digest, files)))
//! files           = Vec<(name: Vec<u8>, blake2_256(content))>, strictly ascending by name bytes
//! ```
//!
//! The outcome is small and fixed-size, so a reveal carries it and the chain checks it
//! against the digest: the exit code and flags of an accepted result are on chain, bound to
//! what the agreeing replicas committed. The rest (the log and file digests) is the
//! [`ResultManifest`] that a provider serves with the files; a customer checks it against the
//! outcome's `contents_digest`, then each file against its entry.
//!
//! ## Jobs submitted before spec 108
//!
//! Runtimes before spec [`OUTCOME_FORMAT_SINCE_SPEC`] took no outcome in a reveal, and
//! workers digested a run as `blake2_256(SCALE((exit_code: i64, flags: u8, stdout_digest,
//! stderr_digest, files)))`, flags bit 0 timed out, bit 1 OOM-killed, bit 2 truncated
//! ([`ResultManifest::legacy_result_digest`]). A worker digests a job in the
//! [`ResultFormat`] of the runtime it first saw the job assigned under, so a worker that
//! knows both formats agrees with one from before spec 108 on a job of that time, and a
//! legacy-format result is revealed without an outcome.
//!
//! # Fetching results
//!
//! A provider that ran a job serves `GET {url}/v1/jobs/{job}/{item}` (its [`ResultService`]
//! says where and for how long), `item` one of `manifest` (the SCALE bytes of the
//! [`ResultManifest`]), `stdout`, `stderr` or `files/{name}`. Only the job's owner may read
//! them: a request carries `Authorization: PoVM expires=<unix seconds>,signature=0x<hex>`, the
//! owner's sr25519 signature of [`fetch_message`]. Nothing secret is ever on chain: the
//! signature is made per request and expires within [`MAX_FETCH_SIGNATURE_SECONDS`].

use crate::{Bytes, Digest, JobId};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Domain prefix of the result digest.
pub const RESULT_TAG: &[u8; 12] = b"povm/result2";
/// Domain prefix of a signed result request.
pub const FETCH_TAG: &[u8; 16] = b"povm/results-get";
/// Most seconds a result request's signature may stay valid.
pub const MAX_FETCH_SIGNATURE_SECONDS: u64 = 600;
/// Most bytes of a result service's base URL.
pub const MAX_SERVICE_URL_LEN: u32 = 256;
/// Longest retention a result service may state: 90 days.
pub const MAX_RETENTION_SECONDS: u32 = 90 * 24 * 3600;
/// The first runtime `spec_version` whose reveals carry a [`RunOutcome`].
pub const OUTCOME_FORMAT_SINCE_SPEC: u32 = 108;

/// How a result digest is formed: by the runtime a job was assigned under (module docs).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ResultFormat {
	/// Before spec 108: [`ResultManifest::legacy_result_digest`], revealed without outcome.
	Legacy,
	/// Spec 108 on: [`RunOutcome::result_digest`], revealed with the outcome.
	#[default]
	Outcome,
}

impl ResultFormat {
	/// The format of a runtime of `spec_version`.
	pub fn of_spec_version(spec_version: u32) -> Self {
		if spec_version < OUTCOME_FORMAT_SINCE_SPEC {
			Self::Legacy
		} else {
			Self::Outcome
		}
	}
}

/// How a run ended, as the chain shows it for an accepted result.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	PartialEq,
	Eq,
	Debug,
	Default,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct RunOutcome {
	/// Exit code of the job's main process (137 when killed).
	pub exit_code: i64,
	/// The run was killed at its wall-clock limit.
	pub timed_out: bool,
	/// The kernel's OOM killer killed the run at its memory limit.
	pub oom_killed: bool,
	/// Stdout, stderr or the output files were longer than their caps and were cut, or the
	/// job wrote more checkpoints than a reveal carries.
	pub truncated: bool,
	/// blake2-256 of the SCALE bytes of the logs' and files' digests
	/// ([`ResultManifest::contents_digest`]).
	pub contents_digest: Digest,
}

impl RunOutcome {
	/// The result digest this outcome stands for (see the module docs).
	pub fn result_digest(&self) -> Digest {
		let mut bytes = Vec::with_capacity(RESULT_TAG.len() + Self::max_encoded_len());
		bytes.extend_from_slice(RESULT_TAG);
		self.encode_to(&mut bytes);
		sp_io::hashing::blake2_256(&bytes)
	}
}

/// What a result's outcome digests: the logs and the output files, served by a provider as
/// the SCALE bytes of this struct (`GET …/manifest`).
#[derive(Clone, Encode, Decode, PartialEq, Eq, Debug, Default)]
pub struct ResultManifest {
	/// Exit code of the job's main process.
	pub exit_code: i64,
	/// The run was killed at its wall-clock limit.
	pub timed_out: bool,
	/// The run was OOM-killed.
	pub oom_killed: bool,
	/// Something was cut at its cap.
	pub truncated: bool,
	/// blake2-256 of the captured stdout.
	pub stdout_digest: Digest,
	/// blake2-256 of the captured stderr.
	pub stderr_digest: Digest,
	/// `(name, blake2-256 of content)` per output file, strictly ascending by name bytes.
	pub files: Vec<(Vec<u8>, Digest)>,
}

/// Why manifest bytes are not a valid [`ResultManifest`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ManifestError {
	/// Not the SCALE bytes of a manifest (or bytes left over).
	Malformed,
	/// File names not strictly ascending (out of order or repeated).
	Unordered,
}

impl ResultManifest {
	/// A manifest with its files put in canonical order (ascending by name bytes).
	pub fn sorted(mut self) -> Self {
		self.files.sort_by(|a, b| a.0.cmp(&b.0));
		self
	}

	/// Decodes served manifest bytes, refusing trailing bytes and files out of order.
	pub fn decode_canonical(mut bytes: &[u8]) -> Result<Self, ManifestError> {
		let manifest = Self::decode(&mut bytes).map_err(|_| ManifestError::Malformed)?;
		if !bytes.is_empty() {
			return Err(ManifestError::Malformed)
		}
		if manifest.files.windows(2).any(|w| w[0].0 >= w[1].0) {
			return Err(ManifestError::Unordered)
		}
		Ok(manifest)
	}

	/// blake2-256 of the SCALE bytes of `(stdout_digest, stderr_digest, files)`.
	pub fn contents_digest(&self) -> Digest {
		sp_io::hashing::blake2_256(
			&(&self.stdout_digest, &self.stderr_digest, &self.files).encode(),
		)
	}

	/// The result digest of this manifest in the format before spec 108 (module docs):
	/// blake2-256 of the SCALE bytes of `(exit_code, flags, stdout_digest, stderr_digest,
	/// files)`, `flags` a byte with bit 0 timed out, bit 1 OOM-killed, bit 2 truncated.
	pub fn legacy_result_digest(&self) -> Digest {
		let flags = u8::from(self.timed_out) |
			u8::from(self.oom_killed) << 1 |
			u8::from(self.truncated) << 2;
		sp_io::hashing::blake2_256(
			&(self.exit_code, flags, &self.stdout_digest, &self.stderr_digest, &self.files)
				.encode(),
		)
	}

	/// The result digest of this manifest in `format`.
	pub fn result_digest(&self, format: ResultFormat) -> Digest {
		match format {
			ResultFormat::Legacy => self.legacy_result_digest(),
			ResultFormat::Outcome => self.outcome().result_digest(),
		}
	}

	/// The outcome the chain shows for this manifest.
	pub fn outcome(&self) -> RunOutcome {
		RunOutcome {
			exit_code: self.exit_code,
			timed_out: self.timed_out,
			oom_killed: self.oom_killed,
			truncated: self.truncated,
			contents_digest: self.contents_digest(),
		}
	}

	/// The digest of the output file `name`, if the manifest lists one.
	pub fn file(&self, name: &[u8]) -> Option<&Digest> {
		self.files.iter().find(|(n, _)| n.as_slice() == name).map(|(_, d)| d)
	}
}

/// Where a provider serves the result files of the jobs it ran, and for how long.
#[derive(
	Clone, Encode, Decode, DecodeWithMemTracking, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct ResultService {
	/// Base URL (`http(s)://host[:port][/path]`, no `user:password@`); requests go to
	/// `{url}/v1/jobs/{job}/{item}`.
	pub url: Bytes<MAX_SERVICE_URL_LEN>,
	/// Seconds after a job's result is stored that the provider keeps serving it
	/// (1..=[`MAX_RETENTION_SECONDS`]).
	pub retention_secs: u32,
}

impl ResultService {
	/// Whether the service is well formed: an `http(s)` URL without credentials, query or
	/// fragment (see [`crate::is_input_url`]), and a retention within bounds.
	pub fn is_valid(&self) -> bool {
		crate::is_input_url(&self.url) &&
			!self.url.iter().any(|c| matches!(c, b'?' | b'#')) &&
			(1..=MAX_RETENTION_SECONDS).contains(&self.retention_secs)
	}
}

/// Whether `name` can name a result file: one entry of a directory, that is not empty, not
/// `.` or `..`, and without `/` or NUL. The worker stores and serves, and `povm fetch` writes,
/// only such names; `report..v2.csv` or `a\b` are plain names on Linux and are kept.
pub fn is_result_file_name(name: &[u8]) -> bool {
	!name.is_empty() && name != b"." && name != b".." && !name.iter().any(|b| *b == b'/' || *b == 0)
}

/// The bytes a job's owner signs to read `item` of `job` until `expires` (unix seconds):
/// `FETCH_TAG ‖ job (u64 LE) ‖ expires (u64 LE) ‖ item (UTF-8, e.g. "files/summary.json")`.
pub fn fetch_message(job: JobId, expires: u64, item: &str) -> Vec<u8> {
	let mut message = Vec::with_capacity(FETCH_TAG.len() + 16 + item.len());
	message.extend_from_slice(FETCH_TAG);
	message.extend_from_slice(&job.to_le_bytes());
	message.extend_from_slice(&expires.to_le_bytes());
	message.extend_from_slice(item.as_bytes());
	message
}

#[cfg(test)]
mod tests {
	use super::*;

	fn manifest() -> ResultManifest {
		ResultManifest {
			exit_code: 3,
			timed_out: false,
			oom_killed: true,
			truncated: false,
			stdout_digest: [1; 32],
			stderr_digest: [2; 32],
			files: alloc::vec![(b"a.txt".to_vec(), [3; 32]), (b"b.json".to_vec(), [4; 32])],
		}
	}

	#[test]
	fn the_result_digest_covers_every_field_of_the_outcome() {
		let base = manifest().outcome();
		let digest = base.result_digest();
		let changed = [
			RunOutcome { exit_code: 4, ..base },
			RunOutcome { timed_out: true, ..base },
			RunOutcome { oom_killed: false, ..base },
			RunOutcome { truncated: true, ..base },
			RunOutcome { contents_digest: [9; 32], ..base },
		];
		for outcome in changed {
			assert_ne!(outcome.result_digest(), digest, "{outcome:?}");
		}
	}

	#[test]
	fn the_contents_digest_covers_logs_and_every_file() {
		let base = manifest().contents_digest();
		let mut m = manifest();
		m.stdout_digest = [7; 32];
		assert_ne!(m.contents_digest(), base);
		let mut m = manifest();
		m.stderr_digest = [7; 32];
		assert_ne!(m.contents_digest(), base);
		let mut m = manifest();
		m.files[1].1 = [7; 32];
		assert_ne!(m.contents_digest(), base);
		let mut m = manifest();
		m.files[0].0 = b"c.txt".to_vec();
		assert_ne!(m.contents_digest(), base);
		let mut m = manifest();
		m.files.pop();
		assert_ne!(m.contents_digest(), base);
	}

	#[test]
	fn served_manifests_decode_only_in_canonical_form() {
		let bytes = manifest().encode();
		assert_eq!(ResultManifest::decode_canonical(&bytes), Ok(manifest()));
		let mut longer = bytes.clone();
		longer.push(0);
		assert_eq!(ResultManifest::decode_canonical(&longer), Err(ManifestError::Malformed));
		assert_eq!(
			ResultManifest::decode_canonical(&bytes[..bytes.len() - 1]),
			Err(ManifestError::Malformed)
		);
		let mut m = manifest();
		m.files.reverse();
		assert_eq!(ResultManifest::decode_canonical(&m.encode()), Err(ManifestError::Unordered));
		m.files = alloc::vec![(b"a".to_vec(), [0; 32]), (b"a".to_vec(), [1; 32])];
		assert_eq!(ResultManifest::decode_canonical(&m.encode()), Err(ManifestError::Unordered));
		let mut m = manifest();
		m.files.reverse();
		assert_eq!(m.sorted(), manifest());
	}

	#[test]
	fn a_service_needs_an_http_url_without_query_and_a_bounded_retention() {
		let service = |url: &[u8], retention_secs| ResultService {
			url: url.to_vec().try_into().unwrap(),
			retention_secs,
		};
		assert!(service(b"https://results.example.org/povm", 86_400).is_valid());
		assert!(service(b"http://127.0.0.1:8080", 1).is_valid());
		assert!(!service(b"ftp://results.example.org", 86_400).is_valid());
		assert!(!service(b"https://user:pw@results.example.org", 86_400).is_valid());
		assert!(!service(b"https://results.example.org/?token=x", 86_400).is_valid());
		assert!(!service(b"https://results.example.org", 0).is_valid());
		assert!(!service(b"https://results.example.org", MAX_RETENTION_SECONDS + 1).is_valid());
	}

	#[test]
	fn the_fetch_message_binds_job_expiry_and_item() {
		let base = fetch_message(7, 1_000, "files/a.txt");
		assert_eq!(&base[..16], FETCH_TAG);
		assert_ne!(fetch_message(8, 1_000, "files/a.txt"), base);
		assert_ne!(fetch_message(7, 1_001, "files/a.txt"), base);
		assert_ne!(fetch_message(7, 1_000, "files/b.txt"), base);
		assert_eq!(base.len(), 16 + 8 + 8 + "files/a.txt".len());
	}

	#[test]
	fn the_result_digest_is_pinned() {
		// The worker, the customer's command and the chain all compute this; a change is a
		// protocol change. The value was cross-checked with Python's hashlib.blake2b.
		let digest = manifest().outcome().result_digest();
		let hex: alloc::string::String = digest.iter().map(|b| alloc::format!("{b:02x}")).collect();
		assert_eq!(hex, "11f36912651615f037689d11bcc947208f31220fd7987f82c1f2aff5cb0024a6");
	}

	#[test]
	fn the_legacy_result_digest_is_the_one_workers_computed_before_spec_108() {
		// The fixture and value of the worker's pinned test before spec 108 (stop 24's
		// `attestation.rs`): a worker that knows both formats must agree with an older one.
		let legacy = ResultManifest {
			exit_code: 0,
			timed_out: false,
			oom_killed: false,
			truncated: false,
			stdout_digest: sp_io::hashing::blake2_256(b"out"),
			stderr_digest: sp_io::hashing::blake2_256(b""),
			files: alloc::vec![
				(b"tally.json".to_vec(), sp_io::hashing::blake2_256(b"{}")),
				(b"a".to_vec(), [1; 32]),
			],
		}
		.sorted();
		let digest = legacy.result_digest(ResultFormat::Legacy);
		let hex: alloc::string::String = digest.iter().map(|b| alloc::format!("{b:02x}")).collect();
		assert_eq!(hex, "12f189ba2c97a0534ba0c413c096c99de2477dadda81e6e766306a97d6c955f8");
		assert_eq!(legacy.result_digest(ResultFormat::Outcome), legacy.outcome().result_digest());
		assert_ne!(digest, legacy.outcome().result_digest());
		// Each flag has its own bit.
		let flagged = [
			ResultManifest { timed_out: true, ..legacy.clone() },
			ResultManifest { oom_killed: true, ..legacy.clone() },
			ResultManifest { truncated: true, ..legacy.clone() },
		]
		.map(|m| m.legacy_result_digest());
		assert!(flagged.iter().all(|d| *d != digest));
		assert!(flagged[0] != flagged[1] && flagged[1] != flagged[2] && flagged[0] != flagged[2]);
	}

	#[test]
	fn the_format_follows_the_runtime_version() {
		assert_eq!(ResultFormat::of_spec_version(107), ResultFormat::Legacy);
		assert_eq!(ResultFormat::of_spec_version(OUTCOME_FORMAT_SINCE_SPEC), ResultFormat::Outcome);
		assert_eq!(ResultFormat::of_spec_version(u32::MAX), ResultFormat::Outcome);
	}

	#[test]
	fn result_file_names_are_single_directory_entries() {
		for ok in
			[&b"a"[..], b"..a", b".hidden", b"report..v2.csv", b"a\\b", "\u{e9}t\u{e9}".as_bytes()]
		{
			assert!(is_result_file_name(ok), "{ok:?}");
		}
		for bad in [&b""[..], b".", b"..", b"a/b", b"/", b"a\0b"] {
			assert!(!is_result_file_name(bad), "{bad:?}");
		}
	}
}

//! Attestation of a job run: the result digest, the checkpoints root and the commitment.
//!
//! Every hash is **blake2-256** (BLAKE2b with a 32-byte output, no key, no personalisation),
//! the same function as `sp_core::hashing::blake2_256` on the chain side.
//!
//! # Result digest
//!
//! The result digest is the protocol's, [`povm_primitives::results::RunOutcome::result_digest`]:
//! the module docs of [`povm_primitives::results`] give its layout (the run's outcome, whose
//! `contents_digest` covers the [`ResultManifest`](povm_primitives::results::ResultManifest) of
//! the log and output file digests). The worker builds the manifest of a run with
//! [`Execution::manifest`](crate::executor::Execution::manifest); the stdout, stderr and file
//! digests in it are blake2-256 of the captured (capped) bytes.
//!
//! The checkpoints root and the commitment are computed by `povm-primitives`, the same code
//! the vm-proof pallet checks reveals with.
//!
//! # Checkpoints root
//!
//! [`merkle_root`] is a binary Merkle tree over the checkpoint file hashes, in name order:
//! - leaf node = `blake2_256(0x00 ‖ file_hash)`, inner node = `blake2_256(0x01 ‖ left ‖ right)`
//!   (the prefixes keep a leaf from being passed off as an inner node);
//! - on a level with an odd number of nodes the last node is promoted unchanged to the next
//!   level (never duplicated, so `[a, b, c]` and `[a, b, c, c]` have different roots);
//! - no leaves gives the all-zero root `[0; 32]`; one leaf gives its leaf node.
//!
//! # Commitment
//!
//! [`commitment`] is the chain's rule, [`povm_primitives::attestation::commitment`]:
//!
//! ```text
//! blake2_256("povm/commitment2" ‖ job (u64 LE) ‖ wave (u32 LE) ‖ result ‖ output_digest ‖
//!            checkpoints_root ‖ cpu_ms (u64 LE) ‖ memory_mib_s (u64 LE) ‖ wall_ms (u64 LE) ‖
//!            salt ‖ provider)
//! ```
//!
//! the SCALE encoding of `(Attestation, salt, provider)` behind the 16-byte tag. `wave` is the
//! draw wave the provider was assigned in (the `provider_assignments` runtime API reports it),
//! `output_digest` = [`output_digest`] of the small output bytes, and the usage is the one
//! revealed, capped at the job's bound ([`povm_primitives::Resources::usage_bound`]). The chain
//! recomputes it from the reveal and refuses any field that differs.

use blake2::{digest::consts::U32, Blake2b, Digest};

/// A 32-byte blake2-256 hash.
pub type Hash = [u8; 32];

/// The root of an empty checkpoint list.
pub const EMPTY_ROOT: Hash = povm_primitives::attestation::EMPTY_ROOT;

/// blake2-256 of `data`.
pub fn blake2_256(data: &[u8]) -> Hash {
	Blake2b::<U32>::digest(data).into()
}

/// blake2-256 of the concatenation of `parts`.
#[cfg(test)]
fn blake2_256_concat(parts: &[&[u8]]) -> Hash {
	let mut h = Blake2b::<U32>::new();
	for p in parts {
		h.update(p);
	}
	h.finalize().into()
}

/// The outcome flags of a run that the result digest covers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flags {
	/// The run was killed at its wall-clock limit.
	pub timed_out: bool,
	/// The kernel OOM killer killed the run at its memory limit.
	pub oom_killed: bool,
	/// Stdout, stderr or the output files were longer than their caps and were cut, or the
	/// job wrote more checkpoints than a reveal carries (the first ones are kept).
	pub truncated: bool,
}

/// The binary Merkle root of checkpoint file hashes, in order (see the module docs): the
/// chain's own rule, [`povm_primitives::attestation::merkle_root`].
pub fn merkle_root(leaves: &[Hash]) -> Hash {
	povm_primitives::attestation::merkle_root(leaves)
}

pub use povm_primitives::attestation::{output_digest, Attestation};

/// The commit–reveal commitment of `provider` to `attestation` (see the module docs): the
/// chain's own rule, [`povm_primitives::attestation::commitment`], for a 32-byte account.
pub fn commitment(attestation: &Attestation, salt: &[u8; 32], provider: &[u8; 32]) -> Hash {
	povm_primitives::attestation::commitment(attestation, salt, provider)
}

/// Lower-case hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
	const DIGITS: &[u8; 16] = b"0123456789abcdef";
	let mut s = String::with_capacity(bytes.len() * 2);
	for b in bytes {
		s.push(DIGITS[(b >> 4) as usize] as char);
		s.push(DIGITS[(b & 0xf) as usize] as char);
	}
	s
}

#[cfg(test)]
mod tests {
	use super::*;

	fn h(b: u8) -> Hash {
		[b; 32]
	}
	fn leaf(x: &Hash) -> Hash {
		blake2_256_concat(&[&[0x00], x])
	}
	fn node(l: &Hash, r: &Hash) -> Hash {
		blake2_256_concat(&[&[0x01], l, r])
	}

	#[test]
	fn blake2_256_matches_known_vector() {
		// blake2b-256("") from the BLAKE2 reference implementation.
		assert_eq!(
			to_hex(&blake2_256(b"")),
			"0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
		);
	}

	#[test]
	fn merkle_root_of_no_leaves_is_zero() {
		assert_eq!(merkle_root(&[]), [0u8; 32]);
	}

	#[test]
	fn merkle_root_of_one_leaf_is_its_leaf_node() {
		assert_eq!(merkle_root(&[h(1)]), leaf(&h(1)));
		assert_ne!(merkle_root(&[h(1)]), h(1));
	}

	#[test]
	fn merkle_root_of_two_leaves_hashes_the_pair() {
		assert_eq!(merkle_root(&[h(1), h(2)]), node(&leaf(&h(1)), &leaf(&h(2))));
		assert_ne!(merkle_root(&[h(1), h(2)]), merkle_root(&[h(2), h(1)]));
	}

	#[test]
	fn merkle_root_of_three_leaves_promotes_the_odd_one() {
		let expected = node(&node(&leaf(&h(1)), &leaf(&h(2))), &leaf(&h(3)));
		assert_eq!(merkle_root(&[h(1), h(2), h(3)]), expected);
		// Promotion, not duplication: a repeated last leaf changes the root.
		assert_ne!(merkle_root(&[h(1), h(2), h(3)]), merkle_root(&[h(1), h(2), h(3), h(3)]));
	}

	fn attestation() -> Attestation {
		Attestation {
			job: 9,
			wave: 2,
			result_digest: h(1),
			output_digest: output_digest(b"{\"heads\":3}"),
			checkpoints_root: h(2),
			usage: povm_primitives::Usage { cpu_ms: 120, memory_mib_s: 5, wall_ms: 300 },
		}
	}

	#[test]
	fn commitment_equals_the_chain_rule_for_an_account_id() {
		let who = sp_core::crypto::AccountId32::new(h(4));
		assert_eq!(
			commitment(&attestation(), &h(3), &h(4)),
			povm_primitives::attestation::commitment(&attestation(), &h(3), &who)
		);
	}

	#[test]
	fn commitment_is_hash_of_the_tagged_plain_concatenation() {
		let a = attestation();
		let mut cat = b"povm/commitment2".to_vec();
		cat.extend_from_slice(&9u64.to_le_bytes());
		cat.extend_from_slice(&2u32.to_le_bytes());
		for x in [a.result_digest, a.output_digest, a.checkpoints_root] {
			cat.extend_from_slice(&x);
		}
		for n in [120u64, 5, 300] {
			cat.extend_from_slice(&n.to_le_bytes());
		}
		cat.extend_from_slice(&h(3));
		cat.extend_from_slice(&h(4));
		assert_eq!(commitment(&a, &h(3), &h(4)), blake2_256(&cat));
		assert_ne!(commitment(&a, &h(3), &h(4)), commitment(&a, &h(5), &h(4)));
		assert_ne!(
			commitment(&a, &h(3), &h(4)),
			commitment(&Attestation { wave: 0, ..a }, &h(3), &h(4))
		);
	}

	#[test]
	fn output_digest_is_blake2_256_of_the_output_bytes() {
		assert_eq!(output_digest(b"tails"), blake2_256(b"tails"));
	}
}

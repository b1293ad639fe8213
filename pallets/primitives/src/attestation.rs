//! The attestation hashes shared by the chain and the worker: the checkpoint Merkle root and
//! the commit–reveal commitment.
//!
//! Every hash is blake2-256 ([`sp_io::hashing::blake2_256`]). Both the vm-proof pallet (which
//! checks reveals) and the worker daemon (which commits) call these functions, so the two
//! sides cannot drift apart.
//!
//! # Checkpoints root
//!
//! [`merkle_root`] is a binary Merkle tree over the checkpoint hashes, in order:
//! - leaf node = `blake2_256(0x00 ‖ leaf)`, inner node = `blake2_256(0x01 ‖ left ‖ right)`;
//!   the domain prefixes keep a leaf from being passed off as an inner node (a second
//!   preimage of the root with fewer, forged leaves);
//! - on a level with an odd number of nodes the last node is promoted unchanged (never
//!   duplicated, so `[a, b, c]` and `[a, b, c, c]` have different roots);
//! - no leaves give the all-zero root [`EMPTY_ROOT`]; one leaf gives its leaf node.
//!
//! # Commitment
//!
//! [`commitment`] binds a provider to everything the chain publishes or pays on for its
//! replica, described by an [`Attestation`]:
//!
//! ```text
//! commitment = blake2_256(COMMITMENT_TAG ‖ SCALE((attestation, salt, provider)))
//! attestation = (job: u64, wave: u32, result_digest, output_digest, checkpoints_root,
//!                usage: (cpu_ms: u64, memory_mib_s: u64, wall_ms: u64))
//! ```
//!
//! - `job` and `wave` (the draw wave the provider was assigned in, see
//!   [`crate::AssignmentView::wave`]) keep a commitment from being replayed on another job or
//!   by a provider drawn later for the same job;
//! - `output_digest` = [`output_digest`] of the small output bytes (blake2-256 of the raw
//!   bytes), so the output published on chain is the one committed;
//! - `usage` is committed so that a late revealer cannot tune its claim after seeing the
//!   others' reveals;
//! - `provider` keeps a copier from submitting another provider's commitment;
//! - [`COMMITMENT_TAG`] separates this hash from every other blake2-256 in the protocol.
//!
//! SCALE encodes the integers little-endian with fixed width and the 32-byte arrays as their
//! bytes, so for a 32-byte account id the hashed bytes are the plain concatenation
//! `tag ‖ job (8) ‖ wave (4) ‖ result (32) ‖ output (32) ‖ root (32) ‖ cpu (8) ‖ mem (8) ‖
//! wall (8) ‖ salt (32) ‖ provider (32)`.

use crate::{Digest, JobId, Usage};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// The root of an empty checkpoint list.
pub const EMPTY_ROOT: Digest = [0u8; 32];
/// Domain prefix of a Merkle leaf node.
pub const LEAF_PREFIX: u8 = 0x00;
/// Domain prefix of a Merkle inner node.
pub const NODE_PREFIX: u8 = 0x01;

/// The Merkle leaf node of one checkpoint hash: `blake2_256(0x00 ‖ leaf)`.
pub fn leaf_node(leaf: &Digest) -> Digest {
	let mut buf = [0u8; 33];
	buf[0] = LEAF_PREFIX;
	buf[1..].copy_from_slice(leaf);
	sp_io::hashing::blake2_256(&buf)
}

/// The Merkle inner node of two children: `blake2_256(0x01 ‖ left ‖ right)`.
pub fn inner_node(left: &Digest, right: &Digest) -> Digest {
	let mut buf = [0u8; 65];
	buf[0] = NODE_PREFIX;
	buf[1..33].copy_from_slice(left);
	buf[33..].copy_from_slice(right);
	sp_io::hashing::blake2_256(&buf)
}

/// The binary Merkle root of checkpoint hashes, in order (see the module docs).
pub fn merkle_root(leaves: &[Digest]) -> Digest {
	if leaves.is_empty() {
		return EMPTY_ROOT;
	}
	let mut level: alloc::vec::Vec<Digest> = leaves.iter().map(leaf_node).collect();
	while level.len() > 1 {
		level = level
			.chunks(2)
			.map(|pair| match pair {
				[l, r] => inner_node(l, r),
				[odd] => *odd,
				// `chunks(2)` yields one or two items.
				_ => EMPTY_ROOT,
			})
			.collect();
	}
	level[0]
}

/// Domain tag hashed in front of every commitment (see the module docs).
pub const COMMITMENT_TAG: &[u8; 16] = b"povm/commitment2";

/// Everything a provider commits to for one replica of a job (see the module docs).
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Attestation {
	/// The job.
	pub job: JobId,
	/// The draw wave of the job the provider was assigned in (0 for the first draw).
	pub wave: u32,
	/// Digest of the result (exit code, flags, stdout/stderr digests, output files).
	pub result_digest: Digest,
	/// [`output_digest`] of the small output published on chain.
	pub output_digest: Digest,
	/// Merkle root of the checkpoint hashes ([`merkle_root`]).
	pub checkpoints_root: Digest,
	/// The measured usage, within the job's bounds ([`crate::Resources::usage_bound`]).
	pub usage: Usage,
}

/// The digest of a small output: `blake2_256(output bytes)`.
pub fn output_digest(output: &[u8]) -> Digest {
	sp_io::hashing::blake2_256(output)
}

/// The commit–reveal commitment of `provider` to `attestation`:
/// `blake2_256(COMMITMENT_TAG ‖ SCALE((attestation, salt, provider)))`.
pub fn commitment<AccountId: Encode>(
	attestation: &Attestation,
	salt: &[u8; 32],
	provider: &AccountId,
) -> Digest {
	let mut buf = COMMITMENT_TAG.to_vec();
	(attestation, salt, provider).encode_to(&mut buf);
	sp_io::hashing::blake2_256(&buf)
}

/// The version-1 commitment (storage version 1 of the vm-proof pallet, runtimes before spec
/// 101): `blake2_256(SCALE((result_digest, checkpoints_root, salt, provider)))`.
///
/// It binds neither the job, the wave, the output nor the usage. The chain checks it only for
/// the members that had committed but not yet revealed when the runtime was upgraded (the
/// migration marks them `legacy`); no commitment made after the upgrade is checked against it.
pub fn legacy_commitment<AccountId: Encode>(
	result_digest: &Digest,
	checkpoints_root: &Digest,
	salt: &[u8; 32],
	provider: &AccountId,
) -> Digest {
	sp_io::hashing::blake2_256(&(result_digest, checkpoints_root, salt, provider).encode())
}

#[cfg(test)]
mod tests {
	use super::*;

	fn h(b: u8) -> Digest {
		[b; 32]
	}
	fn hash(parts: &[&[u8]]) -> Digest {
		sp_io::hashing::blake2_256(&parts.concat())
	}

	#[test]
	fn merkle_root_of_no_leaves_is_zero() {
		assert_eq!(merkle_root(&[]), EMPTY_ROOT);
	}

	#[test]
	fn merkle_root_of_one_leaf_is_its_prefixed_hash() {
		assert_eq!(merkle_root(&[h(1)]), hash(&[&[0], &h(1)]));
		assert_ne!(merkle_root(&[h(1)]), h(1));
	}

	#[test]
	fn merkle_root_of_two_leaves_hashes_the_pair_with_the_node_prefix() {
		let expected = hash(&[&[1], &leaf_node(&h(1)), &leaf_node(&h(2))]);
		assert_eq!(merkle_root(&[h(1), h(2)]), expected);
		assert_ne!(merkle_root(&[h(1), h(2)]), merkle_root(&[h(2), h(1)]));
	}

	#[test]
	fn merkle_root_promotes_an_odd_node_without_duplicating_it() {
		let expected =
			inner_node(&inner_node(&leaf_node(&h(1)), &leaf_node(&h(2))), &leaf_node(&h(3)));
		assert_eq!(merkle_root(&[h(1), h(2), h(3)]), expected);
		assert_ne!(merkle_root(&[h(1), h(2), h(3)]), merkle_root(&[h(1), h(2), h(3), h(3)]));
	}

	#[test]
	fn an_inner_node_cannot_pose_as_a_leaf() {
		// Without domain separation, the root of [a, b] would equal the root of the single
		// leaf H(a ‖ b) one level up; with it, the two differ.
		let a = h(1);
		let b = h(2);
		let two = merkle_root(&[a, b]);
		let forged = merkle_root(&[inner_node(&leaf_node(&a), &leaf_node(&b))]);
		assert_ne!(two, forged);
	}

	fn attestation() -> Attestation {
		Attestation {
			job: 7,
			wave: 1,
			result_digest: h(1),
			output_digest: output_digest(b"heads"),
			checkpoints_root: h(2),
			usage: Usage { cpu_ms: 3, memory_mib_s: 4, wall_ms: 5 },
		}
	}

	#[test]
	fn commitment_is_hash_of_the_tagged_concatenation_for_32_byte_accounts() {
		let a = attestation();
		let (s, p) = (h(3), h(4));
		let expected = hash(&[
			COMMITMENT_TAG,
			&7u64.to_le_bytes(),
			&1u32.to_le_bytes(),
			&h(1),
			&output_digest(b"heads"),
			&h(2),
			&3u64.to_le_bytes(),
			&4u64.to_le_bytes(),
			&5u64.to_le_bytes(),
			&s,
			&p,
		]);
		assert_eq!(commitment(&a, &s, &p), expected);
	}

	#[test]
	fn commitment_changes_with_every_field() {
		let (s, p) = (h(3), h(4));
		let base = commitment(&attestation(), &s, &p);
		let variants = [
			Attestation { job: 8, ..attestation() },
			Attestation { wave: 0, ..attestation() },
			Attestation { result_digest: h(9), ..attestation() },
			Attestation { output_digest: output_digest(b"tails"), ..attestation() },
			Attestation { checkpoints_root: h(9), ..attestation() },
			Attestation { usage: Usage { cpu_ms: 4, ..attestation().usage }, ..attestation() },
			Attestation {
				usage: Usage { memory_mib_s: 5, ..attestation().usage },
				..attestation()
			},
			Attestation { usage: Usage { wall_ms: 6, ..attestation().usage }, ..attestation() },
		];
		for v in variants {
			assert_ne!(commitment(&v, &s, &p), base, "{v:?}");
		}
		assert_ne!(commitment(&attestation(), &h(5), &p), base);
		assert_ne!(commitment(&attestation(), &s, &h(5)), base);
	}

	#[test]
	fn legacy_commitment_is_the_untagged_version_1_hash() {
		let (r, c, s, p) = (h(1), h(2), h(3), h(4));
		assert_eq!(legacy_commitment(&r, &c, &s, &p), hash(&[&r, &c, &s, &p]));
		// The version-2 commitment of the same values never equals it (tag and extra fields).
		let a = Attestation { result_digest: r, checkpoints_root: c, ..attestation() };
		assert_ne!(commitment(&a, &s, &p), legacy_commitment(&r, &c, &s, &p));
	}

	#[test]
	fn output_digest_is_blake2_of_the_bytes() {
		assert_eq!(output_digest(b"tails"), hash(&[b"tails"]));
		assert_ne!(output_digest(b"tails"), output_digest(b"heads"));
	}
}

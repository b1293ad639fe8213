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
//! [`commitment`] = `blake2_256(SCALE((result_digest, checkpoints_root, salt, provider)))`.
//! For a 32-byte account id this is the hash of the plain 128-byte concatenation, since SCALE
//! encodes fixed-size arrays without a length prefix.

use crate::Digest;
use codec::Encode;

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

/// The commit–reveal commitment of a provider to a result:
/// `blake2_256(SCALE((result_digest, checkpoints_root, salt, provider)))`.
pub fn commitment<AccountId: Encode>(
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

	#[test]
	fn commitment_is_hash_of_the_concatenation_for_32_byte_accounts() {
		let (r, c, s, p) = (h(1), h(2), h(3), h(4));
		assert_eq!(commitment(&r, &c, &s, &p), hash(&[&r, &c, &s, &p]));
		assert_ne!(commitment(&r, &c, &s, &p), commitment(&r, &c, &h(5), &p));
	}
}

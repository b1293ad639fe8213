//! Attestation of a job run: the result digest, the checkpoints root and the commitment.
//!
//! Every hash is **blake2-256** (BLAKE2b with a 32-byte output, no key, no personalisation),
//! the same function as `sp_core::hashing::blake2_256` on the chain side.
//!
//! # Result digest
//!
//! [`result_digest`] hashes this byte layout, which is exactly the SCALE encoding of the
//! tuple `(i64, u8, [u8; 32], [u8; 32], Vec<(Vec<u8>, [u8; 32])>)`:
//!
//! | field | bytes |
//! | --- | --- |
//! | exit code | `i64`, 8 bytes little-endian |
//! | flags | 1 byte: bit 0 timed out, bit 1 OOM killed, bit 2 truncated (see [`Flags::to_byte`]) |
//! | stdout digest | 32 bytes, blake2-256 of the (capped) stdout bytes |
//! | stderr digest | 32 bytes, blake2-256 of the (capped) stderr bytes |
//! | output files | SCALE compact length, then per file sorted by name bytes: compact length of the UTF-8 name, the name, 32-byte blake2-256 of the (capped) content |
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

impl Flags {
	/// The flags as one byte: bit 0 `timed_out`, bit 1 `oom_killed`, bit 2 `truncated`.
	pub fn to_byte(self) -> u8 {
		(self.timed_out as u8) | (self.oom_killed as u8) << 1 | (self.truncated as u8) << 2
	}
}

/// What the result digest covers, in digested form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultSummary {
	/// Exit code of the job's main process (137 when killed).
	pub exit_code: i64,
	/// Outcome flags.
	pub flags: Flags,
	/// blake2-256 of the captured stdout.
	pub stdout_digest: Hash,
	/// blake2-256 of the captured stderr.
	pub stderr_digest: Hash,
	/// `(name, blake2-256 of content)` per output file, in any order (sorted when hashed).
	pub outputs: Vec<(String, Hash)>,
}

/// Appends the SCALE compact encoding of `n` to `out`.
pub fn encode_compact(n: u64, out: &mut Vec<u8>) {
	match n {
		0..=0x3f => out.push((n as u8) << 2),
		0x40..=0x3fff => out.extend_from_slice(&(((n as u16) << 2) | 0b01).to_le_bytes()),
		0x4000..=0x3fff_ffff => out.extend_from_slice(&(((n as u32) << 2) | 0b10).to_le_bytes()),
		_ => {
			let bytes = n.to_le_bytes();
			let len = 8 - (n.leading_zeros() / 8) as usize;
			out.push((((len - 4) as u8) << 2) | 0b11);
			out.extend_from_slice(&bytes[..len]);
		},
	}
}

/// The canonical bytes of a [`ResultSummary`] (see the module docs for the layout).
pub fn encode_result(summary: &ResultSummary) -> Vec<u8> {
	let mut outputs: Vec<&(String, Hash)> = summary.outputs.iter().collect();
	outputs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
	let mut out = Vec::with_capacity(73 + outputs.len() * 48);
	out.extend_from_slice(&summary.exit_code.to_le_bytes());
	out.push(summary.flags.to_byte());
	out.extend_from_slice(&summary.stdout_digest);
	out.extend_from_slice(&summary.stderr_digest);
	encode_compact(outputs.len() as u64, &mut out);
	for (name, digest) in outputs {
		encode_compact(name.len() as u64, &mut out);
		out.extend_from_slice(name.as_bytes());
		out.extend_from_slice(digest);
	}
	out
}

/// The result digest: blake2-256 of [`encode_result`].
pub fn result_digest(summary: &ResultSummary) -> Hash {
	blake2_256(&encode_result(summary))
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

	fn summary() -> ResultSummary {
		ResultSummary {
			exit_code: 0,
			flags: Flags::default(),
			stdout_digest: blake2_256(b"out"),
			stderr_digest: blake2_256(b""),
			outputs: vec![("tally.json".into(), blake2_256(b"{}")), ("a".into(), h(1))],
		}
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

	#[test]
	fn result_digest_is_stable_and_independent_of_output_order() {
		let a = summary();
		let mut b = summary();
		b.outputs.reverse();
		assert_eq!(result_digest(&a), result_digest(&b));
		// Pinned so that any change to the layout is noticed (the chain must match it).
		assert_eq!(
			to_hex(&result_digest(&a)),
			"12f189ba2c97a0534ba0c413c096c99de2477dadda81e6e766306a97d6c955f8"
		);
		let bytes = encode_result(&a);
		assert_eq!(&bytes[..8], &0i64.to_le_bytes());
		assert_eq!(bytes[8], 0);
		assert_eq!(bytes[73], 2 << 2, "compact length of two outputs");
		assert_eq!(bytes[74], 1 << 2, "compact length of the name \"a\"");
		assert_eq!(bytes[75], b'a');
		assert_eq!(bytes.len(), 73 + 1 + (1 + 1 + 32) + (1 + 10 + 32));
	}

	#[test]
	fn result_digest_changes_with_each_field() {
		let base = result_digest(&summary());
		let mut s = summary();
		s.exit_code = 137;
		assert_ne!(result_digest(&s), base);
		let mut s = summary();
		s.flags.oom_killed = true;
		assert_ne!(result_digest(&s), base);
		let mut s = summary();
		s.stdout_digest = h(9);
		assert_ne!(result_digest(&s), base);
		let mut s = summary();
		s.outputs[0].1 = h(9);
		assert_ne!(result_digest(&s), base);
	}

	#[test]
	fn flags_byte_sets_one_bit_per_flag() {
		assert_eq!(Flags::default().to_byte(), 0);
		assert_eq!(Flags { timed_out: true, ..Default::default() }.to_byte(), 1);
		assert_eq!(Flags { oom_killed: true, ..Default::default() }.to_byte(), 2);
		assert_eq!(Flags { truncated: true, ..Default::default() }.to_byte(), 4);
	}

	#[test]
	fn compact_encoding_matches_scale() {
		let enc = |n| {
			let mut v = Vec::new();
			encode_compact(n, &mut v);
			v
		};
		assert_eq!(enc(0), vec![0x00]);
		assert_eq!(enc(1), vec![0x04]);
		assert_eq!(enc(63), vec![0xfc]);
		assert_eq!(enc(64), vec![0x01, 0x01]);
		assert_eq!(enc(16383), vec![0xfd, 0xff]);
		assert_eq!(enc(16384), vec![0x02, 0x00, 0x01, 0x00]);
		assert_eq!(enc(1 << 30), vec![0x03, 0x00, 0x00, 0x00, 0x40]);
	}

	#[test]
	fn result_layout_equals_scale_encoding_of_the_tuple() {
		use codec::Encode;
		let mut s = summary();
		s.exit_code = -3;
		s.flags.truncated = true;
		s.outputs.push(("x".repeat(70), h(7)));
		let mut sorted: Vec<(Vec<u8>, Hash)> =
			s.outputs.iter().map(|(n, d)| (n.as_bytes().to_vec(), *d)).collect();
		sorted.sort();
		let tuple = (s.exit_code, s.flags.to_byte(), s.stdout_digest, s.stderr_digest, sorted);
		assert_eq!(encode_result(&s), tuple.encode());
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

//! The sortition arithmetic shared by the runtime and the worker.
//!
//! A provider evaluates its sr25519 VRF on [`lottery_transcript`]`(seed, epoch, account)`. The
//! first 16 bytes of the VRF output (see [`output_bytes`]), read as a little-endian `u128`, are
//! compared with [`threshold`]: the provider wins iff [`is_winner`]. The runtime runs exactly
//! these functions when it verifies a claim, so a worker that uses them never submits a claim
//! the runtime refuses.
//!
//! ## Threshold
//!
//! Plain (not binomial) sortition: each provider wins at most once per draw, with probability
//! `p = min(1, ExpectedWinners × tickets / total_tickets)`. The threshold is
//! `⌊(2^128 − 1) × p⌋`, computed with 128-bit multiply-by-rational (no overflow), and
//! `u128::MAX` when `p = 1` (which [`is_winner`] treats as "always wins"). Expected winners are
//! `Σ p ≤ ExpectedWinners`; a provider with twice the tickets wins twice as often as long as its
//! `p` stays below 1.

use codec::Encode;
use sp_core::{
	crypto::VrfPublic,
	sr25519::{
		self,
		vrf::{VrfSignData, VrfSignature, VrfTranscript},
	},
};
use sp_runtime::helpers_128bit::multiply_by_rational_with_rounding;

/// Label of the VRF transcript (the domain separator).
pub const LOTTERY_LABEL: &[u8] = b"povm-lottery";
/// Context from which output bytes are derived out of a verified VRF in-out.
pub const OUTPUT_CONTEXT: &[u8] = b"povm-lottery-output";

/// The VRF input a provider signs for `epoch`: transcript labelled `povm-lottery` with the
/// messages `seed`, `epoch` (4 bytes little-endian) and `account` (the account's SCALE encoding,
/// i.e. its 32 raw bytes for an `AccountId32`).
pub fn lottery_transcript<A: Encode>(seed: &[u8; 32], epoch: u32, account: &A) -> VrfSignData {
	let account = account.encode();
	VrfTranscript::new(
		LOTTERY_LABEL,
		&[(b"seed", &seed[..]), (b"epoch", &epoch.to_le_bytes()[..]), (b"account", &account[..])],
	)
	.into_sign_data()
}

/// Verify `signature` against `public` on `data` and derive the 32 output bytes, or `None` if the
/// proof does not verify.
pub fn verify_output(
	public: &sr25519::Public,
	data: &VrfSignData,
	signature: &VrfSignature,
) -> Option<[u8; 32]> {
	if !public.vrf_verify(data, signature) {
		return None;
	}
	output_bytes(public, data, signature)
}

/// The 32 output bytes of a VRF pre-output (not a proof check: use [`verify_output`]).
pub fn output_bytes(
	public: &sr25519::Public,
	data: &VrfSignData,
	signature: &VrfSignature,
) -> Option<[u8; 32]> {
	signature
		.pre_output
		.make_bytes::<32>(OUTPUT_CONTEXT, data.as_ref(), public)
		.ok()
}

/// Whether `key` is a valid sr25519 public key (a Ristretto point), so that it can verify.
pub fn is_valid_key(key: &sr25519::Public) -> bool {
	use codec::Decode;
	// A pre-output is decompressed like a public key: reuse the key's bytes as one.
	let Ok(pre_output) = sr25519::vrf::VrfPreOutput::decode(&mut &key.0[..]) else {
		return false;
	};
	let input = VrfTranscript::new(LOTTERY_LABEL, &[]);
	key.make_bytes::<1>(OUTPUT_CONTEXT, &input, &pre_output).is_ok()
}

/// The lottery value of an output: its first 16 bytes as a little-endian `u128`.
pub fn output_value(output: &[u8; 32]) -> u128 {
	let mut head = [0u8; 16];
	head.copy_from_slice(&output[..16]);
	u128::from_le_bytes(head)
}

/// The place of a winning output in a draw, lower is better: its [`output_value`] relative to
/// the claimant's `threshold` (`value / threshold`, scaled to the `u128` range), ties broken by
/// the output bytes. A draw keeps the `MaxWinners` lowest ranks, and the seats go to the lowest.
///
/// Relative, not raw: a winner's output is uniform below its threshold, so its relative value is
/// uniform over the whole range whatever its tickets. Ranked by the raw value, a winner with few
/// tickets (a low threshold) would always rank near the top, and splitting one machine's work
/// over many accounts would buy the best places, hence the seats (measured by
/// `pallets/simulation`'s Sybil rows).
pub fn rank(output: &[u8; 32], threshold: u128) -> (u128, [u8; 32]) {
	let value = output_value(output);
	let relative = if threshold == u128::MAX || threshold == 0 {
		value
	} else {
		multiply_by_rational_with_rounding(value, u128::MAX, threshold, sp_runtime::Rounding::Down)
			.unwrap_or(u128::MAX)
	};
	(relative, *output)
}

/// The threshold of a provider holding `tickets` of `total` with `expected_winners` expected.
///
/// `0` when the provider has no tickets (or nobody has), `u128::MAX` when its share times the
/// expected winners reaches 1, else `⌊(2^128 − 1) × expected_winners × tickets / total⌋`.
pub fn threshold(tickets: u128, total: u128, expected_winners: u32) -> u128 {
	if tickets == 0 || total == 0 {
		return 0;
	}
	let weighted = tickets.saturating_mul(u128::from(expected_winners));
	if weighted >= total {
		return u128::MAX;
	}
	multiply_by_rational_with_rounding(u128::MAX, weighted, total, sp_runtime::Rounding::Down)
		.unwrap_or(0)
}

/// Whether `output` wins under `threshold`: its value is below the threshold, or the threshold
/// is `u128::MAX` (certain win).
pub fn is_winner(output: &[u8; 32], threshold: u128) -> bool {
	threshold == u128::MAX || output_value(output) < threshold
}

/// Worker side: evaluate `pair`'s VRF for a draw. Returns the signature to submit and its
/// output bytes (to compare with the threshold via [`is_winner`]).
#[cfg(feature = "std")]
pub fn evaluate<A: Encode>(
	pair: &sr25519::Pair,
	seed: &[u8; 32],
	epoch: u32,
	account: &A,
) -> (VrfSignature, [u8; 32]) {
	use sp_core::{crypto::VrfSecret, Pair as _};
	let data = lottery_transcript(seed, epoch, account);
	let signature = pair.vrf_sign(&data);
	let output = output_bytes(&pair.public(), &data, &signature).unwrap_or([0xff; 32]);
	(signature, output)
}

/// A precomputed claim for the benchmarks in a `no_std` (WASM) runtime, where schnorrkel
/// cannot sign (it needs an RNG): the VRF signature of the key from seed [`fixture::KEY_SEED`]
/// on `lottery_transcript(SEED, EPOCH, ACCOUNT)`, valid for runtimes whose account id encodes to
/// the 32 raw bytes of `ACCOUNT` (`AccountId32`). Checked by a unit test.
#[cfg(any(test, feature = "runtime-benchmarks"))]
#[doc(hidden)]
pub mod fixture {
	/// Seed of the benchmark draw.
	pub const SEED: [u8; 32] = [7u8; 32];
	/// Epoch of the benchmark draw.
	pub const EPOCH: u32 = 5;
	/// The claiming account's encoding.
	pub const ACCOUNT: [u8; 32] = [0x11u8; 32];
	/// `sr25519::Pair::from_seed(&KEY_SEED)`.
	pub const KEY_SEED: [u8; 32] = [1u8; 32];
	/// Its public key.
	pub const PUBLIC: [u8; 32] = [
		24, 157, 172, 41, 41, 109, 49, 129, 77, 200, 197, 108, 243, 211, 106, 5, 67, 55, 43, 186,
		117, 56, 250, 50, 42, 74, 235, 254, 188, 57, 224, 86,
	];
	/// The VRF pre-output.
	pub const PRE_OUTPUT: [u8; 32] = [
		100, 239, 143, 45, 85, 125, 165, 142, 123, 164, 45, 21, 106, 48, 254, 137, 0, 167, 163,
		241, 92, 142, 28, 32, 222, 169, 180, 206, 156, 144, 136, 99,
	];
	/// The VRF proof.
	pub const PROOF: [u8; 64] = [
		55, 26, 109, 7, 171, 26, 5, 228, 69, 66, 172, 0, 110, 107, 41, 240, 233, 220, 20, 196, 217,
		217, 116, 85, 4, 178, 158, 109, 213, 176, 31, 3, 4, 115, 242, 109, 103, 59, 65, 67, 8, 217,
		13, 80, 255, 54, 252, 199, 234, 195, 182, 75, 206, 126, 195, 142, 51, 77, 62, 85, 207, 131,
		80, 5,
	];
}

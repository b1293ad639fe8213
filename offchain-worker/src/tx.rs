//! The calls the worker sends and the signed extrinsics that carry them.
//!
//! The encoding mirrors the runtime exactly (pallet indices `Session = 6`, `JobQueue = 20`,
//! `VmProof = 21`, `VrfLottery = 22`, call indices as declared in the pallets) and the runtime's `TxExtension`:
//! `(CheckNonZeroSender, CheckSpecVersion, CheckTxVersion, CheckGenesis, CheckEra, CheckNonce,
//! CheckWeight, ChargeTransactionPayment, CheckMetadataHash, WeightReclaim)`.
//!
//! - explicit part (in the extrinsic): `era ‖ Compact(nonce) ‖ Compact(tip) ‖ 0u8` (metadata
//!   hash mode `Disabled`); every other extension is empty;
//! - implicit part (signed, not sent): `spec_version ‖ transaction_version ‖ genesis_hash ‖
//!   era_block_hash ‖ None::<[u8; 32]>` (the metadata hash);
//! - signed payload = `call ‖ explicit ‖ implicit`, hashed with blake2-256 first when longer
//!   than 256 bytes;
//! - extrinsic = `Compact(len) ‖ 0x84 ‖ MultiAddress::Id(account) ‖
//!   MultiSignature::Sr25519(sig) ‖ explicit ‖ call` (format version 4, signed).

use codec::{Compact, Encode};
use pallet_vm_proof::{Reveal, VmOffer};
use pallet_vrf_lottery::VrfProofBytes;
use sp_runtime::{generic::Era, MultiAddress, MultiSignature};

use crate::{prelude::*, signer::Signer};

/// Pallet index of frame-system in the runtime.
pub const SYSTEM_INDEX: u8 = 0;
/// Pallet index of pallet-session in the runtime.
pub const SESSION_INDEX: u8 = 6;
/// Pallet index of the job queue in the runtime.
pub const JOB_QUEUE_INDEX: u8 = 20;
/// Pallet index of vm-proof in the runtime.
pub const VM_PROOF_INDEX: u8 = 21;
/// Pallet index of the VRF lottery in the runtime.
pub const VRF_LOTTERY_INDEX: u8 = 22;

/// A runtime call the worker (or a test customer) sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
	/// `VmProof::register_provider(offer, bond)`.
	RegisterProvider {
		/// The VM offer.
		offer: VmOffer,
		/// Bond to hold.
		bond: Balance,
	},
	/// `VmProof::update_offer(offer)`.
	UpdateOffer {
		/// The new offer.
		offer: VmOffer,
	},
	/// `VmProof::heartbeat()`.
	Heartbeat,
	/// `VmProof::unregister()`.
	Unregister,
	/// `VmProof::commit_result(job, commitment)`.
	CommitResult {
		/// The job.
		job: JobId,
		/// The commitment.
		commitment: Digest,
	},
	/// `VmProof::reveal_result(job, reveal, leaves)`.
	RevealResult {
		/// The job.
		job: JobId,
		/// The revealed result.
		reveal: Reveal,
		/// Checkpoint hashes, in order.
		leaves: Vec<Digest>,
	},
	/// `System::remark(remark)`: a no-op, for liveness checks of the signing path.
	Remark {
		/// Bytes to note.
		remark: Vec<u8>,
	},
	/// `JobQueue::submit_job(spec, budget)`.
	SubmitJob {
		/// The job.
		spec: Box<JobSpec>,
		/// Budget to reserve.
		budget: Balance,
	},
	/// `VrfLottery::register_vrf_key(key)`.
	RegisterVrfKey {
		/// The sr25519 public key the provider evaluates its lottery VRF with.
		key: [u8; 32],
	},
	/// `VrfLottery::claim_ticket(epoch, signature)`.
	ClaimTicket {
		/// The open draw's epoch.
		epoch: u32,
		/// The VRF signature on the draw's transcript.
		signature: VrfProofBytes,
	},
	/// `Session::set_keys(keys, proof)`: the validator node's session keys (the runtime's
	/// `SessionKeys`, already SCALE-encoded) with the proof that the caller owns them.
	SetSessionKeys {
		/// Encoded `SessionKeys` (BABE ‖ GRANDPA public keys), as `author_rotateKeysWithOwner`
		/// returns them.
		keys: Vec<u8>,
		/// The ownership proof, as `author_rotateKeysWithOwner` returns it.
		proof: Vec<u8>,
	},
}

impl Call {
	/// A short name for logs and metrics.
	pub fn name(&self) -> &'static str {
		match self {
			Call::RegisterProvider { .. } => "register_provider",
			Call::UpdateOffer { .. } => "update_offer",
			Call::Heartbeat => "heartbeat",
			Call::Unregister => "unregister",
			Call::CommitResult { .. } => "commit_result",
			Call::RevealResult { .. } => "reveal_result",
			Call::SubmitJob { .. } => "submit_job",
			Call::Remark { .. } => "remark",
			Call::RegisterVrfKey { .. } => "register_vrf_key",
			Call::ClaimTicket { .. } => "claim_ticket",
			Call::SetSessionKeys { .. } => "set_keys",
		}
	}
}

impl Encode for Call {
	fn encode_to<O: codec::Output + ?Sized>(&self, out: &mut O) {
		match self {
			Call::RegisterProvider { offer, bond } => {
				out.write(&[VM_PROOF_INDEX, 0]);
				offer.encode_to(out);
				bond.encode_to(out);
			},
			Call::UpdateOffer { offer } => {
				out.write(&[VM_PROOF_INDEX, 1]);
				offer.encode_to(out);
			},
			Call::Heartbeat => out.write(&[VM_PROOF_INDEX, 2]),
			Call::Unregister => out.write(&[VM_PROOF_INDEX, 3]),
			Call::CommitResult { job, commitment } => {
				out.write(&[VM_PROOF_INDEX, 5]);
				job.encode_to(out);
				commitment.encode_to(out);
			},
			Call::RevealResult { job, reveal, leaves } => {
				out.write(&[VM_PROOF_INDEX, 6]);
				job.encode_to(out);
				reveal.encode_to(out);
				leaves.encode_to(out);
			},
			Call::Remark { remark } => {
				out.write(&[SYSTEM_INDEX, 0]);
				remark.encode_to(out);
			},
			Call::SubmitJob { spec, budget } => {
				out.write(&[JOB_QUEUE_INDEX, 0]);
				spec.encode_to(out);
				budget.encode_to(out);
			},
			Call::RegisterVrfKey { key } => {
				out.write(&[VRF_LOTTERY_INDEX, 0]);
				key.encode_to(out);
			},
			Call::ClaimTicket { epoch, signature } => {
				out.write(&[VRF_LOTTERY_INDEX, 1]);
				epoch.encode_to(out);
				signature.encode_to(out);
			},
			Call::SetSessionKeys { keys, proof } => {
				out.write(&[SESSION_INDEX, 0]);
				// `SessionKeys` is a struct of fixed-size keys: its encoding has no length prefix.
				out.write(keys);
				proof.encode_to(out);
			},
		}
	}
}

/// Everything besides the call and the key that a signed extrinsic depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxParams {
	/// Runtime `spec_version`.
	pub spec_version: u32,
	/// Runtime `transaction_version`.
	pub transaction_version: u32,
	/// Genesis hash.
	pub genesis_hash: H256,
	/// Number of the block the mortality period starts at.
	pub era_block_number: BlockNumber,
	/// Hash of that block.
	pub era_block_hash: H256,
	/// Mortality period in blocks (rounded to a power of two by [`Era::mortal`]).
	pub mortality: u64,
	/// Account nonce.
	pub nonce: Nonce,
	/// Tip to the block author.
	pub tip: Balance,
}

impl TxParams {
	/// The era: mortal from `era_block_number` for `mortality` blocks.
	pub fn era(&self) -> Era {
		Era::mortal(self.mortality, u64::from(self.era_block_number))
	}

	/// The explicit extension bytes, carried in the extrinsic.
	pub fn explicit(&self) -> Vec<u8> {
		let mut out = self.era().encode();
		Compact(self.nonce).encode_to(&mut out);
		Compact(self.tip).encode_to(&mut out);
		// CheckMetadataHash: mode `Disabled`.
		out.push(0);
		out
	}

	/// The implicit extension bytes, signed but not carried.
	pub fn implicit(&self) -> Vec<u8> {
		let mut out = Vec::with_capacity(8 + 64 + 1);
		self.spec_version.encode_to(&mut out);
		self.transaction_version.encode_to(&mut out);
		self.genesis_hash.encode_to(&mut out);
		self.era_block_hash.encode_to(&mut out);
		None::<[u8; 32]>.encode_to(&mut out);
		out
	}
}

/// The bytes the signer signs for `call` under `params`.
pub fn signing_payload(call: &Call, params: &TxParams) -> Vec<u8> {
	signing_payload_raw(&call.encode(), params)
}

/// The bytes the signer signs for an encoded call under `params`.
pub fn signing_payload_raw(call: &[u8], params: &TxParams) -> Vec<u8> {
	let mut payload = call.to_vec();
	payload.extend(params.explicit());
	payload.extend(params.implicit());
	if payload.len() > 256 {
		sp_io::hashing::blake2_256(&payload).to_vec()
	} else {
		payload
	}
}

/// A signed extrinsic (format version 4), ready for `author_submitExtrinsic`.
pub fn signed_extrinsic(call: &Call, params: &TxParams, signer: &Signer) -> Vec<u8> {
	signed_extrinsic_raw(&call.encode(), params, signer)
}

/// A signed extrinsic (format version 4) for an encoded call.
pub fn signed_extrinsic_raw(call: &[u8], params: &TxParams, signer: &Signer) -> Vec<u8> {
	let signature = signer.sign(&signing_payload_raw(call, params));
	let mut body = vec![0x84u8];
	MultiAddress::<AccountId, ()>::Id(signer.account().clone()).encode_to(&mut body);
	MultiSignature::Sr25519(signature).encode_to(&mut body);
	body.extend(params.explicit());
	body.extend_from_slice(call);
	let mut xt = Compact(body.len() as u32).encode();
	xt.extend(body);
	xt
}

#[cfg(test)]
mod tests {
	use super::*;
	use pallet_vm_proof::Arch;
	use sp_core::{sr25519, Pair};

	fn params() -> TxParams {
		TxParams {
			spec_version: 100,
			transaction_version: 1,
			genesis_hash: H256::repeat_byte(7),
			era_block_number: 1000,
			era_block_hash: H256::repeat_byte(9),
			mortality: 64,
			nonce: 5,
			tip: 0,
		}
	}

	#[test]
	fn calls_start_with_pallet_and_call_index() {
		assert_eq!(Call::Heartbeat.encode(), vec![21, 2]);
		assert_eq!(Call::Unregister.encode(), vec![21, 3]);
		let c = Call::CommitResult { job: 3, commitment: [1; 32] }.encode();
		assert_eq!(&c[..2], &[21, 5]);
		assert_eq!(&c[2..10], &3u64.to_le_bytes());
		assert_eq!(&c[10..], &[1u8; 32]);
		let offer = VmOffer {
			millicores: 1000,
			memory_mib: 512,
			arch: Arch::X86_64,
			slots: 1,
			grid_intensity: 300,
			pue_permille: 1200,
			core_milliwatts: 10_000,
		};
		let r = Call::RegisterProvider { offer, bond: 5 }.encode();
		assert_eq!(&r[..2], &[21, 0]);
		// The bond is a plain (not compact) u128 after the offer.
		assert_eq!(&r[r.len() - 16..], &5u128.to_le_bytes());
		assert_eq!(r.len(), 2 + offer.encoded_size() + 16);
	}

	#[test]
	fn lottery_and_session_calls_have_the_runtime_layout() {
		let key = [9u8; 32];
		assert_eq!(Call::RegisterVrfKey { key }.encode(), [&[22u8, 0][..], &key[..]].concat());
		let signature = VrfProofBytes { pre_output: [1; 32], proof: [2; 64] };
		let c = Call::ClaimTicket { epoch: 7, signature }.encode();
		assert_eq!(&c[..2], &[22, 1]);
		assert_eq!(&c[2..6], &7u32.to_le_bytes());
		assert_eq!(&c[6..38], &[1u8; 32]);
		assert_eq!(&c[38..], &[2u8; 64]);
		let c = Call::SetSessionKeys { keys: vec![3; 64], proof: vec![4; 64] }.encode();
		assert_eq!(&c[..2], &[6, 0]);
		assert_eq!(&c[2..66], &[3u8; 64], "keys without a length prefix");
		// Compact 64 takes two bytes: (64 << 2) | 0b01, little-endian.
		assert_eq!(&c[66..68], &[0x01, 0x01], "proof with its compact length");
		assert_eq!(&c[68..], &[4u8; 64]);
	}

	#[test]
	fn extension_parts_have_the_runtime_layout() {
		let p = params();
		let explicit = p.explicit();
		// Mortal era (2 bytes), compact nonce 5 (1 byte), compact tip 0 (1 byte), mode 0.
		assert_eq!(explicit.len(), 5);
		assert_eq!(&explicit[2..], &[5 << 2, 0, 0]);
		assert_eq!(p.era().birth(1000), 1000);
		let implicit = p.implicit();
		assert_eq!(implicit.len(), 4 + 4 + 32 + 32 + 1);
		assert_eq!(implicit[72], 0, "no metadata hash");
	}

	#[test]
	fn extrinsic_carries_a_valid_signature_over_the_payload() {
		let signer = Signer::from_uri("//Alice").unwrap();
		let call = Call::Heartbeat;
		let p = params();
		let xt = signed_extrinsic(&call, &p, &signer);
		let len = <Compact<u32> as codec::Decode>::decode(&mut &xt[..]).unwrap().0 as usize;
		// A two-byte compact length.
		let xt = &xt[2..];
		assert_eq!(len, xt.len());
		assert_eq!(xt[0], 0x84);
		// Re-index so that the body (after the 0x84 byte) starts at 2, as below.
		let xt = [&[0u8][..], xt].concat();
		assert_eq!(xt[2], 0, "MultiAddress::Id");
		assert_eq!(&xt[3..35], signer.account().as_ref() as &[u8]);
		assert_eq!(xt[35], 1, "MultiSignature::Sr25519");
		let sig = sr25519::Signature::from_raw(xt[36..100].try_into().unwrap());
		let public = sr25519::Public::from_raw(*signer.account().as_ref());
		assert!(sr25519::Pair::verify(&sig, signing_payload(&call, &p), &public));
		assert_eq!(&xt[100..105], &p.explicit()[..]);
		assert_eq!(&xt[105..], &[21, 2]);
	}

	#[test]
	fn long_payloads_are_hashed_before_signing() {
		let reveal = Reveal {
			result_digest: [1; 32],
			checkpoints_root: [2; 32],
			salt: [3; 32],
			output: Default::default(),
			usage: Default::default(),
		};
		let call = Call::RevealResult { job: 1, reveal, leaves: vec![[4; 32]; 8] };
		assert_eq!(signing_payload(&call, &params()).len(), 32);
		assert!(signing_payload(&Call::Heartbeat, &params()).len() < 256);
	}
}

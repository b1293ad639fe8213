//! The calls PoVM's own tools send: the provider's worker, and customers in the tests and the
//! demo. Each maps to its generated payload in [`crate::api`]; nothing here knows an index.

use crate::types::{Balance, Digest, JobId, JobSpec, Reveal, VmOffer, VrfProofBytes};

/// A runtime call sent by the worker, a test customer or the demo.
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
	/// `JobQueue::cancel_job(job)`.
	CancelJob {
		/// The job.
		job: JobId,
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
	/// `Session::set_keys(keys, proof)`: the validator node's session keys, SCALE-encoded as
	/// `author_rotateKeysWithOwner` returns them, with the proof that the caller owns them.
	SetSessionKeys {
		/// Encoded `SessionKeys` (BABE ‖ GRANDPA public keys).
		keys: Vec<u8>,
		/// The ownership proof.
		proof: Vec<u8>,
	},
}

impl Call {
	/// The call's name in the runtime, for logs and metrics.
	pub fn name(&self) -> &'static str {
		match self {
			Call::RegisterProvider { .. } => "register_provider",
			Call::UpdateOffer { .. } => "update_offer",
			Call::Heartbeat => "heartbeat",
			Call::Unregister => "unregister",
			Call::CommitResult { .. } => "commit_result",
			Call::RevealResult { .. } => "reveal_result",
			Call::SubmitJob { .. } => "submit_job",
			Call::CancelJob { .. } => "cancel_job",
			Call::Remark { .. } => "remark",
			Call::RegisterVrfKey { .. } => "register_vrf_key",
			Call::ClaimTicket { .. } => "claim_ticket",
			Call::SetSessionKeys { .. } => "set_keys",
		}
	}
}

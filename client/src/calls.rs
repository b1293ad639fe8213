//! The calls PoVM's own tools send: the provider's worker, and customers in the tests and the
//! demo. Each maps to its generated payload ([`Call::encode_with`]); nothing here knows an
//! index: the pallet and call indices come from the metadata the client works with.

use codec::DecodeAll;
use subxt::{
	client::OfflineClientAtBlockT,
	tx::{Payload, TransactionsClient},
	utils::Static,
};

use crate::{
	error::Error,
	runtime,
	types::{
		AccountId, Balance, DeclineReason, Digest, JobId, JobSpec, ResultService, Reveal,
		RunOutcome, VmOffer, VrfProofBytes,
	},
	PovmConfig,
};

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
	/// `VmProof::reveal_result(job, reveal, leaves, outcome)`.
	RevealResult {
		/// The job.
		job: JobId,
		/// The revealed result.
		reveal: Reveal,
		/// Checkpoint hashes, in order.
		leaves: Vec<Digest>,
		/// How the run ended; its digest is the reveal's result digest. A runtime before spec
		/// 108 takes none and is sent the reveal without it.
		outcome: Option<RunOutcome>,
	},
	/// `VmProof::set_result_service(service)`: where the provider serves result files.
	SetResultService {
		/// The service, or `None` to remove it.
		service: Option<ResultService>,
	},
	/// `VmProof::decline_job(job, reason)`: the provider cannot run a job it was drawn for.
	DeclineJob {
		/// The job.
		job: JobId,
		/// Why.
		reason: DeclineReason,
	},
	/// `VmProof::job_heartbeat(job)`: the provider is still at work on a long job (runtimes
	/// from spec 111).
	JobHeartbeat {
		/// The job.
		job: JobId,
	},
	/// `Balances::transfer_keep_alive(dest, value)`: funds an account (the replica benchmark's
	/// providers).
	TransferKeepAlive {
		/// The account credited.
		dest: AccountId,
		/// The amount.
		value: Balance,
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
	/// `Sudo::sudo(System::set_code(code))`: a runtime upgrade, signed by the sudo key of a
	/// chain that has one (dev and local chains).
	SudoSetCode {
		/// The new runtime's WASM, as built (`*.compact.compressed.wasm`).
		code: Vec<u8>,
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
			Call::SetResultService { .. } => "set_result_service",
			Call::DeclineJob { .. } => "decline_job",
			Call::JobHeartbeat { .. } => "job_heartbeat",
			Call::SubmitJob { .. } => "submit_job",
			Call::CancelJob { .. } => "cancel_job",
			Call::TransferKeepAlive { .. } => "transfer_keep_alive",
			Call::Remark { .. } => "remark",
			Call::RegisterVrfKey { .. } => "register_vrf_key",
			Call::ClaimTicket { .. } => "claim_ticket",
			Call::SudoSetCode { .. } => "sudo",
			Call::SetSessionKeys { .. } => "set_keys",
		}
	}
}

/// The call data of a generated payload, after checking it against the metadata of `tx`'s
/// block: a call whose shape differs from the generated one is [`Error::Incompatible`].
fn call_data<P: Payload, C: OfflineClientAtBlockT<PovmConfig>>(
	tx: &TransactionsClient<PovmConfig, C>,
	name: &'static str,
	payload: P,
) -> Result<Vec<u8>, Error> {
	let incompatible = |e: subxt::error::ExtrinsicError| Error::Incompatible {
		what: name,
		message: e.to_string(),
	};
	tx.validate(&payload).map_err(incompatible)?;
	tx.call_data(&payload).map_err(incompatible)
}

/// `JobQueue::submit_job`'s arguments as runtimes before spec 107 take them: a version-1 spec
/// (image by ID text, no inputs).
#[derive(subxt::ext::scale_encode::EncodeAsType)]
#[encode_as_type(crate_path = "subxt::ext::scale_encode")]
struct SubmitJobV1 {
	spec: Static<pallet_job_queue::migrations::v2::v1::JobSpec<Balance>>,
	budget: Balance,
}

/// `submit_job` for a runtime whose `submit_job` is not this client's (`message` says why):
/// one before spec 107 takes the spec in its version-1 layout, which holds an x86-64 image
/// without a registry and no inputs. A customer's transaction is then accepted on both sides of
/// the upgrade, and signed again for the new runtime if the upgrade comes before its inclusion.
/// A spec the old layout cannot hold is refused here, as [`Error::Incompatible`].
fn submit_job_before_spec_107<C: OfflineClientAtBlockT<PovmConfig>>(
	tx: &TransactionsClient<PovmConfig, C>,
	name: &'static str,
	spec: &JobSpec,
	budget: Balance,
	message: String,
) -> Result<Vec<u8>, Error> {
	let Some(spec) = pallet_job_queue::migrations::v2::spec_as_v1(spec.clone()) else {
		return Err(Error::Incompatible {
			what: name,
			message: format!(
				"{message}; a runtime before spec 107 takes no registry, inputs or architecture \
				 other than x86-64"
			),
		});
	};
	let payload = subxt::tx::StaticPayload::new(
		"JobQueue",
		"submit_job",
		SubmitJobV1 { spec: Static(spec), budget },
	);
	tx.call_data(&payload)
		.map_err(|e| Error::Incompatible { what: name, message: e.to_string() })
}

/// `VmProof::reveal_result`'s arguments as runtimes before spec 108 take them: no outcome.
#[derive(subxt::ext::scale_encode::EncodeAsType)]
#[encode_as_type(crate_path = "subxt::ext::scale_encode")]
struct RevealResultBeforeOutcome {
	job: JobId,
	reveal: Static<Reveal>,
	leaves: Vec<Digest>,
}

/// `reveal_result` for a runtime before spec 108, which takes no outcome: the reveal alone (the
/// commitment covers the result digest either way, so the same reveal opens it on both sides
/// of the upgrade).
fn reveal_result_before_spec_108<C: OfflineClientAtBlockT<PovmConfig>>(
	tx: &TransactionsClient<PovmConfig, C>,
	name: &'static str,
	job: JobId,
	reveal: &Reveal,
	leaves: &[Digest],
) -> Result<Vec<u8>, Error> {
	let payload = subxt::tx::StaticPayload::new(
		"VmProof",
		"reveal_result",
		RevealResultBeforeOutcome { job, reveal: Static(reveal.clone()), leaves: leaves.to_vec() },
	);
	tx.validate(&payload)
		.and_then(|_| tx.call_data(&payload))
		.map_err(|e| Error::Incompatible { what: name, message: e.to_string() })
}

impl Call {
	/// The SCALE call data of this call (pallet index, call index, arguments) as the metadata of
	/// `tx`'s block lays it out.
	pub fn encode_with<C: OfflineClientAtBlockT<PovmConfig>>(
		&self,
		tx: &TransactionsClient<PovmConfig, C>,
	) -> Result<Vec<u8>, Error> {
		let api = runtime::tx();
		let name = self.name();
		match self {
			Call::RegisterProvider { offer, bond } =>
				call_data(tx, name, api.vm_proof().register_provider(Static(*offer), *bond)),
			Call::UpdateOffer { offer } =>
				call_data(tx, name, api.vm_proof().update_offer(Static(*offer))),
			Call::Heartbeat => call_data(tx, name, api.vm_proof().heartbeat()),
			Call::Unregister => call_data(tx, name, api.vm_proof().unregister()),
			Call::CommitResult { job, commitment } =>
				call_data(tx, name, api.vm_proof().commit_result(*job, *commitment)),
			Call::RevealResult { job, reveal, leaves, outcome } => {
				let bounded = runtime::runtime_types::bounded_collections::bounded_vec::BoundedVec(
					leaves.clone(),
				);
				match call_data(
					tx,
					name,
					api.vm_proof().reveal_result(
						*job,
						Static(reveal.clone()),
						bounded,
						outcome.map(Static),
					),
				) {
					Err(Error::Incompatible { .. }) =>
						reveal_result_before_spec_108(tx, name, *job, reveal, leaves),
					other => other,
				}
			},
			Call::SetResultService { service } =>
				call_data(tx, name, api.vm_proof().set_result_service(service.clone().map(Static))),
			Call::DeclineJob { job, reason } =>
				call_data(tx, name, api.vm_proof().decline_job(*job, Static(*reason))),
			Call::JobHeartbeat { job } => call_data(tx, name, api.vm_proof().job_heartbeat(*job)),
			Call::TransferKeepAlive { dest, value } => call_data(
				tx,
				name,
				api.balances().transfer_keep_alive(
					subxt::utils::MultiAddress::Id(crate::types::to_subxt_account(dest)),
					*value,
				),
			),
			Call::Remark { remark } => call_data(tx, name, api.system().remark(remark.clone())),
			Call::SubmitJob { spec, budget } => match call_data(
				tx,
				name,
				api.job_queue().submit_job(Static((**spec).clone()), *budget),
			) {
				Err(Error::Incompatible { message, .. }) =>
					submit_job_before_spec_107(tx, name, spec, *budget, message),
				other => other,
			},
			Call::CancelJob { job } => call_data(tx, name, api.job_queue().cancel_job(*job)),
			Call::RegisterVrfKey { key } =>
				call_data(tx, name, api.vrf_lottery().register_vrf_key(*key)),
			Call::ClaimTicket { epoch, signature } => call_data(
				tx,
				name,
				api.vrf_lottery().claim_ticket(*epoch, Static(signature.clone())),
			),
			Call::SudoSetCode { code } => {
				// Built by name against the metadata of `tx`'s block, not from the generated
				// `RuntimeCall`: the wrapped call's type is the whole `RuntimeCall`, which
				// differs between runtime versions, and an upgrade is always sent to a runtime
				// older than the metadata this client was generated from.
				use subxt::dynamic::Value;
				let set_code = Value::unnamed_variant(
					"System",
					[Value::named_variant("set_code", [("code", Value::from_bytes(code))])],
				);
				call_data(tx, name, subxt::dynamic::tx("Sudo", "sudo", vec![set_code]))
			},
			Call::SetSessionKeys { keys, proof } => {
				// The node's `author_rotateKeys*` gives the keys SCALE-encoded; their layout is the
				// runtime's `SessionKeys`, decoded here with the generated type.
				let keys =
					runtime::runtime_types::povm_runtime::SessionKeys::decode_all(&mut &keys[..])
						.map_err(|e| Error::Decode { what: "session keys", message: e.to_string() })?;
				call_data(tx, name, api.session().set_keys(keys, proof.clone()))
			},
		}
	}
}

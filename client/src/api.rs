//! [`Api`]: typed reads at a block and transactions followed to their events, over one
//! jsonrpsee connection, through subxt's legacy-RPC backend (`state_*`, `chain_*`,
//! `author_*`, which every Substrate node serves).

use std::sync::Arc;

use subxt::{
	backend::LegacyBackend,
	config::{RpcConfigFor, SubstrateExtrinsicParamsBuilder},
	events::{DecodeAsEvent, Events, Phase},
	rpcs::{methods::legacy::LegacyRpcMethods, RpcClient},
	tx::{TransactionInBlock, TransactionProgress, TransactionStatus},
	OnlineClient,
};

use pallet_job_queue::runtime_api::POVM_JOBS_API_ID;

use crate::{
	calls::Call,
	error::{DispatchFailure, Error},
	runtime,
	signer::PairSigner,
	types::*,
	AtBlock, PovmConfig,
};

/// What a transaction waits for before [`Api::submit`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
	/// Its inclusion in a block of the best chain (which a fork may still drop).
	InBlock,
	/// The finalisation of the block that includes it.
	Finalized,
}

/// The transaction extensions' inputs the caller chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxSettings {
	/// The account nonce (from `system_accountNextIndex`, which counts the pool).
	pub nonce: u64,
	/// Tip to the block author.
	pub tip: Balance,
	/// Mortality in blocks (rounded up to a power of two), counted from `era_block`.
	pub mortality: u64,
	/// The block the transaction is built at and its mortality starts from (a finalised one,
	/// so that a fork cannot make it invalid): number and hash.
	pub era_block: (BlockNumber, H256),
}

/// A transaction that was included and whose dispatch succeeded.
#[derive(Debug)]
pub struct Receipt {
	/// The block that includes it.
	pub block: H256,
	/// Whether that block was final when the receipt was made.
	pub finalized: bool,
	/// The transaction's index in the block.
	index: u32,
	/// Every event of the block, decoded with the metadata of the runtime that executed it.
	events: Events<PovmConfig>,
}

impl Receipt {
	/// The first event of type `E` that the transaction emitted.
	pub fn find_first<E: DecodeAsEvent>(&self) -> Result<Option<E>, Error> {
		self.events
			.iter()
			.filter_map(|event| event.ok())
			.filter(|event| event.phase() == Phase::ApplyExtrinsic(self.index))
			.find_map(|event| event.decode_fields_as::<E>())
			.transpose()
			.map_err(|e| Error::Decode { what: "transaction event", message: e.to_string() })
	}

	/// The id of the job a `submit_job` created (its `JobSubmitted` event).
	pub fn submitted_job(&self) -> Result<Option<JobId>, Error> {
		Ok(self.find_first::<runtime::job_queue::events::JobSubmitted>()?.map(|e| e.job))
	}
}

/// A typed view of the PoVM chain over one RPC connection.
#[derive(Clone)]
pub struct Api {
	online: OnlineClient<PovmConfig>,
	rpc: LegacyRpcMethods<RpcConfigFor<PovmConfig>>,
	/// The last block a client was made for: reads at the same block share it (subxt reads
	/// the header and `Core_version` to make one). Held while one is made, so concurrent
	/// reads at a new block make it once.
	last: Arc<tokio::sync::Mutex<Option<(H256, AtBlock)>>>,
}

impl std::fmt::Debug for Api {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.debug_struct("Api")
			.field("genesis", &self.online.genesis_hash())
			.finish_non_exhaustive()
	}
}

/// Maps a subxt error into [`Error`], telling an incompatible runtime apart.
fn map_err(what: &'static str) -> impl Fn(subxt::Error) -> Error {
	move |e| {
		let message = e.to_string();
		// subxt's words for a runtime that lacks the entry, or has it with other types.
		if message.contains("not compatible") ||
			message.contains("codegen") ||
			message.contains("not found")
		{
			Error::Incompatible { what, message }
		} else {
			Error::Rpc { what, message }
		}
	}
}

/// The version of API `id` in a SCALE-encoded `Core_version` answer (an `sp_version`
/// `RuntimeVersion`: spec name, impl name, authoring, spec and impl versions, then the
/// `apis` list of `(id, version)`; the fields after it are not read).
pub fn api_version_in(core_version: &[u8], id: &[u8; 8]) -> Result<Option<u32>, Error> {
	type Head = (String, String, u32, u32, u32, Vec<([u8; 8], u32)>);
	let (_, _, _, _, _, apis) = <Head as codec::Decode>::decode(&mut &core_version[..])
		.map_err(|e| Error::Decode { what: "Core_version", message: e.to_string() })?;
	Ok(apis.into_iter().find(|(i, _)| i == id).map(|(_, v)| v))
}

/// The first version of `PovmJobsApi` whose assignments carry the draw wave (spec 101); later
/// versions changed only `job` ([`pallet_job_queue::runtime_api::POVM_JOBS_API_VERSION`]).
pub const ASSIGNMENTS_WITH_WAVE_SINCE: u32 = 2;

/// The first version of `PovmJobsApi` with `quote` (runtime spec 109).
pub const QUOTE_SINCE: u32 = 4;

/// A spec's quote: the runtime's [`QuoteView`] and, when `submit_job` would refuse the spec,
/// the refusal's name (`JobQueue::ZeroPrice`), read from the metadata of the block quoted at.
#[derive(Clone, Debug)]
pub struct Quote {
	/// What the runtime said.
	pub view: QuoteView,
	/// The name of `view.refusal`, when there is one.
	pub refusal: Option<String>,
}

/// The name of a dispatch error: `Pallet::Error` for a module error found in `metadata`, else
/// its debug form.
pub fn dispatch_error_name(
	metadata: &subxt::Metadata,
	error: &sp_runtime::DispatchError,
) -> String {
	if let sp_runtime::DispatchError::Module(m) = error {
		let named = metadata.pallets().find(|p| p.error_index() == m.index).and_then(|p| {
			p.error_variant_by_index(m.error[0])
				.map(|v| format!("{}::{}", p.name(), v.name))
		});
		if let Some(name) = named {
			return name;
		}
	}
	format!("{error:?}")
}

/// Whether a runtime declaring `PovmJobsApi` at `version` returns the assignments this client
/// decodes (version [`ASSIGNMENTS_WITH_WAVE_SINCE`] or later); why not otherwise.
pub fn check_povm_jobs_api(version: Option<u32>) -> Result<(), String> {
	match version {
		Some(v) if v >= ASSIGNMENTS_WITH_WAVE_SINCE => Ok(()),
		Some(v) => Err(format!(
			"the runtime's PovmJobsApi is version {v}, this client reads version \
			 {ASSIGNMENTS_WITH_WAVE_SINCE} or later (assignments with their draw wave): the \
			 runtime has not been upgraded to spec 101 yet"
		)),
		None => Err("the runtime has no PovmJobsApi".into()),
	}
}

impl Api {
	/// An API over `client` (for example a `jsonrpsee` WebSocket client). `config` carries the
	/// metadata cache: pass the same one when reconnecting to keep it.
	pub async fn new(client: impl Into<RpcClient>, config: PovmConfig) -> Result<Self, Error> {
		let client = client.into();
		let backend = LegacyBackend::<PovmConfig>::builder().build(client.clone());
		let online = OnlineClient::from_backend_with_config(config, Arc::new(backend))
			.await
			.map_err(|e| Error::rpc("genesis hash", e))?;
		Ok(Self { online, rpc: LegacyRpcMethods::new(client), last: Default::default() })
	}

	/// The chain's genesis hash.
	pub fn genesis_hash(&self) -> H256 {
		self.online.genesis_hash()
	}

	/// A client at block `hash`, or at the node's best block when `None`.
	pub async fn at(&self, hash: Option<H256>) -> Result<AtBlock, Error> {
		let hash = match hash {
			Some(h) => h,
			None => self
				.rpc
				.chain_get_block_hash(None)
				.await
				.map_err(|e| Error::rpc("chain_getBlockHash", e))?
				.ok_or_else(|| Error::rpc("chain_getBlockHash", "the node has no best block"))?,
		};
		let mut last = self.last.lock().await;
		if let Some((h, at)) = last.as_ref() {
			if *h == hash {
				return Ok(at.clone());
			}
		}
		let at = self.online.at_block(hash).await.map_err(|e| Error::rpc("client at block", e))?;
		*last = Some((hash, at.clone()));
		Ok(at)
	}

	/// Calls the runtime API of `payload` at `at`; `what` names it in errors.
	async fn call_api<P: subxt::runtime_apis::Payload>(
		&self,
		what: &'static str,
		at: Option<H256>,
		payload: P,
	) -> Result<P::ReturnType, Error> {
		self.at(at)
			.await?
			.runtime_apis()
			.call(payload)
			.await
			.map_err(|e| map_err(what)(e.into()))
	}

	/// Reads and decodes the storage entry `addr[keys]` at `at`; `None` when it holds nothing
	/// (and has no default); `what` names it in errors.
	async fn fetch<A: subxt::storage::Address>(
		&self,
		what: &'static str,
		at: Option<H256>,
		addr: A,
		keys: A::KeyParts,
	) -> Result<Option<A::Value>, Error> {
		let at = self.at(at).await?;
		let value =
			at.storage().try_fetch(addr, keys).await.map_err(|e| map_err(what)(e.into()))?;
		value
			.map(|v| v.decode())
			.transpose()
			.map_err(|e| Error::Decode { what, message: e.to_string() })
	}

	/// The version of the runtime API `id` that the runtime at `at` (the best block if unset)
	/// declares in its `Core_version`, or `None` when it has no such API.
	pub async fn runtime_api_version(
		&self,
		id: [u8; 8],
		at: Option<H256>,
	) -> Result<Option<u32>, Error> {
		let bytes = self
			.rpc
			.state_call("Core_version", None, at)
			.await
			.map_err(|e| Error::rpc("Core_version", e))?;
		api_version_in(&bytes, &id)
	}

	/// `PovmJobsApi::provider_assignments(who)`: the provider's open assignments.
	///
	/// Refused with [`Error::Incompatible`] when the runtime at the block declares
	/// `PovmJobsApi` below [`ASSIGNMENTS_WITH_WAVE_SINCE`]: version 1 (runtimes before spec 101)
	/// returns assignments without the draw wave, which a version-2 commitment needs.
	pub async fn assignments(
		&self,
		who: &AccountId,
		at: Option<H256>,
	) -> Result<Vec<AssignmentView>, Error> {
		const WHAT: &str = "PovmJobsApi::provider_assignments";
		// One block for both reads, so the version checked is the version called.
		let hash = self.block_hash(at).await?;
		let version = self.runtime_api_version(POVM_JOBS_API_ID, Some(hash)).await?;
		check_povm_jobs_api(version)
			.map_err(|message| Error::Incompatible { what: WHAT, message })?;
		let at = Some(hash);
		let call = runtime::runtime_apis()
			.povm_jobs_api()
			.provider_assignments(to_subxt_account(who));
		let out = self.call_api(WHAT, at, call).await?;
		Ok(out.into_iter().map(|a| a.0).collect())
	}

	/// `PovmJobsApi::job(id)`: a job, if it exists.
	///
	/// A runtime declaring `PovmJobsApi` version 2 (before spec 107) returns the spec in its
	/// version-1 layout: it is read raw and given in this version's layout, as the storage
	/// migration rewrites it (image ID, no registry, x86-64, no inputs).
	pub async fn job(&self, id: JobId, at: Option<H256>) -> Result<Option<JobView>, Error> {
		const WHAT: &str = "PovmJobsApi::job";
		let hash = self.block_hash(at).await?;
		if self.runtime_api_version(POVM_JOBS_API_ID, Some(hash)).await? == Some(2) {
			let bytes = self
				.rpc
				.state_call("PovmJobsApi_job", Some(&codec::Encode::encode(&id)), Some(hash))
				.await
				.map_err(|e| Error::rpc(WHAT, e))?;
			let old = <Option<JobViewV2> as codec::DecodeAll>::decode_all(&mut &bytes[..])
				.map_err(|e| Error::Decode { what: WHAT, message: e.to_string() })?;
			return old
				.map(|view| {
					view.upgraded().ok_or_else(|| Error::Decode {
						what: WHAT,
						message: "a version-1 spec without an image ID".into(),
					})
				})
				.transpose();
		}
		let call = runtime::runtime_apis().povm_jobs_api().job(id);
		Ok(self.call_api(WHAT, Some(hash), call).await?.map(|v| v.0))
	}

	/// `PovmJobsApi::quote(spec)`: what `submit_job` would say about `spec` at `at` (the best
	/// block if unset): its refusal, the least budget and the deposit, the jobs ahead, the
	/// eligible providers and the expected first try.
	///
	/// Refused with [`Error::Incompatible`] when the runtime declares `PovmJobsApi` below
	/// [`QUOTE_SINCE`].
	pub async fn quote(&self, spec: &JobSpec, at: Option<H256>) -> Result<Quote, Error> {
		const WHAT: &str = "PovmJobsApi::quote";
		let hash = self.block_hash(at).await?;
		let version = self.runtime_api_version(POVM_JOBS_API_ID, Some(hash)).await?;
		if version.is_none_or(|v| v < QUOTE_SINCE) {
			return Err(Error::Incompatible {
				what: WHAT,
				message: format!(
					"the runtime declares PovmJobsApi {version:?}; quote needs {QUOTE_SINCE}"
				),
			});
		}
		let bytes = self
			.rpc
			.state_call("PovmJobsApi_quote", Some(&codec::Encode::encode(spec)), Some(hash))
			.await
			.map_err(|e| Error::rpc(WHAT, e))?;
		let view = <QuoteView as codec::DecodeAll>::decode_all(&mut &bytes[..])
			.map_err(|e| Error::Decode { what: WHAT, message: e.to_string() })?;
		let at = self.at(Some(hash)).await?;
		let refusal = view.refusal.as_ref().map(|e| dispatch_error_name(at.metadata_ref(), e));
		Ok(Quote { view, refusal })
	}

	/// `at`, or the node's best block when `None`.
	async fn block_hash(&self, at: Option<H256>) -> Result<H256, Error> {
		match at {
			Some(h) => Ok(h),
			None => self
				.rpc
				.chain_get_block_hash(None)
				.await
				.map_err(|e| Error::rpc("chain_getBlockHash", e))?
				.ok_or_else(|| Error::rpc("chain_getBlockHash", "the node has no best block")),
		}
	}

	/// `VrfLotteryApi::current_draw()`: the open lottery draw, if any.
	pub async fn current_draw(&self, at: Option<H256>) -> Result<Option<DrawView>, Error> {
		let call = runtime::runtime_apis().vrf_lottery_api().current_draw();
		Ok(self.call_api("VrfLotteryApi::current_draw", at, call).await?.map(|d| d.0))
	}

	/// `VrfLotteryApi::provider(who)`: tickets, threshold, VRF key and claim in the open draw.
	pub async fn lottery_view(
		&self,
		who: &AccountId,
		at: Option<H256>,
	) -> Result<LotteryView, Error> {
		let call = runtime::runtime_apis().vrf_lottery_api().provider(to_subxt_account(who));
		Ok(self.call_api("VrfLotteryApi::provider", at, call).await?.0)
	}

	/// `VrfLotteryApi::last_outcome()`: the last closed draw, if any.
	pub async fn last_outcome(&self, at: Option<H256>) -> Result<Option<OutcomeView>, Error> {
		let call = runtime::runtime_apis().vrf_lottery_api().last_outcome();
		Ok(self.call_api("VrfLotteryApi::last_outcome", at, call).await?.map(|o| o.0))
	}

	/// The job queue's `MillisecsPerBlock` constant: the block time jobs' run times are
	/// counted in (from the metadata of the block's runtime).
	pub async fn millisecs_per_block(&self, at: Option<H256>) -> Result<u64, Error> {
		self.at(at)
			.await?
			.constants()
			.entry(runtime::constants().job_queue().millisecs_per_block())
			.map_err(|e| map_err("JobQueue::MillisecsPerBlock")(e.into()))
	}

	/// vm-proof's `StallTimeout` constant: the most blocks a member of a long job may go
	/// without a job heartbeat; `None` for a runtime without job heartbeats (before spec 111).
	pub async fn stall_timeout(&self, at: Option<H256>) -> Result<Option<u32>, Error> {
		let at = self.at(at).await?;
		let known = at
			.metadata()
			.pallet_by_name("VmProof")
			.is_some_and(|p| p.constant_by_name("StallTimeout").is_some());
		if !known {
			return Ok(None);
		}
		at.constants()
			.entry(runtime::constants().vm_proof().stall_timeout())
			.map(Some)
			.map_err(|e| map_err("VmProof::StallTimeout")(e.into()))
	}

	/// `VmProof::JobHeartbeats[job][who]`: the last sign of life of a member of a long job
	/// (its draw or its last job heartbeat); `None` when it owes none.
	pub async fn job_heartbeat(
		&self,
		job: JobId,
		who: &AccountId,
		at: Option<H256>,
	) -> Result<Option<u32>, Error> {
		let addr = runtime::storage().vm_proof().job_heartbeats();
		self.fetch("VmProof::JobHeartbeats", at, addr, (job, to_subxt_account(who)))
			.await
	}

	/// `Timestamp::Now`: the block's timestamp in milliseconds.
	pub async fn timestamp(&self, at: Option<H256>) -> Result<u64, Error> {
		let addr = runtime::storage().timestamp().now();
		Ok(self.fetch("Timestamp::Now", at, addr, ()).await?.unwrap_or_default())
	}

	/// `VmProof::Providers[who]`: the provider's record, if registered.
	pub async fn provider(
		&self,
		who: &AccountId,
		at: Option<H256>,
	) -> Result<Option<ProviderRecord>, Error> {
		let addr = runtime::storage().vm_proof().providers();
		self.fetch("VmProof::Providers", at, addr, (to_subxt_account(who),)).await
	}

	/// `Session::CurrentIndex`: the session, which is the vm-proof epoch.
	pub async fn session_index(&self, at: Option<H256>) -> Result<u32, Error> {
		let addr = runtime::storage().session().current_index();
		Ok(self.fetch("Session::CurrentIndex", at, addr, ()).await?.unwrap_or_default())
	}

	/// `Session::Validators`: the current validator set.
	pub async fn validators(&self, at: Option<H256>) -> Result<Vec<AccountId>, Error> {
		let addr = runtime::storage().session().validators();
		let validators = self.fetch("Session::Validators", at, addr, ()).await?.unwrap_or_default();
		Ok(validators.iter().map(from_subxt_account).collect())
	}

	/// `JobQueue::Counters`' `next_job_id`: the id the next submitted job gets.
	pub async fn next_job_id(&self, at: Option<H256>) -> Result<JobId, Error> {
		let addr = runtime::storage().job_queue().counters();
		Ok(self
			.fetch("JobQueue::Counters", at, addr, ())
			.await?
			.map_or(0, |counters| counters.next_job_id))
	}

	/// `Babe::Authorities`: the BABE public keys of the current epoch, in authority-index order.
	pub async fn babe_authorities(&self, at: Option<H256>) -> Result<Vec<[u8; 32]>, Error> {
		let addr = runtime::storage().babe().authorities();
		let Some(list) = self.fetch("Babe::Authorities", at, addr, ()).await? else {
			return Ok(Vec::new());
		};
		Ok(list.0.into_iter().map(|(key, _weight)| key.0).collect())
	}

	/// Signs `call` with `signer` under `settings`, submits it, and follows it until `wait`.
	/// A transaction whose dispatch fails on chain is [`Error::Dispatch`], with the runtime's
	/// error named; one the pool refuses or drops is [`Error::Rejected`].
	pub async fn submit(
		&self,
		signer: &PairSigner,
		call: &Call,
		settings: &TxSettings,
		wait: Wait,
	) -> Result<Receipt, Error> {
		self.submit_watch(signer, call, settings).await?.wait(wait).await
	}

	/// Signs `call` with `signer` under `settings` and submits it: returns once the pool
	/// accepted it (so that the node's next nonce counts it), with the [`Watch`] to follow it.
	pub async fn submit_watch(
		&self,
		signer: &PairSigner,
		call: &Call,
		settings: &TxSettings,
	) -> Result<Watch, Error> {
		let (number, hash) = settings.era_block;
		// Built with the best block's runtime (its versions, metadata and call indices: right
		// after an upgrade, before finality reaches it); mortal from the finalised era block.
		let at = self.at(None).await?;
		let name = call.name();
		let tx = at.transactions();
		// The call data is checked against the metadata of the block the transaction is built
		// at, then re-read as that metadata describes it: what is signed is what the runtime
		// will decode.
		let call_data = call.encode_with(&tx)?;
		let payload = tx
			.from_call_data_bytes(&call_data)
			.map_err(|e| Error::Incompatible { what: name, message: e.to_string() })?;
		let params = SubstrateExtrinsicParamsBuilder::<PovmConfig>::new()
			.nonce(settings.nonce)
			.tip(settings.tip)
			.mortal_from_unchecked(settings.mortality, u64::from(number), hash)
			.build();
		let mut signable = tx
			.create_v4_signable_offline(&payload, params)
			.map_err(|e| Error::Incompatible { what: name, message: e.to_string() })?;
		let submittable = signable
			.sign(signer)
			.map_err(|e| Error::Decode { what: "signed transaction", message: e.to_string() })?;
		// `Debug`, not `Display`: the pool's reason (`Transaction is outdated`, …) is in the
		// JSON-RPC error's data, which the display leaves out.
		let progress = submittable
			.submit_and_watch()
			.await
			.map_err(|e| Error::Rejected { call: name, message: format!("{e}: {e:?}") })?;
		Ok(Watch { progress, call: name })
	}
}

// Result storage (issue 14), read as raw storage: `VmProof::ResultServices` and
// `JobQueue::Outcomes` are newer than `metadata/povm.scale`, so their keys are derived here
// from the pallet and item names and their values decoded with the primitives' own types.

/// The raw storage key of a map entry: `twox_128(pallet) ‖ twox_128(item) ‖ hashed_key`,
/// `hashed_key` the map hasher's output over the SCALE-encoded key.
pub fn map_storage_key(pallet: &str, item: &str, hashed_key: &[u8]) -> Vec<u8> {
	use sp_crypto_hashing::twox_128;
	let mut key = Vec::with_capacity(32 + hashed_key.len());
	key.extend_from_slice(&twox_128(pallet.as_bytes()));
	key.extend_from_slice(&twox_128(item.as_bytes()));
	key.extend_from_slice(hashed_key);
	key
}

/// The raw key of `VmProof::ResultServices[provider]` (`Blake2_128Concat` over the account).
pub fn result_service_key(provider: &AccountId) -> Vec<u8> {
	let encoded = codec::Encode::encode(provider);
	let mut hashed = sp_crypto_hashing::blake2_128(&encoded).to_vec();
	hashed.extend_from_slice(&encoded);
	map_storage_key("VmProof", "ResultServices", &hashed)
}

/// The raw key of `JobQueue::Outcomes[job]` (`Twox64Concat` over the job id).
pub fn result_outcome_key(job: JobId) -> Vec<u8> {
	let encoded = codec::Encode::encode(&job);
	let mut hashed = sp_crypto_hashing::twox_64(&encoded).to_vec();
	hashed.extend_from_slice(&encoded);
	map_storage_key("JobQueue", "Outcomes", &hashed)
}

impl Api {
	/// Reads the raw storage value at `key` at block `at` (the node's best block when `None`)
	/// and decodes it as a `T`, refusing bytes left over; `None` when the entry is empty.
	/// `what` names the entry in errors.
	async fn fetch_raw<T: codec::Decode>(
		&self,
		what: &'static str,
		key: &[u8],
		at: Option<H256>,
	) -> Result<Option<T>, Error> {
		let Some(bytes) =
			self.rpc.state_get_storage(key, at).await.map_err(|e| Error::rpc(what, e))?
		else {
			return Ok(None);
		};
		<T as codec::DecodeAll>::decode_all(&mut &bytes[..])
			.map(Some)
			.map_err(|e| Error::Decode { what, message: e.to_string() })
	}

	/// `VmProof::ResultServices[provider]`: where `provider` serves the result files of the
	/// jobs it ran (its base URL) and how long it keeps them; `None` when it declared none.
	pub async fn result_service(
		&self,
		provider: &AccountId,
		at: Option<H256>,
	) -> Result<Option<povm_primitives::results::ResultService>, Error> {
		self.fetch_raw("VmProof::ResultServices", &result_service_key(provider), at)
			.await
	}

	/// `JobQueue::Outcomes[job]`: the outcome (exit code, flags, contents digest) of the job's
	/// accepted result, whose [`povm_primitives::results::RunOutcome::result_digest`] is the
	/// result's `result_digest`; `None` when the job has no accepted result (or the runtime
	/// does not keep outcomes yet).
	pub async fn result_outcome(
		&self,
		job: JobId,
		at: Option<H256>,
	) -> Result<Option<povm_primitives::results::RunOutcome>, Error> {
		self.fetch_raw("JobQueue::Outcomes", &result_outcome_key(job), at).await
	}
}

#[cfg(test)]
mod result_storage_tests {
	use super::*;
	use sp_crypto_hashing::{blake2_128, twox_128, twox_64};

	/// Hex of `bytes`, for comparing keys.
	fn hex(bytes: &[u8]) -> String {
		bytes.iter().map(|b| format!("{b:02x}")).collect()
	}

	#[test]
	fn the_storage_prefix_is_the_well_known_one() {
		// `System::Account`'s prefix, as every Substrate tool knows it.
		let key = map_storage_key("System", "Account", &[]);
		assert_eq!(hex(&key), "26aa394eea5630e07c48ae0c9558cef7b99d880ec681799c0cf30e8886371da9");
	}

	#[test]
	fn result_service_keys_are_blake2_128_concat_of_the_account() {
		let who = AccountId::new([7; 32]);
		let mut expected = twox_128(b"VmProof").to_vec();
		expected.extend(twox_128(b"ResultServices"));
		expected.extend(blake2_128(&[7; 32]));
		expected.extend([7; 32]);
		assert_eq!(result_service_key(&who), expected);
		assert_eq!(result_service_key(&who).len(), 16 + 16 + 16 + 32);
	}

	#[test]
	fn outcome_keys_are_twox_64_concat_of_the_job_id() {
		let job: JobId = 0x0102_0304_0506_0708;
		let le = [8u8, 7, 6, 5, 4, 3, 2, 1];
		let mut expected = twox_128(b"JobQueue").to_vec();
		expected.extend(twox_128(b"Outcomes"));
		expected.extend(twox_64(&le));
		expected.extend(le);
		assert_eq!(result_outcome_key(job), expected);
		assert_eq!(result_outcome_key(job).len(), 16 + 16 + 8 + 8);
	}
}

/// A transaction the pool accepted, to follow to its block.
#[derive(Debug)]
pub struct Watch {
	progress: Progress,
	call: &'static str,
}

impl Watch {
	/// Follows the transaction until `wait`, then reads its events: its [`Receipt`], or
	/// [`Error::Dispatch`] with the runtime's error named when its dispatch failed.
	pub async fn wait(self, wait: Wait) -> Result<Receipt, Error> {
		follow(self.progress, self.call, wait).await
	}
}

type Progress = TransactionProgress<PovmConfig, subxt::client::OnlineClientAtBlockImpl<PovmConfig>>;

/// Follows a submitted transaction until `wait`, then reads its events.
async fn follow(mut progress: Progress, call: &'static str, wait: Wait) -> Result<Receipt, Error> {
	while let Some(status) = progress.next().await {
		let status = status.map_err(|e| Error::rpc("transaction status", e))?;
		match status {
			TransactionStatus::InBestBlock(in_block) if wait == Wait::InBlock => {
				match receipt(in_block, call, false).await {
					// The events could not be read (yet): follow the transaction further, to its
					// finalised block, rather than call an included transaction failed.
					Err(Error::Rpc { .. }) => continue,
					other => return other,
				}
			},
			TransactionStatus::InFinalizedBlock(in_block) =>
				return receipt(in_block, call, true).await,
			TransactionStatus::Error { message } |
			TransactionStatus::Invalid { message } |
			TransactionStatus::Dropped { message } => return Err(Error::Rejected { call, message }),
			TransactionStatus::Validated |
			TransactionStatus::Broadcasted |
			TransactionStatus::NoLongerInBestBlock |
			TransactionStatus::InBestBlock(_) => {},
		}
	}
	Err(Error::WatchEnded { call })
}

/// The receipt of a transaction in a block: its events, or its dispatch error, named.
///
/// A block is executed by the runtime of its parent's state. In the block that enacts a
/// runtime upgrade (`system.set_code`) the node already reports the new runtime, whose
/// metadata may lay out the old runtime's events differently; so the block's events are
/// decoded with the metadata of its parent's runtime, which is the same one in every other
/// block.
async fn receipt(
	in_block: TransactionInBlock<PovmConfig, subxt::client::OnlineClientAtBlockImpl<PovmConfig>>,
	call: &'static str,
	finalized: bool,
) -> Result<Receipt, Error> {
	let block = in_block.block_hash();
	let unreadable = |e: String| Error::rpc("transaction events", e);
	// The transaction's index in the block and the block's event bytes.
	let found = in_block.fetch_events().await.map_err(|e| unreadable(e.to_string()))?;
	let index = u32::try_from(found.extrinsic_index())
		.map_err(|_| unreadable("extrinsic index beyond u32".into()))?;
	let at_block = in_block.at().await.map_err(|e| unreadable(e.to_string()))?;
	let header = at_block.block_header().await.map_err(|e| unreadable(e.to_string()))?;
	let executed_by = at_block
		.online_client()
		.at_block(header.parent_hash)
		.await
		.map_err(|e| unreadable(e.to_string()))?;
	let events = executed_by.events().from_bytes(found.all_events_in_block().bytes().to_vec());
	for event in events.iter() {
		let event =
			event.map_err(|e| Error::Decode { what: "block events", message: e.to_string() })?;
		if event.phase() == Phase::ApplyExtrinsic(index) &&
			event.pallet_name() == "System" &&
			event.event_name() == "ExtrinsicFailed"
		{
			let failure = subxt::error::DispatchError::decode_from(
				event.field_bytes(),
				executed_by.metadata(),
			)
			.map_err(|e| Error::Decode { what: "dispatch error", message: e.to_string() })?;
			return Err(Error::Dispatch {
				call,
				block,
				failure: DispatchFailure::from_subxt(&failure),
			});
		}
	}
	Ok(Receipt { block, finalized, index, events })
}

#[cfg(test)]
mod tests {
	use super::*;
	use codec::Encode;
	use pallet_job_queue::runtime_api::POVM_JOBS_API_VERSION;

	/// A `Core_version` answer as the runtime encodes it (`sp_version::RuntimeVersion`).
	fn core_version(apis: Vec<([u8; 8], u32)>) -> Vec<u8> {
		("povm".to_string(), "povm-node".to_string(), 1u32, 101u32, 1u32, apis, 1u32, 1u8).encode()
	}

	#[test]
	fn the_povm_jobs_api_version_is_read_from_core_version() {
		let other = [1u8; 8];
		let bytes = core_version(vec![(other, 5), (POVM_JOBS_API_ID, 2)]);
		assert_eq!(api_version_in(&bytes, &POVM_JOBS_API_ID).unwrap(), Some(2));
		assert_eq!(api_version_in(&bytes, &[9u8; 8]).unwrap(), None);
		assert!(api_version_in(&[1, 2], &POVM_JOBS_API_ID).is_err());
	}

	#[test]
	fn a_runtime_before_the_upgrade_is_told_apart() {
		assert_eq!(check_povm_jobs_api(Some(POVM_JOBS_API_VERSION)), Ok(()));
		assert_eq!(check_povm_jobs_api(Some(2)), Ok(()));
		let err = check_povm_jobs_api(Some(1)).unwrap_err();
		assert!(err.contains("version 1"), "{err}");
		assert!(check_povm_jobs_api(None).is_err());
	}
}

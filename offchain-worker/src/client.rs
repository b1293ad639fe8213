//! The chain client: JSON-RPC over WebSocket (jsonrpsee), with a timeout, a typed error and a
//! metric on every call, reconnection with exponential backoff, runtime-API reads decoded
//! with the shared SCALE types, and signed transaction submission with explicit nonces.

use std::{sync::Arc, time::Duration};

use codec::{Decode, Encode};
use jsonrpsee::{
	core::{
		client::{ClientT, Error as RpcError, Subscription, SubscriptionClientT},
		params::ArrayParams,
	},
	rpc_params,
	ws_client::{WsClient, WsClientBuilder},
};
use pallet_vm_proof::{ProviderStatus, VmOffer};
use serde::{de::DeserializeOwned, Deserialize};
use sp_core::crypto::Ss58Codec;
use tokio::sync::{Mutex, RwLock};
use tokio_util::sync::CancellationToken;

use crate::{
	error::ChainError,
	prelude::*,
	prometheus::Metrics,
	signer::Signer,
	tx::{signed_extrinsic, Call, TxParams},
};

/// Shortest wait between reconnection attempts.
pub const BACKOFF_MIN: Duration = Duration::from_millis(250);
/// Longest wait between reconnection attempts.
pub const BACKOFF_MAX: Duration = Duration::from_secs(16);

/// A block header as the node's JSON-RPC returns it (only what the worker uses).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcHeader {
	/// Block number, `0x`-hex.
	pub number: String,
	/// Parent hash.
	pub parent_hash: String,
}

impl RpcHeader {
	/// The block number.
	pub fn number(&self) -> Result<BlockNumber, ChainError> {
		let n = self.number.trim_start_matches("0x");
		BlockNumber::from_str_radix(n, 16)
			.map_err(|e| ChainError::Decode { what: "header number", message: e.to_string() })
	}
}

/// A provider's record in `VmProof::Providers` (layout of `pallet_vm_proof::ProviderInfo`).
#[derive(Clone, Debug, Decode, PartialEq, Eq)]
pub struct ProviderRecord {
	/// The VM offer.
	pub offer: VmOffer,
	/// Bond held.
	pub bond: Balance,
	/// Registration status.
	pub status: ProviderStatus<BlockNumber>,
	/// Last epoch with a heartbeat.
	pub last_heartbeat: u32,
	/// Verdicts agreed with.
	pub agreed: u32,
	/// Verdicts taken part in.
	pub total: u32,
}

/// How a submitted transaction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxOutcome {
	/// Included in the given block.
	InBlock(H256),
	/// Finalised in the given block.
	Finalized(H256),
}

/// `0x`-hex of `bytes`.
pub fn to_0x(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

/// Bytes of `0x`-hex.
pub fn from_0x(what: &'static str, s: &str) -> Result<Vec<u8>, ChainError> {
	hex::decode(s.trim_start_matches("0x"))
		.map_err(|e| ChainError::Decode { what, message: e.to_string() })
}

fn parse_h256(what: &'static str, s: &str) -> Result<H256, ChainError> {
	let b = from_0x(what, s)?;
	if b.len() != 32 {
		return Err(ChainError::Decode { what, message: format!("{} bytes", b.len()) });
	}
	Ok(H256::from_slice(&b))
}

fn decode<T: Decode>(what: &'static str, bytes: &[u8]) -> Result<T, ChainError> {
	T::decode(&mut &bytes[..]).map_err(|e| ChainError::Decode { what, message: e.to_string() })
}

/// The storage key of `VmProof::Providers[who]` (`Blake2_128Concat`).
pub fn provider_key(who: &AccountId) -> Vec<u8> {
	let mut key = sp_io::hashing::twox_128(b"VmProof").to_vec();
	key.extend(sp_io::hashing::twox_128(b"Providers"));
	key.extend(sp_io::hashing::blake2_128(who.as_ref()));
	key.extend_from_slice(who.as_ref());
	key
}

/// The storage key of `Session::CurrentIndex`.
pub fn session_index_key() -> Vec<u8> {
	let mut key = sp_io::hashing::twox_128(b"Session").to_vec();
	key.extend(sp_io::hashing::twox_128(b"CurrentIndex"));
	key
}

/// The next wait of an exponential backoff.
pub fn next_backoff(current: Duration) -> Duration {
	(current * 2).min(BACKOFF_MAX)
}

/// A connection to one node that can be re-established.
pub struct ChainClient {
	url: String,
	timeout: Duration,
	metrics: Arc<Metrics>,
	inner: RwLock<Arc<WsClient>>,
	genesis: Mutex<Option<H256>>,
}

impl std::fmt::Debug for ChainClient {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.debug_struct("ChainClient").field("url", &self.url).finish_non_exhaustive()
	}
}

async fn open(url: &str, timeout: Duration) -> Result<WsClient, ChainError> {
	WsClientBuilder::default()
		.request_timeout(timeout)
		.connection_timeout(timeout)
		.max_buffer_capacity_per_subscription(64)
		.build(url)
		.await
		.map_err(|e| ChainError::Connect { url: url.to_owned(), message: e.to_string() })
}

impl ChainClient {
	/// Connects once.
	pub async fn connect(
		url: &str,
		timeout: Duration,
		metrics: Arc<Metrics>,
	) -> Result<Self, ChainError> {
		let ws = open(url, timeout).await?;
		tracing::info!(target: LOG_CLIENT, url, "connected to the node");
		Ok(Self {
			url: url.to_owned(),
			timeout,
			metrics,
			inner: RwLock::new(Arc::new(ws)),
			genesis: Mutex::new(None),
		})
	}

	/// Connects, retrying with exponential backoff until connected or `cancel`.
	pub async fn connect_with_backoff(
		url: &str,
		timeout: Duration,
		metrics: Arc<Metrics>,
		cancel: &CancellationToken,
	) -> Option<Self> {
		let mut wait = BACKOFF_MIN;
		loop {
			match Self::connect(url, timeout, metrics.clone()).await {
				Ok(c) => return Some(c),
				Err(e) => {
					metrics.error(e.kind());
					tracing::warn!(target: LOG_CLIENT, "{e}; retrying in {wait:?}");
				},
			}
			tokio::select! {
				_ = cancel.cancelled() => return None,
				_ = tokio::time::sleep(wait) => {},
			}
			wait = next_backoff(wait);
		}
	}

	/// The node URL.
	pub fn url(&self) -> &str {
		&self.url
	}

	/// The metrics this client reports to.
	pub fn metrics(&self) -> &Arc<Metrics> {
		&self.metrics
	}

	/// Whether the current connection is up.
	pub async fn is_connected(&self) -> bool {
		self.inner.read().await.is_connected()
	}

	/// Re-establishes the connection (when it is down) with exponential backoff. Returns
	/// `false` only when cancelled.
	pub async fn reconnect(&self, cancel: &CancellationToken) -> bool {
		let mut wait = BACKOFF_MIN;
		loop {
			if self.is_connected().await {
				return true;
			}
			match open(&self.url, self.timeout).await {
				Ok(ws) => {
					*self.inner.write().await = Arc::new(ws);
					self.metrics.reconnects.inc();
					tracing::info!(target: LOG_CLIENT, url = %self.url, "reconnected to the node");
					return true;
				},
				Err(e) => {
					self.metrics.error(e.kind());
					tracing::warn!(target: LOG_CLIENT, "{e}; retrying in {wait:?}");
				},
			}
			tokio::select! {
				_ = cancel.cancelled() => return false,
				_ = tokio::time::sleep(wait) => {},
			}
			wait = next_backoff(wait);
		}
	}

	async fn current(&self) -> Arc<WsClient> {
		self.inner.read().await.clone()
	}

	fn map_error(
		method: &'static str,
		e: RpcError,
		connected: bool,
		timeout: Duration,
	) -> ChainError {
		match e {
			RpcError::RequestTimeout => ChainError::Timeout { method, timeout },
			RpcError::Call(obj) => ChainError::Rpc {
				method,
				message: match obj.data() {
					Some(d) => format!("{}: {}", obj.message(), d.get()),
					None => obj.message().to_owned(),
				},
				disconnected: false,
			},
			RpcError::RestartNeeded(inner) => {
				ChainError::Rpc { method, message: inner.to_string(), disconnected: true }
			},
			other => {
				ChainError::Rpc { method, message: other.to_string(), disconnected: !connected }
			},
		}
	}

	fn record<T>(&self, method: &'static str, r: &Result<T, ChainError>) {
		let outcome = match r {
			Ok(_) => "ok",
			Err(e) => e.kind(),
		};
		self.metrics.rpc_calls.with_label_values(&[method, outcome]).inc();
	}

	/// One JSON-RPC request with the client's timeout.
	pub async fn request<R: DeserializeOwned>(
		&self,
		method: &'static str,
		params: ArrayParams,
	) -> Result<R, ChainError> {
		let client = self.current().await;
		let r = match tokio::time::timeout(self.timeout, client.request::<R, _>(method, params))
			.await
		{
			Err(_) => Err(ChainError::Timeout { method, timeout: self.timeout }),
			Ok(Ok(v)) => Ok(v),
			Ok(Err(e)) => Err(Self::map_error(method, e, client.is_connected(), self.timeout)),
		};
		self.record(method, &r);
		r
	}

	async fn subscribe<N: DeserializeOwned>(
		&self,
		method: &'static str,
		params: ArrayParams,
		unsubscribe: &'static str,
	) -> Result<Subscription<N>, ChainError> {
		let client = self.current().await;
		let r = match tokio::time::timeout(
			self.timeout,
			client.subscribe::<N, _>(method, params, unsubscribe),
		)
		.await
		{
			Err(_) => Err(ChainError::Timeout { method, timeout: self.timeout }),
			Ok(Ok(s)) => Ok(s),
			Ok(Err(e)) => Err(Self::map_error(method, e, client.is_connected(), self.timeout)),
		};
		self.record(method, &r);
		r
	}

	/// Subscribes to finalised headers.
	pub async fn subscribe_finalized(&self) -> Result<Subscription<RpcHeader>, ChainError> {
		self.subscribe(
			"chain_subscribeFinalizedHeads",
			rpc_params![],
			"chain_unsubscribeFinalizedHeads",
		)
		.await
	}

	/// Subscribes to new (best-chain) headers.
	pub async fn subscribe_new_heads(&self) -> Result<Subscription<RpcHeader>, ChainError> {
		self.subscribe("chain_subscribeNewHeads", rpc_params![], "chain_unsubscribeNewHeads")
			.await
	}

	/// The hash of block `number` on the best chain, if it exists.
	pub async fn block_hash(&self, number: BlockNumber) -> Result<Option<H256>, ChainError> {
		let h: Option<String> = self.request("chain_getBlockHash", rpc_params![number]).await?;
		h.map(|h| parse_h256("block hash", &h)).transpose()
	}

	/// The genesis hash (cached).
	pub async fn genesis_hash(&self) -> Result<H256, ChainError> {
		let mut g = self.genesis.lock().await;
		if let Some(h) = *g {
			return Ok(h);
		}
		let h = self
			.block_hash(0)
			.await?
			.ok_or(ChainError::Decode { what: "genesis hash", message: "no block 0".into() })?;
		*g = Some(h);
		Ok(h)
	}

	/// The last finalised block: number and hash.
	pub async fn finalized_head(&self) -> Result<(BlockNumber, H256), ChainError> {
		let h: String = self.request("chain_getFinalizedHead", rpc_params![]).await?;
		let hash = parse_h256("finalized head", &h)?;
		let header: RpcHeader = self.request("chain_getHeader", rpc_params![h]).await?;
		Ok((header.number()?, hash))
	}

	/// `spec_version` and `transaction_version` of the runtime.
	pub async fn runtime_version(&self) -> Result<(u32, u32), ChainError> {
		let v: serde_json::Value = self.request("state_getRuntimeVersion", rpc_params![]).await?;
		let field = |name: &str| {
			v.get(name).and_then(|x| x.as_u64()).map(|x| x as u32).ok_or_else(|| {
				ChainError::Decode { what: "runtime version", message: format!("no {name}") }
			})
		};
		Ok((field("specVersion")?, field("transactionVersion")?))
	}

	/// The next nonce of `who`, counting transactions in the pool.
	pub async fn next_nonce(&self, who: &AccountId) -> Result<Nonce, ChainError> {
		self.request("system_accountNextIndex", rpc_params![who.to_ss58check()]).await
	}

	/// Calls runtime API function `method` with SCALE `args` at block `at` (best if unset).
	pub async fn state_call(
		&self,
		method: &str,
		args: &[u8],
		at: Option<H256>,
	) -> Result<Vec<u8>, ChainError> {
		let at = at.map(|h| to_0x(h.as_bytes()));
		let out: String = self.request("state_call", rpc_params![method, to_0x(args), at]).await?;
		from_0x("state_call result", &out)
	}

	/// Raw storage at `key`.
	pub async fn storage(
		&self,
		key: &[u8],
		at: Option<H256>,
	) -> Result<Option<Vec<u8>>, ChainError> {
		let at = at.map(|h| to_0x(h.as_bytes()));
		let out: Option<String> =
			self.request("state_getStorage", rpc_params![to_0x(key), at]).await?;
		out.map(|s| from_0x("storage value", &s)).transpose()
	}

	/// `PovmJobsApi::provider_assignments(who)`.
	pub async fn assignments(
		&self,
		who: &AccountId,
		at: Option<H256>,
	) -> Result<Vec<AssignmentView>, ChainError> {
		let out = self.state_call("PovmJobsApi_provider_assignments", &who.encode(), at).await?;
		decode("provider_assignments", &out)
	}

	/// `PovmJobsApi::job(id)`.
	pub async fn job(&self, id: JobId, at: Option<H256>) -> Result<Option<JobView>, ChainError> {
		let out = self.state_call("PovmJobsApi_job", &id.encode(), at).await?;
		decode("job", &out)
	}

	/// `VrfLotteryApi::current_draw()`: the open lottery draw, if any.
	pub async fn current_draw(&self, at: Option<H256>) -> Result<Option<DrawView>, ChainError> {
		let out = self.state_call("VrfLotteryApi_current_draw", &[], at).await?;
		decode("current_draw", &out)
	}

	/// `VrfLotteryApi::provider(who)`: tickets, threshold, VRF key and claim in the open draw.
	pub async fn lottery_view(
		&self,
		who: &AccountId,
		at: Option<H256>,
	) -> Result<LotteryView, ChainError> {
		let out = self.state_call("VrfLotteryApi_provider", &who.encode(), at).await?;
		decode("lottery provider view", &out)
	}

	/// The provider record of `who`, if registered.
	pub async fn provider(
		&self,
		who: &AccountId,
		at: Option<H256>,
	) -> Result<Option<ProviderRecord>, ChainError> {
		self.storage(&provider_key(who), at)
			.await?
			.map(|b| decode("provider record", &b))
			.transpose()
	}

	/// The current session index (the vm-proof epoch). The storage value is absent while it is
	/// 0 (a `ValueQuery` default).
	pub async fn session_index(&self, at: Option<H256>) -> Result<u32, ChainError> {
		self.storage(&session_index_key(), at)
			.await?
			.map(|b| decode("session index", &b))
			.transpose()
			.map(Option::unwrap_or_default)
	}

	/// Submits `xt` and returns the watch of its status; errors when the pool refuses it.
	pub async fn submit_watch(
		&self,
		call: &'static str,
		xt: &[u8],
	) -> Result<Subscription<serde_json::Value>, ChainError> {
		self.subscribe(
			"author_submitAndWatchExtrinsic",
			rpc_params![to_0x(xt)],
			"author_unwatchExtrinsic",
		)
		.await
		.map_err(|e| match e {
			ChainError::Rpc { message, disconnected: false, .. } => {
				ChainError::Rejected { call, message }
			},
			other => other,
		})
	}

	/// Follows a transaction's status until it is in a block (or finalised, or refused), for
	/// at most `wait`.
	pub async fn wait_included(
		call: &'static str,
		sub: Subscription<serde_json::Value>,
		wait: Duration,
	) -> Result<TxOutcome, ChainError> {
		Self::wait_status(call, sub, wait, false).await
	}

	/// Follows a transaction's status until its block is finalised (or it is refused), for at
	/// most `wait`. Being in a block that a fork later drops (`retracted`) is not the end.
	pub async fn wait_finalized(
		call: &'static str,
		sub: Subscription<serde_json::Value>,
		wait: Duration,
	) -> Result<TxOutcome, ChainError> {
		Self::wait_status(call, sub, wait, true).await
	}

	async fn wait_status(
		call: &'static str,
		mut sub: Subscription<serde_json::Value>,
		wait: Duration,
		until_final: bool,
	) -> Result<TxOutcome, ChainError> {
		const METHOD: &str = "author_submitAndWatchExtrinsic";
		let deadline = tokio::time::Instant::now() + wait;
		loop {
			let next = tokio::time::timeout_at(deadline, sub.next())
				.await
				.map_err(|_| ChainError::Timeout { method: METHOD, timeout: wait })?;
			let status = match next {
				None => {
					return Err(ChainError::Rpc {
						method: METHOD,
						message: "watch ended (node gone?)".into(),
						disconnected: true,
					})
				},
				Some(Err(e)) => {
					return Err(ChainError::Decode {
						what: "transaction status",
						message: e.to_string(),
					})
				},
				Some(Ok(s)) => s,
			};
			match &status {
				serde_json::Value::String(s) if s == "dropped" || s == "invalid" => {
					return Err(ChainError::Rejected { call, message: s.clone() })
				},
				serde_json::Value::Object(o) => {
					if let Some(h) = o.get("inBlock").and_then(|h| h.as_str()) {
						if !until_final {
							return Ok(TxOutcome::InBlock(parse_h256("inBlock", h)?));
						}
					}
					if o.contains_key("finalityTimeout") {
						return Err(ChainError::Rejected {
							call,
							message: "finality timeout".into(),
						});
					}
					if let Some(h) = o.get("finalized").and_then(|h| h.as_str()) {
						return Ok(TxOutcome::Finalized(parse_h256("finalized", h)?));
					}
					if o.contains_key("usurped") {
						return Err(ChainError::Rejected { call, message: "usurped".into() });
					}
				},
				_ => {},
			}
			tracing::debug!(target: LOG_CLIENT, call, %status, "transaction status");
		}
	}
}

/// How often [`Submitter::submit`] signs again after losing its nonce to another transaction.
pub const NONCE_RETRIES: usize = 3;

/// Whether a refusal means another transaction of the account took the nonce: replaced in the
/// pool (`usurped`), or refused as a duplicate nonce (`Priority is too low`, `outdated`).
pub fn lost_its_nonce(message: &str) -> bool {
	["usurped", "Priority is too low", "outdated", "Transaction is outdated"]
		.iter()
		.any(|m| message.contains(m))
}

/// Signs and submits calls for one account: one at a time (so that nonces never collide),
/// with the nonce from the node's pool-aware `system_accountNextIndex`, a mortal era anchored
/// at the last finalised block, and the configured tip.
#[derive(Debug)]
pub struct Submitter {
	client: Arc<ChainClient>,
	signer: Signer,
	tip: Balance,
	mortality: u64,
	wait: Duration,
	lock: Mutex<()>,
}

impl Submitter {
	/// A submitter; transactions are watched for at most `wait`.
	pub fn new(
		client: Arc<ChainClient>,
		signer: Signer,
		tip: Balance,
		mortality: u64,
		wait: Duration,
	) -> Self {
		Self { client, signer, tip, mortality, wait, lock: Mutex::new(()) }
	}

	/// The signing account.
	pub fn account(&self) -> &AccountId {
		self.signer.account()
	}

	/// The client.
	pub fn client(&self) -> &Arc<ChainClient> {
		&self.client
	}

	/// The signer.
	pub fn signer(&self) -> &Signer {
		&self.signer
	}

	/// Signs and submits `call`, and waits until it is in a block. When another transaction
	/// of the same account took its nonce (another process signing for this account, such as
	/// `povm-worker session-keys` beside `povm-worker run`), it is signed again with the next
	/// nonce, up to [`NONCE_RETRIES`] times.
	pub async fn submit(&self, call: &Call) -> Result<TxOutcome, ChainError> {
		self.submit_until(call, false).await
	}

	/// As [`Submitter::submit`], but waits until the including block is finalised: for
	/// one-shot commands whose next step depends on the call's effect (a block that a fork
	/// drops would lose it).
	pub async fn submit_final(&self, call: &Call) -> Result<TxOutcome, ChainError> {
		self.submit_until(call, true).await
	}

	async fn submit_until(&self, call: &Call, until_final: bool) -> Result<TxOutcome, ChainError> {
		let name = call.name();
		let mut r = self.submit_inner_until(call, until_final).await;
		for _ in 0..NONCE_RETRIES {
			match &r {
				Err(ChainError::Rejected { message, .. }) if lost_its_nonce(message) => {
					tracing::info!(target: LOG_CLIENT, call = name, "{message}: signing again with the next nonce");
					r = self.submit_inner_until(call, until_final).await;
				},
				_ => break,
			}
		}
		let outcome = match &r {
			Ok(TxOutcome::InBlock(_)) => "in_block",
			Ok(TxOutcome::Finalized(_)) => "finalized",
			Err(e) => e.kind(),
		};
		self.client.metrics().submissions.with_label_values(&[name, outcome]).inc();
		match &r {
			Ok(o) => tracing::info!(target: LOG_CLIENT, call = name, ?o, "transaction included"),
			Err(e) => tracing::warn!(target: LOG_CLIENT, call = name, "transaction failed: {e}"),
		}
		r
	}

	async fn submit_inner_until(
		&self,
		call: &Call,
		until_final: bool,
	) -> Result<TxOutcome, ChainError> {
		let sub = {
			// Held until the pool accepted the transaction, so that the next
			// `system_accountNextIndex` counts it and nonces never collide.
			let _guard = self.lock.lock().await;
			let nonce = self.client.next_nonce(self.account()).await?;
			let (spec_version, transaction_version) = self.client.runtime_version().await?;
			let genesis_hash = self.client.genesis_hash().await?;
			let (era_block_number, era_block_hash) = self.client.finalized_head().await?;
			let params = TxParams {
				spec_version,
				transaction_version,
				genesis_hash,
				era_block_number,
				era_block_hash,
				mortality: self.mortality,
				nonce,
				tip: self.tip,
			};
			let xt = signed_extrinsic(call, &params, &self.signer);
			tracing::debug!(target: LOG_CLIENT, call = call.name(), nonce, "submitting");
			self.client.submit_watch(call.name(), &xt).await?
		};
		if until_final {
			ChainClient::wait_finalized(call.name(), sub, self.wait * 2).await
		} else {
			ChainClient::wait_included(call.name(), sub, self.wait).await
		}
	}
}

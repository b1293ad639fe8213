//! The chain client: one jsonrpsee WebSocket connection to the node, with a timeout, a typed
//! error and a metric on every call, and reconnection with exponential backoff.
//!
//! Everything that depends on the runtime's shape (runtime APIs, storage, calls, the
//! transaction extensions, events) goes through [`povm_client::Api`], generated from the
//! runtime's metadata and riding on the same connection. What stays here is plain node RPC:
//! heads, block hashes, the pool-aware nonce.

use std::{sync::Arc, time::Duration};

use jsonrpsee::{
	core::{
		client::{ClientT, Error as RpcError, Subscription, SubscriptionClientT},
		params::ArrayParams,
	},
	rpc_params,
	ws_client::{WsClient, WsClientBuilder},
};
use povm_client::{Api, PovmConfig, TxSettings, Wait};
use serde::{de::DeserializeOwned, Deserialize};
use sp_core::crypto::Ss58Codec;
use tokio::sync::{Mutex, RwLock};
use tokio_util::sync::CancellationToken;

use crate::{error::ChainError, prelude::*, prometheus::Metrics, signer::Signer};

pub use povm_client::{types::ProviderRecord, Call, Receipt};

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

/// The next wait of an exponential backoff.
pub fn next_backoff(current: Duration) -> Duration {
	(current * 2).min(BACKOFF_MAX)
}

/// One open connection: the WebSocket and the typed API over it.
struct Connection {
	ws: Arc<WsClient>,
	api: Api,
}

/// A connection to one node that can be re-established.
pub struct ChainClient {
	url: String,
	timeout: Duration,
	metrics: Arc<Metrics>,
	/// subxt's configuration, kept across reconnections: it caches the metadata of every
	/// runtime version seen.
	config: PovmConfig,
	inner: RwLock<Arc<Connection>>,
}

impl std::fmt::Debug for ChainClient {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.debug_struct("ChainClient").field("url", &self.url).finish_non_exhaustive()
	}
}

async fn open(url: &str, timeout: Duration, config: &PovmConfig) -> Result<Connection, ChainError> {
	let connect = |e: &dyn std::fmt::Display| ChainError::Connect {
		url: url.to_owned(),
		message: e.to_string(),
	};
	let ws = WsClientBuilder::default()
		.request_timeout(timeout)
		.connection_timeout(timeout)
		.max_buffer_capacity_per_subscription(64)
		.build(url)
		.await
		.map_err(|e| connect(&e))?;
	let ws = Arc::new(ws);
	let api = tokio::time::timeout(timeout, Api::new(ws.clone(), config.clone()))
		.await
		.map_err(|_| connect(&"no answer to the genesis-hash request"))?
		.map_err(|e| connect(&e))?;
	Ok(Connection { ws, api })
}

impl ChainClient {
	/// Connects once.
	pub async fn connect(
		url: &str,
		timeout: Duration,
		metrics: Arc<Metrics>,
	) -> Result<Self, ChainError> {
		let config = PovmConfig::new();
		let conn = open(url, timeout, &config).await?;
		tracing::info!(target: LOG_CLIENT, url, "connected to the node");
		Ok(Self {
			url: url.to_owned(),
			timeout,
			metrics,
			config,
			inner: RwLock::new(Arc::new(conn)),
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
		self.inner.read().await.ws.is_connected()
	}

	/// Re-establishes the connection (when it is down) with exponential backoff. Returns
	/// `false` only when cancelled.
	pub async fn reconnect(&self, cancel: &CancellationToken) -> bool {
		let mut wait = BACKOFF_MIN;
		loop {
			if self.is_connected().await {
				return true;
			}
			match open(&self.url, self.timeout, &self.config).await {
				Ok(conn) => {
					*self.inner.write().await = Arc::new(conn);
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

	async fn current(&self) -> Arc<Connection> {
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
			RpcError::RestartNeeded(inner) =>
				ChainError::Rpc { method, message: inner.to_string(), disconnected: true },
			other =>
				ChainError::Rpc { method, message: other.to_string(), disconnected: !connected },
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
		let conn = self.current().await;
		let r = match tokio::time::timeout(self.timeout, conn.ws.request::<R, _>(method, params))
			.await
		{
			Err(_) => Err(ChainError::Timeout { method, timeout: self.timeout }),
			Ok(Ok(v)) => Ok(v),
			Ok(Err(e)) => Err(Self::map_error(method, e, conn.ws.is_connected(), self.timeout)),
		};
		self.record(method, &r);
		r
	}

	/// One typed read through [`Api`], with the client's timeout, a metric labelled `what`,
	/// and the connection's state deciding whether a failure is transient.
	pub async fn read<T, F, Fut>(&self, what: &'static str, f: F) -> Result<T, ChainError>
	where
		F: FnOnce(Api) -> Fut,
		Fut: std::future::Future<Output = Result<T, povm_client::Error>>,
	{
		let conn = self.current().await;
		let r = match tokio::time::timeout(self.timeout, f(conn.api.clone())).await {
			Err(_) => Err(ChainError::Timeout { method: what, timeout: self.timeout }),
			Ok(Ok(v)) => Ok(v),
			Ok(Err(e)) => Err(ChainError::from_client(e, conn.ws.is_connected())),
		};
		self.record(what, &r);
		r
	}

	async fn subscribe<N: DeserializeOwned>(
		&self,
		method: &'static str,
		params: ArrayParams,
		unsubscribe: &'static str,
	) -> Result<Subscription<N>, ChainError> {
		let conn = self.current().await;
		let r = match tokio::time::timeout(
			self.timeout,
			conn.ws.subscribe::<N, _>(method, params, unsubscribe),
		)
		.await
		{
			Err(_) => Err(ChainError::Timeout { method, timeout: self.timeout }),
			Ok(Ok(s)) => Ok(s),
			Ok(Err(e)) => Err(Self::map_error(method, e, conn.ws.is_connected(), self.timeout)),
		};
		self.record(method, &r);
		r
	}

	/// The `spec_version` of the runtime at block `at` (the node's best block for `None`).
	pub async fn spec_version(&self, at: Option<H256>) -> Result<u32, ChainError> {
		#[derive(serde::Deserialize)]
		#[serde(rename_all = "camelCase")]
		struct Version {
			spec_version: u32,
		}
		let at = at.map(|hash| to_0x(hash.as_bytes()));
		let version: Version = self.request("state_getRuntimeVersion", rpc_params![at]).await?;
		Ok(version.spec_version)
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

	/// The header of block `hash`, if the node has it.
	pub async fn header(&self, hash: H256) -> Result<Option<RpcHeader>, ChainError> {
		self.request("chain_getHeader", rpc_params![to_0x(hash.as_bytes())]).await
	}

	/// The last finalised block: number and hash.
	pub async fn finalized_head(&self) -> Result<(BlockNumber, H256), ChainError> {
		let h: String = self.request("chain_getFinalizedHead", rpc_params![]).await?;
		let hash = parse_h256("finalized head", &h)?;
		let header: RpcHeader = self.request("chain_getHeader", rpc_params![h]).await?;
		Ok((header.number()?, hash))
	}

	/// The next nonce of `who`, counting transactions in the pool.
	pub async fn next_nonce(&self, who: &AccountId) -> Result<Nonce, ChainError> {
		self.request("system_accountNextIndex", rpc_params![who.to_ss58check()]).await
	}

	/// `PovmJobsApi::provider_assignments(who)` at `at` (the best block if unset).
	pub async fn assignments(
		&self,
		who: &AccountId,
		at: Option<H256>,
	) -> Result<Vec<AssignmentView>, ChainError> {
		self.read("provider_assignments", |api| async move { api.assignments(who, at).await })
			.await
	}

	/// `PovmJobsApi::job(id)` at `at` (the best block if unset).
	pub async fn job(&self, id: JobId, at: Option<H256>) -> Result<Option<JobView>, ChainError> {
		self.read("job", |api| async move { api.job(id, at).await }).await
	}

	/// `VrfLotteryApi::current_draw()`: the open lottery draw, if any.
	pub async fn current_draw(&self, at: Option<H256>) -> Result<Option<DrawView>, ChainError> {
		self.read("current_draw", |api| async move { api.current_draw(at).await }).await
	}

	/// `VrfLotteryApi::provider(who)`: tickets, threshold, VRF key and claim in the open draw.
	pub async fn lottery_view(
		&self,
		who: &AccountId,
		at: Option<H256>,
	) -> Result<LotteryView, ChainError> {
		self.read("lottery_provider", |api| async move { api.lottery_view(who, at).await })
			.await
	}

	/// The provider record of `who`, if registered.
	pub async fn provider(
		&self,
		who: &AccountId,
		at: Option<H256>,
	) -> Result<Option<ProviderRecord>, ChainError> {
		self.read("provider", |api| async move { api.provider(who, at).await }).await
	}

	/// Where `who` says it serves result files (`VmProof::ResultServices`), if anywhere.
	pub async fn result_service(
		&self,
		who: &AccountId,
		at: Option<H256>,
	) -> Result<Option<povm_primitives::results::ResultService>, ChainError> {
		self.read("result_service", |api| async move { api.result_service(who, at).await })
			.await
	}

	/// How the run of the completed job `job` ended (`JobQueue::Outcomes`), if recorded.
	pub async fn result_outcome(
		&self,
		job: JobId,
		at: Option<H256>,
	) -> Result<Option<povm_primitives::results::RunOutcome>, ChainError> {
		self.read("result_outcome", |api| async move { api.result_outcome(job, at).await })
			.await
	}

	/// vm-proof's `StallTimeout`; `None` for a runtime without job heartbeats.
	pub async fn stall_timeout(&self, at: Option<H256>) -> Result<Option<BlockNumber>, ChainError> {
		self.read("stall_timeout", |api| async move { api.stall_timeout(at).await })
			.await
	}

	/// The last sign of life the chain holds for `who` in long job `job`, if it owes job
	/// heartbeats there.
	pub async fn job_heartbeat(
		&self,
		job: JobId,
		who: &AccountId,
		at: Option<H256>,
	) -> Result<Option<BlockNumber>, ChainError> {
		self.read("job_heartbeat", |api| async move { api.job_heartbeat(job, who, at).await })
			.await
	}

	/// The current session index (the vm-proof epoch).
	pub async fn session_index(&self, at: Option<H256>) -> Result<u32, ChainError> {
		self.read("session_index", |api| async move { api.session_index(at).await })
			.await
	}
}

/// How often [`Submitter::submit`] signs again after losing its nonce to another transaction.
pub const NONCE_RETRIES: usize = 3;

/// Whether a refusal is the pool's verdict that the transaction is invalid (it no longer
/// passes the runtime's checks: after a runtime upgrade, a transaction signed for the earlier
/// `spec_version` fails its signature check).
pub fn found_invalid(message: &str) -> bool {
	message.contains("Transaction is invalid") || message.contains("Invalid Transaction")
}

/// Whether a refusal means another transaction of the account took the nonce: replaced in the
/// pool (`usurped`), or refused as a duplicate nonce (`Priority is too low`, `outdated`).
pub fn lost_its_nonce(message: &str) -> bool {
	["usurped", "Usurped", "Priority is too low", "outdated", "Transaction is outdated"]
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

	/// Signs and submits `call`, and waits until it is in a block and its dispatch succeeded
	/// ([`ChainError::Dispatch`] names the runtime's error when it failed). When another
	/// transaction of the same account took its nonce (another process signing for this
	/// account, such as `povm-worker session-keys` beside `povm-worker run`), it is signed
	/// again with the next nonce, up to [`NONCE_RETRIES`] times; so is one that a runtime upgrade
	/// invalidated before it was included.
	pub async fn submit(&self, call: &Call) -> Result<Receipt, ChainError> {
		self.submit_until(call, Wait::InBlock).await
	}

	/// As [`Submitter::submit`], but waits until the including block is finalised: for
	/// one-shot commands whose next step depends on the call's effect (a block that a fork
	/// drops would lose it).
	pub async fn submit_final(&self, call: &Call) -> Result<Receipt, ChainError> {
		self.submit_until(call, Wait::Finalized).await
	}

	async fn submit_until(&self, call: &Call, wait: Wait) -> Result<Receipt, ChainError> {
		let name = call.name();
		let mut signed_for = self.client.spec_version(None).await.ok();
		let mut r = self.submit_once(call, wait).await;
		for _ in 0..NONCE_RETRIES {
			match &r {
				Err(ChainError::Rejected { message, .. }) if lost_its_nonce(message) => {
					tracing::info!(target: LOG_CLIENT, call = name, "{message}: signing again with the next nonce");
				},
				// A runtime upgrade between signing and inclusion invalidates the transaction
				// (its signature covers the `spec_version`): it is signed again for the new
				// runtime. An invalid transaction with the runtime unchanged is not retried.
				Err(ChainError::Rejected { message, .. }) if found_invalid(message) => {
					let now = self.client.spec_version(None).await.ok();
					if now.is_none() || now == signed_for {
						break;
					}
					tracing::info!(target: LOG_CLIENT, call = name, from = ?signed_for, to = ?now, "{message}: the runtime was upgraded, signing again");
					signed_for = now;
				},
				_ => break,
			}
			r = self.submit_once(call, wait).await;
		}
		let outcome = match &r {
			Ok(rc) if rc.finalized => "finalized",
			Ok(_) => "in_block",
			Err(e) => e.kind(),
		};
		self.client.metrics().submissions.with_label_values(&[name, outcome]).inc();
		match &r {
			Ok(rc) => {
				tracing::info!(target: LOG_CLIENT, call = name, block = ?rc.block, finalized = rc.finalized, "transaction included, dispatch succeeded")
			},
			Err(e) => tracing::warn!(target: LOG_CLIENT, call = name, "transaction failed: {e}"),
		}
		r
	}

	async fn submit_once(&self, call: &Call, wait: Wait) -> Result<Receipt, ChainError> {
		let conn = self.client.current().await;
		let watch = {
			// Held until the pool accepted the transaction, so that the next
			// `system_accountNextIndex` counts it and nonces never collide.
			let _guard = self.lock.lock().await;
			let nonce = self.client.next_nonce(self.account()).await?;
			let era_block = self.client.finalized_head().await?;
			let settings = TxSettings {
				nonce: u64::from(nonce),
				tip: self.tip,
				mortality: self.mortality,
				era_block,
			};
			tracing::debug!(target: LOG_CLIENT, call = call.name(), nonce, "submitting");
			conn.api.submit_watch(self.signer.pair_signer(), call, &settings).await
		};
		let watch = watch.map_err(|e| ChainError::from_client(e, conn.ws.is_connected()))?;
		let limit = match wait {
			Wait::InBlock => self.wait,
			Wait::Finalized => self.wait * 2,
		};
		match tokio::time::timeout(limit, watch.wait(wait)).await {
			Err(_) => Err(ChainError::Timeout {
				method: "author_submitAndWatchExtrinsic",
				timeout: limit,
			}),
			Ok(r) => r.map_err(|e| ChainError::from_client(e, conn.ws.is_connected())),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_pools_refusals_are_told_apart() {
		// subxt's words for the pool's `Invalid` status, as the upgrade test saw them for a
		// transaction signed for the runtime before the upgrade.
		let invalid = "Transaction is invalid (eg because of a bad nonce, signature etc)";
		assert!(found_invalid(invalid));
		assert!(!lost_its_nonce(invalid));
		assert!(lost_its_nonce("Transaction is outdated"));
		assert!(!found_invalid("Transaction is outdated"));
		assert!(!found_invalid("Transaction was dropped"));
	}
}

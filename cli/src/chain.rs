//! The chain side of the commands, through `povm-client`: submit a job, follow it to its
//! verdict at the finalised head, read what a fetch needs.

use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use jsonrpsee::ws_client::WsClientBuilder;
use povm_client::{
	runtime,
	types::{to_subxt_account, AccountId, BlockNumber, JobId, JobState, JobView, H256},
	Api, Call, PairSigner, PovmConfig, TxSettings, Wait,
};
use povm_primitives::results::{ResultService, RunOutcome};
use sp_core::crypto::Ss58Codec;
use subxt::{
	config::RpcConfigFor,
	rpcs::{methods::legacy::LegacyRpcMethods, RpcClient},
};

use crate::spec::Job;

/// Blocks a submitted transaction stays valid.
const MORTALITY: u64 = 64;
/// How often the finalised head is polled while following a job.
const POLL: Duration = Duration::from_secs(2);

/// A connection to a node: the typed client and the node's plain RPC methods (nonce, heads).
pub struct Chain {
	api: Api,
	rpc: LegacyRpcMethods<RpcConfigFor<PovmConfig>>,
}

/// How a followed job ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
	/// Completed or Disputed: the record is still on chain, at this finalised block.
	Settled(Box<JobView>, H256),
	/// The record was removed (Expired, Cancelled, Unrunnable, or reaped); the event that
	/// removed it if found.
	Removed(Option<JobState>),
}

impl Chain {
	/// Connects to the node at `url` (`ws://` or `wss://`).
	pub async fn connect(url: &str) -> anyhow::Result<Self> {
		let ws = WsClientBuilder::default()
			.request_timeout(Duration::from_secs(60))
			.connection_timeout(Duration::from_secs(20))
			.build(url)
			.await
			.with_context(|| format!("cannot connect to the node at {url}"))?;
		let client = RpcClient::new(ws);
		let api = Api::new(client.clone(), PovmConfig::new())
			.await
			.with_context(|| format!("no chain at {url}"))?;
		Ok(Self { api, rpc: LegacyRpcMethods::new(client) })
	}

	/// The typed client.
	pub fn api(&self) -> &Api {
		&self.api
	}

	/// The finalised head: number and hash.
	pub async fn finalized_head(&self) -> anyhow::Result<(BlockNumber, H256)> {
		let hash = self.rpc.chain_get_finalized_head().await.context("chain_getFinalizedHead")?;
		let header = self
			.rpc
			.chain_get_header(Some(hash))
			.await
			.context("chain_getHeader")?
			.ok_or_else(|| anyhow!("the node has no header for its finalised head"))?;
		Ok((u32::try_from(header.number).context("block number beyond u32")?, hash))
	}

	/// Submits `job` signed by `signer` and waits until its block is finalised; returns the
	/// job's id (from its `JobSubmitted` event) and the block.
	pub async fn submit(&self, signer: &PairSigner, job: &Job) -> anyhow::Result<(JobId, H256)> {
		let nonce = self
			.rpc
			.system_account_next_index(&to_subxt_account(signer.account()))
			.await
			.context("system_accountNextIndex")?;
		let era_block = self.finalized_head().await?;
		let settings = TxSettings { nonce, tip: 0, mortality: MORTALITY, era_block };
		let call = Call::SubmitJob { spec: Box::new(job.spec.clone()), budget: job.budget };
		let receipt = self.api.submit(signer, &call, &settings, Wait::Finalized).await?;
		let id = receipt
			.submitted_job()?
			.ok_or_else(|| anyhow!("no JobSubmitted event in block {:?}", receipt.block))?;
		Ok((id, receipt.block))
	}

	/// Follows `job` at the finalised head until it leaves the open states, calling `report`
	/// with each state it is seen in (and the block number).
	pub async fn follow(
		&self,
		job: JobId,
		mut report: impl FnMut(BlockNumber, &JobView),
	) -> anyhow::Result<Verdict> {
		let mut last: Option<(BlockNumber, JobState)> = None;
		let mut last_head = None;
		loop {
			let (number, hash) = self.finalized_head().await?;
			if last_head != Some(hash) {
				last_head = Some(hash);
				match self.api.job(job, Some(hash)).await? {
					Some(view) => {
						if last.map(|(_, s)| s) != Some(view.state) {
							report(number, &view);
						}
						last = Some((number, view.state));
						if !view.state.is_open() {
							return Ok(Verdict::Settled(Box::new(view), hash));
						}
					},
					None => {
						let Some((seen_at, _)) = last else {
							let next = self.api.next_job_id(Some(hash)).await?;
							if job >= next {
								bail!("job {job} does not exist (the next job id is {next})");
							}
							bail!(
								"job {job} has no record at the finalised head: it expired, was \
								 cancelled or unrunnable, or was reaped"
							);
						};
						return Ok(Verdict::Removed(self.removal(job, seen_at + 1, number).await));
					},
				}
			}
			tokio::time::sleep(POLL).await;
		}
	}

	/// The state whose event removed `job`'s record in blocks `from..=to`, if found.
	async fn removal(&self, job: JobId, from: BlockNumber, to: BlockNumber) -> Option<JobState> {
		use runtime::job_queue::events::{JobCancelled, JobExpired, JobUnrunnable};
		for n in from..=to {
			let hash = self.rpc.chain_get_block_hash(Some(n.into())).await.ok()??;
			let events = self.api.at(Some(hash)).await.ok()?.events().fetch().await.ok()?;
			for event in events.iter().filter_map(Result::ok) {
				if let Some(Ok(e)) = event.decode_fields_as::<JobExpired>() {
					if e.job == job {
						return Some(JobState::Expired);
					}
				}
				if let Some(Ok(e)) = event.decode_fields_as::<JobCancelled>() {
					if e.job == job {
						return Some(JobState::Cancelled);
					}
				}
				if let Some(Ok(e)) = event.decode_fields_as::<JobUnrunnable>() {
					if e.job == job {
						return Some(JobState::Unrunnable);
					}
				}
			}
		}
		None
	}

	/// The outcome of `job`'s accepted result at `at`.
	pub async fn outcome(&self, job: JobId, at: H256) -> anyhow::Result<Option<RunOutcome>> {
		Ok(self.api.result_outcome(job, Some(at)).await?)
	}

	/// Where `provider` serves results, at `at`.
	pub async fn service(
		&self,
		provider: &AccountId,
		at: H256,
	) -> anyhow::Result<Option<ResultService>> {
		Ok(self.api.result_service(provider, Some(at)).await?)
	}
}

/// An account in SS58 (the generic prefix 42).
pub fn ss58(who: &AccountId) -> String {
	who.to_ss58check()
}

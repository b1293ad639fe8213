//! Chain-side helpers of the demo and the network tests: submit coin-flip jobs as a
//! customer, wait for their verdicts, read storage and runtime APIs, and tell who authored a
//! block. Built on the worker's chain client, whose typed reads and calls come from
//! `povm-client` (generated from the runtime's metadata): no storage key or call index here.

use std::{
	sync::Arc,
	time::{Duration, Instant},
};

use crate::Image;
use codec::Decode;
use povm_client::types::OutcomeView;
use povm_primitives::{Bytes, RedundancyPolicy, Resources, MAX_ARG_LEN};
use povm_worker::{
	client::{from_0x, Call, ChainClient, ProviderRecord, Submitter},
	prelude::*,
	prometheus::Metrics,
	signer::Signer,
};

/// The account of a secret URI.
pub fn account(uri: &str) -> AccountId {
	Signer::from_uri(uri).expect("a valid URI").account().clone()
}

/// Connects to `url` and waits (up to two minutes) for a finalised block.
pub async fn connect(url: &str) -> Arc<ChainClient> {
	let deadline = Instant::now() + Duration::from_secs(120);
	loop {
		match ChainClient::connect(url, Duration::from_secs(20), Arc::new(Metrics::new())).await {
			Ok(c) =>
				if matches!(c.finalized_head().await, Ok((n, _)) if n >= 1) {
					return Arc::new(c);
				},
			Err(e) if Instant::now() > deadline => panic!("node at {url} not up: {e}"),
			Err(_) => {},
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

/// The next job id (`JobQueue::Counters`) at `at`: the id the next job gets.
pub async fn next_job_id(client: &ChainClient, at: Option<H256>) -> JobId {
	client
		.read("next_job_id", |api| async move { api.next_job_id(at).await })
		.await
		.expect("JobQueue::Counters read")
}

/// `Timestamp::Now` at `at`, in milliseconds.
pub async fn timestamp(client: &ChainClient, at: Option<H256>) -> u64 {
	client
		.read("timestamp", |api| async move { api.timestamp(at).await })
		.await
		.expect("Timestamp::Now read")
}

/// The runtime's block time in milliseconds (`JobQueue::MillisecsPerBlock`, the BABE slot).
pub async fn millis_per_block(client: &ChainClient) -> u64 {
	client
		.read("millisecs_per_block", |api| async move { api.millisecs_per_block(None).await })
		.await
		.expect("JobQueue::MillisecsPerBlock read")
}

/// `VrfLotteryApi::last_outcome` at `at`: the last closed lottery draw.
pub async fn last_outcome(client: &ChainClient, at: Option<H256>) -> Option<OutcomeView> {
	client
		.read("last_outcome", |api| async move { api.last_outcome(at).await })
		.await
		.expect("VrfLotteryApi::last_outcome call")
}

fn bytes<const N: u32>(s: &str) -> Bytes<N> {
	s.as_bytes().to_vec().try_into().expect("within bound")
}

/// The coin-flip arguments of `flips` flips from `seed`, with four checkpoints (a reveal
/// carries at most 256).
pub fn coinflip_args(seed: u64, flips: u64) -> Vec<String> {
	let every = (flips / 4).max(1).to_string();
	["--seed", &seed.to_string(), "--flips", &flips.to_string(), "--checkpoint-every", &every]
		.iter()
		.map(|a| a.to_string())
		.collect()
}

/// A job of the coin-flip `image` that runs `/coinflip` with `args` for at most
/// `max_seconds`, with the given redundancy (half a core, 64 MiB).
pub fn job_spec(
	image: &Image,
	args: &[String],
	max_seconds: u32,
	redundancy: RedundancyPolicy,
) -> JobSpec {
	let args: Vec<Bytes<MAX_ARG_LEN>> = args.iter().map(|a| bytes(a)).collect();
	JobSpec {
		image: image.local_ref(),
		command: bytes("/coinflip"),
		args: args.try_into().expect("few args"),
		env: Default::default(),
		inputs: Default::default(),
		resources: Resources { millicores: 500, memory_mib: 64, max_seconds },
		price_per_second: 1_000_000_000,
		redundancy,
		checkpoint_interval: 0,
	}
}

/// A coin-flip job of `flips` flips from `seed` ([`coinflip_args`]), 30 seconds at most,
/// with the given redundancy.
pub fn coinflip_spec(
	image: &Image,
	seed: u64,
	flips: u64,
	redundancy: RedundancyPolicy,
) -> JobSpec {
	job_spec(image, &coinflip_args(seed, flips), 30, redundancy)
}

/// The budget every test job reserves.
pub const BUDGET: Balance = 10u128.pow(15);

/// A customer that signs with `uri`.
pub fn customer(client: &Arc<ChainClient>, uri: &str) -> Submitter {
	Submitter::new(client.clone(), Signer::from_uri(uri).unwrap(), 0, 64, Duration::from_secs(60))
}

/// Submits `spec` and waits until it is finalised; returns the job id its `JobSubmitted`
/// event names. Not the first block it was seen in: a fork may drop that block, and the id it
/// gave (a job id is the next free one) with it.
pub async fn submit(customer: &Submitter, spec: JobSpec) -> JobId {
	let receipt = customer
		.submit_final(&Call::SubmitJob { spec: Box::new(spec), budget: BUDGET })
		.await
		.expect("submit_job finalised and dispatched");
	receipt
		.submitted_job()
		.expect("events decode")
		.unwrap_or_else(|| panic!("no JobSubmitted event in block {:?}", receipt.block))
}

/// Waits until `job` leaves the open states at the finalised head; returns its view and the
/// block it was first seen settled at.
pub async fn wait_settled(client: &ChainClient, job: JobId, within: Duration) -> (JobView, H256) {
	let deadline = Instant::now() + within;
	loop {
		if let Ok((_, head)) = client.finalized_head().await {
			if let Ok(Some(v)) = client.job(job, Some(head)).await {
				if !v.state.is_open() {
					return (v, head);
				}
			}
		}
		assert!(Instant::now() < deadline, "job {job} not settled within {within:?}");
		tokio::time::sleep(Duration::from_secs(2)).await;
	}
}

/// The first block at which `job` is settled, searching back from `seen` (a block where it is
/// settled): the block of its verdict.
pub async fn verdict_block(client: &ChainClient, job: JobId, seen: H256) -> (BlockNumber, H256) {
	let header = client.header(seen).await.expect("header read").expect("the block exists");
	let (mut number, mut hash) = (header.number().expect("a block number"), seen);
	while number > 0 {
		let parent = client.block_hash(number - 1).await.expect("block hash").expect("exists");
		match client.job(job, Some(parent)).await.expect("job read") {
			Some(v) if !v.state.is_open() => (number, hash) = (number - 1, parent),
			_ => break,
		}
	}
	(number, hash)
}

/// `Session::Validators` at `at`.
pub async fn validators(client: &ChainClient, at: Option<H256>) -> Vec<AccountId> {
	client
		.read("validators", |api| async move { api.validators(at).await })
		.await
		.expect("Session::Validators read")
}

/// The BABE authority index in a block header's pre-runtime digest.
///
/// Each digest log is a SCALE `DigestItem`; `PreRuntime` is variant 6 carrying the engine id
/// `BABE` and the encoded `PreDigest`, whose every variant (primary, secondary plain,
/// secondary VRF) starts with the `u32` authority index after its one-byte tag.
pub fn babe_author_index(header: &serde_json::Value) -> Option<u32> {
	let logs = header.pointer("/digest/logs")?.as_array()?;
	logs.iter().find_map(|log| {
		let raw = from_0x("digest log", log.as_str()?).ok()?;
		if raw.first() != Some(&6) || raw.get(1..5) != Some(b"BABE") {
			return None;
		}
		let mut rest = &raw[5..];
		let data: Vec<u8> = Decode::decode(&mut rest).ok()?;
		let index = data.get(1..5)?;
		Some(u32::from_le_bytes(index.try_into().ok()?))
	})
}

/// The BABE public key that authored block `hash`: its pre-digest's authority index into
/// `Babe::Authorities` of the block's own state (at an epoch's first block, that state holds
/// the new epoch's authorities, which authored it).
pub async fn babe_author(client: &ChainClient, hash: H256) -> Option<[u8; 32]> {
	let header: serde_json::Value = client
		.request("chain_getHeader", jsonrpsee::rpc_params![format!("{hash:?}")])
		.await
		.ok()?;
	let index = babe_author_index(&header)? as usize;
	let authorities = client
		.read("babe_authorities", |api| async move { api.babe_authorities(Some(hash)).await })
		.await
		.ok()?;
	authorities.get(index).copied()
}

/// The tally a coin-flip job of `flips` from `seed` must produce: the same static binary run
/// natively, its `tally.json` read back.
pub fn expected_tally(image: &Image, seed: u64, flips: u64) -> Vec<u8> {
	let binary = image.binary.as_ref().expect("the coin-flip binary (POVM_COINFLIP_BIN)");
	let dir = tempfile::tempdir().unwrap();
	let out = dir.path().join("out");
	let cps = dir.path().join("cp");
	std::fs::create_dir_all(&out).unwrap();
	std::fs::create_dir_all(&cps).unwrap();
	let status = std::process::Command::new(binary)
		.args(coinflip_args(seed, flips))
		.arg("--out-dir")
		.arg(&out)
		.arg("--checkpoint-dir")
		.arg(&cps)
		.stdout(std::process::Stdio::null())
		.status()
		.expect("run coinflip natively");
	assert!(status.success(), "native coinflip failed");
	std::fs::read(out.join("tally.json")).expect("tally.json")
}

/// The provider record of `who` at the finalised head, waiting (up to a minute) for its
/// registration to be finalised.
pub async fn provider(client: &ChainClient, who: &AccountId) -> ProviderRecord {
	let deadline = Instant::now() + Duration::from_secs(60);
	loop {
		let (_, head) = client.finalized_head().await.expect("finalised head");
		if let Some(record) = client.provider(who, Some(head)).await.expect("provider read") {
			return record;
		}
		assert!(Instant::now() < deadline, "{who} is not a registered provider");
		tokio::time::sleep(Duration::from_secs(1)).await;
	}
}

/// Polls `check` every two seconds until it gives a value, or fails after `within` with
/// [`RunnerError::Timeout`](crate::RunnerError::Timeout).
pub async fn wait<T, F, Fut>(within: Duration, what: &str, check: F) -> crate::Result<T>
where
	F: FnMut() -> Fut,
	Fut: std::future::Future<Output = Option<T>>,
{
	wait_every(Duration::from_secs(2), within, what, check).await
}

/// Polls `check` every `every` until it gives a value, or fails after `within` with
/// [`RunnerError::Timeout`](crate::RunnerError::Timeout), naming `what` it waited for.
pub async fn wait_every<T, F, Fut>(
	every: Duration,
	within: Duration,
	what: &str,
	mut check: F,
) -> crate::Result<T>
where
	F: FnMut() -> Fut,
	Fut: std::future::Future<Output = Option<T>>,
{
	let deadline = tokio::time::Instant::now() + within;
	loop {
		if let Some(v) = check().await {
			return Ok(v);
		}
		if tokio::time::Instant::now() > deadline {
			return Err(crate::RunnerError::timeout(what, within));
		}
		tokio::time::sleep(every).await;
	}
}

//! `povm-demo`: the end-to-end demo of PoVM chain on one machine (the README's main job).
//!
//! 1. the network of `zombienet/demo.toml`, started by this crate's runner: two validators
//!    (Alice, Bob) of a `local` spec with only their session keys, a third validator node for
//!    Charlie with no keys, and three providers (`povm-worker` as //Charlie, //Dave, //Eve)
//!    registered with a bond and a lottery VRF key; Charlie's worker gives his node session
//!    keys (`povm-worker session-keys`);
//! 2. a batch of coin-flip jobs submitted by //Alice (redundancy min 2, max 4, margin 2), with
//!    one progress line per state change read from finalised blocks;
//! 3. a summary read from chain state only (`PovmJobsApi_job`, `Timestamp::Now`, provider
//!    records): verdicts, tallies, replicas, payouts, energy and CO2;
//! 4. the lottery that follows: the draw whose tickets are the jobs' verified VM time, its
//!    winners and payouts (`VrfLotteryApi_*`), the validator set it plans, and that set taking
//!    over (`Session::Validators`, and the BABE author of the next blocks);
//! 5. where the CPU went: each node's and worker's CPU time (`/proc/<pid>/stat`) and the job
//!    containers' (each worker's `povm_worker_job_cpu_milliseconds_total`), the share that was
//!    customers' jobs, and the consensus energy per finalised block (the nodes' CPU time × the
//!    carbon guide's power per core), next to Bitcoin's;
//! 6. an example beyond the coin flip (issue 14): the `jobs/pi` Monte Carlo job, its image
//!    pushed to a registry the demo starts (Debian's `docker-registry` on loopback) and pulled
//!    by the providers by manifest digest, two replicas, the estimate on chain checked against
//!    the same estimate computed natively;
//! 7. everything it started is stopped on success, failure or Ctrl-C.
//!
//! Exit codes: 0 all jobs completed; 1 a job failed/disputed/expired, the chain stalled (no
//! finalised block for 60 s) or the set-up failed; 130 interrupted.

use std::{
	collections::BTreeMap,
	path::PathBuf,
	sync::Arc,
	time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use futures_util::future::join_all;
use povm_network_tests::{chain, coinflip_image, Network, NetworkDef, Registry};
use povm_primitives::{JobState, RedundancyPolicy};
use povm_worker::{
	client::{Call, ChainClient, Submitter},
	prelude::*,
	signer::Signer,
};
use sp_core::crypto::Ss58Codec;

/// A chain that finalises nothing for this long is stuck.
const STALL: Duration = Duration::from_secs(60);

/// Power per core behind the consensus energy figure: the carbon guide's default offer
/// (`docs/carbon.md`: 12,000 mW per core, the worker's default `core_milliwatts`).
const WATTS_PER_CORE: f64 = 12.0;

/// Bitcoin's energy per block, for scale, in Wh: about 170 TWh a year (the order of the
/// Cambridge Bitcoin Electricity Consumption Index's 2024–25 estimates) over 52,560 blocks a
/// year (one every ten minutes), about 3.2 GWh. An outside estimate, not a measurement.
const BITCOIN_WH_PER_BLOCK: f64 = 170e12 / 52_560.0;

/// The demo network (also at `zombienet/demo.toml`).
const NETWORK: &str = include_str!("../../demo.toml");

#[derive(Parser, Debug)]
#[command(
	name = "povm-demo",
	about = "End-to-end demo: 2 validators, 3 providers, a batch of coin-flip jobs, the lottery"
)]
struct Opt {
	/// Number of coin-flip jobs.
	#[arg(long, default_value_t = 5)]
	jobs: u32,
	/// Flips per job.
	#[arg(long, default_value_t = 200_000_000)]
	flips: u64,
	/// Wall-clock limit of each job in seconds (must fit the 20-block commit window).
	#[arg(long, default_value_t = 30)]
	max_seconds: u32,
	/// Working directory (default: a fresh one under the temp dir).
	#[arg(long)]
	dir: Option<PathBuf>,
	/// Keep the working directory (logs, databases) after a successful run.
	#[arg(long)]
	keep: bool,
	/// Also write the summary as Markdown to this file.
	#[arg(long)]
	markdown: Option<PathBuf>,
}

/// The demo's accounts, by name.
const ACCOUNTS: [(&str, &str); 5] = [
	("alice", "//Alice"),
	("bob", "//Bob"),
	("charlie", "//Charlie"),
	("dave", "//Dave"),
	("eve", "//Eve"),
];

/// The providers (worker names = account names).
const PROVIDERS: [&str; 3] = ["charlie", "dave", "eve"];

fn uri(name: &str) -> &'static str {
	ACCOUNTS
		.iter()
		.find(|(n, _)| *n == name)
		.map(|(_, u)| *u)
		.expect("a demo account")
}

fn names() -> BTreeMap<AccountId, &'static str> {
	ACCOUNTS.iter().map(|(n, u)| (chain::account(u), *n)).collect()
}

fn name_of(names: &BTreeMap<AccountId, &'static str>, who: &AccountId) -> String {
	names.get(who).map(|s| s.to_string()).unwrap_or_else(|| who.to_ss58check())
}

fn list(names: &BTreeMap<AccountId, &'static str>, who: &[AccountId]) -> String {
	who.iter().map(|w| name_of(names, w)).collect::<Vec<_>>().join(", ")
}

/// UNIT = 10^12 plancks.
fn units(p: Balance) -> String {
	format!("{}.{:06}", p / 10u128.pow(12), (p % 10u128.pow(12)) / 10u128.pow(6))
}

/// A line of output, echoed to stdout and kept for the Markdown file.
struct Out(Vec<String>);

impl Out {
	fn line(&mut self, s: impl Into<String>) {
		let s = s.into();
		println!("{s}");
		self.0.push(s);
	}
}

/// Follows finalised heads and fails when none comes for [`STALL`].
struct Progress {
	last: BlockNumber,
	since: Instant,
}

impl Progress {
	fn new() -> Self {
		Self { last: 0, since: Instant::now() }
	}

	/// The finalised head; an error if the chain stalled.
	async fn head(&mut self, client: &ChainClient) -> Result<(BlockNumber, H256)> {
		let (n, h) = client.finalized_head().await?;
		if n > self.last {
			self.last = n;
			self.since = Instant::now();
		}
		if self.since.elapsed() > STALL {
			bail!("chain stuck: no finalised block for {} s (finalised #{n})", STALL.as_secs());
		}
		Ok((n, h))
	}
}

/// What the demo saw of one job.
#[derive(Default)]
struct Track {
	seed: u64,
	state: Option<JobState>,
	providers: usize,
	submitted: Option<(BlockNumber, H256)>,
	finished: Option<(BlockNumber, H256)>,
}

async fn timestamp(client: &ChainClient, at: H256) -> Result<u64> {
	Ok(chain::timestamp(client, Some(at)).await)
}

/// Runs the demo on `network`; `Ok(true)` when every job completed.
async fn run(network: &mut Network, opt: &Opt, out: &mut Out) -> Result<bool> {
	let names = names();
	let image = coinflip_image().map_err(|e| anyhow!(e))?;

	// --- 1. the chain and the providers -------------------------------------------------------
	let alice = chain::connect(&network.node("alice").ws_url()).await;
	for node in &network.nodes {
		out.line(format!(
			"node {}: {} (p2p {}:{})",
			node.name,
			node.ws_url(),
			node.ip,
			node.p2p_port
		));
	}
	let mut progress = Progress::new();
	let (n, _) = progress.head(&alice).await?;
	out.line(format!("chain: finalising (#{n})"));
	for name in PROVIDERS {
		let view = alice.lottery_view(&chain::account(uri(name)), None).await?;
		let active = view.vrf_key.map(|k| k.active_from.to_string()).unwrap_or("-".into());
		out.line(format!("provider {name}: registered, lottery VRF key active from draw {active}"));
	}
	let charlie_node = network.node("charlie").ws_url();
	let keys = tokio::task::block_in_place(|| {
		network
			.worker("charlie")
			.oneshot(&["session-keys", "--validator-rpc", &charlie_node])
	})
	.map_err(|e| anyhow!(e))?;
	out.line(format!(
		"provider charlie: {} (generated in his validator node's keystore)",
		keys.trim()
	));
	let charlie_babe: [u8; 32] = keys
		.split_whitespace()
		.last()
		.and_then(|k| povm_worker::client::from_0x("keys", k).ok())
		.and_then(|k| k.get(..32).and_then(|b| b.try_into().ok()))
		.ok_or_else(|| anyhow!("no session keys in {keys:?}"))?;
	// Heartbeats: every provider is live in the current epoch.
	let deadline = Instant::now() + Duration::from_secs(120);
	loop {
		let (_, at) = progress.head(&alice).await?;
		let epoch = alice.session_index(Some(at)).await?;
		let mut live = 0;
		for name in PROVIDERS {
			if let Some(r) = alice.provider(&chain::account(uri(name)), Some(at)).await? {
				live += usize::from(r.last_heartbeat >= epoch);
			}
		}
		if live == PROVIDERS.len() {
			out.line(format!("providers: all 3 live (heartbeat in epoch {epoch})"));
			break;
		}
		if Instant::now() > deadline {
			bail!("providers: only {live} of 3 show a heartbeat in epoch {epoch}; see the workers' run.log");
		}
		tokio::time::sleep(Duration::from_secs(2)).await;
	}

	// --- 2. the jobs ---------------------------------------------------------------------------
	let (start_block, _) = progress.head(&alice).await?;
	let customer =
		Submitter::new(alice.clone(), Signer::from_uri("//Alice")?, 0, 64, Duration::from_secs(90));
	let redundancy = RedundancyPolicy { min_replicas: 2, max_replicas: 4, margin: 2 };
	let seeds: Vec<u64> = (0..opt.jobs).map(|j| 1000 + u64::from(j) * 7919).collect();
	let calls: Vec<Call> = seeds
		.iter()
		.map(|seed| {
			let mut spec = chain::coinflip_spec(&image, *seed, opt.flips, redundancy);
			spec.resources.max_seconds = opt.max_seconds;
			Call::SubmitJob { spec: Box::new(spec), budget: chain::BUDGET }
		})
		.collect();
	out.line(format!(
		"jobs: alice submits {} coin-flip jobs ({} flips, redundancy min 2 / max 4 / margin 2, max {} s) at finalised #{start_block}",
		calls.len(),
		opt.flips,
		opt.max_seconds
	));
	// Each job's id is the one its `JobSubmitted` event names in the finalised block that
	// includes it (a block a fork drops would take the id it gave with it).
	let mut tracks: BTreeMap<JobId, Track> = BTreeMap::new();
	let receipts = join_all(calls.iter().map(|c| customer.submit_final(c))).await;
	for (seed, r) in seeds.iter().zip(receipts) {
		let receipt = r.context("submit_job")?;
		let id = receipt.submitted_job()?.ok_or_else(|| anyhow!("no JobSubmitted event"))?;
		tracks.insert(id, Track { seed: *seed, ..Default::default() });
	}
	out.line(format!("jobs: ids {:?}", tracks.keys().collect::<Vec<_>>()));

	// Follow every finalised block from the start, reading each job's state at that block.
	let mut scanned = start_block;
	let overall = Instant::now() + Duration::from_secs(900);
	while tracks.values().any(|t| t.finished.is_none()) {
		let (head, _) = progress.head(&alice).await?;
		while scanned < head {
			scanned += 1;
			let hash =
				alice.block_hash(scanned).await?.ok_or_else(|| anyhow!("no block #{scanned}"))?;
			for (id, t) in tracks.iter_mut().filter(|(_, t)| t.finished.is_none()) {
				let Some(v) = alice.job(*id, Some(hash)).await? else { continue };
				if t.submitted.is_none() {
					t.submitted = Some((scanned, hash));
				}
				if t.state != Some(v.state) || t.providers != v.providers.len() {
					out.line(format!(
						"  #{scanned:<5} job {id:<3} {:<10} providers [{}]",
						format!("{:?}", v.state),
						list(&names, &v.providers)
					));
					t.state = Some(v.state);
					t.providers = v.providers.len();
				}
				if !v.state.is_open() {
					t.finished = Some((scanned, hash));
				}
			}
		}
		if Instant::now() > overall {
			bail!("jobs not finished within 15 minutes");
		}
		tokio::time::sleep(Duration::from_secs(1)).await;
	}

	// --- 3. the summary, from chain state ------------------------------------------------------
	out.line(String::new());
	out.line("## Jobs (read from PovmJobsApi_job at the block each job finished)");
	out.line(String::new());
	out.line("| job | seed | verdict | tally (on-chain output) | replicas | paid to | CPU / wall (s) | energy (Wh) | gCO2e | submit→final |");
	out.line("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
	let mut all_ok = true;
	let (mut tot_e, mut tot_c, mut tot_paid) = (0u64, 0u64, 0u128);
	let mut payouts: BTreeMap<String, Balance> = BTreeMap::new();
	let mut work_epoch = 0;
	for (id, t) in &tracks {
		let (fin_n, fin_h) = t.finished.expect("finished");
		let (sub_n, sub_h) = t.submitted.expect("seen");
		let v = alice.job(*id, Some(fin_h)).await?.ok_or_else(|| anyhow!("job {id} gone"))?;
		work_epoch = work_epoch.max(alice.session_index(Some(fin_h)).await?);
		let secs = timestamp(&alice, fin_h).await?.saturating_sub(timestamp(&alice, sub_h).await?)
			as f64 / 1000.0;
		let (tally, paid, usage, e, c) = match &v.result {
			Some(r) => {
				let paid: Vec<String> = r
					.payments
					.iter()
					.map(|(w, a)| {
						*payouts.entry(name_of(&names, w)).or_default() += *a;
						tot_paid += *a;
						format!("{} {}", name_of(&names, w), units(*a))
					})
					.collect();
				(
					String::from_utf8_lossy(&r.output).trim().replace('|', "/"),
					paid.join(", "),
					format!(
						"{:.2} / {:.2}",
						r.usage.cpu_ms as f64 / 1e3,
						r.usage.wall_ms as f64 / 1e3
					),
					r.footprint.energy_uwh,
					r.footprint.carbon_ug,
				)
			},
			None => ("-".into(), "-".into(), "-".into(), 0, 0),
		};
		tot_e += e;
		tot_c += c;
		all_ok &= v.state == JobState::Completed;
		out.line(format!(
			"| {id} | {} | {:?} | `{tally}` | {} ({}) | {paid} | {usage} | {:.6} | {:.6} | {secs:.0} s (#{sub_n}→#{fin_n}) |",
			t.seed,
			v.state,
			v.providers.len(),
			list(&names, &v.providers),
			e as f64 / 1e6,
			c as f64 / 1e6,
		));
	}
	out.line(String::new());
	out.line(format!(
		"total: energy {:.6} Wh ({tot_e} µWh), carbon {:.6} gCO2e ({tot_c} µg), paid to providers {} UNIT",
		tot_e as f64 / 1e6,
		tot_c as f64 / 1e6,
		units(tot_paid)
	));
	for (who, a) in &payouts {
		out.line(format!("  payout {who}: {} UNIT", units(*a)));
	}
	let (_, head) = progress.head(&alice).await?;
	for name in PROVIDERS {
		if let Some(r) = alice.provider(&chain::account(uri(name)), Some(head)).await? {
			out.line(format!(
				"  provider {name}: agreed {}/{} verdicts, bond {} UNIT",
				r.agreed,
				r.total,
				units(r.bond)
			));
		}
	}

	// --- 4. the lottery ------------------------------------------------------------------------
	out.line(String::new());
	out.line("## Lottery and validators");
	out.line(String::new());
	lottery(&alice, &names, work_epoch, charlie_babe, &mut progress, out).await?;

	// --- 5. where the CPU went -----------------------------------------------------------------
	out.line(String::new());
	out.line("## Where the CPU went");
	out.line(String::new());
	let (finalised, _) = progress.head(&alice).await?;
	// A figure that cannot be read is reported, not a failure of the demo: the jobs' outcome
	// decides the exit status.
	match tokio::task::block_in_place(|| cpu_account(network)) {
		Ok(account) => account.print(finalised, out),
		Err(e) => out.line(format!("CPU account not available: {e:#}")),
	}

	// --- 6. an example beyond the coin flip ----------------------------------------------------
	out.line(String::new());
	out.line("## Beyond the coin flip: pi, pulled from a registry");
	out.line(String::new());
	all_ok &= pi_job(network, &alice, &customer, out).await?;
	Ok(all_ok)
}

/// Samples of the demo's pi job.
const PI_SAMPLES: u64 = 50_000_000;
/// Seed of the demo's pi job.
const PI_SEED: u64 = 2026;

/// Pushes the pi example's image to a registry started here, submits one job of it (two
/// replicas that must agree), waits for its verdict and checks the estimate on chain against
/// the native one. Whether it completed with the native estimate.
async fn pi_job(
	network: &Network,
	alice: &Arc<ChainClient>,
	customer: &Submitter,
	out: &mut Out,
) -> Result<bool> {
	let built = povm_network_tests::example_image("pi").map_err(|e| anyhow!(e))?;
	let registry = Registry::start(&network.dir().join("registry")).map_err(|e| anyhow!(e))?;
	let pushed = tokio::task::block_in_place(|| registry.push_and_forget("povm/pi:latest", "pi"))
		.map_err(|e| anyhow!(e))?;
	out.line(format!(
		"image: {} pushed to {}@{} (and removed from the Docker daemon)",
		built.digest, pushed.repository, pushed.manifest
	));
	let args = ["--samples", &PI_SAMPLES.to_string(), "--seed", &PI_SEED.to_string()];
	let spec = JobSpec {
		image: pushed.image_ref(),
		command: b"/pi".to_vec().try_into().map_err(|_| anyhow!("command"))?,
		args: args
			.iter()
			.map(|a| a.as_bytes().to_vec().try_into().map_err(|_| anyhow!("argument")))
			.collect::<Result<Vec<_>>>()?
			.try_into()
			.map_err(|_| anyhow!("arguments"))?,
		env: Default::default(),
		inputs: Default::default(),
		resources: povm_primitives::Resources { millicores: 1000, memory_mib: 64, max_seconds: 30 },
		price_per_second: 1_000_000_000,
		redundancy: RedundancyPolicy { min_replicas: 2, max_replicas: 2, margin: 2 },
		checkpoint_interval: 0,
	};
	let call = Call::SubmitJob { spec: Box::new(spec), budget: chain::BUDGET };
	let receipt = customer.submit_final(&call).await.context("submit_job (pi)")?;
	let id = receipt.submitted_job()?.ok_or_else(|| anyhow!("no JobSubmitted event"))?;
	out.line(format!(
		"job {id}: /pi --samples {PI_SAMPLES} --seed {PI_SEED}, two replicas that must agree"
	));
	let deadline = Instant::now() + Duration::from_secs(300);
	let view = loop {
		if let Some(v) = alice.job(id, None).await?.filter(|v| !v.state.is_open()) {
			break v;
		}
		if Instant::now() > deadline {
			bail!("the pi job did not finish within 5 minutes; see the workers' run.log");
		}
		tokio::time::sleep(Duration::from_secs(2)).await;
	};
	let expected = povm_job_pi::estimate(PI_SEED, PI_SAMPLES).to_json(PI_SEED);
	let on_chain = view.result.as_ref().map(|r| String::from_utf8_lossy(&r.output).into_owned());
	let agrees = on_chain.as_deref() == Some(expected.as_str());
	out.line(format!("verdict: {:?}", view.state));
	out.line(format!("on chain: {}", on_chain.as_deref().unwrap_or("-").trim()));
	out.line(format!(
		"native:   {} ({})",
		expected.trim(),
		if agrees { "the same bytes" } else { "DIFFERENT" }
	));
	Ok(view.state == JobState::Completed && agrees)
}

/// CPU seconds of the network's processes so far, by process.
struct CpuAccount {
	/// Each node's.
	nodes: Vec<(String, f64)>,
	/// Each worker process's (without its jobs).
	workers: Vec<(String, f64)>,
	/// The job containers each worker ran (its `povm_worker_job_cpu_milliseconds_total`).
	jobs: Vec<(String, f64)>,
}

/// Reads [`CpuAccount`] from the running processes and the workers' metrics.
fn cpu_account(network: &Network) -> Result<CpuAccount> {
	let mut account = CpuAccount { nodes: Vec::new(), workers: Vec::new(), jobs: Vec::new() };
	for node in &network.nodes {
		account.nodes.push((node.name.clone(), node.cpu_seconds()?));
	}
	for worker in &network.workers {
		let name = worker.def.name.clone();
		account.workers.push((name.clone(), worker.cpu_seconds()?));
		let ms = worker.metric("povm_worker_job_cpu_milliseconds_total").ok_or_else(|| {
			anyhow!("worker {name} serves no povm_worker_job_cpu_milliseconds_total")
		})?;
		account.jobs.push((name, ms / 1e3));
	}
	Ok(account)
}

impl CpuAccount {
	fn sum(rows: &[(String, f64)]) -> f64 {
		rows.iter().map(|(_, s)| s).sum()
	}

	/// The table, the customers' share and the consensus energy per block, for `finalised`
	/// blocks finalised since genesis.
	fn print(&self, finalised: BlockNumber, out: &mut Out) {
		let (nodes, workers, jobs) =
			(Self::sum(&self.nodes), Self::sum(&self.workers), Self::sum(&self.jobs));
		let total = nodes + workers + jobs;
		let share = |s: f64| if total > 0.0 { 100.0 * s / total } else { 0.0 };
		out.line("| process | CPU (s) | share |");
		out.line("| --- | --- | --- |");
		let groups =
			[("node", &self.nodes), ("worker", &self.workers), ("job containers of", &self.jobs)];
		for (kind, rows) in groups {
			for (name, s) in rows.iter() {
				out.line(format!("| {kind} {name} | {s:.1} | {:.1} % |", share(*s)));
			}
		}
		out.line(format!("| **all** | {total:.1} | 100 % |"));
		out.line(String::new());
		out.line(format!(
			"customers' jobs: {jobs:.1} s of the {total:.1} CPU seconds of the local network's nodes, workers and job containers (nodes {nodes:.1} s, workers {workers:.1} s, job containers {jobs:.1} s, every replica run counted): {:.1} %; Docker's own daemons and shims are not counted",
			share(jobs)
		));
		let blocks = f64::from(finalised.max(1));
		let wh_per_block = nodes * WATTS_PER_CORE / 3600.0 / blocks;
		out.line(format!(
			"consensus energy per finalised block: the nodes' {nodes:.1} CPU seconds × {WATTS_PER_CORE} W per core (CPU time only: no idle power, memory or PUE) over {finalised} finalised blocks = {:.3} mWh per block; Bitcoin: about {:.1} GWh per block (170 TWh a year over 52,560 blocks; an outside estimate, and a block is not the same unit of security on both chains), {:.1e} times as much",
			wh_per_block * 1e3,
			BITCOIN_WH_PER_BLOCK / 1e9,
			BITCOIN_WH_PER_BLOCK / wh_per_block.max(f64::MIN_POSITIVE),
		));
	}
}

/// Follows the draw whose tickets are the verified work of `work_epoch` until it closes, and
/// the validator set it plans until it authors blocks.
async fn lottery(
	alice: &Arc<ChainClient>,
	names: &BTreeMap<AccountId, &'static str>,
	work_epoch: u32,
	charlie_babe: [u8; 32],
	progress: &mut Progress,
	out: &mut Out,
) -> Result<()> {
	let draw = work_epoch + 1;
	let mut active_from = u32::MAX;
	for name in PROVIDERS {
		let view = alice.lottery_view(&chain::account(uri(name)), None).await?;
		active_from = active_from.min(view.vrf_key.map(|k| k.active_from).unwrap_or(u32::MAX));
	}
	out.line(format!(
		"the last verdict fell in epoch {work_epoch}: its verified VM time becomes the tickets of draw {draw} (VRF keys active from draw {active_from})"
	));
	if draw < active_from {
		out.line(format!("no provider's VRF key is active in draw {draw}: nobody can claim, the validator set stays"));
		return Ok(());
	}
	// The draw opens at the session boundary: tickets, threshold, claims.
	let mut shown_open = false;
	let outcome = loop {
		let (_, at) = progress.head(alice).await?;
		if !shown_open {
			if let Some(d) = alice.current_draw(Some(at)).await?.filter(|d| d.epoch == draw) {
				out.line(format!(
					"draw {} open at #{}: work of epoch {}, {} providers, {} tickets in total, {} expected winners, seed 0x{}",
					d.epoch, d.opened_at, d.work_epoch, d.providers, d.total_tickets, d.expected_winners,
					d.seed.iter().map(|b| format!("{b:02x}")).collect::<String>()
				));
				for name in PROVIDERS {
					let v = alice.lottery_view(&chain::account(uri(name)), Some(at)).await?;
					out.line(format!(
						"  {name}: {} tickets, threshold {:.4} of the output range",
						v.tickets,
						v.threshold as f64 / u128::MAX as f64
					));
				}
				shown_open = true;
			}
		}
		if let Some(o) = chain::last_outcome(alice, Some(at)).await.filter(|o| o.epoch >= draw) {
			break o;
		}
		tokio::time::sleep(Duration::from_secs(2)).await;
	};
	out.line(format!(
		"draw {} closed: winners [{}] (claims verified on chain: VRF output below each one's threshold), {} UNIT minted to each",
		outcome.epoch,
		list(names, &outcome.winners),
		units(outcome.payout)
	));
	let Some(planned) = outcome.validators else {
		out.line("too few winners have session keys: the current validator set stays".to_string());
		return Ok(());
	};
	out.line(format!(
		"planned validator set (winners with session keys, beside the incumbents that stay): [{}]",
		list(names, &planned)
	));
	let (seated_at, seated_hash) = loop {
		let (n, at) = progress.head(alice).await?;
		if chain::validators(alice, Some(at)).await == planned {
			break (n, at);
		}
		tokio::time::sleep(Duration::from_secs(2)).await;
	};
	let session = alice.session_index(Some(seated_hash)).await?;
	out.line(format!(
		"Session.Validators from session {session} (finalised #{seated_at}): [{}]",
		list(names, &planned)
	));
	if planned.contains(&chain::account("//Charlie")) {
		let deadline = Instant::now() + Duration::from_secs(120);
		let mut number = seated_at;
		loop {
			let (head, _) = progress.head(alice).await?;
			while number <= head {
				if let Some(hash) = alice.block_hash(number).await? {
					if chain::babe_author(alice, hash).await == Some(charlie_babe) {
						out.line(format!(
							"block #{number} authored by charlie's validator (BABE key 0x{}…)",
							charlie_babe[..4]
								.iter()
								.map(|b| format!("{b:02x}"))
								.collect::<String>()
						));
						return Ok(());
					}
				}
				number += 1;
			}
			if Instant::now() > deadline {
				bail!("no finalised block authored by charlie within 120 s of his seat");
			}
			tokio::time::sleep(Duration::from_secs(2)).await;
		}
	}
	Ok(())
}

fn main() {
	let opt = Opt::parse();
	let dir = opt
		.dir
		.clone()
		.unwrap_or_else(|| std::env::temp_dir().join(format!("povm-demo-{}", std::process::id())));
	println!("povm-demo: working directory {}", dir.display());
	let began = Instant::now();
	let def = match NetworkDef::from_toml("demo.toml", NETWORK) {
		Ok(d) => d,
		Err(e) => {
			eprintln!("povm-demo: {e}");
			std::process::exit(1);
		},
	};
	println!("povm-demo: starting 3 nodes and 3 workers (registering the providers)");
	let mut network = match Network::start_in(def, dir.clone()) {
		Ok(n) => n,
		Err(e) => {
			eprintln!("povm-demo: FAILED to start the network: {e}\n  logs in {}", dir.display());
			std::process::exit(1);
		},
	};
	let rt = tokio::runtime::Builder::new_multi_thread()
		.enable_all()
		.build()
		.expect("runtime");
	let mut out = Out(Vec::new());
	let outcome = rt.block_on(async {
		let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
			.expect("SIGTERM handler");
		tokio::select! {
			r = run(&mut network, &opt, &mut out) => Some(r),
			_ = tokio::signal::ctrl_c() => None,
			_ = term.recv() => None,
		}
	});
	println!("povm-demo: stopping workers and nodes");
	network.stop();
	drop(network);
	if let Some(path) = &opt.markdown {
		let _ = std::fs::write(path, out.0.join("\n") + "\n");
	}
	let code = match outcome {
		None => {
			eprintln!("povm-demo: interrupted; logs in {}", dir.display());
			130
		},
		Some(Err(e)) => {
			eprintln!("povm-demo: FAILED: {e:#}\n  logs in {}", dir.display());
			1
		},
		Some(Ok(false)) => {
			eprintln!(
				"povm-demo: FAILED: a job did not complete (see the table); logs in {}",
				dir.display()
			);
			1
		},
		Some(Ok(true)) => {
			println!(
				"povm-demo: all jobs completed; finished in {:.0} s",
				began.elapsed().as_secs_f64()
			);
			if !opt.keep {
				let _ = std::fs::remove_dir_all(&dir);
			}
			0
		},
	};
	std::process::exit(code);
}

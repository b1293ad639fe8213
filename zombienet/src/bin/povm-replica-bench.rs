//! `povm-replica-bench`: replicas per block through assignment, commit and reveal on a real
//! node (issue 13). Not part of CI: `scripts/bench-replicas.sh` starts a fresh `--dev` node and
//! runs it.
//!
//! The benchmark plays every party over RPC, signing real transactions:
//! 1. Alice funds `--providers` provider accounts (`//Provider//i`), each registers an offer of
//!    `MaxSlots` slots and the smallest bond, and heartbeats once a session;
//! 2. the six dev accounts submit `--jobs` jobs of `max_replicas` (8) replicas each, all at
//!    once while the providers play, so that the queue outlasts the measurement;
//! 3. at every new block each provider reads its assignments (`PovmJobsApi`) at that block,
//!    commits to a fixed result as soon as it is drawn and reveals as soon as reveals open: no
//!    container runs, so the chain is the only bound.
//!
//! At each block it counts the replicas drawn there (new assignments against the block
//! before) and the replicas a verdict accepted there (`VmProof::WorkVerified` events), with the
//! jobs completed and disputed, the members faulted and the transactions that failed, and
//! writes the median drawn and the mean accepted over the blocks where the queue kept the
//! assignment hook busy.

use std::{collections::BTreeSet, path::PathBuf, sync::Arc, time::Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use futures_util::future::join_all;
use povm_client::{
	api::TxSettings,
	types::{Reveal, RunOutcome, VmOffer},
};
use povm_network_tests::chain;
use povm_primitives::{attestation, AssignmentPhase, ImageRef, RedundancyPolicy, Resources, Usage};
use povm_worker::{
	client::{Call, ChainClient},
	prelude::*,
	signer::Signer,
};

/// One POVM.
const UNIT: u128 = 1_000_000_000_000;
/// Each provider's funding: the smallest bond (100 POVM) and fees.
const FUNDING: u128 = 200 * UNIT;
/// The smallest bond (`MinBond`).
const BOND: u128 = 100 * UNIT;
/// Slots per provider (`MaxSlots`).
const SLOTS: u32 = 64;
/// Replicas per job (`MaxReplicas`, the default `Params.max_replicas`).
const REPLICAS: u32 = 8;
/// The dev accounts that submit jobs.
const CUSTOMERS: [&str; 6] = ["//Alice", "//Bob", "//Charlie", "//Dave", "//Eve", "//Ferdie"];

#[derive(Parser, Debug)]
struct Args {
	/// The node's WebSocket RPC.
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	url: String,
	/// Provider accounts.
	#[arg(long, default_value_t = 80)]
	providers: u32,
	/// Jobs submitted.
	#[arg(long, default_value_t = 4_000)]
	jobs: u32,
	/// Blocks to follow once the first replica is drawn.
	#[arg(long, default_value_t = 100)]
	blocks: u32,
	/// Where the figures go (`bench/scale.json` is merged into, the markdown written).
	#[arg(long)]
	json: PathBuf,
	/// The markdown report.
	#[arg(long)]
	markdown: PathBuf,
}

/// What one block showed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct BlockCount {
	number: BlockNumber,
	/// Replicas first seen assigned at this block (the providers' assignments at the block
	/// against those at its parent).
	assigned: u32,
	/// Replicas accepted by a verdict in this block (`VmProof::WorkVerified` events).
	completed: u32,
	/// Jobs completed (`JobQueue::JobCompleted`).
	jobs_completed: u32,
	/// Jobs disputed (`JobQueue::JobDisputed`).
	jobs_disputed: u32,
	/// Members faulted: no-shows and the like (`VmProof::ProviderFaulted`).
	faults: u32,
	/// Transactions in the block, and those whose dispatch failed.
	transactions: u32,
	failed: u32,
}

/// The events of block `hash` that tell how its replicas fared, into `count`.
async fn tally_events(client: &ChainClient, hash: H256, count: &mut BlockCount) -> Result<()> {
	let tally = client
		.read("events", |api| async move {
			let rpc = |e: String| povm_client::Error::Rpc { what: "block events", message: e };
			let at = api.at(Some(hash)).await?;
			let events = at.events().fetch().await.map_err(|e| rpc(e.to_string()))?;
			let mut t = BlockCount::default();
			for ev in events.iter() {
				let ev = ev.map_err(|e| rpc(e.to_string()))?;
				match (ev.pallet_name(), ev.event_name()) {
					("VmProof", "WorkVerified") => t.completed += 1,
					("JobQueue", "JobCompleted") => t.jobs_completed += 1,
					("JobQueue", "JobDisputed") => t.jobs_disputed += 1,
					("VmProof", "ProviderFaulted") => t.faults += 1,
					("System", "ExtrinsicSuccess") => t.transactions += 1,
					("System", "ExtrinsicFailed") => {
						t.transactions += 1;
						t.failed += 1;
					},
					_ => {},
				}
			}
			Ok(t)
		})
		.await?;
	count.completed = tally.completed;
	count.jobs_completed = tally.jobs_completed;
	count.jobs_disputed = tally.jobs_disputed;
	count.faults = tally.faults;
	// Less the timestamp inherent.
	count.transactions = tally.transactions.saturating_sub(1);
	count.failed = tally.failed;
	Ok(())
}

/// The mean of `values`, rounded down, 0 for none: completions come in bursts (a job completes
/// with its last reveal, and a session-change block carries no transaction), so their
/// sustained rate is the mean over the window, not the median.
fn mean(values: Vec<u32>) -> u32 {
	let n = values.len() as u64;
	if n == 0 {
		return 0;
	}
	(values.iter().map(|v| u64::from(*v)).sum::<u64>() / n) as u32
}

/// The median of `values` (the lower of the two middle ones), 0 for none.
fn median(mut values: Vec<u32>) -> u32 {
	values.sort_unstable();
	values.get(values.len().saturating_sub(1) / 2).copied().unwrap_or(0)
}

/// The blocks where the assignment hook was kept busy: from the first block that drew
/// replicas to the last one before the queue ran dry (the last block that drew any), both
/// ends left out, since the first may have begun with a partly filled queue and the last
/// drew what was left.
fn busy_window(counts: &[BlockCount]) -> &[BlockCount] {
	let first = counts.iter().position(|c| c.assigned > 0);
	let last = counts.iter().rposition(|c| c.assigned > 0);
	match (first, last) {
		(Some(f), Some(l)) if l > f + 1 => &counts[f + 1..l],
		_ => &[],
	}
}

/// The replica of a job every provider reveals: a fixed run, so that every member agrees.
fn fixed_reveal() -> (Reveal, RunOutcome) {
	let outcome = RunOutcome {
		exit_code: 0,
		timed_out: false,
		oom_killed: false,
		truncated: false,
		contents_digest: [7u8; 32],
	};
	let reveal = Reveal {
		result_digest: outcome.result_digest(),
		checkpoints_root: attestation::merkle_root(&[]),
		salt: [3u8; 32],
		output: b"bench".to_vec().try_into().expect("a short output"),
		usage: Usage { cpu_ms: 500, memory_mib_s: 32, wall_ms: 1_000 },
	};
	(reveal, outcome)
}

/// The benchmark's job: one second of a small container, 8 replicas that must all agree.
fn job_spec(i: u32) -> JobSpec {
	let mut id = [0u8; 32];
	id[..4].copy_from_slice(&i.to_le_bytes());
	id[31] = 0xbe;
	JobSpec {
		image: ImageRef::local(id),
		command: b"/bench".to_vec().try_into().expect("a short command"),
		args: Default::default(),
		env: Default::default(),
		inputs: Default::default(),
		resources: Resources { millicores: 500, memory_mib: 64, max_seconds: 10 },
		price_per_second: 1_000,
		redundancy: RedundancyPolicy { min_replicas: REPLICAS, max_replicas: REPLICAS, margin: 1 },
		checkpoint_interval: 0,
	}
}

/// An account that signs with locally counted nonces, so that it can send several
/// transactions a block without waiting for each.
struct Account {
	signer: Signer,
	nonce: u64,
}

impl Account {
	async fn new(client: &ChainClient, uri: &str) -> Result<Self> {
		let signer = Signer::from_uri(uri).map_err(|e| anyhow::anyhow!("{uri}: {e}"))?;
		let nonce = client.next_nonce(signer.account()).await?.into();
		Ok(Self { signer, nonce })
	}

	/// Signs `call` with the next nonce and hands it to the pool (not waiting for a block).
	/// On a refusal the nonce is read again from the node.
	async fn send(&mut self, client: &ChainClient, era: (BlockNumber, H256), call: Call) -> bool {
		let settings = TxSettings { nonce: self.nonce, tip: 0, mortality: 256, era_block: era };
		let signer = self.signer.pair_signer().clone();
		let sent = client
			.read("submit", |api| async move {
				api.submit_watch(&signer, &call, &settings).await.map(drop)
			})
			.await;
		match sent {
			Ok(()) => {
				self.nonce += 1;
				true
			},
			Err(e) => {
				eprintln!("{}: {e}", self.signer.account());
				if let Ok(n) = client.next_nonce(self.signer.account()).await {
					self.nonce = n.into();
				}
				false
			},
		}
	}
}

/// A provider played by the benchmark: its account and what it has seen and done.
struct Player {
	account: Account,
	/// Its assignments (job, wave) at the last block read.
	seen: BTreeSet<(JobId, u32)>,
	/// Jobs it committed on.
	committed: BTreeSet<JobId>,
	/// Jobs it revealed on.
	revealed: BTreeSet<JobId>,
}

impl Player {
	fn new(account: Account) -> Self {
		Self {
			account,
			seen: BTreeSet::new(),
			committed: BTreeSet::new(),
			revealed: BTreeSet::new(),
		}
	}

	/// Reads the assignments at block `hash` and counts the replicas it was newly drawn for;
	/// when `act` (the newest block), commits on the new ones and reveals where reveals opened
	/// (and heartbeats when asked).
	#[allow(clippy::too_many_arguments)]
	async fn play(
		&mut self,
		client: &ChainClient,
		hash: H256,
		act: bool,
		era: (BlockNumber, H256),
		heartbeat: bool,
		reveal: &Reveal,
		outcome: RunOutcome,
	) -> Result<u32> {
		let who = self.account.signer.account().clone();
		let views = client.assignments(&who, Some(hash)).await?;
		let now: BTreeSet<(JobId, u32)> = views.iter().map(|v| (v.job, v.wave)).collect();
		let assigned = now.difference(&self.seen).count() as u32;
		self.seen = now;
		if !act {
			return Ok(assigned);
		}
		if heartbeat {
			self.account.send(client, era, Call::Heartbeat).await;
		}
		for v in views {
			match v.phase {
				AssignmentPhase::Commit if !self.committed.contains(&v.job) => {
					let commitment = attestation::commitment(
						&reveal.attestation(v.job, v.wave),
						&reveal.salt,
						&who,
					);
					let call = Call::CommitResult { job: v.job, commitment };
					if self.account.send(client, era, call).await {
						self.committed.insert(v.job);
					}
				},
				AssignmentPhase::Reveal if !self.revealed.contains(&v.job) => {
					let call = Call::RevealResult {
						job: v.job,
						reveal: reveal.clone(),
						leaves: Vec::new(),
						outcome: Some(outcome),
					};
					if self.account.send(client, era, call).await {
						self.revealed.insert(v.job);
					}
				},
				_ => {},
			}
		}
		Ok(assigned)
	}
}

/// Waits for `blocks` new best blocks.
async fn blocks(client: &ChainClient, blocks: u32) -> Result<()> {
	let mut heads = client.subscribe_new_heads().await?;
	for _ in 0..blocks {
		heads.next().await.context("the head subscription ended")??;
	}
	Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
	let args = Args::parse();
	let client: Arc<ChainClient> = chain::connect(&args.url).await;
	let started = Instant::now();
	let era = client.finalized_head().await?;

	// 1. Providers: funded, registered.
	let mut alice = Account::new(&client, "//Alice").await?;
	let mut providers = Vec::new();
	for i in 0..args.providers {
		let p = Account::new(&client, &format!("//Provider//{i}")).await?;
		let dest = p.signer.account().clone();
		if !alice.send(&client, era, Call::TransferKeepAlive { dest, value: FUNDING }).await {
			bail!("funding provider {i} was refused");
		}
		providers.push(p);
	}
	blocks(&client, 3).await?;
	let era = client.finalized_head().await?;
	let offer = VmOffer {
		millicores: 1_000,
		memory_mib: 1_024,
		arch: povm_client::types::Arch::X86_64,
		slots: SLOTS,
		grid_intensity: 300,
		pue_permille: 1_200,
		core_milliwatts: 10_000,
		max_seconds: 3_600,
	};
	for p in providers.iter_mut() {
		p.send(&client, era, Call::RegisterProvider { offer, bond: BOND }).await;
	}
	blocks(&client, 3).await?;
	let mut registered = 0;
	for p in &providers {
		if client.provider(p.signer.account(), None).await?.is_some() {
			registered += 1;
		}
	}
	if registered < args.providers {
		bail!("{registered} of {} providers registered", args.providers);
	}
	println!("{registered} providers registered ({:.0} s)", started.elapsed().as_secs_f64());

	// 2. Jobs, from the six dev accounts at once, while the providers play (a job waiting
	// for its providers to start would miss its commit window).
	let first_job = chain::next_job_id(&client, None).await;
	let per_customer = args.jobs.div_ceil(CUSTOMERS.len() as u32);
	let mut submitters = Vec::new();
	for (c, uri) in CUSTOMERS.iter().enumerate() {
		let mut customer = Account::new(&client, uri).await?;
		let client = client.clone();
		let jobs = (c as u32 * per_customer)..((c as u32 + 1) * per_customer).min(args.jobs);
		submitters.push(tokio::spawn(async move {
			let era = client.finalized_head().await.ok()?;
			let mut sent = 0u32;
			for i in jobs {
				let call = Call::SubmitJob { spec: Box::new(job_spec(i)), budget: 10 * UNIT };
				if customer.send(&client, era, call).await {
					sent += 1;
				}
			}
			Some(sent)
		}));
	}
	println!("submitting {} jobs from job {first_job}", args.jobs);

	// 3. Follow the blocks: count, commit, reveal (every provider at once).
	let (reveal, outcome) = fixed_reveal();
	let mut players: Vec<Player> = providers.into_iter().map(Player::new).collect();
	let mut heads = client.subscribe_new_heads().await?;
	let mut counts: Vec<BlockCount> = Vec::new();
	let mut session = client.session_index(None).await?;
	let mut last_number = 0;
	let mut since_first = None::<u32>;
	while since_first.is_none_or(|n| n < args.blocks) {
		let header = heads.next().await.context("the head subscription ended")??;
		let newest = header.number()?;
		if newest <= last_number {
			continue;
		}
		// Every block from the last one read, so that none is folded into the next.
		let from = if last_number == 0 { newest } else { last_number + 1 };
		last_number = newest;
		for number in from..=newest {
			let hash = client.block_hash(number).await?.context("a block of the best chain")?;
			let act = number == newest;
			let era = client.finalized_head().await?;
			let now_session = client.session_index(Some(hash)).await?;
			let heartbeat = act && now_session != session;
			if act {
				session = now_session;
			}
			let played = join_all(
				players
					.iter_mut()
					.map(|p| p.play(&client, hash, act, era, heartbeat, &reveal, outcome)),
			)
			.await;
			let mut count = BlockCount { number, ..Default::default() };
			for r in played {
				count.assigned += r?;
			}
			tally_events(&client, hash, &mut count).await?;
			if count.assigned > 0 && since_first.is_none() {
				since_first = Some(0);
			}
			if let Some(n) = since_first.as_mut() {
				*n += 1;
			}
			println!(
				"block {number}: {} replicas drawn, {} accepted ({} jobs completed, {} disputed, \
				 {} faults), {} transactions ({} failed) ({:.0} s)",
				count.assigned,
				count.completed,
				count.jobs_completed,
				count.jobs_disputed,
				count.faults,
				count.transactions,
				count.failed,
				started.elapsed().as_secs_f64()
			);
			counts.push(count);
		}
	}

	let mut submitted = 0;
	for s in submitters {
		submitted += s.await?.unwrap_or(0);
	}
	println!("{submitted} jobs accepted by the pool");

	// 4. Figures.
	let window = busy_window(&counts);
	if window.is_empty() {
		bail!("the hook never stayed busy: {counts:?}");
	}
	let figures = Figures {
		assigned: median(window.iter().map(|c| c.assigned).collect()),
		completed: mean(window.iter().map(|c| c.completed).collect()),
		total_assigned: counts.iter().map(|c| c.assigned).sum(),
		total_completed: counts.iter().map(|c| c.completed).sum(),
		jobs_disputed: counts.iter().map(|c| c.jobs_disputed).sum(),
		faults: counts.iter().map(|c| c.faults).sum(),
		failed: counts.iter().map(|c| c.failed).sum(),
		submitted,
	};
	println!(
		"over {} busy blocks: {} drawn (median), {} accepted (mean)",
		window.len(),
		figures.assigned,
		figures.completed
	);
	write_figures(&args, &counts, window, &figures, started)?;
	Ok(())
}

/// The run's figures.
struct Figures {
	/// Replicas drawn per busy block (median).
	assigned: u32,
	/// Replicas accepted per busy block (mean).
	completed: u32,
	total_assigned: u32,
	total_completed: u32,
	jobs_disputed: u32,
	faults: u32,
	failed: u32,
	/// Jobs the pool accepted.
	submitted: u32,
}

/// Replicas drawn but not yet accepted after each block: the pipeline's backlog.
fn in_flight(counts: &[BlockCount]) -> Vec<i64> {
	let mut open = 0i64;
	counts
		.iter()
		.map(|c| {
			open += i64::from(c.assigned) - i64::from(c.completed);
			open
		})
		.collect()
}

fn write_figures(
	args: &Args,
	counts: &[BlockCount],
	window: &[BlockCount],
	f: &Figures,
	started: Instant,
) -> Result<()> {
	use serde_json::{json, Map, Value};
	let command = "bash scripts/bench-replicas.sh";
	let open = in_flight(counts);
	let per_block: Vec<Value> = counts
		.iter()
		.zip(&open)
		.map(|(c, o)| {
			json!({
				"block": c.number, "drawn": c.assigned, "accepted": c.completed,
				"jobs_completed": c.jobs_completed, "jobs_disputed": c.jobs_disputed,
				"faults": c.faults, "transactions": c.transactions, "failed": c.failed,
				"in_flight": o,
			})
		})
		.collect();
	let existing = std::fs::read_to_string(&args.json)
		.with_context(|| format!("{} (the scale benchmark's figures)", args.json.display()))?;
	let mut out: Map<String, Value> = serde_json::from_str::<Value>(&existing)?
		.as_object()
		.cloned()
		.context("bench/scale.json is an object")?;
	out.insert("replicas_assigned_per_block".into(), json!(f.assigned));
	out.insert("replicas_completed_per_block".into(), json!(f.completed));
	out.insert(
		"replicas".into(),
		json!({
			"generated_by": command,
			"node": "povm-node --dev (fast-runtime: 3 s blocks), one validator",
			"providers": args.providers,
			"slots_per_provider": SLOTS,
			"replicas_per_job": REPLICAS,
			"jobs_sent": args.jobs,
			"jobs_accepted_by_the_pool": f.submitted,
			"busy_blocks": window.len(),
			"replicas_drawn_total": f.total_assigned,
			"replicas_accepted_total": f.total_completed,
			"jobs_disputed_total": f.jobs_disputed,
			"faults_total": f.faults,
			"failed_transactions_total": f.failed,
			"wall_seconds": started.elapsed().as_secs(),
			"per_block": per_block,
			"note": "over the blocks where the queue kept the assignment hook busy (the first \
				and last drawing blocks left out): drawn is the median of the replicas first \
				seen in the providers' assignments; accepted is the mean of VmProof::WorkVerified \
				events (replicas a verdict accepted); providers committed as soon as drawn and \
				revealed as soon as reveals opened, no container ran",
		}),
	);
	let nulls = out.values().filter(|v| v.is_null()).count();
	if nulls == 0 {
		out.remove("not_measured");
	}
	std::fs::write(
		&args.json,
		format!("{}\n", serde_json::to_string_pretty(&Value::Object(out))?),
	)?;

	let peak = open.iter().copied().max().unwrap_or(0);
	let mut md = String::new();
	md.push_str("# Replicas per block on a real node (issue 13)\n\n");
	md.push_str(&format!(
		"Generated by `{command}` on a fresh `povm-node --dev` (fast-runtime: 3 s blocks; one \
		 validator). {} providers (`//Provider//i`, {SLOTS} slots each, the smallest bond) \
		 registered and heartbeat every session; the six dev accounts sent {} jobs of \
		 {REPLICAS} replicas each ({} accepted by the pool) as fast as the pool took them, \
		 while the providers played. At every block each provider read its assignments at that \
		 block (`PovmJobsApi`), committed as soon as it was drawn and revealed as soon as \
		 reveals opened, all to one fixed result. No container ran; the benchmark itself sends \
		 every transaction over one WebSocket, so a slow benchmark shows as a growing backlog \
		 (in flight).\n\n",
		args.providers, args.jobs, f.submitted
	));
	md.push_str(&format!(
		"Over the {} blocks where the queue kept the assignment hook busy (the first and last \
		 drawing blocks left out): **{} replicas drawn per block** (median; the hook's weight \
		 bound, the same on any machine) and **{} replicas accepted per block** (mean of the \
		 `WorkVerified` events: completions come in bursts, a job's with its last reveal); \
		 goal ≥ 500. In all: {} drawn, {} accepted, {} jobs disputed, {} members faulted, {} \
		 transactions failed; at most {peak} replicas in flight.\n\n",
		window.len(),
		f.assigned,
		f.completed,
		f.total_assigned,
		f.total_completed,
		f.jobs_disputed,
		f.faults,
		f.failed
	));
	md.push_str(
		"| block | drawn | accepted | jobs completed | disputed | faults | transactions | \
		 failed | in flight |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
	);
	for (c, o) in counts.iter().zip(&open) {
		md.push_str(&format!(
			"| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
			c.number,
			c.assigned,
			c.completed,
			c.jobs_completed,
			c.jobs_disputed,
			c.faults,
			c.transactions,
			c.failed,
			o
		));
	}
	std::fs::write(&args.markdown, md)?;
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	fn c(assigned: u32) -> BlockCount {
		BlockCount { assigned, ..Default::default() }
	}

	#[test]
	fn the_busy_window_leaves_out_the_first_and_last_drawing_blocks() {
		let counts = [c(0), c(10), c(70), c(72), c(71), c(5), c(0)];
		let w = busy_window(&counts);
		assert_eq!(w.iter().map(|c| c.assigned).collect::<Vec<_>>(), vec![70, 72, 71]);
		assert!(busy_window(&[c(0), c(3), c(0)]).is_empty());
		assert_eq!(median(vec![5, 1, 3, 2]), 2);
		assert_eq!(median(vec![]), 0);
		assert_eq!(mean(vec![0, 480, 200]), 226);
		assert_eq!(mean(vec![]), 0);
		let flow = [
			BlockCount { assigned: 10, completed: 0, ..Default::default() },
			BlockCount { assigned: 10, completed: 8, ..Default::default() },
			BlockCount { assigned: 0, completed: 12, ..Default::default() },
		];
		assert_eq!(in_flight(&flow), vec![10, 12, 0]);
	}

	#[test]
	fn the_fixed_reveal_opens_its_commitment() {
		let (reveal, outcome) = fixed_reveal();
		assert_eq!(reveal.result_digest, outcome.result_digest());
		let who = chain::account("//Provider//0");
		let a = attestation::commitment(&reveal.attestation(3, 0), &reveal.salt, &who);
		assert_ne!(a, attestation::commitment(&reveal.attestation(3, 1), &reveal.salt, &who));
	}
}

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
//! From the assignments seen at each block it counts the replicas drawn there (new
//! assignments) and the replicas completed there (assignments gone after a reveal), and writes
//! the medians over the blocks where the queue kept the assignment hook busy.

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
	#[arg(long, default_value_t = 2_400)]
	jobs: u32,
	/// Blocks to follow once the first replica is drawn.
	#[arg(long, default_value_t = 40)]
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
	/// Replicas first seen assigned at this block.
	assigned: u32,
	/// Replicas whose assignment ended at this block after their reveal.
	completed: u32,
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

	/// Reads the assignments at block `hash`, commits on the new ones and reveals where reveals
	/// opened (and heartbeats when asked). Returns the replicas it was newly drawn for and the
	/// ones that ended after its reveal.
	async fn play(
		&mut self,
		client: &ChainClient,
		hash: H256,
		era: (BlockNumber, H256),
		heartbeat: bool,
		reveal: &Reveal,
		outcome: RunOutcome,
	) -> Result<(u32, u32)> {
		let who = self.account.signer.account().clone();
		let views = client.assignments(&who, Some(hash)).await?;
		let now: BTreeSet<(JobId, u32)> = views.iter().map(|v| (v.job, v.wave)).collect();
		let assigned = now.difference(&self.seen).count() as u32;
		let completed = self
			.seen
			.difference(&now)
			.filter(|(job, _)| self.revealed.contains(job))
			.count() as u32;
		self.seen = now;
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
		Ok((assigned, completed))
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
		let number = header.number()?;
		if number <= last_number {
			continue;
		}
		last_number = number;
		let Some(hash) = client.block_hash(number).await? else { continue };
		let era = client.finalized_head().await?;
		let now_session = client.session_index(Some(hash)).await?;
		let heartbeat = now_session != session;
		session = now_session;
		let played = join_all(
			players
				.iter_mut()
				.map(|p| p.play(&client, hash, era, heartbeat, &reveal, outcome)),
		)
		.await;
		let mut count = BlockCount { number, ..Default::default() };
		for r in played {
			let (assigned, completed) = r?;
			count.assigned += assigned;
			count.completed += completed;
		}
		if count.assigned > 0 && since_first.is_none() {
			since_first = Some(0);
		}
		if let Some(n) = since_first.as_mut() {
			*n += 1;
		}
		println!(
			"block {number}: {} replicas drawn, {} completed ({:.0} s)",
			count.assigned,
			count.completed,
			started.elapsed().as_secs_f64()
		);
		counts.push(count);
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
	let assigned = median(window.iter().map(|c| c.assigned).collect());
	let completed = mean(window.iter().map(|c| c.completed).collect());
	let total_completed: u32 = counts.iter().map(|c| c.completed).sum();
	println!(
		"over {} busy blocks: {assigned} drawn (median), {completed} completed (mean)",
		window.len()
	);
	write_figures(&args, &counts, window, assigned, completed, total_completed, started)?;
	Ok(())
}

fn write_figures(
	args: &Args,
	counts: &[BlockCount],
	window: &[BlockCount],
	assigned: u32,
	completed: u32,
	total_completed: u32,
	started: Instant,
) -> Result<()> {
	use serde_json::{json, Map, Value};
	let command = "bash scripts/bench-replicas.sh";
	let per_block: Vec<Value> = counts
		.iter()
		.map(|c| json!({ "block": c.number, "assigned": c.assigned, "completed": c.completed }))
		.collect();
	let existing = std::fs::read_to_string(&args.json).unwrap_or_default();
	let mut out: Map<String, Value> = serde_json::from_str::<Value>(&existing)
		.ok()
		.and_then(|v| v.as_object().cloned())
		.unwrap_or_default();
	out.insert("replicas_assigned_per_block".into(), json!(assigned));
	out.insert("replicas_completed_per_block".into(), json!(completed));
	out.insert(
		"replicas".into(),
		json!({
			"generated_by": command,
			"node": "povm-node --dev (fast-runtime: 3 s blocks), one validator",
			"providers": args.providers,
			"slots_per_provider": SLOTS,
			"replicas_per_job": REPLICAS,
			"jobs": args.jobs,
			"busy_blocks": window.len(),
			"replicas_completed_total": total_completed,
			"wall_seconds": started.elapsed().as_secs(),
			"per_block": per_block,
			"note": "over the blocks where the queue kept the assignment hook busy: drawn the \
				median, completed the mean; \
				providers committed as soon as drawn and revealed as soon as reveals opened \
				(no container ran)",
		}),
	);
	// Every figure the issue names is now measured.
	out.remove("not_measured");
	std::fs::write(
		&args.json,
		format!("{}\n", serde_json::to_string_pretty(&Value::Object(out))?),
	)?;

	let mut md = String::new();
	md.push_str("# Replicas per block on a real node (issue 13)\n\n");
	md.push_str(&format!(
		"Generated by `{command}` on a fresh `povm-node --dev` (fast-runtime: 3 s blocks; one \
		 validator). {} providers (`//Provider//i`, {SLOTS} slots each, the smallest bond) \
		 registered and heartbeat; the six dev accounts submitted {} jobs of {REPLICAS} \
		 replicas each as fast as the pool took them, while the providers played. At every block each provider read its assignments \
		 at that block, committed as soon as it was drawn and revealed as soon as reveals \
		 opened, all to one fixed result (no container ran: the chain is the only bound).\n\n",
		args.providers, args.jobs
	));
	md.push_str(&format!(
		"Over the {} blocks where the queue kept the assignment hook busy: **{assigned} \
		 replicas drawn per block** (median), **{completed} replicas completed per block** \
		 (mean: completions come in bursts, a job's with its last reveal, and a session-change \
		 block carries no transaction); goal ≥ 500. {total_completed} replicas completed in \
		 all.\n\n",
		window.len()
	));
	md.push_str("| block | drawn | completed |\n|---:|---:|---:|\n");
	for c in counts {
		md.push_str(&format!("| {} | {} | {} |\n", c.number, c.assigned, c.completed));
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

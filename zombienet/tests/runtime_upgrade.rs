//! Issue 15's live runtime upgrade: a network started on an earlier runtime is upgraded to the
//! node's own runtime while jobs are in flight, and nothing is lost.
//!
//! `upgrade.toml`: two validators of the `local` chain whose genesis runtime is the committed
//! baseline (spec 102, `runtime/upgrades/spec-102`), and three providers' workers, the same
//! `povm-worker` binary the other tests run. Then:
//!
//! 1. six coin-flip jobs are submitted by Bob and Charlie; as soon as a replica's commitment is
//!    in a block, while later jobs are still being submitted, `//Alice` (the `local` chain's
//!    sudo key) sends `sudo(system.set_code(the node's runtime))`, so the upgrade block lands
//!    with jobs queued, assigned and revealing. The state at that block, the one the
//!    migrations start from, is saved for the runtime's try-runtime test
//!    (`$CARGO_TARGET_DIR/tmp/upgrade/state-at-upgrade.json`; a copy is committed as
//!    `runtime/upgrades/spec-102/state.json`);
//! 2. `sudo` reports `set_code` succeeded, at least one job was assigned or revealing at the
//!    upgrade block, and the next block (both read once finalised) runs the node's runtime:
//!    its `spec_version`, `System::LastRuntimeUpgrade` (102 at the upgrade block, the new
//!    spec after it) and the pallets' storage versions before and after the migrations;
//! 3. every job of step 1 completes with the tally a native run gives, and two jobs submitted
//!    after the upgrade complete too, run by the same worker processes, none restarted;
//! 4. both validators finalise well past the upgrade block.
//!
//! The timeline (seconds, blocks, what happened) is printed and written to
//! `$CARGO_TARGET_DIR/tmp/upgrade/timeline.md` and `timeline.json`.

use std::{
	path::PathBuf,
	time::{Duration, Instant},
};

use anyhow::{bail, Context};
use povm_network_tests::{
	chain_spec::node_runtime_code, coinflip_image, node_binary, target_dir, Image, Network,
	NetworkDef, NodeHandle,
};
use povm_primitives::{JobState, RedundancyPolicy};
use povm_worker::{
	client::{Call, ChainClient},
	prelude::*,
};

use povm_network_tests::chain::*;

/// The baseline runtime's `spec_version` (`runtime/upgrades/spec-102`).
const BASELINE_SPEC: u32 = 102;

/// Each pallet's storage version on the baseline and after the node's runtime's migrations
/// (`runtime/src/lib.rs`, `Migrations`): vm-proof 3 → 8 (slot holds, then reveals with an
/// outcome: spec 108; long jobs; the draw index: spec 113; work credited to the lottery's ledger:
/// spec 115), vrf-lottery 1 → 3 (ranked claims; the ticket ledger's pruning cursor: spec 115) and
/// job-queue 1 → 3 (the job spec of spec 107: jobs in flight are rewritten; then the queue by
/// price level of spec 110) run on the baseline's state.
const STORAGE_VERSIONS: [(&str, u16, u16); 3] =
	[("VmProof", 3, 8), ("VrfLottery", 1, 3), ("JobQueue", 1, 4)];

/// Flips per job: a few seconds of work, so that replicas are still running or revealing when
/// the upgrade lands.
const FLIPS: u64 = 100_000_000;

/// A worker's count of `commit_result` transactions in a block.
const COMMIT_IN_BLOCK: &str =
	"povm_worker_submissions_total{call=\"commit_result\",outcome=\"in_block\"}";

const MIN2_MAX3: RedundancyPolicy =
	RedundancyPolicy { min_replicas: 2, max_replicas: 3, margin: 2 };

fn definition() -> NetworkDef {
	let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("upgrade.toml");
	NetworkDef::from_file(path).expect("upgrade.toml parses")
}

#[test]
fn a_chain_upgrades_to_this_runtime_with_jobs_in_flight() {
	let mut network = Network::start(definition()).unwrap_or_else(|e| panic!("start: {e}"));
	let rt = tokio::runtime::Runtime::new().unwrap();
	let result = rt.block_on(scenario(&mut network));
	if let Err(e) = result {
		panic!("{e:#}\n{}", network.failure_report());
	}
}

/// What happened when: seconds since the network was up, the best block, the event.
struct Timeline {
	start: Instant,
	rows: Vec<(f64, u64, String)>,
}

impl Timeline {
	fn note(&mut self, block: u64, what: impl Into<String>) {
		self.note_at(self.start.elapsed().as_secs_f64(), block, what);
	}

	fn note_at(&mut self, seconds: f64, block: u64, what: impl Into<String>) {
		let what = what.into();
		println!("[upgrade] {seconds:6.1} s  #{block:<4} {what}");
		self.rows.push((seconds, block, what));
	}

	fn json(&self) -> serde_json::Value {
		self.rows
			.iter()
			.map(|(seconds, block, what)| {
				serde_json::json!({ "seconds": (seconds * 10.0).round() / 10.0, "block": block, "event": what })
			})
			.collect()
	}

	/// The rows in time order (some are noted after later ones happened).
	fn markdown(&self) -> String {
		let mut rows: Vec<_> = self.rows.iter().collect();
		rows.sort_by(|a, b| a.0.total_cmp(&b.0));
		let mut text = String::from("| seconds | block | event |\n| ---: | ---: | --- |\n");
		for (seconds, block, what) in rows {
			text.push_str(&format!("| {seconds:.1} | #{block} | {what} |\n"));
		}
		text
	}
}

/// The `0x`-hex key of storage value `item` of pallet `pallet` (`twox128` of each).
fn value_key(pallet: &str, item: &str) -> String {
	let mut key = sp_io::hashing::twox_128(pallet.as_bytes()).to_vec();
	key.extend(sp_io::hashing::twox_128(item.as_bytes()));
	povm_worker::client::to_0x(&key)
}

/// Each job's state at `at`, counted by state name, and how many are open (assigned or
/// revealing).
async fn states_at(client: &ChainClient, jobs: &[(u64, JobId)], at: H256) -> (String, usize) {
	let mut counts: Vec<(String, usize)> = Vec::new();
	let mut open = 0;
	for (_, id) in jobs {
		let state = match client.job(*id, Some(at)).await {
			Ok(Some(view)) => {
				if matches!(view.state, JobState::Assigned | JobState::Revealing) {
					open += 1;
				}
				format!("{:?}", view.state)
			},
			Ok(None) => "not yet submitted".into(),
			Err(e) => format!("unreadable ({e})"),
		};
		match counts.iter_mut().find(|(s, _)| *s == state) {
			Some((_, n)) => *n += 1,
			None => counts.push((state, 1)),
		}
	}
	let summary = counts.iter().map(|(s, n)| format!("{n} {s}")).collect::<Vec<_>>().join(", ");
	(summary, open)
}

/// The raw value of storage `key` at block `at` on `node`.
fn storage_at(node: &NodeHandle, key: &str, at: &str) -> anyhow::Result<Option<Vec<u8>>> {
	let raw = node.rpc("state_getStorage", serde_json::json!([key, at]))?;
	Ok(raw
		.as_str()
		.map(|h| povm_worker::client::from_0x("storage value", h))
		.transpose()?)
}

/// The `spec_version` that `System::LastRuntimeUpgrade` records at block `at`.
fn last_runtime_upgrade(node: &NodeHandle, at: &str) -> anyhow::Result<Option<u32>> {
	let Some(bytes) = storage_at(node, &value_key("System", "LastRuntimeUpgrade"), at)? else {
		return Ok(None);
	};
	let spec = <codec::Compact<u32> as codec::Decode>::decode(&mut &bytes[..])?;
	Ok(Some(spec.0))
}

/// The on-chain storage version of `pallet` at block `at`.
fn storage_version(node: &NodeHandle, pallet: &str, at: &str) -> anyhow::Result<Option<u16>> {
	let bytes = storage_at(node, &value_key(pallet, ":__STORAGE_VERSION__:"), at)?;
	Ok(bytes.and_then(|b| Some(u16::from_le_bytes([*b.first()?, *b.get(1)?]))))
}

/// The hash of the canonical block `number` on `node`.
fn canonical_hash(node: &NodeHandle, number: u64) -> anyhow::Result<String> {
	let hash = node.rpc("chain_getBlockHash", serde_json::json!([number]))?;
	hash.as_str().map(str::to_string).with_context(|| format!("no block #{number}"))
}

/// Waits for job `id`'s verdict and checks it: completed, the tally a native run of `seed`
/// gives, no escrow left; returns the verdict's block.
async fn check_completed(
	client: &ChainClient,
	image: &Image,
	(seed, id): (u64, JobId),
) -> anyhow::Result<BlockNumber> {
	let (job, seen) = wait_settled(client, id, Duration::from_secs(600)).await;
	if job.state != JobState::Completed {
		bail!("job {id} ended {:?}: {job:?}", job.state);
	}
	let result = job.result.as_ref().context("a completed job has a result")?;
	if result.output.to_vec() != expected_tally(image, seed, FLIPS) {
		bail!(
			"job {id} accepted tally {:?}, a native run gives {:?}",
			String::from_utf8_lossy(&result.output),
			String::from_utf8_lossy(&expected_tally(image, seed, FLIPS))
		);
	}
	if job.budget != 0 {
		bail!("job {id} still holds {} of its escrow", job.budget);
	}
	Ok(verdict_block(client, id, seen).await.0)
}

async fn scenario(network: &mut Network) -> anyhow::Result<()> {
	let mut timeline = Timeline { start: Instant::now(), rows: Vec::new() };
	let image = coinflip_image()?;
	let code = node_runtime_code(&node_binary()?)?;
	let alice_url = network.node("alice").ws_url();
	let client = connect(&alice_url).await;
	let spec = network.node("alice").spec_version(None)?;
	if spec != BASELINE_SPEC {
		bail!("the network runs spec {spec}, not the baseline's {BASELINE_SPEC}");
	}
	let best = |network: &mut Network| network.node("alice").best_number().unwrap_or(0);
	timeline.note(best(network), format!("network up on spec {spec}, three workers registered"));

	// 1. Six jobs from Bob and Charlie; the upgrade as soon as a replica's commitment is in a
	// block, while the later jobs are still being submitted.
	let job = |seed: u64| coinflip_spec(&image, seed, FLIPS, MIN2_MAX3);
	let (bob, charlie) = (customer(&client, "//Bob"), customer(&client, "//Charlie"));
	let first = (1, submit(&bob, job(1)).await);
	timeline.note(best(network), format!("job {} submitted (finalised)", first.1));
	let net: &Network = network;
	let start = timeline.start;
	let more = async {
		let mut ids = Vec::new();
		for seed in 2..=6u64 {
			let who = if seed <= 3 { &bob } else { &charlie };
			ids.push((seed, submit(who, job(seed)).await));
		}
		ids
	};
	let upgrade = async {
		let committed = || {
			["eve", "ferdie", "stash"]
				.iter()
				.any(|w| net.worker(w).metric(COMMIT_IN_BLOCK).unwrap_or(0.0) >= 1.0)
		};
		wait_every(
			Duration::from_millis(500),
			Duration::from_secs(180),
			"a replica's commitment in a block",
			|| {
				let done = committed();
				async move { done.then_some(()) }
			},
		)
		.await?;
		let sent = (start.elapsed().as_secs_f64(), net.nodes[0].best_number()?);
		let sudo = customer(&client, "//Alice");
		// Until finalised: with two BABE authors the block that first includes it can be a
		// fork that is dropped (and its state discarded); the finalised one is the upgrade.
		let receipt = sudo
			.submit_final(&Call::SudoSetCode { code: code.clone() })
			.await
			.context("sudo(set_code) included and finalised")?;
		anyhow::Ok((sent, start.elapsed().as_secs_f64(), receipt))
	};
	let (more, upgrade) = futures_util::future::join(more, upgrade).await;
	let ((sent_at, sent_block), included_at, receipt) = upgrade?;
	timeline.note_at(
		sent_at,
		sent_block,
		"a replica's commitment is in a block: upgrade sent (sudo(system.set_code))",
	);
	let before: Vec<(u64, JobId)> = std::iter::once(first).chain(more).collect();
	timeline.note(best(network), "six jobs submitted (finalised)");
	let sudid = receipt
		.find_first::<povm_client::runtime::sudo::events::Sudid>()?
		.context("no Sudid event in the upgrade block")?;
	if let Err(e) = sudid.sudo_result {
		bail!("sudo(set_code) was included but set_code failed: {e:?}");
	}
	let header = client.header(receipt.block).await?.context("the upgrade block exists")?;
	let upgrade_block = u64::from(header.number()?);
	let (states, open) = states_at(&client, &before, receipt.block).await;
	if open == 0 {
		bail!("no job was assigned or revealing at the upgrade block: {states}");
	}
	timeline.note_at(
		included_at,
		upgrade_block,
		format!("upgrade block ({} bytes of code); jobs: {states}", code.len()),
	);

	// The state the migrations start from, for the runtime's try-runtime test.
	let block_hash = format!("{:?}", receipt.block);
	let pairs = network.node("alice").storage_pairs(&block_hash)?;
	let out = target_dir().join("tmp").join("upgrade");
	std::fs::create_dir_all(&out)?;
	let top: serde_json::Map<String, serde_json::Value> = pairs
		.into_iter()
		.filter(|(key, _)| key != "0x3a636f6465")
		.map(|(key, value)| (key, serde_json::Value::String(value)))
		.collect();
	let state = serde_json::json!({
		"specVersion": BASELINE_SPEC,
		"block": upgrade_block,
		"hash": block_hash,
		"note": "the state of runtime_upgrade.rs's network at its upgrade block, without :code",
		"top": top,
	});
	std::fs::write(out.join("state-at-upgrade.json"), serde_json::to_string_pretty(&state)?)?;
	timeline.note(upgrade_block, format!("state at the upgrade block saved ({} keys)", top.len()));

	// 2. The next block runs the node's runtime, its migrations done: read at the canonical
	// blocks N (the upgrade block, still executed by the baseline) and N + 1, once finalised.
	let alice = network.node("alice");
	alice.wait_for(
		"the block after the upgrade to be finalised",
		Duration::from_secs(120),
		|n| Ok(n.finalized_number()? > upgrade_block),
	)?;
	let (at_upgrade, after_upgrade) =
		(canonical_hash(alice, upgrade_block)?, canonical_hash(alice, upgrade_block + 1)?);
	if at_upgrade != block_hash {
		bail!(
			"the upgrade block #{upgrade_block} {block_hash} was not finalised ({at_upgrade} was)"
		);
	}
	let node_spec = alice.spec_version(Some(&after_upgrade))?;
	if node_spec <= BASELINE_SPEC {
		bail!("block #{} still runs spec {node_spec}", upgrade_block + 1);
	}
	let recorded =
		(last_runtime_upgrade(alice, &at_upgrade)?, last_runtime_upgrade(alice, &after_upgrade)?);
	if recorded != (Some(BASELINE_SPEC), Some(node_spec)) {
		bail!("LastRuntimeUpgrade at #{upgrade_block} and the next block: {recorded:?}");
	}
	timeline.note(upgrade_block + 1, format!("first block on spec {node_spec}: migrations ran"));
	for (pallet, before, after) in STORAGE_VERSIONS {
		let versions = (
			storage_version(alice, pallet, &at_upgrade)?,
			storage_version(alice, pallet, &after_upgrade)?,
		);
		if versions != (Some(before), Some(after)) {
			bail!("{pallet}'s storage version at the upgrade block and the next: {versions:?}, not {before} and {after}");
		}
	}
	timeline.note(
		upgrade_block + 1,
		"storage versions: VmProof 3 → 8, VrfLottery 1 → 3, JobQueue 1 → 4",
	);

	// 3. Every job completes; two more after the upgrade, by the same workers.
	let mut last_verdict = 0;
	for job in &before {
		let verdict = check_completed(&client, &image, *job).await?;
		timeline.note(
			u64::from(verdict),
			format!("job {} completed (submitted before the upgrade)", job.1),
		);
		last_verdict = last_verdict.max(verdict);
	}
	let customer = customer(&client, "//Dave");
	let mut after = Vec::new();
	for seed in 7..=8u64 {
		after.push((seed, submit(&customer, coinflip_spec(&image, seed, FLIPS, MIN2_MAX3)).await));
	}
	timeline.note(best(network), "two jobs submitted after the upgrade");
	for job in &after {
		let verdict = check_completed(&client, &image, *job).await?;
		timeline.note(
			u64::from(verdict),
			format!("job {} completed (submitted after the upgrade)", job.1),
		);
		last_verdict = last_verdict.max(verdict);
	}
	for name in ["eve", "ferdie", "stash"] {
		if !network.worker_mut(name).is_running() {
			bail!("worker {name} exited across the upgrade");
		}
	}
	let incompatible: usize = ["eve", "ferdie", "stash"]
		.iter()
		.map(|name| network.worker(name).log().matches("incompatible").count())
		.sum();
	timeline.note(
		best(network),
		format!("the three worker processes ran throughout; 'incompatible' in their logs: {incompatible}"),
	);

	// 4. Both validators finalise past the upgrade and the last verdict.
	let target = u64::from(last_verdict).max(upgrade_block + 10);
	for name in ["alice", "bob"] {
		network.node(name).wait_for(
			"finality past the upgrade",
			Duration::from_secs(120),
			|n| Ok(n.finalized_number()? >= target),
		)?;
	}
	timeline.note(best(network), format!("alice and bob finalised #{target}"));

	let markdown = timeline.markdown();
	std::fs::write(out.join("timeline.md"), &markdown)?;
	std::fs::write(out.join("timeline.json"), serde_json::to_string_pretty(&timeline.json())?)?;
	println!("{markdown}");
	Ok(())
}

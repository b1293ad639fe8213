//! `povm-demo`: the end-to-end demo of PoVM chain on one machine.
//!
//! 1. a local chain of two validators (Alice, Bob) from `povm-node build-spec --chain local`
//!    with the session keys trimmed to theirs, on free loopback ports;
//! 2. three providers (`povm-worker run` as //Charlie, //Dave, //Eve), registered with a bond;
//! 3. a batch of coin-flip jobs submitted by //Alice (redundancy min 2, max 4, margin 2), with
//!    one progress line per state change read from finalised blocks;
//! 4. a summary read from chain state only (`PovmJobsApi_job`, `Timestamp::Now`,
//!    `VrfLotteryApi_*`, `Session::Validators`);
//! 5. everything it started is stopped on success, failure or Ctrl-C.
//!
//! Exit codes: 0 all jobs completed; 1 a job failed/disputed/expired, the chain stalled (no
//! finalised block for 60 s) or the set-up failed; 130 interrupted.

use std::{
	collections::BTreeMap,
	net::TcpListener,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	sync::Arc,
	time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use codec::{Decode, Encode};
use futures_util::future::join_all;
use povm_primitives::{JobState, RedundancyPolicy, Resources};
use povm_worker::{
	client::{ChainClient, Submitter},
	prelude::*,
	prometheus::Metrics,
	signer::Signer,
	tx::Call,
};
use sp_core::crypto::Ss58Codec;

/// A chain that finalises nothing for this long is stuck.
const STALL: Duration = Duration::from_secs(60);

#[derive(Parser, Debug)]
#[command(name = "povm-demo", about = "End-to-end demo: 2 validators, 3 providers, a batch of coin-flip jobs")]
struct Opt {
	/// Number of coin-flip jobs.
	#[arg(long, default_value_t = 5)]
	jobs: u32,
	/// Flips per job.
	#[arg(long, default_value_t = 200_000_000)]
	flips: u32,
	/// The coin-flip image id (`sha256:<hex>`, as printed by jobs/coinflip/build-image.sh).
	#[arg(long, env = "POVM_DEMO_IMAGE")]
	image: String,
	/// Directory holding `<hex>.tar` of the image.
	#[arg(long, env = "POVM_DEMO_IMAGE_DIR")]
	image_dir: PathBuf,
	/// The node binary.
	#[arg(long, env = "POVM_NODE")]
	node: PathBuf,
	/// The worker binary (default: `povm-worker` beside this program).
	#[arg(long, env = "POVM_WORKER")]
	worker: Option<PathBuf>,
	/// Provider bond in plancks.
	#[arg(long, default_value_t = 1_000 * 10u128.pow(12))]
	bond: u128,
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

/// Processes the demo started; stopped (SIGINT, then SIGKILL) when dropped.
#[derive(Default)]
struct Procs(Vec<(String, Child)>);

impl Procs {
	fn stop_all(&mut self) {
		// Workers first (they may be mid-container), then nodes; all get SIGINT at once.
		for (_, c) in self.0.iter_mut().rev() {
			let _ = Command::new("kill").args(["-INT", &c.id().to_string()]).status();
		}
		let deadline = Instant::now() + Duration::from_secs(20);
		for (name, c) in self.0.iter_mut().rev() {
			loop {
				match c.try_wait() {
					Ok(Some(_)) | Err(_) => break,
					Ok(None) if Instant::now() > deadline => {
						let _ = c.kill();
						let _ = c.wait();
						eprintln!("   killed {name}");
						break;
					},
					Ok(None) => std::thread::sleep(Duration::from_millis(100)),
				}
			}
		}
		self.0.clear();
	}
}

impl Drop for Procs {
	fn drop(&mut self) {
		self.stop_all();
	}
}

fn free_port() -> Result<u16> {
	Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn log_file(path: &Path) -> Result<std::fs::File> {
	std::fs::OpenOptions::new()
		.create(true)
		.append(true)
		.open(path)
		.with_context(|| format!("open {}", path.display()))
}

fn account(uri: &str) -> AccountId {
	Signer::from_uri(uri).expect("dev uri").account().clone()
}

const PROVIDERS: [(&str, &str); 3] = [("charlie", "//Charlie"), ("dave", "//Dave"), ("eve", "//Eve")];

fn names() -> BTreeMap<AccountId, &'static str> {
	let mut m: BTreeMap<AccountId, &'static str> = PROVIDERS.iter().map(|(n, u)| (account(u), *n)).collect();
	m.insert(account("//Alice"), "alice");
	m.insert(account("//Bob"), "bob");
	m
}

fn name_of(names: &BTreeMap<AccountId, &'static str>, who: &AccountId) -> String {
	names.get(who).map(|s| s.to_string()).unwrap_or_else(|| who.to_ss58check())
}

/// UNIT = 10^12 plancks.
fn units(p: Balance) -> String {
	format!("{}.{:06}", p / 10u128.pow(12), (p % 10u128.pow(12)) / 10u128.pow(6))
}

fn storage_key(pallet: &str, item: &str) -> Vec<u8> {
	let mut k = sp_io::hashing::twox_128(pallet.as_bytes()).to_vec();
	k.extend(sp_io::hashing::twox_128(item.as_bytes()));
	k
}

async fn timestamp(client: &ChainClient, at: H256) -> Result<u64> {
	let raw = client.storage(&storage_key("Timestamp", "Now"), Some(at)).await?;
	Ok(raw.map(|b| u64::decode(&mut &b[..])).transpose()?.unwrap_or(0))
}

async fn next_job_id(client: &ChainClient, at: Option<H256>) -> Result<JobId> {
	let raw = client.storage(&storage_key("JobQueue", "NextJobId"), at).await?;
	Ok(raw.map(|b| u64::decode(&mut &b[..])).transpose()?.unwrap_or(0))
}

/// `VrfLotteryApi` views, decoded with local mirrors of the pallet's SCALE layouts.
#[derive(Decode, Debug)]
struct OutcomeView {
	epoch: u32,
	winners: Vec<AccountId>,
	payout: Balance,
	validators: Option<Vec<AccountId>>,
}

#[derive(Decode, Debug)]
struct DrawInfo {
	epoch: u32,
	work_epoch: u32,
	_seed: [u8; 32],
	total_tickets: u128,
	providers: u32,
	expected_winners: u32,
	winners: u32,
	opened_at: BlockNumber,
}

/// The prefix of `ProviderView` (epoch, tickets, threshold); the rest is not needed.
#[derive(Decode, Debug)]
struct ProviderTickets {
	_epoch: u32,
	tickets: u64,
	_threshold: u128,
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

async fn connect(url: &str, within: Duration) -> Result<Arc<ChainClient>> {
	let deadline = Instant::now() + within;
	loop {
		match ChainClient::connect(url, Duration::from_secs(20), Arc::new(Metrics::new())).await {
			Ok(c) => return Ok(Arc::new(c)),
			Err(e) if Instant::now() > deadline => bail!("node at {url} not up: {e}"),
			Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
		}
	}
}

/// Waits until the finalised head reaches `n`; errors after `STALL` without progress.
async fn wait_finalized(client: &ChainClient, n: BlockNumber, what: &str) -> Result<(BlockNumber, H256)> {
	let mut last = (0, H256::zero());
	let mut since = Instant::now();
	loop {
		if let Ok(head) = client.finalized_head().await {
			if head.0 >= n {
				return Ok(head);
			}
			if head.0 > last.0 {
				last = head;
				since = Instant::now();
			}
		}
		if since.elapsed() > STALL {
			bail!("chain stuck: no finalised block for {}s while {what} (finalised #{})", STALL.as_secs(), last.0);
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

struct Demo {
	opt: Opt,
	dir: PathBuf,
	procs: Procs,
}

impl Demo {
	fn node(&mut self, name: &str, spec: &Path, rpc: u16, p2p: u16, ip: &str, key: u8, boot: Option<&str>) -> Result<()> {
		let mut cmd = Command::new(&self.opt.node);
		cmd.arg("--chain")
			.arg(spec)
			.arg("--base-path")
			.arg(self.dir.join(name))
			.args(["--name", name, &format!("--{name}"), "--validator"])
			.args(["--rpc-port", &rpc.to_string()])
			.args(["--listen-addr", &format!("/ip4/{ip}/tcp/{p2p}")])
			.args(["--public-addr", &format!("/ip4/{ip}/tcp/{p2p}")])
			.args(["--discover-local", "--allow-private-ip", "--no-mdns", "--no-telemetry", "--no-prometheus"])
			.args(["--node-key", &format!("{key:064x}")])
			.stdout(Stdio::null())
			.stderr(log_file(&self.dir.join(format!("{name}.log")))?);
		if let Some(b) = boot {
			cmd.args(["--bootnodes", b]);
		}
		// The node occasionally dies at start-up (wasmtime: "cannot add seals to the memfd:
		// Device or resource busy" under a busy machine); start it again then.
		for attempt in 1..=3 {
			let mut child = cmd.spawn().with_context(|| format!("start {}", self.opt.node.display()))?;
			let deadline = Instant::now() + Duration::from_secs(60);
			loop {
				if let Ok(Some(status)) = child.try_wait() {
					eprintln!("   node {name} exited at start-up ({status}), attempt {attempt} of 3");
					break;
				}
				if std::net::TcpStream::connect(("127.0.0.1", rpc)).is_ok() {
					self.procs.0.push((format!("node {name}"), child));
					return Ok(());
				}
				if Instant::now() > deadline {
					let _ = child.kill();
					let _ = child.wait();
					bail!("node {name}: RPC not up in 60 s; see {}", self.dir.join(format!("{name}.log")).display());
				}
				std::thread::sleep(Duration::from_millis(200));
			}
			cmd.stderr(log_file(&self.dir.join(format!("{name}.log")))?);
		}
		bail!("node {name} failed to start 3 times; see {}", self.dir.join(format!("{name}.log")).display())
	}

	fn worker_cmd(&self, name: &str, uri: &str, args: &[&str], log: &str) -> Result<Command> {
		let worker = match &self.opt.worker {
			Some(w) => w.clone(),
			None => std::env::current_exe()?.with_file_name("povm-worker"),
		};
		let mut cmd = Command::new(worker);
		cmd.arg("--config")
			.arg(self.dir.join(name).join("worker.toml"))
			.args(args)
			.env("POVM_DEMO_PROVIDER_KEY", uri)
			.env("RUST_LOG", "info")
			.stdout(Stdio::piped())
			.stderr(log_file(&self.dir.join(name).join(log))?);
		Ok(cmd)
	}

	fn provider_config(&self, name: &str, node_port: u16, metrics_port: u16) -> Result<()> {
		let d = self.dir.join(name);
		std::fs::create_dir_all(&d)?;
		let config = format!(
			r#"node_url = "ws://127.0.0.1:{node_port}"
key_env = "POVM_DEMO_PROVIDER_KEY"
image_dir = "{image_dir}"
state_dir = "{state}"
metrics_addr = "127.0.0.1:{metrics_port}"
slots = 2
heartbeat_every = 3
bond = "{bond}"
shutdown_grace_secs = 10
instance = "povm-demo-{name}-{pid}"
[offer]
millicores = 1000
memory_mib = 512
"#,
			image_dir = self.opt.image_dir.display(),
			state = d.join("state").display(),
			bond = self.opt.bond,
			pid = std::process::id(),
		);
		std::fs::write(d.join("worker.toml"), config)?;
		Ok(())
	}
}

/// What the demo saw of one job.
#[derive(Default, Clone)]
struct Track {
	seed: u64,
	submitted: Option<(BlockNumber, H256)>,
	state: Option<JobState>,
	finished: Option<(BlockNumber, H256)>,
	providers: usize,
}

async fn run(demo: &mut Demo, out: &mut Out) -> Result<bool> {
	let names = names();
	// --- 1. the chain -----------------------------------------------------------------------
	let raw = Command::new(&demo.opt.node)
		.args(["build-spec", "--chain", "local", "--disable-default-bootnode"])
		.stderr(Stdio::null())
		.output()
		.context("povm-node build-spec")?;
	if !raw.status.success() {
		bail!("povm-node build-spec failed");
	}
	let mut spec: serde_json::Value = serde_json::from_slice(&raw.stdout)?;
	let keep = [account("//Alice").to_ss58check(), account("//Bob").to_ss58check()];
	let keys = spec
		.pointer_mut("/genesis/runtimeGenesis/patch/session/keys")
		.and_then(|k| k.as_array_mut())
		.ok_or_else(|| anyhow!("no genesis.runtimeGenesis.patch.session.keys in the local spec"))?;
	keys.retain(|k| k.get(0).and_then(|a| a.as_str()).is_some_and(|a| keep.iter().any(|x| x == a)));
	if keys.len() != 2 {
		bail!("expected Alice's and Bob's session keys in the local spec, found {}", keys.len());
	}
	let spec_path = demo.dir.join("local-2.json");
	std::fs::write(&spec_path, serde_json::to_vec_pretty(&spec)?)?;

	let (alice_rpc, bob_rpc) = (free_port()?, free_port()?);
	let (alice_p2p, bob_p2p) = (free_port()?, free_port()?);
	demo.node("alice", &spec_path, alice_rpc, alice_p2p, "127.0.0.1", 1, None)?;
	let alice_url = format!("ws://127.0.0.1:{alice_rpc}");
	let alice = connect(&alice_url, Duration::from_secs(60)).await?;
	let peer: String = alice.request("system_localPeerId", jsonrpsee::rpc_params![]).await?;
	let boot = format!("/ip4/127.0.0.1/tcp/{alice_p2p}/p2p/{peer}");
	demo.node("bob", &spec_path, bob_rpc, bob_p2p, "127.0.0.1", 2, Some(&boot))?;
	let bob = connect(&format!("ws://127.0.0.1:{bob_rpc}"), Duration::from_secs(60)).await?;
	out.line(format!(
		"chain: alice rpc ws://127.0.0.1:{alice_rpc}, bob rpc ws://127.0.0.1:{bob_rpc} (bootnode {boot})"
	));
	let (n, _) = wait_finalized(&alice, 1, "waiting for the first finalised block").await?;
	let peers: serde_json::Value = bob.request("system_health", jsonrpsee::rpc_params![]).await?;
	out.line(format!("chain: finalising (#{n}); bob health {peers}"));

	// --- 2. the providers -------------------------------------------------------------------
	let mut metrics_ports = Vec::new();
	for (i, (name, uri)) in PROVIDERS.iter().enumerate() {
		// Spread the providers over both nodes.
		let port = if i == 1 { bob_rpc } else { alice_rpc };
		let m = free_port()?;
		demo.provider_config(name, port, m)?;
		metrics_ports.push(m);
		let o = demo.worker_cmd(name, uri, &["register"], "register.log")?.output()?;
		if !o.status.success() {
			bail!(
				"povm-worker register failed for {name}; see {}",
				demo.dir.join(name).join("register.log").display()
			);
		}
		out.line(format!("provider {name}: {}", String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").trim()));
		let child = demo.worker_cmd(name, uri, &["run"], "run.log")?.spawn()?;
		demo.procs.0.push((format!("worker {name}"), child));
	}
	// Heartbeats: the record is active and shows one for the current epoch.
	let deadline = Instant::now() + Duration::from_secs(120);
	loop {
		let (_, at) = alice.finalized_head().await?;
		let epoch = alice.session_index(Some(at)).await?;
		let mut ok = 0;
		for (_, uri) in PROVIDERS {
			if let Some(r) = alice.provider(&account(uri), Some(at)).await? {
				if r.last_heartbeat >= epoch {
					ok += 1;
				}
			}
		}
		if ok == PROVIDERS.len() {
			out.line(format!("providers: all 3 registered and live (heartbeat for epoch {epoch})"));
			break;
		}
		if Instant::now() > deadline {
			bail!("providers: only {ok} of 3 show a heartbeat for epoch {epoch}; see the workers' run.log");
		}
		tokio::time::sleep(Duration::from_secs(2)).await;
	}

	// --- 3. the jobs ------------------------------------------------------------------------
	let (start_block, start_hash) = alice.finalized_head().await?;
	let first_id = next_job_id(&alice, Some(start_hash)).await?;
	let submitter = Submitter::new(alice.clone(), Signer::from_uri("//Alice")?, 0, 64, Duration::from_secs(90));
	let b = |s: &str| -> Vec<u8> { s.as_bytes().to_vec() };
	let mut seeds = Vec::new();
	let mut calls = Vec::new();
	for j in 0..demo.opt.jobs {
		let seed = 1000 + u64::from(j) * 7919;
		seeds.push(seed);
		let args: Vec<String> = vec![
			"--seed".into(),
			seed.to_string(),
			"--flips".into(),
			demo.opt.flips.to_string(),
			"--checkpoint-every".into(),
			(demo.opt.flips / 4).max(1).to_string(),
		];
		let spec = JobSpec {
			image: b(&demo.opt.image).try_into().map_err(|_| anyhow!("image ref too long"))?,
			command: b("/coinflip").try_into().unwrap(),
			args: args
				.iter()
				.map(|a| b(a).try_into().unwrap())
				.collect::<Vec<_>>()
				.try_into()
				.map_err(|_| anyhow!("too many args"))?,
			env: Default::default(),
			input: None,
			resources: Resources { millicores: 500, memory_mib: 64, max_seconds: demo.opt.max_seconds },
			price_per_second: 1_000_000_000,
			redundancy: RedundancyPolicy { min_replicas: 2, max_replicas: 4, margin: 2 },
			checkpoint_interval: 0,
		};
		calls.push(Call::SubmitJob { spec: Box::new(spec), budget: 10u128.pow(15) });
	}
	out.line(format!(
		"jobs: alice submits {} coin-flip jobs ({} flips, redundancy min 2 / max 4 / margin 2, max {} s) at finalised #{start_block}",
		calls.len(),
		demo.opt.flips,
		demo.opt.max_seconds
	));
	let results = join_all(calls.iter().map(|c| submitter.submit(c))).await;
	for r in results {
		r.context("submit_job")?;
	}
	// Our jobs: Alice's ids from `first_id` on, matched to seeds through their args.
	let mut tracks: BTreeMap<JobId, Track> = BTreeMap::new();
	let deadline = Instant::now() + Duration::from_secs(60);
	while tracks.len() < seeds.len() {
		let next = next_job_id(&alice, None).await?;
		for id in first_id..next {
			if tracks.contains_key(&id) {
				continue;
			}
			if let Some(v) = alice.job(id, None).await? {
				let args: Vec<String> =
					v.spec.args.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect();
				let seed = args.iter().position(|a| a == "--seed").and_then(|i| args.get(i + 1)).and_then(|s| s.parse().ok());
				if v.owner == account("//Alice") {
					if let Some(seed) = seed.filter(|s| seeds.contains(s)) {
						tracks.insert(id, Track { seed, ..Default::default() });
					}
				}
			}
		}
		if Instant::now() > deadline {
			bail!("only {} of {} submitted jobs found on chain", tracks.len(), seeds.len());
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
	out.line(format!("jobs: ids {:?}", tracks.keys().collect::<Vec<_>>()));

	// Follow every finalised block from the start, reading each job's state at that block.
	let mut scanned = start_block;
	let mut since = Instant::now();
	let overall = Instant::now() + Duration::from_secs(900);
	while tracks.values().any(|t| t.finished.is_none()) {
		let (head, _) = alice.finalized_head().await?;
		if head > scanned {
			since = Instant::now();
		}
		while scanned < head {
			scanned += 1;
			let hash = alice.block_hash(scanned).await?.ok_or_else(|| anyhow!("no block #{scanned}"))?;
			for (id, t) in tracks.iter_mut().filter(|(_, t)| t.finished.is_none()) {
				let Some(v) = alice.job(*id, Some(hash)).await? else { continue };
				if t.submitted.is_none() {
					t.submitted = Some((scanned, hash));
				}
				if t.state != Some(v.state) || t.providers != v.providers.len() {
					let who: Vec<String> = v.providers.iter().map(|p| name_of(&names, p)).collect();
					out.line(format!(
						"  #{scanned:<5} job {id:<3} {:<10} providers [{}]",
						format!("{:?}", v.state),
						who.join(", ")
					));
					t.state = Some(v.state);
					t.providers = v.providers.len();
				}
				if !v.state.is_open() {
					t.finished = Some((scanned, hash));
				}
			}
		}
		if since.elapsed() > STALL {
			bail!("chain stuck: no finalised block for {}s (finalised #{scanned})", STALL.as_secs());
		}
		if Instant::now() > overall {
			bail!("jobs not finished within 15 minutes");
		}
		tokio::time::sleep(Duration::from_secs(1)).await;
	}

	// --- 4. the summary, from chain state ---------------------------------------------------
	out.line(String::new());
	out.line("## Jobs (read from PovmJobsApi_job at the block each job finished)".to_string());
	out.line(String::new());
	out.line("| job | seed | verdict | tally (on-chain output) | replicas | paid to | CPU / wall (s) | energy (Wh) | gCO2e | submit→final |".to_string());
	out.line("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |".to_string());
	let mut all_ok = true;
	let (mut tot_e, mut tot_c, mut tot_paid) = (0u64, 0u64, 0u128);
	let mut payouts: BTreeMap<String, Balance> = BTreeMap::new();
	for (id, t) in &tracks {
		let (fin_n, fin_h) = t.finished.unwrap();
		let (sub_n, sub_h) = t.submitted.unwrap();
		let v = alice.job(*id, Some(fin_h)).await?.ok_or_else(|| anyhow!("job {id} gone"))?;
		let secs = (timestamp(&alice, fin_h).await?.saturating_sub(timestamp(&alice, sub_h).await?)) as f64 / 1000.0;
		let replicas: Vec<String> = v.providers.iter().map(|p| name_of(&names, p)).collect();
		let usage = v.result.as_ref().map(|r| format!("{:.2} / {:.2}", r.usage.cpu_ms as f64 / 1e3, r.usage.wall_ms as f64 / 1e3)).unwrap_or_else(|| "-".into());
		let (tally, paid, e, c) = match &v.result {
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
					r.footprint.energy_uwh,
					r.footprint.carbon_ug,
				)
			},
			None => ("-".into(), "-".into(), 0, 0),
		};
		tot_e += e;
		tot_c += c;
		if v.state != JobState::Completed {
			all_ok = false;
		}
		out.line(format!(
			"| {id} | {} | {:?} | `{tally}` | {} ({}) | {paid} | {usage} | {:.6} | {:.6} | {secs:.0} s (#{sub_n}→#{fin_n}) |",
			t.seed,
			v.state,
			replicas.len(),
			replicas.join(", "),
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
	let (_, head) = alice.finalized_head().await?;
	for (name, uri) in PROVIDERS {
		if let Some(r) = alice.provider(&account(uri), Some(head)).await? {
			out.line(format!("  provider {name}: agreed {}/{} verdicts, bond {} UNIT", r.agreed, r.total, units(r.bond)));
		}
	}

	// --- the lottery: wait for the next session boundary, which opens a draw with tickets
	// from the verified VM time, then show the draw, the last outcome and the validators.
	out.line(String::new());
	out.line("## Lottery and validators".to_string());
	out.line(String::new());
	let epoch0 = alice.session_index(Some(head)).await?;
	let wait = Instant::now() + Duration::from_secs(150);
	let mut at;
	let mut last_n = 0;
	let mut since = Instant::now();
	loop {
		let (n, h) = alice.finalized_head().await?;
		at = h;
		if n > last_n {
			last_n = n;
			since = Instant::now();
		}
		if alice.session_index(Some(h)).await? > epoch0 || Instant::now() > wait {
			break;
		}
		if since.elapsed() > STALL {
			bail!("chain stuck: no finalised block for {}s (finalised #{n})", STALL.as_secs());
		}
		tokio::time::sleep(Duration::from_secs(2)).await;
	}
	let epoch = alice.session_index(Some(at)).await?;
	out.line(format!("session (epoch) {epoch} at finalised #{last_n}"));
	match alice.state_call("VrfLotteryApi_current_draw", &[], Some(at)).await {
		Ok(raw) => match Option::<DrawInfo>::decode(&mut &raw[..]) {
			Ok(Some(d)) => out.line(format!(
				"open draw: epoch {}, work of epoch {}, {} providers, {} tickets, {} expected winners, {} claimed so far, opened at #{}",
				d.epoch, d.work_epoch, d.providers, d.total_tickets, d.expected_winners, d.winners, d.opened_at
			)),
			Ok(None) => out.line("open draw: none".to_string()),
			Err(e) => out.line(format!("open draw: undecodable ({e})")),
		},
		Err(e) => out.line(format!("lottery API unavailable: {e}")),
	}
	for (name, uri) in PROVIDERS {
		if let Ok(raw) = alice.state_call("VrfLotteryApi_provider", &account(uri).encode(), Some(at)).await {
			if let Ok(p) = ProviderTickets::decode(&mut &raw[..]) {
				out.line(format!("  tickets {name}: {}", p.tickets));
			}
		}
	}
	if let Ok(raw) = alice.state_call("VrfLotteryApi_last_outcome", &[], Some(at)).await {
		match Option::<OutcomeView>::decode(&mut &raw[..]) {
			Ok(Some(o)) => out.line(format!(
				"last outcome: epoch {}, winners [{}], payout {} UNIT each, planned validators {}",
				o.epoch,
				o.winners.iter().map(|w| name_of(&names, w)).collect::<Vec<_>>().join(", "),
				units(o.payout),
				match &o.validators {
					Some(v) => format!("[{}]", v.iter().map(|w| name_of(&names, w)).collect::<Vec<_>>().join(", ")),
					None => "none (the current set stays)".into(),
				}
			)),
			Ok(None) => out.line("last outcome: none yet (no draw closed with a claim)".to_string()),
			Err(e) => out.line(format!("last outcome: undecodable ({e})")),
		}
	}
	let validators: Vec<AccountId> = alice
		.storage(&storage_key("Session", "Validators"), Some(at))
		.await?
		.map(|b| Vec::<AccountId>::decode(&mut &b[..]))
		.transpose()?
		.unwrap_or_default();
	out.line(format!(
		"Session.Validators: [{}]",
		validators.iter().map(|w| name_of(&names, w)).collect::<Vec<_>>().join(", ")
	));
	if let Some(raw) = alice.storage(&storage_key("Session", "QueuedKeys"), Some(at)).await? {
		if let Ok(q) = Vec::<(AccountId, [u8; 64])>::decode(&mut &raw[..]) {
			out.line(format!(
				"next set (Session.QueuedKeys): [{}]",
				q.iter().map(|(w, _)| name_of(&names, w)).collect::<Vec<_>>().join(", ")
			));
		}
	}
	Ok(all_ok)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
	let opt = Opt::parse();
	let dir = opt.dir.clone().unwrap_or_else(|| std::env::temp_dir().join(format!("povm-demo-{}", std::process::id())));
	if let Err(e) = std::fs::create_dir_all(&dir) {
		eprintln!("povm-demo: cannot create {}: {e}", dir.display());
		std::process::exit(1);
	}
	let keep = opt.keep;
	let markdown = opt.markdown.clone();
	println!("povm-demo: working directory {}", dir.display());
	let mut demo = Demo { opt, dir: dir.clone(), procs: Procs::default() };
	let mut out = Out(Vec::new());
	let began = Instant::now();
	let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
	let outcome = tokio::select! {
		r = run(&mut demo, &mut out) => Some(r),
		_ = tokio::signal::ctrl_c() => None,
		_ = term.recv() => None,
	};
	println!("povm-demo: stopping nodes and workers");
	demo.procs.stop_all();
	if let Some(path) = markdown {
		let _ = std::fs::write(&path, out.0.join("\n") + "\n");
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
			eprintln!("povm-demo: FAILED: a job did not complete (see the table); logs in {}", dir.display());
			1
		},
		Some(Ok(true)) => {
			println!("povm-demo: all jobs completed in {:.0} s", began.elapsed().as_secs_f64());
			if !keep {
				let _ = std::fs::remove_dir_all(&dir);
			}
			0
		},
	};
	std::process::exit(code);
}

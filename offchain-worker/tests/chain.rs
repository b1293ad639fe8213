//! End-to-end tests against a real node and a real Docker daemon.
//!
//! They need a `povm-node` built with the PoVM pallets in its runtime: the binary named by
//! `POVM_NODE`, else the release build in `$CARGO_TARGET_DIR` (or the workspace's `target/`).
//! Without one each test fails and says how to build it. The node runs `--dev` (Alice validates alone); Alice is
//! the customer, Bob (and Charlie, Dave) the providers, each test with its own node and ports.
//!
//! - `worker_registers_heartbeats_commits_reveals_and_the_job_completes`
//! - `worker_killed_between_commit_and_reveal_reveals_after_restart`
//! - `worker_survives_a_node_restart_mid_job`

mod common;

use std::{
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	sync::Arc,
	time::{Duration, Instant},
};

use povm_primitives::{AssignmentPhase, JobState, RedundancyPolicy, Resources};
use povm_worker::{
	client::{ChainClient, Submitter, TxOutcome},
	executor::Executor,
	prelude::*,
	prometheus::Metrics,
	signer::Signer,
	tx::Call,
};

/// Bond the test providers register with (override with `POVM_TEST_BOND`).
fn bond() -> Balance {
	std::env::var("POVM_TEST_BOND")
		.ok()
		.and_then(|b| b.parse().ok())
		.unwrap_or(1_000 * 10u128.pow(12))
}

/// The node binary: `$POVM_NODE`, else the release build in the target dir.
fn node_binary() -> Result<PathBuf, String> {
	if let Ok(p) = std::env::var("POVM_NODE") {
		return Ok(p.into());
	}
	let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| {
		PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("target")
	});
	let path = target.join("release").join("povm-node");
	if path.exists() {
		Ok(path)
	} else {
		Err(format!(
			"povm-node not found at {}: run `cargo build --release -p povm-node` or set POVM_NODE",
			path.display()
		))
	}
}

macro_rules! require_node {
	() => {
		match node_binary() {
			Ok(p) => p,
			Err(e) => panic!("{e}"),
		}
	};
}

/// Only one chain test at a time: each runs a node and Docker jobs on a small machine.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A running `povm-node --dev`.
struct Node {
	child: Child,
	bin: PathBuf,
	port: u16,
	base: Option<PathBuf>,
	log: PathBuf,
}

impl Node {
	fn start(bin: &Path, port: u16, base: Option<&Path>, log: &Path) -> Self {
		let mut node = Node {
			child: Command::new("true").spawn().unwrap(),
			bin: bin.to_owned(),
			port,
			base: base.map(Path::to_owned),
			log: log.to_owned(),
		};
		node.spawn();
		node
	}

	fn spawn(&mut self) {
		let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
		let mut cmd = Command::new(&self.bin);
		cmd.arg("--dev")
			.args(["--rpc-port", &self.port.to_string()])
			.args(["--port", &(self.port + 1000).to_string()])
			.args(["--no-prometheus", "--no-telemetry", "--no-mdns"])
			.stdout(Stdio::null())
			.stderr(log);
		match &self.base {
			Some(b) => cmd.arg("--base-path").arg(b),
			None => cmd.arg("--tmp"),
		};
		self.child = cmd.spawn().expect("start povm-node");
	}

	fn url(&self) -> String {
		format!("ws://127.0.0.1:{}", self.port)
	}

	fn stop(&mut self) {
		// SIGINT for a clean database shutdown.
		let _ = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status();
		let deadline = Instant::now() + Duration::from_secs(20);
		while Instant::now() < deadline {
			if let Ok(Some(_)) = self.child.try_wait() {
				return;
			}
			std::thread::sleep(Duration::from_millis(200));
		}
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

/// A running `povm-worker run`.
struct WorkerProc {
	child: Child,
}

impl WorkerProc {
	fn kill(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

impl Drop for WorkerProc {
	fn drop(&mut self) {
		self.kill();
	}
}

/// One provider's files: config, state dir, logs.
struct Provider {
	key: &'static str,
	dir: PathBuf,
	metrics_port: u16,
}

impl Provider {
	fn new(key: &'static str, root: &Path, node_port: u16, name: &str) -> Self {
		let dir = root.join(name);
		std::fs::create_dir_all(&dir).unwrap();
		let metrics_port = node_port + 2000;
		let image_dir = common::coinflip_image().dir.display().to_string();
		let config = format!(
			r#"node_url = "ws://127.0.0.1:{node_port}"
key_env = "POVM_TEST_PROVIDER_KEY"
image_dir = "{image_dir}"
state_dir = "{state}"
metrics_addr = "127.0.0.1:{metrics_port}"
slots = 1
heartbeat_every = 3
bond = "{bond}"
shutdown_grace_secs = 30
instance = "chaintest-{name}-{pid}"
[offer]
millicores = 1000
memory_mib = 512
"#,
			state = dir.join("state").display(),
			bond = bond(),
			pid = std::process::id(),
		);
		std::fs::write(dir.join("worker.toml"), config).unwrap();
		Self { key, dir, metrics_port }
	}

	fn command(&self, args: &[&str], log: &str) -> Command {
		let mut cmd = Command::new(env!("CARGO_BIN_EXE_povm-worker"));
		let log = std::fs::OpenOptions::new()
			.create(true)
			.append(true)
			.open(self.dir.join(log))
			.unwrap();
		cmd.arg("--config")
			.arg(self.dir.join("worker.toml"))
			.args(args)
			.env("POVM_TEST_PROVIDER_KEY", self.key)
			.env("RUST_LOG", "info,povm=debug")
			.stdout(Stdio::piped())
			.stderr(log);
		cmd
	}

	fn register(&self) -> String {
		let out = self.command(&["register"], "register.log").output().expect("run register");
		let log = std::fs::read_to_string(self.dir.join("register.log")).unwrap_or_default();
		assert!(out.status.success(), "register failed:\n{log}");
		String::from_utf8_lossy(&out.stdout).into_owned()
	}

	fn run(&self) -> WorkerProc {
		WorkerProc { child: self.command(&["run"], "run.log").spawn().expect("start worker") }
	}

	fn log(&self) -> String {
		std::fs::read_to_string(self.dir.join("run.log")).unwrap_or_default()
	}

	fn account(&self) -> AccountId {
		Signer::from_uri(self.key).unwrap().account().clone()
	}

	async fn metrics(&self) -> String {
		use tokio::io::{AsyncReadExt, AsyncWriteExt};
		let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", self.metrics_port)).await
		else {
			return String::new();
		};
		let _ = s.write_all(b"GET /metrics HTTP/1.1\r\n\r\n").await;
		let mut out = String::new();
		let _ = s.read_to_string(&mut out).await;
		out
	}
}

async fn client_for(url: &str) -> Arc<ChainClient> {
	let deadline = Instant::now() + Duration::from_secs(120);
	loop {
		match ChainClient::connect(url, Duration::from_secs(20), Arc::new(Metrics::new())).await {
			Ok(c) => {
				// Wait for block production.
				if matches!(c.finalized_head().await, Ok((n, _)) if n >= 1) {
					return Arc::new(c);
				}
			},
			Err(e) if Instant::now() > deadline => panic!("node not up: {e}"),
			Err(_) => {},
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

/// Flips between checkpoints (`POVM_TEST_CHECKPOINT_EVERY`, default 250: four checkpoints).
/// `0` gives no checkpoints (empty root), which a node whose vm-proof predates the shared
/// domain-separated Merkle rule also accepts.
fn checkpoint_every() -> String {
	std::env::var("POVM_TEST_CHECKPOINT_EVERY").unwrap_or_else(|_| "250".into())
}

fn job_args(seed: u64, sleep: u64) -> Vec<String> {
	let mut a: Vec<String> =
		["--seed", &seed.to_string(), "--flips", "1000", "--checkpoint-every", &checkpoint_every()]
			.iter()
			.map(|s| s.to_string())
			.collect();
	if sleep > 0 {
		a.extend(["--sleep".to_string(), sleep.to_string()]);
	}
	a
}

fn b<const N: u32>(s: &str) -> povm_primitives::Bytes<N> {
	s.as_bytes().to_vec().try_into().expect("within bound")
}

fn spec(args: &[String], max_seconds: u32) -> JobSpec {
	JobSpec {
		image: b(&common::coinflip_image().digest),
		command: b("/coinflip"),
		args: args
			.iter()
			.map(|a| b::<{ povm_primitives::MAX_ARG_LEN }>(a))
			.collect::<Vec<_>>()
			.try_into()
			.unwrap(),
		env: Default::default(),
		input: None,
		resources: Resources { millicores: 500, memory_mib: 64, max_seconds },
		price_per_second: 1_000_000_000,
		redundancy: RedundancyPolicy { min_replicas: 1, max_replicas: 1, margin: 1 },
		checkpoint_interval: 0,
	}
}

/// Alice submits a coin-flip job; returns its id.
async fn submit_job(client: &Arc<ChainClient>, spec: JobSpec) -> JobId {
	let alice = Submitter::new(
		client.clone(),
		Signer::from_uri("//Alice").unwrap(),
		0,
		64,
		Duration::from_secs(60),
	);
	let outcome = alice
		.submit(&Call::SubmitJob { spec: Box::new(spec), budget: 10u128.pow(15) })
		.await
		.expect("submit_job included");
	let at = match outcome {
		TxOutcome::InBlock(h) | TxOutcome::Finalized(h) => h,
	};
	let mut key = sp_io::hashing::twox_128(b"JobQueue").to_vec();
	key.extend(sp_io::hashing::twox_128(b"NextJobId"));
	let raw = client.storage(&key, Some(at)).await.unwrap().expect("NextJobId set");
	let next = u64::from_le_bytes(raw[..8].try_into().unwrap());
	let id = next - 1;
	let view = client.job(id, Some(at)).await.unwrap().expect("job exists");
	assert_eq!(view.owner, Signer::from_uri("//Alice").unwrap().account().clone());
	id
}

/// Waits until `job` leaves the open states; returns its view.
async fn wait_finished(
	client: &ChainClient,
	job: JobId,
	within: Duration,
	who: &Provider,
) -> JobView {
	let deadline = Instant::now() + within;
	loop {
		if let Ok(Some(v)) = client.job(job, None).await {
			if !v.state.is_open() {
				return v;
			}
		}
		assert!(
			Instant::now() < deadline,
			"job {job} not finished in time; worker log:\n{}",
			who.log()
		);
		tokio::time::sleep(Duration::from_secs(2)).await;
	}
}

/// The result the same job gives when run locally.
async fn local_result(args: &[String], dir: &Path) -> (Digest, Digest, Vec<u8>) {
	let exec = common::executor_with("chain-expected", |_| {}).await;
	let refs: Vec<&str> = args.iter().map(String::as_str).collect();
	let run = exec.run(&common::coinflip_job(900, dir, &refs)).await.expect("local run");
	let out = run.output("tally.json").expect("tally").to_vec();
	(run.result_digest(), run.checkpoints_root(), out)
}

fn assert_accepted(view: &JobView, expected: &(Digest, Digest, Vec<u8>), provider: &AccountId) {
	assert_eq!(view.state, JobState::Completed, "job {view:?}");
	let r = view.result.as_ref().expect("a result");
	assert_eq!(r.result_digest, expected.0, "result digest agrees with a local run");
	assert_eq!(r.checkpoints_root, expected.1, "checkpoints root agrees with a local run");
	assert_eq!(r.output.to_vec(), expected.2, "the tally is on chain");
	assert!(r.usage.wall_ms > 0);
	assert!(r.payments.iter().any(|(who, amount)| who == provider && *amount > 0), "provider paid");
}

/// The client against any node, PoVM pallets or not: heads, runtime version, nonces, and a
/// signed `System::remark` included in a block (twice, so the second nonce is checked too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_follows_heads_and_gets_signed_transactions_included() {
	let bin = require_node!();
	let _serial = SERIAL.lock().await;
	let tmp = tempfile::tempdir().unwrap();
	let node = Node::start(&bin, 19934, None, &tmp.path().join("node.log"));
	let client = client_for(&node.url()).await;
	let mut heads = client.subscribe_new_heads().await.unwrap();
	let first = heads.next().await.unwrap().unwrap().number().unwrap();
	let second = heads.next().await.unwrap().unwrap().number().unwrap();
	assert!(second > first, "new heads advance: {first} then {second}");
	let (spec, _tx) = client.runtime_version().await.unwrap();
	assert!(spec > 0);
	let eve = Signer::from_uri("//Eve").unwrap();
	let nonce0 = client.next_nonce(eve.account()).await.unwrap();
	let submitter = Submitter::new(client.clone(), eve, 0, 64, Duration::from_secs(60));
	for i in 0..2u8 {
		let out = submitter.submit(&Call::Remark { remark: vec![i; 8] }).await;
		assert!(matches!(out, Ok(TxOutcome::InBlock(_) | TxOutcome::Finalized(_))), "{out:?}");
	}
	let nonce = client.next_nonce(submitter.account()).await.unwrap();
	assert_eq!(nonce, nonce0 + 2, "both transactions executed");
}

/// The client notices a node restart, reconnects with backoff and resubscribes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_reconnects_after_the_node_restarts() {
	let bin = require_node!();
	let _serial = SERIAL.lock().await;
	let tmp = tempfile::tempdir().unwrap();
	let base = tmp.path().join("chain");
	let mut node = Node::start(&bin, 19924, Some(&base), &tmp.path().join("node.log"));
	let client = client_for(&node.url()).await;
	let mut sub = client.subscribe_finalized().await.unwrap();
	let before = sub.next().await.unwrap().unwrap().number().unwrap();
	node.stop();
	// The subscription ends and calls fail with a transient error.
	let end = tokio::time::timeout(Duration::from_secs(30), async {
		while let Some(Ok(_)) = sub.next().await {}
	})
	.await;
	assert!(end.is_ok(), "subscription ended when the node stopped");
	let err = client.finalized_head().await.unwrap_err();
	assert!(err.is_transient(), "{err}");
	node.spawn();
	let cancel = tokio_util::sync::CancellationToken::new();
	assert!(tokio::time::timeout(Duration::from_secs(120), client.reconnect(&cancel))
		.await
		.unwrap());
	assert_eq!(client.metrics().reconnects.get(), 1);
	let mut sub = client.subscribe_finalized().await.unwrap();
	let after = sub.next().await.unwrap().unwrap().number().unwrap();
	assert!(after >= before, "the chain resumed from its database: {before} -> {after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_registers_heartbeats_commits_reveals_and_the_job_completes() {
	let bin = require_node!();
	let _serial = SERIAL.lock().await;
	let tmp = tempfile::tempdir().unwrap();
	let node = Node::start(&bin, 19944, None, &tmp.path().join("node.log"));
	let client = client_for(&node.url()).await;
	let bob = Provider::new("//Bob", tmp.path(), node.port, "bob");
	let out = bob.register();
	assert!(out.contains("registered"), "{out}");
	// Registering again is idempotent.
	assert!(bob.register().contains("already registered"));
	let record = client.provider(&bob.account(), None).await.unwrap().expect("record");
	assert_eq!(record.offer.millicores, 1000);
	assert_eq!(record.bond, bond());

	let _worker = bob.run();
	let args = job_args(42, 0);
	let expected = local_result(&args, &tmp.path().join("local")).await;
	let job = submit_job(&client, spec(&args, 30)).await;
	let view = wait_finished(&client, job, Duration::from_secs(300), &bob).await;
	assert_accepted(&view, &expected, &bob.account());

	// Heartbeats went out (one per 10-block epoch), and the metrics endpoint shows the work.
	let deadline = Instant::now() + Duration::from_secs(150);
	loop {
		let m = bob.metrics().await;
		if m.contains("call=\"heartbeat\",outcome=\"in_block\"") {
			assert!(m.contains("povm_worker_jobs_started_total 1"), "{m}");
			assert!(m.contains("povm_worker_jobs_succeeded_total 1"), "{m}");
			assert!(m.contains("call=\"commit_result\",outcome=\"in_block\""), "{m}");
			assert!(m.contains("call=\"reveal_result\",outcome=\"in_block\""), "{m}");
			break;
		}
		assert!(Instant::now() < deadline, "no heartbeat in the metrics:\n{m}");
		tokio::time::sleep(Duration::from_secs(2)).await;
	}
	let record = client.provider(&bob.account(), None).await.unwrap().expect("record");
	assert_eq!((record.agreed, record.total), (1, 1));
	let status = bob.command(&["status"], "status.log").output().unwrap();
	assert!(String::from_utf8_lossy(&status.stdout).contains("registered      yes"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_killed_between_commit_and_reveal_reveals_after_restart() {
	let bin = require_node!();
	let _serial = SERIAL.lock().await;
	let tmp = tempfile::tempdir().unwrap();
	let node = Node::start(&bin, 19954, None, &tmp.path().join("node.log"));
	let client = client_for(&node.url()).await;
	let charlie = Provider::new("//Charlie", tmp.path(), node.port, "charlie");
	charlie.register();
	let mut worker = charlie.run();
	let args = job_args(7, 0);
	let expected = local_result(&args, &tmp.path().join("local")).await;
	let job = submit_job(&client, spec(&args, 30)).await;

	// Watch the best chain (the worker acts on finalised blocks, a block or more later) and
	// kill the worker as soon as its commitment is on chain.
	let me = charlie.account();
	let deadline = Instant::now() + Duration::from_secs(240);
	let phase = loop {
		let a = client.assignments(&me, None).await.unwrap_or_default();
		if let Some(a) = a.iter().find(|a| a.job == job) {
			if a.phase != AssignmentPhase::Commit {
				worker.kill();
				break a.phase;
			}
		}
		assert!(Instant::now() < deadline, "no commit; worker log:\n{}", charlie.log());
		tokio::time::sleep(Duration::from_millis(200)).await;
	};
	assert!(
		matches!(phase, AssignmentPhase::Committed | AssignmentPhase::Reveal),
		"killed too late to test anything: {phase:?}"
	);
	tokio::time::sleep(Duration::from_secs(8)).await;
	let a = client.assignments(&me, None).await.unwrap();
	assert!(
		a.iter().any(|a| a.job == job && a.phase == AssignmentPhase::Reveal),
		"after the kill the job waits for our reveal: {a:?}"
	);
	assert!(charlie.dir.join(format!("state/commits/{job}.scale")).exists(), "salt persisted");

	let _worker = charlie.run();
	let view = wait_finished(&client, job, Duration::from_secs(240), &charlie).await;
	assert_accepted(&view, &expected, &me);
	let log = charlie.log();
	assert_eq!(log.matches("running job").count(), 1, "the job ran once:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_survives_a_node_restart_mid_job() {
	let bin = require_node!();
	let _serial = SERIAL.lock().await;
	let tmp = tempfile::tempdir().unwrap();
	let base = tmp.path().join("chain");
	let mut node = Node::start(&bin, 19964, Some(&base), &tmp.path().join("node.log"));
	let client = client_for(&node.url()).await;
	let dave = Provider::new("//Dave", tmp.path(), node.port, "dave");
	dave.register();
	let _worker = dave.run();
	let args = job_args(99, 15);
	let expected = local_result(&args, &tmp.path().join("local")).await;
	let job = submit_job(&client, spec(&args, 60)).await;

	// Wait until the worker runs the job, then restart the node under it.
	let deadline = Instant::now() + Duration::from_secs(180);
	while !dave.log().contains("running job") {
		assert!(Instant::now() < deadline, "job not started; log:\n{}", dave.log());
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
	drop(client);
	node.stop();
	tokio::time::sleep(Duration::from_secs(5)).await;
	node.spawn();
	let client = client_for(&node.url()).await;
	let view = wait_finished(&client, job, Duration::from_secs(300), &dave).await;
	assert_accepted(&view, &expected, &dave.account());
	let log = dave.log();
	assert!(log.contains("reconnected to the node"), "the worker reconnected:\n{log}");
}

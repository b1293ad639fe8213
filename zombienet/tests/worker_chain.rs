//! The worker against a real `povm-node --dev` and a real Docker daemon: the chain client,
//! and a provider's `povm-worker` that registers, runs coin-flip jobs in real containers,
//! commits and reveals, through a worker crash and a node restart.
//!
//! Each test starts its own dev node on free ports (Alice validates alone and is the
//! customer; Eve signs remarks; Bob, Charlie and Dave are the providers) with the runner's
//! [`start_dev_node`] (or [`start_dev_node_in`] where the node restarts and must keep its
//! chain), and its worker with [`WorkerHandle`]. The accepted results are compared with the
//! same job run locally by the worker's own Docker executor.
//!
//! - `client_follows_heads_and_gets_signed_transactions_included`
//! - `client_reconnects_after_the_node_restarts`
//! - `worker_registers_heartbeats_commits_reveals_and_the_job_completes`
//! - `worker_killed_between_commit_and_reveal_reveals_after_restart`
//! - `worker_survives_a_node_restart_mid_job`
//! - `workers_decline_a_job_whose_image_none_has_and_the_customer_pays`
//! - `a_job_pulled_from_a_registry_reads_its_input_and_the_customer_fetches_its_files`

use std::{path::Path, time::Duration};

use povm_network_tests::{
	chain::*, coinflip_image, example_image, http::FileServer, start_dev_node, start_dev_node_in,
	Image, NodeHandle, Registry, WorkerDef, WorkerHandle,
};
use povm_primitives::{AssignmentPhase, JobState, RedundancyPolicy};
use povm_worker::{
	client::{Call, ChainClient},
	executor::{self, DockerConfig, DockerExecutor, Executor, JobRun},
	prelude::*,
};

/// Flips per job: four checkpoints of 250.
const FLIPS: u64 = 1000;

/// The worker's metric of the jobs it started (counted as it starts a job's container).
const JOBS_STARTED: &str = "povm_worker_jobs_started_total";

/// Only one chain test at a time: each runs a node and Docker jobs on a small machine.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Panics with the runner's message.
fn ok<T>(result: povm_network_tests::Result<T>) -> T {
	result.unwrap_or_else(|e| panic!("{e}"))
}

/// The coin-flip image, built once per test process.
fn image() -> Image {
	ok(coinflip_image())
}

/// Provider `name` signing with `key`, a worker of `node` with its files under `root`
/// (registered and started by the test).
fn worker(name: &str, key: &str, root: &Path, node: &NodeHandle) -> WorkerHandle {
	let def = WorkerDef::new(name, key, &node.name);
	ok(WorkerHandle::new(def, root, node.rpc_port, &image().dir))
}

/// One replica: the test's one provider runs the job alone.
fn one_replica() -> RedundancyPolicy {
	RedundancyPolicy { min_replicas: 1, max_replicas: 1, margin: 1 }
}

/// The arguments of a coin-flip job from `seed` that also sleeps `sleep` seconds (a job that
/// runs long enough to restart the node under it).
fn job_args(seed: u64, sleep: u64) -> Vec<String> {
	let mut args = coinflip_args(seed, FLIPS);
	if sleep > 0 {
		args.extend(["--sleep".to_string(), sleep.to_string()]);
	}
	args
}

/// Alice submits a coin-flip job with `args`; returns its id.
async fn submit_job(
	client: &std::sync::Arc<ChainClient>,
	args: &[String],
	max_seconds: u32,
) -> JobId {
	let spec = job_spec(&image(), args, max_seconds, one_replica());
	let id = submit(&customer(client, "//Alice"), spec).await;
	let view = client.job(id, None).await.unwrap().expect("job exists");
	assert_eq!(view.owner, account("//Alice"));
	id
}

/// Waits until `job` leaves the open states on the best chain; returns its view.
async fn wait_finished(
	client: &ChainClient,
	job: JobId,
	within: Duration,
	who: &WorkerHandle,
) -> JobView {
	let finished = wait(within, &format!("job {job} to finish"), || async move {
		client.job(job, None).await.ok().flatten().filter(|v| !v.state.is_open())
	})
	.await;
	finished.unwrap_or_else(|e| panic!("{e}; worker log:\n{}", who.log()))
}

/// The result digest, checkpoints root and tally the same job gives when the worker's Docker
/// executor runs it locally in `dir`.
async fn local_result(args: &[String], dir: &Path) -> (Digest, Digest, Vec<u8>) {
	let image = image();
	let instance = format!("test-chain-expected-{}", std::process::id());
	let mut config = DockerConfig::new(instance, image.dir.clone());
	// The test hosts run Docker without AppArmor or SELinux: allowed for the tests only.
	config.allow_without_lsm = true;
	let exec = DockerExecutor::connect(config).await.expect("connect to Docker");
	let job = JobRun {
		job_id: (u64::from(std::process::id()) << 20) | 900,
		spec: executor::JobSpec {
			image: executor::ImageSpec {
				id: image.digest.clone(),
				registry: None,
				platform: "linux/amd64".to_owned(),
			},
			inputs: vec![],
			command: vec!["/coinflip".to_owned()],
			args: args.to_vec(),
			env: vec![],
			resources: executor::Resources {
				millicores: 500,
				memory_mib: 64,
				max_seconds: 60,
				pids: 32,
			},
		},
		work_dir: dir.to_owned(),
		prepare_within: povm_worker::executor::DEFAULT_PREPARE_WITHIN,
	};
	let run = exec.run(&job).await.expect("local run");
	let out = run.output("tally.json").expect("tally").to_vec();
	(run.result_digest(), run.checkpoints_root(), out)
}

/// Asserts the job completed with the `expected` local result and paid `provider`.
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
	let _serial = SERIAL.lock().await;
	let (node, _dir) = ok(start_dev_node());
	let client = connect(&node.ws_url()).await;
	let mut heads = client.subscribe_new_heads().await.unwrap();
	let first = heads.next().await.unwrap().unwrap().number().unwrap();
	let second = heads.next().await.unwrap().unwrap().number().unwrap();
	assert!(second > first, "new heads advance: {first} then {second}");
	let eve = account("//Eve");
	let nonce0 = client.next_nonce(&eve).await.unwrap();
	let submitter = customer(&client, "//Eve");
	for i in 0..2u8 {
		let out = submitter.submit(&Call::Remark { remark: vec![i; 8] }).await;
		assert!(out.is_ok(), "{out:?}");
	}
	let nonce = client.next_nonce(submitter.account()).await.unwrap();
	assert_eq!(nonce, nonce0 + 2, "both transactions executed");

	// A transaction that is included but whose dispatch fails is an error that names the
	// runtime's error, never a success: Eve is no provider, so her heartbeat fails.
	let out = submitter.submit(&Call::Heartbeat).await;
	match &out {
		Err(povm_worker::error::ChainError::Dispatch { call, failure, .. }) => {
			assert_eq!(*call, "heartbeat");
			assert!(failure.is("VmProof", "NotRegistered"), "{failure}");
		},
		other => panic!("a failed dispatch must be ChainError::Dispatch: {other:?}"),
	}
	let nonce = client.next_nonce(submitter.account()).await.unwrap();
	assert_eq!(nonce, nonce0 + 3, "the failed call was included (and paid for)");
}

/// The client notices a node restart, reconnects with backoff and resubscribes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_reconnects_after_the_node_restarts() {
	let _serial = SERIAL.lock().await;
	let tmp = tempfile::tempdir().unwrap();
	// A base path, not `--tmp`: the restarted node resumes the same chain.
	let mut node = ok(start_dev_node_in(tmp.path()));
	let client = connect(&node.ws_url()).await;
	let mut sub = client.subscribe_finalized().await.unwrap();
	let before = sub.next().await.unwrap().unwrap().number().unwrap();
	node.stop(Duration::from_secs(20));
	// The subscription ends and calls fail with a transient error.
	let end = tokio::time::timeout(Duration::from_secs(30), async {
		while let Some(Ok(_)) = sub.next().await {}
	})
	.await;
	assert!(end.is_ok(), "subscription ended when the node stopped");
	let err = client.finalized_head().await.unwrap_err();
	assert!(err.is_transient(), "{err}");
	// The node starts again while the client retries with backoff. `reconnect` is never
	// cancelled here: a fresh (tokio-util) cancellation token, made with `Default`.
	let restart = tokio::task::spawn_blocking(move || {
		let restarted = node.restart();
		(node, restarted)
	});
	let reconnected =
		tokio::time::timeout(Duration::from_secs(120), client.reconnect(&Default::default())).await;
	let (node, restarted) = restart.await.unwrap();
	restarted.unwrap_or_else(|e| panic!("{e}\n{}", node.log()));
	assert!(reconnected.unwrap());
	assert_eq!(client.metrics().reconnects.get(), 1);
	let mut sub = client.subscribe_finalized().await.unwrap();
	let after = sub.next().await.unwrap().unwrap().number().unwrap();
	assert!(after >= before, "the chain resumed from its database: {before} -> {after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_registers_heartbeats_commits_reveals_and_the_job_completes() {
	let _serial = SERIAL.lock().await;
	let (node, dir) = ok(start_dev_node());
	let client = connect(&node.ws_url()).await;
	let mut bob = worker("bob", "//Bob", dir.path(), &node);
	let out = ok(bob.register());
	assert!(out.contains("registered"), "{out}");
	// Registering again is idempotent.
	assert!(ok(bob.register()).contains("already registered"));
	let record = client.provider(&account("//Bob"), None).await.unwrap().expect("record");
	assert_eq!(record.offer.0.millicores, 1000);
	assert_eq!(record.bond, bob.def.bond);

	ok(bob.start());
	let args = job_args(42, 0);
	let expected = local_result(&args, &dir.path().join("local")).await;
	let job = submit_job(&client, &args, 30).await;
	let view = wait_finished(&client, job, Duration::from_secs(300), &bob).await;
	assert_accepted(&view, &expected, &account("//Bob"));

	// Heartbeats went out (one per 10-block epoch), and the metrics endpoint shows the work.
	let heartbeat = || async {
		let m = bob.metrics();
		m.contains("call=\"heartbeat\",outcome=\"in_block\"").then_some(m)
	};
	let m = wait(Duration::from_secs(150), "a heartbeat in the metrics", heartbeat)
		.await
		.unwrap_or_else(|e| panic!("{e}:\n{}", bob.metrics()));
	assert!(m.contains("povm_worker_jobs_started_total 1"), "{m}");
	assert!(m.contains("povm_worker_jobs_succeeded_total 1"), "{m}");
	assert!(m.contains("call=\"commit_result\",outcome=\"in_block\""), "{m}");
	assert!(m.contains("call=\"reveal_result\",outcome=\"in_block\""), "{m}");
	let record = client.provider(&account("//Bob"), None).await.unwrap().expect("record");
	assert_eq!((record.agreed, record.total), (1, 1));
	let status = ok(bob.oneshot(&["status"]));
	assert!(status.contains("registered      yes"), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_killed_between_commit_and_reveal_reveals_after_restart() {
	let _serial = SERIAL.lock().await;
	let (node, dir) = ok(start_dev_node());
	let client = connect(&node.ws_url()).await;
	let mut charlie = worker("charlie", "//Charlie", dir.path(), &node);
	ok(charlie.register());
	ok(charlie.start());
	let args = job_args(7, 0);
	let expected = local_result(&args, &dir.path().join("local")).await;
	let job = submit_job(&client, &args, 30).await;

	// Watch the best chain (the worker acts on finalised blocks, a block or more later) and
	// kill the worker as soon as its commitment is on chain.
	let me = account("//Charlie");
	let committed = || async {
		let a = client.assignments(&me, None).await.unwrap_or_default();
		a.iter()
			.find(|a| a.job == job && a.phase != AssignmentPhase::Commit)
			.map(|a| a.phase)
	};
	let phase =
		wait_every(Duration::from_millis(200), Duration::from_secs(240), "a commit", committed)
			.await
			.unwrap_or_else(|e| panic!("{e}; worker log:\n{}", charlie.log()));
	// Jobs the killed process started (its metrics go with it).
	let started_before_kill = charlie.metric(JOBS_STARTED);
	charlie.kill();
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

	ok(charlie.start());
	let view = wait_finished(&client, job, Duration::from_secs(240), &charlie).await;
	assert_accepted(&view, &expected, &me);
	// The job ran once: before the kill, and not again after the restart.
	let started_after_restart = charlie.metric(JOBS_STARTED);
	assert_eq!(
		(started_before_kill, started_after_restart),
		(Some(1.0), Some(0.0)),
		"the job ran once (jobs started before the kill, after the restart):\n{}",
		charlie.log()
	);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_survives_a_node_restart_mid_job() {
	let _serial = SERIAL.lock().await;
	let tmp = tempfile::tempdir().unwrap();
	// A base path, not `--tmp`: the restarted node still has the job.
	let mut node = ok(start_dev_node_in(&tmp.path().join("node")));
	let client = connect(&node.ws_url()).await;
	let mut dave = worker("dave", "//Dave", tmp.path(), &node);
	ok(dave.register());
	ok(dave.start());
	let args = job_args(99, 15);
	let expected = local_result(&args, &tmp.path().join("local")).await;
	let job = submit_job(&client, &args, 30).await;

	// Wait until the worker runs the job, then restart the node under it.
	let running = || async { (dave.metric(JOBS_STARTED).unwrap_or(0.0) >= 1.0).then_some(()) };
	wait_every(Duration::from_millis(500), Duration::from_secs(180), "the job to start", running)
		.await
		.unwrap_or_else(|e| panic!("{e}; log:\n{}", dave.log()));
	drop(client);
	node.stop(Duration::from_secs(20));
	tokio::time::sleep(Duration::from_secs(5)).await;
	node.restart().unwrap_or_else(|e| panic!("{e}\n{}", node.log()));
	let client = connect(&node.ws_url()).await;
	let view = wait_finished(&client, job, Duration::from_secs(300), &dave).await;
	assert_accepted(&view, &expected, &account("//Dave"));
	let reconnects = dave.metric("povm_worker_reconnects_total").unwrap_or(0.0);
	assert!(reconnects >= 1.0, "the worker reconnected ({reconnects}):\n{}", dave.log());
}

/// Issue 11, scenario 3: a customer submits a spec no worker can run (an image nobody has).
/// Before, every assignee missed its commit and was slashed 1 %; now each worker declines it
/// on chain (`decline_job`), nobody is slashed, and since all drawn declined the job ends
/// unrunnable: the escrow goes back to the customer and its deposit to the decliners.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_decline_a_job_whose_image_none_has_and_the_customer_pays() {
	let _serial = SERIAL.lock().await;
	let (node, dir) = ok(start_dev_node());
	let client = connect(&node.ws_url()).await;
	let mut bob = worker("bob", "//Bob", dir.path(), &node);
	let mut charlie = worker("charlie", "//Charlie", dir.path(), &node);
	for w in [&mut bob, &mut charlie] {
		ok(w.register());
		ok(w.start());
	}
	let bonds = [bob.def.bond, charlie.def.bond];
	let mut spec = job_spec(
		&image(),
		&job_args(7, 0),
		30,
		RedundancyPolicy { min_replicas: 2, max_replicas: 2, margin: 1 },
	);
	// A well-formed image id no provider has, and pulling is off.
	spec.image.id = [0; 32];
	let id = submit(&customer(&client, "//Alice"), spec).await;
	// The job ends unrunnable: its record is removed at once (nothing is left to reap).
	let gone = wait(Duration::from_secs(180), "the declined job to end", || async {
		client.job(id, None).await.ok().and_then(|v| v.is_none().then_some(()))
	})
	.await;
	gone.unwrap_or_else(|e| panic!("{e}; bob:\n{}\ncharlie:\n{}", bob.log(), charlie.log()));
	for (w, bond) in [(&bob, bonds[0]), (&charlie, bonds[1])] {
		let who = account(&format!("//{}", capitalised(&w.def.name)));
		let record = client.provider(&who, None).await.unwrap().expect("record");
		assert_eq!(record.bond, bond, "{}: not slashed", w.def.name);
		assert_eq!(
			(record.agreed, record.total),
			(0, 1),
			"{}: a decline costs reputation",
			w.def.name
		);
		let m = w.metrics();
		assert!(m.contains("call=\"decline_job\",outcome=\"in_block\""), "{}: {m}", w.def.name);
	}
}

/// A customer's job whose image is pulled from a registry the test starts, by manifest digest,
/// and whose input is fetched by URL from an HTTP server the test starts: the customer submits
/// it with the `povm` command from a TOML file, which follows it to its verdict and fetches the
/// result file and the logs from the providers' result servers, each checked against the
/// chain. Two workers (Bob, Charlie) record their result services on chain at start, pull the
/// image, fetch and check the input, run it with the input mounted read-only and agree; the
/// summary on chain and in the fetched file is the one the example's own library computes
/// natively from the same bytes, the chain shows exit code 0 and no flag, and a request
/// signed by another account is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_pulled_from_a_registry_reads_its_input_and_the_customer_fetches_its_files() {
	let _serial = SERIAL.lock().await;
	let (node, dir) = ok(start_dev_node());
	let client = connect(&node.ws_url()).await;
	let built = ok(example_image("csv-summary"));
	let registry = ok(Registry::start(&dir.path().join("registry")));
	let pushed = ok(registry.push_and_forget("povm/csv-summary:latest", "csv-summary"));
	assert_eq!(pushed.id, built.digest);
	let csv = b"station,temp_c,rain_mm\nOslo,-3.5,12.25\nLima,19,0\nBern,4.5,\n".to_vec();
	let server = FileServer::start("data.csv", csv.clone()).await.expect("input server");

	let mut workers: Vec<WorkerHandle> = [("bob", "//Bob"), ("charlie", "//Charlie")]
		.into_iter()
		.map(|(name, key)| {
			let mut def = WorkerDef::new(name, key, &node.name);
			def.allow_private_sources = true;
			def.serve_results = true;
			ok(WorkerHandle::new(def, dir.path(), node.rpc_port, &image().dir))
		})
		.collect();
	for w in &mut workers {
		ok(w.register());
		ok(w.start());
	}
	// Each worker records its result service on chain before it serves assignments.
	for w in &workers {
		let who = account(&format!("//{}", capitalised(&w.def.name)));
		let service = client.result_service(&who, None).await.unwrap().expect("a service");
		let port = w.results_port.expect("serves results");
		assert_eq!(service.url.to_vec(), format!("http://127.0.0.1:{port}").into_bytes());
	}

	// The customer's job file: the image by registry and manifest, the CSV by URL.
	let image = pushed.image_ref();
	let registry_ref = image.registry.as_ref().expect("pulled from the registry");
	let job_file = dir.path().join("csv-summary.toml");
	let toml = format!(
		r#"command = "/csv-summary"
price_per_second = 1000000000

[image]
id = "0x{id}"
repository = "{repository}"
manifest = "0x{manifest}"

[resources]
millicores = 500
memory_mib = 64
max_seconds = 30

[redundancy]
min_replicas = 2
max_replicas = 2
margin = 2

[[inputs]]
name = "data.csv"
url = "{url}"
sha256 = "{sha256}"
size = {size}
"#,
		id = hex::encode(image.id),
		repository = String::from_utf8_lossy(&registry_ref.repository),
		manifest = hex::encode(registry_ref.manifest),
		url = server.url,
		sha256 = hex::encode(sp_io::hashing::sha2_256(&csv)),
		size = csv.len(),
	);
	std::fs::write(&job_file, toml).unwrap();
	// Priced first: `povm quote` says the chain takes it, and counts both workers eligible once
	// both have registered.
	let quote = || {
		let out = std::process::Command::new(ok(povm_network_tests::cli_binary()))
			.args(["--url", &node.ws_url(), "quote"])
			.arg(&job_file)
			.output()
			.expect("povm quote runs");
		let text = String::from_utf8_lossy(&out.stdout).to_string();
		assert!(out.status.success(), "povm quote: {text}{}", String::from_utf8_lossy(&out.stderr));
		assert!(text.contains("submit_job:        accepted"), "{text}");
		text
	};
	let mut quoted = quote();
	for _ in 0..30 {
		if quoted.contains("2 eligible now, 2 needed") {
			break;
		}
		tokio::time::sleep(Duration::from_secs(2)).await;
		quoted = quote();
	}
	assert!(quoted.contains("2 eligible now, 2 needed"), "{quoted}");
	let out_dir = dir.path().join("results");
	let started = std::time::Instant::now();
	let mut command = std::process::Command::new(ok(povm_network_tests::cli_binary()));
	command
		.args(["--url", &node.ws_url(), "submit"])
		.arg(&job_file)
		.arg("--fetch")
		.arg(&out_dir)
		.env("POVM_SURI", "//Alice");
	let cli = tokio::time::timeout(
		Duration::from_secs(300),
		tokio::task::spawn_blocking(move || command.output()),
	)
	.await
	.expect("povm submit --fetch within 300 s")
	.expect("the command's thread")
	.expect("povm runs");
	let logs = || workers.iter().map(|w| w.log()).collect::<Vec<_>>().join("\n---\n");
	let said = format!(
		"stdout:\n{}\nstderr:\n{}",
		String::from_utf8_lossy(&cli.stdout),
		String::from_utf8_lossy(&cli.stderr)
	);
	assert!(cli.status.success(), "povm failed: {said}\n{}", logs());
	println!("povm submit --fetch, {:.1} s:\n{said}", started.elapsed().as_secs_f64());
	let id: JobId = String::from_utf8_lossy(&cli.stdout)
		.lines()
		.next()
		.and_then(|l| l.trim().parse().ok())
		.unwrap_or_else(|| panic!("a job id first: {said}"));

	let view = client.job(id, None).await.unwrap().expect("the job");
	assert_eq!(view.state, JobState::Completed, "{view:?}\n{}", logs());
	assert_eq!(view.owner, account("//Alice"));
	let result = view.result.as_ref().expect("a result");
	let expected = povm_job_csv_summary::summarize(&csv).expect("a CSV").to_json();
	assert_eq!(String::from_utf8_lossy(&result.output), expected, "the native summary");
	assert_eq!(result.payments.len(), 2, "both replicas agreed and were paid");
	assert!(server.requests() >= 2, "each replica fetched the input: {}", server.requests());
	assert!(logs().contains("image pulled"), "the image came from the registry:\n{}", logs());

	// The chain shows how the run ended, bound to the agreed digest.
	let outcome = client.result_outcome(id, None).await.unwrap().expect("an outcome on chain");
	assert_eq!(outcome.result_digest(), result.result_digest);
	assert_eq!(outcome.exit_code, 0);
	assert!(!outcome.timed_out && !outcome.oom_killed && !outcome.truncated, "{outcome:?}");

	// The customer's command fetched the result file and the logs and checked them against the
	// chain: they are what the job wrote.
	let summary = std::fs::read(out_dir.join("files").join("summary.json")).expect("the file");
	assert_eq!(String::from_utf8_lossy(&summary), expected);
	let stdout = std::fs::read(out_dir.join("stdout")).expect("stdout");
	assert_eq!(String::from_utf8_lossy(&stdout), "rows 3 columns 3\n");
	assert!(out_dir.join("stderr").exists());

	// Nobody but the owner reads them: Bob's signature is refused by Charlie's server.
	let port = workers[1].results_port.unwrap();
	let bob = <sp_core::sr25519::Pair as sp_core::Pair>::from_string("//Bob", None).unwrap();
	let expires = std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.unwrap()
		.as_secs() +
		60;
	let item = "files/summary.json";
	let header = povm_cli::verify::authorization(&bob, id, expires, item);
	let status = http_get_status(port, &format!("/v1/jobs/{id}/{item}"), &header).await;
	assert_eq!(status, 403, "another account's signature is refused");

	// The figures of the pull, the fetch and the run, for the record (`--nocapture`).
	for w in &workers {
		for line in w.log().lines().filter(|l| {
			["image pulled", "input fetched", "job ran", "result kept"]
				.iter()
				.any(|what| l.contains(what))
		}) {
			println!("{}: {line}", w.def.name);
		}
	}
}

/// The HTTP status of `GET path` on 127.0.0.1:`port` with `Authorization: authorization`.
async fn http_get_status(port: u16, path: &str, authorization: &str) -> u16 {
	use tokio::io::{AsyncReadExt, AsyncWriteExt};
	let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
	let request = format!(
		"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {authorization}\r\nConnection: close\r\n\r\n"
	);
	stream.write_all(request.as_bytes()).await.expect("send");
	let mut response = Vec::new();
	stream.read_to_end(&mut response).await.expect("read");
	let text = String::from_utf8_lossy(&response);
	text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// `bob` → `Bob`.
fn capitalised(name: &str) -> String {
	let mut c = name.chars();
	c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// Seconds the long job sleeps: ten minutes (issue 13's long job).
const LONG_JOB_SLEEP: u64 = 600;

/// Benchmark, not CI (issue 13): one job of ten minutes completes through a worker on a real
/// node. Its member's commit window follows its run time (a 20-block default window would end
/// after a minute), and the member shows it is still at work with job heartbeats every third
/// of `StallTimeout`, so it is never replaced as stalled. Writes `bench/long-job.md` and
/// `.json` and merges `long_job_seconds` into `bench/scale.json`. Run with
/// `bash scripts/bench-long-job.sh` (about 13 minutes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: a ten-minute job (bash scripts/bench-long-job.sh)"]
async fn a_ten_minute_job_completes_with_job_heartbeats() {
	let _serial = SERIAL.lock().await;
	let started = std::time::Instant::now();
	let (node, dir) = ok(start_dev_node());
	let client = connect(&node.ws_url()).await;
	let mut bob = worker("bob", "//Bob", dir.path(), &node);
	ok(bob.register());
	ok(bob.start());
	let seed = 11;
	// The tally does not depend on the sleep: the expected one comes from a run without it.
	let expected = local_result(&job_args(seed, 0), &dir.path().join("local")).await;
	let max_seconds = (LONG_JOB_SLEEP + 60) as u32;
	let job = submit_job(&client, &job_args(seed, LONG_JOB_SLEEP), max_seconds).await;
	let submitted = client.finalized_head().await.unwrap().0;
	let assigned = wait(Duration::from_secs(120), "the long job assigned", || async {
		client.job(job, None).await.ok().flatten().and_then(|v| v.commit_deadline)
	})
	.await
	.unwrap_or_else(|e| panic!("{e}; worker log:\n{}", bob.log()));
	let view = wait_finished(&client, job, Duration::from_secs(LONG_JOB_SLEEP + 480), &bob).await;
	let finished = client.finalized_head().await.unwrap().0;
	assert_eq!(view.state, JobState::Completed, "job {view:?}\nworker log:\n{}", bob.log());
	let r = view.result.as_ref().expect("a result");
	assert_eq!(r.output.to_vec(), expected.2, "the tally is on chain");
	assert!(r.usage.wall_ms >= LONG_JOB_SLEEP * 1000, "ran the whole sleep: {:?}", r.usage);
	// One member all along: never replaced as stalled.
	assert_eq!(view.providers, vec![account("//Bob")], "replaced: {view:?}");
	let metrics = bob.metrics();
	let beats = metrics
		.lines()
		.find(|l| l.contains("call=\"job_heartbeat\",outcome=\"in_block\""))
		.and_then(|l| l.split_whitespace().last())
		.and_then(|n| n.parse::<f64>().ok())
		.unwrap_or(0.0) as u64;
	let ms = millis_per_block(&client).await;
	let stall = client
		.stall_timeout(None)
		.await
		.unwrap()
		.expect("a runtime with job heartbeats");
	// At least one heartbeat per `StallTimeout` of the run, or the member would have stalled.
	let run_blocks = LONG_JOB_SLEEP * 1000 / ms;
	assert!(beats >= run_blocks / u64::from(stall), "{beats} job heartbeats:\n{metrics}");
	let wall = started.elapsed().as_secs();
	let figures = serde_json::json!({
		"generated_by": "bash scripts/bench-long-job.sh",
		"job_max_seconds": max_seconds,
		"run_seconds": r.usage.wall_ms as f64 / 1000.0,
		"block_ms": ms,
		"stall_timeout_blocks": stall,
		"commit_deadline_block": assigned,
		"job_heartbeats": beats,
		"submitted_at_finalised": submitted,
		"finished_by_finalised": finished,
		"replaced": false,
		"wall_seconds": wall,
	});
	write_long_job_bench(&figures, r.usage.wall_ms / 1000);
}

/// Writes the long job's figures to `bench/long-job.{md,json}` and its run seconds into
/// `bench/scale.json` (`long_job_seconds`, the field the issue names).
fn write_long_job_bench(figures: &serde_json::Value, run_seconds: u64) {
	let bench = povm_network_tests::repo_root().join("bench");
	std::fs::create_dir_all(&bench).unwrap();
	let pretty = serde_json::to_string_pretty(figures).unwrap();
	std::fs::write(bench.join("long-job.json"), format!("{pretty}\n")).unwrap();
	let f = |k: &str| figures[k].to_string();
	let md = format!(
		"# A long job on a real node\n\n\
		 Generated by `bash scripts/bench-long-job.sh` (the ignored network test \
		 `a_ten_minute_job_completes_with_job_heartbeats`): a `povm-node --dev` \
		 (`fast-runtime`, {} ms blocks) and one `povm-worker` with real Docker run one \
		 coin-flip job that sleeps ten minutes.\n\n\
		 | figure | value |\n| --- | --- |\n\
		 | job `max_seconds` | {} |\n\
		 | run (wall seconds, as revealed) | {} |\n\
		 | member's commit deadline (block) | {} |\n\
		 | `StallTimeout` (blocks) | {} |\n\
		 | job heartbeats included | {} |\n\
		 | member replaced | no |\n\
		 | finalised block at submission → after the verdict | {} → {} |\n\
		 | benchmark wall time (s) | {} |\n\n\
		 The member's commit window follows the job's run time (the default 20-block window \
		 would have ended after a minute); it sent a job heartbeat every quarter of \
		 `StallTimeout`, so it was never taken for stalled.\n",
		f("block_ms"),
		f("job_max_seconds"),
		f("run_seconds"),
		f("commit_deadline_block"),
		f("stall_timeout_blocks"),
		f("job_heartbeats"),
		f("submitted_at_finalised"),
		f("finished_by_finalised"),
		f("wall_seconds"),
	);
	std::fs::write(bench.join("long-job.md"), md).unwrap();
	merge_into_scale_json(&[
		("long_job_seconds", run_seconds.into()),
		("long_job", figures.clone()),
	]);
}

/// Jobs the latency benchmark submits, one after another.
const LATENCY_JOBS: usize = 9;

/// Seconds each of the latency benchmark's jobs sleeps: the "4 s run" of issue 13.
const LATENCY_SLEEP: u64 = 4;

/// Benchmark, not CI (issue 13): blocks from the one that includes `submit_job` to the one
/// that holds the verdict, less the run's blocks (⌈run seconds / block seconds⌉, the run as
/// revealed), for two-replica jobs on a real dev node with two workers and real Docker.
/// Writes `bench/latency.md` and `.json` and merges the median, `submit_to_verdict_blocks`,
/// into `bench/scale.json`. Run with `bash scripts/bench-latency.sh` (about 6 minutes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: submit → verdict in blocks (bash scripts/bench-latency.sh)"]
async fn submit_to_verdict_latency_in_blocks() {
	let _serial = SERIAL.lock().await;
	let (node, dir) = ok(start_dev_node());
	let client = connect(&node.ws_url()).await;
	let mut workers = [
		worker("bob", "//Bob", dir.path(), &node),
		worker("charlie", "//Charlie", dir.path(), &node),
	];
	for w in &mut workers {
		ok(w.register());
		ok(w.start());
	}
	let both = RedundancyPolicy { min_replicas: 2, max_replicas: 2, margin: 2 };
	let ms = millis_per_block(&client).await;
	let alice = customer(&client, "//Alice");
	let mut jobs = Vec::new();
	for seed in 0..LATENCY_JOBS as u64 {
		let spec = job_spec(&image(), &job_args(100 + seed, LATENCY_SLEEP), 60, both);
		let receipt = alice
			.submit_final(&Call::SubmitJob { spec: Box::new(spec), budget: BUDGET })
			.await
			.expect("submit_job finalised and dispatched");
		let id = receipt.submitted_job().expect("events decode").expect("JobSubmitted");
		let submitted = client
			.header(receipt.block)
			.await
			.unwrap()
			.and_then(|h| h.number().ok())
			.expect("the including block");
		let (view, seen) = wait_settled(&client, id, Duration::from_secs(180)).await;
		assert_eq!(
			view.state,
			JobState::Completed,
			"job {view:?}\nbob:\n{}\ncharlie:\n{}",
			workers[0].log(),
			workers[1].log()
		);
		let (verdict, _) = verdict_block(&client, id, seen).await;
		let wall_ms = view.result.as_ref().expect("a result").usage.wall_ms;
		let run_blocks = wall_ms.div_ceil(ms);
		let latency = i64::from(verdict) - i64::from(submitted) - run_blocks as i64;
		println!("job {id}: submitted in {submitted}, verdict in {verdict}, run {wall_ms} ms ({run_blocks} blocks): {latency}");
		jobs.push(serde_json::json!({
			"job": id,
			"submitted_in": submitted,
			"verdict_in": verdict,
			"run_ms": wall_ms,
			"run_blocks": run_blocks,
			"latency_blocks": latency,
		}));
	}
	let mut latencies: Vec<i64> =
		jobs.iter().map(|j| j["latency_blocks"].as_i64().unwrap()).collect();
	latencies.sort();
	let median = latencies[latencies.len() / 2];
	let figures = serde_json::json!({
		"generated_by": "bash scripts/bench-latency.sh",
		"node": "povm-node --dev (fast-runtime), one validator; two povm-workers with real Docker",
		"block_ms": ms,
		"replicas": 2,
		"job_sleep_seconds": LATENCY_SLEEP,
		"median_blocks": median,
		"min_blocks": latencies[0],
		"max_blocks": latencies[latencies.len() - 1],
		"jobs": jobs,
	});
	write_latency_bench(&figures, median);
}

/// Writes the latency figures to `bench/latency.{md,json}` and the median into
/// `bench/scale.json` (`submit_to_verdict_blocks`, the field the issue names).
fn write_latency_bench(figures: &serde_json::Value, median: i64) {
	let bench = povm_network_tests::repo_root().join("bench");
	std::fs::create_dir_all(&bench).unwrap();
	let pretty = serde_json::to_string_pretty(figures).unwrap();
	std::fs::write(bench.join("latency.json"), format!("{pretty}\n")).unwrap();
	let rows: String = figures["jobs"]
		.as_array()
		.unwrap()
		.iter()
		.map(|j| {
			format!(
				"| {} | {} | {} | {} | {} | {} |\n",
				j["job"],
				j["submitted_in"],
				j["verdict_in"],
				j["run_ms"],
				j["run_blocks"],
				j["latency_blocks"]
			)
		})
		.collect();
	let md = format!(
		"# Submit → verdict on a real node\n\n\
		 Generated by `bash scripts/bench-latency.sh` (the ignored network test \
		 `submit_to_verdict_latency_in_blocks`): a `povm-node --dev` (`fast-runtime`, {} ms \
		 blocks) and two `povm-worker`s with real Docker run {} two-replica coin-flip jobs that \
		 each sleep {} s, one after another. Latency is the block holding the verdict less the \
		 block that included `submit_job`, less the run's blocks (⌈run ms / block ms⌉, the run \
		 as revealed).\n\n\
		 **Median: {} blocks** (min {}, max {}; goal ≤ 4).\n\n\
		 | job | `submit_job` in | verdict in | run (ms) | run blocks | latency (blocks) |\n\
		 | ---: | ---: | ---: | ---: | ---: | ---: |\n{rows}",
		figures["block_ms"],
		figures["jobs"].as_array().unwrap().len(),
		figures["job_sleep_seconds"],
		median,
		figures["min_blocks"],
		figures["max_blocks"],
	);
	std::fs::write(bench.join("latency.md"), md).unwrap();
	merge_into_scale_json(&[
		("submit_to_verdict_blocks", median.into()),
		("latency", figures.clone()),
	]);
}

/// Sets `fields` in `bench/scale.json` (the other benchmarks' figures kept) and names the
/// fields still `null` in its `not_measured` note.
fn merge_into_scale_json(fields: &[(&str, serde_json::Value)]) {
	let scale = povm_network_tests::repo_root().join("bench").join("scale.json");
	let mut all: serde_json::Map<String, serde_json::Value> = std::fs::read_to_string(&scale)
		.ok()
		.and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
		.and_then(|v| v.as_object().cloned())
		.unwrap_or_default();
	for (key, value) in fields {
		all.insert((*key).into(), value.clone());
	}
	let nulls: Vec<String> =
		all.iter().filter(|(_, v)| v.is_null()).map(|(k, _)| k.clone()).collect();
	if let Some(serde_json::Value::String(note)) = all.get_mut("not_measured") {
		*note = format!(
			"null: not measured yet ({}); see the benchmarks named in docs/testing.md",
			nulls.join(", ")
		);
	}
	let text = serde_json::to_string_pretty(&serde_json::Value::Object(all)).unwrap();
	std::fs::write(scale, format!("{text}\n")).unwrap();
}

//! The Docker executor against the real daemon, with the coin-flip job.
//!
//! Needs a running Docker daemon; the coin-flip image is built once per run by
//! `jobs/coinflip/build-image.sh`.

mod common;

use std::{
	collections::HashMap,
	net::TcpListener,
	time::{SystemTime, UNIX_EPOCH},
};

use bollard::query_parameters::EventsOptions;
use common::{coinflip_image, coinflip_job, executor_with, job_id, local_image};
use futures_util::TryStreamExt;
use povm_worker::executor::{
	ExecError, Execution, Executor, ImageError, JOB_LABEL, MAX_CHECKPOINTS,
};

fn stdout(e: &Execution) -> String {
	String::from_utf8_lossy(&e.stdout).into_owned()
}

fn unix_now() -> u64 {
	SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test]
async fn coin_flip_twice_gives_identical_result_digest_and_checkpoints_root() {
	let exec = executor_with("determinism", |_| {}).await;
	let args = ["--seed", "42", "--flips", "10000", "--checkpoint-every", "1000"];
	let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
	let a = exec.run(&coinflip_job(1, a_dir.path(), &args)).await.unwrap();
	let b = exec.run(&coinflip_job(1, b_dir.path(), &args)).await.unwrap();

	assert_eq!(a.exit_code, 0, "stderr: {}", String::from_utf8_lossy(&a.stderr));
	assert_eq!(a.flags, Default::default());
	assert_eq!(a.checkpoints.len(), 10);
	assert_eq!(a.checkpoints[0].name, "cp-000001");
	assert_eq!(a.checkpoints[9].name, "cp-000010");
	let tally: serde_json::Value = serde_json::from_slice(a.output("tally.json").unwrap()).unwrap();
	assert_eq!(tally["flips"], 10000);
	assert_eq!(tally["heads"].as_u64().unwrap() + tally["tails"].as_u64().unwrap(), 10000);
	assert_eq!(a.stdout, a.output("tally.json").unwrap());

	assert_eq!(a.result_digest(), b.result_digest());
	assert_eq!(a.checkpoints_root(), b.checkpoints_root());
	assert_eq!(a.checkpoints, b.checkpoints);

	// Another seed is another result.
	let c_dir = tempfile::tempdir().unwrap();
	let other = ["--seed", "43", "--flips", "10000", "--checkpoint-every", "1000"];
	let c = exec.run(&coinflip_job(1, c_dir.path(), &other)).await.unwrap();
	assert_ne!(a.result_digest(), c.result_digest());
	assert_ne!(a.checkpoints_root(), c.checkpoints_root());
}

#[tokio::test]
async fn a_job_writing_more_checkpoints_than_a_reveal_carries_keeps_the_first_and_is_flagged() {
	let exec = executor_with("checkpoint-cap", |_| {}).await;
	// 300 checkpoints: 44 more than `MAX_CHECKPOINTS`.
	let args = ["--seed", "5", "--flips", "3000", "--checkpoint-every", "10"];
	let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
	let a = exec.run(&coinflip_job(1, a_dir.path(), &args)).await.unwrap();
	let b = exec.run(&coinflip_job(1, b_dir.path(), &args)).await.unwrap();

	assert_eq!(a.exit_code, 0, "stderr: {}", String::from_utf8_lossy(&a.stderr));
	assert_eq!(a.checkpoints.len(), MAX_CHECKPOINTS);
	assert_eq!(a.checkpoints[0].name, "cp-000001");
	assert_eq!(a.checkpoints[MAX_CHECKPOINTS - 1].name, "cp-000256");
	assert!(a.flags.truncated, "cut checkpoints flag the result");
	// Every honest replica cuts the same way: the same result and checkpoints root.
	assert_eq!(a.result_digest(), b.result_digest());
	assert_eq!(a.checkpoints_root(), b.checkpoints_root());
}

#[tokio::test]
async fn job_runs_unprivileged_on_a_read_only_root_with_writable_tmp_and_job_dirs() {
	let exec = executor_with("sandbox", |_| {}).await;
	let dir = tempfile::tempdir().unwrap();
	let args = [
		"--flips",
		"1",
		"--identity",
		"--try-write",
		"/escape",
		"--try-write",
		"/tmp/scratch",
		"--try-write",
		"/povm/out/extra",
		"--try-write",
		"/povm/checkpoints/cp-extra",
	];
	let run = exec.run(&coinflip_job(10, dir.path(), &args)).await.unwrap();
	let out = stdout(&run);
	assert_eq!(run.exit_code, 0, "stderr: {}", String::from_utf8_lossy(&run.stderr));
	assert!(out.contains("write /escape failed: Read-only file system"), "{out}");
	assert!(out.contains("write /tmp/scratch ok"), "{out}");
	assert!(out.contains("write /povm/out/extra ok"), "{out}");
	assert!(out.contains("write /povm/checkpoints/cp-extra ok"), "{out}");
	assert!(out.contains("Uid: 65534 65534 65534 65534\n"), "{out}");
	assert!(out.contains("Gid: 65534 65534 65534 65534\n"), "{out}");
	assert!(out.contains("NoNewPrivs: 1\n"), "{out}");
	assert!(out.contains("CapEff: 0000000000000000\n"), "{out}");
	assert!(out.contains("CapBnd: 0000000000000000\n"), "{out}");
	assert_eq!(run.output("extra"), Some(&b"probe"[..]));
	assert_eq!(run.checkpoints.len(), 1);
}

#[tokio::test]
async fn usage_is_measured_from_runtime_samples() {
	let exec = executor_with("usage", |_| {}).await;
	let dir = tempfile::tempdir().unwrap();
	let args = ["--flips", "1", "--alloc-mib", "32", "--sleep", "4"];
	let run = exec.run(&coinflip_job(11, dir.path(), &args)).await.unwrap();
	assert_eq!(run.exit_code, 0);
	let u = run.usage;
	eprintln!("usage: {u:?}");
	assert!(u.samples >= 1, "{u:?}");
	assert!(u.peak_memory_mib >= 32, "{u:?}");
	assert!(u.memory_mib_ms > 0, "{u:?}");
	// A lower bound only: the job sleeps 4 s.
	assert!(u.wall_ms >= 4000, "{u:?}");
}

#[tokio::test]
async fn job_over_its_memory_limit_is_oom_killed_and_attested_as_such() {
	let exec = executor_with("oom", |_| {}).await;
	let args = ["--seed", "7", "--flips", "100", "--alloc-mib", "96"];

	let fits_dir = tempfile::tempdir().unwrap();
	let mut fits = coinflip_job(2, fits_dir.path(), &args);
	fits.spec.resources.memory_mib = 256;
	let fits = exec.run(&fits).await.unwrap();
	assert_eq!(fits.exit_code, 0, "stderr: {}", String::from_utf8_lossy(&fits.stderr));
	assert!(!fits.flags.oom_killed);

	let oom_dir = tempfile::tempdir().unwrap();
	let mut oom = coinflip_job(2, oom_dir.path(), &args);
	oom.spec.resources.memory_mib = 32;
	let oom = exec.run(&oom).await.unwrap();
	assert!(oom.flags.oom_killed, "not OOM-killed: exit {} {:?}", oom.exit_code, oom.flags);
	assert!(!oom.flags.timed_out);
	assert_eq!(oom.exit_code, 137);
	assert!(oom.output("tally.json").is_none());
	assert_ne!(oom.result_digest(), fits.result_digest());
}

#[tokio::test]
async fn job_past_max_seconds_is_killed_and_flagged_timed_out() {
	let exec = executor_with("timeout", |_| {}).await;
	let dir = tempfile::tempdir().unwrap();
	let mut job = coinflip_job(3, dir.path(), &["--seed", "1", "--flips", "10", "--sleep", "300"]);
	job.spec.resources.max_seconds = 1;
	let run = exec.run(&job).await.unwrap();
	assert!(run.flags.timed_out);
	assert!(!run.flags.oom_killed);
	assert_eq!(run.exit_code, 137);
	assert!(run.output("tally.json").is_none());
	// The container is gone even though it was killed.
	let left = exec.client().list_labelled(JOB_LABEL, &job.job_id.to_string()).await.unwrap();
	assert!(left.is_empty(), "containers left behind: {left:?}");
}

#[tokio::test]
async fn job_cannot_reach_the_host_or_any_network() {
	let exec = executor_with("network", |_| {}).await;
	// A listener on every host address: reachable from the host itself...
	let listener = TcpListener::bind("0.0.0.0:0").unwrap();
	let port = listener.local_addr().unwrap().port();
	assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
	// ...but not from the job, neither on its loopback nor via the Docker bridge gateway.
	let gateway = exec
		.client()
		.inner()
		.inspect_network("bridge", None)
		.await
		.ok()
		.and_then(|n| n.ipam?.config?.into_iter().find_map(|c| c.gateway))
		.unwrap_or_else(|| "172.17.0.1".to_owned());
	let loopback = format!("127.0.0.1:{port}");
	let bridge = format!("{gateway}:{port}");
	let dir = tempfile::tempdir().unwrap();
	let args = ["--flips", "1", "--net-report", "--connect", &loopback, "--connect", &bridge];
	let run = exec.run(&coinflip_job(4, dir.path(), &args)).await.unwrap();

	let out = stdout(&run);
	assert_eq!(run.exit_code, 0, "stderr: {}", String::from_utf8_lossy(&run.stderr));
	assert!(out.contains("interfaces lo\n"), "interfaces other than lo: {out}");
	assert!(out.contains(&format!("connect {loopback} failed")), "{out}");
	assert!(out.contains(&format!("connect {bridge} failed")), "{out}");
	assert!(!out.contains(" ok\n"), "a connection succeeded: {out}");
}

#[tokio::test]
async fn stdout_beyond_the_log_cap_is_cut_and_flagged() {
	let exec = executor_with("logcap", |c| c.max_log_bytes = 4096).await;
	let dir = tempfile::tempdir().unwrap();
	let args = ["--flips", "10", "--print-bytes", "200000"];
	let run = exec.run(&coinflip_job(5, dir.path(), &args)).await.unwrap();
	assert_eq!(run.exit_code, 0);
	assert_eq!(run.stdout.len(), 4096);
	assert!(run.flags.truncated);
	assert!(run.stdout.starts_with(b"{\"seed\":0,"));

	let small_dir = tempfile::tempdir().unwrap();
	let within = exec.run(&coinflip_job(5, small_dir.path(), &["--flips", "10"])).await.unwrap();
	assert!(!within.flags.truncated);
	assert_ne!(run.result_digest(), within.result_digest());
}

#[tokio::test]
async fn output_files_beyond_the_output_cap_are_cut_and_flagged() {
	let exec = executor_with("outcap", |c| c.max_output_bytes = 10).await;
	let dir = tempfile::tempdir().unwrap();
	let run = exec.run(&coinflip_job(6, dir.path(), &["--flips", "10"])).await.unwrap();
	assert_eq!(run.exit_code, 0);
	assert_eq!(run.output("tally.json").unwrap(), b"{\"seed\":0,");
	assert!(run.flags.truncated);
}

#[tokio::test]
async fn wrong_image_digest_is_refused_before_any_container_starts() {
	let image = coinflip_image();
	let exec = executor_with("digest", |_| {}).await;
	let since = unix_now();
	let dir = tempfile::tempdir().unwrap();
	let refused_id = job_id(7);

	// Well-formed, but no such image and no tar for it.
	let mut job = coinflip_job(7, dir.path(), &[]);
	job.spec.image = local_image(&format!("sha256:{}", "0".repeat(64)));
	assert!(matches!(exec.run(&job).await, Err(ExecError::Image(ImageError::Unavailable { .. }))));

	// A tar under the wrong name: its config is not the spec's image, so it is refused before
	// anything is loaded.
	let wrong_hex = "1".repeat(64);
	let hex = image.digest.strip_prefix("sha256:").unwrap();
	std::fs::copy(image.dir.join(format!("{hex}.tar")), image.dir.join(format!("{wrong_hex}.tar")))
		.unwrap();
	job.spec.image = local_image(&format!("sha256:{wrong_hex}"));
	let err = exec.run(&job).await.unwrap_err();
	std::fs::remove_file(image.dir.join(format!("{wrong_hex}.tar"))).unwrap();
	assert!(matches!(err, ExecError::Image(ImageError::TarInvalid { .. })), "{err}");

	// Not an image ID at all (a tag).
	job.spec.image = local_image("povm/coinflip:latest");
	let err = exec.run(&job).await.unwrap_err();
	assert!(matches!(err, ExecError::Image(ImageError::InvalidReference { .. })), "{err}");

	// A good job in the same window, to show that the event query sees creations.
	let good_dir = tempfile::tempdir().unwrap();
	let good = coinflip_job(8, good_dir.path(), &["--flips", "1"]);
	exec.run(&good).await.unwrap();

	let created = |id: u64| {
		let options = EventsOptions {
			since: Some(since.to_string()),
			until: Some((unix_now() + 1).to_string()),
			filters: Some(HashMap::from([
				("type".to_owned(), vec!["container".to_owned()]),
				("event".to_owned(), vec!["create".to_owned()]),
				("label".to_owned(), vec![format!("{JOB_LABEL}={id}")]),
			])),
		};
		exec.client().inner().events(Some(options)).try_collect::<Vec<_>>()
	};
	assert_eq!(created(good.job_id).await.unwrap().len(), 1);
	assert!(created(refused_id).await.unwrap().is_empty(), "a refused job created a container");
}

#[tokio::test]
async fn orphaned_containers_of_the_instance_are_removed_at_start() {
	use bollard::models::ContainerCreateBody;
	let first = executor_with("orphans", |_| {}).await;
	let instance = first.config().instance.clone();
	let orphan = first
		.client()
		.inner()
		.create_container(
			None,
			ContainerCreateBody {
				image: Some(coinflip_image().digest.clone()),
				labels: Some(HashMap::from([
					(povm_worker::executor::WORKER_LABEL.to_owned(), instance.clone()),
					(JOB_LABEL.to_owned(), job_id(9).to_string()),
				])),
				..Default::default()
			},
		)
		.await
		.unwrap()
		.id;
	let restarted = executor_with("orphans", |_| {}).await;
	let left = restarted
		.client()
		.list_labelled(povm_worker::executor::WORKER_LABEL, &instance)
		.await
		.unwrap();
	assert!(left.is_empty(), "orphan {orphan} survived a restart");
}

//! The sandbox's kernel boundary on the real Docker daemon: the worker's own seccomp profile
//! refuses what a job has no business calling, the provider's OCI runtime (gVisor's `runsc`)
//! is used and checked at start, and a run that is abandoned leaves no container behind.

mod common;

use std::time::{Duration, Instant};

use common::{executor_with, job_id, shell_job};
use povm_worker::executor::{
	DockerClient, DockerConfig, DockerExecutor, ExecError, Execution, Executor, GVISOR_RUNTIME,
	JOB_LABEL, WORKER_LABEL,
};

/// Whether the daemon has gVisor registered, asked before an executor is built (the executor
/// refuses to start on an unregistered runtime); prints why a test is skipped when not.
async fn gvisor_registered() -> bool {
	let client = DockerClient::connect(Duration::from_secs(60)).await.expect("connect to Docker");
	let info = client.info().await.expect("docker info");
	let registered = povm_worker::executor::registered_runtimes(&info);
	if !registered.iter().any(|r| r == GVISOR_RUNTIME) {
		println!(
			"SKIPPED: the Docker daemon has no `runsc` runtime (it has {registered:?}); \
			 scripts/setup.sh installs and registers it"
		);
		return false;
	}
	true
}

/// The worker's own seccomp profile without `uname` (JSON).
fn profile_refusing_uname() -> String {
	let mut profile: serde_json::Value =
		serde_json::from_str(povm_worker::executor::DEFAULT_SECCOMP_PROFILE).unwrap();
	let names = profile["syscalls"][0]["names"].as_array_mut().unwrap();
	names.retain(|n| n != "uname");
	profile.to_string()
}

/// Whether a run of `busybox uname -r` was refused `uname(2)`: busybox prints nothing then
/// (and may still exit 0); allowed, it prints the kernel's release.
fn uname_refused(run: &Execution) -> bool {
	String::from_utf8_lossy(&run.stdout).trim().is_empty() || run.exit_code != 0
}

#[tokio::test]
async fn the_workers_seccomp_profile_refuses_namespaces_and_mounts() {
	let exec = executor_with("seccomp", |_| {}).await;
	let dir = tempfile::tempdir().unwrap();
	// Without a seccomp filter an unprivileged user namespace is allowed by the kernel (no
	// capability needed): the profile is what refuses it.
	let job = shell_job(
		1,
		dir.path(),
		"/bin/busybox unshare -U -r /bin/busybox true; echo unshare=$?; \
		 /bin/busybox mount -t tmpfs none /tmp; echo mount=$?; echo still running",
	);
	let run = exec.run(&job).await.unwrap();
	let stdout = String::from_utf8_lossy(&run.stdout);
	let stderr = String::from_utf8_lossy(&run.stderr);
	assert_eq!(run.exit_code, 0, "{stdout}{stderr}");
	assert!(stdout.contains("unshare=1"), "{stdout}");
	assert!(stdout.contains("mount=1"), "{stdout}");
	assert!(stderr.contains("Operation not permitted"), "{stderr}");
	assert!(stdout.contains("still running"));
}

#[tokio::test]
async fn a_provider_profile_replaces_the_workers() {
	// A profile that refuses `uname`: the job sees the provider's profile, not the default.
	let exec = executor_with("seccomp-own", |c| c.seccomp_profile = profile_refusing_uname()).await;
	let dir = tempfile::tempdir().unwrap();
	let run = exec.run(&shell_job(2, dir.path(), "/bin/busybox uname -r")).await.unwrap();
	assert!(uname_refused(&run), "uname ran: {}", String::from_utf8_lossy(&run.stdout));
	let default = executor_with("seccomp-default", |_| {}).await;
	let dir = tempfile::tempdir().unwrap();
	let run = default.run(&shell_job(3, dir.path(), "/bin/busybox uname -r")).await.unwrap();
	assert_eq!(run.exit_code, 0);
	assert!(!String::from_utf8_lossy(&run.stdout).trim().is_empty(), "the default allows uname");
}

#[tokio::test]
async fn the_seccomp_profile_holds_under_gvisor_too() {
	// gVisor ignores a container's seccomp profile unless registered with `--oci-seccomp`
	// (which the worker requires): then a call the profile refuses is refused under gVisor as
	// under runc, and replicas on either runtime see the same job behaviour.
	if !gvisor_registered().await {
		return;
	}
	let exec = executor_with("gvisor-seccomp", |c| {
		c.runtime = GVISOR_RUNTIME.into();
		c.seccomp_profile = profile_refusing_uname();
	})
	.await;
	let dir = tempfile::tempdir().unwrap();
	let run = exec.run(&shell_job(6, dir.path(), "/bin/busybox uname -r")).await.unwrap();
	assert!(
		uname_refused(&run),
		"uname ran under gVisor: {}",
		String::from_utf8_lossy(&run.stdout)
	);
}

#[tokio::test]
async fn an_unregistered_runtime_is_refused_at_start() {
	let mut config = DockerConfig::new(
		format!("test-no-runtime-{}", std::process::id()),
		common::coinflip_image().dir.clone(),
	);
	config.allow_without_lsm = true;
	config.runtime = "povm-no-such-runtime".into();
	match DockerExecutor::connect(config).await {
		Err(e @ ExecError::RuntimeNotRegistered { .. }) => {
			let message = e.to_string();
			assert!(message.contains("povm-no-such-runtime"), "{message}");
			assert!(message.contains("daemon.json"), "says how to register it: {message}");
		},
		other => panic!("expected RuntimeNotRegistered, got {:?}", other.map(|_| ())),
	}
}

#[tokio::test]
async fn a_job_runs_under_gvisor_with_its_limits_and_usage() {
	if !gvisor_registered().await {
		return;
	}
	let exec = executor_with("gvisor", |c| c.runtime = GVISOR_RUNTIME.into()).await;
	let dir = tempfile::tempdir().unwrap();
	let job = shell_job(
		3,
		dir.path(),
		"/bin/busybox dmesg >/dev/null 2>&1 || echo no-syslog; /bin/busybox uname -r; \
		 /bin/busybox touch /root-is-read-only 2>/dev/null || echo read-only; \
		 /bin/busybox unshare -U -r /bin/busybox true 2>/dev/null || echo no-userns; \
		 /bin/busybox echo done > /povm/out/result",
	);
	let run = exec.run(&job).await.unwrap();
	let stdout = String::from_utf8_lossy(&run.stdout);
	assert_eq!(run.exit_code, 0, "{stdout}{}", String::from_utf8_lossy(&run.stderr));
	// gVisor reports its own kernel release, 4.4.0; `syslog` (dmesg) is refused by the worker's
	// profile, which gVisor enforces (`--oci-seccomp`) as runc does.
	assert!(stdout.contains("4.4.0\n"), "the job's kernel is not gVisor's: {stdout}");
	assert!(stdout.contains("no-syslog"), "the profile does not hold under gVisor: {stdout}");
	let host = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
	assert!(!stdout.contains(host.trim()), "the job sees the host's kernel: {stdout}");
	assert!(stdout.contains("read-only") && stdout.contains("no-userns"), "{stdout}");
	assert_eq!(run.output("result"), Some(&b"done\n"[..]), "out/ is the run's");
	assert!(run.usage.wall_ms > 0);

	// The memory limit holds under gVisor too (the sandbox's own memory counts against it).
	let hog = shell_job(
		4,
		dir.path(),
		"/bin/busybox dd if=/dev/zero of=/dev/shm/fill bs=1048576 count=60 2>/dev/null; \
		 /bin/busybox sleep 1; echo survived",
	);
	let mut hog = hog;
	hog.spec.resources.memory_mib = 48;
	hog.work_dir = dir.path().join("hog");
	let run = exec.run(&hog).await.unwrap();
	assert!(
		run.flags.oom_killed || run.exit_code != 0,
		"60 MiB in a 48 MiB job: exit {} {}",
		run.exit_code,
		String::from_utf8_lossy(&run.stdout)
	);
}

#[tokio::test]
async fn an_abandoned_run_leaves_no_container() {
	let exec = executor_with("abandoned", |_| {}).await;
	let dir = tempfile::tempdir().unwrap();
	let job = shell_job(5, dir.path(), "/bin/busybox sleep 300");
	let running = {
		let (exec, job) = (exec.clone(), job.clone());
		tokio::spawn(async move { exec.run(&job).await })
	};
	let labelled = || async {
		exec.client()
			.list_labelled(WORKER_LABEL, &exec.config().instance)
			.await
			.unwrap()
	};
	let started = Instant::now();
	while labelled().await.is_empty() {
		assert!(started.elapsed() < Duration::from_secs(60), "the job never started");
		tokio::time::sleep(Duration::from_millis(200)).await;
	}
	// The worker's task is dropped mid-run, as on a shutdown whose grace period is over.
	running.abort();
	let _ = running.await;
	let dropped = Instant::now();
	while !labelled().await.is_empty() {
		assert!(
			dropped.elapsed() < Duration::from_secs(20),
			"the container of job {} outlived its run (label {JOB_LABEL})",
			job_id(5)
		);
		tokio::time::sleep(Duration::from_millis(200)).await;
	}
}

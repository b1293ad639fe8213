//! Scenario 7 of issue 11 against the real Docker daemon: job content must not be able to fill
//! the host's disk, create files without end, or make the worker miss its commit; and honest
//! replicas of a deterministic job see the same environment.
//!
//! The jobs are busybox shell scripts (`common::busybox_image`). Every write is bounded, so the
//! tests stay quick and harmless even on an executor without quotas.

mod common;

use std::{
	os::unix::fs::MetadataExt,
	path::Path,
	time::{Duration, Instant},
};

use common::{executor_with, shell_job};
use povm_worker::executor::{DockerExecutor, Execution, Executor, JobRun};

/// The quota the tests configure: small, so that filling it is quick.
const QUOTA: u64 = 8 << 20;
/// The file cap the tests configure.
const MAX_FILES: u32 = 50;
/// Size of `/tmp` and `/dev/shm` in the tests, in MiB.
const TMPFS_MIB: u32 = 4;

fn stdout(e: &Execution) -> String {
	String::from_utf8_lossy(&e.stdout).into_owned()
}

async fn quota_executor(name: &str) -> DockerExecutor {
	executor_with(name, |c| {
		c.disk_quota_bytes = QUOTA;
		c.max_files = MAX_FILES;
		c.tmpfs_mib = TMPFS_MIB;
	})
	.await
}

/// Bytes allocated on the host under `dir` (what the job left on the host's disk).
fn allocated(dir: &Path) -> u64 {
	let mut total = 0;
	let mut stack = vec![dir.to_owned()];
	while let Some(d) = stack.pop() {
		let Ok(entries) = std::fs::read_dir(&d) else { continue };
		for entry in entries.flatten() {
			let Ok(meta) = entry.path().symlink_metadata() else { continue };
			total += meta.blocks() * 512;
			if meta.is_dir() {
				stack.push(entry.path());
			}
		}
	}
	total
}

/// Runs `job` twice, in two work directories (two honest replicas), each within `wall`.
async fn run_twice(exec: &DockerExecutor, job: impl Fn(&Path) -> JobRun) -> (Execution, Execution) {
	let mut runs = Vec::new();
	for _ in 0..2 {
		let dir = tempfile::tempdir().unwrap();
		let started = Instant::now();
		let run = exec
			.run(&job(dir.path()))
			.await
			.expect("an over-quota job is an ordinary result, not an executor error");
		assert!(started.elapsed() < Duration::from_secs(25), "took {:?}", started.elapsed());
		let left = allocated(dir.path());
		assert!(left <= QUOTA, "the job left {left} bytes on the host disk (quota {QUOTA})");
		runs.push(run);
	}
	let b = runs.pop().unwrap();
	(runs.pop().unwrap(), b)
}

#[tokio::test]
async fn a_job_writing_past_its_disk_quota_is_cut_flagged_and_agreed() {
	let exec = quota_executor("disk-quota").await;
	// 32 MiB into a checkpoint (four times the quota), 16 MiB into `/dev/shm` and `/tmp`
	// (four times their size): bounded writes, so that an unquota'd executor survives them.
	let script = "head -c 33554432 /dev/zero > /povm/checkpoints/cp-1; \
		head -c 16777216 /dev/zero > /dev/shm/fill; \
		head -c 16777216 /dev/zero > /tmp/fill; \
		stat -c 'size %n %s' /povm/checkpoints/cp-1 /dev/shm/fill /tmp/fill; \
		echo done";
	let (a, b) = run_twice(&exec, |dir| shell_job(1, dir, script)).await;
	let out = stdout(&a);

	assert!(a.flags.truncated, "a run that filled its quota is not flagged: {out}");
	assert!(!a.flags.oom_killed && !a.flags.timed_out, "{:?}", a.flags);
	assert!(out.contains(&format!("size /povm/checkpoints/cp-1 {QUOTA}\n")), "{out}");
	let tmpfs = u64::from(TMPFS_MIB) << 20;
	assert!(out.contains(&format!("size /dev/shm/fill {tmpfs}\n")), "{out}");
	assert!(out.contains(&format!("size /tmp/fill {tmpfs}\n")), "{out}");
	assert!(out.ends_with("done\n"), "{out}");
	assert_eq!(a.checkpoints.len(), 1);
	assert_eq!(a.checkpoints[0].size, QUOTA);
	// Two honest replicas of the over-quota job agree.
	assert_eq!(a.result_digest(), b.result_digest());
	assert_eq!(a.checkpoints_root(), b.checkpoints_root());
}

#[tokio::test]
async fn a_job_creating_more_files_than_the_cap_is_cut_flagged_and_agreed() {
	let exec = quota_executor("file-cap").await;
	// Up to 1000 files in each writable place (20 times the cap), counting how many it got.
	// (`true`, not `:`: a failed redirection of a special built-in ends the shell.)
	let script = "for d in /povm/out /tmp /dev/shm; do \
			i=0; while [ $i -lt 1000 ]; do true > $d/f$i 2>/dev/null || break; i=$((i+1)); done; \
			echo \"$d made $i\"; \
		done";
	let (a, b) = run_twice(&exec, |dir| shell_job(2, dir, script)).await;
	let out = stdout(&a);

	assert!(a.flags.truncated, "a run that hit the file cap is not flagged: {out}");
	assert_eq!(a.exit_code, 0, "{out}");
	assert!(out.contains(&format!("/povm/out made {MAX_FILES}\n")), "{out}");
	assert!(out.contains(&format!("/tmp made {MAX_FILES}\n")), "{out}");
	assert!(out.contains(&format!("/dev/shm made {MAX_FILES}\n")), "{out}");
	assert_eq!(a.outputs.len(), MAX_FILES as usize);
	assert_eq!(a.result_digest(), b.result_digest());
}

#[tokio::test]
async fn a_sparse_checkpoint_larger_than_the_quota_is_hashed_only_up_to_the_quota() {
	let exec = quota_executor("sparse").await;
	// 1 GiB of apparent size in no blocks: the worker must not read it all (a 1 TiB one would
	// keep it hashing for hours, past its commit deadline).
	let script = "truncate -s 1073741824 /povm/checkpoints/cp-1 && echo sparse";
	let (a, b) = run_twice(&exec, |dir| shell_job(3, dir, script)).await;
	let out = stdout(&a);

	assert_eq!(a.exit_code, 0, "{out}");
	assert!(a.flags.truncated, "a checkpoint beyond the quota is not flagged: {out}");
	assert_eq!(a.checkpoints.len(), 1);
	assert_eq!(a.checkpoints[0].size, QUOTA);
	assert_eq!(a.checkpoints_root(), b.checkpoints_root());
	assert_eq!(a.result_digest(), b.result_digest());
}

#[tokio::test]
async fn a_job_within_its_quota_is_not_flagged() {
	let exec = quota_executor("within").await;
	let script = "head -c 1048576 /dev/zero > /povm/checkpoints/cp-1; echo hi > /povm/out/o";
	let dir = tempfile::tempdir().unwrap();
	let run = exec.run(&shell_job(4, dir.path(), script)).await.unwrap();
	assert_eq!(run.exit_code, 0, "{}", stdout(&run));
	assert_eq!(run.flags, Default::default());
	assert_eq!(run.checkpoints[0].size, 1 << 20);
	assert_eq!(run.output("o"), Some(&b"hi\n"[..]));
}

#[tokio::test]
async fn every_replica_sees_the_same_host_name_time_zone_locale_and_limits() {
	let exec = executor_with("environment", |_| {}).await;
	let script = "echo \"hostname $(hostname)\"; echo \"uname $(uname -n) $(uname -s)\"; \
		echo \"domain $(cat /proc/sys/kernel/domainname)\"; \
		echo \"tz $(date +%Z) TZ=$TZ\"; echo \"locale LANG=$LANG LC_ALL=$LC_ALL\"; \
		echo '-- env'; env | sort; \
		echo '-- /etc/hostname'; cat /etc/hostname; \
		echo '-- /etc/hosts'; cat /etc/hosts; \
		echo '-- /etc/resolv.conf'; cat /etc/resolv.conf; \
		echo '-- ulimit'; ulimit -a";
	let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
	let a = exec.run(&shell_job(5, a_dir.path(), script)).await.unwrap();
	let b = exec.run(&shell_job(5, b_dir.path(), script)).await.unwrap();
	let out = stdout(&a);
	eprintln!("{out}");

	assert_eq!(a.exit_code, 0, "{out}{}", String::from_utf8_lossy(&a.stderr));
	assert_eq!(a.stdout, b.stdout, "replicas saw different environments");
	assert_eq!(a.result_digest(), b.result_digest());
	assert!(out.contains("hostname povm\n"), "{out}");
	assert!(out.contains("tz UTC TZ=UTC\n"), "{out}");
	assert!(out.contains("locale LANG=C.UTF-8 LC_ALL=C.UTF-8\n"), "{out}");
	// Nothing of the host's DNS configuration reaches the job.
	let resolv = out.split("-- /etc/resolv.conf\n").nth(1).unwrap().split("-- ulimit").next();
	assert!(!resolv.unwrap().contains("nameserver"), "{out}");
	// A computing job stops on its own once past the CPU time its quota allows in its run time
	// and a margin, even if its worker is no longer there to kill it: the limit is set.
	let resources = shell_job(5, a_dir.path(), "").spec.resources;
	let (soft, _) =
		povm_worker::executor::cpu_time_limit(exec.config().runtime.as_str(), &resources);
	let cpu = out
		.lines()
		.find(|l| l.starts_with("cpu time"))
		.expect("ulimit -a shows the CPU time");
	assert!(cpu.ends_with(&format!(" {soft}")), "{cpu}, expected {soft}");

	// The job's own environment still wins over the pinned one.
	let dir = tempfile::tempdir().unwrap();
	let mut job = shell_job(6, dir.path(), "echo \"TZ=$TZ\"");
	job.spec.env = vec![("TZ".to_owned(), "Europe/Paris".to_owned())];
	let run = exec.run(&job).await.unwrap();
	assert_eq!(stdout(&run), "TZ=Europe/Paris\n");
}

//! What an image's own configuration cannot do to the sandbox (the real Docker daemon): a
//! `VOLUME` gets no writable, unbounded volume on the host's disk, and a `HEALTHCHECK` never
//! runs beside the job.

mod common;

use std::process::Command;

use common::{busybox_image_with, executor_with, local_image, shell_job};
use povm_worker::executor::Executor;

/// The daemon's volumes.
fn volumes() -> Vec<String> {
	let out = Command::new("docker").args(["volume", "ls", "-q"]).output().expect("docker");
	String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
}

#[tokio::test]
async fn an_image_volume_is_a_capped_tmpfs_not_a_host_volume() {
	let image = busybox_image_with("povm/busybox-volume-test:latest", "VOLUME /data\n");
	let exec = executor_with("volume", |_| {}).await;
	let dir = tempfile::tempdir().unwrap();
	let before = volumes();
	let mut job = shell_job(
		1,
		dir.path(),
		"/bin/busybox dd if=/dev/zero of=/data/big bs=1048576 count=100 2>/dev/null; \
		 /bin/busybox du -m /data/big | /bin/busybox cut -f1",
	);
	job.spec.image = local_image(&image.digest);
	let run = exec.run(&job).await.unwrap();
	let written: u64 = String::from_utf8_lossy(&run.stdout).trim().parse().expect("a size");
	assert!(written <= 64, "the volume holds at most the 64 MiB tmpfs, not {written} MiB");
	assert_eq!(volumes(), before, "no volume was created on the host");
}

#[tokio::test]
async fn an_image_health_check_never_runs() {
	let image = busybox_image_with(
		"povm/busybox-health-test:latest",
		"HEALTHCHECK --interval=1s CMD [\"/bin/busybox\", \"touch\", \"/povm/out/health\"]\n",
	);
	let exec = executor_with("health", |_| {}).await;
	let dir = tempfile::tempdir().unwrap();
	let mut job = shell_job(2, dir.path(), "/bin/busybox sleep 4");
	job.spec.image = local_image(&image.digest);
	let run = exec.run(&job).await.unwrap();
	assert_eq!(run.exit_code, 0);
	assert!(run.output("health").is_none(), "the image's health check ran");
}

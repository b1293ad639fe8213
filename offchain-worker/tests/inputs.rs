//! A job's input files: fetched over HTTP from a server the test starts, checked against the
//! spec, and mounted read-only at `/povm/in` (the real Docker daemon).

mod common;

use common::{executor_with, serve_file, sha256, shell_job};
use povm_worker::{
	executor::{ExecError, Executor},
	fetch::{FetchError, InputSpec},
};

const CSV: &[u8] = b"city,temp\nOslo,-3.5\nLima,19\n";

#[tokio::test]
async fn inputs_are_fetched_checked_and_mounted_read_only() {
	let url = serve_file("data.csv", CSV.to_vec()).await;
	let exec = executor_with("inputs", |c| c.fetch.allow_private_addresses = true).await;
	let dir = tempfile::tempdir().unwrap();
	let mut job = shell_job(
		1,
		dir.path(),
		"/bin/busybox cp /povm/in/data.csv /povm/out/copy.csv; \
		 if /bin/busybox touch /povm/in/new 2>/dev/null; then echo writable; else echo read-only; fi",
	);
	job.spec.inputs = vec![InputSpec {
		name: "data.csv".into(),
		url,
		sha256: sha256(CSV),
		size: CSV.len() as u64,
	}];
	let run = exec.run(&job).await.unwrap();
	assert_eq!(run.exit_code, 0, "{}", String::from_utf8_lossy(&run.stderr));
	assert_eq!(run.output("copy.csv"), Some(CSV));
	assert_eq!(run.stdout, b"read-only\n");
}

#[tokio::test]
async fn a_wrong_digest_or_size_is_never_run() {
	let url = serve_file("data.csv", CSV.to_vec()).await;
	let exec = executor_with("inputs-bad", |c| c.fetch.allow_private_addresses = true).await;
	let dir = tempfile::tempdir().unwrap();
	let mut job = shell_job(2, dir.path(), "echo ran > /povm/out/ran");
	let good =
		InputSpec { name: "data.csv".into(), url, sha256: sha256(CSV), size: CSV.len() as u64 };

	job.spec.inputs = vec![InputSpec { sha256: [0; 32], ..good.clone() }];
	let err = exec.run(&job).await.unwrap_err();
	assert!(matches!(err, ExecError::Input(FetchError::DigestMismatch { .. })), "{err}");
	assert!(!dir.path().join("in/data.csv").exists(), "a wrong input is not kept");

	job.spec.inputs = vec![InputSpec { size: CSV.len() as u64 - 1, ..good }];
	let err = exec.run(&job).await.unwrap_err();
	assert!(matches!(err, ExecError::Input(FetchError::SizeMismatch { .. })), "{err}");
}

#[tokio::test]
async fn loopback_inputs_are_refused_unless_the_provider_allows_them() {
	let url = serve_file("data.csv", CSV.to_vec()).await;
	let exec = executor_with("inputs-private", |_| {}).await;
	let dir = tempfile::tempdir().unwrap();
	let mut job = shell_job(3, dir.path(), "true");
	job.spec.inputs = vec![InputSpec {
		name: "data.csv".into(),
		url,
		sha256: sha256(CSV),
		size: CSV.len() as u64,
	}];
	let err = exec.run(&job).await.unwrap_err();
	assert!(matches!(err, ExecError::Input(FetchError::AddressNotAllowed { .. })), "{err}");
}

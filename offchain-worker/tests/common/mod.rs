//! Shared helpers of the executor tests: the coin-flip image, built once per test binary.

#![allow(dead_code)]

use std::{
	path::{Path, PathBuf},
	process::Command,
	sync::OnceLock,
};

use povm_worker::executor::{DockerConfig, DockerExecutor, JobRun, JobSpec, Resources};

/// The coin-flip image: its digest and the image directory holding `<hex>.tar`.
pub struct Image {
	pub digest: String,
	pub dir: PathBuf,
}

/// Builds the coin-flip image with `jobs/coinflip/build-image.sh`, once per test binary.
///
/// The script gets its own cargo target dir so that it never waits on the lock of the
/// target dir that is running these tests.
pub fn coinflip_image() -> &'static Image {
	static IMAGE: OnceLock<Image> = OnceLock::new();
	IMAGE.get_or_init(|| {
		let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
		let dir = tmp.join("povm-images");
		let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../jobs/coinflip/build-image.sh");
		let out = Command::new("bash")
			.arg(&script)
			.arg(&dir)
			.env("COINFLIP_TARGET_DIR", tmp.join("coinflip-target"))
			.output()
			.expect("run build-image.sh");
		assert!(
			out.status.success(),
			"build-image.sh failed:\n{}",
			String::from_utf8_lossy(&out.stderr)
		);
		let stdout = String::from_utf8(out.stdout).expect("utf-8 output");
		let digest = stdout.lines().last().expect("a digest line").trim().to_owned();
		assert!(digest.starts_with("sha256:"), "unexpected digest line {digest:?}");
		Image { digest, dir }
	})
}

/// A job id unique to this test process and `n`.
pub fn job_id(n: u64) -> u64 {
	(u64::from(std::process::id()) << 20) | n
}

/// An executor whose containers carry the instance label `test-<name>-<pid>`.
pub async fn executor_with(name: &str, tweak: impl FnOnce(&mut DockerConfig)) -> DockerExecutor {
	let image = coinflip_image();
	let mut config =
		DockerConfig::new(format!("test-{name}-{}", std::process::id()), image.dir.clone());
	tweak(&mut config);
	DockerExecutor::connect(config).await.expect("connect to Docker")
}

/// A coin-flip job with generous limits and `args` after `/coinflip`.
pub fn coinflip_job(id: u64, work_dir: &Path, args: &[&str]) -> JobRun {
	JobRun {
		job_id: job_id(id),
		spec: JobSpec {
			image: coinflip_image().digest.clone(),
			command: vec!["/coinflip".to_owned()],
			args: args.iter().map(|a| (*a).to_owned()).collect(),
			env: vec![],
			resources: Resources { millicores: 500, memory_mib: 64, max_seconds: 60, pids: 32 },
		},
		work_dir: work_dir.to_owned(),
	}
}

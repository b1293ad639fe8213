//! The coin-flip job image the network's workers run, built once per test process.

use std::{
	path::{Path, PathBuf},
	process::Command,
	sync::OnceLock,
};

use crate::{target_dir, Result, RunnerError};

/// A job image: its id (`sha256:<hex>`) and the directory holding `<hex>.tar`.
#[derive(Debug, Clone)]
pub struct Image {
	/// The image id, as a job spec names it.
	pub digest: String,
	/// The directory workers load `<hex>.tar` from.
	pub dir: PathBuf,
	/// The static coin-flip binary inside the image, to compute expected results natively
	/// (`$POVM_COINFLIP_BIN`, else the one `build-image.sh` built, if any).
	pub binary: Option<PathBuf>,
}

impl Image {
	/// The image reference of a job spec: this image's ID, no registry (workers load it from
	/// their image directory), x86-64.
	pub fn local_ref(&self) -> povm_primitives::ImageRef {
		povm_primitives::ImageRef::local(digest_bytes(&self.digest))
	}
}

/// The 32 bytes of a digest Docker printed, `sha256:<64 hex digits>` (an image ID or a manifest
/// digest; checked to have that form where it was read).
pub fn digest_bytes(digest: &str) -> [u8; 32] {
	let mut bytes = [0u8; 32];
	let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
	hex::decode_to_slice(hex, &mut bytes).expect("a digest is sha256:<64 hex digits>");
	bytes
}

/// The coin-flip image: `$POVM_COINFLIP_IMAGE` in `$POVM_COINFLIP_IMAGE_DIR` when both are
/// set, else built with `jobs/coinflip/build-image.sh` into `<target dir>/tmp/povm-images`
/// (the static binary in its own `<target dir>/tmp/coinflip-target`, so the script never waits
/// on the lock of the target dir running the tests; the worker's and the client tests use the
/// same two directories, so one build serves all). Fails with [`RunnerError::ImageBuild`]
/// when the script builds no image; a failure is kept, and every later call returns it.
pub fn coinflip_image() -> Result<Image> {
	static IMAGE: OnceLock<Result<Image>> = OnceLock::new();
	IMAGE.get_or_init(build).clone()
}

fn build() -> Result<Image> {
	if let (Ok(digest), Ok(dir)) =
		(std::env::var("POVM_COINFLIP_IMAGE"), std::env::var("POVM_COINFLIP_IMAGE_DIR"))
	{
		let binary = std::env::var("POVM_COINFLIP_BIN")
			.ok()
			.map(PathBuf::from)
			.or_else(default_binary);
		return Ok(Image { digest, dir: dir.into(), binary });
	}
	let dir = target_dir().join("tmp").join("povm-images");
	let digest = run_build_script("jobs/coinflip/build-image.sh", &dir)?;
	Ok(Image { digest, dir, binary: default_binary() })
}

/// The image of the example job `name` (`csv-summary`, `pi`): built with
/// `jobs/<name>/build-image.sh` into `<target dir>/tmp/povm-job-images/<name>` (a directory of
/// its own, so that workers given the coin-flip directory cannot load it from a tar), tagged
/// `povm/<name>:latest`. Built once per process and name.
pub fn example_image(name: &str) -> Result<Image> {
	static IMAGES: std::sync::Mutex<Vec<(String, Image)>> = std::sync::Mutex::new(Vec::new());
	let mut images = IMAGES.lock().unwrap_or_else(|e| e.into_inner());
	if let Some((_, image)) = images.iter().find(|(n, _)| n == name) {
		return Ok(image.clone());
	}
	let dir = target_dir().join("tmp").join("povm-job-images").join(name);
	let digest = run_build_script(&format!("jobs/{name}/build-image.sh"), &dir)?;
	let image = Image { digest, dir, binary: None };
	images.push((name.to_owned(), image.clone()));
	Ok(image)
}

/// Runs the image build script `script` (relative to the repository) with image directory
/// `dir` and the shared static-build target dir; returns the image ID it prints last.
fn run_build_script(script: &str, dir: &Path) -> Result<String> {
	let static_target = target_dir().join("tmp").join("coinflip-target");
	let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(script);
	let out = Command::new("bash")
		.arg(&script)
		.arg(dir)
		.env("COINFLIP_TARGET_DIR", &static_target)
		.env("JOB_TARGET_DIR", &static_target)
		.output()
		.map_err(|e| RunnerError::spawn("bash", e))?;
	if !out.status.success() {
		return Err(RunnerError::ImageBuild {
			script,
			status: out.status,
			output: String::from_utf8_lossy(&out.stderr).into_owned(),
		});
	}
	let stdout = String::from_utf8_lossy(&out.stdout);
	let digest = stdout.lines().last().unwrap_or_default().trim().to_owned();
	if !digest.starts_with("sha256:") {
		return Err(RunnerError::ImageBuild {
			script,
			status: out.status,
			output: format!("no image id on the last line of its output:\n{stdout}"),
		});
	}
	Ok(digest)
}

/// The static coin-flip binary `build-image.sh` leaves in the target dir, if it is there.
fn default_binary() -> Option<PathBuf> {
	target_dir()
		.join("tmp/coinflip-target/x86_64-unknown-linux-gnu/release/coinflip")
		.canonicalize()
		.ok()
}

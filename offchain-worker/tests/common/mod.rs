//! Shared helpers of the executor tests: the coin-flip image, built once per test binary.

#![allow(dead_code)]

use std::{
	path::{Path, PathBuf},
	process::Command,
	sync::OnceLock,
};

use povm_worker::executor::{DockerConfig, DockerExecutor, ImageSpec, JobRun, JobSpec, Resources};

/// The spec of a local image (no registry) with ID `digest`, for this host's platform.
pub fn local_image(digest: &str) -> ImageSpec {
	ImageSpec {
		id: digest.to_owned(),
		registry: None,
		platform: povm_worker::config::host_arch().platform().to_owned(),
	}
}

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
	// The CI and development hosts run Docker without AppArmor or SELinux (seccomp, the
	// cgroup limits and the dropped capabilities still apply): allowed for the tests only.
	config.allow_without_lsm = true;
	tweak(&mut config);
	DockerExecutor::connect(config).await.expect("connect to Docker")
}

/// A coin-flip job with generous limits and `args` after `/coinflip`.
pub fn coinflip_job(id: u64, work_dir: &Path, args: &[&str]) -> JobRun {
	JobRun {
		job_id: job_id(id),
		spec: JobSpec {
			image: local_image(&coinflip_image().digest),
			inputs: vec![],
			command: vec!["/coinflip".to_owned()],
			args: args.iter().map(|a| (*a).to_owned()).collect(),
			env: vec![],
			resources: Resources { millicores: 500, memory_mib: 64, max_seconds: 60, pids: 32 },
		},
		work_dir: work_dir.to_owned(),
		prepare_within: povm_worker::executor::DEFAULT_PREPARE_WITHIN,
	}
}

/// A `FROM scratch` image holding only the host's static busybox at `/bin/busybox` (Debian's
/// `busybox-static`, installed by `scripts/setup.sh`), for jobs written as shell scripts.
/// Built once per test binary with the legacy builder (no registry access) and saved as
/// `<hex>.tar` next to the coin-flip image.
pub fn busybox_image() -> &'static Image {
	static IMAGE: OnceLock<Image> = OnceLock::new();
	IMAGE.get_or_init(|| busybox_image_with("povm/busybox-test:latest", ""))
}

/// A busybox image like [`busybox_image`] with `extra` Dockerfile lines (`VOLUME`,
/// `HEALTHCHECK`, …), tagged `tag` and saved next to the coin-flip image.
pub fn busybox_image_with(tag: &str, extra: &str) -> Image {
	let dir = coinflip_image().dir.clone();
	let busybox = Path::new("/bin/busybox");
	let file = Command::new("file").arg("-L").arg(busybox).output().expect("run file");
	let kind = String::from_utf8_lossy(&file.stdout);
	assert!(kind.contains("statically linked"), "need a static /bin/busybox: {kind}");
	let ctx = tempfile::tempdir().expect("build context");
	std::fs::copy(busybox, ctx.path().join("busybox")).expect("copy busybox");
	std::fs::write(
		ctx.path().join("Dockerfile"),
		format!("FROM scratch\nCOPY busybox /bin/busybox\nUSER 65534:65534\n{extra}"),
	)
	.expect("write Dockerfile");
	let run = |args: &[&str]| {
		let out = Command::new("docker")
			.args(args)
			.env("DOCKER_BUILDKIT", "0")
			.output()
			.expect("run docker");
		assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
		String::from_utf8(out.stdout).expect("utf-8 output").trim().to_owned()
	};
	run(&["build", "--quiet", "--tag", tag, &ctx.path().display().to_string()]);
	let digest = run(&["image", "inspect", "--format", "{{.Id}}", tag]);
	let hex = digest.strip_prefix("sha256:").expect("an image id");
	let tar = dir.join(format!("{hex}.tar"));
	if !tar.is_file() {
		run(&["save", "--output", &tar.display().to_string(), tag]);
	}
	Image { digest, dir }
}

/// A job running `script` with busybox `sh -c` (applets run without a `PATH` lookup).
pub fn shell_job(id: u64, work_dir: &Path, script: &str) -> JobRun {
	JobRun {
		job_id: job_id(id),
		spec: JobSpec {
			image: local_image(&busybox_image().digest),
			inputs: vec![],
			command: vec!["/bin/busybox".to_owned(), "sh".to_owned(), "-c".to_owned()],
			args: vec![script.to_owned()],
			env: vec![],
			resources: Resources { millicores: 500, memory_mib: 64, max_seconds: 30, pids: 32 },
		},
		work_dir: work_dir.to_owned(),
		prepare_within: povm_worker::executor::DEFAULT_PREPARE_WITHIN,
	}
}

/// A one-file HTTP server on a loopback port, started by the test: every request gets `body`
/// with `200 OK`. Returns the URL of `/<name>`; the server runs until the test's runtime ends.
pub async fn serve_file(name: &str, body: Vec<u8>) -> String {
	use tokio::io::{AsyncReadExt, AsyncWriteExt};
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
	let addr = listener.local_addr().expect("local address");
	tokio::spawn(async move {
		while let Ok((mut stream, _)) = listener.accept().await {
			let body = body.clone();
			tokio::spawn(async move {
				let mut head = Vec::new();
				let mut buf = [0u8; 1024];
				while !head.windows(4).any(|w| w == b"\r\n\r\n") {
					match stream.read(&mut buf).await {
						Ok(0) | Err(_) => return,
						Ok(n) => head.extend_from_slice(&buf[..n]),
					}
				}
				let reply = format!(
					"HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
					body.len()
				);
				let _ = stream.write_all(reply.as_bytes()).await;
				let _ = stream.write_all(&body).await;
			});
		}
	});
	format!("http://{addr}/{name}")
}

/// The SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
	sp_io::hashing::sha2_256(bytes)
}

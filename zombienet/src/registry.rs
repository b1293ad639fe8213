//! A real image registry on a loopback port, started by a test: Debian's `docker-registry`
//! (the CNCF distribution registry, installed by `scripts/setup.sh`), with images pushed to it
//! by the Docker CLI and pulled by the workers by manifest digest.

use std::{
	net::{Ipv4Addr, TcpStream},
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

use crate::{free_port, images::digest_bytes, Result, RunnerError};

/// The registry binary of Debian's `docker-registry` package.
pub const REGISTRY_BINARY: &str = "/usr/bin/docker-registry";

/// A running registry; stopped when dropped.
pub struct Registry {
	/// Its port on 127.0.0.1.
	pub port: u16,
	/// Its directory (configuration, storage, log).
	pub dir: PathBuf,
	child: Child,
}

/// An image pushed to a [`Registry`]: what a job spec names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pushed {
	/// `127.0.0.1:<port>/povm/<name>`.
	pub repository: String,
	/// The manifest digest the registry serves it under, `sha256:<hex>`.
	pub manifest: String,
	/// The image ID, `sha256:<hex>`.
	pub id: String,
}

impl Pushed {
	/// The image reference of a job spec: ID, registry and manifest, x86-64.
	pub fn image_ref(&self) -> povm_primitives::ImageRef {
		// Both came from Docker as `sha256:<64 hex>` (the manifest checked in `push`).
		povm_primitives::ImageRef {
			id: digest_bytes(&self.id),
			registry: Some(povm_primitives::RegistryRef {
				repository: self.repository.as_bytes().to_vec().try_into().expect("short"),
				manifest: digest_bytes(&self.manifest),
			}),
			arch: povm_primitives::Arch::X86_64,
		}
	}
}

impl Registry {
	/// Starts a registry in `dir` on a free loopback port and waits until it listens.
	pub fn start(dir: &Path) -> Result<Self> {
		std::fs::create_dir_all(dir).map_err(|e| RunnerError::io("create", dir, e))?;
		let port = free_port(Ipv4Addr::LOCALHOST)?;
		let config = dir.join("config.yml");
		let yaml = format!(
			"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
			 http:\n  addr: 127.0.0.1:{port}\n  secret: povm-test-registry\n",
			dir.join("data").display()
		);
		std::fs::write(&config, yaml).map_err(|e| RunnerError::io("write", &config, e))?;
		let log_path = dir.join("registry.log");
		let log = std::fs::File::create(&log_path)
			.map_err(|e| RunnerError::io("create", &log_path, e))?;
		let child = Command::new(REGISTRY_BINARY)
			.arg("serve")
			.arg(&config)
			.stdout(Stdio::null())
			.stderr(log)
			.spawn()
			.map_err(|e| RunnerError::spawn(REGISTRY_BINARY, e))?;
		let registry = Self { port, dir: dir.to_owned(), child };
		let deadline = Instant::now() + Duration::from_secs(20);
		while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
			if Instant::now() > deadline {
				return Err(RunnerError::timeout("the registry to listen", Duration::from_secs(20)));
			}
			std::thread::sleep(Duration::from_millis(50));
		}
		Ok(registry)
	}

	/// Pushes the local image `tag` as `povm/<name>:latest`, then removes it and every tag of
	/// its ID from the local daemon, so that a worker on that daemon must pull it.
	pub fn push_and_forget(&self, tag: &str, name: &str) -> Result<Pushed> {
		let repository = format!("127.0.0.1:{}/povm/{name}", self.port);
		let remote = format!("{repository}:latest");
		let id = docker(&["image", "inspect", "--format", "{{.Id}}", tag])?;
		docker(&["tag", tag, &remote])?;
		docker(&["push", "--quiet", &remote])?;
		let digests =
			docker(&["image", "inspect", "--format", "{{join .RepoDigests \"\\n\"}}", &remote])?;
		let manifest = digests
			.lines()
			.find_map(|d| d.strip_prefix(&format!("{repository}@")))
			.filter(|m| m.len() == 71 && m.starts_with("sha256:"))
			.ok_or_else(|| RunnerError::Registry {
				what: format!("the manifest digest of {remote}"),
				output: digests.clone(),
			})?
			.to_owned();
		docker(&["image", "rm", "--force", &id])?;
		Ok(Pushed { repository, manifest, id })
	}
}

impl Drop for Registry {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

/// Runs the Docker CLI (test setup only); returns its trimmed stdout.
fn docker(args: &[&str]) -> Result<String> {
	let out = Command::new("docker")
		.args(args)
		.output()
		.map_err(|e| RunnerError::spawn("docker", e))?;
	if !out.status.success() {
		return Err(RunnerError::Registry {
			what: format!("docker {}", args.join(" ")),
			output: String::from_utf8_lossy(&out.stderr).into_owned(),
		});
	}
	Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

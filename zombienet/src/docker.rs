//! A private Docker daemon for one worker, so a test can stop "the Docker daemon under a
//! worker" without touching the system daemon the other workers use.
//!
//! It runs `dockerd` with its own socket, data root, exec root (and so its own managed
//! containerd), no bridge network and no iptables rules: job containers run with networking
//! off anyway.

use std::{
	fs::File,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

use crate::{process, Result, RunnerError};

/// A `dockerd` process of the test, stopped when dropped.
pub struct PrivateDocker {
	dir: PathBuf,
	child: Option<Child>,
}

impl PrivateDocker {
	/// Starts a daemon with its state under `dir` and waits until it answers.
	pub fn start(dir: &Path) -> Result<Self> {
		std::fs::create_dir_all(dir).map_err(|e| RunnerError::io("create", dir, e))?;
		let mut daemon = Self { dir: dir.to_path_buf(), child: None };
		daemon.restart()?;
		Ok(daemon)
	}

	/// The endpoint for `DOCKER_HOST`.
	pub fn host(&self) -> String {
		format!("unix://{}", self.dir.join("docker.sock").display())
	}

	/// Whether the daemon answers `docker version`.
	pub fn answers(&self) -> bool {
		Command::new("docker")
			.args(["-H", &self.host(), "version", "--format", "{{.Server.Version}}"])
			.stdout(Stdio::null())
			.stderr(Stdio::null())
			.status()
			.is_ok_and(|s| s.success())
	}

	/// Starts the daemon (again) and waits up to a minute until it answers; fails with
	/// [`RunnerError::Docker`] when it does not.
	pub fn restart(&mut self) -> Result<()> {
		self.stop();
		let log_path = self.dir.join("dockerd.log");
		let log = File::options()
			.create(true)
			.append(true)
			.open(&log_path)
			.map_err(|e| RunnerError::io("open", &log_path, e))?;
		let err = log.try_clone().map_err(|e| RunnerError::io("open", &log_path, e))?;
		let d = |name: &str| self.dir.join(name).display().to_string();
		let child = Command::new("dockerd")
			.args(["--host", &self.host()])
			.args([
				"--data-root",
				&d("data"),
				"--exec-root",
				&d("exec"),
				"--pidfile",
				&d("dockerd.pid"),
			])
			.args(["--bridge", "none", "--iptables=false", "--ip6tables=false", "--ip-masq=false"])
			.stdin(Stdio::null())
			.stdout(log)
			.stderr(err)
			.spawn()
			.map_err(|e| RunnerError::spawn("dockerd", e))?;
		self.child = Some(child);
		let timeout = Duration::from_secs(60);
		let deadline = Instant::now() + timeout;
		while !self.answers() {
			if Instant::now() > deadline {
				return Err(RunnerError::Docker { after: timeout, log: log_path });
			}
			std::thread::sleep(Duration::from_millis(500));
		}
		Ok(())
	}

	/// Stops the daemon (SIGTERM, SIGKILL after 20 s) and waits until it is gone.
	pub fn stop(&mut self) {
		process::stop(&mut self.child, process::Signal::Term, Duration::from_secs(20));
	}
}

impl Drop for PrivateDocker {
	fn drop(&mut self) {
		self.stop();
	}
}

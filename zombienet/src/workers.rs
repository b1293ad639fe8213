//! Provider workers of a network: `povm-worker` processes with their own config, state and
//! logs, registered with a bond and serving assignments from one node of the network.

use std::{
	fs::File,
	io::Read,
	net::Ipv4Addr,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

use serde::Deserialize;

use crate::{error::log_tail, free_port, process, target_dir, Result, RunnerError, LOG_TAIL};

/// One `[[workers]]` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkerDef {
	/// The worker's name: its directory and log names.
	pub name: String,
	/// The provider's secret URI (`//Charlie`); handed to the worker in an environment
	/// variable, never on the command line.
	pub key: String,
	/// The node (by name) whose RPC it uses.
	pub node: String,
	/// Concurrent job slots.
	#[serde(default = "default_slots")]
	pub slots: u32,
	/// Bond in plancks.
	#[serde(default = "default_bond")]
	pub bond: u128,
	/// The Docker endpoint (`unix:///path`), default: the system daemon.
	pub docker_host: Option<String>,
	/// The worker binary's name in the target dir's `release/`, default `povm-worker`
	/// (`povm-worker-cheat` is the network tests' cheating provider).
	pub binary: Option<String>,
	/// Pull images from registries, and fetch inputs from servers, on loopback and private
	/// addresses (the tests' registry and HTTP servers run on loopback).
	#[serde(default)]
	pub allow_private_sources: bool,
	/// Serve the result files of the jobs it runs to their owners, on a free loopback port
	/// (`[results]`), and record the service on chain at start.
	#[serde(default)]
	pub serve_results: bool,
}

impl WorkerDef {
	/// A worker `name` that signs with `key` and uses `node`'s RPC, with the defaults of a
	/// `[[workers]]` entry: one slot, the default bond, the system Docker, `povm-worker`.
	pub fn new(name: &str, key: &str, node: &str) -> Self {
		Self {
			name: name.into(),
			key: key.into(),
			node: node.into(),
			slots: default_slots(),
			bond: default_bond(),
			docker_host: None,
			binary: None,
			allow_private_sources: false,
			serve_results: false,
		}
	}
}

fn default_slots() -> u32 {
	1
}

fn default_bond() -> u128 {
	1_000 * 10u128.pow(12)
}

/// A worker binary: `povm-worker` is `$POVM_WORKER` if set; any other `name` (or no
/// `$POVM_WORKER`) is the release build `name` in the target dir.
pub fn worker_binary(name: &str) -> Result<PathBuf> {
	if name == "povm-worker" {
		if let Ok(path) = std::env::var("POVM_WORKER") {
			return Ok(PathBuf::from(path));
		}
	}
	let path = target_dir().join("release").join(name);
	if path.exists() {
		Ok(path)
	} else {
		let features = if name == "povm-worker-cheat" { " --features test-cheat" } else { "" };
		let mut hint = format!("run `cargo build --release -p povm-worker{features} --bin {name}`");
		if name == "povm-worker" {
			hint.push_str(" or set POVM_WORKER");
		}
		Err(RunnerError::MissingBinary { name: name.into(), path, hint })
	}
}

/// The customer's command, `povm`: `$POVM_CLI` if set, else the release build in the target
/// dir.
pub fn cli_binary() -> Result<PathBuf> {
	crate::release_binary(
		"POVM_CLI",
		"povm",
		"run `cargo build --release -p povm-cli` or set POVM_CLI",
	)
}

/// The worker's metric that is 1 once `povm-worker run` serves assignments.
const SERVING: &str = "povm_worker_serving";

/// The environment variable the runner passes the provider key in.
const KEY_ENV: &str = "POVM_NET_PROVIDER_KEY";

/// A provider worker: its files and, while it runs, its `povm-worker run` process.
pub struct WorkerHandle {
	/// The definition it was started from.
	pub def: WorkerDef,
	/// Its directory (config, state, logs).
	pub dir: PathBuf,
	/// Its Prometheus endpoint port on 127.0.0.1.
	pub metrics_port: u16,
	/// Its result server's port on 127.0.0.1, when it serves results.
	pub results_port: Option<u16>,
	binary: PathBuf,
	child: Option<Child>,
}

impl WorkerHandle {
	/// Writes the worker's config for `node_rpc_port` and the coin-flip `image_dir`.
	pub fn new(def: WorkerDef, root: &Path, node_rpc_port: u16, image_dir: &Path) -> Result<Self> {
		let dir = root.join(format!("worker-{}", def.name));
		std::fs::create_dir_all(&dir).map_err(|e| RunnerError::io("create", &dir, e))?;
		let metrics_port = free_port(Ipv4Addr::LOCALHOST)?;
		let docker_host = match &def.docker_host {
			Some(h) => format!("docker_host = \"{h}\"\n"),
			None => String::new(),
		};
		let results_port =
			if def.serve_results { Some(free_port(Ipv4Addr::LOCALHOST)?) } else { None };
		let results = match results_port {
			Some(port) => format!(
				"[results]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\nretention_hours = 1\n"
			),
			None => String::new(),
		};
		let config = format!(
			r#"node_url = "ws://127.0.0.1:{node_rpc_port}"
key_env = "{KEY_ENV}"
{docker_host}image_dir = "{image_dir}"
state_dir = "{state}"
metrics_addr = "127.0.0.1:{metrics_port}"
slots = {slots}
heartbeat_every = 3
bond = "{bond}"
shutdown_grace_secs = 10
instance = "net-{name}-{pid}"
[offer]
millicores = 1000
memory_mib = 512
[images]
allow_private_registries = {private}
[inputs]
allow_private_addresses = {private}
# Local test networks run on development and CI hosts whose Docker has neither AppArmor nor
# SELinux (seccomp, the cgroup limits and the dropped capabilities still apply). A real
# provider leaves this off, or runs gVisor (`runtime = "runsc"`).
[sandbox]
allow_without_lsm = true
{results}"#,
			image_dir = image_dir.display(),
			state = dir.join("state").display(),
			slots = def.slots,
			bond = def.bond,
			name = def.name,
			pid = std::process::id(),
			private = def.allow_private_sources,
		);
		let config_path = dir.join("worker.toml");
		std::fs::write(&config_path, config)
			.map_err(|e| RunnerError::io("write", &config_path, e))?;
		let binary = worker_binary(def.binary.as_deref().unwrap_or("povm-worker"))?;
		Ok(Self { def, dir, metrics_port, results_port, binary, child: None })
	}

	/// A `povm-worker` command with this worker's config and key, stderr appended to `log`.
	pub fn command(&self, args: &[&str], log: &str) -> Result<Command> {
		let log_path = self.dir.join(log);
		let log = File::options()
			.create(true)
			.append(true)
			.open(&log_path)
			.map_err(|e| RunnerError::io("open", &log_path, e))?;
		let mut cmd = Command::new(&self.binary);
		cmd.arg("--config")
			.arg(self.dir.join("worker.toml"))
			.args(args)
			.env(KEY_ENV, &self.def.key)
			.env("RUST_LOG", "info,povm=debug")
			.stdin(Stdio::null())
			.stdout(Stdio::piped())
			.stderr(log);
		Ok(cmd)
	}

	/// Runs a one-shot subcommand (`register`, `session-keys …`) and returns its stdout. Fails
	/// with [`RunnerError::WorkerCommand`] (with what it logged and printed) when it exits
	/// with an error.
	pub fn oneshot(&self, args: &[&str]) -> Result<String> {
		let log_path = self.dir.join("oneshot.log");
		let logged_before = std::fs::metadata(&log_path).map(|m| m.len() as usize).unwrap_or(0);
		let out = self
			.command(args, "oneshot.log")?
			.output()
			.map_err(|e| RunnerError::spawn(&self.binary, e))?;
		let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
		if !out.status.success() {
			let log = std::fs::read(&log_path).unwrap_or_default();
			let mut output =
				String::from_utf8_lossy(log.get(logged_before..).unwrap_or_default()).into_owned();
			output.push_str(&stdout);
			return Err(RunnerError::WorkerCommand {
				worker: self.def.name.clone(),
				args: args.iter().map(|a| a.to_string()).collect(),
				status: out.status,
				output,
			});
		}
		Ok(stdout)
	}

	/// Registers the provider (offer, bond, lottery VRF key).
	pub fn register(&self) -> Result<String> {
		self.oneshot(&["register"])
	}

	/// Starts `povm-worker run` and waits (up to a minute) until it serves assignments: it
	/// reached the node, found its registration and connected to Docker. Fails with
	/// [`RunnerError::Exited`] if it exits first, [`RunnerError::Timeout`] after the minute.
	pub fn start(&mut self) -> Result<()> {
		if self.is_running() {
			return Ok(());
		}
		let child = self
			.command(&["run"], "run.log")?
			.stdout(Stdio::null())
			.spawn()
			.map_err(|e| RunnerError::spawn(&self.binary, e))?;
		self.child = Some(child);
		let timeout = Duration::from_secs(60);
		let deadline = Instant::now() + timeout;
		// The new process's metrics endpoint answers once it is up; its gauge turns 1 when it
		// serves.
		while self.metric(SERVING) != Some(1.0) {
			if !self.is_running() {
				return Err(RunnerError::Exited {
					name: format!("worker {}", self.def.name),
					what: "it to serve assignments".into(),
					log_tail: log_tail(&self.log(), LOG_TAIL),
				});
			}
			if Instant::now() > deadline {
				return Err(RunnerError::timeout(
					format!("worker {} to serve assignments", self.def.name),
					timeout,
				));
			}
			std::thread::sleep(Duration::from_millis(200));
		}
		Ok(())
	}

	/// Whether `povm-worker run` is running.
	pub fn is_running(&mut self) -> bool {
		match self.child.as_mut() {
			Some(child) => matches!(child.try_wait(), Ok(None)),
			None => false,
		}
	}

	/// CPU seconds the running `povm-worker run` process has used (`/proc/<pid>/stat`): the
	/// worker itself; the job containers it starts run under Docker, not as its children.
	pub fn cpu_seconds(&self) -> Result<f64> {
		crate::cpu::child_cpu_seconds(&format!("worker {}", self.def.name), self.child.as_ref())
	}

	/// Kills the process (SIGKILL), as a crash would.
	pub fn kill(&mut self) {
		process::kill(&mut self.child);
	}

	/// Stops the process with SIGTERM (graceful shutdown), SIGKILL after `grace`.
	pub fn stop(&mut self, grace: Duration) {
		process::stop(&mut self.child, process::Signal::Term, grace);
	}

	/// The `run` log so far.
	pub fn log(&self) -> String {
		let mut text = String::new();
		if let Ok(mut file) = File::open(self.dir.join("run.log")) {
			let _ = file.read_to_string(&mut text);
		}
		text
	}

	/// The worker's Prometheus metrics, or an empty string when the endpoint is down.
	pub fn metrics(&self) -> String {
		ureq::get(&format!("http://127.0.0.1:{}/metrics", self.metrics_port))
			.timeout(Duration::from_secs(5))
			.call()
			.ok()
			.and_then(|r| r.into_string().ok())
			.unwrap_or_default()
	}

	/// The value of the metric line starting with `series` (name and labels), if present.
	pub fn metric(&self, series: &str) -> Option<f64> {
		self.metrics()
			.lines()
			.find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
			.and_then(|l| l.rsplit(' ').next())
			.and_then(|v| v.parse().ok())
	}
}

impl Drop for WorkerHandle {
	fn drop(&mut self) {
		self.kill();
	}
}

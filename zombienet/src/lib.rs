//! A small native runner for zombienet-style networks of `povm-node` processes and the
//! providers' `povm-worker` processes beside them.
//!
//! [`NetworkDef::from_file`] reads the TOML, [`Network::start`] starts the nodes on their
//! loopback addresses (with a chain spec limited to `authorities` when given), then registers
//! and starts the workers; [`NodeHandle`] queries a node over JSON-RPC (HTTP), kills or stops
//! it, or restarts it on the same ports and database; [`start_dev_node`] and
//! [`start_dev_node_in`] start a single `--dev` node; [`WorkerHandle`] kills, stops or
//! restarts a worker and reads its log and metrics.
//!
//! Every fallible call returns a [`RunnerError`], whose variants say what failed (starting a
//! process, a process exiting early, an RPC call, a wait timing out, …) with its context.

pub mod chain;
pub mod chain_spec;
pub mod cpu;
pub mod docker;
mod error;
pub mod http;
pub mod images;
pub mod process;
pub mod registry;
pub mod workers;

pub use docker::PrivateDocker;
pub use error::RunnerError;
pub use images::{coinflip_image, example_image, Image};
pub use registry::{Pushed, Registry};
pub use workers::{cli_binary, worker_binary, WorkerDef, WorkerHandle};

use std::{
	fs::File,
	io::Read,
	net::{Ipv4Addr, SocketAddrV4, TcpListener},
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	sync::Arc,
	thread::sleep,
	time::{Duration, Instant},
};

use serde::Deserialize;
use serde_json::{json, Value};

/// The runner's result type.
pub type Result<T> = std::result::Result<T, RunnerError>;

/// Lines of a process's log that an error or [`Network::logs`] shows.
const LOG_TAIL: usize = 40;

/// Set (to anything) to keep a network's directory of databases and logs after the test.
pub const KEEP_NETWORK_ENV: &str = "POVM_KEEP_NETWORK";

/// `[settings]` of a network definition.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
	/// Seconds a test waits for the network to reach what it asserts.
	pub timeout: u64,
}

/// `[network]` of a network definition.
#[derive(Debug, Clone, Deserialize)]
pub struct NetworkSection {
	/// The chain every node runs: `dev`, `local` or a chain-spec path.
	pub chain: String,
	/// Dev key names (`alice`, `bob`, …) of the genesis validators: when set, the nodes run a
	/// spec of the `chain` preset with only their session keys.
	pub authorities: Option<Vec<String>>,
	/// Values merged into the preset's genesis patch (`genesis.runtimeGenesis.patch` of the
	/// spec), as zombienet's `[relaychain.genesis.runtimeGenesis.patch]`: for example
	/// `[network.genesis.vrfLottery] minValidators = 2`. Tables merge key by key; other values
	/// replace.
	pub genesis: Option<toml::Table>,
	/// A baseline runtime to start the chain with instead of the node's own (a directory as
	/// [`chain_spec::BaselineRuntime`] reads, relative to the repository root): the network
	/// that a runtime-upgrade test upgrades to the node's runtime.
	pub runtime: Option<PathBuf>,
}

/// One `[[nodes]]` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct NodeDef {
	/// The node's name, also its log file's name.
	pub name: String,
	/// The loopback address it listens on for peers.
	pub ip: Ipv4Addr,
	/// Whether it runs with `--validator`.
	#[serde(default)]
	pub validator: bool,
	/// A dev key name (`alice`, `bob`, …) whose keys go into its keystore.
	pub key: Option<String>,
	/// More command-line arguments.
	#[serde(default)]
	pub args: Vec<String>,
}

/// A whole network definition file.
#[derive(Debug, Clone, Deserialize)]
pub struct NetworkDef {
	/// Test settings.
	pub settings: Settings,
	/// The chain.
	pub network: NetworkSection,
	/// The nodes, the first being every other node's boot node.
	pub nodes: Vec<NodeDef>,
	/// Provider workers, registered and started after the nodes.
	#[serde(default)]
	pub workers: Vec<WorkerDef>,
}

impl NetworkDef {
	/// Reads a definition from a TOML file.
	pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
		let path = path.as_ref();
		let text = std::fs::read_to_string(path).map_err(|e| RunnerError::io("read", path, e))?;
		Self::from_toml(&path.display().to_string(), &text)
	}

	/// Parses a definition from TOML text (`name` says where it came from, for errors).
	pub fn from_toml(name: &str, text: &str) -> Result<Self> {
		toml::from_str(text)
			.map_err(|e| RunnerError::Config { path: name.into(), message: e.to_string() })
	}

	/// The test timeout as a duration.
	pub fn timeout(&self) -> Duration {
		Duration::from_secs(self.settings.timeout)
	}
}

/// The repository's root directory (this crate's parent).
pub fn repo_root() -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The cargo target dir: `$CARGO_TARGET_DIR`, else the workspace's `target/`.
pub fn target_dir() -> PathBuf {
	std::env::var("CARGO_TARGET_DIR")
		.map(PathBuf::from)
		.unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("target"))
}

/// A binary the tests run: `$env` if set, else the release build `name` in the target dir;
/// missing, [`RunnerError::MissingBinary`] with `hint` (how to build it).
pub fn release_binary(env: &str, name: &str, hint: &str) -> Result<PathBuf> {
	if let Ok(path) = std::env::var(env) {
		return Ok(PathBuf::from(path));
	}
	let path = target_dir().join("release").join(name);
	if path.exists() {
		Ok(path)
	} else {
		Err(RunnerError::MissingBinary { name: name.into(), path, hint: hint.into() })
	}
}

/// The `povm-node` binary the tests run: `$POVM_NODE`, else the release build in
/// `$CARGO_TARGET_DIR` or the workspace's `target/`.
pub fn node_binary() -> Result<PathBuf> {
	release_binary(
		"POVM_NODE",
		"povm-node",
		"run `cargo build --release -p povm-node --features fast-runtime` or set POVM_NODE",
	)
}

/// A free TCP port on `ip`.
pub fn free_port(ip: Ipv4Addr) -> Result<u16> {
	TcpListener::bind(SocketAddrV4::new(ip, 0))
		.and_then(|listener| listener.local_addr())
		.map(|a| a.port())
		.map_err(|e| RunnerError::FreePort { ip, source: Arc::new(e) })
}

/// What a node was started with, kept to restart it the same way.
#[derive(Debug, Clone)]
struct LaunchArgs {
	args: Vec<String>,
	log_path: PathBuf,
}

/// A running (or killed) `povm-node` process.
pub struct NodeHandle {
	/// The node's name.
	pub name: String,
	/// Its JSON-RPC port on 127.0.0.1.
	pub rpc_port: u16,
	/// Its peer-to-peer port on [`NodeDef::ip`].
	pub p2p_port: u16,
	/// Its loopback address.
	pub ip: Ipv4Addr,
	/// Its Prometheus port on 127.0.0.1.
	pub prometheus_port: u16,
	launch: LaunchArgs,
	child: Option<Child>,
	binary: PathBuf,
}

impl NodeHandle {
	/// Starts `binary` with `args`, output to `log_path`.
	fn spawn(&mut self) -> Result<()> {
		let log = File::options()
			.create(true)
			.append(true)
			.open(&self.launch.log_path)
			.map_err(|e| RunnerError::io("open", &self.launch.log_path, e))?;
		let err = log.try_clone().map_err(|e| RunnerError::io("open", &self.launch.log_path, e))?;
		let child = Command::new(&self.binary)
			.args(&self.launch.args)
			.stdin(Stdio::null())
			.stdout(log)
			.stderr(err)
			.spawn()
			.map_err(|e| RunnerError::spawn(&self.binary, e))?;
		self.child = Some(child);
		Ok(())
	}

	/// Starts the process and waits (up to a minute) until its RPC answers. A node that
	/// exits while starting is started again, up to three times (under load wasmtime
	/// occasionally fails to seal its memfd at start-up).
	fn start(&mut self) -> Result<()> {
		let mut attempt = 1;
		loop {
			self.spawn()?;
			let up = self.wait_for("RPC to answer", Duration::from_secs(60), |n| {
				n.rpc("system_health", json!([])).map(|_| true)
			});
			match up {
				Err(e) if attempt < 3 && !self.is_running() => {
					eprintln!("{} (attempt {attempt} of 3); starting it again", e);
					attempt += 1;
				},
				other => return other,
			}
		}
	}

	/// The node's JSON-RPC URL.
	pub fn rpc_url(&self) -> String {
		format!("http://127.0.0.1:{}", self.rpc_port)
	}

	/// Calls `method` with `params` and returns its `result`.
	pub fn rpc(&self, method: &str, params: Value) -> Result<Value> {
		rpc_at(&self.rpc_node(), &self.rpc_url(), method, params)
	}

	/// How [`RunnerError::Rpc`] names this node: its name and RPC URL.
	fn rpc_node(&self) -> String {
		format!("{} ({})", self.name, self.rpc_url())
	}

	/// The error for an answer to `method` that is not what it should be.
	fn bad_answer(&self, method: &str, answer: &Value) -> RunnerError {
		RunnerError::Rpc {
			node: self.rpc_node(),
			method: method.into(),
			message: format!("unexpected answer {answer}"),
		}
	}

	/// Whether the process is still running.
	pub fn is_running(&mut self) -> bool {
		match self.child.as_mut() {
			Some(child) => matches!(child.try_wait(), Ok(None)),
			None => false,
		}
	}

	/// CPU seconds the running node process has used (`/proc/<pid>/stat`).
	pub fn cpu_seconds(&self) -> Result<f64> {
		cpu::child_cpu_seconds(&self.name, self.child.as_ref())
	}

	/// The number of the best block.
	pub fn best_number(&self) -> Result<u64> {
		let header = self.rpc("chain_getHeader", json!([]))?;
		parse_number(&header["number"]).ok_or_else(|| self.bad_answer("chain_getHeader", &header))
	}

	/// The number of the last finalised block.
	pub fn finalized_number(&self) -> Result<u64> {
		let hash = self.rpc("chain_getFinalizedHead", json!([]))?;
		let header = self.rpc("chain_getHeader", json!([hash]))?;
		parse_number(&header["number"]).ok_or_else(|| self.bad_answer("chain_getHeader", &header))
	}

	/// The runtime's `spec_version` at `at` (a block hash; the best block when `None`).
	pub fn spec_version(&self, at: Option<&str>) -> Result<u32> {
		let version = self.rpc("state_getRuntimeVersion", json!([at]))?;
		version["specVersion"]
			.as_u64()
			.and_then(|v| u32::try_from(v).ok())
			.ok_or_else(|| self.bad_answer("state_getRuntimeVersion", &version))
	}

	/// Every storage pair at block `at` (a hash), keys and values `0x`-hex, in key order, read
	/// with the node's safe RPCs (`state_getKeysPaged`, `state_queryStorageAt`): the state a
	/// migration test starts from, as `export-state` would give it without stopping the node.
	pub fn storage_pairs(&self, at: &str) -> Result<Vec<(String, String)>> {
		const PAGE: usize = 1000;
		let mut pairs = Vec::new();
		let mut start: Option<String> = None;
		loop {
			let keys = self.rpc("state_getKeysPaged", json!(["0x", PAGE, start, at]))?;
			let keys: Vec<String> = serde_json::from_value(keys.clone())
				.map_err(|_| self.bad_answer("state_getKeysPaged", &keys))?;
			if keys.is_empty() {
				break;
			}
			let sets = self.rpc("state_queryStorageAt", json!([keys, at]))?;
			let changes = sets
				.get(0)
				.and_then(|set| set.get("changes"))
				.and_then(Value::as_array)
				.ok_or_else(|| self.bad_answer("state_queryStorageAt", &sets))?;
			for change in changes {
				if let (Some(key), Some(value)) =
					(change.get(0).and_then(Value::as_str), change.get(1).and_then(Value::as_str))
				{
					pairs.push((key.to_string(), value.to_string()));
				}
			}
			let last = keys.last().cloned();
			if keys.len() < PAGE {
				break;
			}
			start = last;
		}
		pairs.sort();
		Ok(pairs)
	}

	/// How many peers the node is connected to.
	pub fn peers(&self) -> Result<u64> {
		let health = self.rpc("system_health", json!([]))?;
		health["peers"]
			.as_u64()
			.ok_or_else(|| self.bad_answer("system_health", &health))
	}

	/// Waits until `check` holds, polling every second. Fails with [`RunnerError::Exited`]
	/// if the node exits, or after `timeout` with [`RunnerError::Timeout`] naming `what` and
	/// the last error `check` gave.
	pub fn wait_for(
		&mut self,
		what: &str,
		timeout: Duration,
		mut check: impl FnMut(&NodeHandle) -> Result<bool>,
	) -> Result<()> {
		let start = Instant::now();
		let mut last_error = None;
		while start.elapsed() < timeout {
			if !self.is_running() {
				return Err(RunnerError::Exited {
					name: self.name.clone(),
					what: what.into(),
					log_tail: error::log_tail(&self.log(), LOG_TAIL),
				});
			}
			match check(self) {
				Ok(true) => return Ok(()),
				Ok(false) => {},
				Err(e) => last_error = Some(Box::new(e)),
			}
			sleep(Duration::from_secs(1));
		}
		Err(RunnerError::Timeout {
			what: format!("{what} on {}", self.name),
			after: timeout,
			last_error,
		})
	}

	/// Kills the process (SIGKILL) and waits for it.
	pub fn kill(&mut self) {
		process::kill(&mut self.child);
	}

	/// Stops the process with SIGINT (a clean shutdown that closes the database), SIGKILL
	/// after `grace`, and waits for it.
	pub fn stop(&mut self, grace: Duration) {
		process::stop(&mut self.child, process::Signal::Int, grace);
	}

	/// Starts the node again with the same ports, keys and database, and waits for its RPC.
	/// A killed or stopped node is just started. A `--tmp` node (see [`start_dev_node`])
	/// starts a new chain; one with a base path (see [`start_dev_node_in`]) resumes its own.
	pub fn restart(&mut self) -> Result<()> {
		self.kill();
		self.start()
	}

	/// The node's WebSocket RPC URL (the same port serves HTTP and WebSocket).
	pub fn ws_url(&self) -> String {
		format!("ws://127.0.0.1:{}", self.rpc_port)
	}

	/// The node's log so far.
	pub fn log(&self) -> String {
		let mut text = String::new();
		if let Ok(mut file) = File::open(&self.launch.log_path) {
			let _ = file.read_to_string(&mut text);
		}
		text
	}
}

impl Drop for NodeHandle {
	fn drop(&mut self) {
		self.kill();
	}
}

/// Parses a block number given as a hex string or a JSON number.
fn parse_number(value: &Value) -> Option<u64> {
	match value {
		Value::String(s) => u64::from_str_radix(s.trim_start_matches("0x"), 16).ok(),
		Value::Number(n) => n.as_u64(),
		_ => None,
	}
}

/// One JSON-RPC call over HTTP.
pub fn rpc_call(url: &str, method: &str, params: Value) -> Result<Value> {
	rpc_at(url, url, method, params)
}

/// One JSON-RPC call over HTTP to `url`, whose errors name the node `node`.
fn rpc_at(node: &str, url: &str, method: &str, params: Value) -> Result<Value> {
	let error =
		|message: String| RunnerError::Rpc { node: node.into(), method: method.into(), message };
	let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
	let response = ureq::post(url)
		.timeout(Duration::from_secs(30))
		.send_json(body)
		.map_err(|e| error(e.to_string()))?;
	let reply: Value = response.into_json().map_err(|e| error(format!("bad JSON: {e}")))?;
	if let Some(e) = reply.get("error") {
		return Err(error(format!("error answer {e}")));
	}
	Ok(reply["result"].clone())
}

/// A running network: its nodes, its workers and the directory holding their databases and
/// logs.
pub struct Network {
	/// The workers, in definition order (dropped, i.e. killed, before the nodes).
	pub workers: Vec<WorkerHandle>,
	/// The nodes, in definition order.
	pub nodes: Vec<NodeHandle>,
	/// The definition it was started from.
	pub def: NetworkDef,
	dir: WorkDir,
}

/// Where a network keeps its databases and logs.
enum WorkDir {
	/// A temporary directory, removed with the network.
	Temp(tempfile::TempDir),
	/// A directory the caller chose, kept.
	Kept(PathBuf),
}

impl WorkDir {
	fn path(&self) -> &Path {
		match self {
			WorkDir::Temp(t) => t.path(),
			WorkDir::Kept(p) => p,
		}
	}
}

impl Network {
	/// Starts every node of `def` (the first is the boot node of the others), then registers
	/// and starts its workers; databases and logs go to a temporary directory, removed with
	/// the network unless `POVM_KEEP_NETWORK` is set (then kept, and its path printed), for
	/// reading a failing run's whole logs.
	pub fn start(def: NetworkDef) -> Result<Self> {
		let dir = tempfile::Builder::new()
			.prefix("povm-net-")
			.tempdir()
			.map_err(|e| RunnerError::io("create a temp dir in", std::env::temp_dir(), e))?;
		if std::env::var_os(KEEP_NETWORK_ENV).is_some() {
			let kept = dir.keep();
			eprintln!(
				"{KEEP_NETWORK_ENV}: the network's databases and logs are kept in {}",
				kept.display()
			);
			return Self::start_with(def, WorkDir::Kept(kept));
		}
		Self::start_with(def, WorkDir::Temp(dir))
	}

	/// As [`Network::start`], with databases and logs in `dir`, which is kept.
	pub fn start_in(def: NetworkDef, dir: PathBuf) -> Result<Self> {
		std::fs::create_dir_all(&dir).map_err(|e| RunnerError::io("create", &dir, e))?;
		Self::start_with(def, WorkDir::Kept(dir))
	}

	fn start_with(def: NetworkDef, dir: WorkDir) -> Result<Self> {
		let binary = node_binary()?;
		let mut network = Network { workers: Vec::new(), nodes: Vec::new(), def: def.clone(), dir };
		let chain = if def.network.authorities.is_some() ||
			def.network.genesis.is_some() ||
			def.network.runtime.is_some()
		{
			let path = network.dir.path().join("chain-spec.json");
			let patch = match &def.network.genesis {
				Some(table) => Some(serde_json::to_value(table).map_err(|e| {
					RunnerError::Config { path: "[network.genesis]".into(), message: e.to_string() }
				})?),
				None => None,
			};
			let baseline = match &def.network.runtime {
				Some(dir) => Some(chain_spec::BaselineRuntime::read(
					&repo_root().join(dir),
					&def.network.chain,
				)?),
				None => None,
			};
			chain_spec::customised(
				&binary,
				&def.network.chain,
				baseline.as_ref(),
				def.network.authorities.as_deref(),
				patch.as_ref(),
				&path,
			)?;
			path.display().to_string()
		} else {
			def.network.chain.clone()
		};
		let mut bootnode: Option<String> = None;
		for (index, node) in def.nodes.iter().enumerate() {
			let rpc_port = free_port(Ipv4Addr::LOCALHOST)?;
			let prometheus_port = free_port(Ipv4Addr::LOCALHOST)?;
			let p2p_port = free_port(node.ip)?;
			let base_path = network.dir.path().join(&node.name);
			let mut args = vec![
				"--chain".to_string(),
				chain.clone(),
				"--base-path".into(),
				base_path.display().to_string(),
				"--name".into(),
				node.name.clone(),
				"--rpc-port".into(),
				rpc_port.to_string(),
				"--prometheus-port".into(),
				prometheus_port.to_string(),
				"--listen-addr".into(),
				format!("/ip4/{}/tcp/{p2p_port}", node.ip),
				"--public-addr".into(),
				format!("/ip4/{}/tcp/{p2p_port}", node.ip),
				"--discover-local".into(),
				"--allow-private-ip".into(),
				"--no-mdns".into(),
				"--no-telemetry".into(),
				"--rpc-cors".into(),
				"all".into(),
				// A fixed libp2p key per node: stable peer ids across restarts, and validators
				// of a live chain refuse to make one up.
				"--node-key".into(),
				format!("{:064x}", index + 1),
			];
			if node.validator {
				args.push("--validator".into());
			}
			if let Some(key) = &node.key {
				args.push(format!("--{key}"));
			}
			if let Some(boot) = &bootnode {
				args.push("--bootnodes".into());
				args.push(boot.clone());
			}
			args.extend(node.args.iter().cloned());
			let mut handle = NodeHandle {
				name: node.name.clone(),
				rpc_port,
				p2p_port,
				ip: node.ip,
				prometheus_port,
				launch: LaunchArgs {
					args,
					log_path: network.dir.path().join(format!("{}.log", node.name)),
				},
				child: None,
				binary: binary.clone(),
			};
			handle.start()?;
			if bootnode.is_none() {
				let peer_id = handle.rpc("system_localPeerId", json!([]))?;
				let peer_id = peer_id
					.as_str()
					.ok_or_else(|| handle.bad_answer("system_localPeerId", &peer_id))?
					.to_string();
				bootnode = Some(format!("/ip4/{}/tcp/{p2p_port}/p2p/{peer_id}", node.ip));
			}
			network.nodes.push(handle);
		}
		if !def.workers.is_empty() {
			network.start_workers()?;
		}
		Ok(network)
	}

	/// Builds the coin-flip image, registers every worker (in parallel: one account each) and
	/// starts them.
	fn start_workers(&mut self) -> Result<()> {
		let image = coinflip_image()?;
		for def in self.def.workers.clone() {
			let port = self
				.nodes
				.iter()
				.find(|n| n.name == def.node)
				.ok_or_else(|| RunnerError::UnknownNode {
					worker: def.name.clone(),
					node: def.node.clone(),
				})?
				.rpc_port;
			self.workers.push(WorkerHandle::new(def, self.dir.path(), port, &image.dir)?);
		}
		std::thread::scope(|s| {
			let registrations: Vec<_> =
				self.workers.iter().map(|w| s.spawn(move || w.register())).collect();
			registrations
				.into_iter()
				.map(|r| r.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
				.collect::<Result<Vec<_>>>()
		})?;
		for worker in &mut self.workers {
			worker.start()?;
		}
		Ok(())
	}

	/// The worker named `name`, to read its log and metrics.
	pub fn worker(&self, name: &str) -> &WorkerHandle {
		self.workers
			.iter()
			.find(|w| w.def.name == name)
			.unwrap_or_else(|| panic!("no worker named {name} in the network"))
	}

	/// The worker named `name`, to start, stop or kill it.
	pub fn worker_mut(&mut self, name: &str) -> &mut WorkerHandle {
		self.workers
			.iter_mut()
			.find(|w| w.def.name == name)
			.unwrap_or_else(|| panic!("no worker named {name} in the network"))
	}

	/// The node named `name`.
	pub fn node(&mut self, name: &str) -> &mut NodeHandle {
		self.nodes
			.iter_mut()
			.find(|n| n.name == name)
			.unwrap_or_else(|| panic!("no node named {name} in the network"))
	}

	/// Every node's and worker's log tail, for a failing test's output.
	pub fn logs(&self) -> String {
		let tail = |name: &str, log: String| {
			format!(
				"===== {name} (last {LOG_TAIL} lines) =====\n{}",
				error::log_tail(&log, LOG_TAIL)
			)
		};
		let nodes = self.nodes.iter().map(|n| tail(&n.name, n.log()));
		let workers = self.workers.iter().map(|w| tail(&format!("worker {}", w.def.name), w.log()));
		nodes.chain(workers).collect::<Vec<_>>().join("\n")
	}

	/// Where databases and logs live.
	pub fn dir(&self) -> &Path {
		self.dir.path()
	}

	/// Keeps the directory of databases and logs after the network (a temporary one is no
	/// longer removed) and returns its path.
	pub fn keep_dir(&mut self) -> PathBuf {
		let path = self.dir.path().to_path_buf();
		if let WorkDir::Temp(temp) = std::mem::replace(&mut self.dir, WorkDir::Kept(path.clone())) {
			let _ = temp.keep();
		}
		path
	}

	/// What a failing test prints: every log's tail ([`Self::logs`]) and where the whole logs
	/// are, kept ([`Self::keep_dir`]).
	pub fn failure_report(&mut self) -> String {
		let dir = self.keep_dir();
		format!("{}\n===== whole logs and databases kept in {} =====", self.logs(), dir.display())
	}

	/// Stops the workers gracefully (SIGTERM, so they finish or abandon their containers
	/// cleanly), then the nodes.
	pub fn stop(&mut self) {
		for worker in &mut self.workers {
			worker.stop(Duration::from_secs(15));
		}
		for node in &mut self.nodes {
			node.kill();
		}
	}
}

/// Starts a single `--dev --tmp` node on free ports; its log goes to the returned temporary
/// directory. Its database is temporary too: a [`NodeHandle::restart`] starts a new chain.
pub fn start_dev_node() -> Result<(NodeHandle, tempfile::TempDir)> {
	let dir = tempfile::Builder::new()
		.prefix("povm-dev-")
		.tempdir()
		.map_err(|e| RunnerError::io("create a temp dir in", std::env::temp_dir(), e))?;
	let node = dev_node(dir.path(), None)?;
	Ok((node, dir))
}

/// Starts a single `--dev` node on free ports with its database in `<dir>/chain` and its log
/// in `<dir>/dev.log` (`dir` is created if missing and kept): unlike [`start_dev_node`], a
/// [`NodeHandle::restart`] resumes the same chain from its database.
pub fn start_dev_node_in(dir: &Path) -> Result<NodeHandle> {
	std::fs::create_dir_all(dir).map_err(|e| RunnerError::io("create", dir, e))?;
	dev_node(dir, Some(&dir.join("chain")))
}

/// Starts a `--dev` node logging to `<dir>/dev.log`, with `--base-path base` or `--tmp`.
fn dev_node(dir: &Path, base: Option<&Path>) -> Result<NodeHandle> {
	let binary = node_binary()?;
	let rpc_port = free_port(Ipv4Addr::LOCALHOST)?;
	let prometheus_port = free_port(Ipv4Addr::LOCALHOST)?;
	let p2p_port = free_port(Ipv4Addr::LOCALHOST)?;
	let mut args = vec!["--dev".to_string()];
	match base {
		Some(base) => args.extend(["--base-path".into(), base.display().to_string()]),
		None => args.push("--tmp".into()),
	}
	args.extend([
		"--rpc-port".into(),
		rpc_port.to_string(),
		"--prometheus-port".into(),
		prometheus_port.to_string(),
		"--port".into(),
		p2p_port.to_string(),
		"--no-telemetry".into(),
	]);
	let mut handle = NodeHandle {
		name: "dev".into(),
		rpc_port,
		p2p_port,
		ip: Ipv4Addr::LOCALHOST,
		prometheus_port,
		launch: LaunchArgs { args, log_path: dir.join("dev.log") },
		child: None,
		binary,
	};
	handle.start()?;
	Ok(handle)
}

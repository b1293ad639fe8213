//! The worker's TOML configuration file.
//!
//! ```toml
//! node_url = "ws://127.0.0.1:9944"
//! key_file = "/etc/povm/provider.key"      # or: key_env = "POVM_WORKER_KEY"
//! docker_host = "unix:///var/run/docker.sock"
//! image_dir = "/var/lib/povm/images"
//! state_dir = "/var/lib/povm/state"
//! metrics_addr = "127.0.0.1:9616"
//! slots = 2
//! heartbeat_every = 5                      # blocks; below the 10-block epoch
//! bond = 1000000000000000
//!
//! [caps]                                   # most a job may get here, per slot
//! millicores = 2000
//! memory_mib = 2048
//! max_seconds = 3600
//! pids = 256
//!
//! [sandbox]                                # per run; keep the defaults (see `Sandbox`)
//! disk_quota_mib = 256
//! max_files = 4096
//! runtime = "runc"                         # or "runsc" (gVisor), registered with the daemon
//! seccomp_profile = "/etc/povm/seccomp.json"  # unset: the worker's own profile
//! allow_without_lsm = false                # run where Docker has neither AppArmor nor SELinux
//!
//! [images]                                 # images pulled from the registries jobs name
//! cache_mib = 10240                        # pulled images kept, least recently used first out
//! allow_private_registries = false         # registries on loopback or private addresses
//!
//! [inputs]                                 # input files fetched by URL
//! max_input_mib = 1024                     # each; a job with a larger one is declined
//! max_total_mib = 4096                     # all of one job's inputs
//! timeout_secs = 600                       # each fetch, connection included
//! allow_private_addresses = false          # URLs on loopback, private or link-local addresses
//!
//! [results]                                # serving result files to the jobs' owners
//! listen = "0.0.0.0:8480"                  # unset: no server, no result kept
//! public_url = "https://results.example.org/povm"  # what customers use (proxy in front)
//! retention_hours = 72                     # each result is served this long
//! max_store_mib = 1024                     # beyond it, the heaviest owner's oldest go first
//!
//! [offer]                                  # unset fields are measured from the host
//! millicores = 1000
//! memory_mib = 1024
//! grid_intensity = 250
//! pue_permille = 1200
//! core_milliwatts = 12000
//! ```

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use pallet_vm_proof::{Arch, VmOffer};
use serde::Deserialize;

use crate::{
	error::ConfigError,
	executor::{
		DockerConfig, DEFAULT_DISK_QUOTA_MIB, DEFAULT_MAX_FILES, DEFAULT_RUNTIME,
		DEFAULT_SECCOMP_PROFILE,
	},
	prelude::Balance,
	signer::KeySource,
};

/// Name of the default environment variable holding the provider's secret URI.
pub const DEFAULT_KEY_ENV: &str = "POVM_WORKER_KEY";
/// Epoch length of the chain in blocks; heartbeats must come more often.
pub const EPOCH_BLOCKS: u32 = 10;

/// The configuration file.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
	/// WebSocket URL of the node.
	#[serde(default = "default_node_url")]
	pub node_url: String,
	/// File holding the provider's secret URI.
	pub key_file: Option<PathBuf>,
	/// Environment variable holding the provider's secret URI (when no `key_file`).
	pub key_env: Option<String>,
	/// Docker endpoint (`DOCKER_HOST` form); unset: `DOCKER_HOST` or the default socket.
	pub docker_host: Option<String>,
	/// Directory of `<hex>.tar` images loaded when an image is absent.
	#[serde(default = "default_image_dir")]
	pub image_dir: PathBuf,
	/// Directory of the worker's state (pending commits, run directories).
	#[serde(default = "default_state_dir")]
	pub state_dir: PathBuf,
	/// Address of the Prometheus endpoint; unset: no endpoint.
	pub metrics_addr: Option<SocketAddr>,
	/// Jobs run at once (the offer's slots).
	#[serde(default = "one")]
	pub slots: u32,
	/// Send a heartbeat every this many (best) blocks (1..10).
	#[serde(default = "default_heartbeat")]
	pub heartbeat_every: u32,
	/// Bond for `register`, in plancks (an integer, or a string for values beyond `i64`).
	#[serde(default, deserialize_with = "balance::option")]
	pub bond: Option<Balance>,
	/// Tip per transaction, in plancks.
	#[serde(default, deserialize_with = "balance::plain")]
	pub tip: Balance,
	/// Mortality of transactions in blocks.
	#[serde(default = "default_mortality")]
	pub mortality: u64,
	/// Timeout of each RPC call, in seconds.
	#[serde(default = "default_rpc_timeout")]
	pub rpc_timeout_secs: u64,
	/// Time running jobs get to finish on shutdown, in seconds.
	#[serde(default = "default_grace")]
	pub shutdown_grace_secs: u64,
	/// Container label of this worker instance (orphans with it are removed at start).
	pub instance: Option<String>,
	/// Resource caps per job.
	#[serde(default)]
	pub caps: Caps,
	/// The sandbox's storage limits per run.
	#[serde(default)]
	pub sandbox: Sandbox,
	/// The VM offer; unset fields are measured from the host.
	#[serde(default)]
	pub offer: OfferConfig,
	/// Pulling images from the registries jobs name.
	#[serde(default)]
	pub images: ImagesConfig,
	/// Fetching the input files jobs list.
	#[serde(default)]
	pub inputs: InputsConfig,
	/// Serving the result files of the jobs run here to their owners.
	#[serde(default)]
	pub results: ResultsConfig,
}

/// How the worker keeps and serves the result files of the jobs it ran.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ResultsConfig {
	/// Address the result server listens on; unset: no server (and no result is kept).
	pub listen: Option<SocketAddr>,
	/// The base URL customers reach the server at (`http(s)://host[:port][/path]`, what the
	/// chain's result service shows); required with `listen`. A path in it is also accepted as
	/// a prefix of requests (for a proxy that passes it on).
	pub public_url: Option<String>,
	/// Hours a result is kept and served after its run (1..=2160, the chain's most).
	#[serde(default = "default_retention_hours")]
	pub retention_hours: u32,
	/// Disk budget of the kept results, in MiB: beyond it the oldest results of the owner that
	/// holds the most bytes are removed first.
	#[serde(default = "default_max_store_mib")]
	pub max_store_mib: u64,
}

impl Default for ResultsConfig {
	fn default() -> Self {
		Self {
			listen: None,
			public_url: None,
			retention_hours: default_retention_hours(),
			max_store_mib: default_max_store_mib(),
		}
	}
}

impl ResultsConfig {
	/// The retention in seconds.
	pub fn retention_secs(&self) -> u64 {
		u64::from(self.retention_hours) * 3600
	}

	/// The disk budget in bytes.
	pub fn max_store_bytes(&self) -> u64 {
		self.max_store_mib.saturating_mul(1 << 20)
	}

	/// The path part of `public_url` without its trailing `/` (`""` when none): requests may
	/// carry it before `/v1/`.
	pub fn base_path(&self) -> String {
		let Some(url) = self.public_url.as_deref().and_then(|u| url::Url::parse(u).ok()) else {
			return String::new();
		};
		url.path().trim_end_matches('/').to_owned()
	}
}

/// How the worker pulls the images jobs name from their registries.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ImagesConfig {
	/// Disk budget of the images the worker pulled or loaded, in MiB: beyond it, the least
	/// recently used ones not in use are removed. Images the worker did not bring are never
	/// touched.
	#[serde(default = "default_cache_mib")]
	pub cache_mib: u64,
	/// Pull from registries whose host resolves to a loopback, private or link-local address
	/// (off: a job could otherwise make the provider's Docker engine probe its own network).
	#[serde(default)]
	pub allow_private_registries: bool,
}

impl Default for ImagesConfig {
	fn default() -> Self {
		Self { cache_mib: default_cache_mib(), allow_private_registries: false }
	}
}

/// How the worker fetches a job's input files.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct InputsConfig {
	/// Largest input accepted, in MiB (1..=16384): a job listing a larger one is declined.
	#[serde(default = "default_max_input_mib")]
	pub max_input_mib: u64,
	/// Most bytes of one job's inputs together, in MiB (at least `max_input_mib`).
	#[serde(default = "default_max_total_mib")]
	pub max_total_mib: u64,
	/// Time one fetch may take, connection included, in seconds (1..=86400).
	#[serde(default = "default_fetch_timeout")]
	pub timeout_secs: u64,
	/// Fetch from loopback, private, link-local and other non-global addresses (off: a job
	/// could otherwise read the provider's own network, such as a cloud metadata service).
	#[serde(default)]
	pub allow_private_addresses: bool,
}

impl Default for InputsConfig {
	fn default() -> Self {
		Self {
			max_input_mib: default_max_input_mib(),
			max_total_mib: default_max_total_mib(),
			timeout_secs: default_fetch_timeout(),
			allow_private_addresses: false,
		}
	}
}

/// The sandbox of every run: what the job can write to `out/` and `checkpoints/`, the OCI
/// runtime, the seccomp profile, and whether a host without AppArmor or SELinux will do.
///
/// A job that reaches a storage limit is cut (its writes fail) and its result is flagged
/// truncated. Replicas agree on such a job only if they have the same limits, so keep the
/// defaults: a provider with other values disagrees with the others on exactly those jobs.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Sandbox {
	/// Disk quota of `out/` and `checkpoints/` together, in MiB (1..=65536). The files are
	/// held in memory and count against the job's memory limit.
	#[serde(default = "default_disk_quota")]
	pub disk_quota_mib: u32,
	/// Most files, directories and symlinks a job can create there (1..=1048576), and in
	/// each of `/tmp` and `/dev/shm`.
	#[serde(default = "default_max_files")]
	pub max_files: u32,
	/// OCI runtime of the job containers: `runc` (Docker's), or `runsc` (gVisor: each job
	/// gets a user-space kernel of its own) or another runtime the daemon has registered.
	/// The worker refuses to start if the daemon does not list it (`docker info`).
	#[serde(default = "default_runtime")]
	pub runtime: String,
	/// A seccomp profile (JSON, Docker's format) to use instead of the worker's own
	/// ([`DEFAULT_SECCOMP_PROFILE`]); read at start.
	pub seccomp_profile: Option<PathBuf>,
	/// Start even though the daemon reports neither AppArmor nor SELinux (not needed with
	/// `runtime = "runsc"`). Off: such a host is refused.
	#[serde(default)]
	pub allow_without_lsm: bool,
}

impl Default for Sandbox {
	fn default() -> Self {
		Self {
			disk_quota_mib: DEFAULT_DISK_QUOTA_MIB,
			max_files: DEFAULT_MAX_FILES,
			runtime: default_runtime(),
			seccomp_profile: None,
			allow_without_lsm: false,
		}
	}
}

impl Sandbox {
	/// Sets these limits on the executor's settings, reading the seccomp profile if one is
	/// configured (it must be a JSON object).
	pub fn apply(&self, docker: &mut DockerConfig) -> Result<(), ConfigError> {
		docker.disk_quota_bytes = u64::from(self.disk_quota_mib) << 20;
		docker.max_files = self.max_files;
		docker.runtime = self.runtime.clone();
		docker.allow_without_lsm = self.allow_without_lsm;
		docker.seccomp_profile = match &self.seccomp_profile {
			None => DEFAULT_SECCOMP_PROFILE.to_owned(),
			Some(path) => read_seccomp_profile(path)?,
		};
		Ok(())
	}
}

/// Reads a seccomp profile and checks that it is a JSON object (Docker checks the rest).
fn read_seccomp_profile(path: &std::path::Path) -> Result<String, ConfigError> {
	let text = std::fs::read_to_string(path)
		.map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
	match serde_json::from_str::<serde_json::Value>(&text) {
		Ok(serde_json::Value::Object(_)) => Ok(text),
		_ => Err(ConfigError::Invalid(format!(
			"sandbox.seccomp_profile {} is not a JSON object",
			path.display()
		))),
	}
}

/// Most a job may get on this host.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Caps {
	/// CPU in millicores.
	pub millicores: u32,
	/// Memory in MiB.
	pub memory_mib: u32,
	/// Wall-clock seconds.
	pub max_seconds: u32,
	/// Processes and threads.
	pub pids: u32,
}

impl Default for Caps {
	fn default() -> Self {
		Self { millicores: 4000, memory_mib: 4096, max_seconds: 3600, pids: 256 }
	}
}

impl Caps {
	/// The timeout of each Docker request for these caps: the wait for a container outlasts
	/// the longest job the worker takes (`max_seconds`, up to the chain's 24 hours) by an hour,
	/// and is never below the executor's six-hour default.
	pub fn docker_request_timeout(&self) -> std::time::Duration {
		let longest = u64::from(self.max_seconds).saturating_add(3600);
		std::time::Duration::from_secs(longest.max(6 * 3600))
	}
}

/// The offer as configured.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OfferConfig {
	/// CPU per slot in millicores; unset: host cores × 1000 / slots, capped.
	pub millicores: Option<u32>,
	/// Memory per slot in MiB; unset: 3/4 of host memory / slots, capped.
	pub memory_mib: Option<u32>,
	/// Declared grid carbon intensity, gCO2e/kWh.
	pub grid_intensity: Option<u32>,
	/// PUE in per-mille.
	pub pue_permille: Option<u32>,
	/// Power per core in milliwatts.
	pub core_milliwatts: Option<u32>,
}

/// Balances from TOML integers (at most `i64`) or decimal strings.
mod balance {
	use serde::{Deserialize, Deserializer};

	#[derive(Deserialize)]
	#[serde(untagged)]
	enum Raw {
		Int(u64),
		Text(String),
	}

	fn convert<E: serde::de::Error>(raw: Raw) -> Result<u128, E> {
		match raw {
			Raw::Int(n) => Ok(n.into()),
			Raw::Text(s) => s.replace('_', "").parse().map_err(E::custom),
		}
	}

	pub fn plain<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
		convert(Raw::deserialize(d)?)
	}

	pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u128>, D::Error> {
		Option::<Raw>::deserialize(d)?.map(convert).transpose()
	}
}

fn default_node_url() -> String {
	"ws://127.0.0.1:9944".into()
}
fn default_image_dir() -> PathBuf {
	"target-images".into()
}
fn default_state_dir() -> PathBuf {
	"povm-worker-state".into()
}
fn one() -> u32 {
	1
}
fn default_heartbeat() -> u32 {
	5
}
fn default_mortality() -> u64 {
	64
}
fn default_rpc_timeout() -> u64 {
	30
}
fn default_grace() -> u64 {
	60
}
fn default_cache_mib() -> u64 {
	10 * 1024
}
fn default_max_input_mib() -> u64 {
	1024
}
fn default_max_total_mib() -> u64 {
	4 * 1024
}
fn default_fetch_timeout() -> u64 {
	600
}
fn default_retention_hours() -> u32 {
	72
}
fn default_max_store_mib() -> u64 {
	1024
}
fn default_disk_quota() -> u32 {
	DEFAULT_DISK_QUOTA_MIB
}
fn default_max_files() -> u32 {
	DEFAULT_MAX_FILES
}
fn default_runtime() -> String {
	DEFAULT_RUNTIME.into()
}

impl Default for Config {
	fn default() -> Self {
		toml::from_str("").expect("every field has a default")
	}
}

impl Config {
	/// Reads and validates a configuration file; relative directories are made absolute
	/// ([`Config::absolute`]).
	pub fn load(path: &std::path::Path) -> Result<Self, ConfigError> {
		let text = std::fs::read_to_string(path)
			.map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
		Self::parse(&text)
			.map_err(|e| match e {
				ConfigError::Parse { message, .. } =>
					ConfigError::Parse { path: path.display().to_string(), message },
				other => other,
			})?
			.absolute()
	}

	/// This configuration with `image_dir` and `state_dir` made absolute against the current
	/// directory: Docker bind-mounts need absolute paths, and a relative one would move with
	/// the directory the worker happens to be started in.
	pub fn absolute(mut self) -> Result<Self, ConfigError> {
		for dir in [&mut self.image_dir, &mut self.state_dir] {
			*dir = std::path::absolute(&*dir).map_err(|e| {
				ConfigError::Invalid(format!("{} cannot be made absolute: {e}", dir.display()))
			})?;
		}
		Ok(self)
	}

	/// Parses and validates TOML text.
	pub fn parse(text: &str) -> Result<Self, ConfigError> {
		let config: Config = toml::from_str(text)
			.map_err(|e| ConfigError::Parse { path: "<text>".into(), message: e.to_string() })?;
		config.validate()?;
		Ok(config)
	}

	/// Checks the ranges.
	pub fn validate(&self) -> Result<(), ConfigError> {
		if self.slots == 0 || self.slots > 64 {
			return Err(ConfigError::Invalid("slots must be 1..=64".into()));
		}
		if self.heartbeat_every == 0 || self.heartbeat_every >= EPOCH_BLOCKS {
			return Err(ConfigError::Invalid(format!(
				"heartbeat_every must be 1..{EPOCH_BLOCKS} blocks (the epoch length)"
			)));
		}
		if self.mortality < 4 || self.mortality > 65536 {
			return Err(ConfigError::Invalid("mortality must be 4..=65536 blocks".into()));
		}
		if !(1..=65536).contains(&self.sandbox.disk_quota_mib) {
			return Err(ConfigError::Invalid("sandbox.disk_quota_mib must be 1..=65536".into()));
		}
		if !(1..=1 << 20).contains(&self.sandbox.max_files) {
			return Err(ConfigError::Invalid("sandbox.max_files must be 1..=1048576".into()));
		}
		let runtime = &self.sandbox.runtime;
		if runtime.is_empty() ||
			!runtime.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
		{
			return Err(ConfigError::Invalid(format!(
				"sandbox.runtime {runtime:?} is not an OCI runtime name"
			)));
		}
		let inputs = &self.inputs;
		if !(1..=16 * 1024).contains(&inputs.max_input_mib) {
			return Err(ConfigError::Invalid("inputs.max_input_mib must be 1..=16384".into()));
		}
		if inputs.max_total_mib < inputs.max_input_mib || inputs.max_total_mib > 1 << 24 {
			return Err(ConfigError::Invalid(
				"inputs.max_total_mib must be at least inputs.max_input_mib, at most 16777216"
					.into(),
			));
		}
		if self.images.cache_mib > 1 << 30 {
			return Err(ConfigError::Invalid("images.cache_mib must be at most 2^30".into()));
		}
		if !(1..=86_400).contains(&inputs.timeout_secs) {
			return Err(ConfigError::Invalid("inputs.timeout_secs must be 1..=86400".into()));
		}
		if self.key_file.is_some() && self.key_env.is_some() {
			return Err(ConfigError::Invalid("set key_file or key_env, not both".into()));
		}
		self.validate_results()
	}

	fn validate_results(&self) -> Result<(), ConfigError> {
		let results = &self.results;
		let max_hours = povm_primitives::results::MAX_RETENTION_SECONDS / 3600;
		if !(1..=max_hours).contains(&results.retention_hours) {
			return Err(ConfigError::Invalid(format!(
				"results.retention_hours must be 1..={max_hours}"
			)));
		}
		if !(1..=1 << 30).contains(&results.max_store_mib) {
			return Err(ConfigError::Invalid("results.max_store_mib must be 1..=2^30".into()));
		}
		match (&results.listen, &results.public_url) {
			(None, None) => Ok(()),
			(None, Some(_)) => Err(ConfigError::Invalid(
				"results.public_url is set but results.listen is not: set both to serve results"
					.into(),
			)),
			(Some(_), None) => Err(ConfigError::Invalid(
				"results.listen needs results.public_url, the base URL customers use".into(),
			)),
			(Some(_), Some(url)) => {
				let valid = url.len() <= povm_primitives::results::MAX_SERVICE_URL_LEN as usize &&
					self.service().is_some_and(|s| s.is_valid()) &&
					url::Url::parse(url).is_ok();
				if valid {
					Ok(())
				} else {
					Err(ConfigError::Invalid(format!(
						"results.public_url {url:?} must be an http(s) URL without user, \
						 password, query or fragment, at most {} bytes",
						povm_primitives::results::MAX_SERVICE_URL_LEN
					)))
				}
			},
		}
	}

	/// The result service to register on chain: `public_url` and the retention, when the
	/// worker serves results (`[results] listen` and `public_url` set). A trailing `/` of the
	/// URL is dropped. `None` also when the URL is longer than the chain takes (refused by
	/// [`Config::validate`]).
	pub fn service(&self) -> Option<povm_primitives::results::ResultService> {
		self.results.listen?;
		let url = self.results.public_url.as_deref()?.trim_end_matches('/');
		Some(povm_primitives::results::ResultService {
			url: url.as_bytes().to_vec().try_into().ok()?,
			retention_secs: u32::try_from(self.results.retention_secs()).ok()?,
		})
	}

	/// Sets the image cache (indexed in the state directory) and the input limits on the
	/// executor's settings.
	pub fn apply_images_and_inputs(&self, docker: &mut DockerConfig) {
		docker.images.index_path = self.state_dir.join("images.json");
		docker.images.budget_bytes = self.images.cache_mib.saturating_mul(1 << 20);
		docker.images.allow_private_registries = self.images.allow_private_registries;
		docker.fetch.allow_private_addresses = self.inputs.allow_private_addresses;
		docker.fetch.max_input_bytes = self.inputs.max_input_mib << 20;
		docker.fetch.max_total_bytes = self.inputs.max_total_mib << 20;
		docker.fetch.timeout = Duration::from_secs(self.inputs.timeout_secs);
	}

	/// Where the provider key comes from.
	pub fn key_source(&self) -> KeySource {
		match (&self.key_file, &self.key_env) {
			(Some(f), _) => KeySource::File(f.clone()),
			(None, Some(v)) => KeySource::Env(v.clone()),
			(None, None) => KeySource::Env(DEFAULT_KEY_ENV.into()),
		}
	}

	/// The RPC timeout.
	pub fn rpc_timeout(&self) -> Duration {
		Duration::from_secs(self.rpc_timeout_secs.max(1))
	}

	/// The container label of this worker.
	pub fn instance_label(&self, account: &str) -> String {
		self.instance
			.clone()
			.unwrap_or_else(|| format!("povm-worker-{}", &account[..8]))
	}

	/// The offer: configured fields, the rest measured from `host`, capped by [`Caps`].
	pub fn offer(&self, host: &HostInfo) -> VmOffer {
		let slots = self.slots;
		let millicores = self
			.offer
			.millicores
			.unwrap_or(host.cores.saturating_mul(1000) / slots)
			.min(self.caps.millicores);
		let memory_mib = self
			.offer
			.memory_mib
			.unwrap_or((host.memory_mib / 4 * 3) / slots)
			.min(self.caps.memory_mib);
		VmOffer {
			millicores,
			memory_mib,
			arch: host.arch,
			slots,
			grid_intensity: self.offer.grid_intensity.unwrap_or(300),
			pue_permille: self.offer.pue_permille.unwrap_or(1200),
			core_milliwatts: self.offer.core_milliwatts.unwrap_or(12_000),
			// The longest job this worker runs: the draw skips it for longer ones.
			max_seconds: self.caps.max_seconds,
		}
	}
}

/// The architecture this worker was built for (and runs on).
pub fn host_arch() -> Arch {
	match std::env::consts::ARCH {
		"aarch64" => Arch::Aarch64,
		"riscv64" => Arch::Riscv64,
		_ => Arch::X86_64,
	}
}

/// What the host has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostInfo {
	/// CPU cores available to this process.
	pub cores: u32,
	/// Total memory in MiB.
	pub memory_mib: u32,
	/// CPU architecture.
	pub arch: Arch,
}

impl HostInfo {
	/// Measures this host (cores from the scheduler, memory from `/proc/meminfo`).
	pub fn measure() -> Self {
		let cores = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1);
		let memory_mib = std::fs::read_to_string("/proc/meminfo")
			.ok()
			.and_then(|m| {
				m.lines()
					.find(|l| l.starts_with("MemTotal:"))
					.and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
			})
			.map(|kb| (kb / 1024) as u32)
			.unwrap_or(1024);
		Self { cores, memory_mib, arch: host_arch() }
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn empty_file_gives_defaults() {
		let c = Config::parse("").unwrap();
		assert_eq!(c.node_url, "ws://127.0.0.1:9944");
		assert_eq!(c.slots, 1);
		assert_eq!(c.key_source(), KeySource::Env(DEFAULT_KEY_ENV.into()));
		assert_eq!(c.sandbox, Sandbox::default());
		assert_eq!((c.sandbox.disk_quota_mib, c.sandbox.max_files), (256, 4096));
		assert_eq!(c.sandbox.runtime, "runc");
		assert!(!c.sandbox.allow_without_lsm);
		let mut docker = DockerConfig::new("w", "images");
		c.sandbox.apply(&mut docker).unwrap();
		assert_eq!(docker.seccomp_profile, DEFAULT_SECCOMP_PROFILE);
		assert_eq!(
			(docker.disk_quota_bytes, docker.max_files),
			(DockerConfig::new("w", "images").disk_quota_bytes, 4096),
			"the file's defaults are the executor's"
		);
	}

	#[test]
	fn docker_requests_outlast_the_longest_job_taken() {
		let hours = |h: u64| std::time::Duration::from_secs(h * 3600);
		assert_eq!(Caps::default().docker_request_timeout(), hours(6));
		let day = Caps { max_seconds: 24 * 3600, ..Caps::default() };
		assert_eq!(day.docker_request_timeout(), hours(25));
	}

	#[test]
	fn full_file_parses() {
		let c = Config::parse(
			r#"
			node_url = "ws://node:9944"
			key_file = "/k"
			metrics_addr = "127.0.0.1:9616"
			slots = 2
			heartbeat_every = 3
			bond = 1000
			[caps]
			millicores = 1500
			memory_mib = 512
			max_seconds = 60
			pids = 32
			[sandbox]
			disk_quota_mib = 64
			max_files = 100
			[offer]
			millicores = 2000
			grid_intensity = 50
			"#,
		)
		.unwrap();
		assert_eq!(c.key_source(), KeySource::File("/k".into()));
		assert_eq!(c.bond, Some(1000));
		let mut docker = DockerConfig::new("w", "images");
		c.sandbox.apply(&mut docker).unwrap();
		assert_eq!((docker.disk_quota_bytes, docker.max_files), (64 << 20, 100));
		let big = Config::parse("bond = \"1_000_000_000_000_000_000_000\"").unwrap();
		assert_eq!(big.bond, Some(10u128.pow(21)));
		let host = HostInfo { cores: 8, memory_mib: 8192, arch: Arch::X86_64 };
		let offer = c.offer(&host);
		assert_eq!(offer.millicores, 1500, "capped");
		assert_eq!(offer.memory_mib, 512, "measured 3072, capped");
		assert_eq!(offer.grid_intensity, 50);
		assert_eq!(offer.slots, 2);
	}

	#[test]
	fn relative_directories_are_made_absolute_on_load() {
		let dir = tempfile::tempdir().unwrap();
		let file = dir.path().join("worker.toml");
		std::fs::write(&file, "state_dir = \"state\"\nimage_dir = \"/srv/images\"\n").unwrap();
		let c = Config::load(&file).unwrap();
		assert!(c.state_dir.is_absolute(), "{}", c.state_dir.display());
		assert_eq!(c.state_dir, std::env::current_dir().unwrap().join("state"));
		assert_eq!(c.image_dir, PathBuf::from("/srv/images"));
	}

	#[test]
	fn image_and_input_limits_parse_and_are_checked() {
		let c = Config::parse(
			"[images]\ncache_mib = 64\nallow_private_registries = true\n\
			 [inputs]\nmax_input_mib = 8\nmax_total_mib = 16\ntimeout_secs = 5\n\
			 allow_private_addresses = true\n",
		)
		.unwrap();
		assert_eq!(c.images, ImagesConfig { cache_mib: 64, allow_private_registries: true });
		assert_eq!(
			c.inputs,
			InputsConfig {
				max_input_mib: 8,
				max_total_mib: 16,
				timeout_secs: 5,
				allow_private_addresses: true
			}
		);
		let d = Config::default();
		assert!(!d.images.allow_private_registries && !d.inputs.allow_private_addresses);
		assert!(Config::parse("[inputs]\nmax_input_mib = 0").is_err());
		assert!(Config::parse("[inputs]\nmax_input_mib = 20000").is_err());
		assert!(Config::parse("[inputs]\nmax_input_mib = 8\nmax_total_mib = 4").is_err());
		assert!(Config::parse("[inputs]\ntimeout_secs = 0").is_err());
		assert!(Config::parse("[inputs]\nmax_total_mib = 17592186044416").is_err());
	}

	#[test]
	fn the_results_section_gives_the_service() {
		let d = Config::default();
		assert_eq!(d.results, ResultsConfig::default());
		assert_eq!((d.results.retention_hours, d.results.max_store_mib), (72, 1024));
		assert_eq!(d.service(), None, "no server by default");
		let c = Config::parse(
			"[results]\nlisten = \"127.0.0.1:8480\"\n\
			 public_url = \"https://results.example.org/povm/\"\nretention_hours = 24\n\
			 max_store_mib = 10\n",
		)
		.unwrap();
		let service = c.service().unwrap();
		assert_eq!(service.url.to_vec(), b"https://results.example.org/povm".to_vec());
		assert_eq!(service.retention_secs, 24 * 3600);
		assert!(service.is_valid());
		assert_eq!(c.results.base_path(), "/povm");
		assert_eq!(c.results.max_store_bytes(), 10 << 20);
		let plain = Config::parse(
			"[results]\nlisten = \"127.0.0.1:8480\"\npublic_url = \"http://10.0.0.1:8480\"\n",
		)
		.unwrap();
		assert_eq!(plain.results.base_path(), "");
	}

	#[test]
	fn bad_results_sections_are_refused() {
		let with = |rest: &str| Config::parse(&format!("[results]\n{rest}"));
		let listen = "listen = \"127.0.0.1:8480\"\n";
		assert!(with(listen).is_err(), "listen without public_url");
		assert!(with("public_url = \"https://r.example.org\"").is_err(), "url without listen");
		for url in [
			"ftp://r.example.org",
			"https://user:pw@r.example.org",
			"https://r.example.org/?x=1",
			"https://r.example.org/#x",
			"not a url",
		] {
			assert!(with(&format!("{listen}public_url = \"{url}\"")).is_err(), "{url}");
		}
		let long = format!("https://r.example.org/{}", "a".repeat(300));
		assert!(with(&format!("{listen}public_url = \"{long}\"")).is_err());
		assert!(with("retention_hours = 0").is_err());
		assert!(with("retention_hours = 2161").is_err());
		assert!(with("retention_hours = 2160").is_ok());
		assert!(with("max_store_mib = 0").is_err());
		assert!(with("listen = \"nope\"").is_err());
		assert!(with("port = 1").is_err(), "unknown fields are refused");
	}

	#[test]
	fn the_sandbox_runtime_profile_and_lsm_waiver_parse() {
		let dir = tempfile::tempdir().unwrap();
		let profile = dir.path().join("seccomp.json");
		std::fs::write(&profile, r#"{"defaultAction": "SCMP_ACT_ERRNO"}"#).unwrap();
		let text = format!(
			"[sandbox]\nruntime = \"runsc\"\nallow_without_lsm = true\nseccomp_profile = {:?}\n",
			profile.display().to_string()
		);
		let c = Config::parse(&text).unwrap();
		let mut docker = DockerConfig::new("w", "images");
		c.sandbox.apply(&mut docker).unwrap();
		assert_eq!(docker.runtime, "runsc");
		assert!(docker.allow_without_lsm);
		assert_eq!(docker.seccomp_profile, r#"{"defaultAction": "SCMP_ACT_ERRNO"}"#);

		std::fs::write(&profile, "[1, 2]").unwrap();
		assert!(c.sandbox.apply(&mut docker).is_err(), "not a JSON object");
		std::fs::remove_file(&profile).unwrap();
		assert!(c.sandbox.apply(&mut docker).is_err(), "no such file");
		assert!(Config::parse("[sandbox]\nruntime = \"\"").is_err());
		assert!(Config::parse("[sandbox]\nruntime = \"run c\"").is_err());
	}

	#[test]
	fn bad_values_are_refused() {
		assert!(Config::parse("heartbeat_every = 10").is_err());
		assert!(Config::parse("slots = 0").is_err());
		assert!(Config::parse("[sandbox]\ndisk_quota_mib = 0").is_err());
		assert!(Config::parse("[sandbox]\nmax_files = 0").is_err());
		assert!(Config::parse("[sandbox]\nquota = 1").is_err(), "unknown fields are refused");
		assert!(Config::parse("key_file = \"a\"\nkey_env = \"B\"").is_err());
		assert!(Config::parse("secret = \"//Alice\"").is_err(), "unknown fields are refused");
	}
}

//! [`DockerExecutor`]: runs a job in a locked-down container on the local Docker daemon.

use std::{
	collections::HashMap,
	path::{Path, PathBuf},
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

use bollard::{
	container::LogOutput,
	models::{
		ContainerCreateBody, HealthConfig, HostConfig, HostConfigLogConfig, Mount, MountType,
		ResourcesUlimits,
	},
};
use futures_util::StreamExt;
use tokio::sync::oneshot;

use super::{
	collect::{collect_checkpoints, collect_outputs, CappedBuf},
	quota::{self, JobFs, Quota},
	usage::UsageMeter,
	DockerClient, ExecError, Execution, Executor, ImageSource, ImageSpec, ImageStore,
	ImageStoreConfig, JobRun, Resources, CHECKPOINT_DIR, HOSTNAME, IN_DIR, JOB_LABEL,
	MAX_CHECKPOINTS, OUT_DIR, PINNED_ENV, WORKER_LABEL,
};
use crate::{
	attestation::Flags,
	fetch::{self, FetchPolicy},
	prelude::LOG_EXECUTOR,
};

const MIB: i64 = 1024 * 1024;
/// Docker refuses smaller memory limits.
const MIN_MEMORY_MIB: u32 = 6;
/// Docker refuses CPU limits below 0.01 CPU.
const MIN_MILLICORES: u32 = 10;
/// How long to wait for the output stream to end after the container exited.
const LOG_DRAIN_GRACE: Duration = Duration::from_secs(10);
/// Default disk quota of a run, in MiB ([`DockerConfig::disk_quota_bytes`]).
pub const DEFAULT_DISK_QUOTA_MIB: u32 = 256;
/// Default file cap of a run ([`DockerConfig::max_files`]).
pub const DEFAULT_MAX_FILES: u32 = 4096;
/// The OCI runtime of every Docker install, and the default ([`DockerConfig::runtime`]).
pub const DEFAULT_RUNTIME: &str = "runc";
/// gVisor's OCI runtime: each job gets its own user-space kernel, so a kernel bug reachable
/// from the job is gVisor's, not the host's (see [`runtime_pids_limit`] for what it costs).
pub const GVISOR_RUNTIME: &str = "runsc";
/// The worker's seccomp profile ([`DockerConfig::seccomp_profile`]): every system call is
/// refused with `EPERM` but an allow list of what ordinary programs use (Docker's default
/// profile without the calls it allows only to privileged containers). Refused among others:
/// `mount`, `umount2`, `pivot_root`, `chroot`, `unshare`, `setns`, `clone` with namespace
/// flags (`clone3` answers `ENOSYS`, so that libc falls back to `clone`), `keyctl`, `add_key`,
/// `request_key`, `bpf`, `ptrace`, `process_vm_readv`/`writev`, `perf_event_open`,
/// `userfaultfd`, `io_uring_*`, `open_by_handle_at`, `kexec_*`, `init_module`,
/// `finit_module`, `delete_module`, `swapon`, `reboot`, `syslog`, `acct`, the clock setters,
/// the NUMA calls and `personality` other than the plain and 32-bit domains.
pub const DEFAULT_SECCOMP_PROFILE: &str = include_str!("seccomp.json");
/// Host threads of a gVisor sandbox besides the job's: its kernel (the Sentry) and file
/// proxy (the gofer) are Go programs in the container's cgroup, which `pids_limit` counts.
const RUNSC_BASE_PIDS: i64 = 128;
/// Host threads per job process or thread under gVisor's `ptrace` platform (measured: 8 to
/// 9 for each `sleep` a shell starts, with a 2-CPU sandbox).
const RUNSC_PIDS_PER_TASK: i64 = 12;
/// The job's `/etc/resolv.conf`: it has no network, and the host's resolvers are the host's.
const RESOLV_CONF: &str = "# no network\n";
/// The job's `/etc/hosts`, the same on every host.
const HOSTS: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\tpovm\n";
/// Resource limits (`ulimit`) of every job, soft and hard, instead of the daemon's (which are
/// the host's). Each is at or below any sane host's hard limit: the container's init may lower
/// a limit but not raise one, and a container that cannot start is a missed commit. `nproc`
/// is not pinned: it counts the uid's processes across the host, and `pids_limit` binds.
const ULIMITS: [(&str, i64, i64); 6] = [
	("core", 0, 0),
	("nofile", 1024, 1024),
	("sigpending", 1024, 1024),
	("msgqueue", 819_200, 819_200),
	("memlock", 64 << 10, 64 << 10),
	("stack", 8 << 20, 8 << 20),
];

/// Wall-clock seconds beyond `max_seconds` that the CPU-time limit leaves for the container's
/// start and the worker's kill.
const CPU_LIMIT_MARGIN_SECONDS: u64 = 30;

/// The job's `RLIMIT_CPU` (soft, hard) in seconds under `runtime`: what one process could use
/// in `max_seconds` plus a [`CPU_LIMIT_MARGIN_SECONDS`] margin (the hard limit one margin
/// more). Under runc the CPU quota bounds a process at `millicores / 1000` cores; gVisor counts
/// a thread's CPU time while it is runnable even when the host throttles it, so there a process
/// is bounded by its threads (at most `pids`) at one second per second. Within its run time a
/// job never reaches the limit; a computing process whose worker was killed before it could
/// enforce the wall-clock limit is stopped by the kernel (SIGXCPU, then SIGKILL) instead of
/// computing until the worker restarts and removes it. (A process that sleeps, or a job that
/// keeps starting new processes, runs on until then.)
pub fn cpu_time_limit(runtime: &str, resources: &Resources) -> (i64, i64) {
	let per_second_millis = if runtime == GVISOR_RUNTIME {
		u64::from(resources.pids).saturating_mul(1000)
	} else {
		u64::from(resources.millicores)
	}
	.max(1000);
	let seconds = |wall: u64| {
		let millis = wall.saturating_mul(per_second_millis);
		i64::try_from(millis.div_ceil(1000)).unwrap_or(i64::MAX)
	};
	let wall = u64::from(resources.max_seconds).saturating_add(CPU_LIMIT_MARGIN_SECONDS);
	(seconds(wall), seconds(wall.saturating_add(CPU_LIMIT_MARGIN_SECONDS)))
}

/// Settings of a [`DockerExecutor`] that are the provider's, not the job's.
#[derive(Clone, Debug)]
pub struct DockerConfig {
	/// Name of this worker instance; every container it creates is labelled
	/// [`WORKER_LABEL`]`=<instance>`, and such containers found at start are orphans.
	pub instance: String,
	/// Where images come from: the image directory of `docker save` tars named `<hex>.tar`,
	/// the registries jobs name, and the cache of what was loaded or pulled (see
	/// [`ImageStore`]).
	pub images: ImageStoreConfig,
	/// How a job's input files are fetched (see [`fetch`]).
	pub fetch: FetchPolicy,
	/// User id the job runs as (never root).
	pub uid: u32,
	/// Group id the job runs as.
	pub gid: u32,
	/// Size of the tmpfs at `/tmp`, and of the one at `/dev/shm`, in MiB.
	pub tmpfs_mib: u32,
	/// Cap on captured stdout and on captured stderr, each, in bytes.
	pub max_log_bytes: usize,
	/// Cap on the total content of output files, in bytes.
	pub max_output_bytes: usize,
	/// Disk quota of a run: most bytes the job can store in `out/` and `checkpoints/`
	/// together (whole 4 KiB pages). Also the most checkpoint content the worker reads back.
	/// Replicas with other quotas disagree on a job that reaches one: keep the default.
	pub disk_quota_bytes: u64,
	/// Most files, directories and symlinks the job can create in `out/` and `checkpoints/`
	/// together, and, each, in `/tmp` and `/dev/shm`. Keep the default, as for the quota.
	pub max_files: u32,
	/// Timeout of each Docker request; must exceed the longest job's `max_seconds`.
	pub request_timeout: Duration,
	/// OCI runtime of the job containers (`HostConfig.runtime`): [`DEFAULT_RUNTIME`], or
	/// [`GVISOR_RUNTIME`] or another runtime registered with the daemon (checked at
	/// [`DockerExecutor::connect`]).
	pub runtime: String,
	/// The seccomp profile of every job, as JSON ([`DEFAULT_SECCOMP_PROFILE`] unless the
	/// provider gives another), instead of whatever the daemon's default is.
	pub seccomp_profile: String,
	/// Run on a host whose daemon reports neither AppArmor nor SELinux. Not needed with
	/// [`GVISOR_RUNTIME`], whose jobs never reach the host's kernel directly.
	pub allow_without_lsm: bool,
}

impl DockerConfig {
	/// Defaults for `instance`: images from `image_dir` or public registries, a 10 GiB image
	/// cache indexed in the system's temporary directory (the worker keeps it in its state
	/// directory), inputs from public addresses under the [`FetchPolicy`] defaults, user
	/// `65534:65534` (nobody), 64 MiB `/tmp` and `/dev/shm`, 1 MiB per log stream, 1 MiB of
	/// output files, a 256 MiB disk quota and 4096 files.
	pub fn new(instance: impl Into<String>, image_dir: impl Into<PathBuf>) -> Self {
		let instance = instance.into();
		let index = std::env::temp_dir().join(format!("povm-images-{instance}.json"));
		Self {
			images: ImageStoreConfig::new(image_dir.into(), index, 10 << 30),
			fetch: FetchPolicy::default(),
			instance,
			uid: 65534,
			gid: 65534,
			tmpfs_mib: 64,
			max_log_bytes: 1 << 20,
			max_output_bytes: 1 << 20,
			disk_quota_bytes: u64::from(DEFAULT_DISK_QUOTA_MIB) << 20,
			max_files: DEFAULT_MAX_FILES,
			request_timeout: Duration::from_secs(6 * 3600),
			runtime: DEFAULT_RUNTIME.to_owned(),
			seccomp_profile: DEFAULT_SECCOMP_PROFILE.to_owned(),
			allow_without_lsm: false,
		}
	}

	/// Whether the daemon may lack a Linux security module (AppArmor, SELinux): the provider
	/// said so, or the runtime is gVisor.
	pub fn lsm_optional(&self) -> bool {
		self.allow_without_lsm || self.runtime == GVISOR_RUNTIME
	}
}

/// Runs jobs as containers on the local Docker daemon.
///
/// Each container: the exact image id from the spec, no network (`none`), read-only root,
/// size- and file-capped tmpfs `/tmp` and `/dev/shm`, the run's `out/` and `checkpoints/`
/// bind-mounted writable from a tmpfs with the run's disk quota and file cap (see
/// [`quota`](super::quota)), memory (without swap), CPU and pids limits, all capabilities
/// dropped, `no-new-privileges`, a non-root user, no log driver (output is read from an
/// attach stream, capped), and a SIGKILL at `max_seconds`. The container is always removed.
///
/// Every replica sees the same environment, so that honest replicas of a deterministic
/// program agree: the host name [`HOSTNAME`] (not the container id), an empty NIS domain
/// name, `TZ=UTC` and the `C.UTF-8` locale ([`PINNED_ENV`], unless the spec sets them), fixed
/// `/etc/hosts` and `/etc/resolv.conf` (not the host's resolvers), and fixed resource limits
/// (`ulimit`) instead of the daemon's. Not pinned: the clock, the CPU model and count, and the
/// kernel version, which Docker cannot hide.
///
/// [`DockerExecutor::connect`] refuses a daemon that cannot enforce the limits or has no
/// seccomp profile ([`missing_isolation`]), and a container the daemon created with warnings
/// (a limit it accepted but does not apply) is removed and not run.
#[derive(Clone, Debug)]
pub struct DockerExecutor {
	client: DockerClient,
	config: DockerConfig,
	images: std::sync::Arc<ImageStore>,
}

/// The tmpfs mounts of a run, each with the options `tmpfs` (size and file caps, `noexec`):
/// `/tmp`, `/dev/shm`, and every other `VOLUME` of the image that is not one of the run's bind
/// mounts (which take its place), so that Docker creates no anonymous volume: it would be
/// writable and unbounded on the host's disk.
pub fn job_tmpfs(tmpfs: &str, image_volumes: &[String]) -> HashMap<String, String> {
	let mut mounts = HashMap::from([
		("/tmp".to_owned(), tmpfs.to_owned()),
		("/dev/shm".to_owned(), tmpfs.to_owned()),
	]);
	for volume in image_volumes {
		// `//data/./x/` is `/data/x`: compare clean absolute paths (Docker itself refuses a
		// relative volume path).
		let path = Path::new(volume);
		if !path.is_absolute() {
			continue;
		}
		let clean: PathBuf = path.components().collect();
		let Some(clean) = clean.to_str().map(str::to_owned) else { continue };
		let bound = [IN_DIR, OUT_DIR, CHECKPOINT_DIR, "/etc/hosts", "/etc/resolv.conf", "/"];
		if !bound.contains(&clean.as_str()) && !mounts.contains_key(&clean) {
			mounts.insert(clean, tmpfs.to_owned());
		}
	}
	mounts
}

/// What the daemon `info` reports it cannot enforce of what every job's sandbox needs: memory,
/// swap (memory + swap = memory), pids and CPU quota limits in the kernel's cgroups, seccomp
/// (not `unconfined`), and a Linux security module, AppArmor or SELinux (Docker's default
/// profiles), unless `lsm_optional` ([`DockerConfig::lsm_optional`]).
pub fn missing_isolation(
	info: &bollard::models::SystemInfo,
	lsm_optional: bool,
) -> Vec<&'static str> {
	let mut missing = Vec::new();
	for (present, what) in [
		(info.memory_limit, "memory limit"),
		(info.swap_limit, "swap limit"),
		(info.pids_limit, "pids limit"),
		(info.cpu_cfs_quota, "CPU quota"),
	] {
		if present != Some(true) {
			missing.push(what);
		}
	}
	let seccomp = info.security_options.iter().flatten().any(|o| {
		o.split(',').any(|part| part == "name=seccomp") && !o.contains("profile=unconfined")
	});
	if !seccomp {
		missing.push("seccomp");
	}
	let lsm = info
		.security_options
		.iter()
		.flatten()
		.any(|o| o.split(',').any(|part| part == "name=apparmor" || part == "name=selinux"));
	if !lsm && !lsm_optional {
		missing.push("AppArmor or SELinux (or set [sandbox] allow_without_lsm)");
	}
	missing
}

/// The OCI runtimes registered with the daemon (`docker info`'s `Runtimes`), sorted.
pub fn registered_runtimes(info: &bollard::models::SystemInfo) -> Vec<String> {
	let mut names: Vec<String> = info.runtimes.iter().flatten().map(|(k, _)| k.clone()).collect();
	names.sort();
	names
}

/// Whether gVisor, as registered with the daemon, enforces the container's OCI seccomp profile
/// (`runsc --oci-seccomp`); without it gVisor ignores the profile, and a job could call inside
/// gVisor what a runc replica's profile refuses, and so get another result.
pub fn gvisor_enforces_seccomp(info: &bollard::models::SystemInfo) -> bool {
	info.runtimes
		.as_ref()
		.and_then(|r| r.get(GVISOR_RUNTIME))
		.and_then(|r| r.runtime_args.as_ref())
		.and_then(|args| {
			// Go's flags: the last occurrence wins.
			args.iter().rev().find_map(|a| match a.trim_start_matches('-') {
				"oci-seccomp" | "oci-seccomp=true" => Some(true),
				"oci-seccomp=false" => Some(false),
				_ => None,
			})
		})
		.unwrap_or(false)
}

/// The container's `pids_limit` for a job allowed `pids` processes and threads: the same
/// under runc; under gVisor the cgroup also holds the sandbox's own threads and a few host
/// threads per job task, so the job's own count is bounded inside gVisor less exactly.
pub fn runtime_pids_limit(runtime: &str, pids: u32) -> i64 {
	if runtime == GVISOR_RUNTIME {
		RUNSC_BASE_PIDS + RUNSC_PIDS_PER_TASK * i64::from(pids)
	} else {
		i64::from(pids)
	}
}

/// Removes the container if the run is abandoned (its future dropped) before cleanup.
struct ContainerGuard {
	client: DockerClient,
	id: Option<String>,
}

impl ContainerGuard {
	fn disarm(&mut self) -> Option<String> {
		self.id.take()
	}
}

impl Drop for ContainerGuard {
	fn drop(&mut self) {
		if let (Some(id), Ok(rt)) = (self.id.take(), tokio::runtime::Handle::try_current()) {
			let client = self.client.clone();
			rt.spawn(async move {
				if let Err(e) = client.remove_container(&id).await {
					tracing::warn!(target: LOG_EXECUTOR, "abandoned container not removed: {e}");
				}
			});
		}
	}
}

/// What supervising a started container yields, before the files are read back.
struct Supervised {
	exit_code: i64,
	timed_out: bool,
	oom_killed: bool,
	stdout: (Vec<u8>, bool),
	stderr: (Vec<u8>, bool),
	meter: UsageMeter,
	wall: Duration,
	ended: Instant,
}

impl DockerExecutor {
	/// Connects to the daemon and removes orphaned containers of this instance (left by a
	/// crash or an abandoned run).
	pub async fn connect(config: DockerConfig) -> Result<Self, ExecError> {
		// Every run needs its quota'd storage: refuse to start where it cannot be mounted.
		quota::probe()?;
		let client = DockerClient::connect(config.request_timeout).await?;
		let info = client.info().await?;
		let registered = registered_runtimes(&info);
		if !registered.contains(&config.runtime) {
			return Err(ExecError::RuntimeNotRegistered {
				runtime: config.runtime.clone(),
				registered,
			});
		}
		if config.runtime == GVISOR_RUNTIME && !gvisor_enforces_seccomp(&info) {
			return Err(ExecError::GvisorIgnoresSeccomp);
		}
		let missing = missing_isolation(&info, config.lsm_optional());
		if !missing.is_empty() {
			return Err(ExecError::UnsafeHost { missing });
		}
		let images = ImageStore::open(client.clone(), config.images.clone()).await?;
		let executor = Self { client, config, images: std::sync::Arc::new(images) };
		let removed = executor.remove_orphans().await?;
		if removed > 0 {
			tracing::info!(target: LOG_EXECUTOR, removed, "removed orphaned job containers");
		}
		let unmounted = quota::remove_orphan_mounts(&executor.config.instance);
		if unmounted > 0 {
			tracing::info!(target: LOG_EXECUTOR, unmounted, "removed orphaned run storage");
		}
		Ok(executor)
	}

	/// The Docker wrapper this executor uses.
	pub fn client(&self) -> &DockerClient {
		&self.client
	}

	/// The executor's settings.
	pub fn config(&self) -> &DockerConfig {
		&self.config
	}

	/// Removes every container labelled with this instance; returns how many.
	pub async fn remove_orphans(&self) -> Result<usize, ExecError> {
		let ids = self.client.list_labelled(WORKER_LABEL, &self.config.instance).await?;
		for id in &ids {
			self.client.remove_container(id).await?;
		}
		Ok(ids.len())
	}

	/// Makes sure the image of `spec` is in the daemon, with exactly its ID: present, else
	/// loaded from the image directory, else pulled from its registry (see [`ImageStore`]).
	pub async fn ensure_image(&self, spec: &ImageSpec) -> Result<ImageSource, ExecError> {
		let source = self.images.ensure(spec).await?;
		if let ImageSource::Pulled { bytes, elapsed } = source {
			tracing::info!(
				target: LOG_EXECUTOR,
				image = %spec.id,
				bytes,
				seconds = elapsed.as_secs_f64(),
				"image pulled"
			);
		}
		Ok(source)
	}

	/// The `VOLUME`s the image `id` declares. Docker would give each an anonymous volume on the
	/// host's disk, writable and without a size limit, despite the read-only root: the run
	/// mounts a capped tmpfs there instead ([`job_tmpfs`]).
	async fn image_volumes(&self, id: &str) -> Result<Vec<String>, ExecError> {
		let image = self.client.inspect_image(id).await?;
		Ok(image.and_then(|i| i.config).and_then(|c| c.volumes).unwrap_or_default())
	}

	/// The image store (cache and pins).
	pub fn images(&self) -> &ImageStore {
		&self.images
	}

	/// Writes the job's fixed `/etc` files into `<work_dir>/etc`; returns the directory.
	fn write_etc(work_dir: &Path) -> Result<PathBuf, ExecError> {
		let dir = work_dir.join("etc");
		let err = |source| ExecError::WorkDir { path: dir.clone(), source };
		std::fs::create_dir_all(&dir).map_err(err)?;
		std::fs::write(dir.join("resolv.conf"), RESOLV_CONF).map_err(err)?;
		std::fs::write(dir.join("hosts"), HOSTS).map_err(err)?;
		Ok(dir)
	}

	fn container_body(
		&self,
		job: &JobRun,
		fs: &JobFs,
		etc: &Path,
		inputs: &Path,
		image_volumes: &[String],
	) -> ContainerCreateBody {
		let r = &job.spec.resources;
		let bind = |source: &Path, target: &str, read_only: bool| Mount {
			target: Some(target.to_owned()),
			source: Some(source.display().to_string()),
			typ: Some(MountType::BIND),
			read_only: Some(read_only),
			..Default::default()
		};
		// The root inode of each tmpfs counts too: the job gets `max_files` of its own. (Docker
		// refuses `huge=`; the host's `shmem_enabled` is `never` or `within_size` by default.)
		let tmpfs = format!(
			"rw,nosuid,nodev,noexec,size={}m,nr_inodes={}",
			self.config.tmpfs_mib,
			u64::from(self.config.max_files) + 1,
		);
		// The spec's variables first: a process reads the first of duplicate entries, and the
		// pinned ones are only defaults.
		let mut env: Vec<String> = job.spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
		for (key, value) in PINNED_ENV {
			if !job.spec.env.iter().any(|(k, _)| k == key) {
				env.push(format!("{key}={value}"));
			}
		}
		let (cpu_soft, cpu_hard) = cpu_time_limit(&self.config.runtime, r);
		let cpu_limit = ("cpu", cpu_soft, cpu_hard);
		let host_config = HostConfig {
			memory: Some(i64::from(r.memory_mib) * MIB),
			// Equal to the memory limit: no swap, so the limit really bounds the job.
			memory_swap: Some(i64::from(r.memory_mib) * MIB),
			nano_cpus: Some(i64::from(r.millicores) * 1_000_000),
			pids_limit: Some(runtime_pids_limit(&self.config.runtime, r.pids)),
			runtime: Some(self.config.runtime.clone()),
			network_mode: Some("none".to_owned()),
			readonly_rootfs: Some(true),
			// A mount at `/dev/shm` replaces Docker's own (64 MiB, no file cap).
			tmpfs: Some(job_tmpfs(&tmpfs, image_volumes)),
			mounts: Some(vec![
				bind(inputs, IN_DIR, true),
				bind(&fs.out(), OUT_DIR, false),
				bind(&fs.checkpoints(), CHECKPOINT_DIR, false),
				bind(&etc.join("resolv.conf"), "/etc/resolv.conf", true),
				bind(&etc.join("hosts"), "/etc/hosts", true),
			]),
			ulimits: Some(
				ULIMITS
					.iter()
					.copied()
					.chain([cpu_limit])
					.map(|(name, soft, hard)| ResourcesUlimits {
						name: Some(name.to_owned()),
						soft: Some(soft),
						hard: Some(hard),
					})
					.collect(),
			),
			cap_drop: Some(vec!["ALL".to_owned()]),
			// The profile's JSON itself: the API takes the content, not a path.
			security_opt: Some(vec![
				"no-new-privileges".to_owned(),
				format!("seccomp={}", self.config.seccomp_profile),
			]),
			// Output is read from the attach stream, so nothing piles up in log files.
			log_config: Some(HostConfigLogConfig { typ: Some("none".to_owned()), config: None }),
			oom_kill_disable: Some(false),
			..Default::default()
		};
		ContainerCreateBody {
			image: Some(job.spec.image.id.clone()),
			// The image's health check would run more processes beside the job's, on a schedule
			// of the image's choosing: never.
			healthcheck: Some(HealthConfig {
				test: Some(vec!["NONE".to_owned()]),
				..Default::default()
			}),
			entrypoint: (!job.spec.command.is_empty()).then(|| job.spec.command.clone()),
			cmd: Some(job.spec.args.clone()),
			env: Some(env),
			hostname: Some(HOSTNAME.to_owned()),
			domainname: Some(String::new()),
			user: Some(format!("{}:{}", self.config.uid, self.config.gid)),
			labels: Some(HashMap::from([
				(JOB_LABEL.to_owned(), job.job_id.to_string()),
				(WORKER_LABEL.to_owned(), self.config.instance.clone()),
			])),
			network_disabled: Some(true),
			attach_stdout: Some(true),
			attach_stderr: Some(true),
			tty: Some(false),
			open_stdin: Some(false),
			host_config: Some(host_config),
			..Default::default()
		}
	}

	/// Attaches, starts, waits (killing at the deadline), and inspects the container.
	async fn supervise(&self, id: &str, max_seconds: u32) -> Result<Supervised, ExecError> {
		let cap = self.config.max_log_bytes;
		let logs = Arc::new(Mutex::new((CappedBuf::new(cap), CappedBuf::new(cap))));
		let mut output = self.client.attach_output(id).await?;
		let sink = logs.clone();
		let log_task = tokio::spawn(async move {
			while let Some(item) = output.next().await {
				let mut bufs = sink.lock().expect("log buffers are never poisoned");
				match item {
					Ok(LogOutput::StdOut { message }) => bufs.0.push(&message),
					Ok(LogOutput::StdErr { message }) => bufs.1.push(&message),
					Ok(_) => {},
					Err(e) => {
						tracing::warn!(target: LOG_EXECUTOR, "output stream broke: {e}");
						break;
					},
				}
			}
		});

		self.client.start_container(id).await?;
		let started = Instant::now();
		let (stop_stats, stopped) = oneshot::channel::<()>();
		let mut stats = Box::pin(self.client.stats(id));
		let stats_task = tokio::spawn(async move {
			let mut meter = UsageMeter::default();
			let mut stopped = stopped;
			loop {
				tokio::select! {
					_ = &mut stopped => break,
					item = stats.next() => match item {
						Some(Ok(s)) => meter.sample(Instant::now(), &s),
						Some(Err(e)) => {
							tracing::debug!(target: LOG_EXECUTOR, "stats sample failed: {e}");
							break;
						},
						None => break,
					},
				}
			}
			meter
		});

		let deadline = Duration::from_secs(u64::from(max_seconds));
		let timed_out = match tokio::time::timeout(deadline, self.client.wait_container(id)).await {
			Ok(waited) => {
				waited?;
				false
			},
			Err(_) => {
				tracing::info!(target: LOG_EXECUTOR, container = id, "wall-clock limit reached, killing");
				self.client.kill_container(id).await?;
				self.client.wait_container(id).await?;
				true
			},
		};
		let ended = Instant::now();
		let _ = stop_stats.send(());
		let meter = stats_task.await.unwrap_or_default();

		// The attach stream ends when the container exits; do not hang if it does not.
		let mut log_task = log_task;
		if tokio::time::timeout(LOG_DRAIN_GRACE, &mut log_task).await.is_err() {
			tracing::warn!(target: LOG_EXECUTOR, container = id, "output stream did not end");
			log_task.abort();
		}
		let (stdout, stderr) = {
			let mut bufs = logs.lock().expect("log buffers are never poisoned");
			let bufs = std::mem::replace(&mut *bufs, (CappedBuf::new(0), CappedBuf::new(0)));
			(bufs.0.finish(), bufs.1.finish())
		};

		let state = self.client.inspect_container(id).await?.state.unwrap_or_default();
		Ok(Supervised {
			exit_code: state.exit_code.unwrap_or(-1),
			timed_out,
			oom_killed: state.oom_killed.unwrap_or(false),
			stdout,
			stderr,
			meter,
			wall: ended.saturating_duration_since(started),
			ended,
		})
	}
}

impl Executor for DockerExecutor {
	async fn health(&self) -> Result<(), ExecError> {
		Ok(self.client.ping(Duration::from_secs(5)).await?)
	}

	async fn run(&self, job: &JobRun) -> Result<Execution, ExecError> {
		let r = &job.spec.resources;
		if r.memory_mib < MIN_MEMORY_MIB {
			return Err(ExecError::InvalidResources("memory below 6 MiB"));
		}
		if r.millicores < MIN_MILLICORES {
			return Err(ExecError::InvalidResources("CPU below 10 millicores"));
		}
		if r.max_seconds == 0 {
			return Err(ExecError::InvalidResources("max_seconds is 0"));
		}
		if r.pids == 0 {
			return Err(ExecError::InvalidResources("pids limit is 0"));
		}
		// Refuse a wrong or missing image, or a wrong input, before any container exists. The
		// pin keeps the image from the cache's eviction until the container is gone.
		let _pin = self.images.pin(&job.spec.image.id);
		let inputs = job.work_dir.join("in");
		let prepare = async {
			self.ensure_image(&job.spec.image).await?;
			let fetched =
				fetch::fetch_inputs(&job.spec.inputs, &inputs, &self.config.fetch).await?;
			for f in &fetched {
				tracing::info!(
					target: LOG_EXECUTOR,
					job = job.job_id,
					input = %f.name,
					bytes = f.bytes,
					seconds = f.elapsed.as_secs_f64(),
					"input fetched"
				);
			}
			Ok::<_, ExecError>(())
		};
		tokio::time::timeout(job.prepare_within, prepare)
			.await
			.map_err(|_| ExecError::PrepareTimeout { after: job.prepare_within })??;

		let quota = Quota {
			bytes: self.config.disk_quota_bytes,
			files: self.config.max_files,
			uid: self.config.uid,
			gid: self.config.gid,
		};
		// Unmounted on every path out of here: explicitly below, or when dropped.
		let fs = JobFs::mount(&job.work_dir, &self.config.instance, quota)?;
		let etc = Self::write_etc(&job.work_dir)?;

		let volumes = self.image_volumes(&job.spec.image.id).await?;
		let body = self.container_body(job, &fs, &etc, &inputs, &volumes);
		let id = self.client.create_container(job.job_id, body).await?;
		let mut guard = ContainerGuard { client: self.client.clone(), id: Some(id.clone()) };
		tracing::debug!(target: LOG_EXECUTOR, job = job.job_id, container = %id, "container created");

		let supervised = self.supervise(&id, r.max_seconds).await;
		let removed = self.client.remove_container(&id).await;
		if removed.is_ok() {
			guard.disarm();
		}
		let s = supervised?;
		removed?;

		let (outputs, outputs_cut) = collect_outputs(&fs.out(), self.config.max_output_bytes)?;
		let (checkpoints, checkpoints_cut) =
			collect_checkpoints(&fs.checkpoints(), MAX_CHECKPOINTS, self.config.disk_quota_bytes)?;
		let over_quota = fs.is_full()?;
		fs.unmount()?;
		if over_quota {
			tracing::info!(target: LOG_EXECUTOR, job = job.job_id, "the job used up its disk quota or file cap");
		}
		let (stdout, stdout_cut) = s.stdout;
		let (stderr, stderr_cut) = s.stderr;
		let wall_ms = s.wall.as_millis() as u64;
		Ok(Execution {
			exit_code: s.exit_code,
			flags: Flags {
				timed_out: s.timed_out,
				oom_killed: s.oom_killed,
				truncated: stdout_cut || stderr_cut || outputs_cut || checkpoints_cut || over_quota,
			},
			stdout,
			stderr,
			outputs,
			checkpoints,
			usage: s.meter.finish(s.ended, wall_ms),
		})
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use bollard::models::SystemInfo;

	fn isolating() -> SystemInfo {
		SystemInfo {
			memory_limit: Some(true),
			swap_limit: Some(true),
			pids_limit: Some(true),
			cpu_cfs_quota: Some(true),
			security_options: Some(vec!["name=seccomp,profile=default".into()]),
			..Default::default()
		}
	}

	#[test]
	fn image_volumes_become_capped_tmpfs_mounts() {
		let volumes = [
			"/data".to_owned(),
			"/tmp/".into(),
			"/povm/out".into(),
			"/povm".into(),
			"/var/x/".into(),
		];
		let mounts = job_tmpfs("size=64m", &volumes);
		let mut paths: Vec<_> = mounts.keys().cloned().collect();
		paths.sort();
		assert_eq!(paths, ["/data", "/dev/shm", "/povm", "/tmp", "/var/x"]);
		assert!(mounts.values().all(|o| o == "size=64m"));
	}

	#[test]
	fn a_daemon_without_limits_or_seccomp_is_refused() {
		let missing_isolation = |info: &SystemInfo| missing_isolation(info, true);
		assert!(missing_isolation(&isolating()).is_empty());
		let mut info = isolating();
		info.swap_limit = Some(false);
		info.security_options = Some(vec!["name=seccomp,profile=unconfined".into()]);
		assert_eq!(missing_isolation(&info), vec!["swap limit", "seccomp"]);
		info.security_options = Some(vec!["name=apparmor".into()]);
		info.pids_limit = None;
		assert_eq!(missing_isolation(&info), vec!["swap limit", "pids limit", "seccomp"]);
		let mut info = isolating();
		info.security_options =
			Some(vec!["name=apparmor".into(), "name=seccomp,profile=builtin".into()]);
		assert!(missing_isolation(&info).is_empty());
	}

	const NO_LSM: &str = "AppArmor or SELinux (or set [sandbox] allow_without_lsm)";

	#[test]
	fn a_daemon_without_apparmor_or_selinux_is_refused_unless_allowed_or_gvisor() {
		let with = |options: &[&str]| SystemInfo {
			security_options: Some(options.iter().map(|o| (*o).to_owned()).collect()),
			..isolating()
		};
		let seccomp_only = with(&["name=seccomp,profile=builtin"]);
		assert_eq!(missing_isolation(&seccomp_only, false), vec![NO_LSM]);
		assert!(missing_isolation(&seccomp_only, true).is_empty());
		for lsm in ["name=apparmor", "name=selinux"] {
			let info = with(&[lsm, "name=seccomp,profile=builtin", "name=cgroupns"]);
			assert!(missing_isolation(&info, false).is_empty(), "{lsm}");
		}
		let nothing = with(&["name=cgroupns"]);
		assert_eq!(missing_isolation(&nothing, false), vec!["seccomp", NO_LSM]);

		let mut config = DockerConfig::new("w", "images");
		assert!(!config.lsm_optional(), "refused by default");
		config.runtime = GVISOR_RUNTIME.into();
		assert!(config.lsm_optional(), "gVisor is its own kernel");
		let mut config = DockerConfig::new("w", "images");
		config.allow_without_lsm = true;
		assert!(config.lsm_optional());
	}

	#[test]
	fn runtimes_are_read_from_info_and_pids_grow_under_gvisor() {
		let info = SystemInfo {
			runtimes: Some(HashMap::from([
				("runsc".to_owned(), Default::default()),
				("runc".to_owned(), Default::default()),
			])),
			..Default::default()
		};
		assert_eq!(registered_runtimes(&info), ["runc", "runsc"]);
		assert!(registered_runtimes(&SystemInfo::default()).is_empty());
		assert_eq!(runtime_pids_limit(DEFAULT_RUNTIME, 32), 32);
		assert_eq!(runtime_pids_limit("kata", 32), 32);
		assert_eq!(runtime_pids_limit(GVISOR_RUNTIME, 32), 128 + 12 * 32);
	}

	#[test]
	fn the_cpu_time_limit_lies_beyond_what_the_quota_allows_in_the_run_time() {
		let r = |millicores, max_seconds| Resources {
			millicores,
			memory_mib: 64,
			max_seconds,
			pids: 32,
		};
		// runc: the quota's cores over the run time and a 30 s margin (at least one core).
		assert_eq!(cpu_time_limit(DEFAULT_RUNTIME, &r(1000, 60)), (90, 120));
		assert_eq!(cpu_time_limit(DEFAULT_RUNTIME, &r(500, 61)), (91, 121), "at least a core");
		assert_eq!(cpu_time_limit(DEFAULT_RUNTIME, &r(4000, 30)), (240, 360), "threads add up");
		assert_eq!(cpu_time_limit(DEFAULT_RUNTIME, &r(2500, 1)), (78, 153), "rounded up");
		// gVisor: every thread (up to pids) may count a second per second, throttled or not.
		assert_eq!(cpu_time_limit(GVISOR_RUNTIME, &r(500, 30)), (32 * 60, 32 * 90));
		let (soft, hard) = cpu_time_limit(DEFAULT_RUNTIME, &r(u32::MAX, u32::MAX));
		assert!(soft > 0 && hard >= soft, "no overflow");
	}

	#[test]
	fn gvisor_counts_as_enforcing_seccomp_only_with_oci_seccomp() {
		let with = |args: Option<&[&str]>| SystemInfo {
			runtimes: Some(HashMap::from([(
				GVISOR_RUNTIME.to_owned(),
				bollard::models::Runtime {
					path: Some("/usr/bin/runsc".into()),
					runtime_args: args.map(|a| a.iter().map(|s| (*s).to_owned()).collect()),
					..Default::default()
				},
			)])),
			..Default::default()
		};
		assert!(gvisor_enforces_seccomp(&with(Some(&["--network=none", "--oci-seccomp"]))));
		assert!(gvisor_enforces_seccomp(&with(Some(&["-oci-seccomp=true"]))));
		assert!(!gvisor_enforces_seccomp(&with(Some(&["--network=none"]))));
		assert!(!gvisor_enforces_seccomp(&with(Some(&["--oci-seccomp=false"]))));
		assert!(!gvisor_enforces_seccomp(&with(Some(&["--oci-seccomp", "--oci-seccomp=false"]))));
		assert!(gvisor_enforces_seccomp(&with(Some(&["--oci-seccomp=false", "--oci-seccomp"]))));
		assert!(!gvisor_enforces_seccomp(&with(None)));
		assert!(!gvisor_enforces_seccomp(&SystemInfo::default()));
	}

	#[test]
	fn the_seccomp_profile_denies_by_default_and_allows_no_escape_hatch() {
		let profile: serde_json::Value = serde_json::from_str(DEFAULT_SECCOMP_PROFILE).unwrap();
		assert_eq!(profile["defaultAction"], "SCMP_ACT_ERRNO");
		let allowed: Vec<&str> = profile["syscalls"]
			.as_array()
			.unwrap()
			.iter()
			.filter(|rule| rule["action"] == "SCMP_ACT_ALLOW" && rule.get("args").is_none())
			.flat_map(|rule| rule["names"].as_array().unwrap())
			.map(|name| name.as_str().unwrap())
			.collect();
		for needed in ["read", "write", "execve", "mmap", "futex", "exit_group", "openat", "wait4"]
		{
			assert!(allowed.contains(&needed), "{needed} is needed");
		}
		for denied in [
			"mount",
			"umount2",
			"unshare",
			"setns",
			"clone",
			"clone3",
			"keyctl",
			"add_key",
			"bpf",
			"ptrace",
			"kexec_load",
			"open_by_handle_at",
			"init_module",
			"finit_module",
			"userfaultfd",
			"perf_event_open",
			"io_uring_setup",
			"pivot_root",
			"chroot",
			"personality",
			"process_vm_writev",
			"reboot",
			"swapon",
			"syslog",
		] {
			assert!(!allowed.contains(&denied), "{denied} must not be allowed unconditionally");
		}
	}
}

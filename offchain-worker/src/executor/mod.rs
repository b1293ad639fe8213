//! Running a job's container and collecting what the attestation needs.
//!
//! [`Executor`] is the backend-neutral interface; [`DockerExecutor`] runs jobs on the local
//! Docker daemon. A Kubernetes backend can implement the same trait later.

mod collect;
mod docker;
mod docker_client;
mod error;
pub mod images;
mod quota;
mod usage;

use std::{future::Future, path::PathBuf};

pub use self::{
	docker::{
		cpu_time_limit, gvisor_enforces_seccomp, missing_isolation, registered_runtimes,
		runtime_pids_limit, DockerConfig, DockerExecutor, DEFAULT_DISK_QUOTA_MIB,
		DEFAULT_MAX_FILES, DEFAULT_RUNTIME, DEFAULT_SECCOMP_PROFILE, GVISOR_RUNTIME,
	},
	docker_client::{DockerClient, DockerError, ImageRemoval, JOB_LABEL, WORKER_LABEL},
	error::ExecError,
	images::{
		ImageError, ImagePin, ImageSource, ImageSpec, ImageStore, ImageStoreConfig, RegistryImage,
	},
};
use povm_primitives::results::{ResultManifest, RunOutcome};

use crate::{
	attestation::{self, Flags, Hash},
	fetch::InputSpec,
};

/// Where the job reads its input files (read-only; see [`JobSpec::inputs`]).
pub const IN_DIR: &str = "/povm/in";
/// Where the job sees its writable directories.
pub const OUT_DIR: &str = "/povm/out";
/// Where the job writes its checkpoint files.
pub const CHECKPOINT_DIR: &str = "/povm/checkpoints";
/// The host name every job sees (`hostname`, `uname -n`), instead of the container id.
pub const HOSTNAME: &str = "povm";
/// Environment every job gets unless its spec sets the variable: the same time zone and
/// locale on every replica, whatever the host's.
pub const PINNED_ENV: [(&str, &str); 3] =
	[("TZ", "UTC"), ("LANG", "C.UTF-8"), ("LC_ALL", "C.UTF-8")];
/// The most checkpoints a run keeps (the first, in name order): a reveal carries at most the
/// runtime's `VmProof::MaxCheckpoints` hashes. A run that writes more is flagged `truncated`,
/// the same on every honest replica.
pub const MAX_CHECKPOINTS: usize = 256;

/// Runs one job to completion in a sandbox.
pub trait Executor {
	/// Runs `job` and returns what it did. Errors mean the job could not be run or observed
	/// (for example an image that cannot be had, or an input that is not what the spec says);
	/// a job that fails, times out or runs out of memory
	/// is an [`Execution`] with the matching flags, not an error.
	fn run(&self, job: &JobRun) -> impl Future<Output = Result<Execution, ExecError>> + Send;

	/// Whether the container engine answers now (a cheap round trip). The worker takes no
	/// work while it does not.
	fn health(&self) -> impl Future<Output = Result<(), ExecError>> + Send;
}

/// Resource limits of a job, as in the on-chain job spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resources {
	/// CPU limit in millicores (1000 = one core).
	pub millicores: u32,
	/// Memory limit in MiB (swap is disabled: memory + swap = memory).
	pub memory_mib: u32,
	/// Wall-clock limit in seconds; the container is killed when it is reached.
	pub max_seconds: u32,
	/// Maximum number of processes and threads in the container.
	pub pids: u32,
}

/// The part of an on-chain job spec that the executor needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobSpec {
	/// The image: its ID (`sha256:<64 lower-case hex>`), where to pull it, its platform.
	pub image: ImageSpec,
	/// Input files, fetched into the run's `in/` and mounted read-only at [`IN_DIR`].
	pub inputs: Vec<InputSpec>,
	/// Entrypoint override; empty to keep the image's entrypoint.
	pub command: Vec<String>,
	/// Arguments (the container `Cmd`).
	pub args: Vec<String>,
	/// Environment variables.
	pub env: Vec<(String, String)>,
	/// Resource limits.
	pub resources: Resources,
}

/// One assigned run of a job on this provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRun {
	/// On-chain job id; containers are labelled with it.
	pub job_id: u64,
	/// What to run.
	pub spec: JobSpec,
	/// Host directory owned by this run. The executor mounts the run's storage at `fs/` in it
	/// (a tmpfs with the disk quota and file cap, unmounted when the run returns), with
	/// `out/` and `checkpoints/` bind-mounted at [`OUT_DIR`] and [`CHECKPOINT_DIR`], and
	/// writes the job's fixed `/etc` files to `etc/`.
	pub work_dir: PathBuf,
	/// Longest the image pull and the input fetches together may take before the run is given
	/// up ([`ExecError::PrepareTimeout`]): the worker sets it so that a job whose image or
	/// inputs come too slowly is declined early in its commit window, not left to miss it.
	pub prepare_within: std::time::Duration,
}

/// [`JobRun::prepare_within`] when nothing shorter is known: an hour.
pub const DEFAULT_PREPARE_WITHIN: std::time::Duration = std::time::Duration::from_secs(3600);

/// One file the job wrote to [`OUT_DIR`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputFile {
	/// File name (regular files at the top of the directory only).
	pub name: String,
	/// Content, cut at the output cap (see [`DockerConfig::max_output_bytes`]).
	pub content: Vec<u8>,
	/// blake2-256 of `content`.
	pub digest: Hash,
}

/// One checkpoint file the job wrote to [`CHECKPOINT_DIR`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointFile {
	/// File name; checkpoints are ordered by name.
	pub name: String,
	/// Size in bytes.
	pub size: u64,
	/// blake2-256 of the whole file.
	pub digest: Hash,
}

/// Resources a run used, measured by the container runtime.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
	/// CPU time in milliseconds (cgroup total usage, user + system).
	pub cpu_ms: u64,
	/// Memory integrated over time, in MiB·milliseconds (divide by 1000 for MiB·s).
	pub memory_mib_ms: u64,
	/// Highest sampled memory use in MiB.
	pub peak_memory_mib: u64,
	/// Wall time from start to exit in milliseconds.
	pub wall_ms: u64,
	/// Number of runtime samples the figures are based on.
	pub samples: u32,
}

impl Usage {
	/// Memory integrated over time in MiB·s, rounded down.
	pub fn memory_mib_seconds(&self) -> u64 {
		self.memory_mib_ms / 1000
	}
}

/// What a run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Execution {
	/// Exit code of the main process (137 when killed by SIGKILL).
	pub exit_code: i64,
	/// Outcome flags.
	pub flags: Flags,
	/// Captured stdout, cut at the log cap.
	pub stdout: Vec<u8>,
	/// Captured stderr, cut at the log cap.
	pub stderr: Vec<u8>,
	/// Output files, in name order.
	pub outputs: Vec<OutputFile>,
	/// Checkpoint files, in name order.
	pub checkpoints: Vec<CheckpointFile>,
	/// Measured usage (not part of the result digest: it differs between replicas).
	pub usage: Usage,
}

impl Execution {
	/// The result manifest of this run (see [`povm_primitives::results`]): the exit code and
	/// flags, the digests of the captured logs and of each output file (names as UTF-8 bytes,
	/// in ascending byte order).
	pub fn manifest(&self) -> ResultManifest {
		ResultManifest {
			exit_code: self.exit_code,
			timed_out: self.flags.timed_out,
			oom_killed: self.flags.oom_killed,
			truncated: self.flags.truncated,
			stdout_digest: attestation::blake2_256(&self.stdout),
			stderr_digest: attestation::blake2_256(&self.stderr),
			files: self.outputs.iter().map(|o| (o.name.as_bytes().to_vec(), o.digest)).collect(),
		}
		.sorted()
	}

	/// The outcome the chain shows for this run: [`ResultManifest::outcome`] of
	/// [`Execution::manifest`].
	pub fn outcome(&self) -> RunOutcome {
		self.manifest().outcome()
	}

	/// The result digest of this run: [`RunOutcome::result_digest`] of [`Execution::outcome`].
	pub fn result_digest(&self) -> Hash {
		self.outcome().result_digest()
	}

	/// The Merkle root of the checkpoint file hashes, in name order.
	pub fn checkpoints_root(&self) -> Hash {
		let leaves: Vec<Hash> = self.checkpoints.iter().map(|c| c.digest).collect();
		attestation::merkle_root(&leaves)
	}

	/// The content of the output file `name`, if the job wrote one.
	pub fn output(&self, name: &str) -> Option<&[u8]> {
		self.outputs.iter().find(|o| o.name == name).map(|o| o.content.as_slice())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn exec() -> Execution {
		let file = |name: &str, content: &[u8]| OutputFile {
			name: name.into(),
			content: content.to_vec(),
			digest: attestation::blake2_256(content),
		};
		Execution {
			exit_code: 2,
			flags: Flags { timed_out: false, oom_killed: true, truncated: true },
			stdout: b"out".to_vec(),
			stderr: b"err".to_vec(),
			outputs: vec![file("b.txt", b"bee"), file("a.json", b"{}")],
			checkpoints: vec![],
			usage: Usage::default(),
		}
	}

	#[test]
	fn the_manifest_digests_logs_and_files_in_name_order() {
		let m = exec().manifest();
		assert_eq!((m.exit_code, m.timed_out, m.oom_killed, m.truncated), (2, false, true, true));
		assert_eq!(m.stdout_digest, attestation::blake2_256(b"out"));
		assert_eq!(m.stderr_digest, attestation::blake2_256(b"err"));
		assert_eq!(
			m.files,
			vec![
				(b"a.json".to_vec(), attestation::blake2_256(b"{}")),
				(b"b.txt".to_vec(), attestation::blake2_256(b"bee")),
			]
		);
		assert!(ResultManifest::decode_canonical(&codec::Encode::encode(&m)).is_ok());
	}

	#[test]
	fn the_result_digest_is_the_protocols_digest_of_the_outcome() {
		let e = exec();
		assert_eq!(e.outcome(), e.manifest().outcome());
		assert_eq!(e.result_digest(), e.manifest().outcome().result_digest());
		let mut other = exec();
		other.outputs.reverse();
		assert_eq!(other.result_digest(), e.result_digest(), "independent of collection order");
		other.stdout.push(b'!');
		assert_ne!(other.result_digest(), e.result_digest());
	}
}

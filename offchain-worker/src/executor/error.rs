//! Errors of the executor.

use std::path::PathBuf;

use super::{DockerError, ImageError};
use crate::fetch::FetchError;

/// Why a job could not be run or observed.
///
/// A job that exits non-zero, times out or is OOM-killed is not an error: it is an
/// [`Execution`](super::Execution) with the matching flags.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
	/// The image could not be had: not here, not loadable, not pullable, or another image
	/// than the spec's ID.
	#[error(transparent)]
	Image(#[from] ImageError),
	/// An input could not be fetched, or is not the size or digest the spec says.
	#[error(transparent)]
	Input(#[from] FetchError),
	/// The Docker daemon cannot isolate jobs: it reports no enforcement of these limits, or no
	/// seccomp, or neither AppArmor nor SELinux where they are required. The worker does not
	/// start on such a host.
	#[error("the Docker daemon cannot isolate jobs here: no {}", .missing.join(", no "))]
	UnsafeHost {
		/// What is missing.
		missing: Vec<&'static str>,
	},
	/// The configured OCI runtime ([`DockerConfig::runtime`](super::DockerConfig::runtime)) is
	/// not registered with the daemon. The worker does not start.
	#[error(
		"the OCI runtime {runtime:?} is not registered with the Docker daemon (it has: {}); \
		 register it in /etc/docker/daemon.json, e.g. for gVisor: \
		 {{\"runtimes\": {{\"runsc\": {{\"path\": \"/usr/bin/runsc\", \"runtimeArgs\": [\"--network=none\", \"--oci-seccomp\"]}}}}}}, \
		 then reload the daemon (kill -HUP $(pidof dockerd)); see scripts/setup.sh",
		.registered.join(", ")
	)]
	RuntimeNotRegistered {
		/// The configured runtime.
		runtime: String,
		/// The runtimes the daemon has.
		registered: Vec<String>,
	},
	/// gVisor is registered without `--oci-seccomp`, so it would ignore the worker's seccomp
	/// profile: a job could call under gVisor what a runc replica refuses and get another
	/// result. The worker does not start.
	#[error(
		"gVisor (runsc) is registered without --oci-seccomp, so it would ignore the jobs' seccomp \
		 profile; add \"--oci-seccomp\" to its runtimeArgs in /etc/docker/daemon.json, then \
		 reload the daemon (kill -HUP $(pidof dockerd)); see scripts/setup.sh"
	)]
	GvisorIgnoresSeccomp,
	/// Getting the image and the inputs took longer than the run allowed
	/// ([`JobRun::prepare_within`](super::JobRun::prepare_within)).
	#[error("the image and inputs were not ready within {after:?}")]
	PrepareTimeout {
		/// The time allowed.
		after: std::time::Duration,
	},
	/// The spec's resource limits cannot be applied.
	#[error("invalid resources: {0}")]
	InvalidResources(&'static str),
	/// A host directory for the job could not be prepared.
	#[error("cannot prepare job directory {path:?}: {source}")]
	WorkDir {
		/// The directory.
		path: PathBuf,
		/// The I/O error.
		#[source]
		source: std::io::Error,
	},
	/// The run's quota'd storage could not be mounted, inspected or unmounted (mounting needs
	/// `CAP_SYS_ADMIN`: run the worker as root on the Docker host).
	#[error("run storage {path:?} (a tmpfs the worker mounts; it must run as root): {source}")]
	JobFs {
		/// The mount point.
		path: PathBuf,
		/// The I/O error.
		#[source]
		source: std::io::Error,
	},
	/// A file the job wrote could not be read back.
	#[error("cannot collect {path:?}: {source}")]
	Collect {
		/// The file or directory.
		path: PathBuf,
		/// The I/O error.
		#[source]
		source: std::io::Error,
	},
	/// A Docker operation failed.
	#[error(transparent)]
	Docker(#[from] DockerError),
}

//! Errors of the executor.

use std::path::PathBuf;

use super::DockerError;

/// Why a job could not be run or observed.
///
/// A job that exits non-zero, times out or is OOM-killed is not an error: it is an
/// [`Execution`](super::Execution) with the matching flags.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
	/// The spec's image is not `sha256:<64 lower-case hex>`.
	#[error("image digest {digest:?} is not of the form sha256:<64 lower-case hex>")]
	InvalidDigest {
		/// The digest as given.
		digest: String,
	},
	/// The image is not present locally, not in the image directory, and pulling is off.
	#[error("image {digest} is not present locally, not in {tar:?}, and pulling is disabled")]
	ImageUnavailable {
		/// The wanted image digest.
		digest: String,
		/// The tar file that was looked for.
		tar: PathBuf,
	},
	/// The image found, loaded or pulled under a name has another image id than the spec's.
	#[error("image from {origin} has id {actual}, but the job spec wants {expected}")]
	DigestMismatch {
		/// The digest from the job spec.
		expected: String,
		/// The image id Docker reports.
		actual: String,
		/// Where the image came from (local store, a tar file or a registry reference).
		origin: String,
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

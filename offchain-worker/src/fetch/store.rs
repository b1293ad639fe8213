//! Storing a fetched body: streamed to `<dir>/.<name>.partial` while hashed, checked against
//! the declared size and digest, then made read-only and renamed to `<dir>/<name>`.

use std::{
	io::ErrorKind,
	os::unix::fs::PermissionsExt,
	path::{Path, PathBuf},
};

use sha2::{Digest, Sha256};
use tokio::{
	fs::{File, OpenOptions},
	io::{AsyncWriteExt, BufWriter},
};

use super::{http::Response, FetchError, InputSpec};

/// Size of the write buffer in front of the partial file.
const WRITE_BUFFER: usize = 256 * 1024;

/// Mode of a stored input: read-only for everyone (the container may run as any user).
const STORED_MODE: u32 = 0o444;

/// The file an input is written to while it is fetched.
pub(super) fn partial_path(dir: &Path, name: &str) -> PathBuf {
	dir.join(format!(".{name}.partial"))
}

/// Reads the body of `response` into `<dir>/<name>`; returns its size. Reading stops as soon as
/// the body exceeds the declared size. On error the partial file may remain: the caller
/// [`discard`]s it.
pub(super) async fn receive(
	input: &InputSpec,
	dir: &Path,
	mut response: Response,
) -> Result<u64, FetchError> {
	let name = &input.name;
	let io = |source| FetchError::Io { name: name.clone(), source };
	let partial = partial_path(dir, name);
	remove_if_exists(&partial).await.map_err(io)?;
	// `create_new`: never follow a link or reuse a file someone else left there.
	let file = OpenOptions::new()
		.write(true)
		.create_new(true)
		.mode(0o600)
		.open(&partial)
		.await
		.map_err(io)?;
	let mut writer = BufWriter::with_capacity(WRITE_BUFFER, file);
	let mut hasher = Sha256::new();
	let mut received: u64 = 0;
	while let Some(chunk) = response
		.chunk()
		.await
		.map_err(|e| FetchError::Unreachable { name: name.clone(), reason: format!("body: {e}") })?
	{
		received = received.saturating_add(chunk.len() as u64);
		check_not_over(input, received)?;
		hasher.update(&chunk);
		writer.write_all(&chunk).await.map_err(io)?;
	}
	drop(response);
	check_size(input, received)?;
	check_digest(input, hasher.finalize().into())?;
	writer.flush().await.map_err(io)?;
	let file = writer.into_inner();
	file.set_permissions(std::fs::Permissions::from_mode(STORED_MODE))
		.await
		.map_err(io)?;
	file.sync_all().await.map_err(io)?;
	drop(file);
	tokio::fs::rename(&partial, dir.join(name)).await.map_err(io)?;
	sync_dir(dir).await.map_err(io)?;
	Ok(received)
}

/// Refuses a body that has grown beyond the declared size.
fn check_not_over(input: &InputSpec, received: u64) -> Result<(), FetchError> {
	if received > input.size {
		return Err(size_mismatch(input, received))
	}
	Ok(())
}

/// Refuses a complete body whose size is not the declared one.
fn check_size(input: &InputSpec, received: u64) -> Result<(), FetchError> {
	if received != input.size {
		return Err(size_mismatch(input, received))
	}
	Ok(())
}

/// [`FetchError::SizeMismatch`] for `input`.
fn size_mismatch(input: &InputSpec, received: u64) -> FetchError {
	FetchError::SizeMismatch { name: input.name.clone(), declared: input.size, received }
}

/// Refuses content whose SHA-256 is not the declared one.
fn check_digest(input: &InputSpec, actual: [u8; 32]) -> Result<(), FetchError> {
	if actual != input.sha256 {
		return Err(FetchError::DigestMismatch {
			name: input.name.clone(),
			expected: hex::encode(input.sha256),
			actual: hex::encode(actual),
		})
	}
	Ok(())
}

/// Removes what a failed fetch of `name` may have left in `dir`: the partial file and a file
/// named `name`. Failures are logged, not returned (the fetch has failed already).
pub(super) async fn discard(dir: &Path, name: &str) {
	for path in [partial_path(dir, name), dir.join(name)] {
		if let Err(e) = remove_if_exists(&path).await {
			tracing::warn!(target: "fetch", "cannot remove {}: {e}", path.display());
		}
	}
}

/// Removes a file; a missing file is not an error.
async fn remove_if_exists(path: &Path) -> std::io::Result<()> {
	match tokio::fs::remove_file(path).await {
		Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
		_ => Ok(()),
	}
}

/// Makes a rename in `dir` durable.
async fn sync_dir(dir: &Path) -> std::io::Result<()> {
	File::open(dir).await?.sync_all().await
}

//! Fetching a job's input files over HTTP(S), safely.
//!
//! A job lists its inputs (name, URL, SHA-256, size); the URLs are written by a stranger. Before
//! the job runs, [`fetch_inputs`] downloads each input into a directory that the executor mounts
//! read-only at `/povm/in`:
//!
//! - [`check_inputs`] refuses bad names, schemes other than `http`/`https`, credentials in URLs
//!   and declared sizes over the [`FetchPolicy`] before any network traffic;
//! - the host is resolved here and refused if any of its addresses is not allowed
//!   ([`address_allowed`]: no loopback, private, link-local, metadata, ... addresses); the
//!   connection goes to exactly a checked address, so DNS rebinding cannot redirect it;
//! - redirects are refused, not followed;
//! - the body is streamed to `<dir>/.<name>.partial` while hashed, and reading stops as soon as
//!   it exceeds the declared size; only a file of the declared size and digest is renamed to
//!   `<dir>/<name>` (mode `0444`). On any failure nothing named `<name>` is left.

mod http;
mod policy;
mod store;
#[cfg(test)]
mod tests;

use std::{
	net::IpAddr,
	path::Path,
	time::{Duration, Instant},
};

pub use policy::{address_allowed, check_inputs, ALLOWED_SCHEMES, MAX_NAME_LEN};

/// One input of a job, as the on-chain spec gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputSpec {
	/// File name in the input directory (see [`check_inputs`] for the allowed names).
	pub name: String,
	/// Where to fetch it: an `http` or `https` URL.
	pub url: String,
	/// SHA-256 digest of the content.
	pub sha256: [u8; 32],
	/// Exact size of the content, in bytes.
	pub size: u64,
}

/// The provider's limits on fetching.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchPolicy {
	/// Allow loopback, private (RFC 1918, `fc00::/7`, `100.64.0.0/10` CGNAT), link-local
	/// (`169.254.0.0/16`, `fe80::/10`) and other non-global addresses (unspecified, broadcast,
	/// multicast, documentation, benchmarking `198.18.0.0/15`, IPv4-mapped IPv6 of any of those;
	/// 6to4 and Teredo are refused too). Default false; tests set true.
	pub allow_private_addresses: bool,
	/// Largest declared size of one input (default 1 GiB).
	pub max_input_bytes: u64,
	/// Largest declared size of all inputs of one job (default 4 GiB).
	pub max_total_bytes: u64,
	/// Limit on resolving the host, connecting and the TLS and HTTP handshakes (default 10 s).
	pub connect_timeout: Duration,
	/// Limit on the whole fetch of one input (default 10 min).
	pub timeout: Duration,
}

impl Default for FetchPolicy {
	fn default() -> Self {
		Self {
			allow_private_addresses: false,
			max_input_bytes: 1 << 30,
			max_total_bytes: 4 << 30,
			connect_timeout: Duration::from_secs(10),
			timeout: Duration::from_secs(600),
		}
	}
}

/// What was fetched: per input name, bytes and elapsed time (for the closing figures).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
	/// The input's name.
	pub name: String,
	/// Bytes received (the declared size).
	pub bytes: u64,
	/// Time from the start of the input's fetch to its file being in place.
	pub elapsed: Duration,
}

/// Why an input could not be fetched. Each variant names the input.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
	/// The name cannot be a file name in the input directory, or is used twice.
	#[error("input {name:?}: invalid name: {reason}")]
	InvalidName {
		/// The input.
		name: String,
		/// Why.
		reason: String,
	},
	/// The URL cannot be parsed, carries credentials or has no host.
	#[error("input {name}: invalid URL: {reason}")]
	InvalidUrl {
		/// The input.
		name: String,
		/// Why.
		reason: String,
	},
	/// The URL's scheme is neither `http` nor `https`.
	#[error("input {name}: scheme {scheme:?} not allowed (http, https only)")]
	SchemeNotAllowed {
		/// The input.
		name: String,
		/// The URL's scheme.
		scheme: String,
	},
	/// The host is, or resolves to, an address the policy refuses.
	#[error("input {name}: host {host} has the address {addr}, which is not allowed")]
	AddressNotAllowed {
		/// The input.
		name: String,
		/// The URL's host.
		host: String,
		/// The refused address.
		addr: IpAddr,
	},
	/// The declared size is over the policy's limit on one input.
	#[error("input {name}: declared size {size} bytes over the limit of {limit}")]
	TooLarge {
		/// The input.
		name: String,
		/// The declared size.
		size: u64,
		/// [`FetchPolicy::max_input_bytes`].
		limit: u64,
	},
	/// The declared sizes of the inputs so far add up to more than the policy's limit.
	#[error(
		"input {name}: the inputs' declared sizes reach {total} bytes, over the limit of {limit}"
	)]
	TotalTooLarge {
		/// The input at which the limit was crossed.
		name: String,
		/// The sum of the declared sizes up to and including this input.
		total: u64,
		/// [`FetchPolicy::max_total_bytes`].
		limit: u64,
	},
	/// The host cannot be resolved or reached, the TLS handshake failed (certificate, ...) or
	/// the connection broke.
	#[error("input {name}: unreachable: {reason}")]
	Unreachable {
		/// The input.
		name: String,
		/// Why.
		reason: String,
	},
	/// The server answered with a status other than `200 OK` (and not a redirect).
	#[error("input {name}: HTTP status {status}")]
	HttpStatus {
		/// The input.
		name: String,
		/// The status code.
		status: u16,
	},
	/// The server answered with a redirect, which is not followed.
	#[error("input {name}: redirect (HTTP status {status}) not followed")]
	Redirect {
		/// The input.
		name: String,
		/// The status code.
		status: u16,
	},
	/// The server sent (or announced in `Content-Length`) more or fewer bytes than declared.
	/// Reading stops as soon as the body exceeds the declared size.
	#[error("input {name}: declared {declared} bytes, received {received}")]
	SizeMismatch {
		/// The input.
		name: String,
		/// The declared size.
		declared: u64,
		/// The bytes received when reading stopped, or the announced `Content-Length`.
		received: u64,
	},
	/// The content's SHA-256 digest is not the declared one.
	#[error("input {name}: SHA-256 {actual}, expected {expected}")]
	DigestMismatch {
		/// The input.
		name: String,
		/// The declared digest, hex.
		expected: String,
		/// The content's digest, hex.
		actual: String,
	},
	/// The fetch took longer than [`FetchPolicy::timeout`].
	#[error("input {name}: timed out")]
	Timeout {
		/// The input.
		name: String,
	},
	/// The input directory or file could not be written. `name` is empty only when the
	/// directory of a job without inputs could not be created.
	#[error("input {name}: {source}")]
	Io {
		/// The input.
		name: String,
		/// Why.
		source: std::io::Error,
	},
}

impl FetchError {
	/// A short fixed name of the error's kind, for metrics labels.
	pub fn label(&self) -> &'static str {
		match self {
			Self::InvalidName { .. } => "invalid_name",
			Self::InvalidUrl { .. } => "invalid_url",
			Self::SchemeNotAllowed { .. } => "scheme_not_allowed",
			Self::AddressNotAllowed { .. } => "address_not_allowed",
			Self::TooLarge { .. } => "too_large",
			Self::TotalTooLarge { .. } => "total_too_large",
			Self::Unreachable { .. } => "unreachable",
			Self::HttpStatus { .. } => "http_status",
			Self::Redirect { .. } => "redirect",
			Self::SizeMismatch { .. } => "size_mismatch",
			Self::DigestMismatch { .. } => "digest_mismatch",
			Self::Timeout { .. } => "timeout",
			Self::Io { .. } => "io",
		}
	}

	/// The input the error is about.
	pub fn input(&self) -> &str {
		match self {
			Self::InvalidName { name, .. } |
			Self::InvalidUrl { name, .. } |
			Self::SchemeNotAllowed { name, .. } |
			Self::AddressNotAllowed { name, .. } |
			Self::TooLarge { name, .. } |
			Self::TotalTooLarge { name, .. } |
			Self::Unreachable { name, .. } |
			Self::HttpStatus { name, .. } |
			Self::Redirect { name, .. } |
			Self::SizeMismatch { name, .. } |
			Self::DigestMismatch { name, .. } |
			Self::Timeout { name } |
			Self::Io { name, .. } => name,
		}
	}
}

/// Fetches every input of a job into `dir` (created if missing), one after the other, after
/// [`check_inputs`]. Stops at the first failure: the failing input leaves nothing in `dir`;
/// inputs fetched before it stay, verified.
pub async fn fetch_inputs(
	inputs: &[InputSpec],
	dir: &Path,
	policy: &FetchPolicy,
) -> Result<Vec<Fetched>, FetchError> {
	fetch_inputs_with(inputs, dir, policy, &http::Tls::Native).await
}

/// [`fetch_inputs`] with the given source of TLS configuration (tests trust their own CA).
async fn fetch_inputs_with(
	inputs: &[InputSpec],
	dir: &Path,
	policy: &FetchPolicy,
	tls: &http::Tls,
) -> Result<Vec<Fetched>, FetchError> {
	check_inputs(inputs, policy)?;
	tokio::fs::create_dir_all(dir).await.map_err(|source| FetchError::Io {
		name: inputs.first().map(|i| i.name.clone()).unwrap_or_default(),
		source,
	})?;
	let mut fetched = Vec::with_capacity(inputs.len());
	for input in inputs {
		fetched.push(fetch_input(input, dir, policy, tls).await?);
	}
	Ok(fetched)
}

/// Fetches one checked input within [`FetchPolicy::timeout`]; on failure removes whatever it
/// wrote.
async fn fetch_input(
	input: &InputSpec,
	dir: &Path,
	policy: &FetchPolicy,
	tls: &http::Tls,
) -> Result<Fetched, FetchError> {
	let start = Instant::now();
	let outcome = tokio::time::timeout(policy.timeout, download(input, dir, policy, tls))
		.await
		.unwrap_or_else(|_elapsed| Err(FetchError::Timeout { name: input.name.clone() }));
	match outcome {
		Ok(bytes) => {
			let elapsed = start.elapsed();
			tracing::debug!(target: "fetch", input = %input.name, bytes, ?elapsed, "input fetched");
			Ok(Fetched { name: input.name.clone(), bytes, elapsed })
		},
		Err(e) => {
			store::discard(dir, &input.name).await;
			Err(e)
		},
	}
}

/// Connects, requests and stores one input; returns the bytes stored.
async fn download(
	input: &InputSpec,
	dir: &Path,
	policy: &FetchPolicy,
	tls: &http::Tls,
) -> Result<u64, FetchError> {
	let url = policy::parse_url(&input.name, &input.url)?;
	let response = http::get(&input.name, &url, input.size, policy, tls).await?;
	store::receive(input, dir, response).await
}

//! Fetching a job's result files from the providers that agreed on it, and verifying every
//! byte against the chain's outcome: [`fetch_and_verify`].
//!
//! Per provider, in order: `GET {url}/v1/jobs/{job}/manifest`, checked with
//! [`verify_manifest`] against the chain's outcome (so it is the agreed manifest); then
//! `stdout`, `stderr` and `files/<name>`, each streamed into a temporary file in the output
//! directory while hashed, checked against its manifest digest, and only then renamed into
//! place (`DIR/stdout`, `DIR/stderr`, `DIR/files/<name>`). A provider that fails (unreachable,
//! a status other than `200`, too many bytes, wrong bytes) is reported and the next one is
//! tried for what is still missing; nothing unverified is ever left under its final name.
//!
//! Each request carries `Authorization: PoVM expires=…,signature=0x…` ([`authorization`]),
//! made for that item and valid for [`Limits::signature_seconds`].

use std::{
	collections::HashSet,
	path::{Path, PathBuf},
	sync::{Arc, OnceLock},
	time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use blake2::{digest::consts::U32, Blake2b, Digest as _};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::{body::Incoming, client::conn::http1, header, Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use povm_client::types::{Digest, JobId};
use povm_primitives::results::{ResultManifest, RunOutcome, MAX_FETCH_SIGNATURE_SECONDS};
use sp_core::sr25519;
use tokio::{
	io::{AsyncRead, AsyncWrite, AsyncWriteExt},
	net::TcpStream,
	task::JoinHandle,
};
use url::{Host, Url};

use crate::verify::{authorization, check_content, items, verify_manifest, VerifyError};

/// The `User-Agent` of the requests.
const USER_AGENT: &str = concat!("povm/", env!("CARGO_PKG_VERSION"));

/// The bounds of a fetch. A body longer than its bound is refused as soon as it passes it.
#[derive(Clone, Debug)]
pub struct Limits {
	/// Most bytes of a manifest (default 4 MiB: 4,096 files with names of 255 bytes and their
	/// digests take 1.2 MiB).
	pub manifest_bytes: u64,
	/// Most bytes of stdout or stderr (default 16 MiB; workers capture 1 MiB of each).
	pub log_bytes: u64,
	/// Most bytes of one output file (default 256 MiB, the quota of a job's `/povm/out` and
	/// checkpoints together).
	pub file_bytes: u64,
	/// Most time to connect to a provider (TCP, and TLS for `https`).
	pub connect_timeout: Duration,
	/// Most time for one item, from the request to the last byte.
	pub item_timeout: Duration,
	/// Seconds each request's signature stays valid (at most
	/// [`MAX_FETCH_SIGNATURE_SECONDS`]).
	pub signature_seconds: u64,
}

impl Default for Limits {
	fn default() -> Self {
		Self {
			manifest_bytes: 4 << 20,
			log_bytes: 16 << 20,
			file_bytes: 256 << 20,
			connect_timeout: Duration::from_secs(10),
			item_timeout: Duration::from_secs(300),
			signature_seconds: 300,
		}
	}
}

/// Where one agreeing provider serves results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
	/// Who it is, for messages (the provider's account, SS58).
	pub provider: String,
	/// Its base URL (`http(s)://host[:port][/path]`).
	pub url: String,
}

/// One item written and verified.
#[derive(Clone, Debug, PartialEq)]
pub struct Fetched {
	/// The item (`stdout`, `stderr`, `files/<name>`).
	pub item: String,
	/// Where it was written.
	pub path: PathBuf,
	/// Its size.
	pub bytes: u64,
	/// Seconds from the request to the verified file.
	pub seconds: f64,
	/// The provider it came from.
	pub provider: String,
}

/// A provider that failed, and why.
#[derive(Debug)]
pub struct ProviderFailure {
	/// The provider.
	pub provider: String,
	/// Why.
	pub error: FetchError,
}

impl std::fmt::Display for ProviderFailure {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		write!(f, "{}: {}", self.provider, self.error)
	}
}

/// What a fetch did: the agreed manifest, each item written, and the providers that failed
/// on the way.
#[derive(Debug)]
pub struct FetchReport {
	/// The agreed manifest.
	pub manifest: ResultManifest,
	/// Every item, verified and in place.
	pub items: Vec<Fetched>,
	/// Providers that failed before another one served the rest.
	pub failures: Vec<ProviderFailure>,
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
	/// None of the agreeing providers declares a result service.
	#[error("no agreeing provider declares a result service")]
	NoService,
	/// Every provider failed; each says why.
	#[error("every provider failed:\n  {}", .0.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("\n  "))]
	AllFailed(Vec<ProviderFailure>),
	/// A service URL that is not `http(s)://host…`.
	#[error("bad service URL {url:?}: {reason}")]
	BadUrl {
		/// The URL.
		url: String,
		/// Why.
		reason: String,
	},
	/// No connection, or the connection broke.
	#[error("{item}: unreachable: {reason}")]
	Unreachable {
		/// The item.
		item: String,
		/// Why.
		reason: String,
	},
	/// A status other than `200 OK`.
	#[error("{item}: HTTP status {status}")]
	Status {
		/// The item.
		item: String,
		/// The status.
		status: u16,
	},
	/// A body longer than its bound.
	#[error("{item}: more than {limit} bytes")]
	TooLong {
		/// The item.
		item: String,
		/// The bound.
		limit: u64,
	},
	/// The item took longer than [`Limits::item_timeout`].
	#[error("{item}: not complete within {timeout:?}")]
	Timeout {
		/// The item.
		item: String,
		/// The bound.
		timeout: Duration,
	},
	/// Bytes that are not the agreed ones.
	#[error(transparent)]
	Verify(#[from] VerifyError),
	/// The output directory could not be written.
	#[error("{path}: {source}")]
	Io {
		/// The file.
		path: PathBuf,
		/// The error.
		source: std::io::Error,
	},
}

impl FetchError {
	/// Whether the next provider cannot do better (the local disk failed).
	fn is_local(&self) -> bool {
		matches!(self, FetchError::Io { .. })
	}
}

/// Fetches and verifies the result of `job`, whose accepted outcome on chain is `outcome`,
/// from the first of `services` that serves it, into `out` (`out/stdout`, `out/stderr`,
/// `out/files/<name>`), signing each request with the job owner's key `owner`. Check the
/// outcome against the chain's result digest first ([`crate::verify::check_chain_record`]).
pub async fn fetch_and_verify(
	services: &[Service],
	job: JobId,
	outcome: &RunOutcome,
	owner: &sr25519::Pair,
	out: &Path,
	limits: &Limits,
) -> Result<FetchReport, FetchError> {
	if services.is_empty() {
		return Err(FetchError::NoService);
	}
	let files_dir = out.join("files");
	tokio::fs::create_dir_all(&files_dir)
		.await
		.map_err(|source| FetchError::Io { path: files_dir.clone(), source })?;
	let mut failures = Vec::new();
	let mut done: Vec<Fetched> = Vec::new();
	for service in services {
		let done_items: HashSet<String> = done.iter().map(|f| f.item.clone()).collect();
		match from_service(service, job, outcome, owner, out, limits, &done_items, &mut done).await
		{
			Ok(manifest) => {
				return Ok(FetchReport { manifest, items: done, failures });
			},
			Err(error) => {
				let local = error.is_local();
				failures.push(ProviderFailure { provider: service.provider.clone(), error });
				if local {
					break;
				}
			},
		}
	}
	Err(FetchError::AllFailed(failures))
}

/// Fetches from one service every item not in `done_items`, appending each verified one to
/// `done`; the agreed manifest, or why not.
#[allow(clippy::too_many_arguments)]
async fn from_service(
	service: &Service,
	job: JobId,
	outcome: &RunOutcome,
	owner: &sr25519::Pair,
	out: &Path,
	limits: &Limits,
	done_items: &HashSet<String>,
	done: &mut Vec<Fetched>,
) -> Result<ResultManifest, FetchError> {
	let base = parse_base(&service.url)?;
	let manifest_bytes =
		get_bytes(&base, job, owner, "manifest", limits.manifest_bytes, limits).await?;
	let manifest = verify_manifest(&manifest_bytes, outcome)?;
	for (item, digest) in items(&manifest) {
		if done_items.contains(&item) {
			continue;
		}
		let limit = if item.starts_with("files/") { limits.file_bytes } else { limits.log_bytes };
		let path = out.join(&item);
		let started = Instant::now();
		let bytes = download(&base, job, owner, &item, &digest, &path, limit, limits).await?;
		done.push(Fetched {
			item,
			path,
			bytes,
			seconds: started.elapsed().as_secs_f64(),
			provider: service.provider.clone(),
		});
	}
	Ok(manifest)
}

/// A service's base URL, checked: `http` or `https`, a host, no credentials, query or fragment.
pub fn parse_base(text: &str) -> Result<Url, FetchError> {
	let bad = |reason: &str| FetchError::BadUrl { url: text.into(), reason: reason.into() };
	let url = Url::parse(text).map_err(|e| bad(&e.to_string()))?;
	if !matches!(url.scheme(), "http" | "https") {
		return Err(bad("not http or https"));
	}
	if url.host().is_none() {
		return Err(bad("no host"));
	}
	if !url.username().is_empty() || url.password().is_some() {
		return Err(bad("credentials in the URL"));
	}
	if url.query().is_some() || url.fragment().is_some() {
		return Err(bad("a query or fragment"));
	}
	Ok(url)
}

/// The URL of `item` of `job` under `base`: `{base}/v1/jobs/{job}/{item}`, the file name
/// percent-encoded where it is not a URL-safe character.
pub fn item_url(base: &Url, job: JobId, item: &str) -> Url {
	let mut url = base.clone();
	{
		let mut segments = url.path_segments_mut().expect("an http(s) URL has a path");
		segments.pop_if_empty().push("v1").push("jobs").push(&job.to_string());
		// `files/<name>`: two segments; the name may hold anything but `/`.
		for part in item.splitn(2, '/') {
			segments.push(part);
		}
	}
	url
}

/// Unix seconds now.
fn now_secs() -> u64 {
	SystemTime::now()
		.duration_since(UNIX_EPOCH)
		.map(|d| d.as_secs())
		.unwrap_or_default()
}

/// `GET`s `item` whole into memory (at most `limit` bytes).
async fn get_bytes(
	base: &Url,
	job: JobId,
	owner: &sr25519::Pair,
	item: &str,
	limit: u64,
	limits: &Limits,
) -> Result<Vec<u8>, FetchError> {
	let fetching = async {
		let mut response = get(base, job, owner, item, limit, limits).await?;
		let mut bytes = Vec::new();
		while let Some(chunk) = response.chunk(item).await? {
			if bytes.len() as u64 + chunk.len() as u64 > limit {
				return Err(FetchError::TooLong { item: item.into(), limit });
			}
			bytes.extend_from_slice(&chunk);
		}
		Ok(bytes)
	};
	tokio::time::timeout(limits.item_timeout, fetching)
		.await
		.map_err(|_| FetchError::Timeout { item: item.into(), timeout: limits.item_timeout })?
}

/// `GET`s `item` into a temporary file beside `path` while hashing it; renames it to `path`
/// once its blake2-256 is `digest`, else removes it. Returns its size.
#[allow(clippy::too_many_arguments)]
async fn download(
	base: &Url,
	job: JobId,
	owner: &sr25519::Pair,
	item: &str,
	digest: &Digest,
	path: &Path,
	limit: u64,
	limits: &Limits,
) -> Result<u64, FetchError> {
	let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
	let temp = path.with_file_name(format!(".{file_name}.povm-part"));
	let io = |path: &Path| {
		let path = path.to_owned();
		move |source| FetchError::Io { path, source }
	};
	let fetching = async {
		let mut response = get(base, job, owner, item, limit, limits).await?;
		let mut file = tokio::fs::File::create(&temp).await.map_err(io(&temp))?;
		let mut hasher = Blake2b::<U32>::new();
		let mut size = 0u64;
		while let Some(chunk) = response.chunk(item).await? {
			size += chunk.len() as u64;
			if size > limit {
				return Err(FetchError::TooLong { item: item.into(), limit });
			}
			hasher.update(&chunk);
			file.write_all(&chunk).await.map_err(io(&temp))?;
		}
		file.flush().await.map_err(io(&temp))?;
		file.sync_all().await.map_err(io(&temp))?;
		let got: Digest = hasher.finalize().into();
		check_content(item, digest, &got)?;
		Ok(size)
	};
	let result = tokio::time::timeout(limits.item_timeout, fetching).await.unwrap_or_else(|_| {
		Err(FetchError::Timeout { item: item.into(), timeout: limits.item_timeout })
	});
	match result {
		Ok(size) => {
			tokio::fs::rename(&temp, path).await.map_err(io(path))?;
			Ok(size)
		},
		Err(e) => {
			let _ = tokio::fs::remove_file(&temp).await;
			Err(e)
		},
	}
}

/// A `200 OK` response whose body is still to be read; dropping it closes the connection.
struct Response {
	body: Incoming,
	_connection: AbortOnDrop,
}

impl Response {
	/// The next chunk of the body; `None` at its end.
	async fn chunk(&mut self, item: &str) -> Result<Option<Bytes>, FetchError> {
		while let Some(frame) = self.body.frame().await {
			let frame = frame.map_err(|e| unreachable(item, format!("body: {e}")))?;
			if let Ok(data) = frame.into_data() {
				return Ok(Some(data));
			}
		}
		Ok(None)
	}
}

/// Aborts the connection's task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
	fn drop(&mut self) {
		self.0.abort();
	}
}

fn unreachable(item: &str, reason: String) -> FetchError {
	FetchError::Unreachable { item: item.into(), reason }
}

/// Sends the signed `GET` of `item`; refuses a status other than `200` and an announced
/// length above `limit`.
async fn get(
	base: &Url,
	job: JobId,
	owner: &sr25519::Pair,
	item: &str,
	limit: u64,
	limits: &Limits,
) -> Result<Response, FetchError> {
	let url = item_url(base, job, item);
	let expires = now_secs() + limits.signature_seconds.min(MAX_FETCH_SIGNATURE_SECONDS);
	let connecting = connect(item, &url);
	let (mut sender, connection) =
		tokio::time::timeout(limits.connect_timeout, connecting).await.map_err(|_| {
			unreachable(item, format!("no connection within {:?}", limits.connect_timeout))
		})??;
	let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
	let request = Request::builder()
		.method(Method::GET)
		.uri(target)
		.header(header::HOST, host_header(&url))
		.header(header::USER_AGENT, USER_AGENT)
		.header(header::AUTHORIZATION, authorization(owner, job, expires, item))
		.header(header::ACCEPT_ENCODING, "identity")
		.header(header::CONNECTION, "close")
		.body(Empty::<Bytes>::new())
		.map_err(|e| FetchError::BadUrl { url: url.to_string(), reason: e.to_string() })?;
	let response = sender
		.send_request(request)
		.await
		.map_err(|e| unreachable(item, format!("request: {e}")))?;
	if response.status() != StatusCode::OK {
		return Err(FetchError::Status { item: item.into(), status: response.status().as_u16() });
	}
	let announced = response
		.headers()
		.get(header::CONTENT_LENGTH)
		.and_then(|v| v.to_str().ok())
		.and_then(|v| v.trim().parse::<u64>().ok());
	if announced.is_some_and(|n| n > limit) {
		return Err(FetchError::TooLong { item: item.into(), limit });
	}
	Ok(Response { body: response.into_body(), _connection: connection })
}

/// The `Host` header of `url`: its host and its port if not the scheme's default.
fn host_header(url: &Url) -> String {
	let host = url.host_str().unwrap_or_default();
	match url.port() {
		Some(port) => format!("{host}:{port}"),
		None => host.to_owned(),
	}
}

/// Connects (TCP, then TLS for `https`) and does the HTTP/1.1 handshake.
async fn connect(
	item: &str,
	url: &Url,
) -> Result<(http1::SendRequest<Empty<Bytes>>, AbortOnDrop), FetchError> {
	let host = url.host_str().ok_or_else(|| unreachable(item, "no host".into()))?;
	let host = host.trim_start_matches('[').trim_end_matches(']');
	let port = url.port_or_known_default().ok_or_else(|| unreachable(item, "no port".into()))?;
	let tcp = TcpStream::connect((host, port))
		.await
		.map_err(|e| unreachable(item, format!("cannot connect to {host}:{port}: {e}")))?;
	let _ = tcp.set_nodelay(true);
	if url.scheme() == "https" {
		let config = tls_config().map_err(|reason| unreachable(item, reason))?;
		let server_name = server_name(url)
			.ok_or_else(|| unreachable(item, "the host is no TLS server name".into()))?;
		let tls = tokio_rustls::TlsConnector::from(config)
			.connect(server_name, tcp)
			.await
			.map_err(|e| unreachable(item, format!("TLS: {e}")))?;
		handshake(item, tls).await
	} else {
		handshake(item, tcp).await
	}
}

/// The HTTP/1.1 handshake; the connection is driven by a task that ends with the guard.
async fn handshake<S>(
	item: &str,
	stream: S,
) -> Result<(http1::SendRequest<Empty<Bytes>>, AbortOnDrop), FetchError>
where
	S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
	let (sender, connection) = http1::handshake(TokioIo::new(stream))
		.await
		.map_err(|e| unreachable(item, format!("HTTP handshake: {e}")))?;
	let task = tokio::spawn(async move {
		let _ = connection.await;
	});
	Ok((sender, AbortOnDrop(task)))
}

/// The TLS server name of the URL's host.
fn server_name(url: &Url) -> Option<rustls::pki_types::ServerName<'static>> {
	use rustls::pki_types::ServerName;
	match url.host()? {
		Host::Domain(domain) => ServerName::try_from(domain.to_owned()).ok(),
		Host::Ipv4(v4) => Some(ServerName::from(std::net::IpAddr::V4(v4))),
		Host::Ipv6(v6) => Some(ServerName::from(std::net::IpAddr::V6(v6))),
	}
}

/// The TLS client configuration trusting the system's root certificates (loaded once).
fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
	static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
	if let Some(config) = CONFIG.get() {
		return Ok(config.clone());
	}
	let loaded = rustls_native_certs::load_native_certs();
	let mut roots = rustls::RootCertStore::empty();
	let (added, _) = roots.add_parsable_certificates(loaded.certs);
	if added == 0 {
		return Err("no usable root certificate in the system's store".into());
	}
	let provider = Arc::new(rustls::crypto::ring::default_provider());
	let mut config = rustls::ClientConfig::builder_with_provider(provider)
		.with_safe_default_protocol_versions()
		.map_err(|e| format!("TLS configuration: {e}"))?
		.with_root_certificates(roots)
		.with_no_client_auth();
	config.alpn_protocols = vec![b"http/1.1".to_vec()];
	Ok(CONFIG.get_or_init(|| Arc::new(config)).clone())
}

#[cfg(test)]
mod tests;

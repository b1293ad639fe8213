//! The HTTP(S) client of the fetcher: one `GET` per connection, to a checked address.
//!
//! The host is resolved here ([`tokio::net::lookup_host`]) and every address it resolves to must
//! pass [`super::address_allowed`]; the TCP connection then goes to one of exactly those
//! addresses (no second resolution that a rebinding DNS server could answer differently). TLS
//! uses rustls with the system's roots; the SNI and the `Host` header are the URL's host.
//! Redirects are not followed.

use std::{
	net::{IpAddr, SocketAddr},
	sync::{Arc, OnceLock},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::{
	body::Incoming,
	client::conn::http1::{self, SendRequest},
	header::{self, HeaderMap},
	Method, Request, StatusCode,
};
use hyper_util::rt::TokioIo;
use rustls::{pki_types::ServerName, ClientConfig, RootCertStore};
use tokio::{
	io::{AsyncRead, AsyncWrite},
	net::TcpStream,
	task::JoinHandle,
};
use tokio_rustls::{client::TlsStream, TlsConnector};
use url::{Host, Url};

use super::{policy, FetchError, FetchPolicy};

/// The `User-Agent` of the requests.
const USER_AGENT: &str = concat!("povm-worker/", env!("CARGO_PKG_VERSION"));

/// Where the TLS client configuration comes from.
pub(super) enum Tls {
	/// The system's root certificates, loaded once per process.
	Native,
	/// A given configuration (tests trust their own certificate).
	#[cfg(test)]
	Config(Arc<ClientConfig>),
}

impl Tls {
	/// The client configuration, or why there is none.
	fn config(&self) -> Result<Arc<ClientConfig>, String> {
		match self {
			Self::Native => native_config(),
			#[cfg(test)]
			Self::Config(config) => Ok(config.clone()),
		}
	}
}

/// The configuration trusting the system's roots; loaded on first use (a blocking read of the
/// system's certificate store) and kept, unless loading failed.
fn native_config() -> Result<Arc<ClientConfig>, String> {
	static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
	if let Some(config) = CONFIG.get() {
		return Ok(config.clone())
	}
	let loaded = rustls_native_certs::load_native_certs();
	let mut roots = RootCertStore::empty();
	let (added, _unparsable) = roots.add_parsable_certificates(loaded.certs);
	if added == 0 {
		return Err(format!(
			"no usable root certificate in the system's store ({} errors)",
			loaded.errors.len()
		))
	}
	let config = client_config(roots)?;
	Ok(CONFIG.get_or_init(|| config).clone())
}

/// A client configuration trusting `roots`: rustls's safe defaults with the ring provider,
/// HTTP/1.1 by ALPN.
pub(super) fn client_config(roots: RootCertStore) -> Result<Arc<ClientConfig>, String> {
	let provider = Arc::new(rustls::crypto::ring::default_provider());
	let mut config = ClientConfig::builder_with_provider(provider)
		.with_safe_default_protocol_versions()
		.map_err(|e| format!("TLS configuration: {e}"))?
		.with_root_certificates(roots)
		.with_no_client_auth();
	config.alpn_protocols = vec![b"http/1.1".to_vec()];
	Ok(Arc::new(config))
}

/// A response of `200 OK` with the declared length (if it announced one), whose body is still
/// to be read. Dropping it closes the connection.
pub(super) struct Response {
	/// The body.
	body: Incoming,
	/// The task driving the connection.
	_connection: AbortOnDrop,
}

impl Response {
	/// The next chunk of the body; `None` at its end.
	pub(super) async fn chunk(&mut self) -> Result<Option<Bytes>, hyper::Error> {
		while let Some(frame) = self.body.frame().await {
			if let Ok(data) = frame?.into_data() {
				return Ok(Some(data))
			}
		}
		Ok(None)
	}
}

/// Aborts a task when dropped, so that no connection outlives its fetch.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
	fn drop(&mut self) {
		self.0.abort();
	}
}

/// `GET`s `url` for the input `name` of `declared` bytes: connects within
/// [`FetchPolicy::connect_timeout`], and checks the response's status and announced length.
pub(super) async fn get(
	name: &str,
	url: &Url,
	declared: u64,
	policy: &FetchPolicy,
	tls: &Tls,
) -> Result<Response, FetchError> {
	let connecting = connect(name, url, policy.allow_private_addresses, tls);
	let (mut sender, connection) = tokio::time::timeout(policy.connect_timeout, connecting)
		.await
		.map_err(|_elapsed| {
			unreachable(name, format!("no connection within {:?}", policy.connect_timeout))
		})??;
	let response = sender
		.send_request(request(name, url)?)
		.await
		.map_err(|e| unreachable(name, format!("request: {e}")))?;
	check_status(name, response.status())?;
	check_content_length(name, response.headers(), declared)?;
	Ok(Response { body: response.into_body(), _connection: connection })
}

/// Resolves and checks the host, connects, and does the TLS (for `https`) and HTTP handshakes.
async fn connect(
	name: &str,
	url: &Url,
	allow_private: bool,
	tls: &Tls,
) -> Result<(SendRequest<Empty<Bytes>>, AbortOnDrop), FetchError> {
	let addrs = resolve(name, url, allow_private).await?;
	let tcp = connect_tcp(name, &addrs).await?;
	if url.scheme() == "https" {
		handshake_http(name, handshake_tls(name, url, tcp, tls).await?).await
	} else {
		handshake_http(name, tcp).await
	}
}

/// The addresses of the URL's host (itself for an IP literal), each checked against the policy:
/// one refused address refuses the host.
async fn resolve(
	name: &str,
	url: &Url,
	allow_private: bool,
) -> Result<Vec<SocketAddr>, FetchError> {
	let port = url
		.port_or_known_default()
		.ok_or_else(|| FetchError::InvalidUrl { name: name.into(), reason: "no port".into() })?;
	let mut addrs: Vec<SocketAddr> = match url.host() {
		Some(Host::Domain(domain)) => tokio::net::lookup_host((domain, port))
			.await
			.map_err(|e| unreachable(name, format!("cannot resolve {domain}: {e}")))?
			.collect(),
		Some(Host::Ipv4(v4)) => vec![SocketAddr::new(IpAddr::V4(v4), port)],
		Some(Host::Ipv6(v6)) => vec![SocketAddr::new(IpAddr::V6(v6), port)],
		None => return Err(FetchError::InvalidUrl { name: name.into(), reason: "no host".into() }),
	};
	dedup_in_order(&mut addrs);
	if addrs.is_empty() {
		return Err(unreachable(name, "the host has no address".into()))
	}
	for addr in &addrs {
		policy::check_address(name, url, addr.ip(), allow_private)?;
	}
	Ok(addrs)
}

/// Removes repeated addresses, keeping the first of each (resolvers repeat them per socket
/// type).
fn dedup_in_order(addrs: &mut Vec<SocketAddr>) {
	let mut seen = std::collections::HashSet::with_capacity(addrs.len());
	addrs.retain(|addr| seen.insert(*addr));
}

/// A TCP connection to the first of `addrs` that accepts.
async fn connect_tcp(name: &str, addrs: &[SocketAddr]) -> Result<TcpStream, FetchError> {
	let mut failures = Vec::with_capacity(addrs.len());
	for addr in addrs {
		match TcpStream::connect(addr).await {
			Ok(stream) => {
				// Only a latency tweak; a failure does not matter.
				let _ = stream.set_nodelay(true);
				return Ok(stream)
			},
			Err(e) => failures.push(format!("{addr}: {e}")),
		}
	}
	Err(unreachable(name, format!("cannot connect: {}", failures.join("; "))))
}

/// The TLS handshake, with the URL's host as server name.
async fn handshake_tls(
	name: &str,
	url: &Url,
	tcp: TcpStream,
	tls: &Tls,
) -> Result<TlsStream<TcpStream>, FetchError> {
	let config = tls.config().map_err(|reason| unreachable(name, reason))?;
	let server_name = server_name(url)
		.ok_or_else(|| unreachable(name, "the host is no TLS server name".into()))?;
	TlsConnector::from(config)
		.connect(server_name, tcp)
		.await
		.map_err(|e| unreachable(name, format!("TLS: {e}")))
}

/// The TLS server name of the URL's host.
fn server_name(url: &Url) -> Option<ServerName<'static>> {
	match url.host()? {
		Host::Domain(domain) => ServerName::try_from(domain.to_owned()).ok(),
		Host::Ipv4(v4) => Some(ServerName::from(IpAddr::V4(v4))),
		Host::Ipv6(v6) => Some(ServerName::from(IpAddr::V6(v6))),
	}
}

/// The HTTP/1.1 handshake; the connection is driven by a task that ends with the returned guard.
async fn handshake_http<S>(
	name: &str,
	stream: S,
) -> Result<(SendRequest<Empty<Bytes>>, AbortOnDrop), FetchError>
where
	S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
	let (sender, connection) = http1::handshake(TokioIo::new(stream))
		.await
		.map_err(|e| unreachable(name, format!("HTTP handshake: {e}")))?;
	let task = tokio::spawn(async move {
		if let Err(e) = connection.await {
			tracing::debug!(target: "fetch", "connection ended: {e}");
		}
	});
	Ok((sender, AbortOnDrop(task)))
}

/// The `GET` request: origin-form target, `Host` the URL's host (and port if not the default),
/// no compression, no keep-alive.
fn request(name: &str, url: &Url) -> Result<Request<Empty<Bytes>>, FetchError> {
	let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
	Request::builder()
		.method(Method::GET)
		.uri(target)
		.header(header::HOST, host_header(url))
		.header(header::USER_AGENT, USER_AGENT)
		.header(header::ACCEPT_ENCODING, "identity")
		.header(header::CONNECTION, "close")
		.body(Empty::new())
		.map_err(|e| FetchError::InvalidUrl { name: name.into(), reason: e.to_string() })
}

/// The `Host` header of the URL: its host (IPv6 in brackets) and its port if not the scheme's
/// default.
fn host_header(url: &Url) -> String {
	let host = url.host_str().unwrap_or_default();
	match url.port() {
		Some(port) => format!("{host}:{port}"),
		None => host.to_owned(),
	}
}

/// Refuses every status but `200 OK`; a redirect is named as such.
fn check_status(name: &str, status: StatusCode) -> Result<(), FetchError> {
	if status == StatusCode::OK {
		Ok(())
	} else if status.is_redirection() {
		Err(FetchError::Redirect { name: name.into(), status: status.as_u16() })
	} else {
		Err(FetchError::HttpStatus { name: name.into(), status: status.as_u16() })
	}
}

/// Refuses a response announcing a length other than the declared size (without reading it).
fn check_content_length(name: &str, headers: &HeaderMap, declared: u64) -> Result<(), FetchError> {
	let announced = headers
		.get(header::CONTENT_LENGTH)
		.and_then(|value| value.to_str().ok())
		.and_then(|value| value.trim().parse::<u64>().ok());
	match announced {
		Some(received) if received != declared =>
			Err(FetchError::SizeMismatch { name: name.into(), declared, received }),
		_ => Ok(()),
	}
}

/// [`FetchError::Unreachable`] for the input `name`.
fn unreachable(name: &str, reason: String) -> FetchError {
	FetchError::Unreachable { name: name.into(), reason }
}

//! Tests of the fetcher, against a real HTTP(S) server on 127.0.0.1.

use std::{
	net::{IpAddr, SocketAddr},
	os::unix::fs::PermissionsExt,
	path::Path,
	sync::{
		atomic::{AtomicUsize, Ordering},
		Arc, Mutex,
	},
	time::{Duration, Instant},
};

use rustls::{
	pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer},
	RootCertStore, ServerConfig,
};
use sha2::{Digest, Sha256};
use tokio::{
	io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
	net::TcpListener,
	task::JoinHandle,
};
use tokio_rustls::TlsAcceptor;

use super::{http::Tls, *};

/// A self-signed certificate for `localhost` and 127.0.0.1, valid 2000 to 2100 (not a CA).
const TEST_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBiDCCAS+gAwIBAgIBATAKBggqhkjOPQQDAjAUMRIwEAYDVQQDDAlsb2NhbGhv
c3QwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMM
CWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABAraxiMvwoFr58w7
1FRzCfKpBfnxYaUHZbaWJA+tLwrsR8kzf/NLggqxhyA/Qj3tQvdziqQqVhcNSZkf
ADO8bOKjcDBuMBoGA1UdEQQTMBGCCWxvY2FsaG9zdIcEfwAAATAMBgNVHRMBAf8E
AjAAMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDATAdBgNVHQ4E
FgQU5YPPWiQrAm6A2DNCHtHDVR85ML8wCgYIKoZIzj0EAwIDRwAwRAIgXM0ZsA6C
CriuhystdvZYXGMdw4nA9RMsvFjwzZVmaBACIAyXTBmklKs3rquiP9D5NqmwVGq1
XUk25BDlhEu9Aagc
-----END CERTIFICATE-----
";

/// The key of [`TEST_CERT`] (P-256, PKCS#8); a test key, secret to nobody.
const TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHGeuueKV4fu/s0PO
JwprWxUKpiZKyt+UKc1Q33bK/fShRANCAAQK2sYjL8KBa+fMO9RUcwnyqQX58WGl
B2W2liQPrS8K7EfJM3/zS4IKsYcgP0I97UL3c4qkKlYXDUmZHwAzvGzi
-----END PRIVATE KEY-----
";

/// How the test server answers every request.
#[derive(Clone)]
enum Reply {
	/// `200 OK` with `Content-Length` and the body.
	Body(Vec<u8>),
	/// `200 OK` without `Content-Length`: the body, then the connection closes.
	BodyUntilClose(Vec<u8>),
	/// `200 OK` without `Content-Length`, and a body that never ends.
	Endless,
	/// The status and extra header lines (each ending in `\r\n`), empty body.
	Status(u16, &'static str),
	/// Reads the request and never answers.
	Stall,
	/// Accepts the connection and never reads or writes (a stalled TLS handshake).
	Silent,
}

/// A tiny HTTP/1.1 server on 127.0.0.1, plain or TLS, counting connections and recording
/// request heads (and TLS server names).
struct Server {
	/// Where it listens.
	addr: SocketAddr,
	/// Connections accepted.
	connections: Arc<AtomicUsize>,
	/// Request heads received.
	requests: Arc<Mutex<Vec<String>>>,
	/// TLS server names the clients sent.
	server_names: Arc<Mutex<Vec<String>>>,
	/// The accepting task.
	task: JoinHandle<()>,
}

impl Drop for Server {
	fn drop(&mut self) {
		self.task.abort();
	}
}

impl Server {
	/// A plain HTTP server.
	async fn start(reply: Reply) -> Self {
		Self::start_with(reply, None).await
	}

	/// An HTTPS server with [`TEST_CERT`].
	async fn start_tls(reply: Reply) -> Self {
		let cert = CertificateDer::from_pem_slice(TEST_CERT.as_bytes()).unwrap();
		let key = PrivateKeyDer::from_pem_slice(TEST_KEY.as_bytes()).unwrap();
		let config =
			ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
				.with_safe_default_protocol_versions()
				.unwrap()
				.with_no_client_auth()
				.with_single_cert(vec![cert], key)
				.unwrap();
		Self::start_with(reply, Some(TlsAcceptor::from(Arc::new(config)))).await
	}

	async fn start_with(reply: Reply, tls: Option<TlsAcceptor>) -> Self {
		let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
		let addr = listener.local_addr().unwrap();
		let connections = Arc::new(AtomicUsize::new(0));
		let requests = Arc::new(Mutex::new(Vec::new()));
		let server_names = Arc::new(Mutex::new(Vec::new()));
		let (count, heads, names) = (connections.clone(), requests.clone(), server_names.clone());
		let task = tokio::spawn(async move {
			loop {
				let Ok((stream, _)) = listener.accept().await else { return };
				count.fetch_add(1, Ordering::SeqCst);
				let (reply, heads, names, tls) =
					(reply.clone(), heads.clone(), names.clone(), tls.clone());
				tokio::spawn(async move {
					if matches!(reply, Reply::Silent) {
						let _held = stream;
						tokio::time::sleep(Duration::from_secs(3600)).await;
						return
					}
					match tls {
						None => serve(stream, reply, heads).await,
						Some(acceptor) => {
							let Ok(stream) = acceptor.accept(stream).await else { return };
							let sni = stream.get_ref().1.server_name().unwrap_or("").to_owned();
							names.lock().unwrap().push(sni);
							serve(stream, reply, heads).await
						},
					}
				});
			}
		});
		Self { addr, connections, requests, server_names, task }
	}

	/// `http://127.0.0.1:<port><path>`.
	fn url(&self, path: &str) -> String {
		format!("http://{}{path}", self.addr)
	}

	/// Connections accepted so far (after a moment, so that a pending one is counted).
	async fn connections(&self) -> usize {
		tokio::time::sleep(Duration::from_millis(100)).await;
		self.connections.load(Ordering::SeqCst)
	}

	/// The request heads received.
	fn requests(&self) -> Vec<String> {
		self.requests.lock().unwrap().clone()
	}
}

/// Answers one request on `stream` as `reply` says.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
	mut stream: S,
	reply: Reply,
	heads: Arc<Mutex<Vec<String>>>,
) {
	let mut head = Vec::new();
	let mut buf = [0u8; 1024];
	while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
		match stream.read(&mut buf).await {
			Ok(0) | Err(_) => return,
			Ok(n) => head.extend_from_slice(&buf[..n]),
		}
	}
	heads.lock().unwrap().push(String::from_utf8_lossy(&head).into_owned());
	let _ = match reply {
		Reply::Body(body) => {
			let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
			write_all(&mut stream, &[head.as_bytes(), &body]).await
		},
		Reply::BodyUntilClose(body) => {
			let head = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
			write_all(&mut stream, &[head, &body]).await
		},
		Reply::Endless => {
			let chunk = vec![b'x'; 64 * 1024];
			let head = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
			let mut result = stream.write_all(head).await;
			while result.is_ok() {
				result = stream.write_all(&chunk).await;
			}
			result
		},
		Reply::Status(status, headers) => {
			let head = format!("HTTP/1.1 {status} X\r\n{headers}Content-Length: 0\r\n\r\n");
			write_all(&mut stream, &[head.as_bytes()]).await
		},
		Reply::Stall | Reply::Silent => {
			tokio::time::sleep(Duration::from_secs(3600)).await;
			Ok(())
		},
	};
}

/// Writes the parts and shuts the stream down.
async fn write_all<S: AsyncWrite + Unpin>(stream: &mut S, parts: &[&[u8]]) -> std::io::Result<()> {
	for part in parts {
		stream.write_all(part).await?;
	}
	stream.shutdown().await
}

/// An input of `content` at `url`.
fn spec(name: &str, url: &str, content: &[u8]) -> InputSpec {
	InputSpec {
		name: name.into(),
		url: url.into(),
		sha256: Sha256::digest(content).into(),
		size: content.len() as u64,
	}
}

/// The tests' policy: loopback allowed, short timeouts.
fn policy() -> FetchPolicy {
	FetchPolicy {
		allow_private_addresses: true,
		connect_timeout: Duration::from_secs(5),
		timeout: Duration::from_secs(20),
		..FetchPolicy::default()
	}
}

/// The names in `dir` (hidden ones too), sorted; empty if `dir` does not exist.
fn entries(dir: &Path) -> Vec<String> {
	let Ok(read) = std::fs::read_dir(dir) else { return Vec::new() };
	let mut names: Vec<String> =
		read.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
	names.sort();
	names
}

/// Fetches with the tests' TLS configuration trusting [`TEST_CERT`].
async fn fetch_trusting_test_cert(
	inputs: &[InputSpec],
	dir: &Path,
	policy: &FetchPolicy,
) -> Result<Vec<Fetched>, FetchError> {
	let mut roots = RootCertStore::empty();
	roots
		.add(CertificateDer::from_pem_slice(TEST_CERT.as_bytes()).unwrap())
		.unwrap();
	let tls = Tls::Config(http::client_config(roots).unwrap());
	fetch_inputs_with(inputs, dir, policy, &tls).await
}

/// Some content of `len` bytes.
fn content(len: usize) -> Vec<u8> {
	(0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test]
async fn good_fetch_stores_read_only_files() {
	let body = content(300_000);
	let server = Server::start(Reply::Body(body.clone())).await;
	let tmp = tempfile::tempdir().unwrap();
	let dir = tmp.path().join("in");
	let inputs = [
		spec("data.bin", &server.url("/data.bin?v=1"), &body),
		spec("copy", &server.url("/copy"), &body),
	];

	let fetched = fetch_inputs(&inputs, &dir, &policy()).await.unwrap();

	assert_eq!(
		fetched.iter().map(|f| (f.name.as_str(), f.bytes)).collect::<Vec<_>>(),
		[("data.bin", 300_000), ("copy", 300_000)]
	);
	assert_eq!(entries(&dir), ["copy", "data.bin"]);
	assert_eq!(std::fs::read(dir.join("data.bin")).unwrap(), body);
	let mode = std::fs::metadata(dir.join("data.bin")).unwrap().permissions().mode();
	assert_eq!(mode & 0o777, 0o444);
	let requests = server.requests();
	assert!(requests[0].starts_with("GET /data.bin?v=1 HTTP/1.1\r\n"), "{}", requests[0]);
	let host = format!("host: {}\r\n", server.addr);
	assert!(requests[0].to_ascii_lowercase().contains(&host), "{}", requests[0]);
	assert_eq!(server.connections().await, 2);
}

#[tokio::test]
async fn https_fetch_sends_the_host_as_server_name() {
	let body = content(10_000);
	let server = Server::start_tls(Reply::Body(body.clone())).await;
	let tmp = tempfile::tempdir().unwrap();
	let url = format!("https://localhost:{}/f", server.addr.port());

	fetch_trusting_test_cert(&[spec("f", &url, &body)], tmp.path(), &policy())
		.await
		.unwrap();

	assert_eq!(std::fs::read(tmp.path().join("f")).unwrap(), body);
	assert_eq!(*server.server_names.lock().unwrap(), ["localhost"]);
	let host = format!("host: localhost:{}\r\n", server.addr.port());
	assert!(server.requests()[0].to_ascii_lowercase().contains(&host));
}

#[tokio::test]
async fn https_with_an_untrusted_certificate_is_unreachable() {
	let server = Server::start_tls(Reply::Body(b"x".to_vec())).await;
	let tmp = tempfile::tempdir().unwrap();
	let url = format!("https://localhost:{}/f", server.addr.port());

	let err = fetch_inputs(&[spec("f", &url, b"x")], tmp.path(), &policy()).await.unwrap_err();

	assert!(matches!(err, FetchError::Unreachable { .. }), "{err}");
	assert!(server.requests().is_empty());
	assert!(entries(tmp.path()).is_empty());
}

#[tokio::test]
async fn stalled_tls_handshake_hits_the_connect_timeout() {
	let server = Server::start(Reply::Silent).await;
	let tmp = tempfile::tempdir().unwrap();
	let url = format!("https://localhost:{}/f", server.addr.port());
	let policy = FetchPolicy { connect_timeout: Duration::from_millis(300), ..policy() };
	let start = Instant::now();

	let err = fetch_trusting_test_cert(&[spec("f", &url, b"x")], tmp.path(), &policy)
		.await
		.unwrap_err();

	assert!(
		matches!(&err, FetchError::Unreachable { reason, .. } if reason.contains("no connection within")),
		"{err}"
	);
	assert!(start.elapsed() < Duration::from_secs(5));
	assert_eq!(server.connections().await, 1);
}

#[tokio::test]
async fn wrong_digest_leaves_nothing() {
	let server = Server::start(Reply::Body(b"what the server has".to_vec())).await;
	let tmp = tempfile::tempdir().unwrap();
	// A file of that name from an earlier attempt goes too.
	std::fs::write(tmp.path().join("f"), b"stale").unwrap();
	let mut input = spec("f", &server.url("/f"), b"what the server has");
	input.sha256 = Sha256::digest(b"what the customer meant").into();

	let err = fetch_inputs(&[input], tmp.path(), &policy()).await.unwrap_err();

	match &err {
		FetchError::DigestMismatch { name, expected, actual } => {
			assert_eq!(name, "f");
			assert_eq!(*expected, hex::encode(Sha256::digest(b"what the customer meant")));
			assert_eq!(*actual, hex::encode(Sha256::digest(b"what the server has")));
		},
		other => panic!("{other}"),
	}
	assert_eq!(err.label(), "digest_mismatch");
	assert!(entries(tmp.path()).is_empty(), "{:?}", entries(tmp.path()));
}

#[tokio::test]
async fn endless_body_is_cut_just_past_the_declared_size() {
	let server = Server::start(Reply::Endless).await;
	let tmp = tempfile::tempdir().unwrap();
	let input = spec("f", &server.url("/f"), &[b'x'; 100_000]);

	let (inputs, policy) = ([input], policy());
	let fetching = fetch_inputs(&inputs, tmp.path(), &policy);
	let err = tokio::time::timeout(Duration::from_secs(10), fetching)
		.await
		.unwrap()
		.unwrap_err();

	match err {
		FetchError::SizeMismatch { declared: 100_000, received, .. } =>
			assert!(received > 100_000 && received < 100_000 + (1 << 20), "{received}"),
		other => panic!("{other}"),
	}
	assert!(entries(tmp.path()).is_empty());
}

#[tokio::test]
async fn fewer_bytes_than_declared_is_a_size_mismatch() {
	let server = Server::start(Reply::BodyUntilClose(b"short".to_vec())).await;
	let tmp = tempfile::tempdir().unwrap();
	let input = spec("f", &server.url("/f"), b"short and then some");

	let err = fetch_inputs(&[input], tmp.path(), &policy()).await.unwrap_err();

	assert!(matches!(err, FetchError::SizeMismatch { declared: 19, received: 5, .. }), "{err}");
	assert!(entries(tmp.path()).is_empty());
}

#[tokio::test]
async fn announced_length_other_than_declared_is_refused_unread() {
	let server = Server::start(Reply::Body(vec![0; 5000])).await;
	let tmp = tempfile::tempdir().unwrap();
	let input = spec("f", &server.url("/f"), &[0; 100]);

	let err = fetch_inputs(&[input], tmp.path(), &policy()).await.unwrap_err();

	assert!(matches!(err, FetchError::SizeMismatch { declared: 100, received: 5000, .. }), "{err}");
	assert!(entries(tmp.path()).is_empty());
}

#[tokio::test]
async fn declared_sizes_over_the_policy_are_refused_before_connecting() {
	let server = Server::start(Reply::Body(vec![0; 10])).await;
	let tmp = tempfile::tempdir().unwrap();
	let policy = FetchPolicy { max_input_bytes: 100, max_total_bytes: 150, ..policy() };
	let mut big = spec("big", &server.url("/big"), &[0; 10]);
	big.size = 101;
	let halves = [spec("a", &server.url("/a"), &[0; 80]), spec("b", &server.url("/b"), &[0; 80])];

	let err = fetch_inputs(&[big], tmp.path(), &policy).await.unwrap_err();
	assert!(matches!(err, FetchError::TooLarge { size: 101, limit: 100, .. }), "{err}");
	let err = fetch_inputs(&halves, tmp.path(), &policy).await.unwrap_err();
	assert!(
		matches!(&err, FetchError::TotalTooLarge { name, total: 160, limit: 150 } if name == "b"),
		"{err}"
	);

	assert_eq!(server.connections().await, 0);
}

#[tokio::test]
async fn loopback_is_refused_by_default_without_connecting() {
	let server = Server::start(Reply::Body(b"secret".to_vec())).await;
	let tmp = tempfile::tempdir().unwrap();
	let port = server.addr.port();
	let urls = [
		format!("http://127.0.0.1:{port}/"),
		format!("http://localhost:{port}/"),
		format!("http://2130706433:{port}/"),
		format!("http://0x7f.1:{port}/"),
		format!("http://[::ffff:127.0.0.1]:{port}/"),
		format!("http://[::1]:{port}/"),
	];

	for url in urls {
		let input = spec("f", &url, b"secret");
		let err = fetch_inputs(&[input], tmp.path(), &FetchPolicy::default()).await.unwrap_err();
		assert!(matches!(err, FetchError::AddressNotAllowed { .. }), "{url}: {err}");
	}

	assert_eq!(server.connections().await, 0);
	assert!(entries(tmp.path()).is_empty());
}

#[tokio::test]
async fn redirect_is_refused_not_followed() {
	let server = Server::start(Reply::Status(302, "Location: /elsewhere\r\n")).await;
	let tmp = tempfile::tempdir().unwrap();

	let err = fetch_inputs(&[spec("f", &server.url("/f"), b"x")], tmp.path(), &policy())
		.await
		.unwrap_err();

	assert!(matches!(err, FetchError::Redirect { status: 302, .. }), "{err}");
	let requests = server.requests();
	assert_eq!(requests.len(), 1);
	assert!(requests[0].starts_with("GET /f "));
	assert!(entries(tmp.path()).is_empty());
}

#[tokio::test]
async fn not_found_is_an_http_status() {
	let server = Server::start(Reply::Status(404, "")).await;
	let tmp = tempfile::tempdir().unwrap();

	let err = fetch_inputs(&[spec("f", &server.url("/f"), b"x")], tmp.path(), &policy())
		.await
		.unwrap_err();

	assert!(matches!(err, FetchError::HttpStatus { status: 404, .. }), "{err}");
	assert_eq!(err.label(), "http_status");
	assert!(entries(tmp.path()).is_empty());
}

#[tokio::test]
async fn refused_connection_is_unreachable() {
	let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
	let tmp = tempfile::tempdir().unwrap();
	let url = format!("http://127.0.0.1:{port}/f");

	let err = fetch_inputs(&[spec("f", &url, b"x")], tmp.path(), &policy()).await.unwrap_err();

	assert!(matches!(err, FetchError::Unreachable { .. }), "{err}");
	assert!(entries(tmp.path()).is_empty());
}

#[tokio::test]
async fn stalled_server_times_out() {
	let server = Server::start(Reply::Stall).await;
	let tmp = tempfile::tempdir().unwrap();
	let policy = FetchPolicy { timeout: Duration::from_millis(300), ..policy() };
	let start = Instant::now();

	let err = fetch_inputs(&[spec("f", &server.url("/f"), b"x")], tmp.path(), &policy)
		.await
		.unwrap_err();

	assert!(matches!(&err, FetchError::Timeout { name } if name == "f"), "{err}");
	assert!(start.elapsed() < Duration::from_secs(5));
	assert_eq!(server.requests().len(), 1);
	assert!(entries(tmp.path()).is_empty());
}

#[tokio::test]
async fn no_inputs_creates_the_directory() {
	let tmp = tempfile::tempdir().unwrap();
	let dir = tmp.path().join("a/b");
	assert!(fetch_inputs(&[], &dir, &policy()).await.unwrap().is_empty());
	assert!(dir.is_dir());
}

/// [`check_inputs`] of one input named `name` at `url`, under the default policy.
fn check_one(name: &str, url: &str) -> Result<(), FetchError> {
	check_inputs(&[spec(name, url, b"")], &FetchPolicy::default())
}

#[test]
fn names_are_checked() {
	let url = "https://example.com/x";
	let long_ok = "a".repeat(64);
	for good in ["a", "data.bin", "A-b_c.1", "x..y", long_ok.as_str()] {
		assert!(check_one(good, url).is_ok(), "{good}");
	}
	let too_long = "a".repeat(65);
	for bad in
		["", ".", "..", ".hidden", "a/b", "../x", "a b", "é", "a\0", "a\\b", too_long.as_str()]
	{
		assert!(matches!(check_one(bad, url), Err(FetchError::InvalidName { .. })), "{bad:?}");
	}
	let twice = [spec("a", url, b""), spec("a", url, b"")];
	let err = check_inputs(&twice, &FetchPolicy::default()).unwrap_err();
	assert!(matches!(err, FetchError::InvalidName { .. }), "{err}");
}

#[test]
fn schemes_and_credentials_are_checked() {
	for good in
		["http://example.com/x", "https://example.com:8443/a/b?c=d#e", "HTTPS://EXAMPLE.COM"]
	{
		assert!(check_one("f", good).is_ok(), "{good}");
	}
	for scheme in ["ftp://example.com/x", "file:///etc/passwd", "data:,hello", "gopher://x/"] {
		let err = check_one("f", scheme).unwrap_err();
		assert!(matches!(err, FetchError::SchemeNotAllowed { .. }), "{scheme}: {err}");
	}
	for bad in [
		"not a url",
		"http://",
		"http://user:pw@example.com/",
		"http://user@example.com/",
		"https://:pw@example.com/",
	] {
		let err = check_one("f", bad).unwrap_err();
		assert!(matches!(err, FetchError::InvalidUrl { .. }), "{bad}: {err}");
	}
}

#[test]
fn ip_literal_hosts_are_checked_before_any_traffic() {
	for url in [
		"http://169.254.169.254/latest/meta-data/",
		"http://[::1]/",
		"http://0x7f.1/",
		"http://[::ffff:a00:1]/",
		"http://10.1.2.3:8080/",
		"http://0/",
	] {
		let err = check_one("f", url).unwrap_err();
		assert!(matches!(err, FetchError::AddressNotAllowed { .. }), "{url}: {err}");
		assert_eq!(err.input(), "f");
	}
	assert!(check_one("f", "http://1.1.1.1/").is_ok());
	assert!(check_one("f", "http://[2606:4700::1111]/").is_ok());
}

#[test]
fn address_policy() {
	let refused = [
		"127.0.0.1",
		"127.1.2.3",
		"10.0.0.1",
		"172.16.0.1",
		"172.31.255.255",
		"192.168.1.1",
		"0.0.0.0",
		"0.1.2.3",
		"255.255.255.255",
		"240.0.0.1",
		"224.0.0.1",
		"239.255.255.250",
		"169.254.169.254",
		"169.254.0.1",
		"100.64.0.1",
		"100.127.255.254",
		"192.0.0.8",
		"192.0.2.1",
		"198.51.100.7",
		"203.0.113.9",
		"198.18.0.1",
		"198.19.255.255",
		"192.88.99.1",
		"::",
		"::1",
		"::ffff:127.0.0.1",
		"::ffff:10.0.0.1",
		"::ffff:169.254.169.254",
		"::127.0.0.1",
		"64:ff9b::7f00:1",
		"64:ff9b:1::1",
		"fc00::1",
		"fd00::1",
		"fe80::1",
		"fec0::1",
		"ff02::1",
		"100::1",
		"2001::1",
		"2001:2::1",
		"2001:db8::1",
		"2002:7f00:1::1",
		"3fff::1",
	];
	let allowed = [
		"1.1.1.1",
		"8.8.8.8",
		"100.63.255.255",
		"100.128.0.1",
		"172.15.255.255",
		"172.32.0.1",
		"192.0.1.1",
		"198.17.255.255",
		"198.20.0.1",
		"223.255.255.255",
		"2606:4700::1111",
		"2a00:1450:4001::200e",
		"::ffff:1.1.1.1",
		"64:ff9b::101:101",
	];
	for addr in refused {
		let ip: IpAddr = addr.parse().unwrap();
		assert!(!address_allowed(ip, false), "{addr} should be refused");
		assert!(address_allowed(ip, true), "{addr} should be allowed with allow_private");
	}
	for addr in allowed {
		assert!(address_allowed(addr.parse().unwrap(), false), "{addr} should be allowed");
	}
}

#[test]
fn labels_are_distinct() {
	let name = || "f".to_string();
	let errors = [
		FetchError::InvalidName { name: name(), reason: String::new() },
		FetchError::InvalidUrl { name: name(), reason: String::new() },
		FetchError::SchemeNotAllowed { name: name(), scheme: String::new() },
		FetchError::AddressNotAllowed { name: name(), host: String::new(), addr: [0; 4].into() },
		FetchError::TooLarge { name: name(), size: 0, limit: 0 },
		FetchError::TotalTooLarge { name: name(), total: 0, limit: 0 },
		FetchError::Unreachable { name: name(), reason: String::new() },
		FetchError::HttpStatus { name: name(), status: 0 },
		FetchError::Redirect { name: name(), status: 0 },
		FetchError::SizeMismatch { name: name(), declared: 0, received: 0 },
		FetchError::DigestMismatch { name: name(), expected: String::new(), actual: String::new() },
		FetchError::Timeout { name: name() },
		FetchError::Io { name: name(), source: std::io::ErrorKind::Other.into() },
	];
	let labels: std::collections::HashSet<_> = errors.iter().map(FetchError::label).collect();
	assert_eq!(labels.len(), errors.len());
	assert!(errors.iter().all(|e| e.input() == "f"));
}

//! The HTTP server of the stored results: `GET {base}/v1/jobs/{job}/{item}`, `item` one of
//! `manifest`, `stdout`, `stderr`, `files/{name}` (see [`povm_primitives::results`]), for the
//! job's owner only.
//!
//! A request carries `Authorization: PoVM expires=<unix seconds>,signature=0x<128 hex>`, the
//! owner's sr25519 signature of [`fetch_message`]`(job, expires, item)`; `item` is the
//! percent-decoded text after `/v1/jobs/{job}/` (`files/summary.json`). [`authorize`] checks
//! it. Answers:
//!
//! | status | when |
//! | --- | --- |
//! | 200 | the item's bytes, `application/octet-stream`, with `Content-Length` |
//! | 400 | a malformed path: not a job id, a file name that is not a plain name |
//! | 401 | no, malformed or expired authorization, or `expires` beyond now + [`MAX_FETCH_SIGNATURE_SECONDS`] |
//! | 403 | a signature not by the job's owner (or not for this job, expiry and item) |
//! | 404 | another path, no stored result of the job, or no such item in it |
//! | 405 | a method other than `GET` |
//!
//! The job's existence is checked before the authorization (job ids are public), the item
//! after it, so only the owner learns which files a result has. Each connection serves one
//! request; at most [`MAX_CONNECTIONS`] are served at once, [`MAX_CONNECTIONS_PER_PEER`] from
//! one IP address (more are closed at once), headers must come within [`HEADER_TIMEOUT`], a
//! connection is closed [`CONNECTION_DEADLINE`] after it was accepted plus the time its item
//! takes at [`MIN_TRANSFER_RATE`], and request bodies are never read. An owner downloads at
//! most [`MAX_DOWNLOADS_PER_OWNER`] items at once (`429` beyond). So a client that reads
//! slowly, or not at all, holds a few connections for a bounded time, not all of them.

use std::{
	collections::BTreeMap,
	convert::Infallible,
	net::SocketAddr,
	sync::Arc,
	time::{Duration, SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::{
	body::{Frame, Incoming},
	header, Method, Request, Response, StatusCode,
};
use hyper_util::rt::{TokioIo, TokioTimer};
use povm_primitives::results::{fetch_message, MAX_FETCH_SIGNATURE_SECONDS};
use sp_core::{sr25519, Pair as _};
use tokio::{net::TcpListener, sync::Semaphore};
use tokio_util::sync::CancellationToken;

use super::store::{Item, ResultStore};
use crate::prelude::*;

/// Log target of the result server.
pub const LOG_RESULTS: &str = "povm::results";
/// Most connections served at once; more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 64;
/// Longest a client may take to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a connection is served beyond the time its item takes at [`MIN_TRANSFER_RATE`].
pub const CONNECTION_DEADLINE: Duration = Duration::from_secs(60);
/// The slowest download served to its end, in bytes per second.
pub const MIN_TRANSFER_RATE: u64 = 32 * 1024;
/// Most items one owner downloads at once.
pub const MAX_DOWNLOADS_PER_OWNER: usize = 4;
/// Most connections served at once to one IP address.
pub const MAX_CONNECTIONS_PER_PEER: usize = 8;
/// Largest request head accepted, in bytes.
const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The scheme of the `Authorization` header.
pub const AUTH_SCHEME: &str = "PoVM";

/// Why a request's authorization is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
	/// No `Authorization` header.
	#[error("no authorization")]
	Missing,
	/// The header is not `PoVM expires=<unix seconds>,signature=0x<128 hex>`.
	#[error("malformed authorization")]
	Malformed,
	/// The signature expired.
	#[error("the signature expired")]
	Expired,
	/// The signature is valid for longer than a request signature may be.
	#[error("the signature expires more than {MAX_FETCH_SIGNATURE_SECONDS} seconds ahead")]
	TooFarAhead,
	/// The signature is not the owner's of this job, expiry and item.
	#[error("not signed by the job's owner")]
	NotOwner,
}

impl AuthError {
	/// The HTTP status of the refusal: 403 for a signature not by the owner, else 401.
	pub fn status(&self) -> StatusCode {
		match self {
			AuthError::NotOwner => StatusCode::FORBIDDEN,
			_ => StatusCode::UNAUTHORIZED,
		}
	}
}

/// The expiry and signature of an `Authorization` header value.
pub fn parse_authorization(value: &str) -> Result<(u64, [u8; 64]), AuthError> {
	let rest = value
		.strip_prefix(AUTH_SCHEME)
		.and_then(|r| r.strip_prefix(' '))
		.ok_or(AuthError::Malformed)?;
	let (mut expires, mut signature) = (None, None);
	for param in rest.split(',') {
		let (key, value) = param.trim().split_once('=').ok_or(AuthError::Malformed)?;
		let slot = match key {
			"expires" => &mut expires,
			"signature" => &mut signature,
			_ => return Err(AuthError::Malformed),
		};
		if slot.replace(value).is_some() {
			return Err(AuthError::Malformed);
		}
	}
	let expires = expires.ok_or(AuthError::Malformed)?;
	if expires.is_empty() || !expires.bytes().all(|b| b.is_ascii_digit()) {
		return Err(AuthError::Malformed);
	}
	let expires: u64 = expires.parse().map_err(|_| AuthError::Malformed)?;
	let hex = signature.and_then(|s| s.strip_prefix("0x")).ok_or(AuthError::Malformed)?;
	let mut bytes = [0u8; 64];
	hex::decode_to_slice(hex, &mut bytes).map_err(|_| AuthError::Malformed)?;
	Ok((expires, bytes))
}

/// Checks the `Authorization` header value `header` of a request for `item` of `job`, owned
/// by `owner`, at `now` (unix seconds). Pure.
pub fn authorize(
	header: Option<&str>,
	job: JobId,
	item: &str,
	owner: &[u8; 32],
	now: u64,
) -> Result<(), AuthError> {
	let (expires, signature) = parse_authorization(header.ok_or(AuthError::Missing)?)?;
	if expires < now {
		return Err(AuthError::Expired);
	}
	if expires > now.saturating_add(MAX_FETCH_SIGNATURE_SECONDS) {
		return Err(AuthError::TooFarAhead);
	}
	let signature = sr25519::Signature::from_raw(signature);
	let owner = sr25519::Public::from_raw(*owner);
	if sr25519::Pair::verify(&signature, fetch_message(job, expires, item), &owner) {
		Ok(())
	} else {
		Err(AuthError::NotOwner)
	}
}

/// A request path that names a result item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
	/// The job.
	pub job: JobId,
	/// The item text as signed (percent-decoded), e.g. `files/summary.json`.
	pub item: String,
	/// The item.
	pub parsed: Item,
}

/// Why a path names no item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
	/// Not under `{base}/v1/jobs/`, or no such item kind (404).
	NotFound,
	/// Malformed: a job that is not a number, a bad escape, a file name that is not plain (400).
	Malformed,
}

/// The job and item of the request path `path` (without query) under `base` (`""` or a path
/// like `/povm`, no trailing `/`). Pure.
pub fn parse_path(path: &str, base: &str) -> Result<Target, PathError> {
	let rest = path
		.strip_prefix(base)
		.and_then(|r| r.strip_prefix("/v1/jobs/"))
		.ok_or(PathError::NotFound)?;
	let (job, item) = rest.split_once('/').ok_or(PathError::NotFound)?;
	if job.is_empty() || !job.bytes().all(|b| b.is_ascii_digit()) {
		return Err(PathError::Malformed);
	}
	let job: JobId = job.parse().map_err(|_| PathError::Malformed)?;
	let item = match item.strip_prefix("files/") {
		Some(name) => {
			// One escaped segment: a `/` in it (even escaped) is no plain name.
			if name.contains('/') {
				return Err(PathError::Malformed);
			}
			format!("files/{}", percent_decode(name).ok_or(PathError::Malformed)?)
		},
		None => item.to_owned(),
	};
	let parsed = match Item::parse(&item) {
		Some(parsed) => parsed,
		None if item.starts_with("files/") => return Err(PathError::Malformed),
		None => return Err(PathError::NotFound),
	};
	Ok(Target { job, item, parsed })
}

/// `%XX`-decodes `text` into UTF-8; `None` for a bad escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
	let bytes = text.as_bytes();
	let mut out = Vec::with_capacity(bytes.len());
	let mut i = 0;
	while i < bytes.len() {
		if bytes[i] == b'%' {
			let hex = bytes.get(i + 1..i + 3)?;
			let hex = std::str::from_utf8(hex).ok()?;
			out.push(u8::from_str_radix(hex, 16).ok()?);
			i += 3;
		} else {
			out.push(bytes[i]);
			i += 1;
		}
	}
	String::from_utf8(out).ok()
}

/// The current unix time in seconds.
pub fn unix_now() -> u64 {
	SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

type Body = BoxBody<Bytes, std::io::Error>;

fn plain(status: StatusCode, text: &str) -> Response<Body> {
	let mut response = Response::new(
		Full::new(Bytes::from(format!("{text}\n")))
			.map_err(|n: Infallible| match n {})
			.boxed(),
	);
	*response.status_mut() = status;
	response
		.headers_mut()
		.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain"));
	response
}

/// The result server: a store and the base path requests may carry.
#[derive(Debug)]
pub struct ResultServer {
	store: Arc<ResultStore>,
	base: String,
	downloads: Arc<Slots<[u8; 32]>>,
}

/// Things in progress per key (downloads per owner, connections per peer), each key at most
/// `limit` at once.
#[derive(Debug)]
pub struct Slots<K: Ord + Clone> {
	limit: usize,
	held: std::sync::Mutex<BTreeMap<K, usize>>,
}

/// One held slot of a [`Slots`], released when dropped.
#[derive(Debug)]
pub struct Slot<K: Ord + Clone> {
	slots: Arc<Slots<K>>,
	key: K,
}

impl<K: Ord + Clone> Slots<K> {
	/// Slots of at most `limit` per key.
	pub fn new(limit: usize) -> Arc<Self> {
		Arc::new(Self { limit, held: Default::default() })
	}

	/// A slot for `key`, unless it already holds `limit`.
	pub fn take(self: &Arc<Self>, key: K) -> Option<Slot<K>> {
		let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
		let n = held.entry(key.clone()).or_default();
		if *n >= self.limit {
			return None
		}
		*n += 1;
		Some(Slot { slots: self.clone(), key })
	}

	/// Slots `key` holds.
	pub fn held(&self, key: &K) -> usize {
		self.held
			.lock()
			.unwrap_or_else(|e| e.into_inner())
			.get(key)
			.copied()
			.unwrap_or(0)
	}

	/// Keys holding a slot.
	pub fn keys(&self) -> usize {
		self.held.lock().unwrap_or_else(|e| e.into_inner()).len()
	}
}

impl<K: Ord + Clone> Drop for Slot<K> {
	fn drop(&mut self) {
		let mut held = self.slots.held.lock().unwrap_or_else(|e| e.into_inner());
		if let Some(n) = held.get_mut(&self.key) {
			*n = n.saturating_sub(1);
			if *n == 0 {
				held.remove(&self.key);
			}
		}
	}
}

/// When a connection is closed: [`CONNECTION_DEADLINE`] after it was accepted, pushed back by
/// the time its item takes at [`MIN_TRANSFER_RATE`].
#[derive(Debug)]
pub struct Deadline(std::sync::Mutex<tokio::time::Instant>);

impl Deadline {
	fn new() -> Arc<Self> {
		Arc::new(Self(std::sync::Mutex::new(tokio::time::Instant::now() + CONNECTION_DEADLINE)))
	}

	/// Gives the connection time to send `bytes` at the slowest rate served.
	fn allow(&self, bytes: u64) {
		let extra = Duration::from_secs(bytes / MIN_TRANSFER_RATE + 1);
		let mut at = self.0.lock().unwrap_or_else(|e| e.into_inner());
		*at += extra;
	}

	fn at(&self) -> tokio::time::Instant {
		*self.0.lock().unwrap_or_else(|e| e.into_inner())
	}
}

impl ResultServer {
	/// A server of `store`'s results under `base` (`""` or a path like `/povm`).
	pub fn new(store: Arc<ResultStore>, base: impl Into<String>) -> Arc<Self> {
		Arc::new(Self {
			store,
			base: base.into().trim_end_matches('/').to_owned(),
			downloads: Slots::new(MAX_DOWNLOADS_PER_OWNER),
		})
	}

	/// Serves on `listener` until `cancel`.
	pub async fn serve(self: Arc<Self>, listener: TcpListener, cancel: CancellationToken) {
		let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
		let peers = Slots::<std::net::IpAddr>::new(MAX_CONNECTIONS_PER_PEER);
		if let Ok(addr) = listener.local_addr() {
			tracing::info!(target: LOG_RESULTS, %addr, base = %self.base, "serving results");
		}
		loop {
			let permit = tokio::select! {
				_ = cancel.cancelled() => return,
				p = permits.clone().acquire_owned() => match p {
					Ok(p) => p,
					Err(_) => return,
				},
			};
			let (stream, peer) = tokio::select! {
				_ = cancel.cancelled() => return,
				accepted = listener.accept() => match accepted {
					Ok(s) => s,
					Err(e) => {
						tracing::warn!(target: LOG_RESULTS, "accept failed: {e}");
						// Out of descriptors, for instance: do not spin.
						tokio::time::sleep(Duration::from_millis(100)).await;
						continue;
					},
				},
			};
			let Some(peer_slot) = peers.take(peer.ip()) else {
				tracing::debug!(target: LOG_RESULTS, %peer, "too many connections from this address");
				drop(stream);
				continue;
			};
			let this = self.clone();
			tokio::spawn(async move {
				let deadline = Deadline::new();
				let extend = deadline.clone();
				let service = hyper::service::service_fn(move |request| {
					let (this, extend) = (this.clone(), extend.clone());
					async move { Ok::<_, Infallible>(this.handle(request, peer, &extend).await) }
				});
				let connection = hyper::server::conn::http1::Builder::new()
					.timer(TokioTimer::new())
					.header_read_timeout(HEADER_TIMEOUT)
					.max_buf_size(MAX_HEADER_BYTES.max(8192))
					.keep_alive(false)
					.serve_connection(TokioIo::new(stream), service);
				tokio::pin!(connection);
				loop {
					tokio::select! {
						served = &mut connection => {
							if let Err(e) = served {
								tracing::debug!(target: LOG_RESULTS, %peer, "connection: {e}");
							}
							break;
						},
						_ = tokio::time::sleep_until(deadline.at()) => {
							// The deadline may have moved while this slept.
							if tokio::time::Instant::now() >= deadline.at() {
								tracing::info!(target: LOG_RESULTS, %peer, "connection too slow: closed");
								break;
							}
						},
					}
				}
				drop((permit, peer_slot));
			});
		}
	}

	/// Answers one request.
	pub async fn handle(
		&self,
		request: Request<Incoming>,
		peer: SocketAddr,
		deadline: &Deadline,
	) -> Response<Body> {
		let response = self.answer(&request, deadline).await;
		tracing::debug!(
			target: LOG_RESULTS,
			%peer,
			method = %request.method(),
			path = %request.uri().path(),
			status = response.status().as_u16(),
			"result request"
		);
		response
	}

	async fn answer(&self, request: &Request<Incoming>, deadline: &Deadline) -> Response<Body> {
		if request.method() != Method::GET {
			let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET");
			r.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("GET"));
			return r;
		}
		let target = match parse_path(request.uri().path(), &self.base) {
			Ok(t) => t,
			Err(PathError::NotFound) => return plain(StatusCode::NOT_FOUND, "not found"),
			Err(PathError::Malformed) => return plain(StatusCode::BAD_REQUEST, "malformed path"),
		};
		let now = unix_now();
		let store = self.store.clone();
		let job = target.job;
		let meta = match tokio::task::spawn_blocking(move || store.meta(job)).await {
			Ok(Ok(Some(meta))) if meta.expires_at > now => meta,
			Ok(Ok(_)) => return plain(StatusCode::NOT_FOUND, "no result of this job here"),
			Ok(Err(e)) => {
				tracing::warn!(target: LOG_RESULTS, job, "{e}");
				return plain(StatusCode::INTERNAL_SERVER_ERROR, "result unreadable");
			},
			Err(_) => return plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
		};
		let header = request.headers().get(header::AUTHORIZATION).map(|v| v.to_str());
		let header = match header {
			None => None,
			Some(Ok(v)) => Some(v),
			Some(Err(_)) => return plain(StatusCode::UNAUTHORIZED, "malformed authorization"),
		};
		if let Err(e) = authorize(header, job, &target.item, &meta.owner, now) {
			let mut r = plain(e.status(), &e.to_string());
			if e.status() == StatusCode::UNAUTHORIZED {
				r.headers_mut().insert(
					header::WWW_AUTHENTICATE,
					header::HeaderValue::from_static(AUTH_SCHEME),
				);
			}
			return r;
		}
		let Some(download) = self.downloads.take(meta.owner) else {
			return plain(
				StatusCode::TOO_MANY_REQUESTS,
				&format!("at most {MAX_DOWNLOADS_PER_OWNER} downloads at once"),
			)
		};
		let store = self.store.clone();
		let item = target.parsed.clone();
		let opened = match tokio::task::spawn_blocking(move || store.open_item(job, &item)).await {
			Ok(Ok(Some(o))) => o,
			Ok(Ok(None)) => return plain(StatusCode::NOT_FOUND, "no such item"),
			Ok(Err(e)) => {
				tracing::warn!(target: LOG_RESULTS, job, "{e}");
				return plain(StatusCode::INTERNAL_SERVER_ERROR, "result unreadable");
			},
			Err(_) => return plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
		};
		let len = opened.len;
		deadline.allow(len);
		let file = tokio::io::AsyncReadExt::take(tokio::fs::File::from_std(opened.file), len);
		// The download counts until the body is dropped: sent, or its connection closed.
		let stream =
			tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024).map_ok(move |chunk| {
				let _counted = &download;
				Frame::data(chunk)
			});
		let mut response = Response::new(BodyExt::boxed(StreamBody::new(stream)));
		let headers = response.headers_mut();
		headers.insert(header::CONTENT_LENGTH, header::HeaderValue::from(len));
		headers.insert(
			header::CONTENT_TYPE,
			header::HeaderValue::from_static("application/octet-stream"),
		);
		headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
		response
	}
}

/// Binds `addr` and serves `store`'s results under `base` until `cancel` (in a task).
/// Returns the bound address.
pub async fn start(
	addr: SocketAddr,
	store: Arc<ResultStore>,
	base: &str,
	cancel: CancellationToken,
) -> std::io::Result<SocketAddr> {
	let listener = TcpListener::bind(addr).await?;
	let bound = listener.local_addr()?;
	let server = ResultServer::new(store, base);
	tokio::spawn(server.serve(listener, cancel));
	Ok(bound)
}

#[cfg(test)]
mod tests {
	use super::*;

	const NOW: u64 = 1_700_000_000;

	#[test]
	fn a_key_holds_a_few_slots_at_once_and_others_are_unaffected() {
		let slots = Slots::new(MAX_DOWNLOADS_PER_OWNER);
		let held: Vec<Slot<[u8; 32]>> =
			(0..MAX_DOWNLOADS_PER_OWNER).map(|_| slots.take([1; 32]).unwrap()).collect();
		assert!(slots.take([1; 32]).is_none(), "one more is refused");
		let other = slots.take([2; 32]).expect("another key is not affected");
		assert_eq!(slots.held(&[1; 32]), MAX_DOWNLOADS_PER_OWNER);
		drop(held);
		assert_eq!(slots.held(&[1; 32]), 0);
		assert!(slots.take([1; 32]).is_some(), "freed when dropped");
		drop(other);
		assert_eq!(slots.keys(), 0, "no entry left behind");
	}

	#[test]
	fn a_deadline_grows_with_the_item_sent() {
		let d = Deadline::new();
		let start = d.at();
		d.allow(10 * MIN_TRANSFER_RATE);
		assert_eq!(d.at() - start, Duration::from_secs(11));
	}

	fn alice() -> sr25519::Pair {
		sr25519::Pair::from_string("//Alice", None).unwrap()
	}

	fn header(pair: &sr25519::Pair, job: JobId, expires: u64, item: &str) -> String {
		let signature = pair.sign(&fetch_message(job, expires, item));
		format!("PoVM expires={expires},signature=0x{}", hex::encode(signature.0))
	}

	#[test]
	fn the_owners_signature_for_the_job_expiry_and_item_is_accepted() {
		let owner = alice().public().0;
		let h = header(&alice(), 7, NOW + 60, "files/summary.json");
		assert_eq!(authorize(Some(&h), 7, "files/summary.json", &owner, NOW), Ok(()));
		assert_eq!(authorize(Some(&h), 7, "files/summary.json", &owner, NOW + 60), Ok(()));
		let at_most = header(&alice(), 7, NOW + MAX_FETCH_SIGNATURE_SECONDS, "stdout");
		assert_eq!(authorize(Some(&at_most), 7, "stdout", &owner, NOW), Ok(()));
	}

	#[test]
	fn expired_or_far_future_signatures_are_refused() {
		let owner = alice().public().0;
		let h = header(&alice(), 7, NOW - 1, "stdout");
		assert_eq!(authorize(Some(&h), 7, "stdout", &owner, NOW), Err(AuthError::Expired));
		let h = header(&alice(), 7, NOW + MAX_FETCH_SIGNATURE_SECONDS + 1, "stdout");
		assert_eq!(authorize(Some(&h), 7, "stdout", &owner, NOW), Err(AuthError::TooFarAhead));
		assert_eq!(AuthError::Expired.status(), StatusCode::UNAUTHORIZED);
	}

	#[test]
	fn other_signers_jobs_and_items_are_refused() {
		let owner = alice().public().0;
		let bob = sr25519::Pair::from_string("//Bob", None).unwrap();
		let h = header(&bob, 7, NOW + 60, "stdout");
		assert_eq!(authorize(Some(&h), 7, "stdout", &owner, NOW), Err(AuthError::NotOwner));
		let h = header(&alice(), 7, NOW + 60, "stdout");
		assert_eq!(authorize(Some(&h), 8, "stdout", &owner, NOW), Err(AuthError::NotOwner));
		assert_eq!(authorize(Some(&h), 7, "stderr", &owner, NOW), Err(AuthError::NotOwner));
		// The expiry is signed too.
		let moved = h.replace(&format!("expires={}", NOW + 60), &format!("expires={}", NOW + 61));
		assert_eq!(authorize(Some(&moved), 7, "stdout", &owner, NOW), Err(AuthError::NotOwner));
		assert_eq!(AuthError::NotOwner.status(), StatusCode::FORBIDDEN);
	}

	#[test]
	fn malformed_headers_are_refused() {
		let owner = alice().public().0;
		assert_eq!(authorize(None, 7, "stdout", &owner, NOW), Err(AuthError::Missing));
		let good = header(&alice(), 7, NOW + 60, "stdout");
		let sig = good.split("signature=").nth(1).unwrap();
		let expires = NOW + 60;
		for bad in [
			String::new(),
			"Bearer x".into(),
			good.replace("PoVM ", "povm "),
			format!("PoVM expires={expires}"),
			format!("PoVM signature={sig}"),
			format!("PoVM expires=-1,signature={sig}"),
			format!("PoVM expires=+{expires},signature={sig}"),
			format!("PoVM expires=99999999999999999999999,signature={sig}"),
			format!("PoVM expires={expires},signature={}", &sig[2..]),
			format!("PoVM expires={expires},signature={}", &sig[..sig.len() - 2]),
			format!("PoVM expires={expires},signature={sig}00"),
			format!("PoVM expires={expires},signature={}zz", &sig[..sig.len() - 2]),
			format!("PoVM expires={expires},expires={expires},signature={sig}"),
			format!("PoVM expires={expires},signature={sig},x=1"),
		] {
			assert_eq!(
				authorize(Some(&bad), 7, "stdout", &owner, NOW),
				Err(AuthError::Malformed),
				"{bad:?}"
			);
		}
		// Spaces after the comma are fine.
		let spaced = good.replace(",signature", ", signature");
		assert_eq!(authorize(Some(&spaced), 7, "stdout", &owner, NOW), Ok(()));
	}

	#[test]
	fn paths_name_a_job_and_an_item() {
		let t = parse_path("/v1/jobs/42/files/a%20b.json", "").unwrap();
		assert_eq!((t.job, t.item.as_str()), (42, "files/a b.json"));
		assert_eq!(t.parsed, Item::File("a b.json".into()));
		assert_eq!(parse_path("/povm/v1/jobs/42/stdout", "/povm").unwrap().parsed, Item::Stdout);
		assert_eq!(parse_path("/v1/jobs/42/stdout", "/povm"), Err(PathError::NotFound));
		assert_eq!(parse_path("/v1/jobs/42/manifest", "").unwrap().parsed, Item::Manifest);
		assert_eq!(parse_path("/v1/jobs/42/meta", ""), Err(PathError::NotFound));
		assert_eq!(parse_path("/v1/jobs/42", ""), Err(PathError::NotFound));
		assert_eq!(parse_path("/metrics", ""), Err(PathError::NotFound));
		for bad in [
			"/v1/jobs/x/stdout",
			"/v1/jobs/-1/stdout",
			"/v1/jobs//stdout",
			"/v1/jobs/99999999999999999999999/stdout",
			"/v1/jobs/42/files/../meta",
			"/v1/jobs/42/files/%2E%2E",
			"/v1/jobs/42/files/a%2Fb",
			"/v1/jobs/42/files/a%00",
			"/v1/jobs/42/files/%zz",
			"/v1/jobs/42/files/%ff",
			"/v1/jobs/42/files/",
		] {
			assert_eq!(parse_path(bad, ""), Err(PathError::Malformed), "{bad}");
		}
	}
}

//! The result server over real HTTP: a stored result served to its owner's signed requests,
//! and refused otherwise.

use std::{net::SocketAddr, sync::Arc};

use codec::Encode;
use povm_primitives::results::fetch_message;
use povm_worker::{
	attestation::blake2_256,
	executor::{Execution, OutputFile, Usage},
	results::{server, unix_now, ResultStore},
};
use sp_core::{sr25519, Pair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

const JOB: u64 = 42;

fn exec() -> Execution {
	let file = |name: &str, content: Vec<u8>| OutputFile {
		name: name.into(),
		digest: blake2_256(&content),
		content,
	};
	Execution {
		exit_code: 0,
		flags: Default::default(),
		stdout: b"tally done\n".to_vec(),
		stderr: b"a warning\n".to_vec(),
		outputs: vec![
			file("summary.json", b"{\"heads\":3}".to_vec()),
			// Larger than one read of the server's stream.
			file("big data.bin", (0..300_000u32).map(|i| (i % 251) as u8).collect()),
		],
		checkpoints: vec![],
		usage: Usage::default(),
	}
}

fn pair(uri: &str) -> sr25519::Pair {
	sr25519::Pair::from_string(uri, None).unwrap()
}

fn auth(pair: &sr25519::Pair, job: u64, expires: u64, item: &str) -> String {
	let signature = pair.sign(&fetch_message(job, expires, item));
	format!("PoVM expires={expires},signature=0x{}", hex::encode(signature.0))
}

/// Sends one raw request; returns the status and the body.
async fn request(addr: SocketAddr, method: &str, path: &str, auth: Option<&str>) -> (u16, Vec<u8>) {
	let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
	let auth = auth.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
	let head =
		format!("{method} {path} HTTP/1.1\r\nHost: results\r\n{auth}Connection: close\r\n\r\n");
	stream.write_all(head.as_bytes()).await.unwrap();
	let mut response = Vec::new();
	stream.read_to_end(&mut response).await.unwrap();
	let end = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head") + 4;
	let head = String::from_utf8(response[..end].to_vec()).unwrap();
	let status = head[9..12].parse().unwrap();
	let body = response[end..].to_vec();
	if status == 200 {
		let length = head
			.lines()
			.find_map(|l| {
				l.to_ascii_lowercase().strip_prefix("content-length: ").map(str::to_owned)
			})
			.expect("a Content-Length");
		assert_eq!(length.trim().parse::<usize>().unwrap(), body.len());
		assert!(head.to_ascii_lowercase().contains("content-type: application/octet-stream"));
	}
	(status, body)
}

/// A store with the result of [`JOB`] owned by Alice, served under `base`.
async fn serve(base: &str) -> (tempfile::TempDir, SocketAddr, CancellationToken) {
	let dir = tempfile::tempdir().unwrap();
	let store = ResultStore::open(dir.path(), 3600, 64 << 20).unwrap();
	store.put(JOB, pair("//Alice").public().0, &exec(), unix_now()).unwrap();
	let cancel = CancellationToken::new();
	let addr = server::start("127.0.0.1:0".parse().unwrap(), Arc::new(store), base, cancel.clone())
		.await
		.unwrap();
	(dir, addr, cancel)
}

#[tokio::test]
async fn the_owner_gets_every_item_and_others_are_refused() {
	let (_dir, addr, cancel) = serve("").await;
	let alice = pair("//Alice");
	let expires = unix_now() + 300;
	let get = |item: &str, signer: &sr25519::Pair, expires: u64| {
		let header = auth(signer, JOB, expires, item);
		let path = format!("/v1/jobs/{JOB}/{}", item.replace(' ', "%20"));
		async move { request(addr, "GET", &path, Some(&header)).await }
	};
	let e = exec();
	assert_eq!(get("manifest", &alice, expires).await, (200, e.manifest().encode()));
	assert_eq!(get("stdout", &alice, expires).await, (200, e.stdout.clone()));
	assert_eq!(get("stderr", &alice, expires).await, (200, e.stderr.clone()));
	assert_eq!(get("files/summary.json", &alice, expires).await, (200, b"{\"heads\":3}".to_vec()));
	let (status, big) = get("files/big data.bin", &alice, expires).await;
	assert_eq!((status, blake2_256(&big)), (200, e.outputs[1].digest));
	// The served manifest matches the run's outcome.
	let (_, manifest) = get("manifest", &alice, expires).await;
	let manifest = povm_primitives::results::ResultManifest::decode_canonical(&manifest).unwrap();
	assert_eq!(manifest.outcome().result_digest(), e.result_digest());

	// Another signer.
	assert_eq!(get("stdout", &pair("//Bob"), expires).await.0, 403);
	// A signature for another item.
	let other = auth(&alice, JOB, expires, "stderr");
	assert_eq!(request(addr, "GET", &format!("/v1/jobs/{JOB}/stdout"), Some(&other)).await.0, 403);
	// Expired, too far ahead, missing, malformed.
	assert_eq!(get("stdout", &alice, unix_now() - 10).await.0, 401);
	assert_eq!(get("stdout", &alice, unix_now() + 3600).await.0, 401);
	assert_eq!(request(addr, "GET", &format!("/v1/jobs/{JOB}/stdout"), None).await.0, 401);
	let path = format!("/v1/jobs/{JOB}/stdout");
	assert_eq!(request(addr, "GET", &path, Some("PoVM nonsense")).await.0, 401);
	// Unknown item, unknown job, other routes, other methods.
	assert_eq!(get("files/absent.txt", &alice, expires).await.0, 404);
	assert_eq!(get("meta", &alice, expires).await.0, 404);
	let unknown = auth(&alice, 7, expires, "stdout");
	assert_eq!(request(addr, "GET", "/v1/jobs/7/stdout", Some(&unknown)).await.0, 404);
	assert_eq!(request(addr, "GET", "/metrics", None).await.0, 404);
	assert_eq!(request(addr, "POST", &path, None).await.0, 405);
	cancel.cancel();
}

#[tokio::test]
async fn paths_out_of_the_result_leak_nothing() {
	let (_dir, addr, cancel) = serve("").await;
	let alice = pair("//Alice");
	let expires = unix_now() + 300;
	for (path, item) in [
		(format!("/v1/jobs/{JOB}/files/../meta"), "files/../meta"),
		(format!("/v1/jobs/{JOB}/files/%2E%2E%2Fmeta"), "files/../meta"),
		(format!("/v1/jobs/{JOB}/files/.."), "files/.."),
		(format!("/v1/jobs/{JOB}/files/..%2F..%2F..%2Fetc%2Fpasswd"), "files/../../../etc/passwd"),
		(format!("/v1/jobs/{JOB}/x/../stdout"), "x/../stdout"),
	] {
		let header = auth(&alice, JOB, expires, item);
		let (status, body) = request(addr, "GET", &path, Some(&header)).await;
		assert!(matches!(status, 400 | 404), "{path}: {status}");
		assert!(body.len() < 100 && !body.contains(&0), "{path}: {body:?}");
	}
	cancel.cancel();
}

#[tokio::test]
async fn the_base_path_of_the_public_url_is_accepted() {
	let (_dir, addr, cancel) = serve("/povm/").await;
	let alice = pair("//Alice");
	let header = auth(&alice, JOB, unix_now() + 60, "stdout");
	let (status, body) =
		request(addr, "GET", &format!("/povm/v1/jobs/{JOB}/stdout"), Some(&header)).await;
	assert_eq!((status, body), (200, exec().stdout));
	assert_eq!(request(addr, "GET", &format!("/v1/jobs/{JOB}/stdout"), Some(&header)).await.0, 404);
	cancel.cancel();
}

#[tokio::test]
async fn an_owner_that_does_not_read_holds_only_its_own_few_downloads() {
	// A 32 MiB file: more than loopback's socket buffers, so a download that is not read
	// stays open (its deadline is minutes away at the slowest rate served).
	const BIG: u64 = 43;
	let dir = tempfile::tempdir().unwrap();
	let store = ResultStore::open(dir.path(), 3600, 256 << 20).unwrap();
	let mut big = exec();
	let content = vec![7u8; 32 << 20];
	big.outputs =
		vec![OutputFile { name: "huge.bin".into(), digest: blake2_256(&content), content }];
	let (alice, bob) = (pair("//Alice"), pair("//Bob"));
	store.put(BIG, alice.public().0, &big, unix_now()).unwrap();
	store.put(JOB, bob.public().0, &exec(), unix_now()).unwrap();
	let cancel = CancellationToken::new();
	let addr = server::start("127.0.0.1:0".parse().unwrap(), Arc::new(store), "", cancel.clone())
		.await
		.unwrap();
	let expires = unix_now() + 60;
	let path = format!("/v1/jobs/{BIG}/files/huge.bin");
	let item = "files/huge.bin";
	// Alice opens the most downloads she may and reads only their heads.
	let mut stalled = Vec::new();
	for _ in 0..server::MAX_DOWNLOADS_PER_OWNER {
		let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
		let head = format!(
			"GET {path} HTTP/1.1\r\nHost: results\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
			auth(&alice, BIG, expires, item)
		);
		stream.write_all(head.as_bytes()).await.unwrap();
		let mut first = [0u8; 12];
		stream.read_exact(&mut first).await.unwrap();
		assert_eq!(&first[9..12], b"200");
		stalled.push(stream);
	}
	// One more of hers is refused; Bob is served meanwhile.
	let (status, body) = request(addr, "GET", &path, Some(&auth(&alice, BIG, expires, item))).await;
	assert_eq!(status, 429, "{}", String::from_utf8_lossy(&body));
	let bobs = auth(&bob, JOB, expires, "stdout");
	assert_eq!(request(addr, "GET", &format!("/v1/jobs/{JOB}/stdout"), Some(&bobs)).await.0, 200);
	// Once she lets one go, she may download again.
	drop(stalled.pop());
	let again = auth(&alice, BIG, expires, "manifest");
	let mut status = 0;
	for _ in 0..50 {
		status = request(addr, "GET", &format!("/v1/jobs/{BIG}/manifest"), Some(&again)).await.0;
		if status == 200 {
			break
		}
		tokio::time::sleep(std::time::Duration::from_millis(100)).await;
	}
	assert_eq!(status, 200, "a closed download frees its place");
	cancel.cancel();
}

#[tokio::test]
async fn one_address_holds_a_few_connections_not_the_whole_server() {
	let (_dir, addr, cancel) = serve("").await;
	// Idle connections (no request head yet) from one address, up to its limit.
	let mut idle = Vec::new();
	for _ in 0..server::MAX_CONNECTIONS_PER_PEER {
		idle.push(tokio::net::TcpStream::connect(addr).await.unwrap());
	}
	// Give the server time to accept them all.
	tokio::time::sleep(std::time::Duration::from_millis(300)).await;
	// One more from the same address is closed without an answer.
	let mut extra = tokio::net::TcpStream::connect(addr).await.unwrap();
	let _ = extra.write_all(b"GET /v1/jobs/42/stdout HTTP/1.1\r\nHost: r\r\n\r\n").await;
	let mut answer = Vec::new();
	let _ = extra.read_to_end(&mut answer).await;
	assert!(answer.is_empty(), "answered: {}", String::from_utf8_lossy(&answer));
	// Once they go, the address is served again.
	drop(idle);
	let expires = unix_now() + 60;
	let alices = auth(&pair("//Alice"), JOB, expires, "stdout");
	let mut status = 0;
	for _ in 0..50 {
		tokio::time::sleep(std::time::Duration::from_millis(100)).await;
		let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
		let head = format!(
			"GET /v1/jobs/{JOB}/stdout HTTP/1.1\r\nHost: r\r\nAuthorization: {alices}\r\nConnection: close\r\n\r\n"
		);
		let _ = stream.write_all(head.as_bytes()).await;
		let mut response = Vec::new();
		let _ = stream.read_to_end(&mut response).await;
		if response.starts_with(b"HTTP/1.1 200") {
			status = 200;
			break
		}
	}
	assert_eq!(status, 200);
	cancel.cancel();
}

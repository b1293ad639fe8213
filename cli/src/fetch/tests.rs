//! [`fetch_and_verify`] against tiny local HTTP servers: one that serves the agreed result,
//! one that tampers with a file, one that is down.

use std::collections::HashMap;

use codec::Encode;
use povm_primitives::results::fetch_message;
use sp_core::Pair;
use sp_crypto_hashing::blake2_256;
use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::TcpListener,
};

use super::*;

const JOB: JobId = 42;

/// The result the providers agreed on: its manifest and each item's bytes by path.
fn result() -> (ResultManifest, HashMap<String, Vec<u8>>) {
	let files: Vec<(&str, &[u8])> =
		vec![("pi.json", b"{\"pi\":3.14}"), ("z.bin", &[0u8, 1, 2, 255])];
	let manifest = ResultManifest {
		exit_code: 0,
		timed_out: false,
		oom_killed: false,
		truncated: false,
		stdout_digest: blake2_256(b"3.14\n"),
		stderr_digest: blake2_256(b""),
		files: files.iter().map(|(n, c)| (n.as_bytes().to_vec(), blake2_256(c))).collect(),
	};
	let mut items = HashMap::new();
	items.insert("manifest".to_owned(), manifest.encode());
	items.insert("stdout".to_owned(), b"3.14\n".to_vec());
	items.insert("stderr".to_owned(), Vec::new());
	for (name, content) in files {
		items.insert(format!("files/{name}"), content.to_vec());
	}
	(manifest, items)
}

/// Serves `items` under `/base/v1/jobs/{JOB}/…` to requests signed by `owner`, one request
/// per connection; answers 401 to a bad signature and 404 to an unknown item. Returns the
/// base URL.
async fn serve(items: HashMap<String, Vec<u8>>, owner: sr25519::Public) -> String {
	let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
	let addr = listener.local_addr().unwrap();
	tokio::spawn(async move {
		loop {
			let Ok((mut stream, _)) = listener.accept().await else { return };
			let items = items.clone();
			tokio::spawn(async move {
				let mut request = Vec::new();
				let mut buf = [0u8; 1024];
				while !request.windows(4).any(|w| w == b"\r\n\r\n") {
					match stream.read(&mut buf).await {
						Ok(0) | Err(_) => return,
						Ok(n) => request.extend_from_slice(&buf[..n]),
					}
				}
				let text = String::from_utf8_lossy(&request).into_owned();
				let path = text.split_whitespace().nth(1).unwrap_or_default().to_owned();
				let auth = text
					.lines()
					.find_map(|l| {
						l.strip_prefix("authorization: ")
							.or_else(|| l.strip_prefix("Authorization: "))
					})
					.unwrap_or_default()
					.to_owned();
				let prefix = format!("/base/v1/jobs/{JOB}/");
				let item = path.strip_prefix(&prefix).unwrap_or_default().to_owned();
				let (status, body) = if !authorised(&auth, &item, &owner) {
					("401 Unauthorized", Vec::new())
				} else if let Some(body) = items.get(&item) {
					("200 OK", body.clone())
				} else {
					("404 Not Found", Vec::new())
				};
				let head = format!(
					"HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
					body.len()
				);
				let _ = stream.write_all(head.as_bytes()).await;
				let _ = stream.write_all(&body).await;
				let _ = stream.shutdown().await;
			});
		}
	});
	format!("http://{addr}/base/")
}

/// Whether `header` is the owner's valid, unexpired signature for `item` of [`JOB`].
fn authorised(header: &str, item: &str, owner: &sr25519::Public) -> bool {
	let Some(rest) = header.trim().strip_prefix("PoVM expires=") else { return false };
	let Some((expires, signature)) = rest.split_once(",signature=0x") else { return false };
	let Ok(expires) = expires.parse::<u64>() else { return false };
	let Some(bytes) = hex::decode(signature).ok().and_then(|b| <[u8; 64]>::try_from(b).ok()) else {
		return false;
	};
	let now = now_secs();
	expires >= now &&
		expires <= now + MAX_FETCH_SIGNATURE_SECONDS &&
		sr25519::Pair::verify(
			&sr25519::Signature::from_raw(bytes),
			fetch_message(JOB, expires, item),
			owner,
		)
}

fn service(name: &str, url: String) -> Service {
	Service { provider: name.into(), url }
}

#[tokio::test]
async fn the_agreed_result_is_downloaded_and_verified() {
	let (owner, _) = sr25519::Pair::generate();
	let (manifest, items) = result();
	let url = serve(items.clone(), owner.public()).await;
	let out = tempfile::tempdir().unwrap();
	let report = fetch_and_verify(
		&[service("good", url)],
		JOB,
		&manifest.outcome(),
		&owner,
		out.path(),
		&Limits::default(),
	)
	.await
	.expect("the good provider serves the agreed result");
	assert_eq!(report.manifest, manifest);
	assert!(report.failures.is_empty());
	let written: Vec<&str> = report.items.iter().map(|f| f.item.as_str()).collect();
	assert_eq!(written, ["stdout", "stderr", "files/pi.json", "files/z.bin"]);
	for item in written {
		let on_disk = std::fs::read(out.path().join(item)).unwrap();
		assert_eq!(&on_disk, &items[item], "{item}");
	}
	// No temporary file left.
	let leftovers: Vec<_> = std::fs::read_dir(out.path().join("files"))
		.unwrap()
		.map(|e| e.unwrap().file_name())
		.filter(|n| n.to_string_lossy().ends_with(".povm-part"))
		.collect();
	assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn a_tampered_file_is_refused_and_the_next_provider_serves_it() {
	let (owner, _) = sr25519::Pair::generate();
	let (manifest, items) = result();
	let mut tampered = items.clone();
	tampered.insert("files/pi.json".into(), b"{\"pi\":3.15}".to_vec());
	let bad = serve(tampered, owner.public()).await;
	let good = serve(items.clone(), owner.public()).await;
	let out = tempfile::tempdir().unwrap();
	let outcome = manifest.outcome();

	// Alone, the tampering provider fails, and its file is not left under the real name.
	let err = fetch_and_verify(
		&[service("bad", bad.clone())],
		JOB,
		&outcome,
		&owner,
		out.path(),
		&Limits::default(),
	)
	.await
	.unwrap_err();
	let text = err.to_string();
	assert!(text.contains("bad: files/pi.json: content hashes to"), "{text}");
	assert!(!out.path().join("files/pi.json").exists());
	assert!(!out.path().join("files/.pi.json.povm-part").exists());

	// With a good provider after it (and one that is down), the result is complete; the
	// failures are named.
	let down = {
		let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
		let addr = listener.local_addr().unwrap();
		drop(listener);
		format!("http://{addr}")
	};
	let report = fetch_and_verify(
		&[service("down", down), service("bad", bad), service("good", good)],
		JOB,
		&outcome,
		&owner,
		out.path(),
		&Limits::default(),
	)
	.await
	.expect("the good provider completes the result");
	let failed: Vec<&str> = report.failures.iter().map(|f| f.provider.as_str()).collect();
	assert_eq!(failed, ["down", "bad"]);
	assert!(report.failures[0].error.to_string().contains("unreachable"));
	assert_eq!(std::fs::read(out.path().join("files/pi.json")).unwrap(), items["files/pi.json"]);
	// What the bad provider served right was kept; only the rest came from the good one.
	let from_good: Vec<&str> = report
		.items
		.iter()
		.filter(|f| f.provider == "good")
		.map(|f| f.item.as_str())
		.collect();
	assert_eq!(from_good, ["files/pi.json", "files/z.bin"]);
}

#[tokio::test]
async fn a_manifest_for_another_outcome_or_another_signer_is_refused() {
	let (owner, _) = sr25519::Pair::generate();
	let (manifest, items) = result();
	let url = serve(items, owner.public()).await;
	let out = tempfile::tempdir().unwrap();
	// The chain's outcome says the run timed out: the served manifest is not the agreed one.
	let other = RunOutcome { timed_out: true, ..manifest.outcome() };
	let err = fetch_and_verify(
		&[service("p", url.clone())],
		JOB,
		&other,
		&owner,
		out.path(),
		&Limits::default(),
	)
	.await
	.unwrap_err();
	assert!(err.to_string().contains("not the agreed one"), "{err}");
	// Someone else's key: the server refuses (401).
	let (stranger, _) = sr25519::Pair::generate();
	let err = fetch_and_verify(
		&[service("p", url)],
		JOB,
		&manifest.outcome(),
		&stranger,
		out.path(),
		&Limits::default(),
	)
	.await
	.unwrap_err();
	assert!(err.to_string().contains("manifest: HTTP status 401"), "{err}");
}

#[tokio::test]
async fn a_body_past_its_bound_is_refused() {
	let (owner, _) = sr25519::Pair::generate();
	let (manifest, items) = result();
	let url = serve(items, owner.public()).await;
	let out = tempfile::tempdir().unwrap();
	let limits = Limits { file_bytes: 4, ..Limits::default() };
	let err = fetch_and_verify(
		&[service("p", url)],
		JOB,
		&manifest.outcome(),
		&owner,
		out.path(),
		&limits,
	)
	.await
	.unwrap_err();
	assert!(err.to_string().contains("files/pi.json: more than 4 bytes"), "{err}");
}

#[test]
fn item_urls_keep_the_base_path_and_encode_names() {
	let base = parse_base("http://127.0.0.1:8080/povm/").unwrap();
	assert_eq!(
		item_url(&base, 7, "manifest").as_str(),
		"http://127.0.0.1:8080/povm/v1/jobs/7/manifest"
	);
	let base = parse_base("https://r.example.org").unwrap();
	assert_eq!(
		item_url(&base, 7, "files/a b#.txt").as_str(),
		"https://r.example.org/v1/jobs/7/files/a%20b%23.txt"
	);
	for bad in ["ftp://x.org", "http://u:p@x.org", "http://x.org/?q=1", "not a url"] {
		assert!(parse_base(bad).is_err(), "{bad}");
	}
}

//! A one-file HTTP server on a loopback port, started by a test: what a job's input URL names.

use std::sync::{
	atomic::{AtomicUsize, Ordering},
	Arc,
};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server answering every request with one file; it stops when dropped.
pub struct FileServer {
	/// `http://127.0.0.1:<port>/<name>`.
	pub url: String,
	requests: Arc<AtomicUsize>,
	task: tokio::task::JoinHandle<()>,
}

impl FileServer {
	/// Serves `body` as `/<name>` (and at any other path) with `200 OK` and its length.
	pub async fn start(name: &str, body: Vec<u8>) -> std::io::Result<Self> {
		let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
		let url = format!("http://{}/{name}", listener.local_addr()?);
		let requests = Arc::new(AtomicUsize::new(0));
		let counter = requests.clone();
		let task = tokio::spawn(async move {
			while let Ok((mut stream, _)) = listener.accept().await {
				let (body, counter) = (body.clone(), counter.clone());
				tokio::spawn(async move {
					let mut head = Vec::new();
					let mut buf = [0u8; 1024];
					while !head.windows(4).any(|w| w == b"\r\n\r\n") {
						match stream.read(&mut buf).await {
							Ok(0) | Err(_) => return,
							Ok(n) => head.extend_from_slice(&buf[..n]),
						}
					}
					counter.fetch_add(1, Ordering::SeqCst);
					let reply = format!(
						"HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
						body.len()
					);
					let _ = stream.write_all(reply.as_bytes()).await;
					let _ = stream.write_all(&body).await;
				});
			}
		});
		Ok(Self { url, requests, task })
	}

	/// Requests answered so far.
	pub fn requests(&self) -> usize {
		self.requests.load(Ordering::SeqCst)
	}
}

impl Drop for FileServer {
	fn drop(&mut self) {
		self.task.abort();
	}
}

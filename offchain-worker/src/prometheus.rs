//! Prometheus metrics of the worker and a minimal HTTP endpoint serving them.

use std::{net::SocketAddr, sync::Arc};

use prometheus::{Encoder, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};
use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::TcpListener,
};
use tokio_util::sync::CancellationToken;

use crate::prelude::*;

/// The worker's metrics.
#[derive(Clone)]
pub struct Metrics {
	registry: Registry,
	/// Jobs started.
	pub jobs_started: IntCounter,
	/// Jobs whose run ended with exit code 0 and no flags.
	pub jobs_succeeded: IntCounter,
	/// Jobs whose run failed, timed out, ran out of memory, or could not run.
	pub jobs_failed: IntCounter,
	/// VM-milliseconds of wall time used by jobs.
	pub vm_milliseconds: IntCounter,
	/// CPU milliseconds used by job containers (the executor's cgroup reading, before the cap
	/// the commitment applies).
	pub job_cpu_milliseconds: IntCounter,
	/// Estimated energy of jobs, µWh (Green Algorithms model with the offer's figures).
	pub energy_uwh: IntCounter,
	/// Transactions submitted, by call and outcome.
	pub submissions: IntCounterVec,
	/// RPC calls, by method and outcome.
	pub rpc_calls: IntCounterVec,
	/// Errors, by kind.
	pub errors: IntCounterVec,
	/// Last finalised block seen.
	pub finalized_block: IntGauge,
	/// Reconnections to the node.
	pub reconnects: IntCounter,
	/// Lottery draws evaluated with tickets, by result (`won`, `lost`).
	pub lottery_draws: IntCounterVec,
	/// 1 while Docker answers, 0 while it does not (the worker then takes no work).
	pub docker_up: IntGauge,
	/// 1 while `run` serves assignments (registered, Docker reached, following heads).
	pub serving: IntGauge,
	/// Jobs declined (not run), by reason (`beyond_caps`, `not_utf8`, `too_late`).
	pub jobs_declined: IntCounterVec,
	/// Results of the worker's tasks, by task (`run`, `commit_result`, ...) and outcome (`ok`,
	/// `transient`, `failed`).
	pub task_results: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.write_str("Metrics")
	}
}

impl Default for Metrics {
	fn default() -> Self {
		Self::new()
	}
}

impl Metrics {
	/// Fresh metrics in their own registry.
	pub fn new() -> Self {
		let registry = Registry::new();
		let counter = |name: &str, help: &str| {
			let c = IntCounter::new(format!("povm_worker_{name}"), help).expect("valid metric");
			registry.register(Box::new(c.clone())).expect("unique metric");
			c
		};
		let vec = |name: &str, help: &str, labels: &[&str]| {
			let c = IntCounterVec::new(Opts::new(format!("povm_worker_{name}"), help), labels)
				.expect("valid metric");
			registry.register(Box::new(c.clone())).expect("unique metric");
			c
		};
		let jobs_started = counter("jobs_started_total", "Jobs started");
		let jobs_succeeded = counter("jobs_succeeded_total", "Jobs that exited 0 without flags");
		let jobs_failed = counter("jobs_failed_total", "Jobs that failed or could not run");
		let vm_milliseconds = counter("vm_milliseconds_total", "Wall-clock VM milliseconds");
		let job_cpu_milliseconds =
			counter("job_cpu_milliseconds_total", "CPU milliseconds used by job containers");
		let energy_uwh = counter("energy_uwh_total", "Estimated job energy in microwatt-hours");
		let submissions = vec("submissions_total", "Transactions submitted", &["call", "outcome"]);
		let rpc_calls = vec("rpc_calls_total", "RPC calls", &["method", "outcome"]);
		let errors = vec("errors_total", "Errors by kind", &["kind"]);
		let reconnects = counter("reconnects_total", "Reconnections to the node");
		let lottery_draws =
			vec("lottery_draws_total", "Lottery draws evaluated with tickets", &["result"]);
		let jobs_declined = vec("jobs_declined_total", "Jobs declined, by reason", &["reason"]);
		let task_results =
			vec("task_results_total", "Results of the worker's tasks", &["task", "outcome"]);
		let finalized_block =
			IntGauge::new("povm_worker_finalized_block", "Last finalised block").expect("valid");
		registry.register(Box::new(finalized_block.clone())).expect("unique metric");
		let docker_up =
			IntGauge::new("povm_worker_docker_up", "1 while Docker answers").expect("valid");
		docker_up.set(1);
		registry.register(Box::new(docker_up.clone())).expect("unique metric");
		let serving = IntGauge::new("povm_worker_serving", "1 while the worker serves assignments")
			.expect("valid");
		registry.register(Box::new(serving.clone())).expect("unique metric");
		Self {
			registry,
			jobs_started,
			jobs_succeeded,
			jobs_failed,
			vm_milliseconds,
			job_cpu_milliseconds,
			energy_uwh,
			submissions,
			rpc_calls,
			errors,
			finalized_block,
			reconnects,
			lottery_draws,
			docker_up,
			serving,
			jobs_declined,
			task_results,
		}
	}

	/// Counts an error of `kind`.
	pub fn error(&self, kind: &str) {
		self.errors.with_label_values(&[kind]).inc();
	}

	/// The metrics in the Prometheus text format.
	pub fn render(&self) -> String {
		let mut buf = Vec::new();
		TextEncoder::new()
			.encode(&self.registry.gather(), &mut buf)
			.expect("text encoding");
		String::from_utf8(buf).expect("utf-8 metrics")
	}
}

/// Serves `GET <anything>` with the metrics on `addr` until `cancel`.
pub async fn serve(
	addr: SocketAddr,
	metrics: Arc<Metrics>,
	cancel: CancellationToken,
) -> std::io::Result<()> {
	let listener = TcpListener::bind(addr).await?;
	tracing::info!(target: LOG_METRICS, %addr, "serving Prometheus metrics");
	loop {
		let (mut stream, _) = tokio::select! {
			_ = cancel.cancelled() => return Ok(()),
			accepted = listener.accept() => match accepted {
				Ok(s) => s,
				Err(e) => {
					tracing::warn!(target: LOG_METRICS, "accept failed: {e}");
					continue;
				},
			},
		};
		let metrics = metrics.clone();
		tokio::spawn(async move {
			let mut req = [0u8; 2048];
			let _ = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut req))
				.await;
			let body = metrics.render();
			let head = format!(
				"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
				body.len()
			);
			let _ = stream.write_all(head.as_bytes()).await;
			let _ = stream.write_all(body.as_bytes()).await;
			let _ = stream.shutdown().await;
		});
	}
}

/// Estimated energy of a run in µWh: (CPU-seconds × W per core + GiB-seconds × 0.3725 W) ×
/// PUE, the Green Algorithms model.
pub fn energy_uwh(cpu_ms: u64, memory_mib_s: u64, core_milliwatts: u32, pue_permille: u32) -> u64 {
	// mW·ms = µJ; MiB·s × 0.3725 W / 1024 = W·s = J.
	let cpu_uj = cpu_ms as u128 * core_milliwatts as u128;
	let mem_uj = memory_mib_s as u128 * 372_500 / 1024;
	let uj = (cpu_uj + mem_uj) * pue_permille as u128 / 1000;
	// 1 µWh = 3.6 mJ = 3600 µJ.
	(uj / 3600) as u64
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn metrics_render_in_text_format() {
		let m = Metrics::new();
		m.jobs_started.inc();
		m.job_cpu_milliseconds.inc_by(1_250);
		m.submissions.with_label_values(&["commit_result", "in_block"]).inc();
		let text = m.render();
		assert!(text.contains("povm_worker_jobs_started_total 1"));
		assert!(text.contains("povm_worker_job_cpu_milliseconds_total 1250"));
		assert!(text.contains(
			"povm_worker_submissions_total{call=\"commit_result\",outcome=\"in_block\"} 1"
		));
	}

	#[test]
	fn energy_follows_green_algorithms() {
		// One core-hour at 10 W with PUE 1.0 is 10 Wh = 10^7 µWh.
		assert_eq!(energy_uwh(3_600_000, 0, 10_000, 1000), 10_000_000);
		// One GiB-hour of memory is 0.3725 Wh.
		assert_eq!(energy_uwh(0, 1024 * 3600, 10_000, 1000), 372_500);
	}

	#[tokio::test]
	async fn endpoint_serves_the_metrics() {
		let m = Arc::new(Metrics::new());
		let cancel = CancellationToken::new();
		let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
		let addr = listener.local_addr().unwrap();
		drop(listener);
		let task = tokio::spawn(serve(addr, m.clone(), cancel.clone()));
		tokio::time::sleep(std::time::Duration::from_millis(100)).await;
		let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
		s.write_all(b"GET /metrics HTTP/1.1\r\n\r\n").await.unwrap();
		let mut out = String::new();
		s.read_to_string(&mut out).await.unwrap();
		assert!(out.starts_with("HTTP/1.1 200 OK"));
		assert!(out.contains("povm_worker_jobs_failed_total 0"));
		cancel.cancel();
		task.await.unwrap().unwrap();
	}
}

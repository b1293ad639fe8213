//! Scale benchmark (issue 13, "How it is measured"): the parts a mock runtime measures. The
//! queue holds a million jobs and the cost of each queue operation is timed there. Figures go
//! to `bench/scale.md` and `bench/scale.json` at the repository root; the registry's
//! figures and the draw's fairness come from vm-proof's `registry_bench`.
//!
//! Run it with (about a minute in release; ignored by the default `cargo test`):
//!
//! ```text
//! cargo test --release -p pallet-job-queue --features runtime-benchmarks scale_bench -- --ignored --nocapture
//! ```
//!
//! Nothing here stands in for the queue: jobs go through `submit_job`, `cancel_job` and the
//! hook's own functions on the real storage; only the provider registry is the mock's (the
//! figures of a try are the queue's side of it). The times are native, on this machine: they
//! show how a cost changes with the queue's size, while the charged weights (from
//! `weights.rs`, measured on the runtime by `scripts/bench-weights.sh`) are what a block pays.

use crate::{mock::*, pallet::*, types::*, WeightInfo};
use frame_support::{assert_ok, weights::WeightMeter};
use std::{fmt::Write as _, time::Instant};

/// The command that writes the bench files (named in `docs/testing.md`).
const COMMAND: &str = "cargo test --release -p pallet-job-queue --features runtime-benchmarks \
	scale_bench -- --ignored --nocapture";
/// Jobs queued before the operations are timed.
const QUEUED: u32 = 1_000_000;
/// Operations of each kind timed at that size.
const SAMPLE: u32 = 1_000;
/// The customer submitting every job.
const CUSTOMER: AccountId = 77;
/// The runtime's `MaxCandidates`: every try is charged a draw among this many providers.
const RUNTIME_MAX_CANDIDATES: u32 = 100_000;
/// The name of a two-replica try's weight in the figures.
const TRY: &str = "assign_job(100000 providers, 2 replicas)";

/// Submit a one-replica job at `price` as the customer.
fn submit(price: u64) -> JobId {
	crate::tests::submit(CUSTOMER, crate::tests::spec(1, 1, 1, price))
}

/// Bytes (keys and values) the job queue holds in storage.
fn pallet_bytes() -> u64 {
	let prefix = sp_io::hashing::twox_128(b"JobQueue").to_vec();
	let mut key = prefix.clone();
	let mut total = 0u64;
	while let Some(next) = sp_io::storage::next_key(&key) {
		if !next.starts_with(&prefix) {
			break;
		}
		let value = sp_io::storage::get(&next).map_or(0, |v| v.len());
		total += (next.len() + value) as u64;
		key = next;
	}
	total
}

/// A xorshift generator: the prices of the queued jobs.
struct Prices(u64);
impl Prices {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 << 13;
		self.0 ^= self.0 >> 7;
		self.0 ^= self.0 << 17;
		1 + self.0 % 100_000
	}
}

/// Microseconds per operation of `n` taking `elapsed`.
fn per_op(elapsed: std::time::Duration, n: u32) -> f64 {
	elapsed.as_secs_f64() * 1e6 / f64::from(n.max(1))
}

struct QueueFigures {
	queued: u32,
	fill_seconds: f64,
	bytes_per_job: u64,
	levels: u32,
	submit_us: f64,
	cancel_us: f64,
	failed_try_us: f64,
	retry_us: f64,
	expire_us: f64,
	assign_us: f64,
}

fn queue_figures() -> QueueFigures {
	QueueBound::set(QUEUED + 4 * SAMPLE);
	let mut out = None;
	ExtBuilder::default().endow(CUSTOMER, u64::MAX / 4).build().execute_with(|| {
		// A job's own bytes: the second job at a level (the level's bounds and the bitmaps
		// exist already).
		submit(500);
		let before = pallet_bytes();
		submit(500);
		let bytes_per_job = pallet_bytes() - before;

		let mut prices = Prices(0x9e37_79b9_7f4a_7c15);
		let started = Instant::now();
		for i in 2..QUEUED {
			submit(prices.next());
			if i % 10_000 == 0 {
				System::reset_events();
			}
		}
		let fill_seconds = started.elapsed().as_secs_f64();
		assert_eq!(Counters::<Test>::get().queued, QUEUED);

		let started = Instant::now();
		let fresh: Vec<JobId> = (0..SAMPLE).map(|_| submit(prices.next())).collect();
		let submit_us = per_op(started.elapsed(), SAMPLE);

		let started = Instant::now();
		for id in &fresh {
			assert_ok!(JobQueue::cancel_job(RuntimeOrigin::signed(CUSTOMER), *id));
		}
		let cancel_us = per_op(started.elapsed(), SAMPLE);
		System::reset_events();

		// Failed tries: no provider is registered, so each try sends its job to the retry
		// agenda (the most expensive levels first).
		let now = 2u64;
		System::set_block_number(now);
		AgendaCursor::<Test>::put(now);
		RetryCursor::<Test>::put(now);
		// The mock's database weights are zero: the meter allows exactly SAMPLE tries (each
		// starts with its most left and is charged a draw that met nobody lapsed).
		let mut meter = WeightMeter::with_limit(
			<() as WeightInfo>::service_queue_base()
				.saturating_add(JobQueue::tried_weight(1, 0).saturating_mul(u64::from(SAMPLE - 1)))
				.saturating_add(JobQueue::try_weight(1)),
		);
		let started = Instant::now();
		JobQueue::service_queue(now, &mut meter);
		let elapsed = started.elapsed();
		let failed = Retrying::<Test>::iter_prefix(now + 1).count() as u32;
		assert_eq!(failed, SAMPLE, "{failed} tries");
		let failed_try_us = per_op(elapsed, failed);

		let mut meter = WeightMeter::new();
		let started = Instant::now();
		assert!(JobQueue::retry_due(now + 1, &mut meter));
		let retry_us = per_op(started.elapsed(), failed);

		// Expiry: the queued jobs all expire at block 1 + queue_timeout; time a sample.
		let due = 1 + Params::<Test>::get().queue_timeout;
		let mut meter = WeightMeter::with_limit(
			<() as WeightInfo>::expire_job().saturating_mul(u64::from(SAMPLE)),
		);
		let started = Instant::now();
		JobQueue::expire_due(due, &mut meter);
		let expire_us = per_op(started.elapsed(), SAMPLE);
		assert_eq!(Counters::<Test>::get().queued, QUEUED - SAMPLE);
		System::reset_events();

		// Successful tries: ten providers with room for every sample job.
		for who in 0..10 {
			add_provider(
				500 + who,
				sp_runtime::Perbill::from_percent(50),
				Resources { millicores: 1000, memory_mib: 1024, max_seconds: 3600 },
				SAMPLE,
			);
		}
		let mut params = Params::<Test>::get();
		params.max_assignments_per_block = SAMPLE;
		assert_ok!(JobQueue::set_params(RuntimeOrigin::root(), params));
		let before = Counters::<Test>::get().queued;
		let mut meter = WeightMeter::new();
		let started = Instant::now();
		JobQueue::service_queue(now + 2, &mut meter);
		let assigned = before - Counters::<Test>::get().queued;
		assert_eq!(assigned, SAMPLE);
		let assign_us = per_op(started.elapsed(), assigned);

		out = Some(QueueFigures {
			queued: QUEUED,
			fill_seconds,
			bytes_per_job,
			levels: Levels::<Test>::iter_keys().count() as u32,
			submit_us,
			cancel_us,
			failed_try_us,
			retry_us,
			expire_us,
			assign_us,
		});
	});
	out.expect("figures")
}

#[test]
#[ignore = "the scale benchmark writes bench/scale.{md,json}: run it with --ignored"]
fn scale_bench() {
	let started = Instant::now();
	let q = queue_figures();
	println!(
		"queue of {}: filled in {:.1} s; submit {:.1} µs, cancel {:.1} µs, failed try {:.1} µs, \
		 retry {:.1} µs, expiry {:.1} µs, assignment {:.1} µs; {} bytes per job, {} levels",
		q.queued,
		q.fill_seconds,
		q.submit_us,
		q.cancel_us,
		q.failed_try_us,
		q.retry_us,
		q.expire_us,
		q.assign_us,
		q.bytes_per_job,
		q.levels
	);
	let wall = started.elapsed().as_secs_f64();
	let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
	let bench = root.join("bench");
	std::fs::create_dir_all(&bench).expect("bench directory");
	let existing = std::fs::read_to_string(bench.join("scale.json")).ok();
	std::fs::write(bench.join("scale.json"), json(&q, wall, existing.as_deref()))
		.expect("write scale.json");
	std::fs::write(bench.join("scale.md"), markdown(&q, wall)).expect("write scale.md");
}

/// The charged weight of a call or hook step: `(ref_time ps, proof bytes)`.
fn weights() -> Vec<(&'static str, u64, u64)> {
	// The runtime's `MaxCandidates`, not the mock's: what a try is
	// charged on the chain.
	let c = RUNTIME_MAX_CANDIDATES;
	let w = |name, w: frame_support::weights::Weight| (name, w.ref_time(), w.proof_size());
	vec![
		w("submit_job", <() as WeightInfo>::submit_job(crate::SPEC_SIZE_STEPS)),
		w("submit_job_evicting", <() as WeightInfo>::submit_job_evicting(crate::SPEC_SIZE_STEPS)),
		w("cancel_job", <() as WeightInfo>::cancel_job()),
		w("service_queue_base", <() as WeightInfo>::service_queue_base()),
		w("expire_job", <() as WeightInfo>::expire_job()),
		w("retry_job", <() as WeightInfo>::retry_job()),
		w(TRY, <() as WeightInfo>::assign_job(c, 2)),
	]
}

/// The figures as JSON, merged into `existing` (the file's former contents): a field this
/// benchmark cannot measure (null here) keeps the value another benchmark wrote
/// (`scripts/bench-throughput.sh` writes the real node's throughput).
fn json(q: &QueueFigures, wall: f64, existing: Option<&str>) -> String {
	use serde_json::{json, Map, Value};
	let weights: Map<String, Value> = weights()
		.into_iter()
		.map(|(n, r, p)| (n.to_string(), json!({"ref_time_ps": r, "proof_bytes": p})))
		.collect();
	let mine = json!({
		"generated_by": COMMAND,
		"wall_seconds": (wall * 10.0).round() / 10.0,
		"queued_jobs": q.queued,
		"queue": {
			"queued_jobs": q.queued,
			"fill_seconds": (q.fill_seconds * 10.0).round() / 10.0,
			"state_bytes_per_job": q.bytes_per_job,
			"price_levels_occupied": q.levels,
			"native_us": {
				"submit_job": (q.submit_us * 100.0).round() / 100.0,
				"cancel_job": (q.cancel_us * 100.0).round() / 100.0,
				"failed_try": (q.failed_try_us * 100.0).round() / 100.0,
				"retry": (q.retry_us * 100.0).round() / 100.0,
				"expiry": (q.expire_us * 100.0).round() / 100.0,
				"assignment": (q.assign_us * 100.0).round() / 100.0,
			},
		},
		"weights": weights,
		"submit_job_per_block": null,
		"transfer_per_block": null,
		"replicas_assigned_per_block": null,
		"replicas_completed_per_block": null,
		"submit_to_verdict_blocks": null,
		"long_job_seconds": null,
	});
	let mut out: Map<String, Value> = existing
		.and_then(|text| serde_json::from_str::<Value>(text).ok())
		.and_then(|v| v.as_object().cloned())
		.unwrap_or_default();
	if let Value::Object(fields) = mine {
		for (k, v) in fields {
			if v.is_null() && out.get(&k).is_some_and(|old| !old.is_null()) {
				continue;
			}
			out.insert(k, v);
		}
	}
	let nulls: Vec<&String> = out.iter().filter(|(_, v)| v.is_null()).map(|(k, _)| k).collect();
	let note = format!(
		"null: not measured yet ({}); a mock runtime cannot measure a real node's throughput \
		 and latency or a long job",
		nulls.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
	);
	if nulls.is_empty() {
		out.remove("not_measured");
	} else {
		out.insert("not_measured".into(), Value::String(note));
	}
	format!("{}\n", serde_json::to_string_pretty(&Value::Object(out)).unwrap_or_default())
}

fn markdown(q: &QueueFigures, wall: f64) -> String {
	let mut s = String::new();
	let _ = writeln!(s, "# Scale benchmark (issue 13)\n");
	let _ = writeln!(
		s,
		"Generated by `{COMMAND}` ({wall:.0} s). Native times on this machine \
		(mock runtime, the job queue's real storage and code); the charged weights come from \
		`pallets/job-queue/src/weights.rs` (benchmarked on the runtime, RocksDB reference \
		database weights).\n"
	);
	let _ = writeln!(s, "## The queue at {} queued jobs\n", q.queued);
	let _ = writeln!(
		s,
		"Filled with `submit_job` in {:.1} s, at random prices of 1 to 100,000 \
		per VM-second ({} price levels occupied). State per queued job: {} bytes of the job \
		queue's storage (record, index entry, line place, level membership, expiry; keys \
		included).\n",
		q.fill_seconds, q.levels, q.bytes_per_job
	);
	let _ = writeln!(
		s,
		"| operation at {} queued | native µs each | charged ref_time (ps) | proof bytes |",
		q.queued
	);
	let _ = writeln!(s, "|---|---:|---:|---:|");
	let w = weights();
	let row = |s: &mut String, name: &str, us: f64, key: &str| {
		let (_, r, p) = w.iter().find(|(n, _, _)| *n == key).copied().unwrap_or(("", 0, 0));
		let _ = writeln!(s, "| {name} | {us:.2} | {r} | {p} |");
	};
	row(&mut s, "`submit_job`", q.submit_us, "submit_job");
	let _ = writeln!(
		s,
		"| `submit_job` into a full queue (evicting; charged up front, refunded \
		when nothing is evicted) | — | {} | {} |",
		w.iter().find(|(n, _, _)| *n == "submit_job_evicting").map_or(0, |x| x.1),
		w.iter().find(|(n, _, _)| *n == "submit_job_evicting").map_or(0, |x| x.2)
	);
	row(&mut s, "`cancel_job`", q.cancel_us, "cancel_job");
	row(&mut s, "a failed try (to the retry agenda)", q.failed_try_us, TRY);
	row(&mut s, "a retry (back in line)", q.retry_us, "retry_job");
	row(&mut s, "an expiry (refund)", q.expire_us, "expire_job");
	row(&mut s, "an assignment (mock registry of 10 providers)", q.assign_us, TRY);
	let _ = writeln!(
		s,
		"\nNo charged weight depends on the number of queued jobs (before spec \
		110 every `submit_job` read and wrote the whole queue, 29 KB of proof at its 1,000-job \
		bound). A try is charged a draw among the runtime's `MaxCandidates`, 100,000 providers, \
		for the replicas it draws, whatever the queue.\n"
	);
	let _ = writeln!(
		s,
		"## The registry\n\nThe draw among 100,000 providers and its fairness are measured by \
		`cargo test --release -p pallet-vm-proof registry_bench -- --ignored --nocapture` \
		(`bench/registry.md`, merged into the JSON).\n"
	);
	let _ = writeln!(s, "## Measured on real nodes (merged into the JSON)\n");
	let _ = writeln!(
		s,
		"A mock runtime cannot measure a real node's throughput and latency. A real node's \
		`submit_job` and `transfer_keep_alive` per block come from \
		`scripts/bench-throughput.sh` (`bench/throughput.md`), the replicas drawn and completed \
		per block from `scripts/bench-replicas.sh` (`bench/replicas.md`), submit-to-verdict \
		latency from `scripts/bench-latency.sh` (`bench/latency.md`) and a long job from \
		`scripts/bench-long-job.sh` (`bench/long-job.md`)."
	);
	s
}

//! Worker overhead against a bare `docker run` of the same image, for a 0.1 s and a 10 s job.
//!
//! Each round runs the same coin-flip job twice, side by side in alternation:
//! - **bare**: `docker run --rm --network none <image> /coinflip … --sleep-ms T`;
//! - **worker**: what `povm-worker run` does for an assignment before the commit
//!   transaction: the executor's sandboxed run (limits, read-only root, bind mounts, usage
//!   sampling, log and file collection, container removal), the result digest, the checkpoint
//!   Merkle root, the commitment with a fresh salt, and the fsynced pending-commit record.
//!
//! Chain transactions are not included (they wait for blocks, not for the host). Prints a
//! table and writes `bench/worker-overhead.json` and `bench/worker-overhead.md` at the
//! repository root. No assertion on timings.
//!
//! ```sh
//! COINFLIP_IMAGE=$(jobs/coinflip/build-image.sh | tail -1) \
//!   cargo run --release -p povm-worker --example overhead [ROUNDS_SHORT] [ROUNDS_LONG]
//! ```

use std::{
	path::{Path, PathBuf},
	process::Command,
	time::{Duration, Instant},
};

use povm_primitives::results::ResultFormat;
use povm_worker::{
	commands::run::pending_commit,
	executor::{DockerConfig, DockerExecutor, Executor, ImageSpec, JobRun, JobSpec, Resources},
	prelude::AccountId,
	state::StateStore,
};

fn args(sleep_ms: u64) -> Vec<String> {
	["--seed", "42", "--flips", "1000", "--checkpoint-every", "250", "--sleep-ms"]
		.iter()
		.map(|s| s.to_string())
		.chain([sleep_ms.to_string()])
		.collect()
}

fn bare(image: &str, sleep_ms: u64) -> Duration {
	let t = Instant::now();
	let status = Command::new("docker")
		.args([
			"run",
			"--rm",
			"--network",
			"none",
			"--memory",
			"64m",
			"--cpus",
			"0.5",
			"--tmpfs",
			"/tmp",
			image,
		])
		.arg("/coinflip")
		.args(args(sleep_ms))
		.args(["--out-dir", "/tmp", "--checkpoint-dir", "/tmp"])
		.stdout(std::process::Stdio::null())
		.status()
		.expect("docker run");
	assert!(status.success(), "bare docker run failed");
	t.elapsed()
}

async fn worker(
	exec: &DockerExecutor,
	store: &StateStore,
	image: &str,
	sleep_ms: u64,
	dir: &Path,
	n: u64,
) -> Duration {
	let me = AccountId::new([7; 32]);
	let t = Instant::now();
	let job = JobRun {
		job_id: n,
		spec: JobSpec {
			image: ImageSpec {
				id: image.to_owned(),
				registry: None,
				platform: povm_worker::config::host_arch().platform().to_owned(),
			},
			inputs: vec![],
			command: vec!["/coinflip".into()],
			args: args(sleep_ms),
			env: vec![],
			resources: Resources { millicores: 500, memory_mib: 64, max_seconds: 60, pids: 32 },
		},
		work_dir: dir.join(n.to_string()),
		prepare_within: povm_worker::executor::DEFAULT_PREPARE_WITHIN,
	};
	let run = exec.run(&job).await.expect("executor run");
	assert_eq!(run.exit_code, 0);
	let mut salt = [0u8; 32];
	rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut salt);
	// The job's on-chain resources, as the spec above asks: usage is committed capped at them.
	let bound = povm_primitives::Resources { millicores: 500, memory_mib: 64, max_seconds: 60 };
	let record = pending_commit(n, 0, &bound, &run, ResultFormat::Outcome, salt, &me);
	store.save(&record).expect("persist");
	let _ = std::fs::remove_dir_all(&job.work_dir);
	t.elapsed()
}

fn median(mut v: Vec<f64>) -> f64 {
	v.sort_by(|a, b| a.partial_cmp(b).unwrap());
	let n = v.len();
	if n % 2 == 1 {
		v[n / 2]
	} else {
		(v[n / 2 - 1] + v[n / 2]) / 2.0
	}
}

#[tokio::main]
async fn main() {
	let image = std::env::var("COINFLIP_IMAGE").expect("set COINFLIP_IMAGE=sha256:…");
	let mut cli = std::env::args().skip(1);
	let rounds_short: usize = cli.next().and_then(|s| s.parse().ok()).unwrap_or(10);
	let rounds_long: usize = cli.next().and_then(|s| s.parse().ok()).unwrap_or(3);
	let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
	let tmp = tempfile::tempdir().unwrap();
	let mut config =
		DockerConfig::new(format!("bench-{}", std::process::id()), repo.join("target-images"));
	// A benchmark on a development host, which may have neither AppArmor nor SELinux.
	config.allow_without_lsm = true;
	let exec = DockerExecutor::connect(config).await.expect("Docker");
	let store = StateStore::open(tmp.path()).unwrap();
	// Warm up both paths (image cache, page cache).
	bare(&image, 0);
	worker(&exec, &store, &image, 0, tmp.path(), 0).await;

	let mut rows = Vec::new();
	let mut n = 1;
	for (label, sleep_ms, rounds) in
		[("0.1 s", 100u64, rounds_short), ("10 s", 10_000, rounds_long)]
	{
		let (mut b, mut w) = (Vec::new(), Vec::new());
		for i in 0..rounds {
			// Alternate which goes first, so that drift hits both alike.
			if i % 2 == 0 {
				b.push(bare(&image, sleep_ms).as_secs_f64());
				w.push(worker(&exec, &store, &image, sleep_ms, tmp.path(), n).await.as_secs_f64());
			} else {
				w.push(worker(&exec, &store, &image, sleep_ms, tmp.path(), n).await.as_secs_f64());
				b.push(bare(&image, sleep_ms).as_secs_f64());
			}
			n += 1;
		}
		let (mb, mw) = (median(b.clone()), median(w.clone()));
		println!(
			"{label:>6} job: bare docker run median {mb:.3} s, worker median {mw:.3} s, \
			 ratio {:.3}, overhead {:+.3} s ({rounds} rounds)",
			mw / mb,
			mw - mb
		);
		rows.push((label, sleep_ms, rounds, b, w, mb, mw));
	}

	let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
	let host = format!(
		"{} cores, {}, worker built in {profile} profile",
		std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
		String::from_utf8_lossy(
			&Command::new("docker")
				.args(["version", "--format", "Docker {{.Server.Version}}"])
				.output()
				.map(|o| o.stdout)
				.unwrap_or_default()
		)
		.trim()
	);
	let json_rows: Vec<serde_json::Value> = rows
		.iter()
		.map(|(label, sleep_ms, rounds, b, w, mb, mw)| {
			serde_json::json!({
				"job": label,
				"job_sleep_ms": sleep_ms,
				"rounds": rounds,
				"bare_docker_run_s": b,
				"worker_s": w,
				"bare_median_s": mb,
				"worker_median_s": mw,
				"ratio": mw / mb,
				"overhead_s": mw - mb,
			})
		})
		.collect();
	let json = serde_json::json!({
		"benchmark": "povm-worker overhead vs bare docker run",
		"host": host,
		"image": image,
		"worker_path": "DockerExecutor::run + result digest + checkpoint root + commitment + fsynced pending record",
		"bare_path": "docker run --rm --network none --memory 64m --cpus 0.5 --tmpfs /tmp",
		"results": json_rows,
	});
	let bench = repo.join("bench");
	std::fs::create_dir_all(&bench).unwrap();
	std::fs::write(
		bench.join("worker-overhead.json"),
		serde_json::to_string_pretty(&json).unwrap(),
	)
	.unwrap();
	let mut md = String::from(
		"# Worker overhead against a bare `docker run`\n\n\
		 Generated by `cargo run -p povm-worker --example overhead -- 10 3` (the build profile is in the host line); medians of \
		 alternating runs of the coin-flip image (1000 flips, 4 checkpoints, then a sleep). \
		 The worker path is the executor's sandboxed run plus the attestation and the fsynced \
		 pending-commit record; chain transactions are excluded.\n\n",
	);
	md.push_str(&format!("Host: {host}.\n\n"));
	md.push_str("| job | rounds | bare `docker run` (s) | worker (s) | ratio | overhead (s) |\n");
	md.push_str("| --- | ---: | ---: | ---: | ---: | ---: |\n");
	for (label, _, rounds, _, _, mb, mw) in &rows {
		md.push_str(&format!(
			"| {label} | {rounds} | {mb:.3} | {mw:.3} | {:.3} | {:+.3} |\n",
			mw / mb,
			mw - mb
		));
	}
	std::fs::write(bench.join("worker-overhead.md"), md).unwrap();
	println!("wrote {}", bench.join("worker-overhead.{json,md}").display());
}

#!/usr/bin/env bash
# Issue 13's long job: one coin-flip job that runs ten minutes completes through a worker on
# a real dev node (fast-runtime) with real Docker, its member sending job heartbeats. Writes
# bench/long-job.{md,json} and merges `long_job_seconds` into bench/scale.json. About 13
# minutes; needs the builds of scripts/test.sh (node, worker) and a running Docker daemon.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$POVM_REPO"
export POVM_WORKER="${POVM_WORKER:-$CARGO_TARGET_DIR/release/povm-worker}"
cd zombienet
cargo test --release --locked -p povm-network-tests --test worker_chain \
	a_ten_minute_job_completes_with_job_heartbeats -- --ignored --nocapture --test-threads 1

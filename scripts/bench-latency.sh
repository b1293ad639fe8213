#!/usr/bin/env bash
# Issue 13's latency: blocks from the one that includes `submit_job` to the one that holds the
# verdict, less the run, for two-replica coin-flip jobs through two workers on a real dev node
# (fast-runtime) with real Docker. Writes bench/latency.{md,json} and merges the median,
# `submit_to_verdict_blocks`, into bench/scale.json. About 6 minutes; needs the builds of
# scripts/test.sh (node, worker) and a running Docker daemon.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$POVM_REPO"
export POVM_WORKER="${POVM_WORKER:-$CARGO_TARGET_DIR/release/povm-worker}"
cd zombienet
cargo test --release --locked -p povm-network-tests --test worker_chain \
	submit_to_verdict_latency_in_blocks -- --ignored --nocapture --test-threads 1

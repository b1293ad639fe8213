#!/usr/bin/env bash
# Measures on a fresh dev node how many replicas a block draws and completes through
# assignment, commit and reveal (issue 13): `povm-replica-bench` funds and registers providers,
# submits jobs of eight replicas and plays every provider over RPC. Merges
# `replicas_assigned_per_block` and `replicas_completed_per_block` into bench/scale.json and
# writes bench/replicas.md. Not part of scripts/test.sh.
#
#   bash scripts/bench-replicas.sh [PROVIDERS] [JOBS] [BLOCKS]   (defaults: 80, 4000, 100)
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$POVM_REPO"
PROVIDERS=${1:-80}
JOBS=${2:-4000}
BLOCKS=${3:-100}
cargo build --release --locked -p povm-node --features fast-runtime
cargo build --release --locked -p povm-network-tests --bin povm-replica-bench
BASE=$(mktemp -d)
PORT=9978
"$POVM_NODE" --dev --base-path "$BASE" --rpc-port "$PORT" --port 30378 --no-prometheus \
	--rpc-max-connections 1000 --max-runtime-instances 32 --pool-limit 100000 --pool-kbytes 1000000 > "$BASE/node.log" 2>&1 &
NODE=$!
trap 'kill $NODE 2>/dev/null; wait $NODE 2>/dev/null; rm -rf "$BASE"' EXIT
"$CARGO_TARGET_DIR/release/povm-replica-bench" --url "ws://127.0.0.1:$PORT" \
	--providers "$PROVIDERS" --jobs "$JOBS" --blocks "$BLOCKS" \
	--json "$POVM_REPO/bench/scale.json" --markdown "$POVM_REPO/bench/replicas.md"

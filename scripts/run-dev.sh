#!/usr/bin/env bash
# Sets up the machine, builds povm-node and runs a local development chain (Alice validates
# alone; RPC on ws://127.0.0.1:9944, Prometheus on :9615). Arguments go to povm-node.
# The node is the fast-runtime build (3 s blocks, 30 s sessions), the one scripts/test.sh and
# scripts/demo.sh build, so switching between the scripts does not rebuild it.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$POVM_REPO"
bash scripts/setup.sh
cargo build --release --locked -p povm-node --features fast-runtime
exec "$POVM_NODE" --dev "$@"

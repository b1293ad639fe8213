#!/usr/bin/env bash
# Sets up the machine (scripts/setup.sh) and runs every PoVM chain test:
#   1. the pallets' tests on their mock runtimes (benchmarks included, as tests);
#   2. the worker: executor against the real Docker daemon, extrinsic encoding, and the chain
#      flow (register, heartbeat, commit, reveal, restarts) against a real dev node;
#   3. the node: one --dev node over RPC, then a four-validator local network (zombienet/);
#   4. third-party clients: substrate-interface (PyPI) against a real dev node.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$POVM_REPO"

step() { printf '\n[test] === %s ===\n' "$*"; }

step "setup"
bash scripts/setup.sh

step "build povm-node (release, runtime WASM included)"
start=$(date +%s)
cargo build --release --locked -p povm-node
echo "[test] build took $(($(date +%s) - start)) s"

step "pallet tests (mock runtimes, benchmarks as tests)"
cargo test --release --locked -p povm-primitives -p pallet-job-queue -p pallet-vm-proof \
	-p pallet-vrf-lottery --features runtime-benchmarks

step "worker tests (real Docker, real node)"
cargo test --release --locked -p povm-worker -p coinflip -- --test-threads 1

step "node tests (dev node, four-validator network)"
cargo test --release --locked -p povm-network-tests -- --test-threads 1

step "third-party client tests (substrate-interface)"
if [ ! -x "$POVM_VENV/bin/pytest" ] || ! "$POVM_VENV/bin/python" -c 'import substrateinterface' 2>/dev/null; then
	python3 -m venv "$POVM_VENV"
	"$POVM_VENV/bin/pip" install -q substrate-interface==1.8.1 pytest
fi
"$POVM_VENV/bin/pytest" -v tests/clients

step "all tests passed"

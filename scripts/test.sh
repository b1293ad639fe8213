#!/usr/bin/env bash
# Sets up the machine (scripts/setup.sh) and runs every PoVM chain test:
#   1. the pallets' tests on their mock runtimes (benchmarks included, as tests), and the
#      runtime's own tests (timing, genesis, versions, equivocation reports end to end, and the
#      upgrade from the committed baseline runtime, spec 102, under try-runtime);
#   2. the client: the committed runtime metadata against the built node's (stale = failure);
#      the worker: unit tests (its plan among them), the executor against the real Docker daemon;
#   3. the network (zombienet/): one --dev node over RPC; the worker's chain flow (register,
#      heartbeat, commit, reveal, restarts) against a dev node; a provider that wins the
#      lottery and authors blocks; four validators with three workers through steady state, a
#      killed validator, a killed worker, a cheater and Docker stopped; a live runtime upgrade
#      from spec 102 with jobs in flight; and on zombienet
#      itself (@zombienet/cli, native provider), four validators finalising through a frozen
#      and a killed-and-restarted validator, checked on Prometheus metrics;
#   4. third-party clients: substrate-interface (PyPI) and @polkadot/api (npm) against a real
#      dev node with two providers running jobs in Docker, and the dashboard (dashboard/) in a
#      headless Chromium submitting a job from the page and waiting for its verdict there.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$POVM_REPO"

step() { printf '\n[test] === %s ===\n' "$*"; }

step "setup"
bash scripts/setup.sh

step "build povm-node (release, fast-runtime WASM included), povm-worker, the customer's povm and the test-only cheater"
start=$(date +%s)
# Separately: one build of both would unify their dependencies' features differently and
# relink the node each time this script and scripts/demo.sh alternate.
# fast-runtime: 3 s blocks and 30 s sessions (lottery epochs, key activation), which the network and
# client tests wait for; the default build has production-sized (one-hour) sessions.
cargo build --release --locked -p povm-node --features fast-runtime
cargo build --release --locked -p povm-worker
# The customer's command line: the registry network test submits and fetches with it.
cargo build --release --locked -p povm-cli
# The network tests' cheating provider: its own binary name, so `povm-worker` never has it.
cargo build --release --locked -p povm-worker --features test-cheat --bin povm-worker-cheat
echo "[test] build took $(($(date +%s) - start)) s"

step "pallet tests (mock runtimes, benchmarks as tests)"
cargo test --release --locked -p povm-primitives -p pallet-job-queue -p pallet-vm-proof \
	-p pallet-vrf-lottery -p povm-simulation --features runtime-benchmarks

step "runtime tests (timing table, genesis, versions, equivocation reports end to end, the upgrade from spec 102 under try-runtime)"
# try-runtime: the upgrade tests run Executive::try_runtime_upgrade (every migration's pre- and
# post-checks, the whole state decoded, try_state) on the committed state of a spec-102 chain.
# SKIP_WASM_BUILD keeps the node's WASM in release/wbuild as built.
SKIP_WASM_BUILD=1 cargo test --release --locked -p povm-runtime --lib --features try-runtime

step "client and worker tests (committed metadata vs the node's runtime; unit; real Docker)"
cargo test --release --locked --no-fail-fast -p povm-client -p povm-cli -p povm-worker -p coinflip \
	-p povm-job-pi -p povm-job-csv-summary -- --test-threads 1

step "network tests (dev node; the lottery seat; scenarios 1-5 with workers; the runtime upgrade)"
# --no-fail-fast: one failing test file does not hide the others' results.
cargo test --release --locked --no-fail-fast -p povm-network-tests -- --test-threads 1

step "zombienet tests (four validators: finality, a frozen and a restarted validator, metrics)"
start=$(date +%s)
bash scripts/zombienet.sh
echo "[test] zombienet tests took $(($(date +%s) - start)) s"

step "third-party client tests (substrate-interface 1.8.1, @polkadot/api 16.5.6, the dashboard in Chromium)"
# One dev node plus two providers (//Bob, //Charlie) running povm-worker beside Docker;
# both clients submit a coin-flip job and read it back, and the dashboard's browser test
# submits one from the page in headless Chromium and waits for its verdict there
# (tests/clients/README.md). substrate-interface==1.8.1 (PyPI) in $POVM_VENV;
# @polkadot/api@16.5.6 (npm), pinned by tests/clients/polkadot-js/package-lock.json, and the
# dashboard's bundles and puppeteer-core, pinned by dashboard/package-lock.json, installed
# with `npm ci`. The dashboard's screenshot goes to $CARGO_TARGET_DIR/tmp/dashboard/.
start=$(date +%s)
if [ ! -x "$POVM_VENV/bin/pytest" ] || ! "$POVM_VENV/bin/python" -c 'import substrateinterface' 2>/dev/null; then
	python3 -m venv "$POVM_VENV"
	"$POVM_VENV/bin/pip" install -q substrate-interface==1.8.1 pytest
fi
(cd tests/clients/polkadot-js && npm ci --no-audit --no-fund --loglevel=error)
(cd dashboard && npm ci --no-audit --no-fund --loglevel=error)
# povm-worker: built in the build step above.
export POVM_WORKER="${POVM_WORKER:-$CARGO_TARGET_DIR/release/povm-worker}"
# The coin-flip image: built by jobs/coinflip/build-image.sh next to the worker tests' copy
# (same cargo target dir, so it is a cache hit), unless POVM_COINFLIP_IMAGE names one.
export COINFLIP_TARGET_DIR="${COINFLIP_TARGET_DIR:-$CARGO_TARGET_DIR/tmp/coinflip-target}"
export POVM_COINFLIP_IMAGE_DIR="${POVM_COINFLIP_IMAGE_DIR:-$CARGO_TARGET_DIR/tmp/povm-images}"
"$POVM_VENV/bin/pytest" -v -p no:cacheprovider tests/clients
echo "[test] client tests took $(($(date +%s) - start)) s"

step "all tests passed"

#!/usr/bin/env bash
# The end-to-end demo: a local chain of two validators (Alice, Bob) and a third validator
# node for Charlie, three providers (Charlie, Dave, Eve) running `povm-worker` beside Docker,
# a batch of coin-flip jobs submitted by Alice, a summary read from chain state, and the
# lottery that turns the jobs' verified VM time into winners and the next validator set.
# The network is zombienet/demo.toml, started by the network runner. See docs/demo.md.
#
# Usage: scripts/demo.sh [povm-demo options]   e.g. --jobs 8, --keep, --markdown FILE
# Environment:
#   POVM_NODE               the node binary (default $CARGO_TARGET_DIR/release/povm-node)
#   POVM_DEMO_BIN_DIR       where povm-worker and povm-demo are (default $CARGO_TARGET_DIR/release)
#   POVM_COINFLIP_IMAGE, POVM_COINFLIP_IMAGE_DIR  a prebuilt coin-flip image (default: built here)
#   POVM_DEMO_SKIP_SETUP=1  do not run scripts/setup.sh (the machine is set up already)
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$POVM_REPO"

if [ "${POVM_DEMO_SKIP_SETUP:-0}" != 1 ]; then
	bash scripts/setup.sh
fi

bin_dir="${POVM_DEMO_BIN_DIR:-$CARGO_TARGET_DIR/release}"
# Cargo rebuilds only what changed: a no-op when the binaries are up to date.
echo "[demo] building povm-node, povm-worker and povm-demo (release)" >&2
# Separately, as scripts/test.sh does: one build of all would unify their dependencies'
# features differently and relink the node each time the two scripts alternate.
# fast-runtime: 3 s blocks and 30 s sessions, so the lottery's draws and seats come within minutes
# (the default build's sessions last an hour); the same node as scripts/test.sh builds.
cargo build --release --locked -p povm-node --features fast-runtime
cargo build --release --locked -p povm-worker
cargo build --release --locked -p povm-network-tests --bin povm-demo

if [ -z "${POVM_COINFLIP_IMAGE:-}" ]; then
	echo "[demo] building the coin-flip image" >&2
	export POVM_COINFLIP_IMAGE_DIR="$CARGO_TARGET_DIR/tmp/povm-images"
	POVM_COINFLIP_IMAGE="$(COINFLIP_TARGET_DIR="$CARGO_TARGET_DIR/tmp/coinflip-target" \
		bash jobs/coinflip/build-image.sh "$POVM_COINFLIP_IMAGE_DIR" | tail -1)"
	export POVM_COINFLIP_IMAGE
fi
case "$POVM_COINFLIP_IMAGE" in sha256:*) ;; *) echo "[demo] bad image digest: $POVM_COINFLIP_IMAGE" >&2; exit 1 ;; esac

# Run a private copy of the node: a rebuild of $POVM_NODE must not change it under the demo.
node_copy="$(mktemp "${TMPDIR:-/tmp}/povm-demo-node.XXXXXX")"
trap 'rm -f "$node_copy"' EXIT
cp "$POVM_NODE" "$node_copy"
chmod +x "$node_copy"

POVM_NODE="$node_copy" POVM_WORKER="$bin_dir/povm-worker" "$bin_dir/povm-demo" "$@"

#!/usr/bin/env bash
# The end-to-end demo: a local chain of two validators (Alice, Bob), three providers
# (Charlie, Dave, Eve) running `povm-worker` beside Docker, a batch of coin-flip jobs
# submitted by Alice, and a summary read from chain state. See docs/demo.md.
#
# Usage: scripts/demo.sh [povm-demo options]   e.g. --jobs 8, --keep, --markdown FILE
# Environment:
#   POVM_NODE               the node binary (default $CARGO_TARGET_DIR/release/povm-node)
#   POVM_DEMO_BIN_DIR       where povm-worker and povm-demo are (default $CARGO_TARGET_DIR/release)
#   POVM_DEMO_SKIP_SETUP=1  do not run scripts/setup.sh (the machine is set up already)
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$POVM_REPO"

if [ "${POVM_DEMO_SKIP_SETUP:-0}" != 1 ]; then
	bash scripts/setup.sh
fi

bin_dir="${POVM_DEMO_BIN_DIR:-$CARGO_TARGET_DIR/release}"
# Cargo rebuilds only what changed: a no-op when the binaries are up to date.
echo "[demo] building povm-node and povm-worker (release)" >&2
# Separately, as scripts/test.sh does: one build of both would unify their dependencies'
# features differently and relink the node each time the two scripts alternate.
cargo build --release --locked -p povm-node
cargo build --release --locked -p povm-worker

echo "[demo] building the coin-flip image" >&2
image_dir="$POVM_REPO/target-images"
digest="$(bash jobs/coinflip/build-image.sh "$image_dir" | tail -1)"
case "$digest" in sha256:*) ;; *) echo "[demo] bad image digest: $digest" >&2; exit 1 ;; esac

# Run a private copy of the node: a rebuild of $POVM_NODE must not change it under the demo.
node_copy="$(mktemp "${TMPDIR:-/tmp}/povm-demo-node.XXXXXX")"
trap 'rm -f "$node_copy"' EXIT
cp "$POVM_NODE" "$node_copy"
chmod +x "$node_copy"

POVM_NODE="$node_copy" POVM_WORKER="$bin_dir/povm-worker" \
	"$bin_dir/povm-demo" --image "$digest" --image-dir "$image_dir" "$@"

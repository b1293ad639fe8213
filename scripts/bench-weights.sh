#!/usr/bin/env bash
# Builds povm-node with `runtime-benchmarks`, runs the PoVM pallets' benchmarks against the
# runtime WASM, and writes each pallet's `weights.rs` from the measured figures (template:
# scripts/frame-weight-template.hbs). Raw results are kept under bench/weights/.
#
#   bash scripts/bench-weights.sh [STEPS] [REPEAT]    (defaults: 20 steps, 10 repeats)
#
# PALLETS="vrf-lottery" (folder names under pallets/) limits the run to those pallets.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$POVM_REPO"
STEPS=${1:-20}
REPEAT=${2:-10}

# The runtime WASM with the Benchmark API. Built on its own: frame-benchmarking-cli brings a
# storage test runtime whose WASM build fails outside its own workspace, so the node is
# built with SKIP_WASM_BUILD and reads this runtime from a file (`--runtime`). The default
# (production) runtime, without fast-runtime: no benchmarked call depends on the session length.
cargo build --release --locked -p povm-runtime --features runtime-benchmarks
WASM=$(ls -t "$CARGO_TARGET_DIR"/release/wbuild/povm-runtime/povm_runtime.compact.compressed.wasm | head -1)
SKIP_WASM_BUILD=1 cargo build --release --locked -p povm-node --features runtime-benchmarks
NODE="$CARGO_TARGET_DIR/release/povm-node"
mkdir -p bench/weights

for dir in ${PALLETS:-job-queue vm-proof vrf-lottery}; do
	[ -d "pallets/$dir" ] || { echo "[bench] no pallet folder pallets/$dir" >&2; exit 1; }
	pallet=pallet_${dir//-/_}
	echo "[bench] $pallet"
	"$NODE" benchmark pallet \
		--runtime "$WASM" \
		--genesis-builder runtime \
		--genesis-builder-preset development \
		--pallet "$pallet" \
		--extrinsic '*' \
		--steps "$STEPS" \
		--repeat "$REPEAT" \
		--wasm-execution compiled \
		--heap-pages 4096 \
		--template scripts/frame-weight-template.hbs \
		--output "pallets/$dir/src/weights.rs" \
		--json-file "bench/weights/$pallet.json" | tee "bench/weights/$pallet.txt"
done
echo "[bench] weights written; raw results in bench/weights/"

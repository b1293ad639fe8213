#!/usr/bin/env bash
# Runs the node-level network tests on zombienet itself: every `zombienet/*.zndsl` file, with
# `@zombienet/cli` (npm, pinned by zombienet/package-lock.json, installed with `npm ci`) and its
# native provider starting `povm-node` processes on this machine.
#
#   bash scripts/zombienet.sh [FILE.zndsl ...]     (default: every zombienet/*.zndsl)
#
# POVM_NODE: the node binary (default: the release build in the cargo target dir, which
# scripts/test.sh builds with `fast-runtime`). Each test's network files and node logs are kept
# in $CARGO_TARGET_DIR/tmp/zombienet/<test>/ (the logs under `logs/`); a failing test prints
# the tail of every node's log.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$POVM_REPO/zombienet"

export POVM_NODE="${POVM_NODE:-$CARGO_TARGET_DIR/release/povm-node}"
[ -x "$POVM_NODE" ] || {
	echo "[zombienet] no node binary at $POVM_NODE: cargo build --release -p povm-node --features fast-runtime" >&2
	exit 1
}
npm ci --no-audit --no-fund --loglevel=error

tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(*.zndsl)
failed=()
for test in "${tests[@]}"; do
	name=$(basename "$test" .zndsl)
	dir="$CARGO_TARGET_DIR/tmp/zombienet/$name"
	rm -rf "$dir"
	mkdir -p "$(dirname "$dir")"
	echo "[zombienet] $test (network files and logs: $dir)"
	start=$(date +%s)
	if npx zombienet --provider native --logType text --dir "$dir" --force test "$test"; then
		echo "[zombienet] $test passed in $(($(date +%s) - start)) s"
	else
		echo "[zombienet] $test FAILED after $(($(date +%s) - start)) s" >&2
		for log in "$dir"/*.log; do
			[ -f "$log" ] || continue
			echo "--- tail of $log" >&2
			tail -n 40 "$log" >&2
		done
		failed+=("$test")
	fi
	# zombienet leaves its nodes running when a test throws: stop whatever still runs from
	# this test's directory.
	pkill -f -- "$dir/" || true
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "[zombienet] failed: ${failed[*]}" >&2
	exit 1
fi

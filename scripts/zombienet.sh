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

# zombienet leaves its nodes running when a test throws or the script is interrupted. Every
# node of a test runs with `--base-path <dir>/<node>/data`: stop those (SIGCONT first, for a
# node a test left paused), on every exit.
dirs=()
stop_nodes() {
	local dir pids
	for dir in "${dirs[@]}"; do
		pids=$(pgrep -f -- "--base-path $(printf '%s' "$dir/" | sed 's/[][\\.*^$+?(){}|]/\\&/g')" || true)
		[ -n "$pids" ] || continue
		kill -CONT $pids 2>/dev/null || true
		kill -KILL $pids 2>/dev/null || true
	done
}
# zombienet runs in the background, in its own process group (npx and the node process under
# it), and is waited for, so that a signal to this script is handled at once (bash defers
# traps until a foreground command ends): the group is stopped, then the EXIT trap stops the
# nodes.
zombienet_pid=""
trap stop_nodes EXIT
trap '[ -z "$zombienet_pid" ] || kill -TERM -- "-$zombienet_pid" 2>/dev/null; exit 130' INT TERM

tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(*.zndsl)
failed=()
for test in "${tests[@]}"; do
	name=$(basename "$test" .zndsl)
	dir="$CARGO_TARGET_DIR/tmp/zombienet/$name"
	rm -rf "$dir"
	mkdir -p "$(dirname "$dir")"
	dirs+=("$dir")
	echo "[zombienet] $test (network files and logs: $dir)"
	start=$(date +%s)
	setsid npx zombienet --provider native --logType text --dir "$dir" --force test "$test" &
	zombienet_pid=$!
	if wait "$zombienet_pid"; then
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
	stop_nodes
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "[zombienet] failed: ${failed[*]}" >&2
	exit 1
fi

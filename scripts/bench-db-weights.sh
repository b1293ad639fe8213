#!/usr/bin/env bash
# Measures the database weights of povm-node's ParityDB (issue 13) and writes them to
# runtime/src/weights/paritydb.rs (template: scripts/db-weight-template.hbs), with the raw
# figures under bench/weights/. Not part of scripts/test.sh.
#
#   bash scripts/bench-db-weights.sh [TXS]    (jobs submitted to fill the state, default 9,000:
#                                             the pool keeps at most 10,000 future transactions)
#
# 1. A dev node (fast-runtime, ParityDB) on a chain spec of its own is filled by the throughput
#    benchmark's client: TXS `submit_job` and TXS `transfer_keep_alive`, so that the state holds
#    tens of thousands of job, queue-index and agenda entries, not a bare genesis.
# 2. The node stops; `povm-node benchmark storage` (a runtime-benchmarks build) reads and writes
#    every key of that state and writes the average × 1.1 as the runtime's `ParityDbWeight`.
#    Writes are committed in batches of 1,000 keys, the storage root amortised over each (a
#    full block of `submit_job` writes about 9,000 keys; the CLI's default batch of 100,000
#    is more than this state holds, and a partial batch is skipped).
# 3. The normal node is built again (the benchmark build replaced it in the target dir).
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$POVM_REPO"
TXS=${1:-9000}

cargo build --release --locked -p povm-node --features fast-runtime
(cd tests/clients/polkadot-js && npm ci --no-audit --no-fund --loglevel=error)
WORK=$(mktemp -d)
NODE_PID=
cleanup() {
	[ -n "$NODE_PID" ] && kill "$NODE_PID" 2>/dev/null && wait "$NODE_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
cp "$POVM_NODE" "$WORK/povm-node"
"$WORK/povm-node" build-spec --chain dev --raw > "$WORK/spec.json" 2>/dev/null

PORT=9978
"$WORK/povm-node" --dev --chain "$WORK/spec.json" --base-path "$WORK/db" --database paritydb \
	--rpc-port "$PORT" --port 30378 --no-prometheus --pool-limit 100000 --pool-kbytes 400000 \
	> "$WORK/node.log" 2>&1 &
NODE_PID=$!
for _ in $(seq 60); do
	curl -s -H 'Content-Type: application/json' -d '{"id":1,"jsonrpc":"2.0","method":"chain_getHeader"}' \
		"http://127.0.0.1:$PORT" | grep -q '"number"' && break
	sleep 1
done
POVM_WS="ws://127.0.0.1:$PORT" TXS="$TXS" OUT="$WORK/fill.json" \
	node tests/clients/polkadot-js/throughput.mjs
sleep 6 # a block or two more: the last ones finalised
kill -INT "$NODE_PID"
wait "$NODE_PID" || true
NODE_PID=

# The benchmark build (see scripts/bench-weights.sh for why the runtime is built on its own).
cargo build --release --locked -p povm-runtime --features runtime-benchmarks
SKIP_WASM_BUILD=1 cargo build --release --locked -p povm-node --features runtime-benchmarks
mkdir -p bench/weights runtime/src/weights
"$POVM_NODE" benchmark storage --chain "$WORK/spec.json" --base-path "$WORK/db" \
	--database paritydb --state-version 1 --warmups 1 --mul 1.1 --batch-size 1000 \
	--template-path scripts/db-weight-template.hbs \
	--weight-path runtime/src/weights/paritydb.rs \
	--json-read-path bench/weights/paritydb_read.json \
	--json-write-path bench/weights/paritydb_write.json 2>&1 | tee bench/weights/paritydb.txt
cargo build --release --locked -p povm-node --features fast-runtime
echo "[bench] database weights written to runtime/src/weights/paritydb.rs"

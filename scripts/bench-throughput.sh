#!/usr/bin/env bash
# Measures on a fresh dev node how many `submit_job` and `transfer_keep_alive` a full block
# includes (issue 13), merges the figures into bench/scale.json and writes
# bench/throughput.md. Not part of scripts/test.sh.
#
#   bash scripts/bench-throughput.sh [TXS]     (transactions of each kind, default 20,000: enough
#   for several full blocks of either kind; the pool is sized to hold them all as future ones)
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$POVM_REPO"
TXS=${1:-20000}
cargo build --release --locked -p povm-node --features fast-runtime
(cd tests/clients/polkadot-js && npm ci --no-audit --no-fund --loglevel=error)
BASE=$(mktemp -d)
PORT=9977
"$POVM_NODE" --dev --base-path "$BASE" --rpc-port "$PORT" --port 30377 --no-prometheus \
	--pool-limit 300000 --pool-kbytes 1000000 > "$BASE/node.log" 2>&1 &
NODE=$!
trap 'kill $NODE 2>/dev/null; wait $NODE 2>/dev/null; rm -rf "$BASE"' EXIT
for _ in $(seq 60); do
	curl -s -H 'Content-Type: application/json' -d '{"id":1,"jsonrpc":"2.0","method":"chain_getHeader"}' \
		"http://127.0.0.1:$PORT" | grep -q '"number"' && break
	sleep 1
done
POVM_WS="ws://127.0.0.1:$PORT" TXS="$TXS" OUT="$POVM_REPO/bench/scale.json" OUT_MD="$POVM_REPO/bench/throughput.md" \
	node tests/clients/polkadot-js/throughput.mjs

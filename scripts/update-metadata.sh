#!/usr/bin/env bash
# Regenerates client/metadata/povm.scale, the metadata povm-client's typed calls, storage,
# events and runtime APIs are generated from, from the runtime built into povm-node. Run it
# after changing the runtime's calls, storage, events, types or pallet indices, then rebuild.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$POVM_REPO"
# fast-runtime, as scripts/test.sh builds it: the metadata differs between the two runtime
# builds only in constant values (session length, issuance per session, unbonding, GRANDPA
# history), which client/tests/metadata.rs ignores, and the shared target dir keeps one node.
cargo build --release --locked -p povm-node --features fast-runtime
"$POVM_NODE" export-metadata --version 15 --output client/metadata/povm.scale
echo "client/metadata/povm.scale: $(wc -c <client/metadata/povm.scale) bytes"

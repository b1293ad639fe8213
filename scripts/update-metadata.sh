#!/usr/bin/env bash
# Regenerates client/metadata/povm.scale, the metadata povm-client's typed calls, storage,
# events and runtime APIs are generated from, from the runtime built into povm-node. Run it
# after changing the runtime's calls, storage, events, types or pallet indices, then rebuild.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$POVM_REPO"
cargo build --release --locked -p povm-node
"$POVM_NODE" export-metadata --version 15 --output client/metadata/povm.scale
echo "client/metadata/povm.scale: $(wc -c <client/metadata/povm.scale) bytes"

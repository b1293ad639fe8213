#!/usr/bin/env bash
# Build the coin-flip job's image (jobs/build-image.sh), save it as `<image dir>/<hex>.tar` and
# print its ID (`sha256:<hex>`) on the last line of stdout.
#
# Usage: jobs/coinflip/build-image.sh [IMAGE_DIR]
#   IMAGE_DIR            where `<hex>.tar` is written (default: $REPO/target-images)
# Environment:
#   COINFLIP_TARGET_DIR  cargo target dir for the static build
#                        (default: $CARGO_TARGET_DIR, else $REPO/target)
#   COINFLIP_TAG         image tag (default: povm/coinflip:latest)
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
JOB_TARGET_DIR="${COINFLIP_TARGET_DIR:-${CARGO_TARGET_DIR:-}}" \
	JOB_TAG="${COINFLIP_TAG:-povm/coinflip:latest}" \
	exec bash "$here/../build-image.sh" coinflip coinflip "$@"

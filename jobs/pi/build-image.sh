#!/usr/bin/env bash
# Build the pi example job's image (jobs/build-image.sh), save it as `<image dir>/<hex>.tar`
# and print its ID (`sha256:<hex>`) on the last line of stdout.
#
# Usage: jobs/pi/build-image.sh [IMAGE_DIR]   (environment: JOB_TARGET_DIR, JOB_TAG)
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/../build-image.sh" povm-job-pi pi "$@"

#!/usr/bin/env bash
# Build a job crate's binary statically, pack it into a `FROM scratch` image, save the image as
# `<image dir>/<hex>.tar` and print its ID (`sha256:<hex>`) on the last line of stdout, for the
# `image.id` of a job spec.
#
# Usage: jobs/build-image.sh PACKAGE BINARY [IMAGE_DIR]
#   PACKAGE          the cargo package (`coinflip`, `povm-job-pi`, `povm-job-csv-summary`)
#   BINARY           its binary, installed in the image as `/BINARY` (the image's command)
#   IMAGE_DIR        where `<hex>.tar` is written (default: $REPO/target-images)
# Environment:
#   JOB_TARGET_DIR   cargo target dir for the static build
#                    (default: $CARGO_TARGET_DIR, else $REPO/target)
#   JOB_TAG          image tag (default: povm/BINARY:latest)
#
# No image is pulled: `FROM scratch` needs no base image. The binary is linked statically
# against glibc (`-C target-feature=+crt-static`); the script fails if it is not static.
set -euo pipefail

package="$1"
binary="$2"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
image_dir="${3:-$repo/target-images}"
target_dir="${JOB_TARGET_DIR:-${CARGO_TARGET_DIR:-$repo/target}}"
tag="${JOB_TAG:-povm/$binary:latest}"
triple="x86_64-unknown-linux-gnu"

mkdir -p "$image_dir"
image_dir="$(cd "$image_dir" && pwd)"

echo "building $package (static, $triple) in $target_dir" >&2
(
	cd "$repo"
	RUSTFLAGS="-C target-feature=+crt-static" CARGO_TARGET_DIR="$target_dir" \
		cargo build --quiet --release --locked -p "$package" --bin "$binary" --target "$triple" >&2
)
bin="$target_dir/$triple/release/$binary"

# A static binary has no program interpreter (no PT_INTERP / "interpreter" in `file`).
if file "$bin" | grep -q "dynamically linked"; then
	echo "error: $bin is dynamically linked" >&2
	file "$bin" >&2
	exit 1
fi

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
cp "$bin" "$ctx/$binary"
cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM scratch
COPY $binary /$binary
USER 65534:65534
CMD ["/$binary"]
DOCKERFILE

# The legacy builder handles `FROM scratch` without BuildKit or any registry access.
DOCKER_BUILDKIT=0 docker build --quiet --tag "$tag" "$ctx" >&2
digest="$(docker image inspect --format '{{.Id}}' "$tag")"
hex="${digest#sha256:}"
if [[ ! "$hex" =~ ^[0-9a-f]{64}$ ]]; then
	echo "error: unexpected image id '$digest'" >&2
	exit 1
fi
docker save --output "$image_dir/$hex.tar.tmp" "$tag"
mv "$image_dir/$hex.tar.tmp" "$image_dir/$hex.tar"
echo "saved $image_dir/$hex.tar" >&2
echo "$digest"

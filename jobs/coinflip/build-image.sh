#!/usr/bin/env bash
# Build the coin-flip job as a static binary, pack it into a `FROM scratch` image, save the
# image as `<image dir>/<hex>.tar` and print its digest (`sha256:<hex>`, the image ID) on
# the last line of stdout, for use as the `image` of a job spec.
#
# Usage: jobs/coinflip/build-image.sh [IMAGE_DIR]
#   IMAGE_DIR            where `<hex>.tar` is written (default: $REPO/target-images)
# Environment:
#   COINFLIP_TARGET_DIR  cargo target dir for the static build
#                        (default: $CARGO_TARGET_DIR, else $REPO/target)
#   COINFLIP_TAG         image tag (default: povm/coinflip:latest)
#
# No image is pulled: `FROM scratch` needs no base image. The binary is linked statically
# against glibc (`-C target-feature=+crt-static`); the script fails if it is not static.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
image_dir="${1:-$repo/target-images}"
target_dir="${COINFLIP_TARGET_DIR:-${CARGO_TARGET_DIR:-$repo/target}}"
tag="${COINFLIP_TAG:-povm/coinflip:latest}"
triple="x86_64-unknown-linux-gnu"

mkdir -p "$image_dir"
image_dir="$(cd "$image_dir" && pwd)"

echo "building coinflip (static, $triple) in $target_dir" >&2
(
	cd "$repo"
	RUSTFLAGS="-C target-feature=+crt-static" CARGO_TARGET_DIR="$target_dir" \
		cargo build --quiet --release --locked -p coinflip --target "$triple" >&2
)
bin="$target_dir/$triple/release/coinflip"

# A static binary has no program interpreter (no PT_INTERP / "interpreter" in `file`).
if file "$bin" | grep -q "dynamically linked"; then
	echo "error: $bin is dynamically linked" >&2
	file "$bin" >&2
	exit 1
fi

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
cp "$bin" "$ctx/coinflip"
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY coinflip /coinflip
USER 65534:65534
CMD ["/coinflip"]
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

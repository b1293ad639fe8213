# Shared environment of the project's scripts; sourced, not run.
# One target dir outside the checkout, reused by every build, test and CI run.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/povm-target}"
# substrate-wasm-builder compiles the runtime with Debian's rustc (see scripts/setup.sh).
export WASM_BUILD_TOOLCHAIN="${WASM_BUILD_TOOLCHAIN:-povm-web}"
# rustup's cargo may not be on PATH in a non-login shell.
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
	# shellcheck disable=SC1091
	. "$HOME/.cargo/env"
fi
POVM_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export POVM_REPO
export POVM_NODE="${POVM_NODE:-$CARGO_TARGET_DIR/release/povm-node}"
export POVM_VENV="${POVM_VENV:-$HOME/.cache/povm-venv}"
export WASM_BUILD_WORKSPACE_HINT="$POVM_REPO"

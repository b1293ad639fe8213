#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) to build, run and test PoVM chain.
#
# Idempotent: every step checks whether it is already done. It prints what it does and
# stops with a message naming the missing piece when a step fails.
#
#   1. apt packages: the WASM toolchain (rustc-web, cargo-web, rust-web-src, lld-22),
#      protobuf-compiler, docker.io, docker-registry (the image-pull tests' registry),
#      busybox-static, node/npm and python for the client tests,
#      chromium for the dashboard's browser test;
#   2. the WASM toolchain: links Debian's rustc 1.96 as the rustup toolchain `povm-web`,
#      builds core/alloc/compiler_builtins for wasm32v1-none once (stamped by rustc commit),
#      gives it a `rust-lld` (lld-22);
#   3. registers gVisor's `runsc` (the worker's `[sandbox] runtime = "runsc"`, and its test)
#      with Docker in /etc/docker/daemon.json, keeping any other setting there, and starts
#      dockerd when it is not running (reloads it when the runtime was just registered).
#
# Environment: SKIP_DOCKER=1 skips step 3.
set -euo pipefail
[ -z "${CARGO_HOME:-}" ] && [ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env" || true

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (apt-get and dockerd need it)"
command -v apt-get >/dev/null || die "apt-get not found: this script supports Debian 12"

WASM_TOOLCHAIN=povm-web
SYSROOT=/usr
WASM_TARGET=wasm32v1-none

# ---------------------------------------------------------------- 1. packages
APT_PACKAGES=(rustc-web cargo-web rust-web-src lld-22 protobuf-compiler docker.io docker-registry
	runsc busybox-static curl jq git gcc g++ make pkg-config python3 python3-venv nodejs npm chromium)
missing=()
for p in "${APT_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	# Node.js and npm may come from elsewhere (the machine image); only install them when absent.
	filtered=()
	for p in "${missing[@]}"; do
		case "$p" in
		nodejs) command -v node >/dev/null || filtered+=("$p") ;;
		npm) command -v npm >/dev/null || filtered+=("$p") ;;
		python3) command -v python3 >/dev/null || filtered+=("$p") ;;
		python3-venv) python3 -c 'import venv' 2>/dev/null || filtered+=("$p") ;;
		*) filtered+=("$p") ;;
		esac
	done
	if [ ${#filtered[@]} -gt 0 ]; then
		log "installing apt packages: ${filtered[*]}"
		apt-get update -q || die "apt-get update failed: no Debian mirror reachable"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${filtered[@]}" ||
			die "apt-get install failed for: ${filtered[*]}"
	fi
fi
log "apt packages present"

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (stable) first"
command -v rustup >/dev/null || die "rustup not found: the host build uses rustup's stable toolchain"
[ -x /usr/bin/rustc ] || die "/usr/bin/rustc missing: package rustc-web did not install"
[ -d /usr/lib/rustlib/src/rust/library/core ] || die "std sources missing: package rust-web-src"
LLD=/usr/lib/llvm-22/bin/lld
[ -x "$LLD" ] || die "$LLD missing: package lld-22"

# ---------------------------------------------------------------- 2. WASM toolchain
/usr/bin/rustc --print target-list | grep -qx "$WASM_TARGET" ||
	die "Debian's rustc does not know $WASM_TARGET; rustc-web is too old"

if ! rustup toolchain list | grep -q "^$WASM_TOOLCHAIN"; then
	log "linking Debian's rustc as rustup toolchain $WASM_TOOLCHAIN"
	rustup toolchain link "$WASM_TOOLCHAIN" "$SYSROOT"
fi

HOST_BIN=/usr/lib/rustlib/x86_64-unknown-linux-gnu/bin
if [ ! -e "$HOST_BIN/rust-lld" ]; then
	log "pointing rust-lld at lld-22"
	mkdir -p "$HOST_BIN"
	ln -sf "$LLD" "$HOST_BIN/rust-lld"
fi

RUSTC_COMMIT=$(/usr/bin/rustc -vV | sed -n 's/^commit-hash: //p')
TARGET_LIB=/usr/lib/rustlib/$WASM_TARGET/lib
STAMP=$TARGET_LIB/.povm-stamp
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$RUSTC_COMMIT" ]; then
	log "building core, alloc and compiler_builtins for $WASM_TARGET (once per rustc, ~2 min)"
	work=$(mktemp -d)
	mkdir -p "$work/src"
	cat >"$work/Cargo.toml" <<'TOML'
[package]
name = "povm-wasm-sysroot"
version = "0.0.0"
edition = "2021"
[lib]
path = "src/lib.rs"
[profile.release]
panic = "abort"
TOML
	echo '#![no_std]' >"$work/src/lib.rs"
	(
		cd "$work"
		RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Cembed-bitcode=yes" CARGO_TARGET_DIR="$work/target" \
			RUSTC=/usr/bin/rustc /usr/bin/cargo build --release \
				-Zbuild-std=core,alloc --target "$WASM_TARGET"
	) || die "building the $WASM_TARGET sysroot failed (see the cargo output above)"
	mkdir -p "$TARGET_LIB"
	find "$work/target/$WASM_TARGET/release/deps" -name '*.rlib' ! -name 'libpovm_wasm_sysroot*' \
		-exec cp {} "$TARGET_LIB/" \;
	echo "$RUSTC_COMMIT" >"$STAMP"
	rm -rf "$work"
fi
log "WASM toolchain ready: WASM_BUILD_TOOLCHAIN=$WASM_TOOLCHAIN (target $WASM_TARGET)"

# ---------------------------------------------------------------- 3. Docker
# gVisor as a Docker runtime. `--network=none`: jobs have no network, and this runsc refuses
# Docker's `none` network namespace otherwise ("cannot run with network enabled in root
# network namespace"). `--oci-seccomp`: gVisor enforces the container's seccomp profile (the
# worker's), so a job refused a call under runc is refused it under gVisor too; the worker
# does not start on a runsc without it. The default platform (ptrace) is kept: KVM hangs in a
# nested VM. An earlier registration without `--oci-seccomp` is brought up to date.
RUNSC_ARGS='["--network=none", "--oci-seccomp"]'
register_runsc() {
	local conf=/etc/docker/daemon.json
	mkdir -p /etc/docker
	[ -s "$conf" ] || echo '{}' >"$conf"
	if jq -e --argjson args "$RUNSC_ARGS" \
		'(.runtimes.runsc.runtimeArgs // []) as $have | all($args[]; . as $a | $have | index($a))' \
		"$conf" >/dev/null; then
		return 1
	fi
	log "registering runsc (gVisor) with Docker in $conf"
	# Keeps any other argument the provider gave runsc (a platform, say), adds ours.
	jq --argjson args "$RUNSC_ARGS" \
		'.runtimes.runsc.path //= "/usr/bin/runsc" | .runtimes.runsc.runtimeArgs = (((.runtimes.runsc.runtimeArgs // []) + $args) | unique)' \
		"$conf" >"$conf.new"
	mv "$conf.new" "$conf"
}
if [ "${SKIP_DOCKER:-0}" != 1 ]; then
	if register_runsc && pidof dockerd >/dev/null; then
		# Runtimes are among the settings dockerd reloads on SIGHUP.
		kill -HUP "$(pidof dockerd)"
		sleep 1
	fi
	if ! docker info >/dev/null 2>&1; then
		log "starting dockerd"
		mkdir -p /var/log
		nohup dockerd >/var/log/povm-dockerd.log 2>&1 &
		for _ in $(seq 1 60); do
			docker info >/dev/null 2>&1 && break
			sleep 1
		done
		docker info >/dev/null 2>&1 || die "dockerd did not start; see /var/log/povm-dockerd.log"
	fi
	log "Docker engine running ($(docker version --format '{{.Server.Version}}'))"
	docker info --format '{{json .Runtimes}}' | jq -e '.runsc.runtimeArgs | index("--oci-seccomp")' >/dev/null ||
		die "runsc is not among Docker's runtimes with --oci-seccomp; see /etc/docker/daemon.json"
fi
log "done"

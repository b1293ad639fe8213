"""A real PoVM network for the third-party client tests.

`DevNode` is one `povm-node --dev --tmp` on free ports (Alice validates alone). `Network` is
such a node plus two providers, //Bob and //Charlie, each a `povm-worker` registered with
`povm-worker register` and serving jobs with `povm-worker run` beside the real Docker daemon,
with the coin-flip image (`jobs/coinflip`) in its image directory.

Binaries: `$POVM_NODE` and `$POVM_WORKER`, else `$CARGO_TARGET_DIR/release/…` (else the
checkout's `target/release/…`). The coin-flip image: `$POVM_COINFLIP_IMAGE` (`sha256:<hex>`)
with `<hex>.tar` in `$POVM_COINFLIP_IMAGE_DIR`; else `jobs/coinflip/build-image.sh` builds it
(into `$POVM_COINFLIP_IMAGE_DIR` if set, else a temporary directory; its cargo target dir is
`$COINFLIP_TARGET_DIR`, else `$CARGO_TARGET_DIR`).

Run on its own, it starts a network and keeps it up until Ctrl-C, printing what the
polkadot-js test needs:

    python3 tests/clients/network.py
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: Bond each provider registers with: 1000 POVM (the runtime's minimum is 100 POVM).
BOND = 1_000 * 10**12


class SetupError(RuntimeError):
    """The network could not be started (binary missing, node or worker failed)."""


def binary(name: str, env: str) -> str:
    if os.environ.get(env):
        path = Path(os.environ[env])
    else:
        target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
        path = target / "release" / name
    if not path.is_file():
        raise SetupError(f"{name} not found at {path}: build it (cargo build --release) or set {env}")
    return str(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rpc(url: str, method: str, params=None):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    req = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        reply = json.load(resp)
    if "error" in reply:
        raise RuntimeError(reply["error"])
    return reply["result"]


def tail(path: Path, lines: int = 80) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text[-lines:])


def stop_process(proc: subprocess.Popen, sig=signal.SIGINT, grace: float = 20) -> None:
    """Signals `proc` (SIGINT: a clean shutdown), then kills it after `grace` seconds."""
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class DevNode:
    """`povm-node --dev --tmp` on free ports, up and past block 1 once constructed."""

    def __init__(self, log_dir: Path | None = None):
        self._own_dir = None
        if log_dir is None:
            self._own_dir = tempfile.TemporaryDirectory(prefix="povm-client-node-")
            log_dir = Path(self._own_dir.name)
        self.rpc_port = free_port()
        self.log_path = Path(log_dir) / "node.log"
        self.http = f"http://127.0.0.1:{self.rpc_port}"
        self.ws = f"ws://127.0.0.1:{self.rpc_port}"
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                [binary("povm-node", "POVM_NODE"), "--dev", "--tmp",
                 "--rpc-port", str(self.rpc_port), "--port", str(free_port()),
                 "--no-prometheus", "--no-telemetry", "--no-mdns"],
                stdout=log, stderr=subprocess.STDOUT)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, within: float = 90):
        deadline = time.time() + within
        while True:
            if self.proc.poll() is not None:
                raise SetupError(f"povm-node exited with {self.proc.returncode}:\n{tail(self.log_path)}")
            try:
                # Wait for the first block so that transactions have a chain to go into.
                if int(rpc(self.http, "chain_getHeader")["number"], 16) >= 1:
                    return
            except Exception:  # not listening yet
                pass
            if time.time() > deadline:
                raise SetupError(f"povm-node not producing blocks after {within} s:\n{tail(self.log_path)}")
            time.sleep(0.5)

    def stop(self):
        stop_process(self.proc)
        if self._own_dir is not None:
            self._own_dir.cleanup()
            self._own_dir = None


def coinflip_image(scratch: Path) -> tuple[str, Path]:
    """The coin-flip image's digest (`sha256:<hex>`) and the directory holding `<hex>.tar`."""
    given = os.environ.get("POVM_COINFLIP_IMAGE")
    image_dir = os.environ.get("POVM_COINFLIP_IMAGE_DIR")
    if given:
        if not image_dir:
            raise SetupError("POVM_COINFLIP_IMAGE is set but POVM_COINFLIP_IMAGE_DIR is not")
        tar = Path(image_dir) / f"{given.removeprefix('sha256:')}.tar"
        if not tar.is_file():
            raise SetupError(f"POVM_COINFLIP_IMAGE={given} but {tar} does not exist")
        return given, Path(image_dir)
    out_dir = Path(image_dir) if image_dir else scratch / "images"
    out = subprocess.run(["bash", str(REPO / "jobs/coinflip/build-image.sh"), str(out_dir)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SetupError(f"jobs/coinflip/build-image.sh failed:\n{out.stderr}")
    digest = out.stdout.strip().splitlines()[-1].strip()
    if not digest.startswith("sha256:"):
        raise SetupError(f"unexpected last line of build-image.sh: {digest!r}")
    return digest, out_dir


class Provider:
    """One `povm-worker`: its config, state dir and logs under `root/name`."""

    def __init__(self, key: str, name: str, root: Path, node_ws: str, image_dir: Path):
        self.key = key
        self.name = name
        self.dir = root / name
        self.dir.mkdir(parents=True)
        self.instance = f"clients-{name}-{os.getpid()}"
        self.config = self.dir / "worker.toml"
        self.config.write_text(f"""\
node_url = "{node_ws}"
key_env = "POVM_CLIENT_TEST_PROVIDER_KEY"
image_dir = "{image_dir}"
state_dir = "{self.dir / 'state'}"
metrics_addr = "127.0.0.1:{free_port()}"
slots = 1
heartbeat_every = 3
bond = "{BOND}"
shutdown_grace_secs = 10
instance = "{self.instance}"
[offer]
millicores = 1000
memory_mib = 512
# Test hosts' Docker has neither AppArmor nor SELinux (seccomp, the cgroup limits and the
# dropped capabilities still apply); a real provider leaves this off or runs gVisor.
[sandbox]
allow_without_lsm = true
""")
        self.proc: subprocess.Popen | None = None

    def _command(self, *args: str) -> tuple[list[str], dict]:
        env = dict(os.environ, POVM_CLIENT_TEST_PROVIDER_KEY=self.key, RUST_LOG="info,povm=debug",
                   NO_COLOR="1")
        return [binary("povm-worker", "POVM_WORKER"), "--config", str(self.config), *args], env

    def register(self) -> str:
        cmd, env = self._command("register")
        with open(self.dir / "register.log", "w") as log:
            out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=log, text=True,
                                 timeout=180)
        if out.returncode != 0:
            raise SetupError(f"povm-worker register ({self.key}) failed:\n{tail(self.dir / 'register.log')}")
        return out.stdout

    def run(self):
        cmd, env = self._command("run")
        with open(self.dir / "run.log", "w") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc, signal.SIGTERM, grace=30)
        # Containers the worker may have left behind (it removes its own on a clean exit).
        ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=org.povm.worker={self.instance}"],
                             capture_output=True, text=True).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)

    def check_running(self):
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            raise SetupError(f"povm-worker run ({self.key}) exited with {code}:\n{tail(self.dir / 'run.log')}")


class Network:
    """A dev node and two running providers, //Bob and //Charlie. Use as a context manager."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="povm-client-network-"))
        self.node: DevNode | None = None
        self.providers: list[Provider] = []
        try:
            self.image, self.image_dir = coinflip_image(self.root)
            self.node = DevNode(self.root)
            for key, name in (("//Bob", "bob"), ("//Charlie", "charlie")):
                p = Provider(key, name, self.root, self.node.ws, self.image_dir)
                self.providers.append(p)
                out = p.register()
                if "registered" not in out:
                    raise SetupError(f"povm-worker register ({key}) said:\n{out}")
                p.run()
            time.sleep(1)
            for p in self.providers:
                p.check_running()
        except BaseException:
            self.stop()
            raise

    @property
    def ws(self) -> str:
        return self.node.ws

    def logs(self, lines: int = 60) -> str:
        """The tails of the node's and the workers' logs."""
        parts = []
        if self.node is not None:
            parts.append(f"----- node ({self.node.log_path}) -----\n{tail(self.node.log_path, lines)}")
        for p in self.providers:
            parts.append(f"----- worker {p.key} ({p.dir / 'run.log'}) -----\n{tail(p.dir / 'run.log', lines)}")
        return "\n".join(parts)

    def stop(self):
        for p in self.providers:
            p.stop()
        if self.node is not None:
            self.node.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _stop_on_signal(signum, _frame):
    raise KeyboardInterrupt(signal.Signals(signum).name)


if __name__ == "__main__":
    # Also when started in the background (where a shell ignores SIGINT) and on SIGTERM.
    signal.signal(signal.SIGINT, _stop_on_signal)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    try:
        with Network() as net:
            print(f"POVM_WS={net.ws}")
            print(f"POVM_COINFLIP_IMAGE={net.image}")
            print(f"logs under {net.root}; Ctrl-C to stop", flush=True)
            signal.pause()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)

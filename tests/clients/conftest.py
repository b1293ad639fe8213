"""Fixtures for the third-party client tests: a real `povm-node --dev --tmp` on free ports."""
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def node_binary() -> str:
    if os.environ.get("POVM_NODE"):
        return os.environ["POVM_NODE"]
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    path = target / "release" / "povm-node"
    if not path.exists():
        pytest.fail(f"povm-node not found at {path}: build it or set POVM_NODE")
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


class DevNode:
    def __init__(self):
        self.rpc_port = free_port()
        self.dir = tempfile.TemporaryDirectory(prefix="povm-client-test-")
        self.log_path = Path(self.dir.name) / "node.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [node_binary(), "--dev", "--tmp", "--rpc-port", str(self.rpc_port),
             "--port", str(free_port()), "--no-prometheus", "--no-telemetry"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.http = f"http://127.0.0.1:{self.rpc_port}"
        self.ws = f"ws://127.0.0.1:{self.rpc_port}"
        deadline = time.time() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"povm-node exited:\n{self.log_path.read_text()}")
            try:
                rpc(self.http, "system_health")
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        # Wait for the first block so that transactions have a chain to go into.
        while int(rpc(self.http, "chain_getHeader")["number"], 16) < 1:
            time.sleep(0.5)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        self.dir.cleanup()


@pytest.fixture(scope="module")
def dev_node():
    node = DevNode()
    yield node
    node.stop()

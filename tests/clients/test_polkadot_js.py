"""@polkadot/api (npm, 16.5.6): runs polkadot-js/job.test.mjs with `node --test` against the
session's network (see that file for what it checks)."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

JS_DIR = Path(__file__).resolve().parent / "polkadot-js"


def test_polkadot_js_submits_a_job_and_reads_it_through_the_runtime_api(network):
    node = os.environ.get("POVM_NODEJS") or shutil.which("node")
    if node is None:
        pytest.fail("Node.js not found (need node >= 20 on PATH, or POVM_NODEJS)", pytrace=False)
    if not (JS_DIR / "node_modules" / "@polkadot" / "api").is_dir():
        pytest.fail(f"@polkadot/api is not installed: run `npm ci` in {JS_DIR}", pytrace=False)
    env = dict(os.environ, POVM_WS=network.ws, POVM_COINFLIP_IMAGE=network.image)
    try:
        run = subprocess.run([node, "--test", "--test-reporter=spec"], cwd=JS_DIR, env=env,
                             capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"node --test still running after {e.timeout} s:\n{e.stdout or ''}\n{e.stderr or ''}")
    print(run.stdout, run.stderr, sep="\n")
    assert run.returncode == 0, f"node --test exited with {run.returncode}:\n{run.stdout}\n{run.stderr}"

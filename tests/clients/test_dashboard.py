"""The dashboard (dashboard/, @polkadot/api 16.5.6 browser bundles) in a real headless
Chromium: runs dashboard/test/dashboard.test.mjs with `node --test` against the session's
network (see that file for what it checks). The page's screenshot goes to `$POVM_ARTEFACTS`,
else `$CARGO_TARGET_DIR/tmp/dashboard/`, else a temporary directory; its path is printed."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"


def test_dashboard_follows_a_job_submitted_from_the_page_to_its_verdict(network):
    node = os.environ.get("POVM_NODEJS") or shutil.which("node")
    if node is None:
        pytest.fail("Node.js not found (need node >= 20 on PATH, or POVM_NODEJS)", pytrace=False)
    for package in ("@polkadot/api", "puppeteer-core"):
        if not (DASHBOARD / "node_modules" / package).is_dir():
            pytest.fail(f"{package} is not installed: run `npm ci` in {DASHBOARD}", pytrace=False)
    chromium = os.environ.get("POVM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).is_file():
        pytest.fail(f"Chromium not found at {chromium}: `apt-get install chromium` (scripts/setup.sh) "
                    "or set POVM_CHROMIUM", pytrace=False)
    env = dict(os.environ, POVM_WS=network.ws, POVM_COINFLIP_IMAGE=network.image, POVM_CHROMIUM=chromium)
    try:
        run = subprocess.run([node, "--test", "--test-reporter=spec", "test/dashboard.test.mjs"],
                             cwd=DASHBOARD, env=env, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"node --test still running after {e.timeout} s:\n{e.stdout or ''}\n{e.stderr or ''}")
    print(run.stdout, run.stderr, sep="\n")
    assert run.returncode == 0, f"node --test exited with {run.returncode}:\n{run.stdout}\n{run.stderr}"

"""Fixtures for the third-party client tests (see network.py and README.md).

- `dev_node`: a plain `povm-node --dev --tmp` of its own per module (no providers, so no
  provider transactions change the balances the transfer tests check).
- `network`: one dev node plus two running providers (//Bob, //Charlie) beside the real
  Docker daemon, shared by every job test of the session.

When a test using either fails, the tails of the node's (and workers') logs are added to
its report.
"""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from network import DevNode, Network, SetupError, tail  # noqa: E402


def started(make):
    """`make()`, or a test failure (not a traceback) saying why the network did not start."""
    error = None
    try:
        return make()
    except SetupError as e:
        error = str(e)
    pytest.fail(error, pytrace=False)


@pytest.fixture(scope="module")
def dev_node():
    node = started(DevNode)
    yield node
    node.stop()


@pytest.fixture(scope="session")
def network():
    net = started(Network)
    yield net
    net.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    if "network" in funcargs:
        report.sections.append(("povm network logs", funcargs["network"].logs()))
    elif "dev_node" in funcargs:
        node = funcargs["dev_node"]
        report.sections.append(("povm-node log", tail(node.log_path)))

"""Fixtures for Concord's integration tests.

make_node(name=..., data_dir=...) creates a Node in the test's own tmp
directory with its own loopback address; `node` is one already started and
ready. At teardown every node is stopped (SIGTERM, then SIGKILL by PID for
anything left), and the test fails if a process was left behind or a log
holds a sanitizer report.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from harness import CONCORD, CONCORDCTL, Node  # noqa: E402


def pytest_sessionstart(session):
    for b in (CONCORD, CONCORDCTL):
        if not os.access(b, os.X_OK):
            raise pytest.UsageError(
                f"{b} is not an executable: build it (ninja -C build) or set "
                "CONCORD_BIN / CONCORDCTL_BIN"
            )


@pytest.fixture
def make_node(tmp_path):
    nodes = []

    def make(name="n1", **kw):
        n = Node(tmp_path / f"node{len(nodes)}", name=name, **kw)
        nodes.append(n)
        return n

    yield make
    problems = []
    for n in nodes:
        problems += [f"node {n.name}@{n.ip}: {p}" for p in n.cleanup()]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def node(make_node):
    n = make_node()
    n.start()
    n.wait_ready()
    return n

"""Fixtures of the differential suite (tests/diff).

`servers` (session scope) is the pair (reference etcd, candidate): the
candidate is Concord (CONCORD_BIN, default build/cmd/concord) or, with
DIFF_SELF_TEST=1, a second etcd whose index is shifted by a few hidden
writes, which is how the harness and its normalisation are validated. Both
run for the whole session, each on its own loopback address and data dir;
every scenario works under its own key prefix so scenarios stay independent.
At the end both are stopped by PID; a server that did not stop cleanly (or
left a worker behind) fails the run.

Answers are compared after normalisation (diff_engine): indexes relative to
each scenario's base X-Etcd-Index, in-order key names likewise, expiration
"<time>" after an RFC 3339 and TTL-window check, ttl within +-1, IDs/IPs/
versions as placeholders, unsorted listings as sets; headers by presence
and relation, bodies as ordered JSON plus byte checks where Go's encoding
matters.

Run:  /usr/bin/python3 -m pytest -q tests/diff               (etcd vs Concord)
      DIFF_SELF_TEST=1 /usr/bin/python3 -m pytest -q tests/diff  (etcd vs etcd)
Env:  CONCORD_BIN, ETCD_BIN (default /usr/bin/etcd), DIFF_DUMP=FILE (append
      every normalised answer of both sides as JSON lines, for review).
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import diff_servers  # noqa: E402
from diff_scenarios import ALL, by_area  # noqa: E402


def pytest_report_header(config):
    if diff_servers.SELF_TEST:
        mode = "etcd vs etcd (DIFF_SELF_TEST=1)"
    else:
        mode = f"etcd vs {diff_servers.CONCORD_BIN}"
    areas = ", ".join(f"{a} {n}" for a, n in sorted(by_area().items()))
    return [f"differential suite: {mode}; {len(ALL)} scenarios ({areas})"]


@pytest.fixture(scope="session")
def servers(tmp_path_factory):
    root = tmp_path_factory.mktemp("diff")
    ref, cand = diff_servers.start_pair(root)
    yield ref, cand
    problems = []
    for s in (ref, cand):
        problems += s.stop()
    if problems:
        pytest.fail("servers did not stop cleanly:\n" + "\n".join(problems), pytrace=False)

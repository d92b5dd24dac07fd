"""The differential test: every scenario of diff_scenarios runs against the
reference etcd and the candidate at the same time; the test fails with a
report of both sides' normalised requests and answers when they differ, or
when either side breaks an invariant (see diff_engine for the
normalisation and the per-side checks): indexes relative to the
scenario's base index, times checked then "<time>", ttl within +-1, IDs and
addresses as placeholders, unsorted listings as sets, JSON field order and
trailing newlines kept, raw bytes where Go's escaping matters.

DIFF_DUMP=FILE appends every normalised answer of both sides to FILE (one
JSON line per scenario and server), to review what etcd actually answered.
"""

import json
import os

import pytest

from diff_compare import compare
from diff_engine import run_scenario
from diff_scenarios import ALL


@pytest.mark.parametrize("scn", ALL, ids=[s.name for s in ALL])
def test_diff(servers, scn):
    ref, cand = servers
    a, b = run_scenario(ref, cand, scn)
    dump = os.environ.get("DIFF_DUMP")
    if dump:  # every normalised answer of both sides, one JSON line per side
        with open(dump, "a") as f:
            for r in (a, b):
                f.write(json.dumps(r.dump(), ensure_ascii=False) + "\n")
    report = compare(a, b)
    if report:
        pytest.fail(report, pytrace=False)

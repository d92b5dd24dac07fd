"""Linearizable quorum reads and read-your-writes while members crash.

Three members (fast raft timing). Through each member a writer PUTs unique
values to a few shared keys and a reader reads them back, in turn with
`quorum=true` and plainly. Meanwhile the test SIGKILLs one member at a
time (the leader of the moment or a follower), the whole node or one of
its workers, right after that member acknowledged a write (when what it
made durable may lag what it answered the most), and brings it back,
waiting each time until the survivors have acknowledged more writes and,
after the restart, until the victim answered reads again (progress, not
time, paces every step).

Every operation is recorded with its start and end on the monotonic clock
and, when answered, the key's modifiedIndex: its place in the raft log, so
the order of the writes is known and no search for a linearization is
needed. Checks:
- every value read was written, and at the index the read reports;
- a write that began after another was acknowledged got a higher index;
- a quorum read returns an index at least as new as every write to the key
  acknowledged (through any member) before the read began, and as every
  quorum read of the key that had ended by then;
- a plain read through member m returns an index at least as new as every
  write to the key that m acknowledged before the read began, also across
  m's restarts (V2-CONTRACT 1.11: read-your-writes on the member that took
  the write).
"""

import bisect
import http.client
import json
import os
import signal
import threading
import time
import urllib.parse

import pytest

from cluster import cluster_factory
from harness import CLIENT_PORT, wait_for

KEYS = [f"lin/k{i}" for i in range(3)]
# Acknowledged writes the cluster must add after each fault and each recovery.
PROGRESS = 60
# (what is killed, on which member): the leader of the moment or a follower.
FAULTS = [("node", "leader"), ("http", "follower"), ("storage", "leader"), ("node", "follower"),
          ("consensus", "leader"), ("http", "leader"), ("node", "leader"), ("storage", "follower"),
          ("consensus", "follower")]


@pytest.fixture
def make_cluster(tmp_path):
    with cluster_factory(tmp_path) as make:
        yield make


def request(member, method, path, body=None, timeout=15.0):
    """(status, parsed body) or None when the connection failed."""
    headers = {}
    if body is not None:
        body = urllib.parse.urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        c = http.client.HTTPConnection(member.ip, CLIENT_PORT, timeout=timeout)
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        raw = r.read()
        c.close()
    except (OSError, http.client.HTTPException):
        return None
    try:
        return r.status, json.loads(raw)
    except ValueError:
        return r.status, raw


class Client(threading.Thread):
    """Writes (writer) or reads (reader) through one member until halted.
    Records (kind, key, value, index, start, end) for every answered
    operation; kind is w (acknowledged write), q (quorum read), r (plain
    read). Attempted write values go to self.attempted either way."""

    def __init__(self, member, role):
        super().__init__(daemon=True)
        self.member, self.role = member, role
        self.halt = threading.Event()
        self.ops, self.attempted, self.bad = [], set(), []
        self.answered = 0

    def run(self):
        i = 0
        lost = False
        while not self.halt.is_set():
            key = KEYS[i % len(KEYS)]
            i += 1
            if self.role == "writer":
                self.write(key, f"{self.member.name}-{i}")
            elif lost:
                # The first answers after a worker or the node came back
                # are where a restarted view could lag: read every key.
                lost = not all([self.read(k, quorum=False) for k in KEYS])
            else:
                lost = not self.read(key, quorum=i % 2 == 0)

    def write(self, key, value):
        self.attempted.add((key, value))
        t0 = time.monotonic()
        res = request(self.member, "PUT", f"/v2/keys/{key}", body={"value": value})
        t1 = time.monotonic()
        if res is None:
            self.halt.wait(0.01)  # the member is down: do not spin
            return
        status, body = res
        if status in (200, 201):
            self.ops.append(("w", key, value, body["node"]["modifiedIndex"], t0, t1))
            self.answered += 1
        elif not (status == 500 and isinstance(body, dict) and body.get("errorCode") == 300):
            self.bad.append(("PUT", key, status, body))

    def read(self, key, quorum):
        """False when the connection failed."""
        t0 = time.monotonic()
        res = request(self.member, "GET", f"/v2/keys/{key}" + ("?quorum=true" if quorum else ""))
        t1 = time.monotonic()
        if res is None:
            self.halt.wait(0.01)
            return False
        status, body = res
        kind = "q" if quorum else "r"
        if status == 200:
            node = body["node"]
            self.ops.append((kind, key, node["value"], node["modifiedIndex"], t0, t1))
            self.answered += 1
        elif status == 404 and isinstance(body, dict) and body.get("errorCode") == 100:
            self.ops.append((kind, key, None, 0, t0, t1))
            self.answered += 1
        elif not (quorum and status == 500 and isinstance(body, dict)
                  and body.get("errorCode") == 300):
            self.bad.append(("GET", key, quorum, status, body))
        return True


def newest_before(events, t):
    """events: (end, index) sorted by end, with a running max of index as
    the third element; the largest index among those that ended before t."""
    k = bisect.bisect_left(events, (t,)) - 1
    return events[k][2] if k >= 0 else 0


def with_running_max(pairs):
    out, best = [], 0
    for end, index in sorted(pairs):
        best = max(best, index)
        out.append((end, index, best))
    return out


def check_history(writers, readers):
    problems = []
    attempted = set().union(*(w.attempted for w in writers))
    writes = [(w.member.name, op) for w in writers for op in w.ops]
    at_index = {}
    for name, (_, key, value, index, _, _) in writes:
        if at_index.setdefault((key, index), value) != value:
            problems.append(f"two writes acknowledged at {key}@{index}")
    for key in KEYS:
        ws = sorted((op for _, op in writes if op[1] == key), key=lambda op: op[4])
        ends = with_running_max((op[5], op[3]) for op in ws)
        for op in ws:
            if op[3] <= newest_before(ends, op[4]):
                problems.append(f"write {op[2]} to {key} began after a write at a higher or "
                                f"equal index was acknowledged, yet got index {op[3]}")
    acked_by = {w.member.name: {} for w in writers}
    for name, op in writes:
        acked_by[name].setdefault(op[1], []).append((op[5], op[3]))
    acked_any = {key: with_running_max(p for m in acked_by.values() for p in m.get(key, []))
                 for key in KEYS}
    acked_by = {m: {k: with_running_max(v) for k, v in d.items()} for m, d in acked_by.items()}
    quorum_ends = {key: with_running_max((op[5], op[3]) for r in readers for op in r.ops
                                         if op[0] == "q" and op[1] == key) for key in KEYS}
    for r in readers:
        for kind, key, value, index, t0, t1 in r.ops:
            if value is not None and (key, value) not in attempted:
                problems.append(f"{r.member.name} read {key}={value!r}, never written")
            elif value is not None and at_index.get((key, index), value) != value:
                problems.append(f"{r.member.name} read {key}={value!r} at {index}, "
                                f"but {at_index[(key, index)]!r} was written there")
            if kind == "q":
                need = max(newest_before(acked_any[key], t0), newest_before(quorum_ends[key], t0))
                what = "quorum read"
            else:
                need = newest_before(acked_by[r.member.name].get(key, []), t0)
                what = "plain read"
            if index < need:
                problems.append(f"{what} of {key} on {r.member.name} at {t0:.3f} returned "
                                f"index {index}, older than {need} acknowledged before it began")
    return problems


def test_reads_stay_linearizable_while_members_crash(make_cluster):
    c = make_cluster(3).start()
    c.wait_leader()
    writers = [Client(m, "writer") for m in c]
    readers = [Client(m, "reader") for m in c]
    for t in writers + readers:
        t.start()

    def writes_acked():
        return sum(w.answered for w in writers)

    def progress(n, what):
        goal = writes_acked() + n
        wait_for(lambda: writes_acked() >= goal, 30, what)

    try:
        progress(PROGRESS, "writes before the first fault")
        for kind, target in FAULTS:
            leader = c.wait_leader()
            m = leader if target == "leader" else c.followers(leader)[0]
            i = list(c).index(m)
            goal = writers[i].answered + 1
            wait_for(lambda: writers[i].answered >= goal, 30, f"a write through {m}")
            if kind == "node":
                m.kill_node()
                progress(PROGRESS, f"writes while {m} is down")
                m.restart()
                m.wait_ready(timeout=20)
            else:
                old = m.worker_pids()
                os.kill(old[kind], signal.SIGKILL)
                m.wait_ready(timeout=20, old_pids={kind: old[kind]})
            reader = readers[i]
            goal = reader.answered + 20
            wait_for(lambda: reader.answered >= goal, 30, f"reads through {m} after its {kind} kill")
            progress(PROGRESS, f"writes after {m}'s {kind} came back")
    finally:
        for t in writers + readers:
            t.halt.set()
        for t in writers + readers:
            t.join(30)

    bad = [b for t in writers + readers for b in t.bad]
    assert not bad, f"unexpected answers: {bad[:5]}"
    reads = sum(len(r.ops) for r in readers)
    assert reads > 200 and writes_acked() > PROGRESS * (2 * len(FAULTS) + 1), (reads, writes_acked())
    problems = check_history(writers, readers)
    assert not problems, f"{len(problems)} violations, first: {problems[:5]}"

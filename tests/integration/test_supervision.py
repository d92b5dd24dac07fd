"""Supervision: a member node starts its four workers and keeps them running.

Checks: `concordctl workers` (header, column alignment, one ready row per
worker), the workers are children of the master and show their kind in
/proc/PID/cmdline, `concordctl status` JSON (fields, heartbeats, every link
up), the HTTP endpoints on the client and peer ports; SIGKILL of each worker
kind in turn (back within 1 s with a new pid, restarts 1, last_exit signal 9,
links back up with the new generation, /health 200); a deep data dir (run
directory falls back to /tmp); a second concord on the same data dir is
refused; a start that fails (port taken, same data dir) leaves no process.
"""

import glob
import json
import os
import re
import signal
import socket
import stat
import time

import pytest

from harness import (
    CLIENT_PORT,
    CONCORDCTL,
    HEALTH_BODY,
    KINDS,
    LINK_PEERS,
    PEER_PORT,
    VERSION_BODY,
    Node,
    pid_alive,
    pids_mentioning,
    proc_cmdline,
    proc_stat,
    wait_for,
)

HEADER = ["KIND", "PID", "STATE", "UPTIME", "RESTARTS", "LAST-EXIT"]


def test_workers_table(node):
    header, rows, raw = node.workers()
    assert header.split() == HEADER
    st = node.status()
    pids = node.worker_pids(st)
    assert [r["KIND"] for r in rows] == list(KINDS)
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    for r, line in zip(rows, raw):
        assert r["STATE"] == "ready", line
        assert int(r["PID"]) == pids[r["KIND"]], line
        assert r["RESTARTS"] == "0", line
        assert r["LAST-EXIT"] == "-", line
        assert re.fullmatch(r"\d+[smhd](\d+[smh])?", r["UPTIME"]), line
        # Column-aligned: every field starts exactly under its header.
        for i, s in enumerate(starts):
            assert len(line) > s and line[s] != " ", f"column {HEADER[i]} misaligned: {line!r}"
            if i:
                assert line[s - 1] == " ", f"column {HEADER[i]} misaligned: {line!r}"


def test_workers_are_children_named_by_kind(node):
    st = node.status()
    assert st["pid"] == node.pid
    pids = node.worker_pids(st)
    assert len(set(pids.values())) == 4
    for kind, pid in pids.items():
        assert pid not in (0, node.pid)
        state, ppid = proc_stat(pid)
        assert ppid == node.pid, f"{kind} worker {pid} has ppid {ppid}, master is {node.pid}"
        assert state not in ("Z", "X")
        argv = proc_cmdline(pid)
        assert argv[0] == f"concord: {kind}", argv[:2]


def test_status_json(node):
    st = node.status()
    assert st["role"] == "member"
    assert st["name"] == node.name
    assert st["pid"] == node.pid
    assert st["state"] == "running"
    assert [w["kind"] for w in st["workers"]] == list(KINDS)
    gens = set()
    for w in st["workers"]:
        k = w["kind"]
        assert isinstance(w["pid"], int) and w["pid"] > 0, w
        assert isinstance(w["generation"], int) and w["generation"] > 0, w
        gens.add(w["generation"])
        assert w["state"] == "ready", w
        assert isinstance(w["uptime_s"], (int, float)) and w["uptime_s"] >= 0, w
        assert w["restarts"] == 0, w
        assert w["last_exit"] is None, w
        assert isinstance(w["heartbeat_age_ms"], int), w
        assert 0 <= w["heartbeat_age_ms"] < 1500, w
        assert isinstance(w["queue_depth"], int) and w["queue_depth"] >= 0, w
        assert isinstance(w["inflight"], int) and w["inflight"] >= 0, w
        assert {l["peer"] for l in w["links"]} == LINK_PEERS[k], w
        for l in w["links"]:
            assert set(l) >= {"peer", "state", "peer_generation", "sendq", "sent", "received"}, l
            assert l["state"] in ("up", "down"), l
            for f in ("peer_generation", "sendq", "sent", "received"):
                assert isinstance(l[f], int) and l[f] >= 0, l
    assert len(gens) == 4, "generations must differ"
    # wait_ready already required every link up; heartbeats keep coming: a
    # second look 600 ms later (> one 500 ms period) still shows fresh ages.
    t0 = time.monotonic()
    first_ages = {w["kind"]: w["heartbeat_age_ms"] for w in st["workers"]}
    st2 = wait_for(
        lambda: (s := node.status()) if time.monotonic() - t0 > 0.6 else None,
        5,
        "a later status",
    )
    for w in st2["workers"]:
        assert w["heartbeat_age_ms"] < 1500, (w["kind"], first_ages, w["heartbeat_age_ms"])
        assert w["uptime_s"] > 0.5, w
    assert node.links_problem(st2) is None, node.links_problem(st2)


def test_links_all_up(node):
    st = node.status()
    assert node.links_problem(st) is None
    n = sum(len(w["links"]) for w in st["workers"])
    assert n == 10, "5 links, seen from both ends"


@pytest.mark.parametrize("port", [CLIENT_PORT, PEER_PORT])
def test_version_endpoint(node, port):
    status, body, headers = node.http_get("/version", port=port)
    assert status == 200
    assert body == VERSION_BODY
    assert json.loads(body) == {"etcdserver": "2.3.8", "etcdcluster": "2.3.0"}


def test_health_and_unknown_path(node):
    status, body, _ = node.http_get("/health")
    assert (status, body) == (200, HEALTH_BODY)
    for port in (CLIENT_PORT, PEER_PORT):
        status, _, _ = node.http_get("/no/such/path", port=port)
        assert status == 404, port


@pytest.mark.parametrize("kind", KINDS)
def test_sigkill_worker_respawns(node, kind):
    st0 = node.fast_status()
    old = node.worker(kind, st0)
    others = {w["kind"]: w["pid"] for w in st0["workers"] if w["kind"] != kind}
    t0 = time.monotonic()
    os.kill(old["pid"], signal.SIGKILL)

    def back():
        w = node.worker(kind)
        return w if w["state"] == "ready" and w["pid"] not in (0, old["pid"]) else None

    new = wait_for(back, 5, f"the {kind} worker to come back")
    elapsed = time.monotonic() - t0
    assert elapsed < 1.0, f"{kind} took {elapsed:.2f}s to be ready again"
    assert not pid_alive(old["pid"])
    assert new["generation"] > old["generation"]
    assert new["restarts"] == 1, new
    assert new["last_exit"] == {"signal": 9}, new
    assert proc_stat(new["pid"])[1] == node.pid
    assert proc_cmdline(new["pid"])[0] == f"concord: {kind}"

    st = node.wait_ready(timeout=5)
    # The other workers were not touched.
    assert {w["kind"]: w["pid"] for w in st["workers"] if w["kind"] != kind} == others
    for w in st["workers"]:
        if w["kind"] != kind:
            assert w["restarts"] == 0 and w["last_exit"] is None, w
    # Neighbours see the new generation on their link to it.
    neighbours = 0
    for w in st["workers"]:
        for l in w["links"]:
            if l["peer"] == kind:
                neighbours += 1
                assert l["peer_generation"] == new["generation"], (w["kind"], l)
    assert neighbours == len(LINK_PEERS[kind])
    status, body, _ = wait_for(
        lambda: (r := node.http_get("/health"))[0] == 200 and r, 5, "/health 200"
    )
    assert body == HEALTH_BODY
    assert "exited unexpectedly (signal 9)" in node.log_text()


def test_deep_data_dir(make_node, tmp_path):
    deep = tmp_path / "d"
    seg = "a-rather-long-directory-name-for-concord"
    while len(str(deep)) <= 160:
        deep = deep / seg
    n = make_node(data_dir=deep)
    assert len(str(n.data_dir)) > 150 and n.data_dir.is_absolute()
    n.start()
    tmp = os.environ.get("TMPDIR") or "/tmp"
    if len(tmp) > 40:
        tmp = "/tmp"
    st = n.wait_ready()
    run_dir = st["run_dir"]
    assert re.fullmatch(rf"{re.escape(tmp)}/concord-{os.getuid()}-[0-9a-f]{{16}}", run_dir), run_dir
    assert stat.S_IMODE(os.stat(run_dir).st_mode) == 0o700
    status, body, _ = n.http_get("/health")
    assert (status, body) == (200, HEALTH_BODY)
    r = n.ctl(argv=[CONCORDCTL, "--data-dir", str(deep), "workers"])
    assert r.stdout.splitlines()[0].split() == HEADER
    assert sum(1 for ln in r.stdout.splitlines() if " ready " in ln) == 4, r.stdout
    # Graceful stop removes the fallback run directory.
    assert n.stop() == 0
    assert not os.path.exists(run_dir), os.listdir(run_dir)


def test_second_node_on_same_data_dir_refused(make_node):
    first = make_node()
    first.start()
    st = first.wait_ready()
    second = make_node(name="n1", data_dir=first.data_dir)
    assert second.ip != first.ip
    rc, out, err = second.run_to_exit(second.flags(), timeout=10)
    assert rc != 0
    sock = str(first.data_dir / "admin.sock")
    assert sock in err, err
    assert "another concord" in err or "already" in err, err
    # Nothing of the second start is left, and the first node is unharmed.
    assert not pids_mentioning(f"//{second.ip}:")
    assert os.path.exists(sock)
    st2 = first.wait_ready(timeout=5)
    assert node_pids(st2) == node_pids(st)
    assert first.http_get("/health")[:2] == (200, HEALTH_BODY)
    assert first.ctl("workers").returncode == 0


def node_pids(st):
    return {w["kind"]: w["pid"] for w in st["workers"]}


def test_port_in_use_fails_cleanly(make_node):
    n = make_node()
    fallbacks = set(glob.glob(f"/tmp/concord-{os.getuid()}-*"))
    # Take the node's client port first (our own loopback address).
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((n.ip, CLIENT_PORT))
    s.listen(1)
    try:
        rc, out, err = n.run_to_exit(n.flags(), timeout=10)
    finally:
        s.close()
    assert rc != 0
    assert f"{n.ip}:{CLIENT_PORT}" in err, err
    assert len([ln for ln in err.splitlines() if "ERROR" in ln or "FATAL" in ln]) >= 1, err
    assert not n.our_live_pids()
    assert not os.path.exists(n.data_dir / "admin.sock"), "stale admin socket left behind"
    assert not os.path.exists(n.data_dir / "run"), "empty run directory left behind"
    # (or in /tmp, when the data dir is too deep for socket paths)
    left = set(glob.glob(f"/tmp/concord-{os.getuid()}-*")) - fallbacks
    assert not left, f"fallback run directory left behind: {left}"
    assert "started storage worker" not in err

"""Signals to the master.

Checks: SIGHUP and `concordctl reload` restart every worker (all four get a
new pid, restarts 1, last_exit {"code":0}, ready again with every link up)
while client threads open a new connection per request to the client port in
a tight loop, and not one request is refused or fails; fifteen reloads in a
row each end with every link up and /health 200; SIGTERM and SIGINT stop the
node (exit 0 within 5 s, workers stopped in reverse start order, every
worker gone, admin socket and run directory removed); after SIGKILL of the
master every worker exits by itself within 2 s, and a new start on the same
data dir takes over the stale sockets; SIGUSR1 reopens the log file in the
master and in the running workers (after a rename, new lines land in the new
file, none in the old); SIGHUP and SIGTERM that arrive before the master has
forked its first worker (held on a full stderr pipe) still end in a complete
node, or a clean exit 0 with no process left.
"""

import os
import signal
import time

import pytest

from harness import (
    CLIENT_PORT,
    HEALTH_BODY,
    KINDS,
    Hammer,
    children_of,
    pid_alive,
    wait_for,
)


@pytest.mark.parametrize("how", ["SIGHUP", "concordctl reload"])
def test_reload_restarts_every_worker_without_failed_requests(node, how):
    st0 = node.fast_status()
    old = node.worker_pids(st0)
    gens0 = {w["kind"]: w["generation"] for w in st0["workers"]}
    # Several client threads: a request is then more often in flight at the
    # moment the http worker is told to stop.
    hammers = [Hammer(node.ip, CLIENT_PORT) for _ in range(4)]
    for h in hammers:
        h.start()

    def ok():
        return sum(h.ok for h in hammers)

    def failures():
        return [f for h in hammers for f in h.failures]

    try:
        wait_for(lambda: ok() >= 50 or failures(), 10, "the client loop to get going")
        assert not failures(), failures()[:5]
        if how == "SIGHUP":
            node.send_signal(signal.SIGHUP)
        else:
            r = node.ctl("reload")
            assert f"pid {node.pid}" in r.stdout, r.stdout
        st = node.wait_ready(timeout=5, old_pids=old)
        # The new http worker serves the loop too.
        done_at = ok()
        wait_for(lambda: ok() >= done_at + 50 or len(failures()) > 20, 10,
                 "requests after the reload")
    finally:
        for h in hammers:
            h.stop()
    refused = sum(h.refused for h in hammers)
    assert refused == 0, f"{refused} connections refused: {failures()[:5]}"
    assert failures() == [], f"{len(failures())} of {ok() + len(failures())} failed: " \
        f"{failures()[:5]}"
    assert ok() > 100, ok()
    for w in st["workers"]:
        k = w["kind"]
        assert w["pid"] != old[k] and not pid_alive(old[k]), k
        assert w["generation"] > gens0[k], w
        assert w["restarts"] == 1, w
        assert w["last_exit"] == {"code": 0}, w
    assert st["state"] == "running"
    assert node.http_get("/health")[:2] == (200, HEALTH_BODY)
    assert "reload done" in node.log_text()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_graceful_stop(node, sig):
    st = node.status()
    pids = node.worker_pids(st)
    run_dir = st["run_dir"]
    assert os.path.isdir(run_dir)
    t0 = time.monotonic()
    rc = node.stop(sig, timeout=5)
    assert rc == 0, rc
    assert time.monotonic() - t0 < 5
    for k, p in pids.items():
        assert not pid_alive(p), f"{k} worker {p} still alive after the master exited"
    assert not node.our_live_pids()
    assert not (node.data_dir / "admin.sock").exists()
    assert not os.path.exists(run_dir)
    log = node.log_text()
    # Reverse start order: http first, storage last.
    order = [log.find(f"{k} worker (pid {pids[k]}) stopped") for k in reversed(KINDS)]
    assert all(i >= 0 for i in order), log[-2000:]
    assert order == sorted(order), f"stop order {order}: {log[-2000:]}"
    assert "ERROR" not in log and "did not stop in time" not in log, log[-2000:]


def test_workers_exit_when_master_killed(node):
    pids = node.worker_pids()
    node.remember_pids()
    t0 = time.monotonic()
    node.stop(signal.SIGKILL, timeout=5)
    wait_for(lambda: not any(pid_alive(p) for p in pids.values()), 2,
             f"workers {pids} to exit after SIGKILL of the master")
    assert time.monotonic() - t0 < 2.5
    # The killed master left its admin socket and link endpoints behind; a
    # new start on the same data dir takes them over.
    assert (node.data_dir / "admin.sock").exists()
    node.start()
    st = node.wait_ready()
    assert st["pid"] == node.pid
    assert not set(node.worker_pids(st).values()) & set(pids.values())
    assert node.http_get("/health")[:2] == (200, HEALTH_BODY)


def test_sigusr1_reopens_log(node):
    log = node.log_path
    old = node.dir / "concord.log.1"
    os.rename(log, old)
    old_pids = node.worker_pids()
    node.send_signal(signal.SIGUSR1)
    wait_for(lambda: "SIGUSR1: reopening log files" in old.read_text(), 5,
             "the master to log the SIGUSR1")
    wait_for(lambda: log.exists(), 5, f"{log} to be created again")
    size_before = old.stat().st_size
    node.ctl("restart", "http")
    new_http = wait_for(
        lambda: (w := node.worker("http"))["state"] == "ready" and w["pid"] != old_pids["http"] and w,
        5, "a new http worker")
    wait_for(lambda: f"http[{new_http['pid']}]" in log.read_text(), 5,
             "the new http worker's lines in the new log")
    text = log.read_text()
    assert f"master[{node.pid}]" in text, text
    assert "restarting the http worker on request" in text, text
    # The old http process (already running at the SIGUSR1) reopened too.
    assert f"http[{old_pids['http']}]" in text, text
    # Storage was running at the SIGUSR1 too: a restart makes the old process speak.
    node.ctl("restart", "storage")
    wait_for(lambda: f"storage[{old_pids['storage']}]" in log.read_text(), 5,
             "the old storage worker's last lines in the new log")
    node.wait_ready(old_pids={"storage": old_pids["storage"]})
    assert old.stat().st_size == size_before, old.read_text()[-1500:]


def start_stalled(n):
    """Starts n with the master held before it forks its first worker (it
    blocks writing its first log line to a full stderr pipe; its signal
    handlers are already installed)."""
    n.start(log_file=False, stall_stderr=True)
    n.wait_stalled()
    assert not children_of(n.pid)


def test_sighup_during_startup_still_starts_every_worker(make_node):
    """A SIGHUP that arrives while the master is still starting its workers
    must not leave the node without the workers it had not started yet."""
    n = make_node()
    start_stalled(n)
    n.send_signal(signal.SIGHUP)
    n.release_stderr()
    st = n.wait_ready(timeout=5)
    assert [w["state"] for w in st["workers"]] == ["ready"] * 4
    assert n.http_get("/health")[:2] == (200, HEALTH_BODY)


def test_sigterm_during_startup(make_node):
    """SIGTERM before the first worker is even forked: the master exits 0,
    starts no worker and leaves no process or socket behind."""
    n = make_node()
    start_stalled(n)
    n.send_signal(signal.SIGTERM)
    n.release_stderr()
    assert n.proc.wait(5) == 0
    assert not n.our_live_pids()
    log = n.log_text()
    assert "stopping gracefully" in log, log
    assert "started consensus worker" not in log, "no worker may start once stopping"
    assert not (n.data_dir / "admin.sock").exists()


def test_repeated_reloads_keep_links_up(node):
    """Reload after reload, every worker must come back ready with every link
    up (and /health 200) each time: a link left down after a restart makes
    the node unhealthy for good."""
    for i in range(15):
        old = node.worker_pids()
        node.send_signal(signal.SIGHUP)
        try:
            node.wait_ready(timeout=3, old_pids=old)
        except AssertionError as e:
            status, body, _ = node.http_get("/health")
            raise AssertionError(f"reload {i + 1}: {e}; /health -> {status} {body!r}") from None
    assert node.http_get("/health")[:2] == (200, HEALTH_BODY)

"""Servers for the differential suite: one real etcd 3.4 (`--enable-v2`) and
one Concord member (or, with DIFF_SELF_TEST=1, a second etcd), each a
single-member cluster in its own temporary data dir.

Addresses: every server gets its own loopback address 127.0.X.Y with etcd's
ports 2379 (client) and 2380 (peer). X comes from a per-run offset (derived
from the pytest process id) so that two runs on one machine pick different
addresses, and every candidate address is checked to be free before use.

Processes: the harness only signals processes it started, by PID: the server
itself and, for Concord, the workers its master forked (read from /proc as
the master's children while it runs). Stopping is SIGTERM, a deadline, then
SIGKILL by PID for anything left (which is reported as a problem).

Waiting: nothing sleeps to synchronise. Readiness is "GET /health answers 200
with health true", polled against a deadline.

Why self-test shifts an index: the two servers' answers are compared only
after normalisation (diff_engine): indexes become relative to each
scenario's base index ("#+k"), times "<time>" after range checks, ttl within
+-1, cluster/member IDs and IPs placeholders, unsorted listings sets. Two
fresh etcds would number everything identically and hide normalisation
bugs, so with DIFF_SELF_TEST=1 the second etcd gets a few extra hidden
writes first and every index differs between the sides.
"""

import http.client
import json
import os
import sys
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from procs import (  # noqa: E402  (shared with tests/integration)
    WaitTimeout,
    children_of,
    pid_alive,
    port_free,
    wait_for,
)

REPO = Path(__file__).resolve().parents[2]
ETCD_BIN = os.environ.get("ETCD_BIN") or "/usr/bin/etcd"
CONCORD_BIN = os.environ.get("CONCORD_BIN") or str(REPO / "build" / "cmd" / "concord")
SELF_TEST = os.environ.get("DIFF_SELF_TEST", "") not in ("", "0")

CLIENT_PORT = 2379
PEER_PORT = 2380
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


# ---- addresses -------------------------------------------------------------


def pick_addresses(n):
    """n loopback addresses 127.0.X.1 .. 127.0.X.n (X from the per-run
    offset, moving on while any of them has a busy port)."""
    first = 3 + (os.getpid() % 250)
    for k in range(250):
        x = 3 + (first - 3 + k) % 250
        ips = [f"127.0.{x}.{y}" for y in range(1, n + 1)]
        if all(port_free(ip, p) for ip in ips for p in (CLIENT_PORT, PEER_PORT)):
            return ips
    raise RuntimeError("no free loopback addresses for the differential suite")


# ---- processes -------------------------------------------------------------


# ---- HTTP ------------------------------------------------------------------


def http_once(ip, port, method, url, body=None, headers=None, timeout=5.0):
    """One request on a fresh connection: (status, headers list, body bytes)."""
    conn = http.client.HTTPConnection(ip, port, timeout=timeout)
    try:
        conn.request(method, url, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, r.getheaders(), data
    finally:
        conn.close()


class Server:
    """One server process. kind is "etcd" or "concord"; label names the side
    in reports ("etcd", "concord", or "etcd-b" in self-test mode)."""

    def __init__(self, kind, label, ip, base_dir):
        self.kind = kind
        self.label = label
        self.ip = ip
        self.port = CLIENT_PORT
        self.dir = Path(base_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.dir / "data"
        self.log_path = self.dir / "server.log"
        self.out_path = self.dir / "stdout.txt"
        self.err_path = self.dir / "stderr.txt"
        self.proc = None
        self.seen_children = set()
        self.cluster_id = None  # first X-Etcd-Cluster-Id seen on /v2/keys
        self.lock = threading.Lock()

    @property
    def client_url(self):
        return f"http://{self.ip}:{CLIENT_PORT}"

    @property
    def peer_url(self):
        return f"http://{self.ip}:{PEER_PORT}"

    def argv(self):
        common = [
            "--name", "d",
            "--data-dir", str(self.data_dir),
            "--listen-client-urls", self.client_url,
            "--advertise-client-urls", self.client_url,
            "--listen-peer-urls", self.peer_url,
            "--initial-advertise-peer-urls", self.peer_url,
            "--initial-cluster", f"d={self.peer_url}",
        ]  # fmt: skip
        if self.kind == "etcd":
            return [ETCD_BIN, "--enable-v2"] + common
        return [CONCORD_BIN] + common + ["--log-file", str(self.log_path)]

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ETCD_", "ETCDCTL_"))}
        self._out = open(self.out_path, "ab")
        self._err = open(self.err_path, "ab")
        self.proc = subprocess.Popen(
            self.argv(), cwd=self.dir, env=env, stdin=subprocess.DEVNULL,
            stdout=self._out, stderr=self._err,
        )  # fmt: skip

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=3000):
        parts = []
        for p in (self.log_path, self.err_path, self.out_path):
            if p.exists():
                t = p.read_text(errors="replace")
                if t.strip():
                    parts.append(f"--- {p.name} ---\n{t[-n:]}")
        return "\n".join(parts) or "(no output)"

    def _healthy(self):
        if not self.alive():
            raise AssertionError(f"exited with status {self.proc.returncode}")
        if self.kind == "concord":
            self.seen_children.update(children_of(self.proc.pid))
        status, _, body = http_once(self.ip, self.port, "GET", "/health", timeout=2.0)
        return status == 200 and json.loads(body).get("health") in ("true", True)

    def wait_healthy(self, timeout=START_TIMEOUT):
        try:
            wait_for(self._healthy, timeout, f"{self.label} at {self.client_url} to be healthy")
        except AssertionError as e:
            raise AssertionError(
                f"{self.label} ({' '.join(self.argv())}) did not become healthy: {e}\n"
                f"{self.log_tail()}"
            ) from None
        if self.kind == "concord":
            self.seen_children.update(children_of(self.proc.pid))

    def stop(self):
        """Stops the server and everything it forked; returns a list of
        problems (empty when it stopped cleanly)."""
        problems = []
        if self.proc is None:
            return problems
        if self.proc.poll() is None:
            self.seen_children.update(children_of(self.proc.pid))
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                problems.append(
                    f"{self.label} (pid {self.proc.pid}) ignored SIGTERM for {STOP_TIMEOUT}s"
                )
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(STOP_TIMEOUT)
        else:
            problems.append(f"{self.label} had exited by itself with status {self.proc.returncode}")
        if self.proc.returncode not in (0, -signal.SIGTERM):
            problems.append(f"{self.label} exited with status {self.proc.returncode}")
        left = []
        try:
            wait_for(
                lambda: not [p for p in self.seen_children if pid_alive(p)],
                5.0, f"{self.label}'s workers to exit",
            )  # fmt: skip
        except WaitTimeout:
            left = sorted(p for p in self.seen_children if pid_alive(p))
        for p in left:
            problems.append(f"{self.label}: worker pid {p} outlived its master; killed")
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for f in (self._out, self._err):
            f.close()
        if problems:
            problems.append(self.log_tail(1500))
        return problems

    def offset_index(self, n):
        """Self-test only: n writes to a hidden key so that this server's
        indexes differ from the other side's by n (normalisation must cope)."""
        for i in range(n):
            status, _, body = http_once(
                self.ip, self.port, "PUT", "/v2/keys/_diff_offset",
                body=f"value={i}", headers={"Content-Type": "application/x-www-form-urlencoded"},
            )  # fmt: skip
            assert status in (200, 201), (status, body)


def start_pair(tmp_root):
    """Starts the reference etcd and the candidate (Concord, or a second
    etcd with DIFF_SELF_TEST=1) concurrently; returns (ref, cand)."""
    ip_ref, ip_cand = pick_addresses(2)
    ref = Server("etcd", "etcd", ip_ref, Path(tmp_root) / "etcd")
    if SELF_TEST:
        cand = Server("etcd", "etcd-b", ip_cand, Path(tmp_root) / "etcd-b")
    else:
        if not os.access(CONCORD_BIN, os.X_OK):
            raise AssertionError(
                f"{CONCORD_BIN} is not an executable: build it (ninja -C build) or set CONCORD_BIN"
            )
        cand = Server("concord", "concord", ip_cand, Path(tmp_root) / "concord")
    started = []
    try:
        for s in (ref, cand):
            s.start()
            started.append(s)
        for s in (ref, cand):
            s.wait_healthy()
        if SELF_TEST:
            cand.offset_index(7)
    except BaseException:
        for s in started:
            s.stop()
        raise
    return ref, cand

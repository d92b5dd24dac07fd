"""Harness for Concord's integration tests: real processes, real sockets.

A Node is one `concord` master (and the workers it forks) started in its own
directory with its own loopback address 127.0.X.Y and etcd's ports 2379
(client) and 2380 (peer). The harness only ever signals processes it started,
by PID, and it never sleeps to synchronise: every wait polls a condition
against a deadline (wait_for) and fails with a message naming what it waited
for.

Binaries come from CONCORD_BIN and CONCORDCTL_BIN (default: build/cmd/... at
the repository root), so the same tests run against a sanitizer build.
"""

import fcntl
import http.client
import itertools
import json
import os
import sys
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from procs import (  # noqa: E402  (shared with tests/diff)
    WaitTimeout,
    all_pids,
    children_of,
    pid_alive,
    pids_matching,
    pids_mentioning,
    port_free,
    proc_cmdline,
    proc_stat,
    wait_for,
)

_port_free = port_free

REPO = Path(__file__).resolve().parents[2]
CONCORD = os.environ.get("CONCORD_BIN") or str(REPO / "build" / "cmd" / "concord")
CONCORDCTL = os.environ.get("CONCORDCTL_BIN") or str(REPO / "build" / "cmd" / "concordctl")

CLIENT_PORT = 2379
PEER_PORT = 2380
KINDS = ("storage", "consensus", "peer", "http")
# Both ends of every member link (ipc/wiring.c): who each worker talks to.
LINK_PEERS = {
    "storage": {"consensus", "http", "peer"},
    "consensus": {"storage", "http", "peer"},
    "peer": {"consensus", "storage"},
    "http": {"storage", "consensus"},
}
VERSION_BODY = b'{"etcdserver":"2.3.8","etcdcluster":"2.3.0"}'
HEALTH_BODY = b'{"health": "true"}'
SANITIZER_PATTERNS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


# ---- addresses -------------------------------------------------------------

_addr_counter = itertools.count()
# Parallel runs start far apart (by pid) in 127.0.2.1 .. 127.0.254.254.
_addr_base = (os.getpid() % 400) * 120


def next_address():
    """A fresh loopback address 127.0.X.Y whose ports 2379/2380 are free."""
    for _ in range(1000):
        idx = (_addr_base + next(_addr_counter)) % (253 * 254)
        ip = f"127.0.{2 + idx // 254}.{1 + idx % 254}"
        if _port_free(ip, CLIENT_PORT) and _port_free(ip, PEER_PORT):
            return ip
    raise RuntimeError("no free loopback address found")


def sanitizer_reports(text):
    return [ln for ln in text.splitlines() if any(p in ln for p in SANITIZER_PATTERNS)]


# ---- HTTP ------------------------------------------------------------------


def read_to_eof(sock):
    """Everything sock receives until the other side closes."""
    out = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return out
        out += chunk


def http_request(ip, port, path, method="GET", timeout=5.0, headers=None, body=None):
    """(status, body bytes, headers dict with lower-case names)."""
    conn = http.client.HTTPConnection(ip, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        body = r.read()
        return r.status, body, {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def put_form(node, key, value, timeout=5.0):
    """PUT /v2/keys/<key> with value=<value> as a form body, as etcd
    clients send it: (status, body bytes, headers)."""
    return http_request(
        node.ip,
        CLIENT_PORT,
        f"/v2/keys/{key}",
        method="PUT",
        headers=FORM,
        body=urllib.parse.urlencode({"value": value}),
        timeout=timeout,
    )


class Hammer(threading.Thread):
    """Opens a new TCP connection per request to ip:port in a tight loop
    (GET path, Connection: close) and counts what happened."""

    def __init__(self, ip, port, path="/version", expect=VERSION_BODY):
        super().__init__(daemon=True)
        self.ip, self.port, self.path, self.expect = ip, port, path, expect
        self.ok = 0
        self.refused = 0
        self.failures = []
        self._stop_ev = threading.Event()

    def run(self):
        while not self._stop_ev.is_set():
            try:
                status, body, _ = http_request(
                    self.ip, self.port, self.path, timeout=5.0, headers={"Connection": "close"}
                )
                if status == 200 and body == self.expect:
                    self.ok += 1
                else:
                    self.failures.append(f"HTTP {status} {body[:80]!r}")
            except ConnectionRefusedError as e:
                self.refused += 1
                self.failures.append(f"refused: {e!r}")
            except Exception as e:  # noqa: BLE001 - every failure counts
                self.failures.append(repr(e))

    def stop(self):
        self._stop_ev.set()
        self.join(15)
        assert not self.is_alive(), "the HTTP client thread did not stop"


# ---- the node --------------------------------------------------------------


def clean_env(extra=None):
    """The test's environment without any ETCD_* variable, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETCD_")}
    env.update(extra or {})
    return env


class Node:
    """One concord node in directory `base` (created), used as its cwd."""

    def __init__(self, base, name="n1", ip=None, data_dir=None):
        self.dir = Path(base)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.ip = ip or next_address()
        self.data_dir = Path(data_dir) if data_dir else self.dir / "data"
        self.log_path = self.dir / "concord.log"
        self.stdout_path = self.dir / "stdout.txt"
        self.stderr_path = self.dir / "stderr.txt"
        self.admin_socket = None  # when set, concordctl gets --admin-socket
        self.proc = None
        self.seen_pids = set()
        self.extra_fallback_dirs = set()
        self._starts = 0

    # -- command line --

    @property
    def client_url(self):
        return f"http://{self.ip}:{CLIENT_PORT}"

    @property
    def peer_url(self):
        return f"http://{self.ip}:{PEER_PORT}"

    def flags(self, **over):
        """The node's etcd flags as a list; keyword overrides replace a flag's
        value (underscores for dashes), None drops it."""
        f = {
            "name": self.name,
            "data-dir": str(self.data_dir),
            "listen-client-urls": self.client_url,
            "advertise-client-urls": self.client_url,
            "listen-peer-urls": self.peer_url,
            "initial-advertise-peer-urls": self.peer_url,
            "initial-cluster": f"{self.name}={self.peer_url}",
        }
        for k, v in over.items():
            f[k.replace("_", "-")] = v
        out = []
        for k, v in f.items():
            if v is not None:
                out += [f"-{k}", v]
        return out

    def start(self, extra_args=(), env=None, args=None, log_file=True, stall_stderr=False):
        """Starts the master (does not wait). args replaces the default flags;
        extra_args are appended; env adds to a clean environment (None values
        remove a variable).

        stall_stderr (use without log_file): stderr is a pipe filled to the
        brim before the start, so the master blocks in its first log write,
        after its signal handlers are installed and before it forks any
        worker. release_stderr() drains it (and keeps draining it into
        stderr.txt)."""
        assert self.proc is None or self.proc.poll() is not None, "node already running"
        argv = [CONCORD] + (list(args) if args is not None else self.flags())
        if log_file:
            argv += ["--log-file", str(self.log_path)]
        argv += list(extra_args)
        e = clean_env()
        for k, v in (env or {}).items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        self._starts += 1
        # Append: a node may be started more than once in a test.
        self._out = open(self.stdout_path, "ab")
        self._err = open(self.stderr_path, "ab")
        err = self._err
        if stall_stderr:
            r, w = os.pipe()
            fl = fcntl.fcntl(w, fcntl.F_GETFL)
            fcntl.fcntl(w, fcntl.F_SETFL, fl | os.O_NONBLOCK)
            try:
                while True:
                    os.write(w, b"\0" * 4096)
            except BlockingIOError:
                pass
            # Blocking again: the master shares this file description.
            fcntl.fcntl(w, fcntl.F_SETFL, fl)
            self._stall_r, err = r, w
        self.proc = subprocess.Popen(
            argv, cwd=self.dir, env=e, stdout=self._out, stderr=err, stdin=subprocess.DEVNULL
        )
        if stall_stderr:
            os.close(err)
        return self.proc

    def wait_stalled(self, timeout=10):
        """Waits until the master is blocked writing to its stalled stderr."""

        def blocked():
            with open(f"/proc/{self.proc.pid}/wchan") as f:
                return "pipe_write" in f.read()

        wait_for(blocked, timeout, "the master to block on its stderr pipe")

    def release_stderr(self):
        r = getattr(self, "_stall_r", None)
        if r is None:
            return
        self._stall_r = None

        def pump():
            first = True
            while True:
                data = os.read(r, 65536)
                if not data:
                    break
                if first:
                    data = data.lstrip(b"\0")
                    first = not data
                self._err.write(data)
                self._err.flush()
            os.close(r)

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()

    def run_to_exit(self, args, env=None, timeout=10, log_file=False):
        """Runs concord expecting it to exit by itself; returns (rc, stdout,
        stderr). If it is still running after timeout it is stopped and the
        test fails."""
        self.stdout_path.write_bytes(b"")
        self.stderr_path.write_bytes(b"")
        self.start(args=args, env=env, log_file=log_file)

        def exited():
            if self.proc.poll() is not None:
                return True
            if "started storage worker" in self.log_text():
                raise AssertionError("it started its workers")
            return False

        try:
            wait_for(exited, timeout, "concord to exit")
        except AssertionError as e:
            self.remember_pids()
            raise AssertionError(
                f"concord {' '.join(args)} was expected to exit but kept running: {e} "
                f"(log: {self.log_text()[-2000:]})"
            ) from None
        rc = self.proc.returncode
        return rc, self.stdout_path.read_text(errors="replace"), self.stderr_path.read_text(
            errors="replace"
        )

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # -- admin --

    def ctl_argv(self, *args):
        loc = (
            ["--admin-socket", str(self.admin_socket)]
            if self.admin_socket
            else ["--data-dir", str(self.data_dir)]
        )
        return [CONCORDCTL] + loc + list(args)

    def ctl(self, *args, check=True, timeout=10, env=None, argv=None):
        """Runs concordctl; with check, a non-zero exit fails the test."""
        r = subprocess.run(
            argv or self.ctl_argv(*args),
            cwd=self.dir,
            env=clean_env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and r.returncode != 0:
            raise AssertionError(
                f"concordctl {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}"
            )
        return r

    def status(self):
        """`concordctl status`, parsed."""
        st = json.loads(self.ctl("status").stdout)
        self._remember(st)
        return st

    def admin_path(self):
        return str(self.admin_socket or (self.data_dir / "admin.sock"))

    def admin(self, *requests, path=None, timeout=5.0):
        """Sends request lines (dicts are JSON-encoded, str sent verbatim) on
        ONE admin connection; returns the answer lines parsed as JSON."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        answers = []
        try:
            s.connect(path or self.admin_path())
            f = s.makefile("rb")
            for req in requests:
                line = req if isinstance(req, str) else json.dumps(req)
                s.sendall(line.encode() + b"\n")
                ans = f.readline()
                if not ans.endswith(b"\n"):
                    raise AssertionError(f"no answer line to {line!r} (got {ans!r})")
                answers.append(json.loads(ans))
        finally:
            s.close()
        return answers

    def admin_raw(self, data, n_answers, timeout=5.0):
        """Writes data (bytes, possibly several lines) in one send on one
        connection and returns the first n_answers answer lines parsed."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.admin_path())
            s.sendall(data)
            f = s.makefile("rb")
            return [json.loads(f.readline()) for _ in range(n_answers)]
        finally:
            s.close()

    def fast_status(self):
        """Status over the admin socket directly (no process spawned): for
        tight polling."""
        if len(self.admin_path()) > 107:
            # Too long for sun_path: the node uses its fallback run directory,
            # which concordctl knows how to find.
            return self.status()
        st = self.admin({"cmd": "status"})[0]
        self._remember(st)
        return st

    def _remember(self, st):
        for w in st.get("workers", []):
            if w.get("pid"):
                self.seen_pids.add(w["pid"])
        run_dir = st.get("run_dir") or ""
        if os.path.isabs(run_dir) and os.path.basename(run_dir).startswith("concord-"):
            # A fallback run directory in /tmp (a data dir too deep for a
            # socket path): a SIGKILLed master cannot remove it itself.
            self.extra_fallback_dirs.add(run_dir)

    def workers(self):
        """`concordctl workers` parsed: (header line, [row dicts], raw rows)."""
        out = self.ctl("workers").stdout
        lines = [ln for ln in out.splitlines() if ln.strip()]
        header, rows = lines[0], lines[1:]
        cols = [(m.group(), m.start()) for m in re.finditer(r"\S+", header)]
        parsed = []
        for row in rows:
            d = {}
            for i, (name, start) in enumerate(cols):
                end = cols[i + 1][1] if i + 1 < len(cols) else len(row)
                d[name] = row[start:end].strip()
            parsed.append(d)
            if d.get("PID", "-").isdigit():
                self.seen_pids.add(int(d["PID"]))
        return header, parsed, rows

    def worker(self, kind, st=None):
        st = st or self.fast_status()
        for w in st["workers"]:
            if w["kind"] == kind:
                return w
        raise AssertionError(f"no {kind} worker in status")

    def worker_pid(self, kind, st=None):
        return self.worker(kind, st)["pid"]

    def worker_pids(self, st=None):
        st = st or self.fast_status()
        return {w["kind"]: w["pid"] for w in st["workers"]}

    @staticmethod
    def links_problem(st):
        """None when every link of every worker is up with its peer's current
        generation, else a description of the first problem."""
        gens = {w["kind"]: w["generation"] for w in st["workers"]}
        for w in st["workers"]:
            peers = {l["peer"] for l in w["links"]}
            want = LINK_PEERS.get(w["kind"], set())
            if peers != want:
                return f"{w['kind']} links to {sorted(peers)}, expected {sorted(want)}"
            for l in w["links"]:
                if l["state"] != "up":
                    return f"{w['kind']}->{l['peer']} is {l['state']}"
                if l["peer_generation"] != gens.get(l["peer"]):
                    return (
                        f"{w['kind']}->{l['peer']} peer_generation {l['peer_generation']} "
                        f"!= {l['peer']}'s generation {gens.get(l['peer'])}"
                    )
        return None

    def ready_problem(self, st):
        if st["state"] != "running":
            return f"master state {st['state']}"
        kinds = [w["kind"] for w in st["workers"]]
        if kinds != list(KINDS):
            return f"workers {kinds}"
        for w in st["workers"]:
            if w["state"] != "ready" or not w["pid"]:
                return f"{w['kind']} is {w['state']} (pid {w['pid']})"
        return self.links_problem(st)

    def wait_ready(self, timeout=10, old_pids=None):
        """Waits until every worker is ready (with a pid other than the one in
        old_pids, if given) and every link is up; returns that status."""
        last = {}

        def cond():
            if not self.alive():
                raise AssertionError(
                    f"master exited with {self.proc.returncode}: {self.log_text()[-3000:]}"
                )
            st = self.fast_status()
            last["st"] = st
            if old_pids:
                for w in st["workers"]:
                    if w["pid"] == old_pids.get(w["kind"]):
                        last["why"] = f"{w['kind']} still has its old pid {w['pid']}"
                        return None
            prob = self.ready_problem(st)
            last["why"] = prob
            return None if prob else st

        try:
            return wait_for(cond, timeout, f"node {self.name}@{self.ip} to be ready")
        except WaitTimeout as e:
            raise WaitTimeout(f"{e}; last problem: {last.get('why')}") from None

    # -- HTTP --

    def http_get(self, path, port=CLIENT_PORT, method="GET", timeout=5.0):
        return http_request(self.ip, port, path, method=method, timeout=timeout)

    # -- stop and cleanup --

    def send_signal(self, sig):
        assert self.alive(), "the master is not running"
        os.kill(self.proc.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=5):
        """Signals the master and waits for it; returns its exit status."""
        self.remember_pids()
        os.kill(self.proc.pid, sig)
        return self.proc.wait(timeout)

    def kill_all(self):
        """SIGKILL to the master and every worker at once, as a power cut
        would; returns when all of them are gone."""
        pids = set(self.worker_pids().values()) | {self.proc.pid}
        for p in pids:
            os.kill(p, signal.SIGKILL)
        self.proc.wait(5)
        wait_for(lambda: not any(pid_alive(p) for p in pids), 5, "killed processes to be gone")

    def remember_pids(self):
        if self.proc is not None:
            self.seen_pids.update(children_of(self.proc.pid))
        self.seen_pids.update(pids_mentioning(str(self.dir)))

    def our_live_pids(self):
        """Every live process this node may have: workers seen in status,
        children of the master, anything naming the node's directory or
        address on its command line."""
        pids = set(p for p in self.seen_pids if pid_alive(p))
        if self.proc is not None:
            pids.update(children_of(self.proc.pid))
        pids.update(pids_mentioning(str(self.dir)))
        pids.update(pids_mentioning(f"//{self.ip}:"))
        if self.proc is not None and self.proc.poll() is None:
            pids.add(self.proc.pid)
        return {p for p in pids if p != os.getpid() and self._is_concord(p)}

    @staticmethod
    def _is_concord(pid):
        cl = proc_cmdline(pid)
        return bool(cl) and (cl[0].startswith("concord: ") or cl[0].endswith("concord"))

    def log_text(self):
        parts = []
        for p in sorted(self.dir.iterdir()):
            if p.is_file() and (p.name.endswith(".txt") or ".log" in p.name):
                parts.append(p.read_text(errors="replace"))
        return "\n".join(parts)

    def cleanup(self):
        """Teardown: stops what is left, SIGKILLs leftovers by PID, scans the
        logs for sanitizer reports. Returns a list of problems."""
        problems = []
        self.release_stderr()
        if self.proc is not None:
            self.remember_pids()
            if self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    problems.append(f"master {self.proc.pid} ignored SIGTERM for 5 s")
                    os.kill(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(5)
            try:
                wait_for(lambda: not self.our_live_pids(), 3, "workers to exit")
            except WaitTimeout:
                left = sorted(self.our_live_pids())
                problems.append(
                    f"processes left behind after the master exited: "
                    f"{[(p, proc_cmdline(p)[:3]) for p in left]}"
                )
                for p in left:
                    try:
                        os.kill(p, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            pump = getattr(self, "_pump", None)
            if pump is not None:
                pump.join(5)
            for f in (getattr(self, "_out", None), getattr(self, "_err", None)):
                if f:
                    f.close()
        reports = sanitizer_reports(self.log_text())
        if reports:
            problems.append("sanitizer reports in the node's logs:\n  " + "\n  ".join(reports[:20]))
        for d in self.extra_fallback_dirs:
            # A fallback run directory in /tmp that the node left behind.
            if os.path.isdir(d):
                for e in os.listdir(d):
                    try:
                        os.unlink(os.path.join(d, e))
                    except OSError:
                        pass
                try:
                    os.rmdir(d)
                except OSError:
                    pass
        return problems


def error_lines(stderr):
    """stderr without usage text: the lines an operator reads as the error."""
    return [
        ln
        for ln in stderr.splitlines()
        if ln.strip() and not ln.startswith(("usage:", " ", "\t"))
    ]

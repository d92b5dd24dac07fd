"""Raft clusters of concord members for the integration tests (issue 5).

A Cluster is n members started the way etcd's clustering guide starts them
(static bootstrap): every member gets its own loopback address 127.x.y.z
with the client port 2379 and the peer port 2380, its own directory as its
working directory, and no --data-dir, so its data dir is `<name>.etcd` in
that directory. Members are configured either by flags (`-name ...`, Go's
single-dash syntax, or `--name ...`) or by ETCD_* variables alone.

Everything here polls with a deadline (wait_for), never sleeps to
synchronise, and only signals processes the test started, by PID.
cluster_factory (behind each test module's `make_cluster` fixture) stops
every member at teardown: SIGTERM to every master still running, SIGKILL by
PID if one is still there after STOP_TIMEOUT seconds (a failure), then the
harness's per-node checks (no process left behind, no sanitizer report in
any log).
"""

import contextlib
import http.client
import json
import os
import signal
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from harness import (
    CLIENT_PORT,
    PEER_PORT,
    Node,
    WaitTimeout,
    children_of,
    http_request,
    next_address,
    pid_alive,
    port_free,
    wait_for,
)

# Fast raft timing (ms) for every test but the seed-commands ones.
FAST = ("50", "500")
# The write timeout is 5 s + 2 x election timeout (etcd's); a write without
# quorum must end within this many seconds, whatever the timing.
NO_QUORUM_DEADLINE = 15.0
STOP_TIMEOUT = 10.0
TOKEN = "my-etcd-cluster"


class Member(Node):
    """One member: a Node whose cwd is its own directory and whose data dir
    is the default one, <dir>/<name>.etcd."""

    def __init__(self, base, name, ip, cluster):
        super().__init__(base, name=name, ip=ip, data_dir=Path(base) / f"{name}.etcd")
        self.cluster = cluster
        self.last_args = None
        self.last_env = None
        self.member_id = None  # hex, from /v2/stats/self once known

    def __repr__(self):
        return f"<{self.name}@{self.ip}>"

    def launch(self, args=None, env=None):
        """Starts the master with args/env (default: the cluster's bootstrap
        command line for this member) and remembers them for restart()."""
        if args is None and env is None:
            args, env = self.cluster.command(self)
        self.last_args, self.last_env = list(args), dict(env or {})
        return self.start(args=self.last_args, env=self.last_env,
                          log_file=self.cluster.log_file)

    def restart(self):
        """The same command line and environment, in the same directory."""
        return self.start(args=self.last_args, env=self.last_env, log_file=self.cluster.log_file)

    # -- HTTP on the client URL --

    def request(self, method, path, body=None, timeout=5.0, headers=None):
        """(status, parsed JSON body or raw bytes, headers)."""
        h = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, str)):
            body = urllib.parse.urlencode(body)
            h.setdefault("Content-Type", "application/x-www-form-urlencoded")
        status, raw, hdrs = http_request(self.ip, CLIENT_PORT, path, method=method,
                                         timeout=timeout, headers=h, body=body)
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        return status, parsed, hdrs

    def put(self, key, value, timeout=NO_QUORUM_DEADLINE + 5):
        return self.request("PUT", f"/v2/keys/{key}", body={"value": value}, timeout=timeout)

    def get(self, key, quorum=False, recursive=False, timeout=5.0):
        q = []
        if quorum:
            q.append("quorum=true")
        if recursive:
            q.append("recursive=true")
        path = f"/v2/keys/{key}" + ("?" + "&".join(q) if q else "")
        return self.request("GET", path, timeout=timeout)

    def stats_self(self, timeout=2.0):
        status, body, _ = self.request("GET", "/v2/stats/self", timeout=timeout)
        assert status == 200 and isinstance(body, dict), f"{self}: stats/self {status} {body!r}"
        return body

    def members(self):
        """(sorted member list, X-Etcd-Cluster-Id) from GET /v2/members."""
        status, body, hdrs = self.request("GET", "/v2/members")
        assert status == 200, f"{self}: /v2/members answered {status} {body!r}"
        return sorted(body["members"], key=lambda m: m["id"]), hdrs.get("x-etcd-cluster-id")

    def values_under(self, prefix, quorum=False):
        """{key: value} of every leaf under /prefix (recursive GET), {} if the
        directory does not exist yet."""
        status, body, _ = self.get(prefix, quorum=quorum, recursive=True, timeout=10.0)
        if status == 404:
            return {}
        assert status == 200, f"{self}: GET {prefix} answered {status} {body!r}"
        out = {}

        def walk(n):
            if n.get("dir"):
                for c in n.get("nodes", []):
                    walk(c)
            else:
                out[n["key"].lstrip("/")] = n.get("value")

        walk(body["node"])
        return out

    # -- admin socket --

    def hash(self):
        """`concordctl --data-dir DIR hash`, parsed: {"index":N,"hash":HEX}."""
        r = self.ctl("hash")
        h = json.loads(r.stdout)
        assert isinstance(h.get("index"), int) and isinstance(h.get("hash"), str), r.stdout
        return h

    def detail(self, kind, st=None):
        return self.worker(kind, st).get("detail") or {}

    # -- killing --

    def kill_node(self):
        """SIGKILL the master only; its workers must then exit by themselves
        (they die with their master). Fails if one is still alive after 5 s."""
        workers = set(children_of(self.proc.pid))
        try:
            workers |= set(self.worker_pids().values())
        except Exception:  # noqa: BLE001 - the admin socket may be gone already
            pass
        workers.discard(0)
        self.remember_pids()
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)
        wait_for(lambda: not any(pid_alive(p) for p in workers), 5,
                 f"{self}'s workers {sorted(workers)} to exit after its master was SIGKILLed")

    def stop_node(self, timeout=STOP_TIMEOUT):
        """SIGTERM, and the exit status (0 expected)."""
        return self.stop(signal.SIGTERM, timeout=timeout)


class Cluster:
    """n members named etcd0..etcd{n-1} (or `names`), on `ips` (default: fresh
    loopback addresses), bootstrapped statically.

    via: "flags" (Go's single-dash syntax), "dflags" (--flag value) or "env"
    (ETCD_* variables only, no argument). timing: (heartbeat, election) in ms
    as strings, or None for the defaults. extra: more arguments for every
    member (flags modes only)."""

    def __init__(self, base, n, ips=None, names=None, via="dflags", timing=FAST, extra=(),
                 token=TOKEN, log_file=True):
        self.base = Path(base)
        self.via, self.timing, self.extra, self.token = via, timing, list(extra), token
        self.log_file = log_file
        names = names or [f"etcd{i}" for i in range(n)]
        ips = ips or [next_address() for _ in range(n)]
        assert len(names) == len(ips) == n
        self.members = [Member(self.base / nm, nm, ip, self) for nm, ip in zip(names, ips)]
        self.initial_cluster = ",".join(f"{m.name}={m.peer_url}" for m in self.members)

    def __iter__(self):
        return iter(self.members)

    def __getitem__(self, i):
        return self.members[i]

    def __len__(self):
        return len(self.members)

    # -- command lines --

    def command(self, m, token=None, initial_cluster=None, state="new"):
        """(args, env) that start member m as etcd's clustering guide does."""
        opts = [
            ("name", m.name),
            ("initial-advertise-peer-urls", m.peer_url),
            ("listen-peer-urls", m.peer_url),
            ("listen-client-urls", m.client_url),
            ("advertise-client-urls", m.client_url),
            ("initial-cluster-token", token or self.token),
            ("initial-cluster", initial_cluster or self.initial_cluster),
            ("initial-cluster-state", state),
        ]
        if self.timing:
            opts += [("heartbeat-interval", self.timing[0]), ("election-timeout", self.timing[1])]
        if self.via == "env":
            assert not self.extra, "extra arguments in env mode"
            return [], {"ETCD_" + k.upper().replace("-", "_"): v for k, v in opts}
        dash = "-" if self.via == "flags" else "--"
        args = []
        for k, v in opts:
            args += [dash + k, v]
        return args + self.extra, {}

    # -- starting --

    def start(self, members=None, ready_timeout=20, port_wait=10):
        """Starts the members (default: all) and waits until each one's
        workers are ready. Fixed addresses may still be held by a previous
        test's cluster for a moment: their ports are polled first."""
        members = list(members or self.members)
        for m in members:
            wait_for(lambda: port_free(m.ip, CLIENT_PORT) and port_free(m.ip, PEER_PORT),
                     port_wait, f"{m.ip}:{CLIENT_PORT} and :{PEER_PORT} to be free")
        for m in members:
            m.launch()
        for m in members:
            m.wait_ready(timeout=ready_timeout)
        return self

    def alive(self):
        return [m for m in self.members if m.alive()]

    # -- leadership --

    def leader_now(self, members=None, seen=None):
        """The leader if exactly one of `members` (default: the live ones)
        says StateLeader and every one of them names it in leaderInfo; else
        None. Records each member's id (and, in `seen`, what each said)."""
        members = list(members or self.alive())
        stats = {}
        for m in members:
            s = m.stats_self()
            m.member_id = s["id"]
            stats[m] = s
            if seen is not None:
                seen[m.name] = (s["id"], s["state"], s["leaderInfo"]["leader"])
        leaders = [m for m, s in stats.items() if s["state"] == "StateLeader"]
        if len(leaders) != 1:
            return None
        lid = stats[leaders[0]]["id"]
        if all(s["leaderInfo"]["leader"] == lid for s in stats.values()):
            return leaders[0]
        return None

    def wait_leader(self, timeout=15, members=None, not_id=None):
        """Polls until the members agree on one leader (other than not_id, if
        given); returns it."""
        last = {}

        def cond():
            last.clear()
            ldr = self.leader_now(members, seen=last)
            return ldr if ldr is not None and ldr.member_id != not_id else None

        try:
            return wait_for(cond, timeout, "the members to agree on one leader", interval=0.02)
        except WaitTimeout as e:
            raise WaitTimeout(f"{e}; last seen: {last}") from None

    def followers(self, leader, members=None):
        return [m for m in (members or self.alive()) if m is not leader]

    # -- reads and convergence --

    def wait_values(self, expected, prefix, members=None, timeout=20):
        """Polls each member (quorum=false) until every key of `expected`
        under /prefix holds its value there. A key holding another value is
        a failure at once (keys are written once)."""
        for m in members or self.alive():
            last = {}

            def cond():
                got = m.values_under(prefix)
                last["got"] = got
                wrong = {k: (v, got[k]) for k, v in expected.items() if k in got and got[k] != v}
                if wrong:
                    return ("wrong", wrong)
                return ("ok",) if all(k in got for k in expected) else None

            try:
                r = wait_for(cond, timeout, f"{m} to hold all {len(expected)} keys under /{prefix}")
            except WaitTimeout as e:
                missing = sorted(k for k in expected if k not in last.get("got", {}))
                raise AssertionError(
                    f"{e}: {len(missing)} missing on {m}, e.g. {missing[:5]}") from None
            assert r[0] == "ok", f"{m} holds other values than acknowledged: {list(r[1].items())[:5]}"

    def check_quorum_reads(self, expected, prefix, members=None):
        """A quorum=true read of /prefix on each member holds every key."""
        for m in members or self.alive():
            got = m.values_under(prefix, quorum=True)
            missing = [k for k in expected if got.get(k) != expected[k]]
            assert not missing, (
                f"{m}: a quorum=true read misses {len(missing)} acknowledged keys, "
                f"e.g. {missing[:5]}")

    def wait_same_hash(self, members=None, timeout=20):
        """Samples `concordctl hash` on every member until they have all
        reported some common applied index; every member reporting the same
        index must report the same hash. Returns (index, hash)."""
        members = list(members or self.alive())
        seen = [dict() for _ in members]  # per member: index -> hash

        def cond():
            for i, m in enumerate(members):
                h = m.hash()
                seen[i][h["index"]] = h["hash"]
            for idx in set().union(*seen):
                hs = {m.name: s[idx] for m, s in zip(members, seen) if idx in s}
                if len(set(hs.values())) > 1:
                    return ("mismatch", idx, hs)
            common = set(seen[0]).intersection(*seen[1:])
            return ("ok", max(common)) if common else None

        try:
            r = wait_for(cond, timeout, "every member to report a hash at a common applied index",
                         interval=0.05)
        except WaitTimeout as e:
            raise AssertionError(
                f"{e}; indexes seen: "
                f"{ {m.name: sorted(s)[-5:] for m, s in zip(members, seen)} }") from None
        assert r[0] == "ok", f"different hashes at applied index {r[1]}: {r[2]}"
        return r[1], seen[0][r[1]]

    # -- stopping --

    def cleanup(self):
        """SIGTERM every master still running, all at once (a member alone
        may wait for its peers), SIGKILL by PID after STOP_TIMEOUT, then each
        node's own checks. Returns a list of problems."""
        problems = []
        running = [m for m in self.members if m.alive()]
        for m in running:
            m.remember_pids()
            try:
                os.kill(m.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_TIMEOUT
        for m in running:
            try:
                m.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                problems.append(f"{m}: master {m.proc.pid} ignored SIGTERM for {STOP_TIMEOUT} s")
                os.kill(m.proc.pid, signal.SIGKILL)
                m.proc.wait(5)
        for m in self.members:
            problems += [f"{m}: {p}" for p in m.cleanup()]
        return problems


@contextlib.contextmanager
def cluster_factory(base):
    """For a test module's fixture:

        @pytest.fixture
        def make_cluster(tmp_path):
            with cluster_factory(tmp_path) as make:
                yield make

    make(n, **Cluster options) -> Cluster (not started). On exit every
    cluster made is stopped and checked; problems fail the test."""
    clusters = []

    def make(n, **kw):
        c = Cluster(Path(base) / f"cluster{len(clusters)}", n, **kw)
        clusters.append(c)
        return c

    try:
        yield make
    finally:
        problems = []
        for c in clusters:
            problems += c.cleanup()
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)


# ---- write load --------------------------------------------------------------


class Writer(threading.Thread):
    """PUTs distinct keys prefix/tag/i to one member in a loop, each on a new
    connection. Every answer is sorted: 2xx (acknowledged: key -> value),
    errorCode 300 (allowed), a broken connection (allowed), anything else
    (bad)."""

    def __init__(self, member, prefix, tag, timeout=NO_QUORUM_DEADLINE + 5):
        super().__init__(daemon=True)
        self.member, self.prefix, self.tag, self.timeout = member, prefix, tag, timeout
        self.halt = threading.Event()
        self.acked, self.errors, self.broken, self.bad = {}, 0, 0, []

    def run(self):
        i = 0
        while not self.halt.is_set():
            key, value = f"{self.prefix}/{self.tag}/{i}", f"v{i}"
            i += 1
            try:
                c = http.client.HTTPConnection(self.member.ip, CLIENT_PORT, timeout=self.timeout)
                c.request("PUT", f"/v2/keys/{key}", body=urllib.parse.urlencode({"value": value}),
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
                r = c.getresponse()
                body = r.read()
                c.close()
            except (OSError, http.client.HTTPException):
                self.broken += 1
                continue
            if r.status in (200, 201):
                self.acked[key] = value
                continue
            try:
                code = json.loads(body).get("errorCode")
            except ValueError:
                code = None
            if r.status == 500 and code == 300:
                self.errors += 1
            else:
                self.bad.append((key, r.status, body[:200]))


def acked_count(writers):
    return sum(len(w.acked) for w in writers)


def log_mark(member):
    """The size of each of the member's log files now (see log_lines)."""
    return {p.name: p.stat().st_size for p in member.dir.iterdir()
            if p.is_file() and (p.name.endswith(".txt") or ".log" in p.name)}


def log_lines(member, *words, since=None):
    """Lines of the member's logs (stderr capture and --log-file) containing
    every word, case-insensitively; with since (a log_mark), only what was
    written after it."""
    out = []
    for p in sorted(member.dir.iterdir()):
        if not (p.is_file() and (p.name.endswith(".txt") or ".log" in p.name)):
            continue
        with open(p, "rb") as f:
            f.seek((since or {}).get(p.name, 0))
            text = f.read().decode(errors="replace")
        out += [ln for ln in text.splitlines() if all(w.lower() in ln.lower() for w in words)]
    return out

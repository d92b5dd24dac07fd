"""The README's quick start: `scripts/run` with no flags starts one member
with etcd's defaults (name "default", data dir ./default.etcd, clients on
localhost:2379, peers on localhost:2380) whose `concordctl workers` lists
storage, consensus, peer and http with their pids.

It runs the script itself (set-up and build are no-ops once done) in a
fresh working directory. The default ports are fixed by etcd, so the test
cannot pick its own address: when something else already holds one of them
it is skipped, saying which."""

import http.client
import json
import os
import signal
import subprocess

import pytest

from harness import CONCORDCTL, _port_free, children_of, pid_alive, wait_for

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_PORTS = (2379, 2380, 4001, 7001)


def test_scripts_run_starts_a_member_with_etcd_defaults(tmp_path):
    busy = [p for p in DEFAULT_PORTS if not _port_free("127.0.0.1", p)]
    if busy:
        pytest.skip(f"127.0.0.1 ports {busy} are in use by another program")
    log = open(tmp_path / "run.log", "wb")
    proc = subprocess.Popen(
        [os.path.join(REPO, "scripts", "run")], cwd=tmp_path, stdout=log, stderr=log
    )
    pids = set()
    try:
        data_dir = tmp_path / "default.etcd"

        def workers():
            if proc.poll() is not None:
                raise AssertionError(f"scripts/run exited: {(tmp_path / 'run.log').read_text()}")
            r = subprocess.run(
                [CONCORDCTL, "--data-dir", str(data_dir), "status"],
                capture_output=True,
                text=True,
            )
            if r.returncode != 0:
                return None
            st = json.loads(r.stdout)
            ws = st["workers"]
            if st["state"] != "running" or any(w["state"] != "ready" for w in ws):
                return None
            return st

        st = wait_for(workers, 60, "scripts/run's member to be ready")
        assert st["name"] == "default"
        assert os.path.isdir(data_dir)
        kinds = {w["kind"]: w["pid"] for w in st["workers"]}
        assert sorted(kinds) == ["consensus", "http", "peer", "storage"]
        master = st["pid"]
        assert set(kinds.values()) == set(children_of(master))
        pids = set(kinds.values()) | {master}

        table = subprocess.run(
            [CONCORDCTL, "--data-dir", str(data_dir), "workers"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        assert table[0].split() == ["KIND", "PID", "STATE", "UPTIME", "RESTARTS", "LAST-EXIT"]
        rows = {line.split()[0]: line.split()[1] for line in table[1:]}
        assert rows == {k: str(p) for k, p in kinds.items()}

        for port in (2379, 4001):
            c = http.client.HTTPConnection("localhost", port, timeout=5)
            c.request("GET", "/version")
            assert c.getresponse().status == 200
            c.close()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for p in pids:
            if pid_alive(p):
                os.kill(p, signal.SIGKILL)
        log.close()

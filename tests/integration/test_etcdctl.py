"""The real etcdctl (Debian's etcd-client, ETCDCTL_API=2) against a member:
set, get, mk, mkdir, rm, rmdir, update, updatedir, ls, watch, exec-watch,
member list and cluster-health, with their output and exit codes. etcdctl
syncs the endpoint list through /v2/members before each command, so this
also checks that the member publishes its client URLs."""

import os
import shutil
import subprocess
import threading

import pytest

from harness import wait_for

ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"

pytestmark = pytest.mark.skipif(
    not os.access(ETCDCTL, os.X_OK), reason="etcdctl (Debian etcd-client) is not installed"
)


def ctl(node, *args, timeout=10, check=True):
    env = dict(os.environ, ETCDCTL_API="2")
    r = subprocess.run(
        [ETCDCTL, "--endpoints", node.client_url, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    if check and r.returncode != 0:
        raise AssertionError(f"etcdctl {' '.join(args)}: rc={r.returncode} {r.stderr!r}")
    return r


def test_key_commands(node):
    assert ctl(node, "set", "/ctl/a", "one").stdout == "one\n"
    assert ctl(node, "get", "/ctl/a").stdout == "one\n"
    assert ctl(node, "update", "/ctl/a", "two").stdout == "two\n"
    assert ctl(node, "mk", "/ctl/b", "bee").stdout == "bee\n"
    r = ctl(node, "mk", "/ctl/b", "again", check=False)
    assert r.returncode == 4 and "105: Key already exists (/ctl/b)" in r.stderr
    assert ctl(node, "mkdir", "/ctl/d").stdout == ""
    assert ctl(node, "updatedir", "/ctl/d", "--ttl", "100").returncode == 0
    assert ctl(node, "ls", "/ctl", "--sort").stdout.split() == ["/ctl/a", "/ctl/b", "/ctl/d"]
    ctl(node, "set", "/ctl/d/x", "ex")
    assert ctl(node, "ls", "-r", "-p", "--sort", "/ctl").stdout.split() == [
        "/ctl/a",
        "/ctl/b",
        "/ctl/d/",
        "/ctl/d/x",
    ]
    r = ctl(node, "get", "/ctl/d", check=False)
    assert r.returncode != 0 and "is a directory" in (r.stdout + r.stderr)
    assert ctl(node, "rm", "/ctl/a").stdout == "PrevNode.Value: two\n"
    r = ctl(node, "get", "/ctl/a", check=False)
    assert r.returncode == 4 and "100: Key not found (/ctl/a)" in r.stderr
    r = ctl(node, "rmdir", "/ctl/d", check=False)
    assert r.returncode == 4 and "108: Directory not empty" in r.stderr
    ctl(node, "rm", "/ctl/d/x")
    assert ctl(node, "rmdir", "/ctl/d").returncode == 0
    ext = ctl(node, "-o", "extended", "get", "/ctl/b").stdout
    assert "Key: /ctl/b" in ext and "Modified-Index:" in ext and ext.endswith("bee\n")


def test_member_list_and_cluster_health(node):
    out = ctl(node, "member", "list").stdout
    assert f"name={node.name}" in out and f"clientURLs={node.client_url}" in out
    assert "isLeader=true" in out
    r = ctl(node, "cluster-health")
    assert "cluster is healthy" in r.stdout


def test_watch_and_exec_watch(node, tmp_path):
    out = {}

    def watch():
        out["r"] = ctl(node, "watch", "/ctl/w", timeout=20)

    t = threading.Thread(target=watch)
    t.start()
    # The watch is registered once the server counts it.
    wait_for(
        lambda: b'"watchers":1' in node.http_get("/v2/stats/store")[1], 10, "the watch to register"
    )
    ctl(node, "set", "/ctl/w", "seen")
    t.join(20)
    assert out["r"].stdout == "seen\n"

    marker = tmp_path / "exec.out"
    script = f'echo "$ETCD_WATCH_ACTION $ETCD_WATCH_KEY $ETCD_WATCH_VALUE" >> {marker}'
    env = dict(os.environ, ETCDCTL_API="2")
    # etcdctl 3.4's command-line library swallows the first "--"; only a
    # second one makes it take the key first and the command after it.
    p = subprocess.Popen(
        [ETCDCTL, "--endpoints", node.client_url, "exec-watch", "/ctl/e", "--", "--", "sh", "-c",
         script],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: b'"watchers":1' in node.http_get("/v2/stats/store")[1],
            10,
            "exec-watch to register",
        )
        ctl(node, "set", "/ctl/e", "first")
        wait_for(lambda: marker.exists() and "first" in marker.read_text(), 10, "exec-watch output")
        assert marker.read_text().splitlines()[0] == "set /ctl/e first"
    finally:
        p.terminate()
        p.wait(5)

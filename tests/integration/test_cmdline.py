"""The command line and environment of `concord`.

Checks: bad command lines exit non-zero before any worker starts, with one
clear line on stderr (usage text aside for the exit-2 cases) and no process
left behind: an unknown flag (exit 2), a bad URL, a --name missing from
--initial-cluster, --initial-cluster with --discovery, an election timeout
under 5 heartbeats, a flag whose feature is not built (--cert-file).
--version and --help exit 0. Configuration from ETCD_* variables alone
starts a node; a flag beats its ETCD_* twin, with a warning naming the
variable in the log.
"""

import pytest

from harness import CONCORDCTL, HEALTH_BODY, error_lines, wait_for


def run_bad(make_node, over=None, extra=(), env=None):
    """Runs concord with the node's flags changed by over/extra; expects an
    exit before any worker starts. Returns (node, rc, stdout, stderr, the one
    error line)."""
    n = make_node()
    if callable(extra):
        extra = extra(n)
    rc, out, err = n.run_to_exit(n.flags(**(over or {})) + list(extra), env=env, timeout=10)
    assert rc != 0, f"exit 0: {out}{err}"
    assert "worker" not in err, f"workers were started: {err}"
    assert not n.our_live_pids(), "processes left behind"
    assert not (n.data_dir / "admin.sock").exists()
    lines = error_lines(err)
    assert len(lines) == 1, f"expected one error line, got: {err!r}"
    return n, rc, out, err, lines[0]


def test_unknown_flag(make_node):
    n, rc, out, err, line = run_bad(make_node, extra=["-bogus"])
    assert rc == 2
    assert "flag provided but not defined: -bogus" in line
    # Nothing but the error and usage on stderr/stdout.
    assert "usage" in (out + err).lower()


def test_bad_url(make_node):
    n, rc, out, err, line = run_bad(make_node, over={"listen_client_urls": "ftp://x:1"})
    assert "ftp://x:1" in line, line
    assert "listen-client-urls" in line, line
    assert "scheme" in line, line


def test_name_not_in_initial_cluster(make_node):
    n, rc, out, err, line = run_bad(make_node, over={"name": "x"})
    assert 'couldn\'t find local name "x" in the initial cluster configuration' in line, line


def test_initial_cluster_and_discovery(make_node):
    n, rc, out, err, line = run_bad(
        make_node, extra=lambda n: ["-discovery", f"http://{n.ip}:2381/v2/keys/_etcd/registry/x"]
    )
    assert "multiple discovery or bootstrap flags are set" in line, line


def test_election_timeout_under_five_heartbeats(make_node):
    n, rc, out, err, line = run_bad(
        make_node, extra=["-election-timeout", "100", "-heartbeat-interval", "100"]
    )
    assert "-election-timeout[100ms] should be at least as 5 times as" in line, line
    assert "-heartbeat-interval[100ms]" in line, line


def test_unsupported_feature_flag(make_node):
    n, rc, out, err, line = run_bad(make_node, extra=["-cert-file", "x"])
    assert "not supported yet: --cert-file" in line, line
    assert not n.data_dir.exists(), "refused flags must not touch the data dir"


@pytest.mark.parametrize("flag", ["--version", "-version"])
def test_version(make_node, flag):
    n = make_node()
    rc, out, err = n.run_to_exit([flag])
    assert rc == 0, err
    assert "Version:" in out and any(c.isdigit() for c in out), out
    assert err == ""
    assert not n.our_live_pids()


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(make_node, flag):
    n = make_node()
    rc, out, err = n.run_to_exit([flag])
    assert rc == 0, err
    assert "usage" in out.lower()
    for f in ("--name", "--data-dir", "--listen-client-urls", "--initial-cluster", "--log-file"):
        assert f in out, f
    assert not n.our_live_pids()


def test_env_only_configuration(make_node):
    n = make_node(name="envnode")
    env = {
        "ETCD_NAME": n.name,
        "ETCD_DATA_DIR": str(n.data_dir),
        "ETCD_LISTEN_CLIENT_URLS": n.client_url,
        "ETCD_ADVERTISE_CLIENT_URLS": n.client_url,
        "ETCD_LISTEN_PEER_URLS": n.peer_url,
        "ETCD_INITIAL_ADVERTISE_PEER_URLS": n.peer_url,
        "ETCD_INITIAL_CLUSTER": f"{n.name}={n.peer_url}",
        "ETCD_LOG_FILE": str(n.log_path),
    }
    n.start(args=[], env=env, log_file=False)
    st = n.wait_ready()
    assert st["name"] == "envnode"
    assert st["data_dir"] == str(n.data_dir)
    assert (n.data_dir / "admin.sock").exists()
    assert n.http_get("/health")[:2] == (200, HEALTH_BODY)
    assert n.log_path.exists() and "starting as a member" in n.log_path.read_text()
    # concordctl finds the node from ETCD_DATA_DIR alone, too.
    r = n.ctl(argv=[CONCORDCTL, "workers"], env={"ETCD_DATA_DIR": str(n.data_dir)})
    assert sum(" ready " in ln for ln in r.stdout.splitlines()) == 4, r.stdout


def test_flag_beats_env_twin_with_warning(make_node, tmp_path):
    n = make_node()
    elsewhere = tmp_path / "env-data-dir"
    n.start(env={"ETCD_NAME": "fromenv", "ETCD_DATA_DIR": str(elsewhere)})
    st = n.wait_ready()
    assert st["name"] == n.name
    assert st["data_dir"] == str(n.data_dir)
    assert not elsewhere.exists()
    log = wait_for(lambda: (t := n.log_path.read_text()) and "ETCD_NAME" in t and t, 5,
                   "the warning about ETCD_NAME")
    warn = [ln for ln in log.splitlines() if "ETCD_NAME" in ln]
    assert len(warn) == 1 and "WARN" in warn[0], warn
    assert "shadowed" in warn[0] or "flag" in warn[0], warn
    assert any("ETCD_DATA_DIR" in ln and "WARN" in ln for ln in log.splitlines()), log
    # The workers parse the same command line and environment: same name.
    for w in st["workers"]:
        assert w["state"] == "ready"


def test_bad_env_value(make_node):
    n, rc, out, err, line = run_bad(make_node, env={"ETCD_SNAPSHOT_COUNT": "abc"})
    assert rc == 1
    assert "ETCD_SNAPSHOT_COUNT" in line and "abc" in line, line


def test_stray_argument(make_node):
    n, rc, out, err, line = run_bad(make_node, extra=["stray"])
    assert "'stray' is not a valid flag" in line, line

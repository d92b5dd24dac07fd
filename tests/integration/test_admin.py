"""The admin socket and concordctl.

Checks: the socket is DATA_DIR/admin.sock with mode 0600; `concordctl
restart KIND` (every kind) and the raw admin request
{"cmd":"restart","worker":"http"} restart a worker gracefully (new pid,
restarts 1, last_exit {"code":0}, links and /health back, other workers
untouched); a graceful http restart fails no client request, whether
requests arrive in a tight loop or one is half sent when the stop begins; a
second restart while the first is under way is refused; bad requests (not
JSON, no cmd, unknown cmd, unknown worker, restart without worker) each get
one JSON line with "error" and the connection keeps working; an oversized
request line closes only that connection; the help command; --admin-socket
PATH moves the socket and `concordctl --admin-socket PATH` finds it;
concordctl without a node fails with one clear line.
"""

import os
import socket
import stat
import subprocess

import pytest

from harness import CLIENT_PORT, CONCORDCTL, HEALTH_BODY, VERSION_BODY, Hammer, wait_for


def test_admin_socket_location_and_mode(node):
    path = node.data_dir / "admin.sock"
    st = os.stat(path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    assert st.st_uid == os.getuid()


def check_graceful_restart(node, kind, old):
    def back():
        w = node.worker(kind)
        return w if w["state"] == "ready" and w["pid"] not in (0, old["pid"]) else None

    new = wait_for(back, 5, f"a new {kind} worker")
    assert new["restarts"] == old["restarts"] + 1, new
    assert new["last_exit"] == {"code": 0}, new
    assert new["generation"] > old["generation"]
    wait_for(lambda: node.links_problem(node.fast_status()) is None, 5,
             "every link up after the restart")
    status, body, _ = node.http_get("/health")
    assert (status, body) == (200, HEALTH_BODY)
    return new


def test_ctl_restart_http(node):
    old = node.worker("http")
    others = {k: p for k, p in node.worker_pids().items() if k != "http"}
    r = node.ctl("restart", "http")
    assert r.stdout.strip() == '{"ok":true}', r.stdout
    check_graceful_restart(node, "http", old)
    assert {k: p for k, p in node.worker_pids().items() if k != "http"} == others
    # The table shows it too.
    _, rows, _ = node.workers()
    http = [r for r in rows if r["KIND"] == "http"][0]
    assert http["RESTARTS"] == "1" and http["LAST-EXIT"] == "exit 0", http


def test_raw_admin_restart_http(node):
    old = node.worker("http")
    (ans,) = node.admin({"cmd": "restart", "worker": "http"})
    assert ans == {"ok": True}
    new = check_graceful_restart(node, "http", old)
    (ans,) = node.admin({"cmd": "restart", "worker": "http"})
    assert ans == {"ok": True}
    newer = check_graceful_restart(node, "http", new)
    assert newer["restarts"] == 2


def test_restart_http_fails_no_request(node):
    """A graceful http restart alone, ten times, under a client loop: the
    listening socket stays open in the master, so no request may fail."""
    hammer = Hammer(node.ip, CLIENT_PORT)
    hammer.start()
    try:
        for _ in range(10):
            old = node.worker("http")
            node.ctl("restart", "http")
            wait_for(lambda: (w := node.worker("http"))["state"] == "ready"
                     and w["pid"] != old["pid"], 5, "a new http worker")
            base = hammer.ok
            wait_for(lambda: hammer.ok >= base + 10 or len(hammer.failures) > 20, 10,
                     "requests served by the new http worker")
    finally:
        hammer.stop()
    assert hammer.refused == 0, hammer.failures[:5]
    assert hammer.failures == [], f"{len(hammer.failures)} of {hammer.ok + len(hammer.failures)} " \
        f"requests failed: {hammer.failures[:3]}"
    assert hammer.ok > 100


def read_http_response(s):
    """Reads one HTTP/1.1 response with Content-Length from socket s:
    (status line, body). Raises if the server closes first."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError(f"closed by the server after {buf!r}")
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    length = 0
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError(f"closed by the server in the body: {buf!r}")
        body += chunk
    return lines[0].decode(), body


def test_restart_http_answers_request_in_flight(node):
    """Deterministic form of the case above: a client whose request is half
    sent when the http worker is told to stop must still get its answer."""
    old = node.worker("http")
    s = socket.create_connection((node.ip, CLIENT_PORT), timeout=5)
    try:
        # A first request on a keep-alive connection: the old worker owns it.
        s.sendall(b"GET /version HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_http_response(s) == ("HTTP/1.1 200 OK", VERSION_BODY)
        s.sendall(b"GET /version HTTP/1.1\r\nHost: t\r\n")
        node.ctl("restart", "http")
        wait_for(lambda: f"http[{old['pid']}]: stopping" in node.log_text(), 5,
                 "the old http worker to begin its graceful stop")
        try:
            s.sendall(b"Connection: close\r\n\r\n")
            answer = read_http_response(s)
        except OSError as e:
            answer = repr(e)
        assert answer == ("HTTP/1.1 200 OK", VERSION_BODY), \
            f"request in flight at the graceful stop was dropped: {answer}"
    finally:
        s.close()
    check_graceful_restart(node, "http", old)


@pytest.mark.parametrize("kind", ["storage", "consensus", "peer"])
def test_ctl_restart_other_kinds(node, kind):
    old = node.worker(kind)
    node.ctl("restart", kind)
    check_graceful_restart(node, kind, old)


BAD_REQUESTS = [
    ("not json at all", "JSON"),
    ('{"cmd":', "JSON"),
    ('{"worker":"http"}', "cmd"),
    ("[1,2,3]", "cmd"),
    ('{"cmd":42}', "cmd"),
    ('{"cmd":"frobnicate"}', "frobnicate"),
    ('{"cmd":"restart","worker":"nosuch"}', "nosuch"),
    ('{"cmd":"restart"}', "worker"),
    ('{"cmd":"restart","worker":"forward"}', "forward"),
]


def test_bad_requests_answer_error_and_connection_survives(node):
    reqs = []
    for line, _ in BAD_REQUESTS:
        reqs += [line, {"cmd": "status"}]
    answers = node.admin(*reqs)
    assert len(answers) == len(reqs)
    pids = node.worker_pids()
    for i, (line, word) in enumerate(BAD_REQUESTS):
        err, ok = answers[2 * i], answers[2 * i + 1]
        assert isinstance(err, dict) and set(err) == {"error"}, (line, err)
        assert isinstance(err["error"], str) and word.lower() in err["error"].lower(), (line, err)
        assert ok.get("state") == "running" and "error" not in ok, (line, ok)
    # None of them restarted anything.
    assert node.worker_pids() == pids
    assert all(w["restarts"] == 0 for w in node.fast_status()["workers"])


def test_restart_while_restarting_is_refused(node):
    old = node.worker("http")
    req = b'{"cmd":"restart","worker":"http"}\n'
    first, second = node.admin_raw(req + req, 2)
    assert first == {"ok": True}
    assert set(second) == {"error"} and "http" in second["error"], second
    new = check_graceful_restart(node, "http", old)
    assert new["restarts"] == 1, "the refused request must not restart it again"


def test_oversized_request_line_closes_connection(node):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(node.admin_path())
        try:
            s.sendall(b"x" * 200000)
        except (BrokenPipeError, ConnectionResetError):
            pass
        got = wait_for(lambda: (d := s.recv(4096)) == b"" and "closed", 5,
                       "the master to close the connection")
        assert got == "closed"
    finally:
        s.close()
    assert node.fast_status()["state"] == "running"
    assert "request line over" in node.log_text()


def test_help_command(node):
    (ans,) = node.admin({"cmd": "help"})
    assert set(ans["commands"]) >= {"status", "restart", "reload", "help"}, ans


def test_admin_socket_flag(make_node):
    n = make_node()
    sock = n.dir / "elsewhere.sock"
    n.start(extra_args=["--admin-socket", str(sock)])
    n.admin_socket = sock
    n.wait_ready()
    assert stat.S_ISSOCK(os.stat(sock).st_mode)
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
    assert not (n.data_dir / "admin.sock").exists()
    r = n.ctl("workers")
    assert r.stdout.splitlines()[0].split()[0] == "KIND"
    assert sum(" ready " in ln for ln in r.stdout.splitlines()) == 4, r.stdout
    # The data dir alone no longer finds it.
    r = n.ctl(argv=[CONCORDCTL, "--data-dir", str(n.data_dir), "workers"], check=False)
    assert r.returncode != 0
    assert "admin.sock" in r.stderr
    # Removed at a graceful stop.
    assert n.stop() == 0
    assert not sock.exists()


def test_ctl_without_node(tmp_path):
    dd = tmp_path / "nonode"
    res = subprocess.run([CONCORDCTL, "--data-dir", str(dd), "workers"], capture_output=True,
                         text=True, timeout=10)
    assert res.returncode != 0
    assert str(dd / "admin.sock") in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr

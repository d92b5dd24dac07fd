"""The peer port: its HTTP endpoints and the raft transport's handshake.

Checks, on a single member: GET /version and /members answer exactly as
etcd's peer handler (body, Content-Type, X-Etcd-Cluster-Id), other methods
405, /members/<x> 400 "bad path", anything else 404; garbage is answered
(HTTP 400) or cut (bytes that start like a frame) with one log line naming
the reason; a PEER_HELLO with a wrong cluster id, an unknown sender or this
member's own id gets a PEER_REFUSE frame and one log line.

Then against a fake second member (a Python socket on the address that
--initial-cluster gives it): the member dials it from its own peer address,
sends a PEER_HELLO naming both ids, logs a refusal once however often it
redials, connects once answered, sends consensus's raft traffic on that
connection; a connection the fake dials in is accepted, its raft frames go to
consensus, and one whose `from` lies is cut with a log line. A graceful
restart of the peer worker brings all of it back.

No worker restarts in any of it (the worker table is checked at the end).
"""

import json
import socket
import struct
import threading

import pytest

from harness import PEER_PORT, VERSION_BODY, next_address, read_to_eof, wait_for

HEADER = struct.Struct("<HBBHHI")  # magic, version, flags, type, reserved, length
MAGIC, FRAME_VERSION, RAFT_WIRE_VERSION = 0x4343, 4, 1
PEER_HELLO, PEER_REFUSE, RAFT = 64, 65, 66
HELLO = struct.Struct("<HQQQ")  # version, cluster_id, from, to
# RAFT's fields in order (proto/msg.h), both lists empty.
RAFT_FIELDS = struct.Struct("<BQQQQQBBQQQIBQQQQQQIB")
RAFT_HEARTBEAT_RESP = 8


def frame(type_, payload):
    return HEADER.pack(MAGIC, FRAME_VERSION, 0, type_, 0, len(payload)) + payload


def hello(cluster_id, from_, to, version=RAFT_WIRE_VERSION):
    return frame(PEER_HELLO, HELLO.pack(version, cluster_id, from_, to))


def raft_heartbeat_resp(from_, to):
    # term 0: stale for any member, so consensus reads it and changes nothing.
    f = [RAFT_HEARTBEAT_RESP, from_, to] + [0] * 18
    return frame(RAFT, RAFT_FIELDS.pack(*f))


def recv_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise EOFError(f"connection closed after {len(out)} of {n} bytes")
        out += chunk
    return out


def read_frame(sock):
    magic, version, flags, type_, reserved, length = HEADER.unpack(recv_exact(sock, 12))
    assert (magic, version, flags, reserved) == (MAGIC, FRAME_VERSION, 0, 0)
    return type_, recv_exact(sock, length)


def refusal_reason(payload):
    (n,) = struct.unpack_from("<I", payload)
    assert len(payload) == 4 + n
    return payload[4:].decode()


def identity(node):
    with open(node.data_dir / "member" / "identity.json") as f:
        d = json.load(f)
    return int(d["cluster_id"], 16), int(d["member_id"], 16), d


def log_lines(node, text):
    return [ln for ln in node.log_text().splitlines() if text in ln]


def wait_log(node, text, timeout=5):
    wait_for(lambda: log_lines(node, text), timeout, f"a log line with {text!r}")
    return log_lines(node, text)


def peer_detail(node):
    return node.worker("peer")["detail"] or {}


def check_no_restarts(node, peer_pid):
    _, rows, _ = node.workers()
    assert rows and all(r["RESTARTS"] == "0" for r in rows), rows
    assert node.worker_pid("peer") == peer_pid


def connect(node):
    return socket.create_connection((node.ip, PEER_PORT), timeout=5)


# ---- HTTP --------------------------------------------------------------------


def test_version_and_members(node):
    pid = node.worker_pid("peer")
    cluster_id, self_id, _ = identity(node)

    status, body, headers = node.http_get("/version", port=PEER_PORT)
    assert (status, body) == (200, VERSION_BODY)
    assert headers["content-type"] == "application/json"

    status, body, headers = node.http_get("/members", port=PEER_PORT)
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert headers["x-etcd-cluster-id"] == f"{cluster_id:x}"
    want = (
        f'[{{"id":{self_id},"peerURLs":["{node.peer_url}"],"name":"{node.name}",'
        f'"clientURLs":["{node.client_url}"]}}]\n'
    )
    assert body.decode() == want

    status, body, headers = node.http_get("/members/abc", port=PEER_PORT)
    assert (status, body) == (400, b"bad path\n")
    assert headers["x-etcd-cluster-id"] == f"{cluster_id:x}"
    for path in ("/members", "/version"):
        status, body, headers = node.http_get(path, port=PEER_PORT, method="POST")
        assert (status, body, headers["allow"]) == (405, b"Method Not Allowed\n", "GET")
    for path in ("/", "/raft", "/v2/keys/a", "/membersx"):
        status, body, headers = node.http_get(path, port=PEER_PORT)
        assert (status, body) == (404, b"404 page not found\n"), path
        assert headers["content-type"] == "text/plain; charset=utf-8"
    check_no_restarts(node, pid)


# ---- garbage and refusals --------------------------------------------------------


def test_garbage_is_answered_or_cut_with_one_line(node):
    pid = node.worker_pid("peer")
    # Not the frame magic: HTTP, and not a request: 400 at once, then EOF.
    with connect(node) as s:
        s.sendall(b"\x00\x01\x02garbage\xff\xfe")
        answer = read_to_eof(s)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer
    assert answer.endswith(b"\r\n\r\n400 Bad Request")
    lines = wait_log(node, "malformed HTTP request from")
    assert len(lines) == 1, lines
    assert "from 127." in lines[0] and "(the method is not a token)" in lines[0], lines

    # The frame magic, then a header that cannot be: cut without a word.
    with connect(node) as s:
        s.sendall(b"CC\x09\x00garbage-garbage")
        assert read_to_eof(s) == b""
    lines = wait_log(node, "bad frame header")
    assert len(lines) == 1, lines
    assert "peer connection from 127." in lines[0] and "unsupported version 9" in lines[0], lines

    # Traffic before the handshake is cut too.
    _, self_id, _ = identity(node)
    with connect(node) as s:
        s.sendall(raft_heartbeat_resp(0x99, self_id))
        assert read_to_eof(s) == b""
    lines = wait_log(node, "RAFT frame before the handshake")
    assert len(lines) == 1, lines

    # The port still serves.
    assert node.http_get("/version", port=PEER_PORT)[:2] == (200, VERSION_BODY)
    check_no_restarts(node, pid)


@pytest.mark.parametrize(
    "case",
    ["cluster", "stranger", "self", "version"],
)
def test_hello_refused(node, case):
    pid = node.worker_pid("peer")
    cluster_id, self_id, _ = identity(node)
    wrong_cluster = cluster_id ^ 0x1234
    msg, want = {
        "cluster": (
            hello(wrong_cluster, 0x77, self_id),
            f"cluster ID mismatch (theirs {wrong_cluster:x}, ours {cluster_id:x})",
        ),
        "stranger": (
            hello(cluster_id, 0x77, self_id),
            f"member 77 is not in cluster {cluster_id:x}",
        ),
        "self": (hello(cluster_id, self_id, 0), f"claims this member's own ID {self_id:x}"),
        "version": (
            hello(cluster_id, 0x77, self_id, version=99),
            "peer protocol version mismatch (theirs 99, ours 1)",
        ),
    }[case]
    with connect(node) as s:
        s.sendall(msg)
        type_, payload = read_frame(s)
        assert type_ == PEER_REFUSE
        assert want in refusal_reason(payload)
        assert read_to_eof(s) == b""
    lines = wait_log(node, want)
    assert len(lines) == 1, lines
    assert " refused: " in lines[0]
    check_no_restarts(node, pid)


# ---- against a fake second member ----------------------------------------------------


class FakeMember(threading.Thread):
    """Listens on ip:2380 as the cluster's second member: answers each
    connection the real member dials with `answer(hello_fields)` (bytes to
    send; the connection is kept if they are a PEER_HELLO), and records what
    came in."""

    def __init__(self, ip):
        super().__init__(daemon=True)
        self.ip = ip
        self.lis = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lis.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lis.bind((ip, PEER_PORT))
        self.lis.listen(16)
        self.lis.settimeout(0.2)
        self.answer = None
        self.hellos = []  # (source address, (version, cluster, from, to))
        self.frames = []  # (type, payload) read on kept connections
        self.kept = []
        self.lock = threading.Lock()
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            try:
                conn, addr = self.lis.accept()
            except socket.timeout:
                continue
            conn.settimeout(5)
            try:
                type_, payload = read_frame(conn)
                fields = HELLO.unpack(payload) if type_ == PEER_HELLO else None
                with self.lock:
                    self.hellos.append((addr, fields))
                reply = self.answer(fields)
                conn.sendall(reply)
                if reply[4] == PEER_HELLO:
                    threading.Thread(target=self._read, args=(conn,), daemon=True).start()
                    self.kept.append(conn)
                else:
                    conn.close()
            except (OSError, EOFError, struct.error):
                conn.close()

    def _read(self, conn):
        conn.settimeout(None)
        try:
            while True:
                f = read_frame(conn)
                with self.lock:
                    self.frames.append(f)
        except (OSError, EOFError, AssertionError):
            pass

    def close_kept(self):
        for c in self.kept:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()
        self.kept = []

    def stop(self):
        self.done.set()
        self.join(5)
        self.close_kept()
        self.lis.close()


@pytest.fixture
def pair(make_node):
    """A member whose --initial-cluster names a second member, and the fake
    that plays it."""
    n = make_node("n1")
    fake_ip = next_address()
    fake = FakeMember(fake_ip)
    fake.answer = lambda fields: frame(PEER_REFUSE, struct.pack("<I", 7) + b"go away")
    fake.start()
    n.start(args=n.flags(initial_cluster=f"n1={n.peer_url},n2=http://{fake_ip}:{PEER_PORT}"))
    try:
        n.wait_ready()
        yield n, fake
    finally:
        n.stop()  # before the fake goes: the member must not see it vanish mid-test
        fake.stop()


def test_dialer_against_a_fake_member(pair):
    node, fake = pair
    pid = node.worker_pid("peer")
    cluster_id, self_id, ident = identity(node)
    (other,) = [int(m["id"], 16) for m in ident["members"] if m["name"] == "n2"]

    # Refused: it redials with backoff, and says so once.
    wait_for(lambda: len(fake.hellos) >= 4, 10, "four dials from the member")
    addr, fields = fake.hellos[0]
    assert addr[0] == node.ip, "the dial must leave from the member's own peer address"
    assert fields == (RAFT_WIRE_VERSION, cluster_id, self_id, other)
    lines = log_lines(node, "refused by the remote: go away")
    assert len(lines) == 1, lines
    assert peer_detail(node).get("connected") == 0

    # Answered: connected, and consensus's raft messages for n2 come over it.
    fake.answer = lambda f: hello(cluster_id, other, self_id)
    wait_for(lambda: peer_detail(node).get("connected") == 1, 10, "the member to connect")
    wait_log(node, f"peer {other:x} (http://{fake.ip}:{PEER_PORT}): connected")

    def raft_frame():
        with fake.lock:
            for type_, payload in fake.frames:
                if type_ == RAFT:
                    return payload
        return None

    payload = wait_for(raft_frame, 10, "a RAFT frame from consensus")
    _, from_, to = struct.unpack_from("<BQQ", payload)
    assert (from_, to) == (self_id, other)

    # The fake hangs up: the member reconnects.
    n_hellos = len(fake.hellos)
    fake.close_kept()
    wait_log(node, "connection closed by the peer; reconnecting")
    wait_for(lambda: len(fake.hellos) > n_hellos, 10, "a redial after the hang-up")
    wait_for(lambda: peer_detail(node).get("connected") == 1, 10, "the member to reconnect")
    check_no_restarts(node, pid)


def test_inbound_from_a_fake_member(pair):
    node, fake = pair
    pid = node.worker_pid("peer")
    cluster_id, self_id, ident = identity(node)
    (other,) = [int(m["id"], 16) for m in ident["members"] if m["name"] == "n2"]

    def link_sent():
        w = node.worker("peer")
        return [lk["sent"] for lk in w["links"] if lk["peer"] == "consensus"][0]

    s = socket.create_connection((node.ip, PEER_PORT), timeout=5, source_address=(fake.ip, 0))
    with s:
        s.sendall(hello(cluster_id, other, self_id))
        type_, payload = read_frame(s)
        assert type_ == PEER_HELLO
        assert HELLO.unpack(payload) == (RAFT_WIRE_VERSION, cluster_id, self_id, other)
        wait_for(lambda: peer_detail(node).get("inbound") == 1, 5, "one inbound member")

        # Raft traffic from it goes to consensus.
        before = link_sent()
        s.sendall(raft_heartbeat_resp(other, self_id))
        wait_for(lambda: link_sent() > before, 5, "the frame passed to consensus")

        # A frame whose `from` is not the member that said hello: cut.
        s.sendall(raft_heartbeat_resp(0x5151, self_id))
        assert read_to_eof(s) == b""
    lines = wait_log(node, f"RAFT from 5151 on the connection of {other:x}")
    assert len(lines) == 1 and fake.ip in lines[0], lines
    wait_for(lambda: peer_detail(node).get("inbound") == 0, 5, "the inbound connection gone")
    check_no_restarts(node, pid)


def test_graceful_peer_restart(pair):
    node, fake = pair
    cluster_id, self_id, ident = identity(node)
    (other,) = [int(m["id"], 16) for m in ident["members"] if m["name"] == "n2"]
    fake.answer = lambda f: hello(cluster_id, other, self_id)
    wait_for(lambda: peer_detail(node).get("connected") == 1, 10, "the member to connect")
    old = node.worker("peer")
    n_hellos = len(fake.hellos)
    node.ctl("restart", "peer")

    def back():
        w = node.worker("peer")
        return w if w["state"] == "ready" and w["pid"] not in (0, old["pid"]) else None

    new = wait_for(back, 5, "a new peer worker")
    assert new["restarts"] == 1 and new["last_exit"] == {"code": 0}, new
    wait_for(lambda: len(fake.hellos) > n_hellos, 10, "the new worker to dial")
    wait_for(lambda: peer_detail(node).get("connected") == 1, 10, "the member to reconnect")
    assert node.http_get("/version", port=PEER_PORT)[:2] == (200, VERSION_BODY)

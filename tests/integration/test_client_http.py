"""The client port's HTTP/1.1 handling (core/http/hserver.c) over raw
sockets: what Go's net/http does for etcd's clients, checked byte by byte
where a client could notice: pipelining, bodies, keep-alive, errors."""

import signal
import socket
import time

from harness import http_request, put_form, read_to_eof, wait_for  # puts tests/lib on the path

import http_wire
from http_wire import closed_by_server

FORM = "Content-Type: application/x-www-form-urlencoded\r\n"


def form_put_head(key, body, extra=""):
    """The head of a form PUT of body to /v2/keys/<key> (bytes)."""
    return (
        f"PUT /v2/keys/{key} HTTP/1.1\r\nHost: x\r\n{extra}{FORM}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()


def connect(node, timeout=5):
    return socket.create_connection((node.ip, 2379), timeout=timeout)


def read_response(s, buf=b"", head_only=False):
    """(status, headers, body, rest) of the next answer (http_wire)."""
    return http_wire.read_response(s, buf, head_only)[1:]


def test_pipelined_requests_are_answered_in_order(node):
    """A write waits for raft; the read sent right behind it on the same
    connection must be answered after it, and see it."""
    s = connect(node)
    body = b"value=v1"
    req = (
        form_put_head("pipe", body)
        + body
        + b"GET /v2/keys/pipe HTTP/1.1\r\nHost: x\r\n\r\n"
        + b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    s.sendall(req)
    st1, _, b1, rest = read_response(s)
    st2, _, b2, rest = read_response(s, rest)
    st3, _, b3, rest = read_response(s, rest)
    assert (st1, st2, st3) == (201, 200, 200)
    assert b'"action":"set"' in b1
    assert b'"action":"get"' in b2 and b'"value":"v1"' in b2
    assert b"etcdserver" in b3
    assert rest == b""
    s.close()


def test_chunked_request_body(node):
    s = connect(node)
    s.sendall(
        b"PUT /v2/keys/ch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        + FORM.encode()
        + b"\r\n3\r\nval\r\n7;ext=1\r\nue=abcd\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    st, _, body, _ = read_response(s)
    assert st == 201 and b'"value":"abcd"' in body, body
    s.close()


def test_expect_100_continue(node):
    s = connect(node)
    body = b"value=cont"
    s.sendall(form_put_head("cont", body, extra="Expect: 100-continue\r\n"))
    st, _, _, rest = read_response(s)
    assert st == 100
    s.sendall(body)
    st, _, b, _ = read_response(s, rest)
    assert st == 201 and b'"value":"cont"' in b
    s.close()


def test_http10_closes_unless_asked_to_keep_alive(node):
    s = connect(node)
    s.sendall(b"GET /version HTTP/1.0\r\n\r\n")
    st, h, body, _ = read_response(s)
    assert st == 200 and b"etcdserver" in body
    assert closed_by_server(s)
    s.close()
    s = connect(node)
    s.sendall(b"GET /version HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    st, h, _, _ = read_response(s)
    assert st == 200 and h.get("connection") == "keep-alive"
    s.sendall(b"GET /version HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert read_response(s)[0] == 200
    s.close()


def test_connection_close_is_honoured(node):
    s = connect(node)
    s.sendall(b"GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    st, h, _, _ = read_response(s)
    assert st == 200 and h.get("connection") == "close"
    assert closed_by_server(s)
    s.close()


def test_head_has_the_length_of_the_body_and_no_body(node):
    assert put_form(node, "hd", "x" * 50)[0] == 201
    _, body, _ = http_request(node.ip, 2379, "/v2/keys/hd")
    s = connect(node)
    s.sendall(b"HEAD /v2/keys/hd HTTP/1.1\r\nHost: x\r\n\r\nGET /version HTTP/1.1\r\nHost: x\r\n\r\n")
    st, h, _, rest = read_response(s, head_only=True)
    assert st == 200 and int(h["content-length"]) == len(body)
    # The next answer follows at once: nothing was sent for the HEAD's body.
    st, _, b, _ = read_response(s, rest)
    assert st == 200 and b"etcdserver" in b
    s.close()


def test_malformed_requests_get_gos_answers_and_a_close(node):
    cases = [
        (b"GARBAGE\r\n\r\n", b"400 Bad Request"),
        (b"GET /version HTTP/1.1\r\n\r\n", b"400 Bad Request: missing required Host header"),
        (
            b"PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
            b"400 Bad Request",
        ),
        (
            b"PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"501 Not Implemented: unsupported transfer encoding",
        ),
        (
            b"PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"400 Bad Request",
        ),
        (b"GET / HTTP/1.1\r\nHost: x\r\n bad: fold\r\n\r\n", b"400 Bad Request"),
    ]
    for req, msg in cases:
        s = connect(node)
        s.sendall(req)
        got = read_to_eof(s)
        want = (
            b"HTTP/1.1 " + msg + b"\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Connection: close\r\n\r\n" + msg
        )
        assert got == want, f"{req!r}: {got!r}"
        s.close()
    assert put_form(node, "after", "v")[0] == 201
    assert all(w["restarts"] == 0 for w in node.status()["workers"])


def test_a_write_whose_client_left_is_still_applied(node):
    """The client goes away while its write waits for raft: the write still
    happens (as in etcd), and nothing is written to the dead connection."""
    s = connect(node)
    body = b"value=gone"
    s.sendall(form_put_head("left", body) + body)
    s.close()

    def applied():
        st, b, _ = http_request(node.ip, 2379, "/v2/keys/left")
        return st == 200 and b'"value":"gone"' in b

    wait_for(applied, 10, "the write of a departed client to be applied")


def test_graceful_stop_closes_idle_keep_alive_connections_at_once(node):
    """An idle keep-alive connection does not hold a stopping http worker
    until its deadline: it is closed when the stop begins."""
    s = connect(node, timeout=10)
    s.sendall(b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_response(s)[0] == 200
    t0 = time.monotonic()
    node.send_signal(signal.SIGTERM)
    assert closed_by_server(s, timeout=5), "the idle connection was not closed"
    closed_after = time.monotonic() - t0
    node.proc.wait(10)
    assert closed_after < 1.0, f"closed {closed_after:.2f} s after SIGTERM"
    s.close()

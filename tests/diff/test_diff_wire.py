"""The client port's HTTP/1.1 on the wire, etcd against the candidate:
the same raw bytes sent to both over a socket, and what a client can see
of the answers compared (statuses, the HTTP version, the headers that
decide how a client reads the body and whether the connection lives on,
body lengths on the same server, JSON values). Indexes, times, versions
and CORS headers (etcd 3.4 sends them by default, etcd 2.3 only with
--cors) are left out, as in the rest of the differential suite.

Only valid requests are compared: etcd 3.4 puts a connection multiplexer
(cmux) in front of its HTTP server, which closes on a malformed request
line where etcd 2.3's plain net/http (and Concord) answer 400; those are
pinned in tests/integration/test_client_http.py instead."""

import itertools
import json
import socket

import pytest

from http_wire import closed_by_server, read_response

_prefix = itertools.count()


def exchange(server, data, n_answers, head_only=(), then=None):
    """Sends data, reads n_answers answers (indexes in head_only are
    answers to HEAD: no body); `then` is sent after the first answer (the
    body behind an Expect). Returns (answers, open) where each answer is
    (version, status, headers lower-cased, body) and open says whether the
    server kept the connection."""
    s = socket.create_connection((server.ip, server.port), timeout=5)
    s.sendall(data)
    buf, answers = b"", []
    while len(answers) < n_answers:
        version, status, hd, body, buf = read_response(s, buf, len(answers) in head_only)
        answers.append((version, status, hd, body))
        if len(answers) == 1 and then is not None:
            s.sendall(then)
    still_open = not closed_by_server(s, timeout=1.0)
    s.close()
    return answers, still_open


# What is compared of an answer: how a client frames it and whether the
# connection lives on; the body's JSON value and action where there is one.
FRAMING = ("transfer-encoding", "connection", "content-type", "allow")


def shape(answers, still_open):
    out = []
    for version, status, hd, body in answers:
        item = {"version": version, "status": status}
        item.update({k: hd.get(k) for k in FRAMING})
        item["has-content-length"] = "content-length" in hd
        if body[:1] == b"{":
            doc = json.loads(body)
            node = doc.get("node") or {}
            item["json"] = (doc.get("action"), node.get("value"), doc.get("errorCode"))
        out.append(item)
    return {"answers": out, "open": still_open}


def both(servers, make, n_answers, **kw):
    """Runs the exchange make(prefix) builds on both servers; returns the
    two shapes and the raw answers."""
    p = f"/v2/keys/wire{next(_prefix)}"
    got = []
    for s in servers:
        answers, still_open = exchange(s, make(p), n_answers, **kw)
        got.append((shape(answers, still_open), answers))
    return got


def check(servers, make, n_answers, **kw):
    (ref, ref_raw), (cand, cand_raw) = both(servers, make, n_answers, **kw)
    assert cand == ref, f"etcd: {ref}\ncandidate: {cand}"
    return ref_raw, cand_raw


def form_put(path, value, extra=b""):
    body = b"value=" + value
    return (
        b"PUT " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + extra
        + b"Content-Type: application/x-www-form-urlencoded\r\n"
        + b"Content-Length: %d\r\n\r\n" % len(body) + body
    )


def test_pipelined_write_read_and_miss(servers):
    check(servers, lambda p: form_put(p + "/a", b"1")
          + f"GET {p}/a HTTP/1.1\r\nHost: x\r\n\r\n".encode()
          + f"GET {p}/missing HTTP/1.1\r\nHost: x\r\n\r\n".encode(), 3)


def test_chunked_body_with_extension_and_trailer(servers):
    def make(p):
        return (f"PUT {p}/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n\r\n"
                "3\r\nval\r\n5;x=y\r\nue=ch\r\n0\r\nX-T: 1\r\n\r\n").encode()
    check(servers, make, 1)


def test_expect_100_continue(servers):
    body = b"value=cont"

    def make(p):
        return (f"PUT {p}/e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
    check(servers, make, 2, then=body)


@pytest.mark.parametrize("extra", ["", "Connection: keep-alive\r\n"])
def test_http10(servers, extra):
    check(servers, lambda p: f"GET {p} HTTP/1.0\r\n{extra}\r\n".encode(), 1)


def test_connection_close(servers):
    check(servers, lambda p: f"GET {p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(), 1)


def test_head_length_is_the_gets(servers):
    def make(p):
        return (form_put(p + "/h", b"x" * 40)
                + f"HEAD {p}/h HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                + f"GET {p}/h HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    for raw in check(servers, make, 3, head_only=(1,)):
        head, get = raw[1], raw[2]
        assert head[3] == b"" and int(head[2]["content-length"]) == len(get[3])


@pytest.mark.parametrize("method", ["FOO", "PATCH", "OPTIONS"])
def test_other_methods(servers, method):
    check(servers, lambda p: f"{method} {p} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), 1)

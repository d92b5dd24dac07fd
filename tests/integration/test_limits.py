"""Limits and hostile clients: each gets a clear error or is cut off, the
node never crashes (no worker restarts) and keeps serving everyone else."""

import socket
import struct
import threading
import time

from harness import http_request, put_form, wait_for


def no_restarts(node):
    for w in node.status()["workers"]:
        assert w["restarts"] == 0, f"{w['kind']} restarted: {w['last_exit']}"


def test_body_over_max_request_bytes_is_413(make_node):
    node = make_node()
    node.start(["-max-request-bytes", "2048"])
    node.wait_ready()
    status, _, _ = put_form(node, "big", "x" * 4096)
    assert status == 413
    status, _, _ = put_form(node, "small", "x" * 100)
    assert status == 201
    no_restarts(node)


def test_huge_headers_and_long_keys_are_refused(node):
    s, body, _ = http_request(node.ip, 2379, "/v2/keys/a", headers={"X-Big": "y" * 100000})
    assert 400 <= s < 500
    s, body, _ = put_form(node, "k" * 5000, "v")
    assert s == 400 and b'"errorCode":209' in body and b"longer than" in body
    s, body, _ = put_form(node, "/".join(["d"] * 300), "v")
    assert s == 400 and b"deeper than" in body
    assert put_form(node, "fine", "v")[0] == 201
    no_restarts(node)


def test_thousands_of_idle_connections_do_not_block_others(node):
    idle = []
    try:
        for _ in range(2000):
            idle.append(socket.create_connection((node.ip, 2379), timeout=5))
        t0 = time.monotonic()
        for i in range(50):
            assert put_form(node, f"busy/{i}", "v")[0] in (200, 201)
            assert http_request(node.ip, 2379, f"/v2/keys/busy/{i}")[0] == 200
        assert time.monotonic() - t0 < 10
    finally:
        for s in idle:
            s.close()
    no_restarts(node)


def test_slow_sender_and_reset_connections_do_not_block_others(node):
    stop = threading.Event()

    def slow():
        s = socket.create_connection((node.ip, 2379), timeout=10)
        try:
            for ch in b"GET /v2/keys/slow HTTP/1.1\r\nHost: x\r\n":
                if stop.is_set():
                    break
                s.sendall(bytes([ch]))
                stop.wait(0.05)
        except OSError:
            pass
        finally:
            s.close()

    t = threading.Thread(target=slow)
    t.start()
    try:
        for i in range(100):
            # A connection reset in the middle of a request, then a good one.
            r = socket.create_connection((node.ip, 2379), timeout=5)
            r.sendall(b"PUT /v2/keys/reset HTTP/1.1\r\nContent-Length: 100\r\n\r\nvalue=")
            r.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            r.close()
            assert put_form(node, f"ok/{i}", "v")[0] in (200, 201)
    finally:
        stop.set()
        t.join(10)
    no_restarts(node)


def test_client_that_never_reads_is_bounded(node):
    assert put_form(node, "large", "z" * 200000)[0] == 201
    s = socket.create_connection((node.ip, 2379), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        req = b"GET /v2/keys/large HTTP/1.1\r\nHost: x\r\n\r\n"
        sent = 0
        s.settimeout(2)
        try:
            for _ in range(5000):  # pipelined, never read
                s.sendall(req)
                sent += 1
        except (socket.timeout, OSError):
            pass
        # The server stopped reading from it (one response waits to be
        # written) instead of buffering 5000 x 200 kB; others are served.
        for i in range(20):
            assert http_request(node.ip, 2379, "/v2/keys/large")[0] == 200
        st = node.status()
        http = next(w for w in st["workers"] if w["kind"] == "http")
        rss_kb = int(open(f"/proc/{http['pid']}/status").read().split("VmRSS:")[1].split()[0])
        assert rss_kb < 200 * 1024, f"http worker holds {rss_kb} kB"
    finally:
        s.close()
    no_restarts(node)


def test_stream_watcher_that_does_not_read_is_dropped(node):
    slow = socket.create_connection((node.ip, 2379), timeout=5)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.sendall(b"GET /v2/keys/sw?wait=true&stream=true&recursive=true HTTP/1.1\r\nHost: x\r\n\r\n")
    good = socket.create_connection((node.ip, 2379), timeout=10)
    good.sendall(b"GET /v2/keys/sw?wait=true&stream=true&recursive=true HTTP/1.1\r\nHost: x\r\n\r\n")
    wait_for(
        lambda: b'"watchers":2' in http_request(node.ip, 2379, "/v2/stats/store")[1],
        10, "both watchers to register",
    )
    got = bytearray()

    def reader():
        try:
            while True:
                d = good.recv(65536)
                if not d:
                    break
                got.extend(d)
        except OSError:
            pass

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    # Far more than the kernel's socket buffers hold, so it backs up in the
    # server (etcd drops a watcher whose 100-event buffer fills).
    n = 2000
    value = "w" * 4000
    for i in range(n):
        assert put_form(node, f"sw/{i}", value)[0] in (200, 201)
    wait_for(lambda: got.count(b'"action":"set"') >= n, 20, "the reading watcher to get all")
    wait_for(
        lambda: b'"watchers":1' in http_request(node.ip, 2379, "/v2/stats/store")[1],
        10, "the non-reading watcher to be dropped",
    )
    slow.close()
    good.close()
    no_restarts(node)


def test_client_sending_a_byte_at_a_time_is_cut_off(node):
    """A first request that never completes (a byte every half second: the
    idle timeout alone would never fire) is cut after 10 s."""
    s = socket.create_connection((node.ip, 2379), timeout=20)
    t0 = time.monotonic()
    closed_after = None
    try:
        for ch in b"GET /v2/keys/x HTTP/1.1\r\n" + b"X-Pad: " + b"a" * 200:
            try:
                s.sendall(bytes([ch]))
            except OSError:
                closed_after = time.monotonic() - t0
                break
            if time.monotonic() - t0 > 16:
                break
            s.settimeout(0.5)
            try:
                if s.recv(1) == b"":
                    closed_after = time.monotonic() - t0
                    break
            except socket.timeout:
                pass
    finally:
        s.close()
    assert closed_after is not None, "the slow client was never cut off"
    assert 9 <= closed_after <= 14, f"cut after {closed_after:.1f} s"
    assert put_form(node, "after-slow", "v")[0] == 201
    no_restarts(node)

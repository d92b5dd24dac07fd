"""Raw HTTP/1.1 answers read off a socket, for the tests that talk to the
client port byte by byte (tests/integration/test_client_http.py,
tests/diff/test_diff_wire.py)."""

import socket


def read_response(s, buf=b"", head_only=False):
    """Reads one answer from s (after the bytes already in buf): (version,
    status, headers with lower-case names, body, the bytes after it). The
    body ends by Content-Length, by its last chunk, or when the server
    closes; an interim 100 and a HEAD's answer (head_only) have none."""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        assert d, f"connection closed before a whole head: {buf!r}"
        buf += d
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    version, status = lines[0].split(" ")[0], int(lines[0].split(" ")[1])
    headers = {}
    for ln in lines[1:]:
        k, v = ln.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    if head_only or status == 100:
        return version, status, headers, b"", buf
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(buf) < n:
            d = s.recv(65536)
            assert d, "connection closed inside a body"
            buf += d
        return version, status, headers, buf[:n], buf[n:]
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            while b"\r\n" not in buf:
                buf += s.recv(65536)
            size_line, buf = buf.split(b"\r\n", 1)
            size = int(size_line, 16)
            while len(buf) < size + 2:
                buf += s.recv(65536)
            body, buf = body + buf[:size], buf[size + 2 :]
            if size == 0:
                return version, status, headers, body, buf
    while True:
        d = s.recv(65536)
        if not d:
            return version, status, headers, buf, b""
        buf += d


def closed_by_server(s, timeout=3):
    """Whether the server closes s within timeout seconds."""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False

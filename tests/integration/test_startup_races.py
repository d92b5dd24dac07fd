"""A freshly started node must serve its first write at once, every time.

The master tells each worker's neighbours that it started; a neighbour that
had already greeted that worker used to reset the link anyway and drop what
was queued on it, such as storage's answer to http's first sync request
(the node then never loaded its view) or to consensus's log-state request
(writes then waited forever). It happened on roughly one start in five, so
this starts a node many times."""

import time
import urllib.parse

from harness import http_request

STARTS = 15


def test_first_write_after_start_is_answered(make_node):
    for i in range(STARTS):
        node = make_node(name=f"n{i}")
        node.start()
        node.wait_ready()
        t0 = time.monotonic()
        status, body, _ = http_request(
            node.ip, 2379, "/v2/keys/first", method="PUT",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=urllib.parse.urlencode({"value": "v"}), timeout=5,
        )
        assert status == 201, f"start {i}: {status} {body!r}"
        assert time.monotonic() - t0 < 3, f"start {i}: the first write took too long"
        assert http_request(node.ip, 2379, "/v2/keys/first", timeout=5)[0] == 200
        node.stop()

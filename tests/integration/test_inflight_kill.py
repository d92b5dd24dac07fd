"""Workers killed with requests in flight (issue 4, item 6).

Writers keep PUTting distinct keys while each worker kind in turn is
SIGKILLed. Every request must end in one of: a 2xx (then the value is
durable: it is read back at the end), etcd's error JSON (errorCode 300), or
a broken connection when the http worker itself died. Never a 2xx for a
write that is then missing, never a hang; and the node serves again within
a second of each kill."""

import json
import os
import signal
import time

from cluster import Writer
from harness import http_request, wait_for


def test_kill_each_worker_under_write_load(node):
    writers = [Writer(node, "inflight", t, timeout=10) for t in range(4)]
    for w in writers:
        w.start()
    try:
        for kind in ["storage", "consensus", "http", "peer", "storage", "http"]:
            wait_for(lambda: sum(len(w.acked) for w in writers) > 0, 10, "writes to flow")
            old = node.worker_pids()
            os.kill(old[kind], signal.SIGKILL)
            t0 = time.monotonic()
            node.wait_ready(timeout=5, old_pids={kind: old[kind]})
            before = sum(len(w.acked) for w in writers)
            wait_for(lambda: sum(len(w.acked) for w in writers) > before, 5,
                     f"writes to succeed again after killing {kind}")
            assert time.monotonic() - t0 < 3, f"serving again took too long after {kind}"
    finally:
        for w in writers:
            w.halt.set()
        for w in writers:
            w.join(15)
    assert not any(w.is_alive() for w in writers), "a request hung"
    bad = [b for w in writers for b in w.bad]
    assert not bad, f"answers that are neither 2xx nor etcd's error JSON: {bad[:5]}"
    acked = {k: v for w in writers for k, v in w.acked.items()}
    assert len(acked) > 50
    for k, v in acked.items():
        status, body, _ = http_request(node.ip, 2379, f"/v2/keys/{k}")
        assert status == 200 and json.loads(body)["node"]["value"] == v, f"{k} lost: {body!r}"

"""An acknowledged write is never lost.

In a loop of rounds: PUT a key, wait for its 2xx, then SIGKILL either the
whole node (master and every worker, as a power cut would) or one worker
kind, bring the node back, and GET every key acknowledged so far: each
must hold its acknowledged value. The kill comes right after the answer,
so the fsync before acknowledging is what the test checks.

A second test kills the node right after several quick writes to one key:
the first read after the restart must answer the last acknowledged value.

CONCORD_DURABILITY_ROUNDS sets the number of rounds (default 200)."""

import json
import os
import signal

from harness import http_request, put_form, wait_for

ROUNDS = int(os.environ.get("CONCORD_DURABILITY_ROUNDS", "200"))
KINDS = ["storage", "consensus", "http"]


def get_value(node, key):
    status, body, _ = http_request(node.ip, 2379, f"/v2/keys/{key}")
    return status, body


def test_acknowledged_writes_survive_sigkill(node):
    acked = {}
    for i in range(ROUNDS):
        key, value = f"durable/k{i}", f"v{i}-{'x' * (i % 50)}"
        status, body, _ = put_form(node, key, value)
        assert status in (200, 201), f"round {i}: PUT answered {status} {body!r}"
        acked[key] = value
        if i % 4 == 0:
            node.kill_all()
            node.start()
        else:
            kind = KINDS[i % len(KINDS)]
            old = node.worker_pids()
            os.kill(old[kind], signal.SIGKILL)
            wait_for(
                lambda: node.worker_pid(kind) not in (None, old[kind]), 5, f"{kind} to restart"
            )
        node.wait_ready(timeout=10)
        # Every write so far, not just this round's: a restart must not lose
        # an older one either (checked fully every 10 rounds, to stay quick).
        keys = acked if i % 10 == 9 or i == ROUNDS - 1 else {key: value}
        for k, v in keys.items():
            status, body = wait_for(
                lambda: (lambda r: r if r[0] != 503 else None)(get_value(node, k)),
                5,
                f"GET {k} after round {i}",
            )
            assert status == 200, f"round {i}: {k} lost: {status} {body!r}"
            assert f'"value":"{v}"'.encode() in body, f"round {i}: {k}: {body!r}"


def first_answer(node, key, deadline_s=10.0):
    """The first answer a restarted node gives to GET key: (status, body).
    Connection errors (not listening yet) are retried; nothing else is."""
    def attempt():
        try:
            status, body, _ = http_request(node.ip, 2379, f"/v2/keys/{key}")
        except OSError:
            return None
        return status, body

    return wait_for(attempt, deadline_s, f"a first answer to GET {key}")


def test_first_read_after_sigkill_sees_the_last_acknowledged_write(node):
    # The node is killed right after the last of several quick writes to
    # one key, while its durable record of what is committed may lag the
    # log by a few milliseconds; the very first read after the restart must
    # still see the last acknowledged value, never an older one.
    for rnd in range(12):
        for i in range(5):
            status, body, _ = put_form(node, "again/k", f"r{rnd}i{i}")
            assert status in (200, 201), f"round {rnd}: PUT answered {status} {body!r}"
        node.kill_all()
        node.start()
        status, body = first_answer(node, "again/k")
        assert status == 200, f"round {rnd}: first GET answered {status} {body!r}"
        assert json.loads(body)["node"]["value"] == f"r{rnd}i4", (
            f"round {rnd}: the first read after the restart went back in time: {body!r}")

"""The state machine on disk is a snapshot file plus the raft log after it.

The http worker's view is the member's only copy of the key tree; every
--snapshot-count entries it is serialised into DATA_DIR/member/snapshot
and the log before it is compacted. These tests write enough to take
several snapshots and compact the log, then restart the node (or one
worker) and check that every key reads back with its latest value at the
first answer, that a damaged snapshot stops the member with a clear
message, and that a left-over temporary file does not matter."""

import os
import signal
import socket

from harness import http_request, put_form, wait_for

SNAPSHOT_COUNT = "50"
KEYS = 30
ROUNDS = 8  # each key written ROUNDS times: 240 writes, several snapshots


def write_rounds(node):
    latest = {}
    for r in range(ROUNDS):
        for k in range(KEYS):
            key, value = f"snap/k{k}", f"r{r}-k{k}"
            status, answer, _ = put_form(node, key, value)
            assert status in (200, 201), f"PUT {key}: {status} {answer!r}"
            latest[key] = value
    return latest


def storage_detail(node):
    return node.worker("storage", node.status())["detail"]


def wait_compacted(node):
    """Until a snapshot was saved and the log before it deleted."""

    def done():
        d = storage_detail(node)
        return d if d["snapshot_index"] >= 100 and d["first_index"] > 1 else None

    return wait_for(done, 10, "a snapshot and a compacted log")


def first_answers(node, latest):
    """The first answer to a GET of every key (no retry on a stale value:
    a restarted view must not serve before it caught up)."""
    for key, value in latest.items():
        status, body, _ = http_request(node.ip, 2379, f"/v2/keys/{key}", timeout=10)
        assert status == 200, f"{key}: {status} {body!r}"
        assert f'"value":"{value}"'.encode() in body, f"{key}: {body!r}, want {value}"


def wait_listening(node):
    """Until the master's client socket accepts connections (before any
    worker is ready)."""

    def accepts():
        try:
            socket.create_connection((node.ip, 2379), timeout=1).close()
            return True
        except OSError:
            return False

    wait_for(accepts, 10, "the client port to accept connections")


def snapshotted_node(make_node):
    """A node that took snapshots and compacted its log: (node, the latest
    value of every key, storage's status detail then)."""
    node = make_node()
    node.start(extra_args=["--snapshot-count", SNAPSHOT_COUNT])
    node.wait_ready()
    latest = write_rounds(node)
    return node, latest, wait_compacted(node)


def test_restart_from_snapshot_and_log(make_node):
    node, latest, before = snapshotted_node(make_node)
    assert before["snapshots_saved"] >= 2, before
    snap = node.data_dir / "member" / "snapshot"
    assert snap.stat().st_size > 0
    index_before = node.admin({"cmd": "hash"})[0]

    node.kill_all()
    node.start(extra_args=["--snapshot-count", SNAPSHOT_COUNT])
    wait_listening(node)
    # Asked at once: the requests wait in the listening socket's backlog
    # and then for the view, and must not be answered before the view
    # applied the log entries after the snapshot.
    first_answers(node, latest)
    node.wait_ready()
    after = storage_detail(node)
    assert after["snapshot_index"] >= before["snapshot_index"], (before, after)
    assert "database open" in node.log_text()
    # The same state: the hash at the same raft index matches.
    again = wait_for(
        lambda: (lambda h: h if h.get("index", 0) >= index_before["index"] else None)(
            node.admin({"cmd": "hash"})[0]
        ),
        5,
        "the view to reach the index hashed before",
    )
    if again["index"] == index_before["index"]:
        assert again["hash"] == index_before["hash"]


def test_http_worker_restart_reloads_snapshot(make_node):
    node, latest, _ = snapshotted_node(make_node)
    old = node.worker_pids()
    os.kill(old["http"], signal.SIGKILL)
    first_answers(node, latest)
    node.wait_ready(old_pids={"http": old["http"]})
    assert "view ready" in node.log_text()


def test_damaged_snapshot_stops_the_member(make_node):
    node, _, _ = snapshotted_node(make_node)
    assert node.stop() == 0
    snap = node.data_dir / "member" / "snapshot"
    with open(snap, "r+b") as f:
        f.seek(snap.stat().st_size - 10)
        b = f.read(1)
        f.seek(snap.stat().st_size - 10)
        f.write(bytes([b[0] ^ 0xFF]))
    node.start(extra_args=["--snapshot-count", SNAPSHOT_COUNT])
    wait_for(
        lambda: "does not match its checksum" in node.log_text()
        and "refusing to start" in node.log_text(),
        10,
        "storage to refuse the damaged snapshot",
    )
    # Storage never gets ready, so neither does http: nothing is served.
    try:
        status, body, _ = http_request(node.ip, 2379, "/v2/keys/snap/k1", timeout=1)
    except OSError:
        status, body = None, b""
    assert status != 200, body


def test_leftover_temporary_files_are_removed(make_node):
    node, latest, _ = snapshotted_node(make_node)
    assert node.stop() == 0
    # Transfers cut short by a crash leave their temporary files behind.
    member = node.data_dir / "member"
    leftovers = [member / "snapshot.view.tmp", member / "snapshot.install.tmp"]
    for f in leftovers:
        f.write_bytes(b"half a snapshot")
    node.start(extra_args=["--snapshot-count", SNAPSHOT_COUNT])
    node.wait_ready()
    first_answers(node, latest)
    assert not any(f.exists() for f in leftovers)

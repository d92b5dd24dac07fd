"""Static bootstrap of a raft cluster (issue 5).

Checks:
- the three commands of the seed's section 2.1 (etcd's clustering guide),
  with 10.0.1.10-12 replaced by 127.0.1.10-12, single-dash flags, no
  -data-dir, default raft timing: one leader is elected and every member
  names it; a PUT on a follower is readable on every member (at once with
  quorum=true, eventually with a plain GET); every member
  reports the same /v2/members (three members etcd0..2 with their peer and
  client URLs, the ids of /v2/stats/self) and the same X-Etcd-Cluster-Id;
  /v2/machines lists the three client URLs; /v2/stats/leader answers on the
  leader with its followers and 403 "not current leader" on a follower; each
  member's data dir is <name>.etcd in its working directory;
- the same cluster configured by ETCD_* variables only, no argument;
- seven members (--flag syntax, fast timing) elect one leader and replicate;
- a follower's answers to appends leave through its storage worker (the
  storage->peer link), not through consensus;
- bad bootstrap configurations exit non-zero with one error line, before
  any worker starts and without initialising the data dir: a --name missing
  from --initial-cluster, an --initial-advertise-peer-urls that does not
  match the name's entry.
"""

import pytest

from cluster import TOKEN, cluster_factory
from harness import WaitTimeout, error_lines, wait_for


@pytest.fixture
def make_cluster(tmp_path):
    with cluster_factory(tmp_path) as make:
        yield make


SEED_IPS = ["127.0.1.10", "127.0.1.11", "127.0.1.12"]
ENV_IPS = ["127.0.1.20", "127.0.1.21", "127.0.1.22"]


def check_bootstrapped(c, prefix, leader_timeout=20):
    leader = c.wait_leader(timeout=leader_timeout)
    stats = {m: m.stats_self() for m in c}
    assert [m.name for m in c if stats[m]["state"] == "StateLeader"] == [leader.name], stats
    ids = {m.name: stats[m]["id"] for m in c}
    assert len(set(ids.values())) == len(c), f"member ids not distinct: {ids}"
    for m in c:
        assert stats[m]["name"] == m.name, stats[m]
        assert stats[m]["leaderInfo"]["leader"] == ids[leader.name], (m, stats[m])
        if m is not leader:
            assert stats[m]["state"] == "StateFollower", (m, stats[m])

    # A write on a follower (forwarded to the leader) reaches every member.
    follower = c.followers(leader, list(c))[0]
    status, body, _ = follower.put(f"{prefix}/message", "Hello world")
    assert status == 201, f"PUT on follower {follower}: {status} {body!r}"
    assert body["node"]["value"] == "Hello world", body
    # Acknowledged, so a quorum read anywhere sees it at once (linearizable).
    for m in c:
        status, body, _ = m.get(f"{prefix}/message", quorum=True)
        assert status == 200 and body["node"]["value"] == "Hello world", (m, status, body)
    c.wait_values({f"{prefix}/message": "Hello world"}, prefix, members=list(c))

    # Every member reports the same membership and cluster id.
    expected = sorted(
        ({"id": ids[m.name], "name": m.name, "peerURLs": [m.peer_url],
          "clientURLs": [m.client_url]} for m in c),
        key=lambda d: d["id"])
    cluster_ids = set()
    for m in c:
        got, cid = m.members()
        assert got == expected, f"{m}: /v2/members {got} != {expected}"
        # etcd prints ids in hex without leading zeros (types.ID.String).
        assert cid and len(cid) <= 16 and int(cid, 16) != 0 and cid == f"{int(cid, 16):x}", (
            f"{m}: X-Etcd-Cluster-Id {cid!r}")
        cluster_ids.add(cid)
    assert len(cluster_ids) == 1, f"members disagree on the cluster id: {cluster_ids}"
    return leader, ids, cluster_ids.pop()


def check_machines_and_leader_stats(c, leader, ids):
    for m in c:
        status, body, _ = m.request("GET", "/v2/machines")
        assert status == 200, (m, status, body)
        text = body.decode() if isinstance(body, bytes) else str(body)
        assert {u.strip() for u in text.split(",")} == {x.client_url for x in c}, (m, text)
    # etcd lists every follower (its transport adds one per peer); allow the
    # leader a moment to have heard from each.
    want = {ids[m.name] for m in c if m is not leader}
    last = {}

    def all_followers():
        status, body, _ = leader.request("GET", "/v2/stats/leader")
        last["r"] = (status, body)
        assert status == 200 and body["leader"] == ids[leader.name], (status, body)
        return set(body["followers"]) == want

    try:
        wait_for(all_followers, 5, "/v2/stats/leader to list every follower")
    except WaitTimeout as e:
        raise AssertionError(f"{e}: {last.get('r')}, expected followers {want}") from None
    for m in c.followers(leader, list(c)):
        status, body, _ = m.request("GET", "/v2/stats/leader")
        assert (status, body.get("message")) == (403, "not current leader"), (m, status, body)


def test_seed_static_flags(make_cluster):
    c = make_cluster(3, ips=SEED_IPS, via="flags", timing=None, log_file=False)
    m0 = c[0]
    args, env = c.command(m0)
    # The seed's command for etcd0, word for word but for the addresses (and
    # the extra http://127.0.0.1:2379 client URL, which three members on one
    # host cannot all listen on).
    assert args == [
        "-name", "etcd0", "-initial-advertise-peer-urls", "http://127.0.1.10:2380",
        "-listen-peer-urls", "http://127.0.1.10:2380",
        "-listen-client-urls", "http://127.0.1.10:2379",
        "-advertise-client-urls", "http://127.0.1.10:2379",
        "-initial-cluster-token", "my-etcd-cluster",
        "-initial-cluster", "etcd0=http://127.0.1.10:2380,etcd1=http://127.0.1.11:2380,"
        "etcd2=http://127.0.1.12:2380",
        "-initial-cluster-state", "new",
    ] and env == {}, args
    c.start(port_wait=30)
    leader, ids, _ = check_bootstrapped(c, "seedflags")
    check_machines_and_leader_stats(c, leader, ids)
    for m in c:
        st = m.status()
        assert st["data_dir"] == f"{m.name}.etcd", st["data_dir"]
        assert (m.dir / f"{m.name}.etcd" / "member").is_dir()


def test_seed_static_env(make_cluster):
    c = make_cluster(3, ips=ENV_IPS, via="env", timing=None, log_file=False)
    args, env = c.command(c[1])
    assert args == [] and env == {
        "ETCD_NAME": "etcd1",
        "ETCD_INITIAL_ADVERTISE_PEER_URLS": "http://127.0.1.21:2380",
        "ETCD_LISTEN_PEER_URLS": "http://127.0.1.21:2380",
        "ETCD_LISTEN_CLIENT_URLS": "http://127.0.1.21:2379",
        "ETCD_ADVERTISE_CLIENT_URLS": "http://127.0.1.21:2379",
        "ETCD_INITIAL_CLUSTER_TOKEN": TOKEN,
        "ETCD_INITIAL_CLUSTER": "etcd0=http://127.0.1.20:2380,etcd1=http://127.0.1.21:2380,"
                                "etcd2=http://127.0.1.22:2380",
        "ETCD_INITIAL_CLUSTER_STATE": "new",
    }, env
    c.start(port_wait=30)
    leader, ids, _ = check_bootstrapped(c, "seedenv")
    check_machines_and_leader_stats(c, leader, ids)
    for m in c:
        assert m.status()["name"] == m.name
        assert (m.dir / f"{m.name}.etcd" / "member").is_dir()


def test_seven_members(make_cluster):
    c = make_cluster(7).start()
    leader, ids, _ = check_bootstrapped(c, "seven")
    check_machines_and_leader_stats(c, leader, ids)


def run_refused(m, args):
    rc, out, err = m.run_to_exit(args, timeout=10)
    assert rc != 0, f"exit 0: {out}{err}"
    assert "worker" not in err, f"workers were started: {err}"
    assert not m.our_live_pids(), "processes left behind"
    assert not (m.data_dir / "member" / "identity.json").exists(), "the data dir was initialised"
    lines = error_lines(err)
    assert len(lines) == 1, f"expected one error line, got: {err!r}"
    return lines[0]


def test_name_missing_from_initial_cluster(make_cluster):
    c = make_cluster(3)
    # etcd3 is not among etcd0..2 of --initial-cluster.
    stray = make_cluster(1, names=["etcd3"])[0]
    args, _ = c.command(stray)
    line = run_refused(stray, args)
    assert 'couldn\'t find local name "etcd3" in the initial cluster configuration' in line, line


def test_advertise_url_not_matching_initial_cluster(make_cluster):
    c = make_cluster(3)
    m = c[0]
    other = c[1].peer_url  # etcd0 advertising etcd1's peer URL
    args, _ = c.command(m)
    i = args.index("--initial-advertise-peer-urls")
    args[i + 1] = other
    line = run_refused(m, args)
    assert "initial-advertise-peer-urls" in line and other in line, line


def link_sent(member, kind, peer):
    """Frames `kind` has sent to `peer` over their nanomsg link."""
    w = member.worker(kind)
    return [lk["sent"] for lk in w["links"] if lk["peer"] == peer][0]


def test_followers_answer_appends_from_storage(make_cluster):
    # A follower's answer to an append may leave only once the entries are
    # durable; storage hands it to the peer worker itself right after its
    # transaction, instead of telling consensus, which would then send it:
    # one hop less on every write's path.
    c = make_cluster(3).start()
    leader = c.wait_leader()
    f = c.followers(leader)[0]
    before = (link_sent(f, "storage", "peer"), link_sent(f, "consensus", "peer"))
    writes = 60
    for i in range(writes):
        status, body, _ = leader.put(f"relay/k{i}", "v")
        assert status in (200, 201), (status, body)
    # The answer to the last append may still be on its way.
    wait_for(lambda: link_sent(f, "storage", "peer") - before[0] >= writes * 0.9, 5,
             "the follower's answers through storage")
    from_consensus = link_sent(f, "consensus", "peer") - before[1]
    # What consensus still sends itself: heartbeat answers, one per 50 ms.
    assert from_consensus < writes / 3, f"consensus sent {from_consensus} frames for {writes} writes"
    assert f.detail("storage").get("relayed", 0) >= writes * 0.9

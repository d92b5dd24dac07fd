/* The core driven by hand, one event at a time, for edges the simulator
 * rarely reaches: what a follower may commit, which messages wait for the
 * disk, restoring from term runs, refetching evicted entries, rejecting
 * malformed input, the configuration entry format, and the in-memory log
 * giving memory back after a compaction. */
#include <string.h>

#include "core/raft/raft.h"
#include "core/raft/raft_memlog.h"
#include "tests/unit/unit.h"

static struct cc_raft *make(cc_raft_id self, unsigned voters, const struct cc_raft_restore *rs0)
{
    struct cc_raft_config cfg;
    cc_raft_config_default(&cfg);
    struct cc_raft_restore rs;
    if (rs0 != NULL) {
        rs = *rs0;
    } else {
        memset(&rs, 0, sizeof(rs));
        rs.log_first = 1;
    }
    if (rs.snapshot.membership.n == 0)
        for (unsigned i = 0; i < voters; i++)
            rs.snapshot.membership.ids[rs.snapshot.membership.n++] = i + 1;
    struct cc_raft *r = NULL;
    CHECK(cc_raft_new(&r, self, &cfg, 42, &rs) == 0);
    return r;
}

static const struct cc_raft_update *recv(struct cc_raft *r, const struct cc_raft_msg *m)
{
    struct cc_raft_event ev = {.type = CC_RAFT_EVENT_RECEIVE};
    ev.receive.msg = m;
    const struct cc_raft_update *u;
    cc_raft_step(r, &ev, &u);
    return u;
}

static struct cc_raft_msg append_msg(cc_raft_term term, cc_raft_index prev, cc_raft_term prev_term,
                                     cc_raft_index commit, const struct cc_raft_entry *e, size_t n)
{
    struct cc_raft_msg m = {.type = CC_RAFT_MSG_APPEND, .from = 2, .to = 1, .term = term};
    m.append.prev_index = prev;
    m.append.prev_term = prev_term;
    m.append.commit = commit;
    m.append.entries = e;
    m.append.n_entries = n;
    return m;
}

/* A follower commits only what the message proved to match, even when the
 * leader's commit index is beyond: its own tail there may be stale. */
static void test_follower_commit_stops_at_last_new_entry(void)
{
    struct cc_raft *r = make(1, 3, NULL);
    struct cc_raft_entry e[5];
    for (int i = 0; i < 5; i++)
        e[i] = (struct cc_raft_entry){.index = (cc_raft_index)i + 1,
                                      .term = i < 3 ? 1 : 2,
                                      .type = CC_RAFT_ENTRY_NORMAL,
                                      .data = "x",
                                      .len = 1};
    struct cc_raft_msg m = append_msg(2, 0, 0, 0, e, 5);
    const struct cc_raft_update *u = recv(r, &m);
    CHECK(u->n_entries == 5 && u->entries[0].index == 1 && u->truncate_from == 0);
    /* A new leader of term 3 whose log agrees up to 3 sends nothing new
     * but commit 5: entries 4 and 5 here are term 2, maybe not its own. */
    m = append_msg(3, 3, 1, 5, NULL, 0);
    u = recv(r, &m);
    CHECK(u->commit == 3);
    /* The answer promises log state: it waits for the disk. */
    CHECK(u->n_send == 0 && u->n_send_after_persist == 1);
    CHECK(u->send_after_persist[0].type == CC_RAFT_MSG_APPEND_RESP &&
          !u->send_after_persist[0].append_resp.reject &&
          u->send_after_persist[0].append_resp.index == 3);
    /* A conflicting entry replaces the tail and says so. */
    struct cc_raft_entry c4 = {.index = 4, .term = 3, .type = CC_RAFT_ENTRY_NORMAL};
    m = append_msg(3, 3, 1, 5, &c4, 1);
    u = recv(r, &m);
    CHECK(u->n_entries == 1 && u->truncate_from == 4 && u->commit == 4);
    CHECK(cc_raft_last_index(r) == 4);
    cc_raft_free(r);
}

static void test_reject_hint_skips_a_stale_term(void)
{
    struct cc_raft *r = make(1, 3, NULL);
    struct cc_raft_entry e[6];
    for (int i = 0; i < 6; i++)
        e[i] = (struct cc_raft_entry){
            .index = (cc_raft_index)i + 1, .term = i < 2 ? 1 : 2, .type = CC_RAFT_ENTRY_NOOP};
    struct cc_raft_msg m = append_msg(2, 0, 0, 0, e, 6);
    recv(r, &m);
    /* The leader of term 4 has term 3 at 6: ours is term 2, which may
     * still match an earlier entry of its log, so the hint is 6^2. */
    m = append_msg(4, 6, 3, 0, NULL, 0);
    const struct cc_raft_update *u = recv(r, &m);
    CHECK(u->n_send_after_persist == 1);
    const struct cc_raft_msg *resp = &u->send_after_persist[0];
    CHECK(resp->append_resp.reject && resp->append_resp.index == 6);
    CHECK(resp->append_resp.hint_index == 6 && resp->append_resp.hint_term == 2);
    /* Its term at 6 is 1: none of our term-2 entries can match. */
    m = append_msg(4, 6, 1, 0, NULL, 0);
    u = recv(r, &m);
    CHECK(u->send_after_persist[0].append_resp.hint_index == 2);
    cc_raft_free(r);
}

static void test_malformed_messages_are_refused(void)
{
    struct cc_raft *r = make(1, 3, NULL);
    struct cc_raft_entry gap[2] = {{.index = 1, .term = 1}, {.index = 3, .term = 1}};
    struct cc_raft_msg m = append_msg(1, 0, 0, 0, gap, 2);
    struct cc_raft_event ev = {.type = CC_RAFT_EVENT_RECEIVE};
    ev.receive.msg = &m;
    const struct cc_raft_update *u;
    CHECK(cc_raft_step(r, &ev, &u) == CC_RAFT_EINVAL);
    CHECK(u->n_entries == 0 && cc_raft_current_term(r) == 0);
    m = append_msg(1, 0, 0, 0, NULL, 0);
    m.to = 9; /* not for us */
    CHECK(cc_raft_step(r, &ev, &u) == CC_RAFT_EINVAL);
    m.to = 1;
    m.type = 99;
    CHECK(cc_raft_step(r, &ev, &u) == CC_RAFT_EINVAL);
    cc_raft_free(r);
}

static void test_restore_validation(void)
{
    struct cc_raft_term_run runs[2] = {{5, 2}, {8, 3}};
    struct cc_raft_restore rs;
    memset(&rs, 0, sizeof(rs));
    rs.snapshot.index = 4;
    rs.snapshot.term = 2;
    rs.snapshot.membership.n = 1;
    rs.snapshot.membership.ids[0] = 1;
    rs.applied = 4;
    rs.log_first = 5;
    rs.prev_term = 2;
    rs.log_last = 9;
    rs.terms = runs;
    rs.n_terms = 2;
    rs.hard_state.term = 3;
    rs.hard_state.commit = 7;
    struct cc_raft *r = make(1, 1, &rs);
    cc_raft_term t = 0;
    CHECK(cc_raft_log_term(r, 4, &t) && t == 2);
    CHECK(cc_raft_log_term(r, 7, &t) && t == 2);
    CHECK(cc_raft_log_term(r, 9, &t) && t == 3);
    CHECK(cc_raft_commit(r) == 7 && cc_raft_applied(r) == 4);
    /* The first step hands out what is committed but not applied. */
    struct cc_raft_event tick = {.type = CC_RAFT_EVENT_TICK};
    const struct cc_raft_update *u;
    CHECK(cc_raft_step(r, &tick, &u) == 0);
    CHECK(u->apply_from == 5 && u->apply_to == 7);
    cc_raft_free(r);

    struct cc_raft_config cfg;
    cc_raft_config_default(&cfg);
    struct cc_raft *bad = NULL;
    struct cc_raft_restore b = rs;
    b.log_first = 6; /* a gap after the snapshot */
    CHECK(cc_raft_new(&bad, 1, &cfg, 1, &b) == CC_RAFT_EINVAL && bad == NULL);
    b = rs;
    runs[1].term = 1; /* terms going down */
    CHECK(cc_raft_new(&bad, 1, &cfg, 1, &b) == CC_RAFT_EINVAL);
    runs[1].term = 3;
    b.snapshot.term = 1; /* the log disagrees with the snapshot */
    CHECK(cc_raft_new(&bad, 1, &cfg, 1, &b) == CC_RAFT_EINVAL);
    b = rs;
    cfg.heartbeat_ticks = cfg.election_ticks;
    CHECK(cc_raft_new(&bad, 1, &cfg, 1, &b) == CC_RAFT_EINVAL);
}

/* A restarted leader holds terms but no payloads: it asks for them. */
static void test_restarted_leader_fetches_entries(void)
{
    struct cc_raft_term_run run = {1, 1};
    struct cc_raft_restore rs;
    memset(&rs, 0, sizeof(rs));
    rs.log_first = 1;
    rs.log_last = 3;
    rs.terms = &run;
    rs.n_terms = 1;
    rs.hard_state.term = 1;
    rs.hard_state.commit = 3;
    rs.applied = 3;
    struct cc_raft *r = make(1, 3, &rs);
    /* Win term 2 with 2's vote. */
    struct cc_raft_event tick = {.type = CC_RAFT_EVENT_TICK};
    const struct cc_raft_update *u;
    for (int i = 0; i < 40 && cc_raft_role(r) == CC_RAFT_FOLLOWER; i++)
        cc_raft_step(r, &tick, &u);
    struct cc_raft_msg m = {.type = CC_RAFT_MSG_PREVOTE_RESP, .from = 2, .to = 1, .term = 2};
    m.vote_resp.granted = true;
    recv(r, &m);
    CHECK(cc_raft_role(r) == CC_RAFT_CANDIDATE);
    m.type = CC_RAFT_MSG_VOTE_RESP;
    u = recv(r, &m);
    CHECK(cc_raft_role(r) == CC_RAFT_LEADER);
    /* Its term is not durable until its first entry is: nothing leaves. */
    CHECK(u->n_send == 0 && u->n_entries == 1 && u->entries[0].index == 4);
    struct cc_raft_event p = {.type = CC_RAFT_EVENT_PERSISTED};
    p.persisted.index = 4;
    p.persisted.term = 2;
    cc_raft_step(r, &p, &u);
    /* Follower 2 answers that it has only 1: the leader needs 2..3 back. */
    struct cc_raft_msg resp = {.type = CC_RAFT_MSG_APPEND_RESP, .from = 2, .to = 1, .term = 2};
    resp.append_resp.reject = true;
    resp.append_resp.index = 3;
    resp.append_resp.hint_index = 1;
    resp.append_resp.hint_term = 1;
    u = recv(r, &resp);
    CHECK(u->fetch_from == 2 && u->fetch_to == 4);
    struct cc_raft_entry e[2] = {
        {.index = 2, .term = 1, .type = CC_RAFT_ENTRY_NORMAL, .data = "b", .len = 1},
        {.index = 3, .term = 1, .type = CC_RAFT_ENTRY_NORMAL, .data = "c", .len = 1}};
    struct cc_raft_event ld = {.type = CC_RAFT_EVENT_ENTRIES_LOADED};
    ld.entries_loaded.entries = e;
    ld.entries_loaded.n = 2;
    CHECK(cc_raft_step(r, &ld, &u) == 0);
    bool sent = false;
    for (size_t i = 0; i < u->n_send; i++) {
        const struct cc_raft_msg *s = &u->send[i];
        if (s->to == 2 && s->type == CC_RAFT_MSG_APPEND && s->append.n_entries >= 2) {
            sent = s->append.prev_index == 1 && s->append.entries[0].index == 2 &&
                   memcmp(s->append.entries[1].data, "c", 1) == 0;
        }
    }
    CHECK(sent);
    cc_raft_free(r);
}

static void test_same_seed_same_timeouts(void)
{
    struct cc_raft *a = make(1, 3, NULL), *b = make(1, 3, NULL);
    struct cc_raft_event tick = {.type = CC_RAFT_EVENT_TICK};
    const struct cc_raft_update *u;
    int ta = -1, tb = -1;
    for (int i = 0; i < 40; i++) {
        cc_raft_step(a, &tick, &u);
        if (ta < 0 && cc_raft_role(a) != CC_RAFT_FOLLOWER)
            ta = i;
        cc_raft_step(b, &tick, &u);
        if (tb < 0 && cc_raft_role(b) != CC_RAFT_FOLLOWER)
            tb = i;
    }
    CHECK(ta >= 9 && ta < 20 && ta == tb); /* in [election, 2 * election) */
    cc_raft_free(a);
    cc_raft_free(b);
}

static void test_conf_entry_format(void)
{
    struct cc_raft_conf in = {
        .op = CC_RAFT_CONF_ADD, .node = 7, .context = "peer-urls", .context_len = 9};
    in.membership.n = 2;
    in.membership.ids[0] = 1;
    in.membership.ids[1] = 7;
    unsigned char buf[128];
    size_t n = cc_raft_conf_encode(&in, buf, sizeof(buf));
    struct cc_raft_conf out;
    CHECK(n < sizeof(buf) && cc_raft_conf_decode(buf, n, &out) == 0);
    CHECK(out.op == in.op && out.node == 7 && out.membership.n == 2 && out.membership.ids[1] == 7 &&
          out.context_len == 9 && memcmp(out.context, "peer-urls", 9) == 0);
    CHECK(cc_raft_conf_decode(buf, n - 1, &out) == CC_RAFT_ECORRUPT);
    buf[0] = 9;
    CHECK(cc_raft_conf_decode(buf, n, &out) == CC_RAFT_ECORRUPT);
    CHECK(cc_raft_conf_encode(&in, buf, 4) == n); /* too small: size only */
}

/* The log between two snapshots can hold ~100 000 entries; once compacted
 * the slot array shrinks back instead of keeping its largest size, and the
 * entries left keep their terms and payloads. */
static void test_memlog_shrinks_after_compaction(void)
{
    struct cc_raft_memlog l;
    cc_raft_memlog_init(&l, 0, 0);
    for (cc_raft_index i = 1; i <= 100000; i++) {
        unsigned char b = (unsigned char)i;
        CHECK(cc_raft_memlog_append(&l, 1 + i / 50000, 0, &b, 1) == 0);
    }
    size_t big = l.cap;
    CHECK(big >= 100000);
    cc_raft_memlog_compact(&l, 99000);
    CHECK(l.n == 1000 && l.cap < big / 4);
    cc_raft_term t = 0;
    CHECK(cc_raft_memlog_term(&l, 100000, &t) && t == 3);
    CHECK(cc_raft_memlog_term(&l, 99000, &t) && t == 2); /* the offset's term */
    const struct cc_raft_slot *s = cc_raft_memlog_slot(&l, 99999);
    CHECK(s != NULL && s->buf != NULL && s->buf->data[0] == (unsigned char)99999);
    cc_raft_memlog_free(&l);
}

int main(void)
{
    RUN(test_memlog_shrinks_after_compaction);
    RUN(test_follower_commit_stops_at_last_new_entry);
    RUN(test_reject_hint_skips_a_stale_term);
    RUN(test_malformed_messages_are_refused);
    RUN(test_restore_validation);
    RUN(test_restarted_leader_fetches_entries);
    RUN(test_same_seed_same_timeouts);
    RUN(test_conf_entry_format);
    return unit_report();
}

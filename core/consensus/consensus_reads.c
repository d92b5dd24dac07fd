/* Linearizable reads (quorum=true) with raft's ReadIndex, no log write.
 *
 * Reads that arrive during one loop turn form one round: the leader steps
 * one READ_INDEX event for the whole round (one heartbeat exchange confirms
 * it still leads), and every read of the round gets the index the core
 * answers with; http then waits until its view applied that index and reads
 * from it. A follower sends its round to the leader (PEER_READ_INDEX) and
 * hands the leader's index to its own http worker: the follower's view will
 * reach that index too, and reading there sees every write acknowledged
 * before the read began (raft thesis §6.4).
 *
 * Rounds whose leader goes away are answered with error 300 at once, like
 * writes. */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "core/consensus/consensus.h"
#include "core/log.h"
#include "ipc/link.h"

struct cc_read_round {
    uint64_t ctx;
    double at;
    uint64_t *local; /* req_ids of our http worker */
    size_t n_local;
    struct cc_remote_read *remote; /* followers' rounds (leader only) */
    size_t n_remote;
};

static void answer_local(struct consensus *c, const uint64_t *ids, size_t n, uint64_t index,
                         bool ok)
{
    struct cc_link *l = cc_worker_link(c->w, CC_KIND_HTTP);
    for (size_t i = 0; l != NULL && i < n; i++) {
        struct cc_msg m = {.type = CC_MSG_READ_INDEX_RESP};
        m.u.read_index_resp.req_id = ids[i];
        m.u.read_index_resp.index = index;
        m.u.read_index_resp.code = ok ? 0 : 300;
        cc_link_send(l, &m);
    }
}

static void answer_remote(struct consensus *c, const struct cc_remote_read *r, size_t n,
                          uint64_t index, bool ok)
{
    struct cc_link *l = cc_worker_link(c->w, CC_KIND_PEER);
    for (size_t i = 0; l != NULL && i < n; i++) {
        struct cc_msg m = {.type = CC_MSG_PEER_READ_INDEX_RESP};
        m.u.peer_read_index_resp.from = c->id.self_id;
        m.u.peer_read_index_resp.to = r[i].from;
        m.u.peer_read_index_resp.ctx = r[i].ctx;
        m.u.peer_read_index_resp.index = index;
        m.u.peer_read_index_resp.ok = ok;
        cc_link_send(l, &m);
    }
}

static void round_free(struct cc_read_round *r)
{
    free(r->local);
    free(r->remote);
}

static void finish_round(struct consensus *c, size_t i, uint64_t index, bool ok)
{
    struct cc_read_round *r = &c->rounds[i];
    answer_local(c, r->local, r->n_local, index, ok);
    answer_remote(c, r->remote, r->n_remote, index, ok);
    round_free(r);
    memmove(c->rounds + i, c->rounds + i + 1, (c->n_rounds - i - 1) * sizeof(*c->rounds));
    c->n_rounds--;
}

static ssize_t find_round(struct consensus *c, uint64_t ctx)
{
    for (size_t i = 0; i < c->n_rounds; i++)
        if (c->rounds[i].ctx == ctx)
            return (ssize_t)i;
    return -1;
}

void cc_consensus_read_local(struct consensus *c, uint64_t req_id)
{
    uint64_t *nv = realloc(c->rd_local, (c->n_rd_local + 1) * sizeof(*nv));
    if (nv == NULL) {
        answer_local(c, &req_id, 1, 0, false);
        return;
    }
    c->rd_local = nv;
    c->rd_local[c->n_rd_local++] = req_id;
    event_active(c->batch_ev, EV_WRITE, 0);
}

void cc_consensus_read_remote(struct consensus *c, const struct cc_msg_peer_read_index *m)
{
    struct cc_remote_read rr = {m->from, m->ctx};
    if (c->raft == NULL || c->role != CC_RAFT_LEADER || m->to != c->id.self_id) {
        answer_remote(c, &rr, 1, 0, false);
        return;
    }
    struct cc_remote_read *nv = realloc(c->rd_remote, (c->n_rd_remote + 1) * sizeof(*nv));
    if (nv == NULL) {
        answer_remote(c, &rr, 1, 0, false);
        return;
    }
    c->rd_remote = nv;
    c->rd_remote[c->n_rd_remote++] = rr;
    event_active(c->batch_ev, EV_WRITE, 0);
}

/* Called once per loop turn (the batch event): starts a round with every
 * read collected since the last one. */
void cc_consensus_reads_flush(struct consensus *c)
{
    if (c->n_rd_local == 0 && c->n_rd_remote == 0)
        return;
    bool leader = c->raft != NULL && c->role == CC_RAFT_LEADER;
    if (!leader && (c->raft == NULL || !cc_consensus_leader_alive(c))) {
        /* No one to ask yet: the reads wait for a leader (released then),
         * a follower's round is refused so it asks again. */
        answer_remote(c, c->rd_remote, c->n_rd_remote, 0, false);
        c->n_rd_remote = 0;
        return;
    }
    struct cc_read_round *nv = realloc(c->rounds, (c->n_rounds + 1) * sizeof(*nv));
    if (nv == NULL)
        return; /* tried again next turn */
    c->rounds = nv;
    struct cc_read_round *r = &c->rounds[c->n_rounds++];
    memset(r, 0, sizeof(*r));
    r->ctx = ++c->read_ctx;
    r->at = cc_now();
    if (!leader) {
        /* only a leader serves other members' rounds */
        answer_remote(c, c->rd_remote, c->n_rd_remote, 0, false);
        free(c->rd_remote);
        c->rd_remote = NULL;
        c->n_rd_remote = 0;
    }
    r->local = c->rd_local;
    r->n_local = c->n_rd_local;
    r->remote = c->rd_remote;
    r->n_remote = c->n_rd_remote;
    c->rd_local = NULL;
    c->n_rd_local = 0;
    c->rd_remote = NULL;
    c->n_rd_remote = 0;
    uint64_t ctx = r->ctx;
    if (leader) {
        struct cc_raft_event ev = {.type = CC_RAFT_EVENT_READ_INDEX};
        ev.read_index.ctx = ctx;
        if (cc_consensus_step(c, &ev) != CC_RAFT_OK) {
            ssize_t i = find_round(c, ctx);
            if (i >= 0)
                finish_round(c, (size_t)i, 0, false);
        }
        return;
    }
    struct cc_msg m = {.type = CC_MSG_PEER_READ_INDEX};
    m.u.peer_read_index.from = c->id.self_id;
    m.u.peer_read_index.to = c->leader;
    m.u.peer_read_index.ctx = ctx;
    struct cc_link *l = cc_worker_link(c->w, CC_KIND_PEER);
    if (l == NULL || cc_link_send(l, &m) != 0)
        finish_round(c, c->n_rounds - 1, 0, false);
}

void cc_consensus_reads_answered(struct consensus *c, const struct cc_raft_read *reads, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        ssize_t i = find_round(c, reads[k].ctx);
        if (i >= 0)
            finish_round(c, (size_t)i, reads[k].index, reads[k].err == CC_RAFT_OK);
    }
}

void cc_consensus_read_resp(struct consensus *c, const struct cc_msg_peer_read_index_resp *m)
{
    ssize_t i = m->to == c->id.self_id ? find_round(c, m->ctx) : -1;
    if (i >= 0)
        finish_round(c, (size_t)i, m->index, m->ok != 0);
}

void cc_consensus_reads_fail(struct consensus *c, double older_than)
{
    for (size_t i = c->n_rounds; i-- > 0;)
        if (older_than <= 0 || c->rounds[i].at < older_than)
            finish_round(c, i, 0, false);
}

void cc_consensus_reads_free(struct consensus *c)
{
    for (size_t i = 0; i < c->n_rounds; i++)
        round_free(&c->rounds[i]);
    free(c->rounds);
    free(c->rd_local);
    free(c->rd_remote);
}

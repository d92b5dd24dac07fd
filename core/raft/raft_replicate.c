/* The leader's side of log replication: what to send each follower, what
 * their answers tell us, and when an entry is committed. Also the local
 * append/truncate both roles use, because configuration entries take effect
 * there. */
#include <stdlib.h>
#include <string.h>

#include "core/raft/raft_state.h"

#define ULL(x) ((unsigned long long)(x))

int cc_raft_append_local(struct cc_raft *r, cc_raft_term term, enum cc_raft_entry_type type,
                         const void *data, size_t len)
{
    struct cc_raft_conf conf;
    if (type == CC_RAFT_ENTRY_CONF && cc_raft_conf_decode(data, len, &conf) != 0)
        return CC_RAFT_ECORRUPT;
    int rc = cc_raft_memlog_append(&r->log, term, (uint8_t)type, data, len);
    if (rc != 0)
        return rc;
    cc_raft_index index = cc_raft_memlog_last(&r->log);
    cc_raft_out_appended(r, index);
    if (type != CC_RAFT_ENTRY_CONF)
        return 0;
    /* Appended, not committed: the new voters rule from now on (§4.1). */
    rc = cc_raft_confs_push(&r->confs, index, &conf.membership);
    if (rc != 0)
        return rc;
    cc_raft_tracef(r, "configuration at %llu: %s %llu, %u voters", ULL(index),
                   conf.op == CC_RAFT_CONF_ADD ? "add" : "remove", ULL(conf.node),
                   conf.membership.n);
    return r->role == CC_RAFT_LEADER ? cc_raft_sync_progress(r) : 0;
}

void cc_raft_truncate_local(struct cc_raft *r, cc_raft_index from)
{
    cc_raft_tracef(r, "drop conflicting entries from %llu to %llu", ULL(from),
                   ULL(cc_raft_memlog_last(&r->log)));
    cc_raft_memlog_truncate(&r->log, from);
    cc_raft_confs_truncate(&r->confs, from);
    if (r->out.truncate_from == 0 || from < r->out.truncate_from)
        r->out.truncate_from = from;
    if (r->persisted >= from)
        r->persisted = from - 1;
}

static int request_fetch(struct cc_raft *r, cc_raft_index from)
{
    if (r->fetching)
        return 0;
    cc_raft_index to = from + (cc_raft_index)r->cfg.max_msg_entries * 4 - 1;
    if (to > cc_raft_memlog_last(&r->log))
        to = cc_raft_memlog_last(&r->log);
    r->fetching = true;
    r->out.u.fetch_from = from;
    r->out.u.fetch_to = to;
    cc_raft_tracef(r, "fetch entries %llu..%llu from storage", ULL(from), ULL(to));
    return 0;
}

static int send_snapshot(struct cc_raft *r, struct cc_raft_progress *pr)
{
    struct cc_raft_msg m = {.type = CC_RAFT_MSG_SNAPSHOT, .to = pr->id, .term = r->term};
    m.snapshot.meta = r->snap;
    cc_raft_tracef(r, "send snapshot %llu^%llu to %llu (it needs %llu)", ULL(r->snap.index),
                   ULL(r->snap.term), ULL(pr->id), ULL(pr->next));
    cc_raft_progress_become_snapshot(pr, r->snap.index);
    return cc_raft_send(r, &m, 0);
}

/* Sends pr what it needs next if flow control allows. *more is set when
 * entries went out and another append could follow at once. */
static int send_append_once(struct cc_raft *r, struct cc_raft_progress *pr, bool *more)
{
    *more = false;
    if (cc_raft_progress_is_paused(pr))
        return 0;
    cc_raft_index prev = pr->next - 1, last = cc_raft_memlog_last(&r->log);
    cc_raft_term prev_term;
    if (!cc_raft_memlog_term(&r->log, prev, &prev_term))
        return send_snapshot(r, pr);

    size_t n = 0, bytes = 0;
    for (cc_raft_index i = pr->next; i <= last && n < r->cfg.max_msg_entries; i++) {
        const struct cc_raft_slot *s = cc_raft_memlog_slot(&r->log, i);
        size_t len = s->buf ? s->buf->len : 0;
        if (!s->loaded || (n > 0 && bytes + len > r->cfg.max_msg_bytes))
            break;
        n++;
        bytes += len;
    }
    if (n == 0 && pr->next <= last)
        return request_fetch(r, pr->next);

    size_t off = 0;
    if (n > 0) {
        struct cc_raft_entry *e = cc_raft_out_entries(r, n, &off);
        if (e == NULL)
            return CC_RAFT_ENOMEM;
        for (size_t k = 0; k < n; k++) {
            const struct cc_raft_slot *s = cc_raft_memlog_slot(&r->log, pr->next + k);
            e[k].index = pr->next + k;
            e[k].term = s->term;
            e[k].type = s->type;
            e[k].data = s->buf ? s->buf->data : NULL;
            e[k].len = s->buf ? s->buf->len : 0;
            if (cc_raft_out_pin(r, s->buf) != 0)
                return CC_RAFT_ENOMEM;
        }
    }
    struct cc_raft_msg m = {.type = CC_RAFT_MSG_APPEND, .to = pr->id, .term = r->term};
    m.append.prev_index = prev;
    m.append.prev_term = prev_term;
    m.append.commit = r->commit;
    m.append.n_entries = n;
    /* A commit carrier to a follower in step: each write would otherwise
     * cost one more answer per follower (the new commit index goes out to
     * every follower once per commit, with maybe_commit's broadcast). The
     * follower may not have answered the entries before prev yet (the
     * quorum was the other follower): that answer is on its way and tells
     * the leader the same, and a follower that lacks prev rejects, which
     * is always answered. */
    m.append.quiet = n == 0 && pr->state == CC_RAFT_PR_REPLICATE;
    int rc = cc_raft_send(r, &m, off);
    if (rc != 0)
        return rc;
    cc_raft_progress_sent(pr, prev + n, n > 0);
    *more = n > 0 && pr->state == CC_RAFT_PR_REPLICATE && pr->next <= last;
    return 0;
}

int cc_raft_send_append(struct cc_raft *r, struct cc_raft_progress *pr)
{
    bool more = true;
    int rc = 0;
    /* Pipelining: keep sending while the window has room. */
    while (rc == 0 && more)
        rc = send_append_once(r, pr, &more);
    return rc;
}

int cc_raft_bcast_append(struct cc_raft *r)
{
    for (unsigned i = 0; i < r->n_pr; i++) {
        int rc = cc_raft_send_append(r, &r->pr[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int cc_raft_bcast_heartbeat(struct cc_raft *r)
{
    for (unsigned i = 0; i < r->n_pr; i++) {
        struct cc_raft_progress *pr = &r->pr[i];
        struct cc_raft_msg m = {.type = CC_RAFT_MSG_HEARTBEAT, .to = pr->id, .term = r->term};
        /* Beyond match the follower's log may still differ from ours. */
        m.heartbeat.commit = pr->match < r->commit ? pr->match : r->commit;
        m.heartbeat.read_seq = r->read_seq;
        int rc = cc_raft_send(r, &m, 0);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static cc_raft_index match_of(const struct cc_raft *r, cc_raft_id id)
{
    if (id == r->id)
        return r->persisted;
    for (unsigned i = 0; i < r->n_pr; i++)
        if (r->pr[i].id == id)
            return r->pr[i].match;
    return 0;
}

static int desc(const void *a, const void *b)
{
    cc_raft_index x = *(const cc_raft_index *)a, y = *(const cc_raft_index *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Advances commit to the highest index a majority holds durably, if it is
 * of the current term: counting replicas of an older term's entry is not
 * enough (Figure 8); it commits indirectly with the first current one. */
int cc_raft_maybe_commit(struct cc_raft *r)
{
    const struct cc_raft_membership *v = cc_raft_voters(r);
    if (r->role != CC_RAFT_LEADER || v->n == 0)
        return 0;
    cc_raft_index m[CC_RAFT_MAX_MEMBERS];
    for (unsigned i = 0; i < v->n; i++)
        m[i] = match_of(r, v->ids[i]);
    qsort(m, v->n, sizeof(m[0]), desc);
    cc_raft_index n = m[cc_raft_quorum(v->n) - 1];
    cc_raft_term t;
    if (n <= r->commit || !cc_raft_memlog_term(&r->log, n, &t) || t != r->term)
        return 0;
    cc_raft_index old = r->commit;
    r->commit = n;
    cc_raft_tracef(r, "commit %llu -> %llu", ULL(old), ULL(n));

    cc_raft_index last_conf = cc_raft_confs_last_index(&r->confs);
    if (old < last_conf && n >= last_conf && !cc_raft_is_voter(r)) {
        /* Kept leading only to commit our own removal (§4.2.2). Tell the
         * others the commit index first, so they apply it. */
        int rc = cc_raft_bcast_heartbeat(r);
        cc_raft_tracef(r, "removal committed: step down");
        cc_raft_become_follower(r, r->term, 0);
        return rc;
    }
    int rc = cc_raft_reads_start(r);
    if (rc != 0)
        return rc;
    /* Followers learn the new commit index with the next append. */
    return cc_raft_bcast_append(r);
}

int cc_raft_recv_append_resp(struct cc_raft *r, const struct cc_raft_msg *m)
{
    struct cc_raft_progress *pr = cc_raft_progress_of(r, m->from);
    if (pr == NULL)
        return 0;
    pr->recent_active = true;
    if (m->append_resp.reject) {
        cc_raft_index guess = m->append_resp.hint_index + 1;
        /* Skip every entry of ours whose term is above the follower's term
         * at its hint: none of them can match. */
        if (m->append_resp.hint_term > 0) {
            cc_raft_index i = m->append_resp.hint_index;
            cc_raft_term t;
            while (i > r->log.offset && cc_raft_memlog_term(&r->log, i, &t) &&
                   t > m->append_resp.hint_term)
                i--;
            guess = i + 1;
        }
        bool was_replicate = pr->state == CC_RAFT_PR_REPLICATE;
        if (!cc_raft_progress_maybe_decrease(pr, m->append_resp.index, guess))
            return 0;
        if (was_replicate)
            cc_raft_progress_become_probe(pr);
        cc_raft_tracef(r, "%llu rejected %llu: probe from %llu", ULL(pr->id),
                       ULL(m->append_resp.index), ULL(pr->next));
        return cc_raft_send_append(r, pr);
    }
    /* A paused follower (probing, or its window full) missed any commit
     * broadcast meanwhile: it gets an append below even if empty. */
    bool was_paused = cc_raft_progress_is_paused(pr);
    bool updated = cc_raft_progress_maybe_update(pr, m->append_resp.index);
    /* An empty probe at match proves the follower in step too; any other
     * answer that tells nothing new is a late duplicate. */
    bool probe_ack = pr->state == CC_RAFT_PR_PROBE && pr->match == m->append_resp.index &&
                     pr->paused && pr->probe_last == m->append_resp.index;
    if (!updated && !probe_ack)
        return 0;
    if (pr->state == CC_RAFT_PR_PROBE)
        cc_raft_progress_become_replicate(pr);
    else if (pr->state == CC_RAFT_PR_SNAPSHOT && pr->match >= pr->pending_snapshot)
        cc_raft_progress_become_probe(pr);
    cc_raft_index old_commit = r->commit;
    int rc = cc_raft_maybe_commit(r);
    if (rc != 0 || r->role != CC_RAFT_LEADER)
        return rc;
    /* Committing may have rebuilt the progress set: look pr up again. */
    if ((pr = cc_raft_progress_of(r, m->from)) == NULL)
        return 0;
    /* Entries it lacks, or the commit index if it missed it. A new commit
     * index already went to every follower with maybe_commit's broadcast;
     * an empty append on every answer would cost each write one more
     * message and answer per follower. */
    bool missed_commit = was_paused && r->commit == old_commit;
    if (pr->next <= cc_raft_memlog_last(&r->log) || missed_commit) {
        rc = cc_raft_send_append(r, pr);
        if (rc != 0)
            return rc;
    }
    return cc_raft_transfer_progress(r, pr);
}

int cc_raft_recv_heartbeat_resp(struct cc_raft *r, const struct cc_raft_msg *m)
{
    struct cc_raft_progress *pr = cc_raft_progress_of(r, m->from);
    if (pr == NULL)
        return 0;
    pr->recent_active = true;
    cc_raft_progress_heartbeat_answered(pr);
    if (pr->match < cc_raft_memlog_last(&r->log)) {
        int rc = cc_raft_send_append(r, pr);
        if (rc != 0)
            return rc;
    }
    if (m->heartbeat_resp.read_seq > pr->read_ack) {
        pr->read_ack = m->heartbeat_resp.read_seq;
        return cc_raft_reads_confirm(r);
    }
    return 0;
}

int cc_raft_recv_snapshot_resp(struct cc_raft *r, const struct cc_raft_msg *m)
{
    struct cc_raft_progress *pr = cc_raft_progress_of(r, m->from);
    if (pr == NULL)
        return 0;
    pr->recent_active = true;
    cc_raft_progress_maybe_update(pr, m->snapshot_resp.index);
    if (pr->state == CC_RAFT_PR_SNAPSHOT)
        cc_raft_progress_become_probe(pr);
    cc_raft_tracef(r, "%llu has the snapshot: match %llu", ULL(pr->id), ULL(pr->match));
    int rc = cc_raft_maybe_commit(r);
    if (rc != 0 || r->role != CC_RAFT_LEADER)
        return rc;
    if ((pr = cc_raft_progress_of(r, m->from)) == NULL)
        return 0;
    return cc_raft_send_append(r, pr);
}

int cc_raft_snapshot_status(struct cc_raft *r, cc_raft_id peer, bool ok)
{
    struct cc_raft_progress *pr = r->role == CC_RAFT_LEADER ? cc_raft_progress_of(r, peer) : NULL;
    if (pr == NULL || pr->state != CC_RAFT_PR_SNAPSHOT)
        return 0;
    if (!ok)
        pr->pending_snapshot = 0;
    cc_raft_progress_become_probe(pr);
    /* Wait for a heartbeat answer before probing: the peer may be down. */
    pr->paused = true;
    cc_raft_tracef(r, "snapshot to %llu %s: probe from %llu", ULL(peer), ok ? "sent" : "failed",
                   ULL(pr->next));
    return 0;
}

int cc_raft_entries_loaded(struct cc_raft *r, const struct cc_raft_entry *e, size_t n)
{
    r->fetching = false;
    for (size_t k = 0; k < n; k++) {
        int rc = cc_raft_memlog_load(&r->log, &e[k]);
        if (rc != 0)
            return rc;
    }
    return r->role == CC_RAFT_LEADER ? cc_raft_bcast_append(r) : 0;
}

bool cc_raft_quorum_active(struct cc_raft *r)
{
    const struct cc_raft_membership *v = cc_raft_voters(r);
    unsigned n = 0;
    for (unsigned i = 0; i < v->n; i++) {
        if (v->ids[i] == r->id) {
            n++;
            continue;
        }
        struct cc_raft_progress *pr = cc_raft_progress_of(r, v->ids[i]);
        if (pr != NULL && pr->recent_active)
            n++;
    }
    for (unsigned i = 0; i < r->n_pr; i++)
        r->pr[i].recent_active = false;
    return n >= cc_raft_quorum(v->n);
}

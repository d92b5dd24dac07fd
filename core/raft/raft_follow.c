/* The follower's side: accepting the leader's entries, commit index and
 * snapshots. Every answer goes out after persisting (cc_raft_send sees we
 * are not leader), because it promises what our log holds. */
#include "core/raft/raft_state.h"

#define ULL(x) ((unsigned long long)(x))

/* Where the leader should look next after a mismatch at prev: the last of
 * our entries whose term is at most prev_term. Entries above it carry terms
 * the leader's log cannot have at those positions. */
static void reject_hint(const struct cc_raft *r, const struct cc_raft_msg *m, cc_raft_index *hint,
                        cc_raft_term *hint_term)
{
    cc_raft_index i = cc_raft_memlog_last(&r->log);
    if (i > m->append.prev_index)
        i = m->append.prev_index;
    cc_raft_term t = 0;
    while (i > r->commit && cc_raft_memlog_term(&r->log, i, &t) && t > m->append.prev_term)
        i--;
    if (!cc_raft_memlog_term(&r->log, i, &t))
        t = 0;
    *hint = i;
    *hint_term = t;
}

static int append_entries(struct cc_raft *r, const struct cc_raft_msg *m)
{
    const struct cc_raft_entry *e = m->append.entries;
    size_t n = m->append.n_entries, k = 0;
    /* Skip what we already have; drop our suffix at the first conflict. */
    for (; k < n; k++) {
        cc_raft_term t;
        if (!cc_raft_memlog_term(&r->log, e[k].index, &t))
            break;
        if (t != e[k].term) {
            cc_raft_truncate_local(r, e[k].index);
            break;
        }
    }
    if (k + 1 == n)
        cc_raft_tracef(r, "append %llu^%llu", ULL(e[k].index), ULL(e[k].term));
    else if (k < n)
        cc_raft_tracef(r, "append %llu^%llu..%llu^%llu", ULL(e[k].index), ULL(e[k].term),
                       ULL(e[n - 1].index), ULL(e[n - 1].term));
    for (; k < n; k++) {
        int rc = cc_raft_append_local(r, e[k].term, e[k].type, e[k].data, e[k].len);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void advance_commit(struct cc_raft *r, cc_raft_index to)
{
    if (to <= r->commit)
        return;
    cc_raft_tracef(r, "commit %llu -> %llu", ULL(r->commit), ULL(to));
    r->commit = to;
}

int cc_raft_recv_append(struct cc_raft *r, const struct cc_raft_msg *m)
{
    struct cc_raft_msg resp = {.type = CC_RAFT_MSG_APPEND_RESP, .to = m->from, .term = r->term};
    cc_raft_index prev = m->append.prev_index;
    cc_raft_term t;
    if (prev < r->commit) {
        /* Everything up to commit matches already (and may be compacted). */
        resp.append_resp.index = r->commit;
    } else if (cc_raft_memlog_term(&r->log, prev, &t) && t == m->append.prev_term) {
        int rc = append_entries(r, m);
        if (rc != 0)
            return rc;
        cc_raft_index last_new = prev + m->append.n_entries;
        /* Only what this message proved to match can be committed. */
        advance_commit(r, m->append.commit < last_new ? m->append.commit : last_new);
        resp.append_resp.index = last_new;
        if (m->append.quiet && m->append.n_entries == 0)
            return 0;
    } else {
        resp.append_resp.reject = true;
        resp.append_resp.index = prev;
        reject_hint(r, m, &resp.append_resp.hint_index, &resp.append_resp.hint_term);
        cc_raft_tracef(r, "reject append after %llu^%llu: hint %llu^%llu", ULL(prev),
                       ULL(m->append.prev_term), ULL(resp.append_resp.hint_index),
                       ULL(resp.append_resp.hint_term));
    }
    return cc_raft_send(r, &resp, 0);
}

int cc_raft_recv_heartbeat(struct cc_raft *r, const struct cc_raft_msg *m)
{
    cc_raft_index last = cc_raft_memlog_last(&r->log);
    advance_commit(r, m->heartbeat.commit < last ? m->heartbeat.commit : last);
    struct cc_raft_msg resp = {.type = CC_RAFT_MSG_HEARTBEAT_RESP, .to = m->from, .term = r->term};
    resp.heartbeat_resp.read_seq = m->heartbeat.read_seq;
    return cc_raft_send(r, &resp, 0);
}

int cc_raft_recv_snapshot(struct cc_raft *r, const struct cc_raft_msg *m)
{
    const struct cc_raft_snapshot_meta *meta = &m->snapshot.meta;
    struct cc_raft_msg resp = {.type = CC_RAFT_MSG_SNAPSHOT_RESP, .to = m->from, .term = r->term};
    cc_raft_term t;
    if (meta->index <= r->commit) {
        resp.snapshot_resp.index = r->commit;
    } else if (cc_raft_memlog_term(&r->log, meta->index, &t) && t == meta->term) {
        /* Our log already holds it: only the commit index was behind. */
        cc_raft_tracef(r, "snapshot %llu^%llu matches the log", ULL(meta->index), ULL(t));
        advance_commit(r, meta->index);
        resp.snapshot_resp.index = meta->index;
    } else if (!cc_raft_membership_valid(&meta->membership)) {
        return CC_RAFT_EINVAL;
    } else {
        cc_raft_tracef(r, "install snapshot %llu^%llu", ULL(meta->index), ULL(meta->term));
        cc_raft_memlog_reset(&r->log, meta->index, meta->term);
        cc_raft_confs_reset(&r->confs, meta->index, &meta->membership);
        r->snap = *meta;
        r->commit = meta->index;
        /* The embedder installs it before anything later (FIFO), so from
         * here on the state machine and the stored log start there. */
        r->persisted = r->applied = r->apply_emitted = meta->index;
        r->snapshot_asked = false;
        r->out.install = true;
        r->out.install_meta = *meta;
        resp.snapshot_resp.index = meta->index;
    }
    return cc_raft_send(r, &resp, 0);
}

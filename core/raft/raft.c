/* The core's entry points: creating it from durable state, feeding it one
 * event, and read-only views. Everything else hangs off cc_raft_step(). */
#include <stdlib.h>
#include <string.h>

#include "core/raft/raft_state.h"

#define ULL(x) ((unsigned long long)(x))

void cc_raft_config_default(struct cc_raft_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    /* etcd 2 defaults with a 100 ms tick: 1 s election, 100 ms heartbeat. */
    cfg->election_ticks = 10;
    cfg->heartbeat_ticks = 1;
    cfg->max_inflight_msgs = 256;
    cfg->max_msg_entries = 64;
    cfg->max_msg_bytes = 1u << 20;
    cfg->pre_vote = true;
    cfg->check_quorum = true;
    cfg->snapshot_threshold = 10000;
    cfg->snapshot_trailing = 5000;
    cfg->max_cache_bytes = 64u << 20;
}

const char *cc_raft_strerror(int err)
{
    switch (err) {
    case CC_RAFT_OK:
        return "ok";
    case CC_RAFT_ENOTLEADER:
        return "not the leader";
    case CC_RAFT_EBUSY:
        return "membership change or leadership transfer in progress";
    case CC_RAFT_EINVAL:
        return "invalid argument";
    case CC_RAFT_ENOMEM:
        return "out of memory";
    case CC_RAFT_ECORRUPT:
        return "corrupt configuration entry";
    }
    return "unknown error";
}

const char *cc_raft_role_name(enum cc_raft_role role)
{
    switch (role) {
    case CC_RAFT_FOLLOWER:
        return "follower";
    case CC_RAFT_PRECANDIDATE:
        return "pre-candidate";
    case CC_RAFT_CANDIDATE:
        return "candidate";
    case CC_RAFT_LEADER:
        return "leader";
    }
    return "?";
}

const char *cc_raft_msg_type_name(enum cc_raft_msg_type type)
{
    static const char *const names[] = {
        [CC_RAFT_MSG_PREVOTE] = "pre-vote",
        [CC_RAFT_MSG_PREVOTE_RESP] = "pre-vote resp",
        [CC_RAFT_MSG_VOTE] = "vote",
        [CC_RAFT_MSG_VOTE_RESP] = "vote resp",
        [CC_RAFT_MSG_APPEND] = "append",
        [CC_RAFT_MSG_APPEND_RESP] = "append resp",
        [CC_RAFT_MSG_HEARTBEAT] = "heartbeat",
        [CC_RAFT_MSG_HEARTBEAT_RESP] = "heartbeat resp",
        [CC_RAFT_MSG_SNAPSHOT] = "snapshot",
        [CC_RAFT_MSG_SNAPSHOT_RESP] = "snapshot resp",
        [CC_RAFT_MSG_TIMEOUT_NOW] = "timeout-now",
    };
    if ((unsigned)type == 0 || (unsigned)type > CC_RAFT_MSG_TYPE_MAX)
        return "?";
    return names[type];
}

static bool config_valid(const struct cc_raft_config *c)
{
    return c->election_ticks >= 2 && c->heartbeat_ticks >= 1 &&
           c->heartbeat_ticks < c->election_ticks && c->max_inflight_msgs >= 1 &&
           c->max_msg_entries >= 1 && c->max_msg_bytes >= 1;
}

/* Checks the restored state hangs together before trusting any of it. */
static bool restore_valid(const struct cc_raft_restore *rs)
{
    const struct cc_raft_snapshot_meta *s = &rs->snapshot;
    if (!cc_raft_membership_valid(&s->membership) || rs->log_first == 0 ||
        rs->log_last + 1 < rs->log_first || rs->log_first > s->index + 1)
        return false;
    if (rs->log_last >= rs->log_first) {
        if (rs->n_terms == 0 || rs->terms[0].index != rs->log_first)
            return false;
        for (size_t k = 0; k < rs->n_terms; k++) {
            const struct cc_raft_term_run *t = &rs->terms[k];
            if (t->index > rs->log_last || t->term < rs->prev_term ||
                (k > 0 && (t->index <= t[-1].index || t->term < t[-1].term)))
                return false;
        }
    }
    for (size_t k = 0; k < rs->n_confs; k++) {
        const struct cc_raft_conf_point *p = &rs->confs[k];
        if (p->index <= s->index || p->index > rs->log_last || (k > 0 && p->index <= p[-1].index) ||
            !cc_raft_membership_valid(&p->membership))
            return false;
    }
    return rs->applied <= (rs->log_last > s->index ? rs->log_last : s->index);
}

static int restore_log(struct cc_raft *r, const struct cc_raft_restore *rs)
{
    const struct cc_raft_snapshot_meta *s = &rs->snapshot;
    if (rs->log_last < s->index || rs->log_last < rs->log_first) {
        /* The snapshot is newer than every stored entry. */
        cc_raft_memlog_init(&r->log, s->index, s->term);
        return 0;
    }
    cc_raft_memlog_init(&r->log, rs->log_first - 1, rs->prev_term);
    size_t run = 0;
    for (cc_raft_index i = rs->log_first; i <= rs->log_last; i++) {
        while (run + 1 < rs->n_terms && rs->terms[run + 1].index <= i)
            run++;
        int rc = cc_raft_memlog_append_unloaded(&r->log, rs->terms[run].term);
        if (rc != 0)
            return rc;
    }
    cc_raft_term t;
    if (s->index > 0 && (!cc_raft_memlog_term(&r->log, s->index, &t) || t != s->term))
        return CC_RAFT_EINVAL;
    return 0;
}

int cc_raft_new(struct cc_raft **out, cc_raft_id self, const struct cc_raft_config *cfg,
                uint64_t seed, const struct cc_raft_restore *rs)
{
    *out = NULL;
    if (self == 0 || !config_valid(cfg) || !restore_valid(rs))
        return CC_RAFT_EINVAL;
    struct cc_raft *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return CC_RAFT_ENOMEM;
    r->id = self;
    r->cfg = *cfg;
    if (r->cfg.max_cache_bytes == 0)
        r->cfg.max_cache_bytes = 64u << 20;
    /* Mix in the id so members given the same seed still time out apart. */
    r->rng = seed ^ (self * 0x9e3779b97f4a7c15ULL);
    r->snap = rs->snapshot;
    int rc = restore_log(r, rs);
    if (rc == 0) {
        cc_raft_confs_init(&r->confs, rs->snapshot.index, &rs->snapshot.membership);
        for (size_t k = 0; k < rs->n_confs && rc == 0; k++)
            rc = cc_raft_confs_push(&r->confs, rs->confs[k].index, &rs->confs[k].membership);
    }
    if (rc != 0) {
        cc_raft_free(r);
        return rc;
    }
    cc_raft_index last = cc_raft_memlog_last(&r->log);
    r->term = rs->hard_state.term;
    r->vote = rs->hard_state.vote;
    r->saved = rs->hard_state;
    /* Storage records applied in the transaction that applies, so it may be
     * ahead of the hard state's commit; both are committed. */
    r->commit = rs->hard_state.commit;
    if (r->commit < rs->snapshot.index)
        r->commit = rs->snapshot.index;
    if (r->commit < rs->applied)
        r->commit = rs->applied;
    if (r->commit > last)
        r->commit = last;
    r->applied = r->apply_emitted =
        rs->applied > rs->snapshot.index ? rs->applied : rs->snapshot.index;
    r->persisted = last;
    r->role = CC_RAFT_FOLLOWER;
    cc_raft_reset_timeout(r);
    *out = r;
    return 0;
}

void cc_raft_free(struct cc_raft *r)
{
    if (r == NULL)
        return;
    for (unsigned i = 0; i < r->n_pr; i++)
        cc_raft_progress_free(&r->pr[i]);
    cc_raft_memlog_free(&r->log);
    cc_raft_confs_free(&r->confs);
    cc_raft_out_free(r);
    free(r->reads);
    free(r);
}

static bool msg_valid(const struct cc_raft *r, const struct cc_raft_msg *m)
{
    if (m->type < CC_RAFT_MSG_PREVOTE || m->type > CC_RAFT_MSG_TYPE_MAX || m->to != r->id ||
        m->from == 0 || m->from == r->id)
        return false;
    if (m->type == CC_RAFT_MSG_APPEND) {
        if (m->append.n_entries > 0 && m->append.entries == NULL)
            return false;
        for (size_t k = 0; k < m->append.n_entries; k++) {
            const struct cc_raft_entry *e = &m->append.entries[k];
            if (e->index != m->append.prev_index + 1 + k || e->term > m->term ||
                e->term < (k > 0 ? e[-1].term : m->append.prev_term) ||
                (e->len > 0 && e->data == NULL))
                return false;
        }
    }
    return true;
}

static int on_persisted(struct cc_raft *r, cc_raft_index index, cc_raft_term term)
{
    cc_raft_term t;
    /* A term mismatch means the entries were truncated meanwhile: that
     * write tells nothing about the current log. */
    if (index <= r->persisted || !cc_raft_memlog_term(&r->log, index, &t) || t != term)
        return 0;
    r->persisted = index;
    return cc_raft_maybe_commit(r);
}

static int on_applied(struct cc_raft *r, cc_raft_index index)
{
    if (index > r->apply_emitted)
        return CC_RAFT_EINVAL;
    if (index > r->applied)
        r->applied = index;
    return 0;
}

static int on_snapshot_taken(struct cc_raft *r, cc_raft_index index)
{
    struct cc_raft_snapshot_meta meta;
    if (index <= r->snap.index || index > r->applied ||
        cc_raft_snapshot_meta_at(r, index, &meta) != 0)
        return CC_RAFT_EINVAL;
    r->snap = meta;
    r->snapshot_asked = false;
    cc_raft_confs_compact(&r->confs, index);
    cc_raft_index keep_from =
        index > r->cfg.snapshot_trailing ? index - r->cfg.snapshot_trailing : 0;
    if (keep_from > r->log.offset) {
        cc_raft_memlog_compact(&r->log, keep_from);
        r->out.u.compact_to = keep_from;
    }
    cc_raft_tracef(r, "snapshot at %llu^%llu, log from %llu", ULL(meta.index), ULL(meta.term),
                   ULL(r->log.offset + 1));
    return 0;
}

static int dispatch(struct cc_raft *r, const struct cc_raft_event *ev)
{
    switch (ev->type) {
    case CC_RAFT_EVENT_TICK:
        return cc_raft_tick(r);
    case CC_RAFT_EVENT_RECEIVE:
        if (ev->receive.msg == NULL || !msg_valid(r, ev->receive.msg))
            return CC_RAFT_EINVAL;
        return cc_raft_recv(r, ev->receive.msg);
    case CC_RAFT_EVENT_PROPOSE:
        r->out.u.result.ref = ev->propose.ref;
        return cc_raft_propose(r, ev->propose.items, ev->propose.n);
    case CC_RAFT_EVENT_CONF_CHANGE:
        r->out.u.result.ref = ev->conf_change.ref;
        return cc_raft_conf_change(r, ev->conf_change.op, ev->conf_change.node,
                                   ev->conf_change.context, ev->conf_change.context_len);
    case CC_RAFT_EVENT_PERSISTED:
        return on_persisted(r, ev->persisted.index, ev->persisted.term);
    case CC_RAFT_EVENT_APPLIED:
        return on_applied(r, ev->applied.index);
    case CC_RAFT_EVENT_SNAPSHOT_TAKEN:
        return on_snapshot_taken(r, ev->snapshot_taken.index);
    case CC_RAFT_EVENT_SNAPSHOT_STATUS:
        return cc_raft_snapshot_status(r, ev->snapshot_status.peer, ev->snapshot_status.ok);
    case CC_RAFT_EVENT_ENTRIES_LOADED:
        return cc_raft_entries_loaded(r, ev->entries_loaded.entries, ev->entries_loaded.n);
    case CC_RAFT_EVENT_READ_INDEX:
        return cc_raft_read_index(r, ev->read_index.ctx);
    case CC_RAFT_EVENT_TRANSFER:
        return cc_raft_transfer(r, ev->transfer.target);
    }
    return CC_RAFT_EINVAL;
}

int cc_raft_step(struct cc_raft *r, const struct cc_raft_event *ev,
                 const struct cc_raft_update **out)
{
    cc_raft_out_begin(r);
    int rc = ev != NULL ? dispatch(r, ev) : CC_RAFT_EINVAL;
    cc_raft_out_finish(r);
    if (rc == 0 && r->out.err != 0)
        rc = r->out.err;
    r->out.u.result.err = rc;
    *out = &r->out.u;
    return rc;
}

const struct cc_raft_membership *cc_raft_voters(const struct cc_raft *r)
{
    return cc_raft_confs_current(&r->confs);
}

bool cc_raft_is_voter(const struct cc_raft *r)
{
    return cc_raft_membership_contains(cc_raft_voters(r), r->id);
}

cc_raft_term cc_raft_last_term(const struct cc_raft *r)
{
    return cc_raft_memlog_last_term(&r->log);
}

cc_raft_id cc_raft_self(const struct cc_raft *r)
{
    return r->id;
}

enum cc_raft_role cc_raft_role(const struct cc_raft *r)
{
    return r->role;
}

cc_raft_term cc_raft_current_term(const struct cc_raft *r)
{
    return r->term;
}

cc_raft_id cc_raft_leader(const struct cc_raft *r)
{
    return r->leader;
}

cc_raft_index cc_raft_commit(const struct cc_raft *r)
{
    return r->commit;
}

cc_raft_index cc_raft_applied(const struct cc_raft *r)
{
    return r->applied;
}

cc_raft_index cc_raft_last_index(const struct cc_raft *r)
{
    return cc_raft_memlog_last(&r->log);
}

bool cc_raft_log_term(const struct cc_raft *r, cc_raft_index index, cc_raft_term *term)
{
    return cc_raft_memlog_term(&r->log, index, term);
}

bool cc_raft_entry_at(const struct cc_raft *r, cc_raft_index index, struct cc_raft_entry *e)
{
    const struct cc_raft_slot *s = cc_raft_memlog_slot(&r->log, index);
    if (s == NULL || !s->loaded)
        return false;
    e->index = index;
    e->term = s->term;
    e->type = (enum cc_raft_entry_type)s->type;
    e->data = s->buf ? s->buf->data : NULL;
    e->len = s->buf ? s->buf->len : 0;
    return true;
}

const struct cc_raft_membership *cc_raft_membership(const struct cc_raft *r)
{
    return cc_raft_voters(r);
}

const struct cc_raft_membership *cc_raft_membership_at(const struct cc_raft *r, cc_raft_index index)
{
    if (index < r->snap.index || index > cc_raft_memlog_last(&r->log))
        return NULL;
    return cc_raft_confs_at(&r->confs, index);
}

int cc_raft_snapshot_meta_at(const struct cc_raft *r, cc_raft_index index,
                             struct cc_raft_snapshot_meta *meta)
{
    if (index < r->snap.index || index > r->commit ||
        !cc_raft_memlog_term(&r->log, index, &meta->term))
        return CC_RAFT_EINVAL;
    meta->index = index;
    meta->membership = *cc_raft_confs_at(&r->confs, index);
    return 0;
}

unsigned cc_raft_peer_status(const struct cc_raft *r, struct cc_raft_peer_status *rows,
                             unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; r->role == CC_RAFT_LEADER && i < r->n_pr && n < max; i++, n++) {
        rows[n].id = r->pr[i].id;
        rows[n].match = r->pr[i].match;
        rows[n].next = r->pr[i].next;
        rows[n].state = cc_raft_progress_state_name(r->pr[i].state);
        rows[n].recent_active = r->pr[i].recent_active;
    }
    return n;
}

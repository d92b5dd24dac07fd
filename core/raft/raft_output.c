/* Building the update a step returns.
 *
 * Buffers live in r->out and are reused: what the previous update pointed
 * to is released when the next step begins, which is what makes "valid until
 * the next step" true. Payloads are pinned (reference counted) rather than
 * copied, so an entry sent to four followers is one allocation. */
#include <stdlib.h>
#include <string.h>

#include "core/raft/raft_state.h"

/* Returns the array with room for `need` elements, or NULL (p untouched). */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(p, n * size);
    if (q != NULL)
        *cap = n;
    return q;
}

void cc_raft_out_begin(struct cc_raft *r)
{
    struct cc_raft_out *o = &r->out;
    for (size_t i = 0; i < o->n_pins; i++)
        cc_raft_buf_unref(o->pins[i]);
    o->n_pins = o->now.n = o->after.n = o->n_ents = o->n_reads = 0;
    o->persist_from = 0;
    o->truncate_from = 0;
    o->install = false;
    o->err = 0;
    memset(&o->u, 0, sizeof(o->u));
    o->u.role = r->role;
    o->u.term = r->term;
    o->u.leader = r->leader;
}

void cc_raft_out_free(struct cc_raft *r)
{
    struct cc_raft_out *o = &r->out;
    for (size_t i = 0; i < o->n_pins; i++)
        cc_raft_buf_unref(o->pins[i]);
    free(o->now.m);
    free(o->now.off);
    free(o->after.m);
    free(o->after.off);
    free(o->ents);
    free(o->pins);
    free(o->reads);
    memset(o, 0, sizeof(*o));
}

struct cc_raft_entry *cc_raft_out_entries(struct cc_raft *r, size_t n, size_t *off)
{
    struct cc_raft_out *o = &r->out;
    struct cc_raft_entry *e = grow(o->ents, &o->cap_ents, o->n_ents + n, sizeof(*e));
    if (e == NULL)
        return NULL;
    o->ents = e;
    *off = o->n_ents;
    o->n_ents += n;
    return &o->ents[*off];
}

int cc_raft_out_pin(struct cc_raft *r, struct cc_raft_buf *b)
{
    struct cc_raft_out *o = &r->out;
    if (b == NULL)
        return 0;
    struct cc_raft_buf **pins = grow(o->pins, &o->cap_pins, o->n_pins + 1, sizeof(*pins));
    if (pins == NULL)
        return CC_RAFT_ENOMEM;
    o->pins = pins;
    cc_raft_buf_ref(b);
    o->pins[o->n_pins++] = b;
    return 0;
}

int cc_raft_send(struct cc_raft *r, struct cc_raft_msg *m, size_t ent_off)
{
    /* A leader's own log writes may overlap its sends (thesis §10.2.1),
     * but its term must be durable first: a lone voter elects itself
     * without a round trip, and if it crashed before persisting it could
     * win the same term again and send different entries under it. Its
     * term is durable once its first entry is. */
    bool now = r->role == CC_RAFT_LEADER && r->persisted >= r->noop_index;
    struct cc_raft_msgq *q = now ? &r->out.now : &r->out.after;
    m->from = r->id;
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        struct cc_raft_msg *v = realloc(q->m, cap * sizeof(*v));
        if (v == NULL)
            return CC_RAFT_ENOMEM;
        q->m = v;
        size_t *off = realloc(q->off, cap * sizeof(*off));
        if (off == NULL)
            return CC_RAFT_ENOMEM;
        q->off = off;
        q->cap = cap;
    }
    q->m[q->n] = *m;
    q->off[q->n] = ent_off;
    q->n++;
    return 0;
}

int cc_raft_out_read(struct cc_raft *r, uint64_t ctx, int err, cc_raft_index index)
{
    struct cc_raft_out *o = &r->out;
    struct cc_raft_read *reads = grow(o->reads, &o->cap_reads, o->n_reads + 1, sizeof(*reads));
    if (reads == NULL)
        return CC_RAFT_ENOMEM;
    o->reads = reads;
    o->reads[o->n_reads].ctx = ctx;
    o->reads[o->n_reads].err = err;
    o->reads[o->n_reads].index = index;
    o->n_reads++;
    return 0;
}

void cc_raft_out_appended(struct cc_raft *r, cc_raft_index index)
{
    if (r->out.persist_from == 0 || index < r->out.persist_from)
        r->out.persist_from = index;
}

static void fix_entries(struct cc_raft_msgq *q, const struct cc_raft_entry *pool)
{
    for (size_t i = 0; i < q->n; i++) {
        struct cc_raft_msg *m = &q->m[i];
        if (m->type == CC_RAFT_MSG_APPEND)
            m->append.entries = m->append.n_entries ? pool + q->off[i] : NULL;
    }
}

/* The entries appended during this step, which the embedder must persist. */
static void collect_persist(struct cc_raft *r)
{
    struct cc_raft_out *o = &r->out;
    cc_raft_index last = cc_raft_memlog_last(&r->log);
    if (o->persist_from == 0 || o->persist_from > last || o->persist_from <= r->log.offset)
        return;
    size_t n = (size_t)(last - o->persist_from + 1), off;
    struct cc_raft_entry *e = cc_raft_out_entries(r, n, &off);
    if (e == NULL) {
        o->err = CC_RAFT_ENOMEM;
        return;
    }
    for (size_t k = 0; k < n; k++) {
        cc_raft_index i = o->persist_from + k;
        const struct cc_raft_slot *s = cc_raft_memlog_slot(&r->log, i);
        e[k].index = i;
        e[k].term = s->term;
        e[k].type = s->type;
        e[k].data = s->buf ? s->buf->data : NULL;
        e[k].len = s->buf ? s->buf->len : 0;
        if (cc_raft_out_pin(r, s->buf) != 0)
            o->err = CC_RAFT_ENOMEM;
    }
    o->u.entries = &o->ents[off];
    o->u.n_entries = n;
    if (o->truncate_from != 0)
        o->u.truncate_from = o->persist_from;
    o->u.persist_index = last;
    o->u.persist_term = e[n - 1].term;
}

void cc_raft_out_finish(struct cc_raft *r)
{
    struct cc_raft_out *o = &r->out;
    struct cc_raft_update *u = &o->u;

    collect_persist(r);
    if (o->install) {
        u->snapshot = &o->install_meta;
        if (u->persist_index == 0) {
            u->persist_index = o->install_meta.index;
            u->persist_term = o->install_meta.term;
        }
    }
    /* Only term and vote are promises: a lost commit index is learned again
     * from the leader, so a commit-only change does not hold back the
     * messages that wait for the disk. */
    struct cc_raft_hard_state hs = {r->term, r->vote, r->commit};
    u->hard_state = hs;
    if (hs.term != r->saved.term || hs.vote != r->saved.vote) {
        u->hard_state_changed = true;
        r->saved = hs;
    }

    /* Entry pool is final now: point messages into it. */
    fix_entries(&o->now, o->ents);
    fix_entries(&o->after, o->ents);
    u->send = o->now.m;
    u->n_send = o->now.n;
    u->send_after_persist = o->after.m;
    u->n_send_after_persist = o->after.n;
    u->reads = o->reads;
    u->n_reads = o->n_reads;

    /* Apply only what is committed and durable here: the storage worker
     * applies from its own log. */
    cc_raft_index to = r->commit < r->persisted ? r->commit : r->persisted;
    if (to > r->apply_emitted) {
        u->apply_from = r->apply_emitted + 1;
        u->apply_to = to;
        r->apply_emitted = to;
    }

    if (r->cfg.snapshot_threshold > 0 && !r->snapshot_asked &&
        r->applied >= r->snap.index + r->cfg.snapshot_threshold) {
        u->want_snapshot = true;
        r->snapshot_asked = true;
    }

    u->role_changed = u->role != r->role;
    u->role = r->role;
    u->leader_changed = u->leader != r->leader;
    u->leader = r->leader;
    u->term = r->term;
    u->commit = r->commit;

    /* Payloads of applied, durable entries can go once over budget: the
     * pins above keep what this update still points to alive. */
    cc_raft_index upto = r->applied < r->persisted ? r->applied : r->persisted;
    cc_raft_memlog_evict(&r->log, upto, r->cfg.max_cache_bytes);
}

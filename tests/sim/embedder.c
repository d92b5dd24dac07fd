/* The simulator as the core's embedder: what the consensus and storage
 * workers will do in production, done in memory with virtual time.
 *
 * Durable state is what a completed persist batch wrote: hard state, log,
 * snapshot. Everything else (the core, pending batches, the state machine)
 * is volatile and lost by a crash. */
#include <stdlib.h>
#include <string.h>

#include "tests/sim/embedder.h"

#define ULL(x) ((unsigned long long)(x))

static cc_raft_index durable_last(const struct sim_node *n)
{
    return n->first + n->n_log - 1;
}

static const struct cc_raft_entry *durable_get(const struct sim_node *n, cc_raft_index i)
{
    if (i < n->first || i > durable_last(n))
        return NULL;
    return &n->log[i - n->first];
}

static void free_entry(struct cc_raft_entry *e)
{
    free((void *)e->data);
    e->data = NULL;
}

static struct cc_raft_entry copy_entry(const struct cc_raft_entry *e)
{
    struct cc_raft_entry c = *e;
    c.data = NULL;
    if (e->len > 0) {
        void *d = malloc(e->len);
        if (d == NULL)
            abort();
        memcpy(d, e->data, e->len);
        c.data = d;
    }
    return c;
}

static void durable_truncate(struct sim_node *n, cc_raft_index from)
{
    while (n->n_log > 0 && durable_last(n) >= from)
        free_entry(&n->log[--n->n_log]);
}

static void durable_append(struct sim_node *n, struct cc_raft_entry e)
{
    if (n->n_log == n->cap_log) {
        n->cap_log = n->cap_log ? n->cap_log * 2 : 64;
        n->log = realloc(n->log, n->cap_log * sizeof(*n->log));
        if (n->log == NULL)
            abort();
    }
    n->log[n->n_log++] = e;
}

/* Drops durable entries <= upto (a snapshot covers them). */
static void durable_compact(struct sim_node *n, cc_raft_index upto)
{
    if (upto < n->first)
        return;
    if (upto > durable_last(n))
        upto = durable_last(n);
    size_t drop = (size_t)(upto - n->first + 1);
    n->prev_term = n->log[drop - 1].term;
    for (size_t k = 0; k < drop; k++)
        free_entry(&n->log[k]);
    memmove(n->log, n->log + drop, (n->n_log - drop) * sizeof(*n->log));
    n->n_log -= drop;
    n->first = upto + 1;
}

static void free_batch(struct sim_batch *b)
{
    for (size_t k = 0; k < b->n_ents; k++)
        free_entry(&b->ents[k]);
    free(b->ents);
    for (size_t k = 0; k < b->n_after; k++)
        sim_msg_free(b->after[k]);
    free(b->after);
    free(b);
}

void sim_node_crash(struct sim_node *n)
{
    cc_raft_free(n->r);
    n->r = NULL;
    while (n->head != NULL) {
        struct sim_batch *b = n->head;
        n->head = b->next;
        free_batch(b);
    }
    n->tail = NULL;
    n->alive = false;
    n->gen++;
    memset(&n->sm, 0, sizeof(n->sm));
    memset(&n->incoming_snap, 0, sizeof(n->incoming_snap));
}

void sim_node_free(struct sim_node *n)
{
    sim_node_crash(n);
    durable_truncate(n, 0);
    free(n->log);
    n->log = NULL;
}

static void schedule_node(struct cc_sim *c, struct sim_node *n, enum sim_ev_kind kind, uint64_t at,
                          cc_raft_index a, cc_raft_index b)
{
    struct sim_event ev = {
        .kind = kind, .node = (unsigned)n->id - 1, .gen = n->gen, .at = at, .a = a, .b = b};
    sim_schedule(c, &ev);
}

void sim_node_boot(struct cc_sim *c, struct sim_node *n)
{
    struct cc_raft_restore rs;
    memset(&rs, 0, sizeof(rs));
    rs.hard_state = n->hs;
    if (n->has_snap) {
        rs.snapshot = n->snap_meta;
        rs.applied = n->snap_meta.index;
        n->sm = n->snap_sm;
    } else {
        rs.snapshot.membership = n->bootstrap;
        memset(&n->sm, 0, sizeof(n->sm));
    }
    if (c->o.durable_apply && n->durable_sm.applied > rs.applied) {
        rs.applied = n->durable_sm.applied;
        n->sm = n->durable_sm;
    }
    rs.log_first = n->first;
    rs.prev_term = n->prev_term;
    rs.log_last = durable_last(n);
    struct cc_raft_term_run *runs = calloc(n->n_log + 1, sizeof(*runs));
    struct cc_raft_conf_point *confs = calloc(n->n_log + 1, sizeof(*confs));
    if (runs == NULL || confs == NULL)
        abort();
    for (size_t k = 0; k < n->n_log; k++) {
        const struct cc_raft_entry *e = &n->log[k];
        if (rs.n_terms == 0 || runs[rs.n_terms - 1].term != e->term)
            runs[rs.n_terms++] = (struct cc_raft_term_run){e->index, e->term};
        struct cc_raft_conf conf;
        if (e->type == CC_RAFT_ENTRY_CONF && e->index > rs.snapshot.index &&
            cc_raft_conf_decode(e->data, e->len, &conf) == 0) {
            confs[rs.n_confs].index = e->index;
            confs[rs.n_confs++].membership = conf.membership;
        }
    }
    rs.terms = runs;
    rs.confs = confs;

    struct cc_raft_config cfg = c->o.raft;
    cfg.trace = c->o.trace ? sim_trace_core : NULL;
    cfg.trace_ctx = c;
    int rc = cc_raft_new(&n->r, n->id, &cfg, sim_rand(c), &rs);
    free(runs);
    free(confs);
    if (rc != 0) {
        sim_fail(c, "node %llu cannot restart from its durable state: %s", ULL(n->id),
                 cc_raft_strerror(rc));
        return;
    }
    n->alive = true;
    n->last_commit = cc_raft_commit(n->r);
    n->last_index = cc_raft_last_index(n->r);
    schedule_node(c, n, SIM_EV_TICK, c->now + 1 + sim_between(c, 0, c->o.tick_ms - 1), 0, 0);
}

static void send_all(struct cc_sim *c, struct sim_msg **v, size_t n)
{
    for (size_t k = 0; k < n; k++)
        sim_net_send(c, v[k]);
}

static struct sim_msg *copy_out(struct cc_sim *c, struct sim_node *n, const struct cc_raft_msg *m)
{
    struct sim_msg *sm = sim_msg_copy(m);
    if (m->type == CC_RAFT_MSG_SNAPSHOT) {
        /* Stream the durable snapshot the metadata describes. */
        if (!n->has_snap || n->snap_meta.index != m->snapshot.meta.index)
            sim_fail(c, "node %llu sends snapshot %llu but stores %llu", ULL(n->id),
                     ULL(m->snapshot.meta.index), ULL(n->has_snap ? n->snap_meta.index : 0));
        sm->snap = n->snap_sm;
    }
    return sm;
}

static void queue_persist(struct cc_sim *c, struct sim_node *n, const struct cc_raft_update *u)
{
    bool work = u->hard_state_changed || u->snapshot != NULL || u->n_entries > 0;
    if (!work && u->n_send_after_persist == 0)
        return;
    struct sim_batch *b = calloc(1, sizeof(*b));
    if (b == NULL)
        abort();
    b->has_hs = u->hard_state_changed;
    b->hs = u->hard_state;
    if (u->snapshot != NULL) {
        b->has_snap = true;
        b->meta = *u->snapshot;
        b->snap_sm = n->incoming_snap;
        if (n->incoming_snap.applied != u->snapshot->index)
            sim_fail(c, "node %llu installs snapshot %llu without its bytes", ULL(n->id),
                     ULL(u->snapshot->index));
    }
    if (u->n_entries > 0) {
        b->ents = calloc(u->n_entries, sizeof(*b->ents));
        if (b->ents == NULL)
            abort();
        for (size_t k = 0; k < u->n_entries; k++)
            b->ents[k] = copy_entry(&u->entries[k]);
        b->n_ents = u->n_entries;
    }
    b->p_index = u->persist_index;
    b->p_term = u->persist_term;
    if (u->n_send_after_persist > 0) {
        b->after = calloc(u->n_send_after_persist, sizeof(*b->after));
        if (b->after == NULL)
            abort();
        for (size_t k = 0; k < u->n_send_after_persist; k++)
            b->after[k] = copy_out(c, n, &u->send_after_persist[k]);
        b->n_after = u->n_send_after_persist;
    }
    if (!work && n->head == NULL) {
        /* Nothing to wait for: the promises these make are already kept. */
        send_all(c, b->after, b->n_after);
        b->n_after = 0;
        free_batch(b);
        return;
    }
    uint64_t at = work ? c->now + sim_between(c, c->o.disk_min_ms, c->o.disk_max_ms) : c->now;
    if (at < n->disk_free_at)
        at = n->disk_free_at;
    n->disk_free_at = at;
    b->done_at = at;
    if (n->tail != NULL)
        n->tail->next = b;
    else
        n->head = b;
    n->tail = b;
    schedule_node(c, n, SIM_EV_PERSIST, at, 0, 0);
}

static void apply(struct cc_sim *c, struct sim_node *n, cc_raft_index from, cc_raft_index to)
{
    if (n->sm.applied + 1 != from) {
        sim_fail(c, "node %llu asked to apply %llu..%llu after %llu", ULL(n->id), ULL(from),
                 ULL(to), ULL(n->sm.applied));
        return;
    }
    for (cc_raft_index i = from; i <= to; i++) {
        const struct cc_raft_entry *e = durable_get(n, i);
        if (e == NULL) {
            sim_fail(c, "node %llu applies %llu, which is not durable", ULL(n->id), ULL(i));
            return;
        }
        uint64_t h =
            sim_hash_bytes(n->sm.hash ^ (e->term * 0x9e3779b97f4a7c15ULL), e->data, e->len);
        n->sm.hash = h ^ (uint64_t)e->type;
        n->sm.applied = i;
        struct cc_raft_conf conf;
        if (e->type == CC_RAFT_ENTRY_CONF && cc_raft_conf_decode(e->data, e->len, &conf) == 0 &&
            conf.op == CC_RAFT_CONF_REMOVE && conf.node == n->id)
            n->applied_own_removal = true;
        sim_check_apply(c, n, i, n->sm.hash);
    }
    if (c->o.durable_apply)
        n->durable_sm = n->sm;
    schedule_node(c, n, SIM_EV_APPLIED, c->now, to, 0);
}

static void take_snapshot(struct cc_sim *c, struct sim_node *n)
{
    struct cc_raft_snapshot_meta meta;
    if (n->has_snap && n->snap_meta.index >= n->sm.applied)
        return;
    if (cc_raft_snapshot_meta_at(n->r, n->sm.applied, &meta) != 0) {
        sim_fail(c, "node %llu: no snapshot metadata at applied %llu", ULL(n->id),
                 ULL(n->sm.applied));
        return;
    }
    n->has_snap = true;
    n->snap_meta = meta;
    n->snap_sm = n->sm;
    schedule_node(c, n, SIM_EV_SNAPSHOT_TAKEN, c->now, meta.index, 0);
}

static void record_reads(struct cc_sim *c, const struct cc_raft_update *u)
{
    for (size_t k = 0; k < u->n_reads; k++) {
        for (size_t i = 0; i < c->n_reads; i++) {
            struct sim_read *rd = &c->reads[i];
            if (rd->ctx != u->reads[k].ctx || rd->state != 0)
                continue;
            rd->state = u->reads[k].err == CC_RAFT_OK ? 1 : -1;
            rd->index = u->reads[k].index;
            sim_check_read(c, rd);
        }
    }
}

static void handle_update(struct cc_sim *c, struct sim_node *n, const struct cc_raft_update *u)
{
    sim_check_update(c, n, u);
    record_reads(c, u);
    queue_persist(c, n, u);
    for (size_t k = 0; k < u->n_send; k++)
        sim_net_send(c, copy_out(c, n, &u->send[k]));
    if (u->apply_from != 0)
        apply(c, n, u->apply_from, u->apply_to);
    if (u->fetch_from != 0)
        schedule_node(c, n, SIM_EV_LOADED,
                      c->now + sim_between(c, c->o.disk_min_ms, c->o.disk_max_ms), u->fetch_from,
                      u->fetch_to);
    if (u->want_snapshot)
        take_snapshot(c, n);
    if (u->compact_to != 0)
        durable_compact(n, u->compact_to);
}

int sim_node_step(struct cc_sim *c, struct sim_node *n, const struct cc_raft_event *ev)
{
    const struct cc_raft_update *u;
    int rc = cc_raft_step(n->r, ev, &u);
    c->stats.steps++;
    if (u->role_changed && u->role == CC_RAFT_LEADER)
        c->stats.elections++;
    if (u->snapshot != NULL)
        c->stats.snapshots_installed++;
    if (u->fetch_from != 0)
        c->stats.fetches++;
    if (u->want_snapshot)
        c->stats.snapshots_taken++;
    if (u->n_entries > 0 && u->entries[0].index <= n->last_index) {
        c->stats.truncations++;
        if (u->truncate_from != u->entries[0].index)
            sim_fail(c, "node %llu overwrites from %llu but says truncate_from %llu", ULL(n->id),
                     ULL(u->entries[0].index), ULL(u->truncate_from));
    } else if (u->truncate_from != 0) {
        sim_fail(c, "node %llu flags a truncation at %llu that is an append", ULL(n->id),
                 ULL(u->truncate_from));
    }
    for (size_t k = 0; k < u->n_reads; k++)
        c->stats.reads_ok += u->reads[k].err == CC_RAFT_OK;
    if (rc == CC_RAFT_ENOMEM || rc == CC_RAFT_ECORRUPT ||
        (rc == CC_RAFT_EINVAL && ev->type != CC_RAFT_EVENT_TRANSFER &&
         ev->type != CC_RAFT_EVENT_CONF_CHANGE))
        sim_fail(c, "node %llu: step failed: %s", ULL(n->id), cc_raft_strerror(rc));
    handle_update(c, n, u);
    n->last_index = cc_raft_last_index(n->r);
    if (n->applied_own_removal && !c->o.keep_removed) {
        n->applied_own_removal = false;
        sim_trace_line(c, "-- %llu applied its own removal: it shuts down", ULL(n->id));
        sim_node_crash(n);
        n->stopped = true;
    }
    return rc;
}

void sim_node_persist_done(struct cc_sim *c, struct sim_node *n)
{
    struct sim_batch *b = n->head;
    if (b == NULL || b->done_at > c->now)
        return;
    n->head = b->next;
    if (n->head == NULL)
        n->tail = NULL;
    if (b->has_snap) {
        n->has_snap = true;
        n->snap_meta = b->meta;
        n->snap_sm = b->snap_sm;
        durable_truncate(n, 0);
        n->first = b->meta.index + 1;
        n->prev_term = b->meta.term;
        n->sm = n->durable_sm = b->snap_sm;
        sim_check_apply(c, n, b->meta.index, b->snap_sm.hash);
    }
    if (b->n_ents > 0) {
        cc_raft_index from = b->ents[0].index;
        if (from < n->first || from > durable_last(n) + 1)
            sim_fail(c, "node %llu writes %llu, stored log is %llu..%llu", ULL(n->id), ULL(from),
                     ULL(n->first), ULL(durable_last(n)));
        durable_truncate(n, from);
        const struct cc_raft_entry *prev = durable_get(n, from - 1);
        bool known = prev != NULL || from - 1 == n->first - 1;
        sim_check_entries(c, n, b->ents, b->n_ents, known, prev ? prev->term : n->prev_term);
        for (size_t k = 0; k < b->n_ents; k++)
            durable_append(n, b->ents[k]);
        b->n_ents = 0; /* ownership moved */
    }
    if (b->has_hs)
        n->hs = b->hs;
    send_all(c, b->after, b->n_after);
    b->n_after = 0;
    cc_raft_index pi = b->p_index;
    cc_raft_term pt = b->p_term;
    free_batch(b);
    if (pi != 0) {
        struct cc_raft_event ev = {.type = CC_RAFT_EVENT_PERSISTED};
        ev.persisted.index = pi;
        ev.persisted.term = pt;
        sim_trace_header(c, (unsigned)n->id - 1, "persisted %llu^%llu", ULL(pi), ULL(pt));
        sim_node_step(c, n, &ev);
    }
}

void sim_node_load(struct cc_sim *c, struct sim_node *n, cc_raft_index from, cc_raft_index to)
{
    size_t cnt = 0;
    struct cc_raft_entry *v = calloc((size_t)(to - from + 1), sizeof(*v));
    if (v == NULL)
        abort();
    for (cc_raft_index i = from; i <= to; i++) {
        const struct cc_raft_entry *e = durable_get(n, i);
        if (e != NULL)
            v[cnt++] = *e;
    }
    struct cc_raft_event ev = {.type = CC_RAFT_EVENT_ENTRIES_LOADED};
    ev.entries_loaded.entries = v;
    ev.entries_loaded.n = cnt;
    sim_trace_header(c, (unsigned)n->id - 1, "loaded %zu entries", cnt);
    sim_node_step(c, n, &ev);
    free(v);
}

/* The simulated cluster: nodes, the virtual clock and its event queue,
 * client operations and fault injection. See cluster.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/embedder.h"

#define ULL(x) ((unsigned long long)(x))

void cc_sim_options_default(struct cc_sim_options *o, unsigned n)
{
    memset(o, 0, sizeof(*o));
    o->n = n;
    o->seed = 1;
    cc_raft_config_default(&o->raft);
    o->raft.max_inflight_msgs = 4;
    o->raft.max_msg_entries = 8;
    o->raft.snapshot_threshold = 0;
    o->raft.snapshot_trailing = 0;
    o->tick_ms = 10;
    o->net_min_ms = 1;
    o->net_max_ms = 5;
    o->disk_min_ms = 1;
    o->disk_max_ms = 3;
    o->trace = true;
}

uint64_t cc_sim_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t sim_rand(struct cc_sim *c)
{
    return cc_sim_rand(&c->rng);
}

unsigned sim_between(struct cc_sim *c, unsigned lo, unsigned hi)
{
    return hi <= lo ? lo : lo + (unsigned)(sim_rand(c) % (hi - lo + 1));
}

uint64_t sim_hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    h ^= 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h ^ n;
}

void sim_fail(struct cc_sim *c, const char *fmt, ...)
{
    if (c->failure[0] != '\0')
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->failure, sizeof(c->failure), fmt, ap);
    va_end(ap);
    sim_trace_line(c, "!! %s", c->failure);
}

const char *cc_sim_failed(const struct cc_sim *c)
{
    return c->failure[0] ? c->failure : NULL;
}

void cc_sim_stats(const struct cc_sim *c, struct cc_sim_stats *out)
{
    *out = c->stats;
}

uint64_t cc_sim_seed(const struct cc_sim *c)
{
    return c->o.seed;
}

/* Event queue: a binary heap ordered by time, then by scheduling order, so
 * equal times stay FIFO and runs are reproducible. */
static bool before(const struct sim_event *a, const struct sim_event *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

void sim_schedule(struct cc_sim *c, const struct sim_event *ev)
{
    if (c->n_q == c->cap_q) {
        c->cap_q = c->cap_q ? c->cap_q * 2 : 256;
        c->q = realloc(c->q, c->cap_q * sizeof(*c->q));
        if (c->q == NULL)
            abort();
    }
    size_t i = c->n_q++;
    c->q[i] = *ev;
    c->q[i].seq = c->seq++;
    while (i > 0 && before(&c->q[i], &c->q[(i - 1) / 2])) {
        struct sim_event t = c->q[i];
        c->q[i] = c->q[(i - 1) / 2];
        c->q[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static struct sim_event pop(struct cc_sim *c)
{
    struct sim_event top = c->q[0];
    c->q[0] = c->q[--c->n_q];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < c->n_q && before(&c->q[l], &c->q[m]))
            m = l;
        if (r < c->n_q && before(&c->q[r], &c->q[m]))
            m = r;
        if (m == i)
            break;
        struct sim_event t = c->q[i];
        c->q[i] = c->q[m];
        c->q[m] = t;
        i = m;
    }
    return top;
}

void sim_status(struct cc_sim *c, unsigned from, cc_raft_id peer, bool ok)
{
    struct sim_event ev = {.kind = SIM_EV_SNAPSHOT_STATUS,
                           .node = from,
                           .gen = c->nodes[from].gen,
                           .peer = peer,
                           .ok = ok};
    ev.at = c->now + sim_between(c, c->o.net_min_ms, c->o.net_max_ms);
    sim_schedule(c, &ev);
}

struct cc_sim *cc_sim_new(const struct cc_sim_options *o)
{
    if (o->n < 1 || o->n > CC_SIM_MAX_NODES)
        return NULL;
    struct cc_sim *c = calloc(1, sizeof(*c));
    if (c == NULL)
        abort();
    c->o = *o;
    c->rng = o->seed;
    c->n_nodes = CC_SIM_MAX_NODES;
    struct cc_raft_membership boot = {0};
    for (unsigned i = 0; i < o->n; i++)
        boot.ids[boot.n++] = i + 1;
    for (unsigned i = 0; i < c->n_nodes; i++) {
        struct sim_node *n = &c->nodes[i];
        n->id = i + 1;
        n->first = 1;
        if (i < o->n)
            n->bootstrap = boot;
    }
    for (unsigned i = 0; i < o->n; i++) {
        c->nodes[i].started = true;
        sim_node_boot(c, &c->nodes[i]);
    }
    return c;
}

void cc_sim_free(struct cc_sim *c)
{
    if (c == NULL)
        return;
    for (unsigned i = 0; i < c->n_nodes; i++)
        sim_node_free(&c->nodes[i]);
    for (size_t i = 0; i < c->n_q; i++)
        sim_msg_free(c->q[i].msg);
    free(c->q);
    free(c->reads);
    free(c->trace);
    sim_checks_free(&c->chk);
    free(c);
}

uint64_t cc_sim_now(const struct cc_sim *c)
{
    return c->now;
}

static void deliver(struct cc_sim *c, struct sim_event *ev)
{
    struct sim_msg *sm = ev->msg;
    struct sim_node *n = &c->nodes[ev->node];
    unsigned from = (unsigned)sm->m.from - 1;
    bool ok = n->alive && sim_net_up(c, from, ev->node);
    if (sm->m.type == CC_RAFT_MSG_SNAPSHOT)
        sim_status(c, from, sm->m.to, ok);
    if (ok) {
        if (sm->m.type == CC_RAFT_MSG_SNAPSHOT)
            n->incoming_snap = sm->snap;
        struct cc_raft_event rev = {.type = CC_RAFT_EVENT_RECEIVE};
        rev.receive.msg = &sm->m;
        sim_trace_header(c, ev->node, "< %s from %llu", cc_raft_msg_type_name(sm->m.type),
                         ULL(sm->m.from));
        if (c->o.trace_messages)
            sim_trace_line(c, "%u < %s from %llu (term %llu)", ev->node + 1,
                           cc_raft_msg_type_name(sm->m.type), ULL(sm->m.from), ULL(sm->m.term));
        c->stats.delivered++;
        if (sm->m.type == CC_RAFT_MSG_APPEND)
            sim_check_entries(c, n, sm->ents, sm->m.append.n_entries, true, sm->m.append.prev_term);
        sim_node_step(c, n, &rev);
    }
    sim_msg_free(sm);
}

static void process(struct cc_sim *c, struct sim_event *ev)
{
    if (ev->kind == SIM_EV_DELIVER) {
        deliver(c, ev);
        return;
    }
    struct sim_node *n = &c->nodes[ev->node];
    if (!n->alive || ev->gen != n->gen)
        return;
    struct cc_raft_event rev;
    memset(&rev, 0, sizeof(rev));
    switch (ev->kind) {
    case SIM_EV_TICK: {
        struct sim_event next = *ev;
        next.at = c->now + c->o.tick_ms;
        sim_schedule(c, &next);
        rev.type = CC_RAFT_EVENT_TICK;
        sim_trace_header(c, ev->node, "tick");
        break;
    }
    case SIM_EV_PERSIST:
        sim_node_persist_done(c, n);
        return;
    case SIM_EV_APPLIED:
        rev.type = CC_RAFT_EVENT_APPLIED;
        rev.applied.index = ev->a;
        sim_trace_header(c, ev->node, "applied %llu", ULL(ev->a));
        break;
    case SIM_EV_LOADED:
        sim_node_load(c, n, ev->a, ev->b);
        return;
    case SIM_EV_SNAPSHOT_TAKEN:
        rev.type = CC_RAFT_EVENT_SNAPSHOT_TAKEN;
        rev.snapshot_taken.index = ev->a;
        sim_trace_header(c, ev->node, "snapshot taken at %llu", ULL(ev->a));
        break;
    case SIM_EV_SNAPSHOT_STATUS:
        rev.type = CC_RAFT_EVENT_SNAPSHOT_STATUS;
        rev.snapshot_status.peer = ev->peer;
        rev.snapshot_status.ok = ev->ok;
        sim_trace_header(c, ev->node, "snapshot to %llu %s", ULL(ev->peer),
                         ev->ok ? "delivered" : "lost");
        break;
    case SIM_EV_DELIVER:
        return;
    }
    sim_node_step(c, n, &rev);
}

bool cc_sim_run_until(struct cc_sim *c, bool (*pred)(struct cc_sim *c, void *arg), void *arg,
                      uint64_t max_ms)
{
    uint64_t end = c->now + max_ms;
    if (pred != NULL && pred(c, arg))
        return true;
    while (c->n_q > 0 && c->q[0].at <= end && c->failure[0] == '\0') {
        struct sim_event ev = pop(c);
        c->now = ev.at;
        process(c, &ev);
        if (pred != NULL && pred(c, arg))
            return true;
    }
    if (c->failure[0] == '\0')
        c->now = end;
    return false;
}

void cc_sim_run(struct cc_sim *c, uint64_t ms)
{
    cc_sim_run_until(c, NULL, NULL, ms);
}

cc_raft_id cc_sim_leader(const struct cc_sim *c)
{
    cc_raft_id best = 0;
    cc_raft_term term = 0;
    for (unsigned i = 0; i < c->n_nodes; i++) {
        const struct sim_node *n = &c->nodes[i];
        if (n->alive && cc_raft_role(n->r) == CC_RAFT_LEADER &&
            (best == 0 || cc_raft_current_term(n->r) > term)) {
            best = n->id;
            term = cc_raft_current_term(n->r);
        }
    }
    return best;
}

/* A leader every live voter it can reach follows, with an entry of its
 * term committed. */
static bool stable_leader(struct cc_sim *c, void *arg)
{
    cc_raft_id l = cc_sim_leader(c);
    if (l == 0)
        return false;
    const struct cc_raft *lr = c->nodes[l - 1].r;
    cc_raft_term t;
    if (!cc_raft_log_term(lr, cc_raft_commit(lr), &t) || t != cc_raft_current_term(lr))
        return false;
    const struct cc_raft_membership *v = cc_raft_membership(lr);
    if (!cc_raft_membership_contains(v, l))
        return false; /* leading only until its removal commits */
    for (unsigned i = 0; i < v->n; i++) {
        const struct sim_node *n = &c->nodes[v->ids[i] - 1];
        if (n->alive && sim_net_up(c, (unsigned)l - 1, v->ids[i] - 1) &&
            (cc_raft_leader(n->r) != l || cc_raft_current_term(n->r) != cc_raft_current_term(lr)))
            return false;
    }
    *(cc_raft_id *)arg = l;
    return true;
}

cc_raft_id cc_sim_run_until_leader(struct cc_sim *c, uint64_t max_ms)
{
    cc_raft_id l = 0;
    return cc_sim_run_until(c, stable_leader, &l, max_ms) ? l : 0;
}

bool cc_sim_alive(const struct cc_sim *c, cc_raft_id id)
{
    return id >= 1 && id <= c->n_nodes && c->nodes[id - 1].alive;
}

const struct cc_raft *cc_sim_raft(const struct cc_sim *c, cc_raft_id id)
{
    return cc_sim_alive(c, id) ? c->nodes[id - 1].r : NULL;
}

cc_raft_index cc_sim_applied(const struct cc_sim *c, cc_raft_id id)
{
    return cc_sim_alive(c, id) ? c->nodes[id - 1].sm.applied : 0;
}

uint64_t cc_sim_state_hash(const struct cc_sim *c, cc_raft_id id)
{
    return cc_sim_alive(c, id) ? c->nodes[id - 1].sm.hash : 0;
}

cc_raft_index cc_sim_commit_index(const struct cc_sim *c)
{
    return c->chk.max_commit;
}

cc_raft_term cc_sim_committed_term(const struct cc_sim *c, cc_raft_index index)
{
    return index < c->chk.n_committed ? c->chk.committed[index] : 0;
}

bool cc_sim_has_applied(const struct cc_sim *c, cc_raft_id id, cc_raft_index index)
{
    return cc_sim_applied(c, id) >= index;
}

/* Steps a client event on node id now. */
static int client_step(struct cc_sim *c, cc_raft_id id, struct cc_raft_event *ev,
                       cc_raft_index *index, const char *what)
{
    if (!cc_sim_alive(c, id))
        return -1;
    struct sim_node *n = &c->nodes[id - 1];
    sim_trace_header(c, (unsigned)id - 1, "%s", what);
    int rc = sim_node_step(c, n, ev);
    if (index != NULL)
        *index = rc == 0 && n->r != NULL ? cc_raft_last_index(n->r) : 0;
    return rc;
}

int cc_sim_propose(struct cc_sim *c, cc_raft_id id, const char *payload, cc_raft_index *index)
{
    struct cc_raft_proposal p = {payload, strlen(payload)};
    struct cc_raft_event ev = {.type = CC_RAFT_EVENT_PROPOSE};
    ev.propose.items = &p;
    ev.propose.n = 1;
    char what[96];
    snprintf(what, sizeof(what), "propose \"%.40s\"", payload);
    return client_step(c, id, &ev, index, what);
}

int cc_sim_conf_change(struct cc_sim *c, cc_raft_id id, enum cc_raft_conf_op op, cc_raft_id node,
                       cc_raft_index *index)
{
    struct cc_raft_event ev = {.type = CC_RAFT_EVENT_CONF_CHANGE};
    ev.conf_change.op = op;
    ev.conf_change.node = node;
    char what[64];
    snprintf(what, sizeof(what), "%s member %llu", op == CC_RAFT_CONF_ADD ? "add" : "remove",
             ULL(node));
    return client_step(c, id, &ev, index, what);
}

int cc_sim_transfer(struct cc_sim *c, cc_raft_id id, cc_raft_id target)
{
    struct cc_raft_event ev = {.type = CC_RAFT_EVENT_TRANSFER};
    ev.transfer.target = target;
    return client_step(c, id, &ev, NULL, "transfer leadership");
}

int cc_sim_read_index(struct cc_sim *c, cc_raft_id id, uint64_t ctx)
{
    if (c->n_reads == c->cap_reads) {
        c->cap_reads = c->cap_reads ? c->cap_reads * 2 : 16;
        c->reads = realloc(c->reads, c->cap_reads * sizeof(*c->reads));
        if (c->reads == NULL)
            abort();
    }
    struct sim_read *rd = &c->reads[c->n_reads++];
    memset(rd, 0, sizeof(*rd));
    rd->ctx = ctx;
    rd->floor = c->chk.max_commit;
    struct cc_raft_event ev = {.type = CC_RAFT_EVENT_READ_INDEX};
    ev.read_index.ctx = ctx;
    char what[64];
    snprintf(what, sizeof(what), "read index #%llu", ULL(ctx));
    int rc = client_step(c, id, &ev, NULL, what);
    if (rc != 0) {
        for (size_t i = 0; i < c->n_reads; i++)
            if (c->reads[i].ctx == ctx && c->reads[i].state == 0)
                c->reads[i].state = -1;
    }
    return rc;
}

int cc_sim_read_answer(const struct cc_sim *c, uint64_t ctx, cc_raft_index *index)
{
    for (size_t i = c->n_reads; i > 0; i--) {
        const struct sim_read *rd = &c->reads[i - 1];
        if (rd->ctx == ctx) {
            if (index != NULL)
                *index = rd->index;
            return rd->state;
        }
    }
    return 0;
}

void cc_sim_crash(struct cc_sim *c, cc_raft_id id)
{
    if (!cc_sim_alive(c, id))
        return;
    sim_trace_line(c, "-- crash %llu", ULL(id));
    c->stats.crashes++;
    sim_node_crash(&c->nodes[id - 1]);
}

void cc_sim_restart(struct cc_sim *c, cc_raft_id id)
{
    struct sim_node *n = &c->nodes[id - 1];
    if (n->alive || !n->started || n->stopped)
        return;
    sim_trace_line(c, "-- restart %llu", ULL(id));
    sim_node_boot(c, n);
}

void cc_sim_start_spare(struct cc_sim *c, cc_raft_id id)
{
    struct sim_node *n = &c->nodes[id - 1];
    if (n->started)
        return;
    n->started = true;
    sim_trace_line(c, "-- start %llu with an empty data dir", ULL(id));
    sim_node_boot(c, n);
}

void cc_sim_stop(struct cc_sim *c, cc_raft_id id)
{
    struct sim_node *n = &c->nodes[id - 1];
    if (n->alive)
        sim_node_crash(n);
    n->stopped = true;
    sim_trace_line(c, "-- stop %llu for good", ULL(id));
}

void cc_sim_link(struct cc_sim *c, cc_raft_id a, cc_raft_id b, bool up)
{
    c->cut[a - 1][b - 1] = c->cut[b - 1][a - 1] = !up;
}

void cc_sim_isolate(struct cc_sim *c, cc_raft_id id)
{
    sim_trace_line(c, "-- isolate %llu", ULL(id));
    for (unsigned i = 0; i < c->n_nodes; i++)
        if (i != id - 1)
            cc_sim_link(c, id, i + 1, false);
}

void cc_sim_partition(struct cc_sim *c, unsigned mask)
{
    char side[64] = "";
    size_t k = 0;
    for (unsigned i = 0; i < c->n_nodes && k + 4 < sizeof(side); i++)
        if (mask & (1u << i))
            k += (size_t)snprintf(side + k, sizeof(side) - k, "%s%u", k ? "," : "", i + 1);
    sim_trace_line(c, "-- partition {%s} from the rest", side);
    for (unsigned a = 0; a < c->n_nodes; a++)
        for (unsigned b = 0; b < c->n_nodes; b++)
            c->cut[a][b] = ((mask >> a) & 1) != ((mask >> b) & 1);
}

void cc_sim_heal(struct cc_sim *c)
{
    sim_trace_line(c, "-- heal the network");
    memset(c->cut, 0, sizeof(c->cut));
}

void cc_sim_set_loss(struct cc_sim *c, unsigned drop_permille, unsigned dup_permille)
{
    c->o.drop_permille = drop_permille;
    c->o.dup_permille = dup_permille;
}

void cc_sim_set_delay(struct cc_sim *c, unsigned min_ms, unsigned max_ms)
{
    c->o.net_min_ms = min_ms;
    c->o.net_max_ms = max_ms;
}

/* The simulated network: every message is deep-copied when sent (the core's
 * buffers are only valid until its next step), may be dropped or
 * duplicated, arrives after a random delay - so messages reorder - and is
 * lost if the link is cut or the receiver is down when it arrives. */
#include <stdlib.h>
#include <string.h>

#include "tests/sim/sim_internal.h"

struct sim_msg *sim_msg_copy(const struct cc_raft_msg *m)
{
    struct sim_msg *sm = calloc(1, sizeof(*sm));
    if (sm == NULL)
        abort();
    sm->m = *m;
    if (m->type == CC_RAFT_MSG_APPEND && m->append.n_entries > 0) {
        size_t n = m->append.n_entries;
        sm->ents = calloc(n, sizeof(*sm->ents));
        if (sm->ents == NULL)
            abort();
        for (size_t k = 0; k < n; k++) {
            sm->ents[k] = m->append.entries[k];
            if (sm->ents[k].len > 0) {
                void *d = malloc(sm->ents[k].len);
                if (d == NULL)
                    abort();
                memcpy(d, m->append.entries[k].data, sm->ents[k].len);
                sm->ents[k].data = d;
            }
        }
        sm->m.append.entries = sm->ents;
    }
    return sm;
}

void sim_msg_free(struct sim_msg *sm)
{
    if (sm == NULL)
        return;
    for (size_t k = 0; sm->ents != NULL && k < sm->m.append.n_entries; k++)
        free((void *)sm->ents[k].data);
    free(sm->ents);
    free(sm);
}

static struct sim_msg *dup_msg(const struct sim_msg *sm)
{
    struct sim_msg *d = sim_msg_copy(&sm->m);
    d->snap = sm->snap;
    return d;
}

bool sim_net_up(const struct cc_sim *c, unsigned a, unsigned b)
{
    return !c->cut[a][b];
}

static void put(struct cc_sim *c, struct sim_msg *sm)
{
    struct sim_event ev = {.kind = SIM_EV_DELIVER, .node = (unsigned)sm->m.to - 1, .msg = sm};
    ev.at = c->now + sim_between(c, c->o.net_min_ms, c->o.net_max_ms);
    sim_schedule(c, &ev);
}

void sim_net_send(struct cc_sim *c, struct sim_msg *sm)
{
    unsigned to = (unsigned)sm->m.to - 1;
    if (to >= c->n_nodes) {
        sim_msg_free(sm);
        return;
    }
    if (c->o.drop_permille > 0 && sim_between(c, 0, 999) < c->o.drop_permille) {
        /* The peer transport would notice a snapshot stream failing. */
        if (sm->m.type == CC_RAFT_MSG_SNAPSHOT)
            sim_status(c, (unsigned)sm->m.from - 1, sm->m.to, false);
        sim_msg_free(sm);
        return;
    }
    if (c->o.dup_permille > 0 && sim_between(c, 0, 999) < c->o.dup_permille)
        put(c, dup_msg(sm));
    put(c, sm);
}

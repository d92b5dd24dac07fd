/* Raft's safety properties (Figure 3 of the paper), checked after every
 * step from what the nodes' updates say. Each check is incremental, so a
 * run of a million steps stays cheap:
 *
 *   election safety     at most one leader per term
 *   log matching        an (index, term) pair always names the same entry
 *                       and the same previous term - so by induction the
 *                       same whole prefix. Checked on entries others can
 *                       see: made durable, or received in a message (a
 *                       lone node may re-win a term whose unpersisted
 *                       entries nobody ever saw)
 *   leader completeness a new leader holds every entry committed so far
 *   state-machine safety every node reaches the same state hash at an index
 *   commit monotonicity a node's commit index never moves back (and what
 *                       it commits agrees with what others committed)
 *   linearizable reads  a ReadIndex answer is at least every commit that
 *                       existed when the read was asked */
#include <stdlib.h>
#include <string.h>

#include "tests/sim/sim_internal.h"

#define ULL(x) ((unsigned long long)(x))

static void *grow_zero(void *p, size_t *n, size_t need, size_t size)
{
    if (need <= *n)
        return p;
    size_t cap = *n ? *n : 64;
    while (cap < need)
        cap *= 2;
    char *q = realloc(p, cap * size);
    if (q == NULL)
        abort();
    memset(q + *n * size, 0, (cap - *n) * size);
    *n = cap;
    return q;
}

static uint64_t key_hash(cc_raft_index i, cc_raft_term t)
{
    uint64_t h = i * 0x9e3779b97f4a7c15ULL ^ (t + 0x632be59bd9b4e019ULL) * 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 29);
}

static struct sim_entry_key *slot_for(struct sim_checks *k, cc_raft_index i, cc_raft_term t)
{
    if ((k->n_ents + 1) * 2 > k->cap_ents) {
        struct sim_entry_key *old = k->ents;
        size_t old_cap = k->cap_ents;
        k->cap_ents = old_cap ? old_cap * 2 : 1024;
        k->ents = calloc(k->cap_ents, sizeof(*k->ents));
        if (k->ents == NULL)
            abort();
        k->n_ents = 0;
        for (size_t s = 0; s < old_cap; s++) {
            if (old[s].index == 0)
                continue;
            *slot_for(k, old[s].index, old[s].term) = old[s];
            k->n_ents++;
        }
        free(old);
    }
    size_t s = key_hash(i, t) & (k->cap_ents - 1);
    while (k->ents[s].index != 0 && (k->ents[s].index != i || k->ents[s].term != t))
        s = (s + 1) & (k->cap_ents - 1);
    return &k->ents[s];
}

static void check_entry(struct cc_sim *c, struct sim_node *n, const struct cc_raft_entry *e,
                        bool prev_known, cc_raft_term prev_term)
{
    struct sim_checks *k = &c->chk;
    uint64_t h = sim_hash_bytes((uint64_t)e->type + 1, e->data, e->len);
    struct sim_entry_key *s = slot_for(k, e->index, e->term);
    if (s->index == 0) {
        s->index = e->index;
        s->term = e->term;
        s->prev_term = prev_known ? prev_term : UINT64_MAX;
        s->data_hash = h;
        k->n_ents++;
        return;
    }
    if (s->data_hash != h)
        sim_fail(c, "log matching: node %llu appended a different entry at %llu^%llu", ULL(n->id),
                 ULL(e->index), ULL(e->term));
    if (prev_known && s->prev_term != UINT64_MAX && s->prev_term != prev_term)
        sim_fail(c, "log matching: node %llu has %llu^%llu after term %llu, another has term %llu",
                 ULL(n->id), ULL(e->index), ULL(e->term), ULL(prev_term), ULL(s->prev_term));
    if (prev_known && s->prev_term == UINT64_MAX)
        s->prev_term = prev_term;
}

static void check_leader(struct cc_sim *c, struct sim_node *n, const struct cc_raft_update *u)
{
    struct sim_checks *k = &c->chk;
    /* A leadership counts once its term is durable: a lone voter elects
     * itself before that, and if it crashes first the term was never
     * visible to anyone (its messages wait for the disk) and may be won
     * again. */
    if (n->hs.term == u->term) {
        k->leader_of_term =
            grow_zero(k->leader_of_term, &k->n_terms, u->term + 1, sizeof(cc_raft_id));
        cc_raft_id *l = &k->leader_of_term[u->term];
        if (*l != 0 && *l != n->id)
            sim_fail(c, "election safety: %llu and %llu both lead term %llu", ULL(*l), ULL(n->id),
                     ULL(u->term));
        *l = n->id;
    }
    if (!u->role_changed)
        return;
    cc_raft_index last = cc_raft_last_index(n->r);
    for (cc_raft_index i = 1; i <= k->max_commit; i++) {
        cc_raft_term t;
        if (i > last) {
            sim_fail(c, "leader completeness: leader %llu of term %llu lacks committed %llu",
                     ULL(n->id), ULL(u->term), ULL(i));
            return;
        }
        if (cc_raft_log_term(n->r, i, &t) && k->committed[i] != 0 && t != k->committed[i]) {
            sim_fail(c, "leader completeness: leader %llu has %llu^%llu, committed was term %llu",
                     ULL(n->id), ULL(i), ULL(t), ULL(k->committed[i]));
            return;
        }
    }
}

static void check_commit(struct cc_sim *c, struct sim_node *n, const struct cc_raft_update *u)
{
    struct sim_checks *k = &c->chk;
    if (u->commit < n->last_commit) {
        sim_fail(c, "commit of node %llu went back from %llu to %llu", ULL(n->id),
                 ULL(n->last_commit), ULL(u->commit));
        return;
    }
    k->committed = grow_zero(k->committed, &k->n_committed, u->commit + 1, sizeof(cc_raft_term));
    for (cc_raft_index i = n->last_commit + 1; i <= u->commit; i++) {
        cc_raft_term t;
        if (!cc_raft_log_term(n->r, i, &t))
            continue; /* compacted or installed as a snapshot */
        if (k->committed[i] != 0 && k->committed[i] != t)
            sim_fail(c, "node %llu committed %llu^%llu, another committed term %llu", ULL(n->id),
                     ULL(i), ULL(t), ULL(k->committed[i]));
        k->committed[i] = t;
    }
    if (u->commit > k->max_commit)
        k->max_commit = u->commit;
    n->last_commit = u->commit;
}

void sim_check_entries(struct cc_sim *c, struct sim_node *n, const struct cc_raft_entry *e,
                       size_t count, bool prev_known, cc_raft_term prev_term)
{
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            prev_term = e[i - 1].term, prev_known = true;
        check_entry(c, n, &e[i], prev_known, prev_term);
    }
}

void sim_check_update(struct cc_sim *c, struct sim_node *n, const struct cc_raft_update *u)
{
    check_commit(c, n, u);
    if (u->role == CC_RAFT_LEADER)
        check_leader(c, n, u);
}

void sim_check_apply(struct cc_sim *c, struct sim_node *n, cc_raft_index index, uint64_t hash)
{
    struct sim_checks *k = &c->chk;
    k->hash_at = grow_zero(k->hash_at, &k->n_hash, index + 1, sizeof(uint64_t));
    if (k->hash_at[index] != 0 && k->hash_at[index] != hash)
        sim_fail(c, "state machine safety: node %llu differs from another after applying %llu",
                 ULL(n->id), ULL(index));
    k->hash_at[index] = hash;
}

void sim_check_read(struct cc_sim *c, const struct sim_read *rd)
{
    if (rd->state == 1 && rd->index < rd->floor)
        sim_fail(c, "stale read %llu: index %llu but %llu was committed before it was asked",
                 ULL(rd->ctx), ULL(rd->index), ULL(rd->floor));
}

void sim_checks_free(struct sim_checks *k)
{
    free(k->leader_of_term);
    free(k->committed);
    free(k->hash_at);
    free(k->ents);
    memset(k, 0, sizeof(*k));
}

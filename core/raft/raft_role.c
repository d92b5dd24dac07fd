/* Role changes. Every assignment to r->role happens here, so each
 * transition resets exactly the state that belongs to the role left behind
 * (timers, votes, progress, pending reads, a transfer). */
#include <stdlib.h>
#include <string.h>

#include "core/raft/raft_state.h"

/* splitmix64: tiny, good enough to spread election timeouts, and the whole
 * sequence is fixed by the seed given to cc_raft_new(). */
static uint64_t next_random(struct cc_raft *r)
{
    uint64_t z = (r->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void cc_raft_reset_timeout(struct cc_raft *r)
{
    unsigned e = r->cfg.election_ticks;
    r->timeout = e + (unsigned)(next_random(r) % e);
}

static void drop_progress(struct cc_raft *r)
{
    for (unsigned i = 0; i < r->n_pr; i++)
        cc_raft_progress_free(&r->pr[i]);
    r->n_pr = 0;
}

/* Leaving leadership: whatever was promised as leader is void. */
static void leave_leader(struct cc_raft *r)
{
    if (r->role != CC_RAFT_LEADER)
        return;
    cc_raft_reads_fail(r);
    if (r->transferee != 0)
        cc_raft_abort_transfer(r, "leadership lost");
    drop_progress(r);
}

void cc_raft_become_follower(struct cc_raft *r, cc_raft_term term, cc_raft_id leader)
{
    if (term > r->term) {
        cc_raft_tracef(r, "term %llu -> %llu", (unsigned long long)r->term,
                       (unsigned long long)term);
        r->term = term;
        r->vote = 0;
    }
    leave_leader(r);
    if (r->role != CC_RAFT_FOLLOWER)
        cc_raft_tracef(r, "%s -> follower", cc_raft_role_name(r->role));
    if (leader != r->leader && leader != 0)
        cc_raft_tracef(r, "leader is %llu", (unsigned long long)leader);
    r->role = CC_RAFT_FOLLOWER;
    r->leader = leader;
    r->election_elapsed = 0;
    cc_raft_reset_timeout(r);
}

static void start_campaign_role(struct cc_raft *r, enum cc_raft_role role)
{
    leave_leader(r);
    r->role = role;
    r->leader = 0;
    r->election_elapsed = 0;
    cc_raft_reset_timeout(r);
    memset(&r->granted, 0, sizeof(r->granted));
    memset(&r->rejected, 0, sizeof(r->rejected));
}

void cc_raft_become_precandidate(struct cc_raft *r)
{
    start_campaign_role(r, CC_RAFT_PRECANDIDATE);
}

void cc_raft_become_candidate(struct cc_raft *r)
{
    start_campaign_role(r, CC_RAFT_CANDIDATE);
    r->term++;
    r->vote = r->id;
}

struct cc_raft_progress *cc_raft_progress_of(struct cc_raft *r, cc_raft_id id)
{
    for (unsigned i = 0; i < r->n_pr; i++)
        if (r->pr[i].id == id)
            return &r->pr[i];
    return NULL;
}

/* Who the leader replicates to: the voters, plus the members the latest
 * configuration entry removed. They do not count for anything, but they
 * get the entries and commit index that tell them they are out, so they
 * stop campaigning and their embedder shuts them down (etcd's removed
 * member exits once it applies its own removal). */
static void replication_targets(const struct cc_raft *r, struct cc_raft_membership *t)
{
    *t = *cc_raft_voters(r);
    const struct cc_raft_confs *c = &r->confs;
    if (c->n > 0) {
        const struct cc_raft_membership *prev = c->n > 1 ? &c->p[c->n - 2].membership : &c->base;
        for (unsigned i = 0; i < prev->n; i++)
            if (!cc_raft_membership_contains(t, prev->ids[i]))
                cc_raft_membership_add(t, prev->ids[i]);
    }
    cc_raft_membership_remove(t, r->id);
}

int cc_raft_sync_progress(struct cc_raft *r)
{
    struct cc_raft_membership t;
    replication_targets(r, &t);
    struct cc_raft_progress next[CC_RAFT_MAX_MEMBERS];
    bool kept[CC_RAFT_MAX_MEMBERS] = {false};
    int rc = 0;
    for (unsigned i = 0; i < t.n; i++) {
        struct cc_raft_progress *old = cc_raft_progress_of(r, t.ids[i]);
        if (old != NULL) {
            next[i] = *old;
            kept[old - r->pr] = true;
            continue;
        }
        rc = cc_raft_progress_init(&next[i], t.ids[i], cc_raft_memlog_last(&r->log) + 1,
                                   r->cfg.max_inflight_msgs);
        if (rc != 0) {
            for (unsigned k = 0; k < i; k++)
                if (cc_raft_progress_of(r, next[k].id) == NULL)
                    cc_raft_progress_free(&next[k]);
            return rc;
        }
    }
    for (unsigned i = 0; i < r->n_pr; i++)
        if (!kept[i])
            cc_raft_progress_free(&r->pr[i]);
    memcpy(r->pr, next, t.n * sizeof(next[0]));
    r->n_pr = t.n;
    return 0;
}

int cc_raft_become_leader(struct cc_raft *r)
{
    cc_raft_tracef(r, "%s -> leader in term %llu", cc_raft_role_name(r->role),
                   (unsigned long long)r->term);
    r->role = CC_RAFT_LEADER;
    r->leader = r->id;
    r->transferee = 0;
    r->election_elapsed = 0;
    r->heartbeat_elapsed = 0;
    int rc = cc_raft_sync_progress(r);
    if (rc != 0)
        return rc;
    /* Committing an entry of its own term is how a leader learns what is
     * committed (Figure 8), and ReadIndex and membership changes wait for
     * it. */
    rc = cc_raft_append_local(r, r->term, CC_RAFT_ENTRY_NOOP, NULL, 0);
    if (rc != 0)
        return rc;
    r->noop_index = cc_raft_memlog_last(&r->log);
    rc = cc_raft_bcast_append(r);
    if (rc != 0)
        return rc;
    return cc_raft_maybe_commit(r);
}

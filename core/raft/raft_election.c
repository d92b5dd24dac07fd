/* Ticks, election timeouts, campaigns and votes.
 *
 * With pre_vote a node first asks "would you vote for me at term + 1?"
 * without touching its term; only when a majority says yes does it bump the
 * term and ask for real. A node cut off from the cluster thus never comes
 * back with an inflated term that would depose a healthy leader. */
#include <limits.h>

#include "core/raft/raft_state.h"

bool cc_raft_in_lease(const struct cc_raft *r)
{
    return r->cfg.check_quorum && r->leader != 0 && r->election_elapsed < r->cfg.election_ticks;
}

static int tick_leader(struct cc_raft *r)
{
    r->heartbeat_elapsed++;
    r->election_elapsed++;
    if (r->election_elapsed >= r->cfg.election_ticks) {
        r->election_elapsed = 0;
        if (r->cfg.check_quorum && !cc_raft_quorum_active(r)) {
            cc_raft_tracef(r, "no quorum heard for an election timeout: step down");
            cc_raft_become_follower(r, r->term, 0);
            return 0;
        }
        /* A transfer that did not finish within an election timeout failed
         * (the target is down or slow): take proposals again. */
        if (r->transferee != 0)
            cc_raft_abort_transfer(r, "timed out");
    }
    if (r->heartbeat_elapsed >= r->cfg.heartbeat_ticks) {
        r->heartbeat_elapsed = 0;
        return cc_raft_bcast_heartbeat(r);
    }
    return 0;
}

int cc_raft_tick(struct cc_raft *r)
{
    if (r->role == CC_RAFT_LEADER)
        return tick_leader(r);
    /* Saturate: a member that may not campaign keeps counting, so it does
     * not believe in a silent leader's lease forever. */
    if (r->election_elapsed < UINT_MAX)
        r->election_elapsed++;
    if (r->election_elapsed < r->timeout || !cc_raft_may_campaign(r))
        return 0;
    cc_raft_tracef(r, "election timeout as %s", cc_raft_role_name(r->role));
    return cc_raft_campaign(r, r->cfg.pre_vote, false);
}

static unsigned count_voters(const struct cc_raft *r, const struct cc_raft_membership *set)
{
    const struct cc_raft_membership *v = cc_raft_voters(r);
    unsigned n = 0;
    for (unsigned i = 0; i < set->n; i++)
        if (cc_raft_membership_contains(v, set->ids[i]))
            n++;
    return n;
}

/* Tallies the votes so far; wins or loses the round when a majority says
 * so. */
static int tally(struct cc_raft *r)
{
    unsigned q = cc_raft_quorum(cc_raft_voters(r)->n);
    unsigned yes = count_voters(r, &r->granted), no = count_voters(r, &r->rejected);
    if (yes >= q) {
        if (r->role == CC_RAFT_PRECANDIDATE) {
            cc_raft_tracef(r, "pre-vote won with %u of %u", yes, cc_raft_voters(r)->n);
            return cc_raft_campaign(r, false, false);
        }
        cc_raft_tracef(r, "election won with %u of %u votes", yes, cc_raft_voters(r)->n);
        return cc_raft_become_leader(r);
    }
    if (no >= q) {
        cc_raft_tracef(r, "%s lost with %u of %u against",
                       r->role == CC_RAFT_PRECANDIDATE ? "pre-vote" : "election", no,
                       cc_raft_voters(r)->n);
        cc_raft_become_follower(r, r->term, 0);
    }
    return 0;
}

/* A voter may campaign; so may a member whose removal is appended but not
 * known committed, because the others may need it to commit that very
 * entry (thesis §4.2.2: it then does not count its own vote). A member
 * whose removal is committed, or a new one that has not yet learned it was
 * added, stays quiet. */
bool cc_raft_may_campaign(const struct cc_raft *r)
{
    if (cc_raft_is_voter(r))
        return true;
    const struct cc_raft_confs *c = &r->confs;
    if (c->n == 0 || c->p[c->n - 1].index <= r->commit)
        return false;
    /* Only if that entry is what took us out: a member still catching up
     * on an old configuration is not needed by anyone. */
    const struct cc_raft_membership *before = c->n > 1 ? &c->p[c->n - 2].membership : &c->base;
    return cc_raft_membership_contains(before, r->id);
}

int cc_raft_campaign(struct cc_raft *r, bool pre, bool transfer)
{
    if (!cc_raft_may_campaign(r))
        return 0;
    enum cc_raft_msg_type type;
    cc_raft_term term;
    if (pre) {
        cc_raft_become_precandidate(r);
        type = CC_RAFT_MSG_PREVOTE;
        term = r->term + 1;
        cc_raft_tracef(r, "start pre-vote for term %llu", (unsigned long long)term);
    } else {
        cc_raft_become_candidate(r);
        type = CC_RAFT_MSG_VOTE;
        term = r->term;
        cc_raft_tracef(r, "start election for term %llu%s", (unsigned long long)term,
                       transfer ? " (leadership transfer)" : "");
    }
    cc_raft_membership_add(&r->granted, r->id);
    const struct cc_raft_membership *v = cc_raft_voters(r);
    if (count_voters(r, &r->granted) >= cc_raft_quorum(v->n))
        return tally(r);
    for (unsigned i = 0; i < v->n; i++) {
        if (v->ids[i] == r->id)
            continue;
        struct cc_raft_msg m = {.type = type, .to = v->ids[i], .term = term};
        m.vote.last_index = cc_raft_memlog_last(&r->log);
        m.vote.last_term = cc_raft_last_term(r);
        m.vote.transfer = transfer;
        int rc = cc_raft_send(r, &m, 0);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int cc_raft_recv_vote(struct cc_raft *r, const struct cc_raft_msg *m)
{
    bool pre = m->type == CC_RAFT_MSG_PREVOTE;
    /* One vote per term; a pre-vote for a later term promises nothing. */
    bool can_vote =
        r->vote == m->from || (r->vote == 0 && r->leader == 0) || (pre && m->term > r->term);
    cc_raft_index last = cc_raft_memlog_last(&r->log);
    cc_raft_term last_term = cc_raft_last_term(r);
    bool up_to_date = m->vote.last_term > last_term ||
                      (m->vote.last_term == last_term && m->vote.last_index >= last);
    struct cc_raft_msg resp = {.type = pre ? CC_RAFT_MSG_PREVOTE_RESP : CC_RAFT_MSG_VOTE_RESP,
                               .to = m->from};
    if (can_vote && up_to_date) {
        cc_raft_tracef(r, "grant %s to %llu for term %llu", pre ? "pre-vote" : "vote",
                       (unsigned long long)m->from, (unsigned long long)m->term);
        resp.term = m->term;
        resp.vote_resp.granted = true;
        if (!pre) {
            r->vote = m->from;
            r->election_elapsed = 0;
        }
    } else {
        cc_raft_tracef(r, "reject %s from %llu for term %llu: %s", pre ? "pre-vote" : "vote",
                       (unsigned long long)m->from, (unsigned long long)m->term,
                       !can_vote ? "already voted or have a leader" : "its log is behind");
        resp.term = r->term;
    }
    return cc_raft_send(r, &resp, 0);
}

int cc_raft_recv_vote_resp(struct cc_raft *r, const struct cc_raft_msg *m)
{
    bool pre = m->type == CC_RAFT_MSG_PREVOTE_RESP;
    if (r->role != (pre ? CC_RAFT_PRECANDIDATE : CC_RAFT_CANDIDATE))
        return 0;
    if (cc_raft_membership_contains(&r->granted, m->from) ||
        cc_raft_membership_contains(&r->rejected, m->from))
        return 0;
    cc_raft_membership_add(m->vote_resp.granted ? &r->granted : &r->rejected, m->from);
    return tally(r);
}

/* A message from a peer: first the term rules every raft message obeys,
 * then the handler for the message type and our role. */
#include "core/raft/raft_state.h"

static bool from_leader(enum cc_raft_msg_type t)
{
    return t == CC_RAFT_MSG_APPEND || t == CC_RAFT_MSG_HEARTBEAT || t == CC_RAFT_MSG_SNAPSHOT;
}

static bool is_vote(enum cc_raft_msg_type t)
{
    return t == CC_RAFT_MSG_PREVOTE || t == CC_RAFT_MSG_VOTE;
}

/* Returns true when the message is to be handled further. */
static bool check_term(struct cc_raft *r, const struct cc_raft_msg *m, int *rc)
{
    if (m->term > r->term) {
        /* A member that heard from its leader within the election timeout
         * ignores vote requests: they come from a node that was cut off or
         * removed, and the leader is fine (thesis §4.2.3). A transfer is
         * the leader's own wish, so it passes. */
        if (is_vote(m->type) && !m->vote.transfer && cc_raft_in_lease(r)) {
            cc_raft_tracef(r, "ignore %s from %llu for term %llu: leader %llu is alive",
                           cc_raft_msg_type_name(m->type), (unsigned long long)m->from,
                           (unsigned long long)m->term, (unsigned long long)r->leader);
            return false;
        }
        /* A pre-vote and a granted pre-vote answer carry a term nobody is
         * in yet: they change nothing. */
        if (m->type == CC_RAFT_MSG_PREVOTE ||
            (m->type == CC_RAFT_MSG_PREVOTE_RESP && m->vote_resp.granted))
            return true;
        cc_raft_become_follower(r, m->term, from_leader(m->type) ? m->from : 0);
        return true;
    }
    if (m->term < r->term) {
        /* A stale leader learns our term from this answer and steps down;
         * without it, a leader cut off (with pre-vote or check-quorum the
         * others' terms moved on without its knowledge) could wait
         * forever. */
        if ((r->cfg.check_quorum || r->cfg.pre_vote) &&
            (m->type == CC_RAFT_MSG_APPEND || m->type == CC_RAFT_MSG_HEARTBEAT)) {
            struct cc_raft_msg resp = {
                .type = CC_RAFT_MSG_APPEND_RESP, .to = m->from, .term = r->term};
            resp.append_resp.reject = true;
            *rc = cc_raft_send(r, &resp, 0);
        } else if (is_vote(m->type)) {
            /* Tell a stale candidate our term, or it may never learn it:
             * we could be campaigning ourselves, sending only to others. */
            struct cc_raft_msg resp = {.type = m->type == CC_RAFT_MSG_PREVOTE
                                                   ? CC_RAFT_MSG_PREVOTE_RESP
                                                   : CC_RAFT_MSG_VOTE_RESP,
                                       .to = m->from,
                                       .term = r->term};
            *rc = cc_raft_send(r, &resp, 0);
        }
        return false;
    }
    return true;
}

static int recv_from_leader(struct cc_raft *r, const struct cc_raft_msg *m)
{
    if (r->role == CC_RAFT_LEADER) {
        /* Two leaders in one term cannot happen; say so loudly. */
        cc_raft_tracef(r, "BUG: %s from %llu, another leader in term %llu",
                       cc_raft_msg_type_name(m->type), (unsigned long long)m->from,
                       (unsigned long long)r->term);
        return CC_RAFT_EINVAL;
    }
    if (r->role != CC_RAFT_FOLLOWER || r->leader != m->from)
        cc_raft_become_follower(r, r->term, m->from);
    r->election_elapsed = 0;
    switch (m->type) {
    case CC_RAFT_MSG_APPEND:
        return cc_raft_recv_append(r, m);
    case CC_RAFT_MSG_HEARTBEAT:
        return cc_raft_recv_heartbeat(r, m);
    default:
        return cc_raft_recv_snapshot(r, m);
    }
}

int cc_raft_recv(struct cc_raft *r, const struct cc_raft_msg *m)
{
    int rc = 0;
    if (!check_term(r, m, &rc))
        return rc;
    switch (m->type) {
    case CC_RAFT_MSG_PREVOTE:
    case CC_RAFT_MSG_VOTE:
        return cc_raft_recv_vote(r, m);
    case CC_RAFT_MSG_PREVOTE_RESP:
    case CC_RAFT_MSG_VOTE_RESP:
        return cc_raft_recv_vote_resp(r, m);
    case CC_RAFT_MSG_APPEND:
    case CC_RAFT_MSG_HEARTBEAT:
    case CC_RAFT_MSG_SNAPSHOT:
        return recv_from_leader(r, m);
    case CC_RAFT_MSG_APPEND_RESP:
        return r->role == CC_RAFT_LEADER ? cc_raft_recv_append_resp(r, m) : 0;
    case CC_RAFT_MSG_HEARTBEAT_RESP:
        return r->role == CC_RAFT_LEADER ? cc_raft_recv_heartbeat_resp(r, m) : 0;
    case CC_RAFT_MSG_SNAPSHOT_RESP:
        return r->role == CC_RAFT_LEADER ? cc_raft_recv_snapshot_resp(r, m) : 0;
    case CC_RAFT_MSG_TIMEOUT_NOW:
        if (r->role != CC_RAFT_FOLLOWER || !cc_raft_is_voter(r))
            return 0;
        cc_raft_tracef(r, "timeout-now from %llu", (unsigned long long)m->from);
        return cc_raft_campaign(r, false, true);
    }
    return CC_RAFT_EINVAL;
}

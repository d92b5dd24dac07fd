/* Requests from the embedder that only a leader can serve: proposals,
 * membership changes and leadership transfer. A follower answers
 * CC_RAFT_ENOTLEADER and the update names the leader to forward to. */
#include <stdlib.h>

#include "core/raft/raft_state.h"

#define ULL(x) ((unsigned long long)(x))

static int leader_ready(const struct cc_raft *r)
{
    if (r->role != CC_RAFT_LEADER)
        return CC_RAFT_ENOTLEADER;
    /* During a transfer the target must catch up with a log that stops
     * growing; etcd drops proposals then too. */
    if (r->transferee != 0)
        return CC_RAFT_EBUSY;
    return 0;
}

static int after_append(struct cc_raft *r, cc_raft_index first)
{
    r->out.u.result.index = first;
    r->out.u.result.term = r->term;
    int rc = cc_raft_bcast_append(r);
    if (rc != 0)
        return rc;
    /* Fewer voters may commit what is already durable. */
    return cc_raft_maybe_commit(r);
}

int cc_raft_propose(struct cc_raft *r, const struct cc_raft_proposal *items, size_t n)
{
    int rc = leader_ready(r);
    if (rc != 0 || n == 0)
        return rc ? rc : CC_RAFT_EINVAL;
    cc_raft_index first = cc_raft_memlog_last(&r->log) + 1;
    if (n == 1)
        cc_raft_tracef(r, "propose %llu^%llu", ULL(first), ULL(r->term));
    else
        cc_raft_tracef(r, "propose %llu^%llu..%llu^%llu", ULL(first), ULL(r->term),
                       ULL(first + n - 1), ULL(r->term));
    for (size_t k = 0; k < n; k++) {
        rc = cc_raft_append_local(r, r->term, CC_RAFT_ENTRY_NORMAL, items[k].data, items[k].len);
        if (rc != 0)
            return rc;
    }
    return after_append(r, first);
}

int cc_raft_conf_change(struct cc_raft *r, enum cc_raft_conf_op op, cc_raft_id node,
                        const void *ctx, size_t ctx_len)
{
    int rc = leader_ready(r);
    if (rc != 0)
        return rc;
    /* A leader must commit an entry of its term before changing the
     * configuration, or a change from an earlier term that it does not
     * know about could combine with this one into two disjoint majorities
     * (Ongaro, raft-dev 2015). And one change at a time. */
    if (r->commit < r->noop_index || cc_raft_confs_last_index(&r->confs) > r->commit) {
        cc_raft_tracef(r, "membership change refused: %s",
                       r->commit < r->noop_index ? "nothing committed in this term yet"
                                                 : "another change is in flight");
        return CC_RAFT_EBUSY;
    }
    struct cc_raft_conf conf = {.op = op, .node = node, .context = ctx, .context_len = ctx_len};
    conf.membership = *cc_raft_voters(r);
    if (op == CC_RAFT_CONF_ADD)
        rc = cc_raft_membership_add(&conf.membership, node);
    else if (op == CC_RAFT_CONF_REMOVE)
        rc = conf.membership.n > 1 ? cc_raft_membership_remove(&conf.membership, node)
                                   : CC_RAFT_EINVAL;
    else
        rc = CC_RAFT_EINVAL;
    if (rc != 0)
        return rc;
    size_t len = cc_raft_conf_encode(&conf, NULL, 0);
    void *buf = malloc(len);
    if (buf == NULL)
        return CC_RAFT_ENOMEM;
    cc_raft_conf_encode(&conf, buf, len);
    cc_raft_index index = cc_raft_memlog_last(&r->log) + 1;
    rc = cc_raft_append_local(r, r->term, CC_RAFT_ENTRY_CONF, buf, len);
    free(buf);
    if (rc != 0)
        return rc;
    return after_append(r, index);
}

/* The most up-to-date voter, lowest id first on a tie. */
static cc_raft_id best_target(const struct cc_raft *r)
{
    cc_raft_id best = 0;
    cc_raft_index best_match = 0;
    const struct cc_raft_membership *v = cc_raft_voters(r);
    for (unsigned i = 0; i < r->n_pr; i++) {
        const struct cc_raft_progress *pr = &r->pr[i];
        if (!cc_raft_membership_contains(v, pr->id))
            continue;
        if (best == 0 || pr->match > best_match) {
            best = pr->id;
            best_match = pr->match;
        }
    }
    return best;
}

int cc_raft_transfer(struct cc_raft *r, cc_raft_id target)
{
    if (r->role != CC_RAFT_LEADER)
        return CC_RAFT_ENOTLEADER;
    if (target == 0)
        target = best_target(r);
    if (target == 0 || target == r->id || !cc_raft_membership_contains(cc_raft_voters(r), target))
        return CC_RAFT_EINVAL;
    r->out.u.result.target = target;
    if (r->transferee == target)
        return 0;
    cc_raft_tracef(r, "transfer leadership to %llu", ULL(target));
    r->transferee = target;
    /* The transfer has one election timeout to complete. */
    r->election_elapsed = 0;
    struct cc_raft_progress *pr = cc_raft_progress_of(r, target);
    int rc = cc_raft_transfer_progress(r, pr);
    if (rc != 0 || pr->match == cc_raft_memlog_last(&r->log))
        return rc;
    return cc_raft_send_append(r, pr);
}

int cc_raft_transfer_progress(struct cc_raft *r, struct cc_raft_progress *pr)
{
    if (r->transferee != pr->id || pr->match != cc_raft_memlog_last(&r->log))
        return 0;
    cc_raft_tracef(r, "%llu is up to date: send timeout-now", ULL(pr->id));
    struct cc_raft_msg m = {.type = CC_RAFT_MSG_TIMEOUT_NOW, .to = pr->id, .term = r->term};
    return cc_raft_send(r, &m, 0);
}

void cc_raft_abort_transfer(struct cc_raft *r, const char *why)
{
    cc_raft_tracef(r, "transfer to %llu aborted: %s", ULL(r->transferee), why);
    r->transferee = 0;
}

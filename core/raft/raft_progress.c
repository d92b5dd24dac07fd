/* Per-follower replication progress and its in-flight window. */
#include <stdlib.h>
#include <string.h>

#include "core/raft/raft.h"
#include "core/raft/raft_progress.h"

int cc_raft_progress_init(struct cc_raft_progress *pr, cc_raft_id id, cc_raft_index next,
                          unsigned max_inflight)
{
    memset(pr, 0, sizeof(*pr));
    pr->infl = calloc(max_inflight, sizeof(*pr->infl));
    if (pr->infl == NULL)
        return CC_RAFT_ENOMEM;
    pr->infl_cap = max_inflight;
    pr->id = id;
    pr->next = next;
    pr->state = CC_RAFT_PR_PROBE;
    return 0;
}

void cc_raft_progress_free(struct cc_raft_progress *pr)
{
    free(pr->infl);
    pr->infl = NULL;
}

static void reset_state(struct cc_raft_progress *pr, enum cc_raft_pr_state s)
{
    pr->paused = false;
    pr->pending_snapshot = 0;
    pr->state = s;
    pr->infl_start = pr->infl_n = 0;
}

void cc_raft_progress_become_probe(struct cc_raft_progress *pr)
{
    /* Coming back from a snapshot, the follower has at least the snapshot
     * (if it installed it); otherwise match is all we know. */
    if (pr->state == CC_RAFT_PR_SNAPSHOT) {
        cc_raft_index pending = pr->pending_snapshot;
        reset_state(pr, CC_RAFT_PR_PROBE);
        pr->next = (pr->match + 1 > pending + 1) ? pr->match + 1 : pending + 1;
    } else {
        reset_state(pr, CC_RAFT_PR_PROBE);
        pr->next = pr->match + 1;
    }
}

void cc_raft_progress_become_replicate(struct cc_raft_progress *pr)
{
    reset_state(pr, CC_RAFT_PR_REPLICATE);
    pr->next = pr->match + 1;
}

void cc_raft_progress_become_snapshot(struct cc_raft_progress *pr, cc_raft_index index)
{
    reset_state(pr, CC_RAFT_PR_SNAPSHOT);
    pr->pending_snapshot = index;
}

bool cc_raft_progress_is_paused(const struct cc_raft_progress *pr)
{
    switch (pr->state) {
    case CC_RAFT_PR_PROBE:
        return pr->paused;
    case CC_RAFT_PR_REPLICATE:
        return pr->infl_n == pr->infl_cap;
    case CC_RAFT_PR_SNAPSHOT:
        return true;
    }
    return true;
}

static void infl_free_to(struct cc_raft_progress *pr, cc_raft_index index)
{
    while (pr->infl_n > 0 && pr->infl[pr->infl_start] <= index) {
        pr->infl_start = (pr->infl_start + 1) % pr->infl_cap;
        pr->infl_n--;
    }
    if (pr->infl_n == 0)
        pr->infl_start = 0;
}

bool cc_raft_progress_maybe_update(struct cc_raft_progress *pr, cc_raft_index index)
{
    bool updated = false;
    if (pr->match < index) {
        pr->match = index;
        updated = true;
        pr->paused = false;
    }
    if (pr->next < index + 1)
        pr->next = index + 1;
    infl_free_to(pr, index);
    return updated;
}

bool cc_raft_progress_maybe_decrease(struct cc_raft_progress *pr, cc_raft_index rejected,
                                     cc_raft_index guess)
{
    if (pr->state == CC_RAFT_PR_REPLICATE) {
        /* Anything at or below match was already accepted: a late answer. */
        if (rejected <= pr->match)
            return false;
        pr->next = pr->match + 1;
        return true;
    }
    /* In probe only the answer to the append just sent counts. */
    if (pr->next - 1 != rejected)
        return false;
    if (guess < pr->match + 1)
        guess = pr->match + 1;
    if (guess > rejected)
        guess = rejected;
    pr->next = guess > 0 ? guess : 1;
    pr->paused = false;
    return true;
}

void cc_raft_progress_sent(struct cc_raft_progress *pr, cc_raft_index last, bool has_entries)
{
    if (pr->state == CC_RAFT_PR_REPLICATE) {
        if (has_entries) {
            pr->next = last + 1;
            pr->infl[(pr->infl_start + pr->infl_n) % pr->infl_cap] = last;
            pr->infl_n++;
        }
    } else if (pr->state == CC_RAFT_PR_PROBE) {
        pr->paused = true;
        pr->probe_last = last;
    }
}

void cc_raft_progress_heartbeat_answered(struct cc_raft_progress *pr)
{
    pr->paused = false;
    if (pr->state == CC_RAFT_PR_REPLICATE && pr->infl_n == pr->infl_cap) {
        pr->infl_start = (pr->infl_start + 1) % pr->infl_cap;
        pr->infl_n--;
    }
}

const char *cc_raft_progress_state_name(enum cc_raft_pr_state s)
{
    switch (s) {
    case CC_RAFT_PR_PROBE:
        return "probe";
    case CC_RAFT_PR_REPLICATE:
        return "replicate";
    case CC_RAFT_PR_SNAPSHOT:
        return "snapshot";
    }
    return "?";
}

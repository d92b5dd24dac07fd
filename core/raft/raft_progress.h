/* What a leader knows about one follower's log, and the flow control on
 * what it sends (the etcd model):
 *
 *   probe      next is a guess: one append at a time, then wait for its
 *              answer or the next heartbeat answer;
 *   replicate  the follower is in step: appends are pipelined, next moves
 *              ahead optimistically, at most max_inflight unacknowledged;
 *   snapshot   a snapshot is on its way: send nothing until it is reported.
 */
#ifndef CC_CORE_RAFT_RAFT_PROGRESS_H
#define CC_CORE_RAFT_RAFT_PROGRESS_H

#include "core/raft/raft_msg.h"

enum cc_raft_pr_state {
    CC_RAFT_PR_PROBE = 0,
    CC_RAFT_PR_REPLICATE,
    CC_RAFT_PR_SNAPSHOT,
};

struct cc_raft_progress {
    cc_raft_id id;
    cc_raft_index match, next;
    enum cc_raft_pr_state state;
    bool paused;              /* probe: an append is out, wait */
    cc_raft_index probe_last; /* probe: last index of the append that is out */
    bool recent_active;       /* heard from it since the last check-quorum round */
    cc_raft_index pending_snapshot;
    uint64_t read_ack; /* highest ReadIndex round it confirmed */
    /* Ring of the last index of each unacknowledged append (replicate). */
    cc_raft_index *infl;
    unsigned infl_cap, infl_start, infl_n;
};

/* 0 or CC_RAFT_ENOMEM. */
int cc_raft_progress_init(struct cc_raft_progress *pr, cc_raft_id id, cc_raft_index next,
                          unsigned max_inflight);
void cc_raft_progress_free(struct cc_raft_progress *pr);

void cc_raft_progress_become_probe(struct cc_raft_progress *pr);
void cc_raft_progress_become_replicate(struct cc_raft_progress *pr);
void cc_raft_progress_become_snapshot(struct cc_raft_progress *pr, cc_raft_index index);

/* Nothing may be sent now (probe waiting, window full, snapshot). */
bool cc_raft_progress_is_paused(const struct cc_raft_progress *pr);
/* An accepted append up to index; false if it told nothing new. */
bool cc_raft_progress_maybe_update(struct cc_raft_progress *pr, cc_raft_index index);
/* A rejected append at `rejected`; next moves back to `guess` (> match).
 * False when the rejection is stale. */
bool cc_raft_progress_maybe_decrease(struct cc_raft_progress *pr, cc_raft_index rejected,
                                     cc_raft_index guess);
/* An append whose last entry is index went out. */
void cc_raft_progress_sent(struct cc_raft_progress *pr, cc_raft_index last, bool has_entries);
/* A heartbeat answer came: a lost append must not wedge the window. */
void cc_raft_progress_heartbeat_answered(struct cc_raft_progress *pr);

const char *cc_raft_progress_state_name(enum cc_raft_pr_state s);

#endif

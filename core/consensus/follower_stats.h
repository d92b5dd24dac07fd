/* The leader's view of each follower for etcd's /v2/stats/leader: round
 * trip latency of append and heartbeat requests, and how many succeeded or
 * were refused. */
#ifndef CC_CORE_CONSENSUS_FOLLOWER_STATS_H
#define CC_CORE_CONSENSUS_FOLLOWER_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/raft/raft_msg.h"
#include "proto/wire.h"

struct cc_follower_stat {
    cc_raft_id id;
    double sent_at; /* oldest unanswered request, 0: none */
    uint64_t success, fail, n;
    double current, min, max, sum, sumsq; /* milliseconds */
};

struct cc_follower_stats {
    struct cc_follower_stat f[CC_RAFT_MAX_MEMBERS];
    unsigned n;
};

/* A heartbeat went to follower id at time now (seconds)... */
void cc_follower_sent(struct cc_follower_stats *s, cc_raft_id id, double now);
/* ...and its answer arrived: one latency sample. */
void cc_follower_latency(struct cc_follower_stats *s, cc_raft_id id, double now);
/* An append was accepted (ok) or refused. */
void cc_follower_answered(struct cc_follower_stats *s, cc_raft_id id, bool ok);
/* {"<id>":{"latency":{...},"counts":{"fail":N,"success":N}},...} */
void cc_follower_stats_json(const struct cc_follower_stats *s, struct cc_buf *out);

#endif

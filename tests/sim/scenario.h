/* Helpers shared by the trace-pinned scenario tests: build a cluster, end
 * it (failing the case on any invariant violation, with the trace), and
 * compare trace blocks. Built on tests/unit/unit.h's CHECK/RUN. */
#ifndef CC_TESTS_SIM_SCENARIO_H
#define CC_TESTS_SIM_SCENARIO_H

#include <stdio.h>

#include "tests/sim/cluster.h"
#include "tests/unit/unit.h"

/* A placeholder for a trace not written yet: always fails the check. */
#define TRACE_TBD "(trace to be pinned)\n"

/* The trace since the last check must be exactly `text`. */
#define CHECK_TRACE(c, text) CHECK(cc_sim_expect((c), (text)))

static inline struct cc_sim *scenario_new(unsigned n, uint64_t seed,
                                          void (*tweak)(struct cc_sim_options *o))
{
    struct cc_sim_options o;
    cc_sim_options_default(&o, n);
    o.seed = seed;
    if (tweak != NULL)
        tweak(&o);
    return cc_sim_new(&o);
}

static inline void scenario_end(struct cc_sim *c)
{
    if (cc_sim_failed(c) != NULL) {
        cc_sim_dump_trace(c, 0);
        fprintf(stderr, "invariant violated (seed %llu): %s\n", (unsigned long long)cc_sim_seed(c),
                cc_sim_failed(c));
        unit_failed_checks++;
    }
    cc_sim_free(c);
}

struct applied_goal {
    cc_raft_index index;
};

static inline bool scenario_all_applied(struct cc_sim *c, void *arg)
{
    const struct applied_goal *g = arg;
    for (cc_raft_id id = 1; id <= CC_SIM_MAX_NODES; id++)
        if (cc_sim_alive(c, id) && !cc_sim_has_applied(c, id, g->index))
            return false;
    return true;
}

/* Runs until every live node applied index (false after max_ms). */
static inline bool wait_applied(struct cc_sim *c, cc_raft_index index, uint64_t max_ms)
{
    struct applied_goal g = {index};
    return cc_sim_run_until(c, scenario_all_applied, &g, max_ms);
}

/* Every live node's state machine is in the same state. */
static inline bool same_state(const struct cc_sim *c)
{
    uint64_t h = 0;
    cc_raft_index a = 0;
    bool first = true;
    for (cc_raft_id id = 1; id <= CC_SIM_MAX_NODES; id++) {
        if (!cc_sim_alive(c, id))
            continue;
        if (!first && (cc_sim_state_hash(c, id) != h || cc_sim_applied(c, id) != a))
            return false;
        h = cc_sim_state_hash(c, id);
        a = cc_sim_applied(c, id);
        first = false;
    }
    return true;
}

static inline bool scenario_leader_is(struct cc_sim *c, void *arg)
{
    return cc_sim_leader(c) == *(cc_raft_id *)arg;
}

/* Runs until id is the leader (false after max_ms). */
static inline bool wait_leader(struct cc_sim *c, cc_raft_id id, uint64_t max_ms)
{
    return cc_sim_run_until(c, scenario_leader_is, &id, max_ms);
}

static inline enum cc_raft_role role_of(const struct cc_sim *c, cc_raft_id id)
{
    const struct cc_raft *r = cc_sim_raft(c, id);
    return r ? cc_raft_role(r) : 0;
}

static inline cc_raft_term term_of(const struct cc_sim *c, cc_raft_id id)
{
    const struct cc_raft *r = cc_sim_raft(c, id);
    return r ? cc_raft_current_term(r) : 0;
}

#endif

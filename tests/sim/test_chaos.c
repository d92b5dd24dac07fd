/* Seeded chaos: random drops, duplicates, delays, partitions, crashes and
 * restarts, membership changes, transfers and reads, with proposals
 * throughout, then liveness: once everything is healed a stable leader
 * appears and every proposal made after healing commits and is applied
 * everywhere within a bound.
 *
 *   test_chaos               seeds 1..1000
 *   test_chaos -c N [-s S]   N seeds from S
 *   test_chaos SEED          one seed, printing its whole trace on failure
 *
 * Safety is checked after every step by the simulator (cluster.h). A
 * failing seed is printed, then rerun with tracing to show how it got
 * there. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/cluster.h"

#define CHAOS_MS        8000
#define ROUNDS          3
#define TAIL_LINES      200
#define LEADER_BOUND_MS 5000
#define COMMIT_BOUND_MS 3000
#define SETTLE_MS       100 /* one election timeout at the default 10 ms tick */

struct run {
    uint64_t rng;
    struct cc_sim *c;
    unsigned n;
    bool conf_changes;
    uint64_t next_ctx;
    char why[256];
};

static unsigned pick(struct run *r, unsigned n)
{
    return (unsigned)(cc_sim_rand(&r->rng) % n);
}

static void configure(struct run *r, struct cc_sim_options *o, uint64_t seed)
{
    static const unsigned sizes[] = {1, 2, 3, 3, 3, 4, 5, 5, 7};
    r->n = sizes[pick(r, sizeof(sizes) / sizeof(sizes[0]))];
    cc_sim_options_default(o, r->n);
    o->seed = seed;
    o->trace = false;
    o->raft.pre_vote = pick(r, 4) != 0;
    o->raft.check_quorum = pick(r, 4) != 0;
    o->raft.max_inflight_msgs = 1 + pick(r, 8);
    o->raft.max_msg_entries = 1 + pick(r, 8);
    o->raft.max_msg_bytes = 16 + pick(r, 240);
    /* Small caches make leaders fetch entries back from "disk". */
    o->raft.max_cache_bytes = 64 + pick(r, 2048);
    o->raft.snapshot_threshold = pick(r, 3) == 0 ? 0 : 10 + pick(r, 30);
    o->raft.snapshot_trailing = pick(r, 8);
    o->net_min_ms = 1;
    o->net_max_ms = 1 + pick(r, 20);
    o->disk_min_ms = 1;
    o->disk_max_ms = 1 + pick(r, 10);
    o->drop_permille = pick(r, 3) == 0 ? 0 : pick(r, 200);
    o->dup_permille = pick(r, 2) == 0 ? 0 : pick(r, 100);
    r->conf_changes = r->n >= 3 && pick(r, 3) == 0;
    o->durable_apply = pick(r, 2) == 0;
}

static cc_raft_id random_node(struct run *r, bool alive)
{
    for (int tries = 0; tries < 16; tries++) {
        cc_raft_id id = 1 + pick(r, CC_SIM_MAX_NODES);
        if (cc_sim_alive(r->c, id) == alive && (alive || cc_sim_raft(r->c, id) == NULL))
            return id;
    }
    return 0;
}

static void conf_change(struct run *r, cc_raft_id leader)
{
    const struct cc_raft_membership *m = cc_raft_membership(cc_sim_raft(r->c, leader));
    if (pick(r, 2) == 0 && m->n > 1) {
        cc_sim_conf_change(r->c, leader, CC_RAFT_CONF_REMOVE, m->ids[pick(r, m->n)], NULL);
        return;
    }
    /* Add a spare that never ran: ids are never reused, as in etcd. */
    for (cc_raft_id id = r->n + 1; id <= CC_SIM_MAX_NODES; id++) {
        if (cc_sim_alive(r->c, id) || cc_raft_membership_contains(m, id))
            continue;
        cc_sim_start_spare(r->c, id);
        if (cc_sim_alive(r->c, id))
            cc_sim_conf_change(r->c, leader, CC_RAFT_CONF_ADD, id, NULL);
        return;
    }
}

static void chaos_action(struct run *r)
{
    struct cc_sim *c = r->c;
    cc_raft_id leader = cc_sim_leader(c);
    char payload[32];
    unsigned dice = pick(r, 1000);
    if (dice < 450) {
        snprintf(payload, sizeof(payload), "v%llu", (unsigned long long)cc_sim_rand(&r->rng));
        cc_raft_id to = leader && pick(r, 10) ? leader : random_node(r, true);
        if (to)
            cc_sim_propose(c, to, payload, NULL);
    } else if (dice < 480) {
        /* Leaders crash more interesting: their uncommitted tail is lost. */
        cc_raft_id id = leader && pick(r, 2) ? leader : random_node(r, true);
        if (id)
            cc_sim_crash(c, id);
    } else if (dice < 540) {
        for (cc_raft_id id = 1; id <= CC_SIM_MAX_NODES; id++)
            if (!cc_sim_alive(c, id) && pick(r, 2))
                cc_sim_restart(c, id);
    } else if (dice < 570) {
        cc_sim_partition(c, (unsigned)pick(r, 1u << CC_SIM_MAX_NODES));
    } else if (dice < 610) {
        cc_sim_heal(c);
    } else if (dice < 630) {
        cc_raft_id id = leader && pick(r, 2) ? leader : 1 + pick(r, r->n);
        cc_sim_isolate(c, id);
    } else if (dice < 690) {
        if (leader)
            cc_sim_read_index(c, leader, ++r->next_ctx);
    } else if (dice < 705) {
        if (leader)
            cc_sim_transfer(c, leader, pick(r, 2) ? 0 : 1 + pick(r, CC_SIM_MAX_NODES));
    } else if (dice < 725) {
        if (leader && r->conf_changes)
            conf_change(r, leader);
    } else if (dice < 735) {
        cc_sim_set_loss(c, pick(r, 3) ? pick(r, 300) : 0, pick(r, 2) ? pick(r, 100) : 0);
    }
}

struct commit_goal {
    cc_raft_id leader;
    cc_raft_index index;
    cc_raft_term term;
};

static bool all_applied(struct cc_sim *c, void *arg)
{
    struct commit_goal *g = arg;
    const struct cc_raft *lr = cc_sim_raft(c, g->leader);
    if (lr == NULL)
        return false;
    const struct cc_raft_membership *m = cc_raft_membership(lr);
    for (unsigned i = 0; i < m->n; i++)
        if (cc_sim_alive(c, m->ids[i]) && !cc_sim_has_applied(c, m->ids[i], g->index))
            return false;
    return true;
}

/* Stops members that are not voters in the leader's configuration. */
static void stop_removed(struct cc_sim *c, cc_raft_id leader)
{
    struct cc_raft_membership m = *cc_raft_membership(cc_sim_raft(c, leader));
    for (cc_raft_id id = 1; id <= CC_SIM_MAX_NODES; id++)
        if (cc_sim_alive(c, id) && !cc_raft_membership_contains(&m, id))
            cc_sim_stop(c, id);
}

/* A member that the most up-to-date live log (the one any election will
 * converge on) counts as a voter neither now nor at its commit index was
 * removed for good, and shuts down:
 * etcd's peers refuse a removed member's messages and it exits. Without
 * that, a removed node that never learned of its removal campaigns
 * forever, deposing leaders when neither pre-vote nor check-quorum is on
 * (raft's known disruptive-server problem). */
static void stop_committed_removals(struct cc_sim *c)
{
    const struct cc_raft *best = NULL;
    cc_raft_term best_term = 0;
    for (cc_raft_id id = 1; id <= CC_SIM_MAX_NODES; id++) {
        const struct cc_raft *r = cc_sim_raft(c, id);
        cc_raft_term t = 0;
        if (r == NULL || !cc_raft_log_term(r, cc_raft_last_index(r), &t))
            continue;
        if (best == NULL || t > best_term ||
            (t == best_term && cc_raft_last_index(r) > cc_raft_last_index(best))) {
            best = r;
            best_term = t;
        }
    }
    if (best == NULL)
        return;
    /* Its latest configuration, and the committed one (it holds every
     * committed entry): a removal that is not committed may still need
     * the removed node's vote or log. */
    struct cc_raft_membership m = *cc_raft_membership(best); /* best may stop */
    cc_raft_index commit = cc_sim_commit_index(c);
    if (commit > cc_raft_last_index(best))
        commit = cc_raft_last_index(best);
    const struct cc_raft_membership *at = cc_raft_membership_at(best, commit);
    if (at == NULL)
        return;
    struct cc_raft_membership committed = *at;
    for (cc_raft_id id = 1; id <= CC_SIM_MAX_NODES; id++)
        if (cc_sim_alive(c, id) && !cc_raft_membership_contains(&m, id) &&
            !cc_raft_membership_contains(&committed, id))
            cc_sim_stop(c, id);
}

/* Proposes at whoever leads, waiting for a stable leader between tries. */
static bool propose_retry(struct run *r, struct commit_goal *g, const char *payload)
{
    int rc = -1;
    for (int tries = 0; tries < 50 && rc != 0; tries++) {
        g->leader = cc_sim_run_until_leader(r->c, LEADER_BOUND_MS);
        rc = g->leader ? cc_sim_propose(r->c, g->leader, payload, &g->index) : -1;
        cc_sim_note(r->c, "liveness: propose \"%s\" at %llu: %d, index %llu", payload,
                    (unsigned long long)g->leader, rc, (unsigned long long)g->index);
        if (rc != 0)
            cc_sim_run(r->c, 50);
    }
    if (rc != 0) {
        snprintf(r->why, sizeof(r->why), "proposal \"%s\" refused after healing", payload);
        return false;
    }
    cc_raft_log_term(cc_sim_raft(r->c, g->leader), g->index, &g->term);
    return true;
}

/* Heal everything, then demand a leader and commits within bounds. */
static bool liveness(struct run *r)
{
    struct cc_sim *c = r->c;
    cc_sim_heal(c);
    cc_sim_set_loss(c, 0, 0);
    cc_sim_set_delay(c, 1, 5);
    for (cc_raft_id id = 1; id <= CC_SIM_MAX_NODES; id++)
        cc_sim_restart(c, id);
    /* Settled: the same leader in the same term across a few election
     * timeouts, so that a node that was cut off and is still campaigning
     * has had its say before the proposals that must survive. Removals
     * that commit meanwhile take effect as they would with etcd's peers. */
    cc_raft_id l = 0, prev = 0;
    cc_raft_term term = 0, prev_term = 0;
    uint64_t deadline = cc_sim_now(c) + LEADER_BOUND_MS;
    while (cc_sim_now(c) < deadline) {
        stop_committed_removals(c);
        l = cc_sim_run_until_leader(c, SETTLE_MS * 5);
        if (l == 0)
            continue;
        term = cc_raft_current_term(cc_sim_raft(c, l));
        if (l == prev && term == prev_term)
            break;
        prev = l;
        prev_term = term;
        cc_sim_run(c, 3 * SETTLE_MS);
    }
    if (l == 0 || l != prev || term != prev_term) {
        snprintf(r->why, sizeof(r->why), "no stable leader %d ms after healing", LEADER_BOUND_MS);
        return false;
    }
    /* The leader has committed an entry of its term, so every membership
     * change before it is settled: a member removed by then shuts down, as
     * etcd's does when its peers refuse it. */
    stop_removed(c, l);
    struct commit_goal goals[3], g = {.leader = l};
    for (int k = 0; k < 3; k++) {
        char payload[32];
        snprintf(payload, sizeof(payload), "after-heal-%d", k);
        if (!propose_retry(r, &g, payload))
            return false;
        goals[k] = g;
    }
    if (!cc_sim_run_until(c, all_applied, &g, COMMIT_BOUND_MS)) {
        snprintf(r->why, sizeof(r->why), "entry %llu not applied everywhere %d ms after healing",
                 (unsigned long long)g.index, COMMIT_BOUND_MS);
        return false;
    }
    /* Each committed with the term it was given: none was lost. */
    for (int k = 0; k < 3; k++) {
        if (cc_sim_committed_term(c, goals[k].index) != goals[k].term) {
            snprintf(r->why, sizeof(r->why), "entry %llu was overwritten",
                     (unsigned long long)goals[k].index);
            return false;
        }
    }
    return true;
}

/* trace_lines: trace and print that many last lines on failure (0: no
 * trace kept; UINT_MAX: all of it). */
static bool run_seed(uint64_t seed, unsigned trace_lines)
{
    struct run r = {.rng = seed * 0x2545f4914f6cdd1dULL + 7};
    struct cc_sim_options o;
    configure(&r, &o, seed);
    o.trace = trace_lines > 0;
    o.trace_messages = o.trace && getenv("CC_SIM_TRACE_MESSAGES") != NULL;
    r.c = cc_sim_new(&o);
    /* Rounds of chaos then healing: later rounds start from a cluster that
     * recovered once, with stopped members and used-up spares. */
    bool ok = true;
    for (int round = 0; round < ROUNDS && ok; round++) {
        cc_sim_set_loss(r.c, o.drop_permille, o.dup_permille);
        cc_sim_set_delay(r.c, o.net_min_ms, o.net_max_ms);
        uint64_t end = cc_sim_now(r.c) + CHAOS_MS;
        while (cc_sim_now(r.c) < end && !cc_sim_failed(r.c)) {
            cc_sim_run(r.c, 2 + pick(&r, 18));
            chaos_action(&r);
        }
        ok = !cc_sim_failed(r.c) && liveness(&r) && !cc_sim_failed(r.c);
    }
    if (getenv("CHAOS_STATS")) {
        struct cc_sim_stats st;
        cc_sim_stats(r.c, &st);
        fprintf(
            stderr,
            "seed %llu: %u nodes, %llu steps, %llu delivered, %llu elections, %llu crashes, "
            "%llu snapshots taken, %llu installed, %llu fetches, %llu truncations, %llu reads\n",
            (unsigned long long)seed, r.n, (unsigned long long)st.steps,
            (unsigned long long)st.delivered, (unsigned long long)st.elections,
            (unsigned long long)st.crashes, (unsigned long long)st.snapshots_taken,
            (unsigned long long)st.snapshots_installed, (unsigned long long)st.fetches,
            (unsigned long long)st.truncations, (unsigned long long)st.reads_ok);
    }
    if (!ok) {
        if (trace_lines > 0)
            cc_sim_dump_trace(r.c, trace_lines == UINT_MAX ? 0 : trace_lines);
        fprintf(stderr, "seed %llu FAILED (%u nodes, pre-vote %d, check-quorum %d): %s\n",
                (unsigned long long)seed, r.n, o.raft.pre_vote, o.raft.check_quorum,
                cc_sim_failed(r.c) ? cc_sim_failed(r.c) : r.why);
    }
    cc_sim_free(r.c);
    return ok;
}

int main(int argc, char **argv)
{
    uint64_t start = 1, count = 1000;
    bool single = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
            count = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
            start = strtoull(argv[++i], NULL, 10);
        else {
            start = strtoull(argv[i], NULL, 10);
            count = 1;
            single = true;
        }
    }
    unsigned failed = 0;
    for (uint64_t s = start; s < start + count; s++) {
        if (run_seed(s, single ? UINT_MAX : 0))
            continue;
        /* Runs are deterministic: replay the first failure with a trace. */
        if (!single && failed == 0) {
            fprintf(stderr, "--- last %u trace lines of seed %llu:\n", TAIL_LINES,
                    (unsigned long long)s);
            run_seed(s, TAIL_LINES);
        }
        if (++failed >= 5)
            break;
    }
    if (failed)
        fprintf(stderr, "replay one with: test_chaos SEED (prints its whole trace)\n");
    else
        fprintf(stderr, "%llu seeds passed\n", (unsigned long long)count);
    return failed ? 1 : 0;
}

/* A deterministic simulated cluster driving the real raft core.
 *
 * N members (ids 1..N, up to CC_SIM_MAX_NODES; ids above N are spares a
 * test can start empty and add), a virtual clock in milliseconds, a network
 * that drops, duplicates, delays (and so reorders) and partitions, disks
 * that take time to persist, crashes that lose everything not yet durable,
 * and a state machine that hashes what it applies.
 *
 * The simulator plays the embedder exactly as raft.h asks: it persists each
 * update in order, sends "after persist" messages only once that is
 * durable, and steps PERSISTED/APPLIED/ENTRIES_LOADED/SNAPSHOT_* back. A
 * crash keeps only what completed persisting; a restart rebuilds the core
 * from that durable state.
 *
 * After every step it checks election safety, log matching, leader
 * completeness, state-machine safety, commit monotonicity and read
 * linearizability; the first violation is recorded (cc_sim_failed) with
 * the seed, and the trace so far is printed.
 *
 * Everything is a function of the options and the seed: same inputs, same
 * trace. */
#ifndef CC_TESTS_SIM_CLUSTER_H
#define CC_TESTS_SIM_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/raft/raft.h"

#define CC_SIM_MAX_NODES 7

struct cc_sim_options {
    unsigned n;                        /* initial voters, ids 1..n */
    uint64_t seed;                     /* network, disk and election randomness */
    struct cc_raft_config raft;        /* trace fields are the simulator's own */
    unsigned tick_ms;                  /* one raft tick every tick_ms per node */
    unsigned net_min_ms, net_max_ms;   /* one-way message delay */
    unsigned disk_min_ms, disk_max_ms; /* time to persist one update */
    unsigned drop_permille, dup_permille;
    /* The state machine survives crashes, as the storage worker's does (it
     * applies and records the applied index in one transaction); else it
     * is rebuilt from the snapshot and the log on restart. */
    bool durable_apply;
    bool keep_removed;    /* a member that applies its own removal keeps running
                           * (default: it shuts down, as an etcd member does) */
    bool trace;           /* keep a readable trace (cc_sim_expect) */
    bool trace_messages;  /* also one line per delivered message */
    bool trace_to_stderr; /* print the trace as it happens */
};

/* Defaults: 10 ms ticks, election 10 ticks, heartbeat 1, 1..5 ms network,
 * 1..3 ms disk, no loss, pre-vote and check-quorum on, tracing on. */
void cc_sim_options_default(struct cc_sim_options *o, unsigned n);

struct cc_sim;

struct cc_sim *cc_sim_new(const struct cc_sim_options *o);
void cc_sim_free(struct cc_sim *c);

uint64_t cc_sim_now(const struct cc_sim *c);
/* Runs every event due in the next ms milliseconds. */
void cc_sim_run(struct cc_sim *c, uint64_t ms);
/* Runs until pred is true (checked after each event) or max_ms passed;
 * returns whether pred became true. */
bool cc_sim_run_until(struct cc_sim *c, bool (*pred)(struct cc_sim *c, void *arg), void *arg,
                      uint64_t max_ms);
/* Runs until some live node is leader, has committed an entry of its term,
 * and every live voter it can reach follows it. Returns it, or 0. */
cc_raft_id cc_sim_run_until_leader(struct cc_sim *c, uint64_t max_ms);

/* The live node that is leader in the highest term, or 0. */
cc_raft_id cc_sim_leader(const struct cc_sim *c);
bool cc_sim_alive(const struct cc_sim *c, cc_raft_id id);
/* The node's core (NULL when down) for read-only views. */
const struct cc_raft *cc_sim_raft(const struct cc_sim *c, cc_raft_id id);
cc_raft_index cc_sim_applied(const struct cc_sim *c, cc_raft_id id);
uint64_t cc_sim_state_hash(const struct cc_sim *c, cc_raft_id id);

/* Client operations, stepped on node id right now. Return the cc_raft_err;
 * *index (may be NULL) gets the entry's index. */
int cc_sim_propose(struct cc_sim *c, cc_raft_id id, const char *payload, cc_raft_index *index);
int cc_sim_conf_change(struct cc_sim *c, cc_raft_id id, enum cc_raft_conf_op op, cc_raft_id node,
                       cc_raft_index *index);
int cc_sim_transfer(struct cc_sim *c, cc_raft_id id, cc_raft_id target);
/* ReadIndex with the given ctx; answers are kept, see cc_sim_read_answer. */
int cc_sim_read_index(struct cc_sim *c, cc_raft_id id, uint64_t ctx);
/* 0: no answer yet; 1: answered OK with *index; -1: answered with an
 * error. */
int cc_sim_read_answer(const struct cc_sim *c, uint64_t ctx, cc_raft_index *index);
/* The highest index any node has seen committed. */
cc_raft_index cc_sim_commit_index(const struct cc_sim *c);
/* The term of the entry committed at index as any node saw it commit (0:
 * not known committed). */
cc_raft_term cc_sim_committed_term(const struct cc_sim *c, cc_raft_index index);
/* True once node id applied index. */
bool cc_sim_has_applied(const struct cc_sim *c, cc_raft_id id, cc_raft_index index);

/* Faults. */
void cc_sim_crash(struct cc_sim *c, cc_raft_id id);
void cc_sim_restart(struct cc_sim *c, cc_raft_id id);
/* Starts spare node id with an empty data dir and no membership (it waits
 * to be added). */
void cc_sim_start_spare(struct cc_sim *c, cc_raft_id id);
/* Permanently stops id (a removed member shutting down). */
void cc_sim_stop(struct cc_sim *c, cc_raft_id id);
/* Cuts id off from every other node (both directions). */
void cc_sim_isolate(struct cc_sim *c, cc_raft_id id);
/* Cuts or restores the link between a and b (both directions). */
void cc_sim_link(struct cc_sim *c, cc_raft_id a, cc_raft_id b, bool up);
/* Splits the cluster: nodes whose bit is set in mask form one side. */
void cc_sim_partition(struct cc_sim *c, unsigned mask);
void cc_sim_heal(struct cc_sim *c);
void cc_sim_set_loss(struct cc_sim *c, unsigned drop_permille, unsigned dup_permille);
void cc_sim_set_delay(struct cc_sim *c, unsigned min_ms, unsigned max_ms);

/* Compares the trace since the last call with want; on a mismatch prints
 * both and returns false. With CC_SIM_PRINT_TRACE=1 in the environment it
 * prints what it got instead, to write new expectations. */
bool cc_sim_expect(struct cc_sim *c, const char *want);
/* Drops the trace since the last expect/skip unchecked (set-up that other
 * tests pin already). */
void cc_sim_trace_skip(struct cc_sim *c);
/* Adds a line of the test's own to the trace. */
void cc_sim_note(struct cc_sim *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the trace kept so far to stderr: its last last_lines lines, or
 * all of it with 0. */
void cc_sim_dump_trace(const struct cc_sim *c, unsigned last_lines);

/* What a run exercised, to tell a chaos run that tested something from one
 * that idled. */
struct cc_sim_stats {
    uint64_t steps, delivered, elections, snapshots_taken, snapshots_installed, fetches,
        truncations, reads_ok, crashes;
};
void cc_sim_stats(const struct cc_sim *c, struct cc_sim_stats *out);

/* The first invariant violation, or NULL. */
const char *cc_sim_failed(const struct cc_sim *c);
uint64_t cc_sim_seed(const struct cc_sim *c);

/* Deterministic randomness for test drivers (not the cluster's own). */
uint64_t cc_sim_rand(uint64_t *state);

#endif

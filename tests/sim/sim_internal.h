/* The simulator's private structures, shared by its files:
 *   cluster.c     nodes, the event loop, the embedder role (persist, apply,
 *                 snapshots, fetches), crash and restart
 *   network.c     copying messages, loss, delay, partitions, delivery
 *   invariants.c  the safety checks run after every step
 *   sim_trace.c   the readable trace and its comparison */
#ifndef CC_TESTS_SIM_SIM_INTERNAL_H
#define CC_TESTS_SIM_SIM_INTERNAL_H

#include <stddef.h>

#include "tests/sim/cluster.h"

/* The state machine: a running hash of applied entries. A snapshot is just
 * this pair. */
struct sim_sm {
    uint64_t hash;
    cc_raft_index applied;
};

/* A message in flight, owning copies of its entries' bytes. */
struct sim_msg {
    struct cc_raft_msg m;
    struct cc_raft_entry *ents;
    struct sim_sm snap; /* SNAPSHOT: the bytes the embedder streams */
};

/* One update's durable work, completed in order. */
struct sim_batch {
    struct sim_batch *next;
    uint64_t done_at;
    bool has_hs;
    struct cc_raft_hard_state hs;
    bool has_snap;
    struct cc_raft_snapshot_meta meta;
    struct sim_sm snap_sm;
    struct cc_raft_entry *ents; /* owned copies */
    size_t n_ents;
    struct sim_msg **after;
    size_t n_after;
    cc_raft_index p_index;
    cc_raft_term p_term;
};

struct sim_node {
    cc_raft_id id;
    bool started, alive, stopped;
    uint64_t gen; /* bumped by each crash: stale events are dropped */
    struct cc_raft *r;
    struct cc_raft_membership bootstrap;

    /* Durable. */
    struct cc_raft_hard_state hs;
    struct cc_raft_entry *log; /* owned copies, indexes first.. */
    size_t n_log, cap_log;
    cc_raft_index first;
    cc_raft_term prev_term;
    bool has_snap;
    struct cc_raft_snapshot_meta snap_meta;
    struct sim_sm snap_sm;

    struct sim_sm durable_sm; /* with durable_apply */

    /* Volatile. */
    struct sim_sm sm;
    struct sim_batch *head, *tail;
    uint64_t disk_free_at;
    struct sim_sm incoming_snap; /* bytes of the last SNAPSHOT received */
    cc_raft_index last_commit;
    cc_raft_index last_index; /* the core's, after the previous step */
    bool applied_own_removal;
};

enum sim_ev_kind {
    SIM_EV_TICK,
    SIM_EV_DELIVER,
    SIM_EV_PERSIST,
    SIM_EV_APPLIED,
    SIM_EV_LOADED,
    SIM_EV_SNAPSHOT_TAKEN,
    SIM_EV_SNAPSHOT_STATUS,
};

struct sim_event {
    uint64_t at, seq;
    enum sim_ev_kind kind;
    unsigned node; /* index into nodes[] (id - 1) */
    uint64_t gen;
    struct sim_msg *msg;
    cc_raft_index a, b;
    cc_raft_id peer;
    bool ok;
};

struct sim_read {
    uint64_t ctx;
    cc_raft_index floor; /* highest commit anywhere when it was asked */
    int state;           /* 0 pending, 1 ok, -1 error */
    cc_raft_index index;
};

struct sim_checks {
    cc_raft_id *leader_of_term; /* by term */
    size_t n_terms;
    cc_raft_term *committed; /* term of each committed index (0: unknown) */
    size_t n_committed;
    cc_raft_index max_commit;
    uint64_t *hash_at; /* state machine hash after applying index */
    size_t n_hash;
    /* (index, term) -> (prev term, payload hash): open addressing. */
    struct sim_entry_key {
        cc_raft_index index;
        cc_raft_term term, prev_term;
        uint64_t data_hash;
    } * ents;
    size_t cap_ents, n_ents;
};

struct cc_sim {
    struct cc_sim_options o;
    uint64_t rng;
    uint64_t now, seq;
    struct sim_node nodes[CC_SIM_MAX_NODES];
    unsigned n_nodes;
    bool cut[CC_SIM_MAX_NODES][CC_SIM_MAX_NODES];

    struct sim_event *q; /* binary heap by (at, seq) */
    size_t n_q, cap_q;

    struct sim_read *reads;
    size_t n_reads, cap_reads;

    struct sim_checks chk;
    struct cc_sim_stats stats;
    char failure[512];

    /* Trace: the whole text, and where the last expect() stopped. */
    char *trace;
    size_t n_trace, cap_trace, expect_from;
    char header[160];
    bool header_done;
};

/* cluster.c */
uint64_t sim_rand(struct cc_sim *c);
unsigned sim_between(struct cc_sim *c, unsigned lo, unsigned hi);
void sim_schedule(struct cc_sim *c, const struct sim_event *ev);
void sim_fail(struct cc_sim *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_status(struct cc_sim *c, unsigned from, cc_raft_id peer, bool ok);
uint64_t sim_hash_bytes(uint64_t h, const void *p, size_t n);

/* network.c */
struct sim_msg *sim_msg_copy(const struct cc_raft_msg *m);
void sim_msg_free(struct sim_msg *sm);
/* Puts a message on the wire (loss, duplication, delay). */
void sim_net_send(struct cc_sim *c, struct sim_msg *sm);
/* The link between the two nodes (0-based) is up. */
bool sim_net_up(const struct cc_sim *c, unsigned a, unsigned b);

/* invariants.c */
void sim_check_update(struct cc_sim *c, struct sim_node *n, const struct cc_raft_update *u);
/* Entries made durable or received: log matching. prev_term is the term
 * before e[0] when prev_known. */
void sim_check_entries(struct cc_sim *c, struct sim_node *n, const struct cc_raft_entry *e,
                       size_t count, bool prev_known, cc_raft_term prev_term);
void sim_check_apply(struct cc_sim *c, struct sim_node *n, cc_raft_index index, uint64_t hash);
void sim_check_read(struct cc_sim *c, const struct sim_read *rd);
void sim_checks_free(struct sim_checks *k);

/* sim_trace.c */
void sim_trace_header(struct cc_sim *c, unsigned node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sim_trace_line(struct cc_sim *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_trace_core(void *ctx, cc_raft_id self, const char *line);

#endif

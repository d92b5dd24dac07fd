/* The core's private state and the functions its files share. Only files in
 * core/raft/ include this; embedders see raft.h.
 *
 * Files, one responsibility each:
 *   raft.c             new/free, step dispatch by event, read-only views
 *   raft_recv.c        a received message: term rules, then by role
 *   raft_role.c        role changes (the only place role is assigned)
 *   raft_election.c    ticks, timeouts, campaigns, votes
 *   raft_replicate.c   leader side: appends, heartbeats, snapshots, commit
 *   raft_follow.c      follower side: accepting appends, heartbeats, snapshots
 *   raft_client.c      proposals, membership changes, leadership transfer
 *   raft_read.c        ReadIndex
 *   raft_output.c      building the update
 *   raft_memlog.c      in-memory log          raft_progress.c  follower progress
 *   raft_membership.c  voters, configuration history and entry format
 *   raft_trace.c       decision lines for logs and trace-pinned tests */
#ifndef CC_CORE_RAFT_RAFT_STATE_H
#define CC_CORE_RAFT_RAFT_STATE_H

#include "core/raft/raft.h"
#include "core/raft/raft_memlog.h"
#include "core/raft/raft_membership.h"
#include "core/raft/raft_progress.h"

/* A ReadIndex request the leader holds until a quorum confirms it. */
struct cc_raft_pending_read {
    uint64_t ctx;
    uint64_t seq;        /* heartbeat round that confirms it; 0: not started */
    cc_raft_index index; /* commit when it started */
};

/* Messages queued in one step, with where each APPEND's entries start in
 * the entry pool (the pool may move while it grows). */
struct cc_raft_msgq {
    struct cc_raft_msg *m;
    size_t *off;
    size_t n, cap;
};

/* The update under construction, reused from step to step. */
struct cc_raft_out {
    struct cc_raft_update u;
    struct cc_raft_msgq now, after;
    struct cc_raft_entry *ents; /* message entries, then persist entries */
    size_t n_ents, cap_ents;
    struct cc_raft_buf **pins; /* payloads referenced until the next step */
    size_t n_pins, cap_pins;
    struct cc_raft_read *reads;
    size_t n_reads, cap_reads;
    cc_raft_index persist_from;  /* lowest index appended this step; 0: none */
    cc_raft_index truncate_from; /* lowest index truncated this step; 0: none */
    bool install;                /* a received snapshot must be installed */
    struct cc_raft_snapshot_meta install_meta;
    int err; /* first allocation failure while building */
};

struct cc_raft {
    cc_raft_id id;
    struct cc_raft_config cfg;
    uint64_t rng;

    /* Hard state, and the copy last handed out to persist. */
    cc_raft_term term;
    cc_raft_id vote;
    cc_raft_index commit;
    struct cc_raft_hard_state saved;

    enum cc_raft_role role;
    cc_raft_id leader;
    unsigned election_elapsed;  /* ticks since the leader was heard (or, leader: since a check) */
    unsigned heartbeat_elapsed; /* leader */
    unsigned timeout;           /* randomised election timeout, [e, 2e) */

    struct cc_raft_memlog log;
    struct cc_raft_confs confs;
    struct cc_raft_snapshot_meta snap; /* latest local snapshot */
    cc_raft_index persisted;           /* local log durable up to here */
    cc_raft_index applied;             /* reported by the embedder */
    cc_raft_index apply_emitted;       /* handed out for applying */
    bool snapshot_asked;

    /* Candidate: who answered. */
    struct cc_raft_membership granted, rejected;

    /* Leader. */
    struct cc_raft_progress pr[CC_RAFT_MAX_MEMBERS];
    unsigned n_pr;
    cc_raft_index noop_index; /* first entry of this leadership */
    cc_raft_id transferee;
    uint64_t read_seq;
    struct cc_raft_pending_read *reads;
    size_t n_reads, cap_reads;
    bool fetching; /* a fetch is out; one at a time */

    struct cc_raft_out out;
};

/* raft_trace.c */
void cc_raft_tracef(const struct cc_raft *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define CC_RAFT_TRACING(r) ((r)->cfg.trace != NULL)

/* raft.c */
const struct cc_raft_membership *cc_raft_voters(const struct cc_raft *r);
bool cc_raft_is_voter(const struct cc_raft *r);
cc_raft_term cc_raft_last_term(const struct cc_raft *r);

/* raft_role.c */
void cc_raft_become_follower(struct cc_raft *r, cc_raft_term term, cc_raft_id leader);
void cc_raft_become_precandidate(struct cc_raft *r);
void cc_raft_become_candidate(struct cc_raft *r);
int cc_raft_become_leader(struct cc_raft *r);
void cc_raft_reset_timeout(struct cc_raft *r);
/* Rebuilds the leader's progress set after the configuration changed. */
int cc_raft_sync_progress(struct cc_raft *r);
struct cc_raft_progress *cc_raft_progress_of(struct cc_raft *r, cc_raft_id id);

/* raft_election.c */
int cc_raft_tick(struct cc_raft *r);
bool cc_raft_may_campaign(const struct cc_raft *r);
int cc_raft_campaign(struct cc_raft *r, bool pre, bool transfer);
int cc_raft_recv_vote(struct cc_raft *r, const struct cc_raft_msg *m);
int cc_raft_recv_vote_resp(struct cc_raft *r, const struct cc_raft_msg *m);
/* A leader was heard within the election timeout (with check-quorum):
 * vote requests are then ignored as disruptive. */
bool cc_raft_in_lease(const struct cc_raft *r);

/* raft_recv.c */
int cc_raft_recv(struct cc_raft *r, const struct cc_raft_msg *m);

/* raft_replicate.c */
int cc_raft_send_append(struct cc_raft *r, struct cc_raft_progress *pr);
int cc_raft_bcast_append(struct cc_raft *r);
int cc_raft_bcast_heartbeat(struct cc_raft *r);
int cc_raft_maybe_commit(struct cc_raft *r);
int cc_raft_recv_append_resp(struct cc_raft *r, const struct cc_raft_msg *m);
int cc_raft_recv_heartbeat_resp(struct cc_raft *r, const struct cc_raft_msg *m);
int cc_raft_recv_snapshot_resp(struct cc_raft *r, const struct cc_raft_msg *m);
int cc_raft_snapshot_status(struct cc_raft *r, cc_raft_id peer, bool ok);
int cc_raft_entries_loaded(struct cc_raft *r, const struct cc_raft_entry *e, size_t n);
/* Check-quorum: did a majority of voters (self included) answer since the
 * last call? Starts a new round. */
bool cc_raft_quorum_active(struct cc_raft *r);
/* Appends one entry to the local log (leader or follower), applying a
 * configuration entry at once. 0, CC_RAFT_ENOMEM or CC_RAFT_ECORRUPT. */
int cc_raft_append_local(struct cc_raft *r, cc_raft_term term, enum cc_raft_entry_type type,
                         const void *data, size_t len);
/* Drops the local log from index on (a conflict), rolling back
 * configuration entries. */
void cc_raft_truncate_local(struct cc_raft *r, cc_raft_index from);

/* raft_follow.c */
int cc_raft_recv_append(struct cc_raft *r, const struct cc_raft_msg *m);
int cc_raft_recv_heartbeat(struct cc_raft *r, const struct cc_raft_msg *m);
int cc_raft_recv_snapshot(struct cc_raft *r, const struct cc_raft_msg *m);

/* raft_client.c */
int cc_raft_propose(struct cc_raft *r, const struct cc_raft_proposal *items, size_t n);
int cc_raft_conf_change(struct cc_raft *r, enum cc_raft_conf_op op, cc_raft_id node,
                        const void *ctx, size_t ctx_len);
int cc_raft_transfer(struct cc_raft *r, cc_raft_id target);
int cc_raft_transfer_progress(struct cc_raft *r, struct cc_raft_progress *pr);
void cc_raft_abort_transfer(struct cc_raft *r, const char *why);

/* raft_read.c */
int cc_raft_read_index(struct cc_raft *r, uint64_t ctx);
int cc_raft_reads_start(struct cc_raft *r);
int cc_raft_reads_confirm(struct cc_raft *r);
void cc_raft_reads_fail(struct cc_raft *r);

/* raft_output.c */
void cc_raft_out_begin(struct cc_raft *r);
void cc_raft_out_finish(struct cc_raft *r);
void cc_raft_out_free(struct cc_raft *r);
/* Queues m; an APPEND's entries are n_entries entries at ent_off in the
 * pool (see cc_raft_out_entries). Messages from a leader go out at once,
 * others after persisting. */
int cc_raft_send(struct cc_raft *r, struct cc_raft_msg *m, size_t ent_off);
int cc_raft_out_read(struct cc_raft *r, uint64_t ctx, int err, cc_raft_index index);
/* Reserves room for n entries in the message entry pool. */
struct cc_raft_entry *cc_raft_out_entries(struct cc_raft *r, size_t n, size_t *off);
int cc_raft_out_pin(struct cc_raft *r, struct cc_raft_buf *b);
void cc_raft_out_appended(struct cc_raft *r, cc_raft_index index);

#endif

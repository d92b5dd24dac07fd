/* The raft consensus core: a pure state machine.
 *
 * No sockets, no disk, no clock, no randomness of its own. The embedder (the
 * consensus worker, or tests/sim) feeds it one event at a time with
 * cc_raft_step() and carries out the update it returns:
 *
 *   1. persist: snapshot (if any), then delete stored entries from
 *      entries[0].index on and write entries, and the hard state if it
 *      changed - as one durable unit (one BDB transaction);
 *   2. send `send` at once (a leader's traffic: thesis §10.2.1 lets it
 *      write its own log in parallel with replicating it, once its term is
 *      durable);
 *   3. send `send_after_persist` only once everything persisted by this and
 *      every earlier update is durable (votes, acks: they promise state);
 *   4. then step CC_RAFT_EVENT_PERSISTED with persist_index/persist_term;
 *   5. apply entries apply_from..apply_to from the stored log, in order, then
 *      step CC_RAFT_EVENT_APPLIED;
 *   6. answer reads, load entries asked for by fetch_from..fetch_to, take a
 *      snapshot when want_snapshot is set, trim the stored log to compact_to.
 *
 * Persisting happens in update order (FIFO); PERSISTED events come back in
 * that order too. Everything an update points to stays valid until the next
 * cc_raft_step() or cc_raft_free() on the same core.
 *
 * The core counts on the embedder to close every loop it opens: each fetch
 * is answered with ENTRIES_LOADED (fewer entries, or none, is fine), each
 * SNAPSHOT message sent ends with a SNAPSHOT_STATUS for that peer (else the
 * leader keeps waiting for it), and a member that applies its own removal
 * shuts down - its peers should refuse a removed member's messages, as
 * etcd's do, since one that missed its removal would campaign forever.
 *
 * Membership changes are single-server (add or remove one voter) and take
 * effect when the entry is appended, not when committed, as in Ongaro's
 * thesis §4.1: a server always uses the latest configuration in its log. This
 * is what the single-server safety argument is proven for, it needs no extra
 * round trip, and it lets a leader that removes itself keep leading until the
 * removal commits. The cost is that a truncated configuration entry must roll
 * back, so the core remembers each configuration entry above the snapshot.
 * Only one change is in flight at a time, and only after the leader committed
 * an entry of its own term (the 2015 single-server-change fix). A member
 * removed by an entry not yet known committed may still campaign (thesis
 * §4.2.2): the others may need it to commit that very entry.
 *
 * After CC_RAFT_ENOMEM the core may be half-way through an event: free it and
 * start a new one from durable state (safety rests only on what was
 * persisted). */
#ifndef CC_CORE_RAFT_RAFT_H
#define CC_CORE_RAFT_RAFT_H

#include "core/raft/raft_msg.h"

enum cc_raft_err {
    CC_RAFT_OK = 0,
    CC_RAFT_ENOTLEADER = 1, /* the update's leader field names whom to forward to (0: unknown) */
    CC_RAFT_EBUSY = 2,      /* a membership change or leadership transfer is under way */
    CC_RAFT_EINVAL = 3,     /* event or restored state makes no sense; nothing changed */
    CC_RAFT_ENOMEM = 4,     /* see above: restart the core from durable state */
    CC_RAFT_ECORRUPT = 5,   /* a configuration entry could not be decoded; message dropped */
};

const char *cc_raft_strerror(int err);

enum cc_raft_role {
    CC_RAFT_FOLLOWER = 1,
    CC_RAFT_PRECANDIDATE, /* running a pre-vote; term not yet bumped */
    CC_RAFT_CANDIDATE,
    CC_RAFT_LEADER,
};

const char *cc_raft_role_name(enum cc_raft_role role);

struct cc_raft_config {
    unsigned election_ticks;    /* follower timeout drawn from [e, 2e) ticks; leader lease */
    unsigned heartbeat_ticks;   /* < election_ticks */
    unsigned max_inflight_msgs; /* unacknowledged appends per follower when pipelining */
    unsigned max_msg_entries;   /* entries per append */
    size_t max_msg_bytes;       /* payload bytes per append (one entry always fits) */
    bool pre_vote;              /* run a pre-vote before bumping the term */
    bool check_quorum;          /* leader steps down without a majority for a timeout */
    /* want_snapshot is raised when applied - snapshot index reaches this;
     * 0 never raises it. */
    cc_raft_index snapshot_threshold;
    /* Entries kept below a new snapshot, so a follower slightly behind gets
     * entries rather than a whole snapshot. */
    cc_raft_index snapshot_trailing;
    /* Entry payloads kept in memory for sending; applied ones beyond this are
     * dropped oldest first and fetched back through fetch_from/fetch_to.
     * 0 means 64 MiB. */
    size_t max_cache_bytes;
    /* Optional: one line per decision, for logs and trace-pinned tests. The
     * core formats nothing when it is NULL. */
    void (*trace)(void *ctx, cc_raft_id self, const char *line);
    void *trace_ctx;
};

/* Sensible defaults (etcd-like), trace off. */
void cc_raft_config_default(struct cc_raft_config *cfg);

struct cc_raft_hard_state {
    cc_raft_term term;
    cc_raft_id vote;
    cc_raft_index commit;
};

/* Entries from `index` up to the next run's index (or the log's end) have
 * `term`: terms change rarely, so a restart hands over a few runs instead of
 * one term per entry. */
struct cc_raft_term_run {
    cc_raft_index index;
    cc_raft_term term;
};

/* A configuration entry in the stored log and the voters it makes. */
struct cc_raft_conf_point {
    cc_raft_index index;
    struct cc_raft_membership membership;
};

/* Durable state a core starts from. All zero (with bootstrap voters in
 * snapshot.membership) is a brand-new member. A member joining an existing
 * cluster starts with no voters at all: it stays passive (never campaigns)
 * until it learns the configuration from the leader. */
struct cc_raft_restore {
    struct cc_raft_hard_state hard_state;
    /* The latest durable snapshot; index 0 = none, and then membership is the
     * bootstrap membership. */
    struct cc_raft_snapshot_meta snapshot;
    cc_raft_index applied;   /* durable applied index of the state machine (>= snapshot) */
    cc_raft_index log_first; /* first stored entry; may be below snapshot.index + 1 */
    cc_raft_term prev_term;  /* term of entry log_first - 1 (snapshot.term if that is it) */
    cc_raft_index log_last;  /* log_first - 1 when the log is empty */
    const struct cc_raft_term_run *terms; /* ascending; first run at log_first */
    size_t n_terms;
    /* Configuration entries stored above snapshot.index, ascending. */
    const struct cc_raft_conf_point *confs;
    size_t n_confs;
};

enum cc_raft_event_type {
    CC_RAFT_EVENT_TICK = 1,        /* one logical tick */
    CC_RAFT_EVENT_RECEIVE,         /* a message from a peer */
    CC_RAFT_EVENT_PROPOSE,         /* append client requests (leader only) */
    CC_RAFT_EVENT_CONF_CHANGE,     /* add or remove one voter (leader only) */
    CC_RAFT_EVENT_PERSISTED,       /* the embedder made an update durable */
    CC_RAFT_EVENT_APPLIED,         /* the state machine applied up to an index */
    CC_RAFT_EVENT_SNAPSHOT_TAKEN,  /* a durable local snapshot exists up to an index */
    CC_RAFT_EVENT_SNAPSHOT_STATUS, /* how sending a snapshot to a peer ended */
    CC_RAFT_EVENT_ENTRIES_LOADED,  /* entries read back after fetch_from/fetch_to */
    CC_RAFT_EVENT_READ_INDEX,      /* linearizable read without a log write */
    CC_RAFT_EVENT_TRANSFER,        /* hand leadership to a peer (graceful stop) */
};

struct cc_raft_proposal {
    const void *data;
    size_t len;
};

enum cc_raft_conf_op {
    CC_RAFT_CONF_ADD = 1,
    CC_RAFT_CONF_REMOVE = 2,
};

struct cc_raft_event {
    enum cc_raft_event_type type;
    union {
        struct {
            const struct cc_raft_msg *msg; /* entries valid during the step only */
        } receive;
        struct {
            /* Several at once so one append carries the whole batch; they
             * get consecutive indexes from update->result.index. */
            const struct cc_raft_proposal *items;
            size_t n;
            uint64_t ref; /* embedder's client reference, echoed in result.ref */
        } propose;
        struct {
            enum cc_raft_conf_op op;
            cc_raft_id node;
            const void *context; /* embedder's member record (peer URLs...), stored in the entry */
            size_t context_len;
            uint64_t ref; /* echoed in result.ref */
        } conf_change;
        struct {
            cc_raft_index index; /* the update's persist_index */
            cc_raft_term term;   /* the update's persist_term */
        } persisted;
        struct {
            cc_raft_index index;
        } applied;
        struct {
            cc_raft_index index; /* <= applied; see cc_raft_snapshot_meta_at() */
        } snapshot_taken;
        struct {
            cc_raft_id peer;
            bool ok; /* false: the transfer failed, the peer did not get it */
        } snapshot_status;
        struct {
            const struct cc_raft_entry *entries; /* ascending; may be fewer than asked */
            size_t n;
        } entries_loaded;
        struct {
            uint64_t ctx; /* embedder's id for this read, echoed in the answer */
        } read_index;
        struct {
            cc_raft_id target; /* 0: the most up-to-date voter */
        } transfer;
    };
};

/* Answer to a ReadIndex request: once the state machine applied `index`, a
 * read sees every write acknowledged before the request was made. */
struct cc_raft_read {
    uint64_t ctx;
    int err; /* CC_RAFT_OK, or CC_RAFT_ENOTLEADER: leadership was lost, retry */
    cc_raft_index index;
};

/* What the embedder must do after one step; see the top of this file. */
struct cc_raft_update {
    /* The event's own answer. err is what cc_raft_step() returned; on
     * CC_RAFT_ENOTLEADER, `leader` below names whom to forward to. For
     * PROPOSE and CONF_CHANGE: the first index and the term given to the
     * new entries (the client's write succeeded if that index is applied
     * with that term), and the event's ref. For TRANSFER: the target
     * chosen. */
    struct {
        int err;
        cc_raft_index index;
        cc_raft_term term;
        uint64_t ref;
        cc_raft_id target;
    } result;

    /* 1. Persist, in this order, as one durable unit. hard_state_changed
     * means term or vote changed and must be durable with this update.
     * hard_state.commit is always current but need not be written at any
     * particular time: a restart with an older commit index is safe (the
     * leader tells it again, and the applied index is a floor). */
    bool hard_state_changed;
    struct cc_raft_hard_state hard_state;
    /* Install the snapshot received with the last SNAPSHOT message: it
     * replaces the state machine and the whole stored log. */
    const struct cc_raft_snapshot_meta *snapshot;
    /* Delete stored entries with index >= entries[0].index, then write.
     * truncate_from is that index when it replaces entries handed out for
     * persisting earlier (a conflict), 0 when this only appends. */
    const struct cc_raft_entry *entries;
    size_t n_entries;
    cc_raft_index truncate_from;
    /* Echo these in CC_RAFT_EVENT_PERSISTED once the above is durable
     * (index 0: nothing to echo). */
    cc_raft_index persist_index;
    cc_raft_term persist_term;

    /* 2./3. Messages; entries inside them stay valid until the next step. */
    const struct cc_raft_msg *send;
    size_t n_send;
    const struct cc_raft_msg *send_after_persist;
    size_t n_send_after_persist;

    /* 5. Committed and locally durable: apply [apply_from, apply_to]
     * (0, 0: nothing new). Configuration entries are applied too (the
     * embedder updates its member list from cc_raft_conf_decode()). */
    cc_raft_index apply_from, apply_to;

    /* 6. Reads that can be answered once applied >= their index. */
    const struct cc_raft_read *reads;
    size_t n_reads;
    /* Load entries [fetch_from, fetch_to] from the stored log and step
     * CC_RAFT_EVENT_ENTRIES_LOADED (0, 0: none). The core no longer holds
     * their payloads but a follower needs them. */
    cc_raft_index fetch_from, fetch_to;
    bool want_snapshot;       /* applied is far past the last snapshot */
    cc_raft_index compact_to; /* stored entries <= this may be deleted (0: no change) */

    /* Where the node stands after the step. */
    enum cc_raft_role role;
    bool role_changed;
    cc_raft_term term;
    cc_raft_id leader; /* 0: unknown */
    bool leader_changed;
    cc_raft_index commit;
};

struct cc_raft;

/* Creates a core for member `self` from its durable state. seed drives the
 * election timeout PRNG, so a given seed and event sequence always gives the
 * same outputs. Returns 0, CC_RAFT_EINVAL (bad config/restore) or
 * CC_RAFT_ENOMEM. Nothing is output until the first step (a tick is fine). */
int cc_raft_new(struct cc_raft **out, cc_raft_id self, const struct cc_raft_config *cfg,
                uint64_t seed, const struct cc_raft_restore *restore);
void cc_raft_free(struct cc_raft *r);

/* Feeds one event. *out (never NULL when the core is not NULL) is filled even
 * on error. Returns a cc_raft_err. */
int cc_raft_step(struct cc_raft *r, const struct cc_raft_event *ev,
                 const struct cc_raft_update **out);

/* Read-only views; they never change state. */
cc_raft_id cc_raft_self(const struct cc_raft *r);
enum cc_raft_role cc_raft_role(const struct cc_raft *r);
cc_raft_term cc_raft_current_term(const struct cc_raft *r);
cc_raft_id cc_raft_leader(const struct cc_raft *r);
cc_raft_index cc_raft_commit(const struct cc_raft *r);
cc_raft_index cc_raft_applied(const struct cc_raft *r);
cc_raft_index cc_raft_last_index(const struct cc_raft *r);
/* Term of the entry at index if the in-memory log knows it (the snapshot
 * point included). */
bool cc_raft_log_term(const struct cc_raft *r, cc_raft_index index, cc_raft_term *term);
/* The entry at index if its payload is in memory (not compacted, not
 * evicted from the cache): *e points into the core's log and is valid until
 * the next cc_raft_step(). */
bool cc_raft_entry_at(const struct cc_raft *r, cc_raft_index index, struct cc_raft_entry *e);
const struct cc_raft_membership *cc_raft_membership(const struct cc_raft *r);
/* The voters in effect at index (from the snapshot point to the last
 * entry; NULL outside), committed or not. */
const struct cc_raft_membership *cc_raft_membership_at(const struct cc_raft *r,
                                                       cc_raft_index index);
/* Metadata for a snapshot at index (snapshot <= index <= commit), to store
 * with the snapshot's bytes before stepping SNAPSHOT_TAKEN. */
int cc_raft_snapshot_meta_at(const struct cc_raft *r, cc_raft_index index,
                             struct cc_raft_snapshot_meta *meta);

/* For the admin socket: one row per peer the leader replicates to. */
struct cc_raft_peer_status {
    cc_raft_id id;
    cc_raft_index match, next;
    const char *state; /* "probe", "replicate", "snapshot" */
    bool recent_active;
};
/* Fills up to max rows (leader only; 0 otherwise); returns the count. */
unsigned cc_raft_peer_status(const struct cc_raft *r, struct cc_raft_peer_status *rows,
                             unsigned max);

/* Membership sets. */
bool cc_raft_membership_contains(const struct cc_raft_membership *m, cc_raft_id id);

/* Configuration entry payloads: the new voter set plus the embedder's context
 * for the member concerned. encode returns the bytes needed (write nothing
 * when cap is too small); decode returns 0 or CC_RAFT_ECORRUPT, with context
 * pointing into data. */
struct cc_raft_conf {
    enum cc_raft_conf_op op;
    cc_raft_id node;
    struct cc_raft_membership membership; /* voters after the change */
    const void *context;
    size_t context_len;
};
size_t cc_raft_conf_encode(const struct cc_raft_conf *conf, void *buf, size_t cap);
int cc_raft_conf_decode(const void *data, size_t len, struct cc_raft_conf *conf);

#endif

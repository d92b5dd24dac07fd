/* The raft core's vocabulary: ids, entries, membership, snapshot metadata and
 * the messages members exchange. Plain C structs with no behaviour, so the
 * peer wire codec (proto/) can map them field by field and the simulator can
 * copy them around. Nothing here allocates. */
#ifndef CC_CORE_RAFT_RAFT_MSG_H
#define CC_CORE_RAFT_RAFT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t cc_raft_id;    /* member id; 0 means "none" */
typedef uint64_t cc_raft_term;  /* 0 only before the first election */
typedef uint64_t cc_raft_index; /* log index; entries start at 1 */

/* A fixed bound keeps membership inside messages and snapshot metadata
 * without allocation; etcd recommends 3..7 voters, so 16 is ample. */
#define CC_RAFT_MAX_MEMBERS 16

/* The voters of one configuration, ids ascending and unique. */
struct cc_raft_membership {
    unsigned n;
    cc_raft_id ids[CC_RAFT_MAX_MEMBERS];
};

/* Numbered like the storage worker's entry kinds (NORMAL 0, NOOP 1). */
enum cc_raft_entry_type {
    CC_RAFT_ENTRY_NORMAL = 0, /* opaque client request */
    CC_RAFT_ENTRY_NOOP = 1,   /* appended by each new leader; empty */
    CC_RAFT_ENTRY_CONF = 2,   /* membership change, see cc_raft_conf_decode() */
};

/* One log entry. data points at memory owned by whoever produced the entry
 * (the core for outputs, the embedder for inputs) and is only valid for the
 * lifetime documented where the entry appears. */
struct cc_raft_entry {
    cc_raft_index index;
    cc_raft_term term;
    enum cc_raft_entry_type type;
    const void *data;
    size_t len;
};

/* What a snapshot covers. The snapshot's bytes are the embedder's business;
 * the core only needs where it ends and which voters were in effect there. */
struct cc_raft_snapshot_meta {
    cc_raft_index index; /* 0: no snapshot */
    cc_raft_term term;
    struct cc_raft_membership membership;
};

enum cc_raft_msg_type {
    CC_RAFT_MSG_PREVOTE = 1,  /* "would you vote for me at term+1?"; changes no state */
    CC_RAFT_MSG_PREVOTE_RESP, /* answer; term is the asked term when granted */
    CC_RAFT_MSG_VOTE,         /* RequestVote */
    CC_RAFT_MSG_VOTE_RESP,    /* RequestVote result */
    CC_RAFT_MSG_APPEND,       /* AppendEntries with entries (or none, to probe/carry commit) */
    CC_RAFT_MSG_APPEND_RESP,  /* AppendEntries result */
    CC_RAFT_MSG_HEARTBEAT,    /* leader liveness, commit and ReadIndex confirmation */
    CC_RAFT_MSG_HEARTBEAT_RESP,
    CC_RAFT_MSG_SNAPSHOT,      /* InstallSnapshot: metadata here, bytes streamed by the embedder */
    CC_RAFT_MSG_SNAPSHOT_RESP, /* the follower installed (or already had) the snapshot */
    CC_RAFT_MSG_TIMEOUT_NOW,   /* leadership transfer: start an election at once */
};
#define CC_RAFT_MSG_TYPE_MAX CC_RAFT_MSG_TIMEOUT_NOW

struct cc_raft_msg {
    enum cc_raft_msg_type type;
    cc_raft_id from, to;
    cc_raft_term term; /* sender's term (for PREVOTE: the term it would campaign in) */
    union {
        struct { /* PREVOTE, VOTE */
            cc_raft_index last_index;
            cc_raft_term last_term;
            /* Sent because of TIMEOUT_NOW: voters must not ignore it on the
             * ground that they heard from a leader recently. */
            bool transfer;
        } vote;
        struct { /* PREVOTE_RESP, VOTE_RESP */
            bool granted;
        } vote_resp;
        struct { /* APPEND */
            cc_raft_index prev_index;
            cc_raft_term prev_term;
            cc_raft_index commit;
            const struct cc_raft_entry *entries;
            size_t n_entries;
            /* No answer wanted if it is accepted: an empty append that only
             * carries a new commit index to a follower known to match up to
             * prev_index (its answer would tell the leader nothing). A
             * rejection is still answered. */
            bool quiet;
        } append;
        struct { /* APPEND_RESP */
            bool reject;
            /* Accepted: last index known to match the leader's log.
             * Rejected: the prev_index that did not match. */
            cc_raft_index index;
            /* Rejected only: the follower's guess of the last index that can
             * match, with its term there, so the leader skips whole terms
             * instead of walking back one entry per round trip. */
            cc_raft_index hint_index;
            cc_raft_term hint_term;
        } append_resp;
        struct {                  /* HEARTBEAT */
            cc_raft_index commit; /* never above what this follower matched */
            uint64_t read_seq;    /* ReadIndex round this heartbeat confirms */
        } heartbeat;
        struct {               /* HEARTBEAT_RESP */
            uint64_t read_seq; /* echoed */
        } heartbeat_resp;
        struct { /* SNAPSHOT */
            struct cc_raft_snapshot_meta meta;
        } snapshot;
        struct {                 /* SNAPSHOT_RESP */
            cc_raft_index index; /* the follower's log now matches up to here */
        } snapshot_resp;
    };
};

/* Human-readable name of a message type ("append", "vote resp", ...). */
const char *cc_raft_msg_type_name(enum cc_raft_msg_type type);

#endif

/* The consensus worker's state, shared by its two halves:
 *   consensus_worker.c  the worker: links, timers, client proposals,
 *                       forwarding to the leader, health and status;
 *   consensus_driver.c  drives the raft core (core/raft): steps events and
 *                       carries out each update - persisting through the
 *                       storage worker, sending through the peer worker,
 *                       applying, snapshots in both directions.
 *
 * Raft entry payloads: a NORMAL entry's data is [u64 origin][u64 req_id]
 * followed by the encoded v2 request (origin is the member whose http worker
 * waits for the result, req_id its request; both 0 for internal writes).
 * The storage worker keeps them apart in its `entry` records. NOOP entries
 * are empty and CONF entries hold cc_raft_conf_encode() bytes. */
#ifndef CC_CORE_CONSENSUS_CONSENSUS_H
#define CC_CORE_CONSENSUS_CONSENSUS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/cluster_ids.h"
#include "core/consensus/follower_stats.h"
#include "core/raft/raft.h"
#include "core/worker.h"
#include "proto/msg.h"

#define CC_ENTRY_HEADER 16 /* origin + req_id in a NORMAL entry's data */

/* The header of a NORMAL entry's data: origin, then req_id, little-endian. */
static inline void cc_entry_header_put(uint8_t out[CC_ENTRY_HEADER], uint64_t origin,
                                       uint64_t req_id)
{
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(origin >> (8 * i));
        out[8 + i] = (uint8_t)(req_id >> (8 * i));
    }
}

static inline void cc_entry_header_get(const uint8_t *p, uint64_t *origin, uint64_t *req_id)
{
    *origin = *req_id = 0;
    for (int i = 7; i >= 0; i--) {
        *origin = *origin << 8 | p[i];
        *req_id = *req_id << 8 | p[8 + i];
    }
}

/* An update whose persisting is under way: what to do once storage says
 * APPENDs up to seq are durable. */
struct cc_pending_persist {
    uint64_t seq;
    cc_raft_index index; /* persist_index to echo, 0: none */
    cc_raft_term term;
    struct cc_buf frames; /* send_after_persist, encoded RAFT frames */
    uint32_t n_frames;
};

struct cc_remote_read {
    cc_raft_id from;
    uint64_t ctx;
};
struct cc_read_round;

struct consensus {
    struct cc_worker *w;
    struct cc_cluster_def id;
    struct cc_raft_config rcfg;
    struct cc_raft *raft; /* NULL until storage told the durable state */

    /* persisting */
    uint64_t seq; /* last APPEND/INSTALL sequence number sent */
    struct cc_pending_persist *pend;
    size_t n_pend, cap_pend;
    cc_raft_index apply_sent;  /* highest apply_to handed over (http, storage) */
    cc_raft_index commit_told; /* highest commit index storage was sent */
    cc_raft_index applied;     /* committed entries handed to the state machine */
    cc_raft_index http_sent;   /* highest committed entry handed to http */
    /* the durable snapshot as stepped into the core, and a request for a
     * new one (SNAPSHOT_MAKE) not yet answered */
    cc_raft_index snapshot_index;
    bool snap_wanted;
    double snap_asked_at;

    /* proposals collected during one loop turn, stepped as one batch */
    struct cc_buf batch; /* packed entry payloads, each u32 length + bytes */
    uint32_t n_batch;
    struct event *batch_ev;
    /* our http worker's proposals handed to a leader (us or another) and
     * maybe not committed yet: failed at once when that leader goes */
    struct cc_routed {
        uint64_t req_id;
        double at;
    } * routed;
    size_t n_routed, cap_routed;
    /* proposals from our http worker while no leader is known */
    struct cc_buf waiting; /* u64 req_id, u32 len, bytes */
    uint32_t n_waiting;
    double waiting_since;

    /* leader: snapshots to send, one at a time through storage */
    cc_raft_id snap_queue[CC_RAFT_MAX_MEMBERS];
    unsigned n_snap_queue;
    cc_raft_id snap_to;     /* transfer in progress (chunks expected from storage) */
    bool snap_meta_sent;    /* its RAFT SNAPSHOT went out */
    cc_raft_index snap_idx; /* index of the chunks being forwarded */

    /* follower: a snapshot arriving from the leader */
    bool rx_active;
    struct cc_raft_msg rx_msg; /* the RAFT SNAPSHOT, stepped once all bytes are in */
    uint64_t rx_offset;

    /* linearizable reads (consensus_reads.c): collected this turn, then
     * rounds waiting for the core or the leader */
    uint64_t *rd_local;
    size_t n_rd_local;
    struct cc_remote_read *rd_remote;
    size_t n_rd_remote;
    struct cc_read_round *rounds;
    size_t n_rounds;
    uint64_t read_ctx;

    struct event *tick_ev, *sync_ev, *stop_ev, *commit_ev;
    bool published; /* our attributes were proposed since the last leader change */
    bool transferring;
    cc_raft_id leader;
    double leader_heard_at; /* last message from the leader (cc_now) */
    enum cc_raft_role role;
    cc_raft_term term;

    /* counters for status and /v2/stats */
    uint64_t proposals, forwarded, dropped, elections_seen;
    uint64_t msgs_sent, msgs_received, snapshots_sent, snapshots_received;
    uint64_t send_appends, recv_appends;
    struct cc_follower_stats fstats; /* as leader, since it became leader */
};

/* consensus_driver.c */
int cc_consensus_start_raft(struct consensus *c, const struct cc_msg_log_state *ls);
void cc_consensus_stop_raft(struct consensus *c);
/* Steps one event and carries out the update. Returns the step's error. */
int cc_consensus_step(struct consensus *c, const struct cc_raft_event *ev);
void cc_consensus_on_persisted(struct consensus *c, const struct cc_msg_persisted *p);
/* Asks http for a snapshot of its view; the tick asks again when no
 * snapshot came. */
void cc_consensus_ask_snapshot(struct consensus *c);
void cc_consensus_snapshot_tick(struct consensus *c);
/* Sends storage the commit index if no APPEND carried it yet. */
void cc_consensus_tell_commit(struct consensus *c);
void cc_consensus_on_entries(struct consensus *c, const struct cc_msg_entries *e);
void cc_consensus_on_peer_raft(struct consensus *c, const struct cc_msg *m);
void cc_consensus_on_peer_chunk(struct consensus *c, const struct cc_msg_snapshot_chunk_peer *ch);
void cc_consensus_on_storage_chunk(struct consensus *c, const struct cc_msg_snapshot_chunk *ch);

/* consensus_reads.c */
void cc_consensus_read_local(struct consensus *c, uint64_t req_id);
void cc_consensus_read_remote(struct consensus *c, const struct cc_msg_peer_read_index *m);
void cc_consensus_read_resp(struct consensus *c, const struct cc_msg_peer_read_index_resp *m);
void cc_consensus_reads_flush(struct consensus *c);
void cc_consensus_reads_answered(struct consensus *c, const struct cc_raft_read *reads, size_t n);
/* Answers rounds started before older_than (every round when <= 0) with
 * error 300. */
void cc_consensus_reads_fail(struct consensus *c, double older_than);
void cc_consensus_reads_free(struct consensus *c);

/* consensus_worker.c: whether a follower heard from its leader lately. */
bool cc_consensus_leader_alive(const struct consensus *c);
/* consensus_worker.c: called by the driver when the leader or role changed,
 * and when a message from the leader arrived. */
void cc_consensus_leader_changed(struct consensus *c);
void cc_consensus_leader_heard(struct consensus *c);

#endif

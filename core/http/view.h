/* The http worker's view of the store: the member's state machine, the
 * deterministic v2 store (core/v2/store.h) fed with committed raft entries
 * in index order. It is the only copy of the key tree the member keeps in
 * memory; storage keeps the raft log and a snapshot file of this view.
 *
 * Consensus sends each committed entry it still holds in memory as soon as
 * it is committed, and storage sends every committed entry read back from
 * the durable log a little later (APPLIED). The view applies each index
 * once, whichever copy comes first, so plain GETs and watches are served
 * from memory with no round trip (the DESIGN.md §2 read path), and each
 * write's result is computed here, for the client waiting for it, once a
 * majority has the entry durably. When the view starts, or sees a gap in
 * storage's stream (a message lost with a restarted worker), it asks
 * storage for what it misses (SYNC_REQ): the entries from its next index,
 * or the snapshot and the entries after it. A gap in consensus's stream
 * (entries its cache no longer held) waits for storage's copy.
 *
 * When consensus asks (SNAPSHOT_MAKE), the view is written out by a
 * forked child (core/http/snapshot_child.h) and handed to storage
 * (SNAPSHOT_SAVE), which makes it the durable snapshot. */
#ifndef CC_CORE_HTTP_VIEW_H
#define CC_CORE_HTTP_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "core/v2/store.h"
#include "proto/msg.h"

struct cc_link;

/* An applied entry this member proposed (origin == self): the result for
 * the request waiting on req_id. The result is borrowed for the call. */
typedef void (*cc_view_result_fn)(void *ctx, uint64_t req_id, uint64_t raft_index,
                                  struct cc_v2_result *res);
/* The view became ready (first sync done) or was replaced by a snapshot. */
typedef void (*cc_view_synced_fn)(void *ctx);

struct cc_view {
    struct cc_v2_store *store; /* NULL until the first sync */
    uint64_t raft_index, raft_term;
    /* Serving: the store is loaded and has applied what storage had
     * committed when it sent it (ready_index) and the read index consensus
     * gave after this process started (barrier_index, once known). Storage's
     * durable record of what is committed may lag the entries the previous
     * process acknowledged by a few milliseconds (consensus tells it with
     * the next append); the barrier keeps a restarted member from answering
     * with a value older than one it acknowledged. */
    bool ready;
    uint64_t ready_index;
    bool barrier_known;
    uint64_t barrier_index;
    uint64_t self_id;
    bool sync_pending; /* a SYNC_REQ is out */
    double sync_sent;  /* when (monotonic s) */
    struct cc_buf snap;
    uint64_t snap_index, snap_term;
    cc_view_result_fn on_result;
    cc_view_synced_fn on_synced;
    void *ctx;
    uint64_t applied_entries, syncs, snapshots;
    uint64_t applied_bytes; /* request bytes of the entries applied */
};

void cc_view_init(struct cc_view *v, uint64_t self_id, cc_view_result_fn on_result,
                  cc_view_synced_fn on_synced, void *ctx);
void cc_view_free(struct cc_view *v);
/* The view may answer reads: loaded, caught up with the log as it was when
 * storage sent the snapshot, and with the start-up barrier. */
bool cc_view_ready(const struct cc_view *v);

/* The read index of a ReadIndex round made after this process started:
 * the view serves once it has applied that far. */
void cc_view_set_barrier(struct cc_view *v, uint64_t index);
/* Asks storage for everything after what the view has. */
void cc_view_request_sync(struct cc_view *v, struct cc_link *storage);
/* Applies the next entries in order, skipping what the view has. Entries
 * come from storage (storage != NULL: a gap is asked for again) and, for
 * speed, straight from consensus (NULL: a gap waits for storage's copy). */
void cc_view_on_applied(struct cc_view *v, struct cc_link *storage, const struct cc_msg_applied *m);
void cc_view_on_snapshot_chunk(struct cc_view *v, const struct cc_msg_snapshot_chunk *m);
/* The FNV-1a 64 of the store's snapshot bytes at the view's index, to
 * compare members (equal stores give equal bytes). 0 or -1. */
int cc_view_hash(struct cc_view *v, uint64_t *index, uint64_t *hash);
/* Called periodically: a sync that went unanswered (its answer lost with a
 * restarting worker) is asked again. */
void cc_view_tick(struct cc_view *v, struct cc_link *storage);

#endif

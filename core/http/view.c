#include "core/http/view.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/worker.h"
#include "core/v2/errors.h"
#include "core/v2/request_codec.h"
#include "ipc/link.h"

void cc_view_init(struct cc_view *v, uint64_t self_id, cc_view_result_fn on_result,
                  cc_view_synced_fn on_synced, void *ctx)
{
    memset(v, 0, sizeof(*v));
    v->self_id = self_id;
    v->on_result = on_result;
    v->on_synced = on_synced;
    v->ctx = ctx;
    cc_buf_init(&v->snap);
}

void cc_view_free(struct cc_view *v)
{
    cc_v2_store_free(v->store);
    v->store = NULL;
    cc_buf_free(&v->snap);
}

bool cc_view_ready(const struct cc_view *v)
{
    return v->store != NULL && v->ready;
}

static void check_ready(struct cc_view *v)
{
    if (v->ready || v->store == NULL || v->raft_index < v->ready_index || !v->barrier_known ||
        v->raft_index < v->barrier_index)
        return;
    v->ready = true;
    cc_info("view ready: raft index %llu, store index %llu", (unsigned long long)v->raft_index,
            (unsigned long long)cc_v2_store_index(v->store));
    if (v->on_synced)
        v->on_synced(v->ctx);
}

void cc_view_set_barrier(struct cc_view *v, uint64_t index)
{
    if (v->barrier_known)
        return;
    v->barrier_known = true;
    v->barrier_index = index;
    cc_info("view: start-up read index %llu", (unsigned long long)index);
    check_ready(v);
}

void cc_view_request_sync(struct cc_view *v, struct cc_link *storage)
{
    if (storage == NULL)
        return;
    struct cc_msg m = {.type = CC_MSG_SYNC_REQ};
    /* 0 asks for a snapshot: the view has nothing yet. */
    m.u.sync_req.index = v->store ? v->raft_index + 1 : 0;
    if (cc_link_send(storage, &m) == 0) {
        v->sync_pending = true;
        v->sync_sent = cc_now();
        v->syncs++;
    }
}

/* Longer than any snapshot of a sane store takes to arrive. */
#define SYNC_RETRY_S 2.0

void cc_view_tick(struct cc_view *v, struct cc_link *storage)
{
    if (storage == NULL || !storage->up)
        return;
    /* Waiting for storage's entries, not for the start-up barrier (that
     * one waits for a leader, and asking storage again would not help). */
    bool stalled = v->sync_pending || (v->store != NULL && v->raft_index < v->ready_index);
    if ((stalled && cc_now() - v->sync_sent > SYNC_RETRY_S) ||
        (!v->sync_pending && v->store == NULL)) {
        cc_warn("view: no answer from storage to the sync request; asking again");
        cc_view_request_sync(v, storage);
    }
}

static void apply_entry(struct cc_view *v, const struct cc_entry *e)
{
    struct cc_v2_result res = {0};
    bool have = false;
    if (e->type == 0 && e->data.n > 0) {
        struct cc_v2_request req;
        if (cc_v2_request_decode(e->data.p, e->data.n, &req) == 0) {
            have = cc_v2_store_apply(v->store, &req, &res) == 0;
            cc_v2_request_free(&req);
        } else {
            cc_error("view: entry %llu holds an undecodable request; skipped",
                     (unsigned long long)e->index);
        }
    }
    v->raft_index = e->index;
    v->applied_entries++;
    v->applied_bytes += e->data.n;
    if (e->origin == v->self_id && e->req_id != 0 && v->on_result) {
        if (!have) {
            res.event = NULL;
            cc_v2_error_set(&res.err, CC_V2_E_RAFT_INTERNAL, "etcdserver: cannot apply the request",
                            0);
        }
        v->on_result(v->ctx, e->req_id, e->index, &res);
    }
    cc_v2_result_clear(&res);
}

void cc_view_on_applied(struct cc_view *v, struct cc_link *storage, const struct cc_msg_applied *m)
{
    if (v->store == NULL)
        return; /* entries before our snapshot; it will include them */
    v->raft_term = m->raft_term;
    struct cc_rd rd = cc_msg_list_reader(&m->entries);
    struct cc_entry e;
    while (cc_msg_entry_next(&rd, &e) > 0) {
        if (e.index <= v->raft_index)
            continue;
        if (e.index != v->raft_index + 1) {
            if (storage == NULL)
                return; /* consensus skipped what its cache lost: storage sends it */
            if (!v->sync_pending) {
                cc_warn("view: entry %llu after %llu; asking storage for the gap",
                        (unsigned long long)e.index, (unsigned long long)v->raft_index);
                cc_view_request_sync(v, storage);
            }
            return;
        }
        v->sync_pending = false;
        apply_entry(v, &e);
    }
    check_ready(v);
}

void cc_view_on_snapshot_chunk(struct cc_view *v, const struct cc_msg_snapshot_chunk *m)
{
    if (m->offset == 0) {
        cc_buf_reset(&v->snap);
        v->snap_index = m->index;
        v->snap_term = m->term;
    } else if (m->offset != v->snap.len || m->index != v->snap_index) {
        return; /* a chunk of another snapshot: wait for a whole one */
    }
    cc_put_raw(&v->snap, m->data.p, m->data.n);
    if (v->snap.len < m->total)
        return;
    if (v->store != NULL && v->snap_index < v->raft_index) {
        /* The view went ahead on entries from consensus while storage was
         * still behind: the older state would take reads back in time. */
        cc_info("view: snapshot at %llu ignored, the view is at %llu",
                (unsigned long long)v->snap_index, (unsigned long long)v->raft_index);
        cc_buf_reset(&v->snap);
        v->sync_pending = false;
        return;
    }
    struct cc_v2_store *s = NULL;
    if (v->snap.failed || cc_v2_store_snapshot_load(v->snap.data, v->snap.len, &s) != 0) {
        cc_error("view: the snapshot from storage does not load");
        cc_buf_reset(&v->snap);
        return;
    }
    cc_v2_store_free(v->store);
    v->store = s;
    v->raft_index = v->snap_index;
    v->raft_term = v->snap_term;
    v->sync_pending = false;
    v->snapshots++;
    cc_buf_reset(&v->snap);
    cc_info("view loaded: raft index %llu, store index %llu", (unsigned long long)v->raft_index,
            (unsigned long long)cc_v2_store_index(s));
    /* The committed entries after the snapshot follow in the same turn. */
    v->ready = false;
    v->ready_index = m->upto;
    check_ready(v);
}

int cc_view_hash(struct cc_view *v, uint64_t *index, uint64_t *hash)
{
    if (v->store == NULL)
        return -1;
    struct cc_buf b;
    cc_buf_init(&b);
    int r = cc_v2_store_snapshot_save(v->store, &b);
    if (r == 0 && !b.failed && b.len >= 8) {
        /* The snapshot ends with an FNV-1a 64 of everything before it. */
        struct cc_rd rd;
        cc_rd_init(&rd, b.data + b.len - 8, 8);
        *hash = cc_get_u64(&rd);
        *index = v->raft_index;
    } else {
        r = -1;
    }
    cc_buf_free(&b);
    return r;
}

/* The storage worker: the only process that opens the node's Berkeley DB
 * environment (core/storage/db.h).
 *
 * It makes the raft log durable and applies committed entries to the v2
 * store, both in ONE transaction per batch with one synchronous commit:
 * everything consensus sent during a loop turn (APPEND, COMMIT) is gathered
 * and written together, which is group commit for free (STACK.md: ~240 000
 * puts/s in batches against ~8 500/s with one synced transaction each).
 * Only after that commit does it tell consensus what is durable (PERSISTED)
 * and hand the applied entries to http (APPLIED), so nothing is acknowledged
 * before its log entry and its effect are on disk.
 *
 * The key tree is kept in memory (the same deterministic store the http
 * worker runs) and written through to nodes.db/ttl.db/history.db in the
 * apply transaction, with the applied index; on start it is loaded back, so
 * a restart replays nothing already applied. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/storage/db.h"
#include "core/storage/raft_log.h"
#include "core/storage/tree_store.h"
#include "core/worker.h"

int cc_storage_worker_main(struct cc_worker *w);

/* Entries kept in the log after they are applied, for a restarted http
 * worker to catch up from (and, with replication, lagging followers). */
#define LOG_KEEP_MIN 10000
/* A snapshot for http is sent in chunks well under the frame limit. */
#define SNAPSHOT_CHUNK (4u << 20)

struct storage {
    struct cc_worker *w;
    struct cc_db db;
    struct cc_tree_store tree;
    struct cc_hard_state hs;
    struct cc_log_bounds bounds;
    uint64_t applied, applied_term;
    uint64_t commit; /* highest commit index consensus told us */
    bool hs_dirty;
    struct cc_buf batch; /* entry records received this turn, in order */
    uint32_t batch_count;
    struct event *flush_ev;
    uint64_t txns, entries_written, entries_applied;
    uint64_t http_sync_from; /* 0: http in sync (or waiting for SYNC_REQ) */
    bool http_wants_sync;
};

static void schedule_flush(struct storage *s)
{
    event_active(s->flush_ev, EV_WRITE, 0);
}

static struct cc_link *link_to(struct storage *s, enum cc_kind k)
{
    return cc_worker_link(s->w, k);
}

/* Applies committed entries up to `upto` inside txn; their records are
 * appended to out (for http). Returns 0 or a BDB/apply error. */
static int apply_committed(struct storage *s, DB_TXN *txn, uint64_t upto, struct cc_buf *out,
                           uint32_t *count)
{
    struct cc_buf rec;
    cc_buf_init(&rec);
    int r = 0;
    for (uint64_t i = s->applied + 1; i <= upto; i++) {
        cc_buf_reset(&rec);
        r = cc_raftlog_read(&s->db, txn, i, &rec);
        if (r != 0) {
            cc_error("apply: entry %llu missing from the log: %s", (unsigned long long)i,
                     db_strerror(r));
            break;
        }
        struct cc_rd rd;
        cc_rd_init(&rd, rec.data, rec.len);
        struct cc_entry e;
        if (cc_msg_entry_next(&rd, &e) != 1) {
            cc_error("apply: entry %llu is corrupt", (unsigned long long)i);
            r = -1;
            break;
        }
        r = cc_tree_store_apply(&s->tree, txn, &e);
        if (r != 0)
            break;
        s->applied = i;
        s->applied_term = e.term;
        s->entries_applied++;
        cc_put_raw(out, rec.data, rec.len);
        (*count)++;
    }
    cc_buf_free(&rec);
    if (r == 0 && *count > 0)
        r = cc_raftlog_save_applied(&s->db, txn, s->applied, s->applied_term);
    return r;
}

static void send_applied(struct storage *s, const struct cc_buf *records, uint32_t count)
{
    struct cc_link *l = link_to(s, CC_KIND_HTTP);
    if (l == NULL || count == 0)
        return;
    struct cc_msg m = {.type = CC_MSG_APPLIED};
    m.u.applied.raft_term = s->hs.term;
    m.u.applied.entries = (struct cc_list){count, records->data, (uint32_t)records->len};
    cc_link_send(l, &m);
}

/* Keeps the log from growing without bound: entries well behind the applied
 * index go (the tree holds their effect). */
static int maybe_compact(struct storage *s, DB_TXN *txn)
{
    uint64_t keep =
        s->w->cfg.snapshot_count > LOG_KEEP_MIN ? s->w->cfg.snapshot_count : LOG_KEEP_MIN;
    if (s->applied < s->bounds.first_index + 2 * keep)
        return 0;
    return cc_raftlog_compact(&s->db, txn, &s->bounds, s->applied - keep);
}

/* One transaction for everything gathered this turn. A failure here leaves
 * nothing acknowledged; the worker exits and consensus resends to its
 * successor. */
static void flush(struct storage *s)
{
    uint64_t target = s->commit < s->bounds.last_index ? s->commit : s->bounds.last_index;
    bool new_entries = s->batch_count > 0;
    if (!new_entries && !s->hs_dirty && target <= s->applied)
        return;
    DB_TXN *txn = cc_db_begin(&s->db);
    if (txn == NULL)
        goto fatal;
    int r = 0;
    if (s->hs_dirty)
        r = cc_raftlog_save_hard_state(&s->db, txn, &s->hs);
    struct cc_rd rd;
    cc_rd_init(&rd, s->batch.data, s->batch.len);
    struct cc_entry e;
    for (uint32_t i = 0; r == 0 && i < s->batch_count && cc_msg_entry_next(&rd, &e) > 0; i++) {
        int a = cc_raftlog_append(&s->db, txn, &s->bounds, &e);
        if (a == 0)
            s->entries_written++;
        else if (a != 1) /* 1: already durable */
            r = a;
    }
    target = s->commit < s->bounds.last_index ? s->commit : s->bounds.last_index;
    struct cc_buf applied;
    cc_buf_init(&applied);
    uint32_t n_applied = 0;
    if (r == 0 && target > s->applied)
        r = apply_committed(s, txn, target, &applied, &n_applied);
    if (r == 0)
        r = maybe_compact(s, txn);
    if (r != 0) {
        cc_db_abort(txn);
        cc_buf_free(&applied);
        cc_error("write failed (%s); exiting so the batch is redone from consensus",
                 r > 0 ? db_strerror(r) : "apply error");
        goto fatal;
    }
    r = cc_db_commit(txn);
    if (r != 0) {
        cc_buf_free(&applied);
        cc_error("commit failed: %s", db_strerror(r));
        goto fatal;
    }
    s->txns++;
    s->hs_dirty = false;
    cc_buf_reset(&s->batch);
    s->batch_count = 0;
    struct cc_link *c = link_to(s, CC_KIND_CONSENSUS);
    if (c && new_entries) {
        struct cc_msg m = {.type = CC_MSG_PERSISTED};
        m.u.persisted.index = s->bounds.last_index;
        m.u.persisted.term = s->bounds.last_term;
        cc_link_send(c, &m);
    }
    send_applied(s, &applied, n_applied);
    cc_buf_free(&applied);
    return;
fatal:
    cc_worker_exit(s->w, 1);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    flush(arg);
}

static void send_log_state(struct storage *s, struct cc_link *l)
{
    flush(s);
    struct cc_msg m = {.type = CC_MSG_LOG_STATE};
    m.u.log_state.term = s->hs.term;
    m.u.log_state.vote = s->hs.vote;
    m.u.log_state.commit = s->hs.commit;
    m.u.log_state.applied = s->applied;
    m.u.log_state.first_index = s->bounds.first_index;
    m.u.log_state.last_index = s->bounds.last_index;
    m.u.log_state.last_term = s->bounds.last_term;
    cc_link_send(l, &m);
}

/* http (re)starts or lost track: send the entries it misses from the log, or
 * a snapshot of the store when they were compacted away. */
static void serve_sync(struct storage *s, struct cc_link *l, uint64_t from)
{
    flush(s);
    if (from >= s->bounds.first_index && from > 0) {
        struct cc_buf recs;
        cc_buf_init(&recs);
        uint32_t n = 0;
        for (uint64_t i = from; i <= s->applied; i++) {
            if (cc_raftlog_read(&s->db, NULL, i, &recs) != 0)
                break;
            n++;
            if (recs.len > SNAPSHOT_CHUNK || i == s->applied) {
                send_applied(s, &recs, n);
                cc_buf_reset(&recs);
                n = 0;
            }
        }
        cc_buf_free(&recs);
        return;
    }
    struct cc_buf snap;
    cc_buf_init(&snap);
    if (cc_tree_store_snapshot(&s->tree, &snap) != 0) {
        cc_error("cannot serialise the store for http");
        cc_buf_free(&snap);
        return;
    }
    for (size_t off = 0; off < snap.len || off == 0; off += SNAPSHOT_CHUNK) {
        size_t n = snap.len - off < SNAPSHOT_CHUNK ? snap.len - off : SNAPSHOT_CHUNK;
        struct cc_msg m = {.type = CC_MSG_SNAPSHOT_CHUNK};
        m.u.snapshot_chunk.index = s->applied;
        m.u.snapshot_chunk.term = s->applied_term;
        m.u.snapshot_chunk.offset = off;
        m.u.snapshot_chunk.total = snap.len;
        m.u.snapshot_chunk.data = (struct cc_bytes){snap.data + off, (uint32_t)n};
        cc_link_send(l, &m);
        if (snap.len == 0)
            break;
    }
    cc_buf_free(&snap);
}

static void on_link_msg(struct cc_worker *w, struct cc_link *l, const struct cc_msg *m)
{
    struct storage *s = w->state;
    switch (m->type) {
    case CC_MSG_APPEND: {
        const struct cc_msg_append *a = &m->u.append;
        if (a->term != s->hs.term || a->vote != s->hs.vote) {
            s->hs.term = a->term;
            s->hs.vote = a->vote;
            s->hs_dirty = true;
        }
        /* The records stay valid only while this message does: copy. */
        cc_put_raw(&s->batch, a->entries.p, a->entries.n);
        s->batch_count += a->entries.count;
        if (a->commit > s->commit)
            s->commit = a->commit;
        if (s->commit > s->hs.commit) {
            s->hs.commit = s->commit;
            s->hs_dirty = true;
        }
        schedule_flush(s);
        break;
    }
    case CC_MSG_COMMIT:
        if (m->u.commit.commit > s->commit) {
            s->commit = m->u.commit.commit;
            s->hs.commit = s->commit;
            s->hs_dirty = true;
            schedule_flush(s);
        }
        break;
    case CC_MSG_LOG_STATE_REQ:
        send_log_state(s, l);
        break;
    case CC_MSG_SYNC_REQ:
        serve_sync(s, l, m->u.sync_req.index);
        break;
    default:
        cc_debug("link %s: %s ignored", l->def->name, cc_msg_name(m->type));
    }
}

static void detail_json(struct cc_worker *w, char *buf, size_t len)
{
    struct storage *s = w->state;
    snprintf(buf, len,
             "{\"applied\":%llu,\"commit\":%llu,\"first_index\":%llu,\"last_index\":%llu,"
             "\"etcd_index\":%llu,\"txns\":%llu,\"entries_written\":%llu}",
             (unsigned long long)s->applied, (unsigned long long)s->commit,
             (unsigned long long)s->bounds.first_index, (unsigned long long)s->bounds.last_index,
             (unsigned long long)cc_tree_store_index(&s->tree), (unsigned long long)s->txns,
             (unsigned long long)s->entries_written);
}

static void on_stop(struct cc_worker *w, unsigned deadline_ms)
{
    /* Whatever arrived is made durable before the environment closes. */
    flush(w->state);
    cc_worker_exit(w, 0);
}

static void on_exit_hook(struct cc_worker *w)
{
    struct storage *s = w->state;
    if (s->flush_ev)
        event_free(s->flush_ev);
    cc_buf_free(&s->batch);
    cc_tree_store_close(&s->tree);
    cc_db_close(&s->db);
}

int cc_storage_worker_main(struct cc_worker *w)
{
    static struct storage s;
    s.w = w;
    w->state = &s;
    w->on_link_msg = on_link_msg;
    w->on_stop = on_stop;
    w->on_exit = on_exit_hook;
    w->detail_json = detail_json;
    cc_buf_init(&s.batch);
    s.flush_ev = event_new(w->base, -1, 0, on_flush, &s);
    char err[512];
    if (cc_db_open(&s.db, w->cfg.data_dir, err, sizeof(err)) != 0) {
        cc_error("%s", err);
        return 1;
    }
    int r = cc_raftlog_load(&s.db, &s.hs, &s.bounds, &s.applied, &s.applied_term);
    if (r != 0) {
        cc_error("cannot read the raft log state: %s", db_strerror(r));
        return 1;
    }
    s.commit = s.hs.commit;
    if (cc_tree_store_open(&s.tree, &s.db, err, sizeof(err)) != 0) {
        cc_error("%s", err);
        return 1;
    }
    cc_info("database open: log %llu..%llu, applied %llu, store index %llu",
            (unsigned long long)s.bounds.first_index, (unsigned long long)s.bounds.last_index,
            (unsigned long long)s.applied, (unsigned long long)cc_tree_store_index(&s.tree));
    if (cc_worker_open_links(w) != 0)
        return 1;
    cc_worker_ready(w);
    return cc_worker_loop(w);
}

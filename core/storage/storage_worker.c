/* The storage worker: the only process that opens the node's Berkeley DB
 * environment (core/storage/db.h).
 *
 * It makes the raft log durable and applies committed entries to the v2
 * store. Everything consensus sent during a loop turn (APPEND, COMMIT) is
 * gathered and written together, which is group commit for free (STACK.md:
 * ~240 000 puts/s in batches against ~8 500/s with one synced transaction
 * each): first the hard state and new entries in one synchronous
 * transaction, after which consensus is told at once what is durable
 * (PERSISTED); then the committed entries are applied in a second
 * transaction that does not wait for the disk (a crash redoes it from the
 * durable log). Applied entries go to http (APPLIED) and the applied index
 * to consensus at most every REPORT_DELAY_MS: consensus hands committed
 * entries to http itself, storage's copy only fills gaps.
 *
 * The key tree is kept in memory (the same deterministic store the http
 * worker runs) and written through to nodes.db/history.db in the
 * apply transaction, with the applied index; on start it is loaded back, so
 * a restart replays nothing already applied. That written-through tree is
 * also raft's snapshot: a lagging peer gets it serialised (SNAPSHOT_REQ),
 * and one received from the leader replaces tree and log (INSTALL).
 *
 * Log compaction follows the raft core (COMPACT), which keeps enough
 * entries behind its snapshot point for followers that are slightly
 * behind. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/identity.h"
#include "core/log.h"
#include "core/raft/raft.h"
#include "core/storage/bootstrap.h"
#include "core/storage/db.h"
#include "core/storage/raft_log.h"
#include "core/storage/tree_store.h"
#include "core/worker.h"

int cc_storage_worker_main(struct cc_worker *w);

/* A snapshot is sent in chunks well under the frame limit. */
#define SNAPSHOT_CHUNK (4u << 20)
/* A snapshot received from the leader larger than this is refused. */
#define INSTALL_MAX ((uint64_t)1 << 30)
/* ENTRIES answers stay well under the frame limit. */
#define FETCH_MAX_BYTES (4u << 20)

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
    uint64_t seq_received, seq_durable; /* APPEND sequence numbers (see proto) */
    uint64_t compact_to;                /* COMPACT asked for; done in the next flush */
    uint64_t reported_applied;          /* applied index last sent in PERSISTED */
    struct cc_raft_membership members;  /* voters in effect at `applied` */
    struct cc_cluster_def id;
    struct cc_buf install; /* snapshot bytes from the leader, until INSTALL */
    uint64_t install_index, install_term;
    uint64_t snapshots_sent, snapshots_installed;
    uint64_t saved_term, saved_vote; /* hard state last committed */
    struct event *checkpoint_ev;
    /* Applied entries for http and the applied index for consensus, sent
     * together a little later instead of after every transaction (see
     * on_report). */
    struct cc_buf http_pending;
    uint32_t http_pending_n;
    struct event *report_ev;
};

static void schedule_flush(struct storage *s)
{
    event_active(s->flush_ev, EV_WRITE, 0);
}

static struct cc_link *link_to(struct storage *s, enum cc_kind k)
{
    return cc_worker_link(s->w, k);
}

/* A membership entry changes the voters from its index on; applying it
 * records them with the applied index, for a restart's raft core. */
static int apply_conf(struct storage *s, DB_TXN *txn, const struct cc_entry *e)
{
    struct cc_raft_conf conf;
    if (cc_raft_conf_decode(e->data.p, e->data.n, &conf) != 0) {
        cc_error("apply: entry %llu holds an undecodable membership change; skipped",
                 (unsigned long long)e->index);
        return 0;
    }
    s->members = conf.membership;
    return cc_raftlog_save_members(&s->db, txn, s->members.ids, s->members.n);
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
        r = e.type == CC_RAFT_ENTRY_CONF ? apply_conf(s, txn, &e)
                                         : cc_tree_store_apply(&s->tree, txn, &e);
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

static void send_persisted(struct storage *s)
{
    struct cc_link *c = link_to(s, CC_KIND_CONSENSUS);
    if (c == NULL)
        return;
    struct cc_msg m = {.type = CC_MSG_PERSISTED};
    m.u.persisted.seq = s->seq_durable;
    m.u.persisted.index = s->bounds.last_index;
    m.u.persisted.term = s->bounds.last_term;
    m.u.persisted.applied = s->applied;
    s->reported_applied = s->applied;
    cc_link_send(c, &m);
}

/* The durable part of a turn: hard state and new entries in one
 * transaction with a synchronous commit, then PERSISTED leaves at once:
 * the leader (or this member's consensus) waits on that answer, and the
 * apply work below does not need to delay it. Returns 0 or -1. */
static int persist_batch(struct storage *s)
{
    bool new_entries = s->batch_count > 0;
    if (!new_entries && !s->hs_dirty)
        return 0;
    DB_TXN *txn = cc_db_begin(&s->db);
    if (txn == NULL)
        return -1;
    int r = 0;
    bool hs_promise = s->hs.term != s->saved_term || s->hs.vote != s->saved_vote;
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
    if (r != 0) {
        cc_db_abort(txn);
        cc_error("log write failed (%s); exiting so the batch is redone from consensus",
                 r > 0 ? db_strerror(r) : "bad entry");
        return -1;
    }
    /* Only what raft promised needs the disk now: new entries and a new
     * term or vote. A commit index alone can be learned again from the
     * leader after a crash. */
    r = new_entries || hs_promise ? cc_db_commit(txn) : cc_db_commit_nosync(txn);
    if (r != 0) {
        cc_error("commit failed: %s", db_strerror(r));
        return -1;
    }
    s->txns++;
    s->hs_dirty = false;
    s->saved_term = s->hs.term;
    s->saved_vote = s->hs.vote;
    cc_buf_reset(&s->batch);
    s->batch_count = 0;
    return 0;
}

/* Neither report is waited on: http gets committed entries from consensus
 * first (storage's copy only fills what consensus no longer held), and
 * consensus needs the applied index only to compact and snapshot. Sending
 * them at most every REPORT_DELAY_MS saves two nanomsg messages per write
 * on every member, each a few context switches on these machines. */
#define REPORT_DELAY_MS 20

static void report_applied(struct storage *s)
{
    if (s->http_pending_n > 0) {
        send_applied(s, &s->http_pending, s->http_pending_n);
        cc_buf_reset(&s->http_pending);
        s->http_pending_n = 0;
    }
    if (s->applied != s->reported_applied)
        send_persisted(s);
}

static void on_report(evutil_socket_t fd, short what, void *arg)
{
    report_applied(arg);
}

/* Applying committed entries and compacting: redoable from the durable log
 * after a crash, so the transaction does not wait for its own fsync. */
static int apply_batch(struct storage *s)
{
    uint64_t target = s->commit < s->bounds.last_index ? s->commit : s->bounds.last_index;
    uint64_t compact = s->compact_to < s->applied + 1 ? s->compact_to : s->applied + 1;
    if (target <= s->applied && compact <= s->bounds.first_index)
        return 0;
    DB_TXN *txn = cc_db_begin(&s->db);
    if (txn == NULL)
        return -1;
    struct cc_buf applied;
    cc_buf_init(&applied);
    uint32_t n_applied = 0;
    int r = 0;
    if (target > s->applied)
        r = apply_committed(s, txn, target, &applied, &n_applied);
    if (r == 0 && compact > s->bounds.first_index)
        r = cc_raftlog_compact(&s->db, txn, &s->bounds, compact);
    if (r != 0) {
        cc_db_abort(txn);
        cc_buf_free(&applied);
        cc_error("apply failed (%s); exiting so it is redone from the log",
                 r > 0 ? db_strerror(r) : "apply error");
        return -1;
    }
    r = cc_db_commit_nosync(txn);
    if (r != 0) {
        cc_buf_free(&applied);
        cc_error("commit failed: %s", db_strerror(r));
        return -1;
    }
    s->txns++;
    if (n_applied > 0) {
        cc_put_raw(&s->http_pending, applied.data, applied.len);
        s->http_pending_n += n_applied;
        if (!evtimer_pending(s->report_ev, NULL)) {
            struct timeval tv = {0, REPORT_DELAY_MS * 1000};
            evtimer_add(s->report_ev, &tv);
        }
    }
    cc_buf_free(&applied);
    return 0;
}

/* Everything gathered this turn. A failure leaves nothing acknowledged
 * that is not on disk; the worker exits and consensus resends to its
 * successor. */
static void flush(struct storage *s)
{
    if (persist_batch(s) != 0)
        goto fatal;
    bool answer = s->seq_received > s->seq_durable;
    s->seq_durable = s->seq_received;
    struct cc_link *c = link_to(s, CC_KIND_CONSENSUS);
    if (answer) {
        send_persisted(s);
        if (c != NULL)
            cc_link_flush_now(c);
    }
    if (apply_batch(s) != 0)
        goto fatal;
    return;
fatal:
    cc_worker_exit(s->w, 1);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    flush(arg);
}

/* BDB removes log files only up to the last checkpoint: without this the
 * data dir grows by every write's log record for as long as the member
 * runs, and a crash recovery replays all of it. */
#define CHECKPOINT_INTERVAL_MS 1000
#define CHECKPOINT_KBYTES      (32 * 1024)

static void on_checkpoint(evutil_socket_t fd, short what, void *arg)
{
    struct storage *s = arg;
    int r = cc_db_checkpoint(&s->db, CHECKPOINT_KBYTES);
    if (r != 0)
        cc_warn("checkpoint failed: %s", db_strerror(r));
}

/* The stored log's terms as runs, and its membership entries above the
 * applied index: what a raft core restarts from. */
static int scan_log(struct storage *s, struct cc_buf *terms, uint32_t *n_terms,
                    struct cc_buf *confs, uint32_t *n_confs)
{
    struct cc_buf rec;
    cc_buf_init(&rec);
    uint64_t run_term = 0;
    int r = 0;
    for (uint64_t i = s->bounds.first_index; i <= s->bounds.last_index; i++) {
        cc_buf_reset(&rec);
        if ((r = cc_raftlog_read(&s->db, NULL, i, &rec)) != 0)
            break;
        struct cc_rd rd;
        cc_rd_init(&rd, rec.data, rec.len);
        struct cc_entry e;
        if (cc_msg_entry_next(&rd, &e) != 1) {
            r = -1;
            break;
        }
        if (i == s->bounds.first_index || e.term != run_term) {
            struct cc_term_run run = {i, e.term};
            cc_msg_term_run_put(terms, &run);
            (*n_terms)++;
            run_term = e.term;
        }
        if (e.type == CC_RAFT_ENTRY_CONF && i > s->applied) {
            cc_put_raw(confs, rec.data, rec.len);
            (*n_confs)++;
        }
    }
    cc_buf_free(&rec);
    return r;
}

static void send_log_state(struct storage *s, struct cc_link *l)
{
    flush(s);
    struct cc_buf members, terms, confs;
    cc_buf_init(&members);
    cc_buf_init(&terms);
    cc_buf_init(&confs);
    uint32_t n_terms = 0, n_confs = 0;
    for (unsigned i = 0; i < s->members.n; i++) {
        struct cc_peer_member pm = {s->members.ids[i]};
        cc_msg_peer_member_put(&members, &pm);
    }
    if (scan_log(s, &terms, &n_terms, &confs, &n_confs) != 0) {
        cc_error("cannot read the raft log back; exiting");
        cc_worker_exit(s->w, 1);
    } else {
        struct cc_msg m = {.type = CC_MSG_LOG_STATE};
        struct cc_msg_log_state *ls = &m.u.log_state;
        ls->term = s->hs.term;
        ls->vote = s->hs.vote;
        ls->commit = s->hs.commit;
        ls->applied = s->applied;
        ls->applied_term = s->applied_term;
        ls->first_index = s->bounds.first_index;
        ls->prev_term = s->bounds.prev_term;
        ls->last_index = s->bounds.last_index;
        ls->last_term = s->bounds.last_term;
        ls->members = (struct cc_list){s->members.n, members.data, (uint32_t)members.len};
        ls->terms = (struct cc_list){n_terms, terms.data, (uint32_t)terms.len};
        ls->confs = (struct cc_list){n_confs, confs.data, (uint32_t)confs.len};
        if (members.failed || terms.failed || confs.failed || cc_link_send(l, &m) != 0)
            cc_error("cannot send the log state to consensus");
        /* A new consensus process numbers its APPENDs from 1 again. */
        s->seq_received = s->seq_durable = 0;
    }
    cc_buf_free(&members);
    cc_buf_free(&terms);
    cc_buf_free(&confs);
}

/* Sends the whole store at the applied index to l in SNAPSHOT_CHUNKs. */
static void send_snapshot(struct storage *s, struct cc_link *l)
{
    struct cc_buf snap;
    cc_buf_init(&snap);
    if (cc_tree_store_snapshot(&s->tree, &snap) != 0) {
        cc_error("cannot serialise the store");
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
    send_snapshot(s, l);
}

static void serve_fetch(struct storage *s, struct cc_link *l, uint64_t from, uint64_t to)
{
    flush(s);
    struct cc_buf recs;
    cc_buf_init(&recs);
    uint32_t n = 0;
    for (uint64_t i = from < s->bounds.first_index ? s->bounds.first_index : from;
         i <= to && i <= s->bounds.last_index && recs.len < FETCH_MAX_BYTES; i++) {
        if (cc_raftlog_read(&s->db, NULL, i, &recs) != 0)
            break;
        n++;
    }
    struct cc_msg m = {.type = CC_MSG_ENTRIES};
    m.u.entries.entries = (struct cc_list){n, recs.data, (uint32_t)recs.len};
    if (recs.failed || cc_link_send(l, &m) != 0)
        cc_error("cannot send entries %llu..%llu to consensus", (unsigned long long)from,
                 (unsigned long long)to);
    cc_buf_free(&recs);
}

static void on_install_chunk(struct storage *s, const struct cc_msg_snapshot_chunk *c)
{
    if (c->offset == 0) {
        cc_buf_reset(&s->install);
        s->install_index = c->index;
        s->install_term = c->term;
    } else if (c->offset != s->install.len || c->index != s->install_index) {
        return; /* part of another transfer: wait for a whole one */
    }
    if (c->total > INSTALL_MAX) {
        cc_error("snapshot of %llu bytes from the leader refused (limit %llu)",
                 (unsigned long long)c->total, (unsigned long long)INSTALL_MAX);
        cc_buf_reset(&s->install);
        s->install_index = 0;
        return;
    }
    cc_put_raw(&s->install, c->data.p, c->data.n);
}

/* The leader's snapshot replaces the store and the whole log, in one
 * transaction, after everything sent before it is durable. */
static void install(struct storage *s, const struct cc_msg_install *in)
{
    flush(s);
    if (in->index == 0 || in->index != s->install_index) {
        if (in->index != 0)
            cc_error("INSTALL at %llu but the bytes received are for %llu; ignored",
                     (unsigned long long)in->index, (unsigned long long)s->install_index);
        cc_buf_free(&s->install);
        cc_buf_init(&s->install);
        s->install_index = 0;
        s->seq_received = s->seq_durable = in->seq > s->seq_received ? in->seq : s->seq_received;
        send_persisted(s);
        return;
    }
    struct cc_raft_membership members = {0};
    struct cc_rd rd = cc_msg_list_reader(&in->members);
    struct cc_peer_member pm;
    while (members.n < CC_RAFT_MAX_MEMBERS && cc_msg_peer_member_next(&rd, &pm) > 0)
        members.ids[members.n++] = pm.id;
    DB_TXN *txn = cc_db_begin(&s->db);
    int r = txn ? 0 : -1;
    if (r == 0)
        r = cc_tree_store_install(&s->tree, txn, s->install.data, s->install.len);
    if (r == 0)
        r = cc_raftlog_reset(&s->db, txn, &s->bounds, in->index, in->term);
    if (r == 0)
        r = cc_raftlog_save_applied(&s->db, txn, in->index, in->term);
    if (r == 0)
        r = cc_raftlog_save_members(&s->db, txn, members.ids, members.n);
    if (r == 0 && s->hs.commit < in->index) {
        s->hs.commit = in->index;
        r = cc_raftlog_save_hard_state(&s->db, txn, &s->hs);
    }
    if (r == 0)
        r = cc_db_commit(txn);
    else if (txn)
        cc_db_abort(txn);
    if (r != 0) {
        cc_error("cannot install the snapshot at %llu (%s); exiting", (unsigned long long)in->index,
                 r > 0 ? db_strerror(r) : "it does not load");
        cc_worker_exit(s->w, 1);
        return;
    }
    s->applied = in->index;
    s->applied_term = in->term;
    s->members = members;
    if (s->commit < in->index)
        s->commit = in->index;
    s->snapshots_installed++;
    cc_info("installed the leader's snapshot at raft index %llu term %llu (%zu bytes, store "
            "index %llu)",
            (unsigned long long)in->index, (unsigned long long)in->term, s->install.len,
            (unsigned long long)cc_tree_store_index(&s->tree));
    cc_buf_free(&s->install);
    cc_buf_init(&s->install);
    s->install_index = 0;
    s->seq_received = s->seq_durable = in->seq > s->seq_received ? in->seq : s->seq_received;
    send_persisted(s);
    /* The http view is behind the new store: make it reload. */
    struct cc_link *h = link_to(s, CC_KIND_HTTP);
    if (h)
        send_snapshot(s, h);
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
        if (a->seq > s->seq_received)
            s->seq_received = a->seq;
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
    case CC_MSG_COMPACT:
        if (m->u.compact.upto > s->compact_to) {
            s->compact_to = m->u.compact.upto;
            schedule_flush(s);
        }
        break;
    case CC_MSG_LOG_STATE_REQ:
        send_log_state(s, l);
        break;
    case CC_MSG_SYNC_REQ:
        serve_sync(s, l, m->u.sync_req.index);
        break;
    case CC_MSG_FETCH:
        serve_fetch(s, l, m->u.fetch.from, m->u.fetch.to);
        break;
    case CC_MSG_SNAPSHOT_REQ:
        flush(s);
        s->snapshots_sent++;
        send_snapshot(s, l);
        break;
    case CC_MSG_SNAPSHOT_CHUNK:
        on_install_chunk(s, &m->u.snapshot_chunk);
        break;
    case CC_MSG_INSTALL:
        install(s, &m->u.install);
        break;
    default:
        cc_debug("link %s: %s ignored", l->def->name, cc_msg_name(m->type));
    }
}

static void on_control_msg(struct cc_worker *w, const struct cc_msg *m)
{
    struct storage *s = w->state;
    if (m->type != CC_MSG_HASH_REQ)
        return;
    flush(s);
    struct cc_msg r = {.type = CC_MSG_HASH_RESP};
    r.u.hash_resp.req_id = m->u.hash_req.req_id;
    r.u.hash_resp.index = s->applied;
    if (cc_tree_store_hash(&s->tree, &r.u.hash_resp.hash) != 0)
        cc_error("cannot hash the store");
    cc_control_send(&w->ctl, &r);
}

static void detail_json(struct cc_worker *w, char *buf, size_t len)
{
    struct storage *s = w->state;
    snprintf(buf, len,
             "{\"applied\":%llu,\"commit\":%llu,\"first_index\":%llu,\"last_index\":%llu,"
             "\"etcd_index\":%llu,\"txns\":%llu,\"entries_written\":%llu,"
             "\"snapshots_sent\":%llu,\"snapshots_installed\":%llu}",
             (unsigned long long)s->applied, (unsigned long long)s->commit,
             (unsigned long long)s->bounds.first_index, (unsigned long long)s->bounds.last_index,
             (unsigned long long)cc_tree_store_index(&s->tree), (unsigned long long)s->txns,
             (unsigned long long)s->entries_written, (unsigned long long)s->snapshots_sent,
             (unsigned long long)s->snapshots_installed);
}

static void on_stop(struct cc_worker *w, unsigned deadline_ms)
{
    /* Whatever arrived is made durable before the environment closes. */
    flush(w->state);
    report_applied(w->state);
    cc_worker_exit(w, 0);
}

static void on_exit_hook(struct cc_worker *w)
{
    struct storage *s = w->state;
    if (s->flush_ev)
        event_free(s->flush_ev);
    if (s->checkpoint_ev)
        event_free(s->checkpoint_ev);
    if (s->report_ev)
        event_free(s->report_ev);
    cc_buf_free(&s->http_pending);
    cc_buf_free(&s->batch);
    cc_buf_free(&s->install);
    cc_tree_store_close(&s->tree);
    cc_db_close(&s->db);
    cc_cluster_def_free(&s->id);
}

/* A brand-new log gets the cluster's first entries (bootstrap.h), durable
 * and applied before anything else can happen. */
static int bootstrap(struct storage *s)
{
    struct cc_buf recs, applied;
    cc_buf_init(&recs);
    cc_buf_init(&applied);
    uint32_t n = 0, n_applied = 0;
    int r = cc_bootstrap_entries(&s->id, &recs, &n);
    DB_TXN *txn = r == 0 ? cc_db_begin(&s->db) : NULL;
    if (txn == NULL)
        r = -1;
    struct cc_rd rd;
    cc_rd_init(&rd, recs.data, recs.len);
    struct cc_entry e;
    while (r == 0 && cc_msg_entry_next(&rd, &e) > 0)
        r = cc_raftlog_append(&s->db, txn, &s->bounds, &e);
    s->hs = (struct cc_hard_state){.term = CC_BOOTSTRAP_TERM, .commit = n};
    if (r == 0)
        r = cc_raftlog_save_hard_state(&s->db, txn, &s->hs);
    if (r == 0)
        r = cc_raftlog_save_members(&s->db, txn, s->members.ids, s->members.n);
    if (r == 0)
        r = apply_committed(s, txn, n, &applied, &n_applied);
    if (r == 0)
        r = cc_db_commit(txn);
    else if (txn)
        cc_db_abort(txn);
    cc_buf_free(&recs);
    cc_buf_free(&applied);
    if (r == 0)
        cc_info("new cluster: wrote and applied the %u bootstrap entries", n);
    return r;
}

int cc_storage_worker_main(struct cc_worker *w)
{
    static struct storage s;
    s.w = w;
    w->state = &s;
    w->on_link_msg = on_link_msg;
    w->on_control_msg = on_control_msg;
    w->on_stop = on_stop;
    w->on_exit = on_exit_hook;
    w->detail_json = detail_json;
    cc_buf_init(&s.batch);
    cc_buf_init(&s.install);
    s.flush_ev = event_new(w->base, -1, 0, on_flush, &s);
    cc_buf_init(&s.http_pending);
    s.report_ev = evtimer_new(w->base, on_report, &s);
    if (s.flush_ev == NULL || s.report_ev == NULL) {
        cc_error("cannot create the storage worker's events");
        return 1;
    }
    char err[512];
    if (cc_identity_load(&w->cfg, &s.id, err, sizeof(err)) != 0) {
        cc_error("%s", err);
        return 1;
    }
    if (cc_db_open(&s.db, w->cfg.data_dir, err, sizeof(err)) != 0) {
        cc_error("%s", err);
        return 1;
    }
    int r = cc_raftlog_load(&s.db, &s.hs, &s.bounds, &s.applied, &s.applied_term);
    unsigned nm = 0;
    if (r == 0)
        r = cc_raftlog_load_members(&s.db, s.members.ids, CC_RAFT_MAX_MEMBERS, &nm);
    if (r != 0) {
        cc_error("cannot read the raft log state: %s", db_strerror(r));
        return 1;
    }
    s.members.n = nm;
    if (nm == 0) {
        /* Never changed since the cluster was made: the initial members
         * (ascending ids, as the identity keeps them). */
        for (size_t i = 0; i < s.id.n && i < CC_RAFT_MAX_MEMBERS; i++)
            s.members.ids[s.members.n++] = s.id.members[i].id;
    }
    if (cc_tree_store_open(&s.tree, &s.db, err, sizeof(err)) != 0) {
        cc_error("%s", err);
        return 1;
    }
    if (s.bounds.last_index == 0 && s.applied == 0 && cc_tree_store_index(&s.tree) == 0 &&
        bootstrap(&s) != 0) {
        cc_error("cannot write the bootstrap entries");
        return 1;
    }
    s.commit = s.hs.commit;
    s.saved_term = s.hs.term;
    s.saved_vote = s.hs.vote;
    s.checkpoint_ev = event_new(w->base, -1, EV_PERSIST, on_checkpoint, &s);
    struct timeval cp = {CHECKPOINT_INTERVAL_MS / 1000, (CHECKPOINT_INTERVAL_MS % 1000) * 1000};
    if (s.checkpoint_ev)
        event_add(s.checkpoint_ev, &cp);
    cc_info("database open: log %llu..%llu, applied %llu, store index %llu",
            (unsigned long long)s.bounds.first_index, (unsigned long long)s.bounds.last_index,
            (unsigned long long)s.applied, (unsigned long long)cc_tree_store_index(&s.tree));
    if (cc_worker_open_links(w) != 0)
        return 1;
    cc_worker_ready(w);
    return cc_worker_loop(w);
}

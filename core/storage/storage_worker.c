/* The storage worker: the only process that opens the node's Berkeley DB
 * environment (core/storage/db.h).
 *
 * It keeps the raft log, the hard state and the durable snapshot of the
 * state machine (core/storage/snap_file.h); the state machine itself, the
 * v2 key tree, lives once per member, in the http worker's view, as etcd
 * keeps its store in memory next to its WAL and snap files.
 *
 * Everything consensus sent during a loop turn (APPEND, COMMIT) is gathered
 * and written together, which is group commit for free (STACK.md: ~240 000
 * puts/s in batches against ~8 500/s with one synced transaction each): the
 * hard state and new entries in one synchronous transaction, after which
 * consensus is told at once what is durable (PERSISTED). Committed entries
 * are read back from the log and sent to http at most every
 * REPORT_DELAY_MS: consensus hands them to http itself as soon as they are
 * committed, storage's copy fills what its cache no longer held (after a
 * restart of either, say).
 *
 * Snapshots: when the log has grown --snapshot-count entries past the last
 * snapshot, consensus asks http for one (SNAPSHOT_MAKE); http's snapshot
 * child writes its view to a file and http tells us (SNAPSHOT_SAVE); we
 * add the header (term, voters) and put it in place, and once it is durable
 * consensus learns its index (PERSISTED.snapshot) and lets raft compact the
 * log below it (COMPACT, never past the snapshot). The file is also what a
 * lagging peer gets (SNAPSHOT_REQ), and one received from the leader
 * replaces file and log (INSTALL). A restarted http worker gets the file
 * and the committed entries after it (SYNC_REQ). */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/identity.h"
#include "core/log.h"
#include "core/raft/raft.h"
#include "core/storage/bootstrap.h"
#include "core/storage/db.h"
#include "core/storage/legacy_tree.h"
#include "core/storage/raft_log.h"
#include "core/storage/snap_file.h"
#include "core/v2/store.h"
#include "core/worker.h"

int cc_storage_worker_main(struct cc_worker *w);

/* A snapshot is sent in chunks well under the frame limit. */
#define SNAPSHOT_CHUNK (4u << 20)
/* A snapshot received from the leader larger than this is refused. */
#define SNAPSHOT_MAX ((uint64_t)1 << 30)
/* ENTRIES answers stay well under the frame limit. */
#define FETCH_MAX_BYTES (4u << 20)

/* A snapshot file being written from the leader's chunks. */
struct incoming_snap {
    struct cc_snap_writer file;
    uint64_t index, total;
};

struct storage {
    struct cc_worker *w;
    struct cc_db db;
    struct cc_hard_state hs;
    struct cc_log_bounds bounds;
    uint64_t commit; /* highest commit index consensus told us */
    bool hs_dirty;
    struct cc_buf batch; /* entry records received this turn, in order */
    uint32_t batch_count;
    struct event *flush_ev, *compact_ev;
    uint64_t txns, entries_written;
    uint64_t seq_received, seq_durable; /* APPEND sequence numbers (see proto) */
    uint64_t compact_to;                /* COMPACT asked for; done in the next flush */
    struct cc_cluster_def id;
    /* The durable snapshot, and the membership entries in the log above it
     * (ascending): together the voters at any index of the log. */
    struct cc_snap_meta snap;
    struct cc_raft_conf_point *confs;
    size_t n_confs, cap_confs;
    struct incoming_snap installing; /* from the leader, until INSTALL */
    uint64_t snapshots_saved, snapshots_sent, snapshots_installed;
    uint64_t saved_term, saved_vote; /* hard state last committed */
    /* Committed entries for http, read back from the log up to forwarded
     * and sent a little later instead of after every transaction (see
     * on_report). */
    uint64_t forwarded;
    struct cc_buf http_pending;
    uint32_t http_pending_n;
    struct event *report_ev;
    /* RELAY frames for the peer worker, sent once this turn's transaction
     * is durable (everything they promise was received before them). */
    struct cc_buf relay;
    uint32_t relay_n;
    uint64_t relayed;
};

/* The namespaces every store is created with (etcd's /0 and /1). */
static const char *const namespaces[] = {"/0", "/1"};

/* The last entry that is both committed and in the log here. */
static uint64_t last_committed(const struct storage *s)
{
    return s->commit < s->bounds.last_index ? s->commit : s->bounds.last_index;
}

static void schedule_flush(struct storage *s)
{
    event_active(s->flush_ev, EV_WRITE, 0);
}

static struct cc_link *link_to(struct storage *s, enum cc_kind k)
{
    return cc_worker_link(s->w, k);
}

/* ---- membership entries above the snapshot ---- */

/* An entry written at index drops every membership entry at or after it
 * (raft's conflict rule replaced them); a new one is remembered. */
static int track_conf(struct storage *s, const struct cc_entry *e)
{
    while (s->n_confs > 0 && s->confs[s->n_confs - 1].index >= e->index)
        s->n_confs--;
    if (e->type != CC_RAFT_ENTRY_CONF)
        return 0;
    struct cc_raft_conf conf;
    if (cc_raft_conf_decode(e->data.p, e->data.n, &conf) != 0) {
        cc_error("entry %llu holds an undecodable membership change; ignored",
                 (unsigned long long)e->index);
        return 0;
    }
    if (s->n_confs == s->cap_confs) {
        size_t cap = s->cap_confs ? 2 * s->cap_confs : 8;
        struct cc_raft_conf_point *p = realloc(s->confs, cap * sizeof(*p));
        if (p == NULL)
            return -1;
        s->confs = p;
        s->cap_confs = cap;
    }
    s->confs[s->n_confs++] = (struct cc_raft_conf_point){e->index, conf.membership};
    return 0;
}

/* The voters in effect at index (>= the snapshot's). */
static void voters_at(const struct storage *s, uint64_t index, struct cc_snap_meta *m)
{
    m->n_voters = s->snap.n_voters;
    memcpy(m->voters, s->snap.voters, sizeof(m->voters));
    for (size_t i = 0; i < s->n_confs && s->confs[i].index <= index; i++) {
        const struct cc_raft_membership *mb = &s->confs[i].membership;
        m->n_voters = mb->n < CC_SNAP_MAX_VOTERS ? mb->n : CC_SNAP_MAX_VOTERS;
        for (unsigned k = 0; k < m->n_voters; k++)
            m->voters[k] = mb->ids[k];
    }
}

static void drop_confs_upto(struct storage *s, uint64_t index)
{
    size_t k = 0;
    while (k < s->n_confs && s->confs[k].index <= index)
        k++;
    if (k == 0)
        return; /* also: no array yet (memmove on NULL is undefined) */
    memmove(s->confs, s->confs + k, (s->n_confs - k) * sizeof(*s->confs));
    s->n_confs -= k;
}

/* ---- reports ---- */

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
    m.u.persisted.snapshot = s->snap.index;
    cc_link_send(c, &m);
}

/* A follower's answers to appends (and votes) leave from here, not from
 * consensus after our PERSISTED: one hop less between the leader's append
 * and its answer. Without a peer worker to take them they are dropped, as
 * consensus's own frames would be; raft sends again. */
static void send_relayed(struct storage *s)
{
    if (s->relay_n == 0)
        return;
    struct cc_link *p = link_to(s, CC_KIND_PEER);
    if (s->relay.failed)
        cc_error("out of memory for %u relayed frames; dropped", s->relay_n);
    else if (p != NULL && cc_link_send_raw(p, s->relay.data, s->relay.len, s->relay_n) == 0) {
        cc_link_flush_now(p);
        s->relayed += s->relay_n;
    }
    cc_buf_reset(&s->relay);
    s->relay_n = 0;
}

/* Neither is waited on: http gets committed entries from consensus first
 * (storage's copy only fills what consensus no longer held). Sending them
 * at most every REPORT_DELAY_MS saves a nanomsg message per write on every
 * member, each a few context switches on these machines. */
#define REPORT_DELAY_MS 20

static void report_applied(struct storage *s)
{
    if (s->http_pending_n > 0) {
        send_applied(s, &s->http_pending, s->http_pending_n);
        cc_buf_reset(&s->http_pending);
        s->http_pending_n = 0;
    }
}

static void on_report(evutil_socket_t fd, short what, void *arg)
{
    report_applied(arg);
}

/* ---- the durable part of a turn ---- */

/* Hard state and new entries in one transaction with a synchronous commit,
 * then PERSISTED leaves at once: the leader (or this member's consensus)
 * waits on that answer. Returns 0 or -1. */
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
    struct cc_raftlog_appender app;
    cc_raftlog_appender_init(&app, &s->db, txn, &s->bounds);
    for (uint32_t i = 0; r == 0 && i < s->batch_count && cc_msg_entry_next(&rd, &e) > 0; i++) {
        int a = cc_raftlog_appender_add(&app, &e);
        if (a == 0) {
            s->entries_written++;
            r = track_conf(s, &e);
        } else if (a != 1) { /* 1: already durable */
            r = a;
        }
    }
    int f = cc_raftlog_appender_finish(&app);
    if (r == 0)
        r = f;
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

/* Committed entries not yet sent to http are read back from the log. */
static int forward_committed(struct storage *s)
{
    uint64_t target = last_committed(s);
    if (s->forwarded < s->snap.index)
        s->forwarded = s->snap.index;
    if (target <= s->forwarded)
        return 0;
    for (uint64_t i = s->forwarded + 1; i <= target; i++) {
        int r = cc_raftlog_read(&s->db, NULL, i, &s->http_pending);
        if (r != 0) {
            cc_error("entry %llu missing from the log: %s", (unsigned long long)i, db_strerror(r));
            return -1;
        }
        s->http_pending_n++;
        s->forwarded = i;
        if (s->http_pending.len > SNAPSHOT_CHUNK)
            report_applied(s);
    }
    if (!evtimer_pending(s->report_ev, NULL)) {
        struct timeval tv = {0, REPORT_DELAY_MS * 1000};
        evtimer_add(s->report_ev, &tv);
    }
    return 0;
}

/* Entries deleted per loop turn: snapshots can be ~100 000 entries apart
 * (http paces them by size), and deleting them all in one transaction
 * held up the next APPEND for ~150 ms. */
#define COMPACT_BATCH 2000

/* Log entries below the durable snapshot that raft no longer needs, a
 * batch per turn; redoable, so the transaction does not wait for the
 * disk. */
static int compact(struct storage *s)
{
    uint64_t upto = s->compact_to < s->snap.index + 1 ? s->compact_to : s->snap.index + 1;
    if (upto <= s->bounds.first_index)
        return 0;
    if (upto - s->bounds.first_index > COMPACT_BATCH) {
        upto = s->bounds.first_index + COMPACT_BATCH;
        /* The rest after the next poll: an event made active now would run
         * in this same turn, before any APPEND waiting on the socket. */
        struct timeval now = {0, 0};
        evtimer_add(s->compact_ev, &now);
    }
    DB_TXN *txn = cc_db_begin(&s->db);
    if (txn == NULL)
        return -1;
    int r = cc_raftlog_compact(&s->db, txn, &s->bounds, upto);
    if (r != 0) {
        cc_db_abort(txn);
        cc_error("log compaction failed: %s", db_strerror(r));
        return -1;
    }
    if ((r = cc_db_commit_nosync(txn)) != 0) {
        cc_error("commit failed: %s", db_strerror(r));
        return -1;
    }
    s->txns++;
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
    send_relayed(s);
    if (answer) {
        send_persisted(s);
        if (c != NULL)
            cc_link_flush_now(c);
    }
    if (forward_committed(s) != 0 || compact(s) != 0)
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
 * runs, and a crash recovery replays all of it. Taken by a thread of its
 * own (cc_db_checkpointer_start): in this loop each one held the writes
 * behind it for 20-50 ms. */
#define CHECKPOINT_INTERVAL_MS 1000
#define CHECKPOINT_KBYTES      (32 * 1024)

/* ---- what a restarting consensus gets ---- */

/* The stored log's terms as runs; with remember_confs, its membership
 * entries above the snapshot are tracked again (at start). */
static int scan_log(struct storage *s, struct cc_buf *terms, uint32_t *n_terms, bool remember_confs)
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
        if (terms != NULL && (i == s->bounds.first_index || e.term != run_term)) {
            struct cc_term_run run = {i, e.term};
            cc_msg_term_run_put(terms, &run);
            (*n_terms)++;
            run_term = e.term;
        }
        if (remember_confs && e.index > s->snap.index && (r = track_conf(s, &e)) != 0)
            break;
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
    uint32_t n_terms = 0;
    for (unsigned i = 0; i < s->snap.n_voters; i++) {
        struct cc_peer_member pm = {s->snap.voters[i]};
        cc_msg_peer_member_put(&members, &pm);
    }
    for (size_t i = 0; i < s->n_confs; i++) {
        /* The core wants the entries themselves: encode the voters back. */
        struct cc_buf rec;
        cc_buf_init(&rec);
        int r = cc_raftlog_read(&s->db, NULL, s->confs[i].index, &rec);
        if (r == 0)
            cc_put_raw(&confs, rec.data, rec.len);
        cc_buf_free(&rec);
        if (r != 0)
            confs.failed = true;
    }
    if (scan_log(s, &terms, &n_terms, false) != 0) {
        cc_error("cannot read the raft log back; exiting");
        cc_worker_exit(s->w, 1);
    } else {
        struct cc_msg m = {.type = CC_MSG_LOG_STATE};
        struct cc_msg_log_state *ls = &m.u.log_state;
        ls->term = s->hs.term;
        ls->vote = s->hs.vote;
        ls->commit = s->hs.commit;
        ls->snapshot_index = s->snap.index;
        ls->snapshot_term = s->snap.term;
        ls->first_index = s->bounds.first_index;
        ls->prev_term = s->bounds.prev_term;
        ls->last_index = s->bounds.last_index;
        ls->last_term = s->bounds.last_term;
        ls->members = (struct cc_list){s->snap.n_voters, members.data, (uint32_t)members.len};
        ls->terms = (struct cc_list){n_terms, terms.data, (uint32_t)terms.len};
        ls->confs = (struct cc_list){(uint32_t)s->n_confs, confs.data, (uint32_t)confs.len};
        if (members.failed || terms.failed || confs.failed || cc_link_send(l, &m) != 0)
            cc_error("cannot send the log state to consensus");
        /* A new consensus process numbers its APPENDs from 1 again. */
        s->seq_received = s->seq_durable = 0;
    }
    cc_buf_free(&members);
    cc_buf_free(&terms);
    cc_buf_free(&confs);
}

/* ---- snapshots out ---- */

static void send_chunk(struct cc_link *l, uint64_t index, uint64_t term, uint64_t upto,
                       uint64_t off, uint64_t total, const void *p, size_t n)
{
    struct cc_msg m = {.type = CC_MSG_SNAPSHOT_CHUNK};
    m.u.snapshot_chunk.upto = upto;
    m.u.snapshot_chunk.index = index;
    m.u.snapshot_chunk.term = term;
    m.u.snapshot_chunk.offset = off;
    m.u.snapshot_chunk.total = total;
    m.u.snapshot_chunk.data = (struct cc_bytes){p, (uint32_t)n};
    cc_link_send(l, &m);
    /* One chunk per nanomsg message: the link's buffer stays small. */
    cc_link_flush_now(l);
}

/* Sends the durable snapshot to l in SNAPSHOT_CHUNKs: the file, or an empty
 * store at index 0 before the first one; upto: see proto. 0 or -1
 * (logged). */
static int send_snapshot(struct storage *s, struct cc_link *l, uint64_t upto)
{
    if (s->snap.index == 0) {
        struct cc_buf b;
        cc_buf_init(&b);
        struct cc_v2_store *st = cc_v2_store_new(namespaces, 2);
        int r = st ? cc_v2_store_snapshot_save(st, &b) : -1;
        cc_v2_store_free(st);
        if (r == 0 && !b.failed)
            send_chunk(l, 0, 0, upto, 0, b.len, b.data, b.len);
        cc_buf_free(&b);
        if (r != 0)
            cc_error("cannot make an empty store");
        return r;
    }
    size_t cap = s->snap.data_len < SNAPSHOT_CHUNK ? (size_t)s->snap.data_len : SNAPSHOT_CHUNK;
    uint8_t *buf = malloc(cap ? cap : 1);
    if (buf == NULL) {
        cc_error("out of memory sending the snapshot");
        return -1;
    }
    int rc = 0;
    uint64_t off = 0;
    do {
        size_t want = s->snap.data_len - off < cap ? (size_t)(s->snap.data_len - off) : cap;
        long got = cc_snap_read_data(s->db.home, off, buf, want);
        if (got != (long)want) {
            cc_error("cannot read the snapshot file at %llu", (unsigned long long)off);
            rc = -1;
            break;
        }
        send_chunk(l, s->snap.index, s->snap.term, upto, off, s->snap.data_len, buf, want);
        off += want;
    } while (off < s->snap.data_len);
    free(buf);
    return rc;
}

/* http (re)starts or lost track: the committed entries it misses from the
 * log, after the snapshot when they were compacted away (or it has
 * nothing). */
static void serve_sync(struct storage *s, struct cc_link *l, uint64_t from)
{
    flush(s);
    uint64_t target = last_committed(s);
    if (from == 0 || from < s->bounds.first_index) {
        if (send_snapshot(s, l, target) != 0)
            return;
        from = s->snap.index + 1;
    }
    struct cc_buf recs;
    cc_buf_init(&recs);
    uint32_t n = 0;
    for (uint64_t i = from; i <= target; i++) {
        if (cc_raftlog_read(&s->db, NULL, i, &recs) != 0)
            break;
        n++;
        if (recs.len > SNAPSHOT_CHUNK) {
            send_applied(s, &recs, n);
            cc_buf_reset(&recs);
            n = 0;
        }
    }
    send_applied(s, &recs, n);
    cc_buf_free(&recs);
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

/* ---- snapshots in ---- */

/* One chunk of the leader's snapshot, into its temporary file until
 * INSTALL (which carries the term and voters). */
static void take_install_chunk(struct storage *s, const struct cc_msg_snapshot_chunk *c)
{
    struct incoming_snap *in = &s->installing;
    uint64_t index = c->index, offset = c->offset, total = c->total;
    if (offset == 0) {
        in->index = 0;
        if (total > SNAPSHOT_MAX) {
            cc_error("snapshot of %llu bytes refused (limit %llu)", (unsigned long long)total,
                     (unsigned long long)SNAPSHOT_MAX);
            cc_snap_writer_abandon(&in->file);
            return;
        }
        if (cc_snap_writer_begin(&in->file, s->db.home, CC_SNAP_INSTALL_TMP) != 0)
            return;
        in->index = index;
        in->total = total;
    } else if (!cc_snap_writer_active(&in->file) || in->index != index ||
               offset != in->file.written || total != in->total) {
        return; /* part of another transfer: wait for a whole one */
    }
    if (c->data.n > 0 && cc_snap_writer_append(&in->file, c->data.p, c->data.n) != 0)
        in->index = 0;
}

/* http's view at index A, written to a file by its snapshot child,
 * becomes the durable snapshot: its term is read from the log, its voters
 * follow from the membership entries. */
static void on_view_written(struct storage *s, const struct cc_msg_snapshot_save *c)
{
    flush(s); /* the entries it covers are durable before it counts */
    /* The view applies committed entries only, and consensus tells the
     * commit index late (with the next APPEND): learn it from here too. */
    if (c->index > s->commit && c->index <= s->bounds.last_index)
        s->commit = c->index;
    struct cc_snap_meta meta = {.index = c->index, .data_len = c->total};
    bool found = false;
    if (c->index > s->snap.index && c->index <= last_committed(s))
        meta.term = cc_raftlog_term(&s->db, NULL, &s->bounds, c->index, &found);
    if (!found) {
        cc_info("snapshot at %llu from http not taken (snapshot %llu, log %llu..%llu, "
                "commit %llu)",
                (unsigned long long)c->index, (unsigned long long)s->snap.index,
                (unsigned long long)s->bounds.first_index, (unsigned long long)s->bounds.last_index,
                (unsigned long long)s->commit);
        char tmp[sizeof(s->db.home) + 32];
        snprintf(tmp, sizeof(tmp), "%s/%s", s->db.home, CC_SNAP_VIEW_TMP);
        unlink(tmp);
        return;
    }
    voters_at(s, c->index, &meta);
    if (cc_snap_seal(s->db.home, CC_SNAP_VIEW_TMP, &meta, c->hash) != 0)
        return; /* logged; consensus asks again */
    s->snap = meta;
    drop_confs_upto(s, meta.index);
    s->snapshots_saved++;
    cc_info("snapshot saved at raft index %llu term %llu (%llu bytes)",
            (unsigned long long)meta.index, (unsigned long long)meta.term,
            (unsigned long long)meta.data_len);
    send_persisted(s);
    schedule_flush(s); /* compaction may go further now */
}

/* The leader's snapshot replaces the file and the whole log, after
 * everything sent before it is durable: the file first (whole, durable),
 * then the log in one transaction; a crash between the two is repaired at
 * start (the log is reset to a snapshot it does not reach). */
static void install(struct storage *s, const struct cc_msg_install *in)
{
    flush(s);
    struct incoming_snap *is = &s->installing;
    bool whole = in->index != 0 && in->index == is->index && cc_snap_writer_active(&is->file) &&
                 is->file.written == is->total;
    if (!whole) {
        if (in->index != 0)
            cc_error("INSTALL at %llu but the bytes received are for %llu; ignored",
                     (unsigned long long)in->index, (unsigned long long)is->index);
        cc_snap_writer_abandon(&is->file);
        is->index = 0;
        s->seq_received = s->seq_durable = in->seq > s->seq_received ? in->seq : s->seq_received;
        send_persisted(s);
        return;
    }
    struct cc_snap_meta meta = {.index = in->index, .term = in->term};
    struct cc_rd rd = cc_msg_list_reader(&in->members);
    struct cc_peer_member pm;
    while (meta.n_voters < CC_SNAP_MAX_VOTERS && cc_msg_peer_member_next(&rd, &pm) > 0)
        meta.voters[meta.n_voters++] = pm.id;
    int r = cc_snap_writer_finish(&is->file, &meta);
    is->index = 0;
    DB_TXN *txn = r == 0 ? cc_db_begin(&s->db) : NULL;
    if (r == 0 && txn == NULL)
        r = -1;
    if (r == 0)
        r = cc_raftlog_reset(&s->db, txn, &s->bounds, in->index, in->term);
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
                 r > 0 ? db_strerror(r) : "file error");
        cc_worker_exit(s->w, 1);
        return;
    }
    s->snap = meta;
    s->n_confs = 0;
    if (s->commit < in->index)
        s->commit = in->index;
    s->forwarded = in->index;
    cc_buf_reset(&s->http_pending);
    s->http_pending_n = 0;
    s->snapshots_installed++;
    cc_info("installed the leader's snapshot at raft index %llu term %llu (%llu bytes)",
            (unsigned long long)in->index, (unsigned long long)in->term,
            (unsigned long long)meta.data_len);
    s->seq_received = s->seq_durable = in->seq > s->seq_received ? in->seq : s->seq_received;
    send_persisted(s);
    /* The http view is behind the new state: make it reload. */
    struct cc_link *h = link_to(s, CC_KIND_HTTP);
    if (h)
        send_snapshot(s, h, in->index);
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
    case CC_MSG_RELAY:
        /* Sent after the APPEND it belongs to, on the same link: a seq not
         * received yet means a confused sender, and the frames promise
         * what is not here. */
        if (m->u.relay.seq > s->seq_received) {
            cc_error("relay for seq %llu, only %llu received; dropped",
                     (unsigned long long)m->u.relay.seq, (unsigned long long)s->seq_received);
            break;
        }
        cc_put_raw(&s->relay, m->u.relay.frames.p, m->u.relay.frames.n);
        s->relay_n += m->u.relay.count;
        schedule_flush(s);
        break;
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
        send_snapshot(s, l, 0);
        break;
    case CC_MSG_SNAPSHOT_CHUNK:
        take_install_chunk(s, &m->u.snapshot_chunk);
        break;
    case CC_MSG_SNAPSHOT_SAVE:
        on_view_written(s, &m->u.snapshot_save);
        break;
    case CC_MSG_INSTALL:
        install(s, &m->u.install);
        break;
    default:
        cc_debug("link %s: %s ignored", l->def->name, cc_msg_name(m->type));
    }
}

static void detail_json(struct cc_worker *w, char *buf, size_t len)
{
    struct storage *s = w->state;
    uint64_t checkpoints;
    double checkpoint_max_s;
    cc_db_checkpointer_stats(&s->db, &checkpoints, &checkpoint_max_s);
    snprintf(buf, len,
             "{\"commit\":%llu,\"first_index\":%llu,\"last_index\":%llu,\"snapshot_index\":%llu,"
             "\"snapshot_bytes\":%llu,\"txns\":%llu,\"entries_written\":%llu,"
             "\"snapshots_saved\":%llu,\"snapshots_sent\":%llu,\"snapshots_installed\":%llu,"
             "\"checkpoints\":%llu,\"checkpoint_max_ms\":%.1f,\"relayed\":%llu}",
             (unsigned long long)s->commit, (unsigned long long)s->bounds.first_index,
             (unsigned long long)s->bounds.last_index, (unsigned long long)s->snap.index,
             (unsigned long long)s->snap.data_len, (unsigned long long)s->txns,
             (unsigned long long)s->entries_written, (unsigned long long)s->snapshots_saved,
             (unsigned long long)s->snapshots_sent, (unsigned long long)s->snapshots_installed,
             (unsigned long long)checkpoints, checkpoint_max_s * 1e3,
             (unsigned long long)s->relayed);
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
    if (s->compact_ev)
        event_free(s->compact_ev);
    if (s->report_ev)
        event_free(s->report_ev);
    cc_buf_free(&s->http_pending);
    cc_buf_free(&s->relay);
    cc_buf_free(&s->batch);
    cc_snap_writer_abandon(&s->installing.file);
    free(s->confs);
    cc_db_close(&s->db);
    cc_cluster_def_free(&s->id);
}

/* ---- start ---- */

/* A brand-new log gets the cluster's first entries (bootstrap.h), durable
 * and committed before anything else can happen. */
static int bootstrap(struct storage *s)
{
    struct cc_buf recs;
    cc_buf_init(&recs);
    uint32_t n = 0;
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
        r = cc_db_commit(txn);
    else if (txn)
        cc_db_abort(txn);
    cc_buf_free(&recs);
    if (r == 0)
        cc_info("new cluster: wrote the %u bootstrap entries", n);
    return r;
}

/* The snapshot file and the log agree: a log that does not reach the
 * snapshot, or holds another term at its index (a crash between the two
 * steps of an install), restarts from the snapshot point. */
static int reconcile_log(struct storage *s)
{
    if (s->snap.index == 0)
        return 0;
    bool found = false;
    uint64_t t = cc_raftlog_term(&s->db, NULL, &s->bounds, s->snap.index, &found);
    if (found && t == s->snap.term)
        return 0;
    if (!found && s->bounds.first_index > s->snap.index + 1)
        return 0; /* compacted past it: cannot happen, and nothing to fix */
    cc_warn("the log (%llu..%llu) does not hold the snapshot's entry %llu term %llu; it "
            "restarts from the snapshot",
            (unsigned long long)s->bounds.first_index, (unsigned long long)s->bounds.last_index,
            (unsigned long long)s->snap.index, (unsigned long long)s->snap.term);
    DB_TXN *txn = cc_db_begin(&s->db);
    int r = txn ? cc_raftlog_reset(&s->db, txn, &s->bounds, s->snap.index, s->snap.term) : -1;
    if (r == 0)
        r = cc_db_commit(txn);
    else if (txn)
        cc_db_abort(txn);
    return r;
}

/* The durable snapshot, checked whole; none before the first. Temporary
 * files of transfers a crash cut short are removed. */
static int load_snapshot(struct storage *s, char *err, size_t errlen)
{
    const char *tmp_names[] = CC_SNAP_TMP_NAMES;
    for (size_t i = 0; i < sizeof(tmp_names) / sizeof(tmp_names[0]); i++) {
        char p[sizeof(s->db.home) + 32];
        snprintf(p, sizeof(p), "%s/%s", s->db.home, tmp_names[i]);
        unlink(p);
    }
    int r = cc_snap_read_meta(s->db.home, &s->snap, err, errlen);
    if (r < 0 || (r == 0 && cc_snap_verify(s->db.home, &s->snap, err, errlen) != 0))
        return -1;
    if (r == 1) {
        /* Never taken: the cluster's initial members (ascending ids, as
         * the identity keeps them). */
        memset(&s->snap, 0, sizeof(s->snap));
        for (size_t i = 0; i < s->id.n && i < CC_SNAP_MAX_VOTERS; i++)
            s->snap.voters[s->snap.n_voters++] = s->id.members[i].id;
    }
    return 0;
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
    cc_snap_writer_init(&s.installing.file);
    s.flush_ev = event_new(w->base, -1, 0, on_flush, &s);
    s.compact_ev = evtimer_new(w->base, on_flush, &s);
    cc_buf_init(&s.http_pending);
    cc_buf_init(&s.relay);
    s.report_ev = evtimer_new(w->base, on_report, &s);
    if (s.flush_ev == NULL || s.compact_ev == NULL || s.report_ev == NULL) {
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
    if (load_snapshot(&s, err, sizeof(err)) != 0) {
        cc_error("%s; refusing to start (the log before it may be compacted away: restore "
                 "this member from a backup, or remove it and add it again)",
                 err);
        return 1;
    }
    if (cc_raftlog_load(&s.db, &s.hs, &s.bounds) != 0) {
        cc_error("cannot read the raft log state");
        return 1;
    }
    if (cc_legacy_tree_convert(&s.db, &s.snap, err, sizeof(err)) != 0) {
        cc_error("%s", err);
        return 1;
    }
    if (s.bounds.last_index == 0 && s.snap.index == 0 && bootstrap(&s) != 0) {
        cc_error("cannot write the bootstrap entries");
        return 1;
    }
    if (reconcile_log(&s) != 0 || scan_log(&s, NULL, NULL, true) != 0) {
        cc_error("cannot read the raft log back");
        return 1;
    }
    if (s.hs.commit < s.snap.index)
        s.hs.commit = s.snap.index;
    s.commit = s.hs.commit;
    s.forwarded = s.snap.index;
    s.saved_term = s.hs.term;
    s.saved_vote = s.hs.vote;
    if (cc_db_checkpointer_start(&s.db, CHECKPOINT_INTERVAL_MS, CHECKPOINT_KBYTES) != 0)
        return 1;
    cc_info("database open: log %llu..%llu, commit %llu, snapshot at %llu (%llu bytes)",
            (unsigned long long)s.bounds.first_index, (unsigned long long)s.bounds.last_index,
            (unsigned long long)s.hs.commit, (unsigned long long)s.snap.index,
            (unsigned long long)s.snap.data_len);
    if (cc_worker_open_links(w) != 0)
        return 1;
    cc_worker_ready(w);
    return cc_worker_loop(w);
}

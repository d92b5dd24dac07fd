/* Drives the raft core: every event goes through cc_consensus_step, and
 * every update is carried out here in the order raft.h prescribes:
 *
 *   1. persist: INSTALL (a snapshot from the leader) and APPEND (hard state,
 *      entries) to storage, each with a sequence number; storage makes a
 *      loop turn's worth durable in one transaction and answers PERSISTED
 *      with the last sequence number on disk;
 *   2. `send` goes to the peer worker at once;
 *   3. `send_after_persist` waits in a FIFO with its update's sequence
 *      number until PERSISTED covers it (votes and acks promise durable
 *      state);
 *   4. the PERSISTED event goes back to the core at the same moment;
 *   5. apply: the state machine is the http worker's view. Committed
 *      entries go to it from here (those still in the core's cache) and
 *      from storage (read back from the durable log, filling gaps); storage
 *      learns the commit index with the next APPEND, or from a COMMIT
 *      within COMMIT_TELL_DELAY_MS when none comes (at once when it has to
 *      fill a gap for http). Once handed over, an entry counts
 *      as applied (APPLIED event): the view applies every committed entry
 *      in order, and after any restart it is rebuilt from the snapshot and
 *      the log, so nothing handed over is lost;
 *   6. fetches become FETCH/ENTRIES round trips; want_snapshot asks http to
 *      serialise its view into storage's snapshot file (SNAPSHOT_MAKE), and
 *      SNAPSHOT_TAKEN is stepped when storage reports the file durable
 *      (PERSISTED.snapshot); compact_to becomes COMPACT (storage never
 *      compacts past its snapshot).
 *
 * Snapshots to a lagging follower: the core's SNAPSHOT message is not sent
 * as is. Storage sends its durable snapshot file at index S (the core's
 * snapshot point), and the message goes out describing S (term and voters
 * from cc_raft_snapshot_meta_at), followed by the bytes in
 * SNAPSHOT_CHUNK_PEER frames; the follower steps the message once every
 * byte arrived, and its storage installs them on INSTALL. */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/consensus/consensus.h"
#include "core/log.h"
#include "ipc/link.h"
#include "proto/raft_wire.h"

/* Entries in one RAFT frame from a peer (the core sends max_msg_entries). */
#define RX_MAX_ENTRIES 4096

/* A raft entry as the storage worker's record (see consensus.h). */
static struct cc_entry to_record(const struct cc_raft_entry *e)
{
    struct cc_entry r = {.index = e->index, .term = e->term, .type = (uint8_t)e->type};
    const uint8_t *d = e->data;
    if (e->type == CC_RAFT_ENTRY_NORMAL && e->len >= CC_ENTRY_HEADER) {
        cc_entry_header_get(d, &r.origin, &r.req_id);
        r.data = (struct cc_bytes){d + CC_ENTRY_HEADER, (uint32_t)(e->len - CC_ENTRY_HEADER)};
    } else {
        r.data = (struct cc_bytes){e->len ? d : NULL, (uint32_t)e->len};
    }
    return r;
}

static struct cc_link *peer_link(struct consensus *c)
{
    return cc_worker_link(c->w, CC_KIND_PEER);
}

static struct cc_link *storage_link(struct consensus *c)
{
    return cc_worker_link(c->w, CC_KIND_STORAGE);
}

static void send_frames(struct consensus *c, const struct cc_buf *b, uint32_t n)
{
    struct cc_link *l = peer_link(c);
    if (l != NULL && n > 0 && cc_link_send_raw(l, b->data, b->len, n) == 0)
        c->msgs_sent += n;
}

static void queue_snapshot(struct consensus *c, cc_raft_id to);

/* Encodes msgs into b (snapshots are diverted: see the top). */
static uint32_t encode_msgs(struct consensus *c, struct cc_buf *b, const struct cc_raft_msg *m,
                            size_t n)
{
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (m[i].type == CC_RAFT_MSG_SNAPSHOT) {
            queue_snapshot(c, m[i].to);
            continue;
        }
        /* Latency from heartbeats only: one outstanding per follower, so
         * an answer always matches its request (appends are pipelined). */
        if (m[i].type == CC_RAFT_MSG_HEARTBEAT)
            cc_follower_sent(&c->fstats, m[i].to, cc_now());
        c->send_appends += m[i].type == CC_RAFT_MSG_APPEND;
        if (cc_raft_wire_encode(b, &m[i]) == 0)
            k++;
        else
            cc_error("cannot encode a raft %s for %llx", cc_raft_msg_type_name(m[i].type),
                     (unsigned long long)m[i].to);
    }
    return k;
}

static struct cc_pending_persist *push_pending(struct consensus *c)
{
    if (c->n_pend == c->cap_pend) {
        size_t cap = c->cap_pend ? c->cap_pend * 2 : 64;
        struct cc_pending_persist *nv = realloc(c->pend, cap * sizeof(*nv));
        if (nv == NULL)
            return NULL;
        c->pend = nv;
        c->cap_pend = cap;
    }
    struct cc_pending_persist *p = &c->pend[c->n_pend++];
    memset(p, 0, sizeof(*p));
    cc_buf_init(&p->frames);
    return p;
}

static void send_install(struct consensus *c, const struct cc_raft_snapshot_meta *meta)
{
    struct cc_buf members;
    cc_buf_init(&members);
    unsigned n = meta ? meta->membership.n : 0;
    for (unsigned i = 0; i < n; i++) {
        struct cc_peer_member pm = {meta->membership.ids[i]};
        cc_msg_peer_member_put(&members, &pm);
    }
    struct cc_msg m = {.type = CC_MSG_INSTALL};
    m.u.install.seq = ++c->seq;
    m.u.install.index = meta ? meta->index : 0;
    m.u.install.term = meta ? meta->term : 0;
    m.u.install.members = (struct cc_list){n, members.data, (uint32_t)members.len};
    struct cc_link *l = storage_link(c);
    if (l == NULL || members.failed || cc_link_send(l, &m) != 0)
        cc_error("cannot send INSTALL to storage");
    cc_buf_free(&members);
}

static int send_append(struct consensus *c, const struct cc_raft_update *u)
{
    struct cc_buf list;
    cc_buf_init(&list);
    for (size_t i = 0; i < u->n_entries; i++) {
        struct cc_entry e = to_record(&u->entries[i]);
        cc_msg_entry_put(&list, &e);
    }
    struct cc_msg m = {.type = CC_MSG_APPEND};
    m.u.append.seq = ++c->seq;
    m.u.append.term = u->hard_state.term;
    m.u.append.vote = u->hard_state.vote;
    /* The commit this update brings rides along: entries it covers are in
     * this APPEND or an earlier one. */
    m.u.append.commit = u->apply_to > c->apply_sent ? u->apply_to : c->apply_sent;
    if (m.u.append.commit > c->commit_told)
        c->commit_told = m.u.append.commit;
    m.u.append.entries = (struct cc_list){(uint32_t)u->n_entries, list.data, (uint32_t)list.len};
    struct cc_link *l = storage_link(c);
    int rc = l == NULL || list.failed || cc_link_send(l, &m) != 0 ? -1 : 0;
    cc_buf_free(&list);
    return rc;
}

/* Frames that wait for durability go to storage right behind the APPEND
 * they wait for; storage hands them to the peer worker once that is on
 * disk, a hop sooner than our own PERSISTED -> peer would (the answer to
 * the leader is on every write's path). Kept here when storage cannot
 * take them. */
static bool relay_via_storage(struct consensus *c, const struct cc_pending_persist *p)
{
    struct cc_link *l = storage_link(c);
    if (l == NULL || !l->up)
        return false;
    struct cc_msg m = {.type = CC_MSG_RELAY};
    m.u.relay.seq = p->seq;
    m.u.relay.count = p->n_frames;
    m.u.relay.frames = (struct cc_bytes){p->frames.data, (uint32_t)p->frames.len};
    if (p->frames.failed || cc_link_send(l, &m) != 0)
        return false;
    c->msgs_sent += p->n_frames;
    return true;
}

/* Storage needs the commit index to feed http what consensus no longer
 * holds, to seal snapshots and to store it in the hard state (where it is
 * only a hint: raft learns it again). A COMMIT message of its own for every
 * commit was one nanomsg message, a loop turn and a Berkeley DB transaction
 * per write on every member; now the next APPEND carries it, and a commit
 * no APPEND carried goes alone after this delay, like storage's own
 * reports to http. */
#define COMMIT_TELL_DELAY_MS 20

void cc_consensus_tell_commit(struct consensus *c)
{
    if (c->apply_sent <= c->commit_told)
        return;
    struct cc_link *l = storage_link(c);
    if (l == NULL || !l->up)
        return;
    struct cc_msg m = {.type = CC_MSG_COMMIT};
    m.u.commit.commit = c->apply_sent;
    if (cc_link_send(l, &m) == 0)
        c->commit_told = c->apply_sent;
}

static void tell_commit_soon(struct consensus *c)
{
    if (c->apply_sent <= c->commit_told || c->commit_ev == NULL ||
        evtimer_pending(c->commit_ev, NULL))
        return;
    struct timeval tv = {0, COMMIT_TELL_DELAY_MS * 1000};
    evtimer_add(c->commit_ev, &tv);
}

/* Committed entries go to the http worker straight from here as well as
 * from storage: the view applies whichever copy comes first (it skips
 * what it has), and this one is a hop earlier, which is most of a write's
 * latency after the quorum answered. Entries whose payload left the core's
 * cache are not sent: storage's stream delivers them, and the view waits
 * for it instead of skipping ahead. */
static void send_committed_to_http(struct consensus *c, const struct cc_raft_update *u)
{
    struct cc_link *l = cc_worker_link(c->w, CC_KIND_HTTP);
    cc_raft_index from = u->apply_from > c->http_sent + 1 ? u->apply_from : c->http_sent + 1;
    if (l == NULL || !l->up || from > u->apply_to)
        return;
    struct cc_buf list;
    cc_buf_init(&list);
    uint32_t n = 0;
    cc_raft_index i;
    struct cc_raft_entry e;
    for (i = from; i <= u->apply_to && cc_raft_entry_at(c->raft, i, &e); i++) {
        struct cc_entry r = to_record(&e);
        cc_msg_entry_put(&list, &r);
        n++;
    }
    c->http_sent = u->apply_to;
    if (i <= u->apply_to)
        cc_consensus_tell_commit(c); /* the view waits for storage's copy */
    if (n > 0 && !list.failed) {
        struct cc_msg m = {.type = CC_MSG_APPLIED};
        m.u.applied.raft_term = u->term;
        m.u.applied.entries = (struct cc_list){n, list.data, (uint32_t)list.len};
        cc_link_send(l, &m);
    }
    cc_buf_free(&list);
}

static void carry_out(struct consensus *c, const struct cc_raft_update *u, bool *want_snapshot)
{
    /* 1. persist */
    if (u->snapshot != NULL)
        send_install(c, u->snapshot);
    bool persist = u->n_entries > 0 || u->hard_state_changed || u->persist_index != 0;
    if (persist && send_append(c, u) != 0) {
        /* Without storage nothing can be promised: start over from disk. */
        cc_error("cannot hand an update to storage; restarting the raft core");
        cc_consensus_stop_raft(c);
        return;
    }
    /* 2. */
    struct cc_buf b;
    cc_buf_init(&b);
    uint32_t n = encode_msgs(c, &b, u->send, u->n_send);
    send_frames(c, &b, n);
    cc_buf_reset(&b);
    /* 3./4. */
    if (persist || u->snapshot != NULL || (u->n_send_after_persist > 0 && c->n_pend > 0)) {
        struct cc_pending_persist *p = push_pending(c);
        if (p == NULL) {
            cc_error("out of memory; restarting the raft core");
            cc_buf_free(&b);
            cc_consensus_stop_raft(c);
            return;
        }
        p->seq = c->seq;
        p->index = u->persist_index;
        p->term = u->persist_term;
        p->n_frames = encode_msgs(c, &p->frames, u->send_after_persist, u->n_send_after_persist);
        if (p->n_frames > 0 && relay_via_storage(c, p)) {
            cc_buf_reset(&p->frames);
            p->n_frames = 0;
        }
    } else {
        n = encode_msgs(c, &b, u->send_after_persist, u->n_send_after_persist);
        send_frames(c, &b, n);
    }
    cc_buf_free(&b);
    /* 5. */
    if (u->apply_to > c->apply_sent) {
        c->apply_sent = u->apply_to;
        send_committed_to_http(c, u);
        tell_commit_soon(c);
    }
    /* 6. */
    if (u->fetch_from != 0) {
        struct cc_msg m = {.type = CC_MSG_FETCH};
        m.u.fetch.from = u->fetch_from;
        m.u.fetch.to = u->fetch_to;
        struct cc_link *l = storage_link(c);
        if (l)
            cc_link_send(l, &m);
    }
    if (u->compact_to != 0) {
        struct cc_msg m = {.type = CC_MSG_COMPACT};
        m.u.compact.upto = u->compact_to + 1;
        struct cc_link *l = storage_link(c);
        if (l)
            cc_link_send(l, &m);
    }
    if (u->n_reads > 0)
        cc_consensus_reads_answered(c, u->reads, u->n_reads);
    *want_snapshot = u->want_snapshot;
    if (u->role != c->role || u->leader != c->leader || u->term != c->term) {
        bool changed = u->role != c->role || u->leader != c->leader;
        c->role = u->role;
        c->leader = u->leader;
        c->term = u->term;
        if (changed && c->role == CC_RAFT_LEADER)
            memset(&c->fstats, 0, sizeof(c->fstats));
        if (changed)
            c->leader_heard_at = cc_now();
        if (changed)
            cc_consensus_leader_changed(c);
    }
}

int cc_consensus_step(struct consensus *c, const struct cc_raft_event *ev)
{
    if (c->raft == NULL)
        return CC_RAFT_EINVAL;
    const struct cc_raft_update *u;
    int rc = cc_raft_step(c->raft, ev, &u);
    if (rc == CC_RAFT_ENOMEM) {
        cc_error("raft core out of memory; restarting it from durable state");
        cc_consensus_stop_raft(c);
        return rc;
    }
    bool want_snapshot = false;
    carry_out(c, u, &want_snapshot);
    if (c->raft != NULL && c->apply_sent > c->applied) {
        /* Handed to the state machine (see the top, 5.). */
        c->applied = c->apply_sent;
        struct cc_raft_event a = {.type = CC_RAFT_EVENT_APPLIED};
        a.applied.index = c->applied;
        cc_consensus_step(c, &a);
    }
    if (want_snapshot && c->raft != NULL)
        cc_consensus_ask_snapshot(c);
    return rc;
}

/* The view is serialised by http and made durable by storage; the core
 * asks once per snapshot, so an answer that never comes (a worker
 * restarting meanwhile) is asked for again from the tick. */
#define SNAPSHOT_RETRY_S 30.0

void cc_consensus_ask_snapshot(struct consensus *c)
{
    struct cc_link *l = cc_worker_link(c->w, CC_KIND_HTTP);
    c->snap_wanted = true;
    c->snap_asked_at = cc_now();
    if (l == NULL || !l->up)
        return;
    struct cc_msg m = {.type = CC_MSG_SNAPSHOT_MAKE};
    m.u.snapshot_make.index = c->applied;
    cc_link_send(l, &m);
}

void cc_consensus_snapshot_tick(struct consensus *c)
{
    if (c->snap_wanted && cc_now() - c->snap_asked_at > SNAPSHOT_RETRY_S)
        cc_consensus_ask_snapshot(c);
}

/* Storage's snapshot file reached index: the core may compact below it
 * (never past what it counts as applied). */
static void snapshot_durable(struct consensus *c, cc_raft_index index)
{
    cc_raft_index upto = index < cc_raft_applied(c->raft) ? index : cc_raft_applied(c->raft);
    if (upto <= c->snapshot_index)
        return;
    struct cc_raft_event ev = {.type = CC_RAFT_EVENT_SNAPSHOT_TAKEN};
    ev.snapshot_taken.index = upto;
    /* Refused only when the core's snapshot is already at least as new
     * (one installed from the leader): either way it has one up to here. */
    cc_consensus_step(c, &ev);
    c->snapshot_index = upto;
    c->snap_wanted = false;
}

void cc_consensus_on_persisted(struct consensus *c, const struct cc_msg_persisted *p)
{
    size_t k = 0;
    while (c->raft != NULL && k < c->n_pend && c->pend[k].seq <= p->seq) {
        struct cc_pending_persist *pp = &c->pend[k++];
        send_frames(c, &pp->frames, pp->n_frames);
        if (pp->index != 0) {
            struct cc_raft_event ev = {.type = CC_RAFT_EVENT_PERSISTED};
            ev.persisted.index = pp->index;
            ev.persisted.term = pp->term;
            cc_consensus_step(c, &ev);
        }
    }
    if (c->raft == NULL)
        return; /* stopped meanwhile; the queue is gone */
    for (size_t i = 0; i < k; i++)
        cc_buf_free(&c->pend[i].frames);
    if (k > 0) {
        memmove(c->pend, c->pend + k, (c->n_pend - k) * sizeof(*c->pend));
        c->n_pend -= k;
    }
    if (p->snapshot > c->snapshot_index)
        snapshot_durable(c, p->snapshot);
}

void cc_consensus_on_entries(struct consensus *c, const struct cc_msg_entries *m)
{
    if (c->raft == NULL)
        return;
    struct cc_raft_entry *ents = calloc(m->entries.count ? m->entries.count : 1, sizeof(*ents));
    uint8_t **bufs = calloc(m->entries.count ? m->entries.count : 1, sizeof(*bufs));
    size_t n = 0;
    struct cc_rd rd = cc_msg_list_reader(&m->entries);
    struct cc_entry e;
    while (ents && bufs && cc_msg_entry_next(&rd, &e) > 0) {
        struct cc_raft_entry *re = &ents[n];
        re->index = e.index;
        re->term = e.term;
        re->type = (enum cc_raft_entry_type)e.type;
        if (e.type == CC_RAFT_ENTRY_NORMAL) {
            /* put origin and req_id back in front (consensus.h) */
            uint8_t *d = malloc(CC_ENTRY_HEADER + (size_t)e.data.n);
            if (d == NULL)
                break;
            cc_entry_header_put(d, e.origin, e.req_id);
            if (e.data.n)
                memcpy(d + CC_ENTRY_HEADER, e.data.p, e.data.n);
            bufs[n] = d;
            re->data = d;
            re->len = CC_ENTRY_HEADER + (size_t)e.data.n;
        } else {
            re->data = e.data.p;
            re->len = e.data.n;
        }
        n++;
    }
    struct cc_raft_event ev = {.type = CC_RAFT_EVENT_ENTRIES_LOADED};
    ev.entries_loaded.entries = ents;
    ev.entries_loaded.n = n;
    cc_consensus_step(c, &ev);
    for (size_t i = 0; bufs && i < n; i++)
        free(bufs[i]);
    free(bufs);
    free(ents);
}

/* ---- snapshots, leader side ---- */

static void next_snapshot(struct consensus *c)
{
    if (c->snap_to != 0 || c->n_snap_queue == 0)
        return;
    c->snap_to = c->snap_queue[0];
    memmove(c->snap_queue, c->snap_queue + 1, --c->n_snap_queue * sizeof(c->snap_queue[0]));
    c->snap_meta_sent = false;
    struct cc_msg m = {.type = CC_MSG_SNAPSHOT_REQ};
    m.u.snapshot_req.to = c->snap_to;
    struct cc_link *l = storage_link(c);
    if (l == NULL || cc_link_send(l, &m) != 0) {
        struct cc_raft_event ev = {.type = CC_RAFT_EVENT_SNAPSHOT_STATUS};
        ev.snapshot_status.peer = c->snap_to;
        ev.snapshot_status.ok = false;
        c->snap_to = 0;
        cc_consensus_step(c, &ev);
    }
}

static void queue_snapshot(struct consensus *c, cc_raft_id to)
{
    if (to == c->snap_to)
        return;
    for (unsigned i = 0; i < c->n_snap_queue; i++)
        if (c->snap_queue[i] == to)
            return;
    if (c->n_snap_queue < CC_RAFT_MAX_MEMBERS)
        c->snap_queue[c->n_snap_queue++] = to;
    /* Not from inside carry_out's own loop: the status step would nest. */
    if (c->snap_to == 0)
        next_snapshot(c);
}

static void snapshot_done(struct consensus *c, bool ok)
{
    struct cc_raft_event ev = {.type = CC_RAFT_EVENT_SNAPSHOT_STATUS};
    ev.snapshot_status.peer = c->snap_to;
    ev.snapshot_status.ok = ok;
    if (ok)
        c->snapshots_sent++;
    cc_info("snapshot at %llu to %llx %s", (unsigned long long)c->snap_idx,
            (unsigned long long)c->snap_to, ok ? "sent" : "failed");
    c->snap_to = 0;
    cc_consensus_step(c, &ev);
    next_snapshot(c);
}

void cc_consensus_on_storage_chunk(struct consensus *c, const struct cc_msg_snapshot_chunk *ch)
{
    if (c->raft == NULL || c->snap_to == 0)
        return;
    if (ch->offset == 0) {
        struct cc_raft_msg m = {.type = CC_RAFT_MSG_SNAPSHOT,
                                .from = c->id.self_id,
                                .to = c->snap_to,
                                .term = cc_raft_current_term(c->raft)};
        if (cc_raft_role(c->raft) != CC_RAFT_LEADER ||
            cc_raft_snapshot_meta_at(c->raft, ch->index, &m.snapshot.meta) != 0) {
            snapshot_done(c, false);
            return;
        }
        struct cc_buf b;
        cc_buf_init(&b);
        if (cc_raft_wire_encode(&b, &m) == 0)
            send_frames(c, &b, 1);
        cc_buf_free(&b);
        c->snap_meta_sent = true;
        c->snap_idx = ch->index;
    } else if (!c->snap_meta_sent || ch->index != c->snap_idx) {
        return;
    }
    bool last = ch->offset + ch->data.n >= ch->total;
    struct cc_msg m = {.type = CC_MSG_SNAPSHOT_CHUNK_PEER};
    struct cc_msg_snapshot_chunk_peer *p = &m.u.snapshot_chunk_peer;
    p->term = cc_raft_current_term(c->raft);
    p->from = c->id.self_id;
    p->to = c->snap_to;
    p->index = ch->index;
    p->offset = ch->offset;
    p->total = ch->total;
    p->data = ch->data;
    p->last = last;
    struct cc_link *l = peer_link(c);
    if (l == NULL || cc_link_send(l, &m) != 0) {
        snapshot_done(c, false);
        return;
    }
    if (last)
        snapshot_done(c, true);
}

/* ---- snapshots, follower side, and every other raft message ---- */

void cc_consensus_on_peer_chunk(struct consensus *c, const struct cc_msg_snapshot_chunk_peer *ch)
{
    if (c->raft == NULL || !c->rx_active || ch->from != c->rx_msg.from ||
        ch->index != c->rx_msg.snapshot.meta.index || ch->offset != c->rx_offset)
        return;
    struct cc_msg m = {.type = CC_MSG_SNAPSHOT_CHUNK};
    m.u.snapshot_chunk.index = ch->index;
    m.u.snapshot_chunk.term = c->rx_msg.snapshot.meta.term;
    m.u.snapshot_chunk.offset = ch->offset;
    m.u.snapshot_chunk.total = ch->total;
    m.u.snapshot_chunk.data = ch->data;
    struct cc_link *l = storage_link(c);
    if (l == NULL || cc_link_send(l, &m) != 0) {
        c->rx_active = false;
        return;
    }
    c->rx_offset += ch->data.n;
    if (!ch->last && c->rx_offset < ch->total)
        return;
    /* Every byte is with storage: now raft may decide to install it. */
    c->rx_active = false;
    c->snapshots_received++;
    struct cc_raft_event ev = {.type = CC_RAFT_EVENT_RECEIVE};
    ev.receive.msg = &c->rx_msg;
    uint64_t seq_before = c->seq;
    cc_consensus_step(c, &ev);
    bool installed = c->seq > seq_before && c->raft != NULL;
    cc_info("snapshot at %llu from %llx received (%llu bytes)%s", (unsigned long long)ch->index,
            (unsigned long long)ch->from, (unsigned long long)c->rx_offset,
            installed ? "" : "; not needed");
    if (!installed)
        send_install(c, NULL); /* storage drops the bytes */
}

void cc_consensus_on_peer_raft(struct consensus *c, const struct cc_msg *frame)
{
    if (c->raft == NULL)
        return;
    static struct cc_raft_entry ents[RX_MAX_ENTRIES];
    struct cc_raft_msg m;
    if (cc_raft_wire_decode(frame, &m, ents, RX_MAX_ENTRIES) != 0 || m.to != c->id.self_id) {
        cc_warn("malformed raft message from the peer worker dropped");
        return;
    }
    c->msgs_received++;
    if (m.type == CC_RAFT_MSG_HEARTBEAT_RESP)
        cc_follower_latency(&c->fstats, m.from, cc_now());
    else if (m.type == CC_RAFT_MSG_APPEND_RESP)
        cc_follower_answered(&c->fstats, m.from, !m.append_resp.reject);
    else if (m.type == CC_RAFT_MSG_APPEND)
        c->recv_appends++;
    if (m.from == c->leader)
        cc_consensus_leader_heard(c);
    if (m.type == CC_RAFT_MSG_SNAPSHOT) {
        /* Held until its bytes arrived (cc_consensus_on_peer_chunk). */
        c->rx_msg = m;
        c->rx_active = true;
        c->rx_offset = 0;
        return;
    }
    struct cc_raft_event ev = {.type = CC_RAFT_EVENT_RECEIVE};
    ev.receive.msg = &m;
    cc_consensus_step(c, &ev);
}

/* ---- start and stop ---- */

int cc_consensus_start_raft(struct consensus *c, const struct cc_msg_log_state *ls)
{
    struct cc_raft_restore rs = {0};
    rs.hard_state = (struct cc_raft_hard_state){ls->term, ls->vote, ls->commit};
    rs.snapshot.index = ls->snapshot_index;
    rs.snapshot.term = ls->snapshot_term;
    struct cc_rd rd = cc_msg_list_reader(&ls->members);
    struct cc_peer_member pm;
    while (rs.snapshot.membership.n < CC_RAFT_MAX_MEMBERS && cc_msg_peer_member_next(&rd, &pm) > 0)
        rs.snapshot.membership.ids[rs.snapshot.membership.n++] = pm.id;
    rs.applied = ls->snapshot_index;
    rs.log_first = ls->first_index;
    rs.prev_term = ls->prev_term;
    rs.log_last = ls->last_index;
    struct cc_raft_term_run *terms = calloc(ls->terms.count + 1, sizeof(*terms));
    struct cc_raft_conf_point *confs = calloc(ls->confs.count + 1, sizeof(*confs));
    int rc = terms && confs ? 0 : CC_RAFT_ENOMEM;
    rd = cc_msg_list_reader(&ls->terms);
    struct cc_term_run tr;
    while (rc == 0 && cc_msg_term_run_next(&rd, &tr) > 0)
        terms[rs.n_terms++] = (struct cc_raft_term_run){tr.index, tr.term};
    rs.terms = terms;
    rd = cc_msg_list_reader(&ls->confs);
    struct cc_entry e;
    while (rc == 0 && cc_msg_entry_next(&rd, &e) > 0) {
        struct cc_raft_conf conf;
        if (cc_raft_conf_decode(e.data.p, e.data.n, &conf) != 0) {
            rc = CC_RAFT_ECORRUPT;
            break;
        }
        confs[rs.n_confs++] = (struct cc_raft_conf_point){e.index, conf.membership};
    }
    rs.confs = confs;
    uint64_t seed = (uint64_t)getpid() ^ (uint64_t)(cc_now() * 1e9);
    if (rc == 0)
        rc = cc_raft_new(&c->raft, c->id.self_id, &c->rcfg, seed, &rs);
    free(terms);
    free(confs);
    if (rc != 0) {
        cc_error("cannot start the raft core from the stored state (%s): term %llu, log "
                 "%llu..%llu, snapshot %llu",
                 cc_raft_strerror(rc), (unsigned long long)ls->term,
                 (unsigned long long)ls->first_index, (unsigned long long)ls->last_index,
                 (unsigned long long)ls->snapshot_index);
        return -1;
    }
    c->seq = 0;
    c->apply_sent = ls->snapshot_index;
    c->commit_told = ls->commit;
    c->applied = ls->snapshot_index;
    c->http_sent = ls->snapshot_index;
    c->snapshot_index = ls->snapshot_index;
    c->snap_wanted = false;
    c->role = CC_RAFT_FOLLOWER;
    c->leader = 0;
    c->term = ls->term;
    cc_info("raft started: member %llx, term %llu, log %llu..%llu, snapshot %llu, %u voter(s)",
            (unsigned long long)c->id.self_id, (unsigned long long)ls->term,
            (unsigned long long)ls->first_index, (unsigned long long)ls->last_index,
            (unsigned long long)ls->snapshot_index, rs.snapshot.membership.n);
    return 0;
}

void cc_consensus_stop_raft(struct consensus *c)
{
    cc_raft_free(c->raft);
    c->raft = NULL;
    for (size_t i = 0; i < c->n_pend; i++)
        cc_buf_free(&c->pend[i].frames);
    c->n_pend = 0;
    c->snap_to = 0;
    c->n_snap_queue = 0;
    c->rx_active = false;
    c->leader = 0;
    c->role = CC_RAFT_FOLLOWER;
}

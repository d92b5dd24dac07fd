/* The consensus worker: orders every write into the raft log, among the
 * members, with the raft core (core/raft) that consensus_driver.c drives.
 *
 *   http --PROPOSE--> consensus --(leader: raft)--> peers
 *                      |  (follower: PEER_PROPOSE to the leader's consensus)
 *   consensus --APPEND/COMMIT--> storage --PERSISTED--> consensus
 *   consensus, storage --APPLIED--> http (its view is the state machine; it
 *                              answers its request when the entry carrying
 *                              its member id and request id is applied)
 *
 * A follower's client writes go to the leader as PEER_PROPOSE; the leader
 * proposes them with the follower's member id as origin, so the follower's
 * http worker answers once its own view applied the entry: read your
 * writes on the member that took the request. While no leader is known,
 * proposals wait here (http gives up after its write timeout with error
 * 300).
 *
 * The leader also proposes etcd's time entry (SYNC) every 500 ms, so TTL
 * expiry happens at the same log position on every member, and every
 * member publishes its name and client URLs (/0/members/<id>/attributes)
 * once a leader is known, as etcd does. */
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/consensus/consensus.h"
#include "core/identity.h"
#include "core/log.h"
#include "core/v2/request_codec.h"
#include "ipc/link.h"

int cc_consensus_worker_main(struct cc_worker *w);

#define SYNC_INTERVAL_MS 500
/* Proposals kept while no leader is known; http's own timeout ends them. */
#define WAITING_MAX_BYTES (64u << 20)
#define WAITING_MAX_S     10.0

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Adds one proposal to this loop turn's batch (stepped in on_batch). */
static void batch_add(struct consensus *c, uint64_t origin, uint64_t req_id, const uint8_t *data,
                      uint32_t n)
{
    uint8_t head[CC_ENTRY_HEADER];
    cc_entry_header_put(head, origin, req_id);
    cc_put_u32(&c->batch, CC_ENTRY_HEADER + n);
    cc_put_raw(&c->batch, head, sizeof(head));
    cc_put_raw(&c->batch, data, n);
    if (c->n_batch++ == 0)
        event_active(c->batch_ev, EV_WRITE, 0);
}

static void forward(struct consensus *c, uint64_t req_id, const uint8_t *data, uint32_t n)
{
    struct cc_link *l = cc_worker_link(c->w, CC_KIND_PEER);
    struct cc_msg m = {.type = CC_MSG_PEER_PROPOSE};
    m.u.peer_propose.from = c->id.self_id;
    m.u.peer_propose.to = c->leader;
    m.u.peer_propose.req_id = req_id;
    m.u.peer_propose.data = (struct cc_bytes){data, n};
    if (l && cc_link_send(l, &m) == 0)
        c->forwarded++;
}

static void wait_for_leader(struct consensus *c, uint64_t req_id, const uint8_t *data, uint32_t n)
{
    if (c->waiting.len + n > WAITING_MAX_BYTES) {
        c->dropped++;
        return;
    }
    if (c->n_waiting == 0)
        c->waiting_since = cc_now();
    cc_put_u64(&c->waiting, req_id);
    cc_put_bytes(&c->waiting, data, n);
    c->n_waiting++;
}

/* A follower forwards to a leader it heard from within this many heartbeat
 * intervals; past that the leader may be gone, and a proposal sent to a dead
 * leader is lost (the client waits for its timeout), so it waits here for
 * the leader to show up again or for the next one. */
#define LEADER_SILENT_HEARTBEATS 3

bool cc_consensus_leader_alive(const struct consensus *c)
{
    unsigned hb = c->w->cfg.heartbeat_interval_ms ? c->w->cfg.heartbeat_interval_ms : 100;
    return c->leader != 0 &&
           cc_now() - c->leader_heard_at < LEADER_SILENT_HEARTBEATS * (double)hb / 1000.0;
}

/* A write from our http worker: proposed here when we lead, else sent to
 * the leader, else kept until there is one. */
static void remember_routed(struct consensus *c, uint64_t req_id)
{
    if (c->n_routed == c->cap_routed) {
        size_t cap = c->cap_routed ? c->cap_routed * 2 : 256;
        struct cc_routed *nv = realloc(c->routed, cap * sizeof(*nv));
        if (nv == NULL)
            return; /* that request will just wait for http's timeout */
        c->routed = nv;
        c->cap_routed = cap;
    }
    c->routed[c->n_routed++] = (struct cc_routed){req_id, cc_now()};
}

static void route_proposal(struct consensus *c, uint64_t req_id, const uint8_t *data, uint32_t n)
{
    if (c->raft != NULL && c->role == CC_RAFT_LEADER) {
        batch_add(c, c->id.self_id, req_id, data, n);
        remember_routed(c, req_id);
    } else if (c->raft != NULL && cc_consensus_leader_alive(c)) {
        forward(c, req_id, data, n);
        remember_routed(c, req_id);
    } else {
        wait_for_leader(c, req_id, data, n);
    }
}

static void fail_proposal(struct cc_link *l, uint64_t req_id, const char *cause);

/* The leader that took these proposals is gone (or we stopped leading):
 * each may or may not be committed by the next one. etcd answers such
 * requests with a timeout after its request timeout; they are answered the
 * same way now, so clients retry without waiting 7 s for nothing. */
static void fail_routed(struct consensus *c)
{
    struct cc_link *l = cc_worker_link(c->w, CC_KIND_HTTP);
    for (size_t i = 0; l != NULL && i < c->n_routed; i++)
        fail_proposal(l, c->routed[i].req_id,
                      "etcdserver: request timed out, possibly due to previous leader failure");
    c->n_routed = 0;
}

/* Entries older than http's write timeout were answered long ago. */
static void prune_routed(struct consensus *c)
{
    double cutoff = cc_now() - (5.0 + 2.0 * c->w->cfg.election_timeout_ms / 1000.0);
    size_t k = 0;
    while (k < c->n_routed && c->routed[k].at < cutoff)
        k++;
    if (k == 0)
        return; /* also: routed may still be NULL */
    memmove(c->routed, c->routed + k, (c->n_routed - k) * sizeof(*c->routed));
    c->n_routed -= k;
}

static void release_waiting(struct consensus *c)
{
    if (c->n_waiting == 0 || c->raft == NULL ||
        (c->role != CC_RAFT_LEADER && !cc_consensus_leader_alive(c)))
        return;
    struct cc_buf w = c->waiting;
    uint32_t n = c->n_waiting;
    cc_buf_init(&c->waiting);
    c->n_waiting = 0;
    struct cc_rd rd;
    cc_rd_init(&rd, w.data, w.len);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t req_id = cc_get_u64(&rd);
        uint32_t len = 0;
        const uint8_t *p = cc_get_bytes(&rd, &len);
        if (rd.bad)
            break;
        route_proposal(c, req_id, p, len);
    }
    cc_buf_free(&w);
}

static void on_batch(evutil_socket_t fd, short what, void *arg)
{
    struct consensus *c = arg;
    uint32_t n = c->n_batch;
    cc_consensus_reads_flush(c);
    if (n == 0)
        return;
    struct cc_raft_proposal *items = calloc(n, sizeof(*items));
    struct cc_rd rd;
    cc_rd_init(&rd, c->batch.data, c->batch.len);
    for (uint32_t i = 0; items && i < n; i++) {
        uint32_t len = cc_get_u32(&rd);
        items[i].data = cc_get_raw(&rd, len);
        items[i].len = len;
    }
    if (items != NULL && !rd.bad && c->raft != NULL) {
        struct cc_raft_event ev = {.type = CC_RAFT_EVENT_PROPOSE};
        ev.propose.items = items;
        ev.propose.n = n;
        int rc = cc_consensus_step(c, &ev);
        if (rc == CC_RAFT_OK) {
            c->proposals += n;
        } else {
            /* Leadership moved on this very turn: our own requests go to
             * the new leader; a follower's will time out there. */
            for (uint32_t i = 0; i < n; i++) {
                const uint8_t *d = items[i].data;
                uint64_t origin, req_id;
                cc_entry_header_get(d, &origin, &req_id);
                if (origin == c->id.self_id && req_id != 0)
                    route_proposal(c, req_id, d + CC_ENTRY_HEADER,
                                   (uint32_t)(items[i].len - CC_ENTRY_HEADER));
                else
                    c->dropped++;
            }
        }
    }
    free(items);
    cc_buf_reset(&c->batch);
    c->n_batch = 0;
}

static void propose_internal(struct consensus *c, const struct cc_v2_request *req)
{
    struct cc_buf b;
    cc_buf_init(&b);
    if (cc_v2_request_encode(&b, req) == 0 && !b.failed) {
        if (c->role == CC_RAFT_LEADER)
            batch_add(c, 0, 0, b.data, (uint32_t)b.len);
        else if (c->leader != 0)
            forward(c, 0, b.data, (uint32_t)b.len);
    } else {
        cc_error("cannot encode an internal request for %s", req->path);
    }
    cc_buf_free(&b);
}

/* etcd's publish: each member records its name and client URLs through
 * raft when it starts. */
static void publish_attributes(struct consensus *c)
{
    const struct cc_config *cfg = &c->w->cfg;
    char path[128], value[4096], urls[3500];
    snprintf(path, sizeof(path), "/0/members/%" PRIx64 "/attributes", c->id.self_id);
    cc_url_list_json(urls, sizeof(urls), &cfg->advertise_client_urls);
    snprintf(value, sizeof(value), "{\"name\":\"%s\",\"clientURLs\":%s}", cfg->name, urls);
    struct cc_v2_request r = {
        .method = CC_V2_PUT, .path = path, .value = {value, strlen(value)}, .prev_exist = -1};
    propose_internal(c, &r);
    c->published = true;
}

void cc_consensus_leader_heard(struct consensus *c)
{
    c->leader_heard_at = cc_now();
    release_waiting(c);
    if (c->n_rd_local > 0)
        event_active(c->batch_ev, EV_WRITE, 0);
}

void cc_consensus_leader_changed(struct consensus *c)
{
    c->elections_seen++;
    if (c->leader != 0)
        cc_info("%s in term %llu; leader %llx", cc_raft_role_name(c->role),
                (unsigned long long)c->term, (unsigned long long)c->leader);
    else
        cc_info("%s in term %llu; no leader", cc_raft_role_name(c->role),
                (unsigned long long)c->term);
    fail_routed(c);
    cc_consensus_reads_fail(c, 0);
    if (c->n_rd_local > 0)
        event_active(c->batch_ev, EV_WRITE, 0);
    if (c->leader == 0)
        return;
    if (!c->published)
        publish_attributes(c);
    release_waiting(c);
    if (c->transferring && c->leader != c->id.self_id)
        cc_worker_exit(c->w, 0); /* graceful stop: someone else leads now */
}

static void request_log_state(struct consensus *c)
{
    struct cc_link *l = cc_worker_link(c->w, CC_KIND_STORAGE);
    struct cc_msg m = {.type = CC_MSG_LOG_STATE_REQ};
    if (l && l->up)
        cc_link_send(l, &m);
}

static void on_log_state(struct consensus *c, const struct cc_msg_log_state *s)
{
    if (c->raft != NULL)
        return; /* an answer to a repeated request */
    if (cc_consensus_start_raft(c, s) != 0) {
        cc_worker_exit(c->w, 1);
        return;
    }
    c->published = false;
    const struct cc_raft_membership *m = cc_raft_membership(c->raft);
    if (m->n == 1 && m->ids[0] == c->id.self_id) {
        /* Alone in the cluster: nobody to wait for, so run through the
         * election timeout at once instead of leaving clients waiting. */
        for (unsigned i = 0;
             i < 2 * c->rcfg.election_ticks && c->role != CC_RAFT_LEADER && c->raft != NULL; i++) {
            struct cc_raft_event ev = {.type = CC_RAFT_EVENT_TICK};
            cc_consensus_step(c, &ev);
        }
    }
}

static void on_link_up(struct cc_worker *w, struct cc_link *l)
{
    struct consensus *c = w->state;
    if (l->peer == CC_KIND_HTTP && c->raft != NULL)
        cc_consensus_tell_commit(c); /* a new view syncs from storage */
    if (l->peer != CC_KIND_STORAGE)
        return;
    if (c->raft != NULL) {
        /* A new storage process lost whatever it had not committed: start
         * the core again from what is durable. */
        cc_info("storage restarted; restarting the raft core from its durable state");
        cc_consensus_stop_raft(c);
        fail_routed(c);
    }
    request_log_state(c);
}

static void answer_health(struct consensus *c, struct cc_link *l, uint64_t req_id)
{
    struct cc_link *storage = cc_worker_link(c->w, CC_KIND_STORAGE);
    struct cc_msg r = {.type = CC_MSG_HEALTH_RESP};
    r.u.health_resp.req_id = req_id;
    r.u.health_resp.healthy = c->raft != NULL && c->leader != 0 && storage && storage->up;
    r.u.health_resp.leader = c->raft ? c->leader : 0;
    r.u.health_resp.raft_index = c->raft ? cc_raft_commit(c->raft) : 0;
    r.u.health_resp.raft_term = c->term;
    r.u.health_resp.send_appends = c->send_appends;
    r.u.health_resp.recv_appends = c->recv_appends;
    struct cc_buf f;
    cc_buf_init(&f);
    if (c->role == CC_RAFT_LEADER)
        cc_follower_stats_json(&c->fstats, &f);
    r.u.health_resp.followers = (struct cc_bytes){f.data, f.failed ? 0 : (uint32_t)f.len};
    cc_link_send(l, &r);
    cc_buf_free(&f);
}

static void fail_proposal(struct cc_link *l, uint64_t req_id, const char *cause)
{
    struct cc_msg f = {.type = CC_MSG_PROPOSE_FAIL};
    f.u.propose_fail.req_id = req_id;
    f.u.propose_fail.code = 300;
    f.u.propose_fail.cause = (struct cc_bytes){(const uint8_t *)cause, (uint32_t)strlen(cause)};
    cc_link_send(l, &f);
}

static void on_link_msg(struct cc_worker *w, struct cc_link *l, const struct cc_msg *m)
{
    struct consensus *c = w->state;
    switch (m->type) {
    case CC_MSG_PROPOSE:
        if (w->stopping)
            fail_proposal(l, m->u.propose.req_id, "etcdserver: server stopped");
        else
            route_proposal(c, m->u.propose.req_id, m->u.propose.data.p, m->u.propose.data.n);
        break;
    case CC_MSG_PEER_PROPOSE: {
        const struct cc_msg_peer_propose *p = &m->u.peer_propose;
        if (c->raft != NULL && c->role == CC_RAFT_LEADER && p->to == c->id.self_id)
            batch_add(c, p->from, p->req_id, p->data.p, p->data.n);
        else
            c->dropped++; /* not the leader (any more): the member's client times out */
        break;
    }
    case CC_MSG_READ_INDEX:
        if (w->stopping) {
            struct cc_msg r = {.type = CC_MSG_READ_INDEX_RESP};
            r.u.read_index_resp.req_id = m->u.read_index.req_id;
            r.u.read_index_resp.code = 300;
            cc_link_send(l, &r);
        } else {
            cc_consensus_read_local(c, m->u.read_index.req_id);
        }
        break;
    case CC_MSG_PEER_READ_INDEX:
        cc_consensus_read_remote(c, &m->u.peer_read_index);
        break;
    case CC_MSG_PEER_READ_INDEX_RESP:
        cc_consensus_read_resp(c, &m->u.peer_read_index_resp);
        break;
    case CC_MSG_PERSISTED:
        cc_consensus_on_persisted(c, &m->u.persisted);
        break;
    case CC_MSG_LOG_STATE:
        on_log_state(c, &m->u.log_state);
        break;
    case CC_MSG_ENTRIES:
        cc_consensus_on_entries(c, &m->u.entries);
        break;
    case CC_MSG_SNAPSHOT_CHUNK:
        cc_consensus_on_storage_chunk(c, &m->u.snapshot_chunk);
        break;
    case CC_MSG_RAFT:
        cc_consensus_on_peer_raft(c, m);
        break;
    case CC_MSG_SNAPSHOT_CHUNK_PEER:
        cc_consensus_on_peer_chunk(c, &m->u.snapshot_chunk_peer);
        break;
    case CC_MSG_HEALTH_REQ:
        answer_health(c, l, m->u.health_req.req_id);
        break;
    default:
        cc_debug("link %s: %s ignored", l->def->name, cc_msg_name(m->type));
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct consensus *c = arg;
    if (c->raft == NULL)
        return;
    struct cc_raft_event ev = {.type = CC_RAFT_EVENT_TICK};
    cc_consensus_step(c, &ev);
    prune_routed(c);
    cc_consensus_snapshot_tick(c);
    cc_consensus_reads_fail(c, cc_now() - (5.0 + 2.0 * c->w->cfg.election_timeout_ms / 1000.0));
    if (c->n_waiting > 0 && cc_now() - c->waiting_since > WAITING_MAX_S) {
        /* http answered those with a timeout long ago */
        c->dropped += c->n_waiting;
        cc_buf_reset(&c->waiting);
        c->n_waiting = 0;
    }
}

static void on_commit_timer(evutil_socket_t fd, short what, void *arg)
{
    cc_consensus_tell_commit(arg);
}

static void on_sync_timer(evutil_socket_t fd, short what, void *arg)
{
    struct consensus *c = arg;
    if (c->raft == NULL) {
        /* The answer to LOG_STATE_REQ can be lost with a restarting
         * storage worker: ask again until it comes. */
        request_log_state(c);
        return;
    }
    if (c->w->stopping || c->role != CC_RAFT_LEADER)
        return;
    struct cc_v2_request r = {.method = CC_V2_SYNC, .path = "/", .prev_exist = -1};
    r.time_ns = wall_ns();
    propose_internal(c, &r);
}

static uint32_t inflight(struct cc_worker *w)
{
    struct consensus *c = w->state;
    return (uint32_t)c->n_pend + c->n_waiting;
}

static void detail_json(struct cc_worker *w, char *buf, size_t len)
{
    struct consensus *c = w->state;
    if (c->raft == NULL) {
        snprintf(buf, len, "{\"role\":\"starting\"}");
        return;
    }
    size_t off = (size_t)snprintf(
        buf, len,
        "{\"member\":\"%" PRIx64 "\",\"term\":%llu,\"role\":\"%s\",\"leader\":\"%" PRIx64
        "\",\"commit\":%llu,\"applied\":%llu,\"last_index\":%llu,\"proposals\":%llu,"
        "\"forwarded\":%llu,\"dropped\":%llu,\"waiting\":%u,\"msgs_sent\":%llu,"
        "\"msgs_received\":%llu,\"snapshots_sent\":%llu,\"snapshots_received\":%llu,\"peers\":[",
        c->id.self_id, (unsigned long long)cc_raft_current_term(c->raft),
        cc_raft_role_name(cc_raft_role(c->raft)), c->leader,
        (unsigned long long)cc_raft_commit(c->raft), (unsigned long long)c->applied,
        (unsigned long long)cc_raft_last_index(c->raft), (unsigned long long)c->proposals,
        (unsigned long long)c->forwarded, (unsigned long long)c->dropped, c->n_waiting,
        (unsigned long long)c->msgs_sent, (unsigned long long)c->msgs_received,
        (unsigned long long)c->snapshots_sent, (unsigned long long)c->snapshots_received);
    struct cc_raft_peer_status rows[CC_RAFT_MAX_MEMBERS];
    unsigned n = cc_raft_peer_status(c->raft, rows, CC_RAFT_MAX_MEMBERS);
    for (unsigned i = 0; i < n && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off,
                                "%s{\"id\":\"%" PRIx64 "\",\"match\":%llu,\"next\":%llu,"
                                "\"state\":\"%s\",\"active\":%s}",
                                i ? "," : "", rows[i].id, (unsigned long long)rows[i].match,
                                (unsigned long long)rows[i].next, rows[i].state,
                                rows[i].recent_active ? "true" : "false");
    if (off < len)
        snprintf(buf + off, len - off, "]}");
}

static void on_stop_timer(evutil_socket_t fd, short what, void *arg)
{
    struct consensus *c = arg;
    cc_worker_exit(c->w, 0);
}

/* A leader stopping gracefully hands leadership to the most up-to-date
 * follower first, so the cluster does not wait an election timeout. */
static void on_stop(struct cc_worker *w, unsigned deadline_ms)
{
    struct consensus *c = w->state;
    /* So that a restart replays every write this member acknowledged. */
    cc_consensus_tell_commit(c);
    struct cc_link *storage = cc_worker_link(w, CC_KIND_STORAGE);
    if (storage != NULL)
        cc_link_flush_now(storage);
    const struct cc_raft_membership *m = c->raft ? cc_raft_membership(c->raft) : NULL;
    if (c->raft == NULL || c->role != CC_RAFT_LEADER || m->n < 2) {
        cc_worker_exit(w, 0);
        return;
    }
    struct cc_raft_event ev = {.type = CC_RAFT_EVENT_TRANSFER};
    ev.transfer.target = 0;
    c->transferring = true;
    if (cc_consensus_step(c, &ev) != CC_RAFT_OK) {
        cc_worker_exit(w, 0);
        return;
    }
    cc_info("stopping: handing leadership over");
    unsigned ms = deadline_ms > 200 ? deadline_ms - 100 : deadline_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    c->stop_ev = evtimer_new(w->base, on_stop_timer, c);
    if (c->stop_ev)
        evtimer_add(c->stop_ev, &tv);
    else
        cc_worker_exit(w, 0);
}

static void on_exit_hook(struct cc_worker *w)
{
    struct consensus *c = w->state;
    cc_consensus_stop_raft(c);
    free(c->pend);
    free(c->routed);
    cc_consensus_reads_free(c);
    cc_buf_free(&c->batch);
    cc_buf_free(&c->waiting);
    if (c->stop_ev)
        event_free(c->stop_ev);
    event_free(c->tick_ev);
    if (c->commit_ev)
        event_free(c->commit_ev);
    event_free(c->sync_ev);
    event_free(c->batch_ev);
    cc_cluster_def_free(&c->id);
}

static void raft_config(struct consensus *c)
{
    const struct cc_config *cfg = &c->w->cfg;
    cc_raft_config_default(&c->rcfg);
    unsigned hb = cfg->heartbeat_interval_ms ? cfg->heartbeat_interval_ms : 100;
    unsigned el = cfg->election_timeout_ms ? cfg->election_timeout_ms : 1000;
    c->rcfg.heartbeat_ticks = 1;
    c->rcfg.election_ticks = el / hb > 2 ? el / hb : 2;
    c->rcfg.pre_vote = true;
    c->rcfg.check_quorum = true;
    c->rcfg.max_msg_entries = 1024;
    c->rcfg.max_msg_bytes = 1u << 20;
    c->rcfg.max_inflight_msgs = 256;
    /* Payloads of applied entries kept for followers slightly behind
     * (~4 000 entries of ~250 bytes); older ones are read back from storage
     * when needed. Snapshots can be ~100 000 entries apart (http paces them
     * by size), and at the core's default of 64 MiB those entries would
     * stay in memory. */
    c->rcfg.max_cache_bytes = 1u << 20;
    uint64_t sc = cfg->snapshot_count ? cfg->snapshot_count : 10000;
    c->rcfg.snapshot_threshold = sc;
    /* etcd keeps 5000 entries behind a snapshot for followers slightly
     * behind; a small --snapshot-count keeps proportionally fewer. */
    c->rcfg.snapshot_trailing = sc / 2 < 5000 ? (sc / 2 ? sc / 2 : 1) : 5000;
}

int cc_consensus_worker_main(struct cc_worker *w)
{
    static struct consensus c;
    c.w = w;
    w->state = &c;
    cc_buf_init(&c.batch);
    cc_buf_init(&c.waiting);
    char err[512];
    if (cc_identity_load(&w->cfg, &c.id, err, sizeof(err)) != 0) {
        cc_error("%s", err);
        return 1;
    }
    raft_config(&c);
    w->on_link_msg = on_link_msg;
    w->on_link_up = on_link_up;
    w->on_stop = on_stop;
    w->on_exit = on_exit_hook;
    w->inflight = inflight;
    w->detail_json = detail_json;
    c.batch_ev = event_new(w->base, -1, 0, on_batch, &c);
    c.tick_ev = event_new(w->base, -1, EV_PERSIST, on_tick, &c);
    c.sync_ev = event_new(w->base, -1, EV_PERSIST, on_sync_timer, &c);
    c.commit_ev = evtimer_new(w->base, on_commit_timer, &c);
    unsigned hb = w->cfg.heartbeat_interval_ms ? w->cfg.heartbeat_interval_ms : 100;
    struct timeval tick = {hb / 1000, (hb % 1000) * 1000};
    struct timeval sync = {0, SYNC_INTERVAL_MS * 1000};
    event_add(c.tick_ev, &tick);
    event_add(c.sync_ev, &sync);
    if (cc_worker_open_links(w) != 0)
        return 1;
    cc_worker_ready(w);
    return cc_worker_loop(w);
}

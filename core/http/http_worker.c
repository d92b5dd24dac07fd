/* The client-HTTP worker: serves the client URLs on the listening sockets it
 * inherits from the master.
 *
 * Routing: /v2/keys (keys.c), /v2/members, /v2/machines, /v2/stats/...
 * (cluster_api.c), /version and /health (here). It keeps a view of the store
 * (view.c) fed by storage, proposes writes to consensus, and asks consensus
 * every 500 ms who leads in which term (also what /health reports).
 *
 * Graceful stop: it stops accepting (the master keeps the listening sockets
 * open, so connections wait in the backlog for the next http worker), ends
 * its watches, answers what is in flight, then exits. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/http/http.h"
#include "core/identity.h"
#include "core/log.h"
#include "core/v2/node_pool.h"
#include "core/version.h"

int cc_http_worker_main(struct cc_worker *w);

/* A stopping worker exits once no request has arrived or completed for this
 * long: a connection accepted just before the stop may still be sending its
 * request (a connection counts only once a whole request is in). */
#define STOP_QUIET_MS 250
/* etcd waits up to 3 x 250 ms for the raft index to move before it calls a
 * member unhealthy; a consensus worker that does not answer within that is
 * unhealthy too. */
#define HEALTH_TIMEOUT_MS 750
#define RAFT_POLL_MS      500

struct pending_health {
    struct pending_health *next;
    uint64_t id;
    struct cc_hreq *req; /* NULL: our own poll of the raft status */
    struct event *timer;
    struct cc_http *h;
};

int64_t cc_http_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void cc_http_reply(struct cc_hreq *req, int code, const char *reason, const char *ctype,
                   const void *body, size_t len)
{
    if (ctype)
        cc_hreq_add_header(req, "Content-Type", ctype);
    cc_hreq_reply(req, code, reason, body, len);
}

void cc_http_add_cluster_id(struct cc_http *h, struct cc_hreq *req)
{
    char id[24];
    snprintf(id, sizeof(id), "%llx", (unsigned long long)h->cluster.cluster_id);
    cc_hreq_add_header(req, "X-Etcd-Cluster-Id", id);
}

/* A stopping worker goes once every client connection it knows has closed
 * (each answer during the stop says "Connection: close"), nothing is in
 * flight, and nothing has moved for STOP_QUIET_MS; or at its deadline. */
static void maybe_finish_stop(struct cc_http *h)
{
    if (h->w->stopping && cc_hserver_busy_conns(h->server) == 0 && h->n_health == 0 &&
        h->n_writes == 0 && h->active == 0 && cc_now() - h->last_activity >= STOP_QUIET_MS / 1000.0)
        cc_worker_exit(h->w, 0);
}

static void on_stop_check(evutil_socket_t fd, short what, void *arg)
{
    maybe_finish_stop(arg);
}

/* ---- health and the raft status ---- */

static void health_done(struct cc_http *h, struct pending_health *p, bool healthy)
{
    for (struct pending_health **pp = &h->health; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    h->n_health--;
    /* etcd 2.3 writes the body with a space and lets Go sniff text/plain. */
    if (p->req && healthy)
        cc_http_reply(p->req, 200, "OK", "text/plain; charset=utf-8", "{\"health\": \"true\"}", 18);
    else if (p->req)
        cc_http_reply(p->req, 503, "Service Unavailable", "text/plain; charset=utf-8",
                      "{\"health\": \"false\"}", 19);
    event_free(p->timer);
    free(p);
    maybe_finish_stop(h);
}

static void on_health_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct pending_health *p = arg;
    health_done(p->h, p, false);
}

static void ask_consensus(struct cc_http *h, struct cc_hreq *req)
{
    struct cc_link *l = cc_worker_link(h->w, CC_KIND_CONSENSUS);
    struct pending_health *p = calloc(1, sizeof(*p));
    if (l == NULL || !l->up || p == NULL) {
        free(p);
        if (req)
            cc_http_reply(req, 503, "Service Unavailable", "text/plain; charset=utf-8",
                          "{\"health\": \"false\"}", 19);
        return;
    }
    p->id = ++h->next_health_id;
    p->req = req;
    p->h = h;
    p->timer = evtimer_new(h->w->base, on_health_timeout, p);
    struct timeval tv = {0, HEALTH_TIMEOUT_MS * 1000};
    evtimer_add(p->timer, &tv);
    p->next = h->health;
    h->health = p;
    h->n_health++;
    struct cc_msg m = {.type = CC_MSG_HEALTH_REQ};
    m.u.health_req.req_id = p->id;
    cc_link_send(l, &m);
}

static void on_health_resp(struct cc_http *h, const struct cc_msg_health_resp *r)
{
    if (r->leader != h->leader) {
        h->leader = r->leader;
        h->leader_since = (double)cc_http_now_ns() / 1e9;
    }
    h->term = r->raft_term;
    h->send_appends = r->send_appends;
    h->recv_appends = r->recv_appends;
    free(h->followers_json);
    h->followers_json =
        r->followers.n ? strndup((const char *)r->followers.p, r->followers.n) : NULL;
    for (struct pending_health *p = h->health; p; p = p->next)
        if (p->id == r->req_id) {
            /* Healthy: a leader, and this member's view follows the log. */
            health_done(h, p, r->healthy && r->leader != 0 && cc_view_ready(&h->view));
            return;
        }
}

/* The view serves only once it reached a read index confirmed after this
 * process started (view.h): one ReadIndex round, like a quorum read's. It
 * waits inside consensus while there is no leader; a failed round is asked
 * again on the next poll. */
static void ask_barrier(struct cc_http *h)
{
    struct cc_link *l = cc_worker_link(h->w, CC_KIND_CONSENSUS);
    if (h->view.barrier_known || h->barrier_req != 0 || l == NULL || !l->up || h->w->stopping)
        return;
    struct cc_msg m = {.type = CC_MSG_READ_INDEX};
    m.u.read_index.req_id = ++h->next_req_id;
    if (cc_link_send(l, &m) == 0)
        h->barrier_req = m.u.read_index.req_id;
}

static void on_barrier(struct cc_http *h, uint64_t index, int code)
{
    h->barrier_req = 0;
    if (code != 0) {
        cc_debug("view: no start-up read index yet (code %d); asking again", code);
        return;
    }
    cc_view_set_barrier(&h->view, index);
}

static void on_raft_poll(evutil_socket_t fd, short what, void *arg)
{
    struct cc_http *h = arg;
    if (!h->w->stopping)
        ask_consensus(h, NULL);
    ask_barrier(h);
    cc_view_tick(&h->view, cc_worker_link(h->w, CC_KIND_STORAGE));
}

/* ---- routing ---- */

static void on_request_done(struct cc_hreq *req, void *arg)
{
    struct cc_http *h = arg;
    h->active--;
    h->last_activity = cc_now();
}

void cc_http_method_not_allowed(struct cc_hreq *req, const char *allow)
{
    if (allow)
        cc_hreq_add_header(req, "Allow", allow);
    cc_http_reply(req, 405, "Method Not Allowed", "text/plain; charset=utf-8",
                  "Method Not Allowed\n", strlen("Method Not Allowed\n"));
}

static void on_request(struct cc_hreq *req, void *arg)
{
    struct cc_http *h = arg;
    h->requests++;
    h->active++;
    h->last_activity = cc_now();
    const char *target = cc_hreq_target(req);
    enum cc_hmethod cmd = cc_hreq_method(req);
    /* etcd's CORS wrapper answers OPTIONS before any routing. */
    if (cmd == CC_HM_OPTIONS) {
        cc_http_reply(req, 200, "OK", NULL, NULL, 0);
        return;
    }
    size_t plen = strcspn(target, "?");
    char path[64];
    snprintf(path, sizeof(path), "%.*s", (int)(plen < sizeof(path) ? plen : sizeof(path) - 1),
             target);
    if (strncmp(target, "/v2/keys", 8) == 0 || (target[0] == '/' && strstr(target, "//"))) {
        cc_keys_handle(h, req);
        return;
    }
    if (plen < sizeof(path) && cc_cluster_api_handle(h, req, path))
        return;
    if (strcmp(path, "/version") == 0) {
        if (cmd != CC_HM_GET && cmd != CC_HM_HEAD)
            cc_http_method_not_allowed(req, "GET");
        else
            cc_http_reply(req, 200, "OK", "application/json", CC_VERSION_JSON,
                          strlen(CC_VERSION_JSON));
        return;
    }
    if (strcmp(path, "/health") == 0) {
        if (cmd != CC_HM_GET && cmd != CC_HM_HEAD)
            cc_http_method_not_allowed(req, "GET");
        else
            ask_consensus(h, req);
        return;
    }
    cc_http_reply(req, 404, "Not Found", "text/plain; charset=utf-8", "404 page not found\n",
                  strlen("404 page not found\n"));
}

/* ---- snapshots (snapshot_child.h) ---- */

static void on_snapshot_written(void *ctx, bool ok, uint64_t index, uint64_t len, uint64_t hash)
{
    struct cc_http *h = ctx;
    struct cc_link *l = cc_worker_link(h->w, CC_KIND_STORAGE);
    if (!ok || l == NULL)
        return; /* consensus asks again */
    struct cc_msg m = {.type = CC_MSG_SNAPSHOT_SAVE};
    m.u.snapshot_save.index = index;
    m.u.snapshot_save.total = len;
    m.u.snapshot_save.hash = hash;
    cc_link_send(l, &m);
    h->snapshots_written++;
    h->snap_last_bytes = len;
    h->snap_wanted = false;
    cc_info("view written out at raft index %llu (%llu bytes) for storage",
            (unsigned long long)index, (unsigned long long)len);
}

/* Consensus asks every --snapshot-count entries, as etcd does; but a
 * snapshot writes the whole store, so with a large store and small writes
 * that alone would cost many times the log's own bytes (100 000 keys:
 * 23 MB per 10 000 writes of ~250 bytes, a third of a member's write rate
 * measured on one member). So a snapshot also waits until the entries
 * applied since the last one add up to that one's size: writing snapshots
 * then costs at most as many bytes as the log, and for a small store the
 * count decides as before. */
static void start_snapshot(struct cc_http *h)
{
    if (!h->snap_wanted || !cc_view_ready(&h->view) || cc_snapshot_child_running(&h->snap_child) ||
        h->view.applied_bytes - h->snap_applied_bytes < h->snap_last_bytes)
        return;
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/member", h->w->cfg.data_dir);
    if (cc_snapshot_child_start(&h->snap_child, h->w->base, h->view.store, h->view.raft_index,
                                dir) == 0)
        h->snap_applied_bytes = h->view.applied_bytes;
}

/* ---- links ---- */

static void on_link_msg(struct cc_worker *w, struct cc_link *l, const struct cc_msg *m)
{
    struct cc_http *h = w->state;
    switch (m->type) {
    case CC_MSG_APPLIED:
        /* From storage, or committed entries straight from consensus; only
         * storage can fill a gap. */
        cc_view_on_applied(&h->view, l->peer == CC_KIND_STORAGE ? l : NULL, &m->u.applied);
        if (h->n_read_waits > 0)
            cc_keys_serve_reads(h);
        if (h->snap_wanted)
            start_snapshot(h);
        break;
    case CC_MSG_SNAPSHOT_CHUNK:
        cc_view_on_snapshot_chunk(&h->view, &m->u.snapshot_chunk);
        if (h->n_read_waits > 0)
            cc_keys_serve_reads(h);
        break;
    case CC_MSG_SNAPSHOT_MAKE:
        h->snap_wanted = true;
        start_snapshot(h);
        break;
    case CC_MSG_READ_INDEX_RESP:
        if (m->u.read_index_resp.req_id == h->barrier_req && h->barrier_req != 0) {
            on_barrier(h, m->u.read_index_resp.index, m->u.read_index_resp.code);
            break;
        }
        cc_keys_on_read_index(h, m->u.read_index_resp.req_id, m->u.read_index_resp.index,
                              m->u.read_index_resp.code);
        break;
    case CC_MSG_HEALTH_RESP:
        on_health_resp(h, &m->u.health_resp);
        break;
    case CC_MSG_PROPOSE_FAIL:
        cc_keys_on_propose_fail(h, m->u.propose_fail.req_id, m->u.propose_fail.code,
                                (const char *)m->u.propose_fail.cause.p, m->u.propose_fail.cause.n);
        break;
    default:
        cc_debug("link %s: %s ignored", l->def->name, cc_msg_name(m->type));
    }
}

static void on_link_up(struct cc_worker *w, struct cc_link *l)
{
    struct cc_http *h = w->state;
    if (l->peer == CC_KIND_STORAGE) {
        /* A new storage worker: whatever was in flight from the old one is
         * gone; catch up from our last applied entry. */
        cc_view_request_sync(&h->view, l);
    } else if (l->peer == CC_KIND_CONSENSUS) {
        /* Proposals the previous consensus worker held did not survive it;
         * those it had handed to storage may still be applied later, as
         * after etcd's own timeout. A barrier round it held is asked anew. */
        if (h->n_writes > 0 && l->peer_gen > 0)
            cc_keys_fail_all_writes(h, "etcdserver: request timed out, possibly due to previous "
                                       "leader failure");
        h->barrier_req = 0;
        ask_barrier(h);
    }
}

static void on_stop(struct cc_worker *w, unsigned deadline_ms)
{
    struct cc_http *h = w->state;
    /* Every answer from now on closes its connection; idle ones close now. */
    cc_hserver_stop_accepting(h->server);
    /* A waiting watch ends with what it has (etcd may close one with an
     * empty 200; clients retry). */
    cc_keys_end_watches(h);
    h->last_activity = cc_now();
    h->stop_check = event_new(w->base, -1, EV_PERSIST, on_stop_check, h);
    struct timeval tv = {0, 50 * 1000};
    event_add(h->stop_check, &tv);
}

static void on_exit_hook(struct cc_worker *w)
{
    struct cc_http *h = w->state;
    cc_keys_free(h);
    while (h->health)
        health_done(h, h->health, false);
    if (h->stop_check)
        event_free(h->stop_check);
    cc_hserver_free(h->server);
    cc_snapshot_child_stop(&h->snap_child);
    cc_view_free(&h->view);
    cc_cluster_def_free(&h->cluster);
    free(h->followers_json);
    free(h->read_waits);
}

static uint32_t inflight(struct cc_worker *w)
{
    struct cc_http *h = w->state;
    return h->n_writes + h->n_health + h->n_waiting;
}

static void detail_json(struct cc_worker *w, char *buf, size_t len)
{
    struct cc_http *h = w->state;
    struct cc_v2_pool_stats pool;
    cc_v2_pool_stats(&pool);
    snprintf(
        buf, len,
        "{\"listeners\":%zu,\"requests\":%llu,\"writes\":%u,\"watches\":%u,"
        "\"cut_slow\":%llu,\"view_raft_index\":%llu,\"view_etcd_index\":%llu,\"view_syncs\":%llu,"
        "\"snapshots_written\":%llu,\"node_pool_bytes\":%zu,\"node_pool_used_bytes\":%zu}",
        cc_hserver_listeners(h->server), (unsigned long long)h->requests, h->n_writes, h->n_watches,
        (unsigned long long)cc_hserver_cut_slow(h->server), (unsigned long long)h->view.raft_index,
        (unsigned long long)(h->view.store ? cc_v2_store_index(h->view.store) : 0),
        (unsigned long long)h->view.syncs, (unsigned long long)h->snapshots_written,
        pool.slab_bytes, pool.used_bytes);
}

/* The admin socket's `hash`: the view is this member's state machine. */
static void on_control_msg(struct cc_worker *w, const struct cc_msg *m)
{
    struct cc_http *h = w->state;
    if (m->type != CC_MSG_HASH_REQ)
        return;
    struct cc_msg r = {.type = CC_MSG_HASH_RESP};
    r.u.hash_resp.req_id = m->u.hash_req.req_id;
    if (cc_view_hash(&h->view, &r.u.hash_resp.index, &r.u.hash_resp.hash) != 0)
        cc_warn("cannot hash the view (not loaded yet?)");
    cc_control_send(&w->ctl, &r);
}

int cc_http_worker_main(struct cc_worker *w)
{
    static struct cc_http h;
    h.w = w;
    w->state = &h;
    char err[256];
    if (cc_identity_load(&w->cfg, &h.cluster, err, sizeof(err)) != 0) {
        cc_error("%s", err);
        return 1;
    }
    h.started_wall = (double)cc_http_now_ns() / 1e9;
    h.write_timeout_ms = 5000 + 2 * w->cfg.election_timeout_ms;
    /* Request ids stay unique across restarts of this worker and of the
     * whole node (an entry proposed before a restart may be applied after
     * it): start from the wall clock in nanoseconds, which a process never
     * outruns with one id per request. */
    h.next_req_id = (uint64_t)cc_http_now_ns();
    h.waiting_tail = &h.waiting_head;
    cc_view_init(&h.view, h.cluster.self_id, cc_keys_on_result, cc_keys_on_synced, &h);
    cc_snapshot_child_init(&h.snap_child, on_snapshot_written, &h);
    w->on_link_msg = on_link_msg;
    w->on_link_up = on_link_up;
    w->on_control_msg = on_control_msg;
    w->on_stop = on_stop;
    w->on_exit = on_exit_hook;
    w->inflight = inflight;
    w->detail_json = detail_json;
    struct cc_hserver_cfg hc = {
        .max_head = CC_HTTP_MAX_HEADERS,
        .max_body = w->cfg.max_request_bytes,
        .idle_timeout_s = CC_HTTP_IDLE_TIMEOUT_S,
        .first_request_s = CC_HTTP_FIRST_REQUEST_S,
        .on_request = on_request,
        .on_done = on_request_done,
        .arg = &h,
    };
    h.server = cc_hserver_new(w->base, &hc);
    if (h.server == NULL) {
        cc_error("cannot create the HTTP server");
        return 1;
    }
    for (size_t i = 0; i < w->n_listen; i++)
        if (cc_hserver_listen(h.server, w->listen_fds[i]) != 0) {
            cc_error("cannot serve HTTP on inherited socket %d", w->listen_fds[i]);
            return 1;
        }
    /* The server owns the descriptors now. */
    w->n_listen = 0;
    struct event *poll = event_new(w->base, -1, EV_PERSIST, on_raft_poll, &h);
    struct timeval tv = {0, RAFT_POLL_MS * 1000};
    event_add(poll, &tv);
    int rc = 1;
    if (cc_worker_open_links(w) == 0) {
        cc_worker_ready(w);
        rc = cc_worker_loop(w);
    }
    event_free(poll);
    return rc;
}

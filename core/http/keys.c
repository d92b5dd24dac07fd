/* /v2/keys: etcd 2's keys API (V2-CONTRACT §1).
 *
 *   parse (core/v2/params.c) -> answer parse errors at once
 *   GET/HEAD        -> the local view, no round trip
 *   GET wait=true   -> a watcher on the view; headers flushed at once
 *   PUT/POST/DELETE -> PROPOSE to consensus; the answer is written when the
 *                      view applies the entry (storage has made it durable
 *                      by then), or error 300 after the write timeout
 *                      (5 s + 2 x election timeout, as etcd)
 *   quorum GET      -> READ_INDEX to consensus (raft's ReadIndex, no log
 *                      write; etcd 2 wrote every one to the log): once the
 *                      view applied the index it answers, the read is served
 *                      from the view */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/http/http.h"
#include "core/log.h"
#include "core/v2/errors.h"
#include "core/v2/json.h"
#include "core/v2/params.h"
#include "core/v2/request_codec.h"

/* Reads that may wait for the view's first load; past this, 503. */
#define MAX_WAITING 100000
/* A stream watcher whose client does not read: past this much unsent
 * output it is dropped (etcd drops a watcher whose 100-event buffer fills). */
#define WATCH_MAX_BACKLOG (256u << 10)

struct cc_pending_write {
    struct cc_pending_write *next;
    uint64_t req_id;
    struct cc_hreq *req;
    struct event *timer;
    struct cc_http *h;
    bool no_value;
    /* a quorum read: what to read once the view reached the read index */
    char *read_path;
    bool recursive, sorted;
};

struct cc_waiting {
    struct cc_waiting *next;
    struct cc_hreq *req;
};

struct cc_watch {
    struct cc_watch *prev, *next;
    struct cc_http *h;
    struct cc_hreq *req;
    struct cc_v2_watcher *watcher;
    bool stream;
};

static void add_u64_header(struct cc_hreq *req, const char *name, uint64_t v)
{
    char num[24];
    snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
    cc_hreq_add_header(req, name, num);
}

static void send_buf(struct cc_hreq *req, int code, const char *reason, const struct cc_buf *b)
{
    cc_hreq_reply(req, code, reason, b->data, b->len);
}

static void reply_error(struct cc_http *h, struct cc_hreq *req, const struct cc_v2_error *e)
{
    struct cc_buf b;
    cc_buf_init(&b);
    cc_v2_render_error(&b, e);
    const char *reason = "Bad Request";
    int code = cc_v2_error_status(e->code, &reason);
    cc_hreq_add_header(req, "Content-Type", "application/json");
    add_u64_header(req, "X-Etcd-Index", e->index);
    send_buf(req, code, reason, &b);
    cc_buf_free(&b);
}

static void reply_raft_error(struct cc_http *h, struct cc_hreq *req, const char *cause)
{
    struct cc_v2_error e;
    cc_v2_error_set(&e, CC_V2_E_RAFT_INTERNAL, cause, 0);
    reply_error(h, req, &e);
}

static void add_raft_headers(struct cc_http *h, struct cc_hreq *req, uint64_t raft_index)
{
    add_u64_header(req, "X-Raft-Index", raft_index);
    add_u64_header(req, "X-Raft-Term", h->view.raft_term);
}

/* etcd's writeKeyEvent: 201 when the event created the node. */
static void reply_event(struct cc_http *h, struct cc_hreq *req, const struct cc_v2_event *ev,
                        uint64_t raft_index, bool no_value)
{
    struct cc_buf b;
    cc_buf_init(&b);
    cc_v2_render_event_ex(&b, ev, cc_http_now_ns(), no_value);
    cc_hreq_add_header(req, "Content-Type", "application/json");
    add_u64_header(req, "X-Etcd-Index", ev->etcd_index);
    add_raft_headers(h, req, raft_index);
    bool created =
        ev->action == CC_V2_ACT_CREATE || (ev->action == CC_V2_ACT_SET && ev->prev_node == NULL);
    if (b.failed) {
        cc_buf_free(&b);
        cc_http_reply(req, 500, "Internal Server Error", NULL, NULL, 0);
        return;
    }
    send_buf(req, created ? 201 : 200, created ? "Created" : "OK", &b);
    cc_buf_free(&b);
}

static void reply_result(struct cc_http *h, struct cc_hreq *req, struct cc_v2_result *res,
                         uint64_t raft_index, bool no_value)
{
    if (res->event)
        reply_event(h, req, res->event, raft_index, no_value);
    else if (res->err.code)
        reply_error(h, req, &res->err);
    else
        reply_raft_error(h, req, "etcdserver: empty result");
}

/* ---- writes and quorum reads ---- */

static struct cc_pending_write **bucket(struct cc_http *h, uint64_t id)
{
    return &h->writes[(id * 0x9E3779B97F4A7C15ULL) >> 52 & (CC_HTTP_WRITE_BUCKETS - 1)];
}

static struct cc_pending_write *take_write(struct cc_http *h, uint64_t id)
{
    for (struct cc_pending_write **pp = bucket(h, id); *pp; pp = &(*pp)->next)
        if ((*pp)->req_id == id) {
            struct cc_pending_write *p = *pp;
            *pp = p->next;
            h->n_writes--;
            return p;
        }
    return NULL;
}

static struct cc_pending_write *find_write(struct cc_http *h, uint64_t id)
{
    for (struct cc_pending_write *p = *bucket(h, id); p; p = p->next)
        if (p->req_id == id)
            return p;
    return NULL;
}

static void free_write(struct cc_pending_write *p)
{
    event_free(p->timer);
    free(p->read_path);
    free(p);
}

static void on_write_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct cc_pending_write *p = arg;
    struct cc_http *h = p->h;
    if (take_write(h, p->req_id) != p)
        return;
    reply_raft_error(h, p->req, "etcdserver: request timed out");
    free_write(p);
}

/* Registers req as waiting for req_id's answer, with the write timeout. */
static struct cc_pending_write *track(struct cc_http *h, struct cc_hreq *req, bool no_value)
{
    struct cc_pending_write *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->req_id = ++h->next_req_id;
    p->req = req;
    p->h = h;
    p->no_value = no_value;
    p->timer = evtimer_new(h->w->base, on_write_timeout, p);
    if (p->timer == NULL) {
        free(p);
        return NULL;
    }
    struct timeval tv = {h->write_timeout_ms / 1000, (h->write_timeout_ms % 1000) * 1000};
    evtimer_add(p->timer, &tv);
    struct cc_pending_write **b = bucket(h, p->req_id);
    p->next = *b;
    *b = p;
    h->n_writes++;
    return p;
}

static void propose(struct cc_http *h, struct cc_hreq *req, const struct cc_v2_request *rq)
{
    struct cc_link *l = cc_worker_link(h->w, CC_KIND_CONSENSUS);
    struct cc_buf data;
    cc_buf_init(&data);
    struct cc_pending_write *p = NULL;
    if (cc_v2_request_encode(&data, rq) != 0 || data.failed ||
        (p = track(h, req, rq->no_value_on_success)) == NULL) {
        cc_buf_free(&data);
        cc_http_reply(req, 500, "Internal Server Error", NULL, NULL, 0);
        return;
    }
    struct cc_msg m = {.type = CC_MSG_PROPOSE};
    m.u.propose.req_id = p->req_id;
    m.u.propose.data = (struct cc_bytes){data.data, (uint32_t)data.len};
    int sent = l ? cc_link_send(l, &m) : -1;
    cc_buf_free(&data);
    if (sent != 0 && take_write(h, p->req_id) == p) {
        free_write(p);
        reply_raft_error(h, req, "etcdserver: server stopped");
    }
}

static void serve_get(struct cc_http *h, struct cc_hreq *req, const struct cc_v2_request *rq);

static void read_quorum(struct cc_http *h, struct cc_hreq *req, const struct cc_v2_request *rq)
{
    struct cc_link *l = cc_worker_link(h->w, CC_KIND_CONSENSUS);
    struct cc_pending_write *p = track(h, req, false);
    if (p == NULL || (p->read_path = strdup(rq->path)) == NULL) {
        if (p != NULL && take_write(h, p->req_id) == p)
            free_write(p);
        cc_http_reply(req, 500, "Internal Server Error", NULL, NULL, 0);
        return;
    }
    p->recursive = rq->recursive;
    p->sorted = rq->sorted;
    struct cc_msg m = {.type = CC_MSG_READ_INDEX};
    m.u.read_index.req_id = p->req_id;
    if ((l ? cc_link_send(l, &m) : -1) != 0 && take_write(h, p->req_id) == p) {
        free_write(p);
        reply_raft_error(h, req, "etcdserver: server stopped");
    }
}

static void serve_read(struct cc_http *h, struct cc_pending_write *p)
{
    struct cc_v2_request rq = {.method = CC_V2_GET,
                               .path = p->read_path,
                               .recursive = p->recursive,
                               .sorted = p->sorted,
                               .prev_exist = -1};
    serve_get(h, p->req, &rq);
    free_write(p);
}

void cc_keys_on_read_index(struct cc_http *h, uint64_t req_id, uint64_t index, int code)
{
    struct cc_pending_write *p = find_write(h, req_id);
    if (p == NULL)
        return; /* timed out already */
    if (code != 0) {
        take_write(h, req_id);
        reply_raft_error(h, p->req, "etcdserver: request timed out");
        free_write(p);
        return;
    }
    if (h->view.store != NULL && h->view.raft_index >= index) {
        take_write(h, req_id);
        serve_read(h, p);
        return;
    }
    struct cc_read_wait *nv = realloc(h->read_waits, (h->n_read_waits + 1) * sizeof(*nv));
    if (nv == NULL) {
        take_write(h, req_id);
        reply_raft_error(h, p->req, "etcdserver: out of memory");
        free_write(p);
        return;
    }
    h->read_waits = nv;
    h->read_waits[h->n_read_waits++] = (struct cc_read_wait){req_id, index};
}

void cc_keys_serve_reads(struct cc_http *h)
{
    if (h->view.store == NULL)
        return;
    size_t k = 0;
    for (size_t i = 0; i < h->n_read_waits; i++) {
        struct cc_read_wait rw = h->read_waits[i];
        if (rw.index > h->view.raft_index) {
            h->read_waits[k++] = rw;
            continue;
        }
        struct cc_pending_write *p = take_write(h, rw.req_id);
        if (p != NULL)
            serve_read(h, p);
    }
    h->n_read_waits = k;
}

void cc_keys_on_result(void *ctx, uint64_t req_id, uint64_t raft_index, struct cc_v2_result *res)
{
    struct cc_http *h = ctx;
    struct cc_pending_write *p = take_write(h, req_id);
    if (p == NULL)
        return; /* answered already (timed out) */
    reply_result(h, p->req, res, raft_index, p->no_value);
    free_write(p);
}

void cc_keys_on_propose_fail(struct cc_http *h, uint64_t req_id, int code, const char *cause,
                             size_t cause_len)
{
    struct cc_pending_write *p = take_write(h, req_id);
    if (p == NULL)
        return;
    char c[256];
    snprintf(c, sizeof(c), "%.*s", (int)cause_len, cause);
    reply_raft_error(h, p->req, c);
    free_write(p);
}

void cc_keys_fail_all_writes(struct cc_http *h, const char *cause)
{
    for (size_t i = 0; i < CC_HTTP_WRITE_BUCKETS; i++)
        while (h->writes[i]) {
            struct cc_pending_write *p = h->writes[i];
            h->writes[i] = p->next;
            h->n_writes--;
            reply_raft_error(h, p->req, cause);
            free_write(p);
        }
}

/* ---- watches ---- */

static void watch_unlink(struct cc_watch *wt)
{
    struct cc_http *h = wt->h;
    if (wt->prev)
        wt->prev->next = wt->next;
    else
        h->watches = wt->next;
    if (wt->next)
        wt->next->prev = wt->prev;
    h->n_watches--;
    /* Its connection's close no longer concerns it. */
    struct cc_hconn *c = cc_hreq_conn(wt->req);
    if (c != NULL)
        cc_hconn_set_close_cb(c, NULL, NULL);
}

/* Ends the watch's response and forgets it. cancel: the store still holds
 * the watcher. */
static void watch_finish(struct cc_watch *wt, bool cancel)
{
    if (cancel && wt->watcher)
        cc_v2_watcher_cancel(wt->watcher);
    watch_unlink(wt);
    cc_hreq_end(wt->req);
    free(wt);
}

/* The client of a waiting watch went away. */
static void on_watch_conn_closed(struct cc_hconn *c, void *arg)
{
    (void)c;
    watch_finish(arg, true);
}

static size_t backlog(struct cc_watch *wt)
{
    return cc_hreq_unsent(wt->req);
}

/* The event's JSON. One entry can wake a thousand watchers with the same
 * event: it is rendered once, not once per watcher. The key is the event's
 * address, its etcd index and the view's count of applied entries, so an
 * address reused by a later event (history eviction while a SYNC expires
 * many keys) is never mistaken for it. */
static const struct cc_buf *rendered(struct cc_http *h, const struct cc_v2_event *ev)
{
    if (ev != h->rendered_ev || ev->etcd_index != h->rendered_index ||
        h->view.applied_entries != h->rendered_at) {
        cc_buf_reset(&h->rendered);
        cc_v2_render_event(&h->rendered, ev, cc_http_now_ns());
        h->rendered_ev = ev;
        h->rendered_index = ev->etcd_index;
        h->rendered_at = h->view.applied_entries;
    }
    return &h->rendered;
}

static bool on_watch_event(void *ctx, struct cc_v2_watcher *w, const struct cc_v2_event *ev)
{
    struct cc_watch *wt = ctx;
    if (wt->stream && backlog(wt) > WATCH_MAX_BACKLOG) {
        cc_warn("watch: client not reading; watcher dropped");
        wt->watcher = NULL; /* the store removes it when we answer false */
        watch_finish(wt, false);
        return false;
    }
    const struct cc_buf *b = rendered(wt->h, ev);
    if (!b->failed)
        cc_hreq_chunk(wt->req, b->data, b->len);
    if (!wt->stream) {
        wt->watcher = NULL; /* a one-shot watcher is removed by the store */
        watch_finish(wt, false);
    }
    return true;
}

static void start_chunked(struct cc_http *h, struct cc_hreq *req, uint64_t start_index)
{
    cc_hreq_add_header(req, "Content-Type", "application/json");
    add_u64_header(req, "X-Etcd-Index", start_index);
    add_raft_headers(h, req, h->view.raft_index);
    /* A watch waits as long as it takes (etcd has no server-side timeout):
     * a streamed answer has no idle timeout (hserver.h). */
    cc_hreq_start(req, 200, "OK");
}

static void serve_watch(struct cc_http *h, struct cc_hreq *req, const struct cc_v2_request *rq)
{
    if (cc_hreq_conn(req) == NULL) {
        /* Its client left while the read waited for the view: no watcher
         * for nobody (the answer goes nowhere, the request is freed). */
        cc_http_reply(req, 500, "Internal Server Error", NULL, NULL, 0);
        return;
    }
    struct cc_watch *wt = calloc(1, sizeof(*wt));
    if (wt == NULL) {
        cc_http_reply(req, 500, "Internal Server Error", NULL, NULL, 0);
        return;
    }
    wt->h = h;
    wt->req = req;
    wt->stream = rq->stream;
    struct cc_v2_watch_result wr;
    memset(&wr, 0, sizeof(wr));
    if (cc_v2_store_watch(h->view.store, rq->path, rq->recursive, rq->stream, rq->wait_index,
                          on_watch_event, wt, &wr) != 0) {
        free(wt);
        cc_http_reply(req, 500, "Internal Server Error", NULL, NULL, 0);
        return;
    }
    if (wr.err.code) {
        free(wt);
        reply_error(h, req, &wr.err);
        return;
    }
    start_chunked(h, req, wr.start_index);
    if (wr.event) {
        /* Found in the history: one event and done (a stream gets nothing
         * more, as in etcd). */
        struct cc_buf b;
        cc_buf_init(&b);
        cc_v2_render_event(&b, wr.event, cc_http_now_ns());
        if (!b.failed)
            cc_hreq_chunk(req, b.data, b.len);
        cc_buf_free(&b);
        cc_v2_event_free(wr.event);
        cc_hreq_end(req);
        free(wt);
        return;
    }
    wt->watcher = wr.watcher;
    wt->next = h->watches;
    if (h->watches)
        h->watches->prev = wt;
    h->watches = wt;
    h->n_watches++;
    struct cc_hconn *c = cc_hreq_conn(req);
    if (c != NULL)
        cc_hconn_set_close_cb(c, on_watch_conn_closed, wt);
}

void cc_keys_end_watches(struct cc_http *h)
{
    while (h->watches)
        watch_finish(h->watches, true);
}

/* ---- dispatch ---- */

static void serve_get(struct cc_http *h, struct cc_hreq *req, const struct cc_v2_request *rq)
{
    struct cc_v2_result res = {0};
    if (cc_v2_store_get(h->view.store, rq->path, rq->recursive, rq->sorted, cc_http_now_ns(),
                        &res) != 0) {
        cc_http_reply(req, 500, "Internal Server Error", NULL, NULL, 0);
        return;
    }
    reply_result(h, req, &res, h->view.raft_index, false);
    cc_v2_result_clear(&res);
}

static void wait_for_view(struct cc_http *h, struct cc_hreq *req)
{
    if (h->n_waiting >= MAX_WAITING) {
        reply_raft_error(h, req, "etcdserver: server not ready");
        return;
    }
    struct cc_waiting *wq = calloc(1, sizeof(*wq));
    if (wq == NULL) {
        cc_http_reply(req, 500, "Internal Server Error", NULL, NULL, 0);
        return;
    }
    wq->req = req;
    *h->waiting_tail = wq;
    h->waiting_tail = &wq->next;
    h->n_waiting++;
}

void cc_keys_on_synced(void *ctx)
{
    struct cc_http *h = ctx;
    struct cc_waiting *wq = h->waiting_head;
    h->waiting_head = NULL;
    h->waiting_tail = &h->waiting_head;
    h->n_waiting = 0;
    while (wq) {
        struct cc_waiting *next = wq->next;
        cc_keys_handle(h, wq->req);
        free(wq);
        wq = next;
    }
}

/* Concord's own bounds on a key request; etcd has none, but one client
 * must not make the store walk megabyte paths or hold a million watchers. */
static int check_limits(struct cc_http *h, struct cc_hreq *req, const struct cc_v2_request *rq)
{
    struct cc_v2_error e;
    size_t len = strlen(rq->path), depth = 0;
    for (const char *p = rq->path; *p; p++)
        depth += *p == '/';
    if (len > CC_V2_MAX_KEY_BYTES) {
        cc_v2_error_setf(&e, CC_V2_E_INVALID_FIELD, 0, "key is longer than %d bytes",
                         CC_V2_MAX_KEY_BYTES);
    } else if (depth > CC_V2_MAX_KEY_DEPTH) {
        cc_v2_error_setf(&e, CC_V2_E_INVALID_FIELD, 0, "key is deeper than %d levels",
                         CC_V2_MAX_KEY_DEPTH);
    } else if (rq->method == CC_V2_GET && rq->wait && h->n_watches >= CC_HTTP_MAX_WATCHES) {
        cc_v2_error_setf(&e, CC_V2_E_RAFT_INTERNAL, 0, "too many watchers on this member (%d)",
                         CC_HTTP_MAX_WATCHES);
    } else {
        return 0;
    }
    reply_error(h, req, &e);
    return -1;
}

void cc_keys_handle(struct cc_http *h, struct cc_hreq *req)
{
    if (!cc_view_ready(&h->view)) {
        wait_for_view(h, req);
        return;
    }
    const char *target = cc_hreq_target(req);
    struct cc_v2_http_in in;
    memset(&in, 0, sizeof(in));
    cc_v2_split_target(target, strlen(target), &in);
    in.method = cc_hreq_method_name(req);
    const char *ct = cc_hreq_header(req, "Content-Type");
    in.content_type = ct;
    in.content_type_len = ct ? strlen(ct) : 0;
    in.body = cc_hreq_body(req, &in.body_len);

    struct cc_v2_request rq;
    struct cc_v2_error err;
    int r = cc_v2_parse_key_request(&in, cc_http_now_ns(), &rq, &err);
    switch (r) {
    case CC_V2_PARSE_OK:
        break;
    case CC_V2_PARSE_ETCD_ERROR:
        cc_http_add_cluster_id(h, req);
        reply_error(h, req, &err);
        return;
    case CC_V2_PARSE_BAD_REQUEST:
        cc_hreq_close_after(req);
        cc_http_reply(req, 400, "Bad Request", "text/plain; charset=utf-8", CC_V2_BAD_REQUEST_BODY,
                      strlen(CC_V2_BAD_REQUEST_BODY));
        return;
    case CC_V2_PARSE_REDIRECT: {
        cc_hreq_add_header(req, "Location", rq.path);
        bool get = cc_hreq_method(req) == CC_HM_GET || cc_hreq_method(req) == CC_HM_HEAD;
        cc_http_reply(req, 301, "Moved Permanently", get ? "text/html; charset=utf-8" : NULL,
                      get ? rq.value.p : NULL, get ? rq.value.n : 0);
        cc_v2_request_free(&rq);
        return;
    }
    case CC_V2_PARSE_METHOD_NOT_ALLOWED:
        cc_http_method_not_allowed(req, CC_V2_KEYS_ALLOW);
        return;
    case CC_V2_PARSE_NOT_FOUND:
        cc_http_reply(req, 404, "Not Found", "text/plain; charset=utf-8", CC_V2_NOT_FOUND_BODY,
                      strlen(CC_V2_NOT_FOUND_BODY));
        return;
    default:
        cc_http_reply(req, 500, "Internal Server Error", NULL, NULL, 0);
        return;
    }
    cc_http_add_cluster_id(h, req);
    if (check_limits(h, req, &rq) != 0) {
        cc_v2_request_free(&rq);
        return;
    }
    switch (rq.method) {
    case CC_V2_GET:
        if (rq.wait)
            serve_watch(h, req, &rq);
        else
            serve_get(h, req, &rq);
        break;
    case CC_V2_HEAD:
        serve_get(h, req, &rq);
        break;
    case CC_V2_QGET:
        read_quorum(h, req, &rq);
        break;
    default: /* PUT POST DELETE: through consensus */
        propose(h, req, &rq);
        break;
    }
    cc_v2_request_free(&rq);
}

void cc_keys_free(struct cc_http *h)
{
    cc_keys_end_watches(h);
    cc_buf_free(&h->rendered);
    cc_keys_fail_all_writes(h, "etcdserver: server stopped");
    while (h->waiting_head) {
        struct cc_waiting *wq = h->waiting_head;
        h->waiting_head = wq->next;
        reply_raft_error(h, wq->req, "etcdserver: server stopped");
        free(wq);
    }
    h->waiting_tail = &h->waiting_head;
}

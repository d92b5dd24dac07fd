/* The client-HTTP worker: serves the client URLs on the listening sockets it
 * inherits from the master. Today it answers /version locally and /health by
 * asking the consensus worker over their nanomsg link; the v2 keys API comes
 * next.
 *
 * Graceful stop: it stops accepting (the master keeps the listening sockets
 * open, so connections wait in the backlog for the next http worker), answers
 * what is in flight, then exits. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/version.h"
#include "core/worker.h"

int cc_http_worker_main(struct cc_worker *w);

/* A stopping worker exits once no request has arrived or completed for this
 * long: a connection accepted just before the stop may still be sending its
 * request (libevent shows no connection until a whole request is in). */
#define STOP_QUIET_MS 250

/* etcd waits up to 3 x 250 ms for the raft index to move before it calls a
 * member unhealthy; a consensus worker that does not answer within that is
 * unhealthy too. */
#define HEALTH_TIMEOUT_MS 750

struct pending_health {
    struct pending_health *next;
    uint64_t id;
    struct evhttp_request *req;
    struct event *timer;
    struct http_state *hs;
};

struct http_state {
    struct cc_worker *w;
    struct evhttp *http;
    struct evhttp_bound_socket *bound[CC_WORKER_MAX_LISTENERS];
    size_t n_bound;
    struct pending_health *pending;
    uint32_t n_pending;
    uint64_t next_id;
    uint64_t requests;
    uint32_t active;      /* requests received and not yet fully written */
    double last_activity; /* a request arrived or completed */
    struct event *stop_check;
};

static void reply(struct evhttp_request *req, int code, const char *reason, const char *ctype,
                  const char *body)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    if (ctype)
        evhttp_add_header(h, "Content-Type", ctype);
    struct evbuffer *b = evbuffer_new();
    if (b && body)
        evbuffer_add(b, body, strlen(body));
    evhttp_send_reply(req, code, reason, b);
    if (b)
        evbuffer_free(b);
}

static void maybe_finish_stop(struct http_state *hs)
{
    if (hs->w->stopping && hs->n_pending == 0 && hs->active == 0 &&
        cc_now() - hs->last_activity >= STOP_QUIET_MS / 1000.0)
        cc_worker_exit(hs->w, 0);
}

static void on_stop_check(evutil_socket_t fd, short what, void *arg)
{
    maybe_finish_stop(arg);
}

/* Called by libevent once the reply is fully written (or the connection
 * failed): only then may a stopping worker go without cutting it off. */
static void on_request_complete(struct evhttp_request *req, void *arg)
{
    struct http_state *hs = arg;
    hs->active--;
    hs->last_activity = cc_now();
}

static void health_done(struct http_state *hs, struct pending_health *p, bool healthy)
{
    for (struct pending_health **pp = &hs->pending; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    hs->n_pending--;
    /* etcd 2.3 writes the body with a space and lets Go sniff text/plain. */
    if (healthy)
        reply(p->req, 200, "OK", "text/plain; charset=utf-8", "{\"health\": \"true\"}");
    else
        reply(p->req, 503, "Service Unavailable", "text/plain; charset=utf-8",
              "{\"health\": \"false\"}");
    event_free(p->timer);
    free(p);
    maybe_finish_stop(hs);
}

static void on_health_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct pending_health *p = arg;
    health_done(p->hs, p, false);
}

static void serve_health(struct http_state *hs, struct evhttp_request *req)
{
    struct cc_link *l = cc_worker_link(hs->w, CC_KIND_CONSENSUS);
    if (l == NULL || !l->up) {
        reply(req, 503, "Service Unavailable", "text/plain; charset=utf-8",
              "{\"health\": \"false\"}");
        return;
    }
    struct pending_health *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        reply(req, 503, "Service Unavailable", "text/plain; charset=utf-8",
              "{\"health\": \"false\"}");
        return;
    }
    p->id = ++hs->next_id;
    p->req = req;
    p->hs = hs;
    p->timer = evtimer_new(hs->w->base, on_health_timeout, p);
    struct timeval tv = {0, HEALTH_TIMEOUT_MS * 1000};
    evtimer_add(p->timer, &tv);
    p->next = hs->pending;
    hs->pending = p;
    hs->n_pending++;
    struct cc_msg m = {.type = CC_MSG_HEALTH_REQ};
    m.u.health_req.req_id = p->id;
    cc_link_send(l, &m);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct http_state *hs = arg;
    hs->requests++;
    hs->active++;
    hs->last_activity = cc_now();
    evhttp_request_set_on_complete_cb(req, on_request_complete, hs);
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (path == NULL)
        path = "/";
    if (strcmp(path, "/version") == 0 || strcmp(path, "/health") == 0) {
        if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
            evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
            reply(req, 405, "Method Not Allowed", "text/plain; charset=utf-8",
                  "Method Not Allowed");
            return;
        }
        if (path[1] == 'v')
            reply(req, 200, "OK", "application/json", CC_VERSION_JSON);
        else
            serve_health(hs, req);
        return;
    }
    reply(req, 404, "Not Found", "text/plain; charset=utf-8", "404 page not found\n");
}

static void on_link_msg(struct cc_worker *w, struct cc_link *l, const struct cc_msg *m)
{
    struct http_state *hs = w->state;
    if (m->type != CC_MSG_HEALTH_RESP) {
        cc_debug("link %s: %s ignored", l->def->name, cc_msg_name(m->type));
        return;
    }
    for (struct pending_health *p = hs->pending; p; p = p->next)
        if (p->id == m->u.health_resp.req_id) {
            health_done(hs, p, m->u.health_resp.healthy != 0);
            return;
        }
    /* Answered after its timeout: the client already has its 503. */
}

static void on_stop(struct cc_worker *w, unsigned deadline_ms)
{
    struct http_state *hs = w->state;
    for (size_t i = 0; i < hs->n_bound; i++)
        evhttp_del_accept_socket(hs->http, hs->bound[i]);
    hs->n_bound = 0;
    /* The inherited descriptors were closed with their bound sockets. */
    w->n_listen = 0;
    hs->last_activity = cc_now();
    hs->stop_check = event_new(w->base, -1, EV_PERSIST, on_stop_check, hs);
    struct timeval tv = {0, 50 * 1000};
    event_add(hs->stop_check, &tv);
}

static void on_exit_hook(struct cc_worker *w)
{
    struct http_state *hs = w->state;
    while (hs->pending)
        health_done(hs, hs->pending, false);
    if (hs->stop_check)
        event_free(hs->stop_check);
    evhttp_free(hs->http);
}

static uint32_t inflight(struct cc_worker *w)
{
    return ((struct http_state *)w->state)->n_pending;
}

static void detail_json(struct cc_worker *w, char *buf, size_t len)
{
    struct http_state *hs = w->state;
    snprintf(buf, len, "{\"listeners\":%zu,\"requests\":%llu}", hs->n_bound,
             (unsigned long long)hs->requests);
}

int cc_http_worker_main(struct cc_worker *w)
{
    static struct http_state hs;
    hs.w = w;
    w->state = &hs;
    w->on_link_msg = on_link_msg;
    w->on_stop = on_stop;
    w->on_exit = on_exit_hook;
    w->inflight = inflight;
    w->detail_json = detail_json;
    hs.http = evhttp_new(w->base);
    if (hs.http == NULL) {
        cc_error("cannot create the HTTP server");
        return 1;
    }
    evhttp_set_gencb(hs.http, on_request, &hs);
    evhttp_set_allowed_methods(hs.http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_POST | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_max_headers_size(hs.http, 64 * 1024);
    evhttp_set_max_body_size(hs.http, (ev_ssize_t)w->cfg.max_request_bytes);
    for (size_t i = 0; i < w->n_listen; i++) {
        hs.bound[i] = evhttp_accept_socket_with_handle(hs.http, w->listen_fds[i]);
        if (hs.bound[i] == NULL) {
            cc_error("cannot serve HTTP on inherited socket %d", w->listen_fds[i]);
            return 1;
        }
        hs.n_bound++;
    }
    /* evhttp owns the descriptors now. */
    w->n_listen = 0;
    if (cc_worker_open_links(w) != 0)
        return 1;
    cc_worker_ready(w);
    return cc_worker_loop(w);
}

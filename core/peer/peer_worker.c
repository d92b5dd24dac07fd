/* The peer-transport worker: owns the peer URLs' listening sockets and, with
 * raft, the long-lived connections to the other members. Today it serves the
 * small HTTP endpoint of the peer port that needs no cluster state
 * (GET /version) and keeps its link to consensus. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <string.h>

#include "core/log.h"
#include "core/version.h"
#include "core/worker.h"

int cc_peer_worker_main(struct cc_worker *w);

struct peer_state {
    struct evhttp *http;
    struct evhttp_bound_socket *bound[CC_WORKER_MAX_LISTENERS];
    size_t n_bound;
};

static void reply(struct evhttp_request *req, int code, const char *reason, const char *ctype,
                  const char *body)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
    struct evbuffer *b = evbuffer_new();
    if (b)
        evbuffer_add(b, body, strlen(body));
    evhttp_send_reply(req, code, reason, b);
    if (b)
        evbuffer_free(b);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    if (path && strcmp(path, "/version") == 0) {
        if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
            reply(req, 405, "Method Not Allowed", "text/plain; charset=utf-8",
                  "Method Not Allowed");
            return;
        }
        reply(req, 200, "OK", "application/json", CC_VERSION_JSON);
        return;
    }
    reply(req, 404, "Not Found", "text/plain; charset=utf-8", "404 page not found\n");
}

static void on_stop(struct cc_worker *w, unsigned deadline_ms)
{
    struct peer_state *ps = w->state;
    for (size_t i = 0; i < ps->n_bound; i++)
        evhttp_del_accept_socket(ps->http, ps->bound[i]);
    ps->n_bound = 0;
    cc_worker_exit(w, 0);
}

static void on_exit_hook(struct cc_worker *w)
{
    struct peer_state *ps = w->state;
    evhttp_free(ps->http);
}

int cc_peer_worker_main(struct cc_worker *w)
{
    static struct peer_state ps;
    w->state = &ps;
    w->on_stop = on_stop;
    w->on_exit = on_exit_hook;
    ps.http = evhttp_new(w->base);
    if (ps.http == NULL) {
        cc_error("cannot create the peer HTTP server");
        return 1;
    }
    evhttp_set_gencb(ps.http, on_request, &ps);
    evhttp_set_max_headers_size(ps.http, 64 * 1024);
    evhttp_set_timeout(ps.http, 30);
    for (size_t i = 0; i < w->n_listen; i++) {
        ps.bound[i] = evhttp_accept_socket_with_handle(ps.http, w->listen_fds[i]);
        if (ps.bound[i] == NULL) {
            cc_error("cannot serve the peer port on inherited socket %d", w->listen_fds[i]);
            return 1;
        }
        ps.n_bound++;
    }
    w->n_listen = 0;
    if (cc_worker_open_links(w) != 0)
        return 1;
    cc_worker_ready(w);
    return cc_worker_loop(w);
}

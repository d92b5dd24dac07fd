/* scripts/bench: the trivial libevent HTTP server that gives the machine's
 * HTTP ceiling. Answers 200 {"ok":true} to any request, keep-alive.
 * Built at run time: cc -O2 -o evhttp_ok evhttp_ok.c -levent
 * Usage: evhttp_ok IP PORT */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_args.h"

static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    evbuffer_add(out, "{\"ok\":true}", 11);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, 200, "OK", NULL);
}

int main(int argc, char **argv)
{
    struct sockaddr_in sin;
    int bad = probe_args(argc, argv, &sin);
    if (bad)
        return bad;
    struct event_base *base = event_base_new();
    struct evhttp *http = evhttp_new(base);
    if (!base || !http)
        return 1;
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                         EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
    evhttp_set_gencb(http, on_request, NULL);
    struct evconnlistener *l =
        evconnlistener_new_bind(base, NULL, NULL, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, 1024,
                                (struct sockaddr *)&sin, sizeof sin);
    if (!l || !evhttp_bind_listener(http, l)) {
        perror("bind");
        return 1;
    }
    event_base_dispatch(base);
    return 0;
}

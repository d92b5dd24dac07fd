/* The client port's HTTP/1.1 server: connections, requests and responses
 * on the worker's libevent loop, over plain non-blocking sockets.
 *
 * Why not libevent's evhttp: under 64 keep-alive connections the http
 * worker is one thread at 100 % of a core, and evhttp's machinery was half
 * of it (per response it switches EPOLLOUT on and off with epoll_ctl, asks
 * FIONREAD, allocates the request, two header lists and buffers, and prints
 * every header). Measured on the 2-core machine with the same wrk load:
 * a trivial evhttp server 70 000 req/s, the same answer from a libevent
 * loop that reads and writes the socket directly 95 000. Here a response
 * is written to the socket as soon as it is complete (EPOLLOUT only when
 * the kernel's buffer is full), the read interest stays on for the
 * connection's lifetime (so a client that goes away is noticed while its
 * request waits for raft), and a request is one allocation plus its body.
 *
 * Behaviour (Go's net/http, which etcd's clients talk to):
 *  - HTTP/1.0 and 1.1, keep-alive by version and Connection; requests on a
 *    connection are answered in order, one at a time: the next is parsed
 *    only once the previous answer has left (pipelining works, and a
 *    client that never reads holds at most one answer here);
 *  - bodies by Content-Length or chunked; "Expect: 100-continue" gets its
 *    interim answer; a head over max_head bytes gets 431, a body over
 *    max_body 413, anything malformed 400 (text bodies as Go writes them),
 *    each with Connection: close;
 *  - every answer has Date and Content-Length (HEAD: the length the body
 *    would have had, no body); a streamed answer is chunked (HTTP/1.0: raw,
 *    then close);
 *  - a connection without a whole first request after first_request_s is
 *    cut; one idle between requests, or stuck mid-request or mid-answer,
 *    after idle_timeout_s; a streamed answer (a watch) has no timeout. */
#ifndef CC_CORE_HTTP_HSERVER_H
#define CC_CORE_HTTP_HSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct cc_hserver;
struct cc_hconn;
struct cc_hreq;

enum cc_hmethod {
    CC_HM_OTHER = 0, /* a token this server has no name for */
    CC_HM_GET,
    CC_HM_HEAD,
    CC_HM_PUT,
    CC_HM_POST,
    CC_HM_DELETE,
    CC_HM_OPTIONS,
    CC_HM_PATCH,
    CC_HM_TRACE,
    CC_HM_CONNECT,
};

typedef void (*cc_hreq_fn)(struct cc_hreq *req, void *arg);
typedef void (*cc_hconn_fn)(struct cc_hconn *c, void *arg);

struct cc_hserver_cfg {
    size_t max_head;
    uint64_t max_body;
    unsigned idle_timeout_s, first_request_s;
    cc_hreq_fn on_request; /* a whole request arrived: answer it now or later */
    cc_hreq_fn on_done;    /* its answer is complete (or its client is gone) */
    void *arg;
};

#define CC_HSERVER_MAX_LISTENERS 16

struct cc_hserver *cc_hserver_new(struct event_base *base, const struct cc_hserver_cfg *cfg);
/* Serves the listening socket fd (non-blocking), which it now owns. 0 or -1. */
int cc_hserver_listen(struct cc_hserver *s, int fd);
/* Serves fd, a connected stream socket (made non-blocking), as if it had
 * been accepted; the server owns it. 0 or -1 (fd closed). */
int cc_hserver_serve_fd(struct cc_hserver *s, int fd);
/* The graceful stop: closes the listening sockets and every connection
 * that waits idle between requests; every later answer says
 * Connection: close and closes its connection once written. */
void cc_hserver_stop_accepting(struct cc_hserver *s);
/* Closes everything at once (no callbacks); requests still held by the
 * handlers stay valid and are freed when answered. */
void cc_hserver_free(struct cc_hserver *s);

size_t cc_hserver_listeners(const struct cc_hserver *s);
/* Open connections that have sent at least one request. */
uint32_t cc_hserver_busy_conns(const struct cc_hserver *s);
/* Connections cut for not sending a whole first request in time. */
uint64_t cc_hserver_cut_slow(const struct cc_hserver *s);

/* ---- the request ---- */

enum cc_hmethod cc_hreq_method(const struct cc_hreq *r);
const char *cc_hreq_method_name(const struct cc_hreq *r);
/* The request-target as sent ("/v2/keys/a?wait=true"). */
const char *cc_hreq_target(const struct cc_hreq *r);
/* The first header called name (any case), or NULL. */
const char *cc_hreq_header(const struct cc_hreq *r, const char *name);
const uint8_t *cc_hreq_body(const struct cc_hreq *r, size_t *len);
/* The connection, NULL once its client has gone. */
struct cc_hconn *cc_hreq_conn(const struct cc_hreq *r);

/* The connection closes once this answer is written (put_head then says
 * Connection: close, as it does whenever it closes one). */
void cc_hreq_close_after(struct cc_hreq *r);
/* Adds "name: value" to the answer (before it starts); not Connection,
 * which the server writes itself. */
void cc_hreq_add_header(struct cc_hreq *r, const char *name, const char *value);
/* The whole answer; r is freed. */
void cc_hreq_reply(struct cc_hreq *r, int code, const char *reason, const void *body, size_t len);
/* A streamed answer: the head now, then chunks, then the end (r freed). */
void cc_hreq_start(struct cc_hreq *r, int code, const char *reason);
void cc_hreq_chunk(struct cc_hreq *r, const void *data, size_t len);
void cc_hreq_end(struct cc_hreq *r);
/* Bytes of the answer not yet taken by the kernel (a client not reading). */
size_t cc_hreq_unsent(const struct cc_hreq *r);

/* ---- the connection ---- */

/* fn runs once when the connection closes (either side), with arg. */
void cc_hconn_set_close_cb(struct cc_hconn *c, cc_hconn_fn fn, void *arg);

#endif

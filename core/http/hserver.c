#include "core/http/hserver.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/http/http1.h"
#include "core/log.h"
#include "proto/wire.h"

/* Input is read this much at a time; a connection's buffers are allocated
 * on its first read, so idle connections cost only their struct. */
#define READ_CHUNK 16384
/* Accepts per wake-up of a listening socket, so a burst of connections
 * cannot starve the requests already in. */
#define ACCEPT_BATCH 64

enum conn_state {
    C_HEAD,    /* reading a request head */
    C_BODY,    /* reading a Content-Length body */
    C_CHUNKED, /* reading a chunked body */
    C_HANDLER, /* a handler holds the request */
};

struct cc_hserver {
    struct event_base *base;
    struct cc_hserver_cfg cfg;
    int listen_fd[CC_HSERVER_MAX_LISTENERS];
    struct event *listen_ev[CC_HSERVER_MAX_LISTENERS];
    size_t n_listen;
    struct cc_hconn *conns;
    uint32_t n_busy;
    uint64_t cut_slow;
    struct event *sweep;
    bool stopping;
    time_t date_at;
    char date[64]; /* "Date: ...\r\n" for date_at */
};

struct cc_hconn {
    struct cc_hconn *prev, *next;
    struct cc_hserver *s;
    int fd;
    struct event *rev, *wev;
    bool writing; /* wev is pending */
    bool paused;  /* rev removed: enough input waits behind a request */
    bool closing; /* close_later() was called */
    enum conn_state state;
    struct cc_buf in; /* in.data[in_off..in.len) is not parsed yet */
    size_t in_off;
    struct cc_buf out; /* out.data[out_off..out.len) is not written yet */
    size_t out_off;
    struct cc_hreq *req; /* being read, or held by a handler */
    uint64_t body_left;  /* C_BODY */
    struct cc_h1_chunked chunked;
    bool had_request;
    bool close_after; /* close once out is written */
    bool streaming;   /* a streamed answer is under way: no timeouts */
    double accepted, last_io;
    cc_hconn_fn on_close;
    void *close_arg;
};

struct hdr {
    const char *name, *value;
};

struct cc_hreq {
    struct cc_hconn *conn;
    struct cc_hserver *s;
    enum cc_hmethod method;
    int minor;
    bool keep_alive, head_only, chunked_out;
    const char *method_name, *target;
    struct hdr *hdrs;
    size_t n_hdrs;
    char *copy; /* the head's bytes, NUL-terminated pieces */
    struct cc_buf body;
    struct cc_buf out_headers;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void conn_close(struct cc_hconn *c);
static void process(struct cc_hconn *c);
static void flush(struct cc_hconn *c);
static void resume_reading(struct cc_hconn *c);
static int accept_one(struct cc_hserver *s, int fd);

/* ---- requests ---- */

static const struct {
    const char *name;
    enum cc_hmethod m;
} methods[] = {
    {"GET", CC_HM_GET},     {"HEAD", CC_HM_HEAD},     {"PUT", CC_HM_PUT},
    {"POST", CC_HM_POST},   {"DELETE", CC_HM_DELETE}, {"OPTIONS", CC_HM_OPTIONS},
    {"PATCH", CC_HM_PATCH}, {"TRACE", CC_HM_TRACE},   {"CONNECT", CC_HM_CONNECT},
};

/* One allocation for the request, its header table and a copy of the head
 * with every piece NUL-terminated. */
static struct cc_hreq *req_new(struct cc_hserver *s, const char *buf, size_t len,
                               const struct cc_h1_head *h)
{
    size_t hdr_bytes = h->n_headers * sizeof(struct hdr);
    struct cc_hreq *r = malloc(sizeof(*r) + hdr_bytes + len + 1);
    if (r == NULL)
        return NULL;
    memset(r, 0, sizeof(*r));
    r->s = s;
    r->hdrs = (struct hdr *)(r + 1);
    r->n_hdrs = h->n_headers;
    r->copy = (char *)r->hdrs + hdr_bytes;
    memcpy(r->copy, buf, len);
    r->copy[len] = '\0';
    /* Every piece is followed in the head by a separator (space, colon, CR
     * or LF) that becomes its NUL. */
#define PIECE(str) (r->copy[(str).p - buf + (str).n] = '\0', r->copy + ((str).p - buf))
    r->method_name = PIECE(h->method);
    r->target = PIECE(h->target);
    for (size_t i = 0; i < h->n_headers; i++) {
        r->hdrs[i].name = PIECE(h->headers[i].name);
        r->hdrs[i].value = PIECE(h->headers[i].value);
    }
#undef PIECE
    r->minor = h->minor;
    r->keep_alive = h->keep_alive;
    r->method = CC_HM_OTHER;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strcmp(methods[i].name, r->method_name) == 0)
            r->method = methods[i].m;
    r->head_only = r->method == CC_HM_HEAD;
    cc_buf_init(&r->body);
    cc_buf_init(&r->out_headers);
    return r;
}

static void req_free(struct cc_hreq *r)
{
    cc_buf_free(&r->body);
    cc_buf_free(&r->out_headers);
    free(r);
}

/* The answer is complete, or can never be: tell the owner, then free. */
static void req_finish(struct cc_hreq *r)
{
    struct cc_hconn *c = r->conn;
    if (c != NULL) {
        c->req = NULL;
        c->streaming = false;
        c->state = C_HEAD;
        c->last_io = now_s();
    }
    if (r->s->cfg.on_done)
        r->s->cfg.on_done(r, r->s->cfg.arg);
    req_free(r);
    if (c != NULL) {
        flush(c);
        resume_reading(c);
        /* The next pipelined request, if one is waiting, in its own turn
         * (the caller may be in the middle of its own bookkeeping). */
        if (!c->close_after && !c->closing && c->in.len > c->in_off)
            event_active(c->rev, EV_READ, 1);
    }
}

enum cc_hmethod cc_hreq_method(const struct cc_hreq *r)
{
    return r->method;
}

const char *cc_hreq_method_name(const struct cc_hreq *r)
{
    return r->method_name;
}

const char *cc_hreq_target(const struct cc_hreq *r)
{
    return r->target;
}

const char *cc_hreq_header(const struct cc_hreq *r, const char *name)
{
    for (size_t i = 0; i < r->n_hdrs; i++)
        if (strcasecmp(r->hdrs[i].name, name) == 0)
            return r->hdrs[i].value;
    return NULL;
}

const uint8_t *cc_hreq_body(const struct cc_hreq *r, size_t *len)
{
    *len = r->body.len;
    return r->body.len ? r->body.data : NULL;
}

struct cc_hconn *cc_hreq_conn(const struct cc_hreq *r)
{
    return r->conn;
}

static void put_str(struct cc_buf *b, const char *s)
{
    cc_put_raw(b, s, strlen(s));
}

void cc_hreq_close_after(struct cc_hreq *r)
{
    r->keep_alive = false;
}

void cc_hreq_add_header(struct cc_hreq *r, const char *name, const char *value)
{
    put_str(&r->out_headers, name);
    cc_put_raw(&r->out_headers, ": ", 2);
    put_str(&r->out_headers, value);
    cc_put_raw(&r->out_headers, "\r\n", 2);
}

static const char *date_line(struct cc_hserver *s)
{
    time_t t = time(NULL);
    if (t != s->date_at) {
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(s->date, sizeof(s->date), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        s->date_at = t;
    }
    return s->date;
}

/* Whether the connection stays open after this answer. */
static bool keeps_open(const struct cc_hreq *r)
{
    return r->keep_alive && !r->s->stopping;
}

/* Status line and headers into the connection's output. length < 0: no
 * Content-Length (a streamed answer). */
static void put_head(struct cc_hconn *c, struct cc_hreq *r, int code, const char *reason,
                     long long length, bool chunked)
{
    char line[128];
    int n =
        snprintf(line, sizeof(line), "HTTP/1.%d %d %s\r\n", r->minor >= 1 ? 1 : 0, code, reason);
    cc_put_raw(&c->out, line, (size_t)n);
    cc_put_raw(&c->out, r->out_headers.data, r->out_headers.len);
    put_str(&c->out, date_line(r->s));
    bool no_body_status = (code >= 100 && code < 200) || code == 204 || code == 304;
    if (length >= 0 && !no_body_status) {
        n = snprintf(line, sizeof(line), "Content-Length: %lld\r\n", length);
        cc_put_raw(&c->out, line, (size_t)n);
    }
    if (chunked)
        put_str(&c->out, "Transfer-Encoding: chunked\r\n");
    bool open = keeps_open(r) && (length >= 0 || chunked);
    if (!open) {
        /* An HTTP/1.0 answer closes unless it says otherwise: Go writes
         * the header only for 1.1 (checked against etcd, test_diff_wire). */
        if (r->minor >= 1)
            put_str(&c->out, "Connection: close\r\n");
        c->close_after = true;
    } else if (r->minor == 0) {
        put_str(&c->out, "Connection: keep-alive\r\n");
    }
    cc_put_raw(&c->out, "\r\n", 2);
}

void cc_hreq_reply(struct cc_hreq *r, int code, const char *reason, const void *body, size_t len)
{
    struct cc_hconn *c = r->conn;
    if (c != NULL) {
        put_head(c, r, code, reason, (long long)len, false);
        if (!r->head_only && len > 0)
            cc_put_raw(&c->out, body, len);
    }
    req_finish(r);
}

void cc_hreq_start(struct cc_hreq *r, int code, const char *reason)
{
    struct cc_hconn *c = r->conn;
    r->chunked_out = r->minor >= 1 && !r->head_only;
    if (c == NULL)
        return;
    c->streaming = true;
    put_head(c, r, code, reason, -1, r->chunked_out);
    flush(c);
}

void cc_hreq_chunk(struct cc_hreq *r, const void *data, size_t len)
{
    struct cc_hconn *c = r->conn;
    if (c == NULL || len == 0 || r->head_only)
        return;
    if (r->chunked_out) {
        char line[24];
        int n = snprintf(line, sizeof(line), "%zx\r\n", len);
        cc_put_raw(&c->out, line, (size_t)n);
    }
    cc_put_raw(&c->out, data, len);
    if (r->chunked_out)
        cc_put_raw(&c->out, "\r\n", 2);
    flush(c);
}

void cc_hreq_end(struct cc_hreq *r)
{
    struct cc_hconn *c = r->conn;
    if (c != NULL && r->chunked_out)
        cc_put_raw(&c->out, "0\r\n\r\n", 5);
    req_finish(r);
}

size_t cc_hreq_unsent(const struct cc_hreq *r)
{
    return r->conn ? r->conn->out.len - r->conn->out_off : 0;
}

void cc_hconn_set_close_cb(struct cc_hconn *c, cc_hconn_fn fn, void *arg)
{
    c->on_close = fn;
    c->close_arg = arg;
}

/* ---- connections ---- */

/* Closes the socket and frees the connection. Only the loop's own
 * callbacks call this (read, sweep, stop), never code under a handler:
 * that goes through close_later(). */
static void conn_close(struct cc_hconn *c)
{
    struct cc_hserver *s = c->s;
    /* A request the handler holds outlives its connection (it is freed
     * when answered); one still being read never reached the handler. */
    struct cc_hreq *r = c->req;
    c->req = NULL;
    if (r != NULL && c->state == C_HANDLER)
        r->conn = NULL;
    else if (r != NULL)
        req_free(r);
    event_free(c->rev);
    event_free(c->wev);
    close(c->fd);
    if (c->had_request)
        s->n_busy--;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    cc_buf_free(&c->in);
    cc_buf_free(&c->out);
    if (c->on_close) {
        cc_hconn_fn fn = c->on_close;
        c->on_close = NULL;
        fn(c, c->close_arg);
    }
    free(c);
}

/* Big buffers go back after use, so thousands of idle connections that
 * once carried a large answer do not keep its memory. */
static void shrink(struct cc_buf *b)
{
    if (b->cap > 4 * READ_CHUNK)
        cc_buf_free(b);
    else
        cc_buf_reset(b);
}

/* Reading resumes (it pauses while an answer waits behind a full pipeline). */
static void resume_reading(struct cc_hconn *c)
{
    if (c->paused) {
        c->paused = false;
        event_add(c->rev, NULL);
    }
}

/* The connection is to close, but not from here: flush runs inside
 * handlers (an answer, a watch's event), and the close callback must not
 * end a request under the feet of the code that is writing to it. The
 * close happens in the connection's own read callback, next in the loop. */
static void close_later(struct cc_hconn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    cc_buf_reset(&c->out);
    c->out_off = 0;
    event_active(c->rev, EV_READ, 1);
}

/* Writes what it can. An answer that ends the connection closes it once
 * written; a write error (the client is gone) closes it too. */
static void flush(struct cc_hconn *c)
{
    if (c->closing)
        return;
    if (c->out.failed) {
        cc_warn("http: out of memory for an answer; connection closed");
        close_later(c);
        return;
    }
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            c->last_io = now_s();
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->writing) {
                event_add(c->wev, NULL);
                c->writing = true;
            }
            return;
        }
        close_later(c);
        return;
    }
    shrink(&c->out);
    c->out_off = 0;
    if (c->writing) {
        event_del(c->wev);
        c->writing = false;
    }
    if (c->close_after && c->req == NULL)
        close_later(c);
}

/* An error answer of the server's own, then close: byte for byte what Go's
 * server writes (no Content-Length; the close ends the body). detail, if
 * not NULL, follows the status text after ": ". */
static void fail(struct cc_hconn *c, int code, const char *reason, const char *detail)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "%d %s%s%s", code, reason, detail ? ": " : "", detail ? detail : "");
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Connection: close\r\n\r\n",
                     msg);
    cc_put_raw(&c->out, head, (size_t)n);
    put_str(&c->out, msg);
    if (c->req != NULL && c->state != C_HANDLER) {
        req_free(c->req);
        c->req = NULL;
    }
    c->close_after = true;
    c->state = C_HEAD;
    c->in_off = c->in.len; /* nothing after a broken request is read */
    flush(c);
}

static void dispatch(struct cc_hconn *c)
{
    struct cc_hserver *s = c->s;
    c->state = C_HANDLER;
    struct cc_hreq *r = c->req;
    r->conn = c;
    if (!c->had_request) {
        c->had_request = true;
        s->n_busy++;
    }
    s->cfg.on_request(r, s->cfg.arg);
}

/* A head arrived: the request, and how its body comes. 0, or -1 when the
 * connection was answered with an error. */
static int on_head(struct cc_hconn *c, const struct cc_h1_head *h, long len)
{
    struct cc_hserver *s = c->s;
    const char *start = (const char *)c->in.data + c->in_off;
    c->req = req_new(s, start, (size_t)len, h);
    c->in_off += (size_t)len;
    if (c->req == NULL) {
        fail(c, 500, "Internal Server Error", NULL);
        return -1;
    }
    c->req->conn = c;
    bool body = h->chunked || h->content_length > 0;
    if (h->has_length && h->content_length > s->cfg.max_body) {
        fail(c, 413, "Request Entity Too Large", NULL);
        return -1;
    }
    if (body && h->expect_continue && h->minor >= 1 && c->in.len == c->in_off) {
        put_str(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
        flush(c);
    }
    if (h->chunked) {
        memset(&c->chunked, 0, sizeof(c->chunked));
        c->state = C_CHUNKED;
    } else if (h->content_length > 0) {
        if (cc_buf_reserve(&c->req->body, (size_t)h->content_length) != 0) {
            fail(c, 500, "Internal Server Error", NULL);
            return -1;
        }
        c->body_left = h->content_length;
        c->state = C_BODY;
    } else {
        dispatch(c);
    }
    return 0;
}

/* Parses and hands on what the input holds, as far as the state allows. */
static void process(struct cc_hconn *c)
{
    struct cc_hserver *s = c->s;
    while (!c->close_after && !c->closing && c->in.len > c->in_off) {
        const char *p = (const char *)c->in.data + c->in_off;
        size_t avail = c->in.len - c->in_off;
        if (c->state == C_HANDLER || c->out.len > c->out_off)
            break; /* one request at a time; its answer leaves first */
        if (c->state == C_HEAD) {
            static struct cc_h1_head head;
            long len = cc_h1_parse_head(p, avail, &head);
            if (len == 0 && avail > s->cfg.max_head)
                len = -431;
            if (len == 0)
                break;
            if (len > (long)s->cfg.max_head)
                len = -431;
            if (len < 0) {
                fail(c, (int)-len,
                     len == -431   ? "Request Header Fields Too Large"
                     : len == -501 ? "Not Implemented"
                     : len == -505 ? "HTTP Version Not Supported"
                                   : "Bad Request",
                     len == -501 ? "unsupported transfer encoding" : NULL);
                return;
            }
            if (head.minor >= 1 && !head.has_host) {
                fail(c, 400, "Bad Request", "missing required Host header");
                return;
            }
            if (on_head(c, &head, len) != 0)
                return;
        } else if (c->state == C_BODY) {
            size_t take = avail < c->body_left ? avail : (size_t)c->body_left;
            cc_put_raw(&c->req->body, p, take);
            c->in_off += take;
            c->body_left -= take;
            if (c->body_left == 0)
                dispatch(c);
        } else if (c->state == C_CHUNKED) {
            size_t used = 0;
            if (cc_buf_reserve(&c->req->body, avail) != 0) {
                fail(c, 500, "Internal Server Error", NULL);
                return;
            }
            size_t blen = c->req->body.len;
            int r = cc_h1_chunked_feed(&c->chunked, p, avail, &used, (char *)c->req->body.data,
                                       &blen, s->cfg.max_body);
            c->req->body.len = blen;
            c->in_off += used;
            if (r == CC_H1_CHUNKED_BAD) {
                bool big = blen + avail > s->cfg.max_body || c->chunked.left > s->cfg.max_body;
                fail(c, big ? 413 : 400, big ? "Request Entity Too Large" : "Bad Request", NULL);
                return;
            }
            if (r == CC_H1_CHUNKED_DONE)
                dispatch(c);
        }
    }
    /* Keep the input buffer's unread part at its front. */
    if (c->in_off == c->in.len) {
        shrink(&c->in);
        c->in_off = 0;
    } else if (c->in_off > 0) {
        memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
        c->in.len -= c->in_off;
        c->in_off = 0;
    }
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct cc_hconn *c = arg;
    struct cc_hserver *s = c->s;
    if (c->closing) {
        conn_close(c);
        return;
    }
    /* While a request waits (for raft, or its answer to leave), keep
     * reading only up to a bound: enough to see the client close or to
     * hold its next request, never an unbounded pipeline. */
    size_t unparsed = c->in.len - c->in_off;
    bool blocked = c->state == C_HANDLER || c->out.len > c->out_off;
    if (blocked && unparsed > s->cfg.max_head + READ_CHUNK) {
        event_del(c->rev); /* re-added when the answer has left */
        c->paused = true;
        return;
    }
    if (cc_buf_reserve(&c->in, READ_CHUNK) != 0) {
        cc_warn("http: out of memory reading a request; connection closed");
        conn_close(c);
        return;
    }
    ssize_t n = recv(fd, c->in.data + c->in.len, c->in.cap - c->in.len, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        conn_close(c);
        return;
    }
    if (n > 0) {
        c->in.len += (size_t)n;
        c->last_io = now_s();
    }
    process(c);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct cc_hconn *c = arg;
    c->writing = false;
    flush(c);
    if (c->closing || c->out.len > c->out_off)
        return;
    /* The answer left: reading may have been paused behind it. */
    resume_reading(c);
    if (c->in.len > c->in_off)
        process(c);
}

int cc_hserver_serve_fd(struct cc_hserver *s, int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        close(fd);
        return -1;
    }
    return accept_one(s, fd);
}

static int accept_one(struct cc_hserver *s, int fd)
{
    struct cc_hconn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->s = s;
    c->fd = fd;
    c->rev = event_new(s->base, fd, EV_READ | EV_PERSIST, on_readable, c);
    c->wev = event_new(s->base, fd, EV_WRITE, on_writable, c);
    if (c->rev == NULL || c->wev == NULL || event_add(c->rev, NULL) != 0) {
        if (c->rev)
            event_free(c->rev);
        if (c->wev)
            event_free(c->wev);
        close(fd);
        free(c);
        return -1;
    }
    cc_buf_init(&c->in);
    cc_buf_init(&c->out);
    c->accepted = c->last_io = now_s();
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    return 0;
}

static void on_acceptable(evutil_socket_t lfd, short what, void *arg)
{
    (void)what;
    struct cc_hserver *s = arg;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            accept_one(s, fd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            cc_warn("http: accept: %s", strerror(errno));
        return;
    }
}

/* Once a second: connections past their deadlines are closed. */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct cc_hserver *s = arg;
    double now = now_s();
    struct cc_hconn *next;
    for (struct cc_hconn *c = s->conns; c; c = next) {
        next = c->next;
        if (c->streaming)
            continue;
        if (!c->had_request) {
            if (now - c->accepted > s->cfg.first_request_s) {
                s->cut_slow++;
                conn_close(c);
            }
            continue;
        }
        /* A handler waiting on raft has its own deadline; its connection
         * times out only if the answer cannot be written. */
        bool waiting = c->state == C_HANDLER && c->out.len == c->out_off;
        if (!waiting && now - c->last_io > s->cfg.idle_timeout_s)
            conn_close(c);
    }
}

struct cc_hserver *cc_hserver_new(struct event_base *base, const struct cc_hserver_cfg *cfg)
{
    struct cc_hserver *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->base = base;
    s->cfg = *cfg;
    s->sweep = event_new(base, -1, EV_PERSIST, on_sweep, s);
    struct timeval tv = {1, 0};
    if (s->sweep == NULL || event_add(s->sweep, &tv) != 0) {
        if (s->sweep)
            event_free(s->sweep);
        free(s);
        return NULL;
    }
    return s;
}

int cc_hserver_listen(struct cc_hserver *s, int fd)
{
    if (s->n_listen == CC_HSERVER_MAX_LISTENERS)
        return -1;
    /* accept4() runs in a loop until EAGAIN: a blocking socket would hang
     * the worker there. */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
        return -1;
    struct event *ev = event_new(s->base, fd, EV_READ | EV_PERSIST, on_acceptable, s);
    if (ev == NULL || event_add(ev, NULL) != 0) {
        if (ev)
            event_free(ev);
        return -1;
    }
    s->listen_fd[s->n_listen] = fd;
    s->listen_ev[s->n_listen] = ev;
    s->n_listen++;
    return 0;
}

static void close_listeners(struct cc_hserver *s)
{
    for (size_t i = 0; i < s->n_listen; i++) {
        event_free(s->listen_ev[i]);
        close(s->listen_fd[i]);
    }
    s->n_listen = 0;
}

void cc_hserver_stop_accepting(struct cc_hserver *s)
{
    close_listeners(s);
    s->stopping = true;
    struct cc_hconn *next;
    for (struct cc_hconn *c = s->conns; c; c = next) {
        next = c->next;
        if (c->had_request && c->state == C_HEAD && c->in.len == c->in_off &&
            c->out.len == c->out_off)
            conn_close(c);
    }
}

void cc_hserver_free(struct cc_hserver *s)
{
    if (s == NULL)
        return;
    close_listeners(s);
    while (s->conns) {
        s->conns->on_close = NULL;
        conn_close(s->conns);
    }
    event_free(s->sweep);
    free(s);
}

size_t cc_hserver_listeners(const struct cc_hserver *s)
{
    return s->n_listen;
}

uint32_t cc_hserver_busy_conns(const struct cc_hserver *s)
{
    return s->n_busy;
}

uint64_t cc_hserver_cut_slow(const struct cc_hserver *s)
{
    return s->cut_slow;
}

/* Connections accepted on the peer port.
 *
 * One port, two protocols: the first two bytes decide. "CC" (the frame
 * magic) is a member dialing us to send raft traffic: the handshake and the
 * frames go through the pure machine of peer_conn.c, and what it delivers
 * goes to consensus. Anything else is HTTP: one request head, answered by
 * peer_http.c, then the connection closes.
 *
 * Every accepted connection has CC_PEER_HANDSHAKE_MS to say what it is (a
 * complete HTTP head, or a handshake); a member's connection then lives as
 * long as TCP does (keepalive finds a vanished member). Reads are bounded
 * per callback and consumed at once, so a connection holds at most one
 * frame's buffer. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/peer/peer.h"
#include "core/peer/peer_http.h"

/* How long a closing connection may keep sending before we hang up: the
 * client must get our last bytes, and closing with its unread bytes in our
 * socket would send a reset that can destroy them. */
#define LINGER_MS 2000
/* Bytes read per callback: big enough for snapshot chunks to flow, small
 * enough to bound what one connection makes us hold. */
#define READ_MAX (256 * 1024)

enum inbound_mode {
    IN_SNIFF,  /* nothing decisive read yet */
    IN_HTTP,   /* reading a request head */
    IN_FRAMES, /* a member's frame connection */
    IN_LINGER, /* answered; waiting for our bytes to leave, then EOF */
};

struct cc_inbound {
    struct cc_peer_worker *pw;
    struct cc_inbound *prev, *next;
    struct bufferevent *bev;
    struct event *timer; /* the handshake deadline, then the linger limit */
    enum inbound_mode mode;
    bool conn_used; /* conn was initialised */
    struct cc_peer_conn conn;
    bool handshaken;
    struct cc_peer *peer; /* the member, once handshaken (NULL: one we never dial) */
    size_t scanned;       /* HTTP: bytes already searched for the blank line */
    char addr[80];        /* "ip:port" of the remote, for the log */
    char host[72];        /* the remote's ip, for rate-limiting its lines */
};

static void in_free(struct cc_inbound *in)
{
    struct cc_peer_worker *pw = in->pw;
    if (in->prev)
        in->prev->next = in->next;
    else
        pw->inbound = in->next;
    if (in->next)
        in->next->prev = in->prev;
    pw->n_inbound--;
    if (in->handshaken)
        pw->n_inbound_peers--;
    if (in->bev) {
        bufferevent_setcb(in->bev, NULL, NULL, NULL, NULL);
        bufferevent_free(in->bev);
    }
    if (in->timer)
        event_free(in->timer);
    if (in->conn_used)
        cc_peer_conn_free(&in->conn);
    free(in);
}

static void arm(struct cc_inbound *in, unsigned ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(in->timer, &tv);
}

static void on_read(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

static void on_drained(struct bufferevent *bev, void *arg)
{
    /* Our last bytes are in the kernel: tell the client we are done and
     * wait for its EOF (or the linger limit) before closing. */
    bufferevent_setcb(bev, on_read, NULL, on_event, arg);
    shutdown(bufferevent_getfd(bev), SHUT_WR);
}

/* Sends the bytes of out, then closes (see LINGER_MS). */
static void answer_and_close(struct cc_inbound *in, const struct cc_buf *out)
{
    in->mode = IN_LINGER;
    evtimer_del(in->timer);
    arm(in, LINGER_MS);
    struct evbuffer *input = bufferevent_get_input(in->bev);
    evbuffer_drain(input, evbuffer_get_length(input));
    if (out->failed || bufferevent_write(in->bev, out->data, out->len) != 0) {
        in_free(in);
        return;
    }
    bufferevent_setcb(in->bev, on_read, on_drained, on_event, in);
}

/* ---- HTTP ---- */

static void http_read(struct cc_inbound *in)
{
    struct cc_peer_worker *pw = in->pw;
    struct evbuffer *input = bufferevent_get_input(in->bev);
    size_t len = evbuffer_get_length(input);
    size_t look = len < CC_PEER_HTTP_HEAD_MAX ? len : CC_PEER_HTTP_HEAD_MAX;
    if (look == 0)
        return;
    const char *p = (const char *)evbuffer_pullup(input, (ev_ssize_t)look);
    struct cc_buf out;
    char why[128] = "";
    cc_buf_init(&out);
    if (p == NULL) {
        in_free(in);
        return;
    }
    /* The blank line may straddle what was searched before. */
    size_t from = in->scanned > 3 ? in->scanned - 3 : 0;
    const char *end = memmem(p + from, look - from, "\r\n\r\n", 4);
    in->scanned = look;
    if (!cc_peer_http_plausible(p, end ? (size_t)(end - p) : look, why, sizeof(why))) {
        cc_peer_http_bad_request(&out);
        cc_peer_warn_limited(pw, in->host, why, "peer port: malformed HTTP request from %s (%s)",
                             in->addr, why);
    } else if (end == NULL) {
        if (len < CC_PEER_HTTP_HEAD_MAX)
            return; /* wait for more */
        cc_peer_http_too_large(&out);
        cc_peer_warn_limited(pw, in->host, "431",
                             "peer port: HTTP request head from %s over %d bytes; answered 431",
                             in->addr, CC_PEER_HTTP_HEAD_MAX);
    } else {
        struct cc_peer_http_ctx ctx = {&pw->cluster, &pw->w->cfg.advertise_client_urls};
        int code = cc_peer_http_respond(&ctx, p, (size_t)(end + 4 - p), &out, why, sizeof(why));
        pw->http_requests++;
        if (code == 400 && why[0])
            cc_peer_warn_limited(pw, in->host, why,
                                 "peer port: malformed HTTP request from %s (%s)", in->addr, why);
    }
    answer_and_close(in, &out);
    cc_buf_free(&out);
}

/* ---- frames ---- */

static void send_frame(struct cc_inbound *in, const struct cc_msg *m)
{
    struct cc_buf *b = &in->pw->scratch;
    cc_buf_reset(b);
    if (cc_msg_encode(b, m) == 0)
        bufferevent_write(in->bev, b->data, b->len);
}

static void on_hello(struct cc_inbound *in)
{
    struct cc_peer_worker *pw = in->pw;
    struct cc_msg m;
    cc_peer_conn_hello(&in->conn, &m);
    send_frame(in, &m);
    evtimer_del(in->timer);
    in->peer = cc_peer_find(pw, in->conn.remote_id);
    in->handshaken = true;
    pw->n_inbound_peers++;
    /* A member has one sending connection to us; an older one from it is
     * a leftover of a restart or a network cut that TCP has not noticed. */
    for (struct cc_inbound *o = pw->inbound, *next; o != NULL; o = next) {
        next = o->next;
        if (o != in && o->handshaken && o->conn.remote_id == in->conn.remote_id) {
            cc_info("peer %llx: new connection from %s replaces the one from %s",
                    (unsigned long long)in->conn.remote_id, in->addr, o->addr);
            in_free(o);
        }
    }
    cc_info("peer %llx connected from %s", (unsigned long long)in->conn.remote_id, in->addr);
}

static void deliver(struct cc_inbound *in, const struct cc_msg *m)
{
    struct cc_link *l = cc_worker_link(in->pw->w, CC_KIND_CONSENSUS);
    if (in->peer)
        in->peer->received++;
    if (l == NULL || cc_link_send(l, m) != 0)
        cc_peer_warn_limited(in->pw, "consensus", "link", "cannot pass %s from %llx to consensus",
                             cc_msg_name(m->type), (unsigned long long)in->conn.remote_id);
}

static void refuse(struct cc_inbound *in)
{
    struct cc_peer_worker *pw = in->pw;
    struct cc_msg m = {.type = CC_MSG_PEER_REFUSE};
    m.u.peer_refuse.reason =
        (struct cc_bytes){(const uint8_t *)in->conn.reason, (uint32_t)strlen(in->conn.reason)};
    pw->refused_inbound++;
    cc_peer_warn_limited(pw, in->host, in->conn.reason, "peer %s refused: %s", in->addr,
                         in->conn.reason);
    struct cc_buf *b = &pw->scratch;
    cc_buf_reset(b);
    cc_msg_encode(b, &m);
    answer_and_close(in, b);
}

static void frames_read(struct cc_inbound *in)
{
    struct evbuffer *input = bufferevent_get_input(in->bev);
    while (evbuffer_get_length(input) > 0) {
        struct evbuffer_iovec v;
        struct cc_msg m;
        size_t used = 0;
        if (evbuffer_peek(input, -1, NULL, &v, 1) < 1)
            break;
        enum cc_peer_verdict verdict =
            cc_peer_conn_feed(&in->conn, v.iov_base, v.iov_len, &used, &m);
        switch (verdict) {
        case CC_PEER_MORE:
            break;
        case CC_PEER_HELLO_OK:
            on_hello(in);
            break;
        case CC_PEER_DELIVER:
            deliver(in, &m); /* m points into v: before the drain */
            break;
        case CC_PEER_REFUSE:
            refuse(in);
            return;
        case CC_PEER_REFUSED:
        case CC_PEER_ERROR:
            cc_peer_warn_limited(in->pw, in->host, in->conn.reason,
                                 "peer connection from %s closed: %s", in->addr, in->conn.reason);
            in_free(in);
            return;
        }
        evbuffer_drain(input, used);
    }
}

/* ---- the connection ---- */

static void on_read(struct bufferevent *bev, void *arg)
{
    struct cc_inbound *in = arg;
    struct evbuffer *input = bufferevent_get_input(bev);
    if (in->mode == IN_SNIFF) {
        uint8_t first[2];
        ev_ssize_t n = evbuffer_copyout(input, first, sizeof(first));
        switch (cc_peer_sniff(first, n > 0 ? (size_t)n : 0)) {
        case CC_PEER_SNIFF_MORE:
            return;
        case CC_PEER_SNIFF_HTTP:
            in->mode = IN_HTTP;
            break;
        case CC_PEER_SNIFF_FRAMES: {
            struct cc_peer_worker *pw = in->pw;
            struct cc_peer_conn_params p = {
                .role = CC_PEER_ACCEPTOR,
                .cluster_id = pw->cluster.cluster_id,
                .self_id = pw->cluster.self_id,
                .members = pw->member_ids,
                .n_members = pw->n_members,
            };
            cc_peer_conn_init(&in->conn, &p);
            in->conn_used = true;
            in->mode = IN_FRAMES;
            break;
        }
        }
    }
    switch (in->mode) {
    case IN_HTTP:
        http_read(in);
        break;
    case IN_FRAMES:
        frames_read(in);
        break;
    case IN_LINGER:
        evbuffer_drain(input, evbuffer_get_length(input));
        break;
    case IN_SNIFF:
        break;
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct cc_inbound *in = arg;
    if (in->mode == IN_FRAMES && (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) {
        int err = EVUTIL_SOCKET_ERROR();
        if (in->handshaken)
            cc_info("peer %llx: connection from %s closed%s%s",
                    (unsigned long long)in->conn.remote_id, in->addr,
                    what & BEV_EVENT_ERROR ? ": " : "",
                    what & BEV_EVENT_ERROR ? strerror(err) : "");
        else if (cc_peer_conn_buffered(&in->conn) > 0)
            cc_peer_warn_limited(in->pw, in->host, "mid-frame",
                                 "peer connection from %s closed in the middle of a frame",
                                 in->addr);
    }
    /* HTTP clients that give up, lingering clients that hang up: nothing
     * to say. */
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        in_free(in);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct cc_inbound *in = arg;
    if (in->mode != IN_LINGER)
        cc_peer_warn_limited(
            in->pw, in->host, "deadline", "peer port: %s sent no complete %s in %d s; closing",
            in->addr, in->mode == IN_FRAMES ? "handshake" : "request", CC_PEER_HANDSHAKE_MS / 1000);
    in_free(in);
}

void cc_peer_inbound_accept(struct cc_peer_worker *pw, int fd, const struct sockaddr *sa, int salen)
{
    char addr[80];
    cc_peer_addr_text(sa, (socklen_t)salen, addr, sizeof(addr));
    if (pw->stopping || pw->n_inbound >= CC_PEER_MAX_INBOUND) {
        if (!pw->stopping)
            cc_peer_warn_limited(pw, "", "too many", "peer port: %d connections open; refusing %s",
                                 CC_PEER_MAX_INBOUND, addr);
        close(fd);
        return;
    }
    struct cc_inbound *in = calloc(1, sizeof(*in));
    if (in == NULL) {
        close(fd);
        return;
    }
    in->pw = pw;
    snprintf(in->addr, sizeof(in->addr), "%s", addr);
    if (getnameinfo(sa, (socklen_t)salen, in->host, sizeof(in->host), NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(in->host, sizeof(in->host), "?");
    in->next = pw->inbound;
    if (pw->inbound)
        pw->inbound->prev = in;
    pw->inbound = in;
    pw->n_inbound++;
    cc_peer_tune_socket(fd);
    in->bev = bufferevent_socket_new(pw->w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    in->timer = evtimer_new(pw->w->base, on_timer, in);
    if (in->bev == NULL || in->timer == NULL) {
        if (in->bev == NULL)
            close(fd);
        in_free(in);
        return;
    }
    bufferevent_set_max_single_read(in->bev, READ_MAX);
    bufferevent_setcb(in->bev, on_read, NULL, on_event, in);
    bufferevent_enable(in->bev, EV_READ | EV_WRITE);
    arm(in, CC_PEER_HANDSHAKE_MS);
}

void cc_peer_inbound_close_all(struct cc_peer_worker *pw)
{
    while (pw->inbound != NULL)
        in_free(pw->inbound);
}

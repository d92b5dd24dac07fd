/* The outgoing connection to each other member: dial, handshake, send,
 * and redial with backoff.
 *
 * Per peer:
 *
 *   BACKOFF --timer--> RESOLVING --address--> CONNECTING --TCP up--> HELLO_SENT
 *      ^                  (names only)            |                     |
 *      |                                          |        PEER_HELLO that fits
 *      `---- any failure, refusal or timeout -----'-------------------- |
 *      ^                                                                v
 *      `---------------- EOF, error, garbage, queue overflow ------ CONNECTED
 *
 * The connection leaves from the host of this member's own first peer URL
 * (bound before connect), so the other member sees traffic come from the
 * address it knows us by. Only CONNECTED takes frames: what consensus sends
 * to a member that is not connected is dropped and counted, as raft resends
 * what matters. Frames written during one loop turn leave in one write (the
 * bufferevent writes its whole output buffer when the socket is ready).
 *
 * A failure is logged once: the same reason again (a member that stays
 * down) is not logged again until another reason or a connection came in
 * between. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/peer/peer.h"

/* Bytes handed to one write(): a whole loop turn's frames for a peer. */
#define WRITE_MAX (4 * 1024 * 1024)
/* Unacknowledged data older than this breaks the connection: a member that
 * vanished while we were sending is noticed in seconds, not after TCP's
 * fifteen minutes of retransmissions. */
#define USER_TIMEOUT_MS 10000

static void start_dial(struct cc_peer *p);

const char *cc_peer_state_name(enum cc_peer_state s)
{
    switch (s) {
    case CC_PEER_BACKOFF:
        return "backoff";
    case CC_PEER_RESOLVING:
    case CC_PEER_CONNECTING:
    case CC_PEER_HELLO_SENT:
        return "connecting";
    case CC_PEER_CONNECTED:
        return "connected";
    }
    return "?";
}

struct cc_peer *cc_peer_find(struct cc_peer_worker *pw, uint64_t id)
{
    for (size_t i = 0; i < pw->n_peers; i++)
        if (pw->peers[i].id == id)
            return &pw->peers[i];
    return NULL;
}

size_t cc_peer_dial_pending_one(const struct cc_peer *p)
{
    return p->bev ? evbuffer_get_length(bufferevent_get_output(p->bev)) : 0;
}

size_t cc_peer_dial_pending(const struct cc_peer_worker *pw)
{
    size_t n = 0;
    for (size_t i = 0; i < pw->n_peers; i++)
        if (pw->peers[i].state == CC_PEER_CONNECTED)
            n += cc_peer_dial_pending_one(&pw->peers[i]);
    return n;
}

static void arm(struct cc_peer *p, unsigned ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(p->timer, &tv);
}

static void drop_connection(struct cc_peer *p)
{
    if (p->bev) {
        bufferevent_setcb(p->bev, NULL, NULL, NULL, NULL);
        bufferevent_free(p->bev);
        p->bev = NULL;
    }
    cc_peer_conn_free(&p->conn);
    evtimer_del(p->timer);
}

/* Closes whatever is under way and redials after the backoff. refusal:
 * the remote (or its answer) refused the handshake; kept for the status. */
__attribute__((format(printf, 3, 4))) static void fail(struct cc_peer *p, bool refusal,
                                                       const char *fmt, ...)
{
    char why[CC_PEER_REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    bool was_up = p->state == CC_PEER_CONNECTED;
    drop_connection(p);
    p->state = CC_PEER_BACKOFF;
    if (refusal)
        snprintf(p->refused, sizeof(p->refused), "%s", why);
    if (was_up || strcmp(why, p->last_failure) != 0) {
        cc_warn("peer %llx (%s): %s%s", (unsigned long long)p->id, p->url->text, why,
                was_up ? "; reconnecting" : "; retrying with backoff");
        snprintf(p->last_failure, sizeof(p->last_failure), "%s", why);
    }
    if (p->pw->stopping)
        return;
    arm(p, p->backoff_ms);
    p->backoff_ms =
        p->backoff_ms * 2 > CC_PEER_BACKOFF_MAX_MS ? CC_PEER_BACKOFF_MAX_MS : p->backoff_ms * 2;
}

static void connected(struct cc_peer *p)
{
    evtimer_del(p->timer);
    p->state = CC_PEER_CONNECTED;
    p->backoff_ms = CC_PEER_BACKOFF_MIN_MS;
    p->refused[0] = '\0';
    p->last_failure[0] = '\0';
    cc_info("peer %llx (%s): connected", (unsigned long long)p->id, p->url->text);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct cc_peer *p = arg;
    struct evbuffer *input = bufferevent_get_input(bev);
    while (p->bev == bev && evbuffer_get_length(input) > 0) {
        struct evbuffer_iovec v;
        struct cc_msg m;
        size_t used = 0;
        if (evbuffer_peek(input, -1, NULL, &v, 1) < 1)
            return;
        switch (cc_peer_conn_feed(&p->conn, v.iov_base, v.iov_len, &used, &m)) {
        case CC_PEER_MORE:
            break;
        case CC_PEER_HELLO_OK:
            connected(p);
            break;
        case CC_PEER_REFUSED:
            fail(p, true, "%s", p->conn.reason);
            return;
        case CC_PEER_REFUSE:
        case CC_PEER_DELIVER: /* an acceptor's verdicts: not for us */
        case CC_PEER_ERROR:
            fail(p, p->state != CC_PEER_CONNECTED, "%s", p->conn.reason);
            return;
        }
        evbuffer_drain(input, used);
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct cc_peer *p = arg;
    if (what & BEV_EVENT_CONNECTED) {
        struct cc_msg m;
        struct cc_buf *b = &p->pw->scratch;
        p->state = CC_PEER_HELLO_SENT;
        cc_peer_conn_hello(&p->conn, &m);
        cc_buf_reset(b);
        if (cc_msg_encode(b, &m) != 0 || bufferevent_write(bev, b->data, b->len) != 0) {
            fail(p, false, "cannot send the handshake");
            return;
        }
        evtimer_del(p->timer);
        arm(p, CC_PEER_HANDSHAKE_MS);
        return;
    }
    if (what & BEV_EVENT_ERROR) {
        int err = EVUTIL_SOCKET_ERROR();
        fail(p, false, "%s%s", p->state == CC_PEER_CONNECTING ? "connect: " : "",
             evutil_socket_error_to_string(err));
    } else if (what & BEV_EVENT_EOF) {
        fail(p, false, "%s",
             p->state == CC_PEER_CONNECTED ? "connection closed by the peer"
                                           : "connection closed by the peer in the handshake");
    }
}

/* Picks the address to dial: one of the family we bind to, if any. */
static const struct evutil_addrinfo *pick(const struct cc_peer_worker *pw,
                                          const struct evutil_addrinfo *res)
{
    for (const struct evutil_addrinfo *a = res; a != NULL && pw->bind_len > 0; a = a->ai_next)
        if (a->ai_family == pw->bind_addr.ss_family)
            return a;
    return res;
}

static void connect_to(struct cc_peer *p, const struct evutil_addrinfo *res)
{
    struct cc_peer_worker *pw = p->pw;
    const struct evutil_addrinfo *a = pick(pw, res);
    int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fail(p, false, "socket: %s", strerror(errno));
        return;
    }
    cc_peer_tune_socket(fd);
    unsigned ut = USER_TIMEOUT_MS;
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut));
    if (pw->bind_len > 0 && pw->bind_addr.ss_family == a->ai_family) {
        /* The port is picked at connect time, with the destination known:
         * many members can share the address's ephemeral ports. */
        int one = 1;
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(fd, (const struct sockaddr *)&pw->bind_addr, pw->bind_len) != 0) {
            char addr[80];
            cc_peer_addr_text((const struct sockaddr *)&pw->bind_addr, pw->bind_len, addr,
                              sizeof(addr));
            cc_warn("cannot send peer traffic from %s (this member's peer URL): %s; "
                    "letting the system choose the source address",
                    addr, strerror(errno));
            pw->bind_len = 0;
        }
    }
    p->bev = bufferevent_socket_new(pw->w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (p->bev == NULL) {
        close(fd);
        fail(p, false, "out of memory");
        return;
    }
    struct bufferevent *bev = p->bev;
    bufferevent_set_max_single_write(bev, WRITE_MAX);
    bufferevent_setcb(bev, on_read, NULL, on_event, p);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    struct cc_peer_conn_params cp = {
        .role = CC_PEER_DIALER,
        .cluster_id = pw->cluster.cluster_id,
        .self_id = pw->cluster.self_id,
        .peer_id = p->id,
        .members = pw->member_ids,
        .n_members = pw->n_members,
    };
    cc_peer_conn_init(&p->conn, &cp);
    p->state = CC_PEER_CONNECTING;
    arm(p, CC_PEER_CONNECT_MS);
    /* An immediate failure may already have gone through on_event. */
    if (bufferevent_socket_connect(bev, a->ai_addr, (int)a->ai_addrlen) != 0 && p->bev == bev)
        fail(p, false, "connect: %s", strerror(errno));
}

static void on_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
    struct cc_peer *p = arg;
    p->dns_req = NULL;
    if (result == EVUTIL_EAI_CANCEL || p->pw->stopping || p->state != CC_PEER_RESOLVING) {
        if (res)
            evutil_freeaddrinfo(res);
        return;
    }
    if (result != 0 || res == NULL)
        fail(p, false, "cannot resolve %s: %s", p->url->host, evutil_gai_strerror(result));
    else
        connect_to(p, res);
    if (res)
        evutil_freeaddrinfo(res);
}

static void start_dial(struct cc_peer *p)
{
    struct cc_peer_worker *pw = p->pw;
    char port[8];
    struct evutil_addrinfo hints, *res = NULL;
    /* Go dials ":port" as the local host; so does getaddrinfo(NULL). */
    const char *host = p->url->host[0] ? p->url->host : NULL;
    snprintf(port, sizeof(port), "%u", (unsigned)p->url->port);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;
    p->state = CC_PEER_RESOLVING;
    if (host == NULL || evutil_getaddrinfo(host, port, &hints, &res) == 0) {
        if (host == NULL && evutil_getaddrinfo(NULL, port, &hints, &res) != 0) {
            fail(p, false, "cannot find the local host");
            return;
        }
        connect_to(p, res);
        evutil_freeaddrinfo(res);
        return;
    }
    /* A host name: resolved without blocking the loop (the other peers'
     * traffic goes on meanwhile). */
    if (pw->dns == NULL)
        pw->dns = evdns_base_new(pw->w->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                                  EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (pw->dns == NULL) {
        fail(p, false, "cannot start the DNS resolver");
        return;
    }
    hints.ai_flags = EVUTIL_AI_NUMERICSERV;
    /* NULL when answered at once (on_resolved has run). */
    p->dns_req = evdns_getaddrinfo(pw->dns, host, port, &hints, on_resolved, p);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct cc_peer *p = arg;
    if (p->pw->stopping)
        return;
    switch (p->state) {
    case CC_PEER_BACKOFF:
        start_dial(p);
        break;
    case CC_PEER_CONNECTING:
        fail(p, false, "connect timed out after %d ms", CC_PEER_CONNECT_MS);
        break;
    case CC_PEER_HELLO_SENT:
        fail(p, false, "no answer to the handshake in %d s", CC_PEER_HANDSHAKE_MS / 1000);
        break;
    case CC_PEER_RESOLVING:
    case CC_PEER_CONNECTED:
        break;
    }
}

/* Logs a dropped message at most once per CC_PEER_LOG_EVERY_S per peer. */
static void drop(struct cc_peer *p, const struct cc_msg *m, const char *why)
{
    double now = cc_now();
    p->dropped++;
    if (now - p->drop_logged_at < CC_PEER_LOG_EVERY_S) {
        p->drops_unlogged++;
        return;
    }
    cc_warn("peer %llx: dropping %s: %s (%llu more dropped since the last line)",
            (unsigned long long)p->id, cc_msg_name(m->type), why,
            (unsigned long long)p->drops_unlogged);
    p->drop_logged_at = now;
    p->drops_unlogged = 0;
}

void cc_peer_dial_send(struct cc_peer_worker *pw, uint64_t to, const struct cc_msg *m)
{
    struct cc_peer *p = cc_peer_find(pw, to);
    if (p == NULL) {
        pw->dropped_unknown++;
        cc_peer_warn_limited(pw, "consensus", "unknown member",
                             "dropping %s for %llx: not a peer of this member",
                             cc_msg_name(m->type), (unsigned long long)to);
        return;
    }
    if (p->state != CC_PEER_CONNECTED) {
        /* Not logged: while a member is down this is every heartbeat, and
         * the failure that took it down was logged. */
        p->dropped++;
        return;
    }
    size_t queued = cc_peer_dial_pending_one(p);
    if (m->type == CC_MSG_SNAPSHOT_CHUNK_PEER && queued > CC_PEER_SNAP_QUEUE_MAX) {
        p->dropped++;
        fail(p, false, "over %u MiB queued with a snapshot in it; closing (the transfer restarts)",
             CC_PEER_SNAP_QUEUE_MAX >> 20);
        return;
    }
    /* Everything else (RAFT, proposals, read rounds) is retried by raft or
     * by the request's own timeout. */
    if (m->type != CC_MSG_SNAPSHOT_CHUNK_PEER && queued > CC_PEER_QUEUE_MAX) {
        drop(p, m, "over 64 MiB queued for it");
        return;
    }
    struct cc_buf *b = &pw->scratch;
    cc_buf_reset(b);
    if (cc_msg_encode(b, m) != 0 || bufferevent_write(p->bev, b->data, b->len) != 0) {
        drop(p, m, errno == EMSGSIZE ? "frame too large" : "cannot encode it");
        return;
    }
    p->sent++;
    if (b->cap > 1024 * 1024) {
        cc_buf_free(b); /* a snapshot chunk's worth: not kept between sends */
        cc_buf_init(b);
    }
}

/* The source address: the host of our own first peer URL, as known to the
 * identity (or --initial-advertise-peer-urls if we are not in it). */
static void resolve_bind(struct cc_peer_worker *pw)
{
    const struct cc_url *own = NULL;
    for (size_t i = 0; i < pw->cluster.n; i++)
        if (pw->cluster.members[i].id == pw->cluster.self_id &&
            pw->cluster.members[i].peer_urls.n > 0)
            own = &pw->cluster.members[i].peer_urls.v[0];
    if (own == NULL && pw->w->cfg.initial_advertise_peer_urls.n > 0)
        own = &pw->w->cfg.initial_advertise_peer_urls.v[0];
    if (own == NULL || own->host[0] == '\0')
        return;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST}, *res = NULL;
    /* A name here (`localhost` by default) is looked up once, at start. */
    if (getaddrinfo(own->host, NULL, &hints, &res) != 0) {
        hints.ai_flags = 0;
        if (getaddrinfo(own->host, NULL, &hints, &res) != 0) {
            cc_warn("cannot resolve %s (this member's peer URL); peer traffic leaves from the "
                    "address the system chooses",
                    own->host);
            return;
        }
    }
    const struct addrinfo *a = res;
    for (const struct addrinfo *x = res; x != NULL; x = x->ai_next)
        if (x->ai_family == AF_INET) {
            a = x; /* as Go's resolver prefers */
            break;
        }
    bool wildcard =
        (a->ai_family == AF_INET &&
         ((const struct sockaddr_in *)a->ai_addr)->sin_addr.s_addr == htonl(INADDR_ANY)) ||
        (a->ai_family == AF_INET6 && memcmp(&((const struct sockaddr_in6 *)a->ai_addr)->sin6_addr,
                                            &in6addr_any, sizeof(in6addr_any)) == 0);
    if (!wildcard && a->ai_addrlen <= sizeof(pw->bind_addr)) {
        memcpy(&pw->bind_addr, a->ai_addr, a->ai_addrlen);
        pw->bind_len = (socklen_t)a->ai_addrlen;
    }
    freeaddrinfo(res);
}

int cc_peer_dial_init(struct cc_peer_worker *pw)
{
    resolve_bind(pw);
    for (size_t i = 0; i < pw->cluster.n; i++) {
        const struct cc_member_def *m = &pw->cluster.members[i];
        if (m->id == pw->cluster.self_id || m->peer_urls.n == 0)
            continue;
        struct cc_peer *p = &pw->peers[pw->n_peers];
        memset(p, 0, sizeof(*p));
        p->pw = pw;
        p->id = m->id;
        p->url = &m->peer_urls.v[0];
        p->state = CC_PEER_BACKOFF;
        p->backoff_ms = CC_PEER_BACKOFF_MIN_MS;
        cc_buf_init(&p->conn.frame);
        p->timer = evtimer_new(pw->w->base, on_timer, p);
        if (p->timer == NULL)
            return -1;
        pw->n_peers++;
        arm(p, 0); /* dial from the loop, all peers alike */
    }
    return 0;
}

void cc_peer_dial_close_all(struct cc_peer_worker *pw)
{
    for (size_t i = 0; i < pw->n_peers; i++) {
        struct cc_peer *p = &pw->peers[i];
        if (p->dns_req) {
            struct evdns_getaddrinfo_request *r = p->dns_req;
            p->dns_req = NULL;
            evdns_getaddrinfo_cancel(r);
        }
        drop_connection(p);
        if (p->timer)
            event_free(p->timer);
        p->timer = NULL;
        p->state = CC_PEER_BACKOFF;
    }
    pw->n_peers = 0;
    if (pw->dns) {
        evdns_base_free(pw->dns, 0);
        pw->dns = NULL;
    }
}

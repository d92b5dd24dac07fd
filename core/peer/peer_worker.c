/* The peer-transport worker: the raft transport between members and the
 * peer port's HTTP endpoints.
 *
 * It owns the peer URLs' listening sockets (inherited from the master) and
 * the TCP connections to the other members (peer.h for the shape). This
 * file wires them up: the member identity, the listeners, the link to
 * consensus (member traffic, cc_peer_traffic, in both directions),
 * the status gauges and the graceful stop. */
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/identity.h"
#include "core/log.h"
#include "core/peer/peer.h"
#include "core/v2/json.h"

int cc_peer_worker_main(struct cc_worker *w);

#define PUT_LIT(b, lit) cc_put_raw((b), (lit), sizeof(lit) - 1)

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

void cc_peer_warn_limited(struct cc_peer_worker *pw, const char *host, const char *what,
                          const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    uint64_t key = fnv1a(fnv1a(fnv1a(0xcbf29ce484222325ull, host), "\n"), what);
    double now = cc_now();
    size_t slot = 0;
    for (size_t i = 0; i < sizeof(pw->recent) / sizeof(pw->recent[0]); i++) {
        if (pw->recent[i].key == key) {
            slot = i;
            break;
        }
        if (pw->recent[i].at < pw->recent[slot].at)
            slot = i; /* else the oldest entry makes room */
    }
    if (pw->recent[slot].key == key && now - pw->recent[slot].at < CC_PEER_LOG_EVERY_S) {
        pw->recent[slot].suppressed++;
        return;
    }
    if (pw->recent[slot].key == key && pw->recent[slot].suppressed > 0)
        cc_warn("%s (%llu more like it not logged)", line,
                (unsigned long long)pw->recent[slot].suppressed);
    else
        cc_warn("%s", line);
    pw->recent[slot].key = key;
    pw->recent[slot].at = now;
    pw->recent[slot].suppressed = 0;
}

void cc_peer_addr_text(const struct sockaddr *sa, socklen_t len, char *out, size_t outlen)
{
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(out, outlen, "?");
        return;
    }
    snprintf(out, outlen, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

void cc_peer_tune_socket(int fd)
{
    /* Raft's messages are small and latency-bound: no Nagle delay. Keepalive
     * finds a member that vanished while the connection was idle (accepted
     * connections only read, so they would never notice otherwise). */
    int one = 1, idle = 10, intvl = 5, cnt = 3;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/* ---- the link to consensus ---- */

static void on_link_msg(struct cc_worker *w, struct cc_link *l, const struct cc_msg *m)
{
    struct cc_peer_worker *pw = w->state;
    uint64_t from, to;
    if (pw->stopping)
        return;
    if (cc_peer_traffic(m, &from, &to))
        cc_peer_dial_send(pw, to, m);
    else
        cc_peer_warn_limited(pw, "consensus", cc_msg_name(m->type),
                             "unexpected %s from %s; ignored", cc_msg_name(m->type), l->def->name);
}

/* ---- listeners ---- */

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    cc_peer_inbound_accept(arg, fd, sa, salen);
}

static void on_relisten(evutil_socket_t fd, short what, void *arg)
{
    struct cc_peer_worker *pw = arg;
    for (size_t i = 0; i < pw->n_listeners && !pw->stopping; i++)
        evconnlistener_enable(pw->listeners[i]);
}

static void on_accept_error(struct evconnlistener *lis, void *arg)
{
    struct cc_peer_worker *pw = arg;
    int err = EVUTIL_SOCKET_ERROR();
    cc_peer_warn_limited(pw, "listener", strerror(err),
                         "peer port: accept failed: %s; pausing 100 ms", strerror(err));
    /* Out of descriptors: the pending connection stays in the backlog and
     * the listener would fire again at once. Pause instead of spinning. */
    for (size_t i = 0; i < pw->n_listeners; i++)
        evconnlistener_disable(pw->listeners[i]);
    struct timeval tv = {0, 100 * 1000};
    evtimer_add(pw->relisten, &tv);
}

static void free_listeners(struct cc_peer_worker *pw)
{
    for (size_t i = 0; i < pw->n_listeners; i++)
        evconnlistener_free(pw->listeners[i]);
    pw->n_listeners = 0;
}

/* ---- status ---- */

static void peer_json(struct cc_buf *b, const struct cc_peer *p)
{
    char num[160];
    snprintf(num, sizeof(num), "{\"id\":\"%llx\",\"url\":", (unsigned long long)p->id);
    cc_put_raw(b, num, strlen(num));
    cc_v2_json_string(b, p->url->text, strlen(p->url->text));
    snprintf(num, sizeof(num),
             ",\"state\":\"%s\",\"sent\":%llu,\"received\":%llu,\"dropped\":%llu,"
             "\"queued_bytes\":%zu,\"refused\":",
             cc_peer_state_name(p->state), (unsigned long long)p->sent,
             (unsigned long long)p->received, (unsigned long long)p->dropped,
             cc_peer_dial_pending_one(p));
    cc_put_raw(b, num, strlen(num));
    /* The status line is small (1 KiB for the whole object): the reason's
     * start says enough. */
    size_t rlen = strlen(p->refused);
    cc_v2_json_string(b, p->refused, rlen < 80 ? rlen : 80);
    PUT_LIT(b, "}");
}

/* {"inbound":N,"connected":N,"dropped":N,"peers":[...]}, the per-peer list
 * cut short (and counted in "peers_omitted") when the object would not fit
 * in len. The totals come first: the admin socket shows only scalar
 * fields of this object. */
static void detail_json(struct cc_worker *w, char *buf, size_t len)
{
    struct cc_peer_worker *pw = w->state;
    struct cc_buf b, one;
    size_t connected = 0, omitted = 0;
    uint64_t dropped = pw->dropped_unknown;
    for (size_t i = 0; i < pw->n_peers; i++) {
        connected += pw->peers[i].state == CC_PEER_CONNECTED;
        dropped += pw->peers[i].dropped;
    }
    char head[256];
    snprintf(head, sizeof(head),
             "{\"inbound\":%zu,\"connected\":%zu,\"dropped\":%llu,\"http_requests\":%llu,"
             "\"refused_inbound\":%llu,\"peers\":[",
             pw->n_inbound_peers, connected, (unsigned long long)dropped,
             (unsigned long long)pw->http_requests, (unsigned long long)pw->refused_inbound);
    cc_buf_init(&b);
    cc_buf_init(&one);
    cc_put_raw(&b, head, strlen(head));
    for (size_t i = 0; i < pw->n_peers; i++) {
        cc_buf_reset(&one);
        if (b.data[b.len - 1] == '}')
            PUT_LIT(&one, ",");
        peer_json(&one, &pw->peers[i]);
        /* Room for this one and the tail `],"peers_omitted":NN}`. */
        if (!one.failed && b.len + one.len + 32 < len)
            cc_put_raw(&b, one.data, one.len);
        else
            omitted++;
    }
    char tail[64];
    if (omitted > 0)
        snprintf(tail, sizeof(tail), "],\"peers_omitted\":%zu}", omitted);
    else
        snprintf(tail, sizeof(tail), "]}");
    cc_put_raw(&b, tail, strlen(tail));
    if (!b.failed && b.len < len) {
        memcpy(buf, b.data, b.len);
        buf[b.len] = '\0';
    } else if (len > 0) {
        buf[0] = '\0';
    }
    cc_buf_free(&b);
    cc_buf_free(&one);
}

/* ---- stop ---- */

static void finish_stop(struct cc_peer_worker *pw)
{
    cc_peer_dial_close_all(pw);
    cc_worker_exit(pw->w, 0);
}

/* Waits for what consensus asked us to send to leave (an APPEND it counts
 * on), then exits: half the stop deadline at most. */
static void on_stop_check(evutil_socket_t fd, short what, void *arg)
{
    struct cc_peer_worker *pw = arg;
    if (cc_peer_dial_pending(pw) == 0 || cc_now() >= pw->stop_until) {
        finish_stop(pw);
        return;
    }
    struct timeval tv = {0, 10 * 1000};
    evtimer_add(pw->stop_check, &tv);
}

static void on_stop(struct cc_worker *w, unsigned deadline_ms)
{
    struct cc_peer_worker *pw = w->state;
    pw->stopping = true;
    free_listeners(pw);
    cc_peer_inbound_close_all(pw);
    pw->stop_until = cc_now() + deadline_ms / 2000.0;
    pw->stop_check = evtimer_new(w->base, on_stop_check, pw);
    if (pw->stop_check == NULL) {
        finish_stop(pw);
        return;
    }
    on_stop_check(-1, 0, pw);
}

static void on_exit_hook(struct cc_worker *w)
{
    struct cc_peer_worker *pw = w->state;
    pw->stopping = true;
    free_listeners(pw);
    cc_peer_inbound_close_all(pw);
    cc_peer_dial_close_all(pw);
    if (pw->relisten)
        event_free(pw->relisten);
    if (pw->stop_check)
        event_free(pw->stop_check);
    pw->relisten = pw->stop_check = NULL;
    cc_buf_free(&pw->scratch);
    cc_cluster_def_free(&pw->cluster);
}

/* ---- start ---- */

static int open_listeners(struct cc_peer_worker *pw)
{
    struct cc_worker *w = pw->w;
    pw->relisten = evtimer_new(w->base, on_relisten, pw);
    if (pw->relisten == NULL)
        return -1;
    for (size_t i = 0; i < w->n_listen; i++) {
        /* LEV_OPT_CLOSE_ON_FREE: the listener owns the descriptor from now
         * on (the master keeps its own copy open across our restarts). */
        struct evconnlistener *lis =
            evconnlistener_new(w->base, on_accept, pw,
                               LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, w->listen_fds[i]);
        if (lis == NULL) {
            cc_error("cannot serve the peer port on inherited socket %d", w->listen_fds[i]);
            return -1;
        }
        evconnlistener_set_error_cb(lis, on_accept_error);
        w->listen_fds[i] = -1;
        pw->listeners[pw->n_listeners++] = lis;
    }
    w->n_listen = 0;
    return 0;
}

int cc_peer_worker_main(struct cc_worker *w)
{
    static struct cc_peer_worker pw;
    char err[512];
    pw.w = w;
    cc_buf_init(&pw.scratch);
    w->state = &pw;
    w->on_link_msg = on_link_msg;
    w->on_stop = on_stop;
    w->on_exit = on_exit_hook;
    w->detail_json = detail_json;
    if (cc_identity_load(&w->cfg, &pw.cluster, err, sizeof(err)) != 0) {
        cc_error("%s", err);
        return 1;
    }
    for (size_t i = 0; i < pw.cluster.n; i++)
        pw.member_ids[pw.n_members++] = pw.cluster.members[i].id;
    if (open_listeners(&pw) != 0 || cc_peer_dial_init(&pw) != 0)
        return 1;
    if (cc_worker_open_links(w) != 0)
        return 1;
    cc_worker_ready(w);
    return cc_worker_loop(w);
}

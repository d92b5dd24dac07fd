#include "ipc/link.h"

#include <errno.h>
#include <event2/event.h>
#include <nanomsg/nn.h>
#include <nanomsg/pair.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "ipc/paths.h"

/* A dead peer must not make us buffer without bound: past this, the oldest
 * queued messages are dropped (the requests they carried time out above). */
#define LINK_MAX_PENDING_BYTES (64u << 20)
/* Largest message accepted from nanomsg (its default of 1 MiB would silently
 * drop big batches). */
#define LINK_MAX_MSG (64 << 20)

struct cc_link_pending {
    struct cc_link_pending *next;
    size_t len;
    uint32_t frames;
    uint8_t data[];
};

static void link_flush(struct cc_link *l);

static void drop_pending(struct cc_link *l)
{
    while (l->head) {
        struct cc_link_pending *p = l->head;
        l->head = p->next;
        l->dropped += p->frames;
        free(p);
    }
    l->tail = NULL;
    l->pending_frames = 0;
    l->pending_bytes = 0;
}

static void arm_retry(struct cc_link *l)
{
    struct timeval tv = {0, CC_LINK_RETRY_MS * 1000};
    event_add(l->retry_ev, &tv);
}

static void send_greeting(struct cc_link *l, uint16_t type)
{
    struct cc_msg m = {.type = type};
    if (type == CC_MSG_HELLO) {
        m.u.hello.kind = (uint8_t)l->self;
        m.u.hello.gen = l->self_gen;
        m.u.hello.pid = (uint32_t)getpid();
    } else {
        m.u.hello_ack.kind = (uint8_t)l->self;
        m.u.hello_ack.gen = l->self_gen;
        m.u.hello_ack.pid = (uint32_t)getpid();
    }
    cc_link_send(l, &m);
}

static void handle_greeting(struct cc_link *l, uint8_t kind, uint64_t gen, uint32_t pid,
                            bool answer)
{
    if (kind != l->peer) {
        cc_warn("link %s: greeting from a %s worker, expected %s; ignored", l->def->name,
                cc_kind_name(kind), cc_kind_name(l->peer));
        return;
    }
    bool fresh = !l->up || l->peer_gen != gen;
    l->up = true;
    l->retries = 0;
    event_del(l->retry_ev);
    l->peer_gen = gen;
    l->peer_pid = pid;
    if (answer)
        send_greeting(l, CC_MSG_HELLO_ACK);
    if (fresh) {
        cc_debug("link %s up (peer %s gen %llu pid %u)", l->def->name, cc_kind_name(l->peer),
                 (unsigned long long)gen, pid);
        if (l->on_up)
            l->on_up(l, l->arg);
    }
}

static void dispatch(struct cc_link *l, const uint8_t *buf, size_t len)
{
    size_t off = 0;
    struct cc_msg m;
    char err[128];
    int r;
    while ((r = cc_msg_next(buf, len, &off, &m, err, sizeof(err))) == 1) {
        l->received++;
        if (m.type == CC_MSG_HELLO)
            handle_greeting(l, m.u.hello.kind, m.u.hello.gen, m.u.hello.pid, true);
        else if (m.type == CC_MSG_HELLO_ACK)
            handle_greeting(l, m.u.hello_ack.kind, m.u.hello_ack.gen, m.u.hello_ack.pid, false);
        else if (l->on_msg)
            l->on_msg(l, &m, l->arg);
        if (l->sock < 0) /* the handler closed or reset the link */
            return;
    }
    if (r < 0)
        cc_warn("link %s: malformed frame dropped (%s)", l->def->name, err);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct cc_link *l = arg;
    /* NN_RCVFD is level-triggered: drain until EAGAIN or we spin. */
    while (l->sock >= 0) {
        void *buf = NULL;
        int n = nn_recv(l->sock, &buf, NN_MSG, NN_DONTWAIT);
        if (n < 0) {
            int e = nn_errno();
            if (e != EAGAIN && e != EINTR)
                cc_log_errno(CC_LOG_WARN, e, "link %s: nn_recv() failed", l->def->name);
            break;
        }
        dispatch(l, buf, (size_t)n);
        nn_freemsg(buf);
    }
}

static void on_sendable(evutil_socket_t fd, short what, void *arg)
{
    link_flush(arg);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    link_flush(arg);
}

static void queue_pending(struct cc_link *l, const uint8_t *data, size_t len, uint32_t frames)
{
    while (l->head && l->pending_bytes + len > LINK_MAX_PENDING_BYTES) {
        struct cc_link_pending *old = l->head;
        l->head = old->next;
        if (l->head == NULL)
            l->tail = NULL;
        l->pending_bytes -= old->len;
        l->pending_frames -= old->frames;
        l->dropped += old->frames;
        cc_warn("link %s: peer not reading, %u queued frames dropped", l->def->name, old->frames);
        free(old);
    }
    struct cc_link_pending *p = malloc(sizeof(*p) + len);
    if (p == NULL) {
        l->dropped += frames;
        cc_error("link %s: out of memory, %u frames dropped", l->def->name, frames);
        return;
    }
    p->next = NULL;
    p->len = len;
    p->frames = frames;
    memcpy(p->data, data, len);
    if (l->tail)
        l->tail->next = p;
    else
        l->head = p;
    l->tail = p;
    l->pending_frames += frames;
    l->pending_bytes += len;
}

/* The batch buffer keeps its memory between turns up to this size. */
#define BATCH_KEEP_BYTES (1u << 20)

/* Sends what nanomsg refused earlier, in order, then this turn's batch. What
 * still cannot go waits for NN_SNDFD. */
static void link_flush(struct cc_link *l)
{
    if (l->sock < 0)
        return;
    while (l->head) {
        struct cc_link_pending *p = l->head;
        if (nn_send(l->sock, p->data, p->len, NN_DONTWAIT) < 0)
            break;
        l->sent += p->frames;
        l->head = p->next;
        if (l->head == NULL)
            l->tail = NULL;
        l->pending_frames -= p->frames;
        l->pending_bytes -= p->len;
        free(p);
    }
    if (l->batch.len > 0) {
        if (l->head == NULL && nn_send(l->sock, l->batch.data, l->batch.len, NN_DONTWAIT) >= 0)
            l->sent += l->batch_frames;
        else
            queue_pending(l, l->batch.data, l->batch.len, l->batch_frames);
        cc_buf_reset(&l->batch);
        l->batch_frames = 0;
        if (l->batch.cap > BATCH_KEEP_BYTES) {
            /* A snapshot went through: do not keep its size resident. */
            cc_buf_free(&l->batch);
            cc_buf_init(&l->batch);
        }
    }
    if (l->head)
        event_add(l->snd_ev, NULL);
    else
        event_del(l->snd_ev);
}

static int sock_fd(int sock, int opt)
{
    int fd = -1;
    size_t sz = sizeof(fd);
    if (nn_getsockopt(sock, NN_SOL_SOCKET, opt, &fd, &sz) < 0)
        return -1;
    return fd;
}

static int link_socket_open(struct cc_link *l)
{
    int s = nn_socket(AF_SP, NN_PAIR);
    if (s < 0) {
        cc_log_errno(CC_LOG_ERROR, nn_errno(), "link %s: nn_socket() failed", l->def->name);
        return -1;
    }
    int ivl = 10, ivl_max = 100, maxsz = LINK_MAX_MSG, buf = 1 << 20;
    nn_setsockopt(s, NN_SOL_SOCKET, NN_RECONNECT_IVL, &ivl, sizeof(ivl));
    nn_setsockopt(s, NN_SOL_SOCKET, NN_RECONNECT_IVL_MAX, &ivl_max, sizeof(ivl_max));
    nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsz, sizeof(maxsz));
    nn_setsockopt(s, NN_SOL_SOCKET, NN_SNDBUF, &buf, sizeof(buf));
    nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVBUF, &buf, sizeof(buf));
    int r;
    if (l->binder) {
        /* A stale file from a killed predecessor would make bind fail. */
        unlink(l->addr + strlen("ipc://"));
        r = nn_bind(s, l->addr);
    } else {
        r = nn_connect(s, l->addr);
    }
    if (r < 0) {
        cc_log_errno(CC_LOG_ERROR, nn_errno(), "link %s: %s %s failed", l->def->name,
                     l->binder ? "nn_bind" : "nn_connect", l->addr);
        nn_close(s);
        return -1;
    }
    int rfd = sock_fd(s, NN_RCVFD), sfd = sock_fd(s, NN_SNDFD);
    if (rfd < 0 || sfd < 0) {
        cc_error("link %s: cannot get nanomsg file descriptors", l->def->name);
        nn_close(s);
        return -1;
    }
    l->sock = s;
    l->rcv_ev = event_new(l->base, rfd, EV_READ | EV_PERSIST, on_readable, l);
    /* NN_SNDFD signals "can send" as readability. */
    l->snd_ev = event_new(l->base, sfd, EV_READ | EV_PERSIST, on_sendable, l);
    event_add(l->rcv_ev, NULL);
    return 0;
}

static void link_socket_close(struct cc_link *l)
{
    if (l->rcv_ev) {
        event_free(l->rcv_ev);
        l->rcv_ev = NULL;
    }
    if (l->snd_ev) {
        event_free(l->snd_ev);
        l->snd_ev = NULL;
    }
    if (l->sock >= 0) {
        nn_close(l->sock);
        l->sock = -1;
    }
}

/* Still no answer to our greeting: greet again, over a fresh socket. What waited in the queue was
 * meant for a peer that never answered; the layers above resync once the link is up. */
static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    struct cc_link *l = arg;
    if (l->up)
        return;
    drop_pending(l);
    cc_buf_reset(&l->batch);
    l->batch_frames = 0;
    /* The binding side reopens too, less often: a nanomsg PAIR that still
     * holds a dead peer's pipe never takes the new peer's connection. */
    l->retries++;
    if (!l->binder || l->sock < 0 || l->retries % 3 == 0) {
        link_socket_close(l);
        if (link_socket_open(l) != 0) {
            arm_retry(l);
            return;
        }
    }
    send_greeting(l, CC_MSG_HELLO);
    arm_retry(l);
}

int cc_link_open(struct cc_link *l, struct event_base *base, const struct cc_link_def *def,
                 enum cc_kind self, uint64_t self_gen, const char *run_dir, cc_link_msg_fn on_msg,
                 cc_link_up_fn on_up, void *arg)
{
    memset(l, 0, sizeof(*l));
    l->sock = -1;
    l->def = def;
    l->self = self;
    l->binder = def->binder == self;
    l->peer = l->binder ? def->connector : def->binder;
    l->self_gen = self_gen;
    l->base = base;
    l->on_msg = on_msg;
    l->on_up = on_up;
    l->arg = arg;
    cc_buf_init(&l->batch);
    if (cc_ipc_address(run_dir, def->name, l->addr, sizeof(l->addr)) != 0) {
        cc_error("link %s: ipc path under %s is too long", def->name, run_dir);
        return -1;
    }
    l->flush_ev = event_new(base, -1, 0, on_flush, l);
    l->retry_ev = evtimer_new(base, on_retry, l);
    if (link_socket_open(l) != 0)
        return -1;
    send_greeting(l, CC_MSG_HELLO);
    arm_retry(l);
    return 0;
}

void cc_link_close(struct cc_link *l)
{
    link_socket_close(l);
    if (l->flush_ev) {
        event_free(l->flush_ev);
        l->flush_ev = NULL;
    }
    if (l->retry_ev) {
        event_free(l->retry_ev);
        l->retry_ev = NULL;
    }
    drop_pending(l);
    cc_buf_free(&l->batch);
    l->up = false;
}

int cc_link_reset(struct cc_link *l, uint64_t gen)
{
    if (l->up && l->peer_gen == gen)
        return 0;
    l->up = false;
    drop_pending(l);
    cc_buf_reset(&l->batch);
    l->batch_frames = 0;
    arm_retry(l);
    if (!l->binder) {
        link_socket_close(l);
        if (link_socket_open(l) != 0)
            return -1;
    }
    send_greeting(l, CC_MSG_HELLO);
    return 0;
}

int cc_link_send(struct cc_link *l, const struct cc_msg *m)
{
    if (l->sock < 0)
        return -1;
    if (cc_msg_encode(&l->batch, m) != 0) {
        cc_error("link %s: cannot encode %s", l->def->name, cc_msg_name(m->type));
        return -1;
    }
    if (l->batch_frames++ == 0)
        event_active(l->flush_ev, EV_WRITE, 0);
    return 0;
}

int cc_link_send_raw(struct cc_link *l, const uint8_t *frames, size_t len, uint32_t n_frames)
{
    if (l->sock < 0 || n_frames == 0)
        return l->sock < 0 ? -1 : 0;
    cc_put_raw(&l->batch, frames, len);
    if (l->batch.failed) {
        cc_error("link %s: out of memory queueing %u frames", l->def->name, n_frames);
        return -1;
    }
    if (l->batch_frames == 0)
        event_active(l->flush_ev, EV_WRITE, 0);
    l->batch_frames += n_frames;
    return 0;
}

void cc_link_flush_now(struct cc_link *l)
{
    link_flush(l);
}

uint32_t cc_link_queue_depth(const struct cc_link *l)
{
    return l->batch_frames + l->pending_frames;
}

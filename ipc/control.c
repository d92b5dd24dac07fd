#include "ipc/control.h"

#include <errno.h>
#include <event2/event.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "proto/wire.h"

/* A STATUS with every link and its detail JSON fits easily. */
#define CONTROL_MAX_DATAGRAM (256 * 1024)

int cc_control_pair(int fds[2])
{
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct cc_control *c = arg;
    static uint8_t buf[CONTROL_MAX_DATAGRAM];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            if (n < 0)
                cc_log_errno(CC_LOG_WARN, errno, "control channel to %s failed", c->peer_name);
            if (c->on_eof)
                c->on_eof(c, c->arg);
            return;
        }
        size_t off = 0;
        struct cc_msg m;
        char err[128];
        int r;
        while ((r = cc_msg_next(buf, (size_t)n, &off, &m, err, sizeof(err))) == 1) {
            c->on_msg(c, &m, c->arg);
            if (c->fd < 0)
                return;
        }
        if (r < 0)
            cc_warn("control channel from %s: malformed frame dropped (%s)", c->peer_name, err);
    }
}

int cc_control_start(struct cc_control *c, struct event_base *base, int fd, const char *peer_name,
                     cc_control_msg_fn on_msg, cc_control_eof_fn on_eof, void *arg)
{
    c->fd = fd;
    c->on_msg = on_msg;
    c->on_eof = on_eof;
    c->arg = arg;
    c->peer_name = peer_name;
    c->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, c);
    if (c->ev == NULL || event_add(c->ev, NULL) != 0)
        return -1;
    return 0;
}

void cc_control_stop(struct cc_control *c)
{
    if (c->ev) {
        event_free(c->ev);
        c->ev = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}

int cc_control_send(struct cc_control *c, const struct cc_msg *m)
{
    if (c->fd < 0)
        return -1;
    struct cc_buf b;
    cc_buf_init(&b);
    int rc = -1;
    if (cc_msg_encode(&b, m) == 0) {
        ssize_t n;
        do
            n = send(c->fd, b.data, b.len, MSG_DONTWAIT | MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        rc = n == (ssize_t)b.len ? 0 : -1;
    }
    cc_buf_free(&b);
    return rc;
}

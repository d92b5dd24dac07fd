/* scripts/bench: the trivial HTTP server without evhttp, for the machine's
 * HTTP ceiling as Concord's client port meets it (core/http/hserver.c does
 * its own socket reads and writes on a libevent loop). One thread; every
 * request head (up to the empty line; GETs carry no body) is answered 200
 * {"ok":true}, keep-alive, all answers to one read in one write.
 * Built at run time: cc -O2 -o raw_ok raw_ok.c -levent
 * Usage: raw_ok IP PORT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe_args.h"

static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             "Content-Length: 11\r\n\r\n{\"ok\":true}";

struct conn {
    int fd;
    struct event *ev;
    size_t len;
    char in[16384];
    char out[65536];
};

static void drop(struct conn *c)
{
    event_free(c->ev);
    close(c->fd);
    free(c);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct conn *c = arg;
    ssize_t n = read(fd, c->in + c->len, sizeof(c->in) - c->len);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        drop(c);
        return;
    }
    if (n < 0)
        return;
    c->len += (size_t)n;
    size_t used = 0, out = 0;
    for (;;) {
        char *end = memmem(c->in + used, c->len - used, "\r\n\r\n", 4);
        if (end == NULL || out + sizeof(answer) > sizeof(c->out))
            break;
        used = (size_t)(end + 4 - c->in);
        memcpy(c->out + out, answer, sizeof(answer) - 1);
        out += sizeof(answer) - 1;
    }
    memmove(c->in, c->in + used, c->len - used);
    c->len -= used;
    if (c->len == sizeof(c->in)) {
        drop(c); /* a head this server will never see the end of */
        return;
    }
    if (out > 0 && send(fd, c->out, out, MSG_NOSIGNAL) != (ssize_t)out)
        drop(c); /* a client this simple server does not wait for */
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    (void)what;
    struct event_base *base = arg;
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct conn *c = calloc(1, sizeof(*c));
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_read, c);
        if (c->ev == NULL || event_add(c->ev, NULL) != 0) {
            close(fd);
            free(c);
        }
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_in sin;
    int bad = probe_args(argc, argv, &sin);
    if (bad)
        return bad;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(lfd, 1024) != 0) {
        perror("bind");
        return 1;
    }
    struct event_base *base = event_base_new();
    struct event *a = base ? event_new(base, lfd, EV_READ | EV_PERSIST, on_accept, base) : NULL;
    if (a == NULL || event_add(a, NULL) != 0)
        return 1;
    event_base_dispatch(base);
    return 0;
}

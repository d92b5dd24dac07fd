#include "core/listen.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Like Go's net.Listen for a host name: the first IPv4 address if there is
 * one (etcd on "localhost" listens on 127.0.0.1), else the first address. */
static struct addrinfo *pick_address(struct addrinfo *list)
{
    for (struct addrinfo *a = list; a; a = a->ai_next)
        if (a->ai_family == AF_INET)
            return a;
    return list;
}

static int listen_one(const struct cc_url *u, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char port[8];
    snprintf(port, sizeof(port), "%u", u->port);
    int gr = getaddrinfo(u->host[0] ? u->host : NULL, port, &hints, &res);
    if (gr != 0) {
        snprintf(err, errlen, "listen tcp %s:%s: lookup %s: %s", u->host, port, u->host,
                 gai_strerror(gr));
        return -1;
    }
    struct addrinfo *a = pick_address(res);
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "listen tcp %s:%s: socket: %s", u->host, port, strerror(errno));
        freeaddrinfo(res);
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (a->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, CC_LISTEN_BACKLOG) != 0) {
        snprintf(err, errlen, "listen tcp %s:%s: bind: %s", u->host, port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

int cc_listen_urls(const struct cc_url_list *urls, int *fds, size_t max, size_t *n, char *err,
                   size_t errlen)
{
    *n = 0;
    for (size_t i = 0; i < urls->n; i++) {
        if (*n == max) {
            snprintf(err, errlen, "too many listen URLs (at most %zu)", max);
            cc_listen_close(fds, *n);
            return -1;
        }
        int fd = listen_one(&urls->v[i], err, errlen);
        if (fd < 0) {
            cc_listen_close(fds, *n);
            *n = 0;
            return -1;
        }
        fds[(*n)++] = fd;
    }
    return 0;
}

void cc_listen_close(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
}
